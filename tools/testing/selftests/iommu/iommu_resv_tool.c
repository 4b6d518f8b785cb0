// SPDX-License-Identifier: GPL-2.0-only
/*
 * tools/iommu/iommu-resv answers what VFIO does: for every edu device's
 * group, "iommu-resv check" on a page at each edge of each region (first
 * page, last page, straddling, just outside) and on a page the group leaves
 * usable says "conflict" (exit 1) exactly when VFIO_IOMMU_MAP_DMA of that page
 * fails, and "iommu-resv list" names every group and device. Set
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

TEST_HARNESS_MAIN
