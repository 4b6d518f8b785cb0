#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# series.sh OUT DEST: write the series as it would be mailed, from the
# assembled tree OUT/patched/src (base..HEAD), to DEST: a cover letter
# (cover-letter.txt, with the last make check's results), one git am-able
# patch per commit, To: the IOMMU list, Cc: everyone get_maintainer.pl names
# for the touched files (ACPI and iommufd included). Then checks that the
# patches apply with git am on the base, in order, to the same tree.
set -euo pipefail
out=$(realpath "$1") dest=$2
here=$(dirname "$(realpath "$0")")
tree=$out/patched/src
die() { echo "series: error: $*" >&2; exit 1; }
[ -d "$tree/.git" ] || die "no assembled tree at $tree (run 'make tree')"

rm -rf "$dest"
mkdir -p "$dest"
dest=$(realpath "$dest")

git -C "$tree" format-patch -q --cover-letter --thread=shallow -o "$dest" \
	--to "iommu@lists.linux.dev" base..HEAD

# Cc: on each patch, whoever the kernel's own get_maintainer.pl names for
# it; on the cover letter, all of them.
maintainers() { # PATCH
	(cd "$tree" && ./scripts/get_maintainer.pl --no-git --no-git-fallback --no-rolestats \
		"$1" 2>/dev/null) | grep -vxF -e "iommu@lists.linux.dev" -e "$ident"
}
ident="iommu-resv developers <iommu-resv@example.org>"
add_cc() { # FILE: reads Cc addresses on stdin
	python3 -c '
import sys
path = sys.argv[1]
cc = [l.strip() for l in sys.stdin if l.strip()]
text = open(path).read()
head, sep, body = text.partition("\n\n")
if cc:
    head += "\nCc: " + ",\n    ".join(cc)
open(path, "w").write(head + sep + body)
' "$1"
}
all=$(mktemp)
for p in "$dest"/*.patch; do
	case $p in */0000-cover-letter.patch) continue ;; esac
	maintainers "$p" | tee -a "$all" | add_cc "$p"
done
sort -u "$all" | add_cc "$dest/0000-cover-letter.patch"
ncc=$(sort -u "$all" | wc -l)
grep -q 'linux-acpi@vger.kernel.org' "$all" || die "get_maintainer.pl did not name the ACPI list"
grep -q 'Jason Gunthorpe' "$all" || die "get_maintainer.pl did not name the iommufd maintainers"
rm -f "$all"

# The cover letter: subject and text from cover-letter.txt.
cover=$(ls "$dest"/0000-cover-letter.patch)
results="Results"$'\n'"-------"$'\n'
summary=$out/check-summary.txt
if [ -f "$summary" ] && [ "$(head -n1 "$summary")" = "$(git -C "$tree" rev-parse HEAD)" ]; then
	results+="'make check' of exactly this series (both arches, arm64 with DT and ACPI):"$'\n'
	results+="$(sed -n 2p "$summary")."
else
	results+="'make check' has not completed on exactly this series yet."
fi
base=$(cat "$out/base.version" 2>/dev/null || echo 6.12)
python3 - "$cover" "$here/cover-letter.txt" "$results" "$base" <<'EOF'
import sys
cover, template, results, base = sys.argv[1:]
text = open(template).read().replace("@RESULTS@", results).replace("@BASE@", base)
subject, body = text.split("\n", 1)
c = open(cover).read()
c = c.replace("*** SUBJECT HERE ***", subject.strip())
c = c.replace("*** BLURB HERE ***", body.strip("\n"))
open(cover, "w").write(c)
EOF
grep -q '\*\*\*' "$cover" && die "cover letter still has a placeholder"

# git am on the base gives the same tree.
check=$(mktemp -d)
trap 'git -C "$tree" worktree remove --force "$check/am" >/dev/null 2>&1 || true; rm -rf "$check"' EXIT
git -C "$tree" worktree add -q --detach "$check/am" base
mapfile -t patches < <(ls "$dest"/*.patch | grep -v /0000-cover-letter.patch)
git -C "$check/am" -c user.name=check -c user.email=check@example.org am -q "${patches[@]}" ||
	die "the patches in $dest do not apply with git am on base"
[ "$(git -C "$check/am" rev-parse HEAD^{tree})" = "$(git -C "$tree" rev-parse HEAD^{tree})" ] ||
	die "the patches in $dest do not apply to the same tree"
echo "series: ${#patches[@]} patches and a cover letter in $dest (git am on base gives the assembled tree)"
echo "series: To: iommu@lists.linux.dev; Cc: $ncc addresses from get_maintainer.pl (ACPI and iommufd included)"
