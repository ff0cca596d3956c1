set terminal pngcairo size 640,400 font ',9'
reset
set output 'bench/results/start-cost-11/h200-am-1-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-11/plots/h200-am-1-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-11/h200-am-1-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-11/plots/h200-am-1-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-11/h200-am-2-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-11/plots/h200-am-2-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-11/h200-am-2-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-11/plots/h200-am-2-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-11/h200-am-3-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-11/plots/h200-am-3-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-11/h200-am-3-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-11/plots/h200-am-3-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-11/h200-am-4-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-11/plots/h200-am-4-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-11/h200-am-4-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-11/plots/h200-am-4-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-11/h200-am-5-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-11/plots/h200-am-5-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-11/h200-am-5-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-11/plots/h200-am-5-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-11/h200-am-6-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-11/plots/h200-am-6-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-11/h200-am-6-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-11/plots/h200-am-6-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-11/h200-am-conc-1-concurrency.png'

set title "concurrent starts (1 GPU each)"
set xlabel "containers started at once"
set ylabel "ms"
set logscale xy
set key left top
plot "bench/results/start-cost-11/plots/h200-am-conc-1-concurrency.dat" using 1:2 with linespoints title "hook median", \
     "" using 1:3 with linespoints title "hook p95", \
     "" using 1:4 with linespoints title "runc run median", \
     "" using 1:5 with linespoints title "runc run p95"

reset
set output 'bench/results/start-cost-11/h200-am-conc-2-concurrency.png'

set title "concurrent starts (1 GPU each)"
set xlabel "containers started at once"
set ylabel "ms"
set logscale xy
set key left top
plot "bench/results/start-cost-11/plots/h200-am-conc-2-concurrency.dat" using 1:2 with linespoints title "hook median", \
     "" using 1:3 with linespoints title "hook p95", \
     "" using 1:4 with linespoints title "runc run median", \
     "" using 1:5 with linespoints title "runc run p95"

