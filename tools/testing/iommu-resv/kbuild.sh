#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build one kernel: kbuild.sh OUT VARIANT ARCH [FLAVOUR]
#   VARIANT: patched | base       (source tree OUT/VARIANT/src)
#   ARCH:    x86_64 | arm64 | s390 (compile-test only): its facts in arches.conf
#   FLAVOUR: test (default) | debug | kcsan | profile | compile-test
# Output in OUT/VARIANT/build/ARCH[-FLAVOUR]. The layout is the same for
# both variants, so with CCACHE_BASEDIR=OUT the base and patched builds share
# ccache entries for every unchanged file.
set -euo pipefail
unset MAKEFLAGS MFLAGS MAKELEVEL	# the kernel's make gets only what is passed below

out=$(realpath "$1"); variant=$2; arch=$3; flavour=${4:-test}
here=$(dirname "$(realpath "$0")")
src=$out/$variant/src
bdir=$out/$variant/build/$arch
[ "$flavour" = test ] || bdir=$bdir-$flavour
die() { echo "kbuild: error: $*" >&2; exit 1; }
# The base is a worktree of the assembled tree, made when first built.
if [ "$variant" = base ] && [ ! -d "$src" ] && [ -d "$out/patched/src/.git" ]; then
	git -C "$out/patched/src" worktree prune
	git -C "$out/patched/src" worktree add -q --detach "$src" base || die "no base worktree at $src"
fi
[ -d "$src" ] || die "no $variant tree at $src (run 'make tree')"

# shellcheck source=tools/testing/iommu-resv/arches.sh
. "$here/arches.sh"
karch=$(arch_fact "$arch" karch) || karch=""
[ -n "$karch" ] || die "unknown ARCH '$arch' (x86_64 or arm64)"
cross=$(arch_fact "$arch" cross) image=$(arch_fact "$arch" image)
[ -n "$image" ] || [ "$flavour" = compile-test ] || die "$arch is built for compile-test only"

frags=("$here/configs/common.config" "$here/configs/$arch.config")
[ "$variant" = base ] || frags+=("$here/configs/series.config" "$here/configs/series-$arch.config")
case $flavour in
test) ;;
debug) frags+=("$here/configs/debug.config") ;;
kcsan) frags+=("$here/configs/kcsan.config") ;;
profile) frags+=("$here/configs/profile.config") ;;
compile-test) frags=("$here/configs/compile-test-$arch.config") ;;
*) die "unknown flavour '$flavour'" ;;
esac

mkdir -p "$bdir"
export CCACHE_BASEDIR=$out CCACHE_DIR=${CCACHE_DIR:-$out/ccache} CCACHE_NOHASHDIR=1
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
kmake=(make -s -C "$src" O="$bdir" ARCH="$karch" CROSS_COMPILE="$cross"
       CC="ccache ${cross}gcc" HOSTCC="ccache gcc" -j"$(nproc)")
# Keep the build reproducible across machines: no host name or user in the image.
export KBUILD_BUILD_HOST=iommu-resv KBUILD_BUILD_USER=iommu-resv
export KBUILD_BUILD_TIMESTAMP="2026-01-01"

cat "${frags[@]}" > "$bdir/fragment.config.new"
# KBUILD_PREFIX=1 (check-bisect): a prefix of the series, which may not have
# every symbol yet: configure afresh each time, without the survival check.
if [ "${KBUILD_PREFIX:-}" = 1 ]; then
	"${kmake[@]}" KCONFIG_ALLCONFIG="$bdir/fragment.config.new" allnoconfig >/dev/null
	mv "$bdir/fragment.config.new" "$bdir/fragment.config"
elif ! cmp -s "$bdir/fragment.config.new" "$bdir/fragment.config" || [ ! -f "$bdir/.config" ]; then
	"${kmake[@]}" KCONFIG_ALLCONFIG="$bdir/fragment.config.new" allnoconfig >/dev/null
	# Every symbol the fragments ask for must have survived dependency
	# resolution: its last assignment (a later fragment may override one).
	bad=0
	while IFS= read -r l; do
		case "$l" in CONFIG_*=*) ;; *) continue ;; esac
		sym=${l%%=*} val=${l#*=}
		if [ "$val" = n ]; then
			grep -qx "$sym=y" "$bdir/.config" && { echo "kbuild: $sym should be off" >&2; bad=1; }
		else
			grep -qxF "$l" "$bdir/.config" || { echo "kbuild: $l did not take (check its dependencies)" >&2; bad=1; }
		fi
	done < <(awk -F= '/^CONFIG_/ { if (!($1 in v)) k[n++] = $1; v[$1] = $0 }
			   END { for (i = 0; i < n; i++) print v[k[i]] }' "$bdir/fragment.config.new")
	[ $bad = 0 ] || die "config for $variant/$arch${flavour:+ $flavour} does not match its fragments"
	mv "$bdir/fragment.config.new" "$bdir/fragment.config"
else
	rm -f "$bdir/fragment.config.new"
fi

if [ "$flavour" = compile-test ]; then
	# Objects only: every IOMMU driver implementing get_resv_regions, and
	# every caller of it, must build.
	dirs=(drivers/iommu/ drivers/vfio/)
	[ "$arch" = arm64 ] && dirs+=(drivers/acpi/arm64/)
	"${kmake[@]}" "${dirs[@]}"
	exit 0
fi
"${kmake[@]}" "$(basename "$image")"
cp "$bdir/$image" "$bdir/kernel.img"
# A modular kernel (x86_64: the series' KUnit suites are =m): its modules,
# flat in $bdir/modules/, loaded by the guest's init in modules.order order.
rm -rf "$bdir/modules"
if grep -qx 'CONFIG_MODULES=y' "$bdir/.config"; then
	"${kmake[@]}" modules
	mkdir -p "$bdir/modules"
	while IFS= read -r m; do
		cp "$bdir/${m%.o}.ko" "$bdir/modules/"
		basename "${m%.o}.ko" >> "$bdir/modules/list"
	done < "$bdir/modules.order"
fi
if { [ "$variant" = patched ] || [ "$variant" = topic ]; } && [ "$flavour" = test ]; then
	"${kmake[@]}" headers_install INSTALL_HDR_PATH="$bdir/hdr" >/dev/null
fi
