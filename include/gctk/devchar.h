/* /dev/char links of the NVIDIA device nodes (`gctk dev-char-links`,
 * `nvidia-ctk system create-dev-char-symlinks`).
 *
 * Why: under systemd's cgroup management, runc hands a container's device
 * rules to systemd as DeviceAllow= entries naming /dev/char/<major>:<minor>.
 * udev makes those links for the devices it knows, but the NVIDIA nodes are
 * made by nvidia-modprobe, not udev: without the links systemd drops the
 * rules, and the next `systemctl daemon-reload` re-applies the unit's
 * device policy and takes the GPUs away from running containers, whose
 * NVML then says "Failed to initialize NVML: Unknown Error". */
#ifndef GCTK_DEVCHAR_H
#define GCTK_DEVCHAR_H

#include <stdbool.h>

#include "util.h"

#define GCTK_DEV_CHAR_PATH "/dev/char"

struct gctk_devchar_options {
    const char *dev_root;      /* where dev/nvidia* are: "/" (the driver root) */
    const char *dev_char_path; /* where the links go: GCTK_DEV_CHAR_PATH */
    /* every node the driver can make (its control nodes, every GPU's, every
     * MIG capability of mig-minors), present or not, so that a node made
     * later is covered: for a udev rule run when the driver binds */
    bool create_all;
    bool dry_run; /* say what would be done, change nothing */
};

enum gctk_devchar_action {
    GCTK_DEVCHAR_CREATED,  /* made (dry run: would be made) */
    GCTK_DEVCHAR_PRESENT,  /* a link to the node is there already */
    GCTK_DEVCHAR_REPLACED, /* a link to something else was replaced (dry run: would be) */
};

struct gctk_devchar_link {
    char *link;   /* "/dev/char/195:0" */
    char *target; /* "/dev/nvidia0", under dev_root */
    unsigned major, minor;
    enum gctk_devchar_action action;
};

struct gctk_devchar_result {
    struct gctk_devchar_link *links;
    size_t len, cap;
    struct strv warnings; /* what was left alone and why, one line each */
};
void gctk_devchar_result_clear(struct gctk_devchar_result *r);

/* Makes dev_char_path/<major>:<minor> -> <dev_root>/dev/<node> for every
 * NVIDIA node under dev_root (existing character devices /dev/nvidia* and
 * /dev/nvidia-caps/nvidia-*, but the nvidia-fs, nvidia-nvswitch and
 * nvidia-nvlink ones, as NVIDIA's command), or with create_all every node
 * the driver can make. A link that already leads to the node is kept; a
 * link to anything else is replaced atomically; any other file is left
 * alone with a warning. Fails (with what was done so far in *out) when
 * dev_char_path cannot be made or written, or, with create_all, when the
 * driver is not loaded. */
int gctk_devchar_links(const struct gctk_devchar_options *o, struct gctk_devchar_result *out,
                       gctk_error **err);

#endif
