/* gctk's own settings file (JSON), read by the hook, the runtime shim and the
 * CLI. Its path is fixed at build time and can be overridden by GCTK_CONFIG in
 * the environment of the process itself - never by a container's environment. */
#ifndef GCTK_CONFIG_H
#define GCTK_CONFIG_H

#include "util.h"

enum ldconfig_mode {
    LDCONFIG_INTERNAL, /* write the container's ld.so.cache in-process */
    LDCONFIG_NONE,     /* leave it alone (the image handles LD_LIBRARY_PATH itself) */
};

struct gctk_config {
    char *path; /* the file read, or NULL when defaults were used */
    char *root; /* driver root: "/" */
    enum ldconfig_mode ldconfig;
    char *log; /* hook log file; NULL: no log */
    /* accept-nvidia-visible-devices-envvar-when-unprivileged (its old name:
     * allow-unprivileged-env): NVIDIA_VISIBLE_DEVICES honoured for
     * unprivileged containers */
    bool allow_unprivileged_env;
    /* accept-nvidia-visible-devices-as-volume-mounts: the device list of
     * /dev/null mounts at /var/run/nvidia-container-devices/<id> honoured */
    bool accept_volume_mounts;
    bool no_cgroups;      /* do not touch device cgroups (rootless) */
    bool disable_require; /* ignore NVIDIA_REQUIRE_* for every container */
    bool cuda_compat;     /* use an image's /usr/local/cuda/compat when newer */
    char *runtime;        /* the real OCI runtime gctk-runtime execs: "runc" */
    char *hook_path;      /* the hook gctk-runtime adds; NULL: next to gctk-runtime */
    char *swarm_resource; /* Swarm generic resource name: "NVIDIA-GPU" -> DOCKER_RESOURCE_NVIDIA_GPU
                           */
    char *cdi_spec_owner; /* the user besides root whose CDI specs are trusted; NULL: none */
    char *discovery_cache;     /* root-only directory of the discovery cache; NULL: off */
    unsigned long long digest; /* hash64 of the file's text; 0 with the defaults */
};

#define GCTK_DEFAULT_LOG "/var/log/gctk-hook.log"
#define GCTK_DEFAULT_CACHE "/run/gctk"

/* Loads path; path NULL: $GCTK_CONFIG, else the built-in default path, and a
 * missing default file gives the defaults (an explicit path must exist). */
int config_load(const char *path, struct gctk_config *out, gctk_error **err);
void config_clear(struct gctk_config *c);
/* The default settings, as a JSON text (for `gctk config default`). */
char *config_default_json(void);
/* The uid of the cdi-spec-owner setting (a user name or a number); 0 (root)
 * when it is not set. -1 when no such user exists. */
int config_cdi_spec_owner(const struct gctk_config *c, uid_t *out, gctk_error **err);

#endif
