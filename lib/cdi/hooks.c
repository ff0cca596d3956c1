/* The createContainer hooks a generated spec names (`gctk hook ...`): they
 * complete the container layout (lib/container/layout.c) that the runtime
 * cannot apply from a spec, inside the container's rootfs and with the
 * OCI hook's hardening: the links, the ld.so.cache, the /proc mask. */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cdi.h"
#include "host.h"
#include "inject.h"
#include "layout.h"
#include "ldcache.h"
#include "rootfs.h"

/* The container's rootfs, what is created in it owned by the root of process
 * pid's user namespace (0: the caller's, for manual use).
 *
 * runc runs createContainer hooks from the container's init, inside the
 * container's namespaces, and gives as the state's pid that init's pid as the
 * container sees it (1, or 7 in a pod's shared PID namespace), which /proc
 * (the runtime's) does not know, or knows as another process. That pid is
 * then the hook's parent in its own PID namespace: the hook already runs as
 * the container's root, in its user namespace, and owns what it creates.
 * crun and the OCI hook's path give the pid as the runtime sees it, from the
 * runtime's namespaces. */
static int open_container(const char *rootfs, pid_t pid, struct rootfs *r, gctk_error **err)
{
    if (rootfs_open(rootfs, r, err) < 0)
        return -1;
    if (pid <= 0 || getppid() == pid)
        return 0;
    return rootfs_owner_of(r, pid, err);
}

/* The links, the mount targets and the ld.so.cache are written into the
 * rootfs, which must then be writable. runc makes a read-only root so after
 * the createContainer hooks, crun before 1.26 before them: every such hook
 * of a read-only container then fails, gctk's and NVIDIA's alike. Told
 * once, before anything is made, with what works. */
static int require_writable(const struct rootfs *r, gctk_error **err)
{
    struct statvfs st;
    if (fstatvfs(r->fd, &st) < 0 || !(st.f_flag & ST_RDONLY))
        return 0;
    return gctk_fail(
        err, 0,
        "the container's root filesystem `%s` is read-only when its createContainer "
        "hooks run, and the hook must create the driver's files in it (crun before 1.26 "
        "makes a read-only root so before these hooks, runc after them): run the "
        "container with runc or crun 1.26 or later, or without a read-only root "
        "filesystem",
        r->path);
}

/* The steps work on an opened rootfs and record what they create in one
 * journal, so that one process can run them all (cdi_hook_create_container)
 * and undo all of them when one fails. */

/* mounted (may be NULL): the libraries the hook mounted, for
 * layout_ldcache_add_folder() */
static int update_ldcache(struct rootfs *r, const struct strv *folders,
                          const struct ldcache *mounted, const char *host_driver_version,
                          gctk_error **err)
{
    cleanup_ldcache struct ldcache c = {0};
    layout_ldcache_read(r, &c, NULL);
    for (size_t i = 0; i < folders->len; i++)
        if (layout_ldcache_add_folder(r, &c, folders->items[i], mounted, err) < 0)
            return -1;
    /* after the folders: the compat libraries win, as in the OCI hook */
    if (host_driver_version != NULL)
        layout_ldcache_add_compat(r, NULL, host_driver_version, &c, NULL, NULL);
    return layout_ldcache_write(r, &c, err);
}

/* The device node a "TARGET::LINK" link names: TARGET taken from LINK's
 * directory, lexically (that directory is made with the link). Owned. */
static char *link_node(const char *target, const char *link)
{
    cleanup_free char *comps = xstrdup(target);
    char *out =
        target[0] == '/' ? xstrdup("") : xstrndup(link, (size_t)(strrchr(link, '/') - link));
    char *save = NULL;
    for (char *c = strtok_r(comps, "/", &save); c != NULL; c = strtok_r(NULL, "/", &save)) {
        if (strcmp(c, ".") == 0)
            continue;
        if (strcmp(c, "..") == 0) {
            *(strrchr(out, '/') != NULL ? strrchr(out, '/') : out) = '\0';
            continue;
        }
        char *next = xasprintf("%s/%s", out, c);
        free(out);
        out = next;
    }
    return out;
}

/* Whether path is a character device node in the container: the node
 * itself, never what a link of that name points to. At createContainer
 * time /dev holds only what the runtime put there; resolved inside the
 * root all the same. */
static bool container_has_node(struct rootfs *r, const char *path)
{
    cleanup_fd int fd = -1;
    struct stat st;
    return rootfs_open_path(r, path, O_PATH | O_NOFOLLOW | O_CLOEXEC, &fd, NULL) == 0 &&
           fstat(fd, &st) == 0 && S_ISCHR(st.st_mode);
}

/* Creates each "TARGET::LINK" link; with if_node, only those whose TARGET
 * is a device node the container has (the others are skipped). */
static int create_symlinks(struct rootfs *r, const struct strv *links, bool if_node,
                           struct mount_journal *j, size_t *made, gctk_error **err)
{
    for (size_t i = 0; i < links->len; i++) {
        const char *spec = links->items[i];
        const char *sep = strstr(spec, "::");
        if (sep == NULL || sep == spec || sep[2] != '/')
            return gctk_fail(err, 0, "link `%s`: use TARGET::/ABSOLUTE/LINK", spec);
        cleanup_free char *target = xstrndup(spec, (size_t)(sep - spec));
        if (if_node) {
            cleanup_free char *node = link_node(target, sep + 2);
            if (!container_has_node(r, node))
                continue;
        }
        if (rootfs_symlink(r, target, sep + 2, j, err) < 0)
            return -1;
        (*made)++;
    }
    return 0;
}

bool cdi_hook_mount_option(const char *opt, unsigned *flags)
{
    static const struct {
        const char *name;
        unsigned flag;
    } known[] = {{"bind", 0},
                 {"rw", 0},
                 {"ro", MOUNT_RO},
                 {"nosuid", MOUNT_NOSUID},
                 {"nodev", MOUNT_NODEV},
                 {"noexec", MOUNT_NOEXEC}};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(known); i++)
        if (strcmp(opt, known[i].name) == 0) {
            *flags |= known[i].flag;
            return true;
        }
    return false;
}

void cdi_hook_mounts_each(const json_t *args,
                          void (*fn)(void *ctx, size_t i, const char *host, const char *bad),
                          void *ctx)
{
    const char *hook = json_string_value(json_array_get(args, 1));
    const char *verb = json_string_value(json_array_get(args, 2));
    if (hook == NULL || strcmp(hook, "hook") != 0 || verb == NULL ||
        strcmp(verb, "create-container") != 0)
        return;
    for (size_t i = 3; i + 1 < json_array_size(args); i++) {
        const char *a = json_string_value(json_array_get(args, i));
        if (a == NULL || strcmp(a, "--mount") != 0)
            continue;
        const char *v = json_string_value(json_array_get(args, ++i));
        cleanup_free char *host = NULL, *target = NULL;
        unsigned flags = 0;
        cleanup_error gctk_error *e = NULL;
        if (cdi_hook_mount_parse(v != NULL ? v : "", &host, &target, &flags, &e) < 0)
            fn(ctx, i, NULL, e->msg);
        else
            fn(ctx, i, host, NULL);
    }
}

int cdi_hook_mount_parse(const char *arg, char **host, char **target, unsigned *flags,
                         gctk_error **err)
{
    const char *sep = strstr(arg, "::");
    const char *opts = sep != NULL ? strstr(sep + 2, "::") : NULL;
    if (sep == NULL || arg[0] != '/' || sep[2] != '/' || opts == NULL)
        return gctk_fail(err, 0, "mount `%s`: use /HOST::/CONTAINER::OPTIONS", arg);
    cleanup_free char *t = xstrndup(sep + 2, (size_t)(opts - sep - 2));
    cleanup_free char *list = xstrdup(opts + 2);
    unsigned f = 0;
    char *save = NULL;
    for (char *o = strtok_r(list, ",", &save); o != NULL; o = strtok_r(NULL, ",", &save))
        if (!cdi_hook_mount_option(o, &f))
            return gctk_fail(err, 0,
                             "mount `%s`: option `%s` is not one of a bind mount's "
                             "(bind, ro, rw, nosuid, nodev, noexec)",
                             t, o);
    *host = xstrndup(arg, (size_t)(sep - arg));
    *target = steal_pointer(&t);
    *flags = f;
    return 0;
}

/* One "HOST::CONTAINER::OPTIONS" bind mount: the source opened on the host
 * side of the container's mount namespace (before pivot_root its paths are
 * the host's), followed as mount(2) follows it; the target made inside the
 * rootfs as runc would make it, a directory for a directory, else a file. */
static int bind_mount(struct rootfs *r, const char *spec, struct mount_journal *j, gctk_error **err)
{
    cleanup_free char *host = NULL, *target = NULL;
    unsigned flags = 0;
    if (cdi_hook_mount_parse(spec, &host, &target, &flags, err) < 0)
        return -1;
    cleanup_fd int src = open(host, O_PATH | O_CLOEXEC), dst = -1;
    struct stat st;
    if (src < 0 || fstat(src, &st) < 0)
        return gctk_fail(err, errno, "mount `%s`: the source `%s`", target, host);
    if (rootfs_make_target(r, target, S_ISDIR(st.st_mode) ? S_IFDIR : S_IFREG, j, &dst, err) < 0 ||
        mount_bind_fd(src, dst, flags, j, err) < 0)
        return gctk_wrap(err, "mount `%s`", target);
    return 0;
}

int cdi_hook_update_ldcache(const char *rootfs, pid_t pid, const struct strv *folders,
                            const char *host_driver_version, gctk_error **err)
{
    cleanup_rootfs struct rootfs r = {.fd = -1};
    if (open_container(rootfs, pid, &r, err) < 0 || require_writable(&r, err) < 0)
        return -1;
    return update_ldcache(&r, folders, NULL, host_driver_version, err);
}

int cdi_hook_create_symlinks(const char *rootfs, pid_t pid, const struct strv *links,
                             gctk_error **err)
{
    cleanup_rootfs struct rootfs r = {.fd = -1};
    if (open_container(rootfs, pid, &r, err) < 0 || require_writable(&r, err) < 0)
        return -1;
    /* all or nothing, as the OCI hook's links: a failure undoes the others */
    cleanup_journal struct mount_journal *j = mount_journal_new();
    size_t made = 0;
    if (create_symlinks(&r, links, false, j, &made, err) < 0) {
        mount_journal_undo(j);
        return -1;
    }
    return 0;
}

/* The minors (below n) of the character nodes the runtime gave the
 * container in dir named prefix<digits>, of major major_want (-1: any). */
static void container_node_minors(struct rootfs *r, const char *dir, const char *prefix,
                                  int major_want, bool *minors, size_t n)
{
    cleanup_fd int dfd = -1;
    if (rootfs_open_path(r, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, &dfd, NULL) < 0)
        return;
    cleanup_dir DIR *d = fdopendir(dfd);
    if (d == NULL)
        return;
    dfd = -1; /* the DIR owns it now */
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        const char *num = ent->d_name + strlen(prefix);
        if (!str_has_prefix(ent->d_name, prefix) || *num == '\0' ||
            strspn(num, "0123456789") != strlen(num))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), ent->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(st.st_mode) &&
            (major_want < 0 || major(st.st_rdev) == (unsigned)major_want) && minor(st.st_rdev) < n)
            minors[minor(st.st_rdev)] = true;
    }
}

#define CDI_CAP_MINORS 65536

/* The capability files of the MIG devices whose gi and ci nodes the
 * container has (a gi shared by two compute instances is named once). */
static void container_mig_procs(const gctk_host *h, struct rootfs *r, struct strv *procs)
{
    int major_caps = -1;
    for (size_t i = 0; i < gctk_host_node_count(h) && major_caps < 0; i++)
        if (gctk_host_node(h, i)->kind == GCTK_NODE_CAP)
            major_caps = (int)gctk_host_node(h, i)->major;
    if (major_caps < 0 || gctk_host_mig_count(h) == 0)
        return;
    cleanup_free bool *minors = xcalloc(CDI_CAP_MINORS, sizeof(bool));
    container_node_minors(r, "/dev/nvidia-caps", "nvidia-cap", major_caps, minors, CDI_CAP_MINORS);
    for (size_t k = 0; k < gctk_host_mig_count(h); k++) {
        const struct gctk_mig *m = gctk_host_mig(h, k);
        if (m->gi_access == NULL || m->ci_access == NULL || m->gi_minor < 0 || m->ci_minor < 0 ||
            m->gi_minor >= CDI_CAP_MINORS || m->ci_minor >= CDI_CAP_MINORS ||
            !minors[m->gi_minor] || !minors[m->ci_minor])
            continue;
        if (!strv_contains(procs, m->gi_access))
            strv_push(procs, xstrdup(m->gi_access));
        strv_push(procs, xstrdup(m->ci_access));
    }
}

/* The host's driver, for the /proc mask; *out stays NULL without one (no
 * driver: nothing to show). Through the discovery cache, which a full
 * discovery would cost each container again (2-3 ms on the H200s, most of a
 * CDI hook). The mask reads no driver file: for it alone (caps
 * GCTK_CAP_UTILITY) the cache is checked for the smallest set of
 * capabilities, whose files it always checks (utility and compute),
 * besides the GPUs and /proc. The ld.so.cache takes the SONAMEs of the
 * libraries it mounts from the host (caps 0): then every file is checked. */
static int open_driver(const char *driver_root, const struct gctk_host_cache *cache, unsigned caps,
                       gctk_host **out, gctk_error **err)
{
    cleanup_free char *host_dir = path_join(driver_root, HOST_PROC_NVIDIA);
    struct stat st;
    if (stat(host_dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return 0;
    struct gctk_host_cache c = {0};
    if (cache != NULL)
        c = (struct gctk_host_cache){.dir = cache->dir, .config = cache->config, .caps = caps};
    return gctk_host_open_cached(driver_root, GCTK_HOST_NO_NVML, &c, out, err);
}

/* The driver's libraries among the mounts, by their path in the container:
 * each mount whose source is a library the discovery found (in h, checked
 * for every capability's files), with its SONAME and its loader's flags.
 * The ld.so.cache step then does not read their ELF again: it took 0.28
 * ms instead of 0.48-0.51 for the 35 files of a spec on an H200, and the
 * fuller cache check 0.1 ms more (docs/performance.md, tenth pass). */
static void mounted_libs(const gctk_host *h, const struct strv *mounts, struct ldcache *out)
{
    size_t nfiles = gctk_host_file_count(h);
    cleanup_strv struct strv sources = {0}; /* per file: its host path; "" for no library */
    for (size_t k = 0; k < nfiles; k++) {
        const struct gctk_file *f = gctk_host_file(h, k);
        uint32_t flags;
        strv_push(&sources, layout_ldcache_lib(f, h->arch, &flags) ? path_join(h->root, f->source)
                                                                   : xstrdup(""));
    }
    for (size_t i = 0; i < mounts->len; i++) {
        cleanup_free char *host = NULL, *target = NULL;
        unsigned mflags = 0;
        if (cdi_hook_mount_parse(mounts->items[i], &host, &target, &mflags, NULL) < 0)
            continue;
        for (size_t k = 0; k < nfiles; k++) {
            const struct gctk_file *f = gctk_host_file(h, k);
            uint32_t flags;
            if (strcmp(sources.items[k], host) == 0 && layout_ldcache_lib(f, h->arch, &flags)) {
                ldcache_add(out, f->soname, target, flags);
                break;
            }
        }
    }
}

static int mask_proc(const gctk_host *h, struct rootfs *r, struct mount_journal *j,
                     gctk_error **err)
{
    cleanup_strv struct strv procs = {0};
    cleanup_free const struct gctk_gpu **gpus = xcalloc(gctk_host_gpu_count(h), sizeof(*gpus));
    size_t ngpus = 0;
    bool minors[256] = {0};
    /* the container's GPUs are the ones whose nodes it was given */
    container_node_minors(r, "/dev", "nvidia", HOST_NVIDIA_MAJOR, minors, GCTK_ARRAY_LEN(minors));
    for (size_t i = 0; i < gctk_host_gpu_count(h); i++) {
        const struct gctk_gpu *g = gctk_host_gpu(h, i);
        if (g->minor >= 0 && (size_t)g->minor < GCTK_ARRAY_LEN(minors) && minors[g->minor])
            gpus[ngpus++] = g;
    }
    container_mig_procs(h, r, &procs);
    return inject_mask_proc(h, r, gpus, ngpus, (const char *const *)procs.items, procs.len, j, err);
}

int cdi_hook_mask_proc(const char *driver_root, const struct gctk_host_cache *cache,
                       const char *rootfs, pid_t pid, gctk_error **err)
{
    cleanup_host gctk_host *h = NULL;
    if (open_driver(driver_root, cache, GCTK_CAP_UTILITY, &h, err) < 0)
        return -1;
    if (h == NULL)
        return 0;
    cleanup_rootfs struct rootfs r = {.fd = -1};
    if (open_container(rootfs, pid, &r, err) < 0)
        return -1;
    cleanup_journal struct mount_journal *j = mount_journal_new();
    if (mask_proc(h, &r, j, err) < 0) {
        mount_journal_undo(j); /* all or nothing */
        return -1;
    }
    return 0;
}

int cdi_hook_create_container(const char *rootfs, pid_t pid, const struct cdi_container_edits *e,
                              struct cdi_hook_report *rep, gctk_error **err)
{
    struct cdi_hook_report none = {0};
    if (rep == NULL)
        rep = &none;
    *rep = (struct cdi_hook_report){0};
    /* the host first: a driver that cannot be read changes nothing */
    unsigned long long t = now_ns();
    cleanup_host gctk_host *h = NULL;
    bool mounted_lib_names = e->mounts != NULL && e->mounts->len > 0 && e->folders->len > 0;
    if (e->driver_root != NULL &&
        open_driver(e->driver_root, e->cache, mounted_lib_names ? 0 : GCTK_CAP_UTILITY, &h, err) <
            0)
        return -1;
    if (h != NULL)
        rep->cache = gctk_host_cache_word(h);
    cleanup_rootfs struct rootfs r = {.fd = -1};
    if (open_container(rootfs, pid, &r, err) < 0 || require_writable(&r, err) < 0)
        return -1;
    rep->host_ns = now_ns() - t;
    /* the mounts first, as the runtime makes them before any hook; then in
     * the order of the separate hooks; a failure undoes the links and
     * mounts made before it (the ld.so.cache is replaced by a rename: the
     * container it was written for is not started) */
    cleanup_journal struct mount_journal *j = mount_journal_new();
    cleanup_ldcache struct ldcache mounted = {0};
    t = now_ns();
    for (size_t i = 0; e->mounts != NULL && i < e->mounts->len; i++)
        if (bind_mount(&r, e->mounts->items[i], j, err) < 0)
            goto fail;
    rep->mounts = mount_journal_mounts(j);
    rep->mounts_ns = now_ns() - t;
    t = now_ns();
    if (create_symlinks(&r, e->links, false, j, &rep->links, err) < 0 ||
        create_symlinks(&r, e->node_links, true, j, &rep->links, err) < 0)
        goto fail;
    rep->links_ns = now_ns() - t;
    t = now_ns();
    if (h != NULL && mounted_lib_names)
        mounted_libs(h, e->mounts, &mounted);
    if (e->folders->len > 0 &&
        update_ldcache(&r, e->folders, &mounted, e->host_driver_version, err) < 0)
        goto fail;
    rep->ldcache_ns = now_ns() - t;
    t = now_ns();
    if (h != NULL && mask_proc(h, &r, j, err) < 0)
        goto fail;
    rep->proc_ns = now_ns() - t;
    return 0;

fail:
    mount_journal_undo(j);
    return -1;
}
