/* CUDA releases, their minimum drivers and how a driver runs a CUDA release.
 * The facts live in one data file, cuda-drivers.def; this file only reads it. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cudacompat.h"
#include "util.h"

static const struct cudacompat_release releases[] = {
#define CUDA_RELEASE(maj, min, upd, drv, name) {maj, min, upd, drv, name},
#define CUDA_MINOR_COMPAT(maj, drv)
#include "cuda-drivers.def"
#undef CUDA_RELEASE
#undef CUDA_MINOR_COMPAT
};

static const struct {
    unsigned major;
    const char *driver;
} minor_compat[] = {
#define CUDA_RELEASE(maj, min, upd, drv, name)
#define CUDA_MINOR_COMPAT(maj, drv) {maj, drv},
#include "cuda-drivers.def"
#undef CUDA_RELEASE
#undef CUDA_MINOR_COMPAT
};

size_t cudacompat_release_count(void)
{
    return GCTK_ARRAY_LEN(releases);
}

const struct cudacompat_release *cudacompat_release(size_t i)
{
    return i < GCTK_ARRAY_LEN(releases) ? &releases[i] : NULL;
}

static int release_cmp(const struct cudacompat_release *r, const unsigned v[3])
{
    const unsigned rv[3] = {r->major, r->minor, r->update};
    for (size_t i = 0; i < 3; i++)
        if (rv[i] != v[i])
            return rv[i] < v[i] ? -1 : 1;
    return 0;
}

/* Splits "12.4" / "12.4.1" into major, minor, update; false when malformed or
 * with four parts (CUDA has none). */
static bool parse_cuda(const char *cuda, unsigned v[3])
{
    unsigned parts[VERSION_MAX_PARTS];
    size_t n = 0;
    if (version_parse(cuda, parts, &n, NULL) < 0 || n > 3)
        return false;
    v[0] = parts[0];
    v[1] = n > 1 ? parts[1] : 0;
    v[2] = n > 2 ? parts[2] : 0;
    return true;
}

const char *cudacompat_min_driver(const char *cuda)
{
    unsigned v[3];
    if (!parse_cuda(cuda, v))
        return NULL;
    for (size_t i = 0; i < GCTK_ARRAY_LEN(releases); i++)
        if (release_cmp(&releases[i], v) == 0)
            return releases[i].min_driver;
    return NULL;
}

/* The last release at or below v, or NULL when v is older than the table. */
static const struct cudacompat_release *nearest_at_or_below(const unsigned v[3])
{
    const struct cudacompat_release *best = NULL;
    for (size_t i = 0; i < GCTK_ARRAY_LEN(releases); i++)
        if (release_cmp(&releases[i], v) <= 0)
            best = &releases[i];
    return best;
}

const char *cudacompat_minor_compat_driver(unsigned major)
{
    for (size_t i = 0; i < GCTK_ARRAY_LEN(minor_compat); i++)
        if (minor_compat[i].major == major)
            return minor_compat[i].driver;
    return NULL;
}

const char *cudacompat_driver_cuda(const char *driver, char *buf, size_t size)
{
    if (!version_valid(driver))
        return NULL;
    const struct cudacompat_release *best = NULL;
    for (size_t i = 0; i < GCTK_ARRAY_LEN(releases); i++)
        if (releases[i].update == 0 && version_cmp(driver, releases[i].min_driver) >= 0)
            best = &releases[i];
    if (best == NULL)
        return NULL;
    int n = snprintf(buf, size, "%u.%u", best->major, best->minor);
    return n > 0 && (size_t)n < size ? buf : NULL;
}

int cudacompat_forward_compat_brand(const char *brand)
{
    static const char *const datacenter[] = {"tesla", "nvidia"};
    static const char *const never[] = {"geforce", "geforcertx", "titan", "titanrtx",
                                        "quadro",  "nvs",        "grid",  "vapps",
                                        "vpc",     "vcs",        "vws",   "cloudgaming"};
    if (brand == NULL)
        return -1;
    for (size_t i = 0; i < GCTK_ARRAY_LEN(datacenter); i++)
        if (strcasecmp(brand, datacenter[i]) == 0)
            return 1;
    for (size_t i = 0; i < GCTK_ARRAY_LEN(never); i++)
        if (strcasecmp(brand, never[i]) == 0)
            return 0;
    return -1;
}

const char *cudacompat_verdict_name(enum cudacompat_verdict v)
{
    switch (v) {
    case CUDACOMPAT_NATIVE:
        return "native";
    case CUDACOMPAT_MINOR_VERSION:
        return "minor-version";
    case CUDACOMPAT_FORWARD_COMPAT_NEEDED:
        return "forward-compat-needed";
    case CUDACOMPAT_UNSUPPORTED:
        return "unsupported";
    }
    return "unknown";
}

void cudacompat_result_clear(struct cudacompat_result *r)
{
    if (r == NULL)
        return;
    free(r->explanation);
    r->explanation = NULL;
}

/* "driver >= 550.54.14", or the lower bound when the table lacks the release. */
static char *need_text(const struct cudacompat_result *r)
{
    if (r->min_driver == NULL)
        return xstrdup("a driver gctk has no minimum for");
    if (r->min_driver_exact)
        return xasprintf("driver >= %s", r->min_driver);
    return xasprintf("a driver newer than gctk's table knows (at least %s, the minimum of "
                     "CUDA %s)",
                     r->min_driver, r->min_driver_release);
}

int cudacompat_check(const char *cuda_wanted, const char *driver_version, const char *driver_cuda,
                     struct cudacompat_result *out, gctk_error **err)
{
    unsigned w[3];
    if (!parse_cuda(cuda_wanted, w))
        return gctk_fail(err, 0, "bad CUDA version `%s`: expected MAJOR.MINOR[.UPDATE]",
                         cuda_wanted != NULL ? cuda_wanted : "");
    if (!version_valid(driver_version))
        return gctk_fail(err, 0, "bad driver version `%s`: expected a dotted number",
                         driver_version != NULL ? driver_version : "");
    if (driver_cuda != NULL && !parse_cuda(driver_cuda, (unsigned[3]){0}))
        return gctk_fail(err, 0, "bad driver CUDA version `%s`: expected MAJOR.MINOR", driver_cuda);

    struct cudacompat_result r = {0};
    const struct cudacompat_release *known = nearest_at_or_below(w);
    if (known != NULL) {
        r.min_driver = known->min_driver;
        r.min_driver_exact = release_cmp(known, w) == 0;
        /* the GA row stands for "12.4"; an update row for "12.4.1" */
        if (known->update == 0)
            snprintf(r.min_driver_release, sizeof(r.min_driver_release), "%u.%u", known->major,
                     known->minor);
        else
            snprintf(r.min_driver_release, sizeof(r.min_driver_release), "%u.%u.%u", known->major,
                     known->minor, known->update);
    }
    r.minor_compat_driver = cudacompat_minor_compat_driver(w[0]);
    if (driver_cuda != NULL) {
        snprintf(r.driver_cuda, sizeof(r.driver_cuda), "%s", driver_cuda);
    } else if (cudacompat_driver_cuda(driver_version, r.driver_cuda, sizeof(r.driver_cuda)) !=
               NULL) {
        r.driver_cuda_derived = true;
    } else {
        r.driver_cuda[0] = '\0';
    }

    char want_mm[CUDA_VERSION_BUF];
    snprintf(want_mm, sizeof(want_mm), "%u.%u", w[0], w[1]);
    cleanup_free char *need = need_text(&r);
    cleanup_free char *host = r.driver_cuda[0] != '\0'
                                  ? xasprintf("driver %s (CUDA %s)", driver_version, r.driver_cuda)
                                  : xasprintf("driver %s", driver_version);
    unsigned dmaj = 0;
    if (r.driver_cuda[0] != '\0') {
        unsigned d[3];
        parse_cuda(r.driver_cuda, d);
        dmaj = d[0];
    }

    /* The CUDA runtime compares major.minor only (cuDriverGetVersion has no
     * update), so "12.4.1" runs natively wherever "12.4" does. */
    if (r.driver_cuda[0] != '\0' && version_cmp(r.driver_cuda, want_mm) >= 0) {
        r.verdict = CUDACOMPAT_NATIVE;
        r.explanation = xasprintf("%s runs CUDA %s natively", host, cuda_wanted);
    } else if (r.driver_cuda[0] == '\0') {
        r.verdict = CUDACOMPAT_UNSUPPORTED;
        r.explanation = xasprintf("driver %s is older than every CUDA release gctk knows: "
                                  "CUDA %s needs %s: upgrade the driver",
                                  driver_version, cuda_wanted, need);
    } else if (dmaj == w[0] && r.minor_compat_driver != NULL &&
               version_cmp(driver_version, r.minor_compat_driver) >= 0) {
        r.verdict = CUDACOMPAT_MINOR_VERSION;
        r.explanation = xasprintf(
            "%s runs CUDA %s only through minor-version compatibility (CUDA %u.x on driver "
            ">= %s): PTX newer than CUDA %s cannot be JIT-compiled and features newer than "
            "CUDA %s may fail; %s runs it natively",
            host, cuda_wanted, w[0], r.minor_compat_driver, r.driver_cuda, r.driver_cuda, need);
    } else if (w[0] < 10) {
        /* forward compatibility began with CUDA 10.0 */
        r.verdict = CUDACOMPAT_UNSUPPORTED;
        r.explanation = xasprintf("%s cannot run CUDA %s: it needs %s: upgrade the driver", host,
                                  cuda_wanted, need);
    } else {
        r.verdict = CUDACOMPAT_FORWARD_COMPAT_NEEDED;
        r.needs_datacenter_gpu = true;
        cleanup_free char *minor =
            dmaj == w[0] && r.minor_compat_driver != NULL
                ? xasprintf(" (or driver >= %s for minor-version compatibility)",
                            r.minor_compat_driver)
                : xstrdup("");
        r.explanation = xasprintf("%s cannot run CUDA %s: it needs %s%s, or the image's "
                                  "cuda-compat package (forward compatibility), which works "
                                  "only on data-center GPUs",
                                  host, cuda_wanted, need, minor);
    }
    *out = r;
    return 0;
}
