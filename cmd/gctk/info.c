/* gctk info: the driver, the CUDA version and the GPUs, as a table or JSON. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

static json_t *str_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

static json_t *mig_json(const struct gctk_mig *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_sprintf("%d:%d", m->gpu, m->index));
    json_object_set_new(o, "index", json_integer(m->index));
    json_object_set_new(o, "uuid", str_or_null(m->uuid));
    json_object_set_new(o, "profile", str_or_null(m->profile));
    json_object_set_new(o, "gi", json_integer(m->gi));
    json_object_set_new(o, "ci", json_integer(m->ci));
    json_object_set_new(o, "memory_mib",
                        m->memory_mib >= 0 ? json_integer(m->memory_mib) : json_null());
    json_object_set_new(o, "gi_access", str_or_null(m->gi_access));
    json_object_set_new(o, "ci_access", str_or_null(m->ci_access));
    json_object_set_new(o, "gi_cap_minor",
                        m->gi_minor >= 0 ? json_integer(m->gi_minor) : json_null());
    json_object_set_new(o, "ci_cap_minor",
                        m->ci_minor >= 0 ? json_integer(m->ci_minor) : json_null());
    return o;
}

static int print_json(gctk_host *h)
{
    json_t *root = json_object();
    json_object_set_new(root, "driver_version", json_string(gctk_host_driver_version(h)));
    json_object_set_new(root, "cuda_version", str_or_null(gctk_host_cuda_version_nvml(h)));
    json_t *gpus = json_array();
    for (size_t i = 0; i < gctk_host_gpu_count(h); i++) {
        const struct gctk_gpu *g = gctk_host_gpu_nvml(h, i);
        json_t *o = json_object();
        json_object_set_new(o, "index", json_integer(g->index));
        json_object_set_new(o, "minor", json_integer(g->minor));
        json_object_set_new(o, "uuid", str_or_null(g->uuid));
        json_object_set_new(o, "bus_id", str_or_null(g->bus_id));
        json_object_set_new(o, "model", str_or_null(g->model));
        json_object_set_new(o, "brand", str_or_null(g->brand));
        json_object_set_new(o, "arch", str_or_null(g->arch));
        json_object_set_new(o, "memory_mib",
                            g->memory_mib >= 0 ? json_integer(g->memory_mib) : json_null());
        json_object_set_new(o, "mig_mode", json_string(gctk_mig_mode_name(g->mig_mode)));
        json_t *migs = json_array();
        for (size_t k = 0; k < gctk_host_mig_count(h); k++)
            if (gctk_host_mig(h, k)->gpu == g->index)
                json_array_append_new(migs, mig_json(gctk_host_mig(h, k)));
        json_object_set_new(o, "mig_devices", migs);
        json_array_append_new(gpus, o);
    }
    json_object_set_new(root, "gpus", gpus);
    json_object_set_new(root, "discovery_cache", json_string(gctk_host_cache_status(h)));
    json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(root);
    return 0;
}

static void print_table(gctk_host *h)
{
    const char *cuda = gctk_host_cuda_version_nvml(h);
    printf("NVRM version:   %s\n", gctk_host_driver_version(h));
    printf("CUDA version:   %s\n", cuda ? cuda : "unknown");
    for (size_t i = 0; i < gctk_host_gpu_count(h); i++) {
        const struct gctk_gpu *g = gctk_host_gpu_nvml(h, i);
        printf("\nDevice Index:   %d\n", g->index);
        printf("Device Minor:   %d\n", g->minor);
        printf("Model:          %s\n", g->model);
        printf("Brand:          %s\n", g->brand ? g->brand : "unknown");
        printf("GPU UUID:       %s\n", g->uuid);
        printf("Bus Location:   %s\n", g->bus_id);
        printf("Architecture:   %s\n", g->arch ? g->arch : "unknown");
        if (g->memory_mib >= 0)
            printf("Memory:         %ld MiB\n", g->memory_mib);
        else
            printf("Memory:         unknown\n");
        printf("MIG mode:       %s\n", gctk_mig_mode_name(g->mig_mode));
        for (size_t k = 0; k < gctk_host_mig_count(h); k++) {
            const struct gctk_mig *m = gctk_host_mig(h, k);
            if (m->gpu != g->index)
                continue;
            char mem[32] = "";
            if (m->memory_mib >= 0)
                snprintf(mem, sizeof(mem), "  %ld MiB", m->memory_mib);
            printf("MIG device:     %d:%d  %-8s GI %d CI %d  %s%s\n", m->gpu, m->index,
                   m->profile ? m->profile : "?", m->gi, m->ci,
                   m->uuid ? m->uuid : "(UUID: needs NVML)", mem);
        }
    }
    if (gctk_host_gpu_count(h) == 0)
        printf("\nNo GPU found.\n");
    printf("\nDiscovery cache: %s\n", gctk_host_cache_status(h));
}

void print_warnings(const gctk_host *h)
{
    for (size_t i = 0; gctk_host_warning(h, i) != NULL; i++)
        fprintf(stderr, "gctk: warning: %s\n", gctk_host_warning(h, i));
}

static void usage(FILE *f)
{
    fprintf(f, "usage: gctk info [--root DIR] [--json] [--no-nvml]\n\n"
               "Shows the driver version, the newest CUDA version the driver supports and\n"
               "the GPUs (in nvidia-smi's order). --no-nvml reads /proc alone: memory,\n"
               "brand, architecture and CUDA version are then unknown, and so is the MIG\n"
               "mode of a GPU without MIG devices in /proc; MIG devices have no UUID.\n");
}

int cmd_info(int argc, char **argv, struct global_opts *g)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"no-nvml", no_argument, NULL, 'n'},
        {"root", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    bool json = false;
    unsigned flags = 0;
    struct verb_args v = {.name = "info", .opts = opts, .usage = usage, .argc = argc, .argv = argv};
    int c;
    while ((c = verb_option(&v)) >= 0) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'n':
            flags |= GCTK_HOST_NO_NVML;
            break;
        case 'r':
            g->root = optarg;
            break;
        }
    }
    if (c == VERB_EXIT || verb_operands(&v, 0, 0, NULL) < 0)
        return v.status;
    gctk_host *h = open_host_or_report(g, flags);
    if (h == NULL)
        return 1;
    if (json)
        print_json(h);
    else
        print_table(h);
    print_warnings(h);
    gctk_host_free(h);
    return 0;
}
