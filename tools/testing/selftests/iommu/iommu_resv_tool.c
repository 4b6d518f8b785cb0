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
#include <stdarg.h>
#include <sys/wait.h>
#include "iommu_resv_utils.h"
#include "../kselftest_harness.h"

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

/* The edus, whose groups the tests open in type1 containers (@edus.be) */
FIXTURE(tool) {
	struct resv_edus edus;
	FILE *out;	/* the output of the tool, for the test that reads it */
};

FIXTURE_SETUP(tool)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "%s --help >/dev/null 2>&1", tool());
	if (system(cmd))
		SKIP(return, "no %s", tool());
	RESV_SKIP_UNLESS(return, RESV_NEED_VFIO | RESV_NEED_EDU);
	RESV_EDUS_SETUP(&self->edus, false, 2, MAP_PRIVATE);
}

FIXTURE_TEARDOWN(tool)
{
	if (self->out)
		pclose(self->out);
	resv_edus_release(&self->edus);
}

/* Start the tool with the arguments @fmt makes; its output is @self->out */
static FILE *run_tool(struct _test_data_tool *self, const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int n;

	n = snprintf(cmd, sizeof(cmd), "%s ", tool());
	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof(cmd) - n, fmt, ap);
	va_end(ap);
	self->out = popen(cmd, "r");
	return self->out;
}

/* Its exit status, 0 on success; @self->out is closed */
static int tool_status(struct _test_data_tool *self)
{
	int status = pclose(self->out);

	self->out = NULL;
	return status;
}

TEST_F(tool, check_agrees_with_vfio)
{
	struct resv_edus *e = &self->edus;
	struct resv_region r[RESV_MAX];
	struct resv_range u[RESV_MAX];
	uint64_t pg = e->page;
	int d, i, k, n, nu, conflicts = 0, clear = 0;

	for (d = 0; d < e->nr; d++) {
		int container;

		n = resv_read_group(e->group[d], r, RESV_MAX);
		ASSERT_LE(0, n);
		nu = resv_complement(r, n, 0, RESV_APERTURE_END, u, RESV_MAX);
		ASSERT_LT(0, nu);
		ASSERT_EQ(0, resv_be_open(&e->be, e->group[d], e->bdf[d]));
		container = e->be.container;
		for (i = 0; i <= n; i++) {
			/* Each region's edges; then the first usable page */
			uint64_t st = i < n ? r[i].start & ~(pg - 1) : u[0].start;
			uint64_t end = i < n ? r[i].end | (pg - 1) : u[0].start + pg - 1;
			const uint64_t probe[][2] = {
				{ st, pg }, { end - pg + 1, pg }, { st - pg, 2 * pg },
				{ end - pg + 1, 2 * pg }, { st - pg, pg }, { end + 1, pg },
			};

			for (k = 0; k < ARRAY_SIZE(probe); k++) {
				uint64_t last = probe[k][0] + probe[k][1] - 1;
				int mapped, verdict;

				if (last < probe[k][0] || last > RESV_APERTURE_END)
					continue;
				mapped = resv_type1_map(container, e->buf, probe[k][0],
							probe[k][1]);
				if (!mapped)
					resv_type1_unmap(container, probe[k][0], probe[k][1]);
				verdict = tool_check(e->group[d], probe[k][0], last);
				EXPECT_EQ(mapped ? 1 : 0, verdict)
					TH_LOG("%s group %d: 0x%llx-0x%llx: map %d, tool %d",
					       e->bdf[d], e->group[d],
					       (unsigned long long)probe[k][0],
					       (unsigned long long)last, mapped, verdict);
				if (verdict)
					conflicts++;
				else
					clear++;
			}
		}
		resv_be_close(&e->be);
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
	struct resv_edus *e = &self->edus;
	char line[512], want[128];
	struct resv_range u[RESV_MAX];
	int d, i, nu, lines, nsz;
	uint64_t n[3], last;
	FILE *f;

	for (d = 0; d < e->nr; d++) {
		ASSERT_EQ(0, resv_be_open(&e->be, e->group[d], e->bdf[d]));
		nu = resv_be_ranges(&e->be, u, RESV_MAX);
		resv_be_close(&e->be);
		ASSERT_LT(0, nu);

		f = run_tool(self, "holes --group %d --ranges 0-0xffffffff", e->group[d]);
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
				ASSERT_LT(i, nu) TH_LOG("group %d: extra %s", e->group[d], line);
				ASSERT_GT(0x100000000ULL, u[i].start) TH_LOG("extra %s", line);
				last = u[i].end < 0xffffffffULL ? u[i].end : 0xffffffffULL;
				snprintf(want, sizeof(want), "usable 0x%016llx-0x%016llx\n",
					 (unsigned long long)u[i].start, (unsigned long long)last);
				EXPECT_STREQ(want, line) TH_LOG("group %d", e->group[d]);
				count_pages(u[i].start, last, sz, nsz, n);
				i++;
				lines++;
			} else if (!strncmp(line, "mappings: ", 10)) {
				snprintf(want, sizeof(want),
					 "mappings: 1G %llu, 2M %llu, 4K %llu, %llu in all\n",
					 (unsigned long long)n[2], (unsigned long long)n[1],
					 (unsigned long long)n[0],
					 (unsigned long long)(n[0] + n[1] + n[2]));
				EXPECT_STREQ(want, line) TH_LOG("group %d", e->group[d]);
			}
		}
		EXPECT_EQ(0, tool_status(self));
		for (i = 0; i < nu && u[i].start < 0x100000000ULL; i++)
			;
		EXPECT_EQ(i, lines) TH_LOG("group %d: VFIO has %d usable ranges below 4 GiB",
					   e->group[d], i);
	}
}

TEST_F(tool, list_names_every_group_and_device)
{
	struct resv_edus *e = &self->edus;
	static char text[1 << 18];
	char want[64];
	size_t len;
	FILE *f;
	int d;

	f = run_tool(self, "list");
	ASSERT_NE(NULL, f);
	len = fread(text, 1, sizeof(text) - 1, f);
	text[len] = '\0';
	ASSERT_EQ(0, tool_status(self));
	for (d = 0; d < e->nr; d++) {
		snprintf(want, sizeof(want), "group %d\n", e->group[d]);
		EXPECT_NE(NULL, strstr(text, want)) TH_LOG("no \"%s\"", want);
		snprintf(want, sizeof(want), "  device %s 1234:11e8 vfio-pci\n", e->bdf[d]);
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
	struct resv_edus *e = &self->edus;
	static struct resv_detail d[RESV_MAX];
	char cmd[512], line[1024], want[1024];
	int i, k, nd, status;
	FILE *f;

	RESV_SKIP_UNLESS(return, RESV_NEED_IOMMUFD);
	snprintf(cmd, sizeof(cmd), "%s query --device %s >/dev/null", tool(), e->bdf[0]);
	status = system(cmd);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2)
		SKIP(return, "no IOMMU_GET_RESV_REGIONS (the unpatched kernel)");
	for (i = 0; i < e->nr; i++) {
		nd = resv_read_detail(e->group[i], d, RESV_MAX);
		ASSERT_LT(0, nd);
		f = run_tool(self, "query --device %s", e->bdf[i]);
		ASSERT_NE(NULL, f);
		for (k = 0; k < nd; k++) {
			if (strcmp(d[k].dev, e->bdf[i]))
				continue;
			snprintf(want, sizeof(want), "0x%016llx 0x%016llx %s %s %s %s %s\n",
				 (unsigned long long)d[k].start, (unsigned long long)d[k].end,
				 d[k].type, d[k].dev, d[k].owner_type, d[k].owner,
				 resv_iommufd_enforces(d[k].type) ? "enforced" : "not-enforced");
			if (!fgets(line, sizeof(line), f))
				line[0] = '\0';
			EXPECT_STREQ(want, line) TH_LOG("%s", e->bdf[i]);
		}
		EXPECT_EQ(NULL, fgets(line, sizeof(line), f)) TH_LOG("%s: extra line %s",
								     e->bdf[i], line);
		EXPECT_EQ(0, tool_status(self)) TH_LOG("%s", e->bdf[i]);
	}
}

TEST_HARNESS_MAIN
