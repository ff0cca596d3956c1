/* gctk ps: which container holds which GPU (see ps.h for where each fact
 * comes from and why the driver root is not where processes are looked for). */
#include <ctype.h>
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "engineapi.h"
#include "host.h"
#include "nvml.h"
#include "ps.h"

#define PROC_FILE_MAX (64u << 10)
#define COMMAND_MAX 4096
#define ANCESTRY_MAX 32
#define DEFAULT_TIMEOUT_MS 1000

/* A GPU as discovery found it: gctk ps asks NVML only for what runs */
static const struct gctk_gpu *gpu_of(const gctk_host *h, int index)
{
    return gctk_host_gpu(h, (size_t)index);
}

const char *ps_engine_name(enum ps_engine e)
{
    switch (e) {
    case PS_ENGINE_NONE:
        return "";
    case PS_ENGINE_UNKNOWN:
        return "unknown";
    case PS_ENGINE_DOCKER:
        return "docker";
    case PS_ENGINE_PODMAN:
        return "podman";
    case PS_ENGINE_CONTAINERD:
        return "containerd";
    case PS_ENGINE_CRIO:
        return "cri-o";
    case PS_ENGINE_RUNC:
        return "runc";
    }
    return "unknown";
}

const char *ps_qos_name(enum ps_qos q)
{
    switch (q) {
    case PS_QOS_GUARANTEED:
        return "guaranteed";
    case PS_QOS_BURSTABLE:
        return "burstable";
    case PS_QOS_BESTEFFORT:
        return "besteffort";
    case PS_QOS_NONE:
        break;
    }
    return NULL;
}

void ps_container_clear(struct ps_container *c)
{
    free(c->id);
    free(c->name);
    free(c->ns);
    free(c->pod_uid);
    free(c->pod_name);
    free(c->pod_namespace);
    free(c->podman_pod);
    free(c->compose_project);
    free(c->compose_service);
    free(c->outer_id);
    *c = (struct ps_container){.user = -1};
}

/* ---- cgroup paths ------------------------------------------------------------
 * What each engine names its cgroups (collected from the engines and from
 * their documentation and bug reports; tests/unit/test_ps.c holds each shape):
 *   Docker, cgroupfs            /docker/<id>
 *   Docker, systemd             /system.slice/docker-<id>.scope
 *   Podman, cgroupfs            /libpod_parent/libpod-<id>
 *   Podman, systemd             /machine.slice/libpod-<id>.scope[/container],
 *                               pods: machine-libpod_pod_<pod>.slice/...,
 *                               --cgroups=split: <unit>.service/libpod-payload-<id>
 *   containerd (ctr), cgroupfs  /<namespace>/<id>: no engine in the path
 *   Kubernetes, cgroupfs        /kubepods[/burstable|/besteffort]/pod<uid>/<id>
 *                               (CRI-O: .../crio-<id>)
 *   Kubernetes, systemd         /kubepods.slice/kubepods-<qos>.slice/
 *                               kubepods-<qos>-pod<uid_with_underscores>.slice/
 *                               {cri-containerd,crio,docker}-<id>.scope
 *   systemd driver on cgroup v1 through some runc versions: the unexpanded
 *                               "<pod slice>:cri-containerd:<id>"
 * The id of each is 64 lower-case hex digits. A container inside another
 * (kind, Docker in Docker) shows both; the innermost is the one that runs. */

static bool is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
            return false;
    return true;
}

static bool is_container_id(const char *s, size_t n)
{
    return n == 64 && is_hex(s, n);
}

static bool comp_is(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && strncmp(s, word, n) == 0;
}

static bool comp_has_suffix(const char *s, size_t n, const char *suffix)
{
    size_t m = strlen(suffix);
    return n >= m && strncmp(s + n - m, suffix, m) == 0;
}

/* The engine of a unit or cgroup name prefix. */
static enum ps_engine engine_of_prefix(const char *s, size_t n, const char **ns)
{
    *ns = NULL;
    if (comp_is(s, n, "docker"))
        return PS_ENGINE_DOCKER;
    /* libpod-payload-<id>: the container's own cgroup with --cgroups=split */
    if (comp_is(s, n, "libpod") || comp_is(s, n, "libpod-payload"))
        return PS_ENGINE_PODMAN;
    if (comp_is(s, n, "crio"))
        return PS_ENGINE_CRIO;
    if (comp_is(s, n, "cri-containerd")) {
        *ns = "k8s.io"; /* the CRI plugin's namespace */
        return PS_ENGINE_CONTAINERD;
    }
    if (comp_is(s, n, "nerdctl"))
        return PS_ENGINE_CONTAINERD;
    return PS_ENGINE_NONE;
}

/* "<prefix>-<id>" or "<prefix>-<id>.scope" */
static enum ps_engine unit_container(const char *s, size_t n, const char **id, const char **ns)
{
    if (comp_has_suffix(s, n, ".scope"))
        n -= strlen(".scope");
    if (n < 66 || s[n - 65] != '-' || !is_container_id(s + n - 64, 64))
        return PS_ENGINE_NONE;
    *id = s + n - 64;
    return engine_of_prefix(s, n - 65, ns);
}

/* A Kubernetes pod cgroup: "pod<uid>" (cgroupfs, after a kubepods
 * component) or "<...kubepods...>-pod<uid_with_underscores>.slice"
 * (systemd). The uid (allocated, with dashes) and QoS; false otherwise. */
static bool pod_component(const char *s, size_t n, bool in_kubepods, const char *prev,
                          size_t prev_n, char **uid, enum ps_qos *qos)
{
    const char *u;
    size_t un;
    if (comp_has_suffix(s, n, ".slice")) {
        const char *p = NULL;
        for (const char *q = s; q + 4 <= s + n; q++)
            if (strncmp(q, "-pod", 4) == 0)
                p = q;
        if (p == NULL || memmem(s, n, "kubepods", 8) == NULL)
            return false;
        u = p + 4;
        un = (size_t)(s + n - strlen(".slice") - u);
        bool burstable = memmem(s, (size_t)(p - s) + 1, "-burstable-", 11) != NULL;
        bool besteffort = memmem(s, (size_t)(p - s) + 1, "-besteffort-", 12) != NULL;
        *qos = burstable ? PS_QOS_BURSTABLE : besteffort ? PS_QOS_BESTEFFORT : PS_QOS_GUARANTEED;
    } else {
        if (!in_kubepods || n <= 3 || strncmp(s, "pod", 3) != 0)
            return false;
        u = s + 3;
        un = n - 3;
        *qos = comp_is(prev, prev_n, "burstable")    ? PS_QOS_BURSTABLE
               : comp_is(prev, prev_n, "besteffort") ? PS_QOS_BESTEFFORT
                                                     : PS_QOS_GUARANTEED;
    }
    /* 36 characters with dashes; a static pod's is 32 hex digits */
    if (un < 32 || un > 36)
        return false;
    for (size_t i = 0; i < un; i++)
        if (!is_hex(u + i, 1) && u[i] != '-' && u[i] != '_')
            return false;
    char *out = xstrndup(u, un);
    for (char *c = out; *c; c++)
        if (*c == '_')
            *c = '-';
    *uid = out;
    return true;
}

/* What the components of one path have said so far. */
struct path_state {
    struct ps_container found; /* engine NONE until a container is seen */
    char *pod_uid;             /* a pod seen since the last container */
    enum ps_qos qos;
    char *podman_pod;
    bool in_kubepods;
    long user;
};

static void record(struct path_state *st, enum ps_engine engine, const char *id, size_t id_len,
                   const char *ns)
{
    struct ps_container *c = &st->found;
    if (c->engine != PS_ENGINE_NONE) {
        /* the one found before holds this one */
        enum ps_engine outer = c->engine;
        char *outer_id = steal_pointer(&c->id);
        ps_container_clear(c);
        c->outer_engine = outer;
        c->outer_id = outer_id;
    }
    c->engine = engine;
    c->id = xstrndup(id, id_len);
    c->ns = ns != NULL ? xstrdup(ns) : NULL;
    c->pod_uid = steal_pointer(&st->pod_uid);
    c->qos = c->pod_uid != NULL ? st->qos : PS_QOS_NONE;
    c->podman_pod = steal_pointer(&st->podman_pod);
    st->in_kubepods = false;
}

bool ps_cgroup_container(const char *path, struct ps_container *c)
{
    struct path_state st = {.user = -1, .found = {.user = -1}};
    const char *prev = "";
    size_t prev_n = 0;
    for (const char *s = path; *s != '\0';) {
        while (*s == '/')
            s++;
        size_t n = strcspn(s, "/");
        if (n == 0)
            break;
        const char *next = s + n;
        while (*next == '/')
            next++;
        size_t next_n = strcspn(next, "/");
        const char *id = NULL, *ns = NULL;
        enum ps_engine e;
        char *uid = NULL;
        enum ps_qos qos;
        const char *colon1 = memchr(s, ':', n);
        long user;
        int used = 0;
        if (colon1 != NULL) {
            /* "<slice>:<prefix>:<id>": the systemd driver's name, unexpanded */
            const char *colon2 = memchr(colon1 + 1, ':', (size_t)(s + n - colon1 - 1));
            if (colon2 != NULL && is_container_id(colon2 + 1, (size_t)(s + n - colon2 - 1)) &&
                (e = engine_of_prefix(colon1 + 1, (size_t)(colon2 - colon1 - 1), &ns)) !=
                    PS_ENGINE_NONE) {
                if (pod_component(s, (size_t)(colon1 - s), false, "", 0, &uid, &qos)) {
                    free(st.pod_uid);
                    st.pod_uid = uid;
                    st.qos = qos;
                }
                record(&st, e, colon2 + 1, 64, ns);
            }
        } else if ((e = unit_container(s, n, &id, &ns)) != PS_ENGINE_NONE) {
            record(&st, e, id, 64, ns);
        } else if (comp_is(s, n, "docker") && is_container_id(next, next_n)) {
            record(&st, PS_ENGINE_DOCKER, next, 64, NULL);
            n += (size_t)(next - (s + n)) + next_n; /* both components */
        } else if (st.pod_uid != NULL && is_container_id(s, n)) {
            /* a CRI container under its pod: the engine is not in the name */
            record(&st, PS_ENGINE_UNKNOWN, s, n, NULL);
        } else if (pod_component(s, n, st.in_kubepods, prev, prev_n, &uid, &qos)) {
            free(st.pod_uid);
            st.pod_uid = uid;
            st.qos = qos;
        } else if (memmem(s, n, "kubepods", 8) != NULL) {
            st.in_kubepods = true;
        } else if (memmem(s, n, "libpod_pod_", 11) != NULL && comp_has_suffix(s, n, ".slice")) {
            const char *p = (const char *)memmem(s, n, "libpod_pod_", 11) + 11;
            if (is_container_id(p, (size_t)(s + n - strlen(".slice") - p))) {
                free(st.podman_pod);
                st.podman_pod = xstrndup(p, 64);
            }
        } else if (sscanf(s, "user@%ld.service%n", &user, &used) == 1 && (size_t)used == n) {
            st.user = user;
        }
        prev = s;
        prev_n = n;
        s += n;
    }
    free(st.pod_uid);
    free(st.podman_pod);
    if (st.found.engine == PS_ENGINE_NONE)
        return false;
    st.found.user = st.user;
    *c = st.found;
    return true;
}

bool ps_proc_cgroup(const char *text, struct ps_container *c, char **path)
{
    cleanup_free char *first = NULL, *v2 = NULL;
    for (const char *line = text; *line != '\0';) {
        size_t n = strcspn(line, "\n");
        /* "ID:CONTROLLERS:PATH"; the path itself may hold colons */
        const char *c1 = memchr(line, ':', n);
        const char *c2 = c1 != NULL ? memchr(c1 + 1, ':', (size_t)(line + n - c1 - 1)) : NULL;
        if (c2 != NULL) {
            cleanup_free char *p = xstrndup(c2 + 1, (size_t)(line + n - c2 - 1));
            if (ps_cgroup_container(p, c)) {
                if (path != NULL)
                    *path = steal_pointer(&p);
                return true;
            }
            if (first == NULL)
                first = xstrdup(p);
            if (c2 == c1 + 1 && strncmp(line, "0:", 2) == 0 && v2 == NULL)
                v2 = steal_pointer(&p);
        }
        line += n;
        if (*line == '\n')
            line++;
    }
    if (path != NULL)
        *path = v2 != NULL ? steal_pointer(&v2) : steal_pointer(&first);
    return false;
}

/* ---- supervisors ----------------------------------------------------------- */

/* The value of flag `name` (Go's flag syntax: -name V, --name V, -name=V). */
static const char *flag_value(const char *argv, size_t len, const char *name)
{
    size_t nl = strlen(name);
    for (size_t off = 0; off < len; off += strlen(argv + off) + 1) {
        const char *a = argv + off;
        if (a[0] != '-')
            continue;
        a += a[1] == '-' ? 2 : 1;
        if (strncmp(a, name, nl) != 0)
            continue;
        if (a[nl] == '=')
            return a + nl + 1;
        if (a[nl] == '\0' && off + strlen(argv + off) + 1 < len)
            return argv + off + strlen(argv + off) + 1;
    }
    return NULL;
}

bool ps_supervisor_container(const char *argv, size_t len, struct ps_container *c)
{
    if (len == 0)
        return false;
    const char *slash = strrchr(argv, '/');
    const char *prog = slash != NULL ? slash + 1 : argv;
    if (str_has_prefix(prog, "containerd-shim")) {
        const char *ns = flag_value(argv, len, "namespace");
        const char *id = flag_value(argv, len, "id");
        /* the v1 shim has no -id: its -workdir ends with the container's */
        const char *workdir = flag_value(argv, len, "workdir");
        if (id == NULL && workdir != NULL && strrchr(workdir, '/') != NULL)
            id = strrchr(workdir, '/') + 1;
        if (ns == NULL || id == NULL || id[0] == '\0')
            return false;
        *c = (struct ps_container){
            /* "moby" is the namespace Docker's containers have in containerd */
            .engine = strcmp(ns, "moby") == 0 ? PS_ENGINE_DOCKER : PS_ENGINE_CONTAINERD,
            .id = xstrdup(id),
            .ns = xstrdup(ns),
            .user = -1,
        };
        return true;
    }
    if (strcmp(prog, "runc") == 0) {
        /* `runc [global flags] run [flags] <container-id>`: the id is last */
        bool run = false;
        const char *last = NULL;
        for (size_t off = 0; off < len; off += strlen(argv + off) + 1) {
            run = run || strcmp(argv + off, "run") == 0;
            last = argv + off;
        }
        if (!run || last == NULL || last[0] == '-' || last[0] == '\0' || last == argv)
            return false;
        *c = (struct ps_container){.engine = PS_ENGINE_RUNC, .id = xstrdup(last), .user = -1};
        return true;
    }
    return false;
}

long ps_status_nspid(const char *status)
{
    const char *p = strstr(status, "\nNSpid:");
    if (p == NULL)
        return -1;
    p += strlen("\nNSpid:");
    long last = -1;
    while (*p != '\0' && *p != '\n') {
        char *end = NULL;
        long v = strtol(p, &end, 10);
        if (end == p)
            break;
        last = v;
        p = end;
    }
    return last;
}

/* ---- /proc ------------------------------------------------------------------------ */

static char *proc_read(const char *proc, unsigned pid, const char *file, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%u/%s", proc, pid, file);
    char *text = NULL;
    if (read_file(path, PROC_FILE_MAX, &text, len, NULL) < 0)
        return NULL;
    return text;
}

static unsigned proc_ppid(const char *proc, unsigned pid)
{
    cleanup_free char *stat = proc_read(proc, pid, "stat", NULL);
    /* "PID (COMM) STATE PPID ...": COMM may hold anything, even ") " */
    const char *p = stat != NULL ? strrchr(stat, ')') : NULL;
    unsigned ppid = 0;
    if (p == NULL || sscanf(p + 1, " %*c %u", &ppid) != 1)
        return 0;
    return ppid;
}

/* The container a supervisor among the ancestors of pid runs. */
static bool supervisor_of(const struct ps_options *o, unsigned pid, struct ps_container *c)
{
    unsigned p = pid;
    for (int depth = 0; depth < ANCESTRY_MAX && p > 1; depth++) {
        unsigned parent = proc_ppid(o->proc, p);
        if (parent <= 1)
            break;
        size_t len = 0;
        cleanup_free char *argv = proc_read(o->proc, parent, "cmdline", &len);
        if (argv != NULL && ps_supervisor_container(argv, len, c))
            return true;
        p = parent;
    }
    return false;
}

/* The container of a process whose cgroup path names none: a supervisor
 * among its ancestors, else runc's state dir when the cgroup is named after
 * a runc container. */
static bool container_of_ancestry(const struct ps_options *o, unsigned pid, const char *cgroup,
                                  struct ps_container *c)
{
    if (supervisor_of(o, pid, c))
        return true;
    const char *leaf = cgroup != NULL ? strrchr(cgroup, '/') : NULL;
    if (leaf == NULL || leaf[1] == '\0' || strcmp(leaf + 1, "..") == 0 || leaf[1] == '.')
        return false;
    char state[4096];
    snprintf(state, sizeof(state), "%s/%s/state.json", o->runc_root, leaf + 1);
    struct stat st;
    if (stat(state, &st) < 0 || !S_ISREG(st.st_mode))
        return false;
    *c = (struct ps_container){.engine = PS_ENGINE_RUNC, .id = xstrdup(leaf + 1), .user = -1};
    return true;
}

static void read_process(const struct ps_options *o, struct ps_process *p)
{
    cleanup_free char *comm = proc_read(o->proc, p->pid, "comm", NULL);
    if (comm != NULL)
        p->name = xstrdup(str_strip(comm));
    size_t len = 0;
    cleanup_free char *argv = proc_read(o->proc, p->pid, "cmdline", &len);
    if (argv != NULL && len > 0) {
        if (len > COMMAND_MAX)
            len = COMMAND_MAX;
        argv[len] = '\0';
        for (size_t i = 0; i + 1 < len; i++)
            if (argv[i] == '\0')
                argv[i] = ' ';
        p->command = xstrdup(argv);
    }
    cleanup_free char *status = proc_read(o->proc, p->pid, "status", NULL);
    p->container_pid = status != NULL ? ps_status_nspid(status) : -1;
    cleanup_free char *cgroup = proc_read(o->proc, p->pid, "cgroup", NULL);
    p->c = (struct ps_container){.user = -1};
    if (cgroup == NULL)
        return;
    if (!ps_proc_cgroup(cgroup, &p->c, &p->cgroup)) {
        container_of_ancestry(o, p->pid, p->cgroup, &p->c);
        return;
    }
    struct ps_container sup = {.user = -1};
    /* a bare id under a pod: the shim above it tells containerd from Docker
     * (its -id is the pod's sandbox, the path's id is the container's) */
    if (p->c.engine == PS_ENGINE_UNKNOWN && supervisor_of(o, p->pid, &sup)) {
        p->c.engine = sup.engine;
        if (p->c.ns == NULL)
            p->c.ns = steal_pointer(&sup.ns);
    }
    ps_container_clear(&sup);
}

/* ---- names from the engines ---------------------------------------------------- */

static const char *json_str(const json_t *o, const char *key)
{
    const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void set_if_unset(char **field, const char *value)
{
    if (*field == NULL && value != NULL && value[0] != '\0')
        *field = xstrdup(value);
}

/* Which containers an engine's list can name: its own, and those whose
 * engine the path did not tell. */
static bool may_belong(const struct ps_container *c, enum ps_engine engine)
{
    if (c->id == NULL)
        return false;
    if (c->engine == engine || c->engine == PS_ENGINE_UNKNOWN)
        return true;
    /* containerd under Docker: the path showed containerd, the namespace
     * showed Docker's (or the engine was told it differently) */
    return engine == PS_ENGINE_DOCKER && c->engine == PS_ENGINE_CONTAINERD;
}

/* GET /containers/json of one engine and names what it runs. */
/* Which containers one socket can name: user -1, the engine's socket, any of
 * them; else a rootless engine's socket, the still unnamed containers of
 * user@UID.service. */
static bool may_answer(const struct ps_container *c, enum ps_engine engine, long user)
{
    return may_belong(c, engine) && (user < 0 || (c->user == user && c->name == NULL));
}

static void names_from_engine(struct ps_snapshot *s, const struct ps_options *o,
                              enum ps_engine engine, const char *host, long user)
{
    bool wanted = false;
    for (size_t i = 0; i < s->nprocs && !wanted; i++)
        wanted = may_answer(&s->procs[i].c, engine, user);
    if (!wanted || host == NULL || host[0] == '\0')
        return;
    const char *who = engine == PS_ENGINE_DOCKER ? "Docker" : "Podman";
    cleanup_json json_t *list = NULL;
    cleanup_error gctk_error *e = NULL;
    if (engineapi_get(host, "/containers/json", o->timeout_ms, &list, &e) < 0) {
        /* no daemon: no names, and nothing to say */
        if (e->code == ENOENT || e->code == ECONNREFUSED || e->code == ENOTDIR)
            return;
        if (e->code == EACCES)
            gctk_hint(&e, "run as root or as a member of the engine's group");
        gctk_wrap(&e, "%s container names unknown", who);
        strv_push(&s->warnings, xstrdup(e->msg));
        return;
    }
    size_t k;
    json_t *item;
    json_array_foreach(list, k, item)
    {
        const char *id = json_str(item, "Id");
        if (id == NULL)
            continue;
        const json_t *names = json_object_get(item, "Names");
        const char *name =
            json_is_array(names) ? json_string_value(json_array_get(names, 0)) : NULL;
        if (name != NULL && name[0] == '/')
            name++;
        const json_t *labels = json_object_get(item, "Labels");
        for (size_t i = 0; i < s->nprocs; i++) {
            struct ps_container *c = &s->procs[i].c;
            if (!may_answer(c, engine, user) || strcmp(c->id, id) != 0)
                continue;
            c->engine = engine;
            set_if_unset(&c->name, name);
            set_if_unset(&c->pod_name, json_str(labels, "io.kubernetes.pod.name"));
            set_if_unset(&c->pod_namespace, json_str(labels, "io.kubernetes.pod.namespace"));
            set_if_unset(&c->pod_uid, json_str(labels, "io.kubernetes.pod.uid"));
            set_if_unset(&c->compose_project, json_str(labels, "com.docker.compose.project"));
            set_if_unset(&c->compose_service, json_str(labels, "com.docker.compose.service"));
        }
    }
}

/* The engine's socket, then the socket of each rootless user whose
 * containers are still unnamed: $XDG_RUNTIME_DIR, /run/user/UID, holds it. */
static void names_from_engines(struct ps_snapshot *s, const struct ps_options *o,
                               enum ps_engine engine, const char *host, const char *rootless)
{
    names_from_engine(s, o, engine, host, -1);
    for (size_t i = 0; i < s->nprocs; i++) {
        long user = s->procs[i].c.user;
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = s->procs[k].c.user == user;
        if (user < 0 || seen || !may_answer(&s->procs[i].c, engine, user))
            continue;
        cleanup_free char *own = xasprintf("unix://%s/%ld/%s", o->run_user, user, rootless);
        if (host == NULL || strcmp(own, host) != 0)
            names_from_engine(s, o, engine, own, user);
    }
}

/* kubelet keeps, whatever the runtime, /var/log/pods/<ns>_<pod>_<uid>/ and
 * the links /var/log/containers/<pod>_<ns>_<container>-<id>.log; names in
 * Kubernetes hold no '_'. */
static void names_from_kubelet(struct ps_snapshot *s, const struct ps_options *o)
{
    bool wanted = false;
    for (size_t i = 0; i < s->nprocs && !wanted; i++)
        wanted = s->procs[i].c.pod_uid != NULL &&
                 (s->procs[i].c.pod_name == NULL || s->procs[i].c.name == NULL);
    if (!wanted)
        return;
    cleanup_free char *pods = xasprintf("%s/pods", o->kubelet_logs);
    cleanup_dir DIR *d = opendir(pods);
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        char *u1 = strchr(de->d_name, '_');
        char *u2 = u1 != NULL ? strchr(u1 + 1, '_') : NULL;
        if (u2 == NULL || strchr(u2 + 1, '_') != NULL)
            continue;
        for (size_t i = 0; i < s->nprocs; i++) {
            struct ps_container *c = &s->procs[i].c;
            if (c->pod_uid == NULL || c->pod_name != NULL || strcmp(c->pod_uid, u2 + 1) != 0)
                continue;
            c->pod_namespace = xstrndup(de->d_name, (size_t)(u1 - de->d_name));
            c->pod_name = xstrndup(u1 + 1, (size_t)(u2 - u1 - 1));
        }
    }
    cleanup_free char *links = xasprintf("%s/containers", o->kubelet_logs);
    cleanup_dir DIR *ld = opendir(links);
    while (ld != NULL && (de = readdir(ld)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n < 64 + 5 + 5 || !str_has_suffix(de->d_name, ".log"))
            continue;
        const char *id = de->d_name + n - 4 - 64;
        if (id[-1] != '-' || !is_container_id(id, 64))
            continue;
        char *u1 = strchr(de->d_name, '_');
        char *u2 = u1 != NULL ? strchr(u1 + 1, '_') : NULL;
        if (u2 == NULL || u2 >= id)
            continue;
        for (size_t i = 0; i < s->nprocs; i++) {
            struct ps_container *c = &s->procs[i].c;
            if (c->id == NULL || strncmp(c->id, id, 64) != 0 || c->id[64] != '\0')
                continue;
            if (c->name == NULL)
                c->name = xstrndup(u2 + 1, (size_t)(id - 1 - u2 - 1));
            if (c->pod_name == NULL) {
                c->pod_name = xstrndup(de->d_name, (size_t)(u1 - de->d_name));
                c->pod_namespace = xstrndup(u1 + 1, (size_t)(u2 - u1 - 1));
            }
        }
    }
}

/* ---- the snapshot ------------------------------------------------------------------ */

static const char *host_or_env(const char *given, const char *env, const char *fallback)
{
    if (given != NULL)
        return given;
    const char *v = getenv(env);
    return v != NULL && v[0] != '\0' ? v : fallback;
}

static void push_device(struct ps_snapshot *s, int gpu, int mig, bool listed)
{
    s->devices = xgrow_for_one(s->devices, s->ndevices, sizeof(*s->devices));
    s->devices[s->ndevices++] = (struct ps_device){
        .gpu = gpu,
        .mig = mig,
        .listed = listed,
        .usage = {.gpu_percent = -1, .memory_percent = -1, .used_bytes = -1, .total_bytes = -1}};
}

static int proc_cmp(const void *a, const void *b)
{
    const struct ps_process *x = a, *y = b;
    if (x->device != y->device)
        return x->device < y->device ? -1 : 1;
    return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static unsigned types_of(unsigned nvml)
{
    return (nvml & NVML_PROC_COMPUTE ? PS_TYPE_COMPUTE : 0) |
           (nvml & NVML_PROC_GRAPHICS ? PS_TYPE_GRAPHICS : 0) |
           (nvml & NVML_PROC_MPS ? PS_TYPE_MPS : 0);
}

static struct ps_options options_or_defaults(const struct ps_options *given)
{
    struct ps_options o = *given;
    if (o.proc == NULL)
        o.proc = "/proc";
    if (o.kubelet_logs == NULL)
        o.kubelet_logs = "/var/log";
    if (o.runc_root == NULL)
        o.runc_root = "/run/runc";
    if (o.run_user == NULL)
        o.run_user = "/run/user";
    if (o.timeout_ms <= 0)
        o.timeout_ms = DEFAULT_TIMEOUT_MS;
    return o;
}

/* Who the processes of s are: their containers, then the names the engines
 * and kubelet give them. */
static void identify(struct ps_snapshot *s, const struct ps_options *o)
{
    names_from_engines(s, o, PS_ENGINE_DOCKER,
                       host_or_env(o->docker_host, "DOCKER_HOST", ENGINEAPI_DOCKER_HOST),
                       "docker.sock");
    names_from_engines(s, o, PS_ENGINE_PODMAN,
                       host_or_env(o->podman_host, "CONTAINER_HOST", ENGINEAPI_PODMAN_HOST),
                       "podman/podman.sock");
    names_from_kubelet(s, o);
}

int ps_find_container(const struct ps_options *given, const char *query, struct ps_container *out,
                      unsigned *pid, gctk_error **err)
{
    struct ps_options o = options_or_defaults(given);
    cleanup_dir DIR *d = opendir(o.proc);
    if (d == NULL)
        return gctk_fail(err, errno, "open `%s`", o.proc);
    struct ps_snapshot s = {0};
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        struct ps_process p = {
            .pid = (unsigned)strtoul(de->d_name, NULL, 10), .container_pid = -1, .c = {.user = -1}};
        read_process(&o, &p);
        if (p.c.id == NULL) {
            /* a process of the host: not what a container id names */
            free(p.name), free(p.command), free(p.cgroup);
            ps_container_clear(&p.c);
            continue;
        }
        if (s.nprocs == cap) {
            cap = cap ? cap * 2 : 64;
            s.procs = xrealloc(s.procs, cap * sizeof(*s.procs));
        }
        s.procs[s.nprocs++] = p;
    }
    identify(&s, &o);
    cleanup_free size_t *idx = NULL;
    long n = ps_container_lookup(&s, query, &idx, err);
    if (n <= 0) {
        ps_snapshot_clear(&s);
        return n < 0 ? -1 : 0;
    }
    /* its first process: the one its PID namespace calls 1, else the lowest PID */
    size_t best = idx[0];
    for (long i = 1; i < n; i++) {
        const struct ps_process *p = &s.procs[idx[i]], *b = &s.procs[best];
        if ((p->container_pid == 1) != (b->container_pid == 1) ? p->container_pid == 1
                                                               : p->pid < b->pid)
            best = idx[i];
    }
    *pid = s.procs[best].pid;
    *out = s.procs[best].c;
    s.procs[best].c = (struct ps_container){.user = -1};
    ps_snapshot_clear(&s);
    return 1;
}

int ps_snapshot_take(gctk_host *h, const struct ps_options *given, struct ps_snapshot *out,
                     gctk_error **err)
{
    struct ps_options o = options_or_defaults(given);
    struct nvml *n = host_nvml(h);
    if (n == NULL) {
        /* the host's last warning says why, for its own fields */
        const char *why = "it is not loaded";
        for (size_t i = 0; gctk_host_warning(h, i) != NULL; i++)
            why = gctk_host_warning(h, i);
        const char *tail = strstr(why, ": memory, brand and compute capability are unknown");
        gctk_fail(err, 0, "NVML is needed to list GPU processes: %.*s",
                  tail != NULL ? (int)(tail - why) : (int)strlen(why), why);
        return gctk_hint(err, "`gctk doctor` says what is missing");
    }
    struct ps_snapshot s = {0};
    for (size_t i = 0; i < gctk_host_gpu_count(h); i++) {
        size_t first = s.ndevices;
        push_device(&s, (int)i, -1, true);
        for (size_t k = 0; k < gctk_host_mig_count(h); k++)
            if (gctk_host_mig(h, k)->gpu == (int)i)
                push_device(&s, (int)i, (int)k, true);
        /* a GPU in MIG mode is shown through its MIG devices */
        s.devices[first].listed = s.ndevices == first + 1;
    }
    for (size_t d = 0; d < s.ndevices; d++) {
        struct ps_device *dev = &s.devices[d];
        /* a GPU in MIG mode is asked through its MIG devices: NVML gives the
         * whole GPU's processes only to privileged callers */
        if (!dev->listed)
            continue;
        const struct gctk_gpu *g = gpu_of(h, dev->gpu);
        int nvml_mig = dev->mig >= 0 ? gctk_host_mig(h, (size_t)dev->mig)->index : -1;
        cleanup_error gctk_error *e = NULL;
        struct nvml_usage u;
        if (nvml_usage(n, g->bus_id, nvml_mig, &u, &e) < 0) {
            strv_push(&s.warnings, xstrdup(e->msg));
            gctk_error_free(e);
            e = NULL;
        } else {
            dev->usage = (struct ps_usage){.gpu_percent = u.gpu_percent,
                                           .memory_percent = u.memory_percent,
                                           .used_bytes = u.used_bytes,
                                           .total_bytes = u.total_bytes};
        }
        cleanup_free struct nvml_process *procs = NULL;
        size_t count = 0;
        if (nvml_processes(n, g->bus_id, nvml_mig, &procs, &count, &e) < 0) {
            strv_push(&s.warnings, xstrdup(e->msg));
            continue;
        }
        s.procs = xrealloc(s.procs, (s.nprocs + count) * sizeof(*s.procs));
        for (size_t k = 0; k < count; k++)
            s.procs[s.nprocs++] = (struct ps_process){.pid = procs[k].pid,
                                                      .types = types_of(procs[k].types),
                                                      .used_bytes = procs[k].used_bytes,
                                                      .device = d,
                                                      .container_pid = -1,
                                                      .c = {.user = -1}};
    }
    size_t missing = 0;
    for (size_t i = 0; i < s.nprocs; i++) {
        read_process(&o, &s.procs[i]);
        missing += s.procs[i].name == NULL;
    }
    if (s.nprocs > 0 && missing == s.nprocs)
        strv_push(&s.warnings,
                  xasprintf("no process NVML lists is in %s: run gctk ps in the host's PID "
                            "namespace (docker run --pid=host) to see their containers",
                            o.proc));
    identify(&s, &o);
    if (s.nprocs > 1)
        qsort(s.procs, s.nprocs, sizeof(*s.procs), proc_cmp);
    for (size_t i = 0; i < s.nprocs; i++) {
        struct ps_device *dev = &s.devices[s.procs[i].device];
        dev->nprocs++;
        dev->listed = true;
    }
    *out = s;
    return 0;
}

void ps_snapshot_clear(struct ps_snapshot *s)
{
    for (size_t i = 0; i < s->nprocs; i++) {
        free(s->procs[i].name);
        free(s->procs[i].command);
        free(s->procs[i].cgroup);
        ps_container_clear(&s->procs[i].c);
    }
    free(s->procs);
    free(s->devices);
    strv_clear(&s->warnings);
    *s = (struct ps_snapshot){0};
}

/* ---- what it says ----------------------------------------------------------------- */

char *ps_device_id(const gctk_host *h, const struct ps_device *d)
{
    if (d->mig < 0)
        return xasprintf("%d", d->gpu);
    const struct gctk_mig *m = gctk_host_mig(h, (size_t)d->mig);
    return xasprintf("%d:%d", m->gpu, m->index);
}

const char *ps_device_uuid(const gctk_host *h, const struct ps_device *d)
{
    return d->mig >= 0 ? gctk_host_mig(h, (size_t)d->mig)->uuid : gpu_of(h, d->gpu)->uuid;
}

const char *ps_types_name(unsigned types, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s%s%s%s", types & PS_TYPE_MPS ? "M" : "",
             types & PS_TYPE_MPS && types & (PS_TYPE_COMPUTE | PS_TYPE_GRAPHICS) ? "+" : "",
             types & PS_TYPE_COMPUTE ? "C" : "",
             types & PS_TYPE_COMPUTE && types & PS_TYPE_GRAPHICS ? "+" : "",
             types & PS_TYPE_GRAPHICS ? "G" : "");
    return buf;
}

static bool same_container(const struct ps_container *a, const struct ps_container *b)
{
    return a->engine == b->engine && a->id != NULL && b->id != NULL && strcmp(a->id, b->id) == 0;
}

long ps_container_lookup(const struct ps_snapshot *s, const char *query, size_t **out,
                         gctk_error **err)
{
    /* Docker's order: a full id, a name, a unique id prefix; then a pod */
    for (int pass = 0; pass < 4; pass++) {
        const struct ps_container *hit = NULL;
        cleanup_free size_t *idx = NULL;
        size_t count = 0;
        for (size_t i = 0; i < s->nprocs; i++) {
            const struct ps_container *c = &s->procs[i].c;
            if (c->id == NULL)
                continue;
            bool match = false;
            if (pass == 0)
                match = strcmp(c->id, query) == 0;
            else if (pass == 1)
                match = c->name != NULL && strcmp(c->name, query) == 0;
            else if (pass == 2)
                match = query[0] != '\0' && str_has_prefix(c->id, query);
            else if (c->pod_name != NULL && c->pod_namespace != NULL) {
                size_t nl = strlen(c->pod_namespace);
                match = strncmp(query, c->pod_namespace, nl) == 0 && query[nl] == '/' &&
                        strcmp(query + nl + 1, c->pod_name) == 0;
            }
            if (!match)
                continue;
            if ((pass == 1 || pass == 2) && hit != NULL && !same_container(hit, c)) {
                if (pass == 1) {
                    gctk_fail(err, 0, "several containers are named `%s`: %s %.12s, %s %.12s",
                              query, ps_engine_name(hit->engine), hit->id,
                              ps_engine_name(c->engine), c->id);
                    return gctk_hint(err, "give an id");
                }
                gctk_fail(err, 0,
                          "`%s` is the start of the ids of several containers: %.12s (%s), "
                          "%.12s (%s)",
                          query, hit->id, hit->name ? hit->name : "no name", c->id,
                          c->name ? c->name : "no name");
                return gctk_hint(err, "give more of the id");
            }
            hit = hit != NULL ? hit : c;
            idx = xgrow_for_one(idx, count, sizeof(*idx));
            idx[count++] = i;
        }
        if (count > 0) {
            *out = steal_pointer(&idx);
            return (long)count;
        }
    }
    *out = NULL;
    return 0;
}

static json_t *str_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

static json_t *container_json(const struct ps_process *p)
{
    const struct ps_container *c = &p->c;
    if (c->engine == PS_ENGINE_NONE)
        return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "engine", json_string(ps_engine_name(c->engine)));
    json_object_set_new(o, "id", str_or_null(c->id));
    json_object_set_new(o, "name", str_or_null(c->name));
    json_object_set_new(o, "namespace", str_or_null(c->ns));
    json_t *pod = json_null();
    if (c->pod_uid != NULL || c->pod_name != NULL) {
        pod = json_object();
        json_object_set_new(pod, "name", str_or_null(c->pod_name));
        json_object_set_new(pod, "namespace", str_or_null(c->pod_namespace));
        json_object_set_new(pod, "uid", str_or_null(c->pod_uid));
        json_object_set_new(pod, "qos", str_or_null(ps_qos_name(c->qos)));
    }
    json_object_set_new(o, "pod", pod);
    json_object_set_new(o, "podman_pod", str_or_null(c->podman_pod));
    json_t *compose = json_null();
    if (c->compose_project != NULL)
        compose = json_pack("{s:s, s:o}", "project", c->compose_project, "service",
                            str_or_null(c->compose_service));
    json_object_set_new(o, "compose", compose);
    json_object_set_new(o, "user", c->user >= 0 ? json_integer(c->user) : json_null());
    json_object_set_new(
        o, "outer",
        c->outer_engine != PS_ENGINE_NONE
            ? json_pack("{s:s, s:s}", "engine", ps_engine_name(c->outer_engine), "id", c->outer_id)
            : json_null());
    return o;
}

static json_t *bytes_mib(long long bytes)
{
    return bytes >= 0 ? json_integer(bytes / (1024 * 1024)) : json_null();
}

static json_t *device_json(const gctk_host *h, const struct ps_device *d)
{
    const struct gctk_gpu *g = gpu_of(h, d->gpu);
    json_t *o = json_object();
    cleanup_free char *id = ps_device_id(h, d);
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "index", json_integer(d->gpu));
    json_object_set_new(o, "uuid", str_or_null(g->uuid));
    json_object_set_new(o, "bus_id", str_or_null(g->bus_id));
    json_object_set_new(o, "model", str_or_null(g->model));
    json_t *mig = json_null();
    if (d->mig >= 0) {
        const struct gctk_mig *m = gctk_host_mig(h, (size_t)d->mig);
        mig =
            json_pack("{s:i, s:o, s:o, s:i, s:i}", "index", m->index, "uuid", str_or_null(m->uuid),
                      "profile", str_or_null(m->profile), "gi", m->gi, "ci", m->ci);
    }
    json_object_set_new(o, "mig", mig);
    json_object_set_new(o, "utilization",
                        d->usage.gpu_percent >= 0
                            ? json_pack("{s:i, s:i}", "gpu", d->usage.gpu_percent, "memory",
                                        d->usage.memory_percent)
                            : json_null());
    json_object_set_new(o, "memory_used_mib", bytes_mib(d->usage.used_bytes));
    json_object_set_new(o, "memory_total_mib", bytes_mib(d->usage.total_bytes));
    json_object_set_new(o, "processes", json_integer((json_int_t)d->nprocs));
    json_object_set_new(o, "free", json_boolean(d->nprocs == 0));
    return o;
}

static json_t *process_json(const gctk_host *h, const struct ps_snapshot *s,
                            const struct ps_process *p)
{
    const struct ps_device *d = &s->devices[p->device];
    const struct gctk_gpu *g = gpu_of(h, d->gpu);
    const struct gctk_mig *m = d->mig >= 0 ? gctk_host_mig(h, (size_t)d->mig) : NULL;
    cleanup_free char *id = ps_device_id(h, d);
    char types[8];
    json_t *o = json_object();
    json_object_set_new(o, "gpu", json_string(id));
    json_object_set_new(o, "gpu_index", json_integer(d->gpu));
    json_object_set_new(o, "gpu_uuid", str_or_null(g->uuid));
    json_object_set_new(o, "mig_uuid", m != NULL ? str_or_null(m->uuid) : json_null());
    json_object_set_new(o, "pid", json_integer(p->pid));
    json_object_set_new(o, "container_pid",
                        p->container_pid >= 0 ? json_integer(p->container_pid) : json_null());
    json_object_set_new(o, "type", json_string(ps_types_name(p->types, types, sizeof(types))));
    json_object_set_new(o, "name", str_or_null(p->name));
    json_object_set_new(o, "command", str_or_null(p->command));
    json_object_set_new(o, "used_memory_mib", bytes_mib(p->used_bytes));
    json_object_set_new(o, "used_memory_bytes",
                        p->used_bytes >= 0 ? json_integer(p->used_bytes) : json_null());
    json_object_set_new(o, "cgroup", str_or_null(p->cgroup));
    json_object_set_new(o, "container", container_json(p));
    return o;
}

json_t *ps_snapshot_json(const gctk_host *h, const struct ps_snapshot *s, const size_t *only,
                         size_t nonly)
{
    json_t *gpus = json_array(), *procs = json_array();
    for (size_t d = 0; d < s->ndevices; d++) {
        bool shown = s->devices[d].listed;
        if (only != NULL) {
            shown = false;
            for (size_t k = 0; k < nonly && !shown; k++)
                shown = s->procs[only[k]].device == d;
        }
        if (shown)
            json_array_append_new(gpus, device_json(h, &s->devices[d]));
    }
    size_t count = only != NULL ? nonly : s->nprocs;
    for (size_t k = 0; k < count; k++)
        json_array_append_new(procs, process_json(h, s, &s->procs[only != NULL ? only[k] : k]));
    json_t *warnings = json_array();
    for (size_t i = 0; i < s->warnings.len; i++)
        json_array_append_new(warnings, json_string(s->warnings.items[i]));
    return json_pack("{s:o, s:o, s:o}", "gpus", gpus, "processes", procs, "warnings", warnings);
}
