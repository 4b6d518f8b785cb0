#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Assemble the kernel tree the series is built in:
#   base commit (Debian linux-source-6.12 or KERNEL_SRC), then one commit per
#   entry of patches/series (the glue patch plus the new files it introduces).
#
# Commits are built in a temporary index with fixed dates, so an unchanged
# series gives the same commit ids and the final "git reset --hard" rewrites
# only files whose content changed: kbuild then rebuilds only what changed.
#
# usage: assemble.sh REPO_TOP OUT
set -euo pipefail
unset MAKEFLAGS MFLAGS MAKELEVEL	# called from make: nothing leaks into kernel makes

top=$(realpath "$1")
mkdir -p "$2"; out=$(realpath "$2")
tree=$out/patched/src
ident_name="iommu-resv developers"
ident_mail="iommu-resv@example.org"
# Pinned base; newest 6.12 the archive has is used once this one is gone.
: "${DEBIAN_KVER:=6.12.118-1~deb12u1}"

die() { echo "assemble: error: $*" >&2; exit 1; }
say() { echo "assemble: $*"; }

base_id() {
	if [ -n "${KERNEL_SRC:-}" ]; then
		[ -d "$KERNEL_SRC" ] || die "KERNEL_SRC=$KERNEL_SRC is not a directory"
		[ -f "$KERNEL_SRC/Makefile" ] && [ -d "$KERNEL_SRC/drivers/iommu" ] ||
			die "KERNEL_SRC=$KERNEL_SRC is not a Linux source tree"
		local v p
		v=$(sed -n 's/^VERSION = //p' "$KERNEL_SRC/Makefile")
		p=$(sed -n 's/^PATCHLEVEL = //p' "$KERNEL_SRC/Makefile")
		[ "$v.$p" = 6.12 ] || die "KERNEL_SRC=$KERNEL_SRC is Linux $v.$p, the series needs 6.12.y"
		echo "kernel-src:$(realpath "$KERNEL_SRC")"
	else
		local have
		have=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null) ||
			die "linux-source-6.12 is not installed (run 'make deps')"
		echo "debian:linux-source-6.12:$have"
	fi
}

# Fixed dates: the same inputs always give the same commit ids.
export GIT_AUTHOR_DATE="2026-01-01T00:00:00 +0000"
export GIT_COMMITTER_DATE="$GIT_AUTHOR_DATE"
git_t() { git -C "$tree" "$@"; }

make_base() {
	local id=$1 src
	say "creating base tree ($id)"
	rm -rf "$out/patched" "$out/base"
	mkdir -p "$tree"
	git_t init -q -b series
	git_t config user.name "$ident_name"
	git_t config user.email "$ident_mail"
	git_t config core.autocrlf false
	git_t config gc.auto 0
	local list=$out/base.files index=$out/base.index
	if [ -n "${KERNEL_SRC:-}" ]; then
		src=$(realpath "$KERNEL_SRC")
	else
		# Straight into the work tree and indexed where it lies: no
		# second copy of the sources and no checkout (minutes, cold).
		# (-m: files newer than any earlier build of them)
		tar -xJmf /usr/src/linux-source-6.12.tar.xz -C "$tree" --strip-components=1
		src=$tree index=$tree/.git/index
	fi
	if [ -n "${KERNEL_SRC:-}" ] &&
	   git -C "$src" rev-parse --show-toplevel 2>/dev/null | grep -qxF "$src"; then
		git -C "$src" ls-files -z --cached --others --exclude-standard > "$list"
	else
		local outputs=()
		[ -n "${KERNEL_SRC:-}" ] && outputs=(! -name '*.o' ! -name '*.ko' ! -name '*.a'
			! -name '.*.cmd' ! -name '*.mod' ! -name '*.mod.c' ! -name '.config'
			! -name '.config.old' ! -name vmlinux ! -name vmlinux.o ! -name System.map
			! -name Module.symvers ! -name modules.order ! -path './include/generated/*'
			! -path './include/config/*' ! -path './arch/*/include/generated/*')
		(cd "$src" && find . \( -type f -o -type l \) ! -path './.git/*' "${outputs[@]}" \
			-print0 | sed -z 's|^\./||') > "$list"
	fi
	[ -s "$list" ] || die "no source files found in $src"
	[ "$src" = "$tree" ] || rm -f "$index"	# an interrupted run's
	(cd "$src" && GIT_INDEX_FILE=$index git --git-dir="$tree/.git" \
		--work-tree="$src" update-index --add -z --stdin < "$list")
	rm -f "$list"
	local t c ver
	t=$(GIT_INDEX_FILE=$index git_t write-tree)
	ver=$(awk '$2 == "=" && $1 ~ /^(VERSION|PATCHLEVEL|SUBLEVEL)$/ { v = v (v ? "." : "") $3 }
		   END { print v }' "$src/Makefile")
	c=$(printf 'Linux %s (%s)\n' "$ver" "$id" | git_t commit-tree "$t")
	git_t tag -f base "$c" >/dev/null
	if [ "$src" = "$tree" ]; then
		git_t update-ref -m "assemble: base" refs/heads/series "$c"
	else
		rm -f "$index"
		git_t reset -q --hard base
	fi
	# out/base/src, the base as a worktree, is made when a base build needs
	# it (kbuild.sh): make check's base kernel is its topic proof's first step.
	echo "$id" > "$out/base.id"
	echo "$ver" > "$out/base.version"
}

id=$(base_id)
if [ ! -d "$tree/.git" ] || [ "$(cat "$out/base.id" 2>/dev/null)" != "$id" ]; then
	make_base "$id"
fi

# Build the series commits on a temporary index, starting from base.
series=$top/patches/series
idx=$out/series.index
parent=$(git_t rev-parse base)
GIT_INDEX_FILE=$idx git_t read-tree "$parent"

entries=()
files=()
# The patch that introduces each new file: no later glue patch may edit it
# (the repository copy would not be the file the series ends with).
declare -A introduced_by=()
flush_entry() {
	[ ${#entries[@]} -gt 0 ] || return 0
	local p=${entries[-1]} f msg info subj t
	local pf=$top/patches/$p
	[ -f "$pf" ] || die "patches/series names $p, which does not exist"
	msg=$(mktemp); local diff; diff=$(mktemp)
	info=$(git mailinfo -b "$msg" "$diff" < "$pf")
	subj=$(sed -n 's/^Subject: //p' <<<"$info")
	[ -n "$subj" ] || die "$p has no Subject: header"
	# A patch may only introduce files: no diff to apply then
	if grep -q '^diff --git ' "$diff"; then
		for f in $(sed -n 's|^diff --git a/\([^ ]*\) b/.*|\1|p' "$diff"); do
			[ -z "${introduced_by[$f]:-}" ] ||
				die "patch $p edits $f, which ${introduced_by[$f]} introduces: fold the change into ${introduced_by[$f]}"
		done
		if ! err=$(cd "$tree" && GIT_INDEX_FILE=$idx git apply --cached --whitespace=nowarn "$diff" 2>&1); then
			# One line: the patch, and git's file:line of the first failing hunk.
			where=$(sed -n 's/^error: patch failed: //p' <<<"$err" | head -n1)
			die "patch $p does not apply on $(git_t log -1 --format=%s "$parent" | cut -d' ' -f1-2): ${where:-$(head -n1 <<<"$err")}"
		fi
	fi
	for f in "${files[@]}"; do
		[ -f "$top/$f" ] || die "patches/series: $p introduces $f, which does not exist in the repository"
		local mode=100644 sha
		[ -x "$top/$f" ] && mode=100755
		sha=$(git_t hash-object -w "$top/$f")
		GIT_INDEX_FILE=$idx git_t update-index --add --cacheinfo "$mode,$sha,$f"
		introduced_by[$f]=$p
	done
	t=$(GIT_INDEX_FILE=$idx git_t write-tree)
	parent=$( { echo "$subj"; echo; cat "$msg"; } |
		GIT_AUTHOR_NAME="$ident_name" GIT_AUTHOR_EMAIL="$ident_mail" \
		git_t commit-tree "$t" -p "$parent")
	rm -f "$msg" "$diff"
	entries=()
	files=()
}

n=0
if [ -f "$series" ]; then
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%%#*}
		case "$line" in
		[[:space:]]*)
			line=$(echo $line)
			[ -n "$line" ] || continue
			[ ${#entries[@]} -gt 0 ] || die "patches/series: file $line listed before any patch"
			files+=("$line")
			;;
		"") ;;
		*)
			flush_entry
			entries=("$(echo $line)")
			n=$((n + 1))
			;;
		esac
	done < "$series"
	flush_entry
fi
rm -f "$idx"

old=$(git_t rev-parse -q --verify HEAD || true)
if [ "$old" != "$parent" ] || [ -n "$(git_t status --porcelain --untracked-files=no)" ]; then
	git_t reset -q --hard "$parent"
	say "series: $n patch(es) on $(cat "$out/base.version") -> $(git_t rev-parse --short HEAD)"
else
	say "series unchanged: $n patch(es) on $(cat "$out/base.version") ($(git_t rev-parse --short HEAD))"
fi
git_t tag -f series-head >/dev/null

# The repository's MAINTAINERS shows the entry the series adds, as it adds it.
entry() { awk '/^IOMMU RESERVED REGIONS$/ { f = 1 } f && /^$/ { exit } f' "$1"; }
if [ -f "$top/patches/series" ] && ! cmp -s <(entry "$top/MAINTAINERS") <(entry "$tree/MAINTAINERS"); then
	die "MAINTAINERS here differs from the entry the series adds (diff <(sed 1,6d MAINTAINERS) against the assembled tree's IOMMU RESERVED REGIONS entry)"
fi
