/* gctk compose check: what each service of a Compose file would get on this
 * host from the Compose that will run it, and every GPU request that
 * `docker compose up` would fail on. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const char *const default_files[] = {
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
};

/* `docker compose version` and `docker-compose version` answer at once */
#define COMPOSE_VERSION_TIMEOUT_MS 10000

/* ---- which Compose, which daemon ------------------------------------------------------ */

/* The Compose `command` names, when it answers `version --short`. */
static bool found_compose(const char *const *argv, const char *command, struct compose_version *v)
{
    cleanup_free char *out = NULL;
    if (run_capture(argv, 4096, COMPOSE_VERSION_TIMEOUT_MS, &out, NULL) < 0)
        return false;
    return compose_version_parse(command, out, v) == 0;
}

/* The Compose that runs the file: the CLI plugin (`docker compose`, what
 * Docker documents; Debian 13's /usr/bin/docker-compose links to it), else
 * the standalone docker-compose (1.29 on Debian 12). *other: the second one
 * when both answer with different versions. Returns how many were found. */
static int find_compose(struct compose_version *v, struct compose_version *other)
{
    static const char *const plugin[] = {"docker", "compose", "version", "--short", NULL};
    static const char *const standalone[] = {"docker-compose", "version", "--short", NULL};
    struct compose_version p, s;
    bool has_p = found_compose(plugin, "docker compose", &p);
    bool has_s = found_compose(standalone, "docker-compose", &s);
    if (has_p && has_s && (p.major != s.major || p.minor != s.minor || p.patch != s.patch)) {
        *v = p;
        *other = s;
        return 2;
    }
    if (has_p || has_s) {
        *v = has_p ? p : s;
        return 1;
    }
    return 0;
}

static void push_names(struct strv *out, json_t *obj)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) strv_push(out, xstrdup(k));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The runtimes of the daemon that runs the file: dockerd's own over its API,
 * else daemon.json's (with Docker's built-in ones), else unknown: *why says
 * why it could not check. */
static bool daemon_runtimes(const char *docker_host, const char *daemon_json,
                            struct compose_daemon *d, char **where, char **why)
{
    cleanup_error gctk_error *e = NULL;
    cleanup_json json_t *cfg = NULL;
    bool existed = false;
    bool have_cfg = json_config_load(daemon_json, &cfg, &existed, NULL) == 0 && existed;
    json_t *cfg_rts = have_cfg ? json_object_get(cfg, "runtimes") : NULL;
    cleanup_json json_t *info = NULL;
    d->daemon_json = daemon_json;
    bool ok = false;
    if (doctor_docker_get(docker_host, "/info", &info, &e) == 0) {
        json_t *rts = json_object_get(info, "Runtimes");
        if (json_is_object(rts)) {
            push_names(&d->runtimes, rts);
            if (json_is_object(cfg_rts))
                push_names(&d->configured, cfg_rts);
            *where = xasprintf("dockerd at `%s`", docker_host);
            ok = true;
        } else {
            *why = xasprintf("dockerd at `%s` lists no runtimes", docker_host);
        }
    } else if (have_cfg) {
        /* dockerd's built-in runtimes (the second from Docker 23 on) */
        strv_push(&d->runtimes, xstrdup("runc"));
        strv_push(&d->runtimes, xstrdup("io.containerd.runc.v2"));
        if (json_is_object(cfg_rts))
            push_names(&d->runtimes, cfg_rts);
        *where = xasprintf("`%s`", daemon_json);
        ok = true;
    } else {
        *why = xasprintf("no Docker answers at `%s` (%s) and `%s` does not exist", docker_host,
                         e->msg, daemon_json);
    }
    if (d->runtimes.len > 1)
        qsort(d->runtimes.items, d->runtimes.len, sizeof(char *), cmp_str);
    d->where = *where;
    return ok;
}

/* ---- one service ---------------------------------------------------------------------- */

static void push_all(json_t *array, struct strv *v)
{
    for (size_t i = 0; i < v->len; i++)
        json_array_append_new(array, json_string(v->items[i]));
    strv_clear(v);
}

/* One request resolved against the host: the GPUs (NULL visible: the
 * image's NVIDIA_VISIBLE_DEVICES decides) and capabilities a container
 * gets, or the error dockerd or the hook would stop at. */
static int resolve(gctk_host *h, const char *visible, const char *caps, json_t *out,
                   gctk_error **err)
{
    unsigned mask = GCTK_CAP_DEFAULT;
    if (caps != NULL && gctk_caps_parse(caps, &mask, err) < 0)
        return gctk_wrap(err, "NVIDIA_DRIVER_CAPABILITIES");
    char buf[128];
    json_object_set_new(out, "capabilities", json_string(gctk_caps_format(mask, buf, sizeof(buf))));
    if (visible == NULL) {
        json_object_set_new(out, "gpus", json_null());
        json_object_set_new(out, "image_decides", json_true());
        return 0;
    }
    struct gctk_selection sel = {0};
    if (gctk_select(h, visible, &sel, err) < 0)
        return -1;
    json_t *gpus = json_array();
    size_t n = sel.mode == GCTK_SELECT_ALL    ? gctk_host_gpu_count(h)
               : sel.mode == GCTK_SELECT_LIST ? sel.count
                                              : 0;
    for (size_t i = 0; i < n; i++) {
        size_t idx = sel.mode == GCTK_SELECT_ALL ? i : (size_t)sel.gpus[i];
        const struct gctk_gpu *gpu = gctk_host_gpu(h, idx);
        json_array_append_new(gpus, json_pack("{s:i, s:s}", "index", gpu->index, "uuid",
                                              gpu->uuid != NULL ? gpu->uuid : ""));
    }
    gctk_selection_clear(&sel);
    json_object_set_new(out, "gpus", gpus);
    json_object_set_new(out, "image_decides", json_false());
    return 0;
}

static void add_error(json_t *svc, gctk_error *e)
{
    json_array_append_new(json_object_get(svc, "errors"), json_string(e->msg));
    gctk_error_free(e);
}

struct check {
    gctk_host *h;
    const struct compose_version *compose; /* NULL: not known */
    const struct compose_daemon *daemon;   /* NULL: runtimes not known */
    const char *daemon_unknown;            /* why, when daemon is NULL */
};

static void check_devices(const struct check *c, const struct compose_service *s, json_t *svc)
{
    json_t *requests = json_object_get(svc, "requests");
    size_t host_gpus = gctk_host_gpu_count(c->h);
    for (size_t i = 0; i < s->n_devices; i++) {
        const struct compose_device *d = &s->devices[i];
        gctk_error *err = NULL;
        cleanup_free char *field = compose_device_field(d);
        if (compose_check_device(s, d, c->compose, host_gpus, &err) < 0) {
            add_error(svc, err);
            continue;
        }
        json_t *r = json_pack("{s:s, s:i, s:[], s:[]}", "field", field, "line", (int)d->line,
                              "warnings", "notes");
        struct strv warnings = {0}, notes = {0};
        compose_device_advice(s, d, c->compose, &warnings, &notes);
        push_all(json_object_get(r, "warnings"), &warnings);
        push_all(json_object_get(r, "notes"), &notes);
        long count = 0;
        if (!compose_sends(d, c->compose, &count)) {
            /* no DeviceRequest: dockerd adds no hook, nothing is injected */
            json_object_set_new(r, "gpus", json_array());
            json_object_set_new(r, "image_decides", json_false());
            json_object_set_new(r, "capabilities", json_string(""));
            json_array_append_new(requests, r);
            continue;
        }
        struct device_request sent = d->req;
        sent.count = count;
        cleanup_free char *visible = NULL;
        cleanup_free char *caps = NULL;
        if (device_request_to_env(&sent, &visible, &caps, &err) < 0 ||
            resolve(c->h, visible, caps, r, &err) < 0) {
            gctk_wrap(&err, "service `%s`: %s (line %u)", s->name, field, d->line);
            add_error(svc, err);
            json_decref(r);
            continue;
        }
        json_array_append_new(requests, r);
    }
}

static void check_runtime(const struct check *c, const struct compose_service *s, json_t *svc)
{
    if (s->runtime == NULL)
        return;
    gctk_error *err = NULL;
    json_t *r = NULL;
    if (c->daemon != NULL && compose_check_runtime(s, c->daemon, &err) < 0) {
        add_error(svc, err);
        return;
    }
    if (strcmp(s->runtime, "nvidia") != 0)
        return;
    r = json_pack("{s:s, s:i, s:[], s:[]}", "field", "runtime", "line", (int)s->runtime_line,
                  "warnings", "notes");
    if (resolve(c->h, compose_legacy_visible(s),
                compose_service_env(s, "NVIDIA_DRIVER_CAPABILITIES"), r, &err) < 0) {
        gctk_wrap(&err, "service `%s`: runtime nvidia, NVIDIA_VISIBLE_DEVICES", s->name);
        add_error(svc, err);
        json_decref(r);
        return;
    }
    struct strv warnings = {0};
    compose_runtime_advice(s, &warnings);
    push_all(json_object_get(r, "warnings"), &warnings);
    if (c->daemon == NULL)
        json_array_append_new(json_object_get(r, "notes"),
                              json_sprintf("could not check that the Docker daemon has the "
                                           "`nvidia` runtime: %s",
                                           c->daemon_unknown));
    json_array_append_new(json_object_get(svc, "requests"), r);
}

static json_t *check_service(const struct check *c, const struct compose_service *s)
{
    json_t *svc = json_pack("{s:s, s:i, s:[], s:[]}", "name", s->name, "line", (int)s->line,
                            "errors", "requests");
    check_devices(c, s, svc);
    check_runtime(c, s, svc);
    return svc;
}

/* ---- output --------------------------------------------------------------------------- */

static void print_request(const char *name, const json_t *v, size_t host_gpus)
{
    const json_t *gpus = json_object_get(v, "gpus");
    printf("service `%s` (%s): ", name, json_string_value(json_object_get(v, "field")));
    if (json_is_true(json_object_get(v, "image_decides")))
        printf("the image's NVIDIA_VISIBLE_DEVICES decides: no GPU for an image without it, "
               "all %zu for one that says all (as CUDA images do)",
               host_gpus);
    else if (json_array_size(gpus) == 0)
        printf("no GPU");
    size_t j;
    const json_t *gpu;
    json_array_foreach(gpus, j, gpu)
    {
        printf("%sGPU %d (%s)", j > 0 ? ", " : "",
               (int)json_integer_value(json_object_get(gpu, "index")),
               json_string_value(json_object_get(gpu, "uuid")));
    }
    const char *caps = json_string_value(json_object_get(v, "capabilities"));
    if (caps != NULL && caps[0] != '\0')
        printf("; capabilities %s", caps);
    printf("\n");
    size_t i;
    const json_t *s;
    json_array_foreach(json_object_get(v, "warnings"), i, s)
        printf("  warning: %s\n", json_string_value(s));
    json_array_foreach(json_object_get(v, "notes"), i, s)
        printf("  note: %s\n", json_string_value(s));
}

static void print_service(const json_t *svc, size_t host_gpus)
{
    const char *name = json_string_value(json_object_get(svc, "name"));
    const json_t *requests = json_object_get(svc, "requests");
    const json_t *errors = json_object_get(svc, "errors");
    if (json_array_size(requests) == 0 && json_array_size(errors) == 0) {
        printf("service `%s`: no GPU\n", name);
        return;
    }
    size_t i;
    const json_t *v;
    json_array_foreach(requests, i, v) print_request(name, v, host_gpus);
    json_array_foreach(errors, i, v) fprintf(stderr, "gctk: %s\n", json_string_value(v));
}

static void usage(FILE *f)
{
    fprintf(f, "usage: gctk compose check [--root DIR] [--json] [--compose-version VERSION]\n"
               "           [--docker-host URL] [--daemon-json PATH] [FILE]\n"
               "\n"
               "Checks the GPU requests of every service of a Compose file against this host,\n"
               "as the Compose that will run it sends them: `docker compose` (the CLI plugin),\n"
               "else `docker-compose`, found on this machine, or --compose-version (1.29.2,\n"
               "2.26.1, ...). `runtime:` is checked against the Docker daemon's runtimes\n"
               "(--docker-host, else $DOCKER_HOST, else " DOCTOR_DEFAULT_DOCKER_HOST "; else\n"
               "--daemon-json, default " ENGINE_DOCKER_CONFIG ").\n"
               "FILE defaults to the first of compose.yaml, compose.yml, docker-compose.yaml,\n"
               "docker-compose.yml in the current directory. Exit 0 when every request works\n"
               "(warnings included), 1 on any error.\n");
}

int cmd_compose(int argc, char **argv, struct global_opts *g)
{
    static const char *const subcommands[] = {"check", NULL};
    int status = 0;
    if (verb_subcommand(argc, argv, "compose", subcommands, usage, &status) < 0)
        return status;
    bool as_json = false;
    const char *compose_opt = NULL, *docker_host = NULL, *daemon_json = ENGINE_DOCKER_CONFIG;
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"root", required_argument, NULL, 'r'},
        {"compose-version", required_argument, NULL, 'c'},
        {"docker-host", required_argument, NULL, 'H'},
        {"daemon-json", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    struct verb_args v = {
        .name = "compose check", .opts = opts, .usage = usage, .argc = argc - 1, .argv = argv + 1};
    int c;
    while ((c = verb_option(&v)) >= 0) {
        switch (c) {
        case 'j':
            as_json = true;
            break;
        case 'r':
            g->root = optarg;
            break;
        case 'c':
            compose_opt = optarg;
            break;
        case 'H':
            docker_host = optarg;
            break;
        case 'd':
            daemon_json = optarg;
            break;
        }
    }
    int first = c == VERB_EXIT ? -1 : verb_operands(&v, 0, 1, NULL);
    if (first < 0)
        return v.status;
    const char *file = first < v.argc ? v.argv[first] : NULL;
    struct compose_version compose, other;
    int n_compose = 0;
    if (compose_opt != NULL) {
        if (compose_version_parse("Compose", compose_opt, &compose) < 0)
            return report("invalid --compose-version `%s`: expected a version like 2.26.1",
                          compose_opt);
        n_compose = 1;
    }
    for (size_t i = 0; file == NULL && i < GCTK_ARRAY_LEN(default_files); i++)
        if (access(default_files[i], F_OK) == 0)
            file = default_files[i];
    if (file == NULL)
        return report("no compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml "
                      "here: name the file");

    cleanup_compose struct compose_file *cf = NULL;
    gctk_error *err = NULL;
    if (compose_load(file, &cf, &err) < 0) {
        report_error(err);
        gctk_error_free(err);
        return 1;
    }
    cleanup_host gctk_host *h = open_host_or_report(g, GCTK_HOST_NO_NVML);
    if (h == NULL)
        return 1;
    if (compose_opt == NULL)
        n_compose = find_compose(&compose, &other);

    /* the daemon's runtimes, only when a service names one */
    struct compose_daemon daemon = {0};
    cleanup_free char *where = NULL;
    cleanup_free char *why = NULL;
    bool daemon_known = false;
    for (size_t i = 0; i < cf->n_services && !daemon_known && why == NULL; i++) {
        if (cf->services[i].runtime == NULL)
            continue;
        if (docker_host == NULL)
            docker_host = getenv("DOCKER_HOST");
        if (docker_host == NULL || docker_host[0] == '\0')
            docker_host = DOCTOR_DEFAULT_DOCKER_HOST;
        daemon_known = daemon_runtimes(docker_host, daemon_json, &daemon, &where, &why);
    }
    struct check chk = {
        .h = h,
        .compose = n_compose > 0 ? &compose : NULL,
        .daemon = daemon_known ? &daemon : NULL,
        .daemon_unknown = why,
    };

    cleanup_json json_t *result =
        json_pack("{s:s, s:b, s:n, s:[]}", "file", file, "ok", 1, "compose", "services");
    if (n_compose > 0)
        json_object_set_new(result, "compose",
                            json_pack("{s:s, s:s}", "name", compose.name, "found",
                                      compose_opt != NULL ? "option" : "machine"));
    json_t *services = json_object_get(result, "services");
    bool ok = true;
    for (size_t i = 0; i < cf->n_services; i++) {
        json_t *svc = check_service(&chk, &cf->services[i]);
        if (json_array_size(json_object_get(svc, "errors")) > 0)
            ok = false;
        json_array_append_new(services, svc);
    }
    strv_clear(&daemon.runtimes);
    strv_clear(&daemon.configured);
    json_object_set_new(result, "ok", json_boolean(ok));
    if (as_json) {
        cleanup_free char *s = json_dumps(result, JSON_INDENT(2));
        puts(s);
        return ok ? 0 : 1;
    }
    if (n_compose == 0)
        printf("Compose: none answers here (`docker compose version`, `docker-compose "
               "version`): checked against the Compose spec; --compose-version VERSION names "
               "the one that runs the file\n");
    else if (compose_opt != NULL)
        printf("Compose: %s (--compose-version)\n", compose.name);
    else if (n_compose == 2)
        printf("Compose: %s (found on this machine; so is %s: --compose-version %u.%u.%u checks "
               "for it)\n",
               compose.name, other.name, other.major, other.minor, other.patch);
    else
        printf("Compose: %s (found on this machine)\n", compose.name);
    size_t i;
    json_t *svc;
    json_array_foreach(services, i, svc) print_service(svc, gctk_host_gpu_count(h));
    return ok ? 0 : 1;
}
