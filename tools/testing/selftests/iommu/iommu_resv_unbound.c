// SPDX-License-Identifier: GPL-2.0-only
/*
 * A VMM asks before it takes a device: every PCI device behind an IOMMU has
 * its group, and its group's reserved regions, whether or not a driver is
 * bound. Run it before anything binds devices (the test VMs put every PCI
 * device behind the IOMMU).
 */
/* Every PCI device of the VM, not only its edus: more than the others take */
#define RESV_MAX_DEVS	256

#include "iommu_resv_utils.h"
#include "../kselftest_harness.h"

static bool has_driver(const char *bdf)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), RESV_PCI_DIR "/%.64s/driver", bdf);
	return access(path, F_OK) == 0;
}

static int list_pci(char bdfs[][16], int max)
{
	struct resv_names l = { .out = bdfs, .width = 16, .max = max };
	int ret = resv_walk_dir(RESV_PCI_DIR, resv_add_name, &l);

	return ret < 0 ? ret : l.n;
}

FIXTURE(unbound) {
	char bdf[RESV_MAX_DEVS][16];
	int nr;
	int unbound;
};

FIXTURE_SETUP(unbound)
{
	int i;

	if (access(RESV_GROUPS_DIR, F_OK))
		SKIP(return, "no IOMMU groups");
	self->nr = list_pci(self->bdf, RESV_MAX_DEVS);
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

/*
 * Hot-add: remove an unbound device and rescan the bus. The device comes
 * back with its group and regions, still with no driver, and the detailed
 * view of its group names it again.
 */
TEST_F(unbound, hot_added_device)
{
	struct resv_region r[RESV_MAX];
	char path[PATH_MAX], bdf[16] = "";
	int i, k, n, group = -1;
	bool msi = false;

	for (i = 0; i < self->nr && !bdf[0]; i++)
		if (!has_driver(self->bdf[i]) &&
		    resv_pci_attr(self->bdf[i], "vendor") == RESV_EDU_VENDOR &&
		    resv_pci_attr(self->bdf[i], "device") == RESV_EDU_DEVICE)
			snprintf(bdf, sizeof(bdf), "%s", self->bdf[i]);
	if (!bdf[0])
		SKIP(return, "no unbound edu device");

	snprintf(path, sizeof(path), RESV_PCI_DIR "/%s/remove", bdf);
	ASSERT_EQ(0, resv_write_file(path, "1"));
	snprintf(path, sizeof(path), RESV_PCI_DIR "/%s", bdf);
	ASSERT_NE(0, access(path, F_OK)) TH_LOG("%s still present after remove", bdf);

	ASSERT_EQ(0, resv_write_file("/sys/bus/pci/rescan", "1"));
	for (k = 0; k < 50 && access(path, F_OK); k++)
		usleep(100000);
	ASSERT_EQ(0, access(path, F_OK)) TH_LOG("%s did not come back", bdf);

	for (k = 0; k < 50 && (group = resv_device_group(bdf)) < 0; k++)
		usleep(100000);
	ASSERT_LE(0, group) TH_LOG("hot-added %s has no IOMMU group", bdf);
	EXPECT_FALSE(has_driver(bdf));
	n = resv_read_group(group, r, RESV_MAX);
	ASSERT_LE(0, n);
	for (i = 0; i < n; i++)
		msi |= r[i].start == RESV_MSI_START && r[i].end == RESV_MSI_END;
	EXPECT_TRUE(msi) TH_LOG("group %d of hot-added %s has no MSI window", group, bdf);
}

TEST_HARNESS_MAIN
