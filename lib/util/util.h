/* Internal helpers shared by every module: cleanup attributes, errors, paths. */
#ifndef GCTK_UTIL_H
#define GCTK_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "gctk.h"

#define GCTK_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* ---- ownership ---------------------------------------------------------- */

static inline void cleanup_freep(void *p)
{
    free(*(void **)p);
}
static inline void cleanup_closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}
static inline void cleanup_fclosep(FILE **f)
{
    if (*f != NULL)
        fclose(*f);
}
static inline void cleanup_errorp(gctk_error **e)
{
    gctk_error_free(*e);
}

#define cleanup_free __attribute__((cleanup(cleanup_freep)))
#define cleanup_fd __attribute__((cleanup(cleanup_closep)))
#define cleanup_file __attribute__((cleanup(cleanup_fclosep)))
#define cleanup_error __attribute__((cleanup(cleanup_errorp)))

/* Hand ownership on: returns the pointer and clears the variable, so the
 * cleanup attribute of the giver does nothing. Type-checked through typeof. */
#define steal_pointer(pp)                                                                          \
    ({                                                                                             \
        __typeof__(*(pp)) stolen_ = *(pp);                                                         \
        *(pp) = NULL;                                                                              \
        stolen_;                                                                                   \
    })
#define steal_fd(fdp)                                                                              \
    ({                                                                                             \
        int stolen_fd_ = *(fdp);                                                                   \
        *(fdp) = -1;                                                                               \
        stolen_fd_;                                                                                \
    })

#define GCTK_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- errors -------------------------------------------------------------- */

/* Sets *err (when err is not NULL and *err is still NULL) to a new error with
 * the formatted message; when errnum is not 0, ": strerror(errnum)" is added.
 * Returns -1 so that callers can `return gctk_fail(err, ...)`. */
int gctk_fail(gctk_error **err, int errnum, const char *fmt, ...) GCTK_PRINTF(3, 4);

/* Prefixes the message of *err with "context: ". Returns -1. */
int gctk_wrap(gctk_error **err, const char *fmt, ...) GCTK_PRINTF(2, 3);

/* ---- memory and strings --------------------------------------------------- */

/* Allocation failures end the process: every caller would only report them. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) GCTK_PRINTF(1, 2);

/* A growable array of owned strings. */
struct strv {
    char **items;
    size_t len, cap;
};
void strv_push(struct strv *v, char *owned);
bool strv_contains(const struct strv *v, const char *s);
void strv_clear(struct strv *v);

bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);
/* Strips leading and trailing blanks in place; returns s. */
char *str_strip(char *s);

/* ---- files under a root ---------------------------------------------------- */

/* root + path, with exactly one '/' between; root "/" or "" gives path. */
char *path_join(const char *root, const char *path);

/* Reads what is left of fd (at most max bytes) into a NUL-terminated buffer. */
int read_fd(int fd, size_t max, char **out, size_t *len, gctk_error **err);
/* Reads a whole small file (at most max bytes) into a NUL-terminated buffer. */
int read_file(const char *path, size_t max, char **out, size_t *len, gctk_error **err);
int read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len,
                 gctk_error **err);

/* Monotonic clock in nanoseconds. */
unsigned long long now_ns(void);

#endif
