/* libFuzzer target: Compose files through libyaml and the GPU rules. Seeds
 * in tests/fuzz/corpus/compose. */
#include <stdint.h>

#include "compose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct compose_file *f = NULL;
    gctk_error *err = NULL;
    if (compose_load_buffer("fuzz.yaml", (const char *)data, size, &f, &err) < 0) {
        if (err == NULL || f != NULL)
            __builtin_trap();
        gctk_error_free(err);
        return 0;
    }
    for (size_t i = 0; i < f->n_services; i++) {
        const struct compose_service *s = &f->services[i];
        for (size_t j = 0; j < s->n_devices; j++) {
            if (compose_check_device(s, &s->devices[j], 4, &err) < 0) {
                gctk_error_free(err);
                err = NULL;
            }
        }
        (void)compose_legacy_visible(s);
    }
    compose_file_free(f);
    return 0;
}
