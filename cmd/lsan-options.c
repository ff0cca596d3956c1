/* Linked into the programs of a build with -Db_sanitize=address (the ASan
 * pass of tests/run-all) only.
 *
 * runc runs a CDI spec's createContainer hooks (`gctk hook ...`) inside the
 * container's PID namespace while /proc is still the runtime's: there
 * LeakSanitizer cannot find its own threads under /proc (it dies with
 * "Can't open /proc/N/task") and would fail the container. Leak checking is
 * off in such a process only: its own pid and the one /proc/self names
 * differ. */
#include <fcntl.h>
#include <sys/syscall.h>

const char *__lsan_default_options(void);

/* This runs before the sanitizers are ready, so nothing here is instrumented
 * or goes through libc: its functions may be intercepted by the sanitizers
 * (not yet set up) or wrapped by a preloaded library (the fault injector of
 * tests/faults wraps syscall(2)). Raw system calls, then. */
__attribute__((no_sanitize("address", "undefined"))) static long
raw_syscall4(long nr, long a, long b, long c, long d)
{
    long ret;
#if defined(__x86_64__)
    register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
                     : "rcx", "r11", "memory");
#elif defined(__aarch64__)
    register long x8 __asm__("x8") = nr;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
    ret = x0;
#else
    (void)nr, (void)a, (void)b, (void)c, (void)d;
    ret = -1;
#endif
    return ret;
}

__attribute__((no_sanitize("address", "undefined"))) const char *__lsan_default_options(void)
{
    char self[32];
    long n = raw_syscall4(SYS_readlinkat, AT_FDCWD, (long)"/proc/self", (long)self, sizeof(self));
    if (n <= 0)
        return "detect_leaks=0";
    long pid = 0;
    for (long i = 0; i < n; i++) {
        if (self[i] < '0' || self[i] > '9')
            return "detect_leaks=0";
        pid = pid * 10 + (self[i] - '0');
    }
    return pid == raw_syscall4(SYS_getpid, 0, 0, 0, 0) ? "" : "detect_leaks=0";
}
