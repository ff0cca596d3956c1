#!/usr/bin/env bash
# MIG under real runc on a simulated host with two MIG-enabled GPUs (and one
# without MIG): a container sees exactly the MIG devices it asked for, by
# GPU:MIG index pair or MIG UUID; the monitor capability goes only to a
# privileged container; wrong ids fail with the valid ones named.
. "$(dirname "$0")/lib.sh"

need_root "MIG end to end" || exit 0
command -v runc >/dev/null || { skip "MIG end to end" "runc is not installed"; exit 0; }

HOST=$SCRATCH/host
"$GCTK" sim create "$HOST" --gpus 3 --mig 0:1g.10gb,1g.10gb,2g.20gb --mig 1:3g.40gb >/dev/null ||
    { not_ok "gctk sim create --mig"; exit 1; }
cat >"$SCRATCH/gctk.conf" <<EOC
{"root": "$HOST", "log": "$SCRATCH/hook.log"}
EOC
export GCTK_CONFIG=$SCRATCH/gctk.conf
HOOK_ENV="[\"GCTK_CONFIG=$GCTK_CONFIG\"]"
INFO=$("$GCTK" info --json)
mapfile -t GPU_UUID < <(jq -r '.gpus[].uuid' <<<"$INFO")
mapfile -t MIG0 < <(jq -r '.gpus[0].mig_devices[].uuid' <<<"$INFO")
mapfile -t MIG1 < <(jq -r '.gpus[1].mig_devices[].uuid' <<<"$INFO")
expect_eq "info: MIG modes" "enabled enabled disabled" "$(jq -r '[.gpus[].mig_mode] | join(" ")' <<<"$INFO")"
expect_eq "info: 3 + 1 MIG devices" "3 1" "${#MIG0[@]} ${#MIG1[@]}"
expect_eq "info: profiles" "1g.10gb 1g.10gb 2g.20gb" "$(jq -r '[.gpus[0].mig_devices[].profile] | join(" ")' <<<"$INFO")"
expect_match "the host's nvidia-smi -L lists MIG devices under their GPU" \
    "GPU 0: .*${GPU_UUID[0]}.*
  MIG 1g.10gb     Device  0: \(UUID: ${MIG0[0]}\)" "$("$HOST/usr/bin/nvidia-smi" -L)"

ROOTFS=$SCRATCH/rootfs
make_rootfs "$ROOTFS"
MOUNTS_BEFORE=$(host_mounts)
N=0

# run_gpu NAME ENV_JSON SCRIPT [privileged]: output in $OUT, status in $RC
run_gpu() {
    N=$((N + 1))
    local b=$SCRATCH/bundle-$N
    rm -rf "$SCRATCH/rootfs-run"
    cp -a "$ROOTFS" "$SCRATCH/rootfs-run"
    make_bundle "$b" "$SCRATCH/rootfs-run" "[\"sh\", \"-c\", $(jq -Rn --arg s "$3" '$s')]" "$2" "$HOOK_ENV"
    if [ "${4:-}" = privileged ]; then
        jq '.process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .process.capabilities.effective += ["CAP_SYS_ADMIN"] | .process.capabilities.permitted += ["CAP_SYS_ADMIN"]' \
            "$b/config.json" >"$b/c.json" && mv "$b/c.json" "$b/config.json"
    fi
    OUT=$(runc_run "$b" "gctk-mig-$$-$N")
    RC=$?
    runc --root "$RUNC_ROOT" delete -f "gctk-mig-$$-$N" >/dev/null 2>&1
}
migs_seen() { printf '%s\n' "$OUT" | grep -o 'MIG-[0-9a-f-]*' | sort | tr '\n' ' '; }

run_gpu pair '["NVIDIA_VISIBLE_DEVICES=0:1"]' 'nvidia-smi -L; ls /dev/nvidia-caps; find /proc/driver/nvidia/capabilities -type f'
expect_eq "0:1: nvidia-smi shows exactly that MIG device" "${MIG0[1]} " "$(migs_seen)"
expect_match "0:1: listed under GPU 0 as its only MIG device" \
    "GPU 0: .*${GPU_UUID[0]}.*
  MIG 1g.10gb     Device  0: \(UUID: ${MIG0[1]}\)" "$OUT"
expect_eq "0:1: only its gi and ci nodes" "nvidia-cap21 nvidia-cap22" \
    "$(printf '%s\n' "$OUT" | grep '^nvidia-cap' | sort | tr '\n' ' ' | sed 's/ $//')"
expect_eq "0:1: only its access files" \
    "/proc/driver/nvidia/capabilities/gpu0/mig/gi2/access /proc/driver/nvidia/capabilities/gpu0/mig/gi2/ci0/access" \
    "$(printf '%s\n' "$OUT" | grep '^/proc/' | sort | tr '\n' ' ' | sed 's/ $//')"

run_gpu uuid "[\"NVIDIA_VISIBLE_DEVICES=${MIG1[0]}\"]" 'nvidia-smi -L'
expect_eq "a MIG UUID selects that MIG device" "${MIG1[0]} " "$(migs_seen)"
expect_match "a MIG UUID: its parent GPU 1 is listed" "${GPU_UUID[1]}" "$OUT"
check "a MIG UUID: GPU 0 is not visible" test "$(printf '%s' "$OUT" | grep -c "${GPU_UUID[0]}")" = 0

run_gpu two '["NVIDIA_VISIBLE_DEVICES=0:0,0:2,2"]' 'nvidia-smi -L'
expect_eq "0:0,0:2,2: both MIG devices" "$(printf '%s\n' "${MIG0[0]}" "${MIG0[2]}" | sort | tr '\n' ' ')" "$(migs_seen)"
expect_match "0:0,0:2,2: and the non-MIG GPU 2" "${GPU_UUID[2]}" "$OUT"

run_gpu all '["NVIDIA_VISIBLE_DEVICES=all"]' 'nvidia-smi -L'
expect_eq "all: every MIG device" "$(printf '%s\n' "${MIG0[@]}" "${MIG1[@]}" | sort | tr '\n' ' ')" "$(migs_seen)"

run_gpu whole '["NVIDIA_VISIBLE_DEVICES=0"]' 'nvidia-smi -L'
expect_eq "a whole GPU in MIG mode: no MIG device" "" "$(migs_seen)"
expect_match "a whole GPU in MIG mode: the hook says what it gives" "GPU 0 .* is in MIG mode: the container gets the whole GPU" "$(cat "$SCRATCH/hook.log")"

run_gpu off '["NVIDIA_VISIBLE_DEVICES=2:0"]' 'echo started'
check "a MIG id on a GPU with MIG off: the container does not start" test "$RC" -ne 0
expect_match "a MIG id on a GPU with MIG off: said so" "GPU 2 .* is not in MIG mode" "$OUT"

run_gpu badindex '["NVIDIA_VISIBLE_DEVICES=0:5"]' 'echo started'
check "an unknown MIG index: the container does not start" test "$RC" -ne 0
expect_match "an unknown MIG index: the valid ones are named" "unknown MIG device .0:5.: GPU 0 has 0:0 \(${MIG0[0]}" "$OUT"

run_gpu baduuid '["NVIDIA_VISIBLE_DEVICES=MIG-00000000-0000-0000-0000-000000000000"]' 'echo started'
check "an unknown MIG UUID: the container does not start" test "$RC" -ne 0
expect_match "an unknown MIG UUID: the valid ones are named" "unknown MIG device .*${MIG1[0]}" "$OUT"

MON='["NVIDIA_VISIBLE_DEVICES=0:1", "NVIDIA_MIG_MONITOR_DEVICES=all"]'
run_gpu monitor "$MON" 'ls /dev/nvidia-caps; cat /proc/driver/nvidia/capabilities/mig/monitor 2>&1'
expect_match "unprivileged monitor request: no monitor node" "^nvidia-cap21$" "$OUT"
check "unprivileged monitor request: no monitor node (cap2)" test "$(printf '%s\n' "$OUT" | grep -c '^nvidia-cap2$')" = 0
expect_match "unprivileged monitor request: no monitor capability file" "No such file" "$OUT"
expect_match "unprivileged monitor request: the hook logs why" "NVIDIA_MIG_MONITOR_DEVICES=all ignored" "$(cat "$SCRATCH/hook.log")"

run_gpu monitor-priv "$MON" 'ls /dev/nvidia-caps; cat /proc/driver/nvidia/capabilities/mig/monitor' privileged
expect_match "privileged monitor request: the monitor node" "^nvidia-cap2$" "$OUT"
expect_match "privileged monitor request: the monitor capability file" "DeviceFileMinor: 2" "$OUT"
check "privileged monitor request: no config node" test "$(printf '%s\n' "$OUT" | grep -c '^nvidia-cap1$')" = 0

run_gpu config-priv '["NVIDIA_VISIBLE_DEVICES=none", "NVIDIA_MIG_CONFIG_DEVICES=1"]' \
    'ls /dev/nvidia-caps /dev; find /proc/driver/nvidia/capabilities -type f' privileged
expect_match "privileged config request: the config node" "^nvidia-cap1$" "$OUT"
expect_match "privileged config request: GPU 1's node" "^nvidia1$" "$OUT"
expect_match "privileged config request: GPU 1's MIG capabilities" "capabilities/gpu1/mig/gi1/ci0/access" "$OUT"

# CDI: gctk-runtime applies the spec's edits for a MIG device; the create-container
# hook binds the access files of the instance whose cap nodes it has
if command -v jq >/dev/null; then
    VENDOR=gctk-mig-$$-$RANDOM.example.com
    SPEC=/var/run/cdi/gctk-mig-$$-$RANDOM.json
    remove_at_exit_if_new /var/run/cdi
    mkdir -p /var/run/cdi
    at_exit "rm -f $SPEC"
    check "gctk cdi generate writes a spec with MIG devices" \
        "$GCTK" cdi generate --root "$HOST" --vendor "$VENDOR" --device-name-strategy both --output "$SPEC"
    N=$((N + 1))
    b=$SCRATCH/bundle-$N
    rm -rf "$SCRATCH/rootfs-run"
    cp -a "$ROOTFS" "$SCRATCH/rootfs-run"
    make_bundle "$b" "$SCRATCH/rootfs-run" '["sh", "-c", "nvidia-smi -L; ls /dev/nvidia-caps; find /proc/driver/nvidia/capabilities -type f"]' '[]' none
    jq --arg d "$VENDOR/gpu=${MIG1[0]}" '.annotations = {"cdi.k8s.io/gctk-mig": $d}' "$b/config.json" >"$b/c.new" && mv "$b/c.new" "$b/config.json"
    OUT=$("$GCTK_RUNTIME" --root "$RUNC_ROOT" run -b "$b" "gctk-mig-$$-cdi" </dev/null 2>&1)
    runc --root "$RUNC_ROOT" delete -f "gctk-mig-$$-cdi" >/dev/null 2>&1
    expect_eq "CDI $VENDOR/gpu=MIG-...: nvidia-smi shows exactly that MIG device" \
        "  MIG 3g.40gb     Device  0: (UUID: ${MIG1[0]})" "$(printf '%s\n' "$OUT" | grep '^  MIG')"
    expect_eq "CDI MIG device: its access files, bound by the create-container hook" \
        "/proc/driver/nvidia/capabilities/gpu1/mig/gi1/access /proc/driver/nvidia/capabilities/gpu1/mig/gi1/ci0/access" \
        "$(printf '%s\n' "$OUT" | grep '^/proc/' | sort | tr '\n' ' ' | sed 's/ $//')"
fi

expect_eq "no mount left on the host" "$MOUNTS_BEFORE" "$(host_mounts)"
