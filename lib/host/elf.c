/* Just enough ELF to tell a driver library's class, machine and SONAME.
 *
 * The file is untrusted (it may come from an image), so nothing is mapped:
 * each piece is read with pread after its offset and size have been checked
 * against the file's size, and every count is capped. The headers of both
 * classes are decoded into one 64-bit form. */
#include <fcntl.h>
#include <linux/elf.h> /* not <elf.h>: -Ilib makes that name this module's header */
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "elfinfo.h"

/* The structs of <elf.h> are read as the host lays them out; only
 * little-endian files are accepted, so the host must be little-endian too
 * (x86-64, aarch64, ppc64le: every platform NVIDIA ships drivers for). */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "elf.c reads little-endian structs");

#define MAX_PHNUM 4096u        /* real libraries have about ten */
#define MAX_DYNAMIC (1u << 20) /* bytes of the dynamic section read */
#define MAX_SONAME 4096u

struct phdr {
    uint32_t type;
    uint64_t offset, vaddr, filesz;
};

/* Whether n bytes at off lie in a file of size bytes; else *err. Checked
 * before anything is allocated for them: a header's claims cost nothing
 * until the file holds what they claim. */
static int check_in_file(uint64_t size, uint64_t off, size_t n, const char *what, gctk_error **err)
{
    if (off > size || n > size - off)
        return gctk_fail(err, 0, "truncated: %s at offset %llu (%zu bytes) ends past %llu", what,
                         (unsigned long long)off, n, (unsigned long long)size);
    return 0;
}

/* Reads exactly n bytes at off; a file shorter than that is truncated. */
static int read_at(int fd, uint64_t size, uint64_t off, void *buf, size_t n, const char *what,
                   gctk_error **err)
{
    if (check_in_file(size, off, n, what, err) < 0)
        return -1;
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, (char *)buf + done, n - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return gctk_fail(err, errno, "read %s", what);
        if (r == 0)
            return gctk_fail(err, 0, "truncated: %s", what);
        done += (size_t)r;
    }
    return 0;
}

/* Reads program header i into the common form. */
static void decode_phdr(int elf_class, const unsigned char *raw, struct phdr *out)
{
    if (elf_class == ELFCLASS64) {
        Elf64_Phdr p;
        memcpy(&p, raw, sizeof(p));
        *out = (struct phdr){p.p_type, p.p_offset, p.p_vaddr, p.p_filesz};
    } else {
        Elf32_Phdr p;
        memcpy(&p, raw, sizeof(p));
        *out = (struct phdr){p.p_type, p.p_offset, p.p_vaddr, p.p_filesz};
    }
}

/* Maps a virtual address to a file offset through the PT_LOAD segments;
 * only bytes backed by the file count. */
static bool vaddr_to_offset(const struct phdr *ph, size_t n, uint64_t addr, uint64_t *off)
{
    for (size_t i = 0; i < n; i++) {
        if (ph[i].type != PT_LOAD || addr < ph[i].vaddr || addr - ph[i].vaddr >= ph[i].filesz)
            continue;
        uint64_t delta = addr - ph[i].vaddr;
        if (ph[i].offset > UINT64_MAX - delta)
            return false;
        *off = ph[i].offset + delta;
        return true;
    }
    return false;
}

/* Finds DT_SONAME through PT_DYNAMIC; *soname stays NULL when there is none. */
static int read_soname(int fd, uint64_t size, int elf_class, const struct phdr *ph, size_t n,
                       char **soname, gctk_error **err)
{
    const struct phdr *dyn = NULL;
    for (size_t i = 0; i < n && dyn == NULL; i++)
        if (ph[i].type == PT_DYNAMIC)
            dyn = &ph[i];
    if (dyn == NULL)
        return 0; /* a static executable */
    if (dyn->filesz > MAX_DYNAMIC)
        return gctk_fail(err, 0, "dynamic section of %llu bytes is too large",
                         (unsigned long long)dyn->filesz);

    size_t dsize = (size_t)dyn->filesz;
    if (check_in_file(size, dyn->offset, dsize, "dynamic section", err) < 0)
        return -1;
    cleanup_free unsigned char *raw = xmalloc(dsize);
    if (read_at(fd, size, dyn->offset, raw, dsize, "dynamic section", err) < 0)
        return -1;
    size_t entsize = elf_class == ELFCLASS64 ? sizeof(Elf64_Dyn) : sizeof(Elf32_Dyn);
    uint64_t strtab = 0, strsz = 0, name = 0;
    bool have_strtab = false, have_strsz = false, have_name = false;
    for (size_t at = 0; at + entsize <= dsize; at += entsize) {
        int64_t tag;
        uint64_t val;
        if (elf_class == ELFCLASS64) {
            Elf64_Dyn d;
            memcpy(&d, raw + at, sizeof(d));
            tag = d.d_tag, val = d.d_un.d_val;
        } else {
            Elf32_Dyn d;
            memcpy(&d, raw + at, sizeof(d));
            tag = d.d_tag, val = (uint32_t)d.d_un.d_val; /* signed in the uapi header */
        }
        if (tag == DT_NULL)
            break;
        if (tag == DT_STRTAB)
            strtab = val, have_strtab = true;
        else if (tag == DT_STRSZ)
            strsz = val, have_strsz = true;
        else if (tag == DT_SONAME)
            name = val, have_name = true;
    }
    if (!have_name)
        return 0;
    if (!have_strtab)
        return gctk_fail(err, 0, "DT_SONAME without DT_STRTAB");
    if (have_strsz && name >= strsz)
        return gctk_fail(err, 0, "DT_SONAME offset %llu is past DT_STRSZ %llu",
                         (unsigned long long)name, (unsigned long long)strsz);
    uint64_t stroff;
    if (!vaddr_to_offset(ph, n, strtab, &stroff))
        return gctk_fail(err, 0, "DT_STRTAB address 0x%llx is in no loaded segment",
                         (unsigned long long)strtab);
    if (stroff > size || name >= size - stroff)
        return gctk_fail(err, 0, "truncated: DT_SONAME string past the end of the file");

    /* The name ends at its NUL, before the end of the string table (when
     * its size is known), of the file, and of MAX_SONAME. */
    uint64_t off = stroff + name, limit = size - off;
    if (have_strsz && strsz - name < limit)
        limit = strsz - name;
    size_t want = limit < MAX_SONAME ? (size_t)limit : MAX_SONAME;
    cleanup_free char *buf = xmalloc(want + 1);
    if (read_at(fd, size, off, buf, want, "DT_SONAME string", err) < 0)
        return -1;
    if (memchr(buf, '\0', want) == NULL)
        return gctk_fail(err, 0, "DT_SONAME string is not NUL-terminated");
    *soname = steal_pointer(&buf);
    return 0;
}

int elf_inspect_fd(int fd, struct elf_info *out, gctk_error **err)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return gctk_fail(err, errno, "stat");
    if (!S_ISREG(st.st_mode))
        return gctk_fail(err, 0, "not a regular file");
    uint64_t size = (uint64_t)st.st_size;

    unsigned char ident[EI_NIDENT];
    if (size < EI_NIDENT || read_at(fd, size, 0, ident, EI_NIDENT, "ELF header", err) < 0 ||
        memcmp(ident, ELFMAG, SELFMAG) != 0)
        return gctk_fail(err, 0, "not an ELF file");
    int elf_class = ident[EI_CLASS];
    if (elf_class != ELFCLASS32 && elf_class != ELFCLASS64)
        return gctk_fail(err, 0, "unknown ELF class %d", elf_class);
    if (ident[EI_DATA] != ELFDATA2LSB)
        return gctk_fail(err, 0, "not a little-endian ELF file (data %d)", ident[EI_DATA]);

    uint64_t phoff;
    unsigned phentsize, phnum, machine;
    size_t want_phent;
    if (elf_class == ELFCLASS64) {
        Elf64_Ehdr h;
        if (read_at(fd, size, 0, &h, sizeof(h), "ELF header", err) < 0)
            return -1;
        phoff = h.e_phoff, phentsize = h.e_phentsize, phnum = h.e_phnum;
        machine = h.e_machine;
        want_phent = sizeof(Elf64_Phdr);
    } else {
        Elf32_Ehdr h;
        if (read_at(fd, size, 0, &h, sizeof(h), "ELF header", err) < 0)
            return -1;
        phoff = h.e_phoff, phentsize = h.e_phentsize, phnum = h.e_phnum;
        machine = h.e_machine;
        want_phent = sizeof(Elf32_Phdr);
    }

    cleanup_free char *soname = NULL;
    if (phnum > 0) {
        /* PN_XNUM (the real count in section 0) never occurs in libraries */
        if (phnum > MAX_PHNUM)
            return gctk_fail(err, 0, "%u program headers are too many", phnum);
        if (phentsize < want_phent)
            return gctk_fail(err, 0, "program header size %u is smaller than %zu", phentsize,
                             want_phent);
        size_t table = (size_t)phnum * phentsize;
        if (check_in_file(size, phoff, table, "program headers", err) < 0)
            return -1;
        cleanup_free unsigned char *raw = xmalloc(table);
        if (read_at(fd, size, phoff, raw, table, "program headers", err) < 0)
            return -1;
        cleanup_free struct phdr *ph = xcalloc(phnum, sizeof(*ph));
        for (unsigned i = 0; i < phnum; i++)
            decode_phdr(elf_class, raw + (size_t)i * phentsize, &ph[i]);
        if (read_soname(fd, size, elf_class, ph, phnum, &soname, err) < 0)
            return -1;
    }
    *out = (struct elf_info){
        .elf_class = elf_class, .machine = (int)machine, .soname = steal_pointer(&soname)};
    return 0;
}

int elf_inspect(const char *path, struct elf_info *out, gctk_error **err)
{
    cleanup_fd int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return gctk_fail(err, errno, "open `%s`", path);
    if (elf_inspect_fd(fd, out, err) < 0)
        return gctk_wrap(err, "inspect `%s`", path);
    return 0;
}

void elf_info_clear(struct elf_info *info)
{
    if (info == NULL)
        return;
    free(info->soname);
    *info = (struct elf_info){0};
}
