/* The driver's management library (NVML) and libcuda, loaded with dlopen from
 * the host's driver files only when a field needs them. */
#ifndef GCTK_NVML_H
#define GCTK_NVML_H

#include "util.h"

struct nvml;

struct nvml_gpu_info {
    char uuid[96];
    char name[96];
    char brand[32];  /* lower case, "" when unknown */
    char arch[16];   /* "9.0", "" when unknown */
    long memory_mib; /* -1 when unknown */
    char bus_id[32]; /* "00000000:18:00.0" as NVML writes it (hex in lower case) */
    int persistence; /* persistence mode: 1 on, 0 off, -1 unknown */
};

/* Loads the library at path (a host path, root already joined) and
 * initialises it. */
int nvml_open(const char *path, struct nvml **out, gctk_error **err);
void nvml_close(struct nvml *n);
int nvml_driver_version(struct nvml *n, char *buf, size_t size, gctk_error **err);
/* "13.0" */
int nvml_cuda_version(struct nvml *n, char *buf, size_t size, gctk_error **err);
/* bus_id in NVML's form "00000000:18:00.0". */
int nvml_gpu_info(struct nvml *n, const char *bus_id, struct nvml_gpu_info *out, gctk_error **err);
/* How many GPUs NVML sees: those whose node it can open. */
int nvml_gpu_count(struct nvml *n, unsigned *count, gctk_error **err);
/* GPU index of NVML's order. */
int nvml_gpu_by_index(struct nvml *n, unsigned index, struct nvml_gpu_info *out, gctk_error **err);

struct nvml_mig_info {
    int index;       /* NVML's (nvidia-smi's) index on the parent GPU */
    int gi, ci;      /* GPU and compute instance ids */
    char uuid[96];   /* "MIG-..." */
    char name[96];   /* "NVIDIA A100-SXM4-40GB MIG 1g.5gb" */
    long memory_mib; /* -1 when unknown */
};

/* nvmlDeviceGetMigMode of the GPU at bus_id. */
int nvml_mig_mode(struct nvml *n, const char *bus_id, enum gctk_mig_mode *out, gctk_error **err);
/* The MIG devices of a GPU in MIG mode, in NVML's order; *out is allocated
 * (NULL when there are none). */
int nvml_mig_devices(struct nvml *n, const char *bus_id, struct nvml_mig_info **out, size_t *count,
                     gctk_error **err);

/* ---- what runs on a GPU ------------------------------------------------------ */

enum {
    NVML_PROC_COMPUTE = 1u << 0,  /* a CUDA context: "C" in nvidia-smi */
    NVML_PROC_GRAPHICS = 1u << 1, /* a graphics context: "G" */
    NVML_PROC_MPS = 1u << 2,      /* a client of the MPS server: "M" */
};

struct nvml_process {
    unsigned pid;         /* as the driver names it: a PID of the host's namespace */
    unsigned types;       /* NVML_PROC_*: a process in several lists has several */
    long long used_bytes; /* -1 when NVML cannot tell */
    int gi, ci;           /* MIG GPU and compute instance ids; -1 outside MIG */
};

struct nvml_usage {
    int gpu_percent, memory_percent;   /* -1 when not supported (MIG devices) */
    long long used_bytes, total_bytes; /* -1 when unknown */
};

/* The processes of the GPU at bus_id (mig_index -1), or of its MIG device of
 * NVML's index mig_index: the compute, graphics and MPS client lists merged by
 * PID, in NVML's order. A list the GPU does not support is empty. *out is
 * allocated (NULL when there are none). */
int nvml_processes(struct nvml *n, const char *bus_id, int mig_index, struct nvml_process **out,
                   size_t *count, gctk_error **err);
/* Utilisation and memory in use of the GPU at bus_id (mig_index -1) or of one
 * of its MIG devices. */
int nvml_usage(struct nvml *n, const char *bus_id, int mig_index, struct nvml_usage *out,
               gctk_error **err);

/* cuDriverGetVersion of the libcuda at path, as "13.0". */
int libcuda_driver_version(const char *path, char *buf, size_t size, gctk_error **err);

#endif
