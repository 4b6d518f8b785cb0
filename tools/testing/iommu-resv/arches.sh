# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Sourced by the harness's scripts: the per-arch facts of arches.conf.
arches_conf=$(dirname "${BASH_SOURCE[0]}")/arches.conf

# arch_fact ARCH KEY: the value of KEY for ARCH ("$OUT" replaced by $OUT);
# false if arches.conf does not have it.
arch_fact() {
	local v
	v=$(awk -v a="$1" -v k="$2" '$1 == a && $2 == k {
		sub(/^[ \t]*[^ \t]+[ \t]+[^ \t]+[ \t]*/, ""); print; found = 1; exit }
		END { exit !found }' "$arches_conf") || return 1
	echo "${v//\$OUT/${OUT:-}}"
}

# arch_names: every arch arches.conf describes, in its order.
arch_names() { awk '!/^#/ && NF && !seen[$1]++ { print $1 }' "$arches_conf"; }

# boot_arches: the arches that boot (those with a QEMU), in arches.conf's order.
boot_arches() { awk '/^[a-z]/ && $2 == "qemu" && NF > 2 { print $1 }' "$arches_conf"; }
