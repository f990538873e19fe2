#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/run.sh (make bench): dynswiotlb against the kernel's own DMA paths,
# measured in one guest boot per kernel under QEMU/TCG, and reported as
# ratios to the kernel's static swiotlb (bench/report.sh).
#
#   1. map/unmap latency and bounce bandwidth, contenders direct, static,
#      dsw-pass, dsw-dyn and memcpy, 4 KiB..1 MiB, 1/2/4 threads, plus
#      lookup scaling (selftests/bench.sh map), on each DSW_BENCH_TARGETS
#      kernel (default 6.1 and 6.12);
#   2. real I/O with fio on virtio-blk and NVMe, a big static pool against
#      a small one with dynswiotlb (and without: the control), and bounce
#      memory over time (bench/io.sh), on each DSW_BENCH_TARGETS kernel;
#   3. when the lab kernel is built (bench/lab-kernel.sh, about 6 minutes,
#      cached; not built here), the same map benchmark without the module
#      on it, upstream's CONFIG_SWIOTLB_DYNAMIC growing from a 256 KiB pool
#      (bench/lab-bench.sh), compared with dynswiotlb on Debian's 6.12, and
#      its memory over time next to the module's (bench/lab-io.sh).
#
# Environment: DSW_BENCH_TARGETS (default "6.1 6.12"), DSW_BENCH_MS (one
# measurement, default 1000), DSW_RESULTS (default results/bench),
# DSW_BENCH_APPEND (guest command line, e.g. "dsw.bench_sizes=4096
# dsw.bench_threads=1 dsw.bench_lookup=0" for a quick look; see
# selftests/bench.sh).
# Results: $DSW_RESULTS/<target>/bench-*.{raw,console}, and the report in
# $DSW_RESULTS/report.txt with the CSVs next to it.
#
# The guests run single-threaded TCG, as the recorded figures of
# docs/performance.md were measured (make check runs 5.10 and 6.1 with
# parallel vCPUs); DSW_ACCEL=multi measures that instead.
set -uo pipefail
export DSW_ACCEL=${DSW_ACCEL:-single}
top=$(cd "$(dirname "$0")/.." && pwd)
export DSW_RESULTS=${DSW_RESULTS:-$top/results/bench}
q=$top/selftests/qemu
. "$q/lib.sh"
targets=${DSW_BENCH_TARGETS:-6.1 6.12}
ms=${DSW_BENCH_MS:-1000}
mkdir -p "$DSW_RESULTS"
start=$(date +%s)

"$q/setup-host.sh" || exit 1
rc=0
for t in $targets; do
	"$q/chroot.sh" "$(dsw_target_release "$t")" >/dev/null || exit 1
	"$q/fetch-kernel.sh" "$t" >/dev/null || exit 1
	"$q/build.sh" "$t" >"$DSW_RESULTS/build-$t.tap" ||
		{ cat "$DSW_RESULTS/build-$t.tap"; exit 1; }
	out=$DSW_RESULTS/$t
	echo "== $t: map/unmap contenders and lookup scaling ($ms ms per measurement)"
	# 6 GiB: memory above 4 GiB for the 32-bit-mask contenders; the
	# default 64 MiB static pool, not forced.
	DSW_BENCH=map DSW_SWIOTLB=32768 DSW_MEM=6G DSW_SMP=4 DSW_TIMEOUT=3000 \
		DSW_APPEND="dsw.bench_ms=$ms ${DSW_BENCH_APPEND:-}" \
		"$q/boot.sh" "$t" bench-map >"$out/bench-map.judge"
	grep '^BENCH' "$out/bench-map.ktap" >"$out/bench-map.raw"
	if ! grep -q '^ok - boot' "$out/bench-map.judge" ||
			! grep -q '^BENCH-DONE' "$out/bench-map.raw"; then
		echo "bench: $t: the benchmark boot failed:"
		tail -n 30 "$out/bench-map.judge"
		rc=1
	fi
	echo "== $t: real I/O with fio, bounce memory over time (bench/io.sh)"
	"$top/bench/io.sh" "$t" >"$out/bench-io.log" ||
		{ grep -A30 '^bench:' "$out/bench-io.log"; rc=1; }
done
# The lab kernel, if built: upstream's own growing swiotlb. One area of
# 128 slabs (swiotlb=64,1: the kernel rounds smaller pools up to 128 slabs
# per area), so that the matrix's mappings make it grow.
reported=$targets
if [ -s "$DSW_CACHE/lab/current/.ready" ]; then
	echo "== lab: upstream's CONFIG_SWIOTLB_DYNAMIC (bench/lab-bench.sh)"
	if DSW_SWIOTLB=${DSW_LAB_SWIOTLB:-64,1} DSW_BENCH_MS=$ms \
			"$top/bench/lab-bench.sh" >"$DSW_RESULTS/lab-bench.log" 2>&1; then
		reported="$reported lab"
	else
		tail -n 20 "$DSW_RESULTS/lab-bench.log"
		rc=1
	fi
	case " $targets " in
	*" 6.12 "*)
		if [ -x "$top/bench/lab-io.sh" ]; then
			echo "== lab: memory over time (bench/lab-io.sh)"
			"$top/bench/lab-io.sh" 6.12 >"$DSW_RESULTS/lab-io.log" 2>&1 ||
				{ tail -n 20 "$DSW_RESULTS/lab-io.log"; rc=1; }
		fi
		;;
	esac
else
	echo "== lab: no lab kernel built (bench/lab-kernel.sh builds it once, ~6 min): contender e skipped"
fi
"$top/bench/report.sh" "$DSW_RESULTS" $reported | tee "$DSW_RESULTS/report.txt"
for t in $targets; do
	cat "$DSW_RESULTS/$t/bench-io.md" 2>/dev/null ||
		echo "report: $DSW_RESULTS/$t/bench-io.md missing"
done | tee -a "$DSW_RESULTS/report.txt"
echo "bench: done in $(( $(date +%s) - start )) s; results in $DSW_RESULTS"
exit $rc
