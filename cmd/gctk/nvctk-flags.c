/* nvidia-ctk's command line (NVIDIA Container Toolkit 1.18) read into gctk's:
 * one table of flags per command, each flag either mapped onto gctk's own
 * flag, or refused with the line that says what to use instead. Nothing is
 * dropped without a word: a flag that gctk's command does anyway (CDI on in
 * containerd's drop-in) is taken, one that it cannot do is refused.
 *
 * Flags are read as NVIDIA's CLI (urfave/cli) reads them: --name or -name,
 * with the value after `=` or as the next argument; a boolean takes an
 * optional =true/=false; a flag may also come from the environment variable
 * NVIDIA's command reads it from, the command line winning. */
#include <string.h>
#include <strings.h>

#include "nvctk.h"

void nvctk_call_clear(struct nvctk_call *c)
{
    strv_clear(&c->argv);
    free(c->nvidia_config);
    free(c->config_file);
    strv_clear(&c->sets);
    free(c->list_separator);
    free(c->output);
    free(c->dev_root);
    free(c->dev_char_path);
    *c = (struct nvctk_call){0};
}

struct flag {
    const char *names; /* "nvidia-set-as-default|set-as-default": the first is NVIDIA's name */
    bool value;        /* takes a value (else a boolean) */
    int id;
    const char *env;  /* the variable NVIDIA's command reads it from, or NULL */
    const char *hint; /* a refused flag: why, and what to use instead (id 0) */
};

/* a value given to a flag: a boolean's "true"/"false", or the value */
typedef int (*flag_fn)(void *ctx, const struct flag *f, const char *value, char **why);

static bool name_in(const char *names, const char *name, size_t len)
{
    for (const char *p = names; p != NULL && *p != '\0';) {
        const char *bar = strchr(p, '|');
        size_t n = bar != NULL ? (size_t)(bar - p) : strlen(p);
        if (n == len && strncmp(p, name, len) == 0)
            return true;
        p = bar != NULL ? bar + 1 : NULL;
    }
    return false;
}

static char *first_name(const char *names)
{
    return xstrndup(names, strcspn(names, "|"));
}

static int refuse(const struct flag *f, const char *command, char **why)
{
    cleanup_free char *name = first_name(f->names);
    *why = xasprintf("%s: --%s is not supported by gctk: %s", command, name, f->hint);
    return -1;
}

static int give(void *ctx, const struct flag *f, const char *command, const char *value, flag_fn fn,
                char **why)
{
    if (f->id == 0)
        return refuse(f, command, why);
    if (!f->value) {
        bool b = true;
        if (value != NULL && str_parse_go_bool(value, &b) < 0) {
            cleanup_free char *name = first_name(f->names);
            *why = xasprintf("%s: --%s=%s: use true or false", command, name, value);
            return -1;
        }
        return b ? fn(ctx, f, "true", why) : 0;
    }
    return fn(ctx, f, value, why);
}

/* Reads args (the command's own, after its name) against table: first the
 * environment's values, then the command line's. Returns the index of the
 * first argument that is not a flag (args end or "--"), or -1 and *why. */
static int parse_flags(int argc, char *const *args, const struct flag *table, size_t n,
                       const char *command, void *ctx, flag_fn fn, char **why)
{
    for (size_t k = 0; k < n; k++) {
        const char *env = table[k].env != NULL ? getenv(table[k].env) : NULL;
        if (env == NULL || env[0] == '\0')
            continue;
        if (table[k].id == 0) {
            cleanup_free char *name = first_name(table[k].names);
            *why = xasprintf("%s: %s (NVIDIA's --%s) is not supported by gctk: %s", command,
                             table[k].env, name, table[k].hint);
            return -1;
        }
        if (give(ctx, &table[k], command, env, fn, why) < 0)
            return -1;
    }
    int i = 0;
    for (; i < argc; i++) {
        const char *a = args[i];
        if (strcmp(a, "--") == 0)
            return i + 1;
        if (a[0] != '-' || a[1] == '\0')
            return i;
        const char *name = a + (a[1] == '-' ? 2 : 1);
        const char *eq = strchr(name, '=');
        size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
        const struct flag *f = NULL;
        for (size_t k = 0; k < n && f == NULL; k++)
            if (name_in(table[k].names, name, len))
                f = &table[k];
        if (f == NULL) {
            *why = xasprintf("%s: unknown flag `%.*s`: `%s --help` lists "
                             "the flags gctk takes",
                             command, (int)(len + (size_t)(name - a)), a, command);
            return -1;
        }
        const char *value = eq != NULL ? eq + 1 : NULL;
        if (f->value && value == NULL && f->id != 0) {
            if (i + 1 >= argc) {
                *why = xasprintf("%s: `%s` needs a value", command, a);
                return -1;
            }
            value = args[++i];
        }
        if (give(ctx, f, command, value, fn, why) < 0)
            return -1;
    }
    return i;
}

/* ---- runtime configure ------------------------------------------------------------ */

enum {
    RC_DRY_RUN = 1,
    RC_RUNTIME,
    RC_CONFIG,
    RC_DROP_IN,
    RC_CONFIG_MODE,
    RC_CONFIG_SOURCE,
    RC_EXECUTABLE,
    RC_OCI_HOOK_PATH,
    RC_NAME,
    RC_PATH,
    RC_HOOK_PATH,
    RC_SET_DEFAULT,
    RC_CDI,
};

static const struct flag runtime_flags[] = {
    {"dry-run", false, RC_DRY_RUN, NULL, NULL},
    {"runtime", true, RC_RUNTIME, NULL, NULL},
    {"config", true, RC_CONFIG, NULL, NULL},
    {"drop-in-config", true, RC_DROP_IN, NULL, NULL},
    {"executable-path", true, RC_EXECUTABLE, NULL, NULL},
    {"config-mode", true, RC_CONFIG_MODE, NULL, NULL},
    {"config-source", true, RC_CONFIG_SOURCE, NULL, NULL},
    {"oci-hook-path", true, RC_OCI_HOOK_PATH, NULL, NULL},
    {"nvidia-runtime-name", true, RC_NAME, NULL, NULL},
    {"nvidia-runtime-path|runtime-path", true, RC_PATH, NULL, NULL},
    {"nvidia-runtime-hook-path", true, RC_HOOK_PATH, NULL, NULL},
    {"nvidia-set-as-default|set-as-default", false, RC_SET_DEFAULT, NULL, NULL},
    {"cdi.enabled|cdi.enable|enable-cdi", false, RC_CDI, NULL, NULL},
};

struct runtime_opts {
    bool dry_run, set_default, cdi;
    const char *runtime, *config, *drop_in, *mode, *source, *oci_hook_path, *name, *path,
        *hook_path, *executable;
};

static int runtime_flag(void *ctx, const struct flag *f, const char *v, char **why)
{
    (void)why;
    struct runtime_opts *o = ctx;
    switch (f->id) {
    case RC_DRY_RUN:
        o->dry_run = true;
        break;
    case RC_RUNTIME:
        o->runtime = v;
        break;
    case RC_CONFIG:
        o->config = v;
        break;
    case RC_DROP_IN:
        o->drop_in = v;
        break;
    case RC_CONFIG_MODE:
        o->mode = v;
        break;
    case RC_CONFIG_SOURCE:
        o->source = v;
        break;
    case RC_EXECUTABLE:
        o->executable = v;
        break;
    case RC_OCI_HOOK_PATH:
        o->oci_hook_path = v;
        break;
    case RC_NAME:
        o->name = v;
        break;
    case RC_PATH:
        o->path = v;
        break;
    case RC_HOOK_PATH:
        o->hook_path = v;
        break;
    case RC_SET_DEFAULT:
        o->set_default = true;
        break;
    case RC_CDI:
        o->cdi = true;
        break;
    }
    return 0;
}

static int parse_runtime_configure(int argc, char *const *args, struct nvctk_call *out, char **why)
{
    static const char cmd[] = "nvidia-ctk runtime configure";
    struct runtime_opts o = {.runtime = "docker"};
    int i = parse_flags(argc, args, runtime_flags, GCTK_ARRAY_LEN(runtime_flags), cmd, &o,
                        runtime_flag, why);
    if (i < 0)
        return -1;
    if (i < argc)
        return *why = xasprintf("%s: unexpected argument `%s`", cmd, args[i]), -1;
    if (strcmp(o.runtime, "docker") != 0 && strcmp(o.runtime, "containerd") != 0 &&
        strcmp(o.runtime, "crio") != 0)
        return *why = xasprintf("%s: unrecognized runtime `%s`: use docker, "
                                "containerd or crio (`gctk runtime configure --runtime=podman` "
                                "registers the hook with Podman)",
                                cmd, o.runtime),
               -1;
    bool docker = strcmp(o.runtime, "docker") == 0;
    bool hook_mode = false;
    if (o.mode != NULL) {
        if (strcmp(o.mode, "oci-hook") == 0 || strcmp(o.mode, "hook") == 0)
            hook_mode = true;
        else if (strcmp(o.mode, "config-file") != 0 && strcmp(o.mode, "config") != 0)
            return *why = xasprintf("%s: --config-mode=%s: use config-file (the "
                                    "default) or oci-hook",
                                    cmd, o.mode),
                   -1;
    }
    if (o.oci_hook_path != NULL && !hook_mode)
        return *why = xasprintf("%s: --oci-hook-path is for --config-mode=oci-hook", cmd), -1;
    if (o.hook_path != NULL && !hook_mode)
        return *why = xasprintf("%s: --nvidia-runtime-hook-path is for "
                                "--config-mode=oci-hook (the hook of Docker's --gpus is "
                                "gctk-hook, installed as nvidia-container-runtime-hook)",
                                cmd),
               -1;

    struct strv *a = &out->argv;
    strv_push(a, xstrdup("runtime"));
    strv_push(a, xstrdup("configure"));
    if (hook_mode) {
        /* NVIDIA's OCI hook file: the hooks.d entry gctk writes for Podman
         * and CRI-O; without a path NVIDIA prints it */
        strv_push(a, xstrdup("--runtime=podman"));
        if (o.oci_hook_path != NULL)
            strv_push(a, xasprintf("--config=%s", o.oci_hook_path));
        if (o.hook_path != NULL)
            strv_push(a, xasprintf("--runtime-path=%s", o.hook_path));
        if (o.oci_hook_path == NULL || o.dry_run)
            strv_push(a, xstrdup("--dry-run"));
        if (o.set_default || o.cdi || o.name != NULL || o.path != NULL || o.drop_in != NULL ||
            o.config != NULL)
            return *why = xasprintf("%s: --config-mode=oci-hook writes a hook file "
                                    "only: it takes --oci-hook-path, --nvidia-runtime-hook-path "
                                    "and --dry-run",
                                    cmd),
                   -1;
        return 0;
    }
    strv_push(a, xasprintf("--runtime=%s", o.runtime));
    /* NVIDIA's flags of the engine's files are gctk's, under the same names
     * and meanings: `gctk runtime configure` decides what each engine takes */
    if (!docker && o.drop_in != NULL && o.drop_in[0] == '\0')
        return *why = xasprintf("%s: --drop-in-config=\"\" edits %s's main "
                                "config: gctk writes its settings to a drop-in and imports it "
                                "there: name a drop-in file or "
                                "leave the flag out",
                                cmd, o.runtime),
               -1;
    if (o.config != NULL)
        strv_push(a, xasprintf("--config=%s", o.config));
    if (o.drop_in != NULL)
        strv_push(a, xasprintf("--drop-in-config=%s", o.drop_in));
    if (o.source != NULL)
        strv_push(a, xasprintf("--config-source=%s", o.source));
    if (o.executable != NULL)
        strv_push(a, xasprintf("--executable-path=%s", o.executable));
    if (o.name != NULL)
        strv_push(a, xasprintf("--runtime-name=%s", o.name));
    if (o.path != NULL)
        strv_push(a, xasprintf("--runtime-path=%s", o.path));
    if (o.set_default)
        strv_push(a, xstrdup("--set-as-default"));
    if (o.cdi)
        strv_push(a, xstrdup("--cdi"));
    if (o.dry_run)
        strv_push(a, xstrdup("--dry-run"));
    return 0;
}

/* ---- cdi generate ------------------------------------------------------------------ */

enum {
    CG_OUTPUT = 1,
    CG_FORMAT,
    CG_MODE,
    CG_DEV_ROOT,
    CG_NAMING,
    CG_DRIVER_ROOT,
    CG_HOOK_PATH,
    CG_VENDOR,
    CG_CLASS,
};

static const struct flag generate_flags[] = {
    {"config-search-path", true, 0, "NVIDIA_CTK_CDI_GENERATE_CONFIG_SEARCH_PATHS",
     "gctk finds the driver's configuration files at their standard paths under the driver root "
     "(--driver-root)"},
    {"output", true, CG_OUTPUT, "NVIDIA_CTK_CDI_OUTPUT_FILE_PATH", NULL},
    {"format", true, CG_FORMAT, "NVIDIA_CTK_CDI_GENERATE_OUTPUT_FORMAT", NULL},
    {"mode|discovery-mode", true, CG_MODE, "NVIDIA_CTK_CDI_GENERATE_MODE", NULL},
    {"dev-root", true, CG_DEV_ROOT, "NVIDIA_CTK_DEV_ROOT", NULL},
    {"device-name-strategy", true, CG_NAMING, "NVIDIA_CTK_CDI_GENERATE_DEVICE_NAME_STRATEGIES",
     NULL},
    {"driver-root", true, CG_DRIVER_ROOT, "NVIDIA_CTK_DRIVER_ROOT", NULL},
    {"library-search-path", true, 0, "NVIDIA_CTK_CDI_GENERATE_LIBRARY_SEARCH_PATHS",
     "gctk finds the driver's libraries through the driver root's ld.so.cache (--driver-root)"},
    {"nvidia-cdi-hook-path|nvidia-ctk-path", true, CG_HOOK_PATH, "NVIDIA_CTK_CDI_HOOK_PATH", NULL},
    {"ldconfig-path", true, 0, "NVIDIA_CTK_CDI_GENERATE_LDCONFIG_PATH",
     "the spec's hook writes the container's ld.so.cache itself and runs no "
     "ldconfig; drop it"},
    {"vendor|cdi-vendor", true, CG_VENDOR, "NVIDIA_CTK_CDI_GENERATE_VENDOR", NULL},
    {"class|cdi-class", true, CG_CLASS, "NVIDIA_CTK_CDI_GENERATE_CLASS", NULL},
    {"csv.file", true, 0, "NVIDIA_CTK_CDI_GENERATE_CSV_FILES",
     "Tegra's CSV mode: gctk generates from the driver's files (--mode nvml)"},
    {"csv.ignore-pattern", true, 0, "NVIDIA_CTK_CDI_GENERATE_CSV_IGNORE_PATTERNS",
     "Tegra's CSV mode: gctk generates from the driver's files (--mode nvml)"},
    {"disable-hook|disable-hooks", true, 0, "NVIDIA_CTK_CDI_GENERATE_DISABLED_HOOKS",
     "gctk's specs carry the one hook the container needs (create-container: the links, "
     "the ld.so.cache, the /proc mask); `gctk cdi generate --help`"},
    {"enable-hook|enable-hooks", true, 0, "NVIDIA_CTK_CDI_GENERATE_ENABLED_HOOKS",
     "gctk's specs carry the one hook the container needs (create-container: the links, "
     "the ld.so.cache, the /proc mask); `gctk cdi generate --help`"},
    {"feature-flag|feature-flags", true, 0, "NVIDIA_CTK_CDI_GENERATE_FEATURE_FLAGS",
     "gctk's generator has no feature flags; drop it"},
};

struct generate_opts {
    const char *output, *format, *mode, *dev_root, *driver_root, *hook_path, *vendor, *class;
    unsigned naming; /* CDI_NAME_*; 0: NVIDIA's default, index and uuid */
    char *bad_strategy;
};

static int generate_flag(void *ctx, const struct flag *f, const char *v, char **why)
{
    struct generate_opts *o = ctx;
    switch (f->id) {
    case CG_OUTPUT:
        o->output = v;
        break;
    case CG_FORMAT:
        o->format = v;
        break;
    case CG_MODE:
        o->mode = v;
        break;
    case CG_DEV_ROOT:
        o->dev_root = v;
        break;
    case CG_DRIVER_ROOT:
        o->driver_root = v;
        break;
    case CG_HOOK_PATH:
        o->hook_path = v;
        break;
    case CG_VENDOR:
        o->vendor = v;
        break;
    case CG_CLASS:
        o->class = v;
        break;
    case CG_NAMING: {
        /* repeatable, and a comma list: the devices once per strategy */
        cleanup_free char *copy = xstrdup(v);
        char *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
            str_strip(t);
            if (strcmp(t, "index") == 0) {
                o->naming |= CDI_NAME_INDEX;
            } else if (strcmp(t, "uuid") == 0) {
                o->naming |= CDI_NAME_UUID;
            } else {
                *why = xasprintf(
                    "nvidia-ctk cdi generate: --device-name-strategy=%s is not supported by gctk: "
                    "%s",
                    t,
                    strcmp(t, "type-index") == 0
                        ? "gctk names devices by index or UUID (index, uuid, or both)"
                        : "use index or uuid");
                return -1;
            }
        }
        break;
    }
    }
    return 0;
}

static int parse_cdi_generate(int argc, char *const *args, struct nvctk_call *out, char **why)
{
    static const char cmd[] = "nvidia-ctk cdi generate";
    struct generate_opts o = {0};
    int i = parse_flags(argc, args, generate_flags, GCTK_ARRAY_LEN(generate_flags), cmd, &o,
                        generate_flag, why);
    if (i < 0)
        return -1;
    if (i < argc)
        return *why = xasprintf("%s: unexpected argument `%s`", cmd, args[i]), -1;
    if (o.mode != NULL && strcasecmp(o.mode, "auto") != 0 && strcasecmp(o.mode, "nvml") != 0) {
        static const char *const known[] = {"csv",        "gdrcopy", "gds",      "imex",
                                            "management", "mofed",   "nvswitch", "wsl"};
        bool valid = false;
        for (size_t k = 0; k < GCTK_ARRAY_LEN(known); k++)
            valid = valid || strcasecmp(o.mode, known[k]) == 0;
        return *why = xasprintf("%s: --mode=%s %s: gctk generates the spec of the GPUs from the "
                                "driver (--mode nvml, or auto)",
                                cmd, o.mode,
                                valid ? "is not supported by gctk" : "is no discovery mode"),
               -1;
    }
    const char *format = "yaml"; /* NVIDIA's default, unless the file's extension says */
    if (o.format != NULL) {
        if (strcasecmp(o.format, "json") != 0 && strcasecmp(o.format, "yaml") != 0)
            return *why =
                       xasprintf("%s: invalid output format `%s`: use json or yaml", cmd, o.format),
                   -1;
        format = strcasecmp(o.format, "json") == 0 ? "json" : "yaml";
    } else if (o.output != NULL && str_has_suffix(o.output, ".json")) {
        format = "json";
    }
    if (o.dev_root != NULL) {
        const char *driver = o.driver_root != NULL ? o.driver_root : "/";
        cleanup_free char *a = xstrdup(o.dev_root), *b = xstrdup(driver);
        size_t la = strlen(a), lb = strlen(b);
        while (la > 1 && a[la - 1] == '/')
            a[--la] = '\0';
        while (lb > 1 && b[lb - 1] == '/')
            b[--lb] = '\0';
        if (strcmp(a, b) != 0)
            return *why = xasprintf(
                       "%s: --dev-root=%s differs from the driver root `%s`: gctk "
                       "finds the device nodes under the driver root; give the root that holds "
                       "both as --driver-root",
                       cmd, o.dev_root, driver),
                   -1;
    }
    struct strv *a = &out->argv;
    strv_push(a, xstrdup("cdi"));
    strv_push(a, xstrdup("generate"));
    if (o.output != NULL && o.output[0] != '\0')
        strv_push(a, xasprintf("--output=%s", o.output));
    strv_push(a, xasprintf("--format=%s", format));
    unsigned naming = o.naming != 0 ? o.naming : CDI_NAME_BOTH;
    strv_push(a, xasprintf("--device-name-strategy=%s", naming == CDI_NAME_BOTH   ? "both"
                                                        : naming == CDI_NAME_UUID ? "uuid"
                                                                                  : "index"));
    if (o.driver_root != NULL && o.driver_root[0] != '\0')
        strv_push(a, xasprintf("--root=%s", o.driver_root));
    if (o.vendor != NULL)
        strv_push(a, xasprintf("--vendor=%s", o.vendor));
    if (o.class != NULL)
        strv_push(a, xasprintf("--class=%s", o.class));
    if (o.hook_path != NULL) {
        /* NVIDIA looks a bare name up on PATH; the spec needs a path */
        char *path = strchr(o.hook_path, '/') != NULL
                         ? xstrdup(o.hook_path)
                         : path_search(getenv("PATH"), o.hook_path, NULL);
        if (path == NULL)
            return *why = xasprintf("%s: --nvidia-cdi-hook-path=%s is not on PATH: "
                                    "give its absolute path",
                                    cmd, o.hook_path),
                   -1;
        strv_push(a, xasprintf("--gctk-path=%s", path));
        free(path);
    }
    return 0;
}

/* ---- cdi list ------------------------------------------------------------------------ */

static const struct flag list_flags[] = {
    {"spec-dir", true, 1, "NVIDIA_CTK_CDI_SPEC_DIRS", NULL},
};

static int list_flag(void *ctx, const struct flag *f, const char *v, char **why)
{
    (void)f;
    (void)why;
    struct strv *a = ctx;
    /* repeatable, and a comma list from the environment */
    cleanup_free char *copy = xstrdup(v);
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save))
        strv_push(a, xasprintf("--spec-dir=%s", t));
    return 0;
}

static int parse_cdi_list(int argc, char *const *args, struct nvctk_call *out, char **why)
{
    strv_push(&out->argv, xstrdup("cdi"));
    strv_push(&out->argv, xstrdup("list"));
    int i = parse_flags(argc, args, list_flags, GCTK_ARRAY_LEN(list_flags), "nvidia-ctk cdi list",
                        &out->argv, list_flag, why);
    if (i < 0)
        return -1;
    if (i < argc)
        return *why = xasprintf("nvidia-ctk cdi list: unexpected argument `%s`", args[i]), -1;
    return 0;
}

/* ---- system create-dev-char-symlinks ---------------------------------------------------- */

enum { DC_PATH = 1, DC_DRIVER_ROOT, DC_DEV_ROOT, DC_ALL, DC_DRY_RUN };

static const struct flag devchar_flags[] = {
    {"dev-char-path", true, DC_PATH, "DEV_CHAR_PATH", NULL},
    {"driver-root", true, DC_DRIVER_ROOT, "DRIVER_ROOT", NULL},
    {"dev-root", true, DC_DEV_ROOT, NULL, NULL},
    {"create-all", false, DC_ALL, "CREATE_ALL", NULL},
    {"load-kernel-modules", false, 0, "LOAD_KERNEL_MODULES",
     "gctk loads no kernel module: load the driver's modules first (`nvidia-modprobe -u -c 0`)"},
    {"create-device-nodes", false, 0, "CREATE_DEVICE_NODES",
     "gctk creates no device nodes: make them with `nvidia-modprobe -u -c 0` first"},
    {"dry-run", false, DC_DRY_RUN, "DRY_RUN", NULL},
};

static int devchar_flag(void *ctx, const struct flag *f, const char *v, char **why)
{
    (void)why;
    struct nvctk_call *c = ctx;
    switch (f->id) {
    case DC_PATH:
        free(c->dev_char_path);
        c->dev_char_path = xstrdup(v);
        break;
    case DC_DRIVER_ROOT:
    case DC_DEV_ROOT:
        free(c->dev_root);
        c->dev_root = xstrdup(v);
        break;
    case DC_ALL:
        c->create_all = true;
        break;
    case DC_DRY_RUN:
        c->dry_run = true;
        break;
    }
    return 0;
}

static int parse_dev_char_symlinks(int argc, char *const *args, struct nvctk_call *out, char **why)
{
    static const char cmd[] = "nvidia-ctk system create-dev-char-symlinks";
    /* NVIDIA reads the driver root from NVIDIA_DRIVER_ROOT before DRIVER_ROOT */
    const char *nv_root = getenv("NVIDIA_DRIVER_ROOT");
    if (nv_root != NULL && nv_root[0] != '\0')
        out->dev_root = xstrdup(nv_root);
    int i = parse_flags(argc, args, devchar_flags, GCTK_ARRAY_LEN(devchar_flags), cmd, out,
                        devchar_flag, why);
    if (i < 0)
        return -1;
    if (i < argc)
        return *why = xasprintf("%s: unexpected argument `%s`", cmd, args[i]), -1;
    out->action = NVCTK_DEVCHAR;
    if (out->dev_char_path == NULL)
        out->dev_char_path = xstrdup(GCTK_DEV_CHAR_PATH);
    return 0;
}

/* ---- config ---------------------------------------------------------------------------- */

enum { CF_FILE = 1, CF_SET, CF_SEPARATOR, CF_IN_PLACE, CF_OUTPUT };

static const struct flag config_flags[] = {
    {"config-file|config|c", true, CF_FILE, NULL, NULL},
    {"set", true, CF_SET, NULL, NULL},
    {"set-list-separator", true, CF_SEPARATOR, NULL, NULL},
    {"in-place|i", false, CF_IN_PLACE, NULL, NULL},
    {"output|o", true, CF_OUTPUT, NULL, NULL},
};

static int config_flag(void *ctx, const struct flag *f, const char *v, char **why)
{
    (void)why;
    struct nvctk_call *c = ctx;
    switch (f->id) {
    case CF_FILE:
        free(c->config_file);
        c->config_file = xstrdup(v);
        break;
    case CF_SET:
        strv_push(&c->sets, xstrdup(v));
        break;
    case CF_SEPARATOR:
        free(c->list_separator);
        c->list_separator = xstrdup(v);
        break;
    case CF_IN_PLACE:
        c->in_place = true;
        break;
    case CF_OUTPUT:
        free(c->output);
        c->output = xstrdup(v);
        break;
    }
    return 0;
}

static int parse_config(int argc, char *const *args, struct nvctk_call *out, char **why)
{
    out->action = NVCTK_CONFIG;
    int i = 0;
    if (argc > 0 && strcmp(args[0], "default") == 0) {
        /* `config default [--output FILE]` */
        out->config_default = true;
        static const struct flag default_flags[] = {{"output|o", true, CF_OUTPUT, NULL, NULL}};
        i = parse_flags(argc - 1, args + 1, default_flags, 1, "nvidia-ctk config default", out,
                        config_flag, why);
        if (i < 0)
            return -1;
        if (i + 1 < argc)
            return *why = xasprintf("nvidia-ctk config default: unexpected argument `%s`",
                                    args[i + 1]),
                   -1;
        return 0;
    }
    i = parse_flags(argc, args, config_flags, GCTK_ARRAY_LEN(config_flags), "nvidia-ctk config",
                    out, config_flag, why);
    if (i < 0)
        return -1;
    if (i < argc)
        return *why = xasprintf("nvidia-ctk config: unexpected argument `%s`", args[i]), -1;
    if (out->in_place && out->output != NULL)
        return *why = xstrdup("nvidia-ctk config: cannot specify both --in-place and --output"), -1;
    if (out->list_separator == NULL)
        out->list_separator = xstrdup(":");
    if (out->list_separator[0] == '\0')
        return *why = xstrdup("nvidia-ctk config: set-list-separator must be set"), -1;
    return 0;
}

/* ---- the commands ------------------------------------------------------------------------ */

enum { G_DEBUG = 1, G_QUIET, G_CONFIG, G_HELP, G_VERSION };

static const struct flag global_flags[] = {
    {"debug|d", false, G_DEBUG, "NVIDIA_CTK_DEBUG", NULL},
    {"quiet", false, G_QUIET, "NVIDIA_CTK_QUIET", NULL},
    {"config", true, G_CONFIG, "NVIDIA_CTK_CONFIG", NULL},
    {"help|h", false, G_HELP, NULL, NULL},
    {"version|v", false, G_VERSION, NULL, NULL},
};

struct global_ctx {
    struct nvctk_call *c;
    bool help, version;
};

static int global_flag(void *ctx, const struct flag *f, const char *v, char **why)
{
    (void)why;
    struct global_ctx *g = ctx;
    switch (f->id) {
    case G_DEBUG:
        break; /* gctk says what it does in any case (docs/nvidia-compat.md) */
    case G_QUIET:
        g->c->quiet = true;
        break;
    case G_CONFIG:
        free(g->c->nvidia_config);
        g->c->nvidia_config = xstrdup(v);
        break;
    case G_HELP:
        g->help = true;
        break;
    case G_VERSION:
        g->version = true;
        break;
    }
    return 0;
}

/* `--help` or `-h` among a command's arguments */
static bool asks_help(int argc, char *const *args)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(args[i], "--help") == 0 || strcmp(args[i], "-h") == 0)
            return true;
    return false;
}

int nvctk_parse(int argc, char *const *argv, struct nvctk_call *out, char **why)
{
    struct nvctk_call c = {.action = NVCTK_GCTK};
    struct global_ctx g = {.c = &c};
    int i = parse_flags(argc - 1, argv + 1, global_flags, GCTK_ARRAY_LEN(global_flags),
                        "nvidia-ctk", &g, global_flag, why);
    if (i < 0) {
        nvctk_call_clear(&c);
        return -1;
    }
    int rest = argc - 1 - i;
    char *const *args = argv + 1 + i;
    const char *name = rest > 0 ? args[0] : NULL;
    const char *sub = rest > 1 ? args[1] : NULL;
    int r = 0;
    if (g.version || (name != NULL && strcmp(name, "info") == 0 && rest == 1)) {
        c.action = NVCTK_VERSION;
    } else if (name != NULL && strcmp(name, "info") == 0 && asks_help(rest - 1, args + 1)) {
        c.action = NVCTK_HELP, c.help_of = "info";
    } else if (g.help || name == NULL || strcmp(name, "help") == 0) {
        c.action = NVCTK_HELP;
        c.help_of = "";
    } else if (strcmp(name, "runtime") == 0 && sub != NULL && strcmp(sub, "configure") == 0) {
        if (asks_help(rest - 2, args + 2))
            c.action = NVCTK_HELP, c.help_of = "runtime configure";
        else
            r = parse_runtime_configure(rest - 2, args + 2, &c, why);
    } else if (strcmp(name, "cdi") == 0 && sub != NULL && strcmp(sub, "generate") == 0) {
        if (asks_help(rest - 2, args + 2))
            c.action = NVCTK_HELP, c.help_of = "cdi generate";
        else
            r = parse_cdi_generate(rest - 2, args + 2, &c, why);
    } else if (strcmp(name, "cdi") == 0 && sub != NULL && strcmp(sub, "list") == 0) {
        if (asks_help(rest - 2, args + 2))
            c.action = NVCTK_HELP, c.help_of = "cdi list";
        else
            r = parse_cdi_list(rest - 2, args + 2, &c, why);
    } else if (strcmp(name, "system") == 0 && sub != NULL &&
               strcmp(sub, "create-dev-char-symlinks") == 0) {
        if (asks_help(rest - 2, args + 2))
            c.action = NVCTK_HELP, c.help_of = "system create-dev-char-symlinks";
        else
            r = parse_dev_char_symlinks(rest - 2, args + 2, &c, why);
    } else if (strcmp(name, "config") == 0) {
        if (asks_help(rest - 1, args + 1))
            c.action = NVCTK_HELP, c.help_of = "config";
        else
            r = parse_config(rest - 1, args + 1, &c, why);
    } else if (strcmp(name, "hook") == 0 && sub != NULL &&
               (strcmp(sub, "update-ldcache") == 0 || strcmp(sub, "create-symlinks") == 0)) {
        /* the hooks of a spec NVIDIA's toolkit wrote: the same work as gctk's
         * (update-ldcache's --ldconfig-path names the program NVIDIA runs
         * for it; gctk writes the cache itself) */
        strv_push(&c.argv, xstrdup("hook"));
        for (int k = 1; k < rest; k++) {
            if (str_has_prefix(args[k], "--ldconfig-path")) {
                if (strchr(args[k], '=') == NULL)
                    k++;
                continue;
            }
            strv_push(&c.argv, xstrdup(args[k]));
        }
    } else {
        cleanup_free char *what = xasprintf("%s%s%s", name, sub != NULL && sub[0] != '-' ? " " : "",
                                            sub != NULL && sub[0] != '-' ? sub : "");
        const char *instead =
            strcmp(name, "hook") == 0
                ? "a hook of a CDI spec NVIDIA's toolkit wrote: regenerate the spec with "
                  "`gctk cdi generate --output /etc/cdi/nvidia.yaml`"
            : strcmp(name, "system") == 0 && sub != NULL && strcmp(sub, "create-device-nodes") == 0
                ? "gctk creates no device nodes: use `nvidia-modprobe -u -c 0`"
            : strcmp(name, "cdi") == 0 && sub != NULL && strcmp(sub, "transform") == 0
                ? "generate the spec for its root instead: `gctk cdi generate --root DIR`"
                : "`nvidia-ctk --help` lists the commands gctk takes";
        *why = xasprintf("nvidia-ctk %s is not supported by gctk: %s", what, instead);
        r = -1;
    }
    if (r < 0) {
        nvctk_call_clear(&c);
        return -1;
    }
    *out = c;
    return 0;
}
