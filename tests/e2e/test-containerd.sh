#!/usr/bin/env bash
# containerd, as Kubernetes nodes run it (Debian's: 1.6 on Debian 12, 1.7 on
# Debian 13): a private containerd whose main config imports gctk's drop-in
# (`gctk runtime configure --runtime=containerd`), and containers started
# with `ctr run` through gctk-runtime (the runtime binary the drop-in names),
# by NVIDIA_VISIBLE_DEVICES and by CDI annotation (the runtime resolves the
# CDI names, as it must where containerd's CRI cannot), on a simulated 4-GPU
# host. The drop-in turns on the CRI plugin's own CDI, which 1.7 has and 1.6
# does not know.
. "$(dirname "$0")/lib.sh"

need_root "containerd end to end" || exit 0
for c in containerd ctr containerd-shim-runc-v2 runc; do
    command -v "$c" >/dev/null || { skip "containerd end to end" "$c is not installed"; exit 0; }
done
CONTAINERD_VERSION=$(version_of containerd --version)
versions "containerd $CONTAINERD_VERSION, ctr $(version_of ctr --version), runc $(version_of runc --version)"

HOST=$SCRATCH/host
"$GCTK" sim create "$HOST" --gpus 4 >/dev/null || { not_ok "gctk sim create"; exit 1; }
cat >"$SCRATCH/gctk.conf" <<EOF
{"root": "$HOST", "log": "$SCRATCH/hook.log"}
EOF
mapfile -t UUID < <("$GCTK" --root "$HOST" info --json --no-nvml | jq -r '.gpus[].uuid')

CD=$SCRATCH/containerd
mkdir -p "$CD/conf.d"
# the shims' sockets go to /run/containerd/s whatever the config says
remove_at_exit_if_new /run/containerd
cat >"$CD/config.toml" <<EOF
version = 2
root = "$CD/root"
state = "$CD/state"
imports = ["$CD/conf.d/*.toml"]
[plugins."io.containerd.internal.v1.opt"]
  path = "$CD/opt"
[grpc]
  address = "$CD/containerd.sock"
[ttrpc]
  address = "$CD/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
EOF
"$GCTK" runtime configure --runtime=containerd --config "$CD/config.toml" \
    --drop-in-config "$CD/conf.d/99-gctk.toml" --runtime-path "$GCTK_RUNTIME" >"$SCRATCH/configure.log" 2>&1
expect_eq "gctk runtime configure --runtime=containerd writes the drop-in" 0 "$?"
DUMP=$(containerd --config "$CD/config.toml" config dump 2>&1)
expect_match "containerd merges the drop-in: the nvidia runtime runs gctk-runtime" \
    "BinaryName = \"$GCTK_RUNTIME\"" "$DUMP"
if version_ge "$CONTAINERD_VERSION" 1.7; then
    expect_match "containerd $CONTAINERD_VERSION: the CRI plugin's CDI is on" "^ *enable_cdi = true$" "$DUMP"
    expect_match "containerd $CONTAINERD_VERSION: the CRI plugin reads the CDI spec dirs" \
        '^ *cdi_spec_dirs = \["/etc/cdi", "/var/run/cdi"\]$' "$DUMP"
else
    # 1.6's CRI has no CDI: it drops the keys it does not know
    expect_eq "containerd $CONTAINERD_VERSION: no CDI in its CRI plugin (the drop-in's keys are dropped)" "" \
        "$(printf '%s\n' "$DUMP" | grep -E 'enable_cdi|cdi_spec_dirs')"
fi

env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin GCTK_CONFIG="$SCRATCH/gctk.conf" \
    containerd --config "$CD/config.toml" </dev/null >"$SCRATCH/containerd.log" 2>&1 &
CD_PID=$!
at_exit "kill $CD_PID; wait $CD_PID"
for i in $(seq 1 100); do [ -S "$CD/containerd.sock" ] && break; sleep 0.1; done
CTR="ctr --address $CD/containerd.sock --namespace gctk-test"
check "a private containerd answers" sh -c "$CTR version >/dev/null"

ROOTFS=$SCRATCH/rootfs
make_rootfs "$ROOTFS"
N=0
# ctr_run ENV...: runs nvidia-smi -L in a container on a copy of the rootfs;
# an argument --annotation=K=V is an OCI annotation
ctr_run() {
    N=$((N + 1))
    rm -rf "$SCRATCH/r$N"
    cp -a "$ROOTFS" "$SCRATCH/r$N"
    local envs=()
    for e in "$@"; do
        case "$e" in --annotation=*) envs+=(--annotation "${e#--annotation=}") ;; *) envs+=(--env "$e") ;; esac
    done
    # --rootfs: the first argument is an unpacked rootfs, not an image
    OUT=$($CTR run --rm --rootfs --runtime io.containerd.runc.v2 --fifo-dir "$CD/fifo" \
        --runc-root "$CD/runc" --runc-binary "$GCTK_RUNTIME" "${envs[@]}" "$SCRATCH/r$N" "gctk-$$-$N" /usr/bin/nvidia-smi -L 2>&1)
    RC=$?
}
uuids_seen() { printf '%s\n' "$OUT" | grep -o 'GPU-[0-9a-f-]*' | sort | tr '\n' ' '; }
uuids_of() { for i in "$@"; do echo "${UUID[$i]}"; done | sort | tr '\n' ' '; }

ctr_run NVIDIA_VISIBLE_DEVICES=1
expect_eq "ctr run with NVIDIA_VISIBLE_DEVICES=1: exactly GPU 1" "$(uuids_of 1)" "$(uuids_seen)"
ctr_run "NVIDIA_VISIBLE_DEVICES=${UUID[3]},${UUID[0]}"
expect_eq "ctr run with two UUIDs: exactly those" "$(uuids_of 0 3)" "$(uuids_seen)"
ctr_run PATH=/bin
check "ctr run without a GPU request: nothing injected" test "$RC" -ne 0 -a -z "$(uuids_seen)"
ctr_run NVIDIA_VISIBLE_DEVICES=8
check "ctr run with an unknown GPU: refused" test "$RC" -ne 0
expect_match "ctr run with an unknown GPU: the message names the host's GPUs" "unknown GPU .8.: this host has 0" "$OUT"
# CDI names through the runtime: the spec under a vendor name of this run
VENDOR=gctk-test-$$-$RANDOM.example.com
SPEC=/var/run/cdi/gctk-test-$$-$RANDOM.json
remove_at_exit_if_new /var/run/cdi
mkdir -p /var/run/cdi
at_exit "rm -f $SPEC"
# under the settings containerd's runtime reads: the spec's hook logs there
GCTK_CONFIG=$SCRATCH/gctk.conf "$GCTK" cdi generate --root "$HOST" --vendor "$VENDOR" --output "$SPEC" >/dev/null
ctr_run "--annotation=cdi.k8s.io/gctk-test=$VENDOR/gpu=2"
expect_eq "ctr run with the annotation cdi.k8s.io/...=$VENDOR/gpu=2: exactly GPU 2" "$(uuids_of 2)" "$(uuids_seen)"
ctr_run "--annotation=cdi.k8s.io/gctk-test=$VENDOR/gpu=7"
check "ctr run with an unknown CDI device: refused" test "$RC" -ne 0
expect_match "ctr run with an unknown CDI device: gctk-runtime's message reaches ctr (the runtime log)" "OCI runtime create failed: gctk-runtime: .*$VENDOR/gpu=7" "$OUT"
printf '%s\n' "$OUT" | diag
check "no container left" test -z "$($CTR containers list -q)"
