/* Unit tests of lib/host/elf.c: real libraries of this machine, and small ELF
 * images built here with one field broken at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/elf.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "elfinfo.h"

/* ---- helpers --------------------------------------------------------------- */

struct tmp {
    char *dir;
};

static int setup_tmp(void **state)
{
    struct tmp *t = xcalloc(1, sizeof(*t));
    t->dir = xstrdup("/tmp/gctk-test-elf-XXXXXX");
    if (mkdtemp(t->dir) == NULL)
        return -1;
    *state = t;
    return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int teardown_tmp(void **state)
{
    struct tmp *t = *state;
    if (t == NULL)
        return 0;
    nftw(t->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    free(t->dir);
    free(t);
    return 0;
}

#define SONAME "libsynth.so.1"
#define BASE 0x10000u

/* A minimal shared object: header, PT_LOAD of the whole file, PT_DYNAMIC,
 * the dynamic entries and the string table, in one struct per class. */
struct img64 {
    Elf64_Ehdr eh;
    Elf64_Phdr ph[2];
    Elf64_Dyn dyn[4];
    char str[16];
};

struct img32 {
    Elf32_Ehdr eh;
    Elf32_Phdr ph[2];
    Elf32_Dyn dyn[4];
    char str[16];
};

static void ident(unsigned char *id, int elf_class)
{
    memcpy(id, ELFMAG, SELFMAG);
    id[EI_CLASS] = (unsigned char)elf_class;
    id[EI_DATA] = ELFDATA2LSB;
    id[EI_VERSION] = EV_CURRENT;
}

static struct img64 make64(void)
{
    struct img64 m;
    memset(&m, 0, sizeof(m));
    ident(m.eh.e_ident, ELFCLASS64);
    m.eh.e_type = ET_DYN;
    m.eh.e_machine = EM_X86_64;
    m.eh.e_version = EV_CURRENT;
    m.eh.e_phoff = offsetof(struct img64, ph);
    m.eh.e_ehsize = sizeof(m.eh);
    m.eh.e_phentsize = sizeof(Elf64_Phdr);
    m.eh.e_phnum = 2;
    m.ph[0] = (Elf64_Phdr){.p_type = PT_LOAD,
                           .p_offset = 0,
                           .p_vaddr = BASE,
                           .p_filesz = sizeof(m),
                           .p_memsz = sizeof(m)};
    m.ph[1] = (Elf64_Phdr){.p_type = PT_DYNAMIC,
                           .p_offset = offsetof(struct img64, dyn),
                           .p_vaddr = BASE + offsetof(struct img64, dyn),
                           .p_filesz = sizeof(m.dyn)};
    m.dyn[0] = (Elf64_Dyn){.d_tag = DT_STRTAB, .d_un.d_val = BASE + offsetof(struct img64, str)};
    m.dyn[1] = (Elf64_Dyn){.d_tag = DT_STRSZ, .d_un.d_val = sizeof(m.str)};
    m.dyn[2] = (Elf64_Dyn){.d_tag = DT_SONAME, .d_un.d_val = 1};
    m.dyn[3] = (Elf64_Dyn){.d_tag = DT_NULL};
    memcpy(m.str + 1, SONAME, sizeof(SONAME));
    return m;
}

static struct img32 make32(void)
{
    struct img32 m;
    memset(&m, 0, sizeof(m));
    ident(m.eh.e_ident, ELFCLASS32);
    m.eh.e_type = ET_DYN;
    m.eh.e_machine = EM_386;
    m.eh.e_version = EV_CURRENT;
    m.eh.e_phoff = offsetof(struct img32, ph);
    m.eh.e_ehsize = sizeof(m.eh);
    m.eh.e_phentsize = sizeof(Elf32_Phdr);
    m.eh.e_phnum = 2;
    m.ph[0] = (Elf32_Phdr){.p_type = PT_LOAD,
                           .p_offset = 0,
                           .p_vaddr = BASE,
                           .p_filesz = sizeof(m),
                           .p_memsz = sizeof(m)};
    m.ph[1] = (Elf32_Phdr){.p_type = PT_DYNAMIC,
                           .p_offset = offsetof(struct img32, dyn),
                           .p_vaddr = BASE + offsetof(struct img32, dyn),
                           .p_filesz = sizeof(m.dyn)};
    m.dyn[0] = (Elf32_Dyn){.d_tag = DT_STRTAB, .d_un.d_val = BASE + offsetof(struct img32, str)};
    m.dyn[1] = (Elf32_Dyn){.d_tag = DT_STRSZ, .d_un.d_val = sizeof(m.str)};
    m.dyn[2] = (Elf32_Dyn){.d_tag = DT_SONAME, .d_un.d_val = 1};
    m.dyn[3] = (Elf32_Dyn){.d_tag = DT_NULL};
    memcpy(m.str + 1, SONAME, sizeof(SONAME));
    return m;
}

/* Inspects len bytes through a memfd. Returns elf_inspect_fd's result; on
 * failure *msg gets the error message. */
static int inspect_bytes(const void *data, size_t len, struct elf_info *out, char **msg)
{
    int fd = memfd_create("gctk-test-elf", MFD_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    gctk_error *err = NULL;
    int r = elf_inspect_fd(fd, out, &err);
    close(fd);
    if (r < 0) {
        assert_non_null(err);
        *msg = xstrdup(err->msg);
        gctk_error_free(err);
    }
    return r;
}

/* Expects the image to be refused with a message containing want, and the
 * output left as it was. */
static void expect_error(const void *data, size_t len, const char *want)
{
    char sentinel[] = "untouched";
    struct elf_info info = {.elf_class = 99, .machine = 99, .soname = sentinel};
    cleanup_free char *msg = NULL;
    assert_int_equal(inspect_bytes(data, len, &info, &msg), -1);
    if (strstr(msg, want) == NULL)
        fail_msg("error `%s` does not mention `%s`", msg, want);
    assert_int_equal(info.elf_class, 99);
    assert_ptr_equal(info.soname, sentinel);
}

/* ---- real files -------------------------------------------------------------- */

static void test_real_libc(void **state)
{
    (void)state;
    struct elf_info info = {0};
    gctk_error *err = NULL;
    if (elf_inspect("/lib/x86_64-linux-gnu/libc.so.6", &info, &err) < 0)
        fail_msg("%s", err->msg);
    assert_int_equal(info.elf_class, ELFCLASS64);
    assert_int_equal(info.machine, EM_X86_64);
    assert_string_equal(info.soname, "libc.so.6");
    elf_info_clear(&info);
    assert_null(info.soname);
    elf_info_clear(NULL);

    /* a symlink to a versioned file: the SONAME is the link's name */
    assert_int_equal(elf_inspect("/lib/x86_64-linux-gnu/libz.so.1", &info, NULL), 0);
    assert_string_equal(info.soname, "libz.so.1");
    elf_info_clear(&info);
}

static void test_real_executable_has_no_soname(void **state)
{
    (void)state;
    struct elf_info info = {0};
    assert_int_equal(elf_inspect("/bin/true", &info, NULL), 0);
    assert_int_equal(info.elf_class, ELFCLASS64);
    assert_int_equal(info.machine, EM_X86_64);
    assert_null(info.soname);
}

static void test_real_i386(void **state)
{
    struct tmp *t = *state;
    const char *lib = "/lib/i386-linux-gnu/libc.so.6";
    cleanup_free char *built = NULL;
    if (access(lib, R_OK) != 0) {
        /* no i386 libc installed: build a 32-bit object if the compiler can */
        built = xasprintf("%s/libgctk32.so.1", t->dir);
        cleanup_free char *cmd = xasprintf(
            "cd %s && echo 'int f(void) { return 1; }' > f.c && "
            "cc -m32 -shared -nostdlib -fPIC -Wl,-soname,libgctk32.so.1 -o %s f.c >/dev/null 2>&1",
            t->dir, built);
        if (system(cmd) != 0)
            skip(); /* neither an i386 libc nor `cc -m32` on this machine */
        lib = built;
    }
    struct elf_info info = {0};
    gctk_error *err = NULL;
    if (elf_inspect(lib, &info, &err) < 0)
        fail_msg("%s", err->msg);
    assert_int_equal(info.elf_class, ELFCLASS32);
    assert_int_equal(info.machine, EM_386);
    assert_string_equal(info.soname, built ? "libgctk32.so.1" : "libc.so.6");
    elf_info_clear(&info);
}

static void test_real_truncated_and_foreign_files(void **state)
{
    (void)state;
    cleanup_free char *libc = NULL;
    size_t len = 0;
    assert_int_equal(read_file("/lib/x86_64-linux-gnu/libc.so.6", 64 << 20, &libc, &len, NULL), 0);
    expect_error(libc, 10, "not an ELF file");
    expect_error(libc, 40, "truncated: ELF header");
    expect_error(libc, 100, "truncated: program headers");
    expect_error("#!/bin/sh\necho hello, this is no ELF file\n", 42, "not an ELF file");
    expect_error("", 0, "not an ELF file");

    struct elf_info info = {0};
    gctk_error *err = NULL;
    assert_int_equal(elf_inspect("/nonexistent/libcuda.so.1", &info, &err), -1);
    assert_int_equal(err->code, ENOENT);
    assert_non_null(strstr(err->msg, "`/nonexistent/libcuda.so.1`"));
    gctk_error_free(err);
    err = NULL;
    assert_int_equal(elf_inspect("/dev/null", &info, &err), -1);
    assert_string_equal(err->msg, "inspect `/dev/null`: not a regular file");
    gctk_error_free(err);
    assert_null(info.soname);
}

/* ---- built images ---------------------------------------------------------------- */

static void test_synthetic_both_classes(void **state)
{
    (void)state;
    struct img64 m64 = make64();
    struct img32 m32 = make32();
    struct elf_info info = {0};
    char *msg = NULL;
    assert_int_equal(inspect_bytes(&m64, sizeof(m64), &info, &msg), 0);
    assert_int_equal(info.elf_class, ELFCLASS64);
    assert_string_equal(info.soname, SONAME);
    elf_info_clear(&info);
    assert_int_equal(inspect_bytes(&m32, sizeof(m32), &info, &msg), 0);
    assert_int_equal(info.elf_class, ELFCLASS32);
    assert_int_equal(info.machine, EM_386);
    assert_string_equal(info.soname, SONAME);
    elf_info_clear(&info);

    /* no DT_STRSZ: the name still ends within the file */
    m64.dyn[1].d_tag = DT_NEEDED;
    m64.dyn[1].d_un.d_val = 0;
    assert_int_equal(inspect_bytes(&m64, sizeof(m64), &info, &msg), 0);
    assert_string_equal(info.soname, SONAME);
    elf_info_clear(&info);
}

static void test_synthetic_without_soname(void **state)
{
    (void)state;
    struct elf_info info = {0};
    char *msg = NULL;
    struct img64 m = make64();
    m.dyn[2].d_tag = DT_NEEDED; /* no DT_SONAME */
    assert_int_equal(inspect_bytes(&m, sizeof(m), &info, &msg), 0);
    assert_null(info.soname);
    m = make64();
    m.ph[1].p_type = PT_NOTE; /* no PT_DYNAMIC: a static executable */
    assert_int_equal(inspect_bytes(&m, sizeof(m), &info, &msg), 0);
    assert_null(info.soname);
    m = make64();
    m.eh.e_phnum = 0; /* no program headers at all */
    assert_int_equal(inspect_bytes(&m, sizeof(m), &info, &msg), 0);
    assert_null(info.soname);
    m = make64();
    m.dyn[0].d_tag = DT_NULL; /* DT_NULL ends the list before DT_SONAME */
    assert_int_equal(inspect_bytes(&m, sizeof(m), &info, &msg), 0);
    assert_null(info.soname);
}

static void test_synthetic_header_errors(void **state)
{
    (void)state;
    struct img64 m = make64();
    m.eh.e_ident[EI_DATA] = ELFDATA2MSB;
    expect_error(&m, sizeof(m), "not a little-endian ELF file");
    m = make64();
    m.eh.e_ident[EI_CLASS] = 7;
    expect_error(&m, sizeof(m), "unknown ELF class 7");
    m = make64();
    m.eh.e_phnum = 0xffff;
    expect_error(&m, sizeof(m), "program headers are too many");
    m = make64();
    m.eh.e_phentsize = 8;
    expect_error(&m, sizeof(m), "program header size 8");
    m = make64();
    m.eh.e_phoff = sizeof(m) - 8;
    expect_error(&m, sizeof(m), "truncated: program headers");
    m = make64();
    m.eh.e_phoff = UINT64_MAX - 4; /* offset + size wraps */
    expect_error(&m, sizeof(m), "truncated: program headers");
    struct img32 m32 = make32();
    m32.eh.e_phnum = 200;
    expect_error(&m32, sizeof(m32), "truncated: program headers");
}

static void test_synthetic_dynamic_errors(void **state)
{
    (void)state;
    struct img64 m = make64();
    m.ph[1].p_offset = sizeof(m) - 8;
    expect_error(&m, sizeof(m), "truncated: dynamic section");
    m = make64();
    m.ph[1].p_filesz = 1ull << 40;
    expect_error(&m, sizeof(m), "is too large");
    m = make64();
    m.dyn[0].d_tag = DT_NEEDED;
    expect_error(&m, sizeof(m), "DT_SONAME without DT_STRTAB");
    m = make64();
    m.dyn[0].d_un.d_val = 0x900000; /* no PT_LOAD maps it */
    expect_error(&m, sizeof(m), "in no loaded segment");
    m = make64();
    m.ph[0].p_filesz = offsetof(struct img64, str); /* the strings lie just past the load */
    expect_error(&m, sizeof(m), "in no loaded segment");
    m = make64();
    m.ph[0].p_offset = UINT64_MAX - 8; /* offset + delta wraps */
    expect_error(&m, sizeof(m), "in no loaded segment");
    m = make64();
    m.ph[0].p_offset = 1ull << 30; /* maps past the end of the file */
    expect_error(&m, sizeof(m), "past the end of the file");
    m = make64();
    m.dyn[2].d_un.d_val = sizeof(m.str);
    expect_error(&m, sizeof(m), "past DT_STRSZ");
    m = make64();
    m.dyn[1].d_un.d_val = 5; /* the table ends inside the name */
    expect_error(&m, sizeof(m), "not NUL-terminated");

    /* no DT_STRSZ and the name runs to the end of the file */
    m = make64();
    m.dyn[1].d_tag = DT_NEEDED;
    memset(m.str, 'x', sizeof(m.str));
    expect_error(&m, sizeof(m), "not NUL-terminated");
    m.dyn[2].d_un.d_val = 1ull << 40;
    expect_error(&m, sizeof(m), "past the end of the file");

    /* 32-bit d_val is signed in the uapi header: an address with the top
     * bit set must be read back unsigned, not sign-extended */
    struct img32 m32 = make32();
    m32.ph[0].p_vaddr = 0x80000000u;
    m32.dyn[0].d_un.d_val = (Elf32_Sword)(0x80000000u + offsetof(struct img32, str));
    struct elf_info info = {0};
    char *msg = NULL;
    assert_int_equal(inspect_bytes(&m32, sizeof(m32), &info, &msg), 0);
    assert_string_equal(info.soname, SONAME);
    elf_info_clear(&info);
}

/* Every prefix of a valid image is refused cleanly (ASan: no over-read),
 * up to the one that holds the whole name and its NUL. */
static void test_synthetic_every_truncation(void **state)
{
    (void)state;
    struct img64 m = make64();
    size_t whole_name = offsetof(struct img64, str) + 1 + sizeof(SONAME);
    for (size_t n = 0; n < sizeof(m); n++) {
        struct elf_info info = {0};
        cleanup_free char *msg = NULL;
        int r = inspect_bytes(&m, n, &info, &msg);
        assert_int_equal(r, n < whole_name ? -1 : 0);
        elf_info_clear(&info);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_libc),
        cmocka_unit_test(test_real_executable_has_no_soname),
        cmocka_unit_test_setup_teardown(test_real_i386, setup_tmp, teardown_tmp),
        cmocka_unit_test(test_real_truncated_and_foreign_files),
        cmocka_unit_test(test_synthetic_both_classes),
        cmocka_unit_test(test_synthetic_without_soname),
        cmocka_unit_test(test_synthetic_header_errors),
        cmocka_unit_test(test_synthetic_dynamic_errors),
        cmocka_unit_test(test_synthetic_every_truncation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
