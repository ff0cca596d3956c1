# The architecture of a suite's simulated host and containers (sourced by
# lib.sh): gctk's own, or GCTK_E2E_ARCH=aarch64 on an x86-64 machine, where
# the host is `gctk sim create --arch aarch64` (the mocks of sim/cross/, built
# by gcc-aarch64-linux-gnu) and the containers are aarch64 ones: Debian's
# arm64 busybox-static and libc6, fetched at test time (apt-get download with
# a private apt state in the build dir; nothing binary is in the tree), run
# through qemu-user. gctk itself stays the machine's: discovery, the hook, the
# runtime and CDI work on an aarch64 driver layout as they would on a Grace
# Hopper or Grace Blackwell node.
#
#   E2E_ARCH       uname -m of the containers ("x86_64", "aarch64")
#   E2E_FOREIGN    1 when that is not the machine's
#   E2E_LIBDIR     the image's library directory (/usr/lib/aarch64-linux-gnu)
#   E2E_LDCONFIG_FLAGS  how `ldconfig -p` names that loader's entries
#   E2E_SIM_ARGS   what `gctk sim create` needs for that host (--arch aarch64)
#   E2E_SIM_TOOLS  the simulated driver's programs of that machine (cuda-devices)
#   E2E_CC         a C compiler for that machine ("" when none)
#   e2e_arch_ready NAME   (after need_root) for a foreign architecture: makes
#                  the qemu binfmt handler and the rootfs template; false when
#                  the suite NAME cannot run: skipped when a tool is missing
#                  (qemu-user-static, the cross-built driver), failed when
#                  the setup itself failed
#
# qemu-user's binfmt handler: the kernel's binfmt_misc is one table for the
# whole machine (every mount namespace of the initial user namespace shares
# it), and its entries live while binfmt_misc is mounted somewhere. A suite
# registers its own entry (a name of its own; the F flag: the kernel opens
# the interpreter now, so that it runs inside containers, which do not have
# it; the P flag, for busybox: _e2e_qemu_binfmt) from a private mount
# namespace held by a helper process, and at exit removes the entry and ends
# the helper: a machine without binfmt_misc mounted keeps none, one with it
# mounted (systemd's) gets its table back as it was. While the suite runs,
# aarch64 programs run through qemu everywhere on the machine; a suite
# killed with SIGKILL leaves its entry until its helper (killed with its
# parent, PR_SET_PDEATHSIG) is gone.

E2E_ARCH=${GCTK_E2E_ARCH:-$(uname -m)}
E2E_FOREIGN=0
[ "$E2E_ARCH" = "$(uname -m)" ] || E2E_FOREIGN=1
case "$E2E_ARCH" in
    x86_64) E2E_DEB_ARCH=amd64 E2E_LOADER=/lib64/ld-linux-x86-64.so.2 E2E_LDCONFIG_FLAGS=libc6,x86-64 ;;
    aarch64) E2E_DEB_ARCH=arm64 E2E_LOADER=/lib/ld-linux-aarch64.so.1 E2E_LDCONFIG_FLAGS=libc6,AArch64 ;;
    *) echo "GCTK_E2E_ARCH=$E2E_ARCH: gctk knows x86_64 and aarch64" >&2; exit 2 ;;
esac
E2E_LIBDIR=/usr/lib/$E2E_ARCH-linux-gnu
E2E_SIM_ARGS=()
E2E_SIM_TOOLS=$GCTK_SIM_DIR
E2E_CC=
if [ "$E2E_FOREIGN" = 1 ]; then
    E2E_SIM_ARGS=(--arch "$E2E_ARCH")
    E2E_SIM_TOOLS=$GCTK_SIM_DIR/cross
    command -v "$E2E_ARCH-linux-gnu-gcc" >/dev/null && E2E_CC=$E2E_ARCH-linux-gnu-gcc
else
    command -v gcc >/dev/null && E2E_CC=gcc
fi
# where the fetched packages and the rootfs template are kept between suites
E2E_ARCH_CACHE=${GCTK_E2E_CACHE:-$GCTK_BUILD/e2e-cache}/$E2E_DEB_ARCH

# _e2e_binfmt_entry NAME INTERPRETER FLAGS: the registration of E2E_ARCH's
# programs: the ELF header bytes (and mask) binfmt_misc matches them by:
# class 64, little-endian, version 1, type EXEC or DYN (the mask's 0xfe),
# the machine (aarch64 183, x86-64 62)
_e2e_binfmt_entry() {
    local machine='\xb7'
    [ "$E2E_ARCH" = aarch64 ] || machine='\x3e'
    local magic="\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00$machine\\x00"
    local mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'
    printf ':%s:M::%s:%s:%s:%s' "$1" "$magic" "$mask" "$2" "$3"
}

# _e2e_qemu: the static qemu-user of E2E_ARCH (Debian 12: qemu-user-static's
# qemu-aarch64-static; 13: qemu-user's qemu-aarch64, static since 10.0)
_e2e_qemu() {
    local q
    for q in "/usr/bin/qemu-$E2E_ARCH-static" "/usr/bin/qemu-$E2E_ARCH"; do
        [ -x "$q" ] && { echo "$q"; return 0; }
    done
    return 1
}

# _e2e_qemu_binfmt QEMU: the interpreter and flags to register. The P flag
# keeps a program's argv[0], which busybox needs: its shell runs applets by
# executing /proc/self/exe with the applet's name as argv[0], which qemu
# turns into an exec of the program's own path, and without P the kernel
# puts that path in argv[0] (`grep -c x` would run as `sh -c x`). Debian's
# qemu knows it is given argv[0] when it is called by its binfmt-P name.
_e2e_qemu_binfmt() {
    local p=/usr/libexec/qemu-binfmt/$E2E_ARCH-binfmt-P
    if [ -x "$p" ] && [ "$(readlink -f "$p")" = "$(readlink -f "$1")" ]; then
        echo "$p PF"
    else
        echo "$1 F"
    fi
}

# _e2e_binfmt_register: the handler, as the header says
E2E_BINFMT_PID=
E2E_BINFMT_NAME=
_e2e_binfmt_register() {
    local interp flags fifo=$SCRATCH/.binfmt-ready
    read -r interp flags < <(_e2e_qemu_binfmt "$1")
    E2E_BINFMT_NAME=gctk-e2e-$E2E_ARCH-$$
    mkfifo "$fifo"
    setpriv --pdeathsig KILL unshare --mount --propagation private -- sh -c '
        mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc &&
            printf "%s" "$1" >/proc/sys/fs/binfmt_misc/register && echo ready >"$2" ||
            { echo failed >"$2"; exit 1; }
        exec sleep 7200' binfmt "$(_e2e_binfmt_entry "$E2E_BINFMT_NAME" "$interp" "$flags")" "$fifo" &
    E2E_BINFMT_PID=$!
    at_exit _e2e_binfmt_remove
    [ "$(cat "$fifo")" = ready ]
}
_e2e_binfmt_remove() {
    [ -n "$E2E_BINFMT_PID" ] || return 0
    nsenter -t "$E2E_BINFMT_PID" -m sh -c \
        "[ ! -e /proc/sys/fs/binfmt_misc/$E2E_BINFMT_NAME ] || echo -1 >/proc/sys/fs/binfmt_misc/$E2E_BINFMT_NAME"
    kill "$E2E_BINFMT_PID" 2>/dev/null
    wait "$E2E_BINFMT_PID" 2>/dev/null
    E2E_BINFMT_PID=
}

# _e2e_fetch_rootfs DIR: busybox and the C library of E2E_DEB_ARCH from
# Debian's archive (this machine's release and mirror), unpacked into DIR
_e2e_fetch_rootfs() {
    local dir=$1 apt=$E2E_ARCH_CACHE/apt codename mirror
    codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
    mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs"
    echo "deb [arch=$E2E_DEB_ARCH signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $codename main" \
        >"$apt/sources.list"
    local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent
        -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o Dir::State::status=/dev/null
        -o "APT::Architectures::=$E2E_DEB_ARCH" -o APT::Sandbox::User=root -o Debug::NoLocking=1)
    apt-get "${opts[@]}" -qq update || return 1
    (cd "$apt/debs" && apt-get "${opts[@]}" -qq download "busybox-static:$E2E_DEB_ARCH" \
        "libc6:$E2E_DEB_ARCH") || return 1
    local d
    mkdir -p "$dir"
    for d in "$apt"/debs/*.deb; do dpkg-deb -x "$d" "$dir" || return 1; done
    # Debian 13's packages ship their files under /usr only (the merged
    # /usr: /bin is a link that base-files makes); the template keeps
    # busybox where the suites look for it
    if [ ! -e "$dir/bin/busybox" ] && [ -e "$dir/usr/bin/busybox" ]; then
        mkdir -p "$dir/bin" && ln "$dir/usr/bin/busybox" "$dir/bin/busybox" || return 1
    fi
    rm -rf "$apt/lists" "$apt/cache"
}

e2e_arch_ready() {
    [ "$E2E_FOREIGN" = 1 ] || return 0
    local why= qemu
    if ! qemu=$(_e2e_qemu); then
        why="no static qemu-user for $E2E_ARCH (Debian: qemu-user-static)"
    elif [ ! -x "$E2E_SIM_TOOLS/nvidia-smi" ]; then
        why="no $E2E_ARCH simulated driver in $E2E_SIM_TOOLS (install $E2E_ARCH-linux-gnu-gcc: make check does)"
    elif ! command -v setpriv >/dev/null || ! command -v nsenter >/dev/null; then
        why="setpriv and nsenter (util-linux) are needed"
    fi
    if [ -n "$why" ]; then
        skip "$1 on $E2E_ARCH" "$why"
        return 1
    fi
    if [ ! -x "$E2E_ARCH_CACHE/rootfs/bin/busybox" ]; then
        rm -rf "$E2E_ARCH_CACHE/rootfs.new"
        if _e2e_fetch_rootfs "$E2E_ARCH_CACHE/rootfs.new" >"$SCRATCH/fetch.log" 2>&1; then
            rm -rf "$E2E_ARCH_CACHE/rootfs"
            mv "$E2E_ARCH_CACHE/rootfs.new" "$E2E_ARCH_CACHE/rootfs"
        else
            diag <"$SCRATCH/fetch.log"
            why="Debian's $E2E_DEB_ARCH busybox-static and libc6 could not be fetched"
        fi
    fi
    if [ -z "$why" ] && ! _e2e_binfmt_register "$qemu"; then
        why="the binfmt_misc handler for $E2E_ARCH could not be registered"
    fi
    if [ -n "$why" ]; then
        not_ok "$1 on $E2E_ARCH: $why"
        return 1
    fi
    # the handler works: a program of the machine runs here
    local out
    out=$("$E2E_ARCH_CACHE/rootfs/bin/busybox" echo "$E2E_ARCH runs" 2>&1)
    if [ "$out" != "$E2E_ARCH runs" ]; then
        not_ok "$1 on $E2E_ARCH: its busybox does not run through $qemu: $out"
        return 1
    fi
    versions "$E2E_ARCH containers through $(_e2e_qemu_binfmt "$qemu") (qemu $(version_of "$qemu" --version))"
    return 0
}

# e2e_arch_rootfs DIR: busybox and the C library of E2E_ARCH in DIR (lib.sh's
# make_rootfs for a foreign architecture); the loader where its programs
# name it
e2e_arch_rootfs() {
    local r=$1 t=$E2E_ARCH_CACHE/rootfs l src
    cp "$t/bin/busybox" "$r/bin/busybox"
    mkdir -p "$r/lib/$E2E_ARCH-linux-gnu" "$r/usr/lib/$E2E_ARCH-linux-gnu"
    for l in libc.so.6 libm.so.6; do
        for src in "$t/lib/$E2E_ARCH-linux-gnu/$l" "$t/usr/lib/$E2E_ARCH-linux-gnu/$l"; do
            [ -e "$src" ] && cp -L "$src" "$r/lib/$E2E_ARCH-linux-gnu/$l" && break
        done
    done
    for src in "$t$E2E_LOADER" "$t/usr$E2E_LOADER"; do
        [ -e "$src" ] && cp -L "$src" "$r$E2E_LOADER" && break
    done
}
