/* The core of gctk's API: errors, capabilities, the GPU host (discovery),
 * selections (which GPUs a container asks for) and plans (exactly what it
 * gets). The conventions are gctk.h's. */
#ifndef GCTK_CORE_H
#define GCTK_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors --------------------------------------------------------------- */

/* Errno, message and fix kept apart; msg is the line they make together. */
typedef struct gctk_error {
    int code;       /* errno of the root cause, or 0 */
    char *what;     /* what failed, with its context: "context: context: failure" */
    char *hint;     /* the fix, when one is known; NULL otherwise */
    bool code_said; /* what already says the cause: msg does not repeat strerror(code) */
    char *msg;      /* the one line shown: what[: strerror(code)][; hint] */
} gctk_error;

void gctk_error_free(gctk_error *e);

/* ---- capabilities (NVIDIA_DRIVER_CAPABILITIES) ----------------------------- */

enum {
    GCTK_CAP_UTILITY = 1u << 0,
    GCTK_CAP_COMPUTE = 1u << 1,
    GCTK_CAP_VIDEO = 1u << 2,
    GCTK_CAP_GRAPHICS = 1u << 3,
    GCTK_CAP_DISPLAY = 1u << 4,
    GCTK_CAP_NGX = 1u << 5,
    GCTK_CAP_COMPAT32 = 1u << 6,
    GCTK_CAP_ALL = (1u << 7) - 1,
    GCTK_CAP_DEFAULT = GCTK_CAP_UTILITY | GCTK_CAP_COMPUTE,
};

/* Parses "utility,compute" or "all" into a mask. An unknown name is an error. */
int gctk_caps_parse(const char *list, unsigned *out, gctk_error **err);
/* Writes the comma list of a mask into buf; returns buf. */
char *gctk_caps_format(unsigned caps, char *buf, size_t size);
const char *gctk_cap_name(unsigned cap);

/* ---- the GPU host ---------------------------------------------------------- */

typedef struct gctk_host gctk_host;

/* Multi-Instance GPU mode of a GPU. UNKNOWN: NVML was not asked and /proc
 * shows no MIG instance of it. */
enum gctk_mig_mode {
    GCTK_MIG_UNKNOWN = 0,
    GCTK_MIG_UNSUPPORTED,
    GCTK_MIG_DISABLED,
    GCTK_MIG_ENABLED,
};
/* "unknown", "unsupported", "disabled", "enabled" */
const char *gctk_mig_mode_name(enum gctk_mig_mode m);

enum {
    /* Never load NVML, even for fields only it knows (memory, brand, arch,
     * CUDA version): discovery then reads /proc and the filesystem alone. */
    GCTK_HOST_NO_NVML = 1u << 0,
};

struct gctk_gpu {
    int index;                   /* nvidia-smi's index: position in PCI bus order */
    int minor;                   /* /dev/nvidia<minor> */
    char *uuid;                  /* "GPU-..." */
    char *bus_id;                /* "00000000:18:00.0", NVML's form */
    char *model;                 /* "NVIDIA H100 80GB HBM3" */
    char *brand;                 /* "tesla", "nvidia", ... lower case; NULL when unknown */
    char *arch;                  /* compute capability "9.0"; NULL when unknown */
    long memory_mib;             /* -1 when unknown */
    char *proc_dir;              /* /proc/driver/nvidia/gpus/<bus> (host path, not rooted) */
    enum gctk_mig_mode mig_mode; /* from NVML when asked, else from /proc */
};

/* A MIG device: one compute instance of one GPU instance of a GPU in MIG mode. */
struct gctk_mig {
    int gpu;         /* the parent GPU's index */
    int index;       /* nvidia-smi's index among its GPU's MIG devices: id "gpu:index" */
    int gi, ci;      /* GPU instance and compute instance ids */
    char *uuid;      /* "MIG-..."; NULL when NVML is not loaded */
    char *profile;   /* "1g.10gb"; NULL when unknown */
    long memory_mib; /* -1 when unknown */
    /* /proc/driver/nvidia/capabilities/gpu<minor>/mig/gi<G>/access and
     * .../ci<C>/access (host paths, not rooted); NULL when /proc lacks them */
    char *gi_access, *ci_access;
    int gi_minor, ci_minor; /* minors of /dev/nvidia-caps/nvidia-cap<minor>; -1 unknown */
};

/* Discovers the GPU host under root ("/" for the real host). Reads the driver
 * version, the GPUs and the driver files from the filesystem. NVML (and
 * libcuda) are loaded only by the functions whose names end in _nvml, on
 * their first call, and never with GCTK_HOST_NO_NVML; on a host with MIG
 * devices discovery itself asks NVML for their UUIDs and profiles. */
int gctk_host_open(const char *root, unsigned flags, gctk_host **out, gctk_error **err);
void gctk_host_free(gctk_host *h);

/* The discovery cache: a result of gctk_host_open() kept in a root-only
 * directory and used again only while the driver version, the kernel
 * module, the key below and every file and directory discovery looked at
 * (device, inode, mode, size, mtime, ctime; the content of /proc files; the
 * names in the directories it listed) are unchanged. Anything doubtful
 * (owner, mode, size, format, a mismatch) means: discover, and replace it. */
struct gctk_host_cache {
    const char *dir;           /* e.g. "/run/gctk", created 0700; NULL: no cache */
    unsigned long long config; /* fingerprint of the settings in effect (part of the key) */
    unsigned caps;             /* the capabilities the host is used for (GCTK_CAP_*): a cached
                                  host is checked for their files only; 0: all */
};
/* gctk_host_open() through the cache c (NULL: none). A cache that cannot be
 * used is never an error: discovery runs as without it. */
int gctk_host_open_cached(const char *root, unsigned flags, const struct gctk_host_cache *c,
                          gctk_host **out, gctk_error **err);
/* What the cache did for this host, one line: "off", "used `PATH`",
 * "stored `PATH`", "not used: WHY", "not stored: WHY". */
const char *gctk_host_cache_status(const gctk_host *h);
/* The same in a word, for a log line: "used", "stored", "off" or "missed"
 * (not used and not stored). */
const char *gctk_host_cache_word(const gctk_host *h);

const char *gctk_host_root(const gctk_host *h);
/* "580.159.04"; never NULL on an opened host */
const char *gctk_host_driver_version(const gctk_host *h);
/* The architecture of the host's driver: "x86_64" or "aarch64". gctk's own,
 * unless the driver's `NVRM version:` line names another (a simulated host
 * of another architecture: its libraries are then never loaded). */
const char *gctk_host_arch(const gctk_host *h);
/* The driver's CUDA version, "13.0": from NVML when it is loaded, else from
 * libcuda's cuDriverGetVersion (which opens no device), else from NVML,
 * loaded for it. NULL when neither can tell. */
const char *gctk_host_cuda_version_nvml(gctk_host *h);
size_t gctk_host_gpu_count(const gctk_host *h);
/* GPU index (NULL beyond the count) as discovery found it: brand, arch and
 * memory are unknown unless NVML was asked already. */
const struct gctk_gpu *gctk_host_gpu(const gctk_host *h, size_t index);
/* The same GPU with what only NVML knows (brand, compute capability, memory),
 * loading NVML on first use. */
const struct gctk_gpu *gctk_host_gpu_nvml(gctk_host *h, size_t index);
/* The MIG devices of the GPUs in MIG mode, by GPU then nvidia-smi's index:
 * read from /proc/driver/nvidia/capabilities, with UUIDs, profiles and
 * nvidia-smi's order from NVML unless GCTK_HOST_NO_NVML is given. */
size_t gctk_host_mig_count(const gctk_host *h);
const struct gctk_mig *gctk_host_mig(const gctk_host *h, size_t i);
/* A warning collected during discovery (degraded result), or NULL. */
const char *gctk_host_warning(const gctk_host *h, size_t i);

/* ---- driver files and device nodes ------------------------------------------ */

enum gctk_file_kind {
    GCTK_FILE_LIB,      /* 64-bit library: goes to the image's lib dir */
    GCTK_FILE_LIB32,    /* 32-bit library: goes to the image's i386 lib dir */
    GCTK_FILE_BIN,      /* goes to /usr/bin */
    GCTK_FILE_FIRMWARE, /* same path in the container */
    GCTK_FILE_SOCKET,   /* same path in the container */
    GCTK_FILE_CONFIG,   /* vendor config (ICD json): same path */
    GCTK_FILE_DIR,      /* a directory bound at the same path (MPS pipes) */
    GCTK_FILE_MODULE,   /* an Xorg module (nvidia_drv.so, libglxserver_nvidia): same path */
};

struct gctk_file {
    enum gctk_file_kind kind;
    unsigned caps; /* the capabilities that bring it */
    /* The name discovery found it by, relative to the root; the kinds kept at
     * their path get it in the container ("/usr/share/vulkan/icd.d/nvidia_icd.json"),
     * binaries their name in /usr/bin. Libraries: the resolved file, whose
     * name carries the version ("/usr/lib/.../libcuda.so.580.95.05"). */
    char *path;
    /* What is mounted: path with every symlink resolved inside the root,
     * relative to it ("/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json");
     * equal to path when no link is on the way. */
    char *source;
    char *soname; /* libraries: "libcuda.so.1"; else NULL */
    /* Libraries: the development link the host keeps for it beside the
     * driver's libraries ("libcuda.so", leading to this file), as its
     * ld.so.cache lists it; NULL when the host has none. */
    char *dev;
};

enum gctk_node_kind {
    GCTK_NODE_CONTROL, /* nvidiactl, uvm, uvm-tools, modeset */
    GCTK_NODE_GPU,     /* nvidia<minor> */
    GCTK_NODE_CAP,     /* nvidia-caps/nvidia-capN (MIG) */
    GCTK_NODE_DRM,     /* dri/cardN, dri/renderDN of a GPU (graphics, display; among the
                        * host's nodes once a plan has asked for them) */
    GCTK_NODE_IMEX,    /* nvidia-caps-imex-channels/channelN */
};

struct gctk_node {
    enum gctk_node_kind kind;
    unsigned caps; /* capabilities that need it; 0: always */
    int gpu;       /* GCTK_NODE_GPU, GCTK_NODE_DRM: the GPU index; else -1 */
    char *path;    /* "/dev/nvidia0" (not rooted) */
    unsigned major, minor;
    /* GCTK_NODE_DRM: the host's by-path link that names the node by its
     * GPU's PCI address ("/dev/dri/by-path/pci-0000:18:00.0-card"); the
     * container gets the same link. NULL otherwise. */
    char *by_path;
};

/* Every driver file of the host, for all capabilities. */
size_t gctk_host_file_count(const gctk_host *h);
const struct gctk_file *gctk_host_file(const gctk_host *h, size_t i);
size_t gctk_host_node_count(const gctk_host *h);
const struct gctk_node *gctk_host_node(const gctk_host *h, size_t i);

/* ---- what a container asks for ---------------------------------------------- */

enum gctk_select_mode {
    GCTK_SELECT_VOID, /* not a GPU container: nothing is injected */
    GCTK_SELECT_NONE, /* driver files, no GPU */
    GCTK_SELECT_ALL,
    GCTK_SELECT_LIST,
};

struct gctk_selection {
    enum gctk_select_mode mode;
    size_t count;     /* GCTK_SELECT_LIST: number of GPUs */
    int *gpus;        /* indexes into the host's GPUs, sorted, unique */
    size_t mig_count; /* MIG devices ("0:1", "MIG-..."; all of them for "all") */
    int *migs;        /* indexes into the host's MIG devices, sorted, unique */
    /* NVIDIA_MIG_CONFIG_DEVICES (the GPUs whose MIG setup the container may
     * change) and NVIDIA_MIG_MONITOR_DEVICES: see gctk_select_mig_caps() */
    size_t config_count;
    int *config_gpus;
    bool mig_monitor;
    /* what the container gets that it may not expect (a whole GPU in MIG
     * mode), one line; NULL when nothing */
    char *note;
    /* NVIDIA_IMEX_CHANNELS: the IMEX channels (multi-node NVLink) whose
     * /dev/nvidia-caps-imex-channels/channel<N> the container gets, sorted,
     * unique; see gctk_select_imex() */
    size_t imex_count;
    unsigned *imex;
};

/* The CDI kind of NVIDIA's jit-cdi names (its runtime's default mode since
 * 1.18): "runtime.nvidia.com/gpu=<id>" asks for GPU <id> with a spec made at
 * container creation, which is what gctk's hook does for every GPU id. */
#define GCTK_JIT_CDI_KIND "runtime.nvidia.com/gpu"

/* Resolves "all", "none", "void", "" or a comma list of indexes, UUIDs (or a
 * unique UUID prefix of at least 8 characters after "GPU-"), PCI bus ids and
 * MIG devices ("0:1", "MIG-..."). Each id may be written as NVIDIA's jit-cdi
 * name, GCTK_JIT_CDI_KIND "=<id>" ("runtime.nvidia.com/gpu=all" is "all").
 * An unknown id is an error naming the valid ones; another CDI name
 * ("nvidia.com/gpu=0") is an error saying that CDI devices are the
 * runtime's to apply. */
int gctk_select(const gctk_host *h, const char *ids, struct gctk_selection *out, gctk_error **err);
void gctk_selection_clear(struct gctk_selection *s);
/* Adds the MIG management capabilities to a selection: config_ids and
 * monitor_ids are "all" or GPU lists (NULL or "": none). Only for privileged
 * containers: the caller checks that. A GPU not in MIG mode is an error. */
int gctk_select_mig_caps(const gctk_host *h, const char *config_ids, const char *monitor_ids,
                         struct gctk_selection *sel, gctk_error **err);
/* Adds IMEX channels to a selection, as NVIDIA's toolkit reads
 * NVIDIA_IMEX_CHANNELS: a comma list of channel numbers ("0,3"; "channel0"
 * names channel 0 too); NULL, "", "void" and "none" add none. An entry that
 * is not a channel number is an error. ("all" is the request's to refuse: see
 * request.c.) Whether the host has the channels is the plan's to check. */
int gctk_select_imex(const char *ids, struct gctk_selection *sel, gctk_error **err);

/* ---- the plan: exactly what would be injected ---------------------------------- */

typedef struct gctk_plan gctk_plan;

/* Builds the list of files and nodes for these GPUs and capabilities: the
 * driver files of the capabilities, the control nodes, the nodes of the
 * selected GPUs (and, for graphics or display, their DRM nodes), of their
 * MIG devices and of the selected IMEX channels. A selected node the host
 * lacks (a MIG capability, an IMEX channel) is an error naming the command
 * that creates it. */
int gctk_plan_new(gctk_host *h, const struct gctk_selection *sel, unsigned caps, gctk_plan **out,
                  gctk_error **err);
void gctk_plan_free(gctk_plan *p);
size_t gctk_plan_file_count(const gctk_plan *p);
const struct gctk_file *gctk_plan_file(const gctk_plan *p, size_t i);
size_t gctk_plan_node_count(const gctk_plan *p);
const struct gctk_node *gctk_plan_node(const gctk_plan *p, size_t i);
size_t gctk_plan_gpu_count(const gctk_plan *p);
const struct gctk_gpu *gctk_plan_gpu(const gctk_plan *p, size_t i);
unsigned gctk_plan_caps(const gctk_plan *p);
/* The MIG devices; their parent GPUs are among gctk_plan_gpu() (their nodes
 * are injected) and their nvidia-cap nodes among gctk_plan_node(). */
size_t gctk_plan_mig_count(const gctk_plan *p);
const struct gctk_mig *gctk_plan_mig(const gctk_plan *p, size_t i);
/* The files and directories of /proc/driver/nvidia/capabilities the
 * container gets, read-only at the same path (host paths, not rooted). */
size_t gctk_plan_proc_count(const gctk_plan *p);
const char *gctk_plan_proc(const gctk_plan *p, size_t i);

#ifdef __cplusplus
}
#endif
#endif
