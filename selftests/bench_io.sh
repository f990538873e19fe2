#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# bench_io.sh MODE: the real-I/O part of `make bench` (bench/io.sh boots a
# guest with dsw.bench=MODE; bench.sh hands io-* modes to this script).
# fio (Debian's, from the host) on the virtio-blk disk (iommu_platform=on)
# and the NVMe disk, with swiotlb=...,force set by the host:
#
#   io-base     no module (the host gives a pool big enough for all the
#               data in flight): the baseline
#   io-dsw      dynswiotlb attached to both disks (the host gives a small
#               pool)
#   io-control  the small pool without the module: virtio-blk stalls on
#               requests larger than the pool, NVMe requeues; NVMe runs
#               first, a stall is detected and reported, the stalled
#               writers are left behind (init powers off regardless)
#   io-lab      no module, on a kernel that grows its own pool
#               (CONFIG_SWIOTLB_DYNAMIC: bench/lab-io.sh boots the lab
#               kernel with the small pool): transient pools per mapping
#               when the pools are full, freed at unmap, and pools added
#               by the kernel's worker, never freed. The samples read the
#               same swiotlb debugfs files (io_tlb_nslabs counts the added
#               pools, io_tlb_transient_nslabs the transient ones); the
#               mode fails on a kernel without them
#
# Per disk and shape, one fio write+verify job group: JOBS (4) jobs with
# DEPTH requests of BS in flight each write their own MIB MiB sequentially,
# then read them back checking every block's crc32c. Shapes (BSxDEPTH):
#   128x16  4 x 16 x 128 KiB = 8 MiB in flight; each request fits a
#           512 KiB pool
#   1024x4  4 x 4 x 1 MiB = 16 MiB in flight; a virtio-blk request (up to
#           1 MiB) may need more than a 512 KiB pool holds: without the
#           module it never maps and the disk stalls (NVMe splits at
#           swiotlb's 256 KiB limit and requeues)
# Then, except in io-control, a memory burst: both disks written at once
# (the last shape) for BURST_S seconds, then IDLE_S idle, sampled every
# 100 ms. Output, one line each:
#
#   BENCH-INFO key=value ...         the setup
#   BENCH-IO key=value ...           one fio job group (see write_verify)
#   BENCH-MEM t_ms=... ...           one memory sample (see sample)
#   BENCH-MEM-INFO key=value ...     the burst: its end, reserve, peaks
#   BENCH-ERR ...                    something that could not run
#   BENCH-DONE
#
# Kernel command line: dsw.io_mib=MiB per fio job (default 64),
# dsw.io_shapes=128x16,1024x4 (the default),
# dsw.io_runtime=cap on one job in seconds (default 120; io-control 30),
# dsw.io_stall=seconds without progress that make a stall (default 10),
# dsw.io_burst= and dsw.io_idle= (seconds, default 8 and 5), dsw.io_jobs=
# fio jobs per group (default 4; 2 in bench/io.sh's parallel mode).
cd "$(dirname "$0")" || exit 1
. ./lib/dsw.sh

MODE=${1:-io-base}
JOBS=4
SHAPES=128x16,1024x4
MIB=64
RUNTIME=120
STALL=10
BURST_S=8
IDLE_S=5
[ "$MODE" = io-control ] && RUNTIME=30
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	dsw.io_mib=*) MIB=${arg#dsw.io_mib=} ;;
	dsw.io_shapes=*) SHAPES=${arg#dsw.io_shapes=} ;;
	dsw.io_runtime=*) RUNTIME=${arg#dsw.io_runtime=} ;;
	dsw.io_stall=*) STALL=${arg#dsw.io_stall=} ;;
	dsw.io_burst=*) BURST_S=${arg#dsw.io_burst=} ;;
	dsw.io_idle=*) IDLE_S=${arg#dsw.io_idle=} ;;
	dsw.io_jobs=*) JOBS=${arg#dsw.io_jobs=} ;;
	esac
done
SWIOTLB=/sys/kernel/debug/swiotlb
SHAPES=$(echo "$SHAPES" | tr , ' ')
FIO="fio --output-format=json --ioengine=libaio --direct=1 --numjobs=$JOBS
	--group_reporting --continue_on_error=all"
W=/tmp/bench_io
mkdir -p $W

# now_ms: NOW = uptime in ms (10 ms steps), without a fork.
now_ms() {
	read -r _up _upidle </proc/uptime
	_cs=${_up#*.}
	NOW=$((${_up%.*} * 1000 + ${_cs#0} * 10))
}

# progress DEV: PROG = sectors read + written so far (completed I/O).
progress() {
	read -r _ri _rm PROG _rt _wi _wm _ws _rest </sys/block/$1/stat
	PROG=$((PROG + _ws))
}

# bdf DEV: the PCI device behind a disk.
bdf() {
	case "$1" in
	vda) echo "$DSW_VIRTIO_BDF" ;;
	*) echo "$DSW_NVME_BDF" ;;
	esac
}

# fio_fields JSON: the figures of fio's JSON report (one job group) as
# key=value: bytes, MB/s (10^6), IOPS and ms per direction, fio's first
# error (errno) and its count of errors (continue_on_error=all).
fio_fields() {
	awk '
	function num(x) { sub(/,$/, "", x); return x + 0 }
	{
		key = ""
		if (match($0, /^ *"[a-z_]+" : /)) {
			key = $1; gsub(/"/, "", key); val = $3
		}
		if (sec == "" && (key == "read" || key == "write") && val == "{") {
			sec = key; depth = 1; next
		}
		if (sec != "") {
			if (depth == 1 && (key == "io_bytes" || key == "bw_bytes" ||
					key == "iops" || key == "runtime"))
				v[sec, key] = num(val)
			line = $0
			depth += gsub(/\{/, "", line) - gsub(/\}/, "", line)
			if (depth <= 0) sec = ""
			next
		}
		if (key == "error" || key == "total_err") v[key] = num(val)
	}
	END {
		for (i = 1; i <= 2; i++) {
			d = i == 1 ? "write" : "read"
			printf "%s_bytes=%d %s_mb_s=%.1f %s_iops=%.0f %s_ms=%d ", d, v[d, "io_bytes"],
				d, v[d, "bw_bytes"] / 1e6, d, v[d, "iops"], d, v[d, "runtime"]
		}
		printf "error=%d total_err=%d\n", v["error"], v["total_err"]
	}' "$1"
}

# write_verify DEV BSxDEPTH: one fio job group on /dev/DEV, JOBS
# sequential writers of MIB MiB each (own regions) with DEPTH requests of
# BS KiB in flight, then the verify pass over all of it. Waits
# while the disk makes progress; a disk with none for STALL seconds is
# reported stalled and left behind (its writers are in D state). Prints one
# BENCH-IO line.
write_verify() {
	_dev=$1
	_bs=${2%x*}
	_qd=${2#*x}
	_f=$W/$_dev-$_bs
	_b=$(bdf "$_dev")
	_d0=
	rm -f "$_f".*
	if dsw_loaded && [ -d "$DSW_DEBUGFS/$_b" ]; then
		_d0=$(dsw_stat "$_b" dynamic)
		_s0=$(dsw_stat "$_b" static)
		_x0=$(dsw_stat "$_b" failures)
	fi
	dsw_mark
	# Detached from our output: a stalled fio never exits, and init's tee
	# would wait for it.
	( $FIO --name="$_dev" --filename=/dev/"$_dev" --bs=${_bs}k --iodepth="$_qd" \
		--rw=write --size=${MIB}M --offset_increment=${MIB}M --verify=crc32c \
		--do_verify=1 --runtime="$RUNTIME" >"$_f".json 2>"$_f".err
	  echo $? >"$_f".rc ) </dev/null >/dev/null 2>&1 &
	now_ms
	_t0=$NOW
	progress "$_dev"
	_p0=$PROG
	_last=$PROG
	_idle=0
	_outcome=done
	while [ ! -e "$_f".rc ]; do
		sleep 1
		progress "$_dev"
		if [ "$PROG" = "$_last" ]; then
			_idle=$((_idle + 1))
		else
			_idle=0
			_last=$PROG
		fi
		now_ms
		if [ $_idle -ge "$STALL" ]; then
			_outcome=stalled
			break
		fi
		if [ $((NOW - _t0)) -gt $(((RUNTIME + 60) * 1000)) ]; then
			_outcome=timeout
			break
		fi
	done
	now_ms
	_el=$((NOW - _t0))
	_full=$(dsw_log_since | grep -c 'swiotlb buffer is full')
	if [ $_outcome = done ]; then
		_rc=$(cat "$_f".rc)
		_fields=$(fio_fields "$_f".json)
	else
		_rc=none
		# Requests the driver holds, and those blk-mq holds back (its
		# dispatch lists: the driver refused them, here for want of
		# bounce memory).
		read -r _ir _iw </sys/block/"$_dev"/inflight
		_wait=$(cat /sys/kernel/debug/block/"$_dev"/hctx*/dispatch 2>/dev/null | wc -l)
		_fields="moved_mib=$(((_last - _p0) / 2048)) inflight=$((_ir + _iw)) waiting=$_wait"
		_fields="$_fields in_d_state=$(grep -l '^State:.*D' /proc/[0-9]*/status 2>/dev/null | wc -l)"
	fi
	# The verify pass read back everything written, with no error.
	_verify=incomplete
	_vfail=$(grep -c 'verify failed' "$_f".err 2>/dev/null)
	case " $_fields " in
	*" error=0 total_err=0 "*)
		_wb=${_fields#*write_bytes=}
		_rb=${_fields#*read_bytes=}
		[ "$_rc" = 0 ] && [ "$_vfail" = 0 ] && [ "${_wb%% *}" -gt 0 ] &&
			[ "${_wb%% *}" = "${_rb%% *}" ] && _verify=ok
		;;
	*" total_err="*)
		_verify=FAILED
		;;
	esac
	_dsw=
	if [ -n "${_d0:-}" ]; then
		_dsw="dsw_dynamic=$(($(dsw_stat "$_b" dynamic) - _d0))"
		_dsw="$_dsw dsw_static=$(($(dsw_stat "$_b" static) - _s0))"
		_dsw="$_dsw dsw_failures=$(($(dsw_stat "$_b" failures) - _x0))"
		_dsw="$_dsw dsw_pool_hiwater=$(dsw_stat "$_b" pool_bytes_hiwater)"
	fi
	# swiotlb's pools after the job: with CONFIG_SWIOTLB_DYNAMIC, what the
	# job made the kernel add (and keep).
	echo "BENCH-IO config=${MODE#io-} dev=$_dev job=write-verify outcome=$_outcome" \
		"bs_kb=$_bs iodepth=$_qd jobs=$JOBS inflight_kb=$((JOBS * _qd * _bs))" \
		"elapsed_ms=$_el fio_rc=$_rc verify=$_verify verify_failed=$_vfail" \
		"$_fields full_lines=$_full swiotlb_nslabs=$(cat $SWIOTLB/io_tlb_nslabs 2>/dev/null)" \
		"swiotlb_transient_nslabs=$(cat $SWIOTLB/io_tlb_transient_nslabs 2>/dev/null) $_dsw"
	[ -s "$_f".err ] && grep -v 'multiple writers may overwrite' "$_f".err |
		head -n 3 | sed "s/^/BENCH-INFO fio $_dev ${_bs}k: /"
	[ $_outcome = done ]
}

# sample T0: print one BENCH-MEM line, T0 being the burst's time origin.
# Builtins only (fork-free): it runs every 100 ms under TCG.
# pool_bytes, live_bytes: all of dynswiotlb's devices (debugfs summary;
# empty without the module); memfree_kb: /proc/meminfo; static_nslabs,
# static_used: swiotlb's debugfs (nslabs grows with CONFIG_SWIOTLB_DYNAMIC);
# transient_nslabs: its transient pools, where the kernel has them.
sample() {
	now_ms
	_ph=pre
	[ -e $W/burst.on ] && _ph=burst
	[ -e $W/burst.off ] && _ph=idle
	_pool=
	_live=
	if [ -r "$DSW_DEBUGFS/summary" ]; then
		while read -r _n _p _l _rest; do
			[ "$_n" = total ] || continue
			_pool=${_p#pool=}
			_live=${_l#live=*/}
		done <"$DSW_DEBUGFS/summary"
	fi
	while read -r _k _v _u; do
		[ "$_k" = MemFree: ] && break
	done </proc/meminfo
	_ns=
	_used=
	_tr=
	[ -r $SWIOTLB/io_tlb_nslabs ] && read -r _ns <$SWIOTLB/io_tlb_nslabs
	[ -r $SWIOTLB/io_tlb_used ] && read -r _used <$SWIOTLB/io_tlb_used
	[ -r $SWIOTLB/io_tlb_transient_nslabs ] && read -r _tr <$SWIOTLB/io_tlb_transient_nslabs
	echo "BENCH-MEM t_ms=$((NOW - $1)) phase=$_ph pool_bytes=$_pool live_bytes=$_live" \
		"memfree_kb=$_v static_nslabs=$_ns static_used=$_used transient_nslabs=$_tr"
}

# sampler T0: sample every 100 ms (on a fixed grid from T0) until
# $W/sampler.stop appears.
sampler() {
	_i=0
	while [ ! -e $W/sampler.stop ]; do
		sample "$1"
		_i=$((_i + 1))
		now_ms
		_next=$(($1 + _i * 100))
		[ $_next -gt $NOW ] && usleep $(((_next - NOW) * 1000))
	done
}

# dsw_sum stat KEY | knob KNOB: a debugfs counter or a policy knob summed
# over the attached disks (0 without the module).
dsw_sum() {
	_sum=0
	for _b in $DSW_VIRTIO_BDF $DSW_NVME_BDF; do
		[ -d "$DSW_DEBUGFS/$_b" ] || continue
		case "$1" in
		stat) _sum=$((_sum + $(dsw_stat "$_b" "$2"))) ;;
		knob) _sum=$((_sum + $(cat "$DSW_SYSFS/devices/$_b/$2"))) ;;
		esac
	done
	echo $_sum
}

# meminfo WHEN: where memory is, around the burst (MemFree moves with more
# than bounce buffers: fio's own memory, slab, per-CPU lists).
meminfo() {
	echo "BENCH-INFO meminfo $1 burst: $(grep -E \
		'^(MemFree|Buffers|Cached|Shmem|AnonPages|Slab|KernelStack|PageTables|VmallocUsed|Percpu):' \
		/proc/meminfo | tr -s ' ' | tr '\n' ' ')"
}

# burst BSxDEPTH: both disks written at once for BURST_S seconds (fio as
# in write_verify, time-based), then IDLE_S idle; samples all along, from
# 1 s before. BENCH-MEM-INFO gives the burst's end on the samples' clock.
burst() {
	rm -f $W/burst.* $W/sampler.stop
	for _b in $DSW_VIRTIO_BDF $DSW_NVME_BDF; do
		for _m in live_bytes_hiwater pool_bytes_hiwater; do
			_f=$DSW_SYSFS/devices/$_b/statistics/$_m
			[ -f "$_f" ] && echo 0 >"$_f"
		done
	done
	meminfo before
	now_ms
	_t0=$NOW
	sampler "$_t0" >$W/mem.log &
	_sp=$!
	sleep 1
	now_ms
	_on=$((NOW - _t0))
	touch $W/burst.on
	$FIO --bs=${1%x*}k --iodepth=${1#*x} --rw=write --size=${MIB}M \
		--offset_increment=${MIB}M --time_based --runtime="$BURST_S" \
		--name=vda --filename=/dev/vda \
		--name=nvme0n1 --filename=/dev/nvme0n1 </dev/null >$W/burst.json 2>$W/burst.err
	_rc=$?
	now_ms
	_off=$((NOW - _t0))
	touch $W/burst.off
	sleep "$IDLE_S"
	touch $W/sampler.stop
	wait $_sp
	cat $W/mem.log
	meminfo after
	echo "BENCH-MEM-INFO config=${MODE#io-} bs_kb=${1%x*} iodepth=${1#*x} jobs=$JOBS" \
		"burst_start_ms=$_on burst_end_ms=$_off" \
		"burst_s=$BURST_S idle_s=$IDLE_S fio_rc=$_rc $(fio_fields $W/burst.json)" \
		"reserve_high_kb=$(dsw_sum knob reserve_high_kb)" \
		"shrink_delay_ms=$(cat "$DSW_SYSFS/devices/$DSW_VIRTIO_BDF/shrink_delay_ms" 2>/dev/null)" \
		"pool_hiwater=$(dsw_sum stat pool_bytes_hiwater)" \
		"live_hiwater=$(dsw_sum stat live_bytes_hiwater)" \
		"static_used_hiwater=$(cat $SWIOTLB/io_tlb_used_hiwater 2>/dev/null)"
}

info() {
	_ns=$(cat $SWIOTLB/io_tlb_nslabs 2>/dev/null)
	echo "BENCH-INFO config=${MODE#io-} kernel=$(uname -r)" \
		"cpus=$(grep -c ^processor /proc/cpuinfo)" \
		"mem_kb=$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)" \
		"swiotlb_slabs=$_ns pool_kb=$((${_ns:-0} * 2))" \
		"jobs=$JOBS shapes=$(echo $SHAPES | tr ' ' ,) mib_per_job=$MIB" \
		"runtime_s=$RUNTIME stall_s=$STALL $(fio --version)"
}

dsw_unload
case "$MODE" in
io-dsw)
	if ! modprobe dynswiotlb devices="$DSW_VIRTIO_BDF,$DSW_NVME_BDF"; then
		echo "BENCH-ERR cannot load dynswiotlb devices=$DSW_VIRTIO_BDF,$DSW_NVME_BDF"
		exit 1
	fi
	;;
io-lab)
	if [ ! -r $SWIOTLB/io_tlb_transient_nslabs ]; then
		echo "BENCH-ERR io-lab: $(uname -r) does not grow its swiotlb" \
			"(no io_tlb_transient_nslabs: CONFIG_SWIOTLB_DYNAMIC=n)"
		exit 1
	fi
	;;
io-base|io-control)
	;;
*)
	echo "BENCH-ERR unknown mode $MODE"
	exit 1
	;;
esac
if ! dsw_load_drivers || ! dsw_wait_dev /dev/vda || ! dsw_wait_dev /dev/nvme0n1; then
	echo "BENCH-ERR the disks did not appear"
	exit 1
fi
if [ "$MODE" = io-dsw ]; then
	for _b in $DSW_VIRTIO_BDF $DSW_NVME_BDF; do
		if ! grep -qx "$_b attached" "$DSW_DEBUGFS/devices"; then
			echo "BENCH-ERR $_b not attached: $(cat "$DSW_DEBUGFS/devices")"
			exit 1
		fi
	done
fi
info
# NVMe first: a stalled virtio-blk would keep its share of the pool.
ok=yes
for dev in nvme0n1 vda; do
	for shape in $SHAPES; do
		write_verify $dev "$shape" || ok=no
	done
done
# The burst: the last shape, the largest requests.
if [ $MODE = io-control ]; then
	:
elif [ $ok = yes ]; then
	burst "$shape"
else
	echo "BENCH-ERR no memory burst: a fio job did not complete"
fi
echo "BENCH-DONE"
