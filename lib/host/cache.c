/* The discovery cache: a host discovered once, used again while nothing it
 * was made of has changed.
 *
 * Threat model: the hook runs as root on the host. The cache is read from a
 * directory that only the caller's uid can write (created 0700, opened with
 * O_NOFOLLOW, owner and mode checked on every use), from a regular file of
 * that uid with no group or other bits, at most CACHE_MAX bytes, through the
 * one JSON parser. Anything else (a link, another owner, mode 0666, a file
 * too large, garbled or of another format) is not used: discovery runs and
 * replaces it through the one atomic writer. A cache is never an error.
 *
 * Never stale: the entry holds the key (format, gctk's version, root, flags,
 * PATH, the settings' fingerprint) and every dependency discovery recorded
 * before reading it (host.h): the identity (device, inode, mode, size,
 * mtime, ctime, rdev) of each file and link it looked at, absence included;
 * the hash of each /proc and /sys file it read and of the names in each directory it
 * listed; /sys/module/nvidia, whose inode is new at every module load. The
 * entry is used only when all of them are found again as recorded (those of
 * the capabilities the caller uses, when it says: host_deps_tag()). A
 * discovery that asked NVML (MIG devices, masked UUIDs: live answers, not
 * files) is not stored, nor one that read a file changed in the last
 * CACHE_RACY_S seconds (a write in the same clock tick as the read would
 * leave its times unchanged). */
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>

#include "arch.h"
#include "caps.h"
#include "host.h"
#include "json.h"
#include "version.h"

#define CACHE_FORMAT 3
#define CACHE_MAX (8u << 20)
#define CACHE_RACY_S 2
#define CACHE_ENTRIES 16 /* keys kept at once (roots, flags, PATHs, settings) */

enum dep_kind {
    DEP_LSTAT = 'l',   /* identity, links not followed */
    DEP_STAT = 's',    /* identity, links followed */
    DEP_PROC = 'p',    /* a /proc object (stat): exists, type and inode */
    DEP_PROC_L = 'q',  /* the same, links not followed */
    DEP_CONTENT = 'c', /* hash of a /proc file's content */
    DEP_LISTING = 'd', /* hash of the names in a directory */
    DEP_AGAIN = 'r',   /* a path recorded before, for other capabilities: never written */
};

/* A dependency: its kind and path, and what was found there (errno, then
 * the kind's values), written as a text that is compared, never parsed. */
#define DEP_VALUES 9
struct dep {
    char kind;
    unsigned caps; /* the capabilities it serves; 0: every one */
    char *path;
    long long v[DEP_VALUES];
};

struct host_deps {
    const char *root; /* the host's; "/" or a directory */
    struct dep *items;
    size_t len, cap;
    bool racy; /* a file read was changed in the last CACHE_RACY_S seconds */
    time_t now;
    unsigned caps;          /* the tag of what is recorded now (host_deps_tag) */
    unsigned *warning_caps; /* the tag of each warning of the host, by index */
    size_t nwarnings;
};

/* ---- recording ---------------------------------------------------------------- */

static bool under_proc(const struct host_deps *d, const char *full)
{
    size_t n = strcmp(d->root, "/") == 0 ? 0 : strlen(d->root);
    return strncmp(full, d->root, n) == 0 &&
           (str_has_prefix(full + n, "/proc/") || str_has_prefix(full + n, "/sys/"));
}

static struct dep *push(struct host_deps *d, char kind, const char *full)
{
    if (d->len == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 256;
        d->items = xrealloc(d->items, d->cap * sizeof(*d->items));
    }
    struct dep *p = &d->items[d->len++];
    *p = (struct dep){.kind = kind, .caps = d->caps, .path = xstrdup(full)};
    return p;
}

/* The values compared for an identity: errno, then what stat gives. */
static void identity(char kind, int rc, const struct stat *st, long long v[9])
{
    memset(v, 0, 9 * sizeof(*v));
    if (rc < 0) {
        v[0] = errno != 0 ? errno : EIO;
        return;
    }
    v[1] = (long long)st->st_ino;
    v[2] = (long long)(st->st_mode & S_IFMT);
    v[3] = (long long)st->st_dev;
    /* procfs inode times are the inode's, not the file's; a directory's
     * change with its entries, which are recorded on their own (and its
     * listing when discovery reads it): /tmp and /run change all the time */
    if (kind == DEP_PROC || kind == DEP_PROC_L || S_ISDIR(st->st_mode))
        return;
    v[2] = (long long)st->st_mode;
    v[4] = (long long)st->st_size;
    v[5] = (long long)st->st_mtim.tv_sec * 1000000000ll + st->st_mtim.tv_nsec;
    v[6] = (long long)st->st_ctim.tv_sec * 1000000000ll + st->st_ctim.tv_nsec;
    v[7] = (long long)st->st_rdev;
}

static void note_racy(struct host_deps *d, const struct stat *st)
{
    if (!S_ISDIR(st->st_mode) &&
        (st->st_mtim.tv_sec > d->now - CACHE_RACY_S || st->st_ctim.tv_sec > d->now - CACHE_RACY_S))
        d->racy = true;
}

void host_dep_lstat(struct host_deps *d, const char *full, int rc, const struct stat *st)
{
    if (d == NULL)
        return;
    int saved = errno;
    char kind = under_proc(d, full) ? DEP_PROC_L : DEP_LSTAT;
    errno = saved;
    identity(kind, rc, st, push(d, kind, full)->v);
    if (rc == 0 && kind == DEP_LSTAT)
        note_racy(d, st);
    errno = saved;
}

void host_dep_again(struct host_deps *d, const char *full)
{
    if (d != NULL)
        push(d, DEP_AGAIN, full);
}

void host_dep_stat(struct host_deps *d, const char *full)
{
    if (d == NULL)
        return;
    int saved = errno;
    struct stat st;
    char kind = under_proc(d, full) ? DEP_PROC : DEP_STAT;
    errno = 0;
    int rc = stat(full, &st);
    identity(kind, rc, &st, push(d, kind, full)->v);
    if (rc == 0 && kind == DEP_STAT)
        note_racy(d, &st);
    errno = saved;
}

/* The hash of a /proc file's content (v[1]) or the errno of its read (v[0]). */
static void content_of(const char *full, long long v[9])
{
    memset(v, 0, 9 * sizeof(*v));
    cleanup_free char *text = NULL;
    size_t len = 0;
    cleanup_error gctk_error *e = NULL;
    if (read_file(full, 4u << 20, &text, &len, &e) < 0) {
        v[0] = e->code != 0 ? e->code : EIO;
        return;
    }
    v[1] = (long long)hash64(text, len, HASH64_INIT);
    v[2] = (long long)len;
}

void host_dep_file(struct host_deps *d, const char *full)
{
    if (d == NULL)
        return;
    if (!under_proc(d, full)) {
        host_dep_stat(d, full);
        return;
    }
    int saved = errno;
    content_of(full, push(d, DEP_CONTENT, full)->v);
    errno = saved;
}

/* The names in a directory, in any order: the sum of their hashes and their
 * count (v[1], v[2]); errno of the open (v[0]). A directory's mtime would do
 * on a disk, not in /proc. */
static void listing_of(const char *full, long long v[9])
{
    memset(v, 0, 9 * sizeof(*v));
    cleanup_dir DIR *dir = opendir(full);
    if (dir == NULL) {
        v[0] = errno != 0 ? errno : EIO;
        return;
    }
    unsigned long long sum = 0, n = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        sum += hash64(de->d_name, strlen(de->d_name) + 1, HASH64_INIT);
        n++;
    }
    v[1] = (long long)sum;
    v[2] = (long long)n;
}

void host_dep_listing(struct host_deps *d, const char *full)
{
    if (d == NULL)
        return;
    int saved = errno;
    struct dep *p = push(d, DEP_LISTING, full);
    p->caps = 0;
    listing_of(full, p->v);
    errno = saved;
}

/* Reading a GPU's information file reads the GPU's PCI configuration space,
 * which in a virtual machine traps to the hypervisor at every read: a sixth
 * of a millisecond a GPU on an H200 VM, at every start. What it says (UUID,
 * bus, minor, model) is fixed while the driver holds the device, from its
 * probe to its removal. So where the host's sysfs has it, the dependency is
 * the device's driver binding: /sys/bus/pci/devices/BUS/driver, a link that
 * sysfs makes at every bind (an unbind and bind, a hot-plug, a module load
 * all make a new one), with an inode number that is not reused before the
 * next boot. Elsewhere (a simulated host, a driver root without sysfs): the
 * file's content, as any /proc file. */
void host_dep_gpu_information(struct host_deps *d, const char *bus, const char *info)
{
    if (d == NULL)
        return;
    int saved = errno;
    cleanup_free char *rel = xasprintf("/sys/bus/pci/devices/%s/driver", bus);
    cleanup_free char *link = path_join(d->root, rel);
    struct stat st;
    int rc = strchr(bus, '/') == NULL ? lstat(link, &st) : -1;
    errno = saved;
    if (rc == 0 && S_ISLNK(st.st_mode))
        host_dep_lstat(d, link, rc, &st);
    else
        host_dep_file(d, info);
}

unsigned host_deps_tag(struct host_deps *d, unsigned caps)
{
    if (d == NULL)
        return 0;
    unsigned was = d->caps;
    d->caps = caps;
    return was;
}

void host_dep_warning(struct host_deps *d, size_t index)
{
    if (d == NULL)
        return;
    if (index >= d->nwarnings) {
        d->warning_caps = xrealloc(d->warning_caps, (index + 1) * sizeof(*d->warning_caps));
        memset(d->warning_caps + d->nwarnings, 0, (index + 1 - d->nwarnings) * sizeof(unsigned));
        d->nwarnings = index + 1;
    }
    d->warning_caps[index] = d->caps;
}

void host_deps_free(struct host_deps *d)
{
    if (d == NULL)
        return;
    free(d->warning_caps);
    for (size_t i = 0; i < d->len; i++)
        free(d->items[i].path);
    free(d->items);
    free(d);
}

/* "0 1a2b 81a4 ...": the values as the entry keeps them (by hand: printf's
 * machinery was a tenth of a cached discovery) */
static void dep_text(const long long v[DEP_VALUES], char *buf, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    for (size_t k = 0; k < DEP_VALUES; k++) {
        char digits[16];
        size_t nd = 0;
        unsigned long long x = (unsigned long long)v[k];
        do
            digits[nd++] = hex[x & 0xf];
        while ((x >>= 4) != 0);
        if (n + nd + 2 > size)
            break;
        if (k > 0)
            buf[n++] = ' ';
        while (nd > 0)
            buf[n++] = digits[--nd];
    }
    buf[n] = '\0';
}
#define DEP_TEXT_MAX (DEP_VALUES * 17 + 1)

/* Whether the dependency kind+path is still found as text says. */
static bool dep_holds(char kind, const char *path, const char *text)
{
    long long now[DEP_VALUES];
    struct stat st;
    errno = 0;
    switch (kind) {
    case DEP_LSTAT:
    case DEP_PROC_L:
        identity(kind, lstat(path, &st), &st, now);
        break;
    case DEP_STAT:
    case DEP_PROC:
        identity(kind, stat(path, &st), &st, now);
        break;
    case DEP_CONTENT:
        content_of(path, now);
        break;
    case DEP_LISTING:
        listing_of(path, now);
        break;
    default:
        return false;
    }
    char found[DEP_TEXT_MAX];
    dep_text(now, found, sizeof(found));
    return strcmp(found, text) == 0;
}

/* ---- the cache's directory and file ------------------------------------------- */

/* The cache directory, created 0700 when missing; -1 (and why) when it is
 * not a directory of ours that nobody else can write. */
static int open_dir(const char *path, char **why)
{
    int fd = open_private_dir_at(AT_FDCWD, path);
    if (fd < 0 && errno == EACCES)
        *why = xasprintf("`%s` is not a directory of uid %u with mode 0700", path,
                         (unsigned)geteuid());
    else if (fd < 0)
        *why = xasprintf("create or open `%s`: %s", path, strerror(errno));
    return fd;
}

/* The entry's text; NULL (and why) when there is none we may trust. */
static char *read_entry(int dirfd, const char *name, size_t *len, char **why)
{
    cleanup_fd int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        *why = xstrdup(errno == ENOENT ? "no entry yet" : strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !stat_private(&st) ||
        st.st_size > (off_t)CACHE_MAX) {
        *why = xasprintf("`%s` is not a regular file of uid %u, mode 0600, under %u bytes", name,
                         (unsigned)geteuid(), CACHE_MAX);
        return NULL;
    }
    char *text = NULL;
    if (read_fd(fd, CACHE_MAX, &text, len, NULL) < 0) {
        *why = xasprintf("read `%s`", name);
        return NULL;
    }
    return text;
}

/* ---- the entry: key, dependencies, host ------------------------------------------ */

static json_t *str_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

static json_t *key_json(const gctk_host *h, const struct gctk_host_cache *c)
{
    json_t *k = json_object();
    json_object_set_new(k, "format", json_integer(CACHE_FORMAT));
    json_object_set_new(k, "gctk", json_string(GCTK_VERSION));
    json_object_set_new(k, "root", json_string(h->root));
    json_object_set_new(k, "flags", json_integer(h->flags));
    json_object_set_new(k, "path", str_or_null(getenv("PATH")));
    json_object_set_new(k, "config", json_sprintf("%016llx", c->config));
    struct utsname u; /* the firmware search path names the kernel release */
    json_object_set_new(k, "kernel", json_string(uname(&u) == 0 ? u.release : ""));
    return k;
}

static int dep_cmp(const void *a, const void *b)
{
    const struct dep *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    if (c != 0)
        return c;
    if (x->kind != y->kind)
        return x->kind == DEP_LSTAT ? -1 : y->kind == DEP_LSTAT ? 1 : x->kind - y->kind;
    return memcmp(x->v, y->v, sizeof(x->v));
}

/* The tag of what serves both a and b. */
static unsigned caps_union(unsigned a, unsigned b)
{
    return a == 0 || b == 0 ? 0 : a | b;
}

/* Whether q, after p in dep_cmp's order, says nothing p does not: the same
 * result of the same path, a stat() that found what the lstat() of the
 * same name found (not a link, then), or the path depended on again. */
static bool dep_repeats(const struct dep *p, const struct dep *q)
{
    return strcmp(p->path, q->path) == 0 &&
           (q->kind == DEP_AGAIN ||
            (memcmp(p->v, q->v, sizeof(p->v)) == 0 &&
             (q->kind == p->kind || (q->kind == DEP_STAT && p->kind == DEP_LSTAT))));
}

/* The dependencies as the entry keeps them, a line each: kind, the
 * capabilities it serves in hex (0: every one), a space, path, a tab, the
 * values; each path once per result, serving what its repeats served and
 * what it was depended on again for. "end N" closes the N lines. False when
 * a path has a tab or a newline of its own (no entry then). */
static bool deps_text(struct host_deps *d, struct strbuf *out)
{
    qsort(d->items, d->len, sizeof(*d->items), dep_cmp);
    for (size_t i = 0, next; i < d->len; i = next) {
        unsigned again = UINT_MAX; /* none */
        for (next = i; next < d->len && strcmp(d->items[next].path, d->items[i].path) == 0; next++)
            if (d->items[next].kind == DEP_AGAIN)
                again = again == UINT_MAX ? d->items[next].caps
                                          : caps_union(again, d->items[next].caps);
        for (size_t k = i; k < next && again != UINT_MAX; k++)
            d->items[k].caps = caps_union(d->items[k].caps, again);
    }
    size_t n = 0;
    for (size_t i = 0, next; i < d->len; i = next) {
        const struct dep *p = &d->items[i];
        unsigned caps = p->caps;
        for (next = i + 1; next < d->len && dep_repeats(p, &d->items[next]); next++)
            caps = caps_union(caps, d->items[next].caps);
        if (p->kind == DEP_AGAIN)
            continue;
        if (strpbrk(p->path, "\t\n") != NULL)
            return false;
        char text[DEP_TEXT_MAX];
        dep_text(p->v, text, sizeof(text));
        strbuf_addf(out, "%c%x %s\t%s\n", p->kind, caps, p->path, text);
        n++;
    }
    strbuf_addf(out, "end %zu\n", n);
    return true;
}

/* A field added to these structs must be written and read below: the sizes
 * stop the build until it is (and tests/e2e compare cached and fresh output). */
struct gpu_fields {
    int index, minor;
    char *uuid, *bus_id, *model, *brand, *arch;
    long memory_mib;
    char *proc_dir;
    enum gctk_mig_mode mig_mode;
};
struct mig_fields {
    int gpu, index, gi, ci;
    char *uuid, *profile;
    long memory_mib;
    char *gi_access, *ci_access;
    int gi_minor, ci_minor;
};
struct file_fields {
    enum gctk_file_kind kind;
    unsigned caps;
    char *path, *source, *soname, *dev;
};
struct node_fields {
    enum gctk_node_kind kind;
    unsigned caps;
    int gpu;
    char *path;
    unsigned major, minor;
    char *by_path;
};
_Static_assert(sizeof(struct gctk_gpu) == sizeof(struct gpu_fields), "serialise struct gctk_gpu");
_Static_assert(sizeof(struct gctk_mig) == sizeof(struct mig_fields), "serialise struct gctk_mig");
_Static_assert(sizeof(struct gctk_file) == sizeof(struct file_fields), "serialise gctk_file");
_Static_assert(sizeof(struct gctk_node) == sizeof(struct node_fields), "serialise gctk_node");
/* the host itself: what discovery finds is written below; root, flags, the
 * NVML and CUDA state, the resolution memo (real_dirs, missing_dirs), deps and
 * cache_status belong to this process */
struct host_fields {
    char *root;
    unsigned flags;
    char *driver_version;
    const struct host_arch *arch;
    char *cuda_version;
    bool cuda_tried;
    struct gctk_gpu *gpus;
    bool *enriched;
    size_t ngpus;
    struct gctk_file *files;
    size_t nfiles, files_cap;
    struct gctk_node *nodes;
    size_t nnodes, nodes_cap;
    struct strv warnings, foreign_libs, real_dirs, missing_dirs;
    struct nvml *nvml;
    bool nvml_tried;
    struct gctk_mig *migs;
    size_t nmigs;
    int mig_config_minor, mig_monitor_minor, imex_major;
    bool drm_found;
    struct host_deps *deps;
    char *cache_status;
};
_Static_assert(sizeof(struct gctk_host) == sizeof(struct host_fields), "serialise gctk_host");

static json_t *strv_json(const struct strv *v)
{
    json_t *a = json_array();
    for (size_t i = 0; i < v->len; i++)
        json_array_append_new(a, json_string(v->items[i]));
    return a;
}

static bool strv_from_json(json_t *a, struct strv *out)
{
    size_t i;
    json_t *e;
    if (!json_is_array(a))
        return false;
    json_array_foreach(a, i, e)
    {
        if (!json_is_string(e))
            return false;
        strv_push(out, xstrdup(json_string_value(e)));
    }
    return true;
}

static json_t *host_json(const gctk_host *h)
{
    json_t *o = json_object(), *gpus = json_array(), *migs = json_array(), *files = json_array(),
           *nodes = json_array();
    json_object_set_new(o, "driver_version", json_string(h->driver_version));
    json_object_set_new(o, "arch", json_string(h->arch->name));
    for (size_t i = 0; i < h->ngpus; i++) {
        const struct gctk_gpu *g = &h->gpus[i];
        json_array_append_new(gpus, json_pack("[iisssooIoi]", g->index, g->minor, g->uuid,
                                              g->bus_id, g->model, str_or_null(g->brand),
                                              str_or_null(g->arch), (json_int_t)g->memory_mib,
                                              str_or_null(g->proc_dir), (int)g->mig_mode));
    }
    for (size_t i = 0; i < h->nmigs; i++) {
        const struct gctk_mig *m = &h->migs[i];
        json_array_append_new(migs, json_pack("[iiiiooIooii]", m->gpu, m->index, m->gi, m->ci,
                                              str_or_null(m->uuid), str_or_null(m->profile),
                                              (json_int_t)m->memory_mib, str_or_null(m->gi_access),
                                              str_or_null(m->ci_access), m->gi_minor, m->ci_minor));
    }
    for (size_t i = 0; i < h->nfiles; i++) {
        const struct gctk_file *f = &h->files[i];
        json_array_append_new(
            files, json_pack("[iisooo]", (int)f->kind, (int)f->caps, f->path,
                             /* null: the same as path, the usual case */
                             strcmp(f->source, f->path) != 0 ? json_string(f->source) : json_null(),
                             str_or_null(f->soname), str_or_null(f->dev)));
    }
    for (size_t i = 0; i < h->nnodes; i++) {
        const struct gctk_node *n = &h->nodes[i];
        json_array_append_new(nodes, json_pack("[iiisIIo]", (int)n->kind, (int)n->caps, n->gpu,
                                               n->path, (json_int_t)n->major, (json_int_t)n->minor,
                                               str_or_null(n->by_path)));
    }
    json_object_set_new(o, "gpus", gpus);
    json_object_set_new(o, "migs", migs);
    json_object_set_new(o, "files", files);
    json_object_set_new(o, "nodes", nodes);
    json_t *warnings = json_array();
    for (size_t i = 0; i < h->warnings.len; i++)
        json_array_append_new(
            warnings,
            json_pack("[Is]", (json_int_t)(i < h->deps->nwarnings ? h->deps->warning_caps[i] : 0),
                      h->warnings.items[i]));
    json_object_set_new(o, "warnings", warnings);
    json_object_set_new(o, "foreign_libs", strv_json(&h->foreign_libs));
    json_object_set_new(o, "mig_config_minor", json_integer(h->mig_config_minor));
    json_object_set_new(o, "mig_monitor_minor", json_integer(h->mig_monitor_minor));
    return o;
}

/* a string or null of an entry: owned copy; false when it is neither */
static bool opt_str(json_t *v, char **out)
{
    if (json_is_null(v)) {
        *out = NULL;
        return true;
    }
    if (!json_is_string(v))
        return false;
    *out = xstrdup(json_string_value(v));
    return true;
}

static bool get_int(json_t *v, long long lo, long long hi, long long *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return false;
    *out = json_integer_value(v);
    return true;
}

/* The warnings of the entry's host, each with the capabilities of what it is
 * about: those of the capabilities checked (0: all) into *out. */
static bool warnings_from_json(json_t *a, unsigned checked, struct strv *out)
{
    size_t i;
    json_t *e;
    long long caps;
    if (!json_is_array(a))
        return false;
    json_array_foreach(a, i, e)
    {
        json_t *text = json_array_get(e, 1);
        if (json_array_size(e) != 2 || !get_int(json_array_get(e, 0), 0, GCTK_CAP_ALL, &caps) ||
            !json_is_string(text))
            return false;
        if (caps == 0 || checked == 0 || (caps & checked) != 0)
            strv_push(out, xstrdup(json_string_value(text)));
    }
    return true;
}

/* Fills h (root and flags set) from the entry's host, with the warnings of
 * the capabilities checked (0: all); false when anything in it is not what
 * host_json() writes. */
static bool host_from_json(gctk_host *h, json_t *o, unsigned checked)
{
    json_t *gpus = json_object_get(o, "gpus"), *migs = json_object_get(o, "migs"),
           *files = json_object_get(o, "files"), *nodes = json_object_get(o, "nodes"),
           *arch = json_object_get(o, "arch");
    long long v[8];
    if (!json_is_array(gpus) || !json_is_array(migs) || !json_is_array(files) ||
        !json_is_array(nodes) || !json_is_string(arch) ||
        (h->arch = host_arch_by_name(json_string_value(arch))) == NULL ||
        !json_is_string(json_object_get(o, "driver_version")) ||
        !get_int(json_object_get(o, "mig_config_minor"), -1, 1 << 20, &v[0]) ||
        !get_int(json_object_get(o, "mig_monitor_minor"), -1, 1 << 20, &v[1]))
        return false;
    h->driver_version = xstrdup(json_string_value(json_object_get(o, "driver_version")));
    h->mig_config_minor = (int)v[0];
    h->mig_monitor_minor = (int)v[1];
    size_t i;
    json_t *e;
    h->gpus = xcalloc(json_array_size(gpus) + 1, sizeof(*h->gpus));
    h->enriched = xcalloc(json_array_size(gpus) + 1, sizeof(*h->enriched));
    json_array_foreach(gpus, i, e)
    {
        struct gctk_gpu *g = &h->gpus[h->ngpus++];
        *g = (struct gctk_gpu){.index = -1};
        if (json_array_size(e) != 10 || !get_int(json_array_get(e, 0), 0, 1 << 20, &v[0]) ||
            !get_int(json_array_get(e, 1), 0, 254, &v[1]) ||
            !get_int(json_array_get(e, 7), -1, 1ll << 40, &v[2]) ||
            !get_int(json_array_get(e, 9), 0, GCTK_MIG_ENABLED, &v[3]) ||
            !opt_str(json_array_get(e, 2), &g->uuid) || g->uuid == NULL ||
            !opt_str(json_array_get(e, 3), &g->bus_id) || g->bus_id == NULL ||
            !opt_str(json_array_get(e, 4), &g->model) || g->model == NULL ||
            !opt_str(json_array_get(e, 5), &g->brand) || !opt_str(json_array_get(e, 6), &g->arch) ||
            !opt_str(json_array_get(e, 8), &g->proc_dir) || (size_t)v[0] != i)
            return false;
        g->index = (int)v[0];
        g->minor = (int)v[1];
        g->memory_mib = (long)v[2];
        g->mig_mode = (enum gctk_mig_mode)v[3];
    }
    size_t cap = json_array_size(migs);
    h->migs = xcalloc(cap + 1, sizeof(*h->migs));
    json_array_foreach(migs, i, e)
    {
        struct gctk_mig *m = &h->migs[h->nmigs++];
        if (json_array_size(e) != 11 ||
            !get_int(json_array_get(e, 0), 0, (long long)h->ngpus - 1, &v[0]) ||
            !get_int(json_array_get(e, 1), 0, 1 << 20, &v[1]) ||
            !get_int(json_array_get(e, 2), 0, 1 << 20, &v[2]) ||
            !get_int(json_array_get(e, 3), 0, 1 << 20, &v[3]) ||
            !get_int(json_array_get(e, 6), -1, 1ll << 40, &v[4]) ||
            !get_int(json_array_get(e, 9), -1, 1 << 20, &v[5]) ||
            !get_int(json_array_get(e, 10), -1, 1 << 20, &v[6]) ||
            !opt_str(json_array_get(e, 4), &m->uuid) ||
            !opt_str(json_array_get(e, 5), &m->profile) ||
            !opt_str(json_array_get(e, 7), &m->gi_access) ||
            !opt_str(json_array_get(e, 8), &m->ci_access))
            return false;
        m->gpu = (int)v[0];
        m->index = (int)v[1];
        m->gi = (int)v[2];
        m->ci = (int)v[3];
        m->memory_mib = (long)v[4];
        m->gi_minor = (int)v[5];
        m->ci_minor = (int)v[6];
    }
    h->files_cap = json_array_size(files) + 1;
    h->files = xcalloc(h->files_cap, sizeof(*h->files));
    json_array_foreach(files, i, e)
    {
        struct gctk_file *f = &h->files[h->nfiles++];
        if (json_array_size(e) != 6 ||
            !get_int(json_array_get(e, 0), GCTK_FILE_LIB, GCTK_FILE_MODULE, &v[0]) ||
            !get_int(json_array_get(e, 1), 0, GCTK_CAP_ALL, &v[1]) ||
            !opt_str(json_array_get(e, 2), &f->path) || f->path == NULL ||
            !opt_str(json_array_get(e, 3), &f->source) ||
            !opt_str(json_array_get(e, 4), &f->soname) || !opt_str(json_array_get(e, 5), &f->dev))
            return false;
        if (f->source == NULL)
            f->source = xstrdup(f->path);
        f->kind = (enum gctk_file_kind)v[0];
        f->caps = (unsigned)v[1];
    }
    h->nodes_cap = json_array_size(nodes) + 1;
    h->nodes = xcalloc(h->nodes_cap, sizeof(*h->nodes));
    json_array_foreach(nodes, i, e)
    {
        struct gctk_node *n = &h->nodes[h->nnodes++];
        if (json_array_size(e) != 7 ||
            !get_int(json_array_get(e, 0), GCTK_NODE_CONTROL, GCTK_NODE_IMEX, &v[0]) ||
            !get_int(json_array_get(e, 1), 0, GCTK_CAP_ALL, &v[1]) ||
            !get_int(json_array_get(e, 2), -1, (long long)h->ngpus - 1, &v[2]) ||
            !get_int(json_array_get(e, 4), 0, 0xfff, &v[3]) ||
            !get_int(json_array_get(e, 5), 0, 0xfffff, &v[4]) ||
            !opt_str(json_array_get(e, 3), &n->path) || n->path == NULL ||
            !opt_str(json_array_get(e, 6), &n->by_path))
            return false;
        n->kind = (enum gctk_node_kind)v[0];
        n->caps = (unsigned)v[1];
        n->gpu = (int)v[2];
        n->major = (unsigned)v[3];
        n->minor = (unsigned)v[4];
    }
    return warnings_from_json(json_object_get(o, "warnings"), checked, &h->warnings) &&
           strv_from_json(json_object_get(o, "foreign_libs"), &h->foreign_libs);
}

/* The capabilities of a dependency line ("K<hex> path\t..."), *path set
 * after them; false when the line has none. */
static bool dep_caps(char *line, unsigned *caps, char **path)
{
    unsigned v = 0;
    char *c = line + 1;
    for (; *c != ' '; c++) {
        int digit = *c >= '0' && *c <= '9' ? *c - '0' : *c >= 'a' && *c <= 'f' ? *c - 'a' + 10 : -1;
        if (digit < 0 || c - line > 8)
            return false;
        v = v << 4 | (unsigned)digit;
    }
    *caps = v;
    *path = c + 1;
    return c > line + 1;
}

/* Whether every dependency line of the entry (deps, len bytes) that serves
 * the capabilities checked (0: all) holds; the last line, "end N", counts
 * them all: a cut entry is not one. */
static bool deps_hold(char *deps, size_t len, unsigned checked, char **why)
{
    char *end = deps + len;
    size_t n = 0;
    for (char *line = deps; line < end; n++) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        if (nl == NULL)
            return false;
        *nl = '\0';
        if (str_has_prefix(line, "end ")) {
            char count[32];
            snprintf(count, sizeof(count), "end %zu", n);
            return n > 0 && nl + 1 == end && strcmp(line, count) == 0;
        }
        char *tab = strchr(line, '\t'), *path = NULL;
        unsigned caps = 0;
        if (tab == NULL || !dep_caps(line, &caps, &path) || path >= tab)
            return false;
        *tab = '\0';
        if ((caps == 0 || checked == 0 || (caps & checked) != 0) &&
            !dep_holds(line[0], path, tab + 1)) {
            *why = xasprintf("`%s` changed", path);
            return false;
        }
        line = nl + 1;
    }
    return false;
}

/* ---- the public face -------------------------------------------------------------- */

/* One entry a key: callers with another PATH or other settings (the runtime
 * shim's hook and runc's, Docker's) do not replace each other's. */
static char *entry_name(const char *root, unsigned flags, const struct gctk_host_cache *c)
{
    const char *path = getenv("PATH");
    unsigned long long k = hash64(root, strlen(root) + 1, HASH64_INIT);
    k = hash64(&flags, sizeof(flags), k);
    k = hash64(&c->config, sizeof(c->config), k);
    k = path != NULL ? hash64(path, strlen(path) + 1, k) : hash64("", 0, k);
    return xasprintf("discovery-%016llx.json", k);
}

/* One line of the entry's text (from *pos, without its newline), parsed as
 * JSON; NULL when there is none or it is not JSON. */
static json_t *entry_line(const char *name, char *text, size_t len, size_t *pos)
{
    char *nl = memchr(text + *pos, '\n', len - *pos);
    if (nl == NULL)
        return NULL;
    size_t start = *pos;
    *pos = (size_t)(nl - text) + 1;
    json_t *v = NULL;
    cleanup_error gctk_error *e = NULL;
    if (json_parse(name, text + start, (size_t)(nl - text) - start, &v, &e) < 0)
        return NULL;
    return v;
}

/* The capabilities whose dependencies are checked for a caller that uses
 * c->caps (0: all). Utility's and compute's always: a CUDA requirement is
 * checked by loading libcuda and NVML, and the Xorg modules are looked for
 * beside libcuda. */
static unsigned checked_caps(const struct gctk_host_cache *c)
{
    return c->caps == 0 ? 0 : cap_expand(c->caps) | GCTK_CAP_UTILITY | GCTK_CAP_COMPUTE;
}

/* The entry: its key (JSON) on the first line, the host (JSON) on the second,
 * then the dependencies, a line each. The key and the dependencies are
 * checked before the host is parsed: a changed host costs no more than
 * that. */
static gctk_host *load(int dirfd, const char *name, const char *root, unsigned flags,
                       const struct gctk_host_cache *c, char **why)
{
    size_t len = 0, pos = 0;
    cleanup_free char *text = read_entry(dirfd, name, &len, why);
    if (text == NULL)
        return NULL;
    cleanup_json json_t *found = entry_line(name, text, len, &pos);
    gctk_host probe = {.root = (char *)root, .flags = flags};
    cleanup_json json_t *key = key_json(&probe, c);
    if (!json_equal(key, found)) {
        *why = found != NULL ? xstrdup("its key (root, settings, PATH or gctk's version) differs")
                             : xasprintf("`%s` is not a cache entry", name);
        return NULL;
    }
    size_t host_at = pos;
    char *host_end = memchr(text + pos, '\n', len - pos);
    if (host_end == NULL ||
        !deps_hold(host_end + 1, len - (size_t)(host_end + 1 - text), checked_caps(c), why)) {
        if (*why == NULL)
            *why = xasprintf("`%s` is not a cache entry", name);
        return NULL;
    }
    cleanup_json json_t *host = entry_line(name, text, len, &host_at);
    gctk_host *h = xcalloc(1, sizeof(*h));
    h->root = xstrdup(root);
    h->flags = flags;
    h->mig_config_minor = h->mig_monitor_minor = -1;
    h->imex_major = -2;
    if (host == NULL || !host_from_json(h, host, checked_caps(c))) {
        gctk_host_free(h);
        *why = xasprintf("`%s` is not a cache entry", name);
        return NULL;
    }
    return h;
}

static char *store(int dirfd, const char *name, const gctk_host *h, const struct gctk_host_cache *c)
{
    if (h->nvml_tried)
        return xstrdup("not stored: discovery asked NVML (MIG devices or a masked UUID)");
    if (h->deps->racy)
        return xasprintf("not stored: a file discovery read changed in the last %d seconds",
                         CACHE_RACY_S);
    /* compact JSON has no newline of its own: a line each */
    cleanup_json json_t *key = key_json(h, c), *host = host_json(h);
    cleanup_free char *key_text = json_dumps(key, JSON_COMPACT);
    cleanup_free char *host_text = json_dumps(host, JSON_COMPACT);
    if (key_text == NULL || host_text == NULL)
        return xstrdup("not stored: out of memory");
    cleanup_strbuf struct strbuf entry = {0};
    strbuf_addf(&entry, "%s\n%s\n", key_text, host_text);
    if (!deps_text(h->deps, &entry))
        return xstrdup("not stored: a path discovery read has a tab or a newline");
    if (entry.len > CACHE_MAX)
        return xstrdup("not stored: the entry is too large");
    prune_entries(dirfd, "discovery-", name, CACHE_ENTRIES);
    /* an entry lost in a crash is only discovery run again */
    struct write_opts o = {.mode = 0600, .no_sync = true};
    cleanup_error gctk_error *e = NULL;
    if (write_file_at(dirfd, name, entry.s, entry.len, &o, &e) < 0)
        return xasprintf("not stored: %s", e->msg);
    return xasprintf("stored `%s/%s`", c->dir, name);
}

int gctk_host_open_cached(const char *root, unsigned flags, const struct gctk_host_cache *c,
                          gctk_host **out, gctk_error **err)
{
    if (c == NULL || c->dir == NULL)
        return gctk_host_open(root, flags, out, err);
    if (root == NULL || root[0] == '\0')
        root = "/";
    struct stat st;
    if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode))
        return gctk_fail(err, errno ? errno : ENOTDIR, "driver root `%s`", root);
    cleanup_free char *why = NULL;
    cleanup_fd int dirfd = open_dir(c->dir, &why);
    cleanup_free char *name = entry_name(root, flags, c);
    if (dirfd >= 0) {
        gctk_host *h = load(dirfd, name, root, flags, c, &why);
        if (h != NULL) {
            h->cache_status = xasprintf("used `%s/%s`", c->dir, name);
            *out = h;
            return 0;
        }
    }
    gctk_host *h = xcalloc(1, sizeof(*h));
    h->root = xstrdup(root);
    h->flags = flags;
    struct host_deps *d = xcalloc(1, sizeof(*d));
    d->root = h->root;
    d->now = time(NULL);
    h->deps = d;
    /* the module's load: /sys/module/nvidia gets a new inode each time */
    cleanup_free char *module = path_join(root, "/sys/module/nvidia");
    host_dep_stat(d, module);
    if (host_discover(h, err) < 0) {
        gctk_host_free(h);
        return -1;
    }
    if (dirfd >= 0) {
        cleanup_free char *done = store(dirfd, name, h, c);
        h->cache_status = xasprintf("%s (%s)", done, why != NULL ? why : "no entry yet");
    } else {
        h->cache_status = xasprintf("not used: %s", why);
    }
    h->deps = NULL;
    host_deps_free(d);
    *out = h;
    return 0;
}

const char *gctk_host_cache_status(const gctk_host *h)
{
    return h->cache_status != NULL ? h->cache_status : "off";
}
