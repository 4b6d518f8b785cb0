# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# Sourced: the topics of patches/topics, for series.sh and harness.sh.
#
# topics_read FILE TREE: fills topic_names, topic_firsts (patch numbers),
# topic_starts and topic_ends (commit ids in TREE, whose base..HEAD is the
# series) from FILE; false, with a line on stderr, if FILE does not cut the
# series into runs that start at patch 1 and cover it all.
topics_read() {
	local file=$1 tree=$2 name first n i
	local -a commits
	mapfile -t commits < <(git -C "$tree" rev-list --reverse base..HEAD)
	n=${#commits[@]}
	topic_names=() topic_firsts=() topic_starts=() topic_ends=()
	while read -r name first; do
		# (a name is part of result names and patterns: no other characters)
		[[ $first =~ ^[0-9]{4}$ && $name =~ ^[0-9]+-[a-z0-9-]+$ ]] ||
			{ echo "topics: bad line '$name $first'" >&2; return 1; }
		topic_names+=("$name")
		topic_firsts+=("$((10#$first))")
	done < <(grep -Ev '^[[:space:]]*(#|$)' "$file")
	[[ ${#topic_names[@]} -gt 0 && ${topic_firsts[0]} = 1 ]] ||
		{ echo "topics: the first topic must start at patch 0001" >&2; return 1; }
	for i in "${!topic_names[@]}"; do
		first=${topic_firsts[i]}
		local last=$n
		[ $((i + 1)) -lt ${#topic_names[@]} ] && last=$((topic_firsts[i + 1] - 1))
		[[ $first -le $last && $last -le $n ]] ||
			{ echo "topics: ${topic_names[i]} is empty or beyond the $n patches" >&2; return 1; }
		topic_starts+=("${commits[first - 1]}")
		topic_ends+=("${commits[last - 1]}")
	done
}

# topic_tests TREE I: the tests that belong to topic I, those its patches
# introduce, as two lines: its kselftests, then its KUnit suites (either may
# be empty).
topic_tests() {
	local tree=$1 i=$2 range files f
	range=${topic_starts[i]}^..${topic_ends[i]}
	files=$(git -C "$tree" diff --name-only --diff-filter=A "$range")
	local selftests="" suites=""
	for f in $files; do
		case $f in
		tools/testing/selftests/iommu/iommu_resv_*.c)
			f=${f##*/}; selftests="$selftests ${f%.c}" ;;
		drivers/iommu/*-test.c)
			suites="$suites $(git -C "$tree" show "${topic_ends[i]}:$f" |
				sed -n '/^static struct kunit_suite /,/^};/s/^\t\.name = "\(.*\)",$/\1/p')" ;;
		esac
	done
	echo "${selftests# }"
	echo "${suites# }"
}
