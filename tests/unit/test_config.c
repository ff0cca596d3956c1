/* Unit tests of gctk's settings with NVIDIA's config.toml (lib/util/config.c,
 * lib/util/nvconfig.c): what each key of NVIDIA's toolkit 1.18 becomes, the
 * rule of precedence (gctk's own file wins key by key), where NVIDIA's file
 * is looked for, and that no TOML module is loaded without one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dlfcn.h>
#include <ftw.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "json.h"
#include "toml.h"
#include "testutil.h"

static char tmp[PATH_MAX];

static int setup(void **state)
{
    (void)state;
    unsetenv("GCTK_CONFIG");
    unsetenv(NVIDIA_CONFIG_PATH_ENV);
    unsetenv("XDG_CONFIG_HOME");
    snprintf(tmp, sizeof(tmp), "/tmp/gctk-test-config.XXXXXX");
    return mkdtemp(tmp) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    nftw(tmp, test_rm_entry, 32, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* writes tmp/name (directories made), returns the path */
static char *put(const char *name, const char *text)
{
    char *path = xasprintf("%s/%s", tmp, name);
    const struct write_opts o = {.mode = 0644};
    gctk_error *err = NULL;
    if (write_file(path, text, strlen(text), &o, &err) < 0)
        fail_msg("write %s: %s", path, err->msg);
    return path;
}

/* NVIDIA's toolkit 1.18's default file, as its `nvidia-ctk config default`
 * writes it (the defaults of internal/config), commented lines included */
static const char nvidia_default[] =
    "#accept-nvidia-visible-devices-as-volume-mounts = false\n"
    "#accept-nvidia-visible-devices-envvar-when-unprivileged = true\n"
    "disable-require = false\n"
    "supported-driver-capabilities = \"compat32,compute,display,graphics,ngx,utility,video\"\n"
    "#swarm-resource = \"DOCKER_RESOURCE_GPU\"\n"
    "\n"
    "[nvidia-container-cli]\n"
    "#debug = \"/var/log/nvidia-container-toolkit.log\"\n"
    "environment = []\n"
    "#ldcache = \"/etc/ld.so.cache\"\n"
    "ldconfig = \"@/sbin/ldconfig\"\n"
    "load-kmods = true\n"
    "#no-cgroups = false\n"
    "#path = \"/usr/bin/nvidia-container-cli\"\n"
    "#root = \"/run/nvidia/driver\"\n"
    "#user = \"root:video\"\n"
    "\n"
    "[nvidia-container-runtime]\n"
    "#debug = \"/var/log/nvidia-container-runtime.log\"\n"
    "log-level = \"info\"\n"
    "mode = \"auto\"\n"
    "runtimes = [\"runc\", \"crun\"]\n"
    "\n"
    "[nvidia-container-runtime.modes]\n"
    "\n"
    "[nvidia-container-runtime.modes.cdi]\n"
    "annotation-prefixes = [\"cdi.k8s.io/\"]\n"
    "default-kind = \"nvidia.com/gpu\"\n"
    "spec-dirs = [\"/etc/cdi\", \"/var/run/cdi\"]\n"
    "\n"
    "[nvidia-container-runtime.modes.csv]\n"
    "mount-spec-path = \"/etc/nvidia-container-runtime/host-files-for-container.d\"\n"
    "\n"
    "[nvidia-container-runtime.modes.legacy]\n"
    "cuda-compat-mode = \"ldconfig\"\n"
    "\n"
    "[nvidia-container-runtime-hook]\n"
    "path = \"nvidia-container-runtime-hook\"\n"
    "skip-mode-detection = false\n"
    "\n"
    "[nvidia-ctk]\n"
    "path = \"nvidia-ctk\"\n";

static json_t *parse_toml(const char *text)
{
    gctk_error *err = NULL;
    json_t *doc = gctk_toml_parse(text, strlen(text), "`config.toml`", &err);
    if (doc == NULL)
        fail_msg("parse: %s", err->msg);
    return doc;
}

static const struct nvkey *find_key(const struct nvkey_list *l, const char *key)
{
    for (size_t i = 0; i < l->len; i++)
        if (strcmp(l->items[i].key, key) == 0)
            return &l->items[i];
    fail_msg("no report of `%s`", key);
    return NULL;
}

/* Without NVIDIA's file no TOML module is loaded: the hook on a host that
 * never had NVIDIA's toolkit loads no C++ runtime. Runs first. */
static void test_no_file_no_module(void **state)
{
    (void)state;
    cleanup_free char *text = xasprintf("{\"root\": \"%s/noload\"}", tmp);
    cleanup_free char *own = put("noload/gctk.json", text);
    struct gctk_config c = {0};
    gctk_error *err = NULL;
    assert_int_equal(config_load(own, &c, &err), 0);
    assert_null(c.nvidia_path);
    config_clear(&c);
    assert_null(dlopen(TEST_TOML_MODULE, RTLD_NOW | RTLD_NOLOAD));
}

/* A failed test leaves no NVIDIA file named for the next one */
static int unset_nvidia_env(void **state)
{
    (void)state;
    unsetenv(NVIDIA_CONFIG_PATH_ENV);
    return 0;
}

/* NVIDIA's file through its cached translation: a host that kept NVIDIA's
 * file loads the TOML module once, not at every hook. Second: the first
 * translation is made in a child, so that this process has never loaded
 * the module when it reads the entry. */
static void test_nvidia_cache_no_module(void **state)
{
    (void)state;
    cleanup_free char *text = xasprintf("{\"discovery-cache\": \"%s/nvcache/cache\"}", tmp);
    cleanup_free char *own = put("nvcache/gctk.json", text);
    cleanup_free char *nv = put("nvcache/config.toml", nvidia_default);
    setenv(NVIDIA_CONFIG_PATH_ENV, nv, 1);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct gctk_config c = {0};
        _exit(config_load(own, &c, NULL) == 0 && c.nvidia_path != NULL ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    struct gctk_config c = {0};
    gctk_error *err = NULL;
    assert_int_equal(config_load(own, &c, &err), 0);
    unsetenv(NVIDIA_CONFIG_PATH_ENV);
    assert_string_equal(c.nvidia_path, nv);
    assert_string_equal(c.supported_driver_capabilities,
                        "compat32,compute,display,graphics,ngx,utility,video");
    assert_null(dlopen(TEST_TOML_MODULE, RTLD_NOW | RTLD_NOLOAD));
    config_clear(&c);
}

/* The path of the one entry nvconfig-* in dir (fails unless exactly one) */
static char *nvcache_entry(const char *dir)
{
    size_t n = 0;
    char *found = test_entry_of(dir, "nvconfig-", &n);
    assert_int_equal(n, 1);
    return found;
}

/* disable-require as config_load gives it, NVIDIA's file named by env */
static bool load_disable_require(const char *own)
{
    struct gctk_config c = {0};
    gctk_error *err = NULL;
    if (config_load(own, &c, &err) < 0)
        fail_msg("config_load: %s", err->msg);
    bool v = c.disable_require;
    config_clear(&c);
    return v;
}

/* The entry is used only for the same gctk, path and text, and only as a
 * private file: an entry whose settings were changed by hand shows that it
 * is the one read, and any other file, or a mode that others can write,
 * sends the hook back to the module. Off with the discovery cache. */
static void test_nvidia_cache(void **state)
{
    (void)state;
    cleanup_free char *dir = xasprintf("%s/nvc", tmp);
    cleanup_free char *text = xasprintf("{\"discovery-cache\": \"%s\"}", dir);
    cleanup_free char *own = put("nvc-own.json", text);
    cleanup_free char *nv = put("nvc-config.toml", "disable-require = true\n");
    setenv(NVIDIA_CONFIG_PATH_ENV, nv, 1);
    assert_true(load_disable_require(own));
    cleanup_free char *entry = nvcache_entry(dir);
    struct stat st;
    assert_int_equal(stat(entry, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    /* the entry's settings are the ones used: changed by hand, they show */
    char *body = NULL;
    size_t len = 0;
    gctk_error *err = NULL;
    assert_int_equal(read_file(entry, 1u << 20, &body, &len, &err), 0);
    char *settings = strrchr(body, '{');
    assert_non_null(settings);
    assert_non_null(strstr(settings, "\"disable-require\":true"));
    cleanup_free char *forged =
        xasprintf("%.*s{\"disable-require\":false}\n", (int)(settings - body), body);
    free(body);
    const struct write_opts o = {.mode = 0600};
    assert_int_equal(write_file(entry, forged, strlen(forged), &o, &err), 0);
    assert_false(load_disable_require(own));
    /* ... but not by another owner's reading of the mode */
    assert_int_equal(chmod(entry, 0644), 0);
    assert_true(load_disable_require(own));
    /* the module's translation replaced it */
    assert_int_equal(stat(entry, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(write_file(entry, forged, strlen(forged), &o, &err), 0);
    assert_false(load_disable_require(own));
    /* another text (a comment added) is another entry */
    free(put("nvc-config.toml", "# kept\ndisable-require = true\n"));
    assert_true(load_disable_require(own));
    /* the same text at another path too: the path is in the key */
    cleanup_free char *moved = put("nvc-moved.toml", "disable-require = true\n");
    setenv(NVIDIA_CONFIG_PATH_ENV, moved, 1);
    assert_true(load_disable_require(own));
    /* a text that does not parse is refused, and no entry stands for it */
    free(put("nvc-moved.toml", "disable-require = \n"));
    struct gctk_config c = {0};
    assert_int_equal(config_load(own, &c, &err), -1);
    gctk_error_free(err);
    err = NULL;
    /* without the discovery cache, nothing is kept */
    cleanup_free char *off_dir = xasprintf("%s/nvc-off", tmp);
    cleanup_free char *off = put("nvc-off.json", "{\"discovery-cache\": null}");
    setenv(NVIDIA_CONFIG_PATH_ENV, nv, 1);
    assert_true(load_disable_require(off));
    assert_int_equal(access(off_dir, F_OK), -1);
    unsetenv(NVIDIA_CONFIG_PATH_ENV);
}

/* NVIDIA's default file: every key known, none a warning, and what it says
 * is what gctk does by default */
static void test_default_file(void **state)
{
    (void)state;
    cleanup_json json_t *doc = parse_toml(nvidia_default), *settings = NULL;
    struct nvkey_list l = {0};
    gctk_error *err = NULL;
    assert_int_equal(nvconfig_translate(doc, "config.toml", &settings, &l, &err), 0);
    assert_int_equal(l.len, 16);
    for (size_t i = 0; i < l.len; i++)
        if (l.items[i].use == NVKEY_WARNING)
            fail_msg("warning for `%s`: %s", l.items[i].key, l.items[i].note);
    const struct nvkey *k = find_key(&l, "nvidia-container-cli.load-kmods");
    assert_int_equal(k->use, NVKEY_IGNORED);
    assert_string_equal(k->value, "true");
    k = find_key(&l, "nvidia-container-runtime.runtimes");
    assert_int_equal(k->use, NVKEY_READ);
    assert_string_equal(k->gctk_key, "runtime");
    assert_string_equal(k->value, "[\"runc\",\"crun\"]");
    assert_int_equal(find_key(&l, "nvidia-container-runtime-hook.path")->use, NVKEY_SAME);
    assert_int_equal(find_key(&l, "nvidia-container-cli.ldconfig")->use, NVKEY_READ);
    cleanup_free char *got = json_dumps(settings, JSON_SORT_KEYS | JSON_COMPACT);
    assert_string_equal(got, "{\"cdi-annotation-prefixes\":[\"cdi.k8s.io/\"],"
                             "\"cdi-default-kind\":\"nvidia.com/gpu\","
                             "\"cdi-spec-dirs\":[\"/etc/cdi\",\"/var/run/cdi\"],"
                             "\"disable-require\":false,\"ldconfig\":\"internal\","
                             "\"runtime\":[\"runc\",\"crun\"],\"runtime-mode\":\"auto\","
                             "\"supported-driver-capabilities\":"
                             "\"compat32,compute,display,graphics,ngx,utility,video\"}");
    nvkey_list_clear(&l);
}

/* One key at a time: what it sets in gctk's terms, or how it is reported */
static void test_keys(void **state)
{
    (void)state;
    struct {
        const char *toml;     /* one key */
        const char *settings; /* gctk's settings it makes */
        enum nvkey_use use;
    } cases[] = {
        {"accept-nvidia-visible-devices-as-volume-mounts = true",
         "{\"accept-nvidia-visible-devices-as-volume-mounts\":true}", NVKEY_READ},
        {"accept-nvidia-visible-devices-envvar-when-unprivileged = false",
         "{\"accept-nvidia-visible-devices-envvar-when-unprivileged\":false}", NVKEY_READ},
        {"disable-require = true", "{\"disable-require\":true}", NVKEY_READ},
        {"swarm-resource = \"DOCKER_RESOURCE_GPU\"", "{\"swarm-resource\":\"GPU\"}", NVKEY_READ},
        {"swarm-resource = \"\"", "{\"swarm-resource\":null}", NVKEY_READ},
        {"swarm-resource = \"DOCKER_RESOURCE_A,DOCKER_RESOURCE_B\"", "{}", NVKEY_WARNING},
        {"swarm-resource = \"MY_GPUS\"", "{}", NVKEY_WARNING},
        {"supported-driver-capabilities = \"utility,compute\"",
         "{\"supported-driver-capabilities\":\"utility,compute\"}", NVKEY_READ},
        {"[nvidia-container-cli]\nroot = \"/run/nvidia/driver\"",
         "{\"root\":\"/run/nvidia/driver\"}", NVKEY_READ},
        {"[nvidia-container-cli]\nroot = \"\"", "{}", NVKEY_SAME},
        {"[nvidia-container-cli]\nno-cgroups = true", "{\"no-cgroups\":true}", NVKEY_READ},
        {"[nvidia-container-cli]\nldconfig = \"/sbin/ldconfig\"", "{}", NVKEY_WARNING},
        {"[nvidia-container-cli]\nldcache = \"/tmp/ld.so.cache\"", "{}", NVKEY_WARNING},
        {"[nvidia-container-cli]\nuser = \"root:video\"", "{}", NVKEY_IGNORED},
        {"[nvidia-container-runtime]\nmode = \"cdi\"", "{\"runtime-mode\":\"cdi\"}", NVKEY_READ},
        {"[nvidia-container-runtime]\nmode = \"legacy\"", "{\"runtime-mode\":\"auto\"}",
         NVKEY_READ},
        {"[nvidia-container-runtime]\nmode = \"jit-cdi\"", "{\"runtime-mode\":\"auto\"}",
         NVKEY_READ},
        {"[nvidia-container-runtime]\nmode = \"csv\"", "{}", NVKEY_WARNING},
        {"[nvidia-container-runtime]\nmode = \"fast\"", "{}", NVKEY_WARNING},
        {"[nvidia-container-runtime]\nruntimes = []", "{}", NVKEY_WARNING},
        {"[nvidia-container-runtime]\nruntimes = [\"/usr/bin/crun\"]",
         "{\"runtime\":[\"/usr/bin/crun\"]}", NVKEY_READ},
        {"[nvidia-container-runtime.modes.cdi]\ndefault-kind = \"example.com/gpu\"",
         "{\"cdi-default-kind\":\"example.com/gpu\"}", NVKEY_READ},
        {"[nvidia-container-runtime.modes.legacy]\ncuda-compat-mode = \"disabled\"",
         "{\"cuda-compat\":false}", NVKEY_READ},
        {"[nvidia-container-runtime.modes.legacy]\ncuda-compat-mode = \"mount\"", "{}", NVKEY_SAME},
        {"[features]\ndisable-cuda-compat-lib-hook = true", "{\"cuda-compat\":false}", NVKEY_READ},
        {"[features]\nallow-ldconfig-from-container = true", "{}", NVKEY_WARNING},
        {"[features]\nignore-imex-channel-requests = true", "{}", NVKEY_WARNING},
        {"[features]\nignore-imex-channel-requests = false", "{}", NVKEY_IGNORED},
        {"[nvidia-container-runtime-hook]\npath = \"/opt/nvidia/hook\"",
         "{\"hook-path\":\"/opt/nvidia/hook\"}", NVKEY_READ},
        {"[nvidia-container-runtime-hook]\npath = \"my-hook\"", "{}", NVKEY_WARNING},
        /* keys NVIDIA's toolkit does not know either */
        {"acept-nvidia-visible-devices-as-volume-mounts = true", "{}", NVKEY_WARNING},
        {"[nvidia-container-cli]\nroots = \"/x\"", "{}", NVKEY_WARNING},
        {"[experimental]\nx = 1", "{}", NVKEY_WARNING},
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(cases); i++) {
        cleanup_json json_t *doc = parse_toml(cases[i].toml), *settings = NULL;
        struct nvkey_list l = {0};
        gctk_error *err = NULL;
        if (nvconfig_translate(doc, "config.toml", &settings, &l, &err) < 0)
            fail_msg("`%s`: %s", cases[i].toml, err->msg);
        cleanup_free char *got = json_dumps(settings, JSON_COMPACT);
        if (strcmp(got, cases[i].settings) != 0)
            fail_msg("`%s`: got %s, want %s", cases[i].toml, got, cases[i].settings);
        assert_int_equal(l.len, 1);
        if (l.items[0].use != cases[i].use)
            fail_msg("`%s`: use %d, want %d", cases[i].toml, l.items[0].use, cases[i].use);
        if (l.items[0].use != NVKEY_READ && l.items[0].note == NULL)
            fail_msg("`%s`: no note", cases[i].toml);
        nvkey_list_clear(&l);
    }
}

/* A key gctk reads with a value of the wrong type is an error that names the
 * key and the file; one it does not read is not */
static void test_type_errors(void **state)
{
    (void)state;
    struct {
        const char *toml, *msg;
    } cases[] = {
        {"disable-require = \"yes\"",
         "`/etc/nvidia-container-runtime/config.toml`: `disable-require` must be true or false: "
         "fix the file (NVIDIA's toolkit refuses it too)"},
        {"[nvidia-container-cli]\nroot = 1", "`nvidia-container-cli.root` must be a string"},
        {"[nvidia-container-cli]\nroot = \"run/nvidia\"",
         "`nvidia-container-cli.root` must be an absolute path"},
        {"[nvidia-container-runtime]\nruntimes = \"runc\"",
         "`nvidia-container-runtime.runtimes` must be an array of strings"},
        {"[nvidia-container-runtime.modes.cdi]\nspec-dirs = [\"cdi\"]",
         "`nvidia-container-runtime.modes.cdi.spec-dirs` must be an array of absolute paths"},
        {"[nvidia-container-runtime.modes.cdi]\ndefault-kind = \"gpu\"",
         "`nvidia-container-runtime.modes.cdi.default-kind` must be a CDI kind"},
        {"[nvidia-container-cli.root]\nx = 1", "`nvidia-container-cli.root` must be a string"},
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(cases); i++) {
        cleanup_json json_t *doc = parse_toml(cases[i].toml), *settings = NULL;
        gctk_error *err = NULL;
        assert_int_equal(nvconfig_translate(doc, NVIDIA_CONFIG_FILE, &settings, NULL, &err), -1);
        if (strstr(err->msg, cases[i].msg) == NULL)
            fail_msg("`%s`: got `%s`", cases[i].toml, err->msg);
        gctk_error_free(err);
    }
    /* wrong types of keys gctk does not read are reported, not refused */
    cleanup_json json_t *doc = parse_toml("[nvidia-container-cli]\nload-kmods = \"no\""),
                        *settings = NULL;
    struct nvkey_list l = {0};
    assert_int_equal(nvconfig_translate(doc, "config.toml", &settings, &l, NULL), 0);
    assert_int_equal(l.items[0].use, NVKEY_IGNORED);
    nvkey_list_clear(&l);
}

/* The rule of precedence, and where NVIDIA's file is looked for */
static void test_precedence(void **state)
{
    (void)state;
    cleanup_free char *root = xasprintf("%s/host", tmp);
    cleanup_free char *text = xasprintf("{\"root\": \"%s\", \"no-cgroups\": false, "
                                        "\"allow-unprivileged-env\": true, \"log\": null, "
                                        "\"discovery-cache\": \"%s/cache\"}",
                                        root, tmp);
    cleanup_free char *own = put("host/gctk.json", text);
    cleanup_free char *nv = put("host/etc/nvidia-container-runtime/config.toml",
                                "accept-nvidia-visible-devices-envvar-when-unprivileged = false\n"
                                "disable-require = true\n"
                                "[nvidia-container-cli]\n"
                                "no-cgroups = true\n"
                                "root = \"/elsewhere\"\n"
                                "[nvidia-container-runtime]\n"
                                "runtimes = [\"crun\", \"runc\"]\n");
    struct gctk_config c = {0};
    gctk_error *err = NULL;
    assert_int_equal(config_load(own, &c, &err), 0);
    /* NVIDIA's file is the one under gctk's root */
    assert_string_equal(c.nvidia_path, nv);
    /* gctk's own file wins key by key (its older name of a key too) ... */
    assert_string_equal(c.root, root);
    assert_false(c.no_cgroups);
    assert_true(c.accept_nvidia_visible_devices_envvar_when_unprivileged);
    assert_null(c.log);
    /* ... NVIDIA's fills what gctk's does not say ... */
    assert_true(c.disable_require);
    assert_int_equal(c.runtimes.len, 2);
    assert_string_equal(c.runtimes.items[0], "crun");
    /* ... the defaults the rest */
    assert_true(c.cuda_compat);
    assert_string_equal(c.cdi_default_kind, "nvidia.com/gpu");
    config_clear(&c);

    /* where gctk's file names no root, NVIDIA's sets it */
    cleanup_free char *bare_text = xasprintf("{\"discovery-cache\": \"%s/cache\"}", tmp);
    cleanup_free char *bare = put("host/bare.json", bare_text);
    setenv(NVIDIA_CONFIG_PATH_ENV, nv, 1);
    assert_int_equal(config_load(bare, &c, &err), 0);
    assert_string_equal(c.root, "/elsewhere");
    assert_true(c.no_cgroups);
    config_clear(&c);

    /* the effective settings and where each comes from */
    json_t *explained = NULL;
    struct nvkey_list l = {0};
    assert_int_equal(config_explain(own, &explained, &l, &err), 0);
    json_t *e = json_object_get(explained, "no-cgroups");
    assert_true(json_is_false(json_object_get(e, "value")));
    assert_string_equal(json_string_value(json_object_get(e, "from")), own);
    e = json_object_get(explained, "disable-require");
    cleanup_free char *from = xasprintf("%s: disable-require", nv);
    assert_string_equal(json_string_value(json_object_get(e, "from")), from);
    e = json_object_get(explained, "accept-nvidia-visible-devices-envvar-when-unprivileged");
    assert_string_equal(json_string_value(json_object_get(e, "from")), own);
    e = json_object_get(explained, "cuda-compat");
    assert_string_equal(json_string_value(json_object_get(e, "from")), "default");
    assert_int_equal(l.len, 5);
    json_decref(explained);
    nvkey_list_clear(&l);

    /* a file named by NVIDIA_CTK_CONFIG_FILE_PATH must exist, as NVIDIA's hook
     * requires; the default one may be absent */
    cleanup_free char *missing = xasprintf("%s/none.toml", tmp);
    setenv(NVIDIA_CONFIG_PATH_ENV, missing, 1);
    assert_int_equal(config_load(bare, &c, &err), -1);
    assert_non_null(strstr(err->msg, "NVIDIA's config (NVIDIA_CTK_CONFIG_FILE_PATH)"));
    assert_non_null(strstr(err->msg, "none.toml"));
    gctk_error_free(err);
    err = NULL;
    unsetenv(NVIDIA_CONFIG_PATH_ENV);

    /* XDG_CONFIG_HOME/nvidia-container-runtime/config.toml, as NVIDIA looks */
    cleanup_free char *xdg = xasprintf("%s/xdg", tmp);
    free(put("xdg/nvidia-container-runtime/config.toml", "disable-require = true\n"));
    setenv("XDG_CONFIG_HOME", xdg, 1);
    assert_int_equal(config_load(bare, &c, &err), 0);
    assert_true(c.disable_require);
    config_clear(&c);
    unsetenv("XDG_CONFIG_HOME");

    /* a broken file is an error naming it, with the line */
    free(put("host/etc/nvidia-container-runtime/config.toml", "disable-require = \n"));
    assert_int_equal(config_load(own, &c, &err), -1);
    assert_non_null(strstr(err->msg, "config.toml`: line 1, column"));
    assert_non_null(strstr(err->msg, "fix the file (NVIDIA's toolkit refuses it too) or move it "
                                     "away"));
    gctk_error_free(err);
    err = NULL;

    /* the two names of one setting in gctk's file */
    cleanup_free char *both =
        put("host/both.json", "{\"allow-unprivileged-env\": true, "
                              "\"accept-nvidia-visible-devices-envvar-when-unprivileged\": "
                              "false}");
    assert_int_equal(config_load(both, &c, &err), -1);
    assert_non_null(strstr(err->msg, "`allow-unprivileged-env` is the old name of "
                                     "`accept-nvidia-visible-devices-envvar-when-unprivileged`, "
                                     "and the two differ: keep one"));
    gctk_error_free(err);
}

/* gctk's own new settings */
static void test_own_settings(void **state)
{
    (void)state;
    cleanup_free char *own =
        put("own.json", "{\"runtime\": [\"crun\", \"/usr/bin/runc\"], \"runtime-mode\": \"cdi\", "
                        "\"cdi-default-kind\": \"example.com/gpu\", "
                        "\"cdi-spec-dirs\": [\"/srv/cdi\"], "
                        "\"cdi-annotation-prefixes\": [\"cdi.k8s.io/\", \"example.com/\"], "
                        "\"supported-driver-capabilities\": \"utility\", "
                        "\"accept-nvidia-visible-devices-as-volume-mounts\": true}");
    struct gctk_config c = {0};
    gctk_error *err = NULL;
    assert_int_equal(config_load(own, &c, &err), 0);
    assert_int_equal(c.runtimes.len, 2);
    assert_int_equal(c.runtime_mode, RUNTIME_MODE_CDI);
    assert_string_equal(c.cdi_default_kind, "example.com/gpu");
    assert_int_equal(c.cdi_spec_dirs.len, 1);
    assert_int_equal(c.cdi_annotation_prefixes.len, 2);
    assert_string_equal(c.supported_driver_capabilities, "utility");
    assert_true(c.accept_nvidia_visible_devices_as_volume_mounts);
    config_clear(&c);
    struct {
        const char *text, *msg;
    } bad[] = {
        {"{\"runtime\": []}", "`runtime` must be a non-empty string or a non-empty array of "
                              "non-empty strings"},
        {"{\"runtime\": [\"runc\", 1]}", "`runtime` must be"},
        {"{\"runtime-mode\": \"legacy\"}", "`runtime-mode` must be \"auto\" or \"cdi\""},
        {"{\"cdi-default-kind\": \"gpu\"}", "`cdi-default-kind` must be a CDI kind"},
        {"{\"cdi-spec-dirs\": [\"etc/cdi\"]}",
         "`cdi-spec-dirs` must be a non-empty array of absolute paths"},
        {"{\"cdi-annotation-prefixes\": \"cdi.k8s.io/\"}",
         "`cdi-annotation-prefixes` must be a non-empty array of non-empty strings"},
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(bad); i++) {
        cleanup_free char *p = put("bad.json", bad[i].text);
        assert_int_equal(config_load(p, &c, &err), -1);
        if (strstr(err->msg, bad[i].msg) == NULL)
            fail_msg("`%s`: got `%s`", bad[i].text, err->msg);
        gctk_error_free(err);
        err = NULL;
    }
}

/* `nvidia-ctk config --set`: NVIDIA's keys only, each of its type */
static void test_set(void **state)
{
    (void)state;
    cleanup_json json_t *doc = parse_toml("[nvidia-container-cli]\nload-kmods = true\n");
    gctk_error *err = NULL;
    const char *sets[] = {
        "nvidia-container-cli.no-cgroups",
        "disable-require=false",
        "nvidia-container-runtime.mode=cdi",
        "nvidia-container-runtime.runtimes=crun:runc",
        "nvidia-container-runtime.modes.cdi.spec-dirs=/etc/cdi,/srv/cdi",
        "features.ignore-imex-channel-requests=true",
        "features.ignore-imex-channel-requests=nil",
        "swarm-resource=DOCKER_RESOURCE_GPU",
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(sets); i++)
        if (nvconfig_set(doc, sets[i], ":", &err) < 0)
            fail_msg("%s: %s", sets[i], err->msg);
    cleanup_free char *got = json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT);
    assert_string_equal(got, "{\"disable-require\":false,\"features\":{},"
                             "\"nvidia-container-cli\":{\"load-kmods\":true,\"no-cgroups\":true},"
                             "\"nvidia-container-runtime\":{\"mode\":\"cdi\",\"modes\":{\"cdi\":"
                             "{\"spec-dirs\":[\"/etc/cdi\",\"/srv/cdi\"]}},"
                             "\"runtimes\":[\"crun\",\"runc\"]},"
                             "\"swarm-resource\":\"DOCKER_RESOURCE_GPU\"}");
    struct {
        const char *set, *msg;
    } bad[] = {
        {"nvidia-container-cli.roots=/x",
         "invalid --set option nvidia-container-cli.roots=/x: `nvidia-container-cli.roots` is "
         "no key of NVIDIA's config.toml (1.18); gctk.conf(5) lists them"},
        {"nvidia-container-cli.root", "expected key=value"},
        {"disable-require=yes", "`disable-require` is a boolean: true or false"},
        {"nvidia-container-cli.root.x=1", "is no key"},
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(bad); i++) {
        assert_int_equal(nvconfig_set(doc, bad[i].set, ":", &err), -1);
        if (strstr(err->msg, bad[i].msg) == NULL)
            fail_msg("%s: got `%s`", bad[i].set, err->msg);
        gctk_error_free(err);
        err = NULL;
    }
    /* a key whose table is something else in the file */
    cleanup_json json_t *odd = parse_toml("nvidia-container-cli = 1\n");
    assert_int_equal(nvconfig_set(odd, "nvidia-container-cli.root=/x", ":", &err), -1);
    assert_non_null(strstr(err->msg, "`nvidia-container-cli` is not a table in the file"));
    gctk_error_free(err);
}

/* `nvidia-ctk config default`: gctk's defaults in NVIDIA's keys, which read
 * back as exactly gctk's defaults */
static void test_defaults_round_trip(void **state)
{
    (void)state;
    cleanup_json json_t *doc = nvconfig_defaults();
    gctk_error *err = NULL;
    cleanup_free char *text = gctk_toml_format(doc, &err);
    assert_non_null(text);
    cleanup_free char *nv = put("defaults/config.toml", text);
    cleanup_free char *own = put("defaults/gctk.json", "{}");
    setenv(NVIDIA_CONFIG_PATH_ENV, nv, 1);
    json_t *explained = NULL;
    struct nvkey_list l = {0};
    assert_int_equal(config_explain(own, &explained, &l, &err), 0);
    unsetenv(NVIDIA_CONFIG_PATH_ENV);
    cleanup_free char *def_text = config_default_json();
    cleanup_json json_t *def = json_loads(def_text, 0, NULL);
    const char *key;
    json_t *v;
    json_object_foreach(def, key, v)
    {
        json_t *got = json_object_get(json_object_get(explained, key), "value");
        /* the one list setting NVIDIA writes as a list */
        if (strcmp(key, "runtime") == 0)
            assert_string_equal(json_string_value(json_array_get(got, 0)), "runc");
        else if (!json_equal(got, v))
            fail_msg("`%s` reads back as %s", key, json_dumps(got, JSON_ENCODE_ANY));
    }
    for (size_t i = 0; i < l.len; i++)
        assert_true(l.items[i].use == NVKEY_READ || l.items[i].use == NVKEY_SAME);
    json_decref(explained);
    nvkey_list_clear(&l);
}

/* NVIDIA's file is read only as the file itself, as the other inputs the
 * hook reads on the host: a FIFO there never blocks (it would hold every
 * container's hook), a symlink or a device is refused without being opened,
 * each with a line that names it; where it was found by the search and not
 * named, the same. */
static void test_nvidia_file_type(void **state)
{
    (void)state;
    cleanup_free char *own_text = xasprintf("{\"discovery-cache\": \"%s/cache\"}", tmp);
    cleanup_free char *own = put("types/gctk.json", own_text);
    cleanup_free char *real = put("types/real.toml", "disable-require = true\n");
    cleanup_free char *fifo = xasprintf("%s/types/fifo.toml", tmp);
    cleanup_free char *link = xasprintf("%s/types/link.toml", tmp);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    assert_int_equal(symlink(real, link), 0);
    const char *const paths[] = {fifo, link};
    const char *const said[] = {"is a FIFO, not a regular file", "is a symlink (to `"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(paths); i++) {
        struct gctk_config c = {0};
        gctk_error *err = NULL;
        setenv(NVIDIA_CONFIG_PATH_ENV, paths[i], 1);
        assert_int_equal(config_load(own, &c, &err), -1);
        if (strstr(err->msg, paths[i]) == NULL || strstr(err->msg, said[i]) == NULL)
            fail_msg("%s: got `%s`", paths[i], err->msg);
        gctk_error_free(err);
    }
    /* found under the driver root, not named: refused the same */
    unsetenv(NVIDIA_CONFIG_PATH_ENV);
    cleanup_free char *root = xasprintf("%s/types/host", tmp);
    cleanup_free char *text =
        xasprintf("{\"root\": \"%s\", \"discovery-cache\": \"%s/cache\"}", root, tmp);
    cleanup_free char *rooted = put("types/rooted.json", text);
    cleanup_free char *dir = xasprintf("%s/etc/nvidia-container-runtime", root);
    gctk_error *err = NULL;
    assert_int_equal(mkdir_p(dir, 0755, &err), 0);
    cleanup_free char *planted = xasprintf("%s/config.toml", dir);
    assert_int_equal(mkfifo(planted, 0644), 0);
    struct gctk_config c = {0};
    assert_int_equal(config_load(rooted, &c, &err), -1);
    assert_non_null(strstr(err->msg, "is a FIFO"));
    gctk_error_free(err);
    err = NULL;
    /* the regular file itself is read */
    setenv(NVIDIA_CONFIG_PATH_ENV, real, 1);
    assert_int_equal(config_load(own, &c, &err), 0);
    assert_true(c.disable_require);
    unsigned long long with_nvidia = c.digest;
    config_clear(&c);
    /* the digest the discovery cache is keyed on follows NVIDIA's file too */
    free(put("types/real.toml", "disable-require = false\n"));
    assert_int_equal(config_load(own, &c, &err), 0);
    assert_true(c.digest != with_nvidia);
    unsigned long long changed_digest = c.digest;
    config_clear(&c);
    unsetenv(NVIDIA_CONFIG_PATH_ENV);
    assert_int_equal(config_load(own, &c, &err), 0);
    assert_true(c.digest != with_nvidia && c.digest != changed_digest);
    config_clear(&c);
}

/* config_settings_env: what a hook (the runtime's, the CDI spec's, Podman's
 * hooks.d entry) is told about the settings, in the working directory it
 * runs in: the set variables only, each as an absolute path */
static void test_settings_env(void **state)
{
    (void)state;
    struct strv e = {0};
    config_settings_env(&e);
    assert_int_equal(e.len, 0);
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(tmp), 0);
    setenv("GCTK_CONFIG", "conf/gctk.json", 1);
    setenv(NVIDIA_CONFIG_PATH_ENV, "/etc/nvidia-container-runtime/config.toml", 1);
    setenv("XDG_CONFIG_HOME", "", 1);
    config_settings_env(&e);
    assert_int_equal(e.len, 2);
    cleanup_free char *want = xasprintf("GCTK_CONFIG=%s/conf/gctk.json", tmp);
    assert_string_equal(e.items[0], want);
    assert_string_equal(e.items[1],
                        NVIDIA_CONFIG_PATH_ENV "=/etc/nvidia-container-runtime/config.toml");
    strv_clear(&e);
    /* from the root directory: one slash */
    assert_int_equal(chdir("/"), 0);
    setenv("XDG_CONFIG_HOME", "cfg", 1);
    config_settings_env(&e);
    assert_int_equal(e.len, 3);
    assert_string_equal(e.items[0], "GCTK_CONFIG=/conf/gctk.json");
    assert_string_equal(e.items[2], "XDG_CONFIG_HOME=/cfg");
    strv_clear(&e);
    assert_int_equal(chdir(cwd), 0);
    unsetenv("GCTK_CONFIG");
    unsetenv(NVIDIA_CONFIG_PATH_ENV);
    unsetenv("XDG_CONFIG_HOME");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_file_no_module), /* first: before any TOML is parsed */
        /* second: the same */
        cmocka_unit_test_teardown(test_nvidia_cache_no_module, unset_nvidia_env),
        cmocka_unit_test_teardown(test_nvidia_cache, unset_nvidia_env),
        cmocka_unit_test(test_default_file),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_type_errors),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_own_settings),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_defaults_round_trip),
        cmocka_unit_test(test_nvidia_file_type),
        cmocka_unit_test(test_settings_env),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
