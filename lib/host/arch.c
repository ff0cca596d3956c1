/* The architectures of driver installs (arch.h): one table, read by
 * discovery, the container layout, the CDI hooks and the simulator. */
#include <elf.h>
#include <stdio.h>
#include <string.h>

#include "arch.h"

static const char *const x86_64_dirs[] = {
    "/usr/lib/x86_64-linux-gnu",
    "/lib/x86_64-linux-gnu",
    "/usr/lib64",
    "/lib64",
    "/usr/lib",
    "/lib",
    "/usr/local/nvidia/lib64",
    "/usr/local/nvidia/lib",
    NULL,
};
static const char *const i386_dirs[] = {
    "/usr/lib/i386-linux-gnu",
    "/lib/i386-linux-gnu",
    "/usr/lib32",
    "/lib32",
    "/usr/local/nvidia/lib",
    NULL,
};
/* Debian and Ubuntu (aarch64-linux-gnu), RHEL, SLES and NVIDIA's own
 * images (lib64): the places GH200 and GB200 nodes keep the driver */
static const char *const aarch64_dirs[] = {
    "/usr/lib/aarch64-linux-gnu",
    "/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/lib64",
    "/usr/lib",
    "/lib",
    "/usr/local/nvidia/lib64",
    NULL,
};
static const char *const no_dirs[] = {NULL};

static const struct host_arch arches[] = {
    {
        .name = "x86_64",
        .deb = "amd64",
        .machine = EM_X86_64,
        .libdir = "/usr/lib/x86_64-linux-gnu",
        .ldcache_flags = LDCACHE_FLAG_X86_64,
        .machine32 = EM_386,
        .libdir32 = "/usr/lib/i386-linux-gnu",
        .ldcache_flags32 = LDCACHE_FLAG_I386,
        .lib_dirs = x86_64_dirs,
        .lib32_dirs = i386_dirs,
    },
    {
        .name = "aarch64",
        .deb = "arm64",
        .machine = EM_AARCH64,
        .libdir = "/usr/lib/aarch64-linux-gnu",
        .ldcache_flags = LDCACHE_FLAG_AARCH64,
        /* NVIDIA ships no 32-bit Arm driver for servers: no compat32 */
        .machine32 = 0,
        .libdir32 = NULL,
        .ldcache_flags32 = 0,
        .lib_dirs = aarch64_dirs,
        .lib32_dirs = no_dirs,
    },
};

const struct host_arch *host_arch_native(void)
{
#if defined(__x86_64__)
    return &arches[0];
#elif defined(__aarch64__)
    return &arches[1];
#else
#error "gctk knows the driver installs of x86_64 and aarch64 hosts only (lib/host/arch.c)"
#endif
}

const struct host_arch *host_arch_by_name(const char *name)
{
    for (size_t i = 0; name != NULL && i < GCTK_ARRAY_LEN(arches); i++)
        if (strcmp(name, arches[i].name) == 0 || strcmp(name, arches[i].deb) == 0)
            return &arches[i];
    return NULL;
}

const struct host_arch *host_arch_at(size_t i)
{
    return i < GCTK_ARRAY_LEN(arches) ? &arches[i] : NULL;
}

const char *host_arch_names(void)
{
    return "x86_64, aarch64";
}

const struct host_arch *host_arch_of_driver(const char *text)
{
    /* the words of the NVRM line before its version ("NVIDIA UNIX x86_64
     * Kernel Module  580.95.05 ...", "NVIDIA UNIX Open Kernel Module for
     * aarch64  580.95.05  Release Build ..."): the build host's name, never
     * anything after the version (the builder's, the date) */
    const char *line = text != NULL ? strstr(text, "NVRM version:") : NULL;
    if (line == NULL)
        return NULL;
    const char *p = line + strlen("NVRM version:");
    while (*p != '\0' && *p != '\n') {
        p += strspn(p, " \t");
        size_t n = strcspn(p, " \t\n");
        if (n > 0 && *p >= '0' && *p <= '9')
            return NULL;
        for (size_t i = 0; i < GCTK_ARRAY_LEN(arches); i++)
            if (strlen(arches[i].name) == n && strncmp(p, arches[i].name, n) == 0)
                return &arches[i];
        p += n;
    }
    return NULL;
}

enum host_arch_fit host_arch_fit(const struct host_arch *a, const struct elf_info *info)
{
    if (info->elf_class == ELFCLASS64 && (unsigned)info->machine == a->machine)
        return HOST_ARCH_OWN;
    if (a->machine32 != 0 && info->elf_class == ELFCLASS32 &&
        (unsigned)info->machine == a->machine32)
        return HOST_ARCH_OWN32;
    return HOST_ARCH_FOREIGN;
}

uint32_t host_arch_ldcache_flags(const struct elf_info *info)
{
    for (size_t i = 0; i < GCTK_ARRAY_LEN(arches); i++) {
        switch (host_arch_fit(&arches[i], info)) {
        case HOST_ARCH_OWN:
            return arches[i].ldcache_flags;
        case HOST_ARCH_OWN32:
            return arches[i].ldcache_flags32;
        case HOST_ARCH_FOREIGN:
            break;
        }
    }
    return 0;
}

const char *host_arch_describe(const struct elf_info *info, char *buf, size_t size)
{
    static const struct {
        int elf_class;
        unsigned machine;
        const char *name;
    } names[] = {
        {ELFCLASS64, EM_X86_64, "x86-64"}, {ELFCLASS64, EM_AARCH64, "aarch64"},
        {ELFCLASS32, EM_386, "i386"},      {ELFCLASS32, EM_ARM, "32-bit arm"},
        {ELFCLASS64, EM_PPC64, "ppc64"},
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(names); i++)
        if (info->elf_class == names[i].elf_class && (unsigned)info->machine == names[i].machine) {
            snprintf(buf, size, "%s", names[i].name);
            return buf;
        }
    snprintf(buf, size, "ELF machine %d (%d-bit)", info->machine,
             info->elf_class == ELFCLASS64 ? 64 : 32);
    return buf;
}
