/* Which container holds which GPU (gctk ps).
 *
 * The processes come from NVML, through the driver root like all discovery
 * (a simulated host's mock NVML reports what its activity file says). Who
 * they are comes from the running machine, never from the driver root: the
 * PIDs NVML reports live in this kernel's /proc, and the engines that own
 * them listen on this machine's sockets. For each process:
 *   - its container, from the cgroup path in /proc/PID/cgroup (every engine
 *     and cgroup driver names its cgroups after the container's id);
 *   - where the path names no engine (a custom cgroup parent, plain runc,
 *     `ctr run`): from the supervisor above it (a containerd shim, a runc run
 *     in the foreground) or runc's state directory;
 *   - the container's name from its engine's API (Docker's socket, Podman's
 *     Docker-compatible one: GET /containers/json, with a short deadline; no
 *     socket, no names; a rootless engine's in its user's runtime dir), and a
 *     Kubernetes pod's name and namespace from the container's labels or from
 *     the log links kubelet keeps in /var/log.
 */
#ifndef GCTK_PS_H
#define GCTK_PS_H

#include "json.h"

enum ps_engine {
    PS_ENGINE_NONE = 0, /* a host process, in no container */
    PS_ENGINE_UNKNOWN,  /* a container whose engine nothing tells */
    PS_ENGINE_DOCKER,
    PS_ENGINE_PODMAN,
    PS_ENGINE_CONTAINERD,
    PS_ENGINE_CRIO,
    PS_ENGINE_RUNC,
};
/* "docker", "podman", "containerd", "cri-o", "runc", "unknown"; "" for NONE */
const char *ps_engine_name(enum ps_engine e);

/* Kubernetes' QoS classes, which name the pod's cgroup parent */
enum ps_qos { PS_QOS_NONE = 0, PS_QOS_GUARANTEED, PS_QOS_BURSTABLE, PS_QOS_BESTEFFORT };
/* "guaranteed", "burstable", "besteffort"; NULL for NONE */
const char *ps_qos_name(enum ps_qos q);

struct ps_container {
    enum ps_engine engine;
    char *id;      /* as the engine names it */
    char *name;    /* from the engine or kubelet; NULL when unknown */
    char *ns;      /* containerd namespace ("k8s.io", "moby"); NULL */
    char *pod_uid; /* Kubernetes pod, from the cgroup path; NULL */
    enum ps_qos qos;
    char *pod_name, *pod_namespace;          /* from labels or kubelet's logs; NULL */
    char *podman_pod;                        /* a Podman pod's id, from the cgroup path; NULL */
    char *compose_project, *compose_service; /* Compose's labels; NULL */
    long user;                               /* user@UID.service (rootless engines); -1 */
    /* the container this one runs inside (Kubernetes in Docker, Docker in
     * Docker); NONE when there is none */
    enum ps_engine outer_engine;
    char *outer_id;
};
void ps_container_clear(struct ps_container *c);

/* The container that one cgroup path names: the innermost component an
 * engine names (docker-<id>.scope, /docker/<id>, libpod-<id>, crio-<id>,
 * cri-containerd-<id>.scope, nerdctl-<id>.scope, the v1 "slice:prefix:id"
 * form of the systemd driver, a bare id under a kubepods pod), with the
 * Kubernetes pod (uid, QoS), Podman pod and rootless user the path shows.
 * false when the path names no container; *c is then untouched. */
bool ps_cgroup_container(const char *path, struct ps_container *c);

/* The same for the text of /proc/PID/cgroup: the first line (v1 hierarchies
 * in file order, the v2 "0::" line) whose path names a container. *path
 * (allocated, may be NULL) gets that line's path; when none does, the v2
 * path, else the first line's. */
bool ps_proc_cgroup(const char *text, struct ps_container *c, char **path);

/* A containerd shim's or a foreground runc's command line (NUL-separated
 * argv, len bytes): the container it runs. false when argv is neither. */
bool ps_supervisor_container(const char *argv, size_t len, struct ps_container *c);

/* The last PID of the "NSpid:" line of /proc/PID/status (the process as its
 * own PID namespace numbers it); -1 when there is none. */
long ps_status_nspid(const char *status);

/* ---- a snapshot of the host ------------------------------------------------- */

struct ps_options {
    const char *proc;         /* the running kernel's /proc; NULL: "/proc" */
    const char *docker_host;  /* NULL: $DOCKER_HOST, else the default socket; "": never ask */
    const char *podman_host;  /* NULL: $CONTAINER_HOST, else the default socket; "": never ask */
    const char *kubelet_logs; /* kubelet's log dir (pods/, containers/); NULL: "/var/log" */
    const char *runc_root;    /* runc's state dir; NULL: "/run/runc" */
    const char *run_user;     /* the runtime dirs of users (rootless engines'
                                 sockets); NULL: "/run/user" */
    int timeout_ms;           /* for each engine API call; 0: 1000 */
};

/* What a process does on a GPU, as NVML lists it */
enum {
    PS_TYPE_COMPUTE = 1u << 0,  /* a CUDA context: "C" */
    PS_TYPE_GRAPHICS = 1u << 1, /* a graphics context: "G" */
    PS_TYPE_MPS = 1u << 2,      /* a client of the MPS server: "M" */
};

struct ps_usage {
    int gpu_percent, memory_percent;   /* -1 when NVML cannot tell (MIG devices) */
    long long used_bytes, total_bytes; /* -1 when NVML cannot tell */
};

/* A GPU, or one MIG device of a GPU in MIG mode. */
struct ps_device {
    int gpu; /* the host's GPU index */
    int mig; /* index into gctk_host_mig(); -1 for a whole GPU */
    /* shown: a MIG GPU's own entry only when NVML lists processes on it that
     * no MIG device holds */
    bool listed;
    struct ps_usage usage;
    size_t nprocs; /* processes on it */
};

struct ps_process {
    unsigned pid;         /* the host's PID */
    unsigned types;       /* NVML_PROC_* */
    long long used_bytes; /* -1 when NVML cannot tell */
    size_t device;        /* index into ps_snapshot.devices */
    char *name;           /* /proc/PID/comm; NULL when the process is gone */
    char *command;        /* its argv, space-separated, at most 4 KiB; NULL */
    long container_pid;   /* the PID its own namespace gives it; -1 */
    char *cgroup;         /* the cgroup path its container was read from; NULL */
    struct ps_container c;
};

struct ps_snapshot {
    struct ps_device *devices;
    size_t ndevices;
    struct ps_process *procs; /* by device, then PID */
    size_t nprocs;
    struct strv warnings; /* what could not be told, one line each */
};

struct gctk_host;
/* Asks NVML what runs on every GPU and MIG device of the host and finds the
 * container of each process. Fails only when NVML cannot be asked at all;
 * an engine that does not answer leaves names unknown (and a warning when
 * its socket is there but refuses). */
int ps_snapshot_take(struct gctk_host *h, const struct ps_options *o, struct ps_snapshot *out,
                     gctk_error **err);
void ps_snapshot_clear(struct ps_snapshot *s);

/* 0:1 for MIG device 1 of GPU 0, "3" for GPU 3: gctk's (and nvidia-smi's) ids */
char *ps_device_id(const struct gctk_host *h, const struct ps_device *d);
/* The GPU's or MIG device's UUID; NULL when unknown */
const char *ps_device_uuid(const struct gctk_host *h, const struct ps_device *d);
/* "C", "G", "C+G", "M", "M+C"... as nvidia-smi writes the types */
const char *ps_types_name(unsigned types, char *buf, size_t size);

/* What one container holds: the indexes of s->procs whose container `query`
 * names: its full id, then its name, then a unique id prefix, then a pod as
 * "NAMESPACE/POD" (every container of the pod). Returns the count (0: none);
 * -1 with *err when a name or a prefix names several containers. *out is
 * allocated. */
long ps_container_lookup(const struct ps_snapshot *s, const char *query, size_t **out,
                         gctk_error **err);

/* The running container that query names, by the rules of
 * ps_container_lookup, among every process of o->proc (not only those on a
 * GPU): *out its container, *pid the host PID of its first process (the one
 * its own PID namespace numbers 1, else the lowest). Returns 1; 0 when no
 * running container matches; -1 with *err when query names several. */
int ps_find_container(const struct ps_options *o, const char *query, struct ps_container *out,
                      unsigned *pid, gctk_error **err);

/* {"gpus": [...], "processes": [...]} (docs/ps.md); only the processes whose
 * indexes are in only[] when only is not NULL (and then no free device). */
json_t *ps_snapshot_json(const struct gctk_host *h, const struct ps_snapshot *s, const size_t *only,
                         size_t nonly);

#endif
