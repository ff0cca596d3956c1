/* Using CDI specs: the spec directories, the devices they offer, the names
 * a container asks for, their resolution to container edits and those
 * edits applied to an OCI config.json (what the runtime shim does in CDI
 * mode). */
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "cdi.h"
#include "config.h"

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A spec's hooks run as root on the host: a spec, and the directory that
 * holds it, are trusted only when no one but root (or the configured owner)
 * could have written them. */
static int check_trusted(const struct stat *st, const char *what, const char *path, uid_t owner,
                         const char *consequence, gctk_error **err)
{
    if (st->st_uid != 0 && st->st_uid != owner) {
        gctk_refuse(err, EPERM,
                    "%s `%s` belongs to uid %u, not root: %s (a CDI spec's hooks run as root "
                    "on the host)",
                    what, path, (unsigned)st->st_uid, consequence);
        return gctk_hint(err,
                         "chown root `%s`, set \"cdi-spec-owner\" in gctk.conf(5) to its "
                         "owner, or remove it",
                         path);
    }
    if (st->st_mode & (S_IWGRP | S_IWOTH)) {
        gctk_refuse(err, EPERM,
                    "%s `%s` is writable by group or others (mode %04o): %s (a CDI spec's "
                    "hooks run as root on the host)",
                    what, path, (unsigned)(st->st_mode & 07777), consequence);
        return gctk_hint(err, "chmod go-w `%s`", path);
    }
    return 0;
}

int cdi_check_dir(int dirfd, const char *path, uid_t owner, gctk_error **err)
{
    struct stat st;
    if (fstat(dirfd, &st) < 0)
        return gctk_fail(err, errno, "stat `%s`", path);
    return check_trusted(&st, "the spec directory", path, owner, "none of its specs is used", err);
}

int cdi_load_at(int dirfd, const char *name, const char *path, uid_t owner, json_t **out,
                gctk_error **err)
{
    /* looked at through O_PATH (a link in the trusted directory is followed
     * to the file it names, which is what is checked), opened only when it
     * is a regular file, through that fd: a FIFO is never waited on, a
     * device never opened */
    cleanup_fd int pfd = openat(dirfd, name, O_PATH | O_CLOEXEC);
    if (pfd < 0)
        return gctk_fail(err, errno, "open `%s`", path);
    struct stat st;
    if (fstat(pfd, &st) < 0)
        return gctk_fail(err, errno, "stat `%s`", path);
    if (!S_ISREG(st.st_mode)) {
        gctk_refuse(err, EINVAL, "`%s` is %s, not a regular file: not used as a CDI spec", path,
                    file_type_name(st.st_mode));
        return gctk_hint(err, "remove it");
    }
    if (check_trusted(&st, "CDI spec", path, owner, "not used", err) < 0)
        return -1;
    cleanup_fd int fd = -1;
    if (reopen_regular(pfd, &fd) < 0)
        return gctk_fail(err, errno, "open `%s`", path);
    cleanup_free char *data = NULL;
    size_t len = 0;
    if (read_fd(fd, JSON_MAX, &data, &len, err) < 0)
        return gctk_wrap(err, "`%s`", path);
    return cdi_parse(path, data, len, out, err);
}

int cdi_load_trusted(const char *path, uid_t owner, json_t **out, gctk_error **err)
{
    cleanup_free char *copy = xstrdup(path), *name_copy = xstrdup(path);
    const char *dir = dirname(copy), *name = basename(name_copy);
    cleanup_fd int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return gctk_fail(err, errno, "open the spec directory `%s`", dir);
    if (cdi_check_dir(dirfd, dir, owner, err) < 0)
        return -1;
    return cdi_load_at(dirfd, name, path, owner, out, err);
}

json_t *cdi_load_dirs(const char *const *dirs, uid_t owner, struct strv *skipped)
{
    cleanup_json json_t *by_name = json_object();
    json_t *order = json_array();
    for (size_t d = 0; dirs[d] != NULL; d++) {
        /* the directory is followed where it is a link (/var/run -> /run) */
        cleanup_fd int dirfd = open(dirs[d], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cleanup_error gctk_error *de = NULL;
        if (dirfd < 0) {
            /* a missing directory is the usual case; an unreadable one is said */
            if (errno != ENOENT && errno != ENOTDIR && skipped != NULL)
                strv_push(skipped, xasprintf("`%s`: %s", dirs[d], strerror(errno)));
            continue;
        }
        if (cdi_check_dir(dirfd, dirs[d], owner, &de) < 0) {
            if (skipped != NULL)
                strv_push(skipped, xstrdup(de->msg));
            continue;
        }
        int listed = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        DIR *dir = listed >= 0 ? fdopendir(listed) : NULL;
        if (dir == NULL) {
            if (listed >= 0)
                close(listed);
            if (skipped != NULL)
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
        /* a file refused, unreadable or invalid is skipped and said; the
         * directory's other specs are used (as the CDI library that
         * containerd, Podman and NVIDIA's runtime use records an error for
         * that file and keeps the others) */
        for (size_t i = 0; i < names.len; i++) {
            cleanup_free char *path = path_join(dirs[d], names.items[i]);
            json_t *spec = NULL;
            cleanup_error gctk_error *e2 = NULL;
            struct strv problems = {0};
            if (cdi_load_at(dirfd, names.items[i], path, owner, &spec, &e2) < 0) {
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
    cleanup_json json_t *used = json_array(); /* specs whose top-level edits are in */
    for (size_t n = 0; n < names->len; n++) {
        cleanup_free char *kind = NULL, *name = NULL;
        if (cdi_parse_qualified(names->items[n], &kind, &name, err) < 0)
            return -1;
        json_t *found_spec = NULL, *found_dev = NULL;
        bool kind_known = false;
        cleanup_strv struct strv known = {0}; /* for the error only */
        size_t i, k;
        json_t *s, *d;
        for (int pass = 0; pass < 2 && found_dev == NULL; pass++) {
            json_array_foreach(specs, i, s)
            {
                json_t *spec = json_object_get(s, "spec");
                if (strcmp(json_string_value(json_object_get(spec, "kind")), kind) != 0)
                    continue;
                kind_known = true;
                json_array_foreach(json_object_get(spec, "devices"), k, d)
                {
                    const char *dn = json_string_value(json_object_get(d, "name"));
                    if (pass == 1)
                        strv_push(&known, xstrdup(dn));
                    else if (strcmp(dn, name) == 0 && found_dev == NULL) {
                        found_spec = spec;
                        found_dev = d;
                    }
                }
            }
        }
        if (found_dev == NULL && !kind_known)
            return gctk_fail(err, 0,
                             "unresolvable CDI device `%s`: no spec in the CDI directories "
                             "offers the kind `%s`: run `gctk cdi generate`",
                             names->items[n], kind);
        if (found_dev == NULL) {
            cleanup_free char *list_s = strv_join(&known, ", ");
            return gctk_fail(err, 0, "unresolvable CDI device `%s`: `%s` offers %s",
                             names->items[n], kind, list_s);
        }
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
    return 0;
}

void cdi_annotation_names(const struct strv *annotations, const char *const *prefixes,
                          struct strv *out)
{
    static const char *const k8s[] = {"cdi.k8s.io/", NULL};
    if (prefixes == NULL)
        prefixes = k8s;
    for (size_t i = 0; i < annotations->len; i++) {
        const char *a = annotations->items[i];
        bool named = false;
        for (size_t p = 0; prefixes[p] != NULL && !named; p++)
            named = str_has_prefix(a, prefixes[p]);
        const char *eq = strchr(a, '=');
        if (!named || eq == NULL)
            continue;
        cleanup_free char *copy = xstrdup(eq + 1);
        char *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
            str_strip(t);
            if (t[0] != '\0')
                strv_push(out, xstrdup(t));
        }
    }
    /* the names come from the pod: de-duplicated once, in n log n, not by
     * a search per name */
    strv_dedup(out);
}

int cdi_visible_devices_names(const char *visible_devices, const char *default_kind,
                              struct strv *out, gctk_error **err)
{
    if (visible_devices == NULL)
        return 0;
    static const char jit[] = GCTK_JIT_CDI_KIND "=";
    cleanup_strv struct strv cdi = {0};
    cleanup_free char *copy = xstrdup(visible_devices);
    const char *gpu_id = NULL; /* the first entry that is the hook's */
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        str_strip(t);
        if (t[0] == '\0')
            continue;
        bool plain = !cdi_is_qualified(t);
        if (str_has_prefix(t, jit) || strcmp(t, "none") == 0 || strcmp(t, "void") == 0 ||
            (plain && default_kind == NULL))
            gpu_id = gpu_id != NULL ? gpu_id : t;
        else if (plain) /* NVIDIA's cdi mode: a device of the default kind */
            strv_push(&cdi, xasprintf("%s=%s", default_kind, t));
        else
            strv_push(&cdi, xstrdup(t));
    }
    if (cdi.len > 0 && gpu_id != NULL)
        return gctk_fail(err, 0,
                         "NVIDIA_VISIBLE_DEVICES `%s` mixes CDI devices (`%s`) with GPU ids "
                         "(`%s`), which NVIDIA's runtime refuses too: name them all as CDI "
                         "devices (`%s=<id>`) or all as GPU ids",
                         visible_devices, cdi.items[0], gpu_id,
                         default_kind != NULL ? default_kind
                                              : CDI_DEFAULT_VENDOR "/" CDI_DEFAULT_CLASS);
    /* the names come from the image: de-duplicated once, in n log n, not by
     * a search per name */
    for (size_t i = 0; i < cdi.len; i++)
        strv_push(out, steal_pointer(&cdi.items[i]));
    strv_dedup(out);
    return 0;
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
        const char *host = hp != NULL && hp[0] != '\0' ? hp : path;
        struct stat st;
        bool known = type != NULL && (maj != 0 || min != 0);
        if (!known) {
            if (stat(host, &st) < 0)
                return gctk_fail(err, errno, "CDI device node `%s`", host);
            if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
                return gctk_fail(err, 0, "CDI device node `%s` is not a device", host);
            type = S_ISCHR(st.st_mode) ? "c" : "b";
            maj = major(st.st_rdev);
            min = minor(st.st_rdev);
        }
        /* A node without a fileMode gets the host node's: a runtime that
         * makes the node itself makes it with none (crun in a user
         * namespace: mode 000, no process of the container may open it).
         * Where the spec named everything else, a host node that is not
         * there leaves it without, as before. */
        if (mode != NULL)
            json_incref(mode);
        else if ((!known || stat(host, &st) == 0) && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
            mode = json_integer(st.st_mode & 0777);
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

char *cdi_hook_mount_arg(const json_t *m)
{
    const char *type = json_string_value(json_object_get(m, "type"));
    const char *host = json_string_value(json_object_get(m, "hostPath"));
    const char *dst = json_string_value(json_object_get(m, "containerPath"));
    if ((type != NULL && strcmp(type, "bind") != 0) || host == NULL || dst == NULL ||
        host[0] != '/' || dst[0] != '/' || strstr(host, "::") != NULL || strstr(dst, "::") != NULL)
        return NULL;
    cleanup_strv struct strv opts = {0};
    bool bind = false;
    unsigned flags = 0;
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(m, "options"), i, o)
    {
        const char *name = json_string_value(o);
        if (name == NULL || !cdi_hook_mount_option(name, &flags))
            return NULL;
        bind |= strcmp(name, "bind") == 0;
        strv_push(&opts, xstrdup(name));
    }
    if (!bind)
        return NULL;
    cleanup_free char *list = strv_join(&opts, ",");
    return xasprintf("%s::%s::%s", host, dst, list);
}

bool cdi_hook_mount_args(const json_t *mounts, json_t *args)
{
    cleanup_json json_t *add = json_array();
    size_t i;
    json_t *m;
    json_array_foreach(mounts, i, m)
    {
        char *arg = cdi_hook_mount_arg(m);
        if (arg == NULL)
            return false;
        json_array_append_new(add, json_string("--mount"));
        json_array_append_new(add, json_string(arg));
        free(arg);
    }
    json_array_extend(args, add);
    return true;
}

static bool string_is(const json_t *v, const char *s)
{
    return json_string_value(v) != NULL && strcmp(json_string_value(v), s) == 0;
}

/* Whether h, a hook of a spec or of config.json, is own_gctk's
 * create-container (the same file). */
static bool is_own_hook(const json_t *h, const struct stat *own_gctk)
{
    const char *path = json_string_value(json_object_get(h, "path"));
    const json_t *argv = json_object_get(h, "args");
    struct stat st;
    return path != NULL && json_array_size(argv) >= 3 &&
           string_is(json_array_get(argv, 1), "hook") &&
           string_is(json_array_get(argv, 2), "create-container") && stat(path, &st) == 0 &&
           st.st_dev == own_gctk->st_dev && st.st_ino == own_gctk->st_ino;
}

/* The first createContainer hook of the edits when it is own_gctk's
 * create-container, else NULL. */
static const json_t *own_hook(const json_t *edits, const struct stat *own_gctk)
{
    const json_t *first = NULL;
    size_t i, k;
    json_t *e, *h;
    json_array_foreach(edits, i, e)
    {
        json_array_foreach(json_object_get(e, "hooks"), k, h)
        {
            if (first == NULL && string_is(json_object_get(h, "hookName"), "createContainer"))
                first = h;
        }
    }
    return first != NULL && is_own_hook(first, own_gctk) ? first : NULL;
}

/* The "--mount" arguments that hand own_hook() every mount of the edits, or
 * NULL when one of them is not a plain bind mount the hook makes as runc
 * would. All or none, and only to the first createContainer hook: runc
 * makes its mounts before any hook runs, so a mount runc kept could land
 * under one of the hook's, and a hook that ran before it would miss the
 * files. */
static json_t *own_hook_mounts(const json_t *edits)
{
    cleanup_json json_t *list = json_array();
    for (size_t i = 0; i < json_array_size(edits); i++)
        if (!cdi_hook_mount_args(json_object_get(json_array_get(edits, i), "mounts"), list))
            return NULL;
    return steal_pointer(&list);
}

/* The edits' mounts, each replacing a mount of the same destination; with
 * to_hook, the hook makes them (own_hook_mounts) and they only replace. */
static int apply_mounts(json_t *config, const json_t *mounts, bool to_hook, gctk_error **err)
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
        if (to_hook)
            continue;
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

/* The environment of the spec's own hook: the spec's, with the variables
 * that name this runtime's settings (config_settings_env) in place of any
 * of the same name, so that the hook reads the settings the runtime read
 * (its log, its discovery cache), as gctk-hook does. */
static json_t *own_hook_env(const json_t *spec_env)
{
    cleanup_strv struct strv settings = {0};
    config_settings_env(&settings);
    json_t *env = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(spec_env, i, v)
    {
        const char *s = json_string_value(v);
        bool replaced = false;
        for (size_t k = 0; s != NULL && k < settings.len && !replaced; k++) {
            size_t n = strcspn(settings.items[k], "=") + 1;
            replaced = strncmp(s, settings.items[k], n) == 0;
        }
        if (!replaced)
            json_array_append(env, v);
    }
    for (i = 0; i < settings.len; i++)
        json_array_append_new(env, json_string(settings.items[i]));
    return env;
}

/* The edits' hooks; own gets own_hook_env() and hook_args (may be NULL)
 * after its own arguments. */
static int apply_hooks(json_t *config, const json_t *hooks, const json_t *own,
                       const json_t *hook_args, gctk_error **err)
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
        if (h == own && hook_args != NULL) {
            json_t *args = json_deep_copy(json_object_get(h, "args"));
            json_array_extend(args, (json_t *)hook_args);
            json_object_set_new(o, "args", args);
        }
        if (h == own)
            json_object_set_new(o, "env", own_hook_env(json_object_get(h, "env")));
        json_array_append_new(stage, o);
    }
    return 0;
}

int cdi_apply(json_t *config, const json_t *edits, const struct stat *own_gctk, gctk_error **err)
{
    if (!json_is_object(config))
        return gctk_fail(err, 0, "config.json: not an object");
    /* the config's own createContainer hooks run before the spec's */
    json_t *earlier = json_object_get(json_object_get(config, "hooks"), "createContainer");
    const json_t *own = own_gctk != NULL ? own_hook(edits, own_gctk) : NULL;
    cleanup_json json_t *hook_args =
        own != NULL && json_array_size(earlier) == 0 ? own_hook_mounts(edits) : NULL;
    size_t i;
    json_t *e;
    json_array_foreach(edits, i, e)
    {
        json_t *v;
        if ((v = json_object_get(e, "env")) != NULL && apply_env(config, v, err) < 0)
            return -1;
        if ((v = json_object_get(e, "deviceNodes")) != NULL && apply_nodes(config, v, err) < 0)
            return -1;
        if ((v = json_object_get(e, "mounts")) != NULL &&
            apply_mounts(config, v, hook_args != NULL, err) < 0)
            return -1;
        if ((v = json_object_get(e, "hooks")) != NULL &&
            apply_hooks(config, v, own, hook_args, err) < 0)
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

/* The "--mount" argument of a mount of config.json, as cdi_hook_mount_arg()
 * gives it for the spec's mount it came from (an engine writes a spec's
 * mount as destination, type, source and options, unchanged). */
static char *config_mount_arg(const json_t *m)
{
    cleanup_json json_t *as_spec =
        json_pack("{s:O?, s:O?, s:O?, s:O?}", "type", json_object_get(m, "type"), "hostPath",
                  json_object_get(m, "source"), "containerPath", json_object_get(m, "destination"),
                  "options", json_object_get(m, "options"));
    return as_spec != NULL ? cdi_hook_mount_arg(as_spec) : NULL;
}

/* The "--mount" arguments of every mount the specs give a hook of own_gctk:
 * the mounts of each containerEdits (the spec's and its devices') whose
 * hooks include one. */
static void spec_hook_mounts(const json_t *specs, const struct stat *own_gctk, struct strv *out)
{
    size_t i, d, k;
    json_t *s, *m, *h;
    json_array_foreach(specs, i, s)
    {
        json_t *spec = json_object_get(s, "spec");
        json_t *devices = json_object_get(spec, "devices");
        for (d = 0; d <= json_array_size(devices); d++) {
            json_t *edits =
                json_object_get(d == 0 ? spec : json_array_get(devices, d - 1), "containerEdits");
            bool own = false;
            json_array_foreach(json_object_get(edits, "hooks"), k, h)
            {
                own = own || is_own_hook(h, own_gctk);
            }
            json_array_foreach(json_object_get(edits, "mounts"), k, m)
            {
                char *arg = own ? cdi_hook_mount_arg(m) : NULL;
                if (arg != NULL && !strv_contains(out, arg))
                    strv_push(out, arg);
                else
                    free(arg);
            }
        }
    }
}

/* Whether a and b are one path or one is under the other ("/a" and "/a/b"). */
static bool paths_nest(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    while (la > 1 && a[la - 1] == '/')
        la--;
    while (lb > 1 && b[lb - 1] == '/')
        lb--;
    size_t n = la < lb ? la : lb;
    if (strncmp(a, b, n) != 0)
        return false;
    const char *longer = la < lb ? b : a;
    return la == lb || longer[n] == '/' || n == 1;
}

void cdi_hand_mounts(json_t *config, const char *const *dirs, uid_t owner,
                     const struct stat *own_gctk, bool *changed)
{
    *changed = false;
    json_t *hook =
        json_array_get(json_object_get(json_object_get(config, "hooks"), "createContainer"), 0);
    json_t *args = json_object_get(hook, "args");
    if (hook == NULL || !is_own_hook(hook, own_gctk) || !json_is_array(args))
        return;
    size_t i, k;
    json_t *a;
    json_array_foreach(args, i, a)
    {
        if (string_is(a, "--mount"))
            return; /* handed its mounts already */
    }
    /* the runtime's settings, as every start of its own gctk's hook gets them */
    json_object_set_new(hook, "env", own_hook_env(json_object_get(hook, "env")));
    *changed = true;
    json_t *mounts = json_object_get(config, "mounts");
    size_t n = json_array_size(mounts);
    if (n == 0)
        return;
    cleanup_json json_t *specs = cdi_load_dirs(dirs, owner, NULL);
    cleanup_strv struct strv offered = {0};
    spec_hook_mounts(specs, own_gctk, &offered);
    /* the config's mounts the specs gave that hook, and their arguments */
    cleanup_strv struct strv taken = {0};
    cleanup_free bool *moved = xcalloc(n, sizeof(bool));
    for (i = 0; i < n; i++) {
        cleanup_free char *arg = config_mount_arg(json_array_get(mounts, i));
        moved[i] = arg != NULL && strv_contains(&offered, arg);
        if (moved[i])
            strv_push(&taken, steal_pointer(&arg));
    }
    /* the hook makes them after every mount runc keeps: none is moved
     * where a later mount of runc's, on the same path, over it or under
     * it, would then come first (the CDI library of the engines puts a
     * spec's mounts among theirs, ordered by depth) */
    for (k = 0; k < n; k++) {
        const char *later =
            json_string_value(json_object_get(json_array_get(mounts, k), "destination"));
        for (i = 0; i < k && !moved[k]; i++) {
            const char *dst =
                json_string_value(json_object_get(json_array_get(mounts, i), "destination"));
            if (moved[i] && (later == NULL || paths_nest(dst, later)))
                return;
        }
    }
    if (taken.len == 0)
        return;
    for (i = n; i-- > 0;)
        if (moved[i])
            json_array_remove(mounts, i);
    for (i = 0; i < taken.len; i++) {
        json_array_append_new(args, json_string("--mount"));
        json_array_append_new(args, json_string(taken.items[i]));
    }
}
