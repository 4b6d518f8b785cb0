// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reserved regions one by one, as a query from userspace reports them
 * (iommufd's IOMMU_GET_RESV_REGIONS): those of one device, before it is
 * attached to anything, and those an index enforces.
 *
 * Each region is a line of the group's reserved_regions_detail file, from
 * the same gathering that file prints and the index was built from: a query
 * answers what sysfs lists and what is enforced, not a list of its own.
 */
#include <linux/iommu.h>
#include <linux/err.h>

#include "iommu-resv.h"

/* Whether an index made with @flags keeps userspace's mappings out of @r */
static bool iommu_resv_enforced(unsigned int flags, const struct iommu_resv_region *r)
{
	if (r->type == IOMMU_RESV_DIRECT_RELAXABLE)
		return false;
	return !(flags & IOMMU_RESV_INDEX_NO_PCI_WINDOWS) ||
	       !iommu_resv_kind_is_pci(r->kind);
}

static int iommu_resv_visit_line(const struct iommu_resv_line *line, unsigned int flags,
				 int (*fn)(void *arg, const struct iommu_resv_desc *desc),
				 void *arg)
{
	const struct iommu_resv_region *r = line->entry->region;
	const struct iommu_resv_desc desc = {
		.start = line->start,
		.last = line->end,
		.type = r->type,
		.kind = r->kind,
		.owner_type = r->owner_type,
		.owner = r->owner,
		.dev = line->entry->dev,
		.enforced = iommu_resv_enforced(flags, r),
	};

	return fn(arg, &desc);
}

/**
 * iommu_resv_device_for_each - visit each reserved region of a device
 * @dev: the device
 * @flags: the IOMMU_RESV_INDEX_* flags of the index the caller would enforce
 *	   the regions in, for &iommu_resv_desc.enforced
 * @fn: called for each region, in the order of reserved_regions_detail;
 *	a non-zero return stops the walk and is returned
 * @arg: passed to @fn
 *
 * The regions are @dev's lines of its group's reserved_regions_detail, from
 * the group's current gathering (gathered again if the group's generation
 * has moved), whether or not @dev is attached to anything.
 *
 * Context: Process context; takes the group's resv_lock and mutex as
 * iommu_group_resv_snapshot_get() does, and the gathering's views_lock, none
 * of them while @fn runs.
 * Return: 0, what @fn returned, or a negative errno: -ENODEV if @dev is not
 * a member of a group with an IOMMU, a provider's failure, -ENOMEM, -EINTR.
 */
int iommu_resv_device_for_each(struct device *dev, unsigned int flags,
			       int (*fn)(void *arg, const struct iommu_resv_desc *desc),
			       void *arg)
{
	struct iommu_resv_snapshot *snap = iommu_device_resv_snapshot_get(dev);
	const struct iommu_resv_line *lines;
	unsigned int i, nr;
	int ret = 0;

	if (IS_ERR(snap))
		return PTR_ERR(snap);
	lines = iommu_resv_snapshot_lines(snap, &nr);
	if (IS_ERR(lines)) {
		ret = PTR_ERR(lines);
		goto out_put;
	}
	for (i = 0; i < nr && !ret; i++)
		if (lines[i].entry->dev == dev)
			ret = iommu_resv_visit_line(&lines[i], flags, fn, arg);
out_put:
	iommu_resv_snapshot_put(snap);
	return ret;
}
EXPORT_SYMBOL_GPL(iommu_resv_device_for_each);

/* The first of @nr lines (sorted by start) that starts at or after @start */
static unsigned int iommu_resv_first_line(const struct iommu_resv_line *lines,
					  unsigned int nr, u64 start)
{
	unsigned int lo = 0, hi = nr;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (lines[mid].start < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/**
 * iommu_resv_index_for_each - visit each reserved region an index enforces
 * @idx: the index
 * @fn: called for each region, by indexed range, then as
 *	reserved_regions_detail orders them (so not in order of start overall);
 *	a non-zero return stops the walk and is returned
 * @arg: passed to @fn
 *
 * The regions merged into the indexed ranges: the lines of the gatherings
 * the ranges were made from, of the ranges' member devices (every member
 * for a range added with iommu_resv_index_add_group()), less those the index
 * leaves out. Each such line is merged into exactly one range (its device's
 * or group's range of its type that contains it), so each is visited once,
 * with &iommu_resv_desc.enforced set, as long as each device's regions are in
 * @idx once (added by device or by group, under one tag), as VFIO and iommufd
 * add them. The caller keeps @idx from changing.
 *
 * Context: Process context; may sleep (a gathering's lines are computed at
 * their first use).
 * Return: 0, what @fn returned, or -ENOMEM.
 */
int iommu_resv_index_for_each(const struct iommu_resv_index *idx,
			      int (*fn)(void *arg, const struct iommu_resv_desc *desc),
			      void *arg)
{
	const struct iommu_resv_index_node *n;
	int ret = 0;

	for (n = iommu_resv_index_find(idx, 0, U64_MAX); n && !ret;
	     n = iommu_resv_index_next(n, 0, U64_MAX)) {
		const struct iommu_resv_line *lines;
		unsigned int i, nr;

		lines = iommu_resv_snapshot_lines(n->snap, &nr);
		if (IS_ERR(lines))
			return PTR_ERR(lines);
		for (i = iommu_resv_first_line(lines, nr, n->start);
		     i < nr && lines[i].start <= n->last && !ret; i++) {
			const struct iommu_resv_entry *e = lines[i].entry;

			if (e->region->type != n->type || (n->dev && e->dev != n->dev) ||
			    !iommu_resv_enforced(n->flags, e->region))
				continue;
			ret = iommu_resv_visit_line(&lines[i], n->flags, fn, arg);
		}
	}
	return ret;
}
EXPORT_SYMBOL_GPL(iommu_resv_index_for_each);
