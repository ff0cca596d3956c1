#!/usr/bin/env bash
# What the commands leave on the machine outside the tests' temporary
# directories, run inside a pristine root by .ci/in-root.sh.
#
#   .ci/watch.sh start     copy this script to /run/gctk-ci, record the
#                          baseline, hook dpkg's pre- and post-invoke
#   .ci/watch.sh pre|post  (dpkg runs these around each of its runs)
#   .ci/watch.sh report    print what changed outside dpkg's runs:
#                          `+ PATH` made, `- PATH` removed, `~ PATH` changed
#
# Watched: /etc, /var, /root, /usr/local, /opt and /run, each path by
# type, mode, owner and content (a link by its target, a file by its sha1).
# The expected state starts as the baseline; what dpkg and its maintainer
# scripts change between a pre-invoke and its post-invoke (the packages the
# Makefile installs, the one test-deb builds) becomes expected too. The
# report is every difference between the expected state and the end: what
# the commands left. A file made and removed between two dpkg runs, or
# changed and put back as it was, is no difference. Not watched: apt's and
# dpkg's own state (with the catalog appstream's apt hook refreshes), the
# checkout (/root/gctk: its build dirs) and /run/gctk-ci itself.
set -uo pipefail
state=/run/gctk-ci
WATCH=(/etc /var /root /usr/local /opt /run)
# apt's state includes what its update hooks write: appstream, where a
# package brought it (Debian 13's root has it by make check's end), refreshes
# its catalog after each apt-get update
PRUNE=(/var/lib/apt /var/cache/apt /var/lib/dpkg /var/log/apt /var/log/dpkg.log
       /var/cache/debconf /var/lib/swcatalog /var/cache/swcatalog /var/lib/app-info
       /root/gctk "$state")

# snapshot: one line per path, sorted: PATH<TAB>TYPE MODE UID:GID LINK SHA1
snapshot() {
    local p prune=() tmp=$state/snap
    for p in "${PRUNE[@]}"; do prune+=(-path "$p" -o); done
    unset 'prune[${#prune[@]}-1]'
    find "${WATCH[@]}" -xdev \( "${prune[@]}" \) -prune -o -printf '%p\t%y %m %U:%G %l\n' 2>/dev/null |
        LC_ALL=C sort -t $'\t' -k1,1 >"$tmp.meta"
    find "${WATCH[@]}" -xdev \( "${prune[@]}" \) -prune -o -type f -print0 2>/dev/null |
        xargs -0 -r sha1sum 2>/dev/null | sed 's/^\([0-9a-f]*\)  \(.*\)$/\2\t\1/' |
        LC_ALL=C sort -t $'\t' -k1,1 >"$tmp.sum"
    LC_ALL=C join -t $'\t' -a 1 -e - -o 0,1.2,2.2 "$tmp.meta" "$tmp.sum" | awk -F '\t' '{ print $1 "\t" $2 " " $3 }'
    rm -f "$tmp.meta" "$tmp.sum"
}

# changes OLD NEW: `+ PATH` created, `- PATH` removed, `~ PATH` changed
changes() {
    LC_ALL=C join -t $'\t' -a 1 -a 2 -e '' -o 0,1.2,2.2 "$1" "$2" |
        awk -F '\t' '$2 == "" { print "+ " $1; next } $3 == "" { print "- " $1; next }
                     $2 != $3 { print "~ " $1 }'
}

case "${1:-}" in
    start)
        mkdir -p "$state"
        cp "$0" "$state/watch.sh"
        printf 'pre-invoke=%s pre\npost-invoke=%s post\n' "$state/watch.sh" "$state/watch.sh" \
            >/etc/dpkg/dpkg.cfg.d/zz-gctk-ci-watch
        snapshot >"$state/expected"
        ;;
    pre)
        snapshot >"$state/pre"
        ;;
    post)
        # what dpkg changed becomes expected: its paths take their new state
        snapshot >"$state/post"
        changes "$state/pre" "$state/post" | cut -c3- >"$state/touched"
        awk -F '\t' 'FILENAME == ARGV[1] { t[$0] = 1; next }
                     FILENAME == ARGV[2] { if (!($1 in t)) print; next }
                     $1 in t' "$state/touched" "$state/expected" "$state/post" |
            LC_ALL=C sort -t $'\t' -k1,1 >"$state/expected.new"
        mv "$state/expected.new" "$state/expected"
        ;;
    report)
        snapshot >"$state/now"
        changes "$state/expected" "$state/now"
        ;;
    *)
        sed -n '4,7p' "$0" | sed 's/^# *//' >&2
        exit 2
        ;;
esac
