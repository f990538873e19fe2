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

# dsw_stat DEV KEY: one counter of an attached device (sysfs statistics/).
dsw_stat() {
	cat "$DSW_SYSFS/devices/$1/statistics/$2" 2>/dev/null
}

# dsw_sizes DEV FROM: dynamic mappings of DEV in the size histogram's
# bucket [FROM, 2 FROM) bytes (debugfs sizes), so far.
dsw_sizes() {
	awk -v f="$2" '$1 == f { print $3 }' "$DSW_DEBUGFS/$1/sizes" 2>/dev/null
}

# dsw_swiotlb_grows: the kernel's swiotlb grows by itself
# (CONFIG_SWIOTLB_DYNAMIC; its debugfs has io_tlb_transient_nslabs, 6.9+).
dsw_swiotlb_grows() {
	[ -e /sys/kernel/debug/swiotlb/io_tlb_transient_nslabs ]
}

# dsw_stats DEV: every counter of an attached device, "key value" on one
# line, for failure reports.
dsw_stats() {
	for _f in "$DSW_SYSFS/devices/$1/statistics/"*; do
		[ -f "$_f" ] && printf '%s %s ' "${_f##*/}" "$(cat "$_f")"
	done
	echo
}

# dsw_load_drivers: load the disk drivers the tests use (virtio_pci is
# built in on some kernels).
dsw_load_drivers() {
	modprobe virtio_pci 2>/dev/null
	modprobe virtio_blk && modprobe nvme || return 1
	dsw_probe "$DSW_VIRTIO_BDF"
	dsw_probe "$DSW_NVME_BDF"
}

# dsw_wait_dev PATH [SECONDS]: wait for a block device node to appear.
dsw_wait_dev() {
	_i=0
	while [ ! -b "$1" ] && [ $_i -lt $((${2:-20} * 10)) ]; do
		usleep 100000
		_i=$((_i + 1))
	done
	[ -b "$1" ]
}

# dsw_wait_gone BDF [SECONDS]: wait for a PCI device to leave the bus.
dsw_wait_gone() {
	_i=0
	while [ -e "/sys/bus/pci/devices/$1" ] && [ $_i -lt $((${2:-20} * 10)) ]; do
		usleep 100000
		_i=$((_i + 1))
	done
	[ ! -e "/sys/bus/pci/devices/$1" ]
}

# dsw_host VERB ID: ask the host to act on the machine, as a person at it
# would (selftests/qemu/vm.sh, dsw_vm_agent, through QEMU's monitor):
# "unplug ID" pulls the device QEMU knows as ID (vda, nvme0) out of its
# hot-plug slot (device_del: the guest is asked to eject it), "plug ID"
# puts it back (device_add). The host does not answer: wait for the effect.
# Fails without a host that listens (no dsw.host=1 on the command line:
# e.g. on a real machine).
dsw_host() {
	dsw_host_listens || return 1
	echo "DSW-HOST $1 $2" >/dev/ttyS1
}

# dsw_host_listens: the harness's host agent takes dsw_host requests.
dsw_host_listens() {
	grep -qw 'dsw.host=1' /proc/cmdline
}

# dsw_io_write DEV PATTERN JOBS MIB_PER_JOB: JOBS parallel direct writers,
# each writing the first MIB_PER_JOB MiB of PATTERN to its own region.
dsw_io_write() {
	_pids=
	for _j in $(seq 0 $(($3 - 1))); do
		dd if="$2" of="$1" bs=1M count="$4" seek=$((_j * $4)) \
			oflag=direct conv=notrunc 2>/dev/null &
		_pids="$_pids $!"
	done
	_rc=0
	for _p in $_pids; do wait "$_p" || _rc=1; done
	return $_rc
}

# dsw_io_verify DEV PATTERN JOBS MIB_PER_JOB: read every region back with
# direct I/O (in parallel) and compare its checksum with PATTERN's.
dsw_io_verify() {
	_want=$(head -c $(($4 * 1048576)) "$2" | sha256sum | cut -d' ' -f1)
	_pids=
	for _j in $(seq 0 $(($3 - 1))); do
		( _got=$(dd if="$1" bs=1M count="$4" skip=$((_j * $4)) \
			iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
		  [ "$_got" = "$_want" ] ) &
		_pids="$_pids $!"
	done
	_rc=0
	for _p in $_pids; do wait "$_p" || _rc=1; done
	return $_rc
}

# dsw_state NAME: the registry state of a selected device (debugfs).
dsw_state() {
	sed -n "s/^$1 \([a-z]*\).*/\1/p" "$DSW_DEBUGFS/devices" 2>/dev/null
}

# dsw_io BLK NAME: one KTAP result: JOBS x MIB MiB of /tmp/pattern written
# to BLK and read back with direct I/O (JOBS and MIB set by the test).
dsw_io() {
	if dsw_wait_dev "$1" && dsw_io_write "$1" /tmp/pattern "$JOBS" "$MIB" &&
			dsw_io_verify "$1" /tmp/pattern "$JOBS" "$MIB"; then
		ktap_ok "$2: $((JOBS * MIB)) MiB written and read back, checksums match"
	else
		ktap_fail "$2: $((JOBS * MIB)) MiB written and read back, checksums match"
	fi
}

DSW_SYSFS=/sys/kernel/dynswiotlb

# dsw_unbind BDF: unbind whatever driver is bound to a PCI device.
dsw_unbind() {
	[ -e "/sys/bus/pci/devices/$1/driver" ] &&
		echo "$1" >"/sys/bus/pci/devices/$1/driver/unbind"
	return 0
}

# dsw_unbind_disks: leave both disks without a driver (a bound driver would
# pin the module; virtio_pci is built in on 6.12 and later).
dsw_unbind_disks() {
	dsw_unbind "$DSW_VIRTIO_BDF"
	dsw_unbind "$DSW_NVME_BDF"
}

# dsw_probe BDF: let the PCI core bind a driver to an unbound device
# (virtio_pci is built in on 6.12+: unbinding it leaves the device idle).
dsw_probe() {
	[ -e "/sys/bus/pci/devices/$1/driver" ] ||
		echo "$1" >/sys/bus/pci/drivers_probe
	return 0
}

# dsw_write FILE VALUE: write VALUE (no newline added) to a sysfs file;
# prints the error (with its errno text) on failure. (busybox's printf
# does not report write errors; its echo does.)
dsw_write() {
	echo -n "$2" 2>&1 >"$1"
}

# dsw_attach_disks: load the module with both disks selected, then their
# drivers, and wait for the disks (KTAP results; ends the test if the load
# fails).
dsw_attach_disks() {
	if ! modprobe dynswiotlb devices="$DSW_VIRTIO_BDF,$DSW_NVME_BDF"; then
		ktap_fail "load with both disks selected"
		ktap_end
	fi
	ktap_ok "load with both disks selected"
	ktap_check "drivers load after the module" dsw_load_drivers
	ktap_check "virtio-blk disk appears" dsw_wait_dev /dev/vda
	ktap_check "NVMe disk appears" dsw_wait_dev /dev/nvme0n1
}

# dsw_load_refused ERRTEXT LOGRE ARG...: modprobe dynswiotlb ARG... must
# fail with ERRTEXT (e.g. "Invalid argument"), leave the module unloaded
# and log exactly one line of its own (the kernel's taint lines of a
# boot's first load aside) matching LOGRE. Prints that line (or, on
# failure, what happened, after unloading).
dsw_load_refused() {
	_err=$1
	_re=$2
	shift 2
	dsw_mark
	_out=$(modprobe dynswiotlb "$@" 2>&1)
	_rc=$?
	_ours=$(dsw_log_since | grep 'dynswiotlb: ' | grep -v 'taint')
	if [ $_rc -ne 0 ] && ! dsw_loaded && echo "$_out" | grep -q "$_err" &&
			[ "$(echo "$_ours" | grep -c .)" = 1 ] &&
			echo "$_ours" | grep -q "$_re"; then
		echo "$_ours" | sed 's/^\[[^]]*\] //'
		return 0
	fi
	echo "rc=$_rc $_out $(dsw_log_since)"
	dsw_unload
	return 1
}

# dsw_boot: which boot of the machine this is (1, or 2 after a reboot:
# the "reboot" boot option of selftests/qemu/profiles).
dsw_boot() {
	for _a in $(cat /proc/cmdline); do
		case "$_a" in dsw.boot=*) echo "${_a#dsw.boot=}"; return 0 ;; esac
	done
	echo 1
}

# dsw_keep PATH...: keep these files (under /etc) for the next boot, as a
# disk would: the host puts them back into that boot's initramfs
# (selftests/qemu/boot.sh, kept_files). A file that does not exist is
# skipped.
dsw_keep() {
	for _f in "$@"; do
		[ -f "$_f" ] || continue
		while IFS= read -r _l || [ -n "$_l" ]; do
			echo "DSW-KEEP $_f $_l"
		done <"$_f" >/dev/ttyS1
	done
}
