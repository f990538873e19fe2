#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The control for gpu.sh: the same virtio-gpu and 256 KiB static pool,
# without the module. The framebuffer's 3 MiB cannot be mapped through
# the pool: no framebuffer appears, and the log says why (the pool is
# full, or the driver's framebuffer emulation failed).
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh

BDF=$(dsw_pci_find 0x1af4 0x1050)

ktap_begin
dsw_unload
if [ -z "$BDF" ]; then
	ktap_skip "GPU control" "no virtio-gpu (boot option gpu)"
	ktap_end
fi
dsw_mark
modprobe virtio_pci 2>/dev/null
modprobe virtio_gpu
dsw_probe "$BDF"
sleep 10
log=$(dsw_log_since)
full=$(echo "$log" | grep -c "$BDF.*buffer is full")
echo "$log" | grep -Ei 'virtio|drm|swiotlb|fb' | head -n 8 | sed 's/^/# log: /'
if [ -c /dev/fb0 ]; then
	fb="a framebuffer appeared"
else
	fb="no framebuffer"
fi
# The pool's own line is rate-limited (netcontrol.sh ran first); the
# driver says what failed (6.1: "fbdev: Failed to setup generic emulation
# (ret=-5)").
failed=$(echo "$log" | grep -ci 'failed')
ktap_info "without the module: $fb; $full 'buffer is full', $failed 'failed' lines"
[ "$fb" = "no framebuffer" ] && [ $((full + failed)) -gt 0 ] &&
	ktap_ok "without the module the framebuffer cannot be mapped: no framebuffer" ||
	ktap_fail "without the module the framebuffer cannot be mapped" "$fb; $full 'buffer is full', $failed 'failed' lines"
dsw_unbind "$BDF"
ktap_end
