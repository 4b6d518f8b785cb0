/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the reserved-region selftests: read the per-group sysfs
 * files, find and bind PCI devices to vfio-pci, and compute the IOVA ranges a
 * group leaves usable, independently of the kernel's own code.
 */
#ifndef __SELFTESTS_IOMMU_RESV_UTILS_H
#define __SELFTESTS_IOMMU_RESV_UTILS_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "../kselftest.h"

#define RESV_GROUPS_DIR	"/sys/kernel/iommu_groups"
#define RESV_PCI_DIR	"/sys/bus/pci/devices"
#define RESV_MAX	512

/* The fixed software/hardware MSI windows each arch's IOMMU driver reports. */
#if defined(__x86_64__)
#define RESV_MSI_START	0xfee00000ULL
#define RESV_MSI_END	0xfeefffffULL
/* QEMU's intel-iommu default aw-bits=39: the domain aperture is 39 bits. */
#define RESV_APERTURE_END	((1ULL << 39) - 1)
#elif defined(__aarch64__)
#define RESV_MSI_START	0x8000000ULL
#define RESV_MSI_END	0x80fffffULL
/* SMMUv3 stage-1 domains cover the 48-bit VA space (VA_BITS=48). */
#define RESV_APERTURE_END	((1ULL << 48) - 1)
#endif

struct resv_region {
	uint64_t start;
	uint64_t end;		/* inclusive */
	char type[32];
};

struct resv_range {
	uint64_t start;
	uint64_t end;		/* inclusive */
};

static inline int resv_read_file(const char *path, char *buf, size_t size)
{
	ssize_t n, total = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf + total, size - 1 - total)) > 0)
		total += n;
	close(fd);
	if (n < 0)
		return -errno;
	buf[total] = '\0';
	return total;
}

static inline int resv_cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static inline int resv_cmp_start(const void *a, const void *b)
{
	const struct resv_region *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

/* Groups present now, ascending. Returns the count or -errno. */
static inline int resv_list_groups(int *groups, int max)
{
	DIR *d = opendir(RESV_GROUPS_DIR);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)) && n < max) {
		if (e->d_name[0] == '.')
			continue;
		groups[n++] = atoi(e->d_name);
	}
	closedir(d);
	qsort(groups, n, sizeof(*groups), resv_cmp_int);
	return n;
}

/*
 * Parse one legacy "reserved_regions" line: "0x%016llx 0x%016llx %s\n".
 * Returns true only when the line is byte-for-byte in that format.
 */
static inline bool resv_parse_line(const char *line, struct resv_region *r)
{
	unsigned long long start, end;
	char again[128];
	int used = 0;

	if (sscanf(line, "0x%16llx 0x%16llx %31s%n", &start, &end, r->type, &used) != 3)
		return false;
	r->start = start;
	r->end = end;
	snprintf(again, sizeof(again), "0x%016llx 0x%016llx %s", start, end, r->type);
	return (size_t)used == strlen(line) && !strcmp(again, line);
}

/*
 * A file of a group's sysfs directory, whole, in a buffer shared by all
 * callers (parse it before the next call). NULL with *err set to -errno, to
 * -EBADMSG if the last line is not terminated, or to -EAGAIN if no two reads
 * agreed.
 */
static inline char *resv_read_group_file(int group, const char *name, int *err)
{
	static char buf[1 << 20], again[1 << 20];
	char path[PATH_MAX];
	int ret, tries;

	/*
	 * Each read() gathers the group afresh: a change between two read()s
	 * of one pass (a member added or removed, a PCI window moved) can mix
	 * two lists. Two passes that agree give one list.
	 */
	snprintf(path, sizeof(path), RESV_GROUPS_DIR "/%d/%s", group, name);
	for (tries = 0; tries < 20; tries++) {
		ret = resv_read_file(path, buf, sizeof(buf));
		if (ret < 0 || (resv_read_file(path, again, sizeof(again)) == ret &&
				!memcmp(buf, again, ret)))
			break;
	}
	if (tries == 20)
		ret = -EAGAIN;	/* it kept changing */
	if (ret < 0 || (ret && buf[ret - 1] != '\n')) {
		*err = ret < 0 ? ret : -EBADMSG;
		return NULL;
	}
	return buf;
}

/* Regions of a group from the legacy file; -errno, or -EBADMSG on a bad line. */
static inline int resv_read_group(int group, struct resv_region *r, int max)
{
	char *buf, *line, *save;
	int n = 0, ret;

	buf = resv_read_group_file(group, "reserved_regions", &ret);
	if (!buf)
		return ret;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (n == max || !resv_parse_line(line, &r[n]))
			return -EBADMSG;
		n++;
	}
	return n;
}

/*
 * The regions @bdf reports in its group's reserved_regions_detail, as start,
 * end and type: what iommufd reserves for the device once it is attached.
 * -errno, or -EBADMSG on a bad line.
 */
static inline int resv_read_device(int group, const char *bdf, struct resv_region *r, int max)
{
	char *buf, *line, *save;
	int n = 0, ret;

	buf = resv_read_group_file(group, "reserved_regions_detail", &ret);
	if (!buf)
		return ret;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long start, end;
		char dev[64];

		if (n == max ||
		    sscanf(line, "0x%llx 0x%llx %31s %63s", &start, &end, r[n].type, dev) != 4)
			return -EBADMSG;
		if (strcmp(dev, bdf))
			continue;
		r[n].start = start;
		r[n].end = end;
		n++;
	}
	return n;
}

static inline bool resv_type_known(const char *type)
{
	static const char * const known[] = {
		"direct", "direct-relaxable", "reserved", "msi",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(known); i++)
		if (!strcmp(type, known[i]))
			return true;
	return false;
}

/* VFIO type1 relaxes direct-relaxable regions: they stay mappable. */
static inline bool resv_type1_excludes(const struct resv_region *r)
{
	return strcmp(r->type, "direct-relaxable") != 0;
}

/*
 * The usable IOVA ranges: [ap_start, ap_end] minus every region type1
 * excludes. A plain interval subtraction, written for the test alone.
 */
static inline int resv_complement(const struct resv_region *r, int nr,
				  uint64_t ap_start, uint64_t ap_end,
				  struct resv_range *out, int max)
{
	struct resv_region sorted[RESV_MAX];
	uint64_t cur = ap_start;
	bool done = false;
	int n = 0, i;

	if (nr > RESV_MAX)
		return -E2BIG;
	memcpy(sorted, r, nr * sizeof(*r));
	qsort(sorted, nr, sizeof(*sorted), resv_cmp_start);
	for (i = 0; i < nr && !done; i++) {
		const struct resv_region *x = &sorted[i];

		if (!resv_type1_excludes(x) || x->end < cur)
			continue;
		if (x->start > ap_end)
			break;
		if (x->start > cur) {
			if (n == max)
				return -E2BIG;
			out[n].start = cur;
			out[n++].end = x->start - 1;
		}
		if (x->end >= ap_end)
			done = true;
		else
			cur = x->end + 1;
	}
	if (!done) {
		if (n == max)
			return -E2BIG;
		out[n].start = cur;
		out[n++].end = ap_end;
	}
	return n;
}

/* Is [start, end] inside one usable range? */
static inline bool resv_usable(const struct resv_range *u, int nu, uint64_t start,
			       uint64_t end)
{
	int i;

	if (end < start)
		return false;
	for (i = 0; i < nu; i++)
		if (start >= u[i].start && end <= u[i].end)
			return true;
	return false;
}

static inline int resv_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* A hex attribute of a PCI device, e.g. "vendor"; ~0 when unreadable. */
static inline unsigned int resv_pci_attr(const char *bdf, const char *attr)
{
	char path[PATH_MAX], buf[32];

	snprintf(path, sizeof(path), RESV_PCI_DIR "/%.64s/%.64s", bdf, attr);
	if (resv_read_file(path, buf, sizeof(buf)) < 0)
		return ~0U;
	return strtoul(buf, NULL, 16);
}

/* BDFs of PCI devices with this vendor:device, in sysfs order. */
static inline int resv_find_pci(unsigned int vendor, unsigned int device,
				char bdfs[][16], int max)
{
	DIR *d = opendir(RESV_PCI_DIR);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)) && n < max) {
		if (e->d_name[0] == '.')
			continue;
		if (resv_pci_attr(e->d_name, "vendor") == vendor &&
		    resv_pci_attr(e->d_name, "device") == device)
			snprintf(bdfs[n++], 16, "%.15s", e->d_name);
	}
	closedir(d);
	return n;
}

/* The group a device is in now, or -errno (-ENOENT: no group). */
static inline int resv_device_group(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), RESV_PCI_DIR "/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	return atoi(strrchr(link, '/') + 1);
}

/* Bind a PCI device to vfio-pci (idempotent); returns its group or -errno. */
static inline int resv_bind_vfio(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;
	int ret;

	snprintf(path, sizeof(path), RESV_PCI_DIR "/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		if (!strcmp(strrchr(link, '/') + 1, "vfio-pci"))
			return resv_device_group(bdf);
		snprintf(path, sizeof(path), RESV_PCI_DIR "/%s/driver/unbind", bdf);
		ret = resv_write_file(path, bdf);
		if (ret)
			return ret;
	}
	snprintf(path, sizeof(path), RESV_PCI_DIR "/%s/driver_override", bdf);
	ret = resv_write_file(path, "vfio-pci");
	if (ret)
		return ret;
	ret = resv_write_file("/sys/bus/pci/drivers_probe", bdf);
	if (ret)
		return ret;
	return resv_device_group(bdf);
}

/* QEMU's "edu" test device: DMA-capable, bound to vfio-pci by the tests. */
#define RESV_EDU_VENDOR	0x1234
#define RESV_EDU_DEVICE	0x11e8

/*
 * Find every edu device and bind it to vfio-pci, filling @bdf and @group.
 * Returns how many (0: none), or -errno with *@failed the index of the
 * device that would not bind.
 */
static inline int resv_bind_edus(char bdf[][16], int *group, int max, int *failed)
{
	int i, n = resv_find_pci(RESV_EDU_VENDOR, RESV_EDU_DEVICE, bdf, max);

	for (i = 0; i < n; i++) {
		group[i] = resv_bind_vfio(bdf[i]);
		if (group[i] < 0) {
			*failed = i;
			return group[i];
		}
	}
	return n;
}

/* A type1v2 container holding one group; returns the container fd or -errno. */
static inline int resv_type1_container(int group, int *group_fd)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[64];
	int container, gfd, ret;

	container = open("/dev/vfio/vfio", O_RDWR);
	if (container < 0)
		return -errno;
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	gfd = open(path, O_RDWR);
	if (gfd < 0) {
		ret = -errno;
		goto err_container;
	}
	if (ioctl(gfd, VFIO_GROUP_GET_STATUS, &status)) {
		ret = -errno;
		goto err_group;
	}
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		ret = -EBUSY;
		goto err_group;
	}
	if (ioctl(gfd, VFIO_GROUP_SET_CONTAINER, &container) ||
	    ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		ret = -errno;
		goto err_group;
	}
	*group_fd = gfd;
	return container;
err_group:
	close(gfd);
err_container:
	close(container);
	return ret;
}

static inline int resv_type1_map(int container, void *buf, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)buf,
		.iova = iova,
		.size = size,
	};

	return ioctl(container, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
}

static inline int resv_type1_unmap(int container, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = size,
	};

	return ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap) ? -errno : 0;
}

/* The IOVA ranges type1 reports through VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE. */
static inline int resv_type1_iova_ranges(int container, struct resv_range *out, int max)
{
	struct vfio_iommu_type1_info *info;
	struct vfio_info_cap_header *hdr;
	struct vfio_iommu_type1_info_cap_iova_range *cap;
	uint32_t argsz = sizeof(*info);
	uint32_t i;
	int n = -ENOENT;

	info = calloc(1, argsz);
	if (!info)
		return -ENOMEM;
	info->argsz = argsz;
	if (ioctl(container, VFIO_IOMMU_GET_INFO, info))
		goto out_errno;
	/* Again while it asks for more: the ranges may grow between two calls */
	while (info->argsz > argsz) {
		argsz = info->argsz;
		free(info);
		info = calloc(1, argsz);
		if (!info)
			return -ENOMEM;
		info->argsz = argsz;
		if (ioctl(container, VFIO_IOMMU_GET_INFO, info))
			goto out_errno;
	}
	if (!(info->flags & VFIO_IOMMU_INFO_CAPS) || !info->cap_offset)
		goto out;
	hdr = (void *)info + info->cap_offset;
	while (hdr) {
		if (hdr->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
			cap = (void *)hdr;
			if (cap->nr_iovas > (uint32_t)max) {
				n = -E2BIG;
				goto out;
			}
			for (i = 0; i < cap->nr_iovas; i++) {
				out[i].start = cap->iova_ranges[i].start;
				out[i].end = cap->iova_ranges[i].end;
			}
			n = cap->nr_iovas;
			goto out;
		}
		hdr = hdr->next ? (void *)info + hdr->next : NULL;
	}
	goto out;
out_errno:
	n = -errno;
out:
	free(info);
	return n;
}

/* /dev/kmsg, positioned after everything logged so far, or -errno. */
static inline int resv_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	lseek(fd, 0, SEEK_END);
	return fd;
}

/* Whether a record logged since resv_kmsg_open() contains every @needle. */
static inline bool resv_kmsg_has(int fd, const char * const *needle, int n)
{
	char rec[2048];
	ssize_t len;
	int i;

	while ((len = read(fd, rec, sizeof(rec) - 1)) > 0) {
		rec[len] = '\0';
		for (i = 0; i < n && strstr(rec, needle[i]); i++)
			;
		if (i == n)
			return true;
	}
	return false;
}

/* The tracefs directory, mounted if need be; NULL without tracing */
static inline const char *resv_tracefs(void)
{
	if (!access("/sys/kernel/tracing/events/iommu", F_OK))
		return "/sys/kernel/tracing";
	if (!access("/sys/kernel/debug/tracing/events/iommu", F_OK))
		return "/sys/kernel/debug/tracing";
	if (!mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) &&
	    !access("/sys/kernel/tracing/events/iommu", F_OK))
		return "/sys/kernel/tracing";
	return NULL;
}

/*
 * The lines of the reserved_region_overlap trace event that contain @what,
 * the first of them copied to @first.
 */
static inline int resv_trace_count(const char *dir, const char *what, char *first, size_t size)
{
	char path[PATH_MAX], line[4096];
	int count = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/trace", dir);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, "reserved_region_overlap:") || !strstr(line, what))
			continue;
		if (!count++ && first)
			snprintf(first, size, "%s", line);
	}
	fclose(f);
	return count;
}

#endif /* __SELFTESTS_IOMMU_RESV_UTILS_H */
