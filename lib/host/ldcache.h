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

#include <stdbool.h>
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
    bool added;     /* by ldcache_add(), not parsed */
};

struct ldcache {
    struct ldcache_entry *entries;
    size_t len, cap;
    /* the parsed string table: parsed entries' strings point into it */
    char *pool;
    size_t pool_len;
};

/* Parses a cache image: "ld.so-1.7.0" (old), "glibc-ld.so.cache1.1" (new), or
 * the old table followed by the new one. The string table is copied once and
 * the entries point into it; the strings they name may add up to at most
 * twice the image plus 64 KiB (glibc writes less than the image), which
 * keeps work and memory linear in len, whatever the entries point at. */
int ldcache_parse(const void *data, size_t len, struct ldcache *out, gctk_error **err);
/* Reads and parses a file (at most 64 MiB: a larger one fails with EFBIG). */
int ldcache_read(const char *path, struct ldcache *out, gctk_error **err);
void ldcache_clear(struct ldcache *c);
#define cleanup_ldcache __attribute__((cleanup(ldcache_clear)))

/* Adds an entry (copies the strings). It replaces the plain entries of the
 * same soname and flags when the cache is merged, so the added one wins (the
 * last added among several). */
void ldcache_add(struct ldcache *c, const char *soname, const char *path, uint32_t flags);
/* Applies the additions: for each soname and flags that was added, every
 * other plain entry of them goes (parsed duplicates too) and the last added
 * stays; hwcap entries stay. O(n log n); ldcache_serialize() runs it. */
void ldcache_merge(struct ldcache *c);
/* Drops the entries whose hwcap is not 0 (they index a hwcaps extension that
 * the writer does not keep). */
void ldcache_drop_hwcap_entries(struct ldcache *c);

/* glibc's order of library names: digit runs compare as numbers. */
int ldcache_libcmp(const char *a, const char *b);

/* Serialises in the new format ("glibc-ld.so.cache1.1"), entries sorted as
 * ld.so's binary search expects (c itself is merged and sorted in place).
 * Each string of the parsed table is written once, however many entries name
 * it: the output is at most the parsed table plus the added entries. *out is
 * malloc'ed. An entry whose hwcap indexes the glibc-hwcaps extension is
 * refused: no extension is written, so drop such entries first. */
int ldcache_serialize(struct ldcache *c, char **out, size_t *len, gctk_error **err);

#endif
