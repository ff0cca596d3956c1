#!/usr/bin/env bash
# Runs a command, as root on a GPU machine whose driver lives in a directory
# of its own (the H200 machines' /usr/local/nvidia: lib64, lib, bin,
# firmware, share), with that driver where a distribution's packages put it:
#   tools/gpu-relocate.sh DRIVER_DIR COMMAND [ARG...]
# In a mount namespace of its own, one overlay on /usr, its upper on tmpfs,
# holds a copy of DRIVER_DIR's libraries in /usr/lib/x86_64-linux-gnu (lib:
# /usr/lib/i386-linux-gnu), its programs in /usr/bin, its firmware in
# /usr/lib/firmware and its share in /usr/share. The overlay hides every
# mount under /usr, and an empty tmpfs DRIVER_DIR if it is none, so only
# the copies are found; an
# ld.so.cache made for that view covers /etc/ld.so.cache. Nothing of it
# outlives the command, and no file of the host changes. The command gets
# GCTK_VERIFY_DRIVER_DIRS (the directories now holding the driver) and
# GCTK_VERIFY_EXCLUDE (a file listing every path added, for tar -X), as
# tools/gpu-verify.sh reads them.
set -eu
if [ $# -lt 2 ]; then
    echo "usage: $0 DRIVER_DIR COMMAND [ARG...]" >&2
    exit 2
fi
if [ -z "${GCTK_RELOCATE_INNER:-}" ]; then
    exec unshare --mount --propagation private env GCTK_RELOCATE_INNER=1 "$0" "$@"
fi
D=$(cd "$1" && pwd)
shift
case "$D" in
    /usr/*) ;;
    *) echo "gpu-relocate: $D is not under /usr: the overlay on /usr would not hide it" >&2; exit 2 ;;
esac
T=$(mktemp -d /dev/shm/gctk-relocate.XXXXXX)
# the copies go with the namespace's mounts (/dev/shm is the host's)
trap 'umount -l /etc/ld.so.cache /usr 2>/dev/null; rm -rf "$T"' EXIT
U=$T/upper
mkdir -p "$U" "$T/work"
# add SRC DEST: SRC's entries into DEST (relative to /usr), links as links
add() {
    [ -d "$D/$1" ] || return 0
    mkdir -p "$U/$2"
    cp -a "$D/$1/." "$U/$2/"
}
add lib64 lib/x86_64-linux-gnu
add lib lib/i386-linux-gnu
add bin bin
add firmware lib/firmware
add share share
mount -t overlay overlay -o "lowerdir=/usr,upperdir=$U,workdir=$T/work" /usr
# a DRIVER_DIR that was no mount of its own is still seen through the overlay
[ -z "$(ls -A "$D")" ] || mount -t tmpfs -o ro,mode=755 tmpfs "$D"
ldconfig -C "$T/ld.so.cache"
mount --bind "$T/ld.so.cache" /etc/ld.so.cache
(cd "$U" && find . -mindepth 1 ! -type d) | sed 's|^\./|usr/|' >"$T/added"
echo "gpu-relocate: $(wc -l <"$T/added") files of $D under /usr; $(ls -A "$D" 2>/dev/null | wc -l) entries left at $D"
export GCTK_VERIFY_EXCLUDE=$T/added
export GCTK_VERIFY_DRIVER_DIRS="/usr/lib/x86_64-linux-gnu /usr/lib/i386-linux-gnu /usr/bin"
"$@"
