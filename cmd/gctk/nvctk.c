/* nvidia-ctk: gctk under the name of NVIDIA's CLI (an installed link to
 * gctk). nvctk-flags.c reads NVIDIA's command line; this file runs gctk's
 * own command for it, so that `nvidia-ctk runtime configure --runtime=docker`
 * does exactly what `gctk runtime configure --runtime=docker` does. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "nvctk.h"
#include "version.h"

static const struct {
    const char *name, *text;
} helps[] = {
    {"",
     "usage: nvidia-ctk [--config FILE] [--quiet] [--debug] COMMAND [FLAGS]\n"
     "       nvidia-ctk --version\n"
     "\n"
     "gctk under the name of NVIDIA's Container Toolkit CLI: NVIDIA's commands and flags,\n"
     "run by gctk's own commands (docs/nvidia-compat.md lists each).\n"
     "\n"
     "commands:\n"
     "  runtime configure                  register the nvidia runtime (gctk runtime configure)\n"
     "  cdi generate                       a CDI spec of the GPUs (gctk cdi generate)\n"
     "  cdi list                           the CDI devices of the spec dirs (gctk cdi list)\n"
     "  system create-dev-char-symlinks    /dev/char links (gctk dev-char-links)\n"
     "  config                             the effective settings; --set edits config.toml\n"
     "  config default                     gctk's defaults as NVIDIA's config.toml\n"
     "  hook update-ldcache|create-symlinks  hooks of specs NVIDIA's toolkit wrote\n"
     "  info                               the version\n"
     "\n"
     "global flags:\n"
     "  --config FILE      NVIDIA's config.toml ($NVIDIA_CTK_CONFIG)\n"
     "  --quiet            print errors only\n"
     "  --debug, -d        accepted: gctk says what it does anyway\n"
     "  --help, -h\n"
     "  --version, -v\n"},
    {"runtime configure",
     "usage: nvidia-ctk runtime configure [FLAGS]\n"
     "\n"
     "Registers gctk-runtime as the nvidia runtime: gctk runtime configure.\n"
     "\n"
     "flags:\n"
     "  --runtime ENGINE                   docker (default), containerd or crio\n"
     "  --config FILE                      docker: daemon.json; containerd, crio: their main\n"
     "                                     config (containerd's gets only the drop-in's import)\n"
     "  --drop-in-config FILE              containerd, crio: the drop-in gctk writes\n"
     "  --nvidia-runtime-name NAME         the runtime's name (nvidia)\n"
     "  --nvidia-runtime-path, --runtime-path PATH  the runtime (gctk-runtime)\n"
     "  --nvidia-set-as-default, --set-as-default   make it the default runtime\n"
     "  --cdi.enabled, --cdi.enable, --enable-cdi   turn CDI on (gctk runtime configure --cdi)\n"
     "  --dry-run                          print the result, write nothing\n"
     "  --config-mode config-file|oci-hook oci-hook: a hooks.d file (gctk runtime configure\n"
     "                                     --runtime=podman)\n"
     "  --oci-hook-path FILE               the hooks.d file (oci-hook; default: printed)\n"
     "  --nvidia-runtime-hook-path PATH    the hook it names (oci-hook)\n"
     "  --config-source command|file       containerd, crio: read the engine's settings\n"
     "                                     from its binary (`containerd config dump`) or files\n"
     "  --executable-path PATH             the engine's binary for --config-source=command\n"},
    {"cdi generate",
     "usage: nvidia-ctk cdi generate [FLAGS]\n"
     "\n"
     "A CDI spec of the GPUs: gctk cdi generate, named by index and UUID unless said.\n"
     "\n"
     "flags:\n"
     "  --output FILE                      the spec file (default: stdout)\n"
     "  --format json|yaml                 default: the file's extension, else yaml\n"
     "  --device-name-strategy index|uuid  repeatable (default: both)\n"
     "  --driver-root DIR                  the driver root (default: gctk's settings)\n"
     "  --dev-root DIR                     the same as the driver root\n"
     "  --mode, --discovery-mode auto|nvml\n"
     "  --vendor, --cdi-vendor NAME        nvidia.com\n"
     "  --class, --cdi-class NAME          gpu\n"
     "  --nvidia-cdi-hook-path, --nvidia-ctk-path PATH  the program the spec's hooks run\n"
     "refused: --mode csv|wsl|management|gds|mofed|imex|gdrcopy|nvswitch,\n"
     "  --device-name-strategy type-index, --ldconfig-path, --config-search-path,\n"
     "  --library-search-path, --csv.file, --csv.ignore-pattern, --disable-hook,\n"
     "  --enable-hook, --feature-flag\n"},
    {"cdi list", "usage: nvidia-ctk cdi list [--spec-dir DIR]...\n"
                 "\n"
                 "The CDI devices of the spec directories: gctk cdi list.\n"
                 "\n"
                 "flags:\n"
                 "  --spec-dir DIR                     repeatable (default: /etc/cdi, "
                 "/var/run/cdi)\n"},
    {"system create-dev-char-symlinks",
     "usage: nvidia-ctk system create-dev-char-symlinks [FLAGS]\n"
     "\n"
     "/dev/char/<major>:<minor> links to the NVIDIA device nodes: gctk dev-char-links.\n"
     "\n"
     "flags:\n"
     "  --dev-char-path DIR                where the links go (/dev/char)\n"
     "  --driver-root, --dev-root DIR      where dev/nvidia* are (/)\n"
     "  --create-all                       every node the driver can make\n"
     "  --dry-run                          say what would be done\n"
     "refused: --load-kernel-modules, --create-device-nodes\n"},
    {"info", "usage: nvidia-ctk info\n\nThe version (nvidia-ctk --version).\n"},
    {"config",
     "usage: nvidia-ctk config [--config-file FILE] [--set KEY[=VALUE]]... [--in-place | "
     "--output FILE]\n"
     "       nvidia-ctk config default [--output FILE]\n"
     "\n"
     "Without --set, --in-place or --output: gctk's effective settings and where each comes\n"
     "from (gctk config). With them: NVIDIA's config.toml with the values set (stdout,\n"
     "--output FILE, or the file itself with --in-place). default: gctk's defaults as\n"
     "NVIDIA's config.toml.\n"
     "\n"
     "flags:\n"
     "  --config-file, --config, -c FILE   NVIDIA's config.toml\n"
     "  --set KEY[=VALUE]                  repeatable; a boolean alone is true\n"
     "  --set-list-separator SEP           list values are split at it (:)\n"
     "  --in-place, -i                     write the file itself\n"
     "  --output, -o FILE                  write FILE\n"},
};

static int help(const char *of, FILE *f)
{
    for (size_t i = 0; i < GCTK_ARRAY_LEN(helps); i++)
        if (strcmp(helps[i].name, of) == 0)
            fputs(helps[i].text, f);
    return 0;
}

/* `nvidia-ctk config` with --set, --in-place or --output: NVIDIA's file
 * edited through the TOML writer; with none of them, the effective settings */
static int config(const struct nvctk_call *c)
{
    if (c->config_default) {
        cleanup_json json_t *doc = nvconfig_defaults();
        cleanup_error gctk_error *err = NULL;
        cleanup_free char *text = gctk_toml_format(doc, &err);
        if (text == NULL)
            return report_error(err);
        if (c->output == NULL) {
            fputs(text, stdout);
            return 0;
        }
        const struct write_opts o = {.mode = 0644};
        return write_file(c->output, text, strlen(text), &o, &err) < 0 ? report_error(err) : 0;
    }
    bool explicit = c->config_file != NULL;
    cleanup_free char *path = explicit ? xstrdup(c->config_file) : NULL;
    if (path == NULL) {
        struct gctk_config cfg = {0};
        cleanup_error gctk_error *err = NULL;
        if (config_load(NULL, &cfg, &err) < 0)
            return report_error(err);
        path = nvconfig_path(cfg.root, &explicit);
        config_clear(&cfg);
    }
    if (c->sets.len == 0 && !c->in_place && c->output == NULL) {
        if (c->config_file != NULL)
            setenv(NVIDIA_CONFIG_PATH_ENV, c->config_file, 1);
        return print_effective_config(NULL, false);
    }
    cleanup_json json_t *doc = NULL;
    cleanup_error gctk_error *err = NULL;
    struct stat st;
    bool existed = stat(path, &st) == 0;
    if (existed) {
        /* the file itself, as the settings loader reads it: never through a
         * link, a FIFO or a device */
        cleanup_free char *old = NULL;
        size_t len = 0;
        if (read_regular_file(path, 1u << 20, &old, &len, &err) < 0)
            return report_error(err);
        cleanup_free char *what = xasprintf("`%s`", path);
        doc = gctk_toml_parse(old, len, what, &err);
    } else {
        doc = json_object();
    }
    if (doc == NULL)
        return report_error(err);
    for (size_t i = 0; i < c->sets.len; i++)
        if (nvconfig_set(doc, c->sets.items[i], c->list_separator, &err) < 0)
            return report_error(err);
    /* what gctk would make of it, before it is written */
    cleanup_json json_t *settings = NULL;
    if (nvconfig_translate(doc, path, &settings, NULL, &err) < 0)
        return report_error(err);
    cleanup_free char *text = gctk_toml_format(doc, &err);
    if (text == NULL)
        return report_error(err);
    const char *dest = c->in_place ? path : c->output;
    if (dest == NULL) {
        fputs(text, stdout);
        return 0;
    }
    /* the file's comments do not survive the TOML writer: the old text is
     * kept beside it */
    const struct write_opts o = {.mode = 0644, .keep = true, .backup = existed && c->in_place};
    if (write_file(dest, text, strlen(text), &o, &err) < 0)
        return report_error(err);
    if (!c->quiet)
        fprintf(stderr, "nvidia-ctk: wrote `%s`%s\n", dest,
                existed && c->in_place ? " (the old one is in .bak)" : "");
    return 0;
}

/* stdout to /dev/null for --quiet: only errors remain */
static void silence(void)
{
    fflush(stdout);
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        close(fd);
    }
}

int nvctk_main(int argc, char **argv)
{
    struct nvctk_call c = {0};
    cleanup_free char *why = NULL;
    if (nvctk_parse(argc, argv, &c, &why) < 0) {
        fprintf(stderr, "%s\n", why);
        return 1;
    }
    /* NVIDIA's config.toml named on the command line: gctk's settings read it */
    if (c.nvidia_config != NULL)
        setenv(NVIDIA_CONFIG_PATH_ENV, c.nvidia_config, 1);
    int rc = 0;
    switch (c.action) {
    case NVCTK_VERSION:
        printf("NVIDIA Container Toolkit CLI version: gctk %s\n", GCTK_VERSION);
        break;
    case NVCTK_HELP:
        rc = help(c.help_of, stdout);
        break;
    case NVCTK_CONFIG:
        rc = config(&c);
        break;
    case NVCTK_DEVCHAR: {
        struct gctk_config cfg = {0};
        cleanup_error gctk_error *err = NULL;
        if (config_load(NULL, &cfg, &err) < 0) {
            rc = report_error(err);
            break;
        }
        struct gctk_devchar_options o = {
            .dev_root = c.dev_root != NULL ? c.dev_root : cfg.root,
            .dev_char_path = c.dev_char_path,
            .create_all = c.create_all,
            .dry_run = c.dry_run,
        };
        if (c.quiet && !c.dry_run)
            silence();
        rc = run_dev_char_links(&o);
        config_clear(&cfg);
        break;
    }
    case NVCTK_GCTK: {
        /* the gctk command line: "gctk" and the verb's own argv */
        struct strv full = {0};
        strv_push(&full, xstrdup("gctk"));
        for (size_t i = 0; i < c.argv.len; i++)
            strv_push(&full, xstrdup(c.argv.items[i]));
        bool configure = strcmp(c.argv.items[0], "runtime") == 0;
        bool dry = strv_contains(&c.argv, "--dry-run");
        if (c.quiet && configure && !dry)
            silence();
        rc = gctk_main((int)full.len, full.items);
        strv_clear(&full);
        break;
    }
    }
    nvctk_call_clear(&c);
    return rc;
}
