#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The ops' lifetime under CPUs running in parallel. Kernel threads of the
# test module map, sync and unmap through the test device -- direct,
# static and dynamic mappings mixed, every byte checked -- while this
# script detaches and attaches the device, unloads and reloads the module,
# changes its knobs and takes a CPU offline and back. The threads are not
# the device's driver (it is unbound), as a page pool unmapping after its
# driver went: nothing pins the module for their direct and static
# mappings, so every op must find its shim however late it runs.
#
# Needs a small static pool that is not forced and memory above 4 GiB:
# with a 32-bit mask, buffers below 4 GiB map directly, those above bounce
# through the static pool and, when it is full or while the device is
# detached, through dynamic buffers (or fail: allowed while detached).
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh

TDEV=dynswiotlb_test.0
DRV=/sys/bus/platform/drivers/dynswiotlb_test
SYSFS=/sys/kernel/dynswiotlb
K=$SYSFS/devices/$TDEV
MS=${DSW_STRESS_MS:-60000}
THREADS=2

ktap_begin
dsw_unload
ncpu=$(grep -c '^processor' /proc/cpuinfo)
ktap_info "$ncpu CPUs online; stress threads: $THREADS; ${MS} ms"

if modprobe dynswiotlb devices=$TDEV && modprobe dynswiotlb_test &&
		echo $TDEV >$DRV/unbind; then
	ktap_ok "attached to the test device, its driver unbound"
else
	ktap_fail "attached to the test device, its driver unbound"
	ktap_end
fi

# One short run attached: the three paths are all taken.
out=$(./dma_api --stress $THREADS --size 196608 --ms 3000 --bits 32 2>&1)
rc=$?
direct=$(dsw_stat $TDEV direct)
static=$(dsw_stat $TDEV static)
dynamic=$(dsw_stat $TDEV dynamic)
if [ $rc = 0 ] && [ "${direct:-0}" -gt 0 ] && [ "${static:-0}" -gt 0 ] &&
		[ "${dynamic:-0}" -gt 0 ]; then
	ktap_ok "attached: $out; direct $direct, static $static, dynamic $dynamic"
else
	ktap_fail "attached: direct, static and dynamic mappings all checked" \
		"rc=$rc $out; direct=$direct static=$static dynamic=$dynamic"
fi

# The long run, with the device changing hands under it.
./dma_api --stress $THREADS --size 196608 --ms "$MS" --bits 32 >/tmp/stress.out 2>&1 &
pid=$!
rounds=0 detached=0 busy=0 unloads=0 offline=0 bad=
# No subshell per write (a fork is slow under emulation): the error text,
# if any, goes to a file.
while kill -0 $pid 2>/dev/null; do
	rounds=$((rounds + 1))
	if dsw_write $SYSFS/detach $TDEV >/tmp/stress.err; then
		detached=$((detached + 1))
		# every 32nd round, and once early (a slow kernel's few rounds)
		if [ $((rounds % 32)) = 0 ] || { [ $unloads = 0 ] && [ $rounds -ge 10 ]; }; then
			if modprobe -r dynswiotlb; then
				unloads=$((unloads + 1))
			else
				bad="$bad unload refused in round $rounds;"
			fi
			modprobe dynswiotlb devices=$TDEV ||
				bad="$bad reload failed in round $rounds;"
		elif ! dsw_write $SYSFS/attach $TDEV >/tmp/stress.err; then
			bad="$bad attach failed in round $rounds: $(cat /tmp/stress.err);"
		fi
	else
		case "$(cat /tmp/stress.err)" in
		*busy*)
			busy=$((busy + 1))
			# what was still mapped, the first time
			[ $busy = 1 ] && head -n 4 "$DSW_DEBUGFS/$TDEV/buffers" >/tmp/stress.busy 2>&1
			;;
		*) bad="$bad detach failed in round $rounds: $(cat /tmp/stress.err);" ;;
		esac
	fi
	# knobs from this CPU while the threads map on the others
	dsw_write $K/mode dynamic-only >/dev/null
	dsw_write $K/reserve_high_kb $((1024 + rounds % 3 * 1024)) >/dev/null
	dsw_write $K/mode static-first >/dev/null
	if [ "$ncpu" -gt 1 ] && [ $((rounds % 64)) = 5 ] &&
			echo 0 >/sys/devices/system/cpu/cpu1/online; then
		offline=$((offline + 1))
		sleep 0.1
		echo 1 >/sys/devices/system/cpu/cpu1/online ||
			bad="$bad cpu1 stays offline;"
	fi
done
wait $pid
rc=$?
out=$(cat /tmp/stress.out)
ktap_info "$rounds rounds: $detached detached ($unloads of them unloaded), $busy refused as busy, cpu1 offline $offline times"
[ -s /tmp/stress.busy ] && ktap_info "live at the first busy refusal: $(tr '\n' ';' </tmp/stress.busy)"
if [ $rc = 0 ]; then
	ktap_ok "every byte checked while detaching and attaching: $out"
else
	ktap_fail "every byte checked while detaching and attaching" "rc=$rc $out"
fi
# Buffers in flight drain on detach (design.md §6.5): a refusal needs one
# held for DSW_DRAIN_MS, rare here; most detaches go through.
[ -z "$bad" ] && [ "$detached" -ge 10 ] && [ "$unloads" -ge 1 ] &&
		[ $((detached * 2)) -ge "$rounds" ] &&
	ktap_ok "$detached detaches of $rounds, $unloads unloads, all attaches succeeded" ||
	ktap_fail "most detaches, unloads and attaches succeeded" \
		"rounds=$rounds detached=$detached busy=$busy unloads=$unloads:$bad"

# Afterwards: attached, nothing live; detached, unloaded, nothing left.
dsw_loaded || modprobe dynswiotlb devices=$TDEV
[ -d "$DSW_DEBUGFS/$TDEV" ] || dsw_write $SYSFS/attach $TDEV
live=$(dsw_stat $TDEV live_buffers)
[ "$live" = 0 ] && ktap_ok "no live dynamic buffer after the run" ||
	ktap_fail "no live dynamic buffer after the run" "live_buffers=$live"
if dsw_write $SYSFS/detach $TDEV && dsw_unload && modprobe -r dynswiotlb_test; then
	ktap_ok "detached and unloaded"
else
	ktap_fail "detached and unloaded" "$(dmesg | tail -n 5)"
fi
ktap_end
