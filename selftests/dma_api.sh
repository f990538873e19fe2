#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# DMA-API coverage through dynswiotlb_test.ko: every DMA op, every byte
# (the module checks the data; ./dma_api checks which path carried it, see
# dma_api.c).
#   kernel   dynswiotlb not loaded: the kernel's own path, validating the
#            test itself (mappings over swiotlb's limit may fail there);
#   static   dynswiotlb attached to dynswiotlb_test.0, the kernel's pool
#            usable: bounced mappings that fit go to the pool;
#   dynamic  attached, the pool filled through dynswiotlb_test.1 (or absent,
#            e.g. swiotlb=noforce): every bounced mapping is dynamic.
#   hold     (forced swiotlb only) the pool hogged, dma_api --hold keeps
#            dynamic mappings across processes: live_buffers follows
#            --hold and --release; unbinding the test driver, and unloading
#            the test module, release what is held.
# Then everything is unloaded.
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh

DEV=dynswiotlb_test.0
STATS=$DSW_SYSFS/devices/$DEV/statistics
DRV=/sys/bus/platform/drivers/dynswiotlb_test

test_loaded() {
	[ -d /sys/module/dynswiotlb_test ]
}

test_unload() {
	test_loaded || return 0
	modprobe -r dynswiotlb_test && ! test_loaded
}

# replay MODE < OUTPUT: dma_api's results as ours, named "MODE: ..."
replay() {
	while IFS= read -r line; do
		case "$line" in
		"ok "*" # SKIP "*)
			rest=${line#ok }
			rest=${rest#* }
			ktap_skip "$1: ${rest%% # SKIP *}" "${rest#* # SKIP }"
			;;
		"ok "*)
			rest=${line#ok }
			ktap_ok "$1: ${rest#* }"
			;;
		"not ok "*)
			rest=${line#not ok }
			ktap_fail "$1: ${rest#* }"
			;;
		"# totals:"*) ;;
		"# "*)
			echo "$line"
			;;
		esac
	done
}

# run_mode MODE: one dma_api run, its results streamed (a FIFO keeps the
# replay, and so our counters, in this shell)
run_mode() {
	fifo=/tmp/.dma_api.$$
	rm -f "$fifo"
	mkfifo "$fifo" || return
	./dma_api --expect "$1" >"$fifo" 2>&1 &
	pid=$!
	replay "$1" <"$fifo"
	wait "$pid"
	rc=$?
	rm -f "$fifo"
	case $rc in
	0|1|4) ;;
	*) ktap_fail "$1: dma_api exited $rc" ;;
	esac
}

# live_is N: dynswiotlb's live_buffers of the device under test is N
live_is() {
	got=$(cat "$STATS/live_buffers" 2>&1)
	[ "$got" = "$1" ] || { echo "live_buffers ${got:-missing}, expected $1"; return 1; }
}

# no_leak_warning: dynswiotlb logged no mappings left behind since dsw_mark
no_leak_warning() {
	if dsw_log_since | grep 'still mapped'; then
		return 1
	fi
	return 0
}

# hold_ok NAME ARGS...: one result from dma_api ARGS, its line in the name
hold_ok() {
	_name=$1
	shift
	if _out=$(./dma_api "$@" 2>&1); then
		ktap_ok "$_name ($_out)"
	else
		ktap_fail "$_name" "$_out"
		return 1
	fi
}

# Streaming mappings held across processes (the pool hogged: dynamic; a
# pool that grows by itself, CONFIG_SWIOTLB_DYNAMIC, would only fill with
# memory: dynamic-only instead). Leaves 8 mappings and the hog held, for
# the module's unload to release.
run_hold() {
	if dsw_swiotlb_grows; then
		_out=$(dsw_write "$DSW_SYSFS/devices/$DEV/mode" dynamic-only) &&
			_out="the kernel's pool grows: dynamic-only"
	else
		_out=$(./dma_api --hog 2>&1)
	fi
	case $? in
	0) ktap_ok "hold: every bounced mapping dynamic ($_out)" ;;
	4)
		ktap_skip "hold: held mappings across processes" "$_out"
		return
		;;
	*)
		ktap_fail "hold: fill the swiotlb pool" "$_out"
		return
		;;
	esac
	dsw_mark
	hold_ok "hold: 8 x 64 KiB" --hold 8 --size 65536 &&
		ktap_check "hold: live_buffers 8 while held" live_is 8
	if _out=$(./dma_api --hold 1 --size 4096 2>&1); then
		ktap_fail "hold: a second hold is refused" "$_out"
	else
		ktap_ok "hold: a second hold is refused"
	fi
	hold_ok "hold: release" --release
	ktap_check "hold: live_buffers 0 after release" live_is 0
	hold_ok "hold: release of nothing" --release

	hold_ok "hold: 8 x 64 KiB from the device" --hold 8 --size 65536 --dir from
	if _out=$(sh -c "echo $DEV >$DRV/unbind" 2>&1); then
		ktap_check "hold: unbinding the driver releases" live_is 0
	else
		ktap_fail "hold: unbind $DEV" "$_out"
	fi
	ktap_check "hold: bind $DEV again" sh -c "echo $DEV >$DRV/bind"
	ktap_check "hold: no mapping left at unbind" no_leak_warning
	hold_ok "hold: 8 x 64 KiB to the device, for the unload" \
		--hold 8 --size 65536 --dir to
}

ktap_begin
test_unload
dsw_unload
nslabs=$(cat /sys/kernel/debug/swiotlb/io_tlb_nslabs 2>/dev/null)
ktap_info "swiotlb: io_tlb_nslabs=${nslabs:-absent}, $(grep -o 'swiotlb=[^ ]*' /proc/cmdline)," \
	"memory $(sed -n 's/^MemTotal: *//p' /proc/meminfo)"

# (a) The kernel's own path: the reference run of the test itself.
if out=$(modprobe dynswiotlb_test 2>&1); then
	ktap_ok "load dynswiotlb_test without dynswiotlb"
	run_mode kernel
else
	ktap_fail "load dynswiotlb_test without dynswiotlb" "$out"
fi
ktap_check "unload dynswiotlb_test" test_unload

# (b, c, d) Attached at driver bind: dynswiotlb first, then the device.
if out=$(modprobe dynswiotlb devices=$DEV 2>&1); then
	ktap_ok "load dynswiotlb devices=$DEV"
else
	ktap_fail "load dynswiotlb devices=$DEV" "$out"
fi
if out=$(modprobe dynswiotlb_test 2>&1); then
	ktap_ok "load dynswiotlb_test with dynswiotlb"
	got=$(grep "^$DEV " "$DSW_DEBUGFS/devices" 2>&1)
	case "$got" in
	"$DEV present"|"$DEV attached") ktap_ok "$DEV is selected (${got#* })" ;;
	*) ktap_fail "$DEV is selected" "devices: $got" ;;
	esac
	if [ -e "$STATS" ]; then
		run_mode static
		run_mode dynamic
		run_hold
	else
		why="$STATS missing: dynswiotlb does not attach dma_map_ops yet"
		ktap_skip "static: attached, pool usable" "$why"
		ktap_skip "dynamic: attached, pool full or absent" "$why"
	fi
else
	ktap_fail "load dynswiotlb_test with dynswiotlb" "$out"
fi
dsw_mark
ktap_check "unload dynswiotlb_test" test_unload
ktap_check "no mapping left at unload" no_leak_warning
ktap_check "unload dynswiotlb" dsw_unload
if test_loaded || dsw_loaded || lsmod | grep -q '^dynswiotlb'; then
	ktap_fail "no module left" "$(lsmod)"
else
	ktap_ok "no module left"
fi
ktap_end
