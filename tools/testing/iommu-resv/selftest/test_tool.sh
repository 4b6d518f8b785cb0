#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host tests of tools/iommu/iommu-resv against a fake sysfs tree (--sysfs):
# list (text and JSON) on a kernel with and without reserved_regions_detail,
# check verdicts and exit statuses at region edges, and a one-line error with
# exit status 2 for each kind of bad input; check --mtree on saved QEMU 7.2
# text, --qmp against fake QMP servers (python3) that misbehave and against
# a live QEMU of the host's. TAP on stdout.
set -u
top=$(realpath "$(dirname "$0")/../../../..")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tool=$tmp/iommu-resv
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n $1"; shift; printf '#  %s\n' "$@"; }

echo "TAP version 13"
# The flags of tools/iommu/Makefile, warnings fatal (TOOL_SRC: another tree's tool)
if ! gcc -O2 -Wall -Wextra -Werror -o "$tool" "${TOOL_SRC:-$top/tools/iommu/iommu-resv.c}" >"$tmp/build.log" 2>&1; then
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
echo "1..76"
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
# PCI windows while a backend's enforce_pci_windows parameter is off
mkdir -p "$s/module/vfio_iommu_type1/parameters" "$s/module/iommufd/parameters"
echo N > "$s/module/vfio_iommu_type1/parameters/enforce_pci_windows"
echo Y > "$s/module/iommufd/parameters/enforce_pci_windows"
expect "check: PCI window not enforced by type1" 1 \
	"^conflict: .* peer-bar of 0000:00:04.0 .* \(not enforced by VFIO type1: vfio_iommu_type1.enforce_pci_windows=N\)$" \
	"${S[@]}" check --group 3 --ranges 0xfd0fffff-0xfd0fffff
echo N > "$s/module/iommufd/parameters/enforce_pci_windows"
expect "check: PCI window enforced by neither: a warning" 0 \
	"^warning: 0xfd000000-0xfd000fff overlaps .* peer-bar .*\(PCI window not enforced: enforce_pci_windows=N; DMA there misses memory\)$" \
	"${S[@]}" check --group 3 --ranges 0xfd000000-0xfd000fff
expect "check: other regions stay enforced" 1 "^conflict: 0xfee00000-0xfee00000 overlaps .* msi of 0000:00:04.0 .*dmar0$" \
	"${S[@]}" check --group 3 --ranges 0xfee00000-0xfee00000
lines "holes: a PCI window enforced by neither is no hole" 2 "^usable " \
	"${S[@]}" holes --group 3 --ranges 0-0xffffffff
rm -r "$s/module"
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
expect "error: no ranges" 2 "^iommu-resv: check needs one of --ranges, --qmp or --mtree \(--help for usage\)$" \
	"${S[@]}" check --group 3
expect "error: device and group" 2 "^iommu-resv: check needs one of --device NAME or --group N$" \
	"${S[@]}" check --group 3 --device 0000:00:04.0 --ranges 0-1
expect "error: unreadable sysfs" 2 "^iommu-resv: cannot read $tmp/none/kernel/iommu_groups: No such file or directory$" \
	--sysfs "$tmp/none" list
expect "error: unknown command" 2 "^iommu-resv: unknown command 'show'" "${S[@]}" show
expect "error: no command" 2 "^usage: " "${S[@]}"
# check --mtree/--qmp: a guest memory map as QEMU 7.2's "info mtree -f"
# prints it. Group 12: an edu behind a root port whose window holds part
# of a guest's RAM (the x86_64 VM's layout), in a tree of its own.
m=$tmp/sys-mtree
g12=$m/kernel/iommu_groups/12
mkdir -p "$g12/devices/0000:0c:00.0"
cat > "$g12/reserved_regions_detail" <<'EOT'
0x00000000dd800000 0x00000000fd7fffff bridge-window 0000:0c:00.0 device /sys/devices/pci0000:00/0000:00:0c.0
0x00000000fee00000 0x00000000feefffff msi 0000:00:0c.0 iommu /sys/devices/virtual/iommu/dmar0
EOT
M=(--sysfs "$m" check --device 0000:0c:00.0)
# Saved from Debian's QEMU 7.2 (qemu-system-x86_64 -M pc,max-ram-below-4g=0xf0000000
# -m 3600 -S -nodefaults), the first flat view and the start of the second.
printf '%s\r\n' 'FlatView #0' ' AS "memory", root: system' ' AS "cpu-memory-0", root: system' \
	' Root memory region: system' \
	'  0000000000000000-00000000000bffff (prio 0, ram): pc.ram' \
	'  00000000000c0000-00000000000dffff (prio 1, rom): pc.rom' \
	'  00000000000e0000-00000000000fffff (prio 0, rom): pc.bios @0000000000020000' \
	'  0000000000100000-00000000e0ffffff (prio 0, ram): pc.ram @0000000000100000' \
	'  00000000fec00000-00000000fec00fff (prio 0, i/o): ioapic' \
	'  00000000fed00000-00000000fed003ff (prio 0, i/o): hpet' \
	'  00000000fee00000-00000000feefffff (prio 4096, i/o): apic-msi' \
	'  00000000fffc0000-00000000ffffffff (prio 0, rom): pc.bios' '' \
	'FlatView #1' ' AS "I/O", root: io' ' Root memory region: io' \
	'  0000000000000000-0000000000000007 (prio 0, i/o): dma-chan' > "$tmp/pc.mtree"
# q35 -m 6G: 2 GiB below 4 GiB, 4 GiB above.
sed -e 's/00000000e0ffffff/000000007fffffff/' -e '/ (prio 0, rom): pc\.bios\r$/a\
  0000000100000000-00000001ffffffff (prio 0, ram): pc.ram @0000000080000000' "$tmp/pc.mtree" \
	> "$tmp/q35.mtree"
expect "mtree: RAM in a bridge window" 1 \
	"^conflict: 0x100000-0xe0ffffff overlaps 0x00000000dd800000-0x00000000fd7fffff bridge-window of 0000:0c:00.0 in group 12, owner device /sys/devices/pci0000:00/0000:00:0c.0$" \
	"${M[@]}" --mtree "$tmp/pc.mtree"
lines "mtree: only that section conflicts" 1 "^conflict: " "${M[@]}" --mtree "$tmp/pc.mtree"
expect "mtree: split below and above 4 GiB, clear" 0 "^ok: no range overlaps a reserved region of group 12$" \
	"${M[@]}" --mtree "$tmp/q35.mtree"
expect "mtree: from standard input" 1 "^conflict: 0x100000-0xe0ffffff " "${M[@]}" --mtree - < "$tmp/pc.mtree"
# Only ram, rom and ram-device sections of AS "memory" count, page-aligned
# as QEMU maps them.
mt() { # FILE LINE...: the q35 map plus these section lines
	local f=$1
	shift
	{ sed -n '1,/^  0000000100000000-/p' "$tmp/q35.mtree"; printf '%s\n' "$@"; } > "$f"
}
mt "$tmp/io.mtree" '  00000000e0000000-00000000e0000fff (prio 1, i/o): 0000:0c:00.0 BAR 0' \
	'  00000000e0001000-00000000e0001fff (prio 1, romd): system.flash0'
expect "mtree: i/o and romd sections are not mapped" 0 "^ok:" "${M[@]}" --mtree "$tmp/io.mtree"
mt "$tmp/ramd.mtree" '  00000000e0000000-00000000e0000fff (prio 1, ramd): 0000:01:00.0 BAR 0 mmaps[0]'
expect "mtree: a ram-device section is checked, not fatal" 0 \
	"^warning: 0xe0000000-0xe0000fff overlaps 0x00000000dd800000-0x00000000fd7fffff bridge-window of 0000:0c:00.0 in group 12, owner device /sys/devices/pci0000:00/0000:00:0c.0 \\(RAM device: QEMU goes on without it\\)$" \
	"${M[@]}" --mtree "$tmp/ramd.mtree"
lines "mtree: warnings only: no claim that nothing overlaps" 1 \
	"^ok: no conflict with the reserved regions of group 12 \\(1 warning\\)$" "${M[@]}" --mtree "$tmp/ramd.mtree"
lines "mtree: warnings only: not \"no range overlaps\"" 0 "no range overlaps" "${M[@]}" --mtree "$tmp/ramd.mtree"
# QEMU 7.2 prints NVDIMM memory as nv-ram (nv-rom): mapped all the same.
mt "$tmp/nv.mtree" '  00000000e0000000-00000000e01fffff (prio 1, nv-ram): nvdimm0'
expect "mtree: an nv-ram section conflicts" 1 \
	"^conflict: 0xe0000000-0xe01fffff overlaps 0x00000000dd800000-0x00000000fd7fffff bridge-window " \
	"${M[@]}" --mtree "$tmp/nv.mtree"
mt "$tmp/unk.mtree" '  00000000e0000000-00000000e0000fff (prio 1, xram): what'
expect "error: unknown section type" 2 \
	"^iommu-resv: $tmp/unk.mtree: unknown section type \"xram\" in the flat view of \"memory\": " \
	"${M[@]}" --mtree "$tmp/unk.mtree"
lines "error: unknown section type, one line" 1 "" "${M[@]}" --mtree "$tmp/unk.mtree"
mt "$tmp/top.mtree" '  fffffffffffff800-ffffffffffffffff (prio 1, ram): top'
expect "mtree: a section in the last page, start not rounded past 2^64" 0 "^ok: no range overlaps" \
	"${M[@]}" --mtree "$tmp/top.mtree"
mt "$tmp/edge.mtree" '  00000000dd7ff000-00000000dd7fffff (prio 1, ram): below' \
	'  00000000fd800000-00000000fd800fff (prio 1, rom): above'
expect "mtree: sections just outside the window" 0 "^ok:" "${M[@]}" --mtree "$tmp/edge.mtree"
mt "$tmp/sub.mtree" '  00000000dd7ff800-00000000dd8017ff (prio 1, ram): unaligned' \
	'  00000000fd7ff800-00000000fd7fffff (prio 1, ram): sub-page'
expect "mtree: a section is cut to whole pages" 1 "^conflict: 0xdd800000-0xdd800fff overlaps " \
	"${M[@]}" --mtree "$tmp/sub.mtree"
lines "mtree: a section smaller than a page is not mapped" 1 "^conflict: " "${M[@]}" --mtree "$tmp/sub.mtree"
{ sed -n '1,/^\r*$/p' "$tmp/pc.mtree" | sed 's/AS "memory"/AS "pci-bus"/'
  printf '%s\n' 'FlatView #9' ' AS "memory", root: system' \
	'  0000000000000000-000000007fffffff (prio 0, ram): pc.ram'; } > "$tmp/views.mtree"
expect "mtree: the flat view of AS memory, not another" 0 "^ok:" "${M[@]}" --mtree "$tmp/views.mtree"
sed 's/^ AS "memory".*//' "$tmp/pc.mtree" > "$tmp/nomem.mtree"
expect "error: mtree without AS memory" 2 \
	"^iommu-resv: $tmp/nomem.mtree: no flat view of address space \"memory\" \\(want QEMU's \"info mtree -f\"\\)$" \
	"${M[@]}" --mtree "$tmp/nomem.mtree"
sed 's/(prio 0, ram): pc.ram @/(prio zero): pc.ram @/' "$tmp/pc.mtree" > "$tmp/bad.mtree"
expect "error: malformed mtree line" 2 "^iommu-resv: $tmp/bad.mtree: unexpected line in the flat view of \"memory\":" \
	"${M[@]}" --mtree "$tmp/bad.mtree"
expect "error: unreadable mtree" 2 "^iommu-resv: cannot read $tmp/none.mtree: No such file or directory$" \
	"${M[@]}" --mtree "$tmp/none.mtree"
expect "error: no QMP socket" 2 "^iommu-resv: cannot connect to QMP socket $tmp/none.sock: No such file or directory$" \
	"${M[@]}" --qmp "$tmp/none.sock"
# A fake QMP server (python3): MODE greeting-then-close, cut (a greeting
# without its newline, then close), error (an error with a newline in its
# desc to qmp_capabilities), badu (a \\u escape short of 4 hex digits).
fake_qmp() { # MODE: serve one client on $tmp/f.sock in the background
	rm -f "$tmp/f.sock"
	python3 - "$tmp/f.sock" "$1" <<'EOP' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
c, _ = s.accept()
g = b'{"QMP": {"version": {}, "capabilities": []}}'
mode = sys.argv[2]
if mode == 'cut':
    c.sendall(g)
else:
    c.sendall(g + b'\r\n')
if mode == 'error':
    c.recv(4096)
    c.sendall(b'{"error": {"class": "GenericError", "desc": "no way\\n"}}\r\n')
    time.sleep(1)
elif mode == 'badu':
    c.recv(4096)
    c.sendall(b'{"return": {}}\r\n')
    c.recv(4096)
    c.sendall(b'{"return": "\\u12"}\r\n')
    time.sleep(1)
c.close()
EOP
	for _ in $(seq 50); do [ -S "$tmp/f.sock" ] && break; sleep 0.1; done
}
fake() { # NAME STATUS PATTERN MODE: one line on stderr, nothing on stdout
	local name=$1 status=$2 pattern=$3 rc
	fake_qmp "$4"
	"$tool" "${M[@]}" --qmp "$tmp/f.sock" > "$tmp/f.out" 2> "$tmp/f.err"
	rc=$?
	wait
	if [ "$rc" = "$status" ] && [ ! -s "$tmp/f.out" ] && [ "$(wc -l < "$tmp/f.err")" = 1 ] &&
	   grep -qE -- "$pattern" "$tmp/f.err"; then
		ok "$name"
	else
		not_ok "$name" "exit $rc (want $status), stdout:" "$(cat "$tmp/f.out")" "stderr:" \
			"$(cat "$tmp/f.err")" "want /$pattern/ on one line"
	fi
}
fake "qmp: QEMU closes after the greeting: no SIGPIPE" 2 \
	"^iommu-resv: (QMP $tmp/f.sock: connection closed while waiting for the answer to qmp_capabilities|QMP $tmp/f.sock: cannot send qmp_capabilities: Broken pipe)$" \
	close
fake "qmp: a greeting cut short is a closed connection" 2 \
	"^iommu-resv: QMP $tmp/f.sock: connection closed while waiting for the answer to the connection$" cut
fake "qmp: an error's desc without its newline" 2 "^iommu-resv: QMP $tmp/f.sock: qmp_capabilities failed: no way$" error
fake "qmp: a \\u escape short of 4 hex digits is refused" 2 \
	"^iommu-resv: QMP $tmp/f.sock: unexpected answer: \\{\"return\": \"\\\\u12\"\\}$" badu
expect "error: ranges and qmp" 2 "^iommu-resv: check needs one of --ranges" \
	"${M[@]}" --qmp "$tmp/none.sock" --ranges 0-1

# A live QEMU 7.2 (the host's): --qmp reads the same map as the text a
# QMP client of our own (python3) gets, and finds the RAM section that
# crosses the window, computed here from that text.
qemu_live() { # NAME ARGS...: verdicts of --qmp and --mtree on a paused QEMU
	local name=$1 pid
	shift
	rm -f "$tmp/q.sock"
	qemu-system-x86_64 "$@" -S -nodefaults -display none -accel tcg \
		-qmp "unix:$tmp/q.sock,server=on,wait=off" > "$tmp/$name.qemu.log" 2>&1 &
	pid=$!
	# A slow host: up to 60 s for the socket, bounded waits for each client,
	# and QEMU killed rather than waited for if it does not quit.
	for _ in $(seq 600); do [ -S "$tmp/q.sock" ] && break; sleep 0.1; done
	timeout 120 "$tool" "${M[@]}" --qmp "$tmp/q.sock" > "$tmp/$name.qmp.out" 2>&1
	echo $? >> "$tmp/$name.qmp.out"
	timeout 120 python3 - "$tmp/q.sock" > "$tmp/$name.live.mtree" 2>"$tmp/$name.py.err" <<'EOP'
import json, socket, sys, time
for i in range(600):
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(sys.argv[1])
        break
    except OSError:
        s.close()
        if i == 599:
            raise
        time.sleep(0.1)
f = s.makefile('rw')
def cmd(c):
    f.write(json.dumps(c) + '\n')
    f.flush()
    while True:
        r = json.loads(f.readline())
        if 'event' not in r:
            return r
f.readline()
cmd({'execute': 'qmp_capabilities'})
sys.stdout.write(cmd({'execute': 'human-monitor-command',
                      'arguments': {'command-line': 'info mtree -f'}})['return'])
cmd({'execute': 'quit'})
EOP
	echo "python3 exit $?" >> "$tmp/$name.py.err"
	for _ in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
	kill -0 $pid 2>/dev/null && kill -9 $pid
	wait $pid
	"$tool" "${M[@]}" --mtree "$tmp/$name.live.mtree" > "$tmp/$name.mtree.out" 2>&1
	echo $? >> "$tmp/$name.mtree.out"
}
# The ram/rom/ramd sections of AS "memory" that overlap 0xdd800000-0xfd7fffff,
# computed from the text
crossing() {
	python3 - "$1" <<'EOP'
import re, sys
mem = False
for line in open(sys.argv[1]).read().splitlines():
    if line.startswith('FlatView'):
        mem = False
    elif line.startswith(' AS "memory",'):
        mem = True
    m = re.match(r'  ([0-9a-f]+)-([0-9a-f]+) \(prio -?\d+, (ram|rom|ramd)\)', line)
    if mem and m and int(m[1], 16) <= 0xfd7fffff and int(m[2], 16) >= 0xdd800000:
        print('0x%x-0x%x' % (int(m[1], 16), int(m[2], 16)))
EOP
}
if command -v qemu-system-x86_64 > /dev/null; then
	qemu_live pc -M pc,max-ram-below-4g=0xf0000000 -m 3600
	want=$(crossing "$tmp/pc.live.mtree")
	if [ -n "$want" ] && cmp -s "$tmp/pc.qmp.out" "$tmp/pc.mtree.out" &&
	   [ "$(grep -o '^conflict: [^ ]*' "$tmp/pc.qmp.out" | cut -d' ' -f2)" = "$want" ] &&
	   [ "$(tail -n 1 "$tmp/pc.qmp.out")" = 1 ]; then
		ok "qmp: live QEMU 7.2, pc, RAM in the window: conflict on $want"
	else
		not_ok "qmp: live QEMU 7.2, pc, RAM in the window" "want conflict on '$want'" \
			"--qmp: $(cat "$tmp/pc.qmp.out")" "--mtree: $(cat "$tmp/pc.mtree.out")" \
			"$(cat "$tmp/pc.py.err" "$tmp/pc.qemu.log")"
	fi
	qemu_live q35 -M q35 -m 6G
	want=$(crossing "$tmp/q35.live.mtree")
	if [ -z "$want" ] && grep -q ' AS "memory"' "$tmp/q35.live.mtree" &&
	   cmp -s "$tmp/q35.qmp.out" "$tmp/q35.mtree.out" && [ "$(tail -n 1 "$tmp/q35.qmp.out")" = 0 ]; then
		ok "qmp: live QEMU 7.2, q35 6 GiB, clear of the window"
	else
		not_ok "qmp: live QEMU 7.2, q35 6 GiB, clear of the window" "sections in it: '$want'" \
			"--qmp: $(cat "$tmp/q35.qmp.out")" "--mtree: $(cat "$tmp/q35.mtree.out")" \
			"$(cat "$tmp/q35.py.err" "$tmp/q35.qemu.log")"
	fi
else
	n=$((n + 2))
	echo "ok $((n - 1)) qmp: live QEMU 7.2, pc # SKIP no qemu-system-x86_64"
	echo "ok $n qmp: live QEMU 7.2, q35 # SKIP no qemu-system-x86_64"
fi

# holes: counts computed by hand. Group 3, VT-d offering 2M and 1G (QEMU's
# cap), guest 0-4 GiB: usable 0-0xfcffffff (3 x 1G, 488 x 2M), 0xfd100000-
# 0xfedfffff (256 x 4K, 14 x 2M), 0xfef00000-0xffffffff (256 x 4K, 8 x 2M).
mkdir -p "$s/devices/virtual/iommu/dmar0/intel-iommu"
echo d2008c22260206 > "$s/devices/virtual/iommu/dmar0/intel-iommu/cap"
ln -s ../../virtual/iommu/dmar0 "$s/devices/pci0000:00/0000:00:04.0/iommu"
expect "holes: VT-d page sizes" 0 "^page sizes: 4K 2M 1G \(VT-d capability register" \
	"${S[@]}" holes --group 3 --ranges 0-0xffffffff
lines "holes: usable extents" 3 "^usable 0x0000000000000000-0x00000000fcffffff$|^usable 0x00000000fd100000-0x00000000fedfffff$|^usable 0x00000000fef00000-0x00000000ffffffff$" \
	"${S[@]}" holes --group 3 --ranges 0-0xffffffff
expect "holes: mappings" 0 "^mappings: 1G 3, 2M 510, 4K 512, 1025 in all$" \
	"${S[@]}" holes --group 3 --ranges 0-0xffffffff
expect "holes: without the regions" 0 "^without reserved regions: 1G 4, 2M 0, 4K 0, 4 in all$" \
	"${S[@]}" holes --device 0000:00:04.0 --ranges 0-0xffffffff
expect "holes: who splits a 1G page" 0 "^breaks 1G alignment: 0x00000000fd000000-0x00000000fd0fffff peer-bar of 0000:00:04.0, owner device /sys/devices/pci0000:00/0000:00:04.1 \(1 1G page split\)$" \
	"${S[@]}" holes --group 3 --ranges 0-0xffffffff
lines "holes: every splitting region, per size" 6 "^breaks (1G|2M) alignment: " \
	"${S[@]}" holes --group 3 --ranges 0-0xffffffff
# Only 2M (cap SLLPS 1): the 1G blocks are counted as 2M pages
echo 400000000 > "$s/devices/virtual/iommu/dmar0/intel-iommu/cap"
expect "holes: 2M only" 0 "^mappings: 2M 2046, 4K 512, 2558 in all$" \
	"${S[@]}" holes --group 3 --ranges 0-0xffffffff
# Group 7 (SMMU, legacy file): sizes assumed; guest 0-2 GiB around the MSI
# window at 128 MiB: 64 x 2M, 256 x 4K, 447 x 2M, 1 x 1G.
expect "holes: sizes assumed where sysfs does not say" 0 "^page sizes: 4K 2M 1G \(assumed: sysfs does not show" \
	"${S[@]}" holes --device smmu --ranges 0-0x7fffffff
expect "holes: mappings around the MSI window" 0 "^mappings: 1G 1, 2M 511, 4K 256, 768 in all$" \
	"${S[@]}" holes --device smmu --ranges 0-0x7fffffff
expect "holes: a range the window does not split" 0 "^mappings: 1G 1, 2M 0, 4K 0, 1 in all$" \
	"${S[@]}" holes --device smmu --ranges 0x40000000-0x7fffffff
expect "holes: the whole 64-bit space, at once" 0 "^mappings: 1G 17179869183, 2M 511, 4K 256, 17179869950 in all$" \
	"${S[@]}" holes --device smmu --ranges 0-0xffffffffffffffff
expect "holes: a range without a whole page" 0 "^mappings: 1G 0, 2M 0, 4K 0, 0 in all$" \
	"${S[@]}" holes --device smmu --ranges 0xfffffffffffff001-0xfffffffffffff800
expect "holes: needs a layout" 2 "holes needs one of --ranges, --qmp or --mtree" "${S[@]}" holes --group 3
expect "holes: no --json" 2 "holes does not take --json" "${S[@]}" holes --group 3 --ranges 0-1 --json
[ "$n" = 76 ] || not_ok "plan" "ran $n tests, planned 76"
exit $((failed > 0))
