#!/usr/bin/env bash
# A fleet of simulated nodes with different GPU counts, models and drivers, as
# an orchestrator sees them: each node's CDI spec (what a Kubernetes device
# plugin hands out as nvidia.com/gpu=<uuid>) names only that node's devices,
# validates there and not on another node, and `gctk compat` answers per node
# for a mixed CUDA workload.
. "$(dirname "$0")/lib.sh"

# node NAME GPUS DRIVER CUDA MODEL
NODES=()
node() {
    "$GCTK" sim create "$SCRATCH/$1" --gpus "$2" --driver "$3" --cuda "$4" --model "$5" >/dev/null ||
        { not_ok "node $1: gctk sim create"; return 1; }
    NODES+=("$1")
}
node a100 8 535.104.05 12.2 "NVIDIA A100-SXM4-80GB"
node h100 4 550.54.14 12.4 "NVIDIA H100 80GB HBM3"
node h200 2 580.95.05 13.0 "NVIDIA H200"
node l4 1 525.60.13 12.0 "NVIDIA L4"
expect_eq "four simulated nodes" 4 "${#NODES[@]}"

for n in "${NODES[@]}"; do
    root=$SCRATCH/$n
    "$GCTK" cdi generate --root "$root" --device-name-strategy both --format json \
        --output "$SCRATCH/$n.json" 2>"$SCRATCH/$n.err" || { not_ok "$n: cdi generate"; continue; }
    mine=$("$GCTK" --root "$root" info --json --no-nvml | jq -r '.gpus[].uuid' | sort)
    count=$(printf '%s\n' "$mine" | grep -c GPU-)
    # device names: every index, every UUID of this node, and all
    names=$(jq -r '.devices[].name' "$SCRATCH/$n.json" | sort)
    want=$( (seq 0 $((count - 1)); printf '%s\n' "$mine"; echo all) | sort)
    expect_eq "$n: the spec names exactly this node's $count GPUs (index, UUID, all)" "$want" "$names"
    # no device node or mount outside this node's root: the nodes' hostPath,
    # the sources of the driver's files (its hook's --mount arguments)
    sources=$(jq -r '(.. | objects | (.hostPath? // empty)),
        (.. | arrays | . as $a | range(0; length) | select($a[.] == "--mount") | $a[. + 1] | split("::")[0])' \
        "$SCRATCH/$n.json")
    check "$n: the spec gives the driver's libraries" test "$(printf '%s\n' "$sources" | grep -c '\.so\.')" -gt 10
    outside=$(printf '%s\n' "$sources" | grep -v "^$root/" | head -n 3)
    expect_eq "$n: every node and file lies in this node's driver root" "" "$outside"
    ver=$("$GCTK" --root "$root" info --json --no-nvml | jq -r .driver_version)
    # (the EGL external platform libraries carry versions of their own, as
    # the driver ships them: libnvidia-egl-wayland.so.1.1.13)
    other=$(printf '%s\n' "$sources" | grep '\.so\.' | grep -v "\.so\.$ver\$" |
        grep -vE '/libnvidia-egl-(wayland|gbm|xcb|xlib)\.so\.[0-9.]+$' | head -n 3)
    expect_eq "$n: every library is of this node's driver $ver" "" "$other"
    OUT=$("$GCTK" --root "$root" cdi validate "$SCRATCH/$n.json" 2>&1)
    expect_eq "$n: its spec validates on the node" "0 \`$SCRATCH/$n.json\`: valid" "$? $OUT"
done

# a node's spec is stale on another node (another driver): validate says so
OUT=$("$GCTK" --root "$SCRATCH/h100" cdi validate "$SCRATCH/a100.json" 2>&1)
RC=$?
check "a100's spec on the h100 node: refused" test "$RC" -ne 0
expect_match "a100's spec on the h100 node: names what no longer matches" "535.104.05|does not exist|no longer" "$OUT"

# the mixed workload: an image per CUDA release, each node's verdict
# exit status of gctk compat: 0 native, 3 minor-version compatibility, 1 cannot run
verdict() { "$GCTK" --root "$SCRATCH/$1" compat --cuda "$2" >/dev/null 2>&1; echo $?; }
expect_eq "CUDA 12.0: native on every node" "0 0 0 0" \
    "$(verdict a100 12.0) $(verdict h100 12.0) $(verdict h200 12.0) $(verdict l4 12.0)"
expect_eq "CUDA 12.4: a100 and l4 through minor-version compatibility, h100 and h200 native" "3 0 0 3" \
    "$(verdict a100 12.4) $(verdict h100 12.4) $(verdict h200 12.4) $(verdict l4 12.4)"
expect_eq "CUDA 13.0: only h200 (a 12.x driver cannot run 13.x)" "1 1 0 1" \
    "$(verdict a100 13.0) $(verdict h100 13.0) $(verdict h200 13.0) $(verdict l4 13.0)"
expect_eq "CUDA 11.8 images run everywhere" "0 0 0 0" \
    "$(verdict a100 11.8) $(verdict h100 11.8) $(verdict h200 11.8) $(verdict l4 11.8)"
OUT=$("$GCTK" --root "$SCRATCH/a100" compat --require 'cuda>=12.4' 2>&1)
expect_eq "NVIDIA_REQUIRE_CUDA stays strict: cuda>=12.4 cannot run on a 12.2 driver" 1 "$?"
expect_match "and the message names the driver it needs" "550.54.14" "$OUT"
