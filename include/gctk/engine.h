/* Registering gctk with a container engine (`gctk runtime configure`): one
 * table entry per engine, and each engine's configuration.
 *
 * Docker: dockerd's /etc/docker/daemon.json is edited in place: the gctk
 * runtime ("runtimes"), the default ("default-runtime"), CDI ("features":
 * {"cdi": true}), Swarm's generic resources, and taking them out again.
 * Every other key is kept, in its order; the file is replaced atomically,
 * with a backup. containerd, CRI-O and Podman get a file of their own (a
 * drop-in, a hooks.d entry): their main configuration is never rewritten. */
#ifndef GCTK_ENGINE_H
#define GCTK_ENGINE_H

#include <jansson.h>
#include <stdbool.h>

#include "json.h"
#include "util.h"

#define ENGINE_DOCKER_CONFIG "/etc/docker/daemon.json"
#define ENGINE_CONTAINERD_DROPIN "/etc/containerd/conf.d/99-gctk.toml"
#define ENGINE_CONTAINERD_CONFIG "/etc/containerd/config.toml"
#define ENGINE_CRIO_DROPIN "/etc/crio/crio.conf.d/99-gctk.conf"
#define ENGINE_PODMAN_HOOK "/usr/share/containers/oci/hooks.d/oci-gctk-hook.json"

struct runtime_entry {
    const char *name; /* "nvidia" */
    const char *path; /* the runtime executable */
    bool set_default; /* also "default-runtime": name */
    bool cdi;         /* also "features": {"cdi": true} */
    /* Swarm: "node-generic-resources" entries "<name>=<id>" replacing the
     * earlier ones of that name (the host's GPUs, `--swarm-resources`) */
    const char *swarm_name;
    const char *const *swarm_ids;
    size_t n_swarm_ids;
};

/* Reads a JSON config file. A missing file gives an empty object and
 * *existed = false; an empty file is an empty object too. Invalid JSON, a
 * duplicated key or a top level that is not an object is refused with the
 * line and column of the fault. */
int json_config_load(const char *path, json_t **out, bool *existed, gctk_error **err);

/* The same on a buffer (which need not be NUL-terminated); name is for messages. */
int json_config_parse(const char *name, const char *data, size_t len, json_t **out,
                      gctk_error **err);

/* The text gctk writes: 4-space indentation, keys in their order, final newline. */
char *json_config_dump(const json_t *cfg);

/* Changes cfg in memory; *changed says whether anything differs now. A
 * "runtimes" or "features" that is not an object is refused, cfg untouched. */
int daemonjson_add_runtime(json_t *cfg, const struct runtime_entry *rt, bool *changed,
                           gctk_error **err);
/* Takes runtimes.<name> out, "runtimes" too when it is left empty, and
 * "default-runtime" when it named the runtime. */
int daemonjson_remove_runtime(json_t *cfg, const char *name, bool *changed, gctk_error **err);

enum {
    CONFIG_DRY_RUN = 1u << 0, /* compute the result, write nothing */
    CONFIG_REMOVE = 1u << 1,  /* take the runtime out instead */
};

/* load, add (or remove), and write when something changed. *changed tells
 * whether the file changed (or, with CONFIG_DRY_RUN, would change); *text is
 * the resulting content (may be NULL). */
int daemonjson_configure(const char *path, const struct runtime_entry *rt, unsigned flags,
                         bool *changed, char **text, gctk_error **err);

/* ---- containerd, CRI-O, Podman ---------------------------------------------------- */

/* containerd (config version 2): the runtime `name` (runc v2 shim running
 * runtime_path as its BinaryName), CDI on in the CRI plugin, and with
 * set_default the CRI default runtime. Imported by the main file. */
char *engine_containerd_dropin(const char *name, const char *runtime_path, bool set_default);
/* CRI-O: [crio.runtime.runtimes.<name>] with runtime_path. */
char *engine_crio_dropin(const char *name, const char *runtime_path, bool set_default);
/* Podman's OCI hooks.d JSON (version 1.0.0): hook_path as prestart hook for
 * every container, with an explicit env (PATH, GCTK_CONFIG when given). */
char *engine_podman_hook(const char *hook_path, const char *config);
/* Writes text to path (atomically; directories created) unless it already
 * holds exactly that, or with remove takes the file away. *changed says
 * whether something changed (or would, with dry_run). */
int engine_dropin_write(const char *path, const char *text, bool remove, bool dry_run,
                        bool *changed, gctk_error **err);
/* Whether a containerd main config names an `imports` entry (a textual
 * check: the main file is never rewritten). */
bool engine_containerd_has_imports(const char *main_config);

/* ---- the engines ------------------------------------------------------------------ */

struct engine {
    const char *name;        /* "docker", "containerd", "crio", "podman" */
    const char *config_path; /* the file configure edits by default */
    /* edits path as daemonjson_configure does (same flags and results) */
    int (*configure)(const char *path, const struct runtime_entry *rt, unsigned flags,
                     bool *changed, char **text, gctk_error **err);
    const char *restart; /* the command that applies the change; NULL: none needed */
    const char *binary;  /* what rt->path names by default: gctk-runtime, or gctk-hook */
};

/* The engine of that name, or NULL. */
const struct engine *engine_find(const char *name);
/* "docker, containerd, crio and podman", for messages */
const char *engine_names(void);

#endif
