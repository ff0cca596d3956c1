/* gctk list: the exact files and device nodes a container would get. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const char *const kind_names[] = {
    [GCTK_FILE_LIB] = "lib",           [GCTK_FILE_LIB32] = "lib32",   [GCTK_FILE_BIN] = "bin",
    [GCTK_FILE_FIRMWARE] = "firmware", [GCTK_FILE_SOCKET] = "socket", [GCTK_FILE_CONFIG] = "config",
    [GCTK_FILE_DIR] = "dir",           [GCTK_FILE_MODULE] = "module",
};

static void print_plan_json(gctk_host *h, const gctk_plan *p)
{
    json_t *root = json_object();
    char caps[128];
    json_object_set_new(root, "capabilities",
                        json_string(gctk_caps_format(gctk_plan_caps(p), caps, sizeof(caps))));
    json_t *gpus = json_array();
    for (size_t i = 0; i < gctk_plan_gpu_count(p); i++) {
        const struct gctk_gpu *g = gctk_plan_gpu(p, i);
        json_t *o = json_object();
        json_object_set_new(o, "index", json_integer(g->index));
        json_object_set_new(o, "uuid", json_string(g->uuid));
        json_object_set_new(o, "bus_id", json_string(g->bus_id));
        json_array_append_new(gpus, o);
    }
    json_object_set_new(root, "gpus", gpus);
    json_t *migs = json_array();
    for (size_t i = 0; i < gctk_plan_mig_count(p); i++) {
        const struct gctk_mig *m = gctk_plan_mig(p, i);
        json_t *o = json_object();
        json_object_set_new(o, "id", json_sprintf("%d:%d", m->gpu, m->index));
        json_object_set_new(o, "gpu", json_integer(m->gpu));
        json_object_set_new(o, "index", json_integer(m->index));
        json_object_set_new(o, "uuid", m->uuid ? json_string(m->uuid) : json_null());
        json_object_set_new(o, "profile", m->profile ? json_string(m->profile) : json_null());
        json_object_set_new(o, "gi", json_integer(m->gi));
        json_object_set_new(o, "ci", json_integer(m->ci));
        json_array_append_new(migs, o);
    }
    json_object_set_new(root, "mig_devices", migs);
    json_t *procs = json_array();
    for (size_t i = 0; i < gctk_plan_proc_count(p); i++) {
        cleanup_free char *host_path = path_join(gctk_host_root(h), gctk_plan_proc(p, i));
        json_t *o = json_object();
        json_object_set_new(o, "path", json_string(gctk_plan_proc(p, i)));
        json_object_set_new(o, "host_path", json_string(host_path));
        json_array_append_new(procs, o);
    }
    json_object_set_new(root, "proc", procs);
    json_t *devs = json_array();
    for (size_t i = 0; i < gctk_plan_node_count(p); i++) {
        const struct gctk_node *n = gctk_plan_node(p, i);
        cleanup_free char *host_path = path_join(gctk_host_root(h), n->path);
        json_t *o = json_object();
        json_object_set_new(o, "path", json_string(n->path));
        json_object_set_new(o, "host_path", json_string(host_path));
        json_object_set_new(o, "major", json_integer(n->major));
        json_object_set_new(o, "minor", json_integer(n->minor));
        if (n->by_path != NULL)
            json_object_set_new(o, "by_path", json_string(n->by_path));
        json_array_append_new(devs, o);
    }
    json_object_set_new(root, "devices", devs);
    json_t *files = json_array();
    for (size_t i = 0; i < gctk_plan_file_count(p); i++) {
        const struct gctk_file *f = gctk_plan_file(p, i);
        cleanup_free char *host_path = path_join(gctk_host_root(h), f->source);
        json_t *o = json_object();
        json_object_set_new(o, "kind", json_string(kind_names[f->kind]));
        json_object_set_new(o, "path", json_string(f->path));
        json_object_set_new(o, "host_path", json_string(host_path));
        if (f->soname != NULL)
            json_object_set_new(o, "soname", json_string(f->soname));
        if (f->dev != NULL)
            json_object_set_new(o, "dev", json_string(f->dev));
        json_array_append_new(files, o);
    }
    json_object_set_new(root, "files", files);
    json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(root);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: gctk list [--root DIR] [--capabilities LIST] [--device IDS] [--json]\n"
               "                 [--mig-config GPUS] [--mig-monitor GPUS]\n"
               "                 [--imex-channels CHANNELS]\n\n"
               "Lists the device nodes and driver files (host paths) a container asking for\n"
               "these GPUs (default all) and capabilities (default utility,compute) gets.\n"
               "IDS may name MIG devices (0:1, MIG-<uuid>); --mig-config and --mig-monitor\n"
               "add what NVIDIA_MIG_CONFIG_DEVICES / NVIDIA_MIG_MONITOR_DEVICES give a\n"
               "privileged container, --imex-channels what NVIDIA_IMEX_CHANNELS (0,1) gives.\n");
}

int cmd_list(int argc, char **argv, struct global_opts *g)
{
    static const struct option opts[] = {
        {"capabilities", required_argument, NULL, 'c'},
        {"device", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},
        {"mig-config", required_argument, NULL, 'C'},
        {"mig-monitor", required_argument, NULL, 'M'},
        {"imex-channels", required_argument, NULL, 'I'},
        {"root", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    const char *caps_arg = "utility,compute", *devices = "all";
    const char *mig_config = NULL, *mig_monitor = NULL, *imex = NULL;
    bool json = false;
    struct verb_args v = {.name = "list", .opts = opts, .usage = usage, .argc = argc, .argv = argv};
    int c;
    while ((c = verb_option(&v)) >= 0) {
        switch (c) {
        case 'c':
            caps_arg = optarg;
            break;
        case 'd':
            devices = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'C':
            mig_config = optarg;
            break;
        case 'M':
            mig_monitor = optarg;
            break;
        case 'I':
            imex = optarg;
            break;
        case 'r':
            g->root = optarg;
            break;
        }
    }
    if (c == VERB_EXIT || verb_operands(&v, 0, 0, NULL) < 0)
        return v.status;
    cleanup_error gctk_error *err = NULL;
    unsigned caps = 0;
    if (gctk_caps_parse(caps_arg, &caps, &err) < 0)
        return report_error(err), 2;
    /* discovery loads NVML only on a host with MIG devices (their UUIDs);
     * a cached host is checked for the files of these capabilities */
    g->cache.caps = caps;
    gctk_host *h = open_host_or_report(g, 0);
    if (h == NULL)
        return 1;
    struct gctk_selection sel = {0};
    gctk_plan *p = NULL;
    int rc = 0;
    if (gctk_select(h, devices, &sel, &err) < 0 ||
        gctk_select_mig_caps(h, mig_config, mig_monitor, &sel, &err) < 0 ||
        gctk_select_imex(imex, &sel, &err) < 0 || gctk_plan_new(h, &sel, caps, &p, &err) < 0) {
        rc = report_error(err);
    } else if (json) {
        print_plan_json(h, p);
    } else {
        for (size_t i = 0; i < gctk_plan_node_count(p); i++) {
            cleanup_free char *hp = path_join(gctk_host_root(h), gctk_plan_node(p, i)->path);
            printf("%s\n", hp);
        }
        for (size_t i = 0; i < gctk_plan_file_count(p); i++) {
            cleanup_free char *hp = path_join(gctk_host_root(h), gctk_plan_file(p, i)->source);
            printf("%s\n", hp);
        }
        for (size_t i = 0; i < gctk_plan_proc_count(p); i++) {
            cleanup_free char *hp = path_join(gctk_host_root(h), gctk_plan_proc(p, i));
            printf("%s\n", hp);
        }
    }
    if (sel.note != NULL)
        fprintf(stderr, "gctk: note: %s\n", sel.note);
    print_warnings(h);
    gctk_plan_free(p);
    gctk_selection_clear(&sel);
    gctk_host_free(h);
    return rc;
}
