/* gctk dev-char-links: /dev/char/<major>:<minor> links to the NVIDIA device
 * nodes (include/gctk/devchar.h says why systemd needs them). Also run as
 * `nvidia-ctk system create-dev-char-symlinks`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gctk dev-char-links [--create-all] [--dev-root DIR] [--dev-char-path DIR]\n"
            "           [--dry-run] [--root DIR]\n"
            "\n"
            "Makes " GCTK_DEV_CHAR_PATH "/<major>:<minor> links to the NVIDIA device nodes, which\n"
            "systemd needs to keep a container's GPU access across `systemctl daemon-reload`\n"
            "(else NVML fails in the container with \"Unknown Error\"). --create-all: every\n"
            "node the driver can make, present or not (for a udev rule). --dev-root: where\n"
            "dev/nvidia* are (default: the driver root).\n");
}

int run_dev_char_links(const struct gctk_devchar_options *o)
{
    struct gctk_devchar_result r = {0};
    cleanup_error gctk_error *err = NULL;
    int rc = gctk_devchar_links(o, &r, &err);
    for (size_t i = 0; i < r.len; i++) {
        const struct gctk_devchar_link *l = &r.links[i];
        const char *what = l->action == GCTK_DEVCHAR_PRESENT ? "present"
                           : l->action == GCTK_DEVCHAR_REPLACED
                               ? (o->dry_run ? "would replace" : "replaced")
                           : o->dry_run ? "would create"
                                        : "created";
        printf("%s %s -> %s\n", what, l->link, l->target);
    }
    for (size_t i = 0; i < r.warnings.len; i++)
        report("warning: %s", r.warnings.items[i]);
    if (rc == 0 && r.len == 0)
        report("no NVIDIA device node under `%s`: nothing to link (--create-all links the nodes "
               "the driver can make)",
               o->dev_root);
    gctk_devchar_result_clear(&r);
    if (rc < 0)
        return report_error(err);
    return 0;
}

int cmd_dev_char_links(int argc, char **argv, struct global_opts *g)
{
    static const struct option opts[] = {
        {"create-all", no_argument, NULL, 'a'},
        {"dev-root", required_argument, NULL, 'd'},
        {"dev-char-path", required_argument, NULL, 'p'},
        {"dry-run", no_argument, NULL, 'n'},
        {"root", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    struct gctk_devchar_options o = {.dev_char_path = GCTK_DEV_CHAR_PATH};
    struct verb_args v = {
        .name = "dev-char-links", .opts = opts, .usage = usage, .argc = argc, .argv = argv};
    int c;
    while ((c = verb_option(&v)) >= 0) {
        switch (c) {
        case 'a':
            o.create_all = true;
            break;
        case 'd':
            o.dev_root = optarg;
            break;
        case 'p':
            o.dev_char_path = optarg;
            break;
        case 'n':
            o.dry_run = true;
            break;
        case 'r':
            g->root = optarg;
            break;
        }
    }
    if (c == VERB_EXIT || verb_operands(&v, 0, 0, NULL) < 0)
        return v.status;
    if (o.dev_root == NULL)
        o.dev_root = g->root != NULL ? g->root : "/";
    return run_dev_char_links(&o);
}
