// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the gaps between a host bridge's inbound DMA ranges, and
 * for the PCI resource generation on a real device where there is one. The
 * PCI path walk itself is tested in the VMs by
 * tools/testing/selftests/iommu/iommu_resv_pci.c, against real topologies,
 * and a window that moves under an attached group by iommu_resv_hotplug.c.
 */
#include <linux/ioport.h>
#include <linux/pci.h>
#include <linux/resource_ext.h>

#include "iommu-resv-kunit.h"
#include "iommu-resv-pci.h"

struct dma_range {
	u64 start;
	u64 end;
	u64 offset;	/* CPU address - bus address */
};

/* Build a dma_ranges list, in the given order; freed by the test. */
static void make_ranges(struct kunit *test, struct list_head *head,
			const struct dma_range *r, unsigned int n)
{
	unsigned int i;

	INIT_LIST_HEAD(head);
	for (i = 0; i < n; i++) {
		struct resource *res = kunit_kzalloc(test, sizeof(*res), GFP_KERNEL);
		struct resource_entry *entry;

		KUNIT_ASSERT_NOT_NULL(test, res);
		res->start = r[i].start + r[i].offset;
		res->end = r[i].end + r[i].offset;
		res->flags = IORESOURCE_MEM;
		entry = resource_list_create_entry(res, 0);
		KUNIT_ASSERT_NOT_NULL(test, entry);
		entry->offset = r[i].offset;
		resource_list_add_tail(entry, head);
	}
}

static void check_gaps(struct kunit *test, const struct dma_range *r, unsigned int n,
		       const struct iommu_resv_bus_range *want, unsigned int nr_want)
{
	struct iommu_resv_bus_range *gaps;
	struct resource_entry *entry;
	unsigned int nr, i = 0;
	LIST_HEAD(ranges);

	make_ranges(test, &ranges, r, n);
	KUNIT_ASSERT_EQ(test, iommu_resv_dma_range_gaps(&ranges, &gaps, &nr), 0);
	KUNIT_EXPECT_EQ(test, nr, nr_want);
	for (i = 0; i < min(nr, nr_want); i++) {
		KUNIT_EXPECT_EQ_MSG(test, gaps[i].start, want[i].start, "gap %u", i);
		KUNIT_EXPECT_EQ_MSG(test, gaps[i].end, want[i].end, "gap %u", i);
	}
	kfree(gaps);

	/* The host bridge's list is left as it was. */
	i = 0;
	resource_list_for_each_entry(entry, &ranges) {
		KUNIT_EXPECT_EQ(test, entry->res->start, r[i].start + r[i].offset);
		i++;
	}
	resource_list_free(&ranges);
}

static void dma_gaps_none_without_ranges(struct kunit *test)
{
	check_gaps(test, NULL, 0, NULL, 0);
}

static void dma_gaps_around_one_range(struct kunit *test)
{
	static const struct dma_range r[] = { { 0x1000, 0x1fff } };
	static const struct iommu_resv_bus_range want[] = {
		{ 0, 0xfff }, { 0x2000, U64_MAX },
	};

	check_gaps(test, r, ARRAY_SIZE(r), want, ARRAY_SIZE(want));
}

static void dma_gaps_between_unsorted_ranges(struct kunit *test)
{
	static const struct dma_range r[] = {
		{ 0x80000000, 0xffffffff }, { 0, 0x3fffffff },
		{ 0x100000000ULL, 0x1ffffffffULL },
	};
	static const struct iommu_resv_bus_range want[] = {
		{ 0x40000000, 0x7fffffff }, { 0x200000000ULL, U64_MAX },
	};

	check_gaps(test, r, ARRAY_SIZE(r), want, ARRAY_SIZE(want));
}

/* The gaps are in bus addresses: the CPU-side offset is taken off. */
static void dma_gaps_use_bus_addresses(struct kunit *test)
{
	static const struct dma_range r[] = {
		{ 0, 0x7fffffff, 0x4000000000ULL },
	};
	static const struct iommu_resv_bus_range want[] = {
		{ 0x80000000, U64_MAX },
	};

	check_gaps(test, r, ARRAY_SIZE(r), want, ARRAY_SIZE(want));
}

static void dma_gaps_none_when_everything_reaches_memory(struct kunit *test)
{
	static const struct dma_range r[] = {
		{ 0x10000, U64_MAX }, { 0, 0xffff },
	};

	check_gaps(test, r, ARRAY_SIZE(r), NULL, 0);
}

static void dma_gaps_reject_overlapping_ranges(struct kunit *test)
{
	static const struct dma_range r[] = {
		{ 0x1000, 0x2fff }, { 0x2000, 0x3fff },
	};
	struct iommu_resv_bus_range *gaps;
	unsigned int nr;
	LIST_HEAD(ranges);

	make_ranges(test, &ranges, r, ARRAY_SIZE(r));
	KUNIT_EXPECT_EQ(test, iommu_resv_dma_range_gaps(&ranges, &gaps, &nr), -EINVAL);
	KUNIT_EXPECT_NULL(test, gaps);
	KUNIT_EXPECT_EQ(test, nr, 0);
	resource_list_free(&ranges);
}

#ifdef CONFIG_PCI
/* QEMU's edu, which the test VMs have and no driver binds at boot */
#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8

/*
 * Releasing and assigning a BAR moves the generation that makes the users
 * of gathered regions gather again, without a device being added or
 * removed (as a resize or a retried assignment does). On an edu without a
 * driver, with its memory decoding off meanwhile; skipped without one.
 */
static void bar_changes_move_the_generation(struct kunit *test)
{
	struct pci_dev *pdev = pci_get_device(EDU_VENDOR, EDU_DEVICE, NULL);
	unsigned long gen_released = 0, gen_assigned = 0, gen = 0;
	bool tried = false;
	int ret = 0;
	u16 cmd;

	if (!pdev)
		kunit_skip(test, "no edu device");
	pci_lock_rescan_remove();
	device_lock(&pdev->dev);
	if (!pdev->driver && pci_resource_n(pdev, 0)->parent) {
		tried = true;
		pci_read_config_word(pdev, PCI_COMMAND, &cmd);
		pci_write_config_word(pdev, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
		gen = pci_resources_generation();
		pci_release_resource(pdev, 0);
		gen_released = pci_resources_generation();
		ret = pci_assign_resource(pdev, 0);
		gen_assigned = pci_resources_generation();
		pci_write_config_word(pdev, PCI_COMMAND, cmd);
	}
	device_unlock(&pdev->dev);
	pci_unlock_rescan_remove();
	pci_dev_put(pdev);
	if (!tried)
		kunit_skip(test, "the edu has a driver or no BAR");
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_NE(test, gen, gen_released);
	KUNIT_EXPECT_NE(test, gen_released, gen_assigned);
}
#else
static void bar_changes_move_the_generation(struct kunit *test)
{
	kunit_skip(test, "no PCI");
}
#endif

static struct kunit_case iommu_resv_pci_test_cases[] = {
	KUNIT_CASE(dma_gaps_none_without_ranges),
	KUNIT_CASE(dma_gaps_around_one_range),
	KUNIT_CASE(dma_gaps_between_unsorted_ranges),
	KUNIT_CASE(dma_gaps_use_bus_addresses),
	KUNIT_CASE(dma_gaps_none_when_everything_reaches_memory),
	KUNIT_CASE(dma_gaps_reject_overlapping_ranges),
	KUNIT_CASE(bar_changes_move_the_generation),
	{}
};

IOMMU_RESV_KUNIT_SUITE(iommu_resv_pci_test, "iommu-resv-pci", NULL, NULL,
		       "KUnit tests for IOMMU reserved PCI windows");
