#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# run_tests.sh [TEST...]: run the installed selftests (all of tests.list,
# or the ones named) in the style of kselftest's runner: one nested KTAP
# block per test, a per-test timeout from ./settings (times
# DSW_TIME_SCALE, for a slow kernel: the debug tier), exit code 4 = skip;
# each test's duration as a "# time:" line.
cd "$(dirname "$0")" || exit 1
timeout=$(sed -n 's/^timeout=//p' settings 2>/dev/null)
timeout=$((${timeout:-300} * ${DSW_TIME_SCALE:-1}))

if [ $# -gt 0 ]; then
	tests="$*"
else
	tests=$(cat tests.list)
fi

# kmemleak (the debug tier): forget what the boot left, so that taint.sh
# sees only what the tests leaked.
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	echo clear >/sys/kernel/debug/kmemleak
fi

n=0
for t in $tests; do n=$((n + 1)); done
echo "KTAP version 1"
echo "1..$n"
i=0
fail=0
for t in $tests; do
	i=$((i + 1))
	echo "# selftests: dynswiotlb: $t"
	if [ ! -x "./$t" ]; then
		echo "not ok $i selftests: dynswiotlb: $t # not installed"
		fail=1
		continue
	fi
	# Stream the nested output while keeping the test's exit code.
	fifo=/tmp/.ktap.$$
	rm -f "$fifo"
	mkfifo "$fifo"
	sed 's/^/    /' <"$fifo" &
	t0=$(cut -d' ' -f1 /proc/uptime)
	timeout "$timeout" "./$t" >"$fifo" 2>&1
	rc=$?
	wait
	rm -f "$fifo"
	echo "# time: $t $(awk -v t0="$t0" '{ printf "%.1f", $1 - t0 }' /proc/uptime) s"
	case $rc in
	0) echo "ok $i selftests: dynswiotlb: $t" ;;
	4) echo "ok $i selftests: dynswiotlb: $t # SKIP" ;;
	124|143) echo "not ok $i selftests: dynswiotlb: $t # TIMEOUT ${timeout}s"; fail=1 ;;
	*) echo "not ok $i selftests: dynswiotlb: $t # exit=$rc"; fail=1 ;;
	esac
done
exit $fail
