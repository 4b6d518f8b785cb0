#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# mkinitramfs.sh OUT ARCH OUTPUT.cpio.gz [name=file ...]
# ARCH's busybox (arches.conf) and initramfs/init, packed by the assembled
# tree's gen_init_cpio (OUT/patched/src, built in OUT/host).
# Each name=file goes to /tests/name and is listed in /tests/list (run in
# that order); "bin:name=file" becomes /bin/name; "run-me=file" becomes
# /run-me for resv.mode=run; "/abs/path=file" becomes /abs/path (its
# directories are created); "mod:name=file" becomes /lib/modules/name, listed
# in /lib/modules/list (loaded by init in that order).
set -euo pipefail
here=$(dirname "$(realpath "$0")")
# shellcheck source=tools/testing/iommu-resv/arches.sh
. "$here/arches.sh"
OUT=$1 arch=$2 output=$3
shift 3
busybox=$(arch_fact "$arch" busybox) || { echo "mkinitramfs: error: no busybox for '$arch'" >&2; exit 1; }
gen=$OUT/host/gen_init_cpio
if [ ! -x "$gen" ] || [ "$gen" -ot "$OUT/patched/src/usr/gen_init_cpio.c" ]; then
	mkdir -p "$OUT/host"
	gcc -O2 -o "$gen.$$" "$OUT/patched/src/usr/gen_init_cpio.c" && mv -f "$gen.$$" "$gen"
fi
list=$(mktemp)
tlist=$(mktemp)
mlist=$(mktemp)
trap 'rm -f "$list" "$tlist" "$mlist"' EXIT
{
	echo "dir /dev 0755 0 0"
	echo "nod /dev/console 0600 0 0 c 5 1"
	echo "dir /bin 0755 0 0"
	echo "dir /sbin 0755 0 0"
	echo "dir /proc 0755 0 0"
	echo "dir /sys 0755 0 0"
	echo "dir /tmp 1777 0 0"
	echo "dir /tests 0755 0 0"
	echo "file /bin/busybox $busybox 0755 0 0"
	echo "file /init $here/initramfs/init 0755 0 0"
	echo "file /tests/list $tlist 0644 0 0"
	echo "dir /lib 0755 0 0"
	echo "dir /lib/modules 0755 0 0"
	echo "file /lib/modules/list $mlist 0644 0 0"
} > "$list"
declare -A dirs=([/dev]=1 [/bin]=1 [/sbin]=1 [/proc]=1 [/sys]=1 [/tmp]=1 [/tests]=1
		 [/lib]=1 [/lib/modules]=1)
for a in "$@"; do
	name=${a%%=*} file=${a#*=}
	[ -f "$file" ] || { echo "mkinitramfs: error: $file does not exist" >&2; exit 1; }
	if [ "${name#/}" != "$name" ]; then
		d="" rest=${name#/}
		while [ "${rest#*/}" != "$rest" ]; do
			d=$d/${rest%%/*} rest=${rest#*/}
			[ -n "${dirs[$d]:-}" ] || { echo "dir $d 0755 0 0" >> "$list"; dirs[$d]=1; }
		done
		echo "file $name $(realpath "$file") $(stat -c %a "$(realpath "$file")") 0 0" >> "$list"
	elif [ "$name" = run-me ]; then
		echo "file /run-me $(realpath "$file") 0755 0 0" >> "$list"
	elif [ "${name#mod:}" != "$name" ]; then
		echo "file /lib/modules/${name#mod:} $(realpath "$file") 0644 0 0" >> "$list"
		echo "${name#mod:}" >> "$mlist"
	elif [ "${name#bin:}" != "$name" ]; then
		echo "file /bin/${name#bin:} $(realpath "$file") 0755 0 0" >> "$list"
	else
		echo "file /tests/$name $(realpath "$file") 0755 0 0" >> "$list"
		echo "$name" >> "$tlist"
	fi
done
"$gen" "$list" | gzip -1 > "$output.tmp"
mv "$output.tmp" "$output"
