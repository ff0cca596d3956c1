/* Resolution inside a container rootfs, creation relative to resolved
 * directory fds, fd-based mounts and the journal that undoes them.
 *
 * Threat: the hook runs as root on the host while the rootfs is the image
 * author's. Any component may be a symlink to "/etc" or "../../..", and may be
 * swapped while we work (runc CVE-2021-30465, toolkit CVE-2024-0132 and
 * CVE-2025-23359). So: no container path is ever handed to the kernel as a
 * string from the host's "/"; we resolve it with the root treated as "/",
 * create with *at() calls on a resolved parent fd, and mount onto the fd. */
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/fsuid.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/vfs.h>

#include "rootfs.h"

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif
#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

/* The kernel's MAXSYMLINKS: openat2 and the walk fail the 41st link. */
#define MAX_LINKS 40

bool rootfs_force_walk;
bool rootfs_force_legacy_mount;

/* ---- small helpers --------------------------------------------------------- */

static char *proc_fd_path(int fd)
{
    return xasprintf("/proc/self/fd/%d", fd);
}

/* What fd points at, for messages only: never used to reach the object. */
static char *fd_describe(int fd)
{
    cleanup_free char *p = proc_fd_path(fd);
    char buf[PATH_MAX];
    ssize_t n = readlink(p, buf, sizeof(buf) - 1);
    if (n < 0)
        return xasprintf("fd %d", fd);
    return xstrndup(buf, (size_t)n);
}

static char *read_link_fd(int fd)
{
    return read_link_at(fd, "");
}

static bool is_dot_or_dotdot(const char *s, size_t n)
{
    return (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}

/* Splits a container path into its parent and last component; trailing
 * slashes are dropped. The last component must be a real name (not "", "."
 * or ".."): only such a name can be created. */
static int split_last(const char *path, char **parent, char **name)
{
    size_t n = strlen(path);
    while (n > 0 && path[n - 1] == '/')
        n--;
    size_t start = n;
    while (start > 0 && path[start - 1] != '/')
        start--;
    if (n == start || is_dot_or_dotdot(path + start, n - start)) {
        errno = EINVAL;
        return -1;
    }
    size_t pend = start;
    while (pend > 0 && path[pend - 1] == '/')
        pend--;
    *parent = pend == 0 ? xstrdup("/") : xstrndup(path, pend);
    *name = xstrndup(path + start, n - start);
    return 0;
}

/* A link text found at dir_path/<link>: the path its destination has in the
 * root. Absolute texts are already root-relative; relative ones are appended
 * to the directory path (resolution of "dir_path/../x" is not lexical, so
 * this is exactly what the kernel would do). */
static char *link_destination(const char *dir_path, const char *text)
{
    if (text[0] == '/')
        return xstrdup(text);
    return xasprintf("%s/%s", dir_path, text);
}

static int check_path(struct rootfs *r, const char *path, gctk_error **err)
{
    if (path == NULL || path[0] == '\0')
        return gctk_refuse(err, EINVAL, "empty container path inside `%s`", r->path);
    size_t n = strlen(path);
    if (n >= PATH_MAX)
        return gctk_refuse(err, ENAMETOOLONG,
                           "container path `%.48s...` is %zu bytes long, longer than PATH_MAX "
                           "(%d)",
                           path, n, PATH_MAX);
    return 0;
}

/* ---- resolution -------------------------------------------------------------- */

static int resolve_openat2(struct rootfs *r, const char *path, int flags)
{
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    /* EAGAIN: a rename or mount raced with a ".." step; the kernel asks us
     * to try again rather than risk a wrong answer. */
    for (int i = 0; i < 32; i++) {
        int fd = (int)syscall(SYS_openat2, r->fd, path, &how, sizeof(how));
        if (fd >= 0)
            return fd;
        if (errno != EAGAIN)
            return -errno;
    }
    return -EAGAIN;
}

/* The same as a magic link for RESOLVE_NO_MAGICLINKS: procfs links that jump
 * to an object (fd/N, exe, cwd, root, ns/...). Their texts are absolute paths
 * or "type:[id]"; procfs' plain symlinks (self, thread-self, mounts, net) are
 * relative names. */
static bool is_magic_link(int link_fd, const char *text)
{
    struct statfs sfs;
    if (fstatfs(link_fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
        return false;
    return text[0] == '/' || strchr(text, ':') != NULL;
}

struct dir_key {
    dev_t dev;
    ino_t ino;
};

/* The component walk: what openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS)
 * does, done from user space with one O_PATH|O_NOFOLLOW openat per name.
 * Symlink texts are spliced in front of the rest of the path (absolute ones
 * restart at the root fd). ".." pops to the directory we came from and is
 * checked against the inode we recorded there, so a directory moved out of
 * the root during the walk cannot lead out of it; at the root ".." stays. */
static int resolve_walk(struct rootfs *r, const char *path, int flags)
{
    cleanup_free char *buf = xstrdup(path);
    cleanup_free struct dir_key *stack = NULL;
    size_t depth = 0, cap = 0;
    int links = 0;
    struct stat st;
    cleanup_fd int cur = fcntl(r->fd, F_DUPFD_CLOEXEC, 3);
    if (cur < 0)
        return -errno;
    size_t pos = 0;

    for (;;) {
        while (buf[pos] == '/')
            pos++;
        if (buf[pos] == '\0')
            break;
        const char *name = buf + pos;
        size_t len = strcspn(name, "/");
        size_t tail = pos + len; /* buf + tail: "" or "/..." */
        size_t after = tail;
        while (buf[after] == '/')
            after++;
        bool is_last = buf[after] == '\0';
        bool slash_follows = buf[tail] == '/';
        cleanup_free char *comp = xstrndup(name, len);

        if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
            if (fstat(cur, &st) < 0)
                return -errno;
            if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
            if (comp[1] == '.' && depth > 0) {
                int up = openat(cur, "..", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (up < 0)
                    return -errno;
                close(cur);
                cur = up;
                if (fstat(cur, &st) < 0)
                    return -errno;
                depth--;
                if (st.st_dev != stack[depth].dev || st.st_ino != stack[depth].ino)
                    return -EXDEV; /* the directory moved while we walked */
            }
            pos = tail;
            continue;
        }

        int next = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0)
            return -errno;
        if (fstat(next, &st) < 0) {
            int e = errno;
            close(next);
            return -e;
        }
        bool follow = !is_last || slash_follows || !(flags & O_NOFOLLOW);
        if (S_ISLNK(st.st_mode) && follow) {
            cleanup_fd int link = next;
            if (++links > MAX_LINKS)
                return -ELOOP;
            cleanup_free char *text = read_link_fd(link);
            if (text == NULL)
                return -errno;
            if (text[0] == '\0')
                return -ENOENT;
            if (is_magic_link(link, text))
                return -ELOOP;
            char *spliced = xasprintf("%s%s", text, buf + tail);
            free(buf);
            buf = spliced;
            pos = 0;
            if (text[0] == '/') {
                int root = fcntl(r->fd, F_DUPFD_CLOEXEC, 3);
                if (root < 0)
                    return -errno;
                close(cur);
                cur = root;
                depth = 0;
            }
            continue;
        }
        if (is_last && slash_follows && !S_ISDIR(st.st_mode)) {
            close(next);
            return -ENOTDIR;
        }
        if (depth == cap) {
            cap = cap ? cap * 2 : 16;
            stack = xrealloc(stack, cap * sizeof(*stack));
        }
        /* where ".." from next must lead back to */
        struct stat here;
        if (fstat(cur, &here) < 0) {
            int e = errno;
            close(next);
            return -e;
        }
        stack[depth++] = (struct dir_key){here.st_dev, here.st_ino};
        close(cur);
        cur = next;
        pos = tail;
    }

    /* The result with the caller's flags: the object the walk holds, never
     * its name again (a name can be swapped since): O_PATH keeps the fd,
     * other flags reopen it through /proc/self/fd, and the result is checked
     * to be what the walk found. */
    if (fstat(cur, &st) < 0)
        return -errno;
    if ((flags & O_DIRECTORY) && !S_ISDIR(st.st_mode))
        return -ENOTDIR;
    if (flags & O_PATH)
        return steal_fd(&cur);
    cleanup_free char *self = proc_fd_path(cur);
    int fd = open(self, (flags & ~O_NOFOLLOW) | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat got;
    if (fstat(fd, &got) < 0 || got.st_dev != st.st_dev || got.st_ino != st.st_ino) {
        close(fd);
        return -EAGAIN;
    }
    return fd;
}

/* fd >= 0, or -errno. O_CREAT is not for this path: creation goes through
 * the functions below, which create relative to a resolved parent. */
static int resolve_raw(struct rootfs *r, const char *path, int flags)
{
    if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
        return -EINVAL;
    if (!rootfs_force_walk) {
        int fd = resolve_openat2(r, path, flags);
        if (fd != -ENOSYS)
            return fd;
    }
    return resolve_walk(r, path, flags);
}

int rootfs_open(const char *path, struct rootfs *out, gctk_error **err)
{
    /* The rootfs path comes from the runtime (config.json root.path joined to
     * the bundle), not from the image: opening it by path is fine. */
    int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return gctk_fail(err, errno, "open rootfs `%s`", path);
    *out = (struct rootfs){.fd = fd, .path = xstrdup(path)};
    return 0;
}

/* Forgets the kept parent directory (struct rootfs). */
static void parent_drop(struct rootfs *r)
{
    if (r->parent_path == NULL)
        return;
    close(r->parent_fd);
    free(r->parent_path);
    r->parent_path = NULL;
}

void rootfs_close(struct rootfs *r)
{
    if (r == NULL)
        return;
    parent_drop(r);
    if (r->fd >= 0)
        close(r->fd);
    free(r->path);
    r->fd = -1;
    r->path = NULL;
}

int rootfs_open_path(struct rootfs *r, const char *path, int flags, int *fd_out, gctk_error **err)
{
    if (check_path(r, path, err) < 0)
        return -1;
    int fd = resolve_raw(r, path, flags);
    if (fd < 0)
        return gctk_fail(err, -fd, "resolve `%s` inside `%s`", path, r->path);
    parent_drop(r); /* fd may be a directory */
    *fd_out = fd;
    return 0;
}

/* ---- journal ------------------------------------------------------------------ */

/* Undos so far: an undo may remove a directory that a struct rootfs keeps
 * (parent_fd), which is used only under the count it was kept at. */
static unsigned undo_count;

enum entry_kind { ENTRY_MOUNT, ENTRY_DIR, ENTRY_FILE, ENTRY_SYMLINK };

struct entry {
    enum entry_kind kind;
    int fd;     /* mount: O_PATH fd of the mount's root; else the parent dir */
    char *name; /* created name in fd */
    dev_t dev;  /* the created object, to remove only that one */
    ino_t ino;
    char *old_target; /* a replaced symlink's previous text, restored on undo */
};

struct mount_journal {
    struct entry *items;
    size_t len, cap;
};

struct mount_journal *mount_journal_new(void)
{
    return xcalloc(1, sizeof(struct mount_journal));
}

static void journal_add(struct mount_journal *j, struct entry e)
{
    if (j->len == j->cap) {
        j->cap = j->cap ? j->cap * 2 : 16;
        j->items = xrealloc(j->items, j->cap * sizeof(*j->items));
    }
    j->items[j->len++] = e;
}

/* Records an object created as name in *dirfd, which the journal takes
 * (-1 left in its place; left alone without a journal). Failure to record
 * only means undo will not remove it. */
static void journal_created(struct mount_journal *j, enum entry_kind kind, int *dirfd,
                            const char *name, const struct stat *st, const char *old_target)
{
    if (j == NULL || *dirfd < 0)
        return;
    journal_add(j, (struct entry){kind, steal_fd(dirfd), xstrdup(name), st->st_dev, st->st_ino,
                                  xstrdup(old_target)});
}

/* mount_root_fd is owned by the journal from now on. */
static void journal_mount(struct mount_journal *j, int mount_root_fd)
{
    if (j == NULL) {
        close(mount_root_fd);
        return;
    }
    journal_add(j, (struct entry){ENTRY_MOUNT, mount_root_fd, NULL, 0, 0, NULL});
}

/* A link this journal created was replaced by another: the entry follows
 * the new link, so undo still removes it (or restores what was there before
 * the journal, not an intermediate target). */
static bool journal_relink(struct mount_journal *j, const struct stat *old, const struct stat *now)
{
    for (size_t i = 0; j != NULL && i < j->len; i++) {
        struct entry *e = &j->items[i];
        if (e->kind == ENTRY_SYMLINK && e->dev == old->st_dev && e->ino == old->st_ino) {
            e->dev = now->st_dev;
            e->ino = now->st_ino;
            return true;
        }
    }
    return false;
}

size_t mount_journal_mounts(const struct mount_journal *j)
{
    size_t n = 0;
    for (size_t i = 0; j != NULL && i < j->len; i++)
        n += j->items[i].kind == ENTRY_MOUNT;
    return n;
}

static void entry_clear(struct entry *e)
{
    if (e->fd >= 0)
        close(e->fd);
    free(e->name);
    free(e->old_target);
}

static int replace_symlink(int dirfd, const char *name, const char *target);

static void undo_created(struct entry *e)
{
    struct stat st;
    if (fstatat(e->fd, e->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return;
    /* someone put something else there since: it is not ours to remove */
    if (st.st_dev != e->dev || st.st_ino != e->ino)
        return;
    if (e->kind == ENTRY_SYMLINK && e->old_target != NULL)
        replace_symlink(e->fd, e->name, e->old_target);
    else
        unlinkat(e->fd, e->name, e->kind == ENTRY_DIR ? AT_REMOVEDIR : 0);
}

void mount_journal_undo(struct mount_journal *j)
{
    if (j == NULL)
        return;
    undo_count++;
    /* Mounts first, so that the targets under them can be removed. The
     * recorded fd is the mount's root, so the magic link names that mount
     * whatever happened to the path since; MNT_DETACH because the container
     * side may hold it busy. */
    for (size_t i = j->len; i-- > 0;) {
        struct entry *e = &j->items[i];
        if (e->kind != ENTRY_MOUNT)
            continue;
        cleanup_free char *p = proc_fd_path(e->fd);
        umount2(p, MNT_DETACH);
    }
    for (size_t i = j->len; i-- > 0;)
        if (j->items[i].kind != ENTRY_MOUNT)
            undo_created(&j->items[i]);
    for (size_t i = 0; i < j->len; i++)
        entry_clear(&j->items[i]);
    j->len = 0;
}

void mount_journal_free(struct mount_journal *j)
{
    if (j == NULL)
        return;
    for (size_t i = 0; i < j->len; i++)
        entry_clear(&j->items[i]);
    free(j->items);
    free(j);
}

/* ---- creation inside the root ---------------------------------------------- */

static int mkdir_p_at(struct rootfs *r, const char *path, mode_t mode, struct mount_journal *j,
                      int links, gctk_error **err);

/* Follows a dangling symlink found at dir_path/name (in dirfd) by creating its
 * destination inside the root: the path the link names, resolved as the
 * container would. Returns the destination path. */
static char *dangling_destination(struct rootfs *r, int dirfd, const char *dir_path,
                                  const char *name, const char *shown, int *links, gctk_error **err)
{
    if (++*links > MAX_LINKS) {
        gctk_fail(err, ELOOP, "create `%s` inside `%s`", shown, r->path);
        return NULL;
    }
    cleanup_free char *text = read_link_at(dirfd, name);
    if (text == NULL || text[0] == '\0') {
        gctk_fail(err, text == NULL ? errno : ENOENT, "read symlink `%s` inside `%s`", shown,
                  r->path);
        return NULL;
    }
    return link_destination(dir_path, text);
}

/* Creates dir name in dirfd and opens it O_PATH|O_NOFOLLOW|O_DIRECTORY;
 * returns the fd, -EEXIST when something is there, or -errno. */
static int create_dir_in(int dirfd, const char *name, mode_t mode, struct mount_journal *j)
{
    if (mkdirat(dirfd, name, mode) < 0)
        return -errno;
    int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno; /* replaced by a non-directory in between: not followed */
    struct stat st;
    if (j != NULL && fstat(fd, &st) == 0) {
        /* dirfd goes on: the journal keeps its own */
        int kept = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        journal_created(j, ENTRY_DIR, &kept, name, &st, NULL);
    }
    return fd;
}

static int mkdir_p_at(struct rootfs *r, const char *path, mode_t mode, struct mount_journal *j,
                      int links, gctk_error **err)
{
    /* The usual case, a directory that exists: one resolution, the same as
     * the walk below would make (which creates what is missing and says
     * which component is in the way). */
    int found = resolve_raw(r, path, O_PATH | O_DIRECTORY);
    if (found >= 0)
        return found;
    cleanup_fd int cur = fcntl(r->fd, F_DUPFD_CLOEXEC, 3);
    if (cur < 0)
        return gctk_fail(err, errno, "dup rootfs fd");
    /* the container path of cur as we reached it, to resolve from again */
    size_t plen = strlen(path);
    cleanup_free char *prefix = xmalloc(plen + 2);
    size_t pre = 0;
    prefix[0] = '\0';

    for (const char *p = path; *p != '\0';) {
        while (*p == '/')
            p++;
        size_t len = strcspn(p, "/");
        if (len == 0)
            break;
        cleanup_free char *comp = xstrndup(p, len);
        p += len;
        if (strcmp(comp, ".") == 0)
            continue;
        size_t parent_len = pre;
        prefix[pre++] = '/';
        memcpy(prefix + pre, comp, len);
        pre += len;
        prefix[pre] = '\0';

        if (strcmp(comp, "..") == 0) {
            int fd = resolve_raw(r, prefix, O_PATH | O_DIRECTORY);
            if (fd < 0)
                return gctk_fail(err, -fd, "resolve `%s` inside `%s`", prefix, r->path);
            close(cur);
            cur = fd;
            continue;
        }
        for (int tries = 0;; tries++) {
            struct stat st;
            int next = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
            if (next < 0 && errno != ENOENT)
                return gctk_fail(err, errno, "open `%s` inside `%s`", prefix, r->path);
            if (next < 0) {
                next = create_dir_in(cur, comp, mode, j);
                if (next == -EEXIST && tries < 3)
                    continue; /* appeared meanwhile: look at it again */
                if (next < 0)
                    return gctk_fail(err, -next, "create directory `%s` inside `%s`", prefix,
                                     r->path);
                close(cur);
                cur = next;
                break;
            }
            if (fstat(next, &st) < 0) {
                int e = errno;
                close(next);
                return gctk_fail(err, e, "stat `%s` inside `%s`", prefix, r->path);
            }
            if (S_ISDIR(st.st_mode)) {
                close(cur);
                cur = next;
                break;
            }
            close(next);
            if (!S_ISLNK(st.st_mode))
                return gctk_refuse(err, ENOTDIR, "`%s` inside `%s` is %s, not a directory", prefix,
                                   r->path, file_type_name(st.st_mode));
            /* A symlink: resolve it as the container would. */
            int fd = resolve_raw(r, prefix, O_PATH | O_DIRECTORY);
            if (fd == -ENOENT) {
                prefix[parent_len] = '\0';
                cleanup_free char *dest = dangling_destination(r, cur, parent_len ? prefix : "/",
                                                               comp, path, &links, err);
                prefix[parent_len] = '/';
                if (dest == NULL)
                    return -1;
                fd = mkdir_p_at(r, dest, mode, j, links, err);
                if (fd < 0)
                    return -1;
            } else if (fd < 0) {
                return gctk_fail(err, -fd, "resolve `%s` inside `%s`", prefix, r->path);
            }
            close(cur);
            cur = fd;
            break;
        }
    }
    return steal_fd(&cur);
}

/* The directory (made when missing) that a file or link is made in, as an
 * fd of the caller's: the one kept when it is the last one's, else resolved
 * and kept. */
static int parent_dir(struct rootfs *r, const char *path, struct mount_journal *j, int links,
                      gctk_error **err)
{
    if (r->parent_path != NULL && r->parent_undo == undo_count &&
        strcmp(r->parent_path, path) == 0) {
        int fd = fcntl(r->parent_fd, F_DUPFD_CLOEXEC, 3);
        if (fd >= 0)
            return fd;
    }
    int fd = mkdir_p_at(r, path, 0755, j, links, err);
    if (fd < 0)
        return -1;
    int kept = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    parent_drop(r);
    if (kept >= 0) {
        r->parent_fd = kept;
        r->parent_path = xstrdup(path);
        r->parent_undo = undo_count;
    }
    return fd;
}

static int rootfs_mkdir_p_as(struct rootfs *r, const char *path, mode_t mode,
                             struct mount_journal *j, int *fd_out, gctk_error **err)
{
    if (check_path(r, path, err) < 0)
        return -1;
    parent_drop(r);
    int fd = mkdir_p_at(r, path, mode, j, 0, err);
    if (fd < 0)
        return -1;
    *fd_out = fd;
    return 0;
}

static int check_target_type(struct rootfs *r, const char *path, int fd, mode_t type,
                             gctk_error **err)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return gctk_fail(err, errno, "stat mount target `%s` inside `%s`", path, r->path);
    if ((st.st_mode & S_IFMT) == type)
        return 0;
    int code = type == S_IFDIR ? ENOTDIR : S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    return gctk_refuse(err, code,
                       "mount target `%s` inside `%s` is %s, expected %s: remove it from the "
                       "image or choose another path",
                       path, r->path, file_type_name(st.st_mode), file_type_name(type));
}

/* Creates the file name in pfd for a mount target: *fd_out is the new file's
 * own fd (recorded in j), or -EEXIST when something is there. */
static int create_target_in(struct rootfs *r, int *pfd, const char *name, const char *path,
                            struct mount_journal *j, int *fd_out, gctk_error **err)
{
    cleanup_fd int fd =
        openat(*pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST)
        return -EEXIST;
    if (fd < 0)
        return gctk_fail(err, errno, "create `%s` inside `%s`", path, r->path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return gctk_fail(err, errno, "stat `%s` inside `%s`", path, r->path);
    journal_created(j, ENTRY_FILE, pfd, name, &st, NULL);
    *fd_out = steal_fd(&fd);
    return 1;
}

static int make_target_at(struct rootfs *r, const char *path, mode_t type, struct mount_journal *j,
                          int links, int *fd_out, gctk_error **err)
{
    cleanup_free char *parent = NULL, *name = NULL;
    if (type != S_IFDIR) {
        if (split_last(path, &parent, &name) < 0)
            return gctk_refuse(err, EINVAL, "mount target `%s`: not a file name", path);
        if (path[strlen(path) - 1] == '/')
            return gctk_refuse(err, ENOTDIR, "mount target `%s` ends in `/` but is a file", path);
    }
    for (int tries = 0;; tries++) {
        cleanup_fd int pfd = -1;
        if (type != S_IFDIR) {
            /* A new file first, the usual case: the parent resolved once and
             * the file made there, never looked up by name again. */
            pfd = parent_dir(r, parent, j, links, err);
            if (pfd < 0)
                return -1;
            int rc = create_target_in(r, &pfd, name, path, j, fd_out, err);
            if (rc != -EEXIST)
                return rc;
        }
        /* O_PATH: a FIFO must never be opened for reading, it would block. */
        cleanup_fd int fd = resolve_raw(r, path, O_PATH);
        if (fd >= 0) {
            if (check_target_type(r, path, fd, type, err) < 0)
                return -1;
            *fd_out = steal_fd(&fd);
            return 0;
        }
        if (fd != -ENOENT)
            return gctk_fail(err, -fd, "resolve mount target `%s` inside `%s`", path, r->path);
        if (type == S_IFDIR) {
            fd = mkdir_p_at(r, path, 0755, j, links, err);
            if (fd < 0)
                return -1;
            *fd_out = steal_fd(&fd);
            return 0;
        }
        struct stat st;
        if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
            /* A dangling symlink (resolution said ENOENT): the target is
             * created where it points, inside the root. */
            cleanup_free char *dest = dangling_destination(r, pfd, parent, name, path, &links, err);
            if (dest == NULL)
                return -1;
            int rc = make_target_at(r, dest, type, j, links, fd_out, err);
            if (rc < 0)
                return gctk_wrap(err, "follow symlink `%s`", path);
            return rc;
        }
        if (tries >= 3)
            return gctk_fail(err, EAGAIN, "mount target `%s` inside `%s` keeps changing", path,
                             r->path);
    }
}

static int rootfs_make_target_as(struct rootfs *r, const char *path, mode_t type,
                                 struct mount_journal *j, int *fd_out, gctk_error **err)
{
    if (check_path(r, path, err) < 0)
        return -1;
    if (type != S_IFREG && type != S_IFDIR)
        return gctk_refuse(err, EINVAL, "mount target `%s`: type must be a file or a directory",
                           path);
    if (type == S_IFDIR)
        parent_drop(r);
    return make_target_at(r, path, type, j, 0, fd_out, err);
}

/* Atomically makes name in dirfd a symlink to target: a new link under a
 * temporary name, renamed over the old one. 0 or -errno. */
static int replace_symlink(int dirfd, const char *name, const char *target)
{
    for (int tries = 0; tries < 16; tries++) {
        cleanup_free char *tmp = temp_name();
        if (symlinkat(target, dirfd, tmp) < 0) {
            if (errno == EEXIST)
                continue;
            return -errno;
        }
        if (renameat(dirfd, tmp, dirfd, name) < 0) {
            int e = errno;
            unlinkat(dirfd, tmp, 0);
            return -e;
        }
        return 0;
    }
    return -EEXIST;
}

/* The directory a file is to be created in (made when missing, recorded in
 * j) as an O_PATH fd, and in *name the file's name. kind and doing name the
 * work in messages ("symlink", "create symlink"). */
static int open_parent(struct rootfs *r, const char *path, const char *kind, const char *doing,
                       struct mount_journal *j, char **name, gctk_error **err)
{
    if (check_path(r, path, err) < 0)
        return -1;
    cleanup_free char *parent = NULL, *last = NULL;
    if (split_last(path, &parent, &last) < 0 || path[strlen(path) - 1] == '/')
        return gctk_refuse(err, EINVAL, "%s `%s`: not a file name", kind, path);
    int pfd = parent_dir(r, parent, j, 0, err);
    if (pfd < 0)
        return gctk_wrap(err, "%s `%s`", doing, path);
    *name = steal_pointer(&last);
    return pfd;
}

static int rootfs_symlink_as(struct rootfs *r, const char *target, const char *linkpath,
                             struct mount_journal *j, gctk_error **err)
{
    cleanup_free char *name = NULL;
    cleanup_fd int pfd = open_parent(r, linkpath, "symlink", "create symlink", j, &name, err);
    if (pfd < 0)
        return -1;
    struct stat st;
    if (symlinkat(target, pfd, name) == 0) {
        if (j != NULL && fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
            journal_created(j, ENTRY_SYMLINK, &pfd, name, &st, NULL);
        return 0;
    }
    if (errno != EEXIST)
        return gctk_fail(err, errno, "create symlink `%s` inside `%s`", linkpath, r->path);
    if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return gctk_fail(err, errno, "stat `%s` inside `%s`", linkpath, r->path);
    if (!S_ISLNK(st.st_mode))
        /* the path as the container sees it: the rootfs's own path (an
         * overlay2 directory) means nothing to the image's author */
        return gctk_refuse(err, EEXIST,
                           "`%s` in the container is %s of the image, where the link to `%s` "
                           "goes: left alone",
                           linkpath, file_type_name(st.st_mode), target);
    cleanup_free char *old = read_link_at(pfd, name);
    if (old == NULL)
        return gctk_fail(err, errno, "read symlink `%s` inside `%s`", linkpath, r->path);
    if (strcmp(old, target) == 0)
        return 0;
    struct stat before = st;
    int rc = replace_symlink(pfd, name, target);
    if (rc < 0)
        return gctk_fail(err, -rc, "replace symlink `%s` inside `%s`", linkpath, r->path);
    if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !journal_relink(j, &before, &st))
        journal_created(j, ENTRY_SYMLINK, &pfd, name, &st, old);
    return 0;
}

static int rootfs_write_file_as(struct rootfs *r, const char *path, const void *data, size_t len,
                                mode_t mode, gctk_error **err)
{
    cleanup_free char *name = NULL;
    cleanup_fd int pfd = open_parent(r, path, "write", "write", NULL, &name, err);
    if (pfd < 0)
        return -1;
    /* what the hook writes in the container is written again at each of
     * its starts (a restart after a host crash included): the rename is
     * atomic for its readers, nothing is synced */
    cleanup_free char *shown = xasprintf("`%s` inside `%s`", path, r->path);
    /* whatever the image put at the name is replaced: a link, a FIFO, a node */
    const struct write_opts o = {
        .mode = mode, .no_sync = true, .replace_any = true, .shown = shown};
    return write_file_at(pfd, name, data, len, &o, err);
}

/* ---- the owner of what is created ------------------------------------------------ */

/* A container in a user namespace of its own (Docker's userns-remap, podman
 * --userns, Kubernetes' hostUsers: false) has a /dev, and maybe a rootfs,
 * owned by that namespace: the kernel refuses (EOVERFLOW) to create there an
 * inode whose owner the namespace cannot name, such as the hook's uid 0. So
 * what is created in the rootfs is created as the container's own root (its
 * host ids, r->uid and r->gid), through the filesystem ids of this thread;
 * the filesystem capabilities that a non-zero fsuid drops are raised again,
 * so that the hook may do what it may as root and only the owner of new
 * files changes. */
struct owner_scope {
    bool active;
    uid_t fsuid;
    gid_t fsgid;
    struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3];
};

static void owner_enter(const struct rootfs *r, struct owner_scope *s)
{
    s->active = r->owner_mapped;
    if (!s->active)
        return;
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
    if (syscall(SYS_capget, &h, s->caps) < 0)
        memset(s->caps, 0, sizeof(s->caps));
    s->fsgid = (gid_t)setfsgid(r->gid);
    s->fsuid = (uid_t)setfsuid(r->uid);
    h = (struct __user_cap_header_struct){.version = _LINUX_CAPABILITY_VERSION_3};
    syscall(SYS_capset, &h, s->caps);
}

static void owner_leave(struct owner_scope *s)
{
    if (!s->active)
        return;
    setfsuid(s->fsuid);
    setfsgid(s->fsgid);
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
    syscall(SYS_capset, &h, s->caps);
}

/* The host id that inside id 0 of a uid_map or gid_map text maps to; false
 * when no line maps it. */
static bool map_zero(const char *text, unsigned long *host)
{
    for (const char *line = text; line != NULL && *line != '\0';) {
        unsigned long inside = 0, outside = 0, count = 0;
        if (sscanf(line, " %lu %lu %lu", &inside, &outside, &count) == 3 && inside == 0 &&
            count > 0) {
            *host = outside;
            return true;
        }
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    return false;
}

int rootfs_owner_of(struct rootfs *r, pid_t pid, gctk_error **err)
{
    unsigned long ids[2] = {0, 0};
    static const char *const maps[] = {"uid_map", "gid_map"};
    for (size_t i = 0; i < 2; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, maps[i]);
        cleanup_free char *text = NULL;
        if (read_file(path, 1u << 16, &text, NULL, err) < 0)
            return gctk_wrap(err, "the user namespace of process %d", (int)pid);
        /* no root inside (a namespace of one mapped user): the hook's own */
        if (!map_zero(text, &ids[i]))
            return 0;
    }
    r->uid = (uid_t)ids[0];
    r->gid = (gid_t)ids[1];
    r->owner_mapped = r->uid != 0 || r->gid != 0;
    return 0;
}

int rootfs_mkdir_p(struct rootfs *r, const char *path, mode_t mode, struct mount_journal *j,
                   int *fd_out, gctk_error **err)
{
    struct owner_scope s;
    owner_enter(r, &s);
    int rc = rootfs_mkdir_p_as(r, path, mode, j, fd_out, err);
    owner_leave(&s);
    return rc;
}

int rootfs_mkdir_in(struct rootfs *r, int dirfd, const char *name, mode_t mode, int *fd_out,
                    gctk_error **err)
{
    struct owner_scope s;
    owner_enter(r, &s);
    int fd = create_dir_in(dirfd, name, mode, NULL);
    owner_leave(&s);
    if (fd < 0)
        return gctk_fail(err, -fd, "make directory `%s` inside `%s`", name, r->path);
    *fd_out = fd;
    return 0;
}

int rootfs_write_file_in(struct rootfs *r, int dirfd, const char *name, const void *data,
                         size_t len, mode_t mode, gctk_error **err)
{
    cleanup_free char *shown = xasprintf("`%s` inside `%s`", name, r->path);
    const struct write_opts o = {.mode = mode, .no_sync = true, .fresh = true, .shown = shown};
    struct owner_scope s;
    owner_enter(r, &s);
    int rc = write_file_at(dirfd, name, data, len, &o, err);
    owner_leave(&s);
    return rc;
}

int rootfs_make_target(struct rootfs *r, const char *path, mode_t type, struct mount_journal *j,
                       int *fd_out, gctk_error **err)
{
    struct owner_scope s;
    owner_enter(r, &s);
    int rc = rootfs_make_target_as(r, path, type, j, fd_out, err);
    owner_leave(&s);
    return rc;
}

int rootfs_symlink(struct rootfs *r, const char *target, const char *linkpath,
                   struct mount_journal *j, gctk_error **err)
{
    struct owner_scope s;
    owner_enter(r, &s);
    int rc = rootfs_symlink_as(r, target, linkpath, j, err);
    owner_leave(&s);
    return rc;
}

int rootfs_write_file(struct rootfs *r, const char *path, const void *data, size_t len, mode_t mode,
                      gctk_error **err)
{
    struct owner_scope s;
    owner_enter(r, &s);
    int rc = rootfs_write_file_as(r, path, data, len, mode, err);
    owner_leave(&s);
    return rc;
}

/* ---- mounts ------------------------------------------------------------------- */

static uint64_t mount_attrs(unsigned flags)
{
    return (flags & MOUNT_RO ? MOUNT_ATTR_RDONLY : 0) |
           (flags & MOUNT_NOSUID ? MOUNT_ATTR_NOSUID : 0) |
           (flags & MOUNT_NODEV ? MOUNT_ATTR_NODEV : 0) |
           (flags & MOUNT_NOEXEC ? MOUNT_ATTR_NOEXEC : 0);
}

static unsigned long ms_flags(unsigned flags)
{
    return (flags & MOUNT_RO ? MS_RDONLY : 0) | (flags & MOUNT_NOSUID ? MS_NOSUID : 0) |
           (flags & MOUNT_NODEV ? MS_NODEV : 0) | (flags & MOUNT_NOEXEC ? MS_NOEXEC : 0);
}

static int set_attrs_fd(int fd, uint64_t attrs)
{
    struct mount_attr attr = {.attr_set = attrs};
    return (int)syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attr, sizeof(attr));
}

/* Remount of the mount whose root is fd, through its magic link (which
 * names exactly that mount, whatever its path has become). */
static int remount_fd(int fd, unsigned long flags)
{
    cleanup_free char *p = proc_fd_path(fd);
    return mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | flags, NULL);
}

/* After mount(2) onto /proc/self/fd/T the fd T still names the object under
 * the new mount (a magic link is not a lookup: it does not cross mounts), so
 * it cannot serve to remount or unmount. The old API offers nothing but a
 * lookup by name: reopen the path the kernel reports for T and check that the
 * object found is the mount we expect (same inode as the bind source, or a
 * different filesystem than T for a tmpfs). Only on kernels without the new
 * mount API (before 5.2). */
static int reopen_mounted(int target_fd, const struct stat *expect, gctk_error **err)
{
    cleanup_free char *where = fd_describe(target_fd);
    if (where[0] != '/')
        return gctk_fail(err, ENOENT, "find the mount on `%s`", where);
    int fd = open(where, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return gctk_fail(err, errno, "reopen the mount on `%s`", where);
    struct stat st, under;
    bool ok = fstat(fd, &st) == 0 && fstat(target_fd, &under) == 0;
    if (ok && expect != NULL)
        ok = st.st_dev == expect->st_dev && st.st_ino == expect->st_ino;
    else if (ok)
        ok = st.st_dev != under.st_dev;
    if (!ok) {
        close(fd);
        return gctk_fail(err, EAGAIN, "the mount on `%s` is not where it was made", where);
    }
    return fd;
}

/* After a failed bind: the kernel says EINVAL (new API) or ENOTDIR
 * (mount(2)) for a directory onto a non-directory or the reverse; -1 with
 * that said plainly, the same way for both, else 0 (nothing to add). Looked
 * at only then: the usual mount costs no stat. */
static int type_mismatch(int src_fd, int target_fd, gctk_error **err)
{
    struct stat s, t;
    if (fstat(src_fd, &s) < 0 || fstat(target_fd, &t) < 0 ||
        S_ISDIR(s.st_mode) == S_ISDIR(t.st_mode))
        return 0;
    return gctk_refuse(err, S_ISDIR(s.st_mode) ? ENOTDIR : EISDIR,
                       "the source is %sa directory, the target is%s",
                       S_ISDIR(s.st_mode) ? "" : "not ", S_ISDIR(s.st_mode) ? " not" : "");
}

static int bind_legacy(int src_fd, int target_fd, unsigned flags, struct mount_journal *j,
                       gctk_error **err)
{
    cleanup_free char *src = proc_fd_path(src_fd);
    cleanup_free char *dst = proc_fd_path(target_fd);
    struct stat st;
    if (fstat(src_fd, &st) < 0)
        return gctk_fail(err, errno, "stat bind source");
    if (mount(src, dst, NULL, MS_BIND, NULL) < 0) {
        int e = errno;
        if (type_mismatch(src_fd, target_fd, err) < 0)
            return -1;
        return gctk_fail(err, e, "mount(2)");
    }
    /* On failure the mount stays where it is: without a handle on it there
     * is nothing safe to unmount (dst names what is under it). */
    cleanup_fd int mounted = reopen_mounted(target_fd, &st, err);
    if (mounted < 0)
        return -1;
    /* MS_BIND ignores the other flags: they need a remount, so the mount is
     * briefly visible writable on these old kernels. */
    if (ms_flags(flags) != 0 && remount_fd(mounted, ms_flags(flags)) < 0) {
        int e = errno;
        cleanup_free char *p = proc_fd_path(mounted);
        umount2(p, MNT_DETACH);
        return gctk_fail(err, e, "remount read-only");
    }
    journal_mount(j, steal_fd(&mounted));
    return 0;
}

/* Kernel behaviour checked on 6.18 (tests/unit/test_rootfs.c, source in
 * another mount namespace): open_tree(OPEN_TREE_CLONE) of a source whose mount
 * is not in the caller's namespace fails EINVAL, and so does mount(MS_BIND)
 * from /proc/self/fd/SRC; move_mount onto a target in another namespace fails
 * EINVAL too. Hence the order the hook uses: setns() into the container's
 * mount namespace first, then open the host sources there (the namespace is
 * a copy of the host's made before pivot_root, so they are visible) and the
 * targets inside the rootfs.
 *
 * The bind mount itself; its errors say what failed, mount_bind_fd adds which
 * mount (the names cost a readlink each: only on failure). */
static int bind_fd(int src_fd, int target_fd, unsigned flags, struct mount_journal *j,
                   gctk_error **err)
{
    const char *hint = "";
    cleanup_fd int tree = -1;
    if (!rootfs_force_legacy_mount)
        tree = (int)syscall(SYS_open_tree, src_fd, "",
                            OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (tree < 0 && (rootfs_force_legacy_mount || errno == ENOSYS))
        return bind_legacy(src_fd, target_fd, flags, j, err);
    if (tree < 0) {
        int e = errno;
        if (e == EINVAL)
            hint = " (is the source in another mount namespace? open it after setns)";
        return gctk_fail(err, e, "clone the source%s", hint);
    }
    /* Attributes go on the detached clone, so that the mount is never seen
     * writable inside the container. Kernels 5.2-5.11 have open_tree but not
     * mount_setattr: there we remount once it is attached. */
    uint64_t attrs = mount_attrs(flags);
    bool late = false;
    if (attrs != 0 && set_attrs_fd(tree, attrs) < 0) {
        if (errno != ENOSYS)
            return gctk_fail(err, errno, "set attributes");
        late = true;
    }
    if (syscall(SYS_move_mount, tree, "", target_fd, "",
                MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
        int e = errno;
        if (type_mismatch(src_fd, target_fd, err) < 0)
            return -1;
        if (e == EINVAL)
            hint = " (is the target in another mount namespace?)";
        return gctk_fail(err, e, "attach the mount%s", hint);
    }
    /* tree is now the root of the attached mount: the journal's handle on it */
    if (late && remount_fd(tree, ms_flags(flags)) < 0) {
        int e = errno;
        cleanup_free char *p = proc_fd_path(tree);
        umount2(p, MNT_DETACH);
        return gctk_fail(err, e, "remount");
    }
    journal_mount(j, steal_fd(&tree));
    return 0;
}

int mount_bind_fd(int src_fd, int target_fd, unsigned flags, struct mount_journal *j,
                  gctk_error **err)
{
    if (bind_fd(src_fd, target_fd, flags, j, err) == 0)
        return 0;
    cleanup_free char *src_name = fd_describe(src_fd);
    cleanup_free char *dst_name = fd_describe(target_fd);
    return gctk_wrap(err, "bind mount `%s` on `%s`", src_name, dst_name);
}

/* Passes "a=b,c" to fsconfig: keys with a value as strings, others as flags. */
static int tmpfs_configure(int fsfd, const char *options, gctk_error **err)
{
    if (options == NULL)
        return 0;
    cleanup_free char *copy = xstrdup(options);
    char *save = NULL;
    for (char *opt = strtok_r(copy, ",", &save); opt != NULL; opt = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(opt, '=');
        int rc;
        if (eq != NULL) {
            *eq = '\0';
            rc = (int)syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, opt, eq + 1, 0);
        } else {
            rc = (int)syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_FLAG, opt, NULL, 0);
        }
        if (rc < 0)
            return gctk_fail(err, errno, "tmpfs option `%s`", opt);
    }
    return 0;
}

/* Records the mount whose root is open as root_fd and hands root_fd out. */
static int tmpfs_done(int *root_fd, struct mount_journal *j, int *root_fd_out, gctk_error **err)
{
    int keep = fcntl(*root_fd, F_DUPFD_CLOEXEC, 3);
    if (keep < 0) {
        int e = errno;
        cleanup_free char *p = proc_fd_path(*root_fd);
        umount2(p, MNT_DETACH);
        return gctk_fail(err, e, "dup");
    }
    journal_mount(j, keep);
    *root_fd_out = steal_fd(root_fd);
    return 0;
}

static int tmpfs_legacy(int target_fd, const char *options, struct mount_journal *j,
                        int *root_fd_out, gctk_error **err)
{
    cleanup_free char *dst = proc_fd_path(target_fd);
    if (mount("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV, options) < 0)
        return gctk_fail(err, errno, "mount with options `%s`", options ? options : "");
    cleanup_fd int root = reopen_mounted(target_fd, NULL, err);
    if (root < 0)
        return -1;
    struct statfs sfs;
    if (fstatfs(root, &sfs) < 0 || sfs.f_type != TMPFS_MAGIC)
        return gctk_fail(err, EAGAIN, "the mount found is not the tmpfs made");
    return tmpfs_done(&root, j, root_fd_out, err);
}

static int tmpfs_mount(int target_fd, const char *options, struct mount_journal *j,
                       int *root_fd_out, gctk_error **err)
{
    cleanup_fd int fsfd = -1;
    if (!rootfs_force_legacy_mount)
        fsfd = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
    if (fsfd < 0 && (rootfs_force_legacy_mount || errno == ENOSYS))
        return tmpfs_legacy(target_fd, options, j, root_fd_out, err);
    if (fsfd < 0)
        return gctk_fail(err, errno, "fsopen");
    if (tmpfs_configure(fsfd, options, err) < 0)
        return -1;
    if (syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        return gctk_fail(err, errno, "create");
    /* nosuid and nodev from the start: nothing put in there needs either */
    cleanup_fd int mnt =
        (int)syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
    if (mnt < 0)
        return gctk_fail(err, errno, "fsmount");
    if (syscall(SYS_move_mount, mnt, "", target_fd, "",
                MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return gctk_fail(err, errno, "move_mount");
    return tmpfs_done(&mnt, j, root_fd_out, err);
}

int mount_tmpfs_fd(int target_fd, const char *options, struct mount_journal *j, int *root_fd_out,
                   gctk_error **err)
{
    if (tmpfs_mount(target_fd, options, j, root_fd_out, err) == 0)
        return 0;
    /* the target's name only for the message */
    cleanup_free char *dst_name = fd_describe(target_fd);
    return gctk_wrap(err, "mount tmpfs on `%s`", dst_name);
}

static int seal_failed(int fd, int e, gctk_error **err)
{
    cleanup_free char *name = fd_describe(fd);
    if (e == EBUSY)
        return gctk_fail(
            err, e, "make `%s` read-only: a file in it is open for writing, close it first", name);
    return gctk_fail(err, e, "make `%s` read-only", name);
}

int mount_seal_fd(int fd, gctk_error **err)
{
    const uint64_t attrs =
        MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
    if (!rootfs_force_legacy_mount) {
        if (set_attrs_fd(fd, attrs) == 0)
            return 0;
        if (errno != ENOSYS)
            return seal_failed(fd, errno, err);
    }
    if (remount_fd(fd, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC) < 0)
        return seal_failed(fd, errno, err);
    return 0;
}
