#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-bisect.sh OUT [ARCH...]: build the test kernel at every commit of the
# assembled series (OUT/patched/src, base..HEAD) for each ARCH (default:
# x86_64 arm64), in a worktree at OUT/bisect/src with ccache, so that every
# prefix of the series is known to build. Logs in OUT/logs/bisect/; ends with
# "N passed, N failed".
set -uo pipefail
out=$(realpath "$1")
shift
arches=${*:-x86_64 arm64}
here=$(dirname "$(realpath "$0")")
tree=$out/patched/src wt=$out/bisect/src logs=$out/logs/bisect
[ -d "$tree/.git" ] || { echo "check-bisect: error: no assembled tree (run 'make tree')" >&2; exit 2; }
mkdir -p "$logs"
if [ ! -d "$wt" ]; then
	git -C "$tree" worktree prune
	git -C "$tree" worktree add -q --detach "$wt" base || exit 2
fi
pass=0 fail=0 i=0
for c in $(git -C "$tree" rev-list --reverse base..HEAD); do
	i=$((i + 1))
	git -C "$wt" checkout -q --detach "$c" || exit 2
	subj=$(git -C "$tree" log -1 --format=%s "$c")
	for a in $arches; do
		log=$logs/$(printf '%04d' $i)-$a.log
		start=$(date +%s)
		if KBUILD_PREFIX=1 "$here/kbuild.sh" "$out" bisect "$a" > "$log" 2>&1; then
			pass=$((pass + 1))
			printf 'pass %04d %-7s %4ss %s\n' $i "$a" $(($(date +%s) - start)) "$subj"
		else
			fail=$((fail + 1))
			printf 'FAIL %04d %-7s %4ss %s (log: %s)\n' $i "$a" $(($(date +%s) - start)) "$subj" "$log"
		fi
	done
done
echo "$pass passed, $fail failed"
[ $fail = 0 ]
