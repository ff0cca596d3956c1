/* OCI state and config.json parsing. */
#include <string.h>

#include "json.h"
#include "oci.h"

void oci_state_clear(struct oci_state *s)
{
    free(s->id);
    free(s->bundle);
    *s = (struct oci_state){0};
}

void oci_spec_clear(struct oci_spec *s)
{
    free(s->rootfs);
    strv_clear(&s->env);
    strv_clear(&s->annotations);
    strv_clear(&s->volume_devices);
    *s = (struct oci_spec){0};
}

int oci_state_parse(const char *text, size_t len, unsigned flags, struct oci_state *out,
                    gctk_error **err)
{
    json_t *root = NULL;
    if (json_parse("OCI state on stdin", text, len, &root, err) < 0)
        return -1;
    int r = -1;
    json_t *pid = json_object_get(root, "pid");
    json_t *bundle = json_object_get(root, "bundle");
    json_t *id = json_object_get(root, "id");
    if (!json_is_object(root))
        gctk_fail(err, 0, "OCI state on stdin: not a JSON object");
    else if (!json_is_integer(pid) ||
             json_integer_value(pid) < ((flags & OCI_STATE_IN_CONTAINER) ? 0 : 1) ||
             json_integer_value(pid) > 0x3fffffff)
        gctk_fail(err, 0,
                  (flags & OCI_STATE_IN_CONTAINER) ? "OCI state on stdin: no valid `pid`"
                                                   : "OCI state on stdin: no valid `pid`: run "
                                                     "gctk-hook as an OCI prestart or "
                                                     "createRuntime hook");
    else if (!json_is_string(bundle) || json_string_value(bundle)[0] != '/')
        gctk_fail(err, 0, "OCI state on stdin: `bundle` must be an absolute path");
    else {
        out->pid = (pid_t)json_integer_value(pid);
        out->bundle = xstrdup(json_string_value(bundle));
        out->id = xstrdup(json_is_string(id) ? json_string_value(id) : "");
        r = 0;
    }
    json_decref(root);
    return r;
}

int oci_state_read_fd(int fd, unsigned flags, struct oci_state *out, gctk_error **err)
{
    cleanup_free char *buf = NULL;
    size_t n = 0;
    if (read_fd(fd, OCI_STATE_MAX, &buf, &n, err) < 0)
        return gctk_wrap(err, "OCI state on stdin");
    if (n == 0)
        return gctk_fail(err, 0,
                         "no OCI state on stdin: gctk-hook must be run by an OCI "
                         "runtime as a prestart or createRuntime hook");
    return oci_state_parse(buf, n, flags, out, err);
}

static int string_array(json_t *arr, const char *what, struct strv *out, gctk_error **err)
{
    if (arr == NULL || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return gctk_fail(err, 0, "config.json: `%s` must be an array of strings", what);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v))
            return gctk_fail(err, 0, "config.json: `%s[%zu]` must be a string", what, i);
        strv_push(out, xstrdup(json_string_value(v)));
    }
    return 0;
}

/* path with repeated and trailing slashes dropped; NULL when a component
 * is `.` or `..` (no device id is, and no clean path needs them) */
static char *clean_path(const char *path)
{
    struct strbuf b = {0};
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, "/");
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
            free(strbuf_steal(&b));
            return NULL;
        }
        if (n > 0)
            strbuf_addf(&b, "/%.*s", (int)n, p);
        p += n;
        p += strspn(p, "/");
    }
    return strbuf_steal(&b);
}

/* The device plugin's volume-mounts list: /dev/null bound at
 * OCI_VOLUME_DEVICES/<id>, as NVIDIA's toolkit reads it. */
static void volume_devices(json_t *mounts, struct strv *out)
{
    size_t i;
    json_t *m;
    json_array_foreach(mounts, i, m)
    {
        const char *src = json_string_value(json_object_get(m, "source"));
        const char *dst = json_string_value(json_object_get(m, "destination"));
        if (src == NULL || dst == NULL)
            continue;
        cleanup_free char *s = clean_path(src), *d = clean_path(dst);
        if (s == NULL || d == NULL || strcmp(s, "/dev/null") != 0 ||
            !str_has_prefix(d, OCI_VOLUME_DEVICES "/"))
            continue;
        const char *id = d + strlen(OCI_VOLUME_DEVICES "/");
        if (!strv_contains(out, id))
            strv_push(out, xstrdup(id));
    }
}

static int parse_spec(json_t *root, const char *bundle, struct oci_spec *s, gctk_error **err)
{
    if (!json_is_object(root))
        return gctk_fail(err, 0, "config.json: not a JSON object");
    json_t *r = json_object_get(root, "root");
    json_t *path = json_object_get(r, "path");
    if (!json_is_string(path) || json_string_length(path) == 0)
        return gctk_fail(err, 0, "config.json: no `root.path`");
    const char *p = json_string_value(path);
    s->rootfs = p[0] == '/' ? xstrdup(p) : path_join(bundle, p);
    s->readonly = json_is_true(json_object_get(r, "readonly"));
    json_t *process = json_object_get(root, "process");
    if (string_array(json_object_get(process, "env"), "process.env", &s->env, err) < 0)
        return -1;
    json_t *caps = json_object_get(json_object_get(process, "capabilities"), "bounding");
    struct strv bounding = {0};
    if (string_array(caps, "process.capabilities.bounding", &bounding, err) < 0) {
        strv_clear(&bounding); /* the strings before the bad one */
        return -1;
    }
    s->privileged = strv_contains(&bounding, "CAP_SYS_ADMIN");
    strv_clear(&bounding);
    volume_devices(json_object_get(root, "mounts"), &s->volume_devices);
    json_t *ann = json_object_get(root, "annotations");
    if (json_is_object(ann)) {
        const char *k;
        json_t *v;
        json_object_foreach(ann, k, v)
        {
            if (json_is_string(v))
                strv_push(&s->annotations, xasprintf("%s=%s", k, json_string_value(v)));
        }
    }
    return 0;
}

int oci_spec_from_json(json_t *root, const char *bundle, struct oci_spec *out, gctk_error **err)
{
    struct oci_spec s = {0};
    if (parse_spec(root, bundle, &s, err) < 0) {
        oci_spec_clear(&s);
        return -1;
    }
    *out = s;
    return 0;
}

int oci_spec_parse(const char *text, size_t len, const char *bundle, struct oci_spec *out,
                   gctk_error **err)
{
    cleanup_json json_t *root = NULL;
    if (json_parse("config.json", text, len, &root, err) < 0)
        return -1;
    return oci_spec_from_json(root, bundle, out, err);
}

int oci_spec_load(const char *bundle, struct oci_spec *out, gctk_error **err)
{
    cleanup_free char *path = path_join(bundle, "config.json");
    cleanup_free char *text = NULL;
    size_t len = 0;
    if (read_file(path, JSON_MAX, &text, &len, err) < 0)
        return -1;
    if (oci_spec_parse(text, len, bundle, out, err) < 0)
        return gctk_wrap(err, "bundle `%s`", bundle);
    return 0;
}
