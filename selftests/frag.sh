#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Large single mappings once memory is fragmented. virtio-blk is attached
# with max_map_kb=4096 and 64 KiB chunks, so a request of 1 MiB or more,
# from a buffer in huge pages, is one mapping that needs a chunk of a high
# order. Then the test module leaves free memory in single pages that can
# never merge (dma_api --fragment), and bigio writes and reads back 64 MiB
# in 1 MiB direct requests: no chunk of that order can be allocated any
# more, by the map path or the work item. The I/O must complete (the module
# keeps one chunk for the largest mapping it told the driver it may make),
# or fail cleanly: virtio-blk requeues a failed mapping forever, so a
# module that cannot serve it hangs the disk (the watchdog then fails the
# boot).
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh

BDF=$DSW_VIRTIO_BDF
MIB=64
REQ_KB=1024

ktap_begin
dsw_unload
thp=/sys/kernel/mm/transparent_hugepage/enabled
[ -w $thp ] && echo always >$thp
# compaction must not undo the fragmentation with bigio's (locked) pages
echo 0 >/proc/sys/vm/compact_unevictable_allowed
if modprobe dynswiotlb devices="$BDF" max_map_kb=4096 chunk_kb=64 &&
		dsw_load_drivers && dsw_wait_dev /dev/vda &&
		modprobe dynswiotlb_test; then
	ktap_ok "virtio-blk attached with max_map_kb=4096, chunk_kb=64"
else
	ktap_fail "virtio-blk attached with max_map_kb=4096, chunk_kb=64"
	ktap_end
fi
seg=$(cat /sys/block/vda/queue/max_segment_size)
[ "$seg" -ge $((REQ_KB * 1024)) ] &&
	ktap_ok "the driver takes segments of $seg bytes" ||
	ktap_fail "the driver takes segments of ${REQ_KB} KiB" "max_segment_size $seg"
sleep 1	# the work item keeps the chunk for the promised size

rm -f /tmp/bigio.ready /tmp/bigio.go
./bigio /dev/vda $MIB $REQ_KB /tmp/bigio.ready /tmp/bigio.go >/tmp/bigio.out 2>&1 &
pid=$!
i=0
while [ ! -e /tmp/bigio.ready ] && [ $i -lt 600 ] && kill -0 $pid 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
if [ -e /tmp/bigio.ready ] && out=$(./dma_api --fragment 2>&1); then
	ktap_ok "buffers in huge pages, then memory fragmented: $out"
else
	ktap_fail "buffers in huge pages, then memory fragmented" "$out $(cat /tmp/bigio.out)"
fi
touch /tmp/bigio.go

i=0
while kill -0 $pid 2>/dev/null && [ $i -lt 1200 ]; do
	sleep 0.1
	i=$((i + 1))
done
if kill -0 $pid 2>/dev/null; then
	ktap_fail "I/O completes with memory fragmented" \
		"still running after 120 s: $(dsw_stats $BDF)"
	./dma_api --unfragment >/dev/null
	ktap_end
fi
wait $pid
rc=$?
[ $rc = 0 ] && ktap_ok "with memory fragmented: $(cat /tmp/bigio.out)" ||
	ktap_fail "I/O completes with memory fragmented" "rc=$rc $(cat /tmp/bigio.out)"
# Every mapping copies its bytes in once: bytes per dynamic mapping.
dyn=$(dsw_stat "$BDF" dynamic)
bytes=$(dsw_stat "$BDF" bytes_to_device)
avg=$((bytes / (dyn > 0 ? dyn : 1)))
[ "$dyn" -gt 0 ] && [ "$avg" -ge $((REQ_KB * 512)) ] &&
	ktap_ok "$dyn dynamic mappings of $avg bytes on average" ||
	ktap_fail "dynamic mappings of about ${REQ_KB} KiB each" \
		"$(dsw_stats $BDF)"
ktap_info "stats: $(for k in dynamic failures fail_nomem chunk_allocs pool_bytes; do
	printf '%s %s ' $k "$(dsw_stat "$BDF" $k)"; done)"
ktap_check "memory given back to the allocator" ./dma_api --unfragment
[ "$(dsw_stat "$BDF" live_buffers)" = 0 ] && ktap_ok "no live buffer left" ||
	ktap_fail "no live buffer left" "$(dsw_stats $BDF)"
dsw_unbind_disks
modprobe -r dynswiotlb_test
ktap_check "unloads" dsw_unload
ktap_end
