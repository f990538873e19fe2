# SPDX-License-Identifier: GPL-2.0
# Guest-side helpers of the SCSI-disk selftests (busybox sh): a disk behind
# a host controller the module attaches to (usb.sh: xHCI and usb-storage;
# sata.sh: AHCI), with the same checksummed parallel direct I/O as the
# virtio-blk and NVMe tests.

# dsw_disk_of BDF: the sd disk node whose device sits below the PCI
# function BDF (its host controller), or nothing.
dsw_disk_of() {
	for _b in /sys/block/sd*; do
		[ -e "$_b" ] || continue
		case "$(readlink -f "$_b")" in
		*/"$1"/*) echo "/dev/${_b##*/}"; return 0 ;;
		esac
	done
	return 1
}

# dsw_wait_disk_of BDF SECONDS: wait for it; prints the node.
dsw_wait_disk_of() {
	_i=0
	while ! dsw_disk_of "$1" >/dev/null && [ $_i -lt $(($2 * 10)) ]; do
		usleep 100000
		_i=$((_i + 1))
	done
	_d=$(dsw_disk_of "$1") || return 1
	dsw_wait_dev "$_d" 5 && echo "$_d"
}

# dsw_disk_class NAME BDF MODULE...: the whole test of one class: the
# module loaded with the controller selected, then MODULE... (its drivers),
# the disk found, JOBS x MIB MiB of /tmp/pattern written and read back
# with direct I/O, the counters checked (dynamic buffers used, no failed
# mapping, nothing left mapped), the driver unbound, the module unloaded.
# The log must show no I/O error, reset, timeout or full pool, but in lines
# matching DSW_DISK_LOG_IGNORE (another device's).
dsw_disk_class() {
	_dn=$1
	_db=$2
	shift 2
	if ! modprobe dynswiotlb devices="$_db"; then
		ktap_fail "$_dn: load with the controller $_db selected"
		ktap_end
	fi
	ktap_ok "$_dn: load with the controller $_db selected"
	dsw_mark
	ktap_check "$_dn: drivers load after the module ($*)" sh -c \
		"for m in $*; do /usr/sbin/modprobe \$m || exit 1; done"
	dsw_probe "$_db"
	ktap_check "$_dn: attached before its driver probed" \
		grep -qx "$_db attached" "$DSW_DEBUGFS/devices"
	if ! _dk=$(dsw_wait_disk_of "$_db" 30); then
		ktap_fail "$_dn: its disk appears" "$(dsw_log_since | tail -n 20)"
		dsw_unbind "$_db"
		ktap_end
	fi
	ktap_ok "$_dn: its disk appears ($_dk, max_sectors_kb $(cat /sys/block/${_dk#/dev/}/queue/max_sectors_kb))"
	_dy0=$(dsw_stat "$_db" dynamic)
	_dt0=$(cut -d. -f1 /proc/uptime)
	dsw_io "$_dk" "$_dn"
	ktap_info "$_dn: $(dsw_stats "$_db") ($(($(cut -d. -f1 /proc/uptime) - _dt0)) s)"
	ktap_info "$_dn: dynamic mappings by context: task $(dsw_stat "$_db" dynamic_task) atomic $(dsw_stat "$_db" dynamic_atomic) irq $(dsw_stat "$_db" dynamic_irq)"
	_dy=$(($(dsw_stat "$_db" dynamic) - _dy0))
	[ "$_dy" -gt 0 ] && ktap_ok "$_dn: dynamic buffers carried $_dy mappings" ||
		ktap_fail "$_dn: dynamic buffers carried the I/O" "$(dsw_stats "$_db")"
	[ "$(dsw_stat "$_db" failures)" = 0 ] && ktap_ok "$_dn: no failed mapping" ||
		ktap_fail "$_dn: no failed mapping" "$(dsw_stats "$_db")"
	_dbad=$(dsw_log_since | grep -v "${DSW_DISK_LOG_IGNORE:-^$}" |
		grep -Ei 'buffer is full|I/O error|reset|timeout|timed out')
	[ -z "$_dbad" ] && ktap_ok "$_dn: no I/O error, reset or timeout in the log" ||
		ktap_fail "$_dn: no I/O error, reset or timeout in the log" "$_dbad"
	[ "$(dsw_stat "$_db" live_buffers)" = 0 ] && [ "$(dsw_stat "$_db" live_bytes)" = 0 ] &&
		ktap_ok "$_dn: no dynamic buffer left mapped" ||
		ktap_fail "$_dn: no dynamic buffer left mapped" "$(head -n 5 "$DSW_DEBUGFS/$_db/buffers")"
	dsw_unbind "$_db"
	ktap_check "$_dn: unload after the controller's driver is unbound" dsw_unload
}
