/* gctk config: the effective settings (gctk's own file over NVIDIA's
 * config.toml over the defaults, gctk.conf(5)) and where each comes from;
 * `gctk config default` prints the defaults. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: gctk config [--json] [--config PATH]\n"
               "       gctk config default\n"
               "\n"
               "Prints the effective settings of gctk, gctk-hook and gctk-runtime, and where\n"
               "each comes from: gctk's own file (" GCTK_DEFAULT_CONFIG " or $GCTK_CONFIG),\n"
               "which wins key by key, NVIDIA's config.toml (" NVIDIA_CONFIG_FILE ",\n"
               "or $" NVIDIA_CONFIG_PATH_ENV "), or the defaults. `default`: the defaults, as\n"
               "a JSON settings file.\n");
}

/* Prints the effective settings; shared with `nvidia-ctk config`. */
int print_effective_config(const char *path, bool as_json)
{
    cleanup_json json_t *settings = NULL;
    cleanup_error gctk_error *err = NULL;
    if (config_explain(path, &settings, NULL, &err) < 0)
        return report_error(err);
    if (as_json) {
        cleanup_free char *text = json_dumps(settings, JSON_INDENT(2));
        printf("%s\n", text);
        return 0;
    }
    size_t width = 0;
    const char *key;
    json_t *v;
    json_object_foreach(settings, key, v)
    {
        if (strlen(key) > width)
            width = strlen(key);
    }
    json_object_foreach(settings, key, v)
    {
        cleanup_free char *value =
            json_dumps(json_object_get(v, "value"), JSON_ENCODE_ANY | JSON_COMPACT);
        printf("%-*s %s  (%s)\n", (int)width, key, value,
               json_string_value(json_object_get(v, "from")));
    }
    return 0;
}

int cmd_config(int argc, char **argv, struct global_opts *g)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    bool as_json = false;
    const char *path = g->config_path;
    struct verb_args v = {
        .name = "config", .opts = opts, .usage = usage, .argc = argc, .argv = argv};
    int c;
    while ((c = verb_option(&v)) >= 0) {
        switch (c) {
        case 'j':
            as_json = true;
            break;
        case 'c':
            path = optarg;
            break;
        }
    }
    if (c == VERB_EXIT)
        return v.status;
    if (optind < argc && strcmp(argv[optind], "default") == 0 && optind + 1 == argc) {
        cleanup_free char *def = config_default_json();
        fputs(def, stdout);
        return 0;
    }
    if (optind < argc)
        return report("config: unexpected argument `%s`: use `gctk config [--json]` or "
                      "`gctk config default`",
                      argv[optind]),
               2;
    return print_effective_config(path, as_json);
}
