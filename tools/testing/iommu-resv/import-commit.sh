#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# import-commit.sh TREE COMMIT PATCHNAME
# Turn one commit of a kernel tree (e.g. a worktree of out/patched/src where
# the series is being developed) into this repository's form: the files the
# commit adds are copied to their kernel paths here (overlay), the changes to
# existing files become patches/PATCHNAME (format-patch style, with the
# commit's message), and patches/series gets the entry. Re-importing the same
# PATCHNAME replaces its entry in place.
set -euo pipefail
top=$(realpath "$(dirname "$0")/../../..")

# import-commit.sh --all TREE: re-import every commit of TREE since its "base"
# tag, in order, and rewrite patches/series to match. A commit keeps the name
# of the patch with the same subject (renumbered to its position); a new one
# gets a name from its subject. Patches no commit matches are removed.
if [ "${1:-}" = --all ]; then
	tree=$2
	series=$top/patches/series
	slug() { tr 'A-Z' 'a-z' | sed 's/[^a-z0-9]\+/-/g; s/^-//; s/-$//' | cut -c1-60; }
	declare -A old_slug=()
	for p in $(grep -E '^[^#[:space:]]' "$series" || true); do
		[ -f "$top/patches/$p" ] || continue
		subj=$(sed -n 's/^Subject: \[PATCH\] //p' "$top/patches/$p" | head -n1)
		old_slug[$subj]=${p#[0-9][0-9][0-9][0-9]-}
	done
	mapfile -t commits < <(git -C "$tree" rev-list --reverse base..HEAD)
	grep '^#' "$series" > "$series.new"
	mv "$series.new" "$series"
	keep=()
	for i in "${!commits[@]}"; do
		subj=$(git -C "$tree" log -1 --format=%s "${commits[$i]}")
		s=${old_slug[$subj]:-$(slug <<<"$subj").patch}
		name=$(printf '%04d-%s' $((i + 1)) "$s")
		keep+=("$name")
		"$0" "$tree" "${commits[$i]}" "$name"
	done
	# No pipe into grep -q here: with pipefail, grep quitting early makes
	# printf die of SIGPIPE, and a patch that is kept would be removed.
	declare -A kept=()
	for k in "${keep[@]}"; do kept[$k]=1; done
	for p in "$top"/patches/[0-9]*.patch; do
		[ -n "${kept[$(basename "$p")]:-}" ] || rm -v "$p"
	done
	exit 0
fi
tree=$1 commit=$2 name=$3
die() { echo "import-commit: error: $*" >&2; exit 1; }
case $name in *.patch) ;; *) die "PATCHNAME must end in .patch" ;; esac
git -C "$tree" rev-parse -q --verify "$commit^{commit}" >/dev/null || die "no commit $commit in $tree"

added=$(git -C "$tree" diff-tree --no-commit-id -r --name-only --diff-filter=A "$commit")
# A file the series introduces lives here in its final form, added by one
# patch: a later commit that edits it belongs in the commit that adds it.
if git -C "$tree" rev-parse -q --verify base >/dev/null; then
	for f in $(git -C "$tree" diff-tree --no-commit-id -r --name-only --diff-filter=MD "$commit"); do
		by=$(git -C "$tree" log --format='%h %s' --diff-filter=A base.."$commit^" -- "$f" | head -n1)
		[ -z "$by" ] || die "$(git -C "$tree" log -1 --format=%h "$commit") edits $f, which $by adds: fold it there (git commit --fixup)"
	done
fi
for f in $added; do
	mkdir -p "$top/$(dirname "$f")"
	git -C "$tree" show "$commit:$f" > "$top/$f"
done
{
	echo "From: iommu-resv developers <iommu-resv@example.org>"
	echo "Subject: [PATCH] $(git -C "$tree" log -1 --format=%s "$commit")"
	echo
	git -C "$tree" log -1 --format=%b "$commit" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
	echo "---"
	git -C "$tree" diff --diff-filter=MDR "$commit^" "$commit"
} > "$top/patches/$name"

entry=$(mktemp)
{ echo "$name"; for f in $added; do printf '\t%s\n' "$f"; done; } > "$entry"
series=$top/patches/series
if grep -qx "$name" "$series"; then
	# Replace the old entry (its line and the indented lines under it).
	awk -v name="$name" -v entry="$entry" '
		$0 == name { while ((getline l < entry) > 0) print l; skip = 1; next }
		skip && /^[ \t]/ { next }
		{ skip = 0; print }' "$series" > "$series.new"
	mv "$series.new" "$series"
else
	cat "$entry" >> "$series"
fi
rm -f "$entry"
echo "import-commit: patches/$name ($(echo $added | wc -w) new file(s))"
