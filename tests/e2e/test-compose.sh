#!/usr/bin/env bash
# Compose end to end: every example of the Compose GPU guide, run by each
# Compose of this machine (Debian 12: docker-compose 1.29, python; Debian 13:
# Compose v2, `docker compose`) against a private dockerd on a simulated
# 4-GPU host, and checked by `gctk compose check` for that Compose. Each
# Compose is held to what its version really sends (docs/compose.md); what
# these cases prove is in docs/docker-e2e.md.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/docker-lib.sh"
GCTK=$(cd "$GCTK_BUILD" && pwd)/cmd/gctk # the checks run in the files' directory

need_root "compose end to end" || exit 0
missing=$(dk_missing)
if [ -n "${missing# }" ]; then skip "compose end to end" "missing: ${missing# }"; exit 0; fi
dk_composes
if [ "${#COMPOSE_NAMES[@]}" -eq 0 ]; then
    skip "compose end to end" "missing: docker-compose or the docker compose plugin"; exit 0
fi
dk_versions "$(for i in "${!COMPOSE_NAMES[@]}"; do printf '%s %s, ' "${COMPOSE_NAMES[$i]}" "${COMPOSE_VERSIONS[$i]}"; done | sed 's/, $//')"

HOST=$SCRATCH/host
"$GCTK" sim create "$HOST" --gpus 4 >/dev/null || { not_ok "gctk sim create"; exit 1; }
cat >"$SCRATCH/gctk.conf" <<EOF
{"root": "$HOST", "log": "$SCRATCH/hook.log"}
EOF
export GCTK_CONFIG=$SCRATCH/gctk.conf
mapfile -t UUID < <("$GCTK" info --json --no-nvml | jq -r '.gpus[].uuid')

at_exit dk_stop
if ! dk_start "$SCRATCH/docker" "$GCTK_CONFIG" 2>"$SCRATCH/start.err"; then
    not_ok "the private dockerd starts"; diag <"$SCRATCH/start.err"; exit 1
fi
DOCKERD_PID=$DK_DOCKERD_PID
make_rootfs "$SCRATCH/rootfs"
dk_import_image "$SCRATCH/rootfs" gctk-test:latest || { not_ok "image imported"; exit 1; }

F=$SCRATCH/compose
mkdir -p "$F"
N=0
# compose_up FILE: `up` of FILE by the Compose under test ($CMP), under a
# project of its own, then `down`; output in $OUT, status in $RC
compose_up() {
    N=$((N + 1))
    local p="gctk$$x$N"
    OUT=$(cd "$F" && timeout 120 "${DK_COMPOSE[@]}" --ansi never -p "$p" -f "$1" up --abort-on-container-exit 2>&1 </dev/null)
    RC=$?
    (cd "$F" && timeout 60 "${DK_COMPOSE[@]}" --ansi never -p "$p" -f "$1" down >/dev/null 2>&1 </dev/null)
}
# gctk_check FILE [ARGS]: `gctk compose check` for the Compose under test;
# output in $CHK, status in $CRC
gctk_check() {
    local file=$1; shift
    CHK=$(cd "$F" && "$GCTK" compose check --compose-version "$CV" "$@" "$file" 2>&1)
    CRC=$?
}
uuids_seen() { printf '%s\n' "$OUT" | grep -o 'GPU-[0-9a-f-]*' | sort | tr '\n' ' '; }
uuids_of() { for i in "$@"; do echo "${UUID[$i]}"; done | sort | tr '\n' ' '; }
one_line() { printf '%s' "$1" | tr '\n' ' '; }
# started: the container's own command ran
started() { printf '%s\n' "$OUT" | grep -q 'started$'; }

# ---- the files: the Compose guide's examples and the mistakes it warns of ----
cat >"$F/legacy.yaml" <<'EOF'
version: "2.3"
services:
  test:
    image: gctk-test
    network_mode: none
    command: nvidia-smi -L
    runtime: nvidia
    environment:
      - NVIDIA_VISIBLE_DEVICES=1,2
EOF
cat >"$F/legacy-image.yaml" <<'EOF'
services:
  test:
    image: gctk-test
    network_mode: none
    command: sh -c 'ls /dev/nvidia0 2>&1; echo end'
    runtime: nvidia
EOF
cat >"$F/runtime-missing.yaml" <<'EOF'
services:
  test:
    image: gctk-test
    network_mode: none
    command: echo started
    runtime: nvidia-cdi
EOF
cat >"$F/count-one.yaml" <<'EOF'
services:
  test:
    image: gctk-test
    network_mode: none
    command: sh -c 'nvidia-smi -L; echo libcuda=$$(ls /usr/lib/x86_64-linux-gnu | grep -c libcuda)'
    deploy:
      resources:
        reservations:
          devices:
            - driver: nvidia
              count: 1
              capabilities: [gpu, utility]
EOF
# The Compose spec says all GPUs. Compose 1.29 sends Count 0, so dockerd sets
# no NVIDIA_VISIBLE_DEVICES and the image's own value decides (none for an
# image without it, all for one that says all, as CUDA images do); Compose
# v2 sends Count -1: all.
cat >"$F/gpu-only.yaml" <<'EOF'
services:
  plain:
    image: gctk-test
    network_mode: none
    command: sh -c 'nvidia-smi -L 2>&1; ls /dev/nvidia0 2>&1; echo end'
    deploy:
      resources:
        reservations:
          devices:
            - capabilities: [gpu]
EOF
cat >"$F/gpu-only-env.yaml" <<'EOF'
services:
  cuda:
    image: gctk-test
    network_mode: none
    command: nvidia-smi -L
    environment:
      NVIDIA_VISIBLE_DEVICES: all
    deploy:
      resources:
        reservations:
          devices:
            - capabilities: [gpu]
EOF
cat >"$F/count-all.yaml" <<'EOF'
services:
  test:
    image: gctk-test
    network_mode: none
    command: nvidia-smi -L
    deploy:
      resources:
        reservations:
          devices:
            - capabilities: [gpu]
              count: all
EOF
cat >"$F/device-ids.yaml" <<'EOF'
services:
  test:
    image: gctk-test
    network_mode: none
    command: nvidia-smi -L
    deploy:
      resources:
        reservations:
          devices:
          - driver: nvidia
            device_ids: ['0', '3']
            capabilities: [gpu]
EOF
cat >"$F/no-caps.yaml" <<'EOF'
services:
  test:
    image: gctk-test
    network_mode: none
    command: echo started
    deploy:
      resources:
        reservations:
          devices:
            - driver: nvidia
              count: 1
EOF
cat >"$F/count-ids.yaml" <<'EOF'
services:
  test:
    image: gctk-test
    network_mode: none
    command: echo started
    deploy:
      resources:
        reservations:
          devices:
            - driver: nvidia
              count: 1
              device_ids: ['0']
              capabilities: [gpu]
EOF
cat >"$F/count-five.yaml" <<'EOF'
services:
  train:
    image: gctk-test
    network_mode: none
    command: echo started
    deploy:
      resources:
        reservations:
          devices:
            - driver: nvidia
              count: 5
              capabilities: [gpu]
EOF
cat >"$F/gpus-key.yaml" <<'EOF'
services:
  test:
    image: gctk-test
    network_mode: none
    command: sh -c 'nvidia-smi -L 2>&1; ls /dev/nvidia0 2>&1; echo end'
    gpus: all
EOF

# ---- each Compose, held to its own version ----------------------------------
for ci in "${!COMPOSE_NAMES[@]}"; do
CMP=${COMPOSE_NAMES[$ci]} CV=${COMPOSE_VERSIONS[$ci]}
dk_compose_cmd "$CMP"
C="$CMP $CV"
V2=0; version_ge "$CV" 2 && V2=1

compose_up legacy.yaml
expect_eq "$C, runtime: nvidia: up exits 0" 0 "$RC"
expect_eq "$C, runtime: nvidia: GPUs 1 and 2 of NVIDIA_VISIBLE_DEVICES" "$(uuids_of 1 2)" "$(uuids_seen)"
gctk_check legacy.yaml
expect_eq "$C, runtime: nvidia: gctk compose check exits 0" 0 "$CRC"
expect_match "$C, runtime: nvidia: gctk names GPUs 1 and 2, for $C" \
    "^Compose: Compose $CV \(--compose-version\) service .test. \(runtime\): GPU 1 \(${UUID[1]}\), GPU 2 \(${UUID[2]}\); capabilities utility,compute$" \
    "$(one_line "$CHK")"

compose_up legacy-image.yaml
expect_match "$C, runtime: nvidia, image without NVIDIA_VISIBLE_DEVICES: no GPU" "/dev/nvidia0: No such file" "$OUT"
gctk_check legacy-image.yaml
expect_match "$C, runtime: nvidia, image without NVIDIA_VISIBLE_DEVICES: gctk says the image decides" \
    "^service .test. \(runtime\): the image's NVIDIA_VISIBLE_DEVICES decides: no GPU for an image without it, all 4 for one that says all" "$CHK"

compose_up runtime-missing.yaml
check "$C, runtime the daemon lacks: up fails" eval '[ "$RC" -ne 0 ] && ! started'
case "$DOCKER_VERSION" in
    20.10.*) expect_match "$C, runtime the daemon lacks: dockerd $DOCKER_VERSION's message" \
        "Unknown runtime specified nvidia-cdi" "$OUT" ;;
    26.1.*) expect_match "$C, runtime the daemon lacks: dockerd $DOCKER_VERSION's message" \
        "unknown or invalid runtime name: nvidia-cdi" "$OUT" ;;
    *) skip "$C, runtime the daemon lacks: dockerd's message" "no recorded message for dockerd $DOCKER_VERSION" ;;
esac
gctk_check runtime-missing.yaml
expect_eq "$C, runtime the daemon lacks: gctk compose check exits 1" 1 "$CRC"
expect_match "$C, runtime the daemon lacks: gctk names it, what dockerd has, and the fix" \
    "^gctk: service .test.: runtime \(line 6\): dockerd at .$DOCKER_HOST. has no runtime .nvidia-cdi. \(it has [^)]*nvidia[^)]*runc[^)]*\), so the container does not start; gctk runtime configure --runtime=docker --runtime-name nvidia-cdi && systemctl restart docker$" \
    "$CHK"
gctk_check runtime-missing.yaml --docker-host "unix://$SCRATCH/none.sock" --daemon-json "$DK_DAEMON_JSON"
expect_match "$C, runtime the daemon lacks, no daemon answering: gctk reads daemon.json" \
    "^gctk: service .test.: runtime \(line 6\): .$DK_DAEMON_JSON. has no runtime .nvidia-cdi. \(it has io.containerd.runc.v2, nvidia, runc\).*--runtime-name nvidia-cdi --config $DK_DAEMON_JSON && systemctl restart docker$" \
    "$CHK"
gctk_check legacy.yaml --docker-host "unix://$SCRATCH/none.sock" --daemon-json "$SCRATCH/none.json"
expect_eq "$C, runtime: nvidia, no daemon, no daemon.json: not an error" 0 "$CRC"
expect_match "$C, runtime: nvidia, no daemon, no daemon.json: gctk says it could not check" \
    "note: could not check that the Docker daemon has the .nvidia. runtime: no Docker answers at .unix://$SCRATCH/none.sock. .* and .$SCRATCH/none.json. does not exist" \
    "$(one_line "$CHK")"

compose_up count-one.yaml
expect_eq "$C, count 1, [gpu, utility]: up exits 0" 0 "$RC"
expect_eq "$C, count 1, [gpu, utility]: one GPU (GPU 0) listed" "$(uuids_of 0)" "$(uuids_seen)"
expect_match "$C, count 1, [gpu, utility]: utility only, no libcuda" "libcuda=0" "$OUT"
gctk_check count-one.yaml
expect_eq "$C, count 1, [gpu, utility]: gctk compose check exits 0" 0 "$CRC"
expect_match "$C, count 1, [gpu, utility]: gctk names GPU 0 and utility" \
    "^service .test. \(deploy.resources.reservations.devices\[0\]\): GPU 0 \(${UUID[0]}\); capabilities utility$" "$CHK"
expect_match "$C, count 1, [gpu, utility]: gctk warns that CUDA finds no libcuda" \
    "^  warning: .*NVIDIA_DRIVER_CAPABILITIES=utility, without compute: CUDA programs find no libcuda .*Found no NVIDIA driver on your system.*add .compute." "$CHK"

compose_up gpu-only.yaml
expect_eq "$C, [gpu] only: up exits 0" 0 "$RC"
gctk_check gpu-only.yaml
expect_eq "$C, [gpu] only: gctk compose check exits 0" 0 "$CRC"
if [ "$V2" = 1 ]; then
    expect_eq "$C, [gpu] only, image without NVIDIA_VISIBLE_DEVICES: Count -1, the 4 GPUs" "$(uuids_of 0 1 2 3)" "$(uuids_seen)"
    expect_match "$C, [gpu] only: gctk names the 4 GPUs" \
        "^service .plain. \(deploy.resources.reservations.devices\[0\]\): GPU 0 .*GPU 3 \(${UUID[3]}\); capabilities utility,compute$" "$CHK"
    expect_eq "$C, [gpu] only: no count-0 note" 0 "$(printf '%s\n' "$CHK" | grep -c 'count 0')"
else
    expect_eq "$C, [gpu] only, image without NVIDIA_VISIBLE_DEVICES: Count 0, no GPU" "" "$(uuids_seen)"
    expect_match "$C, [gpu] only, image without NVIDIA_VISIBLE_DEVICES: no device node" "/dev/nvidia0: No such file" "$OUT"
    expect_match "$C, [gpu] only: gctk says the image decides" \
        "^service .plain. \(deploy.resources.reservations.devices\[0\]\): the image's NVIDIA_VISIBLE_DEVICES decides" "$CHK"
    expect_match "$C, [gpu] only: gctk's note names this Compose and the fix" \
        "note: Compose $CV sends count 0 here, not all: .*NVIDIA_VISIBLE_DEVICES.*count: all" "$(one_line "$CHK")"
fi

compose_up gpu-only-env.yaml
expect_eq "$C, [gpu] only, image env NVIDIA_VISIBLE_DEVICES=all: up exits 0" 0 "$RC"
expect_eq "$C, [gpu] only, image env NVIDIA_VISIBLE_DEVICES=all: the 4 GPUs" "$(uuids_of 0 1 2 3)" "$(uuids_seen)"

compose_up count-all.yaml
expect_eq "$C, count: all: the 4 GPUs" "$(uuids_of 0 1 2 3)" "$(uuids_seen)"
gctk_check count-all.yaml
expect_eq "$C, count: all: gctk compose check exits 0, no note, no warning" "0 0" \
    "$CRC $(printf '%s\n' "$CHK" | grep -c '^  ')"

compose_up device-ids.yaml
expect_eq "$C, device_ids ['0', '3']: up exits 0" 0 "$RC"
expect_eq "$C, device_ids ['0', '3']: GPUs 0 and 3" "$(uuids_of 0 3)" "$(uuids_seen)"
gctk_check device-ids.yaml
expect_eq "$C, device_ids ['0', '3']: gctk compose check exits 0" 0 "$CRC"
expect_match "$C, device_ids ['0', '3']: gctk names GPUs 0 and 3" \
    "GPU 0 \(${UUID[0]}\), GPU 3 \(${UUID[3]}\); capabilities utility,compute$" "$CHK"

compose_up no-caps.yaml
check "$C, no capabilities: up fails" eval '[ "$RC" -ne 0 ] && ! started'
gctk_check no-caps.yaml
expect_eq "$C, no capabilities: gctk compose check exits 1" 1 "$CRC"
if [ "$V2" = 1 ]; then
    expect_match "$C, no capabilities: Compose refuses the file itself" \
        "services.test.deploy.resources.reservations.devices.0 capabilities is required" "$OUT"
    expect_match "$C, no capabilities: gctk gives the fix and Compose's message" \
        "^gctk: service .test.: deploy.resources.reservations.devices\[0\] \(line 10\): capabilities are required: add .capabilities: \[gpu\]. \(Compose $CV refuses the file: .capabilities is required.\)$" "$CHK"
else
    expect_match "$C, no capabilities: dockerd refuses at start" \
        'could not select device driver "nvidia" with capabilities: \[\]' "$OUT"
    expect_match "$C, no capabilities: gctk gives the fix and dockerd's message" \
        "^gctk: service .test.: deploy.resources.reservations.devices\[0\] \(line 10\): capabilities are required: add .capabilities: \[gpu\]. \(dockerd otherwise fails with .could not select device driver \"nvidia\" with capabilities: \[\].\)$" "$CHK"
fi

compose_up count-ids.yaml
check "$C, count and device_ids: up fails" eval '[ "$RC" -ne 0 ] && ! started'
gctk_check count-ids.yaml
expect_eq "$C, count and device_ids: gctk compose check exits 1" 1 "$CRC"
if [ "$V2" = 1 ]; then
    expect_match "$C, count and device_ids: Compose refuses the file itself" \
        '"count" and "device_ids" attributes are exclusive' "$OUT"
    expect_match "$C, count and device_ids: gctk says so, with Compose's message" \
        "count and device_ids are mutually exclusive: keep one \(Compose $CV refuses the file: .\"count\" and \"device_ids\" attributes are exclusive.\)" "$CHK"
else
    expect_match "$C, count and device_ids: dockerd refuses at start" \
        "cannot set both Count and DeviceIDs on device request" "$OUT"
    expect_match "$C, count and device_ids: gctk says so, with dockerd's message" \
        "count and device_ids are mutually exclusive: keep one \(dockerd: .cannot set both Count and DeviceIDs on device request.\)" "$CHK"
fi

compose_up count-five.yaml
check "$C, count 5 on 4 GPUs: up fails" eval '[ "$RC" -ne 0 ] && ! started'
expect_match "$C, count 5 on 4 GPUs: the hook says it is a count beyond the host" \
    "gctk-hook: NVIDIA_VISIBLE_DEVICES=0,1,2,3,4: 5 GPUs asked for .* but this host has 4: .*ask for at most 4" "$OUT"
gctk_check count-five.yaml
expect_eq "$C, count 5 on 4 GPUs: gctk compose check exits 1" 1 "$CRC"
expect_eq "$C, count 5 on 4 GPUs: gctk's message" \
    "gctk: service \`train\`: count 5 exceeds the 4 GPUs of this host (line 10)" "$(printf '%s\n' "$CHK" | grep -v '^Compose: ')"

compose_up gpus-key.yaml
gctk_check gpus-key.yaml
if [ "$V2" = 0 ]; then
    check "$C, service-level gpus:: refused" eval '[ "$RC" -ne 0 ] && ! printf "%s" "$OUT" | grep -q "end$"'
    expect_match "$C, service-level gpus:: Compose's message" "Unsupported config option for services.test: 'gpus'" "$OUT"
    expect_eq "$C, service-level gpus:: gctk compose check exits 1" 1 "$CRC"
    expect_match "$C, service-level gpus:: gctk says this Compose refuses it, and what to write" \
        "^gctk: service .test.: gpus \(line 6\): Compose $CV refuses the service-level .gpus:. key .*deploy.resources.reservations.devices" "$CHK"
elif version_ge "$CV" 2.30; then
    expect_eq "$C, service-level gpus: all: the 4 GPUs" "$(uuids_of 0 1 2 3)" "$(uuids_seen)"
    expect_match "$C, service-level gpus: all: gctk names the 4 GPUs, no warning" \
        "^service .test. \(gpus\): GPU 0 .*GPU 3 \(${UUID[3]}\); capabilities utility,compute$" "$CHK"
else
    expect_eq "$C, service-level gpus: all: accepted, the container runs" 0 "$RC"
    expect_eq "$C, service-level gpus: all: no device request, so no GPU" "" "$(uuids_seen)"
    expect_match "$C, service-level gpus: all: no device node" "/dev/nvidia0: No such file" "$OUT"
    expect_eq "$C, service-level gpus: all: gctk compose check exits 0 (a warning)" 0 "$CRC"
    expect_match "$C, service-level gpus: all: gctk says no GPU, why, and what to write" \
        "service .test. \(gpus\): no GPU   warning: .*Compose $CV accepts the service-level .gpus:. key but sends no device request for it \(Compose 2.30 and later do\): the container gets no GPU; ask under deploy.resources.reservations.devices" \
        "$(one_line "$CHK")"
fi
done

# gctk finds the Compose of this machine by itself: the plugin first
CHK=$(cd "$F" && "$GCTK" compose check count-all.yaml 2>&1)
expect_match "gctk compose check speaks for the Compose found here: ${COMPOSE_NAMES[0]} ${COMPOSE_VERSIONS[0]}" \
    "^Compose: ${COMPOSE_NAMES[0]} ${COMPOSE_VERSIONS[0]} \(found on this machine" "$CHK"

expect_eq "no container left" "" "$("$DOCKER" ps -aq 2>&1)"
expect_eq "no network left (--bridge=none: only host and none)" "host none" "$("$DOCKER" network ls --format '{{.Name}}' | sort | tr '\n' ' ' | sed 's/ $//')"
dk_stop
check "dockerd is gone" test ! -e "/proc/$DOCKERD_PID"
expect_eq "no mount left" "" "$(dk_mounts "$SCRATCH")"
