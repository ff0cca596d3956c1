/* Unit tests of lib/cuda/cudacompat.c and its table lib/cuda/cuda-drivers.def. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "cudacompat.h"
#include "util.h"

static void test_table_sane(void **state)
{
    (void)state;
    size_t n = cudacompat_release_count();
    assert_true(n > 50);
    assert_null(cudacompat_release(n));
    for (size_t i = 0; i < n; i++) {
        const struct cudacompat_release *r = cudacompat_release(i);
        assert_true(version_valid(r->min_driver));
        assert_non_null(strstr(r->label, "CUDA "));
        if (i == 0)
            continue;
        const struct cudacompat_release *p = cudacompat_release(i - 1);
        /* releases strictly increase, minimum drivers never decrease */
        unsigned a[3] = {p->major, p->minor, p->update}, b[3] = {r->major, r->minor, r->update};
        assert_true(memcmp(a, b, sizeof(a)) != 0);
        assert_true(a[0] < b[0] ||
                    (a[0] == b[0] && (a[1] < b[1] || (a[1] == b[1] && a[2] < b[2]))));
        assert_true(version_cmp(p->min_driver, r->min_driver) <= 0);
        /* every minor has its GA row first */
        if (r->major != p->major || r->minor != p->minor)
            assert_int_equal(r->update, 0);
    }
    for (unsigned major = 11; major <= 13; major++) {
        const char *d = cudacompat_minor_compat_driver(major);
        assert_non_null(d);
        assert_true(version_valid(d));
        /* at or above the driver of that major's first release, below the next major's */
        char ga[8];
        snprintf(ga, sizeof(ga), "%u.0", major);
        assert_true(version_cmp(d, cudacompat_min_driver(ga)) >= 0);
    }
    assert_null(cudacompat_minor_compat_driver(10));
    assert_null(cudacompat_minor_compat_driver(14));
}

static void test_min_driver(void **state)
{
    (void)state;
    static const char *const known[][2] = {
        {"11.0", "450.36.06"},    {"11.1", "455.23"},      {"11.2", "460.27.03"},
        {"11.2.1", "460.32.03"},  {"11.4", "470.42.01"},   {"11.8", "520.61.05"},
        {"12.0", "525.60.13"},    {"12.1", "530.30.02"},   {"12.2", "535.54.03"},
        {"12.2.2", "535.104.05"}, {"12.3", "545.23.06"},   {"12.4", "550.54.14"},
        {"12.5", "555.42.02"},    {"12.6", "560.28.03"},   {"12.8", "570.26"},
        {"12.9", "575.51.03"},    {"13.0", "580.65.06"},   {"13.0.2", "580.95.05"},
        {"13.1", "590.44.01"},    {"13.2", "595.45.04"},   {"10.2", "440.33"},
        {"12", "525.60.13"},      {"12.4.0", "550.54.14"},
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(known); i++) {
        const char *d = cudacompat_min_driver(known[i][0]);
        assert_non_null(d);
        assert_string_equal(d, known[i][1]);
    }
    assert_null(cudacompat_min_driver("12.7")); /* never released */
    assert_null(cudacompat_min_driver("14.0")); /* newer than the table */
    assert_null(cudacompat_min_driver("6.5"));  /* older */
    assert_null(cudacompat_min_driver("12.x"));
    assert_null(cudacompat_min_driver("12.4.1.1"));
    assert_null(cudacompat_min_driver(NULL));
}

static void test_driver_cuda(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"535.104.05", "12.2"}, {"535.54.03", "12.2"}, {"535.288.01", "12.2"},
        {"535.54.02", "12.1"},  {"550.54.14", "12.4"}, {"550.127.08", "12.4"},
        {"570.26", "12.8"},     {"575.57.08", "12.9"}, {"580.95.05", "13.0"},
        {"470.82.01", "11.4"},  {"450.80.02", "11.0"}, {"525.60.13", "12.0"},
        {"520.61.05", "11.8"},  {"418.39", "10.1"},    {"999.1", "13.2"},
    };
    char buf[CUDA_VERSION_BUF];
    for (size_t i = 0; i < GCTK_ARRAY_LEN(cases); i++) {
        const char *c = cudacompat_driver_cuda(cases[i][0], buf, sizeof(buf));
        assert_non_null(c);
        assert_string_equal(c, cases[i][1]);
    }
    assert_null(cudacompat_driver_cuda("340.10", buf, sizeof(buf)));
    assert_null(cudacompat_driver_cuda("abc", buf, sizeof(buf)));
    assert_null(cudacompat_driver_cuda("580.95.05", buf, 3));
}

static void test_brand(void **state)
{
    (void)state;
    assert_int_equal(cudacompat_forward_compat_brand("tesla"), 1);
    assert_int_equal(cudacompat_forward_compat_brand("NVIDIA"), 1);
    assert_int_equal(cudacompat_forward_compat_brand("geforce"), 0);
    assert_int_equal(cudacompat_forward_compat_brand("quadro"), 0);
    assert_int_equal(cudacompat_forward_compat_brand("titanrtx"), 0);
    assert_int_equal(cudacompat_forward_compat_brand("nvidiartx"), -1);
    assert_int_equal(cudacompat_forward_compat_brand("unknown"), -1);
    assert_int_equal(cudacompat_forward_compat_brand(NULL), -1);
}

static void check(const char *want, const char *driver, const char *driver_cuda,
                  enum cudacompat_verdict verdict, const char *explanation)
{
    struct cudacompat_result r = {0};
    gctk_error *err = NULL;
    assert_int_equal(cudacompat_check(want, driver, driver_cuda, &r, &err), 0);
    assert_null(err);
    assert_string_equal(cudacompat_verdict_name(r.verdict), cudacompat_verdict_name(verdict));
    assert_string_equal(r.explanation, explanation);
    assert_int_equal(r.needs_datacenter_gpu, verdict == CUDACOMPAT_FORWARD_COMPAT_NEEDED);
    cudacompat_result_clear(&r);
    assert_null(r.explanation);
}

static void test_check(void **state)
{
    (void)state;
    check("12.4", "580.95.05", "13.0", CUDACOMPAT_NATIVE,
          "driver 580.95.05 (CUDA 13.0) runs CUDA 12.4 natively");
    check("12.4", "550.54.14", NULL, CUDACOMPAT_NATIVE,
          "driver 550.54.14 (CUDA 12.4) runs CUDA 12.4 natively");
    /* the runtime checks major.minor only */
    check("12.4.1", "550.54.14", NULL, CUDACOMPAT_NATIVE,
          "driver 550.54.14 (CUDA 12.4) runs CUDA 12.4.1 natively");
    /* NVML's word beats the table: a beta driver reporting 12.4 */
    check("12.4", "550.40.07", "12.4", CUDACOMPAT_NATIVE,
          "driver 550.40.07 (CUDA 12.4) runs CUDA 12.4 natively");
    check("12.4", "535.104.05", NULL, CUDACOMPAT_MINOR_VERSION,
          "driver 535.104.05 (CUDA 12.2) runs CUDA 12.4 only through minor-version "
          "compatibility (CUDA 12.x on driver >= 525.60.13): PTX newer than CUDA 12.2 cannot "
          "be JIT-compiled and features newer than CUDA 12.2 may fail; driver >= 550.54.14 "
          "runs it natively");
    check("11.8", "450.80.02", NULL, CUDACOMPAT_MINOR_VERSION,
          "driver 450.80.02 (CUDA 11.0) runs CUDA 11.8 only through minor-version "
          "compatibility (CUDA 11.x on driver >= 450.80.02): PTX newer than CUDA 11.0 cannot "
          "be JIT-compiled and features newer than CUDA 11.0 may fail; driver >= 520.61.05 "
          "runs it natively");
    check("11.4", "450.51.06", NULL, CUDACOMPAT_FORWARD_COMPAT_NEEDED,
          "driver 450.51.06 (CUDA 11.0) cannot run CUDA 11.4: it needs driver >= 470.42.01 (or "
          "driver >= 450.80.02 for minor-version compatibility), or the image's cuda-compat "
          "package (forward compatibility), which works only on data-center GPUs");
    check("12.4", "470.82.01", NULL, CUDACOMPAT_FORWARD_COMPAT_NEEDED,
          "driver 470.82.01 (CUDA 11.4) cannot run CUDA 12.4: it needs driver >= 550.54.14, or "
          "the image's cuda-compat package (forward compatibility), which works only on "
          "data-center GPUs");
    check("13.0", "535.104.05", "12.2", CUDACOMPAT_FORWARD_COMPAT_NEEDED,
          "driver 535.104.05 (CUDA 12.2) cannot run CUDA 13.0: it needs driver >= 580.65.06, or "
          "the image's cuda-compat package (forward compatibility), which works only on "
          "data-center GPUs");
    /* releases the table does not know: the nearest lower one is a lower bound */
    check("14.0", "580.95.05", NULL, CUDACOMPAT_FORWARD_COMPAT_NEEDED,
          "driver 580.95.05 (CUDA 13.0) cannot run CUDA 14.0: it needs a driver newer than "
          "gctk's table knows (at least 595.71.05, the minimum of CUDA 13.2.2), or the image's "
          "cuda-compat package (forward compatibility), which works only on data-center GPUs");
    check("12.7", "560.35.03", NULL, CUDACOMPAT_MINOR_VERSION,
          "driver 560.35.03 (CUDA 12.6) runs CUDA 12.7 only through minor-version "
          "compatibility (CUDA 12.x on driver >= 525.60.13): PTX newer than CUDA 12.6 cannot "
          "be JIT-compiled and features newer than CUDA 12.6 may fail; a driver newer than "
          "gctk's table knows (at least 560.35.05, the minimum of CUDA 12.6.3) runs it natively");
    check("9.2", "390.46", NULL, CUDACOMPAT_UNSUPPORTED,
          "driver 390.46 (CUDA 9.1) cannot run CUDA 9.2: it needs driver >= 396.26: upgrade the "
          "driver");
    check("12.0", "340.10", NULL, CUDACOMPAT_UNSUPPORTED,
          "driver 340.10 is older than every CUDA release gctk knows: CUDA 12.0 needs driver >= "
          "525.60.13: upgrade the driver");
    check("6.5", "340.10", NULL, CUDACOMPAT_UNSUPPORTED,
          "driver 340.10 is older than every CUDA release gctk knows: CUDA 6.5 needs a driver "
          "gctk has no minimum for: upgrade the driver");
    /* older CUDA on a newer driver: backward compatible */
    check("6.5", "580.95.05", NULL, CUDACOMPAT_NATIVE,
          "driver 580.95.05 (CUDA 13.0) runs CUDA 6.5 natively");
}

static void test_check_fields(void **state)
{
    (void)state;
    struct cudacompat_result r = {0};
    assert_int_equal(cudacompat_check("12.4", "535.104.05", NULL, &r, NULL), 0);
    assert_string_equal(r.min_driver, "550.54.14");
    assert_true(r.min_driver_exact);
    assert_string_equal(r.min_driver_release, "12.4");
    assert_string_equal(r.minor_compat_driver, "525.60.13");
    assert_string_equal(r.driver_cuda, "12.2");
    assert_true(r.driver_cuda_derived);
    cudacompat_result_clear(&r);
    assert_int_equal(cudacompat_check("12.7", "535.104.05", "12.2", &r, NULL), 0);
    assert_false(r.min_driver_exact);
    assert_false(r.driver_cuda_derived);
    assert_string_equal(r.min_driver, "560.35.05");
    cudacompat_result_clear(&r);
    cudacompat_result_clear(NULL);
}

static void check_error(const char *want, const char *driver, const char *dcuda, const char *msg)
{
    struct cudacompat_result r = {.explanation = NULL, .verdict = CUDACOMPAT_UNSUPPORTED};
    gctk_error *err = NULL;
    assert_int_equal(cudacompat_check(want, driver, dcuda, &r, &err), -1);
    assert_string_equal(err->msg, msg);
    assert_null(r.explanation);
    gctk_error_free(err);
}

static void test_check_errors(void **state)
{
    (void)state;
    check_error("12.x", "535.104.05", NULL,
                "bad CUDA version `12.x`: expected MAJOR.MINOR[.UPDATE]");
    check_error(NULL, "535.104.05", NULL, "bad CUDA version ``: expected MAJOR.MINOR[.UPDATE]");
    check_error("1.2.3.4", "535.104.05", NULL,
                "bad CUDA version `1.2.3.4`: expected MAJOR.MINOR[.UPDATE]");
    check_error("12.4", "535.x", NULL, "bad driver version `535.x`: expected a dotted number");
    check_error("12.4", NULL, NULL, "bad driver version ``: expected a dotted number");
    check_error("12.4", "535.104.05", "twelve",
                "bad driver CUDA version `twelve`: expected MAJOR.MINOR");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_sane),   cmocka_unit_test(test_min_driver),
        cmocka_unit_test(test_driver_cuda),  cmocka_unit_test(test_brand),
        cmocka_unit_test(test_check),        cmocka_unit_test(test_check_fields),
        cmocka_unit_test(test_check_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
