#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Loads that fail: nothing may be left installed, the devices keep working
# with their drivers, the load logs one line saying why, and a later load
# works.
#
# With fault injection (the debug kernel; the others skip): the Nth slab
# allocation, and then the Nth page allocation, of the loading task fails,
# for every N until the load gets through without one -- with both disks
# selected and their drivers bound, so failures hit the load at every step
# (parameters, registry, shims, reserve, sysfs, rebinding). kmemleak, where
# present, is judged by the boot. (Fragmenting memory instead does not make
# the reserve fail reliably: compaction moves movable pages and finds it.)
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh

FI=/sys/kernel/debug
MAXN=${DSW_LOADFAIL_MAX:-400}

ktap_begin
dsw_unload
head -c 4194304 /dev/urandom >/tmp/pattern
ktap_check "disk drivers bound, module not loaded" dsw_load_drivers
dsw_wait_dev /dev/vda && dsw_wait_dev /dev/nvme0n1

# disks_work: both disks do checksummed direct I/O, with the kernel's ops.
disks_work() {
	for _b in /dev/vda /dev/nvme0n1; do
		dsw_wait_dev $_b && dsw_io_write $_b /tmp/pattern 1 4 &&
			dsw_io_verify $_b /tmp/pattern 1 4 || return 1
	done
}

# refused_cleanly RC OUTPUT: the load failed and left nothing behind.
refused_cleanly() {
	[ "$1" != 0 ] && ! dsw_loaded && [ ! -d /sys/kernel/dynswiotlb ] &&
		[ -e "/sys/bus/pci/devices/$DSW_VIRTIO_BDF/driver" ] &&
		[ -e "/sys/bus/pci/devices/$DSW_NVME_BDF/driver" ]
}

inject() { # inject KIND N: fail the Nth allocation of KIND by make-it-fail tasks
	_d=$FI/$1
	echo 0 >$_d/verbose
	echo N >$_d/ignore-gfp-wait
	echo Y >$_d/task-filter
	echo 100 >$_d/probability
	echo "$2" >$_d/interval
	echo 1 >$_d/times
	echo 0 >$_d/space
	[ -e $_d/min-order ] && echo 0 >$_d/min-order
	return 0
}
for kind in failslab fail_page_alloc; do
	if [ ! -d $FI/$kind ]; then
		ktap_skip "$kind: failed loads at every allocation" "no fault injection in this kernel"
		continue
	fi
	n=1 failed=0 bad=
	while [ $n -le $MAXN ]; do
		inject $kind $n
		# shellcheck disable=SC2016
		lout=$(sh -c 'echo 1 >/proc/self/make-it-fail &&
			exec /usr/sbin/modprobe dynswiotlb devices="$0,$1"' \
			"$DSW_VIRTIO_BDF" "$DSW_NVME_BDF" 2>&1)
		rc=$?
		left=$(cat $FI/$kind/times)
		echo 0 >$FI/$kind/probability
		if [ "$left" = 1 ]; then
			# no allocation failed: the whole load ran
			[ $rc = 0 ] || bad="$bad load $n failed without a fault: $lout;"
			break
		fi
		if [ $rc = 0 ]; then
			# a failure it survived: it must work and unload
			dsw_loaded || bad="$bad load $n: rc 0 but not loaded;"
			dsw_unbind_disks
			dsw_unload || bad="$bad load $n: no unload;"
			dsw_probe "$DSW_VIRTIO_BDF"
			dsw_probe "$DSW_NVME_BDF"
		elif refused_cleanly $rc; then
			failed=$((failed + 1))
		else
			bad="$bad load $n failed but left something: $(ls /sys/kernel/dynswiotlb 2>&1);"
			dsw_unbind_disks
			dsw_unload
			dsw_probe "$DSW_VIRTIO_BDF"
			dsw_probe "$DSW_NVME_BDF"
		fi
		n=$((n + 1))
	done
	[ -z "$bad" ] && [ $n -le $MAXN ] &&
		ktap_ok "$kind: $((n - 1)) allocations of the load failed in turn ($failed loads refused cleanly), then it loaded" ||
		ktap_fail "$kind: failed loads at every allocation" "n=$n$bad"
	dsw_unbind_disks
	dsw_unload
	dsw_probe "$DSW_VIRTIO_BDF"
	dsw_probe "$DSW_NVME_BDF"
	ktap_check "$kind: the disks still work without the module" disks_work
done

dsw_unbind_disks
ktap_end
