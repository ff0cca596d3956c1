/* libFuzzer target of the /proc files discovery and the cgroup lookup read:
 * /proc/driver/nvidia/version, gpus/<bus>/information, PCI bus ids, and
 * /proc/<pid>/cgroup with /proc/self/mountinfo. Input: the first byte picks
 * the parser; for the cgroup pair a NUL byte separates the two texts. */
#include <stdint.h>
#include <string.h>

#include "cgroup.h"
#include "host.h"
#include "bounds.h"

static int fuzz_one(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    /* xstrndup stops at a NUL, as a file read with read_file would look */
    char *text = xstrndup((const char *)data + 1, size - 1);
    gctk_error *err = NULL;
    switch (data[0] % 4) {
    case 0: {
        char *v = NULL;
        if (host_parse_proc_version(text, &v, &err) == 0) {
            if (v == NULL || v[0] < '0' || v[0] > '9')
                __builtin_trap();
            free(v);
        }
        break;
    }
    case 1: {
        struct gctk_gpu g = {0};
        if (host_parse_gpu_information(text, &g, &err) == 0) {
            if (g.uuid == NULL || g.bus_id == NULL || g.model == NULL || g.minor < 0 ||
                g.minor > 254)
                __builtin_trap();
            host_gpu_clear(&g);
        }
        break;
    }
    case 2: {
        char bus[32];
        if (host_normalize_bus_id(text, bus, sizeof(bus)) == 0 && strlen(bus) != 16)
            __builtin_trap();
        break;
    }
    default: {
        const char *nul = memchr(data + 1, '\0', size - 1);
        const char *mountinfo = nul != NULL ? nul + 1 : "";
        char *mi = xstrndup(mountinfo, size - (size_t)(mountinfo - (const char *)data));
        if (nul == NULL) {
            free(mi);
            mi = xstrdup("");
        }
        enum cgroup_version v;
        char *dir = NULL;
        if (cgroup_locate(text, mi, &v, &dir, &err) == 0) {
            if (dir == NULL || (v != CGROUP_V1 && v != CGROUP_V2))
                __builtin_trap();
            free(dir);
        }
        free(mi);
        break;
    }
    }
    gctk_error_free(err);
    free(text);
    return 0;
}

FUZZ_BOUNDED(fuzz_one)
