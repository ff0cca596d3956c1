/* The container layout of a plan (layout.h): one place for where the driver
 * files go, how they are mounted, which links they need and how the image's
 * ld.so.cache is read and written, for the hook and for CDI alike. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "caps.h"
#include "elfinfo.h"
#include "layout.h"
#include "vercmp.h"

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

/* The development links a library gets ("libcuda.so" -> its SONAME): the
 * one the host keeps beside it, and those programs expect whatever the host
 * has (libcuda.so for dlopen("libcuda.so") and build systems; libnvidia-ml.so,
 * which drivers since 560 no longer ship; libnvidia-opticalflow.so, which
 * NVIDIA's toolkit adds). names gets at most LAYOUT_DEV_MAX of them. */
#define LAYOUT_DEV_MAX 2
static size_t dev_names(const struct gctk_file *f, const char *names[LAYOUT_DEV_MAX])
{
    static const char *const always[] = {"libcuda.so", "libnvidia-ml.so",
                                         "libnvidia-opticalflow.so"};
    const char *file = base_name(f->path);
    size_t n = 0;
    for (size_t k = 0; k < GCTK_ARRAY_LEN(always) && n == 0; k++) {
        size_t len = strlen(always[k]);
        if (strncmp(file, always[k], len) == 0 && file[len] == '.')
            names[n++] = always[k];
    }
    if (f->dev != NULL && strchr(f->dev, '/') == NULL && (n == 0 || strcmp(f->dev, names[0]) != 0))
        names[n++] = f->dev;
    /* a link that would replace the SONAME's own is none */
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], f->soname) != 0)
            names[kept++] = names[i];
    return kept;
}

static void add_link(struct layout_links *out, char *target, char *path, int gpu)
{
    strv_push(&out->targets, target);
    strv_push(&out->paths, path);
    out->gpus = xrealloc(out->gpus, out->paths.len * sizeof(*out->gpus));
    out->gpus[out->paths.len - 1] = gpu;
}

static bool named(const char *file, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(file, prefix, n) == 0 && file[n] == '.';
}

void layout_links(const gctk_plan *p, const struct layout_dirs *d, struct layout_links *out)
{
    bool graphics = (gctk_plan_caps(p) & (GCTK_CAP_GRAPHICS | GCTK_CAP_DISPLAY)) != 0;
    for (size_t i = 0; i < gctk_plan_file_count(p); i++) {
        const struct gctk_file *f = gctk_plan_file(p, i);
        const char *file = base_name(f->path);
        if (f->kind == GCTK_FILE_MODULE && named(file, "libglxserver_nvidia.so")) {
            /* the X server loads the GLX module by its unversioned name */
            cleanup_free char *dir = lib_dir(f, d);
            add_link(out, xstrdup(file), xasprintf("%s/libglxserver_nvidia.so", dir), -1);
            continue;
        }
        if (!is_lib(f) || !plain_soname(f))
            continue;
        cleanup_free char *dir = lib_dir(f, d);
        if (strcmp(f->soname, file) != 0)
            add_link(out, xstrdup(file), xasprintf("%s/%s", dir, f->soname), -1);
        const char *names[LAYOUT_DEV_MAX];
        size_t n = dev_names(f, names);
        for (size_t k = 0; k < n; k++)
            add_link(out, xstrdup(f->soname), xasprintf("%s/%s", dir, names[k]), -1);
        /* GLVND's indirect GLX goes to the vendor library */
        if (named(file, "libGLX_nvidia.so"))
            add_link(out, xstrdup(file), xasprintf("%s/libGLX_indirect.so.0", dir), -1);
        /* GBM finds NVIDIA's backend as gbm/nvidia-drm_gbm.so beside libgbm */
        if (graphics && named(file, "libnvidia-allocator.so"))
            add_link(out, xasprintf("../%s", f->soname), xasprintf("%s/gbm/nvidia-drm_gbm.so", dir),
                     -1);
    }
    /* a DRM node's /dev/dri/by-path name, as the host's udev gives it */
    for (size_t i = 0; i < gctk_plan_node_count(p); i++) {
        const struct gctk_node *n = gctk_plan_node(p, i);
        if (n->kind == GCTK_NODE_DRM && n->by_path != NULL)
            add_link(out, xasprintf("../%s", base_name(n->path)), xstrdup(n->by_path), n->gpu);
    }
}

void layout_links_clear(struct layout_links *l)
{
    strv_clear(&l->targets);
    strv_clear(&l->paths);
    free(l->gpus);
    l->gpus = NULL;
}

char *layout_libcuda_dir(const gctk_plan *p, const struct layout_dirs *d)
{
    for (size_t i = 0; i < gctk_plan_file_count(p); i++) {
        const struct gctk_file *f = gctk_plan_file(p, i);
        if (f->kind == GCTK_FILE_LIB && named(base_name(f->path), "libcuda.so"))
            return lib_dir(f, d);
    }
    return NULL;
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
    if (read_fd_sized(fd, LDCACHE_MAX, (size_t)st.st_size, &data, &len, &e) < 0) {
        note(notes, xasprintf("image " LDCACHE_PATH " unreadable: %s", e->msg));
        return;
    }
    if (ldcache_parse(data, len, c, &e) < 0) {
        note(notes, xasprintf("image " LDCACHE_PATH " ignored: %s", e->msg));
        return;
    }
    ldcache_drop_hwcap_entries(c);
}

bool layout_ldcache_lib(const struct gctk_file *f, const struct host_arch *arch, uint32_t *flags)
{
    if (!is_lib(f) || !plain_soname(f))
        return false;
    *flags = f->kind == GCTK_FILE_LIB ? arch->ldcache_flags : arch->ldcache_flags32;
    return true;
}

void layout_ldcache_add_plan(struct ldcache *c, const gctk_plan *p, const struct layout_dirs *d)
{
    for (size_t i = 0; i < gctk_plan_file_count(p); i++) {
        const struct gctk_file *f = gctk_plan_file(p, i);
        uint32_t flags;
        if (!layout_ldcache_lib(f, d->arch, &flags))
            continue;
        cleanup_free char *dir = lib_dir(f, d);
        cleanup_free char *path = xasprintf("%s/%s", dir, f->soname);
        ldcache_add(c, f->soname, path, flags);
        /* ldconfig lists the development links too: dlopen("libcuda.so") */
        const char *names[LAYOUT_DEV_MAX];
        size_t n = dev_names(f, names);
        for (size_t k = 0; k < n; k++) {
            cleanup_free char *dev = xasprintf("%s/%s", dir, names[k]);
            ldcache_add(c, names[k], dev, flags);
        }
    }
}

/* A library of a scanned folder: its file name, SONAME and cache flags. */
struct folder_lib {
    char *name, *soname;
    uint32_t flags;
};

static int folder_lib_cmp(const void *a, const void *b)
{
    return strcmp(((const struct folder_lib *)a)->name, ((const struct folder_lib *)b)->name);
}

/* The library of list named name, or NULL. */
static const struct folder_lib *find_lib(const struct folder_lib *list, size_t n, const char *name)
{
    struct folder_lib key = {.name = (char *)name};
    return n > 0 ? bsearch(&key, list, n, sizeof(*list), folder_lib_cmp) : NULL;
}

/* The library a development link of the folder leads to, following links
 * by their text only: plain names inside the folder, never a path, at most a
 * few of them; NULL when it leads anywhere else. Nothing is opened through
 * the image's links. */
static const struct folder_lib *dev_link_target(int dfd, const char *name,
                                                const struct folder_lib *libs, size_t n)
{
    if (n == 0)
        return NULL;
    cleanup_free char *at = xstrdup(name);
    for (int hops = 0; hops < 8; hops++) {
        char text[256];
        ssize_t got = readlinkat(dfd, at, text, sizeof(text) - 1);
        if (got <= 0)
            return NULL;
        text[got] = '\0';
        if (strchr(text, '/') != NULL || strcmp(text, ".") == 0 || strcmp(text, "..") == 0)
            return NULL;
        const struct folder_lib *lib = find_lib(libs, n, text);
        if (lib != NULL)
            return lib;
        free(at);
        at = xstrdup(text);
    }
    return NULL;
}

static void push_lib(struct folder_lib **libs, size_t *n, size_t *cap, struct folder_lib lib)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *libs = xrealloc(*libs, *cap * sizeof(**libs));
    }
    (*libs)[(*n)++] = lib;
}

/* Whether flags are those of a library of an architecture gctk knows, the
 * only ones a scan adds (host_arch_ldcache_flags). */
static bool known_lib_flags(uint32_t flags)
{
    for (size_t i = 0; flags != 0 && host_arch_at(i) != NULL; i++)
        if (flags == host_arch_at(i)->ldcache_flags || flags == host_arch_at(i)->ldcache_flags32)
            return true;
    return false;
}

/* The libraries of the folder that the image's own ld.so.cache names, by
 * file name (sorted): an entry FOLDER/SONAME parsed from the image (not
 * added), whose SONAME is a file of the folder or a link there to one by
 * its plain name, gives that file its SONAME and flags without reading it.
 * A library folder of a real image holds a few hundred libraries, and
 * reading each one's ELF was most of a CDI hook's time (5.8 of 9.7 ms for
 * 200 of them on the simulated host). Development names (lib*.so) are left
 * out: one is a link to the SONAME's link, or to the file under another
 * name than its SONAME. */
static void cached_libs(int dfd, const char *folder, const struct ldcache *c,
                        struct folder_lib **out, size_t *n)
{
    size_t cap = 0, flen = strlen(folder);
    for (size_t i = 0; i < c->len; i++) {
        const struct ldcache_entry *e = &c->entries[i];
        const char *name = e->path + flen + 1;
        if (e->added || e->hwcap != 0 || strncmp(e->path, folder, flen) != 0 ||
            e->path[flen] != '/' || strcmp(name, e->soname) != 0 ||
            str_has_suffix(e->soname, ".so") || !known_lib_flags(e->flags))
            continue;
        char text[256];
        ssize_t got = readlinkat(dfd, name, text, sizeof(text) - 1);
        if (got > 0) {
            text[got] = '\0';
            if (strchr(text, '/') != NULL || strcmp(text, ".") == 0 || strcmp(text, "..") == 0)
                continue;
            name = text;
        } else if (errno != EINVAL) { /* EINVAL: not a link, the file itself */
            continue;
        }
        push_lib(out, n, &cap, (struct folder_lib){xstrdup(name), xstrdup(e->soname), e->flags});
    }
    if (*n > 1)
        qsort(*out, *n, sizeof(**out), folder_lib_cmp);
}

/* The libraries of the folder that the caller named in mounted (entries
 * SONAME -> FOLDER/NAME, the file's own name), by file name (sorted). */
static void mounted_libs(const char *folder, const struct ldcache *mounted, struct folder_lib **out,
                         size_t *n)
{
    size_t cap = 0, flen = strlen(folder);
    for (size_t i = 0; mounted != NULL && i < mounted->len; i++) {
        const struct ldcache_entry *e = &mounted->entries[i];
        const char *name = e->path + flen + 1;
        if (strncmp(e->path, folder, flen) != 0 || e->path[flen] != '/' || *name == '\0' ||
            strchr(name, '/') != NULL)
            continue;
        push_lib(out, n, &cap, (struct folder_lib){xstrdup(name), xstrdup(e->soname), e->flags});
    }
    if (*n > 1)
        qsort(*out, *n, sizeof(**out), folder_lib_cmp);
}

static void free_libs(struct folder_lib *libs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(libs[i].name);
        free(libs[i].soname);
    }
    free(libs);
}

int layout_ldcache_add_folder(struct rootfs *r, struct ldcache *c, const char *folder,
                              const struct ldcache *mounted, gctk_error **err)
{
    if (folder[0] != '/')
        return gctk_fail(err, 0, "folder `%s` must be absolute", folder);
    /* O_DIRECTORY: a node planted at the folder's path is refused before
     * any driver's open runs */
    cleanup_fd int dfd = -1;
    if (rootfs_open_path(r, folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC, &dfd, err) < 0)
        return gctk_wrap(err, "folder `%s`", folder);
    int scan = dup(dfd);
    cleanup_dir DIR *d = scan >= 0 ? fdopendir(scan) : NULL;
    if (d == NULL) {
        int e = errno;
        if (scan >= 0)
            close(scan);
        return gctk_fail(err, e, "read folder `%s`", folder);
    }
    struct folder_lib *known = NULL, *mine = NULL, *libs = NULL;
    size_t nknown = 0, nmine = 0, nlibs = 0, cap = 0;
    cached_libs(dfd, folder, c, &known, &nknown);
    mounted_libs(folder, mounted, &mine, &nmine);
    struct strv links = {0};
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!str_has_prefix(e->d_name, "lib") || strstr(e->d_name, ".so") == NULL)
            continue;
        /* regular files only (a link is someone's name for a file seen here
         * too), looked at through O_PATH and opened through that fd; the
         * development links (lib*.so), as ldconfig lists them, afterwards.
         * The directory's own type of an entry spares opening a link. */
        bool link = e->d_type == DT_LNK;
        cleanup_fd int fd = -1;
        if (e->d_type == DT_REG) {
            /* the caller's mount covers any file of the image's there */
            const struct folder_lib *k = find_lib(mine, nmine, e->d_name);
            if (k == NULL)
                k = find_lib(known, nknown, e->d_name);
            if (k != NULL) {
                cleanup_free char *path = xasprintf("%s/%s", folder, k->soname);
                ldcache_add(c, k->soname, path, k->flags);
                push_lib(&libs, &nlibs, &cap,
                         (struct folder_lib){xstrdup(e->d_name), xstrdup(k->soname), k->flags});
                continue;
            }
        }
        if (link || open_regular_at(dfd, e->d_name, &fd) < 0) {
            struct stat st;
            if (str_has_suffix(e->d_name, ".so") &&
                (link ||
                 (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))))
                strv_push(&links, xstrdup(e->d_name));
            continue;
        }
        struct elf_info info = {0};
        cleanup_error gctk_error *ee = NULL;
        if (elf_inspect_fd(fd, &info, &ee) < 0)
            continue;
        uint32_t flags = host_arch_ldcache_flags(&info);
        if (info.soname != NULL && strchr(info.soname, '/') == NULL && flags != 0) {
            cleanup_free char *path = xasprintf("%s/%s", folder, info.soname);
            ldcache_add(c, info.soname, path, flags);
            push_lib(&libs, &nlibs, &cap,
                     (struct folder_lib){xstrdup(e->d_name), steal_pointer(&info.soname), flags});
        }
        elf_info_clear(&info);
    }
    free_libs(known, nknown);
    free_libs(mine, nmine);
    if (nlibs > 1)
        qsort(libs, nlibs, sizeof(*libs), folder_lib_cmp);
    for (size_t i = 0; i < links.len; i++) {
        const char *name = links.items[i];
        const struct folder_lib *lib = dev_link_target(dfd, name, libs, nlibs);
        size_t n = strlen(name);
        /* libcuda.so -> libcuda.so.1 -> libcuda.so.580.95.05 (SONAME libcuda.so.1) */
        if (lib != NULL && strncmp(lib->soname, name, n) == 0 && lib->soname[n] == '.') {
            cleanup_free char *path = xasprintf("%s/%s", folder, name);
            ldcache_add(c, name, path, lib->flags);
        }
    }
    free_libs(libs, nlibs);
    strv_clear(&links);
    return 0;
}

/* ---- forward compatibility ------------------------------------------------ */

#define CUDA_COMPAT_DIR "/usr/local/cuda/compat"

/* The architecture a compat library must be of: arch's 64-bit library, or
 * (arch NULL) a 64-bit library of any architecture gctk knows; NULL when it
 * is not one. */
static const struct host_arch *compat_arch(const struct host_arch *arch,
                                           const struct elf_info *info)
{
    if (arch != NULL)
        return host_arch_fit(arch, info) == HOST_ARCH_OWN ? arch : NULL;
    for (size_t i = 0; host_arch_at(i) != NULL; i++)
        if (host_arch_fit(host_arch_at(i), info) == HOST_ARCH_OWN)
            return host_arch_at(i);
    return NULL;
}

void layout_ldcache_add_compat(struct rootfs *r, const struct host_arch *arch,
                               const char *driver_version, struct ldcache *c, struct strv *notes,
                               char **compat)
{
    cleanup_fd int dfd = -1;
    cleanup_error gctk_error *e = NULL;
    if (rootfs_open_path(r, CUDA_COMPAT_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC, &dfd, &e) < 0)
        return;
    int scan = dup(dfd);
    cleanup_dir DIR *d = scan >= 0 ? fdopendir(scan) : NULL;
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
            note(notes,
                 xasprintf("cuda-compat `%s/%s` ignored: not a regular file%s", CUDA_COMPAT_DIR,
                           de->d_name, S_ISLNK(st.st_mode) ? " (a symlink)" : ""));
            continue;
        }
        if (version_cmp(so + 4, driver_version) <= 0) {
            note(notes, xasprintf("cuda-compat `%s/%s` ignored: not newer than the driver %s",
                                  CUDA_COMPAT_DIR, de->d_name, driver_version));
            continue;
        }
        /* the name may have been swapped for a device or a FIFO since the
         * fstatat: look at the object itself through O_PATH, and open for
         * reading only what is still a regular file */
        cleanup_fd int fd = -1;
        struct elf_info info = {0};
        const struct host_arch *a = NULL;
        if (open_regular_at(dfd, de->d_name, &fd) < 0 || elf_inspect_fd(fd, &info, &e) < 0 ||
            info.soname == NULL || (a = compat_arch(arch, &info)) == NULL) {
            note(notes,
                 xasprintf("cuda-compat `%s/%s` ignored: not a 64-bit %s library", CUDA_COMPAT_DIR,
                           de->d_name, arch != NULL ? arch->name : host_arch_names()));
            gctk_error_free(e);
            e = NULL;
            elf_info_clear(&info);
            continue;
        }
        cleanup_free char *path = xasprintf("%s/%s", CUDA_COMPAT_DIR, de->d_name);
        ldcache_add(c, info.soname, path, a->ldcache_flags);
        note(notes, xasprintf("cuda-compat: %s -> %s (newer than the driver %s)", info.soname, path,
                              driver_version));
        if (compat != NULL && str_has_prefix(de->d_name, "libcuda.so.")) {
            free(*compat);
            *compat = xstrdup(path);
        }
        elf_info_clear(&info);
    }
}

int layout_ldcache_write(struct rootfs *r, struct ldcache *c, gctk_error **err)
{
    cleanup_free char *data = NULL;
    size_t len = 0;
    if (ldcache_serialize(c, &data, &len, err) < 0)
        return gctk_wrap(err, "update the container's `" LDCACHE_PATH "`");
    /* what gctk writes into a container is bounded as what it reads there */
    if (len > LDCACHE_MAX)
        return gctk_fail(err, EFBIG,
                         "update the container's `" LDCACHE_PATH "`: %zu entries make %zu bytes, "
                         "more than the %u gctk writes",
                         c->len, len, LDCACHE_MAX);
    /* /etc made first when the image has none, as any parent */
    if (rootfs_write_file(r, LDCACHE_PATH, data, len, 0644, err) < 0)
        return gctk_wrap(err, "update the container's `" LDCACHE_PATH "`");
    return 0;
}
