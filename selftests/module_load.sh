#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The module loads and unloads cleanly, repeatedly, and documents every
# parameter it has.
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh

ktap_begin
dsw_unload
dsw_unbind_disks

# modinfo: every parameter the module has (as sysfs lists them once it is
# loaded) has a description and a type.
modprobe dynswiotlb
params=$(ls "$DSW_SYSMOD/parameters" 2>/dev/null | sort)
dsw_unload
descs=$(modinfo -F parm dynswiotlb | cut -d: -f1 | sort)
types=$(modinfo -F parmtype dynswiotlb | cut -d: -f1 | sort)
if [ -z "$params" ]; then
	ktap_fail "modinfo: every parameter has a description" "no parameter in sysfs"
elif [ "$params" = "$descs" ] && [ "$params" = "$types" ]; then
	ktap_ok "modinfo: every parameter has a description and a type ($(echo $params))"
else
	ktap_fail "modinfo: every parameter has a description and a type" \
		"sysfs: $params / described: $descs / typed: $types"
fi
[ "$(modinfo -F license dynswiotlb)" = GPL ] && ktap_ok "modinfo: license GPL" ||
	ktap_fail "modinfo: license GPL"
[ -n "$(modinfo -F version dynswiotlb)" ] && [ -n "$(modinfo -F description dynswiotlb)" ] &&
	ktap_ok "modinfo: version and description" || ktap_fail "modinfo: version and description"

dsw_mark
if out=$(modprobe dynswiotlb 2>&1) && dsw_loaded; then
	ktap_ok "modprobe dynswiotlb (no devices)"
else
	ktap_fail "modprobe dynswiotlb (no devices)" "$out"
fi
ktap_check "debugfs directory present" test -d "$DSW_DEBUGFS"
ktap_check "debugfs devices is empty" sh -c "[ -f $DSW_DEBUGFS/devices ] && [ ! -s $DSW_DEBUGFS/devices ]"
ktap_check "devices parameter reads back empty" sh -c \
	"[ -z \"\$(cat $DSW_SYSMOD/parameters/devices)\" ]"
ktap_check "refcount is 0 with nothing attached" sh -c "[ \"\$(cat $DSW_SYSMOD/refcnt)\" = 0 ]"
ktap_check "modprobe -r dynswiotlb" dsw_unload
ktap_check "debugfs directory removed" test ! -e "$DSW_DEBUGFS"
# (The unsigned-module taint notice is expected: Debian kernels verify
# signatures without enforcing them.)
ktap_check "no error or warning logged by load/unload" sh -c \
	"! dmesg | tail -n +$((DSW_MARK + 1)) | grep -v 'module verification failed' |
	 grep -Ei 'dynswiotlb.*(error|fail|warn)|WARNING|BUG'"

# Repeated load/unload with devices selected (present and pending): no
# leak of the references taken on the devices.
ok=1
for i in 1 2 3 4 5 6 7 8 9 10; do
	modprobe dynswiotlb devices="$DSW_VIRTIO_BDF,$DSW_NVME_BDF,0000:00:1f.6" || { ok=0; break; }
	modprobe -r dynswiotlb || { ok=0; break; }
done
if [ $ok = 1 ] && ! dsw_loaded; then
	ktap_ok "10 load/unload cycles with devices selected"
else
	ktap_fail "10 load/unload cycles with devices selected" "failed at cycle $i"
fi
ktap_check "both devices still present after the cycles" sh -c \
	"[ -e /sys/bus/pci/devices/$DSW_VIRTIO_BDF ] && [ -e /sys/bus/pci/devices/$DSW_NVME_BDF ]"

ktap_end
