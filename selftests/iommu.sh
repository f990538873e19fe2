#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Behind an IOMMU (the "iommu" boot profile: q35 with an Intel IOMMU,
# intel_iommu=on) the devices' DMA is translated: on 5.10/6.1 they get the
# IOMMU's dma_map_ops, on 6.12+ the dma-iommu path that bypasses ops. The
# module must refuse them, at load and at run time, with EOPNOTSUPP and one
# log line naming the device and the reason, and leave them working.
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
ktap_end
