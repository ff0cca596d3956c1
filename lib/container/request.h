/* What a container asks for, read from its environment as NVIDIA's toolkit
 * reads it (gctk-hook(8) lists the variables): NVIDIA_VISIBLE_DEVICES,
 * NVIDIA_DRIVER_CAPABILITIES, NVIDIA_REQUIRE_*, NVIDIA_DISABLE_REQUIRE, the
 * legacy CUDA_VERSION rule (an image with CUDA_VERSION but neither
 * NVIDIA_REQUIRE_CUDA nor NVIDIA_VISIBLE_DEVICES asks for every GPU and
 * capability, and for a driver of at least that CUDA version), the MIG
 * management variables, NVIDIA_IMEX_CHANNELS and Swarm's DOCKER_RESOURCE_<NAME>. */
#ifndef GCTK_REQUEST_H
#define GCTK_REQUEST_H

#include "config.h"
#include "util.h"

struct request {
    char *devices;            /* "all", "none", "0,1", ... ; NULL: not a GPU container */
    const char *devices_from; /* the variable the devices came from */
    unsigned caps;
    struct strv requires;      /* the NVIDIA_REQUIRE_* expressions to check */
    struct strv require_names; /* the variable each came from, for messages */
    bool legacy;               /* a CUDA image without NVIDIA_* variables */
    char *ignored; /* for the log: what of the environment was ignored and why, or NULL */
    /* NVIDIA_MIG_CONFIG_DEVICES / NVIDIA_MIG_MONITOR_DEVICES ("all" or GPU
     * ids) of a privileged container; NULL otherwise */
    char *mig_config, *mig_monitor;
    /* NVIDIA_IMEX_CHANNELS of a GPU container that may ask through its
     * environment ("0,1"; gctk_select_imex() reads it); NULL otherwise */
    char *imex;
};

int request_from_env(const struct strv *env, bool privileged, const struct gctk_config *cfg,
                     struct request *out, gctk_error **err);
/* The request of a container's config.json: the device plugin's
 * volume-mounts list (spec->volume_devices) when accept_nvidia_visible_devices_as_volume_mounts is
 * on and the list is not empty, else the environment's. A container whose
 * NVIDIA_VISIBLE_DEVICES is OCI_VOLUME_DEVICES itself without an accepted
 * list is refused (the setting named) when the policy is off, and asks for
 * nothing when it is on. */
struct oci_spec;
int request_from_spec(const struct oci_spec *spec, const struct gctk_config *cfg,
                      struct request *out, gctk_error **err);
void request_clear(struct request *r);
#define cleanup_request __attribute__((cleanup(request_clear)))

/* "NVIDIA-GPU" -> "DOCKER_RESOURCE_NVIDIA-GPU", Swarm's variable for the
 * generic resource assigned to a task ("DOCKER_RESOURCE_NVIDIA_GPU" with
 * underscores). */
char *swarm_resource_env_name(const char *resource, bool underscores);

#endif
