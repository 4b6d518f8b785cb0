// SPDX-License-Identifier: GPL-2.0-only
/*
 * For 'make run': bind the first edu device to vfio-pci, then try
 * VFIO_IOMMU_MAP_DMA over each reserved region of its group and once at an
 * ordinary IOVA, printing what VFIO answers.
 */
#include <sys/mman.h>
#include "iommu_resv_utils.h"

int main(void)
{
	struct resv_region r[RESV_MAX];
	char bdf[1][16];
	long pg = sysconf(_SC_PAGESIZE);
	int group, container, gfd, n, i, ret;
	void *buf;

	if (resv_find_pci(0x1234, 0x11e8, bdf, 1) != 1) {
		printf("vfio demo: no edu device\n");
		return 1;
	}
	group = resv_bind_vfio(bdf[0]);
	if (group < 0) {
		printf("vfio demo: binding %s to vfio-pci failed: %s\n", bdf[0], strerror(-group));
		return 1;
	}
	container = resv_type1_container(group, &gfd);
	if (container < 0) {
		printf("vfio demo: type1 container for group %d: %s\n", group, strerror(-container));
		return 1;
	}
	buf = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	n = resv_read_group(group, r, RESV_MAX);
	printf("edu %s bound to vfio-pci, group %d, type1 container\n", bdf[0], group);
	for (i = 0; i < n; i++) {
		ret = resv_type1_map(container, buf, r[i].start & ~(pg - 1), pg);
		printf("  VFIO_IOMMU_MAP_DMA iova=0x%" PRIx64 " size=0x%lx (inside %s 0x%" PRIx64
		       "-0x%" PRIx64 "): %s\n", r[i].start & ~(pg - 1), pg, r[i].type,
		       r[i].start, r[i].end, ret ? strerror(-ret) : "mapped");
		if (!ret)
			resv_type1_unmap(container, r[i].start & ~(pg - 1), pg);
	}
	ret = resv_type1_map(container, buf, 0x100000, pg);
	printf("  VFIO_IOMMU_MAP_DMA iova=0x100000 size=0x%lx (ordinary memory): %s\n", pg,
	       ret ? strerror(-ret) : "mapped");
	return 0;
}
