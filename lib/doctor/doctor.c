/* gctk doctor: one check per link of the chain (see doctor.h). Each check
 * appends its lines to the report; a link that cannot be checked because an
 * earlier one is broken says so (skipped) rather than piling up errors that
 * have one cause. */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <time.h>

#include "arch.h"
#include "config.h"
#include "cudacompat.h"
#include "engine.h"
#include "cdi.h"
#include "cgroup.h"
#include "inject.h"
#include "doctor.h"
#include "engineapi.h"
#include "host.h"
#include "inspect.h"
#include "nvml.h"
#include "require.h"
#include "toml.h"
#include "vercmp.h"

#define CGROUP2_MAGIC 0x63677270
#define DOCKER_TIMEOUT_S 5
/* `podman --version`, `crun --version`: their whole output */
#define VERSION_OUTPUT_MAX 4096
#define VERSION_TIMEOUT_MS 5000
/* a containers.conf (the package's: 24-36 KiB, of comments) */
#define CONTAINERS_CONF_MAX (1u << 20)

static const char *const default_cdi_dirs[] = {CDI_STATIC_DIR, CDI_DYNAMIC_DIR, NULL};

/* ---- the report ------------------------------------------------------------ */

static void add(struct doctor_report *r, const char *check, enum doctor_status s, char *fix,
                const char *fmt, ...) GCTK_PRINTF(5, 6);

__attribute__((format(printf, 5, 0))) static void vadd(struct doctor_report *r, const char *check,
                                                       enum doctor_status s, char *fix,
                                                       const char *fmt, va_list ap)
{
    if (r->len == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 32;
        r->items = xrealloc(r->items, r->cap * sizeof(*r->items));
    }
    char *msg = xvasprintf(fmt, ap);
    r->items[r->len++] =
        (struct doctor_result){.check = xstrdup(check), .status = s, .message = msg, .fix = fix};
}

/* fix is owned (or NULL) */
static void add(struct doctor_report *r, const char *check, enum doctor_status s, char *fix,
                const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vadd(r, check, s, fix, fmt, ap);
    va_end(ap);
}

void doctor_add(struct doctor_report *r, const char *check, enum doctor_status s, char *fix,
                const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vadd(r, check, s, fix, fmt, ap);
    va_end(ap);
}

void doctor_report_clear(struct doctor_report *r)
{
    for (size_t i = 0; i < r->len; i++) {
        free(r->items[i].check);
        free(r->items[i].message);
        free(r->items[i].fix);
    }
    free(r->items);
    *r = (struct doctor_report){0};
}

const struct doctor_result *doctor_report_find(const struct doctor_report *r, const char *check)
{
    for (size_t i = 0; i < r->len; i++)
        if (strcmp(r->items[i].check, check) == 0)
            return &r->items[i];
    return NULL;
}

bool doctor_report_failed(const struct doctor_report *r)
{
    for (size_t i = 0; i < r->len; i++)
        if (r->items[i].status == DOCTOR_ERROR)
            return true;
    return false;
}

const char *doctor_status_name(enum doctor_status s)
{
    switch (s) {
    case DOCTOR_OK:
        return "ok";
    case DOCTOR_WARNING:
        return "warning";
    case DOCTOR_ERROR:
        return "error";
    case DOCTOR_SKIPPED:
        return "skipped";
    }
    return "?";
}

json_t *doctor_report_json(const struct doctor_report *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < r->len; i++) {
        const struct doctor_result *x = &r->items[i];
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:o}", "check", x->check, "status",
                                           doctor_status_name(x->status), "message", x->message,
                                           "fix", x->fix ? json_string(x->fix) : json_null()));
    }
    return a;
}

void doctor_options_init(struct doctor_options *o)
{
    *o = (struct doctor_options){.root = "/", .slow_nvml_ms = DOCTOR_SLOW_NVML_MS};
}

/* The kind of container this machine is, when it is one ("lxc", "docker",
 * "podman", systemd's `container=` value); NULL on a host. Owned. */
static char *container_kind(void)
{
    cleanup_free char *env = NULL;
    size_t len = 0;
    if (read_file("/proc/1/environ", 1 << 20, &env, &len, NULL) == 0)
        for (size_t off = 0; off < len; off += strlen(env + off) + 1)
            if (str_has_prefix(env + off, "container=") && env[off + 10] != '\0')
                return xstrdup(env + off + 10);
    if (access("/.dockerenv", F_OK) == 0)
        return xstrdup("docker");
    if (access("/run/.containerenv", F_OK) == 0)
        return xstrdup("podman");
    return NULL;
}

/* ---- what the checks share ------------------------------------------------- */

struct ctx {
    const struct doctor_options *o;
    struct doctor_report *r;
    const char *root;
    char *driver;      /* the kernel module's version; NULL when not loaded */
    char *nvml_lib;    /* root-relative real path of libnvidia-ml */
    gctk_host *host;   /* discovery without NVML; NULL when it failed */
    struct nvml *nvml; /* NULL when it did not initialise */
    unsigned long long nvml_ms;
    char nvml_cuda[CUDA_VERSION_BUF];
    char *gpu_brand; /* first GPU's NVML brand, for --cuda */
    /* docker */
    const char *docker_host;
    const char *sock; /* inside docker_host; NULL when it is not unix:// */
    bool dockerd_installed, docker_up;
    json_t *info;         /* GET /info */
    char *server_version; /* GET /version's Version: "26.1.5+dfsg1" */
    const char *daemon_json;
    json_t *daemon_cfg; /* NULL when missing or invalid */
    bool daemon_json_invalid;
    pid_t dockerd;
    char *dockerd_path; /* dockerd's PATH */
    char *hook;         /* the hook found on it (absolute), or NULL */
    char *hook_source;  /* what the fix links as the hook */
    /* gctk's config */
    bool no_cgroups;
    char *config_file; /* the file read; NULL: the defaults */
};

/* ---- kernel module and libraries --------------------------------------------- */

static void check_driver(struct ctx *c)
{
    cleanup_error gctk_error *e = NULL;
    if (host_read_driver_version(c->root, &c->driver, &e) == 0) {
        add(c->r, "driver", DOCTOR_OK, NULL, "kernel module %s loaded", c->driver);
        return;
    }
    cleanup_free char *path = path_join(c->root, HOST_PROC_VERSION);
    if (e->code == ENOENT)
        add(c->r, "driver", DOCTOR_ERROR,
            xstrdup("modprobe nvidia (when that fails, the driver is not installed for this "
                    "kernel: install it, e.g. `apt-get install nvidia-driver`, and reboot)"),
            "kernel module not loaded: `%s` is missing", path);
    else if (e->code == EINVAL)
        add(c->r, "driver", DOCTOR_ERROR,
            xstrdup("reload the driver: modprobe -r nvidia && modprobe nvidia"), "%s", e->msg);
    else
        add(c->r, "driver", DOCTOR_ERROR, NULL, "%s", e->msg);
}

static void check_libraries(struct ctx *c)
{
    static const char *const sonames[] = {"libnvidia-ml.so.1", "libcuda.so.1"};
    bool bad = false;
    struct strv found = {0};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(sonames); i++) {
        /* discovery's answer, as the hook gives it */
        struct host_lib_check lib;
        host_check_library(c->root, sonames[i], c->driver, &lib);
        if (i == 0 && lib.path != NULL && lib.state != HOST_LIB_UNCACHED)
            c->nvml_lib = xstrdup(lib.path);
        if (lib.state == HOST_LIB_OK) {
            strv_push(&found, xstrdup(lib.path));
            host_lib_check_clear(&lib);
            continue;
        }
        bad = true;
        cleanup_error gctk_error *e = NULL;
        host_lib_check_fail(&lib, c->root, sonames[i], c->driver, &e);
        add(c->r, "libraries", lib.state == HOST_LIB_UNVERSIONED ? DOCTOR_WARNING : DOCTOR_ERROR,
            e->hint != NULL ? xstrdup(e->hint) : NULL, "%s", e->what);
        host_lib_check_clear(&lib);
    }
    if (!bad) {
        cleanup_free char *list = xstrdup("");
        for (size_t i = 0; i < found.len; i++) {
            char *more = xasprintf("%s%s`%s`", list, i ? ", " : "", found.items[i]);
            free(list);
            list = more;
        }
        if (c->driver != NULL)
            add(c->r, "libraries", DOCTOR_OK, NULL, "%s match the kernel module %s", list,
                c->driver);
        else
            add(c->r, "libraries", DOCTOR_SKIPPED, NULL,
                "found %s; no kernel module to compare with", list);
    }
    strv_clear(&found);
}

/* The driver's architecture against gctk's, and libraries of another
 * machine where the driver's are: discovery skips them (their loader would
 * refuse them), a sign of a driver installed for another machine. */
static void check_arch(struct ctx *c)
{
    if (c->host == NULL) {
        add(c->r, "architecture", DOCTOR_SKIPPED, NULL, "kernel module not loaded");
        return;
    }
    const char *arch = gctk_host_arch(c->host), *own = host_arch_native()->name;
    size_t before = c->r->len;
    if (!host_loadable(c->host) && strcmp(c->root, "/") == 0)
        add(c->r, "architecture", DOCTOR_ERROR,
            xasprintf("install gctk's %s package", host_arch_by_name(arch)->deb),
            "the driver is %s's and gctk is built for %s", arch, own);
    for (size_t i = 0; i < c->host->foreign_libs.len; i++) {
        const char *lib = c->host->foreign_libs.items[i];
        cleanup_free char *full = path_join(c->root, lib);
        struct elf_info info = {0};
        char is[48] = "another machine";
        if (elf_inspect(full, &info, NULL) == 0)
            host_arch_describe(&info, is, sizeof(is));
        elf_info_clear(&info);
        add(c->r, "architecture", DOCTOR_WARNING,
            xasprintf("remove `%s`, or reinstall the driver's %s libraries", full, arch),
            "`%s` is built for %s, not for this %s driver: never given to containers", full, is,
            arch);
    }
    if (c->r->len > before)
        return;
    if (!host_loadable(c->host))
        add(c->r, "architecture", DOCTOR_OK, NULL,
            "the driver under `%s` is %s's (gctk: %s): its layout is read as %s's; its "
            "libraries cannot be loaded into gctk",
            c->root, arch, own, arch);
    else
        add(c->r, "architecture", DOCTOR_OK, NULL, "the driver and gctk are %s's", arch);
}

/* ---- device nodes -------------------------------------------------------------- */

/* One node: a line for each problem; returns whether it is fine. */
static bool check_node(struct ctx *c, const char *rel, int want_major, int want_minor,
                       const char *create)
{
    cleanup_free char *full = path_join(c->root, rel);
    struct stat st;
    if (stat(full, &st) < 0) {
        add(c->r, "device nodes", DOCTOR_ERROR, xstrdup(create), "`%s` is missing", full);
        return false;
    }
    if (!S_ISCHR(st.st_mode)) {
        add(c->r, "device nodes", DOCTOR_ERROR,
            want_major >= 0 && want_minor >= 0 ? xasprintf("rm -f %s && mknod -m 666 %s c %d %d",
                                                           full, full, want_major, want_minor)
                                               : xasprintf("rm -f %s && %s", full, create),
            "`%s` is not a character device", full);
        return false;
    }
    unsigned maj = major(st.st_rdev), min = minor(st.st_rdev);
    if ((want_major >= 0 && maj != (unsigned)want_major) ||
        (want_minor >= 0 && min != (unsigned)want_minor)) {
        int fix_major = want_major >= 0 ? want_major : (int)maj;
        int fix_minor = want_minor >= 0 ? want_minor : (int)min;
        add(c->r, "device nodes", DOCTOR_ERROR,
            xasprintf("rm -f %s && mknod -m 666 %s c %d %d", full, full, fix_major, fix_minor),
            "`%s` is %u:%u, expected %d:%d", full, maj, min, fix_major, fix_minor);
        return false;
    }
    if ((st.st_mode & 0666) != 0666) {
        add(c->r, "device nodes", DOCTOR_WARNING,
            xasprintf("chmod 666 %s (for good: options nvidia NVreg_DeviceFileMode=0666 in "
                      "/etc/modprobe.d/nvidia.conf)",
                      full),
            "`%s` is mode %04o: only its owner and group can use it", full,
            (unsigned)(st.st_mode & 07777));
        return false;
    }
    return true;
}

static void check_nodes(struct ctx *c)
{
    if (c->driver == NULL) {
        add(c->r, "device nodes", DOCTOR_SKIPPED, NULL, "kernel module not loaded");
        return;
    }
    size_t before = c->r->len;
    unsigned count = 0, good = 0;
    /* discovery's table, with nvidia-uvm's major as the kernel gave it */
    struct host_node_spec control[HOST_CONTROL_NODES];
    host_control_nodes(host_char_major(c->root, "nvidia-uvm"), control);
    for (size_t i = 0; i < HOST_CONTROL_NODES; i++) {
        cleanup_free char *full = path_join(c->root, control[i].path);
        if (control[i].optional && access(full, F_OK) < 0)
            continue;
        count++;
        good +=
            check_node(c, control[i].path, control[i].major, control[i].minor, control[i].create);
    }
    size_t n = c->host != NULL ? gctk_host_gpu_count(c->host) : 0;
    for (size_t i = 0; i < n; i++) {
        const struct gctk_gpu *g = gctk_host_gpu(c->host, i);
        cleanup_free char *rel = xasprintf("/dev/nvidia%d", g->minor);
        cleanup_free char *create = xasprintf("nvidia-modprobe -c %d", g->minor);
        count++;
        good += check_node(c, rel, HOST_NVIDIA_MAJOR, g->minor, create);
    }
    if (c->r->len == before)
        add(c->r, "device nodes", DOCTOR_OK, NULL,
            "%u of %u present with the expected numbers, mode 0666", good, count);
}

/* ---- NVML and the GPUs ------------------------------------------------------------ */

static char *nvml_fix(const char *msg, const char *module, const char *lib)
{
    if (strstr(msg, "mismatch") != NULL && module != NULL && lib != NULL)
        return host_mismatch_fix(module, lib);
    if (strstr(msg, "Not Loaded") != NULL)
        return xstrdup("modprobe nvidia && nvidia-modprobe -c 0");
    if (strstr(msg, "Permission") != NULL || strstr(msg, "Unknown Error") != NULL)
        return xstrdup("check the device nodes' permissions; inside a container this is a "
                       "device cgroup that lost the GPUs (see the cgroup line)");
    return NULL;
}

static void check_nvml(struct ctx *c)
{
    if (c->driver == NULL || c->nvml_lib == NULL) {
        add(c->r, "nvml", DOCTOR_SKIPPED, NULL, "%s",
            c->driver == NULL ? "kernel module not loaded" : "libnvidia-ml not found");
        return;
    }
    if (c->host != NULL && !host_loadable(c->host)) {
        add(c->r, "nvml", DOCTOR_SKIPPED, NULL, "the driver is %s's: gctk (%s) cannot load it",
            gctk_host_arch(c->host), host_arch_native()->name);
        return;
    }
    cleanup_free char *full = path_join(c->root, c->nvml_lib);
    cleanup_error gctk_error *e = NULL;
    unsigned long long t0 = now_ns();
    int r = nvml_open(full, &c->nvml, &e);
    c->nvml_ms = (now_ns() - t0) / 1000000;
    if (r < 0) {
        cleanup_free char *lib = host_file_version(c->nvml_lib);
        add(c->r, "nvml", DOCTOR_ERROR, nvml_fix(e->msg, c->driver, lib), "%s", e->msg);
        return;
    }
    char version[96] = "";
    if (nvml_driver_version(c->nvml, version, sizeof(version), NULL) < 0)
        snprintf(version, sizeof(version), "unknown");
    if (nvml_cuda_version(c->nvml, c->nvml_cuda, sizeof(c->nvml_cuda), NULL) < 0)
        c->nvml_cuda[0] = '\0';
    if (strcmp(version, c->driver) != 0) {
        add(c->r, "nvml", DOCTOR_ERROR, host_mismatch_fix(c->driver, version),
            "NVML reports driver %s, the kernel module is %s", version, c->driver);
        return;
    }
    add(c->r, "nvml", DOCTOR_OK, NULL, "initialised in %llu ms: driver %s, CUDA %s", c->nvml_ms,
        version, c->nvml_cuda[0] ? c->nvml_cuda : "unknown");
}

static void check_gpus(struct ctx *c)
{
    if (c->nvml == NULL) {
        add(c->r, "gpus", DOCTOR_SKIPPED, NULL, "NVML is not available");
        return;
    }
    unsigned count = 0;
    cleanup_error gctk_error *ce = NULL;
    if (nvml_gpu_count(c->nvml, &count, &ce) < 0) {
        add(c->r, "gpus", DOCTOR_ERROR, NULL, "%s", ce->msg);
        return;
    }
    struct strv seen = {0}, off = {0};
    bool persistence_known = false;
    for (unsigned i = 0; i < count; i++) {
        char check[32];
        snprintf(check, sizeof(check), "gpu %u", i);
        struct nvml_gpu_info info;
        cleanup_error gctk_error *e = NULL;
        if (nvml_gpu_by_index(c->nvml, i, &info, &e) < 0) {
            add(c->r, check, DOCTOR_ERROR,
                xstrdup("look for Xid errors: dmesg | grep -i xid; a GPU that fell off the bus "
                        "needs a reboot"),
                "%s", e->msg);
            continue;
        }
        strv_push(&seen, xstrdup(info.bus_id));
        if (c->gpu_brand == NULL && info.brand[0])
            c->gpu_brand = xstrdup(info.brand);
        persistence_known = persistence_known || info.persistence >= 0;
        if (info.persistence == 0)
            strv_push(&off, xasprintf("%u", i));
        char mem[32] = "memory unknown";
        if (info.memory_mib >= 0)
            snprintf(mem, sizeof(mem), "%ld MiB", info.memory_mib);
        add(c->r, check, DOCTOR_OK, NULL, "%s, %s, %s, %s, persistence %s", info.name, info.uuid,
            info.bus_id, mem,
            info.persistence < 0 ? "unknown"
            : info.persistence   ? "on"
                                 : "off");
    }
    /* a GPU the kernel knows but NVML does not show: its node is missing or
     * not allowed, or the GPU is in a bad state */
    size_t n = c->host != NULL ? gctk_host_gpu_count(c->host) : 0;
    bool missing = false;
    for (size_t i = 0; i < n; i++) {
        const struct gctk_gpu *g = gctk_host_gpu(c->host, i);
        bool known = false;
        for (size_t k = 0; k < seen.len && !known; k++)
            known = strcasecmp(seen.items[k], g->bus_id) == 0; /* NVML writes hex lower case */
        if (known)
            continue;
        missing = true;
        add(c->r, "gpus", DOCTOR_ERROR,
            xasprintf("nvidia-modprobe -c %d (creates `/dev/nvidia%d`); if the node is there, "
                      "look for Xid errors: dmesg | grep -i xid",
                      g->minor, g->minor),
            "GPU %s (minor %d) is in /proc/driver/nvidia but NVML does not see it", g->bus_id,
            g->minor);
    }
    if (!missing) {
        if (count == 0)
            add(c->r, "gpus", DOCTOR_WARNING, xstrdup("check `lspci | grep -i nvidia`"),
                "the driver sees no GPU");
        else
            add(c->r, "gpus", DOCTOR_OK, NULL, "NVML sees %u GPU%s, as many as the kernel", count,
                count == 1 ? "" : "s");
    }
    if (off.len == 0) {
        if (count > 0)
            add(c->r, "persistence", DOCTOR_OK, NULL, "persistence mode on for every GPU%s",
                persistence_known ? "" : " (not reported by NVML)");
    } else {
        cleanup_free char *list = xstrdup("");
        for (size_t i = 0; i < off.len; i++) {
            char *more = xasprintf("%s%s%s", list, i ? ", " : "", off.items[i]);
            free(list);
            list = more;
        }
        if (c->nvml_ms >= c->o->slow_nvml_ms)
            add(c->r, "persistence", DOCTOR_WARNING,
                xstrdup("systemctl enable --now nvidia-persistenced"),
                "persistence mode off on GPU %s and NVML took %llu ms to initialise: every "
                "container start pays it",
                list, c->nvml_ms);
        else
            add(c->r, "persistence", DOCTOR_OK, NULL,
                "persistence mode off on GPU %s; initialisation took %llu ms, no slowdown", list,
                c->nvml_ms);
    }
    strv_clear(&seen);
    strv_clear(&off);
}

/* ---- Docker ------------------------------------------------------------------------- */

int doctor_docker_get(const char *docker_host, const char *path, json_t **out, gctk_error **err)
{
    return engineapi_get(docker_host, path, DOCKER_TIMEOUT_S * 1000, out, err);
}

static bool read_comm(pid_t pid, char *buf, size_t size)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
    cleanup_free char *text = NULL;
    if (read_file(path, 256, &text, NULL, NULL) < 0)
        return false;
    snprintf(buf, size, "%s", str_strip(text));
    return true;
}

static bool is_dockerd(pid_t pid)
{
    char comm[64];
    return read_comm(pid, comm, sizeof(comm)) && strcmp(comm, "dockerd") == 0;
}

/* "unix:///x.sock", "/x.sock" and "unix:/x.sock" name the same socket */
static bool same_socket(const char *arg, const char *sock)
{
    if (str_has_prefix(arg, "unix://"))
        arg += strlen("unix://");
    else if (str_has_prefix(arg, "unix:"))
        arg += strlen("unix:");
    return strcmp(arg, sock) == 0;
}

/* 1: dockerd's -H names sock; 0: it has no -H (or fd://, systemd's socket:
 * the default); -1: it serves other sockets */
static int dockerd_serves(pid_t pid, const char *sock)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    cleanup_free char *args = NULL;
    size_t len = 0;
    if (read_file(path, 1 << 20, &args, &len, NULL) < 0)
        return -1;
    bool any = false;
    for (size_t off = 0; off < len; off += strlen(args + off) + 1) {
        const char *a = args + off;
        const char *v = NULL;
        if (strcmp(a, "-H") == 0 || strcmp(a, "--host") == 0)
            v = off + strlen(a) + 1 < len ? a + strlen(a) + 1 : NULL;
        else if (str_has_prefix(a, "--host="))
            v = a + strlen("--host=");
        else if (str_has_prefix(a, "-H="))
            v = a + 3;
        else if (str_has_prefix(a, "-H"))
            v = a + 2;
        if (v == NULL)
            continue;
        if (same_socket(v, sock))
            return 1;
        if (!str_has_prefix(v, "fd://"))
            any = true;
    }
    return any ? -1 : 0;
}

pid_t doctor_find_dockerd(const char *docker_host, const char *pidfile)
{
    const char *sock = str_has_prefix(docker_host, "unix://") ? docker_host + 7 : docker_host;
    if (pidfile != NULL) {
        cleanup_free char *text = NULL;
        if (read_file(pidfile, 64, &text, NULL, NULL) == 0) {
            long pid = strtol(text, NULL, 10);
            /* a dockerd that names other sockets is another daemon's pidfile */
            if (pid > 0 && pid < INT_MAX && is_dockerd((pid_t)pid) &&
                dockerd_serves((pid_t)pid, sock) >= 0)
                return (pid_t)pid;
        }
    }
    bool is_default =
        strcmp(sock, "/var/run/docker.sock") == 0 || strcmp(sock, "/run/docker.sock") == 0;
    cleanup_dir DIR *d = opendir("/proc");
    if (d == NULL)
        return 0;
    pid_t by_default = 0;
    struct dirent *de;
    pid_t found = 0;
    while (found == 0 && (de = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        pid_t pid = (pid_t)atoi(de->d_name);
        if (!is_dockerd(pid))
            continue;
        int s = dockerd_serves(pid, sock);
        if (s == 1)
            found = pid;
        else if (s == 0 && is_default && by_default == 0)
            by_default = pid;
    }
    return found != 0 ? found : by_default;
}

static const char *json_str(const json_t *o, const char *key)
{
    const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* prog on the doctor's PATH (o->path_env, else $PATH), absolute; NULL when
 * it is not there. Owned. */
static char *find_program(const struct ctx *c, const char *prog)
{
    return path_search(c->o->path_env ? c->o->path_env : getenv("PATH"), prog, NULL);
}

static void check_docker(struct ctx *c)
{
    cleanup_free char *found = find_program(c, "dockerd");
    c->dockerd_installed = found != NULL;
    if (c->sock == NULL) {
        add(c->r, "docker", DOCTOR_SKIPPED, NULL,
            "docker host `%s` is not a unix:// socket: not checked", c->docker_host);
        return;
    }
    cleanup_error gctk_error *e = NULL;
    json_t *version = NULL;
    if (doctor_docker_get(c->docker_host, "/version", &version, &e) < 0) {
        char *fix;
        if (e->code == EACCES || e->code == EPERM)
            fix = xstrdup("run gctk doctor as root, or as a member of the `docker` group");
        else if (c->dockerd_installed)
            fix = xstrdup("systemctl start docker (and `systemctl enable docker` for boots)");
        else
            fix = xstrdup("install Docker (apt-get install docker.io, or Docker's docker-ce), "
                          "then systemctl enable --now docker");
        if (e->code == ENOENT || e->code == ECONNREFUSED)
            add(c->r, "docker", DOCTOR_ERROR, fix, "no Docker daemon at `%s`%s", c->docker_host,
                c->dockerd_installed ? "" : " and no dockerd installed");
        else
            add(c->r, "docker", DOCTOR_ERROR, fix, "Docker at `%s`: %s", c->docker_host, e->msg);
        return;
    }
    c->docker_up = true;
    const char *v = json_str(version, "Version"), *api = json_str(version, "ApiVersion");
    c->server_version = v != NULL ? xstrdup(v) : NULL;
    add(c->r, "docker", DOCTOR_OK, NULL, "Docker %s (API %s) at `%s`", v ? v : "unknown",
        api ? api : "unknown", c->docker_host);
    json_decref(version);
    gctk_error_free(e);
    e = NULL;
    if (doctor_docker_get(c->docker_host, "/info", &c->info, &e) < 0)
        add(c->r, "docker", DOCTOR_WARNING, NULL, "%s", e->msg);
}

static char *configure_fix(const struct ctx *c)
{
    if (strcmp(c->daemon_json, ENGINE_DOCKER_CONFIG) == 0)
        return xstrdup("gctk runtime configure --runtime=docker && systemctl restart docker");
    return xasprintf("gctk runtime configure --runtime=docker --config %s && systemctl restart "
                     "docker",
                     c->daemon_json);
}

static void check_daemon_json(struct ctx *c)
{
    cleanup_error gctk_error *e = NULL;
    bool existed = false;
    if (json_config_load(c->daemon_json, &c->daemon_cfg, &existed, &e) < 0) {
        c->daemon_json_invalid = true;
        add(c->r, "daemon.json", DOCTOR_ERROR,
            xasprintf("correct the JSON of `%s` (`python3 -m json.tool %s` points at the "
                      "fault), then systemctl restart docker",
                      c->daemon_json, c->daemon_json),
            "%s: dockerd refuses to start with it", e->msg);
        return;
    }
    if (!existed) {
        add(c->r, "daemon.json", DOCTOR_OK, NULL, "`%s` does not exist: Docker's defaults",
            c->daemon_json);
        return;
    }
    const char *def = json_str(c->daemon_cfg, "default-runtime");
    json_t *rts = json_object_get(c->daemon_cfg, "runtimes");
    if (def != NULL && strcmp(def, "runc") != 0 && strcmp(def, "io.containerd.runc.v2") != 0 &&
        (!json_is_object(rts) || json_object_get(rts, def) == NULL)) {
        add(c->r, "daemon.json", DOCTOR_ERROR, configure_fix(c),
            "`%s`: \"default-runtime\" is `%s`, which \"runtimes\" does not define: dockerd "
            "refuses to start",
            c->daemon_json, def);
        return;
    }
    add(c->r, "daemon.json", DOCTOR_OK, NULL, "`%s` is valid", c->daemon_json);
}

/* The dockerd's PATH, from its environment when readable. Owned. */
static char *dockerd_path_env(pid_t pid, bool *assumed)
{
    *assumed = true;
    if (pid <= 0)
        return xstrdup(DOCTOR_SYSTEMD_PATH);
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
    cleanup_free char *env = NULL;
    size_t len = 0;
    if (read_file(path, 1 << 20, &env, &len, NULL) < 0)
        return xstrdup(DOCTOR_SYSTEMD_PATH);
    *assumed = false;
    for (size_t off = 0; off < len; off += strlen(env + off) + 1)
        if (str_has_prefix(env + off, "PATH="))
            return xstrdup(env + off + 5);
    /* no PATH at all: Go's exec.LookPath then finds nothing */
    return xstrdup("");
}

static void check_runtime(struct ctx *c)
{
    if (c->daemon_json_invalid) {
        add(c->r, "docker runtime", DOCTOR_SKIPPED, NULL, "`%s` is invalid", c->daemon_json);
        return;
    }
    json_t *rts = c->daemon_cfg ? json_object_get(c->daemon_cfg, "runtimes") : NULL;
    json_t *rt = json_is_object(rts) ? json_object_get(rts, DOCTOR_RUNTIME_NAME) : NULL;
    json_t *live = c->info ? json_object_get(c->info, "Runtimes") : NULL;
    bool in_daemon = json_is_object(live) && json_object_get(live, DOCTOR_RUNTIME_NAME) != NULL;
    if (rt == NULL) {
        if (in_daemon)
            add(c->r, "docker runtime", DOCTOR_OK, NULL,
                "dockerd has the \"%s\" runtime (from its command line)", DOCTOR_RUNTIME_NAME);
        else
            add(c->r, "docker runtime", DOCTOR_ERROR, configure_fix(c),
                "`%s` has no \"%s\" runtime", c->daemon_json, DOCTOR_RUNTIME_NAME);
        return;
    }
    const char *path = json_str(rt, "path");
    cleanup_free char *resolved = NULL;
    if (path != NULL && path[0] != '/')
        resolved = path_search(c->dockerd_path, path, NULL);
    else if (path != NULL && is_executable(path))
        resolved = xstrdup(path);
    if (resolved == NULL) {
        add(c->r, "docker runtime", DOCTOR_ERROR, configure_fix(c),
            "the \"%s\" runtime of `%s` is `%s`, which is not an executable", DOCTOR_RUNTIME_NAME,
            c->daemon_json, path ? path : "(no path)");
        return;
    }
    add(c->r, "docker runtime", DOCTOR_OK, NULL, "`%s` registers the \"%s\" runtime: `%s`",
        c->daemon_json, DOCTOR_RUNTIME_NAME, resolved);
}

static void check_hook(struct ctx *c, bool assumed)
{
    if (!c->docker_up && !c->dockerd_installed) {
        add(c->r, "docker hook", DOCTOR_SKIPPED, NULL, "Docker is not installed");
        return;
    }
    c->hook = path_search(c->dockerd_path, DOCTOR_HOOK_NAME, NULL);
    const char *whose = c->dockerd > 0 && !assumed ? "dockerd's PATH" : "systemd's default PATH";
    if (c->hook == NULL) {
        /* the dir of the fix: /usr/local/bin when dockerd looks there, else
         * the first absolute dir it has */
        cleanup_free char *dir = NULL;
        cleanup_free char *copy = xstrdup(c->dockerd_path);
        char *save = NULL;
        for (char *d = strtok_r(copy, ":", &save); d != NULL; d = strtok_r(NULL, ":", &save)) {
            if (d[0] != '/')
                continue;
            if (dir == NULL || strcmp(d, "/usr/local/bin") == 0) {
                free(dir);
                dir = xstrdup(d);
            }
        }
        add(c->r, "docker hook", DOCTOR_ERROR,
            xasprintf("ln -s %s %s/%s && systemctl restart docker", c->hook_source,
                      dir ? dir : "/usr/local/bin", DOCTOR_HOOK_NAME),
            "`%s` is not on %s (%s): `docker run --gpus` fails with `could not select device "
            "driver \"\" with capabilities: [[gpu]]`",
            DOCTOR_HOOK_NAME, whose, c->dockerd_path[0] ? c->dockerd_path : "empty");
        return;
    }
    char target[PATH_MAX];
    ssize_t n = readlink(c->hook, target, sizeof(target) - 1);
    if (n > 0)
        target[n] = '\0';
    add(c->r, "docker hook", DOCTOR_OK, NULL, "`%s` is on %s%s%s%s", c->hook, whose,
        n > 0 ? " (-> `" : "", n > 0 ? target : "", n > 0 ? "`)" : "");
}

/* Seconds since boot a process started; -1 when unknown. */
static double process_start(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    cleanup_free char *text = NULL;
    if (read_file(path, 4096, &text, NULL, NULL) < 0)
        return -1;
    /* the command name may hold spaces and parentheses: fields follow the last ')' */
    char *p = strrchr(text, ')');
    if (p == NULL)
        return -1;
    p++;
    /* field 22, starttime, is the 20th after the name */
    unsigned long long start = 0;
    char *save = NULL;
    char *tok = strtok_r(p, " ", &save);
    for (int i = 1; tok != NULL && i < 20; i++)
        tok = strtok_r(NULL, " ", &save);
    if (tok == NULL)
        return -1;
    start = strtoull(tok, NULL, 10);
    return (double)start / (double)sysconf(_SC_CLK_TCK);
}

#define RESTART_MARGIN_S 2.0

/* A file's mtime as seconds since boot, as process_start counts. */
static double mtime_since_boot(const struct stat *st)
{
    struct timespec real, boot;
    clock_gettime(CLOCK_REALTIME, &real);
    clock_gettime(CLOCK_BOOTTIME, &boot);
    double offset = (double)(real.tv_sec - boot.tv_sec) + (real.tv_nsec - boot.tv_nsec) / 1e9;
    return (double)st->st_mtim.tv_sec + st->st_mtim.tv_nsec / 1e9 - offset;
}

static void check_restart(struct ctx *c)
{
    if (c->dockerd <= 0) {
        add(c->r, "docker restart", DOCTOR_SKIPPED, NULL, "dockerd is not running%s",
            c->docker_up ? " here (or its process cannot be found)" : "");
        return;
    }
    double started = process_start(c->dockerd);
    struct strv why = {0};
    struct stat st;
    /* dockerd's start time has clock-tick resolution and the two clocks of
     * a VM drift apart by a little: a hook put in place moments before
     * dockerd started (a script that does both) must not read as later. A
     * real "installed afterwards" is seconds to days later. */
    if (c->hook != NULL && started >= 0 && lstat(c->hook, &st) == 0 &&
        mtime_since_boot(&st) > started + RESTART_MARGIN_S)
        strv_push(&why, xasprintf("`%s` was installed after dockerd started, so dockerd has no "
                                  "GPU support: `docker run --gpus` fails with `could not "
                                  "select device driver \"\" with capabilities: [[gpu]]`",
                                  c->hook));
    json_t *rts = c->daemon_cfg ? json_object_get(c->daemon_cfg, "runtimes") : NULL;
    json_t *live = c->info ? json_object_get(c->info, "Runtimes") : NULL;
    if (json_is_object(rts) && json_object_get(rts, DOCTOR_RUNTIME_NAME) != NULL &&
        json_is_object(live) && json_object_get(live, DOCTOR_RUNTIME_NAME) == NULL)
        strv_push(&why, xasprintf("dockerd has not loaded the \"%s\" runtime of `%s`: "
                                  "`--runtime=%s` and Compose's `runtime: %s` fail with "
                                  "`unknown or invalid runtime name: %s` (Docker 20.10: "
                                  "`Unknown runtime specified %s`)",
                                  DOCTOR_RUNTIME_NAME, c->daemon_json, DOCTOR_RUNTIME_NAME,
                                  DOCTOR_RUNTIME_NAME, DOCTOR_RUNTIME_NAME, DOCTOR_RUNTIME_NAME));
    if (why.len == 0) {
        add(c->r, "docker restart", DOCTOR_OK, NULL,
            "dockerd (pid %d) runs with the current hook and daemon.json", (int)c->dockerd);
    } else {
        cleanup_free char *text = xstrdup(why.items[0]);
        for (size_t i = 1; i < why.len; i++) {
            char *more = xasprintf("%s; %s", text, why.items[i]);
            free(text);
            text = more;
        }
        /* each is a sure failure: 20.10 and 26 look for the hook only as
         * they start, and a runtime is read only from the file at start */
        add(c->r, "docker restart", DOCTOR_ERROR, xstrdup("systemctl restart docker"),
            "restart needed: %s", text);
    }
    strv_clear(&why);
}

/* Docker's own CDI (`docker run --device nvidia.com/gpu=0`): none before 25;
 * from 25 on behind "features": {"cdi": true}, the daemon then lists the
 * spec dirs it reads in /info's CDISpecDirs (an empty list when off). */
static void check_docker_cdi(struct ctx *c)
{
    if (!c->docker_up || c->server_version == NULL) {
        add(c->r, "docker cdi", DOCTOR_SKIPPED, NULL, "Docker is not running");
        return;
    }
    const char *v = c->server_version;
    json_t *features = c->daemon_cfg ? json_object_get(c->daemon_cfg, "features") : NULL;
    bool asked = json_is_true(json_object_get(features, "cdi"));
    if (strtol(v, NULL, 10) < 25) {
        if (asked)
            add(c->r, "docker cdi", DOCTOR_WARNING,
                xstrdup("give GPUs with docker run --gpus (or move to Docker 25 or later for "
                        "--device nvidia.com/gpu=N)"),
                "Docker %s has no CDI (Docker 25 and later have it): \"features\": {\"cdi\": "
                "true} in `%s` does nothing and `docker run --device nvidia.com/gpu=0` fails "
                "(`is not an absolute path`)",
                v, c->daemon_json);
        else
            add(c->r, "docker cdi", DOCTOR_OK, NULL,
                "Docker %s has no CDI (Docker 25 and later have it): GPUs come through --gpus "
                "and the nvidia runtime",
                v);
        return;
    }
    json_t *dirs = c->info ? json_object_get(c->info, "CDISpecDirs") : NULL;
    if (json_array_size(dirs) > 0) {
        cleanup_free char *list = xstrdup("");
        size_t i;
        json_t *d;
        json_array_foreach(dirs, i, d)
        {
            char *more = xasprintf("%s%s`%s`", list, i ? ", " : "", json_string_value(d));
            free(list);
            list = more;
        }
        add(c->r, "docker cdi", DOCTOR_OK, NULL,
            "Docker %s reads CDI specs from %s: docker run --device nvidia.com/gpu=N works", v,
            list);
    } else if (asked) {
        add(c->r, "docker cdi", DOCTOR_WARNING, xstrdup("systemctl restart docker"),
            "`%s` turns CDI on but dockerd %s has not loaded it: `docker run --device "
            "nvidia.com/gpu=0` fails with `could not select device driver \"cdi\" with "
            "capabilities: []`",
            c->daemon_json, v);
    } else {
        add(c->r, "docker cdi", DOCTOR_OK, NULL,
            "Docker %s has CDI off: --gpus works; `docker run --device nvidia.com/gpu=0` would "
            "fail with `could not select device driver \"cdi\" with capabilities: []` (`gctk "
            "runtime configure --cdi` turns it on)",
            v);
    }
}

/* ---- podman -------------------------------------------------------------------------- */

/* The version `prog --version` prints after "version " on its first line
 * ("podman version 5.4.2", "crun version 1.21", "runc version 1.1.5+ds1":
 * 1.1.5); NULL when prog is not on the PATH or says no version. crun makes
 * its state directory whatever the command, --version too: it is given one
 * in a temporary directory, removed after. Owned. */
static char *program_version(const struct ctx *c, const char *prog)
{
    cleanup_free char *path = find_program(c, prog);
    if (path == NULL)
        return NULL;
    cleanup_free char *dir = NULL, *state = NULL, *out = NULL;
    const char *argv[] = {path, "--version", NULL, NULL, NULL};
    if (strcmp(prog, "crun") == 0) {
        if ((dir = temp_dir_make("gctk-doctor")) == NULL)
            return NULL;
        state = path_join(dir, "state");
        argv[1] = "--root";
        argv[2] = state;
        argv[3] = "--version";
    }
    int rc = run_capture(argv, VERSION_OUTPUT_MAX, VERSION_TIMEOUT_MS, &out, NULL);
    if (dir != NULL) {
        rmdir(state);
        rmdir(dir);
    }
    if (rc < 0)
        return NULL;
    out[strcspn(out, "\n")] = '\0';
    const char *v = strstr(out, "version ");
    if (v == NULL)
        return NULL;
    v += strlen("version ");
    char *version = xstrndup(v, strspn(v, "0123456789."));
    if (version_parse(version, (unsigned[VERSION_MAX_PARTS]){0}, NULL, NULL) < 0) {
        free(version);
        return NULL;
    }
    return version;
}

/* The runtime Podman runs: `[engine] runtime` of its containers.conf files
 * (CONTAINERS_CONF alone when set; else the package's, the machine's, then
 * its drop-ins in order, the last that sets it winning), else crun where it
 * is installed, else runc. Owned. */
static char *podman_runtime(const struct ctx *c)
{
    cleanup_strv struct strv files = {0};
    const char *only = getenv("CONTAINERS_CONF");
    if (only != NULL && only[0] != '\0') {
        strv_push(&files, xstrdup(only));
    } else {
        strv_push(&files, xstrdup("/usr/share/containers/containers.conf"));
        strv_push(&files, xstrdup("/etc/containers/containers.conf"));
        glob_t g;
        if (glob("/etc/containers/containers.conf.d/*.conf", 0, NULL, &g) == 0)
            for (size_t i = 0; i < g.gl_pathc; i++)
                strv_push(&files, xstrdup(g.gl_pathv[i]));
        globfree(&g);
    }
    char *runtime = NULL;
    for (size_t i = 0; i < files.len; i++) {
        cleanup_json json_t *doc = gctk_toml_load(files.items[i], CONTAINERS_CONF_MAX, NULL);
        const char *name = json_str(json_object_get(doc, "engine"), "runtime");
        if (name != NULL && name[0] != '\0') {
            free(runtime);
            runtime = xstrdup(name);
        }
    }
    if (runtime != NULL)
        return runtime;
    cleanup_free char *crun = find_program(c, "crun");
    return xstrdup(crun != NULL ? "crun" : "runc");
}

/* Podman 5 with crun before 1.27 (Debian 13: 5.4 and 1.21): in a container
 * of a user namespace of its own, crun cannot enter the bundle and refuses
 * every createContainer hook before it runs, so no CDI device works there
 * (docs/cdi.md). No line where Podman is not installed. */
static void check_podman(struct ctx *c)
{
    cleanup_free char *podman = program_version(c, "podman");
    if (podman == NULL)
        return;
    cleanup_free char *runtime = podman_runtime(c);
    /* only these two are asked: a containers.conf may name any program */
    bool known = strcmp(runtime, "crun") == 0 || strcmp(runtime, "runc") == 0;
    cleanup_free char *version = known ? program_version(c, runtime) : NULL;
    if (version == NULL) {
        add(c->r, "podman", DOCTOR_OK, NULL, "Podman %s with the runtime `%s`", podman, runtime);
        return;
    }
    if (version_cmp(podman, "5") < 0 || strcmp(runtime, "crun") != 0 ||
        version_cmp(version, "1.27") >= 0) {
        add(c->r, "podman", DOCTOR_OK, NULL, "Podman %s with %s %s", podman, runtime, version);
        return;
    }
    struct stat st;
    bool hooks_d = stat(ENGINE_PODMAN_HOOK, &st) == 0;
    add(c->r, "podman", DOCTOR_WARNING,
        xasprintf("give such a container its GPUs through Podman's hooks.d: %s`podman run "
                  "--uidmap ... -e NVIDIA_VISIBLE_DEVICES=0`",
                  hooks_d ? "" : "`gctk runtime configure --runtime=podman`, then "),
        "Podman %s with crun %s: a container of a user namespace of its own (`--uidmap`, "
        "`--userns`) cannot have a CDI device (`--device nvidia.com/gpu=0`): crun cannot "
        "enter its bundle and refuses its createContainer hooks, gctk's and NVIDIA's, "
        "before they run (`error executing hook`)",
        podman, version);
}

/* ---- cgroups ------------------------------------------------------------------------- */

/* The first /dev/char/MAJ:MIN link of a GPU node that is missing or leads
 * elsewhere (systemd resolves DeviceAllow= rules through them), as a path;
 * NULL when all are there. Owned. */
static char *dev_char_missing(const struct ctx *c)
{
    if (c->driver == NULL)
        return NULL;
    struct host_node_spec control[HOST_CONTROL_NODES];
    host_control_nodes(host_char_major(c->root, "nvidia-uvm"), control);
    size_t n = c->host != NULL ? gctk_host_gpu_count(c->host) : 0;
    for (size_t i = 0; i < HOST_CONTROL_NODES + n; i++) {
        cleanup_free char *node =
            i < HOST_CONTROL_NODES
                ? path_join(c->root, control[i].path)
                : xasprintf("%s/dev/nvidia%d", strcmp(c->root, "/") == 0 ? "" : c->root,
                            gctk_host_gpu(c->host, i - HOST_CONTROL_NODES)->minor);
        struct stat st, via;
        if (stat(node, &st) < 0 || !S_ISCHR(st.st_mode))
            continue; /* the device nodes line says it */
        cleanup_free char *rel = xasprintf("/dev/char/%u:%u", major(st.st_rdev), minor(st.st_rdev));
        cleanup_free char *link = path_join(c->root, rel);
        if (stat(link, &via) < 0 || via.st_rdev != st.st_rdev || !S_ISCHR(via.st_mode))
            return steal_pointer(&link);
    }
    return NULL;
}

/* The cgroup version of this machine (or the one the options say). */
static int cgroup_version_here(const struct ctx *c)
{
    if (c->o->cgroup_version != 0)
        return c->o->cgroup_version;
    struct statfs sf;
    return statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_MAGIC ? 2 : 1;
}

static void check_cgroup(struct ctx *c)
{
    int version = cgroup_version_here(c);
    const char *driver = NULL, *source = NULL;
    if (c->info != NULL && json_str(c->info, "CgroupDriver") != NULL) {
        driver = json_str(c->info, "CgroupDriver");
        source = "dockerd";
    }
    json_t *opts = c->daemon_cfg ? json_object_get(c->daemon_cfg, "exec-opts") : NULL;
    for (size_t i = 0; driver == NULL && i < json_array_size(opts); i++) {
        const char *s = json_string_value(json_array_get(opts, i));
        if (s != NULL && str_has_prefix(s, "native.cgroupdriver=")) {
            driver = s + strlen("native.cgroupdriver=");
            source = "daemon.json";
        }
    }
    if (driver == NULL) {
        /* Docker's default since 20.10: systemd on cgroup v2, cgroupfs on v1 */
        driver = version == 2 ? "systemd" : "cgroupfs";
        source = "Docker's default";
    }
    json_t *features = c->daemon_cfg ? json_object_get(c->daemon_cfg, "features") : NULL;
    bool cdi = json_is_true(json_object_get(features, "cdi"));
    if (strcmp(driver, "systemd") != 0) {
        add(c->r, "cgroup", DOCTOR_OK, NULL, "cgroup v%d, %s cgroup driver (%s)%s", version, driver,
            source, cdi ? ", CDI enabled" : "");
        return;
    }
    /* systemd owns the containers' cgroups and, on `systemctl daemon-reload`,
     * applies again the device rules it knows: on v1 and v2 alike. It knows a
     * device when runc told it, as /dev/char/MAJ:MIN (a link that must
     * exist), and never one a hook allowed afterwards. */
    cleanup_free char *missing = dev_char_missing(c);
    cleanup_free char *links =
        missing != NULL
            ? xasprintf(" and the /dev/char links systemd finds devices by (`%s` is missing): "
                        "gctk dev-char-links",
                        missing)
            : xstrdup("");
    if (!cdi) {
        add(c->r, "cgroup", DOCTOR_WARNING,
            xasprintf("give the GPUs through CDI, so that runc declares them to systemd: gctk cdi "
                      "generate --output /etc/cdi/nvidia.yaml && gctk runtime configure --cdi, "
                      "then `docker run --device nvidia.com/gpu=all`%s; or set \"exec-opts\": "
                      "[\"native.cgroupdriver=cgroupfs\"] in daemon.json and restart docker",
                      links),
            "cgroup v%d with the systemd cgroup driver (%s): `systemctl daemon-reload` (run by "
            "package upgrades too) takes the GPUs the hook allowed away from running containers "
            "(`Failed to initialize NVML: Unknown Error` until they restart)",
            version, source);
        return;
    }
    if (missing != NULL) {
        add(c->r, "cgroup", DOCTOR_WARNING, xstrdup("gctk dev-char-links"),
            "cgroup v%d with the systemd cgroup driver (%s) and CDI: `%s` is missing, so systemd "
            "drops the GPUs runc declares and `systemctl daemon-reload` takes them away from "
            "running containers (`Failed to initialize NVML: Unknown Error`)",
            version, source, missing);
        return;
    }
    add(c->r, "cgroup", DOCTOR_OK, NULL,
        "cgroup v%d, systemd cgroup driver (%s), CDI enabled and the /dev/char links in place: "
        "systemd keeps the GPUs through a daemon-reload",
        version, source);
}

/* On cgroup v2 the hook keeps the device programs it loads in bpffs for the
 * next container; without a bpffs each GPU container pays a load. */
static void check_device_programs(struct ctx *c)
{
    cleanup_free char *parent = cgroup_prog_parent(NULL);
    if (cgroup_version_here(c) != 2 || parent == NULL)
        return;
    if (cgroup_keeps_programs()) {
        add(c->r, "device programs", DOCTOR_OK, NULL,
            "cgroup v2: the device programs the hook loads are kept in `%s` for the next "
            "container",
            cgroup_prog_dir);
        return;
    }
    add(c->r, "device programs", DOCTOR_WARNING,
        xasprintf("mount -t bpf bpf %s (systemd mounts it at boot; elsewhere add `bpf %s bpf "
                  "defaults 0 0` to /etc/fstab)",
                  parent, parent),
        "cgroup v2 without a bpffs at `%s`: every GPU container has its device program loaded "
        "anew (the kernel's verifier, 0.3-0.5 ms of each start)",
        parent);
}

/* ---- CDI specs ---------------------------------------------------------------------- */

/* A spec's host path on the checked host: specs written for a simulated
 * root may name paths inside it already. Owned. */
static char *spec_host_path(const struct ctx *c, const char *p)
{
    size_t n = strlen(c->root);
    if (strcmp(c->root, "/") != 0 && strncmp(p, c->root, n) == 0 && p[n] == '/')
        return xstrdup(p);
    return path_join(c->root, p);
}

struct spec_check {
    struct strv problems;
    bool stale;
    size_t nodes, mounts;
};

/* A driver file a spec mounts: of the running driver, and there. */
static void check_mount_source(const struct ctx *c, struct spec_check *s, const char *p)
{
    s->mounts++;
    cleanup_free char *version = NULL;
    cleanup_free char *full = spec_host_path(c, p);
    switch (cdi_source_check(full, c->driver, &version)) {
    case CDI_SOURCE_OTHER_DRIVER:
        strv_push(&s->problems, xasprintf("`%s` is of driver %s, the running driver is %s", p,
                                          version, c->driver));
        s->stale = true;
        break;
    case CDI_SOURCE_MISSING:
        strv_push(&s->problems, xasprintf("`%s` is missing", full));
        s->stale = true;
        break;
    case CDI_SOURCE_OK:
        break;
    }
}

struct hook_sources {
    const struct ctx *c;
    struct spec_check *s;
};

static void check_hook_source(void *ctx, size_t i, const char *host, const char *bad)
{
    (void)i;
    const struct hook_sources *h = ctx;
    if (bad != NULL)
        strv_push(&h->s->problems, xasprintf("its hook's %s", bad));
    else
        check_mount_source(h->c, h->s, host);
}

static void check_edits(const struct ctx *c, const json_t *edits, struct spec_check *s)
{
    const json_t *nodes = json_object_get(edits, "deviceNodes");
    for (size_t i = 0; i < json_array_size(nodes); i++) {
        const json_t *n = json_array_get(nodes, i);
        const char *p = json_str(n, "hostPath") ? json_str(n, "hostPath") : json_str(n, "path");
        if (p == NULL)
            continue;
        s->nodes++;
        cleanup_free char *full = spec_host_path(c, p);
        struct stat st;
        const json_t *maj = json_object_get(n, "major"), *min = json_object_get(n, "minor");
        if (stat(full, &st) < 0) {
            strv_push(&s->problems, xasprintf("device node `%s` is missing", full));
            s->stale = true;
        } else if (!S_ISCHR(st.st_mode)) {
            strv_push(&s->problems, xasprintf("`%s` is not a character device", full));
        } else if ((json_is_integer(maj) && json_integer_value(maj) != major(st.st_rdev)) ||
                   (json_is_integer(min) && json_integer_value(min) != minor(st.st_rdev))) {
            strv_push(&s->problems,
                      xasprintf("`%s` is %u:%u, the spec says %lld:%lld", full, major(st.st_rdev),
                                minor(st.st_rdev), (long long)json_integer_value(maj),
                                (long long)json_integer_value(min)));
            s->stale = true;
        }
    }
    const json_t *mounts = json_object_get(edits, "mounts");
    for (size_t i = 0; i < json_array_size(mounts); i++) {
        const char *p = json_str(json_array_get(mounts, i), "hostPath");
        if (p != NULL)
            check_mount_source(c, s, p);
    }
    /* gctk's specs give the driver's files to their hook (--mount) */
    const json_t *hooks = json_object_get(edits, "hooks");
    struct hook_sources hs = {c, s};
    for (size_t i = 0; i < json_array_size(hooks); i++)
        cdi_hook_mounts_each(json_object_get(json_array_get(hooks, i), "args"), check_hook_source,
                             &hs);
}

static void check_spec(struct ctx *c, const char *path, uid_t owner)
{
    json_t *spec = NULL;
    cleanup_error gctk_error *e = NULL;
    cleanup_free char *regen = xasprintf("gctk cdi generate --output %s", path);
    /* read as gctk-runtime reads specs: a spec anyone could have written
     * (which containerd, Podman and Docker would use as it is) is an error */
    if (cdi_load_trusted(path, owner, &spec, &e) < 0) {
        if (e->hint != NULL && e->code != 0)
            add(c->r, "cdi", DOCTOR_ERROR, xstrdup(e->hint),
                "%s (container engines use it as it is)", e->what);
        else
            add(c->r, "cdi", DOCTOR_ERROR, steal_pointer(&regen), "%s", e->msg);
        return;
    }
    const char *kind = json_str(spec, "kind");
    if (!json_is_object(spec) || json_str(spec, "cdiVersion") == NULL || kind == NULL) {
        add(c->r, "cdi", DOCTOR_ERROR, steal_pointer(&regen),
            "`%s` is not a CDI spec: it needs \"cdiVersion\" and \"kind\"", path);
        json_decref(spec);
        return;
    }
    if (!str_has_prefix(kind, "nvidia.com/")) {
        add(c->r, "cdi", DOCTOR_OK, NULL, "`%s`: kind %s, not NVIDIA's: not checked", path, kind);
        json_decref(spec);
        return;
    }
    struct spec_check s = {0};
    const json_t *top = json_object_get(spec, "containerEdits");
    if (top != NULL)
        check_edits(c, top, &s);
    const json_t *devices = json_object_get(spec, "devices");
    for (size_t i = 0; i < json_array_size(devices); i++)
        check_edits(c, json_object_get(json_array_get(devices, i), "containerEdits"), &s);
    if (s.problems.len == 0) {
        add(c->r, "cdi", DOCTOR_OK, NULL,
            "`%s`: %s, %zu device%s, %zu nodes and %zu mounts present%s%s", path, kind,
            json_array_size(devices), json_array_size(devices) == 1 ? "" : "s", s.nodes, s.mounts,
            c->driver ? ", driver " : "", c->driver ? c->driver : "");
    } else {
        cleanup_free char *more =
            s.problems.len > 1 ? xasprintf(" (and %zu more)", s.problems.len - 1) : xstrdup("");
        add(c->r, "cdi", DOCTOR_ERROR, steal_pointer(&regen), "%s`%s`: %s%s",
            s.stale ? "stale spec " : "", path, s.problems.items[0], more);
    }
    strv_clear(&s.problems);
    json_decref(spec);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_cdi(struct ctx *c)
{
    const char *const *dirs = c->o->cdi_dirs ? c->o->cdi_dirs : default_cdi_dirs;
    size_t before = c->r->len;
    uid_t owner = 0;
    struct gctk_config cfg = {0};
    if (config_load(c->o->config_path, &cfg, NULL) == 0)
        config_cdi_spec_owner(&cfg, &owner, NULL);
    config_clear(&cfg);
    struct strv dirs_seen = {0};
    for (size_t i = 0; dirs[i] != NULL; i++) {
        strv_push(&dirs_seen, xasprintf("`%s`", dirs[i]));
        cleanup_dir DIR *d = opendir(dirs[i]);
        if (d == NULL)
            continue;
        struct strv files = {0};
        struct dirent *de;
        while ((de = readdir(d)) != NULL)
            if (str_has_suffix(de->d_name, ".json") || str_has_suffix(de->d_name, ".yaml") ||
                str_has_suffix(de->d_name, ".yml"))
                strv_push(&files, xasprintf("%s/%s", dirs[i], de->d_name));
        if (files.len > 0)
            qsort(files.items, files.len, sizeof(char *), name_cmp);
        for (size_t f = 0; f < files.len; f++)
            check_spec(c, files.items[f], owner);
        strv_clear(&files);
    }
    if (c->r->len == before) {
        json_t *features = c->daemon_cfg ? json_object_get(c->daemon_cfg, "features") : NULL;
        bool cdi = json_is_true(json_object_get(features, "cdi"));
        cleanup_free char *list = xstrdup("");
        for (size_t i = 0; i < dirs_seen.len; i++) {
            char *more = xasprintf("%s%s%s", list, i ? ", " : "", dirs_seen.items[i]);
            free(list);
            list = more;
        }
        if (cdi)
            add(c->r, "cdi", DOCTOR_ERROR,
                xstrdup("gctk cdi generate --output /etc/cdi/nvidia.yaml"),
                "daemon.json enables CDI but no spec is in %s", list);
        else
            add(c->r, "cdi", DOCTOR_OK, NULL, "no spec in %s: CDI not in use", list);
    }
    strv_clear(&dirs_seen);
}

/* ---- gctk's config and CUDA ------------------------------------------------------------ */

static void check_config(struct ctx *c)
{
    struct gctk_config cfg = {0};
    cleanup_error gctk_error *e = NULL;
    if (config_load(c->o->config_path, &cfg, &e) < 0) {
        const char *path = c->o->config_path ? c->o->config_path : getenv("GCTK_CONFIG");
        add(c->r, "config", DOCTOR_ERROR,
            xasprintf("correct `%s`, or move it away to run with the defaults",
                      path ? path : GCTK_DEFAULT_CONFIG),
            "%s", e->msg);
        return;
    }
    if (cfg.path == NULL) {
        add(c->r, "config", DOCTOR_OK, NULL, "no config file: the defaults");
    } else {
        struct stat st;
        if (stat(cfg.root, &st) < 0 || !S_ISDIR(st.st_mode))
            add(c->r, "config", DOCTOR_ERROR,
                xasprintf("set \"root\" in `%s` to the driver root, "
                          "usually \"/\"",
                          cfg.path),
                "`%s`: \"root\" `%s` is not a directory", cfg.path, cfg.root);
        else if (cfg.hook_path != NULL && !is_executable(cfg.hook_path))
            add(c->r, "config", DOCTOR_ERROR,
                xasprintf("set \"hook-path\" in `%s` to gctk-hook's path", cfg.path),
                "`%s`: \"hook-path\" `%s` is not an executable", cfg.path, cfg.hook_path);
        else
            add(c->r, "config", DOCTOR_OK, NULL, "`%s` is valid", cfg.path);
    }
    c->no_cgroups = cfg.no_cgroups;
    c->config_file = cfg.path != NULL ? xstrdup(cfg.path) : NULL;
    config_clear(&cfg);
}

/* NVIDIA's config.toml: what became of each of its keys (gctk.conf(5)). The
 * keys gctk reads, in one line; those it does not read, in one line; and a
 * warning for each that NVIDIA's toolkit would act on differently. */
static void check_nvidia_config(struct ctx *c)
{
    struct gctk_config cfg = {0};
    if (config_load(c->o->config_path, &cfg, NULL) < 0)
        return; /* "config" says why */
    cleanup_free char *path = steal_pointer(&cfg.nvidia_path);
    config_clear(&cfg);
    if (path == NULL) {
        bool explicit = false;
        cleanup_free char *where = nvconfig_path(c->root, &explicit);
        add(c->r, "nvidia config", DOCTOR_OK, NULL, "no NVIDIA config.toml (`%s`)", where);
        return;
    }
    cleanup_json json_t *settings = NULL;
    struct nvkey_list keys = {0};
    if (config_explain(c->o->config_path, &settings, &keys, NULL) < 0)
        return;
    struct strbuf used = {0}, unused = {0};
    for (size_t i = 0; i < keys.len; i++) {
        const struct nvkey *k = &keys.items[i];
        switch (k->use) {
        case NVKEY_READ: {
            const char *from =
                json_string_value(json_object_get(json_object_get(settings, k->gctk_key), "from"));
            bool mine = from != NULL && str_has_prefix(from, path);
            strbuf_addf(&used, "%s%s -> %s%s", used.len ? ", " : "", k->key, k->gctk_key,
                        mine ? "" : " (gctk's file sets it)");
            break;
        }
        case NVKEY_SAME:
            strbuf_addf(&used, "%s%s (%s)", used.len ? ", " : "", k->key,
                        k->note != NULL ? k->note : "gctk does the same");
            break;
        case NVKEY_IGNORED:
            strbuf_addf(&unused, "%s%s", unused.len ? ", " : "", k->key);
            break;
        case NVKEY_WARNING:
            add(c->r, "nvidia config", DOCTOR_WARNING,
                xasprintf("remove `%s` from `%s`, or set what gctk should do in gctk's own "
                          "config (gctk.conf(5))",
                          k->key, path),
                "`%s`: `%s = %s` is not read: %s", path, k->key, k->value, k->note);
            break;
        }
    }
    cleanup_free char *r = strbuf_steal(&used), *n = strbuf_steal(&unused);
    add(c->r, "nvidia config", DOCTOR_OK, NULL, "`%s`: read %s", path, r[0] ? r : "no key");
    if (n[0] != '\0')
        add(c->r, "nvidia config", DOCTOR_OK, NULL,
            "`%s`: not read, with no effect on containers: %s (`gctk config` shows the "
            "effective settings)",
            path, n);
    nvkey_list_clear(&keys);
}

/* ---- who may use the GPUs ------------------------------------------------------------- */

static bool dockerd_rootless(const struct ctx *c)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)c->dockerd);
    cleanup_free char *map = NULL;
    return c->dockerd > 0 && read_file(path, 4096, &map, NULL, NULL) == 0 &&
           !inject_uid_map_is_initial(map);
}

/* "no-cgroups": true is for rootless engines, which gctk detects by itself;
 * under a rootful one every GPU container gets nodes its device cgroup
 * refuses: the most common "Failed to initialize NVML: Unknown Error" with
 * NVIDIA's toolkit too (its no-cgroups setting). */
static void check_no_cgroups(struct ctx *c)
{
    if (!c->no_cgroups)
        return;
    const char *file = c->config_file ? c->config_file : "gctk's config";
    cleanup_free char *fix = xasprintf("remove \"no-cgroups\" from `%s`: gctk leaves the device "
                                       "cgroup alone by itself when the engine is rootless (in a "
                                       "user namespace)",
                                       file);
    if (dockerd_rootless(c)) {
        add(c->r, "no-cgroups", DOCTOR_OK, NULL,
            "`%s` sets \"no-cgroups\": true and dockerd (pid %d) is rootless: its containers' "
            "device cgroups are the engine's",
            file, (int)c->dockerd);
    } else if (c->dockerd > 0 || !inject_in_user_namespace()) {
        add(c->r, "no-cgroups", c->dockerd > 0 ? DOCTOR_ERROR : DOCTOR_WARNING, steal_pointer(&fix),
            "`%s` sets \"no-cgroups\": true, but %s runs as root, outside a user namespace: the "
            "hook then leaves the GPUs out of each container's device cgroup, which refuses "
            "them (`Failed to initialize NVML: Unknown Error` in every GPU container)",
            file, c->dockerd > 0 ? "dockerd" : "this machine's engine");
    }
}

/* What a container here would meet that its own cgroup cannot change: a
 * device cgroup above this machine (it is a container: LXC, Proxmox, Docker
 * in Docker) that refuses the GPUs. Probed as the hook probes it. */
static void check_device_cgroup(struct ctx *c)
{
    if (c->driver == NULL)
        return;
    cleanup_free char *ctl = path_join(c->root, "/dev/nvidiactl");
    struct stat st;
    if (stat(ctl, &st) < 0 || !S_ISCHR(st.st_mode))
        return; /* the device nodes line says it */
    struct cgroup_device devs[2] = {{major(st.st_rdev), minor(st.st_rdev)}};
    size_t n = 1;
    int uvm = host_char_major(c->root, "nvidia-uvm");
    if (uvm >= 0)
        devs[n++] = (struct cgroup_device){(unsigned)uvm, 0};
    cleanup_error gctk_error *e = NULL;
    if (cgroup_outer_allows(ctl, devs, n, &e) == 0) {
        add(c->r, "device cgroup", DOCTOR_OK, NULL,
            "this machine's device cgroup lets `%s` be opened: containers may be given the GPUs",
            ctl);
        return;
    }
    cleanup_free char *kind = container_kind();
    add(c->r, "device cgroup", DOCTOR_ERROR, xstrdup(e->hint), "%s%s%s%s", kind ? "in a " : "",
        kind ? kind : "", kind ? " container: " : "", e->what);
}

/* gctk-hook needs CAP_SYS_ADMIN (or a user namespace) to enter containers;
 * a doctor run without it says what a hook run that way meets. */
static void check_privileges(struct ctx *c)
{
    if (inject_in_user_namespace() || inject_has_cap_sys_admin())
        return;
    add(c->r, "privileges", DOCTOR_WARNING,
        xstrdup("run the engine as root; or rootless with a user namespace (rootless Podman or "
                "Docker run hooks inside it); or give the GPUs through CDI, which needs no hook: "
                "gctk cdi generate --output /etc/cdi/nvidia.yaml"),
        "gctk doctor runs as uid %u without CAP_SYS_ADMIN, outside a user namespace: fine for "
        "these checks, but gctk-hook run so (runc run by a user, without a rootless engine) "
        "cannot enter containers to give them GPUs",
        (unsigned)geteuid());
}

static void add_cuda_verdict(struct ctx *c, const char *want)
{
    struct cudacompat_result res = {0};
    cleanup_error gctk_error *e = NULL;
    if (cudacompat_check(want, c->driver, c->nvml_cuda[0] ? c->nvml_cuda : NULL, &res, &e) < 0) {
        add(c->r, "cuda", DOCTOR_ERROR, NULL, "%s", e->msg);
        return;
    }
    switch (res.verdict) {
    case CUDACOMPAT_NATIVE:
        add(c->r, "cuda", DOCTOR_OK, NULL, "CUDA %s: %s", want, res.explanation);
        break;
    case CUDACOMPAT_MINOR_VERSION:
        add(c->r, "cuda", DOCTOR_WARNING,
            res.min_driver
                ? xasprintf("for full CUDA %s support install driver >= %s", want, res.min_driver)
                : NULL,
            "CUDA %s: %s", want, res.explanation);
        break;
    case CUDACOMPAT_FORWARD_COMPAT_NEEDED:
    case CUDACOMPAT_UNSUPPORTED: {
        int fwd = cudacompat_forward_compat_brand(c->gpu_brand);
        add(c->r, "cuda", DOCTOR_ERROR,
            res.min_driver ? xasprintf("install driver >= %s%s", res.min_driver,
                                       fwd > 0 && res.verdict == CUDACOMPAT_FORWARD_COMPAT_NEEDED
                                           ? ", or use the image's cuda-compat package"
                                           : "")
                           : NULL,
            "CUDA %s: %s", want, res.explanation);
        break;
    }
    }
    cudacompat_result_clear(&res);
}

/* An image's NVIDIA_REQUIRE_* (what: "`FILE`", "image `x`") against the host. */
static int check_require_env(struct ctx *c, const char *what, struct strv *env, gctk_error **err)
{
    if (c->driver == NULL) {
        add(c->r, "cuda", DOCTOR_SKIPPED, NULL, "%s: kernel module not loaded", what);
        return 0;
    }
    strv_push(env, NULL);
    env->len--;
    cleanup_free char *note = NULL;
    require_disabled(env->items, &note);
    if (note != NULL)
        add(c->r, "cuda", DOCTOR_WARNING, NULL, "%s: %s", what, note);
    const struct require_facts facts = {
        .cuda = c->nvml_cuda[0] ? c->nvml_cuda : NULL,
        .driver = c->driver,
        .brand = c->gpu_brand,
    };
    gctk_error *e = NULL;
    int r = require_check_env(env->items, &facts, true, &e);
    if (r < 0) {
        gctk_error_propagate(err, &e);
        return gctk_wrap(err, "%s", what);
    }
    if (r == 0)
        add(c->r, "cuda", DOCTOR_ERROR, xstrdup("see `gctk compat --image-env` for the GPUs"),
            "%s: %s", what, e->msg);
    else
        add(c->r, "cuda", DOCTOR_OK, NULL, "%s: the image's requirements hold", what);
    gctk_error_free(e);
    return 0;
}

static int check_cuda(struct ctx *c, gctk_error **err)
{
    if (c->o->cuda == NULL && c->o->image_env == NULL)
        return 0;
    if (c->driver == NULL) {
        add(c->r, "cuda", DOCTOR_SKIPPED, NULL, "kernel module not loaded");
        return 0;
    }
    if (c->o->cuda != NULL)
        add_cuda_verdict(c, c->o->cuda);
    if (c->o->image_env == NULL)
        return 0;
    cleanup_strv struct strv env = {0};
    if (env_file_read(c->o->image_env, &env, err) < 0)
        return -1;
    cleanup_free char *what = xasprintf("`%s`", c->o->image_env);
    return check_require_env(c, what, &env, err);
}

/* --image and --container (inspect.c). */
static int check_inspect(struct ctx *c, gctk_error **err)
{
    if (c->o->image == NULL && c->o->container == NULL)
        return 0;
    const struct doctor_facts facts = {
        .root = c->root, .driver = c->driver, .host = c->host, .docker_host = c->docker_host};
    if (c->o->image != NULL) {
        cleanup_strv struct strv env = {0};
        if (doctor_inspect_image(&facts, c->o->image, c->r, &env, err) < 0)
            return -1;
        cleanup_free char *what = xasprintf("image `%s`", c->o->image);
        if (env.len > 0 && check_require_env(c, what, &env, err) < 0)
            return -1;
    }
    if (c->o->container != NULL &&
        doctor_inspect_container(&facts, c->o->container, c->o->runc_root, c->r, err) < 0)
        return -1;
    return 0;
}

/* gctk-hook beside this program (the build tree, or the install dir). Owned. */
static char *default_hook_source(void)
{
    char *beside = self_sibling("gctk-hook");
    return beside != NULL ? beside : xstrdup("/usr/bin/gctk-hook");
}

/* ---- all of it ------------------------------------------------------------------------ */

int doctor_run(const struct doctor_options *o, struct doctor_report *out, gctk_error **err)
{
    struct ctx c = {.o = o, .r = out, .root = o->root ? o->root : "/"};
    if (o->cuda != NULL) {
        unsigned parts[VERSION_MAX_PARTS];
        size_t n = 0;
        if (version_parse(o->cuda, parts, &n, NULL) < 0 || n < 2 || n > 3)
            return gctk_fail(err, 0, "bad CUDA version `%s`: expected MAJOR.MINOR, like 12.4",
                             o->cuda);
    }
    c.docker_host = o->docker_host;
    if (c.docker_host == NULL)
        c.docker_host = getenv("DOCKER_HOST");
    if (c.docker_host == NULL || c.docker_host[0] == '\0')
        c.docker_host = DOCTOR_DEFAULT_DOCKER_HOST;
    c.sock = str_has_prefix(c.docker_host, "unix://") ? c.docker_host + 7 : NULL;
    c.daemon_json = o->daemon_json ? o->daemon_json : ENGINE_DOCKER_CONFIG;
    c.hook_source = o->hook_source ? xstrdup(o->hook_source) : default_hook_source();

    check_driver(&c);
    check_libraries(&c);
    if (c.driver != NULL)
        gctk_host_open(c.root, GCTK_HOST_NO_NVML, &c.host, NULL);
    check_arch(&c);
    check_nodes(&c);
    check_nvml(&c);
    check_gpus(&c);

    check_docker(&c);
    check_daemon_json(&c);
    const char *pidfile = json_str(c.daemon_cfg, "pidfile");
    c.dockerd = o->dockerd_pid > 0 ? o->dockerd_pid
                : c.sock != NULL
                    ? doctor_find_dockerd(c.docker_host, pidfile ? pidfile : "/var/run/docker.pid")
                    : 0;
    bool assumed = true;
    c.dockerd_path = dockerd_path_env(c.dockerd, &assumed);
    check_runtime(&c);
    check_hook(&c, assumed);
    check_restart(&c);
    check_docker_cdi(&c);
    check_podman(&c);
    check_cgroup(&c);
    check_device_programs(&c);
    check_cdi(&c);
    check_config(&c);
    check_nvidia_config(&c);
    check_no_cgroups(&c);
    check_device_cgroup(&c);
    check_privileges(&c);
    int r = check_cuda(&c, err);
    if (r == 0)
        r = check_inspect(&c, err);

    nvml_close(c.nvml);
    gctk_host_free(c.host);
    json_decref(c.info);
    free(c.server_version);
    json_decref(c.daemon_cfg);
    free(c.driver);
    free(c.nvml_lib);
    free(c.gpu_brand);
    free(c.dockerd_path);
    free(c.hook);
    free(c.hook_source);
    free(c.config_file);
    return r;
}
