/* Configuring a container: the plan's device nodes and driver files mounted
 * into its rootfs, its device cgroup opened for the GPUs, its /proc/driver/nvidia
 * masked and its ld.so.cache updated. All or nothing: a failure undoes every
 * step already made. */
#ifndef GCTK_INJECT_H
#define GCTK_INJECT_H

#include <sys/types.h>

#include "config.h"
#include "util.h"

struct inject_opts {
    pid_t pid;          /* the container's process: its mount namespace and cgroup */
    const char *rootfs; /* absolute path of the rootfs, as seen in that namespace */
    bool no_cgroups;
    enum ldconfig_mode ldconfig;
    bool cuda_compat; /* use the image's /usr/local/cuda/compat libcuda when newer */
};

/* Time spent in each phase, for the hook's log and the benchmarks. */
struct inject_report {
    unsigned long long cgroup_ns, mounts_ns, proc_ns, ldcache_ns;
    size_t mounts, links;
    char libdir[64];   /* where the libraries went in the container */
    char *compat;      /* the compat libcuda used, or NULL */
    struct strv notes; /* decisions worth logging (compat skipped, ...) */
};

/* Whether the text of /proc/self/uid_map is the initial namespace's
 * ("0 0 4294967295"). Anything else is a user namespace (rootless): there the
 * device cgroup is left alone, as with no_cgroups, since it cannot be edited. */
bool inject_uid_map_is_initial(const char *text);
/* Whether this process runs in a user namespace (its uid_map is not the
 * initial one; false when it cannot be read). */
bool inject_in_user_namespace(void);
/* Whether this process has CAP_SYS_ADMIN in its user namespace (true when
 * it cannot tell). */
bool inject_has_cap_sys_admin(void);

/* For tests: what the injection's child (a process with threads injects
 * from one, inject()) does before its work: raise this signal (0: none), or
 * exit at once without a word (inject_child_silent). */
extern int inject_child_signal;
extern bool inject_child_silent;

int inject(gctk_host *h, const gctk_plan *p, const struct inject_opts *o,
           struct inject_report *report, gctk_error **err);
void inject_report_clear(struct inject_report *r);
#define cleanup_inject_report __attribute__((cleanup(inject_report_clear)))

#endif
