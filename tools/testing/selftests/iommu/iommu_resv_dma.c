// SPDX-License-Identifier: GPL-2.0-only
/*
 * End to end: memory mapped through VFIO type1 at IOVAs the group's
 * reserved_regions leave usable is really reached by the device's DMA. Each
 * QEMU "edu" device copies 2 KiB from one mapped buffer into its own
 * memory and back out into another (its DMA engine, driven through BAR0),
 * and the bytes must arrive.
 */
#include <sys/mman.h>
#include <time.h>
#include "iommu_resv_utils.h"
#include "../kselftest_harness.h"

#define MAX_DEVS	16

/* QEMU hw/misc/edu.c */
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_COUNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_CMD_START	0x1
#define EDU_CMD_TO_RAM	0x2
#define EDU_BUFFER	0x40000
#define EDU_DMA_LIMIT	0x10000000ULL	/* default dma_mask: 28 bits */
/* Less than its 4 KiB buffer: QEMU 7.2 refuses a DMA that ends at its end. */
#define EDU_DMA_BYTES	2048

struct edu {
	int fd;
	uint64_t bar0, config;
};

static int region_offset(int fd, unsigned int index, uint64_t *off)
{
	struct vfio_region_info info = { .argsz = sizeof(info), .index = index };

	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &info))
		return -errno;
	*off = info.offset;
	return 0;
}

static int edu_open(int gfd, const char *bdf, struct edu *e)
{
	uint16_t cmd;
	int ret;

	e->fd = ioctl(gfd, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (e->fd < 0)
		return -errno;
	ret = region_offset(e->fd, VFIO_PCI_BAR0_REGION_INDEX, &e->bar0);
	if (!ret)
		ret = region_offset(e->fd, VFIO_PCI_CONFIG_REGION_INDEX, &e->config);
	if (ret)
		return ret;
	/* Bus mastering on, or the device's DMA goes nowhere. */
	if (pread(e->fd, &cmd, 2, e->config + 4) != 2)
		return -EIO;
	cmd |= 0x4;
	return pwrite(e->fd, &cmd, 2, e->config + 4) == 2 ? 0 : -EIO;
}

static int edu_write(struct edu *e, uint64_t reg, uint64_t val)
{
	return pwrite(e->fd, &val, 8, e->bar0 + reg) == 8 ? 0 : -EIO;
}

/* Run one DMA of @count bytes and wait for the engine to finish. */
static int edu_dma(struct edu *e, uint64_t src, uint64_t dst, uint64_t count, uint64_t dir)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	uint64_t cmd;
	int i;

	if (edu_write(e, EDU_DMA_SRC, src) || edu_write(e, EDU_DMA_DST, dst) ||
	    edu_write(e, EDU_DMA_COUNT, count) ||
	    edu_write(e, EDU_DMA_CMD, EDU_CMD_START | dir))
		return -EIO;
	for (i = 0; i < 500; i++) {
		if (pread(e->fd, &cmd, 8, e->bar0 + EDU_DMA_CMD) != 8)
			return -EIO;
		if (!(cmd & EDU_CMD_START))
			return 0;
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}

/* A page-aligned IOVA below the edu's DMA limit that the group leaves usable. */
static uint64_t usable_iova(const struct resv_range *u, int nu, uint64_t from, long page)
{
	uint64_t iova;

	for (iova = from; iova + page <= EDU_DMA_LIMIT; iova += page)
		if (resv_usable(u, nu, iova, iova + page - 1))
			return iova;
	return 0;
}

TEST(edu_dma_reaches_mapped_memory)
{
	char bdf[MAX_DEVS][16];
	struct resv_region r[RESV_MAX];
	struct resv_range u[RESV_MAX];
	long page = sysconf(_SC_PAGESIZE);
	int n, d, nr, nu, tested = 0;
	unsigned char *src, *dst;

	n = resv_find_pci(RESV_EDU_VENDOR, RESV_EDU_DEVICE, bdf, MAX_DEVS);
	if (n <= 0 || access("/dev/vfio/vfio", F_OK))
		SKIP(return, "no edu device or no VFIO");
	src = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	dst = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, src);
	ASSERT_NE(MAP_FAILED, dst);

	for (d = 0; d < n; d++) {
		int group = resv_bind_vfio(bdf[d]), container, gfd = -1, i;
		uint64_t iova_src, iova_dst;
		struct edu e = { .fd = -1 };

		ASSERT_LE(0, group);
		nr = resv_read_group(group, r, RESV_MAX);
		ASSERT_LE(0, nr);
		nu = resv_complement(r, nr, 0, RESV_APERTURE_END, u, RESV_MAX);
		ASSERT_LE(0, nu);
		iova_src = usable_iova(u, nu, 0x100000, page);
		iova_dst = usable_iova(u, nu, iova_src + 0x100000, page);
		ASSERT_NE(0, iova_src);
		ASSERT_NE(0, iova_dst);

		for (i = 0; i < page; i++)
			src[i] = (unsigned char)(i * 7 + d + 1);
		memset(dst, 0, page);
		container = resv_type1_container(group, &gfd);
		ASSERT_LE(0, container);
		ASSERT_EQ(0, resv_type1_map(container, src, iova_src, page));
		ASSERT_EQ(0, resv_type1_map(container, dst, iova_dst, page));
		ASSERT_EQ(0, edu_open(gfd, bdf[d], &e)) TH_LOG("%s", bdf[d]);

		ASSERT_EQ(0, edu_dma(&e, iova_src, EDU_BUFFER, EDU_DMA_BYTES, 0))
			TH_LOG("%s: DMA from 0x%llx", bdf[d], (unsigned long long)iova_src);
		ASSERT_EQ(0, edu_dma(&e, EDU_BUFFER, iova_dst, EDU_DMA_BYTES, EDU_CMD_TO_RAM))
			TH_LOG("%s: DMA to 0x%llx", bdf[d], (unsigned long long)iova_dst);
		EXPECT_EQ(0, memcmp(src, dst, EDU_DMA_BYTES))
			TH_LOG("%s: the page did not arrive through IOVA 0x%llx -> 0x%llx",
			       bdf[d], (unsigned long long)iova_src,
			       (unsigned long long)iova_dst);
		tested++;

		close(e.fd);
		resv_type1_unmap(container, iova_src, page);
		resv_type1_unmap(container, iova_dst, page);
		close(gfd);
		close(container);
	}
	TH_LOG("%d edu devices copied 2 KiB through their IOMMU", tested);
	munmap(src, page);
	munmap(dst, page);
}

TEST_HARNESS_MAIN
