// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test-only extra reserved regions, set from debugfs.
 *
 * Real platforms give a group a handful of reserved regions; tests and
 * benchmarks need groups with hundreds or thousands, reported through the
 * normal path so that sysfs, VFIO and iommufd all see them. Writing
 *
 *   <device> <count> [<base> [<stride> [<size> [quiet]]]]
 *
 * to /sys/kernel/debug/iommu/resv_inject makes iommu_get_resv_regions()
 * append <count> IOMMU_RESV_RESERVED regions of <size> bytes, <stride> bytes
 * apart from <base>, to the regions of the device named <device> (its
 * dev_name()), owned by "firmware debugfs/resv_inject". A count of 0 removes
 * the injection. Reading the file lists the injections. Numbers may be given
 * in hex with a 0x prefix. Takes effect at the next gathering; users of
 * gathered regions are told to gather again (iommu_resv_regions_changed()),
 * unless "quiet" is given: then only a later change that moves the group's
 * region generation (a PCI resource change, a member added or removed) makes
 * them see it, which is how a test isolates those changes.
 */
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "iommu-priv.h"

#define RESV_INJECT_MAX		65536
#define RESV_INJECT_BASE	0x4000000000ULL	/* 256 GiB: inside 39-bit apertures */

struct resv_inject {
	struct list_head list;
	char name[64];
	unsigned int count;
	u64 base, stride, size;
};

static LIST_HEAD(resv_injects);
static DEFINE_MUTEX(resv_inject_lock);

/**
 * iommu_resv_inject_regions - append the injected regions of a device
 * @dev: the device
 * @head: its region list
 *
 * Return: 0, or -ENOMEM.
 */
int iommu_resv_inject_regions(struct device *dev, struct list_head *head)
{
	struct resv_inject *inj;
	unsigned int i;
	int ret = 0;

	mutex_lock(&resv_inject_lock);
	list_for_each_entry(inj, &resv_injects, list) {
		if (strcmp(inj->name, dev_name(dev)))
			continue;
		for (i = 0; i < inj->count && !ret; i++) {
			struct iommu_resv_region *region;

			region = iommu_alloc_resv_region(inj->base + i * inj->stride,
							 inj->size, 0,
							 IOMMU_RESV_RESERVED,
							 GFP_KERNEL);
			if (!region) {
				ret = -ENOMEM;
				break;
			}
			list_add_tail(&region->list, head);
			ret = iommu_resv_region_set_owner(region,
							  IOMMU_RESV_OWNER_FIRMWARE,
							  GFP_KERNEL, "%s",
							  "debugfs/resv_inject");
		}
	}
	mutex_unlock(&resv_inject_lock);
	return ret;
}

static int resv_inject_show(struct seq_file *m, void *v)
{
	struct resv_inject *inj;

	mutex_lock(&resv_inject_lock);
	list_for_each_entry(inj, &resv_injects, list)
		seq_printf(m, "%s %u 0x%llx 0x%llx 0x%llx\n", inj->name, inj->count,
			   inj->base, inj->stride, inj->size);
	mutex_unlock(&resv_inject_lock);
	return 0;
}

static int resv_inject_parse(char *buf, struct resv_inject *inj, bool *quiet)
{
	char *field[6] = {};
	u64 val[4] = { 0, RESV_INJECT_BASE, 0x200000, 0x1000 };
	unsigned int i, n = 0;
	char *p = strim(buf);
	u64 last;

	while (p && *p && n < ARRAY_SIZE(field))
		field[n++] = strsep(&p, " \t");
	*quiet = n == 6 && !strcmp(field[5], "quiet");
	if (*quiet)
		n--;
	if (n < 2 || n > 5 || (p && *p) || strlen(field[0]) >= sizeof(inj->name))
		return -EINVAL;
	for (i = 1; i < n; i++)
		if (kstrtou64(field[i], 0, &val[i - 1]))
			return -EINVAL;
	/* Regions must not overlap each other nor wrap around. */
	if (val[0] > RESV_INJECT_MAX || !val[3] || val[3] > val[2])
		return -EINVAL;
	if (val[0] && (check_mul_overflow(val[0] - 1, val[2], &last) ||
		       check_add_overflow(last, val[1], &last) ||
		       check_add_overflow(last, val[3] - 1, &last)))
		return -EINVAL;
	strscpy(inj->name, field[0], sizeof(inj->name));
	inj->count = val[0];
	inj->base = val[1];
	inj->stride = val[2];
	inj->size = val[3];
	return 0;
}

static ssize_t resv_inject_write(struct file *file, const char __user *ubuf,
				 size_t len, loff_t *ppos)
{
	struct resv_inject *inj, *old, *tmp;
	bool quiet;
	char *buf;
	int ret;

	if (len > 256)
		return -EINVAL;
	buf = memdup_user_nul(ubuf, len);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	inj = kzalloc(sizeof(*inj), GFP_KERNEL);
	if (!inj) {
		kfree(buf);
		return -ENOMEM;
	}
	ret = resv_inject_parse(buf, inj, &quiet);
	kfree(buf);
	if (ret) {
		kfree(inj);
		return ret;
	}

	mutex_lock(&resv_inject_lock);
	list_for_each_entry_safe(old, tmp, &resv_injects, list) {
		if (!strcmp(old->name, inj->name)) {
			list_del(&old->list);
			kfree(old);
		}
	}
	if (inj->count)
		list_add_tail(&inj->list, &resv_injects);
	else
		kfree(inj);
	mutex_unlock(&resv_inject_lock);
	/* Users of gathered regions gather again (the device may not exist yet) */
	if (!quiet)
		iommu_resv_regions_changed(NULL);
	return len;
}

static int resv_inject_open(struct inode *inode, struct file *file)
{
	return single_open(file, resv_inject_show, NULL);
}

static const struct file_operations resv_inject_fops = {
	.owner		= THIS_MODULE,
	.open		= resv_inject_open,
	.read		= seq_read,
	.llseek		= seq_lseek,
	.release	= single_release,
	.write		= resv_inject_write,
};

static int __init iommu_resv_inject_init(void)
{
	iommu_debugfs_setup();
	debugfs_create_file("resv_inject", 0600, iommu_debugfs_dir, NULL,
			    &resv_inject_fops);
	return 0;
}
late_initcall(iommu_resv_inject_init);
