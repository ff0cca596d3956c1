/* Unit tests of sim/sim.c and sim/elfstub.c: the stub libraries, the
 * simulated host's files, and the mock NVML loaded from a created host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/elf.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "elfinfo.h"
#include "ldcache.h"
#include "sim.h"
#include "util.h"
#include "testutil.h"

static char tmp[PATH_MAX];

static int setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof(tmp), "/tmp/gctk-test-sim.XXXXXX");
    return mkdtemp(tmp) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    nftw(tmp, test_rm_entry, 32, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* The mocks of this build: build/tests/unit/test_sim -> build/sim. */
static int group_setup(void **state)
{
    (void)state;
    return test_use_build_sim();
}

static char *at(const char *rel)
{
    return path_join(tmp, rel);
}

static bool exists(const char *rel)
{
    cleanup_free char *p = at(rel);
    struct stat st;
    return lstat(p, &st) == 0;
}

static size_t count_entries(const char *rel)
{
    cleanup_free char *p = at(rel);
    DIR *d = opendir(p);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static char *slurp(const char *rel)
{
    cleanup_free char *p = at(rel);
    char *data = NULL;
    gctk_error *err = NULL;
    assert_int_equal(read_file(p, 64u << 20, &data, NULL, &err), 0);
    return data;
}

static void create(unsigned gpus, const char *cuda, bool force)
{
    struct gctk_sim_options o;
    gctk_sim_options_init(&o);
    o.gpus = gpus;
    o.force = force;
    if (cuda != NULL)
        o.cuda = cuda;
    struct strv warnings = {0};
    gctk_error *err = NULL;
    int r = gctk_sim_create(tmp, &o, &warnings, &err);
    if (r < 0)
        fail_msg("gctk_sim_create: %s", err->msg);
    strv_clear(&warnings);
}

/* ---- elfstub ------------------------------------------------------------------ */

static void check_stub(bool is32)
{
    cleanup_free char *path = at("libstub.so.580.95.05");
    gctk_error *err = NULL;
    assert_int_equal(elfstub_write(path, "libstub.so.1", NULL, is32, &err), 0);

    /* parsed by lib/host/elf.c, an independent reader */
    struct elf_info info = {0};
    assert_int_equal(elf_inspect(path, &info, &err), 0);
    assert_int_equal(info.elf_class, is32 ? ELFCLASS32 : ELFCLASS64);
    assert_int_equal(info.machine, is32 ? EM_386 : EM_X86_64);
    assert_string_equal(info.soname, "libstub.so.1");
    elf_info_clear(&info);

    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0755);
}

static void test_elfstub_64(void **state)
{
    (void)state;
    check_stub(false);
    /* the loader accepts it: the stub is a real shared object */
    cleanup_free char *path = at("libstub.so.580.95.05");
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL)
        fail_msg("dlopen: %s", dlerror());
    dlclose(h);
}

static void test_elfstub_32(void **state)
{
    (void)state;
    check_stub(true);
    /* and the 64-bit loader refuses it for its class, not as garbage */
    cleanup_free char *path = at("libstub.so.580.95.05");
    assert_null(dlopen(path, RTLD_NOW | RTLD_LOCAL));
    assert_non_null(strstr(dlerror(), "wrong ELF class"));
}

static void test_elfstub_error(void **state)
{
    (void)state;
    cleanup_free char *path = at("missing/libx.so.1");
    gctk_error *err = NULL;
    assert_int_equal(elfstub_write(path, "libx.so.1", NULL, false, &err), -1);
    assert_non_null(strstr(err->msg, "create `"));
    assert_int_equal(err->code, ENOENT);
    gctk_error_free(err);
}

/* a stub of the other architectures: the machine in its header */
static void test_elfstub_arch(void **state)
{
    (void)state;
    cleanup_free char *path = at("libstub.so.580.95.05");
    gctk_error *err = NULL;
    assert_int_equal(elfstub_write(path, "libstub.so.1", "aarch64", false, &err), 0);
    struct elf_info info = {0};
    assert_int_equal(elf_inspect(path, &info, &err), 0);
    assert_int_equal(info.elf_class, ELFCLASS64);
    assert_int_equal(info.machine, EM_AARCH64);
    assert_string_equal(info.soname, "libstub.so.1");
    elf_info_clear(&info);
    assert_int_equal(elfstub_write(path, "libstub.so.1", "aarch64", true, &err), -1);
    assert_string_equal(err->msg, "aarch64 has no 32-bit libraries");
    gctk_error_free(err);
    err = NULL;
    assert_int_equal(elfstub_write(path, "libstub.so.1", "mips", false, &err), -1);
    assert_non_null(strstr(err->msg, "unknown architecture `mips`"));
    gctk_error_free(err);
}

/* ---- identities and options ------------------------------------------------------- */

static void test_identities(void **state)
{
    (void)state;
    cleanup_free char *u0 = gctk_sim_gpu_uuid(0);
    cleanup_free char *u0_again = gctk_sim_gpu_uuid(0);
    assert_string_equal(u0, u0_again);
    assert_int_equal(strlen(u0), strlen("GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"));
    assert_int_equal(strspn(u0 + 4, "0123456789abcdef-"), strlen(u0) - 4);
    cleanup_free char *b0 = gctk_sim_gpu_bus_id(0);
    assert_string_equal(b0, "0000:18:00.0");
    /* every GPU of the largest host: distinct UUIDs, bus ids in index order */
    char *prev_bus = NULL;
    struct strv uuids = {0};
    for (unsigned i = 0; i < GCTK_SIM_MAX_GPUS; i++) {
        char *bus = gctk_sim_gpu_bus_id(i);
        char *uuid = gctk_sim_gpu_uuid(i);
        assert_int_equal(strlen(bus), strlen("0000:18:00.0"));
        if (prev_bus != NULL)
            assert_true(strcmp(prev_bus, bus) < 0);
        free(prev_bus);
        prev_bus = bus;
        if (i < 64) { /* quadratic check: a sample is enough */
            assert_false(strv_contains(&uuids, uuid));
            strv_push(&uuids, uuid);
        } else {
            free(uuid);
        }
    }
    free(prev_bus);
    strv_clear(&uuids);
}

static void test_cuda_number(void **state)
{
    (void)state;
    assert_int_equal(gctk_sim_cuda_number("13.0"), 13000);
    assert_int_equal(gctk_sim_cuda_number("12.4"), 12040);
    assert_int_equal(gctk_sim_cuda_number("13"), -1);
    assert_int_equal(gctk_sim_cuda_number("13.0.1"), -1);
    assert_int_equal(gctk_sim_cuda_number("0.1"), -1);
    assert_int_equal(gctk_sim_cuda_number("x"), -1);
    assert_int_equal(gctk_sim_cuda_number(NULL), -1);
}

/* Without --cuda the simulated driver reports the CUDA version its version
 * supports, from the one table (lib/cuda-drivers.def): never a pair that
 * cannot exist, like 535.104.05 with CUDA 13.0. */
static void test_cuda_of_driver(void **state)
{
    (void)state;
    struct gctk_sim_options o;
    gctk_sim_options_init(&o);
    char buf[16];
    assert_null(o.cuda);
    assert_string_equal(gctk_sim_cuda(&o, buf, sizeof(buf)), "13.0"); /* 580.95.05 */
    o.driver = "535.104.05";
    assert_string_equal(gctk_sim_cuda(&o, buf, sizeof(buf)), "12.2");
    o.driver = "550.54.14";
    assert_string_equal(gctk_sim_cuda(&o, buf, sizeof(buf)), "12.4");
    o.driver = "525.60.12"; /* one below 12.0's minimum */
    assert_string_equal(gctk_sim_cuda(&o, buf, sizeof(buf)), "11.8");
    o.cuda = "12.9"; /* --cuda wins: a beta driver may report more */
    assert_string_equal(gctk_sim_cuda(&o, buf, sizeof(buf)), "12.9");
    o.cuda = NULL;
    o.driver = "300.10";
    assert_null(gctk_sim_cuda(&o, buf, sizeof(buf)));
}

static void test_create_driver_cuda(void **state)
{
    (void)state;
    struct gctk_sim_options o;
    gctk_sim_options_init(&o);
    o.gpus = 1;
    o.driver = "535.104.05";
    gctk_error *err = NULL;
    assert_int_equal(gctk_sim_create(tmp, &o, NULL, &err), 0);
    cleanup_free char *lib = slurp("/usr/lib/x86_64-linux-gnu/libcuda.so.535.104.05");
    cleanup_free char *p = at("/usr/lib/x86_64-linux-gnu/libcuda.so.535.104.05");
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_non_null(memmem(lib, (size_t)st.st_size, GCTK_SIM_CUDA_MARKER "00012020",
                           strlen(GCTK_SIM_CUDA_MARKER) + 8));
}

static void expect_create_error(struct gctk_sim_options *o, const char *fragment)
{
    gctk_error *err = NULL;
    assert_int_equal(gctk_sim_create(tmp, o, NULL, &err), -1);
    if (strstr(err->msg, fragment) == NULL)
        fail_msg("`%s` not in `%s`", fragment, err->msg);
    gctk_error_free(err);
    gctk_sim_options_init(o);
}

static void test_invalid_options(void **state)
{
    (void)state;
    struct gctk_sim_options o;
    gctk_sim_options_init(&o);
    o.gpus = GCTK_SIM_MAX_GPUS + 1;
    expect_create_error(&o, "at most 1024");
    o.driver = "../580";
    expect_create_error(&o, "invalid driver version `../580`");
    o.driver = "580.";
    expect_create_error(&o, "invalid driver version");
    o.cuda = "13";
    expect_create_error(&o, "invalid CUDA version `13`");
    o.driver = "300.10";
    expect_create_error(&o, "driver 300.10 is older than every CUDA release gctk knows; give "
                            "the CUDA version it supports (--cuda)");
    o.model = "";
    expect_create_error(&o, "invalid model name");
    o.mock_dir = "/nonexistent";
    expect_create_error(&o, "holds no mock");
    o.arch = "sparc64";
    expect_create_error(&o, "unknown architecture `sparc64`: gctk knows x86_64, aarch64");
    o.arch = NULL;
    static const char *const bad_dirs[] = {
        "usr/local/nvidia", "/", "/usr", "/usr/lib", "/opt/../usr", "/opt//nvidia", "/opt/nvidia/"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(bad_dirs); i++) {
        o.driver_dir = bad_dirs[i];
        expect_create_error(&o, "invalid driver directory");
    }
    o.driver_dir = NULL;
    o.lib_version = "580.105";
    o.no_libs = true;
    expect_create_error(&o, "give one of them");
    o.lib_version = "580..1";
    expect_create_error(&o, "invalid library version `580..1`");
    static const char *const bad_lib_dirs[] = {"run/x", "/usr/lib/x86_64-linux-gnu", "/usr/lib",
                                               "/a/../b"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(bad_lib_dirs); i++) {
        o.uncached_lib_dir = bad_lib_dirs[i];
        expect_create_error(&o, "invalid library directory");
    }
    o.cold_init_ms = 60001;
    expect_create_error(&o, "at most 60000");
    /* nothing was written by the refused calls */
    assert_int_equal(count_entries("/"), 0);
}

static char *link_text(const char *rel)
{
    cleanup_free char *p = at(rel);
    char buf[PATH_MAX];
    ssize_t n = readlink(p, buf, sizeof(buf) - 1);
    if (n < 0)
        fail_msg("`%s` is not a link", rel);
    buf[n] = '\0';
    return xstrdup(buf);
}

static bool is_regular(const char *rel)
{
    cleanup_free char *p = at(rel);
    struct stat st;
    return lstat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* --driver-dir: the files under it, absolute links at the standard paths;
 * a rebuild with another driver version leaves none of the old one there */
static void test_driver_dir(void **state)
{
    (void)state;
    struct gctk_sim_options o;
    gctk_sim_options_init(&o);
    o.gpus = 1;
    o.driver_dir = "/usr/local/nvidia";
    gctk_error *err = NULL;
    if (gctk_sim_create(tmp, &o, NULL, &err) < 0)
        fail_msg("gctk_sim_create: %s", err->msg);
    static const char *const links[][2] = {
        {"/usr/share/glvnd/egl_vendor.d/10_nvidia.json",
         "/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json"},
        {"/usr/share/vulkan/icd.d/nvidia_icd.json",
         "/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json"},
        {"/etc/OpenCL/vendors/nvidia.icd", "/usr/local/nvidia/etc/OpenCL/vendors/nvidia.icd"},
        {"/usr/bin/nvidia-smi", "/usr/local/nvidia/bin/nvidia-smi"},
        {"/usr/share/egl/egl_external_platform.d/15_nvidia_gbm.json",
         "/usr/local/nvidia/share/egl/egl_external_platform.d/15_nvidia_gbm.json"},
        {"/usr/lib/x86_64-linux-gnu/libcuda.so.580.95.05",
         "/usr/local/nvidia/lib64/libcuda.so.580.95.05"},
        {"/usr/lib/i386-linux-gnu/libcuda.so.580.95.05",
         "/usr/local/nvidia/lib/libcuda.so.580.95.05"},
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(links); i++) {
        cleanup_free char *text = link_text(links[i][0]);
        assert_string_equal(text, links[i][1]);
        assert_true(is_regular(links[i][1]));
    }
    cleanup_free char *soname = link_text("/usr/lib/x86_64-linux-gnu/libcuda.so.1");
    assert_string_equal(soname, "libcuda.so.580.95.05");
    /* the GSP firmware only in the driver's tree, which the kernel's
     * firmware_class.path names, as on the GPU machines we test on */
    assert_true(is_regular("/usr/local/nvidia/firmware/nvidia/580.95.05/gsp_ga10x.bin"));
    assert_false(exists("/lib/firmware/nvidia/580.95.05/gsp_ga10x.bin"));
    cleanup_free char *fw_path = slurp("/sys/module/firmware_class/parameters/path");
    assert_string_equal(fw_path, "/usr/local/nvidia/firmware\n");
    cleanup_free char *icd = slurp("/usr/local/nvidia/etc/OpenCL/vendors/nvidia.icd");
    assert_string_equal(icd, "libnvidia-opencl.so.1\n");

    o.driver = "590.44.01";
    o.force = true;
    if (gctk_sim_create(tmp, &o, NULL, &err) < 0)
        fail_msg("gctk_sim_create --force: %s", err->msg);
    assert_true(is_regular("/usr/local/nvidia/lib64/libcuda.so.590.44.01"));
    assert_false(exists("/usr/local/nvidia/lib64/libcuda.so.580.95.05"));
    assert_false(exists("/usr/local/nvidia/lib/libcuda.so.580.95.05"));
    assert_false(exists("/usr/lib/x86_64-linux-gnu/libcuda.so.580.95.05"));
    /* and without --driver-dir the standard paths hold the files again */
    o.driver_dir = NULL;
    if (gctk_sim_create(tmp, &o, NULL, &err) < 0)
        fail_msg("gctk_sim_create --force: %s", err->msg);
    assert_true(is_regular("/usr/share/glvnd/egl_vendor.d/10_nvidia.json"));
    assert_true(is_regular("/usr/bin/nvidia-smi"));
    assert_true(is_regular("/usr/lib/x86_64-linux-gnu/libcuda.so.590.44.01"));
}

/* --arch aarch64: a Grace Hopper node's driver install, whatever gctk's
 * machine: its version line, its library directory and no 32-bit one, its
 * cache flags, its mocks (sim/cross/ on an x86-64 build; skipped when that
 * was not built); and a rebuild for another architecture leaves nothing of
 * the old one's libraries */
static void test_create_aarch64(void **state)
{
    (void)state;
    cleanup_free char *mocks = NULL;
    if (gctk_sim_mock_dir("aarch64", &mocks, NULL) < 0)
        skip();
    struct gctk_sim_options o;
    gctk_sim_options_init(&o);
    o.gpus = 2;
    o.arch = "x86_64";
    gctk_error *err = NULL;
    if (strcmp(gctk_sim_arch(NULL), "x86_64") == 0 && gctk_sim_create(tmp, &o, NULL, &err) < 0)
        fail_msg("gctk_sim_create: %s", err->msg);
    o.arch = "arm64"; /* Debian's name is taken too */
    o.force = true;
    o.driver_dir = "/usr/local/nvidia";
    if (gctk_sim_create(tmp, &o, NULL, &err) < 0)
        fail_msg("gctk_sim_create --arch aarch64: %s", err->msg);
    assert_string_equal(gctk_sim_arch(&o), "aarch64");
    cleanup_free char *version = slurp("/proc/driver/nvidia/version");
    assert_true(str_has_prefix(version, "NVRM version: NVIDIA UNIX Open Kernel Module for aarch64  "
                                        "580.95.05  Release Build"));
    cleanup_free char *link = link_text("/usr/lib/aarch64-linux-gnu/libcuda.so.580.95.05");
    assert_string_equal(link, "/usr/local/nvidia/lib64/libcuda.so.580.95.05");
    static const char *const libs[] = {"/usr/local/nvidia/lib64/libcuda.so.580.95.05",
                                       "/usr/local/nvidia/lib64/libnvidia-ml.so.580.95.05",
                                       "/usr/local/nvidia/lib64/libnvidia-glcore.so.580.95.05",
                                       "/usr/local/nvidia/bin/nvidia-smi"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(libs); i++) {
        cleanup_free char *p = at(libs[i]);
        struct elf_info info = {0};
        assert_int_equal(elf_inspect(p, &info, &err), 0);
        assert_int_equal(info.machine, EM_AARCH64);
        elf_info_clear(&info);
    }
    assert_false(exists("/usr/lib/i386-linux-gnu/libcuda.so.580.95.05"));
    assert_false(exists("/usr/lib/x86_64-linux-gnu/libcuda.so.580.95.05"));
    assert_false(exists("/usr/local/nvidia/lib/libcuda.so.580.95.05"));
    cleanup_free char *cache_path = at("/etc/ld.so.cache");
    cleanup_ldcache struct ldcache cache = {0};
    assert_int_equal(ldcache_read(cache_path, &cache, &err), 0);
    /* the 34 libraries, the 8 development links, the 4 EGL platform
     * libraries: all aarch64's, none 32-bit */
    assert_int_equal(cache.len, 34 + 8 + 4);
    for (size_t i = 0; i < cache.len; i++) {
        assert_int_equal(cache.entries[i].flags, LDCACHE_FLAG_AARCH64);
        assert_true(str_has_prefix(cache.entries[i].path, "/usr/lib/aarch64-linux-gnu/"));
    }
}

static void test_mock_dir_env(void **state)
{
    (void)state;
    cleanup_free char *saved = xstrdup(getenv("GCTK_SIM_DIR"));
    char *dir = NULL;
    gctk_error *err = NULL;
    assert_int_equal(gctk_sim_mock_dir(NULL, &dir, &err), 0);
    assert_string_equal(dir, saved);
    free(dir);
    setenv("GCTK_SIM_DIR", "/nonexistent", 1);
    assert_int_equal(gctk_sim_mock_dir(NULL, &dir, &err), -1);
    assert_non_null(strstr(err->msg, "GCTK_SIM_DIR `/nonexistent`"));
    gctk_error_free(err);
    setenv("GCTK_SIM_DIR", saved, 1);
}

static void test_patch_cuda(void **state)
{
    (void)state;
    cleanup_free char *path = at("lib");
    gctk_error *err = NULL;
    cleanup_fd int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    const char text[] = "xx" GCTK_SIM_CUDA_MARKER "00013000yy" GCTK_SIM_CUDA_MARKER "00013000";
    assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
    assert_int_equal(gctk_sim_patch_cuda(path, 12040, &err), 0);
    cleanup_free char *data = slurp("lib");
    assert_string_equal(data,
                        "xx" GCTK_SIM_CUDA_MARKER "00012040yy" GCTK_SIM_CUDA_MARKER "00012040");

    cleanup_free char *other = at("other");
    cleanup_fd int fd2 = open(other, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    assert_int_equal(write(fd2, "plain", 5), 5);
    assert_int_equal(gctk_sim_patch_cuda(other, 12040, &err), -1);
    assert_non_null(strstr(err->msg, "no CUDA version marker"));
    gctk_error_free(err);
}

/* ---- create ------------------------------------------------------------------------ */

static void check_node(const char *rel, unsigned major, unsigned minor)
{
    cleanup_free char *p = at(rel);
    struct stat st;
    assert_int_equal(lstat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0666);
    if (geteuid() == 0) {
        assert_true(S_ISCHR(st.st_mode));
        assert_int_equal(major(st.st_rdev), major);
        assert_int_equal(minor(st.st_rdev), minor);
    }
}

static void check_common(void)
{
    cleanup_free char *version = slurp("/proc/driver/nvidia/version");
    assert_string_equal(version, "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.95.05  "
                                 "Sun Nov  2 10:00:00 UTC 2026\nGCC version:  gcc version "
                                 "12.2.0 (Debian 12.2.0-14)\n");
    cleanup_free char *params = slurp("/proc/driver/nvidia/params");
    assert_non_null(strstr(params, "ModifyDeviceFiles: 1\n"));
    assert_true(exists("/proc/driver/nvidia/registry"));
    check_node("/dev/nvidiactl", 195, 255);
    check_node("/dev/nvidia-modeset", 195, 254);
    check_node("/dev/nvidia-uvm", 510, 0);
    check_node("/dev/nvidia-uvm-tools", 510, 1);
    assert_true(exists("/dev/nvidia-caps"));

    /* every library: the versioned file and its SONAME link */
    assert_true(exists("/usr/lib/x86_64-linux-gnu/libcuda.so.580.95.05"));
    assert_true(exists("/usr/lib/x86_64-linux-gnu/libnvidia-ngx.so.580.95.05"));
    assert_true(exists("/usr/lib/x86_64-linux-gnu/libnvidia-tileiras.so.580.95.05"));
    assert_true(exists("/usr/lib/i386-linux-gnu/libGLX_nvidia.so.580.95.05"));
    cleanup_free char *link = at("/usr/lib/x86_64-linux-gnu/libGLESv2_nvidia.so.2");
    char target[256] = {0};
    assert_true(readlink(link, target, sizeof(target) - 1) > 0);
    assert_string_equal(target, "libGLESv2_nvidia.so.580.95.05");
    /* the stubs carry their SONAME; internal libraries are named by version */
    cleanup_free char *glcore = at("/usr/lib/x86_64-linux-gnu/libnvidia-glcore.so.580.95.05");
    struct elf_info info = {0};
    gctk_error *err = NULL;
    assert_int_equal(elf_inspect(glcore, &info, &err), 0);
    assert_string_equal(info.soname, "libnvidia-glcore.so.580.95.05");
    elf_info_clear(&info);
    /* the real mock libraries are copies, with their own SONAME */
    cleanup_free char *nvml = at("/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.580.95.05");
    assert_int_equal(elf_inspect(nvml, &info, &err), 0);
    assert_string_equal(info.soname, "libnvidia-ml.so.1");
    elf_info_clear(&info);

    /* ld.so.cache: key SONAME, value the link, per architecture */
    cleanup_free char *cache_path = at("/etc/ld.so.cache");
    struct ldcache cache = {0};
    assert_int_equal(ldcache_read(cache_path, &cache, &err), 0);
    bool cuda64 = false, cuda32 = false, glcore64 = false;
    for (size_t i = 0; i < cache.len; i++) {
        const struct ldcache_entry *e = &cache.entries[i];
        if (strcmp(e->soname, "libcuda.so.1") == 0 && e->flags == LDCACHE_FLAG_X86_64)
            cuda64 = strcmp(e->path, "/usr/lib/x86_64-linux-gnu/libcuda.so.1") == 0;
        if (strcmp(e->soname, "libcuda.so.1") == 0 && e->flags == LDCACHE_FLAG_I386)
            cuda32 = strcmp(e->path, "/usr/lib/i386-linux-gnu/libcuda.so.1") == 0;
        if (strcmp(e->soname, "libnvidia-glcore.so.580.95.05") == 0)
            glcore64 |= e->flags == LDCACHE_FLAG_X86_64;
    }
    ldcache_clear(&cache);
    assert_true(cuda64);
    assert_true(cuda32);
    assert_true(glcore64);

    assert_true(exists("/usr/bin/nvidia-smi"));
    assert_true(exists("/usr/bin/nvidia-cuda-mps-control"));
    assert_true(exists("/lib/firmware/nvidia/580.95.05/gsp_ga10x.bin"));
    assert_true(exists("/lib/firmware/nvidia/580.95.05/gsp_tu10x.bin"));
    cleanup_free char *sock = at("/run/nvidia-persistenced/socket");
    struct stat st;
    assert_int_equal(lstat(sock, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_true(exists("/var/run/nvidia-persistenced/socket"));
    assert_true(exists("/usr/share/glvnd/egl_vendor.d/10_nvidia.json"));
    assert_true(exists("/usr/share/vulkan/icd.d/nvidia_icd.json"));
    assert_true(exists("/etc/OpenCL/vendors/nvidia.icd"));
    assert_true(exists("/usr/share/vulkan/implicit_layer.d/nvidia_layers.json"));
    assert_true(exists("/usr/share/nvidia/nvoptix.bin"));
    assert_true(exists("/usr/share/X11/xorg.conf.d/nvidia-drm-outputclass.conf"));
    assert_true(exists("/usr/lib/xorg/modules/drivers/nvidia_drv.so"));
    assert_true(exists("/usr/lib/xorg/modules/extensions/libglxserver_nvidia.so.580.95.05"));
    /* each EGL platform file names its library, of its own version */
    cleanup_free char *gbm = slurp("/usr/share/egl/egl_external_platform.d/15_nvidia_gbm.json");
    assert_non_null(strstr(gbm, "\"libnvidia-egl-gbm.so.1\""));
    cleanup_free char *gbm_link = link_text("/usr/lib/x86_64-linux-gnu/libnvidia-egl-gbm.so.1");
    assert_string_equal(gbm_link, "libnvidia-egl-gbm.so.1.1.2");
    /* the installer's development links, listed by the cache under their names */
    cleanup_free char *dev = link_text("/usr/lib/x86_64-linux-gnu/libnvcuvid.so");
    assert_string_equal(dev, "libnvcuvid.so.1");
    assert_false(exists("/usr/lib/x86_64-linux-gnu/libnvidia-ml.so"));
    assert_int_equal(ldcache_read(cache_path, &cache, &err), 0);
    bool dev_cuda = false;
    for (size_t i = 0; i < cache.len; i++)
        dev_cuda = dev_cuda ||
                   (strcmp(cache.entries[i].soname, "libcuda.so") == 0 &&
                    strcmp(cache.entries[i].path, "/usr/lib/x86_64-linux-gnu/libcuda.so") == 0);
    ldcache_clear(&cache);
    assert_true(dev_cuda);
    /* the kernel's firmware search: no firmware_class.path */
    cleanup_free char *fw_path = slurp("/sys/module/firmware_class/parameters/path");
    assert_string_equal(fw_path, "\n");
    /* the char majors the driver got, IMEX channels included */
    cleanup_free char *devices = slurp("/proc/devices");
    assert_non_null(strstr(devices, "\n509 nvidia-caps-imex-channels\n"));
    assert_non_null(strstr(devices, "\n226 drm\n"));
    check_node("/dev/nvidia-caps-imex-channels/channel0", GCTK_SIM_IMEX_MAJOR, 0);
    check_node("/dev/nvidia-caps-imex-channels/channel1", GCTK_SIM_IMEX_MAJOR, 1);
    /* the BMC's DRM card, never a GPU's */
    check_node("/dev/dri/card0", 226, 0);
    cleanup_free char *bmc = link_text("/dev/dri/by-path/pci-0000:03:00.0-card");
    assert_string_equal(bmc, "../card0");

    char real[PATH_MAX];
    assert_non_null(realpath(tmp, real));
    cleanup_free char *conf = slurp("/gctk.conf");
    cleanup_free char *expect = xasprintf("{\n  \"root\": \"%s\"\n}\n", real);
    assert_string_equal(conf, expect);
}

static void test_create_0(void **state)
{
    (void)state;
    create(0, NULL, false);
    check_common();
    assert_int_equal(count_entries("/proc/driver/nvidia/gpus"), 0);
    assert_false(exists("/dev/nvidia0"));
}

static void test_create_4(void **state)
{
    (void)state;
    create(4, NULL, false);
    check_common();
    assert_int_equal(count_entries("/proc/driver/nvidia/gpus"), 4);
    for (unsigned i = 0; i < 4; i++) {
        char node[32];
        snprintf(node, sizeof(node), "/dev/nvidia%u", i);
        check_node(node, 195, i);
        cleanup_free char *bus = gctk_sim_gpu_bus_id(i);
        /* its DRM nodes, by PCI address */
        cleanup_free char *card = xasprintf("/dev/dri/card%u", i + 1);
        cleanup_free char *render = xasprintf("/dev/dri/renderD%u", 128 + i);
        check_node(card, 226, i + 1);
        check_node(render, 226, 128 + i);
        cleanup_free char *by_card = xasprintf("/dev/dri/by-path/pci-%s-card", bus);
        cleanup_free char *by_render = xasprintf("/dev/dri/by-path/pci-%s-render", bus);
        cleanup_free char *to_card = link_text(by_card), *to_render = link_text(by_render);
        cleanup_free char *want_card = xasprintf("../card%u", i + 1);
        cleanup_free char *want_render = xasprintf("../renderD%u", 128 + i);
        assert_string_equal(to_card, want_card);
        assert_string_equal(to_render, want_render);
        cleanup_free char *uuid = gctk_sim_gpu_uuid(i);
        cleanup_free char *rel = xasprintf("/proc/driver/nvidia/gpus/%s/information", bus);
        cleanup_free char *info = slurp(rel);
        cleanup_free char *expect =
            xasprintf("Model: \t\t NVIDIA H100 80GB HBM3\nIRQ:   \t\t %u\nGPU UUID: \t %s\n"
                      "Video BIOS: \t 96.00.99.00.01\nBus Type: \t PCIe\nDMA Size: \t 52 bits\n"
                      "DMA Mask: \t 0xfffffffffffff\nBus Location: \t %s\nDevice Minor: \t %u\n"
                      "GPU Excluded:\t No\n",
                      100 + i, uuid, bus, i);
        assert_string_equal(info, expect);
        cleanup_free char *rel2 = xasprintf("/proc/driver/nvidia/gpus/%s/gctk-sim", bus);
        cleanup_free char *extra = slurp(rel2);
        assert_string_equal(extra, "Memory MiB: 81559\nBrand: Tesla\nCompute Capability: 9.0\n"
                                   "Persistence Mode: Enabled\n");
    }
    assert_false(exists("/dev/nvidia4"));
}

static void test_create_16_and_cuda(void **state)
{
    (void)state;
    create(16, "12.4", false);
    assert_int_equal(count_entries("/proc/driver/nvidia/gpus"), 16);
    check_node("/dev/nvidia15", 195, 15);
    cleanup_free char *lib = slurp("/usr/lib/x86_64-linux-gnu/libcuda.so.580.95.05");
    cleanup_free char *nvml = slurp("/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.580.95.05");
    /* read_file stops at nothing, but the strings are found past NULs with memmem */
    struct stat st;
    cleanup_free char *p = at("/usr/lib/x86_64-linux-gnu/libcuda.so.580.95.05");
    assert_int_equal(stat(p, &st), 0);
    assert_non_null(memmem(lib, (size_t)st.st_size, GCTK_SIM_CUDA_MARKER "00012040",
                           strlen(GCTK_SIM_CUDA_MARKER) + 8));
    assert_null(memmem(lib, (size_t)st.st_size, GCTK_SIM_CUDA_MARKER "00013000",
                       strlen(GCTK_SIM_CUDA_MARKER) + 8));
    cleanup_free char *q = at("/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.580.95.05");
    assert_int_equal(stat(q, &st), 0);
    assert_non_null(memmem(nvml, (size_t)st.st_size, GCTK_SIM_CUDA_MARKER "00012040",
                           strlen(GCTK_SIM_CUDA_MARKER) + 8));
}

static void test_model(void **state)
{
    (void)state;
    struct gctk_sim_options o;
    gctk_sim_options_init(&o);
    o.gpus = 1;
    o.model = "NVIDIA GH200 480GB";
    gctk_error *err = NULL;
    assert_int_equal(gctk_sim_create(tmp, &o, NULL, &err), 0);
    cleanup_free char *bus = gctk_sim_gpu_bus_id(0);
    cleanup_free char *rel = xasprintf("/proc/driver/nvidia/gpus/%s/gctk-sim", bus);
    cleanup_free char *extra = slurp(rel);
    assert_string_equal(extra, "Memory MiB: 97871\nBrand: Tesla\nCompute Capability: 9.0\n"
                               "Persistence Mode: Enabled\n");
    cleanup_free char *rel2 = xasprintf("/proc/driver/nvidia/gpus/%s/information", bus);
    cleanup_free char *info = slurp(rel2);
    assert_true(str_has_prefix(info, "Model: \t\t NVIDIA GH200 480GB\n"));
}

static void test_create_max(void **state)
{
    (void)state;
    create(GCTK_SIM_MAX_GPUS, NULL, false);
    assert_int_equal(count_entries("/proc/driver/nvidia/gpus"), GCTK_SIM_MAX_GPUS);
    check_node("/dev/nvidia1023", 195, 1023);
}

static void test_refuses_non_empty(void **state)
{
    (void)state;
    cleanup_free char *f = at("precious");
    cleanup_fd int fd = open(f, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    struct gctk_sim_options o;
    gctk_sim_options_init(&o);
    gctk_error *err = NULL;
    assert_int_equal(gctk_sim_create(tmp, &o, NULL, &err), -1);
    assert_non_null(strstr(err->msg, "is not empty"));
    assert_non_null(strstr(err->msg, "--force"));
    gctk_error_free(err);
    assert_false(exists("/proc"));

    /* --force builds over it, keeps the user's file, and a rebuild with
     * fewer GPUs and another driver leaves none of the old ones */
    create(4, NULL, true);
    struct gctk_sim_options o2;
    gctk_sim_options_init(&o2);
    o2.gpus = 2;
    o2.driver = "590.10.01";
    o2.force = true;
    assert_int_equal(gctk_sim_create(tmp, &o2, NULL, &err), 0);
    assert_true(exists("/precious"));
    assert_int_equal(count_entries("/proc/driver/nvidia/gpus"), 2);
    assert_true(exists("/dev/nvidia1"));
    assert_false(exists("/dev/nvidia2"));
    assert_true(exists("/usr/lib/x86_64-linux-gnu/libcuda.so.590.10.01"));
    assert_false(exists("/usr/lib/x86_64-linux-gnu/libcuda.so.580.95.05"));
    assert_false(exists("/usr/lib/i386-linux-gnu/libnvidia-glcore.so.580.95.05"));
}

/* ---- the mock NVML, loaded from a created host ------------------------------------- */

typedef int (*nvml_void_fn)(void);
typedef int (*nvml_count_fn)(unsigned *);
typedef int (*nvml_index_fn)(unsigned, void **);
typedef int (*nvml_str_fn)(void *, char *, unsigned);
typedef int (*nvml_lookup_fn)(const char *, void **);
typedef int (*nvml_brand_fn)(void *, int *);

static void *sym(void *h, const char *name)
{
    void *p = dlsym(h, name);
    if (p == NULL)
        fail_msg("dlsym %s: %s", name, dlerror());
    return p;
}

static void test_mock_nvml(void **state)
{
    (void)state;
    create(4, NULL, false);
    cleanup_free char *lib = at("/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1");
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL)
        fail_msg("dlopen: %s", dlerror());
    nvml_void_fn init = (nvml_void_fn)sym(h, "nvmlInit_v2");
    nvml_void_fn shutdown = (nvml_void_fn)sym(h, "nvmlShutdown");
    nvml_count_fn count = (nvml_count_fn)sym(h, "nvmlDeviceGetCount_v2");
    nvml_index_fn by_index = (nvml_index_fn)sym(h, "nvmlDeviceGetHandleByIndex_v2");
    nvml_lookup_fn by_uuid = (nvml_lookup_fn)sym(h, "nvmlDeviceGetHandleByUUID");
    nvml_lookup_fn by_bus = (nvml_lookup_fn)sym(h, "nvmlDeviceGetHandleByPciBusId_v2");
    nvml_str_fn uuid_of = (nvml_str_fn)sym(h, "nvmlDeviceGetUUID");
    nvml_brand_fn brand = (nvml_brand_fn)sym(h, "nvmlDeviceGetBrand");
    const char *(*error_string)(int) = (const char *(*)(int))sym(h, "nvmlErrorString");

    unsigned n = 0;
    assert_int_equal(count(&n), 1); /* NVML_ERROR_UNINITIALIZED */
    assert_int_equal(init(), 0);
    assert_int_equal(count(&n), 0);
    assert_int_equal(n, 4);
    void *dev = NULL, *dev2 = NULL;
    char uuid[96];
    assert_int_equal(by_index(2, &dev), 0);
    assert_int_equal(uuid_of(dev, uuid, sizeof(uuid)), 0);
    cleanup_free char *expect = gctk_sim_gpu_uuid(2);
    assert_string_equal(uuid, expect);
    assert_int_equal(uuid_of(dev, uuid, 8), 7); /* NVML_ERROR_INSUFFICIENT_SIZE */
    assert_int_equal(by_uuid(expect, &dev2), 0);
    assert_ptr_equal(dev, dev2);
    cleanup_free char *bus = gctk_sim_gpu_bus_id(2);
    assert_int_equal(by_bus(bus, &dev2), 0);
    assert_ptr_equal(dev, dev2);
    assert_int_equal(by_uuid("GPU-nope", &dev2), 6); /* NVML_ERROR_NOT_FOUND */
    assert_int_equal(by_index(4, &dev2), 2);         /* NVML_ERROR_INVALID_ARGUMENT */
    int b = -1;
    assert_int_equal(brand(dev, &b), 0);
    assert_int_equal(b, 2); /* NVML_BRAND_TESLA */
    assert_int_equal(shutdown(), 0);

    /* a GPU whose node is gone is not visible */
    cleanup_free char *node = at("/dev/nvidia1");
    assert_int_equal(unlink(node), 0);
    assert_int_equal(init(), 0);
    assert_int_equal(count(&n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(by_index(1, &dev), 0);
    assert_int_equal(uuid_of(dev, uuid, sizeof(uuid)), 0);
    cleanup_free char *third = gctk_sim_gpu_uuid(2);
    assert_string_equal(uuid, third);
    assert_int_equal(shutdown(), 0);

    /* another kernel module version than the library's */
    cleanup_free char *version = at("/proc/driver/nvidia/version");
    cleanup_fd int fd = open(version, O_WRONLY | O_TRUNC | O_CLOEXEC);
    const char other[] = "NVRM version: NVIDIA UNIX x86_64 Kernel Module  570.1.2  x\n";
    assert_int_equal(write(fd, other, sizeof(other) - 1), (ssize_t)sizeof(other) - 1);
    assert_int_equal(init(), 18);
    assert_string_equal(error_string(18), "Driver/library version mismatch");

    /* no kernel module at all */
    assert_int_equal(unlink(version), 0);
    assert_int_equal(init(), 9);
    assert_string_equal(error_string(9), "Driver Not Loaded");
    assert_string_equal(error_string(999), "Unknown Error");
    dlclose(h);
}

static void create_opts(struct gctk_sim_options *o)
{
    struct strv warnings = {0};
    gctk_error *err = NULL;
    o->force = true;
    if (gctk_sim_create(tmp, o, &warnings, &err) < 0)
        fail_msg("gctk_sim_create: %s", err->msg);
    strv_clear(&warnings);
}

/* The cache's 64-bit driver entries */
static size_t cached_driver_libs(void)
{
    cleanup_free char *path = at("/etc/ld.so.cache");
    struct ldcache c = {0};
    gctk_error *err = NULL;
    assert_int_equal(ldcache_read(path, &c, &err), 0);
    size_t n = 0;
    for (size_t i = 0; i < c.len; i++)
        n += str_has_prefix(c.entries[i].soname, "libcuda.so") ||
             str_has_prefix(c.entries[i].soname, "libnvidia-ml.so");
    ldcache_clear(&c);
    return n;
}

/* The broken installs of docs/troubleshooting.md */
static void test_broken_installs(void **state)
{
    (void)state;
    struct gctk_sim_options o;
    gctk_sim_options_init(&o);
    o.gpus = 1;
    o.lib_version = "580.105.08";
    create_opts(&o);
    assert_true(exists("/usr/lib/x86_64-linux-gnu/libcuda.so.580.105.08"));
    assert_true(exists("/usr/lib/x86_64-linux-gnu/libnvidia-glcore.so.580.105.08"));
    assert_false(exists("/usr/lib/x86_64-linux-gnu/libcuda.so.580.95.05"));
    /* the module and its firmware stay at --driver */
    assert_true(exists("/lib/firmware/nvidia/580.95.05/gsp_ga10x.bin"));
    cleanup_free char *lib = at("/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1");
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL)
        fail_msg("dlopen: %s", dlerror());
    nvml_void_fn init = (nvml_void_fn)sym(h, "nvmlInit_v2");
    assert_int_equal(init(), 18); /* NVML_ERROR_LIB_RM_VERSION_MISMATCH */
    dlclose(h);

    o.lib_version = NULL;
    o.no_libs = true;
    create_opts(&o);
    assert_false(exists("/usr/lib/x86_64-linux-gnu/libcuda.so.1"));
    assert_false(exists("/usr/lib/x86_64-linux-gnu/libcuda.so.580.105.08"));
    assert_true(exists("/etc/ld.so.cache"));
    assert_int_equal(cached_driver_libs(), 0);
    assert_true(exists("/dev/nvidiactl"));
    assert_true(exists("/proc/driver/nvidia/version"));

    o.no_libs = false;
    o.uncached_lib_dir = "/run/opengl-driver/lib";
    create_opts(&o);
    assert_true(exists("/run/opengl-driver/lib/libcuda.so.1"));
    assert_true(exists("/run/opengl-driver/lib/libnvidia-ml.so.580.95.05"));
    assert_false(exists("/usr/lib/x86_64-linux-gnu/libcuda.so.1"));
    assert_false(exists("/usr/lib/i386-linux-gnu/libcuda.so.1"));
    assert_int_equal(cached_driver_libs(), 0);

    o.uncached_lib_dir = NULL;
    o.cold_init_ms = 300;
    create_opts(&o);
    cleanup_free char *bus = gctk_sim_gpu_bus_id(0);
    cleanup_free char *extra_rel = xasprintf("/proc/driver/nvidia/gpus/%s/gctk-sim", bus);
    cleanup_free char *extra = at(extra_rel);
    cleanup_free char *text = NULL;
    gctk_error *err = NULL;
    assert_int_equal(read_file(extra, 4096, &text, NULL, &err), 0);
    assert_non_null(strstr(text, "Persistence Mode: Disabled\nInit Delay MS: 300\n"));
    h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL)
        fail_msg("dlopen: %s", dlerror());
    init = (nvml_void_fn)sym(h, "nvmlInit_v2");
    nvml_void_fn shutdown = (nvml_void_fn)sym(h, "nvmlShutdown");
    unsigned long long t0 = now_ns();
    assert_int_equal(init(), 0);
    /* at least the delay: a floor the mock promises, not a speed target */
    assert_true(now_ns() - t0 >= 300ull * 1000000);
    assert_int_equal(shutdown(), 0);
    dlclose(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_elfstub_64, setup, teardown),
        cmocka_unit_test_setup_teardown(test_elfstub_32, setup, teardown),
        cmocka_unit_test_setup_teardown(test_elfstub_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_elfstub_arch, setup, teardown),
        cmocka_unit_test(test_identities),
        cmocka_unit_test(test_cuda_number),
        cmocka_unit_test(test_cuda_of_driver),
        cmocka_unit_test_setup_teardown(test_create_driver_cuda, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_options, setup, teardown),
        cmocka_unit_test(test_mock_dir_env),
        cmocka_unit_test_setup_teardown(test_patch_cuda, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_0, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_16_and_cuda, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_max, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_non_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mock_nvml, setup, teardown),
        cmocka_unit_test_setup_teardown(test_driver_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_aarch64, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_installs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
