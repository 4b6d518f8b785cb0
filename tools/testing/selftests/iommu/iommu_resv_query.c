// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOMMU_GET_RESV_REGIONS answers what sysfs lists and what iommufd enforces,
 * for every edu device bound to vfio-pci and bound through its VFIO cdev:
 *
 *  - on a device, before and after it is attached: its lines of its group's
 *    reserved_regions_detail, in order, with the same types and owners, the
 *    enforced flag on every one but direct-relaxable (and the PCI kinds when
 *    iommufd.enforce_pci_windows is off, or was when the IOAS the device is
 *    attached to was allocated);
 *  - on an IOAS: the enforced lines of the file of the devices attached to
 *    it, each with the dev_id of its device, sorted by start, last, dev_id
 *    and type, IOMMU_IOAS_MAP refused at each, and IOMMU_IOAS_IOVA_RANGES the
 *    complement of their union within the aperture, all computed by the test
 *    from the file;
 *  - bad input gets a clean errno, and buffers too small get -EMSGSIZE with
 *    the sizes needed and nothing written past what they hold;
 *  - with each allocation failing in turn (fail-nth, as iommu_resv_fail_nth
 *    does for reads, attaches and maps), a query fails with an errno and the
 *    next one returns the whole answer, or it returns the whole answer.
 */
#include "iommu_resv_query.h"
#include "../kselftest_harness.h"

/* The fail-nth test is slow on a debug kernel under TCG, as in iommu_resv_fail_nth */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT	600

#define MAX_NTH		2000
#define NAMES_MAX	65536

/*
 * The fail-nth test: an edu bound to vfio-pci and its IOAS. Named "global"
 * as the plain TEST() it was, so that it keeps its name, and defined first,
 * so that it still runs first.
 */
FIXTURE(global) {
	char bdf[16];
	int group;
	struct resv_be be;
};

FIXTURE_SETUP(global)
{
	RESV_SKIP_UNLESS(return, RESV_NEED_IOMMUFD | RESV_NEED_EDU);
	self->group = resv_first_edu(self->bdf);
	ASSERT_LE(0, self->group);
	resv_be_init(&self->be, true);
}

FIXTURE_TEARDOWN(global)
{
	resv_be_close(&self->be);
}

/*
 * Every edu, bound to vfio-pci and its cdev bound to one iommufd; buffers
 * for the answers, and for bad_input's own queries.
 */
FIXTURE(query) {
	struct resv_edus edus;
	int iommufd;
	int dev[RESV_MAX_DEVS];
	uint32_t dev_id[RESV_MAX_DEVS];
	struct resv_query_region *got, *want;
	struct resv_detail *lines;
	uint8_t *regions, *ref;
	char *names, *ref_names;
};

FIXTURE_SETUP(query)
{
	struct resv_edus *e = &self->edus;
	int d;

	RESV_SKIP_UNLESS(return, RESV_NEED_IOMMUFD | RESV_NEED_EDU);
	RESV_EDUS_SETUP(e, true, 1, MAP_PRIVATE);
	self->iommufd = -1;
	for (d = 0; d < RESV_MAX_DEVS; d++)
		self->dev[d] = -1;
	self->got = calloc(RESV_MAX, sizeof(*self->got));
	self->want = calloc(RESV_MAX, sizeof(*self->want));
	self->lines = calloc(RESV_MAX, sizeof(*self->lines));
	self->regions = malloc((RESV_MAX + 1) * 64);
	self->ref = malloc((RESV_MAX + 1) * 64);
	self->names = malloc(NAMES_MAX);
	self->ref_names = malloc(NAMES_MAX);
	ASSERT_NE(NULL, self->got);
	ASSERT_NE(NULL, self->want);
	ASSERT_NE(NULL, self->lines);
	ASSERT_NE(NULL, self->regions);
	ASSERT_NE(NULL, self->ref);
	ASSERT_NE(NULL, self->names);
	ASSERT_NE(NULL, self->ref_names);
	self->iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, self->iommufd);
	for (d = 0; d < e->nr; d++) {
		self->dev[d] = resv_cdev_bind_id(self->iommufd, e->bdf[d], &self->dev_id[d]);
		ASSERT_LE(0, self->dev[d]) TH_LOG("%s: bind: %s", e->bdf[d],
						  strerror(-self->dev[d]));
	}
}

FIXTURE_TEARDOWN(query)
{
	int d;

	for (d = 0; d < RESV_MAX_DEVS; d++)
		if (self->dev[d] >= 0)
			close(self->dev[d]);
	if (self->iommufd >= 0)
		close(self->iommufd);
	free(self->got);
	free(self->want);
	free(self->lines);
	free(self->regions);
	free(self->ref);
	free(self->names);
	free(self->ref_names);
	resv_edus_release(&self->edus);
	/* The default, whatever a test left */
	resv_write_file("/sys/module/iommufd/parameters/enforce_pci_windows", "Y");
}

/*
 * Whether an attach enforces a region of @type: every type but
 * direct-relaxable, and the PCI kinds if @pci (-1: as an IOAS allocated now
 * would, from iommufd.enforce_pci_windows).
 */
static bool enforces(const char *type, int pci)
{
	if (pci < 0)
		return resv_iommufd_enforces(type);
	return strcmp(type, "direct-relaxable") && (pci || !resv_is_pci_kind(type));
}

/*
 * Check @d's answer against its lines of reserved_regions_detail, read by
 * the test, @pci as for enforces(); their number.
 */
static int check_device(struct __test_metadata *_metadata, struct _test_data_query *self, int d,
			int pci)
{
	int i, n, nd, nl = 0;

	const char *bdf = self->edus.bdf[d];

	n = resv_query(self->iommufd, self->dev_id[d], self->got, RESV_MAX);
	EXPECT_LT(0, n) TH_LOG("%s: query: %s", bdf, strerror(-n));
	nd = resv_read_detail(self->edus.group[d], self->lines, RESV_MAX);
	EXPECT_LT(0, nd) TH_LOG("group %d: reserved_regions_detail: %s", self->edus.group[d],
				strerror(-nd));
	if (n <= 0 || nd <= 0)
		return 0;
	for (i = 0; i < nd; i++) {
		const struct resv_detail *line = &self->lines[i];
		const struct resv_query_region *r = &self->got[nl];

		if (strcmp(line->dev, bdf))
			continue;
		if (nl++ == n)
			break;
		EXPECT_TRUE(resv_query_is_line(r, line))
			TH_LOG("%s: %d: got 0x%llx-0x%llx %s %s %s, file 0x%llx-0x%llx %s %s %s",
			       bdf, nl - 1, (unsigned long long)r->info.start,
			       (unsigned long long)r->info.last, resv_query_type(&r->info),
			       resv_query_owner_kind(&r->info), r->owner,
			       (unsigned long long)line->start, (unsigned long long)line->end,
			       line->type, line->owner_type, line->owner);
		EXPECT_EQ(self->dev_id[d], r->info.dev_id);
		EXPECT_EQ(enforces(line->type, pci), !!(r->info.flags & IOMMU_RESV_REGION_ENFORCED))
			TH_LOG("%s: %s region 0x%llx", bdf, line->type,
			       (unsigned long long)line->start);
		EXPECT_EQ(0, r->info.flags & ~IOMMU_RESV_REGION_ENFORCED);
		EXPECT_EQ(0, r->info.__reserved);
	}
	EXPECT_EQ(nl, n) TH_LOG("%s: %d regions, %d lines in the file", bdf, n, nl);
	return n;
}

/* Before attach: each device's own lines of the file, no more, no less */
TEST_F(query, device_is_its_detail_lines)
{
	int d;

	for (d = 0; d < self->edus.nr; d++)
		check_device(_metadata, self, d, -1);
}

/* The order of an IOAS's answer: start, last, dev_id, type */
static int cmp_order(const struct iommu_resv_region_info *x,
		     const struct iommu_resv_region_info *y)
{
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->last != y->last)
		return x->last < y->last ? -1 : 1;
	if (x->dev_id != y->dev_id)
		return x->dev_id < y->dev_id ? -1 : 1;
	return (x->type > y->type) - (x->type < y->type);
}

/* ... and every field, owner_offset aside (where one answer put the name) */
static int cmp_query_region(const void *a, const void *b)
{
	const struct resv_query_region *x = a, *y = b;
	int ret = cmp_order(&x->info, &y->info);

	if (ret)
		return ret;
	if (x->info.flags != y->info.flags)
		return x->info.flags < y->info.flags ? -1 : 1;
	if (x->info.owner_kind != y->info.owner_kind)
		return x->info.owner_kind < y->info.owner_kind ? -1 : 1;
	return strcmp(x->owner, y->owner);
}

/* The value of @name in @names, or -1 */
static int lookup(const char * const *names, int nr, const char *name)
{
	int i;

	for (i = 0; i < nr; i++)
		if (names[i] && !strcmp(names[i], name))
			return i;
	return -1;
}

/*
 * The IOAS's answer is the enforced lines of reserved_regions_detail of the
 * @nr_attached first devices (read by the test, with their dev_ids), sorted
 * by start, last, dev_id and type; an IOAS_MAP at the first page of each is
 * refused; and its usable ranges are the complement of their union.
 */
static void check_ioas(struct __test_metadata *_metadata, struct _test_data_query *self,
		       struct resv_ioas *s, int nr_attached)
{
	static struct resv_region holes[RESV_MAX];
	struct resv_range want[RESV_MAX], got[RESV_MAX];
	long page = self->edus.page;
	int d, i, n, nd, nw = 0, ng, nh = 0;

	for (d = 0; d < nr_attached; d++) {
		nd = resv_read_detail(self->edus.group[d], self->lines, RESV_MAX);
		ASSERT_LT(0, nd);
		for (i = 0; i < nd; i++) {
			const struct resv_detail *line = &self->lines[i];
			struct resv_query_region *w = &self->want[nw];

			if (strcmp(line->dev, self->edus.bdf[d]) ||
			    !resv_iommufd_enforces(line->type))
				continue;
			ASSERT_GT(RESV_MAX, nw);
			memset(w, 0, sizeof(*w));
			w->info.start = line->start;
			w->info.last = line->end;
			w->info.type = lookup(resv_query_types, ARRAY_SIZE(resv_query_types),
					      line->type);
			w->info.flags = IOMMU_RESV_REGION_ENFORCED;
			w->info.dev_id = self->dev_id[d];
			w->info.owner_kind = lookup(resv_query_owner_kinds,
						    ARRAY_SIZE(resv_query_owner_kinds),
						    line->owner_type);
			snprintf(w->owner, sizeof(w->owner), "%s",
				 strcmp(line->owner, "-") ? line->owner : "");
			nw++;
			holes[nh].start = line->start;
			holes[nh].end = line->end;
			snprintf(holes[nh++].type, sizeof(holes[0].type), "%s", line->type);
		}
	}
	n = resv_query(self->iommufd, s->id, self->got, RESV_MAX);
	ASSERT_EQ(nw, n) TH_LOG("IOAS with %d devices: %d regions, want %d", nr_attached, n, nw);
	for (i = 1; i < n; i++)
		EXPECT_GE(0, cmp_order(&self->got[i - 1].info, &self->got[i].info))
			TH_LOG("IOAS regions %d and %d out of order", i - 1, i);
	/* Within the order, regions that tie (same range, device and type) by owner */
	qsort(self->want, nw, sizeof(*self->want), cmp_query_region);
	qsort(self->got, n, sizeof(*self->got), cmp_query_region);
	for (i = 0; i < n; i++) {
		const struct resv_query_region *g = &self->got[i], *w = &self->want[i];
		uint64_t first = g->info.start & ~(uint64_t)(page - 1);

		EXPECT_EQ(0, cmp_query_region(w, g))
			TH_LOG("IOAS %d: 0x%llx-0x%llx %s %u %s %s, want 0x%llx-0x%llx %s %u %s %s",
			       i, (unsigned long long)g->info.start,
			       (unsigned long long)g->info.last, resv_query_type(&g->info),
			       g->info.dev_id, resv_query_owner_kind(&g->info), g->owner,
			       (unsigned long long)w->info.start,
			       (unsigned long long)w->info.last, resv_query_type(&w->info),
			       w->info.dev_id, resv_query_owner_kind(&w->info), w->owner);
		if (first <= RESV_APERTURE_END - page)
			EXPECT_EQ(-EINVAL, resv_ioas_map(s, self->edus.buf, first, page))
				TH_LOG("IOAS_MAP at 0x%llx, in an enforced region",
				       (unsigned long long)first);
	}

	/* An IOAS with no domain yet has no aperture either */
	nw = resv_complement(holes, nh, 0, nr_attached ? RESV_APERTURE_END : ULONG_MAX,
			     want, RESV_MAX);
	ASSERT_LT(0, nw);
	ng = resv_ioas_iova_ranges(s, got, RESV_MAX);
	ASSERT_EQ(nw, ng) TH_LOG("IOAS with %d devices: %d usable ranges, want %d",
				 nr_attached, ng, nw);
	for (i = 0; i < nw; i++) {
		EXPECT_EQ(want[i].start, got[i].start) TH_LOG("usable range %d", i);
		EXPECT_EQ(want[i].end, got[i].end) TH_LOG("usable range %d", i);
	}
}

/*
 * An IOAS enforces the union of its devices' lists: empty, then growing with
 * each attach, and each device's own answer does not change when attached.
 */
TEST_F(query, ioas_is_union_of_attached)
{
	struct vfio_device_detach_iommufd_pt detach = { .argsz = sizeof(detach) };
	struct resv_ioas s = { .iommufd = self->iommufd };
	int d;

	ASSERT_EQ(0, resv_ioas_alloc(&s));
	check_ioas(_metadata, self, &s, 0);
	for (d = 0; d < self->edus.nr; d++) {
		ASSERT_EQ(0, resv_cdev_attach(self->dev[d], s.id)) TH_LOG("%s", self->edus.bdf[d]);
		check_device(_metadata, self, d, -1);
		check_ioas(_metadata, self, &s, d + 1);
	}
	for (d = self->edus.nr - 1; d >= 0; d--) {
		ASSERT_EQ(0, ioctl(self->dev[d], VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach));
		check_ioas(_metadata, self, &s, d);
	}
}

#define ENFORCE_PCI_WINDOWS	"/sys/module/iommufd/parameters/enforce_pci_windows"

/*
 * With iommufd.enforce_pci_windows off, an unattached device's PCI windows
 * are not enforced, nor those of a device attached to an IOAS allocated
 * then, even once it is on again; the IOAS does not report them, and maps
 * over them (IOAS_IOVA_RANGES agrees, in check_ioas()).
 */
TEST_F(query, enforce_pci_windows_off)
{
	struct resv_ioas s = { .iommufd = self->iommufd };

	if (resv_write_file(ENFORCE_PCI_WINDOWS, "N"))
		SKIP(return, "no writable " ENFORCE_PCI_WINDOWS);
	check_device(_metadata, self, 0, false);
	ASSERT_EQ(0, resv_ioas_alloc(&s));
	ASSERT_EQ(0, resv_write_file(ENFORCE_PCI_WINDOWS, "Y"));
	check_device(_metadata, self, 0, true);
	ASSERT_EQ(0, resv_cdev_attach(self->dev[0], s.id));
	check_device(_metadata, self, 0, false);
	/* What the IOAS reports, built as resv_iommufd_enforces() says: off */
	ASSERT_EQ(0, resv_write_file(ENFORCE_PCI_WINDOWS, "N"));
	check_ioas(_metadata, self, &s, 1);
}

/* An answer that fills @size bytes per entry; 0 or -errno */
static int query_into(struct _test_data_query *self, uint32_t id, struct iommu_resv_regions *q,
		      void *regions, uint32_t num, uint32_t size, char *names, uint32_t len)
{
	*q = (struct iommu_resv_regions) {
		.size = sizeof(*q),
		.object_id = id,
		.num_regions = num,
		.region_size = size,
		.names_len = len,
		.regions_uptr = (uintptr_t)regions,
		.names_uptr = (uintptr_t)names,
	};
	return resv_query_call(self->iommufd, q);
}

/* A device with the most regions: the buffers-too-small cases need two */
static int busiest_device(struct _test_data_query *self, int *nr_regions)
{
	int d, n, best = 0;

	*nr_regions = 0;
	for (d = 0; d < self->edus.nr; d++) {
		n = resv_query(self->iommufd, self->dev_id[d], self->got, RESV_MAX);
		if (n > *nr_regions) {
			*nr_regions = n;
			best = d;
		}
	}
	return best;
}

TEST_F(query, bad_input)
{
	const size_t entry = sizeof(struct iommu_resv_region_info);
	struct iommu_resv_regions q, full;
	struct {
		struct iommu_resv_regions q;
		uint64_t extra;
	} big;
	uint8_t *regions = self->regions, *ref = self->ref;
	char *names = self->names, *ref_names = self->ref_names;
	struct vfio_device_detach_iommufd_pt detach = { .argsz = sizeof(detach) };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	const struct iommu_resv_region_info *last;
	struct resv_ioas s = {};
	int d, n, i;
	uint32_t id;
	size_t b;

	d = busiest_device(self, &n);
	ASSERT_LT(0, n);
	id = self->dev_id[d];

	/* The reference answer */
	ASSERT_EQ(0, query_into(self, id, &full, ref, RESV_MAX, entry, ref_names, NAMES_MAX));
	ASSERT_EQ(n, full.num_regions);
	EXPECT_EQ(entry, full.region_size);

	/* Short, oversized with garbage, oversized with zeroes */
	q = (struct iommu_resv_regions) { .size = offsetof(struct iommu_resv_regions, names_uptr),
					  .object_id = id };
	EXPECT_EQ(-EINVAL, resv_query_call(self->iommufd, &q));
	memset(&big, 0, sizeof(big));
	big.q.size = sizeof(big);
	big.q.object_id = id;
	big.extra = 1;
	EXPECT_EQ(-E2BIG, resv_query_call(self->iommufd, &big.q));
	big.extra = 0;
	EXPECT_EQ(-EMSGSIZE, resv_query_call(self->iommufd, &big.q));
	EXPECT_EQ(n, big.q.num_regions);
	EXPECT_EQ(full.names_len, big.q.names_len);

	/* Unknown flags, no such object, an object of another type */
	q = (struct iommu_resv_regions) { .size = sizeof(q), .flags = 1, .object_id = id };
	EXPECT_EQ(-EOPNOTSUPP, resv_query_call(self->iommufd, &q));
	EXPECT_EQ(-ENOENT, query_into(self, 0, &q, NULL, 0, 0, NULL, 0));
	EXPECT_EQ(-ENOENT, query_into(self, 0x7fffffff, &q, NULL, 0, 0, NULL, 0));
	s.iommufd = self->iommufd;
	ASSERT_EQ(0, resv_ioas_alloc(&s));
	at.pt_id = s.id;
	ASSERT_EQ(0, ioctl(self->dev[d], VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at));
	EXPECT_NE(s.id, at.pt_id);	/* now the automatic HWPT */
	EXPECT_EQ(-EINVAL, query_into(self, at.pt_id, &q, NULL, 0, 0, NULL, 0));
	ASSERT_EQ(0, ioctl(self->dev[d], VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach));
	ASSERT_EQ(0, resv_ioas_free(&s, false));

	/* Entries smaller than the first definition, or absurdly padded */
	EXPECT_EQ(-EINVAL, query_into(self, id, &q, regions, n, entry - 1, NULL, 0));
	EXPECT_EQ(-EINVAL, query_into(self, id, &q, regions, n, 4097, NULL, 0));
	EXPECT_EQ(-EINVAL, query_into(self, id, &q, regions, n, 0, NULL, 0));

	/* Room for one entry less: those that fit, the count needed, no more */
	memset(regions, 0xa5, (RESV_MAX + 1) * 64);
	EXPECT_EQ(-EMSGSIZE, query_into(self, id, &q, regions, n - 1, entry, NULL, 0));
	EXPECT_EQ(n, q.num_regions);
	EXPECT_EQ(full.names_len, q.names_len);
	EXPECT_EQ(0, memcmp(ref, regions, (n - 1) * entry));
	for (b = (n - 1) * entry; b < n * entry; b++)
		ASSERT_EQ(0xa5, regions[b]) TH_LOG("byte %zu written past the room given", b);

	/* No names asked for: every entry, the names' length, offsets alike */
	memset(regions, 0xa5, (RESV_MAX + 1) * 64);
	EXPECT_EQ(0, query_into(self, id, &q, regions, n, entry, NULL, 0));
	EXPECT_EQ(full.names_len, q.names_len);
	EXPECT_EQ(0, memcmp(ref, regions, n * entry));

	/*
	 * Names one byte short: the names that fit, whole, the length, and
	 * nothing of the last name (a length of 0 would ask for no names)
	 */
	memset(names, 0xa5, NAMES_MAX);
	if (full.names_len > 1) {
		EXPECT_EQ(-EMSGSIZE, query_into(self, id, &q, regions, n, entry, names,
						full.names_len - 1));
		EXPECT_EQ(full.names_len, q.names_len);
		last = (const void *)(ref + (n - 1) * entry);
		EXPECT_EQ(0, memcmp(ref_names, names, last->owner_offset));
		for (b = last->owner_offset; b < full.names_len; b++)
			ASSERT_EQ((char)0xa5, names[b]) TH_LOG("name byte %zu written", b);
	}

	/* Bigger entries: the kernel's part, zeroes after, at the caller's stride */
	memset(regions, 0xa5, (RESV_MAX + 1) * 64);
	EXPECT_EQ(0, query_into(self, id, &q, regions, n, 64, names, NAMES_MAX));
	EXPECT_EQ(entry, q.region_size);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(0, memcmp(ref + i * entry, regions + i * 64, entry));
		for (b = entry; b < 64; b++)
			ASSERT_EQ(0, regions[i * 64 + b]) TH_LOG("entry %d byte %zu", i, b);
	}
	EXPECT_EQ(0xa5, regions[n * 64]);

	/* The same for an IOAS, whose answer is sorted: names follow the entries */
	s.iommufd = self->iommufd;
	ASSERT_EQ(0, resv_ioas_alloc(&s));
	ASSERT_EQ(0, resv_cdev_attach(self->dev[d], s.id));
	ASSERT_EQ(-EMSGSIZE, query_into(self, s.id, &full, NULL, 0, 0, NULL, 0));
	n = full.num_regions;
	ASSERT_LT(0, n);
	ASSERT_EQ(0, query_into(self, s.id, &full, ref, n, entry, ref_names, NAMES_MAX));
	for (i = 0; i + 1 < n; i++) {
		const struct iommu_resv_region_info *x = (const void *)(ref + i * entry);

		EXPECT_EQ(x[0].owner_offset + strlen(ref_names + x[0].owner_offset) + 1,
			  x[1].owner_offset) TH_LOG("IOAS entry %d: names out of order", i);
	}
	memset(regions, 0xa5, (RESV_MAX + 1) * 64);
	EXPECT_EQ(-EMSGSIZE, query_into(self, s.id, &q, regions, n - 1, entry, NULL, 0));
	EXPECT_EQ(n, q.num_regions);
	EXPECT_EQ(0, memcmp(ref, regions, (n - 1) * entry));
	if (full.names_len > 1) {
		memset(names, 0xa5, NAMES_MAX);
		EXPECT_EQ(-EMSGSIZE, query_into(self, s.id, &q, regions, n, entry, names,
						full.names_len - 1));
		last = (const void *)(ref + (n - 1) * entry);
		EXPECT_EQ(0, memcmp(ref_names, names, last->owner_offset));
		for (b = last->owner_offset; b < full.names_len; b++)
			ASSERT_EQ((char)0xa5, names[b]) TH_LOG("IOAS name byte %zu written", b);
	}
	ASSERT_EQ(0, ioctl(self->dev[d], VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach));
	ASSERT_EQ(0, resv_ioas_free(&s, false));

	/* Buffers userspace does not have */
	EXPECT_EQ(-EFAULT, query_into(self, id, &q, (void *)8, n, entry, NULL, 0));
	EXPECT_EQ(-EFAULT, query_into(self, id, &q, regions, n, entry, (void *)8, NAMES_MAX));

	/* A device no longer bound: its object is gone with its cdev */
	close(self->dev[d]);
	self->dev[d] = -1;
	EXPECT_EQ(-ENOENT, query_into(self, id, &q, regions, n, entry, NULL, 0));
}

static bool same_regions(const struct resv_query_region *a,
			 const struct resv_query_region *b, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (memcmp(&a[i].info, &b[i].info, sizeof(a[i].info)) ||
		    strcmp(a[i].owner, b[i].owner))
			return false;
	return true;
}

/*
 * IOMMU_GET_RESV_REGIONS gathers a device's group again when its regions
 * changed, and an IOAS's query reserves its devices' regions again first:
 * with each allocation failing in turn, the query fails with an errno, or
 * returns the unfailed answer, for the device and for its IOAS.
 */
TEST_F(global, fail_nth)
{
	static struct resv_query_region want[RESV_MAX], got[RESV_MAX];
	unsigned int nth, failed = 0, injected = 0, pass;
	struct resv_ioas *ioas = &self->be.ioas;
	int nw, ng;

	RESV_SKIP_UNLESS(return, RESV_NEED_FAIL_NTH);
	ASSERT_EQ(0, resv_be_open(&self->be, self->group, self->bdf));

	for (pass = 0; pass < 2; pass++) {
		uint32_t id = pass ? (uint32_t)ioas->id : ioas->dev_id;

		nw = resv_query(ioas->iommufd, id, want, RESV_MAX);
		ASSERT_LT(0, nw);
		for (nth = 1; nth < MAX_NTH; nth++) {
			ASSERT_EQ(0, resv_regather());	/* the query gathers */
			resv_fail_nth_set(nth);
			ng = resv_query(ioas->iommufd, id, got, RESV_MAX);
			if (!resv_fail_nth_injected()) {
				EXPECT_EQ(nw, ng);
				break;
			}
			if (ng < 0) {
				/*
				 * ENOMEM, or the errno of another fault point
				 * (iommufd's own with CONFIG_IOMMUFD_TEST, a
				 * user copy); then nothing stays half done
				 */
				failed++;
				ng = resv_query(ioas->iommufd, id, got, RESV_MAX);
				ASSERT_EQ(nw, ng) TH_LOG("nth %u: after the failure: %d", nth, ng);
				EXPECT_TRUE(same_regions(want, got, nw))
					TH_LOG("nth %u: after the failure, regions differ", nth);
				continue;
			}
			ASSERT_EQ(nw, ng) TH_LOG("nth %u: %d regions, want %d", nth, ng, nw);
			EXPECT_TRUE(same_regions(want, got, nw))
				TH_LOG("nth %u: regions differ", nth);
		}
		EXPECT_GT(MAX_NTH, nth);
		injected += nth - 1;
		/* After all that, the answer is the same */
		ng = resv_query(ioas->iommufd, id, got, RESV_MAX);
		ASSERT_EQ(nw, ng);
		EXPECT_TRUE(same_regions(want, got, nw));
	}
	EXPECT_LT(0, failed);
	printf("# IOMMU_GET_RESV_REGIONS: %u failures injected, %u failed cleanly\n",
	       injected, failed);
	resv_be_close(&self->be);
}

TEST_HARNESS_MAIN
