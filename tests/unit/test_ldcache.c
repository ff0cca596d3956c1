/* Unit tests of lib/host/ldcache.c: the name order, both formats, hostile input,
 * and the writer's output checked by the real glibc (ldconfig -p, and ld.so
 * itself resolving libraries through the cache inside a chroot). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "bounds.h"
#include "ldcache.h"

/* ---- helpers --------------------------------------------------------------- */

struct tmp {
    char *dir;
};

static int setup_tmp(void **state)
{
    struct tmp *t = xcalloc(1, sizeof(*t));
    t->dir = xstrdup("/tmp/gctk-test-ldcache-XXXXXX");
    if (mkdtemp(t->dir) == NULL)
        return -1;
    *state = t;
    return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* Runs even when an assertion jumped out of the test. */
static int teardown_tmp(void **state)
{
    struct tmp *t = *state;
    if (t == NULL)
        return 0;
    nftw(t->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    free(t->dir);
    free(t);
    return 0;
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

/* Builds an old-format ("ld.so-1.7.0") image of n entries; names[i] and
 * paths[i] go to the string table that follows the entries. */
static unsigned char *build_old(size_t n, const char *const *names, const char *const *paths,
                                size_t *len)
{
    size_t strings = 0;
    for (size_t i = 0; i < n; i++)
        strings += strlen(names[i]) + strlen(paths[i]) + 2;
    size_t head = 16 + 12 * n;
    *len = head + strings;
    unsigned char *b = xcalloc(1, *len);
    memcpy(b, "ld.so-1.7.0", 11);
    put32(b + 12, (uint32_t)n);
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char *e = b + 16 + 12 * i;
        put32(e, LDCACHE_FLAG_X86_64);
        put32(e + 4, (uint32_t)pos);
        strcpy((char *)b + head + pos, names[i]);
        pos += strlen(names[i]) + 1;
        put32(e + 8, (uint32_t)pos);
        strcpy((char *)b + head + pos, paths[i]);
        pos += strlen(paths[i]) + 1;
    }
    return b;
}

/* A new-format image written by the module under test. */
static char *serialize_two(size_t *len)
{
    struct ldcache c = {0};
    ldcache_add(&c, "libcuda.so.1", "/usr/lib/x86_64-linux-gnu/libcuda.so.580.1",
                LDCACHE_FLAG_X86_64);
    ldcache_add(&c, "libz.so.1", "/lib/x86_64-linux-gnu/libz.so.1", LDCACHE_FLAG_X86_64);
    char *out = NULL;
    assert_int_equal(ldcache_serialize(&c, &out, len, NULL), 0);
    ldcache_clear(&c);
    return out;
}

static const struct ldcache_entry *find(const struct ldcache *c, const char *soname, uint32_t flags)
{
    for (size_t i = 0; i < c->len; i++)
        if (strcmp(c->entries[i].soname, soname) == 0 && c->entries[i].flags == flags)
            return &c->entries[i];
    return NULL;
}

/* Expects parsing to fail with a message containing `want`. */
static void expect_parse_error(const void *data, size_t len, const char *want)
{
    struct ldcache c = {0};
    gctk_error *err = NULL;
    assert_int_equal(ldcache_parse(data, len, &c, &err), -1);
    assert_non_null(err);
    if (strstr(err->msg, want) == NULL)
        fail_msg("error `%s` does not mention `%s`", err->msg, want);
    assert_int_equal(c.len, 0);
    assert_null(c.entries);
    gctk_error_free(err);
}

static bool have_root(void)
{
    return geteuid() == 0;
}

static bool have_program(const char *cmd)
{
    cleanup_free char *s = xasprintf("%s >/dev/null 2>&1", cmd);
    return system(s) == 0;
}

/* ---- the order ------------------------------------------------------------- */

static int sign(int v)
{
    return (v > 0) - (v < 0);
}

static void test_libcmp(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b;
        int want;
    } cases[] = {
        {"libc.so.6", "libc.so.6", 0},
        {"libc.so.10", "libc.so.9", 1}, /* numbers, not characters */
        {"libfoo2.so", "libfoo10.so", -1},
        {"libx.so.007", "libx.so.7", 0}, /* leading zeros do not count */
        {"a1", "ab", 1},                 /* a digit sorts after a non-digit */
        {"ab", "a1", -1},
        {"a1", "a", 1},
        {"lib", "libc", -1}, /* a prefix sorts first */
        {"libc", "lib", 1},
        {"libA.so", "liba.so", -1},
        {"x99999999999999999999", "x1", 1}, /* no overflow */
        {"x18446744073709551616", "x18446744073709551615", 1},
        {"v1.2.3", "v1.2.10", -1},
        {"", "", 0},
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(cases); i++) {
        int got = sign(ldcache_libcmp(cases[i].a, cases[i].b));
        if (got != cases[i].want)
            fail_msg("libcmp(%s, %s) = %d, want %d", cases[i].a, cases[i].b, got, cases[i].want);
        assert_int_equal(sign(ldcache_libcmp(cases[i].b, cases[i].a)), -cases[i].want);
    }
}

/* ---- building a cache -------------------------------------------------------- */

static void test_add_replaces_same_name_and_flags(void **state)
{
    (void)state;
    struct ldcache c = {0};
    ldcache_add(&c, "libcuda.so.1", "/old/libcuda.so.1", LDCACHE_FLAG_X86_64);
    ldcache_add(&c, "libcuda.so.1", "/lib32/libcuda.so.1", LDCACHE_FLAG_I386);
    ldcache_add(&c, "libcuda.so.1", "/new/libcuda.so.1", LDCACHE_FLAG_X86_64);
    assert_int_equal(c.len, 3); /* until merged */
    ldcache_merge(&c);
    assert_int_equal(c.len, 2);
    assert_string_equal(find(&c, "libcuda.so.1", LDCACHE_FLAG_X86_64)->path, "/new/libcuda.so.1");
    assert_string_equal(find(&c, "libcuda.so.1", LDCACHE_FLAG_I386)->path, "/lib32/libcuda.so.1");

    /* a hwcap variant of the same name is another library: it stays */
    ((struct ldcache_entry *)find(&c, "libcuda.so.1", LDCACHE_FLAG_X86_64))->hwcap = 1ull << 62;
    ldcache_add(&c, "libcuda.so.1", "/newer/libcuda.so.1", LDCACHE_FLAG_X86_64);
    ldcache_merge(&c);
    assert_int_equal(c.len, 3);
    ldcache_drop_hwcap_entries(&c);
    assert_int_equal(c.len, 2);
    for (size_t i = 0; i < c.len; i++)
        assert_int_equal(c.entries[i].hwcap, 0);
    assert_string_equal(find(&c, "libcuda.so.1", LDCACHE_FLAG_X86_64)->path, "/newer/libcuda.so.1");
    ldcache_clear(&c);
    ldcache_clear(&c); /* twice is harmless */
    ldcache_clear(NULL);
}

/* A cache with the same entry twice (glibc's ldconfig never writes one, a
 * hand-made cache may): adding it leaves exactly one, the added one. */
static void test_add_drops_duplicates(void **state)
{
    (void)state;
    const char *names[] = {"libcuda.so.1", "libz.so.1", "libcuda.so.1"};
    const char *paths[] = {"/old/a", "/lib/libz.so.1", "/old/b"};
    size_t len = 0;
    cleanup_free unsigned char *b = build_old(3, names, paths, &len);
    struct ldcache c = {0};
    assert_int_equal(ldcache_parse(b, len, &c, NULL), 0);
    assert_int_equal(c.len, 3);
    ldcache_merge(&c); /* nothing added: the image's cache as it was */
    assert_int_equal(c.len, 3);
    ldcache_add(&c, "libcuda.so.1", "/new/libcuda.so.1", LDCACHE_FLAG_X86_64);
    ldcache_merge(&c);
    assert_int_equal(c.len, 2);
    assert_string_equal(find(&c, "libcuda.so.1", LDCACHE_FLAG_X86_64)->path, "/new/libcuda.so.1");
    assert_string_equal(find(&c, "libz.so.1", LDCACHE_FLAG_X86_64)->path, "/lib/libz.so.1");
    ldcache_clear(&c);
}

static void test_roundtrip_sorted(void **state)
{
    (void)state;
    struct ldcache c = {0};
    const char *names[] = {"libc.so.6",   "libcuda.so.1", "libz.so.1",   "libfoo.so.10",
                           "libfoo.so.9", "libfoo2.so",   "libfoo10.so", "libA.so"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(names); i++) {
        cleanup_free char *path = xasprintf("/lib/x86_64-linux-gnu/%s", names[i]);
        ldcache_add(&c, names[i], path, LDCACHE_FLAG_X86_64);
    }
    ldcache_add(&c, "libz.so.1", "/lib/i386-linux-gnu/libz.so.1", LDCACHE_FLAG_I386);
    ldcache_add(&c, "liboddkey.so", "/opt/elsewhere/realname.so", LDCACHE_FLAG_X86_64);
    c.entries[0].hwcap = 0x4; /* a legacy hwcap entry keeps its value */

    cleanup_free char *data = NULL;
    size_t len = 0;
    assert_int_equal(ldcache_serialize(&c, &data, &len, NULL), 0);
    assert_memory_equal(data, "glibc-ld.so.cache1.1", 20);
    assert_int_equal(get32((unsigned char *)data + 20), c.len);
    assert_int_equal(((unsigned char *)data)[28], 2); /* little endian */

    struct ldcache back = {0};
    assert_int_equal(ldcache_parse(data, len, &back, NULL), 0);
    assert_int_equal(back.len, c.len);
    for (size_t i = 0; i < c.len; i++) {
        const struct ldcache_entry *e = find(&back, c.entries[i].soname, c.entries[i].flags);
        assert_non_null(e);
        assert_string_equal(e->path, c.entries[i].path);
        assert_int_equal(e->hwcap, c.entries[i].hwcap);
    }
    /* descending glibc order, ties by flags descending */
    for (size_t i = 1; i < back.len; i++) {
        int r = ldcache_libcmp(back.entries[i - 1].soname, back.entries[i].soname);
        assert_true(r >= 0);
        if (r == 0)
            assert_true(back.entries[i - 1].flags > back.entries[i].flags);
    }
    assert_string_equal(back.entries[0].soname, "libz.so.1");
    assert_int_equal(back.entries[0].flags, LDCACHE_FLAG_X86_64);
    assert_int_equal(back.entries[1].flags, LDCACHE_FLAG_I386);
    ldcache_clear(&back);
    ldcache_clear(&c);
}

static void test_serialize_empty(void **state)
{
    (void)state;
    struct ldcache c = {0}, back = {0};
    cleanup_free char *data = NULL;
    size_t len = 0;
    assert_int_equal(ldcache_serialize(&c, &data, &len, NULL), 0);
    assert_int_equal(len, 48);
    assert_int_equal(ldcache_parse(data, len, &back, NULL), 0);
    assert_int_equal(back.len, 0);
    ldcache_clear(&back);
}

static void test_serialize_refuses_hwcap_extension(void **state)
{
    (void)state;
    struct ldcache c = {0};
    ldcache_add(&c, "libm.so.6", "/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libm.so.6",
                LDCACHE_FLAG_X86_64);
    c.entries[0].hwcap = (1ull << 62) | 1;
    char *data = NULL;
    size_t len = 0;
    gctk_error *err = NULL;
    assert_int_equal(ldcache_serialize(&c, &data, &len, &err), -1);
    assert_null(data);
    assert_non_null(strstr(err->msg, "drop hwcap entries first"));
    gctk_error_free(err);
    ldcache_drop_hwcap_entries(&c);
    assert_int_equal(ldcache_serialize(&c, &data, &len, NULL), 0);
    free(data);
    ldcache_clear(&c);
}

/* glibc's search_cache, restated: a binary search over the sorted entries
 * with ldcache_libcmp, then back to the first equal name. Every name of a
 * large cache must be found by it. */
static const char *glibc_search(const unsigned char *data, size_t len, const char *name)
{
    uint32_t n = get32(data + 20);
    long left = 0, right = (long)n - 1;
    (void)len;
    while (left <= right) {
        long mid = (left + right) / 2;
        const unsigned char *e = data + 48 + 24 * mid;
        int r = ldcache_libcmp(name, (const char *)data + get32(e + 4));
        if (r == 0) {
            while (mid > 0 &&
                   ldcache_libcmp((const char *)data + get32(data + 48 + 24 * (mid - 1) + 4),
                                  name) == 0)
                mid--;
            return (const char *)data + get32(data + 48 + 24 * mid + 8);
        }
        if (r < 0)
            left = mid + 1;
        else
            right = mid - 1;
    }
    return NULL;
}

static void test_binary_search_finds_every_name(void **state)
{
    (void)state;
    struct ldcache c = {0};
    uint32_t seed = 12345;
    const char *stems[] = {"lib", "libnvidia-", "libGL", "libx", "lib-", "libv"};
    for (int i = 0; i < 2000; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned a = (seed >> 8) % 200, b = (seed >> 4) % 13, s = (seed >> 20) % 6;
        cleanup_free char *name = xasprintf("%s%u%s.so.%u", stems[s], a, b % 2 ? "x" : "", b);
        cleanup_free char *path = xasprintf("/usr/lib/%d/%s", i, name);
        ldcache_add(&c, name, path, LDCACHE_FLAG_X86_64);
    }
    cleanup_free char *data = NULL;
    size_t len = 0;
    assert_int_equal(ldcache_serialize(&c, &data, &len, NULL), 0);
    for (size_t i = 0; i < c.len; i++) {
        const char *got = glibc_search((unsigned char *)data, len, c.entries[i].soname);
        if (got == NULL || strcmp(got, c.entries[i].path) != 0)
            fail_msg("binary search for `%s` found `%s`", c.entries[i].soname,
                     got ? got : "nothing");
    }
    assert_null(glibc_search((unsigned char *)data, len, "libnotthere.so.1"));
    ldcache_clear(&c);
}

/* ---- parsing ------------------------------------------------------------------- */

static void test_parse_old_format(void **state)
{
    (void)state;
    const char *names[] = {"libz.so.1", "libc.so.6"};
    const char *paths[] = {"/lib/x86_64-linux-gnu/libz.so.1", "/lib/x86_64-linux-gnu/libc.so.6"};
    size_t len = 0;
    cleanup_free unsigned char *b = build_old(2, names, paths, &len);
    struct ldcache c = {0};
    assert_int_equal(ldcache_parse(b, len, &c, NULL), 0);
    assert_int_equal(c.len, 2);
    assert_string_equal(c.entries[0].soname, "libz.so.1");
    assert_string_equal(c.entries[1].path, "/lib/x86_64-linux-gnu/libc.so.6");
    assert_int_equal(c.entries[1].flags, LDCACHE_FLAG_X86_64);
    ldcache_clear(&c);
}

/* The old table followed by a new one: the new one wins. */
static void test_parse_combined_prefers_new(void **state)
{
    (void)state;
    const char *names[] = {"libold.so.1"};
    const char *paths[] = {"/old/libold.so.1"};
    size_t old_len = 0, new_len = 0;
    cleanup_free unsigned char *old = build_old(1, names, paths, &old_len);
    cleanup_free char *new = serialize_two(&new_len);
    /* 16 + 12 = 28: the new table goes at 32 */
    size_t len = 32 + new_len;
    cleanup_free unsigned char *b = xcalloc(1, len);
    memcpy(b, old, 28);
    memcpy(b + 32, new, new_len);
    struct ldcache c = {0};
    assert_int_equal(ldcache_parse(b, len, &c, NULL), 0);
    assert_int_equal(c.len, 2);
    assert_null(find(&c, "libold.so.1", LDCACHE_FLAG_X86_64));
    assert_non_null(find(&c, "libcuda.so.1", LDCACHE_FLAG_X86_64));
    ldcache_clear(&c);

    /* a broken new table is an error, not a silent fall-back to the old */
    put32(b + 32 + 24, 0xffffff);
    expect_parse_error(b, len, "new table at offset 32");
}

static void test_parse_hostile(void **state)
{
    (void)state;
    size_t len = 0;
    cleanup_free char *good = serialize_two(&len);
    cleanup_free unsigned char *b = xmalloc(len);

    expect_parse_error("", 0, "unknown magic");
    expect_parse_error("ELF\x7f................", 20, "unknown magic");
    expect_parse_error(good, 30, "truncated header");
    expect_parse_error("ld.so-1.7.0\0\1\0", 14, "truncated header");

    memcpy(b, good, len); /* nlibs huge */
    put32(b + 20, 0xffffffffu);
    expect_parse_error(b, len, "entries do not fit");

    memcpy(b, good, len); /* len_strings lying: larger than the file */
    put32(b + 24, get32(b + 24) + 1);
    expect_parse_error(b, len, "overruns the file");
    put32(b + 24, 0xffffffffu);
    expect_parse_error(b, len, "overruns the file");

    memcpy(b, good, len); /* len_strings lying: smaller, cutting strings off */
    put32(b + 24, 4);
    expect_parse_error(b, len, "outside the string table");

    memcpy(b, good, len); /* key out of range */
    put32(b + 48 + 4, 0x7fffffffu);
    expect_parse_error(b, len, "entry 0: name offset");

    memcpy(b, good, len); /* value pointing into the header */
    put32(b + 48 + 24 + 8, 3);
    expect_parse_error(b, len, "entry 1: path offset 3");

    memcpy(b, good, len); /* last string not NUL-terminated */
    b[len - 1] = 'x';
    expect_parse_error(b, len, "not NUL-terminated");

    memcpy(b, good, len); /* big-endian cache */
    b[28] = 3;
    expect_parse_error(b, len, "not a little-endian cache");
    b[28] = 0; /* no endianness recorded: accepted, as ld.so does */
    struct ldcache c = {0};
    assert_int_equal(ldcache_parse(b, len, &c, NULL), 0);
    ldcache_clear(&c);

    /* old format: nlibs huge, string not terminated, offset out of range */
    const char *names[] = {"libz.so.1"};
    const char *paths[] = {"/lib/libz.so.1"};
    size_t olen = 0;
    cleanup_free unsigned char *old = build_old(1, names, paths, &olen);
    put32(old + 12, 0x20000000u);
    expect_parse_error(old, olen, "entries do not fit");
    put32(old + 12, 1);
    old[olen - 1] = '!';
    expect_parse_error(old, olen, "entry 0: path offset");
    old[olen - 1] = '\0';
    put32(old + 16 + 4, (uint32_t)olen);
    expect_parse_error(old, olen, "entry 0: name offset");
}

/* Every prefix of a valid image either parses or fails cleanly; under ASan
 * this shows that no length is trusted beyond the buffer. */
static void test_parse_every_truncation(void **state)
{
    (void)state;
    size_t len = 0;
    cleanup_free char *good = serialize_two(&len);
    for (size_t n = 0; n < len; n++) {
        char *copy = xmalloc(n ? n : 1); /* exact size, so ASan sees an over-read */
        memcpy(copy, good, n);
        struct ldcache c = {0};
        gctk_error *err = NULL;
        assert_int_equal(ldcache_parse(copy, n, &c, &err), -1);
        assert_non_null(err);
        gctk_error_free(err);
        free(copy);
    }
}

static void test_read_errors(void **state)
{
    struct tmp *t = *state;
    struct ldcache c = {0};
    gctk_error *err = NULL;
    assert_int_equal(ldcache_read("/nonexistent/ld.so.cache", &c, &err), -1);
    assert_int_equal(err->code, ENOENT);
    gctk_error_free(err);
    err = NULL;

    cleanup_free char *big = xasprintf("%s/big", t->dir);
    int fd = open(big, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (64 << 20) + 1), 0); /* sparse */
    close(fd);
    assert_int_equal(ldcache_read(big, &c, &err), -1);
    assert_int_equal(err->code, EFBIG);
    gctk_error_free(err);
    err = NULL;

    cleanup_free char *bad = xasprintf("%s/bad", t->dir);
    write_bytes(bad, "hello", 5);
    assert_int_equal(ldcache_read(bad, &c, &err), -1);
    assert_non_null(strstr(err->msg, "parse `"));
    assert_non_null(strstr(err->msg, "unknown magic"));
    gctk_error_free(err);
}

/* The host's own cache: as many entries as glibc's ldconfig lists. */
static void test_parse_host_cache(void **state)
{
    (void)state;
    if (access("/etc/ld.so.cache", R_OK) != 0 || !have_program("ldconfig --version"))
        skip();
    struct ldcache c = {0};
    gctk_error *err = NULL;
    if (ldcache_read("/etc/ld.so.cache", &c, &err) < 0)
        fail_msg("%s", err->msg);
    FILE *p = popen("ldconfig -p -C /etc/ld.so.cache", "r");
    assert_non_null(p);
    size_t listed = 0;
    assert_int_equal(fscanf(p, "%zu libs found", &listed), 1);
    pclose(p);
    assert_int_equal(c.len, listed);
    assert_true(find(&c, "libc.so.6", LDCACHE_FLAG_X86_64) != NULL);
    ldcache_clear(&c);
}

/* Caches written by glibc's ldconfig in all three formats. */
static void test_parse_glibc_written(void **state)
{
    struct tmp *t = *state;
    if (!have_root() || !have_program("ldconfig --version"))
        skip(); /* ldconfig -r chroots */
    cleanup_free char *libdir = xasprintf("%s/lib/x86_64-linux-gnu", t->dir);
    cleanup_free char *cmd =
        xasprintf("mkdir -p %s %s/etc && touch %s/etc/ld.so.conf && "
                  "cp /lib/x86_64-linux-gnu/libz.so.1 /lib/x86_64-linux-gnu/libc.so.6 %s/",
                  libdir, t->dir, t->dir, libdir);
    assert_int_equal(system(cmd), 0);
    const char *formats[] = {"old", "compat", "new"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(formats); i++) {
        cleanup_free char *run =
            xasprintf("ldconfig -X -r %s -c %s -C /etc/cache.%s", t->dir, formats[i], formats[i]);
        assert_int_equal(system(run), 0);
        cleanup_free char *file = xasprintf("%s/etc/cache.%s", t->dir, formats[i]);
        struct ldcache c = {0};
        gctk_error *err = NULL;
        if (ldcache_read(file, &c, &err) < 0)
            fail_msg("%s: %s", formats[i], err->msg);
        const struct ldcache_entry *z = find(&c, "libz.so.1", LDCACHE_FLAG_X86_64);
        assert_non_null(z);
        assert_string_equal(z->path, "/lib/x86_64-linux-gnu/libz.so.1");
        assert_non_null(find(&c, "libc.so.6", LDCACHE_FLAG_X86_64));
        ldcache_clear(&c);
    }
}

/* ---- bounds: work and memory follow the input ------------------------------------- */

/* A new-format image of n entries whose name and path offsets (relative to
 * the string table) are keys[i] and values[i], over the given table. */
static unsigned char *build_new(size_t n, const uint32_t *keys, const uint32_t *values,
                                const char *table, size_t table_len, size_t *len)
{
    size_t entries_end = 48 + 24 * n;
    *len = entries_end + table_len;
    unsigned char *b = xcalloc(1, *len);
    memcpy(b, "glibc-ld.so.cache1.1", 20);
    put32(b + 20, (uint32_t)n);
    put32(b + 24, (uint32_t)table_len);
    b[28] = 2;
    for (size_t i = 0; i < n; i++) {
        unsigned char *e = b + 48 + 24 * i;
        put32(e, LDCACHE_FLAG_X86_64);
        put32(e + 4, (uint32_t)(entries_end + keys[i]));
        put32(e + 8, (uint32_t)(entries_end + values[i]));
    }
    memcpy(b + entries_end, table, table_len);
    return b;
}

/* Regression: a small cache whose entries all name one long string was
 * copied once per entry, then written once per entry (484 KB became an
 * 82 MB cache in the container): the entries may name at most twice the
 * file's bytes of strings. */
static void test_shared_long_string_refused(void **state)
{
    (void)state;
    size_t n = 2000, slen = 60000;
    cleanup_free char *table = xmalloc(slen + 1);
    memset(table, 'a', slen);
    table[slen] = '\0';
    cleanup_free uint32_t *offs = xcalloc(n, sizeof(uint32_t));
    size_t len = 0;
    cleanup_free unsigned char *b = build_new(n, offs, offs, table, slen + 1, &len);
    expect_parse_error(b, len, "the entries name more than");
}

/* Entries that share strings within the bound (a path named by many
 * entries): each string is written once, the output is no larger than the
 * input, and every entry reads back as it was. */
static void test_shared_strings_written_once(void **state)
{
    (void)state;
    size_t n = 5000;
    struct strbuf t = {0};
    strbuf_addf(&t, "/usr/lib/x86_64-linux-gnu/libshared.so.1%c", '\0');
    cleanup_free uint32_t *keys = xcalloc(n, sizeof(uint32_t));
    cleanup_free uint32_t *values = xcalloc(n, sizeof(uint32_t));
    for (size_t i = 0; i < n; i++) {
        keys[i] = (uint32_t)t.len;
        strbuf_addf(&t, "libname%zu.so.1%c", i, '\0');
    }
    size_t len = 0;
    cleanup_free unsigned char *b = build_new(n, keys, values, t.s, t.len, &len);
    struct ldcache c = {0};
    assert_int_equal(ldcache_parse(b, len, &c, NULL), 0);
    assert_int_equal(c.len, n);
    cleanup_free char *out = NULL;
    size_t out_len = 0;
    assert_int_equal(ldcache_serialize(&c, &out, &out_len, NULL), 0);
    if (out_len > len)
        fail_msg("%zu bytes written for a cache of %zu", out_len, len);
    struct ldcache back = {0};
    assert_int_equal(ldcache_parse(out, out_len, &back, NULL), 0);
    assert_int_equal(back.len, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(back.entries[i].path, "/usr/lib/x86_64-linux-gnu/libshared.so.1");
    ldcache_clear(&back);
    ldcache_clear(&c);
    free(t.s);
}

/* An image's cache of 400,000 entries and 50,000 libraries of an image's
 * folder added (the CDI update-ldcache hook): each addition searched every
 * entry, 2 * 10^10 comparisons. */
static void merge_many(void)
{
    size_t n = 400000, adds = 50000;
    struct strbuf t = {0};
    cleanup_free uint32_t *keys = xcalloc(n, sizeof(uint32_t));
    cleanup_free uint32_t *values = xcalloc(n, sizeof(uint32_t));
    for (size_t i = 0; i < n; i++) {
        keys[i] = (uint32_t)t.len + 5;
        values[i] = (uint32_t)t.len;
        strbuf_addf(&t, "/lib/libimage%zu.so%c", i, '\0');
    }
    size_t len = 0;
    cleanup_free unsigned char *b = build_new(n, keys, values, t.s, t.len, &len);
    free(t.s);
    struct ldcache c = {0};
    if (ldcache_parse(b, len, &c, NULL) < 0)
        _exit(2);
    for (size_t i = 0; i < adds; i++) {
        char name[64], path[96];
        snprintf(name, sizeof(name), "libimage%zu.so", i * 7);
        snprintf(path, sizeof(path), "/folder/%s", name);
        ldcache_add(&c, name, path, LDCACHE_FLAG_X86_64);
    }
    char *out = NULL;
    size_t out_len = 0;
    if (ldcache_serialize(&c, &out, &out_len, NULL) < 0 || c.len != n)
        _exit(3);
    free(out);
    ldcache_clear(&c);
}

static void test_merge_is_not_quadratic(void **state)
{
    (void)state;
    assert_true(within_cpu_seconds(merge_many, 30));
}

/* ---- the writer against the real glibc ------------------------------------------- */

static void test_ldconfig_lists_written_cache(void **state)
{
    struct tmp *t = *state;
    if (!have_program("ldconfig --version"))
        skip();
    struct ldcache c = {0};
    ldcache_add(&c, "libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6", LDCACHE_FLAG_X86_64);
    ldcache_add(&c, "libcuda.so.1", "/usr/lib/x86_64-linux-gnu/libcuda.so.580.159.04",
                LDCACHE_FLAG_X86_64);
    ldcache_add(&c, "libcuda.so.1", "/usr/lib/i386-linux-gnu/libcuda.so.580.159.04",
                LDCACHE_FLAG_I386);
    /* an aarch64 image's (Grace Hopper): glibc names the flag it knows */
    ldcache_add(&c, "libcuda.so.1", "/usr/lib/aarch64-linux-gnu/libcuda.so.580.159.04",
                LDCACHE_FLAG_AARCH64);
    for (int i = 0; i < 50; i++) {
        cleanup_free char *name = xasprintf("libdummy%d.so.%d", i, i % 7);
        cleanup_free char *path = xasprintf("/opt/dummy/%s", name);
        ldcache_add(&c, name, path, LDCACHE_FLAG_X86_64);
    }
    cleanup_free char *data = NULL;
    size_t len = 0;
    assert_int_equal(ldcache_serialize(&c, &data, &len, NULL), 0);
    cleanup_free char *file = xasprintf("%s/ld.so.cache", t->dir);
    write_bytes(file, data, len);

    cleanup_free char *cmd = xasprintf("ldconfig -p -C %s 2>&1", file);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    cleanup_free char *out = xcalloc(1, 1 << 16);
    size_t n = fread(out, 1, (1 << 16) - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    cleanup_free char *head = xasprintf("%zu libs found in cache `%s'", c.len, file);
    if (strstr(out, head) == NULL)
        fail_msg("ldconfig -p printed:\n%s", out);
    for (size_t i = 0; i < c.len; i++) {
        const struct ldcache_entry *e = &c.entries[i];
        cleanup_free char *line = xasprintf("\t%s (%s) => %s\n", e->soname,
                                            e->flags == LDCACHE_FLAG_X86_64    ? "libc6,x86-64"
                                            : e->flags == LDCACHE_FLAG_AARCH64 ? "libc6,AArch64"
                                                                               : "libc6",
                                            e->path);
        if (strstr(out, line) == NULL)
            fail_msg("ldconfig -p does not list `%s`:\n%s", line, out);
    }
    ldcache_clear(&c);
}

/* Names whose order a wrong comparison gets wrong: numbers of different
 * widths, digits against letters, case, shared prefixes. */
static const char *const lookup_names[] = {
    "libgctk.so.1",  "libgctk.so.2",      "libgctk.so.9",   "libgctk.so.10",   "libgctk.so.100",
    "libgctk2.so.1", "libgctk10.so.1",    "libgctk-1.2.so", "libgctk-1.10.so", "libgctka.so.1",
    "libgctkA.so.1", "libgctk_x.so.3",    "libgctk.so.1.5", "libgctk.so.1.40", "libgctkz9.so",
    "libgctkz10.so", "libgctk-cuda.so.1", "libgctk.so",     "libgctk3x.so.12", "libgctk30x.so.2",
};

/* Runs /prog in a chroot at root with an empty environment; returns its
 * exit status (-1 when it did not exit), its stderr in root/err. */
static int run_in_chroot(const char *root, const char *prog)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        cleanup_free char *errf = xasprintf("%s/err", root);
        int fd = open(errf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || dup2(fd, 2) < 0 || chroot(root) < 0 || chdir("/") < 0)
            _exit(126);
        char *argv[] = {(char *)prog, NULL};
        char *envp[] = {NULL};
        execve(prog, argv, envp);
        _exit(125);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void write_cache(const char *root, struct ldcache *c, bool reversed)
{
    cleanup_free char *data = NULL;
    size_t len = 0;
    assert_int_equal(ldcache_serialize(c, &data, &len, NULL), 0);
    if (reversed) {
        unsigned char *e = (unsigned char *)data + 48, tmp[24];
        for (size_t i = 0, j = c->len - 1; i < j; i++, j--) {
            memcpy(tmp, e + 24 * i, 24);
            memcpy(e + 24 * i, e + 24 * j, 24);
            memcpy(e + 24 * j, tmp, 24);
        }
    }
    cleanup_free char *file = xasprintf("%s/etc/ld.so.cache", root);
    write_bytes(file, data, len);
}

/* The real ld.so resolves libraries that live only in a directory it does
 * not search by default, so each one is found through the written cache
 * and its binary search or not at all. A chroot gives ld.so a cache of our
 * making without touching the host's. */
static void test_ld_so_resolves_through_written_cache(void **state)
{
    struct tmp *t = *state;
    if (!have_root())
        skip(); /* chroot */
    if (!have_program("cc --version") || access("/lib64/ld-linux-x86-64.so.2", X_OK) != 0)
        skip();
    const char *root = t->dir;
    cleanup_free char *setup =
        xasprintf("set -e; cd %s; mkdir -p lib64 etc bin src opt/gctk-libc opt/gctk-lookup; "
                  "cp -L /lib64/ld-linux-x86-64.so.2 lib64/; cp -L /bin/true bin/; "
                  "cp -L /lib/x86_64-linux-gnu/libc.so.6 opt/gctk-libc/; "
                  "echo 'int gctk_probe(void) { return 1; }' > src/lib.c; "
                  "cc -c -fPIC -o src/lib.o src/lib.c; "
                  /* a program with no libc: it only has to be loaded, then exits */
                  "printf '%%s\\n' 'void _start(void) {' "
                  "'__asm__ volatile(\"mov $60, %%eax; xor %%edi, %%edi; syscall\");' '}' "
                  "> src/prog.c",
                  root);
    assert_int_equal(system(setup), 0);
    cleanup_free char *link =
        xasprintf("cd %s && cc -nostdlib -fPIC -o prog src/prog.c "
                  "-Wl,--no-as-needed,--dynamic-linker=/lib64/ld-linux-x86-64.so.2",
                  root);
    for (size_t i = 0; i < GCTK_ARRAY_LEN(lookup_names); i++) {
        cleanup_free char *cmd = xasprintf(
            "cd %s && cc -shared -nostdlib -Wl,-soname,%s -o opt/gctk-lookup/%s src/lib.o", root,
            lookup_names[i], lookup_names[i]);
        assert_int_equal(system(cmd), 0);
        char *more = xasprintf("%s opt/gctk-lookup/%s", link, lookup_names[i]);
        free(link);
        link = more;
    }
    assert_int_equal(system(link), 0);

    /* Without the cache nothing is found: the test cannot pass by accident. */
    struct ldcache c = {0};
    write_cache(root, &c, false);
    assert_int_not_equal(run_in_chroot(root, "/prog"), 0);
    assert_int_not_equal(run_in_chroot(root, "/bin/true"), 0);

    for (size_t i = 0; i < GCTK_ARRAY_LEN(lookup_names); i++) {
        cleanup_free char *path = xasprintf("/opt/gctk-lookup/%s", lookup_names[i]);
        ldcache_add(&c, lookup_names[i], path, LDCACHE_FLAG_X86_64);
        /* neighbours that point nowhere, so that the search has depth */
        for (int k = 0; k < 12; k++) {
            cleanup_free char *name = xasprintf("%s.%d", lookup_names[i], k * 7);
            cleanup_free char *nowhere = xasprintf("/nonexistent/%s", name);
            ldcache_add(&c, name, nowhere, LDCACHE_FLAG_X86_64);
        }
        cleanup_free char *name32 = xstrdup(lookup_names[i]);
        ldcache_add(&c, name32, "/nonexistent/i386", LDCACHE_FLAG_I386);
    }
    for (int k = 0; k < 300; k++) {
        cleanup_free char *name = xasprintf("lib%c%d.so.%d", 'a' + k % 26, k, k % 11);
        ldcache_add(&c, name, "/nonexistent/x", LDCACHE_FLAG_X86_64);
    }
    ldcache_add(&c, "libc.so.6", "/opt/gctk-libc/libc.so.6", LDCACHE_FLAG_X86_64);

    /* A cache in the wrong order must make ld.so miss: the order matters. */
    write_cache(root, &c, true);
    assert_int_not_equal(run_in_chroot(root, "/prog"), 0);

    write_cache(root, &c, false);
    int rc = run_in_chroot(root, "/prog");
    if (rc != 0) {
        cleanup_free char *errf = xasprintf("%s/err", root);
        cleanup_free char *msg = NULL;
        read_file(errf, 4096, &msg, NULL, NULL);
        fail_msg("ld.so could not load /prog through the cache (status %d): %s", rc,
                 msg ? msg : "");
    }
    assert_int_equal(run_in_chroot(root, "/bin/true"), 0);
    ldcache_clear(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_libcmp),
        cmocka_unit_test(test_add_replaces_same_name_and_flags),
        cmocka_unit_test(test_add_drops_duplicates),
        cmocka_unit_test(test_roundtrip_sorted),
        cmocka_unit_test(test_serialize_empty),
        cmocka_unit_test(test_serialize_refuses_hwcap_extension),
        cmocka_unit_test(test_binary_search_finds_every_name),
        cmocka_unit_test(test_parse_old_format),
        cmocka_unit_test(test_parse_combined_prefers_new),
        cmocka_unit_test(test_parse_hostile),
        cmocka_unit_test(test_parse_every_truncation),
        cmocka_unit_test(test_shared_long_string_refused),
        cmocka_unit_test(test_shared_strings_written_once),
        cmocka_unit_test(test_merge_is_not_quadratic),
        cmocka_unit_test_setup_teardown(test_read_errors, setup_tmp, teardown_tmp),
        cmocka_unit_test(test_parse_host_cache),
        cmocka_unit_test_setup_teardown(test_parse_glibc_written, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_ldconfig_lists_written_cache, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_ld_so_resolves_through_written_cache, setup_tmp,
                                        teardown_tmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
