#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh (make demo): the swiotlb-full stall and the module fixing it, on
# Debian 12's kernel under QEMU with a 256 KiB static pool:
#   boot 1: parallel 1 MiB direct writes to virtio-blk stall forever;
#   boot 2: the same with `modprobe dynswiotlb devices=<the disk>`:
#           completes, data verified, debugfs shows what the module did.
# The first run also sets up what the test harness needs (a bookworm
# chroot, the kernel, a DKMS build: about 3 minutes once).
set -uo pipefail
export DSW_RESULTS=${DSW_RESULTS:-$(cd "$(dirname "$0")/../.." && pwd)/results/demo}
. "$(dirname "$0")/lib.sh"
here=$(dirname "$0")
target=${DSW_DEMO_TARGET:-6.1}

step() {
	printf '\n== %s\n' "$*"
}

step "preparing: Debian kernel $target, module built by DKMS (cached after the first run)"
"$here/setup-host.sh" || exit 1
"$here/chroot.sh" "$(dsw_target_release "$target")" || exit 1
"$here/fetch-kernel.sh" "$target" >/dev/null || exit 1
abi=$(dsw_target_abi "$target")
mkdir -p "$DSW_RESULTS"
"$here/build.sh" "$target" >"$DSW_RESULTS/build.tap" ||
	{ cat "$DSW_RESULTS/build.tap"; exit 1; }
[ -f "$DSW_RESULTS/$target/dynswiotlb.ko" ] || { cat "$DSW_RESULTS/build.tap"; exit 1; }

start=$(date +%s)
for mode in without with; do
	if [ $mode = without ]; then
		step "boot 1: $abi, swiotlb=128,1,force, WITHOUT dynswiotlb"
	else
		step "boot 2: the same kernel and pool, WITH dynswiotlb"
	fi
	markers="$DSW_RESULTS/$target/demo-$mode.markers"
	rm -f "$markers"
	tail -n +1 -F "$markers" 2>/dev/null | grep --line-buffered '^demo:' &
	tailpid=$!
	DSW_DEMO=$mode DSW_SWIOTLB=128,1,force DSW_TIMEOUT=90 \
		"$here/boot.sh" "$target" "demo-$mode" >"$DSW_RESULTS/$target/demo-$mode.judge"
	sleep 2
	kill "$tailpid" 2>/dev/null
	wait "$tailpid" 2>/dev/null
done
step "done in $(( $(date +%s) - start ))s; console logs: $DSW_RESULTS/$target/demo-*.console"
if grep -q 'STALLED' "$DSW_RESULTS/$target/demo-without.markers" &&
		grep -q 'all 8 checksums match' "$DSW_RESULTS/$target/demo-with.markers"; then
	echo "demo: without the module the I/O stalled; with it, it completed and the data is intact"
else
	echo "demo: unexpected outcome, see the logs above"
	exit 1
fi
