// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests that every member of a group is attached to the group's domain,
 * as every IOMMU driver assumes, including a device that joins a group
 * userspace has attached (the reserved-region checks for such a device run
 * where it is opened, not by keeping it out of the domain).
 *
 * A fake IOMMU driver records, per device, the domain its attach_dev() and
 * set_dev_pasid() calls last gave it; the tests compare that with what the
 * core says (iommu_get_domain_for_dev(), the group's PASID attach handle),
 * also inside attach_dev(), where drivers such as SMMUv3 look up the domain
 * the device leaves, an error unwind included.
 * Devices are platform devices with a fwspec naming the fake IOMMU, probed
 * by the core's bus notifier as any hot-added device is.
 *
 * Also: a driver that cannot report every reserved region fails the report
 * for userspace's users, while the kernel's own DMA domain setup still uses
 * the regions it made; and a member that owns a region stays in sysfs until
 * its group's gathering has named it.
 */
#include <kunit/static_stub.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/kthread.h>
#include <linux/platform_device.h>
#include <linux/property.h>
#include <linux/xarray.h>

#include "iommu-priv.h"
#include "iommu-resv-kunit.h"

#define FAKE_DEVS	3
#define FAKE_PASID	1
#define FAKE_DIRECT	0x100000	/* a firmware direct-mapped range */
#define FAKE_PAGE_SHIFT	12		/* the paging domains' only page size */

struct fake_iommu_state {
	/* Its iommu is the fake IOMMU, whose clients' fwspecs name fwnode */
	struct iommu_resv_kunit kt;
	struct fwnode_handle fwnode;
	struct iommu_group *group;
	struct device *devs[FAKE_DEVS];
	/* The driver's view: last domain given to each device, and its PASID */
	struct iommu_domain *attached[FAKE_DEVS];
	struct iommu_domain *pasid_attached[FAKE_DEVS];
	/* attach_dev() calls where the core named another domain as the one left */
	int wrong_leaving;
	/* attach_dev() of this fake device to a paging domain fails, or -1 */
	int fail_index;
	/* Init registered the fake IOMMU and its sysfs device: exit undoes both */
	bool registered;
	/* Unregistering device 1 from another thread, while its owner is named */
	struct notifier_block bus_nb;
	struct completion removal_begun;
	struct completion removed;
	bool removal_started;
	bool removal_seen;
};

static_assert(offsetof(struct fake_iommu_state, kt) == 0, "test->priv is both");

/* The test whose fake IOMMU @dev is behind (a member, or one being attached) */
static struct fake_iommu_state *dev_fake(struct device *dev)
{
	return iommu_get_iommu_dev(dev, struct fake_iommu_state, kt.iommu);
}

static int fake_index(struct fake_iommu_state *fake, struct device *dev)
{
	int i;

	for (i = 0; i < FAKE_DEVS; i++)
		if (fake->devs[i] == dev)
			return i;
	return -1;
}

static int fake_attach_dev(struct iommu_domain *domain, struct device *dev)
{
	struct fake_iommu_state *fake = dev_fake(dev);
	int i = fake_index(fake, dev);

	if (i < 0)
		return -ENODEV;
	/* What SMMUv3 relies on to find the domain the device leaves */
	if (fake->attached[i] && fake->attached[i] != iommu_get_domain_for_dev(dev))
		fake->wrong_leaving++;
	if (i == fake->fail_index && domain->type == IOMMU_DOMAIN_UNMANAGED)
		return -EIO;
	fake->attached[i] = domain;
	return 0;
}

static int fake_set_dev_pasid(struct iommu_domain *domain, struct device *dev,
			      ioasid_t pasid, struct iommu_domain *old)
{
	struct fake_iommu_state *fake = dev_fake(dev);
	int i = fake_index(fake, dev);

	if (i < 0 || pasid != FAKE_PASID)
		return -EINVAL;
	fake->pasid_attached[i] = domain;
	return 0;
}

static void fake_remove_dev_pasid(struct device *dev, ioasid_t pasid,
				  struct iommu_domain *domain)
{
	struct fake_iommu_state *fake = dev_fake(dev);
	int i = fake_index(fake, dev);

	if (i >= 0 && pasid == FAKE_PASID)
		fake->pasid_attached[i] = NULL;
}

/*
 * A paging domain, with a page table of its own: iommu_map(), iommu_unmap()
 * and iommu_iova_to_phys() work on it as on a real driver's domain rather
 * than WARN or oops (fake_domain_maps_pages checks that they do).
 */
struct fake_domain {
	struct iommu_domain domain;
	struct xarray pfns;	/* IOVA page number -> xa_mk_value(PFN) */
};

static struct fake_domain *to_fake_domain(struct iommu_domain *domain)
{
	return container_of(domain, struct fake_domain, domain);
}

static int fake_map_pages(struct iommu_domain *domain, unsigned long iova,
			  phys_addr_t paddr, size_t pgsize, size_t pgcount,
			  int prot, gfp_t gfp, size_t *mapped)
{
	struct fake_domain *fd = to_fake_domain(domain);
	unsigned long page = iova >> FAKE_PAGE_SHIFT, pfn = paddr >> FAKE_PAGE_SHIFT;
	size_t i, n = (pgsize >> FAKE_PAGE_SHIFT) * pgcount;
	int ret = 0;

	for (i = 0; i < n; i++) {
		ret = xa_insert(&fd->pfns, page + i, xa_mk_value(pfn + i), gfp);
		if (ret)
			break;
	}
	/* The pages before a failure stay mapped: the core unmaps them */
	*mapped = i << FAKE_PAGE_SHIFT;
	/* As an io-pgtable driver answers a map over a mapping */
	return ret == -EBUSY ? -EEXIST : ret;
}

static size_t fake_unmap_pages(struct iommu_domain *domain, unsigned long iova,
			       size_t pgsize, size_t pgcount,
			       struct iommu_iotlb_gather *gather)
{
	struct fake_domain *fd = to_fake_domain(domain);
	unsigned long page = iova >> FAKE_PAGE_SHIFT;
	size_t i, n = (pgsize >> FAKE_PAGE_SHIFT) * pgcount;

	/* Up to the first page not mapped, which ends the core's unmap */
	for (i = 0; i < n; i++)
		if (!xa_erase(&fd->pfns, page + i))
			break;
	return i << FAKE_PAGE_SHIFT;
}

static phys_addr_t fake_iova_to_phys(struct iommu_domain *domain, dma_addr_t iova)
{
	void *entry = xa_load(&to_fake_domain(domain)->pfns, iova >> FAKE_PAGE_SHIFT);

	if (!entry)
		return 0;
	return ((phys_addr_t)xa_to_value(entry) << FAKE_PAGE_SHIFT) |
	       (iova & GENMASK(FAKE_PAGE_SHIFT - 1, 0));
}

static void fake_domain_free(struct iommu_domain *domain)
{
	struct fake_domain *fd = to_fake_domain(domain);

	xa_destroy(&fd->pfns);
	kfree(fd);
}

static const struct iommu_domain_ops fake_paging_ops = {
	.attach_dev = fake_attach_dev,
	.set_dev_pasid = fake_set_dev_pasid,
	.map_pages = fake_map_pages,
	.unmap_pages = fake_unmap_pages,
	.iova_to_phys = fake_iova_to_phys,
	.free = fake_domain_free,
};

static const struct iommu_domain_ops fake_static_ops = {
	.attach_dev = fake_attach_dev,
	.set_dev_pasid = fake_set_dev_pasid,
};

static struct iommu_domain fake_identity = {
	.type = IOMMU_DOMAIN_IDENTITY,
	.ops = &fake_static_ops,
};

static struct iommu_domain fake_blocked = {
	.type = IOMMU_DOMAIN_BLOCKED,
	.ops = &fake_static_ops,
};

/* Before probing, the device names the fake IOMMU only by its fwspec */
static struct iommu_device *fake_probe_device(struct device *dev)
{
	struct fake_iommu_state *fake = container_of(dev_iommu_fwspec_get(dev)->iommu_fwnode,
						     struct fake_iommu_state, fwnode);

	return fake_index(fake, dev) < 0 ? ERR_PTR(-ENODEV) : &fake->kt.iommu;
}

static void fake_release_device(struct device *dev)
{
}

/* Every fake device is in one group, as functions behind a PCI bridge are */
static struct iommu_group *fake_device_group(struct device *dev)
{
	struct fake_iommu_state *fake = dev_fake(dev);

	if (!fake->group) {
		fake->group = iommu_group_alloc();
		if (IS_ERR(fake->group)) {
			struct iommu_group *err = fake->group;

			fake->group = NULL;
			return err;
		}
	}
	return iommu_group_ref_get(fake->group);
}

static struct iommu_domain *fake_domain_alloc_paging(struct device *dev)
{
	struct fake_domain *fd = kzalloc(sizeof(*fd), GFP_KERNEL);

	if (!fd)
		return NULL;
	xa_init(&fd->pfns);
	fd->domain.ops = &fake_paging_ops;
	fd->domain.pgsize_bitmap = BIT(FAKE_PAGE_SHIFT);
	fd->domain.geometry.aperture_end = U32_MAX;
	fd->domain.geometry.force_aperture = true;
	return &fd->domain;
}

/* What a test has the fake IOMMU report: a direct region */
static const struct iommu_resv_kunit_region fake_direct[] = {
	{ FAKE_DIRECT, FAKE_DIRECT + SZ_64K - 1, IOMMU_RESV_DIRECT,
	  .prot = IOMMU_READ | IOMMU_WRITE },
};

/* Or a reserved one that each member owns (not making a member need 1:1) */
static const struct iommu_resv_kunit_region fake_owned[] = {
	{ FAKE_DIRECT, FAKE_DIRECT + SZ_64K - 1, IOMMU_RESV_RESERVED, .own = true },
};

static int fake_def_domain_type(struct device *dev)
{
	return IOMMU_DOMAIN_IDENTITY;
}

static const struct iommu_ops fake_ops = {
	.owner = THIS_MODULE,
	.identity_domain = &fake_identity,
	.blocked_domain = &fake_blocked,
	.domain_alloc_paging = fake_domain_alloc_paging,
	.probe_device = fake_probe_device,
	.release_device = fake_release_device,
	.remove_dev_pasid = fake_remove_dev_pasid,
	.device_group = fake_device_group,
	.get_resv_regions = iommu_resv_kunit_get_resv_regions,
	.def_domain_type = fake_def_domain_type,
};

static const struct property_entry fake_props[] = {
	PROPERTY_ENTRY_U32("pasid-num-bits", 4),
	{}
};

/*
 * Add fake device @i, with a fwspec naming the fake IOMMU: the core probes it
 * and, when @joins, puts it in the fake group.
 */
static void fake_add_device(struct kunit *test, int i, bool joins)
{
	struct fake_iommu_state *fake = test->priv;
	struct platform_device *pdev;
	struct dev_iommu *param;
	struct iommu_fwspec *fwspec;

	pdev = platform_device_alloc("iommu-resv-attach-test", i);
	KUNIT_ASSERT_NOT_NULL(test, pdev);
	/* Freed by the core when the device goes (dev_iommu_free()) */
	param = kzalloc(sizeof(*param), GFP_KERNEL);
	fwspec = kzalloc(struct_size(fwspec, ids, 1), GFP_KERNEL);
	if (!param || !fwspec) {
		kfree(param);
		kfree(fwspec);
		platform_device_put(pdev);
		KUNIT_FAIL_AND_ABORT(test, "out of memory");
	}
	mutex_init(&param->lock);
	fwspec->iommu_fwnode = &fake->fwnode;
	param->fwspec = fwspec;
	pdev->dev.iommu = param;
	fake->devs[i] = &pdev->dev;
	if (device_create_managed_software_node(&pdev->dev, fake_props, NULL) ||
	    platform_device_add(pdev)) {
		fake->devs[i] = NULL;
		platform_device_put(pdev);
		KUNIT_FAIL_AND_ABORT(test, "platform_device_add() failed");
	}
	if (!joins) {
		KUNIT_EXPECT_NULL(test, pdev->dev.iommu_group);
		return;
	}
	KUNIT_ASSERT_NOT_NULL(test, fake->group);
	KUNIT_ASSERT_PTR_EQ(test, pdev->dev.iommu_group, fake->group);
}

static void fake_remove_device(struct fake_iommu_state *fake, int i)
{
	if (!fake->devs[i])
		return;
	platform_device_unregister(to_platform_device(fake->devs[i]));
	fake->devs[i] = NULL;
	fake->attached[i] = NULL;
	fake->pasid_attached[i] = NULL;
}

/* The driver's view of every member equals the core's */
static void expect_members_follow_group(struct kunit *test)
{
	struct fake_iommu_state *fake = test->priv;
	int i;

	for (i = 0; i < FAKE_DEVS; i++) {
		if (!fake->devs[i])
			continue;
		KUNIT_EXPECT_PTR_EQ_MSG(test, fake->attached[i],
					iommu_get_domain_for_dev(fake->devs[i]),
					"device %d", i);
	}
	KUNIT_EXPECT_EQ_MSG(test, fake->wrong_leaving, 0,
			    "attach_dev() was told a wrong domain being left");
}

static int attach_test_init(struct kunit *test)
{
	struct fake_iommu_state *fake = kunit_kzalloc(test, sizeof(*fake), GFP_KERNEL);
	struct iommu_device *iommu;
	int ret;

	if (!fake)
		return -ENOMEM;
	iommu_resv_kunit_setup(test, &fake->kt);
	iommu = &fake->kt.iommu;
	fake->fail_index = -1;
	/* Its sysfs device holds the links to its clients */
	ret = iommu_device_sysfs_add(iommu, NULL, NULL, "iommu-resv-fake");
	if (ret)
		return ret;
	iommu->fwnode = &fake->fwnode;
	iommu->max_pasids = 1 << 4;
	ret = iommu_device_register(iommu, &fake_ops, NULL);
	if (ret) {
		iommu_device_sysfs_remove(iommu);
		return ret;
	}
	/* From here on exit undoes it, also if an assertion below ends init */
	fake->registered = true;
	fake_add_device(test, 0, true);
	return 0;
}

/* Runs after every init, one that failed or stopped part-way included */
static void attach_test_exit(struct kunit *test)
{
	struct fake_iommu_state *fake = test->priv;
	int i;

	if (!fake)
		return;
	for (i = 0; i < FAKE_DEVS; i++)
		fake_remove_device(fake, i);
	if (fake->registered) {
		iommu_device_unregister(&fake->kt.iommu);
		iommu_device_sysfs_remove(&fake->kt.iommu);
	}
	if (fake->group)
		iommu_group_put(fake->group);
}

/* A device that joins a group userspace has attached gets that domain too */
static void hot_added_member_gets_the_group_domain(struct kunit *test)
{
	struct fake_iommu_state *fake = test->priv;
	static const int owner;
	struct iommu_domain *domain;

	KUNIT_EXPECT_PTR_EQ(test, fake->attached[0], &fake_identity);
	KUNIT_ASSERT_EQ(test, iommu_group_claim_dma_owner(fake->group, (void *)&owner), 0);
	expect_members_follow_group(test);
	domain = iommu_paging_domain_alloc(fake->devs[0]);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, domain);
	KUNIT_ASSERT_EQ(test, iommu_attach_group(domain, fake->group), 0);
	KUNIT_EXPECT_PTR_EQ(test, fake->attached[0], domain);

	fake_add_device(test, 1, true);
	KUNIT_EXPECT_PTR_EQ(test, iommu_get_domain_for_dev(fake->devs[1]), domain);
	expect_members_follow_group(test);

	/* And leaves it with the others */
	iommu_detach_group(domain, fake->group);
	KUNIT_EXPECT_PTR_EQ(test, fake->attached[1], &fake_blocked);
	expect_members_follow_group(test);
	iommu_domain_free(domain);
	iommu_group_release_dma_owner(fake->group);
	expect_members_follow_group(test);
	KUNIT_EXPECT_PTR_EQ(test, fake->attached[1], &fake_identity);
}

/* A member whose attach fails leaves every member where the core says it is */
static void failed_attach_reverts_every_member(struct kunit *test)
{
	struct fake_iommu_state *fake = test->priv;
	static const int owner;
	struct iommu_domain *domain;

	fake_add_device(test, 1, true);
	KUNIT_ASSERT_EQ(test, iommu_group_claim_dma_owner(fake->group, (void *)&owner), 0);
	domain = iommu_paging_domain_alloc(fake->devs[0]);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, domain);

	fake->fail_index = 1;
	KUNIT_EXPECT_NE(test, iommu_attach_group(domain, fake->group), 0);
	expect_members_follow_group(test);
	KUNIT_EXPECT_PTR_EQ(test, fake->attached[0], &fake_blocked);

	fake->fail_index = -1;
	KUNIT_ASSERT_EQ(test, iommu_attach_group(domain, fake->group), 0);
	expect_members_follow_group(test);

	/* A device that joins and cannot be attached is not added at all */
	fake->fail_index = 2;
	fake_add_device(test, 2, false);
	expect_members_follow_group(test);
	fake->fail_index = -1;

	iommu_detach_group(domain, fake->group);
	iommu_domain_free(domain);
	iommu_group_release_dma_owner(fake->group);
	expect_members_follow_group(test);
}

/* A PASID attachment covers the group's members, hot-added ones included */
static void pasid_attach_covers_members(struct kunit *test)
{
	struct fake_iommu_state *fake = test->priv;
	struct iommu_attach_handle *handle = kunit_kzalloc(test, sizeof(*handle),
							    GFP_KERNEL);
	struct iommu_domain *domain;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, handle);
	fake_add_device(test, 1, true);
	domain = iommu_paging_domain_alloc(fake->devs[0]);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, domain);
	KUNIT_ASSERT_EQ(test, iommu_attach_device_pasid(domain, fake->devs[0], FAKE_PASID,
							handle), 0);
	for (i = 0; i < 2; i++)
		KUNIT_EXPECT_PTR_EQ_MSG(test, fake->pasid_attached[i], domain, "device %d", i);

	/* The core says the group's PASID is attached: so should the driver */
	fake_add_device(test, 2, true);
	expect_members_follow_group(test);
	handle = iommu_attach_handle_get(fake->group, FAKE_PASID, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, handle);
	KUNIT_EXPECT_PTR_EQ(test, handle->domain, domain);
	if (fake->pasid_attached[2] != handle->domain) {
		/*
		 * 6.12's probe path attaches a joining member to the group's
		 * domain but not to its PASID domains, and a NULL attach handle
		 * leaves nothing to replay: an upstream gap, not the series'.
		 */
		iommu_detach_device_pasid(domain, fake->devs[0], FAKE_PASID);
		iommu_domain_free(domain);
		kunit_skip(test, "member joining after a PASID attach lacks it (6.12)");
	}

	iommu_detach_device_pasid(domain, fake->devs[0], FAKE_PASID);
	for (i = 0; i < FAKE_DEVS; i++)
		KUNIT_EXPECT_NULL_MSG(test, fake->pasid_attached[i], "device %d", i);
	iommu_domain_free(domain);
}

/*
 * The paging domains' page table maps, refuses a map over a mapping, and
 * unmaps up to the first page not mapped, as the core expects a driver to.
 */
static void fake_domain_maps_pages(struct kunit *test)
{
	struct fake_iommu_state *fake = test->priv;
	struct iommu_domain *domain;

	domain = iommu_paging_domain_alloc(fake->devs[0]);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, domain);
	KUNIT_EXPECT_EQ(test, domain->type, IOMMU_DOMAIN_UNMANAGED);

	/* Two pages: IOVA 0x40000000-0x40001fff to 0x12340000-0x12341fff */
	KUNIT_EXPECT_EQ(test, iommu_map(domain, 0x40000000, 0x12340000, 0x2000,
					IOMMU_READ | IOMMU_WRITE, GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(domain, 0x40000000), (phys_addr_t)0x12340000);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(domain, 0x40001234), (phys_addr_t)0x12341234);

	/*
	 * A map from the page before over the first page fails, and the core
	 * unmaps the page it did map: the original mapping is left as it was.
	 */
	KUNIT_EXPECT_EQ(test, iommu_map(domain, 0x3ffff000, 0x56780000, 0x2000,
					IOMMU_READ | IOMMU_WRITE, GFP_KERNEL), -EEXIST);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(domain, 0x3ffff000), (phys_addr_t)0);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(domain, 0x40000000), (phys_addr_t)0x12340000);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(domain, 0x40001234), (phys_addr_t)0x12341234);

	/* An unmap of three pages stops at the third, not mapped: two pages */
	KUNIT_EXPECT_EQ(test, iommu_unmap(domain, 0x40000000, 0x3000), (size_t)0x2000);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(domain, 0x40000000), (phys_addr_t)0);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(domain, 0x40001234), (phys_addr_t)0);

	iommu_domain_free(domain);
}

/*
 * A failed report gives userspace's users no list at all, but the kernel's
 * own domain setup keeps the direct region made before the failure: the
 * device joining the group is marked as needing its 1:1 mapping.
 */
static void failed_report_keeps_kernel_regions(struct kunit *test)
{
	struct fake_iommu_state *fake = test->priv;
	struct iommu_resv_region *region;
	LIST_HEAD(list);

	/* As a driver that made a region, then could not allocate its owner's name */
	iommu_resv_kunit_report(test, fake_direct, ARRAY_SIZE(fake_direct), NULL);
	fake->kt.fail_at = ARRAY_SIZE(fake_direct) + 1;
	fake_add_device(test, 1, true);
	KUNIT_EXPECT_TRUE(test, fake->devs[1]->iommu->require_direct);

	KUNIT_EXPECT_EQ(test, iommu_get_resv_regions(fake->devs[1], &list), -ENOMEM);
	KUNIT_EXPECT_TRUE(test, list_empty(&list));
	KUNIT_EXPECT_EQ(test, iommu_get_group_resv_regions(fake->group, &list), -ENOMEM);
	KUNIT_EXPECT_TRUE(test, list_empty(&list));

	/* Once the report succeeds, userspace's users get the region */
	fake->kt.fail_at = 0;
	KUNIT_ASSERT_EQ(test, iommu_get_resv_regions(fake->devs[1], &list), 0);
	region = list_first_entry_or_null(&list, struct iommu_resv_region, list);
	KUNIT_ASSERT_NOT_NULL(test, region);
	KUNIT_EXPECT_EQ(test, region->start, FAKE_DIRECT);
	KUNIT_EXPECT_EQ(test, region->type, IOMMU_RESV_DIRECT);
	iommu_put_resv_regions(fake->devs[1], &list);
	fake->kt.nr_sets = 0;
}

static int fake_unregister_dev1(void *data)
{
	struct fake_iommu_state *fake = data;

	platform_device_unregister(to_platform_device(fake->devs[1]));
	kthread_complete_and_exit(&fake->removed, 0);
}

/* device_del() of device 1 has begun: it is about to leave its group */
static int fake_bus_event(struct notifier_block *nb, unsigned long action, void *data)
{
	struct fake_iommu_state *fake = container_of(nb, struct fake_iommu_state, bus_nb);

	if (action == BUS_NOTIFY_DEL_DEVICE && data == fake->devs[1])
		complete(&fake->removal_begun);
	return NOTIFY_DONE;
}

static void fake_bus_nb_unregister(void *data)
{
	struct fake_iommu_state *fake = data;

	bus_unregister_notifier(&platform_bus_type, &fake->bus_nb);
}

/*
 * When device 1's owner is to be named, unregister it from another thread,
 * and once that has begun give it 200 ms more: the removal must wait for the
 * group's mutex before the device leaves sysfs, or the owner would have no
 * name (or one read from parents being freed).
 */
static int naming_races_removal(struct iommu_resv_region *region,
				const struct iommu_resv_region *like)
{
	struct fake_iommu_state *fake = kunit_get_current_test()->priv;
	struct device *dev = fake->devs[1];
	int waited;

	if (region->owner_dev == dev && !fake->removal_started &&
	    !IS_ERR(kthread_run(fake_unregister_dev1, fake, "iommu-resv-remove"))) {
		fake->removal_started = true;
		fake->removal_seen = wait_for_completion_timeout(&fake->removal_begun, 10 * HZ);
		/* The other thread's device_del() changes it: that is the test */
		for (waited = 0; waited < 200 && data_race(device_is_registered(dev));
		     waited += 20)
			msleep(20);
	}
	return __iommu_resv_region_name_owner(region, like);
}

/* A member that owns a region is named by its path even while it is removed */
static void owner_stays_in_sysfs_while_named(struct kunit *test)
{
	struct fake_iommu_state *fake = test->priv;
	const char *path = "/sys/devices/platform/iommu-resv-attach-test.1";
	struct iommu_resv_snapshot *snap;
	bool named = false;
	unsigned int i;

	init_completion(&fake->removal_begun);
	init_completion(&fake->removed);
	fake->bus_nb.notifier_call = fake_bus_event;
	KUNIT_ASSERT_EQ(test, bus_register_notifier(&platform_bus_type, &fake->bus_nb), 0);
	/* An assertion below ends the test: the notifier must not outlive @fake */
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, fake_bus_nb_unregister, fake), 0);
	iommu_resv_kunit_report(test, fake_owned, ARRAY_SIZE(fake_owned), NULL);
	fake_add_device(test, 1, true);
	kunit_activate_static_stub(test, iommu_resv_region_name_owner, naming_races_removal);
	snap = iommu_group_resv_snapshot_get(fake->group);
	kunit_deactivate_static_stub(test, iommu_resv_region_name_owner);
	fake->kt.nr_sets = 0;
	if (fake->removal_started) {
		wait_for_completion(&fake->removed);
		fake->devs[1] = NULL;
	}
	kunit_release_action(test, fake_bus_nb_unregister, fake);
	KUNIT_EXPECT_TRUE(test, fake->removal_started);
	KUNIT_EXPECT_TRUE(test, fake->removal_seen);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, snap);
	for (i = 0; i < snap->nr; i++) {
		const struct iommu_resv_region *region = snap->entries[i].region;

		if (strcmp(snap->entries[i].dev_name, "iommu-resv-attach-test.1"))
			continue;
		KUNIT_EXPECT_EQ(test, region->owner_type, IOMMU_RESV_OWNER_DEVICE);
		KUNIT_EXPECT_STREQ(test, region->owner ?: "(none)", path);
		named = true;
	}
	iommu_resv_snapshot_put(snap);
	KUNIT_EXPECT_TRUE(test, named);
}

static struct kunit_case iommu_resv_attach_test_cases[] = {
	KUNIT_CASE(hot_added_member_gets_the_group_domain),
	KUNIT_CASE(failed_attach_reverts_every_member),
	KUNIT_CASE(pasid_attach_covers_members),
	KUNIT_CASE(fake_domain_maps_pages),
	KUNIT_CASE(failed_report_keeps_kernel_regions),
	KUNIT_CASE(owner_stays_in_sysfs_while_named),
	{}
};

IOMMU_RESV_KUNIT_SUITE(iommu_resv_attach_test, "iommu-resv-attach", attach_test_init,
		       attach_test_exit,
		       "KUnit tests that every member of an IOMMU group is in its domain");
MODULE_IMPORT_NS(IOMMUFD_INTERNAL);
