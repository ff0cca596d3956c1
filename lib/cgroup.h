/* Device access for a container's cgroup: v1 devices.allow, v2 BPF program. */
#ifndef GCTK_CGROUP_H
#define GCTK_CGROUP_H

#include "util.h"

struct cgroup_device {
    unsigned major, minor; /* character devices only */
};

/* What was changed, so that it can be undone. */
struct cgroup_grant;

/* Allows read/write access to the given char devices for the cgroup of pid.
 * Works out the cgroup version from /proc/<pid>/cgroup and the host's
 * mountinfo (read in the caller's mount namespace, so call it before entering
 * the container's). On v2, every BPF_CGROUP_DEVICE program attached to the
 * cgroup is replaced by one that first allows these devices and then runs the
 * old program's instructions. *out (may be NULL) receives what to undo. */
int cgroup_allow_devices(pid_t pid, const struct cgroup_device *devs, size_t n,
                         struct cgroup_grant **out, gctk_error **err);
/* Undoes a grant (best effort: v1 devices.deny, v2 the old programs back). */
void cgroup_grant_undo(struct cgroup_grant *g);
void cgroup_grant_free(struct cgroup_grant *g);

#endif
