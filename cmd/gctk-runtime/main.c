/* gctk-runtime: an OCI runtime shim for `--runtime=nvidia` and Compose's
 * `runtime: nvidia`. On create (and run) it adds gctk-hook to the bundle when
 * the container asks for GPUs, then execs the real runtime with the very same
 * arguments; every other verb goes straight through. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gctk.h"
#include "version.h"

/* The real runtime: an absolute path, or a name on PATH that is not this shim. */
static char *find_runtime(const char *name)
{
    if (strchr(name, '/') != NULL)
        return xstrdup(name);
    const char *env = getenv("PATH");
    cleanup_free char *self = self_exe();
    return path_search(env != NULL ? env : DEFAULT_PATH, name, self);
}

/* "gctk-runtime: <message>" on stderr and in the runtime log (--log), where
 * containerd and Docker read a runtime's error from; one escaped line, since
 * messages quote the image's variables. Returns 1. */
static int fail(const struct shim_args *a, const char *fmt, ...) GCTK_PRINTF(2, 3);
static int fail(const struct shim_args *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cleanup_free char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    cleanup_free char *safe = str_escape_line(msg, HOOK_LINE_MAX);
    cleanup_free char *line = xasprintf("gctk-runtime: %s", safe);
    fprintf(stderr, "%s\n", line);
    shim_log_error(a, line);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--version") == 0)
        printf("gctk-runtime %s\n", GCTK_VERSION);
    struct shim_args a;
    cleanup_error gctk_error *err = NULL;
    if (shim_parse_args(argc, argv, &a, &err) < 0)
        return fail(&a, "%s: refusing to start the container (it might not get its GPUs)",
                    err->msg);
    struct gctk_config cfg = {0};
    if (config_load(NULL, &cfg, &err) < 0)
        return fail(&a, "%s", err->msg);
    if (a.prepare) {
        cleanup_free char *hook =
            cfg.hook_path ? xstrdup(cfg.hook_path) : self_sibling("gctk-hook");
        if (hook == NULL)
            hook = xstrdup("/usr/bin/gctk-hook");
        bool added = false;
        if (shim_prepare_bundle(a.bundle, &cfg, hook, &added, &err) < 0) {
            config_clear(&cfg);
            return fail(&a, "%s", err->msg);
        }
    }
    /* the first of the candidates that is there (NVIDIA's "runtimes" list
     * reads the same way) */
    char *runtime = NULL;
    for (size_t i = 0; runtime == NULL && i < cfg.runtimes.len; i++)
        runtime = find_runtime(cfg.runtimes.items[i]);
    if (runtime == NULL) {
        cleanup_free char *names = strv_join(&cfg.runtimes, "`, `");
        gctk_refuse(&err, ENOENT, "%s `%s` %s on PATH",
                    cfg.runtimes.len > 1 ? "none of the OCI runtimes" : "the OCI runtime", names,
                    cfg.runtimes.len > 1 ? "is" : "is not");
        gctk_hint(&err, "install runc or set \"runtime\" in %s",
                  cfg.path ? cfg.path : "the gctk config");
        config_clear(&cfg);
        return fail(&a, "%s", err->msg);
    }
    config_clear(&cfg);
    argv[0] = runtime;
    execv(runtime, argv);
    fail(&a, "exec `%s`: %s", runtime, strerror(errno));
    return 127;
}
