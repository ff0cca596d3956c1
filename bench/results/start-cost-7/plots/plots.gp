set terminal pngcairo size 640,400 font ',9'
reset
set output 'bench/results/start-cost-7/h200-v-queries-scaling.png'

set title "scaling with GPUs (median)"
set xlabel "GPUs"
set ylabel "ms"
set logscale xy
set key left top
plot "bench/results/start-cost-7/plots/h200-v-queries-scaling.dat" index 0 using 1:2 with linespoints title "hook", \
     "bench/results/start-cost-7/plots/h200-v-queries-scaling.dat" index 1 using 1:2 with linespoints title "info", \
     "bench/results/start-cost-7/plots/h200-v-queries-scaling.dat" index 2 using 1:2 with linespoints title "info-no-nvml", \
     "bench/results/start-cost-7/plots/h200-v-queries-scaling.dat" index 3 using 1:2 with linespoints title "list", \
     "bench/results/start-cost-7/plots/h200-v-queries-scaling.dat" index 4 using 1:2 with linespoints title "cdi-generate"

reset
set output 'bench/results/start-cost-7/h200-v-queries-concurrency.png'

set title "concurrent starts (1 GPU each)"
set xlabel "containers started at once"
set ylabel "ms"
set logscale xy
set key left top
plot "bench/results/start-cost-7/plots/h200-v-queries-concurrency.dat" using 1:2 with linespoints title "hook median", \
     "" using 1:3 with linespoints title "hook p95", \
     "" using 1:4 with linespoints title "runc run median", \
     "" using 1:5 with linespoints title "runc run p95"

reset
set output 'bench/results/start-cost-7/h200-v-start-1-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-7/plots/h200-v-start-1-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-7/h200-v-start-1-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-7/plots/h200-v-start-1-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-7/h200-v-start-2-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-7/plots/h200-v-start-2-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-7/h200-v-start-2-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-7/plots/h200-v-start-2-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-7/h200-v-start-3-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-7/plots/h200-v-start-3-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-7/h200-v-start-3-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-7/plots/h200-v-start-3-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-7/h200-w-queries-scaling.png'

set title "scaling with GPUs (median)"
set xlabel "GPUs"
set ylabel "ms"
set logscale xy
set key left top
plot "bench/results/start-cost-7/plots/h200-w-queries-scaling.dat" index 0 using 1:2 with linespoints title "hook", \
     "bench/results/start-cost-7/plots/h200-w-queries-scaling.dat" index 1 using 1:2 with linespoints title "info", \
     "bench/results/start-cost-7/plots/h200-w-queries-scaling.dat" index 2 using 1:2 with linespoints title "info-no-nvml", \
     "bench/results/start-cost-7/plots/h200-w-queries-scaling.dat" index 3 using 1:2 with linespoints title "list", \
     "bench/results/start-cost-7/plots/h200-w-queries-scaling.dat" index 4 using 1:2 with linespoints title "cdi-generate"

reset
set output 'bench/results/start-cost-7/h200-w-queries-concurrency.png'

set title "concurrent starts (1 GPU each)"
set xlabel "containers started at once"
set ylabel "ms"
set logscale xy
set key left top
plot "bench/results/start-cost-7/plots/h200-w-queries-concurrency.dat" using 1:2 with linespoints title "hook median", \
     "" using 1:3 with linespoints title "hook p95", \
     "" using 1:4 with linespoints title "runc run median", \
     "" using 1:5 with linespoints title "runc run p95"

reset
set output 'bench/results/start-cost-7/h200-w-start-1-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-7/plots/h200-w-start-1-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-7/h200-w-start-1-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-7/plots/h200-w-start-1-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-7/h200-w-start-2-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-7/plots/h200-w-start-2-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-7/h200-w-start-2-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-7/plots/h200-w-start-2-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-7/h200-w-start-3-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-7/plots/h200-w-start-3-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-7/h200-w-start-3-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-7/plots/h200-w-start-3-phases.dat" using i:xtic(1) title columnheader(i)

