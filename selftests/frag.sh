#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Large single mappings once memory is fragmented. virtio-blk and NVMe are
# attached with max_map_kb=2048 and 64 KiB chunks, so a request of 1 MiB,
# from a buffer in huge pages, is one mapping that needs a chunk of a high
# order. Then the test module leaves free memory in single pages that can
# never merge (dma_api --fragment), and bigio writes and reads back 64 MiB
# per disk, both at once, in 1 MiB direct requests: no chunk of that order
# can be allocated any more, by the map path or the work item. The I/O must
# complete (the module keeps one chunk for the largest mapping it told the
# driver it may make), or fail cleanly: virtio-blk requeues a failed
# mapping forever, so a module that cannot serve it hangs the disk (the
# watchdog then fails the boot). Each disk's size histogram must show the
# 1 MiB mappings.
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh

MIB=64
REQ_KB=1024

ktap_begin
dsw_unload
thp=/sys/kernel/mm/transparent_hugepage/enabled
[ -w $thp ] && echo always >$thp
# compaction must not undo the fragmentation with bigio's (locked) pages
echo 0 >/proc/sys/vm/compact_unevictable_allowed
if modprobe dynswiotlb devices="$DSW_VIRTIO_BDF,$DSW_NVME_BDF" max_map_kb=2048 chunk_kb=64 &&
		dsw_load_drivers && dsw_wait_dev /dev/vda && dsw_wait_dev /dev/nvme0n1 &&
		modprobe dynswiotlb_test; then
	ktap_ok "virtio-blk and NVMe attached with max_map_kb=2048, chunk_kb=64"
else
	ktap_fail "virtio-blk and NVMe attached with max_map_kb=2048, chunk_kb=64"
	ktap_end
fi
for blk in vda nvme0n1; do
	seg=$(cat /sys/block/$blk/queue/max_segment_size)
	hw=$(cat /sys/block/$blk/queue/max_hw_sectors_kb)
	[ "$seg" -ge $((REQ_KB * 1024)) ] && [ "$hw" -ge $REQ_KB ] &&
		ktap_ok "$blk takes requests of $hw KiB in segments of up to $seg bytes" ||
		ktap_fail "$blk takes ${REQ_KB} KiB requests in one segment" \
			"max_segment_size $seg max_hw_sectors_kb $hw"
done
sleep 1	# the work item keeps the chunk for the promised size

b0v=$(dsw_sizes "$DSW_VIRTIO_BDF" 1048576)
b0n=$(dsw_sizes "$DSW_NVME_BDF" 1048576)
b0v=${b0v:-0}
b0n=${b0n:-0}
rm -f /tmp/bigio.*
pids=
for blk in vda nvme0n1; do
	./bigio /dev/$blk $MIB $REQ_KB /tmp/bigio.$blk.ready /tmp/bigio.go \
		>/tmp/bigio.$blk.out 2>&1 &
	pids="$pids $!"
done
i=0
while [ $i -lt 600 ] && { [ ! -e /tmp/bigio.vda.ready ] || [ ! -e /tmp/bigio.nvme0n1.ready ]; }; do
	sleep 0.1
	i=$((i + 1))
done
if [ -e /tmp/bigio.vda.ready ] && [ -e /tmp/bigio.nvme0n1.ready ] &&
		out=$(./dma_api --fragment 2>&1); then
	ktap_ok "buffers in huge pages, then memory fragmented: $out"
else
	ktap_fail "buffers in huge pages, then memory fragmented" \
		"$out $(cat /tmp/bigio.*.out)"
fi
touch /tmp/bigio.go

i=0
while [ $i -lt 1800 ]; do
	running=
	for p in $pids; do kill -0 $p 2>/dev/null && running=1; done
	[ -z "$running" ] && break
	sleep 0.1
	i=$((i + 1))
done
if [ -n "$running" ]; then
	ktap_fail "I/O completes with memory fragmented" \
		"still running after 180 s: $(dsw_stats $DSW_VIRTIO_BDF) / $(dsw_stats $DSW_NVME_BDF)"
	./dma_api --unfragment >/dev/null
	ktap_end
fi
set -- $pids
for blk in vda nvme0n1; do
	wait $1
	rc=$?
	shift
	[ $rc = 0 ] && ktap_ok "$blk with memory fragmented: $(cat /tmp/bigio.$blk.out)" ||
		ktap_fail "$blk: I/O completes with memory fragmented" "rc=$rc $(cat /tmp/bigio.$blk.out)"
done
# Every 1 MiB request (one at a time, each way) is one mapping of
# [1 MiB, 2 MiB).
for bdf in "$DSW_VIRTIO_BDF" "$DSW_NVME_BDF"; do
	b0=$b0v
	[ "$bdf" = "$DSW_NVME_BDF" ] && b0=$b0n
	b1=$(dsw_sizes "$bdf" 1048576)
	big=$((${b1:-0} - b0))
	[ "$big" -ge $((2 * MIB)) ] &&
		ktap_ok "$bdf: $big mappings of [1, 2) MiB ($(dsw_stat "$bdf" dynamic) dynamic in all)" ||
		ktap_fail "$bdf: the 1 MiB requests are single mappings" \
			"[1 MiB, 2 MiB) +$big: $(tr '\n' ' ' <"$DSW_DEBUGFS/$bdf/sizes")"
	ktap_info "$bdf: $(for k in dynamic failures fail_nomem chunk_allocs pool_bytes; do
		printf '%s %s ' $k "$(dsw_stat "$bdf" $k)"; done)"
done
ktap_check "memory given back to the allocator" ./dma_api --unfragment
live=$(($(dsw_stat "$DSW_VIRTIO_BDF" live_buffers) + $(dsw_stat "$DSW_NVME_BDF" live_buffers)))
[ "$live" = 0 ] && ktap_ok "no live buffer left" ||
	ktap_fail "no live buffer left" "$(dsw_stats $DSW_VIRTIO_BDF) / $(dsw_stats $DSW_NVME_BDF)"
dsw_unbind_disks
modprobe -r dynswiotlb_test
ktap_check "unloads" dsw_unload
ktap_end
