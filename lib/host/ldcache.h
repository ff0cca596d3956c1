/* ld.so.cache: parse both glibc formats, merge, and write the new format.
 *
 * The input is untrusted (an image's cache): every count and offset is checked
 * against the buffer; nothing is followed outside it. A malformed cache is
 * refused as a whole (a truncated header, more entries than the file holds,
 * a string table longer than the file, an offset outside the string table, a
 * string without its NUL, a big-endian cache): the error names the entry and
 * err->code is 0. Nothing is salvaged, because the caller rebuilds the cache
 * that ld.so will trust and should report a broken one, not hide it. */
#ifndef GCTK_LDCACHE_H
#define GCTK_LDCACHE_H

#include <stdint.h>

#include "util.h"

/* Entry flags as glibc's ldconfig writes them (its ldconfig.h): the low
 * byte is the type (libc6), the high byte the ABI the library needs, which
 * ld.so compares with its own (lib/host/arch.c says whose is whose). */
#define LDCACHE_FLAG_ELF_LIBC6 0x0003u
#define LDCACHE_FLAG_REQUIRED_MASK 0xff00u
#define LDCACHE_FLAG_X8664_LIB64 0x0300u
#define LDCACHE_FLAG_AARCH64_LIB64 0x0a00u
#define LDCACHE_FLAG_X86_64 (LDCACHE_FLAG_ELF_LIBC6 | LDCACHE_FLAG_X8664_LIB64)
#define LDCACHE_FLAG_AARCH64 (LDCACHE_FLAG_ELF_LIBC6 | LDCACHE_FLAG_AARCH64_LIB64)
#define LDCACHE_FLAG_I386 LDCACHE_FLAG_ELF_LIBC6

struct ldcache_entry {
    char *soname; /* the key: "libcuda.so.1" */
    char *path;   /* the value: "/usr/lib/aarch64-linux-gnu/libcuda.so.1" */
    uint32_t flags;
    uint64_t hwcap; /* 0 for plain entries */
};

struct ldcache {
    struct ldcache_entry *entries;
    size_t len, cap;
};

/* Parses a cache image: "ld.so-1.7.0" (old), "glibc-ld.so.cache1.1" (new), or
 * the old table followed by the new one. */
int ldcache_parse(const void *data, size_t len, struct ldcache *out, gctk_error **err);
/* Reads and parses a file (at most 64 MiB: a larger one fails with EFBIG). */
int ldcache_read(const char *path, struct ldcache *out, gctk_error **err);
void ldcache_clear(struct ldcache *c);
#define cleanup_ldcache __attribute__((cleanup(ldcache_clear)))

/* Adds an entry (copies the strings). An existing entry with the same soname
 * and flags is replaced, so the added one wins. */
void ldcache_add(struct ldcache *c, const char *soname, const char *path, uint32_t flags);
/* Drops the entries whose hwcap is not 0 (they index a hwcaps extension that
 * the writer does not keep). */
void ldcache_drop_hwcap_entries(struct ldcache *c);

/* glibc's order of library names: digit runs compare as numbers. */
int ldcache_libcmp(const char *a, const char *b);

/* Serialises in the new format ("glibc-ld.so.cache1.1"), entries sorted as
 * ld.so's binary search expects (c itself is sorted in place). *out is
 * malloc'ed. An entry whose hwcap indexes the glibc-hwcaps extension is
 * refused: no extension is written, so drop such entries first. */
int ldcache_serialize(struct ldcache *c, char **out, size_t *len, gctk_error **err);

#endif
