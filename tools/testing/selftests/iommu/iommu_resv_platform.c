// SPDX-License-Identifier: GPL-2.0-only
/*
 * Platform (non-PCI) devices described by a device tree, with no driver
 * bound: each has its IOMMU group, and its group reports the IOVA ranges the
 * firmware reserves for it ("memory-region" nodes with "iommu-addresses", see
 * Documentation/devicetree/bindings/reserved-memory/reserved-memory.yaml)
 * with the reserved-memory node as owner, next to the IOMMU's MSI window.
 * Bound to vfio-platform, type1 and iommufd enforce exactly that list; a
 * device that firmware asks to keep identity-mapped cannot be given to
 * userspace at all.
 *
 * The expected regions are read from the device tree itself
 * (/sys/firmware/devicetree), not from the kernel's parse of it. Uses every
 * platform device whose node has both "iommus" and "memory-region"; the
 * harness's arm64 DT boot adds two and sets RESV_DT_PLATFORM=1, which turns
 * their absence into a failure.
 */
#include <arpa/inet.h>
#include "iommu_resv_utils.h"
#include "../kselftest_harness.h"

#define MAX_PLAT	8
#define DT_BASE		"/sys/firmware/devicetree/base"

/*
 * A property of DT node directory @node as big-endian cells: their count,
 * -E2BIG if there are more than @max, or -errno.
 */
static int dt_cells(const char *node, const char *prop, uint32_t *cell, int max)
{
	char path[PATH_MAX + 64];
	uint32_t raw[65];
	int fd, i;
	ssize_t n;

	if (max > 64)
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%s", node, prop);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, raw, (max + 1) * sizeof(*raw));
	close(fd);
	if (n < 0)
		return -errno;
	if (n % 4)
		return -EBADMSG;
	if (n / 4 > max)
		return -E2BIG;
	for (i = 0; i < n / 4; i++)
		cell[i] = ntohl(raw[i]);
	return n / 4;
}

/* A one-cell property, or @def when the node does not have it. */
static uint32_t dt_u32(const char *node, const char *prop, uint32_t def)
{
	uint32_t v;

	return dt_cells(node, prop, &v, 1) == 1 ? v : def;
}

/* A number of @n cells (at most two) from @cell. */
static uint64_t dt_number(const uint32_t *cell, int n)
{
	return n == 2 ? (uint64_t)cell[0] << 32 | cell[1] : cell[0];
}

/* The node under /reserved-memory whose phandle is @ph, into @node. */
static int dt_find_reserved(uint32_t ph, char *node, size_t size)
{
	DIR *d = opendir(DT_BASE "/reserved-memory");
	struct dirent *e;
	int ret = -ENOENT;

	if (!d)
		return -errno;
	while ((e = readdir(d)) && ret) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(node, size, DT_BASE "/reserved-memory/%s", e->d_name);
		if (dt_u32(node, "phandle", 0) == ph)
			ret = 0;
	}
	closedir(d);
	return ret;
}

/* reserved_regions_detail's type names, in the kernel's type order */
static int type_rank(const char *type)
{
	static const char * const order[] = {
		"direct", "direct-relaxable", "reserved", "msi", "sw-msi",
	};
	unsigned int i;

	if (resv_is_pci_kind(type))
		return 2;	/* a kind of reserved */
	for (i = 0; i < ARRAY_SIZE(order); i++)
		if (!strcmp(type, order[i]))
			return i;
	return -1;
}

/* Detail lines in file order: start, end, type, then owner. */
static int cmp_detail(const void *a, const void *b)
{
	const struct resv_detail *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	if (strcmp(x->type, y->type))
		return type_rank(x->type) - type_rank(y->type);
	return strcmp(x->owner, y->owner);
}

/* Do [b.start, b.end] and [a.start, a.end] overlap or touch? (a first) */
static bool joins(const struct resv_detail *a, const struct resv_detail *b)
{
	return b->start <= a->end || b->start - 1 == a->end;
}

/*
 * Merge sorted lines as the detail file does: one device's ranges of one
 * type and owner that overlap or touch. Returns the new count.
 */
static int merge_detail(struct resv_detail *d, int n)
{
	int i, out = 0;

	for (i = 0; i < n; i++) {
		int k;

		for (k = 0; k < out; k++)
			if (!strcmp(d[k].dev, d[i].dev) && !strcmp(d[k].type, d[i].type) &&
			    !strcmp(d[k].owner, d[i].owner) && joins(&d[k], &d[i]))
				break;
		if (k < out) {
			if (d[i].end > d[k].end)
				d[k].end = d[i].end;
			continue;
		}
		d[out++] = d[i];
	}
	qsort(d, out, sizeof(*d), cmp_detail);
	return out;
}

/*
 * The same lines as reserved_regions reads them: ranges of one type merge
 * whoever owns them, the PCI kinds count as reserved, msi and sw-msi stay
 * apart and both read "msi". Returns the count.
 */
static int legacy_of(const struct resv_detail *d, int n, struct resv_region *r)
{
	static const char * const legacy[] = {
		"direct", "direct-relaxable", "reserved", "msi", "msi",
	};
	int rank[RESV_MAX], i, k, out = 0;

	for (i = 0; i < n; i++) {
		int t = type_rank(d[i].type);

		for (k = 0; k < out; k++)
			if (rank[k] == t && (d[i].start <= r[k].end || d[i].start - 1 == r[k].end))
				break;
		if (k < out) {
			if (d[i].end > r[k].end)
				r[k].end = d[i].end;
			continue;
		}
		rank[out] = t;
		r[out].start = d[i].start;
		r[out].end = d[i].end;
		snprintf(r[out].type, sizeof(r[out].type), "%s", t < 0 ? "?" : legacy[t]);
		out++;
	}
	return out;	/* d is sorted by start: so are the merged spans */
}

/*
 * What the binding says a device's group reports for it: one line per
 * "iommu-addresses" entry naming the device in each of its "memory-region"
 * nodes (direct where the node's "reg" is that same range, else reserved),
 * and the software MSI window of its IOMMU, merged and sorted as the detail
 * file is. Entries of other devices in the same property are stepped over.
 * Only devices at the root of the tree, whose entries all use the root's
 * cell counts, are supported.
 */
static int dt_expected(const char *dev, struct resv_detail *want, int max)
{
	char self[PATH_MAX], node[PATH_MAX], link[PATH_MAX], iommu[PATH_MAX];
	uint32_t regions[16], prop[64], me;
	int n = 0, i, j, nr, np, na, ns, rna, rns;

	snprintf(link, sizeof(link), RESV_PLATFORM_DIR "/%s/of_node", dev);
	if (!realpath(link, self))
		return -errno;
	/* A child of the root: "DT_BASE/name" */
	if (strncmp(self, DT_BASE "/", strlen(DT_BASE) + 1) ||
	    strchr(self + strlen(DT_BASE) + 1, '/'))
		return -EOPNOTSUPP;
	/* Its IOMMU, or "" before it has one (ungrouped: the tests say so) */
	snprintf(link, sizeof(link), RESV_PLATFORM_DIR "/%s/iommu", dev);
	if (!realpath(link, iommu))
		iommu[0] = '\0';
	me = dt_u32(self, "phandle", 0);
	na = dt_u32(DT_BASE, "#address-cells", 0);
	ns = dt_u32(DT_BASE, "#size-cells", 0);
	rna = dt_u32(DT_BASE "/reserved-memory", "#address-cells", 0);
	rns = dt_u32(DT_BASE "/reserved-memory", "#size-cells", 0);
	if (!na || !ns || !rna || !rns || na > 2 || ns > 2 || rna > 2 || rns > 2)
		return -EOPNOTSUPP;
	nr = dt_cells(self, "memory-region", regions, ARRAY_SIZE(regions));
	if (nr < 0)
		return nr;
	for (i = 0; i < nr; i++) {
		uint64_t phys = 0, phys_len = 0;
		int ret;

		if (dt_find_reserved(regions[i], node, sizeof(node)))
			return -ENOENT;
		ret = dt_cells(node, "reg", prop, ARRAY_SIZE(prop));
		if (ret >= rna + rns) {
			phys = dt_number(prop, rna);
			phys_len = dt_number(prop + rna, rns);
		} else if (ret != -ENOENT) {
			return ret < 0 ? ret : -EBADMSG;
		}
		np = dt_cells(node, "iommu-addresses", prop, ARRAY_SIZE(prop));
		if (np == -ENOENT)
			continue;
		if (np < 0 || np % (1 + na + ns))
			return np < 0 ? np : -EBADMSG;
		for (j = 0; j < np; j += 1 + na + ns) {
			uint64_t iova = dt_number(prop + j + 1, na);
			uint64_t len = dt_number(prop + j + 1 + na, ns);

			if (prop[j] != me || !len)
				continue;
			if (n == max)
				return -E2BIG;
			want[n] = (struct resv_detail) { .start = iova, .end = iova + len - 1 };
			snprintf(want[n].type, sizeof(want[n].type), "%s",
				 phys_len && phys == iova && phys_len == len ?
				 "direct" : "reserved");
			snprintf(want[n].dev, sizeof(want[n].dev), "%s", dev);
			snprintf(want[n].owner_type, sizeof(want[n].owner_type), "firmware");
			snprintf(want[n].owner, sizeof(want[n].owner), "%.255s",
				 node + strlen(DT_BASE));
			n++;
		}
	}
	if (n == max)
		return -E2BIG;
	want[n] = (struct resv_detail) { .start = RESV_MSI_START, .end = RESV_MSI_END };
	snprintf(want[n].type, sizeof(want[n].type), "sw-msi");
	snprintf(want[n].dev, sizeof(want[n].dev), "%s", dev);
	snprintf(want[n].owner_type, sizeof(want[n].owner_type), "iommu");
	snprintf(want[n].owner, sizeof(want[n].owner), "%.255s", iommu);
	n++;
	qsort(want, n, sizeof(*want), cmp_detail);
	return merge_detail(want, n);
}

/* Does the DT node of platform device @dev have "iommus" and "memory-region"? */
static bool dt_reserves(const char *dev)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), RESV_PLATFORM_DIR "/%.64s/of_node/iommus", dev);
	if (access(path, F_OK))
		return false;
	snprintf(path, sizeof(path), RESV_PLATFORM_DIR "/%.64s/of_node/memory-region", dev);
	return !access(path, F_OK);
}

/* Platform devices whose DT node has "iommus" and "memory-region". */
static int find_platform(char name[][64], int max)
{
	struct resv_names l = { .out = name, .width = 64, .max = max, .keep = dt_reserves };
	int ret = resv_walk_dir(RESV_PLATFORM_DIR, resv_add_name, &l);

	return ret < 0 ? ret : l.n;
}

static bool has_driver(const char *dev)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), RESV_PLATFORM_DIR "/%.64s/driver", dev);
	return access(path, F_OK) == 0;
}

FIXTURE(platform) {
	char dev[MAX_PLAT][64];
	struct resv_detail want[MAX_PLAT][32];
	int nwant[MAX_PLAT];
	int nr;
	int kmsg;
};

FIXTURE_SETUP(platform)
{
	int i;

	self->nr = find_platform(self->dev, MAX_PLAT);
	if (self->nr <= 0 && !getenv("RESV_DT_PLATFORM"))
		SKIP(return, "no DT platform device with \"iommus\" and \"memory-region\"");
	ASSERT_LT(0, self->nr) TH_LOG("RESV_DT_PLATFORM is set, yet no such device");
	for (i = 0; i < self->nr; i++) {
		self->nwant[i] = dt_expected(self->dev[i], self->want[i], 32);
		ASSERT_LT(0, self->nwant[i]) TH_LOG("%s: cannot read its DT: %s", self->dev[i],
						    strerror(-self->nwant[i]));
	}
	self->kmsg = resv_kmsg_open();
	ASSERT_LE(0, self->kmsg);
}

FIXTURE_TEARDOWN(platform)
{
	close(self->kmsg);
}

/* Found at add, without a driver: each device has a group of its own. */
TEST_F(platform, grouped_without_driver)
{
	int i, unbound = 0;

	for (i = 0; i < self->nr; i++) {
		int group = resv_device_group(self->dev[i]);

		unbound += !has_driver(self->dev[i]);
		EXPECT_LE(0, group) TH_LOG("%s (%s driver) has no IOMMU group", self->dev[i],
					   has_driver(self->dev[i]) ? "with" : "no");
	}
	if (getenv("RESV_DT_PLATFORM"))
		EXPECT_EQ(self->nr, unbound) TH_LOG("the test devices have no driver");
}

/* The detail lines of each device are what its DT node asks for. */
TEST_F(platform, detail_from_device_tree)
{
	static struct resv_detail d[RESV_MAX];
	int i, j, k, nd, group;

	for (i = 0; i < self->nr; i++) {
		group = resv_device_group(self->dev[i]);
		ASSERT_LE(0, group);
		nd = resv_read_detail(group, d, RESV_MAX);
		ASSERT_LE(0, nd);
		for (j = 0, k = 0; j < nd; j++) {
			const struct resv_detail *w = &self->want[i][k];

			if (strcmp(d[j].dev, self->dev[i]))
				continue;
			if (k == self->nwant[i]) {
				EXPECT_TRUE(false) TH_LOG("%s: unexpected line 0x%llx-0x%llx %s %s",
							  self->dev[i],
							  (unsigned long long)d[j].start,
							  (unsigned long long)d[j].end, d[j].type,
							  d[j].owner);
				continue;
			}
			EXPECT_EQ(w->start, d[j].start);
			EXPECT_EQ(w->end, d[j].end);
			EXPECT_STREQ(w->type, d[j].type);
			EXPECT_STREQ(w->owner_type, d[j].owner_type);
			EXPECT_STREQ(w->owner, d[j].owner);
			k++;
		}
		EXPECT_EQ(self->nwant[i], k)
			TH_LOG("%s: %d of %d expected lines", self->dev[i], k, self->nwant[i]);
	}
}

/* reserved_regions reads as before the series: sw-msi is "msi" there. */
TEST_F(platform, legacy_file)
{
	struct resv_region r[RESV_MAX], want[RESV_MAX];
	int i, j, n, nw, group, checked = 0;

	for (i = 0; i < self->nr; i++) {
		group = resv_device_group(self->dev[i]);
		ASSERT_LE(0, group);
		if (resv_group_size(group) != 1)
			continue;	/* the expectation is one device's */
		nw = legacy_of(self->want[i], self->nwant[i], want);
		n = resv_read_group(group, r, RESV_MAX);
		ASSERT_EQ(nw, n) TH_LOG("%s: %d lines", self->dev[i], n);
		for (j = 0; j < n; j++) {
			EXPECT_EQ(want[j].start, r[j].start);
			EXPECT_EQ(want[j].end, r[j].end);
			EXPECT_STREQ(want[j].type, r[j].type);
		}
		checked++;
	}
	if (getenv("RESV_DT_PLATFORM"))
		EXPECT_EQ(self->nr, checked) TH_LOG("a test device shares its group");
}

/*
 * Reading the files is unprivileged: a reservation the kernel can only treat
 * as reserved (its "reg" is elsewhere) is warned about once, not at every
 * read, or any user could flood the log.
 */
TEST_F(platform, reads_do_not_log)
{
	char rec[2048], path[PATH_MAX];
	int i, k, logged;
	ssize_t len;

	for (i = 0; i < self->nr; i++) {
		char prefix[80];
		int group = resv_device_group(self->dev[i]);

		ASSERT_LE(0, group);
		snprintf(prefix, sizeof(prefix), " %s: ", self->dev[i]);
		resv_kmsg_skip(self->kmsg);
		for (k = 0; k < 16; k++) {
			ASSERT_EQ(0, resv_regather());	/* each read parses the DT again */
			snprintf(path, sizeof(path), RESV_GROUPS_DIR "/%d/%s", group,
				 k % 2 ? "reserved_regions" : "reserved_regions_detail");
			ASSERT_LE(0, resv_read_file(path, rec, sizeof(rec)));
		}
		logged = 0;
		while ((len = read(self->kmsg, rec, sizeof(rec) - 1)) > 0) {
			rec[len] = '\0';
			logged += !!strstr(rec, prefix);
		}
		EXPECT_GE(1, logged) TH_LOG("%s: 16 reads logged %d lines about it",
					    self->dev[i], logged);
	}
}

/* vfio-platform, through type1 or iommufd */
FIXTURE(platform_vfio) {
	char dev[MAX_PLAT][64];
	struct resv_detail want[MAX_PLAT][32];
	int nwant[MAX_PLAT];
	int nr;
	int bound;	/* the first @bound devices are bound to vfio-platform */
	void *buf;
	long page;
	struct resv_be be;	/* what a test has open */
	int kmsg;
};

FIXTURE_VARIANT(platform_vfio) {
	bool iommufd;
};

FIXTURE_VARIANT_ADD(platform_vfio, type1) {
	.iommufd = false,
};

FIXTURE_VARIANT_ADD(platform_vfio, iommufd) {
	.iommufd = true,
};

/* Bind @dev to vfio-platform (@bind) or back to no driver; 0 or -errno. */
static int bind_vfio_platform(const char *dev, bool bind)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), RESV_PLATFORM_DIR "/%.64s/driver/unbind", dev);
	if (has_driver(dev)) {
		ret = resv_write_file(path, dev);
		if (ret)
			return ret;
	}
	snprintf(path, sizeof(path), RESV_PLATFORM_DIR "/%.64s/driver_override", dev);
	ret = resv_write_file(path, bind ? "vfio-platform" : "\n");
	if (ret || !bind)
		return ret;
	ret = resv_write_file("/sys/bus/platform/drivers_probe", dev);
	return ret ?: has_driver(dev) ? 0 : -ENODEV;
}

/* The devices of find_platform() that no driver holds: the tests take those only. */
static int find_unbound_platform(char name[][64], int max)
{
	int i, n = find_platform(name, max), out = 0;

	for (i = 0; i < n; i++)
		if (!has_driver(name[i]))
			memmove(name[out++], name[i], 64);
	return n < 0 ? n : out;
}

FIXTURE_SETUP(platform_vfio)
{
	int i, ret = 0;

	self->page = sysconf(_SC_PAGESIZE);
	self->nr = find_unbound_platform(self->dev, MAX_PLAT);
	if (self->nr <= 0 && !getenv("RESV_DT_PLATFORM"))
		SKIP(return, "no unbound DT platform device with \"iommus\" and \"memory-region\"");
	ASSERT_LT(0, self->nr) TH_LOG("RESV_DT_PLATFORM is set, yet no such device");
	if (access("/sys/bus/platform/drivers/vfio-platform", F_OK))
		SKIP(return, "no vfio-platform (CONFIG_VFIO_PLATFORM)");
	if (variant->iommufd && access("/dev/iommu", F_OK))
		SKIP(return, "no /dev/iommu");
	resv_be_init(&self->be, variant->iommufd);
	self->kmsg = resv_kmsg_open();
	ASSERT_LE(0, self->kmsg);
	self->buf = mmap(NULL, self->page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	for (i = 0; i < self->nr; i++) {
		self->nwant[i] = dt_expected(self->dev[i], self->want[i], 32);
		ASSERT_LT(0, self->nwant[i]) TH_LOG("%s: cannot read its DT: %s", self->dev[i],
						    strerror(-self->nwant[i]));
	}
	/* The teardown only runs after a whole setup: undo a partial bind here. */
	for (self->bound = 0; self->bound < self->nr && !ret; self->bound++)
		ret = bind_vfio_platform(self->dev[self->bound], true);
	if (ret) {
		for (i = 0; i < self->bound; i++)
			bind_vfio_platform(self->dev[i], false);
		self->bound = 0;
	}
	ASSERT_EQ(0, ret)
		TH_LOG("bind to vfio-platform failed: %s (vfio_platform.reset_required=0?)",
		       strerror(-ret));
}

FIXTURE_TEARDOWN(platform_vfio)
{
	int i;

	/* Before the unbind, which would wait for it */
	resv_be_close(&self->be);
	close(self->kmsg);
	for (i = 0; i < self->bound; i++)
		bind_vfio_platform(self->dev[i], false);
	if (self->buf && self->buf != MAP_FAILED)
		munmap(self->buf, self->page);
}

static bool wants_direct(const struct resv_detail *w, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(w[i].type, "direct"))
			return true;
	return false;
}

/*
 * The backend's usable ranges are the complement of the device's list, a
 * page at the start and at the end of each region is refused, and the page
 * before each region maps where that page is usable.
 */
TEST_F(platform_vfio, enforces_the_list)
{
	struct resv_range usable[RESV_MAX], got[RESV_MAX];
	struct resv_region r[RESV_MAX];
	int i, j, nu, ng, group, ret, checked = 0;

	for (i = 0; i < self->nr; i++) {
		struct resv_be *be = &self->be;

		group = resv_device_group(self->dev[i]);
		ASSERT_LE(0, group);
		if (wants_direct(self->want[i], self->nwant[i])) {
			const char * const why[] = { self->dev[i], "1:1 IOMMU mapping" };

			/* The core keeps such a device out of the blocking domain. */
			resv_kmsg_skip(self->kmsg);
			ret = resv_be_open(be, group, self->dev[i]);
			if (!ret)
				resv_be_close(be);	/* or unbinding it would wait */
			EXPECT_EQ(-EINVAL, ret)
				TH_LOG("%s: a device with a direct region given to userspace",
				       self->dev[i]);
			EXPECT_TRUE(resv_kmsg_has(self->kmsg, why, ARRAY_SIZE(why)))
				TH_LOG("%s: refused without the core's reason", self->dev[i]);
			continue;
		}
		for (j = 0; j < self->nwant[i]; j++) {
			r[j].start = self->want[i][j].start;
			r[j].end = self->want[i][j].end;
			snprintf(r[j].type, sizeof(r[j].type), "%s", self->want[i][j].type);
		}
		nu = resv_complement(r, self->nwant[i], 0, RESV_APERTURE_END, usable, RESV_MAX);
		ASSERT_LT(0, nu);
		ASSERT_EQ(0, resv_be_open(be, group, self->dev[i])) TH_LOG("%s", self->dev[i]);
		ng = resv_be_ranges(be, got, RESV_MAX);
		EXPECT_EQ(nu, ng);
		for (j = 0; j < nu && j < ng; j++) {
			EXPECT_EQ(usable[j].start, got[j].start);
			EXPECT_EQ(usable[j].end, got[j].end);
		}
		for (j = 0; j < self->nwant[i]; j++) {
			uint64_t before = r[j].start - self->page;

			EXPECT_EQ(-EINVAL, resv_be_map(be, self->buf, r[j].start, self->page));
			EXPECT_EQ(-EINVAL, resv_be_map(be, self->buf, r[j].end + 1 - self->page,
						       self->page));
			if (r[j].start < (uint64_t)self->page ||
			    !resv_usable(usable, nu, before, r[j].start - 1))
				continue;
			EXPECT_EQ(0, resv_be_map(be, self->buf, before, self->page));
			EXPECT_EQ(0, resv_be_unmap(be, before, self->page));
			checked++;
		}
		resv_be_close(be);
	}
	if (getenv("RESV_DT_PLATFORM"))
		EXPECT_LT(0, checked) TH_LOG("no region was checked through vfio-platform");
}

TEST_HARNESS_MAIN
