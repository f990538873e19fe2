#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A GPU through the module: virtio-gpu (iommu_platform=on, 1024x768),
# attached before its driver probes, with a static pool of 256 KiB (the
# "devices" boot profile). The driver's framebuffer console emulation
# allocates a 3 MiB buffer object and maps its pages as one scatterlist
# for the device's whole life; every update of the screen syncs it for the
# device before the host copies it out. The test draws a picture on /dev/fb0 (fbdraw: ramps, squares
# and per-pixel hash bits), and asks the host for a screendump of the
# display (QEMU's monitor): the host compares every pixel with the
# picture (boot.sh; the marker DSW-SCREEN gives the name and seed).
# gpucontrol.sh shows that without the module the buffer cannot be mapped.
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh

SEED=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
BDF=$(dsw_pci_find 0x1af4 0x1050)	# modern virtio-gpu

# wait_fb SECONDS: /dev/fb0 appears.
wait_fb() {
	_i=0
	while [ ! -c /dev/fb0 ] && [ $_i -lt $(($1 * 10)) ]; do
		usleep 100000
		_i=$((_i + 1))
	done
	[ -c /dev/fb0 ]
}

# screen_unseen: prints why, and succeeds, where the picture has not been
# seen to reach QEMU's display: 6.1's framebuffer emulation left it black
# in every run, without the module too (the framebuffer mapped through an
# 8 MiB static pool; docs/notes/device-breadth.md).
screen_unseen() {
	case "$(uname -r)" in
	6.1.*) echo "6.1: its display stays black without the module too; open"; return 0 ;;
	esac
	return 1
}

ktap_begin
dsw_unload
if [ -z "$BDF" ]; then
	ktap_skip "GPU" "no virtio-gpu (boot option gpu: selftests/qemu/profiles)"
	ktap_end
fi
if ! modprobe dynswiotlb devices="$BDF"; then
	ktap_fail "load with the GPU selected"
	ktap_end
fi
ktap_ok "load with the GPU selected"
dsw_mark
modprobe virtio_pci 2>/dev/null
ktap_check "virtio_gpu loads after the module" modprobe virtio_gpu
dsw_probe "$BDF"
ktap_check "attached before its driver probed" grep -qx "$BDF attached" "$DSW_DEBUGFS/devices"
if ! wait_fb 30; then
	ktap_fail "the framebuffer appears" "$(dsw_log_since | tail -n 15)"
	dsw_unbind "$BDF"
	ktap_end
fi
ktap_ok "the framebuffer appears ($(cat /sys/class/graphics/fb0/name 2>/dev/null))"
# No console draws on the framebuffer (the gpu boot option maps fbcon to
# a framebuffer that never comes: fbcon=map:9). Hiding or unbinding the
# console instead left 6.1's and 6.12's display blank (measured).
# Drawn twice: 6.12's framebuffer emulation showed only part of a picture
# drawn once, seconds later (measured), and all of it drawn again.
if size=$(./fbdraw draw /dev/fb0 "$SEED") && sleep 1 &&
		size=$(./fbdraw draw /dev/fb0 "$SEED"); then
	ktap_ok "picture $SEED drawn and read back (${size% *}x${size#* })"
else
	ktap_fail "picture drawn and read back"
fi
sleep 3
if why=$(screen_unseen); then
	ktap_skip "the host compares the display with the picture" "$why"
elif dsw_host screendump gpu; then
	sleep 8	# the picture stays up: the host's agent looks twice a second
	echo "DSW-SCREEN gpu $SEED" >/dev/ttyS1
	ktap_ok "screendump requested (the host compares every pixel: boot.sh)"
else
	ktap_skip "screendump" "no host agent (dsw.host=1)"
fi
big=$(awk '$2 > m { m = $2 } END { print m + 0 }' "$DSW_DEBUGFS/$BDF/buffers")
ktap_info "$(dsw_stats "$BDF")"
ktap_info "dynamic mappings by context: task $(dsw_stat "$BDF" dynamic_task) atomic $(dsw_stat "$BDF" dynamic_atomic) irq $(dsw_stat "$BDF" dynamic_irq); live $(dsw_stat "$BDF" live_buffers) buffers, the largest $big bytes"
# static-first: what the 256 KiB pool holds of the framebuffer's entries,
# dynamic buffers hold the rest.
[ "$(dsw_stat "$BDF" dynamic)" -gt 0 ] &&
	[ $(($(dsw_stat "$BDF" live_bytes) + 262144)) -ge 3145728 ] &&
	ktap_ok "the framebuffer (3 MiB) is mapped, all but the static pool's share through dynamic buffers" ||
	ktap_fail "the framebuffer (3 MiB) is mapped through dynamic buffers" "$(dsw_stats "$BDF")"
[ "$(dsw_stat "$BDF" failures)" = 0 ] && ktap_ok "no failed mapping" ||
	ktap_fail "no failed mapping" "$(dsw_stats "$BDF")"
bad=$(dsw_log_since | grep -Ei 'buffer is full|failed|error')
[ -z "$bad" ] && ktap_ok "no full pool, failure or error in the driver's log" ||
	ktap_fail "no full pool, failure or error in the driver's log" "$bad"
dsw_unbind "$BDF"
[ "$(dsw_stat "$BDF" live_buffers)" = 0 ] && ktap_ok "nothing mapped once the driver is unbound" ||
	ktap_fail "nothing mapped once the driver is unbound" "$(head -n 5 "$DSW_DEBUGFS/$BDF/buffers")"
ktap_check "unload after the driver is unbound" dsw_unload
ktap_end
