#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs last: the kernel is untainted but for O (out-of-tree) and E
# (unsigned module), and nothing warned, oopsed or leaked the module.
# On a kernel with the checkers (the debug tier): no report of KASAN,
# lockdep, RCU, debugobjects or the DMA-API checks, a DMA-API error count
# of 0, and no kmemleak report once the modules are unloaded.
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh

DBG=/sys/kernel/debug

ktap_begin
t=$(cat /proc/sys/kernel/tainted)
# O = 4096, E = 8192.
[ $((t & ~(4096 | 8192))) -eq 0 ] && ktap_ok "taint $t: nothing beyond O and E" ||
	ktap_fail "taint $t: nothing beyond O and E"
# lib/kernel-bad.txt: the reports the host's judge also looks for.
bad=$(dmesg | grep -E -f lib/kernel-bad.txt | head -n 5)
[ -z "$bad" ] && ktap_ok "kernel log free of warnings, oopses, traces and checker reports" ||
	ktap_fail "kernel log free of warnings, oopses, traces and checker reports" "$bad"
dsw_unload
ktap_check "module unloads at the end" dsw_unload
for m in dynswiotlb_test dynswiotlb_bench; do
	[ -d /sys/module/$m ] && modprobe -r $m
done

if grep -qw 'dma_debug=off' /proc/cmdline; then
	ktap_skip "DMA-API debug: no error" "dma-debug is off on this boot (dma_debug=off)"
elif [ -r $DBG/dma-api/error_count ]; then
	n=$(cat $DBG/dma-api/error_count)
	[ "$n" = 0 ] && ktap_ok "DMA-API debug: no error (checked $(cat $DBG/dma-api/num_errors 2>/dev/null || echo ?) limit, $(cat $DBG/dma-api/num_free_entries) free entries)" ||
		ktap_fail "DMA-API debug: no error" "error_count $n; $(dmesg | grep 'DMA-API' | head -n 5)"
fi
if [ -w $DBG/kmemleak ]; then
	# two scans: an object is reported once it stays unreferenced
	echo scan >$DBG/kmemleak
	sleep 1
	echo scan >$DBG/kmemleak
	# (run_tests.sh cleared what the boot itself left)
	leaks=$(grep -c 'unreferenced object' $DBG/kmemleak)
	[ "$leaks" = 0 ] && ktap_ok "kmemleak after unload: no report" ||
		ktap_fail "kmemleak after unload: no report" "$leaks: $(head -n 40 $DBG/kmemleak)"
fi
ktap_end
