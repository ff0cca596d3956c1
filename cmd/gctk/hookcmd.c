/* gctk hook create-container|update-ldcache|create-symlinks|mask-proc: the
 * createContainer hooks of CDI specs, for what a spec cannot say
 * declaratively. A spec of `gctk cdi generate` names create-container alone
 * (one process per container); the others run the specs of earlier versions
 * and, through nvidia-ctk, NVIDIA's. The runtime gives the OCI state on stdin; the container's
 * rootfs comes from the bundle's config.json (--rootfs overrides both, for
 * manual use). They run with the explicit environment the spec gives them. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: gctk hook create-container [--mount /HOST::/CONTAINER::OPTIONS]...\n"
               "           [--link TARGET::LINK]... [--node-link TARGET::LINK]...\n"
               "           [--folder DIR]... [--host-driver-version VERSION] [--driver-root DIR]\n"
               "           [--rootfs DIR]\n"
               "       gctk hook update-ldcache --folder DIR... [--host-driver-version VERSION]\n"
               "           [--rootfs DIR]\n"
               "       gctk hook create-symlinks --link TARGET::LINK... [--rootfs DIR]\n"
               "       gctk hook mask-proc [--driver-root DIR] [--rootfs DIR]\n"
               "\n"
               "Run by an OCI runtime as createContainer hooks (state on stdin), as the CDI\n"
               "specs ask. create-container does what the three others do, in one process:\n"
               "the links, the ld.so.cache (with --folder), the /proc mask; --node-link\n"
               "links are made only where TARGET is a device node the container has.\n"
               "--mount: a bind mount made before them (OPTIONS from bind, ro, rw, nosuid,\n"
               "nodev, noexec); gctk-runtime hands it the bind mounts of the spec that\n"
               "names it, instead of leaving them to runc (docs/cdi.md).\n"
               "--host-driver-version: the image's /usr/local/cuda/compat libraries newer\n"
               "than that driver win.\n");
}

/* The rootfs (and in *pid the container's process, 0 when the rootfs was
 * given by hand or the runtime runs the hook in the container: crun; in *id
 * the container's id, NULL for a rootfs given by hand) */
static int container_rootfs(const char *given, char **out, pid_t *pid, char **id, gctk_error **err)
{
    *pid = 0;
    *id = NULL;
    if (given != NULL) {
        *out = xstrdup(given);
        return 0;
    }
    struct oci_state state = {0};
    struct oci_spec spec = {0};
    if (oci_state_read_fd(STDIN_FILENO, OCI_STATE_IN_CONTAINER, &state, err) < 0 ||
        oci_spec_load(state.bundle, &spec, err) < 0) {
        oci_state_clear(&state);
        return -1;
    }
    *out = steal_pointer(&spec.rootfs);
    *pid = state.pid;
    *id = steal_pointer(&state.id);
    oci_spec_clear(&spec);
    oci_state_clear(&state);
    return 0;
}

/* create-container's line in the hook's log (the settings' `log`, as
 * gctk-hook's): what it did and what each step took, or its error */
static void log_create_container(const struct gctk_config *cfg, const char *id,
                                 unsigned long long start, unsigned long long state_ns,
                                 const struct cdi_hook_report *rep, const gctk_error *err)
{
    struct hook_log log = {0};
    if (err != NULL)
        hook_log_add(&log, "hook create-container: error: %s", err->msg);
    else
        hook_log_add(&log,
                     "hook create-container done in %.3f ms: state %.3f, host %.3f, mounts %.3f "
                     "(%zu mounts), links %.3f (%zu links), ldcache %.3f, proc %.3f, cache %s",
                     ns_ms(now_ns() - start), ns_ms(state_ns), ns_ms(rep->host_ns),
                     ns_ms(rep->mounts_ns), rep->mounts, ns_ms(rep->links_ns), rep->links,
                     ns_ms(rep->ldcache_ns), ns_ms(rep->proc_ns),
                     rep->cache != NULL ? rep->cache : "-");
    hook_log_write(&log, cfg->log, id);
    hook_log_clear(&log);
}

int cmd_hook(int argc, char **argv, struct global_opts *g)
{
    static const char *const hooks[] = {"create-container", "update-ldcache", "create-symlinks",
                                        "mask-proc", NULL};
    int status = 0, hook = verb_subcommand(argc, argv, "hook", hooks, usage, &status);
    if (hook < 0)
        return status;
    const char *verb = argv[1];
    static const struct option opts[] = {
        {"mount", required_argument, NULL, 'm'},
        {"folder", required_argument, NULL, 'f'},
        {"link", required_argument, NULL, 'l'},
        {"node-link", required_argument, NULL, 'n'},
        {"driver-root", required_argument, NULL, 'd'},
        {"host-driver-version", required_argument, NULL, 'V'},
        {"rootfs", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    cleanup_strv struct strv mounts = {0}, folders = {0}, links = {0}, node_links = {0};
    cleanup_error gctk_error *err = NULL;
    cleanup_free char *rootfs = NULL;
    const char *rootfs_arg = NULL, *driver_root = g->root ? g->root : "/", *driver = NULL;
    cleanup_free char *name = xasprintf("hook %s", verb);
    struct verb_args v = {
        .name = name, .opts = opts, .usage = usage, .argc = argc - 1, .argv = argv + 1};
    int c;
    while ((c = verb_option(&v)) >= 0) {
        switch (c) {
        case 'm':
            strv_push(&mounts, xstrdup(optarg));
            break;
        case 'f':
            strv_push(&folders, xstrdup(optarg));
            break;
        case 'l':
            strv_push(&links, xstrdup(optarg));
            break;
        case 'n':
            strv_push(&node_links, xstrdup(optarg));
            break;
        case 'd':
            driver_root = optarg;
            break;
        case 'V':
            if (!version_valid(optarg)) {
                report("hook %s: --host-driver-version `%s`: not a driver version (580.95.05)",
                       verb, optarg);
                return 2;
            }
            driver = optarg;
            break;
        case 'r':
            rootfs_arg = optarg;
            break;
        }
    }
    if (c == VERB_EXIT || verb_operands(&v, 0, 0, NULL) < 0)
        return v.status;
    bool all = hook == 0, ldcache = hook == 1, symlinks = hook == 2, mask = hook == 3;
    const struct cdi_container_edits e = {.mounts = &mounts,
                                          .links = &links,
                                          .node_links = &node_links,
                                          .folders = &folders,
                                          .host_driver_version = driver,
                                          .driver_root = driver_root,
                                          .cache = &g->cache};
    pid_t pid = 0;
    cleanup_free char *id = NULL;
    struct cdi_hook_report rep = {0};
    unsigned long long start = now_ns();
    int rc = container_rootfs(rootfs_arg, &rootfs, &pid, &id, &err);
    /* the OCI state on stdin (as fast as the runtime writes it) and config.json */
    unsigned long long state_ns = now_ns() - start;
    if (rc == 0 && all) {
        rc = cdi_hook_create_container(rootfs, pid, &e, &rep, &err);
        /* run by a runtime (a state read): logged, as the OCI hook logs */
        if (id != NULL)
            log_create_container(g->cfg, id, start, state_ns, &rep, rc < 0 ? err : NULL);
    }
    if (rc < 0 || (ldcache && cdi_hook_update_ldcache(rootfs, pid, &folders, driver, &err) < 0) ||
        (symlinks && cdi_hook_create_symlinks(rootfs, pid, &links, &err) < 0) ||
        (mask && cdi_hook_mask_proc(driver_root, &g->cache, rootfs, pid, &err) < 0)) {
        gctk_wrap(&err, "hook %s", verb);
        return report_error(err);
    }
    return 0;
}
