#!/usr/bin/env bash
# The twelve failures users of GPU containers meet most (docs/troubleshooting.md),
# each reproduced on a simulated host with the machine's runc and a private
# dockerd (Debian 12's 20.10, Debian 13's 26.1; Compose 1.29 or 2.26): the line
# the user reads, from the hook or from Docker itself, and the verdict of
# `gctk doctor` on the same machine. Each Docker version is held to its own
# message where the two differ.
#
#   1  could not select device driver "" with capabilities: [[gpu]]
#   2  a container without its GPU: Compose's count, no compute, no utility
#   3  unknown or invalid runtime name: nvidia
#   4  nested cgroups (LXC, Docker in Docker) and an unprivileged hook
#   5  driver/library version mismatch; libraries missing; a NixOS directory
#   6  unsatisfied condition: cuda>=X
#   7  no usable driver: the kernel module or its control node missing
#   8  driver RPC timeouts (a GPU without persistence mode)
#   9  Failed to initialize NVML: Unknown Error (no-cgroups, daemon-reload)
#   10 mount error: file exists (driver files baked into an image)
#   11 ldcache error: /sbin/ldconfig.real (an image without ldconfig)
#   12 unknown device
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/docker-lib.sh"

need_root "the twelve failures" || exit 0
command -v runc >/dev/null || { skip "the twelve failures" "runc is not installed"; exit 0; }
DEVICES_V1=/sys/fs/cgroup/devices
dk_composes
dk_versions "Compose ${COMPOSE_VERSIONS[*]:-none}"

# ---- the hosts ------------------------------------------------------------------------
# sim NAME ARGS...: a simulated host SCRATCH/NAME
sim() {
    local name=$1; shift
    "$GCTK" sim create "$SCRATCH/$name" "$@" >/dev/null 2>"$SCRATCH/sim.err" ||
        { not_ok "gctk sim create $name $*"; diag <"$SCRATCH/sim.err"; exit 1; }
}
sim healthy --gpus 4
sim mismatch --gpus 2 --lib-version 580.105.08
sim nolibs --gpus 2 --no-libs
sim nixos --gpus 2 --uncached-lib-dir /run/opengl-driver/lib
sim nomodule --gpus 2
rm -f "$SCRATCH/nomodule/proc/driver/nvidia/version"
sim noctl --gpus 2
rm -f "$SCRATCH/noctl/dev/nvidiactl"
sim cold --gpus 1 --cold-init-ms 10500
sim old --gpus 2 --driver 535.104.05
sim arm64 --gpus 1 --arch aarch64
mapfile -t UUID < <("$GCTK" info --root "$SCRATCH/healthy" --json --no-nvml | jq -r '.gpus[].uuid')
expect_eq "the healthy host has 4 GPUs" 4 "${#UUID[@]}"

# the config the hook reads (runc's hooks get GCTK_CONFIG, dockerd passes its
# own environment to the hook): use_host NAME [SETTINGS] points it at a host
CONF=$SCRATCH/gctk.conf
export GCTK_CONFIG=$CONF
use_host() {
    HOST=$SCRATCH/$1
    printf '{"root": "%s", "log": "%s"%s}\n' "$HOST" "$SCRATCH/hook.log" "${2:+, $2}" >"$CONF"
    chmod 644 "$CONF"
}
use_host healthy

# ---- runc ---------------------------------------------------------------------------
ROOTFS=$SCRATCH/rootfs
make_rootfs "$ROOTFS"
cp "$GCTK_SIM_DIR/cuda-devices" "$ROOTFS/bin/cuda-devices"
HOOK_ENV="[\"GCTK_CONFIG=$CONF\"]"
# run_runc ENV_JSON SCRIPT [ROOTFS]: `sh -c SCRIPT` in a fresh runc container
# (a copy of ROOTFS, as every Docker container gets its own layer); output in
# $OUT, status in $RC
run_runc() {
    local b id
    b=$(mktemp -d "$SCRATCH/run.XXXXXX")
    id=gctk-fail-${b##*.}
    cp -a "${3:-$ROOTFS}" "$b/rootfs"
    make_bundle "$b/bundle" "$b/rootfs" "[\"sh\", \"-c\", $(jq -Rn --arg s "$2" '$s')]" "$1" "$HOOK_ENV"
    OUT=$(runc_run "$b/bundle" "$id")
    RC=$?
    runc --root "$RUNC_ROOT" delete -f "$id" >/dev/null 2>&1
}
# hook_line: the hook's line in $OUT, as runc and Docker print it inside
# their own (runc 1.1 ends it with `\n"`, Docker with `: unknown.`)
hook_line() {
    printf '%s\n' "$OUT" | grep -o 'gctk-hook: .*' | head -n 1 | sed -e 's/\\n"*$//' -e 's/\\n"*: unknown\.*$//'
}

# ---- the doctor --------------------------------------------------------------------------
mkdir -p "$SCRATCH/cdi"
# doc ARGS...: gctk doctor on $HOST with the private dockerd (once it runs);
# output in $OUT, status in $RC
doc() {
    local docker=(--docker-host "unix://$SCRATCH/none.sock" --daemon-json "$SCRATCH/none.json")
    [ -z "$DK_DIR" ] || docker=(--docker-host "$DOCKER_HOST" --daemon-json "$DK_DAEMON_JSON"
        --dockerd-pid "$DK_DOCKERD_PID")
    OUT=$("$GCTK" doctor --root "$HOST" --config "$CONF" --cdi-dir "$SCRATCH/cdi" \
        --runc-root "$RUNC_ROOT" "${docker[@]}" "$@" 2>&1)
    RC=$?
}
# line CHECK: the first line of that check in $OUT
line() { printf '%s\n' "$OUT" | grep -m1 -F "] $1: " || true; }

# ---- a private dockerd ---------------------------------------------------------------------
DOCKER_OK=1
missing=$(dk_missing)
if [ -n "$missing" ]; then
    DOCKER_OK=0
    skip "the Docker half of the twelve" "missing: $missing"
else
    at_exit dk_stop
    if ! dk_start "$SCRATCH/docker" "$CONF" 2>"$SCRATCH/start.err"; then
        not_ok "the private dockerd starts"; diag <"$SCRATCH/start.err"; exit 1
    fi
    dk_import_image "$ROOTFS" gctk-test:latest || { not_ok "import gctk-test"; exit 1; }
    STORAGE=$("$DOCKER" info --format '{{.Driver}}' 2>/dev/null)
    ok "a private dockerd $DOCKER_VERSION (storage driver $STORAGE), configured by gctk"
fi
# drun ARGS...: docker run --rm --network none ARGS; output in $OUT, status in $RC
drun() {
    OUT=$(timeout 120 "$DOCKER" run --rm --network none "$@" 2>&1 </dev/null)
    RC=$?
}
docker_ok() { [ "$DOCKER_OK" = 1 ]; }
uuids_seen() { printf '%s\n' "$OUT" | grep -o 'GPU-[0-9a-f-]*' | sort | tr '\n' ' '; }
uuids_of() { for i in "$@"; do echo "${UUID[$i]}"; done | sort | tr '\n' ' '; }

# ---- 1: could not select device driver "" ----------------------------------------------------
if docker_ok; then
    # the hook appears after dockerd started: dockerd looked for it only then
    rm -f "$DK_DIR/bin/nvidia-container-runtime-hook"
    dk_restart 2>"$SCRATCH/restart.err" || { not_ok "dockerd restarts"; diag <"$SCRATCH/restart.err"; }
    ln -s "$(cd "$GCTK_BUILD" && pwd)/cmd/gctk-hook" "$DK_DIR/bin/nvidia-container-runtime-hook"
    touch -h -d '+10 seconds' "$DK_DIR/bin/nvidia-container-runtime-hook"
    drun --gpus all gctk-test nvidia-smi -L
    expect_match "1 docker $DOCKER_VERSION, hook installed after dockerd: Docker's own message" \
        'could not select device driver "" with capabilities: \[\[gpu\]\]' "$OUT"
    doc
    expect_eq "1 doctor: exit 1" 1 "$RC"
    expect_match "1 doctor: the restart is an error, with Docker's message and the fix" \
        '^\[error\] docker restart: restart needed: `.*/nvidia-container-runtime-hook` was installed after dockerd started, so dockerd has no GPU support: `docker run --gpus` fails with `could not select device driver "" with capabilities: \[\[gpu\]\]` -> fix: systemctl restart docker$' \
        "$(line 'docker restart')"
    dk_restart 2>/dev/null
    drun --gpus all gctk-test nvidia-smi -L
    expect_eq "1 after the restart: the 4 GPUs" "$(uuids_of 0 1 2 3)" "$(uuids_seen)"
    # and with no hook on dockerd's PATH at all
    rm -f "$DK_DIR/bin/nvidia-container-runtime-hook"
    dk_restart 2>/dev/null
    doc
    expect_match "1 doctor: no hook on dockerd's PATH, with the link to make" \
        "^\[error\] docker hook: \`nvidia-container-runtime-hook\` is not on dockerd's PATH \($DK_DIR/bin:.*could not select device driver .* -> fix: ln -s .*gctk-hook $DK_DIR/bin/nvidia-container-runtime-hook && systemctl restart docker$" \
        "$(line 'docker hook')"
    ln -s "$(cd "$GCTK_BUILD" && pwd)/cmd/gctk-hook" "$DK_DIR/bin/nvidia-container-runtime-hook"
    touch -h -d '-10 seconds' "$DK_DIR/bin/nvidia-container-runtime-hook"
    dk_restart 2>/dev/null
    doc
    expect_eq "1 doctor on the mended machine: exit 0" 0 "$RC"
    [ "$RC" = 0 ] || printf '%s\n' "$OUT" | grep -v '^\[ ok' | diag
fi

# ---- 2: a container without its GPU --------------------------------------------------------
if docker_ok; then
    for i in "${!COMPOSE_NAMES[@]}"; do
        name=${COMPOSE_NAMES[$i]} cv=${COMPOSE_VERSIONS[$i]}
        dk_compose_cmd "$name"
        mkdir -p "$SCRATCH/compose"
        cat >"$SCRATCH/compose/gpu.yaml" <<'EOF'
services:
  app:
    image: gctk-test:latest
    command: ["sleep", "300"]
    network_mode: none
    deploy:
      resources:
        reservations:
          devices:
            - capabilities: [gpu]
EOF
        OUT=$(cd "$SCRATCH/compose" && timeout 120 "${DK_COMPOSE[@]}" --ansi never -p gctkfail -f gpu.yaml up -d 2>&1 </dev/null)
        cid=$("$DOCKER" ps -q --filter label=com.docker.compose.project=gctkfail | head -n 1)
        OUT=$(timeout 30 "$DOCKER" exec "$cid" sh -c 'nvidia-smi -L; ls /dev/nvidia0' 2>&1)
        CHECK=$("$GCTK" compose check --compose-version "$cv" "$SCRATCH/compose/gpu.yaml" 2>&1)
        doc --container "$cid"
        if [ "${cv%%.*}" = 1 ]; then
            expect_match "2 $name $cv, capabilities: [gpu] alone: no GPU, nvidia-smi not found" \
                'nvidia-smi: not found' "$OUT"
            expect_match "2 gctk compose check for $cv: says count 0 gives no GPU" \
                "Compose $cv sends count 0 here, not all" "$CHECK"
            expect_match "2 doctor --container: it asked for no GPU, with the Compose fix" \
                '^\[error\] container: docker container `gctkfail[-_]app[-_]1` \([0-9a-f]{12}\) asked for no GPU: NVIDIA_VISIBLE_DEVICES is unset, so nothing was given to it .* -> fix: .*count: all.*docker-compose 1.x sends count 0' \
                "$(line container)"
            expect_eq "2 doctor --container: exit 1" 1 "$RC"
        elif version_ge "$cv" 2; then
            expect_eq "2 $name $cv, capabilities: [gpu] alone: count -1, the 4 GPUs" \
                "$(uuids_of 0 1 2 3)" "$(uuids_seen)"
            expect_match "2 doctor --container: the GPUs it asked for" \
                '^\[ ok  \] container: docker container `gctkfail-app-1` \([0-9a-f]{12}\): NVIDIA_VISIBLE_DEVICES=all, capabilities utility,compute$' \
                "$(line container)"
            expect_match "2 doctor --container: its device cgroup allows them" \
                '^\[ ok  \] container devices: 7 GPU device nodes in .*, and its device cgroup \(`.*`\) allows them$' \
                "$(line 'container devices')"
            expect_match "2 doctor --container: libcuda and NVML as the loader finds them" \
                '^\[ ok  \] container libraries: .*`libnvidia-ml.so.1` -> `/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.580.95.05`, `libcuda.so.1` -> `/usr/lib/x86_64-linux-gnu/libcuda.so.580.95.05`$' \
                "$(line 'container libraries')"
        else
            skip "2 $name $cv" "no recorded behaviour for Compose $cv"
        fi
        (cd "$SCRATCH/compose" && timeout 60 "${DK_COMPOSE[@]}" --ansi never -p gctkfail -f gpu.yaml down -t 0 >/dev/null 2>&1 </dev/null)
    done
    # capabilities without compute: no libcuda; without utility: no nvidia-smi
    cid=$("$DOCKER" run -d --network none --gpus '"capabilities=utility"' gctk-test sleep 300 2>&1)
    OUT=$("$DOCKER" exec "$cid" cuda-devices 2>&1)
    expect_match "2 --gpus capabilities=utility: CUDA programs find no libcuda" \
        'libcuda.so.1: cannot open shared object file' "$OUT"
    doc --container "$cid"
    expect_match "2 doctor --container: capabilities without compute, with the fix" \
        '^\[warn \] container: docker container .*: NVIDIA_VISIBLE_DEVICES=0, capabilities utility: no libcuda, so CUDA programs fail .* -> fix: add `compute`' \
        "$(line container)"
    "$DOCKER" rm -f "$cid" >/dev/null 2>&1
fi

# ---- 3: unknown or invalid runtime name: nvidia -----------------------------------------------
if docker_ok; then
    cp "$DK_DAEMON_JSON" "$SCRATCH/daemon.json.configured"
    jq 'del(.runtimes)' "$SCRATCH/daemon.json.configured" >"$DK_DAEMON_JSON"
    dk_restart 2>/dev/null
    drun --runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=0 gctk-test nvidia-smi -L
    if version_ge "$DOCKER_VERSION" 23; then
        expect_match "3 docker $DOCKER_VERSION --runtime=nvidia, no runtime: its message" \
            'unknown or invalid runtime name: nvidia' "$OUT"
    else
        expect_match "3 docker $DOCKER_VERSION --runtime=nvidia, no runtime: its message" \
            'Unknown runtime specified nvidia' "$OUT"
    fi
    doc
    expect_match "3 doctor: no runtime in daemon.json, with the configure command" \
        "^\[error\] docker runtime: \`$DK_DAEMON_JSON\` has no \"nvidia\" runtime -> fix: gctk runtime configure --runtime=docker --config $DK_DAEMON_JSON && systemctl restart docker$" \
        "$(line 'docker runtime')"
    # configured, not restarted: doctor and compose check agree
    cp "$SCRATCH/daemon.json.configured" "$DK_DAEMON_JSON"
    cat >"$SCRATCH/compose/runtime.yaml" <<'EOF'
services:
  app:
    image: gctk-test:latest
    runtime: nvidia
    environment: [NVIDIA_VISIBLE_DEVICES=0]
EOF
    CHECK=$("$GCTK" compose check --docker-host "$DOCKER_HOST" --daemon-json "$DK_DAEMON_JSON" \
        "$SCRATCH/compose/runtime.yaml" 2>&1)
    CRC=$?
    doc
    expect_eq "3 doctor, runtime configured but not loaded: exit 1" 1 "$RC"
    expect_match "3 doctor: a runtime dockerd has not loaded is an error" \
        "^\[error\] docker restart: restart needed: dockerd has not loaded the \"nvidia\" runtime of \`$DK_DAEMON_JSON\`: .*unknown or invalid runtime name: nvidia.* -> fix: systemctl restart docker$" \
        "$(line 'docker restart')"
    expect_eq "3 gctk compose check fails the runtime: nvidia service too" 1 "$CRC"
    expect_match "3 gctk compose check: the same cause and fix" \
        "runtime \(line 4\): .* has no runtime .nvidia. .*but dockerd has not loaded it; systemctl restart docker" "$CHECK"
    dk_restart 2>/dev/null
fi

# ---- 4: nested cgroups, an unprivileged hook ---------------------------------------------------
if [ -d "$DEVICES_V1" ] && [ -w "$DEVICES_V1" ]; then
    # the outer container: a devices cgroup that refuses the GPUs, as an LXC
    # guest's or a Docker-in-Docker container's does
    OUTER=$DEVICES_V1/gctk-outer-$$
    mkdir "$OUTER"
    # whatever is still in it goes back to the root first
    at_exit "for p in \$(cat '$OUTER/cgroup.procs'); do echo \$p >'$DEVICES_V1/cgroup.procs'; done; rmdir '$OUTER'"
    # what LXC gives a guest: no device but the usual ones and mknod
    echo a >"$OUTER/devices.deny"
    for rule in 'c *:* m' 'b *:* m' 'c 1:3 rwm' 'c 1:5 rwm' 'c 1:7 rwm' 'c 1:8 rwm' 'c 1:9 rwm' \
        'c 5:0 rwm' 'c 5:1 rwm' 'c 5:2 rwm' 'c 136:* rwm' 'c 10:200 rwm'; do
        echo "$rule" >"$OUTER/devices.allow"
    done
    (
        echo "$BASHPID" >"$OUTER/cgroup.procs"
        run_runc '["NVIDIA_VISIBLE_DEVICES=0"]' 'nvidia-smi -L'
        printf '%s\n' "$OUT" >"$SCRATCH/nested.out"
        doc
        printf '%s\n' "$OUT" >"$SCRATCH/nested.doctor"
    )
    OUT=$(cat "$SCRATCH/nested.out")
    expect_match "4 runc in a guest whose cgroup refuses the GPUs: the cause" \
        "gctk-hook: a device cgroup above this process refuses \`$SCRATCH/healthy/dev/nvidiactl\`: this machine is a container \(or a cgroup\) that may not use the GPUs" \
        "$(hook_line)"
    expect_match "4 runc in such a guest: the fix is the outer container's rules, not --device" \
        "; allow the GPUs in the device rules of the outer container this engine runs in \(c 195:\* rwm, c 510:\* rwm\): LXC or Proxmox: lxc.cgroup2.devices.allow = c 195:\* rwm and lxc.cgroup2.devices.allow = c 510:\* rwm in its config .*--device-cgroup-rule 'c 195:\* rwm'" \
        "$(hook_line)"
    OUT=$(cat "$SCRATCH/nested.doctor")
    expect_match "4 doctor in such a guest: the device cgroup is an error, with the same fix" \
        "^\[error\] device cgroup: .*a device cgroup above this process refuses \`$SCRATCH/healthy/dev/nvidiactl\`.* -> fix: allow the GPUs in the device rules of the outer container" \
        "$(line 'device cgroup')"
    doc
    expect_match "4 doctor on the host: the device cgroup is fine" '^\[ ok  \] device cgroup: ' "$(line 'device cgroup')"
    if docker_ok; then
        # the engine itself in the guest's cgroup: Docker in Docker, Docker in LXC
        for pid in "$DK_CONTAINERD_PID" "$DK_DOCKERD_PID"; do echo "$pid" >"$OUTER/cgroup.procs"; done
        drun --gpus 1 gctk-test nvidia-smi -L
        for pid in "$DK_CONTAINERD_PID" "$DK_DOCKERD_PID"; do echo "$pid" >"$DEVICES_V1/cgroup.procs"; done
        expect_match "4 docker $DOCKER_VERSION in such a guest: the hook's line in Docker's error" \
            'gctk-hook: a device cgroup above this process refuses .*lxc.cgroup2.devices.allow = c 195:\* rwm' "$OUT"
    fi
else
    skip "4 nested cgroups" "no writable cgroup v1 devices hierarchy at $DEVICES_V1"
fi
# an unprivileged hook: runc run by a user, outside any engine's user namespace
NOBODY=65534
chmod 755 "$SCRATCH"
mkdir -p "$SCRATCH/nobody-bin" "$SCRATCH/runc-nobody"
cp "$GCTK_HOOK" "$GCTK" "$SCRATCH/nobody-bin/"
chown "$NOBODY" "$SCRATCH/runc-nobody"
b=$SCRATCH/bundle-rootless
cp -a "$ROOTFS" "$SCRATCH/rootfs-rootless"
mkdir -p "$b"
(cd "$b" && runc spec --rootless)
# the user's own uid is the container's root, as `runc spec --rootless` run by
# that user writes it
jq --arg rootfs "$SCRATCH/rootfs-rootless" --arg hook "$SCRATCH/nobody-bin/gctk-hook" --arg conf "GCTK_CONFIG=$CONF" \
    --argjson id "$NOBODY" \
    '.linux.uidMappings[0].hostID = $id | .linux.gidMappings[0].hostID = $id
     | .root.path = $rootfs | .process.terminal = false | .process.args = ["nvidia-smi", "-L"]
     | .process.env += ["NVIDIA_VISIBLE_DEVICES=0"]
     | .hooks = {"prestart": [{"path": $hook, "args": ["gctk-hook", "prestart"], "env": [$conf]}]}' \
    "$b/config.json" >"$b/c.json" && mv "$b/c.json" "$b/config.json"
# runc gives the container its stdio: a pipe of the user's own (`| cat`)
OUT=$(setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups --inh-caps=-all \
    sh -c 'cd "$1" && runc --root "$2" run -b "$1" "$3" 2>&1 </dev/null | cat' \
    sh "$b" "$SCRATCH/runc-nobody" "gctk-rootless-$$")
setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups runc --root "$SCRATCH/runc-nobody" \
    delete -f "gctk-rootless-$$" >/dev/null 2>&1
if printf '%s' "$OUT" | grep -q 'gctk-hook'; then
    expect_match "4 an unprivileged hook: the cause, not only 'Operation not permitted'" \
        'gctk-hook: gctk-hook runs as uid 65534 without CAP_SYS_ADMIN, outside a user namespace: it cannot enter the container.s mount namespace' \
        "$(hook_line)"
    expect_match "4 an unprivileged hook: the fixes (root, a rootless engine, CDI)" \
        '; run the engine as root; or rootless with a user namespace .*; or give the GPUs through CDI, which needs no hook' \
        "$(hook_line)"
else
    skip "4 an unprivileged hook" "runc $RUNC_VERSION does not run rootless containers here: $(printf '%s' "$OUT" | tail -n 1)"
fi
OUT=$(setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups --inh-caps=-all \
    "$SCRATCH/nobody-bin/gctk" doctor --root "$SCRATCH/healthy" --config "$CONF" \
    --docker-host "unix://$SCRATCH/none.sock" --daemon-json "$SCRATCH/none.json" --cdi-dir "$SCRATCH/cdi" 2>&1)
expect_match "4 doctor run as that user: what a hook run so meets" \
    '^\[warn \] privileges: gctk doctor runs as uid 65534 without CAP_SYS_ADMIN, outside a user namespace: .* -> fix: run the engine as root; .*through CDI' \
    "$(line privileges)"

# ---- 5: driver/library version mismatch, missing libraries, a NixOS directory ------------------
use_host mismatch
run_runc '["NVIDIA_VISIBLE_DEVICES=all"]' 'nvidia-smi -L'
MISMATCH_LINE="gctk-hook: driver/library version mismatch: kernel module 580.95.05, libraries 580.105.08 (\`$SCRATCH/mismatch/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.580.105.08\`); reboot, or reload the module, so that the kernel module of the installed driver 580.105.08 runs: rmmod nvidia_uvm nvidia_drm nvidia_modeset nvidia && modprobe nvidia"
expect_eq "5 runc, libraries newer than the module: one line, the versions and the fix" \
    "$MISMATCH_LINE" "$(hook_line)"
check "5 runc: the container does not start" test "$RC" -ne 0
if docker_ok; then
    drun --gpus all gctk-test nvidia-smi -L
    expect_match "5 docker $DOCKER_VERSION: the same line in Docker's error" \
        "gctk-hook: driver/library version mismatch: kernel module 580.95.05, libraries 580.105.08 .*; reboot, or reload the module" "$OUT"
fi
doc
expect_match "5 doctor: the mismatch, with the fix" \
    "^\[error\] libraries: driver/library version mismatch: kernel module 580.95.05, libraries 580.105.08 \(.*\) -> fix: reboot, or reload the module" \
    "$(line libraries)"
expect_match "5 doctor: NVML fails the same way" '^\[error\] nvml: .*Driver/library version mismatch' "$(line nvml)"

use_host nolibs
run_runc '["NVIDIA_VISIBLE_DEVICES=all"]' 'nvidia-smi -L'
expect_eq "5 runc, no user-space libraries: what is missing and the fix" \
    "gctk-hook: capability utility needs \`libnvidia-ml.so.1\`: no \`libnvidia-ml.so.1\`: neither \`$SCRATCH/nolibs/etc/ld.so.cache\` nor the library directories have it; install the NVIDIA driver's user-space libraries of version 580.95.05 and run \`ldconfig\`" \
    "$(hook_line)"
doc
expect_match "5 doctor: the libraries are missing" \
    "^\[error\] libraries: no \`libnvidia-ml.so.1\`: neither .* -> fix: install the NVIDIA driver's user-space libraries of version 580.95.05" \
    "$(line libraries)"

use_host nixos
run_runc '["NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_DRIVER_CAPABILITIES=compute"]' 'cuda-devices'
expect_eq "5 runc, libraries in a directory ld.so.cache does not list (NixOS): where, and the fix" \
    "gctk-hook: capability compute needs \`libcuda.so.1\`: \`$SCRATCH/nixos/run/opengl-driver/lib/libcuda.so.580.95.05\` is in \`/run/opengl-driver/lib\`, which \`$SCRATCH/nixos/etc/ld.so.cache\` does not list: driver libraries are found through the host's ld.so.cache; list the directory in the host's ld.so.cache: echo /run/opengl-driver/lib > /etc/ld.so.conf.d/nvidia.conf && ldconfig" \
    "$(hook_line)"
if docker_ok; then
    drun --gpus all gctk-test cuda-devices
    expect_match "5 docker $DOCKER_VERSION, the NixOS directory: the same line" \
        'gctk-hook: capability utility needs .libnvidia-ml.so.1.: .*/run/opengl-driver/lib/libnvidia-ml.so.580.95.05. is in ./run/opengl-driver/lib.' "$OUT"
fi
doc
expect_match "5 doctor: the directory the cache does not list" \
    '^\[error\] libraries: .*/run/opengl-driver/lib/libnvidia-ml.so.580.95.05` is in `/run/opengl-driver/lib`, which .* -> fix: list the directory in the host.s ld.so.cache: echo /run/opengl-driver/lib > /etc/ld.so.conf.d/nvidia.conf && ldconfig$' \
    "$(line libraries)"

# ---- 6: unsatisfied condition: cuda>=X ---------------------------------------------------------
use_host healthy
run_runc '["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_REQUIRE_CUDA=cuda>=13.1"]' 'nvidia-smi -L'
expect_match "6 runc, an image for CUDA 13.1 on driver 580.95.05 (CUDA 13.0): the requirement, the driver it needs" \
    'gctk-hook: the image.s requirements are not met \(set NVIDIA_DISABLE_REQUIRE=true to skip the check\): GPU 0 \(GPU-[0-9a-f-]*\): .*cuda>=13.1.*13.0' \
    "$(hook_line)"
printf 'NVIDIA_REQUIRE_CUDA=cuda>=13.1\n' >"$SCRATCH/req.env"
doc --image-env "$SCRATCH/req.env"
expect_match "6 doctor --image-env: the CUDA the driver runs is too old" \
    "^\[error\] cuda: \`$SCRATCH/req.env\`: .*cuda>=13.1" "$(line cuda)"
if docker_ok; then
    tar -C "$ROOTFS" -c . | "$DOCKER" import --change 'ENV NVIDIA_REQUIRE_CUDA=cuda>=13.1' - gctk-cuda131 >/dev/null
    drun --gpus 1 gctk-cuda131 nvidia-smi -L
    expect_match "6 docker $DOCKER_VERSION: the same line" 'gctk-hook: the image.s requirements are not met .*cuda>=13.1' "$OUT"
    doc --image gctk-cuda131
    expect_match "6 doctor --image: the image's requirement, read through Docker" \
        '^\[error\] cuda: image `gctk-cuda131`: .*cuda>=13.1' "$(line cuda)"
fi

# ---- 7: no usable driver ------------------------------------------------------------------------
use_host nomodule
run_runc '["NVIDIA_VISIBLE_DEVICES=all"]' 'nvidia-smi -L'
expect_eq "7 runc, kernel module not loaded: the file that says so and the fix" \
    "gctk-hook: no NVIDIA driver under \`$SCRATCH/nomodule\`: \`$SCRATCH/nomodule/proc/driver/nvidia/version\` is missing: install the driver or load its kernel module (\`modprobe nvidia\`)" \
    "$(hook_line)"
doc
expect_match "7 doctor: the module is not loaded" '^\[error\] driver: kernel module not loaded: .* -> fix: modprobe nvidia' "$(line driver)"
use_host noctl
run_runc '["NVIDIA_VISIBLE_DEVICES=all"]' 'nvidia-smi -L'
expect_eq "7 runc, /dev/nvidiactl missing: refused with the command that makes it" \
    "gctk-hook: device node \`$SCRATCH/noctl/dev/nvidiactl\` is missing: every GPU container needs the driver's control node; nvidia-modprobe -c 0 (it comes with the kernel module: \`modprobe nvidia\` loads it)" \
    "$(hook_line)"
if docker_ok; then
    drun --gpus all gctk-test nvidia-smi -L
    expect_match "7 docker $DOCKER_VERSION, /dev/nvidiactl missing: the same line" \
        'gctk-hook: device node .*/dev/nvidiactl. is missing' "$OUT"
fi
doc
expect_match "7 doctor: the node is missing, with the same command" \
    "^\[error\] device nodes: \`$SCRATCH/noctl/dev/nvidiactl\` is missing -> fix: nvidia-modprobe -c 0$" "$(line 'device nodes')"

# ---- 8: driver RPC timeouts --------------------------------------------------------------------
# NVIDIA's CLI gives its driver RPC 10 s; a GPU without persistence mode may
# take longer to set up. gctk runs no RPC helper: the hook waits for NVML
# (asked here for the brand) as long as it takes, and the container starts.
use_host cold
run_runc '["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_REQUIRE_BRAND=brand=tesla"]' 'ls /dev/nvidia0'
expect_eq "8 runc, NVML initialisation of 10.5 s (more than NVIDIA's RPC timeout): the container starts" \
    "0 /dev/nvidia0" "$RC $(printf '%s\n' "$OUT" | tail -n 1)"
if docker_ok; then
    drun --gpus 1 -e NVIDIA_REQUIRE_BRAND=brand=tesla gctk-test ls /dev/nvidia0
    expect_eq "8 docker $DOCKER_VERSION, the same slow NVML: the container starts" \
        "0 /dev/nvidia0" "$RC $(printf '%s\n' "$OUT" | tail -n 1)"
fi
# NVML keeps a thread of its own, and a process with threads cannot enter the
# container's mount namespace: the hook then works from a child, whose
# failure reads as the hook's own would (a FIFO the image put where
# nvidia-smi goes)
use_host healthy
cp -a "$ROOTFS" "$SCRATCH/rootfs-fifo"
mkdir -p "$SCRATCH/rootfs-fifo/usr/bin"
rm -f "$SCRATCH/rootfs-fifo/usr/bin/nvidia-smi"
mkfifo "$SCRATCH/rootfs-fifo/usr/bin/nvidia-smi"
run_line() { hook_line | sed 's|/run\.[A-Za-z0-9]*/|/run.X/|'; }
run_runc '["NVIDIA_VISIBLE_DEVICES=0"]' 'true' "$SCRATCH/rootfs-fifo"
IN_PROCESS=$(run_line)
run_runc '["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_REQUIRE_BRAND=brand=tesla"]' 'true' "$SCRATCH/rootfs-fifo"
check "8 NVML loaded, the injection fails: the container does not start" test "$RC" -ne 0
expect_match "8 the hook's line names the FIFO" "nvidia-smi.*FIFO" "$(run_line)"
expect_eq "8 the same line as without NVML" "$IN_PROCESS" "$(run_line)"
use_host cold
doc --slow-nvml-ms 1000
expect_match "8 doctor: persistence mode off and a slow NVML, with the fix" \
    '^\[warn \] persistence: persistence mode off on GPU 0 and NVML took [0-9]+ ms to initialise: every container start pays it -> fix: systemctl enable --now nvidia-persistenced$' \
    "$(line persistence)"

# ---- 9: Failed to initialize NVML: Unknown Error ------------------------------------------------
use_host healthy '"no-cgroups": true'
run_runc '["NVIDIA_VISIBLE_DEVICES=0"]' 'nvidia-smi -L'
expect_match "9 runc, no-cgroups on a rootful engine: NVML's Unknown Error in the container" \
    'Failed to initialize NVML: Unknown Error' "$OUT"
doc
if docker_ok; then
    expect_match "9 doctor: no-cgroups under a rootful dockerd is an error" \
        "^\[error\] no-cgroups: \`$CONF\` sets \"no-cgroups\": true, but dockerd runs as root, outside a user namespace: .*Failed to initialize NVML: Unknown Error.* -> fix: remove \"no-cgroups\" from \`$CONF\`" \
        "$(line no-cgroups)"
    cid=$("$DOCKER" run -d --network none --gpus 1 gctk-test sleep 300 2>&1)
    OUT=$("$DOCKER" exec "$cid" nvidia-smi -L 2>&1)
    expect_match "9 docker $DOCKER_VERSION, no-cgroups: the same Unknown Error" 'Failed to initialize NVML: Unknown Error' "$OUT"
    doc --container "$cid"
    expect_match "9 doctor --container: its device cgroup refuses the GPU it was given" \
        "^\[error\] container devices: \`/dev/nvidiactl\` is in docker container .*, but its device cgroup \(\`.*\`\) refuses it: .*no-cgroups.* -> fix: restart the container" \
        "$(line 'container devices')"
    "$DOCKER" rm -f "$cid" >/dev/null 2>&1
else
    expect_match "9 doctor: no-cgroups with no dockerd to ask is a warning" \
        '^\[warn \] no-cgroups: .*but this machine.s engine runs as root' "$(line no-cgroups)"
fi
use_host healthy
if docker_ok && [ -d "$DEVICES_V1" ]; then
    # what `systemctl daemon-reload` does to a container under the systemd
    # cgroup driver: its device rules again as systemd knows them, without
    # the GPUs the hook allowed
    cid=$("$DOCKER" run -d --network none --gpus 1 gctk-test sleep 300 2>&1)
    OUT=$("$DOCKER" exec "$cid" nvidia-smi -L 2>&1)
    expect_eq "9 docker, before the reload: GPU 0" "$(uuids_of 0)" "$(uuids_seen)"
    cg=$(awk -F: '$2 == "devices" { print $3 }' "/proc/$("$DOCKER" inspect -f '{{.State.Pid}}' "$cid")/cgroup")
    # systemd writes the whole list again (deny all, then what it knows);
    # it knows what runc declared, not what the hook allowed
    uvm=$(stat -c '%t' "$SCRATCH/healthy/dev/nvidia-uvm")
    rules=$(grep -v -e '^c 195:' -e "^c $((16#$uvm)):" "$DEVICES_V1$cg/devices.list")
    echo a >"$DEVICES_V1$cg/devices.deny"
    while IFS= read -r rule; do echo "$rule" >"$DEVICES_V1$cg/devices.allow"; done <<<"$rules"
    OUT=$("$DOCKER" exec "$cid" nvidia-smi -L 2>&1)
    expect_match "9 docker, after the reload: Failed to initialize NVML: Unknown Error" \
        'Failed to initialize NVML: Unknown Error' "$OUT"
    doc --container "$cid"
    expect_eq "9 doctor --container after the reload: exit 1" 1 "$RC"
    expect_match "9 doctor --container: the GPU was taken away, with the fix" \
        "^\[error\] container devices: \`/dev/nvidia(ctl|0)\` is in docker container .*, but its device cgroup \(\`$DEVICES_V1$cg\`\) refuses it: the container lost the GPU after it started \(a \`systemctl daemon-reload\` under the systemd cgroup driver\).* -> fix: restart the container .*CDI.*gctk dev-char-links" \
        "$(line 'container devices')"
    "$DOCKER" rm -f "$cid" >/dev/null 2>&1
fi

# ---- 10: mount error: file exists (driver files baked into an image) ---------------------------
BAKED=$SCRATCH/rootfs-baked
cp -a "$ROOTFS" "$BAKED"
# what an image gets from a driver package: the library under its SONAME
cp "$GCTK_SIM_DIR/libnvidia-ml.so.1" "$BAKED/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1"
run_runc '["NVIDIA_VISIBLE_DEVICES=0"]' 'nvidia-smi -L' "$BAKED"
expect_match "10 runc, a driver file baked into the image: its path in the container" \
    'gctk-hook: `/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1` in the container is a regular file of the image, where the link to `libnvidia-ml.so.580.95.05` goes: left alone; the image carries driver files of its own' \
    "$(hook_line)"
expect_match "10 runc: the fix, removing them from the image" \
    'remove them from the image .*apt-get purge it in the Dockerfile.*gctk doctor --image IMAGE' "$(hook_line)"
check "10 runc: the rootfs path is not in the line" test -z "$(hook_line | grep -F "$SCRATCH/rootfs-")"
if docker_ok; then
    dk_import_image "$BAKED" gctk-baked:latest
    OUT=$(timeout 120 "$DOCKER" run --name gctk-baked-$$ --network none --gpus 1 gctk-baked nvidia-smi -L 2>&1 </dev/null)
    expect_match "10 docker $DOCKER_VERSION: the image path in the container" \
        'gctk-hook: .*`/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1` in the container is a regular file of the image' "$OUT"
    check "10 docker: no overlay2 path in the message" test -z "$(printf '%s' "$OUT" | grep -F -e /overlay2/ -e "$DK_DIR")"
    doc --image gctk-baked --container "gctk-baked-$$"
    if [ "$STORAGE" = overlay2 ]; then
        expect_match "10 doctor --image: the baked file and the fix" \
            '^\[error\] image driver files: image `gctk-baked` carries driver files of its own: `/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1` \(a regular file, where the driver.s link goes\): its GPU containers do not start .* -> fix: remove them from the image' \
            "$(line 'image driver files')"
        expect_match "10 doctor --container on the container that did not start: its files" \
            "^\[warn \] container: docker container \`gctk-baked-$$\` is not running" "$(line container)"
    else
        expect_match "10 doctor --image with storage driver $STORAGE: not readable, said so" \
            "^\[skip \] image driver files: image \`gctk-baked\`: Docker's storage driver \`$STORAGE\` does not say where its files are" \
            "$(line 'image driver files')"
    fi
    "$DOCKER" rm -f "gctk-baked-$$" >/dev/null 2>&1
    # an aarch64 image on an aarch64 host (GH200, GB200) keeps its driver
    # files in its own multiarch directory: doctor reads the directories of
    # the image's architecture and of the host driver's (Docker 20.10 records
    # its own architecture on `docker import --platform`); it judges files by
    # name and place
    BAKED_ARM=$SCRATCH/rootfs-baked-arm64
    mkdir -p "$BAKED_ARM/usr/lib/aarch64-linux-gnu"
    cp "$GCTK_SIM_DIR/libnvidia-ml.so.1" "$BAKED_ARM/usr/lib/aarch64-linux-gnu/libnvidia-ml.so.1"
    E2E_FOREIGN=1 E2E_DEB_ARCH=arm64 dk_import_image "$BAKED_ARM" gctk-baked-arm64:latest ||
        not_ok "import gctk-baked-arm64"
    HOST=$SCRATCH/arm64 doc --image gctk-baked-arm64
    if [ "$STORAGE" = overlay2 ]; then
        expect_match "10 doctor --image of an aarch64 image on an aarch64 host: the file in its aarch64 directory" \
            '^\[error\] image driver files: image `gctk-baked-arm64` carries driver files of its own: `/usr/lib/aarch64-linux-gnu/libnvidia-ml.so.1` \(a regular file, where the driver.s link goes\)' \
            "$(line 'image driver files')"
    fi
    "$DOCKER" rmi gctk-baked-arm64:latest >/dev/null 2>&1
fi

# ---- 11: ldcache error: /sbin/ldconfig.real ---------------------------------------------------
# NVIDIA's CLI runs the ldconfig its config names in the container; gctk
# writes the container's ld.so.cache itself: an image with no ldconfig at all
# (busybox here) still finds libcuda.so.1
NOLDC=$SCRATCH/rootfs-noldconfig
cp -a "$ROOTFS" "$NOLDC"
rm -f "$NOLDC/sbin/ldconfig" "$NOLDC/sbin/ldconfig.real"
run_runc '["NVIDIA_VISIBLE_DEVICES=all"]' 'cuda-devices' "$NOLDC"
expect_match "11 runc, an image without ldconfig: CUDA finds libcuda.so.1 through the cache gctk wrote" \
    '^CUDA driver 13.0, 4 device\(s\)' "$OUT"
if docker_ok; then
    dk_import_image "$NOLDC" gctk-noldconfig:latest || not_ok "import gctk-noldconfig"
    drun --gpus all gctk-noldconfig cuda-devices
    expect_match "11 docker $DOCKER_VERSION: the same" '^CUDA driver 13.0, 4 device\(s\)' "$OUT"
fi
# and the doctor, from inside a running container, finds both through that cache
cp -a "$ROOTFS" "$SCRATCH/rootfs-running"
make_bundle "$SCRATCH/bundle-running" "$SCRATCH/rootfs-running" '["sleep", "300"]' \
    '["NVIDIA_VISIBLE_DEVICES=all"]' "$HOOK_ENV"
at_exit "runc --root '$RUNC_ROOT' delete -f gctk-running-$$ >/dev/null 2>&1"
(cd "$SCRATCH/bundle-running" && runc --root "$RUNC_ROOT" run -d "gctk-running-$$" >/dev/null 2>&1 </dev/null)
doc --container "gctk-running-$$"
runc --root "$RUNC_ROOT" delete -f "gctk-running-$$" >/dev/null 2>&1
expect_match "11 doctor --container on a runc container: libcuda and NVML as its loader finds them" \
    "^\[ ok  \] container libraries: runc container \`gctk-running-$$\`: \`libnvidia-ml.so.1\` -> \`/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.580.95.05\`, \`libcuda.so.1\` -> \`/usr/lib/x86_64-linux-gnu/libcuda.so.580.95.05\`$" \
    "$(line 'container libraries')"

# ---- 12: unknown device ------------------------------------------------------------------------
run_runc '["NVIDIA_VISIBLE_DEVICES=7"]' 'nvidia-smi -L'
expect_match "12 runc, NVIDIA_VISIBLE_DEVICES=7 on 4 GPUs: the GPUs the host has" \
    "gctk-hook: NVIDIA_VISIBLE_DEVICES=7: unknown GPU \`7\`: this host has 0 \(${UUID[0]}, 00000000:18:00.0\), 1 \(${UUID[1]}" \
    "$(hook_line)"
if docker_ok; then
    drun --gpus '"device=7"' gctk-test nvidia-smi -L
    expect_match "12 docker $DOCKER_VERSION --gpus device=7: the same" "unknown GPU .7.: this host has 0 \(${UUID[0]}" "$OUT"
fi
doc
expect_match "12 doctor: the GPUs NVML sees, the ids to use" \
    "^\[ ok  \] gpu 3: NVIDIA H100 80GB HBM3, ${UUID[3]}, 00000000:5d:00.0" "$(line 'gpu 3')"

# ---- nothing left -------------------------------------------------------------------------------
docker_ok && dk_stop
expect_eq "no mount of the suite left on the host" 0 "$(host_mounts)"
