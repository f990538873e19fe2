#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lab-io.sh [TARGET]: the "lab" series of bench/io.sh: the same fio
# write+verify jobs and memory burst (selftests/bench_io.sh, mode io-lab),
# on the lab kernel (bench/lab-kernel.sh), whose own CONFIG_SWIOTLB_DYNAMIC
# grows the pool from the 512 KiB that io.sh's dsw and control boots get
# (swiotlb=256,force), with no module. Then `bench/io.sh --report TARGET`
# puts the lab series next to TARGET's base and dsw series (CSVs, plot,
# ratios). TARGET: the Debian kernel to compare with, default 6.12 (the
# lab kernel's own source).
#   1. builds the lab kernel if it is not cached (instant when it is);
#   2. the harness's initramfs for the lab kernel (lab-lib.sh, lab_initrd:
#      busybox, kmod, the lab modules, fio with its libraries, the
#      installed selftests, init.sh as /init);
#   3. DSW_IO_ROUNDS boots (default 2), each as io.sh boots Debian's
#      kernel (1 GiB, 2 vCPUs, the same disks, dsw.io_mib and dsw.io_stall);
#   4. per boot, $DSW_RESULTS/TARGET/bench-io-lab-rN.raw: the line
#        BENCH-HOST target=lab series=lab round=N nslabs=256 ...
#      and the guest's BENCH lines; next to it .console, .markers, .judge
#      (markers, BENCH-DONE, no panic/oops/BUG/WARNING on the console);
#   5. bench/io.sh --report TARGET.
#
# Environment: DSW_IO_ROUNDS, DSW_IO_MIB, DSW_IO_STALL (as io.sh),
# DSW_RESULTS (default results/bench), DSW_TIMEOUT (guest watchdog, default
# 600 s), DSW_LAB_VERSION, DSW_LAB_IMAGE (lab-lib.sh). Exits non-zero if a
# boot or the report failed.
set -uo pipefail
bench=$(cd "$(dirname "$0")" && pwd)
. "$bench/../selftests/qemu/lib.sh"
. "$bench/lab-lib.sh"
export DSW_RESULTS=${DSW_RESULTS:-$DSW_TOP/results/bench}
t=${1:-6.12}
rounds=${DSW_IO_ROUNDS:-2}
mib=${DSW_IO_MIB:-64}
stall=${DSW_IO_STALL:-10}
timeout=${DSW_TIMEOUT:-600}
small=256	# io.sh's dsw and control pool: 512 KiB
start=$(date +%s)

lab_ready lab-io.sh
grep -q '^CONFIG_SYSVIPC=y' "$lab/config" ||
	dsw_die "lab-io: $krel has no CONFIG_SYSVIPC, which fio needs (rebuild: bench/lab-kernel.sh)"
out=$DSW_RESULTS/$t	# next to TARGET's io.sh boots, for --report
mkdir -p "$out"
rm -f "$out"/bench-io-lab-r*.*	# a run with more rounds

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dsw_log "lab-io: initramfs (fio, selftests)"
initrd="$work/initrd.cpio.gz"
lab_initrd --fio "$initrd"

# As boot.sh's command line for io.sh's boots.
append="console=ttyS0 panic=-1 oops=panic panic_on_warn=1 rdinit=/init"
append+=" swiotlb=$small,force dsw.timeout=$timeout dsw.bench=io-lab"
append+=" dsw.io_mib=$mib dsw.io_stall=$stall"
export DSW_DISK_SIZE=$((4 * mib + 64))M

# lab_io_boot ROUND: one boot, its raw file and its judgement.
lab_io_boot() {
	local name=bench-io-lab-r$1 load t0 t1 raw

	raw=$out/$name.raw
	load=$(cut -d' ' -f1 /proc/loadavg)
	dsw_log "lab-io: $krel, round $1: swiotlb=$small,force"
	t0=$(date +%s)
	lab_boot "$name" "$initrd" "$append" $((timeout + 120))
	t1=$(date +%s)
	grep -v '^DSW-' "$out/$name.markers" >"$out/$name.ktap" 2>/dev/null
	{
		echo "BENCH-HOST target=lab series=lab round=$1 nslabs=$small" \
			"load_before=$load load_after=$(cut -d' ' -f1 /proc/loadavg) kernel=$krel"
		tr -d '\r' <"$out/$name.ktap" | grep '^BENCH'
	} >"$raw"
	lab_judge "$name" $((timeout + 120)) DSW-BOOTED DSW-DONE DSW-POWEROFF BENCH-DONE
	grep -q '^BENCH-ERR' "$raw" && problems+=("$(grep -m1 '^BENCH-ERR' "$raw")")
	{
		lab_boot_info "$name"
		# The pool (io_tlb_nslabs, every pool, added ones stay) after each
		# fio job, and over the burst's samples.
		awk '
		function v(k,   i) { for (i = 2; i <= NF; i++) if (index($i, k "=") == 1) return substr($i, length(k) + 2); return "" }
		$1 == "BENCH-IO" { printf "# %s %s KiB x %s: %s, verify %s, pool then %s slabs\n", v("dev"), v("bs_kb"), v("iodepth"), v("outcome"), v("verify"), v("swiotlb_nslabs") }
		$1 == "BENCH-MEM" {
			n = v("static_nslabs") + 0; tr = v("transient_nslabs") + 0
			if (!s++) first = n
			if (n > maxn) maxn = n
			if (tr > maxt) maxt = tr
			last = n; lastt = tr
		}
		END { if (s) printf "# burst samples: pool %d slabs before, %d at most, %d at the end; transient %d slabs at most, %d at the end\n", first, maxn, last, maxt, lastt }' "$raw"
		echo "# boot $((t1 - t0)) s"
		lab_verdict "$name"
	} | tee "$out/$name.judge"
	[ ${#problems[@]} -eq 0 ]
}

rc=0
for r in $(seq 1 "$rounds"); do
	lab_io_boot "$r" || rc=1
done
"$bench/io.sh" --report "$t" || rc=1
echo "lab-io: done in $(($(date +%s) - start)) s; results in $out"
exit $rc
