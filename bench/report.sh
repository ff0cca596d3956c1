#!/bin/sh
# bench/report.sh [RESULTS_DIR]: results.md and the PNG plots from the CSVs of
# bench/run.py under RESULTS_DIR/LABEL/ (default bench/results). Plots need
# gnuplot; without it only the table is written.
set -eu
res=${1:-$(dirname "$0")/results}
gp=$(python3 "$(dirname "$0")/report.py" "$res")
if command -v gnuplot >/dev/null; then
    gnuplot "$gp"
else
    echo "report: gnuplot is not installed: no plots (apt-get install gnuplot-nox)" >&2
fi
echo "report: $res/results.md"
