/* gctk cdi generate|list|validate: CDI specs of this host's GPUs. */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: gctk cdi generate [--output FILE] [--format json|yaml] [--vendor NAME]\n"
               "           [--class NAME] [--device-name-strategy index|uuid|both] [--root DIR]\n"
               "           [--capabilities LIST] [--gctk-path PATH] [--imex-channels]\n"
               "           [--runtime-mounts]\n"
               "       gctk cdi list [--spec-dir DIR]...\n"
               "       gctk cdi validate [--no-host] [--spec-dir DIR]... [--root DIR] [FILE]...\n"
               "\n"
               "generate: a CDI spec with one device per GPU and `all` (stdout, or FILE; the\n"
               "  format follows FILE's extension unless --format says otherwise).\n"
               "  --imex-channels: the spec of the host's IMEX channels instead\n"
               "  (nvidia.com/imex-channel=N, as NVIDIA's `cdi generate --mode imex`).\n"
               "  The spec's hook mounts the driver's files; --runtime-mounts: list them as\n"
               "  the spec's mounts, for the runtime to make, one by one.\n"
               "list: the devices the specs in " CDI_STATIC_DIR " and " CDI_DYNAMIC_DIR " offer.\n"
               "validate: the schema, the cdiVersion, and (unless --no-host) whether every node,\n"
               "  major:minor, host file and hook still exists here and matches the driver.\n");
}

/* The running gctk, for the hooks the spec names. */
static char *self_path(void)
{
    char *self = self_exe();
    return self != NULL ? self : xstrdup("/usr/bin/gctk");
}

static int cmd_generate(int argc, char **argv, struct global_opts *g)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, 'f'},
        {"vendor", required_argument, NULL, 'v'},
        {"class", required_argument, NULL, 'c'},
        {"device-name-strategy", required_argument, NULL, 'n'},
        {"root", required_argument, NULL, 'r'},
        {"capabilities", required_argument, NULL, 'C'},
        {"gctk-path", required_argument, NULL, 'p'},
        {"imex-channels", no_argument, NULL, 'I'},
        {"runtime-mounts", no_argument, NULL, 'M'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    const char *output = NULL, *format = NULL, *caps_arg = "all";
    struct cdi_options o = {.naming = CDI_NAME_INDEX};
    cleanup_free char *self = NULL;
    struct verb_args v = {.name = "cdi generate",
                          .shortopts = "o:",
                          .opts = opts,
                          .usage = usage,
                          .argc = argc,
                          .argv = argv};
    int c;
    while ((c = verb_option(&v)) >= 0) {
        switch (c) {
        case 'o':
            output = optarg;
            break;
        case 'f':
            format = optarg;
            break;
        case 'v':
            o.vendor = optarg;
            break;
        case 'c':
            o.class = optarg;
            break;
        case 'n':
            if (strcmp(optarg, "index") == 0)
                o.naming = CDI_NAME_INDEX;
            else if (strcmp(optarg, "uuid") == 0)
                o.naming = CDI_NAME_UUID;
            else if (strcmp(optarg, "both") == 0)
                o.naming = CDI_NAME_BOTH;
            else
                return report("cdi generate: --device-name-strategy `%s`: use index, uuid or "
                              "both",
                              optarg),
                       2;
            break;
        case 'r':
            g->root = optarg;
            break;
        case 'C':
            caps_arg = optarg;
            break;
        case 'p':
            o.gctk_path = optarg;
            break;
        case 'I':
            o.imex_channels = true;
            break;
        case 'M':
            o.runtime_mounts = true;
            break;
        }
    }
    if (c == VERB_EXIT || verb_operands(&v, 0, 0, NULL) < 0)
        return v.status;
    bool yaml = false;
    if (format != NULL) {
        if (strcmp(format, "yaml") == 0)
            yaml = true;
        else if (strcmp(format, "json") != 0)
            return report("cdi generate: --format `%s`: use json or yaml", format), 2;
    } else if (output != NULL) {
        yaml = str_has_suffix(output, ".yaml") || str_has_suffix(output, ".yml");
    }
    cleanup_error gctk_error *err = NULL;
    if (gctk_caps_parse(caps_arg, &o.caps, &err) < 0)
        return report_error(err), 2;
    if (o.gctk_path == NULL)
        o.gctk_path = self = self_path();
    /* `cuda-compat: false` in the settings: no forward compatibility in the
     * spec's hook either */
    struct gctk_config cfg = {0};
    if (config_load(g->config_path, &cfg, NULL) == 0)
        o.no_cuda_compat = !cfg.cuda_compat;
    config_clear(&cfg);
    /* the settings these were read from, when not the default: the spec's
     * hook reads them too (its log, its discovery cache) */
    cleanup_strv struct strv settings = {0};
    config_settings_env(&settings);
    o.settings_env = &settings;
    /* /proc gives all a spec needs but MIG UUIDs: discovery loads NVML only
     * on a host with MIG devices */
    cleanup_host gctk_host *h = open_host_or_report(g, 0);
    if (h == NULL)
        return 1;
    cleanup_json json_t *spec = NULL;
    cleanup_free char *text = NULL;
    size_t len = 0;
    if (cdi_generate(h, &o, &spec, &err) < 0)
        return report_error(err);
    if (yaml) {
        if (cdi_to_yaml(spec, &text, &len, &err) < 0)
            return report_error(err);
    } else {
        text = cdi_to_json(spec);
        len = strlen(text);
    }
    /* --output goes through the one atomic writer: a planted link or a
     * special file at the name is refused, never written through (without
     * --output, or with -, the spec goes to stdout) */
    const struct write_opts wo = {.mode = 0644, .keep = true};
    if (output == NULL || strcmp(output, "-") == 0)
        fwrite(text, 1, len, stdout);
    else if (write_file(output, text, len, &wo, &err) < 0)
        return report_error(err);
    print_warnings(h);
    return 0;
}

static void default_dirs(struct strv *dirs)
{
    if (dirs->len == 0) {
        strv_push(dirs, xstrdup(CDI_STATIC_DIR));
        strv_push(dirs, xstrdup(CDI_DYNAMIC_DIR));
    }
    strv_push(dirs, NULL); /* NULL-terminated for cdi_load_dirs */
    dirs->len--;
}

static int cmd_cdi_list(int argc, char **argv, struct global_opts *g)
{
    static const struct option opts[] = {
        {"spec-dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    cleanup_strv struct strv dirs = {0};
    struct verb_args v = {
        .name = "cdi list", .opts = opts, .usage = usage, .argc = argc, .argv = argv};
    int c;
    while ((c = verb_option(&v)) >= 0) {
        switch (c) {
        case 'd':
            strv_push(&dirs, xstrdup(optarg));
            break;
        }
    }
    if (c == VERB_EXIT || verb_operands(&v, 0, 0, NULL) < 0)
        return v.status;
    default_dirs(&dirs);
    uid_t owner = 0;
    cleanup_error gctk_error *err = NULL;
    if (config_cdi_spec_owner(g->cfg, &owner, &err) < 0)
        return report_error(err);
    cleanup_strv struct strv skipped = {0}, names = {0};
    cleanup_json json_t *specs = cdi_load_dirs((const char *const *)dirs.items, owner, &skipped);
    cdi_list_devices(specs, &names);
    for (size_t i = 0; i < names.len; i++)
        printf("%s\n", names.items[i]);
    for (size_t i = 0; i < skipped.len; i++)
        report("warning: skipped %s", skipped.items[i]);
    if (names.len == 0)
        report("no CDI device found in the spec directories: run `gctk cdi generate "
               "--output " CDI_STATIC_DIR "/nvidia.yaml`");
    return 0;
}

/* from_dirs: a file of the spec directories, read only when trusted (as
 * gctk-runtime reads them); a file named on the command line is the user's
 * to check, whatever it is. */
static int validate_one(const char *path, bool from_dirs, uid_t owner, unsigned flags,
                        const char *driver, bool *bad)
{
    json_t *spec = NULL;
    cleanup_error gctk_error *err = NULL;
    if ((from_dirs ? cdi_load_trusted(path, owner, &spec, &err) : cdi_load(path, &spec, &err)) <
        0) {
        printf("%s\n", err->msg);
        *bad = true;
        return 0;
    }
    struct strv problems = {0};
    if (cdi_validate(spec, flags, driver, &problems) == 0)
        printf("`%s`: valid\n", path);
    for (size_t i = 0; i < problems.len; i++)
        printf("`%s`: %s\n", path, problems.items[i]);
    *bad = *bad || problems.len > 0;
    strv_clear(&problems);
    json_decref(spec);
    return 0;
}

static int cmd_validate(int argc, char **argv, struct global_opts *g)
{
    static const struct option opts[] = {
        {"no-host", no_argument, NULL, 'n'},
        {"spec-dir", required_argument, NULL, 'd'},
        {"root", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    unsigned flags = CDI_CHECK_HOST;
    cleanup_strv struct strv dirs = {0};
    struct verb_args v = {
        .name = "cdi validate", .opts = opts, .usage = usage, .argc = argc, .argv = argv};
    int c;
    while ((c = verb_option(&v)) >= 0) {
        switch (c) {
        case 'n':
            flags &= ~CDI_CHECK_HOST;
            break;
        case 'd':
            strv_push(&dirs, xstrdup(optarg));
            break;
        case 'r':
            g->root = optarg;
            break;
        }
    }
    int first = c == VERB_EXIT ? -1 : verb_operands(&v, 0, -1, NULL);
    if (first < 0)
        return v.status;
    /* the running driver, to catch specs left from before an upgrade */
    cleanup_host gctk_host *h = NULL;
    const char *driver = NULL;
    if (flags & CDI_CHECK_HOST) {
        cleanup_error gctk_error *err = NULL;
        if (gctk_host_open(g->root, GCTK_HOST_NO_NVML, &h, &err) < 0)
            report("warning: driver versions not checked: %s", err->msg);
        else
            driver = gctk_host_driver_version(h);
    }
    uid_t owner = 0;
    cleanup_error gctk_error *oerr = NULL;
    if (config_cdi_spec_owner(g->cfg, &owner, &oerr) < 0)
        return report_error(oerr);
    bool bad = false;
    cleanup_strv struct strv files = {0};
    for (int i = first; i < argc; i++)
        strv_push(&files, xstrdup(argv[i]));
    bool from_dirs = files.len == 0;
    if (from_dirs) {
        default_dirs(&dirs);
        cleanup_strv struct strv skipped = {0};
        cleanup_json json_t *specs =
            cdi_load_dirs((const char *const *)dirs.items, owner, &skipped);
        size_t k;
        json_t *s;
        json_array_foreach(specs, k, s)
        {
            strv_push(&files, xstrdup(json_string_value(json_object_get(s, "file"))));
        }
        /* invalid and refused files are validated too, to say why (a
         * refused directory is said as such) */
        for (size_t i = 0; i < skipped.len; i++) {
            if (str_has_prefix(skipped.items[i], "the spec directory")) {
                printf("%s\n", skipped.items[i]);
                bad = true;
                continue;
            }
            const char *p = skipped.items[i];
            const char *start = strchr(p, '`'), *end = start ? strchr(start + 1, '`') : NULL;
            if (end != NULL) {
                char *f = xstrndup(start + 1, (size_t)(end - start - 1));
                if (!strv_contains(&files, f))
                    strv_push(&files, f);
                else
                    free(f);
            }
        }
        if (files.len == 0)
            report("no CDI spec in the spec directories");
    }
    for (size_t i = 0; i < files.len; i++)
        validate_one(files.items[i], from_dirs, owner, flags, driver, &bad);
    return bad ? 1 : 0;
}

int cmd_cdi(int argc, char **argv, struct global_opts *g)
{
    static const char *const subcommands[] = {"generate", "list", "validate", NULL};
    static const command_fn run[] = {cmd_generate, cmd_cdi_list, cmd_validate};
    int status = 0, sub = verb_subcommand(argc, argv, "cdi", subcommands, usage, &status);
    return sub < 0 ? status : run[sub](argc - 1, argv + 1, g);
}
