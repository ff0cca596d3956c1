/* libFuzzer target: daemon.json parsing and editing. Adding the runtime
 * twice must change nothing the second time, and what gctk writes must read
 * back equal. Seeds in tests/fuzz/corpus/daemonjson. */
#include <stdint.h>
#include <string.h>

#include "engine.h"
#include "bounds.h"

static int fuzz_one(const uint8_t *data, size_t size)
{
    static const struct runtime_entry rt = {
        .name = "nvidia", .path = "/usr/bin/gctk-runtime", .set_default = true, .cdi = true};
    json_t *cfg = NULL, *back = NULL;
    gctk_error *err = NULL;
    if (json_config_parse("fuzz.json", (const char *)data, size, &cfg, &err) < 0) {
        gctk_error_free(err);
        return 0;
    }
    bool changed = false;
    if (daemonjson_add_runtime(cfg, &rt, &changed, &err) < 0) {
        gctk_error_free(err);
        json_decref(cfg);
        return 0;
    }
    if (daemonjson_add_runtime(cfg, &rt, &changed, NULL) < 0 || changed)
        __builtin_trap();
    char *text = json_config_dump(cfg);
    if (json_config_parse("dump", text, strlen(text), &back, NULL) < 0 || !json_equal(cfg, back))
        __builtin_trap();
    if (daemonjson_remove_runtime(back, rt.name, &changed, NULL) < 0 || !changed)
        __builtin_trap();
    free(text);
    json_decref(back);
    json_decref(cfg);
    return 0;
}

FUZZ_BOUNDED(fuzz_one)
