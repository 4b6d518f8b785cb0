// SPDX-License-Identifier: GPL-2.0-only
/*
 * A device that joins a group already attached to a VFIO container or an
 * IOAS is checked against the existing mappings before it gets DMA:
 *
 *  - no mapping over its reserved regions: it is admitted, its regions are
 *    enforced from then on (and a device that leaves takes its regions with
 *    it), and its DMA reaches the mapped memory;
 *  - a mapping over one of them: it is not admitted and the kernel says why;
 *    the container keeps the group's previous list; VFIO refuses to open the
 *    device (so its bus mastering stays off), while the other members go on
 *    working.
 *
 * Two edu devices of one group (A joins and leaves by PCI remove and rescan,
 * B keeps the group attached); A's region is made with the test-only
 * injector (CONFIG_IOMMU_RESV_INJECT), so the expectations are the test's.
 */
#include <sys/mman.h>
#include "iommu_resv_utils.h"
#include "../kselftest_harness.h"

#define R_START		0x4000000000ULL		/* 256 GiB: inside both apertures */
#define R_SIZE		0x200000ULL
#define R_END		(R_START + R_SIZE - 1)

static int inject(const char *bdf, bool on)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "%s %d 0x%llx 0x%llx 0x%llx", bdf, on,
		 (unsigned long long)R_START, (unsigned long long)R_SIZE,
		 (unsigned long long)R_SIZE);
	return resv_write_file(RESV_INJECT, buf);
}

/*
 * What the backend must report: the aperture minus the group's sysfs list,
 * leaving out A's injected region when A was not admitted.
 */
static int expected_ranges(int group, bool with_r, struct resv_range *out, int max)
{
	struct resv_region r[RESV_MAX];
	int i, k = 0, n = resv_read_group(group, r, RESV_MAX);

	if (n < 0)
		return n;
	for (i = 0; i < n; i++)
		if (with_r || r[i].start != R_START || r[i].end != R_END)
			r[k++] = r[i];
	return resv_complement(r, k, 0, RESV_APERTURE_END, out, max);
}

#define PCI_COMMAND_MASTER	0x4

/* The PCI command register of @bdf, read from sysfs, or ~0 */
static unsigned int resv_pci_command(const char *bdf)
{
	char path[PATH_MAX];
	uint16_t cmd;
	int fd;

	snprintf(path, sizeof(path), RESV_PCI_DIR "/%s/config", bdf);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return ~0U;
	if (pread(fd, &cmd, 2, 4) != 2)
		cmd = 0xffff;
	close(fd);
	return cmd;
}

static bool group_lists_r(int group)
{
	struct resv_region r[RESV_MAX];
	int i, n = resv_read_group(group, r, RESV_MAX);

	for (i = 0; i < n; i++)
		if (r[i].start == R_START && r[i].end == R_END)
			return true;
	return false;
}

FIXTURE(hotplug) {
	char a[16], b[16];
	int group;
	struct resv_be be;
	unsigned char *src, *dst;
	uint64_t iova_src, iova_dst;
	long page;
};

FIXTURE_VARIANT(hotplug) {
	bool iommufd;
};

FIXTURE_VARIANT_ADD(hotplug, type1) {
	.iommufd = false,
};

FIXTURE_VARIANT_ADD(hotplug, iommufd) {
	.iommufd = true,
};

/* Two edus of one group: B bound to vfio-pci, A (the later one) unbound. */
FIXTURE_SETUP(hotplug)
{
	struct resv_range u[RESV_MAX];
	int i, nu;

	self->page = sysconf(_SC_PAGESIZE);
	self->be.iommufd = variant->iommufd;
	if (access(RESV_INJECT, W_OK))
		SKIP(return, "no %s (CONFIG_IOMMU_RESV_INJECT)", RESV_INJECT);
	if (variant->iommufd && (access("/dev/iommu", F_OK) || access("/dev/vfio/devices", F_OK)))
		SKIP(return, "no /dev/iommu or VFIO cdev");
	self->group = resv_hotplug_pair_ready(self->a, self->b);
	if (self->group == -ENODEV)
		SKIP(return, "no edu device");
	/* The harness topologies have such a pair (a two-function edu) */
	ASSERT_LE(0, self->group) TH_LOG("no two edu devices share a group (%d)", self->group);
	ASSERT_EQ(0, inject(self->a, false));

	self->src = mmap(NULL, self->page, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	self->dst = mmap(NULL, self->page, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->src);
	ASSERT_NE(MAP_FAILED, self->dst);
	for (i = 0; i < self->page; i++)
		self->src[i] = (unsigned char)(i * 13 + 1);
	memset(self->dst, 0, self->page);

	nu = expected_ranges(self->group, true, u, RESV_MAX);
	ASSERT_LT(0, nu);
	self->iova_src = resv_edu_usable_iova(u, nu, 0x100000, self->page);
	self->iova_dst = resv_edu_usable_iova(u, nu, self->iova_src + 0x100000, self->page);
	ASSERT_NE(0, self->iova_src);
	ASSERT_NE(0, self->iova_dst);
	ASSERT_TRUE(resv_usable(u, nu, R_START, R_END)) TH_LOG("R must overlap nothing yet");
}

FIXTURE_TEARDOWN(hotplug)
{
	if (!self->a[0])
		return;
	inject(self->a, false);
	if (!resv_pci_present(self->a))
		resv_pci_rescan(self->a);
	resv_pci_unbind(self->a);
}

/* The backend's ranges are the complement of the sysfs list (with or without R). */
#define EXPECT_ENFORCED(with_r) do {						\
	struct resv_range _w[RESV_MAX], _g[RESV_MAX];				\
	int _nw = expected_ranges(self->group, with_r, _w, RESV_MAX);		\
	int _ng = resv_be_ranges(&self->be, _g, RESV_MAX), _i;			\
										\
	ASSERT_LT(0, _nw);							\
	EXPECT_EQ(_nw, _ng);							\
	for (_i = 0; _i < _nw && _i < _ng; _i++) {				\
		EXPECT_EQ(_w[_i].start, _g[_i].start) TH_LOG("range %d", _i);	\
		EXPECT_EQ(_w[_i].end, _g[_i].end) TH_LOG("range %d", _i);	\
	}									\
} while (0)

/*
 * DMA from iova_src to iova_dst through the edu whose VFIO device fd is @fd:
 * 1 if the bytes arrived, 0 if the DMA ran but they did not, or -errno.
 */
static int copy_arrives(int fd, unsigned char *src, unsigned char *dst,
			uint64_t iova_src, uint64_t iova_dst)
{
	struct resv_edu e = { .fd = -1 };
	int ret;

	if (fd < 0)
		return fd;
	memset(dst, 0, EDU_DMA_BYTES);
	ret = resv_edu_init(fd, &e) ?: resv_edu_copy(&e, iova_src, iova_dst);
	return ret ?: !memcmp(src, dst, EDU_DMA_BYTES);
}

TEST_F(hotplug, admitted_without_conflict)
{
	int fd;

	ASSERT_EQ(0, inject(self->a, true));
	ASSERT_EQ(0, resv_be_open(&self->be, self->group, self->b));
	ASSERT_EQ(0, resv_be_map(&self->be, self->src, self->iova_src, self->page));
	ASSERT_EQ(0, resv_be_map(&self->be, self->dst, self->iova_dst, self->page));
	EXPECT_EQ(-EINVAL, resv_be_map(&self->be, self->src, R_START, self->page));

	/* A leaves: its region is no longer the group's, nor enforced */
	ASSERT_EQ(0, resv_pci_remove(self->a));
	EXPECT_FALSE(group_lists_r(self->group));
	EXPECT_ENFORCED(true);
	EXPECT_EQ(0, resv_be_map(&self->be, self->src, R_START, self->page));
	EXPECT_EQ(0, resv_be_unmap(&self->be, R_START, self->page));

	/* A comes back: admitted, its region enforced again */
	ASSERT_EQ(0, resv_pci_rescan(self->a));
	EXPECT_TRUE(group_lists_r(self->group));
	EXPECT_ENFORCED(true);
	EXPECT_EQ(-EINVAL, resv_be_map(&self->be, self->src, R_END + 1 - self->page, self->page));

	ASSERT_EQ(self->group, resv_bind_vfio(self->a));
	fd = resv_be_open_dev(&self->be, self->a);
	EXPECT_EQ(1, copy_arrives(fd, self->src, self->dst, self->iova_src, self->iova_dst))
		TH_LOG("%s: admitted, but its DMA did not arrive", self->a);
	if (fd >= 0)
		close(fd);
	ASSERT_EQ(0, resv_pci_unbind(self->a));
	resv_be_close(&self->be);
}

TEST_F(hotplug, blocked_on_conflict)
{
	char range[64], grp[32];
	const char * const why[] = { "hot-added device: mapping", range, self->a, grp };
	const char * const blocked[] = { self->a, "not admitted", "DMA stays blocked" };
	int kmsg, fd;

	ASSERT_EQ(0, resv_be_open(&self->be, self->group, self->b));
	ASSERT_EQ(0, resv_be_map(&self->be, self->src, self->iova_src, self->page));
	ASSERT_EQ(0, resv_be_map(&self->be, self->dst, self->iova_dst, self->page));

	/* While A is away, a mapping over what will be A's region */
	ASSERT_EQ(0, resv_pci_remove(self->a));
	ASSERT_EQ(0, inject(self->a, true));
	ASSERT_EQ(0, resv_be_map(&self->be, self->src, R_START, self->page));

	kmsg = resv_kmsg_open();
	ASSERT_LE(0, kmsg);
	ASSERT_EQ(0, resv_pci_rescan(self->a));
	snprintf(range, sizeof(range), "overlaps reserved 0x%llx-0x%llx",
		 (unsigned long long)R_START, (unsigned long long)R_END);
	snprintf(grp, sizeof(grp), "in group %d,", self->group);
	EXPECT_TRUE(resv_kmsg_has(kmsg, why, ARRAY_SIZE(why)))
		TH_LOG("no \"%s\" line for %s", range, self->a);
	EXPECT_TRUE(resv_kmsg_has(kmsg, blocked, ARRAY_SIZE(blocked)))
		TH_LOG("no \"not admitted\" line for %s", self->a);
	close(kmsg);

	/* Reported by sysfs, but the container keeps the list it had */
	EXPECT_TRUE(group_lists_r(self->group));
	EXPECT_ENFORCED(false);

	/* A cannot be opened, so cannot master the bus; B's DMA still arrives */
	ASSERT_EQ(self->group, resv_bind_vfio(self->a));
	fd = resv_be_open_dev(&self->be, self->a);
	EXPECT_EQ(-EBUSY, fd);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(0, resv_pci_command(self->a) & PCI_COMMAND_MASTER);
	fd = self->be.iommufd ? self->be.ioas.dev : resv_be_open_dev(&self->be, self->b);
	EXPECT_EQ(1, copy_arrives(fd, self->src, self->dst, self->iova_src, self->iova_dst))
		TH_LOG("%s: its DMA did not arrive", self->b);
	if (!self->be.iommufd && fd >= 0)
		close(fd);
	ASSERT_EQ(0, resv_pci_unbind(self->a));
	resv_be_close(&self->be);
}

TEST_HARNESS_MAIN
