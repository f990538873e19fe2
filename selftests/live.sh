#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Every knob changed under load: with the module attached to the virtio-blk
# and NVMe disks and a static pool far too small (the "tiny" profile,
# swiotlb=128,force), parallel direct-I/O writers and then readers run
# while a second task keeps stepping every per-device knob (mode,
# force_bounce, max_kb, chunk_kb, reserve_low_kb, reserve_high_kb,
# shrink_delay_ms, max_map_kb) and the global max_total_kb through
# several values, every 50 ms. Every knob write must succeed, no I/O may
# fail, every checksum must match, no dynamic buffer may stay mapped, and
# with the reserve then set to nothing, all memory is given back.
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh

JOBS=8
MIB=16		# per job: 8 x 16 MiB = 128 MiB per device
STOP=/tmp/live.stop
LOG=/tmp/live.log

# One step: "<knob> <value>"; "max_total_kb" is the module-wide cap. The
# order keeps reserve_low_kb <= reserve_high_kb at every step.
STEPS="mode:dynamic-only force_bounce:1 chunk_kb:64 reserve_high_kb:4096
reserve_low_kb:1024 max_kb:8192 shrink_delay_ms:0 max_map_kb:1024
max_total_kb:16384 mode:off mode:static-first force_bounce:0 chunk_kb:1024
reserve_low_kb:0 reserve_high_kb:256 max_kb:2048 shrink_delay_ms:100
max_map_kb:0 max_total_kb:0 chunk_kb:4096 max_kb:0 mode:dynamic-only
shrink_delay_ms:1000 reserve_high_kb:2048 reserve_low_kb:1024 chunk_kb:1024
mode:static-first"

# knob_storm BDF...: step through STEPS on every device until $STOP
# exists; one line per write in $LOG ("ok ..." or "FAIL ...").
knob_storm() {
	while [ ! -e $STOP ]; do
		for s in $STEPS; do
			[ -e $STOP ] && break
			k=${s%%:*}
			v=${s#*:}
			if [ "$k" = max_total_kb ]; then
				files=$DSW_SYSMOD/parameters/max_total_kb
			else
				files=
				for d in "$@"; do
					files="$files $DSW_SYSFS/devices/$d/$k"
				done
			fi
			for f in $files; do
				if out=$(dsw_write "$f" "$v") && [ "$(cat "$f")" = "$v" ]; then
					echo "ok $f $v"
				else
					echo "FAIL $f $v $out"
				fi
			done >>$LOG
			usleep 50000
		done
	done
}

# storm_run CMD...: run CMD while the knobs change; CMD's status.
storm_run() {
	rm -f $STOP
	knob_storm "$DSW_VIRTIO_BDF" "$DSW_NVME_BDF" &
	_storm=$!
	"$@"
	_rc=$?
	touch $STOP
	wait $_storm
	return $_rc
}

ktap_begin
dsw_unload
dsw_attach_disks

head -c $((MIB * 1048576)) /dev/urandom >/tmp/pattern
: >$LOG
for blk in /dev/vda /dev/nvme0n1; do
	if storm_run dsw_io_write $blk /tmp/pattern $JOBS $MIB; then
		ktap_ok "$blk: $((JOBS * MIB)) MiB written by $JOBS direct writers while the knobs changed"
	else
		ktap_fail "$blk: writes while the knobs changed" "$(dmesg | tail -n 5)"
	fi
	echo 3 >/proc/sys/vm/drop_caches
	if storm_run dsw_io_verify $blk /tmp/pattern $JOBS $MIB; then
		ktap_ok "$blk: read back while the knobs changed, all $JOBS checksums match"
	else
		ktap_fail "$blk: read back while the knobs changed, checksums match"
	fi
done

writes=$(grep -c '^ok ' $LOG)
knobs=$(sed -n 's|^ok .*/\([a-z_]*\) .*|\1|p' $LOG | sort -u | wc -l)
if ! grep -q '^FAIL ' $LOG && [ "$knobs" = 9 ]; then
	ktap_ok "$writes knob writes, all 9 knobs, none refused"
else
	ktap_fail "every knob write succeeds" "$knobs knobs; $(grep '^FAIL ' $LOG | head -3)"
fi
for bdf in "$DSW_VIRTIO_BDF" "$DSW_NVME_BDF"; do
	ktap_info "$bdf: $(for k in maps static dynamic failures fail_cap fail_nomem \
			chunk_allocs chunk_frees pool_bytes_hiwater; do
		printf '%s %s ' $k "$(dsw_stat "$bdf" $k)"; done)"
	[ "$(dsw_stat "$bdf" live_buffers)" = 0 ] &&
		ktap_ok "$bdf: no dynamic buffer left mapped" ||
		ktap_fail "$bdf: no dynamic buffer left mapped" "$(head -n 3 $DSW_DEBUGFS/$bdf/buffers)"
	[ "$(dsw_stat "$bdf" dynamic)" -gt 0 ] &&
		ktap_ok "$bdf: dynamic buffers carried $(dsw_stat "$bdf" dynamic) mappings" ||
		ktap_fail "$bdf: dynamic buffers carried traffic"
done

# The last step left the defaults (1 s shrink delay); with the reserve
# set to nothing, every idle byte goes back within the delay plus 1 s.
for bdf in "$DSW_VIRTIO_BDF" "$DSW_NVME_BDF"; do
	echo 0 >$DSW_SYSFS/devices/$bdf/reserve_low_kb
	echo 0 >$DSW_SYSFS/devices/$bdf/reserve_high_kb
done
for bdf in "$DSW_VIRTIO_BDF" "$DSW_NVME_BDF"; do
	t=0
	while [ "$(dsw_stat "$bdf" pool_bytes)" != 0 ] && [ $t -lt 20 ]; do
		usleep 100000
		t=$((t + 1))
	done
	[ "$(dsw_stat "$bdf" pool_bytes)" = 0 ] &&
		ktap_ok "$bdf: reserve 0: all memory given back within $((t * 100)) ms (high-water $(dsw_stat "$bdf" pool_bytes_hiwater))" ||
		ktap_fail "$bdf: reserve 0: all memory given back within 2 s" "pool_bytes $(dsw_stat "$bdf" pool_bytes)"
done

dsw_unbind_disks
ktap_check "unload after the drivers are unbound" dsw_unload
ktap_end
