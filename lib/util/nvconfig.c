/* NVIDIA's config.toml in gctk's terms: one table, one row per key of NVIDIA's
 * toolkit 1.18 (internal/config of its source: the Config struct and its
 * defaults), saying which gctk setting the key sets, or why it sets none.
 *
 * A key gctk reads is checked as strictly as gctk's own settings (NVIDIA's
 * toolkit refuses a file whose values have the wrong type, too); a key gctk
 * does not read is only reported, with a warning when NVIDIA's toolkit would
 * behave differently for its value. The translation is all this file does:
 * config.c applies the result under the rule of precedence. */
#include <string.h>

#include "config.h"
#include "json.h"
#include "toml.h"

void nvkey_list_clear(struct nvkey_list *l)
{
    for (size_t i = 0; i < l->len; i++) {
        free(l->items[i].key);
        free(l->items[i].value);
        free(l->items[i].gctk_key);
        free(l->items[i].note);
    }
    free(l->items);
    *l = (struct nvkey_list){0};
}

char *nvconfig_path(const char *root, bool *explicit)
{
    const char *env = getenv(NVIDIA_CONFIG_PATH_ENV);
    *explicit = env != NULL && env[0] != '\0';
    if (*explicit)
        return xstrdup(env);
    const char *xdg = getenv("XDG_CONFIG_HOME");
    if (xdg != NULL && xdg[0] != '\0')
        return xasprintf("%s/nvidia-container-runtime/config.toml", xdg);
    return path_join(root != NULL ? root : "/", NVIDIA_CONFIG_FILE);
}

/* The translation of one key: what it sets in out, what the report says. */
struct ctx {
    const char *path; /* for messages */
    const char *key;  /* dotted */
    const json_t *value;
    json_t *out; /* gctk's settings */
    enum nvkey_use use;
    const char *gctk_key;
    char *note; /* owned */
};

static int type_error(struct ctx *c, const char *want, gctk_error **err)
{
    return gctk_fail(err, 0,
                     "`%s`: `%s` must be %s: fix the file (NVIDIA's toolkit refuses it too)",
                     c->path, c->key, want);
}

static void set(struct ctx *c, const char *gctk_key, json_t *v)
{
    json_object_set_new(c->out, gctk_key, v);
    c->use = NVKEY_READ;
    c->gctk_key = gctk_key;
}

static void same(struct ctx *c, char *note)
{
    c->use = NVKEY_SAME;
    c->note = note;
}

static void ignored(struct ctx *c, bool warn, char *note)
{
    c->use = warn ? NVKEY_WARNING : NVKEY_IGNORED;
    c->note = note;
}

/* ---- the keys gctk reads ------------------------------------------------------------ */

static int as_bool(struct ctx *c, const char *gctk_key, gctk_error **err)
{
    if (!json_is_boolean(c->value))
        return type_error(c, "true or false", err);
    set(c, gctk_key, json_incref((json_t *)c->value));
    return 0;
}

static int map_accept_mounts(struct ctx *c, gctk_error **err)
{
    return as_bool(c, "accept-nvidia-visible-devices-as-volume-mounts", err);
}

static int map_accept_unprivileged(struct ctx *c, gctk_error **err)
{
    return as_bool(c, "accept-nvidia-visible-devices-envvar-when-unprivileged", err);
}

static int map_disable_require(struct ctx *c, gctk_error **err)
{
    return as_bool(c, "disable-require", err);
}

static int map_no_cgroups(struct ctx *c, gctk_error **err)
{
    return as_bool(c, "no-cgroups", err);
}

static int map_capabilities(struct ctx *c, gctk_error **err)
{
    if (!json_is_string(c->value))
        return type_error(c, "a string", err);
    set(c, "supported-driver-capabilities", json_incref((json_t *)c->value));
    return 0;
}

/* NVIDIA: a comma list of variable names that take the place of
 * NVIDIA_VISIBLE_DEVICES; gctk: the name of one Swarm generic resource,
 * whose variable is DOCKER_RESOURCE_<NAME> */
static int map_swarm(struct ctx *c, gctk_error **err)
{
    static const char prefix[] = "DOCKER_RESOURCE_";
    const char *s = json_string_value(c->value);
    if (s == NULL)
        return type_error(c, "a string", err);
    cleanup_free char *name = xstrdup(s);
    str_strip(name);
    if (name[0] == '\0') {
        set(c, "swarm-resource", json_null());
        c->note = xstrdup("Swarm's generic resources are not read");
        return 0;
    }
    if (strchr(name, ',') == NULL && str_has_prefix(name, prefix) && name[strlen(prefix)] != '\0') {
        set(c, "swarm-resource", json_string(name + strlen(prefix)));
        return 0;
    }
    ignored(
        c, true,
        xasprintf("gctk reads one Swarm variable, DOCKER_RESOURCE_<NAME>: set \"swarm-resource\" "
                  "in gctk's config to the resource's NAME; `%s` is not of that form",
                  name));
    return 0;
}

static int map_root(struct ctx *c, gctk_error **err)
{
    const char *s = json_string_value(c->value);
    if (s == NULL)
        return type_error(c, "a string", err);
    if (s[0] == '\0') {
        same(c, xstrdup("empty: the driver root is /"));
        return 0;
    }
    if (s[0] != '/')
        return type_error(c, "an absolute path", err);
    set(c, "root", json_string(s));
    return 0;
}

/* NVIDIA: the ldconfig nvidia-container-cli runs, "@/sbin/ldconfig" (the
 * host's) or a path in the container (only with allow-ldconfig-from-container) */
static int map_ldconfig(struct ctx *c, gctk_error **err)
{
    const char *s = json_string_value(c->value);
    if (s == NULL)
        return type_error(c, "a string", err);
    if (s[0] == '@') {
        set(c, "ldconfig", json_string("internal"));
        c->note = xstrdup("gctk writes the container's ld.so.cache itself, as the host's ldconfig "
                          "would, and runs no program");
        return 0;
    }
    ignored(c, true,
            xstrdup("an ldconfig of the image: gctk never runs a program of the image (CVE-2024-"
                    "0136); it writes the container's ld.so.cache itself"));
    return 0;
}

static int map_runtimes(struct ctx *c, gctk_error **err)
{
    if (!json_is_array(c->value))
        return type_error(c, "an array of strings", err);
    size_t i;
    json_t *v;
    json_array_foreach(c->value, i, v)
    {
        if (!json_is_string(v) || json_string_length(v) == 0)
            return type_error(c, "an array of non-empty strings", err);
    }
    if (json_array_size(c->value) == 0) {
        ignored(c, true,
                xstrdup("no runtime named: NVIDIA's runtime fails without one; gctk-runtime "
                        "keeps its default, runc"));
        return 0;
    }
    set(c, "runtime", json_incref((json_t *)c->value));
    return 0;
}

static int map_mode(struct ctx *c, gctk_error **err)
{
    const char *s = json_string_value(c->value);
    if (s == NULL)
        return type_error(c, "a string", err);
    if (strcmp(s, "cdi") == 0) {
        set(c, "runtime-mode", json_string("cdi"));
        return 0;
    }
    if (strcmp(s, "auto") == 0 || strcmp(s, "legacy") == 0 || strcmp(s, "jit-cdi") == 0) {
        set(c, "runtime-mode", json_string("auto"));
        c->note = xstrdup("GPU ids through gctk's hook, which finds the driver's files at "
                          "container start as jit-cdi does; CDI names through their specs");
        return 0;
    }
    if (strcmp(s, "csv") == 0)
        ignored(c, true,
                xstrdup("Tegra's CSV mode: gctk has none; it runs in auto mode (discovery of the "
                        "driver's files, not CSV lists)"));
    else
        ignored(c, true,
                xasprintf("`%s` is no mode of NVIDIA's runtime (auto, legacy, csv, cdi, jit-cdi), "
                          "which fails with it; gctk runs in auto mode",
                          s));
    return 0;
}

static int map_default_kind(struct ctx *c, gctk_error **err)
{
    const char *s = json_string_value(c->value);
    if (s == NULL || strchr(s, '/') == NULL)
        return type_error(c, "a CDI kind, vendor/class (\"nvidia.com/gpu\")", err);
    set(c, "cdi-default-kind", json_string(s));
    return 0;
}

static int string_list(struct ctx *c, const char *gctk_key, bool absolute, gctk_error **err)
{
    if (!json_is_array(c->value))
        return type_error(c, "an array of strings", err);
    size_t i;
    json_t *v;
    json_array_foreach(c->value, i, v)
    {
        const char *s = json_string_value(v);
        if (s == NULL || s[0] == '\0' || (absolute && s[0] != '/'))
            return type_error(c, absolute ? "an array of absolute paths" : "an array of strings",
                              err);
    }
    set(c, gctk_key, json_incref((json_t *)c->value));
    return 0;
}

static int map_spec_dirs(struct ctx *c, gctk_error **err)
{
    return string_list(c, "cdi-spec-dirs", true, err);
}

static int map_annotation_prefixes(struct ctx *c, gctk_error **err)
{
    return string_list(c, "cdi-annotation-prefixes", false, err);
}

/* "ldconfig" (the default), "mount", "hook", "disabled" */
static int map_cuda_compat_mode(struct ctx *c, gctk_error **err)
{
    const char *s = json_string_value(c->value);
    if (s == NULL)
        return type_error(c, "a string", err);
    if (strcmp(s, "disabled") == 0) {
        set(c, "cuda-compat", json_false());
        return 0;
    }
    same(c, xstrdup("gctk points the container's ld.so.cache at an image's newer CUDA "
                    "forward-compatibility libraries, as the ldconfig mode does"));
    return 0;
}

static int map_disable_compat_hook(struct ctx *c, gctk_error **err)
{
    if (!json_is_boolean(c->value))
        return type_error(c, "true or false", err);
    if (json_is_true(c->value)) {
        set(c, "cuda-compat", json_false());
        return 0;
    }
    same(c, NULL);
    return 0;
}

static int map_hook_path(struct ctx *c, gctk_error **err)
{
    const char *s = json_string_value(c->value);
    if (s == NULL)
        return type_error(c, "a string", err);
    if (s[0] == '/') {
        set(c, "hook-path", json_string(s));
        return 0;
    }
    const char *base = strrchr(s, '/') ? strrchr(s, '/') + 1 : s;
    if (s[0] == '\0' || strcmp(base, "nvidia-container-runtime-hook") == 0 ||
        strcmp(base, "nvidia-container-toolkit") == 0) {
        same(c, xstrdup("gctk-hook, also installed as nvidia-container-runtime-hook"));
        return 0;
    }
    ignored(c, true,
            xasprintf("`%s` is looked up on PATH by NVIDIA's runtime; gctk-runtime adds gctk-hook: "
                      "set \"hook-path\" in gctk's config to an absolute path to change it",
                      s));
    return 0;
}

/* ---- the keys gctk does not read ---------------------------------------------------- */

static bool value_is(const json_t *v, const char *s)
{
    return json_is_string(v) && strcmp(json_string_value(v), s) == 0;
}

static int note_ldcache(struct ctx *c, gctk_error **err)
{
    (void)err;
    if (value_is(c->value, "/etc/ld.so.cache") || value_is(c->value, ""))
        same(c, xstrdup("gctk reads the driver root's /etc/ld.so.cache"));
    else
        ignored(c, true,
                xstrdup("gctk finds the driver's libraries through the driver root's "
                        "/etc/ld.so.cache only"));
    return 0;
}

static int note_allow_ldconfig(struct ctx *c, gctk_error **err)
{
    (void)err;
    if (json_is_true(c->value))
        ignored(c, true,
                xstrdup("gctk never runs the image's ldconfig (CVE-2024-0136): it writes the "
                        "container's ld.so.cache itself"));
    else
        same(c, xstrdup("gctk never runs the image's ldconfig"));
    return 0;
}

static int note_ignore_imex(struct ctx *c, gctk_error **err)
{
    (void)err;
    ignored(c, json_is_true(c->value), xstrdup("gctk has no setting for IMEX channel requests"));
    return 0;
}

static int note_load_kmods(struct ctx *c, gctk_error **err)
{
    (void)err;
    ignored(c, false,
            xstrdup("gctk loads no kernel module: the driver's modules must be loaded at boot "
                    "(`gctk doctor` checks)"));
    return 0;
}

/* ---- the table ---------------------------------------------------------------------- */

struct rule {
    const char *key;
    /* its type in NVIDIA's toolkit: 'b' boolean, 'f' a feature (a boolean that
     * may be unset), 's' string, 'l' list of strings */
    char type;
    int (*fn)(struct ctx *c, gctk_error **err); /* NULL: not read, note says why */
    const char *note;
};

/* Every key of NVIDIA's toolkit 1.18's config.toml. */
static const struct rule rules[] = {
    {"accept-nvidia-visible-devices-as-volume-mounts", 'b', map_accept_mounts, NULL},
    {"accept-nvidia-visible-devices-envvar-when-unprivileged", 'b', map_accept_unprivileged, NULL},
    {"disable-require", 'b', map_disable_require, NULL},
    {"supported-driver-capabilities", 's', map_capabilities, NULL},
    {"swarm-resource", 's', map_swarm, NULL},
    {"nvidia-container-cli.root", 's', map_root, NULL},
    {"nvidia-container-cli.no-cgroups", 'b', map_no_cgroups, NULL},
    {"nvidia-container-cli.ldconfig", 's', map_ldconfig, NULL},
    {"nvidia-container-cli.ldcache", 's', note_ldcache, NULL},
    {"nvidia-container-cli.load-kmods", 'b', note_load_kmods, NULL},
    {"nvidia-container-cli.path", 's', NULL,
     "gctk has no nvidia-container-cli: gctk-hook does its work"},
    {"nvidia-container-cli.environment", 'l', NULL,
     "gctk has no nvidia-container-cli to give an environment to"},
    {"nvidia-container-cli.debug", 's', NULL,
     "gctk-hook logs to \"log\" of gctk's config (" GCTK_DEFAULT_LOG ")"},
    {"nvidia-container-cli.no-pivot", 'b', NULL,
     "gctk does no pivot_root: it resolves every path in the container by fd"},
    {"nvidia-container-cli.user", 's', NULL, "gctk-hook runs as the user the runtime runs it as"},
    {"nvidia-ctk.path", 's', NULL, "gctk's CDI specs name gctk itself for their hooks"},
    {"nvidia-container-runtime.debug", 's', NULL,
     "gctk-runtime writes its errors to the runtime log the engine names (--log)"},
    {"nvidia-container-runtime.log-level", 's', NULL, "gctk-runtime logs errors only"},
    {"nvidia-container-runtime.runtimes", 'l', map_runtimes, NULL},
    {"nvidia-container-runtime.mode", 's', map_mode, NULL},
    {"nvidia-container-runtime.modes.cdi.default-kind", 's', map_default_kind, NULL},
    {"nvidia-container-runtime.modes.cdi.spec-dirs", 'l', map_spec_dirs, NULL},
    {"nvidia-container-runtime.modes.cdi.annotation-prefixes", 'l', map_annotation_prefixes, NULL},
    {"nvidia-container-runtime.modes.csv.mount-spec-path", 's', NULL,
     "Tegra's CSV mode: gctk finds the driver's files itself"},
    {"nvidia-container-runtime.modes.legacy.cuda-compat-mode", 's', map_cuda_compat_mode, NULL},
    {"nvidia-container-runtime-hook.path", 's', map_hook_path, NULL},
    {"nvidia-container-runtime-hook.skip-mode-detection", 'b', NULL,
     "gctk-hook serves every container whatever the runtime's mode"},
    {"features.allow-cuda-compat-libs-from-container", 'f', NULL,
     "gctk's own forward compatibility (\"cuda-compat\" of gctk's config) is on by default"},
    {"features.allow-ldconfig-from-container", 'f', note_allow_ldconfig, NULL},
    {"features.disable-cuda-compat-lib-hook", 'f', map_disable_compat_hook, NULL},
    {"features.disable-imex-channel-creation", 'f', NULL, "gctk creates no IMEX channel nodes"},
    {"features.ignore-imex-channel-requests", 'f', note_ignore_imex, NULL},
};

static const struct rule *find_rule(const char *key)
{
    for (size_t i = 0; i < GCTK_ARRAY_LEN(rules); i++)
        if (strcmp(rules[i].key, key) == 0)
            return &rules[i];
    return NULL;
}

/* Whether key names a table of NVIDIA's file ("nvidia-container-runtime.modes"). */
static bool known_table(const char *key)
{
    size_t n = strlen(key);
    for (size_t i = 0; i < GCTK_ARRAY_LEN(rules); i++)
        if (strncmp(rules[i].key, key, n) == 0 && rules[i].key[n] == '.')
            return true;
    return false;
}

static void report_add(struct nvkey_list *l, struct ctx *c)
{
    if (l->len == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->items = xrealloc(l->items, l->cap * sizeof(*l->items));
    }
    char *value = json_dumps(c->value, JSON_ENCODE_ANY | JSON_COMPACT);
    l->items[l->len++] = (struct nvkey){
        .key = xstrdup(c->key),
        .value = value != NULL ? value : xstrdup("?"),
        .use = c->use,
        .gctk_key = c->gctk_key != NULL ? xstrdup(c->gctk_key) : NULL,
        .note = steal_pointer(&c->note),
    };
}

static int walk(const json_t *table, const char *prefix, const char *path, json_t *out,
                struct nvkey_list *report, gctk_error **err)
{
    const char *name;
    json_t *v;
    json_object_foreach((json_t *)table, name, v)
    {
        cleanup_free char *key = prefix ? xasprintf("%s.%s", prefix, name) : xstrdup(name);
        const struct rule *r = find_rule(key);
        bool is_table = json_is_object(v) && json_object_get(v, GCTK_TOML_DATETIME_KEY) == NULL;
        if (r == NULL && is_table && (prefix == NULL || known_table(key))) {
            if (walk(v, key, path, out, report, err) < 0)
                return -1;
            continue;
        }
        struct ctx c = {.path = path, .key = key, .value = v, .out = out};
        if (r == NULL)
            ignored(&c, true,
                    xstrdup("no key of NVIDIA's toolkit 1.18 either (a misspelling?): not read"));
        else if (r->fn == NULL)
            ignored(&c, false, xstrdup(r->note));
        else if (r->fn(&c, err) < 0)
            return -1;
        if (report != NULL)
            report_add(report, &c);
        free(c.note);
    }
    return 0;
}

int nvconfig_translate(const json_t *doc, const char *path, json_t **settings,
                       struct nvkey_list *report, gctk_error **err)
{
    cleanup_json json_t *out = json_object();
    struct nvkey_list l = {0};
    if (walk(doc, NULL, path, out, report != NULL ? &l : NULL, err) < 0) {
        nvkey_list_clear(&l);
        return -1;
    }
    if (report != NULL)
        *report = l;
    *settings = steal_pointer(&out);
    return 0;
}

/* ---- nvidia-ctk config ---------------------------------------------------------------- */

/* obj[key] as a table, made when absent; NULL when something else is there */
static json_t *table_of(json_t *obj, const char *key)
{
    json_t *t = json_object_get(obj, key);
    if (t == NULL) {
        t = json_object();
        json_object_set_new(obj, key, t);
    }
    return json_is_object(t) && json_object_get(t, GCTK_TOML_DATETIME_KEY) == NULL ? t : NULL;
}

/* Sets the dotted key in doc to value (owned; NULL: deletes the key). */
static int set_dotted(json_t *doc, const char *key, json_t *value, gctk_error **err)
{
    cleanup_free char *copy = xstrdup(key);
    json_t *t = doc;
    char *part = copy;
    for (char *dot = strchr(part, '.'); dot != NULL; dot = strchr(part, '.')) {
        *dot = '\0';
        t = table_of(t, part);
        if (t == NULL) {
            json_decref(value);
            return gctk_fail(err, 0, "cannot set `%s`: `%s` is not a table in the file", key, part);
        }
        part = dot + 1;
    }
    if (value == NULL)
        json_object_del(t, part);
    else
        json_object_set_new(t, part, value);
    return 0;
}

int nvconfig_set(json_t *doc, const char *set, const char *list_separator, gctk_error **err)
{
    const char *eq = strchr(set, '=');
    cleanup_free char *key = eq != NULL ? xstrndup(set, (size_t)(eq - set)) : xstrdup(set);
    const struct rule *r = find_rule(key);
    if (r == NULL)
        return gctk_fail(err, 0,
                         "invalid --set option %s: `%s` is no key of NVIDIA's config.toml (1.18); "
                         "gctk.conf(5) lists them",
                         set, key);
    bool boolean = r->type == 'b' || r->type == 'f';
    if (eq == NULL) {
        if (!boolean)
            return gctk_fail(err, 0, "invalid --set option %s: expected key=value", set);
        return set_dotted(doc, key, json_true(), err);
    }
    const char *v = eq + 1;
    if (r->type == 'f' && strcmp(v, "nil") == 0)
        return set_dotted(doc, key, NULL, err);
    if (boolean) {
        bool b = false;
        if (str_parse_go_bool(v, &b) < 0)
            return gctk_fail(err, 0, "invalid --set option %s: `%s` is a boolean: true or false",
                             set, key);
        return set_dotted(doc, key, json_boolean(b), err);
    }
    if (r->type == 's')
        return set_dotted(doc, key, json_string(v), err);
    /* a list: split at the separator, else at commas, as NVIDIA's command */
    const char *sep =
        list_separator != NULL && list_separator[0] != '\0' && strstr(v, list_separator) != NULL
            ? list_separator
        : strchr(v, ',') != NULL ? ","
                                 : NULL;
    json_t *list = json_array();
    for (const char *p = v; p != NULL;) {
        const char *end = sep != NULL ? strstr(p, sep) : NULL;
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        json_array_append_new(list, json_stringn(p, n));
        p = end != NULL ? end + strlen(sep) : NULL;
    }
    return set_dotted(doc, key, list, err);
}

json_t *nvconfig_defaults(void)
{
    /* gctk's defaults (config.c) in NVIDIA's words; swarm-resource is unset
     * in both, so it is not written */
    return json_pack("{s:b, s:b, s:b, s:s, s:{s:s, s:b}, s:{s:s, s:[s], s:{s:{s:s, s:[s,s], "
                     "s:[s]}, s:{s:s}}}}",
                     "accept-nvidia-visible-devices-as-volume-mounts", 0,
                     "accept-nvidia-visible-devices-envvar-when-unprivileged", 1, "disable-require",
                     0, "supported-driver-capabilities", "all", "nvidia-container-cli", "ldconfig",
                     "@/sbin/ldconfig", "no-cgroups", 0, "nvidia-container-runtime", "mode", "auto",
                     "runtimes", "runc", "modes", "cdi", "default-kind", "nvidia.com/gpu",
                     "spec-dirs", "/etc/cdi", "/var/run/cdi", "annotation-prefixes", "cdi.k8s.io/",
                     "legacy", "cuda-compat-mode", "ldconfig");
}
