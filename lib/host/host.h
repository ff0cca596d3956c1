/* The discovered host (internal view) and the parsers discovery is made of,
 * exposed for the unit tests and the fuzzers. */
#ifndef GCTK_HOST_H
#define GCTK_HOST_H

#include <sys/stat.h>

#include "util.h"

struct nvml;
struct host_arch;

struct gctk_host {
    char *root;
    unsigned flags;
    char *driver_version;
    const struct host_arch *arch; /* the driver's (arch.h) */
    char *cuda_version;
    bool cuda_tried;
    struct gctk_gpu *gpus;
    bool *enriched; /* per GPU: NVML already asked */
    size_t ngpus;
    struct gctk_file *files;
    size_t nfiles, files_cap;
    struct gctk_node *nodes;
    size_t nnodes, nodes_cap;
    struct strv warnings;
    struct strv foreign_libs; /* libraries skipped for another machine (resolved paths) */
    struct strv real_dirs;    /* directories of the root found not to be links */
    struct strv missing_dirs; /* directories of the root found not to exist */
    struct nvml *nvml;
    bool nvml_tried;
    struct gctk_mig *migs; /* by GPU, then index */
    size_t nmigs;
    int mig_config_minor, mig_monitor_minor; /* nvidia-cap minors; -1 when absent */
    int imex_major;         /* of nvidia-caps-imex-channels; -1 absent, -2 not read yet */
    bool drm_found;         /* host_find_drm_nodes() ran */
    struct host_deps *deps; /* what discovery reads, while a cache may be written; else NULL */
    char *cache_status;     /* gctk_host_cache_status(); NULL: "off" */
    char *cache_dir;        /* the cache's directory when it could be used; else NULL */
};

/* ---- the discovery cache (cache.c) ---------------------------------------------
 * Discovery records what it depends on before it reads it: a change between
 * the record and the read then makes the cache miss, never serve the old
 * answer. full: the path as opened (root joined). All do nothing when d is NULL. */
struct host_deps;
/* A file discovery reads: its content's hash under /proc (whose inode times
 * are not the file's), else the identity of what stat() finds. */
void host_dep_file(struct host_deps *d, const char *full);
/* A stat() or access() discovery makes (links followed). */
void host_dep_stat(struct host_deps *d, const char *full);
/* An lstat() discovery made, with its result (rc < 0: errno). */
void host_dep_lstat(struct host_deps *d, const char *full, int rc, const struct stat *st);
/* A path recorded before, depended on again (for the capabilities of the
 * tag now: a directory walked through once more, its lstat() not repeated). */
void host_dep_again(struct host_deps *d, const char *full);
/* A directory discovery lists: the names in it (every capability's). */
void host_dep_listing(struct host_deps *d, const char *full);
/* The information file (info, root joined) of the GPU at PCI address bus. */
void host_dep_gpu_information(struct host_deps *d, const char *bus, const char *info);
/* The capabilities whose files what is recorded next serves (GCTK_CAP_*),
 * until the next call; 0 (the default): every capability's. A cached host
 * is used for a container after only the dependencies of what it asked for
 * (and of the always-checked ones, cache.c) are found unchanged. Returns
 * the tag it replaces. */
unsigned host_deps_tag(struct host_deps *d, unsigned caps);
/* The host's warning index was added now: it is about what the tag serves
 * (a host checked for other capabilities does not show it). */
void host_dep_warning(struct host_deps *d, size_t index);
void host_deps_free(struct host_deps *d);

/* The CUDA version of the libcuda at path (root joined), as kept in the
 * cache directory dir (NULL: none) for the file's present identity; NULL
 * when none is kept. *key is then what host_cache_cuda_store() needs to
 * keep one (NULL when none can be: no directory, a file changed in the last
 * seconds). */
char *host_cache_cuda_lookup(const char *dir, const char *path, char **key);
/* Keeps version for the libcuda at path when it is still the file of key. */
void host_cache_cuda_store(const char *dir, const char *path, const char *key, const char *version);
/* Discovery itself, recording into h->deps when it is set. */
int host_discover(gctk_host *h, gctk_error **err);

/* The driver's files and numbers that every part of gctk reads the same. */
#define HOST_PROC_NVIDIA "/proc/driver/nvidia"
#define HOST_PROC_VERSION HOST_PROC_NVIDIA "/version"
#define HOST_NVIDIA_MAJOR 195 /* nvidiactl, nvidia-modeset and nvidia<minor> */
#define HOST_PROC_CAPS "/proc/driver/nvidia/capabilities"
#define HOST_MIG_CONFIG HOST_PROC_CAPS "/mig/config"
#define HOST_MIG_MONITOR HOST_PROC_CAPS "/mig/monitor"
#define HOST_MIG_MINORS "/proc/driver/nvidia-caps/mig-minors"
#define HOST_DRI "/dev/dri"
#define HOST_DRM_MAJOR 226 /* DRM_MAJOR: every card and render node */
#define HOST_IMEX_DIR "/dev/nvidia-caps-imex-channels"
#define HOST_IMEX_DEVICES_NAME "nvidia-caps-imex-channels" /* its /proc/devices name */
/* The kernel's firmware_class.path: a directory searched before the others */
#define HOST_FIRMWARE_PATH_PARAM "/sys/module/firmware_class/parameters/path"

/* A capability file of /proc/driver/nvidia/capabilities
 * ("DeviceFileMinor: 4\nDeviceFileMode: 292\nDeviceFileModify: 1\n"): the minor. */
int host_parse_cap_access(const char *text, int *minor, gctk_error **err);
/* The minor that /proc/driver/nvidia-caps/mig-minors gives a capability
 * ("config", "monitor", "gpu0/gi1/access", "gpu0/gi1/ci0/access"); -1 when
 * it has none. */
int host_mig_minors_lookup(const char *text, const char *cap);
/* The profile in an NVML MIG device name ("NVIDIA A100-SXM4-40GB MIG 1g.5gb"
 * -> "1g.5gb"); NULL when the name has none. */
char *host_mig_profile_of(const char *name);
/* The char major of `name` in the text of /proc/devices; -1 when absent. */
int host_parse_proc_devices(const char *text, const char *name);
void host_mig_clear(struct gctk_mig *m);

/* The driver version from the text of /proc/driver/nvidia/version. */
int host_parse_proc_version(const char *text, char **out, gctk_error **err);
/* The version of the loaded kernel module, from root's /proc/driver/nvidia/
 * version, and (arch, may be NULL) the architecture the module names there,
 * else the one gctk was built for. Errors: ENOENT when it is missing (the
 * module is not loaded), EINVAL when it does not say, else the read's errno. */
int host_read_driver(const char *root, char **version, const struct host_arch **arch,
                     gctk_error **err);
int host_read_driver_version(const char *root, char **out, gctk_error **err);
/* The architecture of root's driver: host_read_driver's, or gctk's own when
 * no driver says. */
const struct host_arch *host_root_arch(const char *root);

/* The control nodes of a driver install (not the GPUs' nvidia<minor>): their
 * numbers (-1: any), the capabilities that need them and the command that
 * creates a missing one. nvidia-uvm's major is given by the kernel at load
 * time: uvm_major is /proc/devices' (host_char_major), or -1 for any. */
struct host_node_spec {
    const char *path;
    unsigned caps; /* 0: every container */
    int major, minor;
    bool optional;      /* there only with its module loaded (nvidia-modeset) */
    const char *create; /* "nvidia-modprobe -c 0" */
};
#define HOST_CONTROL_NODES 4
void host_control_nodes(int uvm_major, struct host_node_spec out[HOST_CONTROL_NODES]);
/* The char major of the driver `name` in root's /proc/devices; -1 when absent. */
int host_char_major(const char *root, const char *name);

/* The library the host's loader finds for soname: root's ld.so.cache (the
 * entries of its architecture's loader), else discovery's library
 * directories of that architecture; its symlinks resolved
 * under root. Root-relative and owned; NULL when there is none. Unlike
 * discovery it takes a library of any version, and needs no opened host: the
 * question is which file the loader would load. */
char *host_find_library(const char *root, const char *soname);
/* Why discovery has (or has not) the library of a SONAME ("libcuda.so.1"):
 * the file the host's ld.so.cache names for it (without a usable cache: the
 * library directories discovery scans), compared with the kernel module's
 * version; else a file of that name in a directory the cache does not list
 * (NixOS's /run/opengl-driver/lib, a package's private directory); else
 * none. The hook and gctk doctor explain a missing driver library with it,
 * so that they say the same. */
enum host_lib_state {
    HOST_LIB_OK,          /* of the module's version, where discovery looks */
    HOST_LIB_MISMATCH,    /* of another version: "driver/library version mismatch" */
    HOST_LIB_UNVERSIONED, /* its name carries no version */
    HOST_LIB_UNCACHED,    /* in a directory discovery does not look in */
    HOST_LIB_MISSING,     /* nowhere */
};
struct host_lib_check {
    enum host_lib_state state;
    char *path;    /* root-relative resolved file; NULL when missing */
    char *version; /* its version; NULL when unknown */
    char *dir;     /* HOST_LIB_UNCACHED: the directory it is in */
    bool cached;   /* root has a usable ld.so.cache */
};
void host_check_library(const char *root, const char *soname, const char *driver,
                        struct host_lib_check *out);
void host_lib_check_clear(struct host_lib_check *c);
/* The error of a state other than OK (returns 0 for OK): what is wrong,
 * with the versions or paths involved, and the fix. */
int host_lib_check_fail(const struct host_lib_check *c, const char *root, const char *soname,
                        const char *driver, gctk_error **err);
/* The fix of a driver/library version mismatch, by which side is newer. Owned. */
char *host_mismatch_fix(const char *module, const char *lib);
/* The driver libraries a container cannot do without, per capability
 * (utility: libnvidia-ml, compute: libcuda; see host_plan_check). */
struct host_core_library {
    unsigned cap;       /* the capability that needs it (after cap_expand) */
    const char *name;   /* "compute" */
    const char *soname; /* "libcuda.so.1" */
    const char *prefix; /* discovery's name prefix: "libcuda.so" */
};
extern const struct host_core_library host_core_libraries[]; /* ends with {0, NULL, ...} */
/* Refuses a plan that would start a container without what every GPU
 * container needs: the control node /dev/nvidiactl, and the core library of
 * each capability asked for (host_core_libraries). The error says why
 * discovery has none (host_check_library) and the fix. */
int host_plan_check(const gctk_host *h, const gctk_plan *p, gctk_error **err);

/* One /proc/driver/nvidia/gpus/<bus>/information file; index and proc_dir unset. */
int host_parse_gpu_information(const char *text, struct gctk_gpu *out, gctk_error **err);
void host_gpu_clear(struct gctk_gpu *g);
/* "0000:18:00.0" -> "00000000:18:00.0"; -1 when it is not a PCI address. */
int host_normalize_bus_id(const char *in, char *out, size_t size);
/* Resolves every symlink of a host path inside the driver root, as the
 * root's own processes would: absolute targets start again at the root.
 * *out: the root-relative path with no link left in it. Host files are
 * trusted, but a driver root that is a directory of another machine (a
 * simulated host, a driver container's tree) must not resolve into the one
 * around it: ".." above a root other than "/" is refused. Fails with code
 * ENOENT when path itself is absent; a link that leads nowhere, out of the
 * root or round a loop (ELOOP) fails with a message naming the link. */
int host_resolve(const char *root, const char *path, char **out, gctk_error **err);
/* The driver version a driver file's name carries: "libcuda.so.580.95.05"
 * and "/lib/firmware/nvidia/580.95.05/gsp_ga10x.bin" give "580.95.05";
 * NULL for a SONAME ("libcuda.so.1") or any other name. Owned. */
char *host_file_version(const char *path);
/* The root-relative path of the 64-bit driver library named prefix*, or NULL. */
const char *host_library_path(const gctk_host *h, const char *prefix);
/* Whether gctk can load the host's driver libraries: they are of the
 * architecture it was built for. */
bool host_loadable(const gctk_host *h);
/* The directories the kernel searches for firmware, in its order: root's
 * firmware_class.path when set, /lib/firmware/updates/<release>,
 * /lib/firmware/updates, /lib/firmware/<release>, /lib/firmware (release:
 * the running kernel's, uname -r). Appended to out (host paths, not rooted);
 * returns 1 when the first is firmware_class.path, else 0. */
int host_firmware_dirs(const char *root, struct strv *out);
/* Adds the GPUs' DRM card and render nodes (GCTK_NODE_DRM) to the host's
 * nodes, once: the plan asks for them when a container wants graphics or
 * display, so that every other container's discovery does without them. */
void host_find_drm_nodes(gctk_host *h);
/* "00000000:18:00.0" -> "0000:18:00.0", the PCI address of sysfs and of
 * /dev/dri/by-path; -1 when bus_id is not one. */
int host_pci_address(const char *bus_id, char *out, size_t size);
/* The node of IMEX channel `channel` (/dev/nvidia-caps-imex-channels/
 * channel<N>, of the major /proc/devices gives nvidia-caps-imex-channels),
 * added to the host's nodes on first use (*out stays valid until the next
 * node is added). A missing or wrong node, or a driver without IMEX
 * channels, is an error that names the fix. */
int host_imex_node(gctk_host *h, unsigned channel, const struct gctk_node **out, gctk_error **err);
/* Adds every IMEX channel node the host has (a scan of the directory: for
 * CDI generation, never per container); returns how many. */
size_t host_imex_channels(gctk_host *h);
/* NVML, loaded on first use; NULL when it cannot be (a warning says why). */
struct nvml *host_nvml(gctk_host *h);

#endif
