/* CDI specs: generate, write, read, validate, resolve and apply. */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <yaml.h>

#include "cdi.h"
#include "host.h"
#include "inject.h"
#include "layout.h"
#include "ldcache.h"
#include "rootfs.h"

/* A JSON string that takes ownership of s. */
static json_t *jstr_take(char *s)
{
    json_t *j = json_string(s);
    free(s);
    return j;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* ---- names ------------------------------------------------------------------ */

static bool is_alnum(char c)
{
    return isascii((unsigned char)c) && isalnum((unsigned char)c);
}

/* [A-Za-z0-9] at both ends, extra characters allowed between */
static bool label_valid(const char *s, size_t n, const char *extra)
{
    if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_alnum(s[i]) && strchr(extra, s[i]) == NULL)
            return false;
    return true;
}

static bool vendor_valid(const char *s, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    /* DNS labels separated by dots */
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (!label_valid(s + start, i - start, "-") || i - start > 63)
                return false;
            start = i + 1;
        }
    }
    return true;
}

bool cdi_kind_valid(const char *kind)
{
    const char *slash = strchr(kind, '/');
    if (slash == NULL || strchr(slash + 1, '/') != NULL)
        return false;
    size_t cn = strlen(slash + 1);
    return vendor_valid(kind, (size_t)(slash - kind)) && cn <= 63 &&
           label_valid(slash + 1, cn, "-_.");
}

bool cdi_device_name_valid(const char *name)
{
    return label_valid(name, strlen(name), "-_.:");
}

int cdi_parse_qualified(const char *s, char **kind, char **name, gctk_error **err)
{
    const char *eq = strchr(s, '=');
    if (eq == NULL)
        return gctk_fail(err, 0, "CDI device `%s`: not vendor/class=name", s);
    cleanup_free char *k = xstrndup(s, (size_t)(eq - s));
    if (!cdi_kind_valid(k))
        return gctk_fail(err, 0, "CDI device `%s`: `%s` is not a valid vendor/class", s, k);
    if (!cdi_device_name_valid(eq + 1))
        return gctk_fail(err, 0, "CDI device `%s`: `%s` is not a valid device name", s, eq + 1);
    *kind = steal_pointer(&k);
    *name = xstrdup(eq + 1);
    return 0;
}

bool cdi_is_qualified(const char *s)
{
    cleanup_free char *k = NULL, *n = NULL;
    return cdi_parse_qualified(s, &k, &n, NULL) == 0;
}

/* ---- versions ----------------------------------------------------------------- */

static const char *const versions[] = {"0.1.0", "0.2.0", "0.3.0", "0.4.0", "0.5.0",
                                       "0.6.0", "0.7.0", "0.8.0", "1.0.0", "1.1.0"};

static int version_index(const char *v)
{
    if (v == NULL)
        return -1;
    if (v[0] == 'v')
        v++;
    for (size_t i = 0; i < GCTK_ARRAY_LEN(versions); i++)
        if (strcmp(versions[i], v) == 0)
            return (int)i;
    return -1;
}

int cdi_version_cmp(const char *a, const char *b)
{
    int ia = version_index(a), ib = version_index(b);
    if (ia < 0 || ib < 0)
        return -2;
    return ia < ib ? -1 : ia > ib ? 1 : 0;
}

struct need {
    int index;
    char *why;
};

static void need(struct need *n, const char *version, char *why)
{
    int i = version_index(version);
    if (i > n->index) {
        n->index = i;
        free(n->why);
        n->why = why;
    } else {
        free(why);
    }
}

static void edits_need(const json_t *e, const char *path, struct need *n)
{
    if (!json_is_object(e))
        return;
    json_t *rdt = json_object_get(e, "intelRdt");
    if (json_is_object(rdt)) {
        if (json_object_get(rdt, "schemata") != NULL ||
            json_is_true(json_object_get(rdt, "enableMonitoring")))
            need(n, "1.1.0", xasprintf("%s.intelRdt: schemata or enableMonitoring", path));
        need(n, "0.7.0", xasprintf("%s.intelRdt", path));
    }
    if (json_array_size(json_object_get(e, "netDevices")) > 0)
        need(n, "1.1.0", xasprintf("%s.netDevices", path));
    if (json_array_size(json_object_get(e, "additionalGids")) > 0)
        need(n, "0.7.0", xasprintf("%s.additionalGids", path));
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(e, "deviceNodes"), i, v)
    {
        const char *hp = json_string_value(json_object_get(v, "hostPath"));
        if (hp != NULL && hp[0] != '\0')
            need(n, "0.5.0", xasprintf("%s.deviceNodes[%zu].hostPath", path, i));
    }
    json_array_foreach(json_object_get(e, "mounts"), i, v)
    {
        const char *t = json_string_value(json_object_get(v, "type"));
        if (t != NULL && t[0] != '\0')
            need(n, "0.4.0", xasprintf("%s.mounts[%zu].type", path, i));
    }
}

/* The rules of the reference implementation (specs-go/version.go): each
 * version is needed by the fields it introduced. */
const char *cdi_required_version(const json_t *spec, char **why)
{
    struct need n = {.index = version_index("0.3.0")};
    if (json_object_size(json_object_get(spec, "annotations")) > 0)
        need(&n, "0.6.0", xstrdup("annotations"));
    const char *kind = json_string_value(json_object_get(spec, "kind"));
    const char *slash = kind ? strchr(kind, '/') : NULL;
    if (slash != NULL && strchr(slash, '.') != NULL)
        need(&n, "0.6.0", xasprintf("kind: the class `%s` holds a dot", slash + 1));
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(spec, "devices"), i, d)
    {
        cleanup_free char *path = xasprintf("devices[%zu]", i);
        if (json_object_size(json_object_get(d, "annotations")) > 0)
            need(&n, "0.6.0", xasprintf("%s.annotations", path));
        const char *name = json_string_value(json_object_get(d, "name"));
        if (name != NULL && name[0] >= '0' && name[0] <= '9')
            need(&n, "0.5.0", xasprintf("%s.name: `%s` starts with a digit", path, name));
        cleanup_free char *ep = xasprintf("%s.containerEdits", path);
        edits_need(json_object_get(d, "containerEdits"), ep, &n);
    }
    edits_need(json_object_get(spec, "containerEdits"), "containerEdits", &n);
    if (why != NULL)
        *why = n.why;
    else
        free(n.why);
    return versions[n.index];
}

/* ---- generation ----------------------------------------------------------------- */

static json_t *node_json(const gctk_host *h, const struct gctk_node *n)
{
    json_t *o = json_object();
    json_object_set_new(o, "path", json_string(n->path));
    if (strcmp(gctk_host_root(h), "/") != 0) {
        /* a simulated host: the node lives below its root */
        json_object_set_new(o, "hostPath", jstr_take(path_join(gctk_host_root(h), n->path)));
    }
    json_object_set_new(o, "type", json_string("c"));
    json_object_set_new(o, "major", json_integer(n->major));
    json_object_set_new(o, "minor", json_integer(n->minor));
    json_object_set_new(o, "permissions", json_string("rw"));
    return o;
}

static json_t *hook_json(const struct cdi_options *o, const char *name, struct strv *args)
{
    json_t *h = json_object();
    json_object_set_new(h, "hookName", json_string(name));
    json_object_set_new(h, "path", json_string(o->gctk_path));
    json_t *a = json_array();
    json_array_append_new(a, json_string("gctk"));
    for (size_t i = 0; i < args->len; i++)
        json_array_append_new(a, json_string(args->items[i]));
    json_object_set_new(h, "args", a);
    /* never the runtime's environment, never the image's (CVE-2025-23266) */
    json_t *env = json_array();
    json_array_append_new(env, json_string(CDI_HOOK_PATH_ENV));
    if (o->config != NULL && o->config[0] != '\0')
        json_array_append_new(env, json_sprintf("GCTK_CONFIG=%s", o->config));
    json_object_set_new(h, "env", env);
    strv_clear(args);
    return h;
}

static json_t *device_json(const char *name, json_t *nodes)
{
    json_t *d = json_object();
    json_object_set_new(d, "name", json_string(name));
    json_t *e = json_object();
    json_object_set_new(e, "deviceNodes", nodes);
    json_object_set_new(d, "containerEdits", e);
    return d;
}

/* One device per MIG device ("0:1" and, with NVML, "MIG-<uuid>"): the parent
 * GPU's node and the nvidia-cap nodes of its GPU and compute instance. The
 * access files under /proc come from the mask-proc hook, which binds those
 * of the nvidia-cap nodes the container has. */
static void cdi_add_mig_devices(const gctk_host *h, const gctk_plan *plan, unsigned naming,
                                json_t *devices, json_t *all_nodes)
{
    for (size_t k = 0; k < gctk_plan_mig_count(plan); k++) {
        const struct gctk_mig *m = gctk_plan_mig(plan, k);
        json_t *nodes = json_array();
        for (size_t i = 0; i < gctk_plan_node_count(plan); i++) {
            const struct gctk_node *n = gctk_plan_node(plan, i);
            bool mine = (n->kind == GCTK_NODE_GPU && n->gpu == m->gpu) ||
                        (n->kind == GCTK_NODE_CAP &&
                         (n->minor == (unsigned)m->gi_minor || n->minor == (unsigned)m->ci_minor));
            if (!mine)
                continue;
            json_array_append_new(nodes, node_json(h, n));
            /* "all": the GPU nodes are there already; each cap node once */
            if (n->kind == GCTK_NODE_CAP) {
                bool seen = false;
                for (size_t a = 0; a < json_array_size(all_nodes) && !seen; a++)
                    seen = strcmp(json_string_value(json_object_get(json_array_get(all_nodes, a),
                                                                    "path")),
                                  n->path) == 0;
                if (!seen)
                    json_array_append_new(all_nodes, node_json(h, n));
            }
        }
        if (naming & CDI_NAME_INDEX) {
            char id[32];
            snprintf(id, sizeof(id), "%d:%d", m->gpu, m->index);
            json_array_append_new(devices, device_json(id, json_deep_copy(nodes)));
        }
        if ((naming & CDI_NAME_UUID) && m->uuid != NULL)
            json_array_append_new(devices, device_json(m->uuid, json_deep_copy(nodes)));
        json_decref(nodes);
    }
}

int cdi_generate(gctk_host *h, const struct cdi_options *o, json_t **out, gctk_error **err)
{
    const char *vendor = o->vendor ? o->vendor : CDI_DEFAULT_VENDOR;
    const char *class = o->class ? o->class : CDI_DEFAULT_CLASS;
    unsigned naming = o->naming ? o->naming : CDI_NAME_INDEX;
    cleanup_free char *kind = xasprintf("%s/%s", vendor, class);
    if (!cdi_kind_valid(kind))
        return gctk_fail(err, 0,
                         "`%s` is not a valid CDI kind: use a DNS name as vendor and "
                         "[a-z0-9_.-] for the class",
                         kind);
    if (o->gctk_path == NULL || o->gctk_path[0] != '/')
        return gctk_fail(err, 0, "the hooks need an absolute path to gctk");
    struct gctk_selection sel = {0};
    gctk_plan *plan = NULL;
    if (gctk_select(h, "all", &sel, err) < 0 ||
        gctk_plan_new(h, &sel, o->caps ? o->caps : GCTK_CAP_ALL, &plan, err) < 0) {
        gctk_selection_clear(&sel);
        return -1;
    }
    const char *root = gctk_host_root(h);
    json_t *spec = json_object();
    json_object_set_new(spec, "cdiVersion", json_string("0.3.0"));
    json_object_set_new(spec, "kind", json_string(kind));
    json_t *devices = json_array();
    json_t *all_nodes = json_array();
    for (size_t g = 0; g < gctk_plan_gpu_count(plan); g++) {
        const struct gctk_gpu *gpu = gctk_plan_gpu(plan, g);
        json_t *nodes = json_array();
        for (size_t i = 0; i < gctk_plan_node_count(plan); i++) {
            const struct gctk_node *n = gctk_plan_node(plan, i);
            if (n->kind == GCTK_NODE_GPU && n->gpu == gpu->index)
                json_array_append_new(nodes, node_json(h, n));
        }
        json_array_extend(all_nodes, nodes);
        if (naming & CDI_NAME_INDEX) {
            char idx[16];
            snprintf(idx, sizeof(idx), "%d", gpu->index);
            json_array_append_new(devices, device_json(idx, json_deep_copy(nodes)));
        }
        if ((naming & CDI_NAME_UUID) && gpu->uuid != NULL)
            json_array_append_new(devices, device_json(gpu->uuid, json_deep_copy(nodes)));
        json_decref(nodes);
    }
    cdi_add_mig_devices(h, plan, naming, devices, all_nodes);
    json_array_append_new(devices, device_json("all", all_nodes));
    json_object_set_new(spec, "devices", devices);

    json_t *edits = json_object();
    /* a legacy hook registered beside CDI (Podman's hooks.d, Docker's
     * --gpus) must not inject a second time */
    json_t *env = json_array();
    json_array_append_new(env, json_string("NVIDIA_VISIBLE_DEVICES=void"));
    json_object_set_new(edits, "env", env);
    json_t *nodes = json_array();
    for (size_t i = 0; i < gctk_plan_node_count(plan); i++) {
        const struct gctk_node *n = gctk_plan_node(plan, i);
        /* a MIG device's nvidia-cap nodes are its own, not everyone's */
        if (n->kind != GCTK_NODE_GPU && n->kind != GCTK_NODE_CAP)
            json_array_append_new(nodes, node_json(h, n));
    }
    json_object_set_new(edits, "deviceNodes", nodes);
    /* the container layout of the hook, with every file at its host path:
     * a spec is written once for every image */
    const struct layout_dirs at_host = {0};
    json_t *mounts = json_array();
    for (size_t i = 0; i < gctk_plan_file_count(plan); i++) {
        const struct gctk_file *f = gctk_plan_file(plan, i);
        struct strv options = {0};
        layout_mount_options(layout_file_flags(f), &options);
        strv_push(&options, xstrdup("bind"));
        json_t *m = json_object();
        json_object_set_new(m, "hostPath", jstr_take(path_join(root, f->path)));
        json_object_set_new(m, "containerPath", jstr_take(layout_container_path(f, &at_host)));
        json_t *opts = json_array();
        for (size_t k = 0; k < options.len; k++)
            json_array_append_new(opts, json_string(options.items[k]));
        json_object_set_new(m, "options", opts);
        strv_clear(&options);
        json_array_append_new(mounts, m);
    }
    json_object_set_new(edits, "mounts", mounts);
    struct layout_links links = {0};
    struct strv folders = {0};
    layout_links(plan, &at_host, &links);
    layout_lib_folders(plan, &at_host, &folders);
    json_t *hooks = json_array();
    struct strv args = {0};
    if (links.paths.len > 0) {
        strv_push(&args, xstrdup("hook"));
        strv_push(&args, xstrdup("create-symlinks"));
        for (size_t i = 0; i < links.paths.len; i++) {
            strv_push(&args, xstrdup("--link"));
            strv_push(&args, xasprintf("%s::%s", links.targets.items[i], links.paths.items[i]));
        }
        json_array_append_new(hooks, hook_json(o, "createContainer", &args));
    }
    if (folders.len > 0) {
        strv_push(&args, xstrdup("hook"));
        strv_push(&args, xstrdup("update-ldcache"));
        for (size_t i = 0; i < folders.len; i++) {
            strv_push(&args, xstrdup("--folder"));
            strv_push(&args, xstrdup(folders.items[i]));
        }
        json_array_append_new(hooks, hook_json(o, "createContainer", &args));
    }
    /* runtimes refuse mounts inside /proc: the hook masks it */
    strv_push(&args, xstrdup("hook"));
    strv_push(&args, xstrdup("mask-proc"));
    if (strcmp(root, "/") != 0) {
        strv_push(&args, xstrdup("--driver-root"));
        strv_push(&args, xstrdup(root));
    }
    json_array_append_new(hooks, hook_json(o, "createContainer", &args));
    json_object_set_new(edits, "hooks", hooks);
    json_object_set_new(spec, "containerEdits", edits);
    strv_clear(&folders);
    layout_links_clear(&links);
    gctk_plan_free(plan);
    gctk_selection_clear(&sel);

    json_object_set_new(spec, "cdiVersion", json_string(cdi_required_version(spec, NULL)));
    *out = spec;
    return 0;
}

/* ---- JSON and YAML text ------------------------------------------------------------ */

char *cdi_to_json(const json_t *spec)
{
    cleanup_free char *s = json_dumps(spec, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s == NULL)
        abort();
    return xasprintf("%s\n", s);
}

struct yaml_buf {
    char *data;
    size_t len, cap;
};

static int yaml_write(void *data, unsigned char *buffer, size_t size)
{
    struct yaml_buf *b = data;
    if (b->len + size + 1 > b->cap) {
        b->cap = (b->len + size + 1) * 2;
        b->data = xrealloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, buffer, size);
    b->len += size;
    b->data[b->len] = '\0';
    return 1;
}

/* A plain scalar a YAML 1.1/1.2 reader would not take for a string. */
static bool looks_typed(const char *s)
{
    static const char *const words[] = {"true", "false", "yes", "no", "on", "off",
                                        "null", "~",     "y",   "n",  ""};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(words); i++)
        if (strcasecmp(s, words[i]) == 0)
            return true;
    char *end = NULL;
    (void)strtod(s, &end);
    return end != s && *end == '\0';
}

static int emit_scalar(yaml_emitter_t *em, const char *value, bool quoted)
{
    yaml_event_t ev;
    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)value, (int)strlen(value), 1, 1,
                                 quoted ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
    return yaml_emitter_emit(em, &ev) ? 0 : -1;
}

static int emit_value(yaml_emitter_t *em, const json_t *v)
{
    yaml_event_t ev;
    char num[32];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
        if (!yaml_emitter_emit(em, &ev))
            return -1;
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            if (emit_scalar(em, k, looks_typed(k)) < 0 || emit_value(em, x) < 0)
                return -1;
        }
        yaml_mapping_end_event_initialize(&ev);
        return yaml_emitter_emit(em, &ev) ? 0 : -1;
    }
    case JSON_ARRAY: {
        yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
        if (!yaml_emitter_emit(em, &ev))
            return -1;
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            if (emit_value(em, x) < 0)
                return -1;
        }
        yaml_sequence_end_event_initialize(&ev);
        return yaml_emitter_emit(em, &ev) ? 0 : -1;
    }
    case JSON_STRING:
        return emit_scalar(em, json_string_value(v), looks_typed(json_string_value(v)));
    case JSON_INTEGER:
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return emit_scalar(em, num, false);
    case JSON_REAL:
        snprintf(num, sizeof(num), "%.17g", json_real_value(v));
        return emit_scalar(em, num, false);
    case JSON_TRUE:
        return emit_scalar(em, "true", false);
    case JSON_FALSE:
        return emit_scalar(em, "false", false);
    default:
        return emit_scalar(em, "null", false);
    }
}

int cdi_to_yaml(const json_t *spec, char **out, size_t *len, gctk_error **err)
{
    yaml_emitter_t em;
    struct yaml_buf b = {0};
    yaml_event_t ev;
    if (!yaml_emitter_initialize(&em))
        return gctk_fail(err, ENOMEM, "yaml emitter");
    yaml_emitter_set_output(&em, yaml_write, &b);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_width(&em, -1);
    int ok = 1;
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    ok = ok && yaml_emitter_emit(&em, &ev);
    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0);
    ok = ok && yaml_emitter_emit(&em, &ev);
    ok = ok && emit_value(&em, spec) == 0;
    yaml_document_end_event_initialize(&ev, 1);
    ok = ok && yaml_emitter_emit(&em, &ev);
    yaml_stream_end_event_initialize(&ev);
    ok = ok && yaml_emitter_emit(&em, &ev);
    ok = ok && yaml_emitter_flush(&em);
    if (!ok) {
        gctk_fail(err, 0, "write YAML: %s", em.problem ? em.problem : "emitter error");
        yaml_emitter_delete(&em);
        free(b.data);
        return -1;
    }
    yaml_emitter_delete(&em);
    *out = b.data ? b.data : xstrdup("");
    if (len != NULL)
        *len = b.len;
    return 0;
}

/* A YAML parser event stream to a jansson tree. */
struct yaml_reader {
    yaml_parser_t p;
    const char *name;
};

static int yaml_next(struct yaml_reader *r, yaml_event_t *ev, gctk_error **err)
{
    if (!yaml_parser_parse(&r->p, ev))
        return gctk_fail(err, 0, "`%s` line %zu column %zu: %s", r->name,
                         r->p.problem_mark.line + 1, r->p.problem_mark.column + 1,
                         r->p.problem ? r->p.problem : "invalid YAML");
    return 0;
}

static json_t *plain_scalar(const char *s)
{
    if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0)
        return json_true();
    if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0)
        return json_false();
    if (strcmp(s, "null") == 0 || strcmp(s, "~") == 0 || s[0] == '\0')
        return json_null();
    const char *d = s + (s[0] == '-' || s[0] == '+');
    if (*d != '\0' && strspn(d, "0123456789") == strlen(d)) {
        errno = 0;
        long long v = strtoll(s, NULL, 10);
        if (errno == 0)
            return json_integer(v);
    }
    return json_string(s);
}

static int yaml_node(struct yaml_reader *r, yaml_event_t *ev, int depth, json_t **out,
                     gctk_error **err);

static int yaml_node(struct yaml_reader *r, yaml_event_t *ev, int depth, json_t **out,
                     gctk_error **err)
{
    size_t line = ev->start_mark.line + 1;
    if (depth > 64) {
        yaml_event_delete(ev);
        return gctk_fail(err, 0, "`%s` line %zu: nested too deeply", r->name, line);
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT: {
        const char *v = (const char *)ev->data.scalar.value;
        *out = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? plain_scalar(v) : json_string(v);
        yaml_event_delete(ev);
        if (*out == NULL)
            return gctk_fail(err, 0, "`%s` line %zu: not valid UTF-8", r->name, line);
        return 0;
    }
    case YAML_ALIAS_EVENT:
        yaml_event_delete(ev);
        return gctk_fail(err, 0, "`%s` line %zu: aliases are not allowed in a CDI spec", r->name,
                         line);
    case YAML_SEQUENCE_START_EVENT: {
        yaml_event_delete(ev);
        cleanup_json json_t *arr = json_array();
        for (;;) {
            yaml_event_t e;
            if (yaml_next(r, &e, err) < 0)
                return -1;
            if (e.type == YAML_SEQUENCE_END_EVENT) {
                yaml_event_delete(&e);
                break;
            }
            json_t *item = NULL;
            if (yaml_node(r, &e, depth + 1, &item, err) < 0)
                return -1;
            json_array_append_new(arr, item);
        }
        *out = steal_pointer(&arr);
        return 0;
    }
    case YAML_MAPPING_START_EVENT: {
        yaml_event_delete(ev);
        cleanup_json json_t *obj = json_object();
        for (;;) {
            yaml_event_t e;
            if (yaml_next(r, &e, err) < 0)
                return -1;
            if (e.type == YAML_MAPPING_END_EVENT) {
                yaml_event_delete(&e);
                break;
            }
            size_t kline = e.start_mark.line + 1;
            if (e.type != YAML_SCALAR_EVENT) {
                yaml_event_delete(&e);
                return gctk_fail(err, 0, "`%s` line %zu: a key must be a string", r->name, kline);
            }
            cleanup_free char *key = xstrdup((const char *)e.data.scalar.value);
            yaml_event_delete(&e);
            if (json_object_get(obj, key) != NULL)
                return gctk_fail(err, 0, "`%s` line %zu: duplicate key `%s`", r->name, kline, key);
            json_t *val = NULL;
            if (yaml_next(r, &e, err) < 0 || yaml_node(r, &e, depth + 1, &val, err) < 0)
                return -1;
            json_object_set_new(obj, key, val);
        }
        *out = steal_pointer(&obj);
        return 0;
    }
    default:
        yaml_event_delete(ev);
        return gctk_fail(err, 0, "`%s` line %zu: unexpected YAML event", r->name, line);
    }
}

static int parse_yaml(const char *name, const char *data, size_t len, json_t **out,
                      gctk_error **err)
{
    struct yaml_reader r = {.name = name};
    if (!yaml_parser_initialize(&r.p))
        return gctk_fail(err, ENOMEM, "yaml parser");
    yaml_parser_set_input_string(&r.p, (const unsigned char *)data, len);
    json_t *doc = NULL;
    int rc = -1;
    yaml_event_t ev;
    /* stream start, document start, the node, document end */
    if (yaml_next(&r, &ev, err) < 0)
        goto out;
    yaml_event_delete(&ev);
    if (yaml_next(&r, &ev, err) < 0)
        goto out;
    if (ev.type != YAML_DOCUMENT_START_EVENT) {
        yaml_event_delete(&ev);
        gctk_fail(err, 0, "`%s`: empty", name);
        goto out;
    }
    yaml_event_delete(&ev);
    if (yaml_next(&r, &ev, err) < 0 || yaml_node(&r, &ev, 0, &doc, err) < 0)
        goto out;
    if (yaml_next(&r, &ev, err) < 0)
        goto out;
    yaml_event_delete(&ev);
    if (yaml_next(&r, &ev, err) < 0)
        goto out;
    bool more = ev.type != YAML_STREAM_END_EVENT;
    yaml_event_delete(&ev);
    if (more) {
        gctk_fail(err, 0, "`%s`: more than one YAML document", name);
        goto out;
    }
    *out = steal_pointer(&doc);
    rc = 0;
out:
    json_decref(doc);
    yaml_parser_delete(&r.p);
    return rc;
}

int cdi_parse(const char *name, const char *data, size_t len, json_t **out, gctk_error **err)
{
    size_t i = 0;
    while (i < len && isspace((unsigned char)data[i]))
        i++;
    json_t *spec = NULL;
    if (i < len && data[i] == '{') {
        cleanup_free char *what = xasprintf("`%s`", name);
        if (json_parse(what, data, len, &spec, err) < 0)
            return -1;
    } else if (parse_yaml(name, data, len, &spec, err) < 0) {
        return -1;
    }
    if (!json_is_object(spec)) {
        json_decref(spec);
        return gctk_fail(err, 0, "`%s`: a CDI spec must be an object", name);
    }
    *out = spec;
    return 0;
}

int cdi_load(const char *path, json_t **out, gctk_error **err)
{
    cleanup_free char *data = NULL;
    size_t len = 0;
    if (read_file(path, JSON_MAX, &data, &len, err) < 0)
        return -1;
    return cdi_parse(path, data, len, out, err);
}

/* ---- validation ------------------------------------------------------------------- */

struct checker {
    unsigned flags;
    const char *driver;
    struct strv *problems;
};

static void problem(struct checker *c, const char *path, const char *fmt, ...) GCTK_PRINTF(3, 4);
static void problem(struct checker *c, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cleanup_free char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    strv_push(c->problems, path[0] ? xasprintf("%s: %s", path, msg) : xstrdup(msg));
}

/* Reports keys outside allowed; true when obj is an object. */
static bool check_object(struct checker *c, const json_t *obj, const char *path,
                         const char *const *allowed)
{
    if (!json_is_object(obj)) {
        problem(c, path, "must be an object");
        return false;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        bool known = false;
        for (size_t i = 0; allowed[i] != NULL && !known; i++)
            known = strcmp(allowed[i], k) == 0;
        if (!known)
            problem(c, path, "unknown field `%s`", k);
    }
    return true;
}

static const char *get_string(struct checker *c, const json_t *obj, const char *key,
                              const char *path, bool required)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        if (required)
            problem(c, path, "`%s` is required", key);
        return NULL;
    }
    if (!json_is_string(v)) {
        problem(c, path, "`%s` must be a string", key);
        return NULL;
    }
    return json_string_value(v);
}

static void check_string_array(struct checker *c, const json_t *obj, const char *key,
                               const char *path)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return;
    if (!json_is_array(v)) {
        problem(c, path, "`%s` must be an array of strings", key);
        return;
    }
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x)
    {
        if (!json_is_string(x))
            problem(c, path, "`%s[%zu]` must be a string", key, i);
    }
}

static void check_int(struct checker *c, const json_t *obj, const char *key, const char *path,
                      long long min)
{
    json_t *v = json_object_get(obj, key);
    if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < min))
        problem(c, path, "`%s` must be an integer >= %lld", key, min);
}

/* "libcuda.so.535.104.05" -> "535.104.05": a driver file's version suffix */
static const char *file_driver_version(const char *path)
{
    const char *b = base_name(path);
    const char *so = strstr(b, ".so.");
    if (so != NULL) {
        const char *v = so + 4;
        /* a driver version has dots ("580.95.05"), a SONAME one number
         * ("libcuda.so.1") */
        if (strchr(v, '.') != NULL && strspn(v, "0123456789.") == strlen(v))
            return v;
        return NULL;
    }
    /* firmware: /lib/firmware/nvidia/<version>/gsp_*.bin */
    const char *fw = strstr(path, "/firmware/nvidia/");
    if (fw != NULL) {
        static char buf[64];
        const char *v = fw + strlen("/firmware/nvidia/");
        size_t n = strcspn(v, "/");
        if (n > 0 && n < sizeof(buf) && v[n] == '/' && strspn(v, "0123456789.") == n) {
            snprintf(buf, sizeof(buf), "%.*s", (int)n, v);
            return buf;
        }
    }
    return NULL;
}

static void check_node(struct checker *c, const json_t *n, const char *path)
{
    static const char *const keys[] = {"path",     "hostPath",    "type", "major", "minor",
                                       "fileMode", "permissions", "uid",  "gid",   NULL};
    if (!check_object(c, n, path, keys))
        return;
    const char *p = get_string(c, n, "path", path, true);
    const char *hp = get_string(c, n, "hostPath", path, false);
    const char *type = get_string(c, n, "type", path, false);
    const char *perms = get_string(c, n, "permissions", path, false);
    check_int(c, n, "major", path, 0);
    check_int(c, n, "minor", path, 0);
    check_int(c, n, "fileMode", path, 0);
    check_int(c, n, "uid", path, 0);
    check_int(c, n, "gid", path, 0);
    if (p != NULL && p[0] != '/')
        problem(c, path, "`path` must be absolute");
    if (type != NULL && strcmp(type, "c") && strcmp(type, "b") && strcmp(type, "u") &&
        strcmp(type, "p"))
        problem(c, path, "`type` `%s` must be one of c, b, u, p", type);
    if (perms != NULL && (perms[0] == '\0' || strspn(perms, "rwm") != strlen(perms)))
        problem(c, path, "`permissions` `%s` must be made of r, w and m", perms);
    if (!(c->flags & CDI_CHECK_HOST) || p == NULL)
        return;
    const char *host = hp != NULL && hp[0] != '\0' ? hp : p;
    struct stat st;
    if (stat(host, &st) < 0) {
        problem(c, path,
                "`%s` does not exist on this host: regenerate the spec (`gctk cdi "
                "generate`)",
                host);
        return;
    }
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) {
        problem(c, path, "`%s` is not a device node on this host", host);
        return;
    }
    const char *actual_type = S_ISCHR(st.st_mode) ? "c" : "b";
    if (type != NULL && strcmp(type, actual_type) != 0 && strcmp(type, "u") != 0)
        problem(c, path, "%s is a %s device on this host, the spec says type `%s`", host,
                S_ISCHR(st.st_mode) ? "character" : "block", type);
    json_t *ma = json_object_get(n, "major"), *mi = json_object_get(n, "minor");
    if (json_is_integer(ma) || json_is_integer(mi)) {
        long long smaj = json_integer_value(ma), smin = json_integer_value(mi);
        if ((unsigned long long)smaj != major(st.st_rdev) ||
            (unsigned long long)smin != minor(st.st_rdev))
            problem(c, path, "%s is %u:%u on this host, the spec says %lld:%lld", host,
                    major(st.st_rdev), minor(st.st_rdev), smaj, smin);
    }
}

static void check_mount(struct checker *c, const json_t *m, const char *path)
{
    static const char *const keys[] = {"hostPath", "containerPath", "options", "type", NULL};
    if (!check_object(c, m, path, keys))
        return;
    const char *hp = get_string(c, m, "hostPath", path, true);
    const char *cp = get_string(c, m, "containerPath", path, true);
    get_string(c, m, "type", path, false);
    check_string_array(c, m, "options", path);
    if (cp != NULL && cp[0] != '/')
        problem(c, path, "`containerPath` must be absolute");
    if (!(c->flags & CDI_CHECK_HOST) || hp == NULL)
        return;
    const char *type = json_string_value(json_object_get(m, "type"));
    if (type != NULL && strcmp(type, "bind") != 0)
        return; /* tmpfs and the like have no host path */
    struct stat st;
    if (lstat(hp, &st) < 0) {
        problem(c, path,
                "hostPath `%s` no longer exists on this host: regenerate the spec "
                "(`gctk cdi generate`; a driver upgrade removes the old files)",
                hp);
        return;
    }
    const char *fv = file_driver_version(hp);
    if (c->driver != NULL && fv != NULL && strcmp(fv, c->driver) != 0)
        problem(c, path,
                "hostPath `%s` belongs to driver %s, this host runs %s: regenerate the "
                "spec",
                hp, fv, c->driver);
}

static void check_hook(struct checker *c, const json_t *h, const char *path)
{
    static const char *const keys[] = {"hookName", "path", "args", "env", "timeout", NULL};
    static const char *const names[] = {"prestart",       "createRuntime", "createContainer",
                                        "startContainer", "poststart",     "poststop"};
    if (!check_object(c, h, path, keys))
        return;
    const char *name = get_string(c, h, "hookName", path, true);
    const char *p = get_string(c, h, "path", path, true);
    check_string_array(c, h, "args", path);
    check_string_array(c, h, "env", path);
    check_int(c, h, "timeout", path, 1);
    bool known = name == NULL;
    for (size_t i = 0; i < GCTK_ARRAY_LEN(names) && !known; i++)
        known = strcmp(names[i], name) == 0;
    if (!known)
        problem(c, path,
                "unknown hookName `%s`: use createContainer, createRuntime, "
                "startContainer, poststart, poststop or prestart",
                name);
    if (p != NULL && p[0] != '/')
        problem(c, path, "`path` must be absolute");
    if (json_object_get(h, "env") == NULL)
        problem(c, path,
                "no `env`: the hook inherits the runtime's environment; give it an "
                "explicit one");
    if ((c->flags & CDI_CHECK_HOST) && p != NULL && p[0] == '/' && access(p, X_OK) < 0)
        problem(c, path, "hook `%s` is not an executable on this host", p);
}

static void check_edits(struct checker *c, const json_t *e, const char *path)
{
    static const char *const keys[] = {"env",      "deviceNodes",    "hooks",      "mounts",
                                       "intelRdt", "additionalGids", "netDevices", NULL};
    if (!check_object(c, e, path, keys))
        return;
    check_string_array(c, e, "env", path);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(e, "env"), i, v)
    {
        if (json_is_string(v) && strchr(json_string_value(v), '=') == NULL)
            problem(c, path, "`env[%zu]` `%s` is not NAME=value", i, json_string_value(v));
    }
    static const char *const lists[] = {"deviceNodes", "mounts", "hooks", "additionalGids",
                                        "netDevices"};
    for (size_t k = 0; k < GCTK_ARRAY_LEN(lists); k++) {
        json_t *arr = json_object_get(e, lists[k]);
        if (arr != NULL && !json_is_array(arr)) {
            problem(c, path, "`%s` must be an array", lists[k]);
            continue;
        }
        json_array_foreach(arr, i, v)
        {
            cleanup_free char *p = xasprintf("%s.%s[%zu]", path, lists[k], i);
            if (k == 0)
                check_node(c, v, p);
            else if (k == 1)
                check_mount(c, v, p);
            else if (k == 2)
                check_hook(c, v, p);
            else if (k == 3 && (!json_is_integer(v) || json_integer_value(v) < 0))
                problem(c, p, "must be a group id");
        }
    }
}

static void check_annotations(struct checker *c, const json_t *obj, const char *path)
{
    json_t *a = json_object_get(obj, "annotations");
    if (a == NULL)
        return;
    if (!json_is_object(a)) {
        problem(c, path, "`annotations` must be an object of strings");
        return;
    }
    const char *k;
    json_t *v;
    json_object_foreach(a, k, v)
    {
        if (!json_is_string(v))
            problem(c, path, "`annotations.%s` must be a string", k);
    }
}

size_t cdi_validate(const json_t *spec, unsigned flags, const char *driver_version,
                    struct strv *problems)
{
    struct checker c = {.flags = flags, .driver = driver_version, .problems = problems};
    size_t before = problems->len;
    static const char *const keys[] = {"cdiVersion", "kind",           "annotations",
                                       "devices",    "containerEdits", NULL};
    if (!check_object(&c, spec, "", keys))
        return problems->len - before;
    const char *version = get_string(&c, spec, "cdiVersion", "", true);
    const char *kind = get_string(&c, spec, "kind", "", true);
    if (kind != NULL && !cdi_kind_valid(kind))
        problem(&c, "kind", "`%s` is not vendor/class (a DNS name, '/', then [A-Za-z0-9_.-])",
                kind);
    check_annotations(&c, spec, "");
    json_t *devices = json_object_get(spec, "devices");
    if (!json_is_array(devices) || json_array_size(devices) == 0) {
        problem(&c, "devices", "must be a non-empty array");
    } else {
        struct strv seen = {0};
        size_t i;
        json_t *d;
        json_array_foreach(devices, i, d)
        {
            cleanup_free char *path = xasprintf("devices[%zu]", i);
            static const char *const dkeys[] = {"name", "annotations", "containerEdits", NULL};
            if (!check_object(&c, d, path, dkeys))
                continue;
            const char *name = get_string(&c, d, "name", path, true);
            if (name != NULL && !cdi_device_name_valid(name))
                problem(&c, path,
                        "name `%s` is not valid: [A-Za-z0-9_.:-], beginning and "
                        "ending with a letter or digit",
                        name);
            if (name != NULL && strv_contains(&seen, name))
                problem(&c, path, "name `%s` appears twice", name);
            if (name != NULL)
                strv_push(&seen, xstrdup(name));
            check_annotations(&c, d, path);
            json_t *e = json_object_get(d, "containerEdits");
            cleanup_free char *ep = xasprintf("%s.containerEdits", path);
            if (e == NULL)
                problem(&c, path, "`containerEdits` is required");
            else
                check_edits(&c, e, ep);
        }
        strv_clear(&seen);
    }
    json_t *e = json_object_get(spec, "containerEdits");
    if (e != NULL)
        check_edits(&c, e, "containerEdits");
    if (version != NULL) {
        cleanup_free char *why = NULL;
        const char *needed = cdi_required_version(spec, &why);
        int cmp = cdi_version_cmp(version, needed);
        if (cmp == -2)
            problem(&c, "cdiVersion", "`%s` is not a CDI version (0.3.0 to 1.1.0)", version);
        else if (cmp < 0)
            problem(&c, "cdiVersion", "%s is too old for the fields used: %s (needs %s)", version,
                    why, needed);
        else if (cmp > 0)
            problem(&c, "cdiVersion",
                    "%s is newer than its fields need (%s): readers of older versions reject "
                    "it (Podman 4.3 reads up to 0.5.0); declare %s",
                    version, needed, needed);
    }
    return problems->len - before;
}

/* ---- spec directories ----------------------------------------------------------------- */

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

json_t *cdi_load_dirs(const char *const *dirs, struct strv *skipped)
{
    cleanup_json json_t *by_name = json_object();
    json_t *order = json_array();
    for (size_t d = 0; dirs[d] != NULL; d++) {
        DIR *dir = opendir(dirs[d]);
        if (dir == NULL) {
            /* a missing directory is the usual case; an unreadable one is said */
            if (errno != ENOENT && errno != ENOTDIR && skipped != NULL)
                strv_push(skipped, xasprintf("`%s`: %s", dirs[d], strerror(errno)));
            continue;
        }
        struct strv names = {0};
        struct dirent *e;
        while ((e = readdir(dir)) != NULL)
            if (e->d_name[0] != '.' &&
                (str_has_suffix(e->d_name, ".json") || str_has_suffix(e->d_name, ".yaml") ||
                 str_has_suffix(e->d_name, ".yml")))
                strv_push(&names, xstrdup(e->d_name));
        closedir(dir);
        if (names.len > 0)
            qsort(names.items, names.len, sizeof(char *), name_cmp);
        for (size_t i = 0; i < names.len; i++) {
            cleanup_free char *path = path_join(dirs[d], names.items[i]);
            json_t *spec = NULL;
            cleanup_error gctk_error *e2 = NULL;
            struct strv problems = {0};
            if (cdi_load(path, &spec, &e2) < 0) {
                if (skipped != NULL)
                    strv_push(skipped, xasprintf("%s", e2->msg));
                continue;
            }
            if (cdi_validate(spec, 0, NULL, &problems) > 0) {
                if (skipped != NULL)
                    strv_push(skipped, xasprintf("`%s`: %s", path, problems.items[0]));
                strv_clear(&problems);
                json_decref(spec);
                continue;
            }
            /* a later directory's file of the same name replaces the earlier */
            json_object_set_new(by_name, names.items[i],
                                json_pack("{s:s, s:o}", "file", path, "spec", spec));
        }
        strv_clear(&names);
    }
    const char *k;
    json_t *v;
    json_object_foreach(by_name, k, v)
    {
        json_array_append(order, v);
    }
    return order;
}

void cdi_list_devices(const json_t *specs, struct strv *out)
{
    size_t i, k;
    json_t *s, *d;
    json_array_foreach(specs, i, s)
    {
        json_t *spec = json_object_get(s, "spec");
        const char *kind = json_string_value(json_object_get(spec, "kind"));
        json_array_foreach(json_object_get(spec, "devices"), k, d)
        {
            strv_push(out, xasprintf("%s=%s", kind, json_string_value(json_object_get(d, "name"))));
        }
    }
}

int cdi_resolve(const json_t *specs, const struct strv *names, json_t **edits, gctk_error **err)
{
    cleanup_json json_t *list = json_array();
    json_t *used = json_array(); /* specs whose top-level edits are in */
    int rc = -1;
    for (size_t n = 0; n < names->len; n++) {
        cleanup_free char *kind = NULL, *name = NULL;
        if (cdi_parse_qualified(names->items[n], &kind, &name, err) < 0)
            goto out;
        json_t *found_spec = NULL, *found_dev = NULL;
        bool kind_known = false;
        struct strv known = {0};
        size_t i, k;
        json_t *s, *d;
        json_array_foreach(specs, i, s)
        {
            json_t *spec = json_object_get(s, "spec");
            if (strcmp(json_string_value(json_object_get(spec, "kind")), kind) != 0)
                continue;
            kind_known = true;
            json_array_foreach(json_object_get(spec, "devices"), k, d)
            {
                const char *dn = json_string_value(json_object_get(d, "name"));
                strv_push(&known, xstrdup(dn));
                if (strcmp(dn, name) == 0 && found_dev == NULL) {
                    found_spec = spec;
                    found_dev = d;
                }
            }
        }
        if (found_dev == NULL) {
            if (!kind_known) {
                gctk_fail(err, 0,
                          "unresolvable CDI device `%s`: no spec in the CDI directories "
                          "offers the kind `%s`: run `gctk cdi generate`",
                          names->items[n], kind);
            } else {
                cleanup_free char *list_s = strv_join(&known, ", ");
                gctk_fail(err, 0, "unresolvable CDI device `%s`: `%s` offers %s", names->items[n],
                          kind, list_s);
            }
            strv_clear(&known);
            goto out;
        }
        strv_clear(&known);
        bool have = false;
        json_array_foreach(used, i, s)
        {
            have = have || s == found_spec;
        }
        if (!have) {
            json_array_append(used, found_spec);
            json_t *top = json_object_get(found_spec, "containerEdits");
            if (top != NULL)
                json_array_append(list, top);
        }
        json_array_append(list, json_object_get(found_dev, "containerEdits"));
    }
    *edits = steal_pointer(&list);
    rc = 0;
out:
    json_decref(used);
    return rc;
}

void cdi_requested_names(const struct strv *annotations, const char *visible_devices,
                         struct strv *out)
{
    for (size_t i = 0; i < annotations->len; i++) {
        const char *a = annotations->items[i];
        if (!str_has_prefix(a, "cdi.k8s.io/"))
            continue;
        const char *eq = strchr(a, '=');
        if (eq == NULL)
            continue;
        cleanup_free char *copy = xstrdup(eq + 1);
        char *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
            str_strip(t);
            if (t[0] != '\0' && !strv_contains(out, t))
                strv_push(out, xstrdup(t));
        }
    }
    if (visible_devices == NULL || visible_devices[0] == '\0')
        return;
    /* only when every entry is a CDI name: "0,1" stays the hook's business */
    cleanup_free char *copy = xstrdup(visible_devices);
    struct strv names = {0};
    char *save = NULL;
    bool all = true;
    for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        str_strip(t);
        if (!cdi_is_qualified(t))
            all = false;
        else
            strv_push(&names, xstrdup(t));
    }
    for (size_t i = 0; all && i < names.len; i++)
        if (!strv_contains(out, names.items[i]))
            strv_push(out, xstrdup(names.items[i]));
    strv_clear(&names);
}

/* ---- applying edits to config.json ----------------------------------------------------- */

static json_t *child(json_t *parent, const char *key, bool array)
{
    json_t *v = json_object_get(parent, key);
    if (v == NULL || json_is_null(v)) {
        v = array ? json_array() : json_object();
        json_object_set_new(parent, key, v);
    }
    return v;
}

static int apply_env(json_t *config, const json_t *env, gctk_error **err)
{
    json_t *process = child(config, "process", false);
    json_t *list = child(process, "env", true);
    if (!json_is_object(process) || !json_is_array(list))
        return gctk_fail(err, 0, "config.json: `process.env` is not an array");
    size_t i, k;
    json_t *v, *x;
    json_array_foreach(env, i, v)
    {
        const char *s = json_string_value(v);
        size_t n = strcspn(s, "=");
        for (k = 0; k < json_array_size(list);) {
            const char *old = json_string_value(json_array_get(list, k));
            if (old != NULL && strncmp(old, s, n) == 0 && old[n] == '=')
                json_array_remove(list, k);
            else
                k++;
        }
        json_array_append_new(list, json_string(s));
    }
    (void)x;
    return 0;
}

static int apply_nodes(json_t *config, const json_t *nodes, gctk_error **err)
{
    json_t *linux_ = child(config, "linux", false);
    if (!json_is_object(linux_))
        return gctk_fail(err, 0, "config.json: `linux` is not an object");
    json_t *devs = child(linux_, "devices", true);
    json_t *res = child(linux_, "resources", false);
    if (!json_is_array(devs) || !json_is_object(res))
        return gctk_fail(err, 0, "config.json: `linux.devices` or `linux.resources` malformed");
    json_t *rules = child(res, "devices", true);
    if (!json_is_array(rules))
        return gctk_fail(err, 0, "config.json: `linux.resources.devices` is not an array");
    size_t i, k;
    json_t *n, *x;
    json_array_foreach(nodes, i, n)
    {
        const char *path = json_string_value(json_object_get(n, "path"));
        const char *hp = json_string_value(json_object_get(n, "hostPath"));
        const char *type = json_string_value(json_object_get(n, "type"));
        const char *perms = json_string_value(json_object_get(n, "permissions"));
        json_int_t maj = json_integer_value(json_object_get(n, "major"));
        json_int_t min = json_integer_value(json_object_get(n, "minor"));
        json_t *mode = json_object_get(n, "fileMode");
        if (type == NULL || (maj == 0 && min == 0)) {
            const char *host = hp != NULL && hp[0] != '\0' ? hp : path;
            struct stat st;
            if (stat(host, &st) < 0)
                return gctk_fail(err, errno, "CDI device node `%s`", host);
            if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
                return gctk_fail(err, 0, "CDI device node `%s` is not a device", host);
            type = S_ISCHR(st.st_mode) ? "c" : "b";
            maj = major(st.st_rdev);
            min = minor(st.st_rdev);
            if (mode == NULL)
                mode = json_integer(st.st_mode & 0777);
            else
                json_incref(mode);
        } else {
            json_incref(mode);
        }
        /* the same node twice (two GPUs' specs) is added once */
        for (k = 0; k < json_array_size(devs);) {
            const char *old = json_string_value(json_object_get(json_array_get(devs, k), "path"));
            if (old != NULL && strcmp(old, path) == 0)
                json_array_remove(devs, k);
            else
                k++;
        }
        json_t *d = json_pack("{s:s, s:s, s:I, s:I}", "path", path, "type", type, "major", maj,
                              "minor", min);
        if (mode != NULL)
            json_object_set_new(d, "fileMode", mode);
        if (json_object_get(n, "uid") != NULL)
            json_object_set(d, "uid", json_object_get(n, "uid"));
        if (json_object_get(n, "gid") != NULL)
            json_object_set(d, "gid", json_object_get(n, "gid"));
        json_array_append_new(devs, d);
        json_array_append_new(rules, json_pack("{s:b, s:s, s:I, s:I, s:s}", "allow", 1, "type",
                                               type, "major", maj, "minor", min, "access",
                                               perms ? perms : "rwm"));
    }
    (void)x;
    return 0;
}

static int apply_mounts(json_t *config, const json_t *mounts, gctk_error **err)
{
    json_t *list = child(config, "mounts", true);
    if (!json_is_array(list))
        return gctk_fail(err, 0, "config.json: `mounts` is not an array");
    size_t i, k;
    json_t *m;
    json_array_foreach(mounts, i, m)
    {
        const char *dst = json_string_value(json_object_get(m, "containerPath"));
        for (k = 0; k < json_array_size(list);) {
            const char *old =
                json_string_value(json_object_get(json_array_get(list, k), "destination"));
            if (old != NULL && strcmp(old, dst) == 0)
                json_array_remove(list, k);
            else
                k++;
        }
        const char *type = json_string_value(json_object_get(m, "type"));
        json_t *o = json_pack("{s:s, s:s, s:s}", "destination", dst, "type", type ? type : "bind",
                              "source", json_string_value(json_object_get(m, "hostPath")));
        json_t *opts = json_object_get(m, "options");
        if (opts != NULL)
            json_object_set(o, "options", opts);
        json_array_append_new(list, o);
    }
    return 0;
}

static int apply_hooks(json_t *config, const json_t *hooks, gctk_error **err)
{
    json_t *all = child(config, "hooks", false);
    if (!json_is_object(all))
        return gctk_fail(err, 0, "config.json: `hooks` is not an object");
    size_t i;
    json_t *h;
    json_array_foreach(hooks, i, h)
    {
        json_t *stage = child(all, json_string_value(json_object_get(h, "hookName")), true);
        if (!json_is_array(stage))
            return gctk_fail(err, 0, "config.json: `hooks.%s` is not an array",
                             json_string_value(json_object_get(h, "hookName")));
        json_t *o = json_pack("{s:O}", "path", json_object_get(h, "path"));
        static const char *const keys[] = {"args", "env", "timeout"};
        for (size_t k = 0; k < GCTK_ARRAY_LEN(keys); k++)
            if (json_object_get(h, keys[k]) != NULL)
                json_object_set(o, keys[k], json_object_get(h, keys[k]));
        json_array_append_new(stage, o);
    }
    return 0;
}

int cdi_apply(json_t *config, const json_t *edits, gctk_error **err)
{
    if (!json_is_object(config))
        return gctk_fail(err, 0, "config.json: not an object");
    size_t i;
    json_t *e;
    json_array_foreach(edits, i, e)
    {
        json_t *v;
        if ((v = json_object_get(e, "env")) != NULL && apply_env(config, v, err) < 0)
            return -1;
        if ((v = json_object_get(e, "deviceNodes")) != NULL && apply_nodes(config, v, err) < 0)
            return -1;
        if ((v = json_object_get(e, "mounts")) != NULL && apply_mounts(config, v, err) < 0)
            return -1;
        if ((v = json_object_get(e, "hooks")) != NULL && apply_hooks(config, v, err) < 0)
            return -1;
        json_t *gids = json_object_get(e, "additionalGids");
        if (json_array_size(gids) > 0) {
            json_t *user = child(child(config, "process", false), "user", false);
            json_t *add = child(user, "additionalGids", true);
            json_array_extend(add, gids);
        }
    }
    return 0;
}

/* ---- the hooks ---------------------------------------------------------------------- */

int cdi_hook_update_ldcache(const char *rootfs, const struct strv *folders, gctk_error **err)
{
    struct rootfs r = {.fd = -1};
    if (rootfs_open(rootfs, &r, err) < 0)
        return -1;
    struct ldcache c = {0};
    layout_ldcache_read(&r, &c, NULL);
    int rc = 0;
    for (size_t i = 0; i < folders->len && rc == 0; i++)
        rc = layout_ldcache_add_folder(&r, &c, folders->items[i], err);
    if (rc == 0)
        rc = layout_ldcache_write(&r, &c, err);
    ldcache_clear(&c);
    rootfs_close(&r);
    return rc;
}

int cdi_hook_create_symlinks(const char *rootfs, const struct strv *links, gctk_error **err)
{
    struct rootfs r = {.fd = -1};
    if (rootfs_open(rootfs, &r, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < links->len && rc == 0; i++) {
        const char *spec = links->items[i];
        const char *sep = strstr(spec, "::");
        if (sep == NULL || sep == spec || sep[2] != '/') {
            rc = gctk_fail(err, 0, "link `%s`: use TARGET::/ABSOLUTE/LINK", spec);
            break;
        }
        cleanup_free char *target = xstrndup(spec, (size_t)(sep - spec));
        rc = rootfs_symlink(&r, target, sep + 2, NULL, err);
    }
    rootfs_close(&r);
    return rc;
}

#define PROC_NVIDIA "/proc/driver/nvidia"

/* The minors of the /dev/nvidiaN nodes the runtime gave the container. */
static void container_gpu_minors(struct rootfs *r, bool *minors, size_t n)
{
    cleanup_fd int dfd = -1;
    cleanup_error gctk_error *e = NULL;
    if (rootfs_open_path(r, "/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC, &dfd, &e) < 0)
        return;
    DIR *d = fdopendir(dfd);
    if (d == NULL)
        return;
    dfd = -1;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        const char *num = ent->d_name + strlen("nvidia");
        if (!str_has_prefix(ent->d_name, "nvidia") || *num == '\0' ||
            strspn(num, "0123456789") != strlen(num))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), ent->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(st.st_mode) &&
            minor(st.st_rdev) < n)
            minors[minor(st.st_rdev)] = true;
    }
    closedir(d);
}

#define CDI_CAP_MINORS 65536

/* The minors of the container's /dev/nvidia-caps/nvidia-cap* nodes of this
 * major (the nvidia-caps major). */
static void container_cap_minors(struct rootfs *r, unsigned major_want, bool *minors)
{
    cleanup_fd int dfd = -1;
    cleanup_error gctk_error *e = NULL;
    if (rootfs_open_path(r, "/dev/nvidia-caps", O_RDONLY | O_DIRECTORY | O_CLOEXEC, &dfd, &e) < 0)
        return;
    DIR *d = fdopendir(dfd);
    if (d == NULL)
        return;
    dfd = -1;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        struct stat st;
        if (str_has_prefix(ent->d_name, "nvidia-cap") &&
            fstatat(dirfd(d), ent->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISCHR(st.st_mode) && major(st.st_rdev) == major_want &&
            minor(st.st_rdev) < CDI_CAP_MINORS)
            minors[minor(st.st_rdev)] = true;
    }
    closedir(d);
}

/* MIG: the access files of the instances whose gi and ci nvidia-cap nodes the
 * container has, read-only at their own paths. */
/* The capability files of the MIG devices whose gi and ci nodes the
 * container has (a gi shared by two compute instances is named once). */
static void container_mig_procs(const gctk_host *h, struct rootfs *r, struct strv *procs)
{
    int major_caps = -1;
    for (size_t i = 0; i < gctk_host_node_count(h) && major_caps < 0; i++)
        if (gctk_host_node(h, i)->kind == GCTK_NODE_CAP)
            major_caps = (int)gctk_host_node(h, i)->major;
    if (major_caps < 0 || gctk_host_mig_count(h) == 0)
        return;
    cleanup_free bool *minors = xcalloc(CDI_CAP_MINORS, sizeof(bool));
    container_cap_minors(r, (unsigned)major_caps, minors);
    for (size_t k = 0; k < gctk_host_mig_count(h); k++) {
        const struct gctk_mig *m = gctk_host_mig(h, k);
        if (m->gi_access == NULL || m->ci_access == NULL || m->gi_minor < 0 || m->ci_minor < 0 ||
            m->gi_minor >= CDI_CAP_MINORS || m->ci_minor >= CDI_CAP_MINORS ||
            !minors[m->gi_minor] || !minors[m->ci_minor])
            continue;
        if (!strv_contains(procs, m->gi_access))
            strv_push(procs, xstrdup(m->gi_access));
        strv_push(procs, xstrdup(m->ci_access));
    }
}

int cdi_hook_mask_proc(const char *driver_root, const char *rootfs, gctk_error **err)
{
    cleanup_free char *host_dir = path_join(driver_root, PROC_NVIDIA);
    struct stat st;
    if (stat(host_dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return 0; /* no driver: nothing to show */
    gctk_host *h = NULL;
    if (gctk_host_open(driver_root, GCTK_HOST_NO_NVML, &h, err) < 0)
        return -1;
    struct rootfs r = {.fd = -1};
    struct mount_journal *j = NULL;
    struct strv procs = {0};
    cleanup_free const struct gctk_gpu **gpus = xcalloc(gctk_host_gpu_count(h), sizeof(*gpus));
    size_t ngpus = 0;
    bool minors[256] = {0};
    int rc = -1;
    if (rootfs_open(rootfs, &r, err) < 0)
        goto out;
    j = mount_journal_new();
    /* the container's GPUs are the ones whose nodes it was given */
    container_gpu_minors(&r, minors, GCTK_ARRAY_LEN(minors));
    for (size_t i = 0; i < gctk_host_gpu_count(h); i++) {
        const struct gctk_gpu *g = host_gpu_raw(h, i);
        if (g->minor >= 0 && (size_t)g->minor < GCTK_ARRAY_LEN(minors) && minors[g->minor])
            gpus[ngpus++] = g;
    }
    container_mig_procs(h, &r, &procs);
    rc = inject_mask_proc(h, &r, gpus, ngpus, (const char *const *)procs.items, procs.len, j, err);
    if (rc < 0)
        mount_journal_undo(j);
out:
    mount_journal_free(j);
    rootfs_close(&r);
    strv_clear(&procs);
    gctk_host_free(h);
    return rc;
}

/* ---- engine drop-ins ------------------------------------------------------------------ */

/* A TOML basic string: quotes and backslashes escaped, control characters
 * refused by the callers' paths (they come from the command line). */
static char *toml_str(const char *s)
{
    size_t n = 2;
    for (const char *p = s; *p; p++)
        n += (*p == '"' || *p == '\\') ? 2 : 1;
    char *out = xmalloc(n + 1), *o = out;
    *o++ = '"';
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\')
            *o++ = '\\';
        *o++ = *p;
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

char *cdi_containerd_dropin(const char *name, const char *runtime_path, bool set_default)
{
    cleanup_free char *path = toml_str(runtime_path), *n = toml_str(name);
    cleanup_free char *def =
        set_default ? xasprintf("\n[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n"
                                "  default_runtime_name = %s\n",
                                n)
                    : xstrdup("");
    return xasprintf(
        "# Written by `gctk runtime configure --runtime=containerd`; the main config must\n"
        "# import it: imports = [\"/etc/containerd/conf.d/*.toml\"]\n"
        "version = 2\n"
        "\n"
        "[plugins.\"io.containerd.grpc.v1.cri\"]\n"
        "  enable_cdi = true\n"
        "  cdi_spec_dirs = [\"" CDI_STATIC_DIR "\", \"" CDI_DYNAMIC_DIR "\"]\n"
        "%s"
        "\n"
        "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.%s]\n"
        "  runtime_type = \"io.containerd.runc.v2\"\n"
        "\n"
        "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.%s.options]\n"
        "  BinaryName = %s\n",
        def, n, n, path);
}

char *cdi_crio_dropin(const char *name, const char *runtime_path, bool set_default)
{
    cleanup_free char *path = toml_str(runtime_path), *n = toml_str(name);
    cleanup_free char *def =
        set_default ? xasprintf("[crio.runtime]\ndefault_runtime = %s\n\n", n) : xstrdup("");
    return xasprintf("# Written by `gctk runtime configure --runtime=crio`.\n"
                     "%s"
                     "[crio.runtime.runtimes.%s]\n"
                     "runtime_path = %s\n"
                     "runtime_type = \"oci\"\n",
                     def, n, path);
}

char *cdi_podman_hook(const char *hook_path, const char *config)
{
    json_t *env = json_array();
    json_array_append_new(env, json_string(CDI_HOOK_PATH_ENV));
    if (config != NULL && config[0] != '\0')
        json_array_append_new(env, json_sprintf("GCTK_CONFIG=%s", config));
    /* every container: the hook reads config.json and leaves alone those
     * that ask for no GPU (NVIDIA_VISIBLE_DEVICES unset) */
    cleanup_json json_t *h =
        json_pack("{s:s, s:{s:s, s:[s,s], s:o}, s:{s:b}, s:[s]}", "version", "1.0.0", "hook",
                  "path", hook_path, "args", "gctk-hook", "prestart", "env", env, "when", "always",
                  1, "stages", "prestart");
    cleanup_free char *s = json_dumps(h, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    return xasprintf("%s\n", s);
}

int cdi_dropin_write(const char *path, const char *text, bool remove, bool dry_run, bool *changed,
                     gctk_error **err)
{
    cleanup_free char *old = NULL;
    size_t len = 0;
    cleanup_error gctk_error *e = NULL;
    bool exists = read_file(path, 1u << 20, &old, &len, &e) == 0;
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

bool cdi_containerd_has_imports(const char *main_config)
{
    cleanup_free char *text = NULL;
    if (read_file(main_config, 4u << 20, &text, NULL, NULL) < 0)
        return false;
    for (char *line = text; line != NULL && *line != '\0';) {
        char *next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        str_strip(line);
        if (str_has_prefix(line, "imports") && strchr(line, '=') != NULL)
            return true;
        line = next;
    }
    return false;
}
