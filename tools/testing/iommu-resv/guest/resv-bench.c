// SPDX-License-Identifier: GPL-2.0-only
/*
 * For 'make bench', inside the VM: time what the series touches, printing
 * "BENCH <row> <nanoseconds>" lines (each the median of REPS repetitions of
 * a timed loop) or "BENCH <row> n/a <why>":
 *
 *  map      VFIO_IOMMU_MAP_DMA + UNMAP_DMA of 4 KiB and 2 MiB through type1,
 *           IOMMU_IOAS_MAP + UNMAP through iommufd, per pair of calls
 *  regions  with 1, 16, 256, 4096 regions injected into an edu's group
 *           (CONFIG_IOMMU_RESV_INJECT): a 4 KiB map+unmap, and a refused map
 *           inside the last region, per call
 *  sysfs    a whole read of reserved_regions (open, read, close) of a
 *           group of each size, per read (and of reserved_regions_detail,
 *           patched kernel only: also per KiB beyond the first byte,
 *           beside a control file of upstream's)
 *  attach   building the group list as VFIO does it: VFIO_GROUP_SET_CONTAINER
 *           + VFIO_SET_IOMMU (type1 gathers the group's regions and builds its
 *           usable-range list) and closing both, for an edu group of each
 *           size, per attach+detach; and IOMMU_IOAS_ALLOC + attach of one
 *           edu of the group (bound once) + detach + IOMMU_DESTROY
 *  The *_cold rows time the same with the group made to gather again before
 *  each call (the test-only injector tells every group its regions may have
 *  changed; not timed): what a read or an attach costs right after a change,
 *  with nothing kept from before. The unpatched kernel keeps nothing: its
 *  plain rows are its cold ones.
 */
#include <sys/mman.h>
#include <time.h>
#include "iommu_resv_utils.h"

#define REPS		7
#define MAX_DEVS	512	/* the bench's largest group */
#define SZ_2M		0x200000ULL
#define BENCH_IOVA	0x100000000ULL	/* 4 GiB: clear of every region here */
#define ACPI_DSDT	"/sys/firmware/acpi/tables/DSDT"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

typedef int (*op_fn)(void *ctx);

/* Median over REPS of the time per iteration of @op, or 0 if it failed. */
static uint64_t time_op(op_fn op, void *ctx, int iters)
{
	uint64_t t[REPS], start;
	int r, i;

	for (r = 0; r < REPS; r++) {
		start = now_ns();
		for (i = 0; i < iters; i++)
			if (op(ctx))
				return 0;
		t[r] = (now_ns() - start) / iters;
	}
	qsort(t, REPS, sizeof(t[0]), cmp_u64);
	return t[REPS / 2];
}

/*
 * As time_op(), each iteration after making every group gather again
 * (resv_regather(), not timed): the cost with nothing kept from before.
 * 0 without the injector (the unpatched kernel keeps nothing anyway).
 */
static uint64_t time_op_cold(op_fn op, void *ctx, int iters)
{
	uint64_t t[REPS], sum, start;
	int r, i;

	if (access(RESV_INJECT, W_OK))
		return 0;
	for (r = 0; r < REPS; r++) {
		for (sum = 0, i = 0; i < iters; i++) {
			if (resv_regather())
				return 0;
			start = now_ns();
			if (op(ctx))
				return 0;
			sum += now_ns() - start;
		}
		t[r] = sum / iters;
	}
	qsort(t, REPS, sizeof(t[0]), cmp_u64);
	return t[REPS / 2];
}

static void report(const char *row, uint64_t ns, const char *why)
{
	if (ns)
		printf("BENCH %s %llu\n", row, (unsigned long long)ns);
	else
		printf("BENCH %s n/a %s\n", row, why);
	fflush(stdout);
}

struct map_ctx {
	int container;
	struct resv_ioas *ioas;
	void *buf;
	uint64_t iova, size;
};

static int type1_map_unmap(void *p)
{
	struct map_ctx *c = p;

	return resv_type1_map(c->container, c->buf, c->iova, c->size) ?:
	       resv_type1_unmap(c->container, c->iova, c->size);
}

static int type1_refused(void *p)
{
	struct map_ctx *c = p;

	return resv_type1_map(c->container, c->buf, c->iova, c->size) == -EINVAL ? 0 : -1;
}

static int ioas_map_unmap(void *p)
{
	struct map_ctx *c = p;

	return resv_ioas_map(c->ioas, c->buf, c->iova, c->size) ?:
	       resv_ioas_unmap(c->ioas, c->iova, c->size);
}

static void *buffer(uint64_t size)
{
	/* 2 MiB aligned, so that a 2 MiB map can use one huge IOMMU page */
	uint8_t *p = mmap(NULL, size + SZ_2M, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	p = (uint8_t *)(((uintptr_t)p + SZ_2M - 1) & ~(uintptr_t)(SZ_2M - 1));
	memset(p, 1, size);
	return p;
}

static void bench_map(const char *bdf, int group)
{
	static const struct { const char *name; uint64_t size; int iters; } sz[] = {
		{ "4k", 0x1000, 2000 }, { "2m", SZ_2M, 100 },
	};
	struct map_ctx c = { .iova = BENCH_IOVA };
	struct resv_ioas ioas;
	char row[64];
	int gfd = -1, i;

	c.buf = buffer(SZ_2M);
	c.container = resv_type1_container(group, &gfd);
	for (i = 0; i < 2; i++) {
		c.size = sz[i].size;
		snprintf(row, sizeof(row), "type1.map_unmap.%s", sz[i].name);
		report(row, c.container >= 0 && c.buf ? time_op(type1_map_unmap, &c, sz[i].iters) : 0,
		       "type1 container failed");
	}
	if (c.container >= 0) {
		close(gfd);
		close(c.container);
	}
	c.ioas = &ioas;
	for (i = 0; i < 2; i++) {
		int ret = resv_ioas_attach(bdf, &ioas);

		c.size = sz[i].size;
		snprintf(row, sizeof(row), "iommufd.map_unmap.%s", sz[i].name);
		report(row, !ret && c.buf ? time_op(ioas_map_unmap, &c, sz[i].iters) : 0,
		       "no iommufd/VFIO cdev");
		if (!ret)
			resv_ioas_close(&ioas);
	}
}

static void bench_regions(const char *bdf, int group)
{
	static const unsigned int counts[] = { 1, 16, 256, 4096 };
	const uint64_t base = 0x4000000000ULL, stride = 0x200000, size = 0x1000;
	struct map_ctx c = { .size = 0x1000 };
	char row[64], inj[128];
	unsigned int k;
	int gfd = -1;

	c.buf = buffer(0x1000);
	for (k = 0; k < ARRAY_SIZE(counts); k++) {
		uint64_t ok = 0, refused = 0;

		snprintf(inj, sizeof(inj), "%s %u 0x%llx 0x%llx 0x%llx", bdf, counts[k],
			 (unsigned long long)base, (unsigned long long)stride,
			 (unsigned long long)size);
		if (!access(RESV_INJECT, W_OK) && !resv_write_file(RESV_INJECT, inj)) {
			c.container = resv_type1_container(group, &gfd);
			if (c.container >= 0) {
				c.iova = BENCH_IOVA;
				ok = time_op(type1_map_unmap, &c, 2000);
				c.iova = base + (counts[k] - 1) * stride;
				refused = time_op(type1_refused, &c, 2000);
				close(gfd);
				close(c.container);
			}
		}
		snprintf(row, sizeof(row), "regions.%u.map_unmap.4k", counts[k]);
		report(row, ok, "no injector (unpatched kernel)");
		snprintf(row, sizeof(row), "regions.%u.refused_map", counts[k]);
		report(row, refused, "no injector (unpatched kernel)");
	}
	snprintf(inj, sizeof(inj), "%s 0", bdf);
	if (!access(RESV_INJECT, W_OK))
		resv_write_file(RESV_INJECT, inj);
}

static int read_file(void *p)
{
	static char buf[1 << 16];
	int fd = open(p, O_RDONLY);

	if (fd < 0)
		return -1;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	return 0;
}

/*
 * For each group size, the last group of that size: @groups[n] = group + 1,
 * or 0. With @edus_only, only groups holding an edu count (they can be
 * attached to VFIO once their edus are bound to vfio-pci).
 */
static void groups_by_size(int *by_size, bool edus_only)
{
	int groups[1024], n, i;
	char bdf[MAX_DEVS][16];

	memset(by_size, 0, (MAX_DEVS + 1) * sizeof(*by_size));
	if (edus_only) {
		n = resv_find_pci(RESV_EDU_VENDOR, RESV_EDU_DEVICE, bdf, MAX_DEVS);
		for (i = 0; i < n; i++)
			groups[i] = resv_device_group(bdf[i]);
	} else {
		n = resv_list_groups(groups, 1024);
	}
	for (i = 0; i < n; i++) {
		int nd = groups[i] < 0 ? 0 : resv_group_size(groups[i]);

		if (nd > 0 && nd <= MAX_DEVS)
			by_size[nd] = groups[i] + 1;
	}
}

/* The bytes a whole read of @path returns (0 if none) */
static uint64_t file_bytes(const char *path)
{
	static char buf[1 << 16];
	uint64_t bytes = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		bytes += n;
	close(fd);
	return bytes;
}

/* As read_file(), but only the first byte: what a read costs besides its size */
static int read_first_byte(void *p)
{
	char c;
	int fd = open(p, O_RDONLY);

	if (fd < 0)
		return -1;
	if (read(fd, &c, 1) != 1) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * The cost of a whole read of @path per KiB beyond its first byte (whole read
 * minus a one-byte read, over the bytes in between), with the file's size on
 * a BENCHINFO line, which bench.sh prints below its table: what reading
 * costs per byte, without the open, the first read() and the close. The
 * control is a binary attribute upstream serves by memcpy() from memory it
 * keeps, read the same way on both kernels.
 */
static void report_per_kib(const char *row, const char *path)
{
	uint64_t bytes = access(path, R_OK) ? 0 : file_bytes(path);
	uint64_t whole = 0, first = 0, cost = 0;

	if (bytes > 1) {
		whole = time_op(read_file, (void *)path, 50);
		first = time_op(read_first_byte, (void *)path, 50);
		if (whole > first)
			cost = (whole - first) * 1024 / (bytes - 1);
	}
	report(row, cost, bytes > 1 ? "reading it failed" : "no such file, or empty");
	if (bytes)
		printf("BENCHINFO %s %llu bytes\n", row, (unsigned long long)bytes);
}

static void bench_sysfs(void)
{
	static const char * const files[] = { "reserved_regions", "reserved_regions_detail" };
	static const char * const rows[] = { "read", "read_detail" };
	int by_size[MAX_DEVS + 1], i, f;
	char row[64], path[96];

	groups_by_size(by_size, false);
	for (f = 0; f < 2; f++) {
		for (i = 1; i <= MAX_DEVS; i++) {
			if (!by_size[i])
				continue;
			snprintf(path, sizeof(path), RESV_GROUPS_DIR "/%d/%s", by_size[i] - 1,
				 files[f]);
			snprintf(row, sizeof(row), "sysfs.%s.%ddev", rows[f], i);
			report(row, access(path, R_OK) ? 0 : time_op(read_file, path, 200),
			       "no such file (unpatched kernel)");
			snprintf(row, sizeof(row), "sysfs.%s_cold.%ddev", rows[f], i);
			report(row, access(path, R_OK) ? 0 : time_op_cold(read_file, path, 20),
			       "no injector to make it gather (unpatched kernel: never kept)");
			/* The legacy file is a few lines: per KiB says nothing */
			if (f == 1) {
				snprintf(row, sizeof(row), "sysfs.%s_per_kib.%ddev", rows[f], i);
				report_per_kib(row, path);
			}
		}
	}
	/* The DSDT where there is ACPI (an arm64 ACPI boot has a stub DT too) */
	report_per_kib("sysfs.control_per_kib", access(ACPI_DSDT, R_OK) ? "/sys/firmware/fdt" :
		       ACPI_DSDT);
}

static int attach_detach(void *p)
{
	int gfd = -1, container = resv_type1_container(*(int *)p, &gfd);

	if (container < 0)
		return -1;
	close(gfd);
	close(container);
	return 0;
}

/* IOAS allocation, attach of the bound device, detach and destruction */
static int ioas_attach_detach(void *p)
{
	struct resv_ioas *s = p;

	if (resv_ioas_alloc(s))
		return -1;
	if (resv_cdev_attach(s->dev, s->id)) {
		resv_ioas_free(s, false);
		return -1;
	}
	return resv_ioas_free(s, true);
}

/* An edu of @group, or NULL */
static const char *edu_of(char bdf[][16], const int *group, int n, int g)
{
	int i;

	for (i = 0; i < n; i++)
		if (group[i] == g)
			return bdf[i];
	return NULL;
}

static void bench_attach(void)
{
	int by_size[MAX_DEVS + 1], failed, i, n;
	char bdf[MAX_DEVS][16], row[64];
	int group[MAX_DEVS];

	n = resv_bind_edus(bdf, group, MAX_DEVS, &failed);
	if (n <= 0) {
		report("type1.attach", 0, "binding the edus to vfio-pci failed");
		return;
	}
	groups_by_size(by_size, true);
	for (i = 1; i <= MAX_DEVS; i++) {
		int g = by_size[i] - 1;
		const char *edu = edu_of(bdf, group, n, g);
		struct resv_ioas s;
		uint64_t ns = 0;

		if (g < 0)
			continue;
		snprintf(row, sizeof(row), "type1.attach.%ddev", i);
		report(row, time_op(attach_detach, &g, 20), "attaching the group failed");
		snprintf(row, sizeof(row), "type1.attach_cold.%ddev", i);
		report(row, time_op_cold(attach_detach, &g, 10),
		       "no injector to make it gather (unpatched kernel: never kept)");
		/* iommufd: one edu of the group, bound once */
		snprintf(row, sizeof(row), "iommufd.attach.%ddev", i);
		if (edu && !resv_ioas_bind(edu, &s)) {
			ns = time_op(ioas_attach_detach, &s, 20);
			resv_ioas_close(&s);
		}
		report(row, ns, "binding or attaching to an IOAS failed");
	}
}

int main(int argc, char **argv)
{
	char bdf[1][16];
	int group, i;

	if (resv_find_pci(RESV_EDU_VENDOR, RESV_EDU_DEVICE, bdf, 1) != 1) {
		printf("resv-bench: no edu device\n");
		return 1;
	}
	group = resv_bind_vfio(bdf[0]);
	if (group < 0) {
		printf("resv-bench: binding %s to vfio-pci: %s\n", bdf[0], strerror(-group));
		return 1;
	}
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "map"))
			bench_map(bdf[0], group);
		else if (!strcmp(argv[i], "regions"))
			bench_regions(bdf[0], group);
		else if (!strcmp(argv[i], "sysfs"))
			bench_sysfs();
		else if (!strcmp(argv[i], "attach"))
			bench_attach();
	}
	return 0;
}
