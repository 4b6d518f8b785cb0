#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install what the harness needs (Debian 12). As root: apt-get; otherwise
# print the exact command. Quiet and fast when everything is present.
set -euo pipefail

: "${DEBIAN_KVER:=6.12.118-1~deb12u1}"	# the base the series is tested on
out=${1:-out}

here=$(dirname "$(realpath "$0")")
# shellcheck source=tools/testing/iommu-resv/arches.sh
. "$here/arches.sh"
OUT=$out	# for "$OUT" in arches.conf

# The host's tools; each arch's packages (QEMU, firmware, compiler) are in arches.conf.
pkgs=(flex bison bc libelf-dev libssl-dev cpio ccache sparse xz-utils python3 python3-ply
      python3-git python3-docutils perl kmod rsync dwarves clang-format device-tree-compiler)
# Checked by file so that an equivalent install (e.g. a newer qemu) counts.
declare -A need_file=(
	[ccache]=/usr/bin/ccache
	[sparse]=/usr/bin/sparse
	[python3]=/usr/bin/python3
	[clang-format]=/usr/bin/clang-format
	[device-tree-compiler]=/usr/bin/dtc
)
# A foreign arch's busybox: its package, unpacked (not installed) under OUT.
declare -A foreign_bb=()
for a in $(arch_names); do
	for d in $(arch_fact "$a" debs); do
		pkgs+=("${d%%=*}")
		[ "${d#*=}" = "$d" ] || need_file[${d%%=*}]=${d#*=}
	done
	p=$(arch_fact "$a" busybox_deb) && foreign_bb[$p]=$(arch_fact "$a" busybox)
done

missing=()
for p in "${pkgs[@]}"; do
	if [ -n "${need_file[$p]:-}" ]; then
		[ -e "${need_file[$p]}" ] || missing+=("$p")
	else
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	fi
done
src_pkg=""
if [ -z "${KERNEL_SRC:-}" ] && ! dpkg-query -W -f='${Status}' linux-source-6.12 2>/dev/null | grep -q 'ok installed'; then
	src_pkg=linux-source-6.12
fi
# foreign_bb_missing: the busybox packages of foreign arches not unpacked yet.
foreign_bb_missing() {
	local p
	for p in "${!foreign_bb[@]}"; do
		[ -x "${foreign_bb[$p]}" ] || echo "$p"
	done
}
bb_missing=$(foreign_bb_missing)

if [ ${#missing[@]} -eq 0 ] && [ -z "$src_pkg" ] && [ -z "$bb_missing" ]; then
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	# shellcheck disable=SC2086 # one word per package
	echo "deps: missing:" "${missing[@]}" $src_pkg $bb_missing >&2
	echo "deps: run as root: apt-get update && apt-get install -y ${missing[*]} ${src_pkg:+linux-source-6.12=$DEBIAN_KVER}" >&2
	for p in $bb_missing; do
		echo "deps: and: dpkg --add-architecture ${p#*:} && apt-get update && apt-get download $p && dpkg-deb -x ${p%:*}_*_${p#*:}.deb ${foreign_bb[$p]%/bin/busybox}" >&2
	done
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_updated=""
apt_update() { [ -n "$apt_updated" ] || { echo "deps: apt-get update"; apt-get update -qq; apt_updated=1; }; }
apt_install() {
	local log
	log=$(mktemp)
	apt-get install -y -qq --no-install-recommends "$@" >"$log" 2>&1 ||
		{ tail -n 20 "$log" >&2; rm -f "$log"; echo "deps: error: apt-get install $* failed" >&2; return 1; }
	rm -f "$log"
}

if [ ${#missing[@]} -gt 0 ]; then
	apt_update
	echo "deps: installing ${missing[*]}"
	apt_install "${missing[@]}"
fi
if [ -n "$src_pkg" ]; then
	apt_update
	if apt-cache madison linux-source-6.12 | grep -qF " $DEBIAN_KVER "; then
		ver=$DEBIAN_KVER
	else
		ver=$(apt-cache madison linux-source-6.12 | awk '{print $3}' | sort -V | tail -n1)
		[ -n "$ver" ] || { echo "deps: error: the archive has no linux-source-6.12" >&2; exit 1; }
		echo "deps: warning: pinned linux-source-6.12 $DEBIAN_KVER is gone; using $ver" >&2
	fi
	echo "deps: installing linux-source-6.12=$ver"
	apt_install "linux-source-6.12=$ver"
fi
for p in $bb_missing; do
	# The guest's /bin/busybox of a foreign arch: Debian's static build, unpacked, not installed.
	pa=${p#*:} dir=${foreign_bb[$p]%/bin/busybox}
	dpkg --print-foreign-architectures | grep -qx "$pa" || { dpkg --add-architecture "$pa"; apt_updated=""; }
	apt_update
	d=$(mktemp -d); chmod 755 "$d"
	(cd "$d" && apt-get download -qq "$p" >/dev/null 2>&1)
	mkdir -p "$dir"
	dpkg-deb -x "$d/${p%:*}"_*_"$pa".deb "$dir"
	rm -rf "$d"
	[ -x "${foreign_bb[$p]}" ] || { echo "deps: error: $p has no bin/busybox" >&2; exit 1; }
	echo "deps: $p unpacked in $dir"
done
