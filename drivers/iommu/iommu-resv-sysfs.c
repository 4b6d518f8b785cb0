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
 * readers, however many, make a group gather at most once per change.
 *
 * A read() returns whole lines only, unless the caller's buffer is shorter
 * than the line (then it continues the line on the next read()), so a
 * reader never gets half a line of one gathering followed by the rest of a
 * line of another. If the regions cannot all be gathered, read() fails with
 * the error (e.g. ENOMEM) instead of returning a partial list.
 */
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/string.h>

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
 * struct iommu_resv_out - the part of a file one read() returns
 * @buf: sysfs's buffer
 * @off: file offset of the read
 * @count: room in @buf
 * @pos: file offset of the next line
 * @done: bytes copied to @buf
 * @err: a line could not be formatted (-ENOMEM)
 */
struct iommu_resv_out {
	char *buf;
	loff_t off;
	size_t count;
	loff_t pos;
	size_t done;
	int err;
};

/*
 * Account for one line of the file; copy it if it is in the range the read
 * asks for. Returns false once the read is full (the line did not fit whole)
 * or failed.
 */
static __printf(2, 3)
bool iommu_resv_out_line(struct iommu_resv_out *out, const char *fmt, ...)
{
	char short_line[128], *line = short_line;
	size_t len, from, n;
	va_list args;

	va_start(args, fmt);
	len = vsnprintf(NULL, 0, fmt, args);
	va_end(args);
	if (out->pos + len <= out->off) {
		out->pos += len;
		return true;
	}
	from = out->off > out->pos ? out->off - out->pos : 0;
	n = min(len - from, out->count - out->done);
	/* Whole lines after the first one; a part only to make progress. */
	if (out->done && n < len - from)
		return false;
	/* Long owner paths only: most lines fit on the stack. */
	if (len >= sizeof(short_line)) {
		line = kmalloc(len + 1, GFP_KERNEL_ACCOUNT);
		if (!line) {
			out->err = -ENOMEM;
			return false;
		}
	}
	va_start(args, fmt);
	vsnprintf(line, len + 1, fmt, args);
	va_end(args);
	memcpy(out->buf + out->done, line + from, n);
	if (line != short_line)
		kfree(line);
	out->done += n;
	out->pos += len;
	return out->done < out->count;
}

static int iommu_resv_legacy_print(struct iommu_resv_snapshot *snap,
				   struct iommu_resv_out *out)
{
	unsigned int i;

	for (i = 0; i < snap->nr_spans; i++) {
		const struct iommu_resv_span *span = &snap->spans[i];

		if (!iommu_resv_out_line(out, "0x%016llx 0x%016llx %s\n",
					 (long long)span->start, (long long)span->end,
					 iommu_resv_legacy_names[span->type]))
			break;
	}
	return 0;
}

static int iommu_resv_detail_print(struct iommu_resv_snapshot *snap,
				   struct iommu_resv_out *out)
{
	const struct iommu_resv_line *lines;
	unsigned int i, nr;

	lines = iommu_resv_snapshot_lines(snap, &nr);
	if (IS_ERR(lines))
		return PTR_ERR(lines);
	for (i = 0; i < nr; i++) {
		const struct iommu_resv_region *r = lines[i].entry->region;

		if (!iommu_resv_out_line(out, "0x%016llx 0x%016llx %s %s %s %s\n",
					 (long long)lines[i].start, (long long)lines[i].end,
					 iommu_resv_type_name(r), lines[i].entry->dev_name,
					 iommu_resv_owner_names[r->owner_type],
					 r->owner ?: "-"))
			break;
	}
	return 0;
}

static ssize_t iommu_resv_read(struct kobject *kobj, char *buf, loff_t off,
			       size_t count,
			       int (*print)(struct iommu_resv_snapshot *snap,
					    struct iommu_resv_out *out))
{
	struct iommu_resv_out out = { .buf = buf, .off = off, .count = count };
	struct iommu_resv_snapshot *snap;
	int ret;

	if (!count)
		return 0;
	snap = iommu_group_resv_snapshot_get(iommu_group_from_kobj(kobj));
	if (IS_ERR(snap))
		return PTR_ERR(snap);
	ret = print(snap, &out);
	iommu_resv_snapshot_put(snap);
	if (ret)
		return ret;
	/* Whole lines copied before a failure stand: the next read() goes on. */
	return out.done ?: out.err;
}

static ssize_t reserved_regions_read(struct file *filp, struct kobject *kobj,
				     struct bin_attribute *attr, char *buf,
				     loff_t off, size_t count)
{
	return iommu_resv_read(kobj, buf, off, count, iommu_resv_legacy_print);
}

static ssize_t reserved_regions_detail_read(struct file *filp,
					    struct kobject *kobj,
					    struct bin_attribute *attr,
					    char *buf, loff_t off, size_t count)
{
	return iommu_resv_read(kobj, buf, off, count, iommu_resv_detail_print);
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
