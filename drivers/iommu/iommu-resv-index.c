// SPDX-License-Identifier: GPL-2.0-only
/*
 * An interval index of the reserved regions that userspace DMA mappings must
 * avoid, for VFIO and iommufd.
 *
 * It is built from the same snapshot of a group as the group's sysfs files,
 * so what a VMM reads there is exactly what is enforced. It indexes merged
 * ranges, not regions: the lines of the group's reserved_regions file for a
 * user that enforces a group's list (VFIO type1), a device's own regions
 * merged the same way for one that enforces per device (iommufd). A group of
 * 64 functions behind one bridge reports 752 regions and has 3 lines. Each
 * node keeps a reference to its snapshot, where a refusal looks up the
 * region, device and owner to name, so names are neither copied nor
 * formatted unless a refusal is reported. Lookups take O(log n) and allocate
 * nothing, so they fit in a MAP_DMA fast path.
 *
 * IOMMU_RESV_DIRECT_RELAXABLE regions are not indexed: VFIO and iommufd let
 * userspace map over them (the device's RMRR-like use is abandoned when it is
 * assigned). Neither are the PCI kinds in an index made with
 * IOMMU_RESV_INDEX_NO_PCI_WINDOWS, for a user whose administrator turned
 * their enforcement off (the sysfs files still list them).
 */
#define pr_fmt(fmt)	"iommu: " fmt

#include <linux/interval_tree_generic.h>
#include <linux/iommu.h>
#include <linux/kref.h>
#include <linux/printk.h>
#include <linux/ratelimit.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <kunit/visibility.h>

#include <trace/events/iommu.h>

#include "iommu-resv.h"

/**
 * iommu_resv_index_init - start an empty index
 * @idx: the index
 * @flags: IOMMU_RESV_INDEX_* flags: what the index leaves out, for every
 *	   region added to it (indexes moved into one another share them)
 */
void iommu_resv_index_init(struct iommu_resv_index *idx, unsigned int flags)
{
	idx->tree = RB_ROOT_CACHED;
	idx->flags = flags;
}
EXPORT_SYMBOL_GPL(iommu_resv_index_init);

/*
 * u64 bounds, not the unsigned long of lib/interval_tree.c: a region above
 * 4 GiB must be found on a 32-bit kernel with 64-bit DMA addresses too.
 */
#define RESV_START(n)	((n)->start)
#define RESV_LAST(n)	((n)->last)
INTERVAL_TREE_DEFINE(struct iommu_resv_index_node, rb, u64, __subtree_last,
		     RESV_START, RESV_LAST, static, resv_itree)

/* Remove the nodes added with @tag, or all of them for a NULL @tag. */
static void remove_nodes(struct iommu_resv_index *idx, const void *tag)
{
	struct iommu_resv_index_node *n, *next;

	for (n = resv_itree_iter_first(&idx->tree, 0, U64_MAX); n; n = next) {
		next = resv_itree_iter_next(n, 0, U64_MAX);
		if (tag && n->tag != tag)
			continue;
		resv_itree_remove(n, &idx->tree);
		iommu_resv_snapshot_put(n->snap);
		kfree(n);
	}
}

static bool is_pci_window(const struct iommu_resv_region *region)
{
	return iommu_resv_kind_is_pci(region->kind);
}

/*
 * Index the spans of a snapshot (of every member, or @dev's only) under @tag,
 * and list them merged if @merged. A node names no region: it references
 * the snapshot, where a refusal looks its regions up.
 */
static int add_snapshot(struct iommu_resv_index *idx, struct iommu_resv_snapshot *snap,
			const struct device *dev, int group_id, const void *tag,
			struct list_head *merged)
{
	bool (*skip)(const struct iommu_resv_region *region) =
		idx->flags & IOMMU_RESV_INDEX_NO_PCI_WINDOWS ? is_pci_window : NULL;
	const struct iommu_resv_span *spans = snap->spans;
	unsigned int i, nr_spans = snap->nr_spans;
	struct iommu_resv_span *own = NULL;
	int ret = 0;

	/* The group's file lines are the spans of every member's regions */
	if (dev || skip) {
		ret = iommu_resv_snapshot_spans(snap, dev, skip, &own, &nr_spans);
		if (ret)
			return ret;
		spans = own;
	}
	for (i = 0; i < nr_spans; i++) {
		struct iommu_resv_index_node *n;

		if (spans[i].type == IOMMU_RESV_DIRECT_RELAXABLE)
			continue;
		/* Charged to the user it enforces for */
		n = kmalloc(sizeof(*n), GFP_KERNEL_ACCOUNT);
		if (!n) {
			ret = -ENOMEM;
			break;
		}
		kref_get(&snap->ref);
		*n = (struct iommu_resv_index_node) {
			.start = spans[i].start,
			.last = spans[i].end,
			.tag = tag,
			.type = spans[i].type,
			.flags = idx->flags,
			.dev = dev,
			.group_id = group_id,
			.snap = snap,
		};
		resv_itree_insert(n, &idx->tree);
	}
	if (!ret && merged)
		ret = iommu_resv_spans_list(spans, nr_spans, merged);
	if (ret)
		remove_nodes(idx, tag);
	kvfree(own);
	return ret;
}

static int add_group(struct iommu_resv_index *idx, struct iommu_group *group,
		     const void *tag, struct list_head *merged)
{
	struct iommu_resv_snapshot *snap = iommu_group_resv_snapshot_get(group);
	int ret;

	if (IS_ERR(snap))
		return PTR_ERR(snap);
	ret = add_snapshot(idx, snap, NULL, iommu_group_id(group), tag, merged);
	iommu_resv_snapshot_put(snap);
	return ret;
}

/**
 * iommu_resv_index_add_group - index the reserved regions of a group
 * @idx: the index
 * @group: the group; its regions are gathered as its sysfs files gather them
 * @tag: what the caller adds them for (the group, a device...), not NULL;
 *	 iommu_resv_index_remove() takes them out by it
 *
 * The group's reserved regions are indexed as its reserved_regions file
 * lists them, merged (one node per line), except IOMMU_RESV_DIRECT_RELAXABLE
 * ones and those the index's flags leave out (the others are then merged
 * without them). The nodes keep the gathering referenced until they are
 * removed, with the member devices it references: a member that leaves the
 * group stays referenced (its memory only) until the user gathers again,
 * which it does at its next use of the index when the group's generation
 * has moved (iommu_group_resv_generation()). The gathering is the group's,
 * shared with its sysfs readers and other users: only the nodes are charged
 * to the caller.
 *
 * Context: Process context; takes the group's resv_lock, then its mutex
 * when the group must be gathered (iommu_group_resv_snapshot_get()).
 * Return: 0, or a negative errno (the group's provider failed, -ENOMEM,
 * -EINTR if the task was killed while waiting), in which case nothing is
 * added.
 */
int iommu_resv_index_add_group(struct iommu_resv_index *idx, struct iommu_group *group,
			       const void *tag)
{
	return add_group(idx, group, tag, NULL);
}
EXPORT_SYMBOL_GPL(iommu_resv_index_add_group);

/**
 * iommu_resv_index_add_group_merged - index a group and list its regions merged
 * @idx: the index
 * @group: the group
 * @tag: as for iommu_resv_index_add_group()
 * @merged: list to append the group's merged regions to, as
 *	    iommu_get_group_resv_regions() lists them, less those the index's
 *	    flags leave out; free them with iommu_put_resv_regions()
 *
 * As iommu_resv_index_add_group(), and the merged list from the same
 * gathering, for a caller that needs both without gathering twice.
 *
 * Context: As iommu_resv_index_add_group().
 * Return: 0, or a negative errno as iommu_resv_index_add_group(), in which
 * case nothing is added to @idx and @merged is as it was.
 */
int iommu_resv_index_add_group_merged(struct iommu_resv_index *idx,
				      struct iommu_group *group, const void *tag,
				      struct list_head *merged)
{
	return add_group(idx, group, tag, merged);
}
EXPORT_SYMBOL_GPL(iommu_resv_index_add_group_merged);

/**
 * iommu_resv_index_add_device - index the reserved regions of one device
 * @idx: the index
 * @dev: the device; its regions are gathered as its group's sysfs files
 *	 gather them for it (the regions of its lines of
 *	 reserved_regions_detail)
 * @tag: as for iommu_resv_index_add_group()
 *
 * For a user that enforces per device rather than per group (iommufd): a
 * region of a member only matters for that member's own DMA. The device's
 * regions are indexed merged as the group's reserved_regions file merges
 * regions (by type), with the same exceptions as iommu_resv_index_add_group().
 *
 * The device's regions come from its group's gathering: a group whose
 * regions cannot all be gathered (any member's provider failing) cannot be
 * attached through any of its devices, as it cannot through VFIO type1, and
 * its sysfs files fail to read.
 *
 * Context: As iommu_resv_index_add_group().
 * Return: 0, or a negative errno (-ENODEV if @dev is not, or no longer, a
 * member of a group with an IOMMU; a provider's failure; -ENOMEM; -EINTR),
 * in which case nothing is added.
 */
int iommu_resv_index_add_device(struct iommu_resv_index *idx, struct device *dev,
				const void *tag)
{
	struct iommu_resv_snapshot *snap;
	struct iommu_group *group;
	int ret, group_id;

	group = iommu_group_get(dev);
	if (!group)
		return -ENODEV;
	group_id = iommu_group_id(group);
	iommu_group_put(group);

	snap = iommu_device_resv_snapshot_get(dev);
	if (IS_ERR(snap))
		return PTR_ERR(snap);
	ret = add_snapshot(idx, snap, dev, group_id, tag, NULL);
	iommu_resv_snapshot_put(snap);
	return ret;
}
EXPORT_SYMBOL_GPL(iommu_resv_index_add_device);

/**
 * iommu_resv_index_remove - drop the ranges added with one tag
 * @idx: the index
 * @tag: the tag given to iommu_resv_index_add_group() or
 *	 iommu_resv_index_add_device(), not NULL
 *
 * Context: As iommu_resv_index_destroy().
 */
void iommu_resv_index_remove(struct iommu_resv_index *idx, const void *tag)
{
	if (tag)
		remove_nodes(idx, tag);
}
EXPORT_SYMBOL_GPL(iommu_resv_index_remove);

/**
 * iommu_resv_index_move - move every range of one index into another
 * @dst: the index that receives them
 * @src: the index that gives them; empty afterwards
 *
 * Lets a caller gather a group (which takes the group's locks) into a
 * private index, then publish it under its own lock.
 */
void iommu_resv_index_move(struct iommu_resv_index *dst, struct iommu_resv_index *src)
{
	struct iommu_resv_index_node *n;

	while ((n = resv_itree_iter_first(&src->tree, 0, U64_MAX))) {
		resv_itree_remove(n, &src->tree);
		resv_itree_insert(n, &dst->tree);
	}
}
EXPORT_SYMBOL_GPL(iommu_resv_index_move);

/**
 * iommu_resv_index_destroy - drop every range of an index
 * @idx: the index; empty and reusable afterwards
 *
 * Context: Process context; may sleep (it may drop the last reference to a
 * gathering).
 */
void iommu_resv_index_destroy(struct iommu_resv_index *idx)
{
	remove_nodes(idx, NULL);
}
EXPORT_SYMBOL_GPL(iommu_resv_index_destroy);

/**
 * iommu_resv_index_find - the first indexed range that overlaps a range
 * @idx: the index
 * @start: first IOVA of the range
 * @last: last IOVA of the range (inclusive)
 *
 * Context: Any context; the caller serialises against changes to @idx.
 * Return: the indexed range with the lowest start among those overlapping
 * [@start, @last], or NULL. O(log n), no allocation.
 */
const struct iommu_resv_index_node *
iommu_resv_index_find(const struct iommu_resv_index *idx, u64 start, u64 last)
{
	return resv_itree_iter_first((struct rb_root_cached *)&idx->tree, start, last);
}
EXPORT_SYMBOL_GPL(iommu_resv_index_find);

/**
 * iommu_resv_index_next - the next indexed range that overlaps a range
 * @n: a range iommu_resv_index_find() or this function returned
 * @start: first IOVA of the range given to iommu_resv_index_find()
 * @last: last IOVA of that range (inclusive)
 *
 * Context: Any context; the caller serialises against changes to the index.
 * Return: the range after @n, by start, among those overlapping
 * [@start, @last], or NULL.
 */
const struct iommu_resv_index_node *
iommu_resv_index_next(const struct iommu_resv_index_node *n, u64 start, u64 last)
{
	return resv_itree_iter_next((struct iommu_resv_index_node *)n, start, last);
}
EXPORT_SYMBOL_GPL(iommu_resv_index_next);

/**
 * iommu_resv_index_blame - the region a refusal names
 * @n: an indexed range
 * @start: first IOVA of the refused range
 * @last: last IOVA of the refused range (inclusive)
 *
 * Among the regions merged into @n that overlap the range, the one with the
 * lowest start (the first gathered, on a tie). A walk of the snapshot's
 * entries: a slow path, for the log line and the trace event.
 *
 * Return: its entry in @n's snapshot, or NULL if none overlaps the range
 * (which a range that overlaps @n always does, unless a provider reported a
 * region of length 0).
 */
VISIBLE_IF_KUNIT const struct iommu_resv_entry *
iommu_resv_index_blame(const struct iommu_resv_index_node *n, u64 start, u64 last)
{
	bool (*skip)(const struct iommu_resv_region *region) =
		n->flags & IOMMU_RESV_INDEX_NO_PCI_WINDOWS ? is_pci_window : NULL;
	const struct iommu_resv_snapshot *snap = n->snap;
	const struct iommu_resv_entry *blamed = NULL;
	unsigned int i;

	start = max(start, n->start);
	last = min(last, n->last);
	for (i = 0; i < snap->nr; i++) {
		const struct iommu_resv_entry *e = &snap->entries[i];
		const struct iommu_resv_region *r = e->region;

		/* The regions the node's range was merged from */
		if (r->type != n->type || !iommu_resv_entry_kept(e, n->dev, skip))
			continue;
		if (r->start > last || iommu_resv_end(r) < start)
			continue;
		if (!blamed || r->start < blamed->region->start ||
		    (r->start == blamed->region->start && e->seq < blamed->seq))
			blamed = e;
	}
	return blamed;
}
EXPORT_SYMBOL_IF_KUNIT(iommu_resv_index_blame);

/**
 * iommu_resv_index_report - log why a range was refused
 * @rs: the caller's rate limit, so that one busy caller does not hide another
 * @what: the operation, e.g. "VFIO_IOMMU_MAP_DMA"
 * @start: first IOVA of the refused range
 * @last: last IOVA of the refused range
 * @n: the indexed range it overlaps, from iommu_resv_index_find()
 *
 * One rate-limited line names the range and the region it hits
 * (iommu_resv_index_blame()): its range, type, device and group, and its
 * owner, as reserved_regions_detail has them; the reserved_region_overlap
 * trace event has every refusal.
 */
void iommu_resv_index_report(struct ratelimit_state *rs, const char *what,
			     u64 start, u64 last, const struct iommu_resv_index_node *n)
{
	/* The range itself when no region can be named (a 0-length one) */
	struct iommu_resv_region range = {
		.start = n->start,
		.length = n->last - n->start + 1,
		.type = n->type,
	};
	bool log = __ratelimit(rs);
	const struct iommu_resv_region *r = &range;
	const struct iommu_resv_entry *e;
	const char *dev_name = "-";

	/* Looking the region up walks the snapshot: only for a line or an event */
	if (!log && !trace_reserved_region_overlap_enabled())
		return;
	e = iommu_resv_index_blame(n, start, last);
	if (e) {
		r = e->region;
		dev_name = e->dev_name;
	}
	trace_reserved_region_overlap(what, start, last, r->start, iommu_resv_end(r),
				      iommu_resv_type_name(r), dev_name,
				      n->group_id, r->owner ?: "-");
	if (log)
		pr_info("%s 0x%llx-0x%llx overlaps reserved 0x%llx-0x%llx %s of %s in group %d, owner %s\n",
			what, start, last, (u64)r->start, (u64)iommu_resv_end(r),
			iommu_resv_type_name(r), dev_name, n->group_id,
			r->owner ?: "-");
}
EXPORT_SYMBOL_GPL(iommu_resv_index_report);
