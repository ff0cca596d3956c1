/* libFuzzer target of the ELF reader: any file is inspected or refused
 * cleanly. The input goes through a memfd because the reader works on fds. */
#include <stdint.h>
#include <sys/mman.h>

#include "elfinfo.h"
#include "bounds.h"

static int fuzz_one(const uint8_t *data, size_t size)
{
    static int fd = -1;
    if (fd < 0 && (fd = memfd_create("fuzz-elf", MFD_CLOEXEC)) < 0)
        abort();
    if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    struct elf_info info = {0};
    if (elf_inspect_fd(fd, &info, NULL) == 0) {
        if (info.elf_class != 1 && info.elf_class != 2)
            abort();
        elf_info_clear(&info);
    }
    return 0;
}

FUZZ_BOUNDED(fuzz_one)
