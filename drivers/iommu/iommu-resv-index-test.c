// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the index of enforced reserved regions: a group with one
 * device (two in some cases) behind a fake IOMMU provider, whose regions the
 * tests state, and the generation that tells the index's users to gather
 * again.
 */
#include <kunit/static_stub.h>
#include <linux/device.h>
#include <linux/kref.h>

#include "iommu-resv-kunit.h"

/* What the fake provider reports for every device, unless a test fails it */
static const struct iommu_resv_kunit_region fake_regions[] = {
	{ 0x1000000, 0x10fffff, IOMMU_RESV_RESERVED },
	{ 0x1080000, 0x117ffff, IOMMU_RESV_MSI },	/* overlaps the first */
	{ 0x4000000, 0x4ffffff, IOMMU_RESV_DIRECT_RELAXABLE },
	{ 0xfee00000, 0xfeefffff, IOMMU_RESV_SW_MSI },
};

/*
 * And, for some tests, PCI windows: one adjacent to the first region, one
 * across its start
 */
static const struct iommu_resv_kunit_region fake_pci_regions[] = {
	{ 0x1100000, 0x11fffff, IOMMU_RESV_RESERVED, IOMMU_RESV_KIND_BRIDGE_WINDOW },
	{ 0x0f00000, 0x1000fff, IOMMU_RESV_RESERVED, IOMMU_RESV_KIND_PEER_BAR },
	{ 0x8000000, 0x80fffff, IOMMU_RESV_RESERVED, IOMMU_RESV_KIND_HOST_WINDOW },
};

/* And, for one test, regions above 4 GiB: one across it, one at the top */
static const struct iommu_resv_kunit_region fake_high_regions[] = {
	{ 0xfff00000, 0x1000fffffULL, IOMMU_RESV_MSI },
	{ 0x100200000ULL, 0x1003fffffULL, IOMMU_RESV_RESERVED },
	{ 0xffffffffffe00000ULL, U64_MAX, IOMMU_RESV_RESERVED },
};

/* And for one device only, a region of its own */
static const struct iommu_resv_kunit_region fake_own_regions[] = {
	{ 0x2000000, 0x2000fff, IOMMU_RESV_RESERVED },
};

struct index_test {
	struct iommu_resv_kunit kt;
	struct device *dev;
	struct iommu_group *group;
};

static_assert(offsetof(struct index_test, kt) == 0, "test->priv is both");

static int index_test_init(struct kunit *test)
{
	struct index_test *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, t);
	iommu_resv_kunit_setup(test, &t->kt);
	iommu_resv_kunit_report(test, fake_regions, ARRAY_SIZE(fake_regions), NULL);
	t->dev = iommu_resv_kunit_device(test, "iommu-resv-index-fake");
	t->group = iommu_group_alloc();
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t->group);
	KUNIT_ASSERT_EQ(test, iommu_group_add_device(t->group, t->dev), 0);
	return 0;
}

static void index_test_exit(struct kunit *test)
{
	struct index_test *t = test->priv;

	/* exit runs after an init that stopped part-way too */
	if (!t || IS_ERR_OR_NULL(t->group))
		return;
	if (t->dev->iommu_group) {
		/* The dev_iommu is the test's: keep the core from freeing it */
		t->dev->iommu = NULL;
		iommu_group_remove_device(t->dev);
	}
	iommu_group_put(t->group);
}

static unsigned int count(const struct iommu_resv_index *idx)
{
	const struct iommu_resv_index_node *node;
	unsigned int n = 0;

	for (node = iommu_resv_index_find(idx, 0, U64_MAX); node;
	     node = iommu_resv_index_next(node, 0, U64_MAX))
		n++;
	return n;
}

static void index_finds_what_the_group_reports(struct kunit *test)
{
	struct index_test *t = test->priv;
	const struct iommu_resv_index_node *n;
	const struct iommu_resv_entry *e;
	struct iommu_resv_index idx;

	iommu_resv_index_init(&idx, 0);
	KUNIT_ASSERT_EQ(test, iommu_resv_index_add_group(&idx, t->group, t), 0);
	/* Everything but the relaxable region */
	KUNIT_EXPECT_EQ(test, count(&idx), 3);

	n = iommu_resv_index_find(&idx, 0x1000000, 0x1000fff);
	KUNIT_ASSERT_NOT_NULL(test, n);
	KUNIT_EXPECT_EQ(test, n->start, 0x1000000);
	KUNIT_EXPECT_EQ(test, n->last, 0x10fffff);
	KUNIT_EXPECT_EQ(test, n->type, IOMMU_RESV_RESERVED);
	KUNIT_EXPECT_EQ(test, n->group_id, iommu_group_id(t->group));
	KUNIT_EXPECT_PTR_EQ(test, n->tag, (const void *)t);
	/* A refusal names the region from the gathering */
	e = iommu_resv_index_blame(n, 0x1000000, 0x1000fff);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_EQ(test, e->region->start, 0x1000000);
	KUNIT_EXPECT_EQ(test, e->region->type, IOMMU_RESV_RESERVED);
	KUNIT_EXPECT_STREQ(test, e->dev_name, dev_name(t->dev));
	KUNIT_EXPECT_NULL(test, e->region->owner);

	/* Where two overlap, the lower start is the answer */
	n = iommu_resv_index_find(&idx, 0x10f0000, 0x1100fff);
	KUNIT_ASSERT_NOT_NULL(test, n);
	KUNIT_EXPECT_EQ(test, n->start, 0x1000000);
	n = iommu_resv_index_find(&idx, 0x1100000, 0x1100fff);
	KUNIT_ASSERT_NOT_NULL(test, n);
	KUNIT_EXPECT_EQ(test, n->type, IOMMU_RESV_MSI);

	/* Edges: the byte before and after a region are free */
	KUNIT_EXPECT_NULL(test, iommu_resv_index_find(&idx, 0xfff000, 0xffffff));
	KUNIT_EXPECT_NULL(test, iommu_resv_index_find(&idx, 0x1180000, 0x3ffffff));
	KUNIT_EXPECT_NOT_NULL(test, iommu_resv_index_find(&idx, 0xfedfffff, 0xfee00000));
	KUNIT_EXPECT_EQ(test, iommu_resv_index_find(&idx, 0xfeefffff, U64_MAX)->type,
			IOMMU_RESV_SW_MSI);
	/* Relaxable: not enforced, so not indexed */
	KUNIT_EXPECT_NULL(test, iommu_resv_index_find(&idx, 0x4000000, 0x4ffffff));

	iommu_resv_index_remove(&idx, t);
	KUNIT_EXPECT_EQ(test, count(&idx), 0);
}

static void index_removes_by_tag_and_moves(struct kunit *test)
{
	struct index_test *t = test->priv;
	struct iommu_resv_index a, b;
	static const int tag_a, tag_b;

	iommu_resv_index_init(&a, 0);
	iommu_resv_index_init(&b, 0);
	KUNIT_ASSERT_EQ(test, iommu_resv_index_add_group(&a, t->group, &tag_a), 0);
	KUNIT_ASSERT_EQ(test, iommu_resv_index_add_group(&a, t->group, &tag_b), 0);
	KUNIT_EXPECT_EQ(test, count(&a), 6);

	iommu_resv_index_remove(&a, &tag_a);
	KUNIT_EXPECT_EQ(test, count(&a), 3);
	KUNIT_EXPECT_PTR_EQ(test, iommu_resv_index_find(&a, 0x1000000, 0x1000000)->tag,
			    (const void *)&tag_b);
	iommu_resv_index_remove(&a, NULL);	/* NULL removes nothing */
	KUNIT_EXPECT_EQ(test, count(&a), 3);

	iommu_resv_index_move(&b, &a);
	KUNIT_EXPECT_EQ(test, count(&a), 0);
	KUNIT_EXPECT_EQ(test, count(&b), 3);
	KUNIT_EXPECT_NOT_NULL(test, iommu_resv_index_find(&b, 0xfee00000, 0xfee00000));

	iommu_resv_index_destroy(&b);
	KUNIT_EXPECT_EQ(test, count(&b), 0);
}

static void index_fails_closed(struct kunit *test)
{
	struct index_test *t = test->priv;
	struct iommu_resv_snapshot *snap;
	struct iommu_resv_index idx;

	iommu_resv_index_init(&idx, 0);
	for (t->kt.fail_at = 1; t->kt.fail_at <= ARRAY_SIZE(fake_regions); t->kt.fail_at++) {
		KUNIT_EXPECT_EQ(test, iommu_resv_index_add_group(&idx, t->group, t), -ENOMEM);
		KUNIT_EXPECT_EQ(test, count(&idx), 0);
	}
	t->kt.fail_at = 0;

	/* Gathered, but a device's spans (or a group's without PCI) cannot be made */
	snap = iommu_group_resv_snapshot_get(t->group);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, snap);
	t->kt.alloc_fail_all = true;
	kunit_activate_static_stub(test, iommu_resv_alloc_array, iommu_resv_kunit_alloc_array);
	KUNIT_EXPECT_EQ(test, iommu_resv_index_add_device(&idx, t->dev, t->dev), -ENOMEM);
	KUNIT_EXPECT_EQ(test, count(&idx), 0);
	iommu_resv_index_init(&idx, IOMMU_RESV_INDEX_NO_PCI_WINDOWS);
	KUNIT_EXPECT_EQ(test, iommu_resv_index_add_group(&idx, t->group, t), -ENOMEM);
	KUNIT_EXPECT_EQ(test, count(&idx), 0);
	kunit_deactivate_static_stub(test, iommu_resv_alloc_array);
	/* Nothing was held: only the group's and ours */
	KUNIT_EXPECT_EQ(test, kref_read(&snap->ref), 2);
	iommu_resv_snapshot_put(snap);
}

/* A merged list is @want; it is freed */
static void expect_merged(struct kunit *test, struct list_head *list,
			  const struct iommu_resv_kunit_region *want, unsigned int nr)
{
	struct iommu_resv_region *r;
	unsigned int i = 0;

	KUNIT_EXPECT_EQ(test, list_count_nodes(list), nr);
	list_for_each_entry(r, list, list) {
		if (i == nr)
			break;
		KUNIT_EXPECT_EQ_MSG(test, r->start, want[i].start, "region %u", i);
		KUNIT_EXPECT_EQ_MSG(test, r->start + r->length - 1, want[i].last, "region %u", i);
		KUNIT_EXPECT_EQ_MSG(test, r->type, want[i].type, "region %u", i);
		i++;
	}
	iommu_put_resv_regions(NULL, list);
}

/*
 * The merged list of fake_regions alone, worked out by hand rather than taken
 * from the table the fake reports: in order of start, a region merges only
 * with one of its own type that it overlaps or touches. The reserved and the
 * MSI region overlap but differ in type, and no other two meet, so every
 * region stays a line of its own.
 */
static const struct iommu_resv_kunit_region merged_without_pci[] = {
	{ .start = 0x1000000, .last = 0x10fffff, .type = IOMMU_RESV_RESERVED },
	{ .start = 0x1080000, .last = 0x117ffff, .type = IOMMU_RESV_MSI },
	{ .start = 0x4000000, .last = 0x4ffffff, .type = IOMMU_RESV_DIRECT_RELAXABLE },
	{ .start = 0xfee00000, .last = 0xfeefffff, .type = IOMMU_RESV_SW_MSI },
};

/* The index and the merged list of one gathering agree with each other. */
static void index_and_merged_list_agree(struct kunit *test)
{
	struct index_test *t = test->priv;
	struct iommu_resv_index idx;
	LIST_HEAD(list);

	iommu_resv_index_init(&idx, 0);
	KUNIT_ASSERT_EQ(test, iommu_resv_index_add_group_merged(&idx, t->group, t, &list), 0);
	KUNIT_EXPECT_EQ(test, count(&idx), 3);
	expect_merged(test, &list, merged_without_pci, ARRAY_SIZE(merged_without_pci));
	iommu_resv_index_remove(&idx, t);

	/* A merge that fails leaves neither index entries nor a list. */
	t->kt.alloc_fail_all = true;
	kunit_activate_static_stub(test, iommu_resv_alloc_span, iommu_resv_kunit_alloc_span);
	KUNIT_EXPECT_EQ(test, iommu_resv_index_add_group_merged(&idx, t->group, t, &list),
			-ENOMEM);
	kunit_deactivate_static_stub(test, iommu_resv_alloc_span);
	KUNIT_EXPECT_EQ(test, count(&idx), 0);
	KUNIT_EXPECT_TRUE(test, list_empty(&list));
}

/*
 * Not enforcing PCI windows leaves them out of the index and of the merged
 * list (the usable ranges), and keeps them from merging with other regions.
 */
static void index_leaves_out_pci_windows_when_asked(struct kunit *test)
{
	static const struct iommu_resv_kunit_region all[] = {
		{ 0x0f00000, 0x11fffff, IOMMU_RESV_RESERVED },
		{ 0x1080000, 0x117ffff, IOMMU_RESV_MSI },
		{ 0x4000000, 0x4ffffff, IOMMU_RESV_DIRECT_RELAXABLE },
		{ 0x8000000, 0x80fffff, IOMMU_RESV_RESERVED },
		{ 0xfee00000, 0xfeefffff, IOMMU_RESV_SW_MSI },
	};
	struct index_test *t = test->priv;
	struct iommu_resv_index idx;
	LIST_HEAD(list);

	iommu_resv_kunit_report(test, fake_pci_regions, ARRAY_SIZE(fake_pci_regions), NULL);
	iommu_resv_index_init(&idx, 0);
	KUNIT_ASSERT_EQ(test, iommu_resv_index_add_group_merged(&idx, t->group, t, &list), 0);
	/* The lines of the file, less the relaxable one */
	KUNIT_EXPECT_EQ(test, count(&idx), 4);
	KUNIT_EXPECT_NOT_NULL(test, iommu_resv_index_find(&idx, 0x1180000, 0x11fffff));
	KUNIT_EXPECT_NOT_NULL(test, iommu_resv_index_find(&idx, 0xf00000, 0xf00fff));
	KUNIT_EXPECT_NOT_NULL(test, iommu_resv_index_find(&idx, 0x8000000, 0x8000fff));
	expect_merged(test, &list, all, ARRAY_SIZE(all));
	iommu_resv_index_destroy(&idx);

	iommu_resv_index_init(&idx, IOMMU_RESV_INDEX_NO_PCI_WINDOWS);
	KUNIT_ASSERT_EQ(test, iommu_resv_index_add_group_merged(&idx, t->group, t, &list), 0);
	KUNIT_EXPECT_EQ(test, count(&idx), 3);
	KUNIT_EXPECT_NULL(test, iommu_resv_index_find(&idx, 0x1180000, 0x11fffff));
	KUNIT_EXPECT_NULL(test, iommu_resv_index_find(&idx, 0x8000000, 0x80fffff));
	KUNIT_EXPECT_NULL(test, iommu_resv_index_find(&idx, 0xf00000, 0xffffff));
	KUNIT_EXPECT_NOT_NULL(test, iommu_resv_index_find(&idx, 0x10fffff, 0x10fffff));
	expect_merged(test, &list, merged_without_pci, ARRAY_SIZE(merged_without_pci));
	iommu_resv_index_destroy(&idx);

	/* And per device */
	KUNIT_ASSERT_EQ(test, iommu_resv_index_add_device(&idx, t->dev, t->dev), 0);
	KUNIT_EXPECT_EQ(test, count(&idx), 3);
	iommu_resv_index_destroy(&idx);
}

/*
 * Bounds are 64-bit everywhere, unsigned long or not: on a 32-bit kernel with
 * 64-bit DMA addresses (ARM LPAE, x86 PAE) a region above 4 GiB must be
 * found where it is, not at its address cut to 32 bits, nor be lost. Only
 * such a kernel can fail this (make check runs the suites on ARM LPAE).
 */
static void index_holds_regions_above_4g(struct kunit *test)
{
	struct index_test *t = test->priv;
	const struct iommu_resv_index_node *n;
	struct iommu_resv_index idx;

	/* Without 64-bit physical addresses the fake's regions cannot be made */
	if (sizeof(phys_addr_t) < sizeof(u64))
		kunit_skip(test, "32-bit phys_addr_t (no LPAE/PAE)");
	iommu_resv_kunit_report(test, fake_high_regions, ARRAY_SIZE(fake_high_regions), NULL);
	iommu_resv_index_init(&idx, 0);
	KUNIT_ASSERT_EQ(test, iommu_resv_index_add_group(&idx, t->group, t), 0);
	KUNIT_EXPECT_EQ(test, count(&idx), 3 + 3);

	n = iommu_resv_index_find(&idx, 0x100300000ULL, 0x100300fffULL);
	KUNIT_ASSERT_NOT_NULL(test, n);
	KUNIT_EXPECT_EQ(test, n->start, 0x100200000ULL);
	KUNIT_EXPECT_EQ(test, n->last, 0x1003fffffULL);
	/* Its address cut to 32 bits is free, and so is the byte after it */
	KUNIT_EXPECT_NULL(test, iommu_resv_index_find(&idx, 0x300000, 0x300fff));
	KUNIT_EXPECT_NULL(test, iommu_resv_index_find(&idx, 0x100400000ULL, 0x100400000ULL));
	KUNIT_EXPECT_NULL(test, iommu_resv_index_find(&idx, 0x100100000ULL, 0x1001fffffULL));

	/* Across 4 GiB: found from either side */
	n = iommu_resv_index_find(&idx, 0x100000000ULL, 0x100000000ULL);
	KUNIT_ASSERT_NOT_NULL(test, n);
	KUNIT_EXPECT_EQ(test, n->start, 0xfff00000);
	KUNIT_EXPECT_EQ(test, n->last, 0x1000fffffULL);
	KUNIT_EXPECT_PTR_EQ(test, iommu_resv_index_find(&idx, 0xffffffff, 0xffffffff), n);

	/* At the very top, and a range that reaches it */
	n = iommu_resv_index_find(&idx, U64_MAX, U64_MAX);
	KUNIT_ASSERT_NOT_NULL(test, n);
	KUNIT_EXPECT_EQ(test, n->last, U64_MAX);
	KUNIT_EXPECT_PTR_EQ(test, iommu_resv_index_find(&idx, 0x200000000ULL, U64_MAX), n);
	KUNIT_EXPECT_NULL(test, iommu_resv_index_find(&idx, 0x200000000ULL,
						      0xffffffffffdfffffULL));

	/* In order, by start */
	n = iommu_resv_index_find(&idx, 0xfff00000, U64_MAX);
	KUNIT_ASSERT_NOT_NULL(test, n);
	n = iommu_resv_index_next(n, 0xfff00000, U64_MAX);
	KUNIT_ASSERT_NOT_NULL(test, n);
	KUNIT_EXPECT_EQ(test, n->start, 0x100200000ULL);
	iommu_resv_index_destroy(&idx);
}

/* A second member of the test's group, behind the same fake provider. */
static struct device *add_member(struct kunit *test, struct index_test *t)
{
	struct device *dev = iommu_resv_kunit_device(test, "iommu-resv-index-fake2");

	KUNIT_ASSERT_EQ(test, iommu_group_add_device(t->group, dev), 0);
	return dev;
}

static void remove_member(struct device *dev)
{
	dev->iommu = NULL;
	iommu_group_remove_device(dev);
}

/*
 * A device's own regions, and only them, tagged and attributed to it: the
 * second member has a region of its own, which the first one's index lacks.
 */
static void index_adds_one_device(struct kunit *test)
{
	struct index_test *t = test->priv;
	struct device *dev2 = add_member(test, t);
	const struct iommu_resv_index_node *n;
	const struct iommu_resv_entry *e;
	struct iommu_resv_index idx;

	iommu_resv_kunit_report(test, fake_own_regions, ARRAY_SIZE(fake_own_regions), dev2);
	iommu_resv_regions_changed(t->group);
	iommu_resv_index_init(&idx, 0);
	KUNIT_ASSERT_EQ(test, iommu_resv_index_add_device(&idx, dev2, dev2), 0);
	KUNIT_EXPECT_EQ(test, count(&idx), 3 + 1);
	KUNIT_EXPECT_NOT_NULL(test, iommu_resv_index_find(&idx, 0x2000000, 0x2000000));
	for (n = iommu_resv_index_find(&idx, 0, U64_MAX); n;
	     n = iommu_resv_index_next(n, 0, U64_MAX)) {
		KUNIT_EXPECT_PTR_EQ(test, n->dev, (const struct device *)dev2);
		KUNIT_EXPECT_PTR_EQ(test, n->tag, (const void *)dev2);
		KUNIT_EXPECT_EQ(test, n->group_id, iommu_group_id(t->group));
		/* The other member reports the same ranges first: never named */
		e = iommu_resv_index_blame(n, n->start, n->last);
		KUNIT_ASSERT_NOT_NULL(test, e);
		KUNIT_EXPECT_STREQ(test, e->dev_name, dev_name(dev2));
	}
	iommu_resv_index_destroy(&idx);

	KUNIT_ASSERT_EQ(test, iommu_resv_index_add_device(&idx, t->dev, t->dev), 0);
	KUNIT_EXPECT_EQ(test, count(&idx), 3);
	KUNIT_EXPECT_NULL(test, iommu_resv_index_find(&idx, 0x2000000, 0x2000000));

	/* The group's lines: the two members' common regions merge */
	KUNIT_ASSERT_EQ(test, iommu_resv_index_add_group(&idx, t->group, t), 0);
	KUNIT_EXPECT_EQ(test, count(&idx), 3 + 3 + 1);
	iommu_resv_index_destroy(&idx);

	/* Fails closed, as a group does (a provider says its regions changed) */
	t->kt.fail_at = 2;
	iommu_resv_regions_changed(t->group);
	KUNIT_EXPECT_EQ(test, iommu_resv_index_add_device(&idx, dev2, dev2), -ENOMEM);
	KUNIT_EXPECT_EQ(test, count(&idx), 0);
	t->kt.fail_at = 0;
	iommu_resv_regions_changed(t->group);
	remove_member(dev2);
}

/*
 * The group hands out the same gathering until its generation moves: a
 * provider's change it is not told about stays unseen, one it is told about
 * is gathered at the next call.
 */
static void gathering_kept_until_a_change(struct kunit *test)
{
	struct index_test *t = test->priv;
	struct iommu_resv_snapshot *a, *b, *c;

	a = iommu_group_resv_snapshot_get(t->group);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a);
	iommu_resv_kunit_report(test, fake_pci_regions, ARRAY_SIZE(fake_pci_regions), NULL);
	b = iommu_group_resv_snapshot_get(t->group);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, b);
	KUNIT_EXPECT_PTR_EQ(test, a, b);
	KUNIT_EXPECT_EQ(test, a->gen, iommu_group_resv_generation(t->group));

	iommu_resv_regions_changed(t->group);
	c = iommu_group_resv_snapshot_get(t->group);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, c);
	KUNIT_EXPECT_PTR_NE(test, a, c);
	KUNIT_EXPECT_EQ(test, c->gen, iommu_group_resv_generation(t->group));
	KUNIT_EXPECT_EQ(test, c->nr, a->nr + 3);	/* the three PCI windows */
	/* The old one stays valid for whoever holds it */
	KUNIT_EXPECT_EQ(test, a->nr_spans, 4);
	iommu_resv_snapshot_put(a);
	iommu_resv_snapshot_put(b);
	iommu_resv_snapshot_put(c);
}

/*
 * A refusal names, among the regions merged into the range it hits, the one
 * with the lowest start that overlaps it; never one the index left out.
 */
static void refusal_names_a_merged_region(struct kunit *test)
{
	struct index_test *t = test->priv;
	const struct iommu_resv_index_node *n;
	const struct iommu_resv_entry *e;
	struct iommu_resv_index idx;

	iommu_resv_kunit_report(test, fake_pci_regions, ARRAY_SIZE(fake_pci_regions), NULL);
	iommu_resv_index_init(&idx, 0);
	KUNIT_ASSERT_EQ(test, iommu_resv_index_add_group(&idx, t->group, t), 0);
	n = iommu_resv_index_find(&idx, 0x1150000, 0x1150fff);
	KUNIT_ASSERT_NOT_NULL(test, n);
	/* One line merges the peer BAR, the region and the bridge window */
	KUNIT_EXPECT_EQ(test, n->start, 0xf00000);
	KUNIT_EXPECT_EQ(test, n->last, 0x11fffff);
	e = iommu_resv_index_blame(n, 0x1150000, 0x1150fff);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_EQ(test, e->region->kind, IOMMU_RESV_KIND_BRIDGE_WINDOW);
	e = iommu_resv_index_blame(n, 0x10ff000, 0x1100fff);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_EQ(test, e->region->start, 0x1000000);
	e = iommu_resv_index_blame(n, 0, 0x1000000);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_EQ(test, e->region->kind, IOMMU_RESV_KIND_PEER_BAR);
	/* Past its end: nothing to name */
	KUNIT_EXPECT_NULL(test, iommu_resv_index_blame(n, 0x1200000, U64_MAX));
	iommu_resv_index_destroy(&idx);

	/* Without PCI windows the same range names the region, not the BAR */
	iommu_resv_index_init(&idx, IOMMU_RESV_INDEX_NO_PCI_WINDOWS);
	KUNIT_ASSERT_EQ(test, iommu_resv_index_add_group(&idx, t->group, t), 0);
	n = iommu_resv_index_find(&idx, 0, 0x1000000);
	KUNIT_ASSERT_NOT_NULL(test, n);
	KUNIT_EXPECT_EQ(test, n->start, 0x1000000);
	e = iommu_resv_index_blame(n, 0, 0x1000000);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_EQ(test, e->region->kind, IOMMU_RESV_KIND_NONE);
	KUNIT_EXPECT_EQ(test, e->region->start, 0x1000000);
	iommu_resv_index_destroy(&idx);
}

/*
 * Members that report regions with the same start: a refusal names the first
 * gathered, though sealing puts the shorter ones first.
 */
static void refusal_names_the_first_gathered_of_equal_starts(struct kunit *test)
{
	struct iommu_resv_snapshot *snap = iommu_resv_snapshot_alloc(0);
	struct iommu_resv_index_node n = {
		.start = 0x1000,
		.last = 0x1fff,
		.type = IOMMU_RESV_RESERVED,
	};
	const struct iommu_resv_entry *e;
	char name[8];
	int m;

	KUNIT_ASSERT_NOT_NULL(test, snap);
	n.snap = snap;
	for (m = 0; m < 16; m++) {
		struct iommu_resv_region *r;
		LIST_HEAD(list);

		r = iommu_alloc_resv_region(0x1000, 0x1000 * (16 - m), 0, IOMMU_RESV_RESERVED,
					    GFP_KERNEL);
		if (r)
			list_add_tail(&r->list, &list);
		snprintf(name, sizeof(name), "m%02d", m);
		if (!r || iommu_resv_snapshot_add(snap, NULL, name, &list)) {
			iommu_resv_snapshot_put(snap);
			KUNIT_FAIL_AND_ABORT(test, "no memory for member %d", m);
		}
	}
	KUNIT_EXPECT_EQ(test, 0, iommu_resv_snapshot_seal(snap));
	e = iommu_resv_index_blame(&n, 0x1800, 0x1800);
	KUNIT_EXPECT_NOT_NULL(test, e);
	if (e)
		KUNIT_EXPECT_STREQ(test, e->dev_name, "m00");
	iommu_resv_snapshot_put(snap);
}

/*
 * The ranges keep their gathering: after the group has gathered again, a
 * refusal still names the regions of the gathering that was enforced (which
 * KASAN checks), and the last range removed frees it.
 */
static void ranges_keep_their_gathering(struct kunit *test)
{
	struct index_test *t = test->priv;
	struct iommu_resv_snapshot *kept, *now;
	const struct iommu_resv_index_node *n;
	const struct iommu_resv_entry *e;
	struct iommu_resv_index idx;

	iommu_resv_index_init(&idx, 0);
	KUNIT_ASSERT_EQ(test, iommu_resv_index_add_group(&idx, t->group, t), 0);
	n = iommu_resv_index_find(&idx, 0x1000000, 0x1000000);
	KUNIT_ASSERT_NOT_NULL(test, n);
	kept = n->snap;
	/* The group's and one per range */
	KUNIT_EXPECT_EQ(test, kref_read(&kept->ref), 1 + 3);

	iommu_resv_regions_changed(t->group);
	now = iommu_group_resv_snapshot_get(t->group);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, now);
	KUNIT_EXPECT_PTR_NE(test, now, kept);
	KUNIT_EXPECT_EQ(test, kref_read(&kept->ref), 3);
	e = iommu_resv_index_blame(n, 0x1000000, 0x1000000);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_STREQ(test, e->dev_name, dev_name(t->dev));
	iommu_resv_snapshot_put(now);

	/* Removing the ranges drops their references, and nothing else */
	kref_get(&kept->ref);
	iommu_resv_index_remove(&idx, t);
	KUNIT_EXPECT_EQ(test, kref_read(&kept->ref), 1);
	iommu_resv_snapshot_put(kept);
}

/* The generation moves with every change to a group's members or regions. */
static void generation_moves_on_every_change(struct kunit *test)
{
	struct index_test *t = test->priv;
	struct iommu_group *other = iommu_group_alloc();
	unsigned long gen = iommu_group_resv_generation(t->group), now;
	struct device *dev2;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, other);
	KUNIT_EXPECT_EQ(test, iommu_group_resv_generation(t->group), gen);

	dev2 = add_member(test, t);
	now = iommu_group_resv_generation(t->group);
	KUNIT_EXPECT_NE(test, now, gen);
	gen = now;
	remove_member(dev2);
	now = iommu_group_resv_generation(t->group);
	KUNIT_EXPECT_NE(test, now, gen);
	gen = now;

	/* Another group's change is not this group's */
	iommu_resv_regions_changed(other);
	KUNIT_EXPECT_EQ(test, iommu_group_resv_generation(t->group), gen);
	/* A change nobody could name is every group's */
	iommu_resv_regions_changed(NULL);
	KUNIT_EXPECT_NE(test, iommu_group_resv_generation(t->group), gen);
	iommu_group_put(other);
}

static struct kunit_case iommu_resv_index_test_cases[] = {
	KUNIT_CASE(index_finds_what_the_group_reports),
	KUNIT_CASE(index_removes_by_tag_and_moves),
	KUNIT_CASE(index_fails_closed),
	KUNIT_CASE(index_and_merged_list_agree),
	KUNIT_CASE(gathering_kept_until_a_change),
	KUNIT_CASE(index_leaves_out_pci_windows_when_asked),
	KUNIT_CASE(index_holds_regions_above_4g),
	KUNIT_CASE(index_adds_one_device),
	KUNIT_CASE(refusal_names_a_merged_region),
	KUNIT_CASE(refusal_names_the_first_gathered_of_equal_starts),
	KUNIT_CASE(ranges_keep_their_gathering),
	KUNIT_CASE(generation_moves_on_every_change),
	{}
};

IOMMU_RESV_KUNIT_SUITE(iommu_resv_index_test, "iommu-resv-index", index_test_init,
		       index_test_exit,
		       "KUnit tests for the index of enforced IOMMU reserved regions");
