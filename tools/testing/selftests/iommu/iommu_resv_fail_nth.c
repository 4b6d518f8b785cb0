// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fail every allocation in turn, through /proc/thread-self/fail-nth, while a
 * group's reserved regions are gathered: a read of reserved_regions or
 * reserved_regions_detail either returns the whole file or fails with an
 * errno; a VFIO type1 or iommufd attach either fails cleanly or enforces the
 * whole list; a map next to or over a reserved range either fails with an
 * errno and leaves nothing mapped, or behaves as without the failure. Nothing
 * partial is ever printed or enforced.
 *
 * Needs CONFIG_FAULT_INJECTION, CONFIG_FAILSLAB and debugfs; page
 * allocations fail too where CONFIG_FAIL_PAGE_ALLOC is built.
 */
#include "iommu_resv_utils.h"
#include "../kselftest_harness.h"

/*
 * Each test fails every allocation in turn, which takes longer than the
 * harness's default 30 s on a debug kernel (KASAN, lockdep) under TCG.
 */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT	600

#define MAX_NTH		2000
#define FILE_MAX	(1024 * 1024)

/* One read sequence of an open file into buf; length or -errno. */
static ssize_t read_all(int fd, char *buf, size_t size)
{
	ssize_t n, total = 0;

	while ((n = read(fd, buf + total, size - total)) > 0)
		total += n;
	return n < 0 ? -errno : total;
}

/*
 * The attach tests: an edu, bound to vfio-pci, and the container or IOAS a
 * test has open. Named "global" as the plain TEST()s they were, so that they
 * keep their names, and defined first, so that they still run first.
 */
FIXTURE(global) {
	char bdf[16];
	int group;
	struct resv_be be;
};

FIXTURE_SETUP(global)
{
	RESV_SKIP_UNLESS(return, RESV_NEED_EDU);
	self->group = resv_first_edu(self->bdf);
	ASSERT_LE(0, self->group);
	resv_be_init(&self->be, false);
}

FIXTURE_TEARDOWN(global)
{
	resv_be_close(&self->be);
}

FIXTURE(fail_nth) {
	int groups[RESV_MAX_GROUPS];
	int nr;
	char *want;
	char *got;
};

FIXTURE_SETUP(fail_nth)
{
	self->nr = resv_list_groups(self->groups, RESV_MAX_GROUPS);
	if (self->nr <= 0)
		SKIP(return, "no IOMMU groups");
	RESV_SKIP_UNLESS(return, RESV_NEED_FAIL_NTH);
	self->want = malloc(FILE_MAX);
	self->got = malloc(FILE_MAX);
	ASSERT_NE(NULL, self->want);
	ASSERT_NE(NULL, self->got);
}

FIXTURE_TEARDOWN(fail_nth)
{
	free(self->want);
	free(self->got);
}

/* What a test did, for the record: "# <test>: N failures injected, M refused" */
static void report(const char *what, unsigned long injected, unsigned long refused)
{
	printf("# %s: %lu allocation failures injected, %lu made the call fail cleanly\n",
	       what, injected, refused);
}

static void check_file(struct __test_metadata *_metadata, char *want, char *got,
		       int group, const char *name, unsigned long *injected,
		       unsigned long *refused)
{
	char path[PATH_MAX];
	unsigned int nth, failed = 0;
	ssize_t want_len, len;
	int fd;

	snprintf(path, sizeof(path), RESV_GROUPS_DIR "/%d/%s", group, name);
	fd = open(path, O_RDONLY);
	if (fd < 0 && errno == ENOENT)
		return;		/* the unpatched kernel has no detail file */
	ASSERT_LE(0, fd);
	want_len = read_all(fd, want, FILE_MAX);
	close(fd);
	ASSERT_LT(0, want_len);

	for (nth = 1; nth < MAX_NTH; nth++) {
		ASSERT_EQ(0, resv_regather());	/* the read gathers, not the kept list */
		fd = open(path, O_RDONLY);
		ASSERT_LE(0, fd);
		resv_fail_nth_set(nth);
		len = read_all(fd, got, FILE_MAX);
		if (!resv_fail_nth_injected()) {
			close(fd);
			EXPECT_EQ(want_len, len);
			break;
		}
		close(fd);
		if (len < 0) {
			EXPECT_EQ(-ENOMEM, len) TH_LOG("%s: nth %u: error %zd", path, nth, len);
			failed++;
			/* Nothing of the failed read stays behind: the next one gets it all. */
			fd = open(path, O_RDONLY);
			ASSERT_LE(0, fd);
			len = read_all(fd, got, FILE_MAX);
			close(fd);
			EXPECT_EQ(want_len, len) TH_LOG("%s: nth %u: read after the failure: %zd",
							path, nth, len);
			if (len == want_len)
				EXPECT_EQ(0, memcmp(want, got, len));
			continue;
		}
		/* Succeeded despite the failure (a retried allocation): all or nothing. */
		EXPECT_EQ(want_len, len) TH_LOG("%s: nth %u: partial read, %zd of %zd bytes",
						path, nth, len, want_len);
		if (len == want_len)
			EXPECT_EQ(0, memcmp(want, got, len))
				TH_LOG("%s: nth %u: different content", path, nth);
	}
	EXPECT_GT(MAX_NTH, nth);
	EXPECT_LT(0, failed) TH_LOG("%s: no injected failure made the read fail", path);
	*injected += nth - 1;
	*refused += failed;
}

/* Each file, each group: whole or an errno, for every failing allocation. */
TEST_F(fail_nth, sysfs_read)
{
	unsigned long injected = 0, refused = 0;
	int g;

	for (g = 0; g < self->nr; g++) {
		check_file(_metadata, self->want, self->got, self->groups[g],
			   "reserved_regions", &injected, &refused);
		check_file(_metadata, self->want, self->got, self->groups[g],
			   "reserved_regions_detail", &injected, &refused);
	}
	report("sysfs reads", injected, refused);
}

/*
 * Attaching a group to a type1 container gathers its regions: with each
 * allocation failing in turn, the attach fails with an errno, or succeeds
 * with CAP_IOVA_RANGE equal to the unfailed one.
 */
TEST_F(global, type1_attach)
{
	struct resv_range want[RESV_MAX], got[RESV_MAX];
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct resv_be *be = &self->be;
	unsigned int nth, failed = 0;
	int nw, ng, ret;
	char path[64];

	RESV_SKIP_UNLESS(return, RESV_NEED_FAIL_NTH);
	ASSERT_EQ(0, resv_be_open(be, self->group, self->bdf));
	nw = resv_be_ranges(be, want, RESV_MAX);
	ASSERT_LT(0, nw);
	resv_be_close(be);

	snprintf(path, sizeof(path), "/dev/vfio/%d", self->group);
	for (nth = 1; nth < MAX_NTH; nth++) {
		/* resv_type1_container(), with the nth allocation of its last step failing */
		be->container = open("/dev/vfio/vfio", O_RDWR);
		ASSERT_LE(0, be->container);
		be->gfd = open(path, O_RDWR);
		ASSERT_LE(0, be->gfd);
		ASSERT_EQ(0, ioctl(be->gfd, VFIO_GROUP_GET_STATUS, &status));
		ASSERT_EQ(0, ioctl(be->gfd, VFIO_GROUP_SET_CONTAINER, &be->container));

		ASSERT_EQ(0, resv_regather());	/* the attach gathers */
		resv_fail_nth_set(nth);
		ret = ioctl(be->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) ? -errno : 0;
		if (!resv_fail_nth_injected()) {
			EXPECT_EQ(0, ret);
			resv_be_close(be);
			break;
		}
		if (ret) {
			failed++;
		} else {
			ng = resv_be_ranges(be, got, RESV_MAX);
			ASSERT_EQ(nw, ng) TH_LOG("nth %u: %d usable ranges, want %d", nth, ng, nw);
			EXPECT_EQ(0, memcmp(want, got, nw * sizeof(want[0])))
				TH_LOG("nth %u: usable ranges differ", nth);
		}
		resv_be_close(be);
	}
	EXPECT_GT(MAX_NTH, nth);
	EXPECT_LT(0, failed);
	report("type1 attach", nth - 1, failed);

	/* After all that, a clean attach still enforces the same list. */
	ASSERT_EQ(0, resv_be_open(be, self->group, self->bdf));
	ng = resv_be_ranges(be, got, RESV_MAX);
	ASSERT_EQ(nw, ng);
	EXPECT_EQ(0, memcmp(want, got, nw * sizeof(want[0])));
	resv_be_close(be);
}

/*
 * Attaching a device to an IOAS gathers its group's regions: with each
 * allocation failing in turn, the attach fails with an errno and the IOAS's
 * usable ranges stay those of an IOAS with nothing attached, or it succeeds
 * with the unfailed ranges. The device stays open and bound throughout (an
 * open may reset it, which is slow behind some QEMU hotplug slots).
 */
TEST_F(global, iommufd_attach)
{
	struct resv_range want[RESV_MAX], empty[RESV_MAX], got[RESV_MAX];
	unsigned int nth, failed = 0, injected = 0;
	struct resv_ioas *ioas = &self->be.ioas;
	int nw = 0, ne, ng, ret;

	RESV_SKIP_UNLESS(return, RESV_NEED_IOMMUFD | RESV_NEED_FAIL_NTH);
	resv_be_init(&self->be, true);
	ASSERT_EQ(0, resv_ioas_bind(self->bdf, ioas));

	for (nth = 0; nth < MAX_NTH; nth++) {
		ASSERT_EQ(0, resv_ioas_alloc(ioas));
		ne = resv_ioas_iova_ranges(ioas, empty, RESV_MAX);
		ASSERT_LT(0, ne);

		/* nth 0: the unfailed attach, for reference */
		ASSERT_EQ(0, resv_regather());	/* the attach gathers */
		if (nth)
			resv_fail_nth_set(nth);
		ret = resv_cdev_attach(ioas->dev, ioas->id);
		if (!nth) {
			ASSERT_EQ(0, ret);
			nw = resv_ioas_iova_ranges(ioas, want, RESV_MAX);
			ASSERT_LT(0, nw);
		} else if (!resv_fail_nth_injected()) {
			EXPECT_EQ(0, ret);
			injected = nth - 1;
			nth = MAX_NTH;		/* every allocation has been failed once */
		} else if (ret) {
			failed++;
			ng = resv_ioas_iova_ranges(ioas, got, RESV_MAX);
			ASSERT_EQ(ne, ng) TH_LOG("nth %u: a failed attach changed the IOAS", nth);
			EXPECT_EQ(0, memcmp(empty, got, ne * sizeof(got[0])))
				TH_LOG("nth %u: a failed attach changed the IOAS", nth);
		} else {
			ng = resv_ioas_iova_ranges(ioas, got, RESV_MAX);
			ASSERT_EQ(nw, ng) TH_LOG("nth %u: %d usable ranges, want %d", nth, ng, nw);
			EXPECT_EQ(0, memcmp(want, got, nw * sizeof(want[0])))
				TH_LOG("nth %u: usable ranges differ", nth);
		}
		ASSERT_EQ(0, resv_ioas_free(ioas, !ret));
	}
	EXPECT_EQ(MAX_NTH + 1, nth) TH_LOG("still failing after %u allocations", MAX_NTH);
	EXPECT_LT(0, failed);
	report("iommufd attach", injected, failed);
	resv_be_close(&self->be);
}

FIXTURE(map_nth) {
	char bdf[16];
	struct resv_be be;
	int group;
	void *buf;
	long page;
	uint64_t usable, reserved;
};

FIXTURE_VARIANT(map_nth) {
	bool iommufd;
};

FIXTURE_VARIANT_ADD(map_nth, type1) {
	.iommufd = false,
};

FIXTURE_VARIANT_ADD(map_nth, iommufd) {
	.iommufd = true,
};

FIXTURE_SETUP(map_nth)
{
	struct resv_region r[RESV_MAX];
	int i, n;

	RESV_SKIP_UNLESS(return, RESV_NEED_EDU);
	self->group = resv_first_edu(self->bdf);
	ASSERT_LE(0, self->group);
	RESV_SKIP_UNLESS(return, (variant->iommufd ? RESV_NEED_IOMMUFD : 0) | RESV_NEED_FAIL_NTH);
	self->page = sysconf(_SC_PAGESIZE);
	self->buf = mmap(NULL, self->page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	/* The page below the first enforced region, and that region's first page */
	n = resv_read_group(self->group, r, RESV_MAX);
	ASSERT_LT(0, n);
	qsort(r, n, sizeof(r[0]), resv_cmp_start);
	for (i = 0; i < n && (!resv_type1_excludes(&r[i]) || r[i].start < self->page); i++)
		;
	ASSERT_GT(n, i);
	self->reserved = r[i].start & ~(uint64_t)(self->page - 1);
	self->usable = self->reserved - self->page;
	resv_be_init(&self->be, variant->iommufd);
	ASSERT_EQ(0, resv_be_open(&self->be, self->group, self->bdf));
}

FIXTURE_TEARDOWN(map_nth)
{
	resv_be_close(&self->be);
	munmap(self->buf, self->page);
}

/*
 * With each allocation failing in turn, a map beside a reserved range
 * succeeds or fails with an errno leaving nothing mapped, and a map over it
 * is always refused; the usable ranges never change.
 */
TEST_F(map_nth, map)
{
	struct resv_range want[RESV_MAX], got[RESV_MAX];
	unsigned int nth, failed = 0;
	int nw, ng, ret, over;

	nw = resv_be_ranges(&self->be, want, RESV_MAX);
	ASSERT_LT(0, nw);
	ASSERT_TRUE(resv_usable(want, nw, self->usable, self->usable + self->page - 1));
	for (nth = 1; nth < MAX_NTH; nth++) {
		resv_fail_nth_set(nth);
		ret = resv_be_map(&self->be, self->buf, self->usable, self->page);
		over = resv_be_map(&self->be, self->buf, self->reserved, self->page);
		if (!resv_fail_nth_injected()) {
			EXPECT_EQ(0, ret);
			EXPECT_NE(0, over);
			EXPECT_EQ(0, resv_be_unmap(&self->be, self->usable, self->page));
			break;
		}
		EXPECT_NE(0, over) TH_LOG("nth %u: mapped over a reserved range", nth);
		if (!over)
			resv_be_unmap(&self->be, self->reserved, self->page);
		if (ret) {
			failed++;
			/* Nothing is left mapped: mapping it again works. */
			EXPECT_EQ(0, resv_be_map(&self->be, self->buf, self->usable, self->page))
				TH_LOG("nth %u: a failed map left something behind", nth);
		}
		EXPECT_EQ(0, resv_be_unmap(&self->be, self->usable, self->page));
		ng = resv_be_ranges(&self->be, got, RESV_MAX);
		ASSERT_EQ(nw, ng);
		EXPECT_EQ(0, memcmp(want, got, nw * sizeof(want[0])))
			TH_LOG("nth %u: the usable ranges changed", nth);
	}
	EXPECT_GT(MAX_NTH, nth);
	EXPECT_LT(0, failed);
	report(variant->iommufd ? "iommufd map" : "type1 map", nth - 1, failed);
}

TEST_HARNESS_MAIN
