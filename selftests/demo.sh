#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of `make demo` (run by /init for dsw.demo=without|with):
# parallel 1 MiB direct writes to a virtio-blk disk behind a tiny static
# swiotlb pool, without the module (the stall) or with it (completes, data
# verified), then the module's debugfs view of the device.
cd "$(dirname "$0")" || exit 1
. ./lib/dsw.sh

JOBS=8
MIB=32
WAIT=15

say() {
	echo "demo: $*"
}

written_mib() {
	# field 7 of /sys/block/*/stat: sectors written
	echo $(( $(awk '{ print $7 }' /sys/block/vda/stat) / 2048 ))
}

say "static swiotlb pool: $(cat /sys/kernel/debug/swiotlb/io_tlb_nslabs) slabs x 2 KiB" \
	"($(( $(cat /sys/kernel/debug/swiotlb/io_tlb_nslabs) * 2 )) KiB)"
if [ "$1" = with ]; then
	say "modprobe dynswiotlb devices=$DSW_VIRTIO_BDF"
	modprobe dynswiotlb devices="$DSW_VIRTIO_BDF" || exit 1
	dmesg | grep 'dynswiotlb: ' | grep -v 'verification\|taints' | sed 's/^/demo:   /'
fi
say "loading virtio_blk"
dsw_load_drivers >/dev/null 2>&1
dsw_wait_dev /dev/vda || { say "no /dev/vda"; exit 1; }
head -c $((MIB * 1048576)) /dev/urandom >/tmp/pattern
dsw_mark
say "$JOBS parallel writers, dd bs=1M oflag=direct, $((JOBS * MIB)) MiB in all"
t0=$(date +%s)
( dsw_io_write /dev/vda /tmp/pattern $JOBS $MIB && echo ok >/tmp/done ||
	echo error >/tmp/done ) </dev/null >/dev/null 2>&1 &
i=0
while [ ! -e /tmp/done ] && [ $i -lt $WAIT ]; do
	sleep 3
	i=$((i + 3))
	say "  after ${i}s: $(written_mib) MiB written"
	if [ "$1" = with ] && [ ! -e /tmp/done ]; then
		say "  live dynamic buffers now: $(dsw_stat "$DSW_VIRTIO_BDF" live_buffers)," \
			"dynamic memory: $(( $(dsw_stat "$DSW_VIRTIO_BDF" pool_bytes) / 1024 )) KiB"
	fi
done
if [ "$1" = with ]; then
	while [ ! -e /tmp/done ]; do sleep 1; done
fi
full=$(dsw_log_since | grep -c 'swiotlb buffer is full')
if [ ! -e /tmp/done ]; then
	say "STALLED: $(written_mib) of $((JOBS * MIB)) MiB after ${WAIT}s," \
		"$(grep -l '^State:.*D' /proc/[0-9]*/status 2>/dev/null | wc -l) writers stuck in D state"
	say "kernel log: $full x \"swiotlb buffer is full\", e.g."
	dsw_log_since | grep -m1 'swiotlb buffer is full' | sed 's/^/demo:   /'
	say "(the writers never finish: virtio-blk retries forever; the guest is powered off)"
	exit 0
fi
say "all writers finished in $(( $(date +%s) - t0 ))s ($(cat /tmp/done));" \
	"kernel log: $full x \"swiotlb buffer is full\""
echo 3 >/proc/sys/vm/drop_caches
if dsw_io_verify /dev/vda /tmp/pattern $JOBS $MIB; then
	say "read back with direct I/O: all $JOBS checksums match"
else
	say "read back with direct I/O: CHECKSUM MISMATCH"
fi
say "debugfs: /sys/kernel/debug/dynswiotlb/devices"
sed 's/^/demo:   /' "$DSW_DEBUGFS/devices"
say "sysfs: /sys/kernel/dynswiotlb/devices/$DSW_VIRTIO_BDF/statistics/"
for f in "$DSW_SYSFS/devices/$DSW_VIRTIO_BDF/statistics/"*; do
	say "  ${f##*/} $(cat "$f")"
done
say "live dynamic buffers (buffers file): $(wc -l <"$DSW_DEBUGFS/$DSW_VIRTIO_BDF/buffers")"
sleep 2
say "after 2s idle the module has given memory back: pool_bytes" \
	"$(dsw_stat "$DSW_VIRTIO_BDF" pool_bytes) (its reserve)"
