#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Under lockdown (what Secure Boot gives a Debian kernel), everything a user
# and the tool read still works. The module is loaded with both disks, one
# of them bouncing through dynamic buffers while a writer keeps some live;
# then the kernel is locked down at run time (integrity, as Secure Boot
# does; it cannot be undone, so this runs last but for taint.sh) and:
# every statistics/ file and knob reads, a knob and a high-water mark can
# be written, the 0444 debugfs files read, inject_nomem (a debug knob) is
# refused with EPERM as documented; dynswiotlbctl status, status --json,
# top and buffers succeed and agree with the files; the node_exporter
# example (docs/monitoring.md) writes well-formed metrics. Last, a new load of the
# module is refused the way a user without its key enrolled sees it.
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh

SEC=/sys/kernel/security
LD=$SEC/lockdown
CTL=/usr/sbin/dynswiotlbctl

ktap_begin
dsw_unload
[ -d $SEC ] && ! grep -q " $SEC " /proc/mounts && mount -t securityfs none $SEC
if [ ! -w $LD ]; then
	ktap_skip "lockdown" "no $LD: the kernel has no lockdown LSM"
	ktap_end
fi
if [ -w /sys/kernel/debug/kmemleak ]; then
	ktap_skip "lockdown" "kmemleak is on: taint.sh needs its debugfs file, which lockdown hides"
	ktap_end
fi
if ! grep -q '\[none\]' $LD; then
	ktap_skip "lockdown" "already locked down: $(cat $LD)"
	ktap_end
fi

dsw_attach_disks
V=$DSW_VIRTIO_BDF
N=$DSW_NVME_BDF
echo dynamic-only >$DSW_SYSFS/devices/$V/mode
# A writer that keeps dynamic buffers live while the files are read.
dd if=/dev/urandom of=/tmp/lockdown.pat bs=1M count=4 2>/dev/null
(
	while [ ! -e /tmp/lockdown.stop ]; do
		dd if=/tmp/lockdown.pat of=/dev/vda bs=1M oflag=direct 2>/dev/null
	done
) &
writer=$!
_i=0
while [ "$(dsw_stat $V dynamic)" = 0 ] && [ $_i -lt 100 ]; do
	usleep 100000
	_i=$((_i + 1))
done

echo integrity >$LD 2>/dev/null
grep -q '\[integrity\]' $LD && ktap_ok "locked down at run time: $(cat $LD)" ||
	ktap_fail "locked down at run time" "$(cat $LD)"

# Every statistics file and knob of both devices reads as a number or word.
bad=
nfiles=0
for d in $V $N; do
	for f in $DSW_SYSFS/devices/$d/statistics/* $DSW_SYSFS/devices/$d/*; do
		[ -f "$f" ] || continue
		nfiles=$((nfiles + 1))
		v=$(cat "$f" 2>&1) || bad="$bad ${f#$DSW_SYSFS/}: $v;"
	done
done
for f in $DSW_SYSMOD/parameters/*; do
	nfiles=$((nfiles + 1))
	v=$(cat "$f" 2>&1) || bad="$bad $f: $v;"
done
[ -z "$bad" ] && [ $nfiles -gt 40 ] &&
	ktap_ok "sysfs: all $nfiles statistics, knob and parameter files read" ||
	ktap_fail "sysfs: every statistics, knob and parameter file reads" "$nfiles files;$bad"
[ "$(dsw_stat $V dynamic)" -gt 0 ] && ktap_ok "$V bounced dynamically: $(dsw_stat $V dynamic) mappings" ||
	ktap_fail "$V bounced dynamically" "$(dsw_stats $V)"
if echo 2000 >$DSW_SYSFS/devices/$N/shrink_delay_ms &&
		[ "$(cat $DSW_SYSFS/devices/$N/shrink_delay_ms)" = 2000 ] &&
		echo 0 >$DSW_SYSFS/devices/$V/statistics/pool_bytes_hiwater; then
	ktap_ok "sysfs writes work: a knob, a high-water mark"
else
	ktap_fail "sysfs writes work: a knob, a high-water mark"
fi

# debugfs: the 0444 files read, the debug knob is refused.
bad=
for f in devices summary $V/buffers $V/latency $V/sizes $N/buffers $N/latency $N/sizes; do
	v=$(cat $DSW_DEBUGFS/$f 2>&1) || bad="$bad $f: $v;"
done
[ -z "$bad" ] && ktap_ok "debugfs: devices, summary, buffers and the histograms read" ||
	ktap_fail "debugfs: devices, summary, buffers and the histograms read" "$bad"
v=$(cat $DSW_DEBUGFS/$V/inject_nomem 2>&1)
case "$v" in
*"Operation not permitted"*) ktap_ok "debugfs: inject_nomem (0600) refused with EPERM, as documented" ;;
*) ktap_fail "debugfs: inject_nomem refused with EPERM" "read: $v" ;;
esac

# The tool.
run() {
	out=$($CTL "$@" 2>&1)
	rc=$?
}
run status --bytes
set -- $(echo "$out" | grep "^$N ")
[ $rc = 0 ] && [ "$2 $3" = "attached static-first" ] &&
	[ "$6" = "$(dsw_stat $N pool_bytes)" ] &&
	echo "$out" | grep -q "^$V  *attached  *dynamic-only " &&
	ktap_ok "dynswiotlbctl status: both devices, counters from sysfs" ||
	ktap_fail "dynswiotlbctl status" "rc $rc: $out"
run status --json
[ $rc = 0 ] && echo "$out" | grep -q "{\"name\": \"$N\", \"state\": \"attached\", \"mode\": \"static-first\", \"statistics\": {\"maps\": [0-9]*, " &&
	echo "$out" | grep -q "\"pool_bytes\": $(dsw_stat $N pool_bytes)," &&
	ktap_ok "dynswiotlbctl status --json" ||
	ktap_fail "dynswiotlbctl status --json" "rc $rc: $out"
run top -n 2 -d 0.5
[ $rc = 0 ] && [ "$(echo "$out" | grep -c "^$V  *attached ")" = 2 ] &&
	ktap_ok "dynswiotlbctl top -n 2" || ktap_fail "dynswiotlbctl top -n 2" "rc $rc: $out"
run buffers $V
[ $rc = 0 ] && echo "$out" | head -n1 | grep -q "^DMA *SIZE *DIR *AGE_MS *CONTEXT$" &&
	ktap_ok "dynswiotlbctl buffers $V: $(($(echo "$out" | wc -l) - 1)) live buffers" ||
	ktap_fail "dynswiotlbctl buffers $V" "rc $rc: $out"

# The node_exporter example, as the package installs it.
EX=/usr/share/doc/dynswiotlbctl/examples/dynswiotlb-textfile.sh
mkdir -p /tmp/prom
if [ -f $EX ] && sh $EX /tmp/prom && P=/tmp/prom/dynswiotlb.prom && [ -f $P ] &&
		grep -qx 'dynswiotlb_up 1' $P &&
		grep -qx "dynswiotlb_dynamic_total{device=\"$V\"} [0-9]*" $P &&
		grep -qx "dynswiotlb_pool_bytes{device=\"$N\"} [0-9]*" $P &&
		[ "$(grep -cvE '^(# (HELP|TYPE) dynswiotlb_[a-z_]+ .+|dynswiotlb_[a-z_]+(\{device="[^"]+"\})? [0-9]+)$' $P)" = 0 ] &&
		[ "$(grep -c '^# TYPE ' $P)" = "$(($(ls $DSW_SYSFS/devices/$V/statistics | wc -l) + 1))" ]; then
	ktap_ok "node_exporter textfile example: $(grep -c '^dynswiotlb_' $P) samples, every line well-formed"
else
	ktap_fail "node_exporter textfile example" "$(head -n 20 $P 2>&1)"
fi

touch /tmp/lockdown.stop
wait $writer
want=$(md5sum </tmp/lockdown.pat)
got=$(dd if=/dev/vda bs=1M count=4 iflag=direct 2>/dev/null | md5sum)
[ "$got" = "$want" ] && ktap_ok "virtio-blk data intact: the pattern reads back" ||
	ktap_fail "virtio-blk data intact: the pattern reads back" "md5 $got, wrote $want"
rm -f /tmp/lockdown.stop /tmp/lockdown.pat

# What a user whose module key is not enrolled sees (the guest's kernel
# trusts only Debian's keys; DKMS signed this module with its own, or not).
dsw_unbind_disks
ktap_check "module unloads under lockdown" dsw_unload
dsw_mark
out=$(modprobe dynswiotlb 2>&1)
rc=$?
why=$(dsw_log_since | grep -i 'lockdown\|module verification\|key' | head -n 2)
if [ $rc -ne 0 ] && ! dsw_loaded && [ -n "$why" ]; then
	ktap_ok "a new load is refused without the signing key enrolled: $(echo "$out" | tail -n1 | sed 's/^modprobe: //')"
	ktap_info "$(echo "$why" | sed 's/^\[[^]]*\] //' | tr '\n' ' ')"
else
	ktap_fail "a new load is refused without the signing key enrolled" "rc $rc: $out; $(dsw_log_since | tail -n 3)"
	dsw_unload
fi
ktap_end
