#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh: 'make bench'. Builds (if needed) the patched and the unpatched
# kernel for ARCH (default x86_64), boots each TRIALS times (default 5),
# interleaved and alternating which goes first, on the same topology (on
# x86_64 plus two groups of 8 and 64 devices behind PCIe-to-PCI bridges, and
# a boot of its own with a group of 512 devices, BIG=0 to leave it out), runs
# guest/resv-bench in each boot, and prints per row the median and spread
# (min-max) of each kernel's per-boot medians and the ratio patched/unpatched.
# Writes OUT/bench/results-ARCH.txt (the table), results-ARCH.tsv (every
# sample) and results-ARCH.svg (bench-plot.py: the ratios as bars), so that
# a run for one arch keeps the other's.
set -euo pipefail
here=$(dirname "$(realpath "$0")")
# shellcheck source=tools/testing/iommu-resv/arches.sh
. "$here/arches.sh"
top=$(realpath "$here/../../..")
OUT=$(realpath "${OUT:-$top/out}")
arch=${ARCH:-x86_64} trials=${TRIALS:-5}
# ICOUNT=1: QEMU counts instructions (-icount shift=0): each guest nanosecond
# is one instruction executed, the same count on any host, in files of their own.
accel=() unit=ns suffix=""
if [ "${ICOUNT:-}" = 1 ]; then
	accel=(--accel icount) unit=instructions suffix=-icount
fi
bdir=$OUT/bench
die() { echo "bench: error: $*" >&2; exit 2; }
arch_fact "$arch" qemu >/dev/null || die "unknown ARCH '$arch'"
[[ $trials =~ ^[1-9][0-9]*$ ]] || die "TRIALS must be a positive number"

echo "bench: building the patched and the unpatched kernel for $arch (if needed)"
ARCH=$arch "$here/harness.sh" build >/dev/null || die "building the patched kernel failed (make build ARCH=$arch)"
ARCH=$arch BASELINE=1 "$here/harness.sh" build >/dev/null || die "building the unpatched kernel failed"

mkdir -p "$bdir"
guest=$OUT/guest/$arch
mkdir -p "$guest"
(unset MAKEFLAGS MFLAGS MAKELEVEL; make -s -B -C "$here/guest" OUTPUT="$guest" \
	CC="$(arch_fact "$arch" cross)gcc" KHDR_INCLUDES="-isystem $OUT/patched/build/$arch/hdr/include" \
	SELFTESTS="$OUT/patched/src/tools/testing/selftests" "$guest/resv-bench") ||
	die "building resv-bench failed"
# RESV_BENCH_BIG=1 (kernel command line): the boot of the 512-device group
cat > "$bdir/run-bench.sh" <<'RUN'
#!/bin/sh
[ "${RESV_BENCH_BIG:-}" = 1 ] && exec /bin/resv-bench sysfs attach
exec /bin/resv-bench map regions sysfs attach
RUN
"$here/mkinitramfs.sh" "$OUT" "$arch" "$bdir/bench-$arch.cpio.gz" \
	"bin:resv-bench=$guest/resv-bench" "run-me=$bdir/run-bench.sh" >/dev/null

# Groups of 8 and 64 devices: a PCIe-to-PCI bridge and 7 or 63 edu functions
# behind it (they alias to the bridge). Not on arm64: 6.12's SMMUv3 refuses
# devices that share a StreamID.
extra=""
if [ "$arch" = x86_64 ]; then
	extra+=" -device pcie-root-port,id=rp_b8,bus=pcie.0,addr=0x10,chassis=40,slot=1"
	extra+=" -device pcie-pci-bridge,id=br8,bus=rp_b8"
	for f in 0 1 2 3 4 5 6; do
		extra+=" -device edu,bus=br8,addr=0x1.$f$([ $f != 0 ] || echo ,multifunction=on)"
	done
	extra+=" -device pcie-root-port,id=rp_b64,bus=pcie.0,addr=0x11,chassis=41,slot=1"
	extra+=" -device pcie-pci-bridge,id=br64,bus=rp_b64"
	for s in 1 2 3 4 5 6 7 8; do
		for f in 0 1 2 3 4 5 6 7; do
			[ "$s$f" = 87 ] && continue	# 63 edus + the bridge
			extra+=" -device edu,bus=br64,addr=0x$s.$f$([ $f != 0 ] || echo ,multifunction=on)"
		done
	done
fi

# The 512-device group boots on a topology of its own (topology/x86_64-512.qemu):
# a root port, a PCIe-to-PCI bridge, two conventional PCI bridges behind it
# (slots 1 and 2; no SHPC, which would need a slot of its own) and 256 + 253 edu
# functions behind those. Only its rows of 100 devices or more are kept.
big=()
if [ "$arch" = x86_64 ] && [ "${BIG:-1}" = 1 ]; then
	bx=" -device pcie-root-port,id=rp_b512,bus=pcie.0,addr=0x10,chassis=50,slot=1"
	bx+=" -device pcie-pci-bridge,id=br512,bus=rp_b512"
	for b in 1 2; do
		bx+=" -device pci-bridge,id=pb$b,bus=br512,addr=0x$b,chassis_nr=$((50 + b)),shpc=off"
		for s in $(seq 0 31); do
			for f in 0 1 2 3 4 5 6 7; do
				[ $b = 2 ] && [ $s = 31 ] && [ $f -ge 5 ] && continue	# 509 edus + 3 bridges
				bx+=" -device edu,bus=pb$b,addr=$(printf '0x%x.%d' "$s" "$f")$([ $f != 0 ] || echo ,multifunction=on)"
			done
		done
	done
	big=(big)
fi

samples=$bdir/results-$arch$suffix.tsv
printf 'trial\tkernel\trow\tns\n' > "$samples"
for t in $(seq 1 "$trials"); do
	order="patched base"
	[ $((t % 2)) = 0 ] && order="base patched"
	for v in $order; do
		log=$bdir/trial$t-$v.log
		"$here/vmrun.py" run --arch "$arch" --firmware dt --kernel "$OUT/$v/build/$arch/kernel.img" \
			--initrd "$bdir/bench-$arch.cpio.gz" --logdir "$bdir/logs" \
			--label "bench-$arch-$v-$t" --timeout 900 --extra "$extra" "${accel[@]}" > "$log" 2>&1 ||
			die "trial $t ($v) failed: $log"
		grep -c '^BENCH ' "$log" >/dev/null || die "trial $t ($v): no BENCH lines in $log"
		awk -v t="$t" -v v="$v" '/^BENCH / { print t "\t" v "\t" $2 "\t" $3 }' "$log" >> "$samples"
		for b in "${big[@]}"; do
			log=$bdir/trial$t-$v-$b.log
			"$here/vmrun.py" run --arch "$arch" --firmware dt --kernel "$OUT/$v/build/$arch/kernel.img" \
				--initrd "$bdir/bench-$arch.cpio.gz" --logdir "$bdir/logs" \
				--label "bench-$arch-$v-$t-$b" --timeout 1800 --cmdline RESV_BENCH_BIG=1 \
				--topology "$here/topology/x86_64-512.qemu" --extra "$bx" "${accel[@]}" \
				> "$log" 2>&1 || die "trial $t ($v, 512 devices) failed: $log"
			awk -v t="$t" -v v="$v" '/^BENCH .*\.[0-9][0-9][0-9]+dev / { print t "\t" v "\t" $2 "\t" $3 }' \
				"$log" >> "$samples"
		done
		echo "bench: trial $t/$trials $v done"
	done
done

python3 - "$samples" "$arch" "$trials" "$unit" <<'EOF' | tee "$bdir/results-$arch$suffix.txt"
import csv, statistics, sys
path, arch, trials, unit = sys.argv[1:]
rows, order = {}, []
for r in csv.DictReader(open(path), delimiter="\t"):
    if r["row"] not in rows:
        rows[r["row"]] = {"patched": [], "base": []}
        order.append(r["row"])
    if r["ns"] != "n/a":
        rows[r["row"]][r["kernel"]].append(int(r["ns"]))
def cell(v):
    if not v:
        return "n/a"
    return "%d (%d-%d)" % (statistics.median(v), min(v), max(v))
print(f"make bench, ARCH={arch}, {trials} interleaved boots per kernel (QEMU TCG).")
print(f"{unit} per operation: median of the per-boot medians (min-max across boots)."
      + (" QEMU -icount shift=0: guest nanoseconds are instructions executed." if unit != "ns" else ""))
print("ratio = patched/unpatched medians (comparable across machines); ns are absolute (this machine).")
print()
w = max(len(r) for r in order)
print(f"{'row':<{w}}  {'patched':>24}  {'unpatched':>24}  ratio")
def base_of(name):
    # The unpatched kernel keeps no gathering: its plain row is its cold one.
    if "_cold." in name and not rows[name]["base"]:
        return rows.get(name.replace("_cold.", "."), {}).get("base", [])
    return rows[name]["base"]
for name in order:
    p, b = rows[name]["patched"], base_of(name)
    ratio = "%.3f" % (statistics.median(p) / statistics.median(b)) if p and b else "-"
    print(f"{name:<{w}}  {cell(p):>24}  {cell(b):>24}  {ratio}")
regions = [n for n in order if n.startswith("regions.") and n.endswith(".map_unmap.4k")]
one = rows.get("regions.1.map_unmap.4k", {}).get("patched")
if one:
    print()
    print("check cost against region count (patched; 1 = the cost with one region):")
    for name in regions + [n for n in order if n.startswith("regions.") and n.endswith("refused_map")]:
        v = rows[name]["patched"]
        base = rows[name.replace(name.split(".")[1], "1", 1)]["patched"]
        if v and base:
            print(f"  {name:<{w}}  x{statistics.median(v) / statistics.median(base):.3f}")
EOF
# The sizes behind the *_per_kib rows, from trial 1's boots; rows of the
# 512-device boot as tabulated above (its other groups and control are not).
{
	echo
	echo "*_per_kib rows: per KiB beyond the first byte of a whole read, which returns (trial 1):"
	for v in patched base; do
		awk -v v="$v" '/^BENCHINFO / { printf "  %-40s %-9s %s %s\n", $2, v, $3, $4 }' \
			"$bdir/trial1-$v.log"
		for b in "${big[@]}"; do
			awk -v v="$v" '/^BENCHINFO .*\.[0-9][0-9][0-9]+dev / {
				printf "  %-40s %-9s %s %s\n", $2, v, $3, $4 }' "$bdir/trial1-$v-$b.log"
		done
	done
} | tee -a "$bdir/results-$arch$suffix.txt"
"$here/bench-plot.py" "$samples" "$arch" "$bdir/results-$arch$suffix.svg" || die "plotting failed"
echo "bench: results in $bdir/results-$arch$suffix.txt, the plot in results-$arch$suffix.svg, samples in $samples"
