#!/usr/bin/env bash
# Kubernetes' path on a machine with a real NVIDIA driver, as root:
#   tools/gpu-cri.sh CARRY OUT
# containerd's CRI service plays the node, configured only by gctk's own
# commands (`gctk runtime configure --runtime=containerd`, `gctk cdi
# generate`); tests/cri/cri.py plays the kubelet, one pod at a time, as
# tests/e2e/test-cri.sh does on a simulated host. Pods ask for GPUs the ways
# Kubernetes asks for them: the RuntimeClass handler `nvidia` with
# NVIDIA_VISIBLE_DEVICES (NVIDIA's device plugin, envvar strategy), CRI
# CDIDevices (cdi-cri), a `cdi.k8s.io/` annotation (cdi-annotations). Each
# pod runs nvidia-smi and a CUDA kernel (tools/gpu/vecadd.cu) and must see
# exactly its GPUs, by the host's UUIDs; where the machine has PyTorch, a pod
# of its userland multiplies matrices on GPU 0.
# CARRY holds bin/{gctk,gctk-hook,gctk-runtime,busybox} (built with `meson setup
# build-static -Dprefer_static=true`), containerd.tar.xz (Debian's
# bin/{containerd,ctr,containerd-shim-runc-v2,runc}, lib/libseccomp.so.2)
# and cri/ (the CRI stubs, api_pb2.py and api_pb2_grpc.py, made by Debian's
# protoc and grpc_python_plugin: docs/real-gpu.md). The machine's python3
# needs grpc.
# `gctk runtime configure` edits containerd's TOML through gctk's TOML module,
# which a static build has not: GCTK_CRI_GCTK names a gctk of a shared build
# that has it (build/cmd/gctk beside build/lib/gctk-toml.so; LD_LIBRARY_PATH
# for its libraries where the machine lacks them: GCTK_CRI_LIBS).
# Everything it prints goes to OUT/cri.log. Results are in docs/real-gpu.md.
set -u
. "$(dirname "$0")/gpu/lib.sh"
gpu_begin "$1" "$2" cri.log gctk-cri
PASS=0 FAIL=0
verdict() { # verdict NAME OK?
    if [ "$2" = 0 ]; then PASS=$((PASS + 1)); echo "PASS: $1"; else FAIL=$((FAIL + 1)); echo "FAIL: $1"; fi
}

mkdir -p "$W/cd"
tar -xJf "$C/containerd.tar.xz" -C "$W/cd"
export PATH=$W/cd/bin:$C/bin:$PATH LD_LIBRARY_PATH=$W/cd/lib
mkdir -p /sys/fs/bpf
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

step "the machine"
run nvidia-smi -L
mapfile -t UUID < <(nvidia-smi --query-gpu=uuid --format=csv,noheader)
# a CDI spec mounts the driver's programs at their host paths, as NVIDIA's
# specs do: the pods' PATH names that directory, as nvidia/cuda images' does
NVBIN=$(dirname "$(readlink -f "$(command -v nvidia-smi)")")
run containerd --version
run runc --version
run python3 -c 'import grpc, google.protobuf; print("grpc", grpc.__version__, "protobuf", google.protobuf.__version__)'

step "gctk's settings, the CDI spec, containerd configured by gctk"
CONF=$W/gctk.json
CDI=$W/cdi
VENDOR=gctk.cri
echo '{"root": "/", "log": "'"$W"'/hook.log", "discovery-cache": "'"$W"'/cache", "cdi-spec-dirs": ["'"$CDI"'"]}' >"$CONF"
mkdir -p "$CDI"
run env GCTK_CONFIG="$CONF" gctk cdi generate --vendor "$VENDOR" --output "$CDI/gctk.json"
CD=$W/containerd
PAUSE=docker.io/gctk-cri/pause:1
IMG=docker.io/gctk-cri/gpu:1
mkdir -p "$CD"
# a node's main file (its own directories and sandbox image), containerd's
# CDI reading the private spec directory
bash "$SRC/tests/cri/node-config.sh" "$CD" "$PAUSE" "cdi_spec_dirs = [\"$CDI\"]" >"$CD/config.toml"
run env LD_LIBRARY_PATH="${GCTK_CRI_LIBS:-}" "${GCTK_CRI_GCTK:-gctk}" runtime configure --runtime=containerd --config "$CD/config.toml" \
    --drop-in-config "$CD/conf.d/99-gctk.toml" --runtime-path "$C/bin/gctk-runtime"
run cat "$CD/conf.d/99-gctk.toml"
containerd --config "$CD/config.toml" config dump >"$W/dump.toml" 2>&1
grep -E 'enable_cdi|cdi_spec_dirs|BinaryName|default_runtime_name' "$W/dump.toml"

CRI=(python3 "$SRC/tests/cri/cri.py" --socket "$CD/containerd.sock" --stubs "$C/cri")
env -i PATH="$PATH" LD_LIBRARY_PATH="$LD_LIBRARY_PATH" GCTK_CONFIG="$CONF" \
    containerd --config "$CD/config.toml" </dev/null >"$W/containerd.log" 2>&1 &
CD_PID=$!
for _ in $(seq 1 60); do "${CRI[@]}" version >/dev/null 2>&1 && break; sleep 0.5; done
run "${CRI[@]}" version

step "images from local archives: a pause image, and busybox with glibc, nvidia-smi's libraries and a CUDA program"
mkdir -p "$W/pause/bin"
cp "$C/bin/busybox" "$W/pause/bin/busybox"
ln -s busybox "$W/pause/bin/sleep"
R=$W/rootfs
cuda_rootfs "$R"
python3 "$SRC/tests/cri/cri.py" image --rootfs "$W/pause" --name "$PAUSE" --out "$W/pause.tar" \
    --entrypoint /bin/sleep --entrypoint 1000000
python3 "$SRC/tests/cri/cri.py" image --rootfs "$R" --name "$IMG" --out "$W/img.tar"
for t in pause img; do run ctr --address "$CD/containerd.sock" -n k8s.io images import "$W/$t.tar"; done

step "pods"
N=0
# pod NAME EXPECTED-GPU-INDEXES CRI-RUN-ARGS...: a pod that lists its GPUs
# and /dev nodes and runs the kernel; EXPECTED is "" for none
pod() {
    local name=$1 want=$2 out nodes devs ok=0 i
    shift 2
    N=$((N + 1))
    mkdir -p "$W/logs/$N"
    echo "\$ cri.py run --name $name $*"
    out=$("${CRI[@]}" run --name "$name" --logs "$W/logs/$N" --env "PATH=$NVBIN:/usr/local/bin:/usr/bin:/bin" "$@" -- \
        sh -c 'nvidia-smi -L 2>&1; ls /dev | grep nvidia; vecadd 2>&1' 2>&1)
    printf '%s\n' "$out"
    # shellcheck disable=SC2086 # the indexes, one argument each
    saw_exactly "$out" $want || ok=1
    nodes=$(printf '%s\n' "$out" | grep -xE 'nvidia[0-9]+' | sort | tr '\n' ' ')
    devs=$(for i in $want; do echo "nvidia$i"; done | sort | tr '\n' ' ')
    [ "$nodes" = "$devs" ] || ok=1
    [ -z "$want" ] || printf '%s\n' "$out" | grep -qx 'exit: 0' || ok=1
    verdict "$name: GPUs seen [${SEEN% }], nodes [${nodes% }], expected [${WANT% }]" $ok
}
ALL=$(seq -s ' ' 0 $((${#UUID[@]} - 1)))
pod envvar-0 0 --image "$IMG" --handler nvidia --env NVIDIA_VISIBLE_DEVICES=0
pod envvar-all "$ALL" --image "$IMG" --handler nvidia \
    --env NVIDIA_VISIBLE_DEVICES=all
pod envvar-uuid 0 --image "$IMG" --handler nvidia --env "NVIDIA_VISIBLE_DEVICES=${UUID[0]}"
pod cdi-cri 0 --image "$IMG" --cdi "$VENDOR/gpu=0"
pod cdi-cri-all "$ALL" --image "$IMG" --cdi "$VENDOR/gpu=all"
pod cdi-annotation 0 --image "$IMG" --annotation "cdi.k8s.io/gctk-cri=$VENDOR/gpu=0"
pod nvidia-handler-no-gpu "" --image "$IMG" --handler nvidia
pod runc-no-gpu "" --image "$IMG"
out=$("${CRI[@]}" run --name unknown-gpu --logs "$W/logs/unknown" --image "$IMG" --handler nvidia \
    --env "NVIDIA_VISIBLE_DEVICES=${#UUID[@]}" -- true 2>&1)
printf '%s\n' "$out"
printf '%s\n' "$out" | grep -q '^refused: CreateContainer\|^refused: StartContainer'
verdict "a GPU the host lacks (NVIDIA_VISIBLE_DEVICES=${#UUID[@]}): the CRI refuses the container" $?

# PyTorch where the machine has it (GCTK_VERIFY_TORCH, default /opt/torch,
# its .venv), as gpu-verify's ps step runs it under Docker: a pod of the
# machine's own userland (no /usr/local: no driver, the hook brings it),
# PyTorch from a volume, the envvar strategy's GPU 0, a matrix product on it
TORCH=${GCTK_VERIFY_TORCH:-/opt/torch}
if [ -x "$TORCH/.venv/bin/python" ]; then
    step "a PyTorch pod: the machine's userland as its image, PyTorch from a volume"
    T=$W/torchroot
    TIMG=docker.io/gctk-cri/torch:1
    mkdir -p "$T"
    tar -C / -c --exclude=usr/local --exclude=usr/share --exclude=usr/include --exclude=usr/src \
        bin sbin lib lib64 usr etc 2>/dev/null | tar -x -C "$T"
    mkdir -p "$T"/{dev,proc,sys,tmp}
    python3 "$SRC/tests/cri/cri.py" image --rootfs "$T" --name "$TIMG" --out "$W/torch.tar"
    rm -rf "$T"
    run ctr --address "$CD/containerd.sock" -n k8s.io images import "$W/torch.tar"
    rm -f "$W/torch.tar"
    out=$("${CRI[@]}" run --name torch --logs "$W/logs/torch" --image "$TIMG" --handler nvidia \
        --env NVIDIA_VISIBLE_DEVICES=0 --mount "$TORCH:$TORCH" \
        --env NCCL_NVLS_ENABLE=0 --env TORCH_SYMM_MEM_DISABLE_MULTICAST=1 --env NVSHMEM_DISABLE_NVLS=1 -- \
        "$TORCH/.venv/bin/python" -c '
import torch
a = torch.randn(4096, 4096, device="cuda")
b = a @ a.T
torch.cuda.synchronize()
print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0),
      "devices", torch.cuda.device_count(), "product", "ok" if bool(torch.isfinite(b).all()) else "bad")
' 2>&1)
    printf '%s\n' "$out"
    printf '%s\n' "$out" | grep -q 'devices 1 product ok$' && printf '%s\n' "$out" | grep -qx 'exit: 0'
    verdict "a PyTorch pod (envvar strategy, GPU 0): CUDA there, one device, a matrix product on it" $?
else
    echo "PyTorch pod: skipped: no PyTorch at $TORCH/.venv/bin/python (set GCTK_VERIFY_TORCH)"
fi

step "what is left: pods, containers, mounts"
out=$("${CRI[@]}" leftovers 2>&1)
echo "$out"
[ "$out" = "pods: 0 containers: 0" ]
verdict "no pod or container left" $?
grep -c "$W/containerd/state" /proc/self/mountinfo | sed 's/^/mounts left under the state directory: /'
step "the hooks' log"
cat "$W/hook.log"
cp "$W/containerd.log" "$OUT/containerd.log"

kill "$CD_PID"
wait "$CD_PID" 2>/dev/null
awk -v w="$W/" '$5 ~ "^" w { print $5 }' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l
rm -rf "$W"
step "result"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
