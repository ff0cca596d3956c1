/* libFuzzer target of the NVIDIA_* variables: an environment (one NAME=value
 * per line) turned into a request, then its device list resolved against a
 * 4-GPU host and its capabilities parsed and formatted. */
#include <stdint.h>
#include <string.h>

#include "caps.h"
#include "host.h"
#include "oci.h"
#include "request.h"
#include "bounds.h"

static struct gctk_gpu gpus[] = {
    {.index = 0,
     .minor = 0,
     .uuid = "GPU-0b1c2d3e-0000-1111-2222-333344445555",
     .bus_id = "00000000:18:00.0",
     .model = "NVIDIA H100",
     .memory_mib = -1},
    {.index = 1,
     .minor = 1,
     .uuid = "GPU-0b1c2d3e-0000-1111-2222-333344446666",
     .bus_id = "00000000:2A:00.0",
     .model = "NVIDIA H100",
     .memory_mib = -1},
    {.index = 2,
     .minor = 2,
     .uuid = "GPU-9f000000-aaaa-bbbb-cccc-ddddeeeeffff",
     .bus_id = "00000000:3B:00.0",
     .model = "NVIDIA H100",
     .memory_mib = -1},
    {.index = 3,
     .minor = 3,
     .uuid = "GPU-11111111-2222-3333-4444-555566667777",
     .bus_id = "00000000:DB:00.0",
     .model = "NVIDIA H100",
     .memory_mib = -1},
};

static int fuzz_one(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 16u << 20)
        return 0;
    struct strv env = {0};
    char *text = xstrndup((const char *)data + 1, size - 1);
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
        strv_push(&env, xstrdup(line));
    free(text);

    struct gctk_config cfg = {.accept_nvidia_visible_devices_envvar_when_unprivileged =
                                  (data[0] & 1) != 0,
                              .disable_require = (data[0] & 2) != 0,
                              .swarm_resource = (data[0] & 4) ? "NVIDIA-GPU" : NULL};
    struct request req = {0};
    gctk_error *err = NULL;
    if (request_from_env(&env, (data[0] & 8) != 0, &cfg, &req, &err) == 0) {
        if (req.caps & ~GCTK_CAP_ALL)
            __builtin_trap();
        char buf[128];
        gctk_caps_format(req.caps, buf, sizeof(buf));
        unsigned back = 0;
        if (req.caps != 0 && (gctk_caps_parse(buf, &back, NULL) < 0 || back != req.caps))
            __builtin_trap();
        if (req.devices != NULL) {
            struct gctk_host h = {.root = "/", .gpus = gpus, .ngpus = GCTK_ARRAY_LEN(gpus)};
            struct gctk_selection sel = {0};
            gctk_error *serr = NULL;
            if (gctk_select(&h, req.devices, &sel, &serr) == 0) {
                for (size_t i = 0; i < sel.count; i++)
                    if (sel.gpus[i] < 0 || (size_t)sel.gpus[i] >= h.ngpus ||
                        (i > 0 && sel.gpus[i] <= sel.gpus[i - 1]))
                        __builtin_trap();
                gctk_selection_clear(&sel);
            } else if (serr == NULL) {
                __builtin_trap();
            }
            gctk_error_free(serr);
        }
        request_clear(&req);
    } else if (err == NULL) {
        __builtin_trap();
    }
    gctk_error_free(err);
    strv_clear(&env);
    return 0;
}

FUZZ_BOUNDED(fuzz_one)
