#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Real devices, static pool far too small: with the module attached to the
# virtio-blk disk (iommu_platform=on) and the NVMe disk, parallel 1 MiB
# direct I/O writes and reads back 256 MiB per device with matching
# checksums; the counters prove the dynamic buffers carried traffic and
# every dynamic buffer is gone at the end. Run in the "tiny" boot profile
# (swiotlb=128,force); control.sh shows the same load stalls without the
# module.
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh

JOBS=8
MIB=32		# per job: 8 x 32 MiB = 256 MiB per device

ktap_begin
dsw_unload
nslabs=$(cat /sys/kernel/debug/swiotlb/io_tlb_nslabs 2>/dev/null)
ktap_info "static pool: ${nslabs:-no} slabs of 2 KiB"

dsw_attach_disks
ktap_check "both attached before their drivers probed" sh -c \
	"grep -qx '$DSW_VIRTIO_BDF attached' $DSW_DEBUGFS/devices &&
	 grep -qx '$DSW_NVME_BDF attached' $DSW_DEBUGFS/devices"

head -c $((MIB * 1048576)) /dev/urandom >/tmp/pattern

for disk in vda:"$DSW_VIRTIO_BDF" nvme0n1:"$DSW_NVME_BDF"; do
	blk=/dev/${disk%%:*}
	bdf=${disk#*:}
	dyn0=$(dsw_stat "$bdf" dynamic)
	t0=$(date +%s)
	if dsw_io_write "$blk" /tmp/pattern $JOBS $MIB; then
		ktap_ok "$blk: $JOBS parallel writers, $((JOBS * MIB)) MiB, direct I/O"
	else
		ktap_fail "$blk: $JOBS parallel writers, $((JOBS * MIB)) MiB, direct I/O"
	fi
	echo 3 >/proc/sys/vm/drop_caches
	if dsw_io_verify "$blk" /tmp/pattern $JOBS $MIB; then
		ktap_ok "$blk: read back, all $JOBS checksums match"
	else
		ktap_fail "$blk: read back, all $JOBS checksums match"
	fi
	t1=$(date +%s)
	dyn=$(( $(dsw_stat "$bdf" dynamic) - dyn0 ))
	ktap_info "$blk: $(dsw_stats $bdf) ($((t1 - t0)) s)"
	[ "$dyn" -gt 0 ] && ktap_ok "$blk: dynamic buffers carried $dyn mappings" ||
		ktap_fail "$blk: dynamic buffers carried traffic" "dynamic +$dyn"
	[ "$(dsw_stat "$bdf" static)" -gt 0 ] && ktap_ok "$blk: the static pool was used first" ||
		ktap_fail "$blk: the static pool was used first"
	[ "$(dsw_stat "$bdf" failures)" = 0 ] && ktap_ok "$blk: no failed mapping" ||
		ktap_fail "$blk: no failed mapping" "failures $(dsw_stat "$bdf" failures)"
	[ "$(dsw_stat "$bdf" live_buffers)" = 0 ] && [ "$(dsw_stat "$bdf" live_bytes)" = 0 ] &&
		ktap_ok "$blk: no dynamic buffer left mapped" ||
		ktap_fail "$blk: no dynamic buffer left mapped" "$(cat "$DSW_DEBUGFS/$bdf/buffers")"
done

# Unbinding the drivers drops the pins: then the module unloads.
echo "$DSW_VIRTIO_BDF" >/sys/bus/pci/drivers/virtio-pci/unbind
echo "$DSW_NVME_BDF" >/sys/bus/pci/drivers/nvme/unbind
ktap_check "unload after the drivers are unbound" dsw_unload
ktap_end
