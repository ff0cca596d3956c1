/* `gctk sim create`: a complete fake GPU host under a directory (see sim.h
 * and sim/README.md). The directory plays "/" of a machine with the NVIDIA
 * driver installed; gctk's discovery and the mocks read it as they read a
 * real host. */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

#include "arch.h"
#include "cudacompat.h"
#include "elfinfo.h"
#include "vercmp.h"
#include "ldcache.h"
#include "sim.h"

/* Device numbers of a real install. nvidia-uvm's major is allocated
 * dynamically by the kernel; 510 is one it gets on current kernels. */
#define NVIDIA_MAJOR 195
#define NVIDIA_CTL_MINOR 255
#define NVIDIA_MODESET_MINOR 254
#define NVIDIA_UVM_MAJOR 510
#define DRM_MAJOR 226
/* a BMC's VGA controller, the machine's own first DRM card: never a GPU's */
#define BMC_PCI "0000:03:00.0"

/* The driver libraries of every capability (lib/host/caps.c knows them by
 * prefix), one table for the whole simulator. soname: the SONAME's suffix after ".so."; NULL when
 * it is the driver version itself (the internal libraries). */
static const struct sim_lib {
    const char *name;
    const char *soname;
    bool lib32; /* also shipped for i386 (compat32) on x86-64 */
} sim_libs[] = {
    /* utility */
    {"libnvidia-ml", "1", true},
    {"libnvidia-cfg", "1", false},
    {"libnvidia-nscq", "2", false},
    /* compute */
    {"libcuda", "1", true},
    {"libcudadebugger", "1", false},
    {"libnvidia-opencl", "1", true},
    {"libnvidia-gpucomp", NULL, true},
    {"libnvidia-ptxjitcompiler", "1", true},
    {"libnvidia-fatbinaryloader", NULL, false},
    {"libnvidia-allocator", "1", true},
    {"libnvidia-compiler", NULL, false},
    {"libnvidia-pkcs11", NULL, false},
    {"libnvidia-pkcs11-openssl3", NULL, false},
    {"libnvidia-nvvm", "4", false},
    {"libnvidia-tileiras", NULL, false},
    /* video */
    {"libvdpau_nvidia", "1", true},
    {"libnvidia-encode", "1", true},
    {"libnvidia-opticalflow", "1", true},
    {"libnvcuvid", "1", true},
    /* graphics */
    {"libnvidia-eglcore", NULL, true},
    {"libnvidia-glcore", NULL, true},
    {"libnvidia-tls", NULL, true},
    {"libnvidia-glsi", NULL, true},
    {"libnvidia-fbc", "1", true},
    {"libnvidia-ifr", "1", false},
    {"libnvidia-rtcore", NULL, false},
    {"libnvoptix", "1", false},
    {"libGLX_nvidia", "0", true},
    {"libEGL_nvidia", "0", true},
    {"libGLESv2_nvidia", "2", true},
    {"libGLESv1_CM_nvidia", "1", true},
    {"libnvidia-glvkspirv", NULL, true},
    {"libnvidia-cbl", NULL, false},
    /* ngx */
    {"libnvidia-ngx", "1", false},
};

/* The development links the driver's installer leaves beside its 64-bit
 * libraries (<name>.so -> the SONAME; 580's has no libnvidia-ml.so). */
static const char *const sim_dev_links[] = {
    "libcuda",
    "libcudadebugger",
    "libnvidia-nvvm",
    "libnvidia-opencl",
    "libnvidia-ptxjitcompiler",
    "libnvcuvid",
    "libnvidia-encode",
    "libnvidia-cfg",
};

/* The EGL external platform libraries (64-bit): NVIDIA's projects of their
 * own version, each named by a platform file of egl_external_platform.d. */
static const struct sim_egl_platform {
    const char *lib, *version, *json;
} sim_egl_platforms[] = {
    {"libnvidia-egl-wayland", "1.1.13", "10_nvidia_wayland.json"},
    {"libnvidia-egl-gbm", "1.1.2", "15_nvidia_gbm.json"},
    {"libnvidia-egl-xcb", "1.0.1", "20_nvidia_xcb.json"},
    {"libnvidia-egl-xlib", "1.0.1", "20_nvidia_xlib.json"},
};

/* Real HGX H100 boards put their eight GPUs on these buses. */
static const unsigned hgx_buses[] = {0x18, 0x2a, 0x3a, 0x5d, 0x9a, 0xab, 0xba, 0xdb};

/* The architecture of the host to build (check_options made sure it is known). */
static const struct host_arch *arch_of(const struct gctk_sim_options *o)
{
    const struct host_arch *a = o->arch != NULL ? host_arch_by_name(o->arch) : NULL;
    return a != NULL ? a : host_arch_native();
}

const char *gctk_sim_arch(const struct gctk_sim_options *o)
{
    if (o != NULL && o->arch != NULL && host_arch_by_name(o->arch) == NULL)
        return o->arch;
    return o != NULL ? arch_of(o)->name : host_arch_native()->name;
}

void gctk_sim_options_init(struct gctk_sim_options *o)
{
    *o = (struct gctk_sim_options){
        .gpus = GCTK_SIM_DEFAULT_GPUS,
        .driver = GCTK_SIM_DEFAULT_DRIVER,
        .model = GCTK_SIM_DEFAULT_MODEL,
    };
}

/* ---- identities ------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

char *gctk_sim_gpu_uuid(unsigned index)
{
    /* a fixed seed: a GPU keeps its UUID across driver versions, as real ones do */
    uint64_t hi = splitmix64(0x6763746b73696d00ull ^ ((uint64_t)index << 1));
    uint64_t lo = splitmix64(0x6763746b73696d00ull ^ ((uint64_t)index << 1 | 1));
    return xasprintf("GPU-%08x-%04x-%04x-%04x-%012llx", (unsigned)(hi >> 32),
                     (unsigned)(hi >> 16) & 0xffff, (unsigned)hi & 0xffff, (unsigned)(lo >> 48),
                     (unsigned long long)(lo & 0xffffffffffffull));
}

char *gctk_sim_gpu_bus_id(unsigned index)
{
    /* the first eight as on an HGX board, the rest on further PCI domains;
     * bus order is index order either way */
    if (index < GCTK_ARRAY_LEN(hgx_buses))
        return xasprintf("0000:%02x:00.0", hgx_buses[index]);
    unsigned i = index - (unsigned)GCTK_ARRAY_LEN(hgx_buses);
    return xasprintf("%04x:%02x:00.0", 1 + i / 224, 0x18 + i % 224);
}

int gctk_sim_cuda_number(const char *cuda)
{
    unsigned major, minor;
    int n = 0;
    if (cuda == NULL || sscanf(cuda, "%u.%u%n", &major, &minor, &n) != 2 || cuda[n] != '\0' ||
        major < 1 || major > 99 || minor > 99)
        return -1;
    return (int)(major * 1000 + minor * 10);
}

/* ---- small file helpers ------------------------------------------------------ */

/* Replaces whatever is at path (a file of an earlier build, with --force). */
static int unlink_old(const char *path, gctk_error **err)
{
    if (unlink(path) < 0 && errno != ENOENT)
        return gctk_fail(err, errno, "remove `%s`", path);
    return 0;
}

static int write_text(const char *root, const char *rel, const char *text, mode_t mode,
                      gctk_error **err)
{
    cleanup_free char *path = path_join(root, rel);
    cleanup_free char *dir = xstrdup(path);
    *strrchr(dir, '/') = '\0';
    if (mkdir_p(dir, 0755, err) < 0 || unlink_old(path, err) < 0)
        return -1;
    cleanup_fd int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return gctk_fail(err, errno, "create `%s`", path);
    if (write_all(fd, text, strlen(text)) < 0)
        return gctk_fail(err, errno, "write `%s`", path);
    if (fchmod(fd, mode) < 0) /* past the umask */
        return gctk_fail(err, errno, "chmod `%s`", path);
    return 0;
}

static int copy_file(const char *src, const char *dst, mode_t mode, gctk_error **err)
{
    cleanup_fd int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return gctk_fail(err, errno, "open `%s`", src);
    if (unlink_old(dst, err) < 0)
        return -1;
    cleanup_fd int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (out < 0)
        return gctk_fail(err, errno, "create `%s`", dst);
    char buf[65536];
    for (;;) {
        ssize_t r = read(in, buf, sizeof(buf));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return gctk_fail(err, errno, "read `%s`", src);
        if (r == 0)
            break;
        if (write_all(out, buf, (size_t)r) < 0)
            return gctk_fail(err, errno, "write `%s`", dst);
    }
    if (fchmod(out, mode) < 0)
        return gctk_fail(err, errno, "chmod `%s`", dst);
    return 0;
}

static int make_symlink(const char *target, const char *path, gctk_error **err)
{
    if (unlink_old(path, err) < 0)
        return -1;
    if (symlink(target, path) < 0)
        return gctk_fail(err, errno, "create symlink `%s`", path);
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT ? -1 : 0;
}

static int rm_rf(const char *path, gctk_error **err)
{
    if (nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
        return gctk_fail(err, errno, "remove `%s`", path);
    return 0;
}

/* Where --driver-dir keeps the files of a standard directory: the
 * subdirectory of the driver dir they go to (the architecture's library
 * directories first; aarch64 has no 32-bit one). Returns the count. */
struct dir_map {
    const char *standard, *kept;
};
#define DIR_MAP_MAX 6
static size_t driver_dir_map(const struct host_arch *a, struct dir_map out[DIR_MAP_MAX])
{
    size_t n = 0;
    out[n++] = (struct dir_map){a->libdir, "/lib64"};
    if (a->libdir32 != NULL)
        out[n++] = (struct dir_map){a->libdir32, "/lib"};
    out[n++] = (struct dir_map){"/usr/bin", "/bin"};
    out[n++] = (struct dir_map){"/usr/share", "/share"};
    out[n++] = (struct dir_map){"/lib/firmware", "/firmware"};
    out[n++] = (struct dir_map){"/etc", "/etc"};
    return n;
}

/* The path (relative to the root) where the driver's file of the standard
 * path rel is written: rel itself, or with a driver dir the file's place in it,
 * rel then being an absolute link to that place. NULL on error. */
static char *driver_file(const char *root, const struct gctk_sim_options *o, const char *rel,
                         gctk_error **err)
{
    if (o->driver_dir == NULL)
        return xstrdup(rel);
    struct dir_map map[DIR_MAP_MAX];
    size_t nmap = driver_dir_map(arch_of(o), map);
    for (size_t i = 0; i < nmap; i++) {
        size_t n = strlen(map[i].standard);
        if (strncmp(rel, map[i].standard, n) != 0 || rel[n] != '/')
            continue;
        char *kept = xasprintf("%s%s%s", o->driver_dir, map[i].kept, rel + n);
        cleanup_free char *link = path_join(root, rel);
        cleanup_free char *kept_full = path_join(root, kept);
        cleanup_free char *link_dir = xstrdup(link), *kept_dir = xstrdup(kept_full);
        *strrchr(link_dir, '/') = '\0';
        *strrchr(kept_dir, '/') = '\0';
        if (mkdir_p(link_dir, 0755, err) < 0 || mkdir_p(kept_dir, 0755, err) < 0 ||
            make_symlink(kept, link, err) < 0) {
            free(kept);
            return NULL;
        }
        return kept;
    }
    return xstrdup(rel);
}

static void add_warning(struct strv *warnings, char *owned)
{
    if (warnings != NULL)
        strv_push(warnings, owned);
    else
        free(owned);
}

/* ---- the mocks ----------------------------------------------------------------- */

/* dir holds the mocks of arch: its libnvidia-ml.so.1 is one of arch's. */
static bool has_mocks(const char *dir, const struct host_arch *arch)
{
    cleanup_free char *nvml = path_join(dir, "libnvidia-ml.so.1");
    struct elf_info info = {0};
    if (elf_inspect(nvml, &info, NULL) < 0)
        return false;
    bool ours = host_arch_fit(arch, &info) == HOST_ARCH_OWN;
    elf_info_clear(&info);
    return ours;
}

/* The mocks of arch in base: base itself, or its cross/ (those of the
 * other architecture, built with its cross compiler). */
static char *mocks_in(const char *base, const struct host_arch *arch)
{
    if (has_mocks(base, arch))
        return xstrdup(base);
    cleanup_free char *cross = xasprintf("%s/cross", base);
    return has_mocks(cross, arch) ? steal_pointer(&cross) : NULL;
}

int gctk_sim_mock_dir(const char *arch_name, char **out, gctk_error **err)
{
    const struct host_arch *arch = arch_name != NULL ? host_arch_by_name(arch_name) : NULL;
    if (arch_name != NULL && arch == NULL)
        return gctk_fail(err, 0, "unknown architecture `%s`: gctk knows %s", arch_name,
                         host_arch_names());
    if (arch == NULL)
        arch = host_arch_native();
    bool own = arch == host_arch_native();
    const char *env = getenv("GCTK_SIM_DIR");
    if (env != NULL && env[0] != '\0') {
        *out = mocks_in(env, arch);
        if (*out != NULL)
            return 0;
        if (own)
            return gctk_fail(err, 0,
                             "GCTK_SIM_DIR `%s` holds no libnvidia-ml.so.1: point it "
                             "at the build's sim/ directory",
                             env);
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        *strrchr(exe, '/') = '\0';
        cleanup_free char *build = xasprintf("%s/../sim", exe);
        if ((*out = mocks_in(build, arch)) != NULL)
            return 0;
    }
#ifdef GCTK_SIM_INSTALL_DIR
    if ((*out = mocks_in(GCTK_SIM_INSTALL_DIR, arch)) != NULL)
        return 0;
#endif
    if (!own) {
        gctk_fail(err, 0, "the %s mock driver files are not built", arch->name);
        return gctk_hint(err,
                         "install %s-linux-gnu-gcc (Debian: crossbuild-essential-%s) and "
                         "build gctk again: meson builds them in sim/cross/",
                         arch->name, arch->deb);
    }
    return gctk_fail(err, 0,
                     "the mock driver files (libnvidia-ml.so.1, libcuda.so.1, "
                     "nvidia-smi) are not installed: build gctk, or set GCTK_SIM_DIR");
}

int gctk_sim_patch_cuda(const char *path, int cuda_number, gctk_error **err)
{
    cleanup_free char *data = NULL;
    size_t len = 0;
    if (read_file(path, 64u << 20, &data, &len, err) < 0)
        return gctk_wrap(err, "patch the CUDA version");
    cleanup_fd int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return gctk_fail(err, errno, "open `%s`", path);
    char digits[16];
    snprintf(digits, sizeof(digits), "%08d", cuda_number);
    const size_t mlen = strlen(GCTK_SIM_CUDA_MARKER);
    size_t found = 0;
    for (const char *p = data;
         (p = memmem(p, len - (size_t)(p - data), GCTK_SIM_CUDA_MARKER, mlen)) != NULL; p += mlen) {
        off_t off = (off_t)(p - data + (ptrdiff_t)mlen);
        if ((size_t)off + 8 > len)
            break;
        if (pwrite(fd, digits, 8, off) != 8)
            return gctk_fail(err, errno, "write `%s`", path);
        found++;
    }
    if (found == 0)
        return gctk_fail(err, 0, "`%s` holds no CUDA version marker: is it a gctk mock?", path);
    return 0;
}

/* ---- the parts of the host ------------------------------------------------------- */

static int create_proc(const char *root, const struct gctk_sim_options *o, gctk_error **err)
{
    /* the line names the architecture the module was built for, as the real
     * ones do (GH200 and GB200 nodes run the open kernel module) */
    bool x86 = strcmp(arch_of(o)->name, "x86_64") == 0;
    cleanup_free char *version =
        x86 ? xasprintf("NVRM version: NVIDIA UNIX x86_64 Kernel Module  %s  Sun Nov  2 10:00:00 "
                        "UTC 2026\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n",
                        o->driver)
            : xasprintf("NVRM version: NVIDIA UNIX Open Kernel Module for %s  %s  Release Build  "
                        "(gctk-sim)  Sun Nov  2 10:00:00 UTC 2026\nGCC version:  gcc version "
                        "12.2.0 (Debian 12.2.0-14)\n",
                        arch_of(o)->name, o->driver);
    if (write_text(root, "/proc/driver/nvidia/version", version, 0444, err) < 0 ||
        write_text(root, "/proc/driver/nvidia/params",
                   "ResmanDebugLevel: 4294967295\nRmLogonRC: 1\nModifyDeviceFiles: 1\n"
                   "DeviceFileUID: 0\nDeviceFileGID: 0\nDeviceFileMode: 438\n"
                   "InitializeSystemMemoryAllocations: 1\nUsePageAttributeTable: 4294967295\n"
                   "EnableMSI: 1\nRegisterPCIDriver: 1\nEnableGpuFirmware: 18\n",
                   0444, err) < 0 ||
        write_text(root, "/proc/driver/nvidia/registry", "Binary: \"\"\n", 0444, err) < 0)
        return -1;
    /* the char majors, ascending as the kernel lists them: the dynamic ones
     * are those the drivers get on current kernels */
    cleanup_free char *devices = xasprintf(
        "Character devices:\n  1 mem\n  4 /dev/vc/0\n  5 /dev/tty\n%3d nvidia\n"
        "%3d drm\n%3d nvidia-caps-imex-channels\n%3d nvidia-uvm\n%3d nvidia-caps\n\n"
        "Block devices:\n  8 sd\n",
        NVIDIA_MAJOR, DRM_MAJOR, GCTK_SIM_IMEX_MAJOR, NVIDIA_UVM_MAJOR, GCTK_SIM_CAPS_MAJOR);
    if (write_text(root, "/proc/devices", devices, 0444, err) < 0)
        return -1;
    /* a GPU-less driver still has the directory */
    cleanup_free char *gpus = path_join(root, "/proc/driver/nvidia/gpus");
    return mkdir_p(gpus, 0755, err);
}

/* What NVML reports for a few common models, so that --model also gives a
 * matching memory size, compute capability and brand; any other name gets
 * the H100's. The first entry whose key is in the name wins. */
static const struct sim_model {
    const char *key;
    unsigned memory_mib;
    const char *cc;
    const char *brand;
} sim_models[] = {
    {"H100", 81559, "9.0", "Tesla"},
    {"GH200", 97871, "9.0", "Tesla"}, /* before H200, which its name contains */
    {"H200", 143771, "9.0", "Tesla"},
    {"B200", 183359, "10.0", "Tesla"},
    {"A100-SXM4-40GB", 40960, "8.0", "Tesla"},
    {"A100", 81920, "8.0", "Tesla"},
    {"A10", 23028, "8.6", "Tesla"},
    {"L40S", 46068, "8.9", "Tesla"},
    {"L4", 23034, "8.9", "Tesla"},
    {"V100", 32768, "7.0", "Tesla"},
    {"T4", 15360, "7.5", "Tesla"},
    {"GeForce RTX 4090", 24564, "8.9", "GeForce_RTX"},
    {"GeForce RTX 3090", 24576, "8.6", "GeForce_RTX"},
    {"RTX A6000", 49140, "8.6", "NVIDIA_RTX"},
};

static const struct sim_model *model_of(const char *name)
{
    for (size_t i = 0; i < GCTK_ARRAY_LEN(sim_models); i++)
        if (strstr(name, sim_models[i].key) != NULL)
            return &sim_models[i];
    return &sim_models[0];
}

static int create_gpu(const char *root, unsigned i, const struct gctk_sim_options *o,
                      gctk_error **err)
{
    cleanup_free char *uuid = gctk_sim_gpu_uuid(i);
    cleanup_free char *bus = gctk_sim_gpu_bus_id(i);
    cleanup_free char *info =
        xasprintf("Model: \t\t %s\nIRQ:   \t\t %u\nGPU UUID: \t %s\nVideo BIOS: \t 96.00.99.00.01\n"
                  "Bus Type: \t PCIe\nDMA Size: \t 52 bits\nDMA Mask: \t 0xfffffffffffff\n"
                  "Bus Location: \t %s\nDevice Minor: \t %u\nGPU Excluded:\t No\n",
                  o->model, 100 + i, uuid, bus, i);
    const struct sim_model *m = model_of(o->model);
    cleanup_free char *extra = o->cold_init_ms > 0
                                   ? xasprintf("Memory MiB: %u\nBrand: %s\nCompute Capability: %s\n"
                                               "Persistence Mode: Disabled\nInit Delay MS: %u\n",
                                               m->memory_mib, m->brand, m->cc, o->cold_init_ms)
                                   : xasprintf("Memory MiB: %u\nBrand: %s\nCompute Capability: %s\n"
                                               "Persistence Mode: Enabled\n",
                                               m->memory_mib, m->brand, m->cc);
    cleanup_free char *info_path = xasprintf("/proc/driver/nvidia/gpus/%s/information", bus);
    cleanup_free char *extra_path = xasprintf("/proc/driver/nvidia/gpus/%s/gctk-sim", bus);
    if (write_text(root, info_path, info, 0444, err) < 0 ||
        write_text(root, extra_path, extra, 0444, err) < 0)
        return -1;
    return 0;
}

/* A character device node, or a plain file standing in for it when this
 * process may not create nodes (no CAP_MKNOD, a user namespace). */
static int create_node(const char *root, const char *rel, unsigned major, unsigned minor,
                       bool *mknod_failed, struct strv *warnings, gctk_error **err)
{
    cleanup_free char *path = path_join(root, rel);
    if (unlink_old(path, err) < 0)
        return -1;
    if (!*mknod_failed) {
        if (mknod(path, S_IFCHR | 0666, makedev(major, minor)) < 0) {
            if (errno != EPERM && errno != EACCES)
                return gctk_fail(err, errno, "create device node `%s`", path);
            *mknod_failed = true;
            add_warning(warnings,
                        xasprintf("cannot create device nodes (mknod `%s`: %s): plain "
                                  "files stand in for them; run as root to get real nodes",
                                  path, strerror(errno)));
        }
    }
    if (*mknod_failed) {
        cleanup_fd int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
        if (fd < 0)
            return gctk_fail(err, errno, "create `%s`", path);
    }
    if (chmod(path, 0666) < 0) /* past the umask */
        return gctk_fail(err, errno, "chmod `%s`", path);
    return 0;
}

/* A DRM device's card node (and render node, when render is not NULL) and
 * their dri/by-path links by the PCI address pci. */
static int create_drm(const char *root, const char *pci, const char *card, unsigned card_minor,
                      const char *render, unsigned render_minor, bool *failed,
                      struct strv *warnings, gctk_error **err)
{
    cleanup_free char *by_path = path_join(root, "/dev/dri/by-path");
    if (mkdir_p(by_path, 0755, err) < 0)
        return -1;
    const char *names[] = {card, render};
    const unsigned minors[] = {card_minor, render_minor};
    for (size_t k = 0; k < 2 && names[k] != NULL; k++) {
        cleanup_free char *rel = xasprintf("/dev/dri/%s", names[k]);
        cleanup_free char *target = xasprintf("../%s", names[k]);
        cleanup_free char *link =
            xasprintf("%s/pci-%s-%s", by_path, pci, k == 0 ? "card" : "render");
        if (create_node(root, rel, DRM_MAJOR, minors[k], failed, warnings, err) < 0 ||
            make_symlink(target, link, err) < 0)
            return -1;
    }
    return 0;
}

static int create_devices(const char *root, unsigned gpus, struct strv *warnings, gctk_error **err)
{
    cleanup_free char *caps = path_join(root, "/dev/nvidia-caps");
    if (mkdir_p(caps, 0755, err) < 0)
        return -1;
    bool failed = false;
    if (create_node(root, "/dev/nvidiactl", NVIDIA_MAJOR, NVIDIA_CTL_MINOR, &failed, warnings,
                    err) < 0 ||
        create_node(root, "/dev/nvidia-modeset", NVIDIA_MAJOR, NVIDIA_MODESET_MINOR, &failed,
                    warnings, err) < 0 ||
        create_node(root, "/dev/nvidia-uvm", NVIDIA_UVM_MAJOR, 0, &failed, warnings, err) < 0 ||
        create_node(root, "/dev/nvidia-uvm-tools", NVIDIA_UVM_MAJOR, 1, &failed, warnings, err) < 0)
        return -1;
    for (unsigned i = 0; i < gpus; i++) {
        char rel[32];
        snprintf(rel, sizeof(rel), "/dev/nvidia%u", i);
        if (create_node(root, rel, NVIDIA_MAJOR, i, &failed, warnings, err) < 0)
            return -1;
    }
    /* DRM: the BMC's card0, then each GPU's card<i+1> and renderD<128+i>,
     * named by PCI address in dri/by-path as udev names them */
    if (create_drm(root, BMC_PCI, "card0", 0, NULL, 0, &failed, warnings, err) < 0)
        return -1;
    for (unsigned i = 0; i < gpus; i++) {
        cleanup_free char *bus = gctk_sim_gpu_bus_id(i);
        cleanup_free char *card = xasprintf("card%u", i + 1);
        cleanup_free char *render = xasprintf("renderD%u", 128 + i);
        if (create_drm(root, bus, card, i + 1, render, 128 + i, &failed, warnings, err) < 0)
            return -1;
    }
    /* IMEX channels 0 and 1 (NVreg_CreateImexChannel0=1 makes the first) */
    cleanup_free char *imex = path_join(root, "/dev/nvidia-caps-imex-channels");
    if (mkdir_p(imex, 0755, err) < 0)
        return -1;
    for (unsigned c = 0; c < GCTK_SIM_IMEX_CHANNELS; c++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "/dev/nvidia-caps-imex-channels/channel%u", c);
        if (create_node(root, rel, GCTK_SIM_IMEX_MAJOR, c, &failed, warnings, err) < 0)
            return -1;
    }
    if (!failed) {
        /* opening a node without a driver behind it gives ENXIO; EACCES means
         * the filesystem is mounted nodev, and the mocks would fail to init */
        cleanup_free char *ctl = path_join(root, "/dev/nvidiactl");
        cleanup_fd int fd = open(ctl, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 && errno == EACCES)
            add_warning(warnings,
                        xasprintf("`%s` is on a filesystem mounted nodev: the mock driver "
                                  "will fail with \"Unknown Error\"; use a directory on "
                                  "another filesystem",
                                  root));
    }
    return 0;
}

/* The version of the user-space libraries: the module's unless --lib-version */
static const char *lib_version(const struct gctk_sim_options *o)
{
    return o->lib_version != NULL ? o->lib_version : o->driver;
}

static char *soname_of(const struct sim_lib *l, const char *driver)
{
    return xasprintf("%s.so.%s", l->name, l->soname != NULL ? l->soname : driver);
}

/* One library file <name>.so.<driver> with its SONAME link, as the installer
 * and ldconfig leave them, and its ld.so.cache entry. */
static int create_lib(const char *root, const struct sim_lib *l, bool is32,
                      const struct gctk_sim_options *o, const char *mocks, int cuda,
                      struct ldcache *cache, gctk_error **err)
{
    const struct host_arch *arch = arch_of(o);
    const char *dir = is32                  ? arch->libdir32
                      : o->uncached_lib_dir ? o->uncached_lib_dir
                                            : arch->libdir;
    cleanup_free char *file = xasprintf("%s.so.%s", l->name, lib_version(o));
    cleanup_free char *soname = soname_of(l, lib_version(o));
    cleanup_free char *rel = xasprintf("%s/%s", dir, file);
    cleanup_free char *kept = driver_file(root, o, rel, err);
    if (kept == NULL)
        return -1;
    cleanup_free char *path = path_join(root, kept);
    bool mock = !is32 && (strcmp(l->name, "libnvidia-ml") == 0 || strcmp(l->name, "libcuda") == 0);
    if (mock) {
        cleanup_free char *src = xasprintf("%s/%s.so.1", mocks, l->name);
        if (copy_file(src, path, 0755, err) < 0 || gctk_sim_patch_cuda(path, cuda, err) < 0)
            return -1;
    } else if (elfstub_write(path, soname, arch->name, is32, err) < 0) {
        return -1;
    }
    cleanup_free char *rel_link = xasprintf("%s/%s", dir, soname);
    if (strcmp(soname, file) != 0) {
        cleanup_free char *link = path_join(root, rel_link);
        if (make_symlink(file, link, err) < 0)
            return -1;
    }
    if (o->uncached_lib_dir == NULL)
        ldcache_add(cache, soname, rel_link, is32 ? arch->ldcache_flags32 : arch->ldcache_flags);
    for (size_t i = 0; i < GCTK_ARRAY_LEN(sim_dev_links) && !is32 && l->soname != NULL; i++) {
        if (strcmp(sim_dev_links[i], l->name) != 0)
            continue;
        /* ldconfig lists the development link under its own name */
        cleanup_free char *rel_dev = xasprintf("%s/%s.so", dir, l->name);
        cleanup_free char *dev = path_join(root, rel_dev);
        if (make_symlink(soname, dev, err) < 0)
            return -1;
        cleanup_free char *key = xasprintf("%s.so", l->name);
        if (o->uncached_lib_dir == NULL)
            ldcache_add(cache, key, rel_dev, arch->ldcache_flags);
    }
    return 0;
}

/* An EGL platform library <lib>.so.<its version> with its SONAME link. */
static int create_egl_platform_lib(const char *root, const struct sim_egl_platform *e,
                                   const struct gctk_sim_options *o, struct ldcache *cache,
                                   gctk_error **err)
{
    cleanup_free char *file = xasprintf("%s.so.%s", e->lib, e->version);
    cleanup_free char *soname = xasprintf("%s.so.1", e->lib);
    const struct host_arch *arch = arch_of(o);
    cleanup_free char *rel = xasprintf("%s/%s", arch->libdir, file);
    cleanup_free char *kept = driver_file(root, o, rel, err);
    if (kept == NULL)
        return -1;
    cleanup_free char *path = path_join(root, kept);
    cleanup_free char *rel_link = xasprintf("%s/%s", arch->libdir, soname);
    cleanup_free char *link = path_join(root, rel_link);
    if (elfstub_write(path, soname, arch->name, false, err) < 0 ||
        make_symlink(file, link, err) < 0)
        return -1;
    ldcache_add(cache, soname, rel_link, arch->ldcache_flags);
    return 0;
}

static int create_libs(const char *root, const struct gctk_sim_options *o, const char *mocks,
                       gctk_error **err)
{
    char buf[16];
    int cuda = gctk_sim_cuda_number(gctk_sim_cuda(o, buf, sizeof(buf)));
    /* compat32 where the architecture has a 32-bit driver (x86-64's i386) */
    const struct host_arch *arch = arch_of(o);
    cleanup_free char *d64 = path_join(root, arch->libdir);
    cleanup_free char *d32 = arch->libdir32 != NULL ? path_join(root, arch->libdir32) : NULL;
    cleanup_free char *uncached = o->uncached_lib_dir ? path_join(root, o->uncached_lib_dir) : NULL;
    if (mkdir_p(d64, 0755, err) < 0 || (d32 != NULL && mkdir_p(d32, 0755, err) < 0) ||
        (uncached != NULL && mkdir_p(uncached, 0755, err) < 0))
        return -1;
    /* a host without the driver's libraries still has an ld.so.cache */
    struct ldcache cache = {0};
    int r = 0;
    for (size_t i = 0; i < GCTK_ARRAY_LEN(sim_libs) && r == 0 && !o->no_libs; i++) {
        r = create_lib(root, &sim_libs[i], false, o, mocks, cuda, &cache, err);
        if (r == 0 && sim_libs[i].lib32 && d32 != NULL && o->uncached_lib_dir == NULL)
            r = create_lib(root, &sim_libs[i], true, o, mocks, cuda, &cache, err);
    }
    /* the EGL platform libraries come with the libraries of a distribution's
     * packages: none with --no-libs, nor with --uncached-lib-dir */
    for (size_t i = 0; i < GCTK_ARRAY_LEN(sim_egl_platforms) && r == 0 && !o->no_libs &&
                       o->uncached_lib_dir == NULL;
         i++)
        r = create_egl_platform_lib(root, &sim_egl_platforms[i], o, &cache, err);
    cleanup_free char *data = NULL;
    size_t len = 0;
    if (r == 0)
        r = ldcache_serialize(&cache, &data, &len, err);
    ldcache_clear(&cache);
    if (r < 0)
        return -1;
    cleanup_free char *etc = path_join(root, "/etc");
    cleanup_free char *path = path_join(root, "/etc/ld.so.cache");
    if (mkdir_p(etc, 0755, err) < 0 || unlink_old(path, err) < 0)
        return -1;
    cleanup_fd int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return gctk_fail(err, errno, "create `%s`", path);
    if (write_all(fd, data, len) < 0)
        return gctk_fail(err, errno, "write `%s`", path);
    return 0;
}

/* The driver's tools are ELF programs (discovery takes no scripts): the mock
 * nvidia-smi stands in for all of them and answers to the name it is run by. */
static int create_bins(const char *root, const struct gctk_sim_options *o, const char *mocks,
                       gctk_error **err)
{
    static const char *const tools[] = {
        "nvidia-smi",
        "nvidia-debugdump",
        "nvidia-persistenced",
        "nvidia-cuda-mps-control",
        "nvidia-cuda-mps-server",
        "nvidia-imex",
        "nvidia-imex-ctl",
    };
    cleanup_free char *bin = path_join(root, "/usr/bin");
    cleanup_free char *src = path_join(mocks, "nvidia-smi");
    if (mkdir_p(bin, 0755, err) < 0)
        return -1;
    for (size_t i = 0; i < GCTK_ARRAY_LEN(tools); i++) {
        cleanup_free char *rel = xasprintf("/usr/bin/%s", tools[i]);
        cleanup_free char *kept = driver_file(root, o, rel, err);
        if (kept == NULL)
            return -1;
        cleanup_free char *dst = path_join(root, kept);
        if (copy_file(src, dst, 0755, err) < 0)
            return -1;
    }
    return 0;
}

/* A listening unix socket leaves its file behind when closed: the file is
 * what gets bind-mounted. Bound through /proc/self/fd so that a long root
 * does not overflow sun_path. */
static int create_socket(const char *root, const char *rel_dir, const char *name, gctk_error **err)
{
    cleanup_free char *dir = path_join(root, rel_dir);
    cleanup_free char *path = xasprintf("%s/%s", dir, name);
    if (mkdir_p(dir, 0755, err) < 0 || unlink_old(path, err) < 0)
        return -1;
    cleanup_fd int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return gctk_fail(err, errno, "open `%s`", dir);
    cleanup_fd int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return gctk_fail(err, errno, "create socket `%s`", path);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/%s", dfd, name);
    if (bind(s, (struct sockaddr *)&addr, sizeof(addr)) < 0)
        return gctk_fail(err, errno, "bind socket `%s`", path);
    return 0;
}

/* A text file of the driver at the standard path rel (see driver_file). */
static int write_driver_text(const char *root, const struct gctk_sim_options *o, const char *rel,
                             const char *text, gctk_error **err)
{
    cleanup_free char *kept = driver_file(root, o, rel, err);
    return kept == NULL ? -1 : write_text(root, kept, text, 0644, err);
}

static int create_misc(const char *root, const struct gctk_sim_options *o, gctk_error **err)
{
    /* the GSP firmware: in /lib/firmware, or (--driver-dir) only in the
     * driver's own tree, which the kernel's firmware_class.path names, as on
     * hosts that keep the driver apart */
    static const char *const firmware[] = {"gsp_ga10x.bin", "gsp_tu10x.bin"};
    cleanup_free char *fw_dir =
        o->driver_dir != NULL ? xasprintf("%s/firmware", o->driver_dir) : xstrdup("/lib/firmware");
    for (size_t i = 0; i < GCTK_ARRAY_LEN(firmware); i++) {
        cleanup_free char *rel = xasprintf("%s/nvidia/%s/%s", fw_dir, o->driver, firmware[i]);
        cleanup_free char *text =
            xasprintf("gctk simulated GSP firmware %s for driver %s\n", firmware[i], o->driver);
        if (write_text(root, rel, text, 0644, err) < 0)
            return -1;
    }
    cleanup_free char *fw_param = xasprintf("%s\n", o->driver_dir != NULL ? fw_dir : "");
    if (write_text(root, "/sys/module/firmware_class/parameters/path", fw_param, 0644, err) < 0)
        return -1;
    if (create_socket(root, "/run/nvidia-persistenced", "socket", err) < 0)
        return -1;
    /* Debian's /var/run is a link to /run; the reference paths use /var/run */
    cleanup_free char *var = path_join(root, "/var");
    cleanup_free char *var_run = path_join(root, "/var/run");
    struct stat st;
    if (mkdir_p(var, 0755, err) < 0)
        return -1;
    if (lstat(var_run, &st) < 0 && make_symlink("../run", var_run, err) < 0)
        return -1;
    if (write_driver_text(root, o, "/usr/share/glvnd/egl_vendor.d/10_nvidia.json",
                          "{\n    \"file_format_version\" : \"1.0.0\",\n    \"ICD\" : {\n"
                          "        \"library_path\" : \"libEGL_nvidia.so.0\"\n    }\n}\n",
                          err) < 0 ||
        write_driver_text(root, o, "/usr/share/vulkan/icd.d/nvidia_icd.json",
                          "{\n    \"file_format_version\" : \"1.0.1\",\n    \"ICD\": {\n"
                          "        \"library_path\": \"libGLX_nvidia.so.0\",\n"
                          "        \"api_version\" : \"1.4.312\"\n    }\n}\n",
                          err) < 0)
        return -1;
    if (write_driver_text(root, o, "/etc/OpenCL/vendors/nvidia.icd", "libnvidia-opencl.so.1\n",
                          err) < 0)
        return -1;
    for (size_t i = 0; i < GCTK_ARRAY_LEN(sim_egl_platforms); i++) {
        cleanup_free char *rel =
            xasprintf("/usr/share/egl/egl_external_platform.d/%s", sim_egl_platforms[i].json);
        cleanup_free char *text =
            xasprintf("{\n    \"file_format_version\" : \"1.0.0\",\n    \"ICD\" : {\n"
                      "        \"library_path\" : \"%s.so.1\"\n    }\n}\n",
                      sim_egl_platforms[i].lib);
        if (write_driver_text(root, o, rel, text, err) < 0)
            return -1;
    }
    if (write_driver_text(root, o, "/usr/share/vulkan/implicit_layer.d/nvidia_layers.json",
                          "{\n    \"file_format_version\" : \"1.0.1\",\n    \"layer\": {\n"
                          "        \"name\": \"VK_LAYER_NV_optimus\",\n"
                          "        \"type\": \"INSTANCE\",\n"
                          "        \"library_path\": \"libGLX_nvidia.so.0\",\n"
                          "        \"api_version\" : \"1.4.312\",\n"
                          "        \"implementation_version\" : \"1\",\n"
                          "        \"description\" : \"NVIDIA Optimus layer\"\n    }\n}\n",
                          err) < 0 ||
        write_driver_text(root, o, "/usr/share/nvidia/nvoptix.bin", "gctk simulated OptiX data\n",
                          err) < 0 ||
        write_driver_text(root, o, "/usr/share/X11/xorg.conf.d/nvidia-drm-outputclass.conf",
                          "Section \"OutputClass\"\n    Identifier \"nvidia\"\n"
                          "    MatchDriver \"nvidia-drm\"\n    Driver \"nvidia\"\n"
                          "EndSection\n",
                          err) < 0)
        return -1;
    /* the X server's modules, in its own module tree */
    cleanup_free char *glx =
        xasprintf("/usr/lib/xorg/modules/extensions/libglxserver_nvidia.so.%s", o->driver);
    cleanup_free char *glx_soname = xasprintf("libglxserver_nvidia.so.%s", o->driver);
    cleanup_free char *drv = path_join(root, "/usr/lib/xorg/modules/drivers/nvidia_drv.so");
    cleanup_free char *glx_path = path_join(root, glx);
    cleanup_free char *drv_dir = xstrdup(drv), *glx_dir = xstrdup(glx_path);
    *strrchr(drv_dir, '/') = '\0';
    *strrchr(glx_dir, '/') = '\0';
    if (mkdir_p(drv_dir, 0755, err) < 0 || mkdir_p(glx_dir, 0755, err) < 0 ||
        elfstub_write(drv, "nvidia_drv.so", arch_of(o)->name, false, err) < 0 ||
        elfstub_write(glx_path, glx_soname, arch_of(o)->name, false, err) < 0)
        return -1;
    return 0;
}

static int write_config(const char *root, gctk_error **err)
{
    cleanup_free char *path = path_join(root, "/gctk.conf");
    json_t *conf = json_pack("{s:s}", "root", root);
    if (conf == NULL)
        return gctk_fail(err, EINVAL, "build `%s`: the root is not valid UTF-8", path);
    char *text = json_dumps(conf, JSON_INDENT(2));
    json_decref(conf);
    if (text == NULL)
        abort();
    cleanup_free char *line = xasprintf("%s\n", text);
    free(text);
    return write_text("/", path, line, 0644, err);
}

/* ---- MIG ------------------------------------------------------------------------------- */

#define MIG_CONFIG_MINOR 1
#define MIG_MONITOR_MINOR 2

int gctk_sim_parse_mig(const char *spec, unsigned *gpu, struct strv *profiles, gctk_error **err)
{
    const char *colon = strchr(spec, ':');
    unsigned g = 0;
    int used = 0;
    if (colon == NULL || sscanf(spec, "%u%n", &g, &used) != 1 || spec + used != colon ||
        spec[0] < '0' || spec[0] > '9')
        return gctk_fail(err, 0,
                         "invalid --mig `%s`: expected GPU:PROFILE[,PROFILE...], like "
                         "0:1g.10gb,3g.40gb",
                         spec);
    size_t plen = strlen(colon + 1);
    if (plen == 0 || colon[1] == ',' || colon[plen] == ',' || strstr(colon, ",,") != NULL)
        return gctk_fail(err, 0, "invalid --mig `%s`: an empty profile", spec);
    struct strv list = {0};
    unsigned slices = 0;
    cleanup_free char *copy = xstrdup(colon + 1);
    char *save = NULL;
    for (char *p = strtok_r(copy, ",", &save); p != NULL; p = strtok_r(NULL, ",", &save)) {
        unsigned s = 0, gb = 0;
        int n = 0;
        if (sscanf(p, "%ug.%ugb%n", &s, &gb, &n) != 2 ||
            (p[n] != '\0' && strcmp(p + n, "+me") != 0) || s < 1 || s > 7 || gb < 1 || gb > 999 ||
            p[0] < '1' || p[0] > '9') {
            strv_clear(&list);
            return gctk_fail(err, 0,
                             "invalid MIG profile `%s` in --mig `%s`: expected "
                             "<slices>g.<GB>gb, like 1g.10gb or 3g.40gb",
                             p, spec);
        }
        slices += s;
        strv_push(&list, xstrdup(p));
    }
    if (list.len == 0 || list.len > GCTK_SIM_MIG_MAX || slices > 7) {
        size_t n = list.len;
        strv_clear(&list);
        return gctk_fail(err, 0,
                         "--mig `%s`: %zu instance(s) of %u compute slices: a GPU has "
                         "1 to %d instances and 7 slices",
                         spec, n, slices, GCTK_SIM_MIG_MAX);
    }
    *gpu = g;
    *profiles = list;
    return 0;
}

char *gctk_sim_mig_uuid(unsigned index, unsigned gi, unsigned ci)
{
    uint64_t seed = 0x6d696773696d0000ull ^ ((uint64_t)index << 16) ^ ((uint64_t)gi << 8) ^ ci;
    uint64_t hi = splitmix64(seed << 1), lo = splitmix64(seed << 1 | 1);
    return xasprintf("MIG-%08x-%04x-%04x-%04x-%012llx", (unsigned)(hi >> 32),
                     (unsigned)(hi >> 16) & 0xffff, (unsigned)hi & 0xffff, (unsigned)(lo >> 48),
                     (unsigned long long)(lo & 0xffffffffffffull));
}

int gctk_sim_mig_minor(unsigned gpu_minor, unsigned gi, int ci)
{
    return 3 + 135 * (int)gpu_minor + 9 * (int)gi + (ci < 0 ? 0 : 1 + ci);
}

static char *cap_access_text(int minor)
{
    /* DeviceFileMode 292 = 0444 */
    return xasprintf("DeviceFileMinor: %d\nDeviceFileMode: 292\nDeviceFileModify: 1\n", minor);
}

/* The driver-wide parts, once: the config and monitor capabilities and the
 * mig-minors table (the caps major is in /proc/devices, create_proc's). */
static int create_mig_common(const char *root, unsigned gpus, unsigned last_mig_gpu,
                             struct strv *warnings, gctk_error **err)
{
    cleanup_free char *config = cap_access_text(MIG_CONFIG_MINOR);
    cleanup_free char *monitor = cap_access_text(MIG_MONITOR_MINOR);
    if (write_text(root, "/proc/driver/nvidia/capabilities/mig/config", config, 0444, err) < 0 ||
        write_text(root, "/proc/driver/nvidia/capabilities/mig/monitor", monitor, 0444, err) < 0)
        return -1;
    /* the real table lists every possible capability of 32 GPUs */
    (void)gpus;
    unsigned n = last_mig_gpu + 1 > 32 ? last_mig_gpu + 1 : 32;
    size_t cap = 64 + (size_t)n * 135 * 32, len = 0;
    cleanup_free char *table = xmalloc(cap);
    len += (size_t)snprintf(table, cap, "config %d\nmonitor %d\n", MIG_CONFIG_MINOR,
                            MIG_MONITOR_MINOR);
    for (unsigned g = 0; g < n; g++)
        for (unsigned gi = 0; gi < 15; gi++) {
            len += (size_t)snprintf(table + len, cap - len, "gpu%u/gi%u/access %d\n", g, gi,
                                    gctk_sim_mig_minor(g, gi, -1));
            for (int ci = 0; ci < 8; ci++)
                len += (size_t)snprintf(table + len, cap - len, "gpu%u/gi%u/ci%d/access %d\n", g,
                                        gi, ci, gctk_sim_mig_minor(g, gi, ci));
        }
    bool failed = false;
    if (write_text(root, "/proc/driver/nvidia-caps/mig-minors", table, 0444, err) < 0 ||
        create_node(root, "/dev/nvidia-caps/nvidia-cap1", GCTK_SIM_CAPS_MAJOR, MIG_CONFIG_MINOR,
                    &failed, warnings, err) < 0 ||
        create_node(root, "/dev/nvidia-caps/nvidia-cap2", GCTK_SIM_CAPS_MAJOR, MIG_MONITOR_MINOR,
                    &failed, warnings, err) < 0)
        return -1;
    return 0;
}

/* One MIG-enabled GPU: per profile a GPU instance gi<j+1> with compute
 * instance ci0, their access files and nvidia-cap nodes, and for the mocks
 * the MIG lines of its gctk-sim file (what only NVML knows: UUIDs, profiles). */
static int create_mig_gpu(const char *root, unsigned gpu, const struct strv *profiles,
                          struct strv *warnings, gctk_error **err)
{
    cleanup_free char *bus = gctk_sim_gpu_bus_id(gpu);
    cleanup_free char *extra_path = xasprintf("%s/proc/driver/nvidia/gpus/%s/gctk-sim", root, bus);
    cleanup_fd int fd = open(extra_path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return gctk_fail(err, errno, "open `%s`", extra_path);
    if (write_all(fd, "MIG Mode: Enabled\n", strlen("MIG Mode: Enabled\n")) < 0)
        return gctk_fail(err, errno, "write `%s`", extra_path);
    bool failed = false;
    for (size_t j = 0; j < profiles->len; j++) {
        unsigned gi = (unsigned)j + 1, gb = 0, slices = 0;
        sscanf(profiles->items[j], "%ug.%ugb", &slices, &gb);
        cleanup_free char *uuid = gctk_sim_mig_uuid(gpu, gi, 0);
        cleanup_free char *line =
            xasprintf("MIG Device: %u 0 %s %s %u\n", gi, profiles->items[j], uuid, gb * 1024 - 256);
        int gi_minor = gctk_sim_mig_minor(gpu, gi, -1), ci_minor = gctk_sim_mig_minor(gpu, gi, 0);
        cleanup_free char *gi_rel =
            xasprintf("/proc/driver/nvidia/capabilities/gpu%u/mig/gi%u/access", gpu, gi);
        cleanup_free char *ci_rel =
            xasprintf("/proc/driver/nvidia/capabilities/gpu%u/mig/gi%u/ci0/access", gpu, gi);
        cleanup_free char *gi_text = cap_access_text(gi_minor);
        cleanup_free char *ci_text = cap_access_text(ci_minor);
        cleanup_free char *gi_node = xasprintf("/dev/nvidia-caps/nvidia-cap%d", gi_minor);
        cleanup_free char *ci_node = xasprintf("/dev/nvidia-caps/nvidia-cap%d", ci_minor);
        if (write_all(fd, line, strlen(line)) < 0)
            return gctk_fail(err, errno, "write `%s`", extra_path);
        if (write_text(root, gi_rel, gi_text, 0444, err) < 0 ||
            write_text(root, ci_rel, ci_text, 0444, err) < 0 ||
            create_node(root, gi_node, GCTK_SIM_CAPS_MAJOR, (unsigned)gi_minor, &failed, warnings,
                        err) < 0 ||
            create_node(root, ci_node, GCTK_SIM_CAPS_MAJOR, (unsigned)ci_minor, &failed, warnings,
                        err) < 0)
            return -1;
    }
    return 0;
}

static int check_mig_model(const struct gctk_sim_options *o, gctk_error **err)
{
    unsigned major = 0;
    sscanf(model_of(o->model)->cc, "%u", &major);
    if (major < 8)
        return gctk_fail(err, 0,
                         "--mig: a %s has no MIG (compute capability %s): MIG needs an "
                         "A100, A30, H100, H200 or newer (--model)",
                         o->model, model_of(o->model)->cc);
    return 0;
}

/* root NULL: only checks the options */
static int create_migs(const char *root, const struct gctk_sim_options *o, struct strv *warnings,
                       gctk_error **err)
{
    if (o->nmig == 0)
        return 0;
    if (check_mig_model(o, err) < 0)
        return -1;
    cleanup_free bool *seen = xcalloc(o->gpus + 1, sizeof(bool));
    unsigned *gpus = xcalloc(o->nmig, sizeof(unsigned));
    struct strv *profiles = xcalloc(o->nmig, sizeof(struct strv));
    unsigned last = 0;
    int r = 0;
    for (size_t i = 0; i < o->nmig && r == 0; i++) {
        r = gctk_sim_parse_mig(o->mig[i], &gpus[i], &profiles[i], err);
        if (r == 0 && gpus[i] >= o->gpus)
            r = gctk_fail(err, 0, "--mig `%s`: no GPU %u on a host of %u GPU(s)", o->mig[i],
                          gpus[i], o->gpus);
        else if (r == 0 && seen[gpus[i]])
            r = gctk_fail(err, 0,
                          "--mig `%s`: GPU %u is given twice: list all its profiles in "
                          "one --mig",
                          o->mig[i], gpus[i]);
        if (r == 0) {
            seen[gpus[i]] = true;
            last = gpus[i] > last ? gpus[i] : last;
        }
    }
    if (r == 0 && root != NULL)
        r = create_mig_common(root, o->gpus, last, warnings, err);
    for (size_t i = 0; i < o->nmig && r == 0 && root != NULL; i++)
        r = create_mig_gpu(root, gpus[i], &profiles[i], warnings, err);
    for (size_t i = 0; i < o->nmig; i++)
        strv_clear(&profiles[i]);
    free(profiles);
    free(gpus);
    return r;
}

/* --force: MIG state of an earlier build goes, whether this one has MIG or not */
static int remove_previous_mig(const char *root, gctk_error **err)
{
    static const char *const dirs[] = {"/proc/driver/nvidia/capabilities",
                                       "/proc/driver/nvidia-caps", "/dev/nvidia-caps"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(dirs); i++) {
        cleanup_free char *dir = path_join(root, dirs[i]);
        if (rm_rf(dir, err) < 0)
            return -1;
    }
    return 0;
}

const char *gctk_sim_cuda(const struct gctk_sim_options *o, char *buf, size_t size)
{
    if (o->cuda != NULL)
        return o->cuda;
    return o->driver != NULL ? cudacompat_driver_cuda(o->driver, buf, size) : NULL;
}

/* ---- create ------------------------------------------------------------------------ */

/* an absolute path with no empty, `.` or `..` component, no trailing `/`, and
 * none of the standard library directories (they hold the host's own) */
static bool normal_dir(const char *d)
{
    if (!(d[0] == '/' && strlen(d) < 256 && strstr(d, "//") == NULL && strstr(d, "/./") == NULL &&
          strstr(d, "/../") == NULL && !str_has_suffix(d, "/.") && !str_has_suffix(d, "/..") &&
          !str_has_suffix(d, "/")))
        return false;
    static const char *const standard[] = {"/usr/lib", "/lib", "/usr", "/"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(standard); i++)
        if (strcmp(d, standard[i]) == 0)
            return false;
    for (size_t i = 0; host_arch_at(i) != NULL; i++) {
        const struct host_arch *a = host_arch_at(i);
        if (strcmp(d, a->libdir) == 0 || (a->libdir32 != NULL && strcmp(d, a->libdir32) == 0))
            return false;
    }
    return true;
}

static int check_options(const struct gctk_sim_options *o, gctk_error **err)
{
    if (o->gpus > GCTK_SIM_MAX_GPUS)
        return gctk_fail(err, 0, "%u GPUs: a simulated host has at most %d", o->gpus,
                         GCTK_SIM_MAX_GPUS);
    size_t n = o->driver != NULL ? strlen(o->driver) : 0;
    if (n == 0 || n > 32 || strspn(o->driver, "0123456789.") != n || o->driver[0] == '.' ||
        strstr(o->driver, "..") != NULL || o->driver[n - 1] == '.')
        return gctk_fail(err, 0,
                         "invalid driver version `%s`: expected numbers and dots, "
                         "like 580.95.05",
                         o->driver != NULL ? o->driver : "");
    char buf[16];
    if (o->cuda == NULL && gctk_sim_cuda(o, buf, sizeof(buf)) == NULL) {
        gctk_fail(err, 0, "driver %s is older than every CUDA release gctk knows", o->driver);
        return gctk_hint(err, "give the CUDA version it supports (--cuda)");
    }
    if (gctk_sim_cuda_number(gctk_sim_cuda(o, buf, sizeof(buf))) < 0)
        return gctk_fail(err, 0, "invalid CUDA version `%s`: expected MAJOR.MINOR, like 13.0",
                         o->cuda);
    if (o->model == NULL || o->model[0] == '\0' || strlen(o->model) > 90 ||
        strpbrk(o->model, "\n\t") != NULL)
        return gctk_fail(err, 0, "invalid model name: one line of at most 90 characters");
    if (o->arch != NULL && host_arch_by_name(o->arch) == NULL)
        return gctk_fail(err, 0, "unknown architecture `%s`: gctk knows %s", o->arch,
                         host_arch_names());
    if (o->lib_version != NULL && !version_valid(o->lib_version))
        return gctk_fail(err, 0,
                         "invalid library version `%s`: expected numbers and dots, like "
                         "580.105.08",
                         o->lib_version);
    int broken = (o->lib_version != NULL) + o->no_libs + (o->uncached_lib_dir != NULL) +
                 (o->driver_dir != NULL);
    if (broken > 1)
        return gctk_fail(err, 0,
                         "--lib-version, --no-libs, --uncached-lib-dir and --driver-dir "
                         "each lay the libraries out their own way: give one of them");
    if (o->cold_init_ms > 60000)
        return gctk_fail(err, 0, "--cold-init-ms %u: at most 60000 (a minute)", o->cold_init_ms);
    if (o->uncached_lib_dir != NULL && !normal_dir(o->uncached_lib_dir))
        return gctk_fail(err, 0,
                         "invalid library directory `%s`: expected a normalised absolute path "
                         "of its own, like /run/opengl-driver/lib",
                         o->uncached_lib_dir);
    const char *d = o->driver_dir;
    if (d == NULL)
        return 0;
    bool normal = normal_dir(d);
    struct dir_map map[DIR_MAP_MAX];
    size_t nmap = driver_dir_map(arch_of(o), map);
    for (size_t i = 0; normal && i < nmap; i++) {
        /* an ancestor of a standard directory would link its files to themselves */
        cleanup_free char *prefix = xasprintf("%s/", d);
        cleanup_free char *standard = xasprintf("%s/", map[i].standard);
        normal = !str_has_prefix(standard, prefix);
    }
    if (!normal)
        return gctk_fail(err, 0,
                         "invalid driver directory `%s`: expected a normalised absolute "
                         "path of its own, like /usr/local/nvidia, not one that holds the "
                         "standard paths (/, /usr, /etc, /lib, /usr/lib)",
                         d);
    return 0;
}

static int is_empty_dir(const char *dir, bool *empty, gctk_error **err)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return gctk_fail(err, errno, "open directory `%s`", dir);
    struct dirent *e;
    *empty = true;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            *empty = false;
    closedir(d);
    return 0;
}

/* --force: drops the parts that depend on the GPU count and the driver
 * version, so a rebuild with fewer GPUs or another driver leaves no trace of
 * the old ones. Everything else is overwritten in place. */
static int remove_previous(const char *root, const struct gctk_sim_options *o, gctk_error **err)
{
    static const char *const trees[] = {"/proc/driver/nvidia/gpus", "/dev/dri",
                                        "/dev/nvidia-caps-imex-channels"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(trees); i++) {
        cleanup_free char *tree = path_join(root, trees[i]);
        if (rm_rf(tree, err) < 0)
            return -1;
    }
    cleanup_free char *kept64 = o->driver_dir ? xasprintf("%s/lib64", o->driver_dir) : NULL;
    cleanup_free char *kept32 = o->driver_dir ? xasprintf("%s/lib", o->driver_dir) : NULL;
    /* the libraries of every architecture: a rebuild for another one leaves
     * none of the old one's */
    const char *dirs[9] = {"/dev", kept64, kept32, o->uncached_lib_dir};
    size_t ndirs = 4;
    for (size_t i = 0; host_arch_at(i) != NULL; i++) {
        dirs[ndirs++] = host_arch_at(i)->libdir;
        if (host_arch_at(i)->libdir32 != NULL)
            dirs[ndirs++] = host_arch_at(i)->libdir32;
    }
    for (size_t i = 0; i < ndirs; i++) {
        if (dirs[i] == NULL)
            continue;
        cleanup_free char *dir = path_join(root, dirs[i]);
        DIR *d = opendir(dir);
        if (d == NULL)
            continue;
        struct dirent *e;
        int r = 0;
        while (r == 0 && (e = readdir(d)) != NULL) {
            bool ours = false;
            if (i == 0) {
                ours = str_has_prefix(e->d_name, "nvidia") && e->d_type != DT_DIR;
            } else {
                for (size_t k = 0; k < GCTK_ARRAY_LEN(sim_libs) && !ours; k++) {
                    cleanup_free char *prefix = xasprintf("%s.so", sim_libs[k].name);
                    ours = str_has_prefix(e->d_name, prefix);
                }
                for (size_t k = 0; k < GCTK_ARRAY_LEN(sim_egl_platforms) && !ours; k++) {
                    cleanup_free char *prefix = xasprintf("%s.so", sim_egl_platforms[k].lib);
                    ours = str_has_prefix(e->d_name, prefix);
                }
            }
            if (ours) {
                cleanup_free char *path = xasprintf("%s/%s", dir, e->d_name);
                r = unlink_old(path, err);
            }
        }
        closedir(d);
        if (r < 0)
            return -1;
    }
    return 0;
}

int gctk_sim_create(const char *dir, const struct gctk_sim_options *o, struct strv *warnings,
                    gctk_error **err)
{
    if (check_options(o, err) < 0 || create_migs(NULL, o, NULL, err) < 0)
        return -1;
    cleanup_free char *mocks = NULL;
    if (o->mock_dir != NULL) {
        if (!has_mocks(o->mock_dir, arch_of(o)))
            return gctk_fail(err, 0, "`%s` holds no mock libnvidia-ml.so.1 of %s", o->mock_dir,
                             arch_of(o)->name);
        mocks = xstrdup(o->mock_dir);
    } else if (gctk_sim_mock_dir(arch_of(o)->name, &mocks, err) < 0) {
        return -1;
    }

    if (mkdir_p(dir, 0755, err) < 0)
        return -1;
    char root[PATH_MAX];
    if (realpath(dir, root) == NULL)
        return gctk_fail(err, errno, "resolve `%s`", dir);
    if (strcmp(root, "/") == 0)
        return gctk_fail(err, 0, "refusing to build a simulated host over `/`");
    bool empty = false;
    if (is_empty_dir(root, &empty, err) < 0)
        return -1;
    if (!empty && !o->force)
        return gctk_fail(err, 0,
                         "`%s` is not empty: choose a new directory, or pass --force "
                         "to rebuild a simulated host there",
                         root);
    if (!empty && (remove_previous(root, o, err) < 0 || remove_previous_mig(root, err) < 0))
        return gctk_wrap(err, "clear the previous host");

    if (create_proc(root, o, err) < 0)
        return -1;
    for (unsigned i = 0; i < o->gpus; i++)
        if (create_gpu(root, i, o, err) < 0)
            return -1;
    if (create_devices(root, o->gpus, warnings, err) < 0 || create_libs(root, o, mocks, err) < 0 ||
        create_bins(root, o, mocks, err) < 0 || create_misc(root, o, err) < 0 ||
        create_migs(root, o, warnings, err) < 0 || write_config(root, err) < 0)
        return -1;
    return 0;
}
