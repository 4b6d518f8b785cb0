// SPDX-License-Identifier: GPL-2.0-only
/*
 * iommufd enforces the same list as sysfs and VFIO type1: for every edu
 * device, bound through its VFIO cdev and attached to an IOAS,
 *
 *  - IOMMU_IOAS_IOVA_RANGES is the aperture minus the group's
 *    reserved_regions (direct-relaxable aside), computed by the test;
 *  - IOMMU_IOAS_MAP at a fixed IOVA over the first and last page of each
 *    region, and across each edge, is refused with EINVAL, and the pages just
 *    outside are mapped exactly when type1 maps them.
 */
#include <sys/mman.h>
#include <linux/iommufd.h>
#include "iommu_resv_utils.h"
#include "../kselftest_harness.h"

#define MAX_DEVS	16

/* The VFIO cdev of a PCI device ("/dev/vfio/devices/vfioN"), or -errno. */
static int open_cdev(const char *bdf)
{
	char dir[PATH_MAX], path[PATH_MAX + 64];
	struct dirent *e;
	DIR *d;
	int fd = -ENOENT;

	snprintf(dir, sizeof(dir), RESV_PCI_DIR "/%s/vfio-dev", bdf);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "vfio", 4)) {
			snprintf(path, sizeof(path), "/dev/vfio/devices/%s", e->d_name);
			fd = open(path, O_RDWR);
			if (fd < 0)
				fd = -errno;
			break;
		}
	closedir(d);
	return fd;
}

struct ioas {
	int iommufd, dev, id;
};

/* Bind @bdf to a new iommufd and attach it to a new IOAS. */
static int ioas_attach(const char *bdf, struct ioas *s)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	int ret;

	s->iommufd = open("/dev/iommu", O_RDWR);
	if (s->iommufd < 0)
		return -errno;
	s->dev = open_cdev(bdf);
	if (s->dev < 0) {
		ret = s->dev;
		goto err_iommufd;
	}
	bind.iommufd = s->iommufd;
	if (ioctl(s->dev, VFIO_DEVICE_BIND_IOMMUFD, &bind) ||
	    ioctl(s->iommufd, IOMMU_IOAS_ALLOC, &alloc))
		goto err_errno;
	s->id = alloc.out_ioas_id;
	at.pt_id = s->id;
	if (ioctl(s->dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at))
		goto err_errno;
	return 0;
err_errno:
	ret = -errno;
	close(s->dev);
err_iommufd:
	close(s->iommufd);
	return ret;
}

static void ioas_close(struct ioas *s)
{
	close(s->dev);
	close(s->iommufd);
}

static int ioas_map(struct ioas *s, void *buf, uint64_t iova, uint64_t len)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = s->id,
		.user_va = (uintptr_t)buf,
		.length = len,
		.iova = iova,
	};
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap), .ioas_id = s->id, .iova = iova, .length = len,
	};

	if (ioctl(s->iommufd, IOMMU_IOAS_MAP, &map))
		return -errno;
	ioctl(s->iommufd, IOMMU_IOAS_UNMAP, &unmap);
	return 0;
}

FIXTURE(iommufd) {
	char bdf[MAX_DEVS][16];
	int group[MAX_DEVS];
	int nr;
	void *buf;
	long page;
};

FIXTURE_SETUP(iommufd)
{
	int bad = 0;

	self->page = sysconf(_SC_PAGESIZE);
	if (access("/dev/iommu", F_OK) || access("/dev/vfio/devices", F_OK))
		SKIP(return, "no /dev/iommu or VFIO cdev");
	self->nr = resv_bind_edus(self->bdf, self->group, MAX_DEVS, &bad);
	if (!self->nr)
		SKIP(return, "no edu device");
	ASSERT_LT(0, self->nr) TH_LOG("%s: bind to vfio-pci failed: %s", self->bdf[bad],
				      strerror(-self->nr));
	self->buf = mmap(NULL, 2 * self->page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
}

FIXTURE_TEARDOWN(iommufd)
{
	if (self->buf && self->buf != MAP_FAILED)
		munmap(self->buf, 2 * self->page);
}

TEST_F(iommufd, iova_ranges_are_complement)
{
	struct iommu_iova_range *got = calloc(RESV_MAX, sizeof(*got));
	struct resv_region r[RESV_MAX];
	struct resv_range want[RESV_MAX];
	int d, i, n, nw;

	ASSERT_NE(NULL, got);
	for (d = 0; d < self->nr; d++) {
		struct iommu_ioas_iova_ranges q = { .size = sizeof(q) };
		struct ioas s;

		n = resv_read_group(self->group[d], r, RESV_MAX);
		ASSERT_LE(0, n);
		nw = resv_complement(r, n, 0, RESV_APERTURE_END, want, RESV_MAX);
		ASSERT_LE(0, nw);
		ASSERT_EQ(0, ioas_attach(self->bdf[d], &s)) TH_LOG("%s", self->bdf[d]);
		q.ioas_id = s.id;
		q.num_iovas = RESV_MAX;
		q.allowed_iovas = (uintptr_t)got;
		ASSERT_EQ(0, ioctl(s.iommufd, IOMMU_IOAS_IOVA_RANGES, &q));
		EXPECT_EQ(nw, (int)q.num_iovas)
			TH_LOG("%s group %d: %u ranges, %d expected", self->bdf[d],
			       self->group[d], q.num_iovas, nw);
		for (i = 0; i < nw && i < (int)q.num_iovas; i++) {
			EXPECT_EQ(want[i].start, got[i].start)
				TH_LOG("%s: range %d", self->bdf[d], i);
			EXPECT_EQ(want[i].end, got[i].last)
				TH_LOG("%s: range %d", self->bdf[d], i);
		}
		ioas_close(&s);
	}
	free(got);
}

TEST_F(iommufd, map_agrees_with_type1)
{
	struct resv_region r[RESV_MAX];
	struct resv_range u[RESV_MAX];
	uint64_t pg = self->page;
	int d, i, k, n, nu, checked = 0;

	for (d = 0; d < self->nr; d++) {
		int container, gfd = -1;
		struct ioas s;

		n = resv_read_group(self->group[d], r, RESV_MAX);
		ASSERT_LE(0, n);
		nu = resv_complement(r, n, 0, RESV_APERTURE_END, u, RESV_MAX);
		ASSERT_LE(0, nu);
		ASSERT_EQ(0, ioas_attach(self->bdf[d], &s));
		for (i = 0; i < n; i++) {
			uint64_t st = r[i].start & ~(pg - 1), e = r[i].end | (pg - 1);
			const uint64_t probe[][2] = {
				{ st, pg }, { e - pg + 1, pg }, { st - pg, 2 * pg },
				{ e - pg + 1, 2 * pg }, { st - pg, pg }, { e + 1, pg },
			};

			for (k = 0; k < ARRAY_SIZE(probe); k++) {
				uint64_t last = probe[k][0] + probe[k][1] - 1;
				int want;

				if (last < probe[k][0] || probe[k][0] > RESV_APERTURE_END)
					continue;
				want = resv_usable(u, nu, probe[k][0], last) ? 0 : -EINVAL;
				EXPECT_EQ(want, ioas_map(&s, self->buf, probe[k][0], probe[k][1]))
					TH_LOG("%s: IOAS_MAP 0x%llx+0x%llx by %s at 0x%llx",
					       self->bdf[d], (unsigned long long)probe[k][0],
					       (unsigned long long)probe[k][1], r[i].type,
					       (unsigned long long)r[i].start);
				checked++;
			}
		}
		ioas_close(&s);

		/* type1 on the same group, the same probes' verdicts */
		container = resv_type1_container(self->group[d], &gfd);
		ASSERT_LE(0, container);
		for (i = 0; i < n; i++) {
			uint64_t st = r[i].start & ~(pg - 1);
			int want = resv_usable(u, nu, st - pg, st - 1) ? 0 : -EINVAL;
			int got;

			if (st < pg)
				continue;
			got = resv_type1_map(container, self->buf, st - pg, pg);
			if (!got)
				resv_type1_unmap(container, st - pg, pg);
			EXPECT_EQ(want, got);
			if (resv_type1_excludes(&r[i]))
				EXPECT_EQ(-EINVAL, resv_type1_map(container, self->buf, st, pg));
		}
		close(gfd);
		close(container);
	}
	ASSERT_LT(0, checked);
}

/*
 * A refused IOMMU_IOAS_MAP is explained like a refused VFIO_IOMMU_MAP_DMA:
 * one (rate-limited, hence retried) line names the range, the group and the
 * region's type, and the reserved_region_overlap trace event has each try.
 */
TEST_F(iommufd, refused_map_is_logged)
{
	uint64_t iova = (RESV_MSI_START + RESV_MSI_END) / 2 & ~(uint64_t)(self->page - 1);
	char range[64], grp[32], path[PATH_MAX], traced[96];
	const char * const want[] = { range, grp, "msi" };
	const char *dir = resv_tracefs();
	int d, fd, tries;

	if (dir) {
		snprintf(path, sizeof(path), "%s/events/iommu/reserved_region_overlap/enable",
			 dir);
		ASSERT_EQ(0, resv_write_file(path, "1"));
	}
	for (d = 0; d < self->nr; d++) {
		bool seen = false;
		struct ioas s;
		int before = 0;

		fd = resv_kmsg_open();
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, ioas_attach(self->bdf[d], &s));
		snprintf(range, sizeof(range), "IOMMU_IOAS_MAP 0x%llx-0x%llx",
			 (unsigned long long)iova, (unsigned long long)(iova + self->page - 1));
		snprintf(grp, sizeof(grp), "in group %d,", self->group[d]);
		snprintf(traced, sizeof(traced), "%s overlaps reserved", range);
		if (dir)
			before = resv_trace_count(dir, traced, NULL, 0);
		for (tries = 0; tries < 8 && !seen; tries++) {
			if (tries)
				sleep(1);
			EXPECT_EQ(-EINVAL, ioas_map(&s, self->buf, iova, self->page));
			seen = resv_kmsg_has(fd, want, ARRAY_SIZE(want));
		}
		EXPECT_TRUE(seen) TH_LOG("%s: no \"%s\" line for group %d", self->bdf[d],
					 range, self->group[d]);
		if (dir)
			EXPECT_EQ(before + tries, resv_trace_count(dir, traced, NULL, 0))
				TH_LOG("%s: %d refusals, not each traced", self->bdf[d], tries);
		ioas_close(&s);
		close(fd);
	}
	if (dir)
		resv_write_file(path, "0");
}

TEST_HARNESS_MAIN
