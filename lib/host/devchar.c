/* /dev/char links of the NVIDIA device nodes (devchar.h says why they are
 * needed). The nodes are the host's: found under the dev root as
 * discovery finds them (the same control-node table, the same /proc
 * files), the links made in a directory opened once, each by symlinkat on a
 * temporary name and renameat over the final one, so that a reader never
 * sees a half-made link and a link of someone else's is replaced whole. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "devchar.h"
#include "host.h"

void gctk_devchar_result_clear(struct gctk_devchar_result *r)
{
    for (size_t i = 0; i < r->len; i++) {
        free(r->links[i].link);
        free(r->links[i].target);
    }
    free(r->links);
    strv_clear(&r->warnings);
    *r = (struct gctk_devchar_result){0};
}

/* A node to link: its path under the dev root and its numbers. */
struct node {
    char *path; /* "/dev/nvidia0" (not rooted) */
    unsigned major, minor;
};

struct nodes {
    struct node *items;
    size_t len, cap;
};

static void nodes_add(struct nodes *n, char *owned_path, unsigned major, unsigned minor)
{
    for (size_t i = 0; i < n->len; i++)
        if (n->items[i].major == major && n->items[i].minor == minor) {
            free(owned_path); /* two names of one node: one link */
            return;
        }
    if (n->len == n->cap) {
        n->cap = n->cap ? n->cap * 2 : 32;
        n->items = xrealloc(n->items, n->cap * sizeof(*n->items));
    }
    n->items[n->len++] = (struct node){owned_path, major, minor};
}

static void nodes_clear(struct nodes *n)
{
    for (size_t i = 0; i < n->len; i++)
        free(n->items[i].path);
    free(n->items);
    *n = (struct nodes){0};
}

/* ---- the nodes that exist ------------------------------------------------------------ */

/* NVIDIA's command leaves these out: GPUDirect Storage, NVSwitch and NVLink
 * nodes are not a GPU container's */
static bool blocked(const char *name)
{
    static const char *const prefixes[] = {"nvidia-fs", "nvidia-nvswitch", "nvidia-nvlink"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(prefixes); i++)
        if (str_has_prefix(name, prefixes[i]))
            return true;
    return false;
}

/* The character devices named prefix* in dir (relative to root), sorted. */
static void scan(const char *root, const char *dir, const char *prefix, struct nodes *out)
{
    cleanup_free char *full = path_join(root, dir);
    struct dirent **names = NULL;
    int n = scandir(full, &names, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        struct stat st;
        cleanup_free char *rel = xasprintf("%s/%s", dir, name);
        cleanup_free char *path = path_join(root, rel);
        if (str_has_prefix(name, prefix) && !blocked(name) && lstat(path, &st) == 0 &&
            S_ISCHR(st.st_mode))
            nodes_add(out, steal_pointer(&rel), major(st.st_rdev), minor(st.st_rdev));
        free(names[i]);
    }
    free(names);
}

/* ---- every node the driver can make ----------------------------------------------------- */

static int all_nodes(const char *root, struct nodes *out, gctk_error **err)
{
    cleanup_host gctk_host *h = NULL;
    if (gctk_host_open(root, GCTK_HOST_NO_NVML, &h, err) < 0)
        return gctk_wrap(err, "--create-all needs the loaded driver");
    /* nvidia-uvm's major is the kernel's choice: /proc/devices, else the
     * node's own */
    int uvm = host_char_major(root, "nvidia-uvm");
    if (uvm < 0) {
        struct stat st;
        cleanup_free char *node = path_join(root, "/dev/nvidia-uvm");
        if (stat(node, &st) == 0 && S_ISCHR(st.st_mode))
            uvm = (int)major(st.st_rdev);
    }
    if (uvm < 0)
        return gctk_fail(err, 0,
                         "--create-all: the major of nvidia-uvm is unknown (no `nvidia-uvm` in "
                         "`%s/proc/devices`, no /dev/nvidia-uvm): load the module with "
                         "`nvidia-modprobe -u`",
                         strcmp(root, "/") == 0 ? "" : root);
    struct host_node_spec control[HOST_CONTROL_NODES];
    host_control_nodes(uvm, control);
    for (size_t i = 0; i < HOST_CONTROL_NODES; i++)
        nodes_add(out, xstrdup(control[i].path), (unsigned)control[i].major,
                  (unsigned)control[i].minor);
    for (size_t i = 0; i < gctk_host_gpu_count(h); i++) {
        int minor = gctk_host_gpu(h, i)->minor;
        nodes_add(out, xasprintf("/dev/nvidia%d", minor), HOST_NVIDIA_MAJOR, (unsigned)minor);
    }
    /* the MIG capabilities: the driver-wide ones, and each GPU's instances
     * as far as mig-minors lists them, as NVIDIA's command walks them */
    int caps = host_char_major(root, "nvidia-caps");
    cleanup_free char *minors_path = path_join(root, HOST_MIG_MINORS);
    cleanup_free char *minors = NULL;
    if (caps < 0 || read_file(minors_path, 4u << 20, &minors, NULL, NULL) < 0)
        return 0; /* no MIG support in this driver */
    const char *const shared[] = {"config", "monitor"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(shared); i++) {
        int m = host_mig_minors_lookup(minors, shared[i]);
        if (m >= 0)
            nodes_add(out, xasprintf("/dev/nvidia-caps/nvidia-cap%d", m), (unsigned)caps,
                      (unsigned)m);
    }
    for (size_t i = 0; i < gctk_host_gpu_count(h); i++) {
        int g = gctk_host_gpu(h, i)->minor;
        for (int gi = 0;; gi++) {
            char key[64];
            snprintf(key, sizeof(key), "gpu%d/gi%d/access", g, gi);
            int m = host_mig_minors_lookup(minors, key);
            if (m < 0)
                break;
            nodes_add(out, xasprintf("/dev/nvidia-caps/nvidia-cap%d", m), (unsigned)caps,
                      (unsigned)m);
            for (int ci = 0;; ci++) {
                snprintf(key, sizeof(key), "gpu%d/gi%d/ci%d/access", g, gi, ci);
                m = host_mig_minors_lookup(minors, key);
                if (m < 0)
                    break;
                nodes_add(out, xasprintf("/dev/nvidia-caps/nvidia-cap%d", m), (unsigned)caps,
                          (unsigned)m);
            }
        }
    }
    return 0;
}

/* ---- the links ----------------------------------------------------------------------- */

static struct gctk_devchar_link *result_add(struct gctk_devchar_result *r, const char *dir,
                                            const char *name, const char *target,
                                            const struct node *n)
{
    if (r->len == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 32;
        r->links = xrealloc(r->links, r->cap * sizeof(*r->links));
    }
    struct gctk_devchar_link *l = &r->links[r->len++];
    *l = (struct gctk_devchar_link){
        .link = xasprintf("%s/%s", dir, name),
        .target = xstrdup(target),
        .major = n->major,
        .minor = n->minor,
    };
    return l;
}

/* Whether the link at name in dirfd leads to the node already: the same
 * text, or a link (udev's are relative) that resolves to a device of the
 * same numbers. */
static bool leads_to(int dirfd, const char *name, const char *target, const struct node *n)
{
    char text[4096];
    ssize_t len = readlinkat(dirfd, name, text, sizeof(text) - 1);
    if (len < 0)
        return false;
    text[len] = '\0';
    if (strcmp(text, target) == 0)
        return true;
    struct stat st;
    return fstatat(dirfd, name, &st, 0) == 0 && S_ISCHR(st.st_mode) &&
           major(st.st_rdev) == n->major && minor(st.st_rdev) == n->minor;
}

static int link_one(int dirfd, const struct gctk_devchar_options *o, const char *dir,
                    const char *root, const struct node *n, struct gctk_devchar_result *r,
                    gctk_error **err)
{
    char name[32];
    snprintf(name, sizeof(name), "%u:%u", n->major, n->minor);
    cleanup_free char *target = path_join(root, n->path);
    struct stat st;
    bool exists = dirfd >= 0 && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (exists && !S_ISLNK(st.st_mode)) {
        strv_push(&r->warnings, xasprintf("`%s/%s` is not a symlink: left alone (remove it to "
                                          "have the link made)",
                                          dir, name));
        return 0;
    }
    if (exists && leads_to(dirfd, name, target, n)) {
        result_add(r, dir, name, target, n)->action = GCTK_DEVCHAR_PRESENT;
        return 0;
    }
    struct gctk_devchar_link *l = result_add(r, dir, name, target, n);
    l->action = exists ? GCTK_DEVCHAR_REPLACED : GCTK_DEVCHAR_CREATED;
    if (o->dry_run)
        return 0;
    for (;;) {
        cleanup_free char *tmp = temp_name();
        if (symlinkat(target, dirfd, tmp) < 0) {
            if (errno == EEXIST)
                continue;
            return gctk_fail(err, errno, "symlink `%s/%s`", dir, name);
        }
        if (renameat(dirfd, tmp, dirfd, name) < 0) {
            int saved = errno;
            unlinkat(dirfd, tmp, 0);
            return gctk_fail(err, saved, "rename onto `%s/%s`", dir, name);
        }
        return 0;
    }
}

int gctk_devchar_links(const struct gctk_devchar_options *o, struct gctk_devchar_result *out,
                       gctk_error **err)
{
    const char *root = o->dev_root != NULL ? o->dev_root : "/";
    const char *dir = o->dev_char_path != NULL ? o->dev_char_path : GCTK_DEV_CHAR_PATH;
    struct nodes nodes = {0};
    if (o->create_all) {
        if (all_nodes(root, &nodes, err) < 0) {
            nodes_clear(&nodes);
            return -1;
        }
    } else {
        scan(root, "/dev", "nvidia", &nodes);
        scan(root, "/dev/nvidia-caps", "nvidia-", &nodes);
    }
    int rc = 0;
    cleanup_fd int dirfd = -1;
    if (nodes.len > 0 && !o->dry_run) {
        if (mkdir_p(dir, 0755, err) < 0) {
            nodes_clear(&nodes);
            return -1;
        }
        dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
            rc = gctk_fail(err, errno, "open `%s`", dir);
    } else if (nodes.len > 0) {
        dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* may be absent */
    }
    for (size_t i = 0; rc == 0 && i < nodes.len; i++)
        rc = link_one(dirfd, o, dir, root, &nodes.items[i], out, err);
    nodes_clear(&nodes);
    return rc;
}
