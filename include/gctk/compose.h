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
    char *runtime; /* `runtime:`, NULL when absent */
    unsigned runtime_line;
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

/* ---- the Compose that runs the file ------------------------------------------------ */

/* A Compose release. What reaches dockerd differs by version (docs/compose.md):
 *  - 1.28, 1.29 (python, `docker-compose`; Debian 12): a device with neither
 *    count nor device_ids is sent with Count 0, not the spec's all; no check
 *    of capabilities or of count with device_ids (dockerd refuses them);
 *    the service-level `gpus:` key refuses the file. Before 1.28 device
 *    reservations are not sent at all.
 *  - 2.x (Go, `docker compose`; Debian 13 has 2.26.1): refuses a device
 *    without capabilities and count with device_ids itself, sends Count -1
 *    for neither; accepts `gpus:` but sends a DeviceRequest for it only from
 *    2.30.0 on. */
struct compose_version {
    unsigned major, minor, patch;
    char name[64]; /* "docker compose 2.26.1", "docker-compose 1.29.2", "Compose 2.30.0" */
};

/* The first MAJOR.MINOR[.PATCH] of text ("v2.26.1", "2.26.1-4", "docker-compose
 * version 1.29.2, build unknown"), named "<command> <version>". -1 when text
 * has none; *out is untouched then. */
int compose_version_parse(const char *command, const char *text, struct compose_version *out);

enum compose_gpus_support {
    COMPOSE_GPUS_SENT,    /* 2.30 and later, and the Compose spec */
    COMPOSE_GPUS_IGNORED, /* 2.0 to 2.29: accepted, no DeviceRequest */
    COMPOSE_GPUS_REFUSED, /* 1.x: "Unsupported config option for services.S: 'gpus'" */
};
/* What Compose v does with the service-level `gpus:` key; v NULL: the spec. */
enum compose_gpus_support compose_gpus_support(const struct compose_version *v);

/* Whether Compose v sends a DeviceRequest for d: true with *count the Count
 * it sends (d->req.count, or 0 where 1.x drops the spec's "all"); false when
 * it sends none (gpus: before 2.30, device reservations before 1.28). v NULL:
 * the Compose spec. Meaningful once compose_check_device accepted d. */
bool compose_sends(const struct compose_device *d, const struct compose_version *v, long *count);

/* The rules of the Compose spec, of Compose v itself and of dockerd for one
 * device entry, against a host with host_gpus GPUs: capabilities required,
 * count and device_ids exclusive, count not beyond the host, a driver and
 * capabilities dockerd's nvidia driver matches, `gpus:` where v knows it.
 * Messages name who refuses (Compose v, else dockerd) and the fix. v NULL:
 * the Compose spec, with dockerd's messages. Device ids are not resolved
 * here (gctk_select does). */
int compose_check_device(const struct compose_service *s, const struct compose_device *d,
                         const struct compose_version *v, size_t host_gpus, gctk_error **err);

/* What the container gets that the file did not mean, appended to warnings
 * (owned strings): no DeviceRequest at all under Compose v, capabilities
 * that leave out libcuda (CUDA programs then find no driver). And what
 * depends on the image or on a Compose version, appended to notes. v NULL:
 * notes name the versions that differ. */
void compose_device_advice(const struct compose_service *s, const struct compose_device *d,
                           const struct compose_version *v, struct strv *warnings,
                           struct strv *notes);

/* The legacy runtime: nvidia: NVIDIA_VISIBLE_DEVICES of the service
 * environment, NULL when unset: the image's own value decides then (CUDA
 * images say all; an image without it gets no GPU). */
const char *compose_legacy_visible(const struct compose_service *s);

/* The warnings of a `runtime: nvidia` service (owned strings appended):
 * NVIDIA_DRIVER_CAPABILITIES without libcuda. */
void compose_runtime_advice(const struct compose_service *s, struct strv *warnings);

/* The runtimes of the Docker daemon that will run the file. */
struct compose_daemon {
    const char *where; /* "dockerd at `unix:///var/run/docker.sock`", "`/etc/docker/daemon.json`" */
    struct strv runtimes;    /* the runtimes it has */
    struct strv configured;  /* where is the live daemon: the runtimes of daemon.json */
    const char *daemon_json; /* its path, for the fix */
};

/* A service's `runtime:` against the daemon: an error naming the missing
 * runtime and the fix (gctk runtime configure, or a restart when daemon.json
 * has it and dockerd has not loaded it). 0 when it has it or s names none. */
int compose_check_runtime(const struct compose_service *s, const struct compose_daemon *d,
                          gctk_error **err);

#endif
