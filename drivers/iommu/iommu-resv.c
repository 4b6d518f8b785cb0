// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reserved regions of an IOMMU group.
 *
 * The regions of every member device are gathered into a snapshot, one entry
 * per region per member with its owner; the views of a group are computed
 * from a snapshot by sorting, in O(n log n) for n regions, once per
 * gathering: the merged view when the snapshot is sealed, the detailed view
 * when it is first asked for.
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
 *
 * Detailed view (the "reserved_regions_detail" file): ranges of one member,
 * type, kind and owner that overlap or touch become one line; nothing else
 * merges. Lines are ordered by start, end, type, kind, member name and owner.
 */
#include <linux/device.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <kunit/static_stub.h>
#include <kunit/visibility.h>

#include "iommu-priv.h"
#include "iommu-resv.h"

/**
 * iommu_resv_snapshot_alloc - start an empty snapshot
 * @gen: the generation it is gathered at (iommu_group_resv_generation(),
 *	 read before gathering)
 *
 * Return: the snapshot, with one reference, or NULL.
 */
struct iommu_resv_snapshot *iommu_resv_snapshot_alloc(unsigned long gen)
{
	struct iommu_resv_snapshot *snap = kzalloc(sizeof(*snap), GFP_KERNEL);

	if (!snap)
		return NULL;
	kref_init(&snap->ref);
	mutex_init(&snap->views_lock);
	snap->gen = gen;
	return snap;
}
EXPORT_SYMBOL_IF_KUNIT(iommu_resv_snapshot_alloc);

static void iommu_resv_snapshot_release(struct kref *ref)
{
	struct iommu_resv_snapshot *snap = container_of(ref, struct iommu_resv_snapshot, ref);
	unsigned int i;

	for (i = 0; i < snap->nr; i++)
		iommu_resv_region_free(snap->entries[i].dev, snap->entries[i].region);
	/* Only now: the regions' free callbacks are given their devices. */
	for (i = 0; i < snap->nr_members; i++) {
		kfree_const(snap->members[i].name);
		put_device(snap->members[i].dev);
	}
	kvfree(snap->members);
	kvfree(snap->entries);
	kvfree((void *)snap->lines);
	for (i = 0; i < IOMMU_RESV_NR_VIEWS; i++)
		kvfree(snap->text[i].buf);
	kvfree(snap->spans);
	mutex_destroy(&snap->views_lock);
	kfree(snap);
}

/**
 * iommu_resv_snapshot_put - drop a reference to a snapshot
 * @snap: the snapshot, or NULL; freed with its regions with the last reference
 */
void iommu_resv_snapshot_put(struct iommu_resv_snapshot *snap)
{
	if (snap)
		kref_put(&snap->ref, iommu_resv_snapshot_release);
}
EXPORT_SYMBOL_IF_KUNIT(iommu_resv_snapshot_put);

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
iommu_resv_alloc_span(const struct iommu_resv_span *span)
{
	KUNIT_STATIC_STUB_REDIRECT(iommu_resv_alloc_span, span);
	return iommu_alloc_resv_region(span->start, span->end - span->start + 1,
				       span->prot, span->type, GFP_KERNEL);
}
EXPORT_SYMBOL_IF_KUNIT(iommu_resv_alloc_span);

/**
 * iommu_resv_snapshot_add - add one member device and the regions reported for it
 * @snap: the snapshot, not sealed yet
 * @dev: the member device (NULL in tests)
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
	unsigned int n = list_count_nodes(regions);
	struct iommu_resv_member *members;
	const char *name;

	if (snap->nr + n > snap->size) {
		unsigned int size = max(snap->nr + n, 2 * snap->size);
		struct iommu_resv_entry *entries;

		entries = iommu_resv_alloc_array(snap->entries, size, sizeof(*entries));
		if (!entries)
			goto err;
		snap->entries = entries;
		snap->size = size;
	}
	/* Members are few (a group's devices): grow one at a time. */
	members = iommu_resv_alloc_array(snap->members, snap->nr_members + 1,
					 sizeof(*members));
	if (!members)
		goto err;
	snap->members = members;
	name = kstrdup_const(dev_name, GFP_KERNEL);
	if (!name)
		goto err;
	snap->members[snap->nr_members++] = (struct iommu_resv_member) {
		.dev = get_device(dev),
		.name = name,
	};
	list_for_each_entry_safe(region, next, regions, list) {
		list_del_init(&region->list);
		snap->entries[snap->nr] = (struct iommu_resv_entry) {
			.region = region,
			.dev = dev,
			.dev_name = name,
			.seq = snap->nr,
		};
		snap->nr++;
	}
	return 0;

err:
	iommu_put_resv_regions(dev, regions);
	return -ENOMEM;
}
EXPORT_SYMBOL_IF_KUNIT(iommu_resv_snapshot_add);

/**
 * iommu_resv_snapshot_has_member - was a device a member when it was gathered
 * @snap: the snapshot
 * @dev: the device
 *
 * Return: true if @dev was gathered into @snap.
 */
bool iommu_resv_snapshot_has_member(const struct iommu_resv_snapshot *snap,
				    const struct device *dev)
{
	unsigned int i;

	for (i = 0; i < snap->nr_members; i++)
		if (snap->members[i].dev == dev)
			return true;
	return false;
}

static int cmp_str(const char *a, const char *b)
{
	return strcmp(a ?: "", b ?: "");
}

/* Same member, type, kind and owner: the key within which ranges merge. */
static int cmp_key(const struct iommu_resv_entry *a, const struct iommu_resv_entry *b)
{
	int ret;

	ret = cmp_str(a->dev_name, b->dev_name);
	if (ret)
		return ret;
	if (a->region->type != b->region->type)
		return (int)a->region->type - (int)b->region->type;
	if (a->region->kind != b->region->kind)
		return (int)a->region->kind - (int)b->region->kind;
	if (a->region->owner_type != b->region->owner_type)
		return (int)a->region->owner_type - (int)b->region->owner_type;
	return cmp_str(a->region->owner, b->region->owner);
}

/* Lines of one entry each, by merge key, then start */
static int cmp_key_start(const void *pa, const void *pb)
{
	const struct iommu_resv_line *a = pa, *b = pb;
	int ret = cmp_key(a->entry, b->entry);

	if (ret)
		return ret;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return 0;
}

/* Detailed view order: by range, then type, kind, member and owner. */
static int cmp_line(const void *pa, const void *pb)
{
	const struct iommu_resv_line *a = pa, *b = pb;
	int ret;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (a->end != b->end)
		return a->end < b->end ? -1 : 1;
	if (a->entry->region->type != b->entry->region->type)
		return (int)a->entry->region->type - (int)b->entry->region->type;
	if (a->entry->region->kind != b->entry->region->kind)
		return (int)a->entry->region->kind - (int)b->entry->region->kind;
	ret = cmp_str(a->entry->dev_name, b->entry->dev_name);
	if (ret)
		return ret;
	if (a->entry->region->owner_type != b->entry->region->owner_type)
		return (int)a->entry->region->owner_type -
		       (int)b->entry->region->owner_type;
	return cmp_str(a->entry->region->owner, b->entry->region->owner);
}

/*
 * Sealed order, which the merged view follows: by start, then type; then
 * length and protection flags, so that a span's flags do not depend on how
 * the sort breaks ties, and gathering order.
 */
static int cmp_sealed(const void *pa, const void *pb)
{
	const struct iommu_resv_entry *a = pa, *b = pb;
	const struct iommu_resv_region *ra = a->region, *rb = b->region;

	if (ra->start != rb->start)
		return ra->start < rb->start ? -1 : 1;
	if (ra->type != rb->type)
		return (int)ra->type - (int)rb->type;
	if (ra->length != rb->length)
		return ra->length < rb->length ? -1 : 1;
	if (ra->prot != rb->prot)
		return ra->prot - rb->prot;
	/* sort() is not stable: keep equal regions in gathering order */
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Does [@start, @end] overlap [.., @span_end] or start right after it? */
static bool iommu_resv_joins(phys_addr_t span_end, phys_addr_t start)
{
	return start <= span_end || start - 1 == span_end;
}

/* The detailed view of @snap, leaving its entries as they are */
static struct iommu_resv_line *iommu_resv_make_lines(const struct iommu_resv_snapshot *snap,
						     unsigned int *nr_lines)
{
	struct iommu_resv_line *lines, *cur = NULL;
	unsigned int i, n = 0;

	lines = iommu_resv_alloc_array(NULL, snap->nr, sizeof(*lines));
	if (!lines)
		return NULL;
	for (i = 0; i < snap->nr; i++)
		lines[i] = (struct iommu_resv_line) {
			.start = snap->entries[i].region->start,
			.end = iommu_resv_end(snap->entries[i].region),
			.entry = &snap->entries[i],
		};
	sort(lines, snap->nr, sizeof(*lines), cmp_key_start, NULL);
	for (i = 0; i < snap->nr; i++) {
		if (cur && !cmp_key(cur->entry, lines[i].entry) &&
		    iommu_resv_joins(cur->end, lines[i].start)) {
			cur->end = max(cur->end, lines[i].end);
			continue;
		}
		cur = &lines[n++];
		*cur = lines[i];
	}
	sort(lines, n, sizeof(*lines), cmp_line, NULL);
	*nr_lines = n;
	return lines;
}

/**
 * iommu_resv_snapshot_lines - the detailed view of a sealed snapshot
 * @snap: the snapshot
 * @nr_lines: set to the number of lines
 *
 * Computed at the first call and kept with the snapshot: readers of the
 * merged view and of the index do not pay for it.
 *
 * Context: Process context; may sleep.
 * Return: the lines (valid while @snap is referenced), NULL when there are
 * none, or ERR_PTR(-ENOMEM).
 */
const struct iommu_resv_line *iommu_resv_snapshot_lines(struct iommu_resv_snapshot *snap,
							unsigned int *nr_lines)
{
	const struct iommu_resv_line *lines;

	mutex_lock(&snap->views_lock);
	if (!snap->lines && snap->nr)
		snap->lines = iommu_resv_make_lines(snap, &snap->nr_lines);
	lines = snap->lines;
	*nr_lines = snap->nr_lines;
	mutex_unlock(&snap->views_lock);
	if (!lines && snap->nr)
		return ERR_PTR(-ENOMEM);
	return lines;
}
EXPORT_SYMBOL_IF_KUNIT(iommu_resv_snapshot_lines);

/**
 * iommu_resv_entry_kept - is an entry part of a merged view of some regions
 * @e: an entry of a snapshot
 * @dev: only the regions reported for this member count, or NULL for all
 * @skip: the regions for which it returns true do not count, if not NULL
 *
 * The one rule for which entries iommu_resv_snapshot_spans() merges, and so
 * for which regions a range made from its spans covers.
 *
 * Return: whether @e counts.
 */
bool iommu_resv_entry_kept(const struct iommu_resv_entry *e, const struct device *dev,
			   bool (*skip)(const struct iommu_resv_region *region))
{
	return (!dev || e->dev == dev) && !(skip && skip(e->region));
}

/**
 * iommu_resv_snapshot_spans - the merged view of some of a snapshot's regions
 * @snap: the snapshot, its entries in (start, type) order (as sealing
 *	  leaves them)
 * @dev: only the regions reported for this member, or NULL for every member's
 * @skip: leave out the regions for which it returns true, if not NULL
 * @spans: set to the spans, to be freed with kvfree(), or NULL if none
 * @nr_spans: set to their number
 *
 * Merged by the rules at the top of this file, in one sweep of the entries:
 * a span of a type stays open while the next region of that type joins it.
 * Spans are created in the order of their first region, which is already
 * the output order.
 *
 * Return: 0, or -ENOMEM.
 */
int iommu_resv_snapshot_spans(const struct iommu_resv_snapshot *snap,
			      const struct device *dev,
			      bool (*skip)(const struct iommu_resv_region *region),
			      struct iommu_resv_span **spans, unsigned int *nr_spans)
{
	struct iommu_resv_span *open[IOMMU_RESV_NR_TYPES] = {};
	unsigned int i, nr = 0, n = 0;
	struct iommu_resv_span *out;

	*spans = NULL;
	*nr_spans = 0;
	for (i = 0; i < snap->nr; i++)
		nr += iommu_resv_entry_kept(&snap->entries[i], dev, skip);
	if (!nr)
		return 0;
	out = iommu_resv_alloc_array(NULL, nr, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (i = 0; i < snap->nr; i++) {
		const struct iommu_resv_region *region = snap->entries[i].region;
		struct iommu_resv_span *span;

		if (!iommu_resv_entry_kept(&snap->entries[i], dev, skip))
			continue;
		span = open[region->type];

		if (span && iommu_resv_joins(span->end, region->start)) {
			span->end = max(span->end, iommu_resv_end(region));
			continue;
		}
		span = &out[n++];
		*span = (struct iommu_resv_span) {
			.start = region->start,
			.end = iommu_resv_end(region),
			.prot = region->prot,
			.type = region->type,
		};
		open[region->type] = span;
	}
	*spans = out;
	*nr_spans = n;
	return 0;
}

/* Sorted by the owner they reference, regions of one owner are adjacent. */
static int cmp_owner_ref(const void *pa, const void *pb)
{
	const struct iommu_resv_region *a = *(const struct iommu_resv_region * const *)pa;
	const struct iommu_resv_region *b = *(const struct iommu_resv_region * const *)pb;

	if (a->owner_dev != b->owner_dev)
		return (unsigned long)a->owner_dev < (unsigned long)b->owner_dev ? -1 : 1;
	if (a->owner_fwnode != b->owner_fwnode)
		return (unsigned long)a->owner_fwnode < (unsigned long)b->owner_fwnode ? -1 : 1;
	return 0;
}

static bool has_owner_ref(const struct iommu_resv_region *region)
{
	return region->owner_dev || region->owner_fwnode;
}

/*
 * Name the owners that providers referenced, once per distinct owner: the
 * members of a group share few owners (the bridges above them, their IOMMU),
 * and naming one walks its sysfs path and allocates twice. Every region gets
 * its own copy of the name and drops its reference.
 */
static int iommu_resv_name_owners(struct iommu_resv_snapshot *snap)
{
	struct iommu_resv_region **regions, *first = NULL;
	struct fwnode_handle *fwnode = NULL;
	struct device *dev = NULL;
	unsigned int i, n = 0;
	int ret = 0;

	for (i = 0; i < snap->nr; i++)
		n += has_owner_ref(snap->entries[i].region);
	if (!n)
		return 0;
	regions = iommu_resv_alloc_array(NULL, n, sizeof(*regions));
	if (!regions)
		return -ENOMEM;
	n = 0;
	for (i = 0; i < snap->nr; i++)
		if (has_owner_ref(snap->entries[i].region))
			regions[n++] = snap->entries[i].region;
	sort(regions, n, sizeof(*regions), cmp_owner_ref, NULL);

	for (i = 0; i < n && !ret; i++) {
		struct iommu_resv_region *region = regions[i];
		/* @first no longer holds its reference: compare what it held. */
		bool same = first && region->owner_dev == dev &&
			    region->owner_fwnode == fwnode;

		if (!same) {
			first = region;
			dev = region->owner_dev;
			fwnode = region->owner_fwnode;
		}
		ret = iommu_resv_region_name_owner(region, same ? first : NULL);
	}
	kvfree(regions);
	return ret;
}

/**
 * iommu_resv_snapshot_seal - name the owners and compute the merged view
 * @snap: the snapshot, with every member added
 *
 * Names the owners that regions reference (iommu_resv_region_set_owner_dev()),
 * once per distinct owner, sorts the entries (by start, type, length,
 * protection, then gathering order), and fills @snap->spans according to the
 * rules at the top of this file. The entries must not change afterwards.
 *
 * Context: Process context; may sleep. For a group's gathering, with the
 * group's mutex still held (see iommu_resv_region_name_owner()).
 * Return: 0, or -ENOMEM (then only iommu_resv_snapshot_put() is valid).
 */
int iommu_resv_snapshot_seal(struct iommu_resv_snapshot *snap)
{
	int ret = iommu_resv_name_owners(snap);

	if (ret)
		return ret;
	/* Once per gathering, so that each merge is one pass in this order */
	sort(snap->entries, snap->nr, sizeof(*snap->entries), cmp_sealed, NULL);
	return iommu_resv_snapshot_spans(snap, NULL, NULL, &snap->spans,
					 &snap->nr_spans);
}
EXPORT_SYMBOL_IF_KUNIT(iommu_resv_snapshot_seal);

/**
 * iommu_resv_spans_list - a list of regions made from spans
 * @spans: the spans, from iommu_resv_snapshot_spans()
 * @nr_spans: their number
 * @head: list to append the regions to, allocated anew (without owners);
 *	  free them with iommu_put_resv_regions()
 *
 * Return: 0, or -ENOMEM with @head as it was.
 */
int iommu_resv_spans_list(const struct iommu_resv_span *spans, unsigned int nr_spans,
			  struct list_head *head)
{
	LIST_HEAD(merged);
	unsigned int i;

	for (i = 0; i < nr_spans; i++) {
		struct iommu_resv_region *region = iommu_resv_alloc_span(&spans[i]);

		if (!region) {
			iommu_put_resv_regions(NULL, &merged);
			return -ENOMEM;
		}
		list_add_tail(&region->list, &merged);
	}
	list_splice_tail(&merged, head);
	return 0;
}

/**
 * iommu_resv_snapshot_merge - the merged, ordered list of a sealed snapshot
 * @snap: the snapshot
 * @head: list to append the merged regions to, allocated anew (without
 *	  owners); free them with iommu_put_resv_regions()
 *
 * Return: 0, or -ENOMEM with @head as it was.
 */
int iommu_resv_snapshot_merge(const struct iommu_resv_snapshot *snap,
			      struct list_head *head)
{
	return iommu_resv_spans_list(snap->spans, snap->nr_spans, head);
}
EXPORT_SYMBOL_IF_KUNIT(iommu_resv_snapshot_merge);
