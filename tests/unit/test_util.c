/* Unit tests of lib/util.c: errors, paths, strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <sys/wait.h>

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
    gctk_error_free(err);
    gctk_error_free(NULL);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fail_and_wrap), cmocka_unit_test(test_path_join),
        cmocka_unit_test(test_strings),       cmocka_unit_test(test_read_file_limit),
        cmocka_unit_test(test_run_capture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
