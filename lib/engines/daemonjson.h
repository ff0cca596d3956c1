/* Editing dockerd's /etc/docker/daemon.json: registering the gctk runtime
 * ("runtimes"), making it the default ("default-runtime"), turning on CDI
 * ("features": {"cdi": true}), and taking it out again. Every other key is
 * kept, in its order; the file is replaced atomically, with a backup. */
#ifndef GCTK_DAEMONJSON_H
#define GCTK_DAEMONJSON_H

#include <jansson.h>
#include <stdbool.h>

#include "json.h"
#include "util.h"

#define DAEMONJSON_DEFAULT_PATH "/etc/docker/daemon.json"

struct runtime_entry {
    const char *name;  /* "nvidia" */
    const char *path;  /* the runtime executable */
    bool set_default;  /* also "default-runtime": name */
    bool cdi;          /* also "features": {"cdi": true} */
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

#endif
