// SPDX-License-Identifier: GPL-2.0-only
/*
 * The reserved-region files of an IOMMU group's sysfs directory:
 *
 *  reserved_regions         the merged list, in the format of v4.11
 *  reserved_regions_detail  one line per region per member device, with its
 *                           finer type and its owner
 *
 * Both can be longer than a page, so they are binary attributes, the sysfs
 * interface for such files (as cpumap and cpulist in drivers/base/). sysfs
 * keeps no state per open file for them: each read() takes the group's
 * gathering (iommu_group_resv_snapshot_get(): the kept one while nothing it
 * depends on has changed, else a new one), copies its part of the text and
 * drops it before it returns. An open descriptor therefore pins nothing;
 * group->mutex is held only while a read() gathers, never across reads, and
 * readers, however many, make a group gather at most once per change. The
 * text of each file is formatted by the first read of a gathering and kept
 * with it, so that the reads that follow, and the later pages of a long
 * file, only copy. That text belongs to the shared gathering, as its entries
 * do: at most one per file per gathering, freed with it, and not charged to
 * the reader that happened to format it first.
 *
 * A read() returns whole lines only, unless the caller's buffer is shorter
 * than the line (then it continues the line on the next read()). A read()
 * starts at its offset in the text as it is now: a sequence of reads that
 * races a change can get text of both lists, down to part of a line, as the
 * ABI says. If the regions cannot all be gathered, read() fails with the
 * error (e.g. ENOMEM) instead of returning a partial list.
 */
#include <linux/slab.h>
#include <linux/sysfs.h>
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

/**
 * struct iommu_resv_render - a file's text being formatted
 * @buf: where it goes, or NULL to measure it
 * @size: room in @buf
 * @len: length so far
 */
struct iommu_resv_render {
	char *buf;
	size_t size;
	size_t len;
};

static __printf(2, 3)
void iommu_resv_render_line(struct iommu_resv_render *r, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	r->len += vsnprintf(r->buf ? r->buf + r->len : NULL,
			    r->buf ? r->size - r->len : 0, fmt, args);
	va_end(args);
}

/* reserved_regions: one line per span of the merged view */
static void iommu_resv_render_merged(const struct iommu_resv_snapshot *snap,
				     struct iommu_resv_render *r)
{
	unsigned int i;

	for (i = 0; i < snap->nr_spans; i++) {
		const struct iommu_resv_span *span = &snap->spans[i];

		iommu_resv_render_line(r, "0x%016llx 0x%016llx %s\n",
				       (long long)span->start, (long long)span->end,
				       iommu_resv_legacy_names[span->type]);
	}
}

/* reserved_regions_detail: one line per line of the detailed view */
static void iommu_resv_render_detail(const struct iommu_resv_line *lines,
				     unsigned int nr, struct iommu_resv_render *r)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		const struct iommu_resv_region *region = lines[i].entry->region;

		iommu_resv_render_line(r, "0x%016llx 0x%016llx %s %s %s %s\n",
				       (long long)lines[i].start, (long long)lines[i].end,
				       iommu_resv_type_name(region), lines[i].entry->dev_name,
				       iommu_resv_owner_names[region->owner_type],
				       region->owner ?: "-");
	}
}

static void iommu_resv_render(const struct iommu_resv_snapshot *snap,
			      enum iommu_resv_view view,
			      const struct iommu_resv_line *lines, unsigned int nr,
			      struct iommu_resv_render *r)
{
	if (view == IOMMU_RESV_VIEW_DETAIL)
		iommu_resv_render_detail(lines, nr, r);
	else
		iommu_resv_render_merged(snap, r);
}

/*
 * The text of @view for @snap: formatted by the first reader (measured, then
 * written), then shared by every read of this gathering.
 */
static const struct iommu_resv_text *iommu_resv_get_text(struct iommu_resv_snapshot *snap,
							 enum iommu_resv_view view)
{
	struct iommu_resv_text *text = &snap->text[view];
	const struct iommu_resv_line *lines = NULL;
	struct iommu_resv_render r = {};
	unsigned int nr = 0;
	size_t len;
	char *buf;

	/* Pairs with the release below: @len is set before @buf. */
	if (smp_load_acquire(&text->buf))
		return text;
	/* Before views_lock, which computing the lines takes too */
	if (view == IOMMU_RESV_VIEW_DETAIL) {
		lines = iommu_resv_snapshot_lines(snap, &nr);
		if (IS_ERR(lines))
			return ERR_CAST(lines);
	}
	mutex_lock(&snap->views_lock);
	if (text->buf)
		goto unlock;
	iommu_resv_render(snap, view, lines, nr, &r);
	len = r.len;
	buf = kvmalloc(len + 1, GFP_KERNEL);
	if (!buf) {
		text = ERR_PTR(-ENOMEM);
		goto unlock;
	}
	r = (struct iommu_resv_render) { .buf = buf, .size = len + 1 };
	iommu_resv_render(snap, view, lines, nr, &r);
	/* A sealed snapshot does not change: both passes must agree. */
	if (WARN_ON_ONCE(r.len != len)) {
		kvfree(buf);
		text = ERR_PTR(-EIO);
		goto unlock;
	}
	text->len = len;
	/* Pairs with the acquire above: a reader that sees @buf sees @len. */
	smp_store_release(&text->buf, buf);
unlock:
	mutex_unlock(&snap->views_lock);
	return text;
}

/**
 * iommu_resv_copy_lines - copy the part of a file's text one read() returns
 * @text: the text
 * @buf: where to copy it
 * @off: file offset of the read
 * @count: room in @buf
 *
 * Whole lines from @off, unless the first one does not fit in @count alone:
 * then as much of it as fits, to make progress.
 *
 * Return: the number of bytes copied, 0 at or past the end of the text.
 */
VISIBLE_IF_KUNIT size_t iommu_resv_copy_lines(const struct iommu_resv_text *text,
					      char *buf, loff_t off, size_t count)
{
	size_t n;

	if (off >= text->len)
		return 0;
	n = min_t(size_t, count, text->len - off);
	if (off + n < text->len) {
		size_t whole = n;

		while (whole && text->buf[off + whole - 1] != '\n')
			whole--;
		if (whole)
			n = whole;
	}
	memcpy(buf, text->buf + off, n);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(iommu_resv_copy_lines);

static ssize_t iommu_resv_read(struct kobject *kobj, char *buf, loff_t off,
			       size_t count, enum iommu_resv_view view)
{
	const struct iommu_resv_text *text;
	struct iommu_resv_snapshot *snap;
	ssize_t ret;

	if (!count)
		return 0;
	snap = iommu_group_resv_snapshot_get(iommu_group_from_kobj(kobj));
	if (IS_ERR(snap))
		return PTR_ERR(snap);
	text = iommu_resv_get_text(snap, view);
	if (IS_ERR(text))
		ret = PTR_ERR(text);
	else
		ret = iommu_resv_copy_lines(text, buf, off, count);
	iommu_resv_snapshot_put(snap);
	return ret;
}

static ssize_t reserved_regions_read(struct file *filp, struct kobject *kobj,
				     struct bin_attribute *attr, char *buf,
				     loff_t off, size_t count)
{
	return iommu_resv_read(kobj, buf, off, count, IOMMU_RESV_VIEW_MERGED);
}

static ssize_t reserved_regions_detail_read(struct file *filp,
					    struct kobject *kobj,
					    struct bin_attribute *attr,
					    char *buf, loff_t off, size_t count)
{
	return iommu_resv_read(kobj, buf, off, count, IOMMU_RESV_VIEW_DETAIL);
}

/* Size 0: as long as the list, which only a read() knows. */
static BIN_ATTR_RO(reserved_regions, 0);
static BIN_ATTR_RO(reserved_regions_detail, 0);

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
	int ret;

	ret = sysfs_create_bin_file(kobj, &bin_attr_reserved_regions);
	if (ret)
		return ret;
	return sysfs_create_bin_file(kobj, &bin_attr_reserved_regions_detail);
}
