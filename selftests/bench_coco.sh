#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# bench_coco.sh: the guest side of bench/coco-mem.sh (bench.sh coco). A
# confidential guest's load, selftests/coco.sh (every device bouncing
# through a tiny forced pool, dynswiotlb attached to all of them, the
# four disks and the two NICs busy at once, checksummed), with the
# module's memory sampled every 200 ms meanwhile:
#
#   BENCH-COCO t_ms=UPTIME pool_bytes=P live_bytes=L devices=N
#
# P and L summed over every attached device (statistics/), N of them
# (bench.sh prints the setup's BENCH-INFO line first);
# coco.sh's own TAP lines (its peak, idle and reserve figures, and whether
# memory came back) pass through, then BENCH-DONE.
cd "$(dirname "$0")" || exit 1
. ./lib/dsw.sh

STOP=/tmp/bench_coco.stop

sampler() {
	while [ ! -e $STOP ]; do
		read -r _up _ </proc/uptime
		_p=0 _l=0 _n=0
		for _d in "$DSW_SYSFS"/devices/*/statistics; do
			[ -r "$_d/pool_bytes" ] || continue
			read -r _v <"$_d/pool_bytes" && _p=$((_p + _v))
			read -r _v <"$_d/live_bytes" && _l=$((_l + _v))
			_n=$((_n + 1))
		done
		echo "BENCH-COCO t_ms=$(echo "$_up" | tr -d .)0 pool_bytes=$_p live_bytes=$_l devices=$_n"
		usleep 200000
	done
}

rm -f $STOP
sampler &
spid=$!
./coco.sh
rc=$?
touch $STOP
wait $spid
echo "BENCH-INFO coco.sh exit $rc"
echo "BENCH-DONE"
