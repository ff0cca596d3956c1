/* libFuzzer target of gctk ps's parsers of what /proc says about a process:
 * /proc/PID/cgroup (the container its path names), a supervisor's argv (a
 * containerd shim's, runc's; NUL-separated) and /proc/PID/status (NSpid).
 * Input: the first byte picks the parser, the rest is the file. */
#include <stdint.h>
#include <string.h>

#include "ps.h"
#include "bounds.h"

static int fuzz_one(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    struct ps_container c = {.user = -1};
    switch (data[0] % 3) {
    case 0: {
        /* a file read with read_file ends at its first NUL */
        char *text = xstrndup((const char *)data + 1, size - 1);
        char *path = NULL;
        bool found = ps_proc_cgroup(text, &c, &path);
        /* a container always has an engine and an id of 64 hex digits or
         * more (a bare id names one only as 64); the path is one of the
         * text's, or none when the text has no line */
        if (found && (c.engine == PS_ENGINE_NONE || c.id == NULL || strlen(c.id) != 64))
            __builtin_trap();
        if (found && (path == NULL || strstr(text, path) == NULL))
            __builtin_trap();
        if (c.outer_engine != PS_ENGINE_NONE && c.outer_id == NULL)
            __builtin_trap();
        free(path);
        ps_container_clear(&c);
        free(text);
        break;
    }
    case 1: {
        /* argv as /proc/PID/cmdline holds it: NUL-terminated strings */
        size_t len = size - 1;
        char *argv = xmalloc(len + 1);
        memcpy(argv, data + 1, len);
        argv[len] = '\0';
        if (ps_supervisor_container(argv, len, &c) && (c.id == NULL || c.id[0] == '\0'))
            __builtin_trap();
        ps_container_clear(&c);
        free(argv);
        break;
    }
    case 2: {
        char *text = xstrndup((const char *)data + 1, size - 1);
        (void)ps_status_nspid(text);
        free(text);
        break;
    }
    }
    return 0;
}

FUZZ_BOUNDED(fuzz_one)
