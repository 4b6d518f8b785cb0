/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the KUnit suites of IOMMU reserved regions share: per-test state in
 * test->priv, a fake IOMMU whose get_resv_regions() reports what each test
 * states, regions that count their frees, and allocations of the core path
 * that fail on demand. Static inline: each suite is a module of its own.
 */
#ifndef __IOMMU_RESV_KUNIT_H
#define __IOMMU_RESV_KUNIT_H

#include <kunit/device.h>
#include <kunit/test.h>
#include <kunit/test-bug.h>
#include <linux/atomic.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/slab.h>

#include "iommu-resv.h"

/**
 * struct iommu_resv_kunit_region - a region the fake IOMMU reports
 * @start: first address
 * @last: last address
 * @type: its type
 * @kind: what claims it, for PCI windows
 * @prot: its IOMMU protection flags
 * @own: owned by the device it is reported for
 */
struct iommu_resv_kunit_region {
	u64 start;
	u64 last;
	enum iommu_resv_type type;
	enum iommu_resv_kind kind;
	int prot;
	bool own;
};

#define IOMMU_RESV_KUNIT_SETS	4

/**
 * struct iommu_resv_kunit - the state of one test, shared part
 * @iommu: the fake IOMMU, whose devices' regions are stated by @sets
 * @sets: what it reports, in order (iommu_resv_kunit_report())
 * @sets.regions: the regions
 * @sets.nr: how many
 * @sets.dev: the only device they are reported for, or NULL for every one
 * @nr_sets: number of @sets in use
 * @fail_at: its report fails with -ENOMEM in place of this region (1-based,
 *	     counted in each report; one past the last fails once all are made);
 *	     0 for never
 * @count_regions: iommu_resv_kunit_region_alloc() counts in @live_regions
 *		   (only for a suite whose regions are all freed by its tests'
 *		   threads, before its module can go)
 * @live_regions: regions of iommu_resv_kunit_region_alloc() not freed yet
 * @alloc_calls: calls to the core's allocators stubbed by
 *		 iommu_resv_kunit_alloc_array() and iommu_resv_kunit_alloc_span()
 * @alloc_fail_at: the call of those that fails (1-based), 0 for none
 * @alloc_fail_all: every call fails
 *
 * A suite's own state starts with it; test->priv points to it.
 */
struct iommu_resv_kunit {
	struct iommu_device iommu;
	struct {
		const struct iommu_resv_kunit_region *regions;
		unsigned int nr;
		const struct device *dev;
	} sets[IOMMU_RESV_KUNIT_SETS];
	unsigned int nr_sets;
	unsigned int fail_at;
	bool count_regions;
	atomic_t live_regions;
	unsigned int alloc_calls;
	unsigned int alloc_fail_at;
	bool alloc_fail_all;
};

/* The state of the test this thread runs, or NULL outside the tests' threads */
static inline struct iommu_resv_kunit *iommu_resv_kunit_current(void)
{
	struct kunit *test = kunit_get_current_test();

	return test ? test->priv : NULL;
}

/*
 * A region freed by another thread (a device that another thread removes
 * drops its group's gathering) is not counted: suites that check the count
 * free everything themselves.
 */
static inline void iommu_resv_kunit_region_free(struct device *dev,
						struct iommu_resv_region *region)
{
	struct iommu_resv_kunit *kt = iommu_resv_kunit_current();

	if (kt)
		atomic_dec(&kt->live_regions);
	kfree(region);
}

/* A region of [@start, @last], counted in live_regions until it is freed if asked */
static inline struct iommu_resv_region *
iommu_resv_kunit_region_alloc(u64 start, u64 last, enum iommu_resv_type type)
{
	struct iommu_resv_kunit *kt = iommu_resv_kunit_current();
	struct iommu_resv_region *r;

	r = iommu_alloc_resv_region(start, last - start + 1, 0, type, GFP_KERNEL);
	if (r && kt && kt->count_regions) {
		r->free = iommu_resv_kunit_region_free;
		atomic_inc(&kt->live_regions);
	}
	return r;
}

/* The fake IOMMU's get_resv_regions(): its sets that apply to @dev */
static inline int iommu_resv_kunit_get_resv_regions(struct device *dev,
						    struct list_head *head)
{
	struct iommu_resv_kunit *kt = iommu_get_iommu_dev(dev, struct iommu_resv_kunit, iommu);
	unsigned int s, i, made = 0;

	for (s = 0; s < kt->nr_sets; s++) {
		const struct iommu_resv_kunit_region *f = kt->sets[s].regions;

		if (kt->sets[s].dev && kt->sets[s].dev != dev)
			continue;
		for (i = 0; i < kt->sets[s].nr; i++, f++) {
			struct iommu_resv_region *r;

			if (++made == kt->fail_at)
				return -ENOMEM;
			r = iommu_resv_kunit_region_alloc(f->start, f->last, f->type);
			if (!r)
				return -ENOMEM;
			r->kind = f->kind;
			r->prot = f->prot;
			if (f->own)
				iommu_resv_region_set_owner_dev(r, dev);
			list_add_tail(&r->list, head);
		}
	}
	/* As a provider that made its regions, then failed to finish the report */
	return ++made == kt->fail_at ? -ENOMEM : 0;
}

/**
 * iommu_resv_kunit_setup - make @kt the test's state
 * @test: the test
 * @kt: zeroed, freed with the test; the start of the suite's state
 */
static inline void iommu_resv_kunit_setup(struct kunit *test, struct iommu_resv_kunit *kt)
{
	/* Here, not at file scope: a suite without the fake IOMMU has no unused ops */
	static const struct iommu_ops ops = {
		.get_resv_regions = iommu_resv_kunit_get_resv_regions,
	};

	kt->iommu.ops = &ops;
	test->priv = kt;
}

/**
 * iommu_resv_kunit_report - add regions to what the fake IOMMU reports
 * @test: the test
 * @regions: the regions, which must last as long as the test
 * @nr: how many
 * @dev: the only device to report them for, or NULL for every device
 */
static inline void iommu_resv_kunit_report(struct kunit *test,
					   const struct iommu_resv_kunit_region *regions,
					   unsigned int nr, const struct device *dev)
{
	struct iommu_resv_kunit *kt = test->priv;

	KUNIT_ASSERT_LT(test, kt->nr_sets, IOMMU_RESV_KUNIT_SETS);
	kt->sets[kt->nr_sets].regions = regions;
	kt->sets[kt->nr_sets].nr = nr;
	kt->sets[kt->nr_sets].dev = dev;
	kt->nr_sets++;
}

/**
 * iommu_resv_kunit_device - a device behind the fake IOMMU, in no group
 * @test: the test, whose life the device has
 * @name: its name
 *
 * Its dev_iommu is the test's: clear dev->iommu before the device leaves a
 * group, or the core frees it.
 *
 * Return: the device.
 */
static inline struct device *iommu_resv_kunit_device(struct kunit *test, const char *name)
{
	struct iommu_resv_kunit *kt = test->priv;
	struct dev_iommu *param = kunit_kzalloc(test, sizeof(*param), GFP_KERNEL);
	struct device *dev = kunit_device_register(test, name);

	KUNIT_ASSERT_NOT_NULL(test, param);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	param->iommu_dev = &kt->iommu;
	dev->iommu = param;
	return dev;
}

/* Whether the core's allocation being made now fails */
static inline bool iommu_resv_kunit_alloc_fails(void)
{
	struct iommu_resv_kunit *kt = kunit_get_current_test()->priv;

	return ++kt->alloc_calls == kt->alloc_fail_at || kt->alloc_fail_all;
}

/* Stub of iommu_resv_alloc_array() (kunit_activate_static_stub()) */
static inline void *iommu_resv_kunit_alloc_array(void *old, size_t n, size_t size)
{
	if (iommu_resv_kunit_alloc_fails())
		return NULL;
	return kvrealloc(old, array_size(n, size), GFP_KERNEL);
}

/* Stub of iommu_resv_alloc_span() */
static inline struct iommu_resv_region *
iommu_resv_kunit_alloc_span(const struct iommu_resv_span *span)
{
	if (iommu_resv_kunit_alloc_fails())
		return NULL;
	return iommu_alloc_resv_region(span->start, span->end - span->start + 1, span->prot,
				       span->type, GFP_KERNEL);
}

/**
 * IOMMU_RESV_KUNIT_SUITE - define and register a suite, and its module's info
 * @prefix: the suite is prefix##_suite, its test cases prefix##_cases
 * @sname: its name in the results
 * @sinit: its init, or NULL
 * @sexit: its exit, or NULL
 * @desc: the module's description
 */
#define IOMMU_RESV_KUNIT_SUITE(prefix, sname, sinit, sexit, desc)	\
	static struct kunit_suite prefix##_suite = {			\
		.name = sname,						\
		.init = sinit,						\
		.exit = sexit,						\
		.test_cases = prefix##_cases,				\
	};								\
	kunit_test_suite(prefix##_suite);				\
	MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);			\
	MODULE_DESCRIPTION(desc);					\
	MODULE_LICENSE("GPL")

#endif /* __IOMMU_RESV_KUNIT_H */
