#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# mttcg-stress.sh [SECONDS [STRESSOR...]]: the guest side of mttcg-probe.sh
# (run by init.sh: dsw.script=/mttcg-stress.sh dsw.args=SECONDS,...).
# For SECONDS (default 60) every vCPU is kept busy with pipe ping-pong
# (the scheduler runs constantly) while each STRESSOR patches kernel text
# in a loop of its own, by int3 (text_poke_bp / smp_text_poke):
#   sched       all sched:* trace events on and off (static keys in __schedule)
#   irq         all irq:* trace events on and off
#   schedstats  kernel.sched_schedstats on and off (a static key)
#   kprobe      a kprobe event on vfs_read added, enabled (and optimised),
#               disabled, removed
#   ftrace      the function tracer on vfs_read/ksys_read/schedule, on and off
#   module      dynswiotlb.ko loaded with its trace events on, then unloaded
#               (new module text, its static keys)
# Default: all of them. Prints PROBE-* lines (the marker port gets them);
# a stale int3 oopses, and oops=panic ends the boot.
secs=${1:-60}
shift 2>/dev/null
what=${*:-sched irq schedstats kprobe ftrace module}
T=/sys/kernel/tracing
mount -t tracefs tracefs $T 2>/dev/null
modprobe() { /usr/sbin/modprobe "$@"; }

end=$(($(cut -d. -f1 /proc/uptime) + secs))
running() { [ "$(cut -d. -f1 /proc/uptime)" -lt "$end" ]; }

# loop NAME CMD...: run CMD (a shell function) until the deadline, counting.
loop() {
	_name=$1 _n=0
	shift
	while running; do
		"$@" >/dev/null 2>&1
		_n=$((_n + 1))
	done
	echo "$_n" >/tmp/count.$_name
}
flip_sched() { echo 1 >$T/events/sched/enable; echo 0 >$T/events/sched/enable; }
flip_irq() { echo 1 >$T/events/irq/enable; echo 0 >$T/events/irq/enable; }
flip_schedstats() {
	echo 1 >/proc/sys/kernel/sched_schedstats
	echo 0 >/proc/sys/kernel/sched_schedstats
}
flip_kprobe() {
	echo 'p:dswprobe/read vfs_read' >>$T/kprobe_events &&
		echo 1 >$T/events/dswprobe/read/enable
	usleep 200000	# long enough for the optimiser to replace the int3 by a jump
	echo 0 >$T/events/dswprobe/read/enable
	echo '-:dswprobe/read' >>$T/kprobe_events
}
flip_ftrace() {
	printf 'vfs_read\nksys_read\nschedule\n' >$T/set_ftrace_filter
	echo function >$T/current_tracer
	echo nop >$T/current_tracer
}
flip_module() {
	modprobe dynswiotlb && echo 1 >$T/events/dynswiotlb/enable
	echo 0 >$T/events/dynswiotlb/enable
	modprobe -r dynswiotlb
}

ncpu=$(grep -c ^processor /proc/cpuinfo)
echo "PROBE-START $(uname -r) vcpus=$ncpu seconds=$secs stressors=$(echo $what | tr ' ' ,)"
# Busy vCPUs: one ping-pong pipeline per vCPU (busybox's read takes one
# byte per syscall: a wakeup and a context switch each).
busy=
for _c in $(seq 1 "$ncpu"); do
	(while running; do echo; done | while read -r _; do :; done) &
	busy="$busy $!"
done
pids=
for s in $what; do
	loop "$s" "flip_$s" &
	pids="$pids $!"
done
# A tick every 10 s: how far a boot got before it died.
while running; do
	sleep 10
	echo "PROBE-TICK $(cut -d' ' -f1 /proc/uptime)"
done
for p in $pids $busy; do wait "$p"; done
counts=
for s in $what; do counts="$counts $s=$(cat /tmp/count.$s 2>/dev/null || echo 0)"; done
echo "PROBE-COUNT$counts"
echo "PROBE-DONE"
