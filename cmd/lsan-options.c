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
#include <unistd.h>

const char *__lsan_default_options(void);

/* Called before the sanitizers are ready: not instrumented, raw system
 * calls only, no libc function they intercept. */
__attribute__((no_sanitize("address", "undefined"))) const char *__lsan_default_options(void)
{
    char self[32];
    long n = syscall(SYS_readlinkat, AT_FDCWD, "/proc/self", self, sizeof(self));
    if (n <= 0)
        return "detect_leaks=0";
    long pid = 0;
    for (long i = 0; i < n; i++) {
        if (self[i] < '0' || self[i] > '9')
            return "detect_leaks=0";
        pid = pid * 10 + (self[i] - '0');
    }
    return pid == syscall(SYS_getpid) ? "" : "detect_leaks=0";
}
