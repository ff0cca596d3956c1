/* gctk-runtime's work: find the bundle in an OCI runtime command line and add
 * gctk-hook to its config.json when the container asks for GPUs. */
#ifndef GCTK_SHIM_H
#define GCTK_SHIM_H

#include "config.h"
#include "util.h"

struct shim_args {
    int verb;               /* index of the verb in argv, or -1 */
    bool prepare;           /* create or run: the bundle's config.json is to be prepared */
    const char *bundle;     /* the bundle runc will use ("." for the current directory) */
    const char *log;        /* the global --log value, or NULL */
    const char *log_format; /* the global --log-format value ("json", "text"), or NULL */
};

/* Reads a runc command line (global options, verb, the verb's options and
 * arguments) as runc itself does (Go's flag package under urfave/cli v1:
 * `-b`, `--b`, `-bundle`, `--bundle`, each `=X` or ` X`; the options of
 * create and run may follow the container id). For create and run,
 * out->prepare is set with the bundle runc will use. -1 when the line cannot
 * be read so (an option runc 1.0-1.5 does not have, a missing value, two
 * names of one option, not exactly one container id): the caller must then
 * refuse rather than prepare a bundle that may not be the container's. What
 * of --log and --log-format was read is in out even then. */
int shim_parse_args(int argc, char *const *argv, struct shim_args *out, gctk_error **err);

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
