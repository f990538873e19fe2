# SPDX-License-Identifier: GPL-2.0
#
# gnuplot script of bench/io.sh: bounce memory over time, one line per
# series of bench-mem.csv (round 1), with the burst shaded.
#   gnuplot -e "csv='bench-mem.csv'; png='bench-mem.png'; series='base dsw';
#               t0=1.0; t1=9.2; ttl='6.1: ...'" bench/mem.gp
# Columns are found by name in the CSV header: series, round, t_ms,
# bounce_kb (static slabs + transient slabs + dynswiotlb's pool), inuse_kb
# (static and transient slabs used + dynswiotlb's live bytes), memfree_kb.
# For the lab kernel (CONFIG_SWIOTLB_DYNAMIC) the static slabs count the
# pools it added, which it keeps: its line does not come back down to the
# boot pool.

set datafile separator ','
set datafile columnheaders
set terminal pngcairo size 1000,1100 font 'sans,10'
set output png
set grid
set xlabel 'time (s)'
set style rect fc rgb '#eeeeee' fs solid 1.0 noborder
set object 1 rect from t0, graph 0 to t1, graph 1 behind
set key top right

col(s) = s eq 'base' ? '#1f77b4' : s eq 'dsw' ? '#d62728' : s eq 'lab' ? '#2ca02c' : '#7f7f7f'
name(s) = s eq 'base' ? 'base: big static pool, no module' : \
	s eq 'dsw' ? 'dsw: small static pool + dynswiotlb' : \
	s eq 'lab' ? 'lab: small pool, CONFIG\_SWIOTLB\_DYNAMIC' : s
# pick(S, C): column C of a round-1 row of series S, else NaN (not drawn)
pick(s, c) = (strcol('series') eq s && column('round') == 1) ? column(c) : NaN
t(s) = pick(s, 't_ms') / 1000.0

set multiplot layout 3,1 title ttl
set title 'bounce memory held: static pool + dynamic (MiB, log scale; burst shaded)'
set ylabel 'MiB'
set logscale y 2
set yrange [0.25:256]
plot for [s in series] csv using (t(s)):(pick(s, 'bounce_kb') / 1024.0) \
	with steps lw 2 lc rgb col(s) title name(s)
unset logscale y
set yrange [0:*]
set title 'bounce memory in use by I/O at the sample (MiB)'
plot for [s in series] csv using (t(s)):(pick(s, 'inuse_kb') / 1024.0) \
	with steps lw 1.5 lc rgb col(s) title name(s)
set title 'MemFree (MiB)'
set yrange [*:*]
plot for [s in series] csv using (t(s)):(pick(s, 'memfree_kb') / 1024.0) \
	with steps lw 2 lc rgb col(s) title name(s)
unset multiplot
