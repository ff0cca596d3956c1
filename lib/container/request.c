/* From a container's environment to what it gets. */
#include <ctype.h>
#include <string.h>

#include "oci.h"
#include "request.h"

void request_clear(struct request *r)
{
    free(r->devices);
    free(r->ignored);
    free(r->mig_config);
    free(r->mig_monitor);
    strv_clear(&r->requires);
    *r = (struct request){0};
}

char *swarm_resource_env_name(const char *resource, bool underscores)
{
    char *s = xasprintf("DOCKER_RESOURCE_%s", resource);
    for (char *p = s; *p; p++) {
        *p = (char)toupper((unsigned char)*p);
        if (underscores && (*p == '-' || *p == '.'))
            *p = '_';
    }
    return s;
}

/* The MIG management capabilities let a container reconfigure or watch every
 * instance of a GPU, whoever uses them: privileged containers only (an
 * unprivileged one could otherwise take them from an image's ENV). */
static void read_mig_caps(const struct strv *env, bool privileged, struct request *r)
{
    static const char *const names[] = {"NVIDIA_MIG_CONFIG_DEVICES", "NVIDIA_MIG_MONITOR_DEVICES"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(names); i++) {
        const char *v = env_get(env, names[i]);
        if (v == NULL || v[0] == '\0' || strcmp(v, "void") == 0 || strcmp(v, "none") == 0)
            continue;
        if (!privileged) {
            char *why = xasprintf("%s%s%s=%s ignored: only privileged containers get MIG "
                                  "management capabilities",
                                  r->ignored ? r->ignored : "", r->ignored ? "; " : "", names[i],
                                  v);
            free(r->ignored);
            r->ignored = why;
            continue;
        }
        if (i == 0)
            r->mig_config = xstrdup(v);
        else
            r->mig_monitor = xstrdup(v);
    }
}

static bool truthy(const char *v)
{
    return v != NULL && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
                         strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0);
}

struct require_var {
    const char *entry; /* "NVIDIA_REQUIRE_X=value" */
    size_t name_len;
    size_t index; /* position in the environment */
};

static int require_var_cmp(const void *a, const void *b)
{
    const struct require_var *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->entry, y->entry, n);
    if (c == 0 && x->name_len != y->name_len)
        c = x->name_len < y->name_len ? -1 : 1;
    if (c == 0)
        c = x->index < y->index ? -1 : x->index > y->index;
    return c;
}

static int index_cmp(const void *a, const void *b)
{
    const struct require_var *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* The NVIDIA_REQUIRE_* expressions, in environment order; of a name defined
 * more than once the last definition wins (an empty one drops the name). The
 * image may hold any number of them: sorting keeps this O(n log n), where a
 * look-up of each name would be quadratic in the size of the environment. */
static void collect_requires(const struct strv *env, struct strv *out)
{
    struct require_var *vars = xcalloc(env->len + 1, sizeof(*vars));
    size_t n = 0;
    for (size_t i = 0; i < env->len; i++) {
        const char *e = env->items[i];
        const char *eq = strchr(e, '=');
        if (str_has_prefix(e, "NVIDIA_REQUIRE_") && eq != NULL)
            vars[n++] = (struct require_var){e, (size_t)(eq - e), i};
    }
    qsort(vars, n, sizeof(*vars), require_var_cmp);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        bool last = i + 1 == n || vars[i + 1].name_len != vars[i].name_len ||
                    memcmp(vars[i + 1].entry, vars[i].entry, vars[i].name_len) != 0;
        if (last && vars[i].entry[vars[i].name_len + 1] != '\0')
            vars[kept++] = vars[i];
    }
    qsort(vars, kept, sizeof(*vars), index_cmp);
    for (size_t i = 0; i < kept; i++)
        strv_push(out, xstrdup(vars[i].entry + vars[i].name_len + 1));
    free(vars);
}

int request_from_env(const struct strv *env, bool privileged, const struct gctk_config *cfg,
                     struct request *out, gctk_error **err)
{
    struct request r = {0};
    const char *visible = env_get(env, "NVIDIA_VISIBLE_DEVICES");
    r.devices_from = "NVIDIA_VISIBLE_DEVICES";
    /* Swarm hands out generic resources through DOCKER_RESOURCE_<NAME>: that
     * assignment wins over the image's own NVIDIA_VISIBLE_DEVICES */
    for (int u = 0; cfg->swarm_resource != NULL && u < 2; u++) {
        /* Swarm upper-cases the resource name and keeps its other
         * characters; an underscore spelling is accepted too */
        cleanup_free char *swarm_var = swarm_resource_env_name(cfg->swarm_resource, u == 1);
        const char *assigned = env_get(env, swarm_var);
        if (assigned != NULL) {
            visible = assigned;
            r.devices_from = "DOCKER_RESOURCE";
            break;
        }
    }
    const char *cuda_version = env_get(env, "CUDA_VERSION");
    const char *require_cuda = env_get(env, "NVIDIA_REQUIRE_CUDA");
    if (visible == NULL && cuda_version != NULL && require_cuda == NULL) {
        /* a CUDA image from before the NVIDIA_* variables: it wants every GPU */
        r.legacy = true;
        visible = "all";
        r.devices_from = "CUDA_VERSION (legacy CUDA image)";
    }
    if (visible != NULL && !privileged && !cfg->allow_unprivileged_env &&
        strcmp(r.devices_from, "DOCKER_RESOURCE") != 0) {
        r.ignored = xasprintf("%s ignored: unprivileged containers may not ask for GPUs "
                              "through the environment (allow-unprivileged-env is false)",
                              r.devices_from);
        visible = NULL;
    }
    if (visible != NULL && visible[0] != '\0' && strcmp(visible, "void") != 0)
        r.devices = xstrdup(visible);
    if (r.devices != NULL)
        read_mig_caps(env, privileged, &r);

    const char *caps = env_get(env, "NVIDIA_DRIVER_CAPABILITIES");
    if (caps == NULL || caps[0] == '\0') {
        r.caps = r.legacy ? GCTK_CAP_ALL : GCTK_CAP_DEFAULT;
    } else if (gctk_caps_parse(caps, &r.caps, err) < 0) {
        request_clear(&r);
        return gctk_wrap(err, "NVIDIA_DRIVER_CAPABILITIES");
    }

    if (!cfg->disable_require && !truthy(env_get(env, "NVIDIA_DISABLE_REQUIRE"))) {
        collect_requires(env, &r.requires);
        if (r.legacy) {
            /* the legacy rule of the NVIDIA stack: the image's CUDA_VERSION is
             * the minimum the driver must support */
            unsigned major = 0, minor = 0;
            if (sscanf(cuda_version, "%u.%u", &major, &minor) == 2)
                strv_push(&r.requires, xasprintf("cuda>=%u.%u", major, minor));
        }
    }
    *out = r;
    return 0;
}
