// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOMMU_GET_RESV_REGIONS: the reserved regions of a device bound to iommufd,
 * before or after it is attached, and those an IOAS enforces, each with the
 * device it is of.
 *
 * A VMM needs them before it lays out guest memory, and before it hot-plugs
 * a device into a guest whose memory is laid out: which ranges an attach
 * will refuse mappings over, and why (an MSI doorbell or software MSI window
 * it may have to describe to the guest, a PCI window, a firmware range).
 * They come from the core, from the gathering that the group's sysfs files
 * print and that iommufd's reservations are made from (iommu-resv-query.c).
 */
#include <linux/bsearch.h>
#include <linux/iommu.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"

/**
 * struct iommufd_resv_answer - a query's answer, staged in the kernel
 * @regions: the entries, with owner_offset into @names and dev_id unset
 * @devs: the device of each entry as staged (not as sorted), referenced
 *	  until the answer is freed
 * @nr: number of entries
 * @room: entries @regions and @devs have room for
 * @names: the owners' names, each NUL-terminated
 * @names_len: their length
 * @names_room: room in @names
 *
 * Staged so that userspace memory is written with no lock or object held,
 * and the regions of an IOAS are sorted first.
 */
struct iommufd_resv_answer {
	struct iommu_resv_region_info *regions;
	struct device **devs;
	u32 nr;
	u32 room;
	char *names;
	u32 names_len;
	u32 names_room;
};

/* Grow @*p, of @room elements of @size bytes, to hold @need; charged to the caller */
static int iommufd_resv_grow(void *p, u32 *room, u32 need, size_t size)
{
	void **array = p;
	u32 new_room;
	void *grown;

	if (need <= *room)
		return 0;
	new_room = max3(need, *room * 2, 16U);
	grown = kvrealloc(*array, array_size(new_room, size), GFP_KERNEL_ACCOUNT);
	if (!grown)
		return -ENOMEM;
	*array = grown;
	*room = new_room;
	return 0;
}

static void iommufd_resv_answer_free(struct iommufd_resv_answer *ans)
{
	u32 i;

	for (i = 0; i < ans->nr; i++)
		put_device(ans->devs[i]);
	kvfree(ans->regions);
	kvfree(ans->devs);
	kvfree(ans->names);
}

static u32 iommufd_resv_type(const struct iommu_resv_desc *desc)
{
	switch (desc->type == IOMMU_RESV_RESERVED ? desc->kind : IOMMU_RESV_KIND_NONE) {
	case IOMMU_RESV_KIND_BRIDGE_WINDOW:
		return IOMMU_RESV_REGION_TYPE_BRIDGE_WINDOW;
	case IOMMU_RESV_KIND_PEER_BAR:
		return IOMMU_RESV_REGION_TYPE_PEER_BAR;
	case IOMMU_RESV_KIND_HOST_WINDOW:
		return IOMMU_RESV_REGION_TYPE_HOST_WINDOW;
	case IOMMU_RESV_KIND_DMA_RANGE_GAP:
		return IOMMU_RESV_REGION_TYPE_DMA_RANGE_GAP;
	case IOMMU_RESV_KIND_NONE:
		break;
	}
	switch (desc->type) {
	case IOMMU_RESV_DIRECT:
		return IOMMU_RESV_REGION_TYPE_DIRECT;
	case IOMMU_RESV_DIRECT_RELAXABLE:
		return IOMMU_RESV_REGION_TYPE_DIRECT_RELAXABLE;
	case IOMMU_RESV_MSI:
		return IOMMU_RESV_REGION_TYPE_MSI;
	case IOMMU_RESV_SW_MSI:
		return IOMMU_RESV_REGION_TYPE_SW_MSI;
	case IOMMU_RESV_RESERVED:
	default:
		return IOMMU_RESV_REGION_TYPE_RESERVED;
	}
}

static u32 iommufd_resv_owner_kind(enum iommu_resv_owner_type type)
{
	switch (type) {
	case IOMMU_RESV_OWNER_DEVICE:
		return IOMMU_RESV_OWNER_KIND_DEVICE;
	case IOMMU_RESV_OWNER_IOMMU:
		return IOMMU_RESV_OWNER_KIND_IOMMU;
	case IOMMU_RESV_OWNER_FIRMWARE:
		return IOMMU_RESV_OWNER_KIND_FIRMWARE;
	case IOMMU_RESV_OWNER_UNKNOWN:
	default:
		return IOMMU_RESV_OWNER_KIND_UNKNOWN;
	}
}

/* Stage one region, and its owner's name */
static int iommufd_resv_stage(void *arg, const struct iommu_resv_desc *desc)
{
	struct iommufd_resv_answer *ans = arg;
	const char *owner = desc->owner ?: "";
	size_t len = strlen(owner) + 1;
	u32 room = ans->room;
	int rc;

	if (ans->nr == U32_MAX || len > U32_MAX - ans->names_len)
		return -EOVERFLOW;
	rc = iommufd_resv_grow(&ans->regions, &room, ans->nr + 1, sizeof(*ans->regions));
	if (!rc)
		rc = iommufd_resv_grow(&ans->devs, &ans->room, ans->nr + 1,
				       sizeof(*ans->devs));
	if (!rc)
		rc = iommufd_resv_grow(&ans->names, &ans->names_room,
				       ans->names_len + len, 1);
	if (rc)
		return rc;

	ans->regions[ans->nr] = (struct iommu_resv_region_info) {
		.start = desc->start,
		.last = desc->last,
		.type = iommufd_resv_type(desc),
		/* An IOAS's IOVAs are unsigned long: none above on 32-bit */
		.flags = desc->enforced && desc->start <= ULONG_MAX ?
			 IOMMU_RESV_REGION_ENFORCED : 0,
		.owner_kind = iommufd_resv_owner_kind(desc->owner_type),
		.owner_offset = ans->names_len,
	};
	/* Compared with the bound devices' once the walk is over */
	ans->devs[ans->nr++] = get_device((struct device *)desc->dev);
	memcpy(ans->names + ans->names_len, owner, len);
	ans->names_len += len;
	return 0;
}

static int iommufd_resv_cmp_dev(const void *a, const void *b)
{
	const struct device *x = *(const struct device * const *)a;
	const struct device *y = *(const struct device * const *)b;

	return (x > y) - (x < y);
}

/*
 * Set each entry's dev_id: the object ID of its device's iommufd_device in
 * @ictx, or 0 if it has none. A region of an IOAS is of a device attached
 * to it, so bound in @ictx, unless it was detached and unbound since it was
 * staged (the entries keep the devices referenced, so that no other device
 * can take their addresses meanwhile). One walk of the objects for all the
 * entries, pausing every so often as user-made objects may be many.
 */
static int iommufd_resv_set_dev_ids(struct iommufd_ctx *ictx,
				    struct iommufd_resv_answer *ans)
{
	XA_STATE(xas, &ictx->objects, 0);
	struct iommufd_object *obj;
	struct device **devs;
	unsigned int seen = 0;
	u32 *ids, i, nr = 0;

	if (!ans->nr)
		return 0;
	devs = kvmemdup(ans->devs, array_size(ans->nr, sizeof(*devs)), GFP_KERNEL_ACCOUNT);
	ids = kvcalloc(ans->nr, sizeof(*ids), GFP_KERNEL_ACCOUNT);
	if (!devs || !ids) {
		kvfree(devs);
		kvfree(ids);
		return -ENOMEM;
	}
	sort(devs, ans->nr, sizeof(*devs), iommufd_resv_cmp_dev, NULL);
	for (i = 0; i < ans->nr; i++)
		if (!nr || devs[nr - 1] != devs[i])
			devs[nr++] = devs[i];

	xa_lock(&ictx->objects);
	xas_for_each(&xas, obj, ULONG_MAX) {
		struct device **found;

		if (xa_is_zero(obj) || obj->type != IOMMUFD_OBJ_DEVICE)
			goto next;
		found = bsearch(&container_of(obj, struct iommufd_device, obj)->dev,
				devs, nr, sizeof(*devs), iommufd_resv_cmp_dev);
		if (found)
			ids[found - devs] = obj->id;
next:
		if (++seen % 1024)
			continue;
		xas_pause(&xas);
		xa_unlock(&ictx->objects);
		cond_resched();
		xa_lock(&ictx->objects);
	}
	xa_unlock(&ictx->objects);

	for (i = 0; i < ans->nr; i++) {
		struct device **found = bsearch(&ans->devs[i], devs, nr, sizeof(*devs),
						iommufd_resv_cmp_dev);

		ans->regions[i].dev_id = ids[found - devs];
	}
	kvfree(devs);
	kvfree(ids);
	return 0;
}

/* An IOAS's answer, in IOVA order: by start, last, device, type, then owner */
static int iommufd_resv_cmp_region(const void *a, const void *b, const void *priv)
{
	const struct iommu_resv_region_info *x = a, *y = b;
	const char *names = priv;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->last != y->last)
		return x->last < y->last ? -1 : 1;
	if (x->dev_id != y->dev_id)
		return x->dev_id < y->dev_id ? -1 : 1;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	if (x->owner_kind != y->owner_kind)
		return x->owner_kind < y->owner_kind ? -1 : 1;
	return strcmp(names + x->owner_offset, names + y->owner_offset);
}

/*
 * Sort an IOAS's answer, and its names in the entries' new order, so that
 * the names that fit a buffer are those of the first entries.
 */
static int iommufd_resv_sort(struct iommufd_resv_answer *ans)
{
	char *names;
	u32 i, len = 0;

	sort_r(ans->regions, ans->nr, sizeof(*ans->regions), iommufd_resv_cmp_region, NULL,
	       ans->names);
	names = kvmalloc(max(ans->names_len, 1U), GFP_KERNEL_ACCOUNT);
	if (!names)
		return -ENOMEM;
	for (i = 0; i < ans->nr; i++) {
		const char *name = ans->names + ans->regions[i].owner_offset;
		size_t size = strlen(name) + 1;

		memcpy(names + len, name, size);
		ans->regions[i].owner_offset = len;
		len += size;
	}
	kvfree(ans->names);
	ans->names = names;
	ans->names_room = max(ans->names_len, 1U);
	return 0;
}

/* Copy what fits of @ans to where @cmd points; how much was needed in @cmd */
static int iommufd_resv_copy_out(struct iommu_resv_regions *cmd,
				 const struct iommufd_resv_answer *ans)
{
	u8 __user *regions = u64_to_user_ptr(cmd->regions_uptr);
	u32 i, size = cmd->region_size, names_len = 0;

	for (i = 0; i < ans->nr && i < cmd->num_regions; i++) {
		u8 __user *at = regions + (u64)i * size;

		if (copy_to_user(at, &ans->regions[i], min_t(u32, size, sizeof(*ans->regions))))
			return -EFAULT;
		if (size > sizeof(*ans->regions) &&
		    clear_user(at + sizeof(*ans->regions), size - sizeof(*ans->regions)))
			return -EFAULT;
	}
	/* The names that fit whole: offsets grow with the entries */
	for (i = 0; i < ans->nr && cmd->names_len; i++) {
		const char *name = ans->names + ans->regions[i].owner_offset;
		u32 end = ans->regions[i].owner_offset + strlen(name) + 1;

		if (end > cmd->names_len)
			break;
		names_len = end;
	}
	if (names_len && copy_to_user(u64_to_user_ptr(cmd->names_uptr), ans->names, names_len))
		return -EFAULT;
	return 0;
}

/*
 * How an attach of @idev enforces reserved regions: as the IOAS it is
 * attached to does (its index's flags were chosen when it was allocated),
 * else as an IOAS allocated now would.
 */
static unsigned int iommufd_resv_device_flags(struct iommufd_device *idev)
{
	unsigned int flags = iopt_resv_index_flags();
	struct iommufd_hwpt_paging *hwpt_paging;

	mutex_lock(&idev->igroup->lock);
	if (idev->igroup->hwpt) {
		hwpt_paging = find_hwpt_paging(idev->igroup->hwpt);
		if (hwpt_paging)
			flags = hwpt_paging->ioas->iopt.resv_index.flags;
	}
	mutex_unlock(&idev->igroup->lock);
	return flags;
}

/**
 * iommufd_get_resv_regions - ioctl(IOMMU_GET_RESV_REGIONS)
 * @ucmd: the command, a struct iommu_resv_regions
 *
 * Return: 0, -EMSGSIZE if the regions or their names did not all fit (with
 * the sizes needed reported), or a negative errno.
 */
int iommufd_get_resv_regions(struct iommufd_ucmd *ucmd)
{
	struct iommu_resv_regions *cmd = ucmd->cmd;
	u32 room = cmd->num_regions, names_room = cmd->names_len;
	struct iommufd_resv_answer ans = {};
	struct iommufd_object *obj;
	unsigned int flags;
	struct device *dev;
	bool is_ioas = false;
	u32 i;
	int rc;

	if (cmd->flags)
		return -EOPNOTSUPP;
	/* Entries at least as first defined, and not absurdly padded */
	if (cmd->num_regions &&
	    (cmd->region_size < offsetofend(struct iommu_resv_region_info, __reserved) ||
	     cmd->region_size > SZ_4K))
		return -EINVAL;

	obj = iommufd_get_object(ucmd->ictx, cmd->object_id, IOMMUFD_OBJ_ANY);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	switch (obj->type) {
	case IOMMUFD_OBJ_DEVICE: {
		struct iommufd_device *idev = container_of(obj, struct iommufd_device, obj);

		/* Not holding the object while the group is gathered */
		flags = iommufd_resv_device_flags(idev);
		dev = get_device(idev->dev);
		iommufd_put_object(ucmd->ictx, obj);
		rc = iommu_resv_device_for_each(dev, flags, iommufd_resv_stage, &ans);
		put_device(dev);
		for (i = 0; i < ans.nr; i++)
			ans.regions[i].dev_id = cmd->object_id;
		break;
	}
	case IOMMUFD_OBJ_IOAS: {
		struct iommufd_ioas *ioas = container_of(obj, struct iommufd_ioas, obj);

		rc = iopt_visit_resv_regions(&ioas->iopt, iommufd_resv_stage, &ans);
		iommufd_put_object(ucmd->ictx, obj);
		is_ioas = true;
		break;
	}
	default:
		iommufd_put_object(ucmd->ictx, obj);
		return -EINVAL;
	}
	/* A device's in the order of its lines of reserved_regions_detail */
	if (!rc && is_ioas)
		rc = iommufd_resv_set_dev_ids(ucmd->ictx, &ans);
	if (!rc && is_ioas)
		rc = iommufd_resv_sort(&ans);
	if (rc)
		goto out_free;

	rc = iommufd_resv_copy_out(cmd, &ans);
	if (rc)
		goto out_free;
	cmd->num_regions = ans.nr;
	cmd->names_len = ans.names_len;
	cmd->region_size = sizeof(struct iommu_resv_region_info);
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (!rc && (ans.nr > room || (names_room && ans.names_len > names_room)))
		rc = -EMSGSIZE;
out_free:
	iommufd_resv_answer_free(&ans);
	return rc;
}
