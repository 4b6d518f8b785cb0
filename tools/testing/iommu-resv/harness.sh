#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The harness behind the Makefile targets.
#   harness.sh check          deps, tree, kernels, tests, boots; "N passed, N failed"
#   harness.sh run            boot each arch and show groups, regions and a VFIO map
#   harness.sh vm             boot ARCH with RUN=path, exit with its status
#   harness.sh build          deps, tree, kernels and test binaries only
#   harness.sh stress         the reliability tests, long, on the debug kernels
# Variables (environment): ARCH, OUT, BASELINE, DEBUG, KERNEL_SRC, QEMU_EXTRA,
# RUN, BOOT_TIMEOUT, BOOT_BEGIN_TIMEOUT (seconds for init to begin the tests,
# else the boot is hung; the TCG timer hang is booted once more), FIRMWARE
# (vm: dt or acpi; check boots arm64 with both), STRESS_SECONDS, FUZZ_CALLS,
# FUZZ_SEED (stress).
set -uo pipefail
# Set by the harness for one boot (topic proof), never taken from outside.
unset KERNEL_DIR GUEST_DIR BOOT_LABEL

here=$(dirname "$(realpath "$0")")
# shellcheck source=tools/testing/iommu-resv/arches.sh
. "$here/arches.sh"
top=$(realpath "$here/../../..")
: "${OUT:=$top/out}"
mkdir -p "$OUT"
OUT=$(realpath "$OUT")
arches=${ARCH:-$(boot_arches | paste -sd ' ' -)}
variant=patched
[ -n "${BASELINE:-}" ] && [ "${BASELINE}" != 0 ] && variant=base
flavour=test
[ -n "${DEBUG:-}" ] && [ "${DEBUG}" != 0 ] && flavour=debug
# QUICK=1: the edit loop, rebuild + boot + verdict only.
quick=""
[ -n "${QUICK:-}" ] && [ "${QUICK}" != 0 ] && quick=1
: "${BOOT_TIMEOUT:=900}"
results=$OUT/results.txt
phases=$OUT/phases.txt
logdir=$OUT/logs
# The kselftests of the series, in run order, and the guest programs for 'make run'.
# iommu_resv_unbound first: it needs devices that nothing has bound yet;
# iommu_resv_stress last, in its short form (20 s of races, 20 s of fuzz).
# iommu_resv_query after iommu_resv_compat: both turn iommufd.enforce_pci_windows
# off, and compat looks for the warning it prints once since boot in the log
# ring, which a long run can overwrite after an earlier test's warning.
KSELFTESTS="iommu_resv_unbound iommu_resv_sysfs iommu_resv_type1 iommu_resv_detail iommu_resv_pci iommu_resv_enforce iommu_resv_platform iommu_resv_dma iommu_resv_hotplug iommu_resv_compat iommu_resv_query iommu_resv_tool iommu_resv_fail_nth iommu_resv_many iommu_resv_stress"
# Guest tests of the harness (shell scripts in guest/, judged as TAP like the
# kselftests), per arch, run before iommu_resv_stress in counted boots.
# iommu_resv_qemu: Debian's QEMU in the guest as the real consumer.
HARNESS_TESTS_x86_64="iommu_resv_qemu"
HARNESS_TESTS_arm64=""
# The series' KUnit suites: each must report in every test boot of the
# patched kernel (x86_64 loads them as modules, arm64 has them built in).
KUNIT_SUITES="iommu-resv iommu-resv-pci iommu-resv-index iommu-resv-attach"
# Extra kernel command line for the test boots; KEY=value words become the
# tests' environment (make stress sets RESV_STRESS_SECONDS and the fuzz's).
KCMDLINE=""

err() { echo "harness: error: $*" >&2; }

# phase NAME CMD...: run a step, time it, remember the time.
phase() {
	local name=$1 t0 rc
	shift
	t0=$(date +%s.%N)
	"$@"
	rc=$?
	printf '%-34s %7.1f s%s\n' "$name" "$(echo "$(date +%s.%N) - $t0" | bc)" \
		"$([ $rc = 0 ] || echo "  (failed, status $rc)")" >> "$phases"
	return $rc
}

kdir() { # ARCH [VARIANT]: the build directory of a test kernel
	local d=$OUT/${2:-$variant}/build/$1
	[ "$flavour" = test ] || d=$d-$flavour
	echo "$d"
}

deps() { "$here/deps.sh" "$OUT"; }
tree() { "$here/assemble.sh" "$top" "$OUT"; }

kernel() { # ARCH
	local what=$1
	[ "$flavour" = test ] || what="$1 ($flavour)"
	echo "harness: building $variant kernel for $what"
	"$here/kbuild.sh" "$OUT" "$variant" "$1" "$flavour"
}

# make in a directory of its own: none of the calling make's flags or
# variables (make check ARCH=...), and only errors shown.
submake() { (unset MAKEFLAGS MFLAGS MAKELEVEL; make -s "$@") > /dev/null; }

# Static test binaries and guest programs for ARCH, from the patched tree
# (the same binaries run on the base kernel in baseline mode), each through
# its own Makefile, always rebuilt (a header may have changed), warnings fatal.
userspace() { # ARCH
	local arch=$1 src=$OUT/patched/src hdr cross t
	local bin=$OUT/guest/$arch
	hdr=$OUT/patched/build/$arch/hdr/include
	cross=$(arch_fact "$arch" cross)
	if [ ! -d "$hdr" ]; then
		# Baseline/debug runs still need the patched tree's UAPI headers.
		"$here/kbuild.sh" "$OUT" patched "$arch" test >/dev/null || return 1
	fi
	mkdir -p "$bin"
	# Their Makefile's flags, plus -g -Werror and -static (lib.mk's USERCFLAGS
	# and USERLDFLAGS); none from the environment.
	# shellcheck disable=SC2046 # one target per test
	CFLAGS="" LDFLAGS="" submake -B -C "$src/tools/testing/selftests/iommu" OUTPUT="$bin" \
		CROSS_COMPILE="$cross" KHDR_INCLUDES="-isystem $hdr" \
		USERCFLAGS="-g -Werror" USERLDFLAGS=-static \
		$(for t in $KSELFTESTS; do echo "$bin/$t"; done) ||
		{ err "building the kselftests for $arch failed"; return 1; }
	# tools/iommu/Makefile builds in the directory make runs in: $bin.
	CFLAGS="-O2 -Werror" submake -B -C "$bin" -f "$src/tools/iommu/Makefile" \
		VPATH="$src/tools/iommu" CC="${cross}gcc" KHDR_INCLUDES="-isystem $hdr" \
		LDFLAGS=-static iommu-resv ||
		{ err "building iommu-resv for $arch failed"; return 1; }
	guest_programs "$arch" vfio-map-demo qmp || return 1
	cp "$here/guest/show-groups.sh" "$bin/"
}

# guest/'s programs for ARCH, in OUT/guest/ARCH (guest/Makefile).
guest_programs() { # ARCH PROGRAM...
	local arch=$1 bin=$OUT/guest/$1 p
	shift
	# shellcheck disable=SC2046 # one target per program
	submake -B -C "$here/guest" OUTPUT="$bin" CC="$(arch_fact "$arch" cross)gcc" \
		KHDR_INCLUDES="-isystem $OUT/patched/build/$arch/hdr/include" \
		SELFTESTS="$OUT/patched/src/tools/testing/selftests" \
		$(for p in "$@"; do echo "$bin/$p"; done) ||
		{ err "building $* for $arch failed"; return 1; }
}

initramfs() { # ARCH OUTPUT [name=file ...]
	local arch=$1 output=$2 guest=${GUEST_DIR:-$OUT/guest/$1} bins=() b
	shift 2
	# A topic's boot (check-topics) has show-groups only: the tool and the
	# programs of make run come with later topics or the harness.
	for b in show-groups=show-groups.sh vfio-map-demo=vfio-map-demo iommu-resv=iommu-resv qmp=qmp; do
		[ -z "${GUEST_DIR:-}" ] || [ -f "$guest/${b#*=}" ] || continue
		bins+=("bin:${b%%=*}=$guest/${b#*=}")
	done
	"$here/mkinitramfs.sh" "$OUT" "$arch" "$output" "${bins[@]}" "$@"
}

# The installed Debian QEMU of ARCH's guest (x86_64 only for now: an
# x86_64 guest runs qemu-system-x86_64 with TCG) as initramfs entries
# "/path=file": the binary, the shared libraries ldd names, the TCG module
# and the firmware it loads for pc and q35 guests. Built at test time from
# the package, never downloaded or committed.
qemu_bundle() { # ARCH
	local q=/usr/bin/qemu-system-x86_64 f
	local files=("$q" /usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so
		     /usr/share/seabios/bios-256k.bin /usr/share/qemu/kvmvapic.bin)
	[ "$1" = x86_64 ] && [ "$(uname -m)" = x86_64 ] || return 0
	for f in "${files[@]}"; do
		[ -f "$f" ] || { err "$f is missing (qemu-system-x86 and seabios: make deps)"; return 1; }
	done
	# shellcheck disable=SC2046
	for f in "${files[@]}" $(ldd "$q" "${files[1]}" |
				 awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// && $2 ~ /^\(/ { print $1 }' |
				 sort -u); do
		echo "$f=$(realpath "$f")"
	done
}

# ARCH: the hardware descriptions check boots ARCH with
firmwares_for() { arch_fact "$1" firmwares; }

fw_suffix() { [ "$1" = dt ] || echo " (${1^^})"; }

boot_tests() { # ARCH [VARIANT [RESULTS [FIRMWARE]]]: RESULTS "" boots without counting
	local arch=$1 v=${2:-$variant} res=${3-$results} fw=${4:-dt} k label irf t args=()
	local tests=$KSELFTESTS guest=${GUEST_DIR:-$OUT/guest/$arch}
	local htests bundle=() b extra=${QEMU_EXTRA:-}
	htests=HARNESS_TESTS_$arch
	htests=${!htests}
	# The base boot is for the file comparison: the stress run adds nothing there,
	# and neither do the harness's guest tests (make baseline runs them).
	[ "$v" = base ] && tests=${tests/iommu_resv_stress/}
	[ -z "$res" ] && htests=""
	if [ -n "$htests" ]; then
		tests=${tests/iommu_resv_stress/$htests iommu_resv_stress}
		[[ " $tests " = *" $htests "* ]] || tests="$tests $htests"
		b=$(qemu_bundle "$arch") || return 1
		[ -z "$b" ] || mapfile -t bundle <<<"$b"
	fi
	# iommu_resv_qemu: VFIO pins all of a nested guest's RAM (6 GiB for the
	# largest layout), so 8 GiB for the boots that run it and for them only
	# (the topology has 1 GiB; QEMU takes the last -m, QEMU_EXTRA still wins).
	[[ " $htests " = *" iommu_resv_qemu "* ]] && extra="-m 8G $extra"
	k=${KERNEL_DIR:-$(kdir "$arch" "$v")}
	label=$arch
	[ "$fw" = dt ] || label=$label-$fw
	label=$label${v/patched/}
	label=${label/base/-base}
	[ "$flavour" = test ] || label=$label-$flavour
	label=${BOOT_LABEL:-$label}
	irf=$guest/tests-initramfs.cpio.gz
	for t in $tests; do
		if [[ " $htests " = *" $t "* ]]; then
			args+=("$t=$here/guest/$t.sh")
		else
			args+=("$t=$guest/$t")
		fi
	done
	# A modular kernel's test modules (kbuild.sh lists them), loaded by init.
	if [ -f "$k/modules/list" ]; then
		while IFS= read -r t; do args+=("mod:$t=$k/modules/$t"); done < "$k/modules/list"
	fi
	# The series' KUnit suites must report, built in or as modules.
	local suites=""
	[ "$v" = base ] || suites=$KUNIT_SUITES
	initramfs "$arch" "$irf" "${args[@]}" "${bundle[@]}" ||
		{ [ -z "$res" ] || echo "fail $label/initramfs # the initramfs could not be made" >> "$res"; return 1; }
	# A KCSAN kernel's reports are judged by where they are: the series' files.
	local kcsan=()
	if [ "$flavour" = kcsan ]; then
		git -C "$OUT/patched/src" diff --name-only base..HEAD -- '*.c' '*.h' ':!tools' \
			> "$OUT/kcsan-touched.txt" || return 1
		kcsan=(--kcsan-touched "$OUT/kcsan-touched.txt")
	fi
	# The debug kernels (KASAN, KCSAN: no preemption, as the test kernels)
	# under TCG spend over 20 s in upstream's ACPI AML interpreter at a time
	# (x86_64 PCIe ports' _PRT at boot, seen under KASAN): the soft-lockup
	# detector then reports a CPU stuck for 30 s in swapper. Report what is
	# stuck for 2 minutes instead (the hung-task limit).
	local cmdline=$KCMDLINE
	[ "$flavour" = test ] || cmdline="watchdog_thresh=60 $cmdline"
	# Init begins the tests 5-6 s after QEMU starts: a boot that has not
	# after 120 s (600 s for the debug and KCSAN kernels) is hung, and vmrun
	# boots the TCG timer hang once more.
	local begin=${BOOT_BEGIN_TIMEOUT:-120}
	[ "$flavour" = test ] || begin=${BOOT_BEGIN_TIMEOUT:-600}
	# No earlier run's dumps may stand in for this boot's.
	rm -f "$logdir/$label.groups.json" "$logdir/$label.boot-groups.json"
	"$here/vmrun.py" tests --arch "$arch" --firmware "$fw" --kernel "$k/kernel.img" \
		--initrd "$irf" --tests "$tests" --ktree "$OUT/patched/src" --cmdline "$cmdline" \
		--kunit-suites "$suites" "${kcsan[@]}" \
		--logdir "$logdir" --label "$label" ${res:+--results "$res"} \
		--dump "$logdir/$label.groups.json" --boot-dump "$logdir/$label.boot-groups.json" \
		--timeout "$BOOT_TIMEOUT" --begin-timeout "$begin" --extra "$extra"
}

# The series keeps reserved_regions byte for byte: boot the unpatched base on
# the same topology with the same tests (its own verdicts are not counted:
# some tests show upstream's gaps there) and compare every group's file, as
# both kernels booted and as the tests left them.
legacy_vs_base() { # ARCH [FIRMWARE]
	local arch=$1 fw=${2:-dt} label=$1 log why="" reason try rc=0
	[ "$fw" = dt ] || label=$label-$fw
	log=$logdir/boot-base-$label.log
	await "base-$arch" ||
		{ record_fail "$label/legacy-vs-base" "base kernel build failed"; return 1; }
	# Half the time limit each, and a second boot if the first did not get
	# through the tests: once, in CI, a base boot did not (cause unknown).
	for try in 1 2; do
		KERNEL_DIR=$(step_dir base "$arch") BOOT_TIMEOUT=$((BOOT_TIMEOUT / 2)) \
			boot_tests "$arch" base "" "$fw" > "$log" 2>&1
		has_groups "$logdir/$label-base.groups.json" && break
		# Why the base boot, not judged itself, ended early.
		reason=$(grep -E '^ *fail [^ ]*/(boot|console) ' "$log" | sed 's/^ *fail [^ ]* # //' |
			paste -sd ';' -)
		why="${why:+$why; }boot $try: ${reason:-no verdict from vmrun, see $log}"
		[ "$try" = 1 ] && mv "$log" "${log%.log}.1.log"
	done
	if has_groups "$logdir/$label-base.boot-groups.json"; then
		"$here/vmrun.py" compare-dumps "$logdir/$label.boot-groups.json" \
			"$logdir/$label-base.boot-groups.json" --at-boot \
			--label "$label/legacy-vs-base/boot" --results "$results" || rc=1
	else
		record_fail "$label/legacy-vs-base/boot" "no group dump from the base kernel (${why:-its boot dump did not end})"
		rc=1
	fi
	# Upstream failing its way through a test twice is one of its gaps (the
	# patched boot is judged on its own), but what only this comparison
	# checks is then not checked: say so.
	if has_groups "$logdir/$label-base.groups.json"; then
		"$here/vmrun.py" compare-dumps "$logdir/$label.groups.json" \
			"$logdir/$label-base.groups.json" --label "$label/legacy-vs-base" \
			--results "$results" || rc=1
	else
		record_skip "$label/legacy-vs-base" "not compared after the tests (hot-added" \
			"devices, and on DT the platform devices the tests bind): the base kernel" \
			"did not get through them ($why)"
	fi
	return $rc
}

has_groups() { grep -q '"' "$1" 2>/dev/null; }

host_selftests() {
	local t out
	for t in "$here"/selftest/test_*; do
		[ -x "$t" ] || continue
		out=$OUT/logs/host-$(basename "$t").tap
		mkdir -p "$OUT/logs"
		OUT=$OUT "$t" > "$out" 2>&1 9>&-
		"$here/vmrun.py" judge-tap "$out" --label "host/$(basename "${t%.*}")" \
			--results "$results" --exit-status $?
		[ $? -le 1 ] || record_fail "host/$(basename "${t%.*}")" "its output could not be judged"
	done
}

# Every driver implementing get_resv_regions, and every caller, must still
# build: allnoconfig + COMPILE_TEST fragments, objects only (x86_64, arm64, s390).
compile_tests() {
	local a arches_ct=$arches
	[ -z "${ARCH:-}" ] && arches_ct="x86_64 arm64 s390"
	for a in $arches_ct; do
		if "$here/kbuild.sh" "$OUT" "$variant" "$a" compile-test > "$logdir/compile-test-$a.log" 2>&1; then
			record_pass "compile-test/$a"
		else
			record_fail "compile-test/$a" "$(grep -m1 -E 'error|Error' "$logdir/compile-test-$a.log")"
		fi
	done
}

# The KUnit suites on a 32-bit kernel with 64-bit DMA addresses (ARM LPAE),
# built and booted by the tree's own kunit.py on qemu-system-arm, judged here.
kunit_arm32() {
	local build=$OUT/$variant/build/kunit-arm32-lpae console=$logdir/kunit-arm32-lpae.console.log
	local cross
	cross=$(arch_fact arm cross)
	mkdir -p "$build"
	rm -f "$build/arch/arm/boot/zImage"
	if ! (cd "$OUT/$variant/src" && CCACHE_DIR=${CCACHE_DIR:-$OUT/ccache} CCACHE_BASEDIR=$OUT \
		CCACHE_NOHASHDIR=1 python3 tools/testing/kunit/kunit.py run --arch="$(arch_fact arm karch)" \
			--cross_compile="$cross" --build_dir="$build" \
			--kunitconfig="$here/configs/arm32-lpae.kunitconfig" \
			--make_options "CC=ccache ${cross}gcc" --jobs "$(nproc)" \
			--timeout 600 --raw_output=all 'iommu-resv*') > "$console" 2>&1; then
		# A failing test fails kunit.py too: only a missing kernel is a build failure.
		[ -f "$build/arch/arm/boot/zImage" ] ||
			{ record_fail "arm32-lpae/build" "$(grep -m1 -E 'error|Error' "$console")"; return 1; }
	fi
	"$here/vmrun.py" judge-kunit "$console" --ktree "$OUT/$variant/src" \
		--kunit-suites "$KUNIT_SUITES" --label arm32-lpae --results "$results"
}

# The series as it would be mailed (git format-patch of the assembled tree):
# checkpatch --strict must be clean on every patch.
checkpatch_series() {
	local dir=$OUT/check-series p name out
	rm -rf "$dir"
	git -C "$OUT/patched/src" format-patch -q -o "$dir" base..HEAD || return 1
	for p in "$dir"/*.patch; do
		[ -f "$p" ] || continue
		name=$(basename "$p" .patch)
		# Debian's python3 (with ply and git) for the SPDX check, not a pyenv one.
		# The tree has no upstream history, so the ids of Fixes: tags cannot be
		# looked up in it (their form is still checked).
		out=$(cd "$OUT/patched/src" && PATH=/usr/bin:$PATH ./scripts/checkpatch.pl --strict \
			--ignore UNKNOWN_COMMIT_ID --no-summary --terse "$p" 2>&1)
		if [ -z "$out" ]; then
			record_pass "checkpatch/$name"
		else
			echo "$out" > "$logdir/checkpatch-$name.log"
			record_fail "checkpatch/$name" "$(head -n1 <<<"$out")"
		fi
	done
}

# The lines each patch adds to C files, formatted by clang-format with the
# tree's .clang-format: no statement after the end of another on the same
# line, no misindented statement (check-format.py says which defects count).
format_check() {
	local log=$logdir/check-format.log
	if "$here/check-format.py" "$OUT/patched/src" base..HEAD > "$log" 2>&1; then
		record_pass "format/new-lines"
	else
		record_fail "format/new-lines" "$(head -n1 "$log")"
	fi
}

# sparse (C=2) and W=1 on every kernel .c file the series adds or changes,
# in each build whose config compiles it: no diagnostic may name such a file.
# make series, checked: a cover letter and git am-able patches with Cc's.
mailable_series() {
	if "$here/series.sh" "$OUT" "$OUT/series" > "$logdir/series.log" 2>&1; then
		record_pass "series/export-and-git-am"
	else
		record_fail "series/export-and-git-am" "$(tail -n1 "$logdir/series.log")"
	fi
}

# sparse + W=1 on the objects of OBJS in build dir B of VARIANT's tree: the
# warnings in FILES, without line numbers ("file: message"), sorted.
sparse_warnings() { # VARIANT B KARCH CROSS LOG FILES OBJS...
	local v=$1 b=$2 k=$3 cross=$4 log=$5 files=$6
	shift 6
	# shellcheck disable=SC2086
	(unset MAKEFLAGS; CCACHE_BASEDIR=$OUT CCACHE_DIR=${CCACHE_DIR:-$OUT/ccache} \
		make -s -C "$OUT/$v/src" O="$OUT/$v/build/$b" ARCH=$k CROSS_COMPILE=$cross \
		CC="ccache ${cross}gcc" C=2 W=1 -j"$(nproc)" "$@") > "$log" 2>&1
	# (no warning is no error: the greps may find nothing)
	{ grep -E '(warning|error):' "$log" || true; } | { grep -F -f <(printf '%s\n' $files) || true; } |
		sed -E 's|^.*/'"$v"'/src/||; s|:[0-9]+:[0-9]+: |: |; s|:[0-9]+: |: |' | sort -u
}

# The kernel .c files the series adds or changes.
series_c_files() {
	git -C "$OUT/patched/src" diff --name-only --diff-filter=AM base..HEAD -- '*.c' | grep -v '^tools/'
}

# The reference for static_checks: sparse + W=1 on the unpatched files the
# series changes, in the base step of the topic chain (its tree is then at
# the base), into $OUT/topic/static-base-ARCH.txt.
base_static() { # ARCH
	local a=$1 files objs="" f
	files=$(series_c_files)
	for f in $files; do
		[ -f "$OUT/topic/build/$a/${f%.c}.o" ] && [ -f "$OUT/topic/src/$f" ] && objs="$objs ${f%.c}.o"
	done
	if [ -z "$objs" ]; then
		: > "$OUT/topic/static-base-$a.txt"
		return 0
	fi
	# shellcheck disable=SC2086
	sparse_warnings topic "$a" "$(arch_fact "$a" karch)" "$(arch_fact "$a" cross)" \
		"$logdir/static-base-$a.log" "$files" $objs > "$OUT/topic/static-base-$a.txt"
	! grep -q 'Error [0-9]' "$logdir/static-base-$a.log"
}

# No warning in a file the series adds or changes that the unpatched file
# does not have already (sparse's false positives on guard() in upstream
# code touched by a glue patch are not the series'), per build of each arch
# against the base of that arch (base_static).
static_checks() {
	local files b a k cross objs f log bad base="" builds=""
	files=$(series_c_files)
	# This run's builds (compile_tests builds s390 when no ARCH is given)
	for a in $arches; do builds="$builds $a $a-compile-test"; done
	[ -n "${ARCH:-}" ] || builds="$builds s390-compile-test"
	for b in $builds; do
		[ -d "$OUT/patched/build/$b" ] || continue
		a=${b%-compile-test}
		k=$(arch_fact "$a" karch) cross=$(arch_fact "$a" cross)
		# the base is built for the arches that boot
		base=/dev/null
		[ -z "$(arch_fact "$a" image)" ] || base=$OUT/topic/static-base-$a.txt
		objs=""
		for f in $files; do
			[ -f "$OUT/patched/build/$b/${f%.c}.o" ] && objs="$objs ${f%.c}.o"
		done
		[ -n "$objs" ] || continue
		if [ "$base" != /dev/null ] && [ ! -f "$base" ]; then
			record_fail "sparse-W1/$b" "no warnings of the base to compare with (its build failed)"
			continue
		fi
		log=$logdir/static-$b.log
		# shellcheck disable=SC2086
		bad=$(comm -23 <(sparse_warnings patched "$b" "$k" "$cross" "$log" "$files" $objs) \
			"$base" | head -n1)
		if [ -n "$bad" ]; then
			record_fail "sparse-W1/$b" "$bad"
		elif grep -q 'Error [0-9]' "$log"; then
			record_fail "sparse-W1/$b" "build failed, see $log"
		else
			record_pass "sparse-W1/$b"
		fi
	done
}

# kernel-doc -Wall over the kernel files the series adds or changes: no
# warning the unpatched files do not already have.
kerneldoc_check() {
	local files f new
	files=$(git -C "$OUT/patched/src" diff --name-only --diff-filter=AM base..HEAD -- '*.c' '*.h' |
		grep -v '^tools/')
	kdoc() { # TREE FILES...: warnings without line numbers
		local tree=$1
		shift
		(cd "$tree" && PATH=/usr/bin:$PATH ./scripts/kernel-doc -none -Wall "$@" 2>&1) |
			sed 's/:[0-9]*: / /' | sort
	}
	# The unpatched files, from the base commit
	local base old
	base=$(mktemp -d)
	# shellcheck disable=SC2086
	old=$(git -C "$OUT/patched/src" ls-tree --name-only base -- $files)
	# (no path would archive the whole tree)
	# shellcheck disable=SC2086
	[ -z "$old" ] || git -C "$OUT/patched/src" archive base $old | tar -x -C "$base"
	ln -s "$OUT/patched/src/scripts" "$base/scripts"
	# shellcheck disable=SC2086
	new=$(comm -23 <(kdoc "$OUT/patched/src" $files) \
		<(kdoc "$base" $(for f in $files; do [ -f "$base/$f" ] && echo "$f"; done)))
	rm -rf "$base"
	if [ -n "$new" ]; then
		echo "$new" > "$logdir/kernel-doc.log"
		record_fail kernel-doc "$(head -n1 <<<"$new")"
	else
		record_pass "kernel-doc"
	fi
	# The rst files the series adds parse without a warning (docutils; the
	# kernel's Sphinx build is too slow for make check).
	for f in $(git -C "$OUT/patched/src" diff --name-only --diff-filter=A base..HEAD -- '*.rst'); do
		if /usr/bin/python3 -c '
import sys, docutils.core
docutils.core.publish_string(open(sys.argv[1]).read(), source_path=sys.argv[1], writer_name="null",
                             settings_overrides={"halt_level": 2, "report_level": 2})
' "$OUT/patched/src/$f" > "$logdir/rst.log" 2>&1; then
			record_pass "rst/$f"
		else
			record_fail "rst/$f" "$(grep -m1 -E 'WARNING|ERROR|SEVERE' "$logdir/rst.log")"
		fi
	done
}

summary() {
	local np nf ns
	np=$(grep -c '^pass ' "$results" || true)
	nf=$(grep -c '^fail ' "$results" || true)
	ns=$(grep -c '^skip ' "$results" || true)
	echo
	echo "== phases =="
	cat "$phases"
	if [ "$nf" != 0 ]; then
		echo "== failures =="
		grep '^fail ' "$results"
	fi
	if grep -q '^skip [^ ]*/boot-retried ' "$results"; then
		echo "== boots that hung under TCG and were booted once more =="
		grep '^skip [^ ]*/boot-retried ' "$results"
	fi
	echo "logs: $logdir"
	echo "$np passed, $nf failed, $ns skipped"
	# For make series's cover letter: the count of a full check of this series.
	if [ "${1:-}" = check ] && [ "$variant" = patched ] && [ -z "$quick" ] && [ "$flavour" = test ] &&
	   [ -z "${ARCH:-}" ]; then
		printf '%s\n%s passed, %s failed, %s skipped\n' \
			"$(git -C "$OUT/patched/src" rev-parse HEAD 2>/dev/null)" "$np" "$nf" "$ns" \
			> "$OUT/check-summary.txt"
	fi
	[ "$nf" = 0 ] && [ "$np" != 0 ]
}

# The result lines of the harness's own checks, in vmrun.py's form
# ("pass|fail|skip NAME[ # DETAIL]"): record_pass NAME, record_fail NAME
# DETAIL, record_skip NAME DETAIL... (the words of DETAIL joined by spaces).
record_pass() { echo "pass $1" >> "$results"; }
record_fail() { echo "fail $1 # $2" >> "$results"; }
record_skip() { local name=$1; shift; echo "skip $name # $*" >> "$results"; }

cmd_build() {
	phase deps deps || { err "installing dependencies failed"; return 1; }
	phase "assemble tree" tree || return 1
	local a
	for a in $arches; do
		phase "build $variant kernel $a" kernel "$a" || return 1
		phase "build userspace $a" userspace "$a" || return 1
	done
}

# The start of a counted run (check, stress): empty results and phases, then
# deps and the tree; a failure is recorded.
start_counted_run() {
	# One counted run per output directory: two would mix their results.
	exec 9> "$OUT/.lock"
	if ! flock -n 9; then
		err "another make check or stress uses $OUT:" \
			"$(lslocks -n -o PID,COMMAND,PATH 2>/dev/null | grep -F "$OUT/.lock" | paste -sd ' ')"
		exit 2
	fi
	: > "$results"
	: > "$phases"
	mkdir -p "$logdir"
	if ! phase deps deps; then
		record_fail deps "installing dependencies failed"; return 1
	fi
	if ! phase "assemble tree" tree; then
		record_fail assemble "the series does not assemble"; return 1
	fi
}

# ARCH WHAT: build ARCH's kernel (WHAT names it: patched, base, debug) and its
# tests for a counted run; a failure is recorded.
build_for_tests() {
	if ! phase "build $2 kernel $1" kernel "$1"; then
		record_fail "$1/build" "$2 kernel build failed"; return 1
	fi
	if ! phase "build userspace $1" userspace "$1"; then
		record_fail "$1/userspace" "test build failed"; return 1
	fi
}

# A check runs in two lanes on the cores it has: the builds, each using every
# core, and beside them the single-threaded checks and the boots (mostly one
# busy vCPU), each boot waiting for the kernel it needs. The build lane says
# which kernels are ready in $marks: a file per kernel, "ok", "failed" (the
# failure is recorded) or "skipped" (its patched kernel failed).
marks=$OUT/marks
build_lane_pid=""

mark() { # NAME STATUS: written whole, so that await never reads half of it
	echo "$2" > "$marks/.$1" && mv -f "$marks/.$1" "$marks/$1"
}

# NAME: wait for the build lane's mark NAME; true if that kernel is ready.
await() {
	while [ ! -f "$marks/$1" ]; do
		if ! kill -0 "$build_lane_pid" 2>/dev/null; then
			[ -f "$marks/$1" ] && break
			record_fail "$1/build" "the build lane ended without building it"
			return 1
		fi
		sleep 2
	done
	[ "$(cat "$marks/$1")" = ok ]
}

# Everything a check compiles, in the order the boots need it. A full check
# (the patched test kernels, not QUICK) adds the topic chain (the base
# kernel of the legacy comparison, each topic's kernel) and sparse; the
# compile-tests and arm32 KUnit, which no boot waits for, come last.
build_lane() { # FULL
	local a full=$1
	for a in $arches; do
		if build_for_tests "$a" "$variant"; then mark "$variant-$a" ok; else mark "$variant-$a" failed; fi
	done
	[ -n "$full" ] && topic_chain
	[ -z "$quick" ] && phase "compile-test builds" compile_tests
	[ -n "$full" ] && phase "sparse + W=1 on touched files" static_checks
	[ "$variant" = patched ] && [ -z "$quick" ] && phase "KUnit on arm32 (LPAE)" kunit_arm32
	return 0
}

# Stop the build lane and everything it started (its own process group).
stop_build_lane() {
	[ -n "$build_lane_pid" ] && kill -- -"$build_lane_pid" 2>/dev/null
	build_lane_pid=""
}

cmd_check() {
	local a fw full="" t0
	t0=$(date +%s.%N)
	start_counted_run || { summary; return 1; }
	[ "$variant" = patched ] && [ "$flavour" = test ] && [ -z "$quick" ] && full=1
	rm -rf "$marks"
	mkdir -p "$marks"
	# No earlier run's group dumps may stand in for this run's
	rm -f "$logdir"/*groups.json
	if [ -n "$full" ]; then
		: > "$OUT/check-topics.txt"
		topics_setup
	fi
	set -m
	build_lane "$full" &
	build_lane_pid=$!
	set +m
	trap 'stop_build_lane; exit 130' INT TERM HUP
	phase "host selftests" host_selftests
	if [ -z "$quick" ] && [ "$variant" = patched ]; then
		phase "checkpatch series" checkpatch_series
		phase "kernel-doc" kerneldoc_check
		phase "clang-format on added lines" format_check
		[ -n "$full" ] || phase "mailable series" mailable_series
	fi
	for a in $arches; do
		await "$variant-$a" || continue
		for fw in $(firmwares_for "$a"); do
			phase "boot + tests $a$(fw_suffix "$fw")" boot_tests "$a" "$variant" "$results" "$fw"
		done
	done
	if [ -n "$full" ]; then
		for a in $arches; do
			[ "$(cat "$marks/$variant-$a" 2>/dev/null)" = ok ] || continue
			for fw in $(firmwares_for "$a"); do
				phase "legacy file comparison $a$(fw_suffix "$fw")" legacy_vs_base "$a" "$fw"
			done
		done
		topic_boots
		# After the topics' boots: their cover letters carry this run's counts.
		phase "mailable series" mailable_series
	fi
	wait "$build_lane_pid" || record_fail build-lane "the build lane ended with status $?"
	build_lane_pid=""
	trap - INT TERM HUP
	printf '%-34s %7.1f s\n' "whole check (wall clock)" "$(echo "$(date +%s.%N) - $t0" | bc)" >> "$phases"
	summary check
}

# Each topic of patches/topics but the last (the whole series, which the
# rest of make check tests) is proven with the topics before it only. One
# worktree ($OUT/topic/src) walks from the base through the end of each of
# those topics, and one build directory per arch follows it, so that each
# step compiles only what its topic changed. The base step is the unpatched
# kernel of the legacy comparison and sparse's reference; each topic's step
# is a test kernel and the kselftests its patches add (built from that tree
# with its UAPI headers), booted in the other lane with every KUnit suite
# the kernel has. A step's kernel and tests are kept in $OUT/topic/steps/
# NAME/ARCH before the directory moves on. Marks: base-ARCH, topic-NAME-ARCH.
wt=$OUT/topic/src
topic_names=() topic_kselftests=() topic_suites=()
topic_run="make check"	# what the cover letters say proved the topics

step_dir() { echo "$OUT/topic/steps/$1/$2"; } # NAME ARCH

# The topics; false (recorded) if patches/topics does not
# describe the series.
topics_setup() {
	# shellcheck source=topics.sh
	. "$here/topics.sh"
	if ! topics_read "$top/patches/topics" "$OUT/patched/src"; then
		topic_names=()
		record_fail topics "patches/topics does not describe the series"; return 1
	fi
	# Topic I's tests, in make check's run order (one make check does not
	# run is a failure): topic_kselftests[I], topic_suites[I].
	local i t tests suites ordered
	topic_kselftests=() topic_suites=()
	for ((i = 0; i < ${#topic_names[@]} - 1; i++)); do
		{ read -r tests; read -r suites; } < <(topic_tests "$OUT/patched/src" "$i")
		ordered=""
		for t in $KSELFTESTS; do [[ " $tests " = *" $t "* ]] && ordered="$ordered $t"; done
		for t in $tests; do
			[[ " $KSELFTESTS " = *" $t "* ]] ||
				record_fail "topic-${topic_names[i]}/$t" "not among the harness's KSELFTESTS"
		done
		topic_kselftests+=("${ordered# }") topic_suites+=("$suites")
	done
}

chain_kernel() { # ARCH STEP
	KBUILD_PREFIX=1 "$here/kbuild.sh" "$OUT" topic "$1" > "$logdir/build-chain-$2-$1.log" 2>&1
}

# ARCH TESTS DEST: a topic's kselftests from its tree and UAPI headers.
chain_userspace() {
	local arch=$1 dest=$3 t
	cp "$here/guest/show-groups.sh" "$dest/"
	[ -n "$2" ] || return 0
	# shellcheck disable=SC2046 # one target per test
	CFLAGS="" LDFLAGS="" submake -B -C "$wt/tools/testing/selftests/iommu" OUTPUT="$dest" \
		CROSS_COMPILE="$(arch_fact "$arch" cross)" USERCFLAGS="-g -Werror" USERLDFLAGS=-static \
		KHDR_INCLUDES="-isystem $OUT/topic/build/$arch/hdr/include" \
		$(for t in $2; do echo "$dest/$t"; done) ||
		{ err "building the kselftests of $(git -C "$wt" rev-parse --short HEAD) for $arch failed"; return 1; }
}

# STEP COMMIT [I]: the chain's step at COMMIT: base (no I) or topic I.
chain_step() {
	local step=$1 commit=$2 i=${3-} a d what mark co=ok
	git -C "$wt" checkout -q --detach "$commit" || co=failed
	for a in $arches; do
		d=$(step_dir "$step" "$a")
		rm -rf "$d"
		mkdir -p "$d"
		what="topic $step $a" mark=topic-$step-$a
		[ -n "$i" ] || what="base kernel $a" mark=base-$a
		if [ $co != ok ]; then
			record_fail "$mark/build" "checkout of $commit failed"; mark "$mark" failed; continue
		fi
		if ! phase "build $what" chain_kernel "$a" "$step"; then
			record_fail "$mark/build" "$(grep -m1 -E 'error|Error' "$logdir/build-chain-$step-$a.log")"
			mark "$mark" failed; continue
		fi
		if ! cp "$OUT/topic/build/$a/kernel.img" "$d/" ||
		   { [ -d "$OUT/topic/build/$a/modules" ] && ! cp -r "$OUT/topic/build/$a/modules" "$d/"; }; then
			record_fail "$mark/build" "its kernel could not be kept in $d"; mark "$mark" failed; continue
		fi
		if [ -z "$i" ]; then
			phase "sparse + W=1 of the base $a" base_static "$a" || rm -f "$OUT/topic/static-base-$a.txt"
			mark "$mark" ok; continue
		fi
		record_pass "$mark/build"
		if ! chain_userspace "$a" "${topic_kselftests[i]}" "$d"; then
			record_fail "$mark/userspace" "the topic's kselftests do not build on its tree"
			mark "$mark" failed; continue
		fi
		mark "$mark" ok
	done
}

# The build lane's part: the base step, then each topic's.
topic_chain() {
	local i
	rm -f "$OUT"/topic/static-base-*.txt
	# A worktree of this assembled tree (assembly can make the tree anew);
	# without it every step's checkout fails, and says so.
	if [ ! -e "$wt/.git" ] ||
	   ! git -C "$OUT/patched/src" worktree list --porcelain | grep -qxF "worktree $wt"; then
		rm -rf "$wt"
		git -C "$OUT/patched/src" worktree prune
		git -C "$OUT/patched/src" worktree add -q --detach "$wt" base || err "no worktree at $wt"
	fi
	chain_step base base
	for ((i = 0; i < ${#topic_names[@]} - 1; i++)); do
		chain_step "${topic_names[i]}" "${topic_ends[i]}" "$i"
	done
}

# The boot lane's part: each topic's kernel with its tests, on each arch
# (arm64 with its device tree only: the whole series boots ACPI too); its
# counts go to $OUT/check-topics.txt, for the cover letters of make series.
topic_boots() {
	local i name a label counts
	touch "$OUT/check-topics.txt"
	for ((i = 0; i < ${#topic_names[@]} - 1; i++)); do
		name=${topic_names[i]}
		for a in $arches; do
			label=topic-$name-$a
			await "$label" || continue
			[ -n "${topic_kselftests[i]}${topic_suites[i]}" ] || continue
			phase "topic $name: tests $a" topic_boot "$label" "$a" "$i"
		done
		counts=$(grep -E "^(pass|fail|skip) topic-$name-(${arches// /|})/" "$results" | awk '
			/^pass / { p++ } /^fail / { f++ } /^skip / { s++ }
			END { printf "%d passed, %d failed, %d skipped", p, f, s }')
		echo "$name ${topic_ends[i]} '$topic_run' of this series on top of the ones" \
			"before it (${arches// /, }): its builds, and boots running the kselftests its" \
			"patches add and every KUnit suite its kernels have: $counts." >> "$OUT/check-topics.txt"
	done
}

# LABEL ARCH I: boot topic I's kernel with its tests; a boot that ends
# before vmrun judged anything is a failure too.
topic_boot() {
	local label=$1 a=$2 i=$3 d nfail
	d=$(step_dir "${topic_names[i]}" "$a")
	nfail=$(grep -c '^fail ' "$results")
	KSELFTESTS=${topic_kselftests[i]} KUNIT_SUITES=${topic_suites[i]} GUEST_DIR=$d KERNEL_DIR=$d \
	BOOT_LABEL=$label HARNESS_TESTS_x86_64="" HARNESS_TESTS_arm64="" \
		boot_tests "$a" patched "$results" dt && return 0
	[ "$(grep -c '^fail ' "$results")" != "$nfail" ] ||
		record_fail "$label/boot" "the boot failed before any test was judged (see $logdir/$label.console.log)"
	return 1
}

# make check-topics: only the topic chain and its boots (and the base step).
cmd_check_topics() {
	# Its own results and phases: a make check's stay where they are.
	results=$OUT/topic/results.txt phases=$OUT/topic/phases.txt topic_run="make check-topics"
	mkdir -p "$OUT/topic"
	start_counted_run || { summary; return 1; }
	: > "$OUT/check-topics.txt"
	topics_setup || { summary; return 1; }
	rm -rf "$marks"
	mkdir -p "$marks"
	set -m
	topic_chain &
	build_lane_pid=$!
	set +m
	trap 'stop_build_lane; exit 130' INT TERM HUP
	topic_boots
	wait "$build_lane_pid" || record_fail build-lane "the build lane ended with status $?"
	build_lane_pid=""
	trap - INT TERM HUP
	summary
}

cmd_run() {
	cmd_build || return 1
	local a rc=0 irf
	for a in $arches; do
		irf=$OUT/guest/$a/run-initramfs.cpio.gz
		initramfs "$a" "$irf" "run-me=$here/guest/run-demo.sh" || return 1
		echo
		echo "=================== $a: Linux $(cat "$OUT/base.version") $([ $variant = base ] && echo "(unpatched base)" || echo "+ $(git -C "$OUT/patched/src" rev-list --count base..HEAD) series patches") ==================="
		"$here/vmrun.py" run --arch "$a" --kernel "$(kdir "$a")/kernel.img" --initrd "$irf" \
			--logdir "$logdir" --label "run-$a" --timeout "$BOOT_TIMEOUT" \
			--extra "${QEMU_EXTRA:-}" || rc=1
	done
	echo
	cat "$phases"
	return $rc
}

cmd_vm() {
	[ -n "${ARCH:-}" ] || { err "make vm needs ARCH=x86_64|arm64"; return 2; }
	[ -n "${RUN:-}" ] || { err "make vm needs RUN=path (a static binary or #!/bin/sh script)"; return 2; }
	[ -f "$RUN" ] || { err "RUN=$RUN does not exist"; return 2; }
	: > "$phases"
	cmd_build >/dev/null || { err "build failed (run 'make build ARCH=$ARCH' to see why)"; return 2; }
	local irf=$OUT/guest/$ARCH/vm-initramfs.cpio.gz t args=() bundle=() htests b
	for t in $KSELFTESTS; do args+=("$t=$OUT/guest/$ARCH/$t"); done
	# The harness's guest tests and the QEMU they run, in /tests and at their paths
	htests=HARNESS_TESTS_$ARCH
	for t in ${!htests}; do args+=("$t=$here/guest/$t.sh"); done
	b=$(qemu_bundle "$ARCH") || return 2
	[ -z "$b" ] || mapfile -t bundle <<<"$b"
	initramfs "$ARCH" "$irf" "${args[@]}" "${bundle[@]}" "run-me=$RUN" || return 2
	"$here/vmrun.py" run --arch "$ARCH" --firmware "${FIRMWARE:-dt}" \
		--kernel "$(kdir "$ARCH")/kernel.img" --initrd "$irf" --logdir "$logdir" --label "vm-$ARCH" --timeout "$BOOT_TIMEOUT" \
		--extra "${QEMU_EXTRA:-}"
}

# make stress: races, faults and fuzz for longer, on the debug kernels
# (lockdep, KASAN, kmemleak, fault injection) of each arch and firmware,
# with the hot-add tests; the kmemleak report is judged after the tests.
cmd_stress() {
	local secs=${STRESS_SECONDS:-120} calls=${FUZZ_CALLS:-200000} seed=${FUZZ_SEED:-1} a fw
	for v in "$secs" "$calls" "$seed"; do
		[[ $v =~ ^[0-9]+$ ]] || { err "STRESS_SECONDS, FUZZ_CALLS and FUZZ_SEED take numbers"; return 2; }
	done
	flavour=debug
	KSELFTESTS="iommu_resv_stress iommu_resv_fail_nth iommu_resv_query iommu_resv_hotplug iommu_resv_many"
	HARNESS_TESTS_x86_64="" HARNESS_TESTS_arm64=""
	# 10,000 descriptors for the hostile readers (2,000 in make check)
	KCMDLINE="RESV_STRESS_SECONDS=$secs RESV_FUZZ_CALLS=$calls RESV_FUZZ_SEED=$seed RESV_HOSTILE_FDS=10000"
	# Two budgets of stress, then fail_nth and boot under KASAN: generous.
	: "${BOOT_TIMEOUT_STRESS:=$((2 * secs + 2400))}"
	BOOT_TIMEOUT=$BOOT_TIMEOUT_STRESS
	start_counted_run || { summary; return 1; }
	for a in $arches; do
		build_for_tests "$a" debug || continue
		for fw in $(firmwares_for "$a"); do
			phase "stress $a$(fw_suffix "$fw"), ${secs} s, seed $seed" \
				boot_tests "$a" "$variant" "$results" "$fw"
		done
	done
	# x86_64 under the data-race detector (a kernel of its own: KCSAN
	# excludes KASAN): the races and hot-add tests, where races would be.
	if [[ " $arches " = *" x86_64 "* ]]; then
		flavour=kcsan
		KSELFTESTS="iommu_resv_stress iommu_resv_hotplug"
		build_for_tests x86_64 kcsan &&
			phase "stress x86_64 (KCSAN), ${secs} s, seed $seed" \
				boot_tests x86_64 "$variant" "$results" dt
	fi
	summary
}

case ${1:-} in
check) cmd_check ;;
check-topics) cmd_check_topics ;;
stress) cmd_stress ;;
run) : > "$phases"; cmd_run ;;
vm) cmd_vm ;;
build) : > "$phases"; cmd_build && cat "$phases" ;;
*) err "usage: harness.sh check|check-topics|run|vm|build|stress"; exit 2 ;;
esac
