/* gctk doctor: walks the chain a GPU container needs (kernel module, user
 * space libraries, device nodes, NVML, GPUs, Docker, daemon.json, the hook on
 * dockerd's PATH, cgroups, CDI specs, gctk's config, optionally a CUDA
 * version) and says, per link, what it found and the command that fixes it.
 *
 * Every host-facing input is an option, so a simulated host (and a fake or
 * private dockerd) can be checked as deterministically as the real one. The
 * library only collects results; gctk doctor prints them. */
#ifndef GCTK_DOCTOR_H
#define GCTK_DOCTOR_H

#include <jansson.h>
#include <sys/types.h>

#include "util.h"

#define DOCTOR_HOOK_NAME "nvidia-container-runtime-hook"
#define DOCTOR_RUNTIME_NAME "nvidia"
#define DOCTOR_DEFAULT_DOCKER_HOST "unix:///var/run/docker.sock"
/* systemd's default PATH for services: what dockerd has when started by
 * docker.service and its environment cannot be read */
#define DOCTOR_SYSTEMD_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DOCTOR_SLOW_NVML_MS 500

enum doctor_status {
    DOCTOR_OK,
    DOCTOR_WARNING,
    DOCTOR_ERROR,
    DOCTOR_SKIPPED, /* could not be checked because an earlier link is broken */
};

struct doctor_result {
    char *check; /* stable id: "driver", "libraries", "device nodes", "nvml", ... */
    enum doctor_status status;
    char *message; /* what was found, one line, lower case */
    char *fix;     /* the command or edit that fixes it; NULL when nothing to fix */
};

struct doctor_report {
    struct doctor_result *items;
    size_t len, cap;
};

struct doctor_options {
    const char *root;            /* driver root: "/" (a `gctk sim create` dir in tests) */
    const char *docker_host;     /* "unix:///path.sock"; NULL: $DOCKER_HOST, else the default */
    const char *daemon_json;     /* NULL: /etc/docker/daemon.json */
    const char *const *cdi_dirs; /* NULL-terminated; NULL: /etc/cdi and /var/run/cdi */
    const char *config_path;     /* gctk's config; NULL: $GCTK_CONFIG, else the default */
    const char *cuda;            /* "12.4": can this host run it; NULL: not asked */
    const char *image_env;       /* an image's KEY=VALUE lines; NULL: not asked */
    const char *path_env;        /* where to look for dockerd, podman, crun, runc; NULL: $PATH */
    pid_t dockerd_pid;           /* 0: from daemon.json's pidfile or a /proc scan */
    int cgroup_version;          /* 0: detected from /sys/fs/cgroup; else 1 or 2 */
    unsigned slow_nvml_ms;       /* NVML init slower than this, persistence off: warning */
    const char *hook_source;     /* what fixes link as the hook; NULL: gctk-hook beside us */
    const char *image;           /* --image: its driver files and requirements; NULL */
    const char *container;       /* --container: its GPUs, device access and libraries; NULL */
    const char *runc_root;       /* runc's state dir, to name plain runc containers; NULL */
};

void doctor_options_init(struct doctor_options *o);

/* Runs every check and appends the results to out. Fails (out then holds
 * what was appended so far) only for bad options: a docker host that is not
 * unix://, a malformed --cuda, an unreadable or malformed --image-env, a
 * malformed --image, a --container that names no container. */
int doctor_run(const struct doctor_options *o, struct doctor_report *out, gctk_error **err);

void doctor_report_clear(struct doctor_report *r);
/* The first result of a check, or NULL. */
const struct doctor_result *doctor_report_find(const struct doctor_report *r, const char *check);
/* true when some result is DOCTOR_ERROR. */
bool doctor_report_failed(const struct doctor_report *r);
/* "ok", "warning", "error", "skipped" */
const char *doctor_status_name(enum doctor_status s);
/* [{"check": ..., "status": ..., "message": ..., "fix": ... or null}, ...] */
json_t *doctor_report_json(const struct doctor_report *r);

/* ---- parts exposed for the unit tests ------------------------------------- */

/* Sends GET path over the UNIX socket of a docker host ("unix:///x.sock"),
 * HTTP/1.0, and parses the JSON body of a 200 answer. */
int doctor_docker_get(const char *docker_host, const char *path, json_t **out, gctk_error **err);
/* The dockerd serving docker_host: the pid in pidfile (when not NULL and it
 * names a live dockerd that serves that socket or names none), else the
 * dockerd in /proc whose -H/--host names the socket, else the first dockerd
 * with no -H (or only fd://, systemd's socket) when the socket is the default
 * one. 0 when none. */
pid_t doctor_find_dockerd(const char *docker_host, const char *pidfile);

#endif
