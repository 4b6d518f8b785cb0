// SPDX-License-Identifier: GPL-2.0-only
/*
 * The reserved-region files of an IOMMU group's sysfs directory:
 *
 *  reserved_regions         the merged list, in the format of v4.11
 *  reserved_regions_detail  one line per region per member device, with its
 *                           finer type and its owner
 *
 * Both are seq_file based kernfs files, one record per line: a read sequence
 * from offset 0 gathers the group once, keeps the lines until the sequence
 * reaches the end (or the file is closed), and prints them in as many read()
 * calls as it takes, never cut at PAGE_SIZE. If the regions cannot all be
 * gathered, read() fails with the error (e.g. ENOMEM) instead of returning a
 * partial list.
 */
#include <linux/kernfs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <kunit/visibility.h>

#include "iommu-resv.h"

/* reserved_regions: MSI and SW_MSI both read "msi", as since v4.11. */
static const char * const iommu_resv_legacy_names[IOMMU_RESV_NR_TYPES] = {
	[IOMMU_RESV_DIRECT]		= "direct",
	[IOMMU_RESV_DIRECT_RELAXABLE]	= "direct-relaxable",
	[IOMMU_RESV_RESERVED]		= "reserved",
	[IOMMU_RESV_MSI]		= "msi",
	[IOMMU_RESV_SW_MSI]		= "msi",
};

/* reserved_regions_detail: a hardware doorbell is not a software window. */
static const char * const iommu_resv_detail_names[IOMMU_RESV_NR_TYPES] = {
	[IOMMU_RESV_DIRECT]		= "direct",
	[IOMMU_RESV_DIRECT_RELAXABLE]	= "direct-relaxable",
	[IOMMU_RESV_RESERVED]		= "reserved",
	[IOMMU_RESV_MSI]		= "msi",
	[IOMMU_RESV_SW_MSI]		= "sw-msi",
};

/* ... and a reserved range of a known kind is named by its kind. */
static const char * const iommu_resv_kind_names[] = {
	[IOMMU_RESV_KIND_BRIDGE_WINDOW]	= "bridge-window",
	[IOMMU_RESV_KIND_PEER_BAR]	= "peer-bar",
	[IOMMU_RESV_KIND_HOST_WINDOW]	= "host-window",
	[IOMMU_RESV_KIND_DMA_RANGE_GAP]	= "dma-range-gap",
};

/**
 * iommu_resv_type_name - the type of a region as reserved_regions_detail names it
 * @region: the region
 *
 * Return: a static string: "direct", "sw-msi", "bridge-window"...
 */
const char *iommu_resv_type_name(const struct iommu_resv_region *region)
{
	if (region->type == IOMMU_RESV_RESERVED && region->kind &&
	    region->kind < ARRAY_SIZE(iommu_resv_kind_names))
		return iommu_resv_kind_names[region->kind];
	return iommu_resv_detail_names[region->type];
}

static const char * const iommu_resv_owner_names[] = {
	[IOMMU_RESV_OWNER_UNKNOWN]	= "unknown",
	[IOMMU_RESV_OWNER_DEVICE]	= "device",
	[IOMMU_RESV_OWNER_IOMMU]	= "iommu",
	[IOMMU_RESV_OWNER_FIRMWARE]	= "firmware",
};

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

static int cmp_key_start(const void *pa, const void *pb)
{
	const struct iommu_resv_entry *a = pa, *b = pb;
	int ret = cmp_key(a, b);

	if (ret)
		return ret;
	if (a->region->start != b->region->start)
		return a->region->start < b->region->start ? -1 : 1;
	return 0;
}

/* Output order: by range, then type, kind, member and owner. */
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

/**
 * iommu_resv_detail_lines - the lines of the detailed view of a snapshot
 * @snap: the snapshot; its entries are reordered and must outlive the lines
 * @nr_lines: set to the number of lines
 *
 * Ranges of one member, type, kind and owner that overlap or touch become
 * one line; nothing else merges. Lines are ordered by start, end, type,
 * kind, member name and owner.
 *
 * Return: the lines (kvfree() them), NULL for an empty snapshot, or an
 * ERR_PTR().
 */
VISIBLE_IF_KUNIT struct iommu_resv_line *
iommu_resv_detail_lines(struct iommu_resv_snapshot *snap, unsigned int *nr_lines)
{
	struct iommu_resv_line *lines, *cur = NULL;
	unsigned int i, n = 0;

	*nr_lines = 0;
	if (!snap->nr)
		return NULL;
	lines = kvmalloc_array(snap->nr, sizeof(*lines), GFP_KERNEL);
	if (!lines)
		return ERR_PTR(-ENOMEM);

	sort(snap->entries, snap->nr, sizeof(*snap->entries), cmp_key_start, NULL);
	for (i = 0; i < snap->nr; i++) {
		const struct iommu_resv_entry *e = &snap->entries[i];
		phys_addr_t end = iommu_resv_end(e->region);

		if (cur && !cmp_key(cur->entry, e) &&
		    (e->region->start <= cur->end || e->region->start - 1 == cur->end)) {
			cur->end = max(cur->end, end);
			continue;
		}
		cur = &lines[n++];
		*cur = (struct iommu_resv_line) {
			.start = e->region->start, .end = end, .entry = e,
		};
	}
	sort(lines, n, sizeof(*lines), cmp_line, NULL);
	*nr_lines = n;
	return lines;
}
EXPORT_SYMBOL_IF_KUNIT(iommu_resv_detail_lines);

/**
 * struct iommu_resv_seq - what one read sequence of a file prints
 * @snap: detail view: the gathered snapshot, which @lines point into
 * @lines: detail view: the lines
 * @regions: legacy view: the merged regions, in list order
 * @merged: legacy view: the list that owns @regions
 * @nr: number of lines (detail) or regions (legacy); 0 when nothing is held
 * @gathered: a sequence is under way: the fields above hold its gathering,
 *	      or, once it reached the end, nothing
 */
struct iommu_resv_seq {
	struct iommu_resv_snapshot snap;
	struct iommu_resv_line *lines;
	struct iommu_resv_region **regions;
	struct list_head merged;
	unsigned int nr;
	bool gathered;
};

static struct iommu_group *of_to_group(struct kernfs_open_file *of)
{
	return of->kn->priv;
}

static void iommu_resv_seq_release_data(struct iommu_resv_seq *seq)
{
	kvfree(seq->lines);
	kvfree(seq->regions);
	iommu_put_resv_regions(NULL, &seq->merged);
	iommu_resv_snapshot_free(&seq->snap);
	seq->lines = NULL;
	seq->regions = NULL;
	seq->nr = 0;
}

static int iommu_resv_legacy_gather(struct iommu_group *group, struct iommu_resv_seq *seq)
{
	struct iommu_resv_region *region;
	unsigned int n;
	int ret;

	ret = iommu_get_group_resv_regions(group, &seq->merged);
	if (ret)
		return ret;
	n = list_count_nodes(&seq->merged);
	if (!n)
		return 0;
	seq->regions = kvmalloc_array(n, sizeof(*seq->regions), GFP_KERNEL);
	if (!seq->regions)
		return -ENOMEM;
	list_for_each_entry(region, &seq->merged, list)
		seq->regions[seq->nr++] = region;
	return 0;
}

static int iommu_resv_detail_gather(struct iommu_group *group, struct iommu_resv_seq *seq)
{
	struct iommu_resv_line *lines;
	int ret;

	ret = iommu_group_resv_snapshot(group, &seq->snap);
	if (ret)
		return ret;
	lines = iommu_resv_detail_lines(&seq->snap, &seq->nr);
	if (IS_ERR(lines))
		return PTR_ERR(lines);
	seq->lines = lines;
	return 0;
}

static int iommu_resv_seq_open(struct kernfs_open_file *of)
{
	struct iommu_resv_seq *seq = kzalloc(sizeof(*seq), GFP_KERNEL_ACCOUNT);

	if (!seq)
		return -ENOMEM;
	INIT_LIST_HEAD(&seq->merged);
	iommu_resv_snapshot_init(&seq->snap);
	of->priv = seq;
	return 0;
}

static void iommu_resv_seq_release(struct kernfs_open_file *of)
{
	iommu_resv_seq_release_data(of->priv);
	kfree(of->priv);
}

/*
 * Line @pos, or NULL past the last one: the sequence is then over and its
 * gathering is dropped; reading on gives nothing until a read at offset 0.
 */
static void *iommu_resv_seq_line(struct iommu_resv_seq *seq, loff_t pos)
{
	if (pos >= seq->nr) {
		iommu_resv_seq_release_data(seq);
		return NULL;
	}
	return seq->lines ? (void *)&seq->lines[pos] : (void *)seq->regions[pos];
}

typedef int (*iommu_resv_gather_fn)(struct iommu_group *group,
				    struct iommu_resv_seq *seq);

static void *iommu_resv_seq_start(struct seq_file *sf, loff_t *ppos,
				  iommu_resv_gather_fn gather)
{
	struct kernfs_open_file *of = sf->private;
	struct iommu_resv_seq *seq = of->priv;
	int ret;

	/* A sequence that starts (again) at 0 sees the group as it is now. */
	if (!*ppos || !seq->gathered) {
		iommu_resv_seq_release_data(seq);
		seq->gathered = false;
		ret = gather(of_to_group(of), seq);
		if (ret) {
			iommu_resv_seq_release_data(seq);
			return ERR_PTR(ret);
		}
		seq->gathered = true;
	}
	return iommu_resv_seq_line(seq, *ppos);
}

static void *iommu_resv_legacy_start(struct seq_file *sf, loff_t *ppos)
{
	return iommu_resv_seq_start(sf, ppos, iommu_resv_legacy_gather);
}

static void *iommu_resv_detail_start(struct seq_file *sf, loff_t *ppos)
{
	return iommu_resv_seq_start(sf, ppos, iommu_resv_detail_gather);
}

static void *iommu_resv_seq_next(struct seq_file *sf, void *v, loff_t *ppos)
{
	struct kernfs_open_file *of = sf->private;

	return iommu_resv_seq_line(of->priv, ++*ppos);
}

static int iommu_resv_legacy_show(struct seq_file *sf, void *v)
{
	const struct iommu_resv_region *region = v;

	seq_printf(sf, "0x%016llx 0x%016llx %s\n", (long long)region->start,
		   (long long)iommu_resv_end(region),
		   iommu_resv_legacy_names[region->type]);
	return 0;
}

static int iommu_resv_detail_show(struct seq_file *sf, void *v)
{
	const struct iommu_resv_line *line = v;
	const struct iommu_resv_region *r = line->entry->region;

	seq_printf(sf, "0x%016llx 0x%016llx %s %s %s %s\n",
		   (long long)line->start, (long long)line->end,
		   iommu_resv_type_name(r), line->entry->dev_name,
		   iommu_resv_owner_names[r->owner_type], r->owner ?: "-");
	return 0;
}

static const struct kernfs_ops iommu_resv_legacy_ops = {
	.open = iommu_resv_seq_open,
	.release = iommu_resv_seq_release,
	.seq_start = iommu_resv_legacy_start,
	.seq_next = iommu_resv_seq_next,
	.seq_show = iommu_resv_legacy_show,
};

static const struct kernfs_ops iommu_resv_detail_ops = {
	.open = iommu_resv_seq_open,
	.release = iommu_resv_seq_release,
	.seq_start = iommu_resv_detail_start,
	.seq_next = iommu_resv_seq_next,
	.seq_show = iommu_resv_detail_show,
};

/**
 * iommu_group_resv_sysfs_add - create the reserved-region files of a group
 * @group: the group
 * @kobj: its kobject, whose directory receives the files
 *
 * The files go away with the directory.
 *
 * Return: 0, or a negative errno.
 */
int iommu_group_resv_sysfs_add(struct iommu_group *group, struct kobject *kobj)
{
	static const struct {
		const char *name;
		const struct kernfs_ops *ops;
	} files[] = {
		{ "reserved_regions", &iommu_resv_legacy_ops },
		{ "reserved_regions_detail", &iommu_resv_detail_ops },
	};
	struct kernfs_node *kn;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		/* Size and mode as a sysfs attribute would have them. */
		kn = __kernfs_create_file(kobj->sd, files[i].name, 0444,
					  GLOBAL_ROOT_UID, GLOBAL_ROOT_GID,
					  PAGE_SIZE, files[i].ops, group, NULL,
					  NULL);
		if (IS_ERR(kn))
			return PTR_ERR(kn);
	}
	return 0;
}
