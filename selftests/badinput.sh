#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Malformed and impossible attach/detach writes: each fails with the
# expected errno and exactly one kernel log line from the module naming the
# input; nothing changes (the device list is the same before and after).
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh

ktap_begin
dsw_unload
dsw_unbind_disks
if ! modprobe dynswiotlb devices="$DSW_NVME_BDF,0000:00:1f.6"; then
	ktap_fail "load"
	ktap_end
fi
ktap_ok "load with one device attached and one pending"

long=$(printf 'y%.0s' $(seq 1 64))
# file|value|errno text|text the log line must contain
cases="attach|
|Invalid argument|empty name
attach|$long|Invalid argument|name longer than
attach|0000:00:1g.0|Invalid argument|0000:00:1g.0
attach|0000:00:20.0|Invalid argument|0000:00:20.0
attach|0000:00:04.8|Invalid argument|0000:00:04.8
attach|000:00:04.0|Invalid argument|000:00:04.0
attach|0000:0:04.0|Invalid argument|0000:0:04.0
attach|0000:00:04|No such device|0000:00:04
attach|0000:00:04.0;|Invalid argument|0000:00:04.0;
attach|../../../dev/mem|Invalid argument|invalid character
attach|dev/sda|Invalid argument|dev/sda
attach|a b|Invalid argument|a b
attach|virtio\$0|Invalid argument|virtio
attach|$DSW_VIRTIO_BDF,$DSW_NVME_BDF|Invalid argument|invalid character
attach|$DSW_VIRTIO_BDF
$DSW_NVME_BDF|Invalid argument|invalid character
attach|*|Invalid argument|invalid character
attach|0000:00:1f.5|No such device|0000:00:1f.5
attach|0000:00:1f.6|File exists|already selected
attach|0000:00:1e.0|No such device|0000:00:1e.0
attach|nosuchdevice|No such device|nosuchdevice
attach|ffff:ff:1f.7|No such device|ffff:ff:1f.7
attach|0000:00:00.0|Invalid argument|PCI bridge
attach|0000:00:01.0|Invalid argument|PCI bridge
attach|$DSW_NVME_BDF|File exists|already selected
attach|$(echo "$DSW_NVME_BDF" | tr a-f A-F)|File exists|already selected
detach|
|Invalid argument|empty name
detach|$long|Invalid argument|name longer than
detach|0000:00:1g.0|Invalid argument|0000:00:1g.0
detach|$DSW_VIRTIO_BDF|No such device|not selected
detach|nosuchdevice|No such device|not selected
detach|0000:00:04.0.0|Invalid argument|0000:00:04.0.0
detach|dev/sda|Invalid argument|dev/sda
detach|\\001|Invalid argument|invalid character"

before=$(cat "$DSW_DEBUGFS/devices")
n=0
# Records are separated by lines that start with attach| or detach|.
echo "$cases" | awk '
	/^(attach|detach)\|/ { if (rec != "") print rec; rec = $0; next }
	{ rec = rec "\\n" $0 }
	END { if (rec != "") print rec }' >/tmp/badinput.cases
while IFS='|' read -r file val err text; do
	n=$((n + 1))
	val=$(printf '%bx' "$val")	# keep trailing newlines
	val=${val%x}
	dsw_mark
	out=$(dsw_write "$DSW_SYSFS/$file" "$val")
	rc=$?
	lines=$(dsw_log_since | grep -c 'dynswiotlb:')
	name="$file $(printf '%s' "$val" | tr '\n' '~' | cut -c1-40)"
	if [ $rc -eq 0 ]; then
		ktap_fail "$name: refused" "write succeeded"
	elif ! echo "$out" | grep -q "$err"; then
		ktap_fail "$name: $err" "$out"
	elif [ "$lines" != 1 ]; then
		ktap_fail "$name: exactly one log line" "$(dsw_log_since)"
	elif ! dsw_log_since | grep 'dynswiotlb:' | grep -qF -- "$text"; then
		ktap_fail "$name: log line says '$text'" "$(dsw_log_since)"
	elif [ "$(cat "$DSW_DEBUGFS/devices")" != "$before" ]; then
		ktap_fail "$name: nothing changed" "$(cat "$DSW_DEBUGFS/devices")"
	else
		ktap_ok "$name: $err, one line: $(dsw_log_since | grep dynswiotlb: |
			sed 's/^\[[^]]*\] //' | cut -c1-80)"
	fi
done </tmp/badinput.cases
[ "$n" -ge 30 ] && ktap_ok "$n malformed writes tried (at least 30)" ||
	ktap_fail "at least 30 malformed writes tried" "only $n"

ktap_check "module unloads (nothing bound)" dsw_unload
ktap_end
