/* Injection into a container, in-process: no binary of the image or of the
 * host is run, and a helper is forked only when the process has threads
 * (inject_in_child). */
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arch.h"
#include "caps.h"
#include "cgroup.h"
#include "host.h"
#include "inject.h"
#include "layout.h"
#include "ldcache.h"
#include "rootfs.h"

void inject_report_clear(struct inject_report *r)
{
    free(r->compat);
    strv_clear(&r->notes);
    *r = (struct inject_report){0};
}

/* A handle on the container's process that cannot come to name another one:
 * the pid in the state could be reused by a host process once the container's
 * exits, and entering that one's mount namespace would put our mounts on the
 * host. -1 without an error on kernels before 5.3 (no pidfd). */
static int open_process(pid_t pid, int *pidfd, gctk_error **err)
{
    *pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (*pidfd >= 0 || errno == ENOSYS)
        return 0;
    if (errno == ESRCH)
        return gctk_fail(err, 0,
                         "container process %d is gone: the container exited before "
                         "its GPUs were set up",
                         (int)pid);
    return gctk_fail(err, errno, "container process %d: pidfd_open", (int)pid);
}

/* Fails when the container's process has exited (a zombie counts as exited):
 * what was read through /proc/<pid> before this check was the container's.
 * Its state in /proc, not a poll of the pidfd: /proc says Z as soon as the
 * leader thread has exited, a pidfd polls readable only once every thread
 * has, which under load came after the hook's last check (test-faults: a
 * container killed during the hook kept the rootfs the hook set up). */
static int check_alive(int pidfd, pid_t pid, gctk_error **err)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    cleanup_free char *stat = NULL;
    cleanup_error gctk_error *e = NULL;
    char state = '?';
    if (read_file(path, 4096, &stat, NULL, &e) == 0) {
        /* "pid (comm) S ...": comm may hold anything, the state follows the last ')' */
        const char *paren = strrchr(stat, ')');
        if (paren != NULL && paren[1] == ' ')
            state = paren[2];
    }
    /* ENOSYS where pidfd_open worked: an emulator (valgrind 3.24) that knows
     * pidfd_open only; the /proc check stands alone, as before kernel 5.3 */
    bool same =
        pidfd < 0 || syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0 || errno == ENOSYS;
    if (!same || stat == NULL || state == 'Z' || state == 'X')
        return gctk_fail(err, 0,
                         "container process %d exited while the hook was setting up its "
                         "GPUs: nothing was left in the container",
                         (int)pid);
    return 0;
}

/* Enters the mount namespace of pid. The container always has its own: were
 * it ours, the mounts would land on the host, so that is refused. */
static int enter_mount_ns(pid_t pid, int pidfd, gctk_error **err)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
    cleanup_fd int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return gctk_fail(err, 0,
                         "container process %d exited while the hook was setting up its "
                         "GPUs: nothing was left in the container",
                         (int)pid);
    if (fd < 0)
        return gctk_fail(err, errno, "container process %d: open `%s`", (int)pid, path);
    if (check_alive(pidfd, pid, err) < 0)
        return -1;
    struct stat theirs, ours;
    if (fstat(fd, &theirs) < 0 || stat("/proc/self/ns/mnt", &ours) < 0)
        return gctk_fail(err, errno, "stat the mount namespace of process %d", (int)pid);
    if (theirs.st_ino == ours.st_ino && theirs.st_dev == ours.st_dev)
        return gctk_fail(err, 0,
                         "container process %d shares the hook's mount namespace: "
                         "refusing to mount into the host's; give the container a mount "
                         "namespace",
                         (int)pid);
    if (setns(fd, CLONE_NEWNS) < 0) {
        int e = errno;
        gctk_fail(err, e, "enter the mount namespace of process %d", (int)pid);
        if (e == EPERM)
            gctk_hint(err, "entering a container's mount namespace takes CAP_SYS_ADMIN, which "
                           "gctk-hook has as root: is it confined by seccomp, AppArmor or "
                           "SELinux, or run by a non-root engine outside a user namespace?");
        return -1;
    }
    return 0;
}

/* Opens a host path (root joined) as O_PATH and checks its type. */
static int open_host(const gctk_host *h, const char *path, mode_t type, int *fd_out,
                     struct stat *st, gctk_error **err)
{
    cleanup_free char *full = path_join(gctk_host_root(h), path);
    cleanup_fd int fd = open(full, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return gctk_fail(err, errno, "host file `%s`", full);
    if (fstat(fd, st) < 0)
        return gctk_fail(err, errno, "stat `%s`", full);
    if ((st->st_mode & S_IFMT) != type)
        return gctk_fail(err, 0, "host file `%s` is not a %s", full,
                         type == S_IFCHR    ? "character device"
                         : type == S_IFDIR  ? "directory"
                         : type == S_IFSOCK ? "socket"
                                            : "regular file");
    *fd_out = steal_fd(&fd);
    return 0;
}

/* A second run of the hook on the same container would stack every mount on
 * the first run's: refuse it at the first target that already is the host's
 * object (a target found, not created: nothing was changed for it). */
static int check_not_injected(const struct stat *src, int dst, const char *path, gctk_error **err)
{
    struct stat d;
    if (fstat(dst, &d) == 0 && src->st_dev == d.st_dev && src->st_ino == d.st_ino)
        return gctk_fail(err, 0,
                         "`%s` is already mounted from the host: this container's GPUs "
                         "were set up by an earlier run of the hook (is gctk-hook listed "
                         "twice in its OCI hooks?)",
                         path);
    return 0;
}

/* A target that cannot be made for a node: an earlier run's node (not the
 * regular file a target must be) is said to be one. */
static int node_target_failed(struct rootfs *r, const struct stat *src, const char *path,
                              gctk_error **err)
{
    cleanup_fd int found = -1;
    cleanup_error gctk_error *absent = NULL, *earlier = NULL;
    if (rootfs_open_path(r, path, O_PATH | O_CLOEXEC, &found, &absent) == 0 &&
        check_not_injected(src, found, path, &earlier) < 0) {
        if (err != NULL) {
            gctk_error_free(*err);
            *err = steal_pointer(&earlier);
        }
        return -1;
    }
    return gctk_wrap(err, "mount `%s`", path);
}

static int mount_node(const gctk_host *h, struct rootfs *r, const struct gctk_node *n,
                      struct mount_journal *j, gctk_error **err)
{
    struct stat st;
    cleanup_fd int src = -1, dst = -1;
    if (open_host(h, n->path, S_IFCHR, &src, &st, err) < 0)
        return -1;
    if (major(st.st_rdev) != n->major || minor(st.st_rdev) != n->minor)
        return gctk_fail(err, 0,
                         "device `%s` is %u:%u on the host, expected %u:%u: the driver "
                         "changed under us; retry",
                         n->path, major(st.st_rdev), minor(st.st_rdev), n->major, n->minor);
    int made = rootfs_make_target(r, n->path, S_IFREG, j, &dst, err);
    if (made < 0)
        return node_target_failed(r, &st, n->path, err);
    /* a file made just now is no earlier run's */
    if (made == 0 && check_not_injected(&st, dst, n->path, err) < 0)
        return -1;
    if (mount_bind_fd(src, dst, LAYOUT_NODE_FLAGS, j, err) < 0)
        return gctk_wrap(err, "mount `%s`", n->path);
    return 0;
}

static int mount_file(const gctk_host *h, struct rootfs *r, const struct gctk_file *f,
                      const struct layout_dirs *dirs, struct mount_journal *j, gctk_error **err)
{
    cleanup_free char *dst_path = layout_container_path(f, dirs);
    mode_t type = f->kind == GCTK_FILE_DIR      ? S_IFDIR
                  : f->kind == GCTK_FILE_SOCKET ? S_IFSOCK
                                                : S_IFREG;
    struct stat st;
    cleanup_fd int src = -1, dst = -1;
    if (open_host(h, f->source, type, &src, &st, err) < 0)
        return gctk_wrap(err, "mount `%s`", dst_path);
    int made = rootfs_make_target(r, dst_path, type == S_IFDIR ? S_IFDIR : S_IFREG, j, &dst, err);
    if (made < 0)
        return gctk_wrap(err, "mount `%s`", dst_path);
    /* a file made just now is no earlier run's */
    if (made == 0 && check_not_injected(&st, dst, dst_path, err) < 0)
        return -1;
    if (mount_bind_fd(src, dst, layout_file_flags(f), j, err) < 0)
        return gctk_wrap(err, "mount `%s`", dst_path);
    return 0;
}

/* The links of the layout, recorded in the journal. */
static int make_links(struct rootfs *r, const gctk_plan *p, const struct layout_dirs *dirs,
                      const char *driver, struct mount_journal *j, size_t *count, gctk_error **err)
{
    struct layout_links links = {0};
    layout_links(p, dirs, &links);
    int rc = 0;
    for (size_t i = 0; i < links.paths.len && rc == 0; i++)
        rc = rootfs_symlink(r, links.targets.items[i], links.paths.items[i], j, err);
    /* a file of the image where the driver's link goes: the image was built
     * with driver files of its own */
    if (rc < 0 && err != NULL && *err != NULL && (*err)->code == EEXIST)
        gctk_hint(err,
                  "the image carries driver files of its own, which clash with the host's "
                  "(driver %s), given to every GPU container: remove them from the image "
                  "(a driver package such as libnvidia-compute-* or libcuda1: apt-get "
                  "purge it in the Dockerfile), or run `gctk doctor --image IMAGE` to list "
                  "them",
                  driver);
    if (rc == 0)
        *count += links.paths.len;
    layout_links_clear(&links);
    return rc;
}

/* The host's /proc/driver/nvidia/name into the tmpfs that masks it (dirfd). */
static int copy_proc_file(const gctk_host *h, struct rootfs *r, int dirfd, const char *name,
                          bool params, gctk_error **err)
{
    cleanup_free char *dir = path_join(gctk_host_root(h), HOST_PROC_NVIDIA);
    cleanup_free char *src = xasprintf("%s/%s", dir, name);
    cleanup_free char *text = NULL;
    size_t len = 0;
    cleanup_error gctk_error *e = NULL;
    if (read_file(src, 1 << 20, &text, &len, &e) < 0)
        return e->code == ENOENT ? 0 : gctk_error_propagate(err, &e);
    if (params) {
        /* the container must never create device files itself */
        char *m = strstr(text, "ModifyDeviceFiles: 1");
        if (m != NULL)
            m[strlen("ModifyDeviceFiles: ")] = '0';
    }
    return rootfs_write_file_in(r, dirfd, name, text, len, 0444, err);
}

/* MIG: the capability files (or directories) of the selected instances, and
 * of the config and monitor capabilities, read-only at their own paths in the
 * tmpfs. The driver checks them when NVML or CUDA open an instance: without
 * them the container sees its GPU but no MIG device. */
static int mount_mig_procs(const gctk_host *h, struct rootfs *r, const char *const *procs,
                           size_t nprocs, struct mount_journal *j, gctk_error **err)
{
    for (size_t i = 0; i < nprocs; i++) {
        const char *path = procs[i];
        cleanup_free char *full = path_join(gctk_host_root(h), path);
        struct stat st;
        if (stat(full, &st) < 0)
            return gctk_fail(err, errno, "MIG capability `%s`", full);
        mode_t type = S_ISDIR(st.st_mode) ? S_IFDIR : S_IFREG;
        cleanup_fd int src = -1, dst = -1;
        if (open_host(h, path, type, &src, &st, err) < 0 ||
            rootfs_make_target(r, path, type, NULL, &dst, err) < 0 ||
            mount_bind_fd(src, dst, MOUNT_RO | MOUNT_NOSUID | MOUNT_NODEV | MOUNT_NOEXEC, j, err) <
                0)
            return gctk_wrap(err, "mount `%s`", path);
    }
    return 0;
}

int inject_mask_proc(const gctk_host *h, struct rootfs *r, const struct gctk_gpu *const *gpus,
                     size_t ngpus, const char *const *procs, size_t nprocs, struct mount_journal *j,
                     gctk_error **err)
{
    cleanup_free char *host_dir = path_join(gctk_host_root(h), HOST_PROC_NVIDIA);
    struct stat st;
    if (stat(host_dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return 0;
    cleanup_fd int target = -1, tmp_root = -1;
    cleanup_error gctk_error *e = NULL;
    if (rootfs_open_path(r, HOST_PROC_NVIDIA, O_PATH | O_DIRECTORY | O_CLOEXEC, &target, &e) < 0) {
        /* a container /proc without the driver's entry (a simulated host):
         * cover /proc/driver instead and make the directory in the tmpfs */
        cleanup_fd int parent = -1, parent_root = -1;
        if (rootfs_open_path(r, "/proc/driver", O_PATH | O_DIRECTORY | O_CLOEXEC, &parent, err) <
                0 ||
            mount_tmpfs_fd(parent, "mode=0555", j, &parent_root, err) < 0 ||
            rootfs_mkdir_p(r, HOST_PROC_NVIDIA, 0555, NULL, &target, err) < 0)
            return gctk_wrap(err, "mask `/proc/driver`");
    }
    if (mount_tmpfs_fd(target, "mode=0555", j, &tmp_root, err) < 0)
        return gctk_wrap(err, "mask `" HOST_PROC_NVIDIA "`");
    /* the tmpfs is the hook's own: its files and directories are made in it
     * by name, nothing in it to resolve */
    cleanup_fd int gpus_dir = -1;
    if (copy_proc_file(h, r, tmp_root, "version", false, err) < 0 ||
        copy_proc_file(h, r, tmp_root, "params", true, err) < 0 ||
        copy_proc_file(h, r, tmp_root, "registry", false, err) < 0 ||
        (ngpus > 0 && rootfs_mkdir_in(r, tmp_root, "gpus", 0555, &gpus_dir, err) < 0))
        return gctk_wrap(err, "mask `" HOST_PROC_NVIDIA "`");
    for (size_t i = 0; i < ngpus; i++) {
        const struct gctk_gpu *g = gpus[i];
        const char *bus = str_has_prefix(g->proc_dir, HOST_PROC_NVIDIA "/gpus/")
                              ? g->proc_dir + strlen(HOST_PROC_NVIDIA "/gpus/")
                              : "";
        cleanup_fd int src = -1, dst = -1;
        if (bus[0] == '\0' || strchr(bus, '/') != NULL || strcmp(bus, "..") == 0 ||
            strcmp(bus, ".") == 0)
            return gctk_fail(err, 0, "GPU directory `%s` is not one of `" HOST_PROC_NVIDIA "/gpus`",
                             g->proc_dir);
        if (open_host(h, g->proc_dir, S_IFDIR, &src, &st, err) < 0 ||
            rootfs_mkdir_in(r, gpus_dir, bus, 0555, &dst, err) < 0 ||
            mount_bind_fd(src, dst, MOUNT_RO | MOUNT_NOSUID | MOUNT_NODEV | MOUNT_NOEXEC, j, err) <
                0)
            return gctk_wrap(err, "mount `%s`", g->proc_dir);
    }
    if (mount_mig_procs(h, r, procs, nprocs, j, err) < 0)
        return -1;
    if (mount_seal_fd(tmp_root, err) < 0)
        return gctk_wrap(err, "mask `" HOST_PROC_NVIDIA "`");
    return 0;
}

/* The plan's GPUs and MIG capability paths. */
static int mask_proc(const gctk_host *h, struct rootfs *r, const gctk_plan *p,
                     struct mount_journal *j, gctk_error **err)
{
    size_t ngpus = gctk_plan_gpu_count(p), nprocs = gctk_plan_proc_count(p);
    cleanup_free const struct gctk_gpu **gpus = xcalloc(ngpus, sizeof(*gpus));
    cleanup_free const char **procs = xcalloc(nprocs, sizeof(*procs));
    for (size_t i = 0; i < ngpus; i++)
        gpus[i] = gctk_plan_gpu(p, i);
    for (size_t i = 0; i < nprocs; i++)
        procs[i] = gctk_plan_proc(p, i);
    return inject_mask_proc(h, r, gpus, ngpus, procs, nprocs, j, err);
}

static int update_ldcache(struct rootfs *r, const gctk_host *h, const gctk_plan *p,
                          const struct layout_dirs *dirs, bool compat, struct inject_report *rep,
                          gctk_error **err)
{
    struct ldcache c = {0};
    layout_ldcache_read(r, &c, &rep->notes);
    layout_ldcache_add_plan(&c, p, dirs);
    if (compat && (cap_expand(gctk_plan_caps(p)) & GCTK_CAP_COMPUTE))
        layout_ldcache_add_compat(r, h->arch, gctk_host_driver_version(h), &c, &rep->notes,
                                  &rep->compat);
    int rc = layout_ldcache_write(r, &c, err);
    ldcache_clear(&c);
    return rc;
}

bool inject_uid_map_is_initial(const char *text)
{
    unsigned long inside = 1, outside = 1, count = 0;
    int n = 0;
    if (sscanf(text, " %lu %lu %lu %n", &inside, &outside, &count, &n) != 3)
        return false;
    /* one line, the identity over the whole range */
    return inside == 0 && outside == 0 && count == 4294967295ul && text[n] == '\0';
}

bool inject_in_user_namespace(void)
{
    cleanup_free char *text = NULL;
    if (read_file("/proc/self/uid_map", 4096, &text, NULL, NULL) < 0)
        return false;
    return !inject_uid_map_is_initial(text);
}

bool inject_has_cap_sys_admin(void)
{
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
    if (syscall(SYS_capget, &h, d) < 0)
        return true; /* cannot tell: let the kernel say */
    return (d[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective & CAP_TO_MASK(CAP_SYS_ADMIN)) != 0;
}

/* A hook that runs without CAP_SYS_ADMIN outside a user namespace (runc run
 * by a user directly, a rootless setup that runs hooks outside its user
 * namespace) can neither edit a device cgroup nor enter the container's
 * mount namespace: said before anything is tried, with the fixes. */
static int check_privileges(bool userns, gctk_error **err)
{
    if (userns || inject_has_cap_sys_admin())
        return 0;
    gctk_fail(err, 0,
              "gctk-hook runs as uid %u without CAP_SYS_ADMIN, outside a user namespace: it "
              "cannot enter the container's mount namespace (nor allow the GPUs in its device "
              "cgroup) to give it the GPUs",
              (unsigned)geteuid());
    return gctk_hint(err, "run the engine as root; or rootless with a user namespace (rootless "
                          "Podman or Docker, which run hooks inside it); or give the GPUs "
                          "through CDI, which needs no hook: gctk cdi generate --output "
                          "/etc/cdi/nvidia.yaml, then --device nvidia.com/gpu=all");
}

/* The device cgroup of the hook itself refuses the GPUs: the engine runs in
 * a container that may not use them (LXC, Docker in Docker), and no rule in
 * the container's own cgroup can overrule that. */
static int check_outer_cgroup(const gctk_host *h, const gctk_plan *p, gctk_error **err)
{
    size_t n = gctk_plan_node_count(p);
    const struct gctk_node *ctl = NULL;
    struct cgroup_device *devs = xcalloc(n + 1, sizeof(*devs));
    for (size_t i = 0; i < n; i++) {
        const struct gctk_node *node = gctk_plan_node(p, i);
        devs[i] = (struct cgroup_device){node->major, node->minor};
        if (ctl == NULL && strcmp(node->path, "/dev/nvidiactl") == 0)
            ctl = node;
    }
    int rc = 0;
    if (ctl != NULL) {
        cleanup_free char *full = path_join(gctk_host_root(h), ctl->path);
        rc = cgroup_outer_allows(full, devs, n, err);
    }
    free(devs);
    return rc;
}

static int inject_here(gctk_host *h, const gctk_plan *p, const struct inject_opts *o,
                       struct inject_report *rep, gctk_error **err)
{
    if (o->rootfs == NULL || o->rootfs[0] != '/')
        return gctk_fail(err, 0, "rootfs `%s` must be an absolute path",
                         o->rootfs ? o->rootfs : "");
    struct cgroup_grant *grant = NULL;
    struct mount_journal *j = NULL;
    struct rootfs r = {.fd = -1};
    cleanup_fd int pidfd = -1;
    unsigned long long t = now_ns();

    bool userns = inject_in_user_namespace();
    if (open_process(o->pid, &pidfd, err) < 0 || check_privileges(userns, err) < 0 ||
        check_outer_cgroup(h, p, err) < 0)
        return -1;

    size_t ndev = gctk_plan_node_count(p);
    /* rootless (--no-cgroups --user of NVIDIA's tools): the engine's cgroup
     * is not ours to edit, and no node is ever made: they are bind-mounted */
    bool no_cgroups = o->no_cgroups;
    if (!no_cgroups && ndev > 0 && userns) {
        no_cgroups = true;
        strv_push(&rep->notes, xstrdup("in a user namespace: device cgroup left to the engine"));
    }
    if (!no_cgroups && ndev > 0) {
        struct cgroup_device *devs = xcalloc(ndev, sizeof(*devs));
        for (size_t i = 0; i < ndev; i++)
            devs[i] =
                (struct cgroup_device){gctk_plan_node(p, i)->major, gctk_plan_node(p, i)->minor};
        int rc = cgroup_allow_devices(o->pid, devs, ndev, &grant, err);
        free(devs);
        if (rc < 0)
            return gctk_wrap(err, "device cgroup of process %d", (int)o->pid);
    }
    /* that the cgroup read through /proc/<pid> was the container's is
     * proven by the next check, in enter_mount_ns(): the same process, still
     * alive after both reads */
    rep->cgroup_ns = now_ns() - t;
    t = now_ns();

    struct layout_dirs dirs = {0};
    /* a container of its own user namespace gets what is created in it
     * owned by its own root (the maps are the container's: checked alive
     * again before the last step) */
    if (enter_mount_ns(o->pid, pidfd, err) < 0 || rootfs_open(o->rootfs, &r, err) < 0 ||
        rootfs_owner_of(&r, o->pid, err) < 0)
        goto fail;
    if (r.owner_mapped)
        strv_push(&rep->notes, xasprintf("in a user namespace of its own: files created as its "
                                         "root, host uid %u gid %u",
                                         (unsigned)r.uid, (unsigned)r.gid));
    j = mount_journal_new();
    layout_image_dirs(&r, h->arch, &dirs);
    snprintf(rep->libdir, sizeof(rep->libdir), "%s", dirs.lib);
    for (size_t i = 0; i < ndev; i++)
        if (mount_node(h, &r, gctk_plan_node(p, i), j, err) < 0)
            goto fail;
    for (size_t i = 0; i < gctk_plan_file_count(p); i++)
        if (mount_file(h, &r, gctk_plan_file(p, i), &dirs, j, err) < 0)
            goto fail;
    if (make_links(&r, p, &dirs, gctk_host_driver_version(h), j, &rep->links, err) < 0)
        goto fail;
    rep->mounts_ns = now_ns() - t;
    t = now_ns();
    if (mask_proc(h, &r, p, j, err) < 0)
        goto fail;
    rep->proc_ns = now_ns() - t;
    t = now_ns();
    /* a container that died meanwhile must not keep a half-configured
     * rootfs: checked before the one step that cannot be undone */
    if (check_alive(pidfd, o->pid, err) < 0)
        goto fail;
    /* last: the one step that changes a file of the image */
    if (o->ldconfig == LDCONFIG_INTERNAL &&
        update_ldcache(&r, h, p, &dirs, o->cuda_compat, rep, err) < 0)
        goto fail;
    rep->ldcache_ns = now_ns() - t;
    rep->mounts = mount_journal_mounts(j);
    mount_journal_free(j);
    rootfs_close(&r);
    cgroup_grant_free(grant);
    return 0;

fail:
    if (j != NULL)
        mount_journal_undo(j);
    mount_journal_free(j);
    rootfs_close(&r);
    if (grant != NULL)
        cgroup_grant_undo(grant);
    cgroup_grant_free(grant);
    return -1;
}

/* ---- a process with threads --------------------------------------------------- */

/* Whether this process has more than one thread: /proc/self/task has a link
 * for each, besides "." and "..". */
int inject_child_signal;
bool inject_child_silent;

static bool process_threaded(void)
{
    struct stat st;
    return stat("/proc/self/task", &st) == 0 && st.st_nlink > 3;
}

/* The child's report and error travel as NUL-terminated records, each a
 * tag and a text: T the times and counts, L the library directory, C the
 * compat library, N a note, E the error's code, R set when its text says
 * the cause, W what failed, H its fix. */
static void put(int fd, char tag, const char *text)
{
    (void)write_all(fd, &tag, 1);
    (void)write_all(fd, text, strlen(text) + 1);
}

static void report_in_child(int fd, const struct inject_report *rep, const gctk_error *e)
{
    char line[160];
    snprintf(line, sizeof(line), "%llu %llu %llu %llu %zu %zu", rep->cgroup_ns, rep->mounts_ns,
             rep->proc_ns, rep->ldcache_ns, rep->mounts, rep->links);
    put(fd, 'T', line);
    put(fd, 'L', rep->libdir);
    if (rep->compat != NULL)
        put(fd, 'C', rep->compat);
    for (size_t i = 0; i < rep->notes.len; i++)
        put(fd, 'N', rep->notes.items[i]);
    if (e != NULL) {
        snprintf(line, sizeof(line), "%d", e->code);
        put(fd, 'E', line);
        if (e->code_said)
            put(fd, 'R', "");
        put(fd, 'W', e->what);
        if (e->hint != NULL)
            put(fd, 'H', e->hint);
    }
}

/* Reads the child's records into rep and, when it failed, *err; -1 when it
 * failed or said nothing. */
static int report_from_child(const char *data, size_t len, struct inject_report *rep,
                             gctk_error **err)
{
    int code = 0;
    bool failed = false, said = false, timed = false;
    const char *what = NULL, *hint = NULL;
    for (const char *rec = data; rec < data + len; rec += strlen(rec) + 1) {
        const char *text = rec + 1;
        switch (rec[0]) {
        case 'T':
            timed = sscanf(text, "%llu %llu %llu %llu %zu %zu", &rep->cgroup_ns, &rep->mounts_ns,
                           &rep->proc_ns, &rep->ldcache_ns, &rep->mounts, &rep->links) == 6;
            break;
        case 'L':
            snprintf(rep->libdir, sizeof(rep->libdir), "%s", text);
            break;
        case 'C':
            free(rep->compat);
            rep->compat = xstrdup(text);
            break;
        case 'N':
            strv_push(&rep->notes, xstrdup(text));
            break;
        case 'E':
            failed = true;
            code = atoi(text);
            break;
        case 'R':
            said = true;
            break;
        case 'W':
            what = text;
            break;
        case 'H':
            hint = text;
            break;
        }
    }
    if (!failed)
        return timed ? 0 : gctk_fail(err, 0, "the injection's child process reported nothing");
    if (said)
        gctk_refuse(err, code, "%s", what != NULL ? what : "injection failed");
    else
        gctk_fail(err, code, "%s", what != NULL ? what : "injection failed");
    if (hint != NULL)
        gctk_hint(err, "%s", hint);
    return -1;
}

/* A process with threads cannot enter a mount namespace: setns() fails
 * EINVAL, its threads sharing the filesystem context. NVML starts threads
 * of its own when it is loaded (for a GPU's brand or compute capability
 * that an image's requirement names, or for a MIG host's devices; seen on
 * the H200s: "enter the mount namespace of process N: Invalid argument").
 * The injection then runs in a child, which has the one thread that forked
 * it, and its report comes back through a pipe. The child undoes what it
 * did on failure, as inject_here() does in-process. */
static int inject_in_child(gctk_host *h, const gctk_plan *p, const struct inject_opts *o,
                           struct inject_report *rep, gctk_error **err)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return gctk_fail(err, errno, "pipe");
    pid_t child = fork();
    if (child < 0) {
        int e = errno;
        close(pipefd[0]);
        close(pipefd[1]);
        return gctk_fail(err, e, "fork");
    }
    if (child == 0) {
        close(pipefd[0]);
        if (inject_child_signal != 0)
            raise(inject_child_signal);
        if (inject_child_silent)
            _exit(0);
        gctk_error *e = NULL;
        int rc = inject_here(h, p, o, rep, &e);
        report_in_child(pipefd[1], rep, e);
        _exit(rc == 0 ? 0 : 1);
    }
    close(pipefd[1]);
    cleanup_fd int in = pipefd[0];
    cleanup_free char *data = NULL;
    size_t len = 0;
    cleanup_error gctk_error *read_err = NULL;
    int read_rc = read_fd(in, 1u << 20, &data, &len, &read_err);
    int status = reap(child, false);
    if (status < 0)
        return gctk_fail(err, errno, "wait for the injection's child process %d", (int)child);
    if (WIFSIGNALED(status))
        return gctk_fail(err, 0, "the injection's child process %d was killed by signal %d",
                         (int)child, WTERMSIG(status));
    if (read_rc < 0)
        return gctk_fail(err, read_err->code, "the injection's child process: %s", read_err->msg);
    return report_from_child(data, len, rep, err);
}

int inject(gctk_host *h, const gctk_plan *p, const struct inject_opts *o, struct inject_report *rep,
           gctk_error **err)
{
    if (process_threaded())
        return inject_in_child(h, p, o, rep, err);
    return inject_here(h, p, o, rep, err);
}
