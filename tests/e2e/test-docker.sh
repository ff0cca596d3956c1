#!/usr/bin/env bash
# Docker end to end: a private dockerd (Debian's docker.io: 20.10 on Debian
# 12, 26.1 on Debian 13) configured by `gctk runtime configure`, on a
# simulated 4-GPU host. `docker run --gpus` goes through Docker's own nvidia
# driver, which adds gctk-hook (installed as nvidia-container-runtime-hook) as
# prestart hook; `--runtime=nvidia` goes through gctk-runtime; on Docker 25
# and later, `--device nvidia.com/gpu=N` goes through Docker's CDI with a spec
# from `gctk cdi generate`, once `gctk runtime configure --cdi.enabled` has
# turned it on. Each container must see exactly what it asked for, and each
# Docker version is held to what it really does (docs/docker-e2e.md).
# Also: `gctk runtime configure` through the real CLI.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/docker-lib.sh"

need_root "docker end to end" || exit 0
missing=$(dk_missing)
if [ -n "$missing" ]; then skip "docker end to end" "missing: $missing"; exit 0; fi
dk_versions
e2e_arch_ready "docker end to end" || exit 0

# ---- gctk runtime configure through the CLI (no daemon needed) -------------
DJ=$SCRATCH/dj
RT=$(cd "$GCTK_BUILD" && pwd)/cmd/gctk-runtime

OUT=$("$GCTK" runtime configure --runtime=docker --config "$DJ/new/daemon.json" --runtime-path "$RT" 2>&1)
RC=$?
expect_eq "configure, missing file: exit 0" 0 "$RC"
expect_match "configure, missing file: says what it did and how to apply it" \
    "configured the .nvidia. runtime \($RT\) in .$DJ/new/daemon.json. restart docker to apply it: systemctl restart docker" \
    "$(printf '%s' "$OUT" | tr '\n' ' ')"
expect_eq "configure, missing file: created with the runtime" \
    "{\"runtimes\":{\"nvidia\":{\"path\":\"$RT\",\"args\":[]}}}" "$(jq -c . "$DJ/new/daemon.json")"
expect_eq "configure, missing file: mode 0644" 644 "$(stat -c %a "$DJ/new/daemon.json")"

mkdir -p "$DJ/keep"
cat >"$DJ/keep/daemon.json" <<'EOF'
{
  "log-level": "warn",
  "runtimes": {"other": {"path": "/usr/bin/other-runtime"}},
  "registry-mirrors": ["https://mirror.example"],
  "debug": false
}
EOF
OUT=$("$GCTK" runtime configure --runtime=docker --config "$DJ/keep/daemon.json" --runtime-path "$RT" \
    --set-as-default 2>&1)
expect_eq "configure, other settings: exit 0" 0 "$?"
expect_eq "configure, other settings: every key kept, in order, new ones last" \
    "log-level runtimes registry-mirrors debug default-runtime" \
    "$(jq -r 'keys_unsorted | join(" ")' "$DJ/keep/daemon.json")"
expect_eq "configure, other settings: the other runtime kept beside nvidia" \
    "other=/usr/bin/other-runtime nvidia=$RT default=nvidia" \
    "$(jq -r '[(.runtimes | to_entries[] | "\(.key)=\(.value.path)"), "default=\(.["default-runtime"])"] | join(" ")' "$DJ/keep/daemon.json")"
check "configure, other settings: the old content is kept in daemon.json.bak" \
    test "$(jq -c . "$DJ/keep/daemon.json.bak")" = \
    '{"log-level":"warn","runtimes":{"other":{"path":"/usr/bin/other-runtime"}},"registry-mirrors":["https://mirror.example"],"debug":false}'

before=$(stat -c '%i %Y %s' "$DJ/keep/daemon.json"; md5sum <"$DJ/keep/daemon.json")
sleep 1 # an mtime change would show
OUT=$("$GCTK" runtime configure --runtime=docker --config "$DJ/keep/daemon.json" --runtime-path "$RT" \
    --set-as-default 2>&1)
expect_eq "configure, second run: exit 0" 0 "$?"
expect_match "configure, second run: says nothing changed" "already configured: nothing changed" "$OUT"
expect_eq "configure, second run: the file is not rewritten (inode, mtime, content)" "$before" \
    "$(stat -c '%i %Y %s' "$DJ/keep/daemon.json"; md5sum <"$DJ/keep/daemon.json")"

printf '{\n  "debug": true,\n  oops\n}\n' >"$DJ/bad.json"
before=$(md5sum <"$DJ/bad.json")
OUT=$("$GCTK" runtime configure --runtime=docker --config "$DJ/bad.json" --runtime-path "$RT" 2>&1)
expect_eq "configure, invalid JSON: exit 1" 1 "$?"
expect_match "configure, invalid JSON: names the file, line and column and the fix" \
    "^gctk: .$DJ/bad.json. line 3 column [0-9]+: .*fix the file or move it away$" "$OUT"
expect_eq "configure, invalid JSON: the file is unchanged" "$before" "$(md5sum <"$DJ/bad.json")"
check "configure, invalid JSON: no backup, no temporary file" test "$(ls "$DJ")" = "$(printf 'bad.json\nkeep\nnew')"

OUT=$("$GCTK" runtime configure --runtime=lxc --config "$DJ/x.json" 2>&1)
expect_eq "configure, unknown engine: exit 1" 1 "$?"
expect_match "configure, unknown engine: says which it can configure" "unknown runtime .lxc.: gctk can configure docker, containerd, crio and podman" "$OUT"

# ---- a private dockerd on a simulated 4-GPU host -------------------------
HOST=$SCRATCH/host
"$GCTK" sim create "$HOST" --gpus 4 "${E2E_SIM_ARGS[@]}" >/dev/null || { not_ok "gctk sim create"; exit 1; }
CDI_DIR=$SCRATCH/cdi
# gctk-runtime reads the CDI specs where Docker does: it hands the mounts of a
# spec Docker applied to the spec's hook (docs/cdi.md)
cat >"$SCRATCH/gctk.conf" <<EOF
{"root": "$HOST", "log": "$SCRATCH/hook.log", "cdi-spec-dirs": ["$CDI_DIR"]}
EOF
export GCTK_CONFIG=$SCRATCH/gctk.conf
mapfile -t UUID < <("$GCTK" info --json --no-nvml | jq -r '.gpus[].uuid')
expect_eq "the simulated host has 4 GPUs" 4 "${#UUID[@]}"

at_exit dk_stop
mkdir -p "$CDI_DIR"
# Docker 25 and later read CDI specs from cdi-spec-dirs (the daemon's own
# setting, kept by `gctk runtime configure`); 20.10 refuses the key
version_ge "$DOCKER_VERSION" 25 && DK_DAEMON_SETTINGS="{\"cdi-spec-dirs\": [\"$CDI_DIR\"]}"
if ! dk_start "$SCRATCH/docker" "$GCTK_CONFIG" 2>"$SCRATCH/start.err"; then
    not_ok "the private dockerd starts"; diag <"$SCRATCH/start.err"; exit 1
fi
ok "the private dockerd starts (configured by gctk runtime configure)"
DOCKERD_PID=$DK_DOCKERD_PID
CONTAINERD_PID=$DK_CONTAINERD_PID

expect_match "docker info lists the nvidia runtime" "Runtimes:.* nvidia( |$)" "$("$DOCKER" info 2>/dev/null)"
expect_eq "the nvidia runtime is gctk-runtime" "$RT" \
    "$("$DOCKER" info --format '{{(index .Runtimes "nvidia").Path}}' 2>/dev/null)"

ROOTFS=$SCRATCH/rootfs
make_rootfs "$ROOTFS"
if dk_import_image "$ROOTFS" gctk-test:latest; then ok "image imported from a local rootfs"; else
    not_ok "image imported from a local rootfs"; exit 1
fi
MOUNTS_UP=$(dk_mounts "$SCRATCH")

# drun ARGS...: docker run --rm --network none ARGS; output in $OUT, status in $RC
drun() {
    OUT=$(timeout 60 "$DOCKER" run --rm --network none "$@" 2>&1 </dev/null)
    RC=$?
}
uuids_seen() { printf '%s\n' "$OUT" | grep -o 'GPU-[0-9a-f-]*' | sort | tr '\n' ' '; }
uuids_of() { for i in "$@"; do echo "${UUID[$i]}"; done | sort | tr '\n' ' '; }

drun --gpus all gctk-test nvidia-smi -L
expect_eq "--gpus all: nvidia-smi -L lists the 4 GPUs" "$(uuids_of 0 1 2 3)" "$(uuids_seen)"

drun --gpus 2 gctk-test sh -c 'nvidia-smi -L; ls /dev/nvidia[0-9]*'
expect_eq "--gpus 2: GPUs 0 and 1" "$(uuids_of 0 1)" "$(uuids_seen)"
expect_eq "--gpus 2: only their device nodes" "/dev/nvidia0 /dev/nvidia1" \
    "$(printf '%s\n' "$OUT" | grep '^/dev/' | sort | tr '\n' ' ' | sed 's/ $//')"

drun --gpus '"device=0,3"' gctk-test nvidia-smi -L
expect_eq "--gpus '\"device=0,3\"': GPUs 0 and 3" "$(uuids_of 0 3)" "$(uuids_seen)"

drun --gpus "\"device=${UUID[2]}\"" gctk-test nvidia-smi -L
expect_eq "--gpus '\"device=GPU-<uuid>\"': that GPU" "$(uuids_of 2)" "$(uuids_seen)"

drun --gpus '"capabilities=utility"' gctk-test sh -c \
    "echo caps=\$NVIDIA_DRIVER_CAPABILITIES; nvidia-smi -L; ls $E2E_LIBDIR | grep -c libcuda"
expect_match "--gpus capabilities=utility: Docker asks for utility" "caps=utility" "$OUT"
expect_eq "--gpus capabilities=utility: one GPU (no count means 1), nvidia-smi works" "$(uuids_of 0)" "$(uuids_seen)"
expect_eq "--gpus capabilities=utility: no libcuda in the container" 0 "$(printf '%s\n' "$OUT" | tail -n 1)"

drun --gpus 1 gctk-test sh -c "ls $E2E_LIBDIR/libcuda.so.1 && echo rc=\$?"
expect_match "--gpus 1: libcuda with the default capabilities (utility,compute)" "rc=0" "$OUT"

drun --runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=1 gctk-test nvidia-smi -L
expect_eq "--runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=1: GPU 1 through gctk-runtime" "$(uuids_of 1)" "$(uuids_seen)"

drun --runtime=nvidia gctk-test sh -c 'ls /dev/nvidiactl /usr/bin/nvidia-smi 2>&1; echo rc=$?'
expect_match "--runtime=nvidia without NVIDIA_VISIBLE_DEVICES: nothing injected" "rc=1" "$OUT"

drun --gpus 9 gctk-test echo started
check "--gpus 9 on 4 GPUs: the container does not start" test "$RC" -ne 0 -a -z "$(printf '%s' "$OUT" | grep -x started)"
expect_match "--gpus 9 on 4 GPUs: the user is told it is a count beyond the host's GPUs" \
    "gctk-hook: NVIDIA_VISIBLE_DEVICES=0,1,2,3,4,5,6,7,8: 9 GPUs asked for \(ids 0 to 8: what .docker run --gpus 9. and Compose's .count: 9. ask for\) but this host has 4: 0 \(${UUID[0]}, .*3 \(${UUID[3]}, [^)]*\); ask for at most 4, or for all" \
    "$OUT"
printf '%s\n' "$OUT" | diag

drun --gpus '"device=7"' gctk-test echo started
check "--gpus device=7: the container does not start" test "$RC" -ne 0
expect_match "--gpus device=7: the message names the host's GPUs" "unknown GPU .7.: this host has 0 \(${UUID[0]}" "$OUT"

drun gctk-test sh -c 'ls -d /dev/nvidia* 2>&1; ls /usr/bin/nvidia-smi 2>&1; nvidia-smi -L 2>&1; echo end'
check "no --gpus: no /dev/nvidia*" test -z "$(printf '%s\n' "$OUT" | grep '^/dev/nvidia')"
expect_match "no --gpus: no nvidia-smi" "nvidia-smi: not found" "$OUT"
expect_eq "no --gpus: no GPU listed" "" "$(uuids_seen)"

expect_eq "no mount left by the containers" "$MOUNTS_UP" "$(dk_mounts "$SCRATCH")"

# ---- CDI: docker run --device nvidia.com/gpu=N ----------------------------
cdi_run() { drun --device "$@" gctk-test sh -c 'nvidia-smi -L; ls /dev/nvidia[0-9]*' ; }
nodes_seen() { printf '%s\n' "$OUT" | grep '^/dev/' | sort | tr '\n' ' ' | sed 's/ $//'; }
"$GCTK" cdi generate --root "$HOST" --output "$CDI_DIR/nvidia.yaml" >/dev/null 2>&1
expect_eq "gctk cdi generate writes the spec of kind nvidia.com/gpu" "kind: nvidia.com/gpu" \
    "$(grep '^kind:' "$CDI_DIR/nvidia.yaml")"
if version_ge "$DOCKER_VERSION" 25; then
    # CDI is off until daemon.json says "features": {"cdi": true}: Docker then
    # has no "cdi" device driver for the request
    cdi_run nvidia.com/gpu=0
    check "Docker $DOCKER_VERSION without the cdi feature: --device nvidia.com/gpu=0 fails" test "$RC" -ne 0
    expect_match "Docker $DOCKER_VERSION without the cdi feature: its message" \
        'could not select device driver "cdi" with capabilities: \[\]' "$OUT"
fi
OUT=$("$GCTK" runtime configure --runtime=docker --config "$DK_DAEMON_JSON" --runtime-path "$RT" \
    --cdi.enabled 2>&1)
expect_eq "gctk runtime configure --cdi.enabled: exit 0" 0 "$?"
expect_eq "gctk runtime configure --cdi.enabled: features.cdi is true, the runtime kept" "true $RT" \
    "$(jq -r '"\(.features.cdi) \(.runtimes.nvidia.path)"' "$DK_DAEMON_JSON")"
if dk_restart 2>"$SCRATCH/restart.err"; then
    ok "dockerd $DOCKER_VERSION restarts with \"features\": {\"cdi\": true}"
else
    not_ok "dockerd $DOCKER_VERSION restarts with \"features\": {\"cdi\": true}"; diag <"$SCRATCH/restart.err"; exit 1
fi
DOCKERD_PID=$DK_DOCKERD_PID
MOUNTS_UP=$(dk_mounts "$SCRATCH")
if version_ge "$DOCKER_VERSION" 25; then
    expect_eq "docker info: CDI spec directories are the daemon.json's" "[\"$CDI_DIR\"]" \
        "$("$DOCKER" info --format '{{json .CDISpecDirs}}' 2>&1)"
    cdi_run nvidia.com/gpu=0
    expect_eq "--device nvidia.com/gpu=0: GPU 0" "$(uuids_of 0)" "$(uuids_seen)"
    expect_eq "--device nvidia.com/gpu=0: only its device node" "/dev/nvidia0" "$(nodes_seen)"
    cdi_run nvidia.com/gpu=1 --device nvidia.com/gpu=3
    expect_eq "--device nvidia.com/gpu=1 --device nvidia.com/gpu=3: GPUs 1 and 3" "$(uuids_of 1 3)" "$(uuids_seen)"
    drun --device nvidia.com/gpu=all gctk-test sh -c \
        "nvidia-smi -L; readlink $E2E_LIBDIR/libcuda.so; ls /proc/driver/nvidia/gpus | wc -l"
    expect_eq "--device nvidia.com/gpu=all: the 4 GPUs" "$(uuids_of 0 1 2 3)" "$(uuids_seen)"
    expect_match "--device nvidia.com/gpu=all: libcuda.so -> libcuda.so.1 (the spec's hook)" "^libcuda.so.1$" "$OUT"
    expect_eq "--device nvidia.com/gpu=all: /proc/driver/nvidia/gpus has the 4" 4 "$(printf '%s\n' "$OUT" | tail -n 1)"
    check "the spec gives the driver's files to its hook, none to the runtime" \
        test "$(spec_mounts "$CDI_DIR/nvidia.yaml")" -gt 10 -a "$(spec_runtime_mounts "$CDI_DIR/nvidia.yaml")" -eq 0
    expect_eq "--device nvidia.com/gpu=all with Docker's default runtime (runc): the spec's hook made its mounts" \
        "$(spec_mounts "$CDI_DIR/nvidia.yaml")" "$(cdi_mounts_made "$SCRATCH/hook.log")"
    drun --runtime=nvidia --device nvidia.com/gpu=2 gctk-test sh -c \
        "nvidia-smi -L; readlink $E2E_LIBDIR/libcuda.so"
    expect_eq "--runtime=nvidia --device nvidia.com/gpu=2: GPU 2" "$(uuids_of 2)" "$(uuids_seen)"
    expect_eq "--runtime=nvidia --device nvidia.com/gpu=2: the spec's hook made its mounts, not runc" \
        "$(spec_mounts "$CDI_DIR/nvidia.yaml")" "$(cdi_mounts_made "$SCRATCH/hook.log")"
    # a spec of --runtime-mounts (as earlier gctk versions wrote): Docker
    # applies it, runc makes the mounts; through gctk-runtime its hook does
    "$GCTK" cdi generate --root "$HOST" --runtime-mounts --output "$CDI_DIR/nvidia.yaml" >/dev/null
    drun --device nvidia.com/gpu=all gctk-test nvidia-smi -L
    expect_eq "--runtime-mounts spec, --device nvidia.com/gpu=all: the 4 GPUs" "$(uuids_of 0 1 2 3)" "$(uuids_seen)"
    expect_eq "--runtime-mounts spec, Docker's default runtime: runc made the spec's mounts" 0 \
        "$(cdi_mounts_made "$SCRATCH/hook.log")"
    drun --runtime=nvidia --device nvidia.com/gpu=2 gctk-test nvidia-smi -L
    expect_eq "--runtime-mounts spec through gctk-runtime: the spec's hook made its mounts, not runc" \
        "$(spec_runtime_mounts "$CDI_DIR/nvidia.yaml")" "$(cdi_mounts_made "$SCRATCH/hook.log")"
    "$GCTK" cdi generate --root "$HOST" --output "$CDI_DIR/nvidia.yaml" >/dev/null
    cdi_run nvidia.com/gpu=7
    check "--device nvidia.com/gpu=7: the container does not start" test "$RC" -ne 0
    expect_match "--device nvidia.com/gpu=7: Docker's message names the device" \
        "CDI device injection failed: unresolvable CDI devices nvidia.com/gpu=7" "$OUT"
elif ! version_ge "$DOCKER_CLI_VERSION" 25; then
    # the client before 25 takes --device as a path and refuses the name
    # itself; dockerd 20.10 starts with the cdi feature set and ignores it
    cdi_run nvidia.com/gpu=0
    check "docker $DOCKER_CLI_VERSION: --device nvidia.com/gpu=0 fails" test "$RC" -ne 0
    expect_match "docker $DOCKER_CLI_VERSION: --device nvidia.com/gpu=0 is not a path" \
        "nvidia.com/gpu=0 is not an absolute path" "$OUT"
    drun --gpus all gctk-test nvidia-smi -L
    expect_eq "dockerd $DOCKER_VERSION with the cdi feature set: --gpus all still gives the 4 GPUs" \
        "$(uuids_of 0 1 2 3)" "$(uuids_seen)"
else
    skip "docker run --device nvidia.com/gpu=0" "no recorded behaviour for docker $DOCKER_CLI_VERSION with dockerd $DOCKER_VERSION"
fi

expect_match "the hook logged Docker's requests" "NVIDIA_VISIBLE_DEVICES=0,3 -> 2 GPU\(s\)" "$(cat "$SCRATCH/hook.log")"
expect_eq "CDI containers: no mount left" "$MOUNTS_UP" "$(dk_mounts "$SCRATCH")"
expect_eq "no container left" "" "$("$DOCKER" ps -aq 2>&1)"

dk_stop
check "dockerd and containerd are gone" test ! -e "/proc/$DOCKERD_PID" -a ! -e "/proc/$CONTAINERD_PID"
expect_eq "no mount left after the daemon stops" "" "$(dk_mounts "$SCRATCH")"
check "the daemon's directory is removed" test ! -e "$SCRATCH/docker"
