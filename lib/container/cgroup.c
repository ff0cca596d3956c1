/* Device access for a container's cgroup: v1 devices.allow, v2 BPF program.
 *
 * On cgroup v1 the devices controller keeps a list of exceptions that we can
 * append to and remove from again. On cgroup v2 device access is decided by
 * BPF_CGROUP_DEVICE programs that the runtime (runc, crun, systemd) attached;
 * they cannot be edited, only replaced. We read each one back from the kernel,
 * put a short prologue in front that allows our devices, load the result and
 * swap it in atomically, keeping the old program so that it can be put back.
 *
 * Loading is the verifier's work, a third of a millisecond: a loaded program
 * is kept pinned in bpffs (cgroup_prog_dir, named by a hash of its
 * instructions) and used again by the next container whose runtime program and
 * devices are the same, as every container of an engine's defaults has.
 */
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup.h"

/* The kernel's BPF_CGROUP_MAX_PROGS: no cgroup holds more per attach type. */
#define MAX_PROGS 64
/* Keeps the prologue's forward jumps well inside their 16-bit offsets. */
#define MAX_DEVICES 4096
/* Programs kept pinned at once (a few KiB of kernel memory each). */
#define PROGS_KEPT 64
#define PROG_PREFIX "devices-"
#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

const char *cgroup_prog_dir = "/sys/fs/bpf/gctk";

struct replaced_prog {
    int old_fd, new_fd;
};

struct cgroup_grant {
    enum cgroup_version version;
    char *dir;
    /* v1: the lines written to devices.allow, to be written to devices.deny */
    struct strv deny;
    /* v2: the cgroup, how its programs were attached, and each swap made */
    int cgroup_fd;
    unsigned attach_flags;
    struct replaced_prog *progs;
    size_t n_progs;
};

static struct cgroup_grant *grant_new(enum cgroup_version version, const char *dir)
{
    struct cgroup_grant *g = xcalloc(1, sizeof(*g));
    g->version = version;
    g->dir = xstrdup(dir);
    g->cgroup_fd = -1;
    return g;
}

void cgroup_grant_free(struct cgroup_grant *g)
{
    if (g == NULL)
        return;
    for (size_t i = 0; i < g->n_progs; i++) {
        close(g->progs[i].old_fd);
        close(g->progs[i].new_fd);
    }
    free(g->progs);
    if (g->cgroup_fd >= 0)
        close(g->cgroup_fd);
    strv_clear(&g->deny);
    free(g->dir);
    free(g);
}

static void cleanup_grantp(struct cgroup_grant **g)
{
    cgroup_grant_free(*g);
}
#define cleanup_grant __attribute__((cleanup(cleanup_grantp)))

/* A program gctk cannot extend: devices the engine itself was told about go
 * into the program it builds. */
static const char FIX_DECLARE[] = "give the GPUs through CDI (gctk cdi generate) or --device, "
                                  "which the runtime puts in its own device program";

char *cgroup_outer_fix(const struct cgroup_device *devs, size_t n)
{
    /* one rule per major: the GPUs' minors are many, and a later GPU or MIG
     * device must not need another edit of the outer container */
    cleanup_free char *rules = xstrdup(""), *lxc = xstrdup(""), *docker = xstrdup("");
    unsigned seen[16];
    size_t nseen = 0;
    for (size_t i = 0; i < n && nseen < GCTK_ARRAY_LEN(seen); i++) {
        bool dup = false;
        for (size_t k = 0; k < nseen && !dup; k++)
            dup = seen[k] == devs[i].major;
        if (dup)
            continue;
        seen[nseen++] = devs[i].major;
        char *r = xasprintf("%s%sc %u:* rwm", rules, nseen > 1 ? ", " : "", devs[i].major);
        char *l = xasprintf("%s%slxc.cgroup2.devices.allow = c %u:* rwm", lxc,
                            nseen > 1 ? " and " : "", devs[i].major);
        char *d = xasprintf("%s --device-cgroup-rule 'c %u:* rwm'", docker, devs[i].major);
        free(rules), free(lxc), free(docker);
        rules = r, lxc = l, docker = d;
    }
    return xasprintf("allow the GPUs in the device rules of the outer container this engine runs "
                     "in (%s): LXC or Proxmox: %s in its config (lxc.cgroup.devices.allow on "
                     "cgroup v1), LXD or Incus: the same through raw.lxc, Docker:%s; --device "
                     "or CDI cannot help, the outer container refuses them too",
                     rules, lxc, docker);
}

int cgroup_outer_allows(const char *node, const struct cgroup_device *devs, size_t n,
                        gctk_error **err)
{
    /* access() runs the device cgroup's check (v1 rules, v2 programs, every
     * parent's included) for this process without opening the device */
    if (access(node, R_OK | W_OK) == 0 || errno != EPERM)
        return 0;
    gctk_fail(err, 0,
              "a device cgroup above this process refuses `%s`: this machine is a container "
              "(or a cgroup) that may not use the GPUs, and no container started inside it "
              "may either",
              node);
    cleanup_free char *fix = cgroup_outer_fix(devs, n);
    return gctk_hint(err, "%s", fix);
}

/* ---- where the cgroup is -------------------------------------------------- */

/* Whether the comma list holds the word. */
static bool list_has(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; p != NULL; p = strchr(p, ',')) {
        if (*p == ',')
            p++;
        if (strncmp(p, word, n) == 0 && (p[n] == ',' || p[n] == '\0'))
            return true;
    }
    return false;
}

/* mountinfo writes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
    char *w = s;
    for (char *r = s; *r != '\0'; r++) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
            r += 3;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

/* A path that climbs out with ".." names a cgroup outside the reader's cgroup
 * namespace: no mount we can see reaches it. */
static bool climbs_out(const char *path)
{
    return strcmp(path, "/..") == 0 || str_has_prefix(path, "/../") || strstr(path, "/../") ||
           str_has_suffix(path, "/..");
}

/* The directory of cgroup path under a mount of its hierarchy whose root is
 * root (mountinfo's 4th field, "/" unless only a subtree is mounted), or
 * NULL when the cgroup is not below that mount. */
static char *dir_under_mount(const char *mountpoint, const char *root, const char *path)
{
    if (strcmp(root, "/") == 0 && climbs_out(path))
        return NULL;
    if (strcmp(root, "/") == 0)
        return strcmp(path, "/") == 0 ? xstrdup(mountpoint) : path_join(mountpoint, path);
    size_t r = strlen(root);
    if (strncmp(path, root, r) != 0 || (path[r] != '\0' && path[r] != '/'))
        return NULL;
    return path[r] == '\0' ? xstrdup(mountpoint) : path_join(mountpoint, path + r);
}

/* Finds the pid's cgroup under the first mount of the wanted hierarchy that
 * reaches it. *mounted tells whether there was any such mount at all. */
static char *find_in_mounts(const char *mountinfo, enum cgroup_version version, const char *path,
                            bool *mounted)
{
    cleanup_free char *copy = xstrdup(mountinfo);
    char *save_line = NULL;
    *mounted = false;
    for (char *line = strtok_r(copy, "\n", &save_line); line != NULL;
         line = strtok_r(NULL, "\n", &save_line)) {
        /* id parent maj:min root mountpoint options [optional...] - fstype source superopts */
        char *f[5] = {0}, *fstype = NULL, *superopts = NULL, *save = NULL;
        size_t i = 0;
        bool after_dash = false;
        int k = 0;
        for (char *tok = strtok_r(line, " ", &save); tok != NULL;
             tok = strtok_r(NULL, " ", &save)) {
            if (i < GCTK_ARRAY_LEN(f)) {
                f[i++] = tok;
            } else if (!after_dash) {
                after_dash = strcmp(tok, "-") == 0;
            } else {
                if (k == 0)
                    fstype = tok;
                else if (k == 2)
                    superopts = tok;
                k++;
            }
        }
        if (f[4] == NULL || fstype == NULL)
            continue;
        bool wanted = version == CGROUP_V2 ? strcmp(fstype, "cgroup2") == 0
                                           : strcmp(fstype, "cgroup") == 0 && superopts != NULL &&
                                                 list_has(superopts, "devices");
        if (!wanted)
            continue;
        *mounted = true;
        if (path == NULL)
            return NULL;
        unescape_octal(f[3]);
        unescape_octal(f[4]);
        char *dir = dir_under_mount(f[4], f[3], path);
        if (dir != NULL)
            return dir;
    }
    return NULL;
}

/* The pid's devices cgroup (v1) and cgroup2 paths from the text of
 * /proc/<pid>/cgroup ("hierarchy-id:controller-list:path", the path may hold
 * ':'); NULL for one not listed. */
static void proc_cgroup_paths(const char *proc_cgroup, char **v1_path, char **v2_path)
{
    cleanup_free char *copy = xstrdup(proc_cgroup);
    char *save = NULL;
    *v1_path = *v2_path = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char *c1 = strchr(line, ':');
        char *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
        if (c2 == NULL)
            continue;
        *c1 = *c2 = '\0';
        const char *id = line, *controllers = c1 + 1, *path = c2 + 1;
        if (strcmp(id, "0") == 0 && controllers[0] == '\0' && *v2_path == NULL)
            *v2_path = xstrdup(path);
        else if (list_has(controllers, "devices") && *v1_path == NULL)
            *v1_path = xstrdup(path);
    }
}

/* Whether dir (a cgroup directory) lists pid in its cgroup.procs. */
static bool lists_pid(int dir, pid_t pid)
{
    cleanup_free char *procs = NULL;
    cleanup_error gctk_error *e = NULL;
    if (read_file_at(dir, "cgroup.procs", 1 << 20, &procs, NULL, &e) < 0)
        return false;
    char want[32];
    snprintf(want, sizeof(want), "%d\n", (int)pid);
    size_t n = strlen(want);
    for (const char *p = procs; *p != '\0';) {
        if (strncmp(p, want, n) == 0)
            return true;
        const char *nl = strchr(p, '\n');
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    return false;
}

char *cgroup_locate_usual(const char *base, pid_t pid, const char *proc_cgroup,
                          enum cgroup_version *version)
{
    cleanup_free char *v1_path = NULL, *v2_path = NULL;
    proc_cgroup_paths(proc_cgroup, &v1_path, &v2_path);
    /* as cgroup_locate decides: v1 for a pid with a devices cgroup, when
     * the v1 hierarchy is mounted (here: found where it usually is) */
    const char *path = v1_path != NULL ? v1_path : v2_path;
    if (path == NULL || path[0] != '/' || climbs_out(path))
        return NULL;
    cleanup_free char *top = v1_path != NULL ? path_join(base, "devices") : xstrdup(base);
    cleanup_free char *dir = strcmp(path, "/") == 0 ? xstrdup(top) : path_join(top, path);
    cleanup_fd int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct statfs sfs;
    if (fd < 0 || fstatfs(fd, &sfs) < 0)
        return NULL;
    bool ours = v1_path != NULL ? sfs.f_type == CGROUP_SUPER_MAGIC &&
                                      faccessat(fd, "devices.list", F_OK, 0) == 0
                                : sfs.f_type == CGROUP2_SUPER_MAGIC;
    if (!ours || !lists_pid(fd, pid))
        return NULL;
    *version = v1_path != NULL ? CGROUP_V1 : CGROUP_V2;
    return steal_pointer(&dir);
}

int cgroup_locate(const char *proc_cgroup, const char *mountinfo, enum cgroup_version *version,
                  char **dir, gctk_error **err)
{
    cleanup_free char *v1_path = NULL, *v2_path = NULL;
    proc_cgroup_paths(proc_cgroup, &v1_path, &v2_path);

    bool v1_mounted = false, v2_mounted = false;
    cleanup_free char *v1_dir = find_in_mounts(mountinfo, CGROUP_V1, v1_path, &v1_mounted);
    enum cgroup_version v;
    const char *path;
    cleanup_free char *found = NULL;
    if (v1_path != NULL && v1_mounted) {
        v = CGROUP_V1;
        path = v1_path;
        found = steal_pointer(&v1_dir);
    } else if (v2_path != NULL) {
        v = CGROUP_V2;
        path = v2_path;
        found = find_in_mounts(mountinfo, CGROUP_V2, v2_path, &v2_mounted);
        if (!v2_mounted)
            return gctk_fail(err, ENOENT,
                             "no cgroup2 mount for cgroup `%s` in this mount namespace; "
                             "mount cgroup2 at /sys/fs/cgroup",
                             v2_path);
    } else {
        return gctk_fail(err, ENOENT, "neither a v1 devices cgroup nor a cgroup2 path is listed");
    }
    if (found == NULL && climbs_out(path))
        return gctk_fail(err, 0,
                         "cgroup `%s` lies outside this process's cgroup namespace; "
                         "run gctk in the host's cgroup namespace",
                         path);
    if (found == NULL)
        return gctk_fail(err, ENOENT, "cgroup `%s` is below no mount of its %s hierarchy", path,
                         v == CGROUP_V1 ? "devices" : "cgroup2");
    *version = v;
    *dir = steal_pointer(&found);
    return 0;
}

/* ---- cgroup v1 ------------------------------------------------------------ */

enum { ACC_R = 1, ACC_W = 2, ACC_M = 4 };

/* The access to char device maj:min that devices.list already grants. */
static unsigned v1_granted(const char *list, unsigned maj, unsigned min)
{
    unsigned acc = 0;
    cleanup_free char *copy = xstrdup(list);
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char type, smaj[16], smin[16], sacc[8];
        if (sscanf(line, "%c %15[^:]:%15s %7s", &type, smaj, smin, sacc) != 4)
            continue;
        if (type != 'a' && type != 'c')
            continue;
        if (strcmp(smaj, "*") != 0 && strtoul(smaj, NULL, 10) != maj)
            continue;
        if (strcmp(smin, "*") != 0 && strtoul(smin, NULL, 10) != min)
            continue;
        acc |= (strchr(sacc, 'r') ? ACC_R : 0) | (strchr(sacc, 'w') ? ACC_W : 0) |
               (strchr(sacc, 'm') ? ACC_M : 0);
    }
    return acc;
}

/* The devices files take one rule per write, as many writes as an open
 * wants: *fd is dir/file, opened at its first rule. */
static int write_rule(const char *dir, const char *file, int *fd, const char *rule,
                      gctk_error **err)
{
    cleanup_free char *path = path_join(dir, file);
    if (*fd < 0 && (*fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
        return gctk_fail(err, errno, "open `%s`", path);
    ssize_t w = write(*fd, rule, strlen(rule));
    if (w < 0 || (size_t)w != strlen(rule)) {
        int e = w < 0 ? errno : EIO;
        if (e == EPERM && strcmp(file, "devices.allow") == 0)
            return gctk_fail(err, e, "write `%s` to `%s` (a parent cgroup does not allow it)", rule,
                             path);
        return gctk_fail(err, e, "write `%s` to `%s`", rule, path);
    }
    return 0;
}

static void v1_undo(struct cgroup_grant *g)
{
    cleanup_fd int fd = -1;
    for (size_t i = 0; i < g->deny.len; i++)
        write_rule(g->dir, "devices.deny", &fd, g->deny.items[i], NULL);
    strv_clear(&g->deny);
}

int cgroup_v1_allow_devices(const char *cgroup_dir, const struct cgroup_device *devs, size_t n,
                            struct cgroup_grant **out, gctk_error **err)
{
    cleanup_free char *list_path = path_join(cgroup_dir, "devices.list");
    cleanup_free char *list = NULL;
    if (read_file(list_path, 1 << 20, &list, NULL, err) < 0)
        return gctk_wrap(err, "read the device rules of cgroup `%s`", cgroup_dir);

    cleanup_grant struct cgroup_grant *g = grant_new(CGROUP_V1, cgroup_dir);
    cleanup_fd int allow = -1;
    for (size_t i = 0; i < n; i++) {
        unsigned missing = (ACC_R | ACC_W) & ~v1_granted(list, devs[i].major, devs[i].minor);
        if (missing == 0)
            continue;
        cleanup_free char *rule = xasprintf("c %u:%u %s%s", devs[i].major, devs[i].minor,
                                            missing & ACC_R ? "r" : "", missing & ACC_W ? "w" : "");
        if (write_rule(cgroup_dir, "devices.allow", &allow, rule, err) < 0) {
            if (err != NULL && *err != NULL && (*err)->code == EPERM) {
                cleanup_free char *fix = cgroup_outer_fix(devs, n);
                gctk_hint(err, "%s", fix);
            }
            v1_undo(g);
            return -1;
        }
        /* denying exactly what we added leaves earlier rules as they were */
        strv_push(&g->deny, steal_pointer(&rule));
    }
    if (out != NULL)
        *out = steal_pointer(&g);
    return 0;
}

/* ---- cgroup v2: BPF -------------------------------------------------------- */

static int sys_bpf(int cmd, union bpf_attr *attr)
{
    return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static uint64_t ptr_u64(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

#define INSN(c, d, s, o, i)                                                                        \
    ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

int cgroup_bpf_extend(const struct bpf_insn *old, size_t old_len, const struct cgroup_device *devs,
                      size_t n, struct bpf_insn **out, size_t *out_len, gctk_error **err)
{
    if (old_len == 0)
        return gctk_fail(err, EINVAL, "the device program is empty");
    if (n > MAX_DEVICES)
        return gctk_fail(err, E2BIG, "%zu devices: at most %d fit in one program", n, MAX_DEVICES);
    /* The old instructions are reloaded as they are. Instructions whose
     * operands the kernel rewrote at load time (map fds became map ids,
     * helper numbers became addresses) would mean something else, so such a
     * program is refused rather than turned into a wrong one. */
    for (size_t i = 0; i < old_len; i++) {
        uint8_t code = old[i].code;
        if (code == (BPF_LD | BPF_IMM | BPF_DW)) {
            if (old[i].src_reg != 0) {
                gctk_fail(err, 0,
                          "instruction %zu of the device program references a BPF map, which "
                          "cannot be carried into a new program",
                          i);
                return gctk_hint(err, "%s", FIX_DECLARE);
            }
            if (i + 1 >= old_len)
                return gctk_fail(err, EINVAL, "the device program ends inside instruction %zu", i);
            i++;
        } else if ((BPF_CLASS(code) == BPF_JMP || BPF_CLASS(code) == BPF_JMP32) &&
                   BPF_OP(code) == BPF_CALL) {
            gctk_fail(err, 0,
                      "instruction %zu of the device program is a call, which cannot be "
                      "carried into a new program",
                      i);
            return gctk_hint(err, "%s", FIX_DECLARE);
        }
    }

    /* r1 = ctx stays untouched for the old program; r2-r5 are free because
     * the verifier never lets a program read them before writing them. */
    const size_t head = 9, per_dev = 4, start = head + per_dev * n;
    struct bpf_insn *p = xcalloc(start + old_len, sizeof(*p));
    size_t k = 0;
#define TO_OLD ((int16_t)(start - k - 1))
    p[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1, 0, 0); /* access_type */
    p[k++] = INSN(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0, 0);
    p[k++] = INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_3, 0, 0, 0xffff); /* device type */
    p[k] = INSN(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_3, 0, TO_OLD, BPF_DEVCG_DEV_CHAR);
    k++;
    p[k++] = INSN(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_2, 0, 0, 16); /* access */
    p[k++] = INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0,
                  (int32_t)(~(uint32_t)(BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)));
    p[k] = INSN(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_2, 0, TO_OLD, 0); /* mknod: old decides */
    k++;
    p[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_4, BPF_REG_1,
                  offsetof(struct bpf_cgroup_dev_ctx, major), 0);
    p[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_5, BPF_REG_1,
                  offsetof(struct bpf_cgroup_dev_ctx, minor), 0);
#undef TO_OLD
    for (size_t i = 0; i < n; i++) {
        p[k++] = INSN(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_4, 0, 3, (int32_t)devs[i].major);
        p[k++] = INSN(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_5, 0, 2, (int32_t)devs[i].minor);
        p[k++] = INSN(BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
        p[k++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
    }
    memcpy(p + k, old, old_len * sizeof(*old));
    *out = p;
    *out_len = start + old_len;
    return 0;
}

/* The last non-empty line of the verifier's log: the reason it refused. */
static const char *log_last_line(char *log)
{
    str_strip(log);
    char *nl = strrchr(log, '\n');
    return nl != NULL ? nl + 1 : log;
}

/* What the kernel tells of program fd into *info (whose buffers, if any, it
 * fills); 0 or -1 with errno. */
static int prog_info(int fd, struct bpf_prog_info *info)
{
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.info.bpf_fd = (uint32_t)fd;
    a.info.info_len = sizeof(*info);
    a.info.info = ptr_u64(info);
    return sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a);
}

static int load_device_prog_fresh(const struct bpf_insn *insns, size_t len, gctk_error **err)
{
    static const char license[] = "Apache";
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    a.expected_attach_type = BPF_CGROUP_DEVICE;
    a.insns = ptr_u64(insns);
    a.insn_cnt = (uint32_t)len;
    a.license = ptr_u64(license);
    memcpy(a.prog_name, "gctk_devices", sizeof("gctk_devices"));
    int fd = sys_bpf(BPF_PROG_LOAD, &a);
    if (fd >= 0)
        return fd;
    int e = errno;
    /* load again with the verifier's log only now: it is rarely needed */
    size_t log_size = 1 << 16;
    cleanup_free char *log = xcalloc(1, log_size);
    a.log_level = 1;
    a.log_buf = ptr_u64(log);
    a.log_size = (uint32_t)log_size;
    fd = sys_bpf(BPF_PROG_LOAD, &a);
    if (fd >= 0)
        return fd;
    if (log[0] != '\0')
        return gctk_fail(err, e, "load the extended device program (verifier: %s)",
                         log_last_line(log));
    return gctk_fail(err, e, "load the extended device program");
}

char *cgroup_prog_parent(const char **name)
{
    const char *slash = cgroup_prog_dir != NULL ? strrchr(cgroup_prog_dir, '/') : NULL;
    if (slash == NULL || slash[1] == '\0')
        return NULL;
    if (name != NULL)
        *name = slash + 1;
    return slash == cgroup_prog_dir ? xstrdup("/")
                                    : xstrndup(cgroup_prog_dir, (size_t)(slash - cgroup_prog_dir));
}

/* The bpffs directory that holds cgroup_prog_dir, and *name (may be NULL)
 * as cgroup_prog_parent gives it; -1 when there is none: nothing is made
 * outside bpffs (a /sys/fs/bpf nobody mounted). */
static int prog_parent_open(const char **name)
{
    cleanup_free char *parent = cgroup_prog_parent(name);
    if (parent == NULL)
        return -1;
    cleanup_fd int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct statfs sfs;
    if (fd < 0 || fstatfs(fd, &sfs) < 0 || sfs.f_type != BPF_FS_MAGIC)
        return -1;
    return steal_fd(&fd);
}

bool cgroup_keeps_programs(void)
{
    cleanup_fd int parent = prog_parent_open(NULL);
    return parent >= 0;
}

/* The directory of kept programs: a bpffs directory of this uid that nobody
 * else may write (created 0700 when missing); -1 when there is none, and
 * programs are then loaded each time. */
static int prog_dir_open(void)
{
    const char *name;
    cleanup_fd int parent = prog_parent_open(&name);
    return parent < 0 ? -1 : open_private_dir_at(parent, name);
}

static int obj_at(int cmd, int dirfd, const char *name, int prog_fd)
{
    char path[160];
    snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dirfd, name);
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.pathname = ptr_u64(path);
    a.bpf_fd = (uint32_t)prog_fd;
    return sys_bpf(cmd, &a);
}

/* The kept program name names in dirfd: a device program pinned by this uid
 * that nobody else may touch; -1 when there is none. */
static int kept_prog(int dirfd, const char *name)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
        !stat_private(&st))
        return -1;
    int fd = obj_at(BPF_OBJ_GET, dirfd, name, 0);
    struct bpf_prog_info info = {0};
    if (fd >= 0 && (prog_info(fd, &info) < 0 || info.type != BPF_PROG_TYPE_CGROUP_DEVICE ||
                    info.nr_map_ids != 0)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Pins prog as name in dirfd: under a temporary name, then renamed, so that
 * a name is never a program half kept (bpffs takes no dot in a name). Best
 * effort. */
static void keep_prog(int dirfd, const char *name, int prog_fd)
{
    char tmp[96];
    snprintf(tmp, sizeof(tmp), PROG_PREFIX "new-%d", (int)getpid());
    prune_entries(dirfd, PROG_PREFIX, name, PROGS_KEPT);
    if (obj_at(BPF_OBJ_PIN, dirfd, tmp, prog_fd) < 0)
        return;
    if (fchmodat(dirfd, tmp, 0600, 0) < 0 || renameat(dirfd, tmp, dirfd, name) < 0)
        unlinkat(dirfd, tmp, 0);
}

/* The program of these instructions: the one kept from an earlier load, or
 * a new load (then kept). */
static int load_device_prog(const struct bpf_insn *insns, size_t len, gctk_error **err)
{
    cleanup_fd int dirfd = prog_dir_open();
    char name[64];
    snprintf(name, sizeof(name), PROG_PREFIX "%016llx-%zu",
             hash64(insns, len * sizeof(*insns), HASH64_INIT), len);
    int fd = dirfd >= 0 ? kept_prog(dirfd, name) : -1;
    if (fd >= 0)
        return fd;
    fd = load_device_prog_fresh(insns, len, err);
    if (fd >= 0 && dirfd >= 0)
        keep_prog(dirfd, name, fd);
    return fd;
}

/* The instructions of an attached program as the kernel holds them. */
static int read_prog(int prog_fd, uint32_t id, struct bpf_insn **out, size_t *out_len,
                     gctk_error **err)
{
    struct bpf_prog_info info = {0};
    if (prog_info(prog_fd, &info) < 0)
        return gctk_fail(err, errno, "read device program %u", id);
    uint32_t bytes = info.xlated_prog_len;
    if (bytes == 0 || bytes % sizeof(struct bpf_insn) != 0)
        return gctk_fail(err, EPERM,
                         "read the instructions of device program %u: the kernel does not show "
                         "them (needs CAP_SYS_ADMIN and kernel.kptr_restrict below 2)",
                         id);
    /* zeroed: memory the kernel fills is not seen as written by valgrind */
    cleanup_free struct bpf_insn *insns = xcalloc(1, bytes);
    memset(&info, 0, sizeof(info));
    info.xlated_prog_len = bytes;
    info.xlated_prog_insns = ptr_u64(insns);
    if (prog_info(prog_fd, &info) < 0)
        return gctk_fail(err, errno, "read the instructions of device program %u", id);
    if (info.xlated_prog_len != bytes)
        return gctk_fail(err, EAGAIN, "device program %u changed size while being read", id);
    *out = steal_pointer(&insns);
    *out_len = bytes / sizeof(struct bpf_insn);
    return 0;
}

/* Attaches prog in place of old: with ALLOW_MULTI an atomic swap at the same
 * position; otherwise the cgroup holds a single program and attaching with
 * the same flags replaces it. */
static int swap_prog(int cgroup_fd, unsigned flags, int prog_fd, int old_fd)
{
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.target_fd = (uint32_t)cgroup_fd;
    a.attach_bpf_fd = (uint32_t)prog_fd;
    a.attach_type = BPF_CGROUP_DEVICE;
    if (flags & BPF_F_ALLOW_MULTI) {
        a.attach_flags = BPF_F_ALLOW_MULTI | BPF_F_REPLACE;
        a.replace_bpf_fd = (uint32_t)old_fd;
    } else {
        a.attach_flags = flags;
    }
    return sys_bpf(BPF_PROG_ATTACH, &a);
}

static void v2_undo(struct cgroup_grant *g)
{
    for (size_t i = g->n_progs; i-- > 0;) {
        swap_prog(g->cgroup_fd, g->attach_flags, g->progs[i].old_fd, g->progs[i].new_fd);
        close(g->progs[i].old_fd);
        close(g->progs[i].new_fd);
    }
    g->n_progs = 0;
}

static int query_progs(int cgroup_fd, unsigned query_flags, uint32_t *ids, uint32_t *cnt,
                       unsigned *attach_flags)
{
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.query.target_fd = (uint32_t)cgroup_fd;
    a.query.attach_type = BPF_CGROUP_DEVICE;
    a.query.query_flags = query_flags;
    a.query.prog_ids = ptr_u64(ids);
    a.query.prog_cnt = *cnt;
    if (sys_bpf(BPF_PROG_QUERY, &a) < 0)
        return -1;
    *cnt = a.query.prog_cnt;
    if (attach_flags != NULL)
        *attach_flags = a.query.attach_flags;
    return 0;
}

/* Replaces one attached program by prologue + its own instructions. */
static int extend_prog(struct cgroup_grant *g, uint32_t id, const struct cgroup_device *devs,
                       size_t n, gctk_error **err)
{
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.prog_id = id;
    cleanup_fd int old_fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
    if (old_fd < 0)
        return gctk_fail(err, errno, "open device program %u", id);
    cleanup_free struct bpf_insn *old = NULL, *insns = NULL;
    size_t old_len = 0, len = 0;
    if (read_prog(old_fd, id, &old, &old_len, err) < 0 ||
        cgroup_bpf_extend(old, old_len, devs, n, &insns, &len, err) < 0)
        return gctk_wrap(err, "device program %u", id);
    cleanup_fd int new_fd = load_device_prog(insns, len, err);
    if (new_fd < 0)
        return gctk_wrap(err, "device program %u", id);
    if (swap_prog(g->cgroup_fd, g->attach_flags, new_fd, old_fd) < 0) {
        gctk_fail(err, errno, "replace device program %u", id);
        return gctk_hint(err, "%s", FIX_DECLARE);
    }
    g->progs = xrealloc(g->progs, (g->n_progs + 1) * sizeof(*g->progs));
    g->progs[g->n_progs++] = (struct replaced_prog){steal_fd(&old_fd), steal_fd(&new_fd)};
    return 0;
}

/* Replaces every device program of the grant's cgroup by one that allows
 * devs first; undone (the old programs back) when one fails. */
static int replace_progs(struct cgroup_grant *g, const char *cgroup_dir,
                         const struct cgroup_device *devs, size_t n, gctk_error **err)
{
    uint32_t ids[MAX_PROGS], cnt = MAX_PROGS;
    if (query_progs(g->cgroup_fd, 0, ids, &cnt, &g->attach_flags) < 0)
        return gctk_fail(err, errno, "list the device programs of cgroup `%s`", cgroup_dir);
    if (cnt == 0) {
        /* Nothing here restricts devices. A program on a parent would, and
         * would still refuse after anything we attach here: all of them
         * must agree to an access. */
        uint32_t eff[MAX_PROGS], eff_cnt = MAX_PROGS;
        if (query_progs(g->cgroup_fd, BPF_F_QUERY_EFFECTIVE, eff, &eff_cnt, NULL) < 0)
            return gctk_fail(err, errno, "list the device programs in effect for cgroup `%s`",
                             cgroup_dir);
        if (eff_cnt > 0) {
            gctk_fail(err, 0,
                      "devices of cgroup `%s` are restricted by a program attached to a parent "
                      "cgroup",
                      cgroup_dir);
            cleanup_free char *fix = cgroup_outer_fix(devs, n);
            return gctk_hint(err, "%s", fix);
        }
    }
    for (uint32_t i = 0; i < cnt; i++) {
        if (extend_prog(g, ids[i], devs, n, err) < 0) {
            v2_undo(g);
            return gctk_wrap(err, "allow devices in cgroup `%s`", cgroup_dir);
        }
    }
    return 0;
}

int cgroup_v2_allow_devices(const char *cgroup_dir, const struct cgroup_device *devs, size_t n,
                            struct cgroup_grant **out, gctk_error **err)
{
    cleanup_grant struct cgroup_grant *g = grant_new(CGROUP_V2, cgroup_dir);
    g->cgroup_fd = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (g->cgroup_fd < 0)
        return gctk_fail(err, errno, "open cgroup `%s`", cgroup_dir);
    /* swapping programs for no device would only cost time */
    if (n > 0 && replace_progs(g, cgroup_dir, devs, n, err) < 0)
        return -1;
    if (out != NULL)
        *out = steal_pointer(&g);
    return 0;
}

/* ---- entry points ----------------------------------------------------------- */

int cgroup_allow_devices(pid_t pid, const struct cgroup_device *devs, size_t n,
                         struct cgroup_grant **out, gctk_error **err)
{
    cleanup_free char *proc_path = xasprintf("/proc/%d/cgroup", (int)pid);
    cleanup_free char *proc_cgroup = NULL, *mountinfo = NULL, *dir = NULL;
    enum cgroup_version version;
    if (read_file(proc_path, 1 << 20, &proc_cgroup, NULL, err) < 0)
        return gctk_wrap(err, "find the cgroup of pid %d", (int)pid);
    dir = cgroup_locate_usual("/sys/fs/cgroup", pid, proc_cgroup, &version);
    if (dir == NULL && (read_file("/proc/self/mountinfo", 16 << 20, &mountinfo, NULL, err) < 0 ||
                        cgroup_locate(proc_cgroup, mountinfo, &version, &dir, err) < 0))
        return gctk_wrap(err, "find the cgroup of pid %d", (int)pid);
    if (version == CGROUP_V1)
        return cgroup_v1_allow_devices(dir, devs, n, out, err);
    return cgroup_v2_allow_devices(dir, devs, n, out, err);
}

void cgroup_grant_undo(struct cgroup_grant *g)
{
    if (g == NULL)
        return;
    if (g->version == CGROUP_V1)
        v1_undo(g);
    else
        v2_undo(g);
}
