// SPDX-License-Identifier: GPL-2.0-only
/*
 * iommufd enforces what sysfs lists for the device, as VFIO type1 does for
 * the group: for every edu device, bound through its VFIO cdev and attached
 * to an IOAS,
 *
 *  - IOMMU_IOAS_IOVA_RANGES is the aperture minus the device's lines of its
 *    group's reserved_regions_detail (direct-relaxable aside), computed by
 *    the test;
 *  - IOMMU_IOAS_MAP at a fixed IOVA over the first and last page of each of
 *    those regions, and across each edge, is refused with EINVAL, and the
 *    pages just outside are mapped exactly when they are usable; type1 gives
 *    the same verdicts against the group's reserved_regions;
 *  - refusals (a map, an attach over existing mappings) are explained in the
 *    kernel log.
 */
#include <sys/mman.h>
#include "iommu_resv_utils.h"
#include "../kselftest_harness.h"

#define MAX_DEVS	16

/* Whether IOMMU_IOAS_MAP at @iova succeeds (then undone): 0 or -errno. */
static int ioas_map(struct resv_ioas *s, void *buf, uint64_t iova, uint64_t len)
{
	int ret = resv_ioas_map(s, buf, iova, len);

	if (!ret)
		resv_ioas_unmap(s, iova, len);
	return ret;
}

FIXTURE(iommufd) {
	char bdf[MAX_DEVS][16];
	int group[MAX_DEVS];
	int nr;
	void *buf;
	long page;
};

FIXTURE_SETUP(iommufd)
{
	int bad = 0;

	self->page = sysconf(_SC_PAGESIZE);
	if (access("/dev/iommu", F_OK) || access("/dev/vfio/devices", F_OK))
		SKIP(return, "no /dev/iommu or VFIO cdev");
	self->nr = resv_bind_edus(self->bdf, self->group, MAX_DEVS, &bad);
	if (!self->nr)
		SKIP(return, "no edu device");
	ASSERT_LT(0, self->nr) TH_LOG("%s: bind to vfio-pci failed: %s", self->bdf[bad],
				      strerror(-self->nr));
	self->buf = mmap(NULL, 2 * self->page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
}

FIXTURE_TEARDOWN(iommufd)
{
	if (self->buf && self->buf != MAP_FAILED)
		munmap(self->buf, 2 * self->page);
}

TEST_F(iommufd, iova_ranges_are_complement)
{
	struct resv_region r[RESV_MAX];
	struct resv_range want[RESV_MAX], got[RESV_MAX];
	int d, i, n, nw, ng;

	for (d = 0; d < self->nr; d++) {
		struct resv_ioas s;

		n = resv_read_device(self->group[d], self->bdf[d], r, RESV_MAX);
		ASSERT_LT(0, n);
		nw = resv_complement(r, n, 0, RESV_APERTURE_END, want, RESV_MAX);
		ASSERT_LE(0, nw);
		ASSERT_EQ(0, resv_ioas_attach(self->bdf[d], &s)) TH_LOG("%s", self->bdf[d]);
		ng = resv_ioas_iova_ranges(&s, got, RESV_MAX);
		EXPECT_EQ(nw, ng)
			TH_LOG("%s group %d: %d ranges, %d expected", self->bdf[d],
			       self->group[d], ng, nw);
		for (i = 0; i < nw && i < ng; i++) {
			EXPECT_EQ(want[i].start, got[i].start)
				TH_LOG("%s: range %d", self->bdf[d], i);
			EXPECT_EQ(want[i].end, got[i].end)
				TH_LOG("%s: range %d", self->bdf[d], i);
		}
		resv_ioas_close(&s);
	}
}

TEST_F(iommufd, map_agrees_with_type1)
{
	struct resv_region r[RESV_MAX];
	struct resv_range u[RESV_MAX];
	uint64_t pg = self->page;
	int d, i, k, n, nu, checked = 0;

	for (d = 0; d < self->nr; d++) {
		int container, gfd = -1;
		struct resv_ioas s;

		n = resv_read_device(self->group[d], self->bdf[d], r, RESV_MAX);
		ASSERT_LT(0, n);
		nu = resv_complement(r, n, 0, RESV_APERTURE_END, u, RESV_MAX);
		ASSERT_LE(0, nu);
		ASSERT_EQ(0, resv_ioas_attach(self->bdf[d], &s));
		for (i = 0; i < n; i++) {
			uint64_t st = r[i].start & ~(pg - 1), e = r[i].end | (pg - 1);
			const uint64_t probe[][2] = {
				{ st, pg }, { e - pg + 1, pg }, { st - pg, 2 * pg },
				{ e - pg + 1, 2 * pg }, { st - pg, pg }, { e + 1, pg },
			};

			for (k = 0; k < ARRAY_SIZE(probe); k++) {
				uint64_t last = probe[k][0] + probe[k][1] - 1;
				int want;

				if (last < probe[k][0] || probe[k][0] > RESV_APERTURE_END)
					continue;
				want = resv_usable(u, nu, probe[k][0], last) ? 0 : -EINVAL;
				EXPECT_EQ(want, ioas_map(&s, self->buf, probe[k][0], probe[k][1]))
					TH_LOG("%s: IOAS_MAP 0x%llx+0x%llx by %s at 0x%llx",
					       self->bdf[d], (unsigned long long)probe[k][0],
					       (unsigned long long)probe[k][1], r[i].type,
					       (unsigned long long)r[i].start);
				checked++;
			}
		}
		resv_ioas_close(&s);

		/* type1 on the same group: the verdicts of the group's list */
		n = resv_read_group(self->group[d], r, RESV_MAX);
		ASSERT_LT(0, n);
		nu = resv_complement(r, n, 0, RESV_APERTURE_END, u, RESV_MAX);
		ASSERT_LE(0, nu);
		container = resv_type1_container(self->group[d], &gfd);
		ASSERT_LE(0, container);
		for (i = 0; i < n; i++) {
			uint64_t st = r[i].start & ~(pg - 1);
			int want = resv_usable(u, nu, st - pg, st - 1) ? 0 : -EINVAL;
			int got;

			if (st < pg)
				continue;
			got = resv_type1_map(container, self->buf, st - pg, pg);
			if (!got)
				resv_type1_unmap(container, st - pg, pg);
			EXPECT_EQ(want, got);
			if (resv_type1_excludes(&r[i]))
				EXPECT_EQ(-EINVAL, resv_type1_map(container, self->buf, st, pg));
		}
		close(gfd);
		close(container);
	}
	ASSERT_LT(0, checked);
}

/*
 * A refused IOMMU_IOAS_MAP is explained like a refused VFIO_IOMMU_MAP_DMA:
 * one (rate-limited, hence retried) line names the range, the group and the
 * region's type, and the reserved_region_overlap trace event has each try.
 */
TEST_F(iommufd, refused_map_is_logged)
{
	uint64_t iova = (RESV_MSI_START + RESV_MSI_END) / 2 & ~(uint64_t)(self->page - 1);
	char range[64], grp[32], path[PATH_MAX], traced[96];
	const char * const want[] = { range, grp, "msi" };
	const char *dir = resv_tracefs();
	int d, fd, tries;

	if (dir) {
		snprintf(path, sizeof(path), "%s/events/iommu/reserved_region_overlap/enable",
			 dir);
		ASSERT_EQ(0, resv_write_file(path, "1"));
	}
	for (d = 0; d < self->nr; d++) {
		bool seen = false;
		struct resv_ioas s;
		int before = 0;

		fd = resv_kmsg_open();
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, resv_ioas_attach(self->bdf[d], &s));
		snprintf(range, sizeof(range), "IOMMU_IOAS_MAP 0x%llx-0x%llx",
			 (unsigned long long)iova, (unsigned long long)(iova + self->page - 1));
		snprintf(grp, sizeof(grp), "in group %d,", self->group[d]);
		snprintf(traced, sizeof(traced), "%s overlaps reserved", range);
		if (dir)
			before = resv_trace_count(dir, traced, NULL, 0);
		for (tries = 0; tries < 8 && !seen; tries++) {
			if (tries)
				sleep(1);
			EXPECT_EQ(-EINVAL, ioas_map(&s, self->buf, iova, self->page));
			seen = resv_kmsg_has(fd, want, ARRAY_SIZE(want));
		}
		EXPECT_TRUE(seen) TH_LOG("%s: no \"%s\" line for group %d", self->bdf[d],
					 range, self->group[d]);
		if (dir)
			EXPECT_EQ(before + tries, resv_trace_count(dir, traced, NULL, 0))
				TH_LOG("%s: %d refusals, not each traced", self->bdf[d], tries);
		resv_ioas_close(&s);
		close(fd);
	}
	if (dir)
		resv_write_file(path, "0");
}

/*
 * Attaching a device to an IOAS whose mappings overlap its group's reserved
 * regions is refused (EADDRINUSE, as before) with the same kind of line, and
 * accepted once the mapping is gone. The region is made with the test-only
 * injector, on a device of a second group.
 */
TEST_F(iommufd, attach_conflict_is_logged)
{
	const uint64_t r_start = 0x4000000000ULL, r_size = 0x200000ULL;
	char inj[128], range[96], grp[32];
	const char * const want[] = { "iommufd attach: mapping", range, grp };
	int d, fd, kmsg, other = -1;
	struct resv_ioas s;

	if (access(RESV_INJECT, W_OK))
		SKIP(return, "no %s (CONFIG_IOMMU_RESV_INJECT)", RESV_INJECT);
	for (d = 1; d < self->nr && other < 0; d++)
		if (self->group[d] != self->group[0])
			other = d;
	ASSERT_LE(0, other) TH_LOG("needs edu devices in two groups");

	snprintf(inj, sizeof(inj), "%s 1 0x%llx 0x%llx 0x%llx", self->bdf[other],
		 (unsigned long long)r_start, (unsigned long long)r_size,
		 (unsigned long long)r_size);
	ASSERT_EQ(0, resv_write_file(RESV_INJECT, inj));
	ASSERT_EQ(0, resv_ioas_attach(self->bdf[0], &s));
	ASSERT_EQ(0, resv_ioas_map(&s, self->buf, r_start + r_size - self->page, self->page));

	kmsg = resv_kmsg_open();
	ASSERT_LE(0, kmsg);
	EXPECT_EQ(-EADDRINUSE, resv_ioas_attach_dev(s.iommufd, s.id, self->bdf[other]));
	snprintf(range, sizeof(range), "0x%llx-0x%llx overlaps reserved 0x%llx-0x%llx",
		 (unsigned long long)(r_start + r_size - self->page),
		 (unsigned long long)(r_start + r_size - 1), (unsigned long long)r_start,
		 (unsigned long long)(r_start + r_size - 1));
	snprintf(grp, sizeof(grp), "of %s in group %d,", self->bdf[other],
		 self->group[other]);
	EXPECT_TRUE(resv_kmsg_has(kmsg, want, ARRAY_SIZE(want)))
		TH_LOG("no \"%s\" line for %s", range, self->bdf[other]);
	close(kmsg);

	ASSERT_EQ(0, resv_ioas_unmap(&s, r_start + r_size - self->page, self->page));
	fd = resv_ioas_attach_dev(s.iommufd, s.id, self->bdf[other]);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
	resv_ioas_close(&s);
	snprintf(inj, sizeof(inj), "%s 0", self->bdf[other]);
	EXPECT_EQ(0, resv_write_file(RESV_INJECT, inj));
}

TEST_HARNESS_MAIN
