#!/bin/sh
# Prints gctk's version for version.h, made from lib/util/version.h.in (meson's
# vcs_tag runs it on every build).
#   tools/version.sh SOURCE_DIR PROJECT_VERSION
# From git: the nearest v* tag as `git describe` gives it (v0.1.0-3-gabc1234,
# printed without the v), or, before the first tag, PROJECT_VERSION-g<commit>;
# `-dirty` when tracked files differ from the commit. Without git (a release
# tarball, a Debian source package): the file .version that `make deb` and
# `make dist` write, else a non-zero exit so vcs_tag falls back to the
# project version.
set -eu
src=$1 project=$2
# only the source tree's own repository: a tarball unpacked inside another
# git checkout must not take that checkout's version
if top=$(git -C "$src" rev-parse --show-toplevel 2>/dev/null) && [ "$top" -ef "$src" ]; then
    if d=$(git -C "$src" describe --tags --dirty --match 'v[0-9]*' 2>/dev/null); then
        echo "${d#v}"
        exit 0
    fi
    h=$(git -C "$src" rev-parse --short HEAD)
    dirty=
    git -C "$src" diff --quiet HEAD -- 2>/dev/null || dirty=-dirty
    echo "$project-g$h$dirty"
    exit 0
fi
if [ -s "$src/.version" ]; then
    head -n 1 "$src/.version"
    exit 0
fi
exit 1
