// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reserved regions of an IOMMU group.
 *
 * The regions of every member device are gathered into a snapshot, one entry
 * per region per member with its owner; the views of a group are computed
 * from a snapshot by sorting, in O(n log n) for n regions.
 *
 * Merged view (the "reserved_regions" file, iommu_get_group_resv_regions()):
 *  - regions of the same type that overlap or are adjacent are coalesced into
 *    one, whatever devices reported them and whoever owns them;
 *  - regions of different types are never coalesced, even when they overlap,
 *    so a range may be listed once per type; IOMMU_RESV_MSI and
 *    IOMMU_RESV_SW_MSI are different types;
 *  - the result is ordered by start address, then type.
 * This is the list the insertion sort used since v4.11 produced, so the file
 * reads the same as before for the same regions.
 */
#include <linux/device.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <kunit/static_stub.h>
#include <kunit/visibility.h>

#include "iommu-resv.h"

/**
 * iommu_resv_snapshot_init - start an empty snapshot
 * @snap: the snapshot
 */
void iommu_resv_snapshot_init(struct iommu_resv_snapshot *snap)
{
	snap->entries = NULL;
	snap->nr = 0;
	snap->size = 0;
}
EXPORT_SYMBOL_IF_KUNIT(iommu_resv_snapshot_init);

/**
 * iommu_resv_snapshot_free - free a snapshot and every region in it
 * @snap: the snapshot; it is left empty
 */
void iommu_resv_snapshot_free(struct iommu_resv_snapshot *snap)
{
	unsigned int i;

	for (i = 0; i < snap->nr; i++)
		iommu_resv_region_free(snap->entries[i].dev, snap->entries[i].region);
	/* Only now: the regions' free callbacks are given their devices. */
	for (i = 0; i < snap->nr; i++) {
		if (!snap->entries[i].holds_member)
			continue;
		kfree_const(snap->entries[i].dev_name);
		put_device(snap->entries[i].dev);
	}
	kvfree(snap->entries);
	iommu_resv_snapshot_init(snap);
}
EXPORT_SYMBOL_IF_KUNIT(iommu_resv_snapshot_free);

/*
 * The core's own allocations go through these two, so that a test can fail
 * each of them in turn.
 */
VISIBLE_IF_KUNIT void *iommu_resv_alloc_array(void *old, size_t n, size_t size)
{
	KUNIT_STATIC_STUB_REDIRECT(iommu_resv_alloc_array, old, n, size);
	return kvrealloc(old, array_size(n, size), GFP_KERNEL);
}
EXPORT_SYMBOL_IF_KUNIT(iommu_resv_alloc_array);

VISIBLE_IF_KUNIT struct iommu_resv_region *
iommu_resv_alloc_span(const struct iommu_resv_region *region)
{
	KUNIT_STATIC_STUB_REDIRECT(iommu_resv_alloc_span, region);
	return iommu_alloc_resv_region(region->start, region->length,
				       region->prot, region->type, GFP_KERNEL);
}
EXPORT_SYMBOL_IF_KUNIT(iommu_resv_alloc_span);

/**
 * iommu_resv_snapshot_add - add the regions reported for one member device
 * @snap: the snapshot
 * @dev: the member device
 * @dev_name: its name in the group's "devices" directory
 * @regions: its regions, from iommu_get_resv_regions()
 *
 * The regions move into the snapshot; on failure they are freed. Either way
 * @regions is empty on return. The snapshot takes a reference on @dev and a
 * copy of @dev_name, so it may outlive the device's membership (a reader may
 * hold it while the device is hot-removed).
 *
 * Return: 0, or -ENOMEM.
 */
int iommu_resv_snapshot_add(struct iommu_resv_snapshot *snap,
			    struct device *dev, const char *dev_name,
			    struct list_head *regions)
{
	struct iommu_resv_region *region, *next;
	unsigned int n = list_count_nodes(regions), first = snap->nr;
	const char *name;

	if (!n)
		return 0;

	if (snap->nr + n > snap->size) {
		unsigned int size = max(snap->nr + n, 2 * snap->size);
		struct iommu_resv_entry *entries;

		entries = iommu_resv_alloc_array(snap->entries, size, sizeof(*entries));
		if (!entries) {
			iommu_put_resv_regions(dev, regions);
			return -ENOMEM;
		}
		snap->entries = entries;
		snap->size = size;
	}
	name = kstrdup_const(dev_name, GFP_KERNEL);
	if (!name) {
		iommu_put_resv_regions(dev, regions);
		return -ENOMEM;
	}
	list_for_each_entry_safe(region, next, regions, list) {
		list_del_init(&region->list);
		snap->entries[snap->nr++] = (struct iommu_resv_entry) {
			.region = region,
			.dev = dev,
			.dev_name = name,
		};
	}
	snap->entries[first].holds_member = true;
	get_device(dev);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(iommu_resv_snapshot_add);

static int cmp_start_type(const void *a, const void *b)
{
	const struct iommu_resv_region *ra = ((const struct iommu_resv_entry *)a)->region;
	const struct iommu_resv_region *rb = ((const struct iommu_resv_entry *)b)->region;

	if (ra->start != rb->start)
		return ra->start < rb->start ? -1 : 1;
	return (int)ra->type - (int)rb->type;
}

/* Does @region overlap @span or start right after it? */
static bool iommu_resv_joins(const struct iommu_resv_region *span,
			     const struct iommu_resv_region *region)
{
	phys_addr_t end = iommu_resv_end(span);

	return region->start <= end || region->start - 1 == end;
}

/**
 * iommu_resv_snapshot_merge - the merged, ordered list of a snapshot
 * @snap: the snapshot; its entries are reordered
 * @head: list to append the merged regions to, allocated anew (without
 *	  owners); free them with iommu_put_resv_regions()
 *
 * Applies the merge rules described at the top of this file.
 *
 * Return: 0, or -ENOMEM with @head as it was.
 */
int iommu_resv_snapshot_merge(struct iommu_resv_snapshot *snap,
			      struct list_head *head)
{
	struct iommu_resv_region *open[IOMMU_RESV_NR_TYPES] = {};
	struct iommu_resv_region **out;
	unsigned int i, nr_out = 0;
	LIST_HEAD(merged);

	if (!snap->nr)
		return 0;
	out = iommu_resv_alloc_array(NULL, snap->nr, sizeof(*out));
	if (!out)
		return -ENOMEM;

	sort(snap->entries, snap->nr, sizeof(*snap->entries), cmp_start_type, NULL);

	/*
	 * One sweep in (start, type) order. A span of a type stays open while
	 * the next region of that type joins it. Spans are created in the
	 * order of their first region, which is already the output order.
	 */
	for (i = 0; i < snap->nr; i++) {
		struct iommu_resv_region *region = snap->entries[i].region;
		struct iommu_resv_region *span = open[region->type];

		if (span && iommu_resv_joins(span, region)) {
			phys_addr_t end = max(iommu_resv_end(span), iommu_resv_end(region));

			span->length = end - span->start + 1;
			continue;
		}
		span = iommu_resv_alloc_span(region);
		if (!span)
			goto err;
		open[region->type] = span;
		out[nr_out++] = span;
	}

	for (i = 0; i < nr_out; i++)
		list_add_tail(&out[i]->list, &merged);
	kvfree(out);
	list_splice_tail(&merged, head);
	return 0;

err:
	while (nr_out)
		kfree(out[--nr_out]);
	kvfree(out);
	return -ENOMEM;
}
EXPORT_SYMBOL_IF_KUNIT(iommu_resv_snapshot_merge);
