/* The container layout of a plan (layout.h): one place for where the driver
 * files go, how they are mounted, which links they need and how the image's
 * ld.so.cache is read and written, for the hook and for CDI alike. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "elfinfo.h"
#include "layout.h"

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static bool is_dir_in_root(struct rootfs *r, const char *path)
{
    cleanup_fd int fd = -1;
    return rootfs_open_path(r, path, O_PATH | O_DIRECTORY | O_CLOEXEC, &fd, NULL) == 0;
}

void layout_image_dirs(struct rootfs *r, const struct host_arch *arch, struct layout_dirs *out)
{
    if (is_dir_in_root(r, arch->libdir))
        out->lib = arch->libdir;
    else if (is_dir_in_root(r, "/usr/lib64"))
        out->lib = "/usr/lib64";
    else
        out->lib = arch->libdir;
    if (arch->libdir32 == NULL)
        out->lib32 = NULL; /* no 32-bit driver: no such library in any plan */
    else if (is_dir_in_root(r, arch->libdir32) || !is_dir_in_root(r, "/usr/lib32"))
        out->lib32 = arch->libdir32;
    else
        out->lib32 = "/usr/lib32";
    out->bin = "/usr/bin";
    out->arch = arch;
}

/* The container directory of the kind of f, or NULL: its host directory. */
static const char *kind_dir(const struct gctk_file *f, const struct layout_dirs *d)
{
    switch (f->kind) {
    case GCTK_FILE_LIB:
        return d->lib;
    case GCTK_FILE_LIB32:
        return d->lib32;
    case GCTK_FILE_BIN:
        return d->bin;
    default:
        return NULL; /* firmware, sockets, configs, MPS: where the driver looks */
    }
}

char *layout_container_path(const struct gctk_file *f, const struct layout_dirs *d)
{
    const char *dir = kind_dir(f, d);
    return dir != NULL ? xasprintf("%s/%s", dir, base_name(f->path)) : xstrdup(f->path);
}

/* The container directory of a library. */
static char *lib_dir(const struct gctk_file *f, const struct layout_dirs *d)
{
    const char *dir = kind_dir(f, d);
    return dir != NULL ? xstrdup(dir)
                       : xstrndup(f->path, (size_t)(base_name(f->path) - f->path - 1));
}

static bool is_lib(const struct gctk_file *f)
{
    return f->kind == GCTK_FILE_LIB || f->kind == GCTK_FILE_LIB32;
}

unsigned layout_file_flags(const struct gctk_file *f)
{
    /* the MPS pipe directory is written by the container's clients */
    return MOUNT_NOSUID | MOUNT_NODEV | (f->kind == GCTK_FILE_DIR ? MOUNT_NOEXEC : MOUNT_RO);
}

void layout_mount_options(unsigned flags, struct strv *out)
{
    static const struct {
        unsigned flag;
        const char *name;
    } options[] = {
        {MOUNT_RO, "ro"},
        {MOUNT_NOSUID, "nosuid"},
        {MOUNT_NODEV, "nodev"},
        {MOUNT_NOEXEC, "noexec"},
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(options); i++)
        if (flags & options[i].flag)
            strv_push(out, xstrdup(options[i].name));
}

/* A SONAME a link may be named by: a plain file name. */
static bool plain_soname(const struct gctk_file *f)
{
    return f->soname != NULL && f->soname[0] != '\0' && strchr(f->soname, '/') == NULL &&
           strcmp(f->soname, ".") != 0 && strcmp(f->soname, "..") != 0;
}

void layout_links(const gctk_plan *p, const struct layout_dirs *d, struct layout_links *out)
{
    static const char *const dev_links[] = {"libcuda.so", "libnvidia-ml.so"};
    for (size_t i = 0; i < gctk_plan_file_count(p); i++) {
        const struct gctk_file *f = gctk_plan_file(p, i);
        if (!is_lib(f) || !plain_soname(f))
            continue;
        cleanup_free char *dir = lib_dir(f, d);
        const char *file = base_name(f->path);
        if (strcmp(f->soname, file) != 0) {
            strv_push(&out->targets, xstrdup(file));
            strv_push(&out->paths, xasprintf("%s/%s", dir, f->soname));
        }
        for (size_t k = 0; k < GCTK_ARRAY_LEN(dev_links); k++) {
            size_t n = strlen(dev_links[k]);
            if (strncmp(file, dev_links[k], n) != 0 || file[n] != '.')
                continue;
            strv_push(&out->targets, xstrdup(f->soname));
            strv_push(&out->paths, xasprintf("%s/%s", dir, dev_links[k]));
        }
    }
}

void layout_links_clear(struct layout_links *l)
{
    strv_clear(&l->targets);
    strv_clear(&l->paths);
}

void layout_lib_folders(const gctk_plan *p, const struct layout_dirs *d, struct strv *out)
{
    for (size_t i = 0; i < gctk_plan_file_count(p); i++) {
        const struct gctk_file *f = gctk_plan_file(p, i);
        if (!is_lib(f))
            continue;
        char *dir = lib_dir(f, d);
        if (strv_contains(out, dir))
            free(dir);
        else
            strv_push(out, dir);
    }
}

/* ---- the container's ld.so.cache ------------------------------------------ */

#define LDCACHE_PATH "/etc/ld.so.cache"
#define LDCACHE_MAX (64u << 20)

static void note(struct strv *notes, char *owned)
{
    if (notes != NULL)
        strv_push(notes, owned);
    else
        free(owned);
}

void layout_ldcache_read(struct rootfs *r, struct ldcache *c, struct strv *notes)
{
    cleanup_fd int path_fd = -1, fd = -1;
    cleanup_error gctk_error *e = NULL;
    /* O_PATH first: opening a device node for reading runs its driver's open
     * (a watchdog starts counting, a tape rewinds), and the image may have
     * planted any node there. Only a regular file is then opened, through
     * the fd, never by its name again. */
    if (rootfs_open_path(r, LDCACHE_PATH, O_PATH | O_CLOEXEC, &path_fd, &e) < 0)
        return;
    struct stat st;
    if (fstat(path_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        note(notes, xstrdup("image " LDCACHE_PATH " is not a regular file: replaced"));
        return;
    }
    if (reopen_regular(path_fd, &fd) < 0) {
        note(notes, xstrdup("image " LDCACHE_PATH " unreadable: replaced"));
        return;
    }
    cleanup_free char *data = NULL;
    size_t len = 0;
    if (read_fd(fd, LDCACHE_MAX, &data, &len, &e) < 0) {
        note(notes, xasprintf("image " LDCACHE_PATH " unreadable: %s", e->msg));
        return;
    }
    if (ldcache_parse(data, len, c, &e) < 0) {
        note(notes, xasprintf("image " LDCACHE_PATH " ignored: %s", e->msg));
        return;
    }
    ldcache_drop_hwcap_entries(c);
}

void layout_ldcache_add_plan(struct ldcache *c, const gctk_plan *p, const struct layout_dirs *d)
{
    for (size_t i = 0; i < gctk_plan_file_count(p); i++) {
        const struct gctk_file *f = gctk_plan_file(p, i);
        if (!is_lib(f) || !plain_soname(f))
            continue;
        cleanup_free char *dir = lib_dir(f, d);
        cleanup_free char *path = xasprintf("%s/%s", dir, f->soname);
        ldcache_add(c, f->soname, path,
                    f->kind == GCTK_FILE_LIB ? d->arch->ldcache_flags : d->arch->ldcache_flags32);
    }
}

int layout_ldcache_add_folder(struct rootfs *r, struct ldcache *c, const char *folder,
                              gctk_error **err)
{
    if (folder[0] != '/')
        return gctk_fail(err, 0, "folder `%s` must be absolute", folder);
    /* O_DIRECTORY: a node planted at the folder's path is refused before
     * any driver's open runs */
    cleanup_fd int dfd = -1;
    if (rootfs_open_path(r, folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC, &dfd, err) < 0)
        return gctk_wrap(err, "folder `%s`", folder);
    cleanup_dir DIR *d = fdopendir(dfd);
    if (d == NULL)
        return gctk_fail(err, errno, "read folder `%s`", folder);
    dfd = -1; /* the DIR owns it now */
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!str_has_prefix(e->d_name, "lib") || strstr(e->d_name, ".so") == NULL)
            continue;
        /* regular files only (a link is someone's name for a file seen here
         * too), looked at through O_PATH and opened through that fd */
        cleanup_fd int fd = -1;
        if (open_regular_at(dirfd(d), e->d_name, &fd) < 0)
            continue;
        struct elf_info info = {0};
        cleanup_error gctk_error *ee = NULL;
        if (elf_inspect_fd(fd, &info, &ee) < 0)
            continue;
        uint32_t flags = host_arch_ldcache_flags(&info);
        if (info.soname != NULL && strchr(info.soname, '/') == NULL && flags != 0) {
            cleanup_free char *path = xasprintf("%s/%s", folder, info.soname);
            ldcache_add(c, info.soname, path, flags);
        }
        elf_info_clear(&info);
    }
    return 0;
}

int layout_ldcache_write(struct rootfs *r, struct ldcache *c, gctk_error **err)
{
    cleanup_free char *data = NULL;
    size_t len = 0;
    cleanup_fd int etc = -1;
    if (ldcache_serialize(c, &data, &len, err) < 0 ||
        rootfs_mkdir_p(r, "/etc", 0755, NULL, &etc, err) < 0 ||
        rootfs_write_file(r, LDCACHE_PATH, data, len, 0644, err) < 0)
        return gctk_wrap(err, "update the container's `" LDCACHE_PATH "`");
    return 0;
}
