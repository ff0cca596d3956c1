/* Unit tests of the architectures (lib/host/arch.c) and of what reads them:
 * discovery of a simulated host of the other architecture (aarch64 under an
 * x86-64 gctk: a Grace Hopper or Grace Blackwell node's layout), libraries of
 * the wrong machine in the driver's directory, the image's directories and
 * the ld.so.cache flags of the container layout and the CDI hook. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <elf.h>
#include <ftw.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "arch.h"
#include "cdi.h"
#include "elfinfo.h"
#include "host.h"
#include "layout.h"
#include "ldcache.h"
#include "rootfs.h"
#include "sim.h"
#include "testutil.h"

static char tmp[] = "/tmp/gctk-test-arch.XXXXXX";
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

/* The architecture that is not gctk's own. */
static const struct host_arch *other_arch(void)
{
    for (size_t i = 0; host_arch_at(i) != NULL; i++)
        if (host_arch_at(i) != host_arch_native())
            return host_arch_at(i);
    return NULL;
}

static char *at(const char *rel)
{
    return path_join(root, rel);
}

/* A fresh simulated host of arch in root; false (the test skips) when the
 * mocks of arch are not built (no cross compiler: sim/cross/meson.build). */
static bool make_host(const struct host_arch *arch, unsigned gpus)
{
    static int seq;
    cleanup_free char *mocks = NULL;
    if (gctk_sim_mock_dir(arch->name, &mocks, NULL) < 0)
        return false;
    snprintf(root, sizeof(root), "%s/host%d", tmp, seq++);
    struct gctk_sim_options o;
    gctk_sim_options_init(&o);
    o.gpus = gpus;
    o.arch = arch->name;
    struct strv warnings = {0};
    gctk_error *err = NULL;
    if (gctk_sim_create(root, &o, &warnings, &err) < 0)
        fail_msg("sim create --arch %s: %s", arch->name, err->msg);
    strv_clear(&warnings);
    return true;
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
        if (strcmp(strrchr(p, '/') + 1, base) == 0)
            return gctk_host_file(h, i);
    }
    return NULL;
}

static bool has_warning(const gctk_host *h, const char *needle)
{
    for (size_t i = 0; gctk_host_warning(h, i) != NULL; i++)
        if (strstr(gctk_host_warning(h, i), needle) != NULL)
            return true;
    return false;
}

/* ---- the table --------------------------------------------------------------------------- */

static void test_driver_line(void **state)
{
    (void)state;
    static const struct {
        const char *line, *arch;
    } cases[] = {
        {"NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.95.05  Sun Nov  2 10:00:00 UTC "
         "2026\n",
         "x86_64"},
        {"NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build  "
         "(dvs-builder@U16-I3-D08-1-2)  Thu Sep 25 2025\nGCC version:\n",
         "x86_64"},
        /* Grace Hopper and Grace Blackwell nodes run the open module */
        {"NVRM version: NVIDIA UNIX Open Kernel Module for aarch64  580.95.05  Release Build  "
         "(dvs-builder@U16-I1-N07-05-2)  Thu Sep 25 2025\n",
         "aarch64"},
        {"NVRM version: NVIDIA UNIX aarch64 Kernel Module  535.104.05  Sat Aug 19 2023\n",
         "aarch64"},
        /* words after the version are the builder's, never the host's */
        {"NVRM version: NVIDIA UNIX Kernel Module  580.95.05  (builder-aarch64)\n", NULL},
        {"NVRM version: NVIDIA UNIX ppc64le Kernel Module  525.60.13  Wed Nov 30 2022\n", NULL},
        {"GCC version: gcc x86_64\n", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(cases); i++) {
        const struct host_arch *a = host_arch_of_driver(cases[i].line);
        if (cases[i].arch == NULL && a != NULL)
            fail_msg("`%s`: %s, expected none", cases[i].line, a->name);
        if (cases[i].arch != NULL && (a == NULL || strcmp(a->name, cases[i].arch) != 0))
            fail_msg("`%s`: %s, expected %s", cases[i].line, a ? a->name : "none", cases[i].arch);
    }
}

static void test_table(void **state)
{
    (void)state;
    const struct host_arch *x86 = host_arch_by_name("x86_64"), *arm = host_arch_by_name("aarch64");
    assert_non_null(x86);
    assert_non_null(arm);
    assert_ptr_equal(host_arch_by_name("amd64"), x86);
    assert_ptr_equal(host_arch_by_name("arm64"), arm);
    assert_null(host_arch_by_name("ppc64le"));
    assert_null(host_arch_by_name(NULL));
    assert_string_equal(arm->libdir, "/usr/lib/aarch64-linux-gnu");
    assert_int_equal(arm->machine, EM_AARCH64);
    assert_int_equal(arm->machine32, 0);
    assert_null(arm->libdir32);
    assert_null(arm->lib32_dirs[0]);
    /* glibc's ldconfig.h: FLAG_ELF_LIBC6 | FLAG_X8664_LIB64, | FLAG_AARCH64_LIB64 */
    assert_int_equal(x86->ldcache_flags, 0x0303);
    assert_int_equal(x86->ldcache_flags32, 0x0003);
    assert_int_equal(arm->ldcache_flags, 0x0a03);
#if defined(__x86_64__)
    assert_ptr_equal(host_arch_native(), x86);
#elif defined(__aarch64__)
    assert_ptr_equal(host_arch_native(), arm);
#endif

    struct elf_info a64 = {.elf_class = ELFCLASS64, .machine = EM_AARCH64};
    struct elf_info x64 = {.elf_class = ELFCLASS64, .machine = EM_X86_64};
    struct elf_info i386 = {.elf_class = ELFCLASS32, .machine = EM_386};
    struct elf_info arm32 = {.elf_class = ELFCLASS32, .machine = EM_ARM};
    struct elf_info ppc = {.elf_class = ELFCLASS64, .machine = EM_PPC64};
    assert_int_equal(host_arch_fit(arm, &a64), HOST_ARCH_OWN);
    assert_int_equal(host_arch_fit(arm, &x64), HOST_ARCH_FOREIGN);
    assert_int_equal(host_arch_fit(arm, &arm32), HOST_ARCH_FOREIGN); /* no 32-bit driver */
    assert_int_equal(host_arch_fit(x86, &i386), HOST_ARCH_OWN32);
    assert_int_equal(host_arch_fit(x86, &a64), HOST_ARCH_FOREIGN);
    assert_int_equal(host_arch_ldcache_flags(&a64), LDCACHE_FLAG_AARCH64);
    assert_int_equal(host_arch_ldcache_flags(&x64), LDCACHE_FLAG_X86_64);
    assert_int_equal(host_arch_ldcache_flags(&i386), LDCACHE_FLAG_I386);
    assert_int_equal(host_arch_ldcache_flags(&arm32), 0);
    assert_int_equal(host_arch_ldcache_flags(&ppc), 0);
    char buf[48];
    assert_string_equal(host_arch_describe(&x64, buf, sizeof(buf)), "x86-64");
    assert_string_equal(host_arch_describe(&a64, buf, sizeof(buf)), "aarch64");
    assert_string_equal(host_arch_describe(&arm32, buf, sizeof(buf)), "32-bit arm");
    struct elf_info odd = {.elf_class = ELFCLASS64, .machine = 243};
    assert_string_equal(host_arch_describe(&odd, buf, sizeof(buf)), "ELF machine 243 (64-bit)");
}

/* ---- a host of the other architecture ---------------------------------------------------- */

static void test_other_arch_host(void **state)
{
    (void)state;
    const struct host_arch *arch = other_arch();
    if (!make_host(arch, 2))
        skip();
    gctk_host *h = open_ok(0);
    assert_string_equal(gctk_host_arch(h), arch->name);
    assert_false(host_loadable(h));
    const struct gctk_file *cuda = find_file(h, "libcuda.so.580.95.05");
    assert_non_null(cuda);
    assert_int_equal(cuda->kind, GCTK_FILE_LIB);
    cleanup_free char *want = xasprintf("%s/libcuda.so.580.95.05", arch->libdir);
    assert_string_equal(cuda->path, want);
    assert_string_equal(cuda->soname, "libcuda.so.1");
    /* the driver's programs are of its machine, and found */
    assert_non_null(find_file(h, "nvidia-smi"));
    size_t n32 = 0;
    for (size_t i = 0; i < gctk_host_file_count(h); i++)
        n32 += gctk_host_file(h, i)->kind == GCTK_FILE_LIB32;
    if (arch->machine32 == 0)
        assert_int_equal(n32, 0);
    else
        assert_true(n32 > 0);
    /* its libraries are never loaded into gctk: what only NVML knows is
     * unknown, and a warning says why */
    const struct gctk_gpu *g = gctk_host_gpu_nvml(h, 0);
    assert_int_equal(g->memory_mib, -1);
    assert_null(gctk_host_cuda_version_nvml(h));
    cleanup_free char *why = xasprintf("the driver under `%s` is %s's and gctk is built for %s",
                                       root, arch->name, host_arch_native()->name);
    assert_true(has_warning(h, why));
    /* the loader's answer, with that architecture's cache flags */
    cleanup_free char *lib = host_find_library(root, "libnvidia-ml.so.1");
    cleanup_free char *want_ml = xasprintf("%s/libnvidia-ml.so.580.95.05", arch->libdir);
    assert_string_equal(lib, want_ml);
    gctk_host_free(h);
}

/* aarch64 has no 32-bit driver: compat32 brings nothing, and is no error */
static void test_aarch64_compat32(void **state)
{
    (void)state;
    const struct host_arch *arm = host_arch_by_name("aarch64");
    if (!make_host(arm, 1))
        skip();
    cleanup_free char *i386 = at("/usr/lib/i386-linux-gnu");
    struct stat st;
    assert_int_equal(stat(i386, &st), -1);
    gctk_host *h = open_ok(GCTK_HOST_NO_NVML);
    struct gctk_selection sel = {0};
    gctk_plan *p = NULL;
    gctk_error *err = NULL;
    assert_int_equal(gctk_select(h, "all", &sel, &err), 0);
    assert_int_equal(gctk_plan_new(h, &sel, GCTK_CAP_ALL, &p, &err), 0);
    size_t libs = 0;
    for (size_t i = 0; i < gctk_plan_file_count(p); i++) {
        assert_int_not_equal(gctk_plan_file(p, i)->kind, GCTK_FILE_LIB32);
        libs += gctk_plan_file(p, i)->kind == GCTK_FILE_LIB;
    }
    assert_true(libs > 20);
    gctk_plan_free(p);
    gctk_selection_clear(&sel);
    gctk_host_free(h);
}

/* A library of another machine in the driver's directory (a driver
 * installed for the wrong architecture, a copy from another node): skipped
 * with a warning that says what it is, kept for the doctor, never injected.
 * Through the cache and through the directory scan alike. */
static void check_foreign_skipped(const struct host_arch *arch, const char *stub_arch)
{
    cleanup_free char *rel = xasprintf("%s/libnvidia-encode.so.580.95.05", arch->libdir);
    cleanup_free char *path = at(rel);
    gctk_error *err = NULL;
    assert_int_equal(unlink(path), 0);
    assert_int_equal(elfstub_write(path, "libnvidia-encode.so.1", stub_arch, false, &err), 0);
    for (int pass = 0; pass < 2; pass++) {
        gctk_host *h = open_ok(GCTK_HOST_NO_NVML);
        for (size_t i = 0; i < gctk_host_file_count(h); i++)
            assert_string_not_equal(gctk_host_file(h, i)->path, rel);
        assert_non_null(find_file(h, "libnvcuvid.so.580.95.05"));
        cleanup_free char *msg =
            xasprintf("library `%s` skipped: built for %s, and this host's driver is %s's", rel,
                      strcmp(stub_arch, "x86_64") == 0 ? "x86-64" : stub_arch, arch->name);
        if (!has_warning(h, msg))
            fail_msg("pass %d: no warning `%s`; first: %s", pass, msg,
                     gctk_host_warning(h, 0) ? gctk_host_warning(h, 0) : "none");
        assert_int_equal(h->foreign_libs.len, 1);
        assert_string_equal(h->foreign_libs.items[0], rel);
        gctk_host_free(h);
        /* then without a cache: the scan of the library directories */
        cleanup_free char *cache = at("/etc/ld.so.cache");
        unlink(cache);
    }
}

static void test_foreign_library_skipped(void **state)
{
    (void)state;
    const struct host_arch *own = host_arch_native(), *other = other_arch();
    if (make_host(other, 1))
        check_foreign_skipped(other, own->name);
    assert_true(make_host(own, 1));
    check_foreign_skipped(own, other->name);
}

/* ---- the container: its directories and its ld.so.cache --------------------------------- */

static void test_image_dirs(void **state)
{
    (void)state;
    const struct host_arch *x86 = host_arch_by_name("x86_64"), *arm = host_arch_by_name("aarch64");
    cleanup_free char *rootfs = xasprintf("%s/image", tmp);
    cleanup_free char *mk = xasprintf("mkdir -p '%s/usr/lib/aarch64-linux-gnu' '%s/usr/lib64' "
                                      "'%s/usr/lib/x86_64-linux-gnu'",
                                      rootfs, rootfs, rootfs);
    assert_int_equal(system(mk), 0);
    struct rootfs r = {.fd = -1};
    assert_int_equal(rootfs_open(rootfs, &r, NULL), 0);
    struct layout_dirs d = {0};
    layout_image_dirs(&r, arm, &d);
    assert_string_equal(d.lib, "/usr/lib/aarch64-linux-gnu");
    assert_null(d.lib32);
    assert_ptr_equal(d.arch, arm);
    layout_image_dirs(&r, x86, &d);
    assert_string_equal(d.lib, "/usr/lib/x86_64-linux-gnu");
    assert_string_equal(d.lib32, "/usr/lib/i386-linux-gnu");
    rootfs_close(&r);
    /* an image of the other family (RHEL, SLES): lib64 */
    cleanup_free char *rm = xasprintf("rm -r '%s/usr/lib/aarch64-linux-gnu'", rootfs);
    assert_int_equal(system(rm), 0);
    assert_int_equal(rootfs_open(rootfs, &r, NULL), 0);
    layout_image_dirs(&r, arm, &d);
    assert_string_equal(d.lib, "/usr/lib64");
    rootfs_close(&r);
    /* an image with neither gets the multiarch one */
    cleanup_free char *rm64 = xasprintf("rm -r '%s/usr/lib64'", rootfs);
    assert_int_equal(system(rm64), 0);
    assert_int_equal(rootfs_open(rootfs, &r, NULL), 0);
    layout_image_dirs(&r, arm, &d);
    assert_string_equal(d.lib, "/usr/lib/aarch64-linux-gnu");
    rootfs_close(&r);
}

static const struct ldcache_entry *find_entry(const struct ldcache *c, const char *soname)
{
    for (size_t i = 0; i < c->len; i++)
        if (strcmp(c->entries[i].soname, soname) == 0)
            return &c->entries[i];
    return NULL;
}

/* The CDI update-ldcache hook flags each library for the loader of its own
 * machine, whatever gctk's: an aarch64 image gets entries its ld.so takes
 * (glibc's aarch64 loader takes exactly FLAG_AARCH64_LIB64 | FLAG_ELF_LIBC6). */
static void test_hook_ldcache_flags_by_machine(void **state)
{
    (void)state;
    cleanup_free char *rootfs = xasprintf("%s/flags", tmp);
    cleanup_free char *lib = xasprintf("%s/usr/lib/aarch64-linux-gnu", rootfs);
    cleanup_free char *mk = xasprintf("mkdir -p '%s' '%s/etc'", lib, rootfs);
    assert_int_equal(system(mk), 0);
    static const struct {
        const char *file, *soname, *arch;
        bool is32;
        uint32_t flags;
    } libs[] = {
        {"libcuda.so.580.95.05", "libcuda.so.1", "aarch64", false, LDCACHE_FLAG_AARCH64},
        {"libx86.so.1.0", "libx86.so.1", "x86_64", false, LDCACHE_FLAG_X86_64},
        {"libi386.so.1.0", "libi386.so.1", "x86_64", true, LDCACHE_FLAG_I386},
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(libs); i++) {
        cleanup_free char *p = xasprintf("%s/%s", lib, libs[i].file);
        assert_int_equal(elfstub_write(p, libs[i].soname, libs[i].arch, libs[i].is32, NULL), 0);
    }
    struct strv folders = {0};
    strv_push(&folders, xstrdup("/usr/lib/aarch64-linux-gnu"));
    assert_int_equal(cdi_hook_update_ldcache(rootfs, 0, &folders, NULL, NULL), 0);
    strv_clear(&folders);
    cleanup_free char *cache_path = xasprintf("%s/etc/ld.so.cache", rootfs);
    cleanup_ldcache struct ldcache c = {0};
    assert_int_equal(ldcache_read(cache_path, &c, NULL), 0);
    for (size_t i = 0; i < GCTK_ARRAY_LEN(libs); i++) {
        const struct ldcache_entry *e = find_entry(&c, libs[i].soname);
        assert_non_null(e);
        assert_int_equal(e->flags, libs[i].flags);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_driver_line),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_other_arch_host),
        cmocka_unit_test(test_aarch64_compat32),
        cmocka_unit_test(test_foreign_library_skipped),
        cmocka_unit_test(test_image_dirs),
        cmocka_unit_test(test_hook_ldcache_flags_by_machine),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
