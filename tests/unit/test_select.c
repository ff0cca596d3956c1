/* Unit tests of lib/host/select.c on a simulated 4-GPU host: which GPUs a list
 * names, and what an unknown id or a count beyond the host says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <ftw.h>
#include <limits.h>
#include <string.h>

#include "gctk.h"
#include "sim.h"
#include "util.h"
#include "testutil.h"

static char tmp[PATH_MAX];
static gctk_host *host;

/* a 4-GPU host from the mocks of this build: build/tests/unit -> build/sim */
static int group_setup(void **state)
{
    (void)state;
    cleanup_free char *mocks = test_build_sim_dir();
    if (mocks == NULL)
        return -1;
    snprintf(tmp, sizeof(tmp), "/tmp/gctk-test-select.XXXXXX");
    if (mkdtemp(tmp) == NULL)
        return -1;
    struct gctk_sim_options o;
    gctk_sim_options_init(&o);
    o.gpus = 4;
    o.mock_dir = mocks;
    o.force = true;
    struct strv warnings = {0};
    cleanup_error gctk_error *err = NULL;
    int rc = gctk_sim_create(tmp, &o, &warnings, &err);
    strv_clear(&warnings);
    if (rc < 0 || gctk_host_open(tmp, GCTK_HOST_NO_NVML, &host, &err) < 0) {
        fprintf(stderr, "setup: %s\n", err ? err->msg : "?");
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    gctk_host_free(host);
    nftw(tmp, test_rm_entry, 32, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* the selected indexes as "0,3", or the error message */
static char *select_str(const char *ids)
{
    struct gctk_selection s = {0};
    cleanup_error gctk_error *err = NULL;
    if (gctk_select(host, ids, &s, &err) < 0)
        return xstrdup(err->msg);
    char buf[256] = "";
    size_t n = 0;
    for (size_t i = 0; i < s.count; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%d", i ? "," : "", s.gpus[i]);
    gctk_selection_clear(&s);
    return xstrdup(buf);
}

static void test_lists(void **state)
{
    (void)state;
    const char *cases[][2] = {
        {"all", "0,1,2,3"}, {"3,0", "0,3"}, {"0,1,2,3", "0,1,2,3"}, {"1, 1", "1"}, {"none", ""},
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(cases); i++) {
        cleanup_free char *got = select_str(cases[i][0]);
        assert_string_equal(got, cases[i][1]);
    }
    cleanup_free char *uuid = gctk_sim_gpu_uuid(2);
    cleanup_free char *got = select_str(uuid);
    assert_string_equal(got, "2");
}

static void test_unknown_index(void **state)
{
    (void)state;
    cleanup_free char *uuid0 = gctk_sim_gpu_uuid(0);
    cleanup_free char *got = select_str("0,7");
    cleanup_free char *want = xasprintf("unknown GPU `7`: this host has 0 (%s, ", uuid0);
    assert_true(strncmp(got, want, strlen(want)) == 0);
    /* not the sequence of a count: 1..4 is a list of ids */
    cleanup_free char *got2 = select_str("1,2,3,4");
    assert_true(strncmp(got2, "unknown GPU `4`", 15) == 0);
}

/* `docker run --gpus 9` sends 0,...,8: say it as a count */
static void test_count_beyond_host(void **state)
{
    (void)state;
    cleanup_free char *got = select_str("0,1,2,3,4,5,6,7,8");
    cleanup_free char *uuid3 = gctk_sim_gpu_uuid(3);
    assert_non_null(strstr(got, "9 GPUs asked for (ids 0 to 8: what `docker run --gpus 9` and "
                                "Compose's `count: 9` ask for) but this host has 4: 0 ("));
    assert_non_null(strstr(got, uuid3));
    assert_non_null(strstr(got, "; ask for at most 4, or for all"));
    cleanup_free char *five = select_str("0,1,2,3,4");
    assert_true(strncmp(five, "5 GPUs asked for", 16) == 0);
}

/* NVIDIA's jit-cdi names (runtime.nvidia.com/gpu=<id>, its runtime's default
 * since 1.18) name the GPUs their ids name; other CDI names are the
 * runtime's to apply, and the hook says so */
static void test_jit_cdi_names(void **state)
{
    (void)state;
    cleanup_free char *uuid2 = gctk_sim_gpu_uuid(2);
    cleanup_free char *bus3 = gctk_sim_gpu_bus_id(3);
    cleanup_free char *by_uuid = xasprintf("runtime.nvidia.com/gpu=%s", uuid2);
    cleanup_free char *mixed =
        xasprintf("runtime.nvidia.com/gpu=%s, 1,runtime.nvidia.com/gpu=%s", bus3, uuid2);
    const char *cases[][2] = {
        {"runtime.nvidia.com/gpu=all", "0,1,2,3"},
        {"runtime.nvidia.com/gpu=3,runtime.nvidia.com/gpu=0", "0,3"},
        {by_uuid, "2"},
        {mixed, "1,2,3"},
        {"runtime.nvidia.com/gpu=all,0",
         "GPU list `runtime.nvidia.com/gpu=all,0`: `all` cannot be combined with other ids"},
        {"nvidia.com/gpu=0",
         "`nvidia.com/gpu=0` is a CDI device name, which the runtime applies, not the hook: run "
         "the container with `--runtime=nvidia` (gctk-runtime), or give it to Docker 25 or later "
         "as `--device nvidia.com/gpu=0`, or name the GPU by its index or UUID"},
        {"0,example.com/gpu=x", "`example.com/gpu=x` is a CDI device name, which the runtime"},
        /* the id of a jit-cdi name is checked as any id */
        {"runtime.nvidia.com/gpu=7", "unknown GPU `7`: this host has 0 ("},
        {"runtime.nvidia.com/gpu=", "`runtime.nvidia.com/gpu=` names no GPU: add an index, a "
                                    "UUID, a MIG device or `all`"},
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(cases); i++) {
        cleanup_free char *got = select_str(cases[i][0]);
        if (strncmp(got, cases[i][1], strlen(cases[i][1])) != 0)
            fail_msg("%s: got `%s`, want `%s`", cases[i][0], got, cases[i][1]);
    }
}

/* The error message lists every GPU whatever the length of its UUID (the
 * driver's /proc text): it used to be written into a buffer sized by a guess
 * of 80 bytes a GPU */
static void test_long_uuid_in_message(void **state)
{
    (void)state;
    cleanup_free char *dir = xasprintf("%s-long", tmp);
    cleanup_free char *cmd = xasprintf("cp -a '%s' '%s'", tmp, dir);
    assert_int_equal(system(cmd), 0);
    cleanup_free char *bus = gctk_sim_gpu_bus_id(0);
    cleanup_free char *info = xasprintf("%s/proc/driver/nvidia/gpus/%s/information", dir, bus);
    struct strbuf long_uuid = {0};
    strbuf_addf(&long_uuid, "GPU-");
    for (int i = 0; i < 100; i++)
        strbuf_addf(&long_uuid, "%08x", i);
    cleanup_free char *uuid = strbuf_steal(&long_uuid);
    cleanup_free char *text = xasprintf("Model: \t NVIDIA H100 80GB HBM3\nGPU UUID: \t %s\n"
                                        "Bus Location: \t %s\nDevice Minor: \t 0\n",
                                        uuid, bus);
    const struct write_opts o = {.mode = 0444};
    assert_int_equal(write_file(info, text, strlen(text), &o, NULL), 0);
    gctk_host *h = NULL;
    cleanup_error gctk_error *err = NULL;
    assert_int_equal(gctk_host_open(dir, GCTK_HOST_NO_NVML, &h, &err), 0);
    struct gctk_selection sel = {0};
    assert_int_equal(gctk_select(h, "9", &sel, &err), -1);
    assert_non_null(strstr(err->msg, uuid));
    cleanup_free char *uuid3 = gctk_sim_gpu_uuid(3);
    assert_non_null(strstr(err->msg, uuid3));
    gctk_host_free(h);
    nftw(dir, test_rm_entry, 32, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_unknown_index),
        cmocka_unit_test(test_count_beyond_host),
        cmocka_unit_test(test_long_uuid_in_message),
        cmocka_unit_test(test_jit_cdi_names),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
