// SPDX-License-Identifier: GPL-2.0-only
/*
 * The PCI windows every group reports, against the rule of
 * Documentation/userspace-api/iommu-reserved-regions.rst computed here from
 * sysfs alone: bridge windows and BARs from each device's "resource" file,
 * ACS and port types from config space, host bridge windows from /proc/iomem.
 * Then VFIO: a page in a reported window cannot be mapped, a page in a window
 * the rule leaves reachable can.
 *
 * Assumes, as in QEMU, that CPU and bus addresses are the same, no ACS quirks
 * and no inbound dma-ranges (their gaps are covered by KUnit). Needs root
 * (config space past 64 bytes, addresses in /proc/iomem).
 */
#include <libgen.h>
#include "iommu_resv_utils.h"
#include "../kselftest_harness.h"

#define MAX_WIN		128

/* PCIe r6.0, 7.5.3.2 and 7.7.8: port types and ACS bits. */
#define EXP_TYPE_ENDPOINT	0x0
#define EXP_TYPE_LEG_END	0x1
#define EXP_TYPE_ROOT_PORT	0x4
#define EXP_TYPE_UPSTREAM	0x5
#define EXP_TYPE_DOWNSTREAM	0x6
#define EXP_TYPE_PCI_BRIDGE	0x7
#define EXP_TYPE_PCIE_BRIDGE	0x8
#define EXP_TYPE_RC_END		0x9
#define EXP_TYPE_RC_EC		0xa
#define ACS_SV	0x01
#define ACS_RR	0x04
#define ACS_CR	0x08
#define ACS_UF	0x10
/* include/linux/ioport.h */
#define RES_MEM		0x00000200ULL
#define RES_DISABLED	0x10000000ULL
#define RES_UNSET	0x20000000ULL

/* Whether the root complex routes peer requests before translation. */
#if defined(__aarch64__)
#define RC_ROUTES_PEERS	true	/* SMMUv3: after the root complex */
#else
#define RC_ROUTES_PEERS	false	/* VT-d: in the root complex */
#endif

struct win {
	uint64_t start, end;
	char kind[32];
	char owner[PATH_MAX];
};

struct dev {
	char path[PATH_MAX];
	unsigned char cfg[4096];
	int cfg_len;
};

static bool is_bdf(const char *name)
{
	unsigned int d, b, s, f;
	char end;

	return sscanf(name, "%4x:%2x:%2x.%1x%c", &d, &b, &s, &f, &end) == 4;
}

static int load_dev(struct dev *dev, const char *path)
{
	char cfg[PATH_MAX + 8];
	int fd;

	snprintf(dev->path, sizeof(dev->path), "%s", path);
	snprintf(cfg, sizeof(cfg), "%s/config", path);
	fd = open(cfg, O_RDONLY);
	if (fd < 0)
		return -errno;
	dev->cfg_len = read(fd, dev->cfg, sizeof(dev->cfg));
	close(fd);
	return dev->cfg_len < 64 ? -EIO : 0;
}

/* The bridge above @dev (the parent directory, if it is a PCI device). */
static bool parent_bridge(const struct dev *dev, struct dev *parent)
{
	char tmp[PATH_MAX];
	char *dir;

	snprintf(tmp, sizeof(tmp), "%s", dev->path);
	dir = dirname(tmp);
	if (!is_bdf(basename(strdupa(dir))))
		return false;
	return load_dev(parent, dir) == 0;
}

static unsigned int cfg16(const struct dev *d, int off)
{
	return off + 1 < d->cfg_len ? d->cfg[off] | d->cfg[off + 1] << 8 : 0;
}

static uint32_t cfg32(const struct dev *d, int off)
{
	return cfg16(d, off) | (uint32_t)cfg16(d, off + 2) << 16;
}

/* PCIe device/port type, or -1 for conventional PCI. */
static int pcie_type(const struct dev *d)
{
	int pos, ttl = 48;

	if (!(cfg16(d, 0x06) & 0x10))		/* Capabilities List */
		return -1;
	for (pos = d->cfg[0x34] & ~3; pos && ttl--; pos = d->cfg[pos + 1] & ~3)
		if (d->cfg[pos] == 0x10)	/* PCI Express */
			return (d->cfg[pos + 2] >> 4) & 0xf;
	return -1;
}

/*
 * Function 0 says whether the device has more functions (Header Type bit 7);
 * any other function belongs to a multifunction device by being there.
 */
static bool multifunction(const struct dev *d)
{
	const char *name = strrchr(d->path, '/') + 1;

	return d->cfg[0x0e] & 0x80 || name[strlen(name) - 1] != '0';
}

/* Where @d's ACS capability is in its config space, or 0 */
static int acs_pos(const struct dev *d)
{
	int pos = 0x100, ttl = 512;
	uint32_t hdr;

	while (pos && pos + 8 <= d->cfg_len && ttl--) {
		hdr = cfg32(d, pos);
		if ((hdr & 0xffff) == 0x000d)	/* ACS */
			return pos;
		pos = hdr >> 20;
	}
	return 0;
}

/*
 * ACS controls @flags enabled. A control missing from the capability
 * register is hard-wired: the function behaves as if it were enabled
 * (PCIe r6.0, 6.12.1).
 */
static bool acs_flags_enabled(const struct dev *d, unsigned int flags)
{
	int pos = acs_pos(d);
	unsigned int need = pos ? flags & cfg16(d, pos + 4) : 0;

	return pos && (cfg16(d, pos + 6) & need) == need;
}

/* Whether @d isolates with @flags, per PCIe r6.0, 6.12.1 for its type. */
static bool acs_enabled(const struct dev *d, unsigned int flags)
{
	switch (pcie_type(d)) {
	case -1:			/* conventional PCI: a shared bus */
	case EXP_TYPE_PCI_BRIDGE:
	case EXP_TYPE_PCIE_BRIDGE:
	case EXP_TYPE_RC_EC:
		return false;
	case EXP_TYPE_ROOT_PORT:
	case EXP_TYPE_DOWNSTREAM:
		return acs_flags_enabled(d, flags);
	case EXP_TYPE_ENDPOINT:
	case EXP_TYPE_LEG_END:
	case EXP_TYPE_UPSTREAM:
	case EXP_TYPE_RC_END:
		/* Applies only within a multifunction device */
		return !multifunction(d) || acs_flags_enabled(d, flags);
	}
	return true;
}

static bool is_downstream_port(const struct dev *d)
{
	return pcie_type(d) == EXP_TYPE_ROOT_PORT || pcie_type(d) == EXP_TYPE_DOWNSTREAM;
}

static void add_win(struct win *w, int *n, uint64_t start, uint64_t end,
		    const char *kind, const char *owner)
{
	if (*n == MAX_WIN)
		return;
	w[*n].start = start;
	w[*n].end = end;
	snprintf(w[*n].kind, sizeof(w[*n].kind), "%s", kind);
	snprintf(w[*n].owner, sizeof(w[*n].owner), "%s", owner);
	(*n)++;
}

/* Assigned memory BARs (and, for a bridge, windows) of @d. */
static void add_resources(const struct dev *d, bool bars, bool windows, const char *kind,
			  struct win *w, int *n)
{
	unsigned long long start[32], end[32], flags[32];
	char path[PATH_MAX + 16], buf[4096], *line, *save;
	int i, lines = 0;

	snprintf(path, sizeof(path), "%s/resource", d->path);
	if (resv_read_file(path, buf, sizeof(buf)) < 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line && lines < 32;
	     line = strtok_r(NULL, "\n", &save), lines++)
		if (sscanf(line, "%llx %llx %llx", &start[lines], &end[lines], &flags[lines]) != 3)
			return;
	for (i = 0; i < lines; i++) {
		/* 6 BARs, the ROM, [SR-IOV BARs], and a bridge's 4 windows last */
		bool is_window = lines > 7 && i >= lines - 4;

		if (!((bars && i < 6) || (windows && is_window)))
			continue;
		if (!(flags[i] & RES_MEM) || flags[i] & (RES_UNSET | RES_DISABLED) ||
		    end[i] <= start[i])
			continue;
		add_win(w, n, start[i], end[i], kind, d->path);
	}
}

/* Other functions of @d's device, if @d reaches them without ACS. */
static void add_function_peers(const struct dev *d, struct win *w, int *n, int *isolated)
{
	char tmp[PATH_MAX], *dir, *me;
	unsigned int dom, bus, slot, fn;
	struct dirent *e;
	DIR *dp;

	if (!multifunction(d))
		return;
	if (acs_enabled(d, ACS_RR | ACS_CR)) {
		(*isolated)++;
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s", d->path);
	me = strdupa(basename(tmp));
	dir = dirname(tmp);
	if (sscanf(me, "%x:%x:%x.%x", &dom, &bus, &slot, &fn) != 4)
		return;
	dp = opendir(dir);
	if (!dp)
		return;
	while ((e = readdir(dp))) {
		unsigned int d2, b2, s2, f2;
		struct dev peer;

		if (!is_bdf(e->d_name) || !strcmp(e->d_name, me) ||
		    sscanf(e->d_name, "%x:%x:%x.%x", &d2, &b2, &s2, &f2) != 4 ||
		    d2 != dom || b2 != bus || s2 != slot)
			continue;
		if (snprintf(peer.path, sizeof(peer.path), "%s/%s", dir, e->d_name) >=
		    (int)sizeof(peer.path))
			continue;
		add_resources(&peer, true, true, "peer-bar", w, n);
	}
	closedir(dp);
}

/*
 * Windows of the host bridge at @host (".../pciDDDD:BB"): the top-level
 * /proc/iomem entries named for its root bus, or holding a bus below it.
 */
static void add_host_windows(const char *host, struct win *w, int *n)
{
	char line[512], name[256], root[64], bus_link[PATH_MAX], bus_path[PATH_MAX];
	unsigned long long s, e, top_s = 0, top_e = 0;
	bool top_taken = false;
	char top_name[256] = "";
	FILE *f;

	snprintf(root, sizeof(root), "PCI Bus %s", strrchr(host, '/') + 4);
	f = fopen("/proc/iomem", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		int depth = strspn(line, " ") / 2;

		if (sscanf(line, " %llx-%llx : %255[^\n]", &s, &e, name) != 3)
			continue;
		if (depth == 0) {
			top_s = s;
			top_e = e;
			snprintf(top_name, sizeof(top_name), "%s", name);
			top_taken = !strcmp(name, root);
			if (top_taken)
				add_win(w, n, s, e, "host-window", host);
			continue;
		}
		if (depth != 1 || top_taken || strncmp(name, "PCI Bus ", 8))
			continue;
		/* A bus below @host? */
		snprintf(bus_link, sizeof(bus_link), "/sys/class/pci_bus/%s", name + 8);
		if (!realpath(bus_link, bus_path) ||
		    strncmp(bus_path, host, strlen(host)) || bus_path[strlen(host)] != '/')
			continue;
		add_win(w, n, top_s, top_e, "host-window", host);
		top_taken = true;
	}
	fclose(f);
}

struct rule_stats {
	int devices;
	int above_parent;	/* windows above the first bridge, reported */
	int redirected_past;	/* bridges above the first, not reported thanks to ACS */
	int peers;
	int peers_isolated;	/* multifunction devices isolated by ACS */
	int host;
	int host_redirected;
};

/* Everything the rule says the group of @d reports for @d. */
static int expected(const char *path, struct win *w, struct rule_stats *st)
{
	struct dev *d = calloc(3, sizeof(*d));
	struct dev *cur = &d[0], *below, *bridge;
	bool redirected = false;
	int n = 0, before;

	if (!d || load_dev(cur, path)) {
		free(d);
		return -1;
	}
	before = n;
	add_function_peers(cur, w, &n, &st->peers_isolated);
	st->peers += n - before;

	below = cur;
	bridge = &d[1];
	while (parent_bridge(below, bridge)) {
		bool first = below == cur;
		bool fwd = pcie_type(bridge) == EXP_TYPE_UPSTREAM ||
			   (is_downstream_port(bridge) && acs_enabled(bridge, ACS_UF));

		if (first || !redirected || !fwd) {
			before = n;
			add_resources(bridge, false, true, "bridge-window", w, &n);
			if (!first)
				st->above_parent += n - before;
		} else {
			st->redirected_past++;
		}
		if (is_downstream_port(bridge))
			redirected = acs_enabled(bridge, ACS_RR | ACS_CR);
		else if (pcie_type(bridge) != EXP_TYPE_UPSTREAM)
			redirected = false;
		/* Keep the current device in d[0]; rotate the other two slots. */
		below = bridge;
		bridge = below == &d[1] ? &d[2] : &d[1];
	}
	if (below != cur) {
		before = n;
		add_function_peers(below, w, &n, &st->peers_isolated);
		st->peers += n - before;
	}
	if (RC_ROUTES_PEERS) {
		if (below != cur && is_downstream_port(below) && redirected) {
			st->host_redirected++;
		} else {
			char tmp[PATH_MAX];

			snprintf(tmp, sizeof(tmp), "%s", below->path);
			before = n;
			add_host_windows(dirname(tmp), w, &n);
			st->host += n - before;
		}
	}
	st->devices++;
	free(d);
	return n;
}

static int cmp_win(const void *pa, const void *pb)
{
	const struct win *a = pa, *b = pb;
	int r = strcmp(a->kind, b->kind);

	if (r)
		return r;
	r = strcmp(a->owner, b->owner);
	if (r)
		return r;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return a->end < b->end ? -1 : a->end > b->end;
}

/* Merge ranges of one kind and owner that overlap or touch; sort. */
static int normalise(struct win *w, int n)
{
	int i, m = 0;

	qsort(w, n, sizeof(*w), cmp_win);
	for (i = 0; i < n; i++) {
		if (m && !strcmp(w[m - 1].kind, w[i].kind) &&
		    !strcmp(w[m - 1].owner, w[i].owner) && w[i].start <= w[m - 1].end + 1) {
			if (w[i].end > w[m - 1].end)
				w[m - 1].end = w[i].end;
			continue;
		}
		w[m++] = w[i];
	}
	return m;
}

static void show_win(char *buf, size_t size, const struct win *w)
{
	if (!w)
		snprintf(buf, size, "nothing");
	else
		snprintf(buf, size, "0x%llx-0x%llx %s %s", (unsigned long long)w->start,
			 (unsigned long long)w->end, w->kind, w->owner);
}

/* What the group reports for device @bdf, PCI kinds only. */
static int reported(int group, const char *bdf, struct win *w)
{
	static struct resv_detail d[RESV_MAX];
	int i, n = 0, nd = resv_read_detail(group, d, RESV_MAX);

	for (i = 0; i < nd; i++)
		if (!strcmp(d[i].dev, bdf) && resv_is_pci_kind(d[i].type))
			add_win(w, &n, d[i].start, d[i].end, d[i].type, d[i].owner);
	return nd < 0 ? nd : n;
}

/* The groups, windows the rule gives and windows found, and a page to map */
FIXTURE(pci) {
	int groups[RESV_MAX_GROUPS];
	int nr;
	struct win *want, *got;
	void *buf;
	long page;
	struct resv_be be;	/* the container a test has open */
};

FIXTURE_SETUP(pci)
{
	self->nr = resv_list_groups(self->groups, RESV_MAX_GROUPS);
	if (self->nr <= 0)
		SKIP(return, "no IOMMU groups");
	RESV_SKIP_UNLESS(return, RESV_NEED_DETAIL);
	resv_be_init(&self->be, false);
	self->page = sysconf(_SC_PAGESIZE);
	self->want = calloc(MAX_WIN, sizeof(*self->want));
	self->got = calloc(MAX_WIN, sizeof(*self->got));
	ASSERT_NE(NULL, self->want);
	ASSERT_NE(NULL, self->got);
	self->buf = mmap(NULL, self->page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
}

FIXTURE_TEARDOWN(pci)
{
	resv_be_close(&self->be);
	if (self->buf != MAP_FAILED)
		munmap(self->buf, self->page);
	free(self->want);
	free(self->got);
}

/*
 * For every PCI device of every group, the reported PCI windows equal the
 * rule's, range for range, kind for kind, owner for owner. The topology must
 * exercise the rule both ways, or the test fails rather than pass vacuously.
 */
TEST_F(pci, windows_follow_the_rule)
{
	struct win *want = self->want, *got = self->got;
	struct rule_stats st = {};
	int g, i, nw, ng;

	for (g = 0; g < self->nr; g++) {
		char dir[PATH_MAX];
		struct dirent *e;
		DIR *dp;

		snprintf(dir, sizeof(dir), RESV_GROUPS_DIR "/%d/devices", self->groups[g]);
		dp = opendir(dir);
		ASSERT_NE(NULL, dp);
		while ((e = readdir(dp))) {
			char link[PATH_MAX * 2], path[PATH_MAX];

			if (!is_bdf(e->d_name))
				continue;
			snprintf(link, sizeof(link), "%s/%s", dir, e->d_name);
			ASSERT_NE(NULL, realpath(link, path));
			nw = expected(path, want, &st);
			ASSERT_LE(0, nw) TH_LOG("%s: cannot read its config space", e->d_name);
			nw = normalise(want, nw);
			ng = reported(self->groups[g], e->d_name, got);
			ASSERT_LE(0, ng);
			ng = normalise(got, ng);
			EXPECT_EQ(nw, ng)
				TH_LOG("%s (group %d): %d PCI windows reported, rule: %d",
				       e->d_name, self->groups[g], ng, nw);
			for (i = 0; i < nw || i < ng; i++) {
				char a[PATH_MAX + 80], b[PATH_MAX + 80];

				/* A missing line compares unequal to the one shown */
				show_win(a, sizeof(a), i < nw ? &want[i] : NULL);
				show_win(b, sizeof(b), i < ng ? &got[i] : NULL);
				EXPECT_STREQ(a, b) TH_LOG("%s: the rule and the group differ",
							  e->d_name);
			}
		}
		closedir(dp);
	}
	TH_LOG("%d devices: %d windows above the first bridge", st.devices, st.above_parent);
	TH_LOG("%d bridges passed by ACS, %d peer BARs", st.redirected_past, st.peers);
	TH_LOG("%d multifunction devices isolated by ACS", st.peers_isolated);
	TH_LOG("%d host windows, %d host bridges passed by ACS", st.host, st.host_redirected);
	/* The VM topologies are built to exercise each case both ways. */
	EXPECT_LT(0, st.above_parent);
	EXPECT_LT(0, st.peers);
	EXPECT_LT(0, st.peers_isolated);
	if (RC_ROUTES_PEERS) {
		EXPECT_LT(0, st.host);
		EXPECT_LT(0, st.host_redirected);
	}
}

/*
 * Every Root Port and Switch Downstream Port with an ACS capability has the
 * controls the kernel enables with an IOMMU (Source Validation, P2P Request
 * and Completion Redirect, Upstream Forwarding, where offered) enabled by the
 * time userspace runs, the first port enumerated included: on DT and IORT
 * systems ACS is requested only once the first PCI device is added.
 */
TEST_F(pci, ports_enable_acs)
{
	int ports = 0, off = 0;
	char cmdline[4096];
	struct dirent *e;
	DIR *dp;

	/* The groups exist: an IOMMU asked for ACS. The command line can undo it */
	ASSERT_LT(0, resv_read_file("/proc/cmdline", cmdline, sizeof(cmdline)));
	if (strstr(cmdline, "disable_acs_redir") || strstr(cmdline, "config_acs"))
		SKIP(return, "ACS set from the command line");
	dp = opendir(RESV_PCI_DIR);
	ASSERT_NE(NULL, dp);
	while ((e = readdir(dp))) {
		char link[PATH_MAX * 2], path[PATH_MAX];
		struct dev d;

		if (!is_bdf(e->d_name))
			continue;
		snprintf(link, sizeof(link), RESV_PCI_DIR "/%s", e->d_name);
		ASSERT_NE(NULL, realpath(link, path));
		ASSERT_EQ(0, load_dev(&d, path));
		if (!is_downstream_port(&d) || !acs_pos(&d))
			continue;
		ports++;
		if (!acs_flags_enabled(&d, ACS_SV | ACS_RR | ACS_CR | ACS_UF)) {
			off++;
			TH_LOG("%s: ACS capability 0x%x, control 0x%x", e->d_name,
			       cfg16(&d, acs_pos(&d) + 4), cfg16(&d, acs_pos(&d) + 6));
		}
	}
	closedir(dp);
	TH_LOG("%d ports with ACS", ports);
	EXPECT_LT(0, ports);
	EXPECT_EQ(0, off);
}

/*
 * VFIO agrees: for each edu, a page at the start of each window the rule
 * gives is refused, and a page at the start of every other bridge window in
 * the system (reachable by the rule, and clear of the group's other regions)
 * is mapped.
 */
TEST_F(pci, vfio_maps_only_reachable_windows)
{
	struct win *want = self->want, *all = self->got;
	char bdf[RESV_MAX_DEVS][16], path[PATH_MAX * 2];
	struct resv_region r[RESV_MAX];
	struct rule_stats st = {};
	long page = self->page;
	int nd, d, i, k, nw, na = 0, nr, refused = 0, mapped = 0;
	void *buf = self->buf;
	DIR *dp;
	struct dirent *e;

	RESV_SKIP_UNLESS(return, RESV_NEED_EDU | RESV_NEED_VFIO);
	nd = resv_find_pci(RESV_EDU_VENDOR, RESV_EDU_DEVICE, bdf, RESV_MAX_DEVS);

	/* Every bridge window in the system. */
	dp = opendir(RESV_PCI_DIR);
	ASSERT_NE(NULL, dp);
	while ((e = readdir(dp))) {
		struct dev b;

		if (!is_bdf(e->d_name))
			continue;
		snprintf(path, sizeof(path), RESV_PCI_DIR "/%s", e->d_name);
		ASSERT_NE(NULL, realpath(path, b.path));
		add_resources(&b, false, true, "bridge-window", all, &na);
	}
	closedir(dp);

	for (d = 0; d < nd; d++) {
		int group = resv_bind_vfio(bdf[d]), container, ret;

		ASSERT_LE(0, group) TH_LOG("%s: bind to vfio-pci failed", bdf[d]);
		snprintf(path, sizeof(path), RESV_PCI_DIR "/%s", bdf[d]);
		{
			char real[PATH_MAX];

			ASSERT_NE(NULL, realpath(path, real));
			nw = expected(real, want, &st);
		}
		ASSERT_LE(0, nw);
		nr = resv_read_group(group, r, RESV_MAX);
		ASSERT_LE(0, nr);
		ret = resv_be_open(&self->be, group, bdf[d]);
		ASSERT_EQ(0, ret) TH_LOG("%s: container: %s", bdf[d], strerror(-ret));
		container = self->be.container;

		for (i = 0; i < nw; i++) {
			uint64_t iova = want[i].start & ~(page - 1);

			EXPECT_EQ(-EINVAL, resv_type1_map(container, buf, iova, page))
				TH_LOG("%s: %s 0x%llx of %s mapped", bdf[d], want[i].kind,
				       (unsigned long long)want[i].start, want[i].owner);
			refused++;
		}
		for (i = 0; i < na; i++) {
			uint64_t iova = all[i].start & ~(page - 1);
			bool clear = true;

			/* Reachable by the rule, and not in a non-PCI region (MSI...) */
			for (k = 0; k < nw && clear; k++)
				if (want[k].start <= iova + page - 1 && iova <= want[k].end)
					clear = false;
			for (k = 0; k < nr && clear; k++)
				if (strcmp(r[k].type, "reserved") &&
				    r[k].start <= iova + page - 1 && iova <= r[k].end)
					clear = false;
			if (!clear)
				continue;
			EXPECT_EQ(0, resv_type1_map(container, buf, iova, page))
				TH_LOG("%s: reachable window 0x%llx of %s refused", bdf[d],
				       (unsigned long long)iova, all[i].owner);
			resv_type1_unmap(container, iova, page);
			mapped++;
		}
		resv_be_close(&self->be);
	}
	TH_LOG("%d reported windows refused, %d reachable windows mapped", refused, mapped);
	EXPECT_LT(0, refused);
	EXPECT_LT(0, mapped);
}

TEST_HARNESS_MAIN
