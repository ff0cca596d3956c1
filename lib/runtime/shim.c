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

/* runc's global flags that take a value (`--flag value`) */
static const char *const valued_globals[] = {"--root", "--log",      "--log-format",
                                             "--criu", "--rootless", NULL};

static bool takes_value(const char *arg, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++)
        if (strcmp(arg, list[i]) == 0)
            return true;
    return false;
}

void shim_parse_args(int argc, char *const *argv, struct shim_args *out)
{
    *out = (struct shim_args){.verb = -1};
    int i = 1;
    for (; i < argc; i++) {
        if (argv[i][0] != '-')
            break;
        const char **value = strcmp(argv[i], "--log") == 0          ? &out->log
                             : strcmp(argv[i], "--log-format") == 0 ? &out->log_format
                                                                    : NULL;
        if (str_has_prefix(argv[i], "--log="))
            out->log = argv[i] + strlen("--log=");
        else if (str_has_prefix(argv[i], "--log-format="))
            out->log_format = argv[i] + strlen("--log-format=");
        if (takes_value(argv[i], valued_globals)) {
            if (value != NULL && i + 1 < argc)
                *value = argv[i + 1];
            i++;
        }
    }
    if (i >= argc)
        return;
    out->verb = i;
    for (int k = i + 1; k < argc; k++) {
        if (strcmp(argv[k], "--bundle") == 0 || strcmp(argv[k], "-b") == 0) {
            if (k + 1 < argc)
                out->bundle = argv[k + 1];
            k++;
        } else if (str_has_prefix(argv[k], "--bundle=")) {
            out->bundle = argv[k] + strlen("--bundle=");
        } else if (str_has_prefix(argv[k], "-b=")) {
            out->bundle = argv[k] + 3;
        }
    }
}

void shim_log_error(const struct shim_args *a, const char *msg)
{
    if (a->log == NULL || a->log[0] == '\0')
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[64];
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
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

/* CDI mode: the named devices' edits go into config.json; no hook is added. */
static int apply_cdi(json_t *root, const struct strv *names, gctk_error **err)
{
    static const char *const dirs[] = {CDI_STATIC_DIR, CDI_DYNAMIC_DIR, NULL};
    cleanup_json json_t *specs = cdi_load_dirs(dirs, NULL), *edits = NULL;
    if (cdi_resolve(specs, names, &edits, err) < 0 || cdi_apply(root, edits, err) < 0)
        return -1;
    return 0;
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
    /* an explicit environment: the hook never inherits the runtime's or the image's */
    json_t *env = json_array();
    const char *config = getenv("GCTK_CONFIG");
    if (config != NULL && config[0] != '\0')
        json_array_append_new(env, json_sprintf("GCTK_CONFIG=%s", config));
    json_array_append_new(env, json_string(CDI_HOOK_PATH_ENV));
    json_object_set_new(hook, "env", env);
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
    cleanup_free char *text = json_dumps(root, JSON_COMPACT);
    if (text == NULL)
        return gctk_fail(err, ENOMEM, "`%s`", path);
    cleanup_oci_spec struct oci_spec spec = {0};
    if (oci_spec_parse(text, strlen(text), bundle, &spec, err) < 0)
        return -1;
    /* the image's environment may name CDI devices only where policy lets
     * it ask for GPUs at all; annotations come from the engine */
    bool env_allowed = spec.privileged || cfg->allow_unprivileged_env;
    struct strv no_annotations = {0};
    cleanup_strv struct strv cdi_names = {0};
    cdi_requested_names(&spec.annotations, NULL, &cdi_names);
    if (env_allowed)
        cdi_requested_names(&no_annotations, env_get(&spec.env, "NVIDIA_VISIBLE_DEVICES"),
                            &cdi_names);
    bool changed = false;
    if (cdi_names.len > 0) {
        if (apply_cdi(root, &cdi_names, err) < 0)
            return gctk_wrap(err, "CDI devices of `%s`", path);
        changed = true;
    } else {
        cleanup_request struct request req = {0};
        if (request_from_spec(&spec, cfg, &req, err) < 0)
            return -1;
        if (req.devices != NULL && add_hook(root, path, hook_path, &changed, err) < 0)
            return -1;
    }
    if (!changed)
        return 0;
    cleanup_free char *out = json_dumps(root, JSON_COMPACT);
    if (out == NULL)
        return gctk_fail(err, ENOMEM, "`%s`", path);
    /* keeps the file's mode and owner; no backup: the bundle is the runtime's */
    const struct write_opts o = {.mode = 0644, .keep = true};
    if (write_file(path, out, strlen(out), &o, err) < 0)
        return -1;
    *added = true;
    return 0;
}
