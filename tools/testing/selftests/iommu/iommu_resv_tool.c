// SPDX-License-Identifier: GPL-2.0-only
/*
 * tools/iommu/iommu-resv answers what VFIO does: for every edu device's
 * group, "iommu-resv check" on a page at each edge of each region (first
 * page, last page, straddling, just outside) and on a page the group leaves
 * usable says "conflict" (exit 1) exactly when VFIO_IOMMU_MAP_DMA of that page
 * fails, "iommu-resv holes" gives the ranges VFIO leaves usable in a 4 GiB
 * layout, with their page counts, "iommu-resv list" names every group
 * and device, and "iommu-resv query" prints what iommufd reports for each
 * device, as the detailed file lists it. Set
 * IOMMU_RESV_TOOL to the tool's path (default: iommu-resv on $PATH).
 */
#include <sys/mman.h>
#include <sys/wait.h>
#include "iommu_resv_utils.h"
#include "../kselftest_harness.h"

#define MAX_DEVS	16

static const char *tool(void)
{
	return getenv("IOMMU_RESV_TOOL") ?: "iommu-resv";
}

/* The tool's exit status for "check --group @group --ranges @start-@last". */
static int tool_check(int group, uint64_t start, uint64_t last)
{
	char cmd[512];
	int status;

	snprintf(cmd, sizeof(cmd), "%s check --group %d --ranges 0x%llx-0x%llx >/dev/null",
		 tool(), group, (unsigned long long)start, (unsigned long long)last);
	status = system(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

FIXTURE(tool) {
	char bdf[MAX_DEVS][16];
	int group[MAX_DEVS];
	int nr;
	void *buf;
	long page;
};

FIXTURE_SETUP(tool)
{
	char cmd[512];
	int bad = 0;

	self->page = sysconf(_SC_PAGESIZE);
	snprintf(cmd, sizeof(cmd), "%s --help >/dev/null 2>&1", tool());
	if (system(cmd))
		SKIP(return, "no %s", tool());
	if (access("/dev/vfio/vfio", F_OK))
		SKIP(return, "no /dev/vfio/vfio");
	self->nr = resv_bind_edus(self->bdf, self->group, MAX_DEVS, &bad);
	if (!self->nr)
		SKIP(return, "no edu device");
	ASSERT_LT(0, self->nr) TH_LOG("%s: bind to vfio-pci failed", self->bdf[bad]);
	self->buf = mmap(NULL, 2 * self->page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
}

FIXTURE_TEARDOWN(tool)
{
	if (self->buf && self->buf != MAP_FAILED)
		munmap(self->buf, 2 * self->page);
}

TEST_F(tool, check_agrees_with_vfio)
{
	struct resv_region r[RESV_MAX];
	struct resv_range u[RESV_MAX];
	uint64_t pg = self->page;
	int d, i, k, n, nu, conflicts = 0, clear = 0;

	for (d = 0; d < self->nr; d++) {
		int container, gfd = -1;

		n = resv_read_group(self->group[d], r, RESV_MAX);
		ASSERT_LE(0, n);
		nu = resv_complement(r, n, 0, RESV_APERTURE_END, u, RESV_MAX);
		ASSERT_LT(0, nu);
		container = resv_type1_container(self->group[d], &gfd);
		ASSERT_LE(0, container);
		for (i = 0; i <= n; i++) {
			/* Each region's edges; then the first usable page */
			uint64_t st = i < n ? r[i].start & ~(pg - 1) : u[0].start;
			uint64_t e = i < n ? r[i].end | (pg - 1) : u[0].start + pg - 1;
			const uint64_t probe[][2] = {
				{ st, pg }, { e - pg + 1, pg }, { st - pg, 2 * pg },
				{ e - pg + 1, 2 * pg }, { st - pg, pg }, { e + 1, pg },
			};

			for (k = 0; k < ARRAY_SIZE(probe); k++) {
				uint64_t last = probe[k][0] + probe[k][1] - 1;
				int mapped, verdict;

				if (last < probe[k][0] || last > RESV_APERTURE_END)
					continue;
				mapped = resv_type1_map(container, self->buf, probe[k][0],
							probe[k][1]);
				if (!mapped)
					resv_type1_unmap(container, probe[k][0], probe[k][1]);
				verdict = tool_check(self->group[d], probe[k][0], last);
				EXPECT_EQ(mapped ? 1 : 0, verdict)
					TH_LOG("%s group %d: 0x%llx-0x%llx: map %d, tool %d",
					       self->bdf[d], self->group[d],
					       (unsigned long long)probe[k][0],
					       (unsigned long long)last, mapped, verdict);
				if (verdict)
					conflicts++;
				else
					clear++;
			}
		}
		close(gfd);
		close(container);
	}
	/* Both verdicts occurred */
	EXPECT_LT(0, conflicts);
	EXPECT_LT(0, clear);
}

/* Mappings of 4K, 2M and 1G pages (largest aligned first) covering [s, e] */
static void count_pages(uint64_t s, uint64_t e, const uint64_t *sz, int nsz, uint64_t *n)
{
	int k;

	while (s <= e) {
		for (k = nsz - 1; k > 0 && ((s & (sz[k] - 1)) || e - s < sz[k] - 1); k--)
			;
		n[k]++;
		s += sz[k];
	}
}

/*
 * "holes" for a guest of 4 GiB: its usable lines are VFIO's usable ranges
 * (CAP_IOVA_RANGE of a type1 container holding the group) within it, and its
 * page counts are those of these ranges, counted here.
 */
TEST_F(tool, holes_agree_with_vfio)
{
	const uint64_t sz[3] = { 0x1000, 0x200000, 0x40000000 };
	char cmd[512], line[512], want[128];
	struct resv_range u[RESV_MAX];
	int d, i, nu, gfd = -1, container, lines, nsz;
	uint64_t n[3], last;
	FILE *f;

	for (d = 0; d < self->nr; d++) {
		container = resv_type1_container(self->group[d], &gfd);
		ASSERT_LE(0, container);
		nu = resv_type1_iova_ranges(container, u, RESV_MAX);
		close(gfd);
		close(container);
		ASSERT_LT(0, nu);

		snprintf(cmd, sizeof(cmd), "%s holes --group %d --ranges 0-0xffffffff",
			 tool(), self->group[d]);
		f = popen(cmd, "r");
		ASSERT_NE(NULL, f);
		ASSERT_NE(NULL, fgets(line, sizeof(line), f));
		/* Both arches' IOMMUs here offer 2M and 1G (VT-d says so) */
		ASSERT_EQ(0, strncmp(line, "page sizes: 4K 2M 1G (", 22)) TH_LOG("%s", line);
		nsz = 3;
		memset(n, 0, sizeof(n));
		i = 0;
		lines = 0;
		while (fgets(line, sizeof(line), f)) {
			if (!strncmp(line, "usable ", 7)) {
				/* The next VFIO range, which must start below 4 GiB */
				ASSERT_LT(i, nu) TH_LOG("group %d: extra %s", self->group[d], line);
				ASSERT_GT(0x100000000ULL, u[i].start) TH_LOG("extra %s", line);
				last = u[i].end < 0xffffffffULL ? u[i].end : 0xffffffffULL;
				snprintf(want, sizeof(want), "usable 0x%016llx-0x%016llx\n",
					 (unsigned long long)u[i].start, (unsigned long long)last);
				EXPECT_STREQ(want, line) TH_LOG("group %d", self->group[d]);
				count_pages(u[i].start, last, sz, nsz, n);
				i++;
				lines++;
			} else if (!strncmp(line, "mappings: ", 10)) {
				snprintf(want, sizeof(want),
					 "mappings: 1G %llu, 2M %llu, 4K %llu, %llu in all\n",
					 (unsigned long long)n[2], (unsigned long long)n[1],
					 (unsigned long long)n[0],
					 (unsigned long long)(n[0] + n[1] + n[2]));
				EXPECT_STREQ(want, line) TH_LOG("group %d", self->group[d]);
			}
		}
		EXPECT_EQ(0, pclose(f));
		for (i = 0; i < nu && u[i].start < 0x100000000ULL; i++)
			;
		EXPECT_EQ(i, lines) TH_LOG("group %d: VFIO has %d usable ranges below 4 GiB",
					   self->group[d], i);
	}
}

TEST_F(tool, list_names_every_group_and_device)
{
	static char text[1 << 18];
	char cmd[512], want[64];
	size_t len;
	FILE *f;
	int d;

	snprintf(cmd, sizeof(cmd), "%s list", tool());
	f = popen(cmd, "r");
	ASSERT_NE(NULL, f);
	len = fread(text, 1, sizeof(text) - 1, f);
	text[len] = '\0';
	ASSERT_EQ(0, pclose(f));
	for (d = 0; d < self->nr; d++) {
		snprintf(want, sizeof(want), "group %d\n", self->group[d]);
		EXPECT_NE(NULL, strstr(text, want)) TH_LOG("no \"%s\"", want);
		snprintf(want, sizeof(want), "  device %s 1234:11e8 vfio-pci\n", self->bdf[d]);
		EXPECT_NE(NULL, strstr(text, want)) TH_LOG("no \"%s\"", want);
	}
}

/*
 * "iommu-resv query" prints each device's lines of reserved_regions_detail,
 * in order, each with whether an iommufd attach enforces it, as iommufd
 * reports them before the device is attached.
 */
TEST_F(tool, query_is_detail)
{
	static struct resv_detail d[RESV_MAX];
	char cmd[512], line[1024], want[1024];
	int i, k, nd, status;
	FILE *f;

	if (access("/dev/iommu", F_OK) || access("/dev/vfio/devices", F_OK))
		SKIP(return, "no /dev/iommu or VFIO cdev");
	snprintf(cmd, sizeof(cmd), "%s query --device %s >/dev/null", tool(), self->bdf[0]);
	status = system(cmd);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2)
		SKIP(return, "no IOMMU_GET_RESV_REGIONS (the unpatched kernel)");
	for (i = 0; i < self->nr; i++) {
		nd = resv_read_detail(self->group[i], d, RESV_MAX);
		ASSERT_LT(0, nd);
		snprintf(cmd, sizeof(cmd), "%s query --device %s", tool(), self->bdf[i]);
		f = popen(cmd, "r");
		ASSERT_NE(NULL, f);
		for (k = 0; k < nd; k++) {
			if (strcmp(d[k].dev, self->bdf[i]))
				continue;
			snprintf(want, sizeof(want), "0x%016llx 0x%016llx %s %s %s %s %s\n",
				 (unsigned long long)d[k].start, (unsigned long long)d[k].end,
				 d[k].type, d[k].dev, d[k].owner_type, d[k].owner,
				 resv_iommufd_enforces(d[k].type) ? "enforced" : "not-enforced");
			if (!fgets(line, sizeof(line), f))
				line[0] = '\0';
			EXPECT_STREQ(want, line) TH_LOG("%s", self->bdf[i]);
		}
		EXPECT_EQ(NULL, fgets(line, sizeof(line), f)) TH_LOG("%s: extra line %s",
								     self->bdf[i], line);
		EXPECT_EQ(0, pclose(f)) TH_LOG("%s", self->bdf[i]);
	}
}

TEST_HARNESS_MAIN
