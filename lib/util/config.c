/* gctk's settings file: JSON with a fixed set of keys; unknown keys are errors
 * so that a typo does not silently keep a default. */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json.h"

#ifndef GCTK_DEFAULT_CONFIG
#define GCTK_DEFAULT_CONFIG "/etc/gctk/config.json"
#endif

void config_clear(struct gctk_config *c)
{
    free(c->path);
    free(c->root);
    free(c->log);
    free(c->runtime);
    free(c->hook_path);
    free(c->swarm_resource);
    free(c->discovery_cache);
    free(c->cdi_spec_owner);
    *c = (struct gctk_config){0};
}

static void set_defaults(struct gctk_config *c)
{
    *c = (struct gctk_config){
        .root = xstrdup("/"),
        .ldconfig = LDCONFIG_INTERNAL,
        .log = xstrdup(GCTK_DEFAULT_LOG),
        .allow_unprivileged_env = true,
        .cuda_compat = true,
        .runtime = xstrdup("runc"),
        /* no Swarm resource unless set, as NVIDIA's swarm-resource */
        .discovery_cache = xstrdup(GCTK_DEFAULT_CACHE),
    };
}

char *config_default_json(void)
{
    return xasprintf("{\n"
                     "  \"root\": \"/\",\n"
                     "  \"ldconfig\": \"internal\",\n"
                     "  \"log\": \"%s\",\n"
                     "  \"accept-nvidia-visible-devices-envvar-when-unprivileged\": true,\n"
                     "  \"accept-nvidia-visible-devices-as-volume-mounts\": false,\n"
                     "  \"no-cgroups\": false,\n"
                     "  \"disable-require\": false,\n"
                     "  \"cuda-compat\": true,\n"
                     "  \"runtime\": \"runc\",\n"
                     "  \"swarm-resource\": null,\n"
                     "  \"cdi-spec-owner\": null,\n"
                     "  \"discovery-cache\": \"%s\"\n"
                     "}\n",
                     GCTK_DEFAULT_LOG, GCTK_DEFAULT_CACHE);
}

static int get_string(json_t *v, const char *file, const char *key, bool nullable, char **dst,
                      gctk_error **err)
{
    if (nullable && json_is_null(v)) {
        free(*dst);
        *dst = NULL;
        return 0;
    }
    if (!json_is_string(v) || (!nullable && json_string_length(v) == 0))
        return gctk_fail(err, 0, "`%s`: `%s` must be a %sstring", file, key,
                         nullable ? "string or null, not an empty " : "non-empty ");
    free(*dst);
    *dst = xstrdup(json_string_value(v));
    return 0;
}

static int get_bool(json_t *v, const char *file, const char *key, bool *dst, gctk_error **err)
{
    if (!json_is_boolean(v))
        return gctk_fail(err, 0, "`%s`: `%s` must be true or false", file, key);
    *dst = json_is_true(v);
    return 0;
}

/* NVIDIA's name of the unprivileged-environment policy, and gctk's older
 * one: one setting, which both may give only once */
#define ENVVAR_UNPRIVILEGED "accept-nvidia-visible-devices-envvar-when-unprivileged"
#define ENVVAR_UNPRIVILEGED_OLD "allow-unprivileged-env"

static int apply(struct gctk_config *c, json_t *obj, const char *file, gctk_error **err)
{
    const char *key;
    json_t *v;
    json_t *nv = json_object_get(obj, ENVVAR_UNPRIVILEGED);
    json_t *old = json_object_get(obj, ENVVAR_UNPRIVILEGED_OLD);
    if (nv != NULL && old != NULL && !json_equal(nv, old))
        return gctk_fail(err, 0,
                         "`%s`: `" ENVVAR_UNPRIVILEGED_OLD
                         "` is the old name of `" ENVVAR_UNPRIVILEGED
                         "`, and the two differ: keep one",
                         file);
    json_object_foreach(obj, key, v)
    {
        int r;
        if (strcmp(key, "root") == 0) {
            r = get_string(v, file, key, false, &c->root, err);
        } else if (strcmp(key, "ldconfig") == 0) {
            const char *s = json_string_value(v);
            if (s != NULL && strcmp(s, "internal") == 0)
                c->ldconfig = LDCONFIG_INTERNAL;
            else if (s != NULL && strcmp(s, "none") == 0)
                c->ldconfig = LDCONFIG_NONE;
            else
                return gctk_fail(err, 0, "`%s`: `ldconfig` must be \"internal\" or \"none\"", file);
            r = 0;
        } else if (strcmp(key, "log") == 0) {
            r = get_string(v, file, key, true, &c->log, err);
        } else if (strcmp(key, ENVVAR_UNPRIVILEGED) == 0 ||
                   strcmp(key, ENVVAR_UNPRIVILEGED_OLD) == 0) {
            r = get_bool(v, file, key, &c->allow_unprivileged_env, err);
        } else if (strcmp(key, "accept-nvidia-visible-devices-as-volume-mounts") == 0) {
            r = get_bool(v, file, key, &c->accept_volume_mounts, err);
        } else if (strcmp(key, "no-cgroups") == 0) {
            r = get_bool(v, file, key, &c->no_cgroups, err);
        } else if (strcmp(key, "disable-require") == 0) {
            r = get_bool(v, file, key, &c->disable_require, err);
        } else if (strcmp(key, "cuda-compat") == 0) {
            r = get_bool(v, file, key, &c->cuda_compat, err);
        } else if (strcmp(key, "runtime") == 0) {
            r = get_string(v, file, key, false, &c->runtime, err);
        } else if (strcmp(key, "hook-path") == 0) {
            r = get_string(v, file, key, true, &c->hook_path, err);
        } else if (strcmp(key, "swarm-resource") == 0) {
            r = get_string(v, file, key, true, &c->swarm_resource, err);
        } else if (strcmp(key, "discovery-cache") == 0) {
            r = get_string(v, file, key, true, &c->discovery_cache, err);
            if (r == 0 && c->discovery_cache != NULL && c->discovery_cache[0] != '/')
                return gctk_fail(
                    err, 0, "`%s`: `discovery-cache` must be an absolute path or null (off)", file);
        } else if (strcmp(key, "cdi-spec-owner") == 0) {
            r = get_string(v, file, key, true, &c->cdi_spec_owner, err);
        } else {
            return gctk_fail(
                err, 0, "`%s`: unknown setting `%s`: see gctk.conf(5) for the settings", file, key);
        }
        if (r < 0)
            return -1;
    }
    return 0;
}

int config_cdi_spec_owner(const struct gctk_config *c, uid_t *out, gctk_error **err)
{
    const char *name = c->cdi_spec_owner;
    if (name == NULL || strcmp(name, "root") == 0) {
        *out = 0;
        return 0;
    }
    char *end = NULL;
    errno = 0;
    unsigned long n = strtoul(name, &end, 10);
    if (name[0] >= '0' && name[0] <= '9' && *end == '\0' && errno == 0 && n < (uid_t)-1) {
        *out = (uid_t)n;
        return 0;
    }
    /* a name: looked up only by what reads CDI specs, never by the hook */
    struct passwd pw, *found = NULL;
    char buf[4096];
    int rc = getpwnam_r(name, &pw, buf, sizeof(buf), &found);
    if (found == NULL) {
        gctk_refuse(err, rc, "`%s`: `cdi-spec-owner`: no user `%s`",
                    c->path != NULL ? c->path : "gctk.conf", name);
        return gctk_hint(err, "name an existing user or uid, or null");
    }
    *out = pw.pw_uid;
    return 0;
}

int config_load(const char *path, struct gctk_config *out, gctk_error **err)
{
    bool explicit = path != NULL;
    if (path == NULL) {
        const char *env = getenv("GCTK_CONFIG");
        if (env != NULL && env[0] != '\0') {
            path = env;
            explicit = true;
        } else {
            path = GCTK_DEFAULT_CONFIG;
        }
    }
    struct gctk_config c;
    set_defaults(&c);
    cleanup_free char *what = xasprintf("config `%s`", path);
    cleanup_free char *text = NULL;
    size_t len = 0;
    cleanup_error gctk_error *e = NULL;
    json_t *obj = NULL;
    if (read_file(path, JSON_MAX, &text, &len, &e) < 0) {
        if (!explicit && e->code == ENOENT) {
            *out = c;
            return 0;
        }
        config_clear(&c);
        return gctk_fail(err, e->code, "%s", what);
    }
    if (json_parse(what, text, len, &obj, &e) < 0) {
        config_clear(&c);
        return gctk_fail(err, 0, "%s: fix the file", e->msg);
    }
    int r = json_is_object(obj) ? apply(&c, obj, path, err)
                                : gctk_fail(err, 0, "config `%s`: not a JSON object", path);
    json_decref(obj);
    if (r < 0) {
        config_clear(&c);
        return -1;
    }
    c.path = xstrdup(path);
    c.digest = hash64(text, len, HASH64_INIT);
    *out = c;
    return 0;
}
