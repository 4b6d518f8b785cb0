// SPDX-License-Identifier: GPL-2.0-only
/*
 * A group with hundreds of reserved regions, made with the test-only
 * injector (CONFIG_IOMMU_RESV_INJECT): both sysfs files list every region,
 * well past one page, and VFIO type1 enforces every one of them.
 */
#include <sys/mman.h>
#include "iommu_resv_utils.h"
#include "../kselftest_harness.h"

#define INJECT		"/sys/kernel/debug/iommu/resv_inject"
#define NR_INJECT	300
#define INJ_BASE	0x4000000000ULL
#define INJ_STRIDE	0x200000ULL
#define INJ_SIZE	0x1000ULL

static int inject(const char *dev, unsigned int count)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "%s %u 0x%llx 0x%llx 0x%llx", dev, count, INJ_BASE,
		 INJ_STRIDE, INJ_SIZE);
	return resv_write_file(INJECT, buf);
}

FIXTURE(many) {
	char bdf[1][16];
	int group;
	struct resv_region r[RESV_MAX];
	void *buf;
	long page;
};

FIXTURE_SETUP(many)
{
	if (access(INJECT, W_OK))
		SKIP(return, "no %s (CONFIG_IOMMU_RESV_INJECT)", INJECT);
	if (resv_find_pci(0x1234, 0x11e8, self->bdf, 1) != 1)
		SKIP(return, "no edu device");
	self->group = resv_bind_vfio(self->bdf[0]);
	ASSERT_LE(0, self->group);
	self->page = sysconf(_SC_PAGESIZE);
	self->buf = mmap(NULL, 2 * self->page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	ASSERT_EQ(0, inject(self->bdf[0], NR_INJECT));
}

FIXTURE_TEARDOWN(many)
{
	if (self->bdf[0][0])
		inject(self->bdf[0], 0);
}

/* Every injected region is listed, whole, in a file longer than a page. */
TEST_F(many, sysfs_lists_all)
{
	static const char owner[] = " firmware debugfs/resv_inject";
	static char text[1 << 20];
	char path[PATH_MAX], *line, *save;
	int i, k, n, found = 0;
	ssize_t len;

	n = resv_read_group(self->group, self->r, RESV_MAX);
	ASSERT_LT(NR_INJECT, n);
	for (k = 0; k < NR_INJECT; k++) {
		unsigned long long start = INJ_BASE + k * INJ_STRIDE;

		for (i = 0; i < n; i++)
			if (self->r[i].start == start && self->r[i].end == start + INJ_SIZE - 1 &&
			    !strcmp(self->r[i].type, "reserved"))
				break;
		EXPECT_GT(n, i) TH_LOG("injected region %d missing", k);
		found += i < n;
	}
	EXPECT_EQ(NR_INJECT, found);

	snprintf(path, sizeof(path), RESV_GROUPS_DIR "/%d/reserved_regions", self->group);
	len = resv_read_file(path, text, sizeof(text));
	EXPECT_LT(self->page, len) TH_LOG("reserved_regions is only %zd bytes", len);

	/* The detailed view names the injector as owner of each. */
	snprintf(path, sizeof(path), RESV_GROUPS_DIR "/%d/reserved_regions_detail",
		 self->group);
	len = resv_read_file(path, text, sizeof(text));
	ASSERT_LT(self->page, len);
	k = 0;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t l = strlen(line);

		if (strstr(line, " reserved ") && l > sizeof(owner) - 1 &&
		    !strcmp(line + l - (sizeof(owner) - 1), owner))
			k++;
	}
	EXPECT_EQ(NR_INJECT, k);
}

/*
 * Read a group file in pieces of @chunk bytes into @buf (NUL-terminated);
 * after @after bytes, call @between once. Returns the length or -errno.
 */
static ssize_t read_in_pieces(int fd, char *buf, size_t size, size_t chunk,
			      size_t after, void (*between)(void *), void *arg)
{
	size_t total = 0;
	ssize_t n;

	do {
		if (between && total >= after) {
			between(arg);
			between = NULL;
		}
		n = read(fd, buf + total, chunk < size - 1 - total ? chunk : size - 1 - total);
		if (n < 0)
			return -errno;
		total += n;
	} while (n > 0);
	buf[total] = '\0';
	return total;
}

static void uninject(void *bdf)
{
	inject(bdf, 0);
}

/*
 * A read sequence prints one gathering, however many read() calls it takes:
 * small reads give the bytes of a whole read, regions that go away mid-way
 * do not change the rest of the sequence, and a read from offset 0 again
 * sees the group as it is then.
 */
TEST_F(many, one_gathering_per_read_sequence)
{
	static const char * const files[] = { "reserved_regions", "reserved_regions_detail" };
	static char whole[1 << 20], pieces[1 << 20];
	char path[PATH_MAX];
	ssize_t len, n;
	int f, fd;

	for (f = 0; f < 2; f++) {
		ASSERT_EQ(0, inject(self->bdf[0], NR_INJECT));
		snprintf(path, sizeof(path), RESV_GROUPS_DIR "/%d/%s", self->group, files[f]);
		len = resv_read_file(path, whole, sizeof(whole));
		ASSERT_LT(self->page, len);

		fd = open(path, O_RDONLY);
		ASSERT_LE(0, fd);
		n = read_in_pieces(fd, pieces, sizeof(pieces), 7, 0, NULL, NULL);
		EXPECT_EQ(len, n);
		EXPECT_STREQ(whole, pieces);

		/* Take the injected regions away after the first 100 bytes. */
		ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
		n = read_in_pieces(fd, pieces, sizeof(pieces), 100, 100, uninject, self->bdf[0]);
		EXPECT_EQ(len, n);
		EXPECT_STREQ(whole, pieces);

		/* From offset 0 again: the file as it now reads, without them. */
		ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
		n = read_in_pieces(fd, pieces, sizeof(pieces), 4096, 0, NULL, NULL);
		close(fd);
		EXPECT_LT(0, n);
		EXPECT_GT(len, n);
		EXPECT_EQ(NULL, strstr(pieces, "debugfs/resv_inject"));
		len = resv_read_file(path, whole, sizeof(whole));
		EXPECT_EQ(len, n);
		EXPECT_STREQ(whole, pieces);
	}
}

/* type1 rejects a map over any of them and accepts the gaps between. */
TEST_F(many, type1_enforces_all)
{
	struct resv_range want[RESV_MAX], got[RESV_MAX];
	int n, nw, ng, k, i, container, gfd;

	n = resv_read_group(self->group, self->r, RESV_MAX);
	ASSERT_LT(NR_INJECT, n);
	nw = resv_complement(self->r, n, 0, RESV_APERTURE_END, want, RESV_MAX);
	ASSERT_LT(NR_INJECT, nw);

	container = resv_type1_container(self->group, &gfd);
	ASSERT_LE(0, container);
	ng = resv_type1_iova_ranges(container, got, RESV_MAX);
	ASSERT_EQ(nw, ng);
	for (i = 0; i < nw; i++) {
		EXPECT_EQ(want[i].start, got[i].start);
		EXPECT_EQ(want[i].end, got[i].end);
	}
	for (k = 0; k < NR_INJECT; k += 37) {
		unsigned long long start = INJ_BASE + k * INJ_STRIDE;

		EXPECT_EQ(-EINVAL, resv_type1_map(container, self->buf, start, self->page))
			TH_LOG("region %d", k);
		EXPECT_EQ(0, resv_type1_map(container, self->buf, start + INJ_SIZE,
					    self->page));
		EXPECT_EQ(0, resv_type1_unmap(container, start + INJ_SIZE, self->page));
	}
	close(gfd);
	close(container);
}

/* Removing the injection gives the group its own list back. */
TEST_F(many, removal)
{
	int n;

	ASSERT_EQ(0, inject(self->bdf[0], 0));
	n = resv_read_group(self->group, self->r, RESV_MAX);
	EXPECT_LE(0, n);
	EXPECT_GT(NR_INJECT, n);
}

/* Bad input to the injector: EINVAL, and nothing changes. */
TEST_F(many, bad_input)
{
	static const char * const bad[] = {
		"", "dev", "dev x", "dev 1 0x0 0x1000 0x2000", "dev 1 0 0 0",
		"dev 99999999", "dev 2 0xfffffffffffff000 0x1000 0x1000", "dev 1 2 3 4 5",
	};
	int i, n, before;

	before = resv_read_group(self->group, self->r, RESV_MAX);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_EQ(-EINVAL, resv_write_file(INJECT, bad[i])) TH_LOG("input %d", i);
	n = resv_read_group(self->group, self->r, RESV_MAX);
	EXPECT_EQ(before, n);
}

TEST_HARNESS_MAIN
