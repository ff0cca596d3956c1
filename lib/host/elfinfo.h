/* Just enough ELF to tell a driver library's class, machine and SONAME. */
#ifndef GCTK_ELFINFO_H
#define GCTK_ELFINFO_H

#include "util.h"

struct elf_info {
    int elf_class; /* ELFCLASS32 or ELFCLASS64 */
    int machine;   /* EM_X86_64, EM_386, ... */
    char *soname;  /* DT_SONAME, or NULL when the file has none */
};

/* Reads the headers of an open file (untrusted: bounds are checked). Only
 * little-endian files are accepted. A malformed file is an error with
 * err->code 0; *out is untouched on failure. */
int elf_inspect_fd(int fd, struct elf_info *out, gctk_error **err);
int elf_inspect(const char *path, struct elf_info *out, gctk_error **err);
void elf_info_clear(struct elf_info *info);

#endif
