// SPDX-License-Identifier: GPL-2.0-only
/*
 * The escape for setups built before PCI windows were reported:
 * vfio_iommu_type1.enforce_pci_windows and iommufd.enforce_pci_windows.
 *
 * For every edu device with a PCI window (bridge window, peer BAR, host
 * window, DMA range gap) in its group's reserved_regions_detail, a container
 * or IOAS made while the switch is on refuses a page at the window's start,
 * and its usable ranges are the aperture minus every region; one made while
 * it is off maps that page, its usable ranges leave out only the other
 * regions, and sysfs lists the windows all the same. The kernel says once
 * that the switch is off. The test computes each expectation from the detail
 * file alone.
 */
#include "iommu_resv_utils.h"
#include "../kselftest_harness.h"

/*
 * The regions a backend enforces for @bdf, as the detail file lists them:
 * the group's (type1) or the device's (iommufd), PCI kinds included or not.
 * Their PCI windows go to @win (up to @max_win, counted in *@nr_win).
 */
static int enforced_regions(int group, const char *bdf, bool iommufd, bool pci,
			    struct resv_region *r, int max, struct resv_region *win,
			    int max_win, int *nr_win)
{
	static struct resv_detail d[RESV_MAX];
	int i, n = 0, nd = resv_read_detail(group, d, RESV_MAX);

	*nr_win = 0;
	for (i = 0; i < nd; i++) {
		bool pci_kind = resv_is_pci_kind(d[i].type);
		struct resv_region x = { .start = d[i].start, .end = d[i].end };

		if (iommufd && strcmp(d[i].dev, bdf))
			continue;
		snprintf(x.type, sizeof(x.type), "%s", d[i].type);
		if (pci_kind && *nr_win < max_win && !strcmp(d[i].dev, bdf))
			win[(*nr_win)++] = x;
		if (pci_kind && !pci)
			continue;
		if (n == max)
			return -E2BIG;
		r[n++] = x;
	}
	return nd < 0 ? nd : n;
}

/*
 * Whether a record still in the kernel log, from its start, has every
 * @needle (records overwritten meanwhile are skipped).
 */
static bool logged_since_boot(const char * const *needle, int n)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK), i;
	bool found = false;
	char rec[2048];
	ssize_t len;

	if (fd < 0)
		return false;
	while (!found) {
		len = read(fd, rec, sizeof(rec) - 1);
		if (len < 0 && errno == EPIPE)
			continue;
		if (len <= 0)
			break;
		rec[len] = '\0';
		for (i = 0; i < n && strstr(rec, needle[i]); i++)
			;
		found = i == n;
	}
	close(fd);
	return found;
}

FIXTURE(compat) {
	struct resv_edus edus;	/* the backend is the variant's */
	char param[128];
	char saved[8];		/* the parameter as the test found it */
	int gfd_b;		/* type1_detach_keeps_windows_usable's second group */
};

FIXTURE_VARIANT(compat) {
	bool iommufd;
	const char *module;
};

FIXTURE_VARIANT_ADD(compat, type1) {
	.iommufd = false,
	.module = "vfio_iommu_type1",
};

FIXTURE_VARIANT_ADD(compat, iommufd) {
	.iommufd = true,
	.module = "iommufd",
};

FIXTURE_SETUP(compat)
{
	snprintf(self->param, sizeof(self->param),
		 "/sys/module/%s/parameters/enforce_pci_windows", variant->module);
	if (access(self->param, W_OK))
		SKIP(return, "no %s (kernel without the series)", self->param);
	ASSERT_LT(0, resv_read_file(self->param, self->saved, sizeof(self->saved)));
	self->saved[strcspn(self->saved, "\n")] = '\0';
	RESV_SKIP_UNLESS(return, (variant->iommufd ? RESV_NEED_IOMMUFD : 0) | RESV_NEED_EDU);
	RESV_EDUS_SETUP(&self->edus, variant->iommufd, 1, MAP_PRIVATE);
	self->gfd_b = -1;
}

FIXTURE_TEARDOWN(compat)
{
	if (self->saved[0])
		resv_write_file(self->param, self->saved);
	if (self->gfd_b >= 0)
		close(self->gfd_b);
	resv_edus_release(&self->edus);
}

/*
 * With the switch @param in state @on, a new container (or IOAS, as the
 * variant says) for edu @d: its usable ranges, and a page at the start of
 * each PCI window clear of the other regions, mapped from the buffer.
 * Returns how many such pages were tried.
 */
static int check_device(struct __test_metadata *_metadata, struct _test_data_compat *self,
			int d, bool on)
{
	struct resv_region r[RESV_MAX], other[RESV_MAX], win[RESV_MAX];
	struct resv_range want[RESV_MAX], got[RESV_MAX];
	struct resv_edus *e = &self->edus;
	struct resv_be *be = &e->be;
	bool iommufd = be->iommufd;
	const char *bdf = e->bdf[d];
	int nr, no, nw, nwant, ngot, i, k, tried = 0, group = e->group[d];
	long page = e->page;

	ASSERT_EQ(0, resv_write_file(self->param, on ? "Y" : "N"));
	ASSERT_EQ(0, resv_be_open(be, group, bdf));
	nr = enforced_regions(group, bdf, iommufd, on, r, RESV_MAX,
			      win, RESV_MAX, &nw);
	ASSERT_LE(0, nr);
	no = enforced_regions(group, bdf, iommufd, false, other,
			      RESV_MAX, win, RESV_MAX, &nw);
	ASSERT_LE(0, no);

	nwant = resv_complement(r, nr, 0, RESV_APERTURE_END, want, RESV_MAX);
	ngot = resv_be_ranges(be, got, RESV_MAX);
	ASSERT_LT(0, nwant);
	EXPECT_EQ(nwant, ngot) TH_LOG("%s, switch %s: usable ranges", bdf,
				      on ? "on" : "off");
	for (i = 0; i < nwant && i < ngot; i++) {
		EXPECT_EQ(want[i].start, got[i].start) TH_LOG("%s: range %d", bdf, i);
		EXPECT_EQ(want[i].end, got[i].end) TH_LOG("%s: range %d", bdf, i);
	}

	for (i = 0; i < nw; i++) {
		uint64_t iova = win[i].start & ~(uint64_t)(page - 1);
		bool clear = iova + page - 1 <= RESV_APERTURE_END;
		int ret;

		for (k = 0; k < no && clear; k++)
			if (resv_type1_excludes(&other[k]) &&
			    other[k].start <= iova + page - 1 && iova <= other[k].end)
				clear = false;
		if (!clear)
			continue;
		ret = resv_be_map(be, e->buf, iova, page);
		if (!ret)
			resv_be_unmap(be, iova, page);
		if (on) {
			EXPECT_NE(0, ret) TH_LOG("%s: %s 0x%llx mapped while enforced",
						 bdf, win[i].type,
						 (unsigned long long)win[i].start);
		} else {
			EXPECT_EQ(0, ret) TH_LOG("%s: %s 0x%llx refused while not enforced (%s)",
						 bdf, win[i].type,
						 (unsigned long long)win[i].start, strerror(-ret));
		}
		tried++;
	}
	resv_be_close(be);
	return tried;
}

TEST_F_TIMEOUT(compat, pci_windows_enforced_unless_switched_off, 300)
{
	const char * const warned[] = { variant->module, "enforce_pci_windows is off" };
	int d, on = 0, off = 0;

	for (d = 0; d < self->edus.nr; d++) {
		on += check_device(_metadata, self, d, true);
		off += check_device(_metadata, self, d, false);
		/* Reported all the same */
		EXPECT_EQ(on, off);
	}
	/* Not left off for the tests after this one, whatever happens next */
	ASSERT_EQ(0, resv_write_file(self->param, self->saved));
	TH_LOG("%d PCI window pages refused while on, mapped while off", off);
	/* The harness topologies give edus PCI windows: fail rather than pass vacuously */
	EXPECT_LT(0, off);

	/* Looked for from the start of the log: it is given once per boot */
	EXPECT_TRUE(logged_since_boot(warned, ARRAY_SIZE(warned)))
		TH_LOG("no \"%s: enforce_pci_windows is off\" line", variant->module);
}

/*
 * type1: with the switch off, a container of two groups keeps the PCI windows
 * of the one left usable when the other is detached (the usable ranges are
 * computed again then).
 */
TEST_F(compat, type1_detach_keeps_windows_usable)
{
	struct resv_edus *e = &self->edus;
	struct resv_region r[RESV_MAX], win[RESV_MAX];
	struct resv_range want[RESV_MAX], got[RESV_MAX];
	int a = -1, b = -1, i, nr, nw, nwant, ngot;
	char path[PATH_MAX];

	if (variant->iommufd)
		SKIP(return, "type1 only");
	/* A with a PCI window, B in another group */
	for (i = 0; i < e->nr && a < 0; i++) {
		nr = enforced_regions(e->group[i], e->bdf[i], false, true, r, RESV_MAX,
				      win, RESV_MAX, &nw);
		ASSERT_LE(0, nr);
		if (nw)
			a = i;
	}
	for (i = 0; i < e->nr && a >= 0 && b < 0; i++)
		if (e->group[i] != e->group[a])
			b = i;
	ASSERT_LE(0, a) TH_LOG("the topologies give edus PCI windows");
	ASSERT_LE(0, b) TH_LOG("the topologies have edus in two groups");

	ASSERT_EQ(0, resv_write_file(self->param, "N"));
	ASSERT_EQ(0, resv_be_open(&e->be, e->group[a], e->bdf[a]));
	snprintf(path, sizeof(path), "/dev/vfio/%d", e->group[b]);
	self->gfd_b = open(path, O_RDWR);
	ASSERT_LE(0, self->gfd_b);
	ASSERT_EQ(0, ioctl(self->gfd_b, VFIO_GROUP_SET_CONTAINER, &e->be.container));
	close(self->gfd_b);	/* the last reference: B is detached */
	self->gfd_b = -1;

	nr = enforced_regions(e->group[a], e->bdf[a], false, false, r, RESV_MAX,
			      win, RESV_MAX, &nw);
	ASSERT_LE(0, nr);
	nwant = resv_complement(r, nr, 0, RESV_APERTURE_END, want, RESV_MAX);
	ngot = resv_be_ranges(&e->be, got, RESV_MAX);
	ASSERT_LT(0, nwant);
	EXPECT_EQ(nwant, ngot);
	for (i = 0; i < nwant && i < ngot; i++) {
		EXPECT_EQ(want[i].start, got[i].start) TH_LOG("range %d", i);
		EXPECT_EQ(want[i].end, got[i].end) TH_LOG("range %d", i);
	}
	resv_be_close(&e->be);
}

TEST_HARNESS_MAIN
