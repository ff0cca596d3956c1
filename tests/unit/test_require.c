/* Unit tests of lib/cuda/require.c: the NVIDIA_REQUIRE_* language. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "bounds.h"
#include "require.h"
#include "util.h"

/* Parses expr (which must be valid) and evaluates it against f. */
static int eval(const char *expr, const struct require_facts *f)
{
    struct require_expr *e = NULL;
    gctk_error *err = NULL;
    if (require_parse(expr, &e, &err) < 0)
        fail_msg("parse `%s`: %s", expr, err->msg);
    int r = require_eval(e, f, NULL);
    require_free(e);
    return r;
}

/* Evaluates and returns the error message (owned) of an unsatisfied expr. */
static char *why(const char *expr, const struct require_facts *f)
{
    struct require_expr *e = NULL;
    gctk_error *err = NULL;
    assert_int_equal(require_parse(expr, &e, NULL), 0);
    assert_int_equal(require_eval(e, f, &err), 0);
    require_free(e);
    assert_non_null(err);
    char *msg = steal_pointer(&err->msg);
    gctk_error_free(err);
    return msg;
}

static const struct require_facts h100 = {"13.0", "580.95.05", "9.0", "nvidia"};
static const struct require_facts t4_535 = {"12.2", "535.104.05", "7.5", "tesla"};
static const struct require_facts rtx_545 = {"12.3", "545.23.08", "8.6", "geforce"};
static const struct require_facts nonvml = {NULL, "535.104.05", NULL, NULL};

static void test_operators(void **state)
{
    (void)state;
    /* every operator on each version term, on both sides of the host value */
    assert_int_equal(eval("cuda=13.0", &h100), 1);
    assert_int_equal(eval("cuda=13", &h100), 1);
    assert_int_equal(eval("cuda=12.9", &h100), 0);
    assert_int_equal(eval("cuda!=12.9", &h100), 1);
    assert_int_equal(eval("cuda!=13.0", &h100), 0);
    assert_int_equal(eval("cuda<13.1", &h100), 1);
    assert_int_equal(eval("cuda<13.0", &h100), 0);
    assert_int_equal(eval("cuda<=13.0", &h100), 1);
    assert_int_equal(eval("cuda<=12.10", &h100), 0);
    assert_int_equal(eval("cuda>12.10", &h100), 1);
    assert_int_equal(eval("cuda>13.0", &h100), 0);
    assert_int_equal(eval("cuda>=13.0", &h100), 1);
    assert_int_equal(eval("cuda>=13.1", &h100), 0);
    assert_int_equal(eval("driver>=580", &h100), 1);
    assert_int_equal(eval("driver>=580.95.06", &h100), 0);
    assert_int_equal(eval("driver<581", &h100), 1);
    assert_int_equal(eval("driver<580.95.05", &h100), 0);
    assert_int_equal(eval("driver=580.95.5", &h100), 1);
    assert_int_equal(eval("driver>580.95", &h100), 1);
    assert_int_equal(eval("driver<=580.95.05", &h100), 1);
    assert_int_equal(eval("driver!=580.95.05", &h100), 0);
    assert_int_equal(eval("arch>=7.0", &h100), 1);
    assert_int_equal(eval("arch>=9.1", &h100), 0);
    assert_int_equal(eval("arch=9.0", &h100), 1);
    assert_int_equal(eval("arch<9", &h100), 0);
    assert_int_equal(eval("arch!=8.6", &h100), 1);
    assert_int_equal(eval("arch<=9.0", &h100), 1);
    assert_int_equal(eval("arch>8.9", &h100), 1);
    assert_int_equal(eval("brand=nvidia", &h100), 1);
    assert_int_equal(eval("brand=NVIDIA", &h100), 1);
    assert_int_equal(eval("brand=tesla", &h100), 0);
    assert_int_equal(eval("brand!=geforce", &h100), 1);
    assert_int_equal(eval("brand!=Nvidia", &h100), 0);
    /* terms in any case */
    assert_int_equal(eval("CUDA>=12.4,Driver>=550", &h100), 1);
    /* numeric, not textual, comparison */
    assert_int_equal(eval("driver>=535.54", &t4_535), 1);
    assert_int_equal(eval("cuda<12.10", &t4_535), 1);
}

static void test_and_or(void **state)
{
    (void)state;
    /* comma: AND */
    assert_int_equal(eval("driver>=535,driver<536", &t4_535), 1);
    assert_int_equal(eval("driver>=535,driver<536", &h100), 0);
    assert_int_equal(eval("brand=tesla,driver>=535,arch>=8.0", &t4_535), 0);
    /* blank: OR */
    assert_int_equal(eval("cuda>=13.0 brand=tesla", &t4_535), 1);
    assert_int_equal(eval("cuda>=13.0 brand=geforce", &t4_535), 0);
    /* AND binds tighter than OR: (cuda>=13) or (brand=tesla and driver>=535 and driver<536) */
    assert_int_equal(eval("cuda>=13 brand=tesla,driver>=535,driver<536", &t4_535), 1);
    assert_int_equal(eval("cuda>=13 brand=tesla,driver>=535,driver<536", &h100), 1);
    assert_int_equal(eval("cuda>=13 brand=tesla,driver>=535,driver<536", &rtx_545), 0);
    assert_int_equal(eval("brand=tesla,cuda>=13 driver<536", &t4_535), 1);
    assert_int_equal(eval("brand=tesla,cuda>=13 driver<536", &h100), 0);
}

static void test_blanks(void **state)
{
    (void)state;
    assert_int_equal(eval("", &h100), 1);
    assert_int_equal(eval("   \t ", &h100), 1);
    assert_int_equal(eval("  cuda>=13.0", &h100), 1);
    assert_int_equal(eval("cuda>=13.0  ", &h100), 1);
    assert_int_equal(eval("cuda>=14.0    \t  brand=nvidia\n", &h100), 1);
    assert_int_equal(eval("\tcuda>=14.0\t\tbrand=tesla ", &h100), 0);
    struct require_expr *e = NULL;
    assert_int_equal(require_parse(NULL, &e, NULL), 0);
    assert_int_equal(require_eval(e, &h100, NULL), 1);
    assert_string_equal(require_text(e), "");
    assert_null(require_cuda_min(e));
    require_free(e);
    require_free(NULL);
}

static void check_malformed(const char *expr, const char *msg)
{
    struct require_expr *e = (struct require_expr *)0x1;
    gctk_error *err = NULL;
    assert_int_equal(require_parse(expr, &e, &err), -1);
    assert_ptr_equal(e, (struct require_expr *)0x1);
    assert_non_null(err);
    assert_string_equal(err->msg, msg);
    gctk_error_free(err);
    /* and with no error wanted */
    assert_int_equal(require_parse(expr, &e, NULL), -1);
}

static void test_malformed(void **state)
{
    (void)state;
    check_malformed("cuda>>12", "requirement `cuda>>12`: unknown operator `>>` at column 5: "
                                "expected =, !=, <, <=, > or >=");
    check_malformed("cuda==12", "requirement `cuda==12`: unknown operator `==` at column 5: "
                                "expected =, !=, <, <=, > or >=");
    check_malformed("cuda=>12", "requirement `cuda=>12`: unknown operator `=>` at column 5: "
                                "expected =, !=, <, <=, > or >=");
    check_malformed("cdua>=12", "requirement `cdua>=12`: unknown term `cdua` at column 1: "
                                "expected cuda, driver, arch or brand");
    check_malformed(">=12", "requirement `>=12`: missing term at column 1: expected cuda, "
                            "driver, arch or brand");
    check_malformed("cuda", "requirement `cuda`: missing operator at column 5");
    check_malformed("cuda >= 12.4", "requirement `cuda`: missing operator at column 5: blanks "
                                    "separate alternatives, write a condition without blanks "
                                    "(`cuda>=12.4`)");
    check_malformed("cuda>=", "requirement `cuda>=`: missing value at column 7");
    check_malformed("cuda>=12.x", "requirement `cuda>=12.x`: bad version `12.x` at column 7: "
                                  "expected a dotted number like 12.4");
    check_malformed("driver<535..1", "requirement `driver<535..1`: bad version `535..1` at "
                                     "column 8: expected a dotted number like 535.104.05");
    check_malformed("arch>=sm_80", "requirement `arch>=sm_80`: bad version `sm_80` at column 7: "
                                   "expected a dotted number like 8.0");
    check_malformed("driver>=99999999999", "requirement `driver>=99999999999`: bad version "
                                           "`99999999999` at column 9: expected a dotted number "
                                           "like 535.104.05");
    check_malformed("brand<tesla", "requirement `brand<tesla`: operator `<` at column 6 does "
                                   "not apply to brand: use = or !=");
    check_malformed("brand>=tesla", "requirement `brand>=tesla`: operator `>=` at column 6 does "
                                    "not apply to brand: use = or !=");
    check_malformed("brand=te$la", "requirement `brand=te$la`: bad brand `te$la` at column 7: "
                                   "expected a name like tesla or geforce");
    check_malformed("brand=", "requirement `brand=`: missing value at column 7");
    check_malformed("cuda>=12,,driver>=1", "requirement `cuda>=12,,driver>=1`: empty condition "
                                           "at column 10");
    check_malformed("cuda>=12,", "requirement `cuda>=12,`: empty condition at column 10");
    check_malformed(",cuda>=12", "requirement `,cuda>=12`: empty condition at column 1");
    /* an error in a later alternative is found too */
    check_malformed("cuda>=12.4 brand=tesla,driver>=470,driver<47l",
                    "requirement `driver<47l`: bad version `47l` at column 8: expected a dotted "
                    "number like 535.104.05");
}

static void test_unknown_facts(void **state)
{
    (void)state;
    /* cuda is derived from the driver when the host cannot tell it */
    assert_int_equal(eval("cuda>=12.2", &nonvml), 1);
    assert_int_equal(eval("cuda>=12.3", &nonvml), 0);
    /* arch and brand unknown: no condition on them holds, whatever the operator */
    assert_int_equal(eval("arch>=7.0", &nonvml), 0);
    assert_int_equal(eval("arch<99", &nonvml), 0);
    assert_int_equal(eval("brand=tesla", &nonvml), 0);
    assert_int_equal(eval("brand!=tesla", &nonvml), 0);
    assert_int_equal(eval("brand=unknown", &nonvml), 0);
    /* another alternative can still hold */
    assert_int_equal(eval("arch>=7.0 driver>=535", &nonvml), 1);
    cleanup_free char *m = why("arch>=7.0", &nonvml);
    assert_string_equal(m, "unsatisfied requirement `arch>=7.0`: this host cannot tell the "
                           "GPU's compute capability (arch), so the requirement cannot be "
                           "checked: set NVIDIA_DISABLE_REQUIRE=true to skip requirements");
    cleanup_free char *m2 = why("brand=tesla,driver>=535", &nonvml);
    assert_string_equal(m2, "unsatisfied requirement `brand=tesla`: this host cannot tell the "
                            "GPU's brand, so the requirement cannot be checked: set "
                            "NVIDIA_DISABLE_REQUIRE=true to skip requirements");
    cleanup_free char *m4 = why("brand=tesla,driver>=535 arch>=8.0", &nonvml);
    assert_string_equal(m4, "unsatisfied requirement `brand=tesla`: this host cannot tell the "
                            "GPU's brand, so the requirement cannot be checked: set "
                            "NVIDIA_DISABLE_REQUIRE=true to skip requirements; no other "
                            "alternative holds: `arch>=8.0` (GPU arch not known to this host)");
    /* a driver older than the table and no CUDA version: cuda unknown */
    const struct require_facts ancient = {NULL, "340.10", "3.0", "geforce"};
    cleanup_free char *m3 = why("cuda>=8.0", &ancient);
    assert_string_equal(m3, "unsatisfied requirement `cuda>=8.0`: this host cannot tell the "
                            "GPU's CUDA version, so the requirement cannot be checked: set "
                            "NVIDIA_DISABLE_REQUIRE=true to skip requirements");
}

static void test_bad_facts(void **state)
{
    (void)state;
    const struct require_facts bad = {"12.x", "535.x", "9.0", "tesla"};
    struct require_expr *e = NULL;
    gctk_error *err = NULL;
    assert_int_equal(require_parse("arch>=9.0 driver>=535", &e, NULL), 0);
    /* the first alternative holds before the malformed driver is read */
    assert_int_equal(require_eval(e, &bad, &err), 1);
    require_free(e);
    assert_int_equal(require_parse("cuda>=12.4", &e, NULL), 0);
    assert_int_equal(require_eval(e, &bad, &err), -1);
    assert_string_equal(
        err->msg, "requirement `cuda>=12.4`: host CUDA version `12.x` is not a dotted number");
    gctk_error_free(err);
    require_free(e);
}

static void test_explanations(void **state)
{
    (void)state;
    const struct require_facts host = {"12.2", "535.104.05", "7.5", NULL};
    cleanup_free char *a = why("cuda>=12.4", &host);
    assert_string_equal(a, "unsatisfied requirement `cuda>=12.4`: this image needs CUDA >= "
                           "12.4, which needs driver >= 550.54.14; this host has driver "
                           "535.104.05 (CUDA 12.2): upgrade the driver, or use the image's "
                           "cuda-compat package on a data-center GPU");
    /* the cuda-compat advice is left out where the brand rules it out */
    cleanup_free char *b = why("cuda>=12.4", &rtx_545);
    assert_string_equal(b, "unsatisfied requirement `cuda>=12.4`: this image needs CUDA >= "
                           "12.4, which needs driver >= 550.54.14; this host has driver "
                           "545.23.08 (CUDA 12.3): upgrade the driver");
    cleanup_free char *c = why("cuda>=14.1", &h100);
    assert_string_equal(c, "unsatisfied requirement `cuda>=14.1`: this image needs CUDA >= "
                           "14.1, which needs a driver newer than gctk's table knows (at least "
                           "595.71.05, the minimum of CUDA 13.2.2); this host has driver "
                           "580.95.05 (CUDA 13.0): upgrade the driver, or use the image's "
                           "cuda-compat package on a data-center GPU");
    cleanup_free char *d = why("cuda<13", &h100);
    assert_string_equal(d, "unsatisfied requirement `cuda<13`: this image needs CUDA < 13; "
                           "this host has driver 580.95.05 (CUDA 13.0)");
    cleanup_free char *e = why("driver>=590", &h100);
    assert_string_equal(e, "unsatisfied requirement `driver>=590`: this image needs driver >= "
                           "590; this host has driver 580.95.05");
    cleanup_free char *f = why("arch>=8.0", &t4_535);
    assert_string_equal(f, "unsatisfied requirement `arch>=8.0`: this image needs a GPU of "
                           "compute capability >= 8.0; this GPU has 7.5");
    cleanup_free char *g = why("brand=tesla", &rtx_545);
    assert_string_equal(g, "unsatisfied requirement `brand=tesla`: this image needs GPU brand "
                           "tesla; this GPU is geforce");
    cleanup_free char *h = why("brand!=geforce", &rtx_545);
    assert_string_equal(h, "unsatisfied requirement `brand!=geforce`: this image needs a GPU "
                           "brand other than geforce; this GPU is geforce");
    /* the first failing condition of each alternative, a CUDA minimum first */
    cleanup_free char *i = why("brand=tesla,driver>=535 arch>=8.0,cuda>=12.4 cuda>=13.0", &rtx_545);
    assert_string_equal(i, "unsatisfied requirement `cuda>=12.4`: this image needs CUDA >= "
                           "12.4, which needs driver >= 550.54.14; this host has driver "
                           "545.23.08 (CUDA 12.3): upgrade the driver; no other alternative "
                           "holds: `brand=tesla` (GPU brand geforce), `cuda>=13.0` (host CUDA "
                           "12.3)");
    cleanup_free char *j = why("brand=tesla,driver>=535 brand=quadro", &rtx_545);
    assert_string_equal(j, "unsatisfied requirement `brand=tesla`: this image needs GPU brand "
                           "tesla; this GPU is geforce; no other alternative holds: "
                           "`brand=quadro` (GPU brand geforce)");
}

/* The requirement of the nvidia/cuda 12.4 images. */
static const char cuda124[] =
    "cuda>=12.4 brand=tesla,driver>=470,driver<471 brand=unknown,driver>=470,driver<471 "
    "brand=nvidia,driver>=470,driver<471 brand=nvidiartx,driver>=470,driver<471 "
    "brand=geforce,driver>=470,driver<471 brand=geforcertx,driver>=470,driver<471 "
    "brand=quadro,driver>=470,driver<471 brand=quadrortx,driver>=470,driver<471 "
    "brand=titan,driver>=470,driver<471 brand=titanrtx,driver>=470,driver<471 "
    "brand=tesla,driver>=525,driver<526 brand=unknown,driver>=525,driver<526 "
    "brand=nvidia,driver>=525,driver<526 brand=nvidiartx,driver>=525,driver<526 "
    "brand=geforce,driver>=525,driver<526 brand=geforcertx,driver>=525,driver<526 "
    "brand=quadro,driver>=525,driver<526 brand=quadrortx,driver>=525,driver<526 "
    "brand=titan,driver>=525,driver<526 brand=titanrtx,driver>=525,driver<526 "
    "brand=tesla,driver>=535,driver<536 brand=unknown,driver>=535,driver<536 "
    "brand=nvidia,driver>=535,driver<536 brand=nvidiartx,driver>=535,driver<536 "
    "brand=geforce,driver>=535,driver<536 brand=geforcertx,driver>=535,driver<536 "
    "brand=quadro,driver>=535,driver<536 brand=quadrortx,driver>=535,driver<536 "
    "brand=titan,driver>=535,driver<536 brand=titanrtx,driver>=535,driver<536";

static void test_cuda_images(void **state)
{
    (void)state;
    struct require_expr *e = NULL;
    assert_int_equal(require_parse(cuda124, &e, NULL), 0);
    assert_string_equal(require_cuda_min(e), "12.4");
    assert_string_equal(require_text(e), cuda124);
    const struct {
        struct require_facts f;
        int want;
    } hosts[] = {
        {{"13.0", "580.95.05", "9.0", "nvidia"}, 1},   /* new driver */
        {{"12.4", "550.54.15", "8.0", "nvidia"}, 1},   /* exactly 12.4 */
        {{"12.2", "535.104.05", "7.5", "tesla"}, 1},   /* R535 LTS branch alternative */
        {{"12.2", "535.104.05", "8.6", "geforce"}, 1}, /* every brand is listed */
        {{NULL, "535.104.05", "8.6", "GeForce"}, 1},   /* CUDA derived, brand any case */
        {{"12.0", "525.60.13", "8.0", "unknown"}, 1},  /* R525 alternative */
        {{"11.4", "470.82.01", "7.0", "tesla"}, 1},    /* R470 alternative */
        {{"12.3", "545.23.08", "8.6", "geforce"}, 0},  /* between branches */
        {{"12.1", "530.30.02", "8.6", "tesla"}, 0},    /* between branches */
        {{"11.8", "520.61.05", "8.0", "tesla"}, 0},
        {{"12.2", "535.104.05", "8.6", "vgpu"}, 0}, /* a brand not listed */
        {{"12.2", "535.104.05", "8.6", NULL}, 0},   /* brand unknown to the host */
        {{"11.0", "450.80.02", "8.0", "tesla"}, 0},
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(hosts); i++) {
        gctk_error *err = NULL;
        int r = require_eval(e, &hosts[i].f, &err);
        if (r != hosts[i].want)
            fail_msg("host %zu (driver %s): got %d: %s", i, hosts[i].f.driver, r,
                     err != NULL ? err->msg : "");
        assert_true((err != NULL) == (r == 0));
        gctk_error_free(err);
    }
    gctk_error *err = NULL;
    assert_int_equal(require_eval(e, &rtx_545, &err), 0);
    assert_string_equal(err->msg,
                        "unsatisfied requirement `cuda>=12.4`: this image needs CUDA >= 12.4, "
                        "which needs driver >= 550.54.14; this host has driver 545.23.08 (CUDA "
                        "12.3): upgrade the driver; no other alternative holds: `brand=tesla` "
                        "(GPU brand geforce), `brand=unknown` (GPU brand geforce), "
                        "`brand=nvidia` (GPU brand geforce), `brand=nvidiartx` (GPU brand "
                        "geforce), `driver<471` (host driver 545.23.08), `brand=geforcertx` "
                        "(GPU brand geforce), `brand=quadro` (GPU brand geforce), "
                        "`brand=quadrortx` (GPU brand geforce), `brand=titan` (GPU brand "
                        "geforce), `brand=titanrtx` (GPU brand geforce), `driver<526` (host "
                        "driver 545.23.08), `driver<536` (host driver 545.23.08)");
    gctk_error_free(err);
    require_free(e);

    /* a 13.0 image: only cuda>=13.0 plus the R535/R550/R570 branches */
    assert_int_equal(eval("cuda>=13.0 brand=tesla,driver>=535,driver<536 "
                          "brand=tesla,driver>=550,driver<551 brand=tesla,driver>=570,driver<571",
                          &t4_535),
                     1);
    assert_int_equal(eval("cuda>=13.0 brand=tesla,driver>=535,driver<536", &rtx_545), 0);
}

static void test_check_env(void **state)
{
    (void)state;
    gctk_error *err = NULL;
    char *none[] = {"PATH=/usr/bin", "CUDA_VERSION=12.4.1", NULL};
    assert_int_equal(require_check_env(none, &t4_535, true, &err), 1);
    assert_int_equal(require_check_env(NULL, &t4_535, true, &err), 1);
    assert_null(err);

    char *ok[] = {"NVIDIA_REQUIRE_CUDA=cuda>=12.0", "NVIDIA_REQUIRE_DRIVER=driver>=535", NULL};
    assert_int_equal(require_check_env(ok, &t4_535, true, &err), 1);

    /* several variables are ANDed; the failing one is named */
    char *two[] = {"NVIDIA_REQUIRE_CUDA=cuda>=12.0", "NVIDIA_REQUIRE_ARCH=arch>=8.0", NULL};
    assert_int_equal(require_check_env(two, &t4_535, true, &err), 0);
    assert_string_equal(err->msg, "NVIDIA_REQUIRE_ARCH: unsatisfied requirement `arch>=8.0`: "
                                  "this image needs a GPU of compute capability >= 8.0; this GPU "
                                  "has 7.5");
    gctk_error_free(err);
    err = NULL;

    /* any NVIDIA_REQUIRE_<X> counts, an empty one asks nothing */
    char *custom[] = {"NVIDIA_REQUIRE_MYTHING=brand=nvidia", "NVIDIA_REQUIRE_EMPTY=", NULL};
    assert_int_equal(require_check_env(custom, &t4_535, true, &err), 0);
    assert_non_null(strstr(err->msg, "NVIDIA_REQUIRE_MYTHING: unsatisfied requirement"));
    gctk_error_free(err);
    err = NULL;
    assert_int_equal(require_check_env(custom, &h100, true, &err), 1);

    /* NVIDIA_DISABLE_REQUIRE */
    const char *yes[] = {"true", "1", "yes", "TRUE", "On"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(yes); i++) {
        cleanup_free char *d = xasprintf("NVIDIA_DISABLE_REQUIRE=%s", yes[i]);
        char *env[] = {"NVIDIA_REQUIRE_CUDA=cuda>=99.0", d, NULL};
        assert_int_equal(require_check_env(env, &t4_535, true, &err), 1);
        /* not honoured: the requirement still applies */
        assert_int_equal(require_check_env(env, &t4_535, false, &err), 0);
        gctk_error_free(err);
        err = NULL;
    }
    const char *no[] = {"false", "0", "no", "", "OFF"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(no); i++) {
        cleanup_free char *d = xasprintf("NVIDIA_DISABLE_REQUIRE=%s", no[i]);
        char *env[] = {d, "NVIDIA_REQUIRE_CUDA=cuda>=99.0", NULL};
        assert_int_equal(require_check_env(env, &t4_535, true, &err), 0);
        gctk_error_free(err);
        err = NULL;
    }
    /* the last entry wins */
    char *last[] = {"NVIDIA_DISABLE_REQUIRE=true", "NVIDIA_REQUIRE_CUDA=cuda>=99",
                    "NVIDIA_DISABLE_REQUIRE=false", NULL};
    assert_int_equal(require_check_env(last, &t4_535, true, &err), 0);
    gctk_error_free(err);
    err = NULL;
    assert_false(require_disabled(last, NULL));
    assert_false(require_disabled(none, NULL));
    assert_false(require_disabled(NULL, NULL));
    char *on[] = {"NVIDIA_DISABLE_REQUIRE=Yes", NULL};
    assert_true(require_disabled(on, NULL));
    /* any other value leaves the requirements on, as NVIDIA's toolkit does
     * (Go's ParseBool fails, which it takes as false); it is said, not an
     * error: the hook logs it, compat and doctor print it */
    char *maybe[] = {"NVIDIA_DISABLE_REQUIRE=maybe", NULL};
    cleanup_free char *note = NULL;
    assert_false(require_disabled(maybe, &note));
    assert_string_equal(note, "NVIDIA_DISABLE_REQUIRE=`maybe` is not true or false: the "
                              "requirements are checked (as NVIDIA's toolkit does)");
    assert_int_equal(require_check_env(maybe, &t4_535, true, &err), 1);
    assert_null(err);
    char *maybe_req[] = {"NVIDIA_DISABLE_REQUIRE=maybe", "NVIDIA_REQUIRE_CUDA=cuda>=99.0", NULL};
    assert_int_equal(require_check_env(maybe_req, &t4_535, true, &err), 0);
    gctk_error_free(err);
    err = NULL;
    /* Go's spellings: t and f */
    char *t[] = {"NVIDIA_DISABLE_REQUIRE=T", NULL}, *f[] = {"NVIDIA_DISABLE_REQUIRE=f", NULL};
    assert_true(require_disabled(t, NULL));
    assert_false(require_disabled(f, NULL));

    /* a variable defined twice counts once, with its last value (NVIDIA's
     * toolkit reads the environment into a map); an empty last value drops it */
    char *twice[] = {"NVIDIA_REQUIRE_CUDA=cuda>=99.0", "NVIDIA_REQUIRE_ARCH=arch>=7.0",
                     "NVIDIA_REQUIRE_CUDA=cuda>=12.0", NULL};
    assert_int_equal(require_check_env(twice, &t4_535, true, &err), 1);
    char *twice_bad[] = {"NVIDIA_REQUIRE_CUDA=cuda>=12.0", "NVIDIA_REQUIRE_CUDA=cuda>=99.0", NULL};
    assert_int_equal(require_check_env(twice_bad, &t4_535, true, &err), 0);
    assert_non_null(strstr(err->msg, "NVIDIA_REQUIRE_CUDA: unsatisfied requirement `cuda>=99.0`"));
    gctk_error_free(err);
    err = NULL;
    char *dropped[] = {"NVIDIA_REQUIRE_CUDA=cuda>=99.0", "NVIDIA_REQUIRE_CUDA=", NULL};
    assert_int_equal(require_check_env(dropped, &t4_535, true, &err), 1);
    struct strv names = {0}, exprs = {0};
    require_collect(twice, &names, &exprs);
    assert_int_equal(exprs.len, 2);
    assert_string_equal(names.items[0], "NVIDIA_REQUIRE_ARCH");
    assert_string_equal(exprs.items[0], "arch>=7.0");
    assert_string_equal(names.items[1], "NVIDIA_REQUIRE_CUDA");
    assert_string_equal(exprs.items[1], "cuda>=12.0");
    strv_clear(&names);
    strv_clear(&exprs);

    /* the NVIDIA_REQUIRE_JETPACK family is no requirement (L4T images set
     * csv-mounts=all, a switch of NVIDIA's Tegra CSV mode): left out, as
     * NVIDIA's toolkit leaves it out; a name that merely contains it is not */
    char *l4t[] = {"NVIDIA_REQUIRE_JETPACK=csv-mounts=all", "NVIDIA_REQUIRE_JETPACK_HOST_MOUNTS=",
                   "NVIDIA_REQUIRE_JETPACKX=whatever",      "NVIDIA_REQUIRE_CUDA=cuda>=12.0",
                   "NVIDIA_REQUIRE_NOT_JETPACK=cuda>>1",    NULL};
    require_collect(l4t, &names, &exprs);
    assert_int_equal(exprs.len, 2);
    assert_string_equal(names.items[0], "NVIDIA_REQUIRE_CUDA");
    assert_string_equal(names.items[1], "NVIDIA_REQUIRE_NOT_JETPACK");
    strv_clear(&names);
    strv_clear(&exprs);
    char *jetpack_only[] = {"NVIDIA_REQUIRE_JETPACK=csv-mounts=all", NULL};
    assert_int_equal(require_check_env(jetpack_only, &t4_535, true, &err), 1);

    /* malformed: -1 even when an earlier variable is unsatisfied */
    char *bad[] = {"NVIDIA_REQUIRE_CUDA=cuda>=99", "NVIDIA_REQUIRE_X=cuda>>1", NULL};
    assert_int_equal(require_check_env(bad, &t4_535, true, &err), -1);
    assert_string_equal(err->msg, "NVIDIA_REQUIRE_X: requirement `cuda>>1`: unknown operator "
                                  "`>>` at column 5: expected =, !=, <, <=, > or >=");
    gctk_error_free(err);
    err = NULL;
    /* a malformed one is skipped when requirements are disabled */
    char *bad_off[] = {"NVIDIA_REQUIRE_X=cuda>>1", "NVIDIA_DISABLE_REQUIRE=1", NULL};
    assert_int_equal(require_check_env(bad_off, &t4_535, true, &err), 1);
    /* a malformed fact */
    const struct require_facts badf = {NULL, "abc", NULL, NULL};
    char *d[] = {"NVIDIA_REQUIRE_DRIVER=driver>=1", NULL};
    assert_int_equal(require_check_env(d, &badf, true, &err), -1);
    assert_string_equal(err->msg, "NVIDIA_REQUIRE_DRIVER: requirement `driver>=1`: host driver "
                                  "version `abc` is not a dotted number");
    gctk_error_free(err);
    /* an entry with no '=' and look-alike names are ignored */
    char *odd[] = {"NVIDIA_REQUIRE_CUDA", "NVIDIA_REQUIRED=cuda>=99", "XNVIDIA_REQUIRE_A=cuda>=99",
                   NULL};
    assert_int_equal(require_check_env(odd, &t4_535, true, NULL), 1);
}

/* An image's requirement of 200,000 failing alternatives: the error named
 * each new reason after a search of the ones named and rebuilt the whole
 * message for each (quadratic twice); now a few dozen are named, the rest
 * counted. */
static void many_alternatives(void)
{
    struct strbuf b = {0};
    for (int i = 0; i < 200000; i++)
        strbuf_addf(&b, "%sdriver>=%d.%d", i ? " " : "", 900 + i % 50, i);
    struct require_expr *e = NULL;
    gctk_error *err = NULL;
    if (require_parse(b.s, &e, NULL) < 0 || require_eval(e, &h100, &err) != 0)
        _exit(2);
    if (strstr(err->msg, "more alternatives)") == NULL || strlen(err->msg) > 16384)
        _exit(3);
    gctk_error_free(err);
    require_free(e);
    free(b.s);
}

static void test_many_alternatives_bounded(void **state)
{
    (void)state;
    assert_true(within_cpu_seconds(many_alternatives, 30));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_operators),     cmocka_unit_test(test_and_or),
        cmocka_unit_test(test_blanks),        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_unknown_facts), cmocka_unit_test(test_bad_facts),
        cmocka_unit_test(test_explanations),  cmocka_unit_test(test_cuda_images),
        cmocka_unit_test(test_check_env),     cmocka_unit_test(test_many_alternatives_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
