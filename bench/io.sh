#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/io.sh TARGET: real I/O through the DMA API, and bounce memory over
# time, on TARGET's Debian kernel (part of `make bench`: bench/run.sh calls
# it after the map/unmap boot). Debian's fio (selftests/bench_io.sh) on the
# virtio-blk disk (iommu_platform=on) and the NVMe disk, every mapping
# bounced (swiotlb=...,force), one guest boot per configuration:
#
#   base     swiotlb=32768,force: a 64 MiB pool, no module; it holds all the
#            data in flight (below: at most 16 MiB per disk, 32 MiB with
#            both disks busy): the baseline (a)
#   dsw      swiotlb=256,force: a 512 KiB pool, 1/16 of the 8 MiB in flight
#            of the first shape, dynswiotlb attached to both disks (b)
#   control  the same 512 KiB pool without the module (c): virtio-blk
#            stalls once a request is larger than the pool (no progress for
#            DSW_IO_STALL s), NVMe requeues
#
# Per disk, shape and boot, one fio write+verify job group (libaio, direct
# I/O): 4 jobs write 4 x DSW_IO_MIB MiB sequentially, then read all of it
# back checking each block's crc32c. Shapes, jobs x iodepth x block size:
#   4 x 16 x 128 KiB = 8 MiB in flight (each request fits the small pool)
#   4 x 4 x 1 MiB = 16 MiB in flight (a virtio-blk request of 1 MiB does
#   not fit it: the stall of bugzilla 217310, as in `make demo`)
# base and dsw are booted DSW_IO_ROUNDS times, alternately: the host is
# shared with other guests, so the best round of each counts for the
# ratio. Each base and dsw boot then writes both disks at once, 1 MiB
# shape, for 8 s and idles 5 s, sampling memory every 100 ms.
#
# bench/io.sh --report TARGET: only turn the raw files into the CSVs, the
# PNG and the report (markdown: printed, and kept in bench-io.md).
#
# In $DSW_RESULTS/TARGET/:
#   bench-io-CONFIG-rN.{raw,judge,console,markers}  one boot; raw is a
#       BENCH-HOST line (written here) and the guest's BENCH lines
#   bench-io.csv        one row per fio job (all boots); swiotlb_nslabs and
#       swiotlb_transient_nslabs: swiotlb's pools after the job
#   bench-mem.csv       one row per memory sample: series (base, dsw, lab),
#       round, t_ms, phase (pre, burst, idle), pool_bytes and live_bytes
#       (dynswiotlb, all devices), memfree_kb, static_nslabs, static_used,
#       transient_nslabs (swiotlb's debugfs), and derived bounce_kb (memory
#       held for bouncing: 2 KiB per static and transient slab + the
#       module's pool) and inuse_kb (slabs used, static and transient,
#       + live bytes)
#   bench-mem-info.csv  one row per burst: its start and end on the samples'
#       clock, the reserve, shrink_delay_ms, high-water marks
#   bench-mem.png       the memory series over time (bench/mem.gp)
#
# The "lab" series: a kernel that grows its own pool (upstream's
# CONFIG_SWIOTLB_DYNAMIC, bench/lab-kernel.sh), booted with
# swiotlb=256,force and dsw.bench=io-lab (no module; the samples read
# io_tlb_nslabs, which counts the pools the kernel adds and keeps, and
# io_tlb_transient_nslabs), its BENCH lines saved as
# bench-io-lab-rN.raw here after a line
#   BENCH-HOST target=lab series=lab round=N nslabs=256
# bench/lab-io.sh TARGET does that, then runs --report, which adds it to
# the CSVs, the plot and the tables.
#
# Needs the module built for TARGET (selftests/qemu/build.sh TARGET, which
# bench/run.sh runs). Environment: DSW_IO_ROUNDS (default 2), DSW_IO_MIB
# (default 64), DSW_IO_STALL (default 10), DSW_RESULTS (default
# results/bench). About 6 minutes per kernel here (5 boots).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export DSW_RESULTS=${DSW_RESULTS:-$top/results/bench}
q=$top/selftests/qemu
. "$q/lib.sh"

report_only=
if [ "${1:-}" = --report ]; then
	report_only=1
	shift
fi
t=${1:?usage: io.sh [--report] TARGET}
out=$DSW_RESULTS/$t
# DSW_IO_ACCEL=multi: the parallel mode. Multi-threaded TCG, 2 vCPUs
# bound to the host's 2 CPUs, 2 fio jobs per group (so 2 x 4 x 1 MiB =
# 8 MiB in flight against the small pool's 512 KiB, 16 x), tsc=reliable
# (bench/run.sh: no text patching); no control boot. Files in
# $DSW_RESULTS/TARGET-multi/ (the boots themselves run as boot.sh's
# mp-NAME, moved there).
accel=${DSW_IO_ACCEL:-single}
case "$accel" in
single) boot_env=() boot_append= ;;
multi)
	out=$DSW_RESULTS/$t-multi
	boot_env=(DSW_ACCEL=multi DSW_SMP=2 DSW_PIN_VCPUS=1)
	boot_append="dsw.io_jobs=2 tsc=reliable"
	;;
*) dsw_die "DSW_IO_ACCEL=$accel: single or multi" ;;
esac
rounds=${DSW_IO_ROUNDS:-2}
mib=${DSW_IO_MIB:-64}
stall=${DSW_IO_STALL:-10}
big=32768
small=256
mkdir -p "$out"

load1() {
	cut -d' ' -f1 /proc/loadavg
}

# boot CONFIG ROUND NSLABS: one guest boot; its BENCH lines in the raw
# file. Fails if the boot was not clean or the guest did not finish.
boot() {
	local name=bench-io-$1-r$2 sw=$3,force load

	local bname=$name f

	load=$(load1)
	echo "== $t: I/O, $1, round $2: swiotlb=$sw ($accel-threaded TCG)"
	[ "$accel" = single ] || bname=mp-$name
	env ${boot_env[@]+"${boot_env[@]}"} \
		DSW_BENCH=io-$1 DSW_SWIOTLB=$sw DSW_DISK_SIZE=$((4 * mib + 64))M \
		DSW_APPEND="dsw.io_mib=$mib dsw.io_stall=$stall $boot_append" \
		"$q/boot.sh" "$t" "$bname" >"$out/$name.judge"
	if [ "$bname" != "$name" ]; then
		for f in "$DSW_RESULTS/$t/$bname".*; do
			mv -f "$f" "$out/$name.${f#"$DSW_RESULTS/$t/$bname".}"
		done
		why=$(dsw_not_parallel "$out/$name.judge" "$out/$name" 2) &&
			{ echo "bench: $t: $name: not a parallel measurement: $why"; return 1; }
	fi
	{
		echo "BENCH-HOST target=$t series=$1 round=$2 nslabs=$3" \
			"load_before=$load load_after=$(load1)"
		grep '^BENCH' "$out/$name.ktap"
	} >"$out/$name.raw"
	if ! grep -q '^ok - boot' "$out/$name.judge" ||
			! grep -q '^BENCH-DONE' "$out/$name.raw"; then
		echo "bench: $t: the I/O boot $name failed:"
		tail -n 30 "$out/$name.judge"
		return 1
	fi
}

# kv_csv PREFIX "COLUMNS" RAW...: the "PREFIX key=value ..." lines of the
# raw files as CSV; keys of the file's BENCH-HOST line fill in.
kv_csv() {
	awk -v pre="$1" -v cols="$(echo $2)" '
	BEGIN { n = split(cols, c, " "); for (i = 1; i <= n; i++) printf "%s%s", c[i], i < n ? "," : "\n" }
	function kv(arr,   i, e, val) {
		for (i = 2; i <= NF; i++)
			if ((e = index($i, "="))) {
				val = substr($i, e + 1)
				gsub(/,/, ";", val)	# (CSV)
				arr[substr($i, 1, e - 1)] = val
			}
	}
	FNR == 1 { split("", host) }
	$1 == "BENCH-HOST" { kv(host) }
	$1 == pre {
		split("", v)
		for (k in host) v[k] = host[k]
		kv(v)
		for (i = 1; i <= n; i++) printf "%s%s", v[c[i]], i < n ? "," : "\n"
	}' "${@:3}"
}

io_cols="target series round nslabs load_before load_after dev bs_kb iodepth jobs
inflight_kb outcome elapsed_ms
write_mb_s write_iops write_bytes write_ms read_mb_s read_iops read_bytes read_ms
error total_err fio_rc verify verify_failed full_lines moved_mib inflight waiting
in_d_state
swiotlb_nslabs swiotlb_transient_nslabs
dsw_dynamic dsw_static dsw_failures dsw_pool_hiwater"
mem_cols="target series round t_ms phase pool_bytes live_bytes memfree_kb
static_nslabs static_used transient_nslabs"
info_cols="target series round nslabs burst_start_ms burst_end_ms burst_s idle_s
bs_kb iodepth jobs
fio_rc write_mb_s error total_err reserve_high_kb shrink_delay_ms pool_hiwater
live_hiwater static_used_hiwater"

# The memory samples with the derived columns (bounce_kb, inuse_kb).
mem_csv() {
	kv_csv BENCH-MEM "$mem_cols" "$@" | awk -F, -v OFS=, '
	NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; print $0, "bounce_kb", "inuse_kb"; next }
	{
		print $0, 2 * ($c["static_nslabs"] + $c["transient_nslabs"]) + int($c["pool_bytes"] / 1024),
			2 * ($c["static_used"] + $c["transient_nslabs"]) + int($c["live_bytes"] / 1024)
	}'
}

# report: the tables, from the CSVs.
report() {
	# the parallel mode's target is the performance issue's 0.95
	awk -F, -v t="$(basename "$out")" -v mib="$mib" -v stall="$stall" \
		-v flim="$([ "$accel" = multi ] && echo 0.95 || echo 0.9)" -v jobs="$([ "$accel" = multi ] && echo 2 || echo 4)" '
	FNR == 1 { f++; split("", c); for (i = 1; i <= NF; i++) c[$i] = i; next }
	function g(k) { return $c[k] }
	f == 1 {	# bench-io.csv: every run, and per series/disk/shape the best
		n++
		for (k in c) io[n, k] = $c[k]
		key = g("series") SUBSEP g("dev") SUBSEP g("bs_kb")
		if (!((g("dev") SUBSEP g("bs_kb")) in shape)) {
			shape[g("dev"), g("bs_kb")] = ++nshape
			sdev[nshape] = g("dev"); sbs[nshape] = g("bs_kb")
			sdesc[nshape] = g("jobs") " x " g("iodepth") " x " g("bs_kb") " KiB = " g("inflight_kb") / 1024 " MiB in flight"
		}
		if (g("outcome") == "done") {
			if (g("write_mb_s") > bw[key, "write"]) bw[key, "write"] = g("write_mb_s")
			if (g("read_mb_s") > bw[key, "read"]) bw[key, "read"] = g("read_mb_s")
		}
		errs[key] += g("total_err") + (g("fio_rc") != "0")
		if (g("verify") != "ok") bad[key]++
		runs[key]++
		pool[g("series")] = "swiotlb=" g("nslabs") ",force (" g("nslabs") * 2 " KiB)"
		boot[g("series")] = g("nslabs") * 2
		next
	}
	f == 2 {	# bench-mem-info.csv: one burst per row
		m++
		for (k in c) mi[m, k] = $c[k]
		next
	}
	{	# bench-mem.csv: per burst, the sampled figures
		b = g("series") SUBSEP g("round")
		if (!(b in first)) { first[b] = g("bounce_kb"); free0[b] = g("memfree_kb") }
		if (g("bounce_kb") > peak[b]) peak[b] = g("bounce_kb")
		if (!(b in minfree) || g("memfree_kb") < minfree[b]) minfree[b] = g("memfree_kb")
		last[b] = g("bounce_kb"); free1[b] = g("memfree_kb")
		pb[b, ++ns[b]] = g("pool_bytes"); tm[b, ns[b]] = g("t_ms"); bk[b, ns[b]] = g("bounce_kb")
	}
	function ratio(a, b) { return a > 0 ? sprintf("%.2f", b / a) : "n/a" }
	function mb(kb) { return sprintf("%.1f", kb / 1024) }
	# back(J): ms from the end of burst J until dynswiotlb held no more than
	# its reserve (the first sample after the last one above it); -1: never.
	# The lab holds no reserve: until it held no more than before the burst
	# (its transient pools gone).
	function back(j,   b, k, end, above, lab) {
		b = mi[j, "series"] SUBSEP mi[j, "round"]
		end = mi[j, "burst_end_ms"]; above = 0; lab = mi[j, "series"] == "lab"
		for (k = 1; k <= ns[b]; k++)
			if (tm[b, k] >= end && (lab ? bk[b, k] > first[b] : pb[b, k] > mi[j, "reserve_high_kb"] * 1024))
				above = k
		if (!above) return 0
		return above < ns[b] ? tm[b, above + 1] - end : -1
	}
	END {
		printf "\n## %s: real I/O with fio (bench/io.sh)\n\n", t
		printf "fio write+verify per disk: %d jobs write %d x %d MiB sequentially (direct, libaio),\n", jobs, jobs, mib
		printf "then read it all back checking crc32c. Pools: base %s, dsw and control %s\n", pool["base"], pool["dsw"]
		printf "(dsw: dynswiotlb attached to both disks). MB/s = 10^6 bytes/s; best round counts.\n"
		if ("lab" in pool)
			printf "lab: the lab kernel (CONFIG_SWIOTLB_DYNAMIC, no module) booted with %s.\n", pool["lab"]
		for (s = 1; s <= nshape; s++) {
			printf "\n### %s, %s: %s\n\n", t, sdev[s], sdesc[s]
			printf "| config | round | host load | outcome | write MB/s | write IOPS | verify-read MB/s | read IOPS | errors | verify | dynamic maps | buffer-full lines |\n"
			printf "|---|---|---|---|---|---|---|---|---|---|---|---|\n"
			for (i = 1; i <= n; i++) {
				if (io[i, "dev"] != sdev[s] || io[i, "bs_kb"] != sbs[s]) continue
				o = io[i, "outcome"]
				if (o != "done")
					o = o " after " int(io[i, "elapsed_ms"] / 1000) " s: " io[i, "moved_mib"] " MiB moved"
				printf "| %s | %s | %s-%s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
					io[i, "series"], io[i, "round"], io[i, "load_before"], io[i, "load_after"], o,
					io[i, "write_mb_s"], io[i, "write_iops"], io[i, "read_mb_s"], io[i, "read_iops"],
					o == "done" ? io[i, "total_err"] + 0 : "-", io[i, "verify"],
					io[i, "dsw_dynamic"] == "" ? "-" : io[i, "dsw_dynamic"], io[i, "full_lines"]
			}
		}
		printf "\n### %s: target: dsw >= %s x base throughput, 0 errors, data verified\n\n", t, flim
		for (s = 1; s <= nshape; s++) {
			for (x = 1; x <= 2; x++) {
				sr = x == 1 ? "dsw" : "lab"
				a = "base" SUBSEP sdev[s] SUBSEP sbs[s]; b = sr SUBSEP sdev[s] SUBSEP sbs[s]
				if (!(b in runs)) continue
				rw = ratio(bw[a, "write"], bw[b, "write"]); rr = ratio(bw[a, "read"], bw[b, "read"])
				ok = rw != "n/a" && rr != "n/a" && rw + 0 >= flim && rr + 0 >= flim && !errs[b] && !bad[b]
				printf "- %s %s KiB, %s/base: write %s (%s / %s MB/s), verify-read %s (%s / %s), errors %d, verified in %d of %d runs: %s\n",
					sdev[s], sbs[s], sr, rw, bw[b, "write"] + 0, bw[a, "write"] + 0,
					rr, bw[b, "read"] + 0, bw[a, "read"] + 0, errs[b], runs[b] - bad[b], runs[b],
					ok ? "MET" : "MISSED"
			}
			for (i = 1; i <= n; i++) {
				if (io[i, "series"] != "control" || io[i, "dev"] != sdev[s] || io[i, "bs_kb"] != sbs[s]) continue
				printf "- %s %s KiB, control (same pool, no module): ", sdev[s], sbs[s]
				if (io[i, "outcome"] == "done")
					printf "completed, write %s MB/s (%s x base), verify %s, %s buffer-full lines\n", io[i, "write_mb_s"],
						ratio(bw["base", sdev[s], sbs[s], "write"], io[i, "write_mb_s"]), io[i, "verify"], io[i, "full_lines"]
				else
					printf "%s: %s MiB moved in %d s, the last %s s none, %s requests in the driver, %s held back by blk-mq, %s tasks in D state, %s buffer-full lines\n",
						io[i, "outcome"], io[i, "moved_mib"], io[i, "elapsed_ms"] / 1000, stall,
						io[i, "inflight"], io[i, "waiting"], io[i, "in_d_state"], io[i, "full_lines"]
			}
		}
		if (!m) exit
		printf "\n### %s: bounce memory over time (%s x %s x %s KiB on both disks for %s s, then idle; 100 ms samples)\n\n",
			t, mi[1, "jobs"], mi[1, "iodepth"], mi[1, "bs_kb"], mi[1, "burst_s"]
		printf "Held = static pool + transient pools + dynswiotlb pool, MiB; \"back\" = from the end of the burst\n"
		printf "until the pool is down to its reserve (reserve_high_kb of both disks), target shrink_delay_ms + 1 s.\n"
		if ("lab" in pool)
			printf "lab: its static pool counts the pools the kernel added (and keeps), also those of the fio jobs before.\n"
		printf "\n"
		printf "| series | round | held before | peak sampled | held after | pool hiwater | live hiwater | burst MB/s | MemFree before / min / after | back to the reserve |\n"
		printf "|---|---|---|---|---|---|---|---|---|---|\n"
		for (j = 1; j <= m; j++) {
			b = mi[j, "series"] SUBSEP mi[j, "round"]
			r = "-"
			if (mi[j, "series"] == "dsw") {
				k = back(j); lim = mi[j, "shrink_delay_ms"] + 1000
				r = k < 0 ? "not within the idle time" : k ? k " ms" : "0 ms (there as the burst ended)"
				r = r " (" mi[j, "reserve_high_kb"] " KiB; limit " lim " ms): " (k >= 0 && k <= lim ? "MET" : "MISSED")
			}
			if (mi[j, "series"] == "lab") {	# added pools stay: back to where it was before the burst at best
				k = back(j)
				r = "to the level before the burst: " (k < 0 ? "not within the idle time" : k ? k " ms" : "there as the burst ended")
				r = r "; " mb(last[b] - boot[mi[j, "series"]]) " MiB of added pools kept"
			}
			printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s / %s / %s | %s |\n",
				mi[j, "series"], mi[j, "round"], mb(first[b]), mb(peak[b]), mb(last[b]),
				mb(mi[j, "pool_hiwater"] / 1024), mb(mi[j, "live_hiwater"] / 1024), mi[j, "write_mb_s"],
				mb(free0[b]), mb(minfree[b]), mb(free1[b]), r
		}
	}' "$out/bench-io.csv" "$out/bench-mem-info.csv" "$out/bench-mem.csv"
}

rc=0
if [ -z "$report_only" ]; then
	"$q/setup-host.sh" || exit 1	# fio and gnuplot on the host
	rm -f "$out"/bench-io-{base,dsw,control}-r*.*	# a run with more rounds
	for r in $(seq 1 "$rounds"); do
		boot base "$r" $big || rc=1
		boot dsw "$r" $small || rc=1
	done
	[ "$accel" = multi ] || boot control 1 $small || rc=1
fi

shopt -s nullglob
raws=("$out"/bench-io-base-r*.raw "$out"/bench-io-dsw-r*.raw "$out"/bench-io-lab-r*.raw
	"$out"/bench-io-control-r*.raw)
[ ${#raws[@]} -gt 0 ] || dsw_die "no bench-io-*.raw in $out"
kv_csv BENCH-IO "$io_cols" "${raws[@]}" >"$out/bench-io.csv"
mem_csv "${raws[@]}" >"$out/bench-mem.csv"
kv_csv BENCH-MEM-INFO "$info_cols" "${raws[@]}" >"$out/bench-mem-info.csv"

# The plot: the series present, the burst of the first one shaded.
series=$(awk -F, 'NR > 1 && !s[$2]++ { printf "%s ", $2 }' "$out/bench-mem-info.csv")
read -r t0 t1 < <(awk -F, 'NR == 2 { print $5 / 1000, $6 / 1000 }' "$out/bench-mem-info.csv")
if [ -n "$series" ] && ! gnuplot -e "csv='$out/bench-mem.csv'; png='$out/bench-mem.png';
		series='$series'; t0=$t0; t1=$t1;
		ttl='$t: bounce memory during fio writes on both disks (shaded), then idle'" \
		"$top/bench/mem.gp"; then
	echo "bench: $t: gnuplot failed"
	rc=1
fi
report | tee "$out/bench-io.md"
echo "plot: $out/bench-mem.png"
exit $rc
