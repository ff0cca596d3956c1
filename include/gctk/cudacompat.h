/* Which CUDA releases a driver can run, from NVIDIA's published table
 * (lib/cuda/cuda-drivers.def, sources in docs/cuda-compat.md).
 *
 * Three ways a CUDA application meets a driver:
 *  - native: the driver's own CUDA version is at least the application's;
 *  - minor-version compatibility (CUDA 11+): the driver is of the same CUDA
 *    major and at least that major's minimum; it runs, but PTX newer than the
 *    driver cannot be JIT-compiled and APIs newer than the driver fail;
 *  - forward compatibility: a newer user-space driver (libcuda from the
 *    image's cuda-compat package) over an older kernel driver; only on
 *    data-center GPUs (and select NGC-ready RTX boards). */
#ifndef GCTK_CUDACOMPAT_H
#define GCTK_CUDACOMPAT_H

#include <stdbool.h>
#include <stddef.h>

#include "core.h"
#include "vercmp.h"

struct cudacompat_release {
    unsigned major, minor, update; /* update 0: GA, N: "Update N" */
    const char *min_driver;        /* Linux x86_64, "550.54.14" */
    const char *label;             /* NVIDIA's name: "CUDA 12.4 GA" */
};

size_t cudacompat_release_count(void);
const struct cudacompat_release *cudacompat_release(size_t i);

/* The minimum driver NVIDIA lists for a release: "12.4" (the GA) or
 * "12.4.1" (Update 1). NULL when the table does not know the release (a
 * malformed string, a gap such as 12.7, or a release newer than the table):
 * guessing a minimum would either refuse working hosts or accept broken ones;
 * cudacompat_check reports the nearest lower known release as a lower bound. */
const char *cudacompat_min_driver(const char *cuda);

/* The driver for minor-version compatibility in a CUDA major; NULL before 11
 * (there was none) or for a major the table does not know. */
const char *cudacompat_minor_compat_driver(unsigned major);

/* The CUDA version a driver supports natively according to the table (the
 * newest major.minor whose GA minimum it meets), written to buf as "12.2".
 * NULL when the driver is malformed or older than every release. A driver
 * reports its own version through NVML; prefer that when known, this is the
 * fallback and may under-report a beta driver. */
const char *cudacompat_driver_cuda(const char *driver, char *buf, size_t size);

/* Forward compatibility by NVML brand: 1 for data-center brands (tesla,
 * nvidia), 0 for brands it never supports (geforce, titan, quadro, ...), -1
 * when it depends on the exact board (nvidiartx, quadrortx: only select NGC
 * Server Ready SKUs) or the brand is NULL or unknown. */
int cudacompat_forward_compat_brand(const char *brand);

enum cudacompat_verdict {
    CUDACOMPAT_NATIVE,
    CUDACOMPAT_MINOR_VERSION,
    CUDACOMPAT_FORWARD_COMPAT_NEEDED,
    CUDACOMPAT_UNSUPPORTED,
};

const char *cudacompat_verdict_name(enum cudacompat_verdict v);

struct cudacompat_result {
    enum cudacompat_verdict verdict;
    /* native minimum for the wanted release, from the table; NULL when the
     * table knows no release at or below it */
    const char *min_driver;
    /* false: min_driver is that of the nearest lower known release
     * (min_driver_release), a lower bound only */
    bool min_driver_exact;
    char min_driver_release[CUDA_VERSION_BUF];
    /* the minimum for minor-version compatibility in the wanted major, or NULL */
    const char *minor_compat_driver;
    /* the driver's CUDA version as given, or derived from the table; "" unknown */
    char driver_cuda[CUDA_VERSION_BUF];
    bool driver_cuda_derived;
    /* FORWARD_COMPAT_NEEDED: the cuda-compat route works only on data-center
     * GPUs (see cudacompat_forward_compat_brand); always true for that verdict */
    bool needs_datacenter_gpu;
    char *explanation; /* owned: one line, lower case */
};

/* Decides how CUDA cuda_wanted ("12.4", "12.4.1") runs on a driver
 * ("535.104.05") whose CUDA version is driver_cuda ("12.2", as NVML reports
 * it; NULL: derived from the table). Fails only on malformed versions. */
int cudacompat_check(const char *cuda_wanted, const char *driver_version, const char *driver_cuda,
                     struct cudacompat_result *out, gctk_error **err);
void cudacompat_result_clear(struct cudacompat_result *r);

#endif
