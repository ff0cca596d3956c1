/* Internal helpers shared by every module: cleanup attributes, errors, paths. */
#ifndef GCTK_UTIL_H
#define GCTK_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include "core.h"

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
static inline void cleanup_closedirp(DIR **d)
{
    if (*d != NULL)
        closedir(*d);
}
static inline void cleanup_errorp(gctk_error **e)
{
    gctk_error_free(*e);
}
static inline void cleanup_hostp(gctk_host **h)
{
    gctk_host_free(*h);
}
static inline void cleanup_planp(gctk_plan **p)
{
    gctk_plan_free(*p);
}
static inline void cleanup_selectionp(struct gctk_selection *s)
{
    gctk_selection_clear(s);
}

#define cleanup_free __attribute__((cleanup(cleanup_freep)))
#define cleanup_fd __attribute__((cleanup(cleanup_closep)))
#define cleanup_file __attribute__((cleanup(cleanup_fclosep)))
#define cleanup_dir __attribute__((cleanup(cleanup_closedirp)))
#define cleanup_error __attribute__((cleanup(cleanup_errorp)))
#define cleanup_host __attribute__((cleanup(cleanup_hostp)))
#define cleanup_plan __attribute__((cleanup(cleanup_planp)))
#define cleanup_selection __attribute__((cleanup(cleanup_selectionp)))

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

/* Sets *err (when err is not NULL and *err is still NULL) to a new error:
 * what failed and the errno of the cause (0: none), which the message shows
 * as ": strerror(errnum)". Returns -1 so that callers can
 * `return gctk_fail(err, ...)`. The first failure wins: a later one leaves
 * *err alone. */
int gctk_fail(gctk_error **err, int errnum, const char *fmt, ...) GCTK_PRINTF(3, 4);
/* The same for a refusal whose message already says why: errnum is kept in
 * code for the callers, and not repeated in the message. */
int gctk_refuse(gctk_error **err, int errnum, const char *fmt, ...) GCTK_PRINTF(3, 4);
/* Sets the fix of *err (shown after "; ") unless it has one: the fix known
 * closest to the cause wins. Returns -1. */
int gctk_hint(gctk_error **err, const char *fmt, ...) GCTK_PRINTF(2, 3);
/* Prefixes what failed with "context: ". Returns -1. */
int gctk_wrap(gctk_error **err, const char *fmt, ...) GCTK_PRINTF(2, 3);
/* Hands *e (an error of a call whose failure the caller decided not to
 * handle) to *err, under the same first-failure-wins rule; *e is then NULL.
 * Returns -1. */
int gctk_error_propagate(gctk_error **err, gctk_error **e);

/* ---- memory and strings --------------------------------------------------- */

/* Allocation failures end the process: every caller would only report them. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* p, an array of n items of size bytes, with room for one more: its storage
 * doubles whenever n is 0 or a power of two, so that appending one item at a
 * time stays linear (growing by one item would copy the array each time).
 * Every append to the array must go through it. */
void *xgrow_for_one(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) GCTK_PRINTF(1, 2);
char *xvasprintf(const char *fmt, va_list ap) GCTK_PRINTF(1, 0);

/* A growable array of owned strings, NULL-terminated once it holds one. */
struct strv {
    char **items;
    size_t len, cap;
};
void strv_push(struct strv *v, char *owned);
/* Linear: for a few items (known names, a host's directories). Input-sized
 * lists use strv_repeats() or strv_dedup(). */
bool strv_contains(const struct strv *v, const char *s);
/* For each item, whether an earlier item is the same string: a calloc'ed
 * array of v->len flags, in O(n log n). */
bool *strv_repeats(const struct strv *v);
/* Drops every item that repeats an earlier one, keeping the order; O(n log n). */
void strv_dedup(struct strv *v);
void strv_clear(struct strv *v);
static inline void strv_clearp(struct strv *v)
{
    strv_clear(v);
}
#define cleanup_strv __attribute__((cleanup(strv_clearp)))
/* The strings of v with sep between them; "" when v is empty. */
char *strv_join(const struct strv *v, const char *sep);

/* A string built piece by piece, in time linear in its length. */
struct strbuf {
    char *s;
    size_t len, cap;
};
void strbuf_addf(struct strbuf *b, const char *fmt, ...) GCTK_PRINTF(2, 3);
/* The string built ("" when nothing was added), owned by the caller; b is
 * empty again. */
char *strbuf_steal(struct strbuf *b);
static inline void strbuf_clearp(struct strbuf *b)
{
    free(b->s);
}
#define cleanup_strbuf __attribute__((cleanup(strbuf_clearp)))

bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);
/* A boolean as Go's strconv.ParseBool reads it (NVIDIA's flags and config
 * values): 1 t T TRUE true True, 0 f F FALSE false False; -1 otherwise. */
int str_parse_go_bool(const char *s, bool *out);
/* Strips leading and trailing blanks in place; returns s. */
char *str_strip(char *s);
/* A copy of s fit for one line of a log or a terminal, whatever s holds:
 * the C0 and C1 controls and DEL, the line and paragraph separators U+2028
 * and U+2029 and the bidirectional controls (U+200E, U+200F, U+202A-U+202E,
 * U+2066-U+2069) are written as \uXXXX, a byte that is not part of valid
 * UTF-8 as \xNN and a backslash as \\; the rest of UTF-8 is kept. At most
 * max bytes of s are shown, then "... (N bytes)". Linear in what is shown. */
char *str_escape_line(const char *s, size_t max);

/* ---- files under a root ---------------------------------------------------- */

/* root + path, with exactly one '/' between; root "/" or "" gives path. */
char *path_join(const char *root, const char *path);

/* Reads what is left of fd (at most max bytes) into a NUL-terminated buffer. */
int read_fd(int fd, size_t max, char **out, size_t *len, gctk_error **err);
/* The same for a file of about size bytes (its st_size; 0: unknown): read
 * in one call, the buffer never grown. */
int read_fd_sized(int fd, size_t max, size_t size, char **out, size_t *len, gctk_error **err);
/* Reads a whole small file (at most max bytes) into a NUL-terminated buffer. */
int read_file(const char *path, size_t max, char **out, size_t *len, gctk_error **err);
int read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len,
                 gctk_error **err);

/* Writes all of data, retrying after EINTR and short writes. 0, or -1 with
 * errno set. */
int write_all(int fd, const void *data, size_t len);

/* Creates path and every missing directory above it (mode, before the umask);
 * an existing directory is fine, anything else in the way is an error. */
int mkdir_p(const char *path, mode_t mode, gctk_error **err);

/* A name for a temporary object beside the final one: ".gctk-tmp-<pid>-<n>".
 * Create it with O_EXCL (or symlinkat) and take the next name on EEXIST. */
char *temp_name(void);

/* Opens the object open as path_fd (O_PATH, from a walk that did not follow
 * it) for reading, only if it is a regular file, and without a second look-up
 * by name: through /proc/self/fd, checked to be the same inode. A device node
 * is never opened (its driver's open could run), a FIFO never blocks.
 * -1 with errno EINVAL (not a regular file) or that of the failing call. */
int reopen_regular(int path_fd, int *fd_out);
/* The same for name in dirfd, which is looked at with O_PATH|O_NOFOLLOW: a
 * symlink there is not a regular file. */
int open_regular_at(int dirfd, const char *name, int *fd_out);

/* How the one atomic writer replaces a file. */
struct write_opts {
    mode_t mode;       /* of the new file (the umask does not apply) */
    bool keep;         /* a regular file being replaced gives its mode and owner */
    bool backup;       /* ...and its content is first written to NAME.bak */
    bool no_dir_sync;  /* the rename need not outlive a crash */
    bool no_sync;      /* nor the content: a file made again at every use (a container's
                          ld.so.cache, the discovery cache); implies no_dir_sync */
    bool replace_any;  /* whatever is at the name is replaced (a container's file) */
    bool fresh;        /* name is new, in a directory nobody else writes (a tmpfs made just
                          now): made at its own name, O_EXCL; no temporary, no rename */
    const char *shown; /* how messages name the file; NULL: `path` */
};

/* Replaces name in the directory dirfd with data: a new file beside it
 * (temp_name(), O_EXCL|O_NOFOLLOW), written in full, fsync'ed (but no_sync), renamed over
 * name, then the directory fsync'ed. Nothing is ever written through what is
 * at name. Only a regular file there is replaced: a symlink, a device, a
 * FIFO, a socket or a directory is refused, neither opened nor replaced, with
 * a line naming it (a planted link to a block device is not written over,
 * /dev/null named by mistake is not replaced), unless o->replace_any, where
 * the rename replaces whatever is there (an image's /etc/ld.so.cache). On
 * failure the old file is as it was and the temporary file is gone. */
int write_file_at(int dirfd, const char *name, const void *data, size_t len,
                  const struct write_opts *o, gctk_error **err);
/* Whether st is this process's uid's, with no group or other bits: what a
 * directory or file gctk keeps for itself (a cache) must be to be trusted. */
struct stat;
bool stat_private(const struct stat *st);
/* The directory name in dirfd, created 0700 when missing, opened
 * O_NOFOLLOW|O_DIRECTORY: fd, or -1 with errno (EACCES: it is there but not
 * stat_private). */
int open_private_dir_at(int dirfd, const char *name);
/* The text of the entry name in dirfd, a file gctk keeps for itself (a
 * cache): a regular file, stat_private, at most max bytes, not followed if a
 * link. NULL, and why (allocated; "no entry yet" when there is none),
 * otherwise. */
char *read_private_entry(int dirfd, const char *name, size_t max, size_t *len, char **why);
/* Keeps a directory of entries (names starting with prefix) bounded: when
 * it holds max of them besides keep, they all go (keep stays). */
void prune_entries(int dirfd, const char *prefix, const char *keep, size_t max);
/* The same for a path; missing directories above it are created (0755). */
int write_file(const char *path, const void *data, size_t len, const struct write_opts *o,
               gctk_error **err);
/* Reads the regular file at path (at most max bytes), as read_file() does,
 * for a file gctk then rewrites or a host setting no link may redirect: a
 * symlink, FIFO, device or socket at path is refused without being opened
 * (a FIFO would block, a device's open act). */
int read_regular_file(const char *path, size_t max, char **out, size_t *len, gctk_error **err);
/* "a regular file", "a symlink", "a FIFO", "a block device", ... */
const char *file_type_name(mode_t mode);
/* The text of the symlink name in dirfd (name "" with an O_PATH|O_NOFOLLOW fd
 * of the link itself); NULL with errno set. */
char *read_link_at(int dirfd, const char *name);

/* ---- programs ----------------------------------------------------------------- */

/* The search path of a process without PATH (a daemon's, a hook's). */
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Whether path is a regular file with an execute bit (a directory is not). */
bool is_executable(const char *path);
/* The first absolute directory of a PATH-like list ("dir:dir") holding an
 * executable `name`, as "dir/name" (owned); NULL when none does. Relative
 * entries are skipped: they mean nothing to a daemon. A candidate that is
 * the file skip_real (a resolved path; NULL: none) is passed over. */
char *path_search(const char *list, const char *name, const char *skip_real);
/* This program, as /proc/self/exe names it; NULL when that cannot be read. */
char *self_exe(void);
/* `name` in the directory of this program when it is an executable there
 * (the build tree, or the install directory); NULL otherwise. */
char *self_sibling(const char *name);
/* A new directory of mode 0700, "$TMPDIR/NAME.XXXXXX" (TMPDIR when it is
 * absolute, else /tmp), for a child program's files; NULL (errno set) when
 * it cannot be made. Owned; the caller removes it. */
char *temp_dir_make(const char *name);
/* Waits for the child pid (killed first when kill_first), again after an
 * interrupted wait; its wait status, or -1 (errno set). */
int reap(pid_t pid, bool kill_first);
/* Runs argv (argv[0] looked up with path_search() on PATH, else
 * DEFAULT_PATH, unless it holds a '/') with stdin and stderr on /dev/null and
 * gives its standard output (at most max bytes, NUL-terminated) when it exits
 * 0 within timeout_ms; otherwise the child is killed and reaped and the error
 * says why (ENOENT when argv[0] is not found, ETIMEDOUT, EFBIG). */
int run_capture(const char *const *argv, size_t max, unsigned timeout_ms, char **out,
                gctk_error **err);

/* ---- environments: lists of "NAME=value" ----------------------------------- */

/* The value of NAME; the last definition wins, as in execve's environment
 * handling of most libcs (and NVIDIA's toolkit). NULL when absent. */
const char *env_get(const struct strv *env, const char *name);

/* Reads an image's environment from a file of KEY=VALUE lines, as
 * `docker inspect --format '{{range .Config.Env}}{{println .}}{{end}}'`
 * prints it: blanks around a line (and a CR) are dropped, blank lines are
 * skipped, a line that is not KEY=VALUE is an error naming its number. env
 * stays NULL-terminated. */
int env_file_read(const char *path, struct strv *env, gctk_error **err);

/* Monotonic clock in nanoseconds. */
unsigned long long now_ns(void);
/* Nanoseconds as milliseconds, for a log line's "%.3f ms". */
double ns_ms(unsigned long long ns);

/* The time ts (NULL: now) in UTC for a log, "2026-11-30T05:45:20.743Z"
 * (millis) or "2026-11-30T05:45:20Z"; by hand: glibc's gmtime_r() reads
 * /etc/localtime at its first call. */
#define UTC_STAMP_MAX 96
void utc_stamp(char buf[UTC_STAMP_MAX], const struct timespec *ts, bool millis);

/* FNV-1a, 64 bits, continuing from h (HASH64_INIT to start): a fingerprint
 * of trusted data (a settings file, a /proc file), not a defence against
 * an adversary who chooses the data. */
#define HASH64_INIT 0xcbf29ce484222325ull
unsigned long long hash64(const void *data, size_t len, unsigned long long h);

#endif
