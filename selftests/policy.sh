#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Growth policy knobs (module parameter defaults and the per-device files
# under /sys/kernel/dynswiotlb/devices/<name>/): defaults reach a new
# device, malformed writes change nothing, the reserve is allocated, idle
# memory is given back within shrink_delay_ms + 1 s, caps fail mappings
# cleanly and are counted, dynamic-only leaves the static pool alone,
# off passes through, force_bounce bounces reachable memory. Dynamic
# traffic comes from the test device (dma_api --hold): with a forced pool it
# is filled first (--hog); without a pool force_bounce makes it dynamic.
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh

TDEV=dynswiotlb_test.0
K=$DSW_SYSFS/devices/$TDEV
ktap_begin
dsw_unload
nslabs=$(cat /sys/kernel/debug/swiotlb/io_tlb_nslabs 2>/dev/null || echo 0)
forced=no
grep -q 'swiotlb=[^ ]*force' /proc/cmdline && ! grep -q noforce /proc/cmdline && forced=yes
ktap_info "static pool: $nslabs slabs, forced: $forced"

# Malformed policy parameters at load time: EINVAL, exactly one line.
for args in "chunk_kb=100|not a power of two" "mode=sometimes|unknown word" \
		"reserve_low_kb=4096|reserve_low_kb above reserve_high_kb" \
		"max_total_kb=lots|max_total_kb" "shrink_delay_ms=-5|not a decimal" \
		"max_kb=16777217|out of range" \
		"reserve_high_kb=512 reserve_low_kb=1024|reserve_low_kb above"; do
	# shellcheck disable=SC2086 # the parameters are words
	if line=$(dsw_load_refused 'Invalid argument' "dynswiotlb: .*${args#*|}" \
			devices=$TDEV ${args%%|*}); then
		ktap_ok "load with ${args%%|*}: EINVAL, one line: $(echo "$line" | cut -c1-70)"
	else
		ktap_fail "load with ${args%%|*}: EINVAL, one line" "$line"
	fi
done
# The knobs are checked together once all are parsed: order does not matter.
modprobe dynswiotlb reserve_low_kb=4096 reserve_high_kb=8192 &&
	[ "$(cat /sys/module/dynswiotlb/parameters/reserve_low_kb)" = 4096 ] && dsw_unload &&
	ktap_ok "load with reserve_low_kb=4096 reserve_high_kb=8192 (low given first)" ||
	ktap_fail "load with reserve_low_kb before a higher reserve_high_kb"

if modprobe dynswiotlb devices=$TDEV chunk_kb=256 reserve_low_kb=256 \
		reserve_high_kb=512 shrink_delay_ms=500 && modprobe dynswiotlb_test; then
	ktap_ok "load with policy defaults as module parameters"
else
	ktap_fail "load with policy defaults as module parameters"
	ktap_end
fi
got=$(cat $K/mode $K/force_bounce $K/max_kb $K/chunk_kb $K/reserve_low_kb \
	$K/reserve_high_kb $K/shrink_delay_ms $K/max_map_kb | tr '\n' ' ')
[ "$got" = "static-first 0 0 256 256 512 500 0 " ] &&
	ktap_ok "the device starts with the defaults: $got" ||
	ktap_fail "the device starts with the defaults" "$got"
[ "$(dsw_stat $TDEV pool_bytes)" = 524288 ] &&
	ktap_ok "reserve allocated up to reserve_high_kb (512 KiB)" ||
	ktap_fail "reserve allocated up to reserve_high_kb" "pool_bytes $(dsw_stat $TDEV pool_bytes)"

# --- malformed writes: EINVAL, one log line, nothing changes ---
snapshot() {
	cat $K/mode $K/force_bounce $K/max_kb $K/chunk_kb $K/reserve_low_kb \
		$K/reserve_high_kb $K/shrink_delay_ms $K/max_map_kb \
		/sys/module/dynswiotlb/parameters/chunk_kb \
		/sys/module/dynswiotlb/parameters/max_total_kb | tr '\n' ' '
}
before=$(snapshot)
NL='
'
n=0
bad() { # bad FILE VALUE
	n=$((n + 1))
	dsw_mark
	out=$(dsw_write "$1" "$2")
	rc=$?
	lines=$(dsw_log_since | grep -c 'dynswiotlb: ')
	name="$(basename "$1") <- '$(printf '%s' "$2" | tr '\n' '~' | cut -c1-24)'"
	if [ $rc -ne 0 ] && echo "$out" | grep -q 'Invalid argument' && [ "$lines" = 1 ] &&
			[ "$(snapshot)" = "$before" ]; then
		ktap_ok "$name: EINVAL: $(dsw_log_since | grep 'dynswiotlb: ' | sed 's/^\[[^]]*\] dynswiotlb: //' | cut -c1-70)"
	else
		ktap_fail "$name: EINVAL, one line, nothing changed" "rc=$rc $out $(dsw_log_since)"
	fi
}
for f in mode force_bounce max_kb chunk_kb reserve_low_kb reserve_high_kb \
		shrink_delay_ms max_map_kb; do
	bad $K/$f "$NL"		# a lone newline (empty writes never reach sysfs)
	bad $K/$f "abc"
	bad $K/$f "-1"
	bad $K/$f " 1"
	bad $K/$f "1 2"
done
bad $K/mode "static"
bad $K/mode "OFF"
bad $K/mode "dynamic_only"
bad $K/mode "3"
bad $K/force_bounce "2"
bad $K/force_bounce "yes"
bad $K/max_kb "4294967296"
bad $K/max_kb "16777217"
bad $K/max_kb "0x100"
bad $K/chunk_kb "100"
bad $K/chunk_kb "32"
bad $K/chunk_kb "8192"
bad $K/chunk_kb "1.5"
bad $K/reserve_low_kb "1024"
bad $K/reserve_high_kb "128"
bad $K/reserve_high_kb "262145"
bad $K/shrink_delay_ms "3600001"
bad $K/max_map_kb "4097"
bad $K/max_map_kb "99999999999999999999"
bad /sys/module/dynswiotlb/parameters/chunk_kb "48"
bad /sys/module/dynswiotlb/parameters/max_total_kb "lots"
bad /sys/module/dynswiotlb/parameters/max_total_kb "16777217"
[ $n -ge 50 ] && ktap_ok "$n malformed writes tried (at least 50)" ||
	ktap_fail "at least 50 malformed writes" "$n"

# --- dynamic traffic, traced ---
T=/sys/kernel/tracing
[ -d $T/events ] || mount -t tracefs nodev $T 2>/dev/null
if echo 1 >$T/events/dynswiotlb/enable && echo >$T/trace; then
	ktap_ok "tracepoints dynswiotlb:* enabled"
else
	ktap_fail "tracepoints dynswiotlb:* enabled" "$(ls $T/events 2>&1 | head -3)"
fi
if [ $forced = yes ]; then
	./dma_api --hog >/dev/null && ktap_ok "static pool filled by the reference device" ||
		ktap_fail "static pool filled by the reference device"
else
	echo 1 >$K/force_bounce
	ktap_info "no forced pool: force_bounce=1 for dynamic traffic"
fi

hold() { # hold N SIZE: map and keep N buffers
	./dma_api --hold "$1" --size "$2" >/dev/null 2>&1
}

# Shrink: burst of 4 MiB, released; back to the 512 KiB reserve within
# shrink_delay_ms (500) + 1 s.
if hold 64 65536 && [ "$(dsw_stat $TDEV pool_bytes)" -gt 4000000 ]; then
	ktap_ok "burst: 64 x 64 KiB held, pool grew to $(dsw_stat $TDEV pool_bytes) bytes"
else
	ktap_fail "burst: 64 x 64 KiB held" "$(dsw_stats $TDEV)"
fi
grep -q "^$TDEV [a-z-]* pool=[0-9]* live=64/4194304 failures=" $DSW_DEBUGFS/summary &&
	grep -q '^total pool=' $DSW_DEBUGFS/summary &&
	ktap_ok "summary: $(grep "^$TDEV" $DSW_DEBUGFS/summary)" ||
	ktap_fail "summary lists the device and a total" "$(cat $DSW_DEBUGFS/summary)"
./dma_api --release >/dev/null
[ "$(dsw_stat $TDEV live_bytes_hiwater)" -ge 4194304 ] &&
	[ "$(dsw_stat $TDEV pool_bytes_hiwater)" -gt 4000000 ] &&
	ktap_ok "high-water marks kept after release: live $(dsw_stat $TDEV live_bytes_hiwater), pool $(dsw_stat $TDEV pool_bytes_hiwater)" ||
	ktap_fail "high-water marks kept after release" "$(dsw_stats $TDEV)"
S=$DSW_SYSFS/devices/$TDEV/statistics
ph=$(dsw_stat $TDEV pool_bytes_hiwater)
dsw_mark
if echo 0 >$S/live_bytes_hiwater && [ "$(dsw_stat $TDEV live_bytes_hiwater)" = 0 ] &&
		[ "$(dsw_stat $TDEV pool_bytes_hiwater)" = "$ph" ] &&
		! dsw_write $S/live_bytes_hiwater 5 >/dev/null &&
		! dsw_write $S/pool_bytes_hiwater x >/dev/null &&
		[ "$(dsw_log_since | grep -c "dynswiotlb: $TDEV: statistics/pool_bytes_hiwater: only 0")" = 1 ] &&
		echo 0 >$S/pool_bytes_hiwater && h=$(dsw_stat $TDEV pool_bytes_hiwater) &&
		[ "$h" -le "$ph" ] && [ "$h" -ge "$(dsw_stat $TDEV pool_bytes)" ]; then
	ktap_ok "writing 0 to a high-water mark restarts that one; other values are refused (one line)"
else
	ktap_fail "high-water reset" "$(dsw_stats $TDEV)"
fi
t=0
while [ "$(dsw_stat $TDEV pool_bytes)" -gt 524288 ] && [ $t -lt 50 ]; do
	usleep 100000
	t=$((t + 1))
done
if [ "$(dsw_stat $TDEV pool_bytes)" -le 524288 ] && [ $t -le 15 ]; then
	ktap_ok "shrank back to the reserve in $((t * 100)) ms (limit 500 + 1000 ms)"
else
	ktap_fail "shrank back to the reserve within 1500 ms" "after $((t * 100)) ms: pool_bytes $(dsw_stat $TDEV pool_bytes)"
fi

# Caps: a device cap of 1 MiB.
echo 1024 >$K/max_kb
f0=$(dsw_stat $TDEV fail_cap)
if ! hold 32 65536 && [ "$(dsw_stat $TDEV fail_cap)" -gt "$f0" ] &&
		[ "$(dsw_stat $TDEV live_buffers)" = 0 ] &&
		[ "$(dsw_stat $TDEV pool_bytes)" -le 1048576 ]; then
	ktap_ok "device cap 1 MiB: 2 MiB of mappings fail cleanly, counted as fail_cap"
else
	ktap_fail "device cap 1 MiB: mappings beyond it fail cleanly" "$(dsw_stats $TDEV)"
fi
hold 8 65536 && [ "$(dsw_stat $TDEV live_buffers)" = 8 ] &&
	ktap_ok "within the cap: 8 x 64 KiB mapped and verified" ||
	ktap_fail "within the cap: 8 x 64 KiB mapped"
./dma_api --release >/dev/null
echo 0 >$K/max_kb
# The global cap, across devices.
echo 768 >/sys/module/dynswiotlb/parameters/max_total_kb
f0=$(dsw_stat $TDEV fail_cap)
! hold 32 65536 && [ "$(dsw_stat $TDEV fail_cap)" -gt "$f0" ] &&
	ktap_ok "global cap 768 KiB: mappings beyond it fail, counted" ||
	ktap_fail "global cap: mappings beyond it fail" "$(dsw_stats $TDEV)"
echo 0 >/sys/module/dynswiotlb/parameters/max_total_kb
hold 32 65536 && ./dma_api --release >/dev/null &&
	ktap_ok "caps lifted: 2 MiB of mappings succeed" || ktap_fail "caps lifted: mappings succeed"

# Reserve: with every allocation forbidden (inject_nomem=all), mappings
# made in hard interrupt context come from the ready reserve (512 KiB);
# beyond it they fail cleanly; once allowed again the reserve is refilled.
I=$DSW_DEBUGFS/$TDEV/inject_nomem
wait_free() { # wait_free BYTES: free memory back to BYTES within 1 s
	_t=0
	while [ "$(dsw_stat $TDEV free_bytes)" -lt "$1" ] && [ $_t -lt 10 ]; do
		usleep 100000
		_t=$((_t + 1))
	done
	[ "$(dsw_stat $TDEV free_bytes)" -ge "$1" ]
}
wait_reserve() { # idle memory given back: just the 512 KiB reserve
	_t=0
	while [ "$(dsw_stat $TDEV pool_bytes)" != 524288 ] && [ $_t -lt 30 ]; do
		usleep 100000
		_t=$((_t + 1))
	done
}
wait_reserve
a0=$(dsw_stat $TDEV chunk_allocs)
n0=$(dsw_stat $TDEV fail_nomem)
if echo all >$I && [ "$(cat $I)" = all ] &&
		./dma_api --hold 6 --size 65536 --irq >/dev/null &&
		[ "$(dsw_stat $TDEV live_buffers)" = 6 ] &&
		[ "$(grep -c ' 65536 bidi [0-9]* irq$' $DSW_DEBUGFS/$TDEV/buffers)" = 6 ] &&
		[ "$(dsw_stat $TDEV chunk_allocs)" = "$a0" ]; then
	ktap_ok "allocation forbidden: 6 x 64 KiB mapped in hard irq context from the reserve"
else
	ktap_fail "allocation forbidden: irq mappings from the reserve" \
		"$(cat $I) $(cat $DSW_DEBUGFS/$TDEV/buffers | head -3) $(dsw_stats $TDEV)"
fi
usleep 300000
[ "$(dsw_stat $TDEV chunk_allocs)" = "$a0" ] &&
	ktap_ok "reserve below its low watermark, no refill while forbidden (free $(dsw_stat $TDEV free_bytes))" ||
	ktap_fail "no refill while allocation is forbidden" "chunk_allocs $a0 -> $(dsw_stat $TDEV chunk_allocs)"
echo off >$I
if wait_free 524288 && [ "$(dsw_stat $TDEV chunk_allocs)" -gt "$a0" ]; then
	ktap_ok "allowed again: reserve refilled to $(dsw_stat $TDEV free_bytes) free bytes within 1 s"
else
	ktap_fail "reserve refilled within 1 s" "$(dsw_stats $TDEV)"
fi
./dma_api --release >/dev/null
wait_reserve
echo all >$I
a0=$(dsw_stat $TDEV chunk_allocs)
if ! ./dma_api --hold 24 --size 65536 --irq >/dev/null 2>&1 &&
		[ "$(dsw_stat $TDEV fail_nomem)" -gt "$n0" ] &&
		[ "$(dsw_stat $TDEV live_buffers)" = 0 ] &&
		[ "$(dsw_stat $TDEV chunk_allocs)" = "$a0" ]; then
	ktap_ok "beyond the reserve: irq mappings fail cleanly, fail_nomem +$(( $(dsw_stat $TDEV fail_nomem) - n0 ))"
else
	ktap_fail "beyond the reserve: mappings fail cleanly" "$(dsw_stats $TDEV)"
fi
# atomic: growth on the mapping path fails, the refill in process context works.
echo atomic >$I
if ./dma_api --hold 6 --size 65536 --irq >/dev/null && wait_free 262144 &&
		[ "$(dsw_stat $TDEV chunk_allocs)" -gt "$a0" ]; then
	ktap_ok "inject_nomem=atomic: irq mappings from the reserve, refilled in process context"
else
	ktap_fail "inject_nomem=atomic: reserve refilled" "$(dsw_stats $TDEV)"
fi
./dma_api --release >/dev/null
dsw_mark
if ! dsw_write $I sometimes >/dev/null && [ "$(cat $I)" = atomic ] &&
		[ "$(dsw_log_since | grep -c "dynswiotlb: $TDEV: inject_nomem: ")" = 1 ]; then
	ktap_ok "inject_nomem: a bad value is refused (EINVAL, one line), nothing changes"
else
	ktap_fail "inject_nomem: bad value refused" "$(cat $I) $(dsw_log_since)"
fi
echo off >$I

# Latency histogram of dynamic mappings: every successful one counted once;
# so does the size histogram, in the bucket of its length.
L=$DSW_DEBUGFS/$TDEV/latency
S=$DSW_DEBUGFS/$TDEV/sizes
h0=$(awk '{ n += $3 } END { print n + 0 }' $L)
s0=$(awk '$1 == 4096 { print $3 }' $S)
sa0=$(awk '{ n += $3 } END { print n + 0 }' $S)
d0=$(dsw_stat $TDEV dynamic)
ns0=$(dsw_stat $TDEV dynamic_map_ns)
hold 16 4096 && ./dma_api --release >/dev/null
dd=$(( $(dsw_stat $TDEV dynamic) - d0 ))
hsum=$(( $(awk '{ n += $3 } END { print n + 0 }' $L) - h0 ))
if [ "$(wc -l <$L)" = 32 ] && [ "$dd" = 16 ] && [ "$hsum" = "$dd" ] &&
		[ "$(dsw_stat $TDEV dynamic_map_ns)" -ge "$ns0" ]; then
	ktap_ok "latency histogram: $hsum dynamic mappings, $(awk '$3 { printf "%s", sep $1 "-" $2 "ns:" $3; sep = " " }' $L)"
else
	ktap_fail "latency histogram counts every dynamic mapping" "dynamic +$dd, histogram $hsum: $(cat $L | tr '\n' ' ')"
fi
ssum=$(( $(awk '{ n += $3 } END { print n + 0 }' $S) - sa0 ))
s4k=$(( $(awk '$1 == 4096 && $2 == 8192 { print $3 }' $S) - s0 ))
if [ "$(wc -l <$S)" = 32 ] && [ "$s4k" = 16 ] && [ "$ssum" = "$hsum" ] &&
		[ "$(ls -l $S | cut -c1-10)" = -r--r--r-- ]; then
	ktap_ok "size histogram: the 16 mappings of 4096 bytes in [4096, 8192), read-only"
else
	ktap_fail "size histogram counts each mapping in its length's bucket" \
		"[4096, 8192) +$s4k, all +$ssum, latency +$hsum: $(cat $S | tr '\n' ' ') $(ls -l $S)"
fi
if [ "$(ls -l $L | cut -c1-10)" = -r--r--r-- ] && ! dsw_write $L 0 >/dev/null; then
	ktap_ok "the histogram is read-only (mode 0444, readable under lockdown)"
else
	ktap_fail "latency histogram read-only" "$(ls -l $L)"
fi

echo 0 >$T/events/dynswiotlb/enable
for ev in "dsw_map: dev=$TDEV dma=0x" "dsw_unmap: dev=$TDEV" "dsw_grow: dev=$TDEV chunk=" \
		"dsw_shrink: dev=$TDEV" "dsw_fail: dev=$TDEV size=65536 reason=cap"; do
	c=$(grep -c "$ev" $T/trace)
	[ "$c" -gt 0 ] && ktap_ok "trace has $c '${ev%% *}' events naming the device" ||
		ktap_fail "trace has '$ev' events" "$(tail -n 3 $T/trace)"
done

if [ $forced = yes ]; then
	./dma_api --unhog >/dev/null
	# Isolation: dynamic-only never touches the static pool.
	for m in dynamic-only static-first; do
		echo $m >$K/mode
		s0=$(dsw_stat $TDEV static)
		d0=$(dsw_stat $TDEV dynamic)
		hold 8 4096 && ./dma_api --release >/dev/null
		ds=$(( $(dsw_stat $TDEV static) - s0 ))
		dd=$(( $(dsw_stat $TDEV dynamic) - d0 ))
		if { [ $m = dynamic-only ] && [ $ds = 0 ] && [ $dd = 8 ]; } ||
				{ [ $m = static-first ] && [ $ds = 8 ] && [ $dd = 0 ]; }; then
			ktap_ok "mode $m: static +$ds, dynamic +$dd"
		else
			ktap_fail "mode $m" "static +$ds, dynamic +$dd"
		fi
	done
	echo off >$K/mode
	d0=$(dsw_stat $TDEV dynamic)
	./dma_api --hog >/dev/null
	! hold 8 4096 && [ "$(dsw_stat $TDEV dynamic)" = "$d0" ] &&
		ktap_ok "mode off: pool full, mappings fail as without the module, no dynamic buffer" ||
		ktap_fail "mode off: pass-through" "$(dsw_stats $TDEV)"
	./dma_api --unhog >/dev/null
	echo static-first >$K/mode
else
	for fb in 0 1; do
		echo $fb >$K/force_bounce
		d0=$(dsw_stat $TDEV dynamic)
		r0=$(dsw_stat $TDEV direct)
		hold 8 4096 && ./dma_api --release >/dev/null
		dd=$(( $(dsw_stat $TDEV dynamic) - d0 ))
		dr=$(( $(dsw_stat $TDEV direct) - r0 ))
		if { [ $fb = 0 ] && [ $dd = 0 ] && [ $dr = 8 ]; } ||
				{ [ $fb = 1 ] && [ $dd = 8 ] && [ $dr = 0 ]; }; then
			ktap_ok "force_bounce=$fb: direct +$dr, dynamic +$dd"
		else
			ktap_fail "force_bounce=$fb" "direct +$dr, dynamic +$dd"
		fi
	done
fi
[ "$(dsw_stat $TDEV live_buffers)" = 0 ] && ktap_ok "no live buffer left" ||
	ktap_fail "no live buffer left"
modprobe -r dynswiotlb_test
ktap_check "unload" dsw_unload
ktap_end
