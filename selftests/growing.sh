#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The module next to a kernel pool that grows by itself (upstream's
# CONFIG_SWIOTLB_DYNAMIC: the lab kernel) and next to a fixed one
# (Debian's kernels), the same steps on both, with a 256 KiB static pool and
# every mapping bouncing (swiotlb=128,force), both disks attached with
# max_map_kb=2048:
#  0. without the module, the drivers are told 256 KiB at most (NVMe's
#     max_hw_sectors_kb, virtio-blk's max_segment_size): no kernel pool
#     maps more in one piece;
#  1. the module attaches, and says whether the kernel's pool grows (in
#     its attach line; the kernel's debugfs agrees); the drivers are now
#     told 1 MiB or more;
#  2. static-first, 8 parallel writers then readers in 128 KiB direct
#     requests (within swiotlb's limit), each its own fresh data,
#     checksummed: a growing pool takes them ("static" counts them,
#     io_tlb_nslabs grows past the boot's 128 slots) and the module less
#     than it, what the pool could not place at once; a fixed pool takes
#     some, stays 128 slots, and the module takes the overflow;
#  3. large single mappings: 1 MiB requests from huge pages (bigio) through
#     virtio-blk and NVMe reach each device as one mapping of 1 MiB: the
#     module's size histogram (debugfs sizes) counts them in [1 MiB, 2 MiB)
#     and the data comes back intact;
#  4. dynamic-only: the same 128 KiB I/O (new data) never goes to the shared
#     pool: the kernel's own counters (used high-water mark, size,
#     transient pools) do not move, checksums equal;
#  5. idle: the module's memory, having grown, goes back to what it held
#     at attach; the kernel's grown pool is measured (it never shrinks);
#  6. no failure, no "buffer is full" or I/O error in the log, nothing
#     live after the drivers are unbound, and the module unloads.
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh

V=$DSW_VIRTIO_BDF
N=$DSW_NVME_BDF
TLB=/sys/kernel/debug/swiotlb
JOBS=8
MIB=8
BIG_MIB=32

tlb() { cat "$TLB/$1" 2>/dev/null || echo 0; }
# one_kb BLK: the largest piece of one request the driver may map at once,
# KiB: NVMe caps its requests (max_hw_sectors_kb), virtio-blk its segments
# (max_segment_size), each by the DMA layer's largest mapping.
one_kb() {
	_hw=$(cat "/sys/block/$1/queue/max_hw_sectors_kb" 2>/dev/null || echo 0)
	_seg=$(($(cat "/sys/block/$1/queue/max_segment_size" 2>/dev/null || echo 0) >> 10))
	echo $((_hw < _seg ? _hw : _seg))
}

# io128k DEV: JOBS parallel writers of MIB MiB in 128 KiB direct requests,
# each its own region and its own fresh random data (so that a request
# landing in the wrong place, or a write that never reached the disk,
# shows), then as many readers; every region's checksum must be its
# writer's.
io128k() {
	_pids=
	for _j in $(seq 0 $((JOBS - 1))); do
		head -c $((MIB << 20)) /dev/urandom >/tmp/grow.$_j
		dd if=/tmp/grow.$_j of="$1" bs=128k count=$((MIB * 8)) \
			seek=$((_j * MIB * 8)) oflag=direct conv=notrunc 2>/dev/null &
		_pids="$_pids $!"
	done
	_rc=0
	for _p in $_pids; do wait "$_p" || _rc=1; done
	[ $_rc = 0 ] || return 1
	_pids=
	for _j in $(seq 0 $((JOBS - 1))); do
		( _want=$(sha256sum </tmp/grow.$_j | cut -d' ' -f1)
		  _got=$(dd if="$1" bs=128k count=$((MIB * 8)) skip=$((_j * MIB * 8)) \
			iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
		  [ "$_got" = "$_want" ] ) &
		_pids="$_pids $!"
	done
	for _p in $_pids; do wait "$_p" || _rc=1; done
	rm -f /tmp/grow.[0-9]*
	return $_rc
}

# pool_idle DEV BYTES: wait (up to shrink_delay_ms + 5 s) until DEV's pool
# holds BYTES or less.
pool_idle() {
	_d=$(cat "$DSW_SYSFS/devices/$1/shrink_delay_ms")
	_i=0
	while [ "$(dsw_stat "$1" pool_bytes)" -gt "$2" ] && [ $_i -lt $((_d / 100 + 50)) ]; do
		usleep 100000
		_i=$((_i + 1))
	done
	[ "$(dsw_stat "$1" pool_bytes)" -le "$2" ]
}

ktap_begin
dsw_unload
grows=0
dsw_swiotlb_grows && grows=1
n_boot=$(tlb io_tlb_nslabs)
[ "$n_boot" = 128 ] && ktap_ok "the kernel's pool at boot: 128 slots (swiotlb=128, debugfs)" ||
	ktap_fail "the kernel's pool at boot: 128 slots (swiotlb=128, debugfs)" "io_tlb_nslabs: $n_boot"
ktap_info "kernel pool at boot: $n_boot slots ($((n_boot * 2)) KiB), $([ $grows = 1 ] &&
	echo "growing by itself (debugfs io_tlb_transient_nslabs: CONFIG_SWIOTLB_DYNAMIC)" ||
	echo "fixed (no CONFIG_SWIOTLB_DYNAMIC)")"

# 0. The kernel's own limit, as the control.
dsw_load_drivers && dsw_wait_dev /dev/vda && dsw_wait_dev /dev/nvme0n1
kv=$(one_kb vda)
kn=$(one_kb nvme0n1)
[ "$kv" -gt 0 ] && [ "$kv" -le 256 ] && [ "$kn" -gt 0 ] && [ "$kn" -le 256 ] &&
	ktap_ok "without the module: virtio-blk maps $kv KiB at most, NVMe $kn (the kernel's swiotlb limit)" ||
	ktap_fail "without the module: the drivers are told 256 KiB at most" "vda $kv nvme0n1 $kn"
dsw_unbind_disks

# 1. Attach.
dsw_mark
if modprobe dynswiotlb devices="$V,$N" max_map_kb=2048 && dsw_load_drivers &&
		dsw_wait_dev /dev/vda && dsw_wait_dev /dev/nvme0n1; then
	ktap_ok "both disks attached (max_map_kb=2048), drivers bound"
else
	ktap_fail "both disks attached (max_map_kb=2048), drivers bound" "$(dsw_log_since)"
	ktap_end
fi
line=$(dsw_log_since | grep "dynswiotlb: $V: attached")
said=0
echo "$line" | grep -q 'growing by itself (CONFIG_SWIOTLB_DYNAMIC)' && said=1
[ -n "$line" ] && [ $said = $grows ] &&
	ktap_ok "the attach line says what the kernel's pool does: ${line#*attached }" ||
	ktap_fail "the attach line says whether the kernel's pool grows" \
		"debugfs says $grows: $line"
kv=$(one_kb vda)
kn=$(one_kb nvme0n1)
[ "$kv" -ge 1024 ] && [ "$kn" -ge 1024 ] &&
	ktap_ok "with the module: virtio-blk maps $kv KiB at most, NVMe $kn" ||
	ktap_fail "with the module: the drivers are told 1 MiB or more" "vda $kv nvme0n1 $kn"
sleep 1	# the work item keeps the chunk for the promised mapping size
p_attach=$(dsw_stat "$V" pool_bytes)

# 2. Static-first.
s0=$(dsw_stat "$V" static)
d0=$(dsw_stat "$V" dynamic)
io128k /dev/vda && ok=1 || ok=0
ds=$(($(dsw_stat "$V" static) - s0))
dd_=$(($(dsw_stat "$V" dynamic) - d0))
n_io=$(tlb io_tlb_nslabs)
what="$((JOBS * MIB)) MiB in 128 KiB requests: static +$ds, dynamic +$dd_, kernel pool $n_boot -> $n_io slots"
if [ $grows = 1 ]; then
	[ $ok = 1 ] && [ "$ds" -gt 0 ] && [ "$n_io" -gt "$n_boot" ] && [ "$dd_" -lt "$ds" ] &&
		ktap_ok "static-first on a growing pool: the kernel's pool takes most, and grows ($what)" ||
		ktap_fail "static-first on a growing pool: checksums, the kernel's pool grows and takes most" "ok=$ok $what"
else
	[ $ok = 1 ] && [ "$ds" -gt 0 ] && [ "$dd_" -gt 0 ] && [ "$n_io" = "$n_boot" ] &&
		ktap_ok "static-first on a fixed pool: the module takes the overflow ($what)" ||
		ktap_fail "static-first on a fixed pool: checksums, the module takes the overflow" "ok=$ok $what"
fi

# 3. Large single mappings, through both drivers.
echo always >/sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null
for blk in vda nvme0n1; do
	bdf=$V
	[ $blk = nvme0n1 ] && bdf=$N
	b0=$(dsw_sizes "$bdf" 1048576)
	b0=${b0:-0}
	f0=$(dsw_stat "$bdf" failures)
	out=$(./bigio /dev/$blk $BIG_MIB 1024 /tmp/grow.ready /tmp/grow.ready 2>&1)
	rc=$?
	rm -f /tmp/grow.ready
	b1=$(dsw_sizes "$bdf" 1048576)
	big=$((${b1:-0} - b0))
	fl=$(($(dsw_stat "$bdf" failures) - f0))
	# BIG_MIB requests each way, one at a time: each one mapping of 1 MiB
	[ $rc = 0 ] && [ "$big" -ge $((2 * BIG_MIB)) ] && [ "$fl" = 0 ] &&
		ktap_ok "$blk: $out; $big mappings of [1, 2) MiB" ||
		ktap_fail "$blk: 1 MiB requests arrive as one mapping each, data intact" \
			"rc=$rc $out; [1 MiB, 2 MiB) +$big, failures +$fl: $(tr '\n' ' ' <"$DSW_DEBUGFS/$bdf/sizes")"
done

# 4. Dynamic-only: never the shared pool, as the kernel sees it: its
# high-water mark of used slots (reset to what is in use now; 6.4+) and,
# growing, its size and transient pools do not move. Nothing else maps:
# NVMe is idle.
dsw_write "$DSW_SYSFS/devices/$V/mode" dynamic-only
s0=$(dsw_stat "$V" static)
d0=$(dsw_stat "$V" dynamic)
u0=$(tlb io_tlb_used)
hw=
[ -e "$TLB/io_tlb_used_hiwater" ] && echo 0 >"$TLB/io_tlb_used_hiwater" && hw=1
n0=$(tlb io_tlb_nslabs)
t0=$(tlb io_tlb_transient_nslabs)
io128k /dev/vda && ok=1 || ok=0
ds=$(($(dsw_stat "$V" static) - s0))
dd_=$(($(dsw_stat "$V" dynamic) - d0))
kern="kernel pool: used $u0, $([ -n "$hw" ] && echo "high-water $(tlb io_tlb_used_hiwater)" ||
	echo "no high-water mark (before 6.4)"), slots $n0 -> $(tlb io_tlb_nslabs), transient $t0 -> $(tlb io_tlb_transient_nslabs)"
untouched=1
[ -n "$hw" ] && [ "$(tlb io_tlb_used_hiwater)" -gt "$u0" ] && untouched=0
[ "$(tlb io_tlb_nslabs)" = "$n0" ] && [ "$(tlb io_tlb_transient_nslabs)" = "$t0" ] || untouched=0
[ $ok = 1 ] && [ "$ds" = 0 ] && [ "$dd_" -gt 0 ] && [ $untouched = 1 ] &&
	ktap_ok "dynamic-only: $((JOBS * MIB)) MiB in 128 KiB requests, all $dd_ mappings the module's ($kern)" ||
	ktap_fail "dynamic-only: checksums, no mapping in the kernel's pool" \
		"ok=$ok static +$ds dynamic +$dd_; $kern"
dsw_write "$DSW_SYSFS/devices/$V/mode" static-first

# 5. Idle memory, the module's (it must grow, then give back) and the
# kernel's (measured: it never shrinks).
peak=$(dsw_stat "$V" pool_bytes_hiwater)
pool_idle "$V" "$p_attach" && back=1 || back=0
idle=$(dsw_stat "$V" pool_bytes)
mem="module pool (virtio-blk): $((p_attach >> 10)) KiB at attach, peak $((peak >> 10)), idle $((idle >> 10)); kernel pool: $((n_boot * 2)) KiB at boot, $(($(tlb io_tlb_nslabs) * 2)) idle"
[ "$peak" -gt "$p_attach" ] && [ $back = 1 ] &&
	ktap_ok "idle: the module's memory back to what it held at attach ($mem)" ||
	ktap_fail "idle: the module's memory grew, then went back to what it held at attach" "$mem"

# 6. Clean.
fail=$(($(dsw_stat "$V" failures) + $(dsw_stat "$N" failures)))
bad=$(dsw_log_since | grep -Ei 'buffer is full|I/O error|DMA map failed|timed out')
[ "$fail" = 0 ] && [ -z "$bad" ] &&
	ktap_ok "no failed mapping, no full pool, I/O error or timeout in the log" ||
	ktap_fail "no failed mapping, full pool, I/O error or timeout" "failures $fail: $bad"
ktap_info "virtio-blk: $(dsw_stats "$V")"
ktap_info "NVMe: $(dsw_stats "$N")"
dsw_unbind_disks
live=$(($(dsw_stat "$V" live_buffers) + $(dsw_stat "$N" live_buffers)))
[ "$live" = 0 ] && ktap_ok "nothing live once the drivers are unbound" ||
	ktap_fail "nothing live once the drivers are unbound" "$live"
ktap_check "unloads" dsw_unload
ktap_end
