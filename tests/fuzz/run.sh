#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build for SECONDS seconds on its seed
# corpus (tests/fuzz/corpus/<name>/), then on the large inputs of
# tests/fuzz/make-bounds.py, and prints TAP lines per target:
#   ok N - fuzz_ldcache (123456 runs)
#   ok N - fuzz_ldcache: work per byte on 4 large inputs (at most 310 ns and 9 bytes a byte)
#   not ok N - fuzz_ldcache: crash file build-fuzz/fuzz-artifacts/fuzz_ldcache/crash-...
# Every input of both runs is held to the bounds of tests/fuzz/bounds.h (CPU
# time and peak heap linear in its size), besides libFuzzer's own: a time
# limit per input (-timeout), a resident memory limit (-rss_limit_mb) and a
# limit on any one allocation (-malloc_limit_mb).
# Usage: tests/fuzz/run.sh FUZZ_BUILD_DIR SECONDS
# The build: CC=clang meson setup build-fuzz -Dfuzz=true && ninja -C build-fuzz
# New inputs the fuzzer finds go to a temporary directory, never into the
# committed seeds; crash files and logs stay under FUZZ_BUILD_DIR/fuzz-artifacts.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
if [ $# -ne 2 ]; then
    echo "usage: $0 FUZZ_BUILD_DIR SECONDS" >&2
    exit 2
fi
build=$1 secs=$2

targets=()
for t in "$build"/tests/fuzz/fuzz_*; do
    [ -f "$t" ] && [ -x "$t" ] && targets+=("$t")
done
if [ ${#targets[@]} -eq 0 ]; then
    echo "1..0 # SKIP no fuzz_* in $build/tests/fuzz: configure with CC=clang meson setup $build -Dfuzz=true"
    exit 1
fi

LIMITS=(-timeout=30 -rss_limit_mb=4096 -malloc_limit_mb=1024)
bounds=$(mktemp -d)
trap 'rm -rf "$bounds"' EXIT
python3 "$top/tests/fuzz/make-bounds.py" "$bounds" || { echo "not ok - make-bounds.py"; exit 1; }
n_bounded=$(find "$bounds" -mindepth 1 -maxdepth 1 -type d | wc -l)
echo "1..$((${#targets[@]} + n_bounded))"
failed=0 i=0
# crashed NAME LOG: the TAP line of a target that stopped, with the cause
crashed() {
    local crash
    crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$2" | tail -n 1)
    if [ -n "$crash" ]; then
        echo "not ok $i - $1: crash file $crash"
    else
        echo "not ok $i - $1: exit status $rc"
    fi
    # the sanitizer's or the bound's verdict and the frames that have a source line
    grep -E 'ERROR|SUMMARY|fuzz bound|#[0-9]+ .* in [A-Za-z_].*\.c:[0-9]+' "$2" |
        grep -vE 'sysdeps|nptl|csu/|stdlib/' | head -n 12 | sed 's/^/#   /'
    echo "#   full log: $2"
}
for t in "${targets[@]}"; do
    i=$((i + 1))
    name=$(basename "$t")
    seeds="$top/tests/fuzz/corpus/${name#fuzz_}"
    artifacts="$build/fuzz-artifacts/$name"
    rm -rf "$artifacts"
    mkdir -p "$artifacts"
    work=$(mktemp -d)
    dirs=("$work")
    [ -d "$seeds" ] && dirs+=("$seeds")
    "$t" -max_total_time="$secs" -max_len=4096 "${LIMITS[@]}" -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "${dirs[@]}" >"$artifacts/log" 2>&1
    rc=$?
    rm -rf "$work"
    if [ "$rc" -eq 0 ]; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$artifacts/log")
        echo "ok $i - $name (${runs:-?} runs in ${secs}s)"
    else
        failed=$((failed + 1))
        crashed "$name" "$artifacts/log"
    fi
    # the large inputs, each run once, their work per byte reported
    big="$bounds/${name#fuzz_}"
    [ -d "$big" ] || continue
    i=$((i + 1))
    FUZZ_WORK_REPORT=1 "$t" "${LIMITS[@]}" -artifact_prefix="$artifacts/" "$big"/* \
        >"$artifacts/bounds.log" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ]; then
        summary=$(awk '$1 == "fuzz-work" && $2 > 0 {
                n++; ns = $3 / $2; b = $4 / $2; if (ns > mns) mns = ns; if (b > mb) mb = b }
            END { printf "%d large inputs (at most %.0f ns and %.1f bytes of heap a byte)", n, mns, mb }' \
            "$artifacts/bounds.log")
        echo "ok $i - $name: work per byte on $summary"
    else
        failed=$((failed + 1))
        crashed "$name: work per byte" "$artifacts/bounds.log"
    fi
done
[ "$failed" -eq 0 ]
