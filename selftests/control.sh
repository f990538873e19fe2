#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The control for exhaust.sh: the same parallel direct I/O on the
# virtio-blk disk with the same tiny static pool and WITHOUT the module
# must stall (or fail) -- proving that exhaust.sh really exhausts the pool.
# The stalled writers stay in D state forever (virtio-blk retries), so this
# runs alone in its boot profile, which ends with a forced power-off.
#
# NVMe is measured too but not asserted on: it caps its requests at
# swiotlb's segment size and requeues a mapping that fails, so it crawls
# through a tiny pool instead of stalling.
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh

JOBS=8
MIB=32
WAIT=${DSW_CONTROL_WAIT:-30}

ktap_begin
dsw_unload
ktap_check "drivers load (no dynswiotlb)" dsw_load_drivers
ktap_check "virtio-blk disk appears" dsw_wait_dev /dev/vda
head -c $((MIB * 1048576)) /dev/urandom >/tmp/pattern

dsw_mark
# Not attached to our output: stalled writers never exit.
( dsw_io_write /dev/vda /tmp/pattern $JOBS $MIB && echo ok >/tmp/control.done ||
	echo error >/tmp/control.done ) </dev/null >/dev/null 2>&1 &
if dsw_wait_dev /dev/nvme0n1; then
	( dsw_io_write /dev/nvme0n1 /tmp/pattern $JOBS $MIB && echo ok >/tmp/nvme.done ||
		echo error >/tmp/nvme.done ) </dev/null >/dev/null 2>&1 &
fi
i=0
while [ ! -e /tmp/control.done ] && [ $i -lt "$WAIT" ]; do
	sleep 1
	i=$((i + 1))
done
full=$(dsw_log_since | grep -c 'swiotlb buffer is full')
ktap_info "NVMe without the module, same load: $(cat /tmp/nvme.done 2>/dev/null || echo "not done after ${WAIT}s")"
if [ ! -e /tmp/control.done ]; then
	stuck=$(grep -l '^State:.*D' /proc/[0-9]*/status 2>/dev/null | wc -l)
	ktap_ok "without the module the load stalls: not done after ${WAIT}s, $stuck tasks in D state, $full 'buffer is full' lines"
elif [ "$(cat /tmp/control.done)" = error ]; then
	ktap_ok "without the module the load fails with I/O errors ($full 'buffer is full' lines)"
else
	ktap_fail "without the module the load stalls or fails" "it completed in ${i}s: the pool is not exhausted"
fi
ktap_end
