// SPDX-License-Identifier: GPL-2.0-only
/*
 * End to end: memory mapped through VFIO type1 at IOVAs the group's
 * reserved_regions leave usable is really reached by the device's DMA. Each
 * QEMU "edu" device copies 2 KiB from one mapped buffer into its own
 * memory and back out into another (its DMA engine, driven through BAR0),
 * and the bytes must arrive.
 */
#include "iommu_resv_utils.h"
#include "../kselftest_harness.h"

/*
 * Named "global" as the plain TEST() it was, so that the test keeps its
 * name: the edus, and two shared pages, source (@edus.buf) and destination.
 */
FIXTURE(global) {
	struct resv_edus edus;
	unsigned char *dst;
	struct resv_edu edu;	/* the device a test has open */
};

FIXTURE_SETUP(global)
{
	RESV_SKIP_UNLESS(return, RESV_NEED_VFIO | RESV_NEED_EDU);
	RESV_EDUS_SETUP(&self->edus, false, 1, MAP_SHARED);
	self->edu.fd = -1;
	self->dst = mmap(NULL, self->edus.page, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->dst);
}

FIXTURE_TEARDOWN(global)
{
	if (self->edu.fd >= 0)
		close(self->edu.fd);
	if (self->dst && self->dst != MAP_FAILED)
		munmap(self->dst, self->edus.page);
	resv_edus_release(&self->edus);
}

TEST_F(global, edu_dma_reaches_mapped_memory)
{
	struct resv_edus *e = &self->edus;
	struct resv_region r[RESV_MAX];
	struct resv_range u[RESV_MAX];
	unsigned char *src = e->buf, *dst = self->dst;
	long page = e->page;
	int d, nr, nu, tested = 0;

	for (d = 0; d < e->nr; d++) {
		uint64_t iova_src, iova_dst;
		int i;

		nr = resv_read_group(e->group[d], r, RESV_MAX);
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
		ASSERT_EQ(0, resv_be_open(&e->be, e->group[d], e->bdf[d]));
		ASSERT_EQ(0, resv_be_map(&e->be, src, iova_src, page));
		ASSERT_EQ(0, resv_be_map(&e->be, dst, iova_dst, page));
		self->edu.fd = resv_be_open_dev(&e->be, e->bdf[d]);
		ASSERT_LE(0, self->edu.fd) TH_LOG("%s", e->bdf[d]);
		ASSERT_EQ(0, resv_edu_init(self->edu.fd, &self->edu)) TH_LOG("%s", e->bdf[d]);

		ASSERT_EQ(0, resv_edu_copy(&self->edu, iova_src, iova_dst))
			TH_LOG("%s: DMA 0x%llx -> 0x%llx", e->bdf[d], (unsigned long long)iova_src,
			       (unsigned long long)iova_dst);
		EXPECT_EQ(0, memcmp(src, dst, EDU_DMA_BYTES))
			TH_LOG("%s: the page did not arrive through IOVA 0x%llx -> 0x%llx",
			       e->bdf[d], (unsigned long long)iova_src,
			       (unsigned long long)iova_dst);
		tested++;

		close(self->edu.fd);
		self->edu.fd = -1;
		resv_be_unmap(&e->be, iova_src, page);
		resv_be_unmap(&e->be, iova_dst, page);
		resv_be_close(&e->be);
	}
	TH_LOG("%d edu devices copied 2 KiB through their IOMMU", tested);
}

TEST_HARNESS_MAIN
