/* A bound on work for the unit tests of inputs an image or a pod controls:
 * the case runs in a child allowed a number of CPU seconds (RLIMIT_CPU, so
 * a loaded machine does not count against it). The bound is a wall against
 * quadratic work with a wide margin (the linear code takes a small fraction
 * of it), not a speed target: those are measured in bench/. */
#ifndef GCTK_TEST_BOUNDS_H
#define GCTK_TEST_BOUNDS_H

#include <stdbool.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* True when fn() returned within cpu_seconds of CPU time; fn may _exit(N)
 * with N != 0 to say that its result was wrong. */
static inline bool within_cpu_seconds(void (*fn)(void), unsigned cpu_seconds)
{
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        struct rlimit r = {.rlim_cur = cpu_seconds, .rlim_max = cpu_seconds + 1};
        setrlimit(RLIMIT_CPU, &r);
        fn();
        _exit(0);
    }
    int st = 0;
    if (waitpid(pid, &st, 0) != pid)
        return false;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* True when fn() returned within wall_seconds of time (alarm(2)): for what
 * must never wait (a FIFO without a writer or a reader). */
static inline bool within_seconds(void (*fn)(void), unsigned wall_seconds)
{
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        alarm(wall_seconds);
        fn();
        _exit(0);
    }
    int st = 0;
    if (waitpid(pid, &st, 0) != pid)
        return false;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

#endif
