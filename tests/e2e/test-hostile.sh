#!/usr/bin/env bash
# Hostile images: gctk-hook runs as root on the host while it works inside a
# rootfs the image author controls (docs/threat-model.md). Each case plants
# something in a fresh rootfs, runs a GPU container under runc on a simulated
# host, and asserts that nothing outside the rootfs changed (a listing and
# checksums of a host canary tree, the simulated driver tree and the host's
# own /etc/ld.so.cache, /usr/bin, lib dir) and that no mount leaked.
# The threats and which case covers each: docs/threat-model.md.
. "$(dirname "$0")/lib.sh"

need_root "hostile images" || exit 0
command -v runc >/dev/null || { skip "hostile images" "runc is not installed"; exit 0; }
SWAP=$GCTK_BUILD/tests/swap
[ -x "$SWAP" ] || { not_ok "the swap helper is built ($SWAP)"; exit 1; }

HOST=$SCRATCH/host
"$GCTK" sim create "$HOST" --gpus 4 >/dev/null || { not_ok "gctk sim create"; exit 1; }
cat >"$SCRATCH/gctk.conf" <<EOF
{"root": "$HOST", "log": "$SCRATCH/hook.log"}
EOF
export GCTK_CONFIG=$SCRATCH/gctk.conf
HOOK_ENV="[\"GCTK_CONFIG=$GCTK_CONFIG\"]"
VER=$("$GCTK" info --json --no-nvml | jq -r .driver_version)
LIBDIR=usr/lib/x86_64-linux-gnu

# The host canary tree: where the image's links point. Anything the hook
# writes through such a link would land here.
CANARY=$SCRATCH/canary
mkdir -p "$CANARY"/{lib,bin,dev,etc,procdriver/nvidia,compat,deep}
for d in lib bin dev etc compat procdriver/nvidia; do echo "canary $d" >"$CANARY/$d/keep"; done
echo "host cache" >"$CANARY/etc/ld.so.cache"
echo "host nvidia-smi" >"$CANARY/bin/nvidia-smi"
cp "$HOST/$LIBDIR/libcuda.so.$VER" "$CANARY/compat/libcuda.so.999.99.99"

BASE=$SCRATCH/base
make_rootfs "$BASE"

# what must never change: canary, driver root, a few host files, mounts
snapshot() {
    find "$CANARY" "$HOST" -printf '%p %y %m %s %l\n' | sort
    find "$CANARY" "$HOST" -type f -exec md5sum {} + | sort
    md5sum /etc/ld.so.cache 2>/dev/null
    ls -A /usr/bin /etc "/$LIBDIR" /usr/local 2>/dev/null | md5sum
    ls -A /dev | grep -i nvidia
}
# the host's mounts where a leak could land: in this suite's scratch tree
# (rootfs, canary, driver root) or on the host paths the image's links name
# (other tests may mount elsewhere on a shared machine meanwhile)
mounts() {
    awk '{print $5, $9}' /proc/self/mountinfo |
        grep -E "^($SCRATCH|/etc|/usr|/lib|/dev/nvidia|/proc/driver)" | sort
}

N=0
# case_begin NAME: a fresh rootfs in $R, snapshots taken
case_begin() {
    N=$((N + 1))
    CASE=$1
    R=$SCRATCH/r$N
    cp -a "$BASE" "$R"
    snapshot >"$SCRATCH/snap-before"
    mounts >"$SCRATCH/mounts-before"
    NOPROC=0
}
# case_run ENV_JSON [SCRIPT]: runs the container (sh -c SCRIPT), output in
# $OUT, status in $RC. NOPROC=1: no /proc mount, so the image's own /proc
# is what the hook sees.
case_run() {
    local b=$SCRATCH/b$N script=${2:-true}
    make_bundle "$b" "$R" "[\"sh\", \"-c\", $(jq -Rn --arg s "$script" '$s')]" "$1" "$HOOK_ENV"
    if [ "$NOPROC" = 1 ]; then
        jq 'del(.mounts[] | select(.destination == "/proc"))' "$b/config.json" >"$b/c" &&
            mv "$b/c" "$b/config.json"
    fi
    OUT=$(timeout -k 5 60 runc --root "$RUNC_ROOT" run -b "$b" "gctk-h-$$-$N" </dev/null 2>&1)
    RC=$?
    runc --root "$RUNC_ROOT" delete -f "gctk-h-$$-$N" >/dev/null 2>&1
}
# case_end: nothing outside the rootfs changed and no mount leaked
case_end() {
    snapshot >"$SCRATCH/snap-after"
    mounts >"$SCRATCH/mounts-after"
    if cmp -s "$SCRATCH/snap-before" "$SCRATCH/snap-after" &&
        cmp -s "$SCRATCH/mounts-before" "$SCRATCH/mounts-after"; then
        ok "$CASE: host unchanged, no mount leaked"
    else
        not_ok "$CASE: host unchanged, no mount leaked"
        diff "$SCRATCH/snap-before" "$SCRATCH/snap-after" | head -n 20 | diag
        diff "$SCRATCH/mounts-before" "$SCRATCH/mounts-after" | head -n 20 | diag
    fi
    rm -rf "$R" "$SCRATCH/b$N"
}
started() {
    if [ "$RC" -eq 0 ]; then ok "$CASE: the container starts"; else
        not_ok "$CASE: the container starts"; printf '%s\n' "$OUT" | tail -n 5 | diag
    fi
}
# refused REGEX: the container did not start and the hook said why, in one line
refused() {
    local lines
    lines=$(printf '%s\n' "$OUT" | grep -c 'gctk-hook: ')
    if [ "$RC" -ne 0 ] && [ "$lines" = 1 ] && printf '%s' "$OUT" | grep -Eq -- "$1"; then
        ok "$CASE: refused with one clear error"
    else
        not_ok "$CASE: refused with one clear error (status $RC, $lines hook lines)"
        printf '%s\n' "$OUT" | tail -n 5 | diag
    fi
}
GPU0='["NVIDIA_VISIBLE_DEVICES=0"]'
# hook_direct STATE: the hook alone on the state STATE, output in $OUT, status in $RC
hook_direct() { OUT=$(printf '%s' "$1" | timeout 20 "$GCTK_HOOK" prestart 2>&1); RC=$?; }

# ---- symlinks at every mount-target component, absolute and relative -------
UP=../../../../../../../../../..
for form in absolute relative; do
    pre=""; [ "$form" = relative ] && pre=$UP

    case_begin "lib dir -> host ($form)"
    rm -rf "$R/$LIBDIR"; ln -s "$pre$CANARY/lib" "$R/$LIBDIR"
    case_run "$GPU0" 'test -e /usr/lib/x86_64-linux-gnu/libcuda.so.1'
    started; case_end

    case_begin "/usr/bin -> host ($form)"
    rm -rf "$R/usr/bin"; ln -s "$pre$CANARY/bin" "$R/usr/bin"
    case_run "$GPU0" 'nvidia-smi -L'
    started; case_end

    # runc mounts its own tmpfs on /dev before the hook runs, so what the
    # image has under /dev never reaches gctk; the runc of Debian 12 (1.1.5)
    # does create its /dev/fd, /dev/ptmx, /dev/std* links through such a
    # link on the host (its bug, fixed in later runc): they land in a
    # directory outside the canary, where only gctk's nodes are looked for.
    case_begin "/dev -> host ($form)"
    mkdir -p "$SCRATCH/devlink-$form"
    rm -rf "$R/dev"; ln -s "$pre$SCRATCH/devlink-$form" "$R/dev"
    case_run "$GPU0" 'ls /dev/nvidia0'
    started
    check "$CASE: no GPU node created on the host" test -z "$(ls "$SCRATCH/devlink-$form" | grep nvidia)"
    case_end

    case_begin "/etc -> host ($form)"
    rm -rf "$R/etc"; ln -s "$pre$CANARY/etc" "$R/etc"
    case_run "$GPU0"
    started; case_end

    case_begin "/etc/ld.so.cache -> host file ($form)"
    ln -sf "$pre$CANARY/etc/ld.so.cache" "$R/etc/ld.so.cache"
    case_run "$GPU0"
    started
    check "$CASE: the link was replaced by the container's own cache" test -f "$R/etc/ld.so.cache" -a ! -L "$R/etc/ld.so.cache"
    case_end

    case_begin "/proc/driver -> host ($form, image's own /proc)"
    NOPROC=1
    mkdir -p "$R/proc"; ln -s "$pre$CANARY/procdriver" "$R/proc/driver"
    case_run "$GPU0"
    case_end

    case_begin "/usr/local/cuda/compat -> host ($form)"
    mkdir -p "$R/usr/local/cuda"; ln -s "$pre$CANARY/compat" "$R/usr/local/cuda/compat"
    case_run "$GPU0"
    started; case_end
done

case_begin "lib dir -> /proc/1/root (a magic link to the host's /)"
rm -rf "$R/$LIBDIR"; ln -s "/proc/1/root$CANARY/lib" "$R/$LIBDIR"
case_run "$GPU0"
refused 'gctk-hook: .*(Too many levels|symbolic link|No such file)'
case_end

case_begin "lib dir -> /proc/self/root (magic link, image's own /proc)"
NOPROC=1
mkdir -p "$R/proc/self"; ln -s "/proc/self/root$CANARY/lib" "$R/$LIBDIR.x"
rm -rf "$R/$LIBDIR"; mv "$R/$LIBDIR.x" "$R/$LIBDIR"
case_run "$GPU0"
case_end

case_begin "dangling lib dir link"
rm -rf "$R/$LIBDIR"; ln -s /nonexistent/gctk-libs "$R/$LIBDIR"
case_run "$GPU0" 'test -e /usr/lib/x86_64-linux-gnu/libcuda.so.1'
started
check "$CASE: created where the link points, inside the rootfs" test -e "$R/nonexistent/gctk-libs/libcuda.so.$VER"
case_end

case_begin "dangling /etc/ld.so.cache link to a host path"
ln -sf "$CANARY/etc/new-cache" "$R/etc/ld.so.cache"
case_run "$GPU0"
started
check "$CASE: nothing created on the host" test ! -e "$CANARY/etc/new-cache"
case_end

case_begin "symlink loop at the lib dir"
rm -rf "$R/$LIBDIR"; ln -s loop-b "$R/usr/lib/loop-a"; ln -s loop-a "$R/usr/lib/loop-b"
ln -s loop-a "$R/$LIBDIR"
case_run "$GPU0"
refused 'gctk-hook: .*(Too many levels of symbolic links|loop)'
case_end

# ---- a FIFO, a socket or a directory where a file is expected ---------------
case_begin "FIFO at /usr/bin/nvidia-smi"
mkfifo "$R/usr/bin/nvidia-smi"
case_run "$GPU0"
refused 'gctk-hook: .*nvidia-smi.* is a FIFO'
check "$CASE: the FIFO is still there" test -p "$R/usr/bin/nvidia-smi"
case_end

if command -v python3 >/dev/null; then
    case_begin "socket at the libcuda target"
    python3 -c "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" "$R/$LIBDIR/libcuda.so.$VER"
    case_run "$GPU0"
    refused 'gctk-hook: .*libcuda.*is a socket'
    case_end
else
    skip "socket at the libcuda target" "python3 makes the socket"
fi

case_begin "directory at the libcuda target"
mkdir -p "$R/$LIBDIR/libcuda.so.$VER/sub"
case_run "$GPU0"
refused 'gctk-hook: .*libcuda.*is a directory, expected a regular file'
case_end

case_begin "FIFO at /etc/ld.so.cache (never opened for reading)"
rm -f "$R/etc/ld.so.cache"; mkfifo "$R/etc/ld.so.cache"
case_run "$GPU0"
started; case_end

# a device node is never opened: its driver's open could act on the host
# (major 0 has no driver, so an open would fail and leave no note)
case_begin "device node at /etc/ld.so.cache (never opened)"
rm -f "$R/etc/ld.so.cache"; mknod "$R/etc/ld.so.cache" c 0 0
notes=$(grep -c 'ld.so.cache is not a regular file' "$SCRATCH/hook.log")
case_run "$GPU0"
started
expect_eq "$CASE: seen as not a regular file, without opening it" $((notes + 1)) \
    "$(grep -c 'ld.so.cache is not a regular file' "$SCRATCH/hook.log")"
case_end

case_begin "directory at /etc/ld.so.cache"
mkdir -p "$R/etc/ld.so.cache/x"
case_run "$GPU0"
refused 'gctk-hook: .*ld.so.cache'
check "$CASE: no mount target left in the rootfs" test ! -e "$R/usr/bin/nvidia-smi"
case_end

case_begin "very long path at the lib dir (3,800 bytes)"
long=$(printf 'd%.0s/' $(seq 1 1900))
rm -rf "$R/$LIBDIR"; ln -s "/$long" "$R/$LIBDIR"
case_run "$GPU0"
case_end

# ---- a hostile existing ld.so.cache -------------------------------------------
hdr() { printf 'glibc-ld.so.cache1.1'; }
u32() { printf "\\x$(printf %02x $(($1 & 255)))\\x$(printf %02x $((($1 >> 8) & 255)))\\x$(printf %02x $((($1 >> 16) & 255)))\\x$(printf %02x $((($1 >> 24) & 255)))"; }
for c in truncated huge-count offsets-out-of-range old-format-huge-count; do
    case_begin "hostile ld.so.cache: $c"
    case $c in
        truncated) { hdr; u32 5; } >"$R/etc/ld.so.cache" ;;
        huge-count) { hdr; u32 4294967295; u32 0; u32 0; u32 0; u32 0; u32 0; u32 0; } >"$R/etc/ld.so.cache" ;;
        offsets-out-of-range)
            { hdr; u32 1; u32 4; u32 0; u32 0; u32 0; u32 0; u32 0
              u32 0x303; u32 4294967280; u32 4294967280; u32 0; u32 0; u32 0; printf 'abc\0'; } >"$R/etc/ld.so.cache" ;;
        old-format-huge-count) { printf 'ld.so-1.7.0\0'; u32 4294967295; } >"$R/etc/ld.so.cache" ;;
    esac
    case_run "$GPU0" 'test -s /etc/ld.so.cache'
    started; case_end
done
expect_match "a hostile cache is noted in the log and replaced" "ld.so.cache ignored" "$(cat "$SCRATCH/hook.log")"

# ---- the image's environment is never the hook's --------------------------------
MARK=/tmp/gctk-hostile-mark-$$
at_exit "rm -f $MARK"
mkdir -p "$SCRATCH/evilbin"
cat >"$SCRATCH/evil.c" <<EOF
#include <fcntl.h>
#include <unistd.h>
__attribute__((constructor)) static void mark(void) { close(open("$MARK", O_CREAT | O_WRONLY, 0644)); }
EOF
for t in ldconfig ldconfig.real nvidia-smi modprobe sh; do
    printf '#!/bin/sh\ntouch %s\n' "$MARK" >"$SCRATCH/evilbin/$t"; chmod +x "$SCRATCH/evilbin/$t"
done
if cc -shared -fPIC -o "$SCRATCH/evil.so" "$SCRATCH/evil.c" 2>/dev/null; then
    case_begin "LD_PRELOAD, LD_LIBRARY_PATH and PATH in the image's env"
    mkdir -p "$R$SCRATCH"; cp -a "$SCRATCH/evil.so" "$SCRATCH/evilbin" "$R$SCRATCH/"
    case_run "[\"NVIDIA_VISIBLE_DEVICES=0\", \"LD_PRELOAD=$SCRATCH/evil.so\", \"LD_LIBRARY_PATH=$SCRATCH\", \"PATH=$SCRATCH/evilbin:/bin\"]" true
    started
    check "$CASE: nothing of the image ran on the host" test ! -e "$MARK"
    case_end
else
    skip "LD_PRELOAD, LD_LIBRARY_PATH and PATH in the image's env" "cc cannot build a shared object"
fi

# ---- NVIDIA_VISIBLE_DEVICES as an attack ------------------------------------------
case_begin "NVIDIA_VISIBLE_DEVICES with 10,000 ids"
ids=$(for i in $(seq 1 5000); do printf '1,3,'; done)
case_run "[\"NVIDIA_VISIBLE_DEVICES=${ids%,}\"]" 'ls /dev/nvidia[0-9]* | tr "\n" " "'
started
expect_eq "$CASE: exactly GPUs 1 and 3" "/dev/nvidia1 /dev/nvidia3 " "$OUT"
case_end

case_begin "NVIDIA_VISIBLE_DEVICES with shell metacharacters"
case_run "[\"NVIDIA_VISIBLE_DEVICES=0;touch $MARK,\$(touch $MARK),\`touch $MARK\`|x&y>z\"]"
refused 'gctk-hook: .*unknown GPU'
check "$CASE: nothing was run" test ! -e "$MARK"
case_end

case_begin "NVIDIA_VISIBLE_DEVICES with control characters"
case_run '["NVIDIA_VISIBLE_DEVICES=0,\u0001\n2030-01-01T00:00:00.000Z forged\u001b[2J\u007f"]'
refused 'gctk-hook: .*unknown GPU .[\\]+x01[\\]+x0a2030'
check "$CASE: no forged line in the log" test -z "$(grep '^2030-01-01' "$SCRATCH/hook.log")"
case_end

# C1 controls reach a terminal as UTF-8 (U+009B is CSI); U+2028 ends a line
# for many log readers (config.json is UTF-8: jansson refuses other bytes)
case_begin "NVIDIA_VISIBLE_DEVICES with C1 controls and U+2028"
b=$SCRATCH/b$N
make_bundle "$b" "$R" '["true"]' "$GPU0" "$HOOK_ENV"
printf '0,\xc2\x9b2J\xc2\x85\xe2\x80\xa8%s forged' 2030-01-02T00:00:00.000Z >"$SCRATCH/c1"
jq --rawfile v "$SCRATCH/c1" '.process.env = ["NVIDIA_VISIBLE_DEVICES=" + $v]' "$b/config.json" >"$b/c" &&
    mv "$b/c" "$b/config.json"
hook_direct "{\"pid\": $$, \"bundle\": \"$b\", \"id\": \"c1\"}"
refused 'gctk-hook: .*unknown GPU .[\\]+u009b2J[\\]+u0085[\\]+u20282030-01-02'
check "$CASE: stderr holds no C1 control or separator" \
    test -z "$(printf '%s' "$OUT" | LC_ALL=C grep -aP '\xc2[\x80-\x9f]|\xe2\x80[\xa8\xa9]|\x9b|\xff')"
check "$CASE: nor does the log" \
    test -z "$(LC_ALL=C grep -aP '\xc2[\x80-\x9f]|\xe2\x80[\xa8\xa9]|\x9b|\xff' "$SCRATCH/hook.log")"
case_end

case_begin "NVIDIA_VISIBLE_DEVICES with a NUL (\\u0000) in config.json"
case_run '["NVIDIA_VISIBLE_DEVICES=0\u0000,1"]'
check "$CASE: the container does not start" test "$RC" -ne 0
case_end

# ---- gctk-runtime reads runc's command line as runc does -----------------------------
# Every spelling of the bundle option that runc accepts: gctk-runtime must
# prepare that bundle, never the config.json of its current directory (a
# decoy here, which must stay as it is).
DECOY=$SCRATCH/decoy
mkdir -p "$DECOY"
echo '{"decoy": true}' >"$DECOY/config.json"
for spelling in "-bundle B" "-bundle=B" "--b B" "--b=B" "-b=B" "ID --bundle B"; do
    case_begin "gctk-runtime run $spelling"
    b=$SCRATCH/b$N
    make_bundle "$b" "$R" '["sh", "-c", "ls /dev/nvidia0"]' "$GPU0" none
    args=${spelling//B/$b}
    args=${args//ID/gctk-h-$$-$N}
    case "$spelling" in ID*) id_arg=() ;; *) id_arg=("gctk-h-$$-$N") ;; esac
    # shellcheck disable=SC2086 # the spelling is split on purpose
    OUT=$(cd "$DECOY" && timeout -k 5 60 "$GCTK_RUNTIME" --root "$RUNC_ROOT" run $args "${id_arg[@]}" </dev/null 2>&1)
    RC=$?
    runc --root "$RUNC_ROOT" delete -f "gctk-h-$$-$N" >/dev/null 2>&1
    started
    expect_eq "$CASE: the container has its GPU" "/dev/nvidia0" "$OUT"
    expect_eq "$CASE: the current directory's config.json is untouched" '{"decoy": true}' "$(cat "$DECOY/config.json")"
    case_end
done

case_begin "gctk-runtime run with an option runc does not have"
b=$SCRATCH/b$N
make_bundle "$b" "$R" '["true"]' "$GPU0" none
OUT=$(cd "$DECOY" && timeout -k 5 60 "$GCTK_RUNTIME" --root "$RUNC_ROOT" run --bundel "$b" "gctk-h-$$-$N" </dev/null 2>&1)
RC=$?
runc --root "$RUNC_ROOT" delete -f "gctk-h-$$-$N" >/dev/null 2>&1
if [ "$RC" -ne 0 ] && printf '%s' "$OUT" | grep -q '^gctk-runtime: `--bundel` is not an option of `runc run`'; then
    ok "$CASE: refused with one clear error"
else
    not_ok "$CASE: refused with one clear error (status $RC)"; printf '%s\n' "$OUT" | diag
fi
expect_eq "$CASE: the current directory's config.json is untouched" '{"decoy": true}' "$(cat "$DECOY/config.json")"
case_end

# ---- big and broken inputs ------------------------------------------------------
case_begin "config.json of 10 MB"
b=$SCRATCH/b$N
make_bundle "$b" "$R" '["true"]' "$GPU0" "$HOOK_ENV"
jq --rawfile pad <(head -c 7000000 /dev/zero | tr '\0' a) \
    '.annotations = {"pad": $pad} | .process.env += [range(0; 3000) | "NVIDIA_REQUIRE_X\(.)=driver>=1"] + ["NVIDIA_REQUIRE_PAD=\($pad[0:3000000])"]' \
    "$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
size=$(stat -c %s "$b/config.json")
OUT=$(echo "{\"pid\": $$, \"bundle\": \"$b\", \"id\": \"big\"}" | GCTK_CONFIG=$GCTK_CONFIG timeout 60 "$GCTK_HOOK" prestart 2>&1)
RC=$?
check "$CASE: $size bytes, the hook answers within 60 s" test "$RC" -ne 124
refused 'gctk-hook: .*'
case_end

# Work bounded by the input's size, not its square: each of these took the
# hook or gctk-runtime past 15 s before (one blank removed per memmove; a
# search of the names kept for each CDI name); 60 s is a wall, not a target.
case_begin "NVIDIA_DRIVER_CAPABILITIES after 8 MB of blanks (a container that asks for no GPU)"
b=$SCRATCH/b$N
make_bundle "$b" "$R" '["true"]' '[]' "$HOOK_ENV"
head -c 8000000 /dev/zero | tr '\0' ' ' >"$SCRATCH/blanks"
jq --rawfile v "$SCRATCH/blanks" '.process.env += ["NVIDIA_DRIVER_CAPABILITIES=" + $v + "utility"]' \
    "$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
OUT=$(echo "{\"pid\": $$, \"bundle\": \"$b\"}" | timeout 60 "$GCTK_HOOK" prestart 2>&1)
RC=$?
expect_eq "$CASE: the hook answers within 60 s, as for any container" "0" "$RC"
case_end

case_begin "600,000 CDI names in NVIDIA_VISIBLE_DEVICES (gctk-runtime)"
b=$SCRATCH/b$N
make_bundle "$b" "$R" '["true"]' '[]' none
seq 1 600000 | sed 's|^|nvidia.com/gpu=x|' | paste -sd, >"$SCRATCH/names"
jq --rawfile v "$SCRATCH/names" '.process.env += ["NVIDIA_VISIBLE_DEVICES=" + ($v | rtrimstr("\n"))]' \
    "$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
OUT=$(timeout 60 "$GCTK_RUNTIME" --root "$RUNC_ROOT" create --bundle "$b" "gctk-h-$$-$N" </dev/null 2>&1)
RC=$?
runc --root "$RUNC_ROOT" delete -f "gctk-h-$$-$N" >/dev/null 2>&1
check "$CASE: gctk-runtime answers within 60 s" test "$RC" -ne 124
expect_match "$CASE: and refuses the unknown device in one line" \
    '^gctk-runtime: CDI devices of .*unresolvable CDI device `nvidia.com/gpu=x1`' "$OUT"
case_end

case_begin "no OCI state on stdin"
hook_direct ""
refused '^gctk-hook: no OCI state on stdin'
case_end

case_begin "malformed OCI state"
hook_direct '{"pid": 1, "bundle": '
refused '^gctk-hook: OCI state on stdin line 1'
case_end

case_begin "OCI state without a pid"
hook_direct '{"bundle": "/x"}'
refused '^gctk-hook: OCI state on stdin: no valid .pid.'
case_end

case_begin "OCI state of 2 MB"
OUT=$(head -c 2000000 /dev/zero | tr '\0' ' ' | timeout 20 "$GCTK_HOOK" prestart 2>&1); RC=$?
refused '^gctk-hook: OCI state on stdin: larger than'
case_end

case_begin "bundle without config.json"
hook_direct "{\"pid\": $$, \"bundle\": \"$R\"}"
refused "^gctk-hook: .*$R/config.json"
case_end

case_begin "malformed config.json"
echo '{"root": {"path": "rootfs"}, "process": {"env": [' >"$R/config.json"
hook_direct "{\"pid\": $$, \"bundle\": \"$R\"}"
refused '^gctk-hook: bundle .*config.json line'
case_end

case_begin "a container process that does not exist"
b=$SCRATCH/b$N
make_bundle "$b" "$R" '["true"]' "$GPU0" "$HOOK_ENV"
hook_direct "{\"pid\": 1073741823, \"bundle\": \"$b\"}"
refused '^gctk-hook: .*(process 1073741823|pid 1073741823)'
case_end

case_begin "a GPU container in the hook's own mount namespace"
b=$SCRATCH/b$N
make_bundle "$b" "$R" '["true"]' "$GPU0" "$HOOK_ENV"
sleep 30 & own=$!
at_exit "kill $own"
GCTK_CONFIG=$SCRATCH/nocg.conf
jq '.["no-cgroups"] = true' "$SCRATCH/gctk.conf" >"$GCTK_CONFIG"
hook_direct "{\"pid\": $own, \"bundle\": \"$b\"}"
GCTK_CONFIG=$SCRATCH/gctk.conf
kill "$own" 2>/dev/null; wait "$own" 2>/dev/null
refused "^gctk-hook: .*shares the hook's mount namespace"
check "$CASE: nothing mounted or created in the rootfs" test ! -e "$R/usr/bin/nvidia-smi"
case_end

# ---- CDI specs that anyone could have written -----------------------------------------
# gctk-runtime reads /etc/cdi and /var/run/cdi: here they are private tmpfs
# mounts of a mount namespace of the case's own, so that the planted FIFO and
# specs reach no other engine of the machine. A spec's hook runs as root on
# the host: one owned by uid 12345 and writable by all, and a trusted-looking
# one in a directory writable by all, must not be used, and a FIFO named
# *.json must not stop a trusted spec's container.
# the mount points of the private spec directories exist before the snapshot
remove_at_exit_if_new /etc/cdi /var/run/cdi
mkdir -p /etc/cdi /var/run/cdi
case_begin "untrusted CDI specs (gctk-runtime, private spec directories)"
CDIMARK=$SCRATCH/cdi-hook-ran
cat >"$SCRATCH/cdi-trust.sh" <<'SCRIPT'
set -u
mount -t tmpfs -o mode=0777 tmpfs /etc/cdi && mount -t tmpfs -o mode=0755 tmpfs /var/run/cdi || exit 90
for v in good evil open; do
    "$GCTK" cdi generate --root "$HOST" --vendor "$v.example.com" --format json >"$SCRATCH/$v.json" || exit 91
done
# evil: a hook that marks the host, the file owned by uid 12345, mode 0666
jq --arg m "$CDIMARK" '.containerEdits.hooks += [{"hookName": "createContainer", "path": "/bin/touch", "args": ["touch", $m]}]'     "$SCRATCH/evil.json" >/var/run/cdi/evil.json
chown 12345:12345 /var/run/cdi/evil.json && chmod 0666 /var/run/cdi/evil.json
cp "$SCRATCH/good.json" /var/run/cdi/good.json
mkfifo /var/run/cdi/blocker.json
cp "$SCRATCH/open.json" /etc/cdi/open.json
for v in good evil open; do
    make_bundle "$SCRATCH/cdi-$v" "$R" '["sh", "-c", "ls /dev/nvidia1"]' '[]' none
    jq --arg d "$v.example.com/gpu=1" '.annotations = {"cdi.k8s.io/t": $d}' "$SCRATCH/cdi-$v/config.json"         >"$SCRATCH/cdi-$v/c" && mv "$SCRATCH/cdi-$v/c" "$SCRATCH/cdi-$v/config.json"
    timeout -k 5 60 "$GCTK_RUNTIME" --root "$RUNC_ROOT" run -b "$SCRATCH/cdi-$v" "gctk-h-$$-cdi-$v"         </dev/null >"$SCRATCH/cdi-$v.out" 2>&1
    echo $? >"$SCRATCH/cdi-$v.rc"
    runc --root "$RUNC_ROOT" delete -f "gctk-h-$$-cdi-$v" >/dev/null 2>&1
done
SCRIPT
export -f make_bundle
GCTK=$GCTK GCTK_RUNTIME=$GCTK_RUNTIME GCTK_HOOK=$GCTK_HOOK HOST=$HOST SCRATCH=$SCRATCH R=$R \
    RUNC_ROOT=$RUNC_ROOT CDIMARK=$CDIMARK unshare --mount --propagation private bash "$SCRATCH/cdi-trust.sh"
expect_eq "$CASE: a trusted spec's container starts beside a FIFO named *.json" \
    "0 /dev/nvidia1" "$(cat "$SCRATCH/cdi-good.rc") $(cat "$SCRATCH/cdi-good.out")"
check "$CASE: the spec of uid 12345, mode 0666, is not used" test "$(cat "$SCRATCH/cdi-evil.rc")" -ne 0
expect_match "$CASE: and the error says why" \
    'not used: .*evil.json` belongs to uid 12345, not root' "$(cat "$SCRATCH/cdi-evil.out")"
check "$CASE: its hook never ran" test ! -e "$CDIMARK"
expect_match "$CASE: a spec in a directory writable by all is not used" \
    'the spec directory `/etc/cdi` is writable by group or others \(mode 0777\)' "$(cat "$SCRATCH/cdi-open.out")"
expect_eq "$CASE: the host's spec directories are as they were" "" "$(ls -A /etc/cdi /var/run/cdi 2>/dev/null | grep -E 'evil|good|open|blocker')"
case_end

# ---- what gctk writes on the host: never through a link or a special file -----------
# A link planted where gctk writes (a spec directory a device plugin shares,
# a refresh unit's --output) pointed at a block device had the spec written
# over the disk's first bytes; a FIFO with no reader hung the command. Each
# output is refused and left as it is: the disk (a loop device over a
# scratch file) keeps its bytes, the FIFO stays a FIFO, nothing waits.
if command -v losetup >/dev/null && DISK_FILE=$SCRATCH/disk.img &&
    head -c 1048576 /dev/urandom >"$DISK_FILE" && DISK=$(losetup -f --show "$DISK_FILE" 2>/dev/null); then
    at_exit "losetup -d $DISK"
    md5_before=$(md5sum <"$DISK")
    OUTS=$SCRATCH/outputs
    mkdir -p "$OUTS"
    for out in "cdi generate --output" "runtime configure --runtime=docker --config" \
        "runtime configure --runtime=containerd --config"; do
        for kind in "link to a block device" FIFO; do
            case_begin "gctk $out: $kind"
            rm -f "$OUTS/target"
            if [ "$kind" = FIFO ]; then mkfifo "$OUTS/target"; else ln -s "$DISK" "$OUTS/target"; fi
            # shellcheck disable=SC2086 # the command is split on purpose
            OUT=$(timeout 20 "$GCTK" --root "$HOST" $out "$OUTS/target" 2>&1)
            RC=$?
            check "$CASE: refused at once" test "$RC" -ne 0 -a "$RC" -ne 124
            expect_match "$CASE: the line names it" "target\` is a (symlink \(to \`$DISK\`\)|FIFO)" "$OUT"
            if [ "$kind" = FIFO ]; then
                check "$CASE: the FIFO is left" test -p "$OUTS/target"
            else
                check "$CASE: the link is left" test "$(readlink "$OUTS/target")" = "$DISK"
            fi
            expect_eq "$CASE: the disk keeps its bytes" "$md5_before" "$(md5sum <"$DISK")"
            case_end
        done
    done
else
    skip "gctk's outputs on links and FIFOs" "no loop device here"
fi

# ---- the symlink-swap race ---------------------------------------------------------
# A process of the image (here: on the host, in the shared rootfs, as another
# container of the same image would) exchanges real directories with links
# out of the rootfs as fast as it can while the hook runs, 200 times. Only
# paths that runc itself does not set up are swapped: runc's own /dev and
# /proc setup has races of its own (runc CVE-2024-45310), not gctk's.
case_begin "symlink swapped in a loop while the hook runs (200 runs)"
ln -s "$CANARY/lib" "$R/usr/lib/decoy-lib"
ln -s "$UP$CANARY/bin" "$R/usr/decoy-bin"
ln -s "$CANARY/etc" "$R/decoy-etc"
"$SWAP" "$R/usr/lib" x86_64-linux-gnu:decoy-lib &
s1=$!
"$SWAP" "$R/usr" bin:decoy-bin &
s2=$!
"$SWAP" "$R" etc:decoy-etc &
s3=$!
at_exit "kill $s1 $s2 $s3"
b=$SCRATCH/b$N
make_bundle "$b" "$R" '["/bin/busybox", "true"]' "$GPU0" "$HOOK_ENV"
starts=0 fails=0
for i in $(seq 1 200); do
    if timeout -k 5 30 runc --root "$RUNC_ROOT" run -b "$b" "gctk-h-$$-race-$i" </dev/null >"$SCRATCH/race.out" 2>&1; then
        starts=$((starts + 1))
    else
        fails=$((fails + 1))
        grep -o 'gctk-hook: [^"]*' "$SCRATCH/race.out" | sed 's/[0-9]\{3,\}/N/g' >>"$SCRATCH/race.errors"
    fi
    runc --root "$RUNC_ROOT" delete -f "gctk-h-$$-race-$i" >/dev/null 2>&1
done
kill "$s1" "$s2" "$s3"; wait "$s1" "$s2" "$s3" 2>/dev/null
echo "200 runs under the swap race: $starts started, $fails refused" | diag
[ -f "$SCRATCH/race.errors" ] && sort "$SCRATCH/race.errors" | uniq -c | sort -rn | head -n 5 | cut -c1-200 | diag
check "$CASE: all 200 runs ended" test $((starts + fails)) -eq 200
case_end

expect_eq "no container left" "" "$(runc --root "$RUNC_ROOT" list -q)"
