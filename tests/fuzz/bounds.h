/* Work and memory per input byte, checked on every input a fuzz target runs:
 * a crash is not the only finding. Each target's body is a function run by
 * FUZZ_BOUNDED(body), which measures the thread's CPU time and the peak of
 * the bytes allocated meanwhile (the sanitizer's malloc and free hooks) and
 * aborts, naming both, when either passes a linear bound in the input's
 * size:
 *     CPU time  <= FUZZ_NS_BASE + FUZZ_NS_PER_BYTE * size
 *     peak heap <= FUZZ_BYTES_BASE + FUZZ_BYTES_PER_BYTE * size
 * The bounds are walls with a wide margin for what is linear under ASan and
 * UBSan (tests/fuzz/run.sh prints the largest ratios each target reached);
 * quadratic work passes them by orders of magnitude on the large inputs of
 * tests/fuzz/make-bounds.py, which run.sh runs through every target. */
#ifndef GCTK_FUZZ_BOUNDS_H
#define GCTK_FUZZ_BOUNDS_H

#include <sanitizer/allocator_interface.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define FUZZ_NS_BASE 200000000ll     /* 0.2 s */
#define FUZZ_NS_PER_BYTE 20000ll     /* 20 us */
#define FUZZ_BYTES_BASE (32ll << 20) /* 32 MiB */
#define FUZZ_BYTES_PER_BYTE 48ll

static long long fuzz_live, fuzz_peak;

static void fuzz_malloc_hook(const volatile void *p, size_t n)
{
    (void)p;
    fuzz_live += (long long)n;
    if (fuzz_live > fuzz_peak)
        fuzz_peak = fuzz_live;
}

static void fuzz_free_hook(const volatile void *p)
{
    if (p != NULL)
        fuzz_live -= (long long)__sanitizer_get_allocated_size((const void *)p);
}

static long long fuzz_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (long long)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* FUZZ_WORK_REPORT=1: one line per input on stderr, "fuzz-work SIZE NS PEAK",
 * for run.sh's summary */
static void fuzz_check_work(size_t size, long long ns, long long peak)
{
    static int report = -1;
    if (report < 0)
        report = getenv("FUZZ_WORK_REPORT") != NULL;
    if (report)
        fprintf(stderr, "fuzz-work %zu %lld %lld\n", size, ns, peak);
    long long n = (long long)size;
    if (ns > FUZZ_NS_BASE + FUZZ_NS_PER_BYTE * n) {
        fprintf(
            stderr,
            "fuzz bound: %lld ns of CPU for %zu bytes (%lld ns a byte; bound %lld + %lld a byte)\n",
            ns, size, n ? ns / n : ns, FUZZ_NS_BASE, FUZZ_NS_PER_BYTE);
        abort();
    }
    if (peak > FUZZ_BYTES_BASE + FUZZ_BYTES_PER_BYTE * n) {
        fprintf(
            stderr,
            "fuzz bound: %lld bytes of heap for %zu bytes of input (bound %lld + %lld a byte)\n",
            peak, size, FUZZ_BYTES_BASE, FUZZ_BYTES_PER_BYTE);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_BOUNDED(body)                                                                         \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                                   \
    {                                                                                              \
        static int hooked;                                                                         \
        if (!hooked)                                                                               \
            hooked = __sanitizer_install_malloc_and_free_hooks(fuzz_malloc_hook, fuzz_free_hook);  \
        fuzz_live = fuzz_peak = 0;                                                                 \
        long long t0 = fuzz_cpu_ns();                                                              \
        int r = body(data, size);                                                                  \
        fuzz_check_work(size, fuzz_cpu_ns() - t0, fuzz_peak);                                      \
        return r;                                                                                  \
    }

#endif
