#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Selectors (pci:VVVV:DDDD, driver:NAME): devices chosen by what stays true
# when a card moves. A PCI ID selects a present, unbound device at load and
# a device that appears later (removed and rescanned), attached before its
# driver probes; a driver selector attaches the device when that driver is
# about to probe it (no rebind), and, written to the attach file at run
# time, never unbinds a device it already drives: its next probe attaches
# it; '-' and '_' are one in a driver name. A device a selector matches cannot be detached alone
# (EBUSY, one line naming the selector); detaching the selector forgets it
# and leaves its devices attached. Malformed selectors are refused with
# EINVAL and one line naming the reason. Every attached disk moves
# checksummed data.
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh

JOBS=2
MIB=4
CTL=/usr/sbin/dynswiotlbctl

ktap_begin
dsw_unload
dsw_unbind_disks
if [ -z "$DSW_VIRTIO_BDF" ] || [ -z "$DSW_NVME_BDF" ]; then
	ktap_fail "test devices present" "virtio-blk=$DSW_VIRTIO_BDF nvme=$DSW_NVME_BDF"
	ktap_end
fi
head -c $((MIB * 1048576)) /dev/urandom >/tmp/pattern
# The IDs as the selector is written: "pci:" and vendor:device, no 0x.
id_of() {
	echo "pci:$(sed 's/^0x//' "/sys/bus/pci/devices/$1/vendor"):$(sed 's/^0x//' "/sys/bus/pci/devices/$1/device")"
}
VID=$(id_of "$DSW_VIRTIO_BDF")
NID=$(id_of "$DSW_NVME_BDF")
ktap_info "virtio-blk $DSW_VIRTIO_BDF ($VID), NVMe $DSW_NVME_BDF ($NID)"

# expect_line NAME RE: exactly one log line of ours since the mark matches RE.
expect_line() {
	_n=$(dsw_log_since | grep 'dynswiotlb: ' | grep -c -- "$2")
	[ "$_n" = 1 ] && ktap_ok "$1" ||
		ktap_fail "$1" "$_n lines match '$2'; log: $(dsw_log_since | grep dynswiotlb | tail -n 8)"
}

# attached_io NAME BDF BLK: the device is attached and its disk moves data.
attached_io() {
	if [ "$(dsw_state "$2")" = attached ]; then
		ktap_ok "$1: attached"
	else
		ktap_fail "$1: attached" "$(cat "$DSW_DEBUGFS/devices" 2>&1)"
	fi
	dsw_io "$3" "$1"
}

# 1. A PCI ID at load, device present and unbound (upper case accepted,
# prefix too).
dsw_mark
up=$(echo "$VID" | sed 's/^pci://' | tr a-f A-F)
if modprobe dynswiotlb "devices=PCI:$up"; then
	ktap_ok "load with devices=PCI:$up"
else
	ktap_fail "load with devices=PCI:$up"
	ktap_end
fi
got=$(cat "$DSW_SYSMOD/parameters/devices")
[ "$got" = "$VID" ] && ktap_ok "prefix and ID read back in lower case ($got)" ||
	ktap_fail "the ID reads back in lower case" "got: $got"
exp=$(printf '%s selector\n%s attached' "$VID" "$DSW_VIRTIO_BDF")
got=$(cat "$DSW_DEBUGFS/devices")
[ "$got" = "$exp" ] && ktap_ok "debugfs lists the selector, then the device it selected" ||
	ktap_fail "debugfs lists the selector, then the device it selected" "got: $got"
expect_line "one line: selected by the ID" "$DSW_VIRTIO_BDF: selected by $VID (pci)"
[ "$(dsw_state "$DSW_NVME_BDF")" = "" ] && ktap_ok "the other disk is not selected" ||
	ktap_fail "the other disk is not selected" "$(cat "$DSW_DEBUGFS/devices")"
dsw_load_drivers
attached_io "virtio-blk selected by $VID" "$DSW_VIRTIO_BDF" /dev/vda
if [ -x $CTL ]; then
	out=$($CTL status 2>&1)
	echo "$out" | grep -q "$VID.*selector" && echo "$out" | grep -q "$DSW_VIRTIO_BDF.*attached" &&
		ktap_ok "dynswiotlbctl status shows the selector and the device" ||
		ktap_fail "dynswiotlbctl status shows the selector and the device" "$out"
else
	ktap_fail "dynswiotlbctl installed"
fi

# 2. Detaching a device that a selector matches: refused while it does.
dsw_mark
out=$(dsw_write "$DSW_SYSFS/detach" "$DSW_VIRTIO_BDF")
echo "$out" | grep -q 'busy' && ktap_ok "detach of a selected device: EBUSY" ||
	ktap_fail "detach of a selected device: EBUSY" "$out"
expect_line "one line names the selector" "$DSW_VIRTIO_BDF: detach refused: selected by $VID; detach $VID first"
[ "$(dsw_state "$DSW_VIRTIO_BDF")" = attached ] && ktap_ok "it stays attached" ||
	ktap_fail "it stays attached" "$(cat "$DSW_DEBUGFS/devices")"

# 3. A removed device comes back through the rescan: matched by its ID
# when it is added, attached before its driver probes.
dsw_mark
dsw_write "$DSW_SYSFS/detach" "$VID" >/dev/null
expect_line "detach of the selector: one line" "$VID: selector removed; devices it selected stay attached"
[ "$(dsw_state "$DSW_VIRTIO_BDF")" = attached ] && [ -z "$(dsw_state "$VID")" ] &&
	ktap_ok "the selector is forgotten, its device stays attached" ||
	ktap_fail "the selector is forgotten, its device stays attached" "$(cat "$DSW_DEBUGFS/devices")"
dsw_io /dev/vda "virtio-blk after its selector was removed"
dsw_unbind "$DSW_VIRTIO_BDF"
out=$(dsw_write "$DSW_SYSFS/detach" "$DSW_VIRTIO_BDF")
[ -z "$out" ] && [ -z "$(cat "$DSW_DEBUGFS/devices")" ] &&
	ktap_ok "then the device detaches alone" ||
	ktap_fail "then the device detaches alone" "$out $(cat "$DSW_DEBUGFS/devices")"
out=$(dsw_write "$DSW_SYSFS/attach" "$VID")
[ -z "$out" ] && [ "$(dsw_state "$VID")" = selector ] &&
	[ "$(dsw_state "$DSW_VIRTIO_BDF")" = attached ] &&
	ktap_ok "attach file: the ID selects the unbound device at once" ||
	ktap_fail "attach file: the ID selects the unbound device at once" "$out $(cat "$DSW_DEBUGFS/devices")"
echo 1 >"/sys/bus/pci/devices/$DSW_VIRTIO_BDF/remove"
dsw_wait_gone "$DSW_VIRTIO_BDF"
dsw_write "$DSW_SYSFS/detach" "$VID" >/dev/null
out=$(dsw_write "$DSW_SYSFS/detach" "$DSW_VIRTIO_BDF")
[ -z "$out" ] && [ -z "$(cat "$DSW_DEBUGFS/devices")" ] &&
	ktap_ok "removed device: pending, then forgotten" ||
	ktap_fail "removed device: pending, then forgotten" "$out $(cat "$DSW_DEBUGFS/devices")"
# Both come back at a rescan. PCI binds a driver as it adds a device,
# whatever drivers_autoprobe says, so the NVMe's driver is unloaded first:
# its ID is matched when it is added (present, no driver yet), and the
# device is attached when the driver probes it; virtio-blk's driver binds
# at once, and its ID is matched by then.
dsw_unbind "$DSW_NVME_BDF"
echo 1 >"/sys/bus/pci/devices/$DSW_NVME_BDF/remove"
dsw_wait_gone "$DSW_NVME_BDF"
modprobe -r nvme
dsw_write "$DSW_SYSFS/attach" "$VID" >/dev/null
dsw_write "$DSW_SYSFS/attach" "$NID" >/dev/null
exp=$(printf '%s selector\n%s selector' "$VID" "$NID")
[ "$(cat "$DSW_DEBUGFS/devices")" = "$exp" ] &&
	ktap_ok "both devices gone: only the two selectors are listed" ||
	ktap_fail "both devices gone: only the two selectors are listed" "$(cat "$DSW_DEBUGFS/devices")"
dsw_mark
echo 1 >/sys/bus/pci/rescan
if dsw_wait_dev /dev/vda && [ "$(dsw_state "$DSW_VIRTIO_BDF")" = attached ] &&
		! dsw_log_since | grep -q "$DSW_VIRTIO_BDF: rebinding"; then
	ktap_ok "rescanned virtio-blk: attached at its driver's probe, no rebind"
else
	ktap_fail "rescanned virtio-blk: attached at its driver's probe, no rebind" \
		"$(cat "$DSW_DEBUGFS/devices") $(dsw_log_since | grep dynswiotlb | tail -n 5)"
fi
expect_line "one line: virtio-blk selected by its ID" "$DSW_VIRTIO_BDF: selected by $VID (pci)"
[ -e "/sys/bus/pci/devices/$DSW_NVME_BDF" ] && [ ! -e "/sys/bus/pci/devices/$DSW_NVME_BDF/driver" ] &&
	[ "$(dsw_state "$DSW_NVME_BDF")" = present ] &&
	ktap_ok "rescanned NVMe, no driver: matched by its ID when it was added" ||
	ktap_fail "rescanned NVMe, no driver: matched by its ID when it was added" "$(cat "$DSW_DEBUGFS/devices")"
expect_line "one line: NVMe selected by its ID" "$DSW_NVME_BDF: selected by $NID (pci)"
modprobe nvme
if dsw_wait_dev /dev/nvme0n1 && [ "$(dsw_state "$DSW_NVME_BDF")" = attached ] &&
		! dsw_log_since | grep -q "$DSW_NVME_BDF: rebinding"; then
	ktap_ok "then the NVMe is attached at its driver's probe, no rebind"
else
	ktap_fail "then the NVMe is attached at its driver's probe, no rebind" \
		"$(cat "$DSW_DEBUGFS/devices") $(dsw_log_since | grep dynswiotlb | tail -n 5)"
fi
dsw_io /dev/nvme0n1 "NVMe after the rescan"
dsw_io /dev/vda "virtio-blk after the rescan"
dsw_unbind_disks
ktap_check "unload" dsw_unload

# 4. A driver name at load: the device is attached when that driver is
# about to probe it; '-' and '_' are one; no rebind.
dsw_mark
if modprobe dynswiotlb devices=driver:nvme,driver:virtio-pci; then
	ktap_ok "load with devices=driver:nvme,driver:virtio-pci"
else
	ktap_fail "load with devices=driver:nvme,driver:virtio-pci"
	ktap_end
fi
exp=$(printf 'driver:nvme selector\ndriver:virtio-pci selector')
[ "$(cat "$DSW_DEBUGFS/devices")" = "$exp" ] &&
	ktap_ok "no driver bound yet: only the selectors are listed" ||
	ktap_fail "no driver bound yet: only the selectors are listed" "$(cat "$DSW_DEBUGFS/devices")"
dsw_load_drivers
attached_io "NVMe selected by driver:nvme" "$DSW_NVME_BDF" /dev/nvme0n1
attached_io "virtio-blk selected by driver:virtio-pci" "$DSW_VIRTIO_BDF" /dev/vda
expect_line "one line: NVMe selected by its driver" "$DSW_NVME_BDF: selected by driver:nvme (pci)"
expect_line "one line: virtio-blk selected by its driver" "$DSW_VIRTIO_BDF: selected by driver:virtio-pci (pci)"
dsw_log_since | grep -q 'rebinding' &&
	ktap_fail "attached before the probe, no rebind" "$(dsw_log_since | grep rebinding)" ||
	ktap_ok "attached before the probe, no rebind"
out=$(dsw_write "$DSW_SYSFS/attach" driver:virtio_pci)
echo "$out" | grep -q 'exists' && ktap_ok "driver:virtio_pci is driver:virtio-pci: EEXIST" ||
	ktap_fail "driver:virtio_pci is driver:virtio-pci: EEXIST" "$out"
dsw_unbind_disks
for s in driver:nvme driver:virtio_pci "$DSW_NVME_BDF" "$DSW_VIRTIO_BDF"; do
	dsw_write "$DSW_SYSFS/detach" "$s" >/dev/null
done
[ -z "$(cat "$DSW_DEBUGFS/devices")" ] && ktap_ok "selectors and devices detach" ||
	ktap_fail "selectors and devices detach" "$(cat "$DSW_DEBUGFS/devices")"

# 5. A driver name at run time, the driver bound: a selector never unbinds
# it (it may drive the root disk); the next probe attaches the device.
dsw_probe "$DSW_NVME_BDF"
dsw_wait_dev /dev/nvme0n1
dsw_mark
out=$(dsw_write "$DSW_SYSFS/attach" driver:nvme)
[ -z "$out" ] && ktap_ok "attach file takes driver:nvme with the driver bound" ||
	ktap_fail "attach file takes driver:nvme with the driver bound" "$out"
expect_line "one line: bound, attached at its next probe" "$DSW_NVME_BDF: driver nvme is bound: attached when it next probes"
dsw_log_since | grep -q rebinding &&
	ktap_fail "the bound NVMe is not unbound" "$(dsw_log_since | grep rebinding)" ||
	ktap_ok "the bound NVMe is not unbound"
[ "$(dsw_state "$DSW_NVME_BDF")" = present ] && ktap_ok "it is selected, not attached yet" ||
	ktap_fail "it is selected, not attached yet" "$(cat "$DSW_DEBUGFS/devices")"
dsw_io /dev/nvme0n1 "NVMe still bound to its driver"
dsw_unbind "$DSW_NVME_BDF"
dsw_probe "$DSW_NVME_BDF"
attached_io "NVMe attached at its next probe by driver:nvme" "$DSW_NVME_BDF" /dev/nvme0n1
[ -z "$(dsw_state "$DSW_VIRTIO_BDF")" ] && ktap_ok "a device of another driver is not selected" ||
	ktap_fail "a device of another driver is not selected" "$(cat "$DSW_DEBUGFS/devices")"
dsw_unbind_disks
out=$(dsw_write "$DSW_SYSFS/detach" "$DSW_NVME_BDF")
[ -z "$out" ] && ktap_ok "unbound, a driver selector no longer holds the device: detach works" ||
	ktap_fail "unbound, a driver selector no longer holds the device: detach works" "$out"

# 6. Malformed selectors through the attach file: EINVAL, one line each.
for bad in pci:1af4 pci:1af4:104 pci:1af4-1042 pci:1af4:1042:0 pci:1afg:1042 \
		PCI:1af4 Driver: driver: 'driver:a/b' 'driver:a b' 'driver:x;reboot'; do
	dsw_mark
	out=$(dsw_write "$DSW_SYSFS/attach" "$bad")
	n=$(dsw_log_since | grep -c 'dynswiotlb: ')
	if echo "$out" | grep -q 'Invalid argument' && [ "$n" = 1 ] &&
			dsw_log_since | grep 'dynswiotlb: ' | grep -q 'not a valid\|invalid character'; then
		ktap_ok "attach '$bad': EINVAL, one line: $(dsw_log_since | grep 'dynswiotlb: ' | sed 's/^\[[^]]*\] //')"
	else
		ktap_fail "attach '$bad': EINVAL, one line" "$out; $(dsw_log_since)"
	fi
done
ktap_check "unload" dsw_unload
dsw_load_drivers
ktap_end
