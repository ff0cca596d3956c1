/* From a container's environment to what it gets. */
#include <ctype.h>
#include <string.h>

#include "oci.h"
#include "request.h"
#include "require.h"

void request_clear(struct request *r)
{
    free(r->devices);
    free(r->ignored);
    free(r->mig_config);
    free(r->mig_monitor);
    free(r->imex);
    strv_clear(&r->requires);
    strv_clear(&r->require_names);
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

/* Adds a line to what the hook logs about the environment. */
static void add_ignored(struct request *r, char *owned)
{
    if (r->ignored != NULL) {
        char *both = xasprintf("%s; %s", r->ignored, owned);
        free(owned);
        owned = both;
    }
    free(r->ignored);
    r->ignored = owned;
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
            add_ignored(r, xasprintf("%s=%s ignored: only privileged containers get MIG "
                                     "management capabilities",
                                     names[i], v));
            continue;
        }
        if (i == 0)
            r->mig_config = xstrdup(v);
        else
            r->mig_monitor = xstrdup(v);
    }
}

/* Whether the comma list holds the word all. */
static bool has_all(const char *list)
{
    cleanup_free char *copy = xstrdup(list);
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        str_strip(tok);
        if (strcmp(tok, "all") == 0)
            return true;
    }
    return false;
}

/* supported-driver-capabilities, as NVIDIA's hook applies it: the defaults
 * and `all` shrink to what the host offers; a capability asked for by name
 * that it does not offer is an error. */
static int limit_caps(const struct gctk_config *cfg, const char *asked, unsigned *caps,
                      gctk_error **err)
{
    const char *setting = cfg->supported_driver_capabilities;
    unsigned supported = GCTK_CAP_ALL;
    if (setting != NULL && gctk_caps_parse(setting, &supported, err) < 0)
        return gctk_wrap(err, "supported-driver-capabilities `%s` of gctk's settings", setting);
    if ((*caps & ~supported) == 0)
        return 0;
    if (asked == NULL || asked[0] == '\0' || has_all(asked)) {
        *caps &= supported;
        return 0;
    }
    char extra[128], offered[128];
    gctk_caps_format(*caps & ~supported, extra, sizeof(extra));
    gctk_caps_format(supported, offered, sizeof(offered));
    return gctk_fail(err, 0,
                     "NVIDIA_DRIVER_CAPABILITIES asks for %s, which this host does not give "
                     "containers (supported-driver-capabilities: %s): ask for those, or change "
                     "the setting (`gctk config` shows where it is set)",
                     extra, offered[0] ? offered : "none");
}

/* IMEX channels, as NVIDIA's toolkit 1.18 reads NVIDIA_IMEX_CHANNELS: for a
 * GPU container whose GPUs came through its environment, so under the same
 * unprivileged rule; `all` asks for none (NVIDIA's toolkit ignores it: a
 * channel is a grant across nodes, named one by one), and so do void and
 * none. */
static void read_imex(const struct strv *env, struct request *r)
{
    const char *v = env_get(env, "NVIDIA_IMEX_CHANNELS");
    if (v == NULL || v[0] == '\0')
        return;
    cleanup_free char *copy = xstrdup(v);
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        if (strcmp(str_strip(tok), "all") == 0) {
            add_ignored(r, xasprintf("NVIDIA_IMEX_CHANNELS=%s ignored: `all` names no channel; "
                                     "list the channels (`0,1`), as NVIDIA's toolkit asks",
                                     v));
            return;
        }
    }
    r->imex = xstrdup(v);
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
    /* every variable comes from the image as much as from the engine (an
     * image can bake DOCKER_RESOURCE_<NAME>=all as easily as
     * NVIDIA_VISIBLE_DEVICES=all): the rule holds for all of them, Swarm's
     * included, as in NVIDIA's toolkit */
    if (visible != NULL && !privileged &&
        !cfg->accept_nvidia_visible_devices_envvar_when_unprivileged) {
        r.ignored = xasprintf("%s ignored: unprivileged containers may not ask for GPUs "
                              "through the environment "
                              "(accept-nvidia-visible-devices-envvar-when-unprivileged is false)",
                              r.devices_from);
        visible = NULL;
    }
    if (visible != NULL && visible[0] != '\0' && strcmp(visible, "void") != 0)
        r.devices = xstrdup(visible);
    if (r.devices != NULL) {
        read_mig_caps(env, privileged, &r);
        read_imex(env, &r);
    }

    const char *caps = env_get(env, "NVIDIA_DRIVER_CAPABILITIES");
    if (caps == NULL || caps[0] == '\0') {
        r.caps = r.legacy ? GCTK_CAP_ALL : GCTK_CAP_DEFAULT;
    } else if (gctk_caps_parse(caps, &r.caps, err) < 0) {
        request_clear(&r);
        return gctk_wrap(err, "NVIDIA_DRIVER_CAPABILITIES");
    }
    if (r.devices != NULL && limit_caps(cfg, caps, &r.caps, err) < 0) {
        request_clear(&r);
        return -1;
    }

    cleanup_free char *note = NULL;
    if (!cfg->disable_require && !require_disabled(env->items, &note)) {
        require_collect(env->items, &r.require_names, &r.requires);
        if (r.legacy) {
            /* the legacy rule of the NVIDIA stack: the image's CUDA_VERSION is
             * the minimum the driver must support */
            unsigned major = 0, minor = 0;
            if (sscanf(cuda_version, "%u.%u", &major, &minor) == 2) {
                strv_push(&r.require_names, xstrdup("CUDA_VERSION"));
                strv_push(&r.requires, xasprintf("cuda>=%u.%u", major, minor));
            }
        }
    }
    if (note != NULL && r.devices != NULL)
        add_ignored(&r, steal_pointer(&note));
    *out = r;
    return 0;
}

int request_from_spec(const struct oci_spec *spec, const struct gctk_config *cfg,
                      struct request *out, gctk_error **err)
{
    struct request r = {0};
    if (request_from_env(&spec->env, spec->privileged, cfg, &r, err) < 0)
        return -1;
    /* the plugin's own value of NVIDIA_VISIBLE_DEVICES: the list is elsewhere */
    bool placeholder = r.devices != NULL && (strcmp(r.devices, OCI_VOLUME_DEVICES) == 0 ||
                                             strcmp(r.devices, OCI_VOLUME_DEVICES "/") == 0);
    const struct strv *list = &spec->volume_devices;
    if (cfg->accept_nvidia_visible_devices_as_volume_mounts && list->len > 0) {
        for (size_t i = 0; i < list->len; i++) {
            if (strchr(list->items[i], '/') != NULL) {
                request_clear(&r);
                return gctk_fail(err, 0,
                                 "the volume mount `" OCI_VOLUME_DEVICES "/%s` names no GPU: "
                                 "CDI devices as volume mounts are not supported, use the device "
                                 "plugin's cdi-annotations or cdi-cri strategy",
                                 list->items[i]);
            }
        }
        free(r.devices);
        r.devices = strv_join(list, ",");
        r.devices_from = "volume mounts (" OCI_VOLUME_DEVICES ")";
    } else if (placeholder && !cfg->accept_nvidia_visible_devices_as_volume_mounts) {
        request_clear(&r);
        return gctk_fail(err, 0,
                         "NVIDIA_VISIBLE_DEVICES=" OCI_VOLUME_DEVICES
                         ": the device list is given as volume mounts, which this host does not "
                         "accept: set accept-nvidia-visible-devices-as-volume-mounts to true in "
                         "gctk's config, or use the device plugin's envvar or CDI strategy");
    } else if (placeholder) {
        free(r.devices);
        r.devices = NULL;
        add_ignored(&r, xstrdup("NVIDIA_VISIBLE_DEVICES=" OCI_VOLUME_DEVICES
                                " without a volume mount under it: no GPU asked for"));
    }
    *out = r;
    return 0;
}
