#!/usr/bin/env bash
# A Kubernetes node without the kubelet: containerd's real CRI service (1.6
# on Debian 12, 1.7 on Debian 13), configured only by gctk's own commands
# (`gctk runtime configure --runtime=containerd` on a main file with the
# node's own settings, `gctk cdi generate`), and tests/cri/cri.py playing
# the kubelet for one pod at a time on a simulated 4-GPU host. Pods ask for
# GPUs as Kubernetes asks for them: CDIDevices, `cdi.k8s.io/` annotations,
# the RuntimeClass handler `nvidia` with NVIDIA_VISIBLE_DEVICES, and each
# DEVICE_LIST_STRATEGY of NVIDIA's k8s-device-plugin (envvar, volume-mounts,
# cdi-annotations, cdi-cri), under gctk's policy settings. Each pod must see
# exactly its GPUs (the simulated nvidia-smi's UUIDs and the /dev nodes);
# each containerd is held to what its version does (1.6 has no CDI of its
# own). Then `--dry-run`, `--set-as-default` (pods of the default runtime)
# and `--remove`, which gives back the main file. The CRI client is built at
# test time from Debian's packages: python3-grpcio, python3-grpc-tools and the
# api.proto of golang-github-kubernetes-cri-api-dev.
. "$(dirname "$0")/lib.sh"

need_root "CRI end to end" || exit 0
for c in containerd ctr containerd-shim-runc-v2 runc; do
    command -v "$c" >/dev/null || { skip "CRI end to end" "$c is not installed"; exit 0; }
done
PY=/usr/bin/python3
PROTO=/usr/share/gocode/src/k8s.io/cri-api/pkg/apis/runtime/v1/api.proto
if ! "$PY" -c 'import grpc, grpc_tools' 2>/dev/null || [ ! -f "$PROTO" ]; then
    skip "CRI end to end" "needs python3-grpcio, python3-grpc-tools and golang-github-kubernetes-cri-api-dev (make check installs them)"
    exit 0
fi
CONTAINERD_VERSION=$(version_of containerd --version)
versions "containerd $CONTAINERD_VERSION, runc $(version_of runc --version)," \
    "python3-grpcio $("$PY" -c 'import grpc; print(grpc.__version__)'), CRI api.proto of $(dpkg-query -W -f='${Version}' golang-github-kubernetes-cri-api-dev 2>/dev/null)"
T0=$SECONDS

# ---- the CRI client: stubs generated here from the packaged api.proto ----
STUBS=$SCRATCH/cri
mkdir -p "$STUBS"
sed -e '/^import "github.com\/gogo\/protobuf\/gogoproto\/gogo.proto";/d' -e '/^option (gogoproto\./d' \
    "$PROTO" >"$STUBS/api.proto"
check "api.proto without its gogoproto lines holds no other gogoproto use" \
    sh -c "! grep -q gogoproto '$STUBS/api.proto'"
"$PY" -m grpc_tools.protoc -I"$STUBS" --python_out="$STUBS" --grpc_python_out="$STUBS" "$STUBS/api.proto" 2>&1 | diag
check "grpc_tools.protoc makes the CRI stubs" test -f "$STUBS/api_pb2_grpc.py"
CRI_PY=$(cd "$(dirname "$0")/../cri" && pwd)/cri.py

# ---- the simulated host, gctk's settings, the CDI spec ----
HOST=$SCRATCH/host
"$GCTK" sim create "$HOST" --gpus 4 >/dev/null || { not_ok "gctk sim create"; exit 1; }
mapfile -t UUID < <("$GCTK" --root "$HOST" info --json --no-nvml | jq -r '.gpus[].uuid')
CONF=$SCRATCH/gctk.json
# settings KEY=BOOL...: gctk's config for the next pods (the hook reads it
# for every container)
settings() {
    local extra="" kv
    for kv in "$@"; do extra="$extra, \"${kv%%=*}\": ${kv#*=}"; done
    printf '{"root": "%s", "log": "%s"%s}\n' "$HOST" "$SCRATCH/hook.log" "$extra" >"$CONF"
}
settings
# gctk-runtime reads CDI specs where containerd 1.7 reads them by default
VENDOR=gctk-test-$$-$RANDOM.example.com
SPEC=/var/run/cdi/$VENDOR.json
remove_at_exit_if_new /var/run/cdi
at_exit "rm -f $SPEC"
# generated under the node's settings: the spec's hook logs where they say,
# whoever applies the spec (containerd 1.7's CRI or gctk-runtime)
GCTK_CONFIG=$CONF "$GCTK" cdi generate --root "$HOST" --vendor "$VENDOR" --output "$SPEC" >/dev/null
check "gctk cdi generate writes the node's spec" test -s "$SPEC"

# containerd's CRI copies the node's /etc/hosts into a host-network pod; a
# minimal Debian root has none (a machine always has one)
if [ ! -e /etc/hosts ]; then
    remove_at_exit_if_new /etc/hosts
    printf '127.0.0.1\tlocalhost\n' >/etc/hosts
fi

# ---- containerd's main file: the node's own settings ----
CD=$SCRATCH/containerd
mkdir -p "$CD"
remove_at_exit_if_new /run/containerd # the shims' sockets, whatever the config says
PAUSE=docker.io/gctk-test/pause:$$
IMG=docker.io/gctk-test/gpu:$$
BAKED=docker.io/gctk-test/baked-all:$$
bash "$(dirname "$0")/../cri/node-config.sh" "$CD" "$PAUSE" >"$CD/config.toml"
cp "$CD/config.toml" "$CD/config.toml.before"

# ---- gctk's own commands ----
OUT=$("$GCTK" runtime configure --runtime=containerd --config "$CD/config.toml" \
    --drop-in-config "$CD/conf.d/99-gctk.toml" --runtime-path "$GCTK_RUNTIME" 2>&1)
expect_eq "gctk runtime configure --runtime=containerd succeeds" 0 "$?"
printf '%s\n' "$OUT" | diag
expect_eq "the main file gets one line, the import of the drop-in, and keeps the rest" \
    "$(printf 'imports = ["%s/conf.d/*.toml"] # added by `gctk runtime configure` (`--remove` takes it out)\n' "$CD"; cat "$CD/config.toml.before")" \
    "$(cat "$CD/config.toml")"
DUMP=$(containerd --config "$CD/config.toml" config dump 2>/dev/null)
cri_table() { printf '%s\n' "$DUMP" | awk -v t="$1" '/^ *\[/ { on = index($0, "[" t "]") > 0 } on'; }
# containerd 2.x dumps version 3: other plugin names, single quotes
if printf '%s\n' "$DUMP" | grep -qx 'version = 3'; then
    q="'" R="plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes" SANDBOX=sandbox
else
    q='"' R='plugins."io.containerd.grpc.v1.cri".containerd.runtimes' SANDBOX=sandbox_image
fi
expect_match "containerd's dump: the node's sandbox image is kept" "$SANDBOX = $q$PAUSE$q" "$DUMP"
expect_match "containerd's dump: the node's CNI directory is kept" "conf_dir = $q$CD/cni$q" "$DUMP"
expect_match "containerd's dump: runc is still the default runtime" "default_runtime_name = ${q}runc$q" "$DUMP"
expect_match "containerd's dump: runc is still there" "runtime_type = ${q}io.containerd.runc.v2$q" "$(cri_table "$R.runc")"
expect_match "containerd's dump: the nvidia runtime runs gctk-runtime" "BinaryName = $q$GCTK_RUNTIME$q" "$(cri_table "$R.nvidia.options")"
if version_ge "$CONTAINERD_VERSION" 1.7; then
    expect_match "containerd $CONTAINERD_VERSION: its CRI's CDI is turned on" "^ *enable_cdi = true$" "$DUMP"
    expect_match "containerd $CONTAINERD_VERSION: the nvidia runtime gets no CDI annotations (containerd applies CDI)" \
        "container_annotations = \[\]" "$(cri_table "$R.nvidia")"
else
    expect_match "containerd $CONTAINERD_VERSION (no CDI of its own): the nvidia runtime gets the cdi.k8s.io/ annotations" \
        'container_annotations = \["cdi.k8s.io/\*"\]' "$(cri_table "$R.nvidia")"
fi
OUT=$("$GCTK" runtime configure --runtime=containerd --config "$CD/config.toml" \
    --drop-in-config "$CD/conf.d/99-gctk.toml" --runtime-path "$GCTK_RUNTIME" 2>&1)
expect_match "a second run changes nothing" "already configured: nothing changed" "$OUT"

cp "$CD/config.toml" "$CD/config.toml.configured"
cp "$CD/conf.d/99-gctk.toml" "$CD/99-gctk.toml.configured"
OUT=$("$GCTK" runtime configure --runtime=containerd --config "$CD/config.toml" \
    --drop-in-config "$CD/conf.d/99-gctk.toml" --runtime-path "$GCTK_RUNTIME" --set-as-default --dry-run 2>&1)
expect_match "--dry-run --set-as-default prints the drop-in with nvidia the default" \
    "^ *default_runtime_name = 'nvidia'$" "$OUT"
check "--dry-run writes nothing" sh -c "cmp -s '$CD/config.toml' '$CD/config.toml.configured' &&
    cmp -s '$CD/conf.d/99-gctk.toml' '$CD/99-gctk.toml.configured'"

# the containerd whose configuration gctk read, with its own shim first on PATH
CONTAINERD=$(command -v containerd)
CD_PID=
CRI=("$PY" "$CRI_PY" --socket "$CD/containerd.sock" --stubs "$STUBS")
cri_up() { "${CRI[@]}" version >/dev/null 2>&1; }
start_containerd() {
    env -i PATH="${CONTAINERD%/*}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
        GCTK_CONFIG="$CONF" "$CONTAINERD" --config "$CD/config.toml" </dev/null >>"$SCRATCH/containerd.log" 2>&1 &
    CD_PID=$!
    wait_until 30 cri_up
}
stop_containerd() {
    [ -n "$CD_PID" ] || return 0
    kill "$CD_PID"
    wait "$CD_PID" 2>/dev/null
    CD_PID=
}
at_exit 'stop_containerd'
# a suite that stops half-way leaves no pod (and no shim) behind
at_exit "${CRI[*]} cleanup"
start_containerd
OUT=$("${CRI[@]}" version 2>&1)
expect_match "the CRI plugin is loaded: the CRI answers Version" "^containerd .* \(CRI v1\)$" "$OUT"
if ! printf '%s' "$OUT" | grep -q 'CRI v1'; then
    tail -n 30 "$SCRATCH/containerd.log" | diag
    exit 1
fi

# ---- images from local archives (no registry): the pause image, a GPU
# workload image, and one that bakes NVIDIA_VISIBLE_DEVICES=all ----
CTR="ctr --address $CD/containerd.sock -n k8s.io"
mkdir -p "$SCRATCH/pause/bin"
cp /bin/busybox "$SCRATCH/pause/bin/busybox"
ln -s busybox "$SCRATCH/pause/bin/sleep"
make_rootfs "$SCRATCH/rootfs"
"$PY" "$CRI_PY" image --rootfs "$SCRATCH/pause" --name "$PAUSE" --out "$SCRATCH/pause.tar" \
    --entrypoint /bin/sleep --entrypoint 1000000
"$PY" "$CRI_PY" image --rootfs "$SCRATCH/rootfs" --name "$IMG" --out "$SCRATCH/img.tar"
"$PY" "$CRI_PY" image --rootfs "$SCRATCH/rootfs" --name "$BAKED" --out "$SCRATCH/baked.tar" \
    --env NVIDIA_VISIBLE_DEVICES=all
for t in pause img baked; do
    OUT=$($CTR images import "$SCRATCH/$t.tar" 2>&1) || { not_ok "ctr images import $t.tar"; printf '%s\n' "$OUT" | diag; }
done
check "ctr -n k8s.io images import: the three images are there" \
    sh -c "$CTR images ls -q | grep -c 'gctk-test/.*:$$' | grep -qx 3"

# ---- pods ----
N=0
# pod NAME CRI-RUN-ARGS...: runs a pod whose container lists its GPUs and
# /dev nodes; OUT is what it printed (or the refusal)
pod() {
    N=$((N + 1))
    mkdir -p "$SCRATCH/logs/$N"
    OUT=$("${CRI[@]}" run --name "$1-$N" --logs "$SCRATCH/logs/$N" "${@:2}" -- \
        sh -c 'nvidia-smi -L 2>&1; ls /dev' 2>&1)
}
uuids_seen() { printf '%s\n' "$OUT" | grep -o 'GPU-[0-9a-f-]*' | sort | tr '\n' ' '; }
nodes_seen() { printf '%s\n' "$OUT" | grep -xE 'nvidia[0-9]+' | sort | tr '\n' ' '; }
uuids_of() { for i in "$@"; do echo "${UUID[$i]}"; done | sort | tr '\n' ' '; }
nodes_of() { for i in "$@"; do echo "nvidia$i"; done | sort | tr '\n' ' '; }
# expect_gpus NAME INDEX...: the pod saw exactly these GPUs (none when no INDEX)
expect_gpus() {
    local name=$1; shift
    if [ "$(uuids_seen)" = "$(uuids_of "$@")" ] && [ "$(nodes_seen)" = "$(nodes_of "$@")" ] &&
        printf '%s\n' "$OUT" | grep -qx 'exit: [0-9]*'; then
        ok "$name"
    else
        not_ok "$name"
        printf 'expected GPUs: %s\n' "${*:-none}" | diag
        printf '%s\n' "$OUT" | diag
    fi
}
# the annotation NVIDIA's device plugin sets (cdi-annotations strategy)
ANN="cdi.k8s.io/nvidia-device-plugin_gctk-test"

pod plain --image "$IMG"
expect_gpus "a pod without a request (default runtime) gets nothing" 
pod plain-nvidia --image "$IMG" --handler nvidia
expect_gpus "a pod without a request (RuntimeClass nvidia) gets nothing"

# RuntimeClass nvidia with NVIDIA_VISIBLE_DEVICES (the envvar strategy)
pod envvar --image "$IMG" --handler nvidia --env NVIDIA_VISIBLE_DEVICES=2
expect_gpus "RuntimeClass nvidia, NVIDIA_VISIBLE_DEVICES=2: exactly GPU 2" 2
pod envvar-uuids --image "$IMG" --handler nvidia --env "NVIDIA_VISIBLE_DEVICES=${UUID[3]},${UUID[0]}"
expect_gpus "device plugin envvar strategy (two UUIDs): exactly GPUs 0 and 3" 0 3
pod unknown --image "$IMG" --handler nvidia --env NVIDIA_VISIBLE_DEVICES=7
expect_match "an unknown GPU is refused, the host's GPUs named" \
    "^refused: StartContainer: .*unknown GPU .7.: this host has 0 \(${UUID[0]}" "$OUT"

# cdi-annotations: the annotation a device plugin sets, to the nvidia runtime
pod cdi-annotations --image "$IMG" --handler nvidia --annotation "$ANN=$VENDOR/gpu=1"
expect_gpus "device plugin cdi-annotations strategy (RuntimeClass nvidia): exactly GPU 1" 1
pod cdi-unknown --image "$IMG" --handler nvidia --annotation "$ANN=$VENDOR/gpu=7"
if version_ge "$CONTAINERD_VERSION" 1.7; then
    expect_match "containerd $CONTAINERD_VERSION refuses an unknown CDI device itself" \
        "^refused: .*unresolvable CDI devices $VENDOR/gpu=7" "$OUT"
else
    expect_match "an unknown CDI device is refused by gctk-runtime, the spec's devices named" \
        "^refused: .*unresolvable CDI device .$VENDOR/gpu=7.: .$VENDOR/gpu. offers 0, 1, 2, 3" "$OUT"
fi
# cdi-cri: CDIDevices (field 17 of ContainerConfig), as kubelet 1.32 and
# later send them (older ones sent the annotation too)
pod cdi-cri --image "$IMG" --handler nvidia --cdi "$VENDOR/gpu=3"
if version_ge "$CONTAINERD_VERSION" 1.7; then
    expect_gpus "device plugin cdi-cri strategy: CDIDevices $VENDOR/gpu=3: exactly GPU 3" 3
    # containerd applied the spec; gctk-runtime had the spec's hook (the gctk
    # beside it) make the spec's mounts in runc's place
    expect_eq "... the spec's hook made the spec's $(spec_mounts "$SPEC") mounts, not runc" \
        "$(spec_mounts "$SPEC")" "$(cdi_mounts_made "$SCRATCH/hook.log")"
else
    expect_gpus "containerd $CONTAINERD_VERSION knows no CDIDevices (1.7.2 added them): the pod gets nothing"
fi
# without RuntimeClass: only a containerd with CDI of its own applies the names
pod cdi-cri-runc --image "$IMG" --cdi "$VENDOR/gpu=0" --cdi "$VENDOR/gpu=2"
if version_ge "$CONTAINERD_VERSION" 1.7; then
    expect_gpus "default runtime, CDIDevices gpu=0 and gpu=2: containerd $CONTAINERD_VERSION applies exactly those" 0 2
    # the spec gives the driver's files to its hook: runc makes none of them
    # one by one, whatever the runtime
    expect_eq "... runc as the runtime: the spec's hook made the spec's $(spec_mounts "$SPEC") mounts" \
        "$(spec_mounts "$SPEC")" "$(cdi_mounts_made "$SCRATCH/hook.log")"
else
    expect_gpus "default runtime, CDIDevices on containerd $CONTAINERD_VERSION: nothing (no CDI of its own)"
fi
pod cdi-annotation-runc --image "$IMG" --annotation "$ANN=$VENDOR/gpu=1"
if version_ge "$CONTAINERD_VERSION" 1.7; then
    expect_gpus "default runtime, annotation gpu=1: containerd $CONTAINERD_VERSION applies exactly GPU 1" 1
else
    expect_gpus "default runtime, CDI annotation on containerd $CONTAINERD_VERSION: nothing (no CDI of its own)"
fi

# volume-mounts: /dev/null at /var/run/nvidia-container-devices/<id>
VM=(--image "$IMG" --handler nvidia --env NVIDIA_VISIBLE_DEVICES=/var/run/nvidia-container-devices
    --mount "/dev/null:/var/run/nvidia-container-devices/${UUID[1]}"
    --mount "/dev/null:/var/run/nvidia-container-devices/${UUID[3]}")
pod volume-off "${VM[@]}"
expect_match "volume-mounts with accept-nvidia-visible-devices-as-volume-mounts off: refused, the setting named" \
    "^refused: .*accept-nvidia-visible-devices-as-volume-mounts" "$OUT"
settings accept-nvidia-visible-devices-as-volume-mounts=true
pod volume-on "${VM[@]}"
expect_gpus "volume-mounts with the setting on: exactly GPUs 1 and 3" 1 3

# an image that bakes NVIDIA_VISIBLE_DEVICES=all
pod baked --image "$BAKED" --handler nvidia
expect_gpus "an image baking NVIDIA_VISIBLE_DEVICES=all, envvar-when-unprivileged on (the default): every GPU" 0 1 2 3
settings accept-nvidia-visible-devices-as-volume-mounts=true \
    accept-nvidia-visible-devices-envvar-when-unprivileged=false
pod baked-off --image "$BAKED" --handler nvidia
expect_gpus "the same with accept-nvidia-visible-devices-envvar-when-unprivileged off: no GPU"
pod baked-privileged --image "$BAKED" --handler nvidia --privileged
expect_match "...while a privileged pod still gets them" "$(uuids_of 0 1 2 3 | sed 's/ $//; s/ /.*/g')" \
    "$(uuids_seen)"
pod volume-shared "${VM[@]}"
expect_gpus "with both policies (a shared cluster): the device plugin's volume mounts still give GPUs 1 and 3" 1 3
pod envvar-shared --image "$IMG" --handler nvidia --env NVIDIA_VISIBLE_DEVICES=2
expect_gpus "...and a pod's own NVIDIA_VISIBLE_DEVICES gives nothing" 
settings

OUT=$("${CRI[@]}" leftovers 2>&1)
expect_eq "nothing left running: no pod, no container" "pods: 0 containers: 0" "$OUT"
check "no task left in containerd" test -z "$($CTR tasks ls -q 2>/dev/null)"

# ---- --set-as-default: pods of the default runtime run gctk-runtime ----
stop_containerd
OUT=$("$GCTK" runtime configure --runtime=containerd --config "$CD/config.toml" \
    --drop-in-config "$CD/conf.d/99-gctk.toml" --runtime-path "$GCTK_RUNTIME" --set-as-default 2>&1)
expect_eq "gctk runtime configure --set-as-default succeeds" 0 "$?"
DUMP=$(containerd --config "$CD/config.toml" config dump 2>/dev/null)
expect_match "containerd's dump: nvidia is the default runtime" "default_runtime_name = ${q}nvidia$q" "$DUMP"
expect_match "containerd's dump: the node's sandbox image is still kept" "$SANDBOX = $q$PAUSE$q" "$DUMP"
expect_match "containerd's dump: runc is still there" "runtime_type = ${q}io.containerd.runc.v2$q" "$(cri_table "$R.runc")"
start_containerd
pod default-envvar --image "$IMG" --env NVIDIA_VISIBLE_DEVICES=1
expect_gpus "nvidia the default runtime: a pod without RuntimeClass, NVIDIA_VISIBLE_DEVICES=1: exactly GPU 1" 1
pod default-plain --image "$IMG"
expect_gpus "...and one without a request gets nothing"
OUT=$("${CRI[@]}" leftovers 2>&1)
expect_eq "nothing left running after the default runtime's pods" "pods: 0 containers: 0" "$OUT"

# ---- --remove: the node as it was ----
stop_containerd
OUT=$("$GCTK" runtime configure --runtime=containerd --config "$CD/config.toml" \
    --drop-in-config "$CD/conf.d/99-gctk.toml" --remove 2>&1)
expect_eq "gctk runtime configure --remove succeeds" 0 "$?"
check "--remove: the drop-in is gone" test ! -e "$CD/conf.d/99-gctk.toml"
check "--remove: the main file is byte for byte what it was" cmp -s "$CD/config.toml" "$CD/config.toml.before"
echo "$N pods in $((SECONDS - T0)) s" | diag
