/* gctk: the command line. One file per verb; this file finds the verb, and
 * hands a run under the name nvidia-ctk to nvctk.c. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "version.h"

struct command {
    const char *name;
    command_fn fn;
    const char *summary;
    bool no_config; /* reads neither gctk.conf nor the driver root it names */
};

static const struct command commands[] = {
    {"info", cmd_info, "show the driver, CUDA version and GPUs of the host", false},
    {"list", cmd_list, "list the files and device nodes a container would get", false},
    {"configure", cmd_configure, "give a running container's rootfs its GPUs", false},
    {"sim", cmd_sim, "build a simulated GPU host in a directory", true},
    {"runtime", cmd_runtime, "register gctk-runtime with docker, containerd, CRI-O or podman",
     false},
    {"compose", cmd_compose, "check the GPU requests of a Compose file against this host", false},
    {"compat", cmd_compat, "can this host run a CUDA version or an image's requirements", false},
    {"cdi", cmd_cdi, "generate, list and validate CDI specs of the GPUs", false},
    {"hook", cmd_hook, "the createContainer hooks CDI specs name (run by the runtime)", false},
    {"doctor", cmd_doctor, "check driver, NVML, Docker, hook, cgroups, CDI; print the fixes",
     false},
    {"ps", cmd_ps, "which container holds which GPU: processes, memory, containers", false},
    {"config", cmd_config, "the effective settings and where each comes from", true},
    {"dev-char-links", cmd_dev_char_links, "link the GPU nodes in /dev/char, as systemd needs",
     false},
};

/* Messages quote what gctk read (a CDI hook's container paths and links, a
 * spec's strings): one escaped line each, whatever they hold. */
#define REPORT_MAX (64u << 10)

int report_error(const gctk_error *e)
{
    cleanup_free char *line =
        str_escape_line(e != NULL && e->msg != NULL ? e->msg : "unknown error", REPORT_MAX);
    fprintf(stderr, "gctk: %s\n", line);
    return 1;
}

int report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cleanup_free char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    cleanup_free char *line = str_escape_line(msg, REPORT_MAX);
    fprintf(stderr, "gctk: %s\n", line);
    return 1;
}

gctk_host *open_host_or_report(struct global_opts *g, unsigned flags)
{
    cleanup_error gctk_error *err = NULL;
    gctk_host *h = NULL;
    if (gctk_host_open_cached(g->root, flags, &g->cache, &h, &err) < 0) {
        report_error(err);
        return NULL;
    }
    return h;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: gctk [--root DIR] COMMAND [ARGS]\n"
               "       gctk --help | --version\n\ncommands:\n");
    for (size_t i = 0; i < GCTK_ARRAY_LEN(commands); i++)
        fprintf(f, "  %-15s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n`gctk COMMAND --help` describes one command.\n");
}

int gctk_main(int argc, char **argv)
{
    struct global_opts g = {.root = NULL};
    static const struct option opts[] = {
        {"root", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {0},
    };
    int c;
    /* '+' stops at the first non-option: the verb */
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            g.root = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("gctk %s\n", GCTK_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    const char *verb = argv[optind];
    const struct command *cmd = NULL;
    for (size_t i = 0; i < GCTK_ARRAY_LEN(commands) && cmd == NULL; i++)
        if (strcmp(commands[i].name, verb) == 0)
            cmd = &commands[i];
    if (cmd == NULL) {
        report("unknown command `%s`: run `gctk --help` for the list", verb);
        return 2;
    }
    /* the driver root: --root, else the config file's (GCTK_CONFIG points
     * at a simulated host's gctk.conf), else "/"; a verb that reads no
     * config is not stopped by a broken one, nor is the doctor, which says
     * what is wrong with it */
    struct gctk_config cfg = {0};
    cleanup_error gctk_error *err = NULL;
    if (!cmd->no_config && config_load(g.config_path, &cfg, &err) < 0 && cmd->fn != cmd_doctor) {
        report_error(err);
        return 1;
    }
    if (g.root == NULL)
        g.root = cfg.root;
    g.cache = (struct gctk_host_cache){.dir = cfg.discovery_cache, .config = cfg.digest};
    g.cfg = &cfg;
    int vi = optind;
    int rc = cmd->fn(argc - vi, argv + vi, &g);
    config_clear(&cfg);
    return rc;
}

/* gctk, or nvidia-ctk: the name it is run by (an installed link) */
int main(int argc, char **argv)
{
    const char *name = argc > 0 ? strrchr(argv[0], '/') : NULL;
    name = name != NULL ? name + 1 : argc > 0 ? argv[0] : "gctk";
    if (strcmp(name, "nvidia-ctk") == 0)
        return nvctk_main(argc, argv);
    return gctk_main(argc, argv);
}
