#!/usr/bin/env bash
# Every unit test, then the hook itself on a runc GPU container, under
# valgrind: no invalid read or write, no use of uninitialised memory, no leak
# (definite or possible). TAP output, like the other suites.
#   tests/valgrind.sh BUILD
# Forked children of the unit tests (they _exit with the test's buffers
# still allocated) are not checked; tests/valgrind.supp lists what valgrind
# cannot model. tests/run-all runs it whenever valgrind is installed, so
# `make check` does (it installs valgrind); alone: `make valgrind`.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-build}" && pwd)
VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,possible
    --child-silent-after-fork=yes --suppressions="$top/tests/valgrind.supp")
command -v valgrind >/dev/null || { echo "1..0 # SKIP valgrind is not installed"; exit 0; }
# left_by_failed_cases OUT: suppressions for the leaks of the cases that
# failed. A failed cmocka assertion jumps out of the case, past its cleanup:
# what it had allocated is lost (and a child forked later inherits it, and
# exits 99 at its _exit). Those cases fail here only under valgrind's
# emulation of the system calls (see below).
left_by_failed_cases() {
    local c
    printf '%s\n' "$1" | sed -n 's/^not ok [0-9]* - \([A-Za-z_0-9]*\).*/\1/p' | sort -u |
        while read -r c; do
            printf '{\n   left by the failed case %s\n   Memcheck:Leak\n   match-leak-kinds: definite,possible\n   ...\n   fun:%s\n}\n' "$c" "$c"
        done
}

n=0 failed=0
supp=$(mktemp)
trap 'rm -f "$supp"' EXIT
for t in "$build"/tests/unit/test_*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    n=$((n + 1))
    out=$(CMOCKA_MESSAGE_OUTPUT=TAP "${VG[@]}" "$t" 2>&1)
    rc=$?
    left_by_failed_cases "$out" >"$supp"
    if [ "$rc" -eq 99 ] && [ -s "$supp" ]; then
        out=$(CMOCKA_MESSAGE_OUTPUT=TAP "${VG[@]}" --suppressions="$supp" "$t" 2>&1)
        rc=$?
    fi
    # valgrind 3.19 answers ENOSYS to the system calls it does not know
    # (openat2, pidfd_open, open_tree, mount_setattr...), 3.24 to
    # pidfd_send_signal and opens its own /proc/self/exe whatever the root: a
    # test of what the kernel does with them can fail there; only memory
    # errors count here
    if [ $rc -eq 0 ]; then echo "ok $n - valgrind $(basename "$t")"
    elif [ $rc -ne 99 ]; then
        echo "ok $n - valgrind $(basename "$t"): no memory error ($(printf '%s\n' "$out" | grep -c '^not ok') test(s) fail under valgrind's syscall emulation)"
    else
        failed=$((failed + 1)); echo "not ok $n - valgrind $(basename "$t")"
        printf '%s\n' "$out" | grep -E '^==|not ok' | head -n 20 | sed 's/^/# /'
    fi
done

# the hook, wrapped, as runc's prestart hook of a GPU container
n=$((n + 1))
if [ "$(id -u)" = 0 ] && command -v runc >/dev/null; then
    GCTK_BUILD=$build
    export GCTK_BUILD
    ( . "$top/tests/e2e/lib.sh" >/dev/null
      "$GCTK" sim create "$SCRATCH/host" --gpus 2 >/dev/null
      echo "{\"root\": \"$SCRATCH/host\", \"log\": \"$SCRATCH/hook.log\"}" >"$SCRATCH/gctk.conf"
      printf '#!/bin/sh\nexec %s --log-file=%s "$@"\n' "${VG[*]}" "$SCRATCH/vg.log" "$GCTK_HOOK" \
          >"$SCRATCH/hook"
      sed -i "s|--log-file=$SCRATCH/vg.log \"\$@\"|--log-file=$SCRATCH/vg.log $GCTK_HOOK \"\$@\"|" "$SCRATCH/hook"
      chmod +x "$SCRATCH/hook"
      make_rootfs "$SCRATCH/rootfs"
      GCTK_HOOK=$SCRATCH/hook make_bundle "$SCRATCH/b" "$SCRATCH/rootfs" '["sh", "-c", "nvidia-smi -L"]' \
          '["NVIDIA_VISIBLE_DEVICES=1"]' "[\"GCTK_CONFIG=$SCRATCH/gctk.conf\"]"
      out=$(runc_run "$SCRATCH/b" "gctk-vg-$$")
      rc=$?
      runc --root "$RUNC_ROOT" delete -f "gctk-vg-$$" >/dev/null 2>&1
      if [ "$rc" -eq 0 ] && ! grep -q '^==' "$SCRATCH/vg.log" && printf '%s' "$out" | grep -q GPU-; then
          exit 0
      fi
      printf '%s\n' "$out" | tail -n 3 | sed 's/^/# /'
      grep '^==' "$SCRATCH/vg.log" | head -n 30 | sed 's/^/# /'
      exit 1 ) | grep -v '^1\.\.'
    if [ "${PIPESTATUS[0]}" -eq 0 ]; then echo "ok $n - valgrind gctk-hook under runc"; else
        failed=$((failed + 1)); echo "not ok $n - valgrind gctk-hook under runc"; fi
else
    echo "ok $n - valgrind gctk-hook under runc # SKIP needs root and runc"
fi
echo "1..$n"
[ "$failed" -eq 0 ]
