/* Unit tests of lib/engines/ps.c and lib/engines/engineapi.c: the cgroup paths of every
 * engine and cgroup driver (those collected by running the engines on this
 * project's Debian 12 test machine, cgroup v1 hybrid, and those of systemd
 * drivers, CRI-O and Kubernetes as their documentation and bug reports show
 * them), the supervisors' command lines, the engine API client against a
 * stand-in daemon, and a whole snapshot: a simulated 3-GPU host (GPU 1 in
 * MIG mode) whose mock NVML reports processes that live in a fixture /proc,
 * named by stand-in Docker and Podman sockets and a fixture kubelet log dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "engineapi.h"
#include "ps.h"
#include "sim.h"
#include "testutil.h"

/* 64-hex ids, as the engines make them */
#define D1 "df623085dab3d8e398463e28a97bfa09bfac6aeceb5f4ce4999d91df10d8c373"
#define P1 "e24e7f7154ed19c62b74b7aa576c92b036fca6c61f50cd7550778b13bb3abee4"
#define K1 "abddff03dfd7710c79a750ce3e730365cbb2c8247a974170c1062683bc3e9152"
#define C1 "2032491dcae31e6746f47daa0ac74564f2843a1bd847c5e6c4eb501ca132ac36"
#define C2 "ee4b20e90ac7f42a10bd004d05646b13d8ab5e2c5e7cbc01abf8006bac016459"
#define R1 "358607a37e7ada357032e7f5729c9ae6a3efdb7962acbcbe47ff6a3c5506cb1c"
#define OUT "d6701ec289c56e4391acb11d07474b3139466857a305490575508a8b7a9fcf22"
#define POD "68e7095d479ee8720a91559c1d830f68ba304caaf503ff0beb8f860833a8be12"
#define P2 "5ad0debee049e150d851d81fa3e8184ee20725412e5702c7ffe3aae7e5173207"
#define D2 "945070c69d1d37016c74fab7961011535e5693728edd8953d015dc45776fb816"

/* ---- cgroup paths ------------------------------------------------------------ */

struct shape {
    const char *what;
    const char *text; /* /proc/PID/cgroup */
    enum ps_engine engine;
    const char *id, *ns, *pod_uid;
    enum ps_qos qos;
    const char *podman_pod;
    long user;
    enum ps_engine outer;
    const char *outer_id;
};

static const struct shape shapes[] = {
    /* collected: Docker 20.10, cgroupfs driver, cgroup v1 hybrid */
    {"docker cgroupfs (v1 hybrid, collected)",
     "9:name=systemd:/docker/" D1 "\n8:pids:/docker/" D1 "\n7:blkio:/docker/" D1
     "\n6:freezer:/docker/" D1 "\n5:devices:/docker/" D1 "\n4:memory:/docker/" D1
     "\n3:cpuset:/docker/" D1 "\n2:cpuacct:/docker/" D1 "\n1:cpu:/docker/" D1 "\n0::/docker/" D1
     "\n",
     PS_ENGINE_DOCKER, D1, NULL, NULL, PS_QOS_NONE, NULL, -1, PS_ENGINE_NONE, NULL},
    /* collected: Podman 4.3, --cgroup-manager cgroupfs */
    {"podman cgroupfs (collected)",
     "9:name=systemd:/libpod_parent/libpod-" P1 "\n8:pids:/libpod_parent/libpod-" P1
     "\n0::/libpod_parent/libpod-" P1 "\n",
     PS_ENGINE_PODMAN, P1, NULL, NULL, PS_QOS_NONE, NULL, -1, PS_ENGINE_NONE, NULL},
    /* collected: runc with the cgroupsPath kubelet gives a burstable pod */
    {"kubepods cgroupfs, burstable (collected)",
     "4:memory:/kubepods/burstable/pod1f3c5a7e-2b4d-4c6e-8f0a-123456789abc/" C1
     "\n0::/kubepods/burstable/pod1f3c5a7e-2b4d-4c6e-8f0a-123456789abc/" C1 "\n",
     PS_ENGINE_UNKNOWN, C1, NULL, "1f3c5a7e-2b4d-4c6e-8f0a-123456789abc", PS_QOS_BURSTABLE, NULL,
     -1, PS_ENGINE_NONE, NULL},
    {"kubepods cgroupfs, besteffort",
     "2:cpu:/kubepods/besteffort/pod9a18ffb8-8513-11e7-b26e-7e29fbe2a5a3/" C1 "\n",
     PS_ENGINE_UNKNOWN, C1, NULL, "9a18ffb8-8513-11e7-b26e-7e29fbe2a5a3", PS_QOS_BESTEFFORT, NULL,
     -1, PS_ENGINE_NONE, NULL},
    {"kubepods cgroupfs, guaranteed (no QoS level)",
     "0::/kubepods/pod9a18ffb8-8513-11e7-b26e-7e29fbe2a5a3/" C1 "\n", PS_ENGINE_UNKNOWN, C1, NULL,
     "9a18ffb8-8513-11e7-b26e-7e29fbe2a5a3", PS_QOS_GUARANTEED, NULL, -1, PS_ENGINE_NONE, NULL},
    {"cri-o cgroupfs",
     "0::/kubepods/burstable/pod44e2e33e-776b-4284-a647-4bd959899c91/crio-" R1 "\n", PS_ENGINE_CRIO,
     R1, NULL, "44e2e33e-776b-4284-a647-4bd959899c91", PS_QOS_BURSTABLE, NULL, -1, PS_ENGINE_NONE,
     NULL},
    /* Kubernetes with the systemd driver, from its documentation and reports */
    {"kubepods systemd, docker (v1)",
     "11:memory:/kubepods.slice/kubepods-besteffort.slice/"
     "kubepods-besteffort-pod9692aa0e_748e_11e8_8dfa_76d458035df6.slice/docker-" K1 ".scope\n"
     "1:name=systemd:/kubepods.slice/kubepods-besteffort.slice/"
     "kubepods-besteffort-pod9692aa0e_748e_11e8_8dfa_76d458035df6.slice/docker-" K1 ".scope\n",
     PS_ENGINE_DOCKER, K1, NULL, "9692aa0e-748e-11e8-8dfa-76d458035df6", PS_QOS_BESTEFFORT, NULL,
     -1, PS_ENGINE_NONE, NULL},
    {"kubepods systemd, containerd (v2)",
     "0::/kubepods.slice/kubepods-burstable.slice/"
     "kubepods-burstable-pod55c6c714_b240_4dec_9a45_57b61696ab6e.slice/cri-containerd-" C1
     ".scope\n",
     PS_ENGINE_CONTAINERD, C1, "k8s.io", "55c6c714-b240-4dec-9a45-57b61696ab6e", PS_QOS_BURSTABLE,
     NULL, -1, PS_ENGINE_NONE, NULL},
    {"kubepods systemd, guaranteed",
     "0::/kubepods.slice/kubepods-pod55c6c714_b240_4dec_9a45_57b61696ab6e.slice/"
     "cri-containerd-" C1 ".scope\n",
     PS_ENGINE_CONTAINERD, C1, "k8s.io", "55c6c714-b240-4dec-9a45-57b61696ab6e", PS_QOS_GUARANTEED,
     NULL, -1, PS_ENGINE_NONE, NULL},
    {"kubepods systemd, static pod (uid of 32 hex digits)",
     "0::/kubepods.slice/kubepods-burstable.slice/"
     "kubepods-burstable-pod8daa50c3a64c9ff60bb9eab7b44b56fd.slice/cri-containerd-" C1 ".scope\n",
     PS_ENGINE_CONTAINERD, C1, "k8s.io", "8daa50c3a64c9ff60bb9eab7b44b56fd", PS_QOS_BURSTABLE, NULL,
     -1, PS_ENGINE_NONE, NULL},
    {"kubepods systemd, cri-o (v1, with a files line)",
     "13:freezer:/kubepods.slice/kubepods-burstable.slice/"
     "kubepods-burstable-poda5c1f8d5_1919_434d_add7_4afaafdaef89.slice/crio-" R1 ".scope\n"
     "11:files:/\n",
     PS_ENGINE_CRIO, R1, NULL, "a5c1f8d5-1919-434d-add7-4afaafdaef89", PS_QOS_BURSTABLE, NULL, -1,
     PS_ENGINE_NONE, NULL},
    {"systemd driver on v1, the slice:prefix:id name left unexpanded",
     "11:perf_event:/kubepods-besteffort-pod0125ec2f_b64a_4868_8f5b_94b56cbab864.slice:"
     "cri-containerd:" C2 "\n"
     "10:blkio:/system.slice/containerd.service/"
     "kubepods-besteffort-pod0125ec2f_b64a_4868_8f5b_94b56cbab864.slice:cri-containerd:" C2 "\n",
     PS_ENGINE_CONTAINERD, C2, "k8s.io", "0125ec2f-b64a-4868-8f5b-94b56cbab864", PS_QOS_BESTEFFORT,
     NULL, -1, PS_ENGINE_NONE, NULL},
    {"cri-o in a minikube node (Kubernetes in Docker)",
     "0::/docker/" OUT "/kubepods.slice/kubepods-besteffort.slice/"
     "kubepods-besteffort-pod2ca4a155_3599_498d_bb9d_4446693fa3ea.slice/crio-" R1 ".scope\n",
     PS_ENGINE_CRIO, R1, NULL, "2ca4a155-3599-498d-bb9d-4446693fa3ea", PS_QOS_BESTEFFORT, NULL, -1,
     PS_ENGINE_DOCKER, OUT},
    {"docker in docker", "0::/docker/" OUT "/docker/" D1 "\n", PS_ENGINE_DOCKER, D1, NULL, NULL,
     PS_QOS_NONE, NULL, -1, PS_ENGINE_DOCKER, OUT},
    {"docker systemd", "0::/system.slice/docker-" D1 ".scope\n", PS_ENGINE_DOCKER, D1, NULL, NULL,
     PS_QOS_NONE, NULL, -1, PS_ENGINE_NONE, NULL},
    {"rootless docker systemd",
     "0::/user.slice/user-1000.slice/user@1000.service/user.slice/docker-" D1 ".scope\n",
     PS_ENGINE_DOCKER, D1, NULL, NULL, PS_QOS_NONE, NULL, 1000, PS_ENGINE_NONE, NULL},
    {"podman systemd (v1, systemd in the container)",
     "12:pids:/machine.slice/libpod-" P1 ".scope\n"
     "1:name=systemd:/machine.slice/libpod-" P1 ".scope/init.scope\n0::/machine.slice/libpod-" P1
     ".scope\n",
     PS_ENGINE_PODMAN, P1, NULL, NULL, PS_QOS_NONE, NULL, -1, PS_ENGINE_NONE, NULL},
    {"rootless podman systemd (v2, crun's container cgroup)",
     "0::/user.slice/user-0.slice/user@0.service/machine.slice/libpod-" P1 ".scope/container\n",
     PS_ENGINE_PODMAN, P1, NULL, NULL, PS_QOS_NONE, NULL, 0, PS_ENGINE_NONE, NULL},
    {"podman pod systemd",
     "0::/machine.slice/machine-libpod_pod_" POD ".slice/libpod-" P1 ".scope/container\n",
     PS_ENGINE_PODMAN, P1, NULL, NULL, PS_QOS_NONE, POD, -1, PS_ENGINE_NONE, NULL},
    {"podman --cgroups=split", "0::/machine.slice/container-app.service/libpod-payload-" P1 "\n",
     PS_ENGINE_PODMAN, P1, NULL, NULL, PS_QOS_NONE, NULL, -1, PS_ENGINE_NONE, NULL},
    {"podman cgroupfs v2", "0::/libpod_parent/libpod-" P1 "\n", PS_ENGINE_PODMAN, P1, NULL, NULL,
     PS_QOS_NONE, NULL, -1, PS_ENGINE_NONE, NULL},
    {"nerdctl systemd", "0::/system.slice/nerdctl-" C1 ".scope\n", PS_ENGINE_CONTAINERD, C1, NULL,
     NULL, PS_QOS_NONE, NULL, -1, PS_ENGINE_NONE, NULL},
};

static void test_cgroup_shapes(void **state)
{
    (void)state;
    for (size_t i = 0; i < GCTK_ARRAY_LEN(shapes); i++) {
        const struct shape *w = &shapes[i];
        struct ps_container c = {.user = -1};
        cleanup_free char *path = NULL;
        if (!ps_proc_cgroup(w->text, &c, &path))
            fail_msg("%s: no container found", w->what);
#define EQ_STR(got, want)                                                                          \
    do {                                                                                           \
        if (((got) == NULL) != ((want) == NULL) || ((got) != NULL && strcmp((got), (want)) != 0))  \
            fail_msg("%s: %s is `%s`, not `%s`", w->what, #got, (got) ? (got) : "(null)",          \
                     (want) ? (want) : "(null)");                                                  \
    } while (0)
        if (c.engine != w->engine)
            fail_msg("%s: engine %s, not %s", w->what, ps_engine_name(c.engine),
                     ps_engine_name(w->engine));
        EQ_STR(c.id, w->id);
        EQ_STR(c.ns, w->ns);
        EQ_STR(c.pod_uid, w->pod_uid);
        EQ_STR(c.podman_pod, w->podman_pod);
        EQ_STR(c.outer_id, w->outer_id);
        if (c.qos != w->qos || c.user != w->user || c.outer_engine != w->outer)
            fail_msg("%s: qos %d user %ld outer %d", w->what, c.qos, c.user, c.outer_engine);
        assert_non_null(path);
        assert_non_null(strstr(w->text, path));
        ps_container_clear(&c);
    }
}

/* Paths that name no container, or that name one only through its
 * supervisor or runc's state (the path alone cannot tell). */
static void test_cgroup_not_containers(void **state)
{
    (void)state;
    static const char *const texts[] = {
        /* collected: this machine's own processes */
        "9:name=systemd:/\n4:memory:/process_api/27f8b2bc0049e72171cdddb98c183bb6\n0::/\n",
        /* collected: runc without cgroupsPath (memory nested in the caller's) */
        "8:pids:/psc1\n4:memory:/process_api/27f8b2bc0049e72171cdddb98c183bb6/psc1\n0::/psc1\n",
        /* collected: `ctr run` (containerd's namespace, then the id) */
        "9:name=systemd:/default/ctr1\n0::/default/ctr1\n",
        /* collected: docker run --cgroup-parent /mygroup */
        "9:name=systemd:/mygroup/" D1 "\n0::/mygroup/" D1 "\n",
        /* collected: Podman's conmon */
        "9:name=systemd:/\n8:pids:/libpod_parent/conmon\n",
        "0::/machine.slice/libpod-conmon-" P1 ".scope\n",
        "0::/kubepods.slice/kubepods-burstable.slice/"
        "kubepods-burstable-poda5c1f8d5_1919_434d_add7_4afaafdaef89.slice/crio-conmon-" R1
        ".scope\n",
        /* a pod's own cgroup, a QoS slice, daemons, sessions */
        "0::/kubepods/burstable/pod44e2e33e-776b-4284-a647-4bd959899c91\n",
        "0::/kubepods.slice/kubepods-besteffort.slice\n",
        "0::/system.slice/docker.service\n",
        "0::/system.slice/containerd.service\n",
        "0::/user.slice/user-1000.slice/session-2.scope\n",
        "0::/init.scope\n",
        "0::/docker\n",
        "0::/docker/notanid\n",
        "0::/system.slice/docker-" D1 "x.scope\n",
        "",
        "garbage without colons\n",
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(texts); i++) {
        struct ps_container c = {.user = -1};
        cleanup_free char *path = NULL;
        if (ps_proc_cgroup(texts[i], &c, &path))
            fail_msg("`%s` named %s container %s", texts[i], ps_engine_name(c.engine), c.id);
        assert_null(c.id);
    }
    /* the v2 path is the one shown when no line names a container */
    cleanup_free char *path = NULL;
    struct ps_container c = {.user = -1};
    assert_false(ps_proc_cgroup(texts[1], &c, &path));
    assert_string_equal(path, "/psc1");
    free(path);
    path = NULL;
    assert_false(ps_proc_cgroup("4:memory:/a\n3:cpu:/b\n", &c, &path));
    assert_string_equal(path, "/a");
}

/* ---- supervisors ------------------------------------------------------------------ */

static bool supervisor(const char *argv, size_t len, struct ps_container *c)
{
    *c = (struct ps_container){.user = -1};
    return ps_supervisor_container(argv, len, c);
}

#define ARGV(s) s, sizeof(s)

static void test_supervisors(void **state)
{
    (void)state;
    struct ps_container c;
    /* collected: the shims of Docker 20.10 and of `ctr run` */
    assert_true(supervisor(ARGV("/usr/bin/containerd-shim-runc-v2\0-namespace\0moby\0-id\0" D1
                                "\0-address\0/tmp/dk/containerd.sock"),
                           &c));
    assert_int_equal(c.engine, PS_ENGINE_DOCKER);
    assert_string_equal(c.id, D1);
    assert_string_equal(c.ns, "moby");
    ps_container_clear(&c);
    assert_true(supervisor(ARGV("/usr/bin/containerd-shim-runc-v2\0-namespace\0default\0-id\0"
                                "ctr1\0-address\0/run/containerd/containerd.sock"),
                           &c));
    assert_int_equal(c.engine, PS_ENGINE_CONTAINERD);
    assert_string_equal(c.id, "ctr1");
    assert_string_equal(c.ns, "default");
    ps_container_clear(&c);
    /* the v1 shim (Docker before 20.10): the id ends its -workdir */
    assert_true(supervisor(ARGV("containerd-shim\0-namespace\0moby\0-workdir\0"
                                "/var/lib/containerd/io.containerd.runtime.v1.linux/moby/" D1
                                "\0-address\0/run/containerd/containerd.sock\0"
                                "-containerd-binary\0/usr/bin/containerd"),
                           &c));
    assert_int_equal(c.engine, PS_ENGINE_DOCKER);
    assert_string_equal(c.id, D1);
    ps_container_clear(&c);
    /* Go's flag syntax: --flag and -flag=value */
    assert_true(supervisor(ARGV("containerd-shim-runc-v2\0--namespace=k8s.io\0-id=abc"), &c));
    assert_int_equal(c.engine, PS_ENGINE_CONTAINERD);
    assert_string_equal(c.id, "abc");
    assert_string_equal(c.ns, "k8s.io");
    ps_container_clear(&c);
    /* runc run in the foreground: the id is its last argument */
    assert_true(supervisor(ARGV("runc\0--root\0/tmp/x/runc\0run\0-b\0/tmp/b\0gpu-job"), &c));
    assert_int_equal(c.engine, PS_ENGINE_RUNC);
    assert_string_equal(c.id, "gpu-job");
    ps_container_clear(&c);
    assert_true(supervisor(ARGV("/usr/sbin/runc\0run\0--bundle=/b\0--pid-file\0/p\0j2"), &c));
    assert_string_equal(c.id, "j2");
    ps_container_clear(&c);
    /* not supervisors, or not of one container */
    assert_false(supervisor(ARGV("runc\0--root\0/r\0list"), &c));
    assert_false(supervisor(ARGV("runc\0run\0-d"), &c));
    assert_false(supervisor(ARGV("runc"), &c));
    assert_false(supervisor(ARGV("containerd-shim-runc-v2\0-namespace\0moby\0start"), &c));
    assert_false(supervisor(ARGV("/usr/bin/containerd\0--config\0/etc/containerd.toml"), &c));
    assert_false(supervisor(ARGV("bash\0-c\0runc run x"), &c));
    assert_false(supervisor("", 0, &c));
}

static void test_nspid(void **state)
{
    (void)state;
    assert_int_equal(ps_status_nspid("Name:\tsleep\nPid:\t15947\nNSpid:\t15947\t7\nNSsid:\t1\n"),
                     7);
    assert_int_equal(ps_status_nspid("Name:\tbash\nNSpid:\t8433\n"), 8433);
    assert_int_equal(ps_status_nspid("Name:\told kernel\nPid:\t1\n"), -1);
}

/* ---- a stand-in engine daemon ------------------------------------------------------- */

enum serve_mode { SERVE_JSON, SERVE_CHUNKED, SERVE_404, SERVE_HANG };

struct daemon {
    char sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char host[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
    int lfd;
    pthread_t thread;
    enum serve_mode mode;
    const char *body; /* GET /containers/json */
    int requests;
};

static void *serve(void *arg)
{
    struct daemon *d = arg;
    for (;;) {
        int fd = accept4(d->lfd, NULL, NULL, SOCK_CLOEXEC);
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
        d->requests++;
        if (d->mode == SERVE_HANG) {
            /* never answers; the connection closes when the daemon stops */
            continue;
        }
        cleanup_free char *resp = NULL;
        bool known = str_has_prefix(req, "GET /containers/json HTTP/1.0\r\n");
        if (!known || d->mode == SERVE_404)
            resp = xstrdup("HTTP/1.0 404 Not Found\r\n\r\n{\"message\": \"page not found\"}");
        else if (d->mode == SERVE_CHUNKED) {
            size_t len = strlen(d->body), half = len / 2;
            resp =
                xasprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n%zx\r\n%.*s\r\n%zx\r\n%s\r\n0\r\n\r\n",
                          half, (int)half, d->body, len - half, d->body + half);
        } else
            resp =
                xasprintf("HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n%s\n", d->body);
        if (write(fd, resp, strlen(resp)) < 0)
            (void)0;
        close(fd);
    }
}

static void daemon_start(struct daemon *d, const char *dir, const char *name, const char *body)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->sock, sizeof(d->sock), "%s/%s.sock", dir, name);
    snprintf(d->host, sizeof(d->host), "unix://%s", d->sock);
    d->body = body;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->sock);
    d->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(d->lfd >= 0);
    assert_int_equal(bind(d->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(d->lfd, 8), 0);
    assert_int_equal(pthread_create(&d->thread, NULL, serve, d), 0);
}

static void daemon_stop(struct daemon *d)
{
    shutdown(d->lfd, SHUT_RDWR);
    close(d->lfd);
    pthread_join(d->thread, NULL);
    unlink(d->sock);
}

static char tmp[] = "/tmp/gctk-test-ps.XXXXXX";

static void test_engineapi(void **state)
{
    (void)state;
    struct daemon d;
    daemon_start(&d, tmp, "api", "[{\"Id\": \"" D1 "\", \"Names\": [\"/trainer\"]}]");
    json_t *j = NULL;
    cleanup_error gctk_error *err = NULL;
    assert_int_equal(engineapi_get(d.host, "/containers/json", 1000, &j, &err), 0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "Id")), D1);
    json_decref(j);
    d.mode = SERVE_CHUNKED;
    assert_int_equal(engineapi_get(d.host, "/containers/json", 1000, &j, &err), 0);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(json_array_get(j, 0), "Names"), 0)),
        "/trainer");
    json_decref(j);
    d.mode = SERVE_404;
    assert_int_equal(engineapi_get(d.host, "/containers/json", 1000, &j, &err), -1);
    assert_non_null(strstr(err->msg, "HTTP 404"));
    gctk_error_free(err);
    err = NULL;
    /* a daemon that never answers costs the deadline, not more */
    d.mode = SERVE_HANG;
    unsigned long long t0 = now_ns();
    assert_int_equal(engineapi_get(d.host, "/containers/json", 200, &j, &err), -1);
    unsigned long long ms = (now_ns() - t0) / 1000000;
    assert_int_equal(err->code, ETIMEDOUT);
    assert_true(ms >= 150 && ms < 1000);
    gctk_error_free(err);
    err = NULL;
    daemon_stop(&d);
    cleanup_free char *none = xasprintf("unix://%s/none.sock", tmp);
    assert_int_equal(engineapi_get(none, "/containers/json", 1000, &j, &err), -1);
    assert_int_equal(err->code, ENOENT);
    gctk_error_free(err);
    err = NULL;
    assert_int_equal(engineapi_get("tcp://127.0.0.1:2375", "/x", 1000, &j, &err), -1);
    assert_non_null(strstr(err->msg, "only unix://"));
    assert_null(engineapi_socket_path("ssh://host"));
    assert_string_equal(engineapi_socket_path("unix:///run/podman/podman.sock"),
                        "/run/podman/podman.sock");
}

/* ---- a whole snapshot ------------------------------------------------------------------ */

static char root[PATH_MAX], proc[PATH_MAX], logs[PATH_MAX], runc[PATH_MAX], run_user[PATH_MAX];

static void put(const char *path, const char *text, size_t len)
{
    assert_int_equal(write_file(path, text, len, &(struct write_opts){.mode = 0644}, NULL), 0);
}

static void mkdirs(const char *path)
{
    assert_int_equal(mkdir_p(path, 0755, NULL), 0);
}

/* A process of the fixture /proc. */
static void fake_process(unsigned pid, unsigned ppid, const char *comm, const char *argv,
                         size_t argv_len, const char *cgroup, long nspid)
{
    cleanup_free char *dir = xasprintf("%s/%u", proc, pid);
    mkdirs(dir);
    cleanup_free char *p = xasprintf("%s/comm", dir);
    cleanup_free char *text = xasprintf("%s\n", comm);
    put(p, text, strlen(text));
    free(p);
    p = xasprintf("%s/cmdline", dir);
    put(p, argv, argv_len);
    free(p);
    free(text);
    /* a comm with ") " in it must not fool the PPID parser */
    text = xasprintf("%u (%s) x) S %u 1 1 0 -1\n", pid, comm, ppid);
    p = xasprintf("%s/stat", dir);
    put(p, text, strlen(text));
    free(p);
    free(text);
    text = nspid >= 0 ? xasprintf("Name:\t%s\nNSpid:\t%u\t%ld\n", comm, pid, nspid)
                      : xasprintf("Name:\t%s\n", comm);
    p = xasprintf("%s/status", dir);
    put(p, text, strlen(text));
    free(p);
    p = xasprintf("%s/cgroup", dir);
    put(p, cgroup, strlen(cgroup));
}

#define POD_UID "1f3c5a7e-2b4d-4c6e-8f0a-123456789abc"
#define CRIO_UID "a5c1f8d5-1919-434d-add7-4afaafdaef89"

static const char docker_list[] =
    "[{\"Id\": \"" D1 "\", \"Names\": [\"/trainer\"], \"Labels\": "
    "{\"com.docker.compose.project\": \"ml\", \"com.docker.compose.service\": \"train\"}},"
    " {\"Id\": \"" K1 "\", \"Names\": [\"/k8s_cuda_infer-0_team_x_0\"], \"Labels\": "
    "{\"io.kubernetes.pod.name\": \"infer-0\", \"io.kubernetes.pod.namespace\": \"team\"}},"
    " {\"Id\": \"" OUT "\", \"Names\": [\"/unrelated\"], \"Labels\": {}}]";
static const char podman_list[] =
    "[{\"Id\": \"" P1 "\", \"Names\": [\"/notebook\"], \"Labels\": {}, \"Pod\": null}]";

static int group_setup(void **state)
{
    (void)state;
    if (test_use_build_sim() < 0 || mkdtemp(tmp) == NULL)
        return -1;
    snprintf(root, sizeof(root), "%s/host", tmp);
    snprintf(proc, sizeof(proc), "%s/proc", tmp);
    snprintf(logs, sizeof(logs), "%s/log", tmp);
    snprintf(runc, sizeof(runc), "%s/runc", tmp);
    snprintf(run_user, sizeof(run_user), "%s/run-user", tmp);
    static const char *const mig[] = {"1:1g.10gb,2g.20gb"};
    struct gctk_sim_options o;
    gctk_sim_options_init(&o);
    o.gpus = 3;
    o.mig = mig;
    o.nmig = 1;
    struct strv warnings = {0};
    cleanup_error gctk_error *err = NULL;
    if (gctk_sim_create(root, &o, &warnings, &err) < 0)
        return -1;
    strv_clear(&warnings);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    nftw(tmp, test_rm_entry, 32, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static const struct ps_process *by_pid(const struct ps_snapshot *s, unsigned pid)
{
    for (size_t i = 0; i < s->nprocs; i++)
        if (s->procs[i].pid == pid)
            return &s->procs[i];
    fail_msg("pid %u is not in the snapshot", pid);
    return NULL;
}

static void test_snapshot(void **state)
{
    (void)state;
    cleanup_free char *activity = xasprintf("%s/proc/driver/nvidia/gctk-sim-activity", root);
    const char *act = "# device pid type MiB\n"
                      "process 0 101 C 10240\n"
                      "process 0 102 C+G 512\n"
                      "utilization 0 87 40\n"
                      "process 1:0 109 C 4864\n"
                      "process 1:1 103 C 2048\n"
                      "process 1:1 110 C 50\n"
                      "process 1:1 111 C 60\n"
                      "process 0 104 G 12\n"
                      "process 0 105 C 100\n"
                      "process 0 106 M 200\n"
                      "process 0 107 C 300\n"
                      "process 0 108 C 400\n"
                      "process 7 999 C 1\n"; /* no GPU 7: not there */
    put(activity, act, strlen(act));
    /* the fixture /proc */
    fake_process(101, 50, "python3", ARGV("python3\0train.py"),
                 "9:name=systemd:/docker/" D1 "\n0::/docker/" D1 "\n", 1);
    fake_process(102, 50, "cuda-app", ARGV("/app"),
                 "0::/kubepods.slice/kubepods-besteffort.slice/"
                 "kubepods-besteffort-pod9692aa0e_748e_11e8_8dfa_76d458035df6.slice/docker-" K1
                 ".scope\n",
                 7);
    /* a CRI container, its shim two levels up (the shim's id is the pod's) */
    fake_process(80, 1, "containerd-shim",
                 ARGV("/usr/bin/containerd-shim-runc-v2\0-namespace\0"
                      "k8s.io\0-id\0" OUT "\0-address\0/c.sock"),
                 "0::/\n", -1);
    fake_process(81, 80, "sh", ARGV("/bin/sh\0-c\0python3 worker.py"),
                 "0::/kubepods/burstable/pod" POD_UID "/" C1 "\n", 1);
    fake_process(103, 81, "python3", ARGV("python3\0worker.py"),
                 "0::/kubepods/burstable/pod" POD_UID "/" C1 "\n", 2);
    /* ctr run: the namespace and id only its shim tells */
    fake_process(90, 1, "containerd-shim",
                 ARGV("/usr/bin/containerd-shim-runc-v2\0-namespace\0"
                      "default\0-id\0job7\0-address\0/c.sock"),
                 "0::/\n", -1);
    fake_process(104, 90, "glxgears", ARGV("glxgears"), "0::/default/job7\n", 1);
    /* runc run -d: reparented to init, named after its runc state */
    mkdirs(runc);
    cleanup_free char *state_dir = xasprintf("%s/psc1", runc);
    mkdirs(state_dir);
    cleanup_free char *state_json = xasprintf("%s/state.json", state_dir);
    put(state_json, "{}", 2);
    fake_process(105, 1, "sleep",
                 ARGV("sleep\0"
                      "100"),
                 "4:memory:/process_api/27f8b2bc/psc1\n0::/psc1\n", 1);
    fake_process(106, 1, "mps-client", ARGV("mps-client"),
                 "0::/user.slice/user-1000.slice/session-2.scope\n", 106);
    /* 107 has exited: NVML still lists it, /proc no longer has it */
    fake_process(108, 1, "jupyter", ARGV("jupyter"), "0::/libpod_parent/libpod-" P1 "\n", 1);
    fake_process(109, 1, "python3", ARGV("python3"),
                 "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
                 "a5c1f8d5_1919_434d_add7_4afaafdaef89.slice/crio-" R1 ".scope\n",
                 1);
    /* rootless Podman of user 1000, whose socket is in its runtime dir; and
     * rootless Docker of user 1001, whose socket is not there */
    fake_process(110, 1, "python3", ARGV("python3"),
                 "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" P2
                 ".scope/container\n",
                 1);
    fake_process(111, 1, "python3", ARGV("python3"),
                 "0::/user.slice/user-1001.slice/user@1001.service/user.slice/docker-" D1
                 "9.scope\n0::/user.slice/user-1001.slice/user@1001.service/user.slice/docker-" D2
                 ".scope\n",
                 1);
    cleanup_free char *rootless_dir = xasprintf("%s/1000/podman", run_user);
    mkdirs(rootless_dir);
    /* kubelet's logs: the CRI-O pod by its uid, the containerd one by its link */
    cleanup_free char *pods = xasprintf("%s/pods/research_llm-0_" CRIO_UID "/trainer", logs);
    mkdirs(pods);
    cleanup_free char *links = xasprintf("%s/containers", logs);
    mkdirs(links);
    cleanup_free char *link = xasprintf("%s/batch-7_ml_worker-" C1 ".log", links);
    assert_int_equal(symlink("/nonexistent", link), 0);
    cleanup_free char *crio_link = xasprintf("%s/llm-0_research_trainer-" R1 ".log", links);
    assert_int_equal(symlink("/nonexistent", crio_link), 0);

    struct daemon docker, podman, rootless;
    daemon_start(&docker, tmp, "docker", docker_list);
    daemon_start(&podman, tmp, "podman", podman_list);
    daemon_start(&rootless, rootless_dir, "podman",
                 "[{\"Id\": \"" P2 "\", \"Names\": [\"/mine\"], \"Labels\": {}}]");
    struct ps_options o = {.proc = proc,
                           .docker_host = docker.host,
                           .podman_host = podman.host,
                           .kubelet_logs = logs,
                           .runc_root = runc,
                           .run_user = run_user};
    gctk_host *h = NULL;
    cleanup_error gctk_error *err = NULL;
    assert_int_equal(gctk_host_open(root, 0, &h, &err), 0);
    struct ps_snapshot s = {0};
    assert_int_equal(ps_snapshot_take(h, &o, &s, &err), 0);

    /* devices: GPU 0, GPU 1 (shown through its MIG devices 1:0, 1:1), GPU 2 */
    assert_int_equal(s.ndevices, 5);
    assert_true(s.devices[0].listed);
    assert_int_equal(s.devices[0].nprocs, 7);
    assert_int_equal(s.devices[0].usage.gpu_percent, 87);
    assert_int_equal(s.devices[0].usage.memory_percent, 40);
    /* the mock's memory in use is what its processes use */
    assert_int_equal(s.devices[0].usage.used_bytes, (10240LL + 512 + 12 + 100 + 200 + 300 + 400)
                                                        << 20);
    assert_false(s.devices[1].listed);
    assert_int_equal(s.devices[2].mig, 0);
    assert_int_equal(s.devices[2].nprocs, 1);
    assert_int_equal(s.devices[2].usage.gpu_percent, -1); /* no counters on MIG */
    assert_int_equal(s.devices[3].nprocs, 3);
    assert_true(s.devices[4].listed);
    assert_int_equal(s.devices[4].nprocs, 0);
    cleanup_free char *id = ps_device_id(h, &s.devices[3]);
    assert_string_equal(id, "1:1");
    assert_int_equal(s.nprocs, 11);
    /* by device, then PID */
    assert_int_equal(s.procs[0].pid, 101);
    assert_int_equal(s.procs[6].pid, 108);
    assert_int_equal(s.procs[7].pid, 109);
    assert_int_equal(s.procs[8].pid, 103);
    assert_int_equal(s.procs[10].pid, 111);

    const struct ps_process *p = by_pid(&s, 101);
    assert_int_equal(p->c.engine, PS_ENGINE_DOCKER);
    assert_string_equal(p->c.name, "trainer");
    assert_string_equal(p->c.compose_project, "ml");
    assert_string_equal(p->c.compose_service, "train");
    assert_string_equal(p->name, "python3");
    assert_string_equal(p->command, "python3 train.py");
    assert_int_equal(p->container_pid, 1);
    assert_int_equal(p->used_bytes, 10240LL << 20);
    assert_int_equal(p->types, PS_TYPE_COMPUTE);

    p = by_pid(&s, 102);
    assert_int_equal(p->types, PS_TYPE_COMPUTE | PS_TYPE_GRAPHICS);
    assert_string_equal(p->c.pod_name, "infer-0");
    assert_string_equal(p->c.pod_namespace, "team");
    assert_string_equal(p->c.pod_uid, "9692aa0e-748e-11e8-8dfa-76d458035df6");

    p = by_pid(&s, 103);
    assert_int_equal(p->c.engine, PS_ENGINE_CONTAINERD);
    assert_string_equal(p->c.ns, "k8s.io");
    assert_string_equal(p->c.id, C1);
    assert_string_equal(p->c.name, "worker");
    assert_string_equal(p->c.pod_name, "batch-7");
    assert_string_equal(p->c.pod_namespace, "ml");
    assert_int_equal(p->c.qos, PS_QOS_BURSTABLE);

    p = by_pid(&s, 104);
    assert_int_equal(p->types, PS_TYPE_GRAPHICS);
    assert_int_equal(p->c.engine, PS_ENGINE_CONTAINERD);
    assert_string_equal(p->c.id, "job7");
    assert_string_equal(p->c.ns, "default");
    assert_string_equal(p->cgroup, "/default/job7");

    p = by_pid(&s, 105);
    assert_int_equal(p->c.engine, PS_ENGINE_RUNC);
    assert_string_equal(p->c.id, "psc1");

    p = by_pid(&s, 106);
    assert_int_equal(p->c.engine, PS_ENGINE_NONE);
    assert_int_equal(p->types, PS_TYPE_MPS);
    assert_string_equal(p->cgroup, "/user.slice/user-1000.slice/session-2.scope");

    p = by_pid(&s, 107);
    assert_null(p->name);
    assert_int_equal(p->c.engine, PS_ENGINE_NONE);

    p = by_pid(&s, 108);
    assert_int_equal(p->c.engine, PS_ENGINE_PODMAN);
    assert_string_equal(p->c.name, "notebook");

    p = by_pid(&s, 109);
    assert_int_equal(p->c.engine, PS_ENGINE_CRIO);
    assert_string_equal(p->c.pod_name, "llm-0");
    assert_string_equal(p->c.pod_namespace, "research");
    assert_string_equal(p->c.name, "trainer");
    assert_int_equal(p->device, 2);
    assert_int_equal(p->used_bytes, 4864LL << 20);
    p = by_pid(&s, 110);
    assert_int_equal(p->c.engine, PS_ENGINE_PODMAN);
    assert_int_equal(p->c.user, 1000);
    assert_string_equal(p->c.name, "mine");
    /* a line whose id is not 64 hex digits names none, the next one does;
     * no socket in the user's runtime dir: no name */
    p = by_pid(&s, 111);
    assert_int_equal(p->c.engine, PS_ENGINE_DOCKER);
    assert_string_equal(p->c.id, D2);
    assert_int_equal(p->c.user, 1001);
    assert_null(p->c.name);
    assert_int_equal(s.warnings.len, 0);
    assert_int_equal(docker.requests, 1);
    assert_int_equal(podman.requests, 1);
    assert_int_equal(rootless.requests, 1);

    /* what one container holds */
    cleanup_free size_t *only = NULL;
    assert_int_equal(ps_container_lookup(&s, D1, &only, &err), 1);
    assert_int_equal(s.procs[only[0]].pid, 101);
    free(only);
    only = NULL;
    assert_int_equal(ps_container_lookup(&s, "df6230", &only, &err), 1);
    free(only);
    only = NULL;
    assert_int_equal(ps_container_lookup(&s, "notebook", &only, &err), 1);
    assert_int_equal(s.procs[only[0]].pid, 108);
    free(only);
    only = NULL;
    assert_int_equal(ps_container_lookup(&s, "ml/batch-7", &only, &err), 1);
    assert_int_equal(s.procs[only[0]].pid, 103);
    free(only);
    only = NULL;
    assert_int_equal(ps_container_lookup(&s, "j", &only, &err), 1); /* job7, a ctr id */
    free(only);
    only = NULL;
    assert_int_equal(ps_container_lookup(&s, "nobody", &only, &err), 0);
    assert_null(only);
    assert_int_equal(ps_container_lookup(&s, "", &only, &err), 0);
    /* Docker's trainer and the CRI-O pod's container of that name */
    assert_int_equal(ps_container_lookup(&s, "trainer", &only, &err), -1);
    assert_non_null(
        strstr(err->msg, "several containers are named `trainer`: docker df623085dab3"));
    gctk_error_free(err);
    err = NULL;
    /* a full id beats a name, a name beats a prefix */
    assert_int_equal(ps_container_lookup(&s, "e", &only, &err), 1); /* P1 only */
    free(only);
    only = NULL;
    /* a prefix of two containers' ids */
    struct ps_snapshot twin = s;
    struct ps_process procs[2] = {s.procs[0], s.procs[0]};
    procs[1].c.id = (char *)"df62ffff";
    twin.procs = procs;
    twin.nprocs = 2;
    assert_int_equal(ps_container_lookup(&twin, "df62", &only, &err), -1);
    assert_non_null(strstr(err->msg, "`df62` is the start of the ids of several containers"));
    gctk_error_free(err);
    err = NULL;

    json_t *j = ps_snapshot_json(h, &s, NULL, 0);
    json_t *gpus = json_object_get(j, "gpus");
    assert_int_equal(json_array_size(gpus), 4); /* 0, 1:0, 1:1, 2 */
    assert_string_equal(json_string_value(json_object_get(json_array_get(gpus, 1), "id")), "1:0");
    assert_true(json_is_true(json_object_get(json_array_get(gpus, 3), "free")));
    json_t *first = json_array_get(json_object_get(j, "processes"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "type")), "C");
    assert_int_equal(json_integer_value(json_object_get(first, "used_memory_mib")), 10240);
    json_t *c = json_object_get(first, "container");
    assert_string_equal(json_string_value(json_object_get(c, "engine")), "docker");
    assert_string_equal(json_string_value(json_object_get(c, "name")), "trainer");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(c, "compose"), "service")), "train");
    json_decref(j);

    /* no sockets: no names, and nothing to warn about */
    ps_snapshot_clear(&s);
    daemon_stop(&docker);
    daemon_stop(&podman);
    daemon_stop(&rootless);
    assert_int_equal(ps_snapshot_take(h, &o, &s, &err), 0);
    assert_null(by_pid(&s, 101)->c.name);
    assert_int_equal(by_pid(&s, 101)->c.engine, PS_ENGINE_DOCKER);
    assert_int_equal(s.warnings.len, 0);
    ps_snapshot_clear(&s);
    /* a socket that is there but refuses: names unknown, one line says why */
    struct daemon broken;
    daemon_start(&broken, tmp, "broken", "");
    broken.mode = SERVE_404;
    o.docker_host = broken.host;
    assert_int_equal(ps_snapshot_take(h, &o, &s, &err), 0);
    assert_int_equal(s.warnings.len, 1);
    assert_non_null(strstr(s.warnings.items[0], "Docker container names unknown"));
    ps_snapshot_clear(&s);
    daemon_stop(&broken);
    gctk_host_free(h);
    unlink(activity);
}

/* The container an id or a name gives (gctk doctor --container), among every
 * process, not only those on a GPU: the fixture /proc of test_snapshot, a
 * process of the same container that is not its first, and one that is in
 * no container. */
static void test_find_container(void **state)
{
    (void)state;
    fake_process(99, 101, "helper", ARGV("helper"), "0::/docker/" D1 "\n", 5);
    fake_process(98, 1, "sshd", ARGV("sshd"), "0::/system.slice/ssh.service\n", -1);
    fake_process(97, 1, "idle", ARGV("idle"),
                 "0::/docker/df0000000000000000000000000000000000000000000000000000000000beef\n",
                 1);
    struct daemon docker;
    daemon_start(&docker, tmp, "docker", docker_list);
    struct ps_options o = {.proc = proc,
                           .docker_host = docker.host,
                           .podman_host = "",
                           .kubelet_logs = logs,
                           .runc_root = runc,
                           .run_user = run_user};
    struct ps_container c = {0};
    unsigned pid = 0;
    cleanup_error gctk_error *err = NULL;
    /* by id: its first process is the one its namespace calls 1, not 99 */
    assert_int_equal(ps_find_container(&o, D1, &c, &pid, &err), 1);
    assert_int_equal(pid, 101);
    assert_int_equal(c.engine, PS_ENGINE_DOCKER);
    assert_string_equal(c.name, "trainer");
    ps_container_clear(&c);
    /* by a unique prefix; by a Kubernetes pod; runc's by its state */
    assert_int_equal(ps_find_container(&o, "df6230", &c, &pid, &err), 1);
    assert_int_equal(pid, 101);
    ps_container_clear(&c);
    assert_int_equal(ps_find_container(&o, "team/infer-0", &c, &pid, &err), 1);
    assert_int_equal(pid, 102);
    ps_container_clear(&c);
    assert_int_equal(ps_find_container(&o, "psc1", &c, &pid, &err), 1);
    assert_int_equal(pid, 105);
    assert_int_equal(c.engine, PS_ENGINE_RUNC);
    ps_container_clear(&c);
    /* a name two containers have (Docker's, and a CRI-O one kubelet names) */
    assert_int_equal(ps_find_container(&o, "trainer", &c, &pid, &err), -1);
    assert_non_null(strstr(err->msg, "several containers are named `trainer`"));
    gctk_error_free(steal_pointer(&err));
    /* none, and an ambiguous prefix */
    assert_int_equal(ps_find_container(&o, "nothing", &c, &pid, &err), 0);
    assert_null(err);
    assert_int_equal(ps_find_container(&o, "df", &c, &pid, &err), -1);
    assert_non_null(strstr(err->msg, "is the start of the ids of several containers"));
    daemon_stop(&docker);
}

/* A host whose NVML cannot load: an error that says why; a /proc without
 * the PIDs NVML reports: a warning that says where to run. */
static void test_snapshot_errors(void **state)
{
    (void)state;
    gctk_host *h = NULL;
    cleanup_error gctk_error *err = NULL;
    assert_int_equal(gctk_host_open(root, GCTK_HOST_NO_NVML, &h, &err), 0);
    struct ps_snapshot s = {0};
    struct ps_options o = {.proc = proc, .docker_host = "", .podman_host = ""};
    assert_int_equal(ps_snapshot_take(h, &o, &s, &err), -1);
    assert_non_null(strstr(err->msg, "NVML is needed"));
    gctk_host_free(h);
    gctk_error_free(err);
    err = NULL;

    cleanup_free char *activity = xasprintf("%s/proc/driver/nvidia/gctk-sim-activity", root);
    put(activity, "process 2 4000001 C 1\n", 22);
    cleanup_free char *empty = xasprintf("%s/empty-proc", tmp);
    mkdirs(empty);
    o.proc = empty;
    assert_int_equal(gctk_host_open(root, 0, &h, &err), 0);
    assert_int_equal(ps_snapshot_take(h, &o, &s, &err), 0);
    assert_int_equal(s.nprocs, 1);
    assert_int_equal(s.warnings.len, 1);
    assert_non_null(strstr(s.warnings.items[0], "host's PID namespace"));
    ps_snapshot_clear(&s);
    gctk_host_free(h);
    unlink(activity);
}

static void test_names(void **state)
{
    (void)state;
    char buf[8];
    assert_string_equal(ps_types_name(PS_TYPE_COMPUTE, buf, sizeof(buf)), "C");
    assert_string_equal(ps_types_name(PS_TYPE_GRAPHICS, buf, sizeof(buf)), "G");
    assert_string_equal(ps_types_name(PS_TYPE_COMPUTE | PS_TYPE_GRAPHICS, buf, sizeof(buf)), "C+G");
    assert_string_equal(ps_types_name(PS_TYPE_MPS, buf, sizeof(buf)), "M");
    assert_string_equal(ps_types_name(PS_TYPE_MPS | PS_TYPE_COMPUTE, buf, sizeof(buf)), "M+C");
    assert_string_equal(ps_engine_name(PS_ENGINE_CRIO), "cri-o");
    assert_string_equal(ps_engine_name(PS_ENGINE_NONE), "");
    assert_string_equal(ps_qos_name(PS_QOS_BESTEFFORT), "besteffort");
    assert_null(ps_qos_name(PS_QOS_NONE));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cgroup_shapes),   cmocka_unit_test(test_cgroup_not_containers),
        cmocka_unit_test(test_supervisors),     cmocka_unit_test(test_nspid),
        cmocka_unit_test(test_names),           cmocka_unit_test(test_engineapi),
        cmocka_unit_test(test_snapshot),        cmocka_unit_test(test_find_container),
        cmocka_unit_test(test_snapshot_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
