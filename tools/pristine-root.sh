#!/usr/bin/env bash
# Pristine Debian roots, as a new user's fresh machine: made from Debian's
# archive with mmdebstrap, entered in a private mount and PID namespace with
# pivot_root (never a plain chroot: in a chroot `docker import` fails with
# `remount /, flags: 0x84000: invalid argument`, and a hook that setns()es
# into a container's mount namespace gets the real root back).
#
#   tools/pristine-root.sh create DIR RELEASE     bookworm (Debian 12) or trixie (13)
#   tools/pristine-root.sh enter DIR [--bind HOST:PATH]... [--] CMD...
#
# The root gets the release's main, -updates and -security suites, as an
# installed machine has them. Nothing else is put in: the README's first
# steps (git, make) are for the command run inside to do.
#
# Inside: /proc of its own PID namespace, the host's /sys and /dev, tmpfs on
# /run, the host's resolv.conf (apt needs the network), every mount shared
# within the namespace (as systemd makes them). When CMD ends, every
# process it started ends with it (the namespace's init is gone), and the
# mounts go with the namespace. `enter` is unshare itself (exec), which
# ignores SIGTERM and SIGINT while CMD runs: SIGKILL to it kills CMD and
# everything it started (--kill-child). The host's apt sources are never
# touched.
#
# A root has no init system: packages may not start their services
# (/usr/sbin/policy-rc.d says 101, as in Debian's own build chroots); the
# tests start private daemons of their own.
# Needs root, mmdebstrap (created only when missing) and util-linux's unshare.
set -euo pipefail

usage() { sed -n '9,10p' "$0" | sed 's/^# *//' >&2; exit 2; }

create() {
    local dir=$1 rel=$2 mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
    local security=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
    case "$rel" in
        bookworm|trixie) ;;
        *) echo "pristine-root: unknown release \`$rel\`: use bookworm or trixie" >&2; exit 2 ;;
    esac
    if ! command -v mmdebstrap >/dev/null; then
        echo "pristine-root: installing mmdebstrap"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null
    fi
    if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
        echo "pristine-root: $dir exists and is not empty: remove it first" >&2
        exit 1
    fi
    mkdir -p "$dir"
    mmdebstrap --variant=minbase --quiet \
        --customize-hook='printf "#!/bin/sh\nexit 101\n" > "$1/usr/sbin/policy-rc.d"; chmod 755 "$1/usr/sbin/policy-rc.d"' \
        "$rel" "$dir" \
        "deb $mirror $rel main" \
        "deb $mirror $rel-updates main" \
        "deb $security $rel-security main"
}

enter() {
    local dir binds=()
    dir=$(cd "$1" && pwd); shift
    while [ $# -gt 0 ]; do
        case "$1" in
            --bind) binds+=("$2"); shift 2 ;;
            --) shift; break ;;
            *) break ;;
        esac
    done
    [ $# -gt 0 ] || usage
    [ -x "$dir/bin/sh" ] || { echo "pristine-root: $dir is not a root (no bin/sh)" >&2; exit 1; }
    cp /etc/resolv.conf "$dir/etc/resolv.conf"
    # The inner script runs as the new PID namespace's init, in a mount
    # namespace whose mounts propagate nowhere.
    # shellcheck disable=SC2016
    exec unshare --mount --pid --fork --kill-child --propagation private -- bash -c '
        set -e
        root=$1; shift
        nbind=$1; shift
        mount --bind "$root" "$root"
        mount -t proc proc "$root/proc"
        mount --rbind /sys "$root/sys"
        mount --rbind /dev "$root/dev"
        mount -t tmpfs -o mode=755 tmpfs "$root/run"
        mkdir -p "$root/run/lock"
        for ((i = 0; i < nbind; i++)); do
            spec=$1; shift
            mkdir -p "$root${spec#*:}"
            mount --rbind "${spec%%:*}" "$root${spec#*:}"
        done
        mkdir -p "$root/.oldroot"
        cd "$root"
        pivot_root . .oldroot
        umount -l /.oldroot
        rmdir /.oldroot
        # as on a machine booted with systemd, every mount is shared (peer
        # groups of this namespace only: nothing reaches the host); dockerd
        # 20.10 otherwise binds its data-root onto itself and leaves it
        mount --make-rshared /
        cd /
        exec env -i HOME=/root TERM="${TERM:-dumb}" LANG=C.UTF-8 \
            PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
    ' pristine-root "$dir" "${#binds[@]}" "${binds[@]}" "$@"
}

[ "$(id -u)" = 0 ] || { echo "pristine-root: run as root" >&2; exit 1; }
case "${1:-}" in
    create) [ $# -eq 3 ] || usage; create "$2" "$3" ;;
    enter) [ $# -ge 3 ] || usage; shift; enter "$@" ;;
    *) usage ;;
esac
