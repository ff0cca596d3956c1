#!/usr/bin/env bash
# gctk doctor end to end: the command's lines, fixes, --json and exit status
# on a simulated host, healthy and broken; then against a private dockerd
# (its own socket, data-root, exec-root, pidfile and key under SCRATCH;
# Debian 12's 20.10 or Debian 13's 26.1, held to its own version)
# before `gctk runtime configure` (runtime and hook missing: errors
# with their fixes), after it (restart needed: an error) and after a restart
# (ok). The dockerd is stopped by its pid at exit, whatever happens.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/docker-lib.sh"

need_root "doctor end to end" || exit 0

HOST=$SCRATCH/host
"$GCTK" sim create "$HOST" --gpus 2 >/dev/null || { not_ok "gctk sim create"; exit 1; }
echo "{\"root\": \"$HOST\"}" >"$SCRATCH/gctk.conf"
mkdir -p "$SCRATCH/cdi" "$SCRATCH/bin"
NOSOCK="unix://$SCRATCH/none.sock"
DOC=("$GCTK" doctor --root "$HOST" --config "$SCRATCH/gctk.conf" --cdi-dir "$SCRATCH/cdi")

# line CHECK: the first line of that check in $OUT
line() { printf '%s\n' "$OUT" | grep -m1 -F "] $1: " || true; }

# ---- the simulated host, no Docker --------------------------------------------------------
# crun, asked its version for the podman line, makes its state directory
# whatever the command: the doctor gives it one of its own and leaves none
CRUN_STATE_BEFORE=$([ -e /run/crun ] && echo yes || echo no)
remove_at_exit_if_new /run/crun
OUT=$("${DOC[@]}" --docker-host "$NOSOCK" --daemon-json "$SCRATCH/none.json" 2>&1); RC=$?
if ! printf '%s\n' "$OUT" | grep -q '^\[[a-z ]*\] podman: .* with crun [0-9]'; then
    skip "doctor: crun asked its version, nothing left" "the podman line does not name crun"
elif [ "$CRUN_STATE_BEFORE" = yes ]; then
    skip "doctor: crun asked its version, nothing left" "/run/crun was there before"
else
    expect_eq "doctor: crun asked its version, nothing left (/run/crun, gctk-doctor.*)" "" \
        "$(ls -d /run/crun "${TMPDIR:-/tmp}"/gctk-doctor.* 2>/dev/null)"
fi
expect_eq "doctor: no Docker is an error (exit 1)" 1 "$RC"
expect_eq "doctor: driver line" "[ ok  ] driver: kernel module 580.95.05 loaded" "$(line driver)"
expect_match "doctor: device nodes ok" '^\[ ok  \] device nodes: 6 of 6 present' "$(line 'device nodes')"
expect_match "doctor: nvml ok with its time" '^\[ ok  \] nvml: initialised in [0-9]+ ms: driver 580.95.05, CUDA 13.0$' "$(line nvml)"
expect_match "doctor: GPU 1 as NVML sees it" '^\[ ok  \] gpu 1: NVIDIA H100 80GB HBM3, GPU-.*, 00000000:2a:00.0, 81559 MiB, persistence on$' "$(line 'gpu 1')"
expect_match "doctor: no Docker daemon, with the fix" '^\[error\] docker: no Docker daemon at .* -> fix: ' "$(line docker)"
expect_match "doctor: daemon.json missing is Docker's defaults" '^\[ ok  \] daemon.json: .* does not exist' "$(line daemon.json)"
expect_match "doctor: config ok" '^\[ ok  \] config: .*gctk.conf` is valid' "$(line config)"

JSON=$("${DOC[@]}" --docker-host "$NOSOCK" --daemon-json "$SCRATCH/none.json" --json 2>&1)
expect_eq "doctor --json: the driver entry" '"ok" "kernel module 580.95.05 loaded" null' \
    "$(printf '%s' "$JSON" | jq -c '.[] | select(.check == "driver") | .status, .message, .fix' | tr '\n' ' ' | sed 's/ $//')"
expect_eq "doctor --json: every entry has check, status, message, fix" 0 \
    "$(printf '%s' "$JSON" | jq '[.[] | select((.check|type) != "string" or (.status|type) != "string" or (.message|type) != "string" or has("fix") | not)] | length')"

# the mismatch case: the module is upgraded, the libraries are not
cp -a "$HOST" "$SCRATCH/broken"
rm -f "$SCRATCH/broken/proc/driver/nvidia/version"
echo "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.105.08  Sun Nov  2 10:00:00 UTC 2026" \
    >"$SCRATCH/broken/proc/driver/nvidia/version"
OUT=$("$GCTK" doctor --root "$SCRATCH/broken" --config "$SCRATCH/gctk.conf" --cdi-dir "$SCRATCH/cdi" \
      --docker-host "$NOSOCK" 2>&1)
expect_match "doctor: driver/library version mismatch, with the fix" \
    '^\[error\] libraries: driver/library version mismatch: kernel module 580.105.08, libraries 580.95.05 \(`.*/libnvidia-ml.so.580.95.05`\) -> fix: install the user-space libraries of driver 580.105.08' \
    "$(line libraries)"
expect_match "doctor: NVML says it too" '^\[error\] nvml: .*Driver/library version mismatch -> fix: ' "$(line nvml)"

# a stale CDI spec
cat >"$SCRATCH/cdi/nvidia.json" <<EOF
{"cdiVersion": "0.5.0", "kind": "nvidia.com/gpu",
 "devices": [{"name": "0", "containerEdits": {"deviceNodes": [{"path": "/dev/nvidia0"}]}}],
 "containerEdits": {"mounts": [{"hostPath": "/usr/lib/x86_64-linux-gnu/libcuda.so.570.86.15",
   "containerPath": "/usr/lib/x86_64-linux-gnu/libcuda.so.570.86.15"}]}}
EOF
OUT=$("${DOC[@]}" --docker-host "$NOSOCK" 2>&1)
expect_match "doctor: stale CDI spec, with the fix" \
    "^\[error\] cdi: stale spec .*570.86.15.* -> fix: gctk cdi generate --output $SCRATCH/cdi/nvidia.json$" "$(line cdi)"
# the same file given to gctk's hook, as gctk's specs give the driver's files
cat >"$SCRATCH/cdi/nvidia.json" <<EOF
{"cdiVersion": "0.5.0", "kind": "nvidia.com/gpu",
 "devices": [{"name": "0", "containerEdits": {"deviceNodes": [{"path": "/dev/nvidia0"}]}}],
 "containerEdits": {"hooks": [{"hookName": "createContainer", "path": "/usr/bin/gctk",
   "args": ["gctk", "hook", "create-container", "--mount",
     "/usr/lib/x86_64-linux-gnu/libcuda.so.570.86.15::/usr/lib/x86_64-linux-gnu/libcuda.so.570.86.15::ro,bind"],
   "env": ["PATH=/usr/bin:/bin"]}]}}
EOF
OUT=$("${DOC[@]}" --docker-host "$NOSOCK" 2>&1)
expect_match "doctor: stale CDI spec whose hook mounts the file, with the fix" \
    "^\[error\] cdi: stale spec .*570.86.15.* -> fix: gctk cdi generate --output $SCRATCH/cdi/nvidia.json$" "$(line cdi)"
# a spec of this host: its hook's mounts counted and present
"$GCTK" cdi generate --root "$HOST" --output "$SCRATCH/cdi/nvidia.json" >/dev/null
OUT=$("${DOC[@]}" --docker-host "$NOSOCK" 2>&1)
expect_match "doctor: gctk's spec of this host: its hook's mounts counted, present" \
    "^\[ ok  \] cdi: .*nvidia.json.: nvidia.com/gpu, [0-9]+ devices, [0-9]+ nodes and [1-9][0-9]+ mounts present" "$(line cdi)"
rm -f "$SCRATCH/cdi/nvidia.json"

OUT=$("${DOC[@]}" --docker-host "$NOSOCK" --cuda 12.4 2>&1)
expect_match "doctor --cuda: native" '^\[ ok  \] cuda: CUDA 12.4: .*natively' "$(line cuda)"
"${DOC[@]}" --cuda nope >/dev/null 2>&1
expect_eq "doctor --cuda with a bad version: usage error" 2 "$?"

# ---- a private dockerd ----------------------------------------------------------------
if ! command -v dockerd >/dev/null; then
    skip "doctor against dockerd" "dockerd is not installed"
    exit 0
fi
versions "dockerd $DOCKER_VERSION"
# start_dockerd pings the API on the socket with curl
if ! command -v curl >/dev/null; then
    not_ok "doctor against dockerd: curl is not installed (\`make check\` installs it)"
    exit 1
fi
D=$SCRATCH/d
mkdir -p "$D"
# dockerd (and the containerd it starts when given none) make these whatever
# their flags say: its plugin sockets; containerd's state and opt plugin dirs
remove_at_exit_if_new /run/docker /run/containerd /opt/containerd
echo '{}' >"$D/daemon.json"
dk_daemon_json "$D/daemon.json" "$D"
SOCK=unix://$D/docker.sock
DOCKERD_PID=
# dockerd's PATH: the system's dirs through links, less any hook a package or
# another suite installed there, so that the test decides where the hook is
mkdir -p "$SCRATCH/sysbin"
for dir in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin; do
    ln -s "$dir"/* "$SCRATCH/sysbin/" 2>/dev/null
done
rm -f "$SCRATCH/sysbin/nvidia-container-runtime-hook"

start_dockerd() {
    rm -f "$D/docker.sock"
    # SCRATCH/bin is where the hook goes
    env -i PATH="$SCRATCH/bin:$SCRATCH/sysbin" \
        dockerd --config-file "$D/daemon.json" -H "$SOCK" --data-root "$D/data" \
        --exec-root "$D/exec" --pidfile "$D/docker.pid" --iptables=false --bridge=none \
        --storage-driver=vfs >"$D/dockerd.log" 2>&1 &
    DOCKERD_PID=$!
    for _ in $(seq 1 300); do
        curl -sf --unix-socket "$D/docker.sock" http://docker/_ping >/dev/null 2>&1 && return 0
        kill -0 "$DOCKERD_PID" 2>/dev/null || break
        sleep 0.1
    done
    diag <"$D/dockerd.log"
    return 1
}

stop_dockerd() {
    [ -n "$DOCKERD_PID" ] || return 0
    kill -TERM "$DOCKERD_PID" 2>/dev/null
    for _ in $(seq 1 200); do
        kill -0 "$DOCKERD_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$DOCKERD_PID" 2>/dev/null
    wait "$DOCKERD_PID" 2>/dev/null
    DOCKERD_PID=
}
# whatever happens: dockerd stopped, and what it left mounted under D taken down
at_exit 'stop_dockerd; for m in $(awk -v d="$D/" '"'"'index($5, d) == 1 { print $5 }'"'"' /proc/self/mountinfo); do umount -l "$m"; done'

if ! start_dockerd; then
    not_ok "start a private dockerd"
    exit 1
fi
ok "start a private dockerd"
DOCKER=("${DOC[@]}" --docker-host "$SOCK" --daemon-json "$D/daemon.json")

OUT=$("${DOCKER[@]}" 2>&1); RC=$?
expect_eq "before configure: exit 1" 1 "$RC"
expect_match "before configure: Docker $DOCKER_VERSION found" "^\[ ok  \] docker: Docker ${DOCKER_VERSION//./\\.}[^ ]* \(API [0-9.]+\) at \`$SOCK\`" "$(line docker)"
expect_match "before configure: runtime missing, with the fix" \
    "^\[error\] docker runtime: \`$D/daemon.json\` has no \"nvidia\" runtime -> fix: gctk runtime configure --runtime=docker --config $D/daemon.json && systemctl restart docker$" \
    "$(line 'docker runtime')"
expect_match "before configure: hook missing from dockerd's own PATH, with the fix" \
    "^\[error\] docker hook: \`nvidia-container-runtime-hook\` is not on dockerd's PATH \($SCRATCH/bin:.*could not select device driver .* -> fix: ln -s .*gctk-hook $SCRATCH/bin/nvidia-container-runtime-hook && systemctl restart docker$" \
    "$(line 'docker hook')"
expect_match "before configure: dockerd found by its -H, nothing to restart for" \
    "^\[ ok  \] docker restart: dockerd \(pid $DOCKERD_PID\) runs with the current" "$(line 'docker restart')"

# Docker's CDI: none in 20.10; off in 26.1 until daemon.json turns it on
CDI_ARGS=()
if version_ge "$DOCKER_VERSION" 25; then
    expect_match "before configure: dockerd $DOCKER_VERSION has CDI off, and how to turn it on" \
        "^\[ ok  \] docker cdi: Docker ${DOCKER_VERSION//./\\.}[^ ]* has CDI off: --gpus works; .docker run --device nvidia.com/gpu=0. would fail with .could not select device driver \"cdi\" with capabilities: \[\]. \(.gctk runtime configure --cdi. turns it on\)$" \
        "$(line 'docker cdi')"
    CDI_ARGS=(--cdi)
    # CDI on wants a spec: doctor calls daemon.json's CDI without one an error
    "$GCTK" cdi generate --root "$HOST" --output "$SCRATCH/cdi/nvidia.yaml" >/dev/null
else
    expect_match "before configure: dockerd $DOCKER_VERSION has no CDI" \
        "^\[ ok  \] docker cdi: Docker ${DOCKER_VERSION//./\\.}[^ ]* has no CDI \(Docker 25 and later have it\): GPUs come through --gpus and the nvidia runtime$" \
        "$(line 'docker cdi')"
fi

ln -s "$GCTK_HOOK" "$SCRATCH/bin/nvidia-container-runtime-hook"
# as if installed a while after dockerd started (doctor allows 2 s of clock slack)
touch -h -d '+10 seconds' "$SCRATCH/bin/nvidia-container-runtime-hook"
"$GCTK" runtime configure --runtime=docker --config "$D/daemon.json" --runtime-path "$GCTK_RUNTIME" \
    "${CDI_ARGS[@]}" >/dev/null
check "gctk runtime configure ${CDI_ARGS[*]}" test "$?" = 0

OUT=$("${DOCKER[@]}" 2>&1); RC=$?
expect_eq "after configure, before the restart: an error (exit 1)" 1 "$RC"
expect_match "after configure: runtime ok" \
    "^\[ ok  \] docker runtime: .* registers the \"nvidia\" runtime: \`$GCTK_RUNTIME\`" "$(line 'docker runtime')"
expect_match "after configure: hook ok" \
    "^\[ ok  \] docker hook: \`$SCRATCH/bin/nvidia-container-runtime-hook\` is on dockerd's PATH" "$(line 'docker hook')"
expect_match "after configure: restart needed, both reasons, an error: every --gpus fails until then" \
    '^\[error\] docker restart: restart needed: .*was installed after dockerd started.*; dockerd has not loaded the "nvidia" runtime.* -> fix: systemctl restart docker$' \
    "$(line 'docker restart')"
if version_ge "$DOCKER_VERSION" 25; then
    expect_match "after configure --cdi: dockerd $DOCKER_VERSION has not loaded CDI yet" \
        "^\[warn \] docker cdi: .$D/daemon.json. turns CDI on but dockerd ${DOCKER_VERSION//./\\.}[^ ]* has not loaded it: .* -> fix: systemctl restart docker$" \
        "$(line 'docker cdi')"
fi

stop_dockerd
touch -h "$SCRATCH/bin/nvidia-container-runtime-hook" # back to a real time, before the restart
sleep 1
if ! start_dockerd; then
    not_ok "restart the private dockerd"
    exit 1
fi
ok "restart the private dockerd"
OUT=$("${DOCKER[@]}" 2>&1); RC=$?
expect_eq "after the restart: exit 0" 0 "$RC"
expect_match "after the restart: restart done" \
    "^\[ ok  \] docker restart: dockerd \(pid $DOCKERD_PID\) runs with the current hook and daemon.json" \
    "$(line 'docker restart')"
if version_ge "$DOCKER_VERSION" 25; then
    expect_match "after the restart: dockerd $DOCKER_VERSION reads CDI specs" \
        "^\[ ok  \] docker cdi: Docker ${DOCKER_VERSION//./\\.}[^ ]* reads CDI specs from ./etc/cdi., ./var/run/cdi.: docker run --device nvidia.com/gpu=N works$" \
        "$(line 'docker cdi')"
fi
expect_eq "after the restart: no warning or error in the docker lines" "" \
    "$(printf '%s\n' "$OUT" | grep -E '^\[(warn |error)\] (docker|daemon)' || true)"
printf '%s\n' "$OUT" | diag

stop_dockerd
# dockerd makes its data root a shared bind mount when the mount it is on is
# not shared (a root without systemd, as a pristine root is); 20.10 takes it
# down when it stops, 26.1 leaves it
left=$(awk -v d="$D/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo)
if [ "$(findmnt -n -o PROPAGATION -T "$D")" = shared ] || [ "${DOCKER_VERSION%.*}" = 20.10 ]; then
    expect_eq "dockerd $DOCKER_VERSION stopped, no mount of it left" "" "$left"
elif [ "${DOCKER_VERSION%.*}" = 26.1 ]; then
    expect_eq "dockerd $DOCKER_VERSION stopped on a private mount: only its data root's bind mount is left" "$D/data" "$left"
else
    skip "no mount left by dockerd" "no recorded behaviour for dockerd $DOCKER_VERSION on a private mount: left $left"
fi
for m in $left; do umount "$m" 2>/dev/null || umount -l "$m"; done
expect_eq "no mount left under the test's directory" "" "$(grep -F "$D" /proc/self/mountinfo || true)"
