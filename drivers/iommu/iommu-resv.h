/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reserved regions of an IOMMU group: internal interface of the IOMMU core.
 */
#ifndef __LINUX_IOMMU_RESV_H
#define __LINUX_IOMMU_RESV_H

#include <linux/iommu.h>
#include <linux/kref.h>
#include <linux/mutex.h>

struct iommu_group;
struct iommu_resv_index_node;

#define IOMMU_RESV_NR_TYPES	(IOMMU_RESV_SW_MSI + 1)

/**
 * struct iommu_resv_member - a member device of a gathered group
 * @dev: the device, referenced while the snapshot lives (NULL in tests)
 * @name: its name in the group's "devices" directory, copied
 */
struct iommu_resv_member {
	struct device *dev;
	const char *name;
};

/**
 * struct iommu_resv_entry - one reserved region of one group member
 * @region: the region as its provider reported it, owner included
 * @dev: the member device it was reported for
 * @dev_name: the member's name in the group's "devices" directory
 * @seq: its place in the order the regions were gathered in, which sealing
 *	 does not keep (ties of the sealed order follow it)
 *
 * @dev and @dev_name are those of an entry of the snapshot's members, valid
 * while the snapshot lives, whatever leaves the group meanwhile.
 */
struct iommu_resv_entry {
	struct iommu_resv_region *region;
	struct device *dev;
	const char *dev_name;
	unsigned int seq;
};

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

/**
 * struct iommu_resv_span - a line of the reserved_regions file
 * @start: first address
 * @end: last address
 * @prot: the IOMMU protection flags of its first region
 * @type: the type of every region merged into it
 */
struct iommu_resv_span {
	phys_addr_t start;
	phys_addr_t end;
	int prot;
	enum iommu_resv_type type;
};

/**
 * enum iommu_resv_view - the files a snapshot is read through
 * @IOMMU_RESV_VIEW_MERGED: reserved_regions
 * @IOMMU_RESV_VIEW_DETAIL: reserved_regions_detail
 * @IOMMU_RESV_NR_VIEWS: number of views
 */
enum iommu_resv_view {
	IOMMU_RESV_VIEW_MERGED,
	IOMMU_RESV_VIEW_DETAIL,
	IOMMU_RESV_NR_VIEWS,
};

/**
 * struct iommu_resv_text - a file's text, rendered from one snapshot
 * @buf: the text, NULL until a read first asks for it
 * @len: its length, set before @buf is published
 */
struct iommu_resv_text {
	const char *buf;
	size_t len;
};

/**
 * struct iommu_resv_snapshot - every reserved region of a group, per member
 * @ref: one for the group's cache, one for each user
 * @gen: iommu_group_resv_generation() read before the group was gathered
 * @members: the group's members, in the group's order
 * @nr_members: number of members
 * @entries: one entry per region per member device; once sealed, by start,
 *	     type, length, protection flags and gathering order (@seq)
 * @nr: number of entries in use
 * @size: allocated number of entries
 * @spans: the merged view, in file order (iommu_resv_snapshot_seal())
 * @nr_spans: number of spans
 * @views_lock: serializes the first computation of @lines and of each @text
 * @lines: the detailed view, in file order, computed when first asked for
 *	   (iommu_resv_snapshot_lines()), or NULL
 * @nr_lines: number of lines
 * @text: each file's text, rendered by its first read (iommu-resv-sysfs.c)
 *
 * Gathered in one pass with the group's member list stable, then sealed:
 * both views are computed from the same entries, so they always agree, and
 * the entries are read-only from then on. The group keeps the newest one and
 * hands it out until its generation moves (iommu_group_resv_snapshot_get()),
 * so readers of the sysfs files and VFIO and iommufd attaching the group
 * share one gathering. Only readers of the detailed view need its lines,
 * and a file's text is formatted once per gathering, not once per read.
 */
struct iommu_resv_snapshot {
	struct kref ref;
	unsigned long gen;
	struct iommu_resv_member *members;
	unsigned int nr_members;
	struct iommu_resv_entry *entries;
	unsigned int nr;
	unsigned int size;
	struct iommu_resv_span *spans;
	unsigned int nr_spans;
	struct mutex views_lock;	/* first computation of @lines and @text */
	const struct iommu_resv_line *lines;
	unsigned int nr_lines;
	struct iommu_resv_text text[IOMMU_RESV_NR_VIEWS];
};

static inline phys_addr_t iommu_resv_end(const struct iommu_resv_region *region)
{
	return region->start + region->length - 1;
}

struct iommu_resv_snapshot *iommu_resv_snapshot_alloc(unsigned long gen);
void iommu_resv_snapshot_put(struct iommu_resv_snapshot *snap);
int iommu_resv_snapshot_add(struct iommu_resv_snapshot *snap,
			    struct device *dev, const char *dev_name,
			    struct list_head *regions);
int iommu_resv_snapshot_seal(struct iommu_resv_snapshot *snap);
const struct iommu_resv_line *iommu_resv_snapshot_lines(struct iommu_resv_snapshot *snap,
							unsigned int *nr_lines);
bool iommu_resv_snapshot_has_member(const struct iommu_resv_snapshot *snap,
				    const struct device *dev);
int iommu_resv_snapshot_merge(const struct iommu_resv_snapshot *snap,
			      struct list_head *head);
bool iommu_resv_entry_kept(const struct iommu_resv_entry *e, const struct device *dev,
			   bool (*skip)(const struct iommu_resv_region *region));
int iommu_resv_snapshot_spans(const struct iommu_resv_snapshot *snap,
			      const struct device *dev,
			      bool (*skip)(const struct iommu_resv_region *region),
			      struct iommu_resv_span **spans, unsigned int *nr_spans);
int iommu_resv_spans_list(const struct iommu_resv_span *spans, unsigned int nr_spans,
			  struct list_head *head);

#if IS_ENABLED(CONFIG_KUNIT)
void *iommu_resv_alloc_array(void *old, size_t n, size_t size);
struct iommu_resv_region *iommu_resv_alloc_span(const struct iommu_resv_span *span);
size_t iommu_resv_copy_lines(const struct iommu_resv_text *text, char *buf,
			     loff_t off, size_t count);
const struct iommu_resv_entry *
iommu_resv_index_blame(const struct iommu_resv_index_node *n, u64 start, u64 last);
#endif
int iommu_group_resv_sysfs_add(struct iommu_group *group, struct kobject *kobj);
const char *iommu_resv_type_name(const struct iommu_resv_region *region);

/* In iommu.c, which owns struct iommu_group. */
struct iommu_group *iommu_group_from_kobj(struct kobject *kobj);
struct iommu_resv_snapshot *iommu_group_resv_snapshot_get(struct iommu_group *group);
struct iommu_resv_snapshot *iommu_device_resv_snapshot_get(struct device *dev);

#endif /* __LINUX_IOMMU_RESV_H */
