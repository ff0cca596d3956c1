/* libFuzzer target: the NVIDIA_REQUIRE_* parser and evaluator, and the dotted
 * version parser they rest on. Input: any bytes, taken as one expression. */
#include <stdint.h>
#include <string.h>

#include "cudacompat.h"
#include "require.h"
#include "util.h"
#include "vercmp.h"
#include "bounds.h"

static int fuzz_one(const uint8_t *data, size_t size)
{
    if (size > 16u << 20)
        return 0;
    cleanup_free char *s = xstrndup((const char *)data, size);

    struct require_expr *e = NULL;
    gctk_error *err = NULL;
    if (require_parse(s, &e, &err) == 0) {
        static const struct require_facts hosts[] = {
            {"13.0", "580.95.05", "9.0", "nvidia"},
            {NULL, "535.104.05", NULL, NULL},
            {"12.3", "545.23.08", "8.6", "geforce"},
        };
        for (size_t i = 0; i < GCTK_ARRAY_LEN(hosts); i++) {
            gctk_error *eerr = NULL;
            int r = require_eval(e, &hosts[i], &eerr);
            /* an unsatisfied result always explains itself */
            if (r == 0 && eerr == NULL)
                __builtin_trap();
            gctk_error_free(eerr);
        }
        (void)require_cuda_min(e);
        require_free(e);
    } else if (err == NULL) {
        __builtin_trap();
    }
    gctk_error_free(err);

    /* the same bytes as a version and as facts */
    unsigned parts[VERSION_MAX_PARTS];
    size_t n = 0;
    (void)version_parse(s, parts, &n, NULL);
    (void)version_cmp(s, "535.104.05");
    struct cudacompat_result r = {0};
    if (cudacompat_check(s, "535.104.05", NULL, &r, NULL) == 0)
        cudacompat_result_clear(&r);
    if (cudacompat_check("12.4", s, NULL, &r, NULL) == 0)
        cudacompat_result_clear(&r);
    return 0;
}

FUZZ_BOUNDED(fuzz_one)
