// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the gaps between a host bridge's inbound DMA ranges. The
 * PCI path walk itself is tested in the VMs by
 * tools/testing/selftests/iommu/iommu_resv_pci.c, against real topologies.
 */
#include <kunit/test.h>
#include <linux/ioport.h>
#include <linux/resource_ext.h>

#include "iommu-resv-pci.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

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
		       const struct iommu_resv_span *want, unsigned int nr_want)
{
	struct iommu_resv_span *gaps;
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
	static const struct iommu_resv_span want[] = {
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
	static const struct iommu_resv_span want[] = {
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
	static const struct iommu_resv_span want[] = {
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
	struct iommu_resv_span *gaps;
	unsigned int nr;
	LIST_HEAD(ranges);

	make_ranges(test, &ranges, r, ARRAY_SIZE(r));
	KUNIT_EXPECT_EQ(test, iommu_resv_dma_range_gaps(&ranges, &gaps, &nr), -EINVAL);
	KUNIT_EXPECT_NULL(test, gaps);
	KUNIT_EXPECT_EQ(test, nr, 0);
	resource_list_free(&ranges);
}

static struct kunit_case iommu_resv_pci_test_cases[] = {
	KUNIT_CASE(dma_gaps_none_without_ranges),
	KUNIT_CASE(dma_gaps_around_one_range),
	KUNIT_CASE(dma_gaps_between_unsorted_ranges),
	KUNIT_CASE(dma_gaps_use_bus_addresses),
	KUNIT_CASE(dma_gaps_none_when_everything_reaches_memory),
	KUNIT_CASE(dma_gaps_reject_overlapping_ranges),
	{}
};

static struct kunit_suite iommu_resv_pci_test_suite = {
	.name = "iommu-resv-pci",
	.test_cases = iommu_resv_pci_test_cases,
};

kunit_test_suite(iommu_resv_pci_test_suite);

MODULE_DESCRIPTION("KUnit tests for IOMMU reserved PCI windows");
MODULE_LICENSE("GPL");
