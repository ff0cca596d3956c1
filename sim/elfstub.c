/* Stub driver libraries: the smallest ELF shared objects that the dynamic
 * loader accepts, that ldconfig indexes by their SONAME, and that readelf
 * shows as libraries. The simulated host holds one for every driver library
 * that has no mock, so discovery, ld.so.cache and dlopen meet real files.
 *
 * One read-write PT_LOAD maps the whole file at address 0 (the addresses in
 * the dynamic section are file offsets); the symbol table holds only the null
 * symbol, which DT_HASH must still describe for dlopen. */
#include <linux/elf.h> /* the kernel's ELF types, all this writer needs */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "arch.h"
#include "sim.h"

static const char shstrtab[] = "\0.hash\0.dynsym\0.dynstr\0.dynamic\0.shstrtab";
enum { SH_HASH = 1, SH_DYNSYM = 7, SH_DYNSTR = 15, SH_DYNAMIC = 23, SH_SHSTRTAB = 32 };
enum { NDYN = 7, NSECT = 6 };

struct layout {
    size_t hash, dynsym, dynstr, dynstr_len, dynamic, load_end, shstrtab, shdrs, total;
};

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

static struct layout plan(bool is32, size_t soname_len)
{
    size_t ehdr = is32 ? sizeof(Elf32_Ehdr) : sizeof(Elf64_Ehdr);
    size_t phdr = is32 ? sizeof(Elf32_Phdr) : sizeof(Elf64_Phdr);
    size_t sym = is32 ? sizeof(Elf32_Sym) : sizeof(Elf64_Sym);
    size_t dyn = is32 ? sizeof(Elf32_Dyn) : sizeof(Elf64_Dyn);
    size_t shdr = is32 ? sizeof(Elf32_Shdr) : sizeof(Elf64_Shdr);
    struct layout l;
    l.hash = align8(ehdr + 3 * phdr);
    l.dynsym = align8(l.hash + 4 * sizeof(Elf32_Word)); /* nbucket, nchain, bucket, chain */
    l.dynstr = l.dynsym + sym;
    l.dynstr_len = soname_len + 2; /* leading and trailing NUL */
    l.dynamic = align8(l.dynstr + l.dynstr_len);
    l.load_end = l.dynamic + NDYN * dyn;
    l.shstrtab = l.load_end;
    l.shdrs = align8(l.shstrtab + sizeof(shstrtab));
    l.total = l.shdrs + NSECT * shdr;
    return l;
}

/* Fills the class-specific headers; ElfN is Elf32 or Elf64. A macro because
 * the two classes differ only in the widths and order of their fields. */
#define FILL_HEADERS(ElfN, buf, l, machine, elf_class)                                             \
    do {                                                                                           \
        ElfN##_Ehdr *eh = (ElfN##_Ehdr *)(buf);                                                    \
        memcpy(eh->e_ident, ELFMAG, SELFMAG);                                                      \
        eh->e_ident[EI_CLASS] = (elf_class);                                                       \
        eh->e_ident[EI_DATA] = ELFDATA2LSB;                                                        \
        eh->e_ident[EI_VERSION] = EV_CURRENT;                                                      \
        eh->e_ident[EI_OSABI] = ELFOSABI_NONE;                                                     \
        eh->e_type = ET_DYN;                                                                       \
        eh->e_machine = (machine);                                                                 \
        eh->e_version = EV_CURRENT;                                                                \
        eh->e_phoff = sizeof(ElfN##_Ehdr);                                                         \
        eh->e_shoff = (l).shdrs;                                                                   \
        eh->e_ehsize = sizeof(ElfN##_Ehdr);                                                        \
        eh->e_phentsize = sizeof(ElfN##_Phdr);                                                     \
        eh->e_phnum = 3;                                                                           \
        eh->e_shentsize = sizeof(ElfN##_Shdr);                                                     \
        eh->e_shnum = NSECT;                                                                       \
        eh->e_shstrndx = NSECT - 1;                                                                \
        ElfN##_Phdr *ph = (ElfN##_Phdr *)((buf) + sizeof(ElfN##_Ehdr));                            \
        ph[0] = (ElfN##_Phdr){.p_type = PT_LOAD,                                                   \
                              .p_flags = PF_R | PF_W,                                              \
                              .p_offset = 0,                                                       \
                              .p_vaddr = 0,                                                        \
                              .p_paddr = 0,                                                        \
                              .p_filesz = (l).load_end,                                            \
                              .p_memsz = (l).load_end,                                             \
                              .p_align = 0x1000};                                                  \
        ph[1] = (ElfN##_Phdr){.p_type = PT_DYNAMIC,                                                \
                              .p_flags = PF_R | PF_W,                                              \
                              .p_offset = (l).dynamic,                                             \
                              .p_vaddr = (l).dynamic,                                              \
                              .p_paddr = (l).dynamic,                                              \
                              .p_filesz = NDYN * sizeof(ElfN##_Dyn),                               \
                              .p_memsz = NDYN * sizeof(ElfN##_Dyn),                                \
                              .p_align = 8};                                                       \
        /* without PT_GNU_STACK the loader would make the stack executable */                      \
        ph[2] = (ElfN##_Phdr){.p_type = PT_GNU_STACK, .p_flags = PF_R | PF_W, .p_align = 16};      \
        ElfN##_Dyn *dyn = (ElfN##_Dyn *)((buf) + (l).dynamic);                                     \
        dyn[0] = (ElfN##_Dyn){.d_tag = DT_SONAME, .d_un.d_val = 1};                                \
        dyn[1] = (ElfN##_Dyn){.d_tag = DT_HASH, .d_un.d_ptr = (l).hash};                           \
        dyn[2] = (ElfN##_Dyn){.d_tag = DT_STRTAB, .d_un.d_ptr = (l).dynstr};                       \
        dyn[3] = (ElfN##_Dyn){.d_tag = DT_SYMTAB, .d_un.d_ptr = (l).dynsym};                       \
        dyn[4] = (ElfN##_Dyn){.d_tag = DT_STRSZ, .d_un.d_val = (l).dynstr_len};                    \
        dyn[5] = (ElfN##_Dyn){.d_tag = DT_SYMENT, .d_un.d_val = sizeof(ElfN##_Sym)};               \
        dyn[6] = (ElfN##_Dyn){.d_tag = DT_NULL};                                                   \
        ElfN##_Shdr *sh = (ElfN##_Shdr *)((buf) + (l).shdrs);                                      \
        sh[1] = (ElfN##_Shdr){.sh_name = SH_HASH,                                                  \
                              .sh_type = SHT_HASH,                                                 \
                              .sh_flags = SHF_ALLOC,                                               \
                              .sh_addr = (l).hash,                                                 \
                              .sh_offset = (l).hash,                                               \
                              .sh_size = 4 * sizeof(Elf32_Word),                                   \
                              .sh_link = 2,                                                        \
                              .sh_addralign = 4,                                                   \
                              .sh_entsize = sizeof(Elf32_Word)};                                   \
        sh[2] = (ElfN##_Shdr){.sh_name = SH_DYNSYM,                                                \
                              .sh_type = SHT_DYNSYM,                                               \
                              .sh_flags = SHF_ALLOC,                                               \
                              .sh_addr = (l).dynsym,                                               \
                              .sh_offset = (l).dynsym,                                             \
                              .sh_size = sizeof(ElfN##_Sym),                                       \
                              .sh_link = 3,                                                        \
                              .sh_info = 1,                                                        \
                              .sh_addralign = 8,                                                   \
                              .sh_entsize = sizeof(ElfN##_Sym)};                                   \
        sh[3] = (ElfN##_Shdr){.sh_name = SH_DYNSTR,                                                \
                              .sh_type = SHT_STRTAB,                                               \
                              .sh_flags = SHF_ALLOC,                                               \
                              .sh_addr = (l).dynstr,                                               \
                              .sh_offset = (l).dynstr,                                             \
                              .sh_size = (l).dynstr_len,                                           \
                              .sh_addralign = 1};                                                  \
        sh[4] = (ElfN##_Shdr){.sh_name = SH_DYNAMIC,                                               \
                              .sh_type = SHT_DYNAMIC,                                              \
                              .sh_flags = SHF_ALLOC | SHF_WRITE,                                   \
                              .sh_addr = (l).dynamic,                                              \
                              .sh_offset = (l).dynamic,                                            \
                              .sh_size = NDYN * sizeof(ElfN##_Dyn),                                \
                              .sh_link = 3,                                                        \
                              .sh_addralign = 8,                                                   \
                              .sh_entsize = sizeof(ElfN##_Dyn)};                                   \
        sh[5] = (ElfN##_Shdr){.sh_name = SH_SHSTRTAB,                                              \
                              .sh_type = SHT_STRTAB,                                               \
                              .sh_offset = (l).shstrtab,                                           \
                              .sh_size = sizeof(shstrtab),                                         \
                              .sh_addralign = 1};                                                  \
    } while (0)

int elfstub_write(const char *path, const char *soname, const char *arch_name, bool is32,
                  gctk_error **err)
{
    const struct host_arch *arch =
        arch_name != NULL ? host_arch_by_name(arch_name) : host_arch_native();
    if (arch == NULL)
        return gctk_fail(err, 0, "unknown architecture `%s`: gctk knows %s", arch_name,
                         host_arch_names());
    if (is32 && arch->machine32 == 0)
        return gctk_fail(err, 0, "%s has no 32-bit libraries", arch->name);
    size_t soname_len = strlen(soname);
    struct layout l = plan(is32, soname_len);
    cleanup_free unsigned char *buf = xcalloc(1, l.total);

    if (is32)
        FILL_HEADERS(Elf32, buf, l, arch->machine32, ELFCLASS32);
    else
        FILL_HEADERS(Elf64, buf, l, arch->machine, ELFCLASS64);
    /* one bucket, one chain entry: the null symbol, which ends every chain */
    Elf32_Word hash[4] = {1, 1, 0, 0};
    memcpy(buf + l.hash, hash, sizeof(hash));
    memcpy(buf + l.dynstr + 1, soname, soname_len);
    memcpy(buf + l.shstrtab, shstrtab, sizeof(shstrtab));

    cleanup_fd int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0755);
    if (fd < 0)
        return gctk_fail(err, errno, "create `%s`", path);
    if (write_all(fd, buf, l.total) < 0)
        return gctk_fail(err, errno, "write `%s`", path);
    /* the umask may have taken bits away: libraries are 0755 in a driver install */
    if (fchmod(fd, 0755) < 0)
        return gctk_fail(err, errno, "chmod `%s`", path);
    return 0;
}
