/* Unit tests of discovery (lib/host/host.c), selection (lib/host/select.c) and the plan
 * (lib/host/plan.c) on fixture hosts made with the simulator and then reshaped:
 * Debian layout, lib64, /usr/local/nvidia, no ld.so.cache, 32-bit libraries,
 * a library of another driver version, 0 and 16 GPUs, a driver kept in its
 * own tree behind links, and broken inputs; the resolver of host links. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>

#include "host.h"
#include "ldcache.h"
#include "sim.h"
#include "testutil.h"

static char tmp[] = "/tmp/gctk-test-host.XXXXXX";
static char root[PATH_MAX];

static int group_setup(void **state)
{
    (void)state;
    if (test_use_build_sim() < 0 || mkdtemp(tmp) == NULL)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    nftw(tmp, test_rm_entry, 32, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* A fresh simulated host of n GPUs in root, its driver files under
 * driver_dir (linked from the standard paths) unless that is NULL. */
static void make_host_at(unsigned n, const char *driver_dir)
{
    static int seq;
    snprintf(root, sizeof(root), "%s/host%d", tmp, seq++);
    struct gctk_sim_options o;
    gctk_sim_options_init(&o);
    o.gpus = n;
    o.driver_dir = driver_dir;
    struct strv warnings = {0};
    gctk_error *err = NULL;
    int r = gctk_sim_create(root, &o, &warnings, &err);
    if (r < 0)
        fail_msg("sim create: %s", err->msg);
    strv_clear(&warnings);
}

static void make_host(unsigned n)
{
    make_host_at(n, NULL);
}

/* A fresh simulated host of the given options (one GPU unless they say). */
static void make_host_opts(const struct gctk_sim_options *given)
{
    static int seq;
    snprintf(root, sizeof(root), "%s/broken%d", tmp, seq++);
    struct gctk_sim_options o = *given;
    struct strv warnings = {0};
    gctk_error *err = NULL;
    if (gctk_sim_create(root, &o, &warnings, &err) < 0)
        fail_msg("sim create: %s", err->msg);
    strv_clear(&warnings);
}

static char *at(const char *rel)
{
    return path_join(root, rel);
}

static gctk_host *open_ok(unsigned flags)
{
    gctk_host *h = NULL;
    gctk_error *err = NULL;
    if (gctk_host_open(root, flags, &h, &err) < 0)
        fail_msg("open: %s", err->msg);
    return h;
}

static const struct gctk_file *find_file(const gctk_host *h, const char *base)
{
    for (size_t i = 0; i < gctk_host_file_count(h); i++) {
        const char *p = gctk_host_file(h, i)->path;
        const char *b = strrchr(p, '/') ? strrchr(p, '/') + 1 : p;
        if (strcmp(b, base) == 0)
            return gctk_host_file(h, i);
    }
    return NULL;
}

static size_t count_nodes(const gctk_host *h, enum gctk_node_kind kind)
{
    size_t n = 0;
    for (size_t i = 0; i < gctk_host_node_count(h); i++)
        n += gctk_host_node(h, i)->kind == kind;
    return n;
}

static bool has_warning(const gctk_host *h, const char *needle)
{
    for (size_t i = 0; gctk_host_warning(h, i) != NULL; i++)
        if (strstr(gctk_host_warning(h, i), needle) != NULL)
            return true;
    return false;
}

/* Moves every driver library of the 64-bit dir to dir and rewrites the cache. */
static void relocate_libs(const char *dir)
{
    cleanup_free char *from = at("/usr/lib/x86_64-linux-gnu");
    cleanup_free char *to = at(dir);
    cleanup_free char *cmd = xasprintf("mkdir -p '%s' && mv '%s'/* '%s'/", to, from, to);
    assert_int_equal(system(cmd), 0);
    struct ldcache c = {0};
    cleanup_free char *cache = at("/etc/ld.so.cache");
    gctk_error *err = NULL;
    assert_int_equal(ldcache_read(cache, &c, &err), 0);
    /* the parsed entries' strings are the cache's: the moved ones are added */
    struct ldcache moved = {0};
    for (size_t i = 0; i < c.len; i++) {
        const struct ldcache_entry *e = &c.entries[i];
        cleanup_free char *p = e->flags == LDCACHE_FLAG_X86_64
                                   ? xasprintf("%s/%s", dir, strrchr(e->path, '/') + 1)
                                   : xstrdup(e->path);
        ldcache_add(&moved, e->soname, p, e->flags);
    }
    ldcache_clear(&c);
    cleanup_free char *data = NULL;
    size_t len = 0;
    assert_int_equal(ldcache_serialize(&moved, &data, &len, &err), 0);
    ldcache_clear(&moved);
    FILE *f = fopen(cache, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void test_debian_layout(void **state)
{
    (void)state;
    make_host(4);
    gctk_host *h = open_ok(GCTK_HOST_NO_NVML);
    assert_string_equal(gctk_host_driver_version(h), "580.95.05");
    assert_int_equal(gctk_host_gpu_count(h), 4);
    for (size_t i = 0; i < 4; i++) {
        const struct gctk_gpu *g = gctk_host_gpu(h, i);
        assert_int_equal(g->index, (int)i);
        cleanup_free char *uuid = gctk_sim_gpu_uuid((unsigned)i);
        assert_string_equal(g->uuid, uuid);
        if (i > 0)
            assert_true(strcmp(gctk_host_gpu(h, i - 1)->bus_id, g->bus_id) < 0);
    }
    const struct gctk_file *cuda = find_file(h, "libcuda.so.580.95.05");
    assert_non_null(cuda);
    assert_int_equal(cuda->kind, GCTK_FILE_LIB);
    assert_string_equal(cuda->path, "/usr/lib/x86_64-linux-gnu/libcuda.so.580.95.05");
    assert_string_equal(cuda->soname, "libcuda.so.1");
    assert_true(cuda->caps & GCTK_CAP_COMPUTE);
    assert_non_null(find_file(h, "nvidia-smi"));
    assert_non_null(find_file(h, "gsp_ga10x.bin"));
    assert_non_null(find_file(h, "socket"));
    /* nvidiactl, uvm, uvm-tools, modeset and the four GPUs; their DRM nodes
     * only when a plan asks for graphics */
    assert_int_equal(gctk_host_node_count(h), 8);
    assert_int_equal(count_nodes(h, GCTK_NODE_DRM), 0);
    gctk_host_free(h);
}

static void test_lib64_layout(void **state)
{
    (void)state;
    make_host(1);
    relocate_libs("/usr/lib64");
    gctk_host *h = open_ok(GCTK_HOST_NO_NVML);
    const struct gctk_file *f = find_file(h, "libnvidia-ml.so.580.95.05");
    assert_non_null(f);
    assert_string_equal(f->path, "/usr/lib64/libnvidia-ml.so.580.95.05");
    gctk_host_free(h);
}

static void test_usr_local_nvidia(void **state)
{
    (void)state;
    make_host(2);
    relocate_libs("/usr/local/nvidia/lib64");
    cleanup_free char *cmd = xasprintf("mkdir -p '%s/usr/local/nvidia/bin' && mv '%s/usr/bin/'* "
                                       "'%s/usr/local/nvidia/bin/'",
                                       root, root, root);
    assert_int_equal(system(cmd), 0);
    gctk_host *h = open_ok(GCTK_HOST_NO_NVML);
    const struct gctk_file *f = find_file(h, "libcuda.so.580.95.05");
    assert_non_null(f);
    assert_string_equal(f->path, "/usr/local/nvidia/lib64/libcuda.so.580.95.05");
    f = find_file(h, "nvidia-smi");
    assert_non_null(f);
    assert_string_equal(f->path, "/usr/local/nvidia/bin/nvidia-smi");
    gctk_host_free(h);
}

static void test_no_ldcache_scans_dirs(void **state)
{
    (void)state;
    make_host(1);
    cleanup_free char *cache = at("/etc/ld.so.cache");
    assert_int_equal(unlink(cache), 0);
    gctk_host *h = open_ok(GCTK_HOST_NO_NVML);
    const struct gctk_file *f = find_file(h, "libcuda.so.580.95.05");
    assert_non_null(f);
    assert_string_equal(f->soname, "libcuda.so.1");
    bool lib32 = false;
    for (size_t i = 0; i < gctk_host_file_count(h); i++)
        lib32 = lib32 || gctk_host_file(h, i)->kind == GCTK_FILE_LIB32;
    assert_true(lib32);
    gctk_host_free(h);
}

static void test_corrupt_ldcache_warns_and_scans(void **state)
{
    (void)state;
    make_host(1);
    cleanup_free char *cache = at("/etc/ld.so.cache");
    assert_int_equal(truncate(cache, 30), 0);
    gctk_host *h = open_ok(GCTK_HOST_NO_NVML);
    assert_true(has_warning(h, "ld.so.cache` unusable"));
    assert_non_null(find_file(h, "libcuda.so.580.95.05"));
    gctk_host_free(h);
    FILE *f = fopen(cache, "w");
    fputs("glibc-ld.so.cache1.1 and garbage", f);
    fclose(f);
    h = open_ok(GCTK_HOST_NO_NVML);
    assert_true(has_warning(h, "unusable"));
    assert_non_null(find_file(h, "libnvidia-ml.so.580.95.05"));
    gctk_host_free(h);
}

static void test_32bit_libraries(void **state)
{
    (void)state;
    make_host(1);
    gctk_host *h = open_ok(GCTK_HOST_NO_NVML);
    const struct gctk_file *f = NULL;
    for (size_t i = 0; i < gctk_host_file_count(h); i++)
        if (gctk_host_file(h, i)->kind == GCTK_FILE_LIB32 &&
            strstr(gctk_host_file(h, i)->path, "libcuda.so.") != NULL)
            f = gctk_host_file(h, i);
    assert_non_null(f);
    assert_true(str_has_prefix(f->path, "/usr/lib/i386-linux-gnu/"));
    struct gctk_selection sel = {0};
    gctk_error *err = NULL;
    assert_int_equal(gctk_select(h, "all", &sel, &err), 0);
    gctk_plan *p = NULL;
    size_t n32 = 0;
    assert_int_equal(gctk_plan_new(h, &sel, GCTK_CAP_COMPUTE, &p, &err), 0);
    for (size_t i = 0; i < gctk_plan_file_count(p); i++)
        n32 += gctk_plan_file(p, i)->kind == GCTK_FILE_LIB32;
    assert_int_equal(n32, 0);
    gctk_plan_free(p);
    assert_int_equal(gctk_plan_new(h, &sel, GCTK_CAP_COMPUTE | GCTK_CAP_COMPAT32, &p, &err), 0);
    for (size_t i = 0; i < gctk_plan_file_count(p); i++)
        n32 += gctk_plan_file(p, i)->kind == GCTK_FILE_LIB32;
    assert_true(n32 > 0);
    gctk_plan_free(p);
    gctk_selection_clear(&sel);
    gctk_host_free(h);
}

static void test_other_version_skipped(void **state)
{
    (void)state;
    make_host(1);
    /* a leftover of an older driver, still in the cache */
    cleanup_free char *old = at("/usr/lib/x86_64-linux-gnu/libnvidia-encode.so.535.104.05");
    gctk_error *err = NULL;
    assert_int_equal(elfstub_write(old, "libnvidia-encode.so.1", NULL, false, &err), 0);
    struct ldcache c = {0};
    cleanup_free char *cache = at("/etc/ld.so.cache");
    assert_int_equal(ldcache_read(cache, &c, &err), 0);
    ldcache_add(&c, "libnvidia-encode.so.1",
                "/usr/lib/x86_64-linux-gnu/libnvidia-encode.so.535.104.05", LDCACHE_FLAG_X86_64);
    cleanup_free char *data = NULL;
    size_t len = 0;
    assert_int_equal(ldcache_serialize(&c, &data, &len, &err), 0);
    ldcache_clear(&c);
    FILE *f = fopen(cache, "w");
    fwrite(data, 1, len, f);
    fclose(f);
    gctk_host *h = open_ok(GCTK_HOST_NO_NVML);
    assert_null(find_file(h, "libnvidia-encode.so.535.104.05"));
    assert_true(has_warning(h, "its version is not the driver's 580.95.05"));
    gctk_host_free(h);
}

static void test_wrapper_script_not_a_driver_binary(void **state)
{
    (void)state;
    make_host(1);
    cleanup_free char *dir = at("/usr/local/bin");
    cleanup_free char *wrapper = at("/usr/local/bin/nvidia-smi");
    cleanup_free char *mk = xasprintf("mkdir -p '%s'", dir);
    assert_int_equal(system(mk), 0);
    FILE *f = fopen(wrapper, "w");
    fputs("#!/bin/sh\nexec /opt/driver/nvidia-smi \"$@\"\n", f);
    fclose(f);
    assert_int_equal(chmod(wrapper, 0755), 0);
    cleanup_free char *saved = xstrdup(getenv("PATH"));
    setenv("PATH", "/usr/local/bin:/usr/bin", 1);
    gctk_host *h = open_ok(GCTK_HOST_NO_NVML);
    setenv("PATH", saved, 1);
    const struct gctk_file *b = find_file(h, "nvidia-smi");
    assert_non_null(b);
    assert_string_equal(b->path, "/usr/bin/nvidia-smi");
    gctk_host_free(h);
}

static void test_zero_gpus(void **state)
{
    (void)state;
    make_host(0);
    gctk_host *h = open_ok(GCTK_HOST_NO_NVML);
    assert_int_equal(gctk_host_gpu_count(h), 0);
    struct gctk_selection sel = {0};
    gctk_error *err = NULL;
    assert_int_equal(gctk_select(h, "all", &sel, &err), 0);
    assert_int_equal(sel.count, 0);
    gctk_selection_clear(&sel);
    assert_int_equal(gctk_select(h, "0", &sel, &err), -1);
    assert_string_equal(err->msg, "unknown GPU `0`: this host has no GPU");
    gctk_error_free(err);
    gctk_host_free(h);
}

static void test_sixteen_gpus_in_pci_order(void **state)
{
    (void)state;
    make_host(16);
    gctk_host *h = open_ok(GCTK_HOST_NO_NVML);
    assert_int_equal(gctk_host_gpu_count(h), 16);
    for (size_t i = 1; i < 16; i++)
        assert_true(strcmp(gctk_host_gpu(h, i - 1)->bus_id, gctk_host_gpu(h, i)->bus_id) < 0);
    /* 4 control nodes and 16 GPU nodes; then their 32 DRM nodes */
    assert_int_equal(gctk_host_node_count(h), 20);
    host_find_drm_nodes(h);
    assert_int_equal(count_nodes(h, GCTK_NODE_DRM), 32);
    gctk_host_free(h);
}

static void test_garbled_information_skips_one_gpu(void **state)
{
    (void)state;
    make_host(3);
    cleanup_free char *bus = gctk_sim_gpu_bus_id(1);
    cleanup_free char *rel = xasprintf("/proc/driver/nvidia/gpus/%s/information", bus);
    cleanup_free char *info = at(rel);
    FILE *f = fopen(info, "w");
    fputs("Model: \t\t NVIDIA\x01\nDevice Minor: \t banana\n", f);
    fclose(f);
    gctk_host *h = open_ok(GCTK_HOST_NO_NVML);
    assert_int_equal(gctk_host_gpu_count(h), 2);
    assert_true(has_warning(h, "bad `Device Minor` `banana`"));
    gctk_host_free(h);
}

static void test_missing_driver(void **state)
{
    (void)state;
    make_host(1);
    cleanup_free char *v = at("/proc/driver/nvidia/version");
    assert_int_equal(unlink(v), 0);
    gctk_host *h = NULL;
    gctk_error *err = NULL;
    assert_int_equal(gctk_host_open(root, 0, &h, &err), -1);
    assert_null(h);
    assert_non_null(strstr(err->msg, "no NVIDIA driver under"));
    assert_non_null(strstr(err->msg, "modprobe nvidia"));
    gctk_error_free(err);
}

/* One table of control nodes for discovery and the doctor: nvidia-uvm and
 * nvidia-uvm-tools have the kernel module's fixed minors 0 and 1 (discovery
 * took any minor, the doctor demanded these); a node with another is not
 * the driver's and is left out, said in a warning. */
static void test_uvm_minor(void **state)
{
    (void)state;
    make_host(1);
    cleanup_free char *uvm = at("/dev/nvidia-uvm");
    struct stat st;
    assert_int_equal(stat(uvm, &st), 0);
    if (!S_ISCHR(st.st_mode))
        skip(); /* a sim made without mknod */
    assert_int_equal(unlink(uvm), 0);
    assert_int_equal(mknod(uvm, S_IFCHR | 0666, makedev(major(st.st_rdev), 5)), 0);
    gctk_host *h = open_ok(GCTK_HOST_NO_NVML);
    cleanup_free char *want = xasprintf("is %u:5, expected minor 0: ignored", major(st.st_rdev));
    assert_true(has_warning(h, want));
    for (size_t i = 0; i < gctk_host_node_count(h); i++)
        assert_string_not_equal(gctk_host_node(h, i)->path, "/dev/nvidia-uvm");
    gctk_host_free(h);
    struct host_node_spec nodes[HOST_CONTROL_NODES];
    host_control_nodes(508, nodes);
    assert_string_equal(nodes[1].path, "/dev/nvidia-uvm");
    assert_int_equal(nodes[1].major, 508);
    assert_int_equal(nodes[2].minor, 1);
    assert_true(nodes[3].optional);
}

/* The doctor's question, answered by discovery's code: which file the
 * loader takes for a SONAME, whatever its version */
static void test_find_library(void **state)
{
    (void)state;
    make_host(1);
    cleanup_free char *lib = host_find_library(root, "libcuda.so.1");
    assert_non_null(lib);
    assert_string_equal(lib, "/usr/lib/x86_64-linux-gnu/libcuda.so." GCTK_SIM_DEFAULT_DRIVER);
    assert_null(host_find_library(root, "libnothing.so.1"));
    /* without a cache, in discovery's directories, /usr/local/nvidia too */
    relocate_libs("/usr/local/nvidia/lib64");
    cleanup_free char *cache = at("/etc/ld.so.cache");
    assert_int_equal(unlink(cache), 0);
    cleanup_free char *found = host_find_library(root, "libnvidia-ml.so.1");
    assert_non_null(found);
    assert_true(str_has_prefix(found, "/usr/local/nvidia/lib64/libnvidia-ml.so."));
}

static void test_nvml_enriches_lazily(void **state)
{
    (void)state;
    make_host(2);
    gctk_host *h = open_ok(0);
    assert_null(((struct gctk_host *)h)->nvml);
    /* discovery alone: NVML not asked */
    assert_null(gctk_host_gpu(h, 1)->brand);
    assert_null(((struct gctk_host *)h)->nvml);
    const struct gctk_gpu *g = gctk_host_gpu_nvml(h, 1);
    assert_string_equal(g->brand, "tesla");
    assert_string_equal(g->arch, "9.0");
    assert_int_equal(g->memory_mib, 81559);
    assert_string_equal(gctk_host_cuda_version_nvml(h), "13.0");
    gctk_host_free(h);
}

static void test_nvml_failures_degrade(void **state)
{
    (void)state;
    make_host(1);
    /* NVML that cannot initialise: the control node is gone */
    cleanup_free char *ctl = at("/dev/nvidiactl");
    assert_int_equal(unlink(ctl), 0);
    gctk_host *h = open_ok(0);
    const struct gctk_gpu *g = gctk_host_gpu_nvml(h, 0);
    assert_null(g->brand);
    assert_int_equal(g->memory_mib, -1);
    assert_true(has_warning(h, "initialise NVML"));
    gctk_host_free(h);
    /* NVML that does not load: not a driver library */
    make_host(1);
    cleanup_free char *ml = at("/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.580.95.05");
    gctk_error *err = NULL;
    assert_int_equal(unlink(ml), 0);
    assert_int_equal(elfstub_write(ml, "libnvidia-ml.so.1", NULL, false, &err), 0);
    h = open_ok(0);
    g = gctk_host_gpu_nvml(h, 0);
    assert_null(g->arch);
    assert_true(has_warning(h, "nvmlInit is missing"));
    gctk_host_free(h);
}

static void test_select_ids(void **state)
{
    (void)state;
    make_host(4);
    gctk_host *h = open_ok(GCTK_HOST_NO_NVML);
    struct gctk_selection s = {0};
    gctk_error *err = NULL;
    cleanup_free char *u2 = gctk_sim_gpu_uuid(2);
    cleanup_free char *bus3 = gctk_sim_gpu_bus_id(3);
    cleanup_free char *prefix = xstrndup(u2, 12);
    cleanup_free char *list = xasprintf("3,%s,1,%s", u2, bus3);
    assert_int_equal(gctk_select(h, list, &s, &err), 0);
    assert_int_equal(s.mode, GCTK_SELECT_LIST);
    assert_int_equal(s.count, 3);
    assert_int_equal(s.gpus[0], 1);
    assert_int_equal(s.gpus[1], 2);
    assert_int_equal(s.gpus[2], 3);
    gctk_selection_clear(&s);
    assert_int_equal(gctk_select(h, prefix, &s, &err), 0);
    assert_int_equal(s.gpus[0], 2);
    gctk_selection_clear(&s);
    assert_int_equal(gctk_select(h, "none", &s, &err), 0);
    assert_int_equal(s.mode, GCTK_SELECT_NONE);
    assert_int_equal(gctk_select(h, " void ", &s, &err), 0);
    assert_int_equal(s.mode, GCTK_SELECT_VOID);
    assert_int_equal(gctk_select(h, "", &s, &err), 0);
    assert_int_equal(s.mode, GCTK_SELECT_VOID);
    assert_int_equal(gctk_select(h, "7", &s, &err), -1);
    assert_true(str_has_prefix(err->msg, "unknown GPU `7`: this host has 0 (GPU-"));
    gctk_error_free(err);
    err = NULL;
    assert_int_equal(gctk_select(h, "0,all", &s, &err), -1);
    assert_non_null(strstr(err->msg, "cannot be combined"));
    gctk_error_free(err);
    err = NULL;
    assert_int_equal(gctk_select(h, "0:1", &s, &err), -1);
    assert_non_null(strstr(err->msg, "MIG device `0:1`"));
    gctk_error_free(err);
    err = NULL;
    assert_int_equal(gctk_select(h, "GPU-", &s, &err), -1);
    gctk_error_free(err);
    gctk_host_free(h);
}

static void test_plan_by_capability(void **state)
{
    (void)state;
    make_host(2);
    gctk_host *h = open_ok(GCTK_HOST_NO_NVML);
    struct gctk_selection s = {0};
    gctk_error *err = NULL;
    assert_int_equal(gctk_select(h, "1", &s, &err), 0);
    gctk_plan *p = NULL;
    assert_int_equal(gctk_plan_new(h, &s, GCTK_CAP_UTILITY, &p, &err), 0);
    bool cuda = false, smi = false, uvm = false, gpu0 = false, gpu1 = false;
    for (size_t i = 0; i < gctk_plan_file_count(p); i++) {
        cuda = cuda || strstr(gctk_plan_file(p, i)->path, "libcuda.") != NULL;
        smi = smi || str_has_suffix(gctk_plan_file(p, i)->path, "/nvidia-smi");
    }
    for (size_t i = 0; i < gctk_plan_node_count(p); i++) {
        uvm = uvm || strcmp(gctk_plan_node(p, i)->path, "/dev/nvidia-uvm") == 0;
        gpu0 = gpu0 || strcmp(gctk_plan_node(p, i)->path, "/dev/nvidia0") == 0;
        gpu1 = gpu1 || strcmp(gctk_plan_node(p, i)->path, "/dev/nvidia1") == 0;
    }
    assert_false(cuda);
    assert_true(smi);
    assert_false(uvm);
    assert_false(gpu0);
    assert_true(gpu1);
    assert_int_equal(gctk_plan_gpu_count(p), 1);
    gctk_plan_free(p);
    assert_int_equal(gctk_plan_new(h, &s, GCTK_CAP_VIDEO, &p, &err), 0);
    cuda = false;
    for (size_t i = 0; i < gctk_plan_file_count(p); i++)
        cuda = cuda || strstr(gctk_plan_file(p, i)->path, "libcuda.") != NULL;
    assert_true(cuda); /* video builds on compute */
    gctk_plan_free(p);
    gctk_selection_clear(&s);
    gctk_host_free(h);
}

/* ---- what a container cannot do without ------------------------------------------ */

/* The explanation of a library discovery has not: its state and the line
 * the hook and the doctor then both show. */
static void expect_lib(const char *soname, enum host_lib_state state, const char *what,
                       const char *fix)
{
    struct host_lib_check c;
    host_check_library(root, soname, GCTK_SIM_DEFAULT_DRIVER, &c);
    if (c.state != state)
        fail_msg("%s: state %d, expected %d (path %s)", soname, c.state, state,
                 c.path ? c.path : "none");
    gctk_error *err = NULL;
    int r = host_lib_check_fail(&c, root, soname, GCTK_SIM_DEFAULT_DRIVER, &err);
    host_lib_check_clear(&c);
    if (state == HOST_LIB_OK) {
        assert_int_equal(r, 0);
        assert_null(err);
        return;
    }
    assert_int_equal(r, -1);
    if (strstr(err->what, what) == NULL || err->hint == NULL || strstr(err->hint, fix) == NULL)
        fail_msg("`%s`: expected `%s` and the fix `%s`", err->msg, what, fix);
    gctk_error_free(err);
}

static void test_check_library(void **state)
{
    (void)state;
    struct gctk_sim_options o;
    gctk_sim_options_init(&o);
    o.gpus = 1;
    make_host_opts(&o);
    expect_lib("libcuda.so.1", HOST_LIB_OK, NULL, NULL);

    /* upgraded without a reboot: the libraries are newer than the module */
    o.lib_version = "580.105.08";
    make_host_opts(&o);
    cleanup_free char *mismatch =
        xasprintf("driver/library version mismatch: kernel module %s, libraries 580.105.08 "
                  "(`%s/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.580.105.08`)",
                  GCTK_SIM_DEFAULT_DRIVER, root);
    expect_lib("libnvidia-ml.so.1", HOST_LIB_MISMATCH, mismatch,
               "reboot, or reload the module, so that the kernel module of the installed driver "
               "580.105.08 runs: rmmod nvidia_uvm nvidia_drm nvidia_modeset nvidia && modprobe "
               "nvidia");
    /* the other way: libraries older than the module */
    o.lib_version = "570.86.15";
    make_host_opts(&o);
    expect_lib("libcuda.so.1", HOST_LIB_MISMATCH, "libraries 570.86.15",
               "install the user-space libraries of driver " GCTK_SIM_DEFAULT_DRIVER);
    o.lib_version = NULL;

    o.no_libs = true;
    make_host_opts(&o);
    cleanup_free char *missing = xasprintf(
        "no `libcuda.so.1`: neither `%s/etc/ld.so.cache` nor the library directories have it",
        root);
    expect_lib(
        "libcuda.so.1", HOST_LIB_MISSING, missing,
        "install the NVIDIA driver's user-space libraries of version " GCTK_SIM_DEFAULT_DRIVER
        " and run `ldconfig`");
    o.no_libs = false;

    /* NixOS: the driver's own directory, which the cache does not list */
    o.uncached_lib_dir = "/run/opengl-driver/lib";
    make_host_opts(&o);
    cleanup_free char *uncached =
        xasprintf("`%s/run/opengl-driver/lib/libcuda.so.%s` is in `/run/opengl-driver/lib`, which "
                  "`%s/etc/ld.so.cache` does not list",
                  root, GCTK_SIM_DEFAULT_DRIVER, root);
    expect_lib("libcuda.so.1", HOST_LIB_UNCACHED, uncached,
               "echo /run/opengl-driver/lib > /etc/ld.so.conf.d/nvidia.conf && ldconfig");
    /* and no cache at all, as on NixOS itself */
    cleanup_free char *cache = at("/etc/ld.so.cache");
    assert_int_equal(unlink(cache), 0);
    expect_lib("libnvidia-ml.so.1", HOST_LIB_UNCACHED, "and there is no", "/etc/ld.so.conf.d");
}

/* host_plan_check on a host and a capability list: NULL when it passes,
 * else the error's line */
static char *plan_check(unsigned caps)
{
    gctk_host *h = open_ok(GCTK_HOST_NO_NVML);
    struct gctk_selection s = {0};
    gctk_error *err = NULL;
    assert_int_equal(gctk_select(h, "all", &s, &err), 0);
    gctk_plan *p = NULL;
    assert_int_equal(gctk_plan_new(h, &s, caps, &p, &err), 0);
    char *msg = NULL;
    if (host_plan_check(h, p, &err) < 0) {
        msg = xstrdup(err->msg);
        gctk_error_free(err);
    }
    gctk_plan_free(p);
    gctk_selection_clear(&s);
    gctk_host_free(h);
    return msg;
}

static void expect_plan_refused(unsigned caps, const char *part)
{
    cleanup_free char *msg = plan_check(caps);
    if (msg == NULL || strstr(msg, part) == NULL)
        fail_msg("expected a refusal with `%s`, got `%s`", part, msg ? msg : "(passed)");
}

static void test_plan_check(void **state)
{
    (void)state;
    struct gctk_sim_options o;
    gctk_sim_options_init(&o);
    o.gpus = 2;
    make_host_opts(&o);
    assert_null(plan_check(GCTK_CAP_ALL));

    o.lib_version = "580.105.08";
    make_host_opts(&o);
    /* one line: the cause, the versions, the fix; no capability context */
    cleanup_free char *line = xasprintf(
        "driver/library version mismatch: kernel module %s, libraries 580.105.08 (`%s/usr/lib/"
        "x86_64-linux-gnu/libnvidia-ml.so.580.105.08`); reboot, or reload the module",
        GCTK_SIM_DEFAULT_DRIVER, root);
    expect_plan_refused(GCTK_CAP_DEFAULT, line);
    expect_plan_refused(GCTK_CAP_COMPUTE, "libraries 580.105.08 (`");
    /* graphics has no core library: its libraries are optional packages */
    assert_null(plan_check(GCTK_CAP_GRAPHICS));
    o.lib_version = NULL;

    o.no_libs = true;
    make_host_opts(&o);
    expect_plan_refused(GCTK_CAP_UTILITY,
                        "capability utility needs `libnvidia-ml.so.1`: no `libnvidia-ml.so.1`: "
                        "neither");
    expect_plan_refused(GCTK_CAP_VIDEO, "capability compute needs `libcuda.so.1`");
    o.no_libs = false;

    o.uncached_lib_dir = "/run/opengl-driver/lib";
    make_host_opts(&o);
    expect_plan_refused(GCTK_CAP_COMPUTE, "is in `/run/opengl-driver/lib`, which");
    o.uncached_lib_dir = NULL;

    /* only libcuda missing: utility containers still start */
    make_host_opts(&o);
    cleanup_free char *lib = at("/usr/lib/x86_64-linux-gnu/libcuda.so.1");
    assert_int_equal(unlink(lib), 0);
    cleanup_free char *real = at("/usr/lib/x86_64-linux-gnu/libcuda.so." GCTK_SIM_DEFAULT_DRIVER);
    assert_int_equal(unlink(real), 0);
    assert_null(plan_check(GCTK_CAP_UTILITY));
    expect_plan_refused(GCTK_CAP_DEFAULT, "capability compute needs `libcuda.so.1`");

    /* the control node */
    cleanup_free char *ctl = at("/dev/nvidiactl");
    assert_int_equal(unlink(ctl), 0);
    cleanup_free char *gone = xasprintf("device node `%s` is missing: every GPU container needs "
                                        "the driver's control node; nvidia-modprobe -c 0",
                                        ctl);
    expect_plan_refused(GCTK_CAP_UTILITY, gone);
    FILE *f = fopen(ctl, "w");
    assert_non_null(f);
    fputs("not a node\n", f);
    fclose(f);
    expect_plan_refused(GCTK_CAP_UTILITY, "is not a character device");
}

/* ---- host links ------------------------------------------------------------ */

static void make_link(const char *target, const char *rel)
{
    cleanup_free char *path = at(rel);
    cleanup_free char *dir = xstrdup(path);
    *strrchr(dir, '/') = '\0';
    cleanup_free char *cmd = xasprintf("mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
    unlink(path);
    assert_int_equal(symlink(target, path), 0);
}

static void make_text(const char *rel, const char *text)
{
    cleanup_free char *path = at(rel);
    cleanup_free char *cmd =
        xasprintf("mkdir -p \"$(dirname '%s')\" && printf '%s' > '%s'", path, text, path);
    assert_int_equal(system(cmd), 0);
}

/* Resolves rel under root: the result, or NULL with the error in *err. */
static char *resolve(const char *rel, gctk_error **err)
{
    char *out = NULL;
    if (host_resolve(root, rel, &out, err) < 0)
        return NULL;
    return out;
}

static void expect_resolved(const char *rel, const char *want)
{
    gctk_error *err = NULL;
    cleanup_free char *got = resolve(rel, &err);
    if (got == NULL)
        fail_msg("resolve `%s`: %s", rel, err->msg);
    assert_string_equal(got, want);
}

static void expect_refused(const char *rel, int code, const char *fragment)
{
    gctk_error *err = NULL;
    cleanup_free char *got = resolve(rel, &err);
    if (got != NULL)
        fail_msg("`%s` resolved to `%s`", rel, got);
    assert_int_equal(err->code, code);
    if (strstr(err->msg, fragment) == NULL)
        fail_msg("`%s` not in `%s`", fragment, err->msg);
    gctk_error_free(err);
}

static void test_resolve(void **state)
{
    (void)state;
    snprintf(root, sizeof(root), "%s/links", tmp);
    make_text("/drv/share/x.json", "x");
    make_text("/a/real.json", "r");
    make_link("/drv/share/x.json", "/usr/share/x.json"); /* absolute: under the root */
    make_link("a/real.json", "/rel.json");
    make_link("a", "/dirlink");
    make_link("/a", "/absdir");
    make_link("chain2", "/chain1");
    make_link("/dirlink/../rel.json", "/chain2");
    make_link("/etc", "/drv/etc-of-the-machine");
    expect_resolved("/a/real.json", "/a/real.json");
    expect_resolved("/usr/share/x.json", "/drv/share/x.json");
    expect_resolved("/rel.json", "/a/real.json");
    expect_resolved("/dirlink/real.json", "/a/real.json");
    expect_resolved("/absdir/./real.json", "/a/real.json");
    expect_resolved("/chain1", "/a/real.json");
    expect_resolved("/a/../dirlink//real.json", "/a/real.json");
    expect_resolved("/", "/");

    /* absent as named: ENOENT, which discovery passes over in silence */
    expect_refused("/nothing/here.json", ENOENT, "nothing");
    expect_refused("/dirlink/nothing.json", ENOENT, "nothing.json");
    expect_refused("/a/real.json/x", ENOTDIR, "real.json");

    /* a link that leads nowhere, out of the root, or round a loop */
    make_link("/drv/share/missing.json", "/dangling.json");
    expect_refused("/dangling.json", 0,
                   "`/dangling.json` is a link to `/drv/share/missing.json`, which does not exist "
                   "under the driver root");
    /* an absolute target is the root's, never the machine's: /etc/hostname
     * exists out there, not in here */
    make_link("/etc/hostname", "/machine.json");
    expect_refused("/machine.json", 0, "is a link to `/etc/hostname`, which does not exist");
    expect_refused("/drv/etc-of-the-machine/hostname", 0, "`/drv/etc-of-the-machine` is a link");
    make_link("../../../../../../../../../../../../etc/hostname", "/share/escape.json");
    expect_refused("/share/escape.json", 0, "which leads out of the driver root");
    expect_refused("/../etc/hostname", 0, "`/../etc/hostname` leads out of the driver root");
    make_link("loop2", "/loop1");
    make_link("loop1", "/loop2");
    expect_refused("/loop1", ELOOP, "resolve `/loop1` under the driver root");
    make_link("self", "/self");
    expect_refused("/self/x", ELOOP, "self");

    /* the machine's own root: ".." stops at "/" as the kernel's does */
    cleanup_free char *tmp_dir = NULL;
    assert_int_equal(host_resolve("/", "/../../tmp/../tmp", &tmp_dir, NULL), 0);
    char want[PATH_MAX];
    assert_non_null(realpath("/tmp", want));
    assert_string_equal(tmp_dir, want);
}

static const struct gctk_file *find_path(const gctk_host *h, const char *path)
{
    for (size_t i = 0; i < gctk_host_file_count(h); i++)
        if (strcmp(gctk_host_file(h, i)->path, path) == 0)
            return gctk_host_file(h, i);
    return NULL;
}

static void expect_file(const gctk_host *h, const char *path, enum gctk_file_kind kind,
                        const char *source)
{
    const struct gctk_file *f = find_path(h, path);
    if (f == NULL)
        fail_msg("`%s` not discovered", path);
    assert_int_equal(f->kind, kind);
    assert_string_equal(f->source, source);
}

/* The driver kept under /usr/local/nvidia behind absolute links, as on the
 * GPU machines: each file is found at its usual name and mounted from the
 * link's target in the root. */
static void test_driver_behind_links(void **state)
{
    (void)state;
    make_host_at(2, "/usr/local/nvidia");
    gctk_host *h = open_ok(GCTK_HOST_NO_NVML);
    assert_null(gctk_host_warning(h, 0));
    expect_file(h, "/usr/share/glvnd/egl_vendor.d/10_nvidia.json", GCTK_FILE_CONFIG,
                "/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json");
    expect_file(h, "/usr/share/vulkan/icd.d/nvidia_icd.json", GCTK_FILE_CONFIG,
                "/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json");
    expect_file(h, "/etc/OpenCL/vendors/nvidia.icd", GCTK_FILE_CONFIG,
                "/usr/local/nvidia/etc/OpenCL/vendors/nvidia.icd");
    expect_file(h, "/usr/bin/nvidia-smi", GCTK_FILE_BIN, "/usr/local/nvidia/bin/nvidia-smi");
    /* through the kernel's firmware_class.path, which names the driver's tree */
    expect_file(h, "/usr/local/nvidia/firmware/nvidia/580.95.05/gsp_ga10x.bin", GCTK_FILE_FIRMWARE,
                "/usr/local/nvidia/firmware/nvidia/580.95.05/gsp_ga10x.bin");
    expect_file(h, "/var/run/nvidia-persistenced/socket", GCTK_FILE_SOCKET,
                "/run/nvidia-persistenced/socket");
    /* libraries by their resolved file, whose name carries the version */
    expect_file(h, "/usr/local/nvidia/lib64/libcuda.so.580.95.05", GCTK_FILE_LIB,
                "/usr/local/nvidia/lib64/libcuda.so.580.95.05");
    expect_file(h, "/usr/local/nvidia/lib/libcuda.so.580.95.05", GCTK_FILE_LIB32,
                "/usr/local/nvidia/lib/libcuda.so.580.95.05");
    assert_string_equal(find_path(h, "/usr/local/nvidia/lib64/libcuda.so.580.95.05")->soname,
                        "libcuda.so.1");
    size_t files = gctk_host_file_count(h);
    gctk_host_free(h);

    /* a link out of the root, one that leads nowhere, and an absolute one to
     * a file of the machine around the root: each skipped with a warning,
     * the rest as before */
    make_link("../../../../../../../../../../../../../../etc/hostname",
              "/etc/vulkan/icd.d/nvidia_icd.json");
    make_link("/usr/local/nvidia/share/glvnd/egl_vendor.d/gone.json",
              "/etc/glvnd/egl_vendor.d/10_nvidia.json");
    make_link("/etc/hostname", "/lib/firmware/nvidia/580.95.05/gsp_machine.bin");
    h = open_ok(GCTK_HOST_NO_NVML);
    assert_null(find_path(h, "/etc/vulkan/icd.d/nvidia_icd.json"));
    assert_null(find_path(h, "/etc/glvnd/egl_vendor.d/10_nvidia.json"));
    assert_null(find_path(h, "/lib/firmware/nvidia/580.95.05/gsp_machine.bin"));
    assert_true(has_warning(h, "config file `/etc/vulkan/icd.d/nvidia_icd.json` skipped: "
                               "`/etc/vulkan/icd.d/nvidia_icd.json` is a link to "));
    assert_true(has_warning(h, "which leads out of the driver root"));
    assert_true(has_warning(h, "config file `/etc/glvnd/egl_vendor.d/10_nvidia.json` skipped: "
                               "`/etc/glvnd/egl_vendor.d/10_nvidia.json` is a link to "
                               "`/usr/local/nvidia/share/glvnd/egl_vendor.d/gone.json`, which "
                               "does not exist under the driver root"));
    assert_true(has_warning(h, "firmware `/lib/firmware/nvidia/580.95.05/gsp_machine.bin` "
                               "skipped: "));
    assert_int_equal(gctk_host_file_count(h), files);
    gctk_host_free(h);
}

static void test_parsers(void **state)
{
    (void)state;
    char *v = NULL;
    gctk_error *err = NULL;
    assert_int_equal(host_parse_proc_version("NVRM version: NVIDIA UNIX Open Kernel Module for "
                                             "x86_64  580.159.04  Release Build  (dvs)\nGCC",
                                             &v, &err),
                     0);
    assert_string_equal(v, "580.159.04");
    free(v);
    assert_int_equal(host_parse_proc_version("NVRM version: NVIDIA UNIX x86_64 Kernel Module  "
                                             "535.104.05  Sat Aug 19\n",
                                             &v, &err),
                     0);
    assert_string_equal(v, "535.104.05");
    free(v);
    assert_int_equal(host_parse_proc_version("NVRM version: garbage\n", &v, &err), -1);
    gctk_error_free(err);
    err = NULL;
    assert_int_equal(host_parse_proc_version("", &v, &err), -1);
    gctk_error_free(err);
    err = NULL;
    char bus[32];
    assert_int_equal(host_normalize_bus_id("0000:18:00.0", bus, sizeof(bus)), 0);
    assert_string_equal(bus, "00000000:18:00.0");
    assert_int_equal(host_normalize_bus_id("00000001:DB:1F.7", bus, sizeof(bus)), 0);
    assert_string_equal(bus, "00000001:DB:1F.7");
    assert_int_equal(host_normalize_bus_id("18:00.0x", bus, sizeof(bus)), -1);
    assert_int_equal(host_normalize_bus_id("0000:100:00.0", bus, sizeof(bus)), -1);
    struct gctk_gpu g;
    assert_int_equal(host_parse_gpu_information("Model: A\nBus Location: 0000:01:00.0\n", &g, &err),
                     -1);
    assert_string_equal(err->msg, "no `Device Minor` line");
    gctk_error_free(err);
}

/* ---- injection parity: firmware, development links, DRM, EGL, Xorg, IMEX ---- */

static void write_at(const char *rel, const char *text)
{
    cleanup_free char *path = at(rel);
    cleanup_free char *dir = xstrdup(path);
    *strrchr(dir, '/') = '\0';
    cleanup_free char *cmd = xasprintf("mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
    unlink(path);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const struct gctk_file *find_firmware(const gctk_host *h, const char *name)
{
    const struct gctk_file *f = find_file(h, name);
    if (f == NULL || f->kind != GCTK_FILE_FIRMWARE)
        fail_msg("firmware `%s` not discovered", name);
    return f;
}

/* The kernel's search order: firmware_class.path, then /lib/firmware/updates/
 * <release>, /lib/firmware/updates, /lib/firmware/<release>, /lib/firmware;
 * each file name from the first directory that has it. */
static void test_firmware_search_order(void **state)
{
    (void)state;
    make_host(1);
    struct utsname u;
    assert_int_equal(uname(&u), 0);
    const char *v = "580.95.05";
    cleanup_free char *updates_rel =
        xasprintf("/lib/firmware/updates/%s/nvidia/%s/gsp_rel.bin", u.release, v);
    cleanup_free char *plain_rel =
        xasprintf("/lib/firmware/%s/nvidia/%s/gsp_plain.bin", u.release, v);
    write_at("/opt/fw/nvidia/580.95.05/gsp_ga10x.bin", "custom");
    write_at("/lib/firmware/updates/nvidia/580.95.05/gsp_tu10x.bin", "updates");
    write_at(updates_rel, "updates of this kernel");
    write_at("/lib/firmware/updates/nvidia/580.95.05/gsp_rel.bin", "later");
    write_at(plain_rel, "this kernel's");
    write_at("/lib/firmware/nvidia/580.95.05/gsp_plain.bin", "later");
    write_at("/lib/firmware/nvidia/579.1.1/gsp_old.bin", "another driver's");
    /* the path of the machine around the root does not count: the root's */
    write_at(HOST_FIRMWARE_PATH_PARAM, "/opt/fw/\n");
    gctk_host *h = open_ok(GCTK_HOST_NO_NVML);
    assert_string_equal(find_firmware(h, "gsp_ga10x.bin")->path,
                        "/opt/fw/nvidia/580.95.05/gsp_ga10x.bin");
    assert_string_equal(find_firmware(h, "gsp_tu10x.bin")->path,
                        "/lib/firmware/updates/nvidia/580.95.05/gsp_tu10x.bin");
    assert_string_equal(find_firmware(h, "gsp_rel.bin")->path, updates_rel);
    assert_string_equal(find_firmware(h, "gsp_plain.bin")->path, plain_rel);
    assert_null(find_file(h, "gsp_old.bin"));
    size_t firmware = 0;
    for (size_t i = 0; i < gctk_host_file_count(h); i++)
        firmware += gctk_host_file(h, i)->kind == GCTK_FILE_FIRMWARE;
    assert_int_equal(firmware, 4); /* one of each name */
    gctk_host_free(h);

    /* the order itself; a relative or empty firmware_class.path is none */
    struct strv dirs = {0};
    assert_int_equal(host_firmware_dirs(root, &dirs), 1);
    assert_int_equal(dirs.len, 5);
    assert_string_equal(dirs.items[0], "/opt/fw");
    cleanup_free char *d1 = xasprintf("/lib/firmware/updates/%s", u.release);
    cleanup_free char *d3 = xasprintf("/lib/firmware/%s", u.release);
    assert_string_equal(dirs.items[1], d1);
    assert_string_equal(dirs.items[2], "/lib/firmware/updates");
    assert_string_equal(dirs.items[3], d3);
    assert_string_equal(dirs.items[4], "/lib/firmware");
    strv_clear(&dirs);
    write_at(HOST_FIRMWARE_PATH_PARAM, "opt/fw\n");
    assert_int_equal(host_firmware_dirs(root, &dirs), 0);
    assert_int_equal(dirs.len, 4);
    strv_clear(&dirs);
    write_at(HOST_FIRMWARE_PATH_PARAM, "\n");
    assert_int_equal(host_firmware_dirs(root, &dirs), 0);
    strv_clear(&dirs);
}

/* A development link beside a driver library, found through the cache (its
 * entry under the link's own name) or the scan; a link that leads to another
 * library, or none, gives none. */
static void test_dev_links(void **state)
{
    (void)state;
    make_host(1);
    gctk_host *h = open_ok(GCTK_HOST_NO_NVML);
    const struct gctk_file *cuda = find_file(h, "libcuda.so.580.95.05");
    assert_string_equal(cuda->dev, "libcuda.so");
    assert_string_equal(find_file(h, "libnvcuvid.so.580.95.05")->dev, "libnvcuvid.so");
    assert_null(find_file(h, "libnvidia-ml.so.580.95.05")->dev); /* 580 ships none */
    for (size_t i = 0; i < gctk_host_file_count(h); i++)
        assert_true(gctk_host_file(h, i)->kind != GCTK_FILE_LIB32 ||
                    gctk_host_file(h, i)->dev == NULL);
    gctk_host_free(h);

    /* libnvcuvid.so led to libnvidia-encode instead: not libnvcuvid's */
    make_link("libnvidia-encode.so.1", "/usr/lib/x86_64-linux-gnu/libnvcuvid.so");
    h = open_ok(GCTK_HOST_NO_NVML);
    assert_null(find_file(h, "libnvcuvid.so.580.95.05")->dev);
    gctk_host_free(h);

    /* without a cache, the scan finds them */
    cleanup_free char *cache = at("/etc/ld.so.cache");
    assert_int_equal(unlink(cache), 0);
    h = open_ok(GCTK_HOST_NO_NVML);
    assert_string_equal(find_file(h, "libcuda.so.580.95.05")->dev, "libcuda.so");
    assert_string_equal(find_file(h, "libnvidia-opencl.so.580.95.05")->dev, "libnvidia-opencl.so");
    assert_null(find_file(h, "libnvcuvid.so.580.95.05")->dev);
    gctk_host_free(h);
}

static const struct gctk_node *find_node(const gctk_host *h, const char *path)
{
    for (size_t i = 0; i < gctk_host_node_count(h); i++)
        if (strcmp(gctk_host_node(h, i)->path, path) == 0)
            return gctk_host_node(h, i);
    return NULL;
}

static bool plan_has_node(const gctk_plan *p, const char *path)
{
    for (size_t i = 0; i < gctk_plan_node_count(p); i++)
        if (strcmp(gctk_plan_node(p, i)->path, path) == 0)
            return true;
    return false;
}

/* The DRM nodes of each GPU, matched by PCI address through
 * /dev/dri/by-path; the plan gives them for graphics and display only, and
 * only those of the GPUs asked for. */
static void test_drm_nodes(void **state)
{
    (void)state;
    make_host(2);
    gctk_host *h = open_ok(GCTK_HOST_NO_NVML);
    /* a container without graphics costs no look at /dev/dri */
    struct gctk_selection s = {0};
    assert_int_equal(gctk_select(h, "1", &s, NULL), 0);
    gctk_plan *p = NULL;
    assert_int_equal(gctk_plan_new(h, &s, GCTK_CAP_UTILITY | GCTK_CAP_COMPUTE, &p, NULL), 0);
    assert_int_equal(count_nodes(h, GCTK_NODE_DRM), 0);
    gctk_plan_free(p);
    assert_int_equal(gctk_plan_new(h, &s, GCTK_CAP_DISPLAY, &p, NULL), 0);
    assert_true(plan_has_node(p, "/dev/dri/card2"));
    assert_true(plan_has_node(p, "/dev/dri/renderD129"));
    assert_false(plan_has_node(p, "/dev/dri/card1"));
    assert_false(plan_has_node(p, "/dev/dri/renderD128"));
    gctk_plan_free(p);
    const struct gctk_node *card = find_node(h, "/dev/dri/card2");
    assert_non_null(card);
    assert_int_equal(card->kind, GCTK_NODE_DRM);
    assert_int_equal(card->gpu, 1);
    assert_int_equal(card->major, 226);
    assert_int_equal(card->minor, 2);
    assert_string_equal(card->by_path, "/dev/dri/by-path/pci-0000:2a:00.0-card");
    assert_int_equal(find_node(h, "/dev/dri/renderD128")->gpu, 0);
    assert_null(find_node(h, "/dev/dri/card0")); /* the BMC's */
    char pci[32];
    assert_int_equal(host_pci_address("00000000:2A:00.0", pci, sizeof(pci)), 0);
    assert_string_equal(pci, "0000:2a:00.0");
    assert_int_equal(host_pci_address("2a:00.0", pci, sizeof(pci)), -1);
    assert_int_equal(gctk_plan_new(h, &s, GCTK_CAP_UTILITY | GCTK_CAP_COMPUTE, &p, NULL), 0);
    assert_false(plan_has_node(p, "/dev/dri/card2"));
    gctk_plan_free(p);
    gctk_selection_clear(&s);
    gctk_host_free(h);

    /* a by-path link that leads out of /dev/dri, or to nothing: skipped and
     * said; a GPU without links has no DRM node, silently */
    make_link("../../nvidiactl", "/dev/dri/by-path/pci-0000:18:00.0-card");
    make_link("../renderD200", "/dev/dri/by-path/pci-0000:18:00.0-render");
    cleanup_free char *links = at("/dev/dri/by-path/pci-0000:2a:00.0-card");
    assert_int_equal(unlink(links), 0);
    h = open_ok(GCTK_HOST_NO_NVML);
    host_find_drm_nodes(h);
    assert_int_equal(count_nodes(h, GCTK_NODE_DRM), 1); /* renderD129 */
    assert_true(has_warning(h, "pci-0000:18:00.0-card` skipped: it leads to `../../nvidiactl`"));
    assert_true(has_warning(h, "/dev/dri/renderD200` is missing, though a by-path link names it"));
    assert_null(find_node(h, "/dev/dri/card2"));
    gctk_host_free(h);
}

/* The EGL platform libraries carry versions of their own; the Xorg modules
 * are found where the X server keeps them, beside libcuda first. */
static void test_egl_and_xorg(void **state)
{
    (void)state;
    make_host(1);
    gctk_host *h = open_ok(GCTK_HOST_NO_NVML);
    const struct gctk_file *way = find_file(h, "libnvidia-egl-wayland.so.1.1.13");
    assert_non_null(way);
    assert_int_equal(way->kind, GCTK_FILE_LIB);
    assert_true(way->caps & GCTK_CAP_GRAPHICS);
    assert_string_equal(way->soname, "libnvidia-egl-wayland.so.1");
    assert_null(host_file_version(way->path)); /* not the driver's version */
    const struct gctk_file *json = find_file(h, "15_nvidia_gbm.json");
    assert_int_equal(json->kind, GCTK_FILE_CONFIG);
    assert_true(json->caps & GCTK_CAP_GRAPHICS);
    assert_non_null(find_file(h, "nvidia_layers.json"));
    const struct gctk_file *drv = find_file(h, "nvidia_drv.so");
    assert_int_equal(drv->kind, GCTK_FILE_MODULE);
    assert_string_equal(drv->path, "/usr/lib/xorg/modules/drivers/nvidia_drv.so");
    assert_string_equal(find_file(h, "libglxserver_nvidia.so.580.95.05")->path,
                        "/usr/lib/xorg/modules/extensions/libglxserver_nvidia.so.580.95.05");
    gctk_host_free(h);

    /* Debian's packages keep them beside libcuda: that copy wins */
    write_at("/usr/lib/x86_64-linux-gnu/nvidia/xorg/nvidia_drv.so", "module");
    h = open_ok(GCTK_HOST_NO_NVML);
    assert_string_equal(find_file(h, "nvidia_drv.so")->path,
                        "/usr/lib/x86_64-linux-gnu/nvidia/xorg/nvidia_drv.so");
    size_t modules = 0;
    for (size_t i = 0; i < gctk_host_file_count(h); i++)
        modules += gctk_host_file(h, i)->kind == GCTK_FILE_MODULE;
    assert_int_equal(modules, 2);
    gctk_host_free(h);
}

/* NVIDIA_IMEX_CHANNELS: channel numbers (or channelN), their nodes from the
 * major /proc/devices gives; a missing node, a driver without channels and a
 * wrong node are errors that name the fix. */
static void test_imex_channels(void **state)
{
    (void)state;
    struct gctk_selection s = {0};
    gctk_error *err = NULL;
    assert_int_equal(gctk_select_imex("channel1, 0,1", &s, &err), 0);
    assert_int_equal(s.imex_count, 2);
    assert_int_equal(s.imex[0], 0);
    assert_int_equal(s.imex[1], 1);
    gctk_selection_clear(&s);
    static const char *const none[] = {NULL, "", "void", "none"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(none); i++) {
        struct gctk_selection e = {0};
        assert_int_equal(gctk_select_imex(none[i], &e, NULL), 0);
        assert_int_equal(e.imex_count, 0);
    }
    static const char *const bad[] = {"x", "-1", "1.5", "channel", "0,all", "99999999999"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(bad); i++) {
        struct gctk_selection e = {0};
        assert_int_equal(gctk_select_imex(bad[i], &e, &err), -1);
        assert_non_null(strstr(err->msg, "is not an IMEX channel"));
        gctk_error_free(err);
        err = NULL;
    }

    make_host(1);
    gctk_host *h = open_ok(GCTK_HOST_NO_NVML);
    assert_int_equal(count_nodes(h, GCTK_NODE_IMEX), 0); /* none until asked for */
    assert_int_equal(gctk_select(h, "0", &s, NULL), 0);
    assert_int_equal(gctk_select_imex("0,channel1", &s, NULL), 0);
    gctk_plan *p = NULL;
    assert_int_equal(gctk_plan_new(h, &s, GCTK_CAP_UTILITY, &p, &err), 0);
    assert_true(plan_has_node(p, "/dev/nvidia-caps-imex-channels/channel0"));
    assert_true(plan_has_node(p, "/dev/nvidia-caps-imex-channels/channel1"));
    const struct gctk_node *n = find_node(h, "/dev/nvidia-caps-imex-channels/channel1");
    assert_int_equal(n->major, GCTK_SIM_IMEX_MAJOR);
    assert_int_equal(n->minor, 1);
    gctk_plan_free(p);
    gctk_selection_clear(&s);

    assert_int_equal(gctk_select(h, "0", &s, NULL), 0);
    assert_int_equal(gctk_select_imex("7", &s, NULL), 0);
    assert_int_equal(gctk_plan_new(h, &s, GCTK_CAP_UTILITY, &p, &err), -1);
    cleanup_free char *want =
        xasprintf("NVIDIA_IMEX_CHANNELS: IMEX channel 7: device node "
                  "`%s/dev/nvidia-caps-imex-channels/channel7` is missing: create it with "
                  "`mknod -m 666 %s/dev/nvidia-caps-imex-channels/channel7 c 509 7`",
                  root, root);
    assert_string_equal(err->msg, want);
    gctk_error_free(err);
    err = NULL;
    gctk_selection_clear(&s);
    gctk_host_free(h);

    /* a plain file in the channel's place */
    cleanup_free char *ch1 = at("/dev/nvidia-caps-imex-channels/channel1");
    assert_int_equal(unlink(ch1), 0);
    write_at("/dev/nvidia-caps-imex-channels/channel1", "");
    h = open_ok(GCTK_HOST_NO_NVML);
    const struct gctk_node *node = NULL;
    assert_int_equal(host_imex_node(h, 1, &node, &err), -1);
    assert_non_null(strstr(err->msg, "is not the channel's device (not a device"));
    gctk_error_free(err);
    err = NULL;
    gctk_host_free(h);

    /* a driver without IMEX channels */
    write_at("/proc/devices", "Character devices:\n195 nvidia\n\nBlock devices:\n");
    h = open_ok(GCTK_HOST_NO_NVML);
    assert_int_equal(host_imex_node(h, 0, &node, &err), -1);
    assert_non_null(strstr(err->msg, "the loaded driver has no IMEX channels"));
    gctk_error_free(err);
    gctk_host_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_debian_layout),
        cmocka_unit_test(test_lib64_layout),
        cmocka_unit_test(test_usr_local_nvidia),
        cmocka_unit_test(test_no_ldcache_scans_dirs),
        cmocka_unit_test(test_corrupt_ldcache_warns_and_scans),
        cmocka_unit_test(test_32bit_libraries),
        cmocka_unit_test(test_other_version_skipped),
        cmocka_unit_test(test_wrapper_script_not_a_driver_binary),
        cmocka_unit_test(test_zero_gpus),
        cmocka_unit_test(test_sixteen_gpus_in_pci_order),
        cmocka_unit_test(test_garbled_information_skips_one_gpu),
        cmocka_unit_test(test_missing_driver),
        cmocka_unit_test(test_uvm_minor),
        cmocka_unit_test(test_find_library),
        cmocka_unit_test(test_nvml_enriches_lazily),
        cmocka_unit_test(test_nvml_failures_degrade),
        cmocka_unit_test(test_select_ids),
        cmocka_unit_test(test_plan_by_capability),
        cmocka_unit_test(test_check_library),
        cmocka_unit_test(test_plan_check),
        cmocka_unit_test(test_parsers),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_driver_behind_links),
        cmocka_unit_test(test_firmware_search_order),
        cmocka_unit_test(test_dev_links),
        cmocka_unit_test(test_drm_nodes),
        cmocka_unit_test(test_egl_and_xorg),
        cmocka_unit_test(test_imex_channels),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
