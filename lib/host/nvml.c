/* NVML and libcuda through dlopen. The prototypes are written here from the
 * documented ABI: no NVIDIA header is needed to build gctk. */
#include <dlfcn.h>
#include <string.h>

#include "nvml.h"
#include "vercmp.h"

typedef int nvmlReturn_t;
typedef void *nvmlDevice_t;
typedef struct {
    char bus_id_legacy[16];
    unsigned domain, bus, device, pci_device_id, pci_subsystem_id;
    char bus_id[32];
} nvmlPciInfo_t;
typedef struct {
    unsigned long long total, free, used;
} nvmlMemory_t;
typedef struct {
    unsigned gpu, memory;
} nvmlUtilization_t;
/* nvmlProcessInfo_v1_t, of the unversioned functions */
typedef struct {
    unsigned pid;
    unsigned long long used;
} nvmlProcessInfo_v1_t;
/* nvmlProcessInfo_t of the _v2 and _v3 functions (R470 on) */
typedef struct {
    unsigned pid;
    unsigned long long used;
    unsigned gi, ci;
} nvmlProcessInfo_t;
typedef nvmlReturn_t (*nvml_proc_fn)(nvmlDevice_t, unsigned *, void *);

#define NVML_SUCCESS 0
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_NOT_FOUND 6
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define NVML_VALUE_NOT_AVAILABLE (~0ull)
#define NVML_NO_INSTANCE 0xffffffffu

struct nvml {
    void *handle;
    nvmlReturn_t (*init)(void);
    nvmlReturn_t (*shutdown)(void);
    const char *(*error_string)(nvmlReturn_t);
    nvmlReturn_t (*driver_version)(char *, unsigned);
    nvmlReturn_t (*cuda_version)(int *);
    nvmlReturn_t (*by_bus_id)(const char *, nvmlDevice_t *);
    nvmlReturn_t (*count)(unsigned *);
    nvmlReturn_t (*by_index)(unsigned, nvmlDevice_t *);
    nvmlReturn_t (*pci)(nvmlDevice_t, nvmlPciInfo_t *);
    nvmlReturn_t (*persistence)(nvmlDevice_t, int *);
    nvmlReturn_t (*uuid)(nvmlDevice_t, char *, unsigned);
    nvmlReturn_t (*name)(nvmlDevice_t, char *, unsigned);
    nvmlReturn_t (*memory)(nvmlDevice_t, nvmlMemory_t *);
    nvmlReturn_t (*brand)(nvmlDevice_t, int *);
    nvmlReturn_t (*cc)(nvmlDevice_t, int *, int *);
    /* MIG: absent from drivers before R450 */
    nvmlReturn_t (*mig_mode)(nvmlDevice_t, unsigned *, unsigned *);
    nvmlReturn_t (*mig_max)(nvmlDevice_t, unsigned *);
    nvmlReturn_t (*mig_by_index)(nvmlDevice_t, unsigned, nvmlDevice_t *);
    nvmlReturn_t (*gi_id)(nvmlDevice_t, unsigned *);
    nvmlReturn_t (*ci_id)(nvmlDevice_t, unsigned *);
    /* what runs: the compute, graphics and MPS lists, in the order of
     * NVML_PROC_*; v1[i] when only the unversioned function (whose entries
     * lack the MIG ids) is there */
    nvml_proc_fn procs[3];
    bool procs_v1[3];
    nvmlReturn_t (*utilization)(nvmlDevice_t, nvmlUtilization_t *);
};

/* nvmlBrandType_t in order, named as CUDA images' NVIDIA_REQUIRE_CUDA spells them */
static const char *const brand_names[] = {
    "unknown",   "quadro",    "tesla",  "nvs",        "grid",     "geforce",
    "titan",     "vapps",     "vpc",    "vcs",        "vws",      "cloudgaming",
    "quadrortx", "nvidiartx", "nvidia", "geforcertx", "titanrtx",
};

static const char *nvml_strerror(struct nvml *n, nvmlReturn_t r)
{
    return n->error_string != NULL ? n->error_string(r) : "unknown NVML error";
}

static void dlclosep(void **h)
{
    if (*h != NULL)
        dlclose(*h);
}

/* dlsym that tries versioned names first ("_v2") */
static void *sym(void *h, const char *name, const char *fallback)
{
    void *p = dlsym(h, name);
    if (p == NULL && fallback != NULL)
        p = dlsym(h, fallback);
    return p;
}

int nvml_open(const char *path, struct nvml **out, gctk_error **err)
{
    __attribute__((cleanup(dlclosep))) void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL)
        return gctk_fail(err, 0, "load NVML `%s`: %s", path, dlerror());
    cleanup_free struct nvml *n = xcalloc(1, sizeof(*n));
    n->init = sym(h, "nvmlInit_v2", "nvmlInit");
    n->shutdown = sym(h, "nvmlShutdown", NULL);
    n->error_string = sym(h, "nvmlErrorString", NULL);
    n->driver_version = sym(h, "nvmlSystemGetDriverVersion", NULL);
    n->cuda_version = sym(h, "nvmlSystemGetCudaDriverVersion_v2", "nvmlSystemGetCudaDriverVersion");
    n->by_bus_id = sym(h, "nvmlDeviceGetHandleByPciBusId_v2", "nvmlDeviceGetHandleByPciBusId");
    n->count = sym(h, "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount");
    n->by_index = sym(h, "nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex");
    n->pci = sym(h, "nvmlDeviceGetPciInfo_v3", NULL);
    n->persistence = sym(h, "nvmlDeviceGetPersistenceMode", NULL);
    n->uuid = sym(h, "nvmlDeviceGetUUID", NULL);
    n->name = sym(h, "nvmlDeviceGetName", NULL);
    n->memory = sym(h, "nvmlDeviceGetMemoryInfo", NULL);
    n->brand = sym(h, "nvmlDeviceGetBrand", NULL);
    n->cc = sym(h, "nvmlDeviceGetCudaComputeCapability", NULL);
    n->mig_mode = sym(h, "nvmlDeviceGetMigMode", NULL);
    n->mig_max = sym(h, "nvmlDeviceGetMaxMigDeviceCount", NULL);
    n->mig_by_index = sym(h, "nvmlDeviceGetMigDeviceHandleByIndex", NULL);
    n->gi_id = sym(h, "nvmlDeviceGetGpuInstanceId", NULL);
    n->ci_id = sym(h, "nvmlDeviceGetComputeInstanceId", NULL);
    static const char *const lists[3] = {"nvmlDeviceGetComputeRunningProcesses",
                                         "nvmlDeviceGetGraphicsRunningProcesses",
                                         "nvmlDeviceGetMPSComputeRunningProcesses"};
    for (size_t i = 0; i < 3; i++) {
        char v3[96], v2[96];
        snprintf(v3, sizeof(v3), "%s_v3", lists[i]);
        snprintf(v2, sizeof(v2), "%s_v2", lists[i]);
        n->procs[i] = (nvml_proc_fn)sym(h, v3, v2);
        if (n->procs[i] == NULL) {
            n->procs[i] = (nvml_proc_fn)sym(h, lists[i], NULL);
            n->procs_v1[i] = true;
        }
    }
    n->utilization = sym(h, "nvmlDeviceGetUtilizationRates", NULL);
    if (n->init == NULL || n->shutdown == NULL)
        return gctk_fail(err, 0, "load NVML `%s`: nvmlInit is missing: not a driver library", path);
    nvmlReturn_t r = n->init();
    if (r != NVML_SUCCESS)
        return gctk_fail(err, 0, "initialise NVML `%s`: %s", path, nvml_strerror(n, r));
    n->handle = steal_pointer(&h);
    *out = steal_pointer(&n);
    return 0;
}

void nvml_close(struct nvml *n)
{
    if (n == NULL)
        return;
    n->shutdown();
    dlclose(n->handle);
    free(n);
}

int nvml_driver_version(struct nvml *n, char *buf, size_t size, gctk_error **err)
{
    if (n->driver_version == NULL)
        return gctk_fail(err, 0, "NVML has no nvmlSystemGetDriverVersion");
    nvmlReturn_t r = n->driver_version(buf, (unsigned)size);
    if (r != NVML_SUCCESS)
        return gctk_fail(err, 0, "NVML driver version: %s", nvml_strerror(n, r));
    return 0;
}

int nvml_cuda_version(struct nvml *n, char *buf, size_t size, gctk_error **err)
{
    int v = 0;
    if (n->cuda_version == NULL)
        return gctk_fail(err, 0, "NVML has no nvmlSystemGetCudaDriverVersion");
    nvmlReturn_t r = n->cuda_version(&v);
    if (r != NVML_SUCCESS)
        return gctk_fail(err, 0, "NVML CUDA version: %s", nvml_strerror(n, r));
    if (cuda_version_format(v, buf, size) == NULL)
        return gctk_fail(err, 0, "NVML CUDA version %d is not a CUDA version", v);
    return 0;
}

/* What NVML tells of one GPU; a field it cannot give stays unknown. Bus id
 * and persistence are the callers' (asked only where needed). */
static void fill_info(struct nvml *n, nvmlDevice_t dev, struct nvml_gpu_info *out)
{
    struct nvml_gpu_info info = {.memory_mib = -1, .persistence = -1};
    if (n->uuid != NULL && n->uuid(dev, info.uuid, sizeof(info.uuid)) != NVML_SUCCESS)
        info.uuid[0] = '\0';
    if (n->name != NULL && n->name(dev, info.name, sizeof(info.name)) != NVML_SUCCESS)
        info.name[0] = '\0';
    nvmlMemory_t mem;
    if (n->memory != NULL && n->memory(dev, &mem) == NVML_SUCCESS)
        info.memory_mib = (long)(mem.total / (1024 * 1024));
    int brand = 0;
    if (n->brand != NULL && n->brand(dev, &brand) == NVML_SUCCESS && brand >= 0 &&
        (size_t)brand < GCTK_ARRAY_LEN(brand_names))
        snprintf(info.brand, sizeof(info.brand), "%s", brand_names[brand]);
    int major = 0, minor = 0;
    if (n->cc != NULL && n->cc(dev, &major, &minor) == NVML_SUCCESS)
        snprintf(info.arch, sizeof(info.arch), "%d.%d", major, minor);
    *out = info;
}

int nvml_gpu_info(struct nvml *n, const char *bus_id, struct nvml_gpu_info *out, gctk_error **err)
{
    nvmlDevice_t dev = NULL;
    if (n->by_bus_id == NULL)
        return gctk_fail(err, 0, "NVML has no nvmlDeviceGetHandleByPciBusId");
    nvmlReturn_t r = n->by_bus_id(bus_id, &dev);
    if (r != NVML_SUCCESS)
        return gctk_fail(err, 0, "NVML GPU `%s`: %s", bus_id, nvml_strerror(n, r));
    fill_info(n, dev, out);
    snprintf(out->bus_id, sizeof(out->bus_id), "%s", bus_id);
    return 0;
}

int nvml_gpu_count(struct nvml *n, unsigned *count, gctk_error **err)
{
    if (n->count == NULL)
        return gctk_fail(err, 0, "NVML cannot count the GPUs: nvmlDeviceGetCount is missing");
    nvmlReturn_t r = n->count(count);
    if (r != NVML_SUCCESS)
        return gctk_fail(err, 0, "NVML cannot count the GPUs: %s", nvml_strerror(n, r));
    return 0;
}

int nvml_gpu_by_index(struct nvml *n, unsigned index, struct nvml_gpu_info *out, gctk_error **err)
{
    nvmlDevice_t dev = NULL;
    if (n->by_index == NULL || n->pci == NULL)
        return gctk_fail(err, 0,
                         "NVML has no nvmlDeviceGetHandleByIndex or "
                         "nvmlDeviceGetPciInfo");
    nvmlPciInfo_t pci;
    nvmlReturn_t r = n->by_index(index, &dev);
    if (r == NVML_SUCCESS)
        r = n->pci(dev, &pci);
    if (r != NVML_SUCCESS)
        return gctk_fail(err, 0, "NVML: %s", nvml_strerror(n, r));
    fill_info(n, dev, out);
    snprintf(out->bus_id, sizeof(out->bus_id), "%.*s", (int)sizeof(pci.bus_id), pci.bus_id);
    int mode = 0;
    if (n->persistence != NULL && n->persistence(dev, &mode) == NVML_SUCCESS)
        out->persistence = mode != 0;
    return 0;
}

static int device_by_bus_id(struct nvml *n, const char *bus_id, nvmlDevice_t *dev, gctk_error **err)
{
    if (n->by_bus_id == NULL)
        return gctk_fail(err, 0, "NVML has no nvmlDeviceGetHandleByPciBusId");
    nvmlReturn_t r = n->by_bus_id(bus_id, dev);
    if (r != NVML_SUCCESS)
        return gctk_fail(err, 0, "NVML GPU `%s`: %s", bus_id, nvml_strerror(n, r));
    return 0;
}

int nvml_mig_mode(struct nvml *n, const char *bus_id, enum gctk_mig_mode *out, gctk_error **err)
{
    nvmlDevice_t dev = NULL;
    if (device_by_bus_id(n, bus_id, &dev, err) < 0)
        return -1;
    if (n->mig_mode == NULL) {
        *out = GCTK_MIG_UNSUPPORTED; /* a driver older than MIG */
        return 0;
    }
    unsigned current = 0, pending = 0;
    nvmlReturn_t r = n->mig_mode(dev, &current, &pending);
    if (r == NVML_ERROR_NOT_SUPPORTED) {
        *out = GCTK_MIG_UNSUPPORTED;
        return 0;
    }
    if (r != NVML_SUCCESS)
        return gctk_fail(err, 0, "NVML MIG mode of GPU `%s`: %s", bus_id, nvml_strerror(n, r));
    *out = current ? GCTK_MIG_ENABLED : GCTK_MIG_DISABLED;
    return 0;
}

int nvml_mig_devices(struct nvml *n, const char *bus_id, struct nvml_mig_info **out, size_t *count,
                     gctk_error **err)
{
    nvmlDevice_t dev = NULL;
    if (device_by_bus_id(n, bus_id, &dev, err) < 0)
        return -1;
    if (n->mig_max == NULL || n->mig_by_index == NULL || n->gi_id == NULL || n->ci_id == NULL)
        return gctk_fail(err, 0, "NVML has no MIG device functions: driver too old for MIG");
    unsigned max = 0;
    nvmlReturn_t r = n->mig_max(dev, &max);
    if (r != NVML_SUCCESS)
        return gctk_fail(err, 0, "NVML MIG devices of GPU `%s`: %s", bus_id, nvml_strerror(n, r));
    struct nvml_mig_info *list = max ? xcalloc(max, sizeof(*list)) : NULL;
    size_t len = 0;
    for (unsigned i = 0; i < max; i++) {
        nvmlDevice_t mig = NULL;
        unsigned gi = 0, ci = 0;
        r = n->mig_by_index(dev, i, &mig);
        if (r == NVML_ERROR_NOT_FOUND)
            continue; /* an empty slot */
        if (r != NVML_SUCCESS || n->gi_id(mig, &gi) != NVML_SUCCESS ||
            n->ci_id(mig, &ci) != NVML_SUCCESS) {
            free(list);
            return gctk_fail(err, 0, "NVML MIG device %u of GPU `%s`: %s", i, bus_id,
                             nvml_strerror(n, r != NVML_SUCCESS ? r : 999));
        }
        struct nvml_mig_info *m = &list[len++];
        *m =
            (struct nvml_mig_info){.index = (int)i, .gi = (int)gi, .ci = (int)ci, .memory_mib = -1};
        if (n->uuid != NULL && n->uuid(mig, m->uuid, sizeof(m->uuid)) != NVML_SUCCESS)
            m->uuid[0] = '\0';
        if (n->name != NULL && n->name(mig, m->name, sizeof(m->name)) != NVML_SUCCESS)
            m->name[0] = '\0';
        nvmlMemory_t mem;
        if (n->memory != NULL && n->memory(mig, &mem) == NVML_SUCCESS)
            m->memory_mib = (long)(mem.total / (1024 * 1024));
    }
    if (len == 0) {
        free(list);
        list = NULL;
    }
    *out = list;
    *count = len;
    return 0;
}

/* ---- what runs on a GPU ------------------------------------------------------ */

/* The GPU at bus_id, or its MIG device of NVML's index mig_index. */
static int device_or_mig(struct nvml *n, const char *bus_id, int mig_index, nvmlDevice_t *dev,
                         gctk_error **err)
{
    if (device_by_bus_id(n, bus_id, dev, err) < 0)
        return -1;
    if (mig_index < 0)
        return 0;
    if (n->mig_by_index == NULL)
        return gctk_fail(err, 0, "NVML has no MIG device functions: driver too old for MIG");
    nvmlDevice_t mig = NULL;
    nvmlReturn_t r = n->mig_by_index(*dev, (unsigned)mig_index, &mig);
    if (r != NVML_SUCCESS)
        return gctk_fail(err, 0, "NVML MIG device %d of GPU `%s`: %s", mig_index, bus_id,
                         nvml_strerror(n, r));
    *dev = mig;
    return 0;
}

/* One process list into the entries read so far (merged by PID and MIG
 * instance). NVML's two-call protocol: the count first, then the entries;
 * processes that start between the calls make it ask again. */
static int read_process_list(struct nvml *n, nvmlDevice_t dev, size_t list, const char *what,
                             struct nvml_process **procs, size_t *count, gctk_error **err)
{
    static const char *const names[3] = {"compute", "graphics", "MPS"};
    const size_t stride =
        n->procs_v1[list] ? sizeof(nvmlProcessInfo_v1_t) : sizeof(nvmlProcessInfo_t);
    unsigned cap = 32;
    cleanup_free unsigned char *buf = NULL;
    nvmlReturn_t r = NVML_ERROR_INSUFFICIENT_SIZE;
    unsigned got = 0;
    for (int tries = 0; tries < 8 && r == NVML_ERROR_INSUFFICIENT_SIZE; tries++) {
        free(buf);
        buf = xcalloc(cap, stride);
        got = cap;
        r = n->procs[list](dev, &got, buf);
        if (r == NVML_ERROR_INSUFFICIENT_SIZE)
            cap = got > cap ? got + 8 : cap * 2;
    }
    if (r == NVML_ERROR_NOT_SUPPORTED)
        return 0;
    if (r != NVML_SUCCESS)
        return gctk_fail(err, 0, "NVML %s processes of %s: %s", names[list], what,
                         nvml_strerror(n, r));
    for (unsigned i = 0; i < got && i < cap; i++) {
        const unsigned char *e = buf + (size_t)i * stride;
        struct nvml_process p = {.types = 1u << list, .gi = -1, .ci = -1};
        if (n->procs_v1[list]) {
            const nvmlProcessInfo_v1_t *v1 = (const nvmlProcessInfo_v1_t *)e;
            p.pid = v1->pid;
            p.used_bytes = v1->used == NVML_VALUE_NOT_AVAILABLE ? -1 : (long long)v1->used;
        } else {
            const nvmlProcessInfo_t *v = (const nvmlProcessInfo_t *)e;
            p.pid = v->pid;
            p.used_bytes = v->used == NVML_VALUE_NOT_AVAILABLE ? -1 : (long long)v->used;
            if (v->gi != NVML_NO_INSTANCE && v->ci != NVML_NO_INSTANCE) {
                p.gi = (int)v->gi;
                p.ci = (int)v->ci;
            }
        }
        struct nvml_process *same = NULL;
        for (size_t k = 0; k < *count && same == NULL; k++)
            if ((*procs)[k].pid == p.pid && (*procs)[k].gi == p.gi && (*procs)[k].ci == p.ci)
                same = &(*procs)[k];
        if (same != NULL) {
            /* one process with a compute and a graphics context ("C+G"):
             * both lists report the memory of the whole process */
            same->types |= p.types;
            if (p.used_bytes > same->used_bytes)
                same->used_bytes = p.used_bytes;
            continue;
        }
        *procs = xgrow_for_one(*procs, *count, sizeof(**procs));
        (*procs)[(*count)++] = p;
    }
    return 0;
}

int nvml_processes(struct nvml *n, const char *bus_id, int mig_index, struct nvml_process **out,
                   size_t *count, gctk_error **err)
{
    nvmlDevice_t dev = NULL;
    if (device_or_mig(n, bus_id, mig_index, &dev, err) < 0)
        return -1;
    char what[96];
    if (mig_index < 0)
        snprintf(what, sizeof(what), "GPU `%s`", bus_id);
    else
        snprintf(what, sizeof(what), "MIG device %d of GPU `%s`", mig_index, bus_id);
    if (n->procs[0] == NULL)
        return gctk_fail(err, 0, "NVML has no nvmlDeviceGetComputeRunningProcesses");
    cleanup_free struct nvml_process *procs = NULL;
    size_t len = 0;
    for (size_t list = 0; list < 3; list++)
        if (n->procs[list] != NULL && read_process_list(n, dev, list, what, &procs, &len, err) < 0)
            return -1;
    *out = steal_pointer(&procs);
    *count = len;
    return 0;
}

int nvml_usage(struct nvml *n, const char *bus_id, int mig_index, struct nvml_usage *out,
               gctk_error **err)
{
    nvmlDevice_t dev = NULL;
    if (device_or_mig(n, bus_id, mig_index, &dev, err) < 0)
        return -1;
    struct nvml_usage u = {
        .gpu_percent = -1, .memory_percent = -1, .used_bytes = -1, .total_bytes = -1};
    nvmlUtilization_t util;
    /* MIG devices have no utilisation counters: NVML_ERROR_NOT_SUPPORTED */
    if (n->utilization != NULL && n->utilization(dev, &util) == NVML_SUCCESS) {
        u.gpu_percent = (int)util.gpu;
        u.memory_percent = (int)util.memory;
    }
    nvmlMemory_t mem;
    if (n->memory != NULL && n->memory(dev, &mem) == NVML_SUCCESS) {
        u.used_bytes = (long long)mem.used;
        u.total_bytes = (long long)mem.total;
    }
    *out = u;
    return 0;
}

int libcuda_driver_version(const char *path, char *buf, size_t size, gctk_error **err)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL)
        return gctk_fail(err, 0, "load libcuda `%s`: %s", path, dlerror());
    int (*get)(int *) = (int (*)(int *))dlsym(h, "cuDriverGetVersion");
    int v = 0;
    int r = get != NULL ? get(&v) : -1;
    dlclose(h);
    if (r != 0)
        return gctk_fail(err, 0, "libcuda `%s`: cuDriverGetVersion failed (%d)", path, r);
    if (cuda_version_format(v, buf, size) == NULL)
        return gctk_fail(err, 0, "libcuda `%s`: %d is not a CUDA version", path, v);
    return 0;
}
