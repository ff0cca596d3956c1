/* gctk configure: inject GPUs into a running container's rootfs (what the
 * hook does, with the request given on the command line). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "hook.h"
#include "inject.h"
#include "util.h"

static int usage(FILE *f, int rc)
{
    fprintf(f,
            "usage: gctk configure --pid PID [--device IDS] [--capabilities LIST]\n"
            "                      [--require EXPR]... [--no-cgroups] [--ldconfig internal|none]\n"
            "                      [--root DIR] ROOTFS\n\n"
            "Enters the mount namespace of PID and gives the rootfs ROOTFS (an absolute path\n"
            "in that namespace) the GPUs IDS (default all) with the driver files of the\n"
            "capabilities LIST (default utility,compute), after checking each requirement.\n");
    return rc;
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
    struct strv requires = {0};
    struct inject_opts o = {.ldconfig = LDCONFIG_INTERNAL, .cuda_compat = true};
    cleanup_error gctk_error *err = NULL;
    int c, rc = 2;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': {
            char *end = NULL;
            pid = strtol(optarg, &end, 10);
            if (*end != '\0' || pid <= 0) {
                report("configure: `--pid %s` is not a process id", optarg);
                goto out;
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
                goto out;
            }
            break;
        case 'r':
            g->root = optarg;
            break;
        case 'h':
            rc = usage(stdout, 0);
            goto out;
        default:
            goto out;
        }
    }
    if (pid == 0 || optind != argc - 1) {
        rc = usage(stderr, 2);
        goto out;
    }
    o.pid = (pid_t)pid;
    o.rootfs = argv[optind];
    unsigned caps = 0;
    if (gctk_caps_parse(caps_arg, &caps, &err) < 0) {
        report_error(err);
        goto out;
    }
    rc = 1;
    gctk_host *h = open_host_or_report(g, 0);
    if (h == NULL)
        goto out;
    struct gctk_selection sel = {0};
    gctk_plan *p = NULL;
    struct inject_report rep = {0};
    if (gctk_select(h, devices, &sel, &err) < 0 || gctk_plan_new(h, &sel, caps, &p, &err) < 0 ||
        hook_check_requirements(h, p, &requires, &err) < 0 || inject(h, p, &o, &rep, &err) < 0)
        report_error(err);
    else
        rc = 0;
    inject_report_clear(&rep);
    gctk_plan_free(p);
    gctk_selection_clear(&sel);
    gctk_host_free(h);
out:
    strv_clear(&requires);
    return rc;
}
