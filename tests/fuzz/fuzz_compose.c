/* libFuzzer target: Compose files through libyaml and the GPU rules. Seeds
 * in tests/fuzz/corpus/compose. */
#include <stdint.h>

#include "compose.h"
#include "bounds.h"

static int fuzz_one(const uint8_t *data, size_t size)
{
    struct compose_file *f = NULL;
    gctk_error *err = NULL;
    if (compose_load_buffer("fuzz.yaml", (const char *)data, size, &f, &err) < 0) {
        if (err == NULL || f != NULL)
            __builtin_trap();
        gctk_error_free(err);
        return 0;
    }
    /* the spec, Compose 1.29, 2.26 (gpus: ignored) and 2.30 */
    static const char *const versions[] = {"1.29.2", "2.26.1", "2.30.0"};
    struct compose_version v[3];
    for (size_t k = 0; k < 3; k++)
        if (compose_version_parse("Compose", versions[k], &v[k]) < 0)
            __builtin_trap();
    struct compose_daemon daemon = {.where = "dockerd", .daemon_json = "/etc/docker/daemon.json"};
    strv_push(&daemon.runtimes, xstrdup("runc"));
    for (size_t i = 0; i < f->n_services; i++) {
        const struct compose_service *s = &f->services[i];
        for (size_t j = 0; j < s->n_devices; j++) {
            for (size_t k = 0; k <= 3; k++) {
                const struct compose_version *cv = k < 3 ? &v[k] : NULL;
                if (compose_check_device(s, &s->devices[j], cv, 4, &err) < 0) {
                    gctk_error_free(err);
                    err = NULL;
                    continue;
                }
                struct strv warnings = {0}, notes = {0};
                compose_device_advice(s, &s->devices[j], cv, &warnings, &notes);
                strv_clear(&warnings);
                strv_clear(&notes);
            }
        }
        (void)compose_legacy_visible(s);
        struct strv warnings = {0};
        compose_runtime_advice(s, &warnings);
        strv_clear(&warnings);
        if (compose_check_runtime(s, &daemon, &err) < 0) {
            gctk_error_free(err);
            err = NULL;
        }
    }
    strv_clear(&daemon.runtimes);
    compose_file_free(f);
    return 0;
}

FUZZ_BOUNDED(fuzz_one)
