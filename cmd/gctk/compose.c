/* gctk compose check: what each service of a Compose file would get on this
 * host, and every GPU request that `docker compose up` would fail on. */
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

/* One request resolved against the host: the GPUs and capabilities a
 * container gets, or the error dockerd or the hook would stop at. */
static int resolve(gctk_host *h, const char *visible, const char *caps, json_t *out,
                   gctk_error **err)
{
    unsigned mask = GCTK_CAP_DEFAULT;
    if (caps != NULL && gctk_caps_parse(caps, &mask, err) < 0)
        return gctk_wrap(err, "NVIDIA_DRIVER_CAPABILITIES");
    struct gctk_selection sel = {0};
    if (gctk_select(h, visible != NULL ? visible : "void", &sel, err) < 0)
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
    char buf[128];
    json_object_set_new(out, "gpus", gpus);
    json_object_set_new(out, "capabilities", json_string(gctk_caps_format(mask, buf, sizeof(buf))));
    return 0;
}

static void add_error(json_t *svc, gctk_error *e)
{
    json_array_append_new(json_object_get(svc, "errors"), json_string(e->msg));
    gctk_error_free(e);
}

static json_t *check_service(gctk_host *h, const struct compose_service *s)
{
    json_t *svc = json_pack("{s:s, s:i, s:[], s:[]}", "name", s->name, "line", (int)s->line,
                            "errors", "requests");
    json_t *requests = json_object_get(svc, "requests");
    size_t host_gpus = gctk_host_gpu_count(h);
    for (size_t i = 0; i < s->n_devices; i++) {
        const struct compose_device *d = &s->devices[i];
        gctk_error *err = NULL;
        cleanup_free char *field = compose_device_field(d);
        cleanup_free char *visible = NULL;
        cleanup_free char *caps = NULL;
        if (compose_check_device(s, d, host_gpus, &err) < 0 ||
            device_request_to_env(&d->req, &visible, &caps, &err) < 0) {
            add_error(svc, err);
            continue;
        }
        json_t *r = json_pack("{s:s, s:i}", "field", field, "line", (int)d->line);
        if (resolve(h, visible, caps, r, &err) < 0) {
            gctk_wrap(&err, "service `%s`: %s (line %u)", s->name, field, d->line);
            add_error(svc, err);
            json_decref(r);
            continue;
        }
        /* Compose 1.29 (Debian 12's docker-compose) computes the spec's "all"
         * for this case but sends Count 0, so dockerd sets no
         * NVIDIA_VISIBLE_DEVICES: the check would pass and the container see
         * whatever the image says (nothing, for a non-CUDA image) */
        if (d->source == COMPOSE_DEPLOY && !d->req.has_count && d->req.ids.len == 0)
            json_object_set_new(
                r, "note",
                json_string("docker-compose 1.29 sends count 0 here, not all: the container "
                            "then gets the GPUs of the image's NVIDIA_VISIBLE_DEVICES (none "
                            "when the image sets none); write `count: all` for every GPU with "
                            "any Compose"));
        json_array_append_new(requests, r);
    }
    if (s->runtime != NULL && strcmp(s->runtime, "nvidia") == 0) {
        gctk_error *err = NULL;
        json_t *r = json_pack("{s:s, s:i}", "field", "runtime", "line", (int)s->line);
        if (resolve(h, compose_legacy_visible(s),
                    compose_service_env(s, "NVIDIA_DRIVER_CAPABILITIES"), r, &err) < 0) {
            gctk_wrap(&err, "service `%s`: runtime nvidia, NVIDIA_VISIBLE_DEVICES", s->name);
            add_error(svc, err);
            json_decref(r);
        } else {
            json_array_append_new(requests, r);
        }
    }
    return svc;
}

static void print_service(const json_t *svc)
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
    json_array_foreach(requests, i, v)
    {
        const json_t *gpus = json_object_get(v, "gpus");
        printf("service `%s` (%s): ", name, json_string_value(json_object_get(v, "field")));
        if (json_array_size(gpus) == 0)
            printf("no GPU");
        size_t j;
        const json_t *gpu;
        json_array_foreach(gpus, j, gpu)
        {
            printf("%sGPU %d (%s)", j > 0 ? ", " : "",
                   (int)json_integer_value(json_object_get(gpu, "index")),
                   json_string_value(json_object_get(gpu, "uuid")));
        }
        printf("; capabilities %s\n", json_string_value(json_object_get(v, "capabilities")));
        const char *note = json_string_value(json_object_get(v, "note"));
        if (note != NULL)
            printf("  note: %s\n", note);
    }
    json_array_foreach(errors, i, v) fprintf(stderr, "gctk: %s\n", json_string_value(v));
}

static void usage(FILE *f)
{
    fprintf(f, "usage: gctk compose check [--root DIR] [--json] [FILE]\n"
               "\n"
               "Checks the GPU requests of every service of a Compose file against this host.\n"
               "FILE defaults to the first of compose.yaml, compose.yml, docker-compose.yaml,\n"
               "docker-compose.yml in the current directory.\n");
}

int cmd_compose(int argc, char **argv, struct global_opts *g)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "check") != 0)
        return report("unknown `compose` command `%s`: use `check`", argv[1]);
    bool as_json = false;
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"root", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    int c;
    optind = 0;
    while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            as_json = true;
            break;
        case 'r':
            g->root = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    const char *file = NULL;
    if (optind < argc - 1)
        file = argv[optind + 1];
    if (optind + 1 < argc - 1)
        return report("unexpected argument `%s`", argv[optind + 2]);
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

    cleanup_json json_t *result = json_pack("{s:s, s:b, s:[]}", "file", file, "ok", 1, "services");
    json_t *services = json_object_get(result, "services");
    bool ok = true;
    for (size_t i = 0; i < cf->n_services; i++) {
        json_t *svc = check_service(h, &cf->services[i]);
        if (json_array_size(json_object_get(svc, "errors")) > 0)
            ok = false;
        json_array_append_new(services, svc);
    }
    json_object_set_new(result, "ok", json_boolean(ok));
    if (as_json) {
        cleanup_free char *s = json_dumps(result, JSON_INDENT(2));
        puts(s);
    } else {
        size_t i;
        json_t *svc;
        json_array_foreach(services, i, svc) print_service(svc);
    }
    return ok ? 0 : 1;
}
