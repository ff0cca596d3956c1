/* Registering gctk with a container engine (`gctk runtime configure`): one
 * table entry per engine, and each engine's configuration.
 *
 * Docker: dockerd's /etc/docker/daemon.json is edited in place: the gctk
 * runtime ("runtimes"), the default ("default-runtime"), CDI ("features":
 * {"cdi": true}), Swarm's generic resources, and taking them out again.
 * Every other key is kept, in its order; the file is replaced atomically,
 * with a backup. containerd, CRI-O and Podman get a file of their own (a
 * drop-in, a hooks.d entry); containerd's main file gets only the import of
 * the drop-in, inserted as text and checked (lib/engines/cri.c says how). */
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
#define ENGINE_CRIO_CONFIG "/etc/crio/crio.conf"
#define ENGINE_PODMAN_HOOK "/usr/share/containers/oci/hooks.d/oci-gctk-hook.json"

/* Where containerd's configuration is read from (NVIDIA's --config-source):
 * `containerd config dump` when containerd is found (AUTO) or always
 * (COMMAND), or the main file and its imports alone (FILE). */
enum config_source { CONFIG_SOURCE_AUTO, CONFIG_SOURCE_COMMAND, CONFIG_SOURCE_FILE };
/* "command" or "file"; -1 for anything else */
int engine_config_source_parse(const char *s, enum config_source *out);

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
    /* containerd and CRI-O: gctk's drop-in (NULL: the engine's default
     * path); the engine's program whose configuration is read (NULL:
     * containerd on PATH) and how it is read */
    const char *dropin;
    const char *executable;
    enum config_source source;
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

/* containerd (lib/engines/cri.c). The configure functions take the main
 * file's path (NVIDIA's --config) and rt->dropin; containerd's edits both:
 * the drop-in, and the import of it in the main file when it lacks one.
 *
 * The drop-in, for the effective configuration `effective` (a `containerd
 * config dump`, without gctk's drop-in, as JSON): version 2 (containerd 1.6,
 * 1.7) or 3 (2.x, whose CRI runtime plugin is io.containerd.cri.v1.runtime);
 * the CRI plugin's whole table, plus the runtime rt->name (a copy of the
 * default runtime's table if it is runc's shim, else runc's, with BinaryName
 * rt->path), the CDI container annotations (cdi.k8s.io/...) where the CRI
 * does not apply CDI itself (no enable_cdi in its table: 1.6), CDI on where it can
 * (or with rt->cdi), and default_runtime_name with rt->set_default. A
 * version-1 configuration is refused. file_version is the main file's
 * version (0: none): containerd 2.x on a version-2 file gets a drop-in of
 * version 2 with the runtime alone (2.x merges imports key by key, and a
 * drop-in newer than the main file stops its migration). */
int containerd_dropin_render(const json_t *effective, const struct runtime_entry *rt,
                             json_int_t file_version, json_t **out, gctk_error **err);
/* The effective configuration without rt->dropin, by rt->source. */
int containerd_effective(const char *main_path, const struct runtime_entry *rt, json_t **out,
                         gctk_error **err);
/* Whether the main file's document imports the drop-in (an entry naming
 * it, or a pattern matching it, relative to the main file's directory). */
bool containerd_imports_dropin(const json_t *main_doc, const char *main_path, const char *dropin);
/* The same for the main file at main_path (false when it cannot be read). */
bool containerd_main_imports(const char *main_path, const char *dropin);
/* The main file's text (name for messages; NULL: there is no main file)
 * with the drop-in imported: a line `imports = [...]` first when it has none
 * (with `version` when the file is blank or missing), else an entry first in
 * its imports array, each marked with a comment. *out is NULL when it imports the drop-in already.
 * The result must parse to the old document plus the import, or nothing is returned but an error
 * saying what to add by hand. */
int containerd_imports_add(const char *name, const char *text, const char *main_path,
                           const char *dropin, json_int_t version, char **out, gctk_error **err);
/* The text containerd_imports_add inserted, taken out again (checked the
 * same way); *out NULL when it is not there. *whole: the file is exactly the
 * one gctk wrote where there was none, which the caller removes. */
int containerd_imports_remove(const char *name, const char *text, const char *dropin, char **out,
                              bool *whole, gctk_error **err);
int containerd_configure(const char *path, const struct runtime_entry *rt, unsigned flags,
                         bool *changed, char **text, gctk_error **err);

/* CRI-O reads its drop-ins key by key: the drop-in holds the runtime (a copy
 * of the default runtime's table, or crun's or runc's, with runtime_path
 * rt->path and runtime_type "oci") and, with rt->set_default,
 * default_runtime. effective: the main file and crio.conf.d merged. */
int crio_dropin_render(const json_t *effective, const struct runtime_entry *rt, json_t **out,
                       gctk_error **err);
int crio_effective(const char *main_path, const char *dropin, json_t **out, gctk_error **err);
int crio_configure(const char *path, const struct runtime_entry *rt, unsigned flags, bool *changed,
                   char **text, gctk_error **err);

/* Podman's OCI hooks.d JSON (version 1.0.0): hook_path as prestart hook for
 * every container, with an explicit env: PATH, then settings ("NAME=VALUE"
 * of config_settings_env; may be NULL). */
char *engine_podman_hook(const char *hook_path, const struct strv *settings);
/* Writes text to path (atomically; directories created) unless it already
 * holds exactly that, or with remove takes the file away. *changed says
 * whether something changed (or would, with dry_run). */
int engine_dropin_write(const char *path, const char *text, bool remove, bool dry_run,
                        bool *changed, gctk_error **err);

/* ---- the engines ------------------------------------------------------------------ */

struct engine {
    const char *name;        /* "docker", "containerd", "crio", "podman" */
    const char *config_path; /* the file configure reads (and edits) by default */
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
