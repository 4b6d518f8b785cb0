#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Bad input gets a short, clear error and a non-zero status, and changes
# nothing. Prints TAP.
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
echo "1..13"
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

# A guest that never begins its tests (a TCG hang before init's @@BEGIN) is
# booted once more, its first console kept: a stand-in QEMU hangs on its
# first start and runs on its second; one that always hangs fails the boot.
mkdir -p "$tmp/fakeqemu"
cat > "$tmp/fakeqemu/qemu-system-x86_64" <<'FAKE'
#!/bin/bash
# The second "-serial file:" is the output channel (arches.conf).
files=() prev=""
for a in "$@"; do [ "$prev" = -serial ] && files+=("${a#file:}"); prev=$a; done
echo "Run /init" > "${files[0]}"
n=$(cat "$FAKE_STATE" 2>/dev/null || echo 0)
echo $((n + 1)) > "$FAKE_STATE"
if [ "$n" -lt "$FAKE_HANGS" ]; then exec sleep 60; fi
printf '@@BEGIN 6.12 x86_64\n@@DUMP boot\n@@DUMP boot end\n@@DONE\n' > "${files[1]}"
FAKE
chmod +x "$tmp/fakeqemu/qemu-system-x86_64"
hang_boot() { # HANGS LABEL: the boot's status
	rm -f "$tmp/state"
	FAKE_STATE=$tmp/state FAKE_HANGS=$1 PATH="$tmp/fakeqemu:$PATH" python3 "$here/../vmrun.py" \
		tests --arch x86_64 --kernel "$tmp/k" --initrd "$tmp/i" --logdir "$tmp/logs" \
		--accel tcg --label "$2" --results "$tmp/results" --timeout 60 --begin-timeout 2 \
		> "$tmp/$2.out" 2>&1
}
n=$((n + 1))
hang_boot 1 hung1
if [ $? = 0 ] && [ "$(cat "$tmp/state")" = 2 ] &&
   grep -qx 'skip hung1/boot-retried # the first boot wrote no @@BEGIN in 2 s .*' "$tmp/results" &&
   ! grep -q '^fail hung1/' "$tmp/results" && grep -qx 'Run /init' "$tmp/logs/hung1.hung.console.log"; then
	echo "ok $n hung_boot_is_booted_once_more"
else
	sed 's/^/# /' "$tmp/hung1.out"
	echo "not ok $n hung_boot_is_booted_once_more"
	failed=$((failed + 1))
fi
n=$((n + 1))
hang_boot 2 hung2
if [ $? = 1 ] && [ "$(cat "$tmp/state")" = 2 ] &&
   grep -qx 'fail hung2/boot # timed out before the tests.*' "$tmp/results"; then
	echo "ok $n boot_hung_twice_fails"
else
	sed 's/^/# /' "$tmp/hung2.out"
	echo "not ok $n boot_hung_twice_fails"
	failed=$((failed + 1))
fi
[ $failed = 0 ]
