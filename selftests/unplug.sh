#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A real disk's driver unbound, the disk removed from the PCI bus, and the
# disk pulled out of the machine (QEMU's device_del: an ACPI hot-plug
# eject), while direct I/O runs through dynamic buffers (a 256 KiB pool);
# then bound again, rescanned, and plugged back (device_add). Data written before stays intact, the
# requests in flight fail or complete (never hang), the driver leaves no
# dynamic buffer mapped, the module follows the device (pending while it
# is gone, attached again when it reappears, before its driver probes),
# and everything is clean at the end.
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh

JOBS=2
MIB=16

ktap_begin
dsw_unload
head -c $((MIB * 1048576)) /dev/urandom >/tmp/pattern

# readers BLK: direct readers of BLK in a loop until /tmp/stop exists (or
# the disk goes away); their pids in $readers.
readers() {
	readers=
	rm -f /tmp/stop
	for _j in $(seq 0 $((JOBS - 1))); do
		( while [ ! -e /tmp/stop ] &&
			dd if="$1" of=/dev/null bs=1M count=$MIB skip=$((_j * MIB)) \
				iflag=direct 2>/dev/null; do :; done ) &
		readers="$readers $!"
	done
}

stop_readers() {
	touch /tmp/stop
	for _p in $readers; do wait "$_p"; done
}

# gone WHAT: one result: the device ($bdf, $name) left the bus (within
# 60 s: an eject takes the guest's ACPI a moment), its readers stopped,
# and the module keeps it pending.
gone() {
	dsw_wait_gone "$bdf" 60
	stop_readers
	if [ ! -e "/sys/bus/pci/devices/$bdf" ] && [ "$(dsw_state "$bdf")" = pending ] &&
			dsw_log_since | grep -q "$bdf: removed; pending until it reappears"; then
		ktap_ok "$name: $1: pending"
	else
		ktap_fail "$name: $1: pending" \
			"present=$([ -e "/sys/bus/pci/devices/$bdf" ] && echo yes || echo no) state=$(dsw_state "$bdf") $(dsw_log_since | tail -n 5)"
	fi
}

# back WHAT: one result: the device came back with its disk, attached
# before its driver probed (no rebind was needed), the data intact.
back() {
	if dsw_wait_dev "$blk" 60 && [ "$(dsw_state "$bdf")" = attached ] &&
			! dsw_log_since | grep -q "$bdf: rebinding driver" &&
			dsw_io_verify "$blk" /tmp/pattern $JOBS $MIB; then
		ktap_ok "$name: $1, attached before its driver probed, data intact"
	else
		ktap_fail "$name: $1, attached before its driver probed, data intact" \
			"state=$(dsw_state "$bdf") $(dsw_log_since | tail -n 5)"
	fi
}

dsw_attach_disks
dsw_io /dev/vda "virtio-blk"
dsw_io /dev/nvme0n1 "NVMe"

for dev in "$DSW_VIRTIO_BDF /dev/vda virtio-blk vda" "$DSW_NVME_BDF /dev/nvme0n1 NVMe nvme0"; do
	# shellcheck disable=SC2086
	set -- $dev
	bdf=$1 blk=$2 name=$3 qid=$4

	# Unbind under I/O, bind again.
	readers "$blk"
	sleep 1
	dsw_mark
	dsw_unbind "$bdf"
	stop_readers
	live=$(dsw_stat "$bdf" live_buffers)
	if [ "$live" = 0 ] && ! dsw_log_since | grep -q 'still mapped' &&
			[ "$(dsw_state "$bdf")" = attached ]; then
		ktap_ok "$name: unbound under I/O: no buffer left, still attached"
	else
		ktap_fail "$name: unbound under I/O: no buffer left, still attached" \
			"live=$live state=$(dsw_state "$bdf") $(dsw_log_since | tail -n 3)"
	fi
	dsw_probe "$bdf"
	if dsw_wait_dev "$blk" && dsw_io_verify "$blk" /tmp/pattern $JOBS $MIB; then
		ktap_ok "$name: bound again, the data written before is intact"
	else
		ktap_fail "$name: bound again, the data written before is intact"
	fi

	# Remove the device from the bus under I/O, rescan.
	readers "$blk"
	sleep 1
	dsw_mark
	echo 1 >"/sys/bus/pci/devices/$bdf/remove"
	gone "removed under I/O"
	dsw_mark
	echo 1 >/sys/bus/pci/rescan
	back "back after a rescan"
	dsw_io "$blk" "$name after the rescan"

	# Pulled out of the machine under I/O, plugged back.
	if ! dsw_host_listens; then
		ktap_skip "$name: unplugged by the machine and plugged back" "no host agent (dsw.host=1)"
		continue
	fi
	readers "$blk"
	sleep 1
	dsw_mark
	dsw_host unplug "$qid"
	gone "unplugged by the machine (device_del) under I/O"
	dsw_mark
	dsw_host plug "$qid"
	back "plugged back (device_add)"
	dsw_io "$blk" "$name after it was plugged back"
done

dsw_unbind_disks
ktap_check "unloads" dsw_unload
ktap_end
