#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# PID 1 of every harness guest (busybox sh): the selftest boots, the demo,
# the benchmarks, the lab boots and the probes. Mounts the pseudo
# filesystems, arms a watchdog, runs one script, reports on the second
# serial port (/dev/ttyS1) and powers off.
#
# Kernel command line knobs:
#   dsw.timeout=SECONDS  guest watchdog (default 600)
#   dsw.time_scale=N     a kernel N times slower: run_tests.sh's per-test
#                        timeout times N (DSW_TIME_SCALE)
#   dsw.script=PATH      the script to run (relative to /selftests, or
#                        absolute); default: run_tests.sh, the selftests
#   dsw.args=a,b         its arguments (commas become spaces)
#   dsw.tests=a,b        run_tests.sh's: only these selftests (default: all)
#   dsw.demo=MODE        the demo: demo.sh MODE, quieter console
#   dsw.bench=MODE       the benchmarks: bench.sh MODE, quieter console
# The script's output goes to the console and, unspliced by printk, to the
# marker port; DSW-BOOTED, DSW-DONE, DSW-WATCHDOG and DSW-POWEROFF are
# init's own lines there.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
mkdir -p /run && mount -t tmpfs tmpfs /run
echo 1 >/proc/sys/kernel/sysrq

timeout=600
script=./run_tests.sh
args=
tests=
quiet=
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	dsw.timeout=*) timeout=${arg#dsw.timeout=} ;;
	dsw.time_scale=*) export DSW_TIME_SCALE=${arg#dsw.time_scale=} ;;
	dsw.script=*) script=${arg#dsw.script=} ;;
	dsw.args=*) args=$(echo "${arg#dsw.args=}" | tr , ' ') ;;
	dsw.tests=*) tests=$(echo "${arg#dsw.tests=}" | tr , ' ') ;;
	dsw.demo=*) script=./demo.sh args=${arg#dsw.demo=} quiet=1 ;;
	dsw.bench=*) script=./bench.sh args=${arg#dsw.bench=} quiet=1 ;;
	esac
done
case "$script" in /*|./*) ;; *) script=./$script ;; esac	# not a PATH lookup
[ "$script" = ./run_tests.sh ] && [ -z "$args" ] && args=$tests

# Keep the marker port open for the whole run: closing a tty with output
# pending and reopening it has lost marker lines.
exec 3>/dev/ttyS1
marker() {
	echo "$*" >&3
}

# The watchdog: if the script hangs (D-state I/O, a stuck unload), dump
# what is blocked and the module's state, report, and power off.
(
	sleep "$timeout"
	marker "DSW-WATCHDOG after ${timeout}s"
	echo "=== watchdog: blocked tasks ==="
	echo w >/proc/sysrq-trigger
	sleep 1
	for f in /sys/kernel/debug/dynswiotlb/* /sys/kernel/debug/swiotlb/*; do
		[ -f "$f" ] && { echo "=== $f"; cat "$f"; }
	done
	ps
	marker "DSW-POWEROFF"
	sleep 1
	poweroff -f
) &
wd=$!

marker "DSW-BOOTED $(uname -r)"
cd /selftests
[ -n "$quiet" ] && echo 4 >/proc/sys/kernel/printk	# keep the output readable
# shellcheck disable=SC2086 # args are words
"$script" $args 2>&1 | tee /dev/ttyS1
kill $wd 2>/dev/null
marker "DSW-DONE"
sync
marker "DSW-POWEROFF"
# Let the UARTs drain: poweroff -f does not wait for the tty buffers.
sleep 1
poweroff -f
