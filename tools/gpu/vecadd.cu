// A CUDA program as an image would ship it (built with `nvcc -cudart static`):
// lists the devices it sees with their UUIDs, then runs a kernel on each and
// checks the result.
#include <cstdio>
#include <cuda_runtime.h>

__global__ void add(const float *a, const float *b, float *c, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        c[i] = a[i] + b[i];
}

int main()
{
    int n = 0, drv = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        printf("cudaGetDeviceCount: %s\n", cudaGetErrorString(e));
        return 1;
    }
    cudaDriverGetVersion(&drv);
    printf("CUDA driver %d.%d, %d device(s)\n", drv / 1000, (drv % 1000) / 10, n);
    const int N = 1 << 20;
    for (int d = 0; d < n; d++) {
        cudaDeviceProp p;
        cudaGetDeviceProperties(&p, d);
        printf("device %d: %s GPU-", d, p.name);
        for (int k = 0; k < 16; k++)
            printf("%02x%s", (unsigned char)p.uuid.bytes[k], (k == 3 || k == 5 || k == 7 || k == 9) ? "-" : "");
        printf(" cc %d.%d\n", p.major, p.minor);
        cudaSetDevice(d);
        float *a, *b, *c;
        cudaMallocManaged(&a, N * sizeof(float));
        cudaMallocManaged(&b, N * sizeof(float));
        cudaMallocManaged(&c, N * sizeof(float));
        for (int i = 0; i < N; i++) {
            a[i] = (float)i;
            b[i] = 2.0f * i;
        }
        add<<<(N + 255) / 256, 256>>>(a, b, c, N);
        e = cudaDeviceSynchronize();
        int bad = 0;
        for (int i = 0; i < N && e == cudaSuccess; i++)
            bad += c[i] != 3.0f * i;
        printf("device %d: kernel %s\n", d, e == cudaSuccess && bad == 0 ? "ok" : cudaGetErrorString(e));
        cudaFree(a);
        cudaFree(b);
        cudaFree(c);
        if (e != cudaSuccess || bad)
            return 1;
    }
    return 0;
}
