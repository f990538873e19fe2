#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lab-bench.sh: the map/unmap benchmark (selftests/bench.sh kernel) on the
# lab kernel (bench/lab-kernel.sh), whose own CONFIG_SWIOTLB_DYNAMIC does
# the growing: contender (e) of the benchmark issue, next to the Debian
# kernels of bench/run.sh.
#   1. builds the lab kernel if it is not cached (instant when it is);
#   2. builds dynswiotlb_bench.ko against the lab tree with W=1 (a copy of
#      selftests/dsw_test and include/, as build.sh builds it for Debian's
#      kernels), which must be warning-free;
#   3. the harness's initramfs for the lab kernel (lab-lib.sh, lab_initrd:
#      busybox, kmod, the lab modules, dynswiotlb_bench.ko in extra/, the
#      installed selftests, init.sh as /init);
#   4. boots it as run.sh boots Debian's kernel for the map benchmark
#      (the same QEMU and TCG mode, 6 GiB, 4 vCPUs, the same disks and ports), but
#      with a small swiotlb pool, not forced (swiotlb=64), so that the
#      32-bit-mask "static" contender bounces through a pool that grows:
#      transient pools per mapping, and pools added by the kernel's worker;
#   5. writes the BENCH lines to $DSW_RESULTS/lab/bench-map.raw (the format
#      of run.sh's, for `bench/report.sh RESULTS lab`), judges the boot
#      (markers, BENCH-DONE, no panic/oops/BUG/WARNING on the console) and
#      prints the pool's growth (the BENCH-INFO swiotlb= lines).
#
# Environment: DSW_BENCH_MS (one measurement, default 1000), DSW_RESULTS
# (default results/bench), DSW_SWIOTLB (default 64: the kernel makes that
# 128 slabs per area, 512 with 4 vCPUs), DSW_TIMEOUT (guest watchdog,
# default 3000 s), DSW_LAB_VERSION, DSW_LAB_IMAGE (lab-lib.sh). Exits
# non-zero if the build or the boot failed.
set -uo pipefail
bench=$(cd "$(dirname "$0")" && pwd)
. "$bench/../selftests/qemu/lib.sh"
. "$bench/lab-lib.sh"
export DSW_RESULTS=${DSW_RESULTS:-$DSW_TOP/results/bench}
ms=${DSW_BENCH_MS:-1000}
timeout=${DSW_TIMEOUT:-3000}
start=$(date +%s)

lab_ready lab-bench.sh

# The build copy lives in the lab cache: lab-kernel.sh --module sees only
# the module's directory and the cache, and the Kbuild reaches ../../include.
work=$(mktemp -d "$DSW_CACHE/lab/bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src/selftests"
cp -r "$DSW_TOP/include" "$work/src/"
cp -r "$DSW_TOP/selftests/dsw_test" "$work/src/selftests/"
mdir="$work/src/selftests/dsw_test"
log="$out/build-test.log"
dsw_log "lab-bench: dynswiotlb_bench.ko against $krel (W=1)"
if ! "$bench/lab-kernel.sh" --module "$mdir" W=1 >"$log" 2>&1 ||
		grep -Eq 'warning:|error:' "$log" || [ ! -f "$mdir/dynswiotlb_bench.ko" ]; then
	sed 's/^/# /' "$log" | tail -n 30
	dsw_die "lab-bench: dynswiotlb_bench.ko does not build warning-free against $krel (log: $log)"
fi
cp "$mdir/dynswiotlb_bench.ko" "$out/"
# The Kbuild's feature probes as they came out for this tree.
probes=$(grep -o -- '-DDSW_T_[A-Z_]*' "$mdir/.dynswiotlb_bench.o.cmd" | sed 's/^-D//' | sort -u | tr '\n' ' ')

dsw_log "lab-bench: initramfs"
initrd="$out/bench-map.initrd.cpio.gz"
lab_initrd "$initrd" "$out/dynswiotlb_bench.ko"

# As boot.sh's command line for run.sh's map boot, but a small pool.
name="bench-map"
append="console=ttyS0 panic=-1 oops=panic panic_on_warn=1 rdinit=/init"
append+=" swiotlb=${DSW_SWIOTLB:-64} dsw.timeout=$timeout dsw.bench=kernel"
append+=" dsw.bench_ms=$ms ${DSW_APPEND:-}"
dsw_log "lab-bench: booting $krel ($ms ms per measurement, watchdog $timeout s)"
t0=$(date +%s)
DSW_MEM=6G DSW_SMP=4 lab_boot "$name" "$initrd" "$append" $((timeout + 120))
t1=$(date +%s)

grep -v '^DSW-' "$out/$name.markers" >"$out/$name.ktap" 2>/dev/null
grep '^BENCH' "$out/$name.ktap" >"$out/$name.raw"
lab_judge "$name" $((timeout + 120)) DSW-BOOTED DSW-DONE DSW-POWEROFF BENCH-DONE

# slabs WHEN: io_tlb_nslabs of the BENCH-INFO swiotlb=WHEN line.
slabs() {
	tr -d '\r' <"$out/$name.raw" | sed -n "s/^BENCH-INFO swiotlb=$1 io_tlb_nslabs=\([0-9]*\).*/\1/p"
}
{
	lab_boot_info "$name"
	echo "# dynswiotlb_bench.ko: W=1 clean; Kbuild probes: ${probes:-none}"
	tr -d '\r' <"$out/$name.raw" | grep -E '^BENCH-(INFO swiotlb=|ERR)' | sed 's/^/# /'
	echo "# the pool: $(slabs before) slabs at boot, $(slabs after-map) after the map" \
		"matrix, $(slabs after) after the lookup series (2 KiB each)"
	echo "# $(grep -c '^BENCH ' "$out/$name.raw") measurements; boot $((t1 - t0)) s, all $(($(date +%s) - start)) s"
	lab_verdict "$name"
} | tee "$out/$name.judge"
[ ${#problems[@]} -eq 0 ]
