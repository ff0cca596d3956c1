#!/usr/bin/env bash
# Compose end to end: every example of the Compose GPU guide, run both through
# Debian's docker-compose 1.29 against a private dockerd on a simulated 4-GPU
# host and through `gctk compose check`. What Compose 1.29 really sends is in
# docs/compose.md; what these cases prove is in docs/docker-e2e.md.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/docker-lib.sh"
GCTK=$(cd "$GCTK_BUILD" && pwd)/cmd/gctk # the checks run in the files' directory

need_root "compose end to end" || exit 0
missing=$(dk_missing)
command -v docker-compose >/dev/null || missing="$missing docker-compose"
if [ -n "${missing# }" ]; then skip "compose end to end" "missing: ${missing# }"; exit 0; fi

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
# compose_up FILE: `docker-compose up` of FILE under a project of its own,
# then `down`; output in $OUT, status in $RC
compose_up() {
    N=$((N + 1))
    local p="gctk$$x$N"
    OUT=$(cd "$F" && timeout 120 docker-compose --ansi never -p "$p" -f "$1" up --abort-on-container-exit 2>&1 </dev/null)
    RC=$?
    (cd "$F" && timeout 60 docker-compose --ansi never -p "$p" -f "$1" down >/dev/null 2>&1 </dev/null)
}
# gctk_check FILE: `gctk compose check FILE`; output in $CHK, status in $CRC
gctk_check() {
    CHK=$(cd "$F" && "$GCTK" compose check "$1" 2>&1)
    CRC=$?
}
uuids_seen() { printf '%s\n' "$OUT" | grep -o 'GPU-[0-9a-f-]*' | sort | tr '\n' ' '; }
uuids_of() { for i in "$@"; do echo "${UUID[$i]}"; done | sort | tr '\n' ' '; }
one_line() { printf '%s' "$1" | tr '\n' ' '; }

# ---- legacy v2.3 format: runtime: nvidia --------------------------------
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
compose_up legacy.yaml
expect_eq "legacy runtime: nvidia: compose up exits 0" 0 "$RC"
expect_eq "legacy runtime: nvidia: GPUs 1 and 2 of NVIDIA_VISIBLE_DEVICES" "$(uuids_of 1 2)" "$(uuids_seen)"
gctk_check legacy.yaml
expect_eq "legacy runtime: nvidia: gctk compose check exits 0" 0 "$CRC"
expect_match "legacy runtime: nvidia: gctk names GPUs 1 and 2" \
    "^service .test. \(runtime\): GPU 1 \(${UUID[1]}\), GPU 2 \(${UUID[2]}\); capabilities utility,compute$" "$CHK"

# ---- driver: nvidia, count: 1, capabilities: [gpu, utility] ------------
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
compose_up count-one.yaml
expect_eq "count 1, [gpu, utility]: compose up exits 0" 0 "$RC"
expect_eq "count 1, [gpu, utility]: one GPU (GPU 0) listed" "$(uuids_of 0)" "$(uuids_seen)"
expect_match "count 1, [gpu, utility]: utility only, no libcuda" "libcuda=0" "$OUT"
gctk_check count-one.yaml
expect_eq "count 1, [gpu, utility]: gctk compose check exits 0" 0 "$CRC"
expect_match "count 1, [gpu, utility]: gctk names GPU 0 and utility" \
    "^service .test. \(deploy.resources.reservations.devices\[0\]\): GPU 0 \(${UUID[0]}\); capabilities utility$" "$CHK"

# ---- capabilities: [gpu] only --------------------------------------------
# The Compose spec says all GPUs; Compose 1.29 sends Count 0, so dockerd sets
# no NVIDIA_VISIBLE_DEVICES and the image's own value decides: none for an
# image without it, all for one that says all (as CUDA images do).
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
compose_up gpu-only.yaml
expect_eq "[gpu] only: compose up exits 0" 0 "$RC"
expect_eq "[gpu] only, image without NVIDIA_VISIBLE_DEVICES: Compose 1.29 gives no GPU" "" "$(uuids_seen)"
expect_match "[gpu] only, image without NVIDIA_VISIBLE_DEVICES: no device node" "/dev/nvidia0: No such file" "$OUT"
gctk_check gpu-only.yaml
expect_eq "[gpu] only: gctk compose check exits 0" 0 "$CRC"
expect_match "[gpu] only: gctk says all 4 GPUs (the Compose spec)" \
    "^service .plain. \(deploy.resources.reservations.devices\[0\]\): GPU 0 .*GPU 3 \(${UUID[3]}\); capabilities utility,compute" "$CHK"
expect_match "[gpu] only: gctk warns that Compose 1.29 leaves it to the image" \
    "docker-compose 1.29 .*NVIDIA_VISIBLE_DEVICES.*count: all" "$(one_line "$CHK")"

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
compose_up gpu-only-env.yaml
expect_eq "[gpu] only, image env NVIDIA_VISIBLE_DEVICES=all: compose up exits 0" 0 "$RC"
expect_eq "[gpu] only, image env NVIDIA_VISIBLE_DEVICES=all: the 4 GPUs" "$(uuids_of 0 1 2 3)" "$(uuids_seen)"

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
compose_up count-all.yaml
expect_eq "count: all: the 4 GPUs with Compose 1.29 too" "$(uuids_of 0 1 2 3)" "$(uuids_seen)"
gctk_check count-all.yaml
expect_eq "count: all: gctk compose check exits 0, no warning" "0 0" \
    "$CRC $(printf '%s\n' "$CHK" | grep -c 'docker-compose 1.29')"

# ---- device_ids: ['0', '3'] -----------------------------------------------
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
compose_up device-ids.yaml
expect_eq "device_ids ['0', '3']: compose up exits 0" 0 "$RC"
expect_eq "device_ids ['0', '3']: GPUs 0 and 3" "$(uuids_of 0 3)" "$(uuids_seen)"
gctk_check device-ids.yaml
expect_eq "device_ids ['0', '3']: gctk compose check exits 0" 0 "$CRC"
expect_match "device_ids ['0', '3']: gctk names GPUs 0 and 3" \
    "GPU 0 \(${UUID[0]}\), GPU 3 \(${UUID[3]}\); capabilities utility,compute$" "$CHK"

# ---- error cases -------------------------------------------------------------
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
compose_up no-caps.yaml
check "no capabilities: compose up fails" test "$RC" -ne 0 -a -z "$(printf '%s\n' "$OUT" | grep 'started$')"
expect_match "no capabilities: dockerd's message" 'could not select device driver "nvidia" with capabilities: \[\]' "$OUT"
gctk_check no-caps.yaml
expect_eq "no capabilities: gctk compose check exits 1" 1 "$CRC"
expect_match "no capabilities: gctk says they are required and how to fix it" \
    "^gctk: service .test.: deploy.resources.reservations.devices\[0\] \(line 10\): capabilities are required: add .capabilities: \[gpu\]." "$CHK"

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
compose_up count-ids.yaml
check "count and device_ids: compose up fails" test "$RC" -ne 0 -a -z "$(printf '%s\n' "$OUT" | grep 'started$')"
expect_match "count and device_ids: dockerd's message" "cannot set both Count and DeviceIDs on device request" "$OUT"
gctk_check count-ids.yaml
expect_eq "count and device_ids: gctk compose check exits 1" 1 "$CRC"
expect_match "count and device_ids: gctk says they are mutually exclusive" \
    "count and device_ids are mutually exclusive: keep one" "$CHK"

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
compose_up count-five.yaml
check "count 5 on 4 GPUs: compose up fails" test "$RC" -ne 0 -a -z "$(printf '%s\n' "$OUT" | grep 'started$')"
expect_match "count 5 on 4 GPUs: the hook says it is a count beyond the host" \
    "gctk-hook: NVIDIA_VISIBLE_DEVICES=0,1,2,3,4: 5 GPUs asked for .* but this host has 4: .*ask for at most 4" "$OUT"
gctk_check count-five.yaml
expect_eq "count 5 on 4 GPUs: gctk compose check exits 1" 1 "$CRC"
expect_eq "count 5 on 4 GPUs: gctk's message" "gctk: service \`train\`: count 5 exceeds the 4 GPUs of this host (line 10)" "$CHK"

cat >"$F/gpus-key.yaml" <<'EOF'
services:
  test:
    image: gctk-test
    network_mode: none
    gpus: all
EOF
compose_up gpus-key.yaml
check "service-level gpus: (newer Compose): 1.29 refuses the file" test "$RC" -ne 0
expect_match "service-level gpus: 1.29's message" "Unsupported config option for services.test: 'gpus'" "$OUT"
gctk_check gpus-key.yaml
expect_eq "service-level gpus: gctk compose check accepts it (newer Compose)" 0 "$CRC"

expect_eq "no container left" "" "$("$DOCKER" ps -aq 2>&1)"
expect_eq "no network left (--bridge=none: only host and none)" "host none" "$("$DOCKER" network ls --format '{{.Name}}' | sort | tr '\n' ' ' | sed 's/ $//')"
dk_stop
check "dockerd is gone" test ! -e "/proc/$DOCKERD_PID"
expect_eq "no mount left" "" "$(dk_mounts "$SCRATCH")"
