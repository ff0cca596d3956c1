#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build for SECONDS seconds on its seed
# corpus (tests/fuzz/corpus/<name>/) and prints one TAP line per target:
#   ok N - fuzz_ldcache (123456 runs)
#   not ok N - fuzz_ldcache: crash file build-fuzz/fuzz-artifacts/fuzz_ldcache/crash-...
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

echo "1..${#targets[@]}"
failed=0 i=0
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
    "$t" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "${dirs[@]}" >"$artifacts/log" 2>&1
    rc=$?
    rm -rf "$work"
    if [ "$rc" -eq 0 ]; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$artifacts/log")
        echo "ok $i - $name (${runs:-?} runs in ${secs}s)"
    else
        failed=$((failed + 1))
        crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$artifacts/log" | tail -n 1)
        echo "not ok $i - $name: crash file ${crash:-none (exit status $rc)}"
        # the sanitizer's verdict and the frames that have a source line
        grep -E 'ERROR|SUMMARY|#[0-9]+ .* in [A-Za-z_].*\.c:[0-9]+' "$artifacts/log" |
            grep -vE 'sysdeps|nptl|csu/|stdlib/' | head -n 12 | sed 's/^/#   /'
        echo "#   full log: $artifacts/log"
    fi
done
[ "$failed" -eq 0 ]
