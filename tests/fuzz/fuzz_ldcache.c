/* libFuzzer target of the ld.so.cache parser: any input parses or fails
 * cleanly; what parses survives a write and a re-read unchanged and in
 * ld.so's order, and is written in at most twice its size. */
#include <stdint.h>
#include <string.h>

#include "ldcache.h"
#include "bounds.h"

static int fuzz_one(const uint8_t *data, size_t size)
{
    struct ldcache c = {0};
    if (ldcache_parse(data, size, &c, NULL) < 0)
        return 0;
    ldcache_drop_hwcap_entries(&c);
    char *out = NULL;
    size_t len = 0;
    if (ldcache_serialize(&c, &out, &len, NULL) < 0)
        abort();
    /* no amplification: each string of the input written once, and an old
     * table's 12-byte entries become 24 bytes at most */
    if (len > 2 * size + 48)
        abort();
    struct ldcache back = {0};
    if (ldcache_parse(out, len, &back, NULL) < 0 || back.len != c.len)
        abort();
    for (size_t i = 0; i < back.len; i++) {
        /* serialize sorted c in place: both lists are in the same order */
        if (strcmp(back.entries[i].soname, c.entries[i].soname) != 0 ||
            strcmp(back.entries[i].path, c.entries[i].path) != 0 ||
            back.entries[i].flags != c.entries[i].flags)
            abort();
        if (i == 0)
            continue;
        const char *a = back.entries[i - 1].soname, *b = back.entries[i].soname;
        int ab = ldcache_libcmp(a, b), ba = ldcache_libcmp(b, a);
        if (ab < 0 || (ab > 0) != (ba < 0) || (ab == 0) != (ba == 0))
            abort();
    }
    ldcache_clear(&back);
    ldcache_clear(&c);
    free(out);
    return 0;
}

FUZZ_BOUNDED(fuzz_one)
