# SPDX-License-Identifier: GPL-2.0
#
# gnuplot script of bench/coco-mem.sh: dynswiotlb's memory over time in a
# confidential guest's load (selftests/coco.sh), one line per guest size
# of bench-coco.csv, and the static pool such a guest gets by default
# (6 % of its memory, 64 MiB to 1 GiB) as a dashed line of the same
# colour.
#   gnuplot -e "csv='bench-coco.csv'; png='bench-coco.png'; mems='4G 16G'" bench/coco.gp

set datafile separator ','
set datafile columnheaders
set terminal pngcairo size 1000,600 font 'sans,10'
set output png
set grid
set key bottom right opaque
set xlabel 'time since the first sample (s)'
set ylabel 'MiB (log scale)'
set logscale y 2
set yrange [0.5:2048]
set title 'bounce memory of a guest whose every device bounces: dynswiotlb (solid) vs the default static pool (dashed)'

mib(m) = m[strlen(m):strlen(m)] eq 'G' ? 1024.0 * m[1:strlen(m) - 1] : 1.0 * m[1:strlen(m) - 1]
static(m) = (s = mib(m) * 0.06, s < 64 ? 64 : s > 1024 ? 1024 : s)
col(i) = i == 1 ? '#1f77b4' : i == 2 ? '#d62728' : i == 3 ? '#2ca02c' : '#7f7f7f'
pick(m, c) = strcol('ram') eq m ? column(c) : NaN
n = words(mems)

plot for [i = 1:n] csv using (pick(word(mems, i), 't_ms') / 1000.0):(pick(word(mems, i), 'pool_kb') / 1024.0) \
	with steps lw 2 lc rgb col(i) title sprintf('%s guest: dynswiotlb pool', word(mems, i)), \
     for [i = 1:n] static(word(mems, i)) with lines dt 2 lw 2 lc rgb col(i) \
	title sprintf('%s guest: static pool by default (%.0f MiB)', word(mems, i), static(word(mems, i)))
