/* Compose files: the GPU requests of each service.
 *
 * libyaml's document API gives a node graph with aliases already resolved;
 * it does not resolve tags of plain scalars, so the YAML 1.1 rules that
 * Compose's own loader (PyYAML) applies are reproduced for what matters here:
 * a plain `0` is a number, not the string device id '0', and a plain `yes` is
 * a boolean. Merge keys (`<<: *anchor`), common in Compose files that share a
 * GPU block between services, are honoured on lookup. */
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <string.h>
#include <yaml.h>

#include "caps.h"
#include "compose.h"
#include "engine.h"

#define MAX_COMPOSE_SIZE (16u << 20)

struct loader {
    const char *name;
    yaml_document_t *doc;
    const char *service; /* the service being read, for messages */
    gctk_error **err;
};

static unsigned node_line(const yaml_node_t *n)
{
    return (unsigned)n->start_mark.line + 1;
}

/* "`compose.yaml` line 12: service `train`: <field>: <message>" */
static int load_fail(struct loader *l, const yaml_node_t *n, const char *field, const char *fmt,
                     ...) GCTK_PRINTF(4, 5);
static int load_fail(struct loader *l, const yaml_node_t *n, const char *field, const char *fmt,
                     ...)
{
    va_list ap;
    va_start(ap, fmt);
    cleanup_free char *m = xvasprintf(fmt, ap);
    va_end(ap);
    if (l->service != NULL)
        return gctk_fail(l->err, 0, "`%s` line %u: service `%s`: %s: %s", l->name, node_line(n),
                         l->service, field, m);
    return gctk_fail(l->err, 0, "`%s` line %u: %s: %s", l->name, node_line(n), field, m);
}

/* ---- YAML 1.1 scalar types, as PyYAML resolves plain scalars ------------------------- */

enum scalar_type { SCALAR_STR, SCALAR_NULL, SCALAR_BOOL, SCALAR_INT, SCALAR_FLOAT };

static bool matches(const char *s, const char *pattern)
{
    regex_t re;
    if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
        abort();
    bool ok = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

static enum scalar_type scalar_type(const yaml_node_t *n)
{
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return SCALAR_STR;
    const char *s = (const char *)n->data.scalar.value;
    if (matches(s, "^(~|null|Null|NULL|)$"))
        return SCALAR_NULL;
    if (matches(s,
                "^(yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$"))
        return SCALAR_BOOL;
    if (matches(s, "^[-+]?(0|[1-9][0-9_]*|0[0-7_]+|0b[01_]+|0x[0-9a-fA-F_]+|[1-9][0-9_]*(:[0-5]?[0-"
                   "9])+)$"))
        return SCALAR_INT;
    if (matches(s, "^([-+]?([0-9][0-9_]*)?\\.[0-9_]*([eE][-+][0-9]+)?|[-+]?\\.(inf|Inf|INF)|\\.("
                   "nan|NaN|NAN))$"))
        return SCALAR_FLOAT;
    return SCALAR_STR;
}

static const char *scalar_type_name(enum scalar_type t)
{
    switch (t) {
    case SCALAR_NULL:
        return "null";
    case SCALAR_BOOL:
        return "a boolean";
    case SCALAR_INT:
        return "a number";
    case SCALAR_FLOAT:
        return "a number";
    default:
        return "a string";
    }
}

static const char *node_kind_name(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_SCALAR_NODE:
        return scalar_type_name(scalar_type(n));
    default:
        return "empty";
    }
}

static const char *scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static bool is_null(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE && scalar_type(n) == SCALAR_NULL;
}

/* ---- mappings with merge keys --------------------------------------------------------- */

static yaml_node_t *node_at(struct loader *l, int id)
{
    return yaml_document_get_node(l->doc, id);
}

static yaml_node_t *map_get_depth(struct loader *l, yaml_node_t *map, const char *key, int depth)
{
    if (map == NULL || map->type != YAML_MAPPING_NODE || depth > 16)
        return NULL;
    yaml_node_pair_t *p;
    for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(l, p->key);
        if (k != NULL && k->type == YAML_SCALAR_NODE && strcmp(scalar(k), key) == 0)
            return node_at(l, p->value);
    }
    /* not set here: look in what `<<` merges in, the first one winning */
    for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(l, p->key);
        if (k == NULL || k->type != YAML_SCALAR_NODE || strcmp(scalar(k), "<<") != 0)
            continue;
        yaml_node_t *v = node_at(l, p->value);
        if (v == NULL)
            continue;
        if (v->type == YAML_MAPPING_NODE)
            return map_get_depth(l, v, key, depth + 1);
        if (v->type == YAML_SEQUENCE_NODE) {
            for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
                 i++) {
                yaml_node_t *found = map_get_depth(l, node_at(l, *i), key, depth + 1);
                if (found != NULL)
                    return found;
            }
        }
    }
    return NULL;
}

static yaml_node_t *map_get(struct loader *l, yaml_node_t *map, const char *key)
{
    return map_get_depth(l, map, key, 0);
}

/* ---- typed readers ------------------------------------------------------------------------ */

static int want_kind(struct loader *l, yaml_node_t *n, yaml_node_type_t type, const char *field)
{
    if (n->type == type)
        return 0;
    return load_fail(l, n, field, "must be %s, not %s",
                     type == YAML_MAPPING_NODE ? "a mapping" : "a list", node_kind_name(n));
}

static int read_string(struct loader *l, yaml_node_t *n, const char *field, char **out)
{
    if (n->type != YAML_SCALAR_NODE)
        return load_fail(l, n, field, "must be a string, not %s", node_kind_name(n));
    enum scalar_type t = scalar_type(n);
    if (t != SCALAR_STR)
        return load_fail(l, n, field, "`%s` is %s, not a string: quote it ('%s')", scalar(n),
                         scalar_type_name(t), scalar(n));
    *out = xstrdup(scalar(n));
    return 0;
}

static int read_string_list(struct loader *l, yaml_node_t *n, const char *field, struct strv *out)
{
    if (want_kind(l, n, YAML_SEQUENCE_NODE, field) < 0)
        return -1;
    size_t idx = 0;
    for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
         i++, idx++) {
        cleanup_free char *f = xasprintf("%s[%zu]", field, idx);
        char *s = NULL;
        if (read_string(l, node_at(l, *i), f, &s) < 0)
            return -1;
        strv_push(out, s);
    }
    return 0;
}

/* Compose's list_or_dict: ["K=V", "K"] or {K: V, K: null}; values may be
 * numbers or booleans, taken as written. */
static int read_list_or_dict(struct loader *l, yaml_node_t *n, const char *field, struct strv *out)
{
    if (n->type == YAML_SEQUENCE_NODE) {
        size_t idx = 0;
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
             i++, idx++) {
            yaml_node_t *item = node_at(l, *i);
            if (item->type != YAML_SCALAR_NODE || is_null(item)) {
                cleanup_free char *f = xasprintf("%s[%zu]", field, idx);
                return load_fail(l, item, f, "must be KEY=VALUE, not %s", node_kind_name(item));
            }
            strv_push(out, xstrdup(scalar(item)));
        }
        return 0;
    }
    if (n->type != YAML_MAPPING_NODE)
        return load_fail(l, n, field, "must be a list or a mapping, not %s", node_kind_name(n));
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(l, p->key), *v = node_at(l, p->value);
        if (k->type != YAML_SCALAR_NODE)
            return load_fail(l, k, field, "keys must be strings, not %s", node_kind_name(k));
        cleanup_free char *f = xasprintf("%s.%s", field, scalar(k));
        if (v->type != YAML_SCALAR_NODE)
            return load_fail(l, v, f, "must be a string, a number or a boolean, not %s",
                             node_kind_name(v));
        strv_push(out, is_null(v) ? xstrdup(scalar(k)) : xasprintf("%s=%s", scalar(k), scalar(v)));
    }
    return 0;
}

static int read_count(struct loader *l, yaml_node_t *n, const char *field, long *out)
{
    if (n->type == YAML_SCALAR_NODE && strcmp(scalar(n), "all") == 0) {
        *out = -1;
        return 0;
    }
    if (n->type == YAML_SCALAR_NODE && scalar_type(n) == SCALAR_INT) {
        /* decimal only: 0x10 or 1_000 in a GPU count is a typo, not intent */
        const char *s = scalar(n);
        char *end = NULL;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno == 0 && *end == '\0')
            return *out = v, 0;
    }
    if (n->type == YAML_SCALAR_NODE)
        return load_fail(l, n, field, "`%s` is not an integer or \"all\"", scalar(n));
    return load_fail(l, n, field, "must be an integer or \"all\", not %s", node_kind_name(n));
}

static bool is_extension(const char *key)
{
    return str_has_prefix(key, "x-") || strcmp(key, "<<") == 0;
}

/* One device entry: deploy.resources.reservations.devices[i] or gpus[i]. */
static void compose_device_clear(struct compose_device *d)
{
    device_request_clear(&d->req);
}

static int read_device(struct loader *l, yaml_node_t *n, enum compose_source src, size_t index,
                       struct compose_device *out)
{
    cleanup_free char *field = src == COMPOSE_DEPLOY
                                   ? xasprintf("deploy.resources.reservations.devices[%zu]", index)
                                   : xasprintf("gpus[%zu]", index);
    if (want_kind(l, n, YAML_MAPPING_NODE, field) < 0)
        return -1;
    static const char *const known[] = {"capabilities", "count", "device_ids", "driver", "options"};
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(l, p->key);
        if (k->type != YAML_SCALAR_NODE)
            return load_fail(l, k, field, "keys must be strings, not %s", node_kind_name(k));
        bool ok = is_extension(scalar(k));
        for (size_t i = 0; i < GCTK_ARRAY_LEN(known); i++)
            ok = ok || strcmp(scalar(k), known[i]) == 0;
        if (!ok)
            return load_fail(l, k, field,
                             "unknown key `%s`: a device has capabilities, count, device_ids, "
                             "driver and options",
                             scalar(k));
    }
    __attribute__((cleanup(compose_device_clear))) struct compose_device d = {
        .source = src, .index = index, .line = node_line(n)};
    yaml_node_t *v;
    cleanup_free char *f = NULL;
#define FIELD(name) (free(f), f = xasprintf("%s.%s", field, name))
    if ((v = map_get(l, n, "capabilities")) != NULL) {
        if (read_string_list(l, v, FIELD("capabilities"), &d.req.caps) < 0)
            return -1;
        d.req.has_caps = true;
    }
    if (src == COMPOSE_GPUS) {
        /* like --gpus, the gpus key always asks for the gpu capability */
        strv_push(&d.req.caps, xstrdup("gpu"));
        d.req.has_caps = true;
    }
    if ((v = map_get(l, n, "driver")) != NULL &&
        read_string(l, v, FIELD("driver"), &d.req.driver) < 0)
        return -1;
    if ((v = map_get(l, n, "count")) != NULL) {
        if (read_count(l, v, FIELD("count"), &d.req.count) < 0)
            return -1;
        d.req.has_count = true;
    }
    if ((v = map_get(l, n, "device_ids")) != NULL &&
        read_string_list(l, v, FIELD("device_ids"), &d.req.ids) < 0)
        return -1;
    if ((v = map_get(l, n, "options")) != NULL) {
        cleanup_strv struct strv opts = {0};
        if (read_list_or_dict(l, v, FIELD("options"), &opts) < 0)
            return -1;
        for (size_t i = 0; i < opts.len; i++) {
            char *eq = strchr(opts.items[i], '=');
            if (eq != NULL)
                *eq = '\0';
            device_request_set_option(&d.req, opts.items[i], eq != NULL ? eq + 1 : "");
        }
    }
#undef FIELD
    /* the Compose spec: neither count nor device_ids reserves every GPU */
    if (!d.req.has_count && d.req.ids.len == 0)
        d.req.count = -1;
    *out = d;
    d = (struct compose_device){0};
    return 0;
}

static void push_device(struct compose_service *s, struct compose_device *d)
{
    s->devices = xgrow_for_one(s->devices, s->n_devices, sizeof(*s->devices));
    s->devices[s->n_devices++] = *d;
}

static int read_deploy_devices(struct loader *l, yaml_node_t *svc, struct compose_service *s)
{
    static const char *const path[] = {"deploy", "resources", "reservations", "devices"};
    static const char *const names[] = {"deploy", "deploy.resources",
                                        "deploy.resources.reservations",
                                        "deploy.resources.reservations.devices"};
    yaml_node_t *n = svc;
    for (size_t i = 0; i < GCTK_ARRAY_LEN(path); i++) {
        n = map_get(l, n, path[i]);
        if (n == NULL)
            return 0;
        if (want_kind(l, n, i + 1 < GCTK_ARRAY_LEN(path) ? YAML_MAPPING_NODE : YAML_SEQUENCE_NODE,
                      names[i]) < 0)
            return -1;
    }
    size_t idx = 0;
    for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
         i++, idx++) {
        struct compose_device d;
        if (read_device(l, node_at(l, *i), COMPOSE_DEPLOY, idx, &d) < 0)
            return -1;
        push_device(s, &d);
    }
    return 0;
}

static int read_gpus(struct loader *l, yaml_node_t *svc, struct compose_service *s)
{
    yaml_node_t *n = map_get(l, svc, "gpus");
    if (n == NULL)
        return 0;
    if (n->type == YAML_SCALAR_NODE && strcmp(scalar(n), "all") == 0) {
        struct compose_device d = {.source = COMPOSE_GPUS_ALL, .line = node_line(n)};
        d.req.count = -1;
        d.req.has_count = true;
        d.req.has_caps = true;
        strv_push(&d.req.caps, xstrdup("gpu"));
        push_device(s, &d);
        return 0;
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return load_fail(l, n, "gpus", "must be \"all\" or a list of devices, not %s%s%s%s",
                         node_kind_name(n), n->type == YAML_SCALAR_NODE ? " `" : "",
                         n->type == YAML_SCALAR_NODE ? scalar(n) : "",
                         n->type == YAML_SCALAR_NODE ? "`" : "");
    size_t idx = 0;
    for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
         i++, idx++) {
        struct compose_device d;
        if (read_device(l, node_at(l, *i), COMPOSE_GPUS, idx, &d) < 0)
            return -1;
        push_device(s, &d);
    }
    return 0;
}

static void service_clear(struct compose_service *s)
{
    free(s->name);
    for (size_t i = 0; i < s->n_devices; i++)
        device_request_clear(&s->devices[i].req);
    free(s->devices);
    free(s->runtime);
    strv_clear(&s->env);
}

static int read_service_fields(struct loader *l, yaml_node_t *v, struct compose_service *s)
{
    yaml_node_t *n;
    if (v->type != YAML_MAPPING_NODE)
        return load_fail(l, v, "definition", "must be a mapping, not %s", node_kind_name(v));
    if ((n = map_get(l, v, "runtime")) != NULL) {
        if (read_string(l, n, "runtime", &s->runtime) < 0)
            return -1;
        s->runtime_line = node_line(n);
    }
    if ((n = map_get(l, v, "environment")) != NULL &&
        read_list_or_dict(l, n, "environment", &s->env) < 0)
        return -1;
    if (read_deploy_devices(l, v, s) < 0 || read_gpus(l, v, s) < 0)
        return -1;
    return 0;
}

static int read_service(struct loader *l, yaml_node_t *k, yaml_node_t *v,
                        struct compose_service *out)
{
    __attribute__((cleanup(service_clear))) struct compose_service s = {.name = xstrdup(scalar(k)),
                                                                        .line = node_line(k)};
    l->service = s.name;
    int ret = read_service_fields(l, v, &s);
    l->service = NULL;
    if (ret == 0) {
        *out = s;
        s = (struct compose_service){0};
    }
    return ret;
}

void compose_file_free(struct compose_file *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->n_services; i++)
        service_clear(&f->services[i]);
    free(f->services);
    free(f->path);
    free(f);
}

static int read_document(struct loader *l, struct compose_file *f)
{
    yaml_node_t *root = yaml_document_get_root_node(l->doc);
    if (root == NULL)
        return gctk_fail(l->err, 0, "`%s`: empty file: a Compose file needs `services:`", l->name);
    if (root->type != YAML_MAPPING_NODE)
        return load_fail(l, root, "top level", "must be a mapping, not %s", node_kind_name(root));
    yaml_node_t *services = map_get(l, root, "services");
    if (services == NULL || is_null(services))
        return 0;
    if (want_kind(l, services, YAML_MAPPING_NODE, "services") < 0)
        return -1;
    for (yaml_node_pair_t *p = services->data.mapping.pairs.start;
         p < services->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(l, p->key), *v = node_at(l, p->value);
        if (k->type != YAML_SCALAR_NODE)
            return load_fail(l, k, "services", "names must be strings, not %s", node_kind_name(k));
        if (is_extension(scalar(k)))
            continue;
        struct compose_service s;
        if (read_service(l, k, v, &s) < 0)
            return -1;
        f->services = xgrow_for_one(f->services, f->n_services, sizeof(*f->services));
        f->services[f->n_services++] = s;
    }
    return 0;
}

int compose_load_buffer(const char *name, const char *data, size_t len, struct compose_file **out,
                        gctk_error **err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return gctk_fail(err, ENOMEM, "`%s`: initialise the YAML parser", name);
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    if (!yaml_parser_load(&parser, &doc)) {
        gctk_fail(err, 0, "`%s` line %zu column %zu: %s%s%s", name, parser.problem_mark.line + 1,
                  parser.problem_mark.column + 1,
                  parser.problem != NULL ? parser.problem : "invalid YAML",
                  parser.context != NULL ? " " : "", parser.context != NULL ? parser.context : "");
        yaml_parser_delete(&parser);
        return -1;
    }
    yaml_parser_delete(&parser);
    cleanup_compose struct compose_file *f = xcalloc(1, sizeof(*f));
    f->path = xstrdup(name);
    struct loader l = {.name = name, .doc = &doc, .err = err};
    int r = read_document(&l, f);
    yaml_document_delete(&doc);
    if (r < 0)
        return -1;
    *out = steal_pointer(&f);
    return 0;
}

int compose_load(const char *path, struct compose_file **out, gctk_error **err)
{
    cleanup_free char *data = NULL;
    size_t len = 0;
    if (read_file(path, MAX_COMPOSE_SIZE, &data, &len, err) < 0)
        return -1;
    return compose_load_buffer(path, data, len, out, err);
}

char *compose_device_field(const struct compose_device *d)
{
    if (d->source == COMPOSE_DEPLOY)
        return xasprintf("deploy.resources.reservations.devices[%zu]", d->index);
    if (d->source == COMPOSE_GPUS_ALL)
        return xstrdup("gpus");
    return xasprintf("gpus[%zu]", d->index);
}

const char *compose_service_env(const struct compose_service *s, const char *key)
{
    size_t n = strlen(key);
    const char *found = NULL;
    /* the last definition wins, as in a shell environment */
    for (size_t i = 0; i < s->env.len; i++)
        if (strncmp(s->env.items[i], key, n) == 0 && s->env.items[i][n] == '=')
            found = s->env.items[i] + n + 1;
    return found;
}

const char *compose_legacy_visible(const struct compose_service *s)
{
    return compose_service_env(s, "NVIDIA_VISIBLE_DEVICES");
}

/* ---- the Compose that runs the file ------------------------------------------------ */

int compose_version_parse(const char *command, const char *text, struct compose_version *out)
{
    for (const char *p = text; p != NULL && *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || (p > text && p[-1] >= '0' && p[-1] <= '9'))
            continue;
        unsigned v[3] = {0, 0, 0};
        int n = 0, used = 0;
        n = sscanf(p, "%u.%u%n.%u%n", &v[0], &v[1], &used, &v[2], &used);
        if (n < 2)
            continue;
        struct compose_version r = {.major = v[0], .minor = v[1], .patch = n == 3 ? v[2] : 0};
        snprintf(r.name, sizeof(r.name), "%s %u.%u.%u", command, r.major, r.minor, r.patch);
        *out = r;
        return 0;
    }
    return -1;
}

static bool version_before(const struct compose_version *v, unsigned major, unsigned minor)
{
    return v->major < major || (v->major == major && v->minor < minor);
}

enum compose_gpus_support compose_gpus_support(const struct compose_version *v)
{
    if (v == NULL || !version_before(v, 2, 30))
        return COMPOSE_GPUS_SENT;
    return v->major < 2 ? COMPOSE_GPUS_REFUSED : COMPOSE_GPUS_IGNORED;
}

bool compose_sends(const struct compose_device *d, const struct compose_version *v, long *count)
{
    *count = d->req.count;
    if (d->source != COMPOSE_DEPLOY)
        return compose_gpus_support(v) == COMPOSE_GPUS_SENT;
    if (v == NULL || v->major >= 2)
        return true;
    if (version_before(v, 1, 28))
        return false;
    /* 1.28 and 1.29 compute the spec's "all" for neither count nor
     * device_ids but never store it: dockerd gets Count 0 */
    if (!d->req.has_count && d->req.ids.len == 0)
        *count = 0;
    return true;
}

int compose_check_device(const struct compose_service *s, const struct compose_device *d,
                         const struct compose_version *v, size_t host_gpus, gctk_error **err)
{
    const struct device_request *r = &d->req;
    cleanup_free char *field = compose_device_field(d);
    /* Compose 2 checks these itself; Compose 1.29 and the spec leave them to dockerd */
    bool v2 = v != NULL && v->major >= 2;
    if (d->source != COMPOSE_DEPLOY && compose_gpus_support(v) == COMPOSE_GPUS_REFUSED) {
        gctk_fail(err, 0,
                  "service `%s`: %s (line %u): %s refuses the service-level `gpus:` key "
                  "(`Unsupported config option for services.%s: 'gpus'`)",
                  s->name, field, d->line, v->name, s->name);
        return gctk_hint(err, "ask under deploy.resources.reservations.devices (`capabilities: "
                              "[gpu]`, `count: all`), which every Compose since 1.28 sends");
    }
    if (!r->has_caps) {
        if (v2)
            return gctk_fail(err, 0,
                             "service `%s`: %s (line %u): capabilities are required: add "
                             "`capabilities: [gpu]` (%s refuses the file: `capabilities is "
                             "required`)",
                             s->name, field, d->line, v->name);
        return gctk_fail(err, 0,
                         "service `%s`: %s (line %u): capabilities are required: add "
                         "`capabilities: [gpu]` (dockerd otherwise fails with `could not select "
                         "device driver \"%s\" with capabilities: []`)",
                         s->name, field, d->line, r->driver != NULL ? r->driver : "");
    }
    if (r->has_count && r->ids.len > 0) {
        if (v2)
            return gctk_fail(err, 0,
                             "service `%s`: %s (line %u): count and device_ids are mutually "
                             "exclusive: keep one (%s refuses the file: `\"count\" and "
                             "\"device_ids\" attributes are exclusive`)",
                             s->name, field, d->line, v->name);
        return gctk_fail(err, 0,
                         "service `%s`: %s (line %u): count and device_ids are mutually "
                         "exclusive: keep one (dockerd: `cannot set both Count and DeviceIDs on "
                         "device request`)",
                         s->name, field, d->line);
    }
    long count = 0;
    if (!compose_sends(d, v, &count))
        return 0; /* nothing reaches dockerd: compose_device_advice says so */
    if (r->driver != NULL && r->driver[0] != '\0' && strcmp(r->driver, "nvidia") != 0) {
        cleanup_free char *caps = device_request_caps_string(r);
        return gctk_fail(err, 0,
                         "service `%s`: %s (line %u): driver `%s` is not nvidia: dockerd fails "
                         "with `could not select device driver \"%s\" with capabilities: %s`",
                         s->name, field, d->line, r->driver, r->driver, caps);
    }
    struct device_request sent = *r; /* shallow: only the count differs */
    sent.count = count;
    cleanup_free char *visible = NULL;
    cleanup_free char *caps = NULL;
    if (device_request_to_env(&sent, &visible, &caps, err) < 0)
        return gctk_wrap(err, "service `%s`: %s (line %u)", s->name, field, d->line);
    if (count > 0 && (size_t)count > host_gpus)
        return gctk_fail(err, 0,
                         "service `%s`: count %ld exceeds the %zu GPU%s of this host (line %u)",
                         s->name, count, host_gpus, host_gpus == 1 ? "" : "s", d->line);
    if (count < -1)
        return gctk_fail(err, 0,
                         "service `%s`: %s (line %u): count %ld: use a positive number or "
                         "\"all\"",
                         s->name, field, d->line, count);
    return 0;
}

/* A capability list that leaves libcuda out of the container (utility
 * alone, as in the guide's [gpu, utility]): nvidia-smi works, CUDA does not */
static bool caps_without_libcuda(const char *caps)
{
    unsigned mask = 0;
    if (caps == NULL || gctk_caps_parse(caps, &mask, NULL) < 0)
        return false; /* unset: the image's or the default set, which has compute */
    return (cap_expand(mask) & cap_library_caps("libcuda.so.1")) == 0;
}

#define NO_LIBCUDA                                                                                 \
    "CUDA programs find no libcuda and fail (PyTorch: \"Found no NVIDIA driver on your "           \
    "system\"), while nvidia-smi works"

void compose_device_advice(const struct compose_service *s, const struct compose_device *d,
                           const struct compose_version *v, struct strv *warnings,
                           struct strv *notes)
{
    cleanup_free char *field = compose_device_field(d);
    long count = 0;
    if (!compose_sends(d, v, &count)) {
        if (d->source == COMPOSE_DEPLOY)
            strv_push(warnings,
                      xasprintf("service `%s`: %s (line %u): %s sends no device request for "
                                "deploy.resources.reservations.devices (Compose 1.28 and later "
                                "do): the container gets no GPU; update Compose",
                                s->name, field, d->line, v->name));
        else
            strv_push(warnings,
                      xasprintf("service `%s`: %s (line %u): %s accepts the service-level "
                                "`gpus:` key but sends no device request for it (Compose 2.30 "
                                "and later do): the container gets no GPU; ask under "
                                "deploy.resources.reservations.devices (`capabilities: [gpu]`, "
                                "`count: all`), or update Compose",
                                s->name, field, d->line, v->name));
        return;
    }
    struct device_request sent = d->req;
    sent.count = count;
    cleanup_free char *visible = NULL;
    cleanup_free char *caps = NULL;
    if (device_request_to_env(&sent, &visible, &caps, NULL) < 0)
        return; /* compose_check_device reports it */
    if (caps_without_libcuda(caps)) {
        cleanup_free char *list = device_request_caps_string(&sent);
        strv_push(warnings,
                  xasprintf("service `%s`: %s (line %u): capabilities %s give the container "
                            "NVIDIA_DRIVER_CAPABILITIES=%s, without compute: " NO_LIBCUDA
                            "; add `compute` to the capabilities",
                            s->name, field, d->line, list, caps));
    }
    if (d->req.has_count && d->req.count == 0)
        strv_push(notes, xstrdup("count 0 reserves no GPU: dockerd then sets no "
                                 "NVIDIA_VISIBLE_DEVICES and the image's decides (none when the "
                                 "image sets none)"));
    else if (v != NULL && d->source == COMPOSE_DEPLOY && count == 0 && d->req.ids.len == 0)
        strv_push(notes, xasprintf("%s sends count 0 here, not all: dockerd then sets no "
                                   "NVIDIA_VISIBLE_DEVICES and the image's decides (none when "
                                   "the image sets none); write `count: all` for every GPU "
                                   "with any Compose",
                                   v->name));
    if (v == NULL && d->source == COMPOSE_DEPLOY && !d->req.has_count && d->req.ids.len == 0)
        strv_push(notes, xstrdup("docker-compose 1.29 sends count 0 here, not all: the "
                                 "container then gets the GPUs of the image's "
                                 "NVIDIA_VISIBLE_DEVICES (none when the image sets none); "
                                 "write `count: all` for every GPU with any Compose"));
    if (v == NULL && d->source != COMPOSE_DEPLOY)
        strv_push(notes, xstrdup("Compose before 2.30 sends no device request for the "
                                 "service-level `gpus:` key (the container gets no GPU) and "
                                 "docker-compose 1.x refuses it; "
                                 "deploy.resources.reservations.devices works with every "
                                 "Compose since 1.28"));
}

void compose_runtime_advice(const struct compose_service *s, struct strv *warnings)
{
    const char *caps = compose_service_env(s, "NVIDIA_DRIVER_CAPABILITIES");
    if (s->runtime == NULL || !caps_without_libcuda(caps))
        return;
    strv_push(warnings, xasprintf("service `%s`: runtime (line %u): NVIDIA_DRIVER_CAPABILITIES=%s, "
                                  "without compute: " NO_LIBCUDA "; add compute to it",
                                  s->name, s->runtime_line, caps));
}

int compose_check_runtime(const struct compose_service *s, const struct compose_daemon *d,
                          gctk_error **err)
{
    if (s->runtime == NULL || strv_contains(&d->runtimes, s->runtime))
        return 0;
    cleanup_free char *list = strv_join(&d->runtimes, ", ");
    const char *has = list[0] != '\0' ? list : "none";
    if (strv_contains(&d->configured, s->runtime)) {
        gctk_fail(err, 0,
                  "service `%s`: runtime (line %u): %s has no runtime `%s` (it has %s): `%s` has "
                  "it, but dockerd has not loaded it",
                  s->name, s->runtime_line, d->where, s->runtime, has, d->daemon_json);
        return gctk_hint(err, "systemctl restart docker");
    }
    cleanup_free char *config =
        d->daemon_json != NULL && strcmp(d->daemon_json, ENGINE_DOCKER_CONFIG) != 0
            ? xasprintf(" --config %s", d->daemon_json)
            : xstrdup("");
    cleanup_free char *name = strcmp(s->runtime, "nvidia") != 0
                                  ? xasprintf(" --runtime-name %s", s->runtime)
                                  : xstrdup("");
    gctk_fail(err, 0,
              "service `%s`: runtime (line %u): %s has no runtime `%s` (it has %s), so the "
              "container does not start",
              s->name, s->runtime_line, d->where, s->runtime, has);
    return gctk_hint(err, "gctk runtime configure --runtime=docker%s%s && systemctl restart docker",
                     name, config);
}
