/* gctk-runtime: an OCI runtime shim for `--runtime=nvidia` and Compose's
 * `runtime: nvidia`. On create (and run) it adds gctk-hook to the bundle when
 * the container asks for GPUs, then execs the real runtime with the very same
 * arguments; every other verb goes straight through. */
#include <limits.h>
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
    return path_search(env != NULL ? env
                                   : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                       name, self);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--version") == 0)
        printf("gctk-runtime %s\n", GCTK_VERSION);
    cleanup_error gctk_error *err = NULL;
    struct gctk_config cfg = {0};
    if (config_load(NULL, &cfg, &err) < 0) {
        fprintf(stderr, "gctk-runtime: %s\n", err->msg);
        return 1;
    }
    struct shim_args a;
    shim_parse_args(argc, argv, &a);
    if (a.verb > 0 && (strcmp(argv[a.verb], "create") == 0 || strcmp(argv[a.verb], "run") == 0)) {
        cleanup_free char *hook =
            cfg.hook_path ? xstrdup(cfg.hook_path) : self_sibling("gctk-hook");
        if (hook == NULL)
            hook = xstrdup("/usr/bin/gctk-hook");
        bool added = false;
        if (shim_prepare_bundle(a.bundle ? a.bundle : ".", &cfg, hook, &added, &err) < 0) {
            fprintf(stderr, "gctk-runtime: %s\n", err->msg);
            config_clear(&cfg);
            return 1;
        }
    }
    char *runtime = find_runtime(cfg.runtime);
    if (runtime == NULL) {
        fprintf(stderr,
                "gctk-runtime: the OCI runtime `%s` is not on PATH: install runc or set "
                "\"runtime\" in %s\n",
                cfg.runtime, cfg.path ? cfg.path : "the gctk config");
        config_clear(&cfg);
        return 1;
    }
    config_clear(&cfg);
    argv[0] = runtime;
    execv(runtime, argv);
    fprintf(stderr, "gctk-runtime: exec `%s`: %s\n", runtime, strerror(errno));
    return 127;
}
