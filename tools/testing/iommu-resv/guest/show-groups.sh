#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# For 'make run': every IOMMU group, its devices and its reserved regions.
cd /sys/kernel/iommu_groups 2>/dev/null || { echo "no IOMMU groups (IOMMU off?)"; exit 1; }
for g in $(ls | sort -n); do
	echo "group $g"
	for d in $(ls "$g/devices"); do
		dev=$g/devices/$d
		drv=$(basename "$(readlink "$dev/driver" 2>/dev/null)" 2>/dev/null)
		printf '  device %s %s:%s %s\n' "$d" "$(sed 's/^0x//' "$dev/vendor")" \
			"$(sed 's/^0x//' "$dev/device")" "${drv:+($drv)}"
	done
	for f in "$g"/reserved_regions*; do
		[ -f "$f" ] || continue
		echo "  $(basename "$f"):"
		sed 's/^/    /' "$f"
	done
done
