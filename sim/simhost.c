/* The simulated host as the mock driver libraries see it (see simhost.h).
 * Only libc: the mocks must load in any image, like the real libraries. */
#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "simhost.h"

/* `gctk sim create` patches the eight digits in the copy it installs (see
 * sim/sim.c); volatile keeps the compiler from folding the value away. */
__attribute__((used)) static const volatile char cuda_marker[] = "GCTK-SIM-CUDA-VERSION=00013000";

/* Library directories, longest first: the root is what precedes them. */
static const char *const lib_dirs[] = {
    "/usr/lib/x86_64-linux-gnu",
    "/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/lib/aarch64-linux-gnu",
    "/usr/lib/i386-linux-gnu",
    "/usr/lib64",
    "/usr/lib32",
    "/usr/lib",
    "/lib64",
    "/lib",
};

int simhost_cuda_version(void)
{
    const size_t off = sizeof("GCTK-SIM-CUDA-VERSION=") - 1;
    int v = 0;
    for (size_t i = 0; i < 8; i++) {
        char c = cuda_marker[off + i];
        if (c < '0' || c > '9')
            return 13000;
        v = v * 10 + (c - '0');
    }
    return v;
}

static char *read_small(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    while (buf != NULL) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
        if (n == cap) {
            if (cap >= 1 << 20)
                break;
            cap *= 2;
            char *bigger = realloc(buf, cap + 1);
            if (bigger == NULL)
                free(buf);
            buf = bigger;
        }
    }
    close(fd);
    if (buf != NULL)
        buf[n] = '\0';
    return buf;
}

/* Finds "Key:" at the start of a line and copies its trimmed value. */
static bool field(const char *text, const char *key, char *out, size_t size)
{
    size_t klen = strlen(key);
    for (const char *line = text; line != NULL && *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
        if (len > klen && strncmp(line, key, klen) == 0 && line[klen] == ':') {
            const char *v = line + klen + 1;
            const char *e = line + len;
            while (v < e && isspace((unsigned char)*v))
                v++;
            while (e > v && isspace((unsigned char)e[-1]))
                e--;
            snprintf(out, size, "%.*s", (int)(e - v), v);
            return true;
        }
        line = end != NULL ? end + 1 : NULL;
    }
    return false;
}

/* The version in "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.95.05  Sun ..."
 * (or "... Open Kernel Module for x86_64  580.95.05  Release Build ..."): the
 * first token after "Kernel Module" that starts with a digit. */
static bool parse_kernel_version(const char *text, char *out, size_t size)
{
    const char *p = strstr(text, "Kernel Module");
    if (p == NULL)
        return false;
    p += strlen("Kernel Module");
    while (*p != '\0' && *p != '\n') {
        while (*p == ' ' || *p == '\t')
            p++;
        size_t n = strcspn(p, " \t\n");
        if (n > 0 && isdigit((unsigned char)*p)) {
            snprintf(out, size, "%.*s", (int)n, p);
            return true;
        }
        p += n;
    }
    return false;
}

/* The library's own file, through the loader: its directory gives the root,
 * its versioned name (libnvidia-ml.so.580.95.05) the library version. */
static void locate_self(const void *anchor, struct simhost *h)
{
    Dl_info info;
    char real[PATH_MAX];
    h->root[0] = '\0';
    h->library_version[0] = '\0';
    if (dladdr(anchor, &info) == 0 || info.dli_fname == NULL ||
        realpath(info.dli_fname, real) == NULL)
        return;
    char *base = strrchr(real, '/');
    if (base == NULL)
        return;
    *base++ = '\0';
    const char *so = strstr(base, ".so.");
    /* "libcuda.so.1" is the SONAME link resolved to nothing better (a build
     * tree): it carries no version, so no mismatch can be detected */
    if (so != NULL && strchr(so + 4, '.') != NULL)
        snprintf(h->library_version, sizeof(h->library_version), "%s", so + 4);
    /* the root comes from the directory the loader found us in, before
     * symlinks are resolved: an image's lib dir may be a link elsewhere in
     * the rootfs, and the lib dir is where ld.so.cache says it is */
    char loaded[PATH_MAX];
    snprintf(loaded, sizeof(loaded), "%s", info.dli_fname);
    char *slash = strrchr(loaded, '/');
    if (slash != NULL)
        *slash = '\0';
    const char *dirs[] = {loaded, real};
    for (size_t d = 0; d < 2; d++) {
        size_t n = strlen(dirs[d]);
        for (size_t i = 0; i < sizeof(lib_dirs) / sizeof(lib_dirs[0]); i++) {
            size_t m = strlen(lib_dirs[i]);
            if (n >= m && strcmp(dirs[d] + n - m, lib_dirs[i]) == 0) {
                snprintf(h->root, sizeof(h->root), "%.*s", (int)(n - m), dirs[d]);
                return;
            }
        }
    }
    /* not in a lib dir (a build tree): GCTK_SIM_ROOT names the host */
    const char *env = getenv("GCTK_SIM_ROOT");
    if (env != NULL && strcmp(env, "/") != 0)
        snprintf(h->root, sizeof(h->root), "%s", env);
}

/* 0: fine (ENXIO is what a node without a real driver behind it gives);
 * -1: missing; -2: denied, as a device cgroup or a nodev mount denies it. */
static int probe_node(const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd >= 0) {
        close(fd);
        return 0;
    }
    if (errno == ENOENT || errno == ENOTDIR)
        return -1;
    if (errno == EPERM || errno == EACCES)
        return -2;
    return 0;
}

static int gpu_cmp(const void *a, const void *b)
{
    const struct simhost_gpu *x = a, *y = b;
    if (x->domain != y->domain)
        return x->domain < y->domain ? -1 : 1;
    if (x->bus != y->bus)
        return x->bus < y->bus ? -1 : 1;
    return x->device < y->device ? -1 : x->device > y->device;
}

static bool read_gpu(const char *dir, struct simhost_gpu *g)
{
    char path[PATH_MAX + 512], value[128];
    memset(g, 0, sizeof(*g));
    snprintf(path, sizeof(path), "%s/information", dir);
    char *info = read_small(path);
    if (info == NULL)
        return false;
    unsigned fn = 0;
    bool ok = field(info, "Model", g->name, sizeof(g->name)) &&
              field(info, "GPU UUID", g->uuid, sizeof(g->uuid)) &&
              field(info, "Bus Location", value, sizeof(value)) &&
              sscanf(value, "%x:%x:%x.%x", &g->domain, &g->bus, &g->device, &fn) == 4 &&
              field(info, "Device Minor", value, sizeof(value));
    if (ok)
        g->minor = atoi(value);
    free(info);
    if (!ok)
        return false;
    snprintf(g->bus_id, sizeof(g->bus_id), "%08x:%02x:%02x.%x", g->domain, g->bus, g->device, fn);
    snprintf(g->legacy, sizeof(g->legacy), "%04x:%02x:%02x.%x", g->domain & 0xffff, g->bus,
             g->device, fn);

    snprintf(g->brand, sizeof(g->brand), "Unknown");
    snprintf(path, sizeof(path), "%s/gctk-sim", dir);
    char *extra = read_small(path);
    if (extra != NULL) {
        if (field(extra, "Memory MiB", value, sizeof(value)))
            g->memory_mib = strtoull(value, NULL, 10);
        field(extra, "Brand", g->brand, sizeof(g->brand));
        if (field(extra, "Compute Capability", value, sizeof(value)))
            sscanf(value, "%d.%d", &g->cc_major, &g->cc_minor);
        if (field(extra, "Persistence Mode", value, sizeof(value)))
            g->persistence = strcmp(value, "Enabled") == 0;
        if (field(extra, "Init Delay MS", value, sizeof(value)))
            g->init_delay_ms = (unsigned)strtoul(value, NULL, 10);
        free(extra);
    }
    return true;
}

/* The nvidia-cap minor in a capability access file, or -1. */
static int cap_minor(const char *path)
{
    char *text = read_small(path);
    char value[32];
    int minor = -1;
    if (text != NULL && field(text, "DeviceFileMinor", value, sizeof(value)))
        minor = atoi(value);
    free(text);
    return minor;
}

/* Whether this process may use a capability: its access file is there and
 * its node opens. */
static int cap_usable(const struct simhost *h, unsigned gpu_minor, unsigned gi, int ci)
{
    char path[PATH_MAX + 128], node[PATH_MAX + 64];
    if (ci < 0)
        snprintf(path, sizeof(path), "%s/proc/driver/nvidia/capabilities/gpu%u/mig/gi%u/access",
                 h->root, gpu_minor, gi);
    else
        snprintf(path, sizeof(path),
                 "%s/proc/driver/nvidia/capabilities/gpu%u/mig/gi%u/ci%d/access", h->root,
                 gpu_minor, gi, ci);
    int minor = cap_minor(path);
    if (minor < 0)
        return -1;
    snprintf(node, sizeof(node), "%s/dev/nvidia-caps/nvidia-cap%d", h->root, minor);
    return probe_node(node);
}

/* MIG mode and the visible MIG devices of each GPU, from the "MIG Mode:" and
 * "MIG Device: <gi> <ci> <profile> <uuid> <MiB>" lines of its gctk-sim file. */
static void load_migs(struct simhost *h)
{
    size_t cap = 0;
    for (unsigned i = 0; i < h->count; i++) {
        struct simhost_gpu *g = &h->gpus[i];
        g->first_mig = h->mig_count;
        g->mig_count = 0;
        g->mig_mode = g->cc_major >= 8 ? 0 : -1;
        char path[PATH_MAX + 128];
        snprintf(path, sizeof(path), "%s/proc/driver/nvidia/gpus/%s/gctk-sim", h->root, g->legacy);
        char *extra = read_small(path);
        if (extra == NULL)
            continue;
        char value[32];
        if (g->mig_mode == 0 && field(extra, "MIG Mode", value, sizeof(value)))
            g->mig_mode = strcmp(value, "Enabled") == 0;
        for (const char *line = extra; g->mig_mode == 1 && line != NULL && *line != '\0';) {
            struct simhost_mig m = {.gpu = i};
            if (sscanf(line, "MIG Device: %u %u %31s %47s %llu", &m.gi, &m.ci, m.profile, m.uuid,
                       &m.memory_mib) == 5 &&
                cap_usable(h, (unsigned)g->minor, m.gi, -1) == 0 &&
                cap_usable(h, (unsigned)g->minor, m.gi, (int)m.ci) == 0) {
                if (h->mig_count == cap) {
                    cap = cap ? cap * 2 : 8;
                    struct simhost_mig *more = realloc(h->migs, cap * sizeof(*more));
                    if (more == NULL)
                        abort();
                    h->migs = more;
                }
                h->migs[h->mig_count++] = m;
                g->mig_count++;
            }
            line = strchr(line, '\n');
            if (line != NULL)
                line++;
        }
        free(extra);
    }
}

static enum simhost_status load_gpus(struct simhost *h)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/proc/driver/nvidia/gpus", h->root);
    DIR *d = opendir(path);
    if (d == NULL)
        return SIMHOST_OK; /* a driver with no GPU */
    enum simhost_status st = SIMHOST_OK;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char dir[PATH_MAX + 384];
        struct simhost_gpu g;
        snprintf(dir, sizeof(dir), "%s/%s", path, e->d_name);
        if (!read_gpu(dir, &g))
            continue;
        /* a GPU whose node is absent is not visible: that is how a container
         * sees only the GPUs it was given */
        char node[PATH_MAX + 64];
        snprintf(node, sizeof(node), "%s/dev/nvidia%d", h->root, g.minor);
        int r = probe_node(node);
        if (r == -1)
            continue;
        if (r == -2)
            st = SIMHOST_NO_PERMISSION;
        if (h->count == cap) {
            cap = cap ? cap * 2 : 8;
            struct simhost_gpu *more = realloc(h->gpus, cap * sizeof(*more));
            if (more == NULL)
                abort();
            h->gpus = more;
        }
        h->gpus[h->count++] = g;
    }
    closedir(d);
    if (h->count > 0)
        qsort(h->gpus, h->count, sizeof(*h->gpus), gpu_cmp);
    load_migs(h);
    return st;
}

/* One host per loaded library; freed when the library is unloaded. */
static struct simhost host;

__attribute__((destructor)) static void simhost_unload(void)
{
    free(host.gpus);
    host.gpus = NULL;
    free(host.migs);
    host.migs = NULL;
}

enum simhost_status simhost_load(const void *anchor, const struct simhost **out)
{
    char path[PATH_MAX + 64];
    free(host.gpus);
    free(host.migs);
    memset(&host, 0, sizeof(host));
    *out = &host;
    locate_self(anchor, &host);
    host.cuda_version = simhost_cuda_version();

    snprintf(path, sizeof(path), "%s/proc/driver/nvidia/version", host.root);
    char *text = read_small(path);
    if (text == NULL)
        return SIMHOST_DRIVER_NOT_LOADED;
    bool ok = parse_kernel_version(text, host.kernel_version, sizeof(host.kernel_version));
    free(text);
    if (!ok)
        return SIMHOST_DRIVER_NOT_LOADED;

    snprintf(path, sizeof(path), "%s/dev/nvidiactl", host.root);
    int r = probe_node(path);
    if (r == -1)
        return SIMHOST_DRIVER_NOT_LOADED;
    if (r == -2)
        return SIMHOST_NO_PERMISSION;
    enum simhost_status st = load_gpus(&host);
    /* a GPU without persistence mode is set up again on every first open of
     * the driver: that is where NVIDIA's 10 s RPC timeouts come from */
    unsigned delay = 0;
    for (unsigned i = 0; i < host.count; i++)
        if (!host.gpus[i].persistence && host.gpus[i].init_delay_ms > delay)
            delay = host.gpus[i].init_delay_ms;
    if (delay > 0) {
        struct timespec ts = {.tv_sec = delay / 1000, .tv_nsec = (long)(delay % 1000) * 1000000};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    }
    /* the GPUs are loaded even then: a forward-compatible libcuda decides
     * from them whether a newer library may run on an older module */
    if (st == SIMHOST_OK && host.library_version[0] != '\0' &&
        strcmp(host.library_version, host.kernel_version) != 0)
        return SIMHOST_VERSION_MISMATCH;
    return st;
}
