// SPDX-License-Identifier: GPL-2.0-only
/*
 * End to end: memory mapped through VFIO type1 at IOVAs the group's
 * reserved_regions leave usable is really reached by the device's DMA. Each
 * QEMU "edu" device copies 2 KiB from one mapped buffer into its own
 * memory and back out into another (its DMA engine, driven through BAR0),
 * and the bytes must arrive.
 */
#include <sys/mman.h>
#include "iommu_resv_utils.h"
#include "../kselftest_harness.h"

#define MAX_DEVS	16

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
		struct resv_edu e = { .fd = -1 };

		ASSERT_LE(0, group);
		nr = resv_read_group(group, r, RESV_MAX);
		ASSERT_LE(0, nr);
		nu = resv_complement(r, nr, 0, RESV_APERTURE_END, u, RESV_MAX);
		ASSERT_LE(0, nu);
		iova_src = resv_edu_usable_iova(u, nu, 0x100000, page);
		iova_dst = resv_edu_usable_iova(u, nu, iova_src + 0x100000, page);
		ASSERT_NE(0, iova_src);
		ASSERT_NE(0, iova_dst);

		for (i = 0; i < page; i++)
			src[i] = (unsigned char)(i * 7 + d + 1);
		memset(dst, 0, page);
		container = resv_type1_container(group, &gfd);
		ASSERT_LE(0, container);
		ASSERT_EQ(0, resv_type1_map(container, src, iova_src, page));
		ASSERT_EQ(0, resv_type1_map(container, dst, iova_dst, page));
		e.fd = ioctl(gfd, VFIO_GROUP_GET_DEVICE_FD, bdf[d]);
		ASSERT_LE(0, e.fd) TH_LOG("%s", bdf[d]);
		ASSERT_EQ(0, resv_edu_init(e.fd, &e)) TH_LOG("%s", bdf[d]);

		ASSERT_EQ(0, resv_edu_copy(&e, iova_src, iova_dst))
			TH_LOG("%s: DMA 0x%llx -> 0x%llx", bdf[d], (unsigned long long)iova_src,
			       (unsigned long long)iova_dst);
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
