// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO type1 enforces what sysfs reports, with a reason in the kernel log:
 *
 *  - a refused VFIO_IOMMU_MAP_DMA logs one line naming the range, the region,
 *    its type, its device and group, and its owner, as reserved_regions_detail
 *    has them;
 *  - every refusal is traced (reserved_region_overlap), while the log line is
 *    rate-limited per container;
 *  - attaching a group to a container whose mappings overlap the group's
 *    reserved regions is predicted from sysfs alone, and the prediction is
 *    exactly the outcome: refused (EINVAL, with the same kind of line) while
 *    a mapping overlaps, accepted once it is gone.
 *
 * Uses every QEMU "edu" device (1234:11e8), bound to vfio-pci.
 */
#include <time.h>
#include "iommu_resv_utils.h"
#include "../kselftest_harness.h"

FIXTURE(enforce) {
	struct resv_edus edus;
	int kmsg;	/* /dev/kmsg, for the tests that read the log */
	int gfd_b;	/* a second group, for attach_outcome_predicted_from_sysfs */
};

FIXTURE_SETUP(enforce)
{
	RESV_SKIP_UNLESS(return, RESV_NEED_VFIO | RESV_NEED_DETAIL | RESV_NEED_EDU);
	RESV_EDUS_SETUP(&self->edus, false, 1, MAP_PRIVATE);
	self->gfd_b = -1;
	self->kmsg = resv_kmsg_open();
	ASSERT_LE(0, self->kmsg);
}

FIXTURE_TEARDOWN(enforce)
{
	if (self->gfd_b >= 0)
		close(self->gfd_b);
	close(self->kmsg);
	resv_edus_release(&self->edus);
}

/*
 * The detail line of @group whose range holds @iova, or false; @type, @dev
 * and @owner have room for 32, 64 and PATH_MAX bytes.
 */
static bool detail_at(int group, uint64_t iova, char *type, char *dev, char *owner)
{
	static struct resv_detail d[RESV_MAX];
	int i, n = resv_read_detail(group, d, RESV_MAX);

	for (i = 0; i < n; i++) {
		if (d[i].start <= iova && iova <= d[i].end &&
		    strcmp(d[i].type, "direct-relaxable")) {
			snprintf(type, 32, "%s", d[i].type);
			snprintf(dev, 64, "%s", d[i].dev);
			snprintf(owner, PATH_MAX, "%s", d[i].owner);
			return true;
		}
	}
	return false;
}

/*
 * A refused map is explained: try the MSI window of each edu's group (in
 * every group on both arches) and find the line. The line is rate-limited,
 * and earlier tests refuse many maps: retry for a few seconds.
 */
TEST_F(enforce, refused_map_is_logged)
{
	struct resv_edus *e = &self->edus;
	uint64_t iova = (RESV_MSI_START + RESV_MSI_END) / 2 & ~(uint64_t)(e->page - 1);
	char type[32], dev[64], owner[PATH_MAX], range[64], grp[32];
	int d, tries;

	resv_kmsg_skip(self->kmsg);
	for (d = 0; d < e->nr; d++) {
		bool seen = false;

		ASSERT_TRUE(detail_at(e->group[d], iova, type, dev, owner));
		ASSERT_EQ(0, resv_be_open(&e->be, e->group[d], e->bdf[d]));
		snprintf(range, sizeof(range), "MAP_DMA 0x%llx-0x%llx", (unsigned long long)iova,
			 (unsigned long long)(iova + e->page - 1));
		snprintf(grp, sizeof(grp), "in group %d,", e->group[d]);
		for (tries = 0; tries < 8 && !seen; tries++) {
			const char * const want[] = { range, type, grp, owner };

			if (tries)
				sleep(1);
			EXPECT_EQ(-EINVAL, resv_be_map(&e->be, e->buf, iova, e->page));
			seen = resv_kmsg_has(self->kmsg, want, ARRAY_SIZE(want));
		}
		EXPECT_TRUE(seen) TH_LOG("%s: no log line with \"%s\", %s, \"%s\" and %s",
					 e->bdf[d], range, type, grp, owner);
		resv_be_close(&e->be);
	}
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
 * rate-limited per container, so that many refusals in one container (a VM
 * retrying) do not hide the first refusal in another.
 */
TEST_F(enforce, refusals_traced_and_limited_per_container)
{
	struct resv_edus *e = &self->edus;
	uint64_t iova = (RESV_MSI_START + RESV_MSI_END) / 2 & ~(uint64_t)(e->page - 1);
	char type[32], dev[64], owner[PATH_MAX], range[64], grp[2][32], path[PATH_MAX];
	char first[4096], want[PATH_MAX + 256];
	const int many = 25;	/* more than DEFAULT_RATELIMIT_BURST */
	int d[2] = { 0, -1 }, i, k;
	const char *dir = resv_tracefs();

	if (!dir)
		SKIP(return, "no tracefs with reserved_region_overlap (CONFIG_TRACING)");
	for (i = 1; i < e->nr && d[1] < 0; i++)
		if (e->group[i] != e->group[0])
			d[1] = i;
	ASSERT_LE(0, d[1]) TH_LOG("the topologies have edus in two groups");
	snprintf(range, sizeof(range), "MAP_DMA 0x%llx-0x%llx", (unsigned long long)iova,
		 (unsigned long long)(iova + e->page - 1));
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
			EXPECT_EQ(-EINVAL, resv_be_map(&e->be, e->buf, iova, e->page));
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
		ASSERT_TRUE(detail_at(e->group[d[k]], iova, type, dev, owner));
		snprintf(want, sizeof(want), "%s of %s %s owner %s", type, dev, grp[k], owner);
		first[0] = '\0';
		EXPECT_EQ(k ? 1 : many, resv_trace_count(dir, want, first, sizeof(first)))
			TH_LOG("trace lines with \"%s\"", want);
		EXPECT_NE(NULL, strstr(first, range)) TH_LOG("%s", first);
	}
}

/*
 * SET_CONTAINER of @gfd into @cont fails with EINVAL; with @check_log, a line
 * logged since the call, read from /dev/kmsg reader @fd, names the mapping at
 * @iova and @group (retried: the line is rate-limited).
 */
static bool refused_and_logged(int fd, int gfd, int cont, uint64_t iova, long page, int group,
			       bool check_log)
{
	char mapping[80], grp[32];
	const char * const want[] = { mapping, grp };
	bool ok = false;
	int tries;

	resv_kmsg_skip(fd);

	snprintf(mapping, sizeof(mapping), "SET_CONTAINER: mapping 0x%llx-0x%llx",
		 (unsigned long long)iova, (unsigned long long)(iova + page - 1));
	snprintf(grp, sizeof(grp), "in group %d,", group);
	for (tries = 0; tries < 8 && !ok; tries++) {
		if (tries)
			sleep(1);
		if (!ioctl(gfd, VFIO_GROUP_SET_CONTAINER, &cont) || errno != EINVAL) {
			ok = false;
			break;
		}
		ok = !check_log || resv_kmsg_has(fd, want, ARRAY_SIZE(want));
	}
	return ok;
}

/*
 * Before adding group B to a container that already maps group A's memory,
 * a VMM can tell from sysfs alone whether the attach will work: it fails
 * exactly when a mapping overlaps one of B's regions (direct-relaxable
 * aside). For each pair of edu groups and each region of B that A can map,
 * map it in A's container: attaching B must fail, with a log line naming the
 * mapping and B's region; once unmapped, the same attach must work.
 */
TEST_F(enforce, attach_outcome_predicted_from_sysfs)
{
	struct resv_edus *e = &self->edus;
	struct resv_region ra[RESV_MAX], rb[RESV_MAX];
	struct resv_range ua[RESV_MAX];
	int a, b, i, na, nb, nua, predicted = 0;
	char path[64];

	for (a = 0; a < e->nr; a++) {
		na = resv_read_group(e->group[a], ra, RESV_MAX);
		ASSERT_LE(0, na);
		nua = resv_complement(ra, na, 0, RESV_APERTURE_END, ua, RESV_MAX);
		ASSERT_LE(0, nua);
		for (b = 0; b < e->nr; b++) {
			if (e->group[b] == e->group[a])
				continue;
			nb = resv_read_group(e->group[b], rb, RESV_MAX);
			ASSERT_LE(0, nb);
			for (i = 0; i < nb; i++) {
				uint64_t iova = rb[i].start & ~(uint64_t)(e->page - 1);
				struct vfio_group_status st = { .argsz = sizeof(st) };
				int cont;

				if (!resv_type1_excludes(&rb[i]) ||
				    !resv_usable(ua, nua, iova, iova + e->page - 1))
					continue;	/* A cannot hold such a mapping */
				ASSERT_EQ(0, resv_be_open(&e->be, e->group[a], e->bdf[a]));
				cont = e->be.container;
				ASSERT_EQ(0, resv_be_map(&e->be, e->buf, iova, e->page));
				snprintf(path, sizeof(path), "/dev/vfio/%d", e->group[b]);
				self->gfd_b = open(path, O_RDWR);
				ASSERT_LE(0, self->gfd_b);

				/* Predicted from sysfs: refused, and B is left unattached. */
				EXPECT_TRUE(refused_and_logged(self->kmsg, self->gfd_b, cont, iova,
							       e->page, e->group[b], !predicted))
					TH_LOG("group %d into group %d's container over 0x%llx %s",
					       e->group[b], e->group[a],
					       (unsigned long long)iova, rb[i].type);
				ASSERT_EQ(0, ioctl(self->gfd_b, VFIO_GROUP_GET_STATUS, &st));
				EXPECT_FALSE(st.flags & VFIO_GROUP_FLAGS_CONTAINER_SET);

				/* Mapping gone: predicted to work, and it does. */
				ASSERT_EQ(0, resv_be_unmap(&e->be, iova, e->page));
				EXPECT_EQ(0, ioctl(self->gfd_b, VFIO_GROUP_SET_CONTAINER, &cont))
					TH_LOG("group %d into group %d's container after unmap: %s",
					       e->group[b], e->group[a], strerror(errno));
				ioctl(self->gfd_b, VFIO_GROUP_UNSET_CONTAINER);
				close(self->gfd_b);
				self->gfd_b = -1;
				resv_be_close(&e->be);
				predicted++;
				break;	/* one region per pair keeps the run short */
			}
		}
	}
	TH_LOG("%d attach outcomes predicted", predicted);
	EXPECT_LT(0, predicted);
}

TEST_HARNESS_MAIN
