// SPDX-License-Identifier: GPL-2.0-only
/*
 * Inside a VM: whether descriptors of /dev/vfio/vfio and /dev/iommu, which
 * any user may open, leave state that PCI hotplug has to walk. Times a PCI
 * remove + rescan of one device with none open, then with N of each open:
 *
 *   open-hotplug-time [BDF [N]]     (default 0000:00:04.0, 10000)
 *
 * Build it static and run it with 'make vm ARCH=x86_64 RUN=path'.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

#define CYCLES	5

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ret = -1;

	if (fd >= 0) {
		ret = write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -1;
		close(fd);
	}
	if (ret)
		perror(path);
	return ret;
}

/* Mean seconds of one remove + rescan of @bdf, or a negative value */
static double replug(const char *bdf)
{
	char path[256];
	double t0 = now();
	int i;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/remove", bdf);
	for (i = 0; i < CYCLES; i++)
		if (write_str(path, "1") || write_str("/sys/bus/pci/rescan", "1"))
			return -1;
	return (now() - t0) / CYCLES;
}

int main(int argc, char **argv)
{
	const char *bdf = argc > 1 ? argv[1] : "0000:00:04.0";
	int n = argc > 2 ? atoi(argv[2]) : 10000, i, opened = 0;
	struct rlimit rl = { 2 * n + 64, 2 * n + 64 };
	double none, many;

	if (n <= 0 || setrlimit(RLIMIT_NOFILE, &rl)) {
		fprintf(stderr, "bad N, or RLIMIT_NOFILE refused\n");
		return 2;
	}
	none = replug(bdf);
	for (i = 0; i < n; i++) {
		opened += open("/dev/vfio/vfio", O_RDWR) >= 0;
		opened += open("/dev/iommu", O_RDWR) >= 0;
	}
	many = replug(bdf);
	if (none < 0 || many < 0 || opened != 2 * n) {
		fprintf(stderr, "failed: %d of %d descriptors opened\n", opened, 2 * n);
		return 1;
	}
	printf("remove+rescan of %s: %.1f ms with none open, %.1f ms with %d open (%d each of /dev/vfio/vfio and /dev/iommu), mean of %d\n",
	       bdf, none * 1e3, many * 1e3, opened, n, CYCLES);
	return 0;
}
