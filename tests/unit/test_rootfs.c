/* Unit tests of lib/container/rootfs.c: resolution inside a hostile rootfs, creation,
 * fd-based mounts and their undo.
 *
 * Needs root. main() forks: the child enters a private mount namespace
 * (unshare(CLONE_NEWNS) + MS_REC|MS_PRIVATE on "/") and runs every test
 * there, so a mount made by a test, even one left by a failing assertion,
 * can never reach the host and dies with the namespace. The parent stays in
 * the host namespace, checks afterwards that no mount under the test
 * directory exists there and removes the directory.
 *
 * Every case runs twice: "openat2" (openat2 resolution, new mount API) and
 * "walk" (component walk, mount(2) fallbacks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <dirent.h>

#include "rootfs.h"

static char base[] = "/tmp/gctk-rootfs-XXXXXX";
static char *canary;

struct mode {
    const char *name;
    bool walk;
};
static struct mode mode_openat2 = {"openat2", false};
static struct mode mode_walk = {"walk", true};

struct fx {
    char *dir;     /* base/tN: removed in teardown */
    char *root;    /* dir/root: the container rootfs */
    char *outside; /* dir/outside: a host directory next to it */
    struct rootfs r;
};

/* ---- helpers ------------------------------------------------------------------ */

static char *at(const char *dir, const char *rel)
{
    return path_join(dir, rel);
}

static void put(const char *dir, const char *rel, const char *content)
{
    cleanup_free char *p = at(dir, rel);
    FILE *f = fopen(p, "we");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

static void dir(const char *d, const char *rel)
{
    cleanup_free char *p = at(d, rel);
    assert_int_equal(mkdir(p, 0755), 0);
}

static void link_(const char *d, const char *rel, const char *target)
{
    cleanup_free char *p = at(d, rel);
    assert_int_equal(symlink(target, p), 0);
}

static char *slurp_fd(int fd)
{
    char buf[4096];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    assert_true(n >= 0);
    return xstrndup(buf, (size_t)n);
}

static char *slurp(const char *d, const char *rel)
{
    cleanup_free char *p = at(d, rel);
    cleanup_fd int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    return slurp_fd(fd);
}

static bool exists(const char *d, const char *rel)
{
    cleanup_free char *p = at(d, rel);
    struct stat st;
    return lstat(p, &st) == 0;
}

/* fd is the object at d/rel (not following a final symlink) */
static bool same(int fd, const char *d, const char *rel)
{
    cleanup_free char *p = at(d, rel);
    struct stat a, b;
    return fstat(fd, &a) == 0 && lstat(p, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static void expect_error(gctk_error **err, int code, const char *part)
{
    assert_non_null(*err);
    if (code != 0 && (*err)->code != code)
        fail_msg("code %d, expected %d: %s", (*err)->code, code, (*err)->msg);
    if (part != NULL && strstr((*err)->msg, part) == NULL)
        fail_msg("`%s` not in `%s`", part, (*err)->msg);
    gctk_error_free(*err);
    *err = NULL;
}

static char *mountinfo_of(const char *file)
{
    char *s = NULL;
    assert_int_equal(read_file(file, 1 << 22, &s, NULL, NULL), 0);
    return s;
}

/* The per-mount options and fs type of the mount at mountpoint (topmost),
 * "opts fstype", or NULL. */
static char *mount_at(const char *mountpoint)
{
    cleanup_free char *info = mountinfo_of("/proc/self/mountinfo");
    char *found = NULL, *save = NULL;
    for (char *line = strtok_r(info, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char mp[PATH_MAX], opts[512], fstype[64];
        if (sscanf(line, "%*s %*s %*s %*s %4095s %511s", mp, opts) != 2)
            continue;
        char *dash = strstr(line, " - ");
        if (dash == NULL || sscanf(dash, " - %63s", fstype) != 1)
            continue;
        if (strcmp(mp, mountpoint) == 0) {
            free(found);
            found = xasprintf("%s %s", opts, fstype);
        }
    }
    return found;
}

static bool has_opt(const char *opts, const char *opt)
{
    cleanup_free char *copy = xstrdup(opts);
    char *sp = strchr(copy, ' ');
    if (sp != NULL)
        *sp = '\0';
    char *save = NULL;
    for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save))
        if (strcmp(o, opt) == 0)
            return true;
    return false;
}

/* Unmounts everything at or under prefix in this (private) namespace. */
static void unmount_under(const char *prefix)
{
    for (int round = 0; round < 64; round++) {
        cleanup_free char *info = mountinfo_of("/proc/self/mountinfo");
        cleanup_free char *victim = NULL;
        char *save = NULL;
        for (char *line = strtok_r(info, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            char mp[PATH_MAX];
            if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 && str_has_prefix(mp, prefix)) {
                free(victim);
                victim = xstrdup(mp);
            }
        }
        if (victim == NULL)
            return;
        umount2(victim, MNT_DETACH);
    }
}

static int remove_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    remove(p);
    return 0;
}

/* FTW_PHYS: symlinks are removed, never followed; FTW_MOUNT: a mount left
 * behind is not descended into. */
static void remove_tree(const char *p)
{
    nftw(p, remove_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static int setup(void **state)
{
    static int n;
    struct mode *m = *state;
    rootfs_force_walk = m->walk;
    rootfs_force_legacy_mount = m->walk;
    struct fx *f = xcalloc(1, sizeof(*f));
    f->dir = xasprintf("%s/t%d", base, n++);
    f->root = xasprintf("%s/root", f->dir);
    f->outside = xasprintf("%s/outside", f->dir);
    if (mkdir(f->dir, 0755) < 0 || mkdir(f->root, 0755) < 0 || mkdir(f->outside, 0755) < 0)
        return -1;
    dir(f->root, "etc");
    dir(f->root, "usr");
    dir(f->root, "dev");
    put(f->root, "etc/marker", "inside");
    /* the classic: /usr/lib -> /etc, which on the host is the host's /etc */
    link_(f->root, "usr/lib", "/etc");
    if (rootfs_open(f->root, &f->r, NULL) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    rootfs_close(&f->r);
    unmount_under(f->dir);
    remove_tree(f->dir);
    free(f->dir);
    free(f->root);
    free(f->outside);
    free(f);
    rootfs_force_walk = rootfs_force_legacy_mount = false;
    return 0;
}

static int open_in(struct fx *f, const char *path, int flags, gctk_error **err)
{
    int fd = -1;
    if (rootfs_open_path(&f->r, path, flags, &fd, err) < 0)
        return -1;
    return fd;
}

/* ---- resolution ------------------------------------------------------------------- */

static void test_absolute_symlink(void **state)
{
    struct fx *f = *state;
    gctk_error *err = NULL;
    cleanup_fd int fd = open_in(f, "/usr/lib/marker", O_RDONLY, &err);
    assert_true(fd >= 0);
    cleanup_free char *s = slurp_fd(fd);
    assert_string_equal(s, "inside");
    assert_true(same(fd, f->root, "etc/marker"));
    cleanup_fd int d = open_in(f, "/usr/lib", O_PATH | O_DIRECTORY, &err);
    assert_true(same(d, f->root, "etc"));
    /* the host's /etc/passwd exists; the root's does not */
    assert_int_equal(open_in(f, "/usr/lib/passwd", O_PATH, &err), -1);
    expect_error(&err, ENOENT, "`/usr/lib/passwd`");
}

static void test_relative_escape(void **state)
{
    struct fx *f = *state;
    gctk_error *err = NULL;
    dir(f->root, "a");
    dir(f->root, "a/b");
    link_(f->root, "a/b/up", "../../../../etc");
    cleanup_fd int fd = open_in(f, "/a/b/up/marker", O_PATH, &err);
    assert_true(same(fd, f->root, "etc/marker"));
    assert_int_equal(open_in(f, "/a/b/up/passwd", O_PATH, &err), -1);
    expect_error(&err, ENOENT, NULL);
    /* a relative link to the host path of the outside dir stays inside */
    cleanup_free char *rel = xasprintf("../../../../../../../..%s", f->outside);
    link_(f->root, "a/out", rel);
    put(f->outside, "secret", "host");
    assert_int_equal(open_in(f, "/a/out/secret", O_PATH, &err), -1);
    expect_error(&err, ENOENT, NULL);
}

static void chain(struct fx *f, const char *prefix, int n)
{
    for (int i = 0; i < n; i++) {
        cleanup_free char *name = xasprintf("%s%d", prefix, i);
        cleanup_free char *next =
            i + 1 < n ? xasprintf("%s%d", prefix, i + 1) : xstrdup("/etc/marker");
        link_(f->root, name, next);
    }
}

static void test_link_chains(void **state)
{
    struct fx *f = *state;
    gctk_error *err = NULL;
    dir(f->root, "d");
    dir(f->root, "target");
    put(f->root, "target/file", "t");
    link_(f->root, "l1", "l2");
    link_(f->root, "l2", "/d/l3");
    link_(f->root, "d/l3", "../target");
    cleanup_fd int fd = open_in(f, "/l1/file", O_PATH, &err);
    assert_true(same(fd, f->root, "target/file"));

    /* the kernel's limit: 40 links followed, the 41st is ELOOP */
    chain(f, "a", 40);
    chain(f, "b", 41);
    cleanup_fd int ok = open_in(f, "/a0", O_PATH, &err);
    assert_true(same(ok, f->root, "etc/marker"));
    assert_int_equal(open_in(f, "/b0", O_PATH, &err), -1);
    expect_error(&err, ELOOP, "`/b0`");
}

static void test_loop(void **state)
{
    struct fx *f = *state;
    gctk_error *err = NULL;
    int fd = -1;
    link_(f->root, "x", "y");
    link_(f->root, "y", "/x");
    link_(f->root, "self", "self");
    assert_int_equal(open_in(f, "/x", O_PATH, &err), -1);
    expect_error(&err, ELOOP, "resolve `/x` inside");
    assert_int_equal(open_in(f, "/self/a", O_PATH, &err), -1);
    expect_error(&err, ELOOP, NULL);
    assert_int_equal(rootfs_mkdir_p(&f->r, "/x/sub", 0755, NULL, &fd, &err), -1);
    expect_error(&err, ELOOP, NULL);
    assert_int_equal(rootfs_make_target(&f->r, "/x", S_IFREG, NULL, &fd, &err), -1);
    expect_error(&err, ELOOP, NULL);
    assert_int_equal(fd, -1);
}

static void test_dotdot_and_edges(void **state)
{
    struct fx *f = *state;
    gctk_error *err = NULL;
    struct stat st;
    cleanup_fd int a = open_in(f, "/../../../etc/marker", O_PATH, &err);
    assert_true(same(a, f->root, "etc/marker"));
    cleanup_fd int b = open_in(f, "/..", O_PATH | O_DIRECTORY, &err);
    assert_true(same(b, f->root, ""));
    cleanup_fd int c = open_in(f, "/", O_PATH, &err);
    assert_true(same(c, f->root, ""));
    cleanup_fd int d = open_in(f, "etc/./../etc//marker", O_RDONLY, &err);
    assert_true(same(d, f->root, "etc/marker"));
    link_(f->root, "usr/up", "..");
    cleanup_fd int e = open_in(f, "/usr/up/../usr/up/etc/marker", O_PATH, &err);
    assert_true(same(e, f->root, "etc/marker"));
    link_(f->root, "etc/toroot", "/");
    cleanup_fd int g = open_in(f, "/etc/toroot", O_PATH, &err);
    assert_true(same(g, f->root, ""));
    /* a final symlink is not followed under O_NOFOLLOW, unless a slash follows */
    cleanup_fd int h = open_in(f, "/usr/lib", O_PATH | O_NOFOLLOW, &err);
    assert_true(h >= 0 && fstat(h, &st) == 0 && S_ISLNK(st.st_mode));
    cleanup_fd int i = open_in(f, "/usr/lib/", O_PATH | O_NOFOLLOW, &err);
    assert_true(same(i, f->root, "etc"));
    assert_int_equal(open_in(f, "/usr/lib", O_RDONLY | O_NOFOLLOW, &err), -1);
    expect_error(&err, ELOOP, NULL);
    assert_int_equal(open_in(f, "/etc/marker/", O_PATH, &err), -1);
    expect_error(&err, ENOTDIR, NULL);
    assert_int_equal(open_in(f, "/etc/marker/..", O_PATH, &err), -1);
    expect_error(&err, ENOTDIR, NULL);
    assert_int_equal(open_in(f, "/etc/marker", O_PATH | O_DIRECTORY, &err), -1);
    expect_error(&err, ENOTDIR, NULL);
    assert_int_equal(open_in(f, "", O_PATH, &err), -1);
    expect_error(&err, EINVAL, "empty container path");
    assert_int_equal(open_in(f, "/etc/x", O_CREAT | O_WRONLY, &err), -1);
    expect_error(&err, EINVAL, NULL);
}

static void test_long_path(void **state)
{
    struct fx *f = *state;
    gctk_error *err = NULL;
    int fd = -1;
    char *big = xmalloc(PATH_MAX + 64);
    memset(big, 'a', PATH_MAX + 63);
    big[0] = '/';
    big[PATH_MAX + 63] = '\0';
    assert_int_equal(open_in(f, big, O_PATH, &err), -1);
    expect_error(&err, ENAMETOOLONG, "longer than PATH_MAX");
    assert_int_equal(rootfs_mkdir_p(&f->r, big, 0755, NULL, &fd, &err), -1);
    expect_error(&err, ENAMETOOLONG, "longer than PATH_MAX");
    assert_int_equal(rootfs_make_target(&f->r, big, S_IFREG, NULL, &fd, &err), -1);
    expect_error(&err, ENAMETOOLONG, "longer than PATH_MAX");
    assert_int_equal(rootfs_write_file(&f->r, big, "x", 1, 0644, &err), -1);
    expect_error(&err, ENAMETOOLONG, "longer than PATH_MAX");
    assert_int_equal(rootfs_symlink(&f->r, "x", big, NULL, &err), -1);
    expect_error(&err, ENAMETOOLONG, "longer than PATH_MAX");
    /* one byte under the limit: resolved normally (it does not exist) */
    for (size_t i = 0; i < PATH_MAX - 1; i++)
        big[i] = i % 2 ? 'x' : '/';
    big[PATH_MAX - 1] = '\0';
    assert_int_equal(open_in(f, big, O_PATH, &err), -1);
    expect_error(&err, ENOENT, NULL);
    /* a component longer than NAME_MAX */
    memset(big, 'n', 300);
    big[0] = '/';
    big[300] = '\0';
    assert_int_equal(open_in(f, big, O_PATH, &err), -1);
    expect_error(&err, ENAMETOOLONG, NULL);
    assert_int_equal(rootfs_mkdir_p(&f->r, big, 0755, NULL, &fd, &err), -1);
    expect_error(&err, ENAMETOOLONG, NULL);
    free(big);
    assert_int_equal(fd, -1);
}

static void test_proc_magic_links(void **state)
{
    struct fx *f = *state;
    gctk_error *err = NULL;
    dir(f->root, "proc");
    cleanup_free char *proc = at(f->root, "proc");
    assert_int_equal(mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL), 0);
    /* plain procfs symlinks (self) are followed, magic ones refused */
    cleanup_fd int fd = open_in(f, "/proc/self/status", O_RDONLY, &err);
    assert_true(fd >= 0);
    cleanup_free char *s = slurp_fd(fd);
    assert_non_null(strstr(s, "Name:"));
    const char *magic[] = {"/proc/self/exe", "/proc/self/root/etc/marker", "/proc/self/fd/0",
                           "/proc/self/cwd", "/proc/self/ns/mnt"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(magic); i++) {
        assert_int_equal(open_in(f, magic[i], O_PATH, &err), -1);
        expect_error(&err, ELOOP, magic[i]);
    }
    assert_int_equal(umount2(proc, MNT_DETACH), 0);
}

/* ---- creation ------------------------------------------------------------------------ */

static void test_dangling_target(void **state)
{
    struct fx *f = *state;
    gctk_error *err = NULL;
    struct mount_journal *j = mount_journal_new();
    struct stat st;
    /* absolute, to where the host has the outside dir */
    cleanup_free char *abs = xasprintf("%s/created", f->outside);
    link_(f->root, "dev/nvidia0", abs);
    cleanup_fd int a = -1;
    assert_int_equal(rootfs_make_target(&f->r, "/dev/nvidia0", S_IFREG, j, &a, &err), 1);
    assert_false(exists(f->outside, "created"));
    assert_true(same(a, f->root, abs));
    assert_true(fstat(a, &st) == 0 && S_ISREG(st.st_mode));
    /* relative, climbing above the root */
    link_(f->root, "dev/rel", "../../../../../made/here");
    cleanup_fd int b = -1;
    assert_int_equal(rootfs_make_target(&f->r, "/dev/rel", S_IFREG, j, &b, &err), 1);
    assert_true(same(b, f->root, "made/here"));
    /* a chain of dangling links, and a directory target */
    link_(f->root, "dev/d1", "d2");
    link_(f->root, "dev/d2", "/dirs/there");
    cleanup_fd int c = -1;
    assert_int_equal(rootfs_make_target(&f->r, "/dev/d1", S_IFDIR, j, &c, &err), 0);
    assert_true(same(c, f->root, "dirs/there"));
    mount_journal_undo(j);
    assert_false(exists(f->root, abs));
    assert_false(exists(f->root, "made"));
    assert_false(exists(f->root, "dirs"));
    assert_true(exists(f->root, "dev/nvidia0"));
    mount_journal_free(j);
}

static void test_refused_types(void **state)
{
    struct fx *f = *state;
    gctk_error *err = NULL;
    int fd = -1;
    cleanup_free char *fifo = at(f->root, "dev/fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    cleanup_free char *chr = at(f->root, "dev/null0");
    assert_int_equal(mknod(chr, S_IFCHR | 0600, makedev(1, 3)), 0);
    cleanup_free char *sock = at(f->root, "dev/sock");
    cleanup_fd int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    assert_true(strlen(sock) < sizeof(sun.sun_path));
    strcpy(sun.sun_path, sock);
    assert_int_equal(bind(s, (struct sockaddr *)&sun, sizeof(sun)), 0);
    dir(f->root, "dev/dir");
    put(f->root, "dev/file", "f");
    link_(f->root, "dev/tofifo", "fifo");

    /* alarm: opening the FIFO for reading would block forever */
    alarm(20);
    assert_int_equal(rootfs_make_target(&f->r, "/dev/fifo", S_IFREG, NULL, &fd, &err), -1);
    expect_error(&err, EINVAL, "mount target `/dev/fifo` inside");
    assert_int_equal(rootfs_make_target(&f->r, "/dev/tofifo", S_IFREG, NULL, &fd, &err), -1);
    expect_error(&err, EINVAL, "`/dev/tofifo` inside");
    assert_int_equal(rootfs_make_target(&f->r, "/dev/fifo", S_IFDIR, NULL, &fd, &err), -1);
    expect_error(&err, ENOTDIR, "is a FIFO");
    assert_int_equal(rootfs_make_target(&f->r, "/dev/sock", S_IFREG, NULL, &fd, &err), -1);
    expect_error(&err, EINVAL, "`/dev/sock` inside");
    assert_int_equal(rootfs_make_target(&f->r, "/dev/null0", S_IFREG, NULL, &fd, &err), -1);
    expect_error(&err, EINVAL, "is a character device, expected a regular file");
    assert_int_equal(rootfs_make_target(&f->r, "/dev/dir", S_IFREG, NULL, &fd, &err), -1);
    expect_error(&err, EISDIR, "`/dev/dir` inside");
    assert_int_equal(rootfs_make_target(&f->r, "/dev/file", S_IFDIR, NULL, &fd, &err), -1);
    expect_error(&err, ENOTDIR, "is a regular file, expected a directory");
    assert_int_equal(rootfs_make_target(&f->r, "/dev/file/sub", S_IFREG, NULL, &fd, &err), -1);
    expect_error(&err, ENOTDIR, NULL);
    assert_int_equal(rootfs_make_target(&f->r, "/dev/x", S_IFLNK, NULL, &fd, &err), -1);
    expect_error(&err, EINVAL, NULL);
    assert_int_equal(rootfs_make_target(&f->r, "/dev/new/", S_IFREG, NULL, &fd, &err), -1);
    expect_error(&err, ENOTDIR, NULL);
    alarm(0);
    assert_int_equal(fd, -1);
    /* the right types pass and give the object itself */
    assert_int_equal(rootfs_make_target(&f->r, "/dev/file", S_IFREG, NULL, &fd, &err), 0);
    assert_true(same(fd, f->root, "dev/file"));
    close(fd);
}

static void test_mkdir_p_through_links(void **state)
{
    struct fx *f = *state;
    gctk_error *err = NULL;
    struct mount_journal *j = mount_journal_new();
    int fd = -1;
    assert_int_equal(rootfs_mkdir_p(&f->r, "/usr/lib/newdir/sub", 0755, j, &fd, &err), 0);
    assert_true(same(fd, f->root, "etc/newdir/sub"));
    close(fd);
    /* a dangling link in the middle: its destination is made, inside */
    link_(f->root, "opt", "/nonexist/deeper");
    assert_int_equal(rootfs_mkdir_p(&f->r, "/opt/x", 0755, j, &fd, &err), 0);
    assert_true(same(fd, f->root, "nonexist/deeper/x"));
    close(fd);
    /* a relative link naming the host's outside dir */
    cleanup_free char *rel = xasprintf("../../../../../../..%s", f->outside);
    link_(f->root, "esc", rel);
    assert_int_equal(rootfs_mkdir_p(&f->r, "/esc/made", 0755, j, &fd, &err), 0);
    assert_false(exists(f->outside, "made"));
    cleanup_free char *in = xasprintf("%s/made", f->outside);
    assert_true(same(fd, f->root, in));
    close(fd);
    /* existing: nothing created, ".." handled */
    assert_int_equal(rootfs_mkdir_p(&f->r, "/usr/lib/newdir/../newdir/sub/", 0755, j, &fd, &err),
                     0);
    assert_true(same(fd, f->root, "etc/newdir/sub"));
    close(fd);
    assert_int_equal(rootfs_mkdir_p(&f->r, "/", 0755, j, &fd, &err), 0);
    assert_true(same(fd, f->root, ""));
    close(fd);
    fd = -1;
    assert_int_equal(rootfs_mkdir_p(&f->r, "/etc/marker/sub", 0755, j, &fd, &err), -1);
    expect_error(&err, ENOTDIR, "`/etc/marker` inside");
    assert_int_equal(fd, -1);
    mount_journal_undo(j);
    assert_false(exists(f->root, "etc/newdir"));
    assert_false(exists(f->root, "nonexist"));
    assert_true(exists(f->root, "etc/marker"));
    assert_true(exists(f->root, "opt"));
    mount_journal_free(j);
}

static char *link_text(const char *d, const char *rel)
{
    cleanup_free char *p = at(d, rel);
    char buf[PATH_MAX];
    ssize_t n = readlink(p, buf, sizeof(buf) - 1);
    return n < 0 ? NULL : xstrndup(buf, (size_t)n);
}

static void test_symlink_rules(void **state)
{
    struct fx *f = *state;
    gctk_error *err = NULL;
    struct mount_journal *j = mount_journal_new();
    struct stat a, b;
    cleanup_free char *p = at(f->root, "usr/lib64/libcuda.so");
    assert_int_equal(rootfs_symlink(&f->r, "libcuda.so.1", "/usr/lib64/libcuda.so", j, &err), 0);
    cleanup_free char *t1 = link_text(f->root, "usr/lib64/libcuda.so");
    assert_string_equal(t1, "libcuda.so.1");
    assert_int_equal(lstat(p, &a), 0);
    /* same target: left as it is */
    assert_int_equal(rootfs_symlink(&f->r, "libcuda.so.1", "/usr/lib64/libcuda.so", j, &err), 0);
    assert_int_equal(lstat(p, &b), 0);
    assert_int_equal(a.st_ino, b.st_ino);
    /* another target: replaced */
    assert_int_equal(rootfs_symlink(&f->r, "libcuda.so.2", "/usr/lib64/libcuda.so", j, &err), 0);
    cleanup_free char *t2 = link_text(f->root, "usr/lib64/libcuda.so");
    assert_string_equal(t2, "libcuda.so.2");
    /* a file or a directory there: left alone */
    put(f->root, "etc/file", "keep");
    assert_int_equal(rootfs_symlink(&f->r, "x", "/etc/file", j, &err), -1);
    /* named as the container sees it, never by the rootfs's host path */
    assert_null(strstr(err->msg, f->root));
    expect_error(&err, EEXIST, "`/etc/file` in the container is a regular file of the image");
    cleanup_free char *keep = slurp(f->root, "etc/file");
    assert_string_equal(keep, "keep");
    assert_int_equal(rootfs_symlink(&f->r, "x", "/usr", j, &err), -1);
    expect_error(&err, EEXIST, "`/usr` in the container is a directory of the image");
    assert_int_equal(rootfs_symlink(&f->r, "x", "/", j, &err), -1);
    expect_error(&err, EINVAL, NULL);
    /* a pre-existing link replaced, the parent through /usr/lib -> /etc */
    link_(f->root, "etc/old", "before");
    assert_int_equal(rootfs_symlink(&f->r, "after", "/usr/lib/old", j, &err), 0);
    cleanup_free char *t3 = link_text(f->root, "etc/old");
    assert_string_equal(t3, "after");
    assert_int_equal(rootfs_symlink(&f->r, "n", "/usr/lib/new", j, &err), 0);
    assert_true(exists(f->root, "etc/new"));
    /* undo: created links and dirs gone, the replaced one restored */
    mount_journal_undo(j);
    assert_false(exists(f->root, "usr/lib64"));
    assert_false(exists(f->root, "etc/new"));
    cleanup_free char *t4 = link_text(f->root, "etc/old");
    assert_string_equal(t4, "before");
    mount_journal_free(j);
}

static bool has_temp_files(const char *d)
{
    DIR *dh = opendir(d);
    assert_non_null(dh);
    bool found = false;
    for (struct dirent *e; (e = readdir(dh)) != NULL;)
        found |= str_has_prefix(e->d_name, ".gctk-tmp");
    closedir(dh);
    return found;
}

static void test_write_file(void **state)
{
    struct fx *f = *state;
    gctk_error *err = NULL;
    struct stat st;
    put(f->root, "etc/real", "original");
    link_(f->root, "etc/conf", "/etc/real");
    assert_int_equal(rootfs_write_file(&f->r, "/etc/conf", "new", 3, 0640, &err), 0);
    cleanup_free char *p = at(f->root, "etc/conf");
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0640);
    cleanup_free char *c = slurp(f->root, "etc/conf");
    assert_string_equal(c, "new");
    cleanup_free char *real = slurp(f->root, "etc/real");
    assert_string_equal(real, "original");
    /* a link to a host file by its host path: not written */
    put(f->outside, "victim", "host");
    cleanup_free char *abs = xasprintf("%s/victim", f->outside);
    link_(f->root, "etc/conf2", abs);
    assert_int_equal(rootfs_write_file(&f->r, "/etc/conf2", "evil", 4, 0644, &err), 0);
    cleanup_free char *v = slurp(f->outside, "victim");
    assert_string_equal(v, "host");
    /* through a symlinked parent, and over an existing file */
    assert_int_equal(rootfs_write_file(&f->r, "/usr/lib/via", "1", 1, 0644, &err), 0);
    assert_int_equal(rootfs_write_file(&f->r, "/usr/lib/via", "22", 2, 0644, &err), 0);
    cleanup_free char *via = slurp(f->root, "etc/via");
    assert_string_equal(via, "22");
    /* failure: a directory in the way; the temporary file is removed */
    dir(f->root, "etc/adir");
    put(f->root, "etc/adir/x", "x");
    assert_int_equal(rootfs_write_file(&f->r, "/etc/adir", "z", 1, 0644, &err), -1);
    expect_error(&err, 0, "rename into place `/etc/adir`");
    cleanup_free char *etc = at(f->root, "etc");
    assert_false(has_temp_files(etc));
    assert_int_equal(rootfs_write_file(&f->r, "/etc/", "z", 1, 0644, &err), -1);
    expect_error(&err, EINVAL, NULL);
    assert_int_equal(rootfs_write_file(&f->r, "/etc/marker/x", "z", 1, 0644, &err), -1);
    expect_error(&err, ENOTDIR, NULL);
}

/* ---- mounts ------------------------------------------------------------------------------ */

static void test_bind_file_readonly(void **state)
{
    struct fx *f = *state;
    gctk_error *err = NULL;
    struct mount_journal *j = mount_journal_new();
    put(f->outside, "lib.so", "payload");
    cleanup_free char *src = at(f->outside, "lib.so");
    cleanup_fd int sfd = open(src, O_PATH | O_CLOEXEC);
    cleanup_fd int t = -1;
    assert_int_equal(rootfs_make_target(&f->r, "/usr/lib64/libfoo.so", S_IFREG, j, &t, &err), 1);
    assert_int_equal(mount_bind_fd(sfd, t, MOUNT_RO | MOUNT_NOSUID | MOUNT_NODEV, j, &err), 0);
    assert_int_equal(mount_journal_mounts(j), 1);
    cleanup_free char *dst = at(f->root, "usr/lib64/libfoo.so");
    cleanup_free char *got = slurp(f->root, "usr/lib64/libfoo.so");
    assert_string_equal(got, "payload");
    assert_int_equal(open(dst, O_WRONLY | O_CLOEXEC), -1);
    assert_int_equal(errno, EROFS);
    cleanup_free char *m = mount_at(dst);
    assert_non_null(m);
    assert_true(has_opt(m, "ro"));
    assert_true(has_opt(m, "nosuid"));
    assert_true(has_opt(m, "nodev"));
    assert_false(has_opt(m, "noexec"));
    /* the source is still writable: only the mount is read-only */
    cleanup_fd int w = open(src, O_WRONLY | O_CLOEXEC);
    assert_true(w >= 0);
    mount_journal_undo(j);
    assert_int_equal(mount_journal_mounts(j), 0);
    cleanup_free char *gone = mount_at(dst);
    assert_null(gone);
    assert_false(exists(f->root, "usr/lib64"));
    mount_journal_free(j);
}

static void test_bind_dir_noexec(void **state)
{
    struct fx *f = *state;
    gctk_error *err = NULL;
    struct mount_journal *j = mount_journal_new();
    dir(f->outside, "bin");
    put(f->outside, "bin/tool", "#!/bin/sh\n");
    cleanup_free char *src = at(f->outside, "bin");
    cleanup_fd int sfd = open(src, O_PATH | O_DIRECTORY | O_CLOEXEC);
    cleanup_fd int t = -1;
    assert_int_equal(rootfs_make_target(&f->r, "/usr/lib/gpu-bin", S_IFDIR, j, &t, &err), 0);
    assert_int_equal(mount_bind_fd(sfd, t, MOUNT_RO | MOUNT_NOEXEC, j, &err), 0);
    cleanup_free char *dst = at(f->root, "etc/gpu-bin");
    cleanup_free char *m = mount_at(dst);
    assert_non_null(m);
    assert_true(has_opt(m, "ro"));
    assert_true(has_opt(m, "noexec"));
    cleanup_free char *tool = slurp(f->root, "etc/gpu-bin/tool");
    assert_string_equal(tool, "#!/bin/sh\n");
    cleanup_free char *sub = at(dst, "sub");
    assert_int_equal(mkdir(sub, 0755), -1);
    assert_int_equal(errno, EROFS);
    /* a directory onto a file target: the kernel refuses */
    cleanup_fd int ft = -1;
    assert_int_equal(rootfs_make_target(&f->r, "/etc/ftarget", S_IFREG, j, &ft, &err), 1);
    assert_int_equal(mount_bind_fd(sfd, ft, 0, j, &err), -1);
    expect_error(&err, ENOTDIR, "is a directory, the target is not");
    assert_int_equal(mount_bind_fd(ft, t, 0, j, &err), -1);
    expect_error(&err, EISDIR, "is not a directory, the target is");
    mount_journal_undo(j);
    cleanup_free char *gone = mount_at(dst);
    assert_null(gone);
    assert_false(exists(f->root, "etc/gpu-bin"));
    mount_journal_free(j);
}

static void test_tmpfs_and_seal(void **state)
{
    struct fx *f = *state;
    gctk_error *err = NULL;
    struct mount_journal *j = mount_journal_new();
    cleanup_fd int t = -1, root = -1, bad = -1;
    assert_int_equal(rootfs_make_target(&f->r, "/run/gctk", S_IFDIR, j, &t, &err), 0);
    assert_int_equal(mount_tmpfs_fd(t, "nonsense=1", j, &bad, &err), -1);
    expect_error(&err, 0, "nonsense");
    assert_int_equal(bad, -1);
    assert_int_equal(mount_tmpfs_fd(t, "mode=755,size=1m", j, &root, &err), 0);
    cleanup_fd int w = openat(root, "f", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    assert_true(w >= 0);
    assert_int_equal(write(w, "data", 4), 4);
    /* made in it by name: a file at its mode, past the umask; a directory
     * (opened O_PATH); nothing already there is replaced */
    mode_t old_umask = umask(0277);
    assert_int_equal(rootfs_write_file_in(&f->r, root, "v", "ver", 3, 0444, &err), 0);
    umask(old_umask);
    cleanup_fd int sub = -1, again = -1;
    assert_int_equal(rootfs_mkdir_in(&f->r, root, "gpus", 0555, &sub, &err), 0);
    struct stat st;
    assert_int_equal(fstatat(root, "v", &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_true(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0444);
    assert_int_equal(fstat(sub, &st), 0);
    assert_true(S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0555);
    assert_int_equal(fcntl(sub, F_GETFL) & O_PATH, O_PATH);
    assert_int_equal(rootfs_write_file_in(&f->r, root, "v", "new", 3, 0444, &err), -1);
    expect_error(&err, EEXIST, "`v` inside");
    assert_int_equal(symlinkat("/etc", root, "l"), 0);
    assert_int_equal(rootfs_mkdir_in(&f->r, root, "l", 0555, &again, &err), -1);
    expect_error(&err, EEXIST, "`l` inside");
    assert_int_equal(rootfs_write_file_in(&f->r, root, "l", "x", 1, 0444, &err), -1);
    expect_error(&err, EEXIST, NULL);
    cleanup_free char *v = slurp(f->root, "run/gctk/v");
    assert_string_equal(v, "ver");
    cleanup_free char *dst = at(f->root, "run/gctk");
    cleanup_free char *before = mount_at(dst);
    assert_non_null(before);
    assert_non_null(strstr(before, " tmpfs"));
    assert_false(has_opt(before, "ro"));
    assert_true(has_opt(before, "nosuid"));
    /* a file open for writing keeps a mount from becoming read-only */
    assert_int_equal(mount_seal_fd(root, &err), -1);
    expect_error(&err, EBUSY, "open for writing");
    close(steal_fd(&w));
    assert_int_equal(mount_seal_fd(root, &err), 0);
    cleanup_free char *after = mount_at(dst);
    assert_true(has_opt(after, "ro") && has_opt(after, "nosuid") && has_opt(after, "nodev") &&
                has_opt(after, "noexec"));
    assert_int_equal(openat(root, "g", O_WRONLY | O_CREAT | O_CLOEXEC, 0644), -1);
    assert_int_equal(errno, EROFS);
    cleanup_free char *data = slurp(f->root, "run/gctk/f");
    assert_string_equal(data, "data");
    /* sealing something that is not the root of a mount is refused */
    cleanup_fd int etc = open_in(f, "/etc", O_PATH | O_DIRECTORY, &err);
    assert_int_equal(mount_seal_fd(etc, &err), -1);
    expect_error(&err, EINVAL, "read-only");
    mount_journal_undo(j);
    cleanup_free char *gone = mount_at(dst);
    assert_null(gone);
    assert_false(exists(f->root, "run"));
    mount_journal_free(j);
}

/* Files and links made one after another in one directory share its fd
 * (struct rootfs keeps it), but a directory given out for a mount forgets it:
 * what is made after a mount on that directory goes into the mount, as a
 * lookup by name would find it. */
static void test_parent_kept(void **state)
{
    struct fx *f = *state;
    gctk_error *err = NULL;
    struct mount_journal *j = mount_journal_new();
    cleanup_fd int a = -1, b = -1, d = -1, root = -1, c = -1, e = -1;
    assert_int_equal(rootfs_make_target(&f->r, "/opt/gpu/a", S_IFREG, j, &a, &err), 1);
    assert_int_equal(rootfs_symlink(&f->r, "a", "/opt/gpu/a.1", j, &err), 0);
    assert_int_equal(rootfs_make_target(&f->r, "/opt/gpu/b", S_IFREG, j, &b, &err), 1);
    assert_true(exists(f->root, "opt/gpu/a") && exists(f->root, "opt/gpu/b"));
    cleanup_free char *l = link_text(f->root, "opt/gpu/a.1");
    assert_string_equal(l, "a");
    /* the directory itself as a mount target, a tmpfs on it */
    assert_int_equal(rootfs_make_target(&f->r, "/opt/gpu", S_IFDIR, j, &d, &err), 0);
    assert_int_equal(mount_tmpfs_fd(d, "size=1m", j, &root, &err), 0);
    assert_int_equal(rootfs_make_target(&f->r, "/opt/gpu/c", S_IFREG, j, &c, &err), 1);
    assert_int_equal(fstatat(root, "c", &(struct stat){0}, AT_SYMLINK_NOFOLLOW), 0);
    /* the same through rootfs_open_path: a tmpfs on /usr/lib (-> /etc) */
    assert_int_equal(rootfs_make_target(&f->r, "/usr/lib/x", S_IFREG, j, &e, &err), 1);
    cleanup_fd int etc = open_in(f, "/usr/lib", O_PATH | O_DIRECTORY, &err);
    assert_true(etc >= 0);
    cleanup_fd int etc_root = -1, y = -1;
    assert_int_equal(mount_tmpfs_fd(etc, "size=1m", j, &etc_root, &err), 0);
    assert_int_equal(rootfs_make_target(&f->r, "/usr/lib/y", S_IFREG, j, &y, &err), 1);
    assert_int_equal(fstatat(etc_root, "y", &(struct stat){0}, AT_SYMLINK_NOFOLLOW), 0);
    assert_int_equal(fstatat(etc_root, "x", &(struct stat){0}, AT_SYMLINK_NOFOLLOW), -1);
    mount_journal_undo(j);
    mount_journal_free(j);
    assert_false(exists(f->root, "opt"));
    assert_false(exists(f->root, "etc/x") || exists(f->root, "etc/y"));
    /* the undo removed the directory kept last: made again */
    j = mount_journal_new();
    cleanup_fd int z = -1, a2 = -1;
    assert_int_equal(rootfs_make_target(&f->r, "/usr/lib/z", S_IFREG, j, &z, &err), 1);
    assert_true(exists(f->root, "etc/z"));
    assert_int_equal(rootfs_make_target(&f->r, "/opt/gpu/a", S_IFREG, j, &a2, &err), 1);
    mount_journal_undo(j);
    assert_int_equal(rootfs_symlink(&f->r, "a", "/opt/gpu/a.1", NULL, &err), 0);
    assert_true(exists(f->root, "opt/gpu/a.1"));
    mount_journal_free(j);
}

static void test_journal_undo(void **state)
{
    struct fx *f = *state;
    gctk_error *err = NULL;
    struct mount_journal *j = mount_journal_new();
    put(f->root, "etc/keep", "keep");
    put(f->outside, "lib.so", "payload");
    cleanup_free char *info_before = mountinfo_of("/proc/self/mountinfo");
    int fd = -1;
    assert_int_equal(rootfs_mkdir_p(&f->r, "/usr/share/new/deep", 0755, j, &fd, &err), 0);
    close(fd);
    cleanup_fd int t1 = -1, t2 = -1, t3 = -1, root = -1;
    assert_int_equal(rootfs_make_target(&f->r, "/usr/bin/tool", S_IFREG, j, &t1, &err), 1);
    assert_int_equal(rootfs_make_target(&f->r, "/usr/bin/mine", S_IFREG, j, &t3, &err), 1);
    assert_int_equal(rootfs_make_target(&f->r, "/dev/shm2", S_IFDIR, j, &t2, &err), 0);
    assert_int_equal(rootfs_symlink(&f->r, "tool", "/usr/bin/alias", j, &err), 0);
    cleanup_free char *src = at(f->outside, "lib.so");
    cleanup_fd int sfd = open(src, O_PATH | O_CLOEXEC);
    assert_int_equal(mount_bind_fd(sfd, t1, MOUNT_RO, j, &err), 0);
    assert_int_equal(mount_tmpfs_fd(t2, NULL, j, &root, &err), 0);
    assert_int_equal(mount_journal_mounts(j), 2);
    cleanup_free char *info_mid = mountinfo_of("/proc/self/mountinfo");
    assert_string_not_equal(info_before, info_mid);
    /* /usr/bin/mine is replaced by someone else's file: not ours to remove */
    cleanup_free char *mine = at(f->root, "usr/bin/mine");
    assert_int_equal(unlink(mine), 0);
    put(f->root, "usr/bin/mine", "theirs");

    mount_journal_undo(j);
    cleanup_free char *info_after = mountinfo_of("/proc/self/mountinfo");
    assert_string_equal(info_before, info_after);
    assert_int_equal(mount_journal_mounts(j), 0);
    assert_false(exists(f->root, "usr/share"));
    assert_false(exists(f->root, "usr/bin/tool"));
    assert_false(exists(f->root, "usr/bin/alias"));
    assert_false(exists(f->root, "dev/shm2"));
    assert_true(exists(f->root, "usr/bin/mine")); /* and so usr/bin stays too */
    assert_true(exists(f->root, "etc/keep"));
    assert_true(exists(f->root, "usr/lib"));
    assert_true(exists(f->outside, "lib.so"));
    /* undoing again does nothing; free forgets */
    mount_journal_undo(j);
    mount_journal_free(j);
    mount_journal_free(NULL);
    mount_journal_undo(NULL);
    assert_int_equal(mount_journal_mounts(NULL), 0);
}

/* A parent directory swapped for a symlink after resolution does not move
 * the mount: it lands on the object the fd holds. */
static void test_target_swap(void **state)
{
    struct fx *f = *state;
    gctk_error *err = NULL;
    struct mount_journal *j = mount_journal_new();
    put(f->outside, "lib.so", "payload");
    dir(f->outside, "b");
    put(f->outside, "b/target", "host");
    cleanup_fd int t = -1;
    assert_int_equal(rootfs_make_target(&f->r, "/a/b/target", S_IFREG, j, &t, &err), 1);
    cleanup_free char *a = at(f->root, "a");
    cleanup_free char *moved = at(f->root, "a.moved");
    assert_int_equal(rename(a, moved), 0);
    assert_int_equal(symlink(f->outside, a), 0);
    cleanup_free char *src = at(f->outside, "lib.so");
    cleanup_fd int sfd = open(src, O_PATH | O_CLOEXEC);
    assert_int_equal(mount_bind_fd(sfd, t, MOUNT_RO, j, &err), 0);
    cleanup_free char *host = slurp(f->outside, "b/target");
    assert_string_equal(host, "host");
    cleanup_free char *in = slurp(f->root, "a.moved/b/target");
    assert_string_equal(in, "payload");
    cleanup_free char *hostpath = at(f->outside, "b/target");
    cleanup_free char *none = mount_at(hostpath);
    assert_null(none);
    mount_journal_undo(j);
    cleanup_free char *after = slurp(f->root, "a.moved/b/target");
    assert_null(after); /* unmounted, and the file we created removed */
    mount_journal_free(j);
}

/* What the kernel says when the bind source's mount is in another mount
 * namespace (observed on 6.18: EINVAL from open_tree(OPEN_TREE_CLONE) and
 * from mount(MS_BIND)). The hook therefore opens sources after setns(). */
static void test_source_in_other_namespace(void **state)
{
    struct fx *f = *state;
    put(f->outside, "lib.so", "payload");
    cleanup_free char *src = at(f->outside, "lib.so");
    cleanup_fd int sfd = open(src, O_PATH | O_CLOEXEC);
    assert_true(sfd >= 0);
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (unshare(CLONE_NEWNS) < 0)
            _exit(90);
        gctk_error *err = NULL;
        int t = -1;
        if (rootfs_make_target(&f->r, "/usr/lib64/x.so", S_IFREG, NULL, &t, &err) < 0)
            _exit(91);
        if (mount_bind_fd(sfd, t, MOUNT_RO, NULL, &err) == 0)
            _exit(0); /* a kernel that allows it */
        bool hinted = strstr(err->msg, "another mount namespace") != NULL;
        int code = err->code;
        gctk_error_free(err);
        if (code != EINVAL)
            _exit(92);
        _exit(rootfs_force_legacy_mount || hinted ? 1 : 93);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    int rc = WEXITSTATUS(status);
    if (rc == 0)
        print_message("# this kernel allows a bind from another mount namespace\n");
    assert_true(rc == 0 || rc == 1);
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

/* Every path, failing or not, gives back what it opened. */
static void test_no_fd_leak(void **state)
{
    struct fx *f = *state;
    gctk_error *err = NULL;
    put(f->outside, "lib.so", "payload");
    link_(f->root, "loop", "loop");
    int before = count_fds();
    struct mount_journal *j = mount_journal_new();
    int fd = -1, root = -1;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(open_in(f, "/loop", O_PATH, &err), -1);
        expect_error(&err, ELOOP, NULL);
        assert_int_equal(open_in(f, "/usr/lib/nothing", O_PATH, &err), -1);
        expect_error(&err, ENOENT, NULL);
    }
    assert_int_equal(rootfs_mkdir_p(&f->r, "/usr/lib/a/../b/c", 0755, j, &fd, &err), 0);
    close(fd);
    assert_int_equal(rootfs_make_target(&f->r, "/etc/marker/x", S_IFREG, j, &fd, &err), -1);
    expect_error(&err, ENOTDIR, NULL);
    assert_int_equal(rootfs_symlink(&f->r, "a", "/usr/lib/l", j, &err), 0);
    assert_int_equal(rootfs_symlink(&f->r, "b", "/usr/lib/l", j, &err), 0);
    assert_int_equal(rootfs_write_file(&f->r, "/usr/lib/w", "x", 1, 0644, &err), 0);
    assert_int_equal(rootfs_write_file(&f->r, "/usr/lib/b", "x", 1, 0644, &err), -1);
    expect_error(&err, 0, NULL);
    cleanup_free char *src = at(f->outside, "lib.so");
    int sfd = open(src, O_PATH | O_CLOEXEC);
    assert_int_equal(rootfs_make_target(&f->r, "/lib.so", S_IFREG, j, &fd, &err), 1);
    assert_int_equal(mount_bind_fd(sfd, fd, MOUNT_RO, j, &err), 0);
    close(fd);
    close(sfd);
    assert_int_equal(rootfs_make_target(&f->r, "/tmp", S_IFDIR, j, &fd, &err), 0);
    assert_int_equal(mount_tmpfs_fd(fd, "size=1m", j, &root, &err), 0);
    assert_int_equal(mount_seal_fd(root, &err), 0);
    close(root);
    close(fd);
    mount_journal_undo(j);
    mount_journal_free(j);
    assert_int_equal(count_fds(), before);
    struct rootfs r2 = {.fd = -1};
    assert_int_equal(rootfs_open("/nonexistent/gctk-root", &r2, &err), -1);
    expect_error(&err, ENOENT, "open rootfs `/nonexistent/gctk-root`");
    assert_int_equal(r2.fd, -1);
    rootfs_close(NULL);
    assert_int_equal(count_fds(), before);
}

/* ---- the host ---------------------------------------------------------------------------- */

static const char *const canary_files[] = {"a.conf", "b.so", "sub"};

static void make_canary(void)
{
    canary = xasprintf("%s/canary", base);
    mkdir(canary, 0755);
    put(canary, "a.conf", "canary-a");
    put(canary, "b.so", "canary-b");
    cleanup_free char *sub = path_join(canary, "sub");
    mkdir(sub, 0755);
}

static void test_host_untouched(void **state)
{
    (void)state;
    DIR *d = opendir(canary);
    assert_non_null(d);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        bool known = false;
        for (size_t i = 0; i < GCTK_ARRAY_LEN(canary_files); i++)
            known |= strcmp(e->d_name, canary_files[i]) == 0;
        if (!known)
            fail_msg("unexpected `%s` in the canary", e->d_name);
        n++;
    }
    closedir(d);
    assert_int_equal(n, GCTK_ARRAY_LEN(canary_files));
    cleanup_free char *a = slurp(canary, "a.conf");
    cleanup_free char *b = slurp(canary, "b.so");
    assert_string_equal(a, "canary-a");
    assert_string_equal(b, "canary-b");
    /* what the tests made "in /etc" of a root exists only inside the roots */
    const char *host[] = {"/etc/marker", "/etc/newdir", "/etc/via", "/etc/gpu-bin", "/etc/new",
                          "/nonexist",   "/made",       "/dirs",    "/host"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(host); i++) {
        struct stat st;
        if (lstat(host[i], &st) == 0)
            fail_msg("`%s` exists on the host", host[i]);
    }
    /* the parent runs in the host's mount namespace: nothing of ours there */
    cleanup_free char *file = xasprintf("/proc/%d/mountinfo", (int)getppid());
    cleanup_free char *info = mountinfo_of(file);
    assert_null(strstr(info, base));
}

/* ---- a container of its own user namespace ----------------------------------------- */

/* A container whose user namespace maps its root to host uid:gid 100000
 * (userns-remap, podman --userns): its /dev is a tmpfs owned by that
 * namespace, where the kernel refuses an inode owned by the hook's uid 0
 * (EOVERFLOW). The targets, directories, links and files created there are
 * created as the container's root, and the hook's own ids come back. */
static void test_user_namespace(void **state)
{
    struct fx *f = *state;
    int up[2], down[2];
    assert_int_equal(pipe(up), 0);
    assert_int_equal(pipe(down), 0);
    cleanup_free char *dev = at(f->root, "dev");
    pid_t c = fork();
    assert_true(c >= 0);
    if (c == 0) {
        char x;
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0 || write(up[1], "u", 1) != 1 ||
            read(down[0], &x, 1) != 1)
            _exit(1);
        if (mount("", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("tmpfs", dev, "tmpfs", MS_NOSUID, "mode=0755") < 0 || write(up[1], "m", 1) != 1)
            _exit(2);
        pause();
        _exit(0);
    }
    char x;
    assert_int_equal(read(up[0], &x, 1), 1);
    static const char *const files[] = {"uid_map", "setgroups", "gid_map"};
    static const char *const texts[] = {"0 100000 65536\n", "deny", "0 100000 65536\n"};
    for (size_t i = 0; i < 3; i++) {
        cleanup_free char *p = xasprintf("/proc/%d/%s", (int)c, files[i]);
        int fd = open(p, O_WRONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, texts[i], strlen(texts[i])), (ssize_t)strlen(texts[i]));
        close(fd);
    }
    assert_int_equal(write(down[1], "g", 1), 1);
    assert_int_equal(read(up[0], &x, 1), 1);

    /* the container's rootfs as its mount namespace shows it */
    cleanup_free char *root = xasprintf("/proc/%d/root%s", (int)c, f->root);
    struct rootfs r = {.fd = -1};
    assert_int_equal(rootfs_open(root, &r, NULL), 0);
    gctk_error *err = NULL;
    int fd = -1;
    /* as the hook's uid 0, refused by the kernel: what failed before */
    assert_int_equal(rootfs_make_target(&r, "/dev/nvidia0", S_IFREG, NULL, &fd, &err), -1);
    assert_int_equal(err->code, EOVERFLOW);
    gctk_error_free(err);
    err = NULL;
    /* as the container's root */
    assert_int_equal(rootfs_owner_of(&r, c, NULL), 0);
    assert_true(r.owner_mapped);
    assert_int_equal(r.uid, 100000);
    assert_int_equal(r.gid, 100000);
    if (rootfs_make_target(&r, "/dev/nvidia0", S_IFREG, NULL, &fd, &err) < 0)
        fail_msg("%s", err->msg);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_uid, 100000);
    assert_int_equal(st.st_gid, 100000);
    close(fd);
    int dfd = -1;
    assert_int_equal(rootfs_mkdir_p(&r, "/dev/nvidia-caps/sub", 0755, NULL, &dfd, NULL), 0);
    assert_int_equal(fstat(dfd, &st), 0);
    assert_int_equal(st.st_uid, 100000);
    close(dfd);
    assert_int_equal(rootfs_symlink(&r, "nvidia0", "/dev/nvidia-link", NULL, NULL), 0);
    assert_int_equal(rootfs_write_file(&r, "/dev/written", "x", 1, 0644, NULL), 0);
    cleanup_free char *link = xasprintf("%s/dev/nvidia-link", root);
    cleanup_free char *written = xasprintf("%s/dev/written", root);
    assert_int_equal(lstat(link, &st), 0);
    assert_int_equal(st.st_uid, 100000);
    assert_int_equal(lstat(written, &st), 0);
    assert_int_equal(st.st_uid, 100000);
    /* made by name in a directory of the hook's (the namespace's tmpfs here) */
    cleanup_fd int devfd = -1, made = -1;
    assert_int_equal(rootfs_open_path(&r, "/dev", O_PATH | O_DIRECTORY, &devfd, NULL), 0);
    assert_int_equal(rootfs_write_file_in(&r, devfd, "in-file", "x", 1, 0444, NULL), 0);
    assert_int_equal(rootfs_mkdir_in(&r, devfd, "in-dir", 0555, &made, NULL), 0);
    assert_int_equal(fstatat(devfd, "in-file", &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_int_equal(st.st_uid, 100000);
    assert_int_equal(fstat(made, &st), 0);
    assert_int_equal(st.st_uid, 100000);
    /* the hook's own filesystem ids are back */
    assert_int_equal(setfsuid((uid_t)-1), 0);
    assert_int_equal(setfsgid((gid_t)-1), 0);
    rootfs_close(&r);
    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
}

/* ---- main ------------------------------------------------------------------------------------ */

/* each case twice: with openat2's resolution and with the component walk
 * (clang-format 14 and 19 lay a braced list in a macro out differently) */
// clang-format off
#define CASE(name, f, mode) {name, f, setup, teardown, mode}
// clang-format on
#define BOTH(f) CASE(#f "/openat2", f, &mode_openat2), CASE(#f "/walk", f, &mode_walk)

static int run_all_tests(void)
{
    if (unshare(CLONE_NEWNS) < 0 || mount("", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        perror("private mount namespace");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        BOTH(test_absolute_symlink),
        BOTH(test_relative_escape),
        BOTH(test_link_chains),
        BOTH(test_loop),
        BOTH(test_dotdot_and_edges),
        BOTH(test_long_path),
        BOTH(test_proc_magic_links),
        BOTH(test_dangling_target),
        BOTH(test_refused_types),
        BOTH(test_mkdir_p_through_links),
        BOTH(test_symlink_rules),
        BOTH(test_write_file),
        BOTH(test_bind_file_readonly),
        BOTH(test_bind_dir_noexec),
        BOTH(test_tmpfs_and_seal),
        BOTH(test_parent_kept),
        BOTH(test_journal_undo),
        BOTH(test_target_swap),
        BOTH(test_source_in_other_namespace),
        BOTH(test_no_fd_leak),
        BOTH(test_user_namespace),
        cmocka_unit_test(test_host_untouched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

int main(void)
{
    if (geteuid() != 0) {
        printf("1..0 # SKIP needs root\n");
        return 0;
    }
    umask(022);
    if (mkdtemp(base) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    make_canary();
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0)
        exit(run_all_tests());
    int status = 0, rc = 1;
    if (waitpid(pid, &status, 0) == pid && WIFEXITED(status))
        rc = WEXITSTATUS(status);
    /* back in the host namespace: no mount of ours may be here */
    cleanup_free char *info = NULL;
    if (read_file("/proc/self/mountinfo", 1 << 22, &info, NULL, NULL) < 0 ||
        strstr(info, base) != NULL) {
        printf("not ok - a mount under %s is visible on the host; left in place\n", base);
        return 1;
    }
    remove_tree(base);
    free(canary);
    return rc;
}
