/* libFuzzer target of the CDI spec parser (JSON and YAML) and of the
 * schema checks `gctk cdi validate` runs on what it parsed. The first byte
 * picks the format. */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "cdi.h"
#include "bounds.h"

static int fuzz_one(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *name = data[0] & 1 ? "fuzz.yaml" : "fuzz.json";
    json_t *spec = NULL;
    gctk_error *err = NULL;
    if (cdi_parse(name, (const char *)data + 1, size - 1, &spec, &err) == 0) {
        struct strv problems = {0};
        cdi_validate(spec, 0, "580.95.05", &problems);
        strv_clear(&problems);
        json_decref(spec);
    } else if (err == NULL) {
        __builtin_trap(); /* a failure always says why */
    }
    gctk_error_free(err);
    return 0;
}

FUZZ_BOUNDED(fuzz_one)
