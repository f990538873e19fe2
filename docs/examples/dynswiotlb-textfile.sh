#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dynswiotlb-textfile.sh [DIR]: dynswiotlb's per-device counters in the
# Prometheus text format, for node_exporter's textfile collector
# (--collector.textfile.directory=DIR; Debian's prometheus-node-exporter
# reads /var/lib/prometheus/node-exporter, the default here). Run it every
# minute, e.g. from a systemd timer (docs/monitoring.md). It reads only
# sysfs, so it works under lockdown (Secure Boot) and needs no debugfs.
#
# Metrics, each labelled with device="<name>":
#   dynswiotlb_<counter>_total  counters of statistics/ (maps, dynamic, ...)
#   dynswiotlb_<counter>        gauges (live_buffers, live_bytes, pool_bytes,
#                               free_bytes and the two high-water marks)
#   dynswiotlb_up               1 if the module is loaded, else 0
set -u
dir=${1:-/var/lib/prometheus/node-exporter}
sys=/sys/kernel/dynswiotlb/devices
gauges=" live_buffers live_bytes pool_bytes free_bytes live_bytes_hiwater pool_bytes_hiwater "

tmp=$(mktemp "$dir/.dynswiotlb.prom.XXXXXX") || exit 1
trap 'rm -f "$tmp"' EXIT
{
	echo "# HELP dynswiotlb_up Whether the dynswiotlb module is loaded."
	echo "# TYPE dynswiotlb_up gauge"
	[ -d /sys/module/dynswiotlb ] && echo "dynswiotlb_up 1" || echo "dynswiotlb_up 0"
	# One family per counter, with every device's sample in it.
	keys=$(ls "$sys"/*/statistics 2>/dev/null | grep -v -e '^$' -e ':$' | sort -u)
	for k in $keys; do
		case "$gauges" in
		*" $k "*) m=dynswiotlb_$k; t=gauge ;;
		*) m=dynswiotlb_${k}_total; t=counter ;;
		esac
		echo "# HELP $m dynswiotlb statistics/$k of the device."
		echo "# TYPE $m $t"
		for f in "$sys"/*/statistics/"$k"; do
			[ -r "$f" ] || continue
			d=${f%/statistics/*}
			v=$(cat "$f") && echo "$m{device=\"${d##*/}\"} $v"
		done
	done
} >"$tmp" && chmod 644 "$tmp" && mv "$tmp" "$dir/dynswiotlb.prom"
