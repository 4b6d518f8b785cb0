#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host tests of tools/iommu/iommu-resv against a fake sysfs tree (--sysfs):
# list (text and JSON) on a kernel with and without reserved_regions_detail,
# check verdicts and exit statuses at region edges, and a one-line error with
# exit status 2 for each kind of bad input. TAP on stdout.
set -u
top=$(realpath "$(dirname "$0")/../../../..")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tool=$tmp/iommu-resv
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n $1"; shift; printf '#  %s\n' "$@"; }

echo "TAP version 13"
# The flags of tools/iommu/Makefile, warnings fatal
if ! gcc -O2 -Wall -Wextra -Werror -o "$tool" "$top/tools/iommu/iommu-resv.c" >"$tmp/build.log" 2>&1; then
	echo "1..1"
	not_ok "build tools/iommu/iommu-resv" "$(cat "$tmp/build.log")"
	exit 1
fi

# Group 3: a PCI edu bound to vfio-pci and an unbound function, with the
# detailed view. Group 7: a kernel without it (legacy file only).
s=$tmp/sys
g3=$s/kernel/iommu_groups/3 g7=$s/kernel/iommu_groups/7
mkdir -p "$g3/devices" "$g7/devices" "$s/bus/pci/devices" "$s/bus/pci/drivers/vfio-pci" \
	"$s/devices/pci0000:00/0000:00:04.0" "$s/devices/pci0000:00/0000:00:04.1" \
	"$s/devices/platform/smmu"
for d in 0000:00:04.0 0000:00:04.1; do
	ln -s "../../../devices/pci0000:00/$d" "$s/bus/pci/devices/$d"
	ln -s "../../../../devices/pci0000:00/$d" "$g3/devices/$d"
	echo 0x1234 > "$s/devices/pci0000:00/$d/vendor"
	echo 0x11e8 > "$s/devices/pci0000:00/$d/device"
done
ln -s ../../../bus/pci/drivers/vfio-pci "$s/devices/pci0000:00/0000:00:04.0/driver"
ln -s ../../../../devices/platform/smmu "$g7/devices/smmu"
cat > "$g3/reserved_regions_detail" <<'EOT'
0x0000000000000000 0x0000000000ffffff direct-relaxable 0000:00:04.0 device /sys/devices/pci0000:00/0000:00:1f.0
0x00000000fd000000 0x00000000fd0fffff peer-bar 0000:00:04.0 device /sys/devices/pci0000:00/0000:00:04.1
0x00000000fee00000 0x00000000feefffff msi 0000:00:04.0 iommu /sys/devices/virtual/iommu/dmar0
0x00000000fee00000 0x00000000feefffff msi 0000:00:04.1 iommu /sys/devices/virtual/iommu/dmar0
EOT
cat > "$g7/reserved_regions" <<'EOT'
0x0000000008000000 0x00000000080fffff msi
EOT

# expect NAME STATUS PATTERN CMD...: CMD exits STATUS and its output matches PATTERN
expect() {
	local name=$1 status=$2 pattern=$3 out rc
	shift 3
	out=$("$tool" "$@" 2>&1)
	rc=$?
	if [ "$rc" = "$status" ] && grep -qE -- "$pattern" <<<"$out"; then
		ok "$name"
	else
		not_ok "$name" "iommu-resv $*" "exit $rc (want $status), output:" "$out" "want /$pattern/"
	fi
}
# lines NAME COUNT PATTERN CMD...: exactly COUNT lines of the output match
lines() {
	local name=$1 count=$2 pattern=$3 got
	shift 3
	got=$("$tool" "$@" 2>&1 | grep -cE -- "$pattern")
	if [ "$got" = "$count" ]; then ok "$name"; else not_ok "$name" "$got lines match /$pattern/, want $count"; fi
}

S=(--sysfs "$s")
echo "1..31"
expect "help" 0 "^usage: iommu-resv" --help
expect "list: groups in order" 0 "^group 3$" "${S[@]}" list
lines "list: two groups" 2 "^group " "${S[@]}" list
expect "list: device, id, driver" 0 "^  device 0000:00:04.0 1234:11e8 vfio-pci$" "${S[@]}" list
expect "list: unbound device" 0 "^  device 0000:00:04.1 1234:11e8 -$" "${S[@]}" list
expect "list: non-PCI device" 0 "^  device smmu - -$" "${S[@]}" list
expect "list: region with owner" 0 \
	"^  region 0x00000000fee00000-0x00000000feefffff msi 0000:00:04.1 owner iommu /sys/devices/virtual/iommu/dmar0$" \
	"${S[@]}" list
expect "list: legacy file, owner unknown" 0 \
	"^  region 0x0000000008000000-0x00000000080fffff msi - owner unknown -$" "${S[@]}" list
lines "list: every region" 5 "^  region " "${S[@]}" list
if "$tool" "${S[@]}" list --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
g = {x["group"]: x for x in d["groups"]}
assert sorted(g) == [3, 7]
assert [x["name"] for x in g[3]["devices"]] == ["0000:00:04.0", "0000:00:04.1"]
assert g[3]["devices"][0]["id"] == "1234:11e8" and g[3]["devices"][0]["driver"] == "vfio-pci"
assert len(g[3]["regions"]) == 4 and g[3]["regions"][1]["type"] == "peer-bar"
assert g[7]["regions"][0]["owner_type"] == "unknown"
' 2>"$tmp/json.err"; then ok "list --json parses and has the same content"; else not_ok "list --json" "$(cat "$tmp/json.err")"; fi

expect "check: clear of every region" 0 "^ok: no range overlaps" \
	"${S[@]}" check --group 3 --ranges 0x1000000-0xfcffffff,0xfd100000-0xfedfffff
expect "check: direct-relaxable is not enforced" 0 "^ok:" "${S[@]}" check --group 3 --ranges 0-0xfff
expect "check: first byte of a region" 1 "^conflict: 0xfee00000-0xfee00000 overlaps 0x00000000fee00000-0x00000000feefffff msi of 0000:00:04.0 in group 3, owner iommu /sys/devices/virtual/iommu/dmar0$" \
	"${S[@]}" check --group 3 --ranges 0xfee00000-0xfee00000
expect "check: last byte of a region" 1 "^conflict: .* peer-bar of 0000:00:04.0 in group 3, owner device /sys/devices/pci0000:00/0000:00:04.1$" \
	"${S[@]}" check --group 3 --ranges 0xfd0fffff-0xfd0fffff
expect "check: straddling an edge" 1 "^conflict: 0xfcfff000-0xfd000fff" "${S[@]}" check --group 3 --ranges 0xfcfff000-0xfd000fff
expect "check: by device" 1 "msi of 0000:00:04.1" "${S[@]}" check --device 0000:00:04.0 --ranges 0-0xffffffff
lines "check: every conflict listed" 3 "^conflict: " "${S[@]}" check --device 0000:00:04.0 --ranges 0-0xffffffff
expect "check: decimal" 1 "^conflict: " "${S[@]}" check --group 3 --ranges 4276092928-4276092928
expect "check: legacy group, owner unknown" 1 "msi of - in group 7, owner unknown -$" \
	"${S[@]}" check --device smmu --ranges 0x8000000-0x8000fff

expect "error: unknown device" 2 "^iommu-resv: no device 0000:09:00.0 in any IOMMU group$" \
	"${S[@]}" check --device 0000:09:00.0 --ranges 0-1
expect "error: unknown group" 2 "^iommu-resv: no IOMMU group 5$" "${S[@]}" check --group 5 --ranges 0-1
expect "error: malformed group" 2 "^iommu-resv: malformed group 'x3'" "${S[@]}" check --group x3 --ranges 0-1
expect "error: malformed range" 2 "^iommu-resv: malformed range 'abc': want START-END$" \
	"${S[@]}" check --group 3 --ranges abc
expect "error: malformed number" 2 "^iommu-resv: malformed range '0x10-0xzz'" "${S[@]}" check --group 3 --ranges 0x10-0xzz
expect "error: reversed range" 2 "^iommu-resv: reversed range 0x2000-0x1000" "${S[@]}" check --group 3 --ranges 0x2000-0x1000
expect "error: overlapping ranges" 2 "^iommu-resv: ranges 0x0-0x1fff and 0x1000-0x2fff overlap$" \
	"${S[@]}" check --group 3 --ranges 0x1000-0x2fff,0-0x1fff
expect "error: no ranges" 2 "^iommu-resv: check needs --ranges" "${S[@]}" check --group 3
expect "error: device and group" 2 "^iommu-resv: check needs one of --device NAME or --group N$" \
	"${S[@]}" check --group 3 --device 0000:00:04.0 --ranges 0-1
expect "error: unreadable sysfs" 2 "^iommu-resv: cannot read $tmp/none/kernel/iommu_groups: No such file or directory$" \
	--sysfs "$tmp/none" list
expect "error: unknown command" 2 "^iommu-resv: unknown command 'show'" "${S[@]}" show
expect "error: no command" 2 "^usage: " "${S[@]}"
[ "$n" = 31 ] || not_ok "plan" "ran $n tests, planned 31"
exit $((failed > 0))
