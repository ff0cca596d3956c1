/* Unit tests of lib/host/devchar.c on simulated hosts: the /dev/char links of
 * the NVIDIA nodes, made, kept, replaced, left alone, and (--create-all)
 * those of every node the driver can make. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <ftw.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "gctk.h"
#include "sim.h"
#include "util.h"
#include "testutil.h"

static char tmp[PATH_MAX];
static char *plain, *mig; /* a 2-GPU host; a 2-GPU host with GPU 1 in MIG mode */

static int make_host(const char *dir, const char *const *migs, size_t nmig)
{
    cleanup_free char *mocks = test_build_sim_dir();
    if (mocks == NULL)
        return -1;
    struct gctk_sim_options o;
    gctk_sim_options_init(&o);
    o.gpus = 2;
    o.mock_dir = mocks;
    o.mig = migs;
    o.nmig = nmig;
    cleanup_strv struct strv warnings = {0};
    cleanup_error gctk_error *err = NULL;
    if (gctk_sim_create(dir, &o, &warnings, &err) < 0) {
        fprintf(stderr, "setup: %s\n", err->msg);
        return -1;
    }
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof(tmp), "/tmp/gctk-test-devchar.XXXXXX");
    if (mkdtemp(tmp) == NULL)
        return -1;
    plain = xasprintf("%s/plain", tmp);
    mig = xasprintf("%s/mig", tmp);
    const char *const migs[] = {"1:1g.10gb,1g.10gb"};
    return make_host(plain, NULL, 0) < 0 || make_host(mig, migs, 1) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    nftw(tmp, test_rm_entry, 32, FTW_DEPTH | FTW_PHYS);
    free(plain);
    free(mig);
    return 0;
}

/* the simulator makes real nodes only where mknod is allowed */
static void need_nodes(const char *root)
{
    struct stat st;
    cleanup_free char *node = xasprintf("%s/dev/nvidia0", root);
    if (stat(node, &st) < 0 || !S_ISCHR(st.st_mode))
        skip();
}

static char *link_text(const char *dir, const char *name)
{
    cleanup_free char *path = xasprintf("%s/%s", dir, name);
    char buf[PATH_MAX];
    ssize_t n = readlink(path, buf, sizeof(buf) - 1);
    if (n < 0)
        return NULL;
    buf[n] = '\0';
    return xstrdup(buf);
}

static size_t count(const struct gctk_devchar_result *r, enum gctk_devchar_action a)
{
    size_t n = 0;
    for (size_t i = 0; i < r->len; i++)
        n += r->links[i].action == a;
    return n;
}

static void test_existing_nodes(void **state)
{
    (void)state;
    need_nodes(plain);
    cleanup_free char *dir = xasprintf("%s/char-existing", tmp);
    struct gctk_devchar_options o = {.dev_root = plain, .dev_char_path = dir, .dry_run = true};
    struct gctk_devchar_result r = {0};
    gctk_error *err = NULL;
    /* a dry run says what it would do and makes nothing, not even the dir */
    assert_int_equal(gctk_devchar_links(&o, &r, &err), 0);
    assert_int_equal(r.len, 6); /* nvidiactl, modeset, uvm, uvm-tools, nvidia0, nvidia1 */
    assert_int_equal(count(&r, GCTK_DEVCHAR_CREATED), 6);
    assert_int_equal(access(dir, F_OK), -1);
    gctk_devchar_result_clear(&r);

    o.dry_run = false;
    assert_int_equal(gctk_devchar_links(&o, &r, &err), 0);
    assert_int_equal(count(&r, GCTK_DEVCHAR_CREATED), 6);
    cleanup_free char *want0 = xasprintf("%s/dev/nvidia0", plain);
    cleanup_free char *got0 = link_text(dir, "195:0");
    assert_string_equal(got0, want0);
    cleanup_free char *ctl = link_text(dir, "195:255");
    assert_non_null(strstr(ctl, "/dev/nvidiactl"));
    /* the link leads to the node: what systemd resolves */
    struct stat st;
    cleanup_free char *l0 = xasprintf("%s/195:0", dir);
    assert_int_equal(stat(l0, &st), 0);
    assert_true(S_ISCHR(st.st_mode) && major(st.st_rdev) == 195 && minor(st.st_rdev) == 0);
    gctk_devchar_result_clear(&r);

    /* again: every link is there */
    assert_int_equal(gctk_devchar_links(&o, &r, &err), 0);
    assert_int_equal(count(&r, GCTK_DEVCHAR_PRESENT), 6);
    gctk_devchar_result_clear(&r);

    /* a relative link to the same node (udev's form) is kept; a link to
     * something else is replaced; a file that is no link is left alone */
    cleanup_free char *l1 = xasprintf("%s/195:1", dir);
    cleanup_free char *rel = xasprintf("../plain/dev/nvidia1");
    assert_int_equal(unlink(l1), 0);
    assert_int_equal(symlink(rel, l1), 0);
    cleanup_free char *l255 = xasprintf("%s/195:255", dir);
    assert_int_equal(unlink(l255), 0);
    assert_int_equal(symlink("/nowhere", l255), 0);
    cleanup_free char *l254 = xasprintf("%s/195:254", dir);
    assert_int_equal(unlink(l254), 0);
    FILE *f = fopen(l254, "w");
    fclose(f);
    assert_int_equal(gctk_devchar_links(&o, &r, &err), 0);
    assert_int_equal(count(&r, GCTK_DEVCHAR_PRESENT), 4);
    assert_int_equal(count(&r, GCTK_DEVCHAR_REPLACED), 1);
    assert_int_equal(r.warnings.len, 1);
    assert_non_null(strstr(r.warnings.items[0], "195:254` is not a symlink: left alone"));
    cleanup_free char *again = link_text(dir, "195:255");
    assert_non_null(strstr(again, "/dev/nvidiactl"));
    cleanup_free char *kept = link_text(dir, "195:1");
    assert_string_equal(kept, rel);
    gctk_devchar_result_clear(&r);
}

/* NVIDIA's command leaves GPUDirect Storage, NVSwitch and NVLink nodes out;
 * the MIG capability nodes are in */
static void test_blocked_and_caps(void **state)
{
    (void)state;
    need_nodes(mig);
    cleanup_free char *sw = xasprintf("%s/dev/nvidia-nvswitch0", mig);
    cleanup_free char *fs = xasprintf("%s/dev/nvidia-fs0", mig);
    assert_int_equal(mknod(sw, S_IFCHR | 0666, makedev(236, 0)), 0);
    assert_int_equal(mknod(fs, S_IFCHR | 0666, makedev(237, 0)), 0);
    cleanup_free char *dir = xasprintf("%s/char-caps", tmp);
    struct gctk_devchar_options o = {.dev_root = mig, .dev_char_path = dir};
    struct gctk_devchar_result r = {0};
    gctk_error *err = NULL;
    assert_int_equal(gctk_devchar_links(&o, &r, &err), 0);
    for (size_t i = 0; i < r.len; i++)
        assert_true(r.links[i].major != 236 && r.links[i].major != 237);
    /* the config and monitor caps and the two instances (gi and ci each) */
    size_t caps = 0;
    for (size_t i = 0; i < r.len; i++)
        caps += r.links[i].major == GCTK_SIM_CAPS_MAJOR;
    assert_int_equal(caps, 2 + 2 * 2);
    cleanup_free char *cfg = xasprintf("%u:1", GCTK_SIM_CAPS_MAJOR);
    cleanup_free char *got = link_text(dir, cfg);
    assert_non_null(strstr(got, "/dev/nvidia-caps/nvidia-cap1"));
    gctk_devchar_result_clear(&r);
    unlink(sw);
    unlink(fs);
}

/* --create-all: every node the driver can make, present or not */
static void test_create_all(void **state)
{
    (void)state;
    cleanup_free char *dir = xasprintf("%s/char-all", tmp);
    struct gctk_devchar_options o = {.dev_root = mig, .dev_char_path = dir, .create_all = true};
    struct gctk_devchar_result r = {0};
    gctk_error *err = NULL;
    assert_int_equal(gctk_devchar_links(&o, &r, &err), 0);
    /* 4 control nodes, 2 GPUs, config and monitor, and for each of the two
     * GPUs the 15 GPU instances of mig-minors with 8 compute instances each */
    assert_int_equal(r.len, 4 + 2 + 2 + 2 * 15 * 9);
    int gi = gctk_sim_mig_minor(1, 14, 7);
    cleanup_free char *name = xasprintf("%u:%d", GCTK_SIM_CAPS_MAJOR, gi);
    cleanup_free char *got = link_text(dir, name);
    cleanup_free char *want = xasprintf("%s/dev/nvidia-caps/nvidia-cap%d", mig, gi);
    assert_string_equal(got, want); /* a node that does not exist yet */
    gctk_devchar_result_clear(&r);

    /* without MIG: the control nodes and the GPUs; nvidia-uvm's major from
     * its node when /proc/devices does not say */
    o.dev_root = plain;
    assert_int_equal(gctk_devchar_links(&o, &r, &err), 0);
    assert_int_equal(r.len, 6);
    gctk_devchar_result_clear(&r);

    /* no driver: said */
    cleanup_free char *none = xasprintf("%s/empty", tmp);
    assert_int_equal(mkdir(none, 0755), 0);
    o.dev_root = none;
    assert_int_equal(gctk_devchar_links(&o, &r, &err), -1);
    assert_non_null(strstr(err->msg, "--create-all needs the loaded driver"));
    gctk_error_free(err);
    err = NULL;
    /* nothing to link is no error */
    o.create_all = false;
    assert_int_equal(gctk_devchar_links(&o, &r, &err), 0);
    assert_int_equal(r.len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_existing_nodes),
        cmocka_unit_test(test_blocked_and_caps),
        cmocka_unit_test(test_create_all),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
