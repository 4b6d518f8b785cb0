// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fail every allocation in turn, through /proc/thread-self/fail-nth, while a
 * group's reserved regions are gathered: a read of reserved_regions or
 * reserved_regions_detail either returns the whole file or fails with an
 * errno, and a VFIO type1 attach either fails cleanly or enforces the whole
 * list. Nothing partial is ever printed or enforced.
 *
 * Needs CONFIG_FAULT_INJECTION, CONFIG_FAILSLAB and debugfs.
 */
#include <sys/mman.h>
#include "iommu_resv_utils.h"
#include "../kselftest_harness.h"

#define MAX_GROUPS	256
#define MAX_NTH		2000
#define FILE_MAX	(1024 * 1024)

static int write_str(const char *path, const char *val)
{
	return resv_write_file(path, val);
}

static int nth_fd = -1;

/* Make the nth fault-injection point of this thread fail. */
static void fail_nth_set(unsigned int nth)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u", nth);
	if (pwrite(nth_fd, buf, strlen(buf), 0) < 0)
		perror("fail-nth");
}

/* Disarm; true if the failure was injected since fail_nth_set(). */
static bool fail_nth_injected(void)
{
	char buf[16] = "";
	bool injected;

	if (pread(nth_fd, buf, sizeof(buf) - 1, 0) < 0)
		buf[0] = '1';
	injected = atoi(buf) == 0;
	if (pwrite(nth_fd, "0", 1, 0) < 0)
		perror("fail-nth");
	return injected;
}

static bool setup_fault_injection(void)
{
	static const char * const quiet[] = {
		"/sys/kernel/debug/failslab/verbose",
		"/sys/kernel/debug/fail_page_alloc/verbose",
	};
	int i;

	/* Let GFP_KERNEL allocations be failed too, and keep the log quiet. */
	if (write_str("/sys/kernel/debug/failslab/ignore-gfp-wait", "N"))
		return false;
	for (i = 0; i < ARRAY_SIZE(quiet); i++)
		write_str(quiet[i], "0");
	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR);
	return nth_fd >= 0;
}

/* One read sequence of an open file into buf; length or -errno. */
static ssize_t read_all(int fd, char *buf, size_t size)
{
	ssize_t n, total = 0;

	while ((n = read(fd, buf + total, size - total)) > 0)
		total += n;
	return n < 0 ? -errno : total;
}

FIXTURE(fail_nth) {
	int groups[MAX_GROUPS];
	int nr;
	char *want;
	char *got;
};

FIXTURE_SETUP(fail_nth)
{
	self->nr = resv_list_groups(self->groups, MAX_GROUPS);
	if (self->nr <= 0)
		SKIP(return, "no IOMMU groups");
	if (!setup_fault_injection())
		SKIP(return, "no fault injection (CONFIG_FAILSLAB, debugfs)");
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

static void check_file(struct __test_metadata *_metadata, char *want, char *got,
		       int group, const char *name)
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
		fd = open(path, O_RDONLY);
		ASSERT_LE(0, fd);
		fail_nth_set(nth);
		len = read_all(fd, got, FILE_MAX);
		if (!fail_nth_injected()) {
			close(fd);
			EXPECT_EQ(want_len, len);
			break;
		}
		close(fd);
		if (len < 0) {
			EXPECT_EQ(-ENOMEM, len) TH_LOG("%s: nth %u: error %zd", path, nth, len);
			failed++;
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
}

/* Each file, each group: whole or an errno, for every failing allocation. */
TEST_F(fail_nth, sysfs_read)
{
	int g;

	for (g = 0; g < self->nr; g++) {
		check_file(_metadata, self->want, self->got, self->groups[g],
			   "reserved_regions");
		check_file(_metadata, self->want, self->got, self->groups[g],
			   "reserved_regions_detail");
	}
}

/*
 * Attaching a group to a type1 container gathers its regions: with each
 * allocation failing in turn, the attach fails with an errno, or succeeds
 * with CAP_IOVA_RANGE equal to the unfailed one.
 */
TEST(type1_attach)
{
	struct resv_range want[RESV_MAX], got[RESV_MAX];
	struct vfio_group_status status = { .argsz = sizeof(status) };
	unsigned int nth, failed = 0;
	char bdf[1][16], path[64];
	int group, container, gfd = -1, nw, ng, ret;

	if (resv_find_pci(0x1234, 0x11e8, bdf, 1) != 1)
		SKIP(return, "no edu device");
	if (!setup_fault_injection())
		SKIP(return, "no fault injection");
	group = resv_bind_vfio(bdf[0]);
	ASSERT_LE(0, group);

	container = resv_type1_container(group, &gfd);
	ASSERT_LE(0, container);
	nw = resv_type1_iova_ranges(container, want, RESV_MAX);
	ASSERT_LT(0, nw);
	close(gfd);
	close(container);

	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	for (nth = 1; nth < MAX_NTH; nth++) {
		container = open("/dev/vfio/vfio", O_RDWR);
		ASSERT_LE(0, container);
		gfd = open(path, O_RDWR);
		ASSERT_LE(0, gfd);
		ASSERT_EQ(0, ioctl(gfd, VFIO_GROUP_GET_STATUS, &status));
		ASSERT_EQ(0, ioctl(gfd, VFIO_GROUP_SET_CONTAINER, &container));

		fail_nth_set(nth);
		ret = ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) ? -errno : 0;
		if (!fail_nth_injected()) {
			EXPECT_EQ(0, ret);
			close(gfd);
			close(container);
			break;
		}
		if (ret) {
			failed++;
		} else {
			ng = resv_type1_iova_ranges(container, got, RESV_MAX);
			ASSERT_EQ(nw, ng) TH_LOG("nth %u: %d usable ranges, want %d", nth, ng, nw);
			EXPECT_EQ(0, memcmp(want, got, nw * sizeof(want[0])))
				TH_LOG("nth %u: usable ranges differ", nth);
		}
		close(gfd);
		close(container);
	}
	EXPECT_GT(MAX_NTH, nth);
	EXPECT_LT(0, failed);

	/* After all that, a clean attach still enforces the same list. */
	container = resv_type1_container(group, &gfd);
	ASSERT_LE(0, container);
	ng = resv_type1_iova_ranges(container, got, RESV_MAX);
	ASSERT_EQ(nw, ng);
	EXPECT_EQ(0, memcmp(want, got, nw * sizeof(want[0])));
	close(gfd);
	close(container);
}

TEST_HARNESS_MAIN
