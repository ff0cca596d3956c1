/* libFuzzer target: the --gpus parser and the daemon's mapping. Seeds in
 * tests/fuzz/corpus/gpusflag. */
#include <stdint.h>
#include <string.h>

#include "gpusflag.h"
#include "bounds.h"

static int fuzz_one(const uint8_t *data, size_t size)
{
    cleanup_free char *value = xstrndup((const char *)data, size);
    struct device_request r = {0};
    gctk_error *err = NULL;
    if (gpusflag_parse(value, &r, &err) < 0) {
        /* a failure leaves the output untouched and always says why */
        if (err == NULL || err->msg == NULL || r.caps.items != NULL)
            __builtin_trap();
        gctk_error_free(err);
        return 0;
    }
    /* gpu is always asked for */
    if (!strv_contains(&r.caps, "gpu"))
        __builtin_trap();
    char *visible = NULL, *caps = NULL;
    if (device_request_to_env(&r, &visible, &caps, &err) < 0)
        gctk_error_free(err);
    free(visible);
    free(caps);
    device_request_clear(&r);
    return 0;
}

FUZZ_BOUNDED(fuzz_one)
