/* The simulated driver's view of its host, shared by the mock NVML and the
 * mock libcuda. Like the real driver libraries, the mocks learn everything
 * from the filesystem they run in: /proc/driver/nvidia and /dev/nvidia*,
 * below the root that holds the library itself (a `gctk sim create` dir on
 * the host, "/" inside a container). */
#ifndef GCTK_SIMHOST_H
#define GCTK_SIMHOST_H

#include <stdbool.h>

enum simhost_status {
    SIMHOST_OK = 0,
    SIMHOST_DRIVER_NOT_LOADED, /* no /proc/driver/nvidia/version or /dev/nvidiactl */
    SIMHOST_VERSION_MISMATCH,  /* kernel module and library versions differ */
    SIMHOST_NO_PERMISSION,     /* a device node could not be opened (cgroup) */
};

struct simhost_gpu {
    char bus_id[32]; /* NVML form "00000000:18:00.0" */
    char legacy[16]; /* "0000:18:00.0" */
    unsigned domain, bus, device;
    char uuid[48];
    char name[96];
    int minor;
    unsigned long long memory_mib;
    char brand[32]; /* "Tesla", "GeForce", ... as written in gctk-sim */
    int cc_major, cc_minor;
    bool persistence;
    unsigned init_delay_ms;        /* what opening it costs without persistence mode */
    int mig_mode;                  /* -1: no MIG (before compute capability 8.0), 0 off, 1 on */
    unsigned first_mig, mig_count; /* its visible MIG devices in simhost.migs */
};

/* A MIG device, visible when its gi and ci access files are under
 * /proc/driver/nvidia/capabilities and their nvidia-cap nodes open: that is
 * how a container sees only the instances it was given. */
struct simhost_mig {
    unsigned gpu; /* index of the parent in simhost.gpus */
    unsigned gi, ci;
    char uuid[48];
    char profile[32]; /* "1g.10gb" */
    unsigned long long memory_mib;
};

struct simhost {
    char root[4096];          /* "" for "/" */
    char kernel_version[64];  /* from /proc/driver/nvidia/version */
    char library_version[64]; /* from the library's own file name; "" when unversioned */
    int cuda_version;         /* 13000 for CUDA 13.0, from the patched marker */
    unsigned count;
    struct simhost_gpu *gpus; /* visible GPUs in PCI bus order */
    unsigned mig_count;
    struct simhost_mig *migs; /* visible MIG devices by GPU, then GPU instance */
};

/* Loads the host once per process (later calls return the first result).
 * `anchor` is an address inside the calling library, used to find its file. */
enum simhost_status simhost_load(const void *anchor, const struct simhost **out);

/* The CUDA version compiled into (and patched in) the library. */
int simhost_cuda_version(void);

#endif
