#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Bad input gets a short, clear error and a non-zero status, and changes
# nothing; a boot that cannot start or never begins its tests is a failed
# result (or, for a TCG hang, booted once more). Prints TAP.
set -u
here=$(dirname "$(realpath "$0")")
top=$(realpath "$here/../../../..")
: "${OUT:=$top/out}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0

# expect NAME PATTERN CMD...: CMD fails, prints at most 2 lines on stderr, one matching PATTERN.
expect() {
	local name=$1 pat=$2 rc lines
	shift 2
	n=$((n + 1))
	"$@" > "$tmp/stdout" 2> "$tmp/stderr"
	rc=$?
	lines=$(grep -c . "$tmp/stderr")
	if [ $rc != 0 ] && grep -qE "$pat" "$tmp/stderr" && [ "$lines" -le 2 ]; then
		echo "ok $n $name"
	else
		echo "# status $rc, stderr ($lines lines):"
		sed 's/^/#   /' "$tmp/stderr" | head -20
		echo "not ok $n $name"
		failed=$((failed + 1))
	fi
}

echo "TAP version 13"
echo "1..17"
expect unknown_arch "unknown ARCH 'sparc'" make -s -C "$top" OUT="$tmp/out" check ARCH=sparc
expect two_arches "ARCH takes one arch" make -s -C "$top" OUT="$tmp/out" vm ARCH="x86_64 arm64" RUN=/bin/true
expect missing_kernel_src "KERNEL_SRC=/nonexistent is not a kernel source tree" \
	make -s -C "$top" OUT="$tmp/out" check KERNEL_SRC=/nonexistent
mkdir -p "$tmp/linux-5.10/drivers/iommu"
printf 'VERSION = 5\nPATCHLEVEL = 10\n' > "$tmp/linux-5.10/Makefile"
expect wrong_kernel_version "is Linux 5.10, the series needs 6.12.y" \
	env KERNEL_SRC="$tmp/linux-5.10" "$top/tools/testing/iommu-resv/assemble.sh" "$top" "$tmp/out"
expect vm_without_run "make vm needs RUN=path" make -s -C "$top" OUT="$tmp/out" vm ARCH=x86_64 RUN=

# A glue patch whose context is not in the tree: named, with file and line, tree untouched.
mkdir -p "$tmp/top/patches"
cat > "$tmp/top/patches/0001-bad.patch" <<'EOP'
From: iommu-resv developers <iommu-resv@example.org>
Subject: [PATCH] iommu: A patch that does not apply

---
diff --git a/drivers/iommu/iommu.c b/drivers/iommu/iommu.c
--- a/drivers/iommu/iommu.c
+++ b/drivers/iommu/iommu.c
@@ -10,3 +10,4 @@
 this line is not in iommu.c
 nor is this one
+added
 nor this
EOP
echo "0001-bad.patch" > "$tmp/top/patches/series"
if [ -d "$OUT/patched/src/.git" ]; then
	head_before=$(git -C "$OUT/patched/src" rev-parse HEAD)
	expect patch_does_not_apply "patch 0001-bad.patch does not apply" \
		"$top/tools/testing/iommu-resv/assemble.sh" "$tmp/top" "$OUT"
	n=$((n + 1))
	if grep -q "drivers/iommu/iommu.c:10" "$tmp/stderr" &&
	   [ "$(git -C "$OUT/patched/src" rev-parse HEAD)" = "$head_before" ]; then
		echo "ok $n failed_patch_names_hunk_and_leaves_tree"
	else
		sed 's/^/#   /' "$tmp/stderr"
		echo "not ok $n failed_patch_names_hunk_and_leaves_tree"
		failed=$((failed + 1))
	fi
else
	n=$((n + 2))
	echo "not ok $((n - 1)) patch_does_not_apply # no assembled tree in $OUT"
	echo "not ok $n failed_patch_names_hunk_and_leaves_tree # no assembled tree"
	failed=$((failed + 2))
fi

# A glue patch that edits a file an earlier patch of the series introduces:
# refused, naming both (the repository copy of a new file is its final form).
mkdir -p "$tmp/top2/patches" "$tmp/top2/drivers/iommu"
echo "int x;" > "$tmp/top2/drivers/iommu/iommu-new.c"
printf 'From: iommu-resv developers <iommu-resv@example.org>\nSubject: [PATCH] iommu: Add a file\n\n---\n' \
	> "$tmp/top2/patches/0001-add.patch"
cat > "$tmp/top2/patches/0002-edit.patch" <<'EOP'
From: iommu-resv developers <iommu-resv@example.org>
Subject: [PATCH] iommu: Edit it

---
diff --git a/drivers/iommu/iommu-new.c b/drivers/iommu/iommu-new.c
--- a/drivers/iommu/iommu-new.c
+++ b/drivers/iommu/iommu-new.c
@@ -1 +1,2 @@
 int x;
+int y;
EOP
printf '0001-add.patch\n\tdrivers/iommu/iommu-new.c\n0002-edit.patch\n' > "$tmp/top2/patches/series"
expect glue_hunk_on_new_file \
	"patch 0002-edit.patch edits drivers/iommu/iommu-new.c, which 0001-add.patch introduces" \
	"$top/tools/testing/iommu-resv/assemble.sh" "$tmp/top2" "$OUT"

# No QEMU on PATH.
mkdir -p "$tmp/bin"
ln -s "$(python3 -c 'import sys; print(sys.executable)')" "$tmp/bin/python3"
touch "$tmp/k" "$tmp/i"
expect qemu_missing "qemu-system-aarch64 not found" \
	env PATH="$tmp/bin" python3 "$here/../vmrun.py" tests --arch arm64 --kernel "$tmp/k" \
	--initrd "$tmp/i" --logdir "$tmp/logs" --accel tcg
expect acpi_only_on_arm64 "firmware acpi is not available on x86_64" \
	python3 "$here/../vmrun.py" tests --arch x86_64 --firmware acpi --kernel "$tmp/k" \
	--initrd "$tmp/i" --logdir "$tmp/logs" --accel tcg
# ... and the run's results say so: a boot that could not start is a failure.
n=$((n + 1))
python3 "$here/../vmrun.py" tests --arch x86_64 --kernel "$tmp/none" --initrd "$tmp/i" \
	--logdir "$tmp/logs" --accel tcg --label nokernel --results "$tmp/results" > /dev/null 2>&1
if [ $? = 1 ] && grep -qx 'fail nokernel/boot # .*/none does not exist.*' "$tmp/results"; then
	echo "ok $n no_boot_is_a_failed_result"
else
	echo "not ok $n no_boot_is_a_failed_result"
	failed=$((failed + 1))
fi

# A guest that never begins its tests (no @@BEGIN) within --begin-timeout:
# booted once more, its first logs kept, only for the TCG timer hang (init
# started, then RCU reports a CPU's timer that never fired, no splat
# before); any other hang, or a second one, fails the boot. A stand-in QEMU
# on PATH: its first FAKE_HANGS boots write FAKE_CONSOLE and hang, the next
# writes @@BEGIN, sleeps FAKE_LATE seconds and finishes.
mkdir -p "$tmp/fakeqemu"
cat > "$tmp/fakeqemu/qemu-system-x86_64" <<'FAKE'
#!/bin/bash
# The second "-serial file:" is the output channel (arches.conf).
files=() prev=""
for a in "$@"; do [ "$prev" = -serial ] && files+=("${a#file:}"); prev=$a; done
n=$(cat "$FAKE_STATE" 2>/dev/null || echo 0)
echo $((n + 1)) > "$FAKE_STATE"
if [ "$n" -lt "$FAKE_HANGS" ]; then
	printf '%b' "$FAKE_CONSOLE" > "${files[0]}"
	echo "half a line" > "${files[1]}"
	echo "qemu: the stand-in hangs"
	exec sleep 60
fi
echo "Run /init as init process" > "${files[0]}"
echo "@@BEGIN 6.12 x86_64" > "${files[1]}"
sleep "${FAKE_LATE:-0}"
printf '@@DUMP boot\n@@DUMP boot end\n@@DONE\n' >> "${files[1]}"
FAKE
chmod +x "$tmp/fakeqemu/qemu-system-x86_64"
# (selftest/test_vmrun.py tells this hang apart from others in detail)
tcg_hang='Run /init as init process\nrcu: INFO: rcu_sched detected stalls on CPUs/tasks:\n'
tcg_hang+='rcu: \t1-...!: (0 ticks this GP) idle=30d0/0/0x0 softirq=3/3 fqs=0 (false positive?)\n'
tcg_hang+="rcu: rcu_sched kthread timer wakeup didn't happen for 5251 jiffies!\nCall Trace:\n"
# hang_boot LABEL HANGS CONSOLE [LATE]: the boot's status; boots in $tmp/state
hang_boot() {
	rm -f "$tmp/state"
	FAKE_STATE=$tmp/state FAKE_HANGS=$2 FAKE_CONSOLE=$3 FAKE_LATE=${4:-0} \
	PATH="$tmp/fakeqemu:$PATH" python3 "$here/../vmrun.py" \
		tests --arch x86_64 --kernel "$tmp/k" --initrd "$tmp/i" --logdir "$tmp/logs" \
		--accel tcg --label "$1" --results "$tmp/results" --timeout 60 --begin-timeout 2 \
		> "$tmp/$1.out" 2>&1
}
# judge NAME CONDITION...: ok if the condition holds
judge() {
	local name=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n $name"
	else
		sed 's/^/# /' "$tmp/$name.out" 2>/dev/null
		grep " $name/" "$tmp/results" | sed 's/^/# /'
		echo "not ok $n $name"
		failed=$((failed + 1))
	fi
}
hung_once() {
	hang_boot hung_once 1 "$tcg_hang" && [ "$(cat "$tmp/state")" = 2 ] &&
	grep -qx "skip hung_once/boot-retried # the first boot hung before its tests (no @@BEGIN in 2 s; .*): booted once more" "$tmp/results" &&
	! grep -q '^fail hung_once/' "$tmp/results" &&
	grep -q 'timer wakeup' "$tmp/logs/hung_once.hung.console.log" &&
	grep -qx 'half a line' "$tmp/logs/hung_once.hung.out.log" &&
	grep -qx 'qemu: the stand-in hangs' "$tmp/logs/hung_once.hung.qemu.log" &&
	grep -qx '@@DONE' "$tmp/logs/hung_once.out.log" &&
	# a later run of the label that did not hang: no hung logs of the earlier
	hang_boot hung_once 0 "" && ! ls "$tmp/logs/hung_once.hung."* > /dev/null 2>&1
}
judge hung_once hung_once
hung_twice() {
	! hang_boot hung_twice 2 "$tcg_hang" && [ "$(cat "$tmp/state")" = 2 ] &&
	grep -qx 'fail hung_twice/boot # timed out before the tests .*(no @@BEGIN within 2 s, twice; .*hung_twice.hung.console.log)' "$tmp/results"
}
judge hung_twice hung_twice
other_hang() { # hung without RCU's word on a timer: a kernel's own hang
	! hang_boot "$1" 1 "$2" && [ "$(cat "$tmp/state")" = 1 ] &&
	grep -qx "fail $1/boot # timed out before the tests .*(no @@BEGIN within 2 s, not the TCG timer hang, so not booted again)" "$tmp/results" &&
	! grep -q "^skip $1/boot-retried" "$tmp/results"
}
judge hung_elsewhere other_hang hung_elsewhere 'Run /init as init process\n'
judge splat_before_stall other_hang splat_before_stall \
	"Run /init as init process\nWARNING: CPU: 1 PID: 1 at drivers/iommu/iommu.c:1 x\n$tcg_hang"
judge stall_before_init other_hang stall_before_init "${tcg_hang#Run /init as init process\\n}"
begun_late() { # begun in time, then longer than the limit: not cut short
	hang_boot begun_late 0 "" 4 && [ "$(cat "$tmp/state")" = 1 ] &&
	! grep -q '^fail begun_late/' "$tmp/results"
}
judge begun_late begun_late
[ $failed = 0 ]
