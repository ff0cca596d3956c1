#!/usr/bin/env bash
# Docker Swarm on a simulated 4-GPU host: `gctk runtime configure
# --swarm-resources` advertises each GPU as a named generic resource, Swarm
# assigns them to tasks, and the hook gives each task's container exactly the
# GPUs Swarm assigned (DOCKER_RESOURCE_NVIDIA-GPU). The variable's name has a
# hyphen, which busybox sh drops from the environment of its children: the
# tasks read it from /proc/1/environ.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/docker-lib.sh"

need_root "swarm end to end" || exit 0
missing=$(dk_missing)
if [ -n "$missing" ]; then skip "swarm end to end" "missing: $missing"; exit 0; fi
# Swarm's generic resources behave the same in Docker 20.10 and 26.1
dk_versions

HOST=$SCRATCH/host
"$GCTK" sim create "$HOST" --gpus 4 >/dev/null || { not_ok "gctk sim create"; exit 1; }
cat >"$SCRATCH/gctk.conf" <<EOF
{"root": "$HOST", "log": "$SCRATCH/hook.log", "swarm-resource": "NVIDIA-GPU"}
EOF
mapfile -t UUID < <("$GCTK" --root "$HOST" info --json --no-nvml | jq -r '.gpus[].uuid')

at_exit dk_stop
DK_CONFIGURE_ARGS="--swarm-resources --root $HOST" dk_start "$SCRATCH/docker" "$SCRATCH/gctk.conf" ||
    { not_ok "private dockerd starts"; exit 1; }
expect_eq "daemon.json advertises the 4 GPUs" \
    "$(printf 'NVIDIA-GPU=%s\n' "${UUID[@]}")" "$(jq -r '.["node-generic-resources"][]' "$DK_DAEMON_JSON")"

ROOTFS=$SCRATCH/rootfs
make_rootfs "$ROOTFS"
dk_import_image "$ROOTFS" gctk-test:latest >/dev/null || { not_ok "image import"; exit 1; }
# a port of its own: another dockerd on the machine may hold Swarm's 2377
PORT=$((20000 + RANDOM % 20000))
if ! "$DOCKER" swarm init --advertise-addr "127.0.0.1:$PORT" --listen-addr "127.0.0.1:$PORT" \
    >"$SCRATCH/swarm.log" 2>&1; then
    not_ok "docker swarm init"; diag <"$SCRATCH/swarm.log"; exit 1
fi
at_exit "$DOCKER swarm leave --force"
ok "a single-node swarm"
expect_match "the node offers 4 NVIDIA-GPU" "NVIDIA-GPU.*4|4.*NVIDIA-GPU" \
    "$("$DOCKER" node inspect self --format '{{json .Description.Resources.GenericResources}}')"

# service NAME GPUS: a service whose one task holds GPUS GPUs and stays up
service() {
    "$DOCKER" service create --detach --name "$1" --restart-condition none \
        --generic-resource "NVIDIA-GPU=$2" gctk-test:latest \
        sh -c 'tr "\\0" "\\n" </proc/1/environ | grep ^DOCKER_RESOURCE; nvidia-smi -L; sleep 600' >/dev/null
}
# task_output NAME: the output of the service's running container, once it
# has printed both its assignment and nvidia-smi's list
task_output() {
    local id i out
    for i in $(seq 1 200); do
        id=$("$DOCKER" ps -q --filter "label=com.docker.swarm.service.name=$1")
        out=$([ -n "$id" ] && "$DOCKER" logs "$id" 2>&1)
        if printf '%s' "$out" | grep -q '^DOCKER_RESOURCE' &&
            printf '%s' "$out" | grep -q '^GPU \|NVIDIA-SMI\|No devices'; then
            printf '%s\n' "$out"
            return 0
        fi
        sleep 0.2
    done
    "$DOCKER" service ps "$1" --no-trunc 2>&1 | diag >&2
    return 1
}
uuids_in() { printf '%s\n' "$1" | grep '^GPU ' | grep -o 'GPU-[0-9a-f-]*' | sort | tr '\n' ' '; }
# same_gpus NAME OUTPUT: the GPUs the container lists are the ones Swarm assigned (and some)
same_gpus() {
    local a s
    a=$(assigned_in "$2") s=$(uuids_in "$2")
    if [ -n "$a" ] && [ "$a" = "$s" ]; then ok "$1"; else
        not_ok "$1"; printf 'assigned: %s\nseen:     %s\n' "$a" "$s" | diag
    fi
}
assigned_in() { printf '%s\n' "$1" | sed -n 's/^DOCKER_RESOURCE_[^=]*=//p' | tr ',' '\n' | sort | tr '\n' ' '; }

service gpu-a 2
OUT_A=$(task_output gpu-a)
check "service a: its task runs" test -n "$OUT_A"
expect_match "Swarm assigns through DOCKER_RESOURCE_NVIDIA-GPU" "^DOCKER_RESOURCE_NVIDIA-GPU=GPU-" "$OUT_A"
same_gpus "service a: the container sees exactly the 2 GPUs Swarm assigned" "$OUT_A"
expect_eq "service a: 2 GPUs" 2 "$(printf '%s\n' "$OUT_A" | grep -c '^GPU ')"

service gpu-b 2
OUT_B=$(task_output gpu-b)
same_gpus "service b: the container sees exactly the 2 GPUs Swarm assigned" "$OUT_B"
both=$(printf '%s%s' "$(uuids_in "$OUT_A")" "$(uuids_in "$OUT_B")" | tr ' ' '\n' | grep . | sort -u | wc -l)
expect_eq "services a and b hold disjoint GPUs (4 different UUIDs)" 4 "$both"

service gpu-c 2
# the scheduler says so once it has tried: Pending, for want of resources
state_c() { STATE_C=$("$DOCKER" service ps gpu-c --format '{{.CurrentState}} {{.Error}}' 2>&1); }
pending_c() { state_c && printf '%s' "$STATE_C" | grep -Eq "Pending.*(no suitable node|insufficient)"; }
wait_until 30 pending_c || state_c
expect_match "service c waits: no GPU left" "Pending" "$STATE_C"
check "service c: no container started" test -z "$("$DOCKER" ps -q --filter label=com.docker.swarm.service.name=gpu-c)"
"$DOCKER" service rm gpu-a gpu-b gpu-c >/dev/null

# A stack from a Compose file with a generic resource reservation
cat >"$SCRATCH/stack.yaml" <<'EOF'
version: "3.8"
services:
  train:
    image: gctk-test:latest
    command: ['sh', '-c', 'tr "\0" "\n" </proc/1/environ | grep ^DOCKER_RESOURCE; nvidia-smi -L; sleep 600']
    deploy:
      resources:
        reservations:
          generic_resources:
            - discrete_resource_spec:
                kind: NVIDIA-GPU
                value: 3
    networks: [hostnet]
networks:
  # no overlay network on a daemon without a bridge: the host's
  hostnet:
    external: true
    name: host
EOF
# the services of the first part release their GPUs asynchronously
for i in $(seq 1 50); do [ -z "$("$DOCKER" ps -q)" ] && break; sleep 0.2; done
if "$DOCKER" stack deploy -c "$SCRATCH/stack.yaml" gstack >"$SCRATCH/stack.log" 2>&1; then
    OUT_S=$(task_output gstack_train)
    same_gpus "stack deploy: the task sees exactly the 3 GPUs Swarm assigned" "$OUT_S"
    expect_eq "stack deploy: 3 GPUs" 3 "$(printf '%s\n' "$OUT_S" | grep -c '^GPU ')"
    "$DOCKER" stack rm gstack >/dev/null 2>&1
else
    not_ok "docker stack deploy"; diag <"$SCRATCH/stack.log"
fi
