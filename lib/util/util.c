/* Errors, allocation, strings and small file helpers. */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "util.h"

void gctk_error_free(gctk_error *e)
{
    if (e == NULL)
        return;
    free(e->what);
    free(e->hint);
    free(e->msg);
    free(e);
}

/* msg from what, the cause and the fix */
static void render(gctk_error *e)
{
    bool cause = e->code != 0 && !e->code_said;
    free(e->msg);
    e->msg = xasprintf("%s%s%s%s%s", e->what, cause ? ": " : "", cause ? strerror(e->code) : "",
                       e->hint != NULL ? "; " : "", e->hint != NULL ? e->hint : "");
}

char *xvasprintf(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    return s;
}

__attribute__((format(printf, 4, 0))) static int fail(gctk_error **err, int errnum, bool said,
                                                      const char *fmt, va_list ap)
{
    if (err == NULL || *err != NULL)
        return -1;
    gctk_error *e = xcalloc(1, sizeof(*e));
    e->code = errnum;
    e->code_said = said;
    e->what = xvasprintf(fmt, ap);
    render(e);
    *err = e;
    return -1;
}

int gctk_fail(gctk_error **err, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail(err, errnum, false, fmt, ap);
    va_end(ap);
    return -1;
}

int gctk_refuse(gctk_error **err, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail(err, errnum, true, fmt, ap);
    va_end(ap);
    return -1;
}

int gctk_hint(gctk_error **err, const char *fmt, ...)
{
    if (err == NULL || *err == NULL || (*err)->hint != NULL)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    (*err)->hint = xvasprintf(fmt, ap);
    va_end(ap);
    render(*err);
    return -1;
}

int gctk_wrap(gctk_error **err, const char *fmt, ...)
{
    if (err == NULL || *err == NULL)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    cleanup_free char *ctx = xvasprintf(fmt, ap);
    va_end(ap);
    char *what = xasprintf("%s: %s", ctx, (*err)->what);
    free((*err)->what);
    (*err)->what = what;
    render(*err);
    return -1;
}

int gctk_error_propagate(gctk_error **err, gctk_error **e)
{
    if (err != NULL && *err == NULL)
        *err = steal_pointer(e);
    gctk_error_free(steal_pointer(e));
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

void *xgrow_for_one(void *p, size_t n, size_t size)
{
    if (n == 0)
        return xrealloc(p, size);
    if ((n & (n - 1)) != 0)
        return p; /* room left: the storage holds the next power of two */
    if (n > SIZE_MAX / 2 / size)
        abort();
    return xrealloc(p, 2 * n * size);
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
    char *s = xvasprintf(fmt, ap);
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

struct indexed {
    const char *s;
    size_t i;
};

static int compare_indexed(const void *pa, const void *pb)
{
    const struct indexed *a = pa, *b = pb;
    int r = strcmp(a->s, b->s);
    if (r != 0)
        return r;
    return a->i < b->i ? -1 : a->i > b->i;
}

bool *strv_repeats(const struct strv *v)
{
    bool *rep = xcalloc(v->len + 1, sizeof(bool));
    cleanup_free struct indexed *order = xcalloc(v->len + 1, sizeof(*order));
    for (size_t i = 0; i < v->len; i++)
        order[i] = (struct indexed){v->items[i], i};
    qsort(order, v->len, sizeof(*order), compare_indexed);
    for (size_t k = 1; k < v->len; k++)
        if (strcmp(order[k].s, order[k - 1].s) == 0)
            rep[order[k].i] = true;
    return rep;
}

void strv_dedup(struct strv *v)
{
    cleanup_free bool *rep = strv_repeats(v);
    size_t kept = 0;
    for (size_t i = 0; i < v->len; i++) {
        if (rep[i])
            free(v->items[i]);
        else
            v->items[kept++] = v->items[i];
    }
    v->len = kept;
    if (v->items != NULL)
        v->items[kept] = NULL;
}

void strv_clear(struct strv *v)
{
    for (size_t i = 0; i < v->len; i++)
        free(v->items[i]);
    free(v->items);
    *v = (struct strv){0};
}

char *strv_join(const struct strv *v, const char *sep)
{
    struct strbuf b = {0};
    for (size_t i = 0; i < v->len; i++)
        strbuf_addf(&b, "%s%s", i > 0 ? sep : "", v->items[i]);
    return strbuf_steal(&b);
}

void strbuf_addf(struct strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    if (b->len + (size_t)n + 1 > b->cap) {
        b->cap = (b->len + (size_t)n + 1) * 2;
        b->s = xrealloc(b->s, b->cap);
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *strbuf_steal(struct strbuf *b)
{
    char *s = b->s != NULL ? b->s : xstrdup("");
    *b = (struct strbuf){0};
    return s;
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

int str_parse_go_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(yes); i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

char *str_strip(char *s)
{
    /* one move, not one per blank: the values stripped come from images */
    size_t lead = 0;
    while (is_blank(s[lead]))
        lead++;
    size_t n = strlen(s + lead);
    while (n > 0 && is_blank(s[lead + n - 1]))
        n--;
    memmove(s, s + lead, n);
    s[n] = '\0';
    return s;
}

/* The length of the valid UTF-8 sequence at s (at most n bytes) and its code
 * point; 0 when s does not begin one (overlong forms, surrogates and code
 * points past U+10FFFF are not UTF-8). */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        len = 2, v = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, v = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

/* Characters that move the cursor, end a line for some readers, or reorder
 * what a terminal shows. */
static bool escaped_char(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

char *str_escape_line(const char *s, size_t max)
{
    size_t n = strlen(s), shown = n > max ? max : n;
    /* the most a byte becomes: \xNN (4); a character of 2 or 3 bytes \uXXXX (6) */
    char *out = xmalloc(shown * 4 + 64), *o = out;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < shown;) {
        uint32_t cp = 0;
        size_t len = utf8_decode(p + i, shown - i, &cp);
        if (len == 0) {
            o += sprintf(o, "\\x%02x", p[i]);
            i++;
            continue;
        }
        if (cp == '\\') {
            *o++ = '\\';
            *o++ = '\\';
        } else if (escaped_char(cp) && cp < 0x80) {
            o += sprintf(o, "\\x%02x", (unsigned)cp);
        } else if (escaped_char(cp)) {
            o += sprintf(o, "\\u%04x", (unsigned)cp);
        } else {
            memcpy(o, p + i, len);
            o += len;
        }
        i += len;
    }
    if (shown < n)
        o += sprintf(o, "... (%zu bytes)", n);
    *o = '\0';
    return out;
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

char *read_link_at(int dirfd, const char *name)
{
    char buf[PATH_MAX];
    ssize_t n = readlinkat(dirfd, name, buf, sizeof(buf));
    if (n < 0)
        return NULL;
    if ((size_t)n >= sizeof(buf)) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    return xstrndup(buf, (size_t)n);
}

const char *file_type_name(mode_t m)
{
    switch (m & S_IFMT) {
    case S_IFREG:
        return "a regular file";
    case S_IFDIR:
        return "a directory";
    case S_IFLNK:
        return "a symlink";
    case S_IFIFO:
        return "a FIFO";
    case S_IFSOCK:
        return "a socket";
    case S_IFCHR:
        return "a character device";
    case S_IFBLK:
        return "a block device";
    default:
        return "of unknown type";
    }
}

/* The refusal of what is not a regular file at name (st: its lstat), for a
 * file gctk would write (or only read: reading). */
static int refuse_not_regular(int dirfd, const char *name, const char *shown, const struct stat *st,
                              bool reading, gctk_error **err)
{
    if (S_ISLNK(st->st_mode)) {
        cleanup_free char *target = read_link_at(dirfd, name);
        gctk_refuse(err, EEXIST, "%s is a symlink (to `%s`): gctk never %s through a link", shown,
                    target != NULL ? target : "?", reading ? "reads it" : "writes");
        return gctk_hint(err, "name the file itself, or remove the link");
    }
    gctk_refuse(err, EEXIST, "%s is %s, not a regular file: gctk %s only regular files", shown,
                file_type_name(st->st_mode), reading ? "reads" : "replaces");
    return gctk_hint(err, reading ? "put the file itself there" : "remove it, or write elsewhere");
}

int read_fd_sized(int fd, size_t max, size_t size, char **out, size_t *len, gctk_error **err)
{
    size_t cap = size > 0 ? size + 1 : 4096, n = 0;
    cap = cap < max ? cap : max;
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

int read_fd(int fd, size_t max, char **out, size_t *len, gctk_error **err)
{
    return read_fd_sized(fd, max, 0, out, len, err);
}

int read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len, gctk_error **err)
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

int read_regular_file(const char *path, size_t max, char **out, size_t *len, gctk_error **err)
{
    cleanup_fd int pfd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (pfd < 0)
        return gctk_fail(err, errno, "open `%s`", path);
    struct stat st;
    if (fstat(pfd, &st) < 0)
        return gctk_fail(err, errno, "stat `%s`", path);
    if (!S_ISREG(st.st_mode)) {
        cleanup_free char *copy = xstrdup(path), *name_copy = xstrdup(path);
        cleanup_fd int dirfd = open(dirname(copy), O_PATH | O_DIRECTORY | O_CLOEXEC);
        cleanup_free char *shown = xasprintf("`%s`", path);
        return refuse_not_regular(dirfd, basename(name_copy), shown, &st, true, err);
    }
    cleanup_fd int fd = -1;
    if (reopen_regular(pfd, &fd) < 0)
        return gctk_fail(err, errno, "open `%s`", path);
    if (read_fd(fd, max, out, len, err) < 0)
        return gctk_wrap(err, "`%s`", path);
    return 0;
}

bool is_executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0;
}

char *path_search(const char *list, const char *name, const char *skip_real)
{
    if (list == NULL)
        return NULL;
    cleanup_free char *copy = xstrdup(list);
    char *save = NULL;
    for (char *d = strtok_r(copy, ":", &save); d != NULL; d = strtok_r(NULL, ":", &save)) {
        if (d[0] != '/')
            continue;
        cleanup_free char *p = xasprintf("%s/%s", d, name);
        if (!is_executable(p))
            continue;
        char real[PATH_MAX];
        if (skip_real != NULL && realpath(p, real) != NULL && strcmp(real, skip_real) == 0)
            continue;
        return steal_pointer(&p);
    }
    return NULL;
}

char *self_exe(void)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return NULL;
    return xstrndup(self, (size_t)n);
}

char *temp_dir_make(const char *name)
{
    const char *tmpdir = getenv("TMPDIR");
    char *dir =
        xasprintf("%s/%s.XXXXXX", tmpdir != NULL && tmpdir[0] == '/' ? tmpdir : "/tmp", name);
    if (mkdtemp(dir) != NULL)
        return dir;
    int saved = errno;
    free(dir);
    errno = saved;
    return NULL;
}

char *self_sibling(const char *name)
{
    cleanup_free char *self = self_exe();
    char *slash = self != NULL ? strrchr(self, '/') : NULL;
    if (slash == NULL)
        return NULL;
    *slash = '\0';
    cleanup_free char *p = xasprintf("%s/%s", self, name);
    return is_executable(p) ? steal_pointer(&p) : NULL;
}

int reap(pid_t pid, bool kill_first)
{
    if (kill_first)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return status;
}

int run_capture(const char *const *argv, size_t max, unsigned timeout_ms, char **out,
                gctk_error **err)
{
    /* looked up here, not by posix_spawnp: a missing program is then an
     * error of its own, whatever the libc (or valgrind) makes of a failed
     * exec in the child */
    const char *path = getenv("PATH");
    cleanup_free char *prog = strchr(argv[0], '/') != NULL
                                  ? xstrdup(argv[0])
                                  : path_search(path != NULL ? path : DEFAULT_PATH, argv[0], NULL);
    if (prog == NULL)
        return gctk_refuse(err, ENOENT, "`%s` is not on PATH", argv[0]);
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return gctk_fail(err, errno, "pipe");
    cleanup_fd int rd = p[0];
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    extern char **environ;
    pid_t pid = 0;
    int r = posix_spawn(&pid, prog, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    if (r != 0)
        return gctk_fail(err, r, "run `%s`", argv[0]);

    unsigned long long deadline = now_ns() + (unsigned long long)timeout_ms * 1000000ull;
    size_t n = 0;
    cleanup_free char *buf = xmalloc(max + 1);
    for (;;) {
        unsigned long long now = now_ns();
        struct pollfd pfd = {.fd = rd, .events = POLLIN};
        int ready = now >= deadline ? 0 : poll(&pfd, 1, (int)((deadline - now) / 1000000ull) + 1);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0) {
            int e = errno;
            reap(pid, true);
            return gctk_fail(err, e, "wait for the output of `%s`", argv[0]);
        }
        if (ready == 0) {
            reap(pid, true);
            return gctk_refuse(err, ETIMEDOUT, "`%s` did not answer within %u ms", argv[0],
                               timeout_ms);
        }
        ssize_t got = read(rd, buf + n, max - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int e = errno;
            reap(pid, true);
            return gctk_fail(err, e, "read the output of `%s`", argv[0]);
        }
        if (got == 0)
            break;
        n += (size_t)got;
        if (n == max) {
            reap(pid, true);
            return gctk_refuse(err, EFBIG, "`%s` wrote more than %zu bytes", argv[0], max);
        }
    }
    int status = reap(pid, false);
    if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return gctk_fail(err, 0, "`%s` failed (status %d)", argv[0],
                         status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    buf[n] = '\0';
    *out = steal_pointer(&buf);
    return 0;
}

const char *env_get(const struct strv *env, const char *name)
{
    size_t n = strlen(name);
    const char *found = NULL;
    for (size_t i = 0; i < env->len; i++)
        if (strncmp(env->items[i], name, n) == 0 && env->items[i][n] == '=')
            found = env->items[i] + n + 1;
    return found;
}

int env_file_read(const char *path, struct strv *env, gctk_error **err)
{
    cleanup_free char *buf = NULL;
    if (read_file(path, 1 << 20, &buf, NULL, err) < 0)
        return -1;
    size_t lineno = 0;
    for (char *line = buf, *next = NULL; line != NULL && *line != '\0'; line = next) {
        lineno++;
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        str_strip(line);
        if (line[0] == '\0')
            continue;
        if (strchr(line, '=') == NULL || line[0] == '=')
            return gctk_fail(err, 0, "`%s` line %zu: expected KEY=VALUE, got `%s`", path, lineno,
                             line);
        strv_push(env, xstrdup(line));
    }
    return 0;
}

unsigned long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

double ns_ms(unsigned long long ns)
{
    return (double)ns / 1e6;
}

void utc_stamp(char buf[UTC_STAMP_MAX], const struct timespec *ts, bool millis)
{
    struct timespec now;
    if (ts == NULL) {
        clock_gettime(CLOCK_REALTIME, &now);
        ts = &now;
    }
    long long secs = (long long)ts->tv_sec;
    long long days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    long long rest = secs - days * 86400;
    /* the proleptic Gregorian date of a day count from 1970-01-01, through
     * 400-year eras of 146097 days that start on a 1 March */
    long long z = days + 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    long long day = doy - (153 * mp + 2) / 5 + 1;
    long long month = mp < 10 ? mp + 3 : mp - 9;
    long long year = yoe + era * 400 + (month <= 2);
    char ms[16] = "";
    if (millis)
        snprintf(ms, sizeof(ms), ".%03d", (int)(ts->tv_nsec / 1000000));
    snprintf(buf, UTC_STAMP_MAX, "%04lld-%02d-%02dT%02d:%02d:%02d%sZ", year, (int)month, (int)day,
             (int)(rest / 3600), (int)(rest / 60 % 60), (int)(rest % 60), ms);
}

unsigned long long hash64(const void *data, size_t len, unsigned long long h)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int mkdir_p(const char *path, mode_t mode, gctk_error **err)
{
    /* the usual case: there already, one look instead of one a component */
    struct stat there;
    if (stat(path, &there) == 0 && S_ISDIR(there.st_mode))
        return 0;
    cleanup_free char *p = xstrdup(path);
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        struct stat st;
        if (mkdir(p, mode) < 0 && (errno != EEXIST || stat(p, &st) < 0 || !S_ISDIR(st.st_mode)))
            return gctk_fail(err, errno == EEXIST ? ENOTDIR : errno, "create the directory `%s`",
                             p);
        if (c == '\0' || (c == '/' && s[1] == '\0'))
            return 0;
        *s = c;
    }
}

char *temp_name(void)
{
    static unsigned counter;
    return xasprintf(".gctk-tmp-%d-%u", (int)getpid(), __atomic_fetch_add(&counter, 1, 0));
}

int reopen_regular(int path_fd, int *fd_out)
{
    struct stat st, again;
    if (fstat(path_fd, &st) < 0)
        return -1;
    if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
        return -1;
    }
    char self[64];
    snprintf(self, sizeof(self), "/proc/self/fd/%d", path_fd);
    cleanup_fd int fd = open(self, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &again) < 0)
        return -1;
    if (again.st_dev != st.st_dev || again.st_ino != st.st_ino) {
        errno = EINVAL;
        return -1;
    }
    *fd_out = steal_fd(&fd);
    return 0;
}

int open_regular_at(int dirfd, const char *name, int *fd_out)
{
    cleanup_fd int pfd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (pfd < 0)
        return -1;
    return reopen_regular(pfd, fd_out);
}

/* The content of the regular file name in dirfd (at most max bytes); 1 when
 * there is none, 0 when read, -1 on error. */
static int read_old(int dirfd, const char *name, const char *shown, char **out, size_t *len,
                    gctk_error **err)
{
    cleanup_fd int fd = -1;
    if (open_regular_at(dirfd, name, &fd) < 0)
        return errno == ENOENT || errno == EINVAL ? 1 : gctk_fail(err, errno, "open %s", shown);
    if (read_fd(fd, 64u << 20, out, len, err) < 0)
        return gctk_wrap(err, "%s", shown);
    return 0;
}

int write_file_at(int dirfd, const char *name, const void *data, size_t len,
                  const struct write_opts *o, gctk_error **err)
{
    cleanup_free char *default_shown = xasprintf("`%s`", name);
    const char *shown = o->shown != NULL ? o->shown : default_shown;
    if (o->fresh) {
        cleanup_fd int fd =
            openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 || fchmod(fd, o->mode) < 0 || write_all(fd, data, len) < 0 ||
            (!o->no_sync && fsync(fd) < 0) || close(steal_fd(&fd)) < 0)
            return gctk_fail(err, errno, "write %s", shown);
        return 0;
    }
    struct stat old;
    bool exists = fstatat(dirfd, name, &old, AT_SYMLINK_NOFOLLOW) == 0;
    if (exists && !S_ISREG(old.st_mode) && !o->replace_any)
        return refuse_not_regular(dirfd, name, shown, &old, false, err);
    bool keep = o->keep && exists && S_ISREG(old.st_mode);
    if (keep && o->backup) {
        cleanup_free char *text = NULL, *bak = xasprintf("%s.bak", name);
        cleanup_free char *bak_shown = xasprintf("`%s.bak`", name);
        size_t text_len = 0;
        int r = read_old(dirfd, name, shown, &text, &text_len, err);
        struct write_opts bo = {
            .mode = old.st_mode & 07777, .no_dir_sync = true, .shown = bak_shown};
        if (r < 0 || (r == 0 && write_file_at(dirfd, bak, text, text_len, &bo, err) < 0))
            return gctk_wrap(err, "keep a backup of %s", shown);
    }
    cleanup_free char *tmp = NULL;
    cleanup_fd int fd = -1;
    for (int tries = 0; fd < 0; tries++) {
        free(tmp);
        tmp = temp_name();
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && (errno != EEXIST || tries >= 16))
            return gctk_fail(err, errno, "create a temporary file next to %s", shown);
    }
    /* the mode asked for (or the old file's), not what the umask leaves */
    const char *what = "chmod";
    if (fchmod(fd, keep ? old.st_mode & 07777 : o->mode) < 0)
        goto fail;
    what = "chown";
    if (keep && fchown(fd, old.st_uid, old.st_gid) < 0)
        goto fail;
    what = "write";
    if (write_all(fd, data, len) < 0)
        goto fail;
    what = "fsync";
    if (!o->no_sync && fsync(fd) < 0)
        goto fail;
    what = "close";
    if (close(steal_fd(&fd)) < 0)
        goto fail;
    /* renameat replaces whatever is at name; it never writes through it */
    what = "rename into place";
    if (renameat(dirfd, tmp, dirfd, name) < 0)
        goto fail;
    /* the rename is durable only once the directory is on disk */
    if (!o->no_dir_sync && !o->no_sync && fsync(dirfd) < 0)
        return gctk_fail(err, errno, "sync the directory of %s", shown);
    return 0;

fail:;
    int e = errno;
    unlinkat(dirfd, tmp, 0);
    return gctk_fail(err, e, "%s %s", what, shown);
}

bool stat_private(const struct stat *st)
{
    return st->st_uid == geteuid() && (st->st_mode & 077) == 0;
}

int open_private_dir_at(int dirfd, const char *name)
{
    /* opened first: it is there at every use but the first */
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
            return -1;
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0 || !stat_private(&st)) {
        close(fd);
        errno = EACCES;
        return -1;
    }
    return fd;
}

char *read_private_entry(int dirfd, const char *name, size_t max, size_t *len, char **why)
{
    cleanup_fd int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        *why = xstrdup(errno == ENOENT ? "no entry yet" : strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !stat_private(&st) ||
        st.st_size > (off_t)max) {
        *why = xasprintf("`%s` is not a regular file of uid %u, mode 0600, under %zu bytes", name,
                         (unsigned)geteuid(), max);
        return NULL;
    }
    char *text = NULL;
    if (read_fd_sized(fd, max, (size_t)st.st_size, &text, len, NULL) < 0) {
        *why = xasprintf("read `%s`", name);
        return NULL;
    }
    return text;
}

void prune_entries(int dirfd, const char *prefix, const char *keep, size_t max)
{
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cleanup_dir DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        return;
    }
    cleanup_strv struct strv names = {0};
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (str_has_prefix(de->d_name, prefix) && strcmp(de->d_name, keep) != 0)
            strv_push(&names, xstrdup(de->d_name));
    if (names.len >= max)
        for (size_t i = 0; i < names.len; i++)
            unlinkat(dirfd, names.items[i], 0);
}

int write_file(const char *path, const void *data, size_t len, const struct write_opts *o,
               gctk_error **err)
{
    cleanup_free char *copy = xstrdup(path), *name_copy = xstrdup(path);
    const char *dir = dirname(copy), *name = basename(name_copy);
    cleanup_free char *shown = xasprintf("`%s`", path);
    struct write_opts with_shown = *o;
    if (with_shown.shown == NULL)
        with_shown.shown = shown;
    if (mkdir_p(dir, 0755, err) < 0)
        return -1;
    cleanup_fd int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return gctk_fail(err, errno, "open the directory `%s`", dir);
    return write_file_at(dirfd, name, data, len, &with_shown, err);
}
