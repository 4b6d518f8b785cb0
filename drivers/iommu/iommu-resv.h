/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reserved regions of an IOMMU group: internal interface of the IOMMU core.
 */
#ifndef __LINUX_IOMMU_RESV_H
#define __LINUX_IOMMU_RESV_H

#include <linux/iommu.h>

struct iommu_group;
struct seq_file;

#define IOMMU_RESV_NR_TYPES	(IOMMU_RESV_SW_MSI + 1)

/**
 * struct iommu_resv_entry - one reserved region of one group member
 * @region: the region as its provider reported it, owner included
 * @dev: the member device it was reported for
 * @dev_name: the member's name in the group's "devices" directory
 * @holds_member: this entry holds the snapshot's reference on @dev and its
 *		  copy of @dev_name (one entry per member does), so that both
 *		  stay valid while the snapshot lives, whatever leaves the group
 */
struct iommu_resv_entry {
	struct iommu_resv_region *region;
	struct device *dev;
	const char *dev_name;
	bool holds_member;
};

/**
 * struct iommu_resv_snapshot - every reserved region of a group, per member
 * @entries: one entry per region per member device
 * @nr: number of entries in use
 * @size: allocated number of entries
 *
 * Gathered in one pass with the group's member list stable; the merged and
 * the detailed views are both computed from it, so they always agree.
 */
struct iommu_resv_snapshot {
	struct iommu_resv_entry *entries;
	unsigned int nr;
	unsigned int size;
};

static inline phys_addr_t iommu_resv_end(const struct iommu_resv_region *region)
{
	return region->start + region->length - 1;
}

/**
 * struct iommu_resv_line - a line of the reserved_regions_detail file
 * @start: first address
 * @end: last address
 * @entry: the first entry the line covers: entries merged into one line share
 *	   member device, type and owner, and differ only in range
 */
struct iommu_resv_line {
	phys_addr_t start;
	phys_addr_t end;
	const struct iommu_resv_entry *entry;
};

void iommu_resv_snapshot_init(struct iommu_resv_snapshot *snap);
void iommu_resv_snapshot_free(struct iommu_resv_snapshot *snap);
int iommu_resv_snapshot_add(struct iommu_resv_snapshot *snap,
			    struct device *dev, const char *dev_name,
			    struct list_head *regions);
int iommu_resv_snapshot_merge(struct iommu_resv_snapshot *snap,
			      struct list_head *head);

#if IS_ENABLED(CONFIG_KUNIT)
struct iommu_resv_line *iommu_resv_detail_lines(struct iommu_resv_snapshot *snap,
						unsigned int *nr_lines);
void *iommu_resv_alloc_array(void *old, size_t n, size_t size);
struct iommu_resv_region *iommu_resv_alloc_span(const struct iommu_resv_region *region);
#endif
int iommu_group_resv_sysfs_add(struct iommu_group *group, struct kobject *kobj);
const char *iommu_resv_type_name(const struct iommu_resv_region *region);

/* In iommu.c, which owns struct iommu_group. */
struct iommu_group *iommu_group_from_kobj(struct kobject *kobj);
int iommu_group_resv_snapshot(struct iommu_group *group,
			      struct iommu_resv_snapshot *snap);
int iommu_device_resv_snapshot(struct device *dev, struct iommu_resv_snapshot *snap);

#endif /* __LINUX_IOMMU_RESV_H */
