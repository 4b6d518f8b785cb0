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
#include "iommu_resv_utils.h"
#include "../kselftest_harness.h"

/* Whether IOMMU_IOAS_MAP at @iova succeeds (then undone): 0 or -errno. */
static int ioas_map(struct resv_ioas *s, void *buf, uint64_t iova, uint64_t len)
{
	int ret = resv_ioas_map(s, buf, iova, len);

	if (!ret)
		resv_ioas_unmap(s, iova, len);
	return ret;
}

/*
 * The edus, each attached in turn to an IOAS of its own in @edus.be, and for
 * map_agrees_with_type1 to a type1 container (@type1).
 */
FIXTURE(iommufd) {
	struct resv_edus edus;
	struct resv_be type1;
	int kmsg;
	char injected[16];	/* the edu given a region, to take it back */
};

FIXTURE_SETUP(iommufd)
{
	RESV_SKIP_UNLESS(return, RESV_NEED_IOMMUFD | RESV_NEED_EDU);
	RESV_EDUS_SETUP(&self->edus, true, 2, MAP_PRIVATE);
	resv_be_init(&self->type1, false);
	self->kmsg = resv_kmsg_open();
	ASSERT_LE(0, self->kmsg);
}

FIXTURE_TEARDOWN(iommufd)
{
	resv_be_close(&self->type1);
	close(self->kmsg);
	resv_edus_release(&self->edus);
	if (self->injected[0])
		resv_inject(self->injected, 0, 0, 0, 0, false);
}

TEST_F(iommufd, iova_ranges_are_complement)
{
	struct resv_edus *e = &self->edus;
	struct resv_region r[RESV_MAX];
	struct resv_range want[RESV_MAX], got[RESV_MAX];
	int d, i, n, nw, ng;

	for (d = 0; d < e->nr; d++) {
		n = resv_read_device(e->group[d], e->bdf[d], r, RESV_MAX);
		ASSERT_LT(0, n);
		nw = resv_complement(r, n, 0, RESV_APERTURE_END, want, RESV_MAX);
		ASSERT_LE(0, nw);
		ASSERT_EQ(0, resv_be_open(&e->be, e->group[d], e->bdf[d])) TH_LOG("%s", e->bdf[d]);
		ng = resv_be_ranges(&e->be, got, RESV_MAX);
		EXPECT_EQ(nw, ng)
			TH_LOG("%s group %d: %d ranges, %d expected", e->bdf[d],
			       e->group[d], ng, nw);
		for (i = 0; i < nw && i < ng; i++) {
			EXPECT_EQ(want[i].start, got[i].start)
				TH_LOG("%s: range %d", e->bdf[d], i);
			EXPECT_EQ(want[i].end, got[i].end)
				TH_LOG("%s: range %d", e->bdf[d], i);
		}
		resv_be_close(&e->be);
	}
}

TEST_F(iommufd, map_agrees_with_type1)
{
	struct resv_edus *e = &self->edus;
	struct resv_region r[RESV_MAX];
	struct resv_range u[RESV_MAX];
	uint64_t pg = e->page;
	int d, i, k, n, nu, checked = 0;

	for (d = 0; d < e->nr; d++) {
		n = resv_read_device(e->group[d], e->bdf[d], r, RESV_MAX);
		ASSERT_LT(0, n);
		nu = resv_complement(r, n, 0, RESV_APERTURE_END, u, RESV_MAX);
		ASSERT_LE(0, nu);
		ASSERT_EQ(0, resv_be_open(&e->be, e->group[d], e->bdf[d]));
		for (i = 0; i < n; i++) {
			uint64_t st = r[i].start & ~(pg - 1), end = r[i].end | (pg - 1);
			const uint64_t probe[][2] = {
				{ st, pg }, { end - pg + 1, pg }, { st - pg, 2 * pg },
				{ end - pg + 1, 2 * pg }, { st - pg, pg }, { end + 1, pg },
			};

			for (k = 0; k < ARRAY_SIZE(probe); k++) {
				uint64_t last = probe[k][0] + probe[k][1] - 1;
				int want;

				if (last < probe[k][0] || probe[k][0] > RESV_APERTURE_END)
					continue;
				want = resv_usable(u, nu, probe[k][0], last) ? 0 : -EINVAL;
				EXPECT_EQ(want, ioas_map(&e->be.ioas, e->buf, probe[k][0],
							 probe[k][1]))
					TH_LOG("%s: IOAS_MAP 0x%llx+0x%llx by %s at 0x%llx",
					       e->bdf[d], (unsigned long long)probe[k][0],
					       (unsigned long long)probe[k][1], r[i].type,
					       (unsigned long long)r[i].start);
				checked++;
			}
		}
		resv_be_close(&e->be);

		/* type1 on the same group: the verdicts of the group's list */
		n = resv_read_group(e->group[d], r, RESV_MAX);
		ASSERT_LT(0, n);
		nu = resv_complement(r, n, 0, RESV_APERTURE_END, u, RESV_MAX);
		ASSERT_LE(0, nu);
		ASSERT_EQ(0, resv_be_open(&self->type1, e->group[d], e->bdf[d]));
		for (i = 0; i < n; i++) {
			uint64_t st = r[i].start & ~(pg - 1);
			int want = resv_usable(u, nu, st - pg, st - 1) ? 0 : -EINVAL;
			int got;

			if (st < pg)
				continue;
			got = resv_be_map(&self->type1, e->buf, st - pg, pg);
			if (!got)
				resv_be_unmap(&self->type1, st - pg, pg);
			EXPECT_EQ(want, got);
			if (resv_type1_excludes(&r[i]))
				EXPECT_EQ(-EINVAL, resv_be_map(&self->type1, e->buf, st, pg));
		}
		resv_be_close(&self->type1);
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
	struct resv_edus *e = &self->edus;
	uint64_t iova = (RESV_MSI_START + RESV_MSI_END) / 2 & ~(uint64_t)(e->page - 1);
	char range[64], grp[32], path[PATH_MAX], traced[96];
	const char * const want[] = { range, grp, "msi" };
	const char *dir = resv_tracefs();
	int d, tries;

	if (dir) {
		snprintf(path, sizeof(path), "%s/events/iommu/reserved_region_overlap/enable",
			 dir);
		ASSERT_EQ(0, resv_write_file(path, "1"));
	}
	for (d = 0; d < e->nr; d++) {
		bool seen = false;
		int before = 0;

		resv_kmsg_skip(self->kmsg);
		ASSERT_EQ(0, resv_be_open(&e->be, e->group[d], e->bdf[d]));
		snprintf(range, sizeof(range), "IOMMU_IOAS_MAP 0x%llx-0x%llx",
			 (unsigned long long)iova, (unsigned long long)(iova + e->page - 1));
		snprintf(grp, sizeof(grp), "in group %d,", e->group[d]);
		snprintf(traced, sizeof(traced), "%s overlaps reserved", range);
		if (dir)
			before = resv_trace_count(dir, traced, NULL, 0);
		for (tries = 0; tries < 8 && !seen; tries++) {
			if (tries)
				sleep(1);
			EXPECT_EQ(-EINVAL, ioas_map(&e->be.ioas, e->buf, iova, e->page));
			seen = resv_kmsg_has(self->kmsg, want, ARRAY_SIZE(want));
		}
		EXPECT_TRUE(seen) TH_LOG("%s: no \"%s\" line for group %d", e->bdf[d],
					 range, e->group[d]);
		if (dir)
			EXPECT_EQ(before + tries, resv_trace_count(dir, traced, NULL, 0))
				TH_LOG("%s: %d refusals, not each traced", e->bdf[d], tries);
		resv_be_close(&e->be);
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
	struct resv_edus *e = &self->edus;
	struct resv_ioas *s = &e->be.ioas;
	char range[96], grp[32];
	const char * const want[] = { "iommufd attach: mapping", range, grp };
	int d, fd, other = -1;

	RESV_SKIP_UNLESS(return, RESV_NEED_INJECT);
	for (d = 1; d < e->nr && other < 0; d++)
		if (e->group[d] != e->group[0])
			other = d;
	ASSERT_LE(0, other) TH_LOG("needs edu devices in two groups");

	ASSERT_EQ(0, resv_inject(e->bdf[other], 1, r_start, r_size, r_size, false));
	memcpy(self->injected, e->bdf[other], sizeof(self->injected));
	ASSERT_EQ(0, resv_be_open(&e->be, e->group[0], e->bdf[0]));
	ASSERT_EQ(0, resv_ioas_map(s, e->buf, r_start + r_size - e->page, e->page));

	resv_kmsg_skip(self->kmsg);
	EXPECT_EQ(-EADDRINUSE, resv_ioas_attach_dev(s->iommufd, s->id, e->bdf[other]));
	snprintf(range, sizeof(range), "0x%llx-0x%llx overlaps reserved 0x%llx-0x%llx",
		 (unsigned long long)(r_start + r_size - e->page),
		 (unsigned long long)(r_start + r_size - 1), (unsigned long long)r_start,
		 (unsigned long long)(r_start + r_size - 1));
	snprintf(grp, sizeof(grp), "of %s in group %d,", e->bdf[other], e->group[other]);
	EXPECT_TRUE(resv_kmsg_has(self->kmsg, want, ARRAY_SIZE(want)))
		TH_LOG("no \"%s\" line for %s", range, e->bdf[other]);

	ASSERT_EQ(0, resv_ioas_unmap(s, r_start + r_size - e->page, e->page));
	fd = resv_ioas_attach_dev(s->iommufd, s->id, e->bdf[other]);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
	resv_be_close(&e->be);
	EXPECT_EQ(0, resv_inject(e->bdf[other], 0, 0, 0, 0, false));
	self->injected[0] = '\0';
}

TEST_HARNESS_MAIN
