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

missing=() optional=()
for p in "$@"; do
    case "$p" in
        *\?) installed "${p%\?}" || optional+=("${p%\?}") ;;
        *) installed "$p" || missing+=("$p") ;;
    esac
done
# a PKG? that the package lists do not know is not in this release
if [ ${#optional[@]} -gt 0 ] && ! lists_empty; then
    known=()
    for p in "${optional[@]}"; do in_lists "$p" && known+=("$p"); done
    optional=(${known[@]+"${known[@]}"})
fi
[ ${#missing[@]} -gt 0 ] || [ ${#optional[@]} -gt 0 ] || exit 0

if [ "$(id -u)" != 0 ]; then
    echo "gctk: run as root to install: ${missing[*]} ${optional[*]}" >&2
    exit 1
fi
apt-get update -qq
for p in ${optional[@]+"${optional[@]}"}; do
    in_lists "$p" && missing+=("$p")
done
[ ${#missing[@]} -gt 0 ] || exit 0
echo "installing: ${missing[*]}"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
