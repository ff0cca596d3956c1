/* gctk-runtime's work: find the bundle in an OCI runtime command line and add
 * gctk-hook to its config.json when the container asks for GPUs. */
#ifndef GCTK_SHIM_H
#define GCTK_SHIM_H

#include "config.h"
#include "util.h"

struct shim_args {
    int verb;               /* index of the verb in argv, or -1 */
    const char *bundle;     /* --bundle / -b value, or NULL (the current directory) */
    const char *log;        /* the global --log value, or NULL */
    const char *log_format; /* the global --log-format value ("json", "text"), or NULL */
};

/* Finds the verb and the bundle in a runc-style command line (global flags,
 * verb, verb flags, id). Unknown flags are left alone: they are passed on. */
void shim_parse_args(int argc, char *const *argv, struct shim_args *out);

/* Appends msg as an error to the runtime log named by --log, in runc's
 * format (--log-format json: {"level":"error","msg":...,"time":...}; text
 * otherwise): containerd's shim reads the runtime's error from there, not
 * from stderr, and without it says only `unable to retrieve OCI runtime
 * error`. Nothing when a->log is NULL. */
void shim_log_error(const struct shim_args *a, const char *msg);

/* Adds the prestart hook at hook_path (with an explicit environment: the
 * variables that name the settings, GCTK_CONFIG, NVIDIA_CTK_CONFIG_FILE_PATH
 * and XDG_CONFIG_HOME, when set, and PATH) to bundle/config.json when the container asks for GPUs
 * and has no gctk or NVIDIA hook yet. CDI mode instead: when an annotation
 * "cdi.k8s.io/..." or NVIDIA_VISIBLE_DEVICES names CDI devices
 * ("nvidia.com/gpu=0"), the edits of the specs in /etc/cdi and /var/run/cdi
 * are applied to config.json and no hook is added; an unknown device is an
 * error. The file is rewritten atomically. *added tells whether it was
 * changed. */
int shim_prepare_bundle(const char *bundle, const struct gctk_config *cfg, const char *hook_path,
                        bool *added, gctk_error **err);

#endif
