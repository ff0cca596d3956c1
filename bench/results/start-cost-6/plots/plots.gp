set terminal pngcairo size 640,400 font ',9'
reset
set output 'bench/results/start-cost-6/h200-m-runc1.1.15-2-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-m-runc1.1.15-2-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-6/h200-m-runc1.1.15-2-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-6/plots/h200-m-runc1.1.15-2-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-6/h200-m-runc1.1.15-4-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-m-runc1.1.15-4-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-6/h200-m-runc1.1.15-4-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-6/plots/h200-m-runc1.1.15-4-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-6/h200-m-runc1.1.5-1-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-m-runc1.1.5-1-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-6/h200-m-runc1.1.5-1-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-6/plots/h200-m-runc1.1.5-1-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-6/h200-m-runc1.1.5-3-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-m-runc1.1.5-3-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-6/h200-m-runc1.1.5-3-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-6/plots/h200-m-runc1.1.5-3-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-6/h200-n-1-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-n-1-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-6/h200-n-1-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-6/plots/h200-n-1-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-6/h200-n-2-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-n-2-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-6/h200-n-2-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-6/plots/h200-n-2-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-6/h200-n-3-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-n-3-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-6/h200-n-3-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-6/plots/h200-n-3-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-6/h200-o-1-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-o-1-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-6/h200-o-2-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-o-2-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-6/h200-o-3-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-o-3-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-6/h200-o-4-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-o-4-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-6/h200-o-5-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-o-5-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-6/h200-o-6-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-o-6-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-6/h200-p-1-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-p-1-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-6/h200-p-2-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-p-2-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-6/h200-p-3-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-p-3-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-6/h200-p-4-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-p-4-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-6/h200-p-5-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-p-5-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-6/h200-p-6-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-p-6-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-6/h200-r-new-1-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-r-new-1-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-6/h200-r-new-2-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-r-new-2-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-6/h200-r-new-3-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-r-new-3-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-6/h200-r-new-4-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-r-new-4-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-6/h200-r-new-5-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-r-new-5-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-6/h200-r-old-1-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-r-old-1-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-6/h200-r-old-2-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-r-old-2-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-6/h200-r-old-3-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-r-old-3-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-6/h200-r-old-4-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-r-old-4-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-6/h200-r-old-5-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-6/plots/h200-r-old-5-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

