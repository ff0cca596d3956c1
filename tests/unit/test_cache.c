/* Unit tests of the discovery cache (lib/host/cache.c): a cached host is the
 * fresh one, field by field, on every kind of simulated host; a driver
 * upgrade, a file replaced in place or a changed key is never served from
 * the old entry; an entry or directory that is not ours alone, or is
 * garbled or too large, is not used and is no error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "host.h"
#include "sim.h"
#include "testutil.h"

static char tmp[] = "/tmp/gctk-test-cache.XXXXXX";

static char *make_host(const char *name, unsigned gpus, const char *driver, const char *driver_dir,
                       const char *mig)
{
    char *root = xasprintf("%s/%s", tmp, name);
    struct gctk_sim_options o;
    gctk_sim_options_init(&o);
    o.gpus = gpus;
    o.force = true;
    if (driver != NULL)
        o.driver = driver;
    o.driver_dir = driver_dir;
    const char *migs[] = {mig};
    if (mig != NULL) {
        o.mig = migs;
        o.nmig = 1;
    }
    struct strv warnings = {0};
    gctk_error *err = NULL;
    if (gctk_sim_create(root, &o, &warnings, &err) < 0)
        fail_msg("sim create: %s", err->msg);
    strv_clear(&warnings);
    return root;
}

/* the hosts of every test, made once: a cache is stored only for files
 * older than two seconds (a write in the clock tick of the read would not
 * change their times) */
static const char *const kinds[] = {"one", "eight", "none", "tree", "mig", "aarch64"};

static int group_setup(void **state)
{
    (void)state;
    if (test_use_build_sim() < 0 || mkdtemp(tmp) == NULL)
        return -1;
    free(make_host("one", 1, NULL, NULL, NULL));
    free(make_host("eight", 8, NULL, NULL, NULL));
    free(make_host("none", 0, NULL, NULL, NULL));
    free(make_host("tree", 2, NULL, "/usr/local/nvidia", NULL));
    free(make_host("mig", 2, NULL, NULL, "0:1g.10gb"));
    /* an aarch64 host, where this build has its mocks (-Dsim_cross) */
    cleanup_free char *mocks = NULL;
    if (gctk_sim_mock_dir("aarch64", &mocks, NULL) == 0) {
        struct gctk_sim_options o;
        gctk_sim_options_init(&o);
        o.gpus = 2;
        o.arch = "aarch64";
        cleanup_free char *root = xasprintf("%s/aarch64", tmp);
        gctk_error *err = NULL;
        if (gctk_sim_create(root, &o, NULL, &err) < 0)
            fail_msg("sim create --arch aarch64: %s", err->msg);
    }
    free(make_host("upgrade", 2, "570.86.15", NULL, NULL));
    free(make_host("inplace", 1, NULL, NULL, NULL));
    free(make_host("graphics", 1, NULL, NULL, NULL));
    free(make_host("lib32", 1, NULL, NULL, NULL));
    free(make_host("walked", 1, NULL, NULL, NULL));
    free(make_host("tabbed", 1, NULL, NULL, NULL));
    free(make_host("cuda", 1, NULL, NULL, NULL));
    /* a graphics file that is not one: discovery warns about it */
    cleanup_free char *warned = make_host("warned", 1, NULL, NULL, NULL);
    cleanup_free char *not_file = xasprintf("%s/etc/vulkan/icd.d/nvidia_icd.json", warned);
    if (mkdir_p(not_file, 0755, NULL) < 0)
        return -1;
    /* a host whose sysfs binds its GPUs to the driver, as a real one */
    cleanup_free char *bound = make_host("bound", 2, NULL, NULL, NULL);
    cleanup_free char *links = xasprintf(
        "cd '%s' && for g in proc/driver/nvidia/gpus/*; do d=sys/bus/pci/devices/${g##*/}; "
        "mkdir -p $d && ln -s ../../../bus/pci/drivers/nvidia $d/driver || exit 1; done",
        bound);
    if (system(links) != 0)
        return -1;
    sleep(3);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    nftw(tmp, test_rm_entry, 32, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* root opened through the cache (NULL: none) by a caller that uses the
 * capabilities caps (0: all) */
static gctk_host *open_caps(const char *root, unsigned flags, const char *cache, unsigned caps)
{
    struct gctk_host_cache c = {.dir = cache, .config = 42, .caps = caps};
    gctk_host *h = NULL;
    gctk_error *err = NULL;
    if (gctk_host_open_cached(root, flags, cache != NULL ? &c : NULL, &h, &err) < 0)
        fail_msg("open: %s", err->msg);
    return h;
}

static gctk_host *open_with(const char *root, unsigned flags, const char *cache)
{
    return open_caps(root, flags, cache, 0);
}

static void assert_str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

/* Every field discovery produces (the sizes in cache.c make a new one a
 * build error until it is serialised). */
static void assert_same_host(const gctk_host *a, const gctk_host *b)
{
    assert_string_equal(a->root, b->root);
    assert_int_equal(a->flags, b->flags);
    assert_string_equal(a->driver_version, b->driver_version);
    assert_int_equal(a->ngpus, b->ngpus);
    for (size_t i = 0; i < a->ngpus; i++) {
        const struct gctk_gpu *x = &a->gpus[i], *y = &b->gpus[i];
        assert_int_equal(x->index, y->index);
        assert_int_equal(x->minor, y->minor);
        assert_str_eq(x->uuid, y->uuid);
        assert_str_eq(x->bus_id, y->bus_id);
        assert_str_eq(x->model, y->model);
        assert_str_eq(x->brand, y->brand);
        assert_str_eq(x->arch, y->arch);
        assert_int_equal(x->memory_mib, y->memory_mib);
        assert_str_eq(x->proc_dir, y->proc_dir);
        assert_int_equal(x->mig_mode, y->mig_mode);
        assert_int_equal(a->enriched[i], b->enriched[i]);
    }
    assert_int_equal(a->nmigs, b->nmigs);
    for (size_t i = 0; i < a->nmigs; i++) {
        const struct gctk_mig *x = &a->migs[i], *y = &b->migs[i];
        assert_int_equal(x->gpu, y->gpu);
        assert_int_equal(x->index, y->index);
        assert_int_equal(x->gi, y->gi);
        assert_int_equal(x->ci, y->ci);
        assert_str_eq(x->uuid, y->uuid);
        assert_str_eq(x->profile, y->profile);
        assert_int_equal(x->memory_mib, y->memory_mib);
        assert_str_eq(x->gi_access, y->gi_access);
        assert_str_eq(x->ci_access, y->ci_access);
        assert_int_equal(x->gi_minor, y->gi_minor);
        assert_int_equal(x->ci_minor, y->ci_minor);
    }
    assert_int_equal(a->nfiles, b->nfiles);
    for (size_t i = 0; i < a->nfiles; i++) {
        const struct gctk_file *x = &a->files[i], *y = &b->files[i];
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->caps, y->caps);
        assert_str_eq(x->path, y->path);
        assert_str_eq(x->source, y->source);
        assert_str_eq(x->soname, y->soname);
        assert_str_eq(x->dev, y->dev);
    }
    assert_int_equal(a->nnodes, b->nnodes);
    for (size_t i = 0; i < a->nnodes; i++) {
        const struct gctk_node *x = &a->nodes[i], *y = &b->nodes[i];
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->caps, y->caps);
        assert_int_equal(x->gpu, y->gpu);
        assert_str_eq(x->path, y->path);
        assert_int_equal(x->major, y->major);
        assert_int_equal(x->minor, y->minor);
        assert_str_eq(x->by_path, y->by_path);
    }
    assert_ptr_equal(a->arch, b->arch);
    assert_int_equal(a->warnings.len, b->warnings.len);
    for (size_t i = 0; i < a->warnings.len; i++)
        assert_string_equal(a->warnings.items[i], b->warnings.items[i]);
    assert_int_equal(a->foreign_libs.len, b->foreign_libs.len);
    for (size_t i = 0; i < a->foreign_libs.len; i++)
        assert_string_equal(a->foreign_libs.items[i], b->foreign_libs.items[i]);
    assert_int_equal(a->mig_config_minor, b->mig_config_minor);
    assert_int_equal(a->mig_monitor_minor, b->mig_monitor_minor);
}

static char *cache_dir(const char *name)
{
    return xasprintf("%s/cache-%s", tmp, name);
}

static void assert_status(const gctk_host *h, const char *prefix)
{
    if (!str_has_prefix(gctk_host_cache_status(h), prefix))
        fail_msg("cache status `%s`, expected `%s...`", gctk_host_cache_status(h), prefix);
}

static void test_cached_equals_fresh(void **state)
{
    (void)state;
    for (size_t k = 0; k < GCTK_ARRAY_LEN(kinds); k++) {
        for (unsigned flags = 0; flags <= GCTK_HOST_NO_NVML; flags += GCTK_HOST_NO_NVML) {
            cleanup_free char *root = xasprintf("%s/%s", tmp, kinds[k]);
            if (access(root, F_OK) != 0) /* the aarch64 host, without its mocks */
                continue;
            cleanup_free char *dir = cache_dir(kinds[k]);
            cleanup_host gctk_host *fresh = open_with(root, flags, NULL);
            assert_status(fresh, "off");
            cleanup_host gctk_host *first = open_with(root, flags, dir);
            cleanup_host gctk_host *second = open_with(root, flags, dir);
            assert_same_host(fresh, first);
            assert_same_host(fresh, second);
            /* a MIG host asks NVML for its devices: live answers are not kept */
            bool nvml = strcmp(kinds[k], "mig") == 0 && flags == 0;
            assert_status(first, nvml ? "not stored: discovery asked NVML" : "stored");
            assert_status(second, nvml ? "not stored" : "used");
        }
    }
}

static void test_driver_upgrade(void **state)
{
    (void)state;
    cleanup_free char *root = xasprintf("%s/upgrade", tmp);
    cleanup_free char *dir = cache_dir("upgrade");
    gctk_host *old = open_with(root, 0, dir);
    gctk_host_free(open_with(root, 0, dir));
    assert_string_equal(old->driver_version, "570.86.15");
    gctk_host_free(old);
    /* the new driver's files beside the old ones' cache entry */
    free(make_host("upgrade", 2, "580.95.05", NULL, NULL));
    cleanup_host gctk_host *h = open_with(root, 0, dir);
    cleanup_host gctk_host *fresh = open_with(root, 0, NULL);
    assert_status(h, "not stored");
    assert_string_equal(h->driver_version, "580.95.05");
    assert_same_host(fresh, h);
    bool new_lib = false;
    for (size_t i = 0; i < h->nfiles; i++) {
        assert_null(strstr(h->files[i].source, "570.86.15"));
        new_lib |= str_has_suffix(h->files[i].path, "libcuda.so.580.95.05");
    }
    assert_true(new_lib);
}

static void test_file_replaced_in_place(void **state)
{
    (void)state;
    cleanup_free char *root = xasprintf("%s/inplace", tmp);
    cleanup_free char *dir = cache_dir("inplace");
    gctk_host_free(open_with(root, 0, dir));
    gctk_host *h = open_with(root, 0, dir);
    assert_status(h, "used");
    assert_non_null(host_library_path(h, "libcuda.so"));
    cleanup_free char *lib = xstrdup(host_library_path(h, "libcuda.so"));
    cleanup_free char *full = path_join(root, lib);
    gctk_host_free(h);
    /* same size, same content, new inode and times */
    cleanup_free char *cmd =
        xasprintf("cp -p '%s' '%s.new' && mv '%s.new' '%s'", full, full, full, full);
    assert_int_equal(system(cmd), 0);
    h = open_with(root, 0, dir);
    if (strstr(gctk_host_cache_status(h), lib) == NULL)
        fail_msg("status `%s` does not name `%s`", gctk_host_cache_status(h), lib);
    assert_status(h, "not stored");
    gctk_host_free(h);
    /* rewritten in place: same inode and size, new mtime */
    sleep(3);
    gctk_host_free(open_with(root, 0, dir));
    h = open_with(root, 0, dir);
    assert_status(h, "used");
    gctk_host_free(h);
    cmd = (free(cmd), xasprintf("cp '%s' '%s.copy' && cat '%s.copy' > '%s' && rm '%s.copy'", full,
                                full, full, full, full));
    assert_int_equal(system(cmd), 0);
    h = open_with(root, 0, dir);
    assert_status(h, "not stored");
    gctk_host_free(h);
}

/* The entry of a host, path of its only file. */
static char *entry_of(const char *dir)
{
    cleanup_dir DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (str_has_prefix(de->d_name, "discovery-"))
            return xasprintf("%s/%s", dir, de->d_name);
    fail_msg("no entry in `%s`", dir);
    return NULL;
}

static void assert_used_after(const char *root, const char *dir, bool used)
{
    cleanup_host gctk_host *fresh = open_with(root, 0, NULL);
    cleanup_host gctk_host *h = open_with(root, 0, dir);
    assert_same_host(fresh, h);
    if (used)
        assert_status(h, "used");
    else if (str_has_prefix(gctk_host_cache_status(h), "used"))
        fail_msg("cache used: %s", gctk_host_cache_status(h));
}

static void test_untrusted_entries_ignored(void **state)
{
    (void)state;
    cleanup_free char *root = xasprintf("%s/eight", tmp);
    cleanup_free char *dir = cache_dir("trust");
    gctk_host_free(open_with(root, 0, dir));
    assert_used_after(root, dir, true);
    cleanup_free char *entry = entry_of(dir);
    /* another uid's entry */
    assert_int_equal(chown(entry, 1, 1), 0);
    assert_used_after(root, dir, false);
    assert_used_after(root, dir, true); /* replaced by ours */
    /* writable by all */
    assert_int_equal(chmod(entry, 0666), 0);
    assert_used_after(root, dir, false);
    assert_used_after(root, dir, true);
    /* a directory others may write */
    assert_int_equal(chmod(dir, 0777), 0);
    assert_used_after(root, dir, false);
    assert_used_after(root, dir, false);
    assert_int_equal(chmod(dir, 0700), 0);
    assert_used_after(root, dir, true);
    /* garbled, too large, a link */
    cleanup_free char *cmd = xasprintf("printf '{\"key\": [' > '%s'", entry);
    assert_int_equal(system(cmd), 0);
    assert_used_after(root, dir, false);
    assert_used_after(root, dir, true);
    assert_int_equal(truncate(entry, 9 << 20), 0);
    assert_used_after(root, dir, false);
    assert_used_after(root, dir, true);
    /* cut short: its last dependency lines and the line that counts them gone */
    struct stat st;
    assert_int_equal(stat(entry, &st), 0);
    assert_int_equal(truncate(entry, st.st_size - 200), 0);
    assert_used_after(root, dir, false);
    assert_used_after(root, dir, true);
    /* a line counted that is not there */
    cleanup_free char *miscount = xasprintf("sed -i 's/^end \\([0-9]*\\)$/end 1\\1/' '%s'", entry);
    assert_int_equal(system(miscount), 0);
    assert_used_after(root, dir, false);
    assert_used_after(root, dir, true);
    /* the key: other flags, another kernel; the host's records: one counted
     * too few (a dependency line read as one), a GPU record without its last
     * field, a GPU out of order, a node of a GPU that is not there, a file
     * of no kind */
    const char *const garbles[] = {
        "1s/\t0\t/\t1\t/",
        "1s/\t[^\t]*$/\tother-kernel/",
        "s/^host \\([0-9]*\\)$/host 1\\1/",
        "0,/^G/s/^\\(G.*\\)\t[0-9]*$/\\1/",
        "0,/^G\t0\t/s/^G\t0\t/G\t1\t/",
        "0,/^N\t[0-9]*\t[0-9]*\t-1\t/s/^\\(N\t[0-9]*\t[0-9]*\t\\)-1\t/\\199\t/",
        "0,/^F\t/s/^F\t[0-9]*\t/F\t\t/",
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(garbles); i++) {
        cleanup_free char *garble = xasprintf("cp '%s' '%s/before' && sed -i '%s' '%s' && "
                                              "! cmp -s '%s' '%s/before'",
                                              entry, tmp, garbles[i], entry, entry, tmp);
        if (system(garble) != 0)
            fail_msg("`%s` did not change the entry", garbles[i]);
        assert_used_after(root, dir, false);
        assert_used_after(root, dir, true);
    }
    cleanup_free char *other = xasprintf("%s.real", entry);
    assert_int_equal(rename(entry, other), 0);
    assert_int_equal(symlink(other, entry), 0);
    assert_used_after(root, dir, false);
    /* the cache directory itself a link */
    cleanup_free char *link = xasprintf("%s-link", dir);
    assert_int_equal(symlink(dir, link), 0);
    assert_used_after(root, link, false);
    assert_used_after(root, link, false);
}

/* GPU 0's information file says uuid */
static void set_uuid(const char *root, const char *uuid)
{
    cleanup_free char *cmd = xasprintf("sed -i 's/^GPU UUID:.*/GPU UUID: \t %s/' "
                                       "'%s/proc/driver/nvidia/gpus/0000:18:00.0/information'",
                                       uuid, root);
    assert_int_equal(system(cmd), 0);
}

/* Opens root through the cache dir: its status begins with want; GPU 0's UUID */
static char *open_expect(const char *root, const char *dir, const char *want)
{
    cleanup_host gctk_host *h = open_with(root, 0, dir);
    assert_status(h, want);
    return xstrdup(h->gpus[0].uuid);
}

/* Where sysfs binds a GPU to the driver, the binding stands for the GPU's
 * information file (whose read costs PCI configuration reads): a new binding
 * (unbind and bind, hot-plug, module load) is a new link, and the entry is
 * not used. */
static void test_gpu_binding(void **state)
{
    (void)state;
    static const char uuid_a[] = "GPU-00000000-1111-2222-3333-444444444444";
    static const char uuid_b[] = "GPU-99999999-1111-2222-3333-444444444444";
    cleanup_free char *root = xasprintf("%s/bound", tmp);
    cleanup_free char *dir = cache_dir("bound");
    gctk_host_free(open_with(root, 0, dir));
    free(open_expect(root, dir, "used"));
    /* the file is not what the entry depends on: it is not read again */
    set_uuid(root, uuid_a);
    free(open_expect(root, dir, "used"));
    /* bound again: the entry is not used, the new UUID is seen (a new link
     * renamed over the old one: a new inode, as sysfs gives every binding) */
    cleanup_free char *rebind =
        xasprintf("cd '%s/sys/bus/pci/devices/0000:18:00.0' && "
                  "ln -s ../../../bus/pci/drivers/nvidia driver.new && mv -T driver.new driver",
                  root);
    assert_int_equal(system(rebind), 0);
    cleanup_host gctk_host *h = open_with(root, 0, dir);
    if (strstr(gctk_host_cache_status(h), "0000:18:00.0/driver") == NULL)
        fail_msg("status `%s` does not name the binding", gctk_host_cache_status(h));
    assert_string_equal(h->gpus[0].uuid, uuid_a);
    cleanup_host gctk_host *fresh = open_with(root, 0, NULL);
    assert_same_host(fresh, h);
    /* without a binding in sysfs, the file's content is the dependency */
    cleanup_free char *unbind = xasprintf("rm -r '%s/sys/bus'", root);
    assert_int_equal(system(unbind), 0);
    sleep(3);
    gctk_host_free(open_with(root, 0, dir));
    free(open_expect(root, dir, "used"));
    set_uuid(root, uuid_a); /* rewritten, the same content */
    free(open_expect(root, dir, "used"));
    set_uuid(root, uuid_b);
    cleanup_free char *seen = open_expect(root, dir, "stored");
    assert_string_equal(seen, uuid_b);
}

/* A file replaced by a copy: same content, a new inode. */
static void replace(const char *root, const char *path)
{
    cleanup_free char *cmd = xasprintf("cd '%s' && cp -p '.%s' '.%s.new' && mv '.%s.new' '.%s'",
                                       root, path, path, path, path);
    assert_int_equal(system(cmd), 0);
}

/* Opens root through dir for caps: used or not, the status naming what changed */
static void assert_used_for(const char *root, const char *dir, unsigned caps, bool used,
                            const char *changed)
{
    cleanup_host gctk_host *h = open_caps(root, 0, dir, caps);
    const char *status = gctk_host_cache_status(h);
    if (used != str_has_prefix(status, "used") ||
        (!used && changed != NULL && strstr(status, changed) == NULL))
        fail_msg("capabilities %#x: cache status `%s`", caps, status);
    if (!used) {
        cleanup_host gctk_host *fresh = open_with(root, 0, NULL);
        assert_same_host(fresh, h);
    }
}

/* A container's start checks only the dependencies of the capabilities it
 * asked for, utility's and compute's always: a changed graphics file or
 * 32-bit library does not cost a compute container a discovery, and is never
 * missed by one that asks for them. */
static void test_capabilities_checked(void **state)
{
    (void)state;
    const unsigned cuda = GCTK_CAP_UTILITY | GCTK_CAP_COMPUTE;
    cleanup_free char *gfx = xasprintf("%s/graphics", tmp);
    cleanup_free char *gfx_dir = cache_dir("graphics");
    gctk_host_free(open_with(gfx, 0, gfx_dir));
    replace(gfx, "/usr/share/vulkan/icd.d/nvidia_icd.json");
    assert_used_for(gfx, gfx_dir, cuda, true, NULL);
    assert_used_for(gfx, gfx_dir, GCTK_CAP_VIDEO, true, NULL);
    assert_used_for(gfx, gfx_dir, GCTK_CAP_GRAPHICS, false, "nvidia_icd.json");
    assert_used_for(gfx, gfx_dir, GCTK_CAP_DISPLAY, false, "nvidia_icd.json"); /* on graphics */
    assert_used_for(gfx, gfx_dir, 0, false, "nvidia_icd.json");
    /* compute's files are checked for every container */
    replace(gfx, "/usr/lib/x86_64-linux-gnu/libcuda.so.580.95.05");
    assert_used_for(gfx, gfx_dir, GCTK_CAP_GRAPHICS, false, "libcuda.so.580.95.05");
    assert_used_for(gfx, gfx_dir, GCTK_CAP_UTILITY, false, "libcuda.so.580.95.05");

    /* a 32-bit library: for a container with compat32 only */
    cleanup_free char *lib32 = xasprintf("%s/lib32", tmp);
    cleanup_free char *lib32_dir = cache_dir("lib32");
    gctk_host_free(open_with(lib32, 0, lib32_dir));
    replace(lib32, "/usr/lib/i386-linux-gnu/libcuda.so.580.95.05");
    assert_used_for(lib32, lib32_dir, cuda, true, NULL);
    assert_used_for(lib32, lib32_dir, GCTK_CAP_ALL & ~GCTK_CAP_COMPAT32, true, NULL);
    assert_used_for(lib32, lib32_dir, cuda | GCTK_CAP_COMPAT32, false, "i386-linux-gnu/libcuda");

    /* a directory walked through for a video library first and for libcuda
     * again serves both: made a link to its old self (the files in it keep
     * their inodes), it is missed by a compute container too */
    cleanup_free char *walked = xasprintf("%s/walked", tmp);
    cleanup_free char *walked_dir = cache_dir("walked");
    gctk_host_free(open_with(walked, 0, walked_dir));
    assert_used_for(walked, walked_dir, cuda, true, NULL);
    cleanup_free char *cmd =
        xasprintf("cd '%s/usr/lib' && mv x86_64-linux-gnu x86_64-linux-gnu.real && "
                  "ln -s x86_64-linux-gnu.real x86_64-linux-gnu",
                  walked);
    assert_int_equal(system(cmd), 0);
    assert_used_for(walked, walked_dir, GCTK_CAP_COMPUTE, false, "lib/x86_64-linux-gnu`");
}

/* Whether h warns about something named name */
static bool warns_about(const gctk_host *h, const char *name)
{
    for (size_t i = 0; i < h->warnings.len; i++)
        if (strstr(h->warnings.items[i], name) != NULL)
            return true;
    return false;
}

/* A cached host checked for some capabilities shows the warnings of those
 * only: the others' may be stale. */
static void test_capability_warnings(void **state)
{
    (void)state;
    cleanup_free char *root = xasprintf("%s/warned", tmp);
    cleanup_free char *dir = cache_dir("warned");
    const unsigned caps[] = {0, GCTK_CAP_UTILITY | GCTK_CAP_COMPUTE, GCTK_CAP_GRAPHICS,
                             GCTK_CAP_DISPLAY};
    const bool shown[] = {true, false, true, true};
    gctk_host *h = open_with(root, 0, dir);
    assert_true(warns_about(h, "nvidia_icd.json"));
    gctk_host_free(h);
    for (size_t i = 0; i < GCTK_ARRAY_LEN(caps); i++) {
        h = open_caps(root, 0, dir, caps[i]);
        assert_status(h, "used");
        if (warns_about(h, "nvidia_icd.json") != shown[i])
            fail_msg("capabilities %#x: the graphics warning %s", caps[i],
                     shown[i] ? "is missing" : "is shown");
        gctk_host_free(h);
    }
}

static void test_key(void **state)
{
    (void)state;
    cleanup_free char *root = xasprintf("%s/one", tmp);
    cleanup_free char *dir = cache_dir("key");
    gctk_host_free(open_with(root, 0, dir));
    assert_used_after(root, dir, true);
    /* other settings */
    struct gctk_host_cache c = {.dir = dir, .config = 43};
    gctk_host *h = NULL;
    assert_int_equal(gctk_host_open_cached(root, 0, &c, &h, NULL), 0);
    assert_status(h, "stored"); /* an entry of its own, not the other's */
    gctk_host_free(h);
    assert_used_after(root, dir, true);
    /* another PATH: discovery looks for programs along it */
    const char *path = getenv("PATH");
    cleanup_free char *saved = xstrdup(path != NULL ? path : DEFAULT_PATH);
    setenv("PATH", "/nowhere", 1);
    h = open_with(root, 0, dir);
    setenv("PATH", saved, 1);
    assert_status(h, "stored");
    gctk_host_free(h);
    assert_used_after(root, dir, true);
    /* a path with a tab of its own cannot be a line of the entry: none is stored */
    setenv("PATH", "/no\twhere", 1);
    h = open_with(root, 0, dir);
    setenv("PATH", saved, 1);
    assert_status(h, "not stored: a path discovery read has a tab or a newline");
    gctk_host_free(h);
    /* nor a host with a string that is not one field of its record */
    cleanup_free char *tabbed = xasprintf("%s/tabbed", tmp);
    cleanup_free char *model = xasprintf("sed -i 's/^Model:.*/Model: \t NVIDIA\tH100/' "
                                         "'%s/proc/driver/nvidia/gpus/0000:18:00.0/information'",
                                         tabbed);
    assert_int_equal(system(model), 0);
    h = open_with(tabbed, 0, dir);
    assert_status(h, "not stored: a string discovery found is empty or has a tab or a newline");
    assert_string_equal(h->gpus[0].model, "NVIDIA\tH100");
    gctk_host_free(h);
    /* a directory of entries stays bounded */
    for (int i = 0; i < 40; i++) {
        cleanup_free char *p = xasprintf("/nowhere/%d", i);
        setenv("PATH", p, 1);
        gctk_host_free(open_with(root, 0, dir));
    }
    setenv("PATH", saved, 1);
    size_t n = 0;
    cleanup_dir DIR *d = opendir(dir);
    for (struct dirent *de; (de = readdir(d)) != NULL;)
        n += str_has_prefix(de->d_name, "discovery-");
    assert_true(n <= 17);
}

/* The only file named cuda-* in dir; NULL when there is none. */
static char *cuda_entry(const char *dir)
{
    size_t n = 0;
    char *found = test_entry_of(dir, "cuda-", &n);
    assert_true(n <= 1);
    return found;
}

static char *cuda_of(const char *root, const char *dir)
{
    cleanup_host gctk_host *h = open_with(root, 0, dir);
    const char *v = gctk_host_cuda_version_nvml(h);
    return v != NULL ? xstrdup(v) : NULL;
}

/* An image's NVIDIA_REQUIRE_CUDA needs the CUDA version of libcuda, which it
 * gives once loaded: kept for the file, used while it is the same file. */
static void test_cuda_version_kept(void **state)
{
    (void)state;
    cleanup_free char *root = xasprintf("%s/cuda", tmp);
    cleanup_free char *dir = cache_dir("cuda");
    cleanup_free char *fresh = cuda_of(root, NULL);
    assert_non_null(fresh);
    cleanup_free char *first = cuda_of(root, dir);
    assert_string_equal(first, fresh);
    cleanup_free char *entry = cuda_entry(dir);
    assert_non_null(entry);
    /* used, not loaded again: a version written into it is what is said */
    cleanup_free char *edit = xasprintf("sed -i 's/\t[0-9.]*$/\t99.9/' '%s'", entry);
    assert_int_equal(system(edit), 0);
    cleanup_free char *kept = cuda_of(root, dir);
    assert_string_equal(kept, "99.9");
    /* not ours alone, or not a version: not used */
    assert_int_equal(chmod(entry, 0644), 0);
    cleanup_free char *open_to_all = cuda_of(root, dir);
    assert_string_equal(open_to_all, fresh);
    assert_int_equal(chmod(entry, 0600), 0);
    cleanup_free char *garble = xasprintf("sed -i 's/\t99.9$/\t9 9/' '%s'", entry);
    assert_int_equal(system(garble), 0);
    cleanup_free char *garbled = cuda_of(root, dir);
    assert_string_equal(garbled, fresh);
    assert_int_equal(system(edit), 0);
    cleanup_free char *again = cuda_of(root, dir);
    assert_string_equal(again, "99.9");
    /* libcuda changed (its times): loaded again, and nothing kept for a
     * file changed in the last seconds */
    cleanup_free char *lib = xasprintf("%s/usr/lib/x86_64-linux-gnu/libcuda.so.1", root);
    struct timespec old[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};
    assert_int_equal(utimensat(AT_FDCWD, lib, old, 0), 0);
    cleanup_free char *changed = cuda_of(root, dir);
    assert_string_equal(changed, fresh);
    cleanup_free char *still = cuda_entry(dir);
    assert_string_equal(still, entry); /* the old file's, not replaced */
    cleanup_free char *text = NULL;
    assert_int_equal(read_file(entry, 4096, &text, NULL, NULL), 0);
    assert_non_null(strstr(text, "\t99.9\n"));
    /* without a cache directory nothing is kept anywhere */
    cleanup_free char *none = cuda_of(root, NULL);
    assert_string_equal(none, fresh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cached_equals_fresh),
        cmocka_unit_test(test_driver_upgrade),
        cmocka_unit_test(test_file_replaced_in_place),
        cmocka_unit_test(test_untrusted_entries_ignored),
        cmocka_unit_test(test_key),
        cmocka_unit_test(test_gpu_binding),
        cmocka_unit_test(test_capabilities_checked),
        cmocka_unit_test(test_capability_warnings),
        cmocka_unit_test(test_cuda_version_kept),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
