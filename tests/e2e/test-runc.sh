#!/usr/bin/env bash
# gctk-hook under real runc on a simulated 4-GPU host: each container must see
# exactly the GPUs it asked for, with the driver files of its capabilities,
# and leave nothing behind on the host.
. "$(dirname "$0")/lib.sh"

need_root "runc end to end" || exit 0
command -v runc >/dev/null || { skip "runc end to end" "runc is not installed"; exit 0; }
versions "runc $(version_of runc --version)"
e2e_arch_ready "runc end to end" || exit 0

HOST=$SCRATCH/host
"$GCTK" sim create "$HOST" --gpus 4 "${E2E_SIM_ARGS[@]}" >/dev/null || { not_ok "gctk sim create"; exit 1; }
cat >"$SCRATCH/gctk.conf" <<EOF
{"root": "$HOST", "log": "$SCRATCH/hook.log"}
EOF
export GCTK_CONFIG=$SCRATCH/gctk.conf
HOOK_ENV="[\"GCTK_CONFIG=$GCTK_CONFIG\"]"
mapfile -t UUID < <("$GCTK" info --json --no-nvml | jq -r '.gpus[].uuid')
mapfile -t BUS < <("$GCTK" info --json --no-nvml | jq -r '.gpus[].bus_id')
expect_eq "the simulated host has 4 GPUs" 4 "${#UUID[@]}"

ROOTFS=$SCRATCH/rootfs
make_rootfs "$ROOTFS"
cp "$E2E_SIM_TOOLS/cuda-devices" "$ROOTFS/bin/cuda-devices"
MOUNTS_BEFORE=$(host_mounts)
N=0

# run_gpu NAME ENV_JSON SCRIPT: runs `sh -c SCRIPT` in a fresh container; output in $OUT, status in $RC
run_gpu() {
    N=$((N + 1))
    local b=$SCRATCH/bundle-$N
    # a fresh rootfs each time, as every Docker container gets its own layer:
    # mount targets the hook creates stay in the rootfs after the container
    rm -rf "$SCRATCH/rootfs-run"
    cp -a "$ROOTFS" "$SCRATCH/rootfs-run"
    make_bundle "$b" "$SCRATCH/rootfs-run" "[\"sh\", \"-c\", $(jq -Rn --arg s "$3" '$s')]" "$2" "$HOOK_ENV"
    OUT=$(runc_run "$b" "gctk-e2e-$$-$N")
    RC=$?
    runc --root "$RUNC_ROOT" delete -f "gctk-e2e-$$-$N" >/dev/null 2>&1
}

uuids_seen() { printf '%s\n' "$OUT" | grep -o 'GPU-[0-9a-f-]*' | sort | tr '\n' ' '; }
uuids_of() { for i in "$@"; do echo "${UUID[$i]}"; done | sort | tr '\n' ' '; }

run_gpu machine '[]' 'busybox uname -m'
expect_eq "the containers are $E2E_ARCH ones" "$E2E_ARCH" "$OUT"

run_gpu all '["NVIDIA_VISIBLE_DEVICES=all"]' 'nvidia-smi -L'
expect_eq "all: nvidia-smi -L lists the 4 GPUs" "$(uuids_of 0 1 2 3)" "$(uuids_seen)"

run_gpu list '["NVIDIA_VISIBLE_DEVICES=1,3"]' 'nvidia-smi -L; ls /dev/nvidia*'
expect_eq "1,3: exactly GPUs 1 and 3" "$(uuids_of 1 3)" "$(uuids_seen)"
expect_eq "1,3: only their device nodes" "/dev/nvidia-uvm /dev/nvidia-uvm-tools /dev/nvidia1 /dev/nvidia3 /dev/nvidiactl" \
    "$(printf '%s\n' "$OUT" | grep '^/dev/' | sort | tr '\n' ' ' | sed 's/ $//')"

run_gpu uuid "[\"NVIDIA_VISIBLE_DEVICES=${UUID[2]}\"]" 'nvidia-smi -L'
expect_eq "a UUID selects that GPU" "$(uuids_of 2)" "$(uuids_seen)"

run_gpu busid "[\"NVIDIA_VISIBLE_DEVICES=${BUS[1]}\"]" 'nvidia-smi -L'
expect_eq "a PCI bus id selects that GPU" "$(uuids_of 1)" "$(uuids_seen)"

run_gpu none '["NVIDIA_VISIBLE_DEVICES=none"]' \
    "ls /dev/nvidia0 2>/dev/null; ls $E2E_LIBDIR/libcuda.so.1 /usr/bin/nvidia-smi; nvidia-smi -L"
expect_match "none: driver files without any GPU" "libcuda.so.1" "$OUT"
check "none: no GPU node and no GPU listed" test -z "$(uuids_seen)" -a "$(printf '%s' "$OUT" | grep -c '^/dev/nvidia0')" = 0

for v in unset void; do
    env='[]'
    [ "$v" = void ] && env='["NVIDIA_VISIBLE_DEVICES=void"]'
    run_gpu "$v" "$env" 'ls /dev/nvidiactl /usr/bin/nvidia-smi 2>&1; echo rc=$?'
    expect_match "$v: nothing injected" "rc=1" "$OUT"
done

run_gpu utility '["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=utility"]' \
    "nvidia-smi -L; ls $E2E_LIBDIR/ | grep -c libcuda"
expect_match "utility: nvidia-smi works" "${UUID[0]}" "$OUT"
expect_eq "utility: no libcuda" 0 "$(printf '%s\n' "$OUT" | tail -n 1)"

run_gpu compute '["NVIDIA_VISIBLE_DEVICES=2,3", "NVIDIA_DRIVER_CAPABILITIES=compute"]' \
    'cuda-devices; ls /usr/bin/nvidia-smi 2>&1'
expect_match "compute: a CUDA program sees 2 devices" "2 device" "$OUT"
expect_match "compute: the CUDA program sees GPU 2" "${UUID[2]}" "$OUT"
expect_match "compute: no nvidia-smi (a utility binary)" "No such file" "$OUT"

run_gpu links '["NVIDIA_VISIBLE_DEVICES=0"]' \
    "readlink $E2E_LIBDIR/libcuda.so; readlink $E2E_LIBDIR/libcuda.so.1; cat /proc/driver/nvidia/params | grep Modify; ls /proc/driver/nvidia/gpus | wc -l"
expect_match "libcuda.so -> libcuda.so.1" "^libcuda.so.1" "$OUT"
expect_match "libcuda.so.1 -> the driver's file" "libcuda.so.[0-9]+\.[0-9]+" "$OUT"
expect_match "/proc/driver/nvidia/params says ModifyDeviceFiles: 0" "ModifyDeviceFiles: 0" "$OUT"
expect_eq "/proc/driver/nvidia/gpus shows only the selected GPU" 1 "$(printf '%s\n' "$OUT" | tail -n 1)"

# what NVIDIA's toolkit 1.18 injects beyond the libraries (lib.sh, check_parity)
run_gpu parity '["NVIDIA_VISIBLE_DEVICES=1", "NVIDIA_DRIVER_CAPABILITIES=all"]' "$PARITY_SCRIPT"
check_parity "hook path"
run_gpu no-graphics '["NVIDIA_VISIBLE_DEVICES=1", "NVIDIA_DRIVER_CAPABILITIES=utility,compute"]' \
    "ls /dev/dri $E2E_LIBDIR/gbm /usr/share/egl 2>&1; readlink $E2E_LIBDIR/libcuda.so"
expect_eq "utility,compute: no DRM node, no GBM backend, no EGL platform file" 3 \
    "$(printf '%s\n' "$OUT" | grep -c 'No such file')"
expect_match "utility,compute: libcuda.so all the same" "^libcuda.so.1$" "$OUT"

# IMEX channels, as NVIDIA_IMEX_CHANNELS asks (the default settings let an
# unprivileged container ask through its environment, as NVIDIA's do)
run_gpu imex '["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_IMEX_CHANNELS=1"]' \
    'ls /dev/nvidia-caps-imex-channels; head -c 1 /dev/nvidia-caps-imex-channels/channel1 2>&1'
expect_eq "NVIDIA_IMEX_CHANNELS=1: exactly channel 1" "channel1" "$(printf '%s\n' "$OUT" | head -n 1)"
expect_match "NVIDIA_IMEX_CHANNELS=1: the device cgroup lets the container open it" "No such device or address" "$OUT"
run_gpu imex-all '["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_IMEX_CHANNELS=all"]' 'ls /dev/nvidia-caps-imex-channels 2>&1'
expect_match "NVIDIA_IMEX_CHANNELS=all: no channel, as NVIDIA's toolkit" "No such file" "$OUT"
expect_match "NVIDIA_IMEX_CHANNELS=all: the hook's log says why" "NVIDIA_IMEX_CHANNELS=all ignored: .all. names no channel" "$(cat "$SCRATCH/hook.log")"
run_gpu imex-missing '["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_IMEX_CHANNELS=5"]' 'echo started'
check "NVIDIA_IMEX_CHANNELS=5 (no such node): the container does not start" test "$RC" -ne 0
expect_match "NVIDIA_IMEX_CHANNELS=5: the message names the node and the mknod that makes it" \
    "IMEX channel 5: device node .*channel5. is missing: create it with .mknod -m 666 .*channel5 c 509 5." "$OUT"

run_gpu unknown '["NVIDIA_VISIBLE_DEVICES=9"]' 'echo started'
check "unknown id: the container does not start" test "$RC" -ne 0
expect_match "unknown id: the message names the valid ids" "unknown GPU .9.: this host has 0 \(${UUID[0]}" "$OUT"

run_gpu require '["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_REQUIRE_CUDA=cuda>=99.0"]' 'echo started'
check "failed requirement: the container does not start" test "$RC" -ne 0
expect_match "failed requirement: the message names the condition" "cuda>=99.0" "$OUT"

run_gpu disable '["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_REQUIRE_CUDA=cuda>=99.0", "NVIDIA_DISABLE_REQUIRE=true"]' 'echo started'
expect_match "NVIDIA_DISABLE_REQUIRE=true: starts anyway" "started" "$OUT"

# A rootfs whose lib dir, /usr/bin and /dev point out of it: everything must
# land inside the rootfs, nothing on the host.
EVIL=$SCRATCH/evil-rootfs
make_rootfs "$EVIL"
CANARY=$SCRATCH/canary
mkdir -p "$CANARY/lib" "$CANARY/bin" "$CANARY/dev"
rm -rf "$EVIL$E2E_LIBDIR" "$EVIL/usr/bin"
ln -s "$CANARY/lib" "$EVIL$E2E_LIBDIR"
ln -s "../../../../../../../..$CANARY/bin" "$EVIL/usr/bin"
canary_before=$(find "$CANARY" | sort | md5sum)
N=$((N + 1))
make_bundle "$SCRATCH/bundle-evil" "$EVIL" '["sh", "-c", "nvidia-smi -L"]' '["NVIDIA_VISIBLE_DEVICES=0"]' "$HOOK_ENV"
OUT=$(runc_run "$SCRATCH/bundle-evil" "gctk-e2e-$$-evil")
runc --root "$RUNC_ROOT" delete -f "gctk-e2e-$$-evil" >/dev/null 2>&1
expect_eq "symlinks out of the rootfs: nothing written outside" "$canary_before" "$(find "$CANARY" | sort | md5sum)"
expect_match "symlinks out of the rootfs: the container still works" "${UUID[0]}" "$OUT"
check "symlinks out of the rootfs: the files went inside it" test -e "$EVIL$CANARY/lib/libcuda.so.1" -o -L "$EVIL$CANARY/lib/libcuda.so.1"

# The image's LD_PRELOAD is for the container, never for the hook on the host.
MARK=/tmp/gctk-preload-mark-$$
cat >"$SCRATCH/evil.c" <<EOF
#include <fcntl.h>
#include <unistd.h>
__attribute__((constructor)) static void mark(void) { close(open("$MARK", O_CREAT | O_WRONLY, 0644)); }
EOF
if [ -n "$E2E_CC" ] && "$E2E_CC" -shared -fPIC -o "$SCRATCH/evil.so" "$SCRATCH/evil.c" 2>/dev/null; then
    mkdir -p "$ROOTFS$SCRATCH"
    cp "$SCRATCH/evil.so" "$ROOTFS$SCRATCH/evil.so"
    at_exit "rm -f $MARK"
    run_gpu preload "[\"NVIDIA_VISIBLE_DEVICES=0\", \"LD_PRELOAD=$SCRATCH/evil.so\", \"LD_LIBRARY_PATH=/tmp\"]" 'nvidia-smi -L'
    expect_match "LD_PRELOAD in the image: the container starts" "${UUID[0]}" "$OUT"
    check "LD_PRELOAD in the image: it ran inside the container" test -e "$SCRATCH/rootfs-run$MARK"
    check "LD_PRELOAD in the image: it never ran on the host" test ! -e "$MARK"
else
    skip "LD_PRELOAD in the image" "no C compiler for $E2E_ARCH builds a shared object"
fi

# A host whose driver lives in its own tree, /usr/local/nvidia, behind
# absolute links at the standard paths (the GPU machines' layout): each
# capability gets its files at their usual container paths, with the content
# of the links' targets in the driver root, and no file of another capability.
LINKED=$SCRATCH/linked
"$GCTK" sim create "$LINKED" --gpus 2 --driver-dir /usr/local/nvidia "${E2E_SIM_ARGS[@]}" >/dev/null ||
    not_ok "gctk sim create --driver-dir"
printf '{"root": "%s", "log": "%s"}\n' "$LINKED" "$SCRATCH/hook-linked.log" >"$SCRATCH/linked.conf"
SAVED_HOOK_ENV=$HOOK_ENV
HOOK_ENV="[\"GCTK_CONFIG=$SCRATCH/linked.conf\"]"
V=580.95.05 L64=$E2E_LIBDIR L32=/usr/lib/i386-linux-gnu
# the firmware is where the kernel's firmware_class.path names it, in the
# driver's tree, and goes to the same path in the container
FW=/usr/local/nvidia/firmware/nvidia/580.95.05
# CONTAINER_PATH=FILE_UNDER_THE_DRIVER_DIR, by capability; firmware comes with every one
COMMON="$FW/gsp_ga10x.bin=firmware/nvidia/$V/gsp_ga10x.bin $FW/gsp_tu10x.bin=firmware/nvidia/$V/gsp_tu10x.bin"
U="$L64/libnvidia-ml.so.$V=lib64/libnvidia-ml.so.$V /usr/bin/nvidia-smi=bin/nvidia-smi"
C="$L64/libcuda.so.$V=lib64/libcuda.so.$V /etc/OpenCL/vendors/nvidia.icd=etc/OpenCL/vendors/nvidia.icd
   /usr/bin/nvidia-cuda-mps-control=bin/nvidia-cuda-mps-control"
VID="$L64/libnvcuvid.so.$V=lib64/libnvcuvid.so.$V"
G="$L64/libEGL_nvidia.so.$V=lib64/libEGL_nvidia.so.$V
   /usr/share/glvnd/egl_vendor.d/10_nvidia.json=share/glvnd/egl_vendor.d/10_nvidia.json
   /usr/share/vulkan/icd.d/nvidia_icd.json=share/vulkan/icd.d/nvidia_icd.json"
NGX="$L64/libnvidia-ngx.so.$V=lib64/libnvidia-ngx.so.$V"
# compat32: i386 libraries on x86-64; aarch64 has no 32-bit driver, so none
X32=
[ "$E2E_ARCH" != x86_64 ] || X32="$L32/libcuda.so.$V=lib/libcuda.so.$V $L32/libnvidia-ml.so.$V=lib/libnvidia-ml.so.$V"
ALL_FILES="$COMMON $U $C $VID $G $NGX $X32"
# expected_files FILES: "PATH MD5" for each file of FILES, "PATH -" for the other files of ALL_FILES
expected_files() {
    local e
    for e in $ALL_FILES; do
        if printf ' %s ' $1 | grep -qF " $e "; then
            echo "${e%%=*} $(md5sum <"$LINKED/usr/local/nvidia/${e#*=}" | cut -d' ' -f1)"
        else
            echo "${e%%=*} -"
        fi
    done
}
SEEN_FILES='for p in '"$(for e in $ALL_FILES; do printf '%s ' "${e%%=*}"; done)"'; do
    if [ -f "$p" ]; then echo "$p $(md5sum <"$p" | cut -d" " -f1)"; else echo "$p -"; fi
done; ls /dev/nvidia-modeset 2>/dev/null || true'
# run_caps CAPS FILES [MODESET]: a container asking for CAPS has exactly FILES
run_caps() {
    run_gpu "caps-$1" "[\"NVIDIA_VISIBLE_DEVICES=0\", \"NVIDIA_DRIVER_CAPABILITIES=$1\"]" "$SEEN_FILES"
    expect_eq "driver behind links, $1: the container starts" 0 "$RC"
    expect_eq "driver behind links, $1: its files, with the content of the links' targets" \
        "$(expected_files "$2")" "$(printf '%s\n' "$OUT" | grep -v '^/dev/')"
    expect_eq "driver behind links, $1: /dev/nvidia-modeset for display only" "${3:-}" \
        "$(printf '%s\n' "$OUT" | grep '^/dev/')"
}
run_caps utility "$COMMON $U"
run_caps compute "$COMMON $C"
run_caps video "$COMMON $C $VID"
run_caps graphics "$COMMON $G"
run_caps display "$COMMON $G" /dev/nvidia-modeset
run_caps ngx "$COMMON $NGX"
run_caps utility,compute,compat32 "$COMMON $U $C $X32"
run_caps all "$ALL_FILES" /dev/nvidia-modeset
run_gpu linked-tools '["NVIDIA_VISIBLE_DEVICES=1", "NVIDIA_DRIVER_CAPABILITIES=all"]' 'nvidia-smi -L; cuda-devices'
expect_match "driver behind links, all: nvidia-smi runs from the link's target" "${UUID[1]}" "$OUT"
expect_match "driver behind links, all: a CUDA program sees its GPU" "1 device" "$OUT"

# Links that lead out of the driver root, to nothing, or (absolute) to a file
# of the machine around the root: each skipped with a line in the hook's log,
# and the container starts with everything else. The kernel, following them
# from the machine's "/", would reach the outside file.
OUTSIDE=$SCRATCH/outside.json
echo '{"file_format_version": "not from the driver root"}' >"$OUTSIDE"
mkdir -p "$LINKED/etc/vulkan/icd.d" "$LINKED/etc/glvnd/egl_vendor.d"
ln -s "$(printf '../%.0s' $(seq 1 40))${OUTSIDE#/}" "$LINKED/etc/vulkan/icd.d/nvidia_icd.json"
ln -s /usr/local/nvidia/share/glvnd/egl_vendor.d/gone.json "$LINKED/etc/glvnd/egl_vendor.d/10_nvidia.json"
ln -s "$OUTSIDE" "$LINKED$FW/gsp_outside.bin"
check "bad links: followed from the machine's / they lead out of the root" \
    cmp -s "$OUTSIDE" "$LINKED/etc/vulkan/icd.d/nvidia_icd.json"
run_caps all "$ALL_FILES" /dev/nvidia-modeset
run_gpu linked-bad '["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=graphics"]' \
    "ls /etc/vulkan/icd.d/nvidia_icd.json /etc/glvnd/egl_vendor.d/10_nvidia.json $FW/gsp_outside.bin 2>&1; grep -rl 'not from the driver root' /etc /usr/share /usr/local/nvidia; echo rc=\$?"
expect_eq "bad links: none of them is in the container" 3 "$(printf '%s\n' "$OUT" | grep -c 'No such file')"
expect_match "bad links: nothing of the outside file is in the container" "rc=1" "$OUT"
LOG=$(cat "$SCRATCH/hook-linked.log")
expect_match "bad links: the log names the link out of the root" \
    "config file ./etc/vulkan/icd.d/nvidia_icd.json. skipped: .* which leads out of the driver root" "$LOG"
expect_match "bad links: the log names the link to nothing" \
    "config file ./etc/glvnd/egl_vendor.d/10_nvidia.json. skipped: .* is a link to ./usr/local/nvidia/share/glvnd/egl_vendor.d/gone.json., which does not exist under the driver root" "$LOG"
expect_match "bad links: the log names the absolute link to the machine's file" \
    "firmware .$FW/gsp_outside.bin. skipped: .* is a link to .$OUTSIDE., which does not exist under the driver root" "$LOG"
LIST_ERR=$("$GCTK" --root "$LINKED" list --capabilities all 2>&1 >/dev/null)
expect_match "bad links: gctk list warns about them too" \
    "gctk: warning: config file ./etc/vulkan/icd.d/nvidia_icd.json. skipped" "$LIST_ERR"
HOOK_ENV=$SAVED_HOOK_ENV

expect_match "the hook logs its decisions and timings" "done in [0-9.]+ ms" "$(cat "$SCRATCH/hook.log")"
expect_eq "no mount left on the host" "$MOUNTS_BEFORE" "$(host_mounts)"
expect_eq "no container left" "" "$(runc --root "$RUNC_ROOT" list -q)"
check "no container process left" test -z "$(pgrep -f "runc.*gctk-e2e-$$" || true)"

# Forward compatibility: an image's /usr/local/cuda/compat libcuda is used
# only when it is newer than the driver and a regular file in the rootfs.
COMPAT_NEW=$SCRATCH/drv-new COMPAT_OLD=$SCRATCH/drv-old
"$GCTK" sim create "$COMPAT_NEW" --gpus 0 --driver 590.44.01 --cuda 13.1 "${E2E_SIM_ARGS[@]}" >/dev/null
"$GCTK" sim create "$COMPAT_OLD" --gpus 0 --driver 575.51.03 --cuda 12.9 "${E2E_SIM_ARGS[@]}" >/dev/null
with_compat() { # with_compat NAME SETUP: a rootfs variant whose compat dir SETUP fills
    rm -rf "$ROOTFS.$1"
    cp -a "$ROOTFS" "$ROOTFS.$1"
    mkdir -p "$ROOTFS.$1/usr/local/cuda/compat"
    (cd "$ROOTFS.$1/usr/local/cuda/compat" && eval "$2")
}
run_compat() { # run_compat NAME: runs cuda-devices on that rootfs variant
    N=$((N + 1))
    rm -rf "$SCRATCH/rootfs-run"
    cp -a "$ROOTFS.$1" "$SCRATCH/rootfs-run"
    make_bundle "$SCRATCH/bundle-$N" "$SCRATCH/rootfs-run" '["cuda-devices"]' '["NVIDIA_VISIBLE_DEVICES=0"]' "$HOOK_ENV"
    OUT=$(runc_run "$SCRATCH/bundle-$N" "gctk-e2e-$$-$N")
    runc --root "$RUNC_ROOT" delete -f "gctk-e2e-$$-$N" >/dev/null 2>&1
}
with_compat newer "cp $COMPAT_NEW$E2E_LIBDIR/libcuda.so.590.44.01 . && ln -s libcuda.so.590.44.01 libcuda.so.1"
run_compat newer
expect_match "cuda-compat newer than the driver: used (CUDA 13.1)" "CUDA driver 13.1, 1 device" "$OUT"
with_compat older "cp $COMPAT_OLD$E2E_LIBDIR/libcuda.so.575.51.03 ."
run_compat older
expect_match "cuda-compat older than the driver: ignored (CUDA 13.0)" "CUDA driver 13.0, 1 device" "$OUT"
with_compat escape "ln -s $COMPAT_NEW$E2E_LIBDIR/libcuda.so.590.44.01 libcuda.so.590.44.01"
run_compat escape
expect_match "cuda-compat symlink out of the rootfs: ignored (CUDA 13.0)" "CUDA driver 13.0, 1 device" "$OUT"
expect_match "cuda-compat symlink: the hook logs why it ignored it" "libcuda.so.590.44.01. ignored: not a regular file \(a symlink\)" "$(cat "$SCRATCH/hook.log")"

# A container of its own user namespace (runc's "user" namespace, its root
# mapped to host uid and gid 100000: Docker's userns-remap, podman --userns,
# Kubernetes' hostUsers: false): runc mounts its /dev as a tmpfs that
# namespace owns, where the kernel refuses a file owned by the hook's uid 0
# (EOVERFLOW). The hook creates its targets as the container's own root.
N=$((N + 1))
USERNS_B=$SCRATCH/bundle-$N
rm -rf "$SCRATCH/rootfs-run"
cp -a "$ROOTFS" "$SCRATCH/rootfs-run"
chown -R 100000:100000 "$SCRATCH/rootfs-run"
chmod 755 "$SCRATCH" # the container's root, host uid 100000, walks to its rootfs
make_bundle "$USERNS_B" "$SCRATCH/rootfs-run" \
    '["sh", "-c", "nvidia-smi -L; ls /dev/nvidia0 && stat -c \"%u:%g %n\" /etc/ld.so.cache /dev"]' \
    '["NVIDIA_VISIBLE_DEVICES=0"]' "$HOOK_ENV"
jq '.linux.namespaces += [{"type": "user"}]
    | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]' \
    "$USERNS_B/config.json" >"$USERNS_B/c" && mv "$USERNS_B/c" "$USERNS_B/config.json"
OUT=$(runc_run "$USERNS_B" "gctk-e2e-$$-$N")
RC=$?
runc --root "$RUNC_ROOT" delete -f "gctk-e2e-$$-$N" >/dev/null 2>&1
expect_eq "user namespace: the container starts and sees exactly GPU 0" "0 $(uuids_of 0)" "$RC $(uuids_seen)"
expect_match "user namespace: its ld.so.cache belongs to its own root" "^0:0 /etc/ld.so.cache" "$OUT"
expect_eq "user namespace: on the host, to uid 100000" "100000:100000" \
    "$(stat -c %u:%g "$SCRATCH/rootfs-run/etc/ld.so.cache")"
expect_match "user namespace: the hook says so in its log" "in a user namespace of its own: files created as its root, host uid 100000 gid 100000" \
    "$(cat "$SCRATCH/hook.log")"
expect_eq "user namespace: no mount left on the host" "$MOUNTS_BEFORE" "$(host_mounts)"
expect_eq "user namespace: no container left" "" "$(runc --root "$RUNC_ROOT" list -q)"
# The discovery cache: what a container gets and what `gctk list` prints are
# the same with the cache as without it (first run: stored; second: used);
# a driver upgrade under an old entry still injects the new driver's files.
# The entries live under SCRATCH (a host's files older than two seconds are
# cached; the host above is).
CACHED=$SCRATCH/cached.conf FRESH=$SCRATCH/fresh.conf
printf '{"root": "%s", "log": "%s/hook.log", "discovery-cache": "%s/cache"}\n' "$HOST" "$SCRATCH" "$SCRATCH" >"$CACHED"
printf '{"root": "%s", "log": "%s/hook.log", "discovery-cache": null}\n' "$HOST" "$SCRATCH" >"$FRESH"
sleep 2
list_with() { GCTK_CONFIG=$1 "$GCTK" list --json --capabilities all; }
LIST_FRESH=$(list_with "$FRESH")
expect_eq "discovery cache: off when the setting is null" "off" \
    "$(GCTK_CONFIG=$FRESH "$GCTK" info --json --no-nvml | jq -r .discovery_cache)"
expect_eq "discovery cache: gctk list, stored, is the fresh discovery" "$LIST_FRESH" "$(list_with "$CACHED")"
expect_eq "discovery cache: gctk list, used, is the fresh discovery" "$LIST_FRESH" "$(list_with "$CACHED")"
expect_match "discovery cache: gctk info says it is used" "^used .*$SCRATCH/cache/discovery-" \
    "$(GCTK_CONFIG=$CACHED "$GCTK" info --json | jq -r .discovery_cache)"
# (the cgroup mounts name the container, which is another each run)
MOUNTS_SCRIPT='cut -d" " -f4-6 /proc/self/mountinfo | grep -v " /sys/fs/cgroup" | sort; for f in $(find /usr /etc /dev -type l | sort); do echo "$f -> $(readlink "$f")"; done; md5sum /etc/ld.so.cache'
HOOK_ENV="[\"GCTK_CONFIG=$FRESH\"]"
run_gpu cache-fresh '["NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_DRIVER_CAPABILITIES=all"]' "$MOUNTS_SCRIPT"
MOUNTS_FRESH=$OUT
HOOK_ENV="[\"GCTK_CONFIG=$CACHED\"]"
for round in 1 2; do
    run_gpu "cache-$round" '["NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_DRIVER_CAPABILITIES=all"]' "$MOUNTS_SCRIPT"
    expect_eq "discovery cache: the hook's mounts and links (run $round) are the fresh discovery's" "$MOUNTS_FRESH" "$OUT"
done
expect_match "discovery cache: the hook used it" "done in .*, cache used" "$(cat "$SCRATCH/hook.log")"
"$GCTK" sim create "$HOST" --gpus 4 --driver 590.44.01 --force "${E2E_SIM_ARGS[@]}" >/dev/null
run_gpu cache-upgrade '["NVIDIA_VISIBLE_DEVICES=0"]' "ls $E2E_LIBDIR/; nvidia-smi -L"
expect_match "discovery cache: after a driver upgrade the new driver's files are injected" "libcuda.so.590.44.01" "$OUT"
expect_eq "discovery cache: and none of the old driver's" "" "$(printf '%s\n' "$OUT" | grep 580.95.05)"
expect_eq "discovery cache: gctk list after the upgrade is the fresh discovery" \
    "$(list_with "$FRESH")" "$(list_with "$CACHED")"
