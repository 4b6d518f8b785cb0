// SPDX-License-Identifier: GPL-2.0-only
/*
 * Owners of IOMMU reserved regions.
 *
 * A reserved region names what claims its IOVA range: a device in the driver
 * model, an IOMMU instance, or a firmware object for which no device exists.
 * The owner is captured by name when the provider makes the region, so a list
 * of regions stays self-describing however long it is kept, including after
 * the owner is hot-unplugged, without holding references.
 */
#include <linux/device.h>
#include <linux/fwnode.h>
#include <linux/iommu.h>
#include <linux/slab.h>

/**
 * iommu_resv_region_set_owner - state who claims a reserved region's range
 * @region: the region, from iommu_alloc_resv_region()
 * @type: what the name identifies
 * @gfp: allocation flags for the name
 * @fmt: printf-style name: the sysfs path of a device or IOMMU, the path of a
 *	 firmware node, or a description of a firmware table entry. It must not
 *	 contain white space, as it is printed in a whitespace-separated file.
 *
 * Replaces any owner the region had.
 *
 * Return: 0, or -ENOMEM. On failure the region keeps its previous owner.
 */
int iommu_resv_region_set_owner(struct iommu_resv_region *region,
				enum iommu_resv_owner_type type, gfp_t gfp,
				const char *fmt, ...)
{
	va_list args;
	char *name;

	va_start(args, fmt);
	name = kvasprintf(gfp, fmt, args);
	va_end(args);
	if (!name)
		return -ENOMEM;

	kfree(region->owner);
	region->owner = name;
	region->owner_type = type;
	return 0;
}
EXPORT_SYMBOL_GPL(iommu_resv_region_set_owner);

static int set_owner_kobj(struct iommu_resv_region *region,
			  enum iommu_resv_owner_type type,
			  struct kobject *kobj, gfp_t gfp)
{
	char *path = kobject_get_path(kobj, gfp);
	int ret;

	if (!path)
		return -ENOMEM;
	ret = iommu_resv_region_set_owner(region, type, gfp, "/sys%s", path);
	kfree(path);
	return ret;
}

/**
 * iommu_resv_region_set_owner_dev - the owner is a device
 * @region: the region, from iommu_alloc_resv_region()
 * @owner: the device that claims the range, e.g. the bridge whose window it is
 * @gfp: allocation flags
 *
 * The owner is recorded as the device's sysfs path ("/sys/devices/...");
 * no driver needs to be bound to @owner.
 *
 * Return: 0, or -ENOMEM.
 */
int iommu_resv_region_set_owner_dev(struct iommu_resv_region *region,
				    struct device *owner, gfp_t gfp)
{
	return set_owner_kobj(region, IOMMU_RESV_OWNER_DEVICE, &owner->kobj, gfp);
}
EXPORT_SYMBOL_GPL(iommu_resv_region_set_owner_dev);

/**
 * iommu_resv_region_set_owner_iommu - the owner is an IOMMU instance
 * @region: the region, from iommu_alloc_resv_region()
 * @iommu: the IOMMU, as registered with iommu_device_register()
 * @gfp: allocation flags
 *
 * The owner is recorded as the IOMMU's sysfs path (it is linked from
 * /sys/class/iommu); for an IOMMU without a sysfs entry, as its firmware node's
 * path, or failing that the name of its driver's iommu_ops.
 *
 * Return: 0, or -ENOMEM.
 */
int iommu_resv_region_set_owner_iommu(struct iommu_resv_region *region,
				      struct iommu_device *iommu, gfp_t gfp)
{
	if (iommu->dev)
		return set_owner_kobj(region, IOMMU_RESV_OWNER_IOMMU,
				      &iommu->dev->kobj, gfp);
	if (iommu->fwnode)
		return iommu_resv_region_set_owner(region, IOMMU_RESV_OWNER_IOMMU,
						   gfp, "%pfw", iommu->fwnode);
	return iommu_resv_region_set_owner(region, IOMMU_RESV_OWNER_IOMMU, gfp,
					   "%ps", iommu->ops);
}
EXPORT_SYMBOL_GPL(iommu_resv_region_set_owner_iommu);

/**
 * iommu_resv_region_set_owner_fwnode - the owner is a firmware node
 * @region: the region, from iommu_alloc_resv_region()
 * @fwnode: a DT node or ACPI object with no device of its own (an ITS, an
 *	    IOAPIC, a reserved-memory node)
 * @gfp: allocation flags
 *
 * The owner is recorded as the node's full path ("%pfw"): the DT path, or the
 * ACPI namespace path.
 *
 * Return: 0, or -ENOMEM.
 */
int iommu_resv_region_set_owner_fwnode(struct iommu_resv_region *region,
				       struct fwnode_handle *fwnode, gfp_t gfp)
{
	return iommu_resv_region_set_owner(region, IOMMU_RESV_OWNER_FIRMWARE,
					   gfp, "%pfw", fwnode);
}
EXPORT_SYMBOL_GPL(iommu_resv_region_set_owner_fwnode);

/**
 * iommu_resv_region_free - free one reserved region and its owner name
 * @dev: the device the region was reported for, or NULL
 * @region: the region
 *
 * For lists, use iommu_put_resv_regions().
 */
void iommu_resv_region_free(struct device *dev, struct iommu_resv_region *region)
{
	kfree(region->owner);
	region->owner = NULL;
	if (region->free)
		region->free(dev, region);
	else
		kfree(region);
}
EXPORT_SYMBOL_GPL(iommu_resv_region_free);
