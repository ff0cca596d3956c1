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
/* The fix when a parent cgroup refuses the devices (an engine that runs
 * inside a container: LXC, Proxmox, LXD, Docker in Docker): allow their
 * majors in the outer container's device rules. Owned. */
char *cgroup_outer_fix(const struct cgroup_device *devs, size_t n);
/* Fails (with cgroup_outer_fix) when the device cgroup of the calling
 * process refuses the device node: the caller runs inside a container (or a
 * cgroup) whose rules, or a parent's, deny it, and so would every container
 * it starts, whatever their own rules say. */
int cgroup_outer_allows(const char *node, const struct cgroup_device *devs, size_t n,
                        gctk_error **err);
/* Undoes a grant (best effort: v1 devices.deny, v2 the old programs back). */
void cgroup_grant_undo(struct cgroup_grant *g);
void cgroup_grant_free(struct cgroup_grant *g);

/* Whether a device program loaded on cgroup v2 is kept for the next
 * container: cgroup_prog_dir's parent is a bpffs (a host with systemd has
 * one at /sys/fs/bpf). Without it every container's program is loaded anew
 * (the kernel's verifier, a third of a millisecond or more). */
bool cgroup_keeps_programs(void);
/* The directory that holds cgroup_prog_dir ("/" for a top-level one),
 * allocated, and *name (may be NULL) its last component; NULL when there is
 * no cgroup_prog_dir or it ends in a slash. */
char *cgroup_prog_parent(const char **name);

/* ---- exposed for tests ---------------------------------------------------- */

/* Where loaded device programs are kept pinned for the next container (a
 * directory in bpffs, created 0700); NULL: none kept. */
extern const char *cgroup_prog_dir;

struct bpf_insn;

enum cgroup_version { CGROUP_V1 = 1, CGROUP_V2 = 2 };

/* Works out from the text of /proc/<pid>/cgroup and of the reader's
 * /proc/self/mountinfo which hierarchy controls the pid's device access and
 * the directory of its cgroup there: v1 when a devices controller is mounted
 * and the pid has a devices cgroup, else v2. *dir is allocated. */
int cgroup_locate(const char *proc_cgroup, const char *mountinfo, enum cgroup_version *version,
                  char **dir, gctk_error **err);

/* The same answer without mountinfo, for the usual layout: cgroup2 at base
 * (/sys/fs/cgroup), the v1 devices hierarchy at base/devices. A directory
 * found there is taken only when its cgroup.procs lists pid: a process is
 * in one cgroup of a hierarchy, so that directory is its cgroup, whatever
 * part of the hierarchy is mounted there. NULL when the layout is another
 * (cgroup_locate then); else the directory, allocated. mountinfo grows with
 * every mount on the host, each container's among them: reading it was tens
 * of microseconds of every start on a busy host. */
char *cgroup_locate_usual(const char *base, pid_t pid, const char *proc_cgroup,
                          enum cgroup_version *version);

/* The two halves of cgroup_allow_devices, on a cgroup directory. */
int cgroup_v1_allow_devices(const char *cgroup_dir, const struct cgroup_device *devs, size_t n,
                            struct cgroup_grant **out, gctk_error **err);
int cgroup_v2_allow_devices(const char *cgroup_dir, const struct cgroup_device *devs, size_t n,
                            struct cgroup_grant **out, gctk_error **err);

/* Builds prologue + old: the prologue returns 1 for read/write access to the
 * given char devices and otherwise falls through into the old instructions.
 * Refuses old programs whose meaning would change when reloaded (map
 * references, calls). *out is allocated, *out_len in instructions. */
int cgroup_bpf_extend(const struct bpf_insn *old, size_t old_len, const struct cgroup_device *devs,
                      size_t n, struct bpf_insn **out, size_t *out_len, gctk_error **err);

#endif
