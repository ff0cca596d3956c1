#!/usr/bin/env bash
# Inside a pristine root (.ci/run enters it): what a new user does on a bare
# Debian machine, as the README says it, then what the commands left behind.
#
#   /srv/gctk/.ci/in-root.sh OUT COMMAND...   e.g. /srv/out make-demo make-check
#
# The repository under test is at /srv/gctk (a fresh clone). Each step's
# time goes to OUT/times (`STEP SECONDS`), each command's output to
# OUT/COMMAND.log and its status to OUT/COMMAND.rc; OUT/left lists what
# .ci/watch.sh found outside the tests' temporary directories. Extra
# environment for the commands comes as CI_ENV (`NAME=VALUE ...`), the
# README's prerequisites line as CI_PREREQ.
set -uo pipefail
ci=$(cd "$(dirname "$0")" && pwd)
out=$1
shift

# stamp: each line of the input, after the seconds since the start
stamp() {
    local line
    while IFS= read -r line; do printf '%s %s\n' "$SECONDS" "$line"; done
}

# step NAME CMD...: runs CMD, its output to OUT/NAME.log (time-stamped in
# OUT/NAME.stamped) and this output, its time to OUT/times, its status to
# OUT/NAME.rc
step() {
    local name=$1 t0=$SECONDS rc
    shift
    echo "ci: $name: $*"
    "$@" 2>&1 | tee "$out/$name.log" | tee >(stamp >"$out/$name.stamped")
    rc=${PIPESTATUS[0]}
    echo "$name $((SECONDS - t0))" >>"$out/times"
    echo "$rc" >"$out/$name.rc"
    echo "ci: $name: status $rc after $((SECONDS - t0)) s"
    return "$rc"
}

"$ci/watch.sh" start
cd /root || exit 1
# the README's first lines (CI_PREREQ is its first), with the address of the
# clone under test
step prerequisites bash -c "$CI_PREREQ" || exit 1
step clone git clone /srv/gctk gctk || exit 1
cd gctk || exit 1
for c in "$@"; do
    # shellcheck disable=SC2086
    step "$c" env ${CI_ENV:-} make "${c#make-}"
done
"$ci/watch.sh" report >"$out/left"
exit 0
