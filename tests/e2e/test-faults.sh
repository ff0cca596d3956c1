#!/usr/bin/env bash
# Faults while the hook works: a mount failing at the Nth step, ENOSPC while
# the ld.so.cache is written, the driver going away between discovery and
# injection, the container's process exiting during the hook, a second run of
# the hook on the same container. Each must end in one clear error, with the
# rootfs as it was, no mount left (in the host's namespace nor in the
# container's), and the device cgroup as it was.
#
# Faults come from tests/faults/inject.c, an LD_PRELOAD object put in the
# hook's own environment (the bundle's hook entry): nothing of it is in gctk.
# Two harnesses: real runc containers, and the hook run directly on a
# stand-in container process (`unshare -m sleep`) in a device cgroup this
# suite makes, so that its mounts and cgroup rules can be read afterwards.
. "$(dirname "$0")/lib.sh"

need_root "fault injection" || exit 0
command -v runc >/dev/null || { skip "fault injection" "runc is not installed"; exit 0; }
FAULTS=$GCTK_BUILD/tests/gctk-faults.so
[ -f "$FAULTS" ] || { not_ok "the fault injector is built ($FAULTS)"; exit 1; }

HOST=$SCRATCH/host
"$GCTK" sim create "$HOST" --gpus 2 >/dev/null || { not_ok "gctk sim create"; exit 1; }
cat >"$SCRATCH/gctk.conf" <<EOF
{"root": "$HOST", "log": "$SCRATCH/hook.log"}
EOF
export GCTK_CONFIG=$SCRATCH/gctk.conf
VER=$("$GCTK" info --json --no-nvml | jq -r .driver_version)
FLOG=$SCRATCH/faults.log
BASE=$SCRATCH/base
make_rootfs "$BASE"
echo "the image's own cache" >"$BASE/etc/ld.so.cache"

listing() { (cd "$1" && find . -printf '%p %y %m %s %l\n' | sort; find . -type f -exec md5sum {} + | sort); }
host_mounts_of() { awk '{print $5}' /proc/self/mountinfo | grep -c "^$1" ; }

# hook_env VAR=VALUE...: the hook entry's environment, with the injector
hook_env() {
    local e="\"GCTK_CONFIG=$GCTK_CONFIG\", \"LD_PRELOAD=$FAULTS\", \"GCTK_TEST_FAULT_LOG=$FLOG\", \"ASAN_OPTIONS=verify_asan_link_order=0\""
    for v in "$@"; do e="$e, \"$v\""; done
    echo "[$e]"
}

# ---- with runc ------------------------------------------------------------------
N=0
# runc_fault NAME ENV_JSON HOOK_ENV_JSON: output in $OUT, status in $RC; the
# rootfs ($R) is compared with its copy before the run
runc_fault() {
    N=$((N + 1))
    R=$SCRATCH/r$N
    rm -f "$FLOG"
    cp -a "$BASE" "$R"
    listing "$R" >"$SCRATCH/before"
    local b=$SCRATCH/b$N mounts
    mounts=$(host_mounts_of "$SCRATCH")
    make_bundle "$b" "$R" '["true"]' "$2" "$3"
    local _
    for _ in 1 2; do
        OUT=$(timeout -k 5 60 runc --root "$RUNC_ROOT" run -b "$b" "gctk-f-$$-$N" </dev/null 2>&1)
        RC=$?
        runc --root "$RUNC_ROOT" delete -f "gctk-f-$$-$N" >/dev/null 2>&1
        # runc's own start-up, before any hook runs, now and then fails so
        # under load (seen with Debian 13's runc): once more, then as it is
        case $OUT in
        *"could not ensure we are a cloned binary"*) ;;
        *) break ;;
        esac
    done
    listing "$R" >"$SCRATCH/after"
    CLEAN=1
    cmp -s "$SCRATCH/before" "$SCRATCH/after" || CLEAN=0
    [ "$(host_mounts_of "$SCRATCH")" = "$mounts" ] || CLEAN=0
}
# outcome NAME REGEX: refused with exactly one gctk-hook line matching REGEX,
# the fault did happen, the rootfs is as it was
outcome() {
    local lines
    lines=$(printf '%s\n' "$OUT" | grep -c 'gctk-hook: ')
    if [ "$RC" -ne 0 ] && [ "$lines" = 1 ] && printf '%s' "$OUT" | grep -Eq -- "$2"; then
        ok "$1: one clear error"
    else
        not_ok "$1: one clear error (status $RC, $lines hook lines)"
        printf '%s\n' "$OUT" | tail -n 3 | diag
    fi
    if [ -s "$FLOG" ]; then ok "$1: the fault happened"; else not_ok "$1: the fault happened"; fi
    if [ "$CLEAN" = 1 ]; then ok "$1: rootfs as it was, no mount left"; else
        not_ok "$1: rootfs as it was, no mount left"
        diff "$SCRATCH/before" "$SCRATCH/after" | head -n 10 | diag
    fi
}
GPU='["NVIDIA_VISIBLE_DEVICES=1"]'

# how many mount-making calls a whole injection makes
runc_fault "count" "$GPU" "$(hook_env GCTK_TEST_FAIL_MOUNT=1000000 GCTK_TEST_COUNT_MOUNTS=1)"
TOTAL=$(grep -c '^mount call' "$FLOG" 2>/dev/null)
check "a clean run under the injector starts ($TOTAL mount calls)" test "$RC" -eq 0 -a "${TOTAL:-0}" -gt 3
for n in 1 2 $((TOTAL / 2)) $((TOTAL - 1)) "$TOTAL"; do
    runc_fault "mount $n" "$GPU" "$(hook_env GCTK_TEST_FAIL_MOUNT="$n")"
    outcome "mount call $n of $TOTAL fails" 'gctk-hook: .*Input/output error'
done

runc_fault "enospc" "$GPU" "$(hook_env GCTK_TEST_FAIL_WRITE=/etc/.gctk-tmp)"
outcome "ENOSPC writing the ld.so.cache" "gctk-hook: update the container's .?/etc/ld.so.cache.?: write .*No space left on device"

cp -a "$HOST/dev/nvidia1" "$SCRATCH/nvidia1.saved"
runc_fault "node gone" "$GPU" "$(hook_env GCTK_TEST_UNLINK_ON_SETNS="$HOST/dev/nvidia1")"
cp -a "$SCRATCH/nvidia1.saved" "$HOST/dev/nvidia1"
outcome "GPU node removed between discovery and injection" "gctk-hook: .*dev/nvidia1.*No such file"

LIB=$HOST/usr/lib/x86_64-linux-gnu/libcuda.so.$VER
cp -a "$LIB" "$SCRATCH/libcuda.saved"
runc_fault "lib gone" "$GPU" "$(hook_env GCTK_TEST_UNLINK_ON_SETNS="$LIB")"
cp -a "$SCRATCH/libcuda.saved" "$LIB"
outcome "libcuda removed between discovery and injection" "gctk-hook: .*libcuda.so.$VER.*No such file"

runc_fault "exit" "$GPU" "$(hook_env GCTK_TEST_KILL_ON_SETNS=1)"
outcome "container process killed during the hook" "gctk-hook: container process [0-9]+ exited while the hook"

# ---- the hook on a stand-in container ---------------------------------------------
# A process in its own mount namespace and, where cgroup v1 has a devices
# controller, in a cgroup that allows only /dev/null: the hook's mounts and
# cgroup rules are then there to read after a fault.
CG=""
if [ -d /sys/fs/cgroup/devices ] && mkdir "/sys/fs/cgroup/devices/gctk-faults-$$" 2>/dev/null; then
    CG=/sys/fs/cgroup/devices/gctk-faults-$$
    at_exit "rmdir $CG"
    echo a >"$CG/devices.deny"
    echo 'c 1:3 rwm' >"$CG/devices.allow"
else
    # no devices controller to make a cgroup in: leave the runner's own alone
    jq '.["no-cgroups"] = true' "$SCRATCH/gctk.conf" >"$SCRATCH/nocg.conf"
fi
DIRECT_CONFIG=$SCRATCH/gctk.conf
[ -z "$CG" ] && DIRECT_CONFIG=$SCRATCH/nocg.conf
# standin ROOTFS: the stand-in process in $PID, with a proc at ROOTFS/proc
# as runc mounts it before the hooks run, in $CG when there is one
standin() {
    unshare -m --propagation private sh -c "mount -t proc proc '$1/proc' && exec sleep 120" &
    PID=$!
    [ -n "$CG" ] && echo "$PID" >"$CG/cgroup.procs"
    # ready once its proc is mounted and it runs sleep (in the cgroup, when
    # there is one)
    wait_until 20 standin_ready "$1" ||
        echo "the stand-in of $1 did not come up in 20 s" | diag
}
standin_ready() {
    grep -q " $1/proc " "/proc/$PID/mountinfo" 2>/dev/null &&
        [ "$(cat "/proc/$PID/comm" 2>/dev/null)" = sleep ] &&
        { [ -z "$CG" ] || grep -qx "$PID" "$CG/cgroup.procs"; }
}
# direct NAME HOOK_VARS...: runs the hook on a fresh stand-in; $OUT, $RC, and
# $CLEAN (rootfs, the stand-in's mounts and the cgroup as before)
direct() {
    N=$((N + 1))
    R=$SCRATCH/r$N
    rm -f "$FLOG"
    cp -a "$BASE" "$R"
    local b=$SCRATCH/b$N
    make_bundle "$b" "$R" '["true"]' "${GPU_DIRECT:-$GPU}" none
    standin "$R"
    listing "$R" >"$SCRATCH/before"
    local rules mounts
    rules=$([ -n "$CG" ] && cat "$CG/devices.list")
    mounts=$(grep -c " $R" "/proc/$PID/mountinfo")
    OUT=$(echo "{\"pid\": $PID, \"bundle\": \"$b\", \"id\": \"direct-$N\"}" |
        env GCTK_CONFIG="$DIRECT_CONFIG" ASAN_OPTIONS=verify_asan_link_order=0 "$@" LD_PRELOAD="$FAULTS" GCTK_TEST_FAULT_LOG="$FLOG" timeout 30 "$GCTK_HOOK" prestart 2>&1)
    RC=$?
    listing "$R" >"$SCRATCH/after"
    CLEAN=1
    cmp -s "$SCRATCH/before" "$SCRATCH/after" || CLEAN=0
    if [ -d "/proc/$PID" ] && [ "$(grep -c " $R" "/proc/$PID/mountinfo")" != "$mounts" ]; then
        CLEAN=0
        [ -z "${QUIET:-}" ] && grep " $R" "/proc/$PID/mountinfo" | head -n 5 | diag
    fi
    if [ -n "$CG" ] && [ "$(cat "$CG/devices.list")" != "$rules" ]; then
        CLEAN=0
        [ -z "${QUIET:-}" ] && echo "device rules left: $(tr '\n' ' ' <"$CG/devices.list")" | diag
    fi
}
end_direct() { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }

direct GCTK_TEST_FAIL_MOUNT=$((TOTAL / 2))
outcome "stand-in: mount call $((TOTAL / 2)) fails (mounts and cgroup rules undone)" 'gctk-hook: .*Input/output error'
end_direct

direct GCTK_TEST_FAIL_MOUNT="$TOTAL"
outcome "stand-in: the last mount call fails" 'gctk-hook: .*Input/output error'
end_direct

QUIET=1 direct GCTK_TEST_COUNT_MOUNTS=1 GCTK_TEST_FAIL_MOUNT=1000000
first_rc=$RC
check "stand-in: a clean run sets the container up" test "$first_rc" -eq 0
# a second run of the hook on the same container
rm -f "$FLOG"
OUT=$(echo "{\"pid\": $PID, \"bundle\": \"$SCRATCH/b$N\", \"id\": \"again\"}" |
    env GCTK_CONFIG="$DIRECT_CONFIG" ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD="$FAULTS" GCTK_TEST_FAULT_LOG="$FLOG" GCTK_TEST_FAIL_MOUNT=1000000 GCTK_TEST_COUNT_MOUNTS=1 timeout 30 "$GCTK_HOOK" prestart 2>&1)
RC=$?
expect_match "second run of the hook on the same container: one clear error" \
    "^gctk-hook: .* is already mounted from the host: .*earlier run of the hook" "$OUT"
check "second run: the error is one line" test "$(printf '%s\n' "$OUT" | wc -l)" -eq 1
check "second run: no mount was made" test ! -s "$FLOG"
mounted=$(grep -c " $R" "/proc/$PID/mountinfo")
check "second run: the first run's mounts are all still there ($mounted)" test "$mounted" -gt 3
[ -n "$CG" ] && expect_match "second run: the first run's device rules are still there" "c 195:1 rw" "$(cat "$CG/devices.list")"
end_direct

# ENOSPC for real: a 16 KiB tmpfs, full, as the image's /etc
R=$SCRATCH/r-enospc
cp -a "$BASE" "$R"
mount -t tmpfs -o size=16k tmpfs "$R/etc" && at_exit "umount -l $R/etc"
cp -a "$BASE/etc/." "$R/etc/"
head -c 1M /dev/zero >"$R/etc/fill" 2>/dev/null
listing "$R" >"$SCRATCH/before"
standin "$R"
mounts=$(grep -c " $R" "/proc/$PID/mountinfo")
make_bundle "$SCRATCH/b-enospc" "$R" '["true"]' "$GPU" none
OUT=$(echo "{\"pid\": $PID, \"bundle\": \"$SCRATCH/b-enospc\"}" | GCTK_CONFIG=$DIRECT_CONFIG timeout 30 "$GCTK_HOOK" prestart 2>&1)
RC=$?
listing "$R" >"$SCRATCH/after"
expect_match "a full tmpfs as /etc: one clear error" "^gctk-hook: update the container's .?/etc/ld.so.cache.?: .*No space left on device$" "$OUT"
check "a full tmpfs as /etc: the image's cache and the rootfs as they were" cmp -s "$SCRATCH/before" "$SCRATCH/after"
check "a full tmpfs as /etc: no mount left in the container's namespace" test "$(grep -c " $R" "/proc/$PID/mountinfo")" -eq "$mounts"
end_direct
umount "$R/etc"

expect_eq "no container left" "" "$(runc --root "$RUNC_ROOT" list -q)"
check "no mount left on the host under the scratch dir" test "$(host_mounts_of "$SCRATCH")" -eq 0
