// SPDX-License-Identifier: GPL-2.0-only
/*
 * PCI address ranges that a device's DMA cannot reach memory through.
 *
 * A memory request from a PCI device travels upstream, bridge by bridge, to
 * the root complex. A bridge forwards upstream only addresses outside its
 * windows (the ranges it routes to its secondary side): the windows of the
 * bridge directly above a device, which hold the device's own BARs and those
 * of its peers below that bridge, claim the request before any IOMMU sees it.
 *
 * Further up, a request can only reach a bridge's window by being routed
 * peer to peer. ACS stops that: a downstream or root port with P2P Request
 * and Completion Redirect sends such requests upstream, and the port above
 * forwards a redirected request even into its own window when it has ACS
 * Upstream Forwarding (a switch's upstream port forwards it in any case).
 * Where any of that is missing, the window of the bridge that would route
 * the request back down claims it. Functions of one multifunction device
 * without ACS redirection may reach each other's BARs directly.
 *
 * Whether the root complex routes a request to a peer under the same host
 * bridge before translating it is a property of the platform, which the
 * IOMMU driver states. Addresses outside a host bridge's inbound dma-ranges
 * never reach memory at all.
 *
 * Documentation/userspace-api/iommu-reserved-regions.rst states the rule.
 */
#include <linux/iommu.h>
#include <linux/pci.h>
#include <linux/resource_ext.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <kunit/visibility.h>

#include "iommu-resv-pci.h"

#define ACS_REDIRECT	(PCI_ACS_RR | PCI_ACS_CR)

static int add_reserved(struct list_head *head, u64 start, u64 end,
			enum iommu_resv_kind kind, struct device *owner)
{
	struct iommu_resv_region *region;

	region = iommu_alloc_resv_region(start, end - start + 1, 0,
					 IOMMU_RESV_RESERVED, GFP_KERNEL);
	if (!region)
		return -ENOMEM;
	region->kind = kind;
	iommu_resv_region_set_owner_dev(region, owner);
	list_add_tail(&region->list, head);
	return 0;
}

/* An assigned memory BAR or window of @pdev, at its bus (DMA) address. */
static int add_resource(struct list_head *head, struct pci_dev *pdev,
			int resno, enum iommu_resv_kind kind)
{
	struct resource *res = pci_resource_n(pdev, resno);
	struct pci_bus_region region;

	if (resource_type(res) != IORESOURCE_MEM ||
	    res->flags & (IORESOURCE_UNSET | IORESOURCE_DISABLED) ||
	    res->end <= res->start)
		return 0;
	pcibios_resource_to_bus(pdev->bus, &region, res);
	return add_reserved(head, region.start, region.end, kind, &pdev->dev);
}

static int add_bridge_windows(struct list_head *head, struct pci_dev *bridge)
{
	int i, ret;

	for (i = PCI_BRIDGE_RESOURCES; i <= PCI_BRIDGE_RESOURCE_END; i++) {
		ret = add_resource(head, bridge, i, IOMMU_RESV_KIND_BRIDGE_WINDOW);
		if (ret)
			return ret;
	}
	return 0;
}

static bool is_downstream_port(struct pci_dev *pdev)
{
	return pci_is_pcie(pdev) &&
	       (pci_pcie_type(pdev) == PCI_EXP_TYPE_ROOT_PORT ||
		pci_pcie_type(pdev) == PCI_EXP_TYPE_DOWNSTREAM);
}

/*
 * Whether @pdev has the ACS controls @flags on. A function whose config space
 * cannot be read now (gone, or in D3cold: all-ones) is taken to have none,
 * which reports more windows, never fewer; a gathering is kept until the
 * next change, so the safe side is the one to err on.
 */
static bool acs_on(struct pci_dev *pdev, u16 flags)
{
	if (pci_dev_is_disconnected(pdev) || pdev->current_state == PCI_D3cold)
		return false;
	return pci_acs_enabled(pdev, flags);
}

/* Does @bridge forward a redirected request upstream into its own window? */
static bool forwards_redirected(struct pci_dev *bridge)
{
	if (pci_is_pcie(bridge) && pci_pcie_type(bridge) == PCI_EXP_TYPE_UPSTREAM)
		return true;
	return is_downstream_port(bridge) && acs_on(bridge, PCI_ACS_UF);
}

/* BARs and windows of the other functions of @pdev's device it may reach. */
static int add_function_peers(struct list_head *head, struct pci_dev *pdev)
{
	unsigned int fn;
	int i, ret = 0;

	if (!pdev->multifunction || acs_on(pdev, ACS_REDIRECT))
		return 0;

	for (fn = 0; fn < 8 && !ret; fn++) {
		unsigned int devfn = PCI_DEVFN(PCI_SLOT(pdev->devfn), fn);
		struct pci_dev *peer;

		if (devfn == pdev->devfn)
			continue;
		peer = pci_get_slot(pdev->bus, devfn);
		if (!peer)
			continue;
		for (i = 0; i < PCI_NUM_RESOURCES && !ret; i++)
			if (i < PCI_STD_NUM_BARS || i >= PCI_BRIDGE_RESOURCES)
				ret = add_resource(head, peer, i, IOMMU_RESV_KIND_PEER_BAR);
		pci_dev_put(peer);
	}
	return ret;
}

static int cmp_bus_range(const void *pa, const void *pb)
{
	const struct iommu_resv_bus_range *a = pa, *b = pb;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return 0;
}

/**
 * iommu_resv_dma_range_gaps - the bus addresses outside inbound DMA ranges
 * @ranges: the host bridge's dma_ranges (struct resource_entry), any order;
 *	    not modified
 * @gaps: returns a kmalloc'ed array of the gaps, in address order, or NULL
 * @nr_gaps: returns the number of gaps
 *
 * An empty @ranges means no restriction, hence no gaps.
 *
 * Return: 0, -ENOMEM, or -EINVAL if two ranges overlap.
 */
VISIBLE_IF_KUNIT int iommu_resv_dma_range_gaps(struct list_head *ranges,
					       struct iommu_resv_bus_range **gaps,
					       unsigned int *nr_gaps)
{
	struct iommu_resv_bus_range *inbound, *out;
	struct resource_entry *window;
	unsigned int n = 0, i, nr = 0;
	u64 next = 0;
	bool to_end = true;

	*gaps = NULL;
	*nr_gaps = 0;
	resource_list_for_each_entry(window, ranges)
		n++;
	if (!n)
		return 0;

	inbound = kmalloc_array(n, sizeof(*inbound), GFP_KERNEL);
	out = kmalloc_array(n + 1, sizeof(*out), GFP_KERNEL);
	if (!inbound || !out) {
		kfree(inbound);
		kfree(out);
		return -ENOMEM;
	}
	i = 0;
	resource_list_for_each_entry(window, ranges) {
		inbound[i].start = window->res->start - window->offset;
		inbound[i].end = window->res->end - window->offset;
		i++;
	}
	sort(inbound, n, sizeof(*inbound), cmp_bus_range, NULL);

	for (i = 0; i < n; i++) {
		if (i && inbound[i].start <= inbound[i - 1].end) {
			kfree(inbound);
			kfree(out);
			return -EINVAL;
		}
		if (inbound[i].start > next)
			out[nr++] = (struct iommu_resv_bus_range){ next, inbound[i].start - 1 };
		if (inbound[i].end == U64_MAX) {
			to_end = false;
			break;
		}
		next = inbound[i].end + 1;
	}
	if (to_end)
		out[nr++] = (struct iommu_resv_bus_range){ next, U64_MAX };
	kfree(inbound);
	*gaps = out;
	*nr_gaps = nr;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(iommu_resv_dma_range_gaps);

static int add_host_bridge(struct list_head *head, struct pci_host_bridge *host,
			   bool peers_routed)
{
	struct iommu_resv_bus_range *gaps;
	struct resource_entry *window;
	unsigned int nr, i;
	int ret;

	if (peers_routed) {
		resource_list_for_each_entry(window, &host->windows) {
			struct resource *res = window->res;

			if (resource_type(res) != IORESOURCE_MEM || res->end <= res->start)
				continue;
			ret = add_reserved(head, res->start - window->offset,
					   res->end - window->offset,
					   IOMMU_RESV_KIND_HOST_WINDOW, &host->dev);
			if (ret)
				return ret;
		}
	}

	ret = iommu_resv_dma_range_gaps(&host->dma_ranges, &gaps, &nr);
	if (ret)
		return ret;
	for (i = 0; i < nr && !ret; i++)
		ret = add_reserved(head, gaps[i].start, gaps[i].end,
				   IOMMU_RESV_KIND_DMA_RANGE_GAP, &host->dev);
	kfree(gaps);
	return ret;
}

/**
 * iommu_resv_get_pci_windows - report the PCI ranges a device's DMA cannot use
 * @dev: the device; nothing is reported unless it is a PCI device
 * @rc: whether the root complex routes requests to peers before the IOMMU
 *	translates them
 * @head: the list to add the regions to, as in the get_resv_regions() op
 *
 * Walks from @dev up to its host bridge and reports, as IOMMU_RESV_RESERVED
 * regions owned by the bridge, function or host bridge that claims them:
 * the windows of bridges that claim a request from @dev before translation,
 * the BARs of functions of the same device that it reaches directly, the host
 * bridge's windows when @rc says the root complex routes @dev's requests to
 * peers, and the gaps between the host bridge's inbound DMA ranges.
 *
 * Context: Process context; may sleep.
 * Return: 0, or a negative errno (-ENOMEM, -EINVAL for overlapping DMA
 * ranges). On error, regions already added stay on @head for the caller to
 * free with the rest of the list.
 */
int iommu_resv_get_pci_windows(struct device *dev, enum iommu_resv_pci_rc rc,
			       struct list_head *head)
{
	struct pci_dev *pdev, *below, *bridge;
	bool redirected = false;
	int ret;

	if (!dev_is_pci(dev))
		return 0;
	pdev = to_pci_dev(dev);

	ret = add_function_peers(head, pdev);
	if (ret)
		return ret;

	for (below = pdev, bridge = pci_upstream_bridge(pdev); bridge;
	     below = bridge, bridge = pci_upstream_bridge(bridge)) {
		if (below == pdev || !redirected || !forwards_redirected(bridge)) {
			ret = add_bridge_windows(head, bridge);
			if (ret)
				return ret;
		}
		/* What the request looks like when it leaves @bridge upstream */
		if (is_downstream_port(bridge))
			redirected = acs_on(bridge, ACS_REDIRECT);
		else if (!pci_is_pcie(bridge) ||
			 pci_pcie_type(bridge) != PCI_EXP_TYPE_UPSTREAM)
			redirected = false;
	}

	/* @below is now on the root bus: a root port, bridge or RCiEP */
	if (below != pdev) {
		ret = add_function_peers(head, below);
		if (ret)
			return ret;
	}

	return add_host_bridge(head, pci_find_host_bridge(pdev->bus),
			       rc == IOMMU_RESV_PCI_RC_ROUTES_PEERS &&
			       !(below != pdev && is_downstream_port(below) &&
				 redirected));
}
EXPORT_SYMBOL_GPL(iommu_resv_get_pci_windows);
