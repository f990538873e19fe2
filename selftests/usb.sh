#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# USB through the module: a qemu-xhci controller, attached before xhci_pci
# probes, with a USB mass-storage disk (bulk-only transport: usb-storage).
# usb-storage has one command in flight, which a 256 KiB static pool (the
# "devices" boot profile) can hold; what starves USB and SD disks in the
# field is another device holding the pool -- a wifi card's receive ring in
# kernel bugzilla 217310, an AX210 on a Raspberry Pi CM4 -- so e1000e,
# without the module, takes the whole pool first (dsw_net_hog), and every
# mapping of the disk's must go through the module's own buffers. The host
# controller driver maps each URB's scatterlist for the controller (the
# PCI function the module attaches); its rings, contexts and scratchpad
# are coherent allocations through the same ops. Parallel direct I/O,
# written and read back, checksums compared; the counters prove dynamic
# buffers carried it, none failed and none stays mapped. diskcontrol.sh is
# the same load without the module.
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh
. ./lib/net.sh
. ./lib/disk.sh

JOBS=4
MIB=16		# per job: 4 x 16 MiB = 64 MiB

ktap_begin
dsw_unload
bdf=$(dsw_pci_find 0x1b36 0x000d)	# qemu-xhci
if [ -z "$bdf" ] || [ -z "$DSW_E1000E_BDF" ]; then
	ktap_skip "USB" "no xHCI controller or e1000e (boot options usb, net: selftests/qemu/profiles)"
	ktap_end
fi
head -c $((MIB * 1048576)) /dev/urandom >/tmp/pattern
ktap_check "e1000e without the module holds the whole static pool" dsw_net_hog
DSW_DISK_LOG_IGNORE=$DSW_E1000E_BDF
dsw_disk_class "USB disk" "$bdf" xhci_pci usb_storage sd_mod
dsw_net_hog_end
ktap_end
