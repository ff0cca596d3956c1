#!/usr/bin/env bash
# gctk with crun as the OCI runtime (Podman's default where it is installed),
# on a simulated 4-GPU host: gctk-runtime's prestart hook, a CDI name through
# gctk-runtime, the config.json an engine writes for gctk's spec run by crun
# itself, a user namespace, a read-only root; then Podman with crun as its
# runtime applying gctk's spec (`podman run --device VENDOR/gpu=N`), with
# --uidmap too (refused before the hook runs on Podman 5 with crun before
# 1.27, which gctk doctor's `podman` line says), and Podman's hooks.d route
# in that user namespace.
# crun runs createContainer hooks from the container's own process and gives
# them pid 0 in the state (runc: that process's pid), and before 1.26 it
# makes a read-only root so before them (runc after them).
# crun refuses a cgroup v1 or hybrid host: it runs here through a wrapper,
# in a mount namespace of its own whose /sys/fs/cgroup is the v2 hierarchy,
# with its cgroup manager off, and gctk-hook with no-cgroups (the device
# rules are checked with runc by test-runc and test-cdi-runtime).
. "$(dirname "$0")/lib.sh"

need_root "crun end to end" || exit 0
command -v crun >/dev/null || { skip "crun end to end" "crun is not installed"; exit 0; }
command -v runc >/dev/null || { skip "crun end to end" "runc is not installed (make_bundle runs runc spec)"; exit 0; }
command -v jq >/dev/null || { skip "crun end to end" "jq is not installed"; exit 0; }
e2e_arch_ready "crun end to end" || exit 0
# crun makes its state directory whatever the command, even --version
remove_at_exit_if_new /run/crun
CRUN_VERSION=$(version_of crun --version)
versions "crun $CRUN_VERSION"
if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
    V2=/sys/fs/cgroup
elif [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
    V2=/sys/fs/cgroup/unified
else
    skip "crun end to end" "no cgroup v2 hierarchy, which crun needs"
    exit 0
fi

HOST=$SCRATCH/host
"$GCTK" sim create "$HOST" --gpus 4 "${E2E_SIM_ARGS[@]}" >/dev/null || { not_ok "gctk sim create"; exit 1; }
mapfile -t UUID < <("$GCTK" --root "$HOST" info --json --no-nvml | jq -r '.gpus[].uuid')
# the specs' hook is a copy of gctk in the suite's directory: in a user
# namespace it runs as the container's root, host uid 100000, which may not
# reach the build directory (CI's is under /root, mode 0700)
mkdir -p "$SCRATCH/bin"
cp "$GCTK" "$SCRATCH/bin/gctk"
chmod 755 "$SCRATCH" "$SCRATCH/bin" "$SCRATCH/bin/gctk"

# the wrapper keeps crun's state in SCRATCH when its caller names none
# (Podman, and conmon's cleanup after the suite's end)
CRUN=$SCRATCH/crun
CRUN_ROOT=$SCRATCH/crun-state
cat >"$CRUN" <<EOF
#!/bin/sh
case " \$* " in *" --root "*) ;; *) set -- --root "$CRUN_ROOT" "\$@" ;; esac
exec unshare --mount --propagation private sh -c 'mount --bind $V2 /sys/fs/cgroup && exec crun --cgroup-manager=disabled "\$@"' crun "\$@"
EOF
chmod 755 "$CRUN"
cat >"$SCRATCH/gctk.conf" <<CONF
{"root": "$HOST", "log": "$SCRATCH/hook.log", "runtime": "$CRUN", "no-cgroups": true,
 "cdi-spec-dirs": ["$SCRATCH/cdi"], "discovery-cache": "$SCRATCH/cache"}
CONF
export GCTK_CONFIG=$SCRATCH/gctk.conf
unset XDG_CONFIG_HOME NVIDIA_CTK_CONFIG_FILE_PATH
# generated under GCTK_CONFIG: the spec's hook reads these settings (its log)
VENDOR=gctk-test-$$-$RANDOM.example.com
mkdir -p "$SCRATCH/cdi"
"$SCRATCH/bin/gctk" cdi generate --root "$HOST" --vendor "$VENDOR" --output "$SCRATCH/cdi/gctk.json"

ROOTFS=$SCRATCH/rootfs
make_rootfs "$ROOTFS"
N=0
# run NAME ENV_JSON ANNOTATIONS_JSON SCRIPT [readonly|userns]: gctk-runtime
# with crun (with runc: RUNTIME=runc) on a fresh copy of the rootfs, its root
# read-only or in a user namespace of its own (host ids 100000 and up);
# output in $OUT, status in $RC, the bundle in $B (its config.json as
# gctk-runtime rewrote it), the rootfs in $R
RUNC_CONF=$SCRATCH/gctk-runc.conf
jq '.runtime = "runc"' "$GCTK_CONFIG" >"$RUNC_CONF"
run() {
    N=$((N + 1))
    B=$SCRATCH/bundle-$N
    R=$SCRATCH/rootfs-$N
    cp -a "$ROOTFS" "$R"
    make_bundle "$B" "$R" "[\"sh\", \"-c\", $(jq -Rn --arg s "$4" '$s')]" "$2" none
    jq --argjson a "$3" --argjson ro "$([ "${5:-}" = readonly ] && echo true || echo false)" \
        '.annotations = $a | .root.readonly = $ro' "$B/config.json" >"$B/c.new" && mv "$B/c.new" "$B/config.json"
    if [ "${5:-}" = userns ]; then
        chown -R 100000:100000 "$R"
        jq '.linux.namespaces += [{"type": "user"}]
            | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
            | .linux.gidMappings = .linux.uidMappings' "$B/config.json" >"$B/c.new" && mv "$B/c.new" "$B/config.json"
    fi
    local conf=$GCTK_CONFIG runtime=$CRUN state=$CRUN_ROOT
    [ "${RUNTIME:-crun}" = runc ] && conf=$RUNC_CONF runtime=runc state=$SCRATCH/runc-state
    OUT=$(GCTK_CONFIG=$conf "$GCTK_RUNTIME" --root "$state" run -b "$B" "gctk-crun-$$-$N" </dev/null 2>&1)
    RC=$?
    "$runtime" --root "$state" delete -f "gctk-crun-$$-$N" >/dev/null 2>&1
}
uuids_seen() { printf '%s\n' "$OUT" | grep -o 'GPU-[0-9a-f-]*' | sort | tr '\n' ' '; }
uuids_of() { for i in "$@"; do echo "${UUID[$i]}"; done | sort | tr '\n' ' '; }

run hook '["NVIDIA_VISIBLE_DEVICES=1"]' '{}' 'nvidia-smi -L; ls /dev/nvidia*'
expect_eq "crun, NVIDIA_VISIBLE_DEVICES=1: the prestart hook gives exactly GPU 1" "$(uuids_of 1)" "$(uuids_seen)"
check "crun, NVIDIA_VISIBLE_DEVICES=1: GPU 1's node, no other GPU's" \
    test "$(printf '%s\n' "$OUT" | grep -cx '/dev/nvidia1')" = 1 -a -z "$(printf '%s\n' "$OUT" | grep -E '^/dev/nvidia[023]$')"

CDI_SCRIPT="nvidia-smi -L; readlink $E2E_LIBDIR/libcuda.so; ldconfig -p | grep -c \"libcuda.so.1 ($E2E_LDCONFIG_FLAGS) => $E2E_LIBDIR/\"; ls /proc/driver/nvidia/gpus | wc -l"
run cdi '[]' "{\"cdi.k8s.io/x\": \"$VENDOR/gpu=2\"}" "$CDI_SCRIPT"
expect_eq "crun, CDI name $VENDOR/gpu=2 through gctk-runtime: exactly GPU 2" "$(uuids_of 2)" "$(uuids_seen)"
expect_eq "crun, CDI name: libcuda.so -> libcuda.so.1 (the hook's links)" "libcuda.so.1" "$(printf '%s\n' "$OUT" | sed -n 2p)"
expect_eq "crun, CDI name: libcuda.so.1 in the container's ld.so.cache" "1" "$(printf '%s\n' "$OUT" | sed -n 3p)"
expect_eq "crun, CDI name: /proc/driver/nvidia shows GPU 2 alone" "1" "$(printf '%s\n' "$OUT" | sed -n 4p)"
NSPEC=$(spec_mounts "$SCRATCH/cdi/gctk.json")
expect_match "crun, CDI name: the spec's hook, given pid 0 by crun, made the spec's $NSPEC mounts" \
    "hook create-container done in [0-9.]+ ms: .* \($NSPEC mounts\)" "$(grep 'hook create-container' "$SCRATCH/hook.log" | tail -n 1)"

# a user namespace of the container's own: crun makes the spec's device
# nodes itself, with their fileMode (a node without one it made 000, which
# no process inside may open: "Insufficient Permissions" from NVML on an H200).
run userns '[]' "{\"cdi.k8s.io/x\": \"$VENDOR/gpu=2\"}" \
    'nvidia-smi -L; for n in /dev/nvidiactl /dev/nvidia2; do head -c 1 $n 2>&1 >/dev/null | sed "s|^head: ||"; done; cat /proc/self/uid_map' \
    userns
expect_eq "crun, a user namespace of its own, CDI name: exactly GPU 2" "$(uuids_of 2)" "$(uuids_seen)"
expect_eq "... its nodes can be opened (the simulated host has no driver behind them)" \
    "/dev/nvidiactl: No such device or address /dev/nvidia2: No such device or address" \
    "$(printf '%s\n' "$OUT" | grep '^/dev/' | tr '\n' ' ' | sed 's/ $//')"
expect_match "... in that user namespace" "^ +0 +100000 +65536$" "$OUT"

# what Podman writes for `--device VENDOR/gpu=2` and runs with crun: the
# config.json gctk-runtime wrote above, crun alone, on a fresh rootfs
ENGINE=$SCRATCH/bundle-engine
mkdir -p "$ENGINE"
cp -a "$ROOTFS" "$SCRATCH/rootfs-engine"
jq --arg r "$SCRATCH/rootfs-engine" '.root.path = $r' "$SCRATCH/bundle-2/config.json" >"$ENGINE/config.json"
check "the engine's config.json has the spec's hook, and no prestart hook" \
    test "$(jq -r '.hooks.createContainer[0].args[2]' "$ENGINE/config.json")" = create-container -a \
    "$(jq '.hooks.prestart // [] | length' "$ENGINE/config.json")" = 0
OUT=$("$CRUN" --root "$CRUN_ROOT" run -b "$ENGINE" "gctk-crun-$$-engine" </dev/null 2>&1)
"$CRUN" --root "$CRUN_ROOT" delete -f "gctk-crun-$$-engine" >/dev/null 2>&1
expect_eq "crun applying gctk's spec itself, as Podman does: exactly GPU 2" "$(uuids_of 2)" "$(uuids_seen)"
expect_eq "... and libcuda.so.1 in its ld.so.cache" "1" "$(printf '%s\n' "$OUT" | sed -n 3p)"

# a read-only root: crun before 1.26 makes it so before the createContainer
# hooks, which cannot write the driver's files into it
RO_SCRIPT="$CDI_SCRIPT; touch /probe 2>/dev/null || echo read-only"
run readonly '[]' "{\"cdi.k8s.io/x\": \"$VENDOR/gpu=2\"}" "$RO_SCRIPT" readonly
if version_ge "$CRUN_VERSION" 1.26; then
    expect_eq "crun $CRUN_VERSION, a read-only root: the hook writes before it is made so; GPU 2" \
        "$(uuids_of 2)" "$(uuids_seen)"
    expect_match "... and the root is read-only in the container" "^read-only$" "$OUT"
else
    check "crun $CRUN_VERSION, a read-only root: the container does not start" test "$RC" -ne 0 -a -z "$(uuids_seen)"
    expect_eq "... the hook says why, and what works" \
        "hook create-container: error: the container's root filesystem \`$R\` is read-only when its createContainer hooks run, and the hook must create the driver's files in it (crun before 1.26 makes a read-only root so before these hooks, runc after them): run the container with runc or crun 1.26 or later, or without a read-only root filesystem" \
        "$(tail -n 1 "$SCRATCH/hook.log" | cut -d' ' -f3-)"
    check "... and made nothing in the rootfs" test ! -e "$R$E2E_LIBDIR/libcuda.so.580.95.05" -a ! -e "$R/etc/ld.so.cache"
fi
# runc makes the same root read-only after the hooks
RUNTIME=runc run readonly-runc '[]' "{\"cdi.k8s.io/x\": \"$VENDOR/gpu=2\"}" "$RO_SCRIPT" readonly
expect_eq "runc, a read-only root: the hook writes before runc makes it so; GPU 2" "$(uuids_of 2)" "$(uuids_seen)"
expect_match "... and the root is read-only in the container" "^read-only$" "$OUT"

# Podman with crun, applying gctk's spec itself (`podman run --device`), as
# on a host where Podman's runtime is crun: private storage, as test-podman
if ! command -v podman >/dev/null; then
    skip "Podman with crun" "podman is not installed"
else
    export PODMAN_IGNORE_CGROUPSV1_WARNING=1
    PM=$SCRATCH/podman
    mkdir -p "$PM/tmp"
    remove_at_exit_if_new /var/lib/containers /etc/cni/net.d/cni.lock /run/containers \
        /run/lock/netavark.lock /var/run/cdi
    # Podman 5's idmapped mounts (--uidmap) leave an empty
    # /var/tmp/intermediate-mountpoint-N.N behind
    remove_matches_at_exit_if_new '/var/tmp/intermediate-mountpoint-*'
    PODMAN=(podman --root "$PM/root" --runroot "$PM/runroot" --tmpdir "$PM/tmp" --runtime "$CRUN"
            --cgroup-manager cgroupfs --events-backend none --storage-driver vfs)
    RUNOPTS=(--rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
    at_exit "${PODMAN[*]} rm -af; ${PODMAN[*]} system reset -f; umount -R $PM/root $PM/runroot"
    PSPEC=/var/run/cdi/gctk-crun-$$-$RANDOM.yaml
    PVENDOR=gctk-crun-$$-$RANDOM.example.com
    mkdir -p /var/run/cdi
    at_exit "rm -f $PSPEC"
    "$SCRATCH/bin/gctk" cdi generate --root "$HOST" --vendor "$PVENDOR" --output "$PSPEC"
    tar -C "$ROOTFS" -cf "$SCRATCH/rootfs.tar" .
    IMAGE=localhost/gctk-crun-$$:latest
    "${PODMAN[@]}" import "$SCRATCH/rootfs.tar" "$IMAGE" >/dev/null 2>"$SCRATCH/import.err" ||
        { not_ok "podman import of the rootfs"; diag <"$SCRATCH/import.err"; exit 1; }
    OUT=$("${PODMAN[@]}" run "${RUNOPTS[@]}" --device "$PVENDOR/gpu=1" "$IMAGE" sh -c \
        'nvidia-smi -L; ls /proc/driver/nvidia/gpus | wc -l' 2>&1)
    expect_eq "podman --device $PVENDOR/gpu=1, crun: exactly GPU 1" "$(uuids_of 1)" "$(uuids_seen)"
    expect_eq "... /proc/driver/nvidia shows GPU 1 alone" "1" "$(printf '%s\n' "$OUT" | tail -n 1)"
    # --uidmap: the container's root is host uid 100000, and crun runs the
    # spec's hook as that root. Podman 4.3 with crun 1.8.1 (Debian 12) runs
    # it; Podman 5.4 with crun 1.21 (Debian 13) keeps the container's
    # bundle under directories of mode 0700, and crun, before 1.27, refuses
    # a createContainer hook that cannot enter it (NVIDIA's as well)
    UIDMAP=(--uidmap 0:100000:65536 --gidmap 0:100000:65536)
    # doctor_line CHECK: "STATUS CHECK: MESSAGE[ -> FIX]" of gctk doctor's line
    doctor_line() {
        "$GCTK" doctor --json 2>/dev/null | jq -r --arg c "$1" \
            '.[] | select(.check == $c) | "\(.status) \(.check): \(.message)" + (if .fix then " -> \(.fix)" else "" end)'
    }
    PODMAN_VERSION=$(version_of podman --version)
    HOOK_LINES=$(wc -l <"$SCRATCH/hook.log")
    # crun makes the nodes in the container's user namespace with the spec's
    # fileMode; without CAP_DAC_OVERRIDE (Kubernetes' restricted pods drop
    # it) a node of mode 000 could not be opened
    OUT=$("${PODMAN[@]}" run "${RUNOPTS[@]}" "${UIDMAP[@]}" --cap-drop all --device "$PVENDOR/gpu=1" "$IMAGE" \
        sh -c 'nvidia-smi -L; head -c 1 /dev/nvidia1 2>&1 >/dev/null | sed "s|^head: ||"; cat /proc/self/uid_map' 2>&1)
    if ! version_ge "$PODMAN_VERSION" 5; then
        expect_eq "podman $PODMAN_VERSION --uidmap --cap-drop all, crun: exactly GPU 1" "$(uuids_of 1)" "$(uuids_seen)"
        expect_match "... its node can be opened (no driver behind it here)" "^/dev/nvidia1: No such device or address$" "$OUT"
        expect_match "... in a user namespace of its own" "^ +0 +100000 +65536$" "$OUT"
        expect_eq "... and gctk doctor finds nothing to say" \
            "ok podman: Podman $PODMAN_VERSION with crun $CRUN_VERSION" "$(doctor_line podman)"
    elif ! version_ge "$CRUN_VERSION" 1.27; then
        expect_match "podman $PODMAN_VERSION --uidmap --device, crun $CRUN_VERSION: crun refuses the hook (the bundle is out of its reach)" \
            "error executing hook .*gctk. \(exit code: 1\)" "$OUT"
        expect_eq "... before the hook runs (no line in its log)" "$HOOK_LINES" "$(wc -l <"$SCRATCH/hook.log")"
        expect_match "... and gctk doctor says so, with the hooks.d route" \
            "^warning podman: Podman $PODMAN_VERSION with crun $CRUN_VERSION: a container of a user namespace of its own .* -> give such a container its GPUs through Podman's hooks.d: .*NVIDIA_VISIBLE_DEVICES" \
            "$(doctor_line podman)"
    else
        skip "podman $PODMAN_VERSION --uidmap, crun $CRUN_VERSION" \
            "crun 1.27+ runs the hook outside a bundle it cannot enter; not observed here"
    fi
    # crun is asked its version with a state directory in TMPDIR: where none
    # can be made there, the line names the runtime without its version
    expect_eq "gctk doctor, no temporary directory for crun's state: crun without its version" \
        "ok podman: Podman $PODMAN_VERSION with the runtime \`crun\`" \
        "$(TMPDIR=$SCRATCH/missing doctor_line podman)"
    # the runtime a containers.conf names is the one the doctor asks
    printf '[engine]\nruntime = "runc"\n' >"$SCRATCH/containers.conf"
    expect_match "gctk doctor: the runtime of CONTAINERS_CONF's [engine] runtime" \
        "^ok podman: Podman $PODMAN_VERSION with runc [0-9]" "$(CONTAINERS_CONF=$SCRATCH/containers.conf doctor_line podman)"
    printf '[engine]\nruntime = "%s"\n' "$SCRATCH/not-run" >"$SCRATCH/containers.conf"
    printf '#!/bin/sh\ntouch %s/ran\n' "$SCRATCH" >"$SCRATCH/not-run"
    chmod 755 "$SCRATCH/not-run"
    expect_eq "... a runtime other than crun and runc is named, never run" \
        "ok podman: Podman $PODMAN_VERSION with the runtime \`$SCRATCH/not-run\`, ran: no" \
        "$(CONTAINERS_CONF=$SCRATCH/containers.conf doctor_line podman), ran: $([ -e "$SCRATCH/ran" ] && echo yes || echo no)"
    # what works in a user namespace whatever the versions: gctk-hook as
    # Podman's prestart hook, which crun runs as the host's root
    HOOKS=$SCRATCH/hooks.d
    check "gctk runtime configure --runtime=podman writes the hooks.d file" \
        "$GCTK" runtime configure --runtime=podman --config "$HOOKS/oci-gctk-hook.json" \
        --runtime-path "$(realpath "$GCTK_HOOK")" >/dev/null
    OUT=$("${PODMAN[@]}" --hooks-dir "$HOOKS" run "${RUNOPTS[@]}" "${UIDMAP[@]}" --cap-drop all \
        -e NVIDIA_VISIBLE_DEVICES=1 "$IMAGE" \
        sh -c 'nvidia-smi -L; head -c 1 /dev/nvidia1 2>&1 >/dev/null | sed "s|^head: ||"; cat /proc/self/uid_map' 2>&1)
    expect_eq "hooks.d, --uidmap --cap-drop all, crun: exactly GPU 1" "$(uuids_of 1)" "$(uuids_seen)"
    expect_match "... its node can be opened (no driver behind it here)" "^/dev/nvidia1: No such device or address$" "$OUT"
    expect_match "... in a user namespace of its own" "^ +0 +100000 +65536$" "$OUT"
    if ! version_ge "$CRUN_VERSION" 1.26; then
        OUT=$("${PODMAN[@]}" run "${RUNOPTS[@]}" --read-only --device "$PVENDOR/gpu=1" "$IMAGE" true 2>&1)
        expect_match "podman --read-only, crun $CRUN_VERSION: refused, crun naming the hook" \
            "error executing hook .*gctk. \(exit code: 1\)" "$OUT"
        expect_match "... and the hook's log says why" \
            "hook create-container: error: the container's root filesystem .* is read-only when its createContainer hooks run" \
            "$(tail -n 1 "$SCRATCH/hook.log")"
    fi
fi
check "no mount of this suite is left" test "$(host_mounts)" = 0
