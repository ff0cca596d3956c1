/* Validation of CDI specs: the schema of the CDI reference implementation
 * (unknown fields, types, names, the cdiVersion the fields need) and, when
 * asked, this host (nodes, driver files and hooks that exist, of this
 * driver's version). */
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "cdi.h"
#include "host.h"

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

enum cdi_source cdi_source_check(const char *path, const char *driver, char **version)
{
    *version = NULL;
    char *v = driver != NULL ? host_file_version(path) : NULL;
    if (v != NULL && strcmp(v, driver) != 0) {
        *version = v;
        return CDI_SOURCE_OTHER_DRIVER;
    }
    free(v);
    struct stat st;
    return stat(path, &st) < 0 ? CDI_SOURCE_MISSING : CDI_SOURCE_OK;
}

/* A bind mount's source (what: how the spec names it) on this host: still
 * there, and of the driver that runs. */
static void check_source(struct checker *c, const char *path, const char *what, const char *hp)
{
    cleanup_free char *version = NULL;
    switch (cdi_source_check(hp, c->driver, &version)) {
    case CDI_SOURCE_OTHER_DRIVER:
        problem(c, path, "%s `%s` belongs to driver %s, this host runs %s: regenerate the spec",
                what, hp, version, c->driver);
        break;
    case CDI_SOURCE_MISSING:
        problem(c, path,
                "%s `%s` no longer exists on this host: regenerate the spec "
                "(`gctk cdi generate`; a driver upgrade removes the old files)",
                what, hp);
        break;
    case CDI_SOURCE_OK:
        break;
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
    check_source(c, path, "hostPath", hp);
}

/* One bind mount gctk's `hook create-container` makes (a "--mount
 * /HOST::/CONTAINER::OPTIONS" argument, where gctk's specs give the driver's
 * files): the form the hook takes, and its source as a spec's mount's. */
struct hook_mount_check {
    struct checker *c;
    const char *path;
};

static void check_hook_mount(void *ctx, size_t i, const char *host, const char *bad)
{
    const struct hook_mount_check *h = ctx;
    cleanup_free char *p = xasprintf("%s.args[%zu]", h->path, i);
    if (bad != NULL)
        problem(h->c, p, "%s", bad);
    else if (h->c->flags & CDI_CHECK_HOST)
        check_source(h->c, p, "--mount source", host);
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
    struct hook_mount_check hm = {c, path};
    cdi_hook_mounts_each(json_object_get(h, "args"), check_hook_mount, &hm);
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
        /* duplicates found in one sort: a spec may hold any number of devices */
        struct strv names = {0};
        cleanup_free size_t *name_of = xcalloc(json_array_size(devices) + 1, sizeof(size_t));
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
            if (name != NULL) {
                name_of[names.len] = i;
                strv_push(&names, xstrdup(name));
            }
            check_annotations(&c, d, path);
            json_t *e = json_object_get(d, "containerEdits");
            cleanup_free char *ep = xasprintf("%s.containerEdits", path);
            if (e == NULL)
                problem(&c, path, "`containerEdits` is required");
            else
                check_edits(&c, e, ep);
        }
        cleanup_free bool *again = strv_repeats(&names);
        for (size_t k = 0; k < names.len; k++) {
            if (!again[k])
                continue;
            cleanup_free char *path = xasprintf("devices[%zu]", name_of[k]);
            problem(&c, path, "name `%s` appears twice", names.items[k]);
        }
        strv_clear(&names);
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
