# SPDX-License-Identifier: MIT
# The ICE bench's pictures (issue 20): gnuplot -e "dir='WORK'; outdir='DOCS'" plot.gp
# after plot.py has written WORK/grid.dat, WORK/cdf-N.dat and WORK/meta.gp.
load dir."/meta.gp"
rgb(c) = c == 0 ? 0x2ca02c : (c == 1 ? 0xff9f1c : 0xd62728)

set terminal svg size 1400,560 dynamic noenhanced font "sans,11" background rgb "white"
set output outdir."/bench-ice-grid.svg"
set multiplot layout 1,ntools title sprintf("Which cells connected (A = controlling / A asks B), %d cells", ncells)
set xrange [-0.5:ngroups - 0.5]
set yrange [npairs - 0.5:-0.5]
unset key
xt = ""
do for [i = 1:ngroups] { xt = xt.sprintf('"%s" %d', word(groups, i), i - 1).(i < ngroups ? ", " : "") }
yt = ""
do for [i = 1:npairs] { yt = yt.sprintf('"%s" %d', word(pairs, i), i - 1).(i < npairs ? ", " : "") }
eval "set xtics (".xt.") rotate by -45 scale 0 font ',9'"
eval "set ytics (".yt.") scale 0 font ',9'"
set lmargin 9
set rmargin 1
set tmargin 4
set bmargin 7
set style fill solid 1.0 noborder
do for [t = 0:ntools - 1] {
	set title word(tools, t + 1)
	if (t == ntools - 1) {
		set key at screen 0.5, 0.03 center bottom horizontal
	}
	plot dir."/grid.dat" using (column(1) == t ? $2 : NaN):3:(0.46):(0.46):(rgb($4)) \
		with boxxyerror lc rgb variable notitle, \
		NaN with boxes lc rgb "#2ca02c" title "direct", \
		NaN with boxes lc rgb "#ff9f1c" title "relayed", \
		NaN with boxes lc rgb "#d62728" title "failed"
}
unset multiplot

set terminal svg size 900,500 dynamic font "sans,12" background rgb "white"
set output outdir."/bench-ice-cdf.svg"
reset
set title sprintf("Time to connect, %d cells (a curve ends at the share of cells that connected)", ncells)
set xlabel "ms: stunt, request to answer; ICE, start of gathering to the selected pair"
set ylabel "share of cells connected"
set logscale x
set xrange [10:20000]
set yrange [0:1]
set grid
set key bottom right
plot for [t = 0:ntools - 1] dir.sprintf("/cdf-%d.dat", t) using 1:2 with steps lw 2 title word(tools, t + 1)
