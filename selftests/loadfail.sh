#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Loads that fail: nothing may be left installed, the devices keep working
# with their drivers, each refused load logs exactly one line of the
# module's saying why, and a later load works.
#
# With fault injection (the debug kernel; the others skip): the Nth slab
# or page allocation of the loading task (insmod: what modprobe runs once
# it has resolved the module) fails, for every N until a load gets through
# without one; with the kernel's stack trace filter, only those made by
# the module's init and what it calls.
# Selected: the test module's platform device with its driver bound, so
# that every step of the load can fail (parameters, registry, shims,
# reserve, sysfs, unbinding and rebinding a driver, the driver's probe),
# and virtio-blk without its driver (a PCI device's shim). Every load that
# survives its failure must work and unload, which needs the drivers of
# attached devices unbound: cheap for the test device, seconds of probing
# for a real disk on the debug kernel. Afterwards both disks must work.
# kmemleak, where present, is judged by the boot. (Fragmenting memory
# instead does not make the reserve fail reliably: compaction moves
# movable pages and finds it.)
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

# said_why N: since the line "loadfail.sh: load N" the module logged
# exactly one line of its own that is not one of the load's progress
# lines (devices selected, the kernel's taint line); it is added to
# /tmp/loadfail.why. (One dmesg and one awk: forks are what a round of
# this loop costs on the debug kernel.)
said_why() {
	dmesg | awk -v m="loadfail.sh: load $1" '
		f && / dynswiotlb: / && !/: selected \(|: not present; will attach|taint/ {
			sub(/^\[[^]]*\] /, ""); why = $0; n++
		}
		index($0, m) { f = 1 }
		END {
			if (n != 1) { print "lines: " n >"/dev/stderr"; exit 1 }
			print why >>"/tmp/loadfail.why"
		}'
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

# The Nth allocation of the loading task fails: /proc/self/fail-nth,
# set by the shell that then becomes insmod, counts every slab and page
# allocation that the failslab and fail_page_alloc filters let through.
# With the stack trace filter (the debug kernel has it) those are only
# the allocations made under do_one_initcall(): the module's init and
# everything it calls, drivers' probes included. The kernel's own
# reading, relocating and registering of the module file before it is not
# the module's to handle. Each kind's "times" (1, armed each round) says
# whether a fault was injected, and of which kind.
range_of() { # range_of SYMBOL: "0xSTART 0xEND" of a function in /proc/kallsyms
	awk -v f="$1" '$3 == f { a = $1; getline; print "0x" a, "0x" $1; exit }' /proc/kallsyms
}
init_lo='' init_hi='' leak_lo='' leak_hi=''
if [ -e $FI/failslab/require-start ]; then
	read -r init_lo init_hi <<EOT
$(range_of do_one_initcall)
EOT
	case "$init_lo" in 0x|0x0000000000000000) init_lo= ;; esac
	# kmemleak's own metadata (every tracked allocation makes one, and
	# kmemleak falls back to its pool when it fails): not the module's
	# allocations, and half of all N without this.
	read -r leak_lo leak_hi <<EOT
$(range_of __alloc_object)
EOT
	case "$leak_lo" in 0x|0x0000000000000000) leak_lo= ;; esac
fi
where="the module's init (do_one_initcall $init_lo-$init_hi)"
[ -n "$leak_lo" ] && where="$where other than kmemleak's own"
KINDS="failslab fail_page_alloc"

# setup: every kind counts the task's allocations under the filter; none
# fails otherwise (probability 0). arm: each kind may fail once.
setup() {
	for _k in $KINDS; do
		_d=$FI/$_k
		if [ -n "$init_lo" ]; then
			echo "$init_lo" >$_d/require-start
			echo "$init_hi" >$_d/require-end
			echo 32 >$_d/stacktrace-depth
		fi
		if [ -n "$leak_lo" ]; then
			echo "$leak_lo" >$_d/reject-start
			echo "$leak_hi" >$_d/reject-end
		fi
		echo 0 >$_d/probability
		echo 0 >$_d/verbose
		echo N >$_d/ignore-gfp-wait
		echo 0 >$_d/space
		[ -e $_d/min-order ] && echo 0 >$_d/min-order
	done
	return 0
}
arm() {
	for _k in $KINDS; do echo 1 >$FI/$_k/times; done
}

# A failed load waits for two RCU grace periods in the module loader
# (do_init_module(), free_module()). Expedited grace periods for the loop.
exp=
if [ -w /sys/kernel/rcu_expedited ]; then
	exp=$(cat /sys/kernel/rcu_expedited)
	echo 1 >/sys/kernel/rcu_expedited
fi
if [ ! -e /proc/self/fail-nth ] || [ ! -d $FI/failslab ] || [ ! -d $FI/fail_page_alloc ] ||
		[ -z "$init_lo" ]; then
	# (without the stack filter the faults would hit exec and the
	# module loader, which are not the module's to report)
	ktap_skip "failed loads at every allocation" "no fault injection with a stack trace filter in this kernel"
else
	dsw_unbind "$DSW_VIRTIO_BDF"
	n=1 failed=0 survived=0 slab=0 page=0 bad=
	: >/tmp/loadfail.why
	t0=$(cut -d. -f1 /proc/uptime)
	setup
	while [ $n -le $MAXN ]; do
		arm
		echo "loadfail.sh: load $n" >/dev/kmsg
		# shellcheck disable=SC2016
		lout=$(sh -c 'echo "$3" >/proc/self/fail-nth &&
			exec /usr/sbin/insmod "$0" devices="$1,$2"' \
			"$KO" "$TDEV" "$DSW_VIRTIO_BDF" "$n" 2>&1)
		rc=$?
		read -r left_slab <$FI/failslab/times
		read -r left_page <$FI/fail_page_alloc/times
		if [ "$left_slab" = 0 ]; then
			slab=$((slab + 1))
		elif [ "$left_page" = 0 ]; then
			page=$((page + 1))
		else
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
			why=$(said_why $n 2>&1) ||
				bad="$bad load $n refused without exactly one line of why ($why): $(dmesg | sed -n "/loadfail.sh: load $n\$/,\$p" | grep 'dynswiotlb: ');"
		else
			bad="$bad load $n failed but left something: $(ls /sys/kernel/dynswiotlb 2>&1);"
			unload_all
		fi
		n=$((n + 1))
	done
	# n > 1: at least one allocation was failed (no vacuous pass)
	[ -z "$bad" ] && [ $n -gt 1 ] && [ $n -le $MAXN ] &&
		ktap_ok "each of the $((n - 1)) allocations of $where failed in turn ($slab slab, $page page; $failed loads refused cleanly, $survived survived; $(($(cut -d. -f1 /proc/uptime) - t0)) s), then it loaded" ||
		ktap_fail "failed loads at every allocation" "n=$n$bad"
	sort /tmp/loadfail.why | uniq -c | sed "s/^ */# refused, said: /"
	unload_all
	dsw_probe "$DSW_VIRTIO_BDF"
	ktap_check "the disks still work without the module" disks_work
fi

[ -n "$exp" ] && echo "$exp" >/sys/kernel/rcu_expedited
dsw_unbind_disks
modprobe -r dynswiotlb_test
ktap_end
