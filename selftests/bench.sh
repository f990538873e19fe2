#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh MODE: the guest side of `make bench` (bench/run.sh boots a guest
# with dsw.bench=MODE). Prints one "BENCH key=value ..." line per
# measurement, "BENCH-INFO ..." about the setup and "BENCH-ERR ..." for a
# measurement that could not run; the host turns them into tables.
#
#   map     map/unmap latency and bounce bandwidth of the contenders, in
#           one boot, through dynswiotlb_bench.ko (guest with RAM above
#           4 GiB; a 32-bit DMA mask and buffers above it force bouncing):
#             direct   reference device, 64-bit mask: no bounce (the floor)
#             static   reference device, 32-bit mask: the kernel's swiotlb
#             dsw-pass dynswiotlb attached, static-first: the static pool
#                      through the module (its pass-through overhead)
#             dsw-dyn  dynswiotlb attached, dynamic-only: its own buffers
#                      (shrink_delay_ms=60000: the steady state, what
#                      the warm-up run grew stays for the measurement)
#             memcpy   the copies a bounce makes, nothing else
#           then lookup scaling: map/sync/unmap of one buffer with
#           1, 64, 4096 and 65536 other buffers live.
#   kernel  the same contenders without dynswiotlb (direct, static, memcpy
#           and the static lookup): for a kernel that grows its own pool.
#
# Kernel command line: dsw.bench_ms=MS the length of one measurement
# (default 1000 ms); dsw.bench_sizes=A,B and dsw.bench_threads=A,B narrow
# the map matrix; dsw.bench_lookup=0 skips the lookup series.
cd "$(dirname "$0")" || exit 1
. ./lib/dsw.sh

MODE=${1:-map}
case "$MODE" in io-*) exec ./bench_io.sh "$MODE" ;; esac	# real I/O, fio
MS=1000
SIZES="4096 65536 262144 1048576"
THREADS="1 2 4"
DO_LOOKUP=1
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	dsw.bench_ms=*) MS=${arg#dsw.bench_ms=} ;;
	dsw.bench_sizes=*) SIZES=$(echo "${arg#*=}" | tr , ' ') ;;
	dsw.bench_threads=*) THREADS=$(echo "${arg#*=}" | tr , ' ') ;;
	dsw.bench_lookup=*) DO_LOOKUP=${arg#*=} ;;
	esac
done
LIVE="1 64 4096 65536"
BDEV=dynswiotlb_bench.0
K=$DSW_SYSFS/devices/$BDEV

# one CONTENDER ARGS...: one measurement, one line.
one() {
	_c=$1
	shift
	if _out=$(./dswbench "$@" --ms "$MS" 2>&1); then
		echo "BENCH contender=$_c $_out"
	else
		echo "BENCH-ERR contender=$_c $* : $_out"
	fi
}

# warm CONTENDER ARGS...: a short unrecorded run (pool growth, caches).
warm() {
	shift
	./dswbench "$@" --ms 100 >/dev/null 2>&1
}

set_mode() {
	[ -d "$K" ] && echo "$1" >"$K/mode"
}

info() {
	echo "BENCH-INFO kernel=$(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo)" \
		"mem_kb=$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)" \
		"swiotlb_slabs=$(cat /sys/kernel/debug/swiotlb/io_tlb_nslabs 2>/dev/null)" \
		"ms=$MS mode=$MODE cmdline=$(cat /proc/cmdline | tr ' ' ',')"
}

# swiotlb_info WHEN: the kernel's swiotlb counters, summed over its pools
# (with SWIOTLB_DYNAMIC, io_tlb_nslabs counts the pools it added, which
# stay, and io_tlb_transient_nslabs the transient ones live now).
swiotlb_info() {
	_p="BENCH-INFO swiotlb=$1"
	for _f in io_tlb_nslabs io_tlb_transient_nslabs io_tlb_used io_tlb_used_hiwater; do
		_p="$_p $_f=$(cat /sys/kernel/debug/swiotlb/$_f 2>/dev/null || echo n/a)"
	done
	echo "$_p"
}

map_matrix() { # map_matrix WITH_MODULE(yes|no)
	for size in $SIZES; do
		for t in $THREADS; do
			a="--size $size --threads $t --dir bidi"
			one memcpy memcpy $a
			warm direct map --dev ref --bits 64 $a
			one direct map --dev ref --bits 64 $a
			warm static map --dev ref --bits 32 $a
			one static map --dev ref --bits 32 $a
			[ "$1" = yes ] || continue
			set_mode static-first
			warm dsw-pass map --dev dut --bits 32 $a
			one dsw-pass map --dev dut --bits 32 $a
			set_mode dynamic-only
			warm dsw-dyn map --dev dut --bits 32 $a
			one dsw-dyn map --dev dut --bits 32 $a
			set_mode static-first
		done
	done
}

lookup() { # lookup WITH_MODULE(yes|no)
	for n in $LIVE; do
		# a fixed 64 MiB static pool (2 KiB slots) holds 32768 mappings;
		# a kernel that grows its pool gets them all
		[ "$n" -le 16384 ] || [ "$1" = no ] &&
			one static lookup --dev ref --bits 32 --size 512 --dir to --live "$n"
		[ "$1" = yes ] || continue
		set_mode dynamic-only
		one dsw-dyn lookup --dev dut --bits 32 --size 512 --dir to --live "$n"
		set_mode static-first
	done
}

dsw_unload
case "$MODE" in
map)
	if ! modprobe dynswiotlb devices=$BDEV || ! modprobe dynswiotlb_bench; then
		echo "BENCH-ERR cannot load dynswiotlb with devices=$BDEV and the benchmark module"
		exit 1
	fi
	# Steady state: what the warm-up run grows serves the measurement
	# (growth and shrink-back are measured over time by bench_io.sh).
	echo 60000 >"$K/shrink_delay_ms"
	info
	map_matrix yes
	[ "$DO_LOOKUP" = 0 ] || lookup yes
	echo "BENCH-INFO dsw stats: $(dsw_stats $BDEV)"
	;;
kernel)
	if ! modprobe dynswiotlb_bench; then
		echo "BENCH-ERR cannot load the benchmark module"
		exit 1
	fi
	info
	swiotlb_info before
	map_matrix no
	swiotlb_info after-map
	lookup no
	swiotlb_info after
	;;
*)
	echo "BENCH-ERR unknown mode $MODE"
	exit 1
	;;
esac
modprobe -r dynswiotlb_bench
dsw_unload
echo "BENCH-DONE"
