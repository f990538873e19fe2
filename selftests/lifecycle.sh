#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Attach and detach at run time, around bound and unbound drivers, with
# checksummed I/O at every step: attach of a bound device rebinds its
# driver; unload is refused while a driver is bound to an attached device;
# attaching an unbound device and binding the driver later; detach rebinds
# the driver without the module; after detach and unload the devices still
# do correct I/O and nothing is left behind.
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh

JOBS=4
MIB=8

ktap_begin
dsw_unload
head -c $((MIB * 1048576)) /dev/urandom >/tmp/pattern


ktap_check "drivers bound, module not loaded" dsw_load_drivers
dsw_io /dev/vda "virtio-blk without the module"
ktap_check "modprobe dynswiotlb (nothing selected)" modprobe dynswiotlb

# Attach a device whose driver is bound: unbind, install, rebind.
dsw_mark
out=$(dsw_write "$DSW_SYSFS/attach" "$DSW_VIRTIO_BDF") &&
	ktap_ok "attach $DSW_VIRTIO_BDF while virtio-pci is bound" ||
	ktap_fail "attach $DSW_VIRTIO_BDF while virtio-pci is bound" "$out"
[ "$(dsw_state "$DSW_VIRTIO_BDF")" = attached ] &&
	dsw_log_since | grep -q "$DSW_VIRTIO_BDF: rebinding driver virtio-pci" &&
	[ -e "/sys/bus/pci/devices/$DSW_VIRTIO_BDF/driver" ] &&
	ktap_ok "it is attached and its driver was rebound" ||
	ktap_fail "it is attached and its driver was rebound" "$(dsw_log_since)"
sleep 1
dsw_io /dev/vda "virtio-blk attached at run time"
[ "$(dsw_stat "$DSW_VIRTIO_BDF" maps)" -gt 0 ] &&
	ktap_ok "its mappings go through the module" ||
	ktap_fail "its mappings go through the module"

out=$(modprobe -r dynswiotlb 2>&1)
if [ $? -ne 0 ] && dsw_loaded && echo "$out" | grep -q 'in use'; then
	ktap_ok "unload refused while a driver is bound to an attached device"
else
	ktap_fail "unload refused while a driver is bound to an attached device" "$out"
fi
out=$(dsw_write "$DSW_SYSFS/attach" "$DSW_VIRTIO_BDF")
echo "$out" | grep -q 'File exists' && ktap_ok "attach twice: EEXIST" ||
	ktap_fail "attach twice: EEXIST" "$out"

# Attach an unbound device, then bind its driver: no rebind needed.
dsw_unbind "$DSW_NVME_BDF"
dsw_mark
out=$(dsw_write "$DSW_SYSFS/attach" "$DSW_NVME_BDF") &&
	[ "$(dsw_state "$DSW_NVME_BDF")" = attached ] &&
	! dsw_log_since | grep -q rebinding &&
	ktap_ok "attach the unbound NVMe controller: attached at once" ||
	ktap_fail "attach the unbound NVMe controller: attached at once" "$out $(dsw_log_since)"
dsw_probe "$DSW_NVME_BDF"
dsw_io /dev/nvme0n1 "NVMe bound after attach"
[ "$(dsw_stat "$DSW_NVME_BDF" maps)" -gt 0 ] && ktap_ok "NVMe mappings go through the module" ||
	ktap_fail "NVMe mappings go through the module"

for bdf in "$DSW_VIRTIO_BDF" "$DSW_NVME_BDF"; do
	[ "$(dsw_stat "$bdf" live_buffers)" = 0 ] && ktap_ok "$bdf: no dynamic buffer left" ||
		ktap_fail "$bdf: no dynamic buffer left" "$(cat "$DSW_DEBUGFS/$bdf/buffers")"
done

# Detach both: the drivers come back on the kernel's own DMA path.
for bdf in "$DSW_VIRTIO_BDF" "$DSW_NVME_BDF"; do
	out=$(dsw_write "$DSW_SYSFS/detach" "$bdf") && [ -z "$(dsw_state "$bdf")" ] &&
		[ -e "/sys/bus/pci/devices/$bdf/driver" ] &&
		ktap_ok "detach $bdf: forgotten, driver bound again" ||
		ktap_fail "detach $bdf: forgotten, driver bound again" "$out"
done
sleep 1
dsw_io /dev/vda "virtio-blk after detach"
dsw_io /dev/nvme0n1 "NVMe after detach"
ktap_check "unload once nothing is attached" dsw_unload
dsw_io /dev/vda "virtio-blk after unload"
dsw_io /dev/nvme0n1 "NVMe after unload"
ktap_check "refcount and module gone" sh -c '! test -e /sys/module/dynswiotlb'

# Devices selected by devices= with their drivers bound are rebound at load.
dsw_mark
ktap_check "load with both drivers bound" modprobe dynswiotlb \
	devices="$DSW_VIRTIO_BDF,$DSW_NVME_BDF"
[ "$(dsw_state "$DSW_VIRTIO_BDF")" = attached ] && [ "$(dsw_state "$DSW_NVME_BDF")" = attached ] &&
	ktap_ok "both attached at load" || ktap_fail "both attached at load" "$(cat "$DSW_DEBUGFS/devices")"
sleep 1
dsw_io /dev/vda "virtio-blk attached at load"
dsw_unbind_disks
ktap_check "unbinding the drivers releases the module" dsw_unload

# Live dynamic mappings: the test device holds some while the static pool
# is full (dma_api --hog/--hold); detach and unload are refused until they
# are unmapped.
TDEV=dynswiotlb_test.0
if modprobe dynswiotlb devices=$TDEV && modprobe dynswiotlb_test &&
		./dma_api --hog >/dev/null && ./dma_api --hold 8 --size 65536 >/dev/null; then
	ktap_ok "test device holds 8 mappings with the static pool full"
else
	ktap_fail "test device holds 8 mappings with the static pool full"
fi
[ "$(dsw_stat $TDEV live_buffers)" = 8 ] && ktap_ok "8 live dynamic buffers" ||
	ktap_fail "8 live dynamic buffers" "$(dsw_stats $TDEV)"
[ "$(wc -l <"$DSW_DEBUGFS/$TDEV/buffers")" = 8 ] &&
	ktap_ok "the buffers file lists them: $(head -n1 "$DSW_DEBUGFS/$TDEV/buffers")" ||
	ktap_fail "the buffers file lists them" "$(cat "$DSW_DEBUGFS/$TDEV/buffers")"
dsw_mark
out=$(dsw_write "$DSW_SYSFS/detach" $TDEV)
echo "$out" | grep -q 'busy' && [ "$(dsw_state $TDEV)" = attached ] &&
	dsw_log_since | grep -q "$TDEV: detach refused: 8 dynamic buffers are mapped" &&
	ktap_ok "detach refused: EBUSY, still attached" ||
	ktap_fail "detach refused: EBUSY, still attached" "$out $(dsw_log_since)"
out=$(modprobe -r dynswiotlb 2>&1)
[ $? -ne 0 ] && dsw_loaded && ktap_ok "unload refused with live mappings" ||
	ktap_fail "unload refused with live mappings" "$out"
if ./dma_api --release >/dev/null && ./dma_api --unhog >/dev/null &&
		[ "$(dsw_stat $TDEV live_buffers)" = 0 ]; then
	ktap_ok "released: no live buffer"
else
	ktap_fail "released: no live buffer"
fi
out=$(dsw_write "$DSW_SYSFS/detach" $TDEV) && [ -z "$(dsw_state $TDEV)" ] &&
	ktap_ok "detach succeeds once nothing is mapped" ||
	ktap_fail "detach succeeds once nothing is mapped" "$out"
modprobe -r dynswiotlb_test
ktap_check "both modules unload" dsw_unload
ktap_end
