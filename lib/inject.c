/* Injection into a container, in-process: no helper is forked, no binary of
 * the image or of the host is run. */
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "cgroup.h"
#include "host.h"
#include "inject.h"
#include "ldcache.h"
#include "rootfs.h"
#include "vercmp.h"
#include "caps.h"
#include "elfinfo.h"
#include <dirent.h>
#include <elf.h>

#define PROC_NVIDIA "/proc/driver/nvidia"

void inject_report_clear(struct inject_report *r)
{
    free(r->compat);
    strv_clear(&r->notes);
    *r = (struct inject_report){0};
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
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
        return gctk_fail(err, 0, "container process %d is gone: the container exited before "
                                 "its GPUs were set up", (int)pid);
    return gctk_fail(err, errno, "container process %d: pidfd_open", (int)pid);
}

/* Fails when the container's process has exited (a zombie counts as exited):
 * what was read through /proc/<pid> before this check was the container's. */
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
        return gctk_fail(err, 0, "container process %d exited while the hook was setting up its "
                                 "GPUs: nothing was left in the container", (int)pid);
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
        return gctk_fail(err, 0, "container process %d exited while the hook was setting up its "
                                 "GPUs: nothing was left in the container", (int)pid);
    if (fd < 0)
        return gctk_fail(err, errno, "container process %d: open `%s`", (int)pid, path);
    if (check_alive(pidfd, pid, err) < 0)
        return -1;
    struct stat theirs, ours;
    if (fstat(fd, &theirs) < 0 || stat("/proc/self/ns/mnt", &ours) < 0)
        return gctk_fail(err, errno, "stat the mount namespace of process %d", (int)pid);
    if (theirs.st_ino == ours.st_ino && theirs.st_dev == ours.st_dev)
        return gctk_fail(err, 0, "container process %d shares the hook's mount namespace: "
                                 "refusing to mount into the host's; give the container a mount "
                                 "namespace", (int)pid);
    if (setns(fd, CLONE_NEWNS) < 0)
        return gctk_fail(err, errno, "enter the mount namespace of process %d", (int)pid);
    return 0;
}

static bool is_dir_in_root(struct rootfs *r, const char *path)
{
    cleanup_fd int fd = -1;
    cleanup_error gctk_error *e = NULL;
    if (rootfs_open_path(r, path, O_PATH | O_DIRECTORY | O_CLOEXEC, &fd, &e) < 0)
        return false;
    return true;
}

/* Debian-like images keep libraries in the multiarch dir, others in lib64 */
static void pick_lib_dirs(struct rootfs *r, const char **lib, const char **lib32)
{
    if (is_dir_in_root(r, "/usr/lib/x86_64-linux-gnu"))
        *lib = "/usr/lib/x86_64-linux-gnu";
    else if (is_dir_in_root(r, "/usr/lib64"))
        *lib = "/usr/lib64";
    else
        *lib = "/usr/lib/x86_64-linux-gnu";
    if (is_dir_in_root(r, "/usr/lib/i386-linux-gnu") || !is_dir_in_root(r, "/usr/lib32"))
        *lib32 = "/usr/lib/i386-linux-gnu";
    else
        *lib32 = "/usr/lib32";
}

/* Opens a host path (root joined) as O_PATH and checks its type. */
static int open_host(const gctk_host *h, const char *path, mode_t type, int *fd_out,
                     struct stat *st, gctk_error **err)
{
    cleanup_free char *full = path_join(h->root, path);
    cleanup_fd int fd = open(full, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return gctk_fail(err, errno, "host file `%s`", full);
    if (fstat(fd, st) < 0)
        return gctk_fail(err, errno, "stat `%s`", full);
    if ((st->st_mode & S_IFMT) != type)
        return gctk_fail(err, 0, "host file `%s` is not a %s", full,
                         type == S_IFCHR   ? "character device"
                         : type == S_IFDIR ? "directory"
                         : type == S_IFSOCK ? "socket"
                                            : "regular file");
    *fd_out = steal_fd(&fd);
    return 0;
}

/* A second run of the hook on the same container would stack every mount on
 * the first run's: refuse it at the first target that already is the host's
 * object, before anything is changed. */
static int check_not_injected(struct rootfs *r, int src, const char *path, gctk_error **err)
{
    cleanup_fd int dst = -1;
    cleanup_error gctk_error *e = NULL;
    struct stat s, d;
    if (rootfs_open_path(r, path, O_PATH | O_CLOEXEC, &dst, &e) < 0)
        return 0; /* not there yet: the usual case */
    if (fstat(src, &s) == 0 && fstat(dst, &d) == 0 && s.st_dev == d.st_dev &&
        s.st_ino == d.st_ino)
        return gctk_fail(err, 0, "`%s` is already mounted from the host: this container's GPUs "
                                 "were set up by an earlier run of the hook (is gctk-hook listed "
                                 "twice in its OCI hooks?)", path);
    return 0;
}

static int mount_node(const gctk_host *h, struct rootfs *r, const struct gctk_node *n,
                      struct mount_journal *j, gctk_error **err)
{
    struct stat st;
    cleanup_fd int src = -1, dst = -1;
    if (open_host(h, n->path, S_IFCHR, &src, &st, err) < 0)
        return -1;
    if (major(st.st_rdev) != n->major || minor(st.st_rdev) != n->minor)
        return gctk_fail(err, 0, "device `%s` is %u:%u on the host, expected %u:%u: the driver "
                                 "changed under us; retry",
                         n->path, major(st.st_rdev), minor(st.st_rdev), n->major, n->minor);
    if (check_not_injected(r, src, n->path, err) < 0)
        return -1;
    if (rootfs_make_target(r, n->path, S_IFREG, j, &dst, err) < 0 ||
        mount_bind_fd(src, dst, MOUNT_NOSUID | MOUNT_NOEXEC, j, err) < 0)
        return gctk_wrap(err, "mount `%s`", n->path);
    return 0;
}

static const char *container_path(const struct gctk_file *f, const char *lib, const char *lib32,
                                  char *buf, size_t size)
{
    switch (f->kind) {
    case GCTK_FILE_LIB:
        snprintf(buf, size, "%s/%s", lib, base_name(f->path));
        return buf;
    case GCTK_FILE_LIB32:
        snprintf(buf, size, "%s/%s", lib32, base_name(f->path));
        return buf;
    case GCTK_FILE_BIN:
        snprintf(buf, size, "/usr/bin/%s", base_name(f->path));
        return buf;
    default:
        return f->path;
    }
}

static int mount_file(const gctk_host *h, struct rootfs *r, const struct gctk_file *f,
                      const char *lib, const char *lib32, struct mount_journal *j,
                      gctk_error **err)
{
    char buf[4096];
    const char *dst_path = container_path(f, lib, lib32, buf, sizeof(buf));
    mode_t type = f->kind == GCTK_FILE_DIR      ? S_IFDIR
                  : f->kind == GCTK_FILE_SOCKET ? S_IFSOCK
                                                : S_IFREG;
    struct stat st;
    cleanup_fd int src = -1, dst = -1;
    if (open_host(h, f->path, type, &src, &st, err) < 0)
        return gctk_wrap(err, "mount `%s`", dst_path);
    /* the MPS pipe directory is written by the container's clients */
    unsigned flags = MOUNT_NOSUID | MOUNT_NODEV | (f->kind == GCTK_FILE_DIR ? MOUNT_NOEXEC : MOUNT_RO);
    if (check_not_injected(r, src, dst_path, err) < 0)
        return -1;
    if (rootfs_make_target(r, dst_path, type == S_IFDIR ? S_IFDIR : S_IFREG, j, &dst, err) < 0 ||
        mount_bind_fd(src, dst, flags, j, err) < 0)
        return gctk_wrap(err, "mount `%s`", dst_path);
    return 0;
}

/* The links a program expects: SONAME -> file, and the dev links that
 * build systems and dlopen("libcuda.so") users look for. */
static int make_links(struct rootfs *r, const gctk_plan *p, const char *lib, const char *lib32,
                      struct mount_journal *j, size_t *count, gctk_error **err)
{
    for (size_t i = 0; i < gctk_plan_file_count(p); i++) {
        const struct gctk_file *f = gctk_plan_file(p, i);
        if (f->kind != GCTK_FILE_LIB && f->kind != GCTK_FILE_LIB32)
            continue;
        const char *dir = f->kind == GCTK_FILE_LIB ? lib : lib32;
        const char *file = base_name(f->path);
        if (f->soname != NULL && strcmp(f->soname, file) != 0 && strchr(f->soname, '/') == NULL) {
            cleanup_free char *link = xasprintf("%s/%s", dir, f->soname);
            if (rootfs_symlink(r, file, link, j, err) < 0)
                return -1;
            (*count)++;
        }
        static const char *const dev_links[] = {"libcuda.so", "libnvidia-ml.so"};
        for (size_t k = 0; k < GCTK_ARRAY_LEN(dev_links); k++) {
            size_t n = strlen(dev_links[k]);
            if (strncmp(file, dev_links[k], n) != 0 || file[n] != '.' || f->soname == NULL)
                continue;
            cleanup_free char *link = xasprintf("%s/%s", dir, dev_links[k]);
            if (rootfs_symlink(r, f->soname, link, j, err) < 0)
                return -1;
            (*count)++;
        }
    }
    return 0;
}

/* Copies a small host file of /proc/driver/nvidia into the container's tmpfs. */
static int copy_proc_file(const gctk_host *h, struct rootfs *r, const char *name, bool params,
                          gctk_error **err)
{
    cleanup_free char *src = xasprintf("%s" PROC_NVIDIA "/%s", strcmp(h->root, "/") ? h->root : "",
                                       name);
    cleanup_free char *text = NULL;
    size_t len = 0;
    cleanup_error gctk_error *e = NULL;
    if (read_file(src, 1 << 20, &text, &len, &e) < 0)
        return e->code == ENOENT ? 0 : (*err = steal_pointer(&e), -1);
    if (params) {
        /* the container must never create device files itself */
        char *m = strstr(text, "ModifyDeviceFiles: 1");
        if (m != NULL)
            m[strlen("ModifyDeviceFiles: ")] = '0';
    }
    cleanup_free char *dst = xasprintf(PROC_NVIDIA "/%s", name);
    return rootfs_write_file(r, dst, text, len, 0444, err);
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
        cleanup_free char *full = path_join(h->root, path);
        struct stat st;
        if (stat(full, &st) < 0)
            return gctk_fail(err, errno, "MIG capability `%s`", full);
        mode_t type = S_ISDIR(st.st_mode) ? S_IFDIR : S_IFREG;
        cleanup_fd int src = -1, dst = -1;
        if (open_host(h, path, type, &src, &st, err) < 0 ||
            rootfs_make_target(r, path, type, NULL, &dst, err) < 0 ||
            mount_bind_fd(src, dst, MOUNT_RO | MOUNT_NOSUID | MOUNT_NODEV | MOUNT_NOEXEC, j,
                          err) < 0)
            return gctk_wrap(err, "mount `%s`", path);
    }
    return 0;
}

int inject_mask_proc(const gctk_host *h, struct rootfs *r, const struct gctk_gpu *const *gpus,
                     size_t ngpus, const char *const *procs, size_t nprocs,
                     struct mount_journal *j, gctk_error **err)
{
    cleanup_free char *host_dir = path_join(h->root, PROC_NVIDIA);
    struct stat st;
    if (stat(host_dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return 0;
    cleanup_fd int target = -1, tmp_root = -1;
    cleanup_error gctk_error *e = NULL;
    if (rootfs_open_path(r, PROC_NVIDIA, O_PATH | O_DIRECTORY | O_CLOEXEC, &target, &e) < 0) {
        /* a container /proc without the driver's entry (a simulated host):
         * cover /proc/driver instead and make the directory in the tmpfs */
        cleanup_fd int parent = -1, parent_root = -1;
        if (rootfs_open_path(r, "/proc/driver", O_PATH | O_DIRECTORY | O_CLOEXEC, &parent,
                             err) < 0 ||
            mount_tmpfs_fd(parent, "mode=0555", j, &parent_root, err) < 0 ||
            rootfs_mkdir_p(r, PROC_NVIDIA, 0555, NULL, &target, err) < 0)
            return gctk_wrap(err, "mask `/proc/driver`");
    }
    if (mount_tmpfs_fd(target, "mode=0555", j, &tmp_root, err) < 0)
        return gctk_wrap(err, "mask `" PROC_NVIDIA "`");
    if (copy_proc_file(h, r, "version", false, err) < 0 ||
        copy_proc_file(h, r, "params", true, err) < 0 ||
        copy_proc_file(h, r, "registry", false, err) < 0)
        return gctk_wrap(err, "mask `" PROC_NVIDIA "`");
    for (size_t i = 0; i < ngpus; i++) {
        const struct gctk_gpu *g = gpus[i];
        cleanup_fd int src = -1, dst = -1;
        if (open_host(h, g->proc_dir, S_IFDIR, &src, &st, err) < 0 ||
            rootfs_make_target(r, g->proc_dir, S_IFDIR, NULL, &dst, err) < 0 ||
            mount_bind_fd(src, dst, MOUNT_RO | MOUNT_NOSUID | MOUNT_NODEV | MOUNT_NOEXEC, j,
                          err) < 0)
            return gctk_wrap(err, "mount `%s`", g->proc_dir);
    }
    if (mount_mig_procs(h, r, procs, nprocs, j, err) < 0)
        return -1;
    if (mount_seal_fd(tmp_root, err) < 0)
        return gctk_wrap(err, "mask `" PROC_NVIDIA "`");
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

/* Reads the image's ld.so.cache without ever blocking on or following
 * something the image planted there. A missing or corrupt cache gives an
 * empty one: ld.so would ignore it as well. */
static void read_image_cache(struct rootfs *r, struct ldcache *c, struct inject_report *rep)
{
    cleanup_fd int path_fd = -1, fd = -1;
    cleanup_error gctk_error *e = NULL;
    /* O_PATH first: opening a device node for reading runs its driver's
     * open (a watchdog starts counting, a tape rewinds), and the image may
     * have planted any node there. Only a regular file is then opened. */
    if (rootfs_open_path(r, "/etc/ld.so.cache", O_PATH | O_CLOEXEC, &path_fd, &e) < 0)
        return;
    struct stat st;
    if (fstat(path_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        strv_push(&rep->notes, xstrdup("image /etc/ld.so.cache is not a regular file: replaced"));
        return;
    }
    char proc[64];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", path_fd);
    fd = open(proc, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    struct stat again;
    if (fd < 0 || fstat(fd, &again) < 0 || again.st_dev != st.st_dev || again.st_ino != st.st_ino) {
        strv_push(&rep->notes, xstrdup("image /etc/ld.so.cache unreadable: replaced"));
        return;
    }
    cleanup_free char *data = NULL;
    size_t len = 0;
    if (read_fd(fd, 64u << 20, &data, &len, &e) < 0) {
        strv_push(&rep->notes, xasprintf("image /etc/ld.so.cache unreadable: %s", e->msg));
        return;
    }
    if (ldcache_parse(data, len, c, &e) < 0)
        strv_push(&rep->notes, xasprintf("image /etc/ld.so.cache ignored: %s", e->msg));
}

#define CUDA_COMPAT_DIR "/usr/local/cuda/compat"

/* Forward compatibility: an image may carry a libcuda newer than the host's
 * driver (NVIDIA's cuda-compat package) in /usr/local/cuda/compat. Its
 * libraries are used in place of the host's when they are newer, and only
 * when they are regular ELF files inside the rootfs: a symlink there is
 * ignored (it could name anything), and so is anything else odd. The cache
 * entries added here point the SONAMEs at them. */
static void add_compat_libs(struct rootfs *r, const gctk_host *h, struct ldcache *c,
                            struct inject_report *rep)
{
    cleanup_fd int dfd = -1;
    cleanup_error gctk_error *e = NULL;
    if (rootfs_open_path(r, CUDA_COMPAT_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC, &dfd, &e) < 0)
        return;
    int scan = dup(dfd);
    DIR *d = scan >= 0 ? fdopendir(scan) : NULL;
    if (d == NULL) {
        if (scan >= 0)
            close(scan);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *so = strstr(de->d_name, ".so.");
        if (so == NULL || !(cap_library_caps(de->d_name) & GCTK_CAP_COMPUTE) ||
            !version_valid(so + 4) || strchr(so + 4, '.') == NULL)
            continue;
        struct stat st;
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (!S_ISREG(st.st_mode)) {
            strv_push(&rep->notes, xasprintf("cuda-compat `%s/%s` ignored: not a regular file%s",
                                             CUDA_COMPAT_DIR, de->d_name,
                                             S_ISLNK(st.st_mode) ? " (a symlink)" : ""));
            continue;
        }
        if (version_cmp(so + 4, h->driver_version) <= 0) {
            strv_push(&rep->notes,
                      xasprintf("cuda-compat `%s/%s` ignored: not newer than the driver %s",
                                CUDA_COMPAT_DIR, de->d_name, h->driver_version));
            continue;
        }
        /* the name may have been swapped for a device or a FIFO since the
         * fstatat: look at the object itself through O_PATH, and open for
         * reading only what is still a regular file */
        cleanup_fd int pfd = openat(dfd, de->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        cleanup_fd int fd = -1;
        if (pfd >= 0 && fstat(pfd, &st) == 0 && S_ISREG(st.st_mode)) {
            char self[64];
            snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
            fd = open(self, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        }
        struct elf_info info = {0};
        if (fd < 0 || elf_inspect_fd(fd, &info, &e) < 0 || info.soname == NULL ||
            info.elf_class != ELFCLASS64 || info.machine != EM_X86_64) {
            strv_push(&rep->notes, xasprintf("cuda-compat `%s/%s` ignored: not a 64-bit library",
                                             CUDA_COMPAT_DIR, de->d_name));
            gctk_error_free(e);
            e = NULL;
            elf_info_clear(&info);
            continue;
        }
        cleanup_free char *path = xasprintf("%s/%s", CUDA_COMPAT_DIR, de->d_name);
        ldcache_add(c, info.soname, path, LDCACHE_FLAG_X86_64);
        strv_push(&rep->notes, xasprintf("cuda-compat: %s -> %s (newer than the driver %s)",
                                         info.soname, path, h->driver_version));
        if (str_has_prefix(de->d_name, "libcuda.so.")) {
            free(rep->compat);
            rep->compat = xstrdup(path);
        }
        elf_info_clear(&info);
    }
    closedir(d);
}

static int update_ldcache(struct rootfs *r, const gctk_host *h, const gctk_plan *p,
                          const char *lib, const char *lib32, bool compat,
                          struct inject_report *rep, gctk_error **err)
{
    struct ldcache c = {0};
    read_image_cache(r, &c, rep);
    ldcache_drop_hwcap_entries(&c);
    for (size_t i = 0; i < gctk_plan_file_count(p); i++) {
        const struct gctk_file *f = gctk_plan_file(p, i);
        if ((f->kind != GCTK_FILE_LIB && f->kind != GCTK_FILE_LIB32) || f->soname == NULL)
            continue;
        bool is64 = f->kind == GCTK_FILE_LIB;
        cleanup_free char *path = xasprintf("%s/%s", is64 ? lib : lib32, f->soname);
        ldcache_add(&c, f->soname, path, is64 ? LDCACHE_FLAG_X86_64 : LDCACHE_FLAG_I386);
    }
    if (compat && (cap_expand(gctk_plan_caps(p)) & GCTK_CAP_COMPUTE))
        add_compat_libs(r, h, &c, rep);
    cleanup_free char *data = NULL;
    size_t len = 0;
    cleanup_fd int etc = -1;
    int rc = ldcache_serialize(&c, &data, &len, err);
    ldcache_clear(&c);
    if (rc < 0 || rootfs_mkdir_p(r, "/etc", 0755, NULL, &etc, err) < 0 ||
        rootfs_write_file(r, "/etc/ld.so.cache", data, len, 0644, err) < 0)
        return gctk_wrap(err, "update the container's `/etc/ld.so.cache`");
    return 0;
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

static bool in_user_namespace(void)
{
    cleanup_free char *text = NULL;
    if (read_file("/proc/self/uid_map", 4096, &text, NULL, NULL) < 0)
        return false;
    return !inject_uid_map_is_initial(text);
}

int inject(gctk_host *h, const gctk_plan *p, const struct inject_opts *o,
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

    if (open_process(o->pid, &pidfd, err) < 0)
        return -1;

    size_t ndev = gctk_plan_node_count(p);
    /* rootless (--no-cgroups --user of NVIDIA's tools): the engine's cgroup
     * is not ours to edit, and no node is ever made: they are bind-mounted */
    bool no_cgroups = o->no_cgroups;
    if (!no_cgroups && ndev > 0 && in_user_namespace()) {
        no_cgroups = true;
        strv_push(&rep->notes, xstrdup("in a user namespace: device cgroup left to the engine"));
    }
    if (!no_cgroups && ndev > 0) {
        struct cgroup_device *devs = xcalloc(ndev, sizeof(*devs));
        for (size_t i = 0; i < ndev; i++)
            devs[i] = (struct cgroup_device){gctk_plan_node(p, i)->major,
                                             gctk_plan_node(p, i)->minor};
        int rc = cgroup_allow_devices(o->pid, devs, ndev, &grant, err);
        free(devs);
        if (rc < 0)
            return gctk_wrap(err, "device cgroup of process %d", (int)o->pid);
    }
    /* the cgroup read through /proc/<pid> was the container's */
    if (check_alive(pidfd, o->pid, err) < 0)
        goto fail;
    rep->cgroup_ns = now_ns() - t;
    t = now_ns();

    const char *lib = NULL, *lib32 = NULL;
    if (enter_mount_ns(o->pid, pidfd, err) < 0 || rootfs_open(o->rootfs, &r, err) < 0)
        goto fail;
    j = mount_journal_new();
    pick_lib_dirs(&r, &lib, &lib32);
    snprintf(rep->libdir, sizeof(rep->libdir), "%s", lib);
    for (size_t i = 0; i < ndev; i++)
        if (mount_node(h, &r, gctk_plan_node(p, i), j, err) < 0)
            goto fail;
    for (size_t i = 0; i < gctk_plan_file_count(p); i++)
        if (mount_file(h, &r, gctk_plan_file(p, i), lib, lib32, j, err) < 0)
            goto fail;
    if (make_links(&r, p, lib, lib32, j, &rep->links, err) < 0)
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
    if (o->ldconfig == LDCONFIG_INTERNAL && update_ldcache(&r, h, p, lib, lib32, o->cuda_compat, rep, err) < 0)
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
