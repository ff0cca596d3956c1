/* gctk-hook: the OCI hook (prestart / createRuntime). Docker runs it as
 * `nvidia-container-runtime-hook prestart` for `--gpus`; gctk-runtime and CDI
 * specs add it to config.json. The state JSON comes on stdin. */
#include <stdio.h>
#include <string.h>

#include "gctk.h"
#include "version.h"

static int usage(FILE *f, int rc)
{
    fprintf(f, "usage: gctk-hook prestart|createRuntime   (run by an OCI runtime, state on "
               "stdin)\n       gctk-hook --version\n\n"
               "Gives the container the GPUs its NVIDIA_VISIBLE_DEVICES asks for. Settings:\n"
               "$GCTK_CONFIG, else " GCTK_DEFAULT_CONFIG ".\n");
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr, 2);
    const char *verb = argv[1];
    if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0)
        return usage(stdout, 0);
    if (strcmp(verb, "--version") == 0) {
        printf("gctk-hook %s\n", GCTK_VERSION);
        return 0;
    }
    /* Docker also registers the hook for poststart/poststop in some setups */
    if (strcmp(verb, "poststart") == 0 || strcmp(verb, "poststop") == 0)
        return 0;
    if (strcmp(verb, "prestart") != 0 && strcmp(verb, "createRuntime") != 0) {
        fprintf(stderr, "gctk-hook: unknown hook `%s`: use prestart or createRuntime\n", verb);
        return 2;
    }
    cleanup_error gctk_error *err = NULL;
    struct gctk_config cfg = {0};
    if (config_load(NULL, &cfg, &err) < 0) {
        fprintf(stderr, "gctk-hook: %s\n", err->msg);
        return 1;
    }
    struct oci_state state = {0};
    struct hook_log log = {0};
    int rc = 0;
    if (oci_state_read_fd(STDIN_FILENO, 0, &state, &err) < 0 ||
        hook_run(&cfg, &state, &log, &err) < 0) {
        if (log.lines.len == 0)
            hook_log_add(&log, "error: %s", err->msg);
        cleanup_free char *msg = hook_escape(err->msg);
        fprintf(stderr, "gctk-hook: %s\n", msg);
        rc = 1;
    }
    hook_log_write(&log, cfg.log, state.id);
    hook_log_clear(&log);
    oci_state_clear(&state);
    config_clear(&cfg);
    return rc;
}
