/* The plan: exactly the files and device nodes a container gets for a GPU
 * selection and a set of capabilities. `gctk list`, the hook and the CDI
 * generator all read it, so they cannot disagree. */
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "caps.h"
#include "host.h"

struct gctk_plan {
    unsigned caps;
    const struct gctk_file **files;
    size_t nfiles;
    const struct gctk_node **nodes;
    size_t nnodes;
    const struct gctk_gpu **gpus;
    size_t ngpus;
    const struct gctk_mig **migs;
    size_t nmigs;
    struct strv procs; /* /proc/driver/nvidia/capabilities entries to bind */
};

static bool file_wanted(const struct gctk_file *f, unsigned caps)
{
    unsigned want = cap_expand(caps);
    if (f->kind == GCTK_FILE_LIB32 && !(caps & GCTK_CAP_COMPAT32))
        return false;
    return (f->caps & want & ~GCTK_CAP_COMPAT32) != 0;
}

static bool node_wanted(const struct gctk_node *n, unsigned caps, const bool *gpu_wanted,
                        const bool *whole_gpu)
{
    if (n->kind == GCTK_NODE_GPU)
        return gpu_wanted[n->gpu];
    /* DRM nodes for graphics and display, as NVIDIA's toolkit gives them:
     * only of the GPUs asked for as such (a MIG device has no display
     * engine of its own) */
    if (n->kind == GCTK_NODE_DRM)
        return whole_gpu[n->gpu] && (n->caps & cap_expand(caps)) != 0;
    if (n->kind == GCTK_NODE_CAP || n->kind == GCTK_NODE_IMEX)
        return false; /* added one by one for the MIG devices, capabilities and channels */
    return n->caps == 0 || (n->caps & cap_expand(caps)) != 0;
}

/* ---- MIG ------------------------------------------------------------------ */

/* The host's nvidia-cap node of a minor, added to the plan once. */
static int add_cap_node(gctk_host *h, gctk_plan *p, int minor, const char *what,
                        const char *proc_path, gctk_error **err)
{
    const struct gctk_node *found = NULL;
    for (size_t i = 0; i < h->nnodes && found == NULL; i++)
        if (h->nodes[i].kind == GCTK_NODE_CAP && minor >= 0 && h->nodes[i].minor == (unsigned)minor)
            found = &h->nodes[i];
    if (found == NULL) {
        cleanup_free char *full = path_join(h->root, proc_path);
        if (minor < 0)
            return gctk_fail(err, 0, "%s: the minor of its capability `%s` is unknown", what, full);
        /* the driver creates nvidia-cap nodes on demand (nvidia-modprobe) */
        return gctk_fail(err, 0,
                         "%s: device node `/dev/nvidia-caps/nvidia-cap%d` is missing: "
                         "create it with `nvidia-modprobe -f %s`",
                         what, minor, proc_path);
    }
    for (size_t i = 0; i < p->nnodes; i++)
        if (p->nodes[i] == found)
            return 0;
    p->nodes[p->nnodes++] = found;
    return 0;
}

static void add_proc(gctk_plan *p, const char *path)
{
    if (!strv_contains(&p->procs, path))
        strv_push(&p->procs, xstrdup(path));
}

/* The nvidia-cap nodes and /proc capability files of the selected MIG
 * devices and of the MIG config and monitor capabilities. */
static int plan_migs(gctk_host *h, const struct gctk_selection *sel, gctk_plan *p, gctk_error **err)
{
    /* a config GPU's whole capability directory: the container may create
     * and destroy its instances and must see them */
    for (size_t i = 0; i < sel->config_count; i++) {
        cleanup_free char *dir =
            xasprintf(HOST_PROC_CAPS "/gpu%d/mig", h->gpus[sel->config_gpus[i]].minor);
        add_proc(p, dir);
    }
    if (sel->config_count > 0) {
        if (add_cap_node(h, p, h->mig_config_minor, "NVIDIA_MIG_CONFIG_DEVICES", HOST_MIG_CONFIG,
                         err) < 0)
            return -1;
        add_proc(p, HOST_MIG_CONFIG);
    }
    if (sel->mig_monitor) {
        if (add_cap_node(h, p, h->mig_monitor_minor, "NVIDIA_MIG_MONITOR_DEVICES", HOST_MIG_MONITOR,
                         err) < 0)
            return -1;
        add_proc(p, HOST_MIG_MONITOR);
    }
    for (size_t i = 0; i < sel->mig_count; i++) {
        const struct gctk_mig *m = &h->migs[sel->migs[i]];
        cleanup_free char *what =
            xasprintf("MIG device %d:%d (%s)", m->gpu, m->index, m->uuid ? m->uuid : "no UUID");
        if (m->gi_access == NULL || m->ci_access == NULL)
            return gctk_fail(err, 0,
                             "%s: NVML lists it but `%s` has no access file for GPU "
                             "instance %d, compute instance %d",
                             what, HOST_PROC_CAPS, m->gi, m->ci);
        if (add_cap_node(h, p, m->gi_minor, what, m->gi_access, err) < 0 ||
            add_cap_node(h, p, m->ci_minor, what, m->ci_access, err) < 0)
            return -1;
        /* under a config GPU's directory they are there already */
        cleanup_free char *dir = xasprintf(HOST_PROC_CAPS "/gpu%d/mig", h->gpus[m->gpu].minor);
        if (!strv_contains(&p->procs, dir)) {
            add_proc(p, m->gi_access);
            add_proc(p, m->ci_access);
        }
        p->migs[p->nmigs++] = m;
    }
    return 0;
}

int gctk_plan_new(gctk_host *h, const struct gctk_selection *sel, unsigned caps, gctk_plan **out,
                  gctk_error **err)
{
    gctk_plan *p = xcalloc(1, sizeof(*p));
    p->caps = caps;
    if (sel->mode == GCTK_SELECT_VOID) {
        *out = p;
        return 0;
    }
    /* the DRM and IMEX channels' nodes join the host's first, when asked
     * for (the plan points into the host's nodes, which an addition may
     * move); the IMEX ones are then looked up */
    if (cap_expand(caps) & GCTK_CAP_GRAPHICS)
        host_find_drm_nodes(h);
    const struct gctk_node *found = NULL;
    for (size_t i = 0; i < sel->imex_count; i++) {
        if (host_imex_node(h, sel->imex[i], &found, err) < 0) {
            gctk_plan_free(p);
            return gctk_wrap(err, "NVIDIA_IMEX_CHANNELS");
        }
    }
    cleanup_free const struct gctk_node **imex = xcalloc(sel->imex_count + 1, sizeof(*imex));
    for (size_t i = 0; i < sel->imex_count; i++)
        host_imex_node(h, sel->imex[i], &imex[i], NULL);
    p->files = xcalloc(h->nfiles, sizeof(*p->files));
    for (size_t i = 0; i < h->nfiles; i++)
        if (file_wanted(&h->files[i], caps))
            p->files[p->nfiles++] = &h->files[i];
    /* the GPUs whose node the container gets: the whole GPUs asked for, the
     * parents of the MIG devices and the GPUs of NVIDIA_MIG_CONFIG_DEVICES */
    cleanup_free bool *gpu_wanted = xcalloc(h->ngpus + 1, sizeof(bool));
    cleanup_free bool *whole_gpu = xcalloc(h->ngpus + 1, sizeof(bool));
    for (size_t i = 0; i < sel->count; i++)
        gpu_wanted[sel->gpus[i]] = whole_gpu[sel->gpus[i]] = true;
    for (size_t i = 0; i < sel->mig_count; i++)
        gpu_wanted[h->migs[sel->migs[i]].gpu] = true;
    for (size_t i = 0; i < sel->config_count; i++)
        gpu_wanted[sel->config_gpus[i]] = true;
    p->nodes = xcalloc(h->nnodes, sizeof(*p->nodes));
    for (size_t i = 0; i < h->nnodes; i++)
        if (node_wanted(&h->nodes[i], caps, gpu_wanted, whole_gpu))
            p->nodes[p->nnodes++] = &h->nodes[i];
    for (size_t i = 0; i < sel->imex_count; i++)
        p->nodes[p->nnodes++] = imex[i];
    p->gpus = xcalloc(h->ngpus + 1, sizeof(*p->gpus));
    for (size_t i = 0; i < h->ngpus; i++)
        if (gpu_wanted[i])
            p->gpus[p->ngpus++] = &h->gpus[i];
    p->migs = xcalloc(sel->mig_count + 1, sizeof(*p->migs));
    if (plan_migs(h, sel, p, err) < 0) {
        gctk_plan_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

/* ---- what a container cannot do without ------------------------------------------ */

/* The other capabilities' libraries are optional parts of most distributions'
 * driver packages (Debian's libnvcuvid1, libgl1-nvidia-glvnd-glx, the 32-bit
 * ones): an image that asks for `all` must still start on a compute-only
 * install. utility and compute have one library no install lacks. */
const struct host_core_library host_core_libraries[] = {
    {GCTK_CAP_UTILITY, "utility", "libnvidia-ml.so.1", "libnvidia-ml.so"},
    {GCTK_CAP_COMPUTE, "compute", "libcuda.so.1", "libcuda.so"},
    {0, NULL, NULL, NULL},
};

static bool plan_has_library(const gctk_plan *p, const char *prefix)
{
    for (size_t i = 0; i < p->nfiles; i++) {
        const char *base = strrchr(p->files[i]->path, '/');
        if (p->files[i]->kind == GCTK_FILE_LIB &&
            str_has_prefix(base ? base + 1 : p->files[i]->path, prefix))
            return true;
    }
    return false;
}

/* Why the control node is not among the host's nodes: discovery warned. */
static int control_node_fail(const gctk_host *h, gctk_error **err)
{
    struct host_node_spec control[HOST_CONTROL_NODES];
    host_control_nodes(-1, control);
    const struct host_node_spec *ctl = &control[0];
    cleanup_free char *full = path_join(h->root, ctl->path);
    struct stat st;
    if (stat(full, &st) < 0) {
        gctk_fail(err, 0,
                  "device node `%s` is missing: every GPU container needs the driver's control "
                  "node",
                  full);
        return gctk_hint(err, "%s (it comes with the kernel module: `modprobe nvidia` loads it)",
                         ctl->create);
    }
    if (!S_ISCHR(st.st_mode))
        gctk_fail(err, 0,
                  "`%s` is not a character device: every GPU container needs the "
                  "driver's control node",
                  full);
    else
        gctk_fail(err, 0, "`%s` is %u:%u, not the driver's control node %d:%d", full,
                  major(st.st_rdev), minor(st.st_rdev), ctl->major, ctl->minor);
    return gctk_hint(err, "rm -f %s && mknod -m 666 %s c %d %d", full, full, ctl->major,
                     ctl->minor);
}

int host_plan_check(const gctk_host *h, const gctk_plan *p, gctk_error **err)
{
    bool ctl = false;
    for (size_t i = 0; i < h->nnodes && !ctl; i++)
        ctl = h->nodes[i].kind == GCTK_NODE_CONTROL &&
              strcmp(h->nodes[i].path, "/dev/nvidiactl") == 0;
    if (!ctl)
        return control_node_fail(h, err);
    unsigned caps = cap_expand(p->caps);
    for (const struct host_core_library *c = host_core_libraries; c->soname != NULL; c++) {
        if (!(caps & c->cap) || plan_has_library(p, c->prefix))
            continue;
        struct host_lib_check check;
        host_check_library(h->root, c->soname, h->driver_version, &check);
        if (check.state == HOST_LIB_OK) {
            /* there, of the right version, yet skipped: discovery said why */
            const char *why = NULL;
            for (size_t i = 0; i < h->warnings.len && why == NULL; i++)
                if (strstr(h->warnings.items[i], c->prefix) != NULL)
                    why = h->warnings.items[i];
            gctk_fail(err, 0, "`%s%s` is unusable: %s", strcmp(h->root, "/") == 0 ? "" : h->root,
                      check.path, why ? why : "discovery skipped it");
        } else {
            host_lib_check_fail(&check, h->root, c->soname, h->driver_version, err);
        }
        bool mismatch = check.state == HOST_LIB_MISMATCH;
        host_lib_check_clear(&check);
        /* a mismatch is the whole driver's, not one capability's */
        return mismatch ? -1 : gctk_wrap(err, "capability %s needs `%s`", c->name, c->soname);
    }
    return 0;
}

void gctk_plan_free(gctk_plan *p)
{
    if (p == NULL)
        return;
    free(p->files);
    free(p->nodes);
    free(p->gpus);
    free(p->migs);
    strv_clear(&p->procs);
    free(p);
}

size_t gctk_plan_file_count(const gctk_plan *p)
{
    return p->nfiles;
}
const struct gctk_file *gctk_plan_file(const gctk_plan *p, size_t i)
{
    return i < p->nfiles ? p->files[i] : NULL;
}
size_t gctk_plan_node_count(const gctk_plan *p)
{
    return p->nnodes;
}
const struct gctk_node *gctk_plan_node(const gctk_plan *p, size_t i)
{
    return i < p->nnodes ? p->nodes[i] : NULL;
}
size_t gctk_plan_gpu_count(const gctk_plan *p)
{
    return p->ngpus;
}
const struct gctk_gpu *gctk_plan_gpu(const gctk_plan *p, size_t i)
{
    return i < p->ngpus ? p->gpus[i] : NULL;
}
unsigned gctk_plan_caps(const gctk_plan *p)
{
    return p->caps;
}
size_t gctk_plan_mig_count(const gctk_plan *p)
{
    return p->nmigs;
}
const struct gctk_mig *gctk_plan_mig(const gctk_plan *p, size_t i)
{
    return i < p->nmigs ? p->migs[i] : NULL;
}
size_t gctk_plan_proc_count(const gctk_plan *p)
{
    return p->procs.len;
}
const char *gctk_plan_proc(const gctk_plan *p, size_t i)
{
    return i < p->procs.len ? p->procs.items[i] : NULL;
}
