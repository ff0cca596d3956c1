/* Discovery of a GPU host under a root: the driver version, the GPUs, the
 * driver files of every capability and the device nodes.
 *
 * Everything is read from the filesystem (/proc/driver/nvidia, the ld.so.cache,
 * the standard directories). NVML is loaded only when a field that only it
 * knows is asked for (memory, brand, compute capability, CUDA version). */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>

#include "arch.h"
#include "caps.h"
#include "elfinfo.h"
#include "host.h"
#include "ldcache.h"
#include "nvml.h"
#include "vercmp.h"

/* ---- the driver version -------------------------------------------------- */

static bool looks_like_version(const char *s)
{
    int dots = 0;
    if (*s < '0' || *s > '9')
        return false;
    for (; *s; s++) {
        if (*s == '.')
            dots++;
        else if (*s < '0' || *s > '9')
            return false;
    }
    return dots >= 1 && s[-1] != '.';
}

int host_parse_proc_version(const char *text, char **out, gctk_error **err)
{
    /* "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.95.05  Sun ..." or
     * "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release ...":
     * the version is the first token of the NVRM line shaped like one. */
    const char *line = strstr(text, "NVRM version:");
    if (line == NULL)
        return gctk_fail(err, 0, "no `NVRM version:` line");
    const char *end = strchr(line, '\n');
    cleanup_free char *copy = end ? xstrndup(line, (size_t)(end - line)) : xstrdup(line);
    char *save = NULL;
    for (char *tok = strtok_r(copy + strlen("NVRM version:"), " \t", &save); tok != NULL;
         tok = strtok_r(NULL, " \t", &save)) {
        if (looks_like_version(tok)) {
            *out = xstrdup(tok);
            return 0;
        }
    }
    return gctk_fail(err, 0, "no version number on the `NVRM version:` line");
}

int host_read_driver(const char *root, char **version, const struct host_arch **arch,
                     gctk_error **err)
{
    cleanup_free char *path = path_join(root, HOST_PROC_VERSION);
    cleanup_free char *text = NULL;
    cleanup_error gctk_error *e = NULL;
    if (read_file(path, 64 * 1024, &text, NULL, &e) < 0) {
        if (e->code == ENOENT)
            return gctk_refuse(err, ENOENT,
                               "no NVIDIA driver under `%s`: `%s` is missing: install the "
                               "driver or load its kernel module (`modprobe nvidia`)",
                               root, path);
        return gctk_error_propagate(err, &e);
    }
    if (host_parse_proc_version(text, version, &e) < 0)
        return gctk_refuse(err, EINVAL, "`%s`: %s", path, e->msg);
    if (arch != NULL) {
        const struct host_arch *a = host_arch_of_driver(text);
        *arch = a != NULL ? a : host_arch_native();
    }
    return 0;
}

int host_read_driver_version(const char *root, char **out, gctk_error **err)
{
    return host_read_driver(root, out, NULL, err);
}

const struct host_arch *host_root_arch(const char *root)
{
    cleanup_free char *version = NULL;
    const struct host_arch *arch = NULL;
    if (host_read_driver(root, &version, &arch, NULL) < 0)
        return host_arch_native();
    return arch;
}

/* ---- GPUs ------------------------------------------------------------------ */

/* "0000:18:00.0" or "00000000:18:00.0" -> NVML's "00000000:18:00.0" */
int host_normalize_bus_id(const char *in, char *out, size_t size)
{
    unsigned domain, bus, dev, fn;
    char tail;
    if (sscanf(in, "%x:%x:%x.%x%c", &domain, &bus, &dev, &fn, &tail) != 4 || bus > 0xff ||
        dev > 0x1f || fn > 7)
        return -1;
    snprintf(out, size, "%08X:%02X:%02X.%X", domain, bus, dev, fn);
    return 0;
}

void host_gpu_clear(struct gctk_gpu *g)
{
    free(g->uuid);
    free(g->bus_id);
    free(g->model);
    free(g->brand);
    free(g->arch);
    free(g->proc_dir);
}

int host_parse_gpu_information(const char *text, struct gctk_gpu *out, gctk_error **err)
{
    struct gctk_gpu g = {.index = -1, .minor = -1, .memory_mib = -1};
    cleanup_free char *copy = xstrdup(text);
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char *colon = strchr(line, ':');
        if (colon == NULL)
            continue;
        *colon = '\0';
        char *key = str_strip(line), *value = str_strip(colon + 1);
        if (strcmp(key, "Model") == 0) {
            free(g.model);
            g.model = xstrdup(value);
        } else if (strcmp(key, "GPU UUID") == 0) {
            free(g.uuid);
            g.uuid = xstrdup(value);
        } else if (strcmp(key, "Bus Location") == 0) {
            char bus[32];
            if (host_normalize_bus_id(value, bus, sizeof(bus)) < 0) {
                host_gpu_clear(&g);
                return gctk_fail(err, 0, "bad `Bus Location` `%s`", value);
            }
            free(g.bus_id);
            g.bus_id = xstrdup(bus);
        } else if (strcmp(key, "Device Minor") == 0) {
            char *end = NULL;
            errno = 0;
            long m = strtol(value, &end, 10);
            if (errno != 0 || end == value || *end != '\0' || m < 0 || m > 254) {
                host_gpu_clear(&g);
                return gctk_fail(err, 0, "bad `Device Minor` `%s`", value);
            }
            g.minor = (int)m;
        }
    }
    const char *missing = g.minor < 0        ? "Device Minor"
                          : g.bus_id == NULL ? "Bus Location"
                          : g.uuid == NULL   ? "GPU UUID"
                                             : NULL;
    if (missing != NULL) {
        host_gpu_clear(&g);
        return gctk_fail(err, 0, "no `%s` line", missing);
    }
    if (g.model == NULL)
        g.model = xstrdup("NVIDIA GPU");
    *out = g;
    return 0;
}

static int gpu_cmp(const void *a, const void *b)
{
    /* the normalised bus id is fixed-width hex: string order is PCI order */
    return strcmp(((const struct gctk_gpu *)a)->bus_id, ((const struct gctk_gpu *)b)->bus_id);
}

static void add_warning(struct gctk_host *h, char *owned)
{
    strv_push(&h->warnings, owned);
    host_dep_warning(h->deps, h->warnings.len - 1);
}

static int read_gpus(struct gctk_host *h, gctk_error **err)
{
    cleanup_free char *dir = path_join(h->root, HOST_PROC_NVIDIA "/gpus");
    host_dep_listing(h->deps, dir);
    cleanup_dir DIR *d = opendir(dir);
    if (d == NULL) {
        if (errno == ENOENT)
            return 0; /* a driver without GPUs */
        return gctk_fail(err, errno, "open `%s`", dir);
    }
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        cleanup_free char *rel = xasprintf(HOST_PROC_NVIDIA "/gpus/%s", de->d_name);
        cleanup_free char *info = xasprintf("%s/%s/information", dir, de->d_name);
        cleanup_free char *text = NULL;
        cleanup_error gctk_error *e = NULL;
        struct gctk_gpu g;
        host_dep_gpu_information(h->deps, de->d_name, info);
        if (read_file(info, 64 * 1024, &text, NULL, &e) < 0 ||
            host_parse_gpu_information(text, &g, &e) < 0) {
            add_warning(h, xasprintf("GPU `%s` skipped: `%s`: %s", de->d_name, info, e->msg));
            continue;
        }
        g.proc_dir = steal_pointer(&rel);
        if (h->ngpus == cap) {
            cap = cap ? cap * 2 : 8;
            h->gpus = xrealloc(h->gpus, cap * sizeof(*h->gpus));
        }
        h->gpus[h->ngpus++] = g;
    }
    if (h->ngpus > 0)
        qsort(h->gpus, h->ngpus, sizeof(*h->gpus), gpu_cmp);
    h->enriched = xcalloc(h->ngpus, sizeof(*h->enriched));
    for (size_t i = 0; i < h->ngpus; i++)
        h->gpus[i].index = (int)i;
    return 0;
}

/* ---- files ----------------------------------------------------------------- */

/* The kernel's MAXSYMLINKS: a path that takes more links is a loop. */
#define HOST_MAX_LINKS 40

/* host_resolve, with dirs (may be NULL) the directories already found to be
 * real ones, not links, and missing (may be NULL) those found not to exist:
 * a library path's /usr, /usr/lib, ... are looked at once per discovery, not
 * once per library, and so is the absent /etc/egl of four candidates. *st
 * (may be NULL): the resolved file's lstat. deps: where the lstat() calls
 * are recorded (may be NULL). */
static int resolve_in_root(const char *root, const char *path, struct strv *dirs,
                           struct strv *missing, struct host_deps *deps, bool *absent, char **out,
                           struct stat *st_out, gctk_error **err)
{
    bool in_subtree = root != NULL && root[0] != '\0' && strcmp(root, "/") != 0;
    const char *shown_root = in_subtree ? root : "/";
    /* done: the resolved prefix, no link in it ("" is the root); todo: what
     * is left to walk, a link's text spliced in front of the rest; the
     * components from orig on are the caller's, those before it a link's */
    size_t cap = PATH_MAX, len = 0;
    cleanup_free char *done = xmalloc(cap);
    done[0] = '\0';
    cleanup_free char *todo = xstrdup(path);
    size_t orig = 0;
    cleanup_free char *link = NULL, *target = NULL; /* the last link followed */
    int links = 0;
    struct stat st = {0};
    bool looked = false; /* st is the last component's */
    for (char *next = todo; next != NULL;) {
        char *name = next;
        char *slash = strchr(name, '/');
        next = slash != NULL ? slash + 1 : NULL;
        if (slash != NULL)
            *slash = '\0';
        if (name[0] == '\0' || strcmp(name, ".") == 0)
            continue;
        if (strcmp(name, "..") == 0) {
            if (len == 0 && in_subtree && link != NULL)
                return gctk_fail(err, 0,
                                 "`%s` is a link to `%s`, which leads out of the driver root "
                                 "`%s`: host files are taken only from under it",
                                 link, target, root);
            if (len == 0 && in_subtree)
                return gctk_fail(err, 0, "`%s` leads out of the driver root `%s`", path, root);
            while (len > 0 && done[len - 1] != '/')
                len--;
            if (len > 0)
                len--;
            done[len] = '\0';
            looked = false;
            continue;
        }
        size_t n = strlen(name);
        if (len + n + 2 > cap) {
            cap = (len + n + 2) * 2;
            done = xrealloc(done, cap);
        }
        done[len] = '/';
        memcpy(done + len + 1, name, n + 1);
        looked = false;
        bool known_dir = next != NULL && dirs != NULL && strv_contains(dirs, done);
        bool known_missing =
            !known_dir && next != NULL && missing != NULL && strv_contains(missing, done);
        cleanup_free char *full = path_join(root, done);
        /* looked at before: what this walk depends on is what was recorded */
        if (known_dir || known_missing)
            host_dep_again(deps, full);
        if (known_dir) {
            len += 1 + n;
            continue;
        }
        int rc = known_missing ? -1 : lstat(full, &st);
        if (!known_missing)
            host_dep_lstat(deps, full, rc, &st);
        if (rc < 0) {
            int e = known_missing ? ENOENT : errno;
            if (e == ENOENT && next != NULL && missing != NULL && !known_missing)
                strv_push(missing, xstrdup(done));
            /* a name from a link's text: the link leads nowhere; a name of
             * the caller's: the file is simply not there (absent, when the
             * caller asks, says so without an error: most candidates are) */
            if (e == ENOENT && (size_t)(name - todo) < orig)
                return gctk_fail(err, 0,
                                 "`%s` is a link to `%s`, which does not exist under "
                                 "the driver root `%s`",
                                 link, target, shown_root);
            if (e == ENOENT && absent != NULL) {
                *absent = true;
                return -1;
            }
            return gctk_fail(err, e, "`%s`", full);
        }
        if (!S_ISLNK(st.st_mode)) {
            if (next != NULL && !S_ISDIR(st.st_mode))
                return gctk_fail(err, ENOTDIR, "`%s`", full);
            if (next != NULL && dirs != NULL)
                strv_push(dirs, xstrdup(done));
            len += 1 + n;
            looked = true;
            continue;
        }
        if (++links > HOST_MAX_LINKS)
            return gctk_fail(err, ELOOP, "resolve `%s` under the driver root `%s`", path,
                             shown_root);
        char text[PATH_MAX];
        ssize_t got = readlink(full, text, sizeof(text) - 1);
        if (got < 0)
            return gctk_fail(err, errno, "readlink `%s`", full);
        text[got] = '\0';
        free(link);
        free(target);
        link = xstrdup(done);
        target = xstrdup(text);
        done[len] = '\0';
        if (text[0] == '/')
            len = 0, done[0] = '\0';
        size_t rest = next != NULL ? (size_t)(next - todo) : 0;
        char *spliced = next != NULL ? xasprintf("%s/%s", text, next) : xstrdup(text);
        size_t head = next != NULL ? (size_t)got + 1 : (size_t)got;
        /* the caller's components keep their place at the end */
        orig = next == NULL ? strlen(spliced) + 1 : head + (orig > rest ? orig - rest : 0);
        free(todo);
        todo = spliced;
        next = todo;
    }
    done[len] = '\0';
    if (st_out != NULL && !looked) {
        /* the root itself, or a ".." after the last name */
        cleanup_free char *full = path_join(root, len > 0 ? done : "/");
        int rc = lstat(full, &st);
        host_dep_lstat(deps, full, rc, &st);
        if (rc < 0)
            return gctk_fail(err, errno, "`%s`", full);
    }
    if (st_out != NULL)
        *st_out = st;
    *out = len > 0 ? xstrndup(done, len) : xstrdup("/");
    return 0;
}

int host_resolve(const char *root, const char *path, char **out, gctk_error **err)
{
    return resolve_in_root(root, path, NULL, NULL, NULL, NULL, out, NULL, err);
}

/* host_resolve for discovery: each directory of the host looked at once */
static int resolve(struct gctk_host *h, const char *path, char **out, struct stat *st,
                   gctk_error **err)
{
    return resolve_in_root(h->root, path, &h->real_dirs, &h->missing_dirs, h->deps, NULL, out, st,
                           err);
}

/* A directory of the host, named as inside the root: links followed in the
 * root (/lib64 may be one); NULL when it is not there. */
static DIR *open_dir(struct gctk_host *h, const char *path)
{
    cleanup_free char *dir = NULL;
    if (resolve(h, path, &dir, NULL, NULL) < 0)
        return NULL;
    cleanup_free char *full = path_join(h->root, dir);
    host_dep_listing(h->deps, full);
    return opendir(full);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* a driver version: digits with at least one dot, the branch number first
 * ("580.95.05"; a SONAME's suffix is one number: "libcuda.so.1"; the EGL
 * platform libraries carry versions of their own: "libnvidia-egl-wayland.so.1.1.13") */
static bool is_driver_version(const char *s, size_t n)
{
    size_t branch = strspn(s, "0123456789");
    return n > 0 && branch >= 3 && branch < n && s[branch] == '.' && strspn(s, "0123456789.") >= n;
}

char *host_file_version(const char *path)
{
    const char *so = strstr(base_name(path), ".so.");
    if (so != NULL)
        return is_driver_version(so + 4, strlen(so + 4)) ? xstrdup(so + 4) : NULL;
    /* firmware: <firmware dir>/nvidia/<version>/gsp_*.bin, whichever
     * directory of the kernel's search order holds it */
    const char *name = base_name(path);
    if (name == path || !str_has_prefix(name, "gsp") || !str_has_suffix(name, ".bin"))
        return NULL;
    size_t dir_len = (size_t)(name - 1 - path);
    const char *v = path + dir_len;
    while (v > path && v[-1] != '/')
        v--;
    size_t n = dir_len - (size_t)(v - path);
    if (v - path < 8 || strncmp(v - 8, "/nvidia/", 8) != 0 || !is_driver_version(v, n))
        return NULL;
    return xstrndup(v, n);
}

/* source: path resolved by host_resolve (the caller did it once) */
static struct gctk_file *add_file(struct gctk_host *h, enum gctk_file_kind kind, unsigned caps,
                                  const char *path, const char *source)
{
    for (size_t i = 0; i < h->nfiles; i++)
        if (h->files[i].kind == kind && strcmp(h->files[i].path, path) == 0)
            return NULL;
    if (h->nfiles == h->files_cap) {
        h->files_cap = h->files_cap ? h->files_cap * 2 : 32;
        h->files = xrealloc(h->files, h->files_cap * sizeof(*h->files));
    }
    struct gctk_file *f = &h->files[h->nfiles++];
    *f = (struct gctk_file){
        .kind = kind, .caps = caps, .path = xstrdup(path), .source = xstrdup(source)};
    return f;
}

/* A candidate host file of the given type (S_IFREG, S_IFSOCK, S_IFDIR),
 * resolved inside the root: its source, or NULL when it is absent (the usual
 * case for most candidates: nothing said) or unusable (a link that leads
 * nowhere or out of the root, or another type: a warning says so). *st:
 * the lstat of the source. */
static char *candidate_source(struct gctk_host *h, const char *what, const char *path, mode_t type,
                              struct stat *st)
{
    char *source = NULL;
    cleanup_error gctk_error *e = NULL;
    bool absent = false;
    if (resolve_in_root(h->root, path, &h->real_dirs, &h->missing_dirs, h->deps, &absent, &source,
                        st, &e) < 0) {
        if (!absent && e->code != ENOENT)
            add_warning(h, xasprintf("%s `%s` skipped: %s", what, path, e->msg));
        return NULL;
    }
    if ((st->st_mode & S_IFMT) == type)
        return source;
    cleanup_free char *full = path_join(h->root, source);
    add_warning(h, xasprintf("%s `%s` skipped: `%s` is not a %s", what, path, full,
                             type == S_IFSOCK  ? "socket"
                             : type == S_IFDIR ? "directory"
                                               : "regular file"));
    free(source);
    return NULL;
}

/* Whether name is the file of a library that carries its own version, not
 * the driver's: "<prefix>.so.<digits>.<...>" (libnvidia-egl-wayland.so.1.1.13). */
static bool own_version_file(const struct cap_library *l, const char *name)
{
    size_t n = strlen(l->prefix);
    if (!cap_library_own_version(l) || strncmp(name, l->prefix, n) != 0 || name[n] != '.')
        return false;
    const char *v = name + n + 1;
    return v[0] >= '0' && v[0] <= '9' && strchr(v, '.') != NULL &&
           strspn(v, "0123456789.") == strlen(v);
}

/* Takes one library candidate: resolves it, applies the version-suffix rule
 * (the driver's version, or the library's own for the few that carry one)
 * and the ELF check: a 64-bit library of the host's machine, or its 32-bit
 * companion (want: what the cache flags or the scanned directory say). */
static void add_library(struct gctk_host *h, const char *path, const struct cap_library *lib,
                        enum host_arch_fit want)
{
    cleanup_free char *real = NULL;
    cleanup_error gctk_error *e = NULL;
    if (resolve(h, path, &real, NULL, &e) < 0) {
        add_warning(h, xasprintf("library `%s` skipped: %s", path, e->msg));
        return;
    }
    cleanup_free char *suffix = xasprintf(".so.%s", h->driver_version);
    if (!str_has_suffix(real, suffix) && !own_version_file(lib, base_name(real))) {
        add_warning(h, xasprintf("library `%s` skipped: its version is not the driver's %s", real,
                                 h->driver_version));
        return;
    }
    cleanup_free char *full = path_join(h->root, real);
    struct elf_info info = {0};
    host_dep_file(h->deps, full);
    if (elf_inspect(full, &info, &e) < 0) {
        add_warning(h, xasprintf("library `%s` skipped: %s", real, e->msg));
        return;
    }
    enum host_arch_fit fit = host_arch_fit(h->arch, &info);
    if (fit != want) {
        /* a library of another machine, or of the other class than where
         * it was found, is never the driver's: its loader would refuse it */
        char is[48];
        host_arch_describe(&info, is, sizeof(is));
        if (fit == HOST_ARCH_FOREIGN && !strv_contains(&h->foreign_libs, real))
            strv_push(&h->foreign_libs, xstrdup(real));
        if (fit == HOST_ARCH_FOREIGN)
            add_warning(h, xasprintf("library `%s` skipped: built for %s, and this host's "
                                     "driver is %s's: reinstall the driver's %s libraries",
                                     real, is, h->arch->name, h->arch->name));
        else
            add_warning(h, xasprintf("library `%s` skipped: built for %s, found where the "
                                     "%s-bit libraries are",
                                     real, is, want == HOST_ARCH_OWN ? "64" : "32"));
        elf_info_clear(&info);
        return;
    }
    struct gctk_file *f =
        add_file(h, fit == HOST_ARCH_OWN ? GCTK_FILE_LIB : GCTK_FILE_LIB32, lib->caps, real, real);
    if (f != NULL)
        f->soname = steal_pointer(&info.soname);
    elf_info_clear(&info);
}

/* What a library's dependencies serve: its capabilities; compat32 for a
 * 32-bit library (only a container with compat32 gets one). */
static unsigned library_tag(unsigned caps, enum host_arch_fit want)
{
    return want == HOST_ARCH_OWN32 ? GCTK_CAP_COMPAT32 : caps;
}

static void consider_library(struct gctk_host *h, const char *path, enum host_arch_fit want)
{
    const struct cap_library *lib = cap_library_of(base_name(path));
    if (lib == NULL)
        return;
    unsigned tag = host_deps_tag(h->deps, library_tag(lib->caps, want));
    add_library(h, path, lib, want);
    host_deps_tag(h->deps, tag);
}

/* A development link of a driver library ("libcuda.so"): a name that ends
 * in ".so" where the library's SONAME has a version after it. */
static bool is_dev_name(const char *name)
{
    return str_has_suffix(name, ".so") && cap_library_caps(name) != 0;
}

/* The development links found (by the cache or the scan) as "<class>:<path>",
 * matched with the libraries once those are all known: a link names the
 * library it leads to, whose SONAME must start with the link's name. */
static void match_dev_links(struct gctk_host *h, const struct strv *links)
{
    for (size_t i = 0; i < links->len; i++) {
        const char *path = links->items[i] + 2;
        bool is64 = links->items[i][0] == '6';
        cleanup_free char *real = NULL;
        cleanup_error gctk_error *e = NULL;
        unsigned tag = host_deps_tag(h->deps, library_tag(cap_library_caps(base_name(path)),
                                                          is64 ? HOST_ARCH_OWN : HOST_ARCH_OWN32));
        int rc = resolve(h, path, &real, NULL, &e);
        host_deps_tag(h->deps, tag);
        if (rc < 0) {
            add_warning(h, xasprintf("library link `%s` skipped: %s", path, e->msg));
            continue;
        }
        const char *name = base_name(path);
        size_t n = strlen(name);
        for (size_t k = 0; k < h->nfiles; k++) {
            struct gctk_file *f = &h->files[k];
            if (f->kind != (is64 ? GCTK_FILE_LIB : GCTK_FILE_LIB32) || f->dev != NULL ||
                strcmp(f->path, real) != 0 || f->soname == NULL ||
                strncmp(f->soname, name, n) != 0 || f->soname[n] != '.')
                continue;
            f->dev = xstrdup(name);
            break;
        }
    }
}

static void scan_lib_dirs(struct gctk_host *h, const char *const *dirs, enum host_arch_fit want,
                          struct strv *dev_links)
{
    cleanup_free char *suffix = xasprintf(".so.%s", h->driver_version);
    for (size_t i = 0; dirs[i] != NULL; i++) {
        cleanup_dir DIR *d = open_dir(h, dirs[i]);
        if (d == NULL)
            continue;
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            const struct cap_library *lib = cap_library_of(de->d_name);
            if (lib == NULL)
                continue;
            if (is_dev_name(de->d_name)) {
                strv_push(dev_links, xasprintf("%c:%s/%s", want == HOST_ARCH_OWN ? '6' : '3',
                                               dirs[i], de->d_name));
                continue;
            }
            if (!str_has_suffix(de->d_name, suffix) && !own_version_file(lib, de->d_name))
                continue;
            cleanup_free char *p = xasprintf("%s/%s", dirs[i], de->d_name);
            consider_library(h, p, want);
        }
    }
}

static void find_libraries(struct gctk_host *h)
{
    cleanup_free char *cache_path = path_join(h->root, "/etc/ld.so.cache");
    struct ldcache cache = {0};
    cleanup_error gctk_error *e = NULL;
    cleanup_strv struct strv dev_links = {0};
    host_dep_file(h->deps, cache_path);
    if (ldcache_read(cache_path, &cache, &e) < 0) {
        if (e->code != ENOENT)
            add_warning(h, xasprintf("`%s` unusable, scanning the library directories: %s",
                                     cache_path, e->msg));
        scan_lib_dirs(h, h->arch->lib_dirs, HOST_ARCH_OWN, &dev_links);
        scan_lib_dirs(h, h->arch->lib32_dirs, HOST_ARCH_OWN32, &dev_links);
        match_dev_links(h, &dev_links);
        return;
    }
    for (size_t i = 0; i < cache.len; i++) {
        const struct ldcache_entry *en = &cache.entries[i];
        if (en->hwcap != 0 || cap_library_caps(en->soname) == 0)
            continue;
        /* the entries of the host's loader; another architecture's (a
         * multiarch install) are that loader's business */
        enum host_arch_fit want;
        if (en->flags == h->arch->ldcache_flags)
            want = HOST_ARCH_OWN;
        else if (h->arch->machine32 != 0 && en->flags == h->arch->ldcache_flags32)
            want = HOST_ARCH_OWN32;
        else
            continue;
        /* ldconfig lists a library's development link under its own name */
        if (is_dev_name(en->soname) && strcmp(base_name(en->path), en->soname) == 0)
            strv_push(&dev_links, xasprintf("%c:%s", want == HOST_ARCH_OWN ? '6' : '3', en->path));
        else
            consider_library(h, en->path, want);
    }
    ldcache_clear(&cache);
    match_dev_links(h, &dev_links);
}

/* The 64-bit entry of soname in root's ld.so.cache. *usable: whether there
 * is a cache that discovery reads. Owned; NULL when the cache has none. */
static char *cache_entry(const char *root, const char *soname, bool *usable)
{
    const struct host_arch *arch = host_root_arch(root);
    cleanup_free char *cache_path = path_join(root, "/etc/ld.so.cache");
    struct ldcache cache = {0};
    char *found = NULL;
    *usable = ldcache_read(cache_path, &cache, NULL) == 0;
    for (size_t i = 0; *usable && i < cache.len && found == NULL; i++) {
        const struct ldcache_entry *en = &cache.entries[i];
        if (en->hwcap == 0 && en->flags == arch->ldcache_flags && strcmp(en->soname, soname) == 0)
            found = xstrdup(en->path);
    }
    ldcache_clear(&cache);
    return found;
}

/* name in the first of dirs that has it, resolved under root; NULL when none */
static char *find_in_dirs(const char *root, const char *const *dirs, const char *name,
                          const char **dir)
{
    for (size_t i = 0; dirs[i] != NULL; i++) {
        cleanup_free char *rel = xasprintf("%s/%s", dirs[i], name);
        cleanup_free char *real = NULL;
        if (host_resolve(root, rel, &real, NULL) < 0)
            continue;
        cleanup_free char *full = path_join(root, real);
        if (access(full, F_OK) == 0) {
            *dir = dirs[i];
            return steal_pointer(&real);
        }
    }
    return NULL;
}

char *host_find_library(const char *root, const char *soname)
{
    bool usable = false;
    cleanup_free char *found = cache_entry(root, soname, &usable);
    cleanup_free char *real = NULL;
    if (found != NULL && host_resolve(root, found, &real, NULL) == 0) {
        cleanup_free char *full = path_join(root, real);
        if (access(full, F_OK) == 0)
            return steal_pointer(&real);
    }
    const char *dir = NULL;
    return find_in_dirs(root, host_root_arch(root)->lib_dirs, soname, &dir);
}

/* Where drivers are known to keep their libraries outside the loader's
 * usual directories (NixOS's /run/opengl-driver/lib, the private directories
 * of distribution packages): looked at only to explain why discovery found
 * no library, never to take one. */
static const char *const outside_lib_dirs[] = {
    "/run/opengl-driver/lib",
    "/usr/lib/x86_64-linux-gnu/nvidia/current",
    "/usr/lib/x86_64-linux-gnu/nvidia",
    "/usr/lib/aarch64-linux-gnu/nvidia/current",
    "/usr/lib/aarch64-linux-gnu/nvidia",
    "/usr/lib64/nvidia",
    "/usr/lib/nvidia",
    "/opt/nvidia/lib64",
    NULL,
};

void host_lib_check_clear(struct host_lib_check *c)
{
    free(c->path);
    free(c->version);
    free(c->dir);
    *c = (struct host_lib_check){0};
}

void host_check_library(const char *root, const char *soname, const char *driver,
                        struct host_lib_check *out)
{
    *out = (struct host_lib_check){.state = HOST_LIB_MISSING};
    bool usable = false;
    cleanup_free char *entry = cache_entry(root, soname, &usable);
    out->cached = usable;
    cleanup_free char *real = NULL;
    const char *dir = NULL;
    bool seen = false; /* where discovery looks: the cache, else the usual dirs */
    if (entry != NULL && host_resolve(root, entry, &real, NULL) == 0) {
        cleanup_free char *full = path_join(root, real);
        seen = access(full, F_OK) == 0;
    }
    if (!seen) {
        free(real);
        real = find_in_dirs(root, host_root_arch(root)->lib_dirs, soname, &dir);
        seen = real != NULL && !usable;
    }
    if (real == NULL)
        real = find_in_dirs(root, outside_lib_dirs, soname, &dir);
    if (real == NULL)
        return;
    out->version = host_file_version(real);
    if (!seen) {
        out->state = HOST_LIB_UNCACHED;
        out->dir = xstrdup(dir);
    } else if (out->version == NULL) {
        out->state = HOST_LIB_UNVERSIONED;
    } else if (driver != NULL && strcmp(out->version, driver) != 0) {
        out->state = HOST_LIB_MISMATCH;
    } else {
        out->state = HOST_LIB_OK;
    }
    out->path = steal_pointer(&real);
}

char *host_mismatch_fix(const char *module, const char *lib)
{
    if (version_cmp(lib, module) > 0)
        return xasprintf("reboot, or reload the module, so that the kernel module of the "
                         "installed driver %s runs: rmmod nvidia_uvm nvidia_drm nvidia_modeset "
                         "nvidia && modprobe nvidia",
                         lib);
    return xasprintf("install the user-space libraries of driver %s (the version of the loaded "
                     "kernel module) and run `ldconfig`, or reboot into the driver %s",
                     module, lib);
}

int host_lib_check_fail(const struct host_lib_check *c, const char *root, const char *soname,
                        const char *driver, gctk_error **err)
{
    const char *shown = root == NULL || strcmp(root, "/") == 0 ? "" : root;
    switch (c->state) {
    case HOST_LIB_OK:
        return 0;
    case HOST_LIB_MISMATCH: {
        cleanup_free char *fix = host_mismatch_fix(driver, c->version);
        gctk_fail(err, 0,
                  "driver/library version mismatch: kernel module %s, libraries %s (`%s%s`)",
                  driver, c->version, shown, c->path);
        return gctk_hint(err, "%s", fix);
    }
    case HOST_LIB_UNVERSIONED:
        gctk_fail(err, 0, "`%s` is `%s%s`, whose name carries no driver version", soname, shown,
                  c->path);
        return gctk_hint(err,
                         "reinstall the NVIDIA driver's user-space libraries%s%s: the driver's "
                         "files are named <library>.so.<version>",
                         driver ? " of version " : "", driver ? driver : "");
    case HOST_LIB_UNCACHED:
        if (c->cached)
            gctk_fail(err, 0,
                      "`%s%s` is in `%s`, which `%s/etc/ld.so.cache` does not list: driver "
                      "libraries are found through the host's ld.so.cache",
                      shown, c->path, c->dir, shown);
        else
            gctk_fail(err, 0,
                      "`%s%s` is in `%s`, which is not a standard library directory, and "
                      "there is no `%s/etc/ld.so.cache` to list it",
                      shown, c->path, c->dir, shown);
        return gctk_hint(err,
                         "list the directory in the host's ld.so.cache: echo %s > "
                         "/etc/ld.so.conf.d/nvidia.conf && ldconfig",
                         c->dir);
    case HOST_LIB_MISSING:
        break;
    }
    gctk_fail(err, 0, "no `%s`: neither `%s/etc/ld.so.cache` nor the library directories have it",
              soname, shown);
    return gctk_hint(err, "install the NVIDIA driver's user-space libraries%s%s and run `ldconfig`",
                     driver ? " of version " : "", driver ? driver : "");
}

static bool is_executable_file(struct gctk_host *h, const char *path, char **real)
{
    cleanup_error gctk_error *e = NULL;
    struct stat st;
    *real = candidate_source(h, "program", path, S_IFREG, &st);
    if (*real == NULL)
        return false;
    cleanup_free char *full = path_join(h->root, *real);
    struct elf_info info = {0};
    host_dep_file(h->deps, full);
    /* the driver's own program, not a wrapper script that execs it from a
     * path the container will not have */
    if ((st.st_mode & 0111) && elf_inspect(full, &info, &e) == 0 &&
        host_arch_fit(h->arch, &info) == HOST_ARCH_OWN) {
        elf_info_clear(&info);
        return true;
    }
    elf_info_clear(&info);
    free(*real);
    *real = NULL;
    return false;
}

static void find_binaries(struct gctk_host *h)
{
    /* PATH of the caller (the hook inherits dockerd's), then the usual dirs
     * and the /usr/local/nvidia layout of some distributions */
    struct strv dirs = {0};
    const char *env = getenv("PATH");
    if (env != NULL) {
        cleanup_free char *copy = xstrdup(env);
        char *save = NULL;
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save))
            if (d[0] == '/' && !strv_contains(&dirs, d))
                strv_push(&dirs, xstrdup(d));
    }
    static const char *const defaults[] = {
        "/usr/local/sbin",      "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin",
        "/usr/local/nvidia/bin"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(defaults); i++)
        if (!strv_contains(&dirs, defaults[i]))
            strv_push(&dirs, xstrdup(defaults[i]));
    unsigned tag = host_deps_tag(h->deps, 0);
    for (const struct cap_binary *b = cap_binaries; b->name != NULL; b++) {
        host_deps_tag(h->deps, b->caps);
        for (size_t i = 0; i < dirs.len; i++) {
            cleanup_free char *p = xasprintf("%s/%s", dirs.items[i], b->name);
            cleanup_free char *real = NULL;
            if (is_executable_file(h, p, &real)) {
                add_file(h, GCTK_FILE_BIN, b->caps, p, real);
                break;
            }
        }
    }
    host_deps_tag(h->deps, tag);
    strv_clear(&dirs);
}

/* ---- GSP firmware ------------------------------------------------------------ */

int host_firmware_dirs(const char *root, struct strv *out)
{
    /* firmware_class.path first, when the kernel has one (an empty value is
     * no path), then the kernel's own list (drivers/base/firmware_loader) */
    cleanup_free char *param = path_join(root, HOST_FIRMWARE_PATH_PARAM);
    cleanup_free char *text = NULL;
    int custom = 0;
    if (read_file(param, 8192, &text, NULL, NULL) == 0) {
        str_strip(text);
        size_t n = strlen(text);
        while (n > 1 && text[n - 1] == '/')
            text[--n] = '\0';
        if (text[0] == '/' && strchr(text, '\n') == NULL) {
            strv_push(out, xstrdup(text));
            custom = 1;
        }
    }
    struct utsname u;
    const char *release = uname(&u) == 0 ? u.release : NULL;
    if (release != NULL)
        strv_push(out, xasprintf("/lib/firmware/updates/%s", release));
    strv_push(out, xstrdup("/lib/firmware/updates"));
    if (release != NULL)
        strv_push(out, xasprintf("/lib/firmware/%s", release));
    strv_push(out, xstrdup("/lib/firmware"));
    return custom;
}

/* The driver's GSP firmware, nvidia/<version>/gsp*.bin, found as the kernel
 * finds it: each file name in the first directory of its search order that
 * has it. Each goes to the same path in the container: a kernel that looks
 * firmware up in the root of the process opening the GPU (before Linux 5.7)
 * then finds it there as it would on the host. */
static void find_firmware(struct gctk_host *h)
{
    cleanup_strv struct strv dirs = {0}, taken = {0};
    cleanup_free char *param = path_join(h->root, HOST_FIRMWARE_PATH_PARAM);
    host_dep_file(h->deps, param); /* the kernel release is in the cache's key */
    host_firmware_dirs(h->root, &dirs);
    for (size_t i = 0; i < dirs.len; i++) {
        cleanup_free char *rel = xasprintf("%s/nvidia/%s", dirs.items[i], h->driver_version);
        cleanup_dir DIR *d = open_dir(h, rel);
        if (d == NULL)
            continue;
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (!str_has_prefix(de->d_name, "gsp") || !str_has_suffix(de->d_name, ".bin") ||
                strv_contains(&taken, de->d_name))
                continue;
            strv_push(&taken, xstrdup(de->d_name));
            cleanup_free char *p = xasprintf("%s/%s", rel, de->d_name);
            struct stat st;
            cleanup_free char *source = candidate_source(h, "firmware", p, S_IFREG, &st);
            if (source != NULL)
                add_file(h, GCTK_FILE_FIRMWARE, GCTK_CAP_ALL, p, source);
        }
    }
}

/* ---- Xorg modules ------------------------------------------------------------- */

/* The X server's modules of the driver, where NVIDIA's toolkit 1.18 looks for
 * them: beside libcuda (nvidia/xorg, xorg/modules), then the module
 * directories of the usual X servers; the first of each name wins. A
 * directory is looked into only when its module root exists. */
static void find_xorg_modules(struct gctk_host *h)
{
    static const char *const subdirs[] = {"drivers", "extensions", "updates/drivers",
                                          "updates/extensions"};
    cleanup_free char *glx = xasprintf("libglxserver_nvidia.so.%s", h->driver_version);
    const char *names[] = {"nvidia_drv.so", glx};
    bool found[2] = {false, false};
    cleanup_strv struct strv roots = {0};
    const char *libcuda = host_library_path(h, "libcuda.so");
    cleanup_free char *libdir =
        libcuda != NULL ? xstrndup(libcuda, (size_t)(base_name(libcuda) - libcuda - 1)) : NULL;
    if (libdir != NULL) {
        strv_push(&roots, xasprintf("%s/nvidia/xorg", libdir));
        strv_push(&roots, xasprintf("%s/xorg/modules", libdir));
    }
    static const char *const fixed[] = {"/usr/lib/xorg/modules", "/usr/lib64/xorg/modules",
                                        "/usr/X11R6/lib/modules", "/usr/X11R6/lib64/modules"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(fixed); i++)
        strv_push(&roots, xstrdup(fixed[i]));
    for (size_t r = 0; r < roots.len && !(found[0] && found[1]); r++) {
        cleanup_free char *real = NULL;
        struct stat st;
        if (resolve(h, roots.items[r], &real, &st, NULL) < 0 || !S_ISDIR(st.st_mode))
            continue;
        /* nvidia/xorg holds the modules themselves; the others by kind */
        bool flat = libdir != NULL && r == 0;
        for (size_t k = 0; k < (flat ? 1 : GCTK_ARRAY_LEN(subdirs)); k++) {
            cleanup_free char *dir =
                flat ? xstrdup(roots.items[r]) : xasprintf("%s/%s", roots.items[r], subdirs[k]);
            for (size_t n = 0; n < GCTK_ARRAY_LEN(names); n++) {
                if (found[n])
                    continue;
                cleanup_free char *p = xasprintf("%s/%s", dir, names[n]);
                cleanup_free char *source = candidate_source(h, "Xorg module", p, S_IFREG, &st);
                if (source == NULL)
                    continue;
                add_file(h, GCTK_FILE_MODULE, GCTK_CAP_GRAPHICS, p, source);
                found[n] = true;
            }
        }
    }
}

static void find_other_files(struct gctk_host *h)
{
    struct stat st;
    unsigned tag = host_deps_tag(h->deps, 0);
    /* each at its own path in the container, whatever its source: a host
     * may keep them as links into the driver's own directory */
    for (const struct cap_binary *c = cap_configs; c->name != NULL; c++) {
        host_deps_tag(h->deps, c->caps);
        cleanup_free char *source = candidate_source(h, "config file", c->name, S_IFREG, &st);
        if (source != NULL)
            add_file(h, GCTK_FILE_CONFIG, c->caps, c->name, source);
    }
    for (const struct cap_binary *c = cap_sockets; c->name != NULL; c++) {
        host_deps_tag(h->deps, c->caps);
        cleanup_free char *source = candidate_source(h, "socket", c->name, S_IFSOCK, &st);
        if (source == NULL)
            continue;
        /* /var/run is usually a link to /run: one socket, one mount */
        bool seen = false;
        for (size_t i = 0; i < h->nfiles && !seen; i++)
            seen = h->files[i].kind == GCTK_FILE_SOCKET &&
                   (strcmp(h->files[i].source, source) == 0 ||
                    strcmp(h->files[i].path + strlen("/var"), c->name) == 0);
        if (!seen)
            add_file(h, GCTK_FILE_SOCKET, c->caps, c->name, source);
    }
    host_deps_tag(h->deps, tag);
    find_firmware(h);
    tag = host_deps_tag(h->deps, GCTK_CAP_COMPUTE);
    cleanup_free char *mps = candidate_source(h, "MPS directory", "/tmp/nvidia-mps", S_IFDIR, &st);
    host_deps_tag(h->deps, tag);
    if (mps != NULL)
        add_file(h, GCTK_FILE_DIR, GCTK_CAP_COMPUTE, "/tmp/nvidia-mps", mps);
}

/* ---- device nodes ---------------------------------------------------------- */

static struct gctk_node *add_node(struct gctk_host *h, enum gctk_node_kind kind, unsigned caps,
                                  int gpu, const char *path, int want_major, int want_minor)
{
    cleanup_free char *full = path_join(h->root, path);
    struct stat st;
    host_dep_stat(h->deps, full);
    if (stat(full, &st) < 0) {
        if (kind == GCTK_NODE_GPU || strcmp(path, "/dev/nvidiactl") == 0)
            add_warning(h, xasprintf("device node `%s` is missing: create it with "
                                     "`nvidia-modprobe` or load the driver",
                                     full));
        else if (kind == GCTK_NODE_DRM)
            add_warning(h, xasprintf("DRM node `%s` is missing, though a by-path link names it: "
                                     "run `udevadm trigger` or reload nvidia-drm",
                                     full));
        return NULL;
    }
    if (!S_ISCHR(st.st_mode)) {
        add_warning(h, xasprintf("`%s` is not a character device: ignored", full));
        return NULL;
    }
    unsigned maj = major(st.st_rdev), min = minor(st.st_rdev);
    if ((want_major >= 0 && maj != (unsigned)want_major) ||
        (want_minor >= 0 && min != (unsigned)want_minor)) {
        cleanup_free char *want = want_major < 0   ? xasprintf("minor %d", want_minor)
                                  : want_minor < 0 ? xasprintf("major %d", want_major)
                                                   : xasprintf("%d:%d", want_major, want_minor);
        add_warning(h, xasprintf("`%s` is %u:%u, expected %s: ignored", full, maj, min, want));
        return NULL;
    }
    if (h->nnodes == h->nodes_cap) {
        h->nodes_cap = h->nodes_cap ? h->nodes_cap * 2 : 16;
        h->nodes = xrealloc(h->nodes, h->nodes_cap * sizeof(*h->nodes));
    }
    struct gctk_node *n = &h->nodes[h->nnodes++];
    *n = (struct gctk_node){
        .kind = kind, .caps = caps, .gpu = gpu, .path = xstrdup(path), .major = maj, .minor = min};
    return n;
}

void host_control_nodes(int uvm_major, struct host_node_spec out[HOST_CONTROL_NODES])
{
    const struct host_node_spec nodes[HOST_CONTROL_NODES] = {
        {"/dev/nvidiactl", 0, HOST_NVIDIA_MAJOR, 255, false, "nvidia-modprobe -c 0"},
        {"/dev/nvidia-uvm", GCTK_CAP_COMPUTE, uvm_major, 0, false, "nvidia-modprobe -u -c 0"},
        {"/dev/nvidia-uvm-tools", GCTK_CAP_COMPUTE, uvm_major, 1, false, "nvidia-modprobe -u -c 0"},
        /* only there when nvidia-modeset is loaded: missing is normal */
        {"/dev/nvidia-modeset", GCTK_CAP_DISPLAY, HOST_NVIDIA_MAJOR, 254, true,
         "nvidia-modprobe -m"},
    };
    memcpy(out, nodes, sizeof(nodes));
}

int host_char_major(const char *root, const char *name)
{
    cleanup_free char *path = path_join(root, "/proc/devices");
    cleanup_free char *text = NULL;
    if (read_file(path, 64 * 1024, &text, NULL, NULL) < 0)
        return -1;
    return host_parse_proc_devices(text, name);
}

static void find_nodes(struct gctk_host *h)
{
    /* nvidia-uvm's major is dynamic: the node's own is taken */
    struct host_node_spec control[HOST_CONTROL_NODES];
    host_control_nodes(-1, control);
    for (size_t i = 0; i < HOST_CONTROL_NODES; i++) {
        cleanup_free char *full = path_join(h->root, control[i].path);
        if (control[i].optional)
            host_dep_stat(h->deps, full);
        if (control[i].optional && access(full, F_OK) < 0)
            continue;
        add_node(h, GCTK_NODE_CONTROL, control[i].caps, -1, control[i].path, control[i].major,
                 control[i].minor);
    }
    for (size_t i = 0; i < h->ngpus; i++) {
        cleanup_free char *p = xasprintf("/dev/nvidia%d", h->gpus[i].minor);
        add_node(h, GCTK_NODE_GPU, 0, (int)i, p, HOST_NVIDIA_MAJOR, h->gpus[i].minor);
    }
}

int host_pci_address(const char *bus_id, char *out, size_t size)
{
    unsigned domain, bus, dev, fn;
    char tail;
    if (sscanf(bus_id, "%x:%x:%x.%x%c", &domain, &bus, &dev, &fn, &tail) != 4 || domain > 0xffff ||
        bus > 0xff || dev > 0x1f || fn > 7)
        return -1;
    snprintf(out, size, "%04x:%02x:%02x.%x", domain, bus, dev, fn);
    return 0;
}

/* The DRM nodes of each GPU: the card and render nodes that udev's
 * /dev/dri/by-path/pci-<address>-card|render links name by the GPU's PCI
 * address (the only tie between a DRM minor and a GPU that /dev keeps): one
 * readlink and one stat a node. A GPU without them (nvidia-drm not loaded,
 * no udev) has none: nothing said. */
void host_find_drm_nodes(gctk_host *h)
{
    static const char *const kinds[] = {"card", "render"};
    static const char *const names[] = {"card", "renderD"};
    if (h->drm_found)
        return;
    h->drm_found = true;
    for (size_t i = 0; i < h->ngpus; i++) {
        char pci[32];
        if (host_pci_address(h->gpus[i].bus_id, pci, sizeof(pci)) < 0)
            continue;
        for (size_t k = 0; k < GCTK_ARRAY_LEN(kinds); k++) {
            cleanup_free char *by_path = xasprintf(HOST_DRI "/by-path/pci-%s-%s", pci, kinds[k]);
            cleanup_free char *full = path_join(h->root, by_path);
            char text[PATH_MAX];
            ssize_t n = readlink(full, text, sizeof(text) - 1);
            if (n < 0) {
                if (errno != ENOENT)
                    add_warning(h, xasprintf("DRM link `%s` skipped: %s", full,
                                             errno == EINVAL ? "not a symlink" : strerror(errno)));
                continue;
            }
            text[n] = '\0';
            /* udev's text is "../card1"; an absolute one names the same */
            const char *name = str_has_prefix(text, "../")          ? text + 3
                               : str_has_prefix(text, HOST_DRI "/") ? text + strlen(HOST_DRI "/")
                                                                    : NULL;
            size_t prefix = strlen(names[k]);
            if (name == NULL || strncmp(name, names[k], prefix) != 0 || name[prefix] == '\0' ||
                strspn(name + prefix, "0123456789") != strlen(name + prefix)) {
                add_warning(h, xasprintf("DRM link `%s` skipped: it leads to `%s`, not to a %s "
                                         "node of " HOST_DRI,
                                         full, text, kinds[k]));
                continue;
            }
            cleanup_free char *node = xasprintf(HOST_DRI "/%s", name);
            struct gctk_node *added =
                add_node(h, GCTK_NODE_DRM, GCTK_CAP_GRAPHICS, (int)i, node, HOST_DRM_MAJOR, -1);
            if (added != NULL)
                added->by_path = steal_pointer(&by_path);
        }
    }
}

/* ---- IMEX channels -------------------------------------------------------------- */

static size_t list_ids(struct host_deps *deps, const char *dir, const char *prefix, int **out);

static int imex_major(struct gctk_host *h)
{
    if (h->imex_major == -2)
        h->imex_major = host_char_major(h->root, HOST_IMEX_DEVICES_NAME);
    return h->imex_major;
}

int host_imex_node(gctk_host *h, unsigned channel, const struct gctk_node **out, gctk_error **err)
{
    for (size_t i = 0; i < h->nnodes; i++)
        if (h->nodes[i].kind == GCTK_NODE_IMEX && h->nodes[i].minor == channel) {
            *out = &h->nodes[i];
            return 0;
        }
    int major = imex_major(h);
    cleanup_free char *path = xasprintf(HOST_IMEX_DIR "/channel%u", channel);
    cleanup_free char *full = path_join(h->root, path);
    if (major < 0)
        return gctk_fail(err, 0,
                         "IMEX channel %u: the loaded driver has no IMEX channels "
                         "(`%s/proc/devices` names no `" HOST_IMEX_DEVICES_NAME "`)",
                         channel, strcmp(h->root, "/") == 0 ? "" : h->root);
    struct stat st;
    if (stat(full, &st) < 0) {
        if (errno == ENOENT)
            return gctk_fail(err, 0,
                             "IMEX channel %u: device node `%s` is missing: create it with "
                             "`mknod -m 666 %s c %d %u`",
                             channel, full, full, major, channel);
        return gctk_fail(err, errno, "IMEX channel %u: `%s`", channel, full);
    }
    if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != (unsigned)major ||
        minor(st.st_rdev) != channel)
        return gctk_fail(err, 0,
                         "IMEX channel %u: `%s` is not the channel's device (%s %u:%u, "
                         "expected character device %d:%u): recreate it with `mknod -m 666 "
                         "%s c %d %u`",
                         channel, full, S_ISCHR(st.st_mode) ? "character device" : "not a device",
                         major(st.st_rdev), minor(st.st_rdev), major, channel, full, major,
                         channel);
    const struct gctk_node *n = add_node(h, GCTK_NODE_IMEX, 0, -1, path, major, (int)channel);
    if (n == NULL)
        return gctk_fail(err, 0, "IMEX channel %u: `%s` is unusable", channel, full);
    *out = n;
    return 0;
}

size_t host_imex_channels(gctk_host *h)
{
    cleanup_free char *dir = path_join(h->root, HOST_IMEX_DIR);
    cleanup_free int *ids = NULL;
    size_t n = list_ids(h->deps, dir, "channel", &ids), found = 0;
    for (size_t i = 0; i < n; i++) {
        const struct gctk_node *node = NULL;
        cleanup_error gctk_error *e = NULL;
        if (host_imex_node(h, (unsigned)ids[i], &node, &e) == 0)
            found++;
        else
            add_warning(h, xstrdup(e->msg));
    }
    return found;
}

/* ---- NVML, lazily ------------------------------------------------------------ */

bool host_loadable(const gctk_host *h)
{
    return h->arch == host_arch_native();
}

const char *host_library_path(const gctk_host *h, const char *prefix)
{
    for (size_t i = 0; i < h->nfiles; i++)
        if (h->files[i].kind == GCTK_FILE_LIB &&
            str_has_prefix(base_name(h->files[i].path), prefix))
            return h->files[i].path;
    return NULL;
}

struct nvml *host_nvml(gctk_host *h)
{
    if (h->nvml_tried)
        return h->nvml;
    h->nvml_tried = true;
    if (h->flags & GCTK_HOST_NO_NVML)
        return NULL;
    if (!host_loadable(h)) {
        add_warning(h, xasprintf("NVML not loaded: the driver under `%s` is %s's and gctk is "
                                 "built for %s: memory, brand and compute capability are "
                                 "unknown",
                                 h->root, h->arch->name, host_arch_native()->name));
        return NULL;
    }
    const char *lib = host_library_path(h, "libnvidia-ml.so");
    if (lib == NULL) {
        add_warning(h, xstrdup("NVML not found (libnvidia-ml.so): memory, brand and compute "
                               "capability are unknown"));
        return NULL;
    }
    cleanup_free char *full = path_join(h->root, lib);
    cleanup_error gctk_error *e = NULL;
    if (nvml_open(full, &h->nvml, &e) < 0) {
        add_warning(h, xasprintf("%s: memory, brand and compute capability are unknown", e->msg));
        return NULL;
    }
    return h->nvml;
}

static void enrich_gpu(gctk_host *h, struct gctk_gpu *g)
{
    struct nvml *n = host_nvml(h);
    if (n == NULL)
        return;
    struct nvml_gpu_info info;
    cleanup_error gctk_error *e = NULL;
    if (nvml_gpu_info(n, g->bus_id, &info, &e) < 0) {
        add_warning(h, xstrdup(e->msg));
        return;
    }
    if (info.brand[0] != '\0')
        g->brand = xstrdup(info.brand);
    if (info.arch[0] != '\0')
        g->arch = xstrdup(info.arch);
    g->memory_mib = info.memory_mib;
    enum gctk_mig_mode mode;
    gctk_error_free(e);
    e = NULL;
    if (nvml_mig_mode(n, g->bus_id, &mode, &e) == 0)
        g->mig_mode = mode;
    if (strchr(g->uuid, '?') != NULL && info.uuid[0] != '\0') {
        free(g->uuid);
        g->uuid = xstrdup(info.uuid);
    }
}

/* ---- MIG ---------------------------------------------------------------------- */

const char *gctk_mig_mode_name(enum gctk_mig_mode m)
{
    switch (m) {
    case GCTK_MIG_UNSUPPORTED:
        return "unsupported";
    case GCTK_MIG_DISABLED:
        return "disabled";
    case GCTK_MIG_ENABLED:
        return "enabled";
    default:
        return "unknown";
    }
}

void host_mig_clear(struct gctk_mig *m)
{
    free(m->uuid);
    free(m->profile);
    free(m->gi_access);
    free(m->ci_access);
}

int host_parse_cap_access(const char *text, int *minor, gctk_error **err)
{
    const char *p = strstr(text, "DeviceFileMinor:");
    /* the key must start a line */
    while (p != NULL && p != text && p[-1] != '\n')
        p = strstr(p + 1, "DeviceFileMinor:");
    if (p == NULL)
        return gctk_fail(err, 0, "no `DeviceFileMinor:` line");
    p += strlen("DeviceFileMinor:");
    char *end = NULL;
    errno = 0;
    long v = strtol(p, &end, 10);
    while (end != NULL && (*end == ' ' || *end == '\t' || *end == '\r'))
        end++;
    if (errno != 0 || end == p || (*end != '\n' && *end != '\0') || v < 0 || v > (1 << 20))
        return gctk_fail(err, 0, "bad `DeviceFileMinor:` value");
    *minor = (int)v;
    return 0;
}

int host_mig_minors_lookup(const char *text, const char *cap)
{
    size_t n = strlen(cap);
    for (const char *line = text; line != NULL && *line != '\0';) {
        const char *nl = strchr(line, '\n');
        if (strncmp(line, cap, n) == 0 && line[n] == ' ') {
            char *end = NULL;
            errno = 0;
            long v = strtol(line + n + 1, &end, 10);
            if (errno == 0 && end != line + n + 1 && (*end == '\n' || *end == '\0') && v >= 0 &&
                v <= (1 << 20))
                return (int)v;
            return -1;
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
    return -1;
}

char *host_mig_profile_of(const char *name)
{
    const char *p = strstr(name, "MIG ");
    if (p == NULL || p[4] == '\0')
        return NULL;
    return xstrdup(p + 4);
}

int host_parse_proc_devices(const char *text, const char *name)
{
    /* "Character devices:\n195 nvidia-frontend\n511 nvidia-caps\n\nBlock devices:\n..." */
    const char *chr = strstr(text, "Character devices:");
    if (chr == NULL)
        return -1;
    const char *blk = strstr(chr, "Block devices:");
    size_t n = strlen(name);
    for (const char *line = strchr(chr, '\n'); line != NULL && (blk == NULL || line < blk);
         line = strchr(line, '\n')) {
        line++;
        unsigned major;
        int used = 0;
        if (sscanf(line, " %u %n", &major, &used) == 1 && used > 0 &&
            strncmp(line + used, name, n) == 0 &&
            (line[used + n] == '\n' || line[used + n] == '\0'))
            return (int)major;
    }
    return -1;
}

/* The minor of a capability: its access file's DeviceFileMinor, else the
 * driver's mig-minors table; -1 (and a warning) when neither tells. */
/* The minor of a capability: its access file says it ("DeviceFileMinor");
 * /proc/driver/nvidia-caps/mig-minors is the fallback, read at most once and
 * only when an access file does not say (a large procfs file: reading it on
 * every container start cost milliseconds on real MIG-capable GPUs). */
static int cap_minor(struct gctk_host *h, const char *rel, const char *minors_key,
                     char **minors_text)
{
    cleanup_free char *full = path_join(h->root, rel);
    cleanup_free char *text = NULL;
    cleanup_error gctk_error *e = NULL;
    int minor = -1;
    host_dep_file(h->deps, full);
    if (read_file(full, 4096, &text, NULL, &e) == 0 && host_parse_cap_access(text, &minor, &e) == 0)
        return minor;
    if (*minors_text == NULL) {
        cleanup_free char *minors_path = path_join(h->root, HOST_MIG_MINORS);
        cleanup_error gctk_error *ignored = NULL;
        host_dep_file(h->deps, minors_path);
        if (read_file(minors_path, 4u << 20, minors_text, NULL, &ignored) < 0)
            *minors_text = xstrdup("");
    }
    if ((minor = host_mig_minors_lookup(*minors_text, minors_key)) >= 0)
        return minor;
    add_warning(h, xasprintf("MIG capability `%s`: %s", full, e != NULL ? e->msg : "no minor"));
    return -1;
}

static int mig_cmp(const void *a, const void *b)
{
    const struct gctk_mig *x = a, *y = b;
    if (x->gpu != y->gpu)
        return x->gpu - y->gpu;
    if (x->index != y->index)
        return x->index - y->index;
    return x->gi != y->gi ? x->gi - y->gi : x->ci - y->ci;
}

static int id_cmp(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* The numeric suffixes of the entries "<prefix><N>" of a directory, sorted. */
static size_t list_ids(struct host_deps *deps, const char *dir, const char *prefix, int **out)
{
    *out = NULL;
    host_dep_listing(deps, dir);
    cleanup_dir DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    size_t n = 0, cap = 0;
    size_t plen = strlen(prefix);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *s = de->d_name + plen;
        if (strncmp(de->d_name, prefix, plen) != 0 || *s < '0' || *s > '9' ||
            strspn(s, "0123456789") != strlen(s) || strlen(s) > 6)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            *out = xrealloc(*out, cap * sizeof(int));
        }
        (*out)[n++] = atoi(s);
    }
    if (n > 0)
        qsort(*out, n, sizeof(int), id_cmp);
    return n;
}

static struct gctk_mig *push_mig(struct gctk_host *h, size_t *cap)
{
    if (h->nmigs == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        h->migs = xrealloc(h->migs, *cap * sizeof(*h->migs));
    }
    struct gctk_mig *m = &h->migs[h->nmigs++];
    *m = (struct gctk_mig){.memory_mib = -1, .gi_minor = -1, .ci_minor = -1};
    return m;
}

/* The MIG devices as /proc/driver/nvidia/capabilities shows them: every
 * gpu<minor>/mig/gi<G>/ci<C>/access. Without NVML their index is their
 * place in (gi, ci) order, which is the order NVML gives on the drivers
 * seen so far. */
static void find_migs_in_proc(struct gctk_host *h, size_t *cap)
{
    h->mig_config_minor = h->mig_monitor_minor = -1;
    cleanup_free char *caps_dir = path_join(h->root, HOST_PROC_CAPS);
    struct stat st;
    host_dep_stat(h->deps, caps_dir);
    if (stat(caps_dir, &st) < 0)
        return;                       /* a driver without MIG support: the usual case */
    cleanup_free char *minors = NULL; /* mig-minors, read only if needed */
    cleanup_free char *config = path_join(h->root, HOST_MIG_CONFIG);
    cleanup_free char *monitor = path_join(h->root, HOST_MIG_MONITOR);
    host_dep_stat(h->deps, config);
    host_dep_stat(h->deps, monitor);
    if (access(config, F_OK) == 0)
        h->mig_config_minor = cap_minor(h, HOST_MIG_CONFIG, "config", &minors);
    if (access(monitor, F_OK) == 0)
        h->mig_monitor_minor = cap_minor(h, HOST_MIG_MONITOR, "monitor", &minors);
    for (size_t i = 0; i < h->ngpus; i++) {
        struct gctk_gpu *g = &h->gpus[i];
        cleanup_free char *mig_dir = xasprintf("%s/gpu%d/mig", caps_dir, g->minor);
        cleanup_free int *gis = NULL;
        size_t ngi = list_ids(h->deps, mig_dir, "gi", &gis);
        if (ngi > 0)
            g->mig_mode = GCTK_MIG_ENABLED;
        int index = 0;
        for (size_t k = 0; k < ngi; k++) {
            cleanup_free char *gi_dir = xasprintf("%s/gi%d", mig_dir, gis[k]);
            cleanup_free char *gi_rel =
                xasprintf(HOST_PROC_CAPS "/gpu%d/mig/gi%d/access", g->minor, gis[k]);
            cleanup_free char *gi_key = xasprintf("gpu%d/gi%d/access", g->minor, gis[k]);
            cleanup_free int *cis = NULL;
            size_t nci = list_ids(h->deps, gi_dir, "ci", &cis);
            int gi_minor = nci > 0 ? cap_minor(h, gi_rel, gi_key, &minors) : -1;
            for (size_t c = 0; c < nci; c++) {
                cleanup_free char *ci_rel = xasprintf(HOST_PROC_CAPS "/gpu%d/mig/gi%d/ci%d/access",
                                                      g->minor, gis[k], cis[c]);
                cleanup_free char *ci_full = path_join(h->root, ci_rel);
                host_dep_stat(h->deps, ci_full);
                if (access(ci_full, F_OK) < 0)
                    continue;
                cleanup_free char *ci_key =
                    xasprintf("gpu%d/gi%d/ci%d/access", g->minor, gis[k], cis[c]);
                struct gctk_mig *m = push_mig(h, cap);
                m->gpu = (int)i;
                m->index = index++;
                m->gi = gis[k];
                m->ci = cis[c];
                m->gi_access = xstrdup(gi_rel);
                m->ci_access = steal_pointer(&ci_rel);
                m->gi_minor = gi_minor;
                m->ci_minor = cap_minor(h, m->ci_access, ci_key, &minors);
            }
        }
    }
}

/* NVML knows what /proc does not: the UUIDs, the profiles and nvidia-smi's
 * order. Devices that NVML lists and /proc lacks are kept (without access
 * files: selecting one is an error that says so). */
static void merge_migs_from_nvml(struct gctk_host *h, size_t *cap)
{
    struct nvml *n = host_nvml(h);
    if (n == NULL)
        return;
    for (size_t i = 0; i < h->ngpus; i++) {
        struct gctk_gpu *g = &h->gpus[i];
        cleanup_error gctk_error *e = NULL;
        enum gctk_mig_mode mode;
        if (nvml_mig_mode(n, g->bus_id, &mode, &e) < 0) {
            add_warning(h, xstrdup(e->msg));
            continue;
        }
        g->mig_mode = mode;
        if (mode != GCTK_MIG_ENABLED)
            continue;
        cleanup_free struct nvml_mig_info *list = NULL;
        size_t count = 0;
        if (nvml_mig_devices(n, g->bus_id, &list, &count, &e) < 0) {
            add_warning(h, xstrdup(e->msg));
            continue;
        }
        /* the /proc order of this GPU's devices goes after NVML's indexes */
        for (size_t k = 0; k < h->nmigs; k++)
            if (h->migs[k].gpu == (int)i && h->migs[k].uuid == NULL)
                h->migs[k].index += 1 << 16;
        for (size_t j = 0; j < count; j++) {
            struct gctk_mig *m = NULL;
            for (size_t k = 0; k < h->nmigs && m == NULL; k++)
                if (h->migs[k].gpu == (int)i && h->migs[k].gi == list[j].gi &&
                    h->migs[k].ci == list[j].ci)
                    m = &h->migs[k];
            if (m == NULL) {
                m = push_mig(h, cap);
                m->gpu = (int)i;
                m->gi = list[j].gi;
                m->ci = list[j].ci;
            }
            m->index = list[j].index;
            free(m->uuid);
            m->uuid = list[j].uuid[0] != '\0' ? xstrdup(list[j].uuid) : NULL;
            free(m->profile);
            m->profile = host_mig_profile_of(list[j].name);
            m->memory_mib = list[j].memory_mib;
        }
    }
    qsort(h->migs, h->nmigs, sizeof(*h->migs), mig_cmp);
    /* renumber what only /proc showed after NVML's devices */
    for (size_t k = 0; k < h->nmigs; k++)
        if (h->migs[k].index >= 1 << 16)
            h->migs[k].index =
                k > 0 && h->migs[k - 1].gpu == h->migs[k].gpu ? h->migs[k - 1].index + 1 : 0;
}

static void find_migs(struct gctk_host *h)
{
    size_t cap = 0;
    find_migs_in_proc(h, &cap);
    /* NVML is loaded only on a host that has MIG devices: every other host
     * keeps its discovery free of it */
    if (h->nmigs > 0 && !(h->flags & GCTK_HOST_NO_NVML))
        merge_migs_from_nvml(h, &cap);
}

/* The nvidia-cap nodes of every MIG capability /proc shows. */
static void find_mig_nodes(struct gctk_host *h)
{
    cleanup_free char *devices_path = path_join(h->root, "/proc/devices");
    cleanup_free char *devices = NULL;
    cleanup_error gctk_error *e = NULL;
    host_dep_file(h->deps, devices_path);
    /* the major is dynamic; a sim root may lack /proc/devices: take the node's */
    int major = read_file(devices_path, 64 * 1024, &devices, NULL, &e) == 0
                    ? host_parse_proc_devices(devices, "nvidia-caps")
                    : -1;
    int want[2];
    want[0] = h->mig_config_minor;
    want[1] = h->mig_monitor_minor;
    for (size_t i = 0; i < 2 + 2 * h->nmigs; i++) {
        int minor = i < 2              ? want[i]
                    : (i - 2) % 2 == 0 ? h->migs[(i - 2) / 2].gi_minor
                                       : h->migs[(i - 2) / 2].ci_minor;
        int gpu = i < 2 ? -1 : h->migs[(i - 2) / 2].gpu;
        if (minor < 0)
            continue;
        bool seen = false;
        for (size_t k = 0; k < h->nnodes && !seen; k++)
            seen = h->nodes[k].kind == GCTK_NODE_CAP && h->nodes[k].minor == (unsigned)minor;
        if (seen)
            continue;
        cleanup_free char *p = xasprintf("/dev/nvidia-caps/nvidia-cap%d", minor);
        add_node(h, GCTK_NODE_CAP, 0, gpu, p, major, minor);
    }
}

size_t gctk_host_mig_count(const gctk_host *h)
{
    return h->nmigs;
}

const struct gctk_mig *gctk_host_mig(const gctk_host *h, size_t i)
{
    return i < h->nmigs ? &h->migs[i] : NULL;
}

/* ---- the public face ------------------------------------------------------ */

int gctk_host_open(const char *root, unsigned flags, gctk_host **out, gctk_error **err)
{
    if (root == NULL || root[0] == '\0')
        root = "/";
    struct stat st;
    if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode))
        return gctk_fail(err, errno ? errno : ENOTDIR, "driver root `%s`", root);
    gctk_host *h = xcalloc(1, sizeof(*h));
    h->root = xstrdup(root);
    h->flags = flags;
    if (host_discover(h, err) < 0) {
        gctk_host_free(h);
        return -1;
    }
    *out = h;
    return 0;
}

int host_discover(gctk_host *h, gctk_error **err)
{
    h->imex_major = -2; /* read when a container asks for IMEX channels */
    cleanup_free char *version = path_join(h->root, HOST_PROC_VERSION);
    host_dep_file(h->deps, version);
    if (host_read_driver(h->root, &h->driver_version, &h->arch, err) < 0 || read_gpus(h, err) < 0)
        return -1;
    find_libraries(h);
    find_binaries(h);
    find_other_files(h);
    /* beside libcuda among others: compute's dependencies are always checked */
    unsigned tag = host_deps_tag(h->deps, GCTK_CAP_GRAPHICS);
    find_xorg_modules(h);
    host_deps_tag(h->deps, tag);
    find_nodes(h);
    find_migs(h);
    find_mig_nodes(h);
    /* a UUID the kernel masks ("GPU-????...") must be known for selection */
    for (size_t i = 0; i < h->ngpus; i++)
        if (strchr(h->gpus[i].uuid, '?') != NULL)
            enrich_gpu(h, &h->gpus[i]);
    return 0;
}

void gctk_host_free(gctk_host *h)
{
    if (h == NULL)
        return;
    nvml_close(h->nvml);
    for (size_t i = 0; i < h->ngpus; i++)
        host_gpu_clear(&h->gpus[i]);
    free(h->gpus);
    free(h->enriched);
    for (size_t i = 0; i < h->nmigs; i++)
        host_mig_clear(&h->migs[i]);
    free(h->migs);
    for (size_t i = 0; i < h->nfiles; i++) {
        free(h->files[i].path);
        free(h->files[i].source);
        free(h->files[i].soname);
        free(h->files[i].dev);
    }
    free(h->files);
    for (size_t i = 0; i < h->nnodes; i++) {
        free(h->nodes[i].path);
        free(h->nodes[i].by_path);
    }
    free(h->nodes);
    strv_clear(&h->warnings);
    strv_clear(&h->foreign_libs);
    strv_clear(&h->real_dirs);
    strv_clear(&h->missing_dirs);
    free(h->driver_version);
    free(h->cuda_version);
    free(h->root);
    free(h->cache_status);
    free(h->cache_dir);
    host_deps_free(h->deps);
    free(h);
}

const char *gctk_host_root(const gctk_host *h)
{
    return h->root;
}

const char *gctk_host_driver_version(const gctk_host *h)
{
    return h->driver_version;
}

const char *gctk_host_arch(const gctk_host *h)
{
    return h->arch->name;
}

const char *gctk_host_cuda_version_nvml(gctk_host *h)
{
    if (h->cuda_tried)
        return h->cuda_version;
    h->cuda_tried = true;
    char buf[32];
    cleanup_error gctk_error *e = NULL;
    /* NVML when it is already loaded; else libcuda's cuDriverGetVersion, which
     * opens no device (fast without persistence mode); else NVML */
    if (h->nvml != NULL && nvml_cuda_version(h->nvml, buf, sizeof(buf), &e) == 0) {
        h->cuda_version = xstrdup(buf);
        return h->cuda_version;
    }
    const char *cuda = host_library_path(h, "libcuda.so");
    if (cuda != NULL && !(h->flags & GCTK_HOST_NO_NVML) && host_loadable(h)) {
        cleanup_free char *full = path_join(h->root, cuda);
        cleanup_free char *key = NULL;
        /* the answer kept for this very file, without loading it (cache.c) */
        h->cuda_version = host_cache_cuda_lookup(h->cache_dir, full, &key);
        if (h->cuda_version != NULL)
            return h->cuda_version;
        gctk_error_free(e);
        e = NULL;
        if (libcuda_driver_version(full, buf, sizeof(buf), &e) == 0) {
            h->cuda_version = xstrdup(buf);
            host_cache_cuda_store(h->cache_dir, full, key, buf);
            return h->cuda_version;
        }
        add_warning(h, xstrdup(e->msg));
    }
    struct nvml *n = host_nvml(h);
    gctk_error_free(e);
    e = NULL;
    if (n != NULL && nvml_cuda_version(n, buf, sizeof(buf), &e) == 0)
        h->cuda_version = xstrdup(buf);
    return h->cuda_version;
}

size_t gctk_host_gpu_count(const gctk_host *h)
{
    return h->ngpus;
}

const struct gctk_gpu *gctk_host_gpu_nvml(gctk_host *h, size_t index)
{
    if (index >= h->ngpus)
        return NULL;
    struct gctk_gpu *g = &h->gpus[index];
    if (!h->enriched[index]) {
        h->enriched[index] = true;
        if (g->brand == NULL && g->arch == NULL && g->memory_mib < 0)
            enrich_gpu(h, g);
    }
    return g;
}

const struct gctk_gpu *gctk_host_gpu(const gctk_host *h, size_t index)
{
    return index < h->ngpus ? &h->gpus[index] : NULL;
}

const char *gctk_host_warning(const gctk_host *h, size_t i)
{
    return i < h->warnings.len ? h->warnings.items[i] : NULL;
}

size_t gctk_host_file_count(const gctk_host *h)
{
    return h->nfiles;
}

const struct gctk_file *gctk_host_file(const gctk_host *h, size_t i)
{
    return i < h->nfiles ? &h->files[i] : NULL;
}

size_t gctk_host_node_count(const gctk_host *h)
{
    return h->nnodes;
}

const struct gctk_node *gctk_host_node(const gctk_host *h, size_t i)
{
    return i < h->nnodes ? &h->nodes[i] : NULL;
}
