# Shared helpers of the end-to-end suites: TAP output, a scratch dir removed
# whatever happens, a busybox+glibc rootfs, OCI bundles for runc.
# Sourced by tests/e2e/test-*.sh; GCTK_BUILD is the meson build dir, and
# GCTK_SIM_BUILD (default GCTK_BUILD) the one whose simulated driver is used:
# an ASan build's gctk runs on a plain build's driver, whose tools run inside
# containers without an ASan runtime.
set -u
: "${GCTK_BUILD:?set GCTK_BUILD to the build directory}"
GCTK=$GCTK_BUILD/cmd/gctk
GCTK_HOOK=$GCTK_BUILD/cmd/gctk-hook
GCTK_RUNTIME=$GCTK_BUILD/cmd/gctk-runtime
export GCTK_SIM_DIR=${GCTK_SIM_BUILD:-$GCTK_BUILD}/sim
. "$(dirname "${BASH_SOURCE[0]}")/arch-lib.sh"
TAP_N=0
TAP_FAILED=0
SCRATCH=$(mktemp -d /tmp/gctk-e2e.XXXXXX)
CLEANUP=()
# what the tools run here keep in $HOME (podman, lintian, ...) stays in SCRATCH
export HOME=$SCRATCH/.home
mkdir -p "$HOME"

# at_exit CMD: runs CMD (a string) at exit, newest first
at_exit() { CLEANUP=("$1" "${CLEANUP[@]}"); }
_run_cleanup() {
    local rc=$?
    for c in "${CLEANUP[@]}"; do eval "$c" >/dev/null 2>&1 || true; done
    rm -rf "$SCRATCH"
    echo "1..$TAP_N"
    [ "$TAP_FAILED" -eq 0 ] && exit "$rc"
    exit 1
}
trap _run_cleanup EXIT
trap 'exit 130' INT TERM

# remove_at_exit_if_new PATH...: for what the programs a suite runs create
# outside SCRATCH where no option moves them (a daemon's fixed runtime
# directory, a lock file, a directory the suite shares with the machine):
# each PATH that does not exist now is removed at exit, with what it holds
# then, and so are the parents of PATH that do not exist now. No suite
# leaves a file outside its SCRATCH.
remove_at_exit_if_new() {
    local p
    for p in "$@"; do
        [ -e "$p" ] || [ -L "$p" ] || {
            while [ "${p%/*}" != "" ] && [ ! -e "${p%/*}" ]; do p=${p%/*}; done
            at_exit "rm -rf -- '$p'"
        }
    done
}

# remove_matches_at_exit_if_new GLOB: the same for names a program picks
# itself: each path matching GLOB at exit that did not exist now is removed
remove_matches_at_exit_if_new() {
    local -a before=()
    local p
    for p in $1; do [ -e "$p" ] || [ -L "$p" ] && before+=("$p"); done
    at_exit "for p in $1; do case \" ${before[*]} \" in *\" \$p \"*) ;; *) [ -e \"\$p\" ] && rm -rf --one-file-system -- \"\$p\" ;; esac; done"
}

# gctk's discovery cache when a suite's settings leave it at its default
remove_at_exit_if_new /run/gctk

ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; }
not_ok() { TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1)); echo "not ok $TAP_N - $*"; }
skip() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $1 # SKIP $2"; }
diag() { sed 's/^/# /'; }

# check NAME CMD...: one test case that passes when CMD succeeds
check() {
    local name=$1; shift
    if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else
        not_ok "$1"; printf 'expected: %s\nactual:   %s\n' "$2" "$3" | diag
    fi
}

# expect_match NAME REGEX TEXT
expect_match() {
    if printf '%s' "$3" | grep -Eq -- "$2"; then ok "$1"; else
        not_ok "$1"; printf 'expected to match: %s\nactual: %s\n' "$2" "$3" | diag
    fi
}

# ---- the outside tools a suite runs against ---------------------------------
# Each suite holds a tool to what its version really does (docs/docker-e2e.md
# has the table), so it first asks the tool its version.

# version_of CMD...: the first MAJOR.MINOR[.PATCH] CMD prints ("Docker version
# 26.1.5+dfsg1, build 411e817" -> 26.1.5); empty when CMD fails or prints none
version_of() {
    local out
    out=$("$@" 2>/dev/null) || return 0
    printf '%s\n' "$out" | grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)?' | head -n 1
}

# version_ge A B: A is B or newer, as dotted numbers; false when A is empty
version_ge() {
    [ -n "$1" ] && [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]
}

# versions NAME=VERSION...: one diagnostic line naming what the suite runs against
versions() { echo "against: $*" | diag; }

# wait_until SECONDS CMD...: runs CMD every 0.1 s until it succeeds (status
# 0) or SECONDS have passed (status 1). Tests wait for a condition this way,
# never for a guessed time: a loaded machine makes any guess too short.
wait_until() {
    local end=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -ge "$end" ] && return 1
        sleep 0.1
    done
}

need_root() {
    if [ "$(id -u)" != 0 ]; then skip "$1" "needs root"; return 1; fi
}

# make_rootfs DIR: busybox (static) plus glibc, so that the simulated
# driver's dynamically linked tools run inside: the machine's, or those of
# E2E_ARCH (arch-lib.sh)
make_rootfs() {
    local r=$1
    mkdir -p "$r"/{bin,sbin,dev,proc,sys,tmp,etc,root,usr/bin} "$r$E2E_LIBDIR" \
        "$r/lib/$E2E_ARCH-linux-gnu" "$r${E2E_LOADER%/*}"
    if [ "$E2E_FOREIGN" = 1 ]; then
        e2e_arch_rootfs "$r"
    else
        cp /bin/busybox "$r/bin/busybox"
        local libdir=/lib/$E2E_ARCH-linux-gnu
        for l in libc.so.6 libm.so.6; do cp -L "$libdir/$l" "$r$libdir/$l"; done
        cp -L "$E2E_LOADER" "$r$E2E_LOADER"
    fi
    # glibc's own reader of the container's ld.so.cache (`ldconfig -p`;
    # static: the machine's, which reads the cache of either architecture)
    cp -L /sbin/ldconfig "$r/sbin/ldconfig"
    for t in sh ls cat echo grep wc head tail readlink stat find test true false sleep mount \
             env id ln rm mkdir touch sort uniq tr cut printf md5sum; do
        ln -sf busybox "$r/bin/$t"
    done
    echo "root:x:0:0:root:/root:/bin/sh" >"$r/etc/passwd"
}

# ---- what NVIDIA's toolkit 1.18 injects (docs/nvidia-compat.md, Injection) ----
# PARITY_SCRIPT, run in a container of GPU 1 of a simulated host made by
# `gctk sim create` with every capability, prints one line per fact;
# check_parity WHERE then checks $OUT, the same in the hook path and the CDI
# path (the default simulated host keeps the libraries where the image does).
PARITY_SCRIPT='L='"$E2E_LIBDIR"' V=580.95.05
ldconfig -p | while read -r name flags arrow path; do
    case $name in libcuda.so|libcuda.so.1|libnvcuvid.so) echo "cache $name $flags $path";; esac
done
for l in libcuda.so libcuda.so.1 libnvcuvid.so libnvidia-ml.so libnvidia-opticalflow.so \
         libGLX_indirect.so.0 gbm/nvidia-drm_gbm.so; do
    echo "link $l -> $(readlink $L/$l)"
done
test -f $L/gbm/nvidia-drm_gbm.so && echo "gbm backend resolves"
echo "link glxserver -> $(readlink /usr/lib/xorg/modules/extensions/libglxserver_nvidia.so)"
echo "dri: $(ls /dev/dri | tr "\n" " ")"
for b in /dev/dri/by-path/*; do echo "by-path ${b##*/} -> $(readlink "$b")"; done
echo "open renderD129: $(head -c 1 /dev/dri/renderD129 2>&1 >/dev/null)"
echo "egl: $(ls /usr/share/egl/egl_external_platform.d | tr "\n" " ")"
echo "egl libs: $(cd $L && ls libnvidia-egl-*.so.1 | tr "\n" " ")"
echo "vulkan layer: $(grep -o VK_LAYER_NV_optimus /usr/share/vulkan/implicit_layer.d/nvidia_layers.json)"
echo "xorg: $(ls /usr/lib/xorg/modules/drivers/nvidia_drv.so /usr/lib/xorg/modules/extensions/libglxserver_nvidia.so.$V | tr "\n" " ")"
echo "firmware: $(ls /lib/firmware/nvidia/$V | tr "\n" " ")"
grep ModifyDeviceFiles /proc/driver/nvidia/params'

# check_parity WHERE: the rows of PARITY_SCRIPT's output in $OUT
check_parity() {
    local w=$1 L=$E2E_LIBDIR
    expect_match "$w: libcuda.so in the container's ld.so.cache" "cache libcuda.so \($E2E_LDCONFIG_FLAGS\) $L/libcuda.so$" "$OUT"
    expect_match "$w: libcuda.so.1 in the container's ld.so.cache" "cache libcuda.so.1 \($E2E_LDCONFIG_FLAGS\) $L/libcuda.so.1$" "$OUT"
    expect_match "$w: the host's libnvcuvid.so dev link in the ld.so.cache" "cache libnvcuvid.so \($E2E_LDCONFIG_FLAGS\) $L/libnvcuvid.so$" "$OUT"
    expect_match "$w: libcuda.so -> libcuda.so.1 -> libcuda.so.<version>" \
        "link libcuda.so -> libcuda.so.1.*link libcuda.so.1 -> libcuda.so.580.95.05" "$(printf '%s' "$OUT" | tr '\n' ' ')"
    expect_match "$w: the host's libnvcuvid.so dev link" "^link libnvcuvid.so -> libnvcuvid.so.1$" "$OUT"
    expect_match "$w: libnvidia-ml.so, though 580 ships none" "^link libnvidia-ml.so -> libnvidia-ml.so.1$" "$OUT"
    expect_match "$w: libnvidia-opticalflow.so, as NVIDIA's toolkit adds it" "^link libnvidia-opticalflow.so -> libnvidia-opticalflow.so.1$" "$OUT"
    expect_match "$w: GLVND's libGLX_indirect.so.0" "^link libGLX_indirect.so.0 -> libGLX_nvidia.so.580.95.05$" "$OUT"
    expect_match "$w: GBM's gbm/nvidia-drm_gbm.so" "^link gbm/nvidia-drm_gbm.so -> ../libnvidia-allocator.so.1$" "$OUT"
    expect_match "$w: the GBM backend link leads to the allocator" "^gbm backend resolves$" "$OUT"
    expect_match "$w: the X server's libglxserver_nvidia.so" "^link glxserver -> libglxserver_nvidia.so.580.95.05$" "$OUT"
    expect_match "$w: exactly GPU 1's DRM nodes (card2, renderD129; not the BMC's card0)" "^dri: by-path card2 renderD129 $" "$OUT"
    expect_eq "$w: their by-path names, by GPU 1's PCI address" \
        "by-path pci-0000:2a:00.0-card -> ../card2 by-path pci-0000:2a:00.0-render -> ../renderD129" \
        "$(printf '%s\n' "$OUT" | grep '^by-path' | tr '\n' ' ' | sed 's/ $//')"
    expect_match "$w: the device cgroup lets the container open the render node" "^open renderD129: .*No such device or address" "$OUT"
    expect_match "$w: the EGL external platform files" "^egl: 10_nvidia_wayland.json 15_nvidia_gbm.json 20_nvidia_xcb.json 20_nvidia_xlib.json $" "$OUT"
    expect_match "$w: the EGL platform libraries" "^egl libs: libnvidia-egl-gbm.so.1 libnvidia-egl-wayland.so.1 libnvidia-egl-xcb.so.1 libnvidia-egl-xlib.so.1 $" "$OUT"
    expect_match "$w: the Vulkan implicit layer file" "^vulkan layer: VK_LAYER_NV_optimus$" "$OUT"
    expect_match "$w: the Xorg modules" "^xorg: /usr/lib/xorg/modules/drivers/nvidia_drv.so /usr/lib/xorg/modules/extensions/libglxserver_nvidia.so.580.95.05 $" "$OUT"
    expect_match "$w: the GSP firmware" "^firmware: gsp_ga10x.bin gsp_tu10x.bin $" "$OUT"
    expect_match "$w: no device files made by the driver inside (ModifyDeviceFiles: 0)" "^ModifyDeviceFiles: 0$" "$OUT"
}

# make_bundle DIR ROOTFS ARGS_JSON ENV_JSON [HOOK_ENV_JSON]: an OCI bundle run by
# runc, with gctk-hook as prestart hook
make_bundle() {
    local b=$1 rootfs=$2 args=$3 env=$4 hook_env=${5:-null}
    mkdir -p "$b"
    (cd "$b" && runc spec)
    local hooks='{"prestart": [{"path": $hook, "args": ["gctk-hook", "prestart"], "env": $henv}]}'
    [ "$hook_env" = none ] && hooks='{}' && hook_env=null
    jq --arg rootfs "$rootfs" --argjson args "$args" --argjson env "$env" \
       --arg hook "$GCTK_HOOK" --argjson henv "$hook_env" \
       ".root.path = \$rootfs | .root.readonly = false | .process.terminal = false
        | .process.args = \$args | .process.env = (.process.env + \$env)
        | .hooks = $hooks" \
       "$b/config.json" >"$b/config.json.new" && mv "$b/config.json.new" "$b/config.json"
}

# runc_run BUNDLE ID: runs the container, stdout+stderr to stdout, status kept
RUNC_ROOT=$SCRATCH/runc
runc_run() {
    runc --root "$RUNC_ROOT" run -b "$1" "$2" </dev/null 2>&1
}

# host_mounts: the host's mounts that involve this suite's scratch dir (other
# processes may mount and unmount elsewhere meanwhile)
host_mounts() { grep -c -- "$SCRATCH" /proc/self/mountinfo; }
# spec_mounts SPEC: the driver's bind mounts a CDI spec (JSON or YAML) gives:
# its hook's --mount arguments (gctk's specs) and its containerEdits.mounts
# (`gctk cdi generate --runtime-mounts`, earlier gctk versions, other tools)
spec_mounts() {
    grep -cE -- '^[[:space:]]*(- )?"?--mount"?,?$|containerPath' "$1"
}

# spec_runtime_mounts SPEC: those of them the runtime makes (containerEdits.mounts)
spec_runtime_mounts() {
    grep -c 'containerPath' "$1"
}

# cdi_mounts_made LOG: how many mounts the CDI spec's hook made in the last
# start it logged in LOG (0 where runc made the spec's mounts)
cdi_mounts_made() {
    grep ' hook create-container done' "$1" | tail -n 1 | sed -n 's/.* (\([0-9]*\) mounts).*/\1/p'
}
