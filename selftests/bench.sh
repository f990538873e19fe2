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
#   coco    a confidential guest's load and the module's memory over time
#           (bench_coco.sh, for bench/coco-mem.sh)
#   mapbench  static, dsw-pass and dsw-dyn judged twice in one boot: by
#           the kernel's own dma_map_benchmark tool (kernel-tool lines;
#           CONFIG_DMA_MAP_BENCHMARK, bench/mapbench.sh) and by dswbench,
#           under swiotlb=,force.
#
# Kernel command line: dsw.bench_ms=MS the length of one measurement
# (default 1000 ms); dsw.bench_sizes=A,B and dsw.bench_threads=A,B narrow
# the map matrix; dsw.bench_lookup=0 skips the lookup series;
# dsw.bench_rounds=N measures each cell N times (default 3), each round in
# another contender order; dsw.bench_accel=MODE is how the host runs the
# vCPUs (tcg-single, tcg-multi: recorded in BENCH-INFO).
cd "$(dirname "$0")" || exit 1
. ./lib/dsw.sh

MODE=${1:-map}
case "$MODE" in
io-*) exec ./bench_io.sh "$MODE" ;;	# real I/O, fio
esac
MS=1000
SIZES="4096 65536 262144 1048576"
THREADS="1 2 4"
DO_LOOKUP=1
ROUNDS=3
ROUND=1
ACCEL=unknown
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	dsw.bench_ms=*) MS=${arg#dsw.bench_ms=} ;;
	dsw.bench_sizes=*) SIZES=$(echo "${arg#*=}" | tr , ' ') ;;
	dsw.bench_threads=*) THREADS=$(echo "${arg#*=}" | tr , ' ') ;;
	dsw.bench_lookup=*) DO_LOOKUP=${arg#*=} ;;
	dsw.bench_rounds=*) ROUNDS=${arg#*=} ;;
	dsw.bench_accel=*) ACCEL=${arg#*=} ;;
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
		echo "BENCH round=$ROUND contender=$_c $_out"
	else
		echo "BENCH-ERR round=$ROUND contender=$_c $* : $_out"
	fi
}

# warm CONTENDER ARGS...: a short unrecorded run (pool growth, caches).
warm() {
	shift
	./dswbench "$@" --ms 100 >/dev/null 2>&1
}

set_mode() { # set_mode MODE [DEVICE]: the device's mode (default $BDEV's)
	_k=${2:+$DSW_SYSFS/devices/$2}
	_k=${_k:-$K}
	[ -d "$_k" ] && echo "$1" >"$_k/mode"
}

info() {
	echo "BENCH-INFO kernel=$(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo)" \
		"mem_kb=$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)" \
		"swiotlb_slabs=$(cat /sys/kernel/debug/swiotlb/io_tlb_nslabs 2>/dev/null)" \
		"ms=$MS rounds=$ROUNDS accel=$ACCEL mode=$MODE cmdline=$(cat /proc/cmdline | tr ' ' ',')"
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

# contender NAME ARGS...: one contender of the map matrix, warmed up and
# measured, with the module's mode it needs (and back to static-first).
contender() {
	_n=$1
	shift
	case "$_n" in
	memcpy) one memcpy memcpy "$@" ;;
	direct)
		warm direct map --dev ref --bits 64 "$@"
		one direct map --dev ref --bits 64 "$@"
		;;
	static)
		warm static map --dev ref --bits 32 "$@"
		one static map --dev ref --bits 32 "$@"
		;;
	dsw-pass)
		set_mode static-first
		warm dsw-pass map --dev dut --bits 32 "$@"
		one dsw-pass map --dev dut --bits 32 "$@"
		;;
	dsw-dyn)
		set_mode dynamic-only
		warm dsw-dyn map --dev dut --bits 32 "$@"
		_w0=$(cat $K/statistics/lock_contended 2>/dev/null)
		_n0=$(dsw_stat $BDEV dynamic)
		one dsw-dyn map --dev dut --bits 32 "$@"
		# how often the measurement's CPUs waited for each other
		# (modules before 0.2.0 do not count it)
		[ -n "$_w0" ] &&
			echo "BENCH-LOCK round=$ROUND $* dynamic=$(($(dsw_stat $BDEV dynamic) - _n0))" \
				"contended=$(($(cat $K/statistics/lock_contended) - _w0))" | sed 's/--\([a-z]*\) /\1=/g'
		set_mode static-first
		;;
	esac
}

# rotate N WORD...: the words, starting with the (N mod count)th.
rotate() {
	_k=$1
	shift
	_k=$((_k % $#))
	while [ "$_k" -gt 0 ]; do
		_w=$1
		shift
		set -- "$@" "$_w"
		_k=$((_k - 1))
	done
	echo "$@"
}

# matrix CELL CONTENDER...: every size x threads cell, ROUNDS times in a
# row, each round in another contender order (a slow spell of the
# emulator then falls on different contenders): CELL CONTENDER SIZE
# THREADS for each. Every line carries its round (ROUND), and the report
# takes ratios within a round.
matrix() {
	_cell=$1
	shift
	for size in $SIZES; do
		for t in $THREADS; do
			r=1
			while [ "$r" -le "$ROUNDS" ]; do
				ROUND=$r
				for c in $(rotate $((r - 1)) "$@"); do
					$_cell "$c" "$size" "$t"
				done
				r=$((r + 1))
			done
		done
	done
	ROUND=1
}

# map_cell CONTENDER SIZE THREADS: dswbench's measurement, bidirectional.
map_cell() {
	contender "$1" --size "$2" --threads "$3" --dir bidi
}

map_matrix() { # map_matrix WITH_MODULE(yes|no)
	if [ "$1" = yes ]; then
		matrix map_cell memcpy direct static dsw-pass dsw-dyn
	else
		matrix map_cell memcpy direct static
	fi
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

# mapbench_one ROUND CONTENDER DEVICE THREADS GRANULE: one run of the
# kernel's own dma_map_benchmark tool (/dma_map_benchmark, unmodified,
# from Debian's source: bench/mapbench.sh) on DEVICE, bound to the
# kernel's benchmark driver for the run (driver_override: its driver has
# no id table) and given back to dynswiotlb_test after it; one line of
# its averages and deviations (µs, 0.1 µs resolution).
mapbench_one() {
	_p=/sys/bus/platform
	_d=$3
	echo "$_d" >$_p/drivers/dynswiotlb_test/unbind &&
		echo dma_map_benchmark >$_p/devices/$_d/driver_override &&
		echo "$_d" >$_p/drivers/dma_map_benchmark/bind || {
		echo "BENCH-ERR round=$1 contender=$2 cannot bind $_d to dma_map_benchmark"
		return 1
	}
	if _out=$(/dma_map_benchmark -t "$4" -s "$MB_SECONDS" -g "$5" -d 0 -b 32 2>&1); then
		_v=$(echo "$_out" | sed -n 's/^average \([a-z]*\) latency(us):\([0-9.]*\) standard deviation:\([0-9.]*\)$/\1_us=\2 \1_sd=\3/p' | tr '\n' ' ')
		if [ -n "$_v" ]; then
			echo "BENCH round=$1 contender=$2 op=kernel-tool dev=$_d threads=$4 size=$(($5 * 4096)) seconds=$MB_SECONDS $_v"
		else
			echo "BENCH-ERR round=$1 contender=$2 dma_map_benchmark printed no averages: $_out"
		fi
	else
		echo "BENCH-ERR round=$1 contender=$2 dma_map_benchmark -t $4 -g $5: $_out"
	fi
	echo "$_d" >$_p/drivers/dma_map_benchmark/unbind
	echo >$_p/devices/$_d/driver_override
	echo "$_d" >$_p/drivers/dynswiotlb_test/bind
}

# mapbench_cell CONTENDER SIZE THREADS: the kernel's tool on static
# (dynswiotlb_test.1, never attached), dsw-pass and dsw-dyn
# (dynswiotlb_test.0, static-first and dynamic-only), then our own
# dswbench on the same contender (dynswiotlb_bench.*): map and unmap of
# bidirectional buffers with the 32-bit mask under swiotlb=,force, where
# every mapping bounces.
mapbench_cell() {
	case $1 in
	static) mapbench_one "$ROUND" static dynswiotlb_test.1 "$3" $(($2 / 4096)) ;;
	dsw-pass)
		set_mode static-first dynswiotlb_test.0
		mapbench_one "$ROUND" dsw-pass dynswiotlb_test.0 "$3" $(($2 / 4096))
		;;
	dsw-dyn)
		set_mode dynamic-only dynswiotlb_test.0
		mapbench_one "$ROUND" dsw-dyn dynswiotlb_test.0 "$3" $(($2 / 4096))
		set_mode static-first dynswiotlb_test.0
		;;
	esac
	map_cell "$@"
}

dsw_unload
case "$MODE" in
coco)	# a confidential guest's memory: its own script, after the setup line
	info
	exec ./bench_coco.sh
	;;
mapbench)
	MB_SECONDS=$(((MS + 999) / 1000))
	if [ ! -x /dma_map_benchmark ] || [ ! -d /sys/bus/platform/drivers/dma_map_benchmark ]; then
		echo "BENCH-ERR no /dma_map_benchmark or no dma_map_benchmark driver (CONFIG_DMA_MAP_BENCHMARK)"
		exit 1
	fi
	if ! modprobe dynswiotlb devices=$BDEV,dynswiotlb_test.0 || ! modprobe dynswiotlb_bench ||
			! modprobe dynswiotlb_test; then
		echo "BENCH-ERR cannot load dynswiotlb, dynswiotlb_bench and dynswiotlb_test"
		exit 1
	fi
	echo 60000 >"$K/shrink_delay_ms"
	echo 60000 >"$DSW_SYSFS/devices/dynswiotlb_test.0/shrink_delay_ms"
	info
	matrix mapbench_cell static dsw-pass dsw-dyn
	echo "BENCH-INFO dsw stats: $(dsw_stats $BDEV) | $(dsw_stats dynswiotlb_test.0)"
	modprobe -r dynswiotlb_test
	;;
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
