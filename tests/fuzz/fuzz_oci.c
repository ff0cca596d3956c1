/* libFuzzer target of the OCI inputs: the state JSON on the hook's stdin and
 * the bundle's config.json, then the request read from the parsed
 * process.env. Input: one byte choosing what the rest is, then the text. */
#include <stdint.h>
#include <string.h>

#include "cdi.h"
#include "oci.h"
#include "request.h"
#include "bounds.h"

static int fuzz_one(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    gctk_error *err = NULL;
    if (data[0] & 1) {
        struct oci_state s = {0};
        unsigned flags = (data[0] & 2) ? OCI_STATE_IN_CONTAINER : 0;
        int r = oci_state_parse(text, len, flags, &s, &err);
        /* a parsed state always holds what the hook relies on: a process
         * (0 only from a runtime that runs the hook in the container) */
        if (r == 0 &&
            (s.pid < (flags ? 0 : 1) || s.bundle == NULL || s.bundle[0] != '/' || s.id == NULL))
            __builtin_trap();
        if (r < 0 && err == NULL)
            __builtin_trap();
        oci_state_clear(&s);
        gctk_error_free(err);
        return 0;
    }
    struct oci_spec spec = {0};
    if (oci_spec_parse(text, len, "/run/bundle", &spec, &err) < 0) {
        if (err == NULL)
            __builtin_trap();
        gctk_error_free(err);
        return 0;
    }
    if (spec.rootfs == NULL || spec.rootfs[0] != '/')
        __builtin_trap();
    struct gctk_config cfg = {.accept_nvidia_visible_devices_envvar_when_unprivileged =
                                  (data[0] & 2) != 0,
                              .disable_require = (data[0] & 4) != 0,
                              .swarm_resource = (data[0] & 8) ? "NVIDIA-GPU" : NULL};
    struct request req = {0};
    if (request_from_env(&spec.env, spec.privileged, &cfg, &req, &err) == 0)
        request_clear(&req);
    else if (err == NULL)
        __builtin_trap();
    /* gctk-runtime's reading of the CDI names (annotations, then
     * NVIDIA_VISIBLE_DEVICES in NVIDIA's cdi mode when data[0] says so):
     * each once, and an error always says why */
    struct strv names = {0};
    cdi_annotation_names(&spec.annotations, NULL, &names);
    gctk_error_free(err);
    err = NULL;
    if (cdi_visible_devices_names(env_get(&spec.env, "NVIDIA_VISIBLE_DEVICES"),
                                  (data[0] & 16) ? "nvidia.com/gpu" : NULL, &names, &err) < 0 &&
        err == NULL)
        __builtin_trap();
    for (size_t i = 1; i < names.len && i < 64; i++)
        if (strcmp(names.items[i], names.items[0]) == 0)
            __builtin_trap();
    strv_clear(&names);
    gctk_error_free(err);
    oci_spec_clear(&spec);
    return 0;
}

FUZZ_BOUNDED(fuzz_one)
