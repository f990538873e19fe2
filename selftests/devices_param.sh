#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# devices=: present devices are selected, absent well-formed names wait for
# the device to appear, malformed lists (selectors among them: pci:VVVV:DDDD,
# driver:NAME, with '-' and '_' one in a driver name) make the load fail
# with EINVAL and exactly one kernel log line naming the item and the
# reason. (select.sh tests what selectors select.)
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh

ktap_begin
dsw_unload
dsw_unbind_disks

if [ -z "$DSW_VIRTIO_BDF" ] || [ -z "$DSW_NVME_BDF" ]; then
	ktap_fail "test devices present" "virtio-blk=$DSW_VIRTIO_BDF nvme=$DSW_NVME_BDF"
	ktap_end
fi
ktap_info "virtio-blk at $DSW_VIRTIO_BDF, NVMe at $DSW_NVME_BDF"

# Present devices.
dsw_mark
if out=$(modprobe dynswiotlb devices="$DSW_VIRTIO_BDF,$DSW_NVME_BDF" 2>&1); then
	ktap_ok "load with two present devices"
else
	ktap_fail "load with two present devices" "$out"
fi
exp=$(printf "%s attached\n%s attached" "$DSW_VIRTIO_BDF" "$DSW_NVME_BDF")
got=$(cat "$DSW_DEBUGFS/devices" 2>&1)
[ "$got" = "$exp" ] && ktap_ok "debugfs lists both as attached" ||
	ktap_fail "debugfs lists both as attached" "got: $got"
got=$(cat "$DSW_SYSMOD/parameters/devices")
[ "$got" = "$DSW_VIRTIO_BDF,$DSW_NVME_BDF" ] && ktap_ok "parameter reads back" ||
	ktap_fail "parameter reads back" "got: $got"
ktap_check "a log line per selected device" sh -c \
	"dmesg | tail -n +$((DSW_MARK + 1)) | grep -q '$DSW_VIRTIO_BDF' &&
	 dmesg | tail -n +$((DSW_MARK + 1)) | grep -q '$DSW_NVME_BDF'"
ktap_check "unload" dsw_unload

# Upper-case PCI address: accepted and canonicalised.
up=$(echo "$DSW_VIRTIO_BDF" | tr a-f A-F)
if modprobe dynswiotlb devices="$up" 2>/dev/null &&
		[ "$(cat "$DSW_DEBUGFS/devices")" = "$DSW_VIRTIO_BDF attached" ]; then
	ktap_ok "upper-case PCI address accepted as $DSW_VIRTIO_BDF"
else
	ktap_fail "upper-case PCI address accepted" "$(cat "$DSW_DEBUGFS/devices" 2>&1)"
fi
dsw_unload

# A well-formed name that does not exist: load succeeds, one warning, pending.
dsw_mark
if modprobe dynswiotlb devices=0000:00:1f.6 2>/dev/null; then
	ktap_ok "absent device: load succeeds"
else
	ktap_fail "absent device: load succeeds"
fi
n=$(dsw_log_since | grep -c '0000:00:1f.6.*not present')
[ "$n" = 1 ] && ktap_ok "absent device: one 'not present' line" ||
	ktap_fail "absent device: one 'not present' line" "$(dsw_log_since)"
[ "$(cat "$DSW_DEBUGFS/devices" 2>&1)" = "0000:00:1f.6 pending" ] &&
	ktap_ok "absent device: debugfs says pending" ||
	ktap_fail "absent device: debugfs says pending" "$(cat "$DSW_DEBUGFS/devices" 2>&1)"
dsw_unload

# Malformed values: EINVAL, not loaded, exactly one log line of ours that
# names the offending item. Format: "<value>|<item named in the log>".
long=$(printf 'x%.0s' $(seq 1 64))
many=$(for i in $(seq 1 33); do printf 'dev%d,' "$i"; done)
many=${many%,}
bad="0000:00:1g.0|0000:00:1g.0
0000:00:20.0|0000:00:20.0
0000:00:03.8|0000:00:03.8
000:00:03.0|000:00:03.0
0000:000:03.0|0000:000:03.0
0000:00:3.0|0000:00:3.0
0000:00:03.0.1|0000:00:03.0.1
:.|:.
,0000:00:03.0|devices:
0000:00:03.0,,0000:00:04.0|devices:
0000:00:03.0,|devices:
,|devices:
$long|xxxxxxxxxxxxxxx
dev/sda|dev/sda
0000:00:03.0;reboot|0000:00:03.0;reboot
virtio\$0|virtio\$0
0000:00:04.0,0000:00:04.0|duplicate
0000:00:04.0,0000:00:04.0|0000:00:04.0
0000:00:0A.0,0000:00:0a.0|duplicate
$many|too many
pci:1af4|not a valid PCI ID (pci:VVVV:DDDD)
pci:1af4:10420|pci:1af4:10420
pci:1af4.1042|pci:1af4.1042
pci:xyzw:1042|pci:xyzw:1042
driver:|not a valid driver name
driver:a/b|driver:a/b
driver:nvme,driver:nvme|duplicate
driver:sdhci-pci,driver:sdhci_pci|duplicate
pci:1AF4:1042,pci:1af4:1042|duplicate
all,ALL|duplicate"
echo "$bad" | while IFS='|' read -r val item; do
	dsw_mark
	out=$(modprobe dynswiotlb "devices=$val" 2>&1)
	rc=$?
	ours=$(dsw_log_since | grep -c 'dynswiotlb')
	name="malformed devices=$(echo "$val" | cut -c1-40)"
	if [ $rc -eq 0 ]; then
		ktap_fail "$name: refused" "module loaded"
		dsw_unload
	elif dsw_loaded; then
		ktap_fail "$name: refused" "module present after failure"
	elif ! echo "$out" | grep -q 'Invalid argument'; then
		ktap_fail "$name: EINVAL" "$out"
	elif [ "$ours" != 1 ]; then
		ktap_fail "$name: exactly one log line" "$(dsw_log_since)"
	elif ! dsw_log_since | grep 'dynswiotlb' | grep -qF -- "$item"; then
		ktap_fail "$name: log names '$item'" "$(dsw_log_since)"
	else
		ktap_ok "$name: EINVAL, one line: $(dsw_log_since | grep dynswiotlb | sed 's/^\[[^]]*\] //' | cut -c1-90)"
	fi
done > /tmp/.devices_param.out
# The loop ran in a subshell: replay its results into our counters.
while read -r line; do
	case "$line" in
	"ok "*) ktap_ok "${line#ok * }" ;;
	"not ok "*) ktap_fail "${line#not ok * }" ;;
	"# "*) echo "$line" ;;
	esac
done < /tmp/.devices_param.out

# "all" in any case is the selector all, read back in lower case; with it
# every PCI function but bridges is selected (coco.sh loads it with the
# drivers; here they are bound, so nothing is rebound).
all_ok() {
	modprobe dynswiotlb devices=All || return 1
	_v=$(cat "$DSW_SYSMOD/parameters/devices")
	_s=$(grep -c ' selector$' "$DSW_DEBUGFS/devices")
	dsw_unload
	[ "$_v" = all ] && [ "$_s" = 1 ] || { echo "read back '$_v', $_s selector lines"; return 1; }
}
ktap_check "devices=All: the selector all, read back as 'all'" all_ok

empty_ok() {
	modprobe dynswiotlb devices= && [ -z "$(cat "$DSW_DEBUGFS/devices")" ] && dsw_unload
}
ktap_check "empty devices= is accepted (no device)" empty_ok
ktap_end
