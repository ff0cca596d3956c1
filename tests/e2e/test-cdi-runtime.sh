#!/usr/bin/env bash
# gctk-runtime in CDI mode under real runc, on a simulated 4-GPU host: a
# bundle whose annotations (or NVIDIA_VISIBLE_DEVICES) name CDI devices gets
# the spec's edits in its config.json, and the container sees exactly those
# GPUs. The spec goes to /var/run/cdi under a vendor name unique to this run.
. "$(dirname "$0")/lib.sh"

need_root "CDI runtime end to end" || exit 0
command -v runc >/dev/null || { skip "CDI runtime end to end" "runc is not installed"; exit 0; }
versions "runc $(version_of runc --version)"
command -v jq >/dev/null || { skip "CDI runtime end to end" "jq is not installed"; exit 0; }
e2e_arch_ready "CDI runtime end to end" || exit 0

HOST=$SCRATCH/host
"$GCTK" sim create "$HOST" --gpus 4 "${E2E_SIM_ARGS[@]}" >/dev/null || { not_ok "gctk sim create"; exit 1; }
mapfile -t UUID < <("$GCTK" --root "$HOST" info --json --no-nvml | jq -r '.gpus[].uuid')
VENDOR=gctk-test-$$-$RANDOM.example.com
SPEC=/var/run/cdi/gctk-test-$$-$RANDOM.json
remove_at_exit_if_new /var/run/cdi
mkdir -p /var/run/cdi
at_exit "rm -f $SPEC"
check "gctk cdi generate writes the spec" \
    "$GCTK" cdi generate --root "$HOST" --vendor "$VENDOR" --output "$SPEC"
# the shim's own config: no GCTK_CONFIG needed in CDI mode, but the log
cat >"$SCRATCH/gctk.conf" <<CONF
{"root": "$HOST", "log": "$SCRATCH/hook.log"}
CONF
export GCTK_CONFIG=$SCRATCH/gctk.conf
# generated under GCTK_CONFIG, the spec's hook reads those settings too;
# without it (the spec above) its env is PATH alone
unset XDG_CONFIG_HOME NVIDIA_CTK_CONFIG_FILE_PATH
"$GCTK" cdi generate --root "$HOST" --vendor "$VENDOR" --format json --output "$SCRATCH/with-config.json"
expect_eq "a spec generated under GCTK_CONFIG: its hook's env names it" \
    "[\"PATH=/usr/sbin:/usr/bin:/sbin:/bin\",\"GCTK_CONFIG=$GCTK_CONFIG\"]" \
    "$(jq -c '.containerEdits.hooks[0].env' "$SCRATCH/with-config.json")"
# a relative GCTK_CONFIG is the generator's working directory's: the hook,
# which runs in another, is told the absolute path (and so is Podman's hook)
(cd "$SCRATCH" && GCTK_CONFIG=gctk.conf "$GCTK" cdi generate --root "$HOST" --vendor "$VENDOR" \
    --format json --output relative.json)
expect_eq "a spec generated under a relative GCTK_CONFIG: its hook is told the absolute path" \
    "[\"PATH=/usr/sbin:/usr/bin:/sbin:/bin\",\"GCTK_CONFIG=$GCTK_CONFIG\"]" \
    "$(jq -c '.containerEdits.hooks[0].env' "$SCRATCH/relative.json")"
(cd "$SCRATCH" && GCTK_CONFIG=gctk.conf "$GCTK" runtime configure --runtime=podman \
    --config hooks.d/gctk.json >/dev/null)
expect_eq "Podman's hooks.d entry under a relative GCTK_CONFIG: the absolute path" \
    "[\"PATH=/usr/sbin:/usr/bin:/sbin:/bin\",\"GCTK_CONFIG=$GCTK_CONFIG\"]" \
    "$(jq -c '.hook.env' "$SCRATCH/hooks.d/gctk.json")"
expect_eq "a spec generated without it: PATH alone" '["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]' \
    "$(jq -c '.containerEdits.hooks[0].env' "$SPEC")"

ROOTFS=$SCRATCH/rootfs
make_rootfs "$ROOTFS"
N=0
# run_cdi NAME ANNOTATIONS_JSON ENV_JSON SCRIPT: output in $OUT, status in $RC,
# the config.json the runtime saw in $SCRATCH/bundle-$N/config.json
run_cdi() {
    N=$((N + 1))
    local b=$SCRATCH/bundle-$N
    rm -rf "$SCRATCH/rootfs-run"
    cp -a "$ROOTFS" "$SCRATCH/rootfs-run"
    make_bundle "$b" "$SCRATCH/rootfs-run" "[\"sh\", \"-c\", $(jq -Rn --arg s "$4" '$s')]" "$3" none
    jq --argjson a "$2" '.annotations = $a' "$b/config.json" >"$b/c.new" && mv "$b/c.new" "$b/config.json"
    OUT=$("$GCTK_RUNTIME" --root "$RUNC_ROOT" run -b "$b" "gctk-cdi-$$-$N" </dev/null 2>&1)
    RC=$?
    runc --root "$RUNC_ROOT" delete -f "gctk-cdi-$$-$N" >/dev/null 2>&1
}
uuids_seen() { printf '%s\n' "$OUT" | grep -o 'GPU-[0-9a-f-]*' | sort | tr '\n' ' '; }
uuids_of() { for i in "$@"; do echo "${UUID[$i]}"; done | sort | tr '\n' ' '; }
MOUNTS_BEFORE=$(host_mounts)

run_cdi annotation "{\"cdi.k8s.io/gctk-test\": \"$VENDOR/gpu=1\"}" '[]' 'nvidia-smi -L; ls /dev/nvidia*'
expect_eq "annotation $VENDOR/gpu=1: nvidia-smi lists exactly GPU 1" "$(uuids_of 1)" "$(uuids_seen)"
expect_match "annotation: GPU 1's node and the control nodes only" "/dev/nvidia1" "$OUT"
check "annotation: no other GPU node" test -z "$(printf '%s\n' "$OUT" | grep -E '^/dev/nvidia[023]$')"
B=$SCRATCH/bundle-$N/config.json
expect_eq "config.json: the spec's device nodes and their cgroup rules" "195:1 rw" \
    "$(jq -r '.linux.resources.devices[] | select(.allow and .minor == 1 and .major == 195) | "\(.major):\(.minor) \(.access)"' "$B")"
expect_eq "config.json: no gctk-hook prestart hook in CDI mode" "0" "$(jq '[.hooks.prestart // [] | .[] | select(.path | test("gctk-hook"))] | length' "$B")"
expect_eq "config.json: every CDI hook has an explicit env" "0" "$(jq '[.hooks.createContainer[] | select(.env == null)] | length' "$B")"

run_cdi env '{}' "[\"NVIDIA_VISIBLE_DEVICES=$VENDOR/gpu=0,$VENDOR/gpu=3\"]" 'nvidia-smi -L; echo NVD=$NVIDIA_VISIBLE_DEVICES'
expect_eq "NVIDIA_VISIBLE_DEVICES with CDI names: GPUs 0 and 3" "$(uuids_of 0 3)" "$(uuids_seen)"
expect_match "the spec sets NVIDIA_VISIBLE_DEVICES=void for legacy hooks" "NVD=void" "$OUT"

run_cdi all "{\"cdi.k8s.io/x\": \"$VENDOR/gpu=all\"}" '[]' "nvidia-smi -L; readlink $E2E_LIBDIR/libcuda.so; grep ModifyDeviceFiles /proc/driver/nvidia/params"
expect_eq "=all: the 4 GPUs" "$(uuids_of 0 1 2 3)" "$(uuids_seen)"
expect_match "create-container hook: libcuda.so -> libcuda.so.1" "^libcuda.so.1" "$(printf '%s\n' "$OUT" | grep libcuda)"
expect_match "create-container hook: ModifyDeviceFiles: 0" "ModifyDeviceFiles: 0" "$OUT"
B=$SCRATCH/bundle-$N/config.json
expect_eq "=all: one hook process for the 4 GPUs" "1" "$(jq '.hooks.createContainer | length' "$B")"

# one GPU: one gctk process does the links (the GPU's /dev/dri/by-path names
# only: they are made where the runtime made the node), the ld.so.cache and
# the /proc mask
run_cdi one "{\"cdi.k8s.io/x\": \"$VENDOR/gpu=2\"}" '[]' \
    "readlink $E2E_LIBDIR/libcuda.so; ldconfig -p | grep -c \"libcuda.so.1 ($E2E_LDCONFIG_FLAGS) => $E2E_LIBDIR/\"; ls /proc/driver/nvidia/gpus | wc -l; ls /dev/dri/by-path | sort | tr '\\n' ' '; echo"
B=$SCRATCH/bundle-$N/config.json
expect_eq "gpu=2: config.json has one createContainer hook" "1" "$(jq '.hooks.createContainer | length' "$B")"
expect_eq "gpu=2: and it is create-container" "create-container" "$(jq -r '.hooks.createContainer[0].args[2]' "$B")"
BY_PATH=$(jq -r '.hooks.createContainer[0].args as $a | [range(0; $a | length) | select($a[.] == "--node-link") | $a[. + 1] | select(test("^\\.\\./(card|renderD)")) | split("::")[1] | ltrimstr("/dev/dri/by-path/")] | .[]' "$B" | sort)
WANT=$(for n in $(jq -r '.linux.devices[].path | select(startswith("/dev/dri/")) | ltrimstr("/dev/dri/")' "$B"); do
    jq -r --arg n "$n" '.hooks.createContainer[0].args as $a | [range(0; $a | length) | select($a[.] == "--node-link") | $a[. + 1] | select(startswith("../" + $n + "::")) | split("::")[1] | ltrimstr("/dev/dri/by-path/")] | .[]' "$B"
done | sort | tr '\n' ' ')
check "gpu=2: the spec has node links of other GPUs too" test "$(printf '%s\n' "$BY_PATH" | wc -l)" -gt 2
check "gpu=2: GPU 2 has DRM nodes" test -n "$WANT"
expect_eq "gpu=2: libcuda.so -> libcuda.so.1" "libcuda.so.1" "$(printf '%s\n' "$OUT" | sed -n 1p)"
expect_eq "gpu=2: libcuda.so.1 in the container's ld.so.cache" "1" "$(printf '%s\n' "$OUT" | sed -n 2p)"
expect_eq "gpu=2: /proc/driver/nvidia/gpus shows only GPU 2" "1" "$(printf '%s\n' "$OUT" | sed -n 3p)"
expect_eq "gpu=2: /dev/dri/by-path has GPU 2's names only" "$WANT" "$(printf '%s\n' "$OUT" | sed -n 4p)"

# the spec's mounts: made by its hook, not by runc; the spec gives them to
# the hook itself (--mount), so any engine that applies it gives runc none
spec_mounts_in() { jq --arg h "$HOST" '[.mounts[] | select(.source | startswith($h))] | length' "$1"; }
NSPEC=$(spec_mounts "$SPEC")
check "the spec gives its hook the driver's files, the runtime none" \
    test "$NSPEC" -gt 10 -a "$(jq '.containerEdits.mounts // [] | length' "$SPEC")" -eq 0
expect_eq "gpu=2: runc is given none of the spec's mounts" "0" "$(spec_mounts_in "$B")"
expect_eq "gpu=2: the hook is given every one of them" "$NSPEC" \
    "$(jq '[.hooks.createContainer[0].args[] | select(. == "--mount")] | length' "$B")"
# the hook reads the runtime's settings (its log, its discovery cache) and
# logs its work there, as gctk-hook does
expect_eq "gpu=2: the hook is given the runtime's GCTK_CONFIG" "1" \
    "$(jq --arg c "GCTK_CONFIG=$GCTK_CONFIG" '[.hooks.createContainer[0].env[] | select(. == $c)] | length' "$B")"
expect_match "gpu=2: the hook logs its steps and the spec's mounts it made" \
    "hook create-container done in [0-9.]+ ms: state [0-9.]+, host [0-9.]+, mounts [0-9.]+ \($NSPEC mounts\), links [0-9.]+ \([0-9]+ links\), ldcache [0-9.]+, proc [0-9.]+, cache (used|stored|missed)" \
    "$(tail -n 1 "$SCRATCH/hook.log")"
run_cdi mount-flags "{\"cdi.k8s.io/x\": \"$VENDOR/gpu=2\"}" '[]' \
    "grep ' /usr/bin/nvidia-smi ' /proc/self/mountinfo | cut -d' ' -f6; touch /usr/bin/nvidia-smi 2>/dev/null || echo refused"
expect_match "the hook's mount of nvidia-smi is the spec's: ro, nosuid, nodev" "^ro,nosuid,nodev" "$(printf '%s\n' "$OUT" | sed -n 1p)"
expect_eq "the hook's mount of nvidia-smi cannot be written" "refused" "$(printf '%s\n' "$OUT" | sed -n 2p)"
# a spec of --runtime-mounts (as earlier gctk versions and other tools write
# them): its mounts go to its hook too, the gctk beside the runtime
RT_VENDOR=rt-$VENDOR
RT_SPEC=/var/run/cdi/gctk-test-$$-$RANDOM-rt.json
at_exit "rm -f $RT_SPEC"
check "gctk cdi generate --runtime-mounts writes the spec" \
    "$GCTK" cdi generate --root "$HOST" --vendor "$RT_VENDOR" --runtime-mounts --output "$RT_SPEC"
expect_eq "--runtime-mounts: the spec's mounts, the hook's none" "$NSPEC 0" \
    "$(jq '.containerEdits.mounts | length' "$RT_SPEC") $(jq '[.containerEdits.hooks[0].args[] | select(. == "--mount")] | length' "$RT_SPEC")"
run_cdi runtime-mounts "{\"cdi.k8s.io/x\": \"$RT_VENDOR/gpu=2\"}" '[]' 'nvidia-smi -L'
B=$SCRATCH/bundle-$N/config.json
expect_eq "a --runtime-mounts spec: GPU 2" "$(uuids_of 2)" "$(uuids_seen)"
expect_eq "a --runtime-mounts spec: runc is given none of its mounts" "0" "$(spec_mounts_in "$B")"
expect_eq "a --runtime-mounts spec: the hook is given every one of them" "$NSPEC" \
    "$(jq '[.hooks.createContainer[0].args[] | select(. == "--mount")] | length' "$B")"
# one mount the hook does not make (rbind): runc makes them all, as written
RB_VENDOR=rb-$VENDOR
RB_SPEC=/var/run/cdi/gctk-test-$$-$RANDOM-rb.json
at_exit "rm -f $RB_SPEC"
jq --arg kind "$RB_VENDOR/gpu" '.kind = $kind | .containerEdits.mounts[0].options = ["ro", "nosuid", "nodev", "rbind"]' "$RT_SPEC" >"$RB_SPEC"
run_cdi rbind "{\"cdi.k8s.io/x\": \"$RB_VENDOR/gpu=2\"}" '[]' 'nvidia-smi -L'
B=$SCRATCH/bundle-$N/config.json
expect_eq "a spec with an rbind mount: the container gets GPU 2" "$(uuids_of 2)" "$(uuids_seen)"
expect_eq "a spec with an rbind mount: runc makes every mount" "$NSPEC" "$(spec_mounts_in "$B")"
expect_eq "a spec with an rbind mount: the hook makes none" "0" \
    "$(jq '[.hooks.createContainer[0].args[] | select(. == "--mount")] | length' "$B")"
expect_eq "a spec with an rbind mount: the hook still reads the runtime's settings" "1" \
    "$(jq --arg c "GCTK_CONFIG=$GCTK_CONFIG" '[.hooks.createContainer[0].env[] | select(. == $c)] | length' "$B")"
# a source that is not there: the container does not start, the hook says which
MISS_VENDOR=miss-$VENDOR
MISS_SPEC=/var/run/cdi/gctk-test-$$-$RANDOM-miss.json
at_exit "rm -f $MISS_SPEC"
jq --arg kind "$MISS_VENDOR/gpu" --arg src "$HOST/usr/bin/nvidia-gone" '
    .kind = $kind | .containerEdits.hooks[0].args as $a
    | ([range(0; $a | length) | select($a[.] == "--mount")] | last + 1) as $i
    | .containerEdits.hooks[0].args[$i] = $src + "::" + ($a[$i] | split("::")[1:] | join("::"))' \
    "$SPEC" >"$MISS_SPEC"
run_cdi missing "{\"cdi.k8s.io/x\": \"$MISS_VENDOR/gpu=2\"}" '[]' 'echo started'
check "a spec mount whose source is gone: the container does not start" test "$RC" -ne 0 -a -z "$(printf '%s' "$OUT" | grep started)"
expect_match "a spec mount whose source is gone: the error names it" "the source .$HOST/usr/bin/nvidia-gone.: No such file" "$OUT"
expect_match "a spec mount whose source is gone: the hook's log says it" \
    "hook create-container: error: .*the source .$HOST/usr/bin/nvidia-gone.: No such file" "$(tail -n 1 "$SCRATCH/hook.log")"

# a spec of an earlier gctk: its three hooks (create-symlinks, update-ldcache,
# mask-proc) still run, one process each
OLD_VENDOR=old-$VENDOR
OLD_SPEC=/var/run/cdi/gctk-test-$$-$RANDOM-old.json
at_exit "rm -f $OLD_SPEC"
jq --arg kind "$OLD_VENDOR/gpu" '
    def opts($names): . as $a | [range(3; $a | length; 2) | select(. as $i | $names | index($a[$i])) | $a[.], $a[. + 1]];
    .kind = $kind | .containerEdits.hooks[0] as $h | $h.args as $a
    | .containerEdits.hooks = [
        $h + {args: (["gctk", "hook", "create-symlinks"] + ($a | opts(["--link"])))},
        $h + {args: (["gctk", "hook", "update-ldcache"] + ($a | opts(["--folder", "--host-driver-version"])))},
        $h + {args: (["gctk", "hook", "mask-proc"] + ($a | opts(["--driver-root"])))}]' "$RT_SPEC" >"$OLD_SPEC"
run_cdi old-spec "{\"cdi.k8s.io/x\": \"$OLD_VENDOR/gpu=2\"}" '[]' \
    "readlink $E2E_LIBDIR/libcuda.so; ldconfig -p | grep -c \"libcuda.so.1 ($E2E_LDCONFIG_FLAGS) => $E2E_LIBDIR/\"; ls /proc/driver/nvidia/gpus | wc -l"
B=$SCRATCH/bundle-$N/config.json
expect_eq "a spec of an earlier gctk: its three hooks" "create-symlinks update-ldcache mask-proc" \
    "$(jq -r '[.hooks.createContainer[].args[2]] | join(" ")' "$B")"
expect_eq "a spec of an earlier gctk: links, ld.so.cache, /proc mask" "libcuda.so.1 1 1" "$(printf '%s\n' "$OUT" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "a spec of an earlier gctk: runc makes its mounts" "$NSPEC" "$(spec_mounts_in "$B")"

# what NVIDIA's toolkit 1.18 injects beyond the libraries, through the spec
# and its hooks alone (lib.sh, check_parity)
run_cdi parity "{\"cdi.k8s.io/x\": \"$VENDOR/gpu=1\"}" '[]' "$PARITY_SCRIPT; echo LIBCUDA_DIR=\$NVIDIA_CTK_LIBCUDA_DIR"
check_parity "CDI path"
expect_match "CDI path: NVIDIA_CTK_LIBCUDA_DIR, as NVIDIA's specs set it" "^LIBCUDA_DIR=$E2E_LIBDIR$" "$OUT"

# IMEX channels: the spec of `gctk cdi generate --imex-channels`
IMEX_SPEC=/var/run/cdi/gctk-test-$$-$RANDOM-imex.json
at_exit "rm -f $IMEX_SPEC"
check "gctk cdi generate --imex-channels writes the IMEX spec" \
    "$GCTK" cdi generate --root "$HOST" --vendor "$VENDOR" --imex-channels --output "$IMEX_SPEC"
run_cdi imex "{\"cdi.k8s.io/x\": \"$VENDOR/gpu=0,$VENDOR/imex-channel=1\"}" '[]' \
    'ls /dev/nvidia-caps-imex-channels; head -c 1 /dev/nvidia-caps-imex-channels/channel1 2>&1; nvidia-smi -L'
expect_eq "$VENDOR/imex-channel=1: exactly channel 1" "channel1" "$(printf '%s\n' "$OUT" | head -n 1)"
expect_match "$VENDOR/imex-channel=1: the container may open it" "No such device or address" "$OUT"
expect_eq "$VENDOR/imex-channel=1 with $VENDOR/gpu=0: GPU 0" "$(uuids_of 0)" "$(uuids_seen)"

run_cdi unknown "{\"cdi.k8s.io/x\": \"$VENDOR/gpu=7\"}" '[]' 'echo started'
check "unknown CDI device: the container does not start" test "$RC" -ne 0 -a -z "$(printf '%s' "$OUT" | grep started)"
expect_match "unknown CDI device: the error names the known devices" "unresolvable CDI device .$VENDOR/gpu=7.: .$VENDOR/gpu. offers 0, 1, 2, 3, all" "$OUT"

run_cdi plain '{}' '["NVIDIA_VISIBLE_DEVICES=2"]' 'nvidia-smi -L'
B=$SCRATCH/bundle-$N/config.json
expect_eq "NVIDIA_VISIBLE_DEVICES=2 (no CDI name): the hook path still works" "$(uuids_of 2)" "$(uuids_seen)"

# Forward compatibility in the spec (create-container --host-driver-version):
# the image's /usr/local/cuda/compat libcuda, newer than the driver, is the
# one a CUDA program loads; an older one is not
COMPAT_NEW=$SCRATCH/drv-new COMPAT_OLD=$SCRATCH/drv-old
"$GCTK" sim create "$COMPAT_NEW" --gpus 0 --driver 590.44.01 --cuda 13.1 "${E2E_SIM_ARGS[@]}" >/dev/null
"$GCTK" sim create "$COMPAT_OLD" --gpus 0 --driver 575.51.03 --cuda 12.9 "${E2E_SIM_ARGS[@]}" >/dev/null
cp "$E2E_SIM_TOOLS/cuda-devices" "$ROOTFS/bin/cuda-devices"
SAVED_ROOTFS=$ROOTFS
for v in new old; do
    rm -rf "$SCRATCH/rootfs-$v"
    cp -a "$SAVED_ROOTFS" "$SCRATCH/rootfs-$v"
    mkdir -p "$SCRATCH/rootfs-$v/usr/local/cuda/compat"
done
cp "$COMPAT_NEW$E2E_LIBDIR"/libcuda.so.590.44.01 "$SCRATCH/rootfs-new/usr/local/cuda/compat/"
cp "$COMPAT_OLD$E2E_LIBDIR"/libcuda.so.575.51.03 "$SCRATCH/rootfs-old/usr/local/cuda/compat/"
ROOTFS=$SCRATCH/rootfs-new
run_cdi compat-new "{\"cdi.k8s.io/x\": \"$VENDOR/gpu=0\"}" '[]' "cuda-devices; ldconfig -p | grep \"libcuda.so.1 ($E2E_LDCONFIG_FLAGS)\""
expect_match "CDI path, cuda-compat newer than the driver: used (CUDA 13.1)" "CUDA driver 13.1, 1 device" "$OUT"
expect_match "CDI path, cuda-compat newer: libcuda.so.1 in the ld.so.cache is the image's" "=> /usr/local/cuda/compat/libcuda.so.590.44.01" "$OUT"
ROOTFS=$SCRATCH/rootfs-old
run_cdi compat-old "{\"cdi.k8s.io/x\": \"$VENDOR/gpu=0\"}" '[]' 'cuda-devices'
expect_match "CDI path, cuda-compat older than the driver: ignored (CUDA 13.0)" "CUDA driver 13.0, 1 device" "$OUT"
ROOTFS=$SAVED_ROOTFS

expect_eq "no mount left on the host" "$MOUNTS_BEFORE" "$(host_mounts)"
expect_eq "no container left" "" "$(runc --root "$RUNC_ROOT" list -q)"

# gctk runtime configure --runtime=containerd: a drop-in the main file imports
# (tests/e2e/test-cri.sh runs a CRI on it; tests/unit/test_cri.c the versions)
if command -v containerd >/dev/null; then
    CD=$SCRATCH/containerd
    mkdir -p "$CD"
    OUT=$("$GCTK" runtime configure --runtime=containerd --config "$CD/config.toml" \
        --drop-in-config "$CD/conf.d/99-gctk.toml" --runtime-path /usr/bin/gctk-runtime --set-as-default 2>&1)
    expect_match "containerd without a main file: gctk writes one that imports the drop-in" \
        "\`$CD/config.toml\` now imports it" "$OUT"
    DUMP=$(containerd --config "$CD/config.toml" config dump 2>&1)
    expect_match "containerd config dump: the nvidia runtime with gctk-runtime" \
        'BinaryName = "/usr/bin/gctk-runtime"' "$DUMP"
    expect_match "containerd config dump: nvidia is the default runtime" 'default_runtime_name = "nvidia"' "$DUMP"
    expect_match "containerd config dump: runc is still there" 'runtimes.runc]' "$DUMP"
    check "containerd: --remove takes the drop-in and the main file gctk wrote away" \
        sh -c "'$GCTK' runtime configure --runtime=containerd --config '$CD/config.toml' --drop-in-config '$CD/conf.d/99-gctk.toml' --remove >/dev/null && test ! -e '$CD/conf.d/99-gctk.toml' && test ! -e '$CD/config.toml'"
else
    skip "containerd drop-in" "containerd is not installed"
fi
printf '[crio.runtime]\ndefault_runtime = "runc"\n[crio.runtime.runtimes.runc]\nruntime_root = "/run/runc"\n' >"$SCRATCH/crio.conf"
OUT=$("$GCTK" runtime configure --runtime=crio --config "$SCRATCH/crio.conf" \
    --drop-in-config "$SCRATCH/crio.conf.d/99-gctk.conf" --runtime-path /usr/bin/gctk-runtime 2>&1)
expect_match "crio: the drop-in registers the runtime, runc's settings carried over" \
    "runtime_path = '/usr/bin/gctk-runtime'" "$(cat "$SCRATCH/crio.conf.d/99-gctk.conf")"
expect_match "crio: runc's settings carried over" \
    "runtime_root = '/run/runc'" "$(cat "$SCRATCH/crio.conf.d/99-gctk.conf")"
