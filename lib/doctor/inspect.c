/* gctk doctor --container ID and --image IMAGE: what one container has (the
 * GPUs its environment asks for, whether its device cgroup lets it open
 * them, the driver libraries its loader finds) and what one image carries
 * (driver files of its own, which clash with the host's).
 *
 * A running container is looked at from inside: a short-lived child joins
 * its device cgroup and enters its mount namespace, then asks access(2) about
 * each GPU node (the kernel runs the cgroup's check, v1 rules or v2 programs,
 * every parent's included, and opens nothing) and reads the container's
 * ld.so.cache. Reading a v2 BPF program back would say what it was loaded
 * with, not what a parent adds; the probe asks the question the container's
 * own open(2) asks. The child runs no program, writes nothing in the
 * container and exits; it reports to the parent as JSON on a pipe.
 *
 * An image (or a container that is not running) is read from the layer
 * directories its engine names (Docker's GraphDriver data: overlay2's
 * UpperDir and LowerDir), top layer first, whiteouts and opaque directories
 * honoured, never following a link of the image. */
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "arch.h"
#include "caps.h"
#include "cgroup.h"
#include "config.h"
#include "engineapi.h"
#include "host.h"
#include "inspect.h"
#include "ldcache.h"
#include "layout.h"
#include "ps.h"
#include "request.h"
#include "rootfs.h"

#define API_TIMEOUT_MS 5000
#define PROBE_TIMEOUT_MS 5000
#define PROBE_REPORT_MAX (1u << 20)
#define FILES_SHOWN 4

/* Where an image keeps driver files: the library directories of its
 * architecture and of the host driver's, in the order discovery reads them
 * on such a host (arch.c; once each when the two are one), then the
 * programs' directory. A NULL image: the host's alone. */
static void image_dirs(const struct host_arch *image, const struct host_arch *host,
                       struct strv *out)
{
    const struct host_arch *arches[] = {image != NULL ? image : host, host};
    for (size_t a = 0; a < GCTK_ARRAY_LEN(arches); a++)
        for (const char *const *d = arches[a]->lib_dirs; *d != NULL; d++)
            if (!strv_contains(out, *d))
                strv_push(out, xstrdup(*d));
    strv_push(out, xstrdup("/usr/bin"));
}

/* The architecture an image says it is of ("Architecture": "arm64" in its
 * engine's inspect); NULL when it names none gctk knows. Docker before 23
 * records its own on `docker import --platform`, whatever the files are:
 * the host driver's directories are read too. */
static const struct host_arch *image_arch(const json_t *inspect)
{
    const char *name = json_string_value(json_object_get(inspect, "Architecture"));
    return name != NULL ? host_arch_by_name(name) : NULL;
}

/* ---- driver files of an image ------------------------------------------------------- */

struct driver_file {
    char *path; /* in the image */
    bool link;  /* a symlink (else a regular file) */
    bool clash; /* a regular file where the hook's link goes */
    char *version;
};

struct driver_files {
    struct driver_file *items;
    size_t len;
};

static void driver_files_clear(struct driver_files *f)
{
    for (size_t i = 0; i < f->len; i++) {
        free(f->items[i].path);
        free(f->items[i].version);
    }
    free(f->items);
    *f = (struct driver_files){0};
}

static bool is_binary_name(const char *name)
{
    for (const struct cap_binary *b = cap_binaries; b->name != NULL; b++)
        if (strcmp(b->name, name) == 0)
            return true;
    return false;
}

/* A link name the hook makes in the library directory: a SONAME
 * ("libcuda.so.1": one number after .so) or a development link ("libcuda.so"). */
static bool is_link_name(const char *name)
{
    const char *so = strstr(name, ".so");
    if (so == NULL)
        return false;
    if (so[3] == '\0')
        return true;
    return so[3] == '.' && so[4] != '\0' && strspn(so + 4, "0123456789") == strlen(so + 4);
}

/* A driver file of the image, or not one (false). */
static bool classify(const char *dir, const char *name, mode_t mode, struct driver_file *out)
{
    bool bin = strcmp(dir, "/usr/bin") == 0;
    if (bin ? !is_binary_name(name) : cap_library_caps(name) == 0)
        return false;
    if (!S_ISREG(mode) && !S_ISLNK(mode))
        return false;
    *out = (struct driver_file){
        .path = xasprintf("%s/%s", dir, name),
        .link = S_ISLNK(mode),
        .clash = !bin && S_ISREG(mode) && is_link_name(name),
        .version = host_file_version(name),
    };
    return true;
}

static void push_file(struct driver_files *f, struct driver_file *x)
{
    f->items = xrealloc(f->items, (f->len + 1) * sizeof(*f->items));
    f->items[f->len++] = *x;
}

/* A directory of one layer, as an fd: no link of the image followed */
static int open_layer_dir(int layer_fd, const char *dir)
{
    struct open_how how = {
        .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    return (int)syscall(SYS_openat2, layer_fd, dir + 1, &how, sizeof(how));
}

static bool is_opaque(int dfd)
{
    char v[4] = "";
    /* overlayfs's own marks, then the aufs-style file */
    if (fgetxattr(dfd, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y')
        return true;
    return faccessat(dfd, ".wh..wh..opq", F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* The driver files of the image whose layers are given top first: in each
 * directory, a name is the topmost layer's; a whiteout hides it below, an
 * opaque directory hides everything below. */
static int scan_layers(const struct strv *dirs, const struct strv *layers, struct driver_files *out,
                       gctk_error **err)
{
    int *fds = xcalloc(layers->len + 1, sizeof(int));
    int rc = 0;
    for (size_t l = 0; l < layers->len; l++) {
        fds[l] = open(layers->items[l], O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fds[l] < 0) {
            rc = gctk_fail(err, errno, "open the image layer `%s`", layers->items[l]);
            break;
        }
    }
    for (size_t d = 0; rc == 0 && d < dirs->len; d++) {
        const char *dir_name = dirs->items[d];
        struct strv seen = {0};
        for (size_t l = 0; l < layers->len; l++) {
            int dfd = open_layer_dir(fds[l], dir_name);
            if (dfd < 0)
                continue;
            int scan = dup(dfd);
            DIR *dir = scan >= 0 ? fdopendir(scan) : NULL;
            if (dir == NULL) {
                if (scan >= 0)
                    close(scan);
                close(dfd);
                continue;
            }
            struct dirent *de;
            while ((de = readdir(dir)) != NULL) {
                const char *name = de->d_name;
                if (name[0] == '.' && (name[1] == '\0' || strcmp(name, "..") == 0))
                    continue;
                if (str_has_prefix(name, ".wh.")) {
                    if (!str_has_prefix(name, ".wh..wh.") && !strv_contains(&seen, name + 4))
                        strv_push(&seen, xstrdup(name + 4));
                    continue;
                }
                if (strv_contains(&seen, name))
                    continue;
                strv_push(&seen, xstrdup(name));
                struct stat st;
                if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                    continue;
                if (S_ISCHR(st.st_mode) && st.st_rdev == 0)
                    continue; /* an overlayfs whiteout: hidden below */
                struct driver_file f;
                if (classify(dir_name, name, st.st_mode, &f))
                    push_file(out, &f);
            }
            bool opaque = is_opaque(dfd);
            closedir(dir);
            close(dfd);
            if (opaque)
                break;
        }
        strv_clear(&seen);
    }
    for (size_t l = 0; l < layers->len; l++)
        if (fds[l] > 0)
            close(fds[l]);
    free(fds);
    return rc;
}

/* The layer directories of Docker's GraphDriver data, top first; false
 * when the storage driver does not name them. */
static bool graph_layers(const json_t *graph, struct strv *layers, const char **driver)
{
    *driver = json_string_value(json_object_get(graph, "Name"));
    const json_t *data = json_object_get(graph, "Data");
    const char *upper = json_string_value(json_object_get(data, "UpperDir"));
    const char *lower = json_string_value(json_object_get(data, "LowerDir"));
    if (upper == NULL || upper[0] != '/')
        return false;
    strv_push(layers, xstrdup(upper));
    cleanup_free char *copy = xstrdup(lower != NULL ? lower : "");
    char *save = NULL;
    for (char *p = strtok_r(copy, ":", &save); p != NULL; p = strtok_r(NULL, ":", &save))
        if (p[0] == '/')
            strv_push(layers, xstrdup(p));
    return true;
}

/* "`a`, `b` and 3 more" */
static char *list_files(const struct driver_files *f, bool clash)
{
    cleanup_free char *text = xstrdup("");
    size_t shown = 0, total = 0;
    for (size_t i = 0; i < f->len; i++) {
        if (f->items[i].clash != clash)
            continue;
        total++;
        if (shown == FILES_SHOWN)
            continue;
        char *more = xasprintf("%s%s`%s`%s", text, shown ? ", " : "", f->items[i].path,
                               clash ? " (a regular file, where the driver's link goes)" : "");
        free(text);
        text = more;
        shown++;
    }
    if (total > shown)
        return xasprintf("%s and %zu more", text, total - shown);
    return steal_pointer(&text);
}

static const char *first_version(const struct driver_files *f, const char * not )
{
    for (size_t i = 0; i < f->len; i++)
        if (f->items[i].version != NULL && (not == NULL || strcmp(f->items[i].version, not ) != 0))
            return f->items[i].version;
    return NULL;
}

static char *remove_fix(const struct doctor_facts *f)
{
    return xasprintf("remove them from the image: in its Dockerfile, `apt-get purge -y` the "
                     "driver package that ships them (libnvidia-compute-*, libcuda1, "
                     "nvidia-utils-*) or `rm -f` them; the host's driver%s%s is given to every "
                     "GPU container",
                     f->driver ? " " : "", f->driver ? f->driver : "");
}

/* The lines of the driver files found in `what` ("image `x`"). */
static void report_files(const struct doctor_facts *f, const char *what,
                         const struct driver_files *files, size_t layers, struct doctor_report *r)
{
    size_t clashes = 0, others = 0;
    for (size_t i = 0; i < files->len; i++) {
        if (files->items[i].clash)
            clashes++;
        else if (files->items[i].version == NULL ||
                 (f->driver != NULL && strcmp(files->items[i].version, f->driver) != 0))
            others++;
    }
    if (clashes > 0) {
        cleanup_free char *list = list_files(files, true);
        doctor_add(r, "image driver files", DOCTOR_ERROR, remove_fix(f),
                   "%s carries driver files of its own: %s: its GPU containers do not start "
                   "(`... in the container is a regular file of the image, where the link to ... "
                   "goes`; NVIDIA's toolkit: `mount error: file creation failed: ...: file "
                   "exists`)",
                   what, list);
    }
    if (others > 0) {
        cleanup_free char *list = list_files(files, false);
        const char *v = first_version(files, f->driver);
        doctor_add(r, "image driver files", DOCTOR_WARNING, remove_fix(f),
                   "%s carries driver files%s%s: %s: unused beside the host's driver%s%s, whose "
                   "links replace theirs, but a program that loads one by its path gets a "
                   "driver/library version mismatch",
                   what, v ? " of driver " : "", v ? v : "", list, f->driver ? " " : "",
                   f->driver ? f->driver : "");
    }
    if (clashes == 0 && others == 0)
        doctor_add(r, "image driver files", DOCTOR_OK, NULL,
                   "%s carries no driver file in its library directories (%zu layer%s read)", what,
                   layers, layers == 1 ? "" : "s");
}

/* The files of an engine object (image or container) from its GraphDriver. */
static void check_layers(const struct doctor_facts *f, const char *what, const json_t *inspect,
                         struct doctor_report *r)
{
    struct strv layers = {0};
    const char *driver = NULL;
    if (!graph_layers(json_object_get(inspect, "GraphDriver"), &layers, &driver)) {
        doctor_add(r, "image driver files", DOCTOR_SKIPPED, NULL,
                   "%s: Docker's storage driver `%s` does not say where its files are: not "
                   "checked (`gctk doctor --container ID` reads a running container of it)",
                   what, driver ? driver : "unknown");
        strv_clear(&layers);
        return;
    }
    struct driver_files files = {0};
    cleanup_error gctk_error *e = NULL;
    cleanup_strv struct strv dirs = {0};
    image_dirs(image_arch(inspect), host_root_arch(f->root), &dirs);
    if (scan_layers(&dirs, &layers, &files, &e) < 0)
        doctor_add(r, "image driver files", DOCTOR_SKIPPED, NULL, "%s: %s", what, e->msg);
    else
        report_files(f, what, &files, layers.len, r);
    driver_files_clear(&files);
    strv_clear(&layers);
}

/* An engine object's name as a URL path component: refused when it holds
 * anything an image reference or a container name cannot. */
static int check_name(const char *kind, const char *name, gctk_error **err)
{
    size_t n = strlen(name);
    if (n == 0 || n > 255 ||
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:/@-") != n ||
        strstr(name, "..") != NULL || name[0] == '/' || name[0] == '-')
        return gctk_fail(err, 0, "invalid %s `%s`: expected a name or id as docker takes it", kind,
                         name);
    return 0;
}

static void env_of_inspect(const json_t *inspect, struct strv *env)
{
    const json_t *list = json_object_get(json_object_get(inspect, "Config"), "Env");
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v)
    {
        if (json_is_string(v))
            strv_push(env, xstrdup(json_string_value(v)));
    }
}

int doctor_inspect_image(const struct doctor_facts *f, const char *image, struct doctor_report *r,
                         struct strv *env, gctk_error **err)
{
    if (check_name("image", image, err) < 0)
        return -1;
    cleanup_free char *path = xasprintf("/images/%s/json", image);
    cleanup_json json_t *inspect = NULL;
    cleanup_error gctk_error *e = NULL;
    if (engineapi_get(f->docker_host, path, API_TIMEOUT_MS, &inspect, &e) < 0) {
        doctor_add(r, "image", DOCTOR_ERROR,
                   strstr(e->msg, "404") != NULL ? xasprintf("docker pull %s", image) : NULL,
                   "image `%s`: %s", image, e->msg);
        return 0;
    }
    const char *id = json_string_value(json_object_get(inspect, "Id"));
    doctor_add(r, "image", DOCTOR_OK, NULL, "image `%s` (%.19s) from Docker at `%s`", image,
               id ? id : "no id", f->docker_host);
    cleanup_free char *what = xasprintf("image `%s`", image);
    check_layers(f, what, inspect, r);
    env_of_inspect(inspect, env);
    return 0;
}

/* ---- a running container, from inside ------------------------------------------------- */

/* The child's side: joins the cgroup (cgroup.procs of dir), enters the mount
 * namespace (ns_fd) and reports on out. Never returns. */
static void probe_child(int out, pid_t pid, const char *cgroup_dir, int ns_fd, const gctk_plan *p,
                        const struct host_arch *a, const struct strv *dirs)
{
    json_t *rep = json_object();
    /* The container's ld.so.cache is read before the mount namespace is
     * entered, through /proc/PID/root: the hardened reader reopens files
     * through /proc/self/fd, and the container's own /proc has no entry for
     * a process of another PID namespace. Its entries are resolved inside. */
    struct ldcache cache = {0};
    bool have_cache = false;
    {
        cleanup_free char *top = xasprintf("/proc/%d/root", (int)pid);
        struct rootfs root = {.fd = -1};
        gctk_error *e = NULL;
        if (rootfs_open(top, &root, &e) == 0) {
            struct strv notes = {0};
            layout_ldcache_read(&root, &cache, &notes);
            strv_clear(&notes);
            rootfs_close(&root);
            have_cache = true;
        }
        gctk_error_free(e);
    }
    cleanup_free char *procs = xasprintf("%s/cgroup.procs", cgroup_dir);
    int fd = open(procs, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0", 1) != 1)
        json_object_set_new(rep, "cgroup_error", json_string(strerror(errno)));
    if (fd >= 0)
        close(fd);
    if (setns(ns_fd, CLONE_NEWNS) < 0) {
        json_object_set_new(rep, "ns_error", json_string(strerror(errno)));
    } else {
        json_t *nodes = json_array();
        for (size_t i = 0; i < gctk_plan_node_count(p); i++) {
            const struct gctk_node *n = gctk_plan_node(p, i);
            struct stat st;
            int e = 0;
            if (lstat(n->path, &st) < 0)
                e = errno;
            else if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != n->major ||
                     minor(st.st_rdev) != n->minor)
                e = EBADF; /* another file in its place */
            else if (access(n->path, R_OK | W_OK) < 0)
                e = errno;
            json_array_append_new(nodes, json_pack("{s:s, s:i}", "path", n->path, "errno", e));
        }
        json_object_set_new(rep, "nodes", nodes);
        if (have_cache) {
            json_t *libs = json_object();
            for (size_t i = 0; i < cache.len; i++) {
                const struct ldcache_entry *en = &cache.entries[i];
                if (en->hwcap != 0 ||
                    (en->flags & LDCACHE_FLAG_REQUIRED_MASK) !=
                        (a->ldcache_flags & LDCACHE_FLAG_REQUIRED_MASK) ||
                    json_object_get(libs, en->soname) != NULL || cap_library_caps(en->soname) == 0)
                    continue;
                char real[PATH_MAX];
                json_object_set_new(libs, en->soname,
                                    json_string(realpath(en->path, real) ? real : ""));
            }
            json_object_set_new(rep, "libs", libs);
        }
        ldcache_clear(&cache);
        json_t *files = json_array();
        for (size_t d = 0; d < dirs->len; d++) {
            const char *dir_name = dirs->items[d];
            DIR *dir = opendir(dir_name);
            struct dirent *de;
            while (dir != NULL && (de = readdir(dir)) != NULL) {
                struct stat st;
                struct driver_file f;
                if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                    classify(dir_name, de->d_name, st.st_mode, &f)) {
                    json_array_append_new(
                        files,
                        json_pack("{s:s, s:b, s:o}", "path", f.path, "link", f.link, "version",
                                  f.version ? json_string(f.version) : json_null()));
                    free(f.path);
                    free(f.version);
                }
            }
            if (dir != NULL)
                closedir(dir);
        }
        json_object_set_new(rep, "files", files);
    }
    char *text = json_dumps(rep, JSON_COMPACT);
    if (text != NULL && write_all(out, text, strlen(text)) < 0)
        _exit(2);
    _exit(0);
}

/* Runs the probe of the container whose first process is pid; *out: its report. */
static int probe(pid_t pid, const char *cgroup_dir, const gctk_plan *p, const struct host_arch *a,
                 json_t **out, gctk_error **err)
{
    char ns[64];
    snprintf(ns, sizeof(ns), "/proc/%d/ns/mnt", (int)pid);
    cleanup_fd int ns_fd = open(ns, O_RDONLY | O_CLOEXEC);
    if (ns_fd < 0)
        return gctk_fail(err, errno, "open `%s`", ns);
    cleanup_strv struct strv dirs = {0};
    image_dirs(NULL, a, &dirs);
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return gctk_fail(err, errno, "pipe");
    pid_t child = fork();
    if (child < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        return gctk_fail(err, errno, "fork");
    }
    if (child == 0) {
        close(pipefd[0]);
        probe_child(pipefd[1], pid, cgroup_dir, ns_fd, p, a, &dirs);
    }
    close(pipefd[1]);
    cleanup_fd int in = pipefd[0];
    cleanup_free char *text = xmalloc(PROBE_REPORT_MAX + 1);
    size_t len = 0;
    unsigned long long deadline = now_ns() + PROBE_TIMEOUT_MS * 1000000ull;
    bool timed_out = false;
    for (;;) {
        unsigned long long now = now_ns();
        if (now >= deadline) {
            timed_out = true;
            break;
        }
        struct pollfd pfd = {.fd = in, .events = POLLIN};
        int pr = poll(&pfd, 1, (int)((deadline - now) / 1000000) + 1);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0) {
            timed_out = pr == 0;
            break;
        }
        ssize_t n = read(in, text + len, PROBE_REPORT_MAX - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || (len += (size_t)n) == PROBE_REPORT_MAX)
            break;
    }
    text[len] = '\0';
    int status = reap(child, timed_out);
    if (timed_out)
        return gctk_fail(err, ETIMEDOUT, "look inside container process %d", (int)pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return gctk_fail(err, 0, "look inside container process %d: the probe failed", (int)pid);
    return json_parse("the probe's report", text, len, out, err);
}

/* The container's environment, as its first process has it. */
static int environ_of(pid_t pid, struct strv *env, gctk_error **err)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
    cleanup_free char *text = NULL;
    size_t len = 0;
    if (read_file(path, 1 << 20, &text, &len, err) < 0)
        return -1;
    for (size_t off = 0; off < len; off += strlen(text + off) + 1)
        if (text[off] != '\0')
            strv_push(env, xstrdup(text + off));
    return 0;
}

/* The device lines: each node of the plan, as the container sees it. */
static void report_nodes(const struct doctor_facts *f, const char *what, const json_t *rep,
                         const char *cgroup_dir, struct doctor_report *r)
{
    const char *cg_error = json_string_value(json_object_get(rep, "cgroup_error"));
    const json_t *nodes = json_object_get(rep, "nodes");
    size_t i, bad = 0;
    const json_t *n;
    json_array_foreach(nodes, i, n)
    {
        const char *path = json_string_value(json_object_get(n, "path"));
        int e = (int)json_integer_value(json_object_get(n, "errno"));
        if (e == 0 || e == ENXIO)
            continue;
        bad++;
        if (e == ENOENT)
            doctor_add(r, "container devices", DOCTOR_ERROR,
                       xstrdup("recreate the container (its GPUs are given as it starts); the "
                               "docker hook and docker runtime lines say whether they can be"),
                       "`%s` is missing in %s", path, what);
        else if (e == EBADF)
            doctor_add(r, "container devices", DOCTOR_ERROR,
                       xstrdup("recreate the container; an image must not carry /dev entries"),
                       "`%s` in %s is not the host's device node", path, what);
        else if ((e == EPERM || e == EACCES) && cg_error == NULL)
            doctor_add(r, "container devices", DOCTOR_ERROR,
                       xstrdup("restart the container (docker restart ID) to get the GPUs back; "
                               "for good, see the `cgroup` and `no-cgroups` lines: give the "
                               "GPUs through CDI (and gctk dev-char-links) "
                               "under the systemd cgroup driver, and leave \"no-cgroups\" to "
                               "rootless engines"),
                       "`%s` is in %s, but its device cgroup (`%s`) refuses it: the container "
                       "lost the GPU after it started (a `systemctl daemon-reload` under the "
                       "systemd cgroup driver) or was never allowed it (\"no-cgroups\": true "
                       "on a rootful engine); inside, NVML says `Failed to initialize NVML: "
                       "Unknown Error`",
                       path, what, cgroup_dir);
        else
            doctor_add(r, "container devices", DOCTOR_WARNING, NULL, "`%s` in %s: %s%s%s", path,
                       what, strerror(e), cg_error ? "; its cgroup could not be joined: " : "",
                       cg_error ? cg_error : "");
    }
    if (bad == 0)
        doctor_add(r, "container devices", DOCTOR_OK, NULL,
                   "%zu GPU device node%s in %s, and its device cgroup (`%s`) allows them",
                   json_array_size(nodes), json_array_size(nodes) == 1 ? "" : "s", what,
                   cgroup_dir);
    (void)f;
}

/* The core libraries the container asked for, as its loader finds them. */
static void report_libraries(const struct doctor_facts *f, const char *what, unsigned caps,
                             const json_t *rep, struct doctor_report *r)
{
    const json_t *libs = json_object_get(rep, "libs");
    bool bad = false;
    struct strv found = {0};
    for (const struct host_core_library *c = host_core_libraries; c->soname != NULL; c++) {
        if (!(cap_expand(caps) & c->cap))
            continue;
        const char *real = json_string_value(json_object_get(libs, c->soname));
        cleanup_free char *version = real != NULL ? host_file_version(real) : NULL;
        if (real == NULL || real[0] == '\0') {
            bad = true;
            doctor_add(r, "container libraries", DOCTOR_ERROR,
                       xstrdup("recreate the container; the docker hook line says whether the "
                               "hook can give it the driver"),
                       "the loader of %s finds no `%s` (capability %s): %s fail there", what,
                       c->soname, c->name,
                       c->cap == GCTK_CAP_COMPUTE ? "CUDA programs" : "nvidia-smi and NVML");
        } else if (version != NULL && f->driver != NULL && strcmp(version, f->driver) != 0) {
            bad = true;
            cleanup_free char *fix = remove_fix(f);
            doctor_add(r, "container libraries", DOCTOR_ERROR, steal_pointer(&fix),
                       "the loader of %s takes `%s` for `%s`, of driver %s, not the host's %s: a "
                       "driver/library version mismatch inside the container",
                       what, real, c->soname, version, f->driver);
        } else {
            strv_push(&found, xasprintf("`%s` -> `%s`", c->soname, real));
        }
    }
    if (!bad && found.len > 0) {
        cleanup_free char *list = strv_join(&found, ", ");
        doctor_add(r, "container libraries", DOCTOR_OK, NULL, "%s: %s", what, list);
    }
    strv_clear(&found);
}

/* The files of the image left beside the host's in a running container. */
static void report_container_files(const struct doctor_facts *f, const char *what,
                                   const json_t *rep, struct doctor_report *r)
{
    struct driver_files files = {0};
    size_t i;
    const json_t *x;
    json_array_foreach(json_object_get(rep, "files"), i, x)
    {
        const char *version = json_string_value(json_object_get(x, "version"));
        /* the hook's own: the host driver's version, and the links it made */
        if (version == NULL || (f->driver != NULL && strcmp(version, f->driver) == 0))
            continue;
        struct driver_file df = {.path = xstrdup(json_string_value(json_object_get(x, "path"))),
                                 .link = json_is_true(json_object_get(x, "link")),
                                 .version = xstrdup(version)};
        push_file(&files, &df);
    }
    if (files.len > 0)
        report_files(f, what, &files, 0, r);
    driver_files_clear(&files);
}

/* What the container's environment asks for, and the line that says it;
 * false when it asks for no GPU. */
static bool report_request(const char *what, const struct strv *env, struct request *req,
                           struct doctor_report *r)
{
    /* what the environment says, whatever the policy for unprivileged ones */
    const struct gctk_config cfg = {.accept_nvidia_visible_devices_envvar_when_unprivileged = true};
    cleanup_error gctk_error *e = NULL;
    int rc = request_from_env(env, true, &cfg, req, &e);
    if (rc < 0) {
        doctor_add(r, "container", DOCTOR_ERROR, e->hint ? xstrdup(e->hint) : NULL, "%s: %s", what,
                   e->what);
        return false;
    }
    if (req->devices == NULL || strcmp(req->devices, "none") == 0) {
        const char *nvd = env_get(env, "NVIDIA_VISIBLE_DEVICES");
        doctor_add(r, "container", DOCTOR_ERROR,
                   xstrdup("start it with `docker run --gpus all` (or `--gpus N`); Compose: "
                           "deploy.resources.reservations.devices with `capabilities: [gpu]` "
                           "and `count: all` (docker-compose 1.x sends count 0, no GPU, for a "
                           "device without a count; `gctk compose check FILE` says what each "
                           "service gets)"),
                   "%s asked for no GPU: NVIDIA_VISIBLE_DEVICES is %s%s%s, so nothing was given "
                   "to it (`nvidia-smi: not found`, `libcuda.so.1: cannot open shared object "
                   "file`)",
                   what, nvd ? "`" : "unset", nvd ? nvd : "", nvd ? "`" : "");
        return false;
    }
    char caps[128];
    gctk_caps_format(req->caps, caps, sizeof(caps));
    unsigned all = cap_expand(req->caps);
    if (!(all & GCTK_CAP_COMPUTE))
        doctor_add(r, "container", DOCTOR_WARNING,
                   xstrdup("add `compute` to the capabilities (docker run --gpus "
                           "'\"capabilities=compute,utility\"', Compose `capabilities: [gpu, "
                           "compute, utility]`), or leave NVIDIA_DRIVER_CAPABILITIES to its "
                           "default"),
                   "%s: %s=%s, capabilities %s: no libcuda, so CUDA programs fail (PyTorch: "
                   "`Found no NVIDIA driver on your system`)",
                   what, req->devices_from, req->devices, caps);
    else if (!(all & GCTK_CAP_UTILITY))
        doctor_add(r, "container", DOCTOR_WARNING,
                   xstrdup("add `utility` to the capabilities to get nvidia-smi"),
                   "%s: %s=%s, capabilities %s: no nvidia-smi or NVML (`nvidia-smi: not found`)",
                   what, req->devices_from, req->devices, caps);
    else
        doctor_add(r, "container", DOCTOR_OK, NULL, "%s: %s=%s, capabilities %s", what,
                   req->devices_from, req->devices, caps);
    return true;
}

int doctor_inspect_container(const struct doctor_facts *f, const char *query, const char *runc_root,
                             struct doctor_report *r, gctk_error **err)
{
    struct ps_options po = {.docker_host = f->docker_host, .runc_root = runc_root};
    struct ps_container c = {0};
    unsigned upid = 0;
    int found = ps_find_container(&po, query, &c, &upid, err);
    if (found < 0)
        return -1;
    if (found == 0) {
        /* not running: Docker still knows its files */
        if (check_name("container", query, err) < 0)
            return -1;
        cleanup_free char *path = xasprintf("/containers/%s/json", query);
        cleanup_json json_t *inspect = NULL;
        cleanup_error gctk_error *e = NULL;
        if (engineapi_get(f->docker_host, path, API_TIMEOUT_MS, &inspect, &e) < 0) {
            gctk_fail(err, 0, "no running container is `%s`, and Docker at `%s` knows none: %s",
                      query, f->docker_host, e->msg);
            return gctk_hint(err, "give an id or a name that `docker ps -a` (or `gctk ps`) shows");
        }
        const json_t *st = json_object_get(inspect, "State");
        const char *name = json_string_value(json_object_get(inspect, "Name"));
        const char *status = json_string_value(json_object_get(st, "Status"));
        cleanup_free char *what =
            xasprintf("docker container `%s`", name && name[0] == '/' ? name + 1 : query);
        doctor_add(r, "container", DOCTOR_WARNING, NULL,
                   "%s is not running (%s, exit code %lld%s%s): its files are checked, not its "
                   "device access",
                   what, status ? status : "unknown",
                   (long long)json_integer_value(json_object_get(st, "ExitCode")),
                   json_string_value(json_object_get(st, "Error")) &&
                           json_string_value(json_object_get(st, "Error"))[0]
                       ? "; Docker's error: "
                       : "",
                   json_string_value(json_object_get(st, "Error")) ?: "");
        check_layers(f, what, inspect, r);
        return 0;
    }
    pid_t pid = (pid_t)upid;
    cleanup_free char *what =
        xasprintf("%s container `%s`%s%.12s%s", ps_engine_name(c.engine), c.name ? c.name : c.id,
                  c.name ? " (" : "", c.name ? c.id : "", c.name ? ")" : "");
    ps_container_clear(&c);
    cleanup_strv struct strv env = {0};
    if (environ_of(pid, &env, err) < 0)
        return gctk_wrap(err, "%s", what);
    cleanup_request struct request req = {0};
    if (!report_request(what, &env, &req, r))
        return 0;
    if (f->host == NULL) {
        doctor_add(r, "container devices", DOCTOR_SKIPPED, NULL, "the host's driver is not usable");
        return 0;
    }
    cleanup_selection struct gctk_selection sel = {0};
    cleanup_plan gctk_plan *plan = NULL;
    cleanup_error gctk_error *e = NULL;
    if (gctk_select(f->host, req.devices, &sel, &e) < 0 ||
        gctk_plan_new(f->host, &sel, req.caps, &plan, &e) < 0) {
        doctor_add(r, "container devices", DOCTOR_ERROR, e->hint ? xstrdup(e->hint) : NULL,
                   "%s: %s=%s: %s", what, req.devices_from, req.devices, e->what);
        return 0;
    }
    /* the cgroup its device access is decided in, as the hook finds it */
    char cg_path[64];
    snprintf(cg_path, sizeof(cg_path), "/proc/%d/cgroup", (int)pid);
    cleanup_free char *proc_cgroup = NULL, *mountinfo = NULL, *dir = NULL;
    enum cgroup_version version;
    if (read_file(cg_path, 1 << 20, &proc_cgroup, NULL, &e) < 0 ||
        read_file("/proc/self/mountinfo", 16 << 20, &mountinfo, NULL, &e) < 0 ||
        cgroup_locate(proc_cgroup, mountinfo, &version, &dir, &e) < 0) {
        doctor_add(r, "container devices", DOCTOR_SKIPPED, NULL, "%s: %s", what, e->msg);
        return 0;
    }
    cleanup_json json_t *rep = NULL;
    if (probe(pid, dir, plan, host_root_arch(f->root), &rep, &e) < 0) {
        doctor_add(r, "container devices", DOCTOR_SKIPPED, NULL, "%s: %s", what, e->msg);
        return 0;
    }
    const char *ns_error = json_string_value(json_object_get(rep, "ns_error"));
    if (ns_error != NULL) {
        doctor_add(r, "container devices", DOCTOR_SKIPPED, NULL,
                   "%s: cannot enter its mount namespace: %s", what, ns_error);
        return 0;
    }
    report_nodes(f, what, rep, dir, r);
    report_libraries(f, what, req.caps, rep, r);
    report_container_files(f, what, rep, r);
    return 0;
}
