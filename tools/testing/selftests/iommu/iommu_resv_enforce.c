// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO type1 and iommufd enforce what sysfs reports, with a reason in the
 * kernel log. Each test runs once per backend (the type1 and iommufd
 * variants) unless it says otherwise; type1 holds a group's
 * reserved_regions, iommufd an attached device's lines of
 * reserved_regions_detail:
 *
 *  - the usable IOVA ranges iommufd reports are the aperture minus those
 *    regions (direct-relaxable aside), computed by the test (type1's are
 *    checked by iommu_resv_type1);
 *  - iommufd's IOMMU_IOAS_MAP verdicts at each region edge are those type1
 *    gives against the group's list;
 *  - a refused map logs one line naming the range, the region, its type,
 *    device, group and owner, as reserved_regions_detail has them, and is
 *    traced (reserved_region_overlap); the log line is rate-limited per
 *    container or IOAS;
 *  - attaching a group (type1) or device (iommufd) where mappings overlap
 *    its reserved regions is predicted from sysfs alone, and the prediction
 *    is exactly the outcome: refused, with the same kind of line, while a
 *    mapping overlaps, accepted once it is gone; likewise for a region made
 *    with the test-only injector.
 *
 * Uses every QEMU "edu" device (1234:11e8), bound to vfio-pci.
 */
#include <time.h>
#include "iommu_resv_utils.h"
#include "../kselftest_harness.h"

FIXTURE(enforce) {
	struct resv_edus edus;	/* edus.be: the variant's backend */
	struct resv_be type1;	/* iommufd: type1 to compare with */
	int kmsg;		/* /dev/kmsg, for the tests that read the log */
	int other;		/* the group or cdev of the edu being attached */
	char injected[16];	/* the edu given a region, to take it back */
};

FIXTURE_VARIANT(enforce) {
	bool iommufd;
	unsigned int needs;
	const char *map;	/* how the log and trace name a refused map */
	const char *attach;	/* ... and a refused attach */
	int attach_errno;	/* an attach over a mapping fails with this */
	int max_predicted;	/* pairs attach_outcome_predicted_from_sysfs tries */
};

FIXTURE_VARIANT_ADD(enforce, type1) {
	.iommufd = false,
	.needs = RESV_NEED_VFIO,
	.map = "VFIO_IOMMU_MAP_DMA",
	.attach = "VFIO_GROUP_SET_CONTAINER: mapping",
	.attach_errno = EINVAL,
	.max_predicted = INT_MAX,
};

FIXTURE_VARIANT_ADD(enforce, iommufd) {
	.iommufd = true,
	.needs = RESV_NEED_IOMMUFD,
	.map = "IOMMU_IOAS_MAP",
	.attach = "iommufd attach: mapping",
	.attach_errno = EADDRINUSE,
	/* Each pair costs an IOAS and a domain: too slow for all under TCG */
	.max_predicted = 8,
};

FIXTURE_SETUP(enforce)
{
	self->other = -1;
	self->kmsg = -1;
	resv_be_init(&self->type1, false);
	RESV_SKIP_UNLESS(return, variant->needs | RESV_NEED_DETAIL | RESV_NEED_EDU);
	RESV_EDUS_SETUP(&self->edus, variant->iommufd, 2, MAP_PRIVATE);
	self->kmsg = resv_kmsg_open();
	ASSERT_LE(0, self->kmsg);
}

FIXTURE_TEARDOWN(enforce)
{
	if (self->other >= 0)
		close(self->other);
	resv_be_close(&self->type1);
	if (self->kmsg >= 0)
		close(self->kmsg);
	resv_edus_release(&self->edus);
	if (self->injected[0])
		resv_inject(self->injected, 0, 0, 0, 0, false);
}

/*
 * What the backend reserves for edu @d: its group's list (type1), or its
 * own lines of the group's detail file (iommufd). -errno as resv_read_group().
 */
static int enforced_regions(struct resv_edus *e, int d, struct resv_region *r)
{
	if (e->be.iommufd)
		return resv_read_device(e->group[d], e->bdf[d], r, RESV_MAX);
	return resv_read_group(e->group[d], r, RESV_MAX);
}

static bool enforces(struct resv_be *be, const struct resv_region *r)
{
	return be->iommufd ? resv_iommufd_enforces(r->type) : resv_type1_excludes(r);
}

/* Whether a map at @iova succeeds (then undone): 0 or -errno. */
static int try_map(struct resv_be *be, void *buf, uint64_t iova, uint64_t len)
{
	int ret = resv_be_map(be, buf, iova, len);

	if (!ret)
		resv_be_unmap(be, iova, len);
	return ret;
}

/* A page in the middle of the MSI window, which every group reports */
static uint64_t msi_page(const struct resv_edus *e)
{
	return (RESV_MSI_START + RESV_MSI_END) / 2 & ~(uint64_t)(e->page - 1);
}

/*
 * The line of edu @d's group detail file whose range holds @iova, of any
 * member (type1 reports the group's) or of the edu's own (iommufd), or
 * false; @type, @dev and @owner have room for 32, 64 and PATH_MAX bytes.
 */
static bool detail_at(struct resv_edus *e, int d, uint64_t iova, char *type, char *dev,
		      char *owner)
{
	static struct resv_detail l[RESV_MAX];
	int i, n = resv_read_detail(e->group[d], l, RESV_MAX);

	for (i = 0; i < n; i++) {
		if (l[i].start <= iova && iova <= l[i].end &&
		    strcmp(l[i].type, "direct-relaxable") &&
		    (!e->be.iommufd || !strcmp(l[i].dev, e->bdf[d]))) {
			snprintf(type, 32, "%s", l[i].type);
			snprintf(dev, 64, "%s", l[i].dev);
			snprintf(owner, PATH_MAX, "%s", l[i].owner);
			return true;
		}
	}
	return false;
}

/* The first edu after edu 0 in another group than edu 0's, or -1 */
static int other_group(const struct resv_edus *e)
{
	int d;

	for (d = 1; d < e->nr; d++)
		if (e->group[d] != e->group[0])
			return d;
	return -1;
}

/*
 * Get edu @d ready to join what the backend of @e holds, as a VMM adds a
 * device: open its group (type1) or bind its cdev to the backend's iommufd,
 * in @other. 0 or -errno.
 */
static int other_open(struct resv_edus *e, int d, int *other)
{
	char path[64];

	if (e->be.iommufd) {
		*other = resv_cdev_bind(e->be.ioas.iommufd, e->bdf[d]);
		return *other < 0 ? *other : 0;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", e->group[d]);
	*other = open(path, O_RDWR);
	return *other < 0 ? -errno : 0;
}

/* Add @other to @be's container or attach it to @be's IOAS: 0 or -errno */
static int other_attach(struct resv_be *be, int other)
{
	if (be->iommufd)
		return resv_cdev_attach(other, be->ioas.id);
	return ioctl(other, VFIO_GROUP_SET_CONTAINER, &be->container) ? -errno : 0;
}

/* Undo other_open() and a successful other_attach() */
static void other_close(struct resv_be *be, int *other)
{
	if (*other < 0)
		return;
	if (!be->iommufd)
		ioctl(*other, VFIO_GROUP_UNSET_CONTAINER);
	close(*other);
	*other = -1;
}

/*
 * Attaching @other to @e's backend fails with -@err; with @check_log, a line
 * logged since the call, read from /dev/kmsg reader @fd, starts with @what and
 * names the mapping at @iova and @group (retried: the line is rate-limited).
 */
static bool refused_and_logged(int fd, struct resv_edus *e, int other, const char *what,
			       int err, uint64_t iova, int group, bool check_log)
{
	char mapping[80], grp[32];
	const char * const want[] = { mapping, grp };
	bool ok = false;
	int tries;

	resv_kmsg_skip(fd);

	snprintf(mapping, sizeof(mapping), "%s 0x%llx-0x%llx", what,
		 (unsigned long long)iova, (unsigned long long)(iova + e->page - 1));
	snprintf(grp, sizeof(grp), "in group %d,", group);
	for (tries = 0; tries < 8 && !ok; tries++) {
		if (tries)
			sleep(1);
		if (other_attach(&e->be, other) != -err) {
			ok = false;
			break;
		}
		ok = !check_log || resv_kmsg_has(fd, want, ARRAY_SIZE(want));
	}
	return ok;
}

/*
 * IOMMU_IOAS_IOVA_RANGES is the aperture minus the device's lines of
 * reserved_regions_detail. type1's CAP_IOVA_RANGE is pinned by
 * iommu_resv_type1.
 */
TEST_F(enforce, iova_ranges_are_complement)
{
	struct resv_edus *e = &self->edus;
	struct resv_region r[RESV_MAX];
	struct resv_range want[RESV_MAX], got[RESV_MAX];
	int d, i, n, nw, ng;

	if (!variant->iommufd)
		SKIP(return, "iommufd only: iommu_resv_type1 checks type1's ranges");
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

/*
 * IOMMU_IOAS_MAP over the first and last page of each of a device's
 * regions, and across each edge, is refused, and the pages just outside map
 * exactly when they are usable; type1 gives the same verdicts against the
 * group's list. type1 alone is pinned by iommu_resv_type1.
 */
TEST_F(enforce, map_agrees_with_type1)
{
	struct resv_edus *e = &self->edus;
	struct resv_region r[RESV_MAX];
	struct resv_range u[RESV_MAX];
	uint64_t pg = e->page;
	int d, i, k, n, nu, checked = 0;

	if (!variant->iommufd)
		SKIP(return, "iommufd only: compares iommufd's verdicts with type1's");
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
				EXPECT_EQ(want, try_map(&e->be, e->buf, probe[k][0], probe[k][1]))
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

			if (st < pg)
				continue;
			EXPECT_EQ(want, try_map(&self->type1, e->buf, st - pg, pg));
			if (resv_type1_excludes(&r[i]))
				EXPECT_EQ(-EINVAL, resv_be_map(&self->type1, e->buf, st, pg));
		}
		resv_be_close(&self->type1);
	}
	ASSERT_LT(0, checked);
}

/*
 * A refused map is explained: try the MSI window of each edu's group (in
 * every group on both arches) and find the line, and a trace event for
 * each try. The line is rate-limited: retry for a few seconds.
 */
TEST_F(enforce, refused_map_is_logged)
{
	struct resv_edus *e = &self->edus;
	uint64_t iova = msi_page(e);
	char type[32], dev[64], owner[PATH_MAX], range[64], grp[32], path[PATH_MAX];
	char traced[96];
	const char * const want[] = { range, type, grp, owner };
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

		ASSERT_TRUE(detail_at(e, d, iova, type, dev, owner));
		/* msi, or sw-msi on SMMUv3 */
		EXPECT_NE(NULL, strstr(type, "msi"))
			TH_LOG("%s: 0x%llx is %s", e->bdf[d], (unsigned long long)iova, type);
		resv_kmsg_skip(self->kmsg);
		ASSERT_EQ(0, resv_be_open(&e->be, e->group[d], e->bdf[d]));
		snprintf(range, sizeof(range), "%s 0x%llx-0x%llx", variant->map,
			 (unsigned long long)iova, (unsigned long long)(iova + e->page - 1));
		snprintf(grp, sizeof(grp), "in group %d,", e->group[d]);
		snprintf(traced, sizeof(traced), "%s overlaps reserved", range);
		if (dir)
			before = resv_trace_count(dir, traced, NULL, 0);
		for (tries = 0; tries < 8 && !seen; tries++) {
			if (tries)
				sleep(1);
			EXPECT_EQ(-EINVAL, try_map(&e->be, e->buf, iova, e->page));
			seen = resv_kmsg_has(self->kmsg, want, ARRAY_SIZE(want));
		}
		EXPECT_TRUE(seen) TH_LOG("%s: no log line with \"%s\", %s, \"%s\" and %s",
					 e->bdf[d], range, type, grp, owner);
		if (dir)
			EXPECT_EQ(before + tries, resv_trace_count(dir, traced, NULL, 0))
				TH_LOG("%s: %d refusals, not each traced", e->bdf[d], tries);
		resv_be_close(&e->be);
	}
	if (dir)
		resv_write_file(path, "0");
}

/* How many records logged since resv_kmsg_open() contain @what and @group */
static void kmsg_count(int fd, const char *what, const char * const *group, int *count,
		       int n)
{
	char rec[2048];
	ssize_t len;
	int k;

	for (k = 0; k < n; k++)
		count[k] = 0;
	while ((len = read(fd, rec, sizeof(rec) - 1)) > 0) {
		rec[len] = '\0';
		for (k = 0; k < n; k++)
			count[k] += strstr(rec, what) && strstr(rec, group[k]);
	}
}

/*
 * Every refused map is traced, with what the log line has; the log is
 * rate-limited per container or IOAS, so that many refusals in one (a VM
 * retrying) do not hide the first refusal in another.
 */
TEST_F(enforce, refusals_traced_and_limited_per_container)
{
	struct resv_edus *e = &self->edus;
	uint64_t iova = msi_page(e);
	char type[32], dev[64], owner[PATH_MAX], range[64], grp[2][32], path[PATH_MAX];
	char first[4096], want[PATH_MAX + 256];
	const int many = 25;	/* more than DEFAULT_RATELIMIT_BURST */
	int d[2] = { 0, other_group(e) }, i, k;
	const char *dir = resv_tracefs();

	if (!dir)
		SKIP(return, "no tracefs with reserved_region_overlap (CONFIG_TRACING)");
	ASSERT_LE(0, d[1]) TH_LOG("the topologies have edus in two groups");
	snprintf(range, sizeof(range), "%s 0x%llx-0x%llx", variant->map,
		 (unsigned long long)iova, (unsigned long long)(iova + e->page - 1));
	snprintf(path, sizeof(path), "%s/events/iommu/reserved_region_overlap/enable", dir);
	ASSERT_EQ(0, resv_write_file(path, "1"));
	snprintf(path, sizeof(path), "%s/trace", dir);
	i = open(path, O_WRONLY | O_TRUNC);	/* clears the buffer */
	ASSERT_LE(0, i);
	close(i);

	resv_kmsg_skip(self->kmsg);
	for (k = 0; k < 2; k++) {
		snprintf(grp[k], sizeof(grp[k]), "in group %d,", e->group[d[k]]);
		ASSERT_EQ(0, resv_be_open(&e->be, e->group[d[k]], e->bdf[d[k]]));
		for (i = 0; i < (k ? 1 : many); i++)
			EXPECT_EQ(-EINVAL, try_map(&e->be, e->buf, iova, e->page));
		resv_be_close(&e->be);
	}
	{
		const char * const groups[] = { grp[0], grp[1] };
		int logged[2];

		kmsg_count(self->kmsg, range, groups, logged, 2);
		EXPECT_LT(0, logged[0]);
		EXPECT_GT(many, logged[0]) TH_LOG("%d refusals, %d lines: not rate-limited",
						  many, logged[0]);
		/* The other container's first refusal is not hidden by the first's */
		EXPECT_EQ(1, logged[1]) TH_LOG("group %d's refusal not logged", e->group[d[1]]);
	}
	snprintf(path, sizeof(path), "%s/events/iommu/reserved_region_overlap/enable", dir);
	resv_write_file(path, "0");

	/* Every refusal traced, with the range, the region's type, device, group, owner */
	for (k = 0; k < 2; k++) {
		ASSERT_TRUE(detail_at(e, d[k], iova, type, dev, owner));
		snprintf(want, sizeof(want), "%s of %s %s owner %s", type, dev, grp[k], owner);
		first[0] = '\0';
		EXPECT_EQ(k ? 1 : many, resv_trace_count(dir, want, first, sizeof(first)))
			TH_LOG("trace lines with \"%s\"", want);
		EXPECT_NE(NULL, strstr(first, range)) TH_LOG("%s", first);
	}
}

/*
 * Before adding edu B to a container or IOAS that already maps edu A's
 * memory, a VMM can tell from sysfs alone whether the attach will work: it
 * fails exactly when a mapping overlaps one of the regions the backend
 * reserves for B. For each pair of edus in two groups and each such region
 * A can map, map it in A's container or IOAS: attaching B must fail, with a
 * log line naming the mapping and B's group; once unmapped, it must work.
 * iommufd tries the first few pairs only.
 */
TEST_F_TIMEOUT(enforce, attach_outcome_predicted_from_sysfs, 120)
{
	struct resv_edus *e = &self->edus;
	struct resv_region ra[RESV_MAX], rb[RESV_MAX];
	struct resv_range ua[RESV_MAX];
	int a, b, i, na, nb, nua, ret, predicted = 0;

	for (a = 0; a < e->nr && predicted < variant->max_predicted; a++) {
		na = enforced_regions(e, a, ra);
		ASSERT_LE(0, na);
		nua = resv_complement(ra, na, 0, RESV_APERTURE_END, ua, RESV_MAX);
		ASSERT_LE(0, nua);
		for (b = 0; b < e->nr && predicted < variant->max_predicted; b++) {
			if (e->group[b] == e->group[a])
				continue;
			nb = enforced_regions(e, b, rb);
			ASSERT_LE(0, nb);
			for (i = 0; i < nb; i++) {
				uint64_t iova = rb[i].start & ~(uint64_t)(e->page - 1);
				struct vfio_group_status st = { .argsz = sizeof(st) };

				if (!enforces(&e->be, &rb[i]) ||
				    !resv_usable(ua, nua, iova, iova + e->page - 1))
					continue;	/* A cannot hold such a mapping */
				ASSERT_EQ(0, resv_be_open(&e->be, e->group[a], e->bdf[a]));
				ASSERT_EQ(0, resv_be_map(&e->be, e->buf, iova, e->page));
				ASSERT_EQ(0, other_open(e, b, &self->other))
					TH_LOG("%s", e->bdf[b]);

				/* Predicted from sysfs: refused, and B is left unattached. */
				EXPECT_TRUE(refused_and_logged(self->kmsg, e, self->other,
							       variant->attach,
							       variant->attach_errno, iova,
							       e->group[b], !predicted))
					TH_LOG("%s (group %d) to %s's (group %d) over 0x%llx %s",
					       e->bdf[b], e->group[b], e->bdf[a], e->group[a],
					       (unsigned long long)iova, rb[i].type);
				if (!variant->iommufd) {
					ASSERT_EQ(0, ioctl(self->other, VFIO_GROUP_GET_STATUS,
							   &st));
					EXPECT_FALSE(st.flags & VFIO_GROUP_FLAGS_CONTAINER_SET);
				}

				/* Mapping gone: predicted to work, and it does. */
				ASSERT_EQ(0, resv_be_unmap(&e->be, iova, e->page));
				ret = other_attach(&e->be, self->other);
				EXPECT_EQ(0, ret)
					TH_LOG("%s (group %d) to %s's (group %d) after unmap: %s",
					       e->bdf[b], e->group[b], e->bdf[a], e->group[a],
					       strerror(-ret));
				other_close(&e->be, &self->other);
				resv_be_close(&e->be);
				predicted++;
				break;	/* one region per pair keeps the run short */
			}
		}
	}
	TH_LOG("%d attach outcomes predicted", predicted);
	EXPECT_LT(0, predicted);
}

/*
 * The same for a region made with the test-only injector on an edu of a
 * second group, whatever the topology reports: with a mapping over its last
 * page, attaching that edu is refused (iommufd: EADDRINUSE, as before the
 * series) with a line naming the mapping and the region, and accepted once
 * the mapping is gone.
 */
TEST_F(enforce, attach_conflict_is_logged)
{
	const uint64_t r_start = 0x4000000000ULL, r_size = 0x200000ULL;
	struct resv_edus *e = &self->edus;
	uint64_t iova = r_start + r_size - e->page;
	char range[96], grp[32];
	const char * const want[] = { variant->attach, range, grp };
	int other = other_group(e);

	RESV_SKIP_UNLESS(return, RESV_NEED_INJECT);
	ASSERT_LE(0, other) TH_LOG("needs edu devices in two groups");

	ASSERT_EQ(0, resv_inject(e->bdf[other], 1, r_start, r_size, r_size, false));
	memcpy(self->injected, e->bdf[other], sizeof(self->injected));
	ASSERT_EQ(0, resv_be_open(&e->be, e->group[0], e->bdf[0]));
	ASSERT_EQ(0, resv_be_map(&e->be, e->buf, iova, e->page));
	ASSERT_EQ(0, other_open(e, other, &self->other)) TH_LOG("%s", e->bdf[other]);

	resv_kmsg_skip(self->kmsg);
	EXPECT_EQ(-variant->attach_errno, other_attach(&e->be, self->other));
	snprintf(range, sizeof(range), "0x%llx-0x%llx overlaps reserved 0x%llx-0x%llx",
		 (unsigned long long)iova, (unsigned long long)(iova + e->page - 1),
		 (unsigned long long)r_start, (unsigned long long)(r_start + r_size - 1));
	snprintf(grp, sizeof(grp), "of %s in group %d,", e->bdf[other], e->group[other]);
	EXPECT_TRUE(resv_kmsg_has(self->kmsg, want, ARRAY_SIZE(want)))
		TH_LOG("no \"%s\" line for %s", range, e->bdf[other]);

	ASSERT_EQ(0, resv_be_unmap(&e->be, iova, e->page));
	EXPECT_EQ(0, other_attach(&e->be, self->other)) TH_LOG("%s after unmap", e->bdf[other]);
	other_close(&e->be, &self->other);
	resv_be_close(&e->be);
	EXPECT_EQ(0, resv_inject(e->bdf[other], 0, 0, 0, 0, false));
	self->injected[0] = '\0';
}

TEST_HARNESS_MAIN
