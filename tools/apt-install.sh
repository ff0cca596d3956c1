#!/usr/bin/env bash
# Installs the Debian packages named that this machine lacks, as the
# Makefile's targets need them. apt-get runs only when something is missing,
# with --no-install-recommends: every package gctk needs is named in the
# Makefile, none is left to another package's Recommends (which differ
# between releases, and which many machines turn off).
#
#   tools/apt-install.sh PKG...
#
# PKG? : only where the release has PKG. Debian 13 moved the docker client
# from docker.io into docker-cli, which docker.io only recommends; Debian 12
# has no docker-cli (its docker.io holds the client).
# PKG@RELEASE : PKG from this release when it has it, else the package of
# Debian's RELEASE (a later one), which must be Architecture: all (no code of
# another libc): its .deb is fetched through a private apt configuration (a
# sources list and package lists of its own in a temporary directory, removed
# after; the machine's sources are never touched) and installed by apt-get,
# which takes its dependencies from this release. Debian 12 lacks
# golang-github-kubernetes-cri-api-dev, whose api.proto the CRI suite needs.
set -euo pipefail

installed() {
    case "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" in *" ok installed") return 0 ;; esac
    return 1
}
# in_lists PKG: the package lists know PKG
in_lists() { apt-cache show "$1" >/dev/null 2>&1; }
# lists_empty: no package list was ever downloaded (a fresh image or a
# machine whose lists were removed): the lists cannot say what the release has
lists_empty() {
    local dir
    eval "$(apt-config shell dir Dir::State::lists/d)"
    ! compgen -G "${dir:-/var/lib/apt/lists/}*_Packages*" >/dev/null
}

missing=() optional=() later=()
for p in "$@"; do
    case "$p" in
        *\?) installed "${p%\?}" || optional+=("${p%\?}") ;;
        *@*) installed "${p%@*}" || later+=("$p") ;;
        *) installed "$p" || missing+=("$p") ;;
    esac
done
# a PKG? that the package lists do not know is not in this release
if [ ${#optional[@]} -gt 0 ] && ! lists_empty; then
    known=()
    for p in "${optional[@]}"; do in_lists "$p" && known+=("$p"); done
    optional=(${known[@]+"${known[@]}"})
fi
[ ${#missing[@]} -gt 0 ] || [ ${#optional[@]} -gt 0 ] || [ ${#later[@]} -gt 0 ] || exit 0

if [ "$(id -u)" != 0 ]; then
    echo "gctk: run as root to install: ${missing[*]} ${optional[*]} ${later[*]}" >&2
    exit 1
fi
apt-get update -qq
for p in ${optional[@]+"${optional[@]}"}; do
    in_lists "$p" && missing+=("$p")
done
debs=()
tmp=
trap '[ -z "$tmp" ] || rm -rf "$tmp"' EXIT
for p in ${later[@]+"${later[@]}"}; do
    pkg=${p%@*} rel=${p#*@}
    if in_lists "$pkg"; then missing+=("$pkg"); continue; fi
    [ -n "$tmp" ] || tmp=$(mktemp -d)
    d=$tmp/$rel
    mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${DEBIAN_MIRROR:-http://deb.debian.org/debian} $rel main" >"$d/sources.list"
    o=(-o "Dir::Etc::SourceList=$d/sources.list" -o Dir::Etc::SourceParts=/dev/null
       -o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache" -o APT::Sandbox::User=root)
    [ -f "$d/updated" ] || { apt-get "${o[@]}" update -qq && touch "$d/updated"; }
    arch=$(apt-cache "${o[@]}" show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Architecture: //p' | head -n 1)
    if [ "$arch" != all ]; then
        echo "gctk: $pkg is not in this release, and $rel's is ${arch:-missing}, not Architecture: all" >&2
        exit 1
    fi
    (cd "$d" && apt-get "${o[@]}" download -qq "$pkg")
    debs+=("$d/${pkg}"_*_all.deb)
done
[ ${#missing[@]} -gt 0 ] || [ ${#debs[@]} -gt 0 ] || exit 0
echo "installing: ${missing[*]} ${debs[*]##*/}"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    ${missing[@]+"${missing[@]}"} ${debs[@]+"${debs[@]}"} >/dev/null
