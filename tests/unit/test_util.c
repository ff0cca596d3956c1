/* Unit tests of lib/util.c: errors, paths, strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fail_and_wrap),
        cmocka_unit_test(test_path_join),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_read_file_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
