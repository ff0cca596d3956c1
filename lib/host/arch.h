/* The architectures gctk knows a driver install of (x86-64, aarch64): what
 * makes a driver file the host's own (its ELF machine and class), where the
 * libraries of a host and of an image live, and the flags glibc's ldconfig
 * gives them in ld.so.cache.
 *
 * gctk serves the machine it runs on, so a host is of the architecture gctk
 * was built for (host_arch_native). The driver says which one it was built
 * for on its `NVRM version:` line ("NVIDIA UNIX aarch64 Kernel Module ...",
 * "... Open Kernel Module for x86_64 ..."); a driver root that names another
 * one (a simulated aarch64 host under an x86-64 gctk) is read as that one's,
 * and its libraries are never loaded into gctk itself. */
#ifndef GCTK_ARCH_H
#define GCTK_ARCH_H

#include <stdint.h>

#include "elfinfo.h"
#include "ldcache.h"

struct host_arch {
    const char *name;       /* "x86_64", "aarch64": `uname -m`, the driver's word, --arch */
    const char *deb;        /* Debian's name: "amd64", "arm64" */
    unsigned machine;       /* e_machine of its (64-bit) files: EM_X86_64, EM_AARCH64 */
    const char *libdir;     /* Debian's multiarch directory: "/usr/lib/x86_64-linux-gnu" */
    uint32_t ldcache_flags; /* LDCACHE_FLAG_X86_64, LDCACHE_FLAG_AARCH64 */
    /* compat32: the 32-bit libraries NVIDIA ships beside the 64-bit ones
     * (i386 on x86-64). machine32 0: none, as on aarch64, for which NVIDIA
     * ships no 32-bit driver: compat32 then brings nothing. */
    unsigned machine32;
    const char *libdir32; /* "/usr/lib/i386-linux-gnu" */
    uint32_t ldcache_flags32;
    /* where discovery looks for libraries when the host has no usable
     * ld.so.cache, in order (NULL-terminated) */
    const char *const *lib_dirs;
    const char *const *lib32_dirs;
};

/* The architecture this gctk was built for. */
const struct host_arch *host_arch_native(void);
/* By name: "x86_64" or "amd64", "aarch64" or "arm64"; NULL when unknown. */
const struct host_arch *host_arch_by_name(const char *name);
/* The i-th architecture gctk knows; NULL past the last. */
const struct host_arch *host_arch_at(size_t i);
/* The names gctk knows, for messages: "x86_64, aarch64". */
const char *host_arch_names(void);
/* The architecture the `NVRM version:` line of /proc/driver/nvidia/version
 * names; NULL when it names none gctk knows. */
const struct host_arch *host_arch_of_driver(const char *version_text);

/* What a library or program is to a host of arch a. */
enum host_arch_fit {
    HOST_ARCH_OWN,     /* a's 64-bit file */
    HOST_ARCH_OWN32,   /* a's 32-bit companion (compat32) */
    HOST_ARCH_FOREIGN, /* of another machine or class: never the driver's */
};
enum host_arch_fit host_arch_fit(const struct host_arch *a, const struct elf_info *info);
/* The ld.so.cache flags of a library, from its ELF machine and class,
 * whatever the host; 0 when no architecture gctk knows has it. */
uint32_t host_arch_ldcache_flags(const struct elf_info *info);
/* A file's architecture as a message names it: "x86-64", "aarch64", "i386",
 * "32-bit arm", or "ELF machine 21 (64-bit)"; written to buf. */
const char *host_arch_describe(const struct elf_info *info, char *buf, size_t size);

#endif
