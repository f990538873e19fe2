#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The control for usb.sh and sata.sh: the same disks, the same load and
# the same 256 KiB static pool, without the module (for USB, with the pool
# held by e1000e's receive ring, as in usb.sh). Each load runs in the
# background for at most WAIT seconds (a stalled writer stays in D state:
# this runs last in its boot, which ends with a forced power-off); what it
# did is reported and must be a stall, a failure, or mappings the pool
# failed for this disk ("buffer is full") that the driver's own error
# handling then retried to completion.
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh
. ./lib/net.sh
. ./lib/disk.sh

WAIT=${DSW_CONTROL_WAIT:-30}

# control NAME BDF JOBS MIB MODULE...: the load of NAME's test on the disk
# below BDF, without the module.
control() {
	_cn=$1
	_cb=$2
	_cj=$3
	_cm=$4
	shift 4
	if [ -z "$_cb" ]; then
		ktap_skip "$_cn control" "no such controller in this machine"
		return 0
	fi
	dsw_mark
	for m in "$@"; do modprobe "$m"; done
	dsw_probe "$_cb"
	if ! _ck=$(dsw_wait_disk_of "$_cb" 30); then
		# Even the probe's commands (INQUIRY, READ CAPACITY) could not
		# be mapped: what a user sees is a disk that never comes.
		# (The pool's "buffer is full" line is rate-limited for all
		# devices at once: the pool itself says it is full.)
		_cfull=$(dsw_log_since | grep -c "$_cb.*buffer is full")
		_used=$(cat /sys/kernel/debug/swiotlb/io_tlb_used)
		_all=$(cat /sys/kernel/debug/swiotlb/io_tlb_nslabs)
		[ "$_used" = "$_all" ] &&
			ktap_ok "$_cn without the module: the disk does not even appear in 30 s (pool $_used/$_all slots used; $_cfull 'buffer is full' lines of its own)" ||
			ktap_fail "$_cn without the module: stalls or fails for want of the pool" \
				"no disk, pool $_used/$_all: $(dsw_log_since | tail -n 10)"
		return 0
	fi
	head -c $((_cm * 1048576)) /dev/urandom >/tmp/pattern.$$
	_cdone=/tmp/control.$_cb
	rm -f "$_cdone"
	( dsw_io_write "$_ck" /tmp/pattern.$$ "$_cj" "$_cm" &&
		dsw_io_verify "$_ck" /tmp/pattern.$$ "$_cj" "$_cm" &&
		echo ok >"$_cdone" || echo error >"$_cdone" ) </dev/null >/dev/null 2>&1 &
	_i=0
	while [ ! -e "$_cdone" ] && [ $_i -lt "$WAIT" ]; do
		sleep 1
		_i=$((_i + 1))
	done
	_clog=$(dsw_log_since)
	_cfull=$(echo "$_clog" | grep -c "$_cb.*buffer is full")
	_cerr=$(echo "$_clog" | grep -ci 'I/O error')
	echo "$_clog" | grep -Ei 'buffer is full|error|reset' | head -n 4 | sed 's/^/# log: /'
	if [ ! -e "$_cdone" ]; then
		ktap_ok "$_cn without the module: $((_cj * _cm)) MiB not done after ${WAIT}s ($_cfull 'buffer is full', $_cerr 'I/O error' lines)"
	elif [ "$(cat "$_cdone")" = error ]; then
		ktap_ok "$_cn without the module: the load fails ($_cfull 'buffer is full', $_cerr 'I/O error' lines)"
	elif [ "$_cfull" -gt 0 ]; then
		# The pool failed its mappings, and the driver's error handling
		# got the data through anyway (libata retries a command whose
		# mapping failed, after an "internal error": seen on 6.1 with
		# parallel vCPUs). The control's point stands, the pool ran out
		# under this load, but whether the driver recovers is timing.
		ktap_ok "$_cn without the module: the pool ran out ($_cfull 'buffer is full', $_cerr 'I/O error' lines); the driver's retries completed the load in ${_i}s"
	else
		ktap_fail "$_cn without the module stalls or fails" "it completed in ${_i}s: the pool is not exhausted"
	fi
}

ktap_begin
dsw_unload
# The stalled writers would be reported as hung tasks (taint.sh follows).
echo 0 >/proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
if [ -n "$DSW_E1000E_BDF" ]; then
	ktap_check "e1000e holds the whole static pool" dsw_net_hog
	control "USB disk" "$(dsw_pci_find 0x1b36 0x000d)" 4 16 xhci_pci usb_storage sd_mod
	dsw_net_hog_end
else
	ktap_skip "USB disk control" "no e1000e to hold the pool (boot option net)"
fi
control "SATA disk" "$(dsw_pci_find 0x8086 0x2922)" 8 16 ahci sd_mod
ktap_end
