set terminal pngcairo size 640,400 font ',9'
reset
set output 'bench/results/start-cost-3/h200-a-after-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-3/plots/h200-a-after-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-3/h200-a-after-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-3/plots/h200-a-after-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-3/h200-a-before-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-3/plots/h200-a-before-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-3/h200-a-before-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-3/plots/h200-a-before-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-3/h200-b-after-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-3/plots/h200-b-after-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-3/h200-b-after-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-3/plots/h200-b-after-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-3/h200-b-before-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-3/plots/h200-b-before-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-3/h200-b-before-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-3/plots/h200-b-before-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-3/h200-b-conc-concurrency.png'

set title "concurrent starts (1 GPU each)"
set xlabel "containers started at once"
set ylabel "ms"
set logscale xy
set key left top
plot "bench/results/start-cost-3/plots/h200-b-conc-concurrency.dat" using 1:2 with linespoints title "hook median", \
     "" using 1:3 with linespoints title "hook p95", \
     "" using 1:4 with linespoints title "runc run median", \
     "" using 1:5 with linespoints title "runc run p95"

reset
set output 'bench/results/start-cost-3/h200-c-after-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-3/plots/h200-c-after-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-3/h200-c-after-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-3/plots/h200-c-after-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-3/h200-c-before-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-3/plots/h200-c-before-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-3/h200-c-before-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-3/plots/h200-c-before-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-3/h200-d-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-3/plots/h200-d-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-3/h200-d-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-3/plots/h200-d-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-3/sim-after-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-3/plots/sim-after-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-3/sim-after-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-3/plots/sim-after-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-3/sim-before-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-3/plots/sim-before-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-3/sim-before-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-3/plots/sim-before-phases.dat" using i:xtic(1) title columnheader(i)

