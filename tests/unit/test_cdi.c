/* Unit tests of lib/cdi/: the spec of a simulated 2-GPU host against golden
 * files (tests/cdi/golden; GCTK_UPDATE_GOLDEN=1 rewrites them), JSON and YAML
 * round trips, the cdiVersion rules, each validation finding, resolving and
 * applying edits, the engines' drop-ins and the symlink and ld.so.cache hooks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>

#include "bounds.h"
#include "cdi.h"
#include "inject.h"
#include "layout.h"
#include "ldcache.h"
#include "sim.h"
#include "testutil.h"

static char tmp[64];
static char *host_root; /* tmp/host: the simulated host */
/* tmp/host-libs: one whose files a test changes, and when it was made (a
 * discovery cache is stored only for files older than two seconds) */
static char *libs_root;
static time_t libs_made;
static char *source_dir;

static char *exe_dir(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    assert_true(n > 0);
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0';
    return xstrdup(exe);
}

/* build/tests/unit/test_cdi: the mocks in build/sim, the source tree named
 * in build/meson-info/meson-info.json */
static int group_setup(void **state)
{
    (void)state;
    cleanup_free char *dir = exe_dir();
    cleanup_free char *sim = xasprintf("%s/../../sim", dir);
    setenv("GCTK_SIM_DIR", sim, 1);
    cleanup_free char *info = xasprintf("%s/../../meson-info/meson-info.json", dir);
    json_t *j = json_load_file(info, 0, NULL);
    const char *src =
        json_string_value(json_object_get(json_object_get(j, "directories"), "source"));
    source_dir = src ? xstrdup(src) : NULL;
    json_decref(j);
    snprintf(tmp, sizeof(tmp), "/tmp/gctk-test-cdi.XXXXXX");
    if (mkdtemp(tmp) == NULL)
        return -1;
    host_root = xasprintf("%s/host", tmp);
    struct gctk_sim_options o;
    gctk_sim_options_init(&o);
    o.gpus = 2;
    gctk_error *err = NULL;
    libs_root = xasprintf("%s/host-libs", tmp);
    if (gctk_sim_create(host_root, &o, NULL, &err) < 0 ||
        gctk_sim_create(libs_root, &o, NULL, &err) < 0) {
        fprintf(stderr, "# gctk_sim_create: %s\n", err->msg);
        gctk_error_free(err);
        return -1;
    }
    libs_made = time(NULL);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    nftw(tmp, test_rm_entry, 32, FTW_DEPTH | FTW_PHYS);
    free(host_root);
    free(libs_root);
    free(source_dir);
    return 0;
}

static json_t *generate_with(const char *root, unsigned naming, bool runtime_mounts)
{
    gctk_host *h = NULL;
    gctk_error *err = NULL;
    if (gctk_host_open(root, GCTK_HOST_NO_NVML, &h, &err) < 0)
        fail_msg("host: %s", err->msg);
    struct cdi_options o = {
        .naming = naming, .gctk_path = "/usr/bin/gctk", .runtime_mounts = runtime_mounts};
    json_t *spec = NULL;
    if (cdi_generate(h, &o, &spec, &err) < 0)
        fail_msg("generate: %s", err->msg);
    gctk_host_free(h);
    return spec;
}

static json_t *generate_at(const char *root, unsigned naming)
{
    return generate_with(root, naming, false);
}

static json_t *generate(unsigned naming)
{
    return generate_at(host_root, naming);
}

/* The spec of `gctk cdi generate --runtime-mounts`: the driver's files as
 * containerEdits.mounts, as earlier gctk versions and other tools write them */
static json_t *generate_runtime_mounts(unsigned naming)
{
    return generate_with(host_root, naming, true);
}

/* The values of the "--mount" options of a hook's args, in order (a new array) */
static json_t *mount_values(const json_t *args)
{
    json_t *out = json_array();
    for (size_t i = 0; i + 1 < json_array_size(args); i++)
        if (strcmp(json_string_value(json_array_get(args, i)), "--mount") == 0)
            json_array_append(out, json_array_get(args, i + 1));
    return out;
}

/* The "--mount" arguments of the spec's one hook, in order (a new array) */
static json_t *spec_hook_mounts(const json_t *spec)
{
    json_t *hooks = json_object_get(json_object_get(spec, "containerEdits"), "hooks");
    return mount_values(json_object_get(json_array_get(hooks, 0), "args"));
}

/* text with the host's root replaced by @ROOT@ */
static char *rooted(const char *text)
{
    size_t rl = strlen(host_root), n = 0;
    char *out = xmalloc(strlen(text) + 1);
    for (const char *p = text; *p;) {
        if (strncmp(p, host_root, rl) == 0) {
            out = xrealloc(out, strlen(text) + n + 8);
            memcpy(out + n, "@ROOT@", 6);
            n += 6;
            p += rl;
        } else {
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
    return out;
}

static void compare_golden(const char *name, const char *text)
{
    if (source_dir == NULL)
        skip();
    cleanup_free char *path = xasprintf("%s/tests/cdi/golden/%s", source_dir, name);
    cleanup_free char *got = rooted(text);
    if (getenv("GCTK_UPDATE_GOLDEN") != NULL) {
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs(got, f);
        fclose(f);
    }
    cleanup_free char *want = NULL;
    gctk_error *err = NULL;
    if (read_file(path, 1 << 22, &want, NULL, &err) < 0)
        fail_msg("%s (GCTK_UPDATE_GOLDEN=1 writes it)", err->msg);
    if (strcmp(want, got) != 0)
        fail_msg("`%s` differs from the output:\n%s", path, got);
}

static void test_golden_json(void **state)
{
    (void)state;
    json_t *spec = generate(CDI_NAME_INDEX);
    cleanup_free char *text = cdi_to_json(spec);
    compare_golden("sim-2gpu.json", text);
    json_decref(spec);
}

static void test_golden_yaml(void **state)
{
    (void)state;
    json_t *spec = generate(CDI_NAME_BOTH);
    cleanup_free char *text = NULL;
    size_t len = 0;
    assert_int_equal(cdi_to_yaml(spec, &text, &len, NULL), 0);
    assert_int_equal(len, strlen(text));
    compare_golden("sim-2gpu-both.yaml", text);
    /* names a YAML reader would take for numbers stay strings */
    assert_non_null(strstr(text, "name: \"0\"\n"));
    json_decref(spec);
}

static void test_round_trip(void **state)
{
    (void)state;
    for (unsigned naming = CDI_NAME_INDEX; naming <= CDI_NAME_BOTH; naming++) {
        json_t *spec = generate(naming);
        cleanup_free char *js = cdi_to_json(spec);
        cleanup_free char *ys = NULL;
        assert_int_equal(cdi_to_yaml(spec, &ys, NULL, NULL), 0);
        json_t *a = NULL, *b = NULL;
        assert_int_equal(cdi_parse("a.json", js, strlen(js), &a, NULL), 0);
        assert_int_equal(cdi_parse("b.yaml", ys, strlen(ys), &b, NULL), 0);
        assert_true(json_equal(spec, a));
        assert_true(json_equal(spec, b));
        json_decref(a);
        json_decref(b);
        json_decref(spec);
    }
}

static void test_generated_shape(void **state)
{
    (void)state;
    json_t *spec = generate(CDI_NAME_BOTH);
    json_t *devs = json_object_get(spec, "devices");
    /* 0, GPU-..., 1, GPU-..., all */
    assert_int_equal(json_array_size(devs), 5);
    cleanup_free char *uuid0 = gctk_sim_gpu_uuid(0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(devs, 1), "name")), uuid0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(devs, 4), "name")), "all");
    assert_string_equal(json_string_value(json_object_get(spec, "cdiVersion")), "0.5.0");
    /* one hook, with an explicit env: one process per container */
    size_t i;
    json_t *h;
    json_t *hooks = json_object_get(json_object_get(spec, "containerEdits"), "hooks");
    assert_int_equal(json_array_size(hooks), 1);
    json_array_foreach(hooks, i, h)
    {
        assert_string_equal(json_string_value(json_array_get(json_object_get(h, "env"), 0)),
                            CDI_HOOK_PATH_ENV);
        assert_string_equal(json_string_value(json_object_get(h, "hookName")), "createContainer");
        /* gctk is not installed where the tests run */
        json_object_set_new(h, "path", json_string("/bin/sh"));
    }
    /* a device carries no hook of its own: its DRM nodes' by-path names are
     * the top-level hook's node links */
    json_array_foreach(devs, i, h)
        assert_null(json_object_get(json_object_get(h, "containerEdits"), "hooks"));
    /* the driver's files are the hook's to mount, none the runtime's: each
     * mount of --runtime-mounts' spec is a --mount argument, in its order */
    assert_null(json_object_get(json_object_get(spec, "containerEdits"), "mounts"));
    json_t *listed = generate_runtime_mounts(CDI_NAME_BOTH);
    json_t *want = json_object_get(json_object_get(listed, "containerEdits"), "mounts");
    json_t *got = spec_hook_mounts(spec);
    assert_true(json_array_size(want) > 10);
    assert_int_equal(json_array_size(got), json_array_size(want));
    json_array_foreach(want, i, h)
    {
        cleanup_free char *arg =
            xasprintf("%s::%s::", json_string_value(json_object_get(h, "hostPath")),
                      json_string_value(json_object_get(h, "containerPath")));
        if (!str_has_prefix(json_string_value(json_array_get(got, i)), arg))
            fail_msg("--mount %zu: `%s`, not `%s...`", i, json_string_value(json_array_get(got, i)),
                     arg);
        cleanup_free char *host = NULL, *target = NULL;
        unsigned flags = 0, want_flags = 0;
        assert_int_equal(cdi_hook_mount_parse(json_string_value(json_array_get(got, i)), &host,
                                              &target, &flags, NULL),
                         0);
        size_t k;
        json_t *opt;
        json_array_foreach(json_object_get(h, "options"), k, opt)
            assert_true(cdi_hook_mount_option(json_string_value(opt), &want_flags));
        assert_int_equal(flags, want_flags);
    }
    /* nvidia-smi read-only, as runc would have mounted it */
    cleanup_free char *smi =
        xasprintf("%s/usr/bin/nvidia-smi::/usr/bin/nvidia-smi::ro,nosuid,nodev,bind", host_root);
    bool smi_found = false;
    json_array_foreach(got, i, h) smi_found |= strcmp(json_string_value(h), smi) == 0;
    assert_true(smi_found);
    json_decref(got);
    json_decref(listed);
    struct strv problems = {0};
    gctk_host *host = NULL;
    assert_int_equal(gctk_host_open(host_root, GCTK_HOST_NO_NVML, &host, NULL), 0);
    size_t n = cdi_validate(spec, CDI_CHECK_HOST, gctk_host_driver_version(host), &problems);
    for (size_t k = 0; k < problems.len; k++)
        fprintf(stderr, "# %s\n", problems.items[k]);
    assert_int_equal(n, 0);
    gctk_host_free(host);
    strv_clear(&problems);
    json_decref(spec);
}

/* A driver kept under /usr/local/nvidia behind absolute links: every
 * hostPath is the link's target in the root, with no link left in it (a
 * runtime would follow one from the machine's "/"), and each file keeps its
 * usual containerPath. */
static void test_driver_behind_links(void **state)
{
    (void)state;
    cleanup_free char *root = xasprintf("%s/linked", tmp);
    struct gctk_sim_options o;
    gctk_sim_options_init(&o);
    o.gpus = 1;
    o.driver_dir = "/usr/local/nvidia";
    gctk_error *err = NULL;
    if (gctk_sim_create(root, &o, NULL, &err) < 0)
        fail_msg("sim create: %s", err->msg);
    json_t *spec = generate_at(root, CDI_NAME_INDEX);
    static const char *const want[][2] = {
        {"/usr/share/glvnd/egl_vendor.d/10_nvidia.json",
         "/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json"},
        {"/usr/share/vulkan/icd.d/nvidia_icd.json",
         "/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json"},
        {"/etc/OpenCL/vendors/nvidia.icd", "/usr/local/nvidia/etc/OpenCL/vendors/nvidia.icd"},
        {"/usr/bin/nvidia-smi", "/usr/local/nvidia/bin/nvidia-smi"},
        /* found through firmware_class.path, at its own path */
        {"/usr/local/nvidia/firmware/nvidia/580.95.05/gsp_ga10x.bin",
         "/usr/local/nvidia/firmware/nvidia/580.95.05/gsp_ga10x.bin"},
        {"/usr/local/nvidia/lib64/libcuda.so.580.95.05",
         "/usr/local/nvidia/lib64/libcuda.so.580.95.05"},
    };
    size_t found = 0, i;
    json_t *m;
    json_t *args = spec_hook_mounts(spec);
    assert_true(json_array_size(args) > 0);
    json_array_foreach(args, i, m)
    {
        cleanup_free char *host = NULL, *target = NULL;
        unsigned flags = 0;
        assert_int_equal(cdi_hook_mount_parse(json_string_value(m), &host, &target, &flags, NULL),
                         0);
        const char *hp = host, *cp = target;
        char real[PATH_MAX];
        if (realpath(hp, real) == NULL || strcmp(real, hp) != 0)
            fail_msg("hostPath `%s` is not its own real path", hp);
        for (size_t k = 0; k < GCTK_ARRAY_LEN(want); k++) {
            if (strcmp(cp, want[k][0]) != 0)
                continue;
            cleanup_free char *expect = path_join(root, want[k][1]);
            assert_string_equal(hp, expect);
            found++;
        }
    }
    assert_int_equal(found, GCTK_ARRAY_LEN(want));
    json_decref(args);
    json_decref(spec);
}

/* ---- versions ---------------------------------------------------------------- */

static const char *required(const char *text, char **why)
{
    json_t *spec = NULL;
    assert_int_equal(cdi_parse("t.json", text, strlen(text), &spec, NULL), 0);
    const char *v = cdi_required_version(spec, why);
    json_decref(spec);
    return v;
}

static void test_required_version(void **state)
{
    (void)state;
    char *why = NULL;
    assert_string_equal(required("{\"kind\":\"a.com/b\",\"devices\":[{\"name\":\"x\"}]}", &why),
                        "0.3.0");
    assert_null(why);
    assert_string_equal(
        required(
            "{\"kind\":\"a.com/b\",\"devices\":[{\"name\":\"x\",\"containerEdits\":"
            "{\"mounts\":[{\"hostPath\":\"/a\",\"containerPath\":\"/a\",\"type\":\"bind\"}]}}]}",
            &why),
        "0.4.0");
    assert_string_equal(why, "devices[0].containerEdits.mounts[0].type");
    free(why);
    assert_string_equal(required("{\"kind\":\"a.com/b\",\"devices\":[{\"name\":\"0\"}]}", NULL),
                        "0.5.0");
    assert_string_equal(required("{\"kind\":\"a.com/b\",\"devices\":[],\"containerEdits\":{"
                                 "\"deviceNodes\":[{\"path\":\"/dev/x\",\"hostPath\":\"/h/x\"}]}}",
                                 &why),
                        "0.5.0");
    assert_string_equal(why, "containerEdits.deviceNodes[0].hostPath");
    free(why);
    assert_string_equal(required("{\"kind\":\"a.com/b.c\",\"devices\":[]}", NULL), "0.6.0");
    assert_string_equal(required("{\"kind\":\"a.com/b\",\"annotations\":{\"k\":\"v\"}}", NULL),
                        "0.6.0");
    assert_string_equal(
        required("{\"kind\":\"a.com/b\",\"containerEdits\":{\"additionalGids\":[5]}}", NULL),
        "0.7.0");
    assert_string_equal(
        required("{\"kind\":\"a.com/b\",\"containerEdits\":{\"netDevices\":[{}]}}", NULL), "1.1.0");
    assert_int_equal(cdi_version_cmp("0.5.0", "v0.5.0"), 0);
    assert_int_equal(cdi_version_cmp("0.4.0", "0.5.0"), -1);
    assert_int_equal(cdi_version_cmp("0.9.0", "0.5.0"), -2);
}

/* ---- validation ---------------------------------------------------------------- */

static bool has_problem(const struct strv *p, const char *fragment)
{
    for (size_t i = 0; i < p->len; i++)
        if (strstr(p->items[i], fragment) != NULL)
            return true;
    for (size_t i = 0; i < p->len; i++)
        fprintf(stderr, "# problem: %s\n", p->items[i]);
    return false;
}

static void test_validate_findings(void **state)
{
    (void)state;
    json_t *spec = generate(CDI_NAME_INDEX);
    json_t *edits = json_object_get(spec, "containerEdits");
    /* a driver file that is gone (a driver upgrade), as a mount of the spec
     * and as one its hook makes; a --mount argument the hook refuses */
    json_t *mounts = json_pack("[{s:s, s:s}]", "hostPath", "/nonexistent/libcuda.so.1.2.3",
                               "containerPath", "/usr/lib/libcuda.so.1.2.3");
    /* a link left to a file that is gone: mount(2) would follow it */
    cleanup_free char *dangling = xasprintf("%s/libnvidia-cfg.so.1", tmp);
    assert_int_equal(symlink("libnvidia-cfg.so.1.2.3", dangling), 0);
    json_array_append_new(mounts, json_pack("{s:s, s:s}", "hostPath", dangling, "containerPath",
                                            "/usr/lib/libnvidia-cfg.so.1"));
    json_object_set_new(edits, "mounts", mounts);
    json_t *args = json_object_get(json_array_get(json_object_get(edits, "hooks"), 0), "args");
    json_array_append_new(args, json_string("--mount"));
    json_array_append_new(args, json_string("/nonexistent/libnvidia-ml.so.1.2.3::/usr/lib/"
                                            "libnvidia-ml.so.1.2.3::ro,bind"));
    size_t gone_arg = json_array_size(args) - 1;
    json_array_append_new(args, json_string("--mount"));
    json_array_append_new(args, json_string("/bin/sh::/bin/x::ro,rbind"));
    size_t rbind_arg = json_array_size(args) - 1;
    /* a wrong major */
    json_t *node = json_array_get(
        json_object_get(
            json_object_get(json_array_get(json_object_get(spec, "devices"), 1), "containerEdits"),
            "deviceNodes"),
        0);
    json_object_set_new(node, "major", json_integer(194));
    /* an unknown field */
    json_object_set_new(
        json_object_get(json_array_get(json_object_get(spec, "devices"), 0), "containerEdits"),
        "deviceNode", json_array());
    /* a newer version than needed */
    json_object_set_new(spec, "cdiVersion", json_string("0.6.0"));
    /* a hook without env */
    json_object_del(json_array_get(json_object_get(edits, "hooks"), 0), "env");

    struct strv p = {0};
    cdi_validate(spec, CDI_CHECK_HOST, "535.104.05", &p);
    assert_true(has_problem(
        &p, "containerEdits.mounts[0]: hostPath `/nonexistent/libcuda.so.1.2.3` no longer exists"));
    cleanup_free char *dangling_msg =
        xasprintf("containerEdits.mounts[1]: hostPath `%s` no longer exists", dangling);
    assert_true(has_problem(&p, dangling_msg));
    cleanup_free char *gone_msg = xasprintf("containerEdits.hooks[0].args[%zu]: --mount source "
                                            "`/nonexistent/libnvidia-ml.so.1.2.3` no longer exists",
                                            gone_arg);
    assert_true(has_problem(&p, gone_msg));
    cleanup_free char *rbind_msg =
        xasprintf("containerEdits.hooks[0].args[%zu]: mount `/bin/x`: option `rbind` is not one of "
                  "a bind mount's",
                  rbind_arg);
    assert_true(has_problem(&p, rbind_msg));
    cleanup_free char *major_msg = xasprintf(
        "devices[1].containerEdits.deviceNodes[0]: %s/dev/nvidia1 is 195:1 on this host, the spec "
        "says 194:1",
        host_root);
    assert_true(has_problem(&p, major_msg));
    assert_true(has_problem(&p, "devices[0].containerEdits: unknown field `deviceNode`"));
    assert_true(has_problem(&p, "cdiVersion: 0.6.0 is newer than its fields need (0.5.0)"));
    assert_true(has_problem(&p, "containerEdits.hooks[0]: no `env`"));
    assert_true(has_problem(&p, "belongs to driver 580.95.05, this host runs 535.104.05"));
    strv_clear(&p);

    /* too old, and schema-only checks skip the host */
    json_object_set_new(spec, "cdiVersion", json_string("0.3.0"));
    cdi_validate(spec, 0, NULL, &p);
    assert_true(has_problem(&p,
                            "cdiVersion: 0.3.0 is too old for the fields used: devices[0].name: "
                            "`0` starts with a digit (needs 0.5.0)"));
    for (size_t i = 0; i < p.len; i++)
        assert_null(strstr(p.items[i], "no longer exists"));
    strv_clear(&p);
    json_decref(spec);
}

static void test_validate_schema(void **state)
{
    (void)state;
    struct strv p = {0};
    json_t *spec = json_pack(
        "{s:s, s:s, s:[{s:s, s:{s:[{s:s, s:s}], s:[{s:s, s:s, s:[s]}]}}, {s:s, s:{}}]}",
        "cdiVersion", "0.5.0", "kind", "bad/kind/x", "devices", "name", "-x", "containerEdits",
        "mounts", "hostPath", "/a", "containerPath", "rel", "hooks", "hookName", "preStart", "path",
        "/bin/true", "env", "A=1", "name", "-x", "containerEdits");
    cdi_validate(spec, 0, NULL, &p);
    assert_true(has_problem(&p, "kind: `bad/kind/x` is not vendor/class"));
    assert_true(has_problem(&p, "devices[0]: name `-x` is not valid"));
    assert_true(has_problem(&p, "devices[1]: name `-x` appears twice"));
    assert_true(
        has_problem(&p, "devices[0].containerEdits.mounts[0]: `containerPath` must be absolute"));
    assert_true(has_problem(&p, "devices[0].containerEdits.hooks[0]: unknown hookName `preStart`"));
    strv_clear(&p);
    json_decref(spec);
    spec = json_pack("{s:s}", "kind", "a.com/b");
    cdi_validate(spec, 0, NULL, &p);
    assert_true(has_problem(&p, "`cdiVersion` is required"));
    assert_true(has_problem(&p, "devices: must be a non-empty array"));
    strv_clear(&p);
    json_decref(spec);
}

/* ---- parsing ------------------------------------------------------------------------ */

static void test_parse_yaml(void **state)
{
    (void)state;
    const char *y = "cdiVersion: 0.5.0\nkind: a.com/b\ndevices:\n- name: \"0\"\n  containerEdits:\n"
                    "    deviceNodes:\n    - path: /dev/x\n      major: 195\n      minor: 0\n";
    json_t *s = NULL;
    assert_int_equal(cdi_parse("t.yaml", y, strlen(y), &s, NULL), 0);
    json_t *n = json_array_get(
        json_object_get(
            json_object_get(json_array_get(json_object_get(s, "devices"), 0), "containerEdits"),
            "deviceNodes"),
        0);
    assert_true(json_is_integer(json_object_get(n, "major")));
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(s, "devices"), 0), "name")),
                        "0");
    json_decref(s);

    gctk_error *err = NULL;
    const char *bad = "kind: a.com/b\ndevices: [\n";
    assert_int_equal(cdi_parse("bad.yaml", bad, strlen(bad), &s, &err), -1);
    assert_non_null(strstr(err->msg, "`bad.yaml` line"));
    gctk_error_free(err);
    err = NULL;
    const char *dup = "kind: a\nkind: b\n";
    assert_int_equal(cdi_parse("dup.yaml", dup, strlen(dup), &s, &err), -1);
    assert_non_null(strstr(err->msg, "line 2: duplicate key `kind`"));
    gctk_error_free(err);
    err = NULL;
    const char *alias = "a: &x 1\nb: *x\n";
    assert_int_equal(cdi_parse("alias.yaml", alias, strlen(alias), &s, &err), -1);
    assert_non_null(strstr(err->msg, "aliases are not allowed"));
    gctk_error_free(err);
    err = NULL;
    const char *list = "- 1\n";
    assert_int_equal(cdi_parse("list.yaml", list, strlen(list), &s, &err), -1);
    assert_non_null(strstr(err->msg, "must be an object"));
    gctk_error_free(err);
    err = NULL;
    const char *js = "{\"a\": 1, \"a\": 2}";
    assert_int_equal(cdi_parse("d.json", js, strlen(js), &s, &err), -1);
    assert_non_null(strstr(err->msg, "`d.json` line 1"));
    gctk_error_free(err);
}

/* ---- names, resolve, apply -------------------------------------------------------------- */

static void test_names(void **state)
{
    (void)state;
    char *k = NULL, *n = NULL;
    assert_int_equal(cdi_parse_qualified("nvidia.com/gpu=GPU-1234", &k, &n, NULL), 0);
    assert_string_equal(k, "nvidia.com/gpu");
    assert_string_equal(n, "GPU-1234");
    free(k);
    free(n);
    assert_false(cdi_is_qualified("0"));
    assert_false(cdi_is_qualified("nvidia.com/gpu"));
    assert_false(cdi_is_qualified("nvidia.com/gpu=-1"));
    assert_false(cdi_is_qualified("-a.com/gpu=1"));
    assert_true(cdi_is_qualified("a.b-c.com/g_p.u=all"));

    struct strv ann = {0}, out = {0};
    strv_push(&ann, xstrdup("cdi.k8s.io/gpu=nvidia.com/gpu=1, nvidia.com/gpu=2"));
    strv_push(&ann, xstrdup("other=nvidia.com/gpu=3"));
    cdi_annotation_names(&ann, NULL, &out);
    assert_int_equal(out.len, 2);
    assert_string_equal(out.items[1], "nvidia.com/gpu=2");
    /* NVIDIA's annotation-prefixes */
    const char *const prefixes[] = {"other", NULL};
    cdi_annotation_names(&ann, prefixes, &out);
    assert_int_equal(out.len, 3);
    assert_string_equal(out.items[2], "nvidia.com/gpu=3");
    strv_clear(&out);

    /* NVIDIA_VISIBLE_DEVICES as NVIDIA's runtime reads it */
    struct {
        const char *visible, *default_kind, *names, *error;
    } cases[] = {
        {"nvidia.com/gpu=4,nvidia.com/gpu=1", NULL, "nvidia.com/gpu=4 nvidia.com/gpu=1", NULL},
        {"0,1", NULL, "", NULL},
        {"all", NULL, "", NULL},
        /* jit-cdi names are GPU ids: the hook's */
        {"runtime.nvidia.com/gpu=0,runtime.nvidia.com/gpu=all", NULL, "", NULL},
        {"runtime.nvidia.com/gpu=0,1", NULL, "", NULL},
        /* NVIDIA's cdi mode: plain ids are devices of the default kind */
        {"0, all", "nvidia.com/gpu", "nvidia.com/gpu=0 nvidia.com/gpu=all", NULL},
        {"GPU-abc,example.com/nic=1", "nvidia.com/gpu", "nvidia.com/gpu=GPU-abc example.com/nic=1",
         NULL},
        {"none", "nvidia.com/gpu", "", NULL},
        {"void", "nvidia.com/gpu", "", NULL},
        {"runtime.nvidia.com/gpu=0", "nvidia.com/gpu", "", NULL},
        /* mixes NVIDIA's runtime refuses */
        {"0,nvidia.com/gpu=4", NULL, NULL,
         "NVIDIA_VISIBLE_DEVICES `0,nvidia.com/gpu=4` mixes CDI devices (`nvidia.com/gpu=4`) with "
         "GPU ids (`0`), which NVIDIA's runtime refuses too: name them all as CDI devices "
         "(`nvidia.com/gpu=<id>`) or all as GPU ids"},
        {"nvidia.com/gpu=0,runtime.nvidia.com/gpu=1", NULL, NULL,
         "mixes CDI devices (`nvidia.com/gpu=0`) with GPU ids (`runtime.nvidia.com/gpu=1`)"},
        {"0,runtime.nvidia.com/gpu=1", "example.com/gpu", NULL,
         "(`example.com/gpu=<id>`) or all as GPU ids"},
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(cases); i++) {
        cleanup_strv struct strv names = {0};
        cleanup_error gctk_error *err = NULL;
        int r = cdi_visible_devices_names(cases[i].visible, cases[i].default_kind, &names, &err);
        if (cases[i].error != NULL) {
            assert_int_equal(r, -1);
            if (strstr(err->msg, cases[i].error) == NULL)
                fail_msg("`%s`: got `%s`", cases[i].visible, err->msg);
            assert_int_equal(names.len, 0);
            continue;
        }
        assert_int_equal(r, 0);
        cleanup_free char *got = strv_join(&names, " ");
        if (strcmp(got, cases[i].names) != 0)
            fail_msg("`%s`: got `%s`, want `%s`", cases[i].visible, got, cases[i].names);
    }
    strv_clear(&ann);
}

/* Regression: 600,000 distinct CDI names in NVIDIA_VISIBLE_DEVICES held
 * gctk-runtime past 15 s (a search of the names kept for each name). */
static void many_names(void)
{
    struct strbuf b = {0};
    for (int i = 0; i < 600000; i++)
        strbuf_addf(&b, "%snvidia.com/gpu=d%d", i ? "," : "", i % 300000);
    struct strv ann = {0}, out = {0};
    strv_push(&ann, xasprintf("cdi.k8s.io/x=%s", b.s));
    cdi_annotation_names(&ann, NULL, &out);
    gctk_error *err = NULL;
    if (cdi_visible_devices_names(b.s, NULL, &out, &err) < 0)
        _exit(3);
    /* each name once, in the order first given */
    if (out.len != 300000 || strcmp(out.items[0], "nvidia.com/gpu=d0") != 0 ||
        strcmp(out.items[299999], "nvidia.com/gpu=d299999") != 0)
        _exit(2);
    strv_clear(&ann);
    strv_clear(&out);
    free(b.s);
}

/* A spec of 300,001 devices: its duplicate name found in one sort. */
static void many_devices(void)
{
    json_t *devs = json_array();
    for (int i = 0; i <= 300000; i++) {
        char name[32];
        snprintf(name, sizeof(name), "d%d", i < 300000 ? i : 7);
        json_array_append_new(
            devs, json_pack("{s:s, s:{s:[s]}}", "name", name, "containerEdits", "env", "A=1"));
    }
    json_t *spec = json_pack("{s:s, s:s, s:o}", "cdiVersion", "0.5.0", "kind", "nvidia.com/gpu",
                             "devices", devs);
    struct strv problems = {0};
    cdi_validate(spec, 0, NULL, &problems);
    size_t twice = 0;
    for (size_t i = 0; i < problems.len; i++)
        twice += strstr(problems.items[i], "devices[300000]: name `d7` appears twice") != NULL;
    if (twice != 1)
        _exit(2);
    strv_clear(&problems);
    json_decref(spec);
}

static void test_names_bounded(void **state)
{
    (void)state;
    assert_true(within_cpu_seconds(many_names, 30));
    assert_true(within_cpu_seconds(many_devices, 30));
}

static json_t *specs_of(json_t *spec)
{
    return json_pack("[{s:s, s:o}]", "file", "mem.json", "spec", spec);
}

/* The edits specs give the one device name */
static json_t *resolve_one(const json_t *specs, const char *name)
{
    struct strv names = {0};
    strv_push(&names, xstrdup(name));
    json_t *edits = NULL;
    gctk_error *err = NULL;
    if (cdi_resolve(specs, &names, &edits, &err) < 0)
        fail_msg("resolve %s: %s", name, err->msg);
    strv_clear(&names);
    return edits;
}

/* The "--mount" arguments of config's createContainer hook */
static size_t hook_mounts(json_t *config, const char *want, bool *found)
{
    json_t *hooks = json_object_get(json_object_get(config, "hooks"), "createContainer");
    cleanup_json json_t *values = mount_values(json_object_get(json_array_get(hooks, 0), "args"));
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v)
    {
        if (want != NULL && strcmp(json_string_value(v), want) == 0)
            *found = true;
    }
    return json_array_size(values);
}

/* The spec's mounts go to its create-container hook where that hook is the
 * caller's gctk and every mount is a bind mount it makes; else to runc. */
static void test_apply_own_hook(void **state)
{
    (void)state;
    cleanup_free char *own_path = xasprintf("%s/gctk", tmp);
    cleanup_free char *other_path = xasprintf("%s/gctk-other", tmp);
    struct stat own, other;
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(i == 0 ? own_path : other_path, "w");
        assert_non_null(f);
        fclose(f);
    }
    assert_int_equal(stat(own_path, &own), 0);
    assert_int_equal(stat(other_path, &other), 0);
    json_t *spec = generate_runtime_mounts(CDI_NAME_INDEX);
    json_t *top = json_object_get(spec, "containerEdits");
    json_object_set_new(json_array_get(json_object_get(top, "hooks"), 0), "path",
                        json_string(own_path));
    size_t nmounts = json_array_size(json_object_get(top, "mounts"));
    size_t nargs =
        json_array_size(json_object_get(json_array_get(json_object_get(top, "hooks"), 0), "args"));
    assert_true(nmounts > 10);
    json_t *specs = specs_of(spec);
    json_t *edits = resolve_one(specs, "nvidia.com/gpu=0");

    /* this gctk's hook: every mount, the config's of the same destination gone */
    json_t *config =
        json_pack("{s:[{s:s, s:s}, {s:s, s:s}]}", "mounts", "destination", "/usr/bin/nvidia-smi",
                  "source", "/old", "destination", "/data", "source", "/srv");
    assert_int_equal(cdi_apply(config, edits, &own, NULL), 0);
    json_t *mounts = json_object_get(config, "mounts");
    assert_int_equal(json_array_size(mounts), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(mounts, 0), "source")),
                        "/srv");
    cleanup_free char *smi =
        xasprintf("%s/usr/bin/nvidia-smi::/usr/bin/nvidia-smi::ro,nosuid,nodev,bind", host_root);
    bool found = false;
    assert_int_equal(hook_mounts(config, smi, &found), nmounts);
    assert_true(found);
    /* the spec's own hook is left as it was */
    assert_int_equal(
        json_array_size(json_object_get(json_array_get(json_object_get(top, "hooks"), 0), "args")),
        nargs);
    json_decref(config);

    /* another gctk's hook (one that may not know --mount): runc makes them */
    config = json_object();
    assert_int_equal(cdi_apply(config, edits, &other, NULL), 0);
    assert_int_equal(json_array_size(json_object_get(config, "mounts")), nmounts);
    assert_int_equal(hook_mounts(config, NULL, NULL), 0);
    json_decref(config);

    /* a createContainer hook of the config's own runs first: runc makes them */
    config = json_pack("{s:{s:[{s:s}]}}", "hooks", "createContainer", "path", "/bin/true");
    assert_int_equal(cdi_apply(config, edits, &own, NULL), 0);
    assert_int_equal(json_array_size(json_object_get(config, "mounts")), nmounts);
    json_decref(config);
    /* and so where another hook of the edits runs before this gctk's */
    json_t *hooks = json_object_get(top, "hooks");
    json_array_insert_new(hooks, 0,
                          json_pack("{s:s, s:s}", "hookName", "createContainer", "path", "/x"));
    config = json_object();
    assert_int_equal(cdi_apply(config, edits, &own, NULL), 0);
    assert_int_equal(json_array_size(json_object_get(config, "mounts")), nmounts);
    assert_int_equal(hook_mounts(config, NULL, NULL), 0);
    json_decref(config);
    json_array_remove(hooks, 0);

    /* one mount the hook does not make: all of them to runc */
    static const char *const not_hooks[] = {"[\"ro\", \"rbind\"]", "[\"ro\"]",
                                            "[\"bind\", \"private\"]"};
    json_t *first = json_array_get(json_object_get(top, "mounts"), 0);
    for (size_t k = 0; k <= GCTK_ARRAY_LEN(not_hooks); k++) {
        if (k < GCTK_ARRAY_LEN(not_hooks))
            json_object_set_new(first, "options", json_loads(not_hooks[k], 0, NULL));
        else /* a filesystem of its own */
            json_object_set_new(first, "type", json_string("tmpfs"));
        config = json_object();
        assert_int_equal(cdi_apply(config, edits, &own, NULL), 0);
        assert_int_equal(json_array_size(json_object_get(config, "mounts")), nmounts);
        assert_int_equal(hook_mounts(config, NULL, NULL), 0);
        json_decref(config);
    }
    json_decref(edits);
    json_decref(specs);
}

/* gctk's spec applied as any engine applies it (no gctk of the caller's
 * to hand mounts to) or by gctk-runtime: runc is given none of the driver's
 * files, the hook every one, and the config's own mounts stay as they are */
static void test_apply_hook_mounts(void **state)
{
    (void)state;
    json_t *spec = generate(CDI_NAME_INDEX);
    json_t *want = spec_hook_mounts(spec);
    assert_true(json_array_size(want) > 10);
    json_t *specs = specs_of(spec);
    json_t *edits = resolve_one(specs, "nvidia.com/gpu=0");
    json_t *config =
        json_pack("{s:[{s:s, s:s}]}", "mounts", "destination", "/data", "source", "/srv");
    assert_int_equal(cdi_apply(config, edits, NULL, NULL), 0);
    json_t *mounts = json_object_get(config, "mounts");
    assert_int_equal(json_array_size(mounts), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(mounts, 0), "source")),
                        "/srv");
    assert_int_equal(hook_mounts(config, NULL, NULL), json_array_size(want));
    cleanup_free char *smi =
        xasprintf("%s/usr/bin/nvidia-smi::/usr/bin/nvidia-smi::ro,nosuid,nodev,bind", host_root);
    bool found = false;
    assert_int_equal(hook_mounts(config, smi, &found), json_array_size(want));
    assert_true(found);
    json_decref(config);
    json_decref(want);
    json_decref(edits);
    json_decref(specs);
}

static void test_resolve_apply(void **state)
{
    (void)state;
    json_t *specs = specs_of(generate_runtime_mounts(CDI_NAME_INDEX));
    struct strv names = {0};
    strv_push(&names, xstrdup("nvidia.com/gpu=1"));
    strv_push(&names, xstrdup("nvidia.com/gpu=0"));
    json_t *edits = NULL;
    assert_int_equal(cdi_resolve(specs, &names, &edits, NULL), 0);
    assert_int_equal(json_array_size(edits), 3); /* top-level once, then each device */

    json_t *config = json_pack("{s:{s:[s,s]}, s:[{s:s, s:s}]}", "process", "env", "PATH=/bin",
                               "NVIDIA_VISIBLE_DEVICES=nvidia.com/gpu=1", "mounts", "destination",
                               "/usr/bin/nvidia-smi", "source", "/old");
    assert_int_equal(cdi_apply(config, edits, NULL, NULL), 0);
    json_t *env = json_object_get(json_object_get(config, "process"), "env");
    assert_int_equal(json_array_size(env), 3);
    assert_string_equal(json_string_value(json_array_get(env, 1)), "NVIDIA_VISIBLE_DEVICES=void");
    /* where libcuda is, as NVIDIA's specs say it */
    assert_string_equal(json_string_value(json_array_get(env, 2)),
                        "NVIDIA_CTK_LIBCUDA_DIR=/usr/lib/x86_64-linux-gnu");
    json_t *devs = json_object_get(json_object_get(config, "linux"), "devices");
    /* GPU 0's nodes come last: its own, then its DRM card and render nodes */
    static const char *const last[] = {"/dev/nvidia0", "/dev/dri/card1", "/dev/dri/renderD128"};
    size_t ndevs = json_array_size(devs);
    assert_true(ndevs >= 3);
    for (size_t k = 0; k < 3; k++)
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(devs, ndevs - 3 + k), "path")),
            last[k]);
    json_t *rules =
        json_object_get(json_object_get(json_object_get(config, "linux"), "resources"), "devices");
    assert_int_equal(json_array_size(rules), json_array_size(devs));
    assert_string_equal(json_string_value(json_object_get(json_array_get(rules, 0), "access")),
                        "rw");
    /* the old mount of the same destination was replaced */
    size_t i, same = 0;
    json_t *m;
    json_array_foreach(json_object_get(config, "mounts"), i, m)
    {
        if (strcmp(json_string_value(json_object_get(m, "destination")), "/usr/bin/nvidia-smi") ==
            0) {
            same++;
            assert_string_not_equal(json_string_value(json_object_get(m, "source")), "/old");
        }
    }
    assert_int_equal(same, 1);
    /* two GPUs, one hook process */
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(config, "hooks"), "createContainer")), 1);
    json_decref(config);
    json_decref(edits);

    gctk_error *err = NULL;
    strv_push(&names, xstrdup("nvidia.com/gpu=7"));
    assert_int_equal(cdi_resolve(specs, &names, &edits, &err), -1);
    assert_string_equal(err->msg, "unresolvable CDI device `nvidia.com/gpu=7`: `nvidia.com/gpu` "
                                  "offers 0, 1, all");
    gctk_error_free(err);
    err = NULL;
    strv_clear(&names);
    strv_push(&names, xstrdup("example.com/fpga=0"));
    assert_int_equal(cdi_resolve(specs, &names, &edits, &err), -1);
    assert_non_null(
        strstr(err->msg, "no spec in the CDI directories offers the kind `example.com/fpga`"));
    gctk_error_free(err);
    strv_clear(&names);
    json_decref(specs);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "we");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A spec's device node without a fileMode gets the host node's in
 * config.json: a runtime that makes the node itself gives it none
 * otherwise (crun in a user namespace: 000, which nothing in the container
 * may open). A fileMode of the spec is kept; a node whose host node is not
 * there, the rest named, gets none. The generator writes the host's. */
static void test_apply_node_modes(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip(); /* mknod */
    cleanup_free char *node = xasprintf("%s/node-0640", tmp);
    assert_int_equal(mknod(node, S_IFCHR | 0640, makedev(1, 3)), 0);
    assert_int_equal(chmod(node, 0640), 0); /* whatever the umask */
    json_t *edits = json_pack(
        "[{s:[{s:s, s:s, s:s, s:i, s:i}, {s:s, s:s, s:s, s:i, s:i, s:i}, {s:s, s:s, s:s, s:i, "
        "s:i}, {s:s, s:s}]}]",
        "deviceNodes", "path", "/dev/a", "hostPath", node, "type", "c", "major", 1, "minor", 3,
        "path", "/dev/b", "hostPath", node, "type", "c", "major", 1, "minor", 3, "fileMode", 0600,
        "path", "/dev/c", "hostPath", "/nonexistent/node", "type", "c", "major", 1, "minor", 3,
        "path", "/dev/d", "hostPath", node);
    json_t *config = json_pack("{s:{s:[]}}", "process", "env");
    assert_int_equal(cdi_apply(config, edits, NULL, NULL), 0);
    json_t *devs = json_object_get(json_object_get(config, "linux"), "devices");
    assert_int_equal(json_array_size(devs), 4);
    static const json_int_t want[] = {0640, 0600, -1, 0640};
    for (size_t i = 0; i < 4; i++) {
        json_t *mode = json_object_get(json_array_get(devs, i), "fileMode");
        if (want[i] < 0)
            assert_null(mode);
        else
            assert_int_equal(json_integer_value(mode), want[i]);
    }
    json_decref(config);
    json_decref(edits);

    /* the generator: each node with its host node's mode */
    json_t *spec = generate(CDI_NAME_INDEX);
    json_t *nodes = json_object_get(json_object_get(spec, "containerEdits"), "deviceNodes");
    assert_true(json_array_size(nodes) > 0);
    size_t i;
    json_t *n;
    json_array_foreach(nodes, i, n)
    {
        cleanup_free char *host = xstrdup(json_string_value(json_object_get(n, "hostPath")));
        struct stat st;
        assert_int_equal(stat(host, &st), 0);
        assert_int_equal(json_integer_value(json_object_get(n, "fileMode")), st.st_mode & 0777);
    }
    json_decref(spec);
}

static void test_load_dirs(void **state)
{
    (void)state;
    cleanup_free char *a = xasprintf("%s/etc-cdi", tmp), *b = xasprintf("%s/run-cdi", tmp);
    mkdir(a, 0755);
    mkdir(b, 0755);
    cleanup_free char *a1 = xasprintf("%s/x.json", a), *b1 = xasprintf("%s/x.json", b);
    cleanup_free char *bad = xasprintf("%s/y.yaml", b), *ignored = xasprintf("%s/z.txt", b);
    write_text(a1, "{\"cdiVersion\":\"0.3.0\",\"kind\":\"a.com/"
                   "g\",\"devices\":[{\"name\":\"old\",\"containerEdits\":{}}]}");
    write_text(b1, "{\"cdiVersion\":\"0.3.0\",\"kind\":\"a.com/"
                   "g\",\"devices\":[{\"name\":\"new\",\"containerEdits\":{}}]}");
    write_text(bad, "cdiVersion: 0.3.0\nkind: a.com/g\ndevices: []\n");
    write_text(ignored, "not a spec");
    const char *dirs[] = {a, b, "/nonexistent", NULL};
    struct strv skipped = {0}, names = {0};
    json_t *specs = cdi_load_dirs(dirs, 0, &skipped);
    cdi_list_devices(specs, &names);
    assert_int_equal(names.len, 1);
    assert_string_equal(names.items[0], "a.com/g=new");
    assert_int_equal(skipped.len, 1);
    assert_non_null(strstr(skipped.items[0], "y.yaml`: devices: must be a non-empty array"));
    strv_clear(&skipped);
    strv_clear(&names);
    json_decref(specs);
}

/* A spec's hooks run as root on the host: only specs that no one but root
 * (or the configured owner) could have written are used. Regression: a mode
 * 0666 spec owned by uid 12345 had its hook run for an unprivileged image; a
 * FIFO named *.json blocked every CDI container. */
static char *trust_dirs[4];

static void spec(const char *path, const char *kind, const char *device)
{
    cleanup_free char *text = xasprintf("{\"cdiVersion\":\"0.3.0\",\"kind\":\"%s\",\"devices\":"
                                        "[{\"name\":\"%s\",\"containerEdits\":{}}]}",
                                        kind, device);
    write_text(path, text);
}

static void load_trusted_dirs(void)
{
    struct strv skipped = {0}, names = {0};
    json_t *specs = cdi_load_dirs((const char *const *)trust_dirs, 0, &skipped);
    cdi_list_devices(specs, &names);
    cleanup_free char *got = strv_join(&names, " ");
    cleanup_free char *why = strv_join(&skipped, "\n");
    /* the directory's trusted specs (a link followed to a trusted file
     * included) are used; each refusal names the file and the fix */
    if (strcmp(got, "a.com/g=good b.com/g=linked") != 0 || skipped.len != 6 ||
        strstr(why, "evil-mode.json` is writable by group or others (mode 0666): not used") ==
            NULL ||
        strstr(why, "; chmod go-w `") == NULL ||
        strstr(why, "evil-owner.json` belongs to uid 12345, not root") == NULL ||
        strstr(why, "; chown root `") == NULL ||
        strstr(why, "fifo.json` is a FIFO, not a regular file: not used as a CDI spec") == NULL ||
        strstr(why, "node.json` is a character device, not a regular file") == NULL ||
        strstr(why, "badlink.json` is writable by group or others") == NULL ||
        strstr(why, "open-dir` is writable by group or others (mode 0777): none of its specs "
                    "is used") == NULL) {
        fprintf(stderr, "used: %s\nskipped:\n%s\n", got, why);
        _exit(2);
    }
    strv_clear(&skipped);
    strv_clear(&names);
    json_decref(specs);
    /* the configured owner's specs are trusted too */
    cleanup_free char *path = xasprintf("%s/evil-owner.json", trust_dirs[0]);
    json_t *one = NULL;
    if (cdi_load_trusted(path, 12345, &one, NULL) < 0)
        _exit(3);
    json_decref(one);
}

static void test_load_dirs_trust(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip(); /* chown, mknod */
    cleanup_free char *d = xasprintf("%s/trust-cdi", tmp),
                      *open_dir = xasprintf("%s/open-dir", tmp);
    cleanup_free char *elsewhere = xasprintf("%s/elsewhere", tmp);
    assert_int_equal(mkdir(d, 0755), 0);
    assert_int_equal(mkdir(open_dir, 0755), 0);
    assert_int_equal(chmod(open_dir, 0777), 0);
    assert_int_equal(mkdir(elsewhere, 0755), 0);
    cleanup_free char *good = xasprintf("%s/good.json", d);
    cleanup_free char *mode = xasprintf("%s/evil-mode.json", d);
    cleanup_free char *owner = xasprintf("%s/evil-owner.json", d);
    cleanup_free char *fifo = xasprintf("%s/fifo.json", d);
    cleanup_free char *node = xasprintf("%s/node.json", d);
    cleanup_free char *link = xasprintf("%s/link.json", d);
    cleanup_free char *badlink = xasprintf("%s/badlink.json", d);
    cleanup_free char *target = xasprintf("%s/target.json", elsewhere);
    cleanup_free char *badtarget = xasprintf("%s/badtarget.json", elsewhere);
    cleanup_free char *in_open = xasprintf("%s/x.json", open_dir);
    spec(good, "a.com/g", "good");
    spec(mode, "a.com/g", "mode");
    assert_int_equal(chmod(mode, 0666), 0);
    spec(owner, "a.com/g", "owner");
    assert_int_equal(chown(owner, 12345, 12345), 0);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    assert_int_equal(mknod(node, S_IFCHR | 0644, makedev(1, 3)), 0);
    spec(target, "b.com/g", "linked");
    assert_int_equal(symlink(target, link), 0);
    spec(badtarget, "b.com/g", "badlinked");
    assert_int_equal(chmod(badtarget, 0646), 0);
    assert_int_equal(symlink(badtarget, badlink), 0);
    spec(in_open, "c.com/g", "open");
    trust_dirs[0] = d;
    trust_dirs[1] = open_dir;
    trust_dirs[2] = NULL;
    /* in a child with a wall: a FIFO opened for reading would wait for ever */
    assert_true(within_seconds(load_trusted_dirs, 20));
}

/* ---- drop-ins ---------------------------------------------------------------------------- */

/* A config.json an engine applied the spec to (Docker 25+, containerd 1.7,
 * Podman): the spec's mounts, among the engine's, go to its hook where that
 * is the caller's gctk, unless a mount runc keeps after them lies on one of
 * their paths. */
static void test_hand_mounts(void **state)
{
    (void)state;
    cleanup_free char *own_path = xasprintf("%s/gctk-hand", tmp);
    cleanup_free char *dir = xasprintf("%s/hand-cdi", tmp);
    cleanup_free char *file = xasprintf("%s/gctk.json", dir);
    write_text(own_path, "");
    struct stat own, other;
    assert_int_equal(stat(own_path, &own), 0);
    other = own;
    other.st_ino++;
    assert_int_equal(mkdir(dir, 0755), 0);
    json_t *spec = generate_runtime_mounts(CDI_NAME_INDEX);
    json_t *top = json_object_get(spec, "containerEdits");
    json_t *hook = json_array_get(json_object_get(top, "hooks"), 0);
    json_object_set_new(hook, "path", json_string(own_path));
    assert_int_equal(json_dump_file(spec, file, 0), 0);
    const char *dirs[] = {dir, NULL};
    /* as the engine writes it: its mounts, the spec's ordered among them by
     * depth, a volume of the user's (rbind: never the hook's) */
    json_t *spec_mounts = json_object_get(top, "mounts");
    size_t nspec = json_array_size(spec_mounts);
    json_t *mounts =
        json_pack("[{s:s, s:s, s:s}]", "destination", "/proc", "type", "proc", "source", "proc");
    size_t i;
    json_t *m;
    json_array_foreach(spec_mounts, i, m)
    {
        json_array_append_new(mounts, json_pack("{s:O, s:s, s:O, s:O}", "destination",
                                                json_object_get(m, "containerPath"), "type", "bind",
                                                "source", json_object_get(m, "hostPath"), "options",
                                                json_object_get(m, "options")));
    }
    json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:[s,s]}", "destination",
                                            "/home/u/data", "type", "bind", "source", "/srv",
                                            "options", "rbind", "rprivate"));
    json_t *cc = json_pack("[{s:O, s:O, s:[s]}]", "path", json_object_get(hook, "path"), "args",
                           json_object_get(hook, "args"), "env", "PATH=/bin");
    json_t *config = json_pack("{s:o, s:{s:o}}", "mounts", mounts, "hooks", "createContainer", cc);
    json_t *before = json_deep_copy(config);
    setenv("GCTK_CONFIG", "/etc/gctk/hand.json", 1);

    bool changed = false;
    cdi_hand_mounts(config, dirs, getuid(), &own, &changed);
    assert_true(changed);
    assert_int_equal(json_array_size(json_object_get(config, "mounts")), 2);
    cleanup_free char *smi =
        xasprintf("%s/usr/bin/nvidia-smi::/usr/bin/nvidia-smi::ro,nosuid,nodev,bind", host_root);
    bool found = false;
    assert_int_equal(hook_mounts(config, smi, &found), nspec);
    assert_true(found);
    json_t *env = json_object_get(json_array_get(cc, 0), "env");
    assert_string_equal(json_string_value(json_array_get(env, 0)), "PATH=/bin");
    assert_string_equal(json_string_value(json_array_get(env, 1)),
                        "GCTK_CONFIG=/etc/gctk/hand.json");
    /* handed once: a second pass changes nothing */
    json_t *once = json_deep_copy(config);
    cdi_hand_mounts(config, dirs, getuid(), &own, &changed);
    assert_false(changed);
    assert_true(json_equal(config, once));
    json_decref(once);
    json_decref(config);

    /* another gctk's hook: nothing changes */
    config = json_deep_copy(before);
    cdi_hand_mounts(config, dirs, getuid(), &other, &changed);
    assert_false(changed);
    assert_true(json_equal(config, before));
    json_decref(config);

    /* a mount runc keeps, after the spec's, on one of their paths (the
     * user's file over nvidia-smi): the hook would make nvidia-smi over it,
     * so every mount stays runc's; the hook gets its settings all the same */
    config = json_deep_copy(before);
    json_array_append_new(json_object_get(config, "mounts"),
                          json_pack("{s:s, s:s, s:s, s:[s]}", "destination", "/usr/bin/nvidia-smi/",
                                    "type", "bind", "source", "/srv/smi", "options", "rbind"));
    cdi_hand_mounts(config, dirs, getuid(), &own, &changed);
    assert_true(changed);
    assert_int_equal(json_array_size(json_object_get(config, "mounts")), nspec + 3);
    assert_int_equal(hook_mounts(config, NULL, NULL), 0);
    json_decref(config);
    /* ... while one on an unrelated path, or before them, is no bar */
    config = json_deep_copy(before);
    json_array_insert_new(json_object_get(config, "mounts"), 0,
                          json_pack("{s:s, s:s, s:s, s:[s]}", "destination", "/usr/bin", "type",
                                    "bind", "source", "/srv/bin", "options", "rbind"));
    json_array_append_new(json_object_get(config, "mounts"),
                          json_pack("{s:s, s:s, s:s, s:[s]}", "destination", "/usr/bin/nvidia",
                                    "type", "bind", "source", "/srv/n", "options", "rbind"));
    cdi_hand_mounts(config, dirs, getuid(), &own, &changed);
    assert_int_equal(json_array_size(json_object_get(config, "mounts")), 4);
    assert_int_equal(hook_mounts(config, NULL, NULL), nspec);
    json_decref(config);

    /* a mount the spec does not give (a plain bind mount of the user's)
     * stays runc's; so do the spec's where the spec is not trusted */
    config = json_deep_copy(before);
    json_t *mine = json_array_get(json_object_get(config, "mounts"), 1);
    json_object_set_new(mine, "source", json_string("/srv/other"));
    cdi_hand_mounts(config, dirs, getuid(), &own, &changed);
    assert_int_equal(json_array_size(json_object_get(config, "mounts")), 3);
    assert_int_equal(hook_mounts(config, NULL, NULL), nspec - 1);
    json_decref(config);
    config = json_deep_copy(before);
    assert_int_equal(chmod(dir, 0777), 0);
    cdi_hand_mounts(config, dirs, getuid(), &own, &changed);
    assert_int_equal(chmod(dir, 0755), 0);
    assert_int_equal(json_array_size(json_object_get(config, "mounts")), nspec + 2);
    assert_int_equal(hook_mounts(config, NULL, NULL), 0);
    json_decref(config);

    unsetenv("GCTK_CONFIG");
    json_decref(before);
    json_decref(spec);
}

/* One rule set for plain scalars, go-yaml v2's (the reader of the CDI
 * reference implementation): what the writer quotes and what the reader types */
static void test_yaml_scalars(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *json; /* the value read, as JSON; NULL: not representable */
    } cases[] = {
        {"y", "true"},
        {"Yes", "true"},
        {"ON", "true"},
        {"true", "true"},
        {"n", "false"},
        {"off", "false"},
        {"FALSE", "false"},
        {"~", "null"},
        {"Null", "null"},
        {"", "null"},
        {"12", "12"},
        {"+12", "12"},
        {"-7", "-7"},
        {"0644", "420"},
        {"0x1A", "26"},
        {"0o17", "15"},
        {"0b101", "5"},
        {"-0b101", "-5"},
        {"1_000", "1000"},
        {"08", "8.0"},
        {".5", "0.5"},
        {"1e3", "1000.0"},
        {"12.4", "12.4"},
        {".inf", NULL},
        {"-.Inf", NULL},
        {".nan", NULL},
        /* strings */
        {"0.3.0", "\"0.3.0\""},
        {"inf", "\"inf\""},
        {"TrUe", "\"TrUe\""},
        {"yes!", "\"yes!\""},
        {"2001-12-14", "\"2001-12-14\""},
        {"0b2", "\"0b2\""},
        {"-", "\"-\""},
        {"1.2.3", "\"1.2.3\""},
        {"nvidia.com/gpu", "\"nvidia.com/gpu\""},
        {"rw", "\"rw\""},
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(cases); i++) {
        json_t *v = NULL;
        int r = yaml_scalar_json(cases[i].in, &v);
        if (cases[i].json == NULL) {
            assert_int_equal(r, -1);
            assert_true(yaml_scalar_typed(cases[i].in));
            continue;
        }
        assert_int_equal(r, 0);
        cleanup_free char *got = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(6));
        json_decref(v);
        if (strcmp(got, cases[i].json) != 0)
            fail_msg("`%s` read as %s, expected %s", cases[i].in, got, cases[i].json);
        /* the writer quotes exactly what the reader would not read back as a string */
        assert_int_equal(yaml_scalar_typed(cases[i].in), cases[i].json[0] != '"');
    }
    /* a spec's fileMode written 0644 is the octal mode, as the reference reads it */
    const char *spec = "cdiVersion: 0.3.0\nkind: a.com/g\ndevices:\n- name: d\n  containerEdits:\n"
                       "    deviceNodes:\n    - path: /dev/x\n      fileMode: 0644\n";
    json_t *j = NULL;
    assert_int_equal(cdi_parse("s.yaml", spec, strlen(spec), &j, NULL), 0);
    json_t *node = json_array_get(
        json_object_get(
            json_object_get(json_array_get(json_object_get(j, "devices"), 0), "containerEdits"),
            "deviceNodes"),
        0);
    assert_int_equal(json_integer_value(json_object_get(node, "fileMode")), 0644);
    json_decref(j);
    /* and a string the reader would type is written quoted, so it reads back as a string */
    json_t *names = json_pack("{s:[s,s,s]}", "names", "yes", "0644", "plain");
    cleanup_free char *yaml = NULL;
    assert_int_equal(cdi_to_yaml(names, &yaml, NULL, NULL), 0);
    assert_non_null(strstr(yaml, "\"yes\""));
    assert_non_null(strstr(yaml, "\"0644\""));
    assert_non_null(strstr(yaml, "- plain"));
    json_decref(names);
}

/* ---- hooks --------------------------------------------------------------------------------- */

/* The exit status of the child pid, which must exit (the hook tests run
 * in a child of their own mount namespace: their mounts go with it). */
static int child_exit(pid_t pid)
{
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static bool cache_has(const struct ldcache *c, const char *key, const char *path)
{
    for (size_t i = 0; i < c->len; i++)
        if (strcmp(c->entries[i].soname, key) == 0 &&
            (path == NULL || strcmp(c->entries[i].path, path) == 0))
            return true;
    return false;
}

/* tmp/NAME: a rootfs with /etc and the x86-64 library directory, whose path
 * goes to *lib. */
static char *lib_rootfs(const char *name, char **lib)
{
    char *rootfs = xasprintf("%s/%s", tmp, name);
    *lib = xasprintf("%s/usr/lib/x86_64-linux-gnu", rootfs);
    cleanup_free char *cmd = xasprintf("mkdir -p '%s' '%s/etc'", *lib, rootfs);
    assert_int_equal(system(cmd), 0);
    return rootfs;
}

/* The rootfs's ld.so.cache, into *c, after the update-ldcache hook on its
 * x86-64 library directory. */
static void update_and_read_ldcache(const char *rootfs, struct ldcache *c)
{
    struct strv folders = {0};
    strv_push(&folders, xstrdup("/usr/lib/x86_64-linux-gnu"));
    assert_int_equal(cdi_hook_update_ldcache(rootfs, 0, &folders, NULL, NULL), 0);
    strv_clear(&folders);
    cleanup_free char *cache_path = xasprintf("%s/etc/ld.so.cache", rootfs);
    assert_int_equal(ldcache_read(cache_path, c, NULL), 0);
}

static void test_hook_symlinks_ldcache(void **state)
{
    (void)state;
    cleanup_free char *lib = NULL;
    cleanup_free char *rootfs = lib_rootfs("rootfs", &lib);
    cleanup_free char *file = xasprintf("%s/libcuda.so.580.95.05", lib);
    assert_int_equal(elfstub_write(file, "libcuda.so.1", NULL, false, NULL), 0);

    struct strv links = {0};
    strv_push(&links, xstrdup("libcuda.so.580.95.05::/usr/lib/x86_64-linux-gnu/libcuda.so.1"));
    strv_push(&links, xstrdup("libcuda.so.1::/usr/lib/x86_64-linux-gnu/libcuda.so"));
    assert_int_equal(cdi_hook_create_symlinks(rootfs, 0, &links, NULL), 0);
    char target[256];
    cleanup_free char *link = xasprintf("%s/libcuda.so", lib);
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    assert_true(n > 0);
    target[n] = '\0';
    assert_string_equal(target, "libcuda.so.1");
    strv_clear(&links);
    gctk_error *err = NULL;
    strv_push(&links, xstrdup("no-separator"));
    assert_int_equal(cdi_hook_create_symlinks(rootfs, 0, &links, &err), -1);
    assert_non_null(strstr(err->msg, "use TARGET::/ABSOLUTE/LINK"));
    gctk_error_free(err);
    strv_clear(&links);
    /* all or nothing: a bad link undoes the good ones made before it */
    err = NULL;
    strv_push(&links, xstrdup("libcuda.so.1::/usr/lib/x86_64-linux-gnu/libfirst.so"));
    strv_push(&links, xstrdup("no-separator"));
    assert_int_equal(cdi_hook_create_symlinks(rootfs, 0, &links, &err), -1);
    gctk_error_free(err);
    cleanup_free char *first = xasprintf("%s/libfirst.so", lib);
    struct stat lst;
    assert_int_equal(lstat(first, &lst), -1);
    strv_clear(&links);

    struct ldcache c = {0};
    update_and_read_ldcache(rootfs, &c);
    assert_true(cache_has(&c, "libcuda.so.1", "/usr/lib/x86_64-linux-gnu/libcuda.so.1"));
    /* the development link too, as ldconfig lists it */
    assert_true(cache_has(&c, "libcuda.so", "/usr/lib/x86_64-linux-gnu/libcuda.so"));
    ldcache_clear(&c);
    struct strv folders = {0};
    err = NULL;
    strv_push(&folders, xstrdup("/missing"));
    assert_int_equal(cdi_hook_update_ldcache(rootfs, 0, &folders, NULL, &err), -1);
    assert_non_null(strstr(err->msg, "folder `/missing`"));
    gctk_error_free(err);
    strv_clear(&folders);
}

static void symlink_at(const char *target, const char *dir, const char *name)
{
    cleanup_free char *path = xasprintf("%s/%s", dir, name);
    assert_int_equal(symlink(target, path), 0);
}

/* The update-ldcache hook lists a folder's development links as ldconfig
 * does, following their text only (plain names within the folder), and
 * with --host-driver-version the image's newer compat libcuda wins. */
static void test_hook_ldcache_dev_links_compat(void **state)
{
    (void)state;
    cleanup_free char *lib = NULL;
    cleanup_free char *rootfs = lib_rootfs("rootfs-dev", &lib);
    cleanup_free char *compat = xasprintf("%s/usr/local/cuda/compat", rootfs);
    assert_int_equal(mkdir_p(compat, 0755, NULL), 0);
    cleanup_free char *file = xasprintf("%s/libcuda.so.580.95.05", lib);
    assert_int_equal(elfstub_write(file, "libcuda.so.1", NULL, false, NULL), 0);
    symlink_at("libcuda.so.580.95.05", lib, "libcuda.so.1");
    symlink_at("libcuda.so.1", lib, "libcuda.so");
    /* not development links of a library here: a path, a name that does not
     * begin the SONAME, a loop, nowhere */
    symlink_at("/usr/lib/x86_64-linux-gnu/libcuda.so.1", lib, "libabs.so");
    symlink_at("libcuda.so.1", lib, "libother.so");
    symlink_at("libloop.so", lib, "libloop.so");
    symlink_at("libgone.so.1", lib, "libgone.so");
    cleanup_free char *newer = xasprintf("%s/libcuda.so.590.44.01", compat);
    assert_int_equal(elfstub_write(newer, "libcuda.so.1", NULL, false, NULL), 0);

    struct strv folders = {0};
    strv_push(&folders, xstrdup("/usr/lib/x86_64-linux-gnu"));
    assert_int_equal(cdi_hook_update_ldcache(rootfs, 0, &folders, "580.95.05", NULL), 0);
    cleanup_free char *cache_path = xasprintf("%s/etc/ld.so.cache", rootfs);
    struct ldcache c = {0};
    assert_int_equal(ldcache_read(cache_path, &c, NULL), 0);
    assert_true(cache_has(&c, "libcuda.so", "/usr/lib/x86_64-linux-gnu/libcuda.so"));
    static const char *const not_dev[] = {"libabs.so", "libother.so", "libloop.so", "libgone.so"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(not_dev); i++)
        assert_false(cache_has(&c, not_dev[i], NULL));
    /* forward compatibility: newer than the host's driver */
    assert_true(cache_has(&c, "libcuda.so.1", "/usr/local/cuda/compat/libcuda.so.590.44.01"));
    ldcache_clear(&c);
    /* a driver as new as the compat library: the driver's own stays */
    assert_int_equal(cdi_hook_update_ldcache(rootfs, 0, &folders, "590.44.01", NULL), 0);
    assert_int_equal(ldcache_read(cache_path, &c, NULL), 0);
    assert_true(cache_has(&c, "libcuda.so.1", "/usr/lib/x86_64-linux-gnu/libcuda.so.1"));
    ldcache_clear(&c);
    strv_clear(&folders);
}

/* The folder's libraries that the image's ld.so.cache names are taken from
 * it, not read: a development link installed after the image's ldconfig
 * ran still gets its entry when the library itself cannot be read again;
 * one the cache does not name is read. */
static void test_hook_ldcache_image_cache(void **state)
{
    (void)state;
    cleanup_free char *lib = NULL;
    cleanup_free char *rootfs = lib_rootfs("rootfs-image-cache", &lib);
    cleanup_free char *foo = xasprintf("%s/libfoo.so.1.2", lib);
    cleanup_free char *bar = xasprintf("%s/libbar.so.3", lib);
    assert_int_equal(elfstub_write(foo, "libfoo.so.1", NULL, false, NULL), 0);
    assert_int_equal(elfstub_write(bar, "libbar.so.3", NULL, false, NULL), 0);
    symlink_at("libfoo.so.1.2", lib, "libfoo.so.1");
    /* the image's own cache */
    struct ldcache c = {0};
    update_and_read_ldcache(rootfs, &c);
    assert_true(cache_has(&c, "libfoo.so.1", "/usr/lib/x86_64-linux-gnu/libfoo.so.1"));
    assert_false(cache_has(&c, "libfoo.so", NULL));
    ldcache_clear(&c);

    /* then the development links, the libraries no ELF any more, a new one */
    symlink_at("libfoo.so.1", lib, "libfoo.so");
    symlink_at("libbar.so.3", lib, "libbar.so");
    write_text(foo, "not an ELF file");
    write_text(bar, "not an ELF file");
    cleanup_free char *fresh = xasprintf("%s/libnew.so.7.0", lib);
    assert_int_equal(elfstub_write(fresh, "libnew.so.7", NULL, false, NULL), 0);
    update_and_read_ldcache(rootfs, &c);
    assert_true(cache_has(&c, "libfoo.so", "/usr/lib/x86_64-linux-gnu/libfoo.so"));
    assert_true(cache_has(&c, "libbar.so", "/usr/lib/x86_64-linux-gnu/libbar.so"));
    assert_true(cache_has(&c, "libfoo.so.1", "/usr/lib/x86_64-linux-gnu/libfoo.so.1"));
    assert_true(cache_has(&c, "libnew.so.7", "/usr/lib/x86_64-linux-gnu/libnew.so.7"));
    ldcache_clear(&c);
}

static bool has_link(const struct layout_links *l, const char *target, const char *path, int gpu)
{
    for (size_t i = 0; i < l->paths.len; i++)
        if (strcmp(l->targets.items[i], target) == 0 && strcmp(l->paths.items[i], path) == 0 &&
            l->gpus[i] == gpu)
            return true;
    return false;
}

/* The links of the layout: SONAMEs, the development links the host has
 * and those gctk always gives, GLVND's indirect GLX, GBM's backend, the GLX
 * module's name, the DRM nodes' by-path names; in the ld.so.cache the
 * development links too. */
static void test_layout_links(void **state)
{
    (void)state;
    gctk_host *h = NULL;
    assert_int_equal(gctk_host_open(host_root, GCTK_HOST_NO_NVML, &h, NULL), 0);
    struct gctk_selection sel = {0};
    gctk_plan *p = NULL;
    assert_int_equal(gctk_select(h, "1", &sel, NULL), 0);
    assert_int_equal(gctk_plan_new(h, &sel, GCTK_CAP_ALL, &p, NULL), 0);
    const struct layout_dirs d = {"/usr/lib64", "/usr/lib32", "/usr/bin", host_arch_native()};
    struct layout_links l = {0};
    layout_links(p, &d, &l);
    assert_true(has_link(&l, "libcuda.so.580.95.05", "/usr/lib64/libcuda.so.1", -1));
    assert_true(has_link(&l, "libcuda.so.1", "/usr/lib64/libcuda.so", -1));
    assert_true(has_link(&l, "libcuda.so.1", "/usr/lib32/libcuda.so", -1));
    assert_true(has_link(&l, "libnvcuvid.so.1", "/usr/lib64/libnvcuvid.so", -1));
    assert_true(has_link(&l, "libnvidia-ml.so.1", "/usr/lib64/libnvidia-ml.so", -1));
    assert_true(
        has_link(&l, "libnvidia-opticalflow.so.1", "/usr/lib64/libnvidia-opticalflow.so", -1));
    assert_false(
        has_link(&l, "libnvidia-glcore.so.580.95.05", "/usr/lib64/libnvidia-glcore.so", -1));
    assert_true(has_link(&l, "libGLX_nvidia.so.580.95.05", "/usr/lib64/libGLX_indirect.so.0", -1));
    assert_true(
        has_link(&l, "../libnvidia-allocator.so.1", "/usr/lib64/gbm/nvidia-drm_gbm.so", -1));
    assert_true(has_link(&l, "libglxserver_nvidia.so.580.95.05",
                         "/usr/lib/xorg/modules/extensions/libglxserver_nvidia.so", -1));
    assert_true(has_link(&l, "../card2", "/dev/dri/by-path/pci-0000:2a:00.0-card", 1));
    assert_true(has_link(&l, "../renderD129", "/dev/dri/by-path/pci-0000:2a:00.0-render", 1));
    assert_false(has_link(&l, "../card1", "/dev/dri/by-path/pci-0000:18:00.0-card", 0));
    layout_links_clear(&l);
    struct ldcache c = {0};
    layout_ldcache_add_plan(&c, p, &d);
    assert_true(cache_has(&c, "libcuda.so", "/usr/lib64/libcuda.so"));
    assert_true(cache_has(&c, "libnvcuvid.so", "/usr/lib64/libnvcuvid.so"));
    assert_true(cache_has(&c, "libcuda.so.1", "/usr/lib32/libcuda.so.1"));
    ldcache_clear(&c);
    cleanup_free char *dir = layout_libcuda_dir(p, &d);
    assert_string_equal(dir, "/usr/lib64");
    gctk_plan_free(p);
    /* graphics alone: the allocator comes for GBM's backend */
    assert_int_equal(gctk_plan_new(h, &sel, GCTK_CAP_GRAPHICS, &p, NULL), 0);
    layout_links(p, &d, &l);
    assert_true(
        has_link(&l, "../libnvidia-allocator.so.1", "/usr/lib64/gbm/nvidia-drm_gbm.so", -1));
    assert_true(has_link(&l, "libnvidia-allocator.so.580.95.05",
                         "/usr/lib64/libnvidia-allocator.so.1", -1));
    layout_links_clear(&l);
    gctk_plan_free(p);
    /* compute alone: no GBM backend, no GLX, no DRM */
    assert_int_equal(gctk_plan_new(h, &sel, GCTK_CAP_COMPUTE, &p, NULL), 0);
    layout_links(p, &d, &l);
    assert_false(
        has_link(&l, "../libnvidia-allocator.so.1", "/usr/lib64/gbm/nvidia-drm_gbm.so", -1));
    assert_false(has_link(&l, "../card2", "/dev/dri/by-path/pci-0000:2a:00.0-card", 1));
    layout_links_clear(&l);
    gctk_plan_free(p);
    gctk_selection_clear(&sel);
    gctk_host_free(h);
}

static json_t *hook_of(json_t *hooks, const char *verb)
{
    size_t i;
    json_t *h;
    json_array_foreach(hooks, i, h)
    {
        if (strcmp(json_string_value(json_array_get(json_object_get(h, "args"), 2)), verb) == 0)
            return h;
    }
    return NULL;
}

static bool args_have(json_t *hook, const char *a, const char *b)
{
    json_t *args = json_object_get(hook, "args");
    for (size_t i = 0; i + 1 < json_array_size(args); i++)
        if (strcmp(json_string_value(json_array_get(args, i)), a) == 0 &&
            strcmp(json_string_value(json_array_get(args, i + 1)), b) == 0)
            return true;
    return false;
}

/* Forward compatibility in the spec (create-container --host-driver-version),
 * unless the settings turn it off or compute is not in the spec; graphics
 * brings each GPU's DRM nodes, their by-path names node links of the hook;
 * the IMEX spec. */
static void test_spec_rows(void **state)
{
    (void)state;
    gctk_host *h = NULL;
    assert_int_equal(gctk_host_open(host_root, GCTK_HOST_NO_NVML, &h, NULL), 0);
    struct cdi_options o = {.gctk_path = "/usr/bin/gctk"};
    json_t *spec = NULL;
    assert_int_equal(cdi_generate(h, &o, &spec, NULL), 0);
    json_t *hooks = json_object_get(json_object_get(spec, "containerEdits"), "hooks");
    json_t *ld = hook_of(hooks, "create-container");
    assert_true(args_have(ld, "--host-driver-version", "580.95.05"));
    assert_true(args_have(ld, "--node-link", "../card1::/dev/dri/by-path/pci-0000:18:00.0-card"));
    assert_true(args_have(ld, "--node-link", "../card2::/dev/dri/by-path/pci-0000:2a:00.0-card"));
    assert_false(args_have(ld, "--link", "../card1::/dev/dri/by-path/pci-0000:18:00.0-card"));
    json_decref(spec);

    o.no_cuda_compat = true;
    assert_int_equal(cdi_generate(h, &o, &spec, NULL), 0);
    hooks = json_object_get(json_object_get(spec, "containerEdits"), "hooks");
    cleanup_free char *ld_text = json_dumps(hook_of(hooks, "create-container"), 0);
    assert_null(strstr(ld_text, "host-driver-version"));
    json_decref(spec);

    o.no_cuda_compat = false;
    o.caps = GCTK_CAP_UTILITY;
    assert_int_equal(cdi_generate(h, &o, &spec, NULL), 0);
    cleanup_free char *text = cdi_to_json(spec);
    assert_null(strstr(text, "host-driver-version"));
    assert_null(strstr(text, "/dev/dri"));
    assert_null(strstr(text, "NVIDIA_CTK_LIBCUDA_DIR"));
    json_decref(spec);

    o.imex_channels = true;
    assert_int_equal(cdi_generate(h, &o, &spec, NULL), 0);
    assert_string_equal(json_string_value(json_object_get(spec, "kind")),
                        "nvidia.com/imex-channel");
    json_t *devs = json_object_get(spec, "devices");
    assert_int_equal(json_array_size(devs), GCTK_SIM_IMEX_CHANNELS + 1);
    json_t *ch1 = json_array_get(devs, 1);
    assert_string_equal(json_string_value(json_object_get(ch1, "name")), "1");
    json_t *node =
        json_array_get(json_object_get(json_object_get(ch1, "containerEdits"), "deviceNodes"), 0);
    assert_string_equal(json_string_value(json_object_get(node, "path")),
                        "/dev/nvidia-caps-imex-channels/channel1");
    assert_int_equal(json_integer_value(json_object_get(node, "major")), GCTK_SIM_IMEX_MAJOR);
    struct strv problems = {0};
    assert_int_equal(cdi_validate(spec, CDI_CHECK_HOST, NULL, &problems), 0);
    json_decref(spec);
    gctk_host_free(h);
}

/* The update-ldcache hook reads the image's cache as the OCI hook does: a
 * FIFO (or device node) planted at /etc/ld.so.cache is looked at through
 * O_PATH and never opened. A writer blocked on the FIFO would be released
 * by any open for reading: it must still be waiting afterwards. */
static void test_hook_ldcache_planted_fifo(void **state)
{
    (void)state;
    cleanup_free char *lib = NULL;
    cleanup_free char *rootfs = lib_rootfs("rootfs-fifo", &lib);
    cleanup_free char *file = xasprintf("%s/libcuda.so.580.95.05", lib);
    assert_int_equal(elfstub_write(file, "libcuda.so.1", NULL, false, NULL), 0);
    cleanup_free char *fifo = xasprintf("%s/etc/ld.so.cache", rootfs);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    pid_t writer = fork();
    assert_true(writer >= 0);
    if (writer == 0) {
        int fd = open(fifo, O_WRONLY); /* blocks until someone opens it for reading */
        _exit(fd >= 0 ? 1 : 2);
    }
    /* the writer is blocked in openat (x86_64 syscall 257) before the hook runs */
    cleanup_free char *sys = xasprintf("/proc/%d/syscall", (int)writer);
    bool blocked = false;
    for (unsigned long long end = now_ns() + 5000000000ull; !blocked && now_ns() < end;) {
        cleanup_free char *text = NULL;
        blocked = read_file(sys, 4096, &text, NULL, NULL) == 0 && str_has_prefix(text, "257 ");
        if (!blocked)
            usleep(1000);
    }
    assert_true(blocked);
    struct strv folders = {0};
    strv_push(&folders, xstrdup("/usr/lib/x86_64-linux-gnu"));
    gctk_error *err = NULL;
    assert_int_equal(cdi_hook_update_ldcache(rootfs, 0, &folders, NULL, &err), 0);
    strv_clear(&folders);
    usleep(100 * 1000);
    int status = 0;
    assert_int_equal(waitpid(writer, &status, WNOHANG), 0); /* still blocked: never opened */
    kill(writer, SIGKILL);
    waitpid(writer, NULL, 0);
    /* and the FIFO was replaced by a cache that names the library */
    struct stat st;
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    struct ldcache c = {0};
    assert_int_equal(ldcache_read(fifo, &c, NULL), 0);
    assert_int_equal(c.len, 1);
    assert_string_equal(c.entries[0].soname, "libcuda.so.1");
    ldcache_clear(&c);
}

/* The race of the test below, run in its own process: how many times the
 * FIFO was opened, -1 when the race could not be set up. No cmocka here. */
static int folder_race_opens(const char *rootfs)
{
    char lib[PATH_MAX], file[PATH_MAX + 16], fifo[PATH_MAX + 16], cmd[3 * PATH_MAX];
    snprintf(lib, sizeof(lib), "%s/usr/lib/x86_64-linux-gnu", rootfs);
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s' '%s/etc'", lib, rootfs);
    snprintf(file, sizeof(file), "%s/libswap.so.1", lib);
    snprintf(fifo, sizeof(fifo), "%s/swap-fifo", lib);
    int opened[2];
    if (system(cmd) != 0 || elfstub_write(file, "libswap.so.1", NULL, false, NULL) < 0 ||
        mkfifo(fifo, 0644) < 0 || pipe(opened) < 0)
        return -1;
    /* the writer holds the FIFO by its inode, whatever its name becomes: taken
     * before any swap (a writer that starts late could take the library) */
    int pfd = open(fifo, O_PATH | O_CLOEXEC);
    struct stat st;
    if (pfd < 0 || fstat(pfd, &st) < 0 || !S_ISFIFO(st.st_mode))
        return -1;
    pid_t writer = fork();
    if (writer == 0) {
        char self[64];
        snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
        for (;;) {
            int fd = open(self, O_WRONLY); /* returns once a reader opened it */
            if (fd < 0)
                _exit(2);
            if (write(opened[1], "o", 1) < 0)
                _exit(3);
            close(fd);
        }
    }
    pid_t swapper = writer > 0 ? fork() : -1;
    if (swapper == 0) {
        int dfd = open(lib, O_PATH | O_DIRECTORY | O_CLOEXEC);
        for (;;)
            renameat2(dfd, "libswap.so.1", dfd, "swap-fifo", RENAME_EXCHANGE);
    }
    close(opened[1]);
    close(pfd);
    int rc = 0;
    struct strv folders = {0};
    strv_push(&folders, xstrdup("/usr/lib/x86_64-linux-gnu"));
    for (int i = 0; i < 2000 && swapper > 0 && rc == 0; i++) {
        gctk_error *err = NULL;
        if (cdi_hook_update_ldcache(rootfs, 0, &folders, NULL, &err) < 0) {
            fprintf(stderr, "run %d: %s\n", i, err->msg);
            gctk_error_free(err);
            rc = -1;
        }
    }
    strv_clear(&folders);
    for (pid_t *p = (pid_t[]){swapper, writer, 0}; *p != 0; p++) {
        if (*p > 0) {
            kill(*p, SIGKILL);
            waitpid(*p, NULL, 0);
        }
    }
    if (swapper <= 0)
        rc = -1;
    char buf[512];
    ssize_t n = 0;
    if (fcntl(opened[0], F_SETFL, O_NONBLOCK) == 0)
        n = read(opened[0], buf, sizeof(buf));
    close(opened[0]);
    return rc < 0 ? -1 : n > 0 ? (int)n : 0;
}

/* The folders the update-ldcache hook scans belong to the image: a process
 * of it can exchange a library with a FIFO (or a device node) between the
 * hook's look at a name and its open. The hook opens what it looked at,
 * through the O_PATH fd, never the name again: over 2000 runs against a
 * swapper, the FIFO is never opened (a writer blocked on it stays blocked).
 * The review saw 59 to 63 opens in 300 races before 5968fc6.
 *
 * Any process of the machine that opens the FIFO counts; as root the race
 * runs in a mount namespace of its own, on a tmpfs no other process sees,
 * so that only the hook can. (The writer takes the FIFO before the swapper
 * starts: one that started late took the library instead and counted its
 * own opens, under load.) */
static void test_hook_ldcache_folder_race(void **state)
{
    (void)state;
    cleanup_free char *rootfs = xasprintf("%s/rootfs-race", tmp);
    if (geteuid() != 0) {
        int n = folder_race_opens(rootfs);
        if (n != 0)
            fail_msg("the FIFO swapped in was opened %d times in 2000 runs (-1: no race)", n);
        return;
    }
    assert_int_equal(mkdir(rootfs, 0700), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("tmpfs", rootfs, "tmpfs", 0, "mode=0700") < 0)
            _exit(255);
        int n = folder_race_opens(rootfs);
        _exit(n < 0 ? 255 : n > 254 ? 254 : n);
    }
    int opened = child_exit(child);
    if (opened != 0)
        fail_msg("the FIFO swapped in was opened %d times in 2000 runs (255: no race)", opened);
}

/* The mask-proc hook shows the GPUs whose nodes the container was given:
 * nodes of the GPU major only. Regression: it took the minor of any
 * /dev/nvidiaN, so an image's `c 1:1` node named nvidia1 in a container
 * given GPU 0 showed GPU 1's /proc/driver/nvidia/gpus entry (fixed by
 * 17b9819). Run in a child of its own mount namespace: the hook mounts. */
static void test_hook_mask_proc_major(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip(); /* mknod, mounts */
    cleanup_free char *rootfs = xasprintf("%s/rootfs-mask", tmp);
    cleanup_free char *cmd = xasprintf("mkdir -p '%s/dev' '%s/proc/driver/nvidia'", rootfs, rootfs);
    assert_int_equal(system(cmd), 0);
    cleanup_free char *n0 = xasprintf("%s/dev/nvidia0", rootfs);
    cleanup_free char *n1 = xasprintf("%s/dev/nvidia1", rootfs);
    assert_int_equal(mknod(n0, S_IFCHR | 0666, makedev(195, 0)), 0);
    assert_int_equal(mknod(n1, S_IFCHR | 0666, makedev(1, 1)), 0); /* not a GPU */
    cleanup_host gctk_host *h = NULL;
    assert_int_equal(gctk_host_open(host_root, GCTK_HOST_NO_NVML, &h, NULL), 0);
    assert_true(gctk_host_gpu_count(h) >= 2);
    const char *dir0 = gctk_host_gpu(h, 0)->proc_dir, *dir1 = gctk_host_gpu(h, 1)->proc_dir;
    assert_int_equal(gctk_host_gpu(h, 1)->minor, 1);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (unshare(CLONE_NEWNS) < 0 || mount("", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
            _exit(10);
        gctk_error *err = NULL;
        if (cdi_hook_mask_proc(host_root, NULL, rootfs, 0, &err) < 0) {
            fprintf(stderr, "%s\n", err->msg);
            _exit(11);
        }
        /* the GPU's proc directory, as the container sees it */
        cleanup_free char *g0 = path_join(rootfs, dir0);
        cleanup_free char *g1 = path_join(rootfs, dir1);
        _exit(access(g0, F_OK) != 0 ? 12 : access(g1, F_OK) == 0 ? 13 : 0);
    }
    int st = child_exit(pid);
    if (st == 13)
        fail_msg("GPU 1's entry is shown for a `c 1:1` node named nvidia1");
    assert_int_equal(st, 0);
}

/* The one hook of a generated spec (create-container): the links, the DRM
 * nodes' by-path links where the runtime made the node (a missing node, a
 * file or a link of the node's name gives none), the ld.so.cache and the
 * /proc mask, in one process; a failure in a later step undoes the links. */
static int create_container_child(const char *rootfs, const char *lib, const char *dir0)
{
    if (unshare(CLONE_NEWNS) < 0 || mount("", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return 10;
    cleanup_strv struct strv links = {0}, node_links = {0}, folders = {0};
    strv_push(&links, xstrdup("libcuda.so.580.95.05::/usr/lib/x86_64-linux-gnu/libcuda.so.1"));
    strv_push(&links, xstrdup("libcuda.so.1::/usr/lib/x86_64-linux-gnu/libcuda.so"));
    static const char *const by_path[] = {
        "../card1::/dev/dri/by-path/pci-0000:18:00.0-card",        /* the node: made */
        "../card2::/dev/dri/by-path/pci-0000:2a:00.0-card",        /* no node */
        "../renderD129::/dev/dri/by-path/pci-0000:2a:00.0-render", /* a file */
        "../renderD130::/dev/dri/by-path/pci-0000:3b:00.0-render", /* a link to a node */
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(by_path); i++)
        strv_push(&node_links, xstrdup(by_path[i]));
    strv_push(&folders, xstrdup("/usr/lib/x86_64-linux-gnu"));
    /* the mask's host through a discovery cache of its own: stored there
     * (or, the simulated host being seconds old, not: "missed") */
    cleanup_free char *cache_dir = xasprintf("%s.cache", rootfs);
    const struct gctk_host_cache cache = {.dir = cache_dir};
    struct cdi_container_edits e = {.links = &links,
                                    .node_links = &node_links,
                                    .folders = &folders,
                                    .driver_root = host_root,
                                    .cache = &cache};
    gctk_error *err = NULL;
    struct cdi_hook_report rep = {0};
    if (cdi_hook_create_container(rootfs, 0, &e, &rep, &err) < 0) {
        fprintf(stderr, "%s\n", err->msg);
        return 11;
    }
    /* two links and the one node link whose node is there */
    if (rep.links != 3 || rep.mounts != 0 || rep.cache == NULL ||
        (strcmp(rep.cache, "stored") != 0 && strcmp(rep.cache, "missed") != 0)) {
        fprintf(stderr, "report: %zu links, %zu mounts, cache `%s`\n", rep.links, rep.mounts,
                rep.cache != NULL ? rep.cache : "-");
        return 19;
    }
    char target[64];
    cleanup_free char *dev_link = xasprintf("%s/libcuda.so", lib);
    cleanup_free char *card1 = xasprintf("%s/dev/dri/by-path/pci-0000:18:00.0-card", rootfs);
    ssize_t n = readlink(card1, target, sizeof(target) - 1);
    if (n != 8 || strncmp(target, "../card1", 8) != 0 ||
        readlink(dev_link, target, sizeof(target)) <= 0)
        return 12;
    for (size_t i = 1; i < GCTK_ARRAY_LEN(by_path); i++) {
        struct stat st;
        cleanup_free char *p = path_join(rootfs, strstr(by_path[i], "::") + 2);
        if (lstat(p, &st) == 0)
            return 13;
    }
    cleanup_free char *cache_path = xasprintf("%s/etc/ld.so.cache", rootfs);
    struct ldcache c = {0};
    bool cached = ldcache_read(cache_path, &c, NULL) == 0 &&
                  cache_has(&c, "libcuda.so", "/usr/lib/x86_64-linux-gnu/libcuda.so");
    ldcache_clear(&c);
    if (!cached)
        return 14;
    cleanup_free char *g0 = path_join(rootfs, dir0);
    cleanup_free char *params = xasprintf("%s/proc/driver/nvidia/params", rootfs);
    if (access(g0, F_OK) != 0 || access(params, F_OK) != 0)
        return 15;

    /* all or nothing: a folder that is not there undoes the links */
    cleanup_free char *proc = xasprintf("%s/proc/driver/nvidia", rootfs);
    if (umount2(proc, MNT_DETACH) < 0 || unlink(dev_link) < 0 || unlink(card1) < 0)
        return 16;
    strv_push(&folders, xstrdup("/missing"));
    e.cache = NULL;
    if (cdi_hook_create_container(rootfs, 0, &e, &rep, &err) == 0 || rep.cache == NULL ||
        strcmp(rep.cache, "off") != 0)
        return 17;
    gctk_error_free(err);
    struct stat st;
    if (lstat(dev_link, &st) == 0 || lstat(card1, &st) == 0 || access(params, F_OK) == 0)
        return 18;
    return 0;
}

static void test_hook_create_container(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip(); /* mknod, mounts */
    cleanup_free char *rootfs = xasprintf("%s/rootfs-one", tmp);
    cleanup_free char *lib = xasprintf("%s/usr/lib/x86_64-linux-gnu", rootfs);
    cleanup_free char *cmd = xasprintf(
        "mkdir -p '%s' '%s/etc' '%s/dev/dri' '%s/proc/driver/nvidia'", lib, rootfs, rootfs, rootfs);
    assert_int_equal(system(cmd), 0);
    cleanup_free char *file = xasprintf("%s/libcuda.so.580.95.05", lib);
    assert_int_equal(elfstub_write(file, "libcuda.so.1", NULL, false, NULL), 0);
    cleanup_free char *n0 = xasprintf("%s/dev/nvidia0", rootfs);
    cleanup_free char *card1 = xasprintf("%s/dev/dri/card1", rootfs);
    cleanup_free char *render = xasprintf("%s/dev/dri/renderD129", rootfs);
    cleanup_free char *linked = xasprintf("%s/dev/dri/renderD130", rootfs);
    assert_int_equal(mknod(n0, S_IFCHR | 0666, makedev(195, 0)), 0);
    assert_int_equal(mknod(card1, S_IFCHR | 0666, makedev(226, 1)), 0);
    write_text(render, "");
    assert_int_equal(symlink("card1", linked), 0);
    cleanup_host gctk_host *h = NULL;
    assert_int_equal(gctk_host_open(host_root, GCTK_HOST_NO_NVML, &h, NULL), 0);
    const char *dir0 = gctk_host_gpu(h, 0)->proc_dir;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(create_container_child(rootfs, lib, dir0));
    assert_int_equal(child_exit(pid), 0);
}

/* create-container --mount: bind mounts made as runc makes a spec's, inside
 * the root, with the spec's options; one it cannot make undoes the others. */
static int hook_mounts_child(const char *rootfs, const char *src_file, const char *src_dir)
{
    if (unshare(CLONE_NEWNS) < 0 || mount("", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return 10;
    cleanup_strv struct strv mounts = {0}, none = {0};
    strv_push(&mounts, xasprintf("%s::/usr/bin/tool::ro,nosuid,nodev,bind", src_file));
    strv_push(&mounts, xasprintf("%s::/opt/d::bind,ro", src_dir));
    /* a link of the image's to a host directory: followed inside the root */
    strv_push(&mounts, xasprintf("%s::/escape/x::bind", src_file));
    struct cdi_container_edits e = {
        .mounts = &mounts, .links = &none, .node_links = &none, .folders = &none};
    gctk_error *err = NULL;
    if (cdi_hook_create_container(rootfs, 0, &e, NULL, &err) < 0) {
        fprintf(stderr, "%s\n", err->msg);
        return 11;
    }
    cleanup_free char *tool = path_join(rootfs, "/usr/bin/tool");
    cleanup_free char *inner = path_join(rootfs, "/opt/d/inner");
    cleanup_free char *escaped = xasprintf("%s/outside/x", tmp);
    cleanup_free char *inside = xasprintf("%s%s/outside/x", rootfs, tmp);
    struct stat a, b;
    if (stat(tool, &a) < 0 || stat(src_file, &b) < 0 || a.st_ino != b.st_ino ||
        access(inner, F_OK) < 0)
        return 12;
    int fd = open(tool, O_WRONLY | O_CLOEXEC);
    if (fd >= 0 || errno != EROFS) /* the spec's ro */
        return 13;
    if (lstat(escaped, &a) == 0 || stat(inside, &a) < 0 || a.st_ino != b.st_ino)
        return 14;
    if (umount2(tool, MNT_DETACH) < 0 || unlink(tool) < 0)
        return 15;

    /* an option the hook does not apply: nothing of this call stays */
    strv_push(&mounts, xasprintf("%s::/usr/bin/other::rbind", src_file));
    if (cdi_hook_create_container(rootfs, 0, &e, NULL, &err) == 0 ||
        strstr(err->msg, "mount `/usr/bin/other`: option `rbind` is not one of a bind mount's") ==
            NULL)
        return 16;
    gctk_error_free(err);
    err = NULL;
    if (lstat(tool, &a) == 0)
        return 17;
    /* a source that is not absolute */
    strv_clear(&mounts);
    strv_push(&mounts, xstrdup("relative::/usr/bin/tool::bind"));
    if (cdi_hook_create_container(rootfs, 0, &e, NULL, &err) == 0 ||
        strstr(err->msg, "use /HOST::/CONTAINER::OPTIONS") == NULL)
        return 18;
    gctk_error_free(err);
    return 0;
}

static void test_hook_mounts(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip(); /* mounts */
    cleanup_free char *rootfs = xasprintf("%s/rootfs-mounts", tmp);
    cleanup_free char *src_dir = xasprintf("%s/src-dir", tmp);
    cleanup_free char *src_file = xasprintf("%s/src-file", tmp);
    cleanup_free char *cmd =
        xasprintf("mkdir -p '%s/usr/bin' '%s/outside' '%s' && touch '%s/inner' "
                  "'%s' && ln -s '%s/outside' '%s/escape'",
                  rootfs, tmp, src_dir, src_dir, src_file, tmp, rootfs);
    assert_int_equal(system(cmd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(hook_mounts_child(rootfs, src_file, src_dir));
    assert_int_equal(child_exit(pid), 0);
}

/* The ld.so.cache of create-container takes the SONAMEs of the driver's
 * libraries it mounted from the discovery instead of reading their ELF
 * again, and only from a discovery checked for every file: a SONAME
 * written into the cache entry is what the container's cache lists while
 * the files are unchanged; once a library of another capability than
 * utility and compute changed, the entry is not used and the SONAMEs are
 * the files' own. A mounted file that is not the driver's is read. */
static int mounted_libs_child(const char *rootfs, const char *cache_dir, const char *extra,
                              const char *libcuda, const char *vdpau)
{
    if (unshare(CLONE_NEWNS) < 0 || mount("", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return 10;
    const char *lib = "/usr/lib/x86_64-linux-gnu";
    cleanup_strv struct strv mounts = {0}, none = {0}, folders = {0};
    strv_push(&mounts,
              xasprintf("%s::%s/libcuda.so.580.95.05::ro,nosuid,nodev,bind", libcuda, lib));
    strv_push(&mounts,
              xasprintf("%s::%s/libvdpau_nvidia.so.580.95.05::ro,nosuid,nodev,bind", vdpau, lib));
    strv_push(&mounts, xasprintf("%s::%s/libextra.so.2.0::ro,nosuid,nodev,bind", extra, lib));
    strv_push(&folders, xstrdup(lib));
    const struct gctk_host_cache cache = {.dir = cache_dir};
    struct cdi_container_edits e = {.mounts = &mounts,
                                    .links = &none,
                                    .node_links = &none,
                                    .folders = &folders,
                                    .driver_root = libs_root,
                                    .cache = &cache};
    cleanup_free char *cache_path = xasprintf("%s/etc/ld.so.cache", rootfs);
    for (int round = 0; round < 2; round++) {
        gctk_error *err = NULL;
        struct cdi_hook_report rep = {0};
        if (cdi_hook_create_container(rootfs, 0, &e, &rep, &err) < 0) {
            fprintf(stderr, "%s\n", err->msg);
            return 11;
        }
        const char *want = round == 0 ? "used" : "missed";
        if (rep.cache == NULL || strcmp(rep.cache, want) != 0) {
            fprintf(stderr, "round %d: cache `%s`, not %s\n", round, rep.cache, want);
            return 12;
        }
        struct ldcache c = {0};
        if (ldcache_read(cache_path, &c, NULL) < 0)
            return 13;
        /* round 0: the entry's SONAMEs; round 1: the files' */
        bool ok =
            cache_has(&c, round == 0 ? "libcudz.so.1" : "libcuda.so.1", NULL) &&
            !cache_has(&c, round == 0 ? "libcuda.so.1" : "libcudz.so.1", NULL) &&
            cache_has(&c, round == 0 ? "libvdpaz_nvidia.so.1" : "libvdpau_nvidia.so.1", NULL) &&
            cache_has(&c, "libextra.so.2", "/usr/lib/x86_64-linux-gnu/libextra.so.2");
        ldcache_clear(&c);
        if (!ok)
            return 14 + round;
        for (size_t i = 0; i < mounts.len; i++) {
            cleanup_free char *host = NULL, *target = NULL;
            unsigned flags = 0;
            assert_int_equal(cdi_hook_mount_parse(mounts.items[i], &host, &target, &flags, NULL),
                             0);
            cleanup_free char *at = path_join(rootfs, target);
            if (umount2(at, MNT_DETACH) < 0)
                return 16;
        }
        cleanup_free char *proc = xasprintf("%s/proc/driver/nvidia", rootfs);
        if (umount2(proc, MNT_DETACH) < 0 || unlink(cache_path) < 0)
            return 16;
        /* a graphics library changed: its times */
        struct timespec old[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};
        if (utimensat(AT_FDCWD, vdpau, old, 0) < 0)
            return 17;
    }
    return 0;
}

/* Replaces the first `from` of the file at path by `to`, of its length, in
 * place (its owner and mode stay). */
static void edit_in_place(const char *path, const char *from, const char *to)
{
    cleanup_free char *text = NULL;
    size_t len = 0;
    assert_int_equal(read_file(path, 1 << 20, &text, &len, NULL), 0);
    const char *at = strstr(text, from);
    assert_non_null(at);
    assert_int_equal(strlen(from), strlen(to));
    cleanup_fd int fd = open(path, O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, to, strlen(to), at - text), (ssize_t)strlen(to));
}

static void test_hook_ldcache_mounted_libs(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip(); /* mounts */
    cleanup_free char *lib = NULL;
    cleanup_free char *rootfs = lib_rootfs("rootfs-mounted-libs", &lib);
    cleanup_free char *proc = xasprintf("%s/proc/driver/nvidia", rootfs);
    assert_int_equal(mkdir_p(proc, 0755, NULL), 0);
    cleanup_free char *extra = xasprintf("%s/libextra.so.2.0", tmp);
    assert_int_equal(elfstub_write(extra, "libextra.so.2", NULL, false, NULL), 0);
    cleanup_free char *libcuda =
        xasprintf("%s/usr/lib/x86_64-linux-gnu/libcuda.so.580.95.05", libs_root);
    cleanup_free char *vdpau =
        xasprintf("%s/usr/lib/x86_64-linux-gnu/libvdpau_nvidia.so.580.95.05", libs_root);
    /* the entry, stored once the host's files are old enough */
    while (time(NULL) < libs_made + 3)
        sleep(1);
    cleanup_free char *cache_dir = xasprintf("%s/cache-mounted-libs", tmp);
    const struct gctk_host_cache cache = {.dir = cache_dir};
    cleanup_host gctk_host *h = NULL;
    assert_int_equal(gctk_host_open_cached(libs_root, GCTK_HOST_NO_NVML, &cache, &h, NULL), 0);
    assert_string_equal(gctk_host_cache_word(h), "stored");
    size_t n = 0;
    cleanup_free char *entry = test_entry_of(cache_dir, "discovery-", &n);
    assert_int_equal(n, 1);
    edit_in_place(entry, "x86_64-linux-gnu/libcuda.so.580.95.05\t\tlibcuda.so.1\t",
                  "x86_64-linux-gnu/libcuda.so.580.95.05\t\tlibcudz.so.1\t");
    edit_in_place(entry, "x86_64-linux-gnu/libvdpau_nvidia.so.580.95.05\t\tlibvdpau_nvidia.so.1\t",
                  "x86_64-linux-gnu/libvdpau_nvidia.so.580.95.05\t\tlibvdpaz_nvidia.so.1\t");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(mounted_libs_child(rootfs, cache_dir, extra, libcuda, vdpau));
    assert_int_equal(child_exit(pid), 0);
}

/* A rootfs that is read-only when the createContainer hooks run (crun
 * before 1.26 makes a read-only root so first): the
 * hooks that write refuse it before making anything, with what works. */
static int read_only_child(const char *rootfs, const char *src)
{
    if (unshare(CLONE_NEWNS) < 0 || mount("", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
        mount(rootfs, rootfs, NULL, MS_BIND, NULL) < 0 ||
        mount(NULL, rootfs, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
        return 10;
    cleanup_strv struct strv mounts = {0}, links = {0}, none = {0}, folders = {0};
    strv_push(&mounts, xasprintf("%s::/usr/bin/tool::ro,bind", src));
    strv_push(&links, xstrdup("tool::/usr/bin/tool2"));
    strv_push(&folders, xstrdup("/usr/lib/x86_64-linux-gnu"));
    struct cdi_container_edits e = {
        .mounts = &mounts, .links = &links, .node_links = &none, .folders = &folders};
    const char *want = "is read-only when its createContainer hooks run, and the hook must "
                       "create the driver's files in it";
    gctk_error *err = NULL;
    if (cdi_hook_create_container(rootfs, 0, &e, NULL, &err) == 0 || strstr(err->msg, want) == NULL)
        return 11;
    gctk_error_free(err);
    err = NULL;
    if (cdi_hook_update_ldcache(rootfs, 0, &folders, NULL, &err) == 0 ||
        strstr(err->msg, want) == NULL)
        return 12;
    gctk_error_free(err);
    err = NULL;
    if (cdi_hook_create_symlinks(rootfs, 0, &links, &err) == 0 || strstr(err->msg, want) == NULL)
        return 13;
    gctk_error_free(err);
    /* nothing was made: the rootfs holds only what it had */
    cleanup_free char *tool = path_join(rootfs, "/usr/bin/tool");
    struct stat st;
    return lstat(tool, &st) == 0 ? 14 : 0;
}

static void test_hook_read_only_rootfs(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip(); /* mounts */
    cleanup_free char *lib = NULL;
    cleanup_free char *rootfs = lib_rootfs("rootfs-read-only", &lib);
    cleanup_free char *src = xasprintf("%s/src-read-only", tmp);
    write_text(src, "");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(read_only_child(rootfs, src));
    assert_int_equal(child_exit(pid), 0);
}

/* rootless: the hook and gctk configure leave the cgroup alone in a user namespace */
static void test_uid_map(void **state)
{
    (void)state;
    assert_true(inject_uid_map_is_initial("         0          0 4294967295\n"));
    assert_false(inject_uid_map_is_initial("         0       1000          1\n"));
    assert_false(inject_uid_map_is_initial("0 0 4294967295\n1 1 1\n"));
    assert_false(inject_uid_map_is_initial(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_json),
        cmocka_unit_test(test_golden_yaml),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_generated_shape),
        cmocka_unit_test(test_driver_behind_links),
        cmocka_unit_test(test_required_version),
        cmocka_unit_test(test_validate_findings),
        cmocka_unit_test(test_validate_schema),
        cmocka_unit_test(test_parse_yaml),
        cmocka_unit_test(test_yaml_scalars),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_names_bounded),
        cmocka_unit_test(test_resolve_apply),
        cmocka_unit_test(test_apply_hook_mounts),
        cmocka_unit_test(test_apply_own_hook),
        cmocka_unit_test(test_hand_mounts),
        cmocka_unit_test(test_apply_node_modes),
        cmocka_unit_test(test_load_dirs),
        cmocka_unit_test(test_load_dirs_trust),
        cmocka_unit_test(test_hook_symlinks_ldcache),
        cmocka_unit_test(test_hook_ldcache_planted_fifo),
        cmocka_unit_test(test_hook_ldcache_folder_race),
        cmocka_unit_test(test_hook_mask_proc_major),
        cmocka_unit_test(test_hook_create_container),
        cmocka_unit_test(test_hook_mounts),
        cmocka_unit_test(test_hook_ldcache_dev_links_compat),
        cmocka_unit_test(test_hook_ldcache_image_cache),
        cmocka_unit_test(test_hook_ldcache_mounted_libs),
        cmocka_unit_test(test_hook_read_only_rootfs),
        cmocka_unit_test(test_layout_links),
        cmocka_unit_test(test_spec_rows),
        cmocka_unit_test(test_uid_map),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
