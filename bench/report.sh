#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/report.sh RESULTS TARGET...: turn the guests' "BENCH ..." lines
# (RESULTS/<target>/bench-map.raw) into CSV files and the tables of
# docs/performance.md, with every ratio taken against the kernel's static
# swiotlb measured in the same boot, and the targets checked.
set -uo pipefail
res=${1:?usage: report.sh RESULTS TARGET...}
shift

# CSV columns: every key of a BENCH line, in this order (round: the
# pass over the matrix, selftests/bench.sh; 1 in lines without it).
cols="round contender op dev threads size dir bits live elapsed failures bounced bytes
seconds map_us map_sd unmap_us unmap_sd
ops mean stddev min p50 p99 max
map_ops map_mean map_stddev map_min map_p50 map_p99 map_max
sync_ops sync_mean sync_stddev sync_min sync_p50 sync_p99 sync_max
unmap_ops unmap_mean unmap_stddev unmap_min unmap_p50 unmap_p99 unmap_max"

# A ratio is unstable when its rounds spread by more than this fraction of
# their median: then it is reported, not judged.
spread=${DSW_BENCH_SPREAD:-0.10}

tocsv() { # tocsv RAW: the BENCH lines as CSV
	awk -v cols="$(echo $cols)" '
	BEGIN { n = split(cols, c, " "); for (i = 1; i <= n; i++) printf "%s%s", c[i], i < n ? "," : "\n" }
	$1 == "BENCH" {
		delete v
		v["round"] = 1
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		for (i = 1; i <= n; i++) printf "%s%s", v[c[i]], i < n ? "," : "\n"
	}' "$1"
}

# The awk functions report() and versus() share: medians and spreads of
# per-round values. A "list" is a string of values joined by spaces.
stats_awk='
	function lmed(l,   v, n, i, j, x) {
		n = split(l, v, " ")
		if (!n) return -1
		for (i = 2; i <= n; i++) { x = v[i] + 0; for (j = i - 1; j >= 1 && v[j] + 0 > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
		return n % 2 ? v[(n + 1) / 2] + 0 : (v[n / 2] + v[n / 2 + 1]) / 2
	}
	function lmin(l,   v, n, i, m) { n = split(l, v, " "); m = v[1] + 0; for (i = 2; i <= n; i++) if (v[i] + 0 < m) m = v[i] + 0; return m }
	function lmax(l,   v, n, i, m) { n = split(l, v, " "); m = v[1] + 0; for (i = 2; i <= n; i++) if (v[i] + 0 > m) m = v[i] + 0; return m }
	function lcount(l,   v) { return split(l, v, " ") }
	function lunstable(l,   m) { m = lmed(l); return lcount(l) > 1 && m > 0 && (lmax(l) - lmin(l)) / m > SPREAD }
	# "median [min-max]", and "~" when unstable
	function lfmt(l, d) {
		if (!lcount(l)) return "n/a"
		if (lcount(l) == 1) return sprintf("%." d "f", lmed(l))
		return sprintf("%." d "f [%." d "f-%." d "f]%s", lmed(l), lmin(l), lmax(l), lunstable(l) ? "~" : "")
	}
	function ladd(l, x) { return l == "" ? x "" : l " " x }
	# the keys of k ("size" SUBSEP "threads") into o[1..n] by size, then
	# threads; return n
	function sort2(k, o,   n, i, j, x, a, b) {
		n = 0
		for (x in k) o[++n] = x
		for (i = 2; i <= n; i++) { x = o[i]; split(x, a, SUBSEP)
			for (j = i - 1; j >= 1; j--) { split(o[j], b, SUBSEP)
				if (b[1] + 0 < a[1] + 0 || (b[1] == a[1] && b[2] + 0 <= a[2] + 0)) break
				o[j + 1] = o[j] }
			o[j + 1] = x }
		return n
	}
'

report() { # report CSV TITLE
	awk -F, -v title="$2" -v SPREAD="$spread" "$stats_awk"'
	NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
	function f(k) { return $col[k] }
	{
		key = f("contender") SUBSEP f("size") SUBSEP f("threads")
		if (f("op") == "lookup") {
			lk[f("contender"), f("live")] = 1
			lmap[f("contender"), f("live")] = f("map_mean")
			lsync[f("contender"), f("live")] = f("sync_mean")
			lun[f("contender"), f("live")] = f("unmap_mean")
			lunp50[f("contender"), f("live")] = f("unmap_p50")
			lives[f("live")] = 1
			next
		}
		if (f("op") == "kernel-tool") next	# mapbench(): the other judge
		r = f("round"); rounds[r] = 1
		sizes[f("size")] = 1; thr[f("threads")] = 1
		if (!f("ops")) next
		has[key] = 1
		mean[key, r] = f("mean"); p50[key, r] = f("p50"); p99[key, r] = f("p99")
		ops[key, r] = f("ops")
		# elapsed is in ns: bytes * 1000 / ns is MB/s
		bw[key, r] = f("elapsed") ? f("bytes") * 1000 / f("elapsed") : 0
		tput[key, r] = f("elapsed") ? f("ops") * 1e9 / f("elapsed") : 0
		ml[key] = ladd(ml[key], f("mean")); pl[key] = ladd(pl[key], f("p50"))
		ql[key] = ladd(ql[key], f("p99"))
	}
	function cell(c, s, t,   k) {
		k = c SUBSEP s SUBSEP t
		if (!(k in has)) return sprintf("%18s", "n/a")
		return sprintf("%7d %5d %5d", lmed(ml[k]), lmed(pl[k]), lmed(ql[k]))
	}
	# per-round values of a quantity q of contender c against contender b
	# of the same round (q: m mean, p p50, t throughput c/b, w bandwidth
	# c/b, pw p50 b/c, b99 p99/p50 of c alone)
	function rl(c, b, s, t, q,   k, o, r, l) {
		k = c SUBSEP s SUBSEP t; o = b SUBSEP s SUBSEP t; l = ""
		for (r in rounds) {
			if (!((k, r) in ops)) continue
			if (q == "b99") { if (p50[k, r]) l = ladd(l, p99[k, r] / p50[k, r]); continue }
			if (!((o, r) in ops)) continue
			if (q == "m" && mean[o, r]) l = ladd(l, mean[k, r] / mean[o, r])
			if (q == "p" && p50[o, r]) l = ladd(l, p50[k, r] / p50[o, r])
			# pj: the p50 ratio, or the mean ratio where the two p50s
			# are at most one histogram step apart (dswbench: 32 linear
			# steps per power of two, 1.6-3.1 %): a 1.03 target cannot be
			# judged on a quantity quantised that coarsely
			if (q == "pj" && p50[o, r] && mean[o, r])
				l = ladd(l, absd(p50[k, r], p50[o, r]) <= hstep(p50[o, r]) ? mean[k, r] / mean[o, r] : p50[k, r] / p50[o, r])
			if (q == "t" && tput[o, r]) l = ladd(l, tput[k, r] / tput[o, r])
			if (q == "w" && bw[o, r]) l = ladd(l, bw[k, r] / bw[o, r])
			if (q == "pw" && p50[k, r]) l = ladd(l, p50[o, r] / p50[k, r])
		}
		return l
	}
	function hs(s) { return s >= 1048576 ? s / 1048576 "M" : s / 1024 "K" }
	function absd(a, b) { return a > b ? a - b : b - a }
	# dswbench histogram step at x ns: 2^(floor(log2 x) - 5)
	function hstep(x,   e) { e = 1; while (e * 2 <= x) e *= 2; return e / 32 }
	# judge NAME LIMIT LE: the cells of the target collected in tl[1..tn]
	# (lists) and tw[1..tn] (where); LE: 1 for "<= LIMIT", 0 for ">="
	function judge(name, limit, le,   i, m, worst, ww, wl, miss, unst, allin, l) {
		if (!tn) { printf "- %s: not measured\n", name; return }
		worst = ""; miss = 0; unst = 0; allin = 1
		for (i = 1; i <= tn; i++) {
			l = tl[i]; m = lmed(l)
			if (worst == "" || (le ? m > worst : m < worst)) { worst = m; ww = tw[i]; wl = l }
			if (le ? lmax(l) > limit : lmin(l) < limit) allin = 0
			# every round beyond the limit: missed, however they spread
			if (le ? lmin(l) > limit : lmax(l) < limit) miss++
			else if (lunstable(l)) unst++
			else if (le ? m > limit : m < limit) miss++
		}
		printf "- %s: worst %s (%s), %d cells, %d unstable: %s\n", name, lfmt(wl, 3), ww, tn, unst,
			miss ? "MISSED" : unst ? (allin ? "UNSTABLE (every round within the target)" : "UNSTABLE") : "MET"
		tn = 0
	}
	function want(l, w) { if (lcount(l)) { tl[++tn] = l; tw[tn] = w } }
	END {
		ns = asort_keys(sizes, S); nt = asort_keys(thr, T); nr = asort_keys(rounds, RR)
		printf "\n### %s: map + unmap, ns (median over %d rounds of mean p50 p99); ratios to static in the same round: p50 median [min-max] (means)\n\n", title, nr
		printf "| size | thr | direct | static | dsw-pass | dsw-pass/static | dsw-dyn | dsw-dyn/static |\n"
		printf "|---|---|---|---|---|---|---|---|\n"
		for (i = 1; i <= ns; i++) for (j = 1; j <= nt; j++) {
			s = S[i]; t = T[j]
			printf "| %s | %s | %s | %s | %s | %s (%s) | %s | %s (%s) |\n", hs(s), t,
				cell("direct", s, t), cell("static", s, t),
				cell("dsw-pass", s, t), lfmt(rl("dsw-pass", "static", s, t, "p"), 2),
				lfmt(rl("dsw-pass", "static", s, t, "m"), 2),
				cell("dsw-dyn", s, t), lfmt(rl("dsw-dyn", "static", s, t, "p"), 2),
				lfmt(rl("dsw-dyn", "static", s, t, "m"), 2)
		}
		printf "\n### %s: bounce bandwidth against memcpy of the same copies, per round: p50 (memcpy p50 / contender p50) and bytes / elapsed\n\n", title
		printf "| size | thr | memcpy MB/s | static p50 | dsw-dyn p50 | dsw-dyn bytes/elapsed | dsw-dyn p99/p50 |\n"
		printf "|---|---|---|---|---|---|---|\n"
		for (i = 1; i <= ns; i++) for (j = 1; j <= nt; j++) {
			s = S[i]; t = T[j]; ml2 = ""
			for (r in rounds) if (("memcpy" SUBSEP s SUBSEP t, r) in bw) ml2 = ladd(ml2, bw["memcpy" SUBSEP s SUBSEP t, r])
			printf "| %s | %s | %s | %s | %s | %s | %s |\n", hs(s), t, lfmt(ml2, 0),
				lfmt(rl("static", "memcpy", s, t, "pw"), 2), lfmt(rl("dsw-dyn", "memcpy", s, t, "pw"), 2),
				lfmt(rl("dsw-dyn", "memcpy", s, t, "w"), 2), lfmt(rl("dsw-dyn", "", s, t, "b99"), 2)
		}
		if (nt > 1) {
			printf "\n### %s: throughput (operations / s, all threads) against static in the same round\n\n", title
			printf "| size | thr | dsw-pass/static | dsw-dyn/static |\n|---|---|---|---|\n"
			for (i = 1; i <= ns; i++) for (j = 1; j <= nt; j++) {
				s = S[i]; t = T[j]
				printf "| %s | %s | %s | %s |\n", hs(s), t,
					lfmt(rl("dsw-pass", "static", s, t, "t"), 2), lfmt(rl("dsw-dyn", "static", s, t, "t"), 2)
			}
		}
		nl = asort_keys(lives, L)
		if (nl) {
			printf "\n### %s: lookup scaling, 512-byte buffers, ns (mean) with N live\n\n", title
			printf "| live | static map | static sync | static unmap | dsw-dyn map | dsw-dyn sync | dsw-dyn unmap | dsw-dyn unmap p50 | unmap p50 / p50(1) |\n"
			printf "|---|---|---|---|---|---|---|---|---|\n"
			for (i = 1; i <= nl; i++) {
				l = L[i]; a = "static" SUBSEP l; d = "dsw-dyn" SUBSEP l
				printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", l,
					(a in lk) ? lmap[a] : "n/a", (a in lk) ? lsync[a] : "n/a",
					(a in lk) ? lun[a] : "n/a",
					(d in lk) ? lmap[d] : "n/a", (d in lk) ? lsync[d] : "n/a",
					(d in lk) ? lun[d] : "n/a", (d in lk) ? lunp50[d] : "n/a",
					((d in lk) && lunp50["dsw-dyn", L[1]] ? sprintf("%.2f", lunp50[d] / lunp50["dsw-dyn", L[1]]) : "n/a")
			}
		}
		# The targets of the performance issue, judged on per-round
		# medians (p50: under TCG the means carry vCPU preemption
		# outliers of milliseconds); a cell whose rounds spread by more
		# than SPREAD of their median is unstable, not judged.
		have_dsw = 0
		for (k in has) if (index(k, "dsw-") == 1) have_dsw = 1
		if (!have_dsw) exit	# a kernel without the module: no targets
		printf "\n### %s: targets (p50 ratios per round; median [min-max]; ~: rounds spread > %.0f %%)\n\n", title, SPREAD * 100
		tn = 0
		for (i = 1; i <= ns; i++) for (j = 1; j <= nt; j++)
			want(rl("dsw-pass", "static", S[i], T[j], "pj"), hs(S[i]) "/" T[j] " thr")
		judge("dsw-pass/static <= 1.03 at every size and thread count (p50; means where the p50s are a histogram step apart)", 1.03, 1)
		want(rl("dsw-dyn", "static", 4096, 1, "pj"), "4K/1 thr")
		judge("dsw-dyn/static <= 1.15 at 4 KiB, 1 thread (likewise)", 1.15, 1)
		for (i = 1; i <= ns; i++)
			want(rl("dsw-dyn", "static", S[i], 2, "t"), hs(S[i]) "/2 thr")
		judge("dsw-dyn throughput >= static at 2 threads", 1.0, 0)
		for (i = 1; i <= ns; i++) for (j = 1; j <= nt; j++)
			if (S[i] >= 65536) want(rl("dsw-dyn", "memcpy", S[i], T[j], "pw"), hs(S[i]) "/" T[j] " thr")
		judge("dsw-dyn bounce bandwidth >= 0.9 x memcpy from 64 KiB to 1 MiB (p50)", 0.9, 0)
		for (i = 1; i <= ns; i++) for (j = 1; j <= nt; j++)
			if (S[i] >= 65536) want(rl("dsw-dyn", "", S[i], T[j], "b99"), hs(S[i]) "/" T[j] " thr")
		judge("dsw-dyn p99 <= 3 x p50 from 64 KiB to 1 MiB", 3, 1)
		if (nl && lun["dsw-dyn", L[1]] && (("dsw-dyn" SUBSEP L[nl]) in lk)) {
			r = lunp50["dsw-dyn", L[nl]] / lunp50["dsw-dyn", L[1]]
			m = lun["dsw-dyn", L[nl]] / lun["dsw-dyn", L[1]]
			printf "- unmap with %s live <= 1.2 x unmap with %s live: %.2f [means: %.2f] %s (one round)\n", L[nl], L[1], r, m, (r <= 1.2 ? "MET" : "MISSED")
		}
	}
	# sort the keys of a numerically into b[1..n]; return n
	function asort_keys(a, b,   k, n, i, j, x) {
		n = 0
		for (k in a) b[++n] = k + 0
		for (i = 2; i <= n; i++) { x = b[i]; for (j = i - 1; j >= 1 && b[j] > x; j--) b[j + 1] = b[j]; b[j + 1] = x }
		return n
	}' "$1"
}

# versus D_CSV E_CSV D_NAME E_NAME: dynswiotlb's dynamic path (dsw-dyn) in
# one boot against the kernel's own growing pool (the "static" contender of
# a CONFIG_SWIOTLB_DYNAMIC kernel) in another: each normalised by its own
# boot's memcpy of the same size, threads and round, the median over the
# rounds of each, then compared.
versus() {
	awk -F, -v dn="$3" -v en="$4" -v SPREAD="$spread" "$stats_awk"'
	FNR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; file++; next }
	function f(k) { return $col[k] }
	{
		k = f("size") SUBSEP f("threads")
		if (f("op") == "lookup") {
			if (file == 1 && f("contender") == "dsw-dyn") dl[f("live")] = f("unmap_p50")
			if (file == 2 && f("contender") == "static") el[f("live")] = f("unmap_p50")
			lives[f("live")] = 1
			next
		}
		r = f("round")
		if (f("ops") && ((file == 1 && f("contender") == "dsw-dyn") || (file == 2 && f("contender") == "static")))
			v[file, k, r] = f("p50")
		if (f("contender") == "memcpy" && f("ops")) cp[file, k, r] = f("p50")
		rounds[file, k, r] = 1
		keys[k] = 1
	}
	END {
		for (x in rounds) {
			split(x, a, SUBSEP)
			if ((x in v) && (x in cp) && cp[x]) {
				nl[a[1], a[2] SUBSEP a[3]] = ladd(nl[a[1], a[2] SUBSEP a[3]], v[x] / cp[x])
				al[a[1], a[2] SUBSEP a[3]] = ladd(al[a[1], a[2] SUBSEP a[3]], v[x])
				cl[a[1], a[2] SUBSEP a[3]] = ladd(cl[a[1], a[2] SUBSEP a[3]], cp[x])
			}
		}
		printf "\n### dynswiotlb dynamic (%s) vs upstream SWIOTLB_DYNAMIC (%s): map + unmap p50, ns (medians over rounds)\n\n", dn, en
		printf "Each normalised by its own boot'"'"'s memcpy p50 (same size, threads and round); < 1 means dynswiotlb is faster.\n\n"
		printf "| size | thr | dsw-dyn | memcpy | upstream | memcpy | dsw-dyn/memcpy | upstream/memcpy | ratio |\n"
		printf "|---|---|---|---|---|---|---|---|---|\n"
		n = sort2(keys, order)
		for (i = 1; i <= n; i++) {
			k = order[i]; split(k, a, SUBSEP)
			if (!lcount(nl[1, k]) || !lcount(nl[2, k])) {
				printf "| %s | %s | %s | | %s | | | | n/a |\n", a[1], a[2], lcount(al[1, k]) ? lmed(al[1, k]) : "n/a", lcount(al[2, k]) ? lmed(al[2, k]) : "n/a"
				continue
			}
			rd = lmed(nl[1, k]); re = lmed(nl[2, k])
			printf "| %s | %s | %d | %d | %d | %d | %s | %s | %.2f |\n", a[1], a[2], lmed(al[1, k]), lmed(cl[1, k]),
				lmed(al[2, k]), lmed(cl[2, k]), lfmt(nl[1, k], 3), lfmt(nl[2, k], 3), rd / re
		}
		printf "\n| live | dsw-dyn unmap p50 | upstream unmap p50 |\n|---|---|---|\n"
		n = 0
		for (l in lives) lv[++n] = l + 0
		for (i = 2; i <= n; i++) { x = lv[i]; for (j = i - 1; j >= 1 && lv[j] > x; j--) lv[j + 1] = lv[j]; lv[j + 1] = x }
		for (i = 1; i <= n; i++) { l = lv[i]; printf "| %s | %s | %s |\n", l, (l in dl) ? dl[l] : "n/a", (l in el) ? el[l] : "n/a" }
	}' "$1" "$2"
}

# mapbench CSV: the kernel's dma_map_benchmark (op=kernel-tool: average
# map and unmap in µs, floored to 0.1 µs per sample) beside dswbench (op=map:
# mean of map + unmap in ns) on the same contenders in the same boot
# (bench/mapbench.sh), per round, median [min-max] over the rounds.
mapbench() {
	awk -F, -v SPREAD="$spread" "$stats_awk"'
	NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
	function f(k) { return $col[k] }
	{
		k = f("contender") SUBSEP f("size") SUBSEP f("threads"); r = f("round")
		sizes[f("size")] = 1; thr[f("threads")] = 1; rounds[r] = 1
		if (f("op") == "kernel-tool" && f("map_us") != "") {
			kt[k, r] = f("map_us") + f("unmap_us"); ktl[k] = ladd(ktl[k], kt[k, r])
		} else if (f("op") == "map" && f("ops")) {
			ds[k, r] = f("mean") / 1000; dsl[k] = ladd(dsl[k], ds[k, r])
		}
	}
	# per-round ratios of contender c to static under judge a (kt or ds)
	function rr(a, c, s, t,   k, b, r, l) {
		k = c SUBSEP s SUBSEP t; b = "static" SUBSEP s SUBSEP t; l = ""
		for (r in rounds) {
			if (a == "kt" && ((k, r) in kt) && ((b, r) in kt) && kt[b, r]) l = ladd(l, kt[k, r] / kt[b, r])
			if (a == "ds" && ((k, r) in ds) && ((b, r) in ds) && ds[b, r]) l = ladd(l, ds[k, r] / ds[b, r])
		}
		return l
	}
	function hs(s) { return s >= 1048576 ? s / 1048576 "M" : s / 1024 "K" }
	END {
		n = 0; for (x in sizes) S[++n] = x + 0; ns = n
		for (i = 2; i <= ns; i++) { x = S[i]; for (j = i - 1; j >= 1 && S[j] > x; j--) S[j + 1] = S[j]; S[j + 1] = x }
		n = 0; for (x in thr) T[++n] = x + 0; nt = n
		for (i = 2; i <= nt; i++) { x = T[i]; for (j = i - 1; j >= 1 && T[j] > x; j--) T[j + 1] = T[j]; T[j + 1] = x }
		nr = 0; for (x in rounds) nr++
		printf "\n### the kernel'"'"'s dma_map_benchmark beside dswbench: map + unmap, µs (median [min-max] over %d rounds; ~: spread > %.0f %%)\n\n", nr, SPREAD * 100
		printf "| size | thr | contender | kernel tool | dswbench | tool - dswbench | tool: x static | dswbench: x static |\n"
		printf "|---|---|---|---|---|---|---|---|\n"
		for (i = 1; i <= ns; i++) for (j = 1; j <= nt; j++) for (c = 1; c <= 3; c++) {
			cn = c == 1 ? "static" : c == 2 ? "dsw-pass" : "dsw-dyn"
			k = cn SUBSEP S[i] SUBSEP T[j]
			d = (lcount(ktl[k]) && lcount(dsl[k])) ? sprintf("%+.1f", lmed(ktl[k]) - lmed(dsl[k])) : "n/a"
			printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", hs(S[i]), T[j], cn,
				lfmt(ktl[k], 1), lfmt(dsl[k], 2), d,
				c == 1 ? "1" : lfmt(rr("kt", cn, S[i], T[j]), 2), c == 1 ? "1" : lfmt(rr("ds", cn, S[i], T[j]), 2)
		}
	}' "$1"
}

# locks RAW TITLE: how often dsw-dyn's CPUs waited for the device's
# bounce lock (BENCH-LOCK lines: statistics/lock_contended and dynamic
# over one measurement), per cell, median [min-max] over the rounds.
locks() {
	grep -q '^BENCH-LOCK' "$1" || return 0
	tr -d '\r' <"$1" | awk -v title="$2" -v SPREAD="$spread" "$stats_awk"'
	$1 == "BENCH-LOCK" {
		delete v
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		k = v["size"] + 0 SUBSEP v["threads"] + 0; keys[k] = 1
		if (v["dynamic"] > 0) wl[k] = ladd(wl[k], v["contended"] / v["dynamic"])
		nl[k] = ladd(nl[k], v["dynamic"])
	}
	END {
		printf "\n### %s: dsw-dyn, waits for the bounce lock per dynamic mapping (statistics/lock_contended)\n\n", title
		printf "| size | thr | dynamic mappings | lock waits per mapping |\n|---|---|---|---|\n"
		n = sort2(keys, o)
		for (i = 1; i <= n; i++) {
			split(o[i], a, SUBSEP)
			printf "| %s | %s | %s | %s |\n", (a[1] >= 1048576 ? a[1] / 1048576 "M" : a[1] / 1024 "K"), a[2],
				lfmt(nl[o[i]], 0), lfmt(wl[o[i]], 4)
		}
	}'
}

for t in "$@"; do
	raw=$res/$t/bench-map.raw
	[ -s "$raw" ] || { echo "report: $raw missing"; continue; }
	tocsv "$raw" >"$res/$t/bench-map.csv"
	echo "## $t: $(sed -n 's/^BENCH-INFO \(kernel=[^ ]* cpus=[^ ]* mem_kb=[^ ]* swiotlb_slabs=[^ ]* ms=[^ ]*\( rounds=[^ ]* accel=[^ ]*\)\{0,1\}\).*/\1/p' "$raw" | head -1)"
	[ "$t" = lab ] &&
		echo "(lab kernel: \"static\" is the kernel's own swiotlb, which grows there: CONFIG_SWIOTLB_DYNAMIC)"
	report "$res/$t/bench-map.csv" "$t"
	[ "$t" = mapbench ] && mapbench "$res/$t/bench-map.csv"
	locks "$raw" "$t"
	grep '^BENCH-ERR' "$raw" | sed 's/^/    /'
done
# The lab kernel against the Debian kernel of the same source (6.12).
case " $* " in *" lab "*" 6.12 "*|*" 6.12 "*" lab "*) both=1 ;; *) both= ;; esac
if [ -n "$both" ] && [ -s "$res/lab/bench-map.csv" ] && [ -s "$res/6.12/bench-map.csv" ]; then
	versus "$res/6.12/bench-map.csv" "$res/lab/bench-map.csv" "Debian 6.12" "lab 6.12"
fi
