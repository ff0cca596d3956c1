# shellcheck shell=bash
# What tools/gpu-verify.sh and tools/gpu-cri.sh share (sourced by both): the
# carry, the output directory and the log, a scratch directory, their step
# and command lines, and the image their GPU checks run in.

# gpu_begin CARRY OUT LOG NAME: C (the carry), OUT, SRC (this checkout) and W
# (a new directory /tmp/NAME.XXXXXX); all that is printed from here on goes
# to OUT/LOG as well
gpu_begin() {
    C=$(cd "$1" && pwd)
    OUT=$2
    mkdir -p "$OUT"
    exec > >(tee -a "$OUT/$3") 2>&1
    SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    W=$(mktemp -d "/tmp/$4.XXXXXX")
}
step() { printf '\n### %s\n' "$*"; }
run() { echo "\$ $*"; "$@"; echo "[exit $?]"; }

# cuda_rootfs DIR: busybox (the carry's) with glibc and the other libraries
# nvidia-smi links (not the driver's: the hook brings them), and
# tools/gpu/vecadd.cu built by nvcc with its CUDA runtime linked in, as
# /usr/local/bin/vecadd
cuda_rootfs() {
    local r=$1 t b
    mkdir -p "$r"/{bin,dev,proc,sys,tmp,etc,usr/bin,usr/local/bin,usr/lib/x86_64-linux-gnu}
    cp "$C/bin/busybox" "$r/bin/busybox"
    for t in sh ls cat echo true grep wc readlink md5sum cut; do ln -sf busybox "$r/bin/$t"; done
    run nvcc --version
    run nvcc -O2 -cudart static -o "$W/vecadd" "$SRC/tools/gpu/vecadd.cu"
    cp "$W/vecadd" "$r/usr/local/bin/vecadd"
    for b in "$W/vecadd" "$(command -v nvidia-smi)"; do
        ldd "$b" | grep -o '/[^ ]*' | grep -v '^/usr/local/nvidia' | while read -r l; do
            [ -e "$r$l" ] || cp -L --parents "$l" "$r"
        done
    done
}

# saw_exactly OUTPUT INDEX...: OUTPUT (of `nvidia-smi -L` and vecadd in a
# container) names by UUID exactly the host's GPUs INDEX..., none when no
# INDEX, and the kernel ran on each of them and on no other. SEEN and WANT
# are the UUIDs it saw and the ones it should have, for the caller's line.
saw_exactly() {
    local out=$1 i
    shift
    WANT=$(for i in "$@"; do nvidia-smi -i "$i" --query-gpu=uuid --format=csv,noheader; done | sort | tr '\n' ' ')
    SEEN=$(printf '%s\n' "$out" | grep '^GPU ' | grep -o 'GPU-[0-9a-f-]*' | sort | tr '\n' ' ')
    [ "$SEEN" = "$WANT" ] && [ "$(printf '%s\n' "$out" | grep -c ': kernel ok$')" = "$#" ]
}
