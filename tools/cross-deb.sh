#!/usr/bin/env bash
# The Debian package of gctk for another architecture (arm64 on an amd64
# machine, amd64 on an arm64 one), cross-built as Debian cross-builds: in a
# pristine root of this machine's release (tools/pristine-root.sh), which
# gets the architecture in dpkg (`dpkg --add-architecture`), the cross
# toolchain (crossbuild-essential-ARCH) and the build dependencies of
# debian/control for that architecture (`apt-get build-dep -a ARCH`), then
# `dpkg-buildpackage -a ARCH`. This machine's dpkg state, apt sources and
# packages are never touched: everything the build installs lives in the
# root, which is removed at the end, whatever happens.
#
#   tools/cross-deb.sh ARCH SRC OUT
#
# SRC: the copy of the tree to build (make deb's, with its .version); OUT:
# where gctk_<version>_ARCH.deb, its .changes, .buildinfo, dbgsym and the
# build log (dpkg-buildpackage-ARCH.log) go. Needs root and the network
# (Debian's archive; DEBIAN_MIRROR as pristine-root.sh takes it). The unit
# tests are left out (DEB_BUILD_OPTIONS=nocheck: they would run emulated).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

[ $# -eq 3 ] || { sed -n '12p' "$0" | sed 's/^# *//' >&2; exit 2; }
arch=$1 src=$(cd "$2" && pwd) out=$3
[ "$(id -u)" = 0 ] || { echo "cross-deb: the $arch package is built in a pristine root: run as root" >&2; exit 1; }
release=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
case "$release" in
    bookworm|trixie) ;;
    *) echo "cross-deb: this machine is Debian \`${release:-unknown}\`: the $arch package is built on Debian 12 or 13" >&2; exit 1 ;;
esac
mkdir -p "$out"
out=$(cd "$out" && pwd)
root=$(mktemp -d "$out/root-$arch.XXXXXX")
log=$out/dpkg-buildpackage-$arch.log
trap 'rm -rf --one-file-system "$root"' EXIT

echo "cross-deb: a pristine $release root for the $arch package"
"$top/tools/pristine-root.sh" create "$root" "$release" >"$log" 2>&1 ||
    { tail -n 20 "$log" >&2; echo "cross-deb: the root could not be made, see $log" >&2; exit 1; }
echo "cross-deb: building the $arch package (log: $log)"
# shellcheck disable=SC2016
if ! "$top/tools/pristine-root.sh" enter "$root" --bind "$src:/srv/src" --bind "$out:/srv/out" -- \
    env ARCH="$arch" bash -c '
        set -euo pipefail
        export DEBIAN_FRONTEND=noninteractive DEB_BUILD_OPTIONS=nocheck DEB_BUILD_PROFILES=nocheck
        dpkg --add-architecture "$ARCH"
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends build-essential "crossbuild-essential-$ARCH" \
            dpkg-dev fakeroot >/dev/null
        apt-get build-dep -y -qq --no-install-recommends -a "$ARCH" -P nocheck /srv/src >/dev/null
        name=$(basename /srv/src)
        mkdir -p /build && cp -a /srv/src "/build/$name"
        cd "/build/$name"
        dpkg-buildpackage -a "$ARCH" --build-profiles=nocheck -us -uc -b -Jauto
        cp /build/*.deb /build/*.changes /build/*.buildinfo /srv/out/
    ' </dev/null >>"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "cross-deb: the $arch package failed to build, see $log" >&2
    exit 1
fi
for f in "$out"/gctk_*_"$arch".deb; do echo "built: $f"; done
