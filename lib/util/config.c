/* gctk's settings: its own file (JSON with a fixed set of keys; unknown keys
 * are errors so that a typo does not silently keep a default), and NVIDIA's
 * config.toml translated into the same keys (nvconfig.c). Both are applied
 * by apply(), NVIDIA's first and gctk's over it: the one rule of precedence
 * (config.h). */
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "json.h"
#include "toml.h"
#include "version.h"

#ifndef GCTK_DEFAULT_CONFIG
#define GCTK_DEFAULT_CONFIG "/etc/gctk/config.json"
#endif

/* NVIDIA's config.toml is a few kilobytes; this bounds what the hook reads */
#define NVIDIA_CONFIG_MAX (1u << 20)

void config_clear(struct gctk_config *c)
{
    free(c->path);
    free(c->nvidia_path);
    free(c->root);
    free(c->log);
    free(c->supported_driver_capabilities);
    strv_clear(&c->runtimes);
    free(c->hook_path);
    free(c->swarm_resource);
    free(c->discovery_cache);
    free(c->cdi_spec_owner);
    free(c->cdi_default_kind);
    strv_clear(&c->cdi_spec_dirs);
    strv_clear(&c->cdi_annotation_prefixes);
    *c = (struct gctk_config){0};
}

static void set_defaults(struct gctk_config *c)
{
    *c = (struct gctk_config){
        .root = xstrdup("/"),
        .ldconfig = LDCONFIG_INTERNAL,
        .log = xstrdup(GCTK_DEFAULT_LOG),
        .accept_nvidia_visible_devices_envvar_when_unprivileged = true,
        .cuda_compat = true,
        .supported_driver_capabilities = xstrdup("all"),
        /* no Swarm resource unless set, as NVIDIA's swarm-resource */
        .runtime_mode = RUNTIME_MODE_AUTO,
        .cdi_default_kind = xstrdup("nvidia.com/gpu"),
        .discovery_cache = xstrdup(GCTK_DEFAULT_CACHE),
    };
    strv_push(&c->runtimes, xstrdup("runc"));
    strv_push(&c->cdi_spec_dirs, xstrdup("/etc/cdi"));
    strv_push(&c->cdi_spec_dirs, xstrdup("/var/run/cdi"));
    strv_push(&c->cdi_annotation_prefixes, xstrdup("cdi.k8s.io/"));
}

void config_settings_env(struct strv *out)
{
    static const char *const names[] = {"GCTK_CONFIG", NVIDIA_CONFIG_PATH_ENV, "XDG_CONFIG_HOME"};
    char cwd[PATH_MAX];
    bool have_cwd = false, tried = false;
    for (size_t i = 0; i < GCTK_ARRAY_LEN(names); i++) {
        const char *v = getenv(names[i]);
        if (v == NULL || v[0] == '\0')
            continue;
        /* a relative path is this process's working directory's: the hook
         * that gets it runs in another */
        if (v[0] != '/' && !tried) {
            have_cwd = getcwd(cwd, sizeof(cwd)) != NULL;
            tried = true;
        }
        cleanup_free char *abs =
            v[0] != '/' && have_cwd ? xasprintf("%s/%s", strcmp(cwd, "/") ? cwd : "", v) : NULL;
        strv_push(out, xasprintf("%s=%s", names[i], abs != NULL ? abs : v));
    }
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
                     "  \"supported-driver-capabilities\": \"all\",\n"
                     "  \"runtime\": \"runc\",\n"
                     "  \"hook-path\": null,\n"
                     "  \"swarm-resource\": null,\n"
                     "  \"runtime-mode\": \"auto\",\n"
                     "  \"cdi-default-kind\": \"nvidia.com/gpu\",\n"
                     "  \"cdi-spec-dirs\": [\"/etc/cdi\", \"/var/run/cdi\"],\n"
                     "  \"cdi-spec-owner\": null,\n"
                     "  \"cdi-annotation-prefixes\": [\"cdi.k8s.io/\"],\n"
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

/* A non-empty array of non-empty strings (absolute paths when absolute); a
 * single string too when one_ok. */
static int get_list(json_t *v, const char *file, const char *key, bool absolute, bool one_ok,
                    struct strv *dst, gctk_error **err)
{
    cleanup_strv struct strv list = {0};
    bool ok = true;
    if (one_ok && json_is_string(v)) {
        strv_push(&list, xstrdup(json_string_value(v)));
    } else if (json_is_array(v)) {
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item)
        {
            const char *s = json_string_value(item);
            ok = ok && s != NULL;
            if (s != NULL)
                strv_push(&list, xstrdup(s));
        }
    }
    ok = ok && list.len > 0;
    for (size_t i = 0; ok && i < list.len; i++)
        ok = list.items[i][0] != '\0' && (!absolute || list.items[i][0] == '/');
    if (!ok) {
        return gctk_fail(err, 0, "`%s`: `%s` must be %sa non-empty array of %s", file, key,
                         one_ok ? "a non-empty string or " : "",
                         absolute ? "absolute paths" : "non-empty strings");
    }
    strv_clear(dst);
    *dst = list;
    list = (struct strv){0};
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
            r = get_bool(v, file, key, &c->accept_nvidia_visible_devices_envvar_when_unprivileged,
                         err);
        } else if (strcmp(key, "accept-nvidia-visible-devices-as-volume-mounts") == 0) {
            r = get_bool(v, file, key, &c->accept_nvidia_visible_devices_as_volume_mounts, err);
        } else if (strcmp(key, "no-cgroups") == 0) {
            r = get_bool(v, file, key, &c->no_cgroups, err);
        } else if (strcmp(key, "disable-require") == 0) {
            r = get_bool(v, file, key, &c->disable_require, err);
        } else if (strcmp(key, "cuda-compat") == 0) {
            r = get_bool(v, file, key, &c->cuda_compat, err);
        } else if (strcmp(key, "supported-driver-capabilities") == 0) {
            r = get_string(v, file, key, false, &c->supported_driver_capabilities, err);
        } else if (strcmp(key, "runtime") == 0) {
            r = get_list(v, file, key, false, true, &c->runtimes, err);
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
        } else if (strcmp(key, "runtime-mode") == 0) {
            const char *s = json_string_value(v);
            if (s != NULL && strcmp(s, "auto") == 0)
                c->runtime_mode = RUNTIME_MODE_AUTO;
            else if (s != NULL && strcmp(s, "cdi") == 0)
                c->runtime_mode = RUNTIME_MODE_CDI;
            else
                return gctk_fail(err, 0, "`%s`: `runtime-mode` must be \"auto\" or \"cdi\"", file);
            r = 0;
        } else if (strcmp(key, "cdi-default-kind") == 0) {
            r = get_string(v, file, key, false, &c->cdi_default_kind, err);
            if (r == 0 && strchr(c->cdi_default_kind, '/') == NULL)
                return gctk_fail(err, 0,
                                 "`%s`: `cdi-default-kind` must be a CDI kind, vendor/class "
                                 "(\"nvidia.com/gpu\")",
                                 file);
        } else if (strcmp(key, "cdi-spec-dirs") == 0) {
            r = get_list(v, file, key, true, false, &c->cdi_spec_dirs, err);
        } else if (strcmp(key, "cdi-annotation-prefixes") == 0) {
            r = get_list(v, file, key, false, false, &c->cdi_annotation_prefixes, err);
        } else {
            return gctk_fail(
                err, 0, "`%s`: unknown setting `%s`: see gctk.conf(5) for the settings", file, key);
        }
        if (r < 0)
            return -1;
    }
    return 0;
}

/* gctk's own file: *obj NULL when it is absent and was not asked for by name. */
static int load_own(const char *path, bool explicit, json_t **obj, unsigned long long *digest,
                    gctk_error **err)
{
    cleanup_free char *what = xasprintf("config `%s`", path);
    cleanup_free char *text = NULL;
    size_t len = 0;
    cleanup_error gctk_error *e = NULL;
    *obj = NULL;
    if (read_file(path, JSON_MAX, &text, &len, &e) < 0) {
        if (!explicit && e->code == ENOENT)
            return 0;
        return gctk_fail(err, e->code, "%s", what);
    }
    *digest = hash64(text, len, HASH64_INIT);
    if (json_parse(what, text, len, obj, &e) < 0)
        return gctk_fail(err, 0, "%s: fix the file", e->msg);
    if (!json_is_object(*obj)) {
        json_decref(steal_pointer(obj));
        return gctk_fail(err, 0, "config `%s`: not a JSON object", path);
    }
    return 0;
}

/* NVIDIA's file translated once. Loading the TOML module (the C++ runtime
 * with it) and parsing the file cost a hook some 1.4 ms, as much as the rest
 * of its work, on every host that kept NVIDIA's file. The translation
 * depends only on gctk's version, the file's path (in its messages) and its
 * text: an entry holds all three in full, compared byte for byte with what
 * was just read before the settings after them are used. Entries live in
 * the discovery cache's directory (root's alone: open_private_dir_at),
 * named by a hash of the key; off with that cache. Any doubt (another
 * owner, a mode, a size, a text that differs, settings that do not parse)
 * means the module, and the entry replaced. A cache is never an error. */
#define NVCACHE_PREFIX "gctk-nvconfig 1\t"
#define NVCACHE_MAX (4u << 20)
#define NVCACHE_ENTRIES 16

/* The discovery cache's directory that gctk's own file (path; own NULL:
 * absent) sets, read as config_load() reads it (the defaults, then apply());
 * NULL: off, or a file apply() refuses (config_load() then fails). */
static char *nvcache_dir(json_t *own, const char *path)
{
    struct gctk_config c;
    set_defaults(&c);
    char *dir =
        own == NULL || apply(&c, own, path, NULL) == 0 ? steal_pointer(&c.discovery_cache) : NULL;
    config_clear(&c);
    return dir;
}

/* The entry's key, and its name in *name; false for a path or text it
 * cannot hold (a tab or newline in the path, a NUL in the text). */
static bool nvcache_key(const char *path, const char *text, size_t len, struct strbuf *key,
                        char **name)
{
    if (strpbrk(path, "\t\n") != NULL || strlen(text) != len)
        return false;
    strbuf_addf(key, NVCACHE_PREFIX "%s\t%s\t%zu\n%s\n", GCTK_VERSION, path, len, text);
    *name = xasprintf("nvconfig-%016llx", hash64(key->s, key->len, HASH64_INIT));
    return true;
}

static json_t *nvcache_get(int dirfd, const char *name, const struct strbuf *key)
{
    size_t len = 0;
    cleanup_free char *why = NULL;
    cleanup_free char *text = read_private_entry(dirfd, name, NVCACHE_MAX, &len, &why);
    if (text == NULL || len <= key->len || memcmp(text, key->s, key->len) != 0)
        return NULL;
    json_t *settings = NULL;
    cleanup_error gctk_error *e = NULL;
    if (json_parse(name, text + key->len, len - key->len, &settings, &e) < 0)
        return NULL;
    if (!json_is_object(settings)) {
        json_decref(settings);
        return NULL;
    }
    return settings;
}

static void nvcache_put(int dirfd, const char *name, const struct strbuf *key,
                        const json_t *settings)
{
    cleanup_free char *json = json_dumps(settings, JSON_COMPACT | JSON_SORT_KEYS);
    if (json == NULL)
        return;
    cleanup_strbuf struct strbuf entry = {0};
    strbuf_addf(&entry, "%s%s\n", key->s, json);
    prune_entries(dirfd, "nvconfig-", name, NVCACHE_ENTRIES);
    const struct write_opts o = {.mode = 0600, .no_sync = true};
    write_file_at(dirfd, name, entry.s, entry.len, &o, NULL);
}

/* NVIDIA's config.toml, translated: *settings NULL when there is none. Only
 * here is the TOML module loaded, and only for a file that exists and whose
 * translation is not in the cache directory that gctk's own file (own, read
 * from own_path) sets. A report asks for the module's reading itself. */
static int load_nvidia(const char *root, json_t *own, const char *own_path, char **found,
                       json_t **settings, struct nvkey_list *report, unsigned long long *digest,
                       gctk_error **err)
{
    bool explicit = false;
    cleanup_free char *path = nvconfig_path(root, &explicit);
    cleanup_free char *text = NULL;
    size_t len = 0;
    cleanup_error gctk_error *e = NULL;
    *settings = NULL;
    /* only the file itself: a FIFO there would hold every container's hook,
     * a link or a device is not a setting the host's administrator wrote */
    if (read_regular_file(path, NVIDIA_CONFIG_MAX, &text, &len, &e) < 0) {
        if (!explicit && e->code == ENOENT)
            return 0;
        gctk_error_propagate(err, &e);
        if (explicit)
            gctk_wrap(err, "NVIDIA's config (" NVIDIA_CONFIG_PATH_ENV ")");
        return -1;
    }
    /* the digest (the discovery cache's key) covers both files' texts */
    *digest = hash64(text, len, hash64("toml", 4, *digest != 0 ? *digest : HASH64_INIT));
    cleanup_strbuf struct strbuf key = {0};
    cleanup_free char *name = NULL;
    cleanup_free char *cache_dir = report == NULL ? nvcache_dir(own, own_path) : NULL;
    cleanup_fd int dirfd = -1;
    if (cache_dir != NULL && nvcache_key(path, text, len, &key, &name))
        dirfd = open_private_dir_at(AT_FDCWD, cache_dir);
    if (dirfd >= 0 && (*settings = nvcache_get(dirfd, name, &key)) != NULL) {
        *found = steal_pointer(&path);
        return 0;
    }
    cleanup_free char *what = xasprintf("`%s`", path);
    cleanup_json json_t *doc = gctk_toml_parse(text, len, what, err);
    if (doc == NULL)
        return gctk_hint(err, "fix the file (NVIDIA's toolkit refuses it too) or move it away");
    if (nvconfig_translate(doc, path, settings, report, err) < 0)
        return -1;
    if (dirfd >= 0)
        nvcache_put(dirfd, name, &key, *settings);
    *found = steal_pointer(&path);
    return 0;
}

/* Both files, read and translated but not yet applied. */
struct sources {
    const char *path; /* gctk's */
    json_t *own;      /* NULL: absent */
    char *nvidia_path;
    json_t *nvidia;            /* gctk's keys; NULL: absent */
    unsigned long long digest; /* of both texts; 0: neither file */
};

static void sources_clear(struct sources *s)
{
    json_decref(s->own);
    json_decref(s->nvidia);
    free(s->nvidia_path);
}

static int read_sources(const char *path, struct sources *s, struct nvkey_list *report,
                        gctk_error **err)
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
    *s = (struct sources){.path = path};
    if (load_own(path, explicit, &s->own, &s->digest, err) < 0)
        return -1;
    /* NVIDIA's file is found under the driver root gctk's own file names */
    const char *root = json_string_value(json_object_get(s->own, "root"));
    if (load_nvidia(root, s->own, path, &s->nvidia_path, &s->nvidia, report, &s->digest, err) < 0) {
        sources_clear(s);
        return -1;
    }
    return 0;
}

int config_load(const char *path, struct gctk_config *out, gctk_error **err)
{
    struct sources s;
    if (read_sources(path, &s, NULL, err) < 0)
        return -1;
    struct gctk_config c;
    set_defaults(&c);
    /* the rule of precedence: gctk's own file over NVIDIA's, key by key */
    if ((s.nvidia != NULL && apply(&c, s.nvidia, s.nvidia_path, err) < 0) ||
        (s.own != NULL && apply(&c, s.own, s.path, err) < 0)) {
        config_clear(&c);
        sources_clear(&s);
        return -1;
    }
    c.path = s.own != NULL ? xstrdup(s.path) : NULL;
    c.nvidia_path = steal_pointer(&s.nvidia_path);
    c.digest = s.digest;
    sources_clear(&s);
    *out = c;
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

/* The NVIDIA key a gctk setting came from (the last of the report's). */
static const char *nvidia_key_of(const struct nvkey_list *report, const char *gctk_key)
{
    const char *found = NULL;
    for (size_t i = 0; i < report->len; i++)
        if (report->items[i].gctk_key != NULL && strcmp(report->items[i].gctk_key, gctk_key) == 0)
            found = report->items[i].key;
    return found;
}

int config_explain(const char *path, json_t **settings, struct nvkey_list *report, gctk_error **err)
{
    struct gctk_config check = {0};
    if (config_load(path, &check, err) < 0)
        return -1;
    config_clear(&check);
    struct sources s;
    struct nvkey_list l = {0};
    if (read_sources(path, &s, &l, err) < 0)
        return -1;
    cleanup_free char *def_text = config_default_json();
    json_t *def = json_loads(def_text, 0, NULL), *out = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(def, key, v)
    {
        json_object_set_new(out, key, json_pack("{s:O, s:s}", "value", v, "from", "default"));
    }
    json_object_foreach(s.nvidia, key, v)
    {
        cleanup_free char *from = xasprintf("%s: %s", s.nvidia_path, nvidia_key_of(&l, key));
        json_object_set_new(out, key, json_pack("{s:O, s:s}", "value", v, "from", from));
    }
    json_object_foreach(s.own, key, v)
    {
        const char *name = strcmp(key, ENVVAR_UNPRIVILEGED_OLD) == 0 ? ENVVAR_UNPRIVILEGED : key;
        json_object_set_new(out, name, json_pack("{s:O, s:s}", "value", v, "from", s.path));
    }
    json_decref(def);
    sources_clear(&s);
    *settings = out;
    if (report != NULL)
        *report = l;
    else
        nvkey_list_clear(&l);
    return 0;
}
