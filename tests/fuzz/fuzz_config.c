/* libFuzzer target of gctk's settings file (config.json of gctk itself):
 * config_load reads a path, so the input is handed over as a memfd. */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "config.h"
#include "bounds.h"

static int fuzz_one(const uint8_t *data, size_t size)
{
    static int fd = -1;
    if (fd < 0 && (fd = memfd_create("gctk-config", MFD_CLOEXEC)) < 0)
        abort();
    if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    struct gctk_config c = {0};
    gctk_error *err = NULL;
    if (config_load(path, &c, &err) == 0) {
        if (c.root == NULL || c.runtimes.len == 0 || c.path == NULL)
            __builtin_trap();
        config_clear(&c);
    } else if (err == NULL) {
        __builtin_trap();
    }
    gctk_error_free(err);
    return 0;
}

FUZZ_BOUNDED(fuzz_one)
