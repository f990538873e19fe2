#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mttcg-probe.sh [-n BOOTS] [-s SECONDS] [-w STRESSORS] [-q] TARGET...: is the kernel's
# int3-based text patching safe on this QEMU and TCG mode? Boots each
# TARGET's kernel BOOTS times (default 3) through boot.sh, with 2 vCPUs
# kept busy while trace events, schedstats, a kprobe, the function tracer
# and a module load/unload patch kernel text for SECONDS (default 120;
# guest side: mttcg-stress.sh; -w sched,kprobe picks some), and reports
# every oops on the console. A soft lockup panics (softlockup_panic=1): a
# vCPU looping on a stale int3 shows as one.
# -q: a quick boot instead (init runs /bin/true and powers off), to time a
# boot.
#
# The QEMU and mode are the target's (lib.sh, dsw_qemu) unless DSW_QEMU
# (host, trixie) and DSW_ACCEL (multi, single) say otherwise. Needs the
# module built for TARGET (build.sh, run here if missing). Results:
# $DSW_RESULTS/TARGET/probe-N.* (quick-N.*; default results/mttcg). Prints one line
# per boot and one summary per target; exits non-zero on any bad boot.
set -uo pipefail
export DSW_RESULTS=${DSW_RESULTS:-$(cd "$(dirname "$0")/../.." && pwd)/results/mttcg}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vm.sh"
here=$(cd "$(dirname "$0")" && pwd)

usage="usage: mttcg-probe.sh [-n BOOTS] [-s SECONDS] [-w STRESSORS] [-q] TARGET..."
boots=3 secs=120 quick= stressors=
while getopts n:s:w:q o; do
	case $o in
	n) boots=$OPTARG ;;
	s) secs=$OPTARG ;;
	w) stressors=,$OPTARG ;;
	q) quick=1 ;;
	*) dsw_die "$usage" ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || dsw_die "$usage"
export DSW_APPEND="softlockup_panic=1 ${DSW_APPEND:-}"

rc=0
for t in "$@"; do
	out=$DSW_RESULTS/$t
	mkdir -p "$out"
	if [ ! -f "$out/dynswiotlb.ko" ]; then
		dsw_log "probe $t: building the module (build.sh)"
		"$here/build.sh" "$t" >"$out/build.tap" 2>&1
		[ -f "$out/dynswiotlb.ko" ] || { cat "$out/build.tap"; dsw_die "probe $t: no module"; }
	fi
	dsw_qemu "$t"
	desc=$dsw_qemu_desc
	if [ -n "$quick" ]; then
		export DSW_SCRIPT=/bin/true DSW_TIMEOUT=120
		what="quick boot" name=quick
	else
		export DSW_SCRIPT=/mttcg-stress.sh DSW_ARGS=$secs$stressors DSW_TIMEOUT=$((secs + 120))
		export DSW_FILES="$here/mttcg-stress.sh:/mttcg-stress.sh"
		w=${stressors#,}
		what="$secs s of text patching (${w:-all})" name=probe
	fi
	bad=0 total=0 qtotal=0
	for i in $(seq 1 "$boots"); do
		p=$out/$name-$i
		rm -f "$p.console.first-attempt"
		t0=$(date +%s%N)
		DSW_TESTS= "$here/boot.sh" "$t" "$name-$i" >"$p.tap" 2>&1
		ms=$((($(date +%s%N) - t0) / 1000000))
		total=$((total + ms))
		# QEMU's own time (boot.sh's "# qemu: ..., ran N s" line).
		q=$(sed -n 's/^# qemu: .*, ran \([0-9.]*\) s$/\1/p' "$p.tap")
		qtotal=$(echo "${qtotal:-0} + ${q:-0}" | bc)
		oops=$(grep -m1 -E "$DSW_CONSOLE_BAD|int3" "$p.console" 2>/dev/null | tr -d '\r')
		tick=$(tr -d '\r' <"$p.markers" 2>/dev/null | sed -n 's/^PROBE-TICK //p' | tail -n1)
		counts=$(tr -d '\r' <"$p.markers" 2>/dev/null | sed -n 's/^PROBE-COUNT //p')
		if grep -q '^ok - boot' "$p.tap"; then
			echo "probe $t #$i: ok, QEMU ${q:-?} s (boot.sh $((ms / 1000)).$((ms % 1000 / 100)) s)${counts:+, flips: $counts}"
		else
			bad=$((bad + 1))
			echo "probe $t #$i: FAIL after $((ms / 1000)) s (guest uptime at the last tick: ${tick:-none}): ${oops:-$(sed -n '/^not ok - boot/{n;p;q}' "$p.tap")}"
		fi
		[ -f "$p.console.first-attempt" ] &&
			echo "probe $t #$i: the first attempt died before /init: $(grep -m1 -E "$DSW_CONSOLE_BAD|int3" "$p.console.first-attempt" | tr -d '\r')"
	done
	mean=$((total / boots))
	echo "probe $t: $desc, -smp ${DSW_SMP:-2}, $what: $boots boots, $bad bad, QEMU mean $(echo "scale=1; $qtotal / $boots" | bc) s, boot.sh mean $((mean / 1000)).$((mean % 1000 / 100)) s"
	[ $bad = 0 ] || rc=1
done
exit $rc
