/* Driver capabilities (NVIDIA_DRIVER_CAPABILITIES) and the files each brings. */
#include <string.h>

#include "caps.h"

static const struct {
    unsigned cap;
    const char *name;
} cap_names[] = {
    {GCTK_CAP_UTILITY, "utility"},   {GCTK_CAP_COMPUTE, "compute"}, {GCTK_CAP_VIDEO, "video"},
    {GCTK_CAP_GRAPHICS, "graphics"}, {GCTK_CAP_DISPLAY, "display"}, {GCTK_CAP_NGX, "ngx"},
    {GCTK_CAP_COMPAT32, "compat32"},
};

const char *gctk_cap_name(unsigned cap)
{
    for (size_t i = 0; i < GCTK_ARRAY_LEN(cap_names); i++)
        if (cap_names[i].cap == cap)
            return cap_names[i].name;
    return NULL;
}

int gctk_caps_parse(const char *list, unsigned *out, gctk_error **err)
{
    unsigned caps = 0;
    cleanup_free char *copy = xstrdup(list);
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        str_strip(tok);
        if (*tok == '\0')
            continue;
        if (strcmp(tok, "all") == 0) {
            caps |= GCTK_CAP_ALL;
            continue;
        }
        unsigned found = 0;
        for (size_t i = 0; i < GCTK_ARRAY_LEN(cap_names); i++)
            if (strcmp(tok, cap_names[i].name) == 0)
                found = cap_names[i].cap;
        if (found == 0)
            return gctk_fail(err, 0,
                             "unknown driver capability `%s`: use a comma list of utility, "
                             "compute, video, graphics, display, ngx, compat32, or all",
                             tok);
        caps |= found;
    }
    *out = caps;
    return 0;
}

char *gctk_caps_format(unsigned caps, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < GCTK_ARRAY_LEN(cap_names); i++) {
        if (!(caps & cap_names[i].cap))
            continue;
        int w = snprintf(buf + n, size - n, "%s%s", n ? "," : "", cap_names[i].name);
        if (w < 0 || (size_t)w >= size - n)
            break;
        n += (size_t)w;
    }
    return buf;
}

/* The driver libraries of each capability, as NVIDIA's toolkit injects them
 * (its internal/discover and libnvidia-container's lists). Video and display
 * also need the libraries of the capability they build on: cap_expand() adds
 * those. */
const struct cap_library cap_libraries[] = {
    {"libnvidia-ml.so", GCTK_CAP_UTILITY},
    {"libnvidia-cfg.so", GCTK_CAP_UTILITY},
    {"libnvidia-nscq.so", GCTK_CAP_UTILITY},
    {"libcuda.so", GCTK_CAP_COMPUTE},
    {"libcudadebugger.so", GCTK_CAP_COMPUTE},
    {"libnvidia-opencl.so", GCTK_CAP_COMPUTE},
    {"libnvidia-gpucomp.so", GCTK_CAP_COMPUTE},
    {"libnvidia-ptxjitcompiler.so", GCTK_CAP_COMPUTE},
    {"libnvidia-fatbinaryloader.so", GCTK_CAP_COMPUTE},
    /* GBM's backend too (gbm/nvidia-drm_gbm.so links to it): graphics */
    {"libnvidia-allocator.so", GCTK_CAP_COMPUTE | GCTK_CAP_GRAPHICS},
    {"libnvidia-compiler.so", GCTK_CAP_COMPUTE},
    {"libnvidia-pkcs11.so", GCTK_CAP_COMPUTE},
    {"libnvidia-pkcs11-openssl3.so", GCTK_CAP_COMPUTE},
    {"libnvidia-nvvm.so", GCTK_CAP_COMPUTE},
    {"libnvidia-tileiras.so", GCTK_CAP_COMPUTE},
    {"libvdpau_nvidia.so", GCTK_CAP_VIDEO},
    {"libnvidia-encode.so", GCTK_CAP_VIDEO},
    {"libnvidia-opticalflow.so", GCTK_CAP_VIDEO},
    {"libnvcuvid.so", GCTK_CAP_VIDEO},
    {"libnvidia-eglcore.so", GCTK_CAP_GRAPHICS},
    {"libnvidia-glcore.so", GCTK_CAP_GRAPHICS},
    {"libnvidia-tls.so", GCTK_CAP_GRAPHICS},
    {"libnvidia-glsi.so", GCTK_CAP_GRAPHICS},
    {"libnvidia-fbc.so", GCTK_CAP_GRAPHICS},
    {"libnvidia-ifr.so", GCTK_CAP_GRAPHICS},
    {"libnvidia-rtcore.so", GCTK_CAP_GRAPHICS},
    {"libnvoptix.so", GCTK_CAP_GRAPHICS},
    {"libGLX_nvidia.so", GCTK_CAP_GRAPHICS},
    {"libEGL_nvidia.so", GCTK_CAP_GRAPHICS},
    {"libGLESv2_nvidia.so", GCTK_CAP_GRAPHICS},
    {"libGLESv1_CM_nvidia.so", GCTK_CAP_GRAPHICS},
    {"libnvidia-glvkspirv.so", GCTK_CAP_GRAPHICS},
    {"libnvidia-cbl.so", GCTK_CAP_GRAPHICS},
    {"libnvidia-vulkan-producer.so", GCTK_CAP_GRAPHICS},
    /* the EGL external platforms (Wayland, GBM, X11 through XCB and Xlib):
     * libraries of their own version, each named by a platform file of
     * egl_external_platform.d (cap_configs) */
    {"libnvidia-egl-wayland.so", GCTK_CAP_GRAPHICS},
    {"libnvidia-egl-gbm.so", GCTK_CAP_GRAPHICS},
    {"libnvidia-egl-xcb.so", GCTK_CAP_GRAPHICS},
    {"libnvidia-egl-xlib.so", GCTK_CAP_GRAPHICS},
    {"libnvidia-ngx.so", GCTK_CAP_NGX},
    {NULL, 0},
};

const struct cap_binary cap_binaries[] = {
    {"nvidia-smi", GCTK_CAP_UTILITY},
    {"nvidia-debugdump", GCTK_CAP_UTILITY},
    {"nvidia-persistenced", GCTK_CAP_UTILITY},
    {"nv-fabricmanager", GCTK_CAP_UTILITY},
    {"nvidia-cuda-mps-control", GCTK_CAP_COMPUTE},
    {"nvidia-cuda-mps-server", GCTK_CAP_COMPUTE},
    /* the IMEX daemon and its control tool (NVIDIA's specs carry them) */
    {"nvidia-imex", GCTK_CAP_UTILITY},
    {"nvidia-imex-ctl", GCTK_CAP_UTILITY},
    {NULL, 0},
};

/* Configuration and data files of the driver, each at its own path in the
 * container: those of NVIDIA's toolkit 1.18 (its graphics mounts), at the
 * two places a driver install puts them. */
const struct cap_binary cap_configs[] = {
    {"/usr/share/glvnd/egl_vendor.d/10_nvidia.json", GCTK_CAP_GRAPHICS},
    {"/etc/glvnd/egl_vendor.d/10_nvidia.json", GCTK_CAP_GRAPHICS},
    {"/usr/share/egl/egl_external_platform.d/10_nvidia_wayland.json", GCTK_CAP_GRAPHICS},
    {"/etc/egl/egl_external_platform.d/10_nvidia_wayland.json", GCTK_CAP_GRAPHICS},
    {"/usr/share/egl/egl_external_platform.d/15_nvidia_gbm.json", GCTK_CAP_GRAPHICS},
    {"/etc/egl/egl_external_platform.d/15_nvidia_gbm.json", GCTK_CAP_GRAPHICS},
    {"/usr/share/egl/egl_external_platform.d/20_nvidia_xcb.json", GCTK_CAP_GRAPHICS},
    {"/etc/egl/egl_external_platform.d/20_nvidia_xcb.json", GCTK_CAP_GRAPHICS},
    {"/usr/share/egl/egl_external_platform.d/20_nvidia_xlib.json", GCTK_CAP_GRAPHICS},
    {"/etc/egl/egl_external_platform.d/20_nvidia_xlib.json", GCTK_CAP_GRAPHICS},
    {"/usr/share/vulkan/icd.d/nvidia_icd.json", GCTK_CAP_GRAPHICS},
    {"/etc/vulkan/icd.d/nvidia_icd.json", GCTK_CAP_GRAPHICS},
    {"/usr/share/vulkan/icd.d/nvidia_layers.json", GCTK_CAP_GRAPHICS},
    {"/etc/vulkan/icd.d/nvidia_layers.json", GCTK_CAP_GRAPHICS},
    {"/usr/share/vulkan/implicit_layer.d/nvidia_layers.json", GCTK_CAP_GRAPHICS},
    {"/etc/vulkan/implicit_layer.d/nvidia_layers.json", GCTK_CAP_GRAPHICS},
    {"/usr/share/nvidia/nvoptix.bin", GCTK_CAP_GRAPHICS},
    {"/usr/share/X11/xorg.conf.d/10-nvidia.conf", GCTK_CAP_GRAPHICS},
    {"/etc/X11/xorg.conf.d/10-nvidia.conf", GCTK_CAP_GRAPHICS},
    {"/usr/share/X11/xorg.conf.d/nvidia-drm-outputclass.conf", GCTK_CAP_GRAPHICS},
    {"/etc/X11/xorg.conf.d/nvidia-drm-outputclass.conf", GCTK_CAP_GRAPHICS},
    {"/etc/OpenCL/vendors/nvidia.icd", GCTK_CAP_COMPUTE},
    {NULL, 0},
};

const struct cap_binary cap_sockets[] = {
    {"/var/run/nvidia-persistenced/socket", GCTK_CAP_UTILITY},
    {"/run/nvidia-persistenced/socket", GCTK_CAP_UTILITY},
    {"/var/run/nvidia-fabricmanager/socket", GCTK_CAP_UTILITY},
    {"/run/nvidia-fabricmanager/socket", GCTK_CAP_UTILITY},
    {NULL, 0},
};

unsigned cap_expand(unsigned caps)
{
    if (caps & GCTK_CAP_VIDEO)
        caps |= GCTK_CAP_COMPUTE;
    if (caps & GCTK_CAP_DISPLAY)
        caps |= GCTK_CAP_GRAPHICS;
    return caps;
}

const struct cap_library *cap_library_of(const char *soname_or_file)
{
    for (const struct cap_library *l = cap_libraries; l->prefix != NULL; l++) {
        size_t n = strlen(l->prefix);
        if (strncmp(soname_or_file, l->prefix, n) == 0 &&
            (soname_or_file[n] == '.' || soname_or_file[n] == '\0'))
            return l;
    }
    return NULL;
}

bool cap_library_own_version(const struct cap_library *l)
{
    /* the EGL platform libraries: NVIDIA's open-source projects, released on their own */
    static const char *const own[] = {"libnvidia-egl-wayland.so", "libnvidia-egl-gbm.so",
                                      "libnvidia-egl-xcb.so", "libnvidia-egl-xlib.so"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(own); i++)
        if (strcmp(l->prefix, own[i]) == 0)
            return true;
    return false;
}

unsigned cap_library_caps(const char *soname_or_file)
{
    const struct cap_library *l = cap_library_of(soname_or_file);
    return l != NULL ? l->caps : 0;
}
