/* Unit tests of MIG: the parsers of the driver's capability files, the id
 * parser of selection (GPU:MIG pairs, MIG UUIDs, the older MIG-GPU-<uuid>/gi/ci
 * form) with its errors, discovery with and without NVML, the plan (nodes and
 * access files, missing nodes), the privileged-only MIG capabilities of a
 * request and the simulator's --mig syntax. Fixture: a simulated host with
 * GPUs 0 and 1 in MIG mode and GPU 2 not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <ftw.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "cdi.h"
#include "host.h"
#include "oci.h"
#include "request.h"
#include "sim.h"
#include "testutil.h"

static char tmp[] = "/tmp/gctk-test-mig.XXXXXX";
static char root[PATH_MAX];

static void make_host(const char *const *mig, size_t nmig)
{
    static int seq;
    snprintf(root, sizeof(root), "%s/host%d", tmp, seq++);
    struct gctk_sim_options o;
    gctk_sim_options_init(&o);
    o.gpus = 3;
    o.mig = mig;
    o.nmig = nmig;
    struct strv warnings = {0};
    gctk_error *err = NULL;
    if (gctk_sim_create(root, &o, &warnings, &err) < 0)
        fail_msg("sim create: %s", err->msg);
    strv_clear(&warnings);
}

static const char *const two_mig[] = {"0:1g.10gb,1g.10gb,2g.20gb", "1:3g.40gb"};

static int group_setup(void **state)
{
    (void)state;
    if (test_use_build_sim() < 0 || mkdtemp(tmp) == NULL)
        return -1;
    make_host(two_mig, 2);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    nftw(tmp, test_rm_entry, 32, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static gctk_host *open_ok(unsigned flags)
{
    gctk_host *h = NULL;
    gctk_error *err = NULL;
    if (gctk_host_open(root, flags, &h, &err) < 0)
        fail_msg("open: %s", err->msg);
    return h;
}

/* selects ids; returns the error message (owned) or NULL */
static char *select_err(gctk_host *h, const char *ids, struct gctk_selection *s)
{
    gctk_error *err = NULL;
    *s = (struct gctk_selection){0};
    if (gctk_select(h, ids, s, &err) == 0)
        return NULL;
    char *msg = xstrdup(err->msg);
    gctk_error_free(err);
    return msg;
}

static void test_parsers(void **state)
{
    (void)state;
    int minor = -1;
    gctk_error *err = NULL;
    assert_int_equal(host_parse_cap_access("DeviceFileMinor: 22\nDeviceFileMode: 292\n"
                                           "DeviceFileModify: 1\n",
                                           &minor, &err),
                     0);
    assert_int_equal(minor, 22);
    assert_int_equal(host_parse_cap_access("DeviceFileMode: 292\n", &minor, &err), -1);
    assert_non_null(strstr(err->msg, "DeviceFileMinor"));
    gctk_error_free(err);
    err = NULL;
    assert_int_equal(host_parse_cap_access("DeviceFileMinor: x\n", &minor, &err), -1);
    gctk_error_free(err);
    err = NULL;
    assert_int_equal(host_parse_cap_access("XDeviceFileMinor: 3\n", &minor, &err), -1);
    gctk_error_free(err);

    const char *table = "config 1\nmonitor 2\ngpu0/gi0/access 3\ngpu0/gi0/ci0/access 4\n"
                        "gpu0/gi1/access 12\ngpu0/gi1/ci0/access 13\nbad x\n";
    assert_int_equal(host_mig_minors_lookup(table, "config"), 1);
    assert_int_equal(host_mig_minors_lookup(table, "monitor"), 2);
    assert_int_equal(host_mig_minors_lookup(table, "gpu0/gi1/access"), 12);
    assert_int_equal(host_mig_minors_lookup(table, "gpu0/gi1/ci0/access"), 13);
    assert_int_equal(host_mig_minors_lookup(table, "gpu0/gi1"), -1);
    assert_int_equal(host_mig_minors_lookup(table, "bad"), -1);
    assert_int_equal(host_mig_minors_lookup(table, "gpu9/gi0/access"), -1);

    const char *devices = "Character devices:\n  1 mem\n195 nvidia\n509 nvidia-caps-imex\n"
                          "511 nvidia-caps\n\nBlock devices:\n  7 nvidia-caps\n";
    assert_int_equal(host_parse_proc_devices(devices, "nvidia-caps"), 511);
    assert_int_equal(host_parse_proc_devices(devices, "nvidia"), 195);
    assert_int_equal(host_parse_proc_devices(devices, "nvidia-uvm"), -1);
    assert_int_equal(host_parse_proc_devices("garbage", "nvidia-caps"), -1);

    cleanup_free char *p = host_mig_profile_of("NVIDIA A100-SXM4-40GB MIG 1g.5gb");
    assert_string_equal(p, "1g.5gb");
    assert_null(host_mig_profile_of("NVIDIA A100-SXM4-40GB"));
    assert_string_equal(gctk_mig_mode_name(GCTK_MIG_ENABLED), "enabled");
    assert_string_equal(gctk_mig_mode_name(GCTK_MIG_DISABLED), "disabled");
    assert_string_equal(gctk_mig_mode_name(GCTK_MIG_UNSUPPORTED), "unsupported");
    assert_string_equal(gctk_mig_mode_name(GCTK_MIG_UNKNOWN), "unknown");
}

static void test_sim_mig_syntax(void **state)
{
    (void)state;
    unsigned gpu = 99;
    struct strv prof = {0};
    gctk_error *err = NULL;
    assert_int_equal(gctk_sim_parse_mig("1:1g.10gb,2g.20gb+me", &gpu, &prof, &err), 0);
    assert_int_equal(gpu, 1);
    assert_int_equal(prof.len, 2);
    assert_string_equal(prof.items[1], "2g.20gb+me");
    strv_clear(&prof);
    static const char *const bad[] = {"1g.10gb",    "x:1g.10gb",         "0:",          "0:8g.10gb",
                                      "0:1g10gb",   "0:4g.40gb,4g.40gb", "0:1g.10gb,,", ":1g.10gb",
                                      "0:1g.10gbx", "-1:1g.10gb"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(bad); i++) {
        err = NULL;
        if (gctk_sim_parse_mig(bad[i], &gpu, &prof, &err) == 0)
            fail_msg("`%s` accepted", bad[i]);
        gctk_error_free(err);
    }
    assert_int_equal(gctk_sim_mig_minor(0, 0, -1), 3);
    assert_int_equal(gctk_sim_mig_minor(0, 1, 0), 13);
    assert_int_equal(gctk_sim_mig_minor(1, 1, -1), 147);
    cleanup_free char *a = gctk_sim_mig_uuid(0, 1, 0);
    cleanup_free char *b = gctk_sim_mig_uuid(0, 2, 0);
    cleanup_free char *c = gctk_sim_mig_uuid(0, 1, 0);
    assert_true(strncmp(a, "MIG-", 4) == 0 && strlen(a) == 40);
    assert_string_not_equal(a, b);
    assert_string_equal(a, c);

    /* a model without MIG, a GPU out of range, a GPU twice */
    struct gctk_sim_options o;
    gctk_sim_options_init(&o);
    o.gpus = 2;
    const char *const v100[] = {"0:1g.10gb"};
    o.mig = v100;
    o.nmig = 1;
    o.model = "Tesla V100-SXM2-32GB";
    cleanup_free char *dir = xasprintf("%s/bad", tmp);
    err = NULL;
    assert_int_equal(gctk_sim_create(dir, &o, NULL, &err), -1);
    assert_non_null(strstr(err->msg, "MIG needs"));
    gctk_error_free(err);
    o.model = GCTK_SIM_DEFAULT_MODEL;
    const char *const far[] = {"2:1g.10gb"};
    o.mig = far;
    err = NULL;
    assert_int_equal(gctk_sim_create(dir, &o, NULL, &err), -1);
    assert_non_null(strstr(err->msg, "no GPU 2"));
    gctk_error_free(err);
    const char *const twice[] = {"0:1g.10gb", "0:2g.20gb"};
    o.mig = twice;
    o.nmig = 2;
    err = NULL;
    assert_int_equal(gctk_sim_create(dir, &o, NULL, &err), -1);
    assert_non_null(strstr(err->msg, "given twice"));
    gctk_error_free(err);
    struct stat st;
    assert_int_equal(stat(dir, &st), -1); /* checked before anything is built */
}

static void test_discovery_without_nvml(void **state)
{
    (void)state;
    gctk_host *h = open_ok(GCTK_HOST_NO_NVML);
    assert_int_equal(gctk_host_mig_count(h), 4);
    assert_int_equal(gctk_host_gpu(h, 0)->mig_mode, GCTK_MIG_ENABLED);
    assert_int_equal(gctk_host_gpu(h, 1)->mig_mode, GCTK_MIG_ENABLED);
    assert_int_equal(gctk_host_gpu(h, 2)->mig_mode, GCTK_MIG_UNKNOWN);
    const struct gctk_mig *m = gctk_host_mig(h, 1);
    assert_int_equal(m->gpu, 0);
    assert_int_equal(m->index, 1);
    assert_int_equal(m->gi, 2);
    assert_int_equal(m->ci, 0);
    assert_null(m->uuid);
    assert_null(m->profile);
    assert_string_equal(m->gi_access, "/proc/driver/nvidia/capabilities/gpu0/mig/gi2/access");
    assert_string_equal(m->ci_access, "/proc/driver/nvidia/capabilities/gpu0/mig/gi2/ci0/access");
    assert_int_equal(m->gi_minor, gctk_sim_mig_minor(0, 2, -1));
    assert_int_equal(m->ci_minor, gctk_sim_mig_minor(0, 2, 0));
    assert_int_equal(gctk_host_mig(h, 3)->gpu, 1);
    assert_null(gctk_host_mig(h, 4));
    /* the nvidia-cap nodes, with the major /proc/devices names */
    size_t caps = 0;
    for (size_t i = 0; i < gctk_host_node_count(h); i++)
        if (gctk_host_node(h, i)->kind == GCTK_NODE_CAP) {
            caps++;
            assert_int_equal(gctk_host_node(h, i)->major, GCTK_SIM_CAPS_MAJOR);
        }
    assert_int_equal(caps, 2 + 2 * 4);

    /* MIG UUIDs need NVML: said so */
    struct gctk_selection s;
    cleanup_free char *msg = select_err(h, "MIG-28dee6ab-9d55-79a7-2ede-b2206410b9f0", &s);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "known only through NVML"));
    cleanup_free char *ok = select_err(h, "0:1", &s);
    assert_null(ok);
    assert_int_equal(s.mig_count, 1);
    assert_int_equal(s.migs[0], 1);
    gctk_selection_clear(&s);
    gctk_host_free(h);
}

static void test_discovery_with_nvml(void **state)
{
    (void)state;
    gctk_host *h = open_ok(0);
    assert_int_equal(gctk_host_mig_count(h), 4);
    assert_int_equal(gctk_host_gpu(h, 2)->mig_mode, GCTK_MIG_DISABLED); /* NVML asked */
    for (size_t i = 0; i < 4; i++) {
        const struct gctk_mig *m = gctk_host_mig(h, i);
        cleanup_free char *uuid = gctk_sim_mig_uuid((unsigned)m->gpu, (unsigned)m->gi, 0);
        assert_string_equal(m->uuid, uuid);
    }
    assert_string_equal(gctk_host_mig(h, 2)->profile, "2g.20gb");
    assert_int_equal(gctk_host_mig(h, 2)->memory_mib, 20 * 1024 - 256);
    assert_string_equal(gctk_host_mig(h, 3)->profile, "3g.40gb");
    gctk_host_free(h);
}

static void test_select_ids(void **state)
{
    (void)state;
    gctk_host *h = open_ok(0);
    struct gctk_selection s;
    cleanup_free char *u3 = gctk_sim_mig_uuid(1, 1, 0);
    cleanup_free char *gpu1 = gctk_sim_gpu_uuid(1);
    /* pairs, UUIDs (any case), the old form, duplicates, mixed with a GPU */
    cleanup_free char *lower = xstrdup(u3);
    lower[0] = 'm';
    /* the old form is MIG-GPU-<uuid>/gi/ci */
    cleanup_free char *old = xasprintf("MIG-%s/1/0", gpu1);
    cleanup_free char *ids = xasprintf("0:2, %s,%s,0:2,2", lower, old);
    cleanup_free char *e = select_err(h, ids, &s);
    if (e != NULL)
        fail_msg("%s", e);
    assert_int_equal(s.mode, GCTK_SELECT_LIST);
    assert_int_equal(s.count, 1);
    assert_int_equal(s.gpus[0], 2);
    assert_int_equal(s.mig_count, 2);
    assert_int_equal(s.migs[0], 2);
    assert_int_equal(s.migs[1], 3);
    assert_null(s.note); /* GPU 2 is not in MIG mode */
    gctk_selection_clear(&s);

    /* all: every GPU and every MIG device */
    e = select_err(h, "all", &s);
    assert_null(e);
    assert_int_equal(s.count, 3);
    assert_int_equal(s.mig_count, 4);
    gctk_selection_clear(&s);

    /* a whole GPU in MIG mode: allowed, and said */
    e = select_err(h, "1", &s);
    assert_null(e);
    assert_non_null(s.note);
    assert_non_null(strstr(s.note, "GPU 1"));
    assert_non_null(strstr(s.note, "is in MIG mode"));
    assert_non_null(strstr(s.note, u3));
    gctk_selection_clear(&s);

    static const struct {
        const char *id, *want;
    } bad[] = {
        {"2:0", "GPU 2 (GPU-"}, /* MIG off */
        {"2:0", "is not in MIG mode (MIG mode disabled)"},
        {"0:3", "unknown MIG device `0:3`: GPU 0 has 0:0 (MIG-"},
        {"5:0", "unknown GPU `5`"},
        {"0:x", "expected GPU:MIG indexes"},
        {":1", "expected GPU:MIG indexes"},
        {"MIG-00000000-0000-0000-0000-000000000000", "unknown MIG device"},
        {"MIG-GPU-nope/1/0", "no GPU has that UUID"},
        {"MIG-GPU-x/1", "expected MIG-GPU-<uuid>/<gi>/<ci>"},
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(bad); i++) {
        cleanup_free char *msg = select_err(h, bad[i].id, &s);
        if (msg == NULL || strstr(msg, bad[i].want) == NULL)
            fail_msg("`%s`: got `%s`, want `%s`", bad[i].id, msg ? msg : "(accepted)", bad[i].want);
    }
    /* the unknown-UUID message names the valid ones */
    cleanup_free char *msg = select_err(h, "MIG-00000000-0000-0000-0000-000000000000", &s);
    assert_non_null(strstr(msg, u3));
    /* the old form with an unknown instance names the GPU's devices */
    cleanup_free char *old_bad = xasprintf("MIG-%s/7/0", gpu1);
    cleanup_free char *msg2 = select_err(h, old_bad, &s);
    assert_non_null(strstr(msg2, "no GPU instance 7"));
    gctk_host_free(h);
}

static void test_plan(void **state)
{
    (void)state;
    gctk_host *h = open_ok(0);
    struct gctk_selection s;
    assert_null(select_err(h, "0:1", &s));
    gctk_plan *p = NULL;
    gctk_error *err = NULL;
    assert_int_equal(gctk_plan_new(h, &s, GCTK_CAP_DEFAULT, &p, &err), 0);
    assert_int_equal(gctk_plan_gpu_count(p), 1); /* the parent */
    assert_int_equal(gctk_plan_gpu(p, 0)->index, 0);
    assert_int_equal(gctk_plan_mig_count(p), 1);
    assert_int_equal(gctk_plan_mig(p, 0)->gi, 2);
    size_t caps = 0, gpus = 0;
    for (size_t i = 0; i < gctk_plan_node_count(p); i++) {
        const struct gctk_node *n = gctk_plan_node(p, i);
        if (n->kind == GCTK_NODE_CAP) {
            caps++;
            assert_true(n->minor == 21 || n->minor == 22);
        }
        gpus += n->kind == GCTK_NODE_GPU;
    }
    assert_int_equal(caps, 2);
    assert_int_equal(gpus, 1);
    assert_int_equal(gctk_plan_proc_count(p), 2);
    assert_string_equal(gctk_plan_proc(p, 0),
                        "/proc/driver/nvidia/capabilities/gpu0/mig/gi2/access");
    assert_null(gctk_plan_proc(p, 2));
    gctk_plan_free(p);

    /* monitor and config */
    assert_int_equal(gctk_select_mig_caps(h, "1", "all", &s, &err), 0);
    assert_int_equal(gctk_plan_new(h, &s, GCTK_CAP_DEFAULT, &p, &err), 0);
    assert_int_equal(gctk_plan_gpu_count(p), 2);
    bool config = false, monitor = false, dir = false;
    for (size_t i = 0; i < gctk_plan_node_count(p); i++) {
        config = config || gctk_plan_node(p, i)->minor == 1;
        monitor = monitor ||
                  (gctk_plan_node(p, i)->kind == GCTK_NODE_CAP && gctk_plan_node(p, i)->minor == 2);
    }
    for (size_t i = 0; i < gctk_plan_proc_count(p); i++)
        dir = dir || strcmp(gctk_plan_proc(p, i), "/proc/driver/nvidia/capabilities/gpu1/mig") == 0;
    assert_true(config && monitor && dir);
    gctk_plan_free(p);
    gctk_selection_clear(&s);

    /* config of a GPU with MIG off; MIG ids where GPUs are wanted */
    s = (struct gctk_selection){0};
    assert_int_equal(gctk_select_mig_caps(h, "2", NULL, &s, &err), -1);
    assert_non_null(strstr(err->msg, "NVIDIA_MIG_CONFIG_DEVICES: GPU 2"));
    gctk_error_free(err);
    err = NULL;
    assert_int_equal(gctk_select_mig_caps(h, NULL, "0:1", &s, &err), -1);
    assert_non_null(strstr(err->msg, "name GPUs, not MIG devices"));
    gctk_error_free(err);
    err = NULL;
    gctk_selection_clear(&s);

    /* a missing nvidia-cap node: the plan says how to make it */
    cleanup_free char *node = xasprintf("%s/dev/nvidia-caps/nvidia-cap148", root);
    assert_int_equal(unlink(node), 0);
    gctk_host_free(h);
    h = open_ok(0);
    assert_null(select_err(h, "1:0", &s));
    assert_int_equal(gctk_plan_new(h, &s, GCTK_CAP_DEFAULT, &p, &err), -1);
    assert_non_null(
        strstr(err->msg, "nvidia-cap148` is missing: create it with `nvidia-modprobe -f"));
    gctk_error_free(err);
    gctk_selection_clear(&s);
    gctk_host_free(h);
    make_host(two_mig, 2); /* restore the fixture */
}

static void test_request_privileged_only(void **state)
{
    (void)state;
    struct strv env = {0};
    strv_push(&env, xstrdup("NVIDIA_VISIBLE_DEVICES=0:1"));
    strv_push(&env, xstrdup("NVIDIA_MIG_CONFIG_DEVICES=all"));
    strv_push(&env, xstrdup("NVIDIA_MIG_MONITOR_DEVICES=0"));
    struct gctk_config cfg = {.accept_nvidia_visible_devices_envvar_when_unprivileged = true};
    struct request r = {0};
    gctk_error *err = NULL;
    assert_int_equal(request_from_env(&env, false, &cfg, &r, &err), 0);
    assert_null(r.mig_config);
    assert_null(r.mig_monitor);
    assert_non_null(strstr(r.ignored, "NVIDIA_MIG_CONFIG_DEVICES=all ignored"));
    assert_non_null(strstr(r.ignored, "NVIDIA_MIG_MONITOR_DEVICES=0 ignored"));
    request_clear(&r);
    assert_int_equal(request_from_env(&env, true, &cfg, &r, &err), 0);
    assert_string_equal(r.mig_config, "all");
    assert_string_equal(r.mig_monitor, "0");
    assert_null(r.ignored);
    request_clear(&r);
    strv_clear(&env);
    /* not a GPU container: nothing */
    strv_push(&env, xstrdup("NVIDIA_MIG_MONITOR_DEVICES=all"));
    assert_int_equal(request_from_env(&env, true, &cfg, &r, &err), 0);
    assert_null(r.mig_monitor);
    request_clear(&r);
    strv_clear(&env);
}

/* The CDI spec of the MIG host: one device per MIG device by pair and UUID,
 * with its parent's node and its two nvidia-cap nodes; the cap nodes are in
 * no other device and not at the top level. Golden file:
 * tests/cdi/golden/sim-mig.json (GCTK_UPDATE_GOLDEN=1 rewrites it). */
static void test_cdi(void **state)
{
    (void)state;
    gctk_host *h = open_ok(0);
    struct cdi_options o = {.naming = CDI_NAME_BOTH, .gctk_path = "/usr/bin/gctk"};
    json_t *spec = NULL;
    gctk_error *err = NULL;
    if (cdi_generate(h, &o, &spec, &err) < 0)
        fail_msg("generate: %s", err->msg);
    json_t *devs = json_object_get(spec, "devices");
    cleanup_free char *u1 = gctk_sim_mig_uuid(0, 2, 0);
    bool pair = false, uuid = false;
    for (size_t i = 0; i < json_array_size(devs); i++) {
        json_t *d = json_array_get(devs, i);
        const char *name = json_string_value(json_object_get(d, "name"));
        json_t *nodes = json_object_get(json_object_get(d, "containerEdits"), "deviceNodes");
        cleanup_free char *paths = xstrdup("");
        for (size_t k = 0; k < json_array_size(nodes); k++) {
            char *more =
                xasprintf("%s %s", paths,
                          json_string_value(json_object_get(json_array_get(nodes, k), "path")));
            free(paths);
            paths = more;
        }
        if (strcmp(name, "0:1") == 0 || strcmp(name, u1) == 0) {
            assert_string_equal(paths, " /dev/nvidia0 /dev/nvidia-caps/nvidia-cap21 "
                                       "/dev/nvidia-caps/nvidia-cap22");
            pair = pair || strcmp(name, "0:1") == 0;
            uuid = uuid || strcmp(name, u1) == 0;
        } else if (strcmp(name, "0") == 0) {
            /* the whole GPU: its node and its DRM nodes (a MIG device has none) */
            assert_string_equal(paths, " /dev/nvidia0 /dev/dri/card1 /dev/dri/renderD128");
        }
    }
    assert_true(pair && uuid);
    json_t *top = json_object_get(json_object_get(spec, "containerEdits"), "deviceNodes");
    for (size_t k = 0; k < json_array_size(top); k++)
        assert_null(strstr(json_string_value(json_object_get(json_array_get(top, k), "path")),
                           "nvidia-caps"));
    struct strv problems = {0};
    /* every node and file exists with its major:minor (the hooks' /usr/bin/gctk
     * need not exist here) */
    cdi_validate(spec, CDI_CHECK_HOST, gctk_host_driver_version(h), &problems);
    size_t n = 0;
    for (size_t i = 0; i < problems.len; i++)
        if (strstr(problems.items[i], ".hooks[") == NULL) {
            fprintf(stderr, "# %s\n", problems.items[i]);
            n++;
        }
    assert_int_equal(n, 0);
    strv_clear(&problems);

    cleanup_free char *text = cdi_to_json(spec);
    json_decref(spec);
    gctk_host_free(h);
    /* the golden file, with the host's root as @ROOT@ */
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    assert_true(len > 0);
    exe[len] = '\0';
    *strrchr(exe, '/') = '\0';
    cleanup_free char *info = xasprintf("%s/../../meson-info/meson-info.json", exe);
    json_t *j = json_load_file(info, 0, NULL);
    const char *src =
        json_string_value(json_object_get(json_object_get(j, "directories"), "source"));
    cleanup_free char *path =
        src != NULL ? xasprintf("%s/tests/cdi/golden/sim-mig.json", src) : NULL;
    json_decref(j);
    if (path == NULL)
        skip();
    size_t rl = strlen(root), out = 0;
    cleanup_free char *got = xmalloc(strlen(text) * 2 + 1);
    for (const char *p = text; *p;) {
        if (strncmp(p, root, rl) == 0) {
            memcpy(got + out, "@ROOT@", 6);
            out += 6;
            p += rl;
        } else {
            got[out++] = *p++;
        }
    }
    got[out] = '\0';
    if (getenv("GCTK_UPDATE_GOLDEN") != NULL) {
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs(got, f);
        fclose(f);
    }
    cleanup_free char *want = NULL;
    if (read_file(path, 1 << 22, &want, NULL, &err) < 0)
        fail_msg("%s (GCTK_UPDATE_GOLDEN=1 writes it)", err->msg);
    if (strcmp(want, got) != 0)
        fail_msg("`%s` differs from the output:\n%s", path, got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parsers),
        cmocka_unit_test(test_sim_mig_syntax),
        cmocka_unit_test(test_discovery_without_nvml),
        cmocka_unit_test(test_discovery_with_nvml),
        cmocka_unit_test(test_select_ids),
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_cdi),
        cmocka_unit_test(test_request_privileged_only),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
