/* Errors, allocation, strings and small file helpers. */
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "util.h"

void gctk_error_free(gctk_error *e)
{
    if (e == NULL)
        return;
    free(e->msg);
    free(e);
}

__attribute__((format(printf, 1, 0))) static char *vformat(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    return s;
}

int gctk_fail(gctk_error **err, int errnum, const char *fmt, ...)
{
    if (err == NULL || *err != NULL)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    cleanup_free char *msg = vformat(fmt, ap);
    va_end(ap);
    gctk_error *e = xcalloc(1, sizeof(*e));
    e->code = errnum;
    e->msg = errnum != 0 ? xasprintf("%s: %s", msg, strerror(errnum)) : steal_pointer(&msg);
    *err = e;
    return -1;
}

int gctk_wrap(gctk_error **err, const char *fmt, ...)
{
    if (err == NULL || *err == NULL)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    cleanup_free char *ctx = vformat(fmt, ap);
    va_end(ap);
    char *msg = xasprintf("%s: %s", ctx, (*err)->msg);
    free((*err)->msg);
    (*err)->msg = msg;
    return -1;
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        abort();
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        abort();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (p == NULL)
        abort();
    return p;
}

char *xstrdup(const char *s)
{
    return s == NULL ? NULL : xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = strndup(s, n);
    if (p == NULL)
        abort();
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat(fmt, ap);
    va_end(ap);
    return s;
}

void strv_push(struct strv *v, char *owned)
{
    if (v->len + 1 >= v->cap) {
        v->cap = v->cap ? v->cap * 2 : 8;
        v->items = xrealloc(v->items, v->cap * sizeof(*v->items));
    }
    v->items[v->len++] = owned;
    v->items[v->len] = NULL;
}

bool strv_contains(const struct strv *v, const char *s)
{
    for (size_t i = 0; i < v->len; i++)
        if (strcmp(v->items[i], s) == 0)
            return true;
    return false;
}

void strv_clear(struct strv *v)
{
    for (size_t i = 0; i < v->len; i++)
        free(v->items[i]);
    free(v->items);
    *v = (struct strv){0};
}

bool str_has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

char *str_strip(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        memmove(s, s + 1, strlen(s));
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

char *path_join(const char *root, const char *path)
{
    if (root == NULL || root[0] == '\0' || strcmp(root, "/") == 0)
        return xstrdup(path);
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/')
        n--;
    while (*path == '/')
        path++;
    return xasprintf("%.*s/%s", (int)n, root, path);
}

int read_fd(int fd, size_t max, char **out, size_t *len, gctk_error **err)
{
    size_t cap = max < 4096 ? max : 4096, n = 0;
    cleanup_free char *buf = xmalloc(cap + 1);
    for (;;) {
        if (n == cap) {
            if (cap >= max)
                return gctk_fail(err, EFBIG, "larger than %zu bytes", max);
            cap = cap * 2 > max ? max : cap * 2;
            buf = xrealloc(buf, cap + 1);
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return gctk_fail(err, errno, "read");
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    *out = steal_pointer(&buf);
    return 0;
}

int read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len,
                 gctk_error **err)
{
    cleanup_fd int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return gctk_fail(err, errno, "open `%s`", path);
    if (read_fd(fd, max, out, len, err) < 0)
        return gctk_wrap(err, "`%s`", path);
    return 0;
}

int read_file(const char *path, size_t max, char **out, size_t *len, gctk_error **err)
{
    return read_file_at(AT_FDCWD, path, max, out, len, err);
}

unsigned long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}
