#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# SATA through the module: an ICH9 AHCI controller, attached before ahci
# probes, with a SATA disk; the static pool is 256 KiB (the "devices" boot
# profile). libata maps each command's scatterlist while it issues the
# command, with the port's lock held (atomic context), and the command
# lists and FIS areas are coherent allocations through the same ops.
# Parallel direct I/O, written and read back, checksums compared; the
# counters prove dynamic buffers carried it, none failed and none stays
# mapped. diskcontrol.sh is the same load without the module.
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh
. ./lib/disk.sh

JOBS=8
MIB=16		# per job: 8 x 16 MiB = 128 MiB

ktap_begin
dsw_unload
bdf=$(dsw_pci_find 0x8086 0x2922)	# ICH9 AHCI
if [ -z "$bdf" ]; then
	ktap_skip "SATA" "no AHCI controller (boot option sata: selftests/qemu/profiles)"
	ktap_end
fi
head -c $((MIB * 1048576)) /dev/urandom >/tmp/pattern
dsw_disk_class "SATA disk" "$bdf" ahci sd_mod
ktap_end
