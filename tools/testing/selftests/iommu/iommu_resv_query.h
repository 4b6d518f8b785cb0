/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * IOMMU_GET_RESV_REGIONS for the reserved-region selftests: the query as a
 * VMM makes it (sizes first, then the answer), checked as it is read, and
 * the same device's lines of reserved_regions_detail to compare it with.
 */
#ifndef __SELFTESTS_IOMMU_RESV_QUERY_H
#define __SELFTESTS_IOMMU_RESV_QUERY_H

#include "iommu_resv_utils.h"

/* A region as the query returns it, with its owner's name */
struct resv_query_region {
	struct iommu_resv_region_info info;
	char owner[256];
};

/* enum iommu_resv_region_type as reserved_regions_detail names the types */
static const char * const resv_query_types[] = {
	[IOMMU_RESV_REGION_TYPE_DIRECT] = "direct",
	[IOMMU_RESV_REGION_TYPE_DIRECT_RELAXABLE] = "direct-relaxable",
	[IOMMU_RESV_REGION_TYPE_RESERVED] = "reserved",
	[IOMMU_RESV_REGION_TYPE_MSI] = "msi",
	[IOMMU_RESV_REGION_TYPE_SW_MSI] = "sw-msi",
	[IOMMU_RESV_REGION_TYPE_BRIDGE_WINDOW] = "bridge-window",
	[IOMMU_RESV_REGION_TYPE_PEER_BAR] = "peer-bar",
	[IOMMU_RESV_REGION_TYPE_HOST_WINDOW] = "host-window",
	[IOMMU_RESV_REGION_TYPE_DMA_RANGE_GAP] = "dma-range-gap",
};

/* enum iommu_resv_owner_kind as reserved_regions_detail names the kinds */
static const char * const resv_query_owner_kinds[] = {
	[IOMMU_RESV_OWNER_KIND_UNKNOWN] = "unknown",
	[IOMMU_RESV_OWNER_KIND_DEVICE] = "device",
	[IOMMU_RESV_OWNER_KIND_IOMMU] = "iommu",
	[IOMMU_RESV_OWNER_KIND_FIRMWARE] = "firmware",
};

static inline const char *resv_query_type(const struct iommu_resv_region_info *info)
{
	return info->type < ARRAY_SIZE(resv_query_types) ? resv_query_types[info->type] : "?";
}

static inline const char *resv_query_owner_kind(const struct iommu_resv_region_info *info)
{
	return info->owner_kind < ARRAY_SIZE(resv_query_owner_kinds) ?
	       resv_query_owner_kinds[info->owner_kind] : "?";
}

/* One IOMMU_GET_RESV_REGIONS call; 0 or -errno, @q updated either way */
static inline int resv_query_call(int iommufd, struct iommu_resv_regions *q)
{
	return ioctl(iommufd, IOMMU_GET_RESV_REGIONS, q) ? -errno : 0;
}

/*
 * The reserved regions of object @id (a bound device or an IOAS) in
 * @iommufd, at most @max into @out: their number, -errno, -E2BIG if there
 * are more than @max, or -EBADMSG if the sizing call's errno does not match
 * the count, or an owner's name is not a string written inside the names
 * returned.
 */
static inline int resv_query(int iommufd, uint32_t id, struct resv_query_region *out, int max)
{
	struct iommu_resv_regions q = { .size = sizeof(q), .object_id = id };
	struct iommu_resv_region_info *info;
	char *names;
	int i, ret;

	/* The sizes to allocate: -EMSGSIZE exactly when there are regions */
	ret = resv_query_call(iommufd, &q);
	if (ret && ret != -EMSGSIZE)
		return ret;
	if ((ret == -EMSGSIZE) != !!q.num_regions)
		return -EBADMSG;
	if (q.num_regions > (unsigned int)max)
		return -E2BIG;
	info = calloc(q.num_regions + 1, sizeof(*info));
	names = malloc(q.names_len + 1);
	if (!info || !names) {
		ret = -ENOMEM;
		goto out;
	}
	/* A name the kernel did not write is then not a string */
	memset(names, 0xa5, q.names_len + 1);
	q.region_size = sizeof(*info);
	q.regions_uptr = (uintptr_t)info;
	q.names_uptr = (uintptr_t)names;
	ret = resv_query_call(iommufd, &q);
	if (ret)
		goto out;
	for (i = 0; i < (int)q.num_regions; i++) {
		uint32_t off = info[i].owner_offset;

		if (off >= q.names_len || !memchr(names + off, '\0', q.names_len - off) ||
		    strlen(names + off) >= sizeof(out[i].owner)) {
			ret = -EBADMSG;
			goto out;
		}
		out[i].info = info[i];
		snprintf(out[i].owner, sizeof(out[i].owner), "%s", names + off);
	}
	ret = q.num_regions;
out:
	free(info);
	free(names);
	return ret;
}

/*
 * Does @r say what the detail line @d says: range, type, owner kind and
 * owner ("-" in the file for a region with no owner's name)?
 */
static inline bool resv_query_is_line(const struct resv_query_region *r,
				      const struct resv_detail *d)
{
	return r->info.start == d->start && r->info.last == d->end &&
	       !strcmp(resv_query_type(&r->info), d->type) &&
	       !strcmp(resv_query_owner_kind(&r->info), d->owner_type) &&
	       !strcmp(r->owner[0] ? r->owner : "-", d->owner);
}

#endif /* __SELFTESTS_IOMMU_RESV_QUERY_H */
