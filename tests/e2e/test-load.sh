#!/usr/bin/env bash
# Load: 64 GPU containers started at once under runc on a simulated 4-GPU
# host. All must start and see exactly their GPU; afterwards no mount, fd or
# process may be left, and the hook's latency under that load (p50, p95, max,
# from its own log) is printed as `# bench: ...` lines (and appended to
# $GCTK_BENCH_OUT when set).
. "$(dirname "$0")/lib.sh"

need_root "64 containers at once" || exit 0
command -v runc >/dev/null || { skip "64 containers at once" "runc is not installed"; exit 0; }
COUNT=${GCTK_LOAD_COUNT:-64}

HOST=$SCRATCH/host
"$GCTK" sim create "$HOST" --gpus 4 >/dev/null || { not_ok "gctk sim create"; exit 1; }
cat >"$SCRATCH/gctk.conf" <<EOF
{"root": "$HOST", "log": "$SCRATCH/hook.log"}
EOF
export GCTK_CONFIG=$SCRATCH/gctk.conf
HOOK_ENV="[\"GCTK_CONFIG=$GCTK_CONFIG\"]"
mapfile -t UUID < <("$GCTK" info --json --no-nvml | jq -r '.gpus[].uuid')

BASE=$SCRATCH/base
make_rootfs "$BASE"
mounts() { awk '{print $5}' /proc/self/mountinfo | grep "^$SCRATCH" | sort; }
mounts >"$SCRATCH/mounts-before"

# one rootfs per container; hard links are enough: the hook never writes
# into an existing file of the image (it creates, and renames over)
for i in $(seq 1 "$COUNT"); do
    cp -al "$BASE" "$SCRATCH/r$i"
    make_bundle "$SCRATCH/b$i" "$SCRATCH/r$i" '["sh", "-c", "nvidia-smi -L; ls /dev | grep -c \"^nvidia[0-9]\""]' \
        "[\"NVIDIA_VISIBLE_DEVICES=$((i % 4))\"]" "$HOOK_ENV"
done

t0=$(date +%s.%N)
pids=()
for i in $(seq 1 "$COUNT"); do
    timeout -k 5 300 runc --root "$RUNC_ROOT" run -b "$SCRATCH/b$i" "gctk-l-$$-$i" </dev/null \
        >"$SCRATCH/out$i" 2>&1 &
    pids+=($!)
done
started=0
for i in $(seq 1 "$COUNT"); do
    wait "${pids[$((i - 1))]}" && started=$((started + 1))
done
t1=$(date +%s.%N)
for i in $(seq 1 "$COUNT"); do runc --root "$RUNC_ROOT" delete -f "gctk-l-$$-$i" >/dev/null 2>&1; done

expect_eq "all $COUNT containers started" "$COUNT" "$started"
wrong=0
for i in $(seq 1 "$COUNT"); do
    want="${UUID[$((i % 4))]}"
    got=$(grep -o 'GPU-[0-9a-f-]*' "$SCRATCH/out$i" | tr '\n' ' ')
    nodes=$(tail -n 1 "$SCRATCH/out$i")
    if [ "$got" != "$want " ] || [ "$nodes" != 1 ]; then
        wrong=$((wrong + 1))
        [ "$wrong" -le 3 ] && echo "container $i: wanted $want, saw '$got' and $nodes node(s): $(head -c 300 "$SCRATCH/out$i")" | diag
    fi
done
expect_eq "every container sees exactly its GPU" 0 "$wrong"

# the hook's own timings: "done in X ms" per container
mapfile -t ms < <(grep -o 'done in [0-9.]* ms' "$SCRATCH/hook.log" | awk '{print $3}' | sort -n)
expect_eq "the hook logged one timing per container" "$COUNT" "${#ms[@]}"
if [ "${#ms[@]}" -gt 0 ]; then
    n=${#ms[@]}
    p50=${ms[$(((n - 1) * 50 / 100))]} p95=${ms[$(((n - 1) * 95 / 100))]} max=${ms[$((n - 1))]}
    wall=$(echo "$t1 - $t0" | bc 2>/dev/null || awk "BEGIN {print $t1 - $t0}")
    line="hook under $n concurrent runc containers: p50 $p50 ms, p95 $p95 ms, max $max ms; all started in ${wall}s ($(nproc) cores)"
    echo "bench: $line" | diag
    [ -n "${GCTK_BENCH_OUT:-}" ] && echo "$line" >>"$GCTK_BENCH_OUT"
fi

mounts >"$SCRATCH/mounts-after"
check "no mount left on the host" cmp -s "$SCRATCH/mounts-before" "$SCRATCH/mounts-after"
expect_eq "no container left" "" "$(runc --root "$RUNC_ROOT" list -q)"
# no process holds anything of this suite open, runs from it or is this
# build's hook (other builds' hooks may run beside us on a shared machine)
hook=$(readlink -f "$GCTK_HOOK")
held=$(for p in /proc/[0-9]*; do
    [ "${p#/proc/}" = $$ ] && continue
    ls -l "$p/fd" "$p/cwd" "$p/exe" 2>/dev/null | grep -F -e "$SCRATCH" -e "$hook" && echo "in ${p#/proc/}"
done)
expect_eq "no fd, cwd, executable or hook process left" "" "$held"
