/* Unit tests of lib/doctor/doctor.c. Each test builds a healthy simulated host (two
 * GPUs, `gctk_sim_create`), a fake dockerd (a thread answering GET /version
 * and /info on a UNIX socket in the test's directory), a process standing in
 * for dockerd's pid (a `sleep` with the PATH a dockerd would have), then
 * breaks one thing and checks the line and the fix. The stand-in process is
 * killed by pid and the directory removed in the teardown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "cdi.h"
#include "cgroup.h"
#include "doctor.h"
#include "host.h"
#include "sim.h"
#include "testutil.h"

#define HEALTHY_INFO                                                                               \
    "{\"Runtimes\": {\"runc\": {\"path\": \"runc\"}, \"nvidia\": {\"path\": \"/bin/true\"}}, "     \
    "\"CgroupDriver\": \"cgroupfs\", \"CgroupVersion\": \"1\"}"

struct fx {
    char dir[64];
    char *root, *sock, *host, *daemon_json, *cdi, *config, *bin;
    const char *cdi_dirs[2];
    struct doctor_options o;
    /* the fake dockerd */
    const char *version; /* its /version's Version; NULL: 20.10.24+dfsg1 */
    int lfd;
    pthread_t thread;
    bool serving;
    const char *volatile info;
    const char *volatile image;     /* GET /images/gctk-test:latest/json; NULL: 404 */
    const char *volatile container; /* GET /containers/stopped/json; NULL: 404 */
    pid_t child;
    struct doctor_report r;
};

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "we");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *serve(void *arg)
{
    struct fx *f = arg;
    for (;;) {
        int fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            return NULL;
        char req[4096];
        size_t n = 0;
        while (n < sizeof(req) - 1) {
            ssize_t r = read(fd, req + n, sizeof(req) - 1 - n);
            if (r <= 0)
                break;
            n += (size_t)r;
            req[n] = '\0';
            if (strstr(req, "\r\n\r\n") != NULL)
                break;
        }
        req[n] = '\0';
        const char *body = NULL;
        cleanup_free char *version = xasprintf("{\"Version\": \"%s\", \"ApiVersion\": \"1.41\"}",
                                               f->version != NULL ? f->version : "20.10.24+dfsg1");
        if (str_has_prefix(req, "GET /version "))
            body = version;
        else if (str_has_prefix(req, "GET /info "))
            body = f->info;
        else if (str_has_prefix(req, "GET /images/gctk-test:latest/json "))
            body = f->image;
        else if (str_has_prefix(req, "GET /containers/stopped/json "))
            body = f->container;
        cleanup_free char *resp =
            body != NULL
                ? xasprintf("HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n"
                            "\r\n%s\n",
                            body)
                : xstrdup("HTTP/1.0 404 Not Found\r\n\r\n{\"message\": \"page not found\"}");
        if (write(fd, resp, strlen(resp)) < 0)
            (void)0;
        close(fd);
    }
}

/* The stand-in dockerd: started now, with PATH=f->bin. */
static pid_t start_child(const char *path_dir)
{
    pid_t pid = fork();
    if (pid == 0) {
        char *env_path = xasprintf("PATH=%s", path_dir);
        char *const argv[] = {"sleep", "60", NULL};
        char *const envp[] = {env_path, NULL};
        execve("/bin/sleep", argv, envp);
        _exit(127);
    }
    /* until execve is done, /proc/PID/environ is still ours */
    char path[64], comm[64] = "";
    snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
    for (int i = 0; i < 2000 && strcmp(comm, "sleep\n") != 0; i++) {
        FILE *fp = fopen(path, "re");
        if (fp != NULL) {
            if (fgets(comm, sizeof(comm), fp) == NULL)
                comm[0] = '\0';
            fclose(fp);
        }
        sleep_ms(1);
    }
    return pid;
}

static void stop_child(struct fx *f)
{
    if (f->child > 0) {
        kill(f->child, SIGKILL);
        waitpid(f->child, NULL, 0);
        f->child = 0;
    }
}

static char group_dir[64], pristine_host[128], old_host[128];

static int create_host(const char *dir, const char *driver, const char *cuda)
{
    struct gctk_sim_options so;
    gctk_sim_options_init(&so);
    so.gpus = 2;
    if (driver != NULL)
        so.driver = driver;
    if (cuda != NULL)
        so.cuda = cuda;
    struct strv warnings = {0};
    cleanup_error gctk_error *err = NULL;
    int r = gctk_sim_create(dir, &so, &warnings, &err);
    strv_clear(&warnings);
    return r;
}

/* The mocks of this build (build/tests/unit/test_doctor -> build/sim), and
 * the two simulated hosts the tests copy. */
static int group_setup(void **state)
{
    (void)state;
    if (test_use_build_sim() < 0)
        return -1;
    strcpy(group_dir, "/tmp/gctk-doctor-hosts-XXXXXX");
    if (mkdtemp(group_dir) == NULL)
        return -1;
    snprintf(pristine_host, sizeof(pristine_host), "%s/580", group_dir);
    snprintf(old_host, sizeof(old_host), "%s/535", group_dir);
    if (create_host(pristine_host, NULL, NULL) < 0 ||
        create_host(old_host, "535.104.05", "12.2") < 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    nftw(group_dir, test_rm_entry, 32, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static int setup_with(void **state, const char *driver, const char *cuda)
{
    struct fx *f = xcalloc(1, sizeof(*f));
    *state = f;
    f->lfd = -1;
    strcpy(f->dir, "/tmp/gctk-doctor-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    f->root = xasprintf("%s/host", f->dir);
    f->sock = xasprintf("%s/docker.sock", f->dir);
    f->host = xasprintf("unix://%s", f->sock);
    f->daemon_json = xasprintf("%s/daemon.json", f->dir);
    f->cdi = xasprintf("%s/cdi", f->dir);
    f->config = xasprintf("%s/gctk.json", f->dir);
    f->bin = xasprintf("%s/bin", f->dir);
    /* a copy of the group's host: creating one per test costs 0.2 s */
    cleanup_free char *cmd =
        xasprintf("cp -a '%s' '%s'", driver != NULL ? old_host : pristine_host, f->root);
    if (system(cmd) != 0)
        return -1;
    if (mkdir(f->cdi, 0755) < 0 || mkdir(f->bin, 0755) < 0)
        return -1;
    cleanup_free char *conf = xasprintf("{\"root\": \"%s\"}\n", f->root);
    write_text(f->config, conf);
    write_text(f->daemon_json,
               "{\"runtimes\": {\"nvidia\": {\"path\": \"/bin/true\", \"args\": []}}}\n");
    cleanup_free char *hook = xasprintf("%s/%s", f->bin, DOCTOR_HOOK_NAME);
    if (symlink("/bin/true", hook) < 0)
        return -1;
    /* the hook must be older than the stand-in dockerd: starttime counts
     * in clock ticks (10 ms) */
    sleep_ms(50);
    f->child = start_child(f->bin);
    if (f->child < 0)
        return -1;

    f->info = HEALTHY_INFO;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->sock);
    f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(f->lfd, 8) < 0 || pthread_create(&f->thread, NULL, serve, f) != 0)
        return -1;
    f->serving = true;

    doctor_options_init(&f->o);
    f->o.root = f->root;
    f->o.docker_host = f->host;
    f->o.daemon_json = f->daemon_json;
    f->cdi_dirs[0] = f->cdi;
    f->o.cdi_dirs = f->cdi_dirs;
    f->o.config_path = f->config;
    f->o.path_env = f->bin;
    f->o.dockerd_pid = f->child;
    f->o.cgroup_version = 1;
    f->o.hook_source = "/usr/bin/gctk-hook";
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, NULL, NULL);
}

static int setup_old_driver(void **state)
{
    return setup_with(state, "535.104.05", "12.2");
}

static void stop_server(struct fx *f)
{
    if (f->serving) {
        shutdown(f->lfd, SHUT_RDWR);
        pthread_join(f->thread, NULL);
        f->serving = false;
    }
    if (f->lfd >= 0)
        close(f->lfd);
    f->lfd = -1;
    unlink(f->sock);
}

static int teardown(void **state)
{
    struct fx *f = *state;
    stop_child(f);
    stop_server(f);
    doctor_report_clear(&f->r);
    /* test_device_programs' bpffs, had it stopped half way */
    cleanup_free char *fs = xasprintf("%s/bpf", f->dir);
    umount2(fs, MNT_DETACH);
    nftw(f->dir, test_rm_entry, 32, FTW_DEPTH | FTW_PHYS);
    free(f->root);
    free(f->sock);
    free(f->host);
    free(f->daemon_json);
    free(f->cdi);
    free(f->config);
    free(f->bin);
    free(f);
    return 0;
}

static struct doctor_report *run(struct fx *f)
{
    doctor_report_clear(&f->r);
    cleanup_error gctk_error *err = NULL;
    assert_int_equal(doctor_run(&f->o, &f->r, &err), 0);
    return &f->r;
}

static void dump(const struct doctor_report *r)
{
    for (size_t i = 0; i < r->len; i++)
        print_message("# %s %s: %s -> %s\n", doctor_status_name(r->items[i].status),
                      r->items[i].check, r->items[i].message,
                      r->items[i].fix ? r->items[i].fix : "");
}

/* The line of check whose message holds want; asserts its status and that
 * its fix holds fix (NULL: has no fix). */
static const struct doctor_result *expect(const struct doctor_report *r, const char *check,
                                          enum doctor_status status, const char *want,
                                          const char *fix)
{
    for (size_t i = 0; i < r->len; i++) {
        const struct doctor_result *x = &r->items[i];
        if (strcmp(x->check, check) != 0 || strstr(x->message, want) == NULL)
            continue;
        if (x->status != status || (fix == NULL) != (x->fix == NULL) ||
            (fix != NULL && strstr(x->fix, fix) == NULL)) {
            dump(r);
            fail_msg("`%s: %s`: status %s, fix `%s`", check, x->message,
                     doctor_status_name(x->status), x->fix ? x->fix : "(none)");
        }
        return x;
    }
    dump(r);
    fail_msg("no `%s` line with `%s`", check, want);
    return NULL;
}

static char *at(struct fx *f, const char *rel)
{
    return xasprintf("%s%s", f->root, rel);
}

/* ---- healthy ------------------------------------------------------------------ */

static void test_healthy(void **state)
{
    struct fx *f = *state;
    struct doctor_report *r = run(f);
    for (size_t i = 0; i < r->len; i++)
        if (r->items[i].status != DOCTOR_OK) {
            dump(r);
            fail_msg("`%s` is %s on a healthy host", r->items[i].check,
                     doctor_status_name(r->items[i].status));
        }
    assert_false(doctor_report_failed(r));
    expect(r, "driver", DOCTOR_OK, "kernel module 580.95.05 loaded", NULL);
    expect(r, "libraries", DOCTOR_OK, "match the kernel module 580.95.05", NULL);
    cleanup_free char *same = xasprintf("the driver and gctk are %s's", gctk_sim_arch(NULL));
    expect(r, "architecture", DOCTOR_OK, same, NULL);
    expect(r, "device nodes", DOCTOR_OK, "6 of 6 present", NULL);
    expect(r, "nvml", DOCTOR_OK, "driver 580.95.05, CUDA 13.0", NULL);
    expect(r, "gpu 0", DOCTOR_OK, "NVIDIA H100 80GB HBM3", NULL);
    expect(r, "gpu 1", DOCTOR_OK, "persistence on", NULL);
    expect(r, "gpus", DOCTOR_OK, "NVML sees 2 GPUs", NULL);
    expect(r, "docker", DOCTOR_OK, "Docker 20.10.24+dfsg1 (API 1.41)", NULL);
    expect(r, "daemon.json", DOCTOR_OK, "is valid", NULL);
    expect(r, "docker runtime", DOCTOR_OK, "registers the \"nvidia\" runtime: `/bin/true`", NULL);
    expect(r, "docker hook", DOCTOR_OK, "is on dockerd's PATH (-> `/bin/true`)", NULL);
    expect(r, "docker restart", DOCTOR_OK, "runs with the current hook", NULL);
    expect(r, "docker cdi", DOCTOR_OK, "Docker 20.10.24+dfsg1 has no CDI", NULL);
    expect(r, "cgroup", DOCTOR_OK, "cgroup v1, cgroupfs cgroup driver (dockerd)", NULL);
    expect(r, "cdi", DOCTOR_OK, "CDI not in use", NULL);
    expect(r, "config", DOCTOR_OK, "is valid", NULL);
    assert_null(doctor_report_find(r, "cuda"));

    json_t *j = doctor_report_json(r);
    assert_int_equal(json_array_size(j), r->len);
    json_t *first = json_array_get(j, 0);
    assert_string_equal(json_string_value(json_object_get(first, "check")), "driver");
    assert_string_equal(json_string_value(json_object_get(first, "status")), "ok");
    assert_true(json_is_null(json_object_get(first, "fix")));
    json_decref(j);
}

/* ---- driver, libraries, nodes, NVML ------------------------------------------------ */

static void test_no_module(void **state)
{
    struct fx *f = *state;
    cleanup_free char *v = at(f, "/proc/driver/nvidia/version");
    assert_int_equal(unlink(v), 0);
    struct doctor_report *r = run(f);
    expect(r, "driver", DOCTOR_ERROR, "kernel module not loaded", "modprobe nvidia");
    expect(r, "device nodes", DOCTOR_SKIPPED, "kernel module not loaded", NULL);
    expect(r, "nvml", DOCTOR_SKIPPED, "kernel module not loaded", NULL);
    expect(r, "libraries", DOCTOR_SKIPPED, "no kernel module", NULL);
    assert_true(doctor_report_failed(r));
}

static void set_module_version(struct fx *f, const char *version)
{
    cleanup_free char *v = at(f, "/proc/driver/nvidia/version");
    cleanup_free char *text = xasprintf(
        "NVRM version: NVIDIA UNIX x86_64 Kernel Module  %s  Sun Nov  2 10:00:00 UTC 2026\n",
        version);
    assert_int_equal(unlink(v), 0); /* 0444 */
    write_text(v, text);
}

static void test_version_mismatch_newer_module(void **state)
{
    struct fx *f = *state;
    set_module_version(f, "580.105.08");
    struct doctor_report *r = run(f);
    expect(r, "driver", DOCTOR_OK, "kernel module 580.105.08 loaded", NULL);
    cleanup_free char *line =
        xasprintf("driver/library version mismatch: kernel module 580.105.08, libraries 580.95.05 "
                  "(`%s/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.580.95.05`)",
                  f->root);
    expect(r, "libraries", DOCTOR_ERROR, line,
           "install the user-space libraries of driver 580.105.08");
    /* the mock NVML refuses as the real one does */
    expect(r, "nvml", DOCTOR_ERROR, "Driver/library version mismatch",
           "install the user-space libraries of driver 580.105.08");
    expect(r, "gpus", DOCTOR_SKIPPED, "NVML is not available", NULL);
}

static void test_version_mismatch_upgraded_libraries(void **state)
{
    struct fx *f = *state;
    set_module_version(f, "580.65.06");
    struct doctor_report *r = run(f);
    expect(r, "libraries", DOCTOR_ERROR, "kernel module 580.65.06", "reboot");
    expect(r, "nvml", DOCTOR_ERROR, "Driver/library version mismatch",
           "rmmod nvidia_uvm nvidia_drm nvidia_modeset nvidia && modprobe nvidia");
}

static void test_missing_library(void **state)
{
    struct fx *f = *state;
    cleanup_free char *cache = at(f, "/etc/ld.so.cache");
    cleanup_free char *link = at(f, "/usr/lib/x86_64-linux-gnu/libcuda.so.1");
    assert_int_equal(unlink(cache), 0);
    assert_int_equal(unlink(link), 0);
    struct doctor_report *r = run(f);
    expect(r, "libraries", DOCTOR_ERROR, "no `libcuda.so.1`: neither",
           "install the NVIDIA driver's user-space libraries of version 580.95.05");
    /* without the cache, NVML is found in the library directories */
    expect(r, "nvml", DOCTOR_OK, "driver 580.95.05", NULL);
}

/* A library of another machine where the driver's are (a driver installed
 * for the wrong architecture): discovery skips it, the doctor says so. */
static void test_foreign_library(void **state)
{
    struct fx *f = *state;
    const char *own = gctk_sim_arch(NULL);
    const char *other = strcmp(own, "x86_64") == 0 ? "aarch64" : "x86_64";
    cleanup_free char *rel = xasprintf("/usr/lib/%s-linux-gnu/libnvidia-encode.so.580.95.05", own);
    cleanup_free char *lib = at(f, rel);
    assert_int_equal(unlink(lib), 0);
    assert_int_equal(elfstub_write(lib, "libnvidia-encode.so.1", other, false, NULL), 0);
    struct doctor_report *r = run(f);
    cleanup_free char *msg = xasprintf("`%s` is built for %s, not for this %s driver", lib,
                                       strcmp(other, "x86_64") == 0 ? "x86-64" : other, own);
    cleanup_free char *fix =
        xasprintf("remove `%s`, or reinstall the driver's %s libraries", lib, own);
    expect(r, "architecture", DOCTOR_WARNING, msg, fix);
}

static void test_missing_node(void **state)
{
    struct fx *f = *state;
    cleanup_free char *node = at(f, "/dev/nvidia1");
    assert_int_equal(unlink(node), 0);
    struct doctor_report *r = run(f);
    expect(r, "device nodes", DOCTOR_ERROR, "/dev/nvidia1` is missing", "nvidia-modprobe -c 1");
    /* the mock NVML hides a GPU without its node, as the real one fails on it */
    expect(r, "gpus", DOCTOR_ERROR, "(minor 1) is in /proc/driver/nvidia but NVML does not see it",
           "nvidia-modprobe -c 1");
    expect(r, "gpu 0", DOCTOR_OK, "NVIDIA H100", NULL);
    assert_null(doctor_report_find(r, "gpu 1"));
}

static void test_missing_uvm(void **state)
{
    struct fx *f = *state;
    cleanup_free char *node = at(f, "/dev/nvidia-uvm");
    assert_int_equal(unlink(node), 0);
    struct doctor_report *r = run(f);
    expect(r, "device nodes", DOCTOR_ERROR, "/dev/nvidia-uvm` is missing",
           "nvidia-modprobe -u -c 0");
}

static void test_wrong_major(void **state)
{
    struct fx *f = *state;
    cleanup_free char *node = at(f, "/dev/nvidia0");
    assert_int_equal(unlink(node), 0);
    assert_int_equal(mknod(node, S_IFCHR | 0666, makedev(10, 0)), 0);
    assert_int_equal(chmod(node, 0666), 0);
    struct doctor_report *r = run(f);
    cleanup_free char *fix = xasprintf("rm -f %s && mknod -m 666 %s c 195 0", node, node);
    expect(r, "device nodes", DOCTOR_ERROR, "/dev/nvidia0` is 10:0, expected 195:0", fix);
}

static void test_wrong_uvm_major(void **state)
{
    struct fx *f = *state;
    /* the kernel's /proc/devices says where nvidia-uvm is */
    cleanup_free char *devices = at(f, "/proc/devices");
    write_text(devices, "Character devices:\n  1 mem\n195 nvidia\n508 nvidia-uvm\n\n"
                        "Block devices:\n  8 sd\n");
    struct doctor_report *r = run(f);
    expect(r, "device nodes", DOCTOR_ERROR, "/dev/nvidia-uvm` is 510:0, expected 508:0",
           "mknod -m 666");
}

static void test_not_char_device(void **state)
{
    struct fx *f = *state;
    cleanup_free char *node = at(f, "/dev/nvidiactl");
    assert_int_equal(unlink(node), 0);
    write_text(node, "");
    struct doctor_report *r = run(f);
    expect(r, "device nodes", DOCTOR_ERROR, "/dev/nvidiactl` is not a character device",
           "c 195 255");
}

static void test_node_permissions(void **state)
{
    struct fx *f = *state;
    cleanup_free char *node = at(f, "/dev/nvidiactl");
    assert_int_equal(chmod(node, 0660), 0);
    struct doctor_report *r = run(f);
    expect(r, "device nodes", DOCTOR_WARNING, "/dev/nvidiactl` is mode 0660",
           "NVreg_DeviceFileMode=0666");
    assert_false(doctor_report_failed(r));
}

static void set_persistence_off(struct fx *f)
{
    cleanup_free char *bus = gctk_sim_gpu_bus_id(1);
    cleanup_free char *rel = xasprintf("/proc/driver/nvidia/gpus/%s/gctk-sim", bus);
    cleanup_free char *path = at(f, rel);
    unlink(path);
    write_text(path, "Memory MiB: 81559\nBrand: Tesla\nCompute Capability: 9.0\n"
                     "Persistence Mode: Disabled\n");
}

static void test_persistence_off_slow(void **state)
{
    struct fx *f = *state;
    set_persistence_off(f);
    f->o.slow_nvml_ms = 0; /* every initialisation counts as slow */
    struct doctor_report *r = run(f);
    expect(r, "persistence", DOCTOR_WARNING, "persistence mode off on GPU 1 and NVML took",
           "systemctl enable --now nvidia-persistenced");
    expect(r, "gpu 1", DOCTOR_OK, "persistence off", NULL);
}

static void test_persistence_off_fast(void **state)
{
    struct fx *f = *state;
    set_persistence_off(f);
    f->o.slow_nvml_ms = 100000;
    struct doctor_report *r = run(f);
    expect(r, "persistence", DOCTOR_OK, "persistence mode off on GPU 1; initialisation took", NULL);
}

/* ---- Docker ---------------------------------------------------------------------- */

static void test_no_docker_installed(void **state)
{
    struct fx *f = *state;
    stop_server(f);
    stop_child(f);
    f->o.dockerd_pid = 0;
    f->o.path_env = f->cdi; /* an empty dir: no dockerd */
    struct doctor_report *r = run(f);
    expect(r, "docker", DOCTOR_ERROR, "and no dockerd installed", "install Docker");
    expect(r, "docker hook", DOCTOR_SKIPPED, "Docker is not installed", NULL);
    expect(r, "docker restart", DOCTOR_SKIPPED, "dockerd is not running", NULL);
}

static void test_docker_not_running(void **state)
{
    struct fx *f = *state;
    stop_server(f);
    stop_child(f);
    f->o.dockerd_pid = 0;
    cleanup_free char *dockerd = xasprintf("%s/dockerd", f->bin);
    assert_int_equal(symlink("/bin/true", dockerd), 0);
    struct doctor_report *r = run(f);
    const struct doctor_result *x =
        expect(r, "docker", DOCTOR_ERROR, "no Docker daemon at", "systemctl start docker");
    assert_null(strstr(x->message, "no dockerd installed"));
}

static void test_docker_host_not_unix(void **state)
{
    struct fx *f = *state;
    f->o.docker_host = "tcp://127.0.0.1:2375";
    struct doctor_report *r = run(f);
    expect(r, "docker", DOCTOR_SKIPPED, "is not a unix:// socket", NULL);
}

static void test_daemon_json_without_runtime(void **state)
{
    struct fx *f = *state;
    write_text(f->daemon_json, "{\"log-level\": \"info\"}\n");
    f->info = "{\"Runtimes\": {\"runc\": {\"path\": \"runc\"}}, \"CgroupDriver\": \"cgroupfs\"}";
    struct doctor_report *r = run(f);
    cleanup_free char *fix =
        xasprintf("gctk runtime configure --runtime=docker --config %s && systemctl restart docker",
                  f->daemon_json);
    expect(r, "daemon.json", DOCTOR_OK, "is valid", NULL);
    expect(r, "docker runtime", DOCTOR_ERROR, "has no \"nvidia\" runtime", fix);
    assert_true(doctor_report_failed(r));
}

static void test_daemon_json_missing(void **state)
{
    struct fx *f = *state;
    assert_int_equal(unlink(f->daemon_json), 0);
    struct doctor_report *r = run(f);
    expect(r, "daemon.json", DOCTOR_OK, "does not exist: Docker's defaults", NULL);
    /* the fake daemon has it from its command line */
    expect(r, "docker runtime", DOCTOR_OK, "from its command line", NULL);
}

static void test_daemon_json_invalid(void **state)
{
    struct fx *f = *state;
    write_text(f->daemon_json,
               "{\n  \"runtimes\": {\n    \"nvidia\": {\"path\": \"x\",}\n  }\n}\n");
    struct doctor_report *r = run(f);
    expect(r, "daemon.json", DOCTOR_ERROR, "line 3", "python3 -m json.tool");
    expect(r, "docker runtime", DOCTOR_SKIPPED, "is invalid", NULL);
}

static void test_default_runtime_undefined(void **state)
{
    struct fx *f = *state;
    write_text(f->daemon_json, "{\"default-runtime\": \"nvidia\"}\n");
    struct doctor_report *r = run(f);
    expect(r, "daemon.json", DOCTOR_ERROR, "\"default-runtime\" is `nvidia`",
           "gctk runtime configure");
}

static void test_runtime_not_executable(void **state)
{
    struct fx *f = *state;
    write_text(f->daemon_json,
               "{\"runtimes\": {\"nvidia\": {\"path\": \"/nonexistent/gctk-runtime\"}}}");
    struct doctor_report *r = run(f);
    expect(r, "docker runtime", DOCTOR_ERROR,
           "`/nonexistent/gctk-runtime`, which is not an executable", "gctk runtime configure");
}

static void test_runtime_by_name_on_dockerd_path(void **state)
{
    struct fx *f = *state;
    cleanup_free char *rt = xasprintf("%s/gctk-runtime", f->bin);
    assert_int_equal(symlink("/bin/true", rt), 0);
    write_text(f->daemon_json, "{\"runtimes\": {\"nvidia\": {\"path\": \"gctk-runtime\"}}}");
    struct doctor_report *r = run(f);
    expect(r, "docker runtime", DOCTOR_OK, rt, NULL);
}

static void test_hook_missing(void **state)
{
    struct fx *f = *state;
    cleanup_free char *hook = xasprintf("%s/%s", f->bin, DOCTOR_HOOK_NAME);
    assert_int_equal(unlink(hook), 0);
    struct doctor_report *r = run(f);
    cleanup_free char *fix = xasprintf("ln -s /usr/bin/gctk-hook %s/%s && systemctl restart docker",
                                       f->bin, DOCTOR_HOOK_NAME);
    const struct doctor_result *x =
        expect(r, "docker hook", DOCTOR_ERROR, "is not on dockerd's PATH", fix);
    assert_non_null(strstr(x->message, "could not select device driver \"\" with capabilities: "
                                       "[[gpu]]"));
}

static void test_hook_installed_after_dockerd(void **state)
{
    struct fx *f = *state;
    cleanup_free char *hook = xasprintf("%s/%s", f->bin, DOCTOR_HOOK_NAME);
    assert_int_equal(unlink(hook), 0);
    stop_child(f);
    f->o.dockerd_pid = f->child = start_child(f->bin);
    assert_int_equal(symlink("/bin/true", hook), 0);
    /* installed a while after dockerd started (a link made within the
     * doctor's 2 s margin counts as there at the start) */
    struct timespec later[2];
    clock_gettime(CLOCK_REALTIME, &later[0]);
    later[0].tv_sec += 10;
    later[1] = later[0];
    assert_int_equal(utimensat(AT_FDCWD, hook, later, AT_SYMLINK_NOFOLLOW), 0);
    struct doctor_report *r = run(f);
    expect(r, "docker hook", DOCTOR_OK, "is on dockerd's PATH", NULL);
    /* a sure failure: dockerd looked for the hook only as it started */
    expect(r, "docker restart", DOCTOR_ERROR,
           "was installed after dockerd started, so dockerd has no GPU support: `docker run "
           "--gpus` fails with `could not select device driver \"\" with capabilities: [[gpu]]`",
           "systemctl restart docker");
    assert_true(doctor_report_failed(r));
}

static void test_runtime_not_loaded(void **state)
{
    struct fx *f = *state;
    f->info = "{\"Runtimes\": {\"runc\": {\"path\": \"runc\"}}, \"CgroupDriver\": \"cgroupfs\"}";
    struct doctor_report *r = run(f);
    expect(r, "docker runtime", DOCTOR_OK, "registers", NULL);
    /* what `gctk compose check` says of a `runtime: nvidia` service too */
    expect(r, "docker restart", DOCTOR_ERROR,
           "restart needed: dockerd has not loaded the \"nvidia\" runtime",
           "systemctl restart docker");
    expect(r, "docker restart", DOCTOR_ERROR, "`unknown or invalid runtime name: nvidia`",
           "systemctl restart docker");
    assert_true(doctor_report_failed(r));
}

static void test_dockerd_environment_unreadable(void **state)
{
    struct fx *f = *state;
    stop_child(f);
    f->o.dockerd_pid = 0; /* and no dockerd here serves the test's socket */
    struct doctor_report *r = run(f);
    expect(r, "docker hook", DOCTOR_ERROR, "is not on systemd's default PATH", "ln -s");
}

static void test_docker_get(void **state)
{
    struct fx *f = *state;
    json_t *j = NULL;
    cleanup_error gctk_error *err = NULL;
    assert_int_equal(doctor_docker_get(f->host, "/version", &j, &err), 0);
    assert_string_equal(json_string_value(json_object_get(j, "ApiVersion")), "1.41");
    json_decref(j);
    assert_int_equal(doctor_docker_get(f->host, "/nothing", &j, &err), -1);
    assert_non_null(strstr(err->msg, "HTTP 404"));
    gctk_error_free(err);
    err = NULL;
    assert_int_equal(doctor_docker_get("tcp://x:1", "/version", &j, &err), -1);
    assert_non_null(strstr(err->msg, "only unix://"));
    gctk_error_free(err);
    err = NULL;
    cleanup_free char *none = xasprintf("unix://%s/none.sock", f->dir);
    assert_int_equal(doctor_docker_get(none, "/version", &j, &err), -1);
    assert_int_equal(err->code, ENOENT);
}

static void test_find_dockerd(void **state)
{
    struct fx *f = *state;
    /* a pidfile naming a live process that is not dockerd is not believed */
    cleanup_free char *pidfile = xasprintf("%s/docker.pid", f->dir);
    cleanup_free char *text = xasprintf("%d\n", (int)f->child);
    write_text(pidfile, text);
    assert_int_not_equal(doctor_find_dockerd(f->host, pidfile), f->child);
    /* no dockerd serves the test's own socket */
    assert_int_equal(doctor_find_dockerd(f->host, NULL), 0);
}

/* ---- cgroups ---------------------------------------------------------------------- */

static void test_cgroup_v2_systemd(void **state)
{
    struct fx *f = *state;
    f->o.cgroup_version = 2;
    f->info = "{\"Runtimes\": {\"nvidia\": {}}, \"CgroupDriver\": \"systemd\"}";
    struct doctor_report *r = run(f);
    const struct doctor_result *x =
        expect(r, "cgroup", DOCTOR_WARNING,
               "cgroup v2 with the systemd cgroup driver (dockerd): `systemctl daemon-reload`",
               "native.cgroupdriver=cgroupfs");
    /* the simulated host has no /dev/char: the fix names the links too */
    assert_non_null(strstr(x->fix, "gctk cdi generate --output /etc/cdi/nvidia.yaml"));
    assert_non_null(strstr(x->fix, "gctk dev-char-links"));
    /* cgroup v1 under systemd loses them the same way */
    f->o.cgroup_version = 1;
    r = run(f);
    expect(r, "cgroup", DOCTOR_WARNING,
           "cgroup v1 with the systemd cgroup driver (dockerd): `systemctl daemon-reload` (run "
           "by package upgrades too) takes the GPUs the hook allowed away",
           "native.cgroupdriver=cgroupfs");
}

static void test_cgroup_v2_default_driver(void **state)
{
    struct fx *f = *state;
    stop_server(f); /* no daemon to ask: daemon.json, then Docker's default */
    f->o.cgroup_version = 2;
    struct doctor_report *r = run(f);
    expect(r, "cgroup", DOCTOR_WARNING, "(Docker's default)", "gctk cdi generate");
    write_text(f->daemon_json, "{\"runtimes\": {\"nvidia\": {\"path\": \"/bin/true\"}}, "
                               "\"exec-opts\": [\"native.cgroupdriver=cgroupfs\"]}");
    r = run(f);
    expect(r, "cgroup", DOCTOR_OK, "cgroup v2, cgroupfs cgroup driver (daemon.json)", NULL);
}

/* cgroup v2: the hook's device programs are kept where cgroup_prog_dir's
 * parent is a bpffs; elsewhere each GPU container loads its own (teardown
 * unmounts the bpffs) */
static void test_device_programs(void **state)
{
    struct fx *f = *state;
    const char *saved = cgroup_prog_dir;
    cleanup_free char *fs = xasprintf("%s/bpf", f->dir);
    cleanup_free char *kept = xasprintf("%s/gctk", fs);
    assert_int_equal(mkdir(fs, 0700), 0);
    cgroup_prog_dir = kept;
    struct doctor_report *r = run(f); /* the fixture's cgroup v1: no line */
    assert_null(doctor_report_find(r, "device programs"));
    f->o.cgroup_version = 2;
    r = run(f);
    const struct doctor_result *x =
        expect(r, "device programs", DOCTOR_WARNING,
               "cgroup v2 without a bpffs at `/tmp/gctk-doctor-", "mount -t bpf bpf /tmp/");
    assert_non_null(strstr(x->message, fs));
    assert_non_null(strstr(x->fix, fs));
    if (mount("bpf", fs, "bpf", 0, "mode=0700") == 0) {
        r = run(f);
        expect(r, "device programs", DOCTOR_OK, "are kept in `/tmp/gctk-doctor-", NULL);
        /* the doctor only looks: the directory is the hook's to make */
        assert_int_equal(access(kept, F_OK), -1);
    } else {
        print_message("# no bpffs to mount (%s): the ok line is not checked\n", strerror(errno));
    }
    cgroup_prog_dir = saved;
}

/* Docker's CDI, by version: none before 25, behind features.cdi from 25 on */
static void test_docker_cdi(void **state)
{
    struct fx *f = *state;
    write_text(f->daemon_json, "{\"runtimes\": {\"nvidia\": {\"path\": \"/bin/true\"}}, "
                               "\"features\": {\"cdi\": true}}");
    struct doctor_report *r = run(f);
    expect(r, "docker cdi", DOCTOR_WARNING,
           "Docker 20.10.24+dfsg1 has no CDI (Docker 25 and later have it): \"features\": "
           "{\"cdi\": true} in",
           "give GPUs with docker run --gpus");

    f->version = "26.1.5+dfsg1";
    f->info = "{\"Runtimes\": {\"nvidia\": {}, \"runc\": {}}, \"CgroupDriver\": \"cgroupfs\", "
              "\"CDISpecDirs\": []}";
    r = run(f);
    expect(r, "docker cdi", DOCTOR_WARNING,
           "turns CDI on but dockerd 26.1.5+dfsg1 has not loaded it", "systemctl restart docker");

    f->info = "{\"Runtimes\": {\"nvidia\": {}, \"runc\": {}}, \"CgroupDriver\": \"cgroupfs\", "
              "\"CDISpecDirs\": [\"/etc/cdi\", \"/var/run/cdi\"]}";
    r = run(f);
    expect(r, "docker cdi", DOCTOR_OK,
           "Docker 26.1.5+dfsg1 reads CDI specs from `/etc/cdi`, `/var/run/cdi`: docker run "
           "--device nvidia.com/gpu=N works",
           NULL);

    write_text(f->daemon_json, "{\"runtimes\": {\"nvidia\": {\"path\": \"/bin/true\"}}}");
    f->info = "{\"Runtimes\": {\"nvidia\": {}, \"runc\": {}}, \"CgroupDriver\": \"cgroupfs\", "
              "\"CDISpecDirs\": []}";
    r = run(f);
    expect(r, "docker cdi", DOCTOR_OK, "Docker 26.1.5+dfsg1 has CDI off: --gpus works", NULL);
}

static void test_cgroup_v2_systemd_with_cdi(void **state)
{
    struct fx *f = *state;
    f->o.cgroup_version = 2;
    f->info = "{\"Runtimes\": {\"nvidia\": {}}, \"CgroupDriver\": \"systemd\"}";
    write_text(f->daemon_json, "{\"runtimes\": {\"nvidia\": {\"path\": \"/bin/true\"}}, "
                               "\"features\": {\"cdi\": true}}");
    struct doctor_report *r = run(f);
    /* CDI, but no /dev/char links: systemd drops the devices runc declares */
    cleanup_free char *ctl_link = at(f, "/dev/char/195:255");
    cleanup_free char *want = xasprintf("and CDI: `%s` is missing", ctl_link);
    expect(r, "cgroup", DOCTOR_WARNING, want, "gctk dev-char-links");
    /* CDI on, and no spec */
    expect(r, "cdi", DOCTOR_ERROR, "enables CDI but no spec", "gctk cdi generate");
    /* with the links of every node */
    cleanup_free char *dir = at(f, "/dev/char");
    assert_int_equal(mkdir(dir, 0755), 0);
    static const char *const nodes[] = {
        "195:255", "../nvidiactl",        "195:254", "../nvidia-modeset", "510:0", "../nvidia-uvm",
        "510:1",   "../nvidia-uvm-tools", "195:0",   "../nvidia0",        "195:1", "../nvidia1"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(nodes); i += 2) {
        cleanup_free char *link = xasprintf("%s/%s", dir, nodes[i]);
        assert_int_equal(symlink(nodes[i + 1], link), 0);
    }
    r = run(f);
    expect(r, "cgroup", DOCTOR_OK, "CDI enabled and the /dev/char links in place", NULL);
}

/* ---- CDI ------------------------------------------------------------------------------ */

static char *spec_json(const char *lib_version, unsigned gpu_major)
{
    return xasprintf("{\"cdiVersion\": \"0.5.0\", \"kind\": \"nvidia.com/gpu\",\n"
                     " \"devices\": [{\"name\": \"0\", \"containerEdits\": {\"deviceNodes\": [\n"
                     "   {\"path\": \"/dev/nvidia0\", \"major\": %u, \"minor\": 0}]}}],\n"
                     " \"containerEdits\": {\"deviceNodes\": [{\"path\": \"/dev/nvidiactl\"}],\n"
                     "   \"mounts\": [{\"hostPath\": \"/usr/lib/x86_64-linux-gnu/libcuda.so.%s\",\n"
                     "     \"containerPath\": \"/usr/lib/x86_64-linux-gnu/libcuda.so.%s\"}]}}\n",
                     gpu_major, lib_version, lib_version);
}

static void write_spec(struct fx *f, const char *name, const char *text)
{
    cleanup_free char *path = xasprintf("%s/%s", f->cdi, name);
    write_text(path, text);
}

static void test_cdi_valid(void **state)
{
    struct fx *f = *state;
    cleanup_free char *spec = spec_json("580.95.05", 195);
    write_spec(f, "nvidia.json", spec);
    struct doctor_report *r = run(f);
    expect(r, "cdi", DOCTOR_OK, "nvidia.com/gpu, 1 device, 2 nodes and 1 mounts present", NULL);
}

static void test_cdi_stale(void **state)
{
    struct fx *f = *state;
    cleanup_free char *spec = spec_json("570.86.15", 195);
    write_spec(f, "nvidia.json", spec);
    struct doctor_report *r = run(f);
    cleanup_free char *fix = xasprintf("gctk cdi generate --output %s/nvidia.json", f->cdi);
    expect(r, "cdi", DOCTOR_ERROR, "stale spec", fix);
    expect(r, "cdi", DOCTOR_ERROR, "is of driver 570.86.15, the running driver is 580.95.05", fix);
}

static void test_cdi_wrong_major(void **state)
{
    struct fx *f = *state;
    cleanup_free char *spec = spec_json("580.95.05", 10);
    write_spec(f, "nvidia.json", spec);
    struct doctor_report *r = run(f);
    expect(r, "cdi", DOCTOR_ERROR, "/dev/nvidia0` is 195:0, the spec says 10:0",
           "gctk cdi generate");
}

static void test_cdi_missing_node(void **state)
{
    struct fx *f = *state;
    write_spec(f, "nvidia.json",
               "{\"cdiVersion\": \"0.5.0\", \"kind\": \"nvidia.com/gpu\", \"devices\": [\n"
               " {\"name\": \"7\", \"containerEdits\": {\"deviceNodes\": [\n"
               "   {\"path\": \"/dev/nvidia7\"}, {\"path\": \"/dev/nvidia8\"}]}}]}");
    struct doctor_report *r = run(f);
    expect(r, "cdi", DOCTOR_ERROR, "/dev/nvidia7` is missing (and 1 more)", "gctk cdi generate");
}

static void test_cdi_invalid(void **state)
{
    struct fx *f = *state;
    write_spec(f, "bad.json", "{\"cdiVersion\": \"0.5.0\",");
    write_spec(f, "nokind.json", "{\"cdiVersion\": \"0.5.0\"}");
    write_spec(f, "other.json", "{\"cdiVersion\": \"0.5.0\", \"kind\": \"vendor.com/fpga\"}");
    struct doctor_report *r = run(f);
    expect(r, "cdi", DOCTOR_ERROR, "bad.json` line 1", "gctk cdi generate");
    expect(r, "cdi", DOCTOR_ERROR, "is not a CDI spec", "gctk cdi generate");
    expect(r, "cdi", DOCTOR_OK, "kind vendor.com/fpga, not NVIDIA's", NULL);
}

#define YAML_SPEC                                                                                  \
    "---\n"                                                                                        \
    "cdiVersion: 0.5.0\n"                                                                          \
    "kind: nvidia.com/gpu\n"                                                                       \
    "devices:\n"                                                                                   \
    "- name: \"0\"\n"                                                                              \
    "  containerEdits:\n"                                                                          \
    "    deviceNodes:\n"                                                                           \
    "    - path: /dev/nvidia0\n"                                                                   \
    "      major: 195\n"                                                                           \
    "      minor: 0\n"                                                                             \
    "containerEdits:\n"                                                                            \
    "  mounts:\n"                                                                                  \
    "  - hostPath: /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.%s\n"                                 \
    "    containerPath: /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.%s\n"                            \
    "    options: [ro, nosuid, nodev, bind]\n"

static void test_cdi_yaml(void **state)
{
    struct fx *f = *state;
    cleanup_free char *good = xasprintf(YAML_SPEC, "580.95.05", "580.95.05");
    write_spec(f, "nvidia.yaml", good);
    struct doctor_report *r = run(f);
    expect(r, "cdi", DOCTOR_OK, "nvidia.yaml`: nvidia.com/gpu, 1 device", NULL);
    cleanup_free char *stale = xasprintf(YAML_SPEC, "550.54.14", "550.54.14");
    write_spec(f, "nvidia.yaml", stale);
    r = run(f);
    expect(r, "cdi", DOCTOR_ERROR, "stale spec", "gctk cdi generate --output");

    json_t *j = NULL;
    cleanup_error gctk_error *err = NULL;
    cleanup_free char *path = xasprintf("%s/nvidia.yaml", f->cdi);
    assert_int_equal(cdi_load(path, &j, &err), 0);
    json_t *node = json_array_get(
        json_object_get(
            json_object_get(json_array_get(json_object_get(j, "devices"), 0), "containerEdits"),
            "deviceNodes"),
        0);
    assert_int_equal(json_integer_value(json_object_get(node, "major")), 195);
    /* quoted stays a string */
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(j, "devices"), 0), "name")),
                        "0");
    json_decref(j);
    write_spec(f, "broken.yaml", "kind: [a\n");
    cleanup_free char *broken = xasprintf("%s/broken.yaml", f->cdi);
    assert_int_equal(cdi_load(broken, &j, &err), -1);
    assert_non_null(strstr(err->msg, "broken.yaml` line"));
}

static void test_cdi_paths_inside_root(void **state)
{
    struct fx *f = *state;
    /* a spec generated for the simulated root names paths inside it */
    cleanup_free char *spec = xasprintf(
        "{\"cdiVersion\": \"0.5.0\", \"kind\": \"nvidia.com/gpu\", \"devices\": [{\"name\": "
        "\"0\", \"containerEdits\": {\"deviceNodes\": [{\"path\": \"/dev/nvidia0\", "
        "\"hostPath\": \"%s/dev/nvidia0\"}]}}]}",
        f->root);
    write_spec(f, "nvidia.json", spec);
    struct doctor_report *r = run(f);
    expect(r, "cdi", DOCTOR_OK, "1 nodes and 0 mounts present", NULL);
}

/* ---- config and CUDA ---------------------------------------------------------------- */

/* "no-cgroups": true under a rootful dockerd: every GPU container's device
 * cgroup refuses its GPUs ("Failed to initialize NVML: Unknown Error") */
static void test_no_cgroups_rootful(void **state)
{
    struct fx *f = *state;
    cleanup_free char *conf = xasprintf("{\"root\": \"%s\", \"no-cgroups\": true}", f->root);
    write_text(f->config, conf);
    struct doctor_report *r = run(f);
    expect(r, "config", DOCTOR_OK, "is valid", NULL);
    cleanup_free char *want =
        xasprintf("`%s` sets \"no-cgroups\": true, but dockerd runs as root, outside a user "
                  "namespace: the hook then leaves the GPUs out of each container's device "
                  "cgroup, which refuses them (`Failed to initialize NVML: Unknown Error` in "
                  "every GPU container)",
                  f->config);
    expect(r, "no-cgroups", DOCTOR_ERROR, want, "remove \"no-cgroups\" from");
    assert_true(doctor_report_failed(r));
    /* no dockerd here: still wrong for any rootful engine, said as a warning */
    stop_child(f);
    f->o.dockerd_pid = 0;
    f->o.docker_host = "unix:///nonexistent/docker.sock";
    r = run(f);
    expect(r, "no-cgroups", DOCTOR_WARNING, "but this machine's engine runs as root",
           "remove \"no-cgroups\"");
}

/* A doctor run without CAP_SYS_ADMIN says what a hook run so meets; the
 * check runs in a child that drops root. */
static void test_unprivileged(void **state)
{
    struct fx *f = *state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
            _exit(3);
        struct doctor_report r = {0};
        gctk_error *err = NULL;
        doctor_run(&f->o, &r, &err);
        const struct doctor_result *x = doctor_report_find(&r, "privileges");
        _exit(x != NULL && x->status == DOCTOR_WARNING &&
                      strstr(x->message, "runs as uid 65534 without CAP_SYS_ADMIN") != NULL &&
                      strstr(x->fix, "through CDI") != NULL
                  ? 0
                  : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* as root: no such line */
    struct doctor_report *r = run(f);
    assert_null(doctor_report_find(r, "privileges"));
    expect(r, "device cgroup", DOCTOR_OK, "containers may be given the GPUs", NULL);
}

/* ---- an image, a container --------------------------------------------------------- */

/* A layer directory of the fake image: `files` is "PATH\tTYPE" lines, TYPE
 * f (a file), l:TARGET (a link), w (an overlayfs whiteout, char 0:0). */
static char *make_layer(struct fx *f, const char *name, const char *files)
{
    char *dir = xasprintf("%s/layers/%s", f->dir, name);
    assert_int_equal(mkdir_p(dir, 0755, NULL), 0);
    cleanup_free char *copy = xstrdup(files);
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *tab = strchr(line, '\t');
        assert_non_null(tab);
        *tab = '\0';
        cleanup_free char *path = xasprintf("%s%s", dir, line);
        cleanup_free char *parent = xstrdup(path);
        *strrchr(parent, '/') = '\0';
        assert_int_equal(mkdir_p(parent, 0755, NULL), 0);
        if (tab[1] == 'f')
            write_text(path, "ELF\n");
        else if (tab[1] == 'l')
            assert_int_equal(symlink(tab + 3, path), 0);
        else
            assert_int_equal(mknod(path, S_IFCHR | 0600, makedev(0, 0)), 0);
    }
    return dir;
}

static char *image_json(const char *upper, const char *lower, const char *env)
{
    return xasprintf("{\"Id\": \"sha256:4f1c1bc0c2d1e3f4a5b6\", \"Config\": {\"Env\": [%s]}, "
                     "\"GraphDriver\": {\"Name\": \"overlay2\", \"Data\": {\"UpperDir\": "
                     "\"%s\", \"LowerDir\": \"%s\"}}}",
                     env, upper, lower);
}

static void test_image(void **state)
{
    struct fx *f = *state;
    /* a base layer with a driver package's files, a layer above that
     * removes one of them, and the image's own top layer */
    cleanup_free char *base =
        make_layer(f, "base",
                   "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1\tf\n"
                   "/usr/lib/x86_64-linux-gnu/libcuda.so.535.54.03\tf\n"
                   "/usr/lib/x86_64-linux-gnu/libcuda.so.1\tl:libcuda.so.535.54.03\n"
                   "/usr/lib/x86_64-linux-gnu/libnvidia-ptxjitcompiler.so.535.54.03\tf\n"
                   "/usr/lib/x86_64-linux-gnu/libc.so.6\tf\n"
                   "/usr/bin/nvidia-smi\tf\n");
    cleanup_free char *mid = make_layer(
        f, "mid", "/usr/lib/x86_64-linux-gnu/libnvidia-ptxjitcompiler.so.535.54.03\tw\n");
    cleanup_free char *top = make_layer(f, "top", "/etc/hostname\tf\n");
    cleanup_free char *lower = xasprintf("%s:%s", mid, base);
    cleanup_free char *json = image_json(top, lower, "\"NVIDIA_REQUIRE_CUDA=cuda>=13.1\"");
    f->image = json;
    f->o.image = "gctk-test:latest";
    struct doctor_report *r = run(f);
    expect(r, "image", DOCTOR_OK, "image `gctk-test:latest` (sha256:4f1c1bc0c2d1)", NULL);
    /* the regular SONAME file makes every GPU container fail */
    expect(r, "image driver files", DOCTOR_ERROR,
           "image `gctk-test:latest` carries driver files of its own: "
           "`/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1` (a regular file, where the driver's "
           "link goes): its GPU containers do not start",
           "apt-get purge -y` the driver package");
    /* the rest is left beside the host's; the whited-out file is not there */
    const struct doctor_result *x =
        expect(r, "image driver files", DOCTOR_WARNING, "carries driver files of driver 535.54.03",
               "the host's driver 580.95.05 is given to every GPU container");
    assert_non_null(strstr(x->message, "`/usr/bin/nvidia-smi`"));
    assert_null(strstr(x->message, "ptxjitcompiler"));
    assert_null(strstr(x->message, "libc.so.6"));
    /* and its requirement, checked as --image-env checks it */
    expect(r, "cuda", DOCTOR_ERROR, "image `gctk-test:latest`: ", "gctk compat");
    assert_true(doctor_report_failed(r));

    /* an image of no driver file */
    cleanup_free char *clean = image_json(top, "", "\"PATH=/usr/bin\"");
    f->image = clean;
    r = run(f);
    expect(r, "image driver files", DOCTOR_OK,
           "image `gctk-test:latest` carries no driver file in its library directories (1 layer "
           "read)",
           NULL);
    expect(r, "cuda", DOCTOR_OK, "the image's requirements hold", NULL);
    /* a storage driver that names no directory */
    f->image = "{\"Id\": \"sha256:1\", \"GraphDriver\": {\"Name\": \"vfs\", \"Data\": null}}";
    r = run(f);
    expect(r, "image driver files", DOCTOR_SKIPPED, "storage driver `vfs` does not say", NULL);
    /* unknown to Docker; a malformed name */
    f->image = NULL;
    r = run(f);
    expect(r, "image", DOCTOR_ERROR, "image `gctk-test:latest`", "docker pull gctk-test:latest");
    f->o.image = "x y";
    cleanup_error gctk_error *err = NULL;
    doctor_report_clear(&f->r);
    assert_int_equal(doctor_run(&f->o, &f->r, &err), -1);
    assert_non_null(strstr(err->msg, "invalid image `x y`"));
}

/* A container Docker knows that is not running (it failed to start on its
 * image's driver files): its files are read; one nobody knows is an error. */
static void test_container_not_running(void **state)
{
    struct fx *f = *state;
    cleanup_free char *layer = make_layer(f, "c", "/usr/lib/x86_64-linux-gnu/libcuda.so.1\tf\n");
    cleanup_free char *json = xasprintf(
        "{\"Name\": \"/stopped\", \"State\": {\"Status\": \"created\", \"ExitCode\": 128, "
        "\"Error\": \"error running hook #0\"}, \"GraphDriver\": {\"Name\": \"overlay2\", "
        "\"Data\": {\"UpperDir\": \"%s\", \"LowerDir\": \"\"}}}",
        layer);
    f->container = json;
    f->o.container = "stopped";
    f->o.runc_root = f->dir; /* no runc container either */
    struct doctor_report *r = run(f);
    expect(r, "container", DOCTOR_WARNING,
           "docker container `stopped` is not running (created, exit code 128; Docker's error: "
           "error running hook #0)",
           NULL);
    expect(r, "image driver files", DOCTOR_ERROR,
           "`/usr/lib/x86_64-linux-gnu/libcuda.so.1` (a "
           "regular file",
           "remove them from the image");
    f->o.container = "nothing-is-called-so";
    cleanup_error gctk_error *err = NULL;
    doctor_report_clear(&f->r);
    assert_int_equal(doctor_run(&f->o, &f->r, &err), -1);
    assert_non_null(strstr(err->msg, "no running container is `nothing-is-called-so`"));
    assert_non_null(strstr(err->msg, "docker ps -a"));
}

static void test_config_invalid(void **state)
{
    struct fx *f = *state;
    write_text(f->config, "{\"root\": \"/\", \"ldconfig\": }");
    struct doctor_report *r = run(f);
    expect(r, "config", DOCTOR_ERROR, "line 1", "correct `");
    write_text(f->config, "{\"no-such-key\": true}");
    r = run(f);
    expect(r, "config", DOCTOR_ERROR, "unknown setting `no-such-key`", "correct `");
    write_text(f->config, "{\"root\": \"/nonexistent\"}");
    r = run(f);
    expect(r, "config", DOCTOR_ERROR, "\"root\" `/nonexistent` is not a directory", "\"root\"");
    assert_int_equal(unlink(f->config), 0);
    r = run(f);
    expect(r, "config", DOCTOR_ERROR, f->config, "correct `");
}

/* NVIDIA's config.toml: every key it holds is listed, read or not, and a key
 * NVIDIA's toolkit would act on but gctk does not read is a warning */
static void test_nvidia_config(void **state)
{
    struct fx *f = *state;
    struct doctor_report *r = run(f);
    expect(r, "nvidia config", DOCTOR_OK, "no NVIDIA config.toml (`", NULL);
    cleanup_free char *dir = at(f, "/etc/nvidia-container-runtime");
    cleanup_free char *cmd = xasprintf("mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
    cleanup_free char *toml = xasprintf("%s/config.toml", dir);
    write_text(toml, "disable-require = true\n"
                     "[nvidia-container-cli]\n"
                     "no-cgroups = true\n"
                     "load-kmods = true\n"
                     "ldconfig = \"/sbin/ldconfig\"\n"
                     "[nvidia-container-runtime]\n"
                     "mode = \"csv\"\n"
                     "[nvidia-container-runtime-hook]\n"
                     "path = \"nvidia-container-runtime-hook\"\n");
    cleanup_free char *conf = xasprintf("{\"root\": \"%s\", \"no-cgroups\": false}\n", f->root);
    write_text(f->config, conf);
    r = run(f);
    expect(r, "nvidia config", DOCTOR_OK,
           "config.toml`: read disable-require -> disable-require, nvidia-container-cli.no-cgroups "
           "-> no-cgroups (gctk's file sets it), nvidia-container-runtime-hook.path (gctk-hook, "
           "also installed as nvidia-container-runtime-hook)",
           NULL);
    expect(r, "nvidia config", DOCTOR_OK,
           "config.toml`: not read, with no effect on containers: nvidia-container-cli.load-kmods",
           NULL);
    expect(r, "nvidia config", DOCTOR_WARNING,
           "`nvidia-container-cli.ldconfig = \"/sbin/ldconfig\"` is not read: an ldconfig of "
           "the image",
           "remove `nvidia-container-cli.ldconfig` from `");
    expect(r, "nvidia config", DOCTOR_WARNING,
           "`nvidia-container-runtime.mode = \"csv\"` is not read: Tegra's CSV mode",
           "or set what gctk should do in gctk's own config");
    assert_false(doctor_report_failed(r));
}

static void test_cuda_native_and_minor(void **state)
{
    struct fx *f = *state;
    f->o.cuda = "12.4";
    struct doctor_report *r = run(f);
    expect(r, "cuda", DOCTOR_OK, "runs CUDA 12.4 natively", NULL);
    f->o.cuda = "13.2";
    r = run(f);
    expect(r, "cuda", DOCTOR_WARNING, "minor-version compatibility", "install driver >=");
    f->o.cuda = "twelve";
    doctor_report_clear(&f->r);
    cleanup_error gctk_error *err = NULL;
    assert_int_equal(doctor_run(&f->o, &f->r, &err), -1);
    assert_non_null(strstr(err->msg, "bad CUDA version `twelve`"));
}

static void test_cuda_too_new(void **state)
{
    struct fx *f = *state;
    f->o.cuda = "13.0";
    struct doctor_report *r = run(f);
    expect(r, "nvml", DOCTOR_OK, "driver 535.104.05, CUDA 12.2", NULL);
    expect(r, "cuda", DOCTOR_ERROR, "CUDA 13.0", "install driver >= 580");
    assert_true(doctor_report_failed(r));
}

static void test_image_env(void **state)
{
    struct fx *f = *state;
    cleanup_free char *env = xasprintf("%s/image.env", f->dir);
    write_text(env, "PATH=/usr/bin\nCUDA_VERSION=13.1.0\nNVIDIA_REQUIRE_CUDA=cuda>=13.1\n");
    f->o.image_env = env;
    struct doctor_report *r = run(f);
    expect(r, "cuda", DOCTOR_ERROR, "image.env`: ", "gctk compat --image-env");
    write_text(env,
               "CUDA_VERSION=12.4.1\nNVIDIA_REQUIRE_CUDA=cuda>=12.4 brand=tesla,driver>=535\n");
    r = run(f);
    expect(r, "cuda", DOCTOR_OK, "the image's requirements hold", NULL);
    write_text(env, "NVIDIA_REQUIRE_CUDA=cuda>>12\n");
    doctor_report_clear(&f->r);
    cleanup_error gctk_error *err = NULL;
    assert_int_equal(doctor_run(&f->o, &f->r, &err), -1);
    assert_non_null(strstr(err->msg, "image.env`"));
}

static void test_library_version(void **state)
{
    (void)state;
    /* the doctor reads a library's version with discovery's parser */
    cleanup_free char *a = host_file_version("/usr/lib/libcuda.so.580.95.05");
    assert_string_equal(a, "580.95.05");
    assert_null(host_file_version("libcuda.so.1"));
    assert_null(host_file_version("libcuda.so"));
    assert_null(host_file_version("/a.so.b/libcuda.so.1"));
    assert_null(host_file_version("libfoo.so.1.2-beta"));
    cleanup_free char *fw = host_file_version("/lib/firmware/nvidia/580.95.05/gsp_ga10x.bin");
    assert_string_equal(fw, "580.95.05");
    assert_null(host_file_version("/lib/firmware/nvidia/gsp_ga10x.bin"));
    assert_string_equal(doctor_status_name(DOCTOR_SKIPPED), "skipped");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_healthy),
        T(test_no_module),
        T(test_no_cgroups_rootful),
        T(test_image),
        T(test_container_not_running),
        T(test_unprivileged),
        T(test_version_mismatch_newer_module),
        T(test_version_mismatch_upgraded_libraries),
        T(test_missing_library),
        T(test_foreign_library),
        T(test_missing_node),
        T(test_missing_uvm),
        T(test_wrong_major),
        T(test_wrong_uvm_major),
        T(test_not_char_device),
        T(test_node_permissions),
        T(test_persistence_off_slow),
        T(test_persistence_off_fast),
        T(test_no_docker_installed),
        T(test_docker_not_running),
        T(test_docker_host_not_unix),
        T(test_daemon_json_without_runtime),
        T(test_daemon_json_missing),
        T(test_daemon_json_invalid),
        T(test_default_runtime_undefined),
        T(test_runtime_not_executable),
        T(test_runtime_by_name_on_dockerd_path),
        T(test_hook_missing),
        T(test_hook_installed_after_dockerd),
        T(test_runtime_not_loaded),
        T(test_dockerd_environment_unreadable),
        T(test_docker_get),
        T(test_find_dockerd),
        T(test_cgroup_v2_systemd),
        T(test_cgroup_v2_default_driver),
        T(test_device_programs),
        T(test_docker_cdi),
        T(test_cgroup_v2_systemd_with_cdi),
        T(test_cdi_valid),
        T(test_cdi_stale),
        T(test_cdi_wrong_major),
        T(test_cdi_missing_node),
        T(test_cdi_invalid),
        T(test_cdi_yaml),
        T(test_cdi_paths_inside_root),
        T(test_config_invalid),
        T(test_nvidia_config),
        T(test_cuda_native_and_minor),
        cmocka_unit_test_setup_teardown(test_cuda_too_new, setup_old_driver, teardown),
        T(test_image_env),
        cmocka_unit_test(test_library_version),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
