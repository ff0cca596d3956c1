/* Unit tests of lib/container/cgroup.c: finding the cgroup from fixture text, the BPF
 * prologue, and real grants on v1 and v2 cgroups (root; skipped where the
 * hierarchy is missing). A forked child inside the test cgroup opens device
 * nodes on request, so access is checked the way a container would see it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "cgroup.h"

/* ---- cgroup_locate on fixture text ---------------------------------------- */

static const char HYBRID_CGROUP[] = "12:pids:/user.slice\n"
                                    "5:cpu,cpuacct:/user.slice\n"
                                    "4:devices:/user.slice/session-1.scope\n"
                                    "1:name=systemd:/user.slice/session-1.scope\n"
                                    "0::/user.slice/session-1.scope\n";
static const char HYBRID_MOUNTS[] =
    "25 30 0:23 / /sys rw,nosuid - sysfs sysfs rw\n"
    "31 25 0:28 / /sys/fs/cgroup rw shared:9 - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/unified rw shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
    "33 31 0:30 / /sys/fs/cgroup/systemd rw shared:11 - cgroup cgroup rw,xattr,name=systemd\n"
    "36 31 0:33 / /sys/fs/cgroup/cpu,cpuacct rw shared:14 - cgroup cgroup rw,cpu,cpuacct\n"
    "37 31 0:34 / /sys/fs/cgroup/devices rw shared:15 - cgroup cgroup rw,devices\n";

static void expect_locate(const char *cg, const char *mi, enum cgroup_version want_v,
                          const char *want_dir)
{
    enum cgroup_version v = 0;
    char *dir = NULL;
    gctk_error *err = NULL;
    int r = cgroup_locate(cg, mi, &v, &dir, &err);
    if (r < 0)
        fail_msg("cgroup_locate: %s", err->msg);
    assert_int_equal(v, want_v);
    assert_string_equal(dir, want_dir);
    free(dir);
}

static void expect_locate_error(const char *cg, const char *mi, const char *want_msg)
{
    enum cgroup_version v = 0;
    char *dir = NULL;
    gctk_error *err = NULL;
    assert_int_equal(cgroup_locate(cg, mi, &v, &dir, &err), -1);
    assert_null(dir);
    assert_non_null(err);
    if (strstr(err->msg, want_msg) == NULL)
        fail_msg("error `%s` lacks `%s`", err->msg, want_msg);
    gctk_error_free(err);
}

static void test_locate_v1_only(void **state)
{
    (void)state;
    expect_locate("11:devices:/docker/abc\n3:cpu,cpuacct:/docker/abc\n",
                  "37 31 0:34 / /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices\n", CGROUP_V1,
                  "/sys/fs/cgroup/devices/docker/abc");
    /* devices shares a hierarchy with other controllers */
    expect_locate("4:cpu,devices:/a\n",
                  "37 31 0:34 / /cg/cpu,devices rw - cgroup cgroup rw,cpu,devices\n", CGROUP_V1,
                  "/cg/cpu,devices/a");
}

static void test_locate_hybrid_prefers_v1(void **state)
{
    (void)state;
    expect_locate(HYBRID_CGROUP, HYBRID_MOUNTS, CGROUP_V1,
                  "/sys/fs/cgroup/devices/user.slice/session-1.scope");
    /* the devices controller listed for the pid but not mounted here: v2 */
    static const char no_devices_mount[] =
        "32 31 0:29 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
        "33 31 0:30 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n";
    expect_locate(HYBRID_CGROUP, no_devices_mount, CGROUP_V2,
                  "/sys/fs/cgroup/unified/user.slice/session-1.scope");
    /* "name=devices"-like words in other lists do not count */
    expect_locate("1:name=systemd:/a\n0::/b\n", HYBRID_MOUNTS, CGROUP_V2,
                  "/sys/fs/cgroup/unified/b");
}

static void test_locate_pure_v2(void **state)
{
    (void)state;
    static const char mounts[] = "30 25 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 "
                                 "cgroup2 rw,nsdelegate,memory_recursiveprot\n";
    expect_locate("0::/system.slice/docker-0123abcd.scope\n", mounts, CGROUP_V2,
                  "/sys/fs/cgroup/system.slice/docker-0123abcd.scope");
    /* nested below the container's own cgroup, and the root cgroup itself */
    expect_locate("0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-9.scope/init\n", mounts,
                  CGROUP_V2,
                  "/sys/fs/cgroup/kubepods.slice/kubepods-pod1.slice/cri-containerd-9.scope/init");
    expect_locate("0::/\n", mounts, CGROUP_V2, "/sys/fs/cgroup");
    /* a mount point with a space, as mountinfo escapes it */
    expect_locate("0::/a\n", "30 25 0:26 / /mnt/my\\040cg rw - cgroup2 none rw\n", CGROUP_V2,
                  "/mnt/my cg/a");
}

static void test_locate_cgroup_namespace(void **state)
{
    (void)state;
    /* gctk itself in a container whose cgroup2 mount shows only its subtree
     * (root field), reading the path of a pid in that subtree */
    static const char sub[] =
        "900 800 0:26 /system.slice/docker-1.scope /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
    expect_locate("0::/system.slice/docker-1.scope/app\n", sub, CGROUP_V2, "/sys/fs/cgroup/app");
    expect_locate("0::/system.slice/docker-1.scope\n", sub, CGROUP_V2, "/sys/fs/cgroup");
    /* a prefix that only looks like the root is not below it */
    expect_locate_error("0::/system.slice/docker-1.scopeX\n", sub, "is below no mount");
    /* a pid outside the reader's cgroup namespace */
    static const char ns[] = "900 800 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
    expect_locate_error("0::/../../system.slice/other.scope\n", ns,
                        "outside this process's cgroup namespace");
    /* the second mount of the hierarchy reaches it when the first does not */
    static const char two[] = "900 800 0:26 /a /x rw - cgroup2 cgroup2 rw\n"
                              "901 800 0:26 / /y rw - cgroup2 cgroup2 rw\n";
    expect_locate("0::/b/c\n", two, CGROUP_V2, "/y/b/c");
}

static void test_locate_errors(void **state)
{
    (void)state;
    expect_locate_error("0::/a\n", "25 30 0:23 / /sys rw - sysfs sysfs rw\n", "no cgroup2 mount");
    expect_locate_error("1:name=systemd:/a\n", HYBRID_MOUNTS, "neither a v1 devices cgroup");
    expect_locate_error("", "", "neither");
    /* malformed lines are skipped, not misread */
    expect_locate("garbage\n0::/a\n", "x y\n30 25 0:26 / /cg rw - cgroup2 cgroup2 rw\n", CGROUP_V2,
                  "/cg/a");
}

/* ---- the BPF prologue on crafted instructions -------------------------------- */

#define INSN(c, d, s, o, i)                                                                        \
    ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define MOV0(v) INSN(BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, (v))
#define EXIT INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static const struct cgroup_device DEV_NULL = {1, 3};

static void expect_extend_error(const struct bpf_insn *old, size_t n, const char *want)
{
    struct bpf_insn *out = NULL;
    size_t len = 0;
    gctk_error *err = NULL;
    assert_int_equal(cgroup_bpf_extend(old, n, &DEV_NULL, 1, &out, &len, &err), -1);
    assert_null(out);
    if (strstr(err->msg, want) == NULL)
        fail_msg("error `%s` lacks `%s`", err->msg, want);
    gctk_error_free(err);
}

static void test_extend_refuses(void **state)
{
    (void)state;
    /* r1 = map (ld_imm64 with src_reg BPF_PSEUDO_MAP_FD), as xlated shows it */
    struct bpf_insn map_ref[] = {
        INSN(BPF_LD | BPF_IMM | BPF_DW, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, 7),
        INSN(0, 0, 0, 0, 0),
        MOV0(1),
        EXIT,
    };
    expect_extend_error(map_ref, GCTK_ARRAY_LEN(map_ref), "references a BPF map");
    expect_extend_error(map_ref, GCTK_ARRAY_LEN(map_ref), "give the GPUs through CDI");
    struct bpf_insn call[] = {INSN(BPF_JMP | BPF_CALL, 0, 0, 0, 5), MOV0(1), EXIT};
    expect_extend_error(call, GCTK_ARRAY_LEN(call), "is a call");
    struct bpf_insn cut[] = {MOV0(1), INSN(BPF_LD | BPF_IMM | BPF_DW, BPF_REG_1, 0, 0, 7)};
    expect_extend_error(cut, GCTK_ARRAY_LEN(cut), "ends inside instruction 1");
    expect_extend_error(call, 0, "empty");
}

static void test_extend_layout(void **state)
{
    (void)state;
    /* a plain 64-bit constant is fine and is carried over untouched */
    struct bpf_insn old[] = {
        INSN(BPF_LD | BPF_IMM | BPF_DW, BPF_REG_2, 0, 0, 7),
        INSN(0, 0, 0, 0, 1),
        MOV0(0),
        EXIT,
    };
    struct cgroup_device devs[] = {{195, 255}, {195, 0}, {4000000000u, 1}};
    struct bpf_insn *out = NULL;
    size_t len = 0;
    gctk_error *err = NULL;
    assert_int_equal(cgroup_bpf_extend(old, 4, devs, 3, &out, &len, &err), 0);
    size_t start = len - 4;
    assert_int_equal(start, 9 + 4 * 3);
    assert_memory_equal(out + start, old, sizeof(old));
    bool saw_exit = false;
    for (size_t i = 0; i < start; i++) {
        const struct bpf_insn *in = &out[i];
        /* the prologue never writes r1: the old program reads the context from it */
        if (BPF_CLASS(in->code) == BPF_ALU || BPF_CLASS(in->code) == BPF_LDX)
            assert_int_not_equal(in->dst_reg, BPF_REG_1);
        /* every jump stays inside the program, forward */
        if (BPF_CLASS(in->code) == BPF_JMP32) {
            assert_true(in->off > 0);
            assert_true(i + 1 + (size_t)in->off <= start);
        }
        saw_exit |= in->code == (BPF_JMP | BPF_EXIT);
    }
    assert_true(saw_exit);
    /* the type and access checks fall through to the old program */
    assert_int_equal(3 + 1 + out[3].off, start);
    assert_int_equal(6 + 1 + out[6].off, start);
    /* the last device's checks skip to the old program too, and its major
     * keeps all 32 bits */
    assert_int_equal((uint32_t)out[start - 4].imm, 4000000000u);
    assert_int_equal(start - 4 + 1 + out[start - 4].off, start);
    free(out);
}

/* ---- live cgroups: a child process that opens devices on request ------------- */

struct child {
    pid_t pid;
    int req, resp; /* parent's ends */
};

static const char *dev_path(char which)
{
    switch (which) {
    case 'n':
        return "/dev/null"; /* 1:3 */
    case 'z':
        return "/dev/zero"; /* 1:5 */
    default:
        return "/dev/full"; /* 1:7 */
    }
}

static void child_loop(int req, int resp)
{
    char c;
    while (read(req, &c, 1) == 1 && c != 'q') {
        int fd = open(dev_path(c), O_RDWR | O_CLOEXEC);
        int result = fd >= 0 ? 0 : errno;
        if (fd >= 0)
            close(fd);
        if (write(resp, &result, sizeof(result)) != sizeof(result))
            break;
    }
    _exit(0);
}

static int child_start(struct child *c)
{
    int req[2], resp[2];
    if (pipe2(req, O_CLOEXEC) < 0)
        return -1;
    if (pipe2(resp, O_CLOEXEC) < 0) {
        close(req[0]);
        close(req[1]);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        close(req[1]);
        close(resp[0]);
        child_loop(req[0], resp[1]);
    }
    close(req[0]);
    close(resp[1]);
    *c = (struct child){pid, req[1], resp[0]};
    return 0;
}

/* 0 when the child could open the device, else its errno. */
static int child_open(struct child *c, char which)
{
    int result = -1;
    assert_int_equal(write(c->req, &which, 1), 1);
    assert_int_equal(read(c->resp, &result, sizeof(result)), sizeof(result));
    return result;
}

static void child_stop(struct child *c)
{
    if (c->pid > 0) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
    }
    if (c->req >= 0)
        close(c->req);
    if (c->resp >= 0)
        close(c->resp);
    *c = (struct child){0, -1, -1};
}

static int write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, text, strlen(text));
    int e = errno;
    close(fd);
    errno = e;
    return w == (ssize_t)strlen(text) ? 0 : -1;
}

static void move_into(const char *dir, pid_t pid)
{
    cleanup_free char *procs = path_join(dir, "cgroup.procs");
    cleanup_free char *text = xasprintf("%d", (int)pid);
    if (write_text(procs, text) < 0)
        fail_msg("move %d into `%s`: %s", (int)pid, dir, strerror(errno));
}

/* The mount point of the cgroup2 hierarchy, or NULL. */
static char *cgroup2_mount(void)
{
    cleanup_free char *mi = NULL;
    if (read_file("/proc/self/mountinfo", 16 << 20, &mi, NULL, NULL) < 0)
        return NULL;
    enum cgroup_version v;
    char *dir = NULL;
    gctk_error *err = NULL;
    if (cgroup_locate("0::/\n", mi, &v, &dir, &err) < 0) {
        gctk_error_free(err);
        return NULL;
    }
    return dir;
}

struct fixture {
    char *dir;    /* the test cgroup */
    char *subdir; /* a child cgroup of it, when a test makes one */
    struct child child;
    int prog_fds[2];
    struct cgroup_grant *grant;
    char *bpffs; /* a private bpffs, when a test mounts one */
};

static int fixture_new(void **state, const char *parent)
{
    if (parent == NULL || access(parent, W_OK) < 0)
        return -1;
    struct fixture *f = xcalloc(1, sizeof(*f));
    f->child = (struct child){0, -1, -1};
    f->prog_fds[0] = f->prog_fds[1] = -1;
    f->dir = path_join(parent, "gctk-test-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f->dir);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int setup_v1(void **state)
{
    *state = NULL;
    fixture_new(state, "/sys/fs/cgroup/devices");
    return 0; /* a missing hierarchy skips the test, it does not fail the group */
}

static int setup_v2(void **state)
{
    *state = NULL;
    cleanup_free char *mnt = cgroup2_mount();
    fixture_new(state, mnt);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f == NULL)
        return 0;
    cgroup_grant_free(f->grant);
    child_stop(&f->child);
    for (int i = 0; i < 2; i++)
        if (f->prog_fds[i] >= 0)
            close(f->prog_fds[i]);
    /* a cgroup whose tasks are gone can be removed; its programs go with it */
    if (f->subdir != NULL)
        rmdir(f->subdir);
    rmdir(f->dir);
    if (f->bpffs != NULL) {
        cgroup_prog_dir = NULL;
        umount2(f->bpffs, MNT_DETACH);
        rmdir(f->bpffs);
        free(f->bpffs);
    }
    free(f->subdir);
    free(f->dir);
    free(f);
    return 0;
}

static struct fixture *fixture_or_skip(void **state)
{
    if (*state == NULL)
        skip();
    return *state;
}

static bool list_has_line(const char *dir, const char *line)
{
    cleanup_free char *path = path_join(dir, "devices.list");
    cleanup_free char *list = NULL;
    assert_int_equal(read_file(path, 1 << 20, &list, NULL, NULL), 0);
    cleanup_free char *needle = xasprintf("\n%s\n", line);
    cleanup_free char *text = xasprintf("\n%s", list);
    return strstr(text, needle) != NULL;
}

static void test_v1_allow_and_undo(void **state)
{
    struct fixture *f = fixture_or_skip(state);
    cleanup_free char *deny = path_join(f->dir, "devices.deny");
    assert_int_equal(write_text(deny, "a"), 0);
    /* one rule already there stays after the undo */
    cleanup_free char *allow = path_join(f->dir, "devices.allow");
    assert_int_equal(write_text(allow, "c 1:5 rwm"), 0);
    assert_int_equal(child_start(&f->child), 0);
    move_into(f->dir, f->child.pid);
    assert_int_equal(child_open(&f->child, 'n'), EPERM);

    /* two rules to write (through one open of devices.allow), one there */
    assert_int_equal(child_open(&f->child, 'f'), EPERM);
    struct cgroup_device devs[] = {{1, 3}, {1, 5}, {1, 7}};
    gctk_error *err = NULL;
    if (cgroup_allow_devices(f->child.pid, devs, 3, &f->grant, &err) < 0)
        fail_msg("cgroup_allow_devices: %s", err->msg);
    assert_true(list_has_line(f->dir, "c 1:3 rw"));
    assert_true(list_has_line(f->dir, "c 1:7 rw"));
    assert_int_equal(child_open(&f->child, 'n'), 0);
    assert_int_equal(child_open(&f->child, 'z'), 0);
    assert_int_equal(child_open(&f->child, 'f'), 0);

    cgroup_grant_undo(f->grant);
    assert_false(list_has_line(f->dir, "c 1:3 rw"));
    assert_false(list_has_line(f->dir, "c 1:7 rw"));
    assert_true(list_has_line(f->dir, "c 1:5 rwm"));
    assert_int_equal(child_open(&f->child, 'n'), EPERM);
    assert_int_equal(child_open(&f->child, 'f'), EPERM);
    assert_int_equal(child_open(&f->child, 'z'), 0);
    /* a second undo has nothing left to do */
    cgroup_grant_undo(f->grant);
    assert_true(list_has_line(f->dir, "c 1:5 rwm"));
}

static void test_v1_all_allowed(void **state)
{
    struct fixture *f = fixture_or_skip(state);
    /* a new v1 cgroup inherits "a *:* rwm" from the root: nothing to write */
    struct cgroup_device dev = {1, 3};
    gctk_error *err = NULL;
    if (cgroup_v1_allow_devices(f->dir, &dev, 1, &f->grant, &err) < 0)
        fail_msg("cgroup_v1_allow_devices: %s", err->msg);
    cgroup_grant_undo(f->grant);
    assert_true(list_has_line(f->dir, "a *:* rwm"));
}

static void test_v1_vanished(void **state)
{
    struct fixture *f = fixture_or_skip(state);
    assert_int_equal(rmdir(f->dir), 0);
    struct cgroup_device dev = {1, 3};
    struct cgroup_grant *g = NULL;
    gctk_error *err = NULL;
    assert_int_equal(cgroup_v1_allow_devices(f->dir, &dev, 1, &g, &err), -1);
    assert_null(g);
    assert_int_equal(err->code, ENOENT);
    assert_non_null(strstr(err->msg, f->dir));
    gctk_error_free(err);
}

static void test_v1_parent_denies(void **state)
{
    struct fixture *f = fixture_or_skip(state);
    cleanup_free char *deny = path_join(f->dir, "devices.deny");
    assert_int_equal(write_text(deny, "a"), 0);
    f->subdir = path_join(f->dir, "inner");
    assert_int_equal(mkdir(f->subdir, 0755), 0);
    struct cgroup_device dev = {1, 3};
    struct cgroup_grant *g = NULL;
    gctk_error *err = NULL;
    assert_int_equal(cgroup_v1_allow_devices(f->subdir, &dev, 1, &g, &err), -1);
    assert_null(g);
    assert_int_equal(err->code, EPERM);
    /* the outer container must allow them: --device or CDI cannot */
    assert_non_null(strstr(err->msg, "; allow the GPUs in the device rules of the outer "
                                     "container this engine runs in (c 1:* rwm): LXC or Proxmox: "
                                     "lxc.cgroup2.devices.allow = c 1:* rwm"));
    assert_non_null(strstr(err->msg, "--device-cgroup-rule 'c 1:* rwm'"));
    gctk_error_free(err);
}

/* A process whose own cgroup refuses a device (the engine in an LXC guest)
 * learns it before it sets up a container that could never use it. */
static void test_outer_allows(void **state)
{
    struct fixture *f = fixture_or_skip(state);
    cleanup_free char *deny = path_join(f->dir, "devices.deny");
    assert_int_equal(write_text(deny, "c 1:3 rwm"), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        cleanup_free char *procs = path_join(f->dir, "cgroup.procs");
        if (write_text(procs, "0") < 0)
            _exit(3);
        struct cgroup_device devs[] = {{1, 3}, {1, 3}, {510, 0}};
        gctk_error *err = NULL;
        /* /dev/zero (1:5) is allowed, /dev/null (1:3) is not */
        if (cgroup_outer_allows("/dev/zero", devs, 1, &err) != 0)
            _exit(4);
        if (cgroup_outer_allows("/dev/null", devs, 3, &err) != -1)
            _exit(5);
        bool said = strstr(err->msg, "a device cgroup above this process refuses `/dev/null`") &&
                    strstr(err->msg, "(c 1:* rwm, c 510:* rwm)") &&
                    strstr(err->msg, "lxc.cgroup2.devices.allow = c 1:* rwm and "
                                     "lxc.cgroup2.devices.allow = c 510:* rwm");
        _exit(said ? 0 : 6);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- v2 --------------------------------------------------------------------- */

static int sys_bpf(int cmd, union bpf_attr *a)
{
    return (int)syscall(__NR_bpf, cmd, a, sizeof(*a));
}

static int load_prog(const struct bpf_insn *insns, size_t n)
{
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    a.insns = (uint64_t)(uintptr_t)insns;
    a.insn_cnt = (uint32_t)n;
    static const char license[] = "GPL";
    a.license = (uint64_t)(uintptr_t)license;
    int fd = sys_bpf(BPF_PROG_LOAD, &a);
    if (fd < 0)
        fail_msg("load test program: %s", strerror(errno));
    return fd;
}

/* Like runc's: allows read/write of /dev/zero (1:5) only. */
static int load_runc_like(void)
{
    const struct bpf_insn insns[] = {
        INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1, 0, 0),
        INSN(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0, 0),
        INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_3, 0, 0, 0xffff),
        INSN(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_2, 0, 0, 16),
        INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_4, BPF_REG_1, 4, 0),
        INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_5, BPF_REG_1, 8, 0),
        INSN(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_3, 0, 6, BPF_DEVCG_DEV_CHAR), /* -> 13 */
        INSN(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_4, 0, 5, 1),
        INSN(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_5, 0, 4, 5),
        INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, ~6),
        INSN(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_2, 0, 2, 0),
        MOV0(1),
        EXIT,
        MOV0(0),
        EXIT,
    };
    return load_prog(insns, GCTK_ARRAY_LEN(insns));
}

static void attach(const char *dir, int prog_fd, unsigned flags)
{
    cleanup_fd int cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(cg >= 0);
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.target_fd = (uint32_t)cg;
    a.attach_bpf_fd = (uint32_t)prog_fd;
    a.attach_type = BPF_CGROUP_DEVICE;
    a.attach_flags = flags;
    if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
        fail_msg("attach test program to `%s`: %s", dir, strerror(errno));
}

static uint32_t prog_id(int fd)
{
    struct bpf_prog_info info;
    union bpf_attr a;
    memset(&info, 0, sizeof(info));
    memset(&a, 0, sizeof(a));
    a.info.bpf_fd = (uint32_t)fd;
    a.info.info_len = sizeof(info);
    a.info.info = (uint64_t)(uintptr_t)&info;
    assert_int_equal(sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a), 0);
    return info.id;
}

/* The ids attached to dir, and their attach flags. */
static uint32_t attached(const char *dir, uint32_t ids[8], unsigned *flags)
{
    cleanup_fd int cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(cg >= 0);
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.query.target_fd = (uint32_t)cg;
    a.query.attach_type = BPF_CGROUP_DEVICE;
    a.query.prog_ids = (uint64_t)(uintptr_t)ids;
    a.query.prog_cnt = 8;
    assert_int_equal(sys_bpf(BPF_PROG_QUERY, &a), 0);
    if (flags != NULL)
        *flags = a.query.attach_flags;
    return a.query.prog_cnt;
}

/* The whole v2 story for one way of attaching the runtime's program. */
static void v2_allow_and_undo(struct fixture *f, unsigned flags)
{
    f->prog_fds[0] = load_runc_like();
    attach(f->dir, f->prog_fds[0], flags);
    assert_int_equal(child_start(&f->child), 0);
    move_into(f->dir, f->child.pid);
    assert_int_equal(child_open(&f->child, 'n'), EPERM);
    assert_int_equal(child_open(&f->child, 'z'), 0);

    /* no devices: the program is left alone */
    struct cgroup_grant *none = NULL;
    assert_int_equal(cgroup_v2_allow_devices(f->dir, NULL, 0, &none, NULL), 0);
    uint32_t ids[8];
    assert_int_equal(attached(f->dir, ids, NULL), 1);
    assert_int_equal(ids[0], prog_id(f->prog_fds[0]));
    cgroup_grant_undo(none);
    cgroup_grant_free(none);

    struct cgroup_device dev = {1, 3};
    gctk_error *err = NULL;
    if (cgroup_v2_allow_devices(f->dir, &dev, 1, &f->grant, &err) < 0)
        fail_msg("cgroup_v2_allow_devices: %s", err->msg);
    assert_int_equal(child_open(&f->child, 'n'), 0);
    assert_int_equal(child_open(&f->child, 'z'), 0);
    assert_int_equal(child_open(&f->child, 'f'), EPERM);
    unsigned now_flags = 0;
    assert_int_equal(attached(f->dir, ids, &now_flags), 1);
    assert_int_not_equal(ids[0], prog_id(f->prog_fds[0]));
    assert_int_equal(now_flags, flags);

    cgroup_grant_undo(f->grant);
    assert_int_equal(child_open(&f->child, 'n'), EPERM);
    assert_int_equal(child_open(&f->child, 'z'), 0);
    assert_int_equal(attached(f->dir, ids, NULL), 1);
    assert_int_equal(ids[0], prog_id(f->prog_fds[0]));
}

static void test_v2_allow_multi(void **state)
{
    v2_allow_and_undo(fixture_or_skip(state), BPF_F_ALLOW_MULTI);
}

static void test_v2_single(void **state)
{
    v2_allow_and_undo(fixture_or_skip(state), 0);
}

static void test_v2_override(void **state)
{
    v2_allow_and_undo(fixture_or_skip(state), BPF_F_ALLOW_OVERRIDE);
}

/* A private bpffs for the kept programs (NULL: none here), unmounted by
 * teardown. */
static char *bpffs_new(struct fixture *f)
{
    char *dir = xstrdup("/tmp/gctk-test-bpffs-XXXXXX");
    if (mkdtemp(dir) == NULL || mount("bpf", dir, "bpf", 0, "mode=0700") < 0) {
        rmdir(dir);
        free(dir);
        return NULL;
    }
    return f->bpffs = dir;
}

/* The program a grant of dev attached (then undone): the child may open
 * the node of letter yes, not that of no. */
static uint32_t granted_id(struct fixture *f, struct cgroup_device *dev, char yes, char no)
{
    gctk_error *err = NULL;
    if (cgroup_v2_allow_devices(f->dir, dev, 1, &f->grant, &err) < 0)
        fail_msg("cgroup_v2_allow_devices: %s", err->msg);
    assert_int_equal(child_open(&f->child, yes), 0);
    assert_int_equal(child_open(&f->child, no), EPERM);
    uint32_t ids[8];
    assert_int_equal(attached(f->dir, ids, NULL), 1);
    cgroup_grant_undo(f->grant);
    cgroup_grant_free(f->grant);
    f->grant = NULL;
    assert_int_equal(child_open(&f->child, yes), EPERM);
    return ids[0];
}

static size_t kept_count(const char *dir)
{
    cleanup_dir DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        n += str_has_prefix(de->d_name, "devices-");
    return n;
}

static void test_v2_kept_program(void **state)
{
    struct fixture *f = fixture_or_skip(state);
    const char *fs = bpffs_new(f);
    if (fs == NULL)
        skip();
    cleanup_free char *kept = path_join(fs, "gctk");
    cgroup_prog_dir = kept;
    f->prog_fds[0] = load_runc_like();
    attach(f->dir, f->prog_fds[0], BPF_F_ALLOW_MULTI);
    assert_int_equal(child_start(&f->child), 0);
    move_into(f->dir, f->child.pid);
    struct cgroup_device dev = {1, 3}, other = {1, 7};

    /* loaded, then kept: the next grant of the same devices is that program */
    uint32_t first = granted_id(f, &dev, 'n', 'f');
    assert_int_equal(kept_count(kept), 1);
    assert_int_equal(granted_id(f, &dev, 'n', 'f'), first);
    /* other devices: another program */
    uint32_t second = granted_id(f, &other, 'f', 'n');
    assert_int_not_equal(second, first);
    assert_int_equal(kept_count(kept), 2);
    /* a directory others may write is not trusted: loaded afresh */
    assert_int_equal(chmod(kept, 0777), 0);
    assert_int_not_equal(granted_id(f, &dev, 'n', 'f'), first);
    assert_int_equal(chmod(kept, 0700), 0);
    assert_int_equal(granted_id(f, &dev, 'n', 'f'), first);
    /* nor a program another uid may touch */
    cleanup_free char *glob = xasprintf("chmod 0666 %s/devices-*", kept);
    assert_int_equal(system(glob), 0);
    uint32_t again = granted_id(f, &dev, 'n', 'f');
    assert_int_not_equal(again, first);
    assert_int_not_equal(again, second);
    /* none: a directory outside bpffs */
    cgroup_prog_dir = "/tmp";
    assert_int_not_equal(granted_id(f, &dev, 'n', 'f'), first);
}

static void test_v2_two_programs(void **state)
{
    struct fixture *f = fixture_or_skip(state);
    /* systemd and runc both attached one: both must allow the device */
    f->prog_fds[0] = load_runc_like();
    f->prog_fds[1] = load_runc_like();
    attach(f->dir, f->prog_fds[0], BPF_F_ALLOW_MULTI);
    attach(f->dir, f->prog_fds[1], BPF_F_ALLOW_MULTI);
    assert_int_equal(child_start(&f->child), 0);
    move_into(f->dir, f->child.pid);
    struct cgroup_device dev = {1, 3};
    gctk_error *err = NULL;
    if (cgroup_v2_allow_devices(f->dir, &dev, 1, &f->grant, &err) < 0)
        fail_msg("cgroup_v2_allow_devices: %s", err->msg);
    assert_int_equal(child_open(&f->child, 'n'), 0);
    assert_int_equal(child_open(&f->child, 'f'), EPERM);
    cgroup_grant_undo(f->grant);
    assert_int_equal(child_open(&f->child, 'n'), EPERM);
    uint32_t ids[8];
    assert_int_equal(attached(f->dir, ids, NULL), 2);
}

static void test_v2_no_program(void **state)
{
    struct fixture *f = fixture_or_skip(state);
    struct cgroup_device dev = {1, 3};
    gctk_error *err = NULL;
    if (cgroup_v2_allow_devices(f->dir, &dev, 1, &f->grant, &err) < 0)
        fail_msg("cgroup_v2_allow_devices: %s", err->msg);
    uint32_t ids[8];
    assert_int_equal(attached(f->dir, ids, NULL), 0);
    cgroup_grant_undo(f->grant);
}

static void test_v2_parent_program(void **state)
{
    struct fixture *f = fixture_or_skip(state);
    f->prog_fds[0] = load_runc_like();
    attach(f->dir, f->prog_fds[0], BPF_F_ALLOW_MULTI);
    f->subdir = path_join(f->dir, "inner");
    assert_int_equal(mkdir(f->subdir, 0755), 0);
    struct cgroup_device dev = {1, 3};
    struct cgroup_grant *g = NULL;
    gctk_error *err = NULL;
    assert_int_equal(cgroup_v2_allow_devices(f->subdir, &dev, 1, &g, &err), -1);
    assert_null(g);
    assert_non_null(strstr(err->msg, "attached to a parent cgroup"));
    assert_non_null(strstr(err->msg, f->subdir));
    assert_non_null(strstr(err->msg, "lxc.cgroup2.devices.allow"));
    gctk_error_free(err);
}

static void test_v2_map_reference(void **state)
{
    struct fixture *f = fixture_or_skip(state);
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.map_type = BPF_MAP_TYPE_ARRAY;
    a.key_size = 4;
    a.value_size = 4;
    a.max_entries = 1;
    cleanup_fd int map = sys_bpf(BPF_MAP_CREATE, &a);
    assert_true(map >= 0);
    /* r2 = map; allow all. The map reference survives in the xlated code. */
    const struct bpf_insn insns[] = {
        INSN(BPF_LD | BPF_IMM | BPF_DW, BPF_REG_2, BPF_PSEUDO_MAP_FD, 0, map),
        INSN(0, 0, 0, 0, 0),
        MOV0(1),
        EXIT,
    };
    f->prog_fds[0] = load_prog(insns, GCTK_ARRAY_LEN(insns));
    attach(f->dir, f->prog_fds[0], BPF_F_ALLOW_MULTI);
    struct cgroup_device dev = {1, 3};
    struct cgroup_grant *g = NULL;
    gctk_error *err = NULL;
    assert_int_equal(cgroup_v2_allow_devices(f->dir, &dev, 1, &g, &err), -1);
    assert_null(g);
    assert_non_null(strstr(err->msg, "references a BPF map"));
    assert_non_null(strstr(err->msg, f->dir));
    gctk_error_free(err);
    /* and the program attached is still the original one */
    uint32_t ids[8];
    assert_int_equal(attached(f->dir, ids, NULL), 1);
    assert_int_equal(ids[0], prog_id(f->prog_fds[0]));
}

static void test_v2_vanished(void **state)
{
    struct fixture *f = fixture_or_skip(state);
    assert_int_equal(rmdir(f->dir), 0);
    struct cgroup_device dev = {1, 3};
    struct cgroup_grant *g = NULL;
    gctk_error *err = NULL;
    assert_int_equal(cgroup_v2_allow_devices(f->dir, &dev, 1, &g, &err), -1);
    assert_null(g);
    assert_int_equal(err->code, ENOENT);
    assert_non_null(strstr(err->msg, f->dir));
    gctk_error_free(err);
}

/* Through the public entry point: where v2 decides the pid's devices (pure v2
 * hosts) the program is extended; on hybrid hosts the v1 devices controller
 * wins, and the child sits in the v1 root cgroup that allows everything, so
 * nothing is written and the v2 program stays as it was. */
static void test_v2_by_pid(void **state)
{
    struct fixture *f = fixture_or_skip(state);
    assert_int_equal(child_start(&f->child), 0);
    move_into(f->dir, f->child.pid);
    cleanup_free char *path = xasprintf("/proc/%d/cgroup", (int)f->child.pid);
    cleanup_free char *cg = NULL, *mi = NULL, *dir = NULL;
    assert_int_equal(read_file(path, 1 << 20, &cg, NULL, NULL), 0);
    assert_int_equal(read_file("/proc/self/mountinfo", 16 << 20, &mi, NULL, NULL), 0);
    enum cgroup_version v;
    assert_int_equal(cgroup_locate(cg, mi, &v, &dir, NULL), 0);
    f->prog_fds[0] = load_runc_like();
    attach(f->dir, f->prog_fds[0], BPF_F_ALLOW_MULTI);
    struct cgroup_device dev = {1, 3};
    gctk_error *err = NULL;
    if (cgroup_allow_devices(f->child.pid, &dev, 1, &f->grant, &err) < 0)
        fail_msg("cgroup_allow_devices: %s", err->msg);
    uint32_t ids[8];
    assert_int_equal(attached(f->dir, ids, NULL), 1);
    if (v == CGROUP_V1) {
        assert_int_equal(ids[0], prog_id(f->prog_fds[0]));
        assert_int_equal(child_open(&f->child, 'n'), EPERM);
        return;
    }
    assert_string_equal(dir, f->dir);
    assert_int_not_equal(ids[0], prog_id(f->prog_fds[0]));
    assert_int_equal(child_open(&f->child, 'n'), 0);
    cgroup_grant_undo(f->grant);
    assert_int_equal(child_open(&f->child, 'n'), EPERM);
}

/* The usual layout's answer (no mountinfo): the one cgroup_locate works out
 * for a child moved into the test's cgroup; and, with a text that names the
 * test's cgroup, that cgroup for the child, nothing for a pid outside it, for
 * a path that climbs out, or for a directory that lists the pid but is no
 * cgroup. */
static void test_usual_layout(void **state)
{
    struct fixture *f = fixture_or_skip(state);
    assert_int_equal(child_start(&f->child), 0);
    move_into(f->dir, f->child.pid);
    pid_t pid = f->child.pid;
    cleanup_free char *path = xasprintf("/proc/%d/cgroup", (int)pid);
    cleanup_free char *cg = NULL, *mi = NULL, *dir = NULL;
    assert_int_equal(read_file(path, 1 << 20, &cg, NULL, NULL), 0);
    assert_int_equal(read_file("/proc/self/mountinfo", 16 << 20, &mi, NULL, NULL), 0);
    enum cgroup_version v = 0, found_v = 0;
    assert_int_equal(cgroup_locate(cg, mi, &v, &dir, NULL), 0);
    cleanup_free char *usual = cgroup_locate_usual("/sys/fs/cgroup", pid, cg, &found_v);
    if (usual != NULL) {
        assert_string_equal(usual, dir);
        assert_int_equal(found_v, v);
    }
    /* where systemd and Docker mount the hierarchy, it is found */
    if (v == CGROUP_V1 && (strcmp(dir, "/sys/fs/cgroup/devices") == 0 ||
                           str_has_prefix(dir, "/sys/fs/cgroup/devices/")))
        assert_non_null(usual);

    bool v1 = str_has_prefix(f->dir, "/sys/fs/cgroup/devices/");
    cleanup_free char *base = v1 ? xstrdup("/sys/fs/cgroup") : cgroup2_mount();
    cleanup_free char *top = v1 ? path_join(base, "devices") : xstrdup(base);
    const char *rel = f->dir + strlen(top);
    cleanup_free char *text = v1 ? xasprintf("5:devices:%s\n", rel) : xasprintf("0::%s\n", rel);
    cleanup_free char *mine = cgroup_locate_usual(base, pid, text, &found_v);
    assert_non_null(mine);
    assert_string_equal(mine, f->dir);
    assert_int_equal(found_v, v1 ? CGROUP_V1 : CGROUP_V2);
    cleanup_free char *not_in = cgroup_locate_usual(base, getpid(), text, &found_v);
    assert_null(not_in);
    /* refused even where it leads back into the cgroup */
    const char *last = strrchr(rel, '/') + 1;
    cleanup_free char *climbs = xasprintf(v1 ? "5:devices:%s/../%s\n" : "0::%s/../%s\n", rel, last);
    cleanup_free char *out = cgroup_locate_usual(base, pid, climbs, &found_v);
    assert_null(out);

    /* a tree that looks like one, on no cgroup filesystem */
    char fake[] = "/tmp/gctk-cgroup-XXXXXX";
    assert_non_null(mkdtemp(fake));
    cleanup_free char *fake_dir = xasprintf("%s%s/gpu", fake, v1 ? "/devices" : "");
    assert_int_equal(mkdir_p(fake_dir, 0755, NULL), 0);
    cleanup_free char *procs = path_join(fake_dir, "cgroup.procs");
    cleanup_free char *list = path_join(fake_dir, "devices.list");
    cleanup_free char *pid_line = xasprintf("%d\n", (int)pid);
    const struct write_opts o = {.mode = 0644, .no_sync = true};
    assert_int_equal(write_file_at(AT_FDCWD, procs, pid_line, strlen(pid_line), &o, NULL), 0);
    assert_int_equal(write_file_at(AT_FDCWD, list, "a *:* rwm\n", 10, &o, NULL), 0);
    cleanup_free char *fake_text = xstrdup(v1 ? "5:devices:/gpu\n" : "0::/gpu\n");
    cleanup_free char *faked = cgroup_locate_usual(fake, pid, fake_text, &found_v);
    assert_null(faked);
    unlink(procs);
    unlink(list);
    rmdir(fake_dir);
    if (v1) {
        cleanup_free char *d = path_join(fake, "devices");
        rmdir(d);
    }
    rmdir(fake);
}

static void test_no_such_pid(void **state)
{
    (void)state;
    struct cgroup_device dev = {1, 3};
    struct cgroup_grant *g = NULL;
    gctk_error *err = NULL;
    /* above the largest pid_max the kernel allows */
    assert_int_equal(cgroup_allow_devices(4194305, &dev, 1, &g, &err), -1);
    assert_null(g);
    assert_int_equal(err->code, ENOENT);
    assert_string_equal(err->msg, "find the cgroup of pid 4194305: open `/proc/4194305/cgroup`: "
                                  "No such file or directory");
    gctk_error_free(err);
    cgroup_grant_undo(NULL);
    cgroup_grant_free(NULL);
}

int main(void)
{
    /* no program is kept in the host's bpffs: one test keeps them in its own */
    cgroup_prog_dir = NULL;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_locate_v1_only),
        cmocka_unit_test(test_locate_hybrid_prefers_v1),
        cmocka_unit_test(test_locate_pure_v2),
        cmocka_unit_test(test_locate_cgroup_namespace),
        cmocka_unit_test(test_locate_errors),
        cmocka_unit_test(test_extend_refuses),
        cmocka_unit_test(test_extend_layout),
        cmocka_unit_test_setup_teardown(test_v1_allow_and_undo, setup_v1, teardown),
        cmocka_unit_test_setup_teardown(test_v1_all_allowed, setup_v1, teardown),
        cmocka_unit_test_setup_teardown(test_v1_vanished, setup_v1, teardown),
        cmocka_unit_test_setup_teardown(test_v1_parent_denies, setup_v1, teardown),
        cmocka_unit_test_setup_teardown(test_outer_allows, setup_v1, teardown),
        cmocka_unit_test_setup_teardown(test_v2_allow_multi, setup_v2, teardown),
        cmocka_unit_test_setup_teardown(test_v2_single, setup_v2, teardown),
        cmocka_unit_test_setup_teardown(test_v2_override, setup_v2, teardown),
        cmocka_unit_test_setup_teardown(test_v2_two_programs, setup_v2, teardown),
        cmocka_unit_test_setup_teardown(test_v2_kept_program, setup_v2, teardown),
        cmocka_unit_test_setup_teardown(test_v2_no_program, setup_v2, teardown),
        cmocka_unit_test_setup_teardown(test_v2_parent_program, setup_v2, teardown),
        cmocka_unit_test_setup_teardown(test_v2_map_reference, setup_v2, teardown),
        cmocka_unit_test_setup_teardown(test_v2_vanished, setup_v2, teardown),
        cmocka_unit_test_setup_teardown(test_v2_by_pid, setup_v2, teardown),
        cmocka_unit_test_setup_teardown(test_usual_layout, setup_v1, teardown),
        cmocka_unit_test_setup_teardown(test_usual_layout, setup_v2, teardown),
        cmocka_unit_test(test_no_such_pid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
