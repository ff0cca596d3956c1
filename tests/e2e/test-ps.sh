#!/usr/bin/env bash
# gctk ps end to end: real processes in real containers, on a simulated host
# of 5 GPUs (GPU 3 in MIG mode with two MIG devices) whose mock NVML reports
# their PIDs (proc/driver/nvidia/gctk-sim-activity). Each process must come
# out under its container: runc in the foreground, a private Docker daemon
# (a GPU container through --gpus, Compose labels, a custom cgroup parent),
# Podman through its API socket, containerd through ctr (its own namespace,
# and k8s.io under a kubepods cgroup with kubelet's log links), and the
# systemd-driver and CRI-O names of Kubernetes given to runc containers as
# their cgroup paths (no systemd or CRI-O here: the names are theirs, the
# processes and the kernel's /proc are real). Then what one container holds
# (--container, its exit status), --watch, and a host without sockets.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/docker-lib.sh"

need_root "gctk ps end to end" || exit 0
command -v runc >/dev/null || { skip "gctk ps end to end" "runc is not installed"; exit 0; }

HOST=$SCRATCH/host
"$GCTK" sim create "$HOST" --gpus 5 --mig 3:1g.10gb,2g.20gb >/dev/null ||
    { not_ok "gctk sim create"; exit 1; }
ACT=$HOST/proc/driver/nvidia/gctk-sim-activity
CONF=$SCRATCH/gctk.conf
printf '{"root": "%s", "log": "%s/hook.log"}\n' "$HOST" "$SCRATCH" >"$CONF"
export GCTK_CONFIG=$CONF
ROOTFS=$SCRATCH/rootfs
make_rootfs "$ROOTFS"
chmod 755 "$SCRATCH"
TAG=gctk-e2e-$$
# what the engines make whatever their flags say: ctr's runc state and FIFOs
# under /run/containerd when not given others, rootful podman's runc state,
# image blob cache, CNI and netavark locks, and the CDI dir it looks at
remove_at_exit_if_new /run/containerd /run/runc /var/lib/containers /etc/cni/net.d/cni.lock \
    /run/containers /run/lock/netavark.lock /run/cdi
# the cgroups this suite names itself live under /$TAG in every hierarchy
rm_cgroups() {
    local m
    for m in $(findmnt -rn -t cgroup,cgroup2 -o TARGET); do
        [ -d "$m/$TAG" ] && find "$m/$TAG" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    return 0
}
at_exit rm_cgroups
hex64() { printf '%s' "$1" | sha256sum | cut -c1-64; }
uuid_of() { local h; h=$(hex64 "$1"); echo "${h:0:8}-${h:8:4}-${h:12:4}-${h:16:4}-${h:20:12}"; }

# wait_pid CMD...: polls CMD until it prints a live PID; prints it
wait_pid() {
    local i p
    for ((i = 0; i < 100; i++)); do
        p=$("$@" 2>/dev/null)
        if [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != null ] && kill -0 "$p" 2>/dev/null; then
            echo "$p"
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# ---- runc in the foreground, and runc containers given Kubernetes' names --------
# runc_fg VAR ID CGROUPS_PATH: `runc run` of `sleep`, in the background; its
# PID in VAR (not in a subshell: its cleanup must be registered here)
runc_fg() {
    local id=$2 b=$SCRATCH/bundle-$2
    make_bundle "$b" "$ROOTFS" '["sleep", "1000"]' '[]' none
    if [ -n "$3" ]; then
        jq --arg p "$3" '.linux.cgroupsPath = $p' "$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
    fi
    runc --root "$RUNC_ROOT" run -b "$b" "$id" </dev/null >"$SCRATCH/$id.log" 2>&1 &
    at_exit "runc --root $RUNC_ROOT kill $id KILL; sleep 0.2; runc --root $RUNC_ROOT delete -f $id"
    printf -v "$1" '%s' "$(wait_pid eval "runc --root $RUNC_ROOT state $id | jq -r .pid")"
}
U_BE=$(uuid_of be-$$)
U_BU=$(uuid_of bu-$$)
U_CR=$(uuid_of cr-$$)
X_BE=$(hex64 x-be-$$)
X_BU=$(hex64 x-bu-$$)
X_CR=$(hex64 x-cr-$$)
X_PM=$(hex64 x-pm-$$)
RUNC_ID=ps-runc-$$
runc_fg PID_RUNC "$RUNC_ID" ""
runc_fg PID_BE ps-be-$$ "/$TAG/kubepods/besteffort/pod$U_BE/$X_BE"
runc_fg PID_BU ps-bu-$$ "/$TAG/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${U_BU//-/_}.slice/cri-containerd-$X_BU.scope"
runc_fg PID_CR ps-cr-$$ "/$TAG/kubepods.slice/kubepods-pod${U_CR//-/_}.slice/crio-$X_CR.scope"
runc_fg PID_PM ps-pm-$$ "/$TAG/machine.slice/libpod-$X_PM.scope"
for v in PID_RUNC PID_BE PID_BU PID_CR PID_PM; do
    [ -n "${!v}" ] || { not_ok "runc container for $v started"; cat "$SCRATCH"/*.log | diag; exit 1; }
done

# ---- a host process, and a PID that is gone ----------------------------------------
sleep 1000 &
PID_HOST=$!
at_exit "kill $PID_HOST"
sh -c 'exit 0' &
PID_GONE=$!
wait "$PID_GONE"

# ---- Docker, containerd ----------------------------------------------------------------
missing=$(dk_missing)
DOCKER_OK=
if [ -n "$missing" ]; then
    skip "docker and containerd containers" "missing: $missing"
elif ! dk_start "$SCRATCH/dk" "$CONF" 2>"$SCRATCH/dk.err"; then
    not_ok "the private dockerd starts"; diag <"$SCRATCH/dk.err"
else
    at_exit dk_stop
    DOCKER_OK=1
    dk_import_image "$ROOTFS" gctk-ps:test
    DNAME=ps-docker-$$
    DID=$("$DOCKER" run -d --name "$DNAME" --network none --gpus '"device=1"' \
        --label com.docker.compose.project=demo --label com.docker.compose.service=web \
        gctk-ps:test sh -c 'sleep 1000 & sleep 1001')
    PID_D1=$(wait_pid "$DOCKER" inspect -f '{{.State.Pid}}' "$DID")
    PID_D2=$(wait_pid pgrep -P "$PID_D1" -x sleep)
    DPNAME=ps-parent-$$
    DPID=$("$DOCKER" run -d --name "$DPNAME" --network none --cgroup-parent "/$TAG/custom" \
        gctk-ps:test sleep 1000)
    PID_DP=$(wait_pid "$DOCKER" inspect -f '{{.State.Pid}}' "$DPID")
    CTR=(ctr --address "$SCRATCH/dk/containerd.sock")
    CNS=$TAG
    CID=job-$$
    CTR_RUN=(run -d --rootfs --env PATH=/bin --fifo-dir "$SCRATCH/ctr-fifo" --runc-root "$SCRATCH/ctr-runc")
    "${CTR[@]}" -n "$CNS" "${CTR_RUN[@]}" "$ROOTFS" "$CID" /bin/sleep 1000 \
        >"$SCRATCH/ctr.log" 2>&1
    at_exit "${CTR[*]} -n $CNS task kill -s KILL $CID; sleep 0.3; ${CTR[*]} -n $CNS task delete $CID; ${CTR[*]} -n $CNS c rm $CID"
    PID_CTR=$(wait_pid eval "${CTR[*]} -n $CNS task ls | awk '\$1 == \"$CID\" { print \$2 }'")
    U_K8=$(uuid_of k8-$$)
    X_K8=$(hex64 x-k8-$$)
    "${CTR[@]}" -n k8s.io "${CTR_RUN[@]}" \
        --cgroup "/$TAG/kubepods/burstable/pod$U_K8/$X_K8" "$ROOTFS" "$X_K8" /bin/sleep 1000 \
        >>"$SCRATCH/ctr.log" 2>&1
    at_exit "${CTR[*]} -n k8s.io task kill -s KILL $X_K8; sleep 0.3; ${CTR[*]} -n k8s.io task delete $X_K8; ${CTR[*]} -n k8s.io c rm $X_K8"
    PID_K8=$(wait_pid eval "${CTR[*]} -n k8s.io task ls | awk '\$1 == \"$X_K8\" { print \$2 }'")
    for v in PID_D1 PID_D2 PID_DP PID_CTR PID_K8; do
        [ -n "${!v}" ] || { not_ok "container for $v started"; diag <"$SCRATCH/ctr.log"; DOCKER_OK=; }
    done
fi

# ---- Podman, with its API socket ---------------------------------------------------------
PODMAN_OK=
if ! command -v podman >/dev/null; then
    skip "podman containers" "podman is not installed"
else
    PM=$SCRATCH/podman
    mkdir -p "$PM/tmp"
    PODMAN=(env -u DOCKER_HOST -u DOCKER_CONFIG podman --root "$PM/root" --runroot "$PM/runroot"
            --tmpdir "$PM/tmp" --runtime runc --cgroup-manager cgroupfs --events-backend none
            --storage-driver vfs)
    at_exit "${PODMAN[*]} rm -af -t 0; ${PODMAN[*]} system reset -f; umount -R $PM/root $PM/runroot"
    tar -C "$ROOTFS" -cf "$SCRATCH/rootfs.tar" .
    PNAME=ps-podman-$$
    if "${PODMAN[@]}" import "$SCRATCH/rootfs.tar" localhost/gctk-ps:test >/dev/null 2>"$SCRATCH/pm.err" &&
        PMID=$("${PODMAN[@]}" run -d --name "$PNAME" --network none --ulimit nofile=1024:1024 \
            --ulimit nproc=1024:1024 localhost/gctk-ps:test sleep 1000 2>>"$SCRATCH/pm.err"); then
        PID_PM2=$(wait_pid "${PODMAN[@]}" inspect -f '{{.State.Pid}}' "$PMID")
        "${PODMAN[@]}" system service --time 0 "unix://$PM/api.sock" >"$PM/service.log" 2>&1 &
        PM_SERVICE=$!
        at_exit "kill $PM_SERVICE"
        for ((i = 0; i < 100; i++)); do [ -S "$PM/api.sock" ] && break; sleep 0.1; done
        [ -n "$PID_PM2" ] && [ -S "$PM/api.sock" ] && PODMAN_OK=1
    fi
    [ -n "$PODMAN_OK" ] || { not_ok "podman container and API service start"; diag <"$SCRATCH/pm.err"; }
fi

# ---- kubelet's logs: the pod of the k8s.io container by its link, the CRI-O pod by its dir ----
for d in /var/log/pods /var/log/containers; do
    if [ ! -d "$d" ]; then mkdir -p "$d"; at_exit "rmdir $d"; fi
done
LINK=/var/log/containers/trainer-0_${TAG}_cuda-$X_K8.log
ln -s /dev/null "$LINK"
at_exit "rm -f $LINK"
PODDIR=/var/log/pods/${TAG}_llm-0_$U_CR
mkdir -p "$PODDIR/trainer"
at_exit "rm -rf $PODDIR"

# ---- what the simulated driver reports -------------------------------------------------
{
    echo "process 0 $PID_RUNC C 1024"
    echo "process 0 $PID_HOST G 12"
    echo "process 0 $PID_GONE C 64"
    echo "utilization 0 87 40"
    echo "process 2 $PID_BE C 101"
    echo "process 2 $PID_BU C 102"
    echo "process 2 $PID_CR C 103"
    echo "process 2 $PID_PM C+G 104"
    if [ -n "$DOCKER_OK" ]; then
        echo "process 1 $PID_D1 C 2048"
        echo "process 1 $PID_D2 C 512"
        echo "utilization 1 55 20"
        echo "process 2 $PID_DP C 105"
        echo "process 2 $PID_CTR C 106"
        echo "process 2 $PID_K8 C 107"
    fi
    [ -n "$PODMAN_OK" ] && echo "process 3:0 $PID_PM2 C 4864"
} >"$ACT"

PS=("$GCTK" ps --podman-host "unix://$SCRATCH/podman/api.sock")
J=$("${PS[@]}" --json 2>"$SCRATCH/ps.err")
RC=$?
expect_eq "gctk ps --json: exit 0" 0 "$RC"
expect_eq "gctk ps --json: no warning" "" "$(cat "$SCRATCH/ps.err")"
# row PID: "gpu engine id name used_mib type pod_ns/pod_name qos" of one process
row() {
    jq -r --argjson pid "$1" '.processes[] | select(.pid == $pid) |
        [.gpu, (.container.engine // "-"), (.container.id // "-"), (.container.name // "-"),
         .used_memory_mib, .type,
         ((.container.pod // {}) | "\(.namespace // "-")/\(.name // "-")"),
         ((.container.pod // {}).qos // "-")] | join(" ")' <<<"$J"
}
expect_eq "runc run (foreground): runc, its id" "0 runc $RUNC_ID - 1024 C -/- -" "$(row "$PID_RUNC")"
expect_eq "a host process: no container" "0 - - - 12 G -/- -" "$(row "$PID_HOST")"
expect_eq "a PID that is gone: listed, no name" "null" \
    "$(jq --argjson pid "$PID_GONE" '.processes[] | select(.pid == $pid) | .name' <<<"$J")"
expect_eq "kubepods cgroupfs, besteffort pod: its id, pod uid and QoS (runc is its parent)" \
    "2 runc $X_BE - 101 C -/- besteffort $U_BE" \
    "$(row "$PID_BE") $(jq -r --argjson pid "$PID_BE" '.processes[] | select(.pid == $pid) | .container.pod.uid' <<<"$J")"
expect_eq "kubepods systemd, burstable: containerd (k8s.io) from cri-containerd-<id>.scope" \
    "2 containerd $X_BU - 102 C -/- burstable k8s.io" \
    "$(row "$PID_BU") $(jq -r --argjson pid "$PID_BU" '.processes[] | select(.pid == $pid) | .container.namespace' <<<"$J")"
expect_eq "kubepods systemd, guaranteed, crio-<id>.scope: CRI-O, pod named by kubelet's pod dir" \
    "2 cri-o $X_CR - 103 C $TAG/llm-0 guaranteed" "$(row "$PID_CR")"
expect_eq "machine.slice/libpod-<id>.scope: Podman (no socket knows it: no name)" \
    "2 podman $X_PM - 104 C+G -/- -" "$(row "$PID_PM")"
expect_eq "the process name and command line" "sleep|sleep 1000" \
    "$(jq -r --argjson pid "$PID_RUNC" '.processes[] | select(.pid == $pid) | "\(.name)|\(.command)"' <<<"$J")"
expect_eq "the PID the container gives it (NSpid)" 1 \
    "$(jq -r --argjson pid "$PID_RUNC" '.processes[] | select(.pid == $pid) | .container_pid' <<<"$J")"
expect_eq "GPU 0: utilisation and memory in use" "87 40 1100" \
    "$(jq -r '.gpus[] | select(.id == "0") | "\(.utilization.gpu) \(.utilization.memory) \(.memory_used_mib)"' <<<"$J")"
expect_eq "GPU 4 and MIG device 3:1 are free" "3:1 4" \
    "$(jq -r '[.gpus[] | select(.free) | .id] | join(" ")' <<<"$J")"
expect_eq "GPU 3 in MIG mode is listed through its MIG devices" "0 1 2 3:0 3:1 4" \
    "$(jq -r '[.gpus[].id] | join(" ")' <<<"$J")"

if [ -n "$DOCKER_OK" ]; then
    expect_eq "docker: the container's first process, its name from Docker's socket" \
        "1 docker $DID $DNAME 2048 C -/- -" "$(row "$PID_D1")"
    expect_eq "docker: a second process of the same container" \
        "1 docker $DID $DNAME 512 C -/- -" "$(row "$PID_D2")"
    expect_eq "docker: Compose's project and service from its labels" "demo/web" \
        "$(jq -r --argjson pid "$PID_D1" '.processes[] | select(.pid == $pid) | .container.compose | "\(.project)/\(.service)"' <<<"$J")"
    expect_eq "docker --cgroup-parent: found through its containerd shim, named by Docker" \
        "2 docker $DPID $DPNAME 105 C -/- -" "$(row "$PID_DP")"
    expect_eq "ctr run: containerd, its namespace and id from its shim" \
        "2 containerd $CID - 106 C -/- - $CNS" \
        "$(row "$PID_CTR") $(jq -r --argjson pid "$PID_CTR" '.processes[] | select(.pid == $pid) | .container.namespace' <<<"$J")"
    expect_eq "k8s.io under kubepods: containerd, named with its pod by kubelet's log link" \
        "2 containerd $X_K8 cuda 107 C $TAG/trainer-0 burstable" "$(row "$PID_K8")"
    expect_eq "GPU 1: the utilisation the driver reports" 55 \
        "$(jq -r '.gpus[] | select(.id == "1") | .utilization.gpu' <<<"$J")"
    # the GPU container really got GPU 1 from the hook, the one the driver reports it on
    expect_match "the docker container was given GPU 1 (--gpus device=1)" "$(jq -r '.gpus[] | select(.id == "1") | .uuid' <<<"$J")" \
        "$("$DOCKER" exec "$DNAME" nvidia-smi -L 2>&1)"
fi
if [ -n "$PODMAN_OK" ]; then
    expect_eq "podman: on MIG device 3:0, named through Podman's API socket" \
        "3:0 podman $PMID $PNAME 4864 C -/- -" "$(row "$PID_PM2")"
    expect_match "podman: the MIG device's UUID" '^MIG-' \
        "$(jq -r --argjson pid "$PID_PM2" '.processes[] | select(.pid == $pid) | .mig_uuid' <<<"$J")"
fi

# the simulated nvidia-smi's Processes section lists the same processes
smi_pids() { "$HOST/usr/bin/nvidia-smi" | awk '/Processes:/ { on = 1 } on && $2 ~ /^[0-9:]+$/ { print $5 }' | sort -n | tr '\n' ' '; }
expect_eq "the simulated nvidia-smi lists the processes gctk ps lists" \
    "$(jq -r '.processes[].pid' <<<"$J" | sort -n | tr '\n' ' ')" "$(smi_pids)"

# ---- the table -----------------------------------------------------------------------------
T=$("${PS[@]}" 2>&1)
printf '%s\n' "$T" | diag
expect_match "table: the header" '^GPU +UUID +UTIL +PID +TYPE +PROCESS +MEMORY +ENGINE +CONTAINER +NAME +POD$' \
    "$(head -n 1 <<<"$T")"
expect_match "table: a free GPU" '^4 +GPU-[0-9a-f]{8} +0% +free$' "$(grep '^4 ' <<<"$T")"
expect_match "table: runc's process" "^0 +GPU-[0-9a-f]{8} +87% +$PID_RUNC +C +sleep +1024 MiB +runc +$RUNC_ID +- +-\$" \
    "$(grep " $PID_RUNC " <<<"$T")"
expect_match "table: a gone process is ?" " $PID_GONE +C +\? +64 MiB" "$(grep " $PID_GONE " <<<"$T")"
expect_match "table: a pod known by uid only" " uid:${U_BE:0:8}\$" "$(grep " $PID_BE " <<<"$T")"
if [ -n "$DOCKER_OK" ]; then
    expect_match "table: docker's short id and name" " docker +${DID:0:12} +$DNAME +-\$" "$(grep " $PID_D1 " <<<"$T")"
    expect_match "table: a pod as namespace/name" " containerd +${X_K8:0:12} +cuda +$TAG/trainer-0\$" "$(grep " $PID_K8 " <<<"$T")"
    TF=$("${PS[@]}" --no-trunc 2>&1)
    expect_match "table --no-trunc: the whole id" " docker +$DID +$DNAME " "$(grep " $PID_D1 " <<<"$TF")"
fi

# ---- what one container holds ---------------------------------------------------------------
OUT=$("${PS[@]}" --container "$RUNC_ID" 2>&1)
expect_eq "--container ID: exit 0" 0 "$?"
expect_eq "--container ID: its line only, under the header" 2 "$(wc -l <<<"$OUT")"
OUT=$("${PS[@]}" --container no-such-container-$$ 2>&1)
expect_eq "--container of a container holding no GPU: exit 1" 1 "$?"
expect_eq "--container of a container holding no GPU: says so" \
    "gctk: ps: no GPU process belongs to a container \`no-such-container-$$\`" "$OUT"
if [ -n "$DOCKER_OK" ]; then
    OUT=$("${PS[@]}" --container "$DNAME" --json 2>&1)
    expect_eq "--container NAME --json: exit 0" 0 "$?"
    expect_eq "--container NAME --json: its two processes, on GPU 1 only" "$PID_D1 $PID_D2|1" \
        "$(jq -r '"\([.processes[].pid] | join(" "))|\([.gpus[].id] | join(" "))"' <<<"$OUT")"
    OUT=$("${PS[@]}" --container "${DID:0:8}" 2>&1)
    expect_eq "--container PREFIX: exit 0, two lines" "0 3" "$? $(wc -l <<<"$OUT")"
    OUT=$("${PS[@]}" --container "$TAG/trainer-0" --json 2>&1)
    expect_eq "--container NAMESPACE/POD" "$PID_K8" "$(jq -r '[.processes[].pid] | join(" ")' <<<"$OUT")"
fi

# ---- --watch -----------------------------------------------------------------------------
timeout 1.5 "${PS[@]}" --json --watch 0.3 >"$SCRATCH/watch.out" 2>&1
N=$(wc -l <"$SCRATCH/watch.out")
check "--watch 0.3 --json: one JSON document a line, several in 1.5 s ($N)" test "$N" -ge 3
check "--watch: every line is a snapshot" test "$(jq -s 'map(.processes | length > 0) | all' "$SCRATCH/watch.out")" = true
echo "process 4 $PID_RUNC C 1" >>"$ACT"
timeout 1 "${PS[@]}" --json --watch 0.3 >"$SCRATCH/watch2.out" 2>&1
expect_eq "--watch: a process that starts shows at the next refresh" false \
    "$(head -n 1 "$SCRATCH/watch2.out" | jq '.gpus[] | select(.id == "4") | .free')"
OUT=$("$GCTK" ps --watch 0 2>&1)
expect_eq "--watch 0 is refused" "2|gctk: ps: bad --watch \`0\`: give seconds, 0.1 to 86400" "$?|$OUT"

# ---- no sockets: no names, and no error ---------------------------------------------------
OUT=$("$GCTK" ps --json --docker-host "unix://$SCRATCH/none.sock" --podman-host "unix://$SCRATCH/none.sock" 2>"$SCRATCH/ns.err")
expect_eq "no engine socket: exit 0, nothing on stderr" "0|" "$?|$(cat "$SCRATCH/ns.err")"
if [ -n "$DOCKER_OK" ]; then
    expect_eq "no engine socket: docker's container still found, without its name" "docker $DID null" \
        "$(jq -r --argjson pid "$PID_D1" '.processes[] | select(.pid == $pid) | "\(.container.engine) \(.container.id) \(.container.name)"' <<<"$OUT")"
fi
OUT=$("$GCTK" ps --json --docker-host tcp://127.0.0.1:1 2>&1 >/dev/null)
if [ -n "$DOCKER_OK" ]; then
    expect_match "a docker host that is not a socket: one warning, names unknown" \
        "^gctk: warning: Docker container names unknown: engine host .tcp://127.0.0.1:1.: only unix:// sockets are supported\$" "$OUT"
fi

# ---- a host without NVML ---------------------------------------------------------------------
mkdir "$SCRATCH/nvml.keep"
mv "$HOST"/usr/lib/x86_64-linux-gnu/libnvidia-ml.so* "$SCRATCH/nvml.keep/"
OUT=$("$GCTK" ps 2>&1)
expect_eq "no NVML: exit 1" 1 "$?"
expect_match "no NVML: says why" "^gctk: NVML is needed to list GPU processes" "$OUT"
"$GCTK" ps --container x >/dev/null 2>&1
expect_eq "no NVML, --container: exit 2 (not an answer)" 2 "$?"
mv "$SCRATCH"/nvml.keep/* "$HOST/usr/lib/x86_64-linux-gnu/"
