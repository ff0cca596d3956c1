/* The CDI spec model: qualified names, the cdiVersion a spec's fields need,
 * and generation from the plan (the layout of lib/container/layout.c with
 * every file at its host path), written as JSON. */
#include <ctype.h>
#include <string.h>
#include <sys/stat.h>

#include "caps.h"
#include "cdi.h"
#include "host.h"
#include "layout.h"

/* A JSON string that takes ownership of s. */
static json_t *jstr_take(char *s)
{
    json_t *j = json_string(s);
    free(s);
    return j;
}

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
    /* the host node's mode: a runtime that makes the node gives it none
     * otherwise (crun in a user namespace: 000) */
    struct stat st;
    cleanup_free char *host = path_join(gctk_host_root(h), n->path);
    if (stat(host, &st) == 0 && S_ISCHR(st.st_mode))
        json_object_set_new(o, "fileMode", json_integer(st.st_mode & 0777));
    json_object_set_new(o, "permissions", json_string("rw"));
    return o;
}

json_t *cdi_hook_env(const struct strv *settings)
{
    json_t *env = json_array();
    json_array_append_new(env, json_string(CDI_HOOK_PATH_ENV));
    for (size_t i = 0; settings != NULL && i < settings->len; i++)
        json_array_append_new(env, json_string(settings->items[i]));
    return env;
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
    json_object_set_new(h, "env", cdi_hook_env(o->settings_env));
    strv_clear(args);
    return h;
}

/* A device: its nodes. Its DRM nodes' /dev/dri/by-path links come from the
 * top-level hook, made where the node is: a device edit carries no hook, so
 * a container runs one hook process whatever devices it was given. */
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
                    seen = strcmp(json_string_value(
                                      json_object_get(json_array_get(all_nodes, a), "path")),
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

/* The plan's files as the spec's bind mounts, each at its container path. */
static void driver_mounts(const gctk_plan *plan, const char *root, const struct layout_dirs *at,
                          json_t *mounts)
{
    for (size_t i = 0; i < gctk_plan_file_count(plan); i++) {
        const struct gctk_file *f = gctk_plan_file(plan, i);
        struct strv options = {0};
        layout_mount_options(layout_file_flags(f), &options);
        strv_push(&options, xstrdup("bind"));
        json_t *m = json_object();
        json_object_set_new(m, "hostPath", jstr_take(path_join(root, f->source)));
        json_object_set_new(m, "containerPath", jstr_take(layout_container_path(f, at)));
        json_t *opts = json_array();
        for (size_t k = 0; k < options.len; k++)
            json_array_append_new(opts, json_string(options.items[k]));
        json_object_set_new(m, "options", opts);
        strv_clear(&options);
        json_array_append_new(mounts, m);
    }
}

/* The IMEX channels' spec (kind <vendor>/imex-channel, as NVIDIA's `cdi
 * generate --mode imex`): one device per channel node the host has, named
 * by its number, and "all". */
static int generate_imex(gctk_host *h, const char *kind, json_t **out, gctk_error **err)
{
    if (host_imex_channels(h) == 0)
        return gctk_fail(err, 0,
                         "no IMEX channel under `%s`: create them (`mknod -m 666 "
                         "/dev/nvidia-caps-imex-channels/channel0 c MAJOR 0`, MAJOR from "
                         "/proc/devices), or load the driver with NVreg_CreateImexChannel0=1",
                         gctk_host_root(h));
    json_t *spec = json_object();
    json_object_set_new(spec, "cdiVersion", json_string("0.3.0"));
    json_object_set_new(spec, "kind", json_string(kind));
    json_t *devices = json_array(), *all = json_array();
    for (size_t i = 0; i < gctk_host_node_count(h); i++) {
        const struct gctk_node *n = gctk_host_node(h, i);
        if (n->kind != GCTK_NODE_IMEX)
            continue;
        char name[16];
        snprintf(name, sizeof(name), "%u", n->minor);
        json_array_append_new(devices, device_json(name, json_pack("[o]", node_json(h, n))));
        json_array_append_new(all, node_json(h, n));
    }
    json_array_append_new(devices, device_json("all", all));
    json_object_set_new(spec, "devices", devices);
    json_object_set_new(spec, "cdiVersion", json_string(cdi_required_version(spec, NULL)));
    *out = spec;
    return 0;
}

int cdi_generate(gctk_host *h, const struct cdi_options *o, json_t **out, gctk_error **err)
{
    const char *vendor = o->vendor ? o->vendor : CDI_DEFAULT_VENDOR;
    const char *class = o->class ? o->class : o->imex_channels ? CDI_IMEX_CLASS : CDI_DEFAULT_CLASS;
    unsigned naming = o->naming ? o->naming : CDI_NAME_INDEX;
    cleanup_free char *kind = xasprintf("%s/%s", vendor, class);
    if (!cdi_kind_valid(kind))
        return gctk_fail(err, 0,
                         "`%s` is not a valid CDI kind: use a DNS name as vendor and "
                         "[a-z0-9_.-] for the class",
                         kind);
    if (o->imex_channels)
        return generate_imex(h, kind, out, err);
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
    /* the container layout of the hook, with every file at its host path:
     * a spec is written once for every image */
    const struct layout_dirs at_host = {0};
    struct layout_links links = {0};
    layout_links(plan, &at_host, &links);
    json_t *spec = json_object();
    json_object_set_new(spec, "cdiVersion", json_string("0.3.0"));
    json_object_set_new(spec, "kind", json_string(kind));
    json_t *devices = json_array();
    json_t *all_nodes = json_array();
    for (size_t g = 0; g < gctk_plan_gpu_count(plan); g++) {
        const struct gctk_gpu *gpu = gctk_plan_gpu(plan, g);
        /* its node, and its DRM nodes when the plan has graphics */
        json_t *nodes = json_array();
        for (size_t i = 0; i < gctk_plan_node_count(plan); i++) {
            const struct gctk_node *n = gctk_plan_node(plan, i);
            if ((n->kind == GCTK_NODE_GPU || n->kind == GCTK_NODE_DRM) && n->gpu == gpu->index)
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
    /* where libcuda is, as NVIDIA's specs say it */
    cleanup_free char *libcuda_dir = layout_libcuda_dir(plan, &at_host);
    if (libcuda_dir != NULL)
        json_array_append_new(env, json_sprintf("NVIDIA_CTK_LIBCUDA_DIR=%s", libcuda_dir));
    json_object_set_new(edits, "env", env);
    json_t *nodes = json_array();
    for (size_t i = 0; i < gctk_plan_node_count(plan); i++) {
        const struct gctk_node *n = gctk_plan_node(plan, i);
        /* a GPU's nodes and a MIG device's nvidia-cap nodes are its own */
        if (n->kind == GCTK_NODE_CONTROL)
            json_array_append_new(nodes, node_json(h, n));
    }
    json_object_set_new(edits, "deviceNodes", nodes);
    /* one hook, one process per container (gctk hook create-container):
     * the driver's files, the links, the ld.so.cache, the /proc mask */
    struct strv args = {0};
    strv_push(&args, xstrdup("hook"));
    strv_push(&args, xstrdup("create-container"));
    json_t *mounts = json_array();
    driver_mounts(plan, root, &at_host, mounts);
    /* the driver's files are mounted by the hook, as in gctk-runtime's CDI
     * mode: an engine that applies the spec itself (Docker 25+, containerd
     * 1.7, Podman) would have runc make them one at a time, 7-9 ms more a
     * start on an H200 (docs/cdi.md). Where a path cannot be a --mount
     * argument, or with runtime_mounts, the runtime makes them all. */
    cleanup_json json_t *mount_args = json_array();
    if (!o->runtime_mounts && cdi_hook_mount_args(mounts, mount_args)) {
        json_decref(mounts);
        size_t i;
        json_t *a;
        json_array_foreach(mount_args, i, a)
        {
            strv_push(&args, xstrdup(json_string_value(a)));
        }
    } else {
        json_object_set_new(edits, "mounts", mounts);
    }
    struct strv folders = {0};
    layout_lib_folders(plan, &at_host, &folders);
    for (size_t i = 0; i < links.paths.len; i++) {
        /* a DRM node's by-path link, where the runtime made its node */
        strv_push(&args, xstrdup(links.gpus[i] < 0 ? "--link" : "--node-link"));
        strv_push(&args, xasprintf("%s::%s", links.targets.items[i], links.paths.items[i]));
    }
    for (size_t i = 0; i < folders.len; i++) {
        strv_push(&args, xstrdup("--folder"));
        strv_push(&args, xstrdup(folders.items[i]));
    }
    /* forward compatibility: the image's newer /usr/local/cuda/compat
     * libraries win over the host's (NVIDIA's enable-cuda-compat) */
    if (folders.len > 0 && !o->no_cuda_compat &&
        (cap_expand(gctk_plan_caps(plan)) & GCTK_CAP_COMPUTE)) {
        strv_push(&args, xstrdup("--host-driver-version"));
        strv_push(&args, xstrdup(gctk_host_driver_version(h)));
    }
    /* runtimes refuse mounts inside /proc: the hook masks it, and its params
     * copy turns the driver's device-file creation off (ModifyDeviceFiles: 0,
     * NVIDIA's disable-device-node-modification) */
    if (strcmp(root, "/") != 0) {
        strv_push(&args, xstrdup("--driver-root"));
        strv_push(&args, xstrdup(root));
    }
    json_t *hooks = json_array();
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

/* ---- JSON text ----------------------------------------------------------------------- */

char *cdi_to_json(const json_t *spec)
{
    cleanup_free char *s = json_dumps(spec, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s == NULL)
        abort();
    return xasprintf("%s\n", s);
}
