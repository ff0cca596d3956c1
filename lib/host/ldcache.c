/* ld.so.cache: parse both glibc formats and write the new one.
 *
 * Layouts (glibc's elf/cache.c and sysdeps/generic/dl-cache.h describe them):
 *   old  "ld.so-1.7.0" + pad to 12, u32 nlibs, nlibs x {i32 flags, u32 key,
 *        u32 value}; key and value are offsets into the strings that follow
 *        the entries and run to the end of the file.
 *   new  "glibc-ld.so.cache" "1.1", u32 nlibs, u32 len_strings, u8 flags
 *        (endianness), 3 pad, u32 extension_offset, u32 unused[3]; nlibs x
 *        {i32 flags, u32 key, u32 value, u32 osversion, u64 hwcap}; then
 *        len_strings bytes of strings. Offsets count from the new header.
 *   both the old table, then the new header at the old table's end aligned
 *        to 8; ld.so then reads only the new table, and so do we.
 * All integers are little-endian in the files we accept; they are decoded
 * byte by byte so that no unaligned load happens on the untrusted buffer.
 *
 * Error policy: a malformed cache is rejected as a whole, with the offending
 * entry named, rather than salvaged. The caller rewrites the cache that ld.so
 * will trust inside a container; silently dropping entries would hide a
 * broken or hostile image instead of reporting it.
 *
 * Work and memory follow the input, not what it claims: the string table is
 * copied once and the parsed entries point into that copy (a small cache
 * whose entries all name one long string is not copied once per entry); the
 * strings the entries name may add up to at most twice the file (glibc's own
 * caches: less than once) plus a little, so that sorting them stays
 * n log n in the input; the writer lays each string of that copy out once. */
#include <string.h>

#include "ldcache.h"

#define OLD_MAGIC "ld.so-1.7.0"
#define OLD_HEADER_SIZE 16u /* magic[11], pad, u32 nlibs */
#define OLD_ENTRY_SIZE 12u
#define NEW_MAGIC "glibc-ld.so.cache1.1"
#define NEW_MAGIC_LEN 20u
#define NEW_HEADER_SIZE 48u
#define NEW_ENTRY_SIZE 24u
#define NEW_ALIGN 8u /* __alignof__(struct cache_file_new) on x86-64 and aarch64 */
#define NEW_FLAGS_ENDIAN_MASK 3u
#define NEW_FLAGS_LITTLE 2u
/* hwcap bit 62: the entry indexes the glibc-hwcaps extension, which the
 * writer does not produce. */
#define HWCAP_EXTENSION (1ull << 62)
#define READ_MAX (64u << 20)

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const unsigned char *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    put_u32(p, (uint32_t)v);
    put_u32(p + 4, (uint32_t)(v >> 32));
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Compares two runs of digits by value without overflow: leading zeros
 * skipped, then the longer run is larger, then the first differing digit.
 * Advances both pointers past their runs. */
static int compare_numbers(const char **pa, const char **pb)
{
    const char *a = *pa, *b = *pb;
    while (*a == '0' && is_digit(a[1]))
        a++;
    while (*b == '0' && is_digit(b[1]))
        b++;
    size_t na = 0, nb = 0;
    while (is_digit(a[na]))
        na++;
    while (is_digit(b[nb]))
        nb++;
    *pa = a + na;
    *pb = b + nb;
    if (na != nb)
        return na < nb ? -1 : 1;
    int r = memcmp(a, b, na);
    return r < 0 ? -1 : r > 0;
}

/* ld.so binary-searches with this order, so it must be glibc's exactly: a
 * digit run is a number, a digit sorts after any other character, other
 * characters compare as the platform's `char` (as glibc compiles it). glibc
 * sums digit runs in an int, so runs beyond 2^31 differ from its order;
 * no library name has such a run. */
int ldcache_libcmp(const char *a, const char *b)
{
    while (*a != '\0') {
        if (is_digit(*a)) {
            if (!is_digit(*b))
                return 1;
            int r = compare_numbers(&a, &b);
            if (r != 0)
                return r;
        } else if (is_digit(*b)) {
            return -1;
        } else if (*a != *b) {
            return *a - *b;
        } else {
            a++;
            b++;
        }
    }
    return *a - *b;
}

/* Whether s lies in the parsed string table (owned by c->pool), not in a
 * string of its own. */
static bool pooled(const struct ldcache *c, const char *s)
{
    return c->pool != NULL && (uintptr_t)s - (uintptr_t)c->pool < c->pool_len;
}

static void free_entry(const struct ldcache *c, struct ldcache_entry *e)
{
    if (!pooled(c, e->soname))
        free(e->soname);
    if (!pooled(c, e->path))
        free(e->path);
}

void ldcache_clear(struct ldcache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->len; i++)
        free_entry(c, &c->entries[i]);
    free(c->entries);
    free(c->pool);
    *c = (struct ldcache){0};
}

static void append(struct ldcache *c, struct ldcache_entry e)
{
    if (c->len == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->entries = xrealloc(c->entries, c->cap * sizeof(*c->entries));
    }
    c->entries[c->len++] = e;
}

void ldcache_add(struct ldcache *c, const char *soname, const char *path, uint32_t flags)
{
    /* appended as it comes; ldcache_merge() drops what it replaces, for all
     * the additions at once (a search per addition would be quadratic in an
     * image's cache times the libraries of an image's folder) */
    append(c, (struct ldcache_entry){
                  .soname = xstrdup(soname), .path = xstrdup(path), .flags = flags, .added = true});
}

/* Plain entries by name (strcmp), then flags, then position. */
static int compare_plain(const void *pa, const void *pb)
{
    const struct ldcache_entry *a = *(const struct ldcache_entry *const *)pa;
    const struct ldcache_entry *b = *(const struct ldcache_entry *const *)pb;
    int r = a->soname == b->soname ? 0 : strcmp(a->soname, b->soname);
    if (r != 0)
        return r;
    if (a->flags != b->flags)
        return a->flags < b->flags ? -1 : 1;
    return a < b ? -1 : a > b;
}

void ldcache_merge(struct ldcache *c)
{
    /* Only a plain entry is replaced: a hwcap entry of the same name is a
     * different variant of the library and stays. A parsed cache may hold
     * the same plain entry twice: they all go for an added one, so that
     * ld.so cannot find an old path before it. */
    size_t n = 0;
    cleanup_free struct ldcache_entry **plain = xcalloc(c->len + 1, sizeof(*plain));
    bool any_added = false;
    for (size_t i = 0; i < c->len; i++) {
        any_added = any_added || c->entries[i].added;
        if (c->entries[i].hwcap == 0)
            plain[n++] = &c->entries[i];
    }
    if (!any_added)
        return;
    qsort(plain, n, sizeof(*plain), compare_plain);
    cleanup_free bool *drop = xcalloc(c->len + 1, sizeof(bool));
    for (size_t g = 0; g < n;) {
        size_t end = g + 1;
        while (end < n && plain[end]->flags == plain[g]->flags &&
               (plain[end]->soname == plain[g]->soname ||
                strcmp(plain[end]->soname, plain[g]->soname) == 0))
            end++;
        /* added entries come after parsed ones, in the order added: the
         * last of the group is the one to keep when it was added */
        if (plain[end - 1]->added)
            for (size_t k = g; k + 1 < end; k++)
                drop[plain[k] - c->entries] = true;
        g = end;
    }
    size_t kept = 0;
    for (size_t i = 0; i < c->len; i++) {
        if (drop[i])
            free_entry(c, &c->entries[i]);
        else
            c->entries[kept++] = c->entries[i];
    }
    c->len = kept;
}

void ldcache_drop_hwcap_entries(struct ldcache *c)
{
    size_t kept = 0;
    for (size_t i = 0; i < c->len; i++) {
        struct ldcache_entry *e = &c->entries[i];
        if (e->hwcap != 0) {
            free_entry(c, e);
            continue;
        }
        c->entries[kept++] = *e;
    }
    c->len = kept;
}

/* The strings an entry may point at: [base, base + size), copied once into
 * pool. Offsets are relative to origin, which lies at or before base. */
struct strtab {
    const char *origin;
    size_t skip; /* base - origin */
    size_t size;
    const char *pool; /* the copy */
    size_t ends;      /* 1 + the position of the table's last NUL; 0: none */
    size_t budget;    /* bytes the entries' strings may still add up to */
};

#define STRINGS_SLACK (64u << 10)

/* Sets up t over [origin + skip, + size) of a file of file_len bytes, and
 * c->pool with its copy. */
static void strtab_init(struct strtab *t, struct ldcache *c, const char *origin, size_t skip,
                        size_t size, size_t file_len)
{
    *t = (struct strtab){.origin = origin, .skip = skip, .size = size};
    c->pool = xmalloc(size + 1);
    c->pool_len = size;
    memcpy(c->pool, origin + skip, size);
    c->pool[size] = '\0';
    t->pool = c->pool;
    const char *last = size > 0 ? memrchr(t->pool, '\0', size) : NULL;
    t->ends = last != NULL ? (size_t)(last - t->pool) + 1 : 0;
    t->budget = 2 * file_len + STRINGS_SLACK;
}

/* The string at off, in the pool; NULL with *err set when it is outside the
 * table, has no NUL there, or the entries' strings pass the budget. Its
 * length costs no more than the budget it takes. */
static const char *string_at(struct strtab *t, uint32_t off, uint32_t entry, const char *what,
                             gctk_error **err)
{
    /* every string before the table's last NUL ends inside the table */
    if (off < t->skip || off - t->skip >= t->ends) {
        gctk_fail(err, 0,
                  "entry %u: %s offset %u is outside the string table or not NUL-terminated", entry,
                  what, off);
        return NULL;
    }
    const char *s = t->pool + (off - t->skip);
    size_t room = t->ends - (off - t->skip);
    size_t len = strnlen(s, room < t->budget ? room : t->budget);
    if (len >= t->budget) {
        gctk_fail(err, 0,
                  "entry %u: the entries name more than %zu bytes of strings in a file of %zu "
                  "(entries pointing at the same long strings)",
                  entry, 2 * (t->skip + t->size) + STRINGS_SLACK, t->skip + t->size);
        return NULL;
    }
    t->budget -= len + 1;
    return s;
}

/* Appends count entries of entry_size bytes at p to out; hwcap is read only
 * from the new format (with_hwcap). The strings stay in the pool. */
static int parse_entries(const unsigned char *p, uint32_t count, size_t entry_size, bool with_hwcap,
                         struct strtab *t, struct ldcache *out, gctk_error **err)
{
    for (uint32_t i = 0; i < count; i++, p += entry_size) {
        const char *soname = string_at(t, get_u32(p + 4), i, "name", err);
        const char *path = soname != NULL ? string_at(t, get_u32(p + 8), i, "path", err) : NULL;
        if (path == NULL)
            return -1;
        append(out, (struct ldcache_entry){.soname = (char *)soname,
                                           .path = (char *)path,
                                           .flags = get_u32(p),
                                           .hwcap = with_hwcap ? get_u64(p + 16) : 0});
    }
    return 0;
}

static int parse_new(const unsigned char *p, size_t len, struct ldcache *out, gctk_error **err)
{
    if (len < NEW_HEADER_SIZE)
        return gctk_fail(err, 0, "truncated header: %zu of %u bytes", len, NEW_HEADER_SIZE);
    uint32_t nlibs = get_u32(p + 20), len_strings = get_u32(p + 24);
    unsigned flags = p[28];
    if ((flags & NEW_FLAGS_ENDIAN_MASK) != 0 && (flags & NEW_FLAGS_ENDIAN_MASK) != NEW_FLAGS_LITTLE)
        return gctk_fail(err, 0, "not a little-endian cache (flags 0x%x)", flags);
    size_t room = len - NEW_HEADER_SIZE;
    if (nlibs > room / NEW_ENTRY_SIZE)
        return gctk_fail(err, 0, "%u entries do not fit in %zu bytes", nlibs, room);
    size_t entries_end = NEW_HEADER_SIZE + (size_t)nlibs * NEW_ENTRY_SIZE;
    if (len_strings > len - entries_end)
        return gctk_fail(err, 0, "string table of %u bytes overruns the file (%zu left)",
                         len_strings, len - entries_end);
    struct strtab t;
    strtab_init(&t, out, (const char *)p, entries_end, len_strings, len);
    return parse_entries(p + NEW_HEADER_SIZE, nlibs, NEW_ENTRY_SIZE, true, &t, out, err);
}

static int parse_old(const unsigned char *p, size_t len, struct ldcache *out, gctk_error **err)
{
    if (len < OLD_HEADER_SIZE)
        return gctk_fail(err, 0, "truncated header: %zu of %u bytes", len, OLD_HEADER_SIZE);
    uint32_t nlibs = get_u32(p + 12);
    size_t room = len - OLD_HEADER_SIZE;
    if (nlibs > room / OLD_ENTRY_SIZE)
        return gctk_fail(err, 0, "%u entries do not fit in %zu bytes", nlibs, room);
    size_t entries_end = OLD_HEADER_SIZE + (size_t)nlibs * OLD_ENTRY_SIZE;

    /* ld.so looks for the new table right after the old one, aligned. */
    size_t new_at = (entries_end + NEW_ALIGN - 1) & ~(size_t)(NEW_ALIGN - 1);
    if (new_at <= len && len - new_at >= NEW_MAGIC_LEN &&
        memcmp(p + new_at, NEW_MAGIC, NEW_MAGIC_LEN) == 0) {
        if (parse_new(p + new_at, len - new_at, out, err) < 0)
            return gctk_wrap(err, "new table at offset %zu", new_at);
        return 0;
    }
    struct strtab t;
    strtab_init(&t, out, (const char *)p + entries_end, 0, len - entries_end, len);
    return parse_entries(p + OLD_HEADER_SIZE, nlibs, OLD_ENTRY_SIZE, false, &t, out, err);
}

int ldcache_parse(const void *data, size_t len, struct ldcache *out, gctk_error **err)
{
    const unsigned char *p = data;
    struct ldcache c = {0};
    int r;
    if (len >= NEW_MAGIC_LEN && memcmp(p, NEW_MAGIC, NEW_MAGIC_LEN) == 0)
        r = parse_new(p, len, &c, err);
    else if (len >= sizeof(OLD_MAGIC) - 1 && memcmp(p, OLD_MAGIC, sizeof(OLD_MAGIC) - 1) == 0)
        r = parse_old(p, len, &c, err);
    else
        return gctk_fail(err, 0, "not an ld.so.cache (unknown magic)");
    if (r < 0) {
        ldcache_clear(&c);
        return -1;
    }
    *out = c;
    return 0;
}

int ldcache_read(const char *path, struct ldcache *out, gctk_error **err)
{
    cleanup_free char *data = NULL;
    size_t len = 0;
    if (read_file(path, READ_MAX, &data, &len, err) < 0)
        return -1;
    if (ldcache_parse(data, len, out, err) < 0)
        return gctk_wrap(err, "parse `%s`", path);
    return 0;
}

static unsigned popcount64(uint64_t v)
{
    return (unsigned)__builtin_popcountll(v);
}

/* ldconfig's order: names descending in ldcache_libcmp order (ld.so's binary
 * search expects that), then flags descending, then the hwcap with more bits
 * first, then the larger hwcap. Equal entries keep their relative order. */
static int compare_entries(const void *pa, const void *pb)
{
    const struct ldcache_entry *a = *(const struct ldcache_entry *const *)pa;
    const struct ldcache_entry *b = *(const struct ldcache_entry *const *)pb;
    int r = ldcache_libcmp(b->soname, a->soname);
    if (r != 0)
        return r;
    if (a->flags != b->flags)
        return a->flags > b->flags ? -1 : 1;
    if (popcount64(a->hwcap) != popcount64(b->hwcap))
        return popcount64(a->hwcap) > popcount64(b->hwcap) ? -1 : 1;
    if (a->hwcap != b->hwcap)
        return a->hwcap > b->hwcap ? -1 : 1;
    return a < b ? -1 : a > b;
}

/* Sorts c's entries into the order ld.so expects; stable. */
static void sort_entries(struct ldcache *c)
{
    cleanup_free struct ldcache_entry **order = xcalloc(c->len, sizeof(*order));
    for (size_t i = 0; i < c->len; i++)
        order[i] = &c->entries[i];
    qsort(order, c->len, sizeof(*order), compare_entries);
    cleanup_free struct ldcache_entry *sorted = xcalloc(c->len, sizeof(*sorted));
    for (size_t i = 0; i < c->len; i++)
        sorted[i] = *order[i];
    if (c->len > 0)
        memcpy(c->entries, sorted, c->len * sizeof(*sorted));
}

/* Where the writer puts a string of the pool: strings of one NUL-terminated
 * run of the pool (a name that is the tail of its path, as ldconfig stores
 * it, or any number of entries naming the same string) share one copy. */
struct placed {
    const char *s;
    size_t pos; /* in the output's string table */
};

static int compare_placed(const void *pa, const void *pb)
{
    uintptr_t a = (uintptr_t)((const struct placed *)pa)->s;
    uintptr_t b = (uintptr_t)((const struct placed *)pb)->s;
    return a < b ? -1 : a > b;
}

static size_t placed_pos(const struct placed *v, size_t n, const char *s)
{
    struct placed key = {.s = s};
    const struct placed *f = bsearch(&key, v, n, sizeof(*v), compare_placed);
    return f->pos;
}

int ldcache_serialize(struct ldcache *c, char **out, size_t *len, gctk_error **err)
{
    for (size_t i = 0; i < c->len; i++)
        if (c->entries[i].hwcap & HWCAP_EXTENSION)
            return gctk_fail(err, 0,
                             "entry `%s` needs the glibc-hwcaps extension, which is not "
                             "written: drop hwcap entries first",
                             c->entries[i].soname);
    ldcache_merge(c);
    /* the pool's strings: each run once, in the pool's order */
    cleanup_free struct placed *v = xcalloc(2 * c->len + 1, sizeof(*v));
    size_t nv = 0, strings = 0;
    for (size_t i = 0; i < c->len; i++) {
        const struct ldcache_entry *e = &c->entries[i];
        if (pooled(c, e->path))
            v[nv++].s = e->path;
        if (pooled(c, e->soname))
            v[nv++].s = e->soname;
    }
    qsort(v, nv, sizeof(*v), compare_placed);
    cleanup_free struct placed *runs = xcalloc(nv + 1, sizeof(*runs));
    size_t unique = 0, nruns = 0;
    const char *run_end = NULL;
    for (size_t i = 0; i < nv; i++) {
        if (unique > 0 && v[i].s == v[unique - 1].s)
            continue;
        if (nruns == 0 || v[i].s >= run_end) {
            /* a new run: the pool's strings end at a NUL, so runs are disjoint */
            runs[nruns++] = (struct placed){.s = v[i].s, .pos = strings};
            run_end = v[i].s + strlen(v[i].s) + 1;
            strings += (size_t)(run_end - v[i].s);
        }
        const struct placed *r = &runs[nruns - 1];
        v[unique++] = (struct placed){.s = v[i].s, .pos = r->pos + (size_t)(v[i].s - r->s)};
    }
    size_t pool_strings = strings;
    /* the added entries' strings: the name stored as the path's tail when it
     * is one (as ldconfig does) */
    for (size_t i = 0; i < c->len; i++) {
        const struct ldcache_entry *e = &c->entries[i];
        if (!pooled(c, e->path))
            strings += strlen(e->path) + 1;
        if (!pooled(c, e->soname) && (pooled(c, e->path) || !str_has_suffix(e->path, e->soname)))
            strings += strlen(e->soname) + 1;
    }
    size_t entries_end = NEW_HEADER_SIZE + c->len * NEW_ENTRY_SIZE;
    if (c->len > UINT32_MAX || strings > UINT32_MAX || entries_end > UINT32_MAX - strings)
        return gctk_fail(err, 0, "%zu entries with %zu bytes of strings are too many", c->len,
                         strings);
    sort_entries(c);

    size_t total = entries_end + strings;
    unsigned char *buf = xcalloc(1, total);
    memcpy(buf, NEW_MAGIC, NEW_MAGIC_LEN);
    put_u32(buf + 20, (uint32_t)c->len);
    put_u32(buf + 24, (uint32_t)strings);
    buf[28] = NEW_FLAGS_LITTLE;
    /* extension_offset and unused[] stay 0: no extension section */
    for (size_t i = 0; i < nruns; i++)
        memcpy(buf + entries_end + runs[i].pos, runs[i].s, strlen(runs[i].s) + 1);
    size_t pos = entries_end + pool_strings;
    for (size_t i = 0; i < c->len; i++) {
        const struct ldcache_entry *e = &c->entries[i];
        unsigned char *ent = buf + NEW_HEADER_SIZE + i * NEW_ENTRY_SIZE;
        size_t value, key;
        if (pooled(c, e->path)) {
            value = entries_end + placed_pos(v, unique, e->path);
        } else {
            size_t plen = strlen(e->path);
            value = pos;
            memcpy(buf + pos, e->path, plen + 1);
            pos += plen + 1;
        }
        if (pooled(c, e->soname)) {
            key = entries_end + placed_pos(v, unique, e->soname);
        } else if (!pooled(c, e->path) && str_has_suffix(e->path, e->soname)) {
            key = value + strlen(e->path) - strlen(e->soname);
        } else {
            size_t slen = strlen(e->soname);
            key = pos;
            memcpy(buf + pos, e->soname, slen + 1);
            pos += slen + 1;
        }
        put_u32(ent, e->flags);
        put_u32(ent + 4, (uint32_t)key);
        put_u32(ent + 8, (uint32_t)value);
        put_u32(ent + 12, 0); /* osversion */
        put_u64(ent + 16, e->hwcap);
    }
    *out = (char *)buf;
    *len = total;
    return 0;
}
