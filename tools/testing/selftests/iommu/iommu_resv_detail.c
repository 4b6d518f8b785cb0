// SPDX-License-Identifier: GPL-2.0-only
/*
 * reserved_regions_detail: its format and order, its agreement with the
 * merged reserved_regions file, and owners that resolve.
 */
#include "iommu_resv_utils.h"
#include "../kselftest_harness.h"

#define MAX_LINES	1024

struct detail_line {
	unsigned long long start, end;
	char type[32];
	char dev[64];
	char owner_type[16];
	char owner[256];
};

/*
 * Detail types in kernel order, the kernel type each one is (regions of one
 * kernel type merge in reserved_regions) and how reserved_regions names it.
 */
#define NR_KTYPES	5
static const struct {
	const char *detail;
	int ktype;
	const char *legacy;
} types[] = {
	{ "direct", 0, "direct" },
	{ "direct-relaxable", 1, "direct-relaxable" },
	{ "reserved", 2, "reserved" },
	{ "bridge-window", 2, "reserved" },
	{ "peer-bar", 2, "reserved" },
	{ "host-window", 2, "reserved" },
	{ "dma-range-gap", 2, "reserved" },
	{ "msi", 3, "msi" },
	{ "sw-msi", 4, "msi" },
};

static const char *ktype_legacy(int ktype)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(types); i++)
		if (types[i].ktype == ktype)
			return types[i].legacy;
	return "?";
}

static const char * const owner_types[] = { "unknown", "device", "iommu", "firmware" };

static int type_index(const char *t)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(types); i++)
		if (!strcmp(t, types[i].detail))
			return i;
	return -1;
}

static int owner_type_index(const char *t)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(owner_types); i++)
		if (!strcmp(t, owner_types[i]))
			return i;
	return -1;
}

/* Parse the detail file strictly; -errno, or -EBADMSG with *bad set. */
static int read_detail(int group, struct detail_line *l, int max, int *bad)
{
	char *buf, *line, *save, again[512];
	int n = 0, ret, used;

	*bad = 0;
	buf = resv_read_group_file(group, "reserved_regions_detail", &ret);
	if (!buf)
		return ret;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct detail_line *d = &l[n];

		used = 0;
		if (n == max ||
		    sscanf(line, "0x%16llx 0x%16llx %31s %63s %15s %255s%n", &d->start,
			   &d->end, d->type, d->dev, d->owner_type, d->owner, &used) != 6) {
			*bad = n + 1;
			return -EBADMSG;
		}
		snprintf(again, sizeof(again), "0x%016llx 0x%016llx %s %s %s %s", d->start,
			 d->end, d->type, d->dev, d->owner_type, d->owner);
		if ((size_t)used != strlen(line) || strcmp(again, line)) {
			*bad = n + 1;
			return -EBADMSG;
		}
		n++;
	}
	return n;
}

static int cmp_line(const struct detail_line *a, const struct detail_line *b)
{
	int r;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (a->end != b->end)
		return a->end < b->end ? -1 : 1;
	r = type_index(a->type) - type_index(b->type);
	if (r)
		return r;
	r = strcmp(a->dev, b->dev);
	if (r)
		return r;
	r = owner_type_index(a->owner_type) - owner_type_index(b->owner_type);
	if (r)
		return r;
	return strcmp(a->owner, b->owner);
}

FIXTURE(detail) {
	int groups[RESV_MAX_GROUPS];
	int nr;
	struct detail_line lines[MAX_LINES];
};

FIXTURE_SETUP(detail)
{
	char path[64];

	self->nr = resv_list_groups(self->groups, RESV_MAX_GROUPS);
	if (self->nr <= 0)
		SKIP(return, "no IOMMU groups");
	snprintf(path, sizeof(path), RESV_GROUPS_DIR "/%d/reserved_regions_detail",
		 self->groups[0]);
	ASSERT_EQ(0, access(path, R_OK)) TH_LOG("no reserved_regions_detail file");
}

FIXTURE_TEARDOWN(detail)
{
}

/* Six fields, known values, devices of this group, owner "-" iff unknown. */
TEST_F(detail, format)
{
	char path[PATH_MAX];
	int g, i, n, bad;

	for (g = 0; g < self->nr; g++) {
		n = read_detail(self->groups[g], self->lines, MAX_LINES, &bad);
		ASSERT_LE(0, n) TH_LOG("group %d: line %d malformed", self->groups[g], bad);
		for (i = 0; i < n; i++) {
			struct detail_line *d = &self->lines[i];

			EXPECT_LE(d->start, d->end);
			EXPECT_LE(0, type_index(d->type)) TH_LOG("type '%s'", d->type);
			EXPECT_LE(0, owner_type_index(d->owner_type))
				TH_LOG("owner type '%s'", d->owner_type);
			EXPECT_EQ(!strcmp(d->owner_type, "unknown"), !strcmp(d->owner, "-"))
				TH_LOG("owner type %s with owner %s", d->owner_type, d->owner);
			snprintf(path, sizeof(path), RESV_GROUPS_DIR "/%d/devices/%.64s",
				 self->groups[g], d->dev);
			EXPECT_EQ(0, access(path, F_OK))
				TH_LOG("group %d: device %s is not a member", self->groups[g],
				       d->dev);
		}
	}
}

/* Ordered by start, end, type, device, owner type and owner; no duplicates. */
TEST_F(detail, sorted)
{
	int g, i, n, bad;

	for (g = 0; g < self->nr; g++) {
		n = read_detail(self->groups[g], self->lines, MAX_LINES, &bad);
		ASSERT_LE(0, n);
		for (i = 1; i < n; i++)
			EXPECT_GT(0, cmp_line(&self->lines[i - 1], &self->lines[i]))
				TH_LOG("group %d: lines %d and %d out of order", self->groups[g],
				       i, i + 1);
	}
}

/* Order of reserved_regions: by start, then type (its index rides in .type). */
static int cmp_start_type(const void *pa, const void *pb)
{
	const struct resv_region *a = pa, *b = pb;
	int r = resv_cmp_start(a, b);

	return r ?: atoi(a->type) - atoi(b->type);
}

/*
 * Merging the detail lines per type, overlapping or adjacent ranges together,
 * ordered by start then type, gives the reserved_regions file line for line.
 */
TEST_F(detail, union_is_reserved_regions)
{
	struct resv_region want[RESV_MAX], legacy[RESV_MAX];
	int g, i, n, nl, nw;

	for (g = 0; g < self->nr; g++) {
		int bad, t;

		n = read_detail(self->groups[g], self->lines, MAX_LINES, &bad);
		ASSERT_LE(0, n);
		nl = resv_read_group(self->groups[g], legacy, RESV_MAX);
		ASSERT_LE(0, nl);
		/* Lines are sorted by start, so one sweep per type merges them. */
		nw = 0;
		for (t = 0; t < NR_KTYPES; t++) {
			int open = -1;

			for (i = 0; i < n; i++) {
				struct detail_line *d = &self->lines[i];
				int ti = type_index(d->type);

				if (ti < 0 || types[ti].ktype != t)
					continue;
				if (open >= 0 && (d->start <= want[open].end ||
						  d->start - 1 == want[open].end)) {
					if (d->end > want[open].end)
						want[open].end = d->end;
					continue;
				}
				ASSERT_GT(RESV_MAX, nw);
				open = nw++;
				want[open].start = d->start;
				want[open].end = d->end;
				/* the kernel type rides in the name until sorted */
				snprintf(want[open].type, sizeof(want[open].type), "%d", t);
			}
		}
		qsort(want, nw, sizeof(want[0]), cmp_start_type);
		ASSERT_EQ(nw, nl)
			TH_LOG("group %d: %d merged ranges, %d in reserved_regions",
			       self->groups[g], nw, nl);
		for (i = 0; i < nl; i++) {
			EXPECT_EQ(want[i].start, legacy[i].start)
				TH_LOG("group %d line %d", self->groups[g], i + 1);
			EXPECT_EQ(want[i].end, legacy[i].end)
				TH_LOG("group %d line %d", self->groups[g], i + 1);
			EXPECT_STREQ(ktype_legacy(atoi(want[i].type)), legacy[i].type);
		}
	}
}

/* Owners named by a sysfs path exist; every member has a line. */
TEST_F(detail, owners_resolve)
{
	char path[PATH_MAX];
	struct dirent *e;
	struct stat st;
	int g, i, n, bad;
	DIR *d;

	for (g = 0; g < self->nr; g++) {
		n = read_detail(self->groups[g], self->lines, MAX_LINES, &bad);
		ASSERT_LE(0, n);
		for (i = 0; i < n; i++) {
			struct detail_line *l = &self->lines[i];

			if (strcmp(l->owner_type, "device") && strcmp(l->owner_type, "iommu"))
				continue;
			EXPECT_EQ(0, strncmp(l->owner, "/sys/", 5)) TH_LOG("owner %s", l->owner);
			EXPECT_EQ(0, stat(l->owner, &st)) TH_LOG("owner %s does not exist",
								 l->owner);
			EXPECT_TRUE(S_ISDIR(st.st_mode));
		}
		snprintf(path, sizeof(path), RESV_GROUPS_DIR "/%d/devices", self->groups[g]);
		d = opendir(path);
		ASSERT_NE(NULL, d);
		while ((e = readdir(d))) {
			bool found = false;

			if (e->d_name[0] == '.')
				continue;
			for (i = 0; i < n; i++)
				found |= !strcmp(self->lines[i].dev, e->d_name);
			/* Every device behind these IOMMUs has at least an MSI window. */
			EXPECT_TRUE(found) TH_LOG("group %d: no line for %s", self->groups[g],
						  e->d_name);
		}
		closedir(d);
	}
}

/* The MSI window is owned by the IOMMU instance, and typed per arch. */
TEST_F(detail, msi_window_owner)
{
	int g, i, n, bad, found;

	for (g = 0; g < self->nr; g++) {
		n = read_detail(self->groups[g], self->lines, MAX_LINES, &bad);
		ASSERT_LE(0, n);
		found = 0;
		for (i = 0; i < n; i++) {
			struct detail_line *l = &self->lines[i];

			if (l->start != RESV_MSI_START || l->end != RESV_MSI_END)
				continue;
			found++;
#if defined(__x86_64__)
			EXPECT_STREQ("msi", l->type);	/* the interrupt window: hardware */
#else
			EXPECT_STREQ("sw-msi", l->type);	/* SMMUv3 maps doorbells itself */
#endif
			EXPECT_STREQ("iommu", l->owner_type);
		}
		EXPECT_LT(0, found) TH_LOG("group %d: no MSI window", self->groups[g]);
	}
}

TEST_HARNESS_MAIN
