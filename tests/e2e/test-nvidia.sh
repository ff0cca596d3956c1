#!/usr/bin/env bash
# NVIDIA's names end to end: nvidia-ctk (a link to gctk) does what gctk's own
# commands do, flag for flag; the commands of the install guide run verbatim
# against a private dockerd (Debian's docker.io) on a simulated 4-GPU host:
# `nvidia-ctk runtime configure --runtime=docker`, then `docker run --gpus all
# ... nvidia-smi`; nvidia-container-runtime (a link to gctk-runtime) serves
# as Docker's runtime under the name NVIDIA's own configuration gives it; and
# NVIDIA's config.toml changes what the hook and the runtime do.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/docker-lib.sh"

BIN=$SCRATCH/bin
mkdir -p "$BIN"
BUILD=$(cd "$GCTK_BUILD" && pwd)
ln -s "$BUILD/cmd/gctk" "$BIN/nvidia-ctk"
ln -s "$BUILD/cmd/gctk-runtime" "$BIN/nvidia-container-runtime"
NVCTK=$BIN/nvidia-ctk
RT=$BUILD/cmd/gctk-runtime
# what NVIDIA's commands read, from the environment of the run, stays out
unset NVIDIA_CTK_CONFIG_FILE_PATH XDG_CONFIG_HOME NVIDIA_CTK_CONFIG
for v in $(env | sed -n 's/^\(NVIDIA_CTK_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done

HOST=$SCRATCH/host
"$GCTK" sim create "$HOST" --gpus 4 >/dev/null || { not_ok "gctk sim create"; exit 1; }
cat >"$SCRATCH/gctk.conf" <<EOF
{"root": "$HOST", "log": "$SCRATCH/hook.log"}
EOF
export GCTK_CONFIG=$SCRATCH/gctk.conf

# ---- runtime configure: the same files as gctk's ---------------------------
D=$SCRATCH/cfg
mkdir -p "$D/a" "$D/b"
OUT=$("$NVCTK" runtime configure --runtime=docker --config "$D/a/daemon.json" 2>&1)
expect_eq "nvidia-ctk runtime configure --runtime=docker: exit 0" 0 "$?"
"$GCTK" runtime configure --runtime=docker --config "$D/b/daemon.json" >/dev/null 2>&1
expect_eq "nvidia-ctk runtime configure writes what gctk runtime configure writes" \
    "$(cat "$D/b/daemon.json")" "$(cat "$D/a/daemon.json")"
expect_eq "... the runtime is gctk-runtime beside it" "$RT" "$(jq -r .runtimes.nvidia.path "$D/a/daemon.json")"
expect_match "... and says how to apply it" "restart docker to apply it: systemctl restart docker" "$OUT"

printf '{"log-level": "warn"}\n' | tee "$D/a/daemon.json" >"$D/b/daemon.json"
"$NVCTK" runtime configure --runtime=docker --config="$D/a/daemon.json" --nvidia-set-as-default \
    --cdi.enabled >/dev/null 2>&1
"$GCTK" runtime configure --runtime=docker --config "$D/b/daemon.json" --set-as-default --cdi >/dev/null 2>&1
expect_eq "--nvidia-set-as-default --cdi.enabled: what gctk's --set-as-default --cdi write" \
    "$(cat "$D/b/daemon.json")" "$(cat "$D/a/daemon.json")"
expect_eq "... the user's setting kept, the default runtime and CDI set" "warn nvidia true" \
    "$(jq -r '"\(.["log-level"]) \(.["default-runtime"]) \(.features.cdi)"' "$D/a/daemon.json")"
expect_eq "... the old file kept beside it, as gctk keeps it" '{"log-level":"warn"}' \
    "$(jq -c . "$D/a/daemon.json.bak")"

for engine in containerd crio; do
    NV=$("$NVCTK" runtime configure --runtime=$engine --set-as-default --cdi.enabled --dry-run 2>&1)
    G=$("$GCTK" runtime configure --runtime=$engine --set-as-default --cdi --dry-run 2>&1)
    expect_eq "nvidia-ctk runtime configure --runtime=$engine --dry-run: gctk's drop-in" "$G" "$NV"
done
# the main file, the drop-in and the source of the settings: gctk's flags
NVF=(--runtime=containerd --config="$D/containerd/config.toml"
    --drop-in-config="$D/containerd/conf.d/50-gpu.toml" --config-source=file --dry-run)
NV=$("$NVCTK" runtime configure "${NVF[@]}" 2>&1)
G=$("$GCTK" runtime configure "${NVF[@]}" 2>&1)
expect_eq "nvidia-ctk runtime configure --config --drop-in-config --config-source=file: gctk's" "$G" "$NV"
OUT=$("$NVCTK" runtime configure --config-mode=oci-hook --oci-hook-path="$D/hook.json" 2>&1)
expect_eq "--config-mode=oci-hook: exit 0" 0 "$?"
"$GCTK" runtime configure --runtime=podman --config "$D/hook2.json" >/dev/null 2>&1
expect_eq "--config-mode=oci-hook --oci-hook-path: the hooks.d file gctk writes for Podman" \
    "$(cat "$D/hook2.json")" "$(cat "$D/hook.json")"

cp "$D/a/daemon.json" "$D/before.json"
OUT=$("$NVCTK" runtime configure --runtime=docker --config "$D/a/daemon.json" --nvidia-runtime-hook-path=/usr/bin/hook 2>&1)
expect_eq "a flag gctk does not take: exit 1" 1 "$?"
expect_eq "... one line naming the flag and what to do" \
    "nvidia-ctk runtime configure: --nvidia-runtime-hook-path is for --config-mode=oci-hook (the hook of Docker's --gpus is gctk-hook, installed as nvidia-container-runtime-hook)" \
    "$OUT"
expect_eq "... the file is left as it was" "$(cat "$D/before.json")" "$(cat "$D/a/daemon.json")"

# ---- cdi generate, cdi list: gctk's -----------------------------------------
S=$D/specs
mkdir -p "$S" "$D/gspec"
"$NVCTK" cdi generate --driver-root "$HOST" --output "$S/nv.yaml" 2>/dev/null
expect_eq "nvidia-ctk cdi generate --driver-root: exit 0" 0 "$?"
"$GCTK" cdi generate --root "$HOST" --device-name-strategy both --output "$D/gspec/g.yaml" 2>/dev/null
expect_eq "nvidia-ctk cdi generate: gctk's spec, devices by index and UUID (NVIDIA's default)" \
    "$(cat "$D/gspec/g.yaml")" "$(cat "$S/nv.yaml")"
expect_eq "... 4 GPUs by index and by UUID, and all" 9 \
    "$("$GCTK" cdi list --spec-dir "$S" 2>/dev/null | wc -l)"
# the driver root from NVIDIA's config.toml, as NVIDIA's command takes it
printf '[nvidia-container-cli]\nroot = "%s"\n' "$HOST" >"$D/nvroot.toml"
OUT=$(GCTK_CONFIG= NVIDIA_CTK_CONFIG_FILE_PATH="$D/nvroot.toml" "$NVCTK" cdi generate --format=json 2>/dev/null |
    jq -r '.devices[0].containerEdits.deviceNodes[0].hostPath')
expect_eq "nvidia-ctk cdi generate: the driver root of config.toml's nvidia-container-cli.root" \
    "$HOST/dev/nvidia0" "$OUT"
expect_eq "nvidia-ctk cdi list --spec-dir: gctk cdi list's" \
    "$("$GCTK" cdi list --spec-dir "$S" 2>&1)" "$("$NVCTK" cdi list --spec-dir "$S" 2>&1)"
OUT=$("$NVCTK" cdi generate --mode=csv 2>&1)
expect_eq "nvidia-ctk cdi generate --mode=csv: exit 1" 1 "$?"
expect_eq "... says gctk generates from the driver" \
    "nvidia-ctk cdi generate: --mode=csv is not supported by gctk: gctk generates the spec of the GPUs from the driver (--mode nvml, or auto)" \
    "$OUT"

# ---- system create-dev-char-symlinks --------------------------------------
if [ -c "$HOST/dev/nvidia0" ]; then
    OUT=$("$NVCTK" system create-dev-char-symlinks --driver-root "$HOST" --dev-char-path "$D/char" 2>&1)
    expect_eq "nvidia-ctk system create-dev-char-symlinks: exit 0" 0 "$?"
    expect_eq "... a link per node, each to the node of its numbers" \
        "195:0 195:1 195:2 195:254 195:255 195:3 510:0 510:1" \
        "$(for l in "$D/char"/*; do [ "$(stat -L -c '%t:%T' "$l")" = "$(basename "$l" | awk -F: '{ printf "%x:%x", $1, $2 }')" ] && basename "$l"; done | sort | tr '\n' ' ' | sed 's/ $//')"
    expect_eq "... gctk dev-char-links finds them made" \
        8 "$("$GCTK" dev-char-links --root "$HOST" --dev-char-path "$D/char" 2>&1 | grep -c '^present ')"
    OUT=$("$NVCTK" system create-dev-char-symlinks --load-kernel-modules 2>&1)
    expect_eq "--load-kernel-modules: refused with what to do" \
        "nvidia-ctk system create-dev-char-symlinks: --load-kernel-modules is not supported by gctk: gctk loads no kernel module: load the driver's modules first (\`nvidia-modprobe -u -c 0\`)" \
        "$OUT"
else
    skip "nvidia-ctk system create-dev-char-symlinks" "the simulated host has no device nodes (mknod not allowed)"
fi

# ---- config: NVIDIA's file edited, gctk's settings from it -----------------
NVT=$D/nvidia/config.toml
OUT=$("$NVCTK" config --config-file "$NVT" --set nvidia-container-cli.no-cgroups --set \
    nvidia-container-runtime.runtimes=crun:runc --in-place 2>&1)
expect_eq "nvidia-ctk config --set ... --in-place: exit 0" 0 "$?"
expect_eq "... the file holds the keys" "true crun,runc" \
    "$(GCTK_CONFIG= NVIDIA_CTK_CONFIG_FILE_PATH="$NVT" "$GCTK" config --json |
        jq -r '"\(."no-cgroups".value) \(.runtime.value | join(","))"')"
expect_eq "... gctk config says where they come from" "$NVT: nvidia-container-cli.no-cgroups" \
    "$(GCTK_CONFIG= NVIDIA_CTK_CONFIG_FILE_PATH="$NVT" "$GCTK" config --json | jq -r '."no-cgroups".from')"
OUT=$("$NVCTK" --config "$NVT" config 2>&1)
expect_match "nvidia-ctk config: the effective settings, NVIDIA's file named by --config" \
    "no-cgroups +true +\($NVT: nvidia-container-cli.no-cgroups\)" "$OUT"
OUT=$("$NVCTK" config --config-file "$NVT" --set nvidia-container-cli.rooot=/x -i 2>&1)
expect_eq "--set of a key NVIDIA does not have: refused" \
    "gctk: invalid --set option nvidia-container-cli.rooot=/x: \`nvidia-container-cli.rooot\` is no key of NVIDIA's config.toml (1.18); gctk.conf(5) lists them" \
    "$OUT"
"$NVCTK" config default --output "$D/default.toml" 2>/dev/null
expect_eq "nvidia-ctk config default: gctk's defaults, read back as they are" \
    "$("$GCTK" config default | jq -S -c '. + {"runtime": ["runc"]}')" \
    "$(GCTK_CONFIG= NVIDIA_CTK_CONFIG_FILE_PATH="$D/default.toml" "$GCTK" config --json | jq -S -c 'map_values(.value)')"

# a broken config.toml stops what reads the settings, with the file and the
# line; the doctor runs on and says so
mkdir -p "$HOST/etc/nvidia-container-runtime"
printf '[nvidia-container-cli]\nno-cgroups = \n' >"$HOST/etc/nvidia-container-runtime/config.toml"
OUT=$("$GCTK" info --no-nvml 2>&1)
expect_match "a broken config.toml: gctk info fails naming the file and line" \
    "^gctk: .$HOST/etc/nvidia-container-runtime/config.toml.: line 2, column [0-9]+: .*; fix the file \(NVIDIA's toolkit refuses it too\) or move it away$" "$OUT"
OUT=$("$GCTK" doctor --root "$HOST" --cdi-dir "$SCRATCH/no-cdi" --docker-host "unix://$SCRATCH/no.sock" 2>&1)
expect_match "... gctk doctor reports it as its config check" \
    "\[error\] config: .*config.toml.: line 2" "$OUT"
expect_match "... and runs the other checks" "\[ ok  \] driver: kernel module" "$OUT"
rm -f "$HOST/etc/nvidia-container-runtime/config.toml"

# ---- the install guide, verbatim, against a private dockerd ---------------
need_root "the install guide's commands against a private dockerd" || exit 0
missing=$(dk_missing)
if [ -n "$missing" ]; then skip "the install guide's commands" "missing: $missing"; exit 0; fi
command -v unshare >/dev/null || { skip "the install guide's commands" "missing: unshare (util-linux)"; exit 0; }
dk_versions

# The guide writes /etc/docker/daemon.json: here a private mount namespace
# puts this suite's directory there, so the machine's file is never touched.
# What dockerd needs of the file here (the identity key's place before 23.0)
# is in it first, as a host's own settings would be.
ETC=$SCRATCH/etc-docker
mkdir -p "$ETC"
dk_daemon_json "$ETC/daemon.json" "$SCRATCH/docker"
remove_at_exit_if_new /etc/docker
mkdir -p /etc/docker
OUT=$(PATH="$BIN:$PATH" unshare --mount --propagation private sh -c \
    "mount --bind '$ETC' /etc/docker && nvidia-ctk runtime configure --runtime=docker" 2>&1)
expect_eq "\`nvidia-ctk runtime configure --runtime=docker\`, verbatim: exit 0" 0 "$?"
expect_match "... configures /etc/docker/daemon.json and says to restart docker" \
    "configured the .nvidia. runtime \($RT\) in ./etc/docker/daemon.json.*restart docker to apply it: systemctl restart docker" \
    "$(printf '%s' "$OUT" | tr '\n' ' ')"
expect_eq "... the file is the one gctk runtime configure makes" "$RT" "$(jq -r .runtimes.nvidia.path "$ETC/daemon.json")"

at_exit dk_stop
if ! DK_DAEMON_JSON_FILE=$ETC/daemon.json dk_start "$SCRATCH/docker" "$GCTK_CONFIG" 2>"$SCRATCH/start.err"; then
    not_ok "the private dockerd starts on that daemon.json"; diag <"$SCRATCH/start.err"; exit 1
fi
ok "the private dockerd starts on the daemon.json nvidia-ctk wrote"
mapfile -t UUID < <("$GCTK" info --json --no-nvml | jq -r '.gpus[].uuid')
ROOTFS=$SCRATCH/rootfs
make_rootfs "$ROOTFS"
dk_import_image "$ROOTFS" gctk-test:latest || { not_ok "image imported from a local rootfs"; exit 1; }
uuids_seen() { printf '%s\n' "$OUT" | grep -o 'GPU-[0-9a-f-]*' | sort | tr '\n' ' '; }
uuids_of() { for i in "$@"; do echo "${UUID[$i]}"; done | sort | tr '\n' ' '; }
drun() {
    OUT=$(timeout 60 "$DOCKER" run --rm --network none "$@" 2>&1 </dev/null)
    RC=$?
}

drun --gpus all gctk-test nvidia-smi
expect_eq "\`docker run --rm --gpus all IMAGE nvidia-smi\`: exit 0" 0 "$RC"
expect_match "... nvidia-smi shows the GPUs" "NVIDIA-SMI" "$OUT"
drun --gpus all gctk-test nvidia-smi -L
expect_eq "... all 4 of them" "$(uuids_of 0 1 2 3)" "$(uuids_seen)"
drun --runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=runtime.nvidia.com/gpu=2 gctk-test nvidia-smi -L
expect_eq "--runtime=nvidia, NVIDIA_VISIBLE_DEVICES=runtime.nvidia.com/gpu=2 (NVIDIA's jit-cdi name): GPU 2" \
    "$(uuids_of 2)" "$(uuids_seen)"
drun --runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=0,nvidia.com/gpu=1 gctk-test true
check "a mix of GPU ids and CDI names does not start" test "$RC" -ne 0
expect_match "... and says why" "mixes CDI devices \(.nvidia.com/gpu=1.\) with GPU ids \(.0.\)" "$OUT"
drun --gpus all -e NVIDIA_REQUIRE_JETPACK=csv-mounts=all gctk-test nvidia-smi -L
expect_eq "an L4T image's NVIDIA_REQUIRE_JETPACK is no requirement: it starts" "$(uuids_of 0 1 2 3)" "$(uuids_seen)"

# ---- nvidia-container-runtime, as NVIDIA's configuration names it ---------
# NVIDIA's `nvidia-ctk runtime configure` writes the bare name, which
# dockerd looks up on its PATH (the suite's bin holds the link)
cp "$ETC/daemon.json" "$ETC/daemon.json.gctk"
jq '.runtimes.nvidia = {"args": [], "path": "nvidia-container-runtime"}' "$ETC/daemon.json.gctk" >"$ETC/daemon.json"
ln -s "$BUILD/cmd/gctk-runtime" "$SCRATCH/docker/bin/nvidia-container-runtime"
if dk_restart 2>"$SCRATCH/restart.err"; then ok "dockerd restarts with runtimes.nvidia.path = nvidia-container-runtime"; else
    not_ok "dockerd restarts with runtimes.nvidia.path = nvidia-container-runtime"; diag <"$SCRATCH/restart.err"; exit 1
fi
drun --runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=1,3 gctk-test nvidia-smi -L
expect_eq "--runtime=nvidia through nvidia-container-runtime: GPUs 1 and 3" "$(uuids_of 1 3)" "$(uuids_seen)"

# ---- NVIDIA's config.toml changes what the hook and the runtime do ---------
NVDIR=$HOST/etc/nvidia-container-runtime
mkdir -p "$NVDIR"
printf 'accept-nvidia-visible-devices-envvar-when-unprivileged = false\n' >"$NVDIR/config.toml"
drun --runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=all gctk-test sh -c 'nvidia-smi -L 2>&1; echo end'
expect_eq "config.toml: envvar-when-unprivileged = false: an unprivileged container gets no GPU" "" "$(uuids_seen)"
# privileged as NVIDIA's toolkit tells it: CAP_SYS_ADMIN in the bounding set
# (`--privileged` itself cannot run where the machine lacks some capability)
drun --cap-add SYS_ADMIN --runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=all gctk-test nvidia-smi -L
expect_eq "... a privileged one (CAP_SYS_ADMIN) still does" "$(uuids_of 0 1 2 3)" "$(uuids_seen)"
printf '{"root": "%s", "log": "%s", "accept-nvidia-visible-devices-envvar-when-unprivileged": true}\n' \
    "$HOST" "$SCRATCH/hook.log" >"$SCRATCH/gctk.conf"
drun --runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=all gctk-test nvidia-smi -L
expect_eq "... unless gctk's own config says otherwise: it wins" "$(uuids_of 0 1 2 3)" "$(uuids_seen)"
printf '{"root": "%s", "log": "%s"}\n' "$HOST" "$SCRATCH/hook.log" >"$SCRATCH/gctk.conf"

printf 'supported-driver-capabilities = "utility"\n' >"$NVDIR/config.toml"
drun --gpus all -e NVIDIA_DRIVER_CAPABILITIES=compute,utility gctk-test true
check "config.toml: supported-driver-capabilities = utility: a container asking for compute does not start" test "$RC" -ne 0
expect_match "... and is told why" "NVIDIA_DRIVER_CAPABILITIES asks for compute, which this host does not give containers \(supported-driver-capabilities: utility\)" "$OUT"
drun --gpus all gctk-test sh -c 'nvidia-smi -L; ls /usr/lib/x86_64-linux-gnu | grep -c libcuda'
expect_eq "... --gpus all (utility,compute by default) gets utility only: no libcuda" 0 "$(printf '%s\n' "$OUT" | tail -n 1)"

CDI_DIR=$SCRATCH/cdi
"$GCTK" cdi generate --root "$HOST" --output "$CDI_DIR/nvidia.yaml" >/dev/null 2>&1
printf '[nvidia-container-runtime]\nmode = "cdi"\n[nvidia-container-runtime.modes.cdi]\nspec-dirs = ["%s"]\n' \
    "$CDI_DIR" >"$NVDIR/config.toml"
: >"$SCRATCH/hook.log"
drun --runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=2 gctk-test nvidia-smi -L
expect_eq "config.toml: mode = cdi: NVIDIA_VISIBLE_DEVICES=2 is nvidia.com/gpu=2 of the spec dirs" "$(uuids_of 2)" "$(uuids_seen)"
# the log holds the spec's hook's line (it reads the runtime's settings), and
# no line of gctk-hook's
expect_match "... applied by the runtime from the spec: its hook ran" \
    " hook create-container done in [0-9.]+ ms" "$(cat "$SCRATCH/hook.log")"
expect_eq "... and gctk-hook never did" "" "$(grep -v ' hook create-container done in ' "$SCRATCH/hook.log")"
printf '[nvidia-container-runtime]\nmode = "cdi"\n[nvidia-container-runtime.modes.cdi]\nspec-dirs = ["%s/none"]\n' \
    "$CDI_DIR" >"$NVDIR/config.toml"
drun --runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=2 gctk-test true
expect_match "... spec dirs without a spec: refused with the device named" \
    "unresolvable CDI device .nvidia.com/gpu=2.: no spec in the CDI directories offers the kind .nvidia.com/gpu." "$OUT"

printf 'disable-require = true\n' >"$NVDIR/config.toml"
drun --gpus all -e 'NVIDIA_REQUIRE_CUDA=cuda>=99.0' gctk-test nvidia-smi -L
expect_eq "config.toml: disable-require = true: an image requiring CUDA 99 starts" "$(uuids_of 0 1 2 3)" "$(uuids_seen)"
rm -f "$NVDIR/config.toml"
drun --gpus all -e 'NVIDIA_REQUIRE_CUDA=cuda>=99.0' gctk-test true
check "... and without the file it does not" test "$RC" -ne 0
