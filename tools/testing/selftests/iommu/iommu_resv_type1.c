// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO type1 enforces the reserved regions a group reports in sysfs: a
 * mapping that touches one is rejected with EINVAL, a mapping just outside
 * is accepted, and VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE is the complement.
 *
 * Uses every QEMU "edu" device (1234:11e8) it finds, bound to vfio-pci.
 */
#include "iommu_resv_utils.h"
#include "../kselftest_harness.h"

FIXTURE(type1) {
	struct resv_edus edus;
};

FIXTURE_SETUP(type1)
{
	RESV_SKIP_UNLESS(return, RESV_NEED_VFIO | RESV_NEED_EDU);
	RESV_EDUS_SETUP(&self->edus, false, 2, MAP_PRIVATE);
}

FIXTURE_TEARDOWN(type1)
{
	resv_edus_release(&self->edus);
}

/* Map [iova, iova + size) and expect @expect (0 or -errno); undo a success. */
static int try_map(int container, void *buf, uint64_t iova, uint64_t size)
{
	int ret = resv_type1_map(container, buf, iova, size);

	if (!ret)
		resv_type1_unmap(container, iova, size);
	return ret;
}

struct probe {
	const char *what;
	uint64_t start;
	uint64_t size;
};

/*
 * For every region of every edu group: the first page, the last page, and
 * two pages straddling each edge are rejected when type1 excludes the region;
 * a page just outside each edge is accepted exactly when the test's own
 * complement calls it usable.
 */
TEST_F(type1, map_at_region_edges)
{
	struct resv_edus *e = &self->edus;
	struct resv_region r[RESV_MAX];
	struct resv_range u[RESV_MAX];
	uint64_t pg = e->page;
	int d, i, k, n, nu, ret, checked = 0;

	for (d = 0; d < e->nr; d++) {
		n = resv_read_group(e->group[d], r, RESV_MAX);
		ASSERT_LE(0, n);
		nu = resv_complement(r, n, 0, RESV_APERTURE_END, u, RESV_MAX);
		ASSERT_LE(0, nu);
		ret = resv_be_open(&e->be, e->group[d], e->bdf[d]);
		ASSERT_EQ(0, ret) TH_LOG("%s: container: %s", e->bdf[d], strerror(-ret));
		for (i = 0; i < n; i++) {
			uint64_t s = r[i].start & ~(pg - 1);
			uint64_t end = r[i].end | (pg - 1);	/* last byte of last page */
			struct probe probes[] = {
				{ "first page", s, pg },
				{ "last page", end - pg + 1, pg },
				{ "straddling start", s - pg, 2 * pg },
				{ "straddling end", end - pg + 1, 2 * pg },
				{ "page below", s - pg, pg },
				{ "page above", end + 1, pg },
			};

			for (k = 0; k < ARRAY_SIZE(probes); k++) {
				struct probe *p = &probes[k];
				uint64_t last = p->start + p->size - 1;
				int want, got;

				if (last < p->start)	/* wraps: not a real IOVA range */
					continue;
				if (p->start > RESV_APERTURE_END)
					continue;
				want = resv_usable(u, nu, p->start, last) ? 0 : -EINVAL;
				got = try_map(e->be.container, e->buf, p->start, p->size);
				EXPECT_EQ(want, got)
					TH_LOG("%s: %s of %s at 0x%llx: map 0x%llx+0x%llx = %d",
					       e->bdf[d], p->what, r[i].type,
					       (unsigned long long)r[i].start,
					       (unsigned long long)p->start,
					       (unsigned long long)p->size, got);
				checked++;
			}
		}
		resv_be_close(&e->be);
	}
	ASSERT_LT(0, checked);
}

/* CAP_IOVA_RANGE equals the aperture minus the regions type1 excludes. */
TEST_F(type1, iova_ranges_are_complement)
{
	struct resv_edus *e = &self->edus;
	struct resv_region r[RESV_MAX];
	struct resv_range want[RESV_MAX], got[RESV_MAX];
	int d, i, n, nw, ng;

	for (d = 0; d < e->nr; d++) {
		n = resv_read_group(e->group[d], r, RESV_MAX);
		ASSERT_LE(0, n);
		nw = resv_complement(r, n, 0, RESV_APERTURE_END, want, RESV_MAX);
		ASSERT_LE(0, nw);
		ASSERT_EQ(0, resv_be_open(&e->be, e->group[d], e->bdf[d]));
		ng = resv_type1_iova_ranges(e->be.container, got, RESV_MAX);
		ASSERT_EQ(nw, ng) TH_LOG("%s group %d: %d usable ranges reported, %d expected",
					 e->bdf[d], e->group[d], ng, nw);
		for (i = 0; i < nw; i++) {
			EXPECT_EQ(want[i].start, got[i].start)
				TH_LOG("%s: range %d starts at 0x%llx, want 0x%llx",
				       e->bdf[d], i, (unsigned long long)got[i].start,
				       (unsigned long long)want[i].start);
			EXPECT_EQ(want[i].end, got[i].end)
				TH_LOG("%s: range %d ends at 0x%llx, want 0x%llx",
				       e->bdf[d], i, (unsigned long long)got[i].end,
				       (unsigned long long)want[i].end);
		}
		resv_be_close(&e->be);
	}
}

/* The MSI window specifically: a page in its middle is rejected with EINVAL. */
TEST_F(type1, msi_window_rejected)
{
	struct resv_edus *e = &self->edus;
	uint64_t mid = (RESV_MSI_START + RESV_MSI_END) / 2 & ~(uint64_t)(e->page - 1);
	int d;

	for (d = 0; d < e->nr; d++) {
		ASSERT_EQ(0, resv_be_open(&e->be, e->group[d], e->bdf[d]));
		EXPECT_EQ(-EINVAL, try_map(e->be.container, e->buf, mid, e->page));
		/* And the same buffer maps fine at an ordinary IOVA. */
		EXPECT_EQ(0, try_map(e->be.container, e->buf, 0x100000, e->page));
		resv_be_close(&e->be);
	}
}

TEST_HARNESS_MAIN
