# A private Docker daemon for the Docker/Compose suites and the demo:
# its own containerd, socket, data root, exec root and daemon.json, all in
# one directory, so the system's docker (/var/run/docker.sock,
# /var/lib/docker) is never touched.
#
#   . tests/e2e/docker-lib.sh
#   dk_start DIR GCTK_CONFIG_FILE    # sets DOCKER_HOST, DOCKER, DK_DAEMON_JSON
#                                    # (DK_CONFIGURE_ARGS: more `gctk runtime configure` flags;
#                                    # DK_DAEMON_SETTINGS: a JSON object of daemon.json keys;
#                                    # DK_DAEMON_JSON_FILE: a daemon.json configured already,
#                                    # used as it is)
#   dk_restart                       # dockerd again, on the same containerd and daemon.json
#   dk_composes                      # COMPOSE_NAMES, COMPOSE_VERSIONS: the Composes here
#   dk_stop                          # idempotent; call it at exit whatever happens
#   dk_import_image ROOTFS NAME      # a local rootfs dir as an image
#
# Needs GCTK_BUILD (the meson build dir) and root. Debian's docker.io daemon
# and client (20.10 on Debian 12; 26.1 on Debian 13, whose client is the
# docker-cli package) are used by absolute path: another `docker` on PATH
# (e.g. a newer client in /usr/local/bin) must not speak to this daemon.
# DOCKER_VERSION, DOCKER_CLI_VERSION, CONTAINERD_VERSION and RUNC_VERSION say
# what the suite runs against; dk_versions prints them.
DK_DOCKERD=${DK_DOCKERD:-/usr/sbin/dockerd}
DOCKER=${DK_DOCKER_CLIENT:-/usr/bin/docker}
DK_CONTAINERD=${DK_CONTAINERD:-/usr/bin/containerd}
# what this machine has: 20.10 on Debian 12, 26.1 on Debian 13
DOCKER_VERSION=$(version_of "$DK_DOCKERD" --version)
DOCKER_CLI_VERSION=$(version_of "$DOCKER" --version)
CONTAINERD_VERSION=$(version_of "$DK_CONTAINERD" --version)
RUNC_VERSION=$(version_of runc --version)
DK_DIR=
DK_DOCKERD_PID=
DK_CONTAINERD_PID=
# Where dockerd and containerd make directories whatever their flags say:
# dockerd's plugin sockets, the containerd shims' sockets. dk_stop removes
# those dk_start did not find (they are empty once the daemons are gone).
DK_FIXED_DIRS=(/run/docker /run/docker/plugins /run/containerd /run/containerd/s)
DK_NEW_DIRS=()

# dk_versions: the diagnostic line of what the suite runs against
dk_versions() {
    local more=""
    [ $# -eq 0 ] || more=$(printf ', %s' "$@")
    versions "dockerd $DOCKER_VERSION, docker $DOCKER_CLI_VERSION, containerd $CONTAINERD_VERSION, runc $RUNC_VERSION$more"
}

# dk_composes: the Composes of this machine in COMPOSE_NAMES ("docker-compose",
# "docker compose") and COMPOSE_VERSIONS. Debian 12 has Compose 1.29 (python,
# `docker-compose`); Debian 13 has Compose v2, the CLI plugin, and its
# /usr/bin/docker-compose is a link to it: the same Compose, listed once as
# `docker compose`.
dk_composes() {
    COMPOSE_NAMES=() COMPOSE_VERSIONS=()
    local plugin standalone
    plugin=$(version_of "$DOCKER" compose version --short)
    standalone=$(command -v docker-compose >/dev/null && version_of docker-compose version --short)
    if [ -n "$plugin" ]; then COMPOSE_NAMES+=("docker compose"); COMPOSE_VERSIONS+=("$plugin"); fi
    if [ -n "$standalone" ] && [ "$standalone" != "$plugin" ]; then
        COMPOSE_NAMES+=("docker-compose"); COMPOSE_VERSIONS+=("$standalone")
    fi
}

# dk_compose_cmd NAME: DK_COMPOSE, the command line of the Compose named by
# dk_composes ("docker compose" is the plugin of the client used here)
dk_compose_cmd() {
    if [ "$1" = "docker compose" ]; then DK_COMPOSE=("$DOCKER" compose); else DK_COMPOSE=(docker-compose); fi
}

# dk_missing: prints what this machine lacks to run the private daemon
dk_missing() {
    local m=""
    [ -x "$DK_DOCKERD" ] || m="$m $DK_DOCKERD (docker.io)"
    [ -x "$DOCKER" ] || m="$m $DOCKER (docker.io)"
    [ -x "$DK_CONTAINERD" ] || m="$m $DK_CONTAINERD (containerd)"
    command -v runc >/dev/null || m="$m runc"
    command -v containerd-shim-runc-v2 >/dev/null || m="$m containerd-shim-runc-v2 (containerd)"
    printf '%s' "${m# }"
}

# _dk_wait_socket PATH PID SECONDS: waits until PATH is a socket, fails early
# when PID has died
_dk_wait_socket() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        [ -S "$1" ] && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# dk_daemon_json FILE DIR: the daemon.json the private dockerd starts with:
# DK_DAEMON_SETTINGS (a JSON object of daemon.json keys, none by default)
# and, for a dockerd before 23.0, the place of its identity key under DIR
# (it writes /etc/docker/key.json unless told otherwise; 23.0 dropped the
# key). Writes FILE only when there is something to say.
dk_daemon_json() {
    local settings=${DK_DAEMON_SETTINGS:-'{}'}
    if ! version_ge "$DOCKER_VERSION" 23; then
        settings=$(jq -n --argjson s "$settings" --arg k "$2/key.json" '$s + {"deprecated-key-path": $k}')
    fi
    [ "$settings" = '{}' ] || printf '%s\n' "$settings" >"$1"
}

# dk_start DIR GCTK_CONFIG_FILE: starts containerd and dockerd under DIR.
# dockerd's environment carries GCTK_CONFIG (the hook Docker adds for --gpus
# runs with dockerd's environment), so does containerd's (gctk-runtime runs
# under containerd's shim). A PATH entry of DIR/bin holds
# nvidia-container-runtime-hook -> gctk-hook: Docker 20.10 registers its
# nvidia device driver only when that name is on PATH as dockerd starts.
dk_start() {
    DK_DIR=$1
    local gctk_config=$2
    local build
    build=$(cd "$GCTK_BUILD" && pwd) || return 1
    mkdir -p "$DK_DIR"/{bin,containerd,data,exec,client}
    local d
    DK_NEW_DIRS=()
    for d in "${DK_FIXED_DIRS[@]}"; do [ -e "$d" ] || DK_NEW_DIRS+=("$d"); done
    ln -sf "$build/cmd/gctk-hook" "$DK_DIR/bin/nvidia-container-runtime-hook"
    local path="$DK_DIR/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"

    # containerd of our own: dockerd 20.10 would otherwise use the system's
    # (/run/containerd/containerd.sock) whenever one is running; its opt
    # plugin would create /opt/containerd
    cat >"$DK_DIR/containerd/config.toml" <<EOF
version = 2
root = "$DK_DIR/containerd/root"
state = "$DK_DIR/containerd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[plugins."io.containerd.internal.v1.opt"]
  path = "$DK_DIR/containerd/opt"
[grpc]
  address = "$DK_DIR/containerd.sock"
[ttrpc]
  address = "$DK_DIR/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
EOF
    env -i PATH="$path" GCTK_CONFIG="$gctk_config" \
        "$DK_CONTAINERD" --config "$DK_DIR/containerd/config.toml" \
        </dev/null >"$DK_DIR/containerd.log" 2>&1 &
    DK_CONTAINERD_PID=$!
    if ! _dk_wait_socket "$DK_DIR/containerd.sock" "$DK_CONTAINERD_PID" 30; then
        echo "containerd did not start; its log:" >&2
        tail -n 20 "$DK_DIR/containerd.log" >&2
        return 1
    fi

    if [ -n "${DK_DAEMON_JSON_FILE:-}" ]; then
        DK_DAEMON_JSON=$DK_DAEMON_JSON_FILE
    else
        DK_DAEMON_JSON=$DK_DIR/daemon.json
        # `gctk runtime configure` keeps the settings dk_daemon_json writes
        dk_daemon_json "$DK_DAEMON_JSON" "$DK_DIR"
        if ! "$build/cmd/gctk" runtime configure --runtime=docker --config "$DK_DAEMON_JSON" \
            --runtime-path "$build/cmd/gctk-runtime" ${DK_CONFIGURE_ARGS:-} >"$DK_DIR/configure.log" 2>&1; then
            cat "$DK_DIR/configure.log" >&2
            return 1
        fi
    fi

    DK_PATH=$path DK_GCTK_CONFIG=$gctk_config
    _dk_start_dockerd
}

# _dk_start_dockerd: starts dockerd on DK_DIR's containerd and daemon.json
_dk_start_dockerd() {
    env -i PATH="$DK_PATH" GCTK_CONFIG="$DK_GCTK_CONFIG" \
        "$DK_DOCKERD" --host "unix://$DK_DIR/docker.sock" \
        --data-root "$DK_DIR/data" --exec-root "$DK_DIR/exec" --pidfile "$DK_DIR/dockerd.pid" \
        --containerd "$DK_DIR/containerd.sock" --config-file "$DK_DAEMON_JSON" \
        --iptables=false --ip-masq=false --bridge=none --userland-proxy=false \
        </dev/null >>"$DK_DIR/dockerd.log" 2>&1 &
    DK_DOCKERD_PID=$!
    export DOCKER_HOST="unix://$DK_DIR/docker.sock"
    # the client's own config (auths, contexts) stays out of the way
    export DOCKER_CONFIG=$DK_DIR/client
    local i
    for ((i = 0; i < 300; i++)); do
        "$DOCKER" version >/dev/null 2>&1 && return 0
        kill -0 "$DK_DOCKERD_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "dockerd did not start; its log:" >&2
    tail -n 20 "$DK_DIR/dockerd.log" >&2
    return 1
}

# dk_restart: restarts dockerd (as `systemctl restart docker` does after a
# change of daemon.json); containerd and the images stay
dk_restart() {
    _dk_kill "$DK_DOCKERD_PID" 20
    DK_DOCKERD_PID=
    _dk_start_dockerd
}

# _dk_kill PID SECONDS: SIGTERM, then SIGKILL after SECONDS; reaps it
_dk_kill() {
    local pid=$1 i
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

# dk_mounts DIR: the mount points under DIR (other work on the machine may
# mount elsewhere meanwhile, so suites count only their own)
dk_mounts() {
    awk -v d="${1%/}/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo
}

# _dk_shims: pids of the containerd shims serving our containerd (they
# outlive it by design); found by our socket path in their command line
_dk_shims() {
    local p
    for p in /proc/[0-9]*; do
        { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "-address $DK_DIR/containerd.sock" &&
            echo "${p#/proc/}"
    done
}

# dk_stop: removes every container, stops dockerd and containerd (by pid),
# kills leftover shims, unmounts whatever is left under DIR, removes DIR and
# the fixed directories the daemons made
dk_stop() {
    [ -n "$DK_DIR" ] || return 0
    if [ -n "$DK_DOCKERD_PID" ] && kill -0 "$DK_DOCKERD_PID" 2>/dev/null; then
        local ids
        ids=$("$DOCKER" ps -aq 2>/dev/null)
        # shellcheck disable=SC2086
        [ -z "$ids" ] || timeout 30 "$DOCKER" rm -f $ids >/dev/null 2>&1
    fi
    _dk_kill "$DK_DOCKERD_PID" 20
    DK_DOCKERD_PID=
    _dk_kill "$DK_CONTAINERD_PID" 10
    DK_CONTAINERD_PID=
    local pid
    for pid in $(_dk_shims); do _dk_kill "$pid" 2; done
    # deepest first; a lazy unmount when something still holds one
    local m
    for m in $(dk_mounts "$DK_DIR" | sort -r); do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
    done
    rm -rf "$DK_DIR"
    local i
    for ((i = ${#DK_NEW_DIRS[@]} - 1; i >= 0; i--)); do rmdir "${DK_NEW_DIRS[i]}" 2>/dev/null; done
    DK_NEW_DIRS=()
    unset DOCKER_HOST DOCKER_CONFIG
    DK_DIR=
}

# dk_import_image ROOTFS NAME: imports a rootfs directory as image NAME, of
# E2E_ARCH's platform (an image's architecture is what it says, not what
# its files are: an aarch64 rootfs imported plainly would claim amd64)
dk_import_image() {
    local platform=()
    [ "$E2E_FOREIGN" = 0 ] || platform=(--platform "linux/$E2E_DEB_ARCH")
    tar -C "$1" -c . | "$DOCKER" import "${platform[@]}" \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        - "$2" >/dev/null
}
