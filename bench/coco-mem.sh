#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/coco-mem.sh [TARGET]: a confidential guest's memory bill. A guest
# where every device bounces gets a static pool of 6 % of its memory,
# between 64 MiB and 1 GiB (arch/x86/mm/mem_encrypt.c,
# mem_encrypt_setup_arch(): SEV and TDX guests), held for ever. Here the
# same shape without the hardware: selftests/coco.sh (swiotlb=128,force,
# dynswiotlb attached to every device, the four disks and two NICs
# busy at once with checksummed data), in guests of DSW_COCO_MEM (default
# "4G 16G"), with the module's memory sampled every 200 ms
# (selftests/bench_coco.sh). Prints a table: the default static pool
# against the module's peak, idle (links up, receive rings mapped) and
# drivers-unbound memory, the idle share of the static pool (target:
# at most a tenth) and coco.sh's verdict on the return to the reserves
# (within shrink_delay_ms + 1 s); and plots the samples.
#
# Default TARGET 6.12. Results in $DSW_RESULTS/TARGET/ (default
# results/bench): bench-coco-MEM.{judge,ktap,console}, bench-coco.csv
# (ram, t_ms, pool_kb, live_kb), bench-coco.png, bench-coco.md.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export DSW_RESULTS=${DSW_RESULTS:-$top/results/bench}
q=$top/selftests/qemu
. "$q/lib.sh"
t=${1:-6.12}
mems=${DSW_COCO_MEM:-4G 16G}
out=$DSW_RESULTS/$t
mkdir -p "$out"

"$q/setup-host.sh" || exit 1
"$q/chroot.sh" "$(dsw_target_release "$t")" >/dev/null || exit 1
"$q/fetch-kernel.sh" "$t" >/dev/null || exit 1
dsw_build_for_guests "$t" || exit 1

sw=128,1,force
[ "$t" = 5.10 ] && sw=128,force	# 5.10's swiotlb= has no area count
rc=0
rm -f "$out/bench-coco.md"
for m in $mems; do
	name=bench-coco-$m
	echo "== $t: a confidential guest of $m: coco.sh with the module's memory sampled"
	DSW_BENCH=coco DSW_SWIOTLB=$sw DSW_MEM=$m DSW_VARIANT=net,usb,sata DSW_TIMEOUT=1500 \
		"$q/boot.sh" "$t" "$name" >"$out/$name.judge"
	if ! grep -q '^ok - boot' "$out/$name.judge" || ! grep -q '^BENCH-DONE' "$out/$name.ktap"; then
		echo "bench: $t: $name failed:"
		tail -n 30 "$out/$name.judge"
		rc=1
	fi
	# coco.sh's own failures (a checksum, a failed mapping, a skip) make
	# the memory figures of that boot worthless: the run fails
	if grep -qaE '^ *not ok|^BENCH-INFO coco.sh exit [^0]' "$out/$name.ktap"; then
		grep -aE '^ *not ok|^BENCH-INFO coco.sh exit' "$out/$name.ktap" | sed "s/^/bench: $t $m: /"
		rc=1
	fi
done

# The samples as CSV; the table from coco.sh's own memory line.
for m in $mems; do
	tr -d '\r' <"$out/bench-coco-$m.ktap" 2>/dev/null | awk -v ram="$m" '
	$1 == "BENCH-COCO" {
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		if (t0 == "") t0 = v["t_ms"]
		printf "%s,%d,%d,%d\n", ram, v["t_ms"] - t0, v["pool_bytes"] / 1024, v["live_bytes"] / 1024
	}'
done | sed '1i ram,t_ms,pool_kb,live_kb' >"$out/bench-coco.csv"

{
	echo
	echo "## $t: a confidential guest's memory bill (bench/coco-mem.sh)"
	echo
	echo "Every device bounces (swiotlb=$sw); selftests/coco.sh's load: four disks written and"
	echo "read back and two NICs in full duplex at once, checksummed. The default static pool is"
	echo "what a SEV or TDX guest of that size reserves: 6 % of memory, 64 MiB to 1 GiB, for ever."
	echo
	echo "| guest | default static pool | module peak | idle, links up | drivers unbound (reserves) | idle / static | idle <= 1/10 of static | back to the reserves (coco.sh) |"
	echo "|---|---|---|---|---|---|---|---|"
	for m in $mems; do
		k=$out/bench-coco-$m.ktap
		line=$(tr -d '\r' <"$k" 2>/dev/null | grep -a 'module memory over the' | head -n1)
		# coco.sh's own TAP line (nested: "    ok N description")
		back=$(tr -d '\r' <"$k" 2>/dev/null | grep -a -E '^ *(not )?ok [0-9]+ .*idle memory back to the reserves' |
			head -n1 | awk '{ print $1 == "not" ? "not ok" : "ok" }')
		[ -n "$line" ] && [ -n "$back" ] || rc=1
		mib=$(echo "$m" | awk '/G$/ { print $1 * 1024; next } /M$/ { print $1 + 0 }')
		echo "$line" | awk -v m="$m" -v mib="$mib" -v back="${back:-no verdict}" '
		function kb(re,   s) { if (!match($0, re)) return -1; s = substr($0, RSTART, RLENGTH); gsub(/[^0-9]/, "", s); return s + 0 }
		{
			st = mib * 1024 * 6 / 100
			if (st < 65536) st = 65536
			if (st > 1048576) st = 1048576
			peak = kb("peak [0-9]+ KiB"); idle = kb("links up [0-9]+ KiB"); rest = kb("unbound [0-9]+ KiB")
			res = kb("reserves: [0-9]+ KiB")
			if (peak < 0) { printf "| %s | %.0f MiB | n/a (no memory line from coco.sh) | | | | | %s |\n", m, st / 1024, back; next }
			printf "| %s | %.0f MiB | %.1f MiB | %.1f MiB | %.1f MiB (%.1f MiB) | %.4f | %s | %s |\n", m, st / 1024,
				peak / 1024, idle / 1024, rest / 1024, res / 1024, idle / st,
				idle / st <= 0.1 ? "MET" : "MISSED", back == "ok" ? "MET" : "MISSED (" back ")"
		}'
	done
} | tee "$out/bench-coco.md"

if [ "$(wc -l <"$out/bench-coco.csv")" -gt 1 ]; then
	gnuplot -e "csv='$out/bench-coco.csv'; png='$out/bench-coco.png'; mems='$mems'" \
		"$top/bench/coco.gp" || { echo "bench: $t: gnuplot failed"; rc=1; }
	echo "plot: $out/bench-coco.png"
fi
exit $rc
