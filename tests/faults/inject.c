/* Fault injection for tests, never linked into gctk: an LD_PRELOAD object
 * that the e2e fault suite puts into the hook's own environment (the bundle's
 * hook entry). It wraps the system calls gctk makes through syscall(2) and
 * libc and fails one of them on request:
 *   GCTK_TEST_FAIL_MOUNT=N    the Nth mount-making call (move_mount, mount,
 *                             mount_setattr, fsmount) fails with EIO
 *   GCTK_TEST_COUNT_MOUNTS=1  with GCTK_TEST_FAIL_MOUNT: log every mount call
 *   GCTK_TEST_FAIL_WRITE=PAT  write(2) to a file whose name contains PAT
 *                             fails with ENOSPC
 *   GCTK_TEST_UNLINK_ON_SETNS=PATH  PATH is removed when the hook enters the
 *                             container's mount namespace (the driver going
 *                             away between discovery and injection)
 *   GCTK_TEST_KILL_ON_SETNS=1 the container's process (the pid the hook gave
 *                             to pidfd_open) is killed just before the hook
 *                             enters its mount namespace
 *   GCTK_TEST_FAULT_LOG=FILE  one line per injected fault, for the test to
 *                             check that the fault did happen */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

__attribute__((format(printf, 1, 2))) static void note(const char *fmt, ...)
{
    const char *log = getenv("GCTK_TEST_FAULT_LOG");
    if (log == NULL)
        return;
    FILE *f = fopen(log, "ae");
    if (f == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fclose(f);
}

/* the container's pid, as the hook asked the kernel for a pidfd of it */
static long container_pid;

/* true when this is the mount-making call the test asked to fail */
static int fail_this_mount(const char *what)
{
    static int count;
    const char *n = getenv("GCTK_TEST_FAIL_MOUNT");
    if (n == NULL)
        return 0;
    ++count;
    if (count != atoi(n)) {
        if (getenv("GCTK_TEST_COUNT_MOUNTS") != NULL)
            note("mount call %d (%s)", count, what);
        return 0;
    }
    note("mount call %d (%s) failed with EIO", count, what);
    errno = EIO;
    return 1;
}

long syscall(long nr, ...)
{
    static long (*real)(long, ...);
    if (real == NULL)
        real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
    va_list ap;
    va_start(ap, nr);
    long a[6];
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
    if (nr == SYS_pidfd_open)
        container_pid = a[0];
    if ((nr == SYS_move_mount && fail_this_mount("move_mount")) ||
        (nr == SYS_mount_setattr && fail_this_mount("mount_setattr")) ||
        (nr == SYS_fsmount && fail_this_mount("fsmount")))
        return -1;
    return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

int mount(const char *src, const char *dst, const char *type, unsigned long flags, const void *data)
{
    static int (*real)(const char *, const char *, const char *, unsigned long, const void *);
    if (real == NULL)
        real = dlsym(RTLD_NEXT, "mount");
    if (fail_this_mount("mount"))
        return -1;
    return real(src, dst, type, flags, data);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    static ssize_t (*real)(int, const void *, size_t);
    if (real == NULL)
        real = dlsym(RTLD_NEXT, "write");
    const char *pat = getenv("GCTK_TEST_FAIL_WRITE");
    if (pat != NULL) {
        char link[64], target[PATH_MAX];
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        ssize_t len = readlink(link, target, sizeof(target) - 1);
        if (len > 0) {
            target[len] = '\0';
            if (strstr(target, pat) != NULL) {
                note("write to `%s` failed with ENOSPC", target);
                errno = ENOSPC;
                return -1;
            }
        }
    }
    return real(fd, buf, n);
}

/* Whether pid has exited: gone, or a zombie (state Z or X in its stat). */
static int dead(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return 1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')');
    return paren != NULL && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

int setns(int fd, int nstype)
{
    static int (*real)(int, int);
    if (real == NULL)
        real = dlsym(RTLD_NEXT, "setns");
    const char *path = getenv("GCTK_TEST_UNLINK_ON_SETNS");
    if (path != NULL && unlink(path) == 0)
        note("removed `%s` before setns", path);
    if (getenv("GCTK_TEST_KILL_ON_SETNS") != NULL && container_pid > 0 &&
        kill((pid_t)container_pid, SIGKILL) == 0) {
        note("killed process %ld before setns", container_pid);
        /* the kernel tears a killed process down asynchronously: wait until
         * it is a zombie or gone (10 s at most), not for a guessed time */
        for (int i = 0; i < 10000 && !dead((pid_t)container_pid); i++)
            usleep(1000);
    }
    return real(fd, nstype);
}
