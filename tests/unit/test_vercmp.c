/* Unit tests of lib/cuda/vercmp.c: dotted versions and the CUDA integer form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "util.h"
#include "vercmp.h"

static void test_cmp(void **state)
{
    (void)state;
    assert_true(version_cmp("12.4", "12.10") < 0);
    assert_true(version_cmp("12.10", "12.4") > 0);
    assert_true(version_cmp("535.104.05", "535.54") > 0);
    assert_true(version_cmp("535.54.03", "535.104.05") < 0);
    assert_int_equal(version_cmp("12", "12.0"), 0);
    assert_int_equal(version_cmp("1.0", "1"), 0);
    assert_int_equal(version_cmp("12.0.0.0", "12"), 0);
    assert_int_equal(version_cmp("535.104.05", "535.104.5"), 0);
    assert_true(version_cmp("470.82.01", "471") < 0);
    assert_true(version_cmp("9.0", "10.0") < 0);
    assert_true(version_cmp("4294967295", "4294967294") > 0);
    /* invalid strings compare as their valid prefix; NULL as 0 */
    assert_int_equal(version_cmp("12.4abc", "12.4"), 0);
    assert_int_equal(version_cmp(NULL, "0"), 0);
    assert_true(version_cmp(NULL, "1") < 0);
    assert_int_equal(version_cmp("", ""), 0);
}

static void check_bad(const char *s, const char *msg)
{
    unsigned parts[VERSION_MAX_PARTS] = {7, 7, 7, 7};
    size_t n = 99;
    gctk_error *err = NULL;
    assert_int_equal(version_parse(s, parts, &n, &err), -1);
    assert_non_null(err);
    assert_string_equal(err->msg, msg);
    /* outputs untouched on failure */
    assert_int_equal(n, 99);
    assert_int_equal(parts[0], 7);
    gctk_error_free(err);
    assert_false(version_valid(s));
}

static void test_parse(void **state)
{
    (void)state;
    unsigned parts[VERSION_MAX_PARTS];
    size_t n = 0;
    assert_int_equal(version_parse("535.104.05", parts, &n, NULL), 0);
    assert_int_equal(n, 3);
    assert_int_equal(parts[0], 535);
    assert_int_equal(parts[1], 104);
    assert_int_equal(parts[2], 5);
    assert_int_equal(parts[3], 0);
    assert_int_equal(version_parse("1.2.3.4", parts, NULL, NULL), 0);
    assert_int_equal(parts[3], 4);
    assert_int_equal(version_parse("4294967295", parts, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_true(version_valid("12"));

    check_bad("", "empty version");
    check_bad(NULL, "empty version");
    check_bad("12..4", "version `12..4`: empty part at column 4");
    check_bad("12.", "version `12.`: empty part at column 4");
    check_bad(".12", "version `.12`: empty part at column 1");
    check_bad("12.a", "version `12.a`: unexpected character `a` at column 4");
    check_bad("12.4a", "version `12.4a`: unexpected character `a` at column 5");
    check_bad("-1", "version `-1`: unexpected character `-` at column 1");
    check_bad(" 12", "version ` 12`: unexpected character ` ` at column 1");
    check_bad("4294967296", "version `4294967296`: part at column 10 is too large");
    check_bad("1.99999999999999999999", "version `1.99999999999999999999`: part at column 12 "
                                        "is too large");
    check_bad("1.2.3.4.5", "version `1.2.3.4.5`: more than 4 parts");
}

static void test_cuda_int(void **state)
{
    (void)state;
    int v = 0;
    gctk_error *err = NULL;
    assert_int_equal(cuda_version_to_int("12.4", &v, NULL), 0);
    assert_int_equal(v, 12040);
    assert_int_equal(cuda_version_to_int("12.10", &v, NULL), 0);
    assert_int_equal(v, 12100);
    assert_int_equal(cuda_version_to_int("13", &v, NULL), 0);
    assert_int_equal(v, 13000);
    assert_int_equal(cuda_version_to_int("11.8", &v, NULL), 0);
    assert_int_equal(v, 11080);

    assert_int_equal(cuda_version_to_int("12.4.1", &v, &err), -1);
    assert_string_equal(err->msg, "bad CUDA version `12.4.1`: expected MAJOR.MINOR");
    gctk_error_free(err);
    err = NULL;
    assert_int_equal(cuda_version_to_int("12.100", &v, &err), -1);
    assert_string_equal(err->msg, "bad CUDA version `12.100`: out of range");
    gctk_error_free(err);
    err = NULL;
    assert_int_equal(cuda_version_to_int("0.5", &v, &err), -1);
    assert_string_equal(err->msg, "bad CUDA version `0.5`: out of range");
    gctk_error_free(err);
    err = NULL;
    assert_int_equal(cuda_version_to_int("x", &v, &err), -1);
    assert_string_equal(err->msg,
                        "bad CUDA version: version `x`: unexpected character `x` at column 1");
    gctk_error_free(err);

    char buf[CUDA_VERSION_BUF];
    assert_string_equal(cuda_version_format(12040, buf, sizeof(buf)), "12.4");
    assert_string_equal(cuda_version_format(12100, buf, sizeof(buf)), "12.10");
    assert_string_equal(cuda_version_format(13000, buf, sizeof(buf)), "13.0");
    assert_string_equal(cuda_version_format(9020, buf, sizeof(buf)), "9.2");
    assert_null(cuda_version_format(0, buf, sizeof(buf)));
    assert_null(cuda_version_format(-12040, buf, sizeof(buf)));
    assert_null(cuda_version_format(12040, buf, 4));
    /* round trip */
    for (int i = 1000; i < 20000; i += 10) {
        int back = 0;
        assert_non_null(cuda_version_format(i, buf, sizeof(buf)));
        assert_int_equal(cuda_version_to_int(buf, &back, NULL), 0);
        assert_int_equal(back, i);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmp),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_cuda_int),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
