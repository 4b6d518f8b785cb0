// SPDX-License-Identifier: GPL-2.0-only
/*
 * The per-group "reserved_regions" sysfs file: its format, its order, and
 * the MSI window every group must carry on this architecture.
 */
#include "iommu_resv_utils.h"
#include "../kselftest_harness.h"

FIXTURE(groups) {
	int groups[RESV_MAX_GROUPS];
	int nr;
};

FIXTURE_SETUP(groups)
{
	self->nr = resv_list_groups(self->groups, RESV_MAX_GROUPS);
	if (self->nr == -ENOENT)
		SKIP(return, "no %s: IOMMU disabled?", RESV_GROUPS_DIR);
	ASSERT_LT(0, self->nr) TH_LOG("no IOMMU groups");
}

FIXTURE_TEARDOWN(groups)
{
}

/* Every line is exactly "0x%016llx 0x%016llx <type>\n" with start <= end. */
TEST_F(groups, format)
{
	struct resv_region r[RESV_MAX];
	int g, i, n;

	for (g = 0; g < self->nr; g++) {
		n = resv_read_group(self->groups[g], r, RESV_MAX);
		EXPECT_LE(0, n) TH_LOG("group %d: malformed reserved_regions (%d)",
				       self->groups[g], n);
		for (i = 0; i < n; i++) {
			EXPECT_LE(r[i].start, r[i].end)
				TH_LOG("group %d: start > end at line %d", self->groups[g], i + 1);
			EXPECT_TRUE(resv_type_known(r[i].type))
				TH_LOG("group %d: unknown type '%s'", self->groups[g], r[i].type);
		}
	}
}

/* Lines are in ascending order of start address. */
TEST_F(groups, sorted)
{
	struct resv_region r[RESV_MAX];
	int g, i, n;

	for (g = 0; g < self->nr; g++) {
		n = resv_read_group(self->groups[g], r, RESV_MAX);
		ASSERT_LE(0, n);
		for (i = 1; i < n; i++)
			EXPECT_LE(r[i - 1].start, r[i].start)
				TH_LOG("group %d: line %d starts below line %d",
				       self->groups[g], i + 1, i);
	}
}

/* Every group reports the arch's MSI window exactly once, as "msi". */
TEST_F(groups, msi_window)
{
	struct resv_region r[RESV_MAX];
	int g, i, n, found;

	for (g = 0; g < self->nr; g++) {
		n = resv_read_group(self->groups[g], r, RESV_MAX);
		ASSERT_LE(0, n);
		found = 0;
		for (i = 0; i < n; i++)
			if (r[i].start == RESV_MSI_START && r[i].end == RESV_MSI_END &&
			    !strcmp(r[i].type, "msi"))
				found++;
		EXPECT_EQ(1, found)
			TH_LOG("group %d: MSI window 0x%llx-0x%llx reported %d times",
			       self->groups[g], RESV_MSI_START, RESV_MSI_END, found);
	}
}

/* Each group directory has the file and a "devices" directory that is not empty. */
TEST_F(groups, devices_present)
{
	char path[PATH_MAX];
	struct dirent *e;
	int g, n;
	DIR *d;

	for (g = 0; g < self->nr; g++) {
		snprintf(path, sizeof(path), RESV_GROUPS_DIR "/%d/devices", self->groups[g]);
		d = opendir(path);
		ASSERT_NE(NULL, d);
		n = 0;
		while ((e = readdir(d)))
			n += e->d_name[0] != '.';
		closedir(d);
		EXPECT_LT(0, n) TH_LOG("group %d has no devices", self->groups[g]);
	}
}

TEST_HARNESS_MAIN
