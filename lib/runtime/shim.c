/* The runtime shim: a config.json edit, then exec of the real runtime. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cdi.h"
#include "json.h"
#include "oci.h"
#include "request.h"
#include "shim.h"

/* runc's command line, read as runc reads it: its options are urfave/cli v1
 * flags over Go's flag package. Go's rules: `-name` and `--name` are the
 * same; a value follows as `-name=value` or as the next argument, whatever
 * that argument looks like; a boolean takes no next argument (`-name=false`
 * only); parsing stops at the first argument that is not a flag and after
 * `--`; an unknown flag is an error. urfave/cli adds, for a command's own
 * options: the options may follow the arguments (it moves every argument
 * that begins with `-` in front, each with the argument after it when that
 * one does not begin with `-` and the flag holds no `=`), and two names of
 * one option (`-b` and `--bundle`) may not both be given. The tables hold
 * every option of runc 1.0 to 1.5 (and crun's global options where they
 * differ), so that a command line runc accepts is read the same here; one
 * that cannot be read is refused rather than guessed at. */
struct runc_flag {
    const char *names; /* "bundle,b": the names of one option */
    bool value;        /* takes a value (string, int) rather than a boolean */
};

static const struct runc_flag global_flags[] = {
    {"debug", false},
    {"log", true},
    {"log-format", true},
    {"root", true},
    {"criu", true},
    {"systemd-cgroup", false},
    {"rootless", true},
    {"help,h", false},
    {"version,v", false},
    /* crun's, for a configured crun */
    {"cgroup-manager", true},
    {"log-level", true},
    {NULL, false},
};

/* runc create and runc run */
static const struct runc_flag create_flags[] = {
    {"bundle,b", true},  {"console-socket", true},  {"pidfd-socket", true}, {"pid-file", true},
    {"no-pivot", false}, {"no-new-keyring", false}, {"preserve-fds", true}, {"detach,d", false},
    {"keep", false},     {"no-subreaper", false},   {"help,h", false},      {NULL, false},
};

/* The option of table named name (name_len bytes), or NULL; *alias: which of
 * its names it was. */
static const struct runc_flag *find_flag(const struct runc_flag *table, const char *name,
                                         size_t name_len, size_t *alias)
{
    for (const struct runc_flag *f = table; f->names != NULL; f++) {
        size_t k = 0;
        for (const char *n = f->names; *n != '\0'; k++) {
            size_t len = strcspn(n, ",");
            if (len == name_len && strncmp(n, name, len) == 0) {
                *alias = k;
                return f;
            }
            n += len + (n[len] == ',');
        }
    }
    return NULL;
}

/* Go's strconv.ParseBool */
static int parse_bool(const char *s)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(yes); i++) {
        if (strcmp(s, yes[i]) == 0)
            return 1;
        if (strcmp(s, no[i]) == 0)
            return 0;
    }
    return -1;
}

/* One flag set parsed with Go's rules over args[0..n): the index of the first
 * argument that is not a flag (after `--` when that ended it), or -1 with
 * *err set. Each option's value is in values[option] (the last one given),
 * booleans as "true"/"false"; used[option] has a bit per name given. */
static int go_flag_parse(const struct runc_flag *table, const char *what, char *const *args, int n,
                         const char **values, unsigned *used, gctk_error **err)
{
    int i = 0;
    while (i < n) {
        const char *s = args[i];
        if (s[0] != '-' || s[1] == '\0')
            break;
        if (strcmp(s, "--") == 0)
            return i + 1;
        const char *name = s + (s[1] == '-' ? 2 : 1);
        if (name[0] == '\0' || name[0] == '-' || name[0] == '=')
            return gctk_fail(err, 0, "bad option syntax `%s` for %s", s, what);
        i++;
        const char *eq = strchr(name + 1, '=');
        size_t name_len = eq != NULL ? (size_t)(eq - name) : strlen(name), alias = 0;
        const struct runc_flag *f = find_flag(table, name, name_len, &alias);
        if (f == NULL)
            return gctk_fail(err, 0,
                             "`%s` is not an option of %s that gctk-runtime knows: it cannot "
                             "tell which bundle the container uses",
                             s, what);
        size_t k = (size_t)(f - table);
        used[k] |= 1u << alias;
        if (!f->value) {
            int b = eq != NULL ? parse_bool(eq + 1) : 1;
            if (b < 0)
                return gctk_fail(err, 0, "`%s` for %s: `%s` is not a boolean", s, what, eq + 1);
            values[k] = b ? "true" : "false";
        } else if (eq != NULL) {
            values[k] = eq + 1;
        } else if (i < n) {
            values[k] = args[i++];
        } else {
            return gctk_fail(err, 0, "`%s` for %s needs a value", s, what);
        }
    }
    return i;
}

/* urfave/cli's move of a command's flags in front of its arguments */
static void reorder_args(char *const *args, int n, char **out)
{
    int nf = 0, nn = 0;
    cleanup_free char **rest = xcalloc((size_t)n + 1, sizeof(char *));
    bool may_be_value = false;
    for (int i = 0; i < n; i++) {
        const char *a = args[i];
        if (strcmp(a, "--") == 0) {
            while (i < n)
                rest[nn++] = args[i++];
            break;
        }
        if (may_be_value && a[0] != '-') {
            may_be_value = false;
            out[nf++] = args[i];
            continue;
        }
        may_be_value = false;
        if (a[0] == '-' && a[1] != '\0') {
            out[nf++] = args[i];
            may_be_value = strchr(a, '=') == NULL;
        } else {
            rest[nn++] = args[i];
        }
    }
    memcpy(out + nf, rest, (size_t)nn * sizeof(char *));
}

/* The option's value in the parse of table, or NULL */
static const char *flag_value(const struct runc_flag *table, const char *const *values,
                              const char *names)
{
    for (size_t k = 0; table[k].names != NULL; k++)
        if (strcmp(table[k].names, names) == 0)
            return values[k];
    return NULL;
}

static bool is_true(const char *v)
{
    return v != NULL && strcmp(v, "true") == 0;
}

int shim_parse_args(int argc, char *const *argv, struct shim_args *out, gctk_error **err)
{
    *out = (struct shim_args){.verb = -1};
    const char *gv[GCTK_ARRAY_LEN(global_flags)] = {0};
    unsigned gused[GCTK_ARRAY_LEN(global_flags)] = {0};
    int first =
        argc > 1 ? go_flag_parse(global_flags, "runc", argv + 1, argc - 1, gv, gused, err) : 0;
    /* where the runtime log is, as far as it was read: errors go there too */
    out->log = flag_value(global_flags, gv, "log");
    out->log_format = flag_value(global_flags, gv, "log-format");
    if (first < 0)
        return -1;
    int verb = 1 + first;
    if (is_true(flag_value(global_flags, gv, "help,h")) ||
        is_true(flag_value(global_flags, gv, "version,v")) || verb >= argc)
        return 0; /* runc answers these itself and creates nothing */
    out->verb = verb;
    const char *name = argv[verb];
    if (strcmp(name, "create") != 0 && strcmp(name, "run") != 0)
        return 0;
    cleanup_free char *what = xasprintf("`runc %s`", name);
    int n = argc - verb - 1;
    cleanup_free char **args = xcalloc((size_t)n + 1, sizeof(char *));
    reorder_args(argv + verb + 1, n, args);
    const char *cv[GCTK_ARRAY_LEN(create_flags)] = {0};
    unsigned cused[GCTK_ARRAY_LEN(create_flags)] = {0};
    int pos = go_flag_parse(create_flags, what, args, n, cv, cused, err);
    if (pos < 0)
        return -1;
    for (size_t k = 0; create_flags[k].names != NULL; k++)
        if (cused[k] & (cused[k] - 1))
            return gctk_fail(err, 0, "%s: two names of one option (`%s`): runc refuses them", what,
                             create_flags[k].names);
    if (is_true(flag_value(create_flags, cv, "help,h")))
        return 0;
    if (n - pos != 1) {
        cleanup_strv struct strv ids = {0};
        for (int i = pos; i < n; i++)
            strv_push(&ids, xasprintf("`%s`", args[i]));
        cleanup_free char *list = strv_join(&ids, ", ");
        return gctk_fail(err, 0, "%s takes one container id after its options, not %d%s%s", what,
                         n - pos, n > pos ? ": " : "", list);
    }
    /* runc changes into the bundle when it is given and not empty */
    const char *bundle = flag_value(create_flags, cv, "bundle,b");
    out->bundle = bundle != NULL && bundle[0] != '\0' ? bundle : ".";
    out->prepare = true;
    return 0;
}

void shim_log_error(const struct shim_args *a, const char *msg)
{
    if (a->log == NULL || a->log[0] == '\0')
        return;
    char when[UTC_STAMP_MAX];
    utc_stamp(when, NULL, false);
    cleanup_free char *line = NULL;
    if (a->log_format != NULL && strcmp(a->log_format, "json") == 0) {
        cleanup_json json_t *j =
            json_pack("{s:s, s:s, s:s}", "level", "error", "msg", msg, "time", when);
        cleanup_free char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
        if (text == NULL)
            return;
        line = xasprintf("%s\n", text);
    } else {
        cleanup_json json_t *quoted = json_string(msg); /* logrus quotes as JSON does */
        cleanup_free char *q = quoted != NULL ? json_dumps(quoted, JSON_ENCODE_ANY) : NULL;
        if (q == NULL)
            return;
        line = xasprintf("time=\"%s\" level=error msg=%s\n", when, q);
    }
    cleanup_fd int fd =
        open(a->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
    if (fd >= 0)
        (void)write_all(fd, line, strlen(line)); /* the message is on stderr too */
}

static bool has_gpu_hook(json_t *hooks)
{
    static const char *const names[] = {"gctk-hook", "nvidia-container-runtime-hook",
                                        "nvidia-container-toolkit"};
    size_t i;
    json_t *h;
    json_array_foreach(hooks, i, h)
    {
        const char *path = json_string_value(json_object_get(h, "path"));
        if (path == NULL)
            continue;
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        for (size_t k = 0; k < GCTK_ARRAY_LEN(names); k++)
            if (strcmp(base, names[k]) == 0)
                return true;
    }
    return false;
}

/* CDI mode: the named devices' edits go into config.json; no hook is added.
 * Only trusted specs of the configured spec directories are used
 * (cdi_load_dirs); when a device cannot be resolved, the specs that were
 * not used say why. A spec whose hook is the gctk beside this runtime (one
 * package, one version) has that hook make its mounts (cdi_apply). */
static const char *const *spec_dirs(const struct gctk_config *cfg)
{
    static const char *const defaults[] = {CDI_STATIC_DIR, CDI_DYNAMIC_DIR, NULL};
    return cfg->cdi_spec_dirs.len > 0 ? (const char *const *)cfg->cdi_spec_dirs.items : defaults;
}

/* The file of the gctk beside this runtime (one package, one version);
 * false when there is none. */
static bool own_gctk(struct stat *st)
{
    cleanup_free char *gctk = self_sibling("gctk");
    return gctk != NULL && stat(gctk, st) == 0;
}

static int apply_cdi(json_t *root, const struct gctk_config *cfg, const struct strv *names,
                     gctk_error **err)
{
    const char *const *dirs = spec_dirs(cfg);
    uid_t owner = 0;
    if (config_cdi_spec_owner(cfg, &owner, err) < 0)
        return -1;
    cleanup_strv struct strv skipped = {0};
    cleanup_json json_t *specs = cdi_load_dirs(dirs, owner, &skipped), *edits = NULL;
    if (cdi_resolve(specs, names, &edits, err) < 0) {
        if (skipped.len > 0) {
            cleanup_free char *why = strv_join(&skipped, "; ");
            gctk_hint(err, "not used: %s", why);
        }
        return -1;
    }
    struct stat own;
    return cdi_apply(root, edits, own_gctk(&own) ? &own : NULL, err);
}

/* A config.json whose CDI devices the engine applied itself (Docker 25+,
 * containerd 1.7's CRI, Podman): the spec's mounts go to its hook as in CDI
 * mode where that hook is the gctk beside this runtime (cdi_hand_mounts).
 * Nothing fails here: where the specs cannot be read, runc makes them. */
static void engine_cdi(json_t *root, const struct gctk_config *cfg, bool *changed)
{
    json_t *cc = json_object_get(json_object_get(root, "hooks"), "createContainer");
    uid_t owner = 0;
    struct stat own;
    if (json_array_size(cc) == 0 || config_cdi_spec_owner(cfg, &owner, NULL) < 0 || !own_gctk(&own))
        return;
    cdi_hand_mounts(root, spec_dirs(cfg), owner, &own, changed);
}

/* Puts the hook first in hooks.prestart unless a GPU hook is there already;
 * *added says whether it was put. */
static int add_hook(json_t *root, const char *path, const char *hook_path, bool *added,
                    gctk_error **err)
{
    json_t *hooks = json_object_get(root, "hooks");
    if (hooks == NULL) {
        hooks = json_object();
        json_object_set_new(root, "hooks", hooks);
    }
    json_t *prestart = json_object_get(hooks, "prestart");
    if (!json_is_object(hooks) || (prestart != NULL && !json_is_array(prestart)))
        return gctk_fail(err, 0, "`%s`: `hooks.prestart` is not an array", path);
    if (prestart == NULL) {
        prestart = json_array();
        json_object_set_new(hooks, "prestart", prestart);
    }
    *added = !has_gpu_hook(prestart);
    if (!*added)
        return 0;
    json_t *hook = json_pack("{s:s, s:[s, s]}", "path", hook_path, "args", "gctk-hook", "prestart");
    /* an explicit environment: the hook never inherits the runtime's or the
     * image's; it gets what names the settings the runtime read, so that
     * both read the same */
    cleanup_strv struct strv settings = {0};
    config_settings_env(&settings);
    json_object_set_new(hook, "env", cdi_hook_env(&settings));
    json_array_insert_new(prestart, 0, hook);
    return 0;
}

int shim_prepare_bundle(const char *bundle, const struct gctk_config *cfg, const char *hook_path,
                        bool *added, gctk_error **err)
{
    *added = false;
    cleanup_free char *path = path_join(bundle, "config.json");
    cleanup_json json_t *root = NULL;
    if (json_load(path, NULL, &root, err) < 0)
        return -1;
    cleanup_oci_spec struct oci_spec spec = {0};
    if (oci_spec_from_json(root, bundle, &spec, err) < 0)
        return -1;
    /* the image's environment may name CDI devices only where policy lets
     * it ask for GPUs at all; annotations come from the engine */
    bool env_allowed =
        spec.privileged || cfg->accept_nvidia_visible_devices_envvar_when_unprivileged;
    const char *const *prefixes = cfg->cdi_annotation_prefixes.len > 0
                                      ? (const char *const *)cfg->cdi_annotation_prefixes.items
                                      : NULL;
    const char *default_kind = cfg->runtime_mode == RUNTIME_MODE_CDI ? cfg->cdi_default_kind : NULL;
    cleanup_strv struct strv cdi_names = {0};
    cdi_annotation_names(&spec.annotations, prefixes, &cdi_names);
    if (env_allowed && cdi_visible_devices_names(env_get(&spec.env, "NVIDIA_VISIBLE_DEVICES"),
                                                 default_kind, &cdi_names, err) < 0)
        return gctk_wrap(err, "`%s`", path);
    bool changed = false;
    if (cdi_names.len > 0) {
        if (apply_cdi(root, cfg, &cdi_names, err) < 0)
            return gctk_wrap(err, "CDI devices of `%s`", path);
        changed = true;
    } else {
        cleanup_request struct request req = {0};
        if (request_from_spec(&spec, cfg, &req, err) < 0)
            return -1;
        if (req.devices != NULL && add_hook(root, path, hook_path, &changed, err) < 0)
            return -1;
        if (req.devices == NULL)
            engine_cdi(root, cfg, &changed);
    }
    if (!changed)
        return 0;
    cleanup_free char *out = json_dumps(root, JSON_COMPACT);
    if (out == NULL)
        return gctk_fail(err, ENOMEM, "`%s`", path);
    /* keeps the file's mode and owner; no backup: the bundle is the runtime's;
     * not synced: runc reads it at once, and a bundle does not outlive a
     * crash of the host (the engine makes it again) */
    const struct write_opts o = {.mode = 0644, .keep = true, .no_sync = true};
    if (write_file(path, out, strlen(out), &o, err) < 0)
        return -1;
    *added = true;
    return 0;
}
