/* The GPU requests of a Compose file: per service, the device reservations
 * (deploy.resources.reservations.devices), the service-level `gpus:` key and
 * the legacy `runtime: nvidia`. Read through libyaml's document API. */
#ifndef GCTK_COMPOSE_H
#define GCTK_COMPOSE_H

#include <stddef.h>

#include "gpusflag.h"

enum compose_source {
    COMPOSE_DEPLOY,   /* deploy.resources.reservations.devices[i] */
    COMPOSE_GPUS,     /* gpus[i] */
    COMPOSE_GPUS_ALL, /* gpus: all */
};

struct compose_device {
    struct device_request req; /* neither count nor device_ids: count -1 (all) */
    enum compose_source source;
    size_t index;  /* position in its list */
    unsigned line; /* 1-based line of the entry in the file */
};

struct compose_service {
    char *name;
    unsigned line;
    struct compose_device *devices;
    size_t n_devices;
    char *runtime;   /* `runtime:`, NULL when absent */
    struct strv env; /* `environment:` as "KEY=value" (a key alone when it has no value) */
};

struct compose_file {
    char *path;
    struct compose_service *services;
    size_t n_services;
};

/* Loads path. Fails on YAML syntax errors and on values of the wrong type,
 * naming the service, the field and the line. Semantic rules are checked by
 * compose_check_device() so that one run can report every problem. */
int compose_load(const char *path, struct compose_file **out, gctk_error **err);
/* The same on a buffer; name is used in messages. */
int compose_load_buffer(const char *name, const char *data, size_t len, struct compose_file **out,
                        gctk_error **err);
void compose_file_free(struct compose_file *f);
static inline void compose_file_freep(struct compose_file **f)
{
    compose_file_free(*f);
}
#define cleanup_compose __attribute__((cleanup(compose_file_freep)))

/* "deploy.resources.reservations.devices[0]" or "gpus[1]" / "gpus". */
char *compose_device_field(const struct compose_device *d);

/* The value of an environment variable of the service, or NULL. */
const char *compose_service_env(const struct compose_service *s, const char *key);

/* The rules of the Compose spec and of dockerd for one device entry, against
 * a host with host_gpus GPUs: capabilities required, count and device_ids
 * exclusive, count not beyond the host, a driver and capabilities dockerd's
 * nvidia driver matches. Device ids are not resolved here (gctk_select does). */
int compose_check_device(const struct compose_service *s, const struct compose_device *d,
                         size_t host_gpus, gctk_error **err);

/* The legacy runtime: nvidia: the request the nvidia runtime sees through the
 * service environment: NVIDIA_VISIBLE_DEVICES (default "all") and
 * NVIDIA_DRIVER_CAPABILITIES (NULL: the default set). */
const char *compose_legacy_visible(const struct compose_service *s);

#endif
