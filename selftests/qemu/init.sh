#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# PID 1 of the test guests (busybox sh). Mounts the pseudo filesystems,
# arms a watchdog, runs the selftests, reports on the second serial port
# (/dev/ttyS1) and powers off.
#
# Kernel command line knobs:
#   dsw.timeout=SECONDS  guest watchdog (default 600)
#   dsw.tests=a,b        run only these selftests (default: all)
#   dsw.demo=MODE        run the demo (selftests/demo.sh MODE) instead
#   dsw.bench=MODE       run benchmarks (selftests/bench.sh MODE) instead
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
tests=
demo=
bench=
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	dsw.timeout=*) timeout=${arg#dsw.timeout=} ;;
	dsw.tests=*) tests=$(echo "${arg#dsw.tests=}" | tr , ' ') ;;
	dsw.demo=*) demo=${arg#dsw.demo=} ;;
	dsw.bench=*) bench=${arg#dsw.bench=} ;;
	esac
done

# Keep the marker port open for the whole run: closing a tty with output
# pending and reopening it has lost marker lines.
exec 3>/dev/ttyS1
marker() {
	echo "$*" >&3
}

# The watchdog: if the tests hang (D-state I/O, a stuck unload), dump what
# is blocked and the module's state, report, and power off.
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
if [ -n "$demo" ]; then
	echo 4 >/proc/sys/kernel/printk	# keep the demo's output readable
	./demo.sh "$demo" 2>&1 | tee /dev/ttyS1
elif [ -n "$bench" ]; then
	echo 4 >/proc/sys/kernel/printk
	./bench.sh "$bench" 2>&1 | tee /dev/ttyS1
else
	# KTAP goes to the console and, unspliced by printk, to the marker port.
	./run_tests.sh $tests 2>&1 | tee /dev/ttyS1
fi
kill $wd 2>/dev/null
marker "DSW-DONE"
sync
marker "DSW-POWEROFF"
# Let the UARTs drain: poweroff -f does not wait for the tty buffers.
sleep 1
poweroff -f
