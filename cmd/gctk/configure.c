/* gctk configure: inject GPUs into a running container's rootfs (what the
 * hook does, with the request given on the command line). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gctk configure --pid PID [--device IDS] [--capabilities LIST]\n"
            "                      [--require EXPR]... [--no-cgroups] [--ldconfig internal|none]\n"
            "                      [--root DIR] ROOTFS\n\n"
            "Enters the mount namespace of PID and gives the rootfs ROOTFS (an absolute path\n"
            "in that namespace) the GPUs IDS (default all) with the driver files of the\n"
            "capabilities LIST (default utility,compute), after checking each requirement.\n");
}

int cmd_configure(int argc, char **argv, struct global_opts *g)
{
    static const struct option opts[] = {
        {"pid", required_argument, NULL, 'p'},
        {"device", required_argument, NULL, 'd'},
        {"capabilities", required_argument, NULL, 'c'},
        {"require", required_argument, NULL, 'q'},
        {"no-cgroups", no_argument, NULL, 'n'},
        {"ldconfig", required_argument, NULL, 'l'},
        {"root", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    long pid = 0;
    const char *devices = "all", *caps_arg = "utility,compute";
    cleanup_strv struct strv requires = {0}, names = {0};
    struct inject_opts o = {.ldconfig = LDCONFIG_INTERNAL, .cuda_compat = true};
    cleanup_error gctk_error *err = NULL;
    struct verb_args v = {
        .name = "configure", .opts = opts, .usage = usage, .argc = argc, .argv = argv};
    int c;
    while ((c = verb_option(&v)) >= 0) {
        switch (c) {
        case 'p': {
            char *end = NULL;
            pid = strtol(optarg, &end, 10);
            if (*end != '\0' || pid <= 0) {
                report("configure: `--pid %s` is not a process id", optarg);
                return 2;
            }
            break;
        }
        case 'd':
            devices = optarg;
            break;
        case 'c':
            caps_arg = optarg;
            break;
        case 'q':
            strv_push(&names, xstrdup("--require"));
            strv_push(&requires, xstrdup(optarg));
            break;
        case 'n':
            o.no_cgroups = true;
            break;
        case 'l':
            if (strcmp(optarg, "internal") == 0)
                o.ldconfig = LDCONFIG_INTERNAL;
            else if (strcmp(optarg, "none") == 0)
                o.ldconfig = LDCONFIG_NONE;
            else {
                report("configure: `--ldconfig %s`: use internal or none", optarg);
                return 2;
            }
            break;
        case 'r':
            g->root = optarg;
            break;
        }
    }
    int first = c == VERB_EXIT ? -1 : verb_operands(&v, 1, 1, "ROOTFS");
    if (first < 0)
        return v.status;
    if (pid == 0)
        return report("configure: missing --pid PID: the container's first process"), 2;
    o.pid = (pid_t)pid;
    o.rootfs = argv[first];
    unsigned caps = 0;
    if (gctk_caps_parse(caps_arg, &caps, &err) < 0) {
        report_error(err);
        return 2;
    }
    cleanup_host gctk_host *h = open_host_or_report(g, 0);
    if (h == NULL)
        return 1;
    cleanup_selection struct gctk_selection sel = {0};
    cleanup_plan gctk_plan *p = NULL;
    cleanup_inject_report struct inject_report rep = {0};
    if (gctk_select(h, devices, &sel, &err) < 0 || gctk_plan_new(h, &sel, caps, &p, &err) < 0 ||
        hook_check_requirements(h, p, &names, &requires, &err) < 0 ||
        inject(h, p, &o, &rep, &err) < 0)
        return report_error(err);
    return 0;
}
