/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PCI windows as reserved regions: what the KUnit tests reach inside.
 */
#ifndef __LINUX_IOMMU_RESV_PCI_H
#define __LINUX_IOMMU_RESV_PCI_H

#include <linux/list.h>
#include <linux/types.h>

/**
 * struct iommu_resv_bus_range - an inclusive range of PCI bus addresses
 * @start: first address
 * @end: last address
 */
struct iommu_resv_bus_range {
	u64 start;
	u64 end;
};

#if IS_ENABLED(CONFIG_KUNIT)
int iommu_resv_dma_range_gaps(struct list_head *ranges,
			      struct iommu_resv_bus_range **gaps,
			      unsigned int *nr_gaps);
#endif

#endif /* __LINUX_IOMMU_RESV_PCI_H */
