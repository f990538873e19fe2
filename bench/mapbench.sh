#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/mapbench.sh: the kernel's own DMA map benchmark as a second,
# independent judge of dynswiotlb's costs. One boot of the "mapbench"
# kernel (bench/lab-kernel.sh --flavour mapbench: Debian's
# linux-source-6.12 with CONFIG_DMA_MAP_BENCHMARK=y and without
# SWIOTLB_DYNAMIC, so the static pool is the fixed one Debian ships; built
# once, ~6 min, cached) under swiotlb=32768,force, where every mapping
# bounces:
#
#   1. builds the kernel's tool, tools/testing/selftests/dma/
#      dma_map_benchmark.c from the same source, unmodified and static
#      (the host's gcc; its header is include/linux/map_benchmark.h);
#   2. builds dynswiotlb.ko (the DKMS sources), dynswiotlb_test.ko and
#      dynswiotlb_bench.ko against the mapbench tree, W=1;
#   3. boots it (selftests/bench.sh mapbench), by default on
#      multi-threaded TCG with 2 vCPUs bound to the host's 2 CPUs
#      (DSW_MAPBENCH_ACCEL=single for the other mode): for each size and
#      thread count, DSW_BENCH_ROUNDS rounds (default 3) in rotated
#      orders, the kernel's tool bound in turn to dynswiotlb_test.1 (never
#      attached: the static pool), dynswiotlb_test.0 with mode
#      static-first (dsw-pass) and dynamic-only (dsw-dyn), each followed by
#      dswbench on the same contender;
#   4. writes the lines to $DSW_RESULTS/mapbench/bench-map.raw and judges
#      the boot; bench/report.sh RESULTS mapbench puts the two judges side
#      by side.
#
# Environment: DSW_BENCH_MS (one measurement, default 2000; the tool takes
# whole seconds), DSW_BENCH_ROUNDS, DSW_MAPBENCH_SIZES (default
# 4096,65536), DSW_MAPBENCH_THREADS (default 1,2), DSW_MAPBENCH_ACCEL
# (multi or single), DSW_RESULTS (default results/bench), DSW_TIMEOUT
# (guest watchdog, default 1500 s).
set -uo pipefail
bench=$(cd "$(dirname "$0")" && pwd)
# (before lib.sh, whose default is the test suite's results/)
export DSW_RESULTS=${DSW_RESULTS:-$(dirname "$bench")/results/bench}
. "$bench/../selftests/qemu/lib.sh"
. "$bench/lab-lib.sh"
ms=${DSW_BENCH_MS:-2000}
rounds=${DSW_BENCH_ROUNDS:-3}
accel=${DSW_MAPBENCH_ACCEL:-multi}
timeout=${DSW_TIMEOUT:-1500}
start=$(date +%s)

[ "$(id -u)" = 0 ] || dsw_die "mapbench.sh needs root (chroot, mount)"
"$DSW_TOP/selftests/qemu/setup-host.sh" || exit 1
"$DSW_TOP/selftests/qemu/chroot.sh" trixie >/dev/null || exit 1
out="$DSW_RESULTS/mapbench"
mkdir -p "$out"
"$bench/lab-kernel.sh" --flavour mapbench >"$out/lab-kernel.log" 2>&1 || {
	tail -n 20 "$out/lab-kernel.log"
	dsw_die "mapbench.sh: no mapbench kernel"
}
lab=$(cd "$DSW_CACHE/lab/mapbench-current" && pwd -P)
krel=$(cat "$lab/kernelrelease")
image="$lab/bzImage"
src="$(dirname "$lab")/linux-source-6.12"

work=$(mktemp -d "$DSW_CACHE/lab/mapbench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# 1. The kernel's tool, as its Makefile builds it (-I for the header),
# but static: the guest has no C library.
mkdir -p "$work/inc/linux"
cp "$src/include/linux/map_benchmark.h" "$work/inc/linux/"
gcc -static -O2 -Wall -I"$work/inc" -o "$out/dma_map_benchmark" \
	"$src/tools/testing/selftests/dma/dma_map_benchmark.c" >"$out/tool-build.log" 2>&1 ||
	{ cat "$out/tool-build.log"; dsw_die "mapbench.sh: the kernel's dma_map_benchmark does not build"; }

# 2. The modules, W=1 clean. The test modules' Kbuild reaches
# ../../include: they are built in a copy with the include tree beside.
make -s -C "$DSW_TOP" dkms-sources DEST="$work/dynswiotlb"
mkdir -p "$work/src/selftests"
cp -r "$DSW_TOP/include" "$work/src/"
cp -r "$DSW_TOP/selftests/dsw_test" "$work/src/selftests/"
for d in "$work/dynswiotlb" "$work/src/selftests/dsw_test"; do
	log="$out/build-$(basename "$d").log"
	if ! "$bench/lab-kernel.sh" --flavour mapbench --module "$d" W=1 >"$log" 2>&1 ||
			grep -Eq 'warning:|error:' "$log"; then
		sed 's/^/# /' "$log" | tail -n 30
		dsw_die "mapbench.sh: $(basename "$d") does not build warning-free against $krel (log: $log)"
	fi
done
kos=("$work/dynswiotlb/dynswiotlb.ko" "$work/src/selftests/dsw_test/dynswiotlb_test.ko"
	"$work/src/selftests/dsw_test/dynswiotlb_bench.ko")
cp "${kos[@]}" "$out/"

# 3. The boot.
initrd="$out/bench-map.initrd.cpio.gz"
lab_initrd --file "$out/dma_map_benchmark" /dma_map_benchmark "$initrd" "${kos[@]}"
name=bench-map
append="console=ttyS0 panic=-1 oops=panic panic_on_warn=1 rdinit=/init"
append+=" swiotlb=32768,force dsw.timeout=$timeout dsw.bench=mapbench dsw.bench_ms=$ms"
append+=" dsw.bench_rounds=$rounds dsw.bench_sizes=${DSW_MAPBENCH_SIZES:-4096,65536}"
append+=" dsw.bench_threads=${DSW_MAPBENCH_THREADS:-1,2} dsw.bench_accel=tcg-$accel"
# tsc=reliable: no TSC marked unstable, no static key flipped (run.sh)
append+=" tsc=reliable ${DSW_APPEND:-}"
dsw_log "mapbench: booting $krel ($accel-threaded TCG, $ms ms per measurement, $rounds rounds)"
t0=$(date +%s)
DSW_MEM=6G DSW_SMP=2 DSW_ACCEL=$accel DSW_PIN_VCPUS=1 \
	lab_boot "$name" "$initrd" "$append" $((timeout + 120))
t1=$(date +%s)

# 4. The lines and the verdict.
grep -v '^DSW-' "$out/$name.markers" | tr -d '\r' >"$out/$name.ktap" 2>/dev/null
grep '^BENCH' "$out/$name.ktap" >"$out/$name.raw"
lab_judge "$name" $((timeout + 120)) DSW-BOOTED DSW-DONE DSW-POWEROFF BENCH-DONE
# (lab_boot keeps what a retry said in $retried, not in a judge file)
[ -n "$retried" ] && [ "$accel" = multi ] &&
	problems+=("not a parallel measurement: the boot was retried ($retried)")
[ "$accel" = multi ] && [ "$(dsw_vm_pinned "$out/$name")" -lt 2 ] &&
	problems+=("not a parallel measurement: not every vCPU was bound to a host CPU ($out/$name.host)")
grep -q '^BENCH-ERR' "$out/$name.raw" &&
	problems+=("$(grep -c '^BENCH-ERR' "$out/$name.raw") measurements could not run (BENCH-ERR)")
{
	lab_boot_info "$name"
	echo "# the kernel's tool: $(gcc --version | head -n1), static, from $src"
	sed 's/^/# /' "$out/$name.host" 2>/dev/null | grep 'pin vCPU'
	grep '^BENCH-ERR' "$out/$name.raw" | sed 's/^/# /'
	echo "# $(grep -c 'op=kernel-tool' "$out/$name.raw") runs of the kernel's tool," \
		"$(grep -c '^BENCH .*op=map' "$out/$name.raw") of dswbench; boot $((t1 - t0)) s, all $(($(date +%s) - start)) s"
	lab_verdict "$name"
} | tee "$out/$name.judge"
[ ${#problems[@]} -eq 0 ]
