// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reserved regions under stress: no successful mapping ever overlaps a range
 * its backend enforces while the mapping is in place (a member that joins
 * over a mapping is refused when opened instead), whatever runs at the same
 * time, and hostile arguments get a clean errno. Kernel splats
 * (WARN, BUG, KASAN, lockdep, hung tasks) are caught by whoever reads the
 * console (the iommu-resv harness fails the run on any).
 *
 *  races  for RESV_STRESS_SECONDS (default 20), each in processes of its
 *         own: MAP/UNMAP loops through type1 and through iommufd, at and
 *         across the edges of every reported range; readers of every
 *         group's files; attach/detach of a third group to a container and
 *         to an IOAS; PCI remove + rescan of a member A of the group that a
 *         mapper holds through another member B. The two mappers swap
 *         backends half-way. A has a region R of its own (the test-only
 *         injector, where there is one), which the mapper of its group maps
 *         when it can, while it tries to open A: A must never open while R
 *         is mapped, nor R be mapped while A is open. At the end each
 *         backend's usable ranges must be the complement of what sysfs lists
 *         for what it enforces (type1: the group; iommufd: the attached
 *         device).
 *  fuzz   up to RESV_FUZZ_CALLS (default 20000) random VFIO_IOMMU_MAP_DMA,
 *         UNMAP_DMA, GET_INFO, iommufd IOAS and IOMMU_GET_RESV_REGIONS
 *         calls with malformed sizes, flags, IDs, addresses, lengths and
 *         buffers, from seed RESV_FUZZ_SEED (default
 *         1), after dropping root (uid/gid 65534, memlock limit 8 MiB) with
 *         the files already open; within RESV_STRESS_SECONDS.
 *
 * Each prints what it did on a "# races:" or "# fuzz:" line.
 */
#include <grp.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include "iommu_resv_utils.h"
#include "../kselftest_harness.h"

#define BUF_PAGES	16

/* A's own region, made by the injector: inside both apertures */
#define R_START		0x4000000000ULL
#define R_SIZE		0x200000ULL

/* Counters shared by the worker processes */
struct stress_stats {
	unsigned long maps, maps_refused, reads, attaches, hotplugs, calls;
	unsigned long opens[2], opens_refused[2];	/* type1, iommufd */
	/* Odd while the hotplugger moves A: removing, rescanning, binding */
	unsigned long a_seq;
	unsigned long violations, unexpected, mismatches;
};

static void bump(unsigned long *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

/* A problem: counted, and said on stdout (the TAP diagnostics) */
static void problem(unsigned long *counter, const char *fmt, ...)
{
	va_list ap;

	bump(counter);
	va_start(ap, fmt);
	printf("# ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned int env_uint(const char *name, unsigned int def)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 0) : def;
}

/* xorshift64: the same sequence from the same seed, on every libc */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Does [start, last] overlap a region that DMA mappings must avoid? */
static const struct resv_region *overlap(const struct resv_region *r, int n,
					 uint64_t start, uint64_t last)
{
	int i;

	for (i = 0; i < n; i++)
		if (resv_type1_excludes(&r[i]) && start <= r[i].end && r[i].start <= last)
			return &r[i];
	return NULL;
}

/*
 * What a backend enforces for @group, which it holds through @bdf: type1
 * the group's list, iommufd the attached device's regions.
 */
static int read_enforced(bool iommufd, int group, const char *bdf, struct resv_region *r)
{
	return iommufd ? resv_read_device(group, bdf, r, RESV_MAX) :
			 resv_read_group(group, r, RESV_MAX);
}

static unsigned long a_seq(struct stress_stats *st)
{
	return __atomic_load_n(&st->a_seq, __ATOMIC_SEQ_CST);
}

static void a_moves(struct stress_stats *st)
{
	__atomic_fetch_add(&st->a_seq, 1, __ATOMIC_SEQ_CST);
}

/*
 * What the backend enforces, from the detail lines: those of @bdf (iommufd:
 * the attached device) or of every member (type1). @of_a[i] tells the lines
 * of @a (the member that comes and goes, or NULL) and those @a owns (a BAR of
 * @a is a peer-bar of its siblings): they come and go with @a.
 */
static int read_enforced_detail(bool iommufd, int group, const char *bdf, const char *a,
				struct resv_region *r, bool *of_a)
{
	static struct resv_detail d[RESV_MAX];
	int i, n = 0, nd = resv_read_detail(group, d, RESV_MAX);

	for (i = 0; i < nd; i++) {
		if (iommufd && strcmp(d[i].dev, bdf))
			continue;
		of_a[n] = a && (!strcmp(d[i].dev, a) || resv_owned_by(&d[i], a));
		r[n].start = d[i].start;
		r[n].end = d[i].end;
		snprintf(r[n].type, sizeof(r[n].type), "%s", d[i].type);
		n++;
	}
	return nd < 0 ? nd : n;
}

/*
 * A mapping that just succeeded must overlap nothing its backend enforces
 * (read_enforced_detail()) now: it is still in place, so "now" is a moment
 * it existed at. The regions of @a count only if @a stayed put from before
 * the map (@seq, a_seq() then) until after the read: a map over them while
 * @a is away is allowed, @a being refused when it is opened instead (what
 * exercise_join() checks).
 */
static void check_mapped(struct stress_stats *st, bool iommufd, int group, const char *bdf,
			 const char *a, unsigned long seq, const char *how, uint64_t iova,
			 uint64_t len)
{
	struct resv_region r[RESV_MAX];
	const struct resv_region *x = NULL;
	bool of_a[RESV_MAX], a_stayed;
	int n = read_enforced_detail(iommufd, group, bdf, a, r, of_a), i;

	a_stayed = !(seq & 1) && a_seq(st) == seq;
	if (n == -EAGAIN)
		return;		/* the list kept changing: no moment to check at */
	if (n < 0) {
		problem(&st->unexpected, "%s: reading group %d: %s", how, group, strerror(-n));
		return;
	}
	for (i = 0; i < n && !x; i++)
		if ((!of_a[i] || a_stayed) && overlap(&r[i], 1, iova, iova + len - 1))
			x = &r[i];
	if (x)
		problem(&st->violations,
			"VIOLATION: %s mapped 0x%llx-0x%llx over %s 0x%llx-0x%llx of group %d",
			how, (unsigned long long)iova, (unsigned long long)(iova + len - 1),
			x->type, (unsigned long long)x->start, (unsigned long long)x->end, group);
}

static bool same_list(const struct resv_region *a, int na,
		      const struct resv_region *b, int nb)
{
	int i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (a[i].start != b[i].start || a[i].end != b[i].end ||
		    strcmp(a[i].type, b[i].type))
			return false;
	return true;
}

/*
 * A backend's usable ranges against the complement of what sysfs lists for
 * what it enforces (read_enforced()). The two are read one after the other
 * while other workers change the lists, so a comparison counts only if the
 * list read before the backend's ranges is still the list after them; a few
 * tries find such a moment.
 */
static bool ranges_agree(struct resv_be *be, int group, const char *bdf)
{
	struct resv_range want[RESV_MAX], got[RESV_MAX];
	struct resv_region r[RESV_MAX], again[RESV_MAX];
	int tries, n, nw, ng;

	for (tries = 0; tries < 20; tries++) {
		n = read_enforced(be->iommufd, group, bdf, r);
		if (n < 0)
			return false;
		nw = resv_complement(r, n, 0, RESV_APERTURE_END, want, RESV_MAX);
		ng = resv_be_ranges(be, got, RESV_MAX);
		if (ng < 0)
			return false;
		if (!same_list(r, n, again, read_enforced(be->iommufd, group, bdf, again)))
			continue;	/* the list changed meanwhile */
		return nw > 0 && nw == ng && !memcmp(want, got, nw * sizeof(want[0]));
	}
	return false;
}

static bool refusal(int err)
{
	return err == -EINVAL || err == -EADDRINUSE || err == -ENOSPC || err == -EEXIST ||
	       err == -ERANGE || err == -EOVERFLOW || err == -ENOENT;
}

/* An IOVA at or across an edge of a reported range, or anywhere */
static uint64_t pick_iova(uint64_t *seed, const struct resv_region *r, int n, long page,
			  uint64_t *len)
{
	const struct resv_region *x = n ? &r[rnd(seed) % n] : NULL;
	uint64_t iova;

	*len = page * (1 + rnd(seed) % 4);
	switch (x ? rnd(seed) % 8 : 5) {
	case 0:
		iova = x->start - page;
		break;
	case 1:
		iova = x->start;
		break;
	case 2:
		iova = x->end + 1 - page;
		break;
	case 3:
		iova = x->end + 1;
		break;
	case 4:
		iova = x->start - page;
		*len = 2 * page;
		break;
	case 5:
		iova = rnd(seed) % (1ULL << 32);
		break;
	default:
		iova = rnd(seed) % RESV_APERTURE_END;
		break;
	}
	iova &= ~(uint64_t)(page - 1);
	if (iova + *len - 1 < iova || iova + *len - 1 > RESV_APERTURE_END)
		iova = 0x100000;
	return iova;
}

/*
 * The member @a that comes and goes, with its own region R, against the
 * mappings of @be (which holds its group through another member): now and
 * then map R (when the backend allows it), try to open @a (type1: get its
 * device fd; iommufd: bind and attach its cdev), and after a refusal now
 * and then unmap R.
 * This process alone maps R, so whether R is mapped is known exactly: @a
 * opening while R is mapped, or R mapping while @a is open, is a violation.
 */
static void exercise_join(struct stress_stats *st, struct resv_be *be, const char *a,
			  void *buf, long page, bool *r_mapped, uint64_t *seed)
{
	const char *how = be->iommufd ? "iommufd" : "type1";
	/* VFIO refuses to open it, iommufd to bind it */
	int refused = be->iommufd ? -EADDRINUSE : -EBUSY;
	int fd, ret;

	if (!*r_mapped && rnd(seed) % 2) {
		ret = resv_be_map(be, buf, R_START, page);
		if (!ret)
			*r_mapped = true;
		else if (!refusal(ret))
			problem(&st->unexpected, "%s: mapping R: %s", how, strerror(-ret));
	}
	fd = resv_be_open_dev(be, a);
	if (fd >= 0) {
		bump(&st->opens[be->iommufd]);
		if (*r_mapped) {
			problem(&st->violations, "VIOLATION: %s: %s opened while R is mapped",
				how, a);
		} else if (!resv_be_map(be, buf, R_START, page)) {
			problem(&st->violations, "VIOLATION: %s: R mapped while %s is open",
				how, a);
			*r_mapped = true;
		}
		close(fd);
	} else if (fd == refused) {
		bump(&st->opens_refused[be->iommufd]);
		if (!*r_mapped)
			problem(&st->unexpected, "%s: %s refused with nothing over its regions",
				how, a);
	} else if (fd != -ENODEV && fd != -ENOENT && fd != -ENXIO) {
		/* A is away (or going), or not bound to vfio-pci yet */
		problem(&st->unexpected, "%s: opening %s: %s", how, a, strerror(-fd));
	}
	/* Kept until A comes back and is refused, then as likely kept as not */
	if (*r_mapped && fd == refused && rnd(seed) % 2) {
		ret = resv_be_unmap(be, R_START, page);
		if (ret)
			problem(&st->unexpected, "%s: unmapping R: %s", how, strerror(-ret));
		*r_mapped = false;
	}
}

/*
 * Once the budget is spent: R unmapped, @a opens as soon as it is back and
 * bound. Luck alone may have kept it away whenever R was not mapped (opens
 * through iommufd are rare in a run); this opens it once in every run.
 */
static void final_join(struct stress_stats *st, struct resv_be *be, const char *a,
		       long page, bool *r_mapped)
{
	const char *how = be->iommufd ? "iommufd" : "type1";
	int fd = -ENODEV, tries, ret;

	if (*r_mapped) {
		ret = resv_be_unmap(be, R_START, page);
		if (ret)
			problem(&st->unexpected, "%s: unmapping R: %s", how, strerror(-ret));
		*r_mapped = false;
	}
	/* The hotplugger's last cycle may still be bringing @a back */
	for (tries = 0; tries < 100 && (fd == -ENODEV || fd == -ENOENT || fd == -ENXIO); tries++) {
		if (tries)
			usleep(100000);
		fd = resv_be_open_dev(be, a);
	}
	if (fd >= 0) {
		bump(&st->opens[be->iommufd]);
		close(fd);
	} else {
		problem(&st->unexpected, "%s: %s not opened with R unmapped: %s", how, a,
			strerror(-fd));
	}
}

/*
 * Map and unmap at and across the edges of @group's ranges through @bdf;
 * with @a (the member that comes and goes), exercise_join() now and then.
 */
static void mapper(struct stress_stats *st, bool iommufd, int group, const char *bdf,
		   const char *a, double until)
{
	const char *how = iommufd ? "IOMMU_IOAS_MAP" : "VFIO_IOMMU_MAP_DMA";
	struct resv_be be = { .iommufd = iommufd };
	struct resv_region r[RESV_MAX];
	long page = sysconf(_SC_PAGESIZE);
	uint64_t seed = getpid() * 2654435761ULL + 1, iova, len;
	unsigned long i, seq;
	bool r_mapped = false;
	void *buf;
	int n = 0, ret;

	buf = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ret = resv_be_open(&be, group, bdf);
	if (buf == MAP_FAILED || ret) {
		problem(&st->unexpected, "%s: opening group %d (%s): %s", how, group, bdf,
			strerror(-ret));
		return;
	}
	for (i = 0; now() < until; i++) {
		if (!(i % 64))
			n = resv_read_group(group, r, RESV_MAX);
		if (a && !(i % 4))
			exercise_join(st, &be, a, buf, page, &r_mapped, &seed);
		iova = pick_iova(&seed, r, n > 0 ? n : 0, page, &len);
		seq = a_seq(st);
		ret = resv_be_map(&be, buf, iova, len);
		if (!ret) {
			bump(&st->maps);
			check_mapped(st, iommufd, group, bdf, a, seq, how, iova, len);
			ret = resv_be_unmap(&be, iova, len);
			if (ret)
				problem(&st->unexpected, "%s: unmapping 0x%llx: %s", how,
					(unsigned long long)iova, strerror(-ret));
		} else if (refusal(ret)) {
			bump(&st->maps_refused);
		} else {
			problem(&st->unexpected, "%s 0x%llx+0x%llx: %s", how,
				(unsigned long long)iova, (unsigned long long)len, strerror(-ret));
		}
	}
	if (a)
		final_join(st, &be, a, page, &r_mapped);
	if (!ranges_agree(&be, group, bdf))
		problem(&st->mismatches,
			"%s: group %d: usable ranges are not the complement of sysfs at the end",
			how, group);
	resv_be_close(&be);
}

static void reader(struct stress_stats *st, double until)
{
	static const char * const files[] = { "reserved_regions", "reserved_regions_detail" };
	int groups[RESV_MAX_GROUPS], n, g, f, err;

	while (now() < until) {
		n = resv_list_groups(groups, RESV_MAX_GROUPS);
		for (g = 0; g < n; g++) {
			for (f = 0; f < 2; f++) {
				if (resv_read_group_file(groups[g], files[f], &err))
					bump(&st->reads);
				else if (err != -ENOENT && err != -ENODEV)
					problem(&st->unexpected, "reading group %d %s: %s",
						groups[g], files[f], strerror(-err));
			}
		}
	}
}

static void check_attached(struct stress_stats *st, struct resv_be *be, int group,
			   const char *bdf)
{
	bump(&st->attaches);
	if (!ranges_agree(be, group, bdf))
		problem(&st->mismatches,
			"group %d attached %s: usable ranges are not the complement of sysfs",
			group, be->iommufd ? "to an IOAS" : "to a container");
}

/*
 * Attach and detach @group: to new type1 containers for the first half of
 * the time, then, with its device opened once (an open may reset it, slow
 * behind some QEMU hotplug slots), to new IOASes.
 */
static void attacher(struct stress_stats *st, int group, const char *bdf, double until)
{
	double half = now() + (until - now()) / 2;
	struct resv_be be = { .iommufd = false };
	int ret;

	while (now() < half) {
		ret = resv_be_open(&be, group, bdf);
		if (ret) {
			problem(&st->unexpected, "attaching group %d to a container: %s", group,
				strerror(-ret));
			return;
		}
		check_attached(st, &be, group, bdf);
		resv_be_close(&be);
	}

	be.iommufd = true;
	ret = resv_ioas_bind(bdf, &be.ioas);
	if (ret) {
		problem(&st->unexpected, "binding %s to an iommufd: %s", bdf, strerror(-ret));
		return;
	}
	while (now() < until) {
		ret = resv_ioas_alloc(&be.ioas);
		if (ret) {
			problem(&st->unexpected, "IOMMU_IOAS_ALLOC: %s", strerror(-ret));
			break;
		}
		ret = resv_cdev_attach(be.ioas.dev, be.ioas.id);
		if (ret) {
			problem(&st->unexpected, "attaching %s to an IOAS: %s", bdf,
				strerror(-ret));
			break;
		}
		check_attached(st, &be, group, bdf);
		ret = resv_ioas_free(&be.ioas, true);
		if (ret) {
			problem(&st->unexpected, "detaching %s: %s", bdf, strerror(-ret));
			break;
		}
	}
	resv_ioas_close(&be.ioas);
}

/* Remove and rescan @bdf until @until; it is present when this returns. */
static void hotplugger(struct stress_stats *st, const char *bdf, double until)
{
	uint64_t seed = getpid();
	int ret, tries;

	while (now() < until) {
		a_moves(st);	/* odd: on the move */
		ret = resv_pci_remove(bdf);
		if (ret) {
			problem(&st->unexpected, "removing %s: %s", bdf, strerror(-ret));
			break;
		}
		usleep(20000 + rnd(&seed) % 80000);
		for (tries = 0; tries < 50 && resv_pci_rescan(bdf); tries++)
			usleep(100000);
		if (!resv_pci_present(bdf)) {
			problem(&st->unexpected, "%s did not come back on rescan", bdf);
			break;
		}
		/* For the mapper of its group to open */
		ret = resv_bind_vfio(bdf);
		if (ret < 0) {
			problem(&st->unexpected, "binding %s to vfio-pci: %s", bdf, strerror(-ret));
			break;
		}
		a_moves(st);	/* even: in place */
		bump(&st->hotplugs);
		usleep(20000 + rnd(&seed) % 80000);
	}
}

static pid_t spawn(void)
{
	pid_t pid = fork();

	if (!pid)
		alarm(3600);	/* a worker that hangs cannot outlive the run */
	return pid;
}

FIXTURE(stress) {
	char a[16], b[16], h[16], k[16];
	int group, group_h, group_k;
	bool r_injected;
	struct stress_stats *st;
	unsigned int seconds;
	/* The fuzzer's buffer, and H's container and K's IOAS that it calls */
	uint8_t *buf;
	long page;
	struct resv_be type1_h, iommufd_k;
};

FIXTURE_SETUP(stress)
{
	char bdf[RESV_MAX_DEVS][16];
	int group[RESV_MAX_DEVS], i, n;

	self->seconds = env_uint("RESV_STRESS_SECONDS", 20);
	self->st = mmap(NULL, sizeof(*self->st), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->st);
	memset(self->st, 0, sizeof(*self->st));

	/* A and B share group G; H and K are edus of two other groups. */
	RESV_SKIP_UNLESS(return, RESV_NEED_EDU);
	self->group = resv_hotplug_pair_ready(self->a, self->b, true);
	ASSERT_LE(0, self->group) TH_LOG("no two edu devices share a group (%d)", self->group);
	n = resv_find_pci(RESV_EDU_VENDOR, RESV_EDU_DEVICE, bdf, RESV_MAX_DEVS);
	self->group_h = -1;
	self->group_k = -1;
	for (i = 0; i < n; i++) {
		group[i] = resv_device_group(bdf[i]);
		if (group[i] < 0 || group[i] == self->group || group[i] == self->group_h)
			continue;
		if (self->group_h < 0) {
			self->group_h = group[i];
			memcpy(self->h, bdf[i], sizeof(self->h));
		} else if (self->group_k < 0) {
			self->group_k = group[i];
			memcpy(self->k, bdf[i], sizeof(self->k));
		}
	}
	ASSERT_LE(0, self->group_k) TH_LOG("need edus in three groups");
	ASSERT_EQ(self->group_h, resv_bind_vfio(self->h));
	ASSERT_EQ(self->group_k, resv_bind_vfio(self->k));
	/* The cdevs appear once a device is bound to vfio-pci. */
	RESV_SKIP_UNLESS(return, RESV_NEED_IOMMUFD);
	resv_be_init(&self->type1_h, false);
	resv_be_init(&self->iommufd_k, true);
	self->page = sysconf(_SC_PAGESIZE);
	self->buf = mmap(NULL, (BUF_PAGES + 1) * self->page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
}

FIXTURE_TEARDOWN(stress)
{
	if (self->a[0] && !resv_pci_present(self->a))
		resv_pci_rescan(self->a);
	if (self->r_injected)
		resv_inject(self->a, 0, 0, 0, 0, false);
	resv_pci_unbind(self->a);
	resv_be_close(&self->type1_h);
	resv_be_close(&self->iommufd_k);
	munmap(self->buf, (BUF_PAGES + 1) * self->page);
	munmap(self->st, sizeof(*self->st));
}

/* Everything at once; the mappers swap backends half-way. */
TEST_F_TIMEOUT(stress, races, 3600)
{
	struct stress_stats *st = self->st;
	double start = now(), half = self->seconds / 2.0;
	int round, status, workers = 0;
	pid_t pid;

	/*
	 * R: A's alone, kept across its removal (the injector keys it by
	 * name); the teardown removes it (this test keeps root).
	 */
	if (!resv_missing(RESV_NEED_INJECT)) {
		ASSERT_EQ(0, resv_inject(self->a, 1, R_START, R_SIZE, R_SIZE, false));
		self->r_injected = true;
	}
	for (round = 0; round < 2; round++) {
		double until = start + (round + 1) * half;

		for (int w = 0; w < 6; w++) {
			pid = spawn();
			ASSERT_LE(0, pid);
			if (pid) {
				workers++;
				continue;
			}
			switch (w) {
			case 0:
				mapper(st, round == 1, self->group, self->b,
				       self->r_injected ? self->a : NULL, until);
				break;
			case 1:
				mapper(st, round == 0, self->group_h, self->h, NULL, until);
				break;
			case 2:
			case 3:
				reader(st, until);
				break;
			case 4:
				attacher(st, self->group_k, self->k, until);
				break;
			case 5:
				/* Done a moment early: the mappers' last check sees A back. */
				hotplugger(st, self->a, until - 1.5);
				break;
			}
			_exit(0);
		}
		for (; workers; workers--) {
			ASSERT_LT(0, wait(&status));
			EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
				TH_LOG("a worker died: status 0x%x", status);
		}
	}
	printf("# races: %u s: %lu maps, %lu refused, %lu file reads, %lu attaches,\n",
	       self->seconds, st->maps, st->maps_refused, st->reads, st->attaches);
	printf("# races: %lu remove+rescan cycles; violations %lu, unexpected errors %lu,\n",
	       st->hotplugs, st->violations, st->unexpected);
	printf("# races: range mismatches %lu; %s (type1/iommufd) opened %lu/%lu,\n",
	       st->mismatches, self->a, st->opens[0], st->opens[1]);
	printf("# races: refused %lu/%lu\n", st->opens_refused[0], st->opens_refused[1]);
	EXPECT_EQ(0, st->violations);
	EXPECT_EQ(0, st->unexpected);
	EXPECT_EQ(0, st->mismatches);
	EXPECT_LT(0, st->maps);
	EXPECT_LT(0, st->maps_refused);
	EXPECT_LT(0, st->reads);
	EXPECT_LT(0, st->attaches);
	EXPECT_LT(0, st->hotplugs);
	for (round = 0; round < 2 && self->r_injected; round++) {
		EXPECT_LT(0, st->opens[round]);
		EXPECT_LT(0, st->opens_refused[round]);
	}
}

/* Hostile arguments */

struct fuzz {
	uint64_t seed;
	int container, group_h, group_k;
	const char *h, *k;	/* the devices through which they are held */
	struct resv_ioas ioas;
	uint8_t *buf;		/* BUF_PAGES, then a PROT_NONE guard page */
	long page;
	struct resv_region r[RESV_MAX];
	int nr;
};

static uint64_t fuzz_u64(struct fuzz *f, uint64_t good)
{
	static const uint64_t odd[] = {
		0, 1, 0xfff, 0x1000, 0x200000, 0xffffffff, 1ULL << 39, 1ULL << 47,
		1ULL << 63, ~0ULL, ~0ULL - 0xfff, 0xffff800000000000ULL,
	};
	const struct resv_region *x = f->nr ? &f->r[rnd(&f->seed) % f->nr] : NULL;

	switch (rnd(&f->seed) % 8) {
	case 0:
	case 1:
		return good;
	case 2:
		return odd[rnd(&f->seed) % ARRAY_SIZE(odd)];
	case 3:
		return rnd(&f->seed);
	case 4:
		return good + (rnd(&f->seed) % 3) - 1;
	case 5:
		return x ? x->start : good;
	case 6:
		return x ? x->end + 1 : good;
	default:
		return rnd(&f->seed) % (1ULL << 32) & ~0xfffULL;
	}
}

static uint32_t fuzz_size(struct fuzz *f, uint32_t good)
{
	switch (rnd(&f->seed) % 6) {
	case 0:
		return 0;
	case 1:
		return good - 1 - rnd(&f->seed) % 8;
	case 2:
		return good + 8;
	case 3:
		return rnd(&f->seed);
	default:
		return good;
	}
}

/*
 * A struct of @size bytes (at most a page) at the end of the buffer, so that
 * a kernel reading or writing past what it was told hits the guard page.
 */
static void *fuzz_arg(struct fuzz *f, size_t size)
{
	uint8_t *p = f->buf + BUF_PAGES * f->page - size;

	memset(p, 0, size);
	if (!(rnd(&f->seed) % 16))	/* garbage past the struct, sometimes */
		p -= 8;
	return p;
}

static bool clean_errno(int err)
{
	static const int ok[] = {
		EINVAL, EFAULT, ENOMEM, EEXIST, ENOENT, EPERM, EBUSY, ENOSPC, E2BIG,
		EOVERFLOW, ERANGE, EADDRINUSE, EOPNOTSUPP, ENOTTY, EMSGSIZE,
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ok); i++)
		if (err == ok[i])
			return true;
	return false;
}

static void fuzz_type1(struct fuzz *f, struct stress_stats *st, unsigned int op)
{
	struct vfio_iommu_type1_dma_map *map;
	struct vfio_iommu_type1_dma_unmap *unmap;
	struct vfio_iommu_type1_info *info;
	uint64_t iova, size;
	unsigned long req;
	void *arg;
	int ret;

	switch (op) {
	case 0:
		arg = fuzz_arg(f, sizeof(*map));
		map = arg;
		map->argsz = fuzz_size(f, sizeof(*map));
		map->flags = fuzz_u64(f, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
		map->vaddr = fuzz_u64(f, (uintptr_t)f->buf);
		iova = fuzz_u64(f, 0x100000);
		size = fuzz_u64(f, f->page);
		map->iova = iova;
		map->size = size;
		req = VFIO_IOMMU_MAP_DMA;
		break;
	case 1:
		arg = fuzz_arg(f, sizeof(*unmap));
		unmap = arg;
		unmap->argsz = fuzz_size(f, sizeof(*unmap));
		unmap->flags = rnd(&f->seed) % 4 ? 0 : fuzz_u64(f, VFIO_DMA_UNMAP_FLAG_ALL);
		unmap->iova = fuzz_u64(f, 0x100000);
		unmap->size = fuzz_u64(f, f->page);
		req = VFIO_IOMMU_UNMAP_DMA;
		break;
	default:
		arg = fuzz_arg(f, f->page);
		info = arg;
		info->argsz = rnd(&f->seed) % 2 ? fuzz_size(f, sizeof(*info)) :
						  rnd(&f->seed) % (2 * f->page);
		info->flags = fuzz_u64(f, 0);
		req = VFIO_IOMMU_GET_INFO;
		break;
	}
	ret = ioctl(f->container, req, arg) ? -errno : 0;
	bump(&st->calls);
	if (ret && !clean_errno(-ret))
		problem(&st->unexpected, "fuzz: type1 op %u: errno %d (%s)", op, -ret,
			strerror(-ret));
	if (!ret && op == 0) {
		check_mapped(st, false, f->group_h, f->h, NULL, 0,
			     "fuzzed VFIO_IOMMU_MAP_DMA", iova, size);
		resv_type1_unmap(f->container, iova, size);
	}
}

static void fuzz_iommufd(struct fuzz *f, struct stress_stats *st, unsigned int op)
{
	struct iommu_ioas_iova_ranges *ranges;
	struct iommu_resv_regions *resv;
	struct iommu_ioas_allow_iovas *allow;
	struct iommu_ioas_unmap *unmap;
	struct iommu_ioas_map *map;
	unsigned long req;
	void *arg;
	int ret;

	switch (op) {
	case 0:
		arg = fuzz_arg(f, sizeof(*map));
		map = arg;
		map->size = fuzz_size(f, sizeof(*map));
		map->flags = fuzz_u64(f, IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
					 IOMMU_IOAS_MAP_WRITEABLE);
		map->ioas_id = rnd(&f->seed) % 8 ? f->ioas.id : rnd(&f->seed);
		map->user_va = fuzz_u64(f, (uintptr_t)f->buf);
		map->length = fuzz_u64(f, f->page);
		map->iova = fuzz_u64(f, 0x100000);
		req = IOMMU_IOAS_MAP;
		break;
	case 1:
		arg = fuzz_arg(f, sizeof(*unmap));
		unmap = arg;
		unmap->size = fuzz_size(f, sizeof(*unmap));
		unmap->ioas_id = rnd(&f->seed) % 8 ? f->ioas.id : rnd(&f->seed);
		unmap->iova = fuzz_u64(f, 0x100000);
		unmap->length = fuzz_u64(f, f->page);
		req = IOMMU_IOAS_UNMAP;
		break;
	case 2:
		arg = fuzz_arg(f, sizeof(*ranges));
		ranges = arg;
		ranges->size = fuzz_size(f, sizeof(*ranges));
		ranges->ioas_id = rnd(&f->seed) % 8 ? f->ioas.id : rnd(&f->seed);
		ranges->num_iovas = rnd(&f->seed) % 64;
		ranges->allowed_iovas = fuzz_u64(f, (uintptr_t)f->buf);
		req = IOMMU_IOAS_IOVA_RANGES;
		break;
	case 3:
		arg = fuzz_arg(f, sizeof(*allow));
		allow = arg;
		allow->size = fuzz_size(f, sizeof(*allow));
		allow->ioas_id = f->ioas.id;
		/* Mostly "allow everything" again, so that maps keep succeeding. */
		allow->num_iovas = rnd(&f->seed) % 4 ? 0 : rnd(&f->seed) % 8;
		for (unsigned int i = 0; i < 16; i++)
			((uint64_t *)f->buf)[i] = fuzz_u64(f, i * 0x10000000ULL);
		allow->allowed_iovas = fuzz_u64(f, (uintptr_t)f->buf);
		req = IOMMU_IOAS_ALLOW_IOVAS;
		break;
	default:
		arg = fuzz_arg(f, sizeof(*resv));
		resv = arg;
		resv->size = fuzz_size(f, sizeof(*resv));
		resv->flags = rnd(&f->seed) % 8 ? 0 : fuzz_u64(f, 0);
		switch (rnd(&f->seed) % 4) {
		case 0:
			resv->object_id = f->ioas.id;
			break;
		case 1:
			resv->object_id = f->ioas.dev_id;
			break;
		case 2:
			resv->object_id = 0;
			break;
		default:
			resv->object_id = rnd(&f->seed);
			break;
		}
		resv->num_regions = rnd(&f->seed) % 4 ? rnd(&f->seed) % 16 : rnd(&f->seed);
		resv->region_size = fuzz_size(f, sizeof(struct iommu_resv_region_info));
		resv->names_len = rnd(&f->seed) % 2 ? 0 : fuzz_u64(f, f->page);
		resv->regions_uptr = fuzz_u64(f, (uintptr_t)f->buf);
		resv->names_uptr = fuzz_u64(f, (uintptr_t)f->buf + f->page);
		req = IOMMU_GET_RESV_REGIONS;
		break;
	}
	ret = ioctl(f->ioas.iommufd, req, arg) ? -errno : 0;
	bump(&st->calls);
	if (ret && !clean_errno(-ret))
		problem(&st->unexpected, "fuzz: iommufd op %u: errno %d (%s)", op, -ret,
			strerror(-ret));
	if (!ret && op == 0) {
		map = arg;
		check_mapped(st, true, f->group_k, f->k, NULL, 0, "fuzzed IOMMU_IOAS_MAP",
			     map->iova, map->length);
		resv_ioas_unmap(&f->ioas, map->iova, map->length);
	}
}

static int drop_root(void)
{
	struct rlimit lim = { 8 << 20, 8 << 20 };

	if (setrlimit(RLIMIT_MEMLOCK, &lim) || setgroups(0, NULL) ||
	    setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
		return -errno;
	return 0;
}

TEST_F_TIMEOUT(stress, fuzz, 3600)
{
	struct stress_stats *st = self->st;
	unsigned int seed = env_uint("RESV_FUZZ_SEED", 1);
	unsigned int calls = env_uint("RESV_FUZZ_CALLS", 20000), i;
	double until = now() + self->seconds;
	struct fuzz f = { .seed = seed * 0x9e3779b97f4a7c15ULL + 1 };

	printf("# fuzz: seed %u (RESV_FUZZ_SEED=%u replays it)\n", seed, seed);
	f.page = self->page;
	f.buf = self->buf;
	ASSERT_EQ(0, mprotect(f.buf + BUF_PAGES * f.page, f.page, PROT_NONE));
	f.group_h = self->group_h;
	f.group_k = self->group_k;
	f.h = self->h;
	f.k = self->k;
	ASSERT_EQ(0, resv_be_open(&self->type1_h, self->group_h, self->h));
	f.container = self->type1_h.container;
	ASSERT_EQ(0, resv_be_open(&self->iommufd_k, self->group_k, self->k));
	f.ioas = self->iommufd_k.ioas;
	/* Edges for both groups' ranges; both are read again after each map. */
	f.nr = resv_read_group(self->group_h, f.r, RESV_MAX);
	ASSERT_LT(0, f.nr);
	ASSERT_EQ(0, drop_root());

	for (i = 0; i < calls && now() < until; i++) {
		unsigned int op = rnd(&f.seed) % 8;

		if (op < 3)
			fuzz_type1(&f, st, op);
		else
			fuzz_iommufd(&f, st, op - 3);
	}

	/* Clean up through the same files, then compare with sysfs. */
	{
		struct vfio_iommu_type1_dma_unmap all = {
			.argsz = sizeof(all), .flags = VFIO_DMA_UNMAP_FLAG_ALL,
		};
		struct iommu_ioas_allow_iovas allow = {
			.size = sizeof(allow), .ioas_id = f.ioas.id,
		};

		EXPECT_EQ(0, ioctl(f.container, VFIO_IOMMU_UNMAP_DMA, &all));
		EXPECT_EQ(0, ioctl(f.ioas.iommufd, IOMMU_IOAS_ALLOW_IOVAS, &allow));
		EXPECT_EQ(0, resv_ioas_unmap(&f.ioas, 0, UINT64_MAX));
	}
	if (!ranges_agree(&self->iommufd_k, self->group_k, self->k))
		problem(&st->mismatches,
			"fuzz: the IOAS's usable ranges are not the complement of sysfs");
	if (!ranges_agree(&self->type1_h, self->group_h, self->h))
		problem(&st->mismatches,
			"fuzz: the container's usable ranges are not the complement of sysfs");
	resv_be_close(&self->type1_h);
	resv_be_close(&self->iommufd_k);

	printf("# fuzz: seed %u: %lu calls; violations %lu, unexpected errors %lu,\n",
	       seed, st->calls, st->violations, st->unexpected);
	printf("# fuzz: range mismatches %lu\n", st->mismatches);
	EXPECT_EQ(0, st->violations);
	EXPECT_EQ(0, st->unexpected);
	EXPECT_EQ(0, st->mismatches);
	EXPECT_LT(0, st->calls);
}

TEST_HARNESS_MAIN
