/* What each driver capability of NVIDIA_DRIVER_CAPABILITIES brings, as
 * NVIDIA's toolkit injects it: libraries by name prefix, binaries,
 * configuration files and sockets (utility, compute, video, graphics,
 * display, ngx, compat32; docs/design.md). */
#ifndef GCTK_CAPS_H
#define GCTK_CAPS_H

#include "util.h"

struct cap_library {
    const char *prefix; /* "libcuda.so" */
    unsigned caps;
};
struct cap_binary {
    const char *name; /* a binary's name, or an absolute path for configs and sockets */
    unsigned caps;
};

extern const struct cap_library cap_libraries[]; /* ends with {NULL, 0} */
extern const struct cap_binary cap_binaries[];
extern const struct cap_binary cap_configs[];
extern const struct cap_binary cap_sockets[];

/* The capabilities whose files a library belongs to, from its file name or
 * SONAME ("libcuda.so.1" -> compute); 0 when it is not a driver library. */
unsigned cap_library_caps(const char *name);
/* The entry of cap_libraries a file name or SONAME belongs to; NULL when none. */
const struct cap_library *cap_library_of(const char *name);
/* Whether the library is versioned on its own ("libnvidia-egl-wayland.so.1.1.13"),
 * not with the driver's version: it is taken at the version its SONAME link
 * names on the host. */
bool cap_library_own_version(const struct cap_library *l);
/* Adds the capabilities a requested one builds on (video: compute, display: graphics). */
unsigned cap_expand(unsigned caps);

#endif
