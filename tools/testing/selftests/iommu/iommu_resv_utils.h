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
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "../kselftest.h"

#define RESV_GROUPS_DIR	"/sys/kernel/iommu_groups"
#define RESV_PCI_DIR	"/sys/bus/pci/devices"
#define RESV_PLATFORM_DIR	"/sys/bus/platform/devices"
#define RESV_MAX	512
#define RESV_MAX_GROUPS	256
/*
 * The devices a test takes at most: more edus than the harness's VMs have.
 * A file that lists other devices too defines it first, larger.
 */
#ifndef RESV_MAX_DEVS
#define RESV_MAX_DEVS	64
#endif
/* The test-only injector of reserved regions (CONFIG_IOMMU_RESV_INJECT) */
#define RESV_INJECT	"/sys/kernel/debug/iommu/resv_inject"

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

/*
 * Call @fn(name, @arg) for each entry of @dir but "." and "..", in readdir
 * order, until it returns non-zero. Returns that value, 0, or -errno when
 * @dir cannot be opened.
 */
static inline int resv_walk_dir(const char *dir, int (*fn)(const char *, void *), void *arg)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int ret = 0;

	if (!d)
		return -errno;
	while (!ret && (e = readdir(d)))
		if (e->d_name[0] != '.')
			ret = fn(e->d_name, arg);
	closedir(d);
	return ret;
}

/*
 * Up to @max entries gathered by resv_walk_dir() callbacks into @out:
 * group numbers, or names in strings of @width bytes (char [][@width]).
 */
struct resv_names {
	void *out;
	size_t width;
	int n, max;
	bool (*keep)(const char *name);	/* NULL: every entry */
};

static inline int resv_add_group(const char *name, void *arg)
{
	struct resv_names *l = arg;

	if (l->n == l->max)
		return 1;
	((int *)l->out)[l->n++] = atoi(name);
	return 0;
}

/* Groups present now, ascending. Returns the count or -errno. */
static inline int resv_list_groups(int *groups, int max)
{
	struct resv_names l = { .out = groups, .max = max };
	int ret = resv_walk_dir(RESV_GROUPS_DIR, resv_add_group, &l);

	if (ret < 0)
		return ret;
	qsort(groups, l.n, sizeof(*groups), resv_cmp_int);
	return l.n;
}

/* The entry names that @l->keep() keeps (cut to fit), into @l->out */
static inline int resv_add_name(const char *name, void *arg)
{
	struct resv_names *l = arg;

	if (l->n == l->max)
		return 1;
	if (!l->keep || l->keep(name))
		snprintf((char *)l->out + l->n++ * l->width, l->width, "%.*s",
			 (int)l->width - 1, name);
	return 0;
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

static inline int resv_count_entry(const char *name, void *arg)
{
	++*(int *)arg;
	return 0;
}

/* How many devices @group has now, or -errno */
static inline int resv_group_size(int group)
{
	char path[64];
	int n = 0, ret;

	snprintf(path, sizeof(path), RESV_GROUPS_DIR "/%d/devices", group);
	ret = resv_walk_dir(path, resv_count_entry, &n);
	return ret < 0 ? ret : n;
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

/* A line of a group's reserved_regions_detail */
struct resv_detail {
	uint64_t start;
	uint64_t end;		/* inclusive */
	char type[32];
	char dev[64];		/* the member whose DMA cannot use the range */
	char owner_type[16];
	char owner[256];	/* a sysfs or firmware path */
};

/*
 * The lines of a group's reserved_regions_detail, in file order: -errno (as
 * resv_read_group_file()), -EBADMSG on a line that is not six fields, or
 * -E2BIG when there are more than @max.
 */
static inline int resv_read_detail(int group, struct resv_detail *d, int max)
{
	char *buf, *line, *save;
	int n = 0, ret;

	buf = resv_read_group_file(group, "reserved_regions_detail", &ret);
	if (!buf)
		return ret;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long start, end;
		int used = 0;

		if (n == max)
			return -E2BIG;
		if (sscanf(line, "0x%llx 0x%llx %31s %63s %15s %255s%n", &start, &end,
			   d[n].type, d[n].dev, d[n].owner_type, d[n].owner, &used) != 6 ||
		    line[used])
			return -EBADMSG;
		d[n].start = start;
		d[n].end = end;
		n++;
	}
	return n;
}

/* Does @d's owner path name the device @bdf (".../<bdf>")? */
static inline bool resv_owned_by(const struct resv_detail *d, const char *bdf)
{
	size_t lo = strlen(d->owner), lb = strlen(bdf);

	return lo > lb && d->owner[lo - lb - 1] == '/' && !strcmp(d->owner + lo - lb, bdf);
}

/* The PCI kinds the series reports (what enforce_pci_windows=0 leaves out) */
static inline bool resv_is_pci_kind(const char *type)
{
	return !strcmp(type, "bridge-window") || !strcmp(type, "peer-bar") ||
	       !strcmp(type, "host-window") || !strcmp(type, "dma-range-gap");
}

/*
 * Whether iommufd keeps mappings out of a region of @type (as
 * reserved_regions_detail names it) in an IOAS allocated now: every type but
 * direct-relaxable, and the PCI kinds only while iommufd.enforce_pci_windows
 * is on (its default).
 */
static inline bool resv_iommufd_enforces(const char *type)
{
	char buf[8] = "Y";

	if (!strcmp(type, "direct-relaxable"))
		return false;
	if (!resv_is_pci_kind(type))
		return true;
	resv_read_file("/sys/module/iommufd/parameters/enforce_pci_windows", buf, sizeof(buf));
	return buf[0] == 'Y';
}

/*
 * The regions @bdf reports in its group's reserved_regions_detail, as start,
 * end and type: what iommufd reserves for the device once it is attached.
 * -errno as resv_read_detail().
 */
static inline int resv_read_device(int group, const char *bdf, struct resv_region *r, int max)
{
	static struct resv_detail d[RESV_MAX];
	int i, n = 0, nd = resv_read_detail(group, d, RESV_MAX);

	for (i = 0; i < nd; i++) {
		if (strcmp(d[i].dev, bdf))
			continue;
		if (n == max)
			return -E2BIG;
		r[n].start = d[i].start;
		r[n].end = d[i].end;
		snprintf(r[n].type, sizeof(r[n].type), "%s", d[i].type);
		n++;
	}
	return nd < 0 ? nd : n;
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

/*
 * Make every group gather its reserved regions again at its next use (the
 * kernel keeps a group's gathering while nothing it depends on changes), by
 * a no-op write to the test-only injector, which tells every group that
 * regions may have changed. 0 (also on a kernel without the series, which
 * keeps nothing), or -errno: -ENOENT without the injector.
 */
static inline int resv_regather(void)
{
	if (!access(RESV_INJECT, W_OK))
		return resv_write_file(RESV_INJECT, "resv-regather 0");
	if (access(RESV_GROUPS_DIR "/0/reserved_regions_detail", F_OK) &&
	    access(RESV_GROUPS_DIR "/1/reserved_regions_detail", F_OK))
		return 0;
	return -ENOENT;
}

/*
 * Fault injection for the tests that fail every allocation of a call in
 * turn (/proc/thread-self/fail-nth): armed by resv_fail_nth_set(nth),
 * checked and disarmed by resv_fail_nth_injected().
 */
static int resv_nth_fd = -1;

/* Make the nth fault-injection point of this thread fail. */
static inline void resv_fail_nth_set(unsigned int nth)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u", nth);
	if (pwrite(resv_nth_fd, buf, strlen(buf), 0) < 0)
		perror("fail-nth");
}

/* Disarm; true if the failure was injected since resv_fail_nth_set(). */
static inline bool resv_fail_nth_injected(void)
{
	char buf[16] = "";
	bool injected;

	if (pread(resv_nth_fd, buf, sizeof(buf) - 1, 0) < 0)
		buf[0] = '1';
	injected = atoi(buf) == 0;
	if (pwrite(resv_nth_fd, "0", 1, 0) < 0)
		perror("fail-nth");
	return injected;
}

/* Needs CONFIG_FAULT_INJECTION, CONFIG_FAILSLAB and debugfs; false without. */
static inline bool resv_fail_nth_setup(void)
{
	static const char * const quiet[] = {
		"/sys/kernel/debug/failslab/verbose",
		"/sys/kernel/debug/fail_page_alloc/verbose",
	};
	size_t i;

	/* Let GFP_KERNEL allocations be failed too, and keep the log quiet. */
	if (resv_write_file("/sys/kernel/debug/failslab/ignore-gfp-wait", "N"))
		return false;
	/* Pages as well, where that is built (the debug kernel) */
	if (!resv_write_file("/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N"))
		resv_write_file("/sys/kernel/debug/fail_page_alloc/min-order", "0");
	for (i = 0; i < ARRAY_SIZE(quiet); i++)
		resv_write_file(quiet[i], "0");
	if (resv_nth_fd < 0)
		resv_nth_fd = open("/proc/thread-self/fail-nth", O_RDWR);
	return resv_nth_fd >= 0;
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

struct resv_pci_id {
	struct resv_names l;
	unsigned int vendor, device;
};

static inline int resv_add_pci_id(const char *name, void *arg)
{
	struct resv_pci_id *id = arg;

	if (resv_pci_attr(name, "vendor") != id->vendor ||
	    resv_pci_attr(name, "device") != id->device)
		return id->l.n == id->l.max;
	return resv_add_name(name, &id->l);
}

/* BDFs of PCI devices with this vendor:device, in sysfs order. */
static inline int resv_find_pci(unsigned int vendor, unsigned int device,
				char bdfs[][16], int max)
{
	struct resv_pci_id id = {
		.l = { .out = bdfs, .width = 16, .max = max }, .vendor = vendor, .device = device,
	};
	int ret = resv_walk_dir(RESV_PCI_DIR, resv_add_pci_id, &id);

	return ret < 0 ? ret : id.l.n;
}

/* The sysfs directory of a PCI device (by BDF) or else a platform device. */
static inline void resv_dev_dir(const char *name, char *dir, size_t size)
{
	snprintf(dir, size, RESV_PCI_DIR "/%.64s", name);
	if (access(dir, F_OK))
		snprintf(dir, size, RESV_PLATFORM_DIR "/%.64s", name);
}

/* The group a PCI or platform device is in now, or -errno (-ENOENT: none). */
static inline int resv_device_group(const char *name)
{
	char dir[128], path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	resv_dev_dir(name, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/iommu_group", dir);
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

/* An edu outside @group, or -ENOENT */
static inline int resv_other_edu(int group, char bdf[16])
{
	char all[RESV_MAX_DEVS][16];
	int i, n = resv_find_pci(RESV_EDU_VENDOR, RESV_EDU_DEVICE, all, RESV_MAX_DEVS);

	for (i = 0; i < n; i++) {
		int g = resv_device_group(all[i]);

		if (g >= 0 && g != group) {
			memcpy(bdf, all[i], 16);
			return 0;
		}
	}
	return -ENOENT;
}

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

/* The first edu, bound to vfio-pci: its group, or -errno (-ENODEV: none) */
static inline int resv_first_edu(char bdf[16])
{
	char found[1][16];

	if (resv_find_pci(RESV_EDU_VENDOR, RESV_EDU_DEVICE, found, 1) != 1)
		return -ENODEV;
	memcpy(bdf, found[0], 16);
	return resv_bind_vfio(bdf);
}

/* What a test cannot run without: it skips where the system lacks one */
#define RESV_NEED_VFIO		0x01	/* VFIO type1: /dev/vfio/vfio */
#define RESV_NEED_IOMMUFD	0x02	/* /dev/iommu and VFIO cdevs */
#define RESV_NEED_DETAIL	0x04	/* reserved_regions_detail: the series */
#define RESV_NEED_INJECT	0x08	/* the test-only injector */
#define RESV_NEED_EDU		0x10	/* an edu device */
#define RESV_NEED_FAIL_NTH	0x20	/* fail-nth, and the injector to make groups gather */

/* Why the system cannot run a test that needs @needs, or NULL if it can */
static inline const char *resv_missing(unsigned int needs)
{
	char bdf[1][16];

	if ((needs & RESV_NEED_VFIO) && access("/dev/vfio/vfio", F_OK))
		return "no /dev/vfio/vfio";
	if ((needs & RESV_NEED_IOMMUFD) &&
	    (access("/dev/iommu", F_OK) || access("/dev/vfio/devices", F_OK)))
		return "no /dev/iommu or VFIO cdev";
	if ((needs & RESV_NEED_DETAIL) &&
	    access(RESV_GROUPS_DIR "/0/reserved_regions_detail", F_OK) &&
	    access(RESV_GROUPS_DIR "/1/reserved_regions_detail", F_OK))
		return "no reserved_regions_detail (kernel without the series)";
	if ((needs & RESV_NEED_INJECT) && access(RESV_INJECT, W_OK))
		return "no " RESV_INJECT " (CONFIG_IOMMU_RESV_INJECT)";
	if ((needs & RESV_NEED_EDU) &&
	    resv_find_pci(RESV_EDU_VENDOR, RESV_EDU_DEVICE, bdf, 1) != 1)
		return "no edu device";
	if ((needs & RESV_NEED_FAIL_NTH) && !resv_fail_nth_setup())
		return "no fault injection (CONFIG_FAILSLAB, debugfs)";
	if ((needs & RESV_NEED_FAIL_NTH) && resv_regather())
		return "no injector to make groups gather again (CONFIG_IOMMU_RESV_INJECT)";
	return NULL;
}

/*
 * In a test or a fixture setup: SKIP, then @statement, unless the system
 * has everything @needs names.
 */
#define RESV_SKIP_UNLESS(statement, needs) do {				\
	const char *_why = resv_missing(needs);				\
									\
	if (_why)							\
		SKIP(statement, "%s", _why);				\
} while (0)

/*
 * Have the injector give @dev @count reserved regions of @size bytes,
 * @stride apart from @base; @quiet, without telling the users of gathered
 * lists. @count 0 takes them away and ignores @base, @stride and @size.
 * 0 or -errno.
 */
static inline int resv_inject(const char *dev, unsigned int count, uint64_t base,
			      uint64_t stride, uint64_t size, bool quiet)
{
	char buf[128];

	if (!count && !quiet)
		snprintf(buf, sizeof(buf), "%s 0", dev);
	else if (!count)	/* "quiet" comes after all numbers: give ones it accepts */
		snprintf(buf, sizeof(buf), "%s 0 0 1 1 quiet", dev);
	else
		snprintf(buf, sizeof(buf), "%s %u 0x%llx 0x%llx 0x%llx%s", dev, count,
			 (unsigned long long)base, (unsigned long long)stride,
			 (unsigned long long)size, quiet ? " quiet" : "");
	return resv_write_file(RESV_INJECT, buf);
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

/* Position the /dev/kmsg reader @fd after everything logged so far. */
static inline void resv_kmsg_skip(int fd)
{
	lseek(fd, 0, SEEK_END);
}

/* /dev/kmsg, positioned after everything logged so far, or -errno. */
static inline int resv_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	resv_kmsg_skip(fd);
	return fd;
}

/*
 * Whether a record logged since resv_kmsg_open() or resv_kmsg_skip()
 * contains every @needle.
 */
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

#define RESV_TRACE_EVENT	"events/iommu/reserved_region_overlap"

/*
 * The tracefs directory, mounted if need be; NULL without tracing or
 * without the series' event (the unpatched kernel has other iommu events)
 */
static inline const char *resv_tracefs(void)
{
	if (!access("/sys/kernel/tracing/" RESV_TRACE_EVENT, F_OK))
		return "/sys/kernel/tracing";
	if (!access("/sys/kernel/debug/tracing/" RESV_TRACE_EVENT, F_OK))
		return "/sys/kernel/debug/tracing";
	if (!mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) &&
	    !access("/sys/kernel/tracing/" RESV_TRACE_EVENT, F_OK))
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

/* QEMU hw/misc/edu.c: its DMA engine, driven through BAR0 */
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

struct resv_edu {
	int fd;
	uint64_t bar0, config;
};

static inline int resv_vfio_region_offset(int fd, unsigned int index, uint64_t *off)
{
	struct vfio_region_info info = { .argsz = sizeof(info), .index = index };

	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &info))
		return -errno;
	*off = info.offset;
	return 0;
}

/* Take the VFIO device fd @fd of an edu and turn bus mastering on. */
static inline int resv_edu_init(int fd, struct resv_edu *e)
{
	uint16_t cmd;
	int ret;

	e->fd = fd;
	ret = resv_vfio_region_offset(fd, VFIO_PCI_BAR0_REGION_INDEX, &e->bar0);
	if (!ret)
		ret = resv_vfio_region_offset(fd, VFIO_PCI_CONFIG_REGION_INDEX, &e->config);
	if (ret)
		return ret;
	if (pread(fd, &cmd, 2, e->config + 4) != 2)
		return -EIO;
	cmd |= 0x4;
	return pwrite(fd, &cmd, 2, e->config + 4) == 2 ? 0 : -EIO;
}

static inline int resv_edu_write(struct resv_edu *e, uint64_t reg, uint64_t val)
{
	return pwrite(e->fd, &val, 8, e->bar0 + reg) == 8 ? 0 : -EIO;
}

/* Run one DMA of @count bytes and wait for the engine to finish. */
static inline int resv_edu_dma(struct resv_edu *e, uint64_t src, uint64_t dst,
			       uint64_t count, uint64_t dir)
{
	uint64_t cmd;
	int i;

	if (resv_edu_write(e, EDU_DMA_SRC, src) || resv_edu_write(e, EDU_DMA_DST, dst) ||
	    resv_edu_write(e, EDU_DMA_COUNT, count) ||
	    resv_edu_write(e, EDU_DMA_CMD, EDU_CMD_START | dir))
		return -EIO;
	for (i = 0; i < 500; i++) {
		if (pread(e->fd, &cmd, 8, e->bar0 + EDU_DMA_CMD) != 8)
			return -EIO;
		if (!(cmd & EDU_CMD_START))
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

/* A page-aligned IOVA below the edu's DMA limit, from @from, that @u leaves usable. */
static inline uint64_t resv_edu_usable_iova(const struct resv_range *u, int nu,
					    uint64_t from, long page)
{
	uint64_t iova;

	for (iova = from; iova + page <= EDU_DMA_LIMIT; iova += page)
		if (resv_usable(u, nu, iova, iova + page - 1))
			return iova;
	return 0;
}

/* Copy EDU_DMA_BYTES from IOVA @src into the edu and back out to IOVA @dst. */
static inline int resv_edu_copy(struct resv_edu *e, uint64_t src, uint64_t dst)
{
	int ret = resv_edu_dma(e, src, EDU_BUFFER, EDU_DMA_BYTES, 0);

	return ret ?: resv_edu_dma(e, EDU_BUFFER, dst, EDU_DMA_BYTES, EDU_CMD_TO_RAM);
}

/* The VFIO cdev of a PCI or platform device ("/dev/vfio/devices/vfioN"), or -errno. */
static inline int resv_vfio_cdev_open(const char *name)
{
	char base[128], dir[PATH_MAX], path[PATH_MAX + 64];
	struct dirent *e;
	DIR *d;
	int fd = -ENOENT;

	resv_dev_dir(name, base, sizeof(base));
	snprintf(dir, sizeof(dir), "%s/vfio-dev", base);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (!strncmp(e->d_name, "vfio", 4)) {
			snprintf(path, sizeof(path), "/dev/vfio/devices/%s", e->d_name);
			fd = open(path, O_RDWR);
			if (fd < 0)
				fd = -errno;
			break;
		}
	}
	closedir(d);
	return fd;
}

/* An iommufd, an IOAS in it, and one VFIO cdev bound to that iommufd. */
struct resv_ioas {
	int iommufd, dev, id;
	uint32_t dev_id;	/* the device's object in the iommufd */
};

/*
 * Open @bdf's VFIO cdev and bind it to @iommufd; its fd or -errno, and its
 * object ID in @iommufd in @dev_id unless NULL.
 */
static inline int resv_cdev_bind_id(int iommufd, const char *bdf, uint32_t *dev_id)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = iommufd,
	};
	int fd = resv_vfio_cdev_open(bdf), ret;

	if (fd < 0)
		return fd;
	if (ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	if (dev_id)
		*dev_id = bind.out_devid;
	return fd;
}

/* Open @bdf's VFIO cdev and bind it to @iommufd; its fd or -errno. */
static inline int resv_cdev_bind(int iommufd, const char *bdf)
{
	return resv_cdev_bind_id(iommufd, bdf, NULL);
}

/* Attach the bound cdev @dev to IOAS @id; 0 or -errno. */
static inline int resv_cdev_attach(int dev, uint32_t id)
{
	struct vfio_device_attach_iommufd_pt at = {
		.argsz = sizeof(at),
		.pt_id = id,
	};

	return ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at) ? -errno : 0;
}

/* Bind @bdf's cdev to @iommufd and attach it to IOAS @id; its fd or -errno. */
static inline int resv_ioas_attach_dev(int iommufd, uint32_t id, const char *bdf)
{
	int fd = resv_cdev_bind(iommufd, bdf), ret;

	if (fd < 0)
		return fd;
	ret = resv_cdev_attach(fd, id);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

/* Bind @bdf's cdev to a new iommufd, with no IOAS yet; 0 or -errno. */
static inline int resv_ioas_bind(const char *bdf, struct resv_ioas *s)
{
	s->dev = -1;
	s->id = 0;
	s->iommufd = open("/dev/iommu", O_RDWR);
	if (s->iommufd < 0)
		return -errno;
	s->dev = resv_cdev_bind_id(s->iommufd, bdf, &s->dev_id);
	if (s->dev >= 0)
		return 0;
	close(s->iommufd);
	s->iommufd = -1;
	return s->dev;
}

/* Close what @s has open (-1: nothing), and mark it closed */
static inline void resv_ioas_close(struct resv_ioas *s)
{
	if (s->dev >= 0)
		close(s->dev);
	if (s->iommufd >= 0)
		close(s->iommufd);
	s->dev = -1;
	s->iommufd = -1;
}

/* A new, empty IOAS in @s->iommufd becomes @s->id; 0 or -errno. */
static inline int resv_ioas_alloc(struct resv_ioas *s)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };

	if (ioctl(s->iommufd, IOMMU_IOAS_ALLOC, &alloc))
		return -errno;
	s->id = alloc.out_ioas_id;
	return 0;
}

/* Detach @s->dev if @attached, then destroy IOAS @s->id; 0 or -errno. */
static inline int resv_ioas_free(struct resv_ioas *s, bool attached)
{
	struct vfio_device_detach_iommufd_pt detach = { .argsz = sizeof(detach) };
	struct iommu_destroy destroy = { .size = sizeof(destroy), .id = s->id };

	if (attached && ioctl(s->dev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach))
		return -errno;
	return ioctl(s->iommufd, IOMMU_DESTROY, &destroy) ? -errno : 0;
}

/* Bind @bdf to a new iommufd and attach it to a new IOAS; 0 or -errno. */
static inline int resv_ioas_attach(const char *bdf, struct resv_ioas *s)
{
	int ret = resv_ioas_bind(bdf, s);

	if (ret)
		return ret;
	ret = resv_ioas_alloc(s);
	if (!ret)
		ret = resv_cdev_attach(s->dev, s->id);
	if (ret)
		resv_ioas_close(s);
	return ret;
}

/* IOMMU_IOAS_MAP of @buf at the fixed IOVA @iova; 0 or -errno. */
static inline int resv_ioas_map(struct resv_ioas *s, void *buf, uint64_t iova, uint64_t len)
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

	return ioctl(s->iommufd, IOMMU_IOAS_MAP, &map) ? -errno : 0;
}

static inline int resv_ioas_unmap(struct resv_ioas *s, uint64_t iova, uint64_t len)
{
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap), .ioas_id = s->id, .iova = iova, .length = len,
	};

	return ioctl(s->iommufd, IOMMU_IOAS_UNMAP, &unmap) ? -errno : 0;
}

/* The ranges IOMMU_IOAS_IOVA_RANGES reports, or -errno. */
static inline int resv_ioas_iova_ranges(struct resv_ioas *s, struct resv_range *out, int max)
{
	struct iommu_iova_range *got = calloc(max, sizeof(*got));
	struct iommu_ioas_iova_ranges q = {
		.size = sizeof(q), .ioas_id = s->id, .num_iovas = max,
		.allowed_iovas = (uintptr_t)got,
	};
	int i, n;

	if (!got)
		return -ENOMEM;
	n = ioctl(s->iommufd, IOMMU_IOAS_IOVA_RANGES, &q) ? -errno : (int)q.num_iovas;
	for (i = 0; i < n && i < max; i++) {
		out[i].start = got[i].start;
		out[i].end = got[i].last;
	}
	free(got);
	return n;
}

/*
 * A VFIO type1 container or an IOAS holding a group through one device.
 * Its descriptors are -1 while closed (resv_be_init()), so that a fixture's
 * teardown can close whatever a test left open.
 */
struct resv_be {
	bool iommufd;
	int container, gfd;
	struct resv_ioas ioas;
};

static inline void resv_be_init(struct resv_be *be, bool iommufd)
{
	*be = (struct resv_be) {
		.iommufd = iommufd, .container = -1, .gfd = -1,
		.ioas = { .iommufd = -1, .dev = -1 },
	};
}

static inline int resv_be_open(struct resv_be *be, int group, const char *bdf)
{
	if (be->iommufd)
		return resv_ioas_attach(bdf, &be->ioas);
	be->container = resv_type1_container(group, &be->gfd);
	return be->container < 0 ? be->container : 0;
}

/* Close what @be has open, if anything; it can be opened again */
static inline void resv_be_close(struct resv_be *be)
{
	if (be->iommufd) {
		resv_ioas_close(&be->ioas);
		return;
	}
	if (be->gfd >= 0)
		close(be->gfd);
	if (be->container >= 0)
		close(be->container);
	be->gfd = -1;
	be->container = -1;
}

static inline int resv_be_map(struct resv_be *be, void *buf, uint64_t iova, uint64_t len)
{
	return be->iommufd ? resv_ioas_map(&be->ioas, buf, iova, len) :
			     resv_type1_map(be->container, buf, iova, len);
}

static inline int resv_be_unmap(struct resv_be *be, uint64_t iova, uint64_t len)
{
	return be->iommufd ? resv_ioas_unmap(&be->ioas, iova, len) :
			     resv_type1_unmap(be->container, iova, len);
}

static inline int resv_be_ranges(struct resv_be *be, struct resv_range *out, int max)
{
	return be->iommufd ? resv_ioas_iova_ranges(&be->ioas, out, max) :
			     resv_type1_iova_ranges(be->container, out, max);
}

/* A VFIO device fd for @bdf, attached the way the backend attaches, or -errno. */
static inline int resv_be_open_dev(struct resv_be *be, const char *bdf)
{
	int fd;

	if (be->iommufd)
		return resv_ioas_attach_dev(be->ioas.iommufd, be->ioas.id, bdf);
	fd = ioctl(be->gfd, VFIO_GROUP_GET_DEVICE_FD, bdf);
	return fd < 0 ? -errno : fd;
}

static inline bool resv_pci_present(const char *bdf)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), RESV_PCI_DIR "/%s", bdf);
	return !access(path, F_OK);
}

static inline int resv_pci_unbind(const char *bdf)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), RESV_PCI_DIR "/%s/driver/unbind", bdf);
	if (access(path, F_OK))
		return 0;
	return resv_write_file(path, bdf);
}

static inline int resv_pci_remove(const char *bdf)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), RESV_PCI_DIR "/%s/remove", bdf);
	ret = resv_write_file(path, "1");
	return ret ?: (resv_pci_present(bdf) ? -EBUSY : 0);
}

static inline int resv_pci_rescan(const char *bdf)
{
	int ret = resv_write_file("/sys/bus/pci/rescan", "1");

	return ret ?: (resv_pci_present(bdf) ? 0 : -ENODEV);
}

static inline bool resv_is_function0(const char *bdf)
{
	size_t len = strlen(bdf);

	return len > 2 && !strcmp(bdf + len - 2, ".0");
}

/*
 * Two edus of one group: @a, to be PCI-removed and rescanned back into the
 * group, a function 0 (@a_function0) or a function > 0 of a multi-function
 * device (which must be marked as such before the IOMMU core groups it),
 * and @b another member. Returns the group, -ENODEV without edus, -ENOENT
 * without such a pair.
 */
static inline int resv_hotplug_pair(char a[16], char b[16], bool a_function0)
{
	char bdf[RESV_MAX_DEVS][16];
	int i, j, group[RESV_MAX_DEVS];
	int n = resv_find_pci(RESV_EDU_VENDOR, RESV_EDU_DEVICE, bdf, RESV_MAX_DEVS);

	if (n <= 0)
		return -ENODEV;
	for (i = 0; i < n; i++)
		group[i] = resv_device_group(bdf[i]);
	for (i = 0; i < n; i++) {
		for (j = i + 1; j < n; j++) {
			int k = resv_is_function0(bdf[j]) == a_function0 ? j : i;

			if (group[i] < 0 || group[i] != group[j] ||
			    resv_is_function0(bdf[k]) != a_function0)
				continue;
			memcpy(a, bdf[k], 16);
			memcpy(b, bdf[k == i ? j : i], 16);
			return group[i];
		}
	}
	return -ENOENT;
}

/*
 * resv_hotplug_pair(), made ready: A unbound (as it comes back from a
 * rescan) and B bound to vfio-pci. Returns the group or -errno as above.
 */
static inline int resv_hotplug_pair_ready(char a[16], char b[16], bool a_function0)
{
	int group = resv_hotplug_pair(a, b, a_function0), ret;

	if (group < 0)
		return group;
	ret = resv_pci_unbind(a);
	if (ret)
		return ret;
	ret = resv_bind_vfio(b);
	return ret < 0 ? ret : ret == group ? group : -EXDEV;
}

/*
 * The fixture of the tests that take every edu: the edus, bound to vfio-pci,
 * @size bytes of anonymous memory at @buf for them to map, and the backend
 * a test opens (@be): the fixture's teardown, resv_edus_release(), closes
 * what a test left open and unmaps @buf, whichever ASSERT ended the test.
 */
struct resv_edus {
	char bdf[RESV_MAX_DEVS][16];
	int group[RESV_MAX_DEVS];
	int nr;
	int failed;		/* the edu that would not bind */
	long page;
	void *buf;
	size_t size;
	struct resv_be be;
};

/*
 * The FIXTURE_SETUP part, after RESV_SKIP_UNLESS(return, ... | RESV_NEED_EDU):
 * bind every edu to vfio-pci and map @pages pages (@flags: MAP_PRIVATE, or
 * MAP_SHARED) for @e, whose backend is iommufd if @iommufd, else type1.
 */
#define RESV_EDUS_SETUP(e, iommufd, pages, flags) do {				\
	struct resv_edus *_e = (e);						\
										\
	_e->page = sysconf(_SC_PAGESIZE);					\
	resv_be_init(&_e->be, iommufd);						\
	_e->nr = resv_bind_edus(_e->bdf, _e->group, RESV_MAX_DEVS, &_e->failed);	\
	ASSERT_LT(0, _e->nr) TH_LOG("%s: bind to vfio-pci failed: %s",		\
				    _e->bdf[_e->failed], strerror(-_e->nr));	\
	_e->size = (pages) * _e->page;						\
	_e->buf = mmap(NULL, _e->size, PROT_READ | PROT_WRITE,			\
		       (flags) | MAP_ANONYMOUS, -1, 0);				\
	ASSERT_NE(MAP_FAILED, _e->buf);						\
} while (0)

/* The FIXTURE_TEARDOWN of a fixture set up by RESV_EDUS_SETUP() */
static inline void resv_edus_release(struct resv_edus *e)
{
	resv_be_close(&e->be);
	if (e->buf && e->buf != MAP_FAILED)
		munmap(e->buf, e->size);
}

#endif /* __SELFTESTS_IOMMU_RESV_UTILS_H */
