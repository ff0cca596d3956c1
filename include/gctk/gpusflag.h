/* Docker's GPU device requests: the `--gpus` flag grammar (docker/cli
 * opts/gpus.go) and what the daemon's nvidia device driver turns a request
 * into (moby daemon/nvidia_linux.go): NVIDIA_VISIBLE_DEVICES and
 * NVIDIA_DRIVER_CAPABILITIES. Compose device reservations use the same struct. */
#ifndef GCTK_GPUSFLAG_H
#define GCTK_GPUSFLAG_H

#include <stdbool.h>

#include "util.h"

/* One Docker DeviceRequest. Docker's Capabilities is an OR list of AND lists;
 * both --gpus and Compose only ever send one AND list, so caps is that list. */
struct device_request {
    char *driver;        /* NULL or "": any driver whose capabilities match */
    long count;          /* -1: all; 0: none (then ids decide) */
    bool has_count;      /* count was given (Compose: count and device_ids exclude each other) */
    bool has_caps;       /* capabilities were given (Compose requires them) */
    struct strv ids;     /* device ids as written: indexes, UUIDs, bus ids */
    struct strv caps;    /* must all be offered by the driver */
    struct strv options; /* "key=value", keys unique */
};

/* The daemon's nvidia driver offers these capabilities; gpu and nvidia select
 * the driver without asking for a driver capability. */
bool device_cap_is_nvidia(const char *cap);

/* Parses one --gpus value: "all", "2", `"device=0,3"`,
 * `count=2,"capabilities=compute,utility",driver=nvidia,"options=a=b,c=d"`.
 * The error messages are Docker's own. *out is untouched on failure. */
int gpusflag_parse(const char *value, struct device_request *out, gctk_error **err);

/* What dockerd's nvidia driver puts in the container environment for r:
 * *visible (NVIDIA_VISIBLE_DEVICES) and *caps (NVIDIA_DRIVER_CAPABILITIES),
 * each NULL when the daemon would not set that variable. Errors are the
 * daemon's: a driver or capability it cannot match, count with device ids. */
int device_request_to_env(const struct device_request *r, char **visible, char **caps,
                          gctk_error **err);

/* Docker's %v rendering of the capabilities: "[[gpu utility]]". */
char *device_request_caps_string(const struct device_request *r);

/* Sets "key=value" in r->options, replacing an earlier value of the key. */
void device_request_set_option(struct device_request *r, const char *key, const char *value);

void device_request_clear(struct device_request *r);

#endif
