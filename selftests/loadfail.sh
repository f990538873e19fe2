#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Loads that fail: nothing may be left installed, the devices keep working
# with their drivers, the load logs one line saying why, and a later load
# works.
#
# With fault injection (the debug kernel; the others skip): the Nth slab
# allocation, and then the Nth page allocation, of the loading task
# (insmod: what modprobe runs once it has resolved the module) fails, for
# every N until a load gets through without one; with the kernel's stack
# trace filter, only those made by the module's init and what it calls. Selected: the test
# module's platform device with its driver bound, so that every step of the
# load can fail (parameters, registry, shims, reserve, sysfs, unbinding and
# rebinding a driver, the driver's probe), and virtio-blk without its
# driver (a PCI device's shim). Every load that survives its failure must
# work and unload, which needs the drivers of attached devices unbound:
# cheap for the test device, seconds of probing for a real disk on the
# debug kernel, and about every other N is survived (kvmalloc's fallback,
# kmemleak's own metadata), so with the disks bound the loop took more
# than 20 minutes. Afterwards both disks must work. kmemleak, where
# present, is judged by the boot. (Fragmenting memory instead does not make
# the reserve fail reliably: compaction moves movable pages and finds it.)
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh

FI=/sys/kernel/debug
TDEV=dynswiotlb_test.0
TDRV=/sys/bus/platform/drivers/dynswiotlb_test
MAXN=${DSW_LOADFAIL_MAX:-400}

ktap_begin
dsw_unload
# The module's file: insmod, not modprobe, so that the faults hit the
# load rather than modprobe's reading of its indexes and configuration
# (which it survives, at a full load and unload each).
KO=$(modinfo -n dynswiotlb)
head -c 4194304 /dev/urandom >/tmp/pattern
ktap_check "disk drivers bound, module not loaded" dsw_load_drivers
dsw_wait_dev /dev/vda && dsw_wait_dev /dev/nvme0n1
ktap_check "test device bound to its driver" sh -c \
	"/usr/sbin/modprobe dynswiotlb_test && [ -e /sys/bus/platform/devices/$TDEV/driver ]"

# disks_work: both disks do checksummed direct I/O, with the kernel's ops.
disks_work() {
	for _b in /dev/vda /dev/nvme0n1; do
		dsw_wait_dev $_b && dsw_io_write $_b /tmp/pattern 1 4 &&
			dsw_io_verify $_b /tmp/pattern 1 4 || return 1
	done
}

# refused_cleanly RC: the load failed and left nothing behind.
refused_cleanly() {
	[ "$1" != 0 ] && ! dsw_loaded && [ ! -d /sys/kernel/dynswiotlb ] &&
		[ -e "/sys/bus/platform/devices/$TDEV/driver" ] &&
		[ -e "/sys/bus/pci/devices/$DSW_NVME_BDF/driver" ]
}

# unload_all: the module out, the test device's driver bound again.
unload_all() {
	[ -e "/sys/bus/platform/devices/$TDEV/driver" ] && echo $TDEV >$TDRV/unbind
	dsw_unbind "$DSW_VIRTIO_BDF"
	_rc=0
	dsw_unload || _rc=1
	[ -e "/sys/bus/platform/devices/$TDEV/driver" ] || echo $TDEV >$TDRV/bind
	return $_rc
}

# With the stack trace filter (the debug kernel has it) only allocations
# made under do_init_module() fail: the module's init and everything it
# calls, drivers' probes included. The kernel's own reading, relocating
# and registering of the module file before it (hundreds of allocations,
# most of them survived) is not the module's to handle.
init_lo= init_hi=
if [ -e $FI/failslab/require-start ]; then
	read -r init_lo init_hi <<EOT
$(awk '$3 == "do_init_module" { a = $1; getline; print "0x" a, "0x" $1; exit }' /proc/kallsyms)
EOT
	case "$init_lo" in 0x|0x0000000000000000) init_lo= ;; esac
fi
where="the load"
[ -n "$init_lo" ] && where="the module's init (do_init_module $init_lo-$init_hi)"

inject() { # inject KIND N: fail the Nth allocation of KIND by make-it-fail tasks
	_d=$FI/$1
	if [ -n "$init_lo" ]; then
		echo "$init_lo" >$_d/require-start
		echo "$init_hi" >$_d/require-end
		echo 32 >$_d/stacktrace-depth
	fi
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
	dsw_unbind "$DSW_VIRTIO_BDF"
	n=1 failed=0 survived=0 bad=
	t0=$(cut -d. -f1 /proc/uptime)
	while [ $n -le $MAXN ]; do
		inject $kind $n
		# shellcheck disable=SC2016
		lout=$(sh -c 'echo 1 >/proc/self/make-it-fail &&
			exec /usr/sbin/insmod "$0" devices="$1,$2"' \
			"$KO" "$TDEV" "$DSW_VIRTIO_BDF" 2>&1)
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
			survived=$((survived + 1))
			dsw_loaded || bad="$bad load $n: rc 0 but not loaded;"
			unload_all || bad="$bad load $n: no unload;"
		elif refused_cleanly $rc; then
			failed=$((failed + 1))
		else
			bad="$bad load $n failed but left something: $(ls /sys/kernel/dynswiotlb 2>&1);"
			unload_all
		fi
		n=$((n + 1))
	done
	# n > 1: at least one allocation was failed (no vacuous pass)
	[ -z "$bad" ] && [ $n -gt 1 ] && [ $n -le $MAXN ] &&
		ktap_ok "$kind: $((n - 1)) allocations of $where failed in turn ($failed loads refused cleanly, $survived survived; $(($(cut -d. -f1 /proc/uptime) - t0)) s), then it loaded" ||
		ktap_fail "$kind: failed loads at every allocation" "n=$n$bad"
	unload_all
	dsw_probe "$DSW_VIRTIO_BDF"
	ktap_check "$kind: the disks still work without the module" disks_work
done

dsw_unbind_disks
modprobe -r dynswiotlb_test
ktap_end
