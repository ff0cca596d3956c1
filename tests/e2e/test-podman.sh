#!/usr/bin/env bash
# Podman (Debian's: 4.3 on Debian 12, 5.4 on Debian 13) with a spec from
# `gctk cdi generate`, on a simulated 4-GPU host: `--device VENDOR/gpu=0`
# gives exactly GPU 0, `=all` the four, an unknown name fails clearly;
# `--gpus`, which each version treats its own way (docs/docker-e2e.md); the
# OCI hooks.d route of `gctk runtime configure --runtime=podman`; rootless
# Podman when this machine allows it.
# Podman runs with private storage under $SCRATCH, runc and cgroupfs (crun
# refuses this machine's hybrid cgroup layout) and rlimits within the
# machine's hard limits.
. "$(dirname "$0")/lib.sh"

need_root "podman end to end" || exit 0
command -v podman >/dev/null || { skip "podman end to end" "podman is not installed"; exit 0; }
command -v runc >/dev/null || { skip "podman end to end" "runc is not installed"; exit 0; }
PODMAN_VERSION=$(version_of podman --version)
versions "podman $PODMAN_VERSION, runc $(version_of runc --version)"
# Podman 5 warns on every command of a cgroup v1 host (as this one is)
export PODMAN_IGNORE_CGROUPSV1_WARNING=1

PM=$SCRATCH/podman
mkdir -p "$PM/tmp"
# rootful podman makes these whatever its flags say: runc's state, the image
# blob cache (4.3), the CNI lock (4.3), netavark's state and lock (5.x)
remove_at_exit_if_new /run/runc /var/lib/containers /etc/cni/net.d/cni.lock /run/containers \
    /run/lock/netavark.lock
PODMAN=(podman --root "$PM/root" --runroot "$PM/runroot" --tmpdir "$PM/tmp" --runtime runc
        --cgroup-manager cgroupfs --events-backend none --storage-driver vfs)
RUNOPTS=(--rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
# the containers' storage holds mounts: take them down whatever happens
at_exit "${PODMAN[*]} rm -af; ${PODMAN[*]} system reset -f; umount -R $PM/root $PM/runroot"

HOST=$SCRATCH/host
"$GCTK" sim create "$HOST" --gpus 4 >/dev/null || { not_ok "gctk sim create"; exit 1; }
# the settings the specs are generated under: their hook reads them too
# (its log here, not the machine's)
printf '{"root": "%s", "log": "%s"}\n' "$HOST" "$SCRATCH/hook.log" >"$SCRATCH/gctk.conf"
export GCTK_CONFIG=$SCRATCH/gctk.conf
chmod 755 "$SCRATCH"
mapfile -t UUID < <("$GCTK" --root "$HOST" info --json --no-nvml | jq -r '.gpus[].uuid')
VENDOR=gctk-test-$$-$RANDOM.example.com
SPEC=/var/run/cdi/gctk-test-$$-$RANDOM.yaml
remove_at_exit_if_new /var/run/cdi
# Podman 5's idmapped mounts (--uidmap, --userns=auto) leave an
# empty /var/tmp/intermediate-mountpoint-N.N behind
remove_matches_at_exit_if_new '/var/tmp/intermediate-mountpoint-*'
mkdir -p /var/run/cdi
at_exit "rm -f $SPEC"
check "gctk cdi generate --format yaml" "$GCTK" cdi generate --root "$HOST" --vendor "$VENDOR" --output "$SPEC"
expect_eq "the spec declares cdiVersion 0.5.0 (names starting with a digit, hostPath)" \
    "cdiVersion: 0.5.0" "$(grep '^cdiVersion' "$SPEC")"

ROOTFS=$SCRATCH/rootfs
make_rootfs "$ROOTFS"
tar -C "$ROOTFS" -cf "$SCRATCH/rootfs.tar" .
IMAGE=localhost/gctk-e2e-$$:latest
if ! "${PODMAN[@]}" import "$SCRATCH/rootfs.tar" "$IMAGE" >/dev/null 2>"$SCRATCH/import.err"; then
    not_ok "podman import of the rootfs"; diag <"$SCRATCH/import.err"; exit 1
fi
uuids_seen() { printf '%s\n' "$OUT" | grep -o 'GPU-[0-9a-f-]*' | sort | tr '\n' ' '; }
uuids_of() { for i in "$@"; do echo "${UUID[$i]}"; done | sort | tr '\n' ' '; }
MOUNTS_BEFORE=$(host_mounts)

OUT=$("${PODMAN[@]}" run "${RUNOPTS[@]}" --device "$VENDOR/gpu=0" "$IMAGE" nvidia-smi -L 2>&1)
expect_eq "podman --device $VENDOR/gpu=0: nvidia-smi lists exactly GPU 0" "$(uuids_of 0)" "$(uuids_seen)"
expect_match "... the spec's hook logged it where the spec's settings say" \
    " hook create-container done in [0-9.]+ ms: .*cache (used|stored|missed)" "$(cat "$SCRATCH/hook.log" 2>&1)"

OUT=$("${PODMAN[@]}" run "${RUNOPTS[@]}" --device "$VENDOR/gpu=all" "$IMAGE" nvidia-smi -L 2>&1)
expect_eq "podman --device $VENDOR/gpu=all: the 4 GPUs" "$(uuids_of 0 1 2 3)" "$(uuids_seen)"

OUT=$("${PODMAN[@]}" run "${RUNOPTS[@]}" --device "$VENDOR/gpu=2" "$IMAGE" sh -c \
    'cuda-devices 2>/dev/null; readlink /usr/lib/x86_64-linux-gnu/libcuda.so; ls /proc/driver/nvidia/gpus | wc -l' 2>&1)
expect_match "libcuda.so -> libcuda.so.1 (create-container hook)" "^libcuda.so.1" "$(printf '%s\n' "$OUT" | grep '^libcuda')"
expect_eq "/proc/driver/nvidia/gpus shows only GPU 2 (create-container hook)" 1 "$(printf '%s\n' "$OUT" | tail -n 1)"
N_SPEC_MOUNTS=$(spec_mounts "$SPEC")
expect_eq "... the spec's hook made its $N_SPEC_MOUNTS mounts, Podman and runc none" "$N_SPEC_MOUNTS" \
    "$(cdi_mounts_made "$SCRATCH/hook.log")"
# a spec of --runtime-mounts: Podman applies it, runc makes its mounts;
# through gctk-runtime the spec's hook, the gctk beside it, makes them in
# runc's place (cdi_hand_mounts)
PODMAN_GR=(podman --root "$PM/root" --runroot "$PM/runroot" --tmpdir "$PM/tmp"
           --runtime "$(realpath "$GCTK_RUNTIME")" --cgroup-manager cgroupfs --events-backend none
           --storage-driver vfs)
"$GCTK" cdi generate --root "$HOST" --vendor "$VENDOR" --runtime-mounts --output "$SPEC" >/dev/null
N_SPEC_MOUNTS=$(spec_runtime_mounts "$SPEC")
OUT=$("${PODMAN[@]}" run "${RUNOPTS[@]}" --device "$VENDOR/gpu=2" "$IMAGE" sh -c \
    'nvidia-smi -L; readlink /usr/lib/x86_64-linux-gnu/libcuda.so' 2>&1)
expect_eq "podman --device $VENDOR/gpu=2, a --runtime-mounts spec: exactly GPU 2" "$(uuids_of 2)" "$(uuids_seen)"
expect_eq "... runc made the spec's mounts, as Podman wrote them" 0 "$(cdi_mounts_made "$SCRATCH/hook.log")"
OUT=$("${PODMAN_GR[@]}" run "${RUNOPTS[@]}" --device "$VENDOR/gpu=2" "$IMAGE" sh -c \
    'nvidia-smi -L; readlink /usr/lib/x86_64-linux-gnu/libcuda.so; ls /proc/driver/nvidia/gpus | wc -l' 2>&1)
expect_eq "podman --runtime gctk-runtime --device $VENDOR/gpu=2: exactly GPU 2" "$(uuids_of 2)" "$(uuids_seen)"
expect_eq "... the spec's hook made all of its $N_SPEC_MOUNTS mounts" "$N_SPEC_MOUNTS" "$(cdi_mounts_made "$SCRATCH/hook.log")"
expect_eq "... and its links, its /proc mask" "libcuda.so.1 1" "$(printf '%s\n' "$OUT" | tail -n 2 | tr '\n' ' ' | sed 's/ $//')"
"$GCTK" cdi generate --root "$HOST" --vendor "$VENDOR" --output "$SPEC" >/dev/null

# what NVIDIA's toolkit 1.18 injects beyond the libraries (lib.sh, check_parity)
OUT=$("${PODMAN[@]}" run "${RUNOPTS[@]}" --device "$VENDOR/gpu=1" "$IMAGE" sh -c "$PARITY_SCRIPT" 2>&1)
check_parity "podman CDI"
IMEX_SPEC=/var/run/cdi/gctk-test-$$-$RANDOM-imex.yaml
at_exit "rm -f $IMEX_SPEC"
"$GCTK" cdi generate --root "$HOST" --vendor "$VENDOR" --imex-channels --output "$IMEX_SPEC" >/dev/null
OUT=$("${PODMAN[@]}" run "${RUNOPTS[@]}" --device "$VENDOR/gpu=0" --device "$VENDOR/imex-channel=0" \
    "$IMAGE" sh -c 'ls /dev/nvidia-caps-imex-channels; head -c 1 /dev/nvidia-caps-imex-channels/channel0 2>&1' 2>&1)
expect_eq "podman --device $VENDOR/imex-channel=0: exactly channel 0" "channel0" "$(printf '%s\n' "$OUT" | head -n 1)"
expect_match "podman --device $VENDOR/imex-channel=0: the container may open it" "No such device or address" "$OUT"

OUT=$("${PODMAN[@]}" run "${RUNOPTS[@]}" --device "$VENDOR/gpu=7" "$IMAGE" true 2>&1)
RC=$?
check "unknown CDI name: podman fails" test "$RC" -ne 0
expect_match "unknown CDI name: the error names it" "unresolvable CDI devices $VENDOR/gpu=7" "$OUT"

# --gpus: Podman 5 turns `--gpus X` into the CDI device nvidia.com/gpu=X, so
# X is a device name (`--gpus 1` is GPU 1, where Docker's is one GPU: GPU 0);
# Podman 4.3 takes the flag for Docker's sake and does nothing with it. The
# spec must be of kind nvidia.com/gpu in a directory Podman reads (5.4 does
# not honour containers.conf's cdi_spec_dirs for it): /var/run/cdi, unless
# this machine has an nvidia.com/gpu spec of its own there or in /etc/cdi.
own_spec=$(grep -ls '^kind: *"\?nvidia.com/gpu\|"kind": *"nvidia.com/gpu"' /etc/cdi/* /var/run/cdi/* 2>/dev/null | grep -v "^$SPEC$" | head -n 1)
GSPEC=/var/run/cdi/gctk-test-$$-$RANDOM-nvidia.yaml
if [ -n "$own_spec" ]; then
    skip "podman --gpus" "this machine has an nvidia.com/gpu spec of its own ($own_spec)"
elif version_ge "$PODMAN_VERSION" 5; then
    at_exit "rm -f $GSPEC"
    "$GCTK" cdi generate --root "$HOST" --output "$GSPEC" >/dev/null
    OUT=$("${PODMAN[@]}" run "${RUNOPTS[@]}" --gpus all "$IMAGE" nvidia-smi -L 2>&1)
    expect_eq "podman $PODMAN_VERSION --gpus all: the CDI device nvidia.com/gpu=all, the 4 GPUs" "$(uuids_of 0 1 2 3)" "$(uuids_seen)"
    OUT=$("${PODMAN[@]}" run "${RUNOPTS[@]}" --gpus 1 "$IMAGE" nvidia-smi -L 2>&1)
    expect_eq "podman $PODMAN_VERSION --gpus 1: the device named 1, GPU 1 (not Docker's one GPU)" "$(uuids_of 1)" "$(uuids_seen)"
    OUT=$("${PODMAN[@]}" run "${RUNOPTS[@]}" --gpus 0,2 "$IMAGE" nvidia-smi -L 2>&1)
    expect_eq "podman $PODMAN_VERSION --gpus 0,2: GPUs 0 and 2" "$(uuids_of 0 2)" "$(uuids_seen)"
    OUT=$("${PODMAN[@]}" run "${RUNOPTS[@]}" --gpus 9 "$IMAGE" true 2>&1)
    expect_match "podman $PODMAN_VERSION --gpus 9: refused, naming the CDI device" "unresolvable CDI devices nvidia.com/gpu=9" "$OUT"
    rm -f "$GSPEC"
elif [ "${PODMAN_VERSION%.*}" = 4.3 ]; then
    at_exit "rm -f $GSPEC"
    "$GCTK" cdi generate --root "$HOST" --output "$GSPEC" >/dev/null
    OUT=$("${PODMAN[@]}" run "${RUNOPTS[@]}" --gpus all "$IMAGE" sh -c 'nvidia-smi -L 2>&1; ls /dev/nvidia0 2>&1; echo end' 2>&1)
    expect_match "podman $PODMAN_VERSION --gpus all: accepted, the container runs" "end$" "$OUT"
    expect_eq "podman $PODMAN_VERSION --gpus all: ignored, no GPU" "" "$(uuids_seen)"
    expect_match "podman $PODMAN_VERSION --gpus all: no device node" "/dev/nvidia0: No such file" "$OUT"
    rm -f "$GSPEC"
else
    skip "podman --gpus" "no recorded behaviour for podman $PODMAN_VERSION"
fi

# The alternative to CDI: gctk-hook through Podman's OCI hooks directory.
HOOKS=$SCRATCH/hooks.d
if "$GCTK" runtime configure --runtime=podman --config "$HOOKS/oci-gctk-hook.json" \
        --runtime-path "$(realpath "$GCTK_HOOK")" >/dev/null; then
    ok "gctk runtime configure --runtime=podman writes the hooks.d file"
    OUT=$("${PODMAN[@]}" --hooks-dir "$HOOKS" run "${RUNOPTS[@]}" -e NVIDIA_VISIBLE_DEVICES=3 "$IMAGE" nvidia-smi -L 2>&1)
    expect_eq "hooks.d: NVIDIA_VISIBLE_DEVICES=3 gives exactly GPU 3" "$(uuids_of 3)" "$(uuids_seen)"
    OUT=$("${PODMAN[@]}" --hooks-dir "$HOOKS" run "${RUNOPTS[@]}" "$IMAGE" sh -c 'ls /dev/nvidiactl 2>&1; true')
    expect_match "hooks.d: a container without the variable gets nothing" "No such file" "$OUT"
    # --userns: the container's root is host uid 100000; runc mounts its /dev
    # as a tmpfs of that user namespace, where the hook creates its targets
    # as the container's root (as host root: EOVERFLOW, no GPU)
    OUT=$("${PODMAN[@]}" --hooks-dir "$HOOKS" run "${RUNOPTS[@]}" --uidmap 0:100000:65536 \
        --gidmap 0:100000:65536 -e NVIDIA_VISIBLE_DEVICES=2 "$IMAGE" \
        sh -c 'nvidia-smi -L; stat -c "%u:%g %n" /etc/ld.so.cache; cat /proc/self/uid_map' 2>&1)
    expect_eq "hooks.d, --uidmap 0:100000:65536: exactly GPU 2" "$(uuids_of 2)" "$(uuids_seen)"
    expect_match "hooks.d, --uidmap: the container is in its own user namespace" "^ *0 *100000 *65536" \
        "$(printf '%s\n' "$OUT" | tail -n 1)"
    expect_match "hooks.d, --uidmap: its ld.so.cache belongs to its own root" "^0:0 /etc/ld.so.cache" "$OUT"
    # --userns=auto: Podman picks the range from the subordinate ids of the
    # user "containers" (subuid(5)); the suite adds them when none are there
    if ! grep -q '^containers:' /etc/subuid /etc/subgid 2>/dev/null; then
        remove_at_exit_if_new /etc/subuid /etc/subgid
        at_exit "sed -i '/^containers:2000000:/d' /etc/subuid /etc/subgid"
        echo "containers:2000000:1000000" >>/etc/subuid
        echo "containers:2000000:1000000" >>/etc/subgid
    fi
    OUT=$("${PODMAN[@]}" --hooks-dir "$HOOKS" run "${RUNOPTS[@]}" --userns=auto:size=65536 \
        -e NVIDIA_VISIBLE_DEVICES=1 "$IMAGE" \
        sh -c 'nvidia-smi -L; stat -c "%u:%g %n" /etc/ld.so.cache; cat /proc/self/uid_map' 2>&1)
    expect_eq "hooks.d, --userns=auto: exactly GPU 1" "$(uuids_of 1)" "$(uuids_seen)"
    expect_match "hooks.d, --userns=auto: the container's root is not the host's" "^ *0 *[1-9][0-9]* *65536" \
        "$(printf '%s\n' "$OUT" | tail -n 1)"
    expect_match "hooks.d, --userns=auto: its ld.so.cache belongs to its own root" "^0:0 /etc/ld.so.cache" "$OUT"
else
    not_ok "gctk runtime configure --runtime=podman writes the hooks.d file"
fi

# Rootless: a user with subordinate ids, its own storage, the same spec.
rootless_reason=""
if ! command -v runuser >/dev/null || ! command -v newuidmap >/dev/null; then
    rootless_reason="runuser or newuidmap (uidmap) is missing"
elif [ "$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo 0)" = 0 ]; then
    rootless_reason="user namespaces are disabled (user.max_user_namespaces = 0)"
elif [ "$(cat /proc/sys/kernel/unprivileged_userns_clone 2>/dev/null || echo 1)" = 0 ]; then
    rootless_reason="unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)"
fi
RUSER=gctk$$
if [ -z "$rootless_reason" ]; then
    # useradd and userdel keep a backup of each file they edit (/etc/passwd-
    # ...): put back as it was, after the userdel at exit
    mkdir -p "$SCRATCH/etc-backups"
    for f in /etc/{passwd,group,shadow,gshadow,subuid,subgid}-; do
        if [ -e "$f" ]; then
            cp -a "$f" "$SCRATCH/etc-backups/" && at_exit "cp -a '$SCRATCH/etc-backups/${f##*/}' '$f'"
        else
            at_exit "rm -f '$f'"
        fi
    done
    if useradd -M -d "$SCRATCH/home" -s /bin/sh "$RUSER" 2>/dev/null; then
        at_exit "userdel -f $RUSER; sed -i '/^$RUSER:/d' /etc/subuid /etc/subgid"
        grep -q "^$RUSER:" /etc/subuid || echo "$RUSER:3000000:65536" >>/etc/subuid
        grep -q "^$RUSER:" /etc/subgid || echo "$RUSER:3000000:65536" >>/etc/subgid
        mkdir -p "$SCRATCH/home" "$SCRATCH/xdg"
        chown "$RUSER:" "$SCRATCH/home" "$SCRATCH/xdg"
        chmod 700 "$SCRATCH/xdg"
        chmod 644 "$SCRATCH/rootfs.tar"
        # from a directory the user may enter: Podman re-enters the working
        # directory in its user namespace (`cannot chdir to /root/g`)
        RL=(runuser -u "$RUSER" -- env -C "$SCRATCH/home" HOME="$SCRATCH/home" XDG_RUNTIME_DIR="$SCRATCH/xdg"
            podman --root "$SCRATCH/home/storage" --runroot "$SCRATCH/xdg/run" --runtime runc
            --cgroup-manager cgroupfs --events-backend none --storage-driver vfs)
        at_exit "${RL[*]} rm -af; ${RL[*]} system reset -f; ${RL[*]} system migrate"
        if ! "${RL[@]}" import "$SCRATCH/rootfs.tar" "$IMAGE" >/dev/null 2>"$SCRATCH/rl.err"; then
            rootless_reason="rootless podman cannot import an image here: $(tail -n 1 "$SCRATCH/rl.err")"
        fi
    else
        rootless_reason="cannot create a test user (useradd failed)"
    fi
fi
if [ -z "$rootless_reason" ]; then
    OUT=$("${RL[@]}" run "${RUNOPTS[@]}" --device "$VENDOR/gpu=1" "$IMAGE" nvidia-smi -L 2>&1)
    if printf '%s' "$OUT" | grep -q "error creating device nodes: mount /dev/nvidia"; then
        # rootful runc makes nodes from major:minor; rootless runc bind-mounts
        # each node from its container path on the host
        skip "rootless podman with CDI" "rootless runc binds each device node from its container path on the host (/dev/nvidiactl), and the simulated host keeps its nodes under $HOST/dev; the user namespace, storage and the spec were accepted"
    elif printf '%s' "$OUT" | grep -q 'GPU-'; then
        expect_eq "rootless podman --device $VENDOR/gpu=1: exactly GPU 1" "$(uuids_of 1)" "$(uuids_seen)"
    elif printf '%s' "$OUT" | grep -qiE 'newuidmap|uid_map|user namespace|cannot clone|operation not permitted'; then
        skip "rootless podman with CDI" "this machine refuses a rootless user namespace: $(printf '%s' "$OUT" | tail -n 1)"
    else
        not_ok "rootless podman --device $VENDOR/gpu=1"; printf '%s\n' "$OUT" | diag
    fi
else
    skip "rootless podman with CDI" "$rootless_reason"
fi

expect_eq "no mount left on the host" "$MOUNTS_BEFORE" "$(host_mounts)"
