#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A user's path, over a reboot (the "reboot" boot option: this runs in two
# boots of one machine, dsw_boot says which).
#
# Boot 1: the disk stalls without the module, as users see it ("swiotlb
# buffer is full" in the log, writers stuck); `dynswiotlbctl diagnose`
# names the device, its driver and the fix; `diagnose --watch` samples the
# swiotlb_bounced tracepoint and leaves no tracefs instance behind;
# `dynswiotlbctl persist` writes the modprobe.d (and, for a built-in
# driver, modules-load.d) files, which are kept for the next boot.
#
# Boot 2: what systemd-modules-load and udev's coldplug do at boot
# (modules-load.d, then `modprobe` of every device's modalias, twice so
# that the devices the first drivers create are seen) loads the module
# with the persisted options: the device is attached and the same load
# that stalled completes with checksums equal; diagnose says it is
# attached; `dynswiotlbctl unpersist` removes the files.
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh

JOBS=8
MIB=8
WAIT=${DSW_CONTROL_WAIT:-20}
CTL=/usr/sbin/dynswiotlbctl
CONF=/etc/modprobe.d/dynswiotlb.conf
LOAD=/etc/modules-load.d/dynswiotlb.conf
BDF=$DSW_VIRTIO_BDF

ktap_begin
if [ ! -x $CTL ] || [ -z "$BDF" ]; then
	ktap_fail "dynswiotlbctl installed and virtio-blk present" "ctl=$(ls $CTL 2>&1) bdf=$BDF"
	ktap_end
fi
ktap_info "boot $(dsw_boot); the tool: $(cat /usr/share/doc/dynswiotlbctl/package 2>/dev/null)"
head -c $((MIB * 1048576)) /dev/urandom >/tmp/pattern

# writers DEV: the parallel direct writes that exhaust a tiny pool, in the
# background, done or error in /tmp/writers.done when they end.
writers() {
	rm -f /tmp/writers.done
	( dsw_io_write "$1" /tmp/pattern $JOBS $MIB && echo ok >/tmp/writers.done ||
		echo error >/tmp/writers.done ) </dev/null >/dev/null 2>&1 &
}

wait_writers() {
	_i=0
	while [ ! -e /tmp/writers.done ] && [ $_i -lt "$1" ]; do
		sleep 1
		_i=$((_i + 1))
	done
}

if [ "$(dsw_boot)" = 1 ]; then
	# The stalled writers stay blocked: no hung-task report for them.
	echo 0 >/proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
	rm -f $CONF $LOAD
	dsw_loaded && ktap_fail "the module is not loaded at boot" ||
		ktap_ok "the module is not loaded at boot"
	ktap_check "drivers load (no dynswiotlb)" dsw_load_drivers
	ktap_check "virtio-blk disk appears" dsw_wait_dev /dev/vda
	dsw_mark
	writers /dev/vda
	wait_writers "$WAIT"
	full=$(dsw_log_since | grep -c 'swiotlb buffer is full')
	if [ ! -e /tmp/writers.done ] && [ "$full" -gt 0 ]; then
		ktap_ok "without the module the disk stalls ($full 'swiotlb buffer is full' lines)"
	else
		ktap_fail "without the module the disk stalls" \
			"done=$(cat /tmp/writers.done 2>/dev/null) full=$full: the pool is not exhausted"
	fi

	out=$($CTL diagnose 2>&1)
	rc=$?
	echo "$out" | sed 's/^/# diagnose: /'
	if [ $rc = 0 ] && echo "$out" | grep -q "^$BDF " &&
			echo "$out" | grep -q "buffer is full" &&
			echo "$out" | grep -q "dynswiotlbctl persist $BDF"; then
		ktap_ok "diagnose names $BDF and the command that fixes it"
	else
		ktap_fail "diagnose names $BDF and the command that fixes it" "rc=$rc"
	fi
	echo "$out" | grep -q "modprobe dynswiotlb devices=$BDF" &&
		ktap_ok "diagnose gives the modprobe line for now" ||
		ktap_fail "diagnose gives the modprobe line for now"

	out=$($CTL diagnose --watch 3 2>&1)
	rc=$?
	echo "$out" | sed 's/^/# diagnose --watch 3: /'
	left=$(ls -d /sys/kernel/tracing/instances/dynswiotlbctl-* \
		/sys/kernel/debug/tracing/instances/dynswiotlbctl-* 2>/dev/null)
	[ $rc = 0 ] && [ -z "$left" ] &&
		ktap_ok "diagnose --watch 3 runs and removes its tracefs instance" ||
		ktap_fail "diagnose --watch 3 runs and removes its tracefs instance" "rc=$rc left=$left"
	# The stalled writers retry: their attempts bounce what fits.
	echo "$out" | grep -q '^trace: [1-9][0-9]* bounces' &&
		echo "$out" | grep "^$BDF " | grep -q '[1-9][0-9]* bounces' &&
		ktap_ok "--watch counts the device's bounces from the tracepoint" ||
		ktap_fail "--watch counts the device's bounces from the tracepoint"

	mkdir -p /etc/modules-load.d
	out=$($CTL persist "$BDF" 2>&1)
	rc=$?
	echo "$out" | sed 's/^/# persist: /'
	drv=$(basename "$(readlink "/sys/bus/pci/devices/$BDF/driver")")
	# A loadable module has an initstate; a built-in driver's module
	# directory (parameters, version) has none.
	mod=$(basename "$(readlink "/sys/bus/pci/devices/$BDF/driver/module" 2>/dev/null)" 2>/dev/null)
	[ -n "$mod" ] && [ ! -e "/sys/module/$mod/initstate" ] && mod=
	if [ $rc = 0 ] && grep -qx "options dynswiotlb devices=$BDF" $CONF; then
		ktap_ok "persist writes the options to $CONF"
	else
		ktap_fail "persist writes the options to $CONF" "rc=$rc $(cat $CONF 2>&1)"
	fi
	if [ -n "$mod" ]; then
		grep -qx "softdep $mod pre: dynswiotlb" $CONF &&
			ktap_ok "driver $drv is module $mod: softdep $mod pre: dynswiotlb" ||
			ktap_fail "driver $drv is module $mod: softdep $mod pre: dynswiotlb" "$(cat $CONF)"
	else
		grep -qx dynswiotlb $LOAD &&
			ktap_ok "driver $drv is built in: $LOAD loads the module" ||
			ktap_fail "driver $drv is built in: $LOAD loads the module" "$(cat $LOAD 2>&1)"
	fi
	dsw_keep $CONF $LOAD
	ktap_info "kept for the next boot: $(ls $CONF $LOAD 2>/dev/null | tr '\n' ' ')"
	# The stalled writers stay in D state: the boot ends here.
	ktap_end
fi

# Boot 2.
[ -f $CONF ] && ktap_ok "the persisted $CONF is back after the reboot" ||
	ktap_fail "the persisted $CONF is back after the reboot"
dsw_loaded && ktap_fail "the module is not loaded before the boot's module loading" ||
	ktap_ok "the module is not loaded before the boot's module loading"
dsw_mark
# systemd-modules-load: every module named in modules-load.d.
for f in /etc/modules-load.d/*.conf; do
	[ -f "$f" ] || continue
	sed 's/#.*//' "$f" | while read -r m; do
		[ -n "$m" ] && modprobe "$m"
	done
done
# udev's coldplug: the modalias of every device, as "add" events do.
for pass in 1 2; do
	for a in /sys/bus/*/devices/*/modalias; do
		modprobe -q "$(cat "$a")" 2>/dev/null
	done
done
if dsw_loaded && [ "$(dsw_state "$BDF")" = attached ]; then
	ktap_ok "at boot the persisted selection attaches $BDF"
else
	ktap_fail "at boot the persisted selection attaches $BDF" \
		"$(cat "$DSW_DEBUGFS/devices" 2>&1) $(dsw_log_since | grep dynswiotlb | tail -n 5)"
fi
ktap_info "$(dsw_log_since | grep 'dynswiotlb: ' | sed 's/^\[[^]]*\] //' | tr '\n' '|')"
dsw_wait_dev /dev/vda
dsw_mark
writers /dev/vda
wait_writers 300
if [ "$(cat /tmp/writers.done 2>/dev/null)" = ok ] &&
		dsw_io_verify /dev/vda /tmp/pattern $JOBS $MIB; then
	ktap_ok "the load that stalled completes: $((JOBS * MIB)) MiB written, read back, checksums equal"
else
	ktap_fail "the load that stalled completes" \
		"done=$(cat /tmp/writers.done 2>/dev/null) $(dsw_stats "$BDF")"
fi
n=$(dsw_stat "$BDF" dynamic)
full=$(dsw_log_since | grep -c 'swiotlb buffer is full')
[ "${n:-0}" -gt 0 ] && [ "$full" = 0 ] &&
	ktap_ok "it went through dynamic buffers ($n), no 'buffer is full' line" ||
	ktap_fail "it went through dynamic buffers, no 'buffer is full' line" "dynamic=$n full=$full"
out=$($CTL diagnose 2>&1)
echo "$out" | sed 's/^/# diagnose: /'
echo "$out" | grep -q "^  $BDF attached" && ktap_ok "diagnose says the device is attached" ||
	ktap_fail "diagnose says the device is attached"
out=$($CTL unpersist 2>&1)
rc=$?
[ $rc = 0 ] && [ ! -e $CONF ] && [ ! -e $LOAD ] &&
	ktap_ok "unpersist removes the files" ||
	ktap_fail "unpersist removes the files" "rc=$rc $out"
# A bound driver pins the module: taint.sh unloads it last.
dsw_unbind_disks
ktap_end
