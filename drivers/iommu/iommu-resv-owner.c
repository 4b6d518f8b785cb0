// SPDX-License-Identifier: GPL-2.0-only
/*
 * Owners of IOMMU reserved regions.
 *
 * A reserved region names what claims its IOVA range: a device in the driver
 * model, an IOMMU instance, or a firmware object for which no device exists.
 * A provider states the owner by reference (a device or a firmware node),
 * which costs a reference count, or by a name it makes. The IOMMU core names
 * referenced owners when it seals a group's gathering, walking each distinct
 * owner's path once however many regions and members share it
 * (iommu_resv_region_name_owner()), and drops the references then: a kept
 * list stays self-describing after its owners are hot-unplugged, and pins
 * none of them.
 */
#include <linux/device.h>
#include <linux/fwnode.h>
#include <linux/iommu.h>
#include <linux/property.h>
#include <linux/compiler.h>
#include <linux/err.h>
#include <linux/slab.h>
#include <kunit/static_stub.h>
#include <kunit/visibility.h>

#include "iommu-priv.h"

/* Drop the reference a region holds on its owner, if any. */
static void put_owner_ref(struct iommu_resv_region *region)
{
	put_device(region->owner_dev);
	fwnode_handle_put(region->owner_fwnode);
	region->owner_dev = NULL;
	region->owner_fwnode = NULL;
}

/* Replace the region's owner with a reference: its name comes later. */
static void set_owner_ref(struct iommu_resv_region *region,
			  enum iommu_resv_owner_type type, struct device *dev,
			  struct fwnode_handle *fwnode)
{
	put_owner_ref(region);
	kfree(region->owner);
	region->owner = NULL;
	region->owner_type = type;
	region->owner_dev = get_device(dev);
	region->owner_fwnode = fwnode_handle_get(fwnode);
}

/**
 * iommu_resv_region_set_owner - state who claims a reserved region's range
 * @region: the region, from iommu_alloc_resv_region()
 * @type: what the name identifies
 * @gfp: allocation flags for the name
 * @fmt: printf-style name: the sysfs path of a device or IOMMU, the path of a
 *	 firmware node, or a description of a firmware table entry. It must not
 *	 contain white space, as it is printed in a whitespace-separated file.
 *
 * Replaces any owner the region had. For a device or a firmware node, the
 * iommu_resv_region_set_owner_*() helpers below cost no allocation.
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

	put_owner_ref(region);
	kfree(region->owner);
	region->owner = name;
	region->owner_type = type;
	return 0;
}
EXPORT_SYMBOL_GPL(iommu_resv_region_set_owner);

/**
 * iommu_resv_region_set_owner_dev - the owner is a device
 * @region: the region, from iommu_alloc_resv_region()
 * @owner: the device that claims the range, e.g. the bridge whose window it is
 *
 * The region takes a reference on @owner; the owner is reported as the
 * device's sysfs path ("/sys/devices/..."), taken when the gathering is
 * sealed (iommu_resv_region_name_owner()). No driver needs to be bound to
 * @owner. Replaces any owner the region had. Does not allocate.
 */
void iommu_resv_region_set_owner_dev(struct iommu_resv_region *region,
				     struct device *owner)
{
	set_owner_ref(region, IOMMU_RESV_OWNER_DEVICE, owner, NULL);
}
EXPORT_SYMBOL_GPL(iommu_resv_region_set_owner_dev);

/**
 * iommu_resv_region_set_owner_iommu - the owner is an IOMMU instance
 * @region: the region, from iommu_alloc_resv_region()
 * @iommu: the IOMMU, as registered with iommu_device_register()
 * @gfp: allocation flags, for an IOMMU with neither a sysfs entry nor a
 *	 firmware node
 *
 * The owner is reported as the IOMMU's sysfs path (it is linked from
 * /sys/class/iommu); for an IOMMU without a sysfs entry, as its firmware node's
 * path, or failing that the name of its driver's iommu_ops. The first two are
 * referenced and named later, as by iommu_resv_region_set_owner_dev().
 *
 * Return: 0, or -ENOMEM.
 */
int iommu_resv_region_set_owner_iommu(struct iommu_resv_region *region,
				      struct iommu_device *iommu, gfp_t gfp)
{
	if (iommu->dev)
		set_owner_ref(region, IOMMU_RESV_OWNER_IOMMU, iommu->dev, NULL);
	else if (iommu->fwnode)
		set_owner_ref(region, IOMMU_RESV_OWNER_IOMMU, NULL, iommu->fwnode);
	else
		return iommu_resv_region_set_owner(region, IOMMU_RESV_OWNER_IOMMU,
						   gfp, "%ps", iommu->ops);
	return 0;
}
EXPORT_SYMBOL_GPL(iommu_resv_region_set_owner_iommu);

/**
 * iommu_resv_region_set_owner_fwnode - the owner is a firmware node
 * @region: the region, from iommu_alloc_resv_region()
 * @fwnode: a DT node or ACPI object with no device of its own (an ITS, an
 *	    IOAPIC, a reserved-memory node)
 *
 * The region takes a reference on @fwnode; the owner is reported as the
 * node's full path ("%pfw": the DT path, or the ACPI namespace path), taken
 * when the gathering is sealed. Replaces any owner the region had.
 * Does not allocate.
 */
void iommu_resv_region_set_owner_fwnode(struct iommu_resv_region *region,
					struct fwnode_handle *fwnode)
{
	set_owner_ref(region, IOMMU_RESV_OWNER_FIRMWARE, NULL, fwnode);
}
EXPORT_SYMBOL_GPL(iommu_resv_region_set_owner_fwnode);

/* An owner with no name: a device not in sysfs, or an empty name */
static void owner_unknown(struct iommu_resv_region *region)
{
	put_owner_ref(region);
	region->owner_type = IOMMU_RESV_OWNER_UNKNOWN;
}

static char *owner_dev_name(struct device *dev)
{
	char *path, *name;

	/*
	 * A member, its bridges and its IOMMU were in sysfs before the member
	 * joined its group, and the group's mutex keeps them there. A peer
	 * function (found on its bus before device_add()) can be added or
	 * removed meanwhile: best effort, unlocked, hence data_race(); the PCI
	 * core moves the generation after either.
	 */
	if (!data_race(device_is_registered(dev)))
		return ERR_PTR(-ENOENT);
	path = kobject_get_path(&dev->kobj, GFP_KERNEL);
	if (!path)
		return NULL;
	/* A parent unlinked while the path was built leaves no leading '/' */
	if (path[0] == '/')
		name = kasprintf(GFP_KERNEL, "/sys%s", path);
	else
		name = ERR_PTR(-ENOENT);
	kfree(path);
	return name;
}

/*
 * iommu_resv_region_name_owner() without its KUnit redirect, for the test's
 * stub to call.
 */
VISIBLE_IF_KUNIT int __iommu_resv_region_name_owner(struct iommu_resv_region *region,
						    const struct iommu_resv_region *like)
{
	char *name;

	if (like) {
		if (!like->owner) {
			/* Named as unknown: the same owner, the same answer */
			owner_unknown(region);
			return 0;
		}
		name = kstrdup(like->owner, GFP_KERNEL);
	} else if (region->owner_dev) {
		name = owner_dev_name(region->owner_dev);
	} else if (region->owner_fwnode) {
		name = kasprintf(GFP_KERNEL, "%pfw", region->owner_fwnode);
	} else {
		return 0;
	}
	if (!name)
		return -ENOMEM;
	if (IS_ERR(name) || !*name) {
		if (!IS_ERR(name))
			kfree(name);
		owner_unknown(region);
		return 0;
	}
	put_owner_ref(region);
	region->owner = name;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(__iommu_resv_region_name_owner);

/**
 * iommu_resv_region_name_owner - name the owner a region references
 * @region: the region
 * @like: NULL, or a region already named that referenced the same owner:
 *	  its name (or its unknown owner) is copied instead of made again
 *
 * For the IOMMU core, which names the owners of a gathering once per distinct
 * owner when it seals it. Replaces @region's reference with its owner's name
 * and drops the reference; a region that references no owner is left as it
 * is. A device that is not in sysfs has no path: its regions' owner becomes
 * unknown, as does an owner whose name comes out empty (adding or removing a
 * PCI device moves the generation that the gathering's users check: they
 * gather again).
 *
 * Context: Process context; may sleep. The core calls it with the group's
 * mutex held, which keeps a member, its bridges and its IOMMU in sysfs.
 * Return: 0, or -ENOMEM (the region keeps its reference).
 */
int iommu_resv_region_name_owner(struct iommu_resv_region *region,
				 const struct iommu_resv_region *like)
{
	KUNIT_STATIC_STUB_REDIRECT(iommu_resv_region_name_owner, region, like);
	return __iommu_resv_region_name_owner(region, like);
}
EXPORT_SYMBOL_IF_KUNIT(iommu_resv_region_name_owner);

/**
 * iommu_resv_region_free - free one reserved region and its owner
 * @dev: the device the region was reported for, or NULL
 * @region: the region
 *
 * Frees the owner's name, or drops the reference to it. For lists, use
 * iommu_put_resv_regions().
 *
 * Context: Process context; may sleep (it may drop the last reference to the
 * owner).
 */
void iommu_resv_region_free(struct device *dev, struct iommu_resv_region *region)
{
	put_owner_ref(region);
	kfree(region->owner);
	region->owner = NULL;
	if (region->free)
		region->free(dev, region);
	else
		kfree(region);
}
EXPORT_SYMBOL_GPL(iommu_resv_region_free);
