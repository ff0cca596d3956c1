#!/usr/bin/env bash
# Verifies gctk on a machine with a real NVIDIA driver, as root:
#   tools/gpu-verify.sh CARRY OUT [ps|docker]
# CARRY holds bin/{gctk,gctk-hook,gctk-runtime,busybox} (gctk built with
# `meson setup build-static -Dprefer_static=true`, so only glibc is needed),
# lib/{libseccomp.so.2,libdevmapper.so.1.02.1} and docker.tar.xz (Debian's
# dockerd, containerd, containerd-shim-runc-v2, runc, docker, docker-init)
# and, for the Compose step, compose.xz (Debian 13's docker-compose plugin,
# xz-compressed; the step is skipped without it).
# NVIDIA's names (nvidia-ctk, config.toml, runtime.nvidia.com/gpu= names,
# /dev/char links) are checked against gctk's own commands.
# Everything it prints goes to OUT/verify.log; OUT also gets info.json,
# list.json, bench.csv and hook.log. Results are recorded in docs/real-gpu.md.
# The `gctk ps` step (a PyTorch container's allocation under its container
# name, against nvidia-smi and what PyTorch reports; OUT/ps.json) runs when
# PyTorch is at $GCTK_VERIFY_TORCH (default /opt/torch, its .venv/bin/python);
# with `ps` as third argument only that step runs (host, dockerd, ps); with
# `docker` the runc cases and timings are left out (host, CUDA rootfs, Docker,
# doctor, ps). GCTK_VERIFY_DRIVER_DIRS names the directories that hold the
# driver's libraries and programs (default /usr/local/nvidia's lib64, lib and
# bin), GCTK_VERIFY_EXCLUDE a file of paths the PyTorch image leaves out
# besides /usr/local (tools/gpu-relocate.sh sets both), GCTK_VERIFY_RUNTIME
# another OCI runtime than the carried runc for the runc steps (Docker keeps
# its own).
set -u
. "$(dirname "$0")/gpu/lib.sh"
gpu_begin "$1" "$2" verify.log gctk-verify
export PATH=$C/bin:$PATH
# the OCI runtime of the runc steps and of gctk-runtime: the carried Docker's
# runc, or GCTK_VERIFY_RUNTIME (crun, which takes runc's commands)
RUNC=${GCTK_VERIFY_RUNTIME:-$W/dk/bin/runc}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

mkdir -p "$W/dk"
tar -xJf "$C/docker.tar.xz" -C "$W/dk"
export LD_LIBRARY_PATH=$C/lib
ONLY=${3:-}
# full: every step runs (no third argument)
full() { [ -z "$ONLY" ]; }
S=unix://$W/docker.sock
D=$W/dk/bin/docker

# start_dockerd: Debian's dockerd with its own socket, data and exec roots,
# configured by `gctk runtime configure`, the hook on its PATH
start_dockerd() {
    mkdir -p "$W/hookbin"
    ln -sf "$C/bin/gctk-hook" "$W/hookbin/nvidia-container-runtime-hook"
    run gctk runtime configure --runtime=docker --config "$W/daemon.json" --runtime-path "$C/bin/gctk-runtime" --cdi.enabled
    # Docker 25 and later apply CDI specs themselves (--device): a spec of
    # its own directory, made under settings that log its hook's work
    mkdir -p "$W/cdi-docker"
    echo '{"root": "/", "log": "'"$W"'/docker-cdi-hook.log", "discovery-cache": "'"$W"'/cache"}' >"$W/gctk-docker-cdi.json"
    GCTK_CONFIG=$W/gctk-docker-cdi.json gctk cdi generate --vendor gctk.verify --output "$W/cdi-docker/gctk.yaml"
    python3 - "$W/daemon.json" "$W/cdi-docker" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["cdi-spec-dirs"] = [sys.argv[2]]
json.dump(c, open(sys.argv[1], "w"), indent=2)
EOF
    cat "$W/daemon.json"
    echo '{"root": "/", "log": "'"$W"'/docker-hook.log", "runtime": "'"$W"'/dk/bin/runc", "discovery-cache": "'"$W"'/cache"}' >"$W/gctk-docker.json"
    PATH=$W/hookbin:$W/dk/bin:$PATH GCTK_CONFIG=$W/gctk-docker.json setsid "$W/dk/bin/dockerd" -H "$S" \
        --data-root "$W/dkdata" --exec-root "$W/dkexec" --pidfile "$W/dockerd.pid" \
        --iptables=false --ip-masq=false --bridge=none --userland-proxy=false --config-file "$W/daemon.json" >"$W/dockerd.log" 2>&1 &
    for i in $(seq 1 60); do "$D" -H "$S" version >/dev/null 2>&1 && break; sleep 1; done
    run "$D" -H "$S" version --format '{{.Server.Version}}'
    "$D" -H "$S" info 2>/dev/null | grep -iE 'runtimes|storage driver|cgroup'
}

# spec_smi SPEC: where a YAML spec puts nvidia-smi in the container (the
# container path of its hook's --mount, or of its mount in a
# --runtime-mounts spec): its host path, as NVIDIA's specs do
spec_smi() {
    sed -n -e 's|^ *- /[^ ]*::\(/[^:]*/nvidia-smi\)::.*$|\1|p' \
        -e 's|^ *containerPath: \(/.*/nvidia-smi\)$|\1|p' "$1" | head -n 1
}

stop_dockerd() {
    kill "$(cat "$W/dockerd.pid")" 2>/dev/null
    for i in $(seq 1 20); do [ -e "$W/dockerd.pid" ] || break; sleep 0.5; done
    tail -n 5 "$W/dockerd.log"
}

# ps_step: a PyTorch container (--gpus device=0) allocates 4 GiB; `gctk ps`
# must list its python process under the container's name, with the PID the
# container gives it, on the host's GPU 0, with exactly the memory nvidia-smi
# reports for that PID: what PyTorch reserved plus its CUDA context.
TORCH=${GCTK_VERIFY_TORCH:-/opt/torch}
ps_step() {
    step "gctk ps: a PyTorch container's allocation under its container name"
    if [ ! -x "$TORCH/.venv/bin/python" ]; then
        echo "skipped: no PyTorch at $TORCH/.venv/bin/python (set GCTK_VERIFY_TORCH)"
        return 0
    fi
    # an image of the machine's own userland, without the driver (the hook
    # brings it); PyTorch from a read-only volume
    tar -C / -c --exclude=usr/local -X "${GCTK_VERIFY_EXCLUDE:-/dev/null}" bin sbin lib lib64 usr etc 2>/dev/null |
        "$D" -H "$S" import -c "ENV PATH=$TORCH/.venv/bin:/usr/bin:/bin" - gctk-torch:test >/dev/null
    local name=gctk-ps-torch line="" i
    "$D" -H "$S" rm -f "$name" >/dev/null 2>&1
    run "$D" -H "$S" run -d --name "$name" --gpus '"device=0"' -v "$TORCH:$TORCH:ro" \
        -v "$SRC/tools/gpu:/gctk-gpu:ro" --ipc=host --network none gctk-torch:test \
        python /gctk-gpu/torch-alloc.py
    for i in $(seq 1 180); do
        line=$("$D" -H "$S" logs "$name" 2>&1 | grep '^torch ' | tail -n 1)
        [ -n "$line" ] && break
        sleep 1
    done
    "$D" -H "$S" logs "$name" 2>&1 | tail -n 5
    if [ -z "$line" ]; then
        echo "gctk ps check: FAIL (PyTorch printed nothing in 180 s)"
        "$D" -H "$S" rm -f "$name" >/dev/null 2>&1
        return 1
    fi
    DOCKER_HOST=$S run gctk ps
    DOCKER_HOST=$S gctk ps --container "$name" --json >"$OUT/ps.json"
    echo "gctk ps --container $name: exit $? (0 expected)"
    DOCKER_HOST=$S gctk ps --container no-such-container >/dev/null 2>&1
    echo "gctk ps --container no-such-container: exit $? (1 expected)"
    nvidia-smi --query-compute-apps=pid,used_memory,gpu_uuid --format=csv,noheader,nounits |
        tee "$W/apps.csv"
    python3 "$SRC/tools/gpu/ps-check.py" "$OUT/ps.json" "$W/apps.csv" "${line#torch }" "$name" \
        "$OUT/info.json"
    python3 - "$S" <<'EOF'
import os, subprocess, sys, time
env = dict(os.environ, DOCKER_HOST=sys.argv[1])
for cmd in (["gctk", "ps"], ["gctk", "ps", "--json"],
            ["nvidia-smi", "--query-compute-apps=pid,used_memory,gpu_uuid", "--format=csv"]):
    t = []
    for _ in range(20):
        s = time.perf_counter(); subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); t.append((time.perf_counter() - s) * 1000)
    t.sort()
    print("%-62s p50 %7.2f ms  p95 %7.2f ms  min %7.2f ms" % (" ".join(cmd), t[10], t[18], t[0]))
EOF
    "$D" -H "$S" rm -f "$name" >/dev/null 2>&1
}

# compose_step: Debian 13's Compose v2 (the CLI plugin, run as the standalone
# docker-compose it also is) against the carried dockerd, where the carry
# holds it as compose.xz: each way a Compose file reserves GPUs, up with the
# image of the CUDA step, and `gctk compose check` of the same file.
compose_step() {
    if [ ! -f "$C/compose.xz" ]; then
        echo "skipped: no compose.xz in the carry"
        return 0
    fi
    xz -dc "$C/compose.xz" >"$W/dk/docker-compose" && chmod +x "$W/dk/docker-compose"
    local f=$W/compose n=0 all out rc chk crc cv
    mkdir -p "$f"
    run "$W/dk/docker-compose" version
    cv=$("$W/dk/docker-compose" version --short)
    all=$(seq -s ' ' 0 $((NGPU - 1)))
    # compose_case NAME EXPECTED-GPUS|fail DEVICES-OR-RUNTIME-YAML
    compose_case() {
        n=$((n + 1))
        cat >"$f/$1.yaml" <<YAML
services:
  gpu:
    image: gctk-gpu:test
    network_mode: none
    command: sh -c 'nvidia-smi -L; vecadd'
$3
YAML
        out=$(cd "$f" && DOCKER_HOST=$S timeout 120 "$W/dk/docker-compose" --ansi never -p "gctkv$n" \
            -f "$1.yaml" up --abort-on-container-exit --no-log-prefix 2>&1 </dev/null)
        rc=$?
        out=$(printf '%s\n' "$out" | sed 's/\x1b\[[0-9;]*[A-Za-z]//g') # its erase-line codes
        (cd "$f" && DOCKER_HOST=$S timeout 60 "$W/dk/docker-compose" -p "gctkv$n" -f "$1.yaml" down \
            >/dev/null 2>&1 </dev/null)
        chk=$(cd "$f" && gctk compose check --compose-version "$cv" --docker-host "$S" "$1.yaml" 2>&1)
        crc=$?
        echo "--- $1"
        sed -n '/^    image/,$p' "$f/$1.yaml"
        printf '%s\n' "$out" | grep -v '^ *Container \|^ *Network \|^Attaching\|^Aborting' | tail -n 12
        printf 'gctk compose check: exit %s\n%s\n' "$crc" "$chk"
        if [ "$2" = fail ]; then
            [ "$rc" -ne 0 ] && [ "$crc" -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^GPU '
        else
            # shellcheck disable=SC2086 # the indexes, one argument each
            [ "$rc" = 0 ] && [ "$crc" = 0 ] && saw_exactly "$out" $2
        fi
        echo "compose $1: $([ $? = 0 ] && echo PASS || echo FAIL)"
    }
    local dev='    deploy:
      resources:
        reservations:
          devices:'
    compose_case count-1 0 "$dev
            - driver: nvidia
              count: 1
              capabilities: [gpu]"
    compose_case count-all "$all" "$dev
            - driver: nvidia
              count: all
              capabilities: [gpu]"
    compose_case device-ids 0 "$dev
            - driver: nvidia
              device_ids: ['0']
              capabilities: [gpu]"
    compose_case capabilities-only "$all" "$dev
            - capabilities: [gpu]"
    compose_case legacy-runtime "$all" "    runtime: nvidia
    environment:
      - NVIDIA_VISIBLE_DEVICES=all"
    compose_case count-over-the-host fail "$dev
            - driver: nvidia
              count: $((NGPU + 1))
              capabilities: [gpu]"
    compose_case count-and-device-ids fail "$dev
            - driver: nvidia
              count: 1
              device_ids: ['0']
              capabilities: [gpu]"
}
if [ "$ONLY" = ps ]; then
    step "host"
    run nvidia-smi
    gctk info --json >"$OUT/info.json"
    start_dockerd
    ps_step
    stop_dockerd
    echo "verify: done"
    exit 0
fi

step "host"
run uname -r
run nvidia-smi
nvidia-smi --query-gpu=index,uuid,pci.bus_id,name,memory.total --format=csv | tee "$W/smi.csv"
run cat /proc/driver/nvidia/version
for f in /proc/driver/nvidia/gpus/*/information; do echo "== $f"; cat "$f"; done
stat -c '%n %F %t:%T' /dev/nvidia* /dev/nvidia-caps/* 2>&1
grep -E 'cgroup|nvidia' /proc/self/mountinfo | awk '{print $5, $9}'
NGPU=$(nvidia-smi -L | grep -c '^GPU')

step "settings: gctk's, and NVIDIA's config.toml where the host has one"
# gctk reads /etc/nvidia-container-runtime/config.toml when it is there,
# through its TOML module (gctk-toml.so, at the path gctk was built with:
# PREFIX/lib/x86_64-linux-gnu/gctk/): a CARRY without it fails every step
ls -l /etc/nvidia-container-runtime/config.toml 2>&1
if ! gctk config; then
    echo "gctk cannot read its settings: carry gctk-toml.so to the path above, or move NVIDIA's config.toml away"
    exit 1
fi

step "gctk info / list"
run gctk --version
run gctk info
gctk info --json | tee "$OUT/info.json"
gctk list --json >"$OUT/list.json"
run gctk list
python3 - "$W/smi.csv" "$OUT/info.json" "$OUT/list.json" <<'EOF'
import csv, json, os, re, sys
smi = list(csv.DictReader(open(sys.argv[1]), skipinitialspace=True))
info = json.load(open(sys.argv[2]))
bad = 0
for row, g in zip(smi, info["gpus"]):
    pairs = [("index", str(g["index"]), row["index"]), ("uuid", g["uuid"], row["uuid"]),
             ("pci.bus_id", g["bus_id"], row["pci.bus_id"]), ("name", g["model"], row["name"]),
             ("memory.total", "%s MiB" % g["memory_mib"], row["memory.total [MiB]"])]
    for k, mine, theirs in pairs:
        ok = mine == theirs
        bad += not ok
        print("%-13s gctk=%-44s nvidia-smi=%-44s %s" % (k, mine, theirs, "MATCH" if ok else "MISMATCH"))
print("gpus: gctk %d, nvidia-smi %d" % (len(info["gpus"]), len(smi)))
ver = info["driver_version"]
prefixes = ("libnvidia-ml libnvidia-cfg libnvidia-nscq libcuda libcudadebugger libnvidia-opencl "
            "libnvidia-gpucomp libnvidia-ptxjitcompiler libnvidia-fatbinaryloader libnvidia-allocator "
            "libnvidia-compiler libnvidia-pkcs11 libnvidia-pkcs11-openssl3 libnvidia-nvvm libnvidia-tileiras").split()
bins = "nvidia-smi nvidia-debugdump nvidia-persistenced nv-fabricmanager nvidia-cuda-mps-control nvidia-cuda-mps-server".split()
found = {os.path.basename(f["path"]) for f in json.load(open(sys.argv[3]))["files"]}
want = set()
dirs = os.environ.get("GCTK_VERIFY_DRIVER_DIRS",
                      "/usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/local/nvidia/bin").split()
for d in dirs:
    if os.path.isdir(d):
        for n in os.listdir(d):
            m = re.match(r"^(.*)\.so\.(.*)$", n)
            if os.path.islink(os.path.join(d, n)):
                continue
            if (m and m.group(1) in prefixes and m.group(2) == ver) or n in bins:
                want.add(n)
missing = sorted(want - found)
print("driver files of utility+compute under %s: %d, found by gctk list: %d, missing: %s"
      % (" ".join(dirs), len(want), len(want & found), missing or "none"))
print("info/list check:", "PASS" if bad == 0 and not missing and len(info["gpus"]) == len(smi) else "FAIL")
EOF

if full; then
step "MIG mode, CDI and doctor on the real driver"
run nvidia-smi --query-gpu=index,mig.mode.current --format=csv
gctk info | grep -i mig
mkdir -p "$W/cdi"
run gctk cdi generate --device-name-strategy both --output "$W/cdi/nvidia.yaml"
grep -E 'cdiVersion|kind|name:' "$W/cdi/nvidia.yaml" | head -n 12
run gctk cdi validate "$W/cdi/nvidia.yaml"
python3 - <<'PY'
import statistics, subprocess, time
t = []
for _ in range(20):
    s = time.perf_counter(); subprocess.run(["gctk", "cdi", "generate"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); t.append((time.perf_counter() - s) * 1000)
t.sort(); print("gctk cdi generate: p50 %.2f ms  min %.2f ms" % (t[10], t[0]))
PY
run gctk doctor --cdi-dir "$W/cdi" --cuda 12.4
run gctk doctor --cdi-dir "$W/cdi" --cuda 13.1

step "gctk info / list speed (20 runs each)"
python3 - <<'EOF'
import resource, statistics, subprocess, time
for cmd in (["gctk", "info", "--json", "--no-nvml"], ["gctk", "info", "--json"], ["gctk", "list"]):
    t = []
    for _ in range(20):
        s = time.perf_counter(); subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); t.append((time.perf_counter() - s) * 1000)
    t.sort()
    print("%-28s p50 %7.2f ms  p95 %7.2f ms  min %7.2f ms" % (" ".join(cmd), t[10], t[18], t[0]))
print("peak RSS of any run: %d KiB" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
EOF
fi

step "a busybox+glibc rootfs with a CUDA program"
R=$W/rootfs
cuda_rootfs "$R"
find "$R" -name '*.so*' | sed "s|$R||" | sort

cat >"$W/gctk.json" <<EOF
{"root": "/", "log": "$W/hook.log", "discovery-cache": "$W/cache"}
EOF
cat >"$W/gctk-nocg.json" <<EOF
{"root": "/", "log": "$W/hook.log", "no-cgroups": true, "discovery-cache": "$W/cache"}
EOF
# mkbundle DIR ARGS_JSON ENV_JSON CONFIG|none
mkbundle() {
    rm -rf "$1" "$1.rootfs"
    mkdir -p "$1"
    cp -a "$R" "$1.rootfs"
    (cd "$1" && "$RUNC" spec)
    python3 - "$1/config.json" "$1.rootfs" "$2" "$3" "$4" "$C/bin/gctk-hook" <<'EOF'
import json, os, sys
p, rootfs, args, env, cfg, hook = sys.argv[1:]
c = json.load(open(p))
c["root"] = {"path": rootfs, "readonly": False}
c["process"]["terminal"] = False
c["process"]["args"] = json.loads(args)
c["process"]["env"] += json.loads(env)
extra = json.loads(os.environ.get("HOOK_ENV", "[]"))  # more of the hook's environment
for k in ("bounding", "effective", "permitted"):  # more capabilities of the process
    c["process"]["capabilities"][k] += json.loads(os.environ.get("CAPS", "[]"))
c["hooks"] = {} if cfg == "none" else {"prestart": [{"path": hook, "args": ["gctk-hook", "prestart"], "env": ["GCTK_CONFIG=" + cfg] + extra}]}
json.dump(c, open(p, "w"))
EOF
}
# userns_bundle DIR: the bundle's container in a user namespace of its own,
# its root host uid 100000 (userns-remap, podman --userns), rootfs owned so
userns_bundle() {
    chown -R 100000:100000 "$1.rootfs"
    python3 - "$1/config.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["linux"]["namespaces"].append({"type": "user"})
m = [{"containerID": 0, "hostID": 100000, "size": 65536}]
c["linux"]["uidMappings"], c["linux"]["gidMappings"] = m, m
json.dump(c, open(sys.argv[1], "w"))
EOF
}
N=0
crun() { # crun NAME ARGS ENV [CONFIG]
    N=$((N + 1))
    mkbundle "$W/b$N" "$2" "$3" "${4:-$W/gctk.json}"
    echo "--- runc: $1"
    "$RUNC" --root "$W/runc" run -b "$W/b$N" "v$N" </dev/null
    echo "[exit $?]"
    "$RUNC" --root "$W/runc" delete -f "v$N" >/dev/null 2>&1
}

if full; then
step "runc + gctk-hook"
# On cgroup v2 the hook keeps the device programs it loads in bpffs for the
# next container (docs/cgroups.md); a host with systemd has bpffs mounted at
# /sys/fs/bpf, a bare VM may not
if [ -f /sys/fs/cgroup/cgroup.controllers ] && ! mountpoint -q /sys/fs/bpf &&
    grep -qw bpf /proc/filesystems && mount -t bpf bpf /sys/fs/bpf; then
    echo "mounted bpffs at /sys/fs/bpf, as systemd does"
fi
crun "all GPUs: nvidia-smi" '["nvidia-smi"]' '["NVIDIA_VISIBLE_DEVICES=all"]'
crun "all GPUs: nvidia-smi -L" '["nvidia-smi", "-L"]' '["NVIDIA_VISIBLE_DEVICES=all"]'
crun "all GPUs: a CUDA kernel" '["vecadd"]' '["NVIDIA_VISIBLE_DEVICES=all"]'
if [ "$NGPU" -ge 2 ]; then
    crun "NVIDIA_VISIBLE_DEVICES=1: nvidia-smi -L" '["nvidia-smi", "-L"]' '["NVIDIA_VISIBLE_DEVICES=1"]'
    crun "NVIDIA_VISIBLE_DEVICES=1: CUDA" '["vecadd"]' '["NVIDIA_VISIBLE_DEVICES=1"]'
    crun "NVIDIA_VISIBLE_DEVICES=1: what the container sees" '["sh", "-c", "ls /dev/nvidia*; ls /proc/driver/nvidia/gpus"]' '["NVIDIA_VISIBLE_DEVICES=1"]'
    # The driver's libraries make the device files they find missing where
    # /proc/driver/nvidia/params says ModifyDeviceFiles: 1 and the process may
    # mknod (Docker gives CAP_MKNOD): the hook's copy says 0, so a container
    # given GPU 1 keeps GPU 1's node alone (docs/performance.md, eighth pass)
    OUT_M=$(CAPS='["CAP_MKNOD"]' crun "NVIDIA_VISIBLE_DEVICES=1, CAP_MKNOD: /dev after nvidia-smi and CUDA" \
        '["sh", "-c", "nvidia-smi -L >/dev/null; vecadd >/dev/null; ls /dev | grep nvidia"]' '["NVIDIA_VISIBLE_DEVICES=1"]')
    echo "$OUT_M"
    if printf '%s\n' "$OUT_M" | grep -qx nvidia1 && ! printf '%s\n' "$OUT_M" | grep -qx nvidia0; then
        echo "no node made for a GPU not given (CAP_MKNOD): PASS"
    else
        echo "no node made for a GPU not given (CAP_MKNOD): FAIL"
    fi
fi
crun "utility only: no libcuda, CUDA fails" '["vecadd"]' '["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=utility"]'
crun "requirement cuda>=99" '["true"]' '["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_REQUIRE_CUDA=cuda>=99.0"]'
# an nvidia/cuda 12.4 image's requirement, brand clauses and all: met by the
# CUDA version alone; then one met only by the GPU's brand (NVML's) for this
# driver's branch
REQ124="cuda>=12.4 brand=tesla,driver>=470,driver<471 brand=unknown,driver>=470,driver<471"
REQ124="$REQ124 brand=nvidia,driver>=470,driver<471 brand=geforce,driver>=470,driver<471"
REQ124="$REQ124 brand=tesla,driver>=525,driver<526 brand=unknown,driver>=525,driver<526"
REQ124="$REQ124 brand=nvidia,driver>=525,driver<526 brand=tesla,driver>=535,driver<536"
DRV=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -n 1 | cut -d. -f1)
REQB="cuda>=99.0 brand=tesla,driver>=$DRV,driver<$((DRV + 1)) brand=nvidia,driver>=$DRV,driver<$((DRV + 1))"
for req in "$REQ124" "$REQB"; do
    OUT_R=$(crun "NVIDIA_REQUIRE_CUDA=$req" '["vecadd"]' "[\"NVIDIA_VISIBLE_DEVICES=0\", \"NVIDIA_REQUIRE_CUDA=$req\"]" 2>&1)
    echo "$OUT_R"
    grep ' done in \| error: ' "$W/hook.log" | tail -n 1
    printf '%s\n' "$OUT_R" | grep -q 'kernel ok' && v=PASS || v=FAIL
    echo "NVIDIA_REQUIRE_CUDA ${req%% *} with brand clauses: the container runs: $v"
done
echo "the GPU's brand (NVML): $(gctk info --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["gpus"][0]["brand"])')"
crun "unknown GPU 7" '["true"]' '["NVIDIA_VISIBLE_DEVICES=7"]'
crun "no-cgroups: the device cgroup (v2 BPF) still denies the GPU" '["nvidia-smi", "-L"]' '["NVIDIA_VISIBLE_DEVICES=0"]' "$W/gctk-nocg.json"
fi

step "a container of its own user namespace (its root is host uid 100000: userns-remap, podman --userns)"
N=$((N + 1))
mkbundle "$W/b$N" '["sh", "-c", "nvidia-smi -L && vecadd; stat -c \"%u:%g %n\" /etc/ld.so.cache; cat /proc/self/uid_map"]' \
    '["NVIDIA_VISIBLE_DEVICES=0"]' "$W/gctk.json"
chmod 755 "$W"
userns_bundle "$W/b$N"
echo "--- runc: user namespace, GPU 0 (expect the GPU, a CUDA kernel, 0:0 /etc/ld.so.cache)"
"$RUNC" --root "$W/runc" run -b "$W/b$N" "v$N" </dev/null
echo "[exit $?]"
"$RUNC" --root "$W/runc" delete -f "v$N" >/dev/null 2>&1
stat -c "on the host: %u:%g %n" "$W/b$N.rootfs/etc/ld.so.cache"
grep 'user namespace of its own' "$W/hook.log" | tail -n 1

step "graphics, display and all capabilities: the host's EGL, Vulkan and OpenCL files, links included"
# Where the driver put them (on the H200 machines: links into
# /usr/local/nvidia/share/...) and what gctk mounts for each.
CFG="/usr/share/glvnd/egl_vendor.d/10_nvidia.json /etc/glvnd/egl_vendor.d/10_nvidia.json
     /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json
     /etc/OpenCL/vendors/nvidia.icd"
if full; then
for p in $CFG; do
    [ -e "$p" ] || [ -L "$p" ] || continue
    echo "$p: $(stat -c %F "$p"), resolves to $(readlink -f "$p") ($(stat -L -c %F "$p" 2>&1))"
done
gctk list --capabilities all --json >"$OUT/list-all.json"
echo "\$ gctk list --capabilities all (warnings)"
gctk list --capabilities all >/dev/null
python3 - "$OUT/list-all.json" <<'EOF'
import json, sys
for f in json.load(open(sys.argv[1]))["files"]:
    if f["kind"] in ("config", "firmware"):
        print("%-8s %s <- %s" % (f["kind"], f["path"], f["host_path"]))
EOF
fi
# cfg_expect CAPS: "PATH MD5" for each file CAPS brings (the glvnd and Vulkan
# files with graphics and display, all of them with all), "PATH -" otherwise;
# the host's view: a link is followed from "/"
cfg_expect() {
    local p want
    for p in $CFG; do
        case "$1,$p" in
            all,* | graphics,*/glvnd/* | graphics,*/vulkan/* | display,*/glvnd/* | display,*/vulkan/*) want=1 ;;
            *) want=0 ;;
        esac
        if [ $want = 1 ] && [ -f "$p" ]; then echo "$p $(md5sum <"$p" | cut -d' ' -f1)"; else echo "$p -"; fi
    done
}
CFG_SEEN='for p in '$(echo $CFG)'; do
    if [ -f "$p" ]; then echo "$p $(md5sum <"$p" | cut -d" " -f1)"; else echo "$p -"; fi
done; ls /usr/lib/x86_64-linux-gnu | grep -E "^lib(EGL|GLX)_nvidia"'
CFG_ARGS=$(python3 -c 'import json, sys; print(json.dumps(["sh", "-c", sys.argv[1]]))' "$CFG_SEEN")
# cfg_check LABEL CAPS OUTPUT: PASS when the container started and saw what cfg_expect says
cfg_check() {
    echo "$3"
    if printf '%s\n' "$3" | grep -qx '\[exit 0\]' &&
        [ "$(printf '%s\n' "$3" | grep '^/')" = "$(cfg_expect "$2")" ]; then
        echo "$1 config files ($2): PASS"
    else
        echo "$1 config files ($2): FAIL; expected:"
        cfg_expect "$2"
    fi
}
if full; then
for caps in all graphics display; do
    cfg_check runc "$caps" "$(crun "NVIDIA_DRIVER_CAPABILITIES=$caps: the EGL, Vulkan and OpenCL files" \
        "$CFG_ARGS" "[\"NVIDIA_VISIBLE_DEVICES=0\", \"NVIDIA_DRIVER_CAPABILITIES=$caps\"]")"
done
crun "NVIDIA_DRIVER_CAPABILITIES=all: nvidia-smi -L" '["nvidia-smi", "-L"]' '["NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_DRIVER_CAPABILITIES=all"]'
crun "NVIDIA_DRIVER_CAPABILITIES=all: a CUDA kernel" '["vecadd"]' '["NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_DRIVER_CAPABILITIES=all"]'

step "injection parity: GSP firmware through firmware_class.path, development links, DRM nodes, IMEX"
# Each check prints PASS or FAIL (or skipped, with why); docs/nvidia-compat.md
# has the rows. The host's facts first.
echo "firmware_class.path: '$(cat /sys/module/firmware_class/parameters/path 2>&1)'"
ls -l /dev/dri /dev/dri/by-path 2>&1 | head -n 40
grep -E 'drm|nvidia' /proc/devices
ls /dev/nvidia-caps-imex-channels 2>&1 | head -n 5
# what gctk found, and what the kernel's search order says it must find
python3 - "$OUT/list-all.json" "$OUT/info.json" <<'EOF'
import json, os, sys
files = json.load(open(sys.argv[1]))["files"]
ver = json.load(open(sys.argv[2]))["driver_version"]
try:
    custom = open("/sys/module/firmware_class/parameters/path").read().strip().rstrip("/")
except OSError:
    custom = ""
rel = os.uname().release
dirs = ([custom] if custom.startswith("/") else []) + [
    "/lib/firmware/updates/" + rel, "/lib/firmware/updates", "/lib/firmware/" + rel, "/lib/firmware"]
want = {}
for d in dirs:
    sub = os.path.join(d, "nvidia", ver)
    if os.path.isdir(sub):
        for n in sorted(os.listdir(sub)):
            if n.startswith("gsp") and n.endswith(".bin") and n not in want:
                want[n] = os.path.join(sub, n)
got = {os.path.basename(f["path"]): f["path"] for f in files if f["kind"] == "firmware"}
print("firmware the kernel's order finds:", want or "none")
print("firmware gctk list mounts:        ", got or "none")
print("firmware check:", "PASS" if got == want and want else ("FAIL" if want or got else "skipped: no GSP firmware on this host"))
devs = sorted(f["dev"] for f in files if f.get("dev"))
print("development links gctk found beside the driver's libraries:", " ".join(devs) or "none")
EOF
# a CUDA image reads the cache with glibc's ldconfig; Ubuntu's /sbin/ldconfig
# is a script around ldconfig.real
LDC=/sbin/ldconfig.real
[ -x "$LDC" ] || LDC=/sbin/ldconfig
mkdir -p "$R/sbin" && cp -L "$LDC" "$R/sbin/ldconfig"
DEVS=$(python3 -c 'import json, sys; print(" ".join(sorted({f["dev"] for f in json.load(open(sys.argv[1]))["files"] if f.get("dev") and f["kind"] == "lib"})))' "$OUT/list-all.json")
PARITY='L=$(dirname "$(readlink -f /usr/lib/x86_64-linux-gnu/libcuda.so.1)")
ldconfig -p | grep -E "^[[:space:]]+libcuda\.so "
for d in libcuda.so '"$DEVS"'; do echo "dev $d -> $(readlink $L/$d)"; done
echo "dri: $(ls /dev/dri 2>/dev/null | tr "\n" " ")"
for b in /dev/dri/by-path/*; do [ -e "$b" ] && echo "by-path ${b##*/} -> $(readlink "$b")"; done
grep ModifyDeviceFiles /proc/driver/nvidia/params
for f in $(ls -d /lib/firmware/nvidia/*/gsp*.bin /usr/local/nvidia/firmware/nvidia/*/gsp*.bin 2>/dev/null); do echo "fw $f $(md5sum <$f | cut -d" " -f1)"; done'
PARITY_ARGS=$(python3 -c 'import json, sys; print(json.dumps(["sh", "-c", sys.argv[1]]))' "$PARITY")
OUT_P=$(crun "NVIDIA_DRIVER_CAPABILITIES=all, GPU 0: cache, development links, DRM, firmware" \
    "$PARITY_ARGS" '["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=all"]')
echo "$OUT_P"
printf '%s\n' "$OUT_P" | grep -q 'libcuda\.so (libc6,x86-64)' &&
    echo "libcuda.so in the container's ld.so.cache: PASS" || echo "libcuda.so in the container's ld.so.cache: FAIL"
bad=""
# each link as the host has it (libcuda.so -> libcuda.so.1; the driver's
# libnvidia-glcore.so -> libnvidia-glcore.so.580.159.04)
# (the host's driver directory: where its loader finds libcuda.so.1)
HL=$(dirname "$("$LDC" -p | awk '$1 == "libcuda.so.1" && /x86-64/ {print $NF; exit}')")
for d in libcuda.so $DEVS; do
    want=$(readlink "$HL/$d")
    printf '%s\n' "$OUT_P" | grep -qxF "dev $d -> ${want:-?}" || bad="$bad $d"
done
echo "development links (libcuda.so$([ -n "$DEVS" ] && echo " and the host's: $DEVS")): $([ -z "$bad" ] && echo PASS || echo "FAIL:$bad")"
printf '%s\n' "$OUT_P" | grep -qx 'ModifyDeviceFiles: 0' && echo "ModifyDeviceFiles: 0: PASS" || echo "ModifyDeviceFiles: 0: FAIL"
bad=""
while read -r n f; do
    [ -n "$f" ] || continue
    printf '%s\n' "$OUT_P" | grep -qx "fw $f $(md5sum <"$f" | cut -d' ' -f1)" || bad="$bad $f"
done < <(python3 -c 'import json, sys; [print("f", f["path"]) for f in json.load(open(sys.argv[1]))["files"] if f["kind"] == "firmware"]' "$OUT/list-all.json")
echo "firmware in the container at its host path: $([ -z "$bad" ] && echo PASS || echo "FAIL:$bad")"
# DRM: GPU 0's nodes by its PCI address, and no other
BUS0=$(python3 -c 'import json, sys; b = json.load(open(sys.argv[1]))["gpus"][0]["bus_id"]; print(b[4:].lower())' "$OUT/info.json")
want=""
for k in card render; do
    l=/dev/dri/by-path/pci-$BUS0-$k
    [ -L "$l" ] && want="$want ${l##*/} -> $(readlink "$l")"
done
if [ -z "$want" ]; then
    echo "DRM nodes of GPU 0: skipped: /dev/dri/by-path has no link for $BUS0 (nvidia-drm not loaded?)"
else
    seen=$(printf '%s\n' "$OUT_P" | sed -n 's/^by-path //p' | tr '\n' ' ' | sed 's/ $//')
    [ "$seen" = "${want# }" ] && echo "DRM nodes of GPU 0 ($want): PASS" || echo "DRM nodes of GPU 0: FAIL: saw '$seen', expected '${want# }'"
fi
# IMEX: channel 0 when the driver has channels
if grep -q nvidia-caps-imex-channels /proc/devices && [ -c /dev/nvidia-caps-imex-channels/channel0 ]; then
    OUT_I=$(crun "NVIDIA_IMEX_CHANNELS=0" '["ls", "/dev/nvidia-caps-imex-channels"]' '["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_IMEX_CHANNELS=0"]')
    echo "$OUT_I"
    printf '%s\n' "$OUT_I" | grep -qx channel0 && echo "IMEX channel 0: PASS" || echo "IMEX channel 0: FAIL"
else
    echo "IMEX channel 0: skipped: the driver has no IMEX channel node (/dev/nvidia-caps-imex-channels/channel0)"
fi
# the CDI spec: forward compatibility, NVIDIA_CTK_LIBCUDA_DIR, the firmware
grep -q -- '--host-driver-version' "$W/cdi/nvidia.yaml" && grep -q 'NVIDIA_CTK_LIBCUDA_DIR=' "$W/cdi/nvidia.yaml" &&
    echo "CDI spec: create-container --host-driver-version, NVIDIA_CTK_LIBCUDA_DIR: PASS" || echo "CDI spec: FAIL"
grep -E 'NVIDIA_CTK_LIBCUDA_DIR|gsp_.*\.bin' "$W/cdi/nvidia.yaml" | sort -u
# a CDI name through gctk-runtime: the spec's mounts made by its hook
# (docs/cdi.md), read-only; nvidia-smi and a CUDA kernel run on them
cat >"$W/gctk-cdi.json" <<EOF
{"root": "/", "log": "$W/hook.log", "runtime": "$RUNC", "cdi-spec-dirs": ["$W/cdi"]}
EOF
SMI=$(spec_smi "$W/cdi/nvidia.yaml")
# cdi_run NAME BUNDLE [userns]: the container, its output in $OUT_C, and the
# verdict: every spec mount by the hook, exactly GPU 0, a CUDA kernel,
# nvidia-smi's mount read-only
cdi_run() {
    mkbundle "$2" '["sh", "-c", "'"$SMI"' -L; vecadd; grep \" '"$SMI"' \" /proc/self/mountinfo | cut -d\" \" -f6"]' \
        '["NVIDIA_VISIBLE_DEVICES=nvidia.com/gpu=0"]' none
    if [ "${3:-}" = userns ]; then
        userns_bundle "$2"
    fi
    echo "--- gctk-runtime: $1"
    OUT_C=$(GCTK_CONFIG=$W/gctk-cdi.json "$C/bin/gctk-runtime" --root "$W/runc" run -b "$2" vcdi </dev/null 2>&1)
    echo "$OUT_C"
    "$RUNC" --root "$W/runc" delete -f vcdi >/dev/null 2>&1
    python3 - "$2/config.json" "$OUT_C" "$1" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
hook = c["hooks"]["createContainer"][0]["args"]
by_hook = hook.count("--mount")
dests = {a.split("::")[1] for a in hook if a.count("::") == 2}
by_runc = [m for m in c["mounts"] if m["destination"] in dests]
out = sys.argv[2].splitlines()
smi = [l for l in out if l.startswith("GPU ")]
ok = (by_hook > 20 and not by_runc and len(smi) == 1 and any("1 device(s)" in l for l in out)
      and any(l.startswith("ro,nosuid,nodev") for l in out))
print("%s: %d mounts by the hook, %d by runc, %d GPU(s): %s"
      % (sys.argv[3], by_hook, len(by_runc), len(smi), "PASS" if ok else "FAIL"))
EOF
}
cdi_run "CDI name through gctk-runtime" "$W/bcdi"
cdi_run "CDI name through gctk-runtime, a user namespace of its own" "$W/bcdiu" userns
cp "$W/hook.log" "$OUT/hook.log"
tail -n 30 "$W/hook.log"
fi

if full; then
step "runc start time: 50 runs each, interleaved (no hook / hook, not a GPU container / 1 GPU / all GPUs; with the discovery cache and without)"
echo "case,run,wall_us" >"$OUT/bench.csv"
# the bundles on tmpfs: on ext4 each start's files, deleted by the next, make
# every later file creation slower (ext4 scans recently deleted inodes), which
# would grow the times over the loop (docs/performance.md, "Start cost")
BT=$W
[ -d /dev/shm ] && BT=$(mktemp -d /dev/shm/gctk-verify.XXXXXX)
CASES="nohook void gpu1 all gpu1-nocache all-nocache"
for c in $CASES; do
    # each case its own log; the cache in $W/cache (nocache: off)
    cache="\"$W/cache\""
    case $c in *-nocache) cache=null ;; esac
    echo "{\"root\": \"/\", \"log\": \"$W/hook-$c.log\", \"discovery-cache\": $cache}" >"$W/gctk-$c.json"
    : >"$W/hook-$c.log"
done
for i in $(seq 1 50); do
    for c in $CASES; do
        cfg=$W/gctk-$c.json
        case $c in
            nohook) env='[]'; cfg=none ;;
            void) env='[]' ;;
            gpu1*) env='["NVIDIA_VISIBLE_DEVICES=0"]' ;;
            all*) env='["NVIDIA_VISIBLE_DEVICES=all"]' ;;
        esac
        mkbundle "$BT/bb" '["true"]' "$env" "$cfg" >/dev/null
        s=$(date +%s%N)
        "$RUNC" --root "$W/runc" run -b "$BT/bb" "bench-$c-$i" </dev/null >/dev/null 2>&1
        e=$(date +%s%N)
        "$RUNC" --root "$W/runc" delete -f "bench-$c-$i" >/dev/null 2>&1
        echo "$c,$i,$(((e - s) / 1000))" >>"$OUT/bench.csv"
    done
done
for c in $CASES; do
    [ "$c" = nohook ] && continue
    grep -o 'done in [0-9.]* ms' "$W/hook-$c.log" | awk -v c="$c" '{printf "hook-%s,,%d\n", c, $3 * 1000}' >>"$OUT/bench.csv"
    echo "$c: $(grep 'done in' "$W/hook-$c.log" | tail -n 1)"
    cat "$W/hook-$c.log" >>"$W/hook.log"
done
[ "$BT" != "$W" ] && rm -rf "$BT"
if mountpoint -q /sys/fs/bpf && [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    kept=$(find /sys/fs/bpf/gctk -maxdepth 1 -name 'devices-*' 2>/dev/null | wc -l)
    # one a distinct request (their reuse is tests/unit/test_cgroup.c's)
    echo "kept device programs in /sys/fs/bpf/gctk: $kept: $([ "$kept" -ge 1 ] && echo PASS || echo FAIL)"
fi
echo "discovery cache: $(grep -c 'cache used' "$W/hook-gpu1.log") of the gpu1 starts used it"
cp "$W/hook.log" "$OUT/hook.log"
python3 - "$OUT/bench.csv" <<'EOF'
import csv, sys, collections
d = collections.defaultdict(list)
for r in csv.DictReader(open(sys.argv[1])):
    d[r["case"]].append(float(r["wall_us"]) / 1000)
for k, v in d.items():
    v.sort(); n = len(v)
    print("%-12s n=%3d p50 %8.2f ms  p95 %8.2f ms  min %8.2f ms" % (k, n, v[n // 2], v[min(n - 1, int(n * 0.95))], v[0]))
EOF
fi

step "Docker (Debian's, carried) with gctk runtime configure and --gpus"
[ -f "$OUT/bench.csv" ] || echo "case,run,wall_us" >"$OUT/bench.csv"
start_dockerd
tar -C "$R" -c . | "$D" -H "$S" import - gctk-gpu:test >/dev/null
DR="$D -H $S run --rm --network none"
echo "--- docker run --rm --gpus all gctk-gpu:test nvidia-smi"; $DR --gpus all gctk-gpu:test nvidia-smi; echo "[exit $?]"
echo "--- --gpus all vecadd"; $DR --gpus all gctk-gpu:test vecadd; echo "[exit $?]"
if [ "$NGPU" -ge 2 ]; then echo "--- --gpus '\"device=1\"' nvidia-smi -L"; $DR --gpus '"device=1"' gctk-gpu:test nvidia-smi -L; echo "[exit $?]"; fi
echo "--- --gpus 1 vecadd"; $DR --gpus 1 gctk-gpu:test vecadd; echo "[exit $?]"
echo "--- --runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=0 nvidia-smi -L"; $DR --runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=0 gctk-gpu:test nvidia-smi -L; echo "[exit $?]"
echo "--- --gpus 9"; $DR --gpus 9 gctk-gpu:test true; echo "[exit $?]"
# Docker applies gctk's spec itself, runc its runtime: the spec's hook
# mounts the driver's files, runc none (docs/cdi.md)
if [ "$("$D" -H "$S" version --format '{{.Server.Version}}' | cut -d. -f1)" -ge 25 ]; then
    echo "--- --device gctk.verify/gpu=0 (Docker applies the spec, runc): nvidia-smi -L; vecadd"
    OUT_D=$($DR --device gctk.verify/gpu=0 gctk-gpu:test sh -c "$(spec_smi "$W/cdi-docker/gctk.yaml") -L; vecadd" 2>&1)
    echo "$OUT_D"
    tail -n 1 "$W/docker-cdi-hook.log"
    python3 - "$W/docker-cdi-hook.log" "$OUT_D" <<'EOF'
import re, sys
lines = [l for l in open(sys.argv[1]) if " hook create-container done in " in l]
m = re.search(r"mounts [0-9.]+ \(([0-9]+) mounts\)", lines[-1]) if lines else None
out = sys.argv[2].splitlines()
gpus = [l for l in out if l.startswith("GPU ")]
ok = m is not None and int(m.group(1)) > 20 and len(gpus) == 1 and any("1 device(s)" in l for l in out)
print("Docker --device of gctk's spec, runc as its runtime: %s mounts by the spec's hook, %d GPU(s): %s"
      % (m.group(1) if m else "no", len(gpus), "PASS" if ok else "FAIL"))
EOF
else
    echo "Docker --device of gctk's spec: skipped: Docker before 25 applies no CDI spec"
fi
echo "--- no --gpus: ls /dev/nvidia0"; $DR gctk-gpu:test ls /dev/nvidia0; echo "[exit $?]"
for caps in all graphics display; do
    echo "--- --gpus all -e NVIDIA_DRIVER_CAPABILITIES=$caps: the EGL, Vulkan and OpenCL files"
    cfg_check docker "$caps" "$($DR --gpus all -e NVIDIA_DRIVER_CAPABILITIES=$caps gctk-gpu:test sh -c "$CFG_SEEN" 2>&1; echo "[exit $?]")"
done
for c in plain gpus; do
    a=""; [ $c = gpus ] && a="--gpus all"
    for i in $(seq 1 10); do
        s=$(date +%s%N); $DR $a gctk-gpu:test true >/dev/null 2>&1; e=$(date +%s%N)
        echo "docker-$c,$i,$(((e - s) / 1000))" >>"$OUT/bench.csv"
    done
done
python3 - "$OUT/bench.csv" <<'EOF'
import csv, sys
for c in ("docker-plain", "docker-gpus"):
    v = sorted(float(r["wall_us"]) / 1000 for r in csv.DictReader(open(sys.argv[1])) if r["case"] == c)
    print("%-12s n=%d p50 %8.1f ms  min %8.1f ms" % (c, len(v), v[len(v) // 2], v[0]))
EOF
tail -n 5 "$W/docker-hook.log"
step "Compose: GPUs reserved under deploy.resources.reservations.devices"
compose_step
step "NVIDIA's names: nvidia-ctk, config.toml, jit-cdi names, /dev/char links"
mkdir -p "$W/nvbin"
ln -sf "$C/bin/gctk" "$W/nvbin/nvidia-ctk"
NV=$W/nvbin/nvidia-ctk
# the host's own NVIDIA config, if NVIDIA's toolkit was ever installed here:
# gctk reads it now; what it makes of each key
ls -l /etc/nvidia-container-runtime/ 2>&1
run gctk config
gctk doctor --docker-host "$S" --daemon-json "$W/daemon.json" --dockerd-pid "$(cat "$W/dockerd.pid")" \
    --cdi-dir "$W/cdi" 2>&1 | grep 'nvidia config'
run "$NV" --version
"$NV" cdi generate --output "$W/nv-cdi.yaml" 2>/dev/null
gctk cdi generate --device-name-strategy both --format yaml --output "$W/g-cdi.yaml" 2>/dev/null
if cmp -s "$W/nv-cdi.yaml" "$W/g-cdi.yaml"; then echo "nvidia-ctk cdi generate = gctk cdi generate (both names, yaml): PASS"
else echo "nvidia-ctk cdi generate = gctk cdi generate: FAIL"; diff "$W/g-cdi.yaml" "$W/nv-cdi.yaml" | head -n 20; fi
"$NV" runtime configure --runtime=docker --config "$W/nv-daemon.json" --nvidia-set-as-default >/dev/null 2>&1
gctk runtime configure --runtime=docker --config "$W/g-daemon.json" --set-as-default >/dev/null 2>&1
if cmp -s "$W/nv-daemon.json" "$W/g-daemon.json"; then echo "nvidia-ctk runtime configure = gctk runtime configure: PASS"
else echo "nvidia-ctk runtime configure = gctk runtime configure: FAIL"; fi
# /dev/char: what the host has (systemd's cgroup management needs these
# links), then the links made in a private directory, each checked
echo "host /dev/char links to NVIDIA nodes: $(for l in /dev/char/195:* /dev/char/$(awk '$2 == "nvidia-uvm" {print $1}' /proc/devices):*; do [ -e "$l" ] && echo "$l"; done 2>/dev/null | wc -l)"
run "$NV" system create-dev-char-symlinks --dev-char-path "$W/char"
bad=0
for l in "$W"/char/*; do
    n=$(basename "$l")
    want=$(printf '%x:%x' "${n%%:*}" "${n##*:}")
    [ "$(stat -L -c '%t:%T' "$l" 2>/dev/null)" = "$want" ] || { echo "MISMATCH $l"; bad=1; }
done
echo "nvidia-ctk system create-dev-char-symlinks: $(ls "$W/char" | wc -l) links, $([ $bad = 0 ] && echo PASS || echo FAIL)"
run "$NV" system create-dev-char-symlinks --create-all --dev-char-path "$W/char-all" --dry-run
crun "NVIDIA_VISIBLE_DEVICES=runtime.nvidia.com/gpu=0 (NVIDIA's jit-cdi name): nvidia-smi -L" '["nvidia-smi", "-L"]' '["NVIDIA_VISIBLE_DEVICES=runtime.nvidia.com/gpu=0"]'
crun "an L4T image's NVIDIA_REQUIRE_JETPACK: ignored, CUDA runs" '["vecadd"]' '["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_REQUIRE_JETPACK=csv-mounts=all"]'
# NVIDIA's config.toml needs the TOML module, which a -Dprefer_static build
# has not (docs/design.md): those rows only where this build reads TOML
if "$NV" config default --output "$W/nv-default.toml" 2>/dev/null; then
printf 'supported-driver-capabilities = "utility"\n' >"$W/nv-utility.toml"
HOOK_ENV='["NVIDIA_CTK_CONFIG_FILE_PATH='"$W"'/nv-utility.toml"]' crun "config.toml supported-driver-capabilities = utility, compute asked: refused" \
    '["vecadd"]' '["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=compute,utility"]'
HOOK_ENV='["NVIDIA_CTK_CONFIG_FILE_PATH='"$W"'/nv-utility.toml"]' crun "config.toml supported-driver-capabilities = utility, defaults: nvidia-smi works, no libcuda" \
    '["sh", "-c", "nvidia-smi -L; ls /usr/lib/x86_64-linux-gnu | grep -c libcuda"]' '["NVIDIA_VISIBLE_DEVICES=0"]'
# what NVIDIA's config.toml costs the hook on this machine: runc run with
# the hook and 1 GPU, 30 runs each, without and with NVIDIA's default file
for c in without with; do
    he='["XDG_CONFIG_HOME='"$W"'/none"]'
    [ $c = with ] && he='["NVIDIA_CTK_CONFIG_FILE_PATH='"$W"'/nv-default.toml"]'
    for i in $(seq 1 30); do
        HOOK_ENV=$he mkbundle "$W/bn" '["true"]' '["NVIDIA_VISIBLE_DEVICES=0"]' "$W/gctk.json" >/dev/null
        s=$(date +%s%N)
        "$RUNC" --root "$W/runc" run -b "$W/bn" "nvtoml-$c-$i" </dev/null >/dev/null 2>&1
        e=$(date +%s%N)
        "$RUNC" --root "$W/runc" delete -f "nvtoml-$c-$i" >/dev/null 2>&1
        echo "nvtoml-$c,$i,$(((e - s) / 1000))" >>"$OUT/bench.csv"
    done
done
python3 - "$OUT/bench.csv" <<'EOF'
import csv, sys
for c in ("nvtoml-without", "nvtoml-with"):
    v = sorted(float(r["wall_us"]) / 1000 for r in csv.DictReader(open(sys.argv[1])) if r["case"] == c)
    print("runc run, hook, 1 GPU, %-15s n=%d p50 %7.2f ms  min %7.2f ms" % (c + " config.toml", len(v), v[len(v) // 2], v[0]))
EOF
else
    echo "config.toml rows: skipped: this build has no TOML module (a -Dprefer_static build; tests/e2e/test-nvidia.sh covers them)"
fi

step "gctk doctor against this dockerd"
run gctk doctor --docker-host "$S" --daemon-json "$W/daemon.json" --dockerd-pid "$(cat "$W/dockerd.pid")" --cdi-dir "$W/cdi"
ps_step
stop_dockerd
echo "verify: done"
