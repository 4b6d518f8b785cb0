// SPDX-License-Identifier: GPL-2.0-only
/*
 * A VMM asks before it takes a device: every PCI device behind an IOMMU has
 * its group, and its group's reserved regions, whether or not a driver is
 * bound. Run it before anything binds devices (the test VMs put every PCI
 * device behind the IOMMU).
 */
#include "iommu_resv_utils.h"
#include "../kselftest_harness.h"

#define MAX_DEVS	256

static bool has_driver(const char *bdf)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), RESV_PCI_DIR "/%.64s/driver", bdf);
	return access(path, F_OK) == 0;
}

static int list_pci(char bdfs[][16], int max)
{
	DIR *d = opendir(RESV_PCI_DIR);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)) && n < max)
		if (e->d_name[0] != '.')
			snprintf(bdfs[n++], 16, "%.15s", e->d_name);
	closedir(d);
	return n;
}

FIXTURE(unbound) {
	char bdf[MAX_DEVS][16];
	int nr;
	int unbound;
};

FIXTURE_SETUP(unbound)
{
	int i;

	if (access(RESV_GROUPS_DIR, F_OK))
		SKIP(return, "no IOMMU groups");
	self->nr = list_pci(self->bdf, MAX_DEVS);
	ASSERT_LT(0, self->nr);
	for (i = 0; i < self->nr; i++)
		self->unbound += !has_driver(self->bdf[i]);
}

FIXTURE_TEARDOWN(unbound)
{
}

/* Each PCI device, bound or not, is in a group that lists it. */
TEST_F(unbound, every_device_has_group)
{
	char path[PATH_MAX];
	int i, group;

	for (i = 0; i < self->nr; i++) {
		group = resv_device_group(self->bdf[i]);
		EXPECT_LE(0, group) TH_LOG("%s (%s driver) has no IOMMU group", self->bdf[i],
					   has_driver(self->bdf[i]) ? "with" : "no");
		if (group < 0)
			continue;
		snprintf(path, sizeof(path), RESV_GROUPS_DIR "/%d/devices/%.64s", group,
			 self->bdf[i]);
		EXPECT_EQ(0, access(path, F_OK));
	}
}

/* The group of a device with no driver reports the arch's MSI window for it. */
TEST_F(unbound, unbound_device_regions)
{
	struct resv_region r[RESV_MAX];
	int i, k, n, group, checked = 0;

	if (!self->unbound)
		SKIP(return, "every PCI device has a driver");
	for (i = 0; i < self->nr; i++) {
		bool msi = false;

		if (has_driver(self->bdf[i]))
			continue;
		group = resv_device_group(self->bdf[i]);
		ASSERT_LE(0, group) TH_LOG("%s has no IOMMU group", self->bdf[i]);
		n = resv_read_group(group, r, RESV_MAX);
		ASSERT_LE(0, n);
		for (k = 0; k < n; k++)
			msi |= r[k].start == RESV_MSI_START && r[k].end == RESV_MSI_END;
		EXPECT_TRUE(msi) TH_LOG("%s: group %d has no MSI window", self->bdf[i], group);
		checked++;
	}
	EXPECT_EQ(self->unbound, checked);
}

TEST_HARNESS_MAIN
