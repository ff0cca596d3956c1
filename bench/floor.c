/* floor: the lower bound gctk's hook is measured against. It does the
 * physical work of an injection and nothing else: for each line of a plan
 * file, create the target in the rootfs, bind mount the source onto it and
 * remount it with the container's flags; then make the soname links. No
 * discovery, no config, no cgroup, no ld.so.cache, no safety checks on the
 * rootfs (plain path-based mount(2)): what is left is the cost of the mounts.
 *
 *   floor PLAN ROOTFS [LOG]          standalone, in a fresh mount namespace
 *   floor --hook PLAN ROOTFS [LOG]   as an OCI prestart hook: enters the
 *                                    mount namespace of the state's pid
 *   floor --exec PLAN ROOTFS LOG RUNTIME ARGS...
 *                                    before the runtime, in a mount namespace
 *                                    of its own whose copy of the ROOTFS
 *                                    mount (a mount point) is made private,
 *                                    so that nothing reaches the host; then
 *                                    execs RUNTIME ARGS: its container's mount
 *                                    namespace is a copy of that one, and the
 *                                    runtime's recursive bind of the rootfs
 *                                    carries the mounts in. Device nodes are
 *                                    skipped (a /dev tmpfs would hide them:
 *                                    they go in config.json's linux.devices)
 *
 * PLAN lines (tab separated): "b SRC DST" bind mount, "l TARGET LINK" symlink;
 * DST and LINK are paths inside the container. The time of the work, in ms,
 * is appended to LOG as "floor done in X ms: namespace A, mounts B (N mounts,
 * M links)": A is entering (hook) or making (standalone) the mount namespace. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what, const char *path)
{
    fprintf(stderr, "floor: %s `%s`: %s\n", what, path, strerror(errno));
    exit(1);
}

static unsigned long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

/* mkdir -p of the parents of path (path itself is left alone) */
static void make_parents(char *path)
{
    for (char *s = strchr(path + 1, '/'); s != NULL; s = strchr(s + 1, '/')) {
        *s = '\0';
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            die("mkdir", path);
        *s = '/';
    }
}

/* The state's "pid": a substring search is enough for runc's compact JSON */
static int state_pid(void)
{
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf) - 1, stdin);
    buf[n] = '\0';
    const char *p = strstr(buf, "\"pid\":");
    if (p == NULL) {
        fprintf(stderr, "floor: no pid in the state on stdin\n");
        exit(1);
    }
    return atoi(p + 6);
}

int main(int argc, char **argv)
{
    int hook = argc > 1 && strcmp(argv[1], "--hook") == 0;
    int pre = argc > 1 && strcmp(argv[1], "--exec") == 0;
    int opt = hook || pre; /* the arguments after the option */
    if (argc - opt < 3 || (pre && argc < 6)) {
        fprintf(stderr, "usage: floor [--hook] PLAN ROOTFS [LOG]\n"
                        "       floor --exec PLAN ROOTFS LOG RUNTIME ARGS...\n");
        return 2;
    }
    const char *plan = argv[1 + opt], *rootfs = argv[2 + opt];
    const char *log = argc - opt > 3 ? argv[3 + opt] : NULL;
    int pid = hook ? state_pid() : 0;
    unsigned long long t0 = now_ns();
    if (pre) {
        if (unshare(CLONE_NEWNS) < 0)
            die("unshare", "mnt");
        if (mount(NULL, rootfs, NULL, MS_PRIVATE, NULL) < 0)
            die("make private (a mount point?)", rootfs);
    } else if (hook) {
        char ns[64];
        snprintf(ns, sizeof(ns), "/proc/%d/ns/mnt", pid);
        int fd = open(ns, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWNS) < 0)
            die("enter the mount namespace", ns);
        close(fd);
    } else {
        if (unshare(CLONE_NEWNS) < 0)
            die("unshare", "mnt");
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
            die("make private", "/");
    }
    unsigned long long t1 = now_ns();
    FILE *f = fopen(plan, "re");
    if (f == NULL)
        die("open", plan);
    char line[8192], dst[8192];
    unsigned mounts = 0, links = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        char *a = strchr(line, '\t'), *b = a ? strchr(a + 1, '\t') : NULL;
        if (a == NULL || b == NULL)
            continue;
        *a++ = '\0';
        *b++ = '\0';
        snprintf(dst, sizeof(dst), "%s%s", rootfs, b);
        make_parents(dst);
        if (line[0] == 'l') {
            if (symlink(a, dst) < 0 && errno != EEXIST)
                die("symlink", dst);
            links++;
            continue;
        }
        struct stat st;
        if (stat(a, &st) < 0)
            die("stat", a);
        if (pre && S_ISCHR(st.st_mode))
            continue;
        unsigned long flags = MS_NOSUID;
        if (S_ISDIR(st.st_mode)) {
            if (mkdir(dst, 0755) < 0 && errno != EEXIST)
                die("mkdir", dst);
            flags |= MS_NODEV | MS_NOEXEC;
        } else {
            int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
            if (fd < 0)
                die("create", dst);
            close(fd);
            flags |= S_ISCHR(st.st_mode) ? MS_NOEXEC : MS_NODEV | MS_RDONLY;
        }
        if (mount(a, dst, NULL, MS_BIND, NULL) < 0)
            die("bind mount", dst);
        if (mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | flags, NULL) < 0)
            die("remount", dst);
        mounts++;
    }
    fclose(f);
    unsigned long long t2 = now_ns();
    if (log != NULL) {
        FILE *l = fopen(log, "ae");
        if (l == NULL)
            die("open", log);
        fprintf(l, "floor done in %.3f ms: namespace %.3f, mounts %.3f (%u mounts, %u links)\n",
                (double)(t2 - t0) / 1e6, (double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6, mounts,
                links);
        fclose(l);
    }
    if (pre) {
        execv(argv[5], argv + 5);
        die("exec", argv[5]);
    }
    return 0;
}
