#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# series.sh OUT DEST: write the series as it would be mailed, from the
# assembled tree OUT/patched/src (base..HEAD), to DEST: one series per topic
# of patches/topics, in DEST/NAME/, each with its cover letter
# (patches/covers/NAME.txt, with the topic's results from the last make
# check), git format-patch --base=base (base-commit: and a
# prerequisite-patch-id: for every patch of the topics before it), To: the
# maintainers scripts/get_maintainer.pl names for each patch, Cc: the other
# people and lists it names (the union of both on the cover letter). Then
# checks that each topic applies with git am onto the tree of the topics
# before it, giving the tree the series has at the topic's end.
set -euo pipefail
out=$(realpath "$1") dest=$2
here=$(dirname "$(realpath "$0")")
top=$(realpath "$here/../../..")
tree=$out/patched/src
die() { echo "series: error: $*" >&2; exit 1; }
[ -d "$tree/.git" ] || die "no assembled tree at $tree (run 'make tree')"
# shellcheck source=topics.sh
. "$here/topics.sh"
topics_read "$top/patches/topics" "$tree" ||
	die "patches/topics does not describe the series"

rm -rf "$dest"
mkdir -p "$dest"
dest=$(realpath "$dest")
ident="iommu-resv developers <iommu-resv@example.org>"
list="iommu@lists.linux.dev"
base=$(cat "$out/base.version" 2>/dev/null || echo 6.12)

# get_maintainer.pl's people and lists for PATCH (one run of it), a line
# each, "to ADDRESS" or "cc ADDRESS": the maintainers are To:, reviewers,
# other people and lists Cc:. The IOMMU list is To: on every patch; the
# series' own entry (this project) is left out.
recipients() { # PATCH
	echo "to $list"
	(cd "$tree" && ./scripts/get_maintainer.pl --no-git --no-git-fallback --rolestats \
		"$1" 2>/dev/null) | grep -vF -e "$ident" | python3 -c '
import re, sys
lst = sys.argv[1]
for line in sys.stdin:
    m = re.match(r"(.*?) \((.*)\)$", line.strip())
    if m and m.group(1) != lst:
        to = re.search(r"\b(maintainer|supporter|odd fixer):", m.group(2))
        print("to" if to else "cc", m.group(1))
' "$list"
}
add_header() { # FILE NAME: reads addresses on stdin, adds "NAME: a,\n b" to the mail header
	python3 -c '
import sys
path, name = sys.argv[1:]
who = [l.strip() for l in sys.stdin if l.strip()]
text = open(path).read()
head, sep, body = text.partition("\n\n")
if who:
    head += "\n%s: " % name + ",\n    ".join(who)
open(path, "w").write(head + sep + body)
' "$1" "$2"
}

# The cover letter of topic I from its template: @BASE@, @PREREQ@, @RESULTS@.
cover_letter() { # I DIR
	local i=$1 dir=$2 prereq results summary j last
	# Paragraphs of one line each, folded within 72 columns; a topic's
	# subject that does not fit goes on below its name.
	if [ "$i" = 0 ]; then
		prereq="These apply to Linux $base directly (the base-commit: below is Debian's"
		prereq+=" linux-source-6.12 as this project imports it, not a public commit)."
		prereq=$(fold -s -w 72 <<<"$prereq" | sed 's/ *$//')
	else
		prereq="This series applies on top of the $([ "$i" = 1 ] && echo "one" || echo "$i series")"
		prereq+=" before it (the prerequisite-patch-id trailers below name their patches; the"
		prereq+=" base-commit: is Debian's linux-source-6.12 as this project imports it,"
		prereq+=" not a public commit):"
		prereq=$(fold -s -w 72 <<<"$prereq" | sed 's/ *$//')
		for ((j = 0; j < i; j++)); do
			prereq+=$'\n'"$(echo "  ${topic_names[j]}: $(sed -n 1p "$top/patches/covers/${topic_names[j]}.txt")" |
				fold -s -w 72 | sed 's/ *$//; 2,$s/^ */    /')"
		done
	fi
	summary=$out/check-topics.txt
	# The last topic is the whole series: make check's count, if of this tree.
	last=""
	if [ $((i + 1)) = "${#topic_names[@]}" ] && [ -f "$out/check-summary.txt" ]; then
		last=$(head -n1 "$out/check-summary.txt")
	fi
	if [ -n "$last" ] && [ "$last" = "$(git -C "$tree" rev-parse HEAD)" ]; then
		results="Results"$'\n'"-------"$'\n'"'make check' of the whole series (both arches, arm64 with DT"
		results+=" and ACPI): $(sed -n 2p "$out/check-summary.txt")."
	elif [ -f "$summary" ] && grep -q "^${topic_names[i]} $(git -C "$tree" rev-parse "${topic_ends[i]}") " "$summary"; then
		results="Results"$'\n'"-------"$'\n'"$(grep "^${topic_names[i]} " "$summary" | cut -d' ' -f3-)"
	else
		results="Results"$'\n'"-------"$'\n'"'make check' has not completed on exactly this series yet."
	fi
	results=$(fold -s -w 72 <<<"$results" | sed 's/ *$//')
	python3 - "$dir/0000-cover-letter.patch" "$top/patches/covers/${topic_names[i]}.txt" \
		"$results" "$base" "$prereq" <<'EOF'
import sys
cover, template, results, base, prereq = sys.argv[1:]
text = open(template).read()
for key, val in (("@RESULTS@", results), ("@BASE@", base), ("@PREREQ@", prereq)):
    if key not in text:
        sys.exit("series: error: %s has no %s" % (template, key))
    text = text.replace(key, val)
subject, body = text.split("\n", 1)
c = open(cover).read()
c = c.replace("*** SUBJECT HERE ***", subject.strip())
c = c.replace("*** BLURB HERE ***", body.strip("\n"))
open(cover, "w").write(c)
EOF
	! grep -q '\*\*\*' "$dir/0000-cover-letter.patch" || die "${topic_names[i]}: cover letter still has a placeholder"
}

all_cc=$(mktemp)
check=$(mktemp -d)
trap 'rm -rf "$check" "$all_cc"' EXIT
# git am runs in a repository of its own at the base, borrowing the tree's
# objects, with every path a patch of the series names (both sides of a
# rename) checked out and the rest of the kernel in its index only (sparse
# checkout): the assembled tree is only read, and no second copy of the
# kernel is written.
am=$check/am
git -c init.defaultBranch=am init -q --template= "$am"
git -C "$tree" rev-parse --path-format=absolute --git-path objects > "$am/.git/objects/info/alternates"
mkdir -p "$am/.git/info"
git -C "$am" config core.sparseCheckout true
git -C "$am" config core.hooksPath /dev/null
# (patterns anchored at the top, glob characters escaped)
git -C "$tree" log -z --no-renames --format= --name-only base..HEAD | tr '\0' '\n' |
	sed '/^$/d' | sort -u | sed 's/[][*?\\]/\\&/g; s|^|/|' > "$am/.git/info/sparse-checkout"
git -C "$am" update-ref HEAD "$(git -C "$tree" rev-parse base)"
git -C "$am" read-tree -mu HEAD
for i in "${!topic_names[@]}"; do
	name=${topic_names[i]} dir=$dest/${topic_names[i]}
	[ -f "$top/patches/covers/$name.txt" ] || die "no cover letter patches/covers/$name.txt"
	git -C "$tree" format-patch -q --cover-letter --thread=shallow --base=base -o "$dir" \
		"${topic_starts[i]}^..${topic_ends[i]}"
	to_all=$(mktemp) cc_all=$(mktemp)
	for p in "$dir"/*.patch; do
		case $p in */0000-cover-letter.patch) continue ;; esac
		recipients "$p" > "$check/who"
		sed -n 's/^to //p' "$check/who" | tee -a "$to_all" | add_header "$p" To
		sed -n 's/^cc //p' "$check/who" | tee -a "$cc_all" | add_header "$p" Cc
	done
	sort -u "$to_all" | add_header "$dir/0000-cover-letter.patch" To
	comm -23 <(sort -u "$cc_all") <(sort -u "$to_all") | add_header "$dir/0000-cover-letter.patch" Cc
	cat "$to_all" "$cc_all" >> "$all_cc"
	rm -f "$to_all" "$cc_all"
	cover_letter "$i" "$dir"
	grep -q "^base-commit: $(git -C "$tree" rev-parse base)$" "$dir/0000-cover-letter.patch" ||
		die "$name: no base-commit: trailer"
	[ "$(grep -c '^prerequisite-patch-id: ' "$dir/0000-cover-letter.patch")" = \
	  "$(git -C "$tree" rev-list --count "base..${topic_starts[i]}^")" ] ||
		die "$name: the prerequisite-patch-id trailers do not name every patch before it"
	# git am onto the topics before it gives the series' tree at its end.
	patches=()
	for p in "$dir"/*.patch; do
		[ "${p##*/}" = 0000-cover-letter.patch ] || patches+=("$p")
	done
	# (as a maintainer's git would, not as this user's configuration has it)
	if ! GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 git -C "$am" -c user.name=check \
		-c user.email=check@example.org am -q "${patches[@]}" > "$check/am.log" 2>&1; then
		cat "$check/am.log" >&2
		failed=$(grep -m1 '^Patch failed at' "$check/am.log" || true)
		die "$name does not apply with git am onto the topics before it:" \
			"${failed:+$failed:}" \
			"$(grep -m1 -E '^(error|fatal)' "$check/am.log" || tail -n1 "$check/am.log")" \
			"($(df -h --output=avail "$check" | tail -n1 | tr -d ' ') free in $check)"
	fi
	[ "$(git -C "$am" rev-parse "HEAD^{tree}")" = "$(git -C "$tree" rev-parse "${topic_ends[i]}^{tree}")" ] ||
		die "$name does not give the tree the series has at its end"
	echo "series: $name: ${#patches[@]} patches and a cover letter in $dir"
done
grep -q 'linux-acpi@vger.kernel.org' "$all_cc" || die "get_maintainer.pl did not name the ACPI list"
grep -q 'Jason Gunthorpe' "$all_cc" || die "get_maintainer.pl did not name the iommufd maintainers"
echo "series: ${#topic_names[@]} topic series; git am of each onto the ones before it gives the assembled tree"
