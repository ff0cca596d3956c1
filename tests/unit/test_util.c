/* Unit tests of lib/util/util.c: errors, paths, strings, the file helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>

#include "util.h"

static void test_fail_and_wrap(void **state)
{
    (void)state;
    gctk_error *err = NULL;
    assert_int_equal(gctk_fail(&err, ENOENT, "open `%s`", "/x"), -1);
    /* the first failure wins: a second one does not overwrite it */
    assert_int_equal(gctk_fail(&err, EIO, "other"), -1);
    assert_int_equal(gctk_wrap(&err, "load driver"), -1);
    assert_string_equal(err->msg, "load driver: open `/x`: No such file or directory");
    assert_int_equal(err->code, ENOENT);
    /* errno, message and fix are kept apart; msg is the line they make */
    assert_string_equal(err->what, "load driver: open `/x`");
    assert_null(err->hint);
    assert_int_equal(gctk_hint(&err, "create it with `%s`", "touch /x"), -1);
    assert_int_equal(gctk_hint(&err, "an outer fix does not replace it"), -1);
    assert_string_equal(err->hint, "create it with `touch /x`");
    assert_int_equal(gctk_wrap(&err, "start"), -1);
    assert_string_equal(err->msg, "start: load driver: open `/x`: No such file or directory; "
                                  "create it with `touch /x`");
    gctk_error_free(err);
    gctk_error_free(NULL);
    /* a refusal keeps the code for callers, its message says why */
    err = NULL;
    assert_int_equal(gctk_refuse(&err, EEXIST, "`/x` exists and is a directory, left alone"), -1);
    assert_int_equal(err->code, EEXIST);
    assert_string_equal(err->msg, "`/x` exists and is a directory, left alone");
    /* handing an inner error on: the first failure wins, the other is freed */
    gctk_error *inner = NULL, *outer = NULL;
    gctk_fail(&inner, EIO, "inner");
    assert_int_equal(gctk_error_propagate(&err, &inner), -1);
    assert_null(inner);
    assert_int_equal(err->code, EEXIST);
    gctk_fail(&inner, EIO, "inner");
    assert_int_equal(gctk_error_propagate(&outer, &inner), -1);
    assert_null(inner);
    assert_string_equal(outer->msg, "inner: Input/output error");
    gctk_fail(&inner, EIO, "dropped");
    assert_int_equal(gctk_error_propagate(NULL, &inner), -1);
    assert_null(inner);
    gctk_error_free(err);
    gctk_error_free(outer);
}

static void test_path_join(void **state)
{
    (void)state;
    cleanup_free char *a = path_join("/", "/dev/nvidia0");
    cleanup_free char *b = path_join("/tmp/sim/", "/dev/nvidia0");
    cleanup_free char *c = path_join("/tmp/sim", "dev");
    cleanup_free char *d = path_join(NULL, "/x");
    assert_string_equal(a, "/dev/nvidia0");
    assert_string_equal(b, "/tmp/sim/dev/nvidia0");
    assert_string_equal(c, "/tmp/sim/dev");
    assert_string_equal(d, "/x");
}

static void test_strings(void **state)
{
    (void)state;
    char s[] = " \t value \n";
    assert_string_equal(str_strip(s), "value");
    char blank[] = " \t\r\n", none[] = "", inner[] = "a b";
    assert_string_equal(str_strip(blank), "");
    assert_string_equal(str_strip(none), "");
    assert_string_equal(str_strip(inner), "a b");
    /* linear: 4 MiB of leading blanks (an image's NVIDIA_VISIBLE_DEVICES
     * token) used to cost one memmove of the rest per blank. The bound is
     * about complexity, not speed: milliseconds linear, hours quadratic */
    size_t big = 4u << 20;
    char *many = xmalloc(big + 2);
    memset(many, ' ', big);
    many[big] = '0';
    many[big + 1] = '\0';
    unsigned long long t0 = now_ns();
    assert_string_equal(str_strip(many), "0");
    assert_true(now_ns() - t0 < 5000000000ull);
    free(many);
    assert_true(str_has_prefix("libcuda.so.1", "libcuda"));
    assert_false(str_has_prefix("lib", "libcuda"));
    assert_true(str_has_suffix("libcuda.so.580.1", ".580.1"));
    struct strv v = {0};
    for (int i = 0; i < 20; i++)
        strv_push(&v, xasprintf("item%d", i));
    assert_true(strv_contains(&v, "item19"));
    assert_false(strv_contains(&v, "item20"));
    assert_null(v.items[v.len]);
    strv_clear(&v);
}

static void test_read_file_limit(void **state)
{
    (void)state;
    char *buf = NULL;
    gctk_error *err = NULL;
    assert_int_equal(read_file("/proc/self/status", 16, &buf, NULL, &err), -1);
    assert_non_null(strstr(err->msg, "`/proc/self/status`: larger than 16 bytes"));
    gctk_error_free(err);
    err = NULL;
    assert_int_equal(read_file("/nonexistent/x", 16, &buf, NULL, &err), -1);
    assert_null(buf);
    gctk_error_free(err);
}

static void test_run_capture(void **state)
{
    (void)state;
    char *out = NULL;
    gctk_error *err = NULL;
    static const char *const echo[] = {"sh", "-c", "echo 2.26.1-4; echo noise >&2", NULL};
    assert_int_equal(run_capture(echo, 64, 5000, &out, &err), 0);
    assert_string_equal(out, "2.26.1-4\n"); /* stderr is not captured */
    free(out);
    out = NULL;

    static const char *const fails[] = {"sh", "-c", "echo partial; exit 3", NULL};
    assert_int_equal(run_capture(fails, 64, 5000, &out, &err), -1);
    assert_null(out);
    assert_string_equal(err->msg, "`sh` failed (status 3)");
    gctk_error_free(err);
    err = NULL;

    static const char *const missing[] = {"gctk-no-such-command", "version", NULL};
    assert_int_equal(run_capture(missing, 64, 5000, &out, &err), -1);
    assert_int_equal(err->code, ENOENT);
    assert_string_equal(err->msg, "`gctk-no-such-command` is not on PATH");
    gctk_error_free(err);
    err = NULL;

    /* a child that does not answer is killed and reaped */
    unsigned long long t0 = now_ns();
    static const char *const slow[] = {"sleep", "30", NULL};
    assert_int_equal(run_capture(slow, 64, 200, &out, &err), -1);
    assert_int_equal(err->code, ETIMEDOUT);
    assert_true(now_ns() - t0 < 10000000000ull);
    gctk_error_free(err);
    err = NULL;
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1); /* no child left */
    assert_int_equal(errno, ECHILD);

    static const char *const big[] = {"sh", "-c", "yes | head -c 100000", NULL};
    assert_int_equal(run_capture(big, 1000, 5000, &out, &err), -1);
    assert_int_equal(err->code, EFBIG);
    gctk_error_free(err);
}

/* a fresh directory for one test; removed with everything in it */
static char *scratch(void)
{
    char tmpl[] = "/tmp/gctk-util-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    return xstrdup(tmpl);
}

static void remove_tree(const char *dir)
{
    cleanup_free char *cmd = xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static char *slurp(const char *path)
{
    char *text = NULL;
    assert_int_equal(read_file(path, 1 << 20, &text, NULL, NULL), 0);
    return text;
}

static size_t count_temp_files(const char *dir)
{
    cleanup_dir DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += str_has_prefix(e->d_name, ".gctk-tmp");
    return n;
}

static void test_mkdir_p(void **state)
{
    (void)state;
    cleanup_free char *dir = scratch();
    cleanup_free char *deep = xasprintf("%s/a/b/c/", dir);
    gctk_error *err = NULL;
    assert_int_equal(mkdir_p(deep, 0755, &err), 0);
    assert_int_equal(mkdir_p(deep, 0755, &err), 0); /* again: nothing to do */
    struct stat st;
    assert_int_equal(stat(deep, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    /* a file in the way is an error naming it */
    cleanup_free char *file = xasprintf("%s/a/file", dir);
    assert_int_equal(write_file(file, "x", 1, &(struct write_opts){.mode = 0644}, &err), 0);
    cleanup_free char *under = xasprintf("%s/below", file);
    assert_int_equal(mkdir_p(under, 0755, &err), -1);
    assert_int_equal(err->code, ENOTDIR);
    assert_non_null(strstr(err->msg, file));
    gctk_error_free(err);
    remove_tree(dir);
}

static void test_write_file(void **state)
{
    (void)state;
    cleanup_free char *dir = scratch();
    cleanup_free char *path = xasprintf("%s/etc/app/conf.json", dir);
    gctk_error *err = NULL;
    /* a new file in new directories, its mode past the umask */
    mode_t old_umask = umask(077);
    assert_int_equal(write_file(path, "one", 3, &(struct write_opts){.mode = 0644}, &err), 0);
    umask(old_umask);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    cleanup_free char *one = slurp(path);
    assert_string_equal(one, "one");
    /* keep: the old mode carries over; backup: the old content goes to .bak */
    assert_int_equal(chmod(path, 0600), 0);
    const struct write_opts keep = {.mode = 0644, .keep = true, .backup = true};
    assert_int_equal(write_file(path, "two", 3, &keep, &err), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    cleanup_free char *bak = xasprintf("%s.bak", path);
    cleanup_free char *two = slurp(path), *saved = slurp(bak);
    assert_string_equal(two, "two");
    assert_string_equal(saved, "one");
    assert_int_equal(stat(bak, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    /* a symlink at the destination is refused, neither followed nor
     * replaced (a planted link, an administrator's link alike) */
    cleanup_free char *victim = xasprintf("%s/victim", dir);
    assert_int_equal(write_file(victim, "host", 4, &(struct write_opts){.mode = 0644}, &err), 0);
    cleanup_free char *link = xasprintf("%s/etc/link.json", dir);
    assert_int_equal(symlink(victim, link), 0);
    assert_int_equal(write_file(link, "new", 3, &keep, &err), -1);
    assert_non_null(strstr(err->msg, "link.json` is a symlink (to `"));
    assert_non_null(strstr(err->msg, "never writes through a link"));
    gctk_error_free(err);
    err = NULL;
    cleanup_free char *v = slurp(victim);
    assert_string_equal(v, "host");
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    cleanup_free char *link_bak = xasprintf("%s.bak", link);
    assert_int_equal(access(link_bak, F_OK), -1); /* nothing read through the link */
    /* a FIFO, a block device, a directory: refused, left as they are, never
     * opened (a FIFO without a reader would block, a device is written) */
    cleanup_free char *fifo = xasprintf("%s/etc/fifo", dir);
    cleanup_free char *blk = xasprintf("%s/etc/blk", dir);
    cleanup_free char *sub = xasprintf("%s/etc/app/sub", dir);
    cleanup_free char *inner = xasprintf("%s/x", sub);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    assert_int_equal(write_file(inner, "x", 1, &(struct write_opts){.mode = 0644}, &err), 0);
    bool root = geteuid() == 0 && mknod(blk, S_IFBLK | 0600, makedev(7, 255)) == 0;
    const char *const special[] = {fifo, sub, root ? blk : NULL};
    const char *const said[] = {"is a FIFO", "is a directory", "is a block device"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(special) && special[i] != NULL; i++) {
        struct stat before;
        assert_int_equal(lstat(special[i], &before), 0);
        assert_int_equal(write_file(special[i], "z", 1, &keep, &err), -1);
        assert_non_null(strstr(err->msg, said[i]));
        assert_non_null(strstr(err->msg, "gctk replaces only regular files"));
        gctk_error_free(err);
        err = NULL;
        assert_int_equal(lstat(special[i], &st), 0);
        assert_true(st.st_ino == before.st_ino &&
                    (st.st_mode & S_IFMT) == (before.st_mode & S_IFMT));
    }
    /* what reads a file gctk rewrites refuses the same, without blocking */
    char *text = NULL;
    assert_int_equal(read_regular_file(fifo, 1024, &text, NULL, &err), -1);
    assert_non_null(strstr(err->msg, "is a FIFO"));
    gctk_error_free(err);
    err = NULL;
    assert_int_equal(read_regular_file(link, 1024, &text, NULL, &err), -1);
    assert_non_null(strstr(err->msg, "is a symlink"));
    gctk_error_free(err);
    err = NULL;
    assert_int_equal(read_regular_file(path, 1024, &text, NULL, NULL), 0);
    assert_string_equal(text, "two");
    free(text);
    /* replace_any (a container's own file): whatever is there is replaced */
    const struct write_opts any = {.mode = 0644, .replace_any = true};
    assert_int_equal(write_file(link, "new", 3, &any, &err), 0);
    assert_int_equal(write_file(fifo, "f", 1, &any, &err), 0);
    cleanup_free char *v2 = slurp(victim), *l = slurp(link);
    assert_string_equal(v2, "host");
    assert_string_equal(l, "new");
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    cleanup_free char *app = xasprintf("%s/etc/app", dir);
    assert_int_equal(count_temp_files(app), 0);
    remove_tree(dir);
}

static void test_open_regular(void **state)
{
    (void)state;
    cleanup_free char *dir = scratch();
    cleanup_fd int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(dfd >= 0);
    cleanup_free char *file = xasprintf("%s/file", dir), *fifo = xasprintf("%s/fifo", dir);
    cleanup_free char *link = xasprintf("%s/link", dir);
    assert_int_equal(write_file(file, "data", 4, &(struct write_opts){.mode = 0644}, NULL), 0);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    assert_int_equal(symlink(file, link), 0);
    int fd = -1;
    assert_int_equal(open_regular_at(dfd, "file", &fd), 0);
    char buf[8] = {0};
    assert_int_equal(read(fd, buf, sizeof(buf)), 4);
    assert_string_equal(buf, "data");
    close(fd);
    /* a FIFO is refused without blocking, a symlink is not followed */
    fd = -1;
    assert_int_equal(open_regular_at(dfd, "fifo", &fd), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(open_regular_at(dfd, "link", &fd), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(open_regular_at(dfd, "missing", &fd), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(fd, -1);
    /* a device node is refused without being opened */
    cleanup_fd int null_path = open("/dev/null", O_PATH | O_CLOEXEC);
    assert_int_equal(reopen_regular(null_path, &fd), -1);
    assert_int_equal(errno, EINVAL);
    remove_tree(dir);
}

/* utc_stamp() against glibc's gmtime_r() and strftime(), over leap days,
 * century years, the epoch and before it, every hour of a few days. */
static void test_utc_stamp(void **state)
{
    (void)state;
    const long long samples[] = {0,
                                 -1,
                                 59,
                                 86399,
                                 951782399,
                                 951782400,
                                 951868800,
                                 4107542400,
                                 -86400 * 366LL,
                                 1796017702,
                                 2147483647,
                                 4102444800,
                                 253402300799LL};
    char mine[UTC_STAMP_MAX], theirs[64];
    for (size_t i = 0; i < GCTK_ARRAY_LEN(samples); i++) {
        for (long long h = 0; h < 96; h++) {
            struct timespec ts = {.tv_sec = (time_t)(samples[i] + h * 3599), .tv_nsec = 7000000};
            struct tm tm;
            assert_non_null(gmtime_r(&ts.tv_sec, &tm));
            strftime(theirs, sizeof(theirs), "%Y-%m-%dT%H:%M:%S.007Z", &tm);
            utc_stamp(mine, &ts, true);
            assert_string_equal(mine, theirs);
        }
    }
    struct timespec ts = {.tv_sec = 86400 + 3661};
    utc_stamp(mine, &ts, false);
    assert_string_equal(mine, "1970-01-02T01:01:01Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fail_and_wrap), cmocka_unit_test(test_path_join),
        cmocka_unit_test(test_strings),       cmocka_unit_test(test_read_file_limit),
        cmocka_unit_test(test_run_capture),   cmocka_unit_test(test_mkdir_p),
        cmocka_unit_test(test_write_file),    cmocka_unit_test(test_open_regular),
        cmocka_unit_test(test_utc_stamp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
