#!/usr/bin/env bash
# Docker end to end: a private dockerd (Debian's docker.io 20.10) configured by
# `gctk runtime configure`, on a simulated 4-GPU host. `docker run --gpus`
# goes through Docker's own nvidia driver, which adds gctk-hook (installed as
# nvidia-container-runtime-hook) as prestart hook; `--runtime=nvidia` goes
# through gctk-runtime. Each container must see exactly what it asked for.
# Also: `gctk runtime configure` through the real CLI.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/docker-lib.sh"

need_root "docker end to end" || exit 0
missing=$(dk_missing)
if [ -n "$missing" ]; then skip "docker end to end" "missing: $missing"; exit 0; fi

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
"$GCTK" sim create "$HOST" --gpus 4 >/dev/null || { not_ok "gctk sim create"; exit 1; }
cat >"$SCRATCH/gctk.conf" <<EOF
{"root": "$HOST", "log": "$SCRATCH/hook.log"}
EOF
export GCTK_CONFIG=$SCRATCH/gctk.conf
mapfile -t UUID < <("$GCTK" info --json --no-nvml | jq -r '.gpus[].uuid')
expect_eq "the simulated host has 4 GPUs" 4 "${#UUID[@]}"

at_exit dk_stop
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
    'echo caps=$NVIDIA_DRIVER_CAPABILITIES; nvidia-smi -L; ls /usr/lib/x86_64-linux-gnu | grep -c libcuda'
expect_match "--gpus capabilities=utility: Docker asks for utility" "caps=utility" "$OUT"
expect_eq "--gpus capabilities=utility: one GPU (no count means 1), nvidia-smi works" "$(uuids_of 0)" "$(uuids_seen)"
expect_eq "--gpus capabilities=utility: no libcuda in the container" 0 "$(printf '%s\n' "$OUT" | tail -n 1)"

drun --gpus 1 gctk-test sh -c 'ls /usr/lib/x86_64-linux-gnu/libcuda.so.1 && echo rc=$?'
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

expect_match "the hook logged Docker's requests" "NVIDIA_VISIBLE_DEVICES=0,3 -> 2 GPU\(s\)" "$(cat "$SCRATCH/hook.log")"
expect_eq "no mount left by the containers" "$MOUNTS_UP" "$(dk_mounts "$SCRATCH")"
expect_eq "no container left" "" "$("$DOCKER" ps -aq 2>&1)"

dk_stop
check "dockerd and containerd are gone" test ! -e "/proc/$DOCKERD_PID" -a ! -e "/proc/$CONTAINERD_PID"
expect_eq "no mount left after the daemon stops" "" "$(dk_mounts "$SCRATCH")"
check "the daemon's directory is removed" test ! -e "$SCRATCH/docker"
