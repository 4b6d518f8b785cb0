// SPDX-License-Identifier: GPL-2.0-only
/*
 * A group with hundreds of reserved regions, made with the test-only
 * injector (CONFIG_IOMMU_RESV_INJECT): both sysfs files list every region,
 * well past one page, and VFIO type1 enforces every one of them.
 */
#include <signal.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "iommu_resv_utils.h"
#include "../kselftest_harness.h"

#define NR_INJECT	300
#define INJ_BASE	0x4000000000ULL
#define INJ_STRIDE	0x200000ULL
#define INJ_SIZE	0x1000ULL

static int inject(const char *dev, unsigned int count)
{
	return resv_inject(dev, count, INJ_BASE, INJ_STRIDE, INJ_SIZE, false);
}

#define NR_READERS	4
/* The readers' cgroup: room for their descriptors, not for much more */
#define READERS_CGROUP	"/sys/fs/cgroup/resv-readers"
#define READERS_MAX	"64M"

FIXTURE(many) {
	char bdf[1][16];
	int group;
	struct resv_region r[RESV_MAX];
	void *buf;
	long page;
	struct resv_be be;		/* the container a test has open */
	pid_t readers[NR_READERS];	/* hostile_readers' children, killed at teardown */
	bool mounted_cgroup;
};

FIXTURE_SETUP(many)
{
	RESV_SKIP_UNLESS(return, RESV_NEED_INJECT | RESV_NEED_EDU);
	self->group = resv_first_edu(self->bdf[0]);
	ASSERT_LE(0, self->group);
	resv_be_init(&self->be, false);
	self->page = sysconf(_SC_PAGESIZE);
	self->buf = mmap(NULL, 2 * self->page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	ASSERT_EQ(0, inject(self->bdf[0], NR_INJECT));
}

FIXTURE_TEARDOWN(many)
{
	unsigned int i;

	resv_be_close(&self->be);
	munmap(self->buf, 2 * self->page);

	for (i = 0; i < ARRAY_SIZE(self->readers); i++)
		if (self->readers[i] > 0) {
			kill(self->readers[i], SIGKILL);
			waitpid(self->readers[i], NULL, 0);
		}
	rmdir(READERS_CGROUP);
	if (self->mounted_cgroup)
		umount("/sys/fs/cgroup");
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

/* Is every line of @got (modified) a whole line of @a or of @b ("\n"-led)? */
static bool lines_from(char *got, const char *a, const char *b)
{
	char *line, *save, needle[1024];

	for (line = strtok_r(got, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		snprintf(needle, sizeof(needle), "\n%s\n", line);
		if (!strstr(a, needle) && !strstr(b, needle))
			return false;
	}
	return true;
}

/*
 * Small reads give the bytes of a whole read; a read() after a change reads
 * the new list at its offset (the ABI allows text of both lists, down to
 * part of a line): here the change shortens the list below the offset of the
 * reads that follow it, so the sequence ends on whole lines of the list
 * before; a read from offset 0 again sees the group as it is then.
 */
TEST_F_TIMEOUT(many, read_sequences, 300)
{
	static const char * const files[] = { "reserved_regions", "reserved_regions_detail" };
	static char before[1 << 20], after[1 << 20], pieces[1 << 20];
	char path[PATH_MAX];
	ssize_t len, alen, n;
	int f, fd;

	for (f = 0; f < 2; f++) {
		ASSERT_EQ(0, inject(self->bdf[0], NR_INJECT));
		snprintf(path, sizeof(path), RESV_GROUPS_DIR "/%d/%s", self->group, files[f]);
		before[0] = '\n';
		len = resv_read_file(path, before + 1, sizeof(before) - 1);
		ASSERT_LT(2 * self->page, len);

		fd = open(path, O_RDONLY);
		ASSERT_LE(0, fd);
		/* Pieces shorter than a line: each read() gathers the group. */
		n = read_in_pieces(fd, pieces, sizeof(pieces), 61, 0, NULL, NULL);
		EXPECT_EQ(len, n);
		EXPECT_STREQ(before + 1, pieces);

		/* Take the injected regions away after the first page. */
		ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
		n = read_in_pieces(fd, pieces, sizeof(pieces), self->page, self->page,
				   uninject, self->bdf[0]);
		ASSERT_LT(0, n);
		EXPECT_EQ('\n', pieces[n - 1]);
		after[0] = '\n';
		alen = resv_read_file(path, after + 1, sizeof(after) - 1);
		ASSERT_LT(0, alen);
		EXPECT_GT(len, alen);
		EXPECT_TRUE(lines_from(pieces, before, after));

		/* From offset 0 again: the file as it now reads, without them. */
		ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
		n = read_in_pieces(fd, pieces, sizeof(pieces), self->page, 0, NULL, NULL);
		close(fd);
		EXPECT_EQ(alen, n);
		EXPECT_STREQ(after + 1, pieces);
		EXPECT_EQ(NULL, strstr(pieces, "debugfs/resv_inject"));
	}
}

#define NR_ATTACHES	15
#define NR_REPLUGS	5

/* Slab and vmalloc memory in use, in bytes (/proc/meminfo). */
static long long kernel_mem(void)
{
	char line[128];
	long long kb, sum = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Slab: %lld kB", &kb) == 1 ||
		    sscanf(line, "VmallocUsed: %lld kB", &kb) == 1)
			sum += kb * 1024;
	fclose(f);
	return sum;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

/* Median time of a type1 attach of @group (container, SET_IOMMU, close). */
static long long attach_median(int group)
{
	long long t[NR_ATTACHES], t0;
	int i, container, gfd = -1;

	for (i = 0; i < NR_ATTACHES; i++) {
		t0 = now_ns();
		container = resv_type1_container(group, &gfd);
		if (container < 0)
			return container;
		close(gfd);
		close(container);
		t[i] = now_ns() - t0;
	}
	qsort(t, NR_ATTACHES, sizeof(t[0]), cmp_ll);
	return t[NR_ATTACHES / 2];
}

/* Median time of a PCI remove and rescan of @bdf */
static long long replug_median(const char *bdf)
{
	long long t[NR_REPLUGS], t0;
	int i;

	for (i = 0; i < NR_REPLUGS; i++) {
		t0 = now_ns();
		if (resv_pci_remove(bdf) || resv_pci_rescan(bdf))
			return -1;
		t[i] = now_ns() - t0;
	}
	qsort(t, NR_REPLUGS, sizeof(t[0]), cmp_ll);
	return t[NR_REPLUGS / 2];
}

/* Descriptors per reader: RESV_HOSTILE_FDS in all (make stress) or 2000 */
static int fds_per_reader(void)
{
	const char *env = getenv("RESV_HOSTILE_FDS");
	int n = env ? atoi(env) : 0;

	return (n > 0 ? n : 2000) / NR_READERS;
}

/*
 * The readers' cgroup (cgroup v2, memory controller), made afresh. cgroup2
 * is mounted on /sys/fs/cgroup only where nothing is (*@mounted): never
 * over a v1 or hybrid hierarchy.
 */
static int readers_cgroup(bool *mounted)
{
	struct stat fs, cg;

	if (access("/sys/fs/cgroup/cgroup.controllers", F_OK)) {
		if (stat("/sys/fs", &fs) || stat("/sys/fs/cgroup", &cg))
			return -ENOENT;
		if (fs.st_dev != cg.st_dev)
			return -EOPNOTSUPP;	/* cgroup v1 there */
		if (mount("none", "/sys/fs/cgroup", "cgroup2", 0, NULL))
			return -errno;
		*mounted = true;
	}
	if (resv_write_file("/sys/fs/cgroup/cgroup.subtree_control", "+memory"))
		return -EOPNOTSUPP;
	rmdir(READERS_CGROUP);
	if (mkdir(READERS_CGROUP, 0755))
		return -errno;
	return resv_write_file(READERS_CGROUP "/memory.max", READERS_MAX);
}

/*
 * Bytes of kernel objects (slab) charged to the readers' cgroup: what their
 * descriptors pin. Not memory.current, which also holds the pages of the
 * test binary they faulted in, charged to them until reclaimed.
 */
static long long readers_slab(void)
{
	static char buf[8192];
	char *line;

	if (resv_read_file(READERS_CGROUP "/memory.stat", buf, sizeof(buf)) < 0)
		return -1;
	line = strstr(buf, "\nslab ");
	return line ? atoll(line + 6) : -1;
}

/*
 * An unprivileged reader in the readers' cgroup: open @nr descriptors of
 * the group's files, read a byte from each, say so on @ready, then read a
 * byte at offset 0 from each in turn until killed. Exits 1 on an errno
 * other than ENOMEM or EINTR, or a read that returns nothing.
 */
static void reader(int group, int nr, int ready)
{
	static const char * const files[] = { "reserved_regions", "reserved_regions_detail" };
	int *fds = calloc(nr, sizeof(*fds)), i;
	char path[PATH_MAX], c;
	ssize_t n;

	if (!fds || resv_write_file(READERS_CGROUP "/cgroup.procs", "0") ||
	    setgid(65534) || setuid(65534))
		_exit(2);
	for (i = 0; i < nr; i++) {
		snprintf(path, sizeof(path), RESV_GROUPS_DIR "/%d/%s", group, files[i % 2]);
		fds[i] = open(path, O_RDONLY);
		if (fds[i] < 0)
			_exit(1);
		n = read(fds[i], &c, 1);
		if (n == 0 || (n < 0 && errno != ENOMEM && errno != EINTR))
			_exit(1);
	}
	if (write(ready, "r", 1) != 1)
		_exit(2);
	for (i = 0;; i = (i + 1) % nr) {
		n = pread(fds[i], &c, 1, 0);
		if (n == 0 || (n < 0 && errno != ENOMEM && errno != EINTR))
			_exit(1);
	}
}

/*
 * Hostile readers: unprivileged processes in a memory-limited cgroup keep
 * thousands of descriptors of the files open and read a byte from each.
 * They get that byte (or a clean errno); an open descriptor pins less than
 * a page (the file itself is several pages: a descriptor holding the
 * group's gathering would pin more), charged to their cgroup; attaching the
 * group they read, and a PCI hotplug elsewhere, keep working at a bounded
 * cost; and the memory comes back when they are gone.
 */
TEST_F_TIMEOUT(many, hostile_readers, 600)
{
	long long mem0, mem_open, mem_end, cg_open, cg_end, t_read, t0;
	long long t_alone, t_loaded, plug_alone, plug_loaded;
	int i, status, pipefd[2], bad = 0, nr = fds_per_reader(), ret;
	struct rlimit files = { nr + 64, nr + 64 };
	static char text[1 << 20];
	pid_t pid[NR_READERS];
	char path[PATH_MAX], other[16], c;
	ssize_t len;

	ret = readers_cgroup(&self->mounted_cgroup);
	if (ret)
		SKIP(return, "no cgroup v2 memory controller (%s)", strerror(-ret));
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &files));
	ASSERT_EQ(0, resv_other_edu(self->group, other)) TH_LOG("no edu in another group");
	snprintf(path, sizeof(path), RESV_GROUPS_DIR "/%d/reserved_regions_detail",
		 self->group);
	t0 = now_ns();
	len = resv_read_file(path, text, sizeof(text));
	t_read = now_ns() - t0;
	ASSERT_LT(2 * self->page, len);
	t_alone = attach_median(self->group);
	ASSERT_LT(0, t_alone);
	plug_alone = replug_median(other);
	ASSERT_LT(0, plug_alone);

	mem0 = kernel_mem();
	ASSERT_LT(0, mem0);
	ASSERT_EQ(0, pipe(pipefd));
	for (i = 0; i < NR_READERS; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (!pid[i]) {
			close(pipefd[0]);
			reader(self->group, nr, pipefd[1]);
		}
		self->readers[i] = pid[i];
	}
	close(pipefd[1]);
	for (i = 0; i < NR_READERS; i++)
		ASSERT_EQ(1, read(pipefd[0], &c, 1)) TH_LOG("reader %d did not get going", i);
	close(pipefd[0]);
	mem_open = kernel_mem();
	cg_open = readers_slab();
	t_loaded = attach_median(self->group);
	plug_loaded = replug_median(other);

	for (i = 0; i < NR_READERS; i++)
		kill(pid[i], SIGKILL);
	for (i = 0; i < NR_READERS; i++) {
		ASSERT_EQ(pid[i], waitpid(pid[i], &status, 0));
		self->readers[i] = 0;
		/* Killed while reading: anything else means a bad read. */
		if (!WIFSIGNALED(status))
			bad++;
	}
	/* Closed files are freed after an RCU grace period */
	for (i = 0; i < 20 && readers_slab() > 64 * 1024; i++)
		usleep(100000);
	mem_end = kernel_mem();
	cg_end = readers_slab();
	rmdir(READERS_CGROUP);

	ksft_print_msg("file %zd bytes, read in %lld us\n", len, t_read / 1000);
	ksft_print_msg("%d descriptors: +%lld bytes each\n",
		       NR_READERS * nr, (mem_open - mem0) / (NR_READERS * nr));
	ksft_print_msg("%lld bytes of slab charged to the readers' cgroup\n", cg_open);
	ksft_print_msg("attach %lld us alone, %lld us with %d readers\n",
		       t_alone / 1000, t_loaded / 1000, NR_READERS);
	ksft_print_msg("hotplug %lld us alone, %lld us with them\n",
		       plug_alone / 1000, plug_loaded / 1000);
	ksft_print_msg("after them: %+lld bytes, %lld of slab charged\n", mem_end - mem0, cg_end);
	EXPECT_EQ(0, bad) TH_LOG("%d readers saw a bad read", bad);
	EXPECT_LT(mem_open - mem0, (long long)NR_READERS * nr * self->page);
	EXPECT_LT(0, cg_open);
	EXPECT_LT(cg_open, (long long)NR_READERS * nr * self->page);
	EXPECT_LT(0, t_loaded) TH_LOG("attach failed under load: %lld", t_loaded);
	EXPECT_LT(0, plug_loaded) TH_LOG("hotplug failed under load: %lld", plug_loaded);
	/* Sharing the CPU with the readers, and waiting for one gathering. */
	EXPECT_GT((NR_READERS + 1) * 2 * t_alone + 2 * t_read, t_loaded);
	EXPECT_GT((NR_READERS + 1) * 2 * plug_alone + 2 * t_read, plug_loaded);
	/* What they had charged is gone with them (slab pages may stay cached) */
	EXPECT_GT(64 * 1024, cg_end);
}

/* type1 rejects a map over any of them and accepts the gaps between. */
TEST_F(many, type1_enforces_all)
{
	struct resv_range want[RESV_MAX], got[RESV_MAX];
	int n, nw, ng, k, i, container;

	n = resv_read_group(self->group, self->r, RESV_MAX);
	ASSERT_LT(NR_INJECT, n);
	nw = resv_complement(self->r, n, 0, RESV_APERTURE_END, want, RESV_MAX);
	ASSERT_LT(NR_INJECT, nw);

	ASSERT_EQ(0, resv_be_open(&self->be, self->group, self->bdf[0]));
	container = self->be.container;
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
	resv_be_close(&self->be);
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
		EXPECT_EQ(-EINVAL, resv_write_file(RESV_INJECT, bad[i])) TH_LOG("input %d", i);
	n = resv_read_group(self->group, self->r, RESV_MAX);
	EXPECT_EQ(before, n);
}

TEST_HARNESS_MAIN
