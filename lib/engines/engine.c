/* The engines gctk registers with (engine.h): Docker's daemon.json edited
 * through jansson, Podman's hooks.d file written whole; containerd and CRI-O
 * are lib/engines/cri.c's.
 *
 * jansson (2.8 and later, Debian ships 2.14) keeps object keys in insertion
 * order whatever the flags, so a load/modify/dump round trip keeps the
 * user's order; new keys go to the end. Duplicated keys are refused on load
 * (json_parse): rewriting such a file would silently drop one of the two
 * values. */
#include <string.h>

#include "cdi.h"
#include "config.h"
#include "engine.h"

static bool blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

int json_config_parse(const char *name, const char *data, size_t len, json_t **out,
                      gctk_error **err)
{
    if (memchr(data, '\0', len) != NULL)
        return gctk_fail(err, 0,
                         "`%s`: not a text file (it holds a NUL byte): fix the file or "
                         "move it away",
                         name);
    json_t *cfg = NULL;
    if (blank(data, len)) {
        cfg = json_object();
    } else {
        cleanup_free char *what = xasprintf("`%s`", name);
        cleanup_error gctk_error *e = NULL;
        if (json_parse(what, data, len, &cfg, &e) < 0)
            return gctk_fail(err, 0, "%s: fix the file or move it away", e->msg);
        if (!json_is_object(cfg)) {
            json_decref(cfg);
            return gctk_fail(err, 0,
                             "`%s`: the top level is not a JSON object: fix the file or "
                             "move it away",
                             name);
        }
    }
    *out = cfg;
    return 0;
}

/* A JSON settings file (a missing one is an empty object); for_rewrite: the
 * file gctk is about to replace, which must be a regular file (a symlink, a
 * FIFO or a device there is refused without being opened, as write_file()
 * would refuse it). */
static int load_json_config(const char *path, bool for_rewrite, json_t **out, bool *existed,
                            gctk_error **err)
{
    cleanup_free char *data = NULL;
    size_t len = 0;
    cleanup_error gctk_error *e = NULL;
    int r = for_rewrite ? read_regular_file(path, JSON_MAX, &data, &len, &e)
                        : read_file(path, JSON_MAX, &data, &len, &e);
    if (r < 0) {
        if (e->code != ENOENT)
            return gctk_error_propagate(err, &e);
        *out = json_object();
        if (existed != NULL)
            *existed = false;
        return 0;
    }
    if (json_config_parse(path, data, len, out, err) < 0)
        return -1;
    if (existed != NULL)
        *existed = true;
    return 0;
}

int json_config_load(const char *path, json_t **out, bool *existed, gctk_error **err)
{
    return load_json_config(path, false, out, existed, err);
}

char *json_config_dump(const json_t *cfg)
{
    cleanup_free char *s = json_dumps(cfg, JSON_INDENT(4) | JSON_ENCODE_ANY);
    if (s == NULL)
        abort();
    return xasprintf("%s\n", s);
}

/* cfg[key] as an object, created when absent; NULL (and an error) when it is
 * something else, which gctk must not overwrite. */
static json_t *object_member(json_t *cfg, const char *key, bool create, gctk_error **err)
{
    json_t *v = json_object_get(cfg, key);
    if (v == NULL && create) {
        v = json_object();
        json_object_set_new(cfg, key, v);
    }
    if (v != NULL && !json_is_object(v)) {
        gctk_fail(err, 0, "\"%s\" is not a JSON object: fix it or move the file away", key);
        return NULL;
    }
    return v;
}

int daemonjson_add_runtime(json_t *cfg, const struct runtime_entry *rt, bool *changed,
                           gctk_error **err)
{
    /* check everything before changing anything */
    json_t *runtimes = json_object_get(cfg, "runtimes");
    json_t *features = json_object_get(cfg, "features");
    if (runtimes != NULL && !json_is_object(runtimes))
        return gctk_fail(err, 0, "\"runtimes\" is not a JSON object: fix it or move the file away");
    if (rt->cdi && features != NULL && !json_is_object(features))
        return gctk_fail(err, 0, "\"features\" is not a JSON object: fix it or move the file away");
    json_t *generic = json_object_get(cfg, "node-generic-resources");
    if (rt->swarm_name != NULL && generic != NULL && !json_is_array(generic))
        return gctk_fail(err, 0,
                         "\"node-generic-resources\" is not a JSON array: fix it or "
                         "move the file away");
    cleanup_json json_t *before = json_deep_copy(cfg);
    runtimes = object_member(cfg, "runtimes", true, err);
    json_t *entry = json_object_get(runtimes, rt->name);
    if (entry == NULL || !json_is_object(entry)) {
        entry = json_object();
        json_object_set_new(runtimes, rt->name, entry);
    }
    json_object_set_new(entry, "path", json_string(rt->path));
    /* keep args someone set on purpose; add the empty list dockerd shows */
    if (json_object_get(entry, "args") == NULL)
        json_object_set_new(entry, "args", json_array());
    if (rt->set_default)
        json_object_set_new(cfg, "default-runtime", json_string(rt->name));
    if (rt->cdi) {
        features = object_member(cfg, "features", true, err);
        json_object_set_new(features, "cdi", json_true());
    }
    if (rt->swarm_name != NULL) {
        /* this host's GPUs replace what an earlier run advertised under the
         * same name; other generic resources stay */
        json_t *list = json_array();
        size_t i;
        json_t *v;
        size_t n = strlen(rt->swarm_name);
        json_array_foreach(generic, i, v)
        {
            const char *s = json_string_value(v);
            if (s == NULL || strncmp(s, rt->swarm_name, n) != 0 || s[n] != '=')
                json_array_append(list, v);
        }
        for (i = 0; i < rt->n_swarm_ids; i++)
            json_array_append_new(list, json_sprintf("%s=%s", rt->swarm_name, rt->swarm_ids[i]));
        json_object_set_new(cfg, "node-generic-resources", list);
    }
    *changed = !json_equal(before, cfg);
    return 0;
}

int daemonjson_remove_runtime(json_t *cfg, const char *name, bool *changed, gctk_error **err)
{
    json_t *runtimes = json_object_get(cfg, "runtimes");
    if (runtimes != NULL && !json_is_object(runtimes))
        return gctk_fail(err, 0, "\"runtimes\" is not a JSON object: fix it or move the file away");
    *changed = false;
    if (runtimes != NULL && json_object_get(runtimes, name) != NULL) {
        json_object_del(runtimes, name);
        if (json_object_size(runtimes) == 0)
            json_object_del(cfg, "runtimes");
        *changed = true;
    }
    json_t *def = json_object_get(cfg, "default-runtime");
    if (json_is_string(def) && strcmp(json_string_value(def), name) == 0) {
        json_object_del(cfg, "default-runtime");
        *changed = true;
    }
    return 0;
}

int daemonjson_configure(const char *path, const struct runtime_entry *rt, unsigned flags,
                         bool *changed, char **text, gctk_error **err)
{
    cleanup_json json_t *cfg = NULL;
    bool existed = false, diff = false;
    if (load_json_config(path, true, &cfg, &existed, err) < 0)
        return -1;
    int r = (flags & CONFIG_REMOVE) ? daemonjson_remove_runtime(cfg, rt->name, &diff, err)
                                    : daemonjson_add_runtime(cfg, rt, &diff, err);
    if (r < 0)
        return gctk_wrap(err, "`%s`", path);
    cleanup_free char *out = json_config_dump(cfg);
    /* dockerd's file keeps its mode and owner, and its old content in .bak */
    const struct write_opts o = {.mode = 0644, .keep = true, .backup = existed};
    if (diff && !(flags & CONFIG_DRY_RUN) && write_file(path, out, strlen(out), &o, err) < 0)
        return -1;
    *changed = diff;
    if (text != NULL)
        *text = steal_pointer(&out);
    return 0;
}

/* ---- Podman, and the drop-ins of containerd and CRI-O
 * ---------------------------------------------------- */

char *engine_podman_hook(const char *hook_path, const struct strv *settings)
{
    json_t *env = cdi_hook_env(settings);
    /* every container: the hook reads config.json and leaves alone those
     * that ask for no GPU (NVIDIA_VISIBLE_DEVICES unset) */
    cleanup_json json_t *h =
        json_pack("{s:s, s:{s:s, s:[s,s], s:o}, s:{s:b}, s:[s]}", "version", "1.0.0", "hook",
                  "path", hook_path, "args", "gctk-hook", "prestart", "env", env, "when", "always",
                  1, "stages", "prestart");
    cleanup_free char *s = json_dumps(h, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    return xasprintf("%s\n", s);
}

int engine_dropin_write(const char *path, const char *text, bool remove, bool dry_run,
                        bool *changed, gctk_error **err)
{
    cleanup_free char *old = NULL;
    size_t len = 0;
    cleanup_error gctk_error *e = NULL;
    bool exists = read_regular_file(path, 1u << 20, &old, &len, &e) == 0;
    if (!exists && e->code != ENOENT)
        return gctk_error_propagate(err, &e);
    if (remove) {
        *changed = exists;
        if (exists && !dry_run && unlink(path) < 0)
            return gctk_fail(err, errno, "remove `%s`", path);
        return 0;
    }
    *changed = !exists || strcmp(old, text) != 0;
    if (!*changed || dry_run)
        return 0;
    /* conf.d and hooks.d are often missing: write_file creates them */
    const struct write_opts o = {.mode = 0644};
    return write_file(path, text, strlen(text), &o, err);
}

/* ---- the engines ------------------------------------------------------------------ */

/* Podman: a file of its own, written whole */
static int dropin(const char *path, char *owned_text, unsigned flags, bool *changed, char **text,
                  gctk_error **err)
{
    cleanup_free char *t = owned_text;
    if (engine_dropin_write(path, t, flags & CONFIG_REMOVE, flags & CONFIG_DRY_RUN, changed, err) <
        0)
        return -1;
    if (text != NULL)
        *text = (flags & CONFIG_REMOVE) ? xstrdup("") : steal_pointer(&t);
    return 0;
}

static int podman_configure(const char *path, const struct runtime_entry *rt, unsigned flags,
                            bool *changed, char **text, gctk_error **err)
{
    cleanup_strv struct strv settings = {0};
    config_settings_env(&settings);
    return dropin(path, engine_podman_hook(rt->path, &settings), flags, changed, text, err);
}

static const struct engine engines[] = {
    {"docker", ENGINE_DOCKER_CONFIG, daemonjson_configure, "systemctl restart docker",
     "gctk-runtime"},
    {"containerd", ENGINE_CONTAINERD_CONFIG, containerd_configure, "systemctl restart containerd",
     "gctk-runtime"},
    {"crio", ENGINE_CRIO_CONFIG, crio_configure, "systemctl restart crio", "gctk-runtime"},
    /* Podman reads hooks.d for every container: no restart, no runtime */
    {"podman", ENGINE_PODMAN_HOOK, podman_configure, NULL, "gctk-hook"},
};

const struct engine *engine_find(const char *name)
{
    for (size_t i = 0; i < GCTK_ARRAY_LEN(engines); i++)
        if (strcmp(engines[i].name, name) == 0)
            return &engines[i];
    return NULL;
}

const char *engine_names(void)
{
    return "docker, containerd, crio and podman";
}
