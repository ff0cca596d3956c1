/* Bounds for the unit tests of inputs an image or a pod controls: a case
 * runs in a child allowed a number of CPU seconds (RLIMIT_CPU, so a loaded
 * machine does not count against it) or of wall-clock seconds (alarm(2), for
 * what must never wait, such as a FIFO without a writer). A bound is a wall
 * against quadratic work or a hang with a wide margin (the code under test
 * takes a small fraction of it), not a speed target: those are measured in
 * bench/. */
#ifndef GCTK_TEST_BOUNDS_H
#define GCTK_TEST_BOUNDS_H

#include <stdbool.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* True when fn() returned in a child within seconds of CPU time (cpu) or of
 * wall-clock time (!cpu); fn may _exit(N) with N != 0 to say its result was
 * wrong. */
static inline bool within(void (*fn)(void), unsigned seconds, bool cpu)
{
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        if (cpu) {
            struct rlimit r = {.rlim_cur = seconds, .rlim_max = seconds + 1};
            setrlimit(RLIMIT_CPU, &r);
        } else {
            alarm(seconds);
        }
        fn();
        _exit(0);
    }
    int st = 0;
    if (waitpid(pid, &st, 0) != pid)
        return false;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static inline bool within_cpu_seconds(void (*fn)(void), unsigned seconds)
{
    return within(fn, seconds, true);
}

static inline bool within_seconds(void (*fn)(void), unsigned seconds)
{
    return within(fn, seconds, false);
}

#endif
