// SPDX-License-Identifier: GPL-2.0-only
/*
 * A device that joins a group already attached to a VFIO container or an
 * IOAS is attached to the group's domain by the IOMMU core, like every
 * member, and is checked against the existing mappings where it becomes able
 * to do DMA: when VFIO opens it (type1) or iommufd binds it.
 *
 *  - type1 enforces the group's list as sysfs lists it: once a member joins
 *    or leaves, the next MAP_DMA, GET_INFO, attach or open gathers it again;
 *    iommufd enforces each attached device's own regions;
 *  - no mapping over the joining device's regions: it opens (binds and
 *    attaches), its DMA reaches the mapped memory, and a device that leaves
 *    takes its regions with it;
 *  - a mapping over one of them: the kernel names the mapping and the region;
 *    type1 still enforces the group's new list (the mapping stays, its range
 *    is no longer usable); the device cannot be opened (EBUSY) or bound
 *    (EADDRINUSE), so its bus mastering stays off, while the other members go
 *    on working.
 *
 * A region of an attached device that appears after the attach (as when a
 * bridge window grows), or a PCI change anywhere, makes both backends gather
 * again at their next call; a mapping the new list overlaps stays, is
 * reported, and its range leaves the usable ranges.
 *
 * Two edu devices of one group (A joins and leaves by PCI remove and rescan,
 * B keeps the group attached); A is a function 0 or, in the *_function1
 * variants, a function > 0 of a multi-function device, which must come back
 * into its siblings' group. The regions are made with the test-only
 * injector (CONFIG_IOMMU_RESV_INJECT), so the expectations are the test's.
 */
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include "iommu_resv_utils.h"
#include "../kselftest_harness.h"

#define R_START		0x4000000000ULL		/* 256 GiB: inside both apertures */
#define R_SIZE		0x200000ULL
#define R_END		(R_START + R_SIZE - 1)

/* R for @bdf (on) or not; @quiet: without telling the users of gathered lists */
static int inject_how(const char *bdf, bool on, bool quiet)
{
	return resv_inject(bdf, on, R_START, R_SIZE, R_SIZE, quiet);
}

static int inject(const char *bdf, bool on)
{
	return inject_how(bdf, on, false);
}

/*
 * What the backend must report: the aperture minus what it enforces, as
 * sysfs lists it. type1: the group's list. iommufd: the attached devices'
 * regions (B's, and A's when @a_attached).
 */
static int expected_ranges(int group, bool iommufd, const char *b, const char *a,
			   bool a_attached, struct resv_range *out, int max)
{
	struct resv_region r[RESV_MAX];
	int n, k;

	if (!iommufd) {
		n = resv_read_group(group, r, RESV_MAX);
	} else {
		n = resv_read_device(group, b, r, RESV_MAX);
		if (n >= 0 && a_attached) {
			k = resv_read_device(group, a, r + n, RESV_MAX - n);
			n = k < 0 ? k : n + k;
		}
	}
	if (n < 0)
		return n;
	return resv_complement(r, n, 0, RESV_APERTURE_END, out, max);
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
	int kmsg;
	unsigned char *src, *dst;
	uint64_t iova_src, iova_dst;
	long page;
};

FIXTURE_VARIANT(hotplug) {
	bool iommufd;
	/* A is a function 0, or a function > 0 of a multi-function device */
	bool a_function0;
};

FIXTURE_VARIANT_ADD(hotplug, type1) {
	.iommufd = false,
	.a_function0 = true,
};

FIXTURE_VARIANT_ADD(hotplug, iommufd) {
	.iommufd = true,
	.a_function0 = true,
};

FIXTURE_VARIANT_ADD(hotplug, type1_function1) {
	.iommufd = false,
	.a_function0 = false,
};

FIXTURE_VARIANT_ADD(hotplug, iommufd_function1) {
	.iommufd = true,
	.a_function0 = false,
};

/* Two edus of one group: B bound to vfio-pci, A unbound. */
FIXTURE_SETUP(hotplug)
{
	struct resv_range u[RESV_MAX];
	int i, nu;

	self->page = sysconf(_SC_PAGESIZE);
	resv_be_init(&self->be, variant->iommufd);
	RESV_SKIP_UNLESS(return, RESV_NEED_INJECT |
			 (variant->iommufd ? RESV_NEED_IOMMUFD : 0) | RESV_NEED_EDU);
	self->group = resv_hotplug_pair_ready(self->a, self->b, variant->a_function0);
	/* The harness topologies have such pairs (a two-function edu) */
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

	nu = expected_ranges(self->group, false, self->b, self->a, true, u, RESV_MAX);
	ASSERT_LT(0, nu);
	self->iova_src = resv_edu_usable_iova(u, nu, 0x100000, self->page);
	self->iova_dst = resv_edu_usable_iova(u, nu, self->iova_src + 0x100000, self->page);
	ASSERT_NE(0, self->iova_src);
	ASSERT_NE(0, self->iova_dst);
	ASSERT_TRUE(resv_usable(u, nu, R_START, R_END)) TH_LOG("R must overlap nothing yet");
	self->kmsg = resv_kmsg_open();
	ASSERT_LE(0, self->kmsg);
}

FIXTURE_TEARDOWN(hotplug)
{
	resv_be_close(&self->be);
	close(self->kmsg);
	munmap(self->src, self->page);
	munmap(self->dst, self->page);
	if (!self->a[0])
		return;
	inject(self->a, false);
	inject(self->b, false);
	/* Brings back whatever a failed test left removed */
	resv_write_file("/sys/bus/pci/rescan", "1");
	resv_pci_unbind(self->a);
}

/*
 * The backend's ranges are the complement of what sysfs lists for it: the
 * group's list (type1), or the lines of B and, @a_attached, of A (iommufd).
 */
#define EXPECT_ENFORCED_AS(b, a, a_attached) do {				\
	struct resv_range _w[RESV_MAX], _g[RESV_MAX];				\
	int _nw = expected_ranges(self->group, variant->iommufd, b, a,		\
				  a_attached, _w, RESV_MAX);			\
	int _ng = resv_be_ranges(&self->be, _g, RESV_MAX), _i;			\
										\
	ASSERT_LT(0, _nw);							\
	EXPECT_EQ(_nw, _ng);							\
	for (_i = 0; _i < _nw && _i < _ng; _i++) {				\
		EXPECT_EQ(_w[_i].start, _g[_i].start) TH_LOG("range %d", _i);	\
		EXPECT_EQ(_w[_i].end, _g[_i].end) TH_LOG("range %d", _i);	\
	}									\
} while (0)
#define EXPECT_ENFORCED(a_attached) EXPECT_ENFORCED_AS(self->b, self->a, a_attached)
#define EXPECT_ENFORCED_BY(x) EXPECT_ENFORCED_AS(x, NULL, false)

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

TEST_F(hotplug, joins_without_conflict)
{
	int fd;

	ASSERT_EQ(0, inject(self->a, true));
	ASSERT_EQ(0, resv_be_open(&self->be, self->group, self->b));
	ASSERT_EQ(0, resv_be_map(&self->be, self->src, self->iova_src, self->page));
	ASSERT_EQ(0, resv_be_map(&self->be, self->dst, self->iova_dst, self->page));
	/* type1 enforces the group's list; iommufd only B's, as B alone is attached */
	EXPECT_ENFORCED(false);
	if (!variant->iommufd)
		EXPECT_EQ(-EINVAL, resv_be_map(&self->be, self->src, R_START, self->page));

	/*
	 * A leaves: its region is no longer the group's, nor enforced; B's own
	 * list loses A's BARs (a function peer), and both backends follow.
	 */
	ASSERT_EQ(0, resv_pci_remove(self->a));
	EXPECT_FALSE(group_lists_r(self->group));
	EXPECT_ENFORCED(false);
	EXPECT_EQ(0, resv_be_map(&self->be, self->src, R_START, self->page));
	EXPECT_EQ(0, resv_be_unmap(&self->be, R_START, self->page));

	/* A comes back: listed again, and type1 enforces it again at once */
	ASSERT_EQ(0, resv_pci_rescan(self->a));
	EXPECT_TRUE(group_lists_r(self->group));
	EXPECT_ENFORCED(false);
	if (!variant->iommufd)
		EXPECT_EQ(-EINVAL, resv_be_map(&self->be, self->src,
					       R_END + 1 - self->page, self->page));

	/* Opened (bound and attached): its regions are enforced, its DMA arrives */
	ASSERT_EQ(self->group, resv_bind_vfio(self->a));
	fd = resv_be_open_dev(&self->be, self->a);
	ASSERT_LE(0, fd) TH_LOG("%s: refused without a conflict (%d)", self->a, fd);
	EXPECT_ENFORCED(true);
	EXPECT_EQ(-EINVAL, resv_be_map(&self->be, self->src, R_END + 1 - self->page, self->page));
	EXPECT_EQ(1, copy_arrives(fd, self->src, self->dst, self->iova_src, self->iova_dst))
		TH_LOG("%s: opened, but its DMA did not arrive", self->a);
	close(fd);
	ASSERT_EQ(0, resv_pci_unbind(self->a));
	resv_be_close(&self->be);
}

TEST_F(hotplug, refused_on_conflict)
{
	char range[64], grp[32], open_what[32];
	const char * const changed[] = { "VFIO reserved regions changed: mapping", range,
					 self->a, grp };
	const char * const refused[] = { open_what, range, self->a, grp };
	int fd;

	snprintf(open_what, sizeof(open_what), "%s: mapping",
		 variant->iommufd ? "iommufd device bind" : "VFIO device open");
	ASSERT_EQ(0, resv_be_open(&self->be, self->group, self->b));
	ASSERT_EQ(0, resv_be_map(&self->be, self->src, self->iova_src, self->page));
	ASSERT_EQ(0, resv_be_map(&self->be, self->dst, self->iova_dst, self->page));

	/* While A is away, a mapping over what will be A's region */
	ASSERT_EQ(0, resv_pci_remove(self->a));
	ASSERT_EQ(0, inject(self->a, true));
	ASSERT_EQ(0, resv_be_map(&self->be, self->src, R_START, self->page));

	resv_kmsg_skip(self->kmsg);
	ASSERT_EQ(0, resv_pci_rescan(self->a));
	snprintf(range, sizeof(range), "overlaps reserved 0x%llx-0x%llx",
		 (unsigned long long)R_START, (unsigned long long)R_END);
	snprintf(grp, sizeof(grp), "in group %d,", self->group);

	/*
	 * Listed by sysfs, and type1's usable ranges follow at once (the
	 * mapping stays, and is reported); iommufd enforces B's regions only.
	 */
	EXPECT_TRUE(group_lists_r(self->group));
	EXPECT_ENFORCED(false);
	if (!variant->iommufd)
		EXPECT_TRUE(resv_kmsg_has(self->kmsg, changed, ARRAY_SIZE(changed)))
			TH_LOG("no \"regions changed\" line for %s", range);

	/* A cannot be opened; B's DMA still arrives */
	ASSERT_EQ(self->group, resv_bind_vfio(self->a));
	fd = resv_be_open_dev(&self->be, self->a);
	EXPECT_EQ(variant->iommufd ? -EADDRINUSE : -EBUSY, fd);
	if (fd >= 0)
		close(fd);
	EXPECT_TRUE(resv_kmsg_has(self->kmsg, refused, ARRAY_SIZE(refused)))
		TH_LOG("no \"%s\" line for %s", open_what, self->a);
	EXPECT_ENFORCED(false);
	fd = self->be.iommufd ? self->be.ioas.dev : resv_be_open_dev(&self->be, self->b);
	EXPECT_EQ(1, copy_arrives(fd, self->src, self->dst, self->iova_src, self->iova_dst))
		TH_LOG("%s: its DMA did not arrive", self->b);
	if (!self->be.iommufd && fd >= 0)
		close(fd);

	/* Once the mapping is gone, A opens */
	EXPECT_EQ(0, resv_be_unmap(&self->be, R_START, self->page));
	fd = resv_be_open_dev(&self->be, self->a);
	EXPECT_LE(0, fd) TH_LOG("%s: still refused (%d)", self->a, fd);
	if (fd >= 0)
		close(fd);
	ASSERT_EQ(0, resv_pci_unbind(self->a));
	resv_be_close(&self->be);
}

/*
 * The regions of an attached device change after the attach, as when a
 * bridge window above it grows (the injector stands in for the window):
 * both backends follow at their next call, and a region that grows over an
 * existing mapping keeps the mapping but takes its range out of the usable
 * ranges, with a line naming both.
 */
TEST_F(hotplug, regions_change_after_attach)
{
	char range[64], what[64];
	const char * const changed[] = { what, range, self->b };

	snprintf(what, sizeof(what), "%s reserved regions changed: mapping",
		 variant->iommufd ? "iommufd" : "VFIO");
	ASSERT_EQ(0, resv_be_open(&self->be, self->group, self->b));
	ASSERT_EQ(0, resv_be_map(&self->be, self->src, self->iova_src, self->page));
	ASSERT_EQ(0, resv_be_map(&self->be, self->src, R_START, self->page));
	EXPECT_ENFORCED(false);

	/* B's region appears over the mapping at R_START */
	resv_kmsg_skip(self->kmsg);
	ASSERT_EQ(0, inject(self->b, true));
	EXPECT_TRUE(group_lists_r(self->group));
	EXPECT_ENFORCED(false);
	snprintf(range, sizeof(range), "overlaps reserved 0x%llx-0x%llx",
		 (unsigned long long)R_START, (unsigned long long)R_END);
	EXPECT_TRUE(resv_kmsg_has(self->kmsg, changed, ARRAY_SIZE(changed)))
		TH_LOG("no \"%s\" line for %s", what, range);
	EXPECT_EQ(-EINVAL, resv_be_map(&self->be, self->dst, R_END + 1 - self->page,
				       self->page));
	/* The mapping stays, and goes when userspace unmaps it */
	EXPECT_EQ(0, resv_be_unmap(&self->be, R_START, self->page));
	EXPECT_EQ(-EINVAL, resv_be_map(&self->be, self->src, R_START, self->page));

	/* And back: the range is usable again */
	ASSERT_EQ(0, inject(self->b, false));
	EXPECT_FALSE(group_lists_r(self->group));
	EXPECT_ENFORCED(false);
	EXPECT_EQ(0, resv_be_map(&self->be, self->src, R_START, self->page));
	resv_be_close(&self->be);
}

/*
 * A PCI change anywhere makes the group gather again: B's region is injected
 * without telling anyone, so only the removal (then the rescan) of a device
 * of another group, which changes nothing in this group but moves the PCI
 * resource generation, can make sysfs and both backends see it. Until then
 * they agree on the list without it: one gathering serves them all.
 */
TEST_F(hotplug, pci_change_anywhere_regathers)
{
	struct resv_range before[RESV_MAX], now[RESV_MAX];
	char other[16];
	int nb, nn, i;

	if (resv_other_edu(self->group, other))
		SKIP(return, "no edu outside group %d", self->group);
	ASSERT_EQ(0, resv_be_open(&self->be, self->group, self->b));
	ASSERT_EQ(0, resv_be_map(&self->be, self->src, R_START, self->page));
	nb = resv_be_ranges(&self->be, before, RESV_MAX);
	ASSERT_LT(0, nb);

	/* Quietly: neither sysfs nor the backend knows yet */
	ASSERT_EQ(0, inject_how(self->b, true, true));
	EXPECT_FALSE(group_lists_r(self->group));
	nn = resv_be_ranges(&self->be, now, RESV_MAX);
	ASSERT_EQ(nb, nn);
	for (i = 0; i < nb; i++) {
		EXPECT_EQ(before[i].start, now[i].start);
		EXPECT_EQ(before[i].end, now[i].end);
	}

	/* A device of another group leaves: the group is gathered again */
	ASSERT_EQ(0, resv_pci_remove(other));
	EXPECT_TRUE(group_lists_r(self->group));
	EXPECT_ENFORCED(false);
	EXPECT_EQ(-EINVAL, resv_be_map(&self->be, self->dst, R_END + 1 - self->page,
				       self->page));

	/* Quietly gone, and the device comes back: gathered again */
	ASSERT_EQ(0, inject_how(self->b, false, true));
	ASSERT_EQ(0, resv_pci_rescan(other));
	EXPECT_FALSE(group_lists_r(self->group));
	EXPECT_ENFORCED(false);
	EXPECT_EQ(0, resv_be_unmap(&self->be, R_START, self->page));
	EXPECT_EQ(0, resv_be_map(&self->be, self->dst, R_START, self->page));
	resv_be_close(&self->be);
}

/*
 * Regions that keep changing (a hotplug loop elsewhere, a rescan that keeps
 * reprogramming windows) fail no call, and each call still sees what
 * changed before it: a child toggles A's region as fast as it can, which
 * moves B's generation at every write, while the test toggles B's own
 * region R and checks that the next call of B's backend enforces R exactly
 * as it was just set.
 */
TEST_F(hotplug, calls_succeed_while_regions_keep_changing)
{
	pid_t parent = getpid(), pid;
	struct resv_range r[RESV_MAX];
	int i, n, ret, failed = 0, stale = 0, status;
	struct timespec t0, t;
	bool on;

	ASSERT_EQ(0, resv_be_open(&self->be, self->group, self->b));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char on_a[128], off_a[32];

		/* A region of A's away from R (type1 enforces A's regions too) */
		snprintf(on_a, sizeof(on_a), "%s 1 0x%llx 0x%llx 0x%llx", self->a,
			 (unsigned long long)(R_START + 4 * R_SIZE),
			 (unsigned long long)R_SIZE, (unsigned long long)R_SIZE);
		snprintf(off_a, sizeof(off_a), "%s 0", self->a);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (i = 0; getppid() == parent; i++)
			resv_write_file(RESV_INJECT, i & 1 ? on_a : off_a);
		_exit(0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0, t = t0; t.tv_sec - t0.tv_sec < 3 || i < 200; i++) {
		on = i & 1;
		ASSERT_EQ(0, inject(self->b, on));
		ret = resv_be_map(&self->be, self->src, self->iova_src, self->page);
		if (!ret)
			ret = resv_be_unmap(&self->be, self->iova_src, self->page);
		n = ret ?: resv_be_ranges(&self->be, r, RESV_MAX);
		if (n < 0 && !failed++)
			TH_LOG("call %d failed: %s", i, strerror(-n));
		if (n > 0 && resv_usable(r, n, R_START, R_END) == on && !stale++)
			TH_LOG("call %d: R %s, but the backend does not know", i,
			       on ? "reserved" : "gone");
		clock_gettime(CLOCK_MONOTONIC, &t);
	}
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	TH_LOG("%d rounds of inject, map, unmap and ranges; %d failed, %d stale", i, failed,
	       stale);
	EXPECT_EQ(0, failed);
	EXPECT_EQ(0, stale);

	/* Once the changes stop, the backend follows the last one */
	ASSERT_EQ(0, inject(self->a, false));
	ASSERT_EQ(0, inject(self->b, false));
	EXPECT_ENFORCED(false);
	resv_be_close(&self->be);
}

/*
 * iommufd: a device refused at bind stays refused whatever the attached
 * device does next. B's attach is replaced by a new hwpt of the same IOAS (and by
 * a nesting parent, where the IOMMU offers one); A's bind is still refused.
 */
TEST_F(hotplug, replace_keeps_refusing_bind)
{
	struct iommu_hwpt_alloc hwpt = { .size = sizeof(hwpt) };
	struct resv_ioas *s = &self->be.ioas;
	int fd;

	if (!variant->iommufd)
		SKIP(return, "iommufd only");
	/* B bound and attached; its object's ID, for the hwpts */
	ASSERT_EQ(0, resv_ioas_bind(self->b, s));
	ASSERT_EQ(0, resv_ioas_alloc(s));
	ASSERT_EQ(0, resv_cdev_attach(s->dev, s->id));
	ASSERT_EQ(0, resv_ioas_map(s, self->src, self->iova_src, self->page));

	ASSERT_EQ(0, resv_pci_remove(self->a));
	ASSERT_EQ(0, inject(self->a, true));
	ASSERT_EQ(0, resv_ioas_map(s, self->src, R_START, self->page));
	ASSERT_EQ(0, resv_pci_rescan(self->a));
	ASSERT_EQ(self->group, resv_bind_vfio(self->a));
	EXPECT_EQ(-EADDRINUSE, resv_cdev_bind(s->iommufd, self->a));

	/* B moves to another hwpt of the same IOAS */
	hwpt.dev_id = s->dev_id;
	hwpt.pt_id = s->id;
	ASSERT_EQ(0, ioctl(s->iommufd, IOMMU_HWPT_ALLOC, &hwpt));
	ASSERT_EQ(0, resv_cdev_attach(s->dev, hwpt.out_hwpt_id));
	fd = resv_cdev_bind(s->iommufd, self->a);
	EXPECT_EQ(-EADDRINUSE, fd);
	if (fd >= 0)
		close(fd);

	/* And to a nesting parent of the same IOAS, where there is one */
	hwpt.flags = IOMMU_HWPT_ALLOC_NEST_PARENT;
	if (!ioctl(s->iommufd, IOMMU_HWPT_ALLOC, &hwpt)) {
		ASSERT_EQ(0, resv_cdev_attach(s->dev, hwpt.out_hwpt_id));
		fd = resv_cdev_bind(s->iommufd, self->a);
		EXPECT_EQ(-EADDRINUSE, fd);
		if (fd >= 0)
			close(fd);
	} else {
		TH_LOG("no nesting parent here (%s): that case is not reached", strerror(errno));
	}
	resv_be_close(&self->be);
	ASSERT_EQ(0, resv_pci_unbind(self->a));
}

/*
 * A window that moves after the attach while no member of the group
 * changes. X is an edu that reaches the window of a bridge above an edu Y
 * of another group peer to peer (it is among X's lines of
 * reserved_regions_detail, owned by the bridge). Y is removed and rescanned
 * through its bus with a larger alignment asked for it in
 * /sys/bus/pci/resource_alignment: its BAR no longer fits, so the PCI core
 * releases the bridge's window and assigns a larger one elsewhere, as when
 * a hot-added device needs more room than its bridge has. X's list changes
 * with nothing in X's group added or removed.
 */
#define PCI_ALIGN	"/sys/bus/pci/resource_alignment"
#define PCI_FIRST_WINDOW	7	/* resource file: 6 BARs and the ROM first */
#define IORESOURCE_MEM	0x200

/* Line @index of @bdf's resource file, if a memory range is assigned there */
static int pci_resource(const char *bdf, int index, struct resv_range *r)
{
	char path[PATH_MAX], buf[4096], *line, *save;
	unsigned long long start, end, flags;
	int i = 0, ret;

	snprintf(path, sizeof(path), RESV_PCI_DIR "/%s/resource", bdf);
	ret = resv_read_file(path, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++) {
		if (i != index)
			continue;
		if (sscanf(line, "%llx %llx %llx", &start, &end, &flags) != 3)
			return -EBADMSG;
		if (!(flags & IORESOURCE_MEM) || !end)
			return -ENOENT;
		r->start = start;
		r->end = end;
		return 0;
	}
	return -ENOENT;
}

/* The memory window of @bridge that holds @addr */
static int window_holding(const char *bridge, uint64_t addr, struct resv_range *w)
{
	int i;

	for (i = PCI_FIRST_WINDOW; i < 32; i++)
		if (!pci_resource(bridge, i, w) && w->start <= addr && addr <= w->end)
			return 0;
	return -ENOENT;
}

/* The bridge directly above @bdf (its parent in sysfs), -ENOENT on a root bus */
static int bridge_above(const char *bdf, char bridge[16])
{
	char path[PATH_MAX], real[PATH_MAX], *name;

	snprintf(path, sizeof(path), RESV_PCI_DIR "/%s", bdf);
	if (!realpath(path, real))
		return -errno;
	*strrchr(real, '/') = '\0';
	name = strrchr(real, '/') + 1;
	if (strlen(name) != 12 || name[4] != ':')
		return -ENOENT;
	memcpy(bridge, name, 13);
	return 0;
}

/*
 * X, Y and Y's bridge as described above; returns X's group, -ENODEV
 * without edus or -ENOENT without such a pair.
 */
static int window_pair(char x[16], char bridge[16], char y[16])
{
	static struct resv_detail d[RESV_MAX];
	char edu[RESV_MAX_DEVS][16];
	int i, j, k, nd, gx, n = resv_find_pci(RESV_EDU_VENDOR, RESV_EDU_DEVICE, edu,
					       RESV_MAX_DEVS);
	struct resv_range bar, w;

	if (n <= 0)
		return -ENODEV;
	for (i = 0; i < n; i++) {
		gx = resv_device_group(edu[i]);
		nd = gx < 0 ? gx : resv_read_detail(gx, d, RESV_MAX);
		for (j = 0; j < n; j++) {
			if (resv_device_group(edu[j]) == gx || bridge_above(edu[j], bridge) ||
			    pci_resource(edu[j], 0, &bar) || window_holding(bridge, bar.start, &w))
				continue;
			for (k = 0; k < nd; k++) {
				if (strcmp(d[k].dev, edu[i]) || !resv_is_pci_kind(d[k].type) ||
				    !resv_owned_by(&d[k], bridge) ||
				    d[k].start != w.start || d[k].end != w.end)
					continue;
				memcpy(x, edu[i], 16);
				memcpy(y, edu[j], 16);
				return gx;
			}
		}
	}
	return -ENOENT;
}

/* Rescan the bus @bdf is on, which lets the PCI core resize its bridge's windows */
static int rescan_bus_of(const char *bdf)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "/sys/class/pci_bus/%.7s/rescan", bdf);
	ret = resv_write_file(path, "1");
	return ret ?: (resv_pci_present(bdf) ? 0 : -ENODEV);
}

/* Does X's part of the group's detail list @w, owned by @bridge? */
static bool lists_window(int group, const char *x, const char *bridge,
			 const struct resv_range *w)
{
	static struct resv_detail d[RESV_MAX];
	int i, n = resv_read_detail(group, d, RESV_MAX);

	for (i = 0; i < n; i++)
		if (!strcmp(d[i].dev, x) && resv_owned_by(&d[i], bridge) &&
		    d[i].start == w->start && d[i].end == w->end)
			return true;
	return false;
}

FIXTURE(window) {
	char x[16], y[16], bridge[16];
	char align[4096];	/* resource_alignment as the test found it */
	int group;
	struct resv_be be;
	int kmsg;
	void *buf;
	long page;
};

FIXTURE_VARIANT(window) {
	bool iommufd;
};

FIXTURE_VARIANT_ADD(window, type1) {
	.iommufd = false,
};

FIXTURE_VARIANT_ADD(window, iommufd) {
	.iommufd = true,
};

FIXTURE_SETUP(window)
{
	self->page = sysconf(_SC_PAGESIZE);
	resv_be_init(&self->be, variant->iommufd);
	if (access(PCI_ALIGN, W_OK))
		SKIP(return, "no %s", PCI_ALIGN);
	ASSERT_LE(0, resv_read_file(PCI_ALIGN, self->align, sizeof(self->align)));
	if (!self->align[0])
		snprintf(self->align, sizeof(self->align), "\n");
	RESV_SKIP_UNLESS(return, (variant->iommufd ? RESV_NEED_IOMMUFD : 0) | RESV_NEED_EDU);
	self->group = window_pair(self->x, self->bridge, self->y);
	/* The harness topologies have one: below two root ports of one device */
	ASSERT_LE(0, self->group) TH_LOG("no edu reaches the window above an edu of another group");
	ASSERT_EQ(self->group, resv_bind_vfio(self->x));
	self->buf = mmap(NULL, self->page, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	self->kmsg = resv_kmsg_open();
	ASSERT_LE(0, self->kmsg);
}

/* Y back at its own size, in its bridge's window as it is now */
FIXTURE_TEARDOWN(window)
{
	resv_be_close(&self->be);
	close(self->kmsg);
	munmap(self->buf, self->page);
	if (!self->y[0])
		return;
	resv_pci_remove(self->y);
	resv_write_file(PCI_ALIGN, self->align);
	rescan_bus_of(self->y);
}

/*
 * Both backends follow the change at their next call: what they enforce is
 * what sysfs lists. Pages mapped before it (one at every multiple of half
 * the new window's size below 4 GiB that was usable: the new window,
 * aligned on its size, holds such a place) stay mapped, are reported with
 * the window and leave the usable ranges; nothing new can be mapped in the
 * window, and the old window's place is usable again unless something else
 * covers it. Where another region covered both places already (arm64
 * reports the host bridge's windows), only the attribution changes.
 */
TEST_F(window, moves_after_attach)
{
	struct resv_range bar, old_win, new_win, u[RESV_MAX], after[RESV_MAX];
	char what[64], range[96], align_arg[32];
	const char * const moved[] = { what, range, self->bridge };
	uint64_t align, iova, in_window = 0;
	int nu, na, order;

	ASSERT_EQ(0, pci_resource(self->y, 0, &bar));
	ASSERT_EQ(0, window_holding(self->bridge, bar.start, &old_win));
	ASSERT_EQ(0, resv_be_open(&self->be, self->group, self->x));
	EXPECT_ENFORCED_BY(self->x);

	/* Y will ask for twice the window, aligned on that: it cannot stay */
	order = 64 - __builtin_clzll(2 * (old_win.end - old_win.start + 1) - 1);
	align = 1ULL << order;
	nu = resv_be_ranges(&self->be, u, RESV_MAX);
	ASSERT_LT(0, nu);
	for (iova = align / 2; iova < (1ULL << 32); iova += align / 2)
		if (resv_usable(u, nu, iova, iova + self->page - 1))
			ASSERT_EQ(0, resv_be_map(&self->be, self->buf, iova, self->page));

	resv_kmsg_skip(self->kmsg);
	ASSERT_EQ(0, resv_pci_remove(self->y));
	snprintf(align_arg, sizeof(align_arg), "%d@%s", order, self->y);
	ASSERT_EQ(0, resv_write_file(PCI_ALIGN, align_arg));
	ASSERT_EQ(0, rescan_bus_of(self->y));
	ASSERT_EQ(0, pci_resource(self->y, 0, &bar)) TH_LOG("%s got no BAR", self->y);
	ASSERT_EQ(0, window_holding(self->bridge, bar.start, &new_win));
	ASSERT_EQ(align, new_win.end - new_win.start + 1);
	ASSERT_EQ(0, new_win.start % align);
	ASSERT_GT(1ULL << 32, new_win.end);
	/* Nothing joined or left X's group */
	EXPECT_NE(self->group, resv_device_group(self->y));

	EXPECT_TRUE(lists_window(self->group, self->x, self->bridge, &new_win));
	EXPECT_FALSE(lists_window(self->group, self->x, self->bridge, &old_win));
	EXPECT_ENFORCED_BY(self->x);

	na = expected_ranges(self->group, variant->iommufd, self->x, NULL, false,
			     after, RESV_MAX);
	ASSERT_LT(0, na);
	/* The old place is usable again, unless another region covers it */
	EXPECT_EQ(resv_usable(after, na, old_win.start, old_win.start + self->page - 1) ?
		  0 : -EINVAL, resv_be_map(&self->be, self->buf, old_win.start, self->page));

	for (iova = new_win.start; iova < new_win.end && !in_window; iova += align / 2)
		if (resv_usable(u, nu, iova, iova + self->page - 1))
			in_window = iova;
	if (!in_window) {
		TH_LOG("the new place was reserved already: no mapping to report");
		resv_be_close(&self->be);
		return;
	}
	snprintf(what, sizeof(what), "%s reserved regions changed: mapping",
		 variant->iommufd ? "iommufd" : "VFIO");
	snprintf(range, sizeof(range), "0x%llx-0x%llx overlaps reserved 0x%llx-0x%llx",
		 (unsigned long long)in_window,
		 (unsigned long long)in_window + self->page - 1,
		 (unsigned long long)new_win.start, (unsigned long long)new_win.end);
	EXPECT_TRUE(resv_kmsg_has(self->kmsg, moved, ARRAY_SIZE(moved)))
		TH_LOG("no \"%s %s\" line", what, range);
	EXPECT_EQ(-EINVAL, resv_be_map(&self->be, self->buf, in_window + self->page,
				       self->page));
	EXPECT_EQ(0, resv_be_unmap(&self->be, in_window, self->page));
	EXPECT_EQ(-EINVAL, resv_be_map(&self->be, self->buf, in_window, self->page));
	resv_be_close(&self->be);
}

TEST_HARNESS_MAIN
