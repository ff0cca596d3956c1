#!/bin/sh
# bench/run.sh [BUILD] [LABEL]: `make bench`. Runs every benchmark with the
# binaries of BUILD (default build) on a simulated host, writes the samples to
# bench/results/LABEL/ (default sim), then the table and plots of all labels.
# Extra options of bench/run.py in $BENCH_ARGS (e.g. --quick, --only scale).
set -eu
here=$(dirname "$0")
build=${1:-build}
label=${2:-sim}
# shellcheck disable=SC2086
python3 "$here/run.py" --build "$build" --out "$here/results/$label" ${BENCH_ARGS:-}
"$here/report.sh" "$here/results"
