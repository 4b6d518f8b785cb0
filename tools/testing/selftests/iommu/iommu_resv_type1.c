// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO type1 enforces the reserved regions a group reports in sysfs: a
 * mapping that touches one is rejected with EINVAL, a mapping just outside
 * is accepted, and VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE is the complement.
 *
 * Uses every QEMU "edu" device (1234:11e8) it finds, bound to vfio-pci.
 */
#include <sys/mman.h>
#include "iommu_resv_utils.h"
#include "../kselftest_harness.h"

#define MAX_DEVS	16

FIXTURE(type1) {
	char bdf[MAX_DEVS][16];
	int group[MAX_DEVS];
	int nr;
	void *buf;
	size_t page;
};

FIXTURE_SETUP(type1)
{
	int bad = 0;

	self->page = sysconf(_SC_PAGESIZE);
	if (access("/dev/vfio/vfio", F_OK))
		SKIP(return, "no /dev/vfio/vfio");
	self->nr = resv_bind_edus(self->bdf, self->group, MAX_DEVS, &bad);
	if (!self->nr)
		SKIP(return, "no edu device");
	ASSERT_LT(0, self->nr) TH_LOG("%s: bind to vfio-pci failed: %s", self->bdf[bad],
				      strerror(-self->nr));
	self->buf = mmap(NULL, 2 * self->page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
}

FIXTURE_TEARDOWN(type1)
{
	if (self->buf && self->buf != MAP_FAILED)
		munmap(self->buf, 2 * self->page);
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
	struct resv_region r[RESV_MAX];
	struct resv_range u[RESV_MAX];
	uint64_t pg = self->page;
	int d, i, k, n, nu, container, gfd = -1, checked = 0;

	for (d = 0; d < self->nr; d++) {
		n = resv_read_group(self->group[d], r, RESV_MAX);
		ASSERT_LE(0, n);
		nu = resv_complement(r, n, 0, RESV_APERTURE_END, u, RESV_MAX);
		ASSERT_LE(0, nu);
		container = resv_type1_container(self->group[d], &gfd);
		ASSERT_LE(0, container) TH_LOG("%s: container: %s", self->bdf[d],
					       strerror(-container));
		for (i = 0; i < n; i++) {
			uint64_t s = r[i].start & ~(pg - 1);
			uint64_t e = r[i].end | (pg - 1);	/* last byte of last page */
			struct probe probes[] = {
				{ "first page", s, pg },
				{ "last page", e - pg + 1, pg },
				{ "straddling start", s - pg, 2 * pg },
				{ "straddling end", e - pg + 1, 2 * pg },
				{ "page below", s - pg, pg },
				{ "page above", e + 1, pg },
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
				got = try_map(container, self->buf, p->start, p->size);
				EXPECT_EQ(want, got)
					TH_LOG("%s: %s of %s at 0x%llx: map 0x%llx+0x%llx = %d",
					       self->bdf[d], p->what, r[i].type,
					       (unsigned long long)r[i].start,
					       (unsigned long long)p->start,
					       (unsigned long long)p->size, got);
				checked++;
			}
		}
		close(gfd);
		close(container);
	}
	ASSERT_LT(0, checked);
}

/* CAP_IOVA_RANGE equals the aperture minus the regions type1 excludes. */
TEST_F(type1, iova_ranges_are_complement)
{
	struct resv_region r[RESV_MAX];
	struct resv_range want[RESV_MAX], got[RESV_MAX];
	int d, i, n, nw, ng, container, gfd = -1;

	for (d = 0; d < self->nr; d++) {
		n = resv_read_group(self->group[d], r, RESV_MAX);
		ASSERT_LE(0, n);
		nw = resv_complement(r, n, 0, RESV_APERTURE_END, want, RESV_MAX);
		ASSERT_LE(0, nw);
		container = resv_type1_container(self->group[d], &gfd);
		ASSERT_LE(0, container);
		ng = resv_type1_iova_ranges(container, got, RESV_MAX);
		ASSERT_EQ(nw, ng) TH_LOG("%s group %d: %d usable ranges reported, %d expected",
					 self->bdf[d], self->group[d], ng, nw);
		for (i = 0; i < nw; i++) {
			EXPECT_EQ(want[i].start, got[i].start)
				TH_LOG("%s: range %d starts at 0x%llx, want 0x%llx",
				       self->bdf[d], i, (unsigned long long)got[i].start,
				       (unsigned long long)want[i].start);
			EXPECT_EQ(want[i].end, got[i].end)
				TH_LOG("%s: range %d ends at 0x%llx, want 0x%llx",
				       self->bdf[d], i, (unsigned long long)got[i].end,
				       (unsigned long long)want[i].end);
		}
		close(gfd);
		close(container);
	}
}

/* The MSI window specifically: a page in its middle is rejected with EINVAL. */
TEST_F(type1, msi_window_rejected)
{
	int d, container, gfd = -1;
	uint64_t mid = (RESV_MSI_START + RESV_MSI_END) / 2 & ~(uint64_t)(self->page - 1);

	for (d = 0; d < self->nr; d++) {
		container = resv_type1_container(self->group[d], &gfd);
		ASSERT_LE(0, container);
		EXPECT_EQ(-EINVAL, try_map(container, self->buf, mid, self->page));
		/* And the same buffer maps fine at an ordinary IOVA. */
		EXPECT_EQ(0, try_map(container, self->buf, 0x100000, self->page));
		close(gfd);
		close(container);
	}
}

TEST_HARNESS_MAIN
