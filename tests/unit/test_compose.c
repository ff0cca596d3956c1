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

static struct compose_version version(const char *v)
{
    struct compose_version out;
    assert_int_equal(compose_version_parse("docker compose", v, &out), 0);
    return out;
}

/* the check of every device of the first service on a host of host_gpus,
 * for Compose v (NULL: the spec) */
static char *check_first_for(const char *name, size_t host_gpus, const struct compose_version *v)
{
    struct compose_file *f = load(name);
    assert_true(f->n_services >= 1);
    const struct compose_service *s = &f->services[0];
    char *out = NULL;
    for (size_t i = 0; i < s->n_devices && out == NULL; i++) {
        gctk_error *err = NULL;
        if (compose_check_device(s, &s->devices[i], v, host_gpus, &err) < 0) {
            out = xstrdup(err->msg);
            gctk_error_free(err);
        }
    }
    compose_file_free(f);
    return out;
}

static char *check_first(const char *name, size_t host_gpus)
{
    return check_first_for(name, host_gpus, NULL);
}

/* compose_device_advice of the first device of the first service of the
 * fixture: warnings and notes joined with " | " ("" when none) */
static void advice_of(const char *name, const struct compose_version *v, char **warnings,
                      char **notes)
{
    struct compose_file *f = load(name);
    struct strv w = {0}, n = {0};
    compose_device_advice(&f->services[0], &f->services[0].devices[0], v, &w, &n);
    struct strv *lists[] = {&w, &n};
    char **outs[] = {warnings, notes};
    for (size_t k = 0; k < 2; k++) {
        char *joined = xstrdup("");
        for (size_t i = 0; i < lists[k]->len; i++) {
            char *next = xasprintf("%s%s%s", joined, i > 0 ? " | " : "", lists[k]->items[i]);
            free(joined);
            joined = next;
        }
        *outs[k] = joined;
        strv_clear(lists[k]);
    }
    compose_file_free(f);
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

    /* no NVIDIA_VISIBLE_DEVICES: the image's decides; environment as a mapping */
    const char *y = "services:\n  a:\n    runtime: nvidia\n    environment:\n"
                    "      NVIDIA_DRIVER_CAPABILITIES: compute\n      EMPTY:\n";
    assert_int_equal(compose_load_buffer("c.yaml", y, strlen(y), &f, NULL), 0);
    assert_null(compose_legacy_visible(&f->services[0]));
    assert_int_equal(f->services[0].runtime_line, 3);
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
    cleanup_free char *one = check_first("count-five.yaml", 1);
    assert_string_equal(one, "service `train`: count 5 exceeds the 1 GPU of this host (line 9)");
    assert_null(check_first("count-five.yaml", 8));
    cleanup_free char *tpu = check_first("unknown-capability.yaml", 4);
    assert_string_equal(tpu, "service `test`: deploy.resources.reservations.devices[0] (line 9): "
                             "could not select device driver \"\" with capabilities: [[gpu tpu]]");
    const char *y = "services:\n  s:\n    gpus:\n      - driver: amd\n";
    struct compose_file *f = NULL;
    assert_int_equal(compose_load_buffer("c.yaml", y, strlen(y), &f, NULL), 0);
    gctk_error *err = NULL;
    assert_int_equal(
        compose_check_device(&f->services[0], &f->services[0].devices[0], NULL, 4, &err), -1);
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

static void test_version_parse(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        unsigned v[3];
    } cases[] = {
        {"1.29.2\n", {1, 29, 2}},
        {"v2.26.1", {2, 26, 1}},
        {"2.26.1-4\n", {2, 26, 1}},
        {"Docker Compose version v2.30.0", {2, 30, 0}},
        {"docker-compose version 1.29.2, build unknown", {1, 29, 2}},
        {"2.30", {2, 30, 0}},
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(cases); i++) {
        struct compose_version v;
        assert_int_equal(compose_version_parse("docker-compose", cases[i].text, &v), 0);
        assert_int_equal(v.major, cases[i].v[0]);
        assert_int_equal(v.minor, cases[i].v[1]);
        assert_int_equal(v.patch, cases[i].v[2]);
    }
    struct compose_version v = version("1.29.2");
    assert_string_equal(v.name, "docker compose 1.29.2");
    struct compose_version untouched = {.major = 7};
    assert_int_equal(compose_version_parse("x", "", &untouched), -1);
    assert_int_equal(compose_version_parse("x", "none", &untouched), -1);
    assert_int_equal(compose_version_parse("x", "2", &untouched), -1);
    assert_int_equal(compose_version_parse("x", NULL, &untouched), -1);
    assert_int_equal(untouched.major, 7);
}

/* What reaches dockerd, per Compose version: docs/compose.md's table */
static void test_what_compose_sends(void **state)
{
    (void)state;
    struct compose_version v127 = version("1.27.4"), v129 = version("1.29.2"),
                           v226 = version("2.26.1"), v230 = version("2.30.0");
    struct compose_file *f = load("gpu-only.yaml");
    const struct compose_device *d = &f->services[0].devices[0];
    long count = 99;
    assert_true(compose_sends(d, NULL, &count));
    assert_int_equal(count, -1); /* the spec: all */
    assert_true(compose_sends(d, &v129, &count));
    assert_int_equal(count, 0); /* 1.29: Count 0 */
    assert_true(compose_sends(d, &v226, &count));
    assert_int_equal(count, -1);
    assert_false(compose_sends(d, &v127, &count)); /* before device reservations */
    compose_file_free(f);

    f = load("count-one.yaml");
    assert_true(compose_sends(&f->services[0].devices[0], &v129, &count));
    assert_int_equal(count, 1);
    compose_file_free(f);

    f = load("gpus-all.yaml");
    d = &f->services[0].devices[0];
    assert_int_equal(compose_gpus_support(NULL), COMPOSE_GPUS_SENT);
    assert_int_equal(compose_gpus_support(&v129), COMPOSE_GPUS_REFUSED);
    assert_int_equal(compose_gpus_support(&v226), COMPOSE_GPUS_IGNORED);
    assert_int_equal(compose_gpus_support(&v230), COMPOSE_GPUS_SENT);
    assert_false(compose_sends(d, &v226, &count));
    assert_true(compose_sends(d, &v230, &count));
    assert_int_equal(count, -1);
    compose_file_free(f);
}

/* Who refuses what: Compose 2 itself, else dockerd */
static void test_version_rules(void **state)
{
    (void)state;
    struct compose_version v129 = version("1.29.2"), v226 = version("2.26.1"),
                           v230 = version("2.30.0");
    cleanup_free char *nocap = check_first_for("no-capabilities.yaml", 4, &v226);
    assert_string_equal(nocap, "service `test`: deploy.resources.reservations.devices[0] (line 9): "
                               "capabilities are required: add `capabilities: [gpu]` (docker "
                               "compose 2.26.1 refuses the file: `capabilities is required`)");
    cleanup_free char *nocap129 = check_first_for("no-capabilities.yaml", 4, &v129);
    assert_non_null(strstr(nocap129, "(dockerd otherwise fails with `could not select device "
                                     "driver \"nvidia\" with capabilities: []`)"));
    cleanup_free char *both = check_first_for("count-and-ids.yaml", 4, &v226);
    assert_non_null(strstr(both, "count and device_ids are mutually exclusive: keep one (docker "
                                 "compose 2.26.1 refuses the file: `\"count\" and \"device_ids\" "
                                 "attributes are exclusive`)"));
    cleanup_free char *gpus129 = check_first_for("gpus-all.yaml", 4, &v129);
    assert_string_equal(gpus129,
                        "service `test`: gpus (line 5): docker compose 1.29.2 refuses the "
                        "service-level `gpus:` key (`Unsupported config option for "
                        "services.test: 'gpus'`); ask under deploy.resources.reservations.devices "
                        "(`capabilities: [gpu]`, `count: all`), which every Compose since 1.28 "
                        "sends");
    assert_null(check_first_for("gpus-all.yaml", 4, &v226));
    assert_null(check_first_for("gpus-all.yaml", 4, &v230));
    /* 1.29's count 0 passes a count check the spec's all would pass too */
    assert_null(check_first_for("gpu-only.yaml", 0, &v129));
    cleanup_free char *five = check_first_for("count-five.yaml", 4, &v226);
    assert_string_equal(five, "service `train`: count 5 exceeds the 4 GPUs of this host (line 9)");
}

static void test_advice(void **state)
{
    (void)state;
    struct compose_version v129 = version("1.29.2"), v226 = version("2.26.1"),
                           v230 = version("2.30.0");
    char *w = NULL, *n = NULL;

    advice_of("gpu-only.yaml", &v129, &w, &n);
    assert_string_equal(w, "");
    assert_string_equal(n, "docker compose 1.29.2 sends count 0 here, not all: dockerd then sets "
                           "no NVIDIA_VISIBLE_DEVICES and the image's decides (none when the "
                           "image sets none); write `count: all` for every GPU with any Compose");
    free(w), free(n);
    advice_of("gpu-only.yaml", &v226, &w, &n);
    assert_string_equal(w, "");
    assert_string_equal(n, "");
    free(w), free(n);
    advice_of("gpu-only.yaml", NULL, &w, &n);
    assert_non_null(strstr(n, "docker-compose 1.29 sends count 0 here"));
    free(w), free(n);

    /* the guide's own [gpu, utility]: no libcuda */
    advice_of("count-one.yaml", &v226, &w, &n);
    assert_string_equal(w, "service `test`: deploy.resources.reservations.devices[0] (line 10): "
                           "capabilities [[gpu utility]] give the container "
                           "NVIDIA_DRIVER_CAPABILITIES=utility, without compute: CUDA programs "
                           "find no libcuda and fail (PyTorch: \"Found no NVIDIA driver on your "
                           "system\"), while nvidia-smi works; add `compute` to the capabilities");
    free(w), free(n);
    advice_of("count-all.yaml", &v226, &w, &n); /* [gpu, compute, utility] */
    assert_string_equal(w, "");
    free(w), free(n);

    advice_of("gpus-all.yaml", &v226, &w, &n);
    assert_string_equal(w, "service `test`: gpus (line 5): docker compose 2.26.1 accepts the "
                           "service-level `gpus:` key but sends no device request for it (Compose "
                           "2.30 and later do): the container gets no GPU; ask under "
                           "deploy.resources.reservations.devices (`capabilities: [gpu]`, "
                           "`count: all`), or update Compose");
    free(w), free(n);
    advice_of("gpus-all.yaml", &v230, &w, &n);
    assert_string_equal(w, "");
    assert_string_equal(n, "");
    free(w), free(n);
    advice_of("gpus-all.yaml", NULL, &w, &n);
    assert_non_null(strstr(n, "Compose before 2.30 sends no device request for the "
                              "service-level `gpus:` key"));
    free(w), free(n);

    /* an explicit count 0, with any Compose or none */
    const char *zero = "services:\n  s:\n    deploy:\n      resources:\n        reservations:\n"
                       "          devices:\n            - {count: 0, capabilities: [gpu]}\n";
    struct compose_file *z = NULL;
    assert_int_equal(compose_load_buffer("c.yaml", zero, strlen(zero), &z, NULL), 0);
    const struct compose_version *all[] = {NULL, &v129, &v226};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(all); i++) {
        struct strv zw = {0}, zn = {0};
        compose_device_advice(&z->services[0], &z->services[0].devices[0], all[i], &zw, &zn);
        assert_int_equal(zw.len, 0);
        assert_int_equal(zn.len, 1);
        assert_string_equal(zn.items[0], "count 0 reserves no GPU: dockerd then sets no "
                                         "NVIDIA_VISIBLE_DEVICES and the image's decides (none "
                                         "when the image sets none)");
        strv_clear(&zn);
    }
    compose_file_free(z);

    /* video brings the compute libraries */
    struct compose_file *f = load("gpus-all.yaml");
    struct strv ws = {0}, ns = {0};
    compose_device_advice(&f->services[1], &f->services[1].devices[0], &v230, &ws, &ns);
    assert_int_equal(ws.len, 0);
    compose_file_free(f);

    const char *y = "services:\n  a:\n    runtime: nvidia\n    environment:\n"
                    "      - NVIDIA_DRIVER_CAPABILITIES=utility\n  b:\n    runtime: nvidia\n";
    assert_int_equal(compose_load_buffer("c.yaml", y, strlen(y), &f, NULL), 0);
    compose_runtime_advice(&f->services[0], &ws);
    compose_runtime_advice(&f->services[1], &ws);
    assert_int_equal(ws.len, 1);
    assert_string_equal(ws.items[0], "service `a`: runtime (line 3): NVIDIA_DRIVER_CAPABILITIES="
                                     "utility, without compute: CUDA programs find no libcuda and "
                                     "fail (PyTorch: \"Found no NVIDIA driver on your system\"), "
                                     "while nvidia-smi works; add compute to it");
    strv_clear(&ws);
    compose_file_free(f);
}

static void test_runtime_check(void **state)
{
    (void)state;
    struct compose_file *f = load("legacy-runtime.yaml");
    const struct compose_service *s = &f->services[0];
    assert_int_equal(s->runtime_line, 7);
    struct compose_daemon d = {.where = "dockerd at `unix:///var/run/docker.sock`",
                               .daemon_json = "/etc/docker/daemon.json"};
    strv_push(&d.runtimes, xstrdup("io.containerd.runc.v2"));
    strv_push(&d.runtimes, xstrdup("runc"));
    gctk_error *err = NULL;
    assert_int_equal(compose_check_runtime(s, &d, &err), -1);
    assert_string_equal(err->what, "service `test`: runtime (line 7): dockerd at "
                                   "`unix:///var/run/docker.sock` has no runtime `nvidia` (it has "
                                   "io.containerd.runc.v2, runc), so the container does not start");
    assert_string_equal(err->hint,
                        "gctk runtime configure --runtime=docker && systemctl restart docker");
    assert_non_null(strstr(err->msg, "does not start; gctk runtime configure"));
    gctk_error_free(err);
    err = NULL;

    /* daemon.json has it, dockerd has not loaded it */
    strv_push(&d.configured, xstrdup("nvidia"));
    assert_int_equal(compose_check_runtime(s, &d, &err), -1);
    assert_non_null(strstr(err->what, "`/etc/docker/daemon.json` has it, but dockerd has not "
                                      "loaded it"));
    assert_string_equal(err->hint, "systemctl restart docker");
    gctk_error_free(err);
    err = NULL;
    strv_clear(&d.configured);

    strv_push(&d.runtimes, xstrdup("nvidia"));
    assert_int_equal(compose_check_runtime(s, &d, &err), 0);
    strv_clear(&d.runtimes);
    compose_file_free(f);

    /* another runtime name, another daemon.json */
    const char *y = "services:\n  a:\n    runtime: nvidia-cdi\n  b:\n    image: x\n";
    assert_int_equal(compose_load_buffer("c.yaml", y, strlen(y), &f, NULL), 0);
    d.daemon_json = "/srv/docker/daemon.json";
    d.where = "`/srv/docker/daemon.json`";
    strv_push(&d.runtimes, xstrdup("runc"));
    assert_int_equal(compose_check_runtime(&f->services[0], &d, &err), -1);
    assert_non_null(strstr(err->msg, "`/srv/docker/daemon.json` has no runtime `nvidia-cdi` (it "
                                     "has runc), so the container does not start; gctk runtime "
                                     "configure --runtime=docker --runtime-name nvidia-cdi "
                                     "--config /srv/docker/daemon.json && systemctl restart "
                                     "docker"));
    gctk_error_free(err);
    assert_int_equal(compose_check_runtime(&f->services[1], &d, NULL), 0);
    strv_clear(&d.runtimes);
    compose_file_free(f);
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
        cmocka_unit_test(test_version_parse),
        cmocka_unit_test(test_what_compose_sends),
        cmocka_unit_test(test_version_rules),
        cmocka_unit_test(test_advice),
        cmocka_unit_test(test_runtime_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
