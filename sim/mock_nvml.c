/* A mock libnvidia-ml: the NVML entry points that nvidia-smi, the container
 * toolkits and monitoring agents call first, answered from the simulated host
 * (see simhost.h). Types and return codes follow the NVML ABI; the values
 * come from /proc/driver/nvidia and the gctk-sim file of each GPU. */
#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "simhost.h"

#define EXPORT __attribute__((visibility("default")))

typedef int nvmlReturn_t;
enum {
    NVML_SUCCESS = 0,
    NVML_ERROR_UNINITIALIZED = 1,
    NVML_ERROR_INVALID_ARGUMENT = 2,
    NVML_ERROR_NOT_SUPPORTED = 3,
    NVML_ERROR_NO_PERMISSION = 4,
    NVML_ERROR_NOT_FOUND = 6,
    NVML_ERROR_INSUFFICIENT_SIZE = 7,
    NVML_ERROR_DRIVER_NOT_LOADED = 9,
    NVML_ERROR_LIB_RM_VERSION_MISMATCH = 18,
    NVML_ERROR_UNKNOWN = 999,
};

typedef struct nvmlDevice_st *nvmlDevice_t;

typedef struct {
    char busIdLegacy[16];
    unsigned int domain, bus, device;
    unsigned int pciDeviceId, pciSubSystemId;
    char busId[32];
} nvmlPciInfo_t;

typedef struct {
    unsigned long long total, free, used;
} nvmlMemory_t;

typedef struct {
    unsigned int gpu, memory;
} nvmlUtilization_t;

/* nvmlProcessInfo_v1_t (the unversioned functions) and nvmlProcessInfo_t
 * (their _v2 and _v3) */
typedef struct {
    unsigned int pid;
    unsigned long long usedGpuMemory;
} nvmlProcessInfo_v1_t;
typedef struct {
    unsigned int pid;
    unsigned long long usedGpuMemory;
    unsigned int gpuInstanceId, computeInstanceId;
} nvmlProcessInfo_t;

typedef int nvmlBrandType_t;
typedef int nvmlEnableState_t;
typedef int nvmlTemperatureSensors_t;

EXPORT nvmlReturn_t nvmlInit_v2(void);
EXPORT nvmlReturn_t nvmlInit(void);
EXPORT nvmlReturn_t nvmlInitWithFlags(unsigned int flags);
EXPORT nvmlReturn_t nvmlShutdown(void);
EXPORT const char *nvmlErrorString(nvmlReturn_t r);
EXPORT nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length);
EXPORT nvmlReturn_t nvmlSystemGetNVMLVersion(char *version, unsigned int length);
EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion(int *version);
EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *version);
EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count);
EXPORT nvmlReturn_t nvmlDeviceGetCount(unsigned int *count);
EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *dev);
EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int index, nvmlDevice_t *dev);
EXPORT nvmlReturn_t nvmlDeviceGetHandleByUUID(const char *uuid, nvmlDevice_t *dev);
EXPORT nvmlReturn_t nvmlDeviceGetHandleByPciBusId_v2(const char *bus_id, nvmlDevice_t *dev);
EXPORT nvmlReturn_t nvmlDeviceGetHandleByPciBusId(const char *bus_id, nvmlDevice_t *dev);
EXPORT nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t dev, char *uuid, unsigned int length);
EXPORT nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t dev, char *name, unsigned int length);
EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t dev, nvmlPciInfo_t *pci);
EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t dev, nvmlMemory_t *mem);
EXPORT nvmlReturn_t nvmlDeviceGetBrand(nvmlDevice_t dev, nvmlBrandType_t *brand);
EXPORT nvmlReturn_t nvmlDeviceGetCudaComputeCapability(nvmlDevice_t dev, int *major, int *minor);
EXPORT nvmlReturn_t nvmlDeviceGetMinorNumber(nvmlDevice_t dev, unsigned int *minor);
EXPORT nvmlReturn_t nvmlDeviceGetIndex(nvmlDevice_t dev, unsigned int *index);
EXPORT nvmlReturn_t nvmlDeviceGetPersistenceMode(nvmlDevice_t dev, nvmlEnableState_t *mode);
EXPORT nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t dev, unsigned int *current,
                                         unsigned int *pending);
EXPORT nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t dev, unsigned int *count);
EXPORT nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t dev, unsigned int index,
                                                        nvmlDevice_t *mig);
EXPORT nvmlReturn_t nvmlDeviceGetGpuInstanceId(nvmlDevice_t dev, unsigned int *id);
EXPORT nvmlReturn_t nvmlDeviceGetComputeInstanceId(nvmlDevice_t dev, unsigned int *id);
EXPORT nvmlReturn_t nvmlDeviceIsMigDeviceHandle(nvmlDevice_t dev, unsigned int *is_mig);
EXPORT nvmlReturn_t nvmlDeviceGetDeviceHandleFromMigDeviceHandle(nvmlDevice_t mig,
                                                                 nvmlDevice_t *dev);
EXPORT nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t dev, nvmlTemperatureSensors_t sensor,
                                             unsigned int *temp);
EXPORT nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t dev, unsigned int *milliwatts);
EXPORT nvmlReturn_t nvmlDeviceGetPowerManagementLimit(nvmlDevice_t dev, unsigned int *milliwatts);
EXPORT nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t dev, nvmlUtilization_t *util);
#define PROCESS_FUNCTIONS(name)                                                                    \
    EXPORT nvmlReturn_t name(nvmlDevice_t dev, unsigned int *count, nvmlProcessInfo_v1_t *infos);  \
    EXPORT nvmlReturn_t name##_v2(nvmlDevice_t dev, unsigned int *count,                           \
                                  nvmlProcessInfo_t *infos);                                       \
    EXPORT nvmlReturn_t name##_v3(nvmlDevice_t dev, unsigned int *count, nvmlProcessInfo_t *infos);
PROCESS_FUNCTIONS(nvmlDeviceGetComputeRunningProcesses)
PROCESS_FUNCTIONS(nvmlDeviceGetGraphicsRunningProcesses)
PROCESS_FUNCTIONS(nvmlDeviceGetMPSComputeRunningProcesses)

/* NVML counts nvmlInit calls; each nvmlShutdown undoes one. */
static const struct simhost *host;
static unsigned init_count;

/* The real library starts a thread of its own at its first initialisation
 * and keeps it until its last shutdown (seen on the H200s: a process that
 * had asked NVML for a GPU's brand could no longer enter a mount namespace,
 * which a process with threads cannot): the mock does the same. */
static pthread_mutex_t thread_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t thread_wake = PTHREAD_COND_INITIALIZER;
static pthread_t thread;
static bool thread_running, thread_stop;

static void *idle(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&thread_lock);
    while (!thread_stop)
        pthread_cond_wait(&thread_wake, &thread_lock);
    pthread_mutex_unlock(&thread_lock);
    return NULL;
}

static void start_thread(void)
{
    thread_stop = false;
    thread_running = pthread_create(&thread, NULL, idle, NULL) == 0;
}

/* also when the library is unloaded without a shutdown */
__attribute__((destructor)) static void stop_thread(void)
{
    if (!thread_running)
        return;
    pthread_mutex_lock(&thread_lock);
    thread_stop = true;
    pthread_cond_signal(&thread_wake);
    pthread_mutex_unlock(&thread_lock);
    pthread_join(thread, NULL);
    thread_running = false;
}

nvmlReturn_t nvmlInitWithFlags(unsigned int flags)
{
    (void)flags;
    if (init_count > 0) {
        init_count++;
        return NVML_SUCCESS;
    }
    const struct simhost *h = NULL;
    switch (simhost_load((const void *)nvmlInitWithFlags, &h)) {
    case SIMHOST_OK:
        break;
    case SIMHOST_DRIVER_NOT_LOADED:
        return NVML_ERROR_DRIVER_NOT_LOADED;
    case SIMHOST_VERSION_MISMATCH:
        return NVML_ERROR_LIB_RM_VERSION_MISMATCH;
    case SIMHOST_NO_PERMISSION:
        /* what the real library answers when a device cgroup denies a node:
         * "Failed to initialize NVML: Unknown Error" */
        return NVML_ERROR_UNKNOWN;
    }
    host = h;
    init_count = 1;
    start_thread();
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlInit_v2(void)
{
    return nvmlInitWithFlags(0);
}

nvmlReturn_t nvmlInit(void)
{
    return nvmlInitWithFlags(0);
}

nvmlReturn_t nvmlShutdown(void)
{
    if (init_count == 0)
        return NVML_ERROR_UNINITIALIZED;
    if (--init_count == 0) {
        host = NULL;
        stop_thread();
    }
    return NVML_SUCCESS;
}

const char *nvmlErrorString(nvmlReturn_t r)
{
    switch (r) {
    case NVML_SUCCESS:
        return "Success";
    case NVML_ERROR_UNINITIALIZED:
        return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT:
        return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED:
        return "Not Supported";
    case NVML_ERROR_NO_PERMISSION:
        return "Insufficient Permissions";
    case 5:
        return "Already Initialized";
    case NVML_ERROR_NOT_FOUND:
        return "Not Found";
    case NVML_ERROR_INSUFFICIENT_SIZE:
        return "Insufficient Size";
    case 8:
        return "Insufficient External Power";
    case NVML_ERROR_DRIVER_NOT_LOADED:
        return "Driver Not Loaded";
    case 10:
        return "Timeout";
    case 12:
        return "NVML Shared Library Not Found";
    case 13:
        return "Function Not Found";
    case 14:
        return "Corrupted infoROM";
    case 15:
        return "GPU is lost";
    case NVML_ERROR_LIB_RM_VERSION_MISMATCH:
        return "Driver/library version mismatch";
    default:
        return "Unknown Error";
    }
}

static nvmlReturn_t copy_out(char *dst, unsigned int length, const char *src)
{
    if (dst == NULL)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (strlen(src) + 1 > length)
        return NVML_ERROR_INSUFFICIENT_SIZE;
    memcpy(dst, src, strlen(src) + 1);
    return NVML_SUCCESS;
}

/* The handle is the GPU's entry in the host table; anything else is refused
 * as the real library refuses a stale or forged handle. */
static const struct simhost_gpu *gpu_of(nvmlDevice_t dev, nvmlReturn_t *r)
{
    if (host == NULL) {
        *r = NVML_ERROR_UNINITIALIZED;
        return NULL;
    }
    const struct simhost_gpu *g = (const struct simhost_gpu *)dev;
    if (g == NULL || g < host->gpus || g >= host->gpus + host->count) {
        *r = NVML_ERROR_INVALID_ARGUMENT;
        return NULL;
    }
    *r = NVML_SUCCESS;
    return g;
}

/* A MIG device handle points into the host's MIG table. */
static const struct simhost_mig *mig_of(nvmlDevice_t dev)
{
    const struct simhost_mig *m = (const struct simhost_mig *)dev;
    if (host == NULL || m == NULL || host->mig_count == 0 || m < host->migs ||
        m >= host->migs + host->mig_count)
        return NULL;
    return m;
}

#define GPU_OR_RETURN(g, dev, out)                                                                 \
    nvmlReturn_t r_;                                                                               \
    const struct simhost_gpu *g = gpu_of(dev, &r_);                                                \
    if (g == NULL)                                                                                 \
        return r_;                                                                                 \
    if ((out) == NULL)                                                                             \
    return NVML_ERROR_INVALID_ARGUMENT

/* ---- what runs on the GPUs --------------------------------------------------
 * The real driver knows its processes; the simulated one reads them, afresh
 * on every call as the real state changes, from
 * <root>/proc/driver/nvidia/gctk-sim-activity (see sim/README.md):
 *   process DEVICE PID TYPE MIB      TYPE: C, G, C+G or M (an MPS client)
 *   utilization DEVICE GPU% MEMORY%
 * DEVICE: a visible GPU's index, "GPU:MIG" (a MIG device by its index on the
 * GPU), or a GPU or MIG UUID. Lines naming a device this process cannot see
 * are skipped, as a container sees none of the host's processes. */

enum { SIM_PROC_COMPUTE = 1, SIM_PROC_GRAPHICS = 2, SIM_PROC_MPS = 4 };
#define SIM_MAX_PROCESSES 1024
#define NO_INSTANCE 0xffffffffu

struct sim_process {
    unsigned pid, types;
    unsigned long long mib;
    unsigned gi, ci; /* NO_INSTANCE outside MIG */
};

struct activity {
    unsigned nprocs;
    unsigned long long used; /* bytes */
    unsigned util_gpu, util_memory;
};

/* The GPU and MIG device (NULL: the GPU itself) a DEVICE field names. */
static bool resolve_device(const char *spec, const struct simhost_gpu **gpu,
                           const struct simhost_mig **mig)
{
    *gpu = NULL;
    *mig = NULL;
    unsigned g = 0, m = 0;
    char end = 0;
    if (strncmp(spec, "GPU-", 4) == 0 || strncmp(spec, "MIG-", 4) == 0) {
        for (unsigned i = 0; i < host->mig_count; i++)
            if (strcmp(host->migs[i].uuid, spec) == 0) {
                *mig = &host->migs[i];
                *gpu = &host->gpus[host->migs[i].gpu];
                return true;
            }
        for (unsigned i = 0; i < host->count; i++)
            if (strcmp(host->gpus[i].uuid, spec) == 0) {
                *gpu = &host->gpus[i];
                return true;
            }
        return false;
    }
    int fields = sscanf(spec, "%u:%u%c", &g, &m, &end);
    if (fields == 1 && g < host->count && strchr(spec, ':') == NULL) {
        *gpu = &host->gpus[g];
        return true;
    }
    if (fields == 2 && g < host->count && m < host->gpus[g].mig_count) {
        *gpu = &host->gpus[g];
        *mig = &host->migs[host->gpus[g].first_mig + m];
        return true;
    }
    return false;
}

static unsigned parse_types(const char *s)
{
    unsigned t = 0;
    for (; *s != '\0'; s++)
        t |= *s == 'C'   ? SIM_PROC_COMPUTE
             : *s == 'G' ? SIM_PROC_GRAPHICS
             : *s == 'M' ? SIM_PROC_MPS
                         : 0;
    return t;
}

/* What runs on dev (a GPU or MIG handle); procs (SIM_MAX_PROCESSES entries,
 * or NULL) receives the processes. */
static struct activity device_activity(nvmlDevice_t dev, struct sim_process *procs)
{
    struct activity a = {0};
    char path[4096 + 64];
    snprintf(path, sizeof(path), "%s/proc/driver/nvidia/gctk-sim-activity", host->root);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return a;
    const struct simhost_mig *want_mig = mig_of(dev);
    const struct simhost_gpu *want_gpu = want_mig != NULL ? NULL : (const struct simhost_gpu *)dev;
    char line[512], kind[16], spec[64], type[8];
    while (fgets(line, sizeof(line), f) != NULL) {
        unsigned pid = 0, u1 = 0, u2 = 0;
        unsigned long long mib = 0;
        const struct simhost_gpu *g = NULL;
        const struct simhost_mig *m = NULL;
        if (sscanf(line, "%15s %63s", kind, spec) != 2 || !resolve_device(spec, &g, &m))
            continue;
        /* a MIG device's own lines; a GPU's own lines and, in MIG mode, those
         * of its MIG devices */
        bool mine = want_mig != NULL ? m == want_mig : g == want_gpu;
        if (!mine)
            continue;
        if (strcmp(kind, "utilization") == 0 && m == want_mig &&
            sscanf(line, "%*s %*s %u %u", &u1, &u2) == 2) {
            a.util_gpu = u1;
            a.util_memory = u2;
        } else if (strcmp(kind, "process") == 0 &&
                   sscanf(line, "%*s %*s %u %7s %llu", &pid, type, &mib) == 3 &&
                   a.nprocs < SIM_MAX_PROCESSES) {
            a.used += mib << 20;
            if (procs != NULL)
                procs[a.nprocs] = (struct sim_process){.pid = pid,
                                                       .types = parse_types(type),
                                                       .mib = mib,
                                                       .gi = m != NULL ? m->gi : NO_INSTANCE,
                                                       .ci = m != NULL ? m->ci : NO_INSTANCE};
            a.nprocs++;
        }
    }
    fclose(f);
    return a;
}

nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length)
{
    if (host == NULL)
        return NVML_ERROR_UNINITIALIZED;
    return copy_out(version, length,
                    host->library_version[0] != '\0' ? host->library_version
                                                     : host->kernel_version);
}

nvmlReturn_t nvmlSystemGetNVMLVersion(char *version, unsigned int length)
{
    if (host == NULL)
        return NVML_ERROR_UNINITIALIZED;
    /* the real one is "<CUDA major>.<driver version>", e.g. "13.580.95.05" */
    char buf[96];
    snprintf(buf, sizeof(buf), "%d.%s", host->cuda_version / 1000,
             host->library_version[0] != '\0' ? host->library_version : host->kernel_version);
    return copy_out(version, length, buf);
}

nvmlReturn_t nvmlSystemGetCudaDriverVersion(int *version)
{
    if (version == NULL)
        return NVML_ERROR_INVALID_ARGUMENT;
    /* like the real library, this one works without nvmlInit */
    *version = simhost_cuda_version();
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *version)
{
    return nvmlSystemGetCudaDriverVersion(version);
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count)
{
    if (host == NULL)
        return NVML_ERROR_UNINITIALIZED;
    if (count == NULL)
        return NVML_ERROR_INVALID_ARGUMENT;
    *count = host->count;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetCount(unsigned int *count)
{
    return nvmlDeviceGetCount_v2(count);
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *dev)
{
    if (host == NULL)
        return NVML_ERROR_UNINITIALIZED;
    if (dev == NULL || index >= host->count)
        return NVML_ERROR_INVALID_ARGUMENT;
    *dev = (nvmlDevice_t)&host->gpus[index];
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int index, nvmlDevice_t *dev)
{
    return nvmlDeviceGetHandleByIndex_v2(index, dev);
}

nvmlReturn_t nvmlDeviceGetHandleByUUID(const char *uuid, nvmlDevice_t *dev)
{
    if (host == NULL)
        return NVML_ERROR_UNINITIALIZED;
    if (uuid == NULL || dev == NULL)
        return NVML_ERROR_INVALID_ARGUMENT;
    for (unsigned i = 0; i < host->mig_count; i++) {
        if (strcmp(host->migs[i].uuid, uuid) == 0) {
            *dev = (nvmlDevice_t)&host->migs[i];
            return NVML_SUCCESS;
        }
    }
    for (unsigned i = 0; i < host->count; i++) {
        if (strcmp(host->gpus[i].uuid, uuid) == 0) {
            *dev = (nvmlDevice_t)&host->gpus[i];
            return NVML_SUCCESS;
        }
    }
    return NVML_ERROR_NOT_FOUND;
}

nvmlReturn_t nvmlDeviceGetHandleByPciBusId_v2(const char *bus_id, nvmlDevice_t *dev)
{
    if (host == NULL)
        return NVML_ERROR_UNINITIALIZED;
    if (bus_id == NULL || dev == NULL)
        return NVML_ERROR_INVALID_ARGUMENT;
    /* both forms, "00000000:18:00.0" and "0000:18:00.0", and also "18:00.0" */
    unsigned domain = 0, bus, device, fn;
    if (sscanf(bus_id, "%x:%x:%x.%x", &domain, &bus, &device, &fn) != 4) {
        domain = 0;
        if (sscanf(bus_id, "%x:%x.%x", &bus, &device, &fn) != 3)
            return NVML_ERROR_INVALID_ARGUMENT;
    }
    for (unsigned i = 0; i < host->count; i++) {
        const struct simhost_gpu *g = &host->gpus[i];
        if (g->domain == domain && g->bus == bus && g->device == device) {
            *dev = (nvmlDevice_t)g;
            return NVML_SUCCESS;
        }
    }
    return NVML_ERROR_NOT_FOUND;
}

nvmlReturn_t nvmlDeviceGetHandleByPciBusId(const char *bus_id, nvmlDevice_t *dev)
{
    return nvmlDeviceGetHandleByPciBusId_v2(bus_id, dev);
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t dev, char *uuid, unsigned int length)
{
    const struct simhost_mig *m = mig_of(dev);
    if (m != NULL)
        return copy_out(uuid, length, m->uuid);
    GPU_OR_RETURN(g, dev, uuid);
    return copy_out(uuid, length, g->uuid);
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t dev, char *name, unsigned int length)
{
    const struct simhost_mig *m = mig_of(dev);
    if (m != NULL) {
        /* "NVIDIA H100 80GB HBM3 MIG 1g.10gb", as the real library names them */
        char buf[160];
        snprintf(buf, sizeof(buf), "%s MIG %s", host->gpus[m->gpu].name, m->profile);
        return copy_out(name, length, buf);
    }
    GPU_OR_RETURN(g, dev, name);
    return copy_out(name, length, g->name);
}

nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t dev, nvmlPciInfo_t *pci)
{
    GPU_OR_RETURN(g, dev, pci);
    memset(pci, 0, sizeof(*pci));
    snprintf(pci->busIdLegacy, sizeof(pci->busIdLegacy), "%s", g->legacy);
    snprintf(pci->busId, sizeof(pci->busId), "%s", g->bus_id);
    pci->domain = g->domain;
    pci->bus = g->bus;
    pci->device = g->device;
    pci->pciDeviceId = 0x233010de; /* GH100 [H100 SXM5 80GB] */
    pci->pciSubSystemId = 0x16c110de;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t dev, nvmlMemory_t *mem)
{
    const struct simhost_mig *m = mig_of(dev);
    if (m != NULL && mem != NULL) {
        mem->total = m->memory_mib << 20;
        mem->used = device_activity(dev, NULL).used;
        mem->free = mem->used < mem->total ? mem->total - mem->used : 0;
        return NVML_SUCCESS;
    }
    GPU_OR_RETURN(g, dev, mem);
    mem->total = g->memory_mib << 20;
    mem->used = device_activity(dev, NULL).used;
    mem->free = mem->used < mem->total ? mem->total - mem->used : 0;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetBrand(nvmlDevice_t dev, nvmlBrandType_t *brand)
{
    static const char *const names[] = {
        "Unknown",    "Quadro",     "Tesla",      "NVS",
        "GRID",       "GeForce",    "Titan",      "NVIDIA_VAPPS",
        "NVIDIA_VPC", "NVIDIA_VCS", "NVIDIA_VWS", "NVIDIA_CLOUD_GAMING",
        "Quadro_RTX", "NVIDIA_RTX", "NVIDIA",     "GeForce_RTX",
        "Titan_RTX",
    };
    GPU_OR_RETURN(g, dev, brand);
    *brand = 0;
    for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
        if (strcasecmp(g->brand, names[i]) == 0)
            *brand = i;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetCudaComputeCapability(nvmlDevice_t dev, int *major, int *minor)
{
    GPU_OR_RETURN(g, dev, major);
    if (minor == NULL)
        return NVML_ERROR_INVALID_ARGUMENT;
    *major = g->cc_major;
    *minor = g->cc_minor;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMinorNumber(nvmlDevice_t dev, unsigned int *minor)
{
    GPU_OR_RETURN(g, dev, minor);
    *minor = (unsigned)g->minor;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetIndex(nvmlDevice_t dev, unsigned int *index)
{
    GPU_OR_RETURN(g, dev, index);
    *index = (unsigned)(g - host->gpus);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPersistenceMode(nvmlDevice_t dev, nvmlEnableState_t *mode)
{
    GPU_OR_RETURN(g, dev, mode);
    *mode = g->persistence ? 1 : 0;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t dev, unsigned int *current, unsigned int *pending)
{
    GPU_OR_RETURN(g, dev, current);
    if (pending == NULL)
        return NVML_ERROR_INVALID_ARGUMENT;
    /* MIG exists from Ampere (8.0) on; `gctk sim create --mig` enables it */
    if (g->mig_mode < 0)
        return NVML_ERROR_NOT_SUPPORTED;
    *current = *pending = (unsigned)g->mig_mode;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t dev, unsigned int *count)
{
    GPU_OR_RETURN(g, dev, count);
    if (g->mig_mode < 0)
        return NVML_ERROR_NOT_SUPPORTED;
    *count = 7;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t dev, unsigned int index,
                                                 nvmlDevice_t *mig)
{
    GPU_OR_RETURN(g, dev, mig);
    if (g->mig_mode < 0)
        return NVML_ERROR_NOT_SUPPORTED;
    if (index >= 7)
        return NVML_ERROR_INVALID_ARGUMENT;
    /* the instances this process cannot access are not there for it */
    if (index >= g->mig_count)
        return NVML_ERROR_NOT_FOUND;
    *mig = (nvmlDevice_t)&host->migs[g->first_mig + index];
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetGpuInstanceId(nvmlDevice_t dev, unsigned int *id)
{
    const struct simhost_mig *m = mig_of(dev);
    if (m == NULL || id == NULL)
        return host == NULL ? NVML_ERROR_UNINITIALIZED : NVML_ERROR_INVALID_ARGUMENT;
    *id = m->gi;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetComputeInstanceId(nvmlDevice_t dev, unsigned int *id)
{
    const struct simhost_mig *m = mig_of(dev);
    if (m == NULL || id == NULL)
        return host == NULL ? NVML_ERROR_UNINITIALIZED : NVML_ERROR_INVALID_ARGUMENT;
    *id = m->ci;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceIsMigDeviceHandle(nvmlDevice_t dev, unsigned int *is_mig)
{
    if (host == NULL)
        return NVML_ERROR_UNINITIALIZED;
    if (is_mig == NULL)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (mig_of(dev) != NULL) {
        *is_mig = 1;
        return NVML_SUCCESS;
    }
    GPU_OR_RETURN(g, dev, is_mig);
    (void)g;
    *is_mig = 0;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetDeviceHandleFromMigDeviceHandle(nvmlDevice_t mig, nvmlDevice_t *dev)
{
    const struct simhost_mig *m = mig_of(mig);
    if (m == NULL || dev == NULL)
        return host == NULL ? NVML_ERROR_UNINITIALIZED : NVML_ERROR_INVALID_ARGUMENT;
    *dev = (nvmlDevice_t)&host->gpus[m->gpu];
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t dev, nvmlTemperatureSensors_t sensor,
                                      unsigned int *temp)
{
    GPU_OR_RETURN(g, dev, temp);
    if (sensor != 0)
        return NVML_ERROR_INVALID_ARGUMENT;
    *temp = 31 + (unsigned)(g - host->gpus) % 7;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t dev, unsigned int *milliwatts)
{
    GPU_OR_RETURN(g, dev, milliwatts);
    *milliwatts = 68000 + 1000 * ((unsigned)(g - host->gpus) % 5);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPowerManagementLimit(nvmlDevice_t dev, unsigned int *milliwatts)
{
    GPU_OR_RETURN(g, dev, milliwatts);
    (void)g;
    *milliwatts = 700000;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t dev, nvmlUtilization_t *util)
{
    /* the real library has no utilisation counters for a MIG device */
    if (mig_of(dev) != NULL)
        return NVML_ERROR_NOT_SUPPORTED;
    GPU_OR_RETURN(g, dev, util);
    (void)g;
    struct activity a = device_activity(dev, NULL);
    util->gpu = a.util_gpu;
    util->memory = a.util_memory;
    return NVML_SUCCESS;
}

/* One list (compute, graphics or MPS clients) of a GPU or MIG device, in
 * NVML's protocol: *count 0 (infos may be NULL) asks for the number, which
 * comes back with NVML_ERROR_INSUFFICIENT_SIZE (NVML_SUCCESS when there is
 * none). On a GPU in MIG mode the parent's handle gives every MIG device's
 * processes, with their instance ids, to a privileged caller only. */
static nvmlReturn_t list_processes(nvmlDevice_t dev, unsigned type, unsigned int *count,
                                   void *infos, bool v1)
{
    if (host == NULL)
        return NVML_ERROR_UNINITIALIZED;
    if (count == NULL || (*count > 0 && infos == NULL))
        return NVML_ERROR_INVALID_ARGUMENT;
    nvmlReturn_t r = NVML_SUCCESS;
    const struct simhost_mig *m = mig_of(dev);
    const struct simhost_gpu *g = m == NULL ? gpu_of(dev, &r) : NULL;
    if (m == NULL && g == NULL)
        return r;
    if (g != NULL && g->mig_mode == 1 && geteuid() != 0)
        return NVML_ERROR_NO_PERMISSION;
    struct sim_process procs[SIM_MAX_PROCESSES];
    struct activity a = device_activity(dev, procs);
    unsigned n = 0;
    for (unsigned i = 0; i < a.nprocs; i++)
        if (procs[i].types & type)
            n++;
    if (*count < n) {
        *count = n;
        return NVML_ERROR_INSUFFICIENT_SIZE;
    }
    unsigned k = 0;
    for (unsigned i = 0; i < a.nprocs; i++) {
        if (!(procs[i].types & type))
            continue;
        unsigned long long bytes = procs[i].mib << 20;
        if (v1) {
            nvmlProcessInfo_v1_t *e = (nvmlProcessInfo_v1_t *)infos + k++;
            *e = (nvmlProcessInfo_v1_t){.pid = procs[i].pid, .usedGpuMemory = bytes};
        } else {
            nvmlProcessInfo_t *e = (nvmlProcessInfo_t *)infos + k++;
            *e = (nvmlProcessInfo_t){.pid = procs[i].pid,
                                     .usedGpuMemory = bytes,
                                     .gpuInstanceId = procs[i].gi,
                                     .computeInstanceId = procs[i].ci};
        }
    }
    *count = n;
    return NVML_SUCCESS;
}

#define PROCESS_FUNCTIONS_BODY(name, type)                                                         \
    nvmlReturn_t name(nvmlDevice_t dev, unsigned int *count, nvmlProcessInfo_v1_t *infos)          \
    {                                                                                              \
        return list_processes(dev, type, count, infos, true);                                      \
    }                                                                                              \
    nvmlReturn_t name##_v2(nvmlDevice_t dev, unsigned int *count, nvmlProcessInfo_t *infos)        \
    {                                                                                              \
        return list_processes(dev, type, count, infos, false);                                     \
    }                                                                                              \
    nvmlReturn_t name##_v3(nvmlDevice_t dev, unsigned int *count, nvmlProcessInfo_t *infos)        \
    {                                                                                              \
        return list_processes(dev, type, count, infos, false);                                     \
    }
PROCESS_FUNCTIONS_BODY(nvmlDeviceGetComputeRunningProcesses, SIM_PROC_COMPUTE)
PROCESS_FUNCTIONS_BODY(nvmlDeviceGetGraphicsRunningProcesses, SIM_PROC_GRAPHICS)
PROCESS_FUNCTIONS_BODY(nvmlDeviceGetMPSComputeRunningProcesses, SIM_PROC_MPS)
