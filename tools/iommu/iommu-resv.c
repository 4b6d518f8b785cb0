// SPDX-License-Identifier: GPL-2.0-only
/*
 * iommu-resv: list the IOMMU groups with their devices and reserved regions,
 * and check IOVA ranges (e.g. a guest's RAM layout) against a device's group
 * before assigning it, as VFIO type1 and iommufd would.
 *
 * Reads /sys/kernel/iommu_groups/<N>/reserved_regions_detail where the kernel
 * has it (owners included), reserved_regions otherwise (owners unknown).
 * The ranges to check are given, or read from a running QEMU's guest memory
 * map through its QMP socket (or from saved "info mtree -f" output).
 * "query" asks iommufd instead (IOMMU_GET_RESV_REGIONS), for a device bound
 * to vfio-pci that no one holds; it needs the kernel's UAPI headers.
 * See Documentation/userspace-api/iommu-reserved-regions.rst.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#if __has_include("linux/iommufd.h")
#include <linux/iommufd.h>
#include <linux/vfio.h>
#endif

/* "query" needs UAPI headers of a kernel with IOMMU_GET_RESV_REGIONS */
#if defined(IOMMU_GET_RESV_REGIONS) && defined(VFIO_DEVICE_BIND_IOMMUFD)
#define HAVE_QUERY 1
#endif

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define EXIT_CONFLICT	1
#define EXIT_ERROR	2
#define NAME_LEN	256		/* a sysfs name and its NUL */
#define SZ_4K		0x1000ULL
#define SZ_2M		0x200000ULL
#define SZ_1G		0x40000000ULL
#define QMP_TIMEOUT	30		/* seconds QEMU has to answer */
#define QMP_MTREE \
	"{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"info mtree -f\"}}\n"

struct region {
	unsigned long long start, end;	/* end inclusive */
	char type[32];
	char dev[NAME_LEN];		/* "-" when the kernel does not say */
	char owner_type[32];		/* "unknown" likewise */
	char owner[PATH_MAX];
};

struct group_dev {
	char name[NAME_LEN];
	char ids[32];			/* vendor:device; list only, "" if none */
	char driver[NAME_LEN];		/* likewise */
};

struct group {
	int id;
	int nr_devs, nr_regions;
	struct group_dev *devs;
	struct region *regions;
};

struct range {
	unsigned long long start, end;
	bool soft;			/* a conflict does not make QEMU fail */
};

static const char *sysfs = "/sys";

/* One line on stderr, and exit 2 */
#define fail(...) do {					\
	fputs("iommu-resv: ", stderr);			\
	fprintf(stderr, __VA_ARGS__);			\
	fputc('\n', stderr);				\
	exit(EXIT_ERROR);				\
} while (0)

static void *xrealloc(void *p, size_t n, size_t size)
{
	p = realloc(p, (n ? n : 1) * size);
	if (!p)
		fail("out of memory");
	return p;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static int cmp_device(const void *a, const void *b)
{
	const struct group_dev *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* The group numbers, ascending; exits when the groups cannot be read. */
static int list_groups(int **ids)
{
	char path[PATH_MAX];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/kernel/iommu_groups", sysfs);
	d = opendir(path);
	if (!d)
		fail("cannot read %s: %s", path, strerror(errno));
	*ids = NULL;
	while ((e = readdir(d))) {
		char *endp;
		long id = strtol(e->d_name, &endp, 10);

		if (!isdigit((unsigned char)e->d_name[0]) || *endp || id > INT_MAX)
			continue;
		*ids = xrealloc(*ids, n + 1, sizeof(**ids));
		(*ids)[n++] = (int)id;
	}
	closedir(d);
	qsort(*ids, n, sizeof(**ids), cmp_int);
	return n;
}

static void read_devices(struct group *g)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/kernel/iommu_groups/%d/devices", sysfs, g->id);
	d = opendir(path);
	if (!d)
		fail("cannot read %s: %s", path, strerror(errno));
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		g->devs = xrealloc(g->devs, g->nr_devs + 1, sizeof(*g->devs));
		memset(&g->devs[g->nr_devs], 0, sizeof(*g->devs));
		snprintf(g->devs[g->nr_devs++].name, NAME_LEN, "%.255s", e->d_name);
	}
	closedir(d);
	qsort(g->devs, g->nr_devs, sizeof(*g->devs), cmp_device);
}

/* One line of either file; false if it is not one. */
static bool parse_region(const char *line, bool detail, struct region *r)
{
	char start[32], end[32], *endp;
	int n;

	memset(r, 0, sizeof(*r));
	if (detail)
		n = sscanf(line, "%31s %31s %31s %255s %31s %4095s", start, end, r->type,
			   r->dev, r->owner_type, r->owner);
	else
		n = sscanf(line, "%31s %31s %31s", start, end, r->type);
	if (n != (detail ? 6 : 3))
		return false;
	if (!detail) {
		snprintf(r->dev, sizeof(r->dev), "-");
		snprintf(r->owner_type, sizeof(r->owner_type), "unknown");
		snprintf(r->owner, sizeof(r->owner), "-");
	}
	errno = 0;
	r->start = strtoull(start, &endp, 16);
	if (errno || *endp)
		return false;
	r->end = strtoull(end, &endp, 16);
	return !errno && !*endp && r->start <= r->end;
}

/* A whole file in a malloc()ed, NUL-terminated buffer; NULL with errno set */
static char *slurp(const char *path)
{
	size_t len = 0, size = 4096;
	char *buf = NULL;
	FILE *f = fopen(path, "r");

	if (!f)
		return NULL;
	for (;;) {
		buf = xrealloc(buf, size, 1);
		len += fread(buf + len, 1, size - 1 - len, f);
		if (len < size - 1)
			break;
		size *= 2;
	}
	buf[len] = '\0';
	if (ferror(f)) {
		int err = errno;	/* read()'s, e.g. ENOMEM from the kernel */

		free(buf);
		fclose(f);
		errno = err;
		return NULL;
	}
	fclose(f);
	return buf;
}

/*
 * A group's file, read until two reads agree: each read() of these files
 * returns the list as it is then, so a sequence of them that races a change
 * (a device added or removed, a PCI window moved) can mix two lists. NULL
 * with errno set, EAGAIN if it kept changing.
 */
static char *read_stable(const char *path)
{
	char *buf = slurp(path), *again;
	int tries;

	for (tries = 0; buf && tries < 20; tries++) {
		again = slurp(path);
		if (!again) {
			free(buf);
			return NULL;
		}
		if (!strcmp(buf, again)) {
			free(again);
			return buf;
		}
		free(buf);
		buf = again;
	}
	free(buf);
	if (buf)
		errno = EAGAIN;
	return NULL;
}

static void read_regions(struct group *g)
{
	char path[PATH_MAX], *text, *line, *next;
	bool detail = true;

	snprintf(path, sizeof(path), "%s/kernel/iommu_groups/%d/reserved_regions_detail",
		 sysfs, g->id);
	text = read_stable(path);
	if (!text && errno == ENOENT) {
		/* A kernel without the detailed view: the legacy file */
		detail = false;
		snprintf(path, sizeof(path), "%s/kernel/iommu_groups/%d/reserved_regions",
			 sysfs, g->id);
		text = read_stable(path);
	}
	if (!text)
		fail("cannot read %s: %s", path, strerror(errno));
	for (line = text; *line; line = next) {
		struct region r;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (!parse_region(line, detail, &r))
			fail("%s: unexpected line: %s", path, line);
		g->regions = xrealloc(g->regions, g->nr_regions + 1, sizeof(*g->regions));
		g->regions[g->nr_regions++] = r;
	}
	free(text);
}

static void read_group(int id, struct group *g)
{
	memset(g, 0, sizeof(*g));
	g->id = id;
	read_devices(g);
	read_regions(g);
}

static void free_group(struct group *g)
{
	free(g->devs);
	free(g->regions);
}

/* A sysfs attribute of a device, first line, newline cut; "" if none. */
static void dev_attr(const char *dev, const char *attr, char *buf, size_t size)
{
	char path[PATH_MAX];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/%s", sysfs, dev, attr);
	f = fopen(path, "r");
	if (!f)
		return;
	if (!fgets(buf, size, f))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* vendor:device as four hex digits each, or "" for a non-PCI device. */
static void dev_ids(const char *dev, char *buf, size_t size)
{
	char vendor[16], device[16];

	dev_attr(dev, "vendor", vendor, sizeof(vendor));
	dev_attr(dev, "device", device, sizeof(device));
	buf[0] = '\0';
	if (!strncmp(vendor, "0x", 2) && !strncmp(device, "0x", 2))
		snprintf(buf, size, "%s:%s", vendor + 2, device + 2);
}

/* The driver bound to a device, or "" when none. */
static void dev_driver(const char *dev, int group, char *buf, size_t size)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *base;
	ssize_t n;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/kernel/iommu_groups/%d/devices/%s/driver", sysfs,
		 group, dev);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return;
	link[n] = '\0';
	base = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
	if (strlen(base) < size)
		memcpy(buf, base, strlen(base) + 1);
}

/* The vendor:device and the driver of each of @g's devices, for list */
static void describe_devices(struct group *g)
{
	int k;

	for (k = 0; k < g->nr_devs; k++) {
		struct group_dev *d = &g->devs[k];

		dev_ids(d->name, d->ids, sizeof(d->ids));
		dev_driver(d->name, g->id, d->driver, sizeof(d->driver));
	}
}

/* A region as IOMMU_GET_RESV_REGIONS reports it, in the names sysfs uses */
struct query_region {
	unsigned long long start, end;
	const char *type, *dev, *owner_type, *owner;
	bool enforced;
};

/*
 * What list and query print, in one format: chosen once from --json, so
 * that the commands gather their answer without asking which it is.
 */
struct printer {
	void (*begin)(const char *dev);		/* query's device; NULL for list */
	void (*group)(const struct group *g, bool first);
	void (*query_region)(const struct query_region *r, bool first);
	void (*end)(void);
};

/* Text: one line per group, device and region; nothing around them */
static void text_begin(const char *dev)
{
	(void)dev;
}

static void text_group(const struct group *g, bool first)
{
	int k;

	(void)first;
	printf("group %d\n", g->id);
	for (k = 0; k < g->nr_devs; k++) {
		const struct group_dev *d = &g->devs[k];

		printf("  device %s %s %s\n", d->name, d->ids[0] ? d->ids : "-",
		       d->driver[0] ? d->driver : "-");
	}
	for (k = 0; k < g->nr_regions; k++) {
		const struct region *r = &g->regions[k];

		printf("  region 0x%016llx-0x%016llx %s %s owner %s %s\n",
		       r->start, r->end, r->type, r->dev, r->owner_type, r->owner);
	}
}

/* As reserved_regions_detail has it, then whether an attach enforces it */
static void text_query_region(const struct query_region *r, bool first)
{
	(void)first;
	printf("0x%016llx 0x%016llx %s %s %s %s %s\n", r->start, r->end, r->type, r->dev,
	       r->owner_type, r->owner, r->enforced ? "enforced" : "not-enforced");
}

static void text_end(void)
{
}

static const struct printer text_printer = {
	.begin = text_begin,
	.group = text_group,
	.query_region = text_query_region,
	.end = text_end,
};

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* "@key": "@val", then @after */
static void json_member(const char *key, const char *val, const char *after)
{
	printf("\"%s\": ", key);
	json_string(val);
	fputs(after, stdout);
}

/* JSON: one object, {"groups": [...]} or {"device": ..., "regions": [...]} */
static void json_begin(const char *dev)
{
	if (!dev) {
		printf("{\"groups\": [");
		return;
	}
	printf("{");
	json_member("device", dev, ", \"regions\": [");
}

static void json_group(const struct group *g, bool first)
{
	int k;

	printf("%s\n  {\"group\": %d, \"devices\": [", first ? "" : ",", g->id);
	for (k = 0; k < g->nr_devs; k++) {
		const struct group_dev *d = &g->devs[k];

		printf("%s\n    {", k ? "," : "");
		json_member("name", d->name, ", ");
		json_member("id", d->ids, ", ");
		json_member("driver", d->driver, "}");
	}
	printf("],\n   \"regions\": [");
	for (k = 0; k < g->nr_regions; k++) {
		const struct region *r = &g->regions[k];

		printf("%s\n    {\"start\": \"0x%016llx\", \"end\": \"0x%016llx\", ",
		       k ? "," : "", r->start, r->end);
		json_member("type", r->type, ", ");
		json_member("device", r->dev, ", ");
		json_member("owner_type", r->owner_type, ", ");
		json_member("owner", r->owner, "}");
	}
	printf("]}");
}

static void json_query_region(const struct query_region *r, bool first)
{
	printf("%s\n  {\"start\": \"0x%016llx\", \"end\": \"0x%016llx\", ",
	       first ? "" : ",", r->start, r->end);
	json_member("type", r->type, ", ");
	json_member("owner_type", r->owner_type, ", ");
	json_member("owner", r->owner, ", ");
	printf("\"enforced\": %s}", r->enforced ? "true" : "false");
}

static void json_end(void)
{
	printf("\n]}\n");
}

static const struct printer json_printer = {
	.begin = json_begin,
	.group = json_group,
	.query_region = json_query_region,
	.end = json_end,
};

/* Each command takes the options it needs and refuses the others */
struct args {
	const char *device, *ranges, *qmp, *mtree;
	unsigned long long group;	/* NO_GROUP if not given */
	bool json;
};

#define NO_GROUP	ULLONG_MAX

static const struct option options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "json", no_argument, NULL, 'j' },
	{ "sysfs", required_argument, NULL, 's' },
	{ "device", required_argument, NULL, 'd' },
	{ "group", required_argument, NULL, 'g' },
	{ "ranges", required_argument, NULL, 'r' },
	{ "qmp", required_argument, NULL, 'q' },
	{ "mtree", required_argument, NULL, 'm' },
	{ }
};

static void print_help(FILE *f);

static bool parse_u64(const char *s, unsigned long long *v)
{
	char *endp;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	*v = strtoull(s, &endp, 0);
	return !errno && !*endp;
}

/*
 * The options from optind on: before the command (@global: --help and
 * --sysfs only, up to the command's name) or after it (every option, for
 * the command to judge; nothing else). The whole argv, so that getopt's
 * own messages name the program.
 */
static void parse_args(int argc, char **argv, bool global, struct args *a)
{
	int c;

	memset(a, 0, sizeof(*a));
	a->group = NO_GROUP;
	while ((c = getopt_long(argc, argv, global ? "+h" : "h", options, NULL)) != -1) {
		if (global && c != 'h' && c != 's')
			c = '?';
		switch (c) {
		case 'h':
			print_help(stdout);
			exit(EXIT_SUCCESS);
		case 's':
			sysfs = optarg;
			break;
		case 'j':
			a->json = true;
			break;
		case 'd':
			a->device = optarg;
			break;
		case 'g':
			if (!parse_u64(optarg, &a->group) || a->group > INT_MAX)
				fail("malformed group '%s': want a group number", optarg);
			break;
		case 'r':
			a->ranges = optarg;
			break;
		case 'q':
			a->qmp = optarg;
			break;
		case 'm':
			a->mtree = optarg;
			break;
		default:
			print_help(stderr);
			exit(EXIT_ERROR);
		}
	}
	if (!global && optind < argc)
		fail("unexpected argument '%s'", argv[optind]);
}

/* list [--json]: every group, in order, with its devices and regions */
static int do_list(int argc, char **argv)
{
	const struct printer *p;
	int *ids, n, i;
	struct args a;

	parse_args(argc, argv, false, &a);
	if (a.device || a.ranges || a.qmp || a.mtree || a.group != NO_GROUP)
		fail("list takes only --json");
	p = a.json ? &json_printer : &text_printer;
	n = list_groups(&ids);
	p->begin(NULL);
	for (i = 0; i < n; i++) {
		struct group g;

		read_group(ids[i], &g);
		describe_devices(&g);
		p->group(&g, !i);
		free_group(&g);
	}
	p->end();
	free(ids);
	return 0;
}

#ifdef HAVE_QUERY
/* enum iommu_resv_region_type and enum iommu_resv_owner_kind, as sysfs names them */
static const char * const query_types[] = {
	[IOMMU_RESV_REGION_TYPE_DIRECT] = "direct",
	[IOMMU_RESV_REGION_TYPE_DIRECT_RELAXABLE] = "direct-relaxable",
	[IOMMU_RESV_REGION_TYPE_RESERVED] = "reserved",
	[IOMMU_RESV_REGION_TYPE_MSI] = "msi",
	[IOMMU_RESV_REGION_TYPE_SW_MSI] = "sw-msi",
	[IOMMU_RESV_REGION_TYPE_BRIDGE_WINDOW] = "bridge-window",
	[IOMMU_RESV_REGION_TYPE_PEER_BAR] = "peer-bar",
	[IOMMU_RESV_REGION_TYPE_HOST_WINDOW] = "host-window",
	[IOMMU_RESV_REGION_TYPE_DMA_RANGE_GAP] = "dma-range-gap",
};

static const char * const query_owner_kinds[] = {
	[IOMMU_RESV_OWNER_KIND_UNKNOWN] = "unknown",
	[IOMMU_RESV_OWNER_KIND_DEVICE] = "device",
	[IOMMU_RESV_OWNER_KIND_IOMMU] = "iommu",
	[IOMMU_RESV_OWNER_KIND_FIRMWARE] = "firmware",
};

/* @dev's VFIO cdev (/dev/vfio/devices/vfioN), opened, or exit 2 */
static int open_vfio_cdev(const char *dev)
{
	char path[PATH_MAX];
	struct dirent *e;
	int fd = -1;
	DIR *d;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/vfio-dev", sysfs, dev);
	d = opendir(path);
	if (!d)
		fail("%s has no VFIO cdev (bind it to vfio-pci; CONFIG_VFIO_DEVICE_CDEV)", dev);
	while ((e = readdir(d)) && fd < 0) {
		if (strncmp(e->d_name, "vfio", 4))
			continue;
		snprintf(path, sizeof(path), "/dev/vfio/devices/%s", e->d_name);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			fail("%s: %s%s", path, strerror(errno),
			     errno == EBUSY ? " (another program holds the device)" : "");
	}
	closedir(d);
	if (fd < 0)
		fail("%s has no VFIO cdev", dev);
	return fd;
}

/*
 * The regions iommufd reports for @dev (IOMMU_GET_RESV_REGIONS on the device
 * bound to a new iommufd, not attached), with whether an attach enforces each.
 */
static int query(const char *dev, const struct printer *p)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct iommu_resv_regions q = { .size = sizeof(q) };
	struct iommu_resv_region_info *info = NULL;
	char *names = NULL;
	int fd, tries;
	uint32_t i;

	bind.iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (bind.iommufd < 0)
		fail("/dev/iommu: %s", strerror(errno));
	fd = open_vfio_cdev(dev);
	if (ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		fail("%s: binding to iommufd: %s", dev, strerror(errno));
	q.object_id = bind.out_devid;
	/* Sizes, then the answer; again if the regions grew in between */
	for (tries = 0;; tries++) {
		if (!ioctl(bind.iommufd, IOMMU_GET_RESV_REGIONS, &q))
			break;
		if (errno == ENOTTY)
			fail("this kernel has no IOMMU_GET_RESV_REGIONS");
		if (errno != EMSGSIZE || tries == 8)
			fail("%s: IOMMU_GET_RESV_REGIONS: %s", dev, strerror(errno));
		info = xrealloc(info, q.num_regions + 1, sizeof(*info));
		names = xrealloc(names, q.names_len + 1, 1);
		q.region_size = sizeof(*info);
		q.regions_uptr = (uintptr_t)info;
		q.names_uptr = (uintptr_t)names;
	}
	p->begin(dev);
	for (i = 0; i < q.num_regions; i++) {
		const struct iommu_resv_region_info *r = &info[i];
		const char *owner = r->owner_offset < q.names_len ? names + r->owner_offset : "";
		struct query_region qr = {
			.start = r->start,
			.end = r->last,
			.type = r->type < ARRAY_SIZE(query_types) ?
				query_types[r->type] : "reserved",
			.dev = dev,
			.owner_type = r->owner_kind < ARRAY_SIZE(query_owner_kinds) ?
				query_owner_kinds[r->owner_kind] : "unknown",
			.owner = owner[0] ? owner : "-",
			.enforced = r->flags & IOMMU_RESV_REGION_ENFORCED,
		};

		p->query_region(&qr, !i);
	}
	p->end();
	free(info);
	free(names);
	close(fd);
	close(bind.iommufd);
	return 0;
}
#else
static int query(const char *dev, const struct printer *p)
{
	(void)p;
	fail("%s: built without IOMMU_GET_RESV_REGIONS (needs the kernel's UAPI headers)", dev);
}
#endif

/* query --device NAME [--json] */
static int do_query(int argc, char **argv)
{
	struct args a;

	parse_args(argc, argv, false, &a);
	if (!a.device || a.ranges || a.qmp || a.mtree || a.group != NO_GROUP)
		fail("query takes --device NAME and --json only");
	return query(a.device, a.json ? &json_printer : &text_printer);
}

/* The group of a device named @dev in some group's devices directory. */
static int device_group(const char *dev)
{
	int *ids, n = list_groups(&ids), i, found = -1;

	for (i = 0; i < n && found < 0; i++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/kernel/iommu_groups/%d/devices/%s", sysfs,
			 ids[i], dev);
		if (!access(path, F_OK))
			found = ids[i];
	}
	free(ids);
	if (found < 0)
		fail("no device %s in any IOMMU group", dev);
	return found;
}

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* "START-END[,START-END...]", inclusive, hex (0x) or decimal. */
static int parse_ranges(const char *arg, struct range **out)
{
	char *copy = strdup(arg), *save, *tok;
	int n = 0, i;

	if (!copy)
		fail("out of memory");
	*out = NULL;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-');
		struct range r;

		if (!dash)
			fail("malformed range '%s': want START-END", tok);
		*dash = '\0';
		if (!parse_u64(tok, &r.start) || !parse_u64(dash + 1, &r.end))
			fail("malformed range '%s-%s': want START-END, in hex (0x) or decimal",
			     tok, dash + 1);
		if (r.start > r.end)
			fail("reversed range 0x%llx-0x%llx: START must not exceed END",
			     r.start, r.end);
		r.soft = false;
		*out = xrealloc(*out, n + 1, sizeof(**out));
		(*out)[n++] = r;
	}
	free(copy);
	if (!n)
		fail("no ranges given");
	qsort(*out, n, sizeof(**out), cmp_range);
	for (i = 1; i < n; i++)
		if ((*out)[i].start <= (*out)[i - 1].end)
			fail("ranges 0x%llx-0x%llx and 0x%llx-0x%llx overlap",
			     (*out)[i - 1].start, (*out)[i - 1].end,
			     (*out)[i].start, (*out)[i].end);
	return n;
}

/* The types reserved_regions_detail gives the regions reported for PCI routing */
static bool is_pci_kind(const char *type)
{
	return !strcmp(type, "bridge-window") || !strcmp(type, "peer-bar") ||
	       !strcmp(type, "host-window") || !strcmp(type, "dma-range-gap");
}

/*
 * Whether a backend enforces the PCI kinds: its enforce_pci_windows module
 * parameter as set now ("Y" unless switched off; a kernel without it reports
 * none). A container or IOAS keeps the setting it was made with.
 */
static bool enforces_pci_windows(const char *module)
{
	char path[PATH_MAX], val[8] = "Y";
	FILE *f;

	snprintf(path, sizeof(path), "%s/module/%s/parameters/enforce_pci_windows",
		 sysfs, module);
	f = fopen(path, "r");
	if (f) {
		if (!fgets(val, sizeof(val), f))
			val[0] = 'Y';
		fclose(f);
	}
	return val[0] != 'N' && val[0] != 'n' && val[0] != '0';
}

/*
 * Who refuses to map over @r: VFIO type1 and iommufd refuse every region
 * but direct-relaxable ones, and the PCI kinds only where their
 * enforce_pci_windows parameter is on. Returns which of the two do, as
 * ENFORCED_* bits.
 */
#define ENFORCED_TYPE1		1
#define ENFORCED_IOMMUFD	2
static int enforced(const struct region *r)
{
	if (!strcmp(r->type, "direct-relaxable"))
		return 0;
	if (!is_pci_kind(r->type))
		return ENFORCED_TYPE1 | ENFORCED_IOMMUFD;
	return (enforces_pci_windows("vfio_iommu_type1") ? ENFORCED_TYPE1 : 0) |
	       (enforces_pci_windows("iommufd") ? ENFORCED_IOMMUFD : 0);
}

/* What to add to a line about @r when a backend does not enforce it */
static const char *not_enforced_note(int by)
{
	switch (by) {
	case ENFORCED_TYPE1:
		return " (not enforced by iommufd: iommufd.enforce_pci_windows=N)";
	case ENFORCED_IOMMUFD:
		return " (not enforced by VFIO type1: vfio_iommu_type1.enforce_pci_windows=N)";
	case 0:
		return " (PCI window not enforced: enforce_pci_windows=N; DMA there misses memory)";
	}
	return "";
}

/*
 * The guest memory map of a running QEMU, as "info mtree -f" prints it
 * (QEMU 7.2; HMP text is not a stable interface): in the flat view of
 * address space "memory", the ram, rom and ram-device ("ramd") sections,
 * which are what QEMU's VFIO listener maps, each shrunk to whole host pages
 * as QEMU does (a section smaller than a page is not mapped). QEMU goes on
 * when the map of a ram-device section (another device's BAR) fails: those
 * are marked soft.
 */
static int parse_mtree(FILE *f, const char *what, struct range **out)
{
	unsigned long long page = (unsigned long long)sysconf(_SC_PAGESIZE);
	bool in_view = false, is_memory = false, found = false;
	char *line = NULL;
	size_t size = 0;
	int n = 0, i;

	*out = NULL;
	while (getline(&line, &size, f) >= 0) {
		char type[32], name[256];
		unsigned long long start, end;
		const char *kind;
		int prio;

		line[strcspn(line, "\r\n")] = '\0';
		if (!strncmp(line, "FlatView #", 10)) {
			in_view = true;
			is_memory = false;
			continue;
		}
		if (!in_view)
			continue;
		if (!strncmp(line, " AS \"memory\",", 13)) {
			is_memory = true;
			found = true;
			continue;
		}
		if (!is_memory || strncmp(line, "  ", 2) || !strcmp(line, "  No rendered FlatView"))
			continue;
		if (sscanf(line, " %llx-%llx (prio %d, %31[^)]): %255s", &start, &end, &prio,
			   type, name) != 5 || start > end)
			fail("%s: unexpected line in the flat view of \"memory\": %s", what, line);
		type[strcspn(type, " ")] = '\0';
		/* "nv-": non-volatile (NVDIMM) memory, mapped like the rest */
		kind = strncmp(type, "nv-", 3) ? type : type + 3;
		/* I/O and ROM devices in ROMD mode are not RAM: VFIO maps neither */
		if (!strcmp(kind, "i/o") || !strcmp(kind, "romd"))
			continue;
		if (strcmp(kind, "ram") && strcmp(kind, "rom") && strcmp(kind, "ramd"))
			fail("%s: unknown section type \"%s\" in the flat view of \"memory\": %s",
			     what, type, line);
		if (start > ULLONG_MAX - (page - 1))
			continue;
		start = (start + page - 1) & ~(page - 1);
		end = ((end + 1) & ~(page - 1)) - 1;
		if (end == ULLONG_MAX || start > end)
			continue;
		*out = xrealloc(*out, n + 1, sizeof(**out));
		(*out)[n].start = start;
		(*out)[n].end = end;
		(*out)[n++].soft = !strcmp(kind, "ramd");
	}
	if (ferror(f))
		fail("cannot read %s: %s", what, strerror(errno));
	free(line);
	if (!found)
		fail("%s: no flat view of address space \"memory\" (want QEMU's \"info mtree -f\")",
		     what);
	if (!n)
		fail("%s: no ram or rom section in the flat view of address space \"memory\"",
		     what);
	qsort(*out, n, sizeof(**out), cmp_range);
	for (i = 1; i < n; i++)
		if ((*out)[i].start <= (*out)[i - 1].end)
			fail("%s: sections 0x%llx-0x%llx and 0x%llx-0x%llx overlap", what,
			     (*out)[i - 1].start, (*out)[i - 1].end,
			     (*out)[i].start, (*out)[i].end);
	return n;
}

static int read_mtree_file(const char *path, struct range **out)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	int n;

	if (!f)
		fail("cannot read %s: %s", path, strerror(errno));
	n = parse_mtree(f, strcmp(path, "-") ? path : "standard input", out);
	if (f != stdin)
		fclose(f);
	return n;
}

/*
 * The JSON string value of @key in a QMP message, unescaped (NUL-terminated,
 * malloc'd), or NULL if the message has no such string.
 */
static char *json_value(const char *msg, const char *key)
{
	char pattern[64], *val, *o;
	const char *p;

	snprintf(pattern, sizeof(pattern), "\"%s\":", key);
	p = strstr(msg, pattern);
	if (!p)
		return NULL;
	p += strlen(pattern);
	while (*p == ' ')
		p++;
	if (*p++ != '"')
		return NULL;
	val = xrealloc(NULL, strlen(p) + 1, 1);
	for (o = val; *p && *p != '"'; p++) {
		if (*p != '\\') {
			*o++ = *p;
			continue;
		}
		switch (*++p) {
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'u': {
			unsigned int c;

			if (!isxdigit((unsigned char)p[1]) || !isxdigit((unsigned char)p[2]) ||
			    !isxdigit((unsigned char)p[3]) || !isxdigit((unsigned char)p[4]) ||
			    sscanf(p + 1, "%4x", &c) != 1)
				goto bad;
			*o++ = c < 0x80 ? (char)c : '?';
			p += 4;
			break;
		}
		case '"':
		case '\\':
		case '/':
			*o++ = *p;
			break;
		default:
			goto bad;
		}
	}
	if (*p != '"')
		goto bad;
	*o = '\0';
	return val;
bad:
	free(val);
	return NULL;
}

/*
 * The next QMP message that is not an event: one line of JSON, without its
 * newline. A line cut short (no newline) means a timeout or a closed
 * connection.
 */
static char *qmp_reply(FILE *f, const char *sock, const char *what)
{
	char *line = NULL;
	size_t size = 0;
	ssize_t len;

	for (;;) {
		errno = 0;
		len = getline(&line, &size, f);
		if (len <= 0 || line[len - 1] != '\n') {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				fail("QMP %s: no answer to %s within %d s", sock, what,
				     QMP_TIMEOUT);
			fail("QMP %s: connection closed while waiting for the answer to %s",
			     sock, what);
		}
		line[strcspn(line, "\r\n")] = '\0';
		if (!strstr(line, "\"event\":"))
			return line;
	}
}

/* Write all of @buf; no SIGPIPE if the peer has gone. */
static bool send_all(int fd, const char *buf, size_t len)
{
	ssize_t k;

	while (len) {
		k = send(fd, buf, len, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		buf += k;
		len -= k;
	}
	return true;
}

/* Send @cmd (named @name in errors), wait for success; its string result in @ret. */
static void qmp_command(int fd, FILE *f, const char *sock, const char *name,
			const char *cmd, char **ret)
{
	size_t len = strlen(cmd);
	char *reply, *desc;

	if (!send_all(fd, cmd, len))
		fail("QMP %s: cannot send %s: %s", sock, name, strerror(errno));
	reply = qmp_reply(f, sock, name);
	if (strncmp(reply, "{\"return\":", 10)) {
		desc = json_value(reply, "desc");
		for (len = desc ? strlen(desc) : 0; len && strchr("\r\n", desc[len - 1]); len--)
			desc[len - 1] = '\0';
		fail("QMP %s: %s failed: %s", sock, name, desc ? desc : reply);
	}
	if (ret) {
		*ret = json_value(reply, "return");
		if (!*ret)
			fail("QMP %s: unexpected answer: %s", sock, reply);
	}
	free(reply);
}

/*
 * Ask the QEMU listening on QMP socket @sock for its guest memory map:
 * capabilities negotiation, then "info mtree -f" through
 * human-monitor-command.
 */
static int read_mtree_qmp(const char *sock, struct range **out)
{
	struct timeval tv = { .tv_sec = QMP_TIMEOUT };
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char *greeting, *mtree;
	FILE *f, *m;
	int fd, n;

	if (strlen(sock) >= sizeof(addr.sun_path))
		fail("QMP socket path too long: %s", sock);
	memcpy(addr.sun_path, sock, strlen(sock) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fail("cannot create a socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
		fail("cannot connect to QMP socket %s: %s", sock, strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	f = fdopen(fd, "r");
	if (!f)
		fail("out of memory");
	greeting = qmp_reply(f, sock, "the connection");
	if (!strstr(greeting, "\"QMP\""))
		fail("QMP %s: not a QMP greeting: %s", sock, greeting);
	free(greeting);
	qmp_command(fd, f, sock, "qmp_capabilities",
		    "{\"execute\": \"qmp_capabilities\"}\n", NULL);
	qmp_command(fd, f, sock, "info mtree -f", QMP_MTREE, &mtree);
	fclose(f);
	m = fmemopen(mtree, strlen(mtree), "r");
	if (!m)
		fail("out of memory");
	n = parse_mtree(m, sock, out);
	fclose(m);
	free(mtree);
	return n;
}

/*
 * The arguments of check and holes (@cmd names it in errors): the group,
 * given or the device's, and the ranges, given or a QEMU's guest memory;
 * returns the group.
 */
static int parse_layout(const char *cmd, int argc, char **argv, struct range **rg, int *nr)
{
	char path[PATH_MAX];
	bool by_group;
	struct args a;
	int group;

	parse_args(argc, argv, false, &a);
	by_group = a.group != NO_GROUP;
	if (a.json)
		fail("%s does not take --json", cmd);
	if (!a.device == !by_group)
		fail("%s needs one of --device NAME or --group N", cmd);
	if (!!a.ranges + !!a.qmp + !!a.mtree != 1)
		fail("%s needs one of --ranges, --qmp or --mtree (--help for usage)", cmd);
	if (a.device) {
		group = device_group(a.device);
	} else {
		group = (int)a.group;
		snprintf(path, sizeof(path), "%s/kernel/iommu_groups/%d", sysfs, group);
		if (access(path, F_OK))
			fail("no IOMMU group %d", group);
	}
	if (a.ranges)
		*nr = parse_ranges(a.ranges, rg);
	else if (a.qmp)
		*nr = read_mtree_qmp(a.qmp, rg);
	else
		*nr = read_mtree_file(a.mtree, rg);
	return group;
}

/* check: which ranges overlap a region VFIO or iommufd would refuse to map */
static int do_check(int argc, char **argv)
{
	int i, k, nr, group, conflicts = 0, warnings = 0;
	struct range *rg;
	struct group g;

	group = parse_layout("check", argc, argv, &rg, &nr);
	read_group(group, &g);
	for (i = 0; i < nr; i++) {
		for (k = 0; k < g.nr_regions; k++) {
			const struct region *r = &g.regions[k];

			int by = enforced(r);
			bool soft;

			/* direct-relaxable: mappable, and never a PCI kind */
			if (!strcmp(r->type, "direct-relaxable") ||
			    r->end < rg[i].start || r->start > rg[i].end)
				continue;
			/* Refused by nobody: mapped, but DMA there reaches a peer or nothing */
			soft = rg[i].soft || !by;
			printf("%s: 0x%llx-0x%llx overlaps ", soft ? "warning" : "conflict",
			       rg[i].start, rg[i].end);
			printf("0x%016llx-0x%016llx %s of %s in group %d, owner %s %s%s%s\n",
			       r->start, r->end, r->type, r->dev, g.id, r->owner_type, r->owner,
			       rg[i].soft ? " (RAM device: QEMU goes on without it)" : "",
			       not_enforced_note(by));
			conflicts += !soft;
			warnings += soft;
		}
	}
	if (!conflicts && warnings)
		printf("ok: no conflict with the reserved regions of group %d (%d warning%s)\n",
		       g.id, warnings, warnings == 1 ? "" : "s");
	else if (!conflicts)
		printf("ok: no range overlaps a reserved region of group %d\n", g.id);
	free_group(&g);
	free(rg);
	return conflicts ? EXIT_CONFLICT : EXIT_SUCCESS;
}

/*
 * The page sizes the group's IOMMU can map with, from 4 KiB up to 1 GiB
 * (@sz[0] = 4K; returns how many). VT-d shows its second-level large-page
 * support (SLLPS, bits 34-35 of the capability register) in sysfs; other
 * IOMMUs (SMMUv3) do not show theirs: 4K, 2M and 1G are assumed, as SMMUv3
 * with a 4 KiB granule offers. @how says which.
 */
static int page_sizes(const struct group *g, unsigned long long *sz, const char **how)
{
	char path[PATH_MAX], buf[64] = "", *endp = buf;
	unsigned long long cap = 0;
	int n = 0;
	FILE *f = NULL;

	if (g->nr_devs) {
		snprintf(path, sizeof(path),
			 "%s/kernel/iommu_groups/%d/devices/%s/iommu/intel-iommu/cap",
			 sysfs, g->id, g->devs[0].name);
		f = fopen(path, "r");
	}
	sz[n++] = SZ_4K;
	if (f && fgets(buf, sizeof(buf), f)) {
		errno = 0;
		cap = strtoull(buf, &endp, 16);	/* "%llx", no 0x */
	}
	if (!f || errno || endp == buf || (*endp && *endp != '\n')) {
		if (f)
			fclose(f);
		sz[n++] = SZ_2M;
		sz[n++] = SZ_1G;
		*how = "assumed: sysfs does not show this IOMMU's page sizes";
		return n;
	}
	fclose(f);
	if (cap >> 34 & 1)
		sz[n++] = SZ_2M;
	if (cap >> 35 & 1)
		sz[n++] = SZ_1G;
	*how = "VT-d capability register, second-level large pages";
	return n;
}

static const char *size_name(unsigned long long z)
{
	return z == SZ_1G ? "1G" : z == SZ_2M ? "2M" : "4K";
}

/*
 * Bounds are unsigned __int128 from here on: an exclusive end can be 2^64.
 *
 * Count the mappings of the largest page sizes (of @sz, ascending; @k the
 * largest to use) that cover [@lo, @hi) with IOVA-aligned pages, into @count:
 * the aligned middle in pages of @sz[@k], the ends in smaller ones.
 */
static void count_pages(unsigned __int128 lo, unsigned __int128 hi,
			const unsigned long long *sz, int k,
			unsigned long long *count)
{
	unsigned __int128 a, b;

	if (lo >= hi)
		return;
	a = (lo + sz[k] - 1) / sz[k] * sz[k];
	b = hi / sz[k] * sz[k];
	if (!k || a >= b) {
		if (k)
			count_pages(lo, hi, sz, k - 1, count);
		else
			count[0] += (hi - lo) / sz[0];
		return;
	}
	count[k] += (b - a) / sz[k];
	count_pages(lo, a, sz, k - 1, count);
	count_pages(b, hi, sz, k - 1, count);
}

static void print_counts(const char *what, const unsigned long long *sz,
			 const unsigned long long *count, int nr)
{
	unsigned long long all = 0;
	int k;

	printf("%s:", what);
	for (k = nr - 1; k >= 0; k--) {
		printf(" %s %llu,", size_name(sz[k]), count[k]);
		all += count[k];
	}
	printf(" %llu in all\n", all);
}

/*
 * The regions VFIO or iommufd enforce, widened to whole 4 KiB pages, sorted
 * and merged; returns how many, in a malloc()ed @out.
 */
static int reserved_spans(const struct group *g, struct range **out)
{
	struct range *sp = xrealloc(NULL, g->nr_regions, sizeof(*sp));
	int i, n = 0, m = 0;

	for (i = 0; i < g->nr_regions; i++) {
		if (!enforced(&g->regions[i]))
			continue;
		sp[n].start = g->regions[i].start & ~(SZ_4K - 1);
		sp[n++].end = g->regions[i].end | (SZ_4K - 1);
	}
	qsort(sp, n, sizeof(*sp), cmp_range);
	for (i = 0; i < n; i++) {
		if (m && sp[i].start <= sp[m - 1].end + 1 && sp[m - 1].end != ~0ULL) {
			if (sp[i].end > sp[m - 1].end)
				sp[m - 1].end = sp[i].end;
		} else if (!m || sp[m - 1].end != ~0ULL) {
			sp[m++] = sp[i];
		}
	}
	*out = sp;
	return m;
}

/* A usable extent [@lo, @hi): print it and count its pages */
static void print_usable(unsigned __int128 lo, unsigned __int128 hi,
			 const unsigned long long *sz, int nr,
			 unsigned long long *count)
{
	printf("usable 0x%016llx-0x%016llx\n", (unsigned long long)lo,
	       (unsigned long long)(hi - 1));
	count_pages(lo, hi, sz, nr - 1, count);
}

/*
 * Blocks of size @z, aligned and inside @g, that @r covers a part of only
 * (0, 1 or 2): a page of that size cannot map them.
 */
static int split_blocks(const struct range *g, const struct region *r, unsigned long long z)
{
	unsigned __int128 lo = ((unsigned __int128)g->start + z - 1) / z * z;
	unsigned __int128 hi = ((unsigned __int128)g->end + 1) / z * z;	/* exclusive */
	unsigned __int128 first = r->start / z * z, last = r->end / z * z;
	int n = 0;

	if (hi <= lo)
		return 0;
	if ((r->start % z) && first >= lo && first < hi)
		n++;
	if ((((unsigned __int128)r->end + 1) % z) && last >= lo && last < hi &&
	    (last != first || !(r->start % z)))
		n++;
	return n;
}

/*
 * What a group's reserved regions cost a guest laid out as @rg: the usable
 * extents, the IOVA-aligned mappings of each page size a VMM could use, with
 * and without the regions, and the regions that split large pages.
 */
static int do_holes(int argc, char **argv)
{
	unsigned long long sz[3], with[3] = { 0 }, without[3] = { 0 };
	struct range *rg, *sp;
	const char *how;
	struct group g;
	int i, k, z, nr, nsz, nsp;

	read_group(parse_layout("holes", argc, argv, &rg, &nr), &g);
	nsz = page_sizes(&g, sz, &how);
	printf("page sizes:");
	for (k = 0; k < nsz; k++)
		printf(" %s", size_name(sz[k]));
	printf(" (%s)\n", how);
	nsp = reserved_spans(&g, &sp);
	for (i = 0; i < nr; i++) {
		/* Whole 4 KiB pages of the range, [pos, end), less the spans */
		unsigned __int128 pos = ((unsigned __int128)rg[i].start + SZ_4K - 1) /
					 SZ_4K * SZ_4K;
		unsigned __int128 end = ((unsigned __int128)rg[i].end + 1) / SZ_4K * SZ_4K;

		if (pos >= end)
			continue;
		count_pages(pos, end, sz, nsz - 1, without);
		for (k = 0; k < nsp && pos < end; k++) {
			if ((unsigned __int128)sp[k].end + 1 <= pos)
				continue;
			if (sp[k].start >= end)
				break;
			if (sp[k].start > pos)
				print_usable(pos, sp[k].start, sz, nsz, with);
			pos = (unsigned __int128)sp[k].end + 1;
		}
		if (pos < end)
			print_usable(pos, end, sz, nsz, with);
	}
	free(sp);
	print_counts("mappings", sz, with, nsz);
	print_counts("without reserved regions", sz, without, nsz);
	for (z = nsz - 1; z > 0; z--) {
		for (k = 0; k < g.nr_regions; k++) {
			const struct region *r = &g.regions[k];
			int split = 0;

			if (!enforced(r))
				continue;
			for (i = 0; i < nr; i++)
				split += split_blocks(&rg[i], r, sz[z]);
			if (!split)
				continue;
			printf("breaks %s alignment: 0x%016llx-0x%016llx %s of %s, ",
			       size_name(sz[z]), r->start, r->end, r->type, r->dev);
			printf("owner %s %s (%d %s page%s split)\n", r->owner_type,
			       r->owner, split, size_name(sz[z]), split == 1 ? "" : "s");
		}
	}
	free_group(&g);
	free(rg);
	return EXIT_SUCCESS;
}

#define LAYOUT_USAGE "(--device NAME | --group N)\n" \
	"                  (--ranges START-END[,START-END...] | --qmp SOCKET | --mtree FILE|-)"

/*
 * The commands: cmd_select() runs them and --help describes them from this
 * one table; each handler parses the options after the command's name.
 */
static const struct cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;		/* its arguments, in --help's synopsis */
	const char *help;		/* what it does, in --help */
} cmds[] = {
	{ "list", do_list, "[--json]",
	  "every IOMMU group: its devices (name, vendor:device, driver) and its\n"
	  "       reserved regions (type, device, owner; owners \"unknown\" on kernels\n"
	  "       without reserved_regions_detail)" },
	{ "check", do_check, LAYOUT_USAGE,
	  "which of the IOVA ranges (inclusive; hex with 0x, or decimal) overlap\n"
	  "       a reserved region that VFIO and iommufd enforce for the group (all\n"
	  "       but direct-relaxable ones; PCI windows are warnings where their\n"
	  "       enforce_pci_windows module parameter is off); exit 0: none,\n"
	  "       1: conflicts, 2: error" },
	{ "holes", do_holes, LAYOUT_USAGE,
	  "what the regions cost a guest with that layout: its usable\n"
	  "       extents, how many IOVA-aligned 4K, 2M and 1G mappings a VMM could use,\n"
	  "       against the count with no reserved regions, and the regions that\n"
	  "       split 1G or 2M pages, with their owners" },
	{ "query", do_query, "--device NAME [--json]",
	  "what iommufd reports for a device bound to vfio-pci that no one\n"
	  "       holds (IOMMU_GET_RESV_REGIONS, before attach): one line per region\n"
	  "       as reserved_regions_detail has them, then \"enforced\" or\n"
	  "       \"not-enforced\" by an attach" },
};

static void print_help(FILE *f)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		fprintf(f, "%s iommu-resv [--sysfs DIR] %s %s\n", i ? "      " : "usage:",
			cmds[i].name, cmds[i].usage);
	fputc('\n', f);
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		fprintf(f, "%-6s %s\n", cmds[i].name, cmds[i].help);
	fputs("--qmp SOCKET  check the guest memory a running QEMU would map for a\n"
	      "       vfio-pci device (its ram, rom and ram-device sections, from\n"
	      "       \"info mtree -f\" over the QMP UNIX socket SOCKET): would\n"
	      "       device_add vfio-pci,host=NAME be refused?\n"
	      "--mtree FILE  the same from saved \"info mtree -f\" output (- for stdin)\n"
	      "--sysfs DIR  read DIR instead of /sys\n", f);
}

/* Run the command named at argv[optind] */
static int cmd_select(int argc, char **argv)
{
	const char *name = argv[optind++];
	struct args a;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(name, cmds[i].name))
			return cmds[i].run(argc, argv);
	/* An unknown command's options are parsed all the same: theirs is the first error */
	parse_args(argc, argv, false, &a);
	fail("unknown command '%s' (list, check, holes or query; --help for usage)", name);
}

int main(int argc, char **argv)
{
	struct args a;

	parse_args(argc, argv, true, &a);
	if (optind >= argc) {
		print_help(stderr);
		return EXIT_ERROR;
	}
	return cmd_select(argc, argv);
}
