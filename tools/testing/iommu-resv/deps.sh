#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install what the harness needs (Debian 12). As root: apt-get; otherwise
# print the exact command. Quiet and fast when everything is present.
set -euo pipefail

: "${DEBIAN_KVER:=6.12.118-1~deb12u1}"	# the base the series is tested on
out=${1:-out}

pkgs=(qemu-system-x86 seabios qemu-system-arm qemu-efi-aarch64 gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf gcc-s390x-linux-gnu
      libc6-dev-arm64-cross busybox-static flex bison bc libelf-dev libssl-dev
      cpio ccache sparse xz-utils python3 python3-ply python3-git python3-docutils perl kmod rsync
      dwarves clang-format device-tree-compiler)
# Checked by file so that an equivalent install (e.g. a newer qemu) counts.
declare -A need_file=(
	[qemu-system-x86]=/usr/bin/qemu-system-x86_64
	[seabios]=/usr/share/seabios/bios-256k.bin
	[qemu-system-arm]=/usr/bin/qemu-system-aarch64
	[qemu-efi-aarch64]=/usr/share/qemu-efi-aarch64/QEMU_EFI.fd
	[gcc-aarch64-linux-gnu]=/usr/bin/aarch64-linux-gnu-gcc
	[gcc-arm-linux-gnueabihf]=/usr/bin/arm-linux-gnueabihf-gcc
	[gcc-s390x-linux-gnu]=/usr/bin/s390x-linux-gnu-gcc
	[busybox-static]=/bin/busybox
	[ccache]=/usr/bin/ccache
	[sparse]=/usr/bin/sparse
	[python3]=/usr/bin/python3
	[clang-format]=/usr/bin/clang-format
	[device-tree-compiler]=/usr/bin/dtc
)

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
arm_bb=$out/deps/busybox-arm64/bin/busybox

if [ ${#missing[@]} -eq 0 ] && [ -z "$src_pkg" ] && [ -x "$arm_bb" ]; then
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing: ${missing[*]} $src_pkg${src_pkg:+ }$([ -x "$arm_bb" ] || echo busybox-static:arm64)" >&2
	echo "deps: run as root: apt-get update && apt-get install -y ${missing[*]} ${src_pkg:+linux-source-6.12=$DEBIAN_KVER}" >&2
	[ -x "$arm_bb" ] || echo "deps: and: dpkg --add-architecture arm64 && apt-get update && apt-get download busybox-static:arm64 && dpkg-deb -x busybox-static_*_arm64.deb $out/deps/busybox-arm64" >&2
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
if [ ! -x "$arm_bb" ]; then
	# The guest's /bin/busybox for arm64: Debian's static build, unpacked, not installed.
	dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64; apt_updated=""; }
	apt_update
	d=$(mktemp -d); chmod 755 "$d"
	(cd "$d" && apt-get download -qq busybox-static:arm64 >/dev/null 2>&1)
	mkdir -p "$out/deps/busybox-arm64"
	dpkg-deb -x "$d"/busybox-static_*_arm64.deb "$out/deps/busybox-arm64"
	rm -rf "$d"
	[ -x "$arm_bb" ] || { echo "deps: error: busybox-static:arm64 has no bin/busybox" >&2; exit 1; }
	echo "deps: busybox-static:arm64 unpacked in $out/deps/busybox-arm64"
fi
