/* The discovery cache: a host discovered once, used again while nothing it
 * was made of has changed.
 *
 * Threat model: the hook runs as root on the host. The cache is read from a
 * directory that only the caller's uid can write (created 0700, opened with
 * O_NOFOLLOW, owner and mode checked on every use), from a regular file of
 * that uid with no group or other bits, at most CACHE_MAX bytes: the key
 * compared as text with the caller's, the host's records read field by
 * field (count, ranges, references). Anything else (a link, another owner,
 * mode 0666, a file too large, garbled or of another format) is not used:
 * discovery runs and replaces it through the one atomic writer. A cache is
 * never an error.
 *
 * Never stale: the entry holds the key (format, gctk's version, root, flags,
 * PATH, the settings' fingerprint, the kernel's release) and every
 * dependency discovery recorded before reading it (host.h): the identity
 * (device, inode, mode, size, mtime, ctime, rdev) of each file and link it
 * looked at, absence included; the hash of each /proc and /sys file it read
 * and of the names in each directory it listed; /sys/module/nvidia, whose
 * inode is new at every module load. The entry is used only when all of
 * them are found again as recorded (those of the capabilities the caller
 * uses, when it says: host_deps_tag()). A discovery that asked NVML (MIG
 * devices, masked UUIDs: live answers, not files) is not stored, nor one
 * that read a file changed in the last CACHE_RACY_S seconds (a write in the
 * same clock tick as the read would leave its times unchanged). */
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>

#include "arch.h"
#include "caps.h"
#include "host.h"
#include "version.h"

#define CACHE_FORMAT 5
#define KEY_PREFIX "gctk-discovery "
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

/* Whether st's times are in the last CACHE_RACY_S seconds before now: a
 * write in the same clock tick as a read would leave them unchanged. */
static bool changed_lately(const struct stat *st, time_t now)
{
    return st->st_mtim.tv_sec > now - CACHE_RACY_S || st->st_ctim.tv_sec > now - CACHE_RACY_S;
}

static void note_racy(struct host_deps *d, const struct stat *st)
{
    if (!S_ISDIR(st->st_mode) && changed_lately(st, d->now))
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

/* ---- the entry: key, dependencies, host ------------------------------------------ */

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
 * NVML and CUDA state, the resolution memo (real_dirs, missing_dirs), deps,
 * cache_status and cache_dir belong to this process */
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
    char *cache_status, *cache_dir;
};
_Static_assert(sizeof(struct gctk_host) == sizeof(struct host_fields), "serialise gctk_host");

/* ---- the host as text ----------------------------------------------------------
 * A line a record, a tab between fields: H (driver version, architecture, the
 * MIG config and monitor minors; first and once), G a GPU, M a MIG device, F
 * a file, N a node, W a warning (its capabilities, its text), X a foreign
 * library. An empty field is a NULL string; a string that is empty, or holds
 * a tab or a newline, cannot be written (no entry then). */

static void text_str(struct strbuf *b, const char *s, bool *ok)
{
    if (s != NULL && (s[0] == '\0' || strpbrk(s, "\t\n") != NULL))
        *ok = false;
    strbuf_addf(b, "\t%s", s != NULL ? s : "");
}

static void text_int(struct strbuf *b, long long v)
{
    strbuf_addf(b, "\t%lld", v);
}

/* The key line: what an entry must have been made with to serve a caller
 * (the entry's format, gctk's version, the root, the flags, PATH, the
 * settings' fingerprint, the kernel's release, which the firmware search
 * path names), fields a tab apart as in the host's records; false when the
 * root or PATH holds a tab or a newline. */
static bool key_text(const char *root, unsigned flags, const struct gctk_host_cache *c,
                     struct strbuf *b)
{
    struct utsname u;
    bool ok = true;
    strbuf_addf(b, KEY_PREFIX "%d", CACHE_FORMAT);
    text_str(b, GCTK_VERSION, &ok);
    text_str(b, root, &ok);
    text_int(b, flags);
    text_str(b, getenv("PATH"), &ok);
    strbuf_addf(b, "\t%016llx", c->config);
    text_str(b, uname(&u) == 0 ? u.release : NULL, &ok);
    return ok;
}

/* The host's records; false when a string cannot be written. */
static bool host_text(const gctk_host *h, struct strbuf *b)
{
    bool ok = true;
    strbuf_addf(b, "H");
    text_str(b, h->driver_version, &ok);
    text_str(b, h->arch->name, &ok);
    text_int(b, h->mig_config_minor);
    text_int(b, h->mig_monitor_minor);
    for (size_t i = 0; i < h->ngpus; i++) {
        const struct gctk_gpu *g = &h->gpus[i];
        strbuf_addf(b, "\nG");
        text_int(b, g->index);
        text_int(b, g->minor);
        text_str(b, g->uuid, &ok);
        text_str(b, g->bus_id, &ok);
        text_str(b, g->model, &ok);
        text_str(b, g->brand, &ok);
        text_str(b, g->arch, &ok);
        text_int(b, g->memory_mib);
        text_str(b, g->proc_dir, &ok);
        text_int(b, g->mig_mode);
    }
    for (size_t i = 0; i < h->nmigs; i++) {
        const struct gctk_mig *m = &h->migs[i];
        strbuf_addf(b, "\nM");
        text_int(b, m->gpu);
        text_int(b, m->index);
        text_int(b, m->gi);
        text_int(b, m->ci);
        text_str(b, m->uuid, &ok);
        text_str(b, m->profile, &ok);
        text_int(b, m->memory_mib);
        text_str(b, m->gi_access, &ok);
        text_str(b, m->ci_access, &ok);
        text_int(b, m->gi_minor);
        text_int(b, m->ci_minor);
    }
    for (size_t i = 0; i < h->nfiles; i++) {
        const struct gctk_file *f = &h->files[i];
        strbuf_addf(b, "\nF");
        text_int(b, f->kind);
        text_int(b, f->caps);
        text_str(b, f->path, &ok);
        /* empty: the same as path, the usual case */
        text_str(b, strcmp(f->source, f->path) != 0 ? f->source : NULL, &ok);
        text_str(b, f->soname, &ok);
        text_str(b, f->dev, &ok);
    }
    for (size_t i = 0; i < h->nnodes; i++) {
        const struct gctk_node *n = &h->nodes[i];
        strbuf_addf(b, "\nN");
        text_int(b, n->kind);
        text_int(b, n->caps);
        text_int(b, n->gpu);
        text_str(b, n->path, &ok);
        text_int(b, n->major);
        text_int(b, n->minor);
        text_str(b, n->by_path, &ok);
    }
    for (size_t i = 0; i < h->warnings.len; i++) {
        strbuf_addf(b, "\nW");
        text_int(b, i < h->deps->nwarnings ? h->deps->warning_caps[i] : 0);
        text_str(b, h->warnings.items[i], &ok);
    }
    for (size_t i = 0; i < h->foreign_libs.len; i++) {
        strbuf_addf(b, "\nX");
        text_str(b, h->foreign_libs.items[i], &ok);
    }
    strbuf_addf(b, "\n");
    return ok;
}

/* Whether what is tagged caps (0: every capability) serves the capabilities
 * checked (0: all): a dependency to check, a warning to show. */
static bool tag_checked(unsigned caps, unsigned checked)
{
    return caps == 0 || checked == 0 || (caps & checked) != 0;
}

/* The fields of a record line (NUL-terminated, changed in place): false
 * unless it has exactly n after its letter. */
static bool fields(char *line, char **f, size_t n)
{
    size_t k = 0;
    for (char *c = line + 1; *c != '\0'; c++) {
        if (*c != '\t')
            continue;
        if (k == n)
            return false;
        *c = '\0';
        f[k++] = c + 1;
    }
    return k == n;
}

/* A decimal integer field within lo..hi. */
static bool int_field(const char *s, long long lo, long long hi, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || !(s[0] == '-' || (s[0] >= '0' && s[0] <= '9')) ||
        v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* A string field: owned copy, NULL when empty. */
static char *str_field(const char *s)
{
    return s[0] != '\0' ? xstrdup(s) : NULL;
}

static bool gpu_record(gctk_host *h, char **f, unsigned checked)
{
    (void)checked;
    long long v[4];
    if (!int_field(f[0], 0, 1 << 20, &v[0]) || !int_field(f[1], 0, 254, &v[1]) ||
        !int_field(f[7], -1, 1ll << 40, &v[2]) || !int_field(f[9], 0, GCTK_MIG_ENABLED, &v[3]) ||
        (size_t)v[0] != h->ngpus || f[2][0] == '\0' || f[3][0] == '\0' || f[4][0] == '\0')
        return false;
    h->gpus[h->ngpus++] = (struct gctk_gpu){
        .index = (int)v[0],
        .minor = (int)v[1],
        .uuid = xstrdup(f[2]),
        .bus_id = xstrdup(f[3]),
        .model = xstrdup(f[4]),
        .brand = str_field(f[5]),
        .arch = str_field(f[6]),
        .memory_mib = (long)v[2],
        .proc_dir = str_field(f[8]),
        .mig_mode = (enum gctk_mig_mode)v[3],
    };
    return true;
}

static bool mig_record(gctk_host *h, char **f, unsigned checked)
{
    (void)checked;
    long long v[7];
    if (!int_field(f[0], 0, (long long)h->ngpus - 1, &v[0]) ||
        !int_field(f[1], 0, 1 << 20, &v[1]) || !int_field(f[2], 0, 1 << 20, &v[2]) ||
        !int_field(f[3], 0, 1 << 20, &v[3]) || !int_field(f[6], -1, 1ll << 40, &v[4]) ||
        !int_field(f[9], -1, 1 << 20, &v[5]) || !int_field(f[10], -1, 1 << 20, &v[6]))
        return false;
    h->migs[h->nmigs++] = (struct gctk_mig){
        .gpu = (int)v[0],
        .index = (int)v[1],
        .gi = (int)v[2],
        .ci = (int)v[3],
        .uuid = str_field(f[4]),
        .profile = str_field(f[5]),
        .memory_mib = (long)v[4],
        .gi_access = str_field(f[7]),
        .ci_access = str_field(f[8]),
        .gi_minor = (int)v[5],
        .ci_minor = (int)v[6],
    };
    return true;
}

static bool file_record(gctk_host *h, char **f, unsigned checked)
{
    (void)checked;
    long long v[2];
    if (!int_field(f[0], GCTK_FILE_LIB, GCTK_FILE_MODULE, &v[0]) ||
        !int_field(f[1], 0, GCTK_CAP_ALL, &v[1]) || f[2][0] == '\0')
        return false;
    h->files[h->nfiles++] = (struct gctk_file){
        .kind = (enum gctk_file_kind)v[0],
        .caps = (unsigned)v[1],
        .path = xstrdup(f[2]),
        .source = xstrdup(f[3][0] != '\0' ? f[3] : f[2]),
        .soname = str_field(f[4]),
        .dev = str_field(f[5]),
    };
    return true;
}

static bool node_record(gctk_host *h, char **f, unsigned checked)
{
    (void)checked;
    long long v[5];
    if (!int_field(f[0], GCTK_NODE_CONTROL, GCTK_NODE_IMEX, &v[0]) ||
        !int_field(f[1], 0, GCTK_CAP_ALL, &v[1]) ||
        !int_field(f[2], -1, (long long)h->ngpus - 1, &v[2]) || !int_field(f[4], 0, 0xfff, &v[3]) ||
        !int_field(f[5], 0, 0xfffff, &v[4]) || f[3][0] == '\0')
        return false;
    h->nodes[h->nnodes++] = (struct gctk_node){
        .kind = (enum gctk_node_kind)v[0],
        .caps = (unsigned)v[1],
        .gpu = (int)v[2],
        .path = xstrdup(f[3]),
        .major = (unsigned)v[3],
        .minor = (unsigned)v[4],
        .by_path = str_field(f[6]),
    };
    return true;
}

/* The driver's version and architecture, the MIG config and monitor minors. */
static bool host_record(gctk_host *h, char **f, unsigned checked)
{
    (void)checked;
    long long v[2];
    if (f[0][0] == '\0' || (h->arch = host_arch_by_name(f[1])) == NULL ||
        !int_field(f[2], -1, 1 << 20, &v[0]) || !int_field(f[3], -1, 1 << 20, &v[1]))
        return false;
    h->driver_version = xstrdup(f[0]);
    h->mig_config_minor = (int)v[0];
    h->mig_monitor_minor = (int)v[1];
    return true;
}

static bool foreign_record(gctk_host *h, char **f, unsigned checked)
{
    (void)checked;
    if (f[0][0] == '\0')
        return false;
    strv_push(&h->foreign_libs, xstrdup(f[0]));
    return true;
}

/* A warning of the capabilities checked (0: all), or one of others left out. */
static bool warning_record(gctk_host *h, char **f, unsigned checked)
{
    long long caps;
    if (!int_field(f[0], 0, GCTK_CAP_ALL, &caps) || f[1][0] == '\0')
        return false;
    if (tag_checked((unsigned)caps, checked))
        strv_push(&h->warnings, xstrdup(f[1]));
    return true;
}

/* Fills h (root and flags set) from the entry's n record lines at text, with
 * the warnings of the capabilities checked (0: all); false when anything in
 * them is not what host_text() writes. */
static bool host_from_text(gctk_host *h, char *text, size_t n, unsigned checked)
{
    size_t count[128] = {0};
    char *line = text;
    for (size_t i = 0; i < n; i++, line = strchr(line, '\n') + 1)
        count[(unsigned char)line[0] < 128 ? line[0] : 0]++;
    if (text[0] != 'H' || count['H'] != 1)
        return false;
    h->gpus = xcalloc(count['G'] + 1, sizeof(*h->gpus));
    h->enriched = xcalloc(count['G'] + 1, sizeof(*h->enriched));
    h->migs = xcalloc(count['M'] + 1, sizeof(*h->migs));
    h->files_cap = count['F'] + 1;
    h->files = xcalloc(h->files_cap, sizeof(*h->files));
    h->nodes_cap = count['N'] + 1;
    h->nodes = xcalloc(h->nodes_cap, sizeof(*h->nodes));
    static const struct {
        char letter;
        size_t fields;
        bool (*read)(gctk_host *h, char **f, unsigned checked);
    } kinds[] = {{'H', 4, host_record},   {'G', 10, gpu_record}, {'M', 11, mig_record},
                 {'F', 6, file_record},   {'N', 7, node_record}, {'W', 2, warning_record},
                 {'X', 1, foreign_record}};
    line = text;
    for (size_t i = 0; i < n; i++) {
        char *nl = strchr(line, '\n'), *f[11];
        *nl = '\0';
        size_t k = 0;
        while (k < GCTK_ARRAY_LEN(kinds) && kinds[k].letter != line[0])
            k++;
        bool ok = k < GCTK_ARRAY_LEN(kinds) && fields(line, f, kinds[k].fields) &&
                  kinds[k].read(h, f, checked);
        if (!ok)
            return false;
        line = nl + 1;
    }
    return true;
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
        if (tag_checked(caps, checked) && !dep_holds(line[0], path, tab + 1)) {
            *why = xasprintf("`%s` changed", path);
            return false;
        }
        line = nl + 1;
    }
    return false;
}

/* ---- the CUDA version of a libcuda ----------------------------------------------- */

/* An image's NVIDIA_REQUIRE_CUDA (every nvidia/cuda image sets one) is
 * checked against the CUDA version of the host's libcuda, which
 * cuDriverGetVersion gives only once libcuda is loaded: 1.2-1.6 ms of
 * dlopen on the H200, at every start of such an image, more than the rest
 * of the hook. The answer is the file's, so it is kept in the cache
 * directory, a file per libcuda named by a hash of its path and identity (a
 * dependency's: device, inode, mode, size, mtime, ctime), whose one line
 * says both in full before the version: it is used only while the same file
 * is found at the path. Kept only for a file unchanged in the last
 * CACHE_RACY_S seconds, and still the same after it was loaded. */
#define CUDA_PREFIX "gctk-cuda 1\t"
#define CUDA_VERSION_MAX 16

/* "gctk-cuda 1\tPATH\tIDENTITY\t" for the file at path now, or NULL;
 * *racy: it changed in the last CACHE_RACY_S seconds. */
static char *cuda_key(const char *path, bool *racy)
{
    struct stat st;
    if (strpbrk(path, "\t\n") != NULL || stat(path, &st) < 0)
        return NULL;
    long long v[DEP_VALUES];
    identity(DEP_STAT, 0, &st, v);
    char text[DEP_TEXT_MAX];
    dep_text(v, text, sizeof(text));
    *racy = changed_lately(&st, time(NULL));
    return xasprintf(CUDA_PREFIX "%s\t%s\t", path, text);
}

static char *cuda_entry_name(const char *key)
{
    return xasprintf("cuda-%016llx", hash64(key, strlen(key), HASH64_INIT));
}

/* "13.0": digits and dots, as cuda_version_format writes it. */
static bool cuda_version_ok(const char *v, size_t n)
{
    return n > 0 && n < CUDA_VERSION_MAX && strspn(v, "0123456789.") == n;
}

char *host_cache_cuda_lookup(const char *dir, const char *path, char **key)
{
    *key = NULL;
    if (dir == NULL)
        return NULL;
    bool racy = false;
    cleanup_free char *k = cuda_key(path, &racy);
    cleanup_free char *why = NULL;
    cleanup_fd int dirfd = k != NULL ? open_dir(dir, &why) : -1;
    if (dirfd < 0)
        return NULL;
    cleanup_free char *name = cuda_entry_name(k);
    size_t len = 0;
    cleanup_free char *text = read_private_entry(dirfd, name, CACHE_MAX, &len, &why);
    if (text != NULL && str_has_prefix(text, k)) {
        const char *v = text + strlen(k);
        size_t n = strcspn(v, "\n");
        if (v[n] == '\n' && v + n + 1 == text + len && cuda_version_ok(v, n))
            return xstrndup(v, n);
    }
    if (!racy)
        *key = steal_pointer(&k);
    return NULL;
}

void host_cache_cuda_store(const char *dir, const char *path, const char *key, const char *version)
{
    if (dir == NULL || key == NULL || !cuda_version_ok(version, strlen(version)))
        return;
    /* the file loaded is the one the key names only if that is still there */
    bool racy = false;
    cleanup_free char *now = cuda_key(path, &racy);
    cleanup_free char *why = NULL;
    if (now == NULL || racy || strcmp(now, key) != 0)
        return;
    cleanup_fd int dirfd = open_dir(dir, &why);
    if (dirfd < 0)
        return;
    cleanup_free char *name = cuda_entry_name(key);
    cleanup_free char *line = xasprintf("%s%s\n", key, version);
    prune_entries(dirfd, "cuda-", name, CACHE_ENTRIES);
    /* lost in a crash, it is only libcuda loaded again */
    const struct write_opts o = {.mode = 0600, .no_sync = true};
    write_file_at(dirfd, name, line, strlen(line), &o, NULL);
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
    return xasprintf("discovery-%016llx", k);
}

/* The capabilities whose dependencies are checked for a caller that uses
 * c->caps (0: all). Utility's and compute's always: a CUDA requirement is
 * checked by loading libcuda and NVML, and the Xorg modules are looked for
 * beside libcuda. */
static unsigned checked_caps(const struct gctk_host_cache *c)
{
    return c->caps == 0 ? 0 : cap_expand(c->caps) | GCTK_CAP_UTILITY | GCTK_CAP_COMPUTE;
}

/* The entry: its key on the first line (key_text); "host N" and the host's N
 * record lines; the dependencies, a line each; "end M" counting them. The
 * key and the dependencies are checked before the host is read: a changed
 * host costs no more than that. */
static gctk_host *load(int dirfd, const char *name, const char *root, unsigned flags,
                       const struct gctk_host_cache *c, char **why)
{
    size_t len = 0;
    cleanup_free char *text = read_private_entry(dirfd, name, CACHE_MAX, &len, why);
    if (text == NULL)
        return NULL;
    char *key_end = memchr(text, '\n', len);
    if (key_end == NULL || !str_has_prefix(text, KEY_PREFIX)) {
        *why = xasprintf("`%s` is not a cache entry", name);
        return NULL;
    }
    cleanup_strbuf struct strbuf key = {0};
    if (!key_text(root, flags, c, &key) || key.len != (size_t)(key_end - text) ||
        memcmp(key.s, text, key.len) != 0) {
        *why = xstrdup("its key (root, settings, PATH, kernel or gctk's version) differs");
        return NULL;
    }
    /* the host's lines, no NUL among them */
    char *host = key_end + 1, *end = text + len, *deps = NULL;
    long long n = 0;
    char *nl = memchr(host, '\n', (size_t)(end - host));
    if (nl != NULL && str_has_prefix(host, "host ")) {
        *nl = '\0';
        if (int_field(host + strlen("host "), 1, CACHE_MAX, &n))
            deps = nl + 1;
        host = nl + 1;
    }
    for (long long i = 0; deps != NULL && i < n; i++) {
        nl = memchr(deps, '\n', (size_t)(end - deps));
        deps = nl != NULL && memchr(deps, '\0', (size_t)(nl - deps)) == NULL ? nl + 1 : NULL;
    }
    if (deps == NULL || !deps_hold(deps, (size_t)(end - deps), checked_caps(c), why)) {
        if (*why == NULL)
            *why = xasprintf("`%s` is not a cache entry", name);
        return NULL;
    }
    gctk_host *h = xcalloc(1, sizeof(*h));
    h->root = xstrdup(root);
    h->flags = flags;
    h->mig_config_minor = h->mig_monitor_minor = -1;
    h->imex_major = -2;
    if (!host_from_text(h, host, (size_t)n, checked_caps(c))) {
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
    cleanup_strbuf struct strbuf records = {0};
    if (!host_text(h, &records))
        return xstrdup("not stored: a string discovery found is empty or has a tab or a newline");
    size_t n = 0;
    for (size_t i = 0; i < records.len; i++)
        n += records.s[i] == '\n';
    cleanup_strbuf struct strbuf entry = {0};
    bool key_ok = key_text(h->root, h->flags, c, &entry);
    strbuf_addf(&entry, "\nhost %zu\n%s", n, records.s);
    if (!deps_text(h->deps, &entry))
        return xstrdup("not stored: a path discovery read has a tab or a newline");
    if (!key_ok)
        return xstrdup("not stored: the root or PATH has a tab or a newline");
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
            h->cache_dir = xstrdup(c->dir);
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
        h->cache_dir = xstrdup(c->dir);
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

const char *gctk_host_cache_word(const gctk_host *h)
{
    const char *s = gctk_host_cache_status(h);
    return str_has_prefix(s, "used")     ? "used"
           : str_has_prefix(s, "stored") ? "stored"
           : strcmp(s, "off") == 0       ? "off"
                                         : "missed";
}
