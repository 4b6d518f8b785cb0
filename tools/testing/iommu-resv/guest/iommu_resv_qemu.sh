#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# iommu_resv_qemu: Debian's QEMU, unmodified (the harness copies the host's
# package into the initramfs), as the VMM that asks before it hot-plugs.
# For each nested-guest memory layout, one QEMU starts paused (-S) with a QMP
# socket; for each edu (all bound to vfio-pci), in turn:
#   - iommu-resv check --device BDF --qmp SOCKET gives a verdict,
#   - device_add vfio-pci,host=BDF over QMP gives the outcome: they must agree;
#   - where it is refused, QEMU still answers and its guest still runs, and
#     (kernels with reserved_regions_detail) the kernel logged the refused
#     MAP_DMA of the range the tool named, with the group;
#   - where the tool sees a conflict, a cold plug (-device vfio-pci) of the
#     same device on the same layout is refused too (QEMU exits).
#   - the map QEMU reports as refused (vfio_dma_map IOVA, SIZE, hot and cold)
#     overlaps a range the tool named as a conflict.
# Both verdicts must occur. On a kernel without reserved_regions_detail (the
# unpatched base) the tool reads the legacy file; the only region it lists is
# the MSI window, which QEMU's x86 guests never map, so that check is skipped
# there. TAP on stdout.

QEMU=/usr/bin/qemu-system-x86_64
dir=/tmp/resv-qemu
sock=$dir/qmp.sock
n=0
nr_conflict=0 nr_ok=0

ok() { n=$((n + 1)); echo "ok $n $1"; }
not_ok() {
	n=$((n + 1))
	echo "not ok $n $1"
	shift
	for l in "$@"; do echo "$l" | sed 's/^/#  /'; done
}
skip() { n=$((n + 1)); echo "ok $n $1 # SKIP $2"; }
finish() { echo "1..$n"; exit 0; }

echo "TAP version 13"
mkdir -p $dir
: > $dir/conflicts
if [ ! -x $QEMU ]; then
	not_ok "qemu bundle" "$QEMU is not in the initramfs"
	finish
fi

# The nested-guest layouts: name, then QEMU's options. pc with RAM up to
# 0xe0ffffff (max-ram-below-4g lifted; the default -M pc puts RAM at
# 0-0xbfffffff and above 4 GiB instead); q35 with 2 GiB; q35 with 6 GiB split
# below and above 4 GiB; q35 with 1 GiB and a 1 GiB pc-dimm (above 4 GiB).
layouts="pc-3600M|-M pc,max-ram-below-4g=0xf0000000 -m 3600
q35-2G|-M q35 -m 2G
q35-6G|-M q35 -m 6G
q35-1G+dimm-1G|-M q35 -m 1G,slots=2,maxmem=4G -object memory-backend-ram,id=mem1,size=1G -device pc-dimm,id=dimm1,memdev=mem1"

edus=""
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] &&
		edus="$edus ${d##*/}"
done
if [ -z "$edus" ]; then
	not_ok "edus" "no edu device in the guest"
	finish
fi
# Every edu to vfio-pci: a group is usable only when all its endpoints are.
for b in $edus; do
	d=/sys/bus/pci/devices/$b
	drv=$(readlink "$d/driver")
	[ "${drv##*/}" = vfio-pci ] && continue
	[ -n "$drv" ] && echo "$b" > "$d/driver/unbind"
	echo vfio-pci > "$d/driver_override"
	echo "$b" > /sys/bus/pci/drivers_probe
	drv=$(readlink "$d/driver")
	[ "${drv##*/}" = vfio-pci ] || not_ok "bind $b to vfio-pci" "driver: ${drv:-none}"
done

# start NAME ARGS...: QEMU paused with the QMP socket, in the background ($qpid)
start() {
	local name="$1"
	shift
	rm -f $sock
	# shellcheck disable=SC2086
	$QEMU "$@" -S -nodefaults -display none -accel tcg -qmp unix:$sock,server=on,wait=off \
		> "$dir/$name.log" 2>&1 &
	qpid=$!
	qmp $sock -w 60 '{"execute": "query-status"}' > /dev/null
}

# stop: quit QEMU and reap it
stop() {
	qmp $sock '{"execute": "quit"}' > /dev/null 2>&1
	wait $qpid
}

# since_mark: the kernel's log after the last line that holds $mark
since_mark() {
	dmesg | awk -v m="$mark" 'index($0, m) { f = 1; n = 0; next } { l[++n] = $0 } END { for (i = 1; f && i <= n; i++) print l[i] }'
}

# dma_map TEXT: "IOVA SIZE" of the first vfio_dma_map(CONTAINER, IOVA, SIZE,
# VADDR) = ERR that QEMU reports in TEXT (the map that the kernel refused)
dma_map() {
	echo "$1" | grep -o 'vfio_dma_map(0x[0-9a-f]*, 0x[0-9a-f]*, 0x[0-9a-f]*, 0x[0-9a-f]*)' |
		head -n 1 | sed 's/^vfio_dma_map(0x[0-9a-f]*, \(0x[0-9a-f]*\), \(0x[0-9a-f]*\), .*/\1 \2/'
}

# hits IOVA SIZE RANGES: one of RANGES (START-END ...) overlaps IOVA..IOVA+SIZE-1
hits() {
	local s=$(($1)) e=$(($1 + $2 - 1)) r
	for r in $3; do
		[ $((${r%-*})) -le $e ] && [ $((${r#*-})) -ge $s ] && return 0
	done
	return 1
}

# q35's root bus takes no hot plug: a root port per edu, each edu's slot
ports="" i=0
for b in $edus; do
	i=$((i + 1))
	ports="$ports -device pcie-root-port,id=rp$i,bus=pcie.0,chassis=$i,addr=$(printf 0x%x $((i + 1)))"
done

for lay in $(echo "$layouts" | sed 's/|.*//'); do
	args=$(echo "$layouts" | sed -n "s/^$lay|//p")
	case $lay in q35*) args="$args $ports" ;; esac
	t0=$(date +%s)
	i=0
	# shellcheck disable=SC2086
	if ! start "$lay" $args; then
		not_ok "$lay: QEMU starts with a QMP socket" "$(tail -n 5 "$dir/$lay.log")"
		kill $qpid 2>/dev/null
		wait $qpid
		continue
	fi
	for b in $edus; do
		g=$(readlink /sys/bus/pci/devices/$b/iommu_group)
		g=${g##*/}
		what="$lay: $b (group $g)"
		i=$((i + 1))
		bus=""
		case $lay in q35*) bus=", \"bus\": \"rp$i\"" ;; esac
		verdict=$(iommu-resv check --device "$b" --qmp $sock 2>&1)
		vrc=$?
		if [ $vrc -gt 1 ]; then
			not_ok "$what: iommu-resv check --qmp" "exit $vrc: $verdict"
			continue
		fi
		echo "$verdict" | sed "s|^|# $what: iommu-resv: |"
		# the tool's conflict ranges
		cranges=$(echo "$verdict" | sed -n 's/^conflict: \(0x[0-9a-f]*-0x[0-9a-f]*\) overlaps .*/\1/p')
		add="{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"vfio-pci\", \"host\": \"$b\", \"id\": \"hp-$(echo "$b" | tr :. --)\"$bus}}"
		# The kernel's lines after this mark are this device_add's (a mark,
		# not a line count: the log buffer is full and rotates by then).
		mark="iommu_resv_qemu: device_add $lay $b $(date +%s)"
		echo "$mark" > /dev/kmsg
		reply=$(qmp $sock "$add" 2>&1)
		arc=$?
		echo "# $what: device_add: $(echo "$reply" | tail -n 1)"
		if [ $arc -gt 1 ]; then
			not_ok "$what: device_add answered" "$reply" "$(tail -n 5 "$dir/$lay.log")"
			break
		fi
		if [ $vrc = $arc ]; then
			ok "$what: the tool's verdict is the outcome ($([ $arc = 1 ] && echo refused || echo accepted))"
		else
			not_ok "$what: the tool's verdict is the outcome" "iommu-resv exit $vrc: $verdict" \
				"device_add: $reply"
		fi
		if [ $arc = 1 ]; then
			# The map QEMU says the kernel refused lies in a range the tool named.
			map=$(dma_map "$reply")
			# shellcheck disable=SC2086
			if [ -n "$map" ] && hits $map "$cranges"; then
				ok "$what: the refused map ($map) is in a conflict the tool named"
			else
				not_ok "$what: the refused map is in a conflict the tool named" \
					"vfio_dma_map (IOVA SIZE): ${map:-none}" "conflicts: $cranges"
			fi
		fi
		if [ $vrc = 1 ]; then
			nr_conflict=$((nr_conflict + 1))
			echo "$lay $b $(echo "$cranges" | tr '\n' ' ')" >> $dir/conflicts
		else
			nr_ok=$((nr_ok + 1))
		fi
		[ $arc = 1 ] || continue
		# Refused: QEMU is alive and its guest runs.
		if kill -0 $qpid 2>/dev/null &&
		   qmp $sock '{"execute": "cont"}' '{"execute": "query-status"}' | grep -q '"running": true' &&
		   qmp $sock '{"execute": "stop"}' > /dev/null; then
			ok "$what: the guest survives the refused hot plug"
		else
			not_ok "$what: the guest survives the refused hot plug" "$(tail -n 5 "$dir/$lay.log")"
		fi
		# The kernel said why, since that device_add: the refused MAP_DMA of
		# the map QEMU reported, in that group (the kernels with the detailed
		# view log it). The line is rate-limited: when it is not there, ask
		# again (a refused device_add changes nothing) once the limit has
		# passed, and look again after the last ask too.
		range=""
		if [ -n "$map" ]; then
			# shellcheck disable=SC2086
			set -- $map
			range=$(printf '0x%x-0x%x' $(($1)) $(($1 + $2 - 1)))
		fi
		logged=""
		for try in 1 2 3; do
			if [ ! -e "/sys/kernel/iommu_groups/$g/reserved_regions_detail" ] || [ -z "$range" ]; then
				break
			fi
			if since_mark | grep "MAP_DMA $range overlaps reserved" |
			   grep -q "in group $g,"; then
				logged=$try
				break
			fi
			[ $try = 3 ] && break
			sleep 5
			qmp $sock "$add" > /dev/null 2>&1
		done
		if [ ! -e "/sys/kernel/iommu_groups/$g/reserved_regions_detail" ]; then
			:
		elif [ -n "$logged" ]; then
			# (the range is not in the name: a guest that ran moves its ROMs into RAM)
			echo "# $what: logged: MAP_DMA $range (ask $logged)"
			ok "$what: the kernel logged the refused MAP_DMA"
		else
			not_ok "$what: the kernel logged the refused MAP_DMA of $range" \
				"$(since_mark | grep 'overlaps reserved' | tail -n 3)"
		fi
	done
	stop
	echo "# $lay: $(($(date +%s) - t0)) s"
done

# Cold plug where the tool saw a conflict: QEMU must refuse to start.
while read -r lay b cranges; do
	args=$(echo "$layouts" | sed -n "s/^$lay|//p")
	what="$lay: $b"
	rm -f $sock
	# shellcheck disable=SC2086
	$QEMU $args -S -nodefaults -display none -accel tcg -qmp unix:$sock,server=on,wait=off \
		-device vfio-pci,host="$b" > "$dir/$lay-cold.log" 2>&1 &
	qpid=$!
	started=""
	while kill -0 $qpid 2>/dev/null; do
		if qmp $sock '{"execute": "query-status"}' > /dev/null 2>&1; then
			started=1
			break
		fi
		sleep 0.5
	done
	if [ -n "$started" ]; then
		stop
		not_ok "$what: cold plug refused" "QEMU started with the device"
	elif ! wait $qpid && map=$(dma_map "$(cat "$dir/$lay-cold.log")") && [ -n "$map" ]; then
		# The map QEMU failed on lies in a range the tool named.
		# shellcheck disable=SC2086
		if hits $map "$cranges"; then
			ok "$what: cold plug refused, on a map the tool named (IOVA SIZE $map)"
		else
			not_ok "$what: cold plug refused, on a map the tool named" \
				"vfio_dma_map (IOVA SIZE): $map" "conflicts: $cranges"
		fi
	else
		not_ok "$what: cold plug refused" "$(tail -n 5 "$dir/$lay-cold.log")"
	fi
done < $dir/conflicts

if [ $nr_conflict -gt 0 ] && [ $nr_ok -gt 0 ]; then
	ok "both verdicts occur ($nr_conflict conflicts, $nr_ok without)"
elif ! ls /sys/kernel/iommu_groups/*/reserved_regions_detail > /dev/null 2>&1; then
	skip "both verdicts occur ($nr_conflict conflicts, $nr_ok without)" \
		"legacy kernel: only the MSI window is reserved, which these layouts never map"
else
	not_ok "both verdicts occur" "$nr_conflict conflicts, $nr_ok without"
fi
finish
