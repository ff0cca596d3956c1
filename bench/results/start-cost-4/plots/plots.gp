set terminal pngcairo size 640,400 font ',9'
reset
set output 'bench/results/start-cost-4/h200-f-after-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-4/plots/h200-f-after-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-4/h200-f-after-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-4/plots/h200-f-after-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-4/h200-f-before-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-4/plots/h200-f-before-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-4/h200-f-before-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-4/plots/h200-f-before-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-4/h200-g-after-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-4/plots/h200-g-after-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-4/h200-g-after-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-4/plots/h200-g-after-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-4/h200-g-before-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-4/plots/h200-g-before-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-4/h200-g-before-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-4/plots/h200-g-before-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-4/sim-after-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-4/plots/sim-after-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-4/sim-after-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-4/plots/sim-after-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-4/sim-before-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-4/plots/sim-before-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-4/sim-before-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-4/plots/sim-before-phases.dat" using i:xtic(1) title columnheader(i)

