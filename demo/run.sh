#!/usr/bin/env bash
# The gctk demo (`make demo`): Docker and Compose giving GPUs to containers
# through gctk, end to end, on this machine.
#
#   demo/run.sh BUILD      (BUILD: the meson build dir, e.g. build)
#
# With a real NVIDIA driver (/proc/driver/nvidia/version) the host's GPUs are
# used; otherwise a simulated 4-GPU host is built in a temporary directory.
# A private dockerd (its own socket, data and containerd, configured by
# `gctk runtime configure`) runs the containers, so the system's docker is
# left alone. Everything is stopped and removed at the end, whatever happens.
# Needs root and: docker.io (and docker-cli where it is a package of its own),
# containerd, runc, docker-compose (1.29 or Compose v2), busybox-static, jq.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
GCTK_BUILD=$(cd "${1:?usage: demo/run.sh BUILD_DIR}" && pwd) || exit 1
export GCTK_BUILD
if [ "$(id -u)" != 0 ]; then
    echo "demo: run as root (it starts a private dockerd)" >&2
    exit 1
fi
# lib.sh gives make_rootfs and a scratch dir; its TAP exit trap is replaced
# by ours below, which runs what lib.sh and docker-lib.sh registered with
# at_exit (e.g. gctk's discovery cache, /run/gctk, when the demo made it)
. "$top/tests/e2e/lib.sh"
. "$top/tests/e2e/docker-lib.sh"
demo_cleanup() {
    local rc=$?
    dk_stop >/dev/null 2>&1
    for c in "${CLEANUP[@]}"; do eval "$c" >/dev/null 2>&1 || true; done
    rm -rf "$SCRATCH"
    if [ "$rc" -eq 0 ]; then echo "demo: done, everything stopped and removed"; else
        echo "demo: FAILED (status $rc); everything stopped and removed" >&2
    fi
    exit "$rc"
}
trap demo_cleanup EXIT

missing=$(dk_missing)
command -v jq >/dev/null || missing="$missing jq"
# the Compose a user of this machine types: Debian 13's `docker compose`
# (Compose v2), Debian 12's `docker-compose` (1.29)
[ -x "$DOCKER" ] && dk_composes
[ "${#COMPOSE_NAMES[@]}" -gt 0 ] || missing="$missing docker-compose"
[ -x /bin/busybox ] || missing="$missing /bin/busybox (busybox-static)"
if [ -n "${missing# }" ]; then
    echo "demo: missing: ${missing# } (\`make demo\` installs them)" >&2
    exit 1
fi

# The commands are shown as a user types them.
gctk() { "$GCTK_BUILD/cmd/gctk" "$@"; }
docker() { "$DOCKER" "$@"; }
# show CMD: prints `$ CMD`, runs it (a string, as typed), stops the demo if it fails
B='' C='' R=''
[ -t 1 ] && B=$'\033[1m' C=$'\033[1;34m' R=$'\033[0m'
show() {
    printf '\n%s$ %s%s\n' "$B" "$1" "$R"
    eval "$1"
    local rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "demo: \`$1\` failed with status $rc" >&2
        exit 1
    fi
}
say() { printf '\n%s== %s%s\n' "$C" "$*" "$R"; }

if [ -r /proc/driver/nvidia/version ]; then
    say "this machine has an NVIDIA driver: using its GPUs"
    ROOT=/
else
    say "no NVIDIA driver here: a simulated 4-GPU host (gctk sim create)"
    ROOT=$SCRATCH/host
    show "gctk sim create $ROOT --gpus 4"
fi
cat >"$SCRATCH/gctk.json" <<EOF
{"root": "$ROOT", "log": "$SCRATCH/gctk.log"}
EOF
export GCTK_CONFIG=$SCRATCH/gctk.json
echo "(GCTK_CONFIG=$GCTK_CONFIG: driver root \`$ROOT\`)"

show "gctk info"
NGPUS=$(gctk info --json --no-nvml | jq '.gpus | length')
if [ "${NGPUS:-0}" -lt 1 ]; then
    echo "demo: no GPU found" >&2
    exit 1
fi

say "a private dockerd, registered with gctk runtime configure"
D=$SCRATCH/docker
if ! dk_start "$D" "$GCTK_CONFIG"; then
    echo "demo: the private dockerd did not start" >&2
    exit 1
fi
echo "\$ gctk runtime configure --runtime=docker --config $DK_DAEMON_JSON --runtime-path $GCTK_BUILD/cmd/gctk-runtime"
cat "$D/configure.log"
show "cat $DK_DAEMON_JSON"
echo "dockerd: $DOCKER_HOST (nvidia-container-runtime-hook -> gctk-hook on its PATH)"
show "docker info --format 'Runtimes: {{range \$name, \$r := .Runtimes}}{{\$name}} {{end}}'"

say "a small image from a local rootfs (busybox and glibc, no driver inside)"
make_rootfs "$SCRATCH/rootfs"
# real drivers' tools may want these too; glibc >= 2.34 keeps them as stubs
for l in libpthread.so.0 libdl.so.2 librt.so.1; do
    [ -e "/lib/x86_64-linux-gnu/$l" ] && cp -L "/lib/x86_64-linux-gnu/$l" "$SCRATCH/rootfs/lib/x86_64-linux-gnu/"
done
show "tar -C $SCRATCH/rootfs -c . | docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - gctk-demo:latest"

say "docker run --gpus: every GPU"
show "docker run --rm --network none --gpus all gctk-demo nvidia-smi"

ONE=1
if [ "$NGPUS" -lt 2 ]; then
    ONE=0
    echo "(one GPU on this host: device=0 instead of device=1)"
fi
say "docker run --gpus: one GPU by index"
show "docker run --rm --network none --gpus '\"device=$ONE\"' gctk-demo nvidia-smi -L"

say "Compose: check the file against this host, then run it"
show "cat $top/demo/compose.yaml"
show "gctk compose check $top/demo/compose.yaml"
COMPOSE=${COMPOSE_NAMES[0]}
show "$COMPOSE --ansi never -p gctkdemo -f $top/demo/compose.yaml up --abort-on-container-exit --exit-code-from gpu"
show "$COMPOSE --ansi never -p gctkdemo -f $top/demo/compose.yaml down"

say "what gctk-hook did (its log)"
show "cat $SCRATCH/gctk.log"
