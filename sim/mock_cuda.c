/* A mock libcuda: the CUDA driver API calls a program makes to find its
 * devices, answered from the simulated host (see simhost.h). It also plays
 * the forward-compatibility rule: a libcuda newer than the kernel module (an
 * image's cuda-compat package) runs only on datacenter GPUs. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "simhost.h"

#define EXPORT __attribute__((visibility("default")))

typedef int CUresult;
typedef int CUdevice;
typedef int CUdevice_attribute;
typedef struct {
    char bytes[16];
} CUuuid;

enum {
    CUDA_SUCCESS = 0,
    CUDA_ERROR_INVALID_VALUE = 1,
    CUDA_ERROR_NOT_INITIALIZED = 3,
    CUDA_ERROR_NO_DEVICE = 100,
    CUDA_ERROR_INVALID_DEVICE = 101,
    CUDA_ERROR_SYSTEM_DRIVER_MISMATCH = 803,
    CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE = 804,
    CUDA_ERROR_UNKNOWN = 999,
};

EXPORT CUresult cuInit(unsigned int flags);
EXPORT CUresult cuDriverGetVersion(int *version);
EXPORT CUresult cuDeviceGetCount(int *count);
EXPORT CUresult cuDeviceGet(CUdevice *dev, int ordinal);
EXPORT CUresult cuDeviceGetName(char *name, int len, CUdevice dev);
EXPORT CUresult cuDeviceGetUuid(CUuuid *uuid, CUdevice dev);
EXPORT CUresult cuDeviceGetUuid_v2(CUuuid *uuid, CUdevice dev);
EXPORT CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice dev);
EXPORT CUresult cuDeviceGetAttribute(int *value, CUdevice_attribute attr, CUdevice dev);
EXPORT CUresult cuDeviceGetPCIBusId(char *bus_id, int len, CUdevice dev);
EXPORT CUresult cuGetErrorString(CUresult error, const char **str);
EXPORT CUresult cuGetErrorName(CUresult error, const char **str);

static const struct simhost *host;
static CUresult init_result = CUDA_ERROR_NOT_INITIALIZED;
static bool init_done;

/* Dotted versions compared as numbers: "580.95.05" < "590.1". */
static int version_cmp(const char *a, const char *b)
{
    for (;;) {
        char *ea, *eb;
        unsigned long x = strtoul(a, &ea, 10), y = strtoul(b, &eb, 10);
        if (x != y)
            return x < y ? -1 : 1;
        if (*ea != '.' && *eb != '.')
            return 0;
        a = *ea == '.' ? ea + 1 : ea;
        b = *eb == '.' ? eb + 1 : eb;
    }
}

static CUresult compat_check(const struct simhost *h)
{
    if (version_cmp(h->library_version, h->kernel_version) < 0)
        return CUDA_ERROR_SYSTEM_DRIVER_MISMATCH;
    for (unsigned i = 0; i < h->count; i++)
        if (strcasecmp(h->gpus[i].brand, "Tesla") != 0 &&
            strcasecmp(h->gpus[i].brand, "NVIDIA") != 0)
            return CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE;
    return CUDA_SUCCESS;
}

CUresult cuInit(unsigned int flags)
{
    if (flags != 0)
        return CUDA_ERROR_INVALID_VALUE;
    /* the real driver initialises once per process and keeps the answer */
    if (init_done)
        return init_result;
    init_done = true;
    const struct simhost *h = NULL;
    switch (simhost_load((const void *)cuInit, &h)) {
    case SIMHOST_OK:
        init_result = CUDA_SUCCESS;
        break;
    case SIMHOST_DRIVER_NOT_LOADED:
        init_result = CUDA_ERROR_NO_DEVICE;
        break;
    case SIMHOST_VERSION_MISMATCH:
        init_result = compat_check(h);
        break;
    case SIMHOST_NO_PERMISSION:
        init_result = CUDA_ERROR_UNKNOWN;
        break;
    }
    if (init_result == CUDA_SUCCESS && h->count == 0)
        init_result = CUDA_ERROR_NO_DEVICE;
    if (init_result == CUDA_SUCCESS)
        host = h;
    return init_result;
}

CUresult cuDriverGetVersion(int *version)
{
    if (version == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    *version = simhost_cuda_version();
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetCount(int *count)
{
    if (host == NULL)
        return CUDA_ERROR_NOT_INITIALIZED;
    if (count == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    *count = (int)host->count;
    return CUDA_SUCCESS;
}

static const struct simhost_gpu *gpu_of(CUdevice dev, CUresult *r)
{
    if (host == NULL) {
        *r = CUDA_ERROR_NOT_INITIALIZED;
        return NULL;
    }
    if (dev < 0 || (unsigned)dev >= host->count) {
        *r = CUDA_ERROR_INVALID_DEVICE;
        return NULL;
    }
    *r = CUDA_SUCCESS;
    return &host->gpus[dev];
}

#define GPU_OR_RETURN(g, dev, out)                                                                 \
    CUresult r_;                                                                                   \
    const struct simhost_gpu *g = gpu_of(dev, &r_);                                                \
    if (g == NULL)                                                                                 \
        return r_;                                                                                 \
    if ((out) == NULL)                                                                             \
    return CUDA_ERROR_INVALID_VALUE

CUresult cuDeviceGet(CUdevice *dev, int ordinal)
{
    GPU_OR_RETURN(g, ordinal, dev);
    (void)g;
    *dev = ordinal;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetName(char *name, int len, CUdevice dev)
{
    GPU_OR_RETURN(g, dev, name);
    if (len <= 0)
        return CUDA_ERROR_INVALID_VALUE;
    snprintf(name, (size_t)len, "%s", g->name); /* truncates, as the real one does */
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetUuid_v2(CUuuid *uuid, CUdevice dev)
{
    GPU_OR_RETURN(g, dev, uuid);
    /* "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx": 32 hex digits, 16 bytes */
    memset(uuid, 0, sizeof(*uuid));
    int n = 0;
    for (const char *p = g->uuid + 4; *p != '\0' && n < 32; p++) {
        int v;
        if (*p >= '0' && *p <= '9')
            v = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            v = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            v = *p - 'A' + 10;
        else
            continue;
        uuid->bytes[n / 2] = (char)(uuid->bytes[n / 2] | (n % 2 == 0 ? v << 4 : v));
        n++;
    }
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetUuid(CUuuid *uuid, CUdevice dev)
{
    return cuDeviceGetUuid_v2(uuid, dev);
}

CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice dev)
{
    GPU_OR_RETURN(g, dev, bytes);
    *bytes = (size_t)(g->memory_mib << 20);
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetAttribute(int *value, CUdevice_attribute attr, CUdevice dev)
{
    GPU_OR_RETURN(g, dev, value);
    switch (attr) {
    case 1: /* MAX_THREADS_PER_BLOCK */
        *value = 1024;
        break;
    case 10: /* WARP_SIZE */
        *value = 32;
        break;
    case 16: /* MULTIPROCESSOR_COUNT: an H100 SXM5 has 132 */
        *value = 132;
        break;
    case 33: /* PCI_BUS_ID */
        *value = (int)g->bus;
        break;
    case 34: /* PCI_DEVICE_ID */
        *value = (int)g->device;
        break;
    case 50: /* PCI_DOMAIN_ID */
        *value = (int)g->domain;
        break;
    case 75: /* COMPUTE_CAPABILITY_MAJOR */
        *value = g->cc_major;
        break;
    case 76: /* COMPUTE_CAPABILITY_MINOR */
        *value = g->cc_minor;
        break;
    default:
        if (attr <= 0 || attr > 140)
            return CUDA_ERROR_INVALID_VALUE;
        *value = 0;
    }
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetPCIBusId(char *bus_id, int len, CUdevice dev)
{
    GPU_OR_RETURN(g, dev, bus_id);
    if (len <= 0)
        return CUDA_ERROR_INVALID_VALUE;
    snprintf(bus_id, (size_t)len, "%s", g->legacy);
    return CUDA_SUCCESS;
}

static const struct {
    CUresult code;
    const char *name, *text;
} errors[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {4, "CUDA_ERROR_DEINITIALIZED", "driver shutting down"},
    {CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
    {CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {CUDA_ERROR_SYSTEM_DRIVER_MISMATCH, "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH",
     "system has unsupported display driver / cuda driver combination"},
    {CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE, "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE",
     "forward compatibility was attempted on non supported HW"},
    {CUDA_ERROR_UNKNOWN, "CUDA_ERROR_UNKNOWN", "unknown error"},
};

CUresult cuGetErrorString(CUresult error, const char **str)
{
    if (str == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
        if (errors[i].code == error) {
            *str = errors[i].text;
            return CUDA_SUCCESS;
        }
    }
    *str = NULL;
    return CUDA_ERROR_INVALID_VALUE;
}

CUresult cuGetErrorName(CUresult error, const char **str)
{
    if (str == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
        if (errors[i].code == error) {
            *str = errors[i].name;
            return CUDA_SUCCESS;
        }
    }
    *str = NULL;
    return CUDA_ERROR_INVALID_VALUE;
}
