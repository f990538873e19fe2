# SPDX-License-Identifier: GPL-2.0
# Guest-side helpers shared by the shell selftests (busybox sh).

# kmod's tools, as users have them. busybox sh would run its own applets for
# the bare names (and busybox modprobe retries a failed load, logging twice).
modprobe() { /usr/sbin/modprobe "$@"; }
modinfo() { /usr/sbin/modinfo "$@"; }
lsmod() { /usr/sbin/lsmod "$@"; }
rmmod() { /usr/sbin/rmmod "$@"; }
insmod() { /usr/sbin/insmod "$@"; }

DSW_DEBUGFS=/sys/kernel/debug/dynswiotlb
DSW_SYSMOD=/sys/module/dynswiotlb

# dsw_pci_find VENDOR DEVICE: the BDF of the first PCI function with these
# IDs (e.g. 0x1af4 0x1042 for a modern virtio-blk), or nothing.
dsw_pci_find() {
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$d/vendor")" = "$1" ] && [ "$(cat "$d/device")" = "$2" ]; then
			basename "$d"
			return 0
		fi
	done
	return 1
}

# dsw_pci_find_class CLASS: the BDF of the first PCI function of a class
# (e.g. 0x010802 for NVMe).
dsw_pci_find_class() {
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$d/class")" = "$1" ]; then
			basename "$d"
			return 0
		fi
	done
	return 1
}

DSW_VIRTIO_BDF=$(dsw_pci_find 0x1af4 0x1042)
DSW_NVME_BDF=$(dsw_pci_find_class 0x010802)

dsw_loaded() {
	[ -d "$DSW_SYSMOD" ]
}

# dsw_unload: unload the module if loaded; fails if it stays.
dsw_unload() {
	dsw_loaded || return 0
	modprobe -r dynswiotlb && ! dsw_loaded
}

# Kernel log since a mark: dsw_mark; ...; dsw_log_since
dsw_mark() {
	DSW_MARK=$(dmesg | wc -l)
}

dsw_log_since() {
	dmesg | tail -n +$((DSW_MARK + 1))
}
