/* Unit tests of lib/engines/compose.c on the fixtures of tests/compose: every example
 * of Docker's Compose GPU guide and the errors of the Compose spec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <limits.h>
#include <string.h>

#include "compose.h"

/* tests/compose/NAME. Meson compiles from the build root, so __FILE__ is
 * relative to it, and the build root is two levels above this program. */
static char *fixture(const char *name)
{
    const char *src = getenv("GCTK_SOURCE_DIR");
    if (src != NULL)
        return xasprintf("%s/tests/compose/%s", src, name);
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    assert_true(n > 0);
    self[n] = '\0';
    cleanup_free char *file = xstrdup(__FILE__);
    *strrchr(file, '/') = '\0'; /* .../tests/unit */
    if (file[0] == '/')
        return xasprintf("%s/../compose/%s", file, name);
    *strrchr(self, '/') = '\0';
    return xasprintf("%s/../../%s/../compose/%s", self, file, name);
}

static struct compose_file *load(const char *name)
{
    cleanup_free char *path = fixture(name);
    struct compose_file *f = NULL;
    gctk_error *err = NULL;
    if (compose_load(path, &f, &err) < 0)
        fail_msg("%s: %s", name, err->msg);
    return f;
}

static char *load_error(const char *yaml)
{
    struct compose_file *f = NULL;
    gctk_error *err = NULL;
    assert_int_equal(compose_load_buffer("compose.yaml", yaml, strlen(yaml), &f, &err), -1);
    assert_null(f);
    char *s = xstrdup(err->msg);
    gctk_error_free(err);
    return s;
}

/* the check of every device of the first service on a host of host_gpus */
static char *check_first(const char *name, size_t host_gpus)
{
    struct compose_file *f = load(name);
    assert_true(f->n_services >= 1);
    const struct compose_service *s = &f->services[0];
    char *out = NULL;
    for (size_t i = 0; i < s->n_devices && out == NULL; i++) {
        gctk_error *err = NULL;
        if (compose_check_device(s, &s->devices[i], host_gpus, &err) < 0) {
            out = xstrdup(err->msg);
            gctk_error_free(err);
        }
    }
    compose_file_free(f);
    return out;
}

static char *env_of(const struct compose_device *d)
{
    char *vis = NULL, *caps = NULL;
    gctk_error *err = NULL;
    if (device_request_to_env(&d->req, &vis, &caps, &err) < 0) {
        char *s = xstrdup(err->msg);
        gctk_error_free(err);
        return s;
    }
    char *s = xasprintf("%s|%s", vis ? vis : "(unset)", caps ? caps : "(unset)");
    free(vis);
    free(caps);
    return s;
}

static void test_legacy_runtime(void **state)
{
    (void)state;
    struct compose_file *f = load("legacy-runtime.yaml");
    assert_int_equal(f->n_services, 1);
    const struct compose_service *s = &f->services[0];
    assert_string_equal(s->name, "test");
    assert_string_equal(s->runtime, "nvidia");
    assert_int_equal(s->n_devices, 0);
    assert_string_equal(compose_legacy_visible(s), "1,2");
    compose_file_free(f);

    /* no NVIDIA_VISIBLE_DEVICES: all; environment as a mapping */
    const char *y = "services:\n  a:\n    runtime: nvidia\n    environment:\n"
                    "      NVIDIA_DRIVER_CAPABILITIES: compute\n      EMPTY:\n";
    assert_int_equal(compose_load_buffer("c.yaml", y, strlen(y), &f, NULL), 0);
    assert_string_equal(compose_legacy_visible(&f->services[0]), "all");
    assert_string_equal(compose_service_env(&f->services[0], "NVIDIA_DRIVER_CAPABILITIES"),
                        "compute");
    assert_null(compose_service_env(&f->services[0], "EMPTY"));
    assert_string_equal(f->services[0].env.items[1], "EMPTY");
    compose_file_free(f);
}

static void test_count_one(void **state)
{
    (void)state;
    struct compose_file *f = load("count-one.yaml");
    const struct compose_device *d = &f->services[0].devices[0];
    assert_int_equal(f->services[0].n_devices, 1);
    assert_string_equal(d->req.driver, "nvidia");
    assert_int_equal(d->req.count, 1);
    assert_true(d->req.has_count);
    assert_int_equal(d->line, 10);
    assert_int_equal(d->req.caps.len, 2);
    cleanup_free char *env = env_of(d);
    assert_string_equal(env, "0|utility");
    assert_null(check_first("count-one.yaml", 1));
    compose_file_free(f);
}

static void test_gpu_only_is_all(void **state)
{
    (void)state;
    struct compose_file *f = load("gpu-only.yaml");
    const struct compose_device *d = &f->services[0].devices[0];
    assert_int_equal(d->req.count, -1);
    assert_false(d->req.has_count);
    assert_null(d->req.driver);
    cleanup_free char *env = env_of(d);
    assert_string_equal(env, "all|(unset)");
    assert_null(check_first("gpu-only.yaml", 0));
    compose_file_free(f);
}

static void test_device_ids(void **state)
{
    (void)state;
    struct compose_file *f = load("device-ids.yaml");
    const struct compose_device *d = &f->services[0].devices[0];
    assert_int_equal(d->req.ids.len, 2);
    assert_string_equal(d->req.ids.items[0], "0");
    assert_string_equal(d->req.ids.items[1], "3");
    assert_int_equal(d->req.count, 0);
    cleanup_free char *env = env_of(d);
    assert_string_equal(env, "0,3|(unset)");
    /* ids are resolved by gctk_select, not against a count */
    assert_null(check_first("device-ids.yaml", 1));
    compose_file_free(f);
}

static void test_count_all_and_options(void **state)
{
    (void)state;
    struct compose_file *f = load("count-all.yaml");
    const struct compose_device *d = &f->services[0].devices[0];
    assert_string_equal(f->services[0].name, "train");
    assert_int_equal(d->req.count, -1);
    assert_int_equal(d->req.options.len, 1);
    assert_string_equal(d->req.options.items[0], "virtualization=false");
    cleanup_free char *env = env_of(d);
    assert_string_equal(env, "all|compute,utility");
    compose_file_free(f);
}

static void test_gpus_key(void **state)
{
    (void)state;
    struct compose_file *f = load("gpus-all.yaml");
    assert_int_equal(f->n_services, 2);
    const struct compose_device *a = &f->services[0].devices[0];
    const struct compose_device *b = &f->services[1].devices[0];
    assert_int_equal(a->source, COMPOSE_GPUS_ALL);
    cleanup_free char *fa = compose_device_field(a);
    cleanup_free char *fb = compose_device_field(b);
    assert_string_equal(fa, "gpus");
    assert_string_equal(fb, "gpus[0]");
    cleanup_free char *ea = env_of(a);
    cleanup_free char *eb = env_of(b);
    assert_string_equal(ea, "all|(unset)");
    assert_string_equal(eb, "1|video");
    compose_file_free(f);
}

static void test_rule_errors(void **state)
{
    (void)state;
    cleanup_free char *nocap = check_first("no-capabilities.yaml", 4);
    assert_string_equal(nocap, "service `test`: deploy.resources.reservations.devices[0] (line 9): "
                               "capabilities are required: add `capabilities: [gpu]` (dockerd "
                               "otherwise fails with `could not select device driver \"nvidia\" "
                               "with capabilities: []`)");
    cleanup_free char *both = check_first("count-and-ids.yaml", 4);
    assert_non_null(strstr(both, "count and device_ids are mutually exclusive"));
    assert_non_null(strstr(both, "cannot set both Count and DeviceIDs on device request"));
    cleanup_free char *five = check_first("count-five.yaml", 4);
    assert_string_equal(five, "service `train`: count 5 exceeds the 4 GPUs of this host (line 9)");
    assert_null(check_first("count-five.yaml", 8));
    cleanup_free char *tpu = check_first("unknown-capability.yaml", 4);
    assert_string_equal(tpu, "service `test`: deploy.resources.reservations.devices[0] (line 9): "
                             "could not select device driver \"\" with capabilities: [[gpu tpu]]");
    const char *y = "services:\n  s:\n    gpus:\n      - driver: amd\n";
    struct compose_file *f = NULL;
    assert_int_equal(compose_load_buffer("c.yaml", y, strlen(y), &f, NULL), 0);
    gctk_error *err = NULL;
    assert_int_equal(compose_check_device(&f->services[0], &f->services[0].devices[0], 4, &err),
                     -1);
    assert_non_null(strstr(err->msg, "driver `amd` is not nvidia"));
    gctk_error_free(err);
    compose_file_free(f);
}

static void test_type_errors(void **state)
{
    (void)state;
    cleanup_free char *path = fixture("count-string.yaml");
    struct compose_file *f = NULL;
    gctk_error *err = NULL;
    assert_int_equal(compose_load(path, &f, &err), -1);
    cleanup_free char *want = xasprintf(
        "`%s` line 10: service `train`: deploy.resources.reservations.devices[0].count: `two` is "
        "not an integer or \"all\"",
        path);
    assert_string_equal(err->msg, want);
    gctk_error_free(err);

    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"services:\n  s:\n    deploy:\n      resources:\n        reservations:\n          "
         "devices:\n"
         "            - device_ids: [0]\n              capabilities: [gpu]\n",
         "`compose.yaml` line 7: service `s`: deploy.resources.reservations.devices[0]."
         "device_ids[0]: `0` is a number, not a string: quote it ('0')"},
        {"services:\n  s:\n    deploy:\n      resources:\n        reservations:\n          "
         "devices:\n"
         "            - count: [1]\n",
         "`compose.yaml` line 7: service `s`: deploy.resources.reservations.devices[0].count: "
         "must be an integer or \"all\", not a list"},
        {"services:\n  s:\n    deploy:\n      resources:\n        reservations:\n          "
         "devices:\n"
         "            - count: \"2\"\n",
         "`compose.yaml` line 7: service `s`: deploy.resources.reservations.devices[0].count: "
         "`2` is not an integer or \"all\""},
        {"services:\n  s:\n    deploy:\n      resources:\n        reservations:\n          "
         "devices:\n"
         "            - capabilities: gpu\n",
         "`compose.yaml` line 7: service `s`: deploy.resources.reservations.devices[0]."
         "capabilities: must be a list, not a string"},
        {"services:\n  s:\n    deploy:\n      resources:\n        reservations:\n          "
         "devices:\n"
         "            - capability: [gpu]\n",
         "`compose.yaml` line 7: service `s`: deploy.resources.reservations.devices[0]: unknown "
         "key "
         "`capability`: a device has capabilities, count, device_ids, driver and options"},
        {"services:\n  s:\n    deploy:\n      resources:\n        reservations:\n          "
         "devices:\n"
         "            capabilities: [gpu]\n",
         "`compose.yaml` line 7: service `s`: deploy.resources.reservations.devices: must be a "
         "list, not a mapping"},
        {"services:\n  s:\n    gpus: 2\n",
         "`compose.yaml` line 3: service `s`: gpus: must be \"all\" or a list of devices, not a "
         "number `2`"},
        {"services:\n  s:\n    runtime: [nvidia]\n",
         "`compose.yaml` line 3: service `s`: runtime: must be a string, not a list"},
        {"services:\n  s:\n    gpus:\n      - driver: yes\n",
         "`compose.yaml` line 4: service `s`: gpus[0].driver: `yes` is a boolean, not a string: "
         "quote it ('yes')"},
        {"services:\n  s: 1\n",
         "`compose.yaml` line 2: service `s`: definition: must be a mapping, not a number"},
        {"- a\n", "`compose.yaml` line 1: top level: must be a mapping, not a list"},
        {"services: [a]\n", "`compose.yaml` line 1: services: must be a mapping, not a list"},
        {"services:\n  s:\n    image: [a\n",
         "`compose.yaml` line 4 column 1: did not find expected ',' or ']' while parsing a flow "
         "sequence"},
        {"", "`compose.yaml`: empty file: a Compose file needs `services:`"},
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(cases); i++) {
        cleanup_free char *got = load_error(cases[i].yaml);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu\n  got  %s\n  want %s", i, got, cases[i].want);
    }
}

static void test_merge_keys_and_aliases(void **state)
{
    (void)state;
    const char *y =
        "x-gpu: &gpu\n"
        "  deploy:\n    resources:\n      reservations:\n        devices:\n"
        "          - driver: nvidia\n            count: 2\n            capabilities: [gpu]\n"
        "services:\n"
        "  a:\n    <<: *gpu\n    image: x\n"
        "  b:\n    deploy: {resources: {reservations: {devices: [{capabilities: [gpu], count: "
        "1}]}}}\n"
        "    <<: *gpu\n"
        "  c:\n    image: plain\n";
    struct compose_file *f = NULL;
    gctk_error *err = NULL;
    if (compose_load_buffer("c.yaml", y, strlen(y), &f, &err) < 0)
        fail_msg("%s", err->msg);
    assert_int_equal(f->n_services, 3);
    assert_int_equal(f->services[0].n_devices, 1);
    assert_int_equal(f->services[0].devices[0].req.count, 2);
    /* a key set on the service wins over the merged one */
    assert_int_equal(f->services[1].devices[0].req.count, 1);
    assert_int_equal(f->services[2].n_devices, 0);
    assert_null(f->services[2].runtime);
    compose_file_free(f);
    compose_file_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_legacy_runtime),
        cmocka_unit_test(test_count_one),
        cmocka_unit_test(test_gpu_only_is_all),
        cmocka_unit_test(test_device_ids),
        cmocka_unit_test(test_count_all_and_options),
        cmocka_unit_test(test_gpus_key),
        cmocka_unit_test(test_rule_errors),
        cmocka_unit_test(test_type_errors),
        cmocka_unit_test(test_merge_keys_and_aliases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
