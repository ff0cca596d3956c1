/* gctk runtime configure: registers gctk-runtime with a container engine.
 * The engines, their files and how each is edited are lib/engines/engine.c's
 * table; this file reads the options and says what happened. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "commands.h"

/* The binary beside this gctk, else on PATH, else where packages put it. */
static char *default_runtime_path(const char *binary)
{
    char *p = self_sibling(binary);
    if (p == NULL)
        p = path_search(getenv("PATH"), binary, NULL);
    return p != NULL ? p : xasprintf("/usr/bin/%s", binary);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gctk runtime configure [--runtime=ENGINE] [--config PATH]\n"
            "           [--runtime-name NAME] [--runtime-path PATH] [--set-as-default]\n"
            "           [--swarm-resources [--swarm-resource-name NAME]] [--root DIR]\n"
            "           [--cdi | --cdi.enabled] [--dry-run] [--remove]\n"
            "           [--drop-in-config PATH] [--config-source command|file]\n"
            "           [--executable-path PATH]\n"
            "       gctk runtime unset [--runtime=ENGINE] [--config PATH] [--runtime-name NAME]\n"
            "           [--drop-in-config PATH] [--dry-run]\n"
            "\n"
            "Registers gctk-runtime with a container engine, keeping every other setting:\n"
            "  docker      " ENGINE_DOCKER_CONFIG " (the default engine)\n"
            "  containerd  a drop-in " ENGINE_CONTAINERD_DROPIN " with the CRI plugin's\n"
            "              settings and the runtime beside runc; the main file (--config,\n"
            "              " ENGINE_CONTAINERD_CONFIG ") gets only the import of it\n"
            "  crio        a drop-in " ENGINE_CRIO_DROPIN "\n"
            "  podman      gctk-hook in " ENGINE_PODMAN_HOOK "\n"
            "              (the alternative to CDI: `gctk cdi generate`)\n"
            "containerd's settings are read with `containerd config dump` (or from its\n"
            "files alone: --config-source=file); the drop-in turns its CRI's CDI on where\n"
            "it has it (1.7 and later). --cdi (nvidia-ctk's --cdi.enabled) writes\n"
            "\"features\": {\"cdi\": true} to daemon.json: Docker 25 and later then run\n"
            "`docker run --device nvidia.com/gpu=0` with the specs of `gctk cdi generate`.\n"
            "`unset` is `configure --remove`, which restores what was there.\n");
}

int cmd_runtime(int argc, char **argv, struct global_opts *g)
{
    static const char *const subcommands[] = {"configure", "unset", NULL};
    int status = 0, sub = verb_subcommand(argc, argv, "runtime", subcommands, usage, &status);
    if (sub < 0)
        return status;
    unsigned flags = sub == 1 ? CONFIG_REMOVE : 0;

    const char *engine_name = "docker", *config = NULL, *path_opt = NULL;
    struct runtime_entry rt = {.name = "nvidia"};
    bool swarm = false;
    const char *swarm_name = "NVIDIA-GPU";
    static const struct option opts[] = {
        {"runtime", required_argument, NULL, 'R'},
        {"config", required_argument, NULL, 'c'},
        {"runtime-name", required_argument, NULL, 'n'},
        {"runtime-path", required_argument, NULL, 'p'},
        {"set-as-default", no_argument, NULL, 'd'},
        /* nvidia-ctk's names of the same */
        {"nvidia-runtime-name", required_argument, NULL, 'n'},
        {"nvidia-runtime-path", required_argument, NULL, 'p'},
        {"nvidia-set-as-default", no_argument, NULL, 'd'},
        {"drop-in-config", required_argument, NULL, 'I'},
        {"config-source", required_argument, NULL, 'O'},
        {"executable-path", required_argument, NULL, 'E'},
        {"cdi", no_argument, NULL, 'C'},
        /* nvidia-ctk's spelling, and its alias */
        {"cdi.enabled", no_argument, NULL, 'C'},
        {"cdi.enable", no_argument, NULL, 'C'},
        {"dry-run", no_argument, NULL, 'D'},
        {"remove", no_argument, NULL, 'x'},
        {"swarm-resources", no_argument, NULL, 'S'},
        {"swarm-resource-name", required_argument, NULL, 'N'},
        {"root", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    cleanup_free char *name = xasprintf("runtime %s", argv[1]);
    struct verb_args v = {
        .name = name, .opts = opts, .usage = usage, .argc = argc - 1, .argv = argv + 1};
    int c;
    while ((c = verb_option(&v)) >= 0) {
        switch (c) {
        case 'R':
            engine_name = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 'n':
            rt.name = optarg;
            break;
        case 'p':
            path_opt = optarg;
            break;
        case 'd':
            rt.set_default = true;
            break;
        case 'C':
            rt.cdi = true;
            break;
        case 'D':
            flags |= CONFIG_DRY_RUN;
            break;
        case 'I':
            rt.dropin = optarg;
            break;
        case 'O':
            if (engine_config_source_parse(optarg, &rt.source) < 0)
                return report("--config-source=%s: use command or file", optarg);
            break;
        case 'E':
            rt.executable = optarg;
            break;
        case 'x':
            flags |= CONFIG_REMOVE;
            break;
        case 'S':
            swarm = true;
            break;
        case 'N':
            swarm_name = optarg;
            break;
        case 'r':
            g->root = optarg;
            break;
        }
    }
    if (c == VERB_EXIT || verb_operands(&v, 0, 0, NULL) < 0)
        return v.status;
    const struct engine *e = engine_find(engine_name);
    if (e == NULL)
        return report("unknown runtime `%s`: gctk can configure %s", engine_name, engine_names());
    if (rt.name[0] == '\0')
        return report("--runtime-name must not be empty");
    bool cri = strcmp(e->name, "containerd") == 0 || strcmp(e->name, "crio") == 0;
    /* what nvidia-ctk ignores with a warning is ignored so here too */
    if (rt.cdi && strcmp(e->name, "crio") == 0) {
        fprintf(stderr, "gctk: ignoring --cdi for crio: CRI-O applies CDI by itself\n");
        rt.cdi = false;
    }
    if (rt.cdi && strcmp(e->name, "podman") == 0)
        return report("--cdi is for docker and containerd: podman reads CDI specs by itself");
    if (!cri && (rt.executable != NULL || rt.source != CONFIG_SOURCE_AUTO)) {
        fprintf(stderr, "gctk: ignoring --config-source and --executable-path for %s\n", e->name);
        rt.executable = NULL;
        rt.source = CONFIG_SOURCE_AUTO;
    }
    if (!cri && rt.dropin != NULL)
        return report("--drop-in-config is for containerd and crio: %s has no drop-ins", e->name);
    if ((flags & CONFIG_REMOVE) && (rt.set_default || rt.cdi || path_opt != NULL))
        return report("--remove takes no --set-as-default, --cdi or --runtime-path");
    if (config == NULL)
        config = e->config_path;
    cleanup_free char *runtime_path =
        path_opt != NULL ? xstrdup(path_opt) : default_runtime_path(e->binary);
    rt.path = runtime_path;
    /* Swarm schedules GPUs as named generic resources: one per GPU, by UUID */
    struct strv ids = {0};
    if (swarm && !(flags & CONFIG_REMOVE)) {
        gctk_host *h = open_host_or_report(g, GCTK_HOST_NO_NVML);
        if (h == NULL)
            return 1;
        for (size_t i = 0; i < gctk_host_gpu_count(h); i++)
            strv_push(&ids, xstrdup(gctk_host_gpu(h, i)->uuid));
        gctk_host_free(h);
        rt.swarm_name = swarm_name;
        /* a Swarm task cannot ask for a runtime: the default one must add
         * the hook for the GPUs Swarm assigns (DOCKER_RESOURCE_<NAME>) */
        rt.set_default = true;
        rt.swarm_ids = (const char *const *)ids.items;
        rt.n_swarm_ids = ids.len;
    }

    gctk_error *err = NULL;
    cleanup_free char *text = NULL;
    bool changed = false;
    const char *dropin = rt.dropin != NULL                    ? rt.dropin
                         : strcmp(e->name, "containerd") == 0 ? ENGINE_CONTAINERD_DROPIN
                                                              : ENGINE_CRIO_DROPIN;
    bool imported = strcmp(e->name, "containerd") == 0 && containerd_main_imports(config, dropin);
    int wrote = e->configure(config, &rt, flags, &changed, &text, &err);
    strv_clear(&ids);
    if (wrote < 0) {
        report_error(err);
        gctk_error_free(err);
        return 1;
    }
    bool removing = flags & CONFIG_REMOVE;
    const char *shown = cri ? dropin : config;
    if (flags & CONFIG_DRY_RUN) {
        fputs(text, stdout);
        fprintf(stderr, "gctk: dry run: `%s` %s\n", shown,
                changed ? "would change as shown; nothing written" : "is already configured");
        if (strcmp(e->name, "containerd") == 0 && !removing && !imported)
            fprintf(stderr, "gctk: dry run: `%s` would import it (a line marked as gctk's)\n",
                    config);
        return 0;
    }
    if (!changed) {
        printf("`%s` is already configured%s: nothing changed\n", shown,
               removing ? " without the runtime" : "");
        return 0;
    }
    if (removing)
        printf("removed the `%s` runtime (`%s`)\n", rt.name, shown);
    else if (strcmp(e->name, "podman") == 0)
        printf("registered the hook `%s` in `%s`\n", rt.path, config);
    else
        printf("configured the `%s` runtime (%s) in `%s`\n", rt.name, rt.path, shown);
    if (strcmp(e->name, "containerd") == 0) {
        bool now = containerd_main_imports(config, dropin);
        if (!removing && !imported && now)
            printf("`%s` now imports it (a line marked as gctk's)\n", config);
        else if (removing && imported && !now)
            printf("`%s` imports it no more, as before\n", config);
    }
    if (swarm && !removing) {
        /* the hook reads Swarm's assignment only under the configured name */
        const char *set = g->cfg != NULL ? g->cfg->swarm_resource : NULL;
        if (set == NULL || strcasecmp(set, swarm_name) != 0)
            printf("set \"swarm-resource\": \"%s\" in `%s` so that the hook reads the GPUs "
                   "Swarm assigns (DOCKER_RESOURCE_%s)\n",
                   swarm_name,
                   g->cfg != NULL && g->cfg->path != NULL ? g->cfg->path : GCTK_DEFAULT_CONFIG,
                   swarm_name);
    }
    if (e->restart != NULL)
        printf("restart %s to apply it: %s\n", e->name, e->restart);
    return 0;
}
