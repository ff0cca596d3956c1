#!/usr/bin/env bash
# e2e: `gctk sim create` builds a host that the mock nvidia-smi and a CUDA
# program (cuda-devices) see as a real one, and that fails like a real one
# when broken. TAP output; needs GCTK_BUILD=<build dir>.
set -uo pipefail
build=${GCTK_BUILD:?set GCTK_BUILD to the build directory}
gctk=$build/cmd/gctk
cuda_devices=$build/sim/cuda-devices

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "#   $l"; done; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
# check NAME EXPECTED ACTUAL
check() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected: $2" "got:      $3"; fi
}
# contains NAME NEEDLE HAYSTACK
contains() {
    case "$3" in *"$2"*) ok "$1" ;; *) not_ok "$1" "expected to contain: $2" "got: $3" ;; esac
}

tmp=$(mktemp -d /tmp/gctk-e2e-sim.XXXXXX)
cgroup=""
cleanup() {
    [ -n "$cgroup" ] && rmdir "$cgroup" 2>/dev/null
    mountpoint -q "$tmp/nodev" 2>/dev/null && umount "$tmp/nodev"
    rm -rf "$tmp"
}
trap cleanup EXIT

host=$tmp/host
smi=$host/usr/bin/nvidia-smi
lib64=$host/usr/lib/x86_64-linux-gnu

out=$("$gctk" sim create "$host" 2>&1)
check "sim create exits 0" 0 $?
contains "sim create prints the GCTK_CONFIG line" "export GCTK_CONFIG=$host/gctk.conf" "$out"
contains "sim create prints the GPU count" "4 x NVIDIA H100 80GB HBM3" "$out"

# the UUIDs the host was built with, read from its proc files
expect_list=""
i=0
for info in "$host"/proc/driver/nvidia/gpus/*/information; do
    uuid=$(sed -n 's/^GPU UUID: *\t* *//p' "$info" | tr -d '\t ')
    expect_list+="GPU $i: NVIDIA H100 80GB HBM3 (UUID: $uuid)"$'\n'
    uuids[$i]=$uuid
    i=$((i + 1))
done
expect_list=${expect_list%$'\n'}

out=$("$smi" -L)
check "nvidia-smi -L exits 0" 0 $?
check "nvidia-smi -L lists the 4 GPUs with their UUIDs" "$expect_list" "$out"

out=$("$smi" --query-gpu=index,uuid,pci.bus_id,name,memory.total --format=csv)
check "csv query" "index, uuid, pci.bus_id, name, memory.total [MiB]
0, ${uuids[0]}, 00000000:18:00.0, NVIDIA H100 80GB HBM3, 81559 MiB
1, ${uuids[1]}, 00000000:2a:00.0, NVIDIA H100 80GB HBM3, 81559 MiB
2, ${uuids[2]}, 00000000:3a:00.0, NVIDIA H100 80GB HBM3, 81559 MiB
3, ${uuids[3]}, 00000000:5d:00.0, NVIDIA H100 80GB HBM3, 81559 MiB" "$out"

out=$("$smi" -i "${uuids[2]}" --query-gpu=index,compute_cap,driver_version --format=csv,noheader)
check "-i by UUID, noheader" "2, 9.0, 580.95.05" "$out"

out=$("$smi")
contains "table shows the driver and CUDA versions" "Driver Version: 580.95.05      CUDA Version: 13.0" "$out"

out=$("$smi" -i 9 -L)
rc=$?
check "-i with an unknown GPU: exit 6" "6 No devices were found" "$rc $out"

out=$(LD_LIBRARY_PATH=$lib64 "$cuda_devices")
check "cuda-devices sees the 4 GPUs" "CUDA driver 13.0, 4 device(s)
device 0: NVIDIA H100 80GB HBM3 ${uuids[0]} cc 9.0
device 1: NVIDIA H100 80GB HBM3 ${uuids[1]} cc 9.0
device 2: NVIDIA H100 80GB HBM3 ${uuids[2]} cc 9.0
device 3: NVIDIA H100 80GB HBM3 ${uuids[3]} cc 9.0" "$out"

out=$(env -u LD_LIBRARY_PATH "$cuda_devices" 2>&1)
rc=$?
contains "cuda-devices without libcuda on the loader path fails to load" \
    "libcuda.so.1: cannot open shared object file" "$rc $out"

# --- break the host, one part at a time -------------------------------------
mv "$host/dev/nvidia2" "$tmp/nvidia2"
out=$("$smi" -L)
check "without /dev/nvidia2: 3 GPUs" "GPU 0: NVIDIA H100 80GB HBM3 (UUID: ${uuids[0]})
GPU 1: NVIDIA H100 80GB HBM3 (UUID: ${uuids[1]})
GPU 2: NVIDIA H100 80GB HBM3 (UUID: ${uuids[3]})" "$out"
out=$(LD_LIBRARY_PATH=$lib64 "$cuda_devices" | head -n 1)
check "without /dev/nvidia2: cuda-devices sees 3" "CUDA driver 13.0, 3 device(s)" "$out"
mv "$tmp/nvidia2" "$host/dev/nvidia2"

version=$host/proc/driver/nvidia/version
cp "$version" "$tmp/version"
sed -i 's/580\.95\.05/570.86.15/' "$version"
out=$("$smi" -L)
rc=$?
check "kernel module 570, library 580: version mismatch, exit 255" \
    "255 Failed to initialize NVML: Driver/library version mismatch" "$rc $out"

rm "$version"
out=$("$smi" -L)
rc=$?
check "no /proc/driver/nvidia/version: exit 9" "9 NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running." "$rc $out"
out=$(LD_LIBRARY_PATH=$lib64 "$cuda_devices" 2>/dev/null)
rc=$?
check "no driver: cuda-devices fails with CUDA_ERROR_NO_DEVICE" "1 CUDA_ERROR_NO_DEVICE" "$rc $out"
cp "$tmp/version" "$version"

mv "$host/dev/nvidiactl" "$tmp/nvidiactl"
out=$("$smi" -L)
check "no /dev/nvidiactl: exit 9" 9 $?
mv "$tmp/nvidiactl" "$host/dev/nvidiactl"

mv "$lib64/libnvidia-ml.so.1" "$tmp/nvml-link"
out=$("$smi" -L)
rc=$?
contains "no libnvidia-ml.so.1: exit 12" "12 NVIDIA-SMI couldn't find libnvidia-ml.so library in your system." "$rc $out"
mv "$tmp/nvml-link" "$lib64/libnvidia-ml.so.1"

out=$("$smi" -L | wc -l)
check "repaired host: 4 GPUs again" 4 "$out"

# --- a device cgroup that denies the GPU nodes: the classic cgroup failure ----
if [ "$(id -u)" = 0 ] && [ -w /sys/fs/cgroup/devices/devices.deny ]; then
    cgroup=/sys/fs/cgroup/devices/gctk-e2e-sim-$$
    mkdir "$cgroup" && echo "c 195:* rwm" >"$cgroup/devices.deny"
    out=$(sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" -L' sh "$cgroup" "$smi")
    rc=$?
    check "device cgroup denies 195:*: Unknown Error, exit 255" \
        "255 Failed to initialize NVML: Unknown Error" "$rc $out"
    rmdir "$cgroup" && cgroup=""
else
    skip "device cgroup denies 195:*" "needs root and cgroup v1 devices"
fi

# --- a nodev filesystem: sim create warns, the mocks fail as a driver would ----
if [ "$(id -u)" = 0 ] && mkdir "$tmp/nodev" && mount -t tmpfs -o nodev tmpfs "$tmp/nodev"; then
    out=$("$gctk" sim create --gpus 1 "$tmp/nodev/host" 2>&1)
    contains "sim create on a nodev mount warns" "mounted nodev" "$out"
    out=$("$tmp/nodev/host/usr/bin/nvidia-smi" -L)
    check "nodev: Unknown Error" "255 Failed to initialize NVML: Unknown Error" "$? $out"
    umount "$tmp/nodev"
else
    skip "nodev mount" "needs root"
fi

# --- options ----------------------------------------------------------------------
out=$("$gctk" sim create "$host" 2>&1)
rc=$?
contains "sim create refuses a non-empty dir" "is not empty" "$rc $out"
check "refusal exits 1" 1 "$rc"

out=$("$gctk" sim create --force --gpus 0 --driver 590.44.01 --cuda 13.1 "$host" 2>&1)
check "sim create --force --gpus 0 exits 0" 0 $?
out=$("$smi" -L)
check "0 GPUs: No devices were found, exit 6" "6 No devices were found" "$? $out"
out=$("$smi" --version)
contains "--version shows the new driver" "DRIVER version      : 590.44.01" "$out"
contains "--version shows the patched CUDA version" "CUDA Version        : 13.1" "$out"
out=$(LD_LIBRARY_PATH=$lib64 "$cuda_devices" 2>/dev/null)
check "0 GPUs: cuda-devices fails with CUDA_ERROR_NO_DEVICE" "1 CUDA_ERROR_NO_DEVICE" "$? $out"

"$gctk" sim create --force --gpus 16 --model "NVIDIA A100-SXM4-40GB" "$host" >/dev/null 2>&1
out=$("$smi" --query-gpu=index,name,memory.total,compute_cap --format=csv,noheader | tail -n 1)
check "16 GPUs of another model" "15, NVIDIA A100-SXM4-40GB, 40960 MiB, 8.0" "$out"

# without --cuda, the CUDA version the driver really supports (535.104.05: 12.2)
out=$("$gctk" sim create --gpus 1 --driver 535.104.05 "$tmp/r535" 2>&1)
contains "--driver 535.104.05 without --cuda: CUDA 12.2" "CUDA:    12.2 (what this driver supports)" "$out"
out=$("$tmp/r535/usr/bin/nvidia-smi" --version)
contains "--driver 535.104.05: nvidia-smi reports CUDA 12.2" "CUDA Version        : 12.2" "$out"
out=$("$gctk" --root "$tmp/r535" compat --cuda 12.4 2>&1)
check "--driver 535.104.05: gctk compat --cuda 12.4 is minor-version compatibility (exit 3)" 3 $?
contains "--driver 535.104.05: gctk compat names the native driver" "driver >= 550.54.14 runs it natively" "$out"
out=$("$gctk" sim create --gpus 1 --driver 300.10 "$tmp/r300" 2>&1)
check "--driver older than every CUDA release, no --cuda: exit 1" 1 $?
contains "--driver older than every CUDA release: the fix" "give the CUDA version it supports (--cuda)" "$out"

# sim create reads no config: a GCTK_CONFIG naming a missing file does not stop it
out=$(GCTK_CONFIG=$tmp/missing/gctk.conf "$gctk" sim create --gpus 1 "$tmp/noconf" 2>&1)
check "GCTK_CONFIG naming a missing file: sim create exits 0" 0 $?
check "GCTK_CONFIG naming a missing file: the host is built" "GPU 0: NVIDIA H100 80GB HBM3" \
    "$("$tmp/noconf/usr/bin/nvidia-smi" -L | cut -d' ' -f1-6)"
out=$(GCTK_CONFIG=$tmp/missing/gctk.conf "$gctk" info 2>&1)
contains "GCTK_CONFIG naming a missing file: a command that reads it still says so" \
    "config \`$tmp/missing/gctk.conf\`: No such file or directory" "$out"

out=$("$gctk" sim create --gpus 1025 "$tmp/big" 2>&1)
rc=$?
contains "--gpus 1025 is refused" "invalid --gpus \`1025\`" "$rc $out"

echo "1..$n"
[ "$failed" -eq 0 ]
