set terminal pngcairo size 640,400 font ',9'
reset
set output 'bench/results/start-cost-10/h200-ah-after-1-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-10/plots/h200-ah-after-1-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-10/h200-ah-after-1-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-10/plots/h200-ah-after-1-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-10/h200-ah-after-2-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-10/plots/h200-ah-after-2-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-10/h200-ah-after-2-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-10/plots/h200-ah-after-2-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-10/h200-ah-after-3-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-10/plots/h200-ah-after-3-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-10/h200-ah-after-3-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-10/plots/h200-ah-after-3-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-10/h200-ah-before-1-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-10/plots/h200-ah-before-1-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-10/h200-ah-before-1-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-10/plots/h200-ah-before-1-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-10/h200-ah-before-2-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-10/plots/h200-ah-before-2-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-10/h200-ah-before-2-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-10/plots/h200-ah-before-2-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-10/h200-ah-before-3-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-10/plots/h200-ah-before-3-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-10/h200-ah-before-3-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-10/plots/h200-ah-before-3-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-10/h200-ah-docker-after-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-10/plots/h200-ah-docker-after-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-10/h200-ah-docker-before-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-10/plots/h200-ah-docker-before-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-10/h200-ai-local-1-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-10/plots/h200-ai-local-1-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-10/h200-ai-local-1-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-10/plots/h200-ai-local-1-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-10/h200-ai-local-2-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-10/plots/h200-ai-local-2-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-10/h200-ai-local-2-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-10/plots/h200-ai-local-2-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-10/h200-ai-usrlib-1-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-10/plots/h200-ai-usrlib-1-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-10/h200-ai-usrlib-1-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-10/plots/h200-ai-usrlib-1-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-10/h200-ai-usrlib-2-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-10/plots/h200-ai-usrlib-2-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-10/h200-ai-usrlib-2-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-10/plots/h200-ai-usrlib-2-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-10/h200-al-crun-1-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-10/plots/h200-al-crun-1-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-10/h200-al-crun-1-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-10/plots/h200-al-crun-1-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-10/h200-al-crun-2-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-10/plots/h200-al-crun-2-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-10/h200-al-crun-2-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-10/plots/h200-al-crun-2-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-10/h200-al-runc-1-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-10/plots/h200-al-runc-1-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-10/h200-al-runc-1-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-10/plots/h200-al-runc-1-phases.dat" using i:xtic(1) title columnheader(i)

reset
set output 'bench/results/start-cost-10/h200-al-runc-2-start.png'

set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "bench/results/start-cost-10/plots/h200-al-runc-2-start.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0

reset
set output 'bench/results/start-cost-10/h200-al-runc-2-phases.png'

set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:9] "bench/results/start-cost-10/plots/h200-al-runc-2-phases.dat" using i:xtic(1) title columnheader(i)

