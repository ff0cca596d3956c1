/* cuda-devices: a CUDA program as an image ships it. It is linked against
 * libcuda.so.1 at build time (no rpath), so at run time the dynamic loader
 * must find the driver's libcuda, in a container through the ld.so.cache
 * that the toolkit updated. It lists what the driver API reports. */
#include <stddef.h>
#include <stdio.h>

typedef int CUresult;
typedef int CUdevice;
typedef struct {
    unsigned char bytes[16];
} CUuuid;

/* The driver API calls used, as libcuda exports them. */
CUresult cuInit(unsigned int flags);
CUresult cuDriverGetVersion(int *version);
CUresult cuDeviceGetCount(int *count);
CUresult cuDeviceGet(CUdevice *dev, int ordinal);
CUresult cuDeviceGetName(char *name, int len, CUdevice dev);
CUresult cuDeviceGetUuid(CUuuid *uuid, CUdevice dev);
CUresult cuDeviceGetAttribute(int *value, int attr, CUdevice dev);
CUresult cuGetErrorName(CUresult error, const char **str);

enum { CC_MAJOR = 75, CC_MINOR = 76 };

static int fail(const char *call, CUresult r)
{
    const char *name = NULL;
    if (cuGetErrorName(r, &name) != 0 || name == NULL)
        name = "CUDA_ERROR_UNKNOWN";
    fprintf(stderr, "cuda-devices: %s failed: %s (%d)\n", call, name, r);
    printf("%s\n", name);
    return 1;
}

int main(void)
{
    int version = 0, count = 0;
    CUresult r = cuDriverGetVersion(&version);
    if (r != 0)
        return fail("cuDriverGetVersion", r);
    if ((r = cuInit(0)) != 0)
        return fail("cuInit", r);
    if ((r = cuDeviceGetCount(&count)) != 0)
        return fail("cuDeviceGetCount", r);
    printf("CUDA driver %d.%d, %d device(s)\n", version / 1000, version % 1000 / 10, count);
    for (int i = 0; i < count; i++) {
        CUdevice dev;
        char name[256];
        CUuuid u;
        int major = 0, minor = 0;
        if ((r = cuDeviceGet(&dev, i)) != 0)
            return fail("cuDeviceGet", r);
        if ((r = cuDeviceGetName(name, (int)sizeof(name), dev)) != 0)
            return fail("cuDeviceGetName", r);
        if ((r = cuDeviceGetUuid(&u, dev)) != 0)
            return fail("cuDeviceGetUuid", r);
        if ((r = cuDeviceGetAttribute(&major, CC_MAJOR, dev)) != 0 ||
            (r = cuDeviceGetAttribute(&minor, CC_MINOR, dev)) != 0)
            return fail("cuDeviceGetAttribute", r);
        /* the UUID in nvidia-smi's form, so the two can be compared */
        const unsigned char *b = u.bytes;
        printf("device %d: %s GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
               "%02x%02x%02x%02x%02x%02x cc %d.%d\n",
               i, name, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
               b[12], b[13], b[14], b[15], major, minor);
    }
    return 0;
}
