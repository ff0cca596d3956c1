/* The OCI runtime's inputs: the state JSON a hook gets on stdin and the
 * bundle's config.json. Both are written by the runtime from what the image
 * and the user asked for, so they are untrusted input: sizes are capped and
 * every field is type-checked. */
#ifndef GCTK_OCI_H
#define GCTK_OCI_H

#include <jansson.h>
#include <sys/types.h>

#include "util.h"

/* The state on the hook's stdin: a few hundred bytes from the runtime; the
 * bundle's config.json is read under JSON_MAX. */
#define OCI_STATE_MAX (1u << 20)

struct oci_state {
    char *id;
    pid_t pid;
    char *bundle;
};

struct oci_spec {
    char *rootfs;            /* absolute: root.path joined to the bundle when relative */
    bool readonly;           /* root.readonly */
    struct strv env;         /* process.env */
    bool privileged;         /* CAP_SYS_ADMIN in the bounding set */
    struct strv annotations; /* "key=value" */
    /* the ids of the mounts of /dev/null at OCI_VOLUME_DEVICES/<id> (a
     * device plugin's volume-mounts list), in their order, each once */
    struct strv volume_devices;
};

/* Where NVIDIA's device plugin mounts /dev/null once per device it hands
 * out (DEVICE_LIST_STRATEGY=volume-mounts), with NVIDIA_VISIBLE_DEVICES set
 * to this path itself. */
#define OCI_VOLUME_DEVICES "/var/run/nvidia-container-devices"

/* The state's pid must name a process (1 or more), which a hook of the
 * runtime's namespaces (prestart, createRuntime: gctk-hook) reads through
 * /proc. A hook that runs in the container (createContainer) may be given 0
 * instead: crun runs its createContainer hooks from the container's own
 * process, and says so with pid 0 (runc gives that process's pid in the
 * container's PID namespace); flags OCI_STATE_IN_CONTAINER accepts it. */
enum { OCI_STATE_IN_CONTAINER = 1u << 0 };
int oci_state_parse(const char *text, size_t len, unsigned flags, struct oci_state *out,
                    gctk_error **err);
int oci_state_read_fd(int fd, unsigned flags, struct oci_state *out, gctk_error **err);
void oci_state_clear(struct oci_state *s);

int oci_spec_parse(const char *text, size_t len, const char *bundle, struct oci_spec *out,
                   gctk_error **err);
/* The same from a config.json already parsed (root is only read). */
int oci_spec_from_json(json_t *root, const char *bundle, struct oci_spec *out, gctk_error **err);
int oci_spec_load(const char *bundle, struct oci_spec *out, gctk_error **err);
void oci_spec_clear(struct oci_spec *s);
#define cleanup_oci_spec __attribute__((cleanup(oci_spec_clear)))

#endif
