#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Behind an IOMMU (the "iommu" boot profile: q35 with an Intel IOMMU,
# intel_iommu=on) the devices' DMA is translated: on 5.10/6.1 they get the
# IOMMU's dma_map_ops, on 6.12+ the dma-iommu path that bypasses ops. The
# module must refuse them, at load and at run time, with EOPNOTSUPP and one
# log line naming the device and the reason, and leave them working; a
# selector that matches them refuses each once, without unbinding it, and
# devices=all refuses every PCI function but bridges, one line each.
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh

ktap_begin
dsw_unload
dsw_unbind_disks
if [ -z "$(ls /sys/class/iommu 2>/dev/null)" ]; then
	ktap_fail "an IOMMU is active" "no /sys/class/iommu entry"
	ktap_end
fi
ktap_ok "an IOMMU is active: $(ls /sys/class/iommu | tr '\n' ' ')"

for bdf in "$DSW_VIRTIO_BDF" "$DSW_NVME_BDF"; do
	if line=$(dsw_load_refused 'not supported' "dynswiotlb: $bdf: refused: .*IOMMU" \
			devices="$bdf"); then
		ktap_ok "devices=$bdf refused at load: $(echo "$line" | cut -c1-100)"
	else
		ktap_fail "devices=$bdf refused at load" "$line"
	fi
done

ktap_check "load with nothing selected" modprobe dynswiotlb
for bdf in "$DSW_VIRTIO_BDF" "$DSW_NVME_BDF"; do
	dsw_mark
	out=$(dsw_write "$DSW_SYSFS/attach" "$bdf")
	if echo "$out" | grep -q 'not supported' &&
			[ "$(dsw_log_since | grep -c 'dynswiotlb: ')" = 1 ] &&
			[ -z "$(cat "$DSW_DEBUGFS/devices")" ]; then
		ktap_ok "attach $bdf refused: EOPNOTSUPP, nothing selected"
	else
		ktap_fail "attach $bdf refused: EOPNOTSUPP, nothing selected" "$out $(dsw_log_since)"
	fi
done
ktap_check "unload" dsw_unload

ktap_check "drivers still work behind the IOMMU" dsw_load_drivers
head -c 8388608 /dev/urandom >/tmp/pattern
if dsw_wait_dev /dev/vda && dsw_io_write /dev/vda /tmp/pattern 2 4 &&
		dsw_io_verify /dev/vda /tmp/pattern 2 4; then
	ktap_ok "virtio-blk I/O through the IOMMU, checksums match"
else
	ktap_fail "virtio-blk I/O through the IOMMU, checksums match"
fi

# Selectors that match refused devices: the load succeeds (a selector is
# not a promise that a device exists), nothing is unbound for a device that
# would be refused, each is refused in one line, once, even across probes.
NID=pci:$(sed 's/^0x//' "/sys/bus/pci/devices/$DSW_NVME_BDF/vendor"):$(sed 's/^0x//' "/sys/bus/pci/devices/$DSW_NVME_BDF/device")
dsw_mark
if modprobe dynswiotlb "devices=driver:virtio-pci,$NID"; then
	ktap_ok "load with selectors of refused devices (driver:virtio-pci,$NID)"
else
	ktap_fail "load with selectors of refused devices"
fi
n=$(dsw_log_since | grep -c "dynswiotlb: .*: refused: .*IOMMU")
dsw_log_since | grep -q "rebinding" &&
	ktap_fail "bound drivers are not unbound for refused devices" "$(dsw_log_since | grep rebinding)" ||
	ktap_ok "bound drivers are not unbound for refused devices"
[ "$n" = 2 ] && [ "$(dsw_state "$DSW_VIRTIO_BDF")" = refused ] &&
	[ "$(dsw_state "$DSW_NVME_BDF")" = refused ] &&
	ktap_ok "each matched device refused in one line" ||
	ktap_fail "each matched device refused in one line" "$n lines; $(cat "$DSW_DEBUGFS/devices")"
dsw_mark
dsw_unbind_disks
dsw_probe "$DSW_VIRTIO_BDF"
dsw_probe "$DSW_NVME_BDF"
dsw_wait_dev /dev/vda
dsw_wait_dev /dev/nvme0n1
[ "$(dsw_log_since | grep -c 'dynswiotlb: ')" = 0 ] &&
	ktap_ok "a refused device's next probe logs nothing again" ||
	ktap_fail "a refused device's next probe logs nothing again" "$(dsw_log_since | grep dynswiotlb)"
if dsw_io_write /dev/vda /tmp/pattern 2 4 && dsw_io_verify /dev/vda /tmp/pattern 2 4; then
	ktap_ok "virtio-blk keeps working, checksums match"
else
	ktap_fail "virtio-blk keeps working, checksums match"
fi
dsw_unbind_disks
ktap_check "unload" dsw_unload

# devices=all behind the IOMMU: every PCI function but bridges is selected
# and refused, one line each, and the load succeeds.
want=$(for p in /sys/bus/pci/devices/*; do
	case "$(cat "$p/class")" in 0x06*) ;; *) echo "$p" ;; esac
done | wc -l)
dsw_mark
if modprobe dynswiotlb devices=all; then
	ktap_ok "load with devices=all"
else
	ktap_fail "load with devices=all"
fi
n=$(dsw_log_since | grep -c "dynswiotlb: .*: refused: .*IOMMU")
sel=$(dsw_log_since | grep -c "dynswiotlb: .*: selected by all")
[ "$n" = "$want" ] && [ "$sel" = "$want" ] &&
	[ "$(grep -c ' attached$' "$DSW_DEBUGFS/devices")" = 0 ] &&
	ktap_ok "devices=all: each of the $want PCI functions refused in one line" ||
	ktap_fail "devices=all: each of the $want PCI functions refused in one line" \
		"$sel selected, $n refused: $(dsw_log_since | grep dynswiotlb)"
ktap_check "unload" dsw_unload
dsw_load_drivers
ktap_end
