/* Dotted version numbers, compared numerically part by part. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "util.h"
#include "vercmp.h"

int version_parse(const char *s, unsigned parts[VERSION_MAX_PARTS], size_t *n, gctk_error **err)
{
    if (s == NULL || *s == '\0')
        return gctk_fail(err, 0, "empty version");
    unsigned tmp[VERSION_MAX_PARTS] = {0};
    size_t count = 0;
    const char *p = s;
    for (;;) {
        if (count == VERSION_MAX_PARTS)
            return gctk_fail(err, 0, "version `%s`: more than %d parts", s, VERSION_MAX_PARTS);
        if (*p < '0' || *p > '9') {
            if (*p == '.' || *p == '\0')
                return gctk_fail(err, 0, "version `%s`: empty part at column %zu", s,
                                 (size_t)(p - s) + 1);
            return gctk_fail(err, 0, "version `%s`: unexpected character `%c` at column %zu", s, *p,
                             (size_t)(p - s) + 1);
        }
        unsigned long v = 0;
        while (*p >= '0' && *p <= '9') {
            v = v * 10 + (unsigned long)(*p - '0');
            if (v > UINT_MAX)
                return gctk_fail(err, 0, "version `%s`: part at column %zu is too large", s,
                                 (size_t)(p - s) + 1);
            p++;
        }
        tmp[count++] = (unsigned)v;
        if (*p == '\0')
            break;
        if (*p != '.')
            return gctk_fail(err, 0, "version `%s`: unexpected character `%c` at column %zu", s, *p,
                             (size_t)(p - s) + 1);
        p++;
    }
    memcpy(parts, tmp, sizeof(tmp));
    if (n != NULL)
        *n = count;
    return 0;
}

bool version_valid(const char *s)
{
    unsigned parts[VERSION_MAX_PARTS];
    return version_parse(s, parts, NULL, NULL) == 0;
}

/* The lenient reading version_cmp uses: the longest valid prefix, so that a
 * comparison never fails; parts beyond it are 0. */
static void parse_prefix(const char *s, unsigned parts[VERSION_MAX_PARTS])
{
    memset(parts, 0, VERSION_MAX_PARTS * sizeof(*parts));
    if (s == NULL)
        return;
    for (size_t i = 0; i < VERSION_MAX_PARTS; i++) {
        if (*s < '0' || *s > '9')
            return;
        unsigned long v = 0;
        while (*s >= '0' && *s <= '9') {
            v = v * 10 + (unsigned long)(*s - '0');
            if (v > UINT_MAX)
                v = UINT_MAX;
            s++;
        }
        parts[i] = (unsigned)v;
        if (*s != '.')
            return;
        s++;
    }
}

int version_cmp(const char *a, const char *b)
{
    unsigned pa[VERSION_MAX_PARTS], pb[VERSION_MAX_PARTS];
    parse_prefix(a, pa);
    parse_prefix(b, pb);
    for (size_t i = 0; i < VERSION_MAX_PARTS; i++)
        if (pa[i] != pb[i])
            return pa[i] < pb[i] ? -1 : 1;
    return 0;
}

int cuda_version_to_int(const char *s, int *out, gctk_error **err)
{
    unsigned parts[VERSION_MAX_PARTS] = {0};
    size_t n = 0;
    if (version_parse(s, parts, &n, err) < 0)
        return gctk_wrap(err, "bad CUDA version");
    /* the integer form has room for major.minor only */
    if (n > 2)
        return gctk_fail(err, 0, "bad CUDA version `%s`: expected MAJOR.MINOR", s);
    if (parts[0] == 0 || parts[0] > 999 || (n == 2 && parts[1] > 99))
        return gctk_fail(err, 0, "bad CUDA version `%s`: out of range", s);
    *out = (int)(parts[0] * 1000 + (n == 2 ? parts[1] * 10 : 0));
    return 0;
}

char *cuda_version_format(int v, char *buf, size_t size)
{
    if (v <= 0 || v / 1000 > 999)
        return NULL;
    int n = snprintf(buf, size, "%d.%d", v / 1000, (v % 1000) / 10);
    if (n < 0 || (size_t)n >= size)
        return NULL;
    return buf;
}
