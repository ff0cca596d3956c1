/* gctk's settings, read by the hook, the runtime shim and the CLI, from two
 * files:
 *
 *   gctk's own (JSON): its path is fixed at build time and can be overridden
 *   by GCTK_CONFIG in the environment of the process itself - never by a
 *   container's environment;
 *
 *   NVIDIA's config.toml, for hosts that switch from NVIDIA's toolkit:
 *   $NVIDIA_CTK_CONFIG_FILE_PATH, else $XDG_CONFIG_HOME/nvidia-container-
 *   runtime/config.toml, else /etc/nvidia-container-runtime/config.toml under
 *   the driver root that gctk's own file names ("/" by default), as NVIDIA's
 *   toolkit looks for it. Its keys are translated into gctk's (nvconfig.c).
 *
 * The rule of precedence, key by key: gctk's own file wins; NVIDIA's file
 * fills what gctk's does not say; the defaults fill the rest. The TOML
 * module (and its C++ runtime) is loaded only when NVIDIA's file exists. */
#ifndef GCTK_CONFIG_H
#define GCTK_CONFIG_H

#include <jansson.h>

#include "util.h"

enum ldconfig_mode {
    LDCONFIG_INTERNAL, /* write the container's ld.so.cache in-process */
    LDCONFIG_NONE,     /* leave it alone (the image handles LD_LIBRARY_PATH itself) */
};

enum runtime_mode {
    RUNTIME_MODE_AUTO, /* CDI names through their specs, GPU ids through the hook */
    RUNTIME_MODE_CDI,  /* GPU ids too through the specs, as <cdi-default-kind>=<id> */
};

struct gctk_config {
    char *path;        /* gctk's file read, or NULL when it was absent */
    char *nvidia_path; /* NVIDIA's config.toml read, or NULL when it was absent */
    char *root;        /* driver root: "/" */
    enum ldconfig_mode ldconfig;
    char *log; /* hook log file; NULL: no log */
    /* NVIDIA_VISIBLE_DEVICES (and the other request variables) honoured for
     * unprivileged containers; "allow-unprivileged-env" is its older name */
    bool accept_nvidia_visible_devices_envvar_when_unprivileged;
    /* device lists as /dev/null mounts at /var/run/nvidia-container-devices */
    bool accept_nvidia_visible_devices_as_volume_mounts;
    bool no_cgroups;      /* do not touch device cgroups (rootless) */
    bool disable_require; /* ignore NVIDIA_REQUIRE_* for every container */
    bool cuda_compat;     /* use an image's /usr/local/cuda/compat when newer */
    /* the driver capabilities a container may get: "all" or a comma list */
    char *supported_driver_capabilities;
    /* the real OCI runtime gctk-runtime execs: the first of these found
     * (names on PATH, or absolute paths); {"runc"} by default */
    struct strv runtimes;
    char *hook_path;      /* the hook gctk-runtime adds; NULL: next to gctk-runtime */
    char *swarm_resource; /* Swarm generic resource name: "NVIDIA-GPU" -> DOCKER_RESOURCE_NVIDIA_GPU
                           */
    char *cdi_spec_owner; /* the user besides root whose CDI specs are trusted; NULL: none */
    enum runtime_mode runtime_mode;
    char *cdi_default_kind;    /* "nvidia.com/gpu" */
    struct strv cdi_spec_dirs; /* where gctk-runtime finds specs: /etc/cdi, /var/run/cdi */
    struct strv cdi_annotation_prefixes; /* annotations that name CDI devices: "cdi.k8s.io/" */
    char *discovery_cache;               /* root-only directory of the discovery cache; NULL: off */
    unsigned long long digest;           /* hash64 of both files' texts; 0 with neither */
};

#define GCTK_DEFAULT_LOG "/var/log/gctk-hook.log"
#define GCTK_DEFAULT_CACHE "/run/gctk"

/* Loads gctk's settings: path NULL: $GCTK_CONFIG, else the built-in default
 * path, and a missing default file gives the defaults (an explicit path must
 * exist); then NVIDIA's config.toml where it is (see above; a path named by
 * NVIDIA_CTK_CONFIG_FILE_PATH must exist), under the rule of precedence. */
int config_load(const char *path, struct gctk_config *out, gctk_error **err);
void config_clear(struct gctk_config *c);
/* The default settings, as a JSON text (for `gctk config default`). */
char *config_default_json(void);
/* The uid of the cdi-spec-owner setting (a user name or a number); 0 (root)
 * when it is not set. -1 when no such user exists. */
/* The variables that name the settings this process reads (GCTK_CONFIG,
 * NVIDIA_CTK_CONFIG_FILE_PATH, XDG_CONFIG_HOME), each "NAME=VALUE" when set
 * and not empty, a relative VALUE made absolute from the working directory:
 * the environment that makes a hook read the same settings as this process,
 * whether the runtime adds the hook or a file written now names it (the CDI
 * spec's hook, Podman's hooks.d entry). */
void config_settings_env(struct strv *out);
int config_cdi_spec_owner(const struct gctk_config *c, uid_t *out, gctk_error **err);
struct nvkey_list;
/* The effective settings and where each comes from, for `gctk config`: an
 * object of {"<setting>": {"value": <JSON value>, "from": "default" | "<gctk's
 * file>" | "<NVIDIA's file>: <its key>"}}, and in report (may be NULL) what
 * was done with every key of NVIDIA's file (empty without one). Fails as
 * config_load() fails. */
int config_explain(const char *path, json_t **settings, struct nvkey_list *report,
                   gctk_error **err);

/* ---- NVIDIA's config.toml (nvconfig.c) ---------------------------------------------- */

#define NVIDIA_CONFIG_FILE "/etc/nvidia-container-runtime/config.toml"
#define NVIDIA_CONFIG_PATH_ENV "NVIDIA_CTK_CONFIG_FILE_PATH"

/* Where NVIDIA's toolkit would read its config.toml on a host whose driver
 * root is root: *explicit tells whether NVIDIA_CTK_CONFIG_FILE_PATH named it
 * (then it must exist). Owned. */
char *nvconfig_path(const char *root, bool *explicit);

/* What gctk does with one key of NVIDIA's file. */
enum nvkey_use {
    NVKEY_READ,    /* translated into a gctk setting (gctk_key) */
    NVKEY_SAME,    /* nothing to translate: gctk does what the value asks */
    NVKEY_IGNORED, /* not read: the note says why; NVIDIA behaves no differently for it */
    NVKEY_WARNING, /* not read, and NVIDIA's toolkit would behave differently */
};

struct nvkey {
    char *key;   /* "nvidia-container-cli.root" */
    char *value; /* its value as JSON text: "\"/run/nvidia/driver\"" */
    enum nvkey_use use;
    char *gctk_key; /* NVKEY_READ: the gctk setting it sets; else NULL */
    char *note;     /* what gctk does instead, one line; may be NULL for NVKEY_READ */
};

struct nvkey_list {
    struct nvkey *items;
    size_t len, cap;
};
void nvkey_list_clear(struct nvkey_list *l);

/* Translates NVIDIA's document (its TOML as JSON, gctk_toml_load) into a JSON
 * object of gctk's settings keys, and says in report (may be NULL) what was
 * done with every key, sorted by key. A key gctk reads whose value
 * has the wrong type is an error naming the key and path (NVIDIA's toolkit
 * refuses such a file too); a key gctk does not read never is. */
int nvconfig_translate(const json_t *doc, const char *path, json_t **settings,
                       struct nvkey_list *report, gctk_error **err);

/* `nvidia-ctk config --set key[=value]` on doc (NVIDIA's file as JSON): the
 * key must be one of NVIDIA's toolkit 1.18, the value of its type, read as
 * NVIDIA's command reads it (a boolean alone is true; a feature's "nil"
 * unsets it; a list is split at list_separator, else at commas). */
int nvconfig_set(json_t *doc, const char *set, const char *list_separator, gctk_error **err);
/* gctk's default settings in NVIDIA's keys (`nvidia-ctk config default`): a
 * document that nvconfig_translate() turns back into exactly the defaults. */
json_t *nvconfig_defaults(void);

#endif
