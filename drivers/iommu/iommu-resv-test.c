// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the reserved regions of an IOMMU group: the merge, the
 * detailed view, owners and their naming, failure of every allocation, and
 * the cost with thousands of regions. A fake IOMMU provider feeds
 * iommu_get_resv_regions().
 */
#include <kunit/static_stub.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/prandom.h>

#include "iommu-priv.h"
#include "iommu-resv-kunit.h"

/* Calls to iommu_resv_region_name_owner(), through a stub that counts them */
struct owner_naming {
	unsigned int calls;
	unsigned int fresh;	/* those with no region to copy the name from */
	unsigned int fail_at;	/* 1-based; 0 for none */
};

struct resv_test {
	struct iommu_resv_kunit kt;
	struct owner_naming naming;
};

static_assert(offsetof(struct resv_test, kt) == 0, "test->priv is both");

static int resv_test_init(struct kunit *test)
{
	struct resv_test *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);

	if (!t)
		return -ENOMEM;
	iommu_resv_kunit_setup(test, &t->kt);
	t->kt.count_regions = true;
	return 0;
}

/* Regions the tests make count their frees, so leaks show. */
static int live_regions(struct kunit *test)
{
	struct iommu_resv_kunit *kt = test->priv;

	return atomic_read(&kt->live_regions);
}

struct spec {
	u64 start, end;
	enum iommu_resv_type type;
	const char *dev;
	const char *owner;
};

static struct iommu_resv_snapshot *new_snapshot(struct kunit *test)
{
	struct iommu_resv_snapshot *snap = iommu_resv_snapshot_alloc(0);

	KUNIT_ASSERT_NOT_NULL(test, snap);
	return snap;
}

static void add_specs(struct kunit *test, struct iommu_resv_snapshot *snap,
		      const struct spec *s, unsigned int n)
{
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		struct iommu_resv_region *r;
		LIST_HEAD(list);

		r = iommu_resv_kunit_region_alloc(s[i].start, s[i].end, s[i].type);
		KUNIT_ASSERT_NOT_NULL(test, r);
		if (s[i].owner) {
			ret = iommu_resv_region_set_owner(r, IOMMU_RESV_OWNER_DEVICE,
							  GFP_KERNEL, "%s", s[i].owner);
			KUNIT_ASSERT_EQ(test, ret, 0);
		}
		list_add_tail(&r->list, &list);
		ret = iommu_resv_snapshot_add(snap, NULL, s[i].dev ?: "dev0", &list);
		KUNIT_ASSERT_EQ(test, ret, 0);
	}
}

struct test_range {
	u64 start, end;
	enum iommu_resv_type type;
};

static unsigned int list_to_ranges(struct list_head *head, struct test_range *out, unsigned int max)
{
	struct iommu_resv_region *r;
	unsigned int n = 0;

	list_for_each_entry(r, head, list) {
		if (n < max)
			out[n] = (struct test_range){ r->start, r->start + r->length - 1, r->type };
		n++;
	}
	return n;
}

/* Regions as gathered, and the reserved_regions lines they merge into */
static const struct merge_case {
	struct spec in[5];
	struct test_range want[4];
	unsigned int nr_in, nr_want;
} merge_cases[] = {
	/* Regions of one type merge where they overlap or touch, of any device */
	{
		.in = {
			{ 0x5000, 0x5fff, IOMMU_RESV_RESERVED },
			{ 0x1800, 0x2fff, IOMMU_RESV_RESERVED, "dev1" },
			{ 0x1000, 0x1fff, IOMMU_RESV_RESERVED },
			{ 0x3000, 0x3fff, IOMMU_RESV_RESERVED },	/* adjacent: merges */
			{ 0x4001, 0x4001, IOMMU_RESV_RESERVED },	/* one byte gap: does not */
		},
		.want = {
			{ 0x1000, 0x3fff, IOMMU_RESV_RESERVED },
			{ 0x4001, 0x4001, IOMMU_RESV_RESERVED },
			{ 0x5000, 0x5fff, IOMMU_RESV_RESERVED },
		},
		.nr_in = 5, .nr_want = 3,
	},
	/* Regions of different types never merge, MSI and SW_MSI included */
	{
		.in = {
			{ 0x8000000, 0x80fffff, IOMMU_RESV_SW_MSI },
			{ 0x8000000, 0x80fffff, IOMMU_RESV_MSI },
			{ 0x0, 0xffffff, IOMMU_RESV_DIRECT_RELAXABLE },
			{ 0x100000, 0x1fffff, IOMMU_RESV_DIRECT },	/* inside another type */
			{ 0x1000000, 0x1000fff, IOMMU_RESV_DIRECT_RELAXABLE },
		},
		.want = {
			{ 0x0, 0x1000fff, IOMMU_RESV_DIRECT_RELAXABLE },
			{ 0x100000, 0x1fffff, IOMMU_RESV_DIRECT },
			{ 0x8000000, 0x80fffff, IOMMU_RESV_MSI },
			{ 0x8000000, 0x80fffff, IOMMU_RESV_SW_MSI },
		},
		.nr_in = 5, .nr_want = 4,
	},
	/* The last byte of the address space, and the first */
	{
		.in = {
			{ ~0ULL - 0xfff, ~0ULL, IOMMU_RESV_RESERVED },
			{ ~0ULL - 0x1fff, ~0ULL - 0x1000, IOMMU_RESV_RESERVED },
			{ 0, 0, IOMMU_RESV_RESERVED },
		},
		.want = {
			{ 0, 0, IOMMU_RESV_RESERVED },
			{ ~0ULL - 0x1fff, ~0ULL, IOMMU_RESV_RESERVED },
		},
		.nr_in = 3, .nr_want = 2,
	},
};

static void expect_merged(struct kunit *test, const struct merge_case *c)
{
	const struct test_range *want = c->want;
	struct iommu_resv_snapshot *snap = new_snapshot(test);
	struct test_range got[16];
	unsigned int i, n;
	LIST_HEAD(head);

	add_specs(test, snap, c->in, c->nr_in);
	KUNIT_ASSERT_EQ(test, 0, iommu_resv_snapshot_seal(snap));
	KUNIT_ASSERT_EQ(test, 0, iommu_resv_snapshot_merge(snap, &head));
	n = list_to_ranges(&head, got, ARRAY_SIZE(got));
	KUNIT_ASSERT_EQ(test, n, c->nr_want);
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_EQ_MSG(test, got[i].start, want[i].start, "line %u", i);
		KUNIT_EXPECT_EQ_MSG(test, got[i].end, want[i].end, "line %u", i);
		KUNIT_EXPECT_EQ_MSG(test, got[i].type, want[i].type, "line %u", i);
	}
	iommu_put_resv_regions(NULL, &head);
	iommu_resv_snapshot_put(snap);
	KUNIT_EXPECT_EQ(test, live_regions(test), 0);
}

static void merge_same_type(struct kunit *test)
{
	expect_merged(test, &merge_cases[0]);
}

static void merge_types_stay_apart(struct kunit *test)
{
	expect_merged(test, &merge_cases[1]);
}

static void merge_top_of_address_space(struct kunit *test)
{
	if (sizeof(phys_addr_t) < sizeof(u64))
		kunit_skip(test, "32-bit phys_addr_t");
	expect_merged(test, &merge_cases[2]);
}

/*
 * The reference: iommu_insert_resv_region() as in v4.11..v6.12, which built
 * the list the reserved_regions file printed. Sorted insertion, then a pass
 * that merges overlapping or adjacent regions of the new region's type.
 */
static int reference_insert(struct iommu_resv_region *new, struct list_head *regions)
{
	struct iommu_resv_region *iter, *tmp, *nr, *top;
	LIST_HEAD(stack);

	nr = iommu_alloc_resv_region(new->start, new->length, new->prot, new->type,
				     GFP_KERNEL);
	if (!nr)
		return -ENOMEM;
	list_for_each_entry(iter, regions, list) {
		if (nr->start < iter->start ||
		    (nr->start == iter->start && nr->type <= iter->type))
			break;
	}
	list_add_tail(&nr->list, &iter->list);
	list_for_each_entry_safe(iter, tmp, regions, list) {
		phys_addr_t top_end, iter_end = iter->start + iter->length - 1;

		if (iter->type != new->type) {
			list_move_tail(&iter->list, &stack);
			continue;
		}
		list_for_each_entry_reverse(top, &stack, list)
			if (top->type == iter->type)
				goto check_overlap;
		list_move_tail(&iter->list, &stack);
		continue;
check_overlap:
		top_end = top->start + top->length - 1;
		if (iter->start > top_end + 1) {
			list_move_tail(&iter->list, &stack);
		} else {
			top->length = max(top_end, iter_end) - top->start + 1;
			list_del(&iter->list);
			kfree(iter);
		}
	}
	list_splice(&stack, regions);
	return 0;
}

/* Random lists: the merge gives exactly the reference's list. */
static void merge_matches_reference(struct kunit *test)
{
	struct rnd_state rnd;
	unsigned int trial;

	prandom_seed_state(&rnd, 0x5eed1234);
	for (trial = 0; trial < 200; trial++) {
		unsigned int i, n = 1 + prandom_u32_state(&rnd) % 40;
		struct iommu_resv_snapshot *snap = new_snapshot(test);
		struct iommu_resv_region *a, *b;
		LIST_HEAD(want);
		LIST_HEAD(got);

		for (i = 0; i < n; i++) {
			/* Small coordinates so that overlaps and adjacency are common. */
			u64 start = (prandom_u32_state(&rnd) % 64) * 0x1000;
			u64 len = (1 + prandom_u32_state(&rnd) % 8) * 0x800;
			enum iommu_resv_type type = prandom_u32_state(&rnd) % IOMMU_RESV_NR_TYPES;
			struct iommu_resv_region *r;
			LIST_HEAD(one);

			r = iommu_resv_kunit_region_alloc(start, start + len - 1, type);
			KUNIT_ASSERT_NOT_NULL(test, r);
			KUNIT_ASSERT_EQ(test, 0, reference_insert(r, &want));
			list_add_tail(&r->list, &one);
			KUNIT_ASSERT_EQ(test, 0, iommu_resv_snapshot_add(snap, NULL, "d", &one));
		}
		KUNIT_ASSERT_EQ(test, 0, iommu_resv_snapshot_seal(snap));
		KUNIT_ASSERT_EQ(test, 0, iommu_resv_snapshot_merge(snap, &got));
		KUNIT_ASSERT_EQ(test, list_count_nodes(&got), list_count_nodes(&want));
		b = list_first_entry(&want, struct iommu_resv_region, list);
		list_for_each_entry(a, &got, list) {
			KUNIT_EXPECT_EQ_MSG(test, a->start, b->start, "trial %u", trial);
			KUNIT_EXPECT_EQ_MSG(test, a->length, b->length, "trial %u", trial);
			KUNIT_EXPECT_EQ_MSG(test, a->type, b->type, "trial %u", trial);
			b = list_next_entry(b, list);
		}
		iommu_put_resv_regions(NULL, &got);
		iommu_put_resv_regions(NULL, &want);
		iommu_resv_snapshot_put(snap);
	}
	KUNIT_EXPECT_EQ(test, live_regions(test), 0);
}

/* Detailed view: per device and owner; its per-type union is the merged list. */
static void detail_lines(struct kunit *test)
{
	static const struct spec in[] = {
		{ 0xfee00000, 0xfeefffff, IOMMU_RESV_MSI, "0000:00:1f.2", "/sys/dmar0" },
		{ 0xfee00000, 0xfeefffff, IOMMU_RESV_MSI, "0000:00:1f.0", "/sys/dmar0" },
		{ 0x0, 0x7fffff, IOMMU_RESV_DIRECT_RELAXABLE, "0000:00:1f.0", "/sys/lpc" },
		{ 0x800000, 0xffffff, IOMMU_RESV_DIRECT_RELAXABLE, "0000:00:1f.0", "/sys/lpc" },
		{ 0x400000, 0x4fffff, IOMMU_RESV_DIRECT_RELAXABLE, "0000:00:1f.0", "/sys/rmrr" },
		{ 0x8000000, 0x80fffff, IOMMU_RESV_SW_MSI, "0000:00:1f.0", NULL },
	};
	static const struct {
		u64 start, end;
		const char *dev, *owner;
	} want[] = {
		{ 0x0, 0xffffff, "0000:00:1f.0", "/sys/lpc" },	/* same owner: merged */
		{ 0x400000, 0x4fffff, "0000:00:1f.0", "/sys/rmrr" },	/* other owner: kept */
		{ 0x8000000, 0x80fffff, "0000:00:1f.0", NULL },
		{ 0xfee00000, 0xfeefffff, "0000:00:1f.0", "/sys/dmar0" },
		{ 0xfee00000, 0xfeefffff, "0000:00:1f.2", "/sys/dmar0" },
	};
	struct iommu_resv_snapshot *snap = new_snapshot(test);
	const struct iommu_resv_line *lines;
	unsigned int i, n;

	add_specs(test, snap, in, ARRAY_SIZE(in));
	KUNIT_ASSERT_EQ(test, 0, iommu_resv_snapshot_seal(snap));
	lines = iommu_resv_snapshot_lines(snap, &n);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, lines);
	KUNIT_ASSERT_EQ(test, n, ARRAY_SIZE(want));
	/* Computed once, then kept with the snapshot */
	KUNIT_EXPECT_PTR_EQ(test, iommu_resv_snapshot_lines(snap, &i), lines);
	for (i = 0; i < n; i++) {
		const struct iommu_resv_region *r = lines[i].entry->region;

		KUNIT_EXPECT_EQ_MSG(test, lines[i].start, want[i].start, "line %u", i);
		KUNIT_EXPECT_EQ_MSG(test, lines[i].end, want[i].end, "line %u", i);
		KUNIT_EXPECT_STREQ_MSG(test, lines[i].entry->dev_name, want[i].dev, "line %u", i);
		if (want[i].owner) {
			KUNIT_EXPECT_EQ(test, r->owner_type, IOMMU_RESV_OWNER_DEVICE);
			KUNIT_EXPECT_STREQ_MSG(test, r->owner, want[i].owner, "line %u", i);
		} else {
			KUNIT_EXPECT_EQ(test, r->owner_type, IOMMU_RESV_OWNER_UNKNOWN);
			KUNIT_EXPECT_NULL(test, r->owner);
		}
	}
	iommu_resv_snapshot_put(snap);
	KUNIT_EXPECT_EQ(test, live_regions(test), 0);
}

/* Build a snapshot of 12 regions over 3 devices, seal and merge it; 0 or -errno. */
static int snapshot_and_merge(struct kunit *test, struct list_head *head)
{
	struct iommu_resv_snapshot *snap = new_snapshot(test);
	unsigned int d, i;
	int ret = 0;

	for (d = 0; d < 3 && !ret; d++) {
		LIST_HEAD(list);

		for (i = 0; i < 4; i++) {
			enum iommu_resv_type type = i % 2 ? IOMMU_RESV_MSI : IOMMU_RESV_RESERVED;
			u64 start = 0x10000 * i + 0x3000 * d;
			struct iommu_resv_region *r;

			r = iommu_resv_kunit_region_alloc(start, start + 0x2fff, type);
			KUNIT_ASSERT_NOT_NULL(test, r);
			list_add_tail(&r->list, &list);
		}
		ret = iommu_resv_snapshot_add(snap, NULL, "d", &list);
		KUNIT_EXPECT_TRUE(test, list_empty(&list));
	}
	if (!ret)
		ret = iommu_resv_snapshot_seal(snap) ?: iommu_resv_snapshot_merge(snap, head);
	iommu_resv_snapshot_put(snap);
	return ret;
}

/* Allocation failure injection: fail the N-th allocation of the core path. */
static void fail_each_allocation(struct kunit *test)
{
	struct iommu_resv_kunit *kt = test->priv;
	unsigned int total;
	LIST_HEAD(head);

	kunit_activate_static_stub(test, iommu_resv_alloc_array, iommu_resv_kunit_alloc_array);
	kunit_activate_static_stub(test, iommu_resv_alloc_span, iommu_resv_kunit_alloc_span);

	kt->alloc_calls = 0;
	kt->alloc_fail_at = 0;
	KUNIT_ASSERT_EQ(test, snapshot_and_merge(test, &head), 0);
	total = kt->alloc_calls;
	KUNIT_ASSERT_GT(test, total, 2);
	KUNIT_EXPECT_EQ(test, list_count_nodes(&head), 4);
	iommu_put_resv_regions(NULL, &head);

	for (kt->alloc_fail_at = 1; kt->alloc_fail_at <= total; kt->alloc_fail_at++) {
		kt->alloc_calls = 0;
		KUNIT_EXPECT_EQ_MSG(test, snapshot_and_merge(test, &head), -ENOMEM,
				    "allocation %u of %u failed", kt->alloc_fail_at, total);
		/* Nothing partial, nothing leaked. */
		KUNIT_EXPECT_TRUE(test, list_empty(&head));
		KUNIT_EXPECT_EQ(test, live_regions(test), 0);
	}
}

static int counting_name_owner(struct iommu_resv_region *region,
			       const struct iommu_resv_region *like)
{
	struct resv_test *t = kunit_get_current_test()->priv;
	struct owner_naming *naming = &t->naming;

	if (++naming->calls == naming->fail_at)
		return -ENOMEM;
	naming->fresh += !like;
	return __iommu_resv_region_name_owner(region, like);
}

#define OWNED_MEMBERS	3
#define OWNED_REGIONS	(3 * OWNED_MEMBERS)

/* Each of three members: two regions owned by @owners[0], one by @owners[1] */
static struct iommu_resv_snapshot *owned_snapshot(struct kunit *test,
						  struct device *owners[2])
{
	static const char * const members[OWNED_MEMBERS] = { "m0", "m1", "m2" };
	struct iommu_resv_snapshot *snap = new_snapshot(test);
	unsigned int i, m;

	for (m = 0; m < OWNED_MEMBERS; m++) {
		LIST_HEAD(list);

		for (i = 0; i < 3; i++) {
			u64 start = 0x1000 * (3 * m + i);
			struct iommu_resv_region *r;

			r = iommu_resv_kunit_region_alloc(start, start + 0xfff,
							  IOMMU_RESV_RESERVED);
			KUNIT_ASSERT_NOT_NULL(test, r);
			iommu_resv_region_set_owner_dev(r, owners[i / 2]);
			list_add_tail(&r->list, &list);
		}
		KUNIT_ASSERT_EQ(test, 0, iommu_resv_snapshot_add(snap, NULL, members[m], &list));
	}
	return snap;
}

static unsigned int owner_refs(struct device *owners[2])
{
	return kref_read(&owners[0]->kobj.kref) + kref_read(&owners[1]->kobj.kref);
}

/*
 * Owners set by reference are named when the snapshot is sealed, each distinct
 * owner once and every region with its own copy of the name, and the
 * references are dropped then. A seal that fails part way leaves the
 * references it did not drop to the snapshot's release.
 */
static void owners_named_at_seal(struct kunit *test)
{
	struct resv_test *t = test->priv;
	struct owner_naming *naming = &t->naming;
	struct iommu_resv_kunit *kt = &t->kt;
	struct iommu_resv_snapshot *snap;
	unsigned int base, i, fail;
	struct device *owners[2];
	char want[2][96];

	for (i = 0; i < 2; i++) {
		owners[i] = kunit_device_register(test, i ? "iommu-resv-owner-b" :
							    "iommu-resv-owner-a");
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, owners[i]);
		/* KUnit's devices hang off its root device, named after the test */
		snprintf(want[i], sizeof(want[i]), "/sys/devices/kunit/%s.iommu-resv-owner-%c",
			 test->name, 'a' + i);
	}
	base = owner_refs(owners);
	kunit_activate_static_stub(test, iommu_resv_alloc_array, iommu_resv_kunit_alloc_array);
	kunit_activate_static_stub(test, iommu_resv_region_name_owner, counting_name_owner);

	kt->alloc_fail_at = 0;
	snap = owned_snapshot(test, owners);
	KUNIT_EXPECT_EQ(test, kref_read(&owners[0]->kobj.kref) + 0u,
			kref_read(&owners[1]->kobj.kref) + 3u);
	KUNIT_EXPECT_EQ(test, owner_refs(owners), base + OWNED_REGIONS);
	KUNIT_ASSERT_EQ(test, iommu_resv_snapshot_seal(snap), 0);
	KUNIT_EXPECT_EQ(test, naming->calls, OWNED_REGIONS);
	KUNIT_EXPECT_EQ(test, naming->fresh, 2);
	KUNIT_ASSERT_EQ(test, snap->nr, OWNED_REGIONS);
	for (i = 0; i < snap->nr; i++) {
		const struct iommu_resv_region *r = snap->entries[i].region;

		KUNIT_EXPECT_EQ_MSG(test, r->owner_type, IOMMU_RESV_OWNER_DEVICE, "entry %u", i);
		/* Sealed entries are in start order, the order they were made in */
		KUNIT_EXPECT_STREQ_MSG(test, r->owner, want[i % 3 / 2], "entry %u", i);
		KUNIT_EXPECT_NULL_MSG(test, r->owner_dev, "entry %u", i);
		if (i)
			KUNIT_EXPECT_PTR_NE(test, r->owner,
					    snap->entries[i - 1].region->owner);
	}
	KUNIT_EXPECT_EQ(test, owner_refs(owners), base);
	iommu_resv_snapshot_put(snap);

	/* Fail the naming's own array, then each naming in turn */
	for (fail = 0; fail <= OWNED_REGIONS; fail++) {
		kt->alloc_fail_at = 0;
		snap = owned_snapshot(test, owners);
		*naming = (struct owner_naming) { .fail_at = fail };
		kt->alloc_calls = 0;
		/* The seal's first core allocation is the naming's */
		kt->alloc_fail_at = fail ? 0 : 1;
		KUNIT_EXPECT_EQ_MSG(test, iommu_resv_snapshot_seal(snap), -ENOMEM,
				    "naming %u failed", fail);
		/* Those named before the failure dropped their references */
		KUNIT_EXPECT_EQ_MSG(test, owner_refs(owners),
				    base + OWNED_REGIONS - (fail ? fail - 1 : 0),
				    "naming %u failed", fail);
		iommu_resv_snapshot_put(snap);
		KUNIT_EXPECT_EQ(test, owner_refs(owners), base);
	}
	KUNIT_EXPECT_EQ(test, live_regions(test), 0);
}

/*
 * An owner that leaves sysfs between its region's report and the seal has no
 * path to name: the region's owner becomes unknown, and the reference goes.
 */
static void gone_owner_is_unknown(struct kunit *test)
{
	struct iommu_resv_snapshot *snap = new_snapshot(test);
	struct iommu_resv_region *r = iommu_resv_kunit_region_alloc(0x1000, 0x1fff,
								    IOMMU_RESV_RESERVED);
	struct device *owner = kunit_device_register(test, "iommu-resv-owner-gone");
	LIST_HEAD(list);

	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, owner);
	iommu_resv_region_set_owner_dev(r, owner);
	list_add_tail(&r->list, &list);
	KUNIT_ASSERT_EQ(test, 0, iommu_resv_snapshot_add(snap, NULL, "m0", &list));
	/* The region's reference keeps the device's memory, not its sysfs entry */
	kunit_device_unregister(test, owner);
	KUNIT_ASSERT_FALSE(test, device_is_registered(owner));

	KUNIT_ASSERT_EQ(test, 0, iommu_resv_snapshot_seal(snap));
	r = snap->entries[0].region;
	KUNIT_EXPECT_EQ(test, r->owner_type, IOMMU_RESV_OWNER_UNKNOWN);
	KUNIT_EXPECT_NULL(test, r->owner);
	KUNIT_EXPECT_NULL(test, r->owner_dev);
	iommu_resv_snapshot_put(snap);
	KUNIT_EXPECT_EQ(test, live_regions(test), 0);
}

/* Snapshot of @nr members that each report the same region */
static struct iommu_resv_snapshot *equal_regions_snapshot(struct kunit *test, int nr)
{
	struct iommu_resv_snapshot *snap = new_snapshot(test);
	char name[8];
	int m;

	for (m = 0; m < nr; m++) {
		struct iommu_resv_region *r;
		LIST_HEAD(list);

		r = iommu_resv_kunit_region_alloc(0x1000, 0x1fff, IOMMU_RESV_RESERVED);
		KUNIT_ASSERT_NOT_NULL(test, r);
		list_add_tail(&r->list, &list);
		snprintf(name, sizeof(name), "m%02d", m);
		KUNIT_ASSERT_EQ(test, 0, iommu_resv_snapshot_add(snap, NULL, name, &list));
	}
	return snap;
}

/*
 * Sealing sorts the entries, and sort() is not stable: equal regions stay in
 * the order they were gathered in, which a refusal's report relies on.
 */
static void seal_keeps_gathering_order_of_equals(struct kunit *test)
{
	struct iommu_resv_snapshot *snap = equal_regions_snapshot(test, 16);
	char want[8];
	int m;

	KUNIT_ASSERT_EQ(test, 0, iommu_resv_snapshot_seal(snap));
	KUNIT_ASSERT_EQ(test, snap->nr, 16);
	for (m = 0; m < 16; m++) {
		snprintf(want, sizeof(want), "m%02d", m);
		KUNIT_EXPECT_STREQ(test, snap->entries[m].dev_name, want);
	}
	iommu_resv_snapshot_put(snap);
	KUNIT_EXPECT_EQ(test, live_regions(test), 0);
}

/* A fake IOMMU provider behind iommu_get_resv_regions(). */
static void provider_failure_is_not_hidden(struct kunit *test)
{
	struct iommu_resv_kunit_region *five = kunit_kcalloc(test, 5, sizeof(*five), GFP_KERNEL);
	struct iommu_resv_kunit *kt = test->priv;
	struct device *dev = iommu_resv_kunit_device(test, "iommu-resv-fake");
	struct iommu_resv_region *r;
	LIST_HEAD(head);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, five);
	for (i = 0; i < 5; i++) {
		five[i].start = 0x100000 * (i + 1);
		five[i].last = five[i].start + 0xfff;
		five[i].type = IOMMU_RESV_RESERVED;
	}
	iommu_resv_kunit_report(test, five, 5, NULL);

	/* The caller's list keeps what it had, and gets nothing on failure. */
	r = iommu_resv_kunit_region_alloc(0x1, 0x1, IOMMU_RESV_MSI);
	KUNIT_ASSERT_NOT_NULL(test, r);
	list_add_tail(&r->list, &head);

	for (kt->fail_at = 1; kt->fail_at <= 5; kt->fail_at++) {
		KUNIT_EXPECT_EQ(test, iommu_get_resv_regions(dev, &head), -ENOMEM);
		KUNIT_EXPECT_EQ(test, list_count_nodes(&head), 1);
		KUNIT_EXPECT_EQ(test, live_regions(test), 1);
	}
	kt->fail_at = 0;
	KUNIT_EXPECT_EQ(test, iommu_get_resv_regions(dev, &head), 0);
	KUNIT_EXPECT_EQ(test, list_count_nodes(&head), 6);

	iommu_put_resv_regions(dev, &head);
	KUNIT_EXPECT_EQ(test, live_regions(test), 0);
	dev->iommu = NULL;
}

#define MERGE_REGIONS	8192
#define MERGE_PARTS	8

/*
 * Seal and merge @parts snapshots of MERGE_REGIONS / @parts regions each (8
 * regions a device); returns the time all of them took, in ns.
 */
static u64 time_merges(struct kunit *test, unsigned int parts, struct rnd_state *rnd)
{
	struct iommu_resv_snapshot *snap[MERGE_PARTS];
	unsigned int i, p;
	LIST_HEAD(head);
	u64 t0, t;

	for (p = 0; p < parts; p++) {
		snap[p] = new_snapshot(test);
		for (i = 0; i < MERGE_REGIONS / parts; i += 8) {
			LIST_HEAD(list);
			unsigned int k;

			for (k = 0; k < 8; k++) {
				u64 start = (u64)prandom_u32_state(rnd) << 12;
				struct iommu_resv_region *r;

				r = iommu_resv_kunit_region_alloc(start, start + 0xfff,
								  k % IOMMU_RESV_NR_TYPES);
				KUNIT_ASSERT_NOT_NULL(test, r);
				list_add_tail(&r->list, &list);
			}
			KUNIT_ASSERT_EQ(test, 0,
					iommu_resv_snapshot_add(snap[p], NULL, "d", &list));
		}
	}
	t0 = ktime_get_ns();
	for (p = 0; p < parts; p++) {
		KUNIT_ASSERT_EQ(test, 0, iommu_resv_snapshot_seal(snap[p]));
		KUNIT_ASSERT_EQ(test, 0, iommu_resv_snapshot_merge(snap[p], &head));
	}
	t = ktime_get_ns() - t0;
	KUNIT_EXPECT_LE(test, list_count_nodes(&head), MERGE_REGIONS);
	iommu_put_resv_regions(NULL, &head);
	for (p = 0; p < parts; p++)
		iommu_resv_snapshot_put(snap[p]);
	return t;
}

/*
 * Thousands of regions: merging 8192 at once must not cost much more than
 * merging them as 8 groups of 1024. n log n predicts 1.3x, quadratic 8x.
 * Both are timed over the same work so that a busy host (TCG), which slows
 * a long run more than a short one, weighs on both alike: best of three
 * runs each, and up to three tries, as a quadratic merge fails them all.
 */
static void merge_thousands(struct kunit *test)
{
	u64 parts = U64_MAX, whole = U64_MAX;
	struct rnd_state rnd;
	int i, try;

	prandom_seed_state(&rnd, 42);
	for (try = 0; try < 3; try++) {
		parts = U64_MAX;
		whole = U64_MAX;
		for (i = 0; i < 3; i++) {
			parts = min(parts, time_merges(test, MERGE_PARTS, &rnd));
			whole = min(whole, time_merges(test, 1, &rnd));
		}
		kunit_info(test, "merge of %u regions: %u x %u in %llu us, at once in %llu us\n",
			   MERGE_REGIONS, MERGE_PARTS, MERGE_REGIONS / MERGE_PARTS,
			   div_u64(parts, NSEC_PER_USEC), div_u64(whole, NSEC_PER_USEC));
		if (whole < 4 * parts)
			break;
	}
	KUNIT_EXPECT_LT(test, whole, 4 * parts);
	KUNIT_EXPECT_EQ(test, live_regions(test), 0);
}

/* A snapshot keeps its members' names after the group lets them go. */
static void snapshot_keeps_member_names(struct kunit *test)
{
	static const char want[] = "0000:00:01.0";
	struct iommu_resv_snapshot *snap = new_snapshot(test);
	struct iommu_resv_region *r;
	LIST_HEAD(list);
	char *name;

	name = kstrdup(want, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, name);
	r = iommu_alloc_resv_region(0x1000, 0x1000, 0, IOMMU_RESV_RESERVED, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	list_add_tail(&r->list, &list);

	KUNIT_ASSERT_EQ(test, 0, iommu_resv_snapshot_add(snap, NULL, name, &list));
	memset(name, 'x', sizeof(want) - 1);
	kfree(name);
	KUNIT_ASSERT_EQ(test, snap->nr, 1);
	KUNIT_ASSERT_EQ(test, snap->nr_members, 1);
	KUNIT_EXPECT_STREQ(test, snap->entries[0].dev_name, want);
	KUNIT_EXPECT_PTR_EQ(test, snap->entries[0].dev_name, snap->members[0].name);
	iommu_resv_snapshot_put(snap);
}

/*
 * What one read() of a file gets: whole lines from its offset, unless the
 * first does not fit alone; nothing at or past the end.
 */
static void read_copies_whole_lines(struct kunit *test)
{
	static const char file[] = "aa\nbbbb\ncc\n";
	static const struct {
		loff_t off;
		size_t count;
		const char *want;
	} reads[] = {
		{ 0, 100, "aa\nbbbb\ncc\n" },
		{ 0, 3, "aa\n" },
		{ 0, 4, "aa\n" },		/* not the first byte of the next line */
		{ 0, 2, "aa" },		/* a line longer than the buffer */
		{ 1, 2, "a\n" },		/* the rest of a line */
		{ 1, 6, "a\n" },
		{ 1, 7, "a\nbbbb\n" },
		{ 3, 1, "b" },
		{ 8, 3, "cc\n" },
		{ 8, 2, "cc" },
		{ 8, 100, "cc\n" },
		{ 11, 100, "" },
		{ 12, 100, "" },
		{ LLONG_MAX, 100, "" },
	};
	struct iommu_resv_text text = { .buf = file, .len = sizeof(file) - 1 };
	struct iommu_resv_text empty = { .buf = "", .len = 0 };
	char buf[100];
	unsigned int i;
	size_t n;

	for (i = 0; i < ARRAY_SIZE(reads); i++) {
		memset(buf, 0, sizeof(buf));
		n = iommu_resv_copy_lines(&text, buf, reads[i].off, reads[i].count);
		KUNIT_EXPECT_EQ_MSG(test, n, strlen(reads[i].want), "read %u", i);
		KUNIT_EXPECT_STREQ_MSG(test, buf, reads[i].want, "read %u", i);
	}
	KUNIT_EXPECT_EQ(test, 0, iommu_resv_copy_lines(&empty, buf, 0, 100));
}

static struct kunit_case iommu_resv_test_cases[] = {
	KUNIT_CASE(merge_same_type),
	KUNIT_CASE(merge_types_stay_apart),
	KUNIT_CASE(merge_top_of_address_space),
	KUNIT_CASE(merge_matches_reference),
	KUNIT_CASE(detail_lines),
	KUNIT_CASE(fail_each_allocation),
	KUNIT_CASE(provider_failure_is_not_hidden),
	KUNIT_CASE(owners_named_at_seal),
	KUNIT_CASE(gone_owner_is_unknown),
	KUNIT_CASE(seal_keeps_gathering_order_of_equals),
	KUNIT_CASE(snapshot_keeps_member_names),
	KUNIT_CASE(read_copies_whole_lines),
	KUNIT_CASE_SLOW(merge_thousands),
	{}
};

IOMMU_RESV_KUNIT_SUITE(iommu_resv_test, "iommu-resv", resv_test_init, NULL,
		       "KUnit tests for IOMMU group reserved regions");
