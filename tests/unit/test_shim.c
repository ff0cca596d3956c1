/* Unit tests of gctk-runtime's work (lib/runtime/shim.c): finding the verb and the
 * bundle in runc command lines, and adding the hook to config.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <sys/stat.h>

#include "cdi.h"
#include "json.h"
#include "shim.h"

static char dir[] = "/tmp/gctk-test-shim.XXXXXX";
static struct gctk_config cfg = {.accept_nvidia_visible_devices_envvar_when_unprivileged = true};

static int setup(void **state)
{
    (void)state;
    /* the variables that name the settings (config_settings_env) are the
     * tests' own to set: none comes from the environment they run in */
    unsetenv("GCTK_CONFIG");
    unsetenv("NVIDIA_CTK_CONFIG_FILE_PATH");
    unsetenv("XDG_CONFIG_HOME");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    cleanup_free char *cmd = xasprintf("rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Parses argv (NULL-terminated) as gctk-runtime does: 0 and *a, or -1 and
 * the message in *msg (owned). */
static int parse(char **argv, struct shim_args *a, char **msg)
{
    int argc = 0;
    while (argv[argc] != NULL)
        argc++;
    gctk_error *err = NULL;
    int r = shim_parse_args(argc, argv, a, &err);
    if (msg != NULL)
        *msg = err != NULL ? xstrdup(err->msg) : NULL;
    gctk_error_free(err);
    return r;
}

static void test_parse_args(void **state)
{
    (void)state;
    char *docker[] = {"gctk-runtime", "--root",       "/run/x", "--log",
                      "/l.json",      "--log-format", "json",   "--systemd-cgroup",
                      "create",       "--bundle",     "/b/1",   "--pid-file",
                      "/p",           "id1",          NULL};
    struct shim_args a;
    assert_int_equal(parse(docker, &a, NULL), 0);
    assert_int_equal(a.verb, 8);
    assert_true(a.prepare);
    assert_string_equal(a.bundle, "/b/1");
    assert_string_equal(a.log, "/l.json");
    assert_string_equal(a.log_format, "json");
    char *eq[] = {"r", "run", "-d", "--bundle=/b/2", "id", NULL};
    assert_int_equal(parse(eq, &a, NULL), 0);
    assert_int_equal(a.verb, 1);
    assert_string_equal(a.bundle, "/b/2");
    assert_null(a.log);
    char *none[] = {"r", "--debug", "--log=/x.log", NULL};
    assert_int_equal(parse(none, &a, NULL), 0);
    assert_int_equal(a.verb, -1);
    assert_false(a.prepare);
    assert_string_equal(a.log, "/x.log");
    char *state_verb[] = {"r", "state", "id", NULL};
    assert_int_equal(parse(state_verb, &a, NULL), 0);
    assert_string_equal(state_verb[a.verb], "state");
    assert_false(a.prepare);
    /* no bundle, or an empty one: runc stays in its directory */
    char *cwd[] = {"r", "create", "id", NULL};
    char *empty[] = {"r", "create", "--bundle=", "id", NULL};
    assert_int_equal(parse(cwd, &a, NULL), 0);
    assert_string_equal(a.bundle, ".");
    assert_int_equal(parse(empty, &a, NULL), 0);
    assert_string_equal(a.bundle, ".");
}

/* Every spelling of the bundle option that runc's Go flags accept: one or
 * two dashes, the short or the long name, `=X` or ` X`, before or after the
 * container id; global options with one dash too. */
static void test_parse_bundle_spellings(void **state)
{
    (void)state;
    char *lines[][10] = {
        {"r", "create", "-b", "/B", "id", NULL},
        {"r", "create", "--b", "/B", "id", NULL},
        {"r", "create", "-b=/B", "id", NULL},
        {"r", "create", "--b=/B", "id", NULL},
        {"r", "create", "-bundle", "/B", "id", NULL},
        {"r", "create", "-bundle=/B", "id", NULL},
        {"r", "create", "--bundle", "/B", "id", NULL},
        {"r", "create", "--bundle=/B", "id", NULL},
        /* urfave/cli moves the options in front of the id */
        {"r", "create", "id", "--bundle", "/B", NULL},
        {"r", "create", "--pid-file", "/p", "id", "-b=/B", NULL},
        /* a value that begins with a dash is still the value */
        {"r", "create", "--pid-file", "-b", "--bundle", "/B", "id", NULL},
        /* the last of one name wins, as in Go */
        {"r", "create", "-b", "/A", "-b", "/B", "id", NULL},
        /* booleans take no value; -d=true is one */
        {"r", "run", "-d=true", "--no-pivot", "--keep=false", "-bundle", "/B", "id", NULL},
        {"r", "-root", "/run/r", "-log=/l", "-systemd-cgroup", "run", "-b", "/B", "id"},
        {"r", "--rootless", "false", "create", "--console-socket", "/s", "-b", "/B", "id"},
        {"r", "create", "--no-new-keyring", "--preserve-fds=3", "--bundle", "/B", "--", "id"},
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(lines); i++) {
        struct shim_args a;
        cleanup_free char *msg = NULL;
        if (parse(lines[i], &a, &msg) < 0)
            fail_msg("line %zu: %s", i, msg);
        if (!a.prepare || strcmp(a.bundle, "/B") != 0)
            fail_msg("line %zu: bundle `%s`", i, a.bundle ? a.bundle : "(null)");
    }
}

/* What runc would not read as one bundle and one container is refused, with
 * a line that names the option: never the config.json of the wrong
 * directory. */
static void test_parse_refuses(void **state)
{
    (void)state;
    struct {
        char *argv[8];
        const char *msg;
    } bad[] = {
        {{"r", "create", "--bundel", "/B", "id", NULL},
         "`--bundel` is not an option of `runc create`"},
        {{"r", "create", "-B", "/B", "id", NULL}, "`-B` is not an option"},
        {{"r", "create", "-b", NULL}, "`-b` for `runc create` needs a value"},
        /* the option takes the id as its value: no id is left */
        {{"r", "create", "id", "-b", NULL}, "not 0"},
        {{"r", "create", "-b", "/A", "--bundle", "/B", "id", NULL}, "two names of one option"},
        {{"r", "create", "---b", "/B", "id", NULL}, "bad option syntax `---b`"},
        {{"r", "run", "-d=maybe", "-b", "/B", "id", NULL}, "`maybe` is not a boolean"},
        {{"r", "create", "-b", "/B", NULL}, "takes one container id after its options, not 0"},
        {{"r", "create", "-b", "/B", "a", "b", NULL}, "not 2: `a`, `b`"},
        /* a boolean before the id takes the id as its value for urfave/cli,
         * and runc then sees three arguments */
        {{"r", "create", "--no-pivot", "id", "-b", "/B", NULL}, "not 3"},
        {{"r", "--unknown-global", "create", "-b", "/B", "id", NULL},
         "`--unknown-global` is not an option of runc"},
        {{"r", "--log", NULL}, "`--log` for runc needs a value"},
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(bad); i++) {
        struct shim_args a;
        cleanup_free char *msg = NULL;
        if (parse(bad[i].argv, &a, &msg) != -1)
            fail_msg("case %zu: accepted (bundle `%s`)", i, a.bundle ? a.bundle : "(null)");
        if (strstr(msg, bad[i].msg) == NULL)
            fail_msg("case %zu: `%s` does not say `%s`", i, msg, bad[i].msg);
    }
    /* the log read before the error is kept, for the error itself */
    char *late[] = {"r", "--log", "/l", "--log-format=json", "create", "--x", "id", NULL};
    struct shim_args a;
    assert_int_equal(parse(late, &a, NULL), -1);
    assert_string_equal(a.log, "/l");
    assert_string_equal(a.log_format, "json");
    /* help and version are runc's to answer: nothing is prepared */
    char *help[] = {"r", "create", "--help", NULL};
    char *version[] = {"r", "-v", NULL};
    assert_int_equal(parse(help, &a, NULL), 0);
    assert_false(a.prepare);
    assert_int_equal(parse(version, &a, NULL), 0);
    assert_false(a.prepare);
}

/* The runtime's error reaches containerd's shim through runc's log file */
static void test_log_error(void **state)
{
    (void)state;
    cleanup_free char *log = xasprintf("%s/log.json", dir);
    char *json_args[] = {"r", "--log", log, "--log-format", "json", "create", "id", NULL};
    struct shim_args a;
    assert_int_equal(parse(json_args, &a, NULL), 0);
    shim_log_error(&a, "gctk-runtime: unknown CDI device \"x/gpu=7\"");
    shim_log_error(&a, "second");
    FILE *f = fopen(log, "r");
    assert_non_null(f);
    char line[512];
    assert_non_null(fgets(line, sizeof(line), f));
    cleanup_json json_t *j = NULL;
    assert_int_equal(json_parse("the log's line", line, strlen(line), &j, NULL), 0);
    assert_string_equal(json_string_value(json_object_get(j, "level")), "error");
    assert_string_equal(json_string_value(json_object_get(j, "msg")),
                        "gctk-runtime: unknown CDI device \"x/gpu=7\"");
    assert_int_equal(strlen(json_string_value(json_object_get(j, "time"))), 20);
    assert_non_null(fgets(line, sizeof(line), f)); /* appended, not replaced */
    fclose(f);

    cleanup_free char *text = xasprintf("%s/log.txt", dir);
    char *text_args[] = {"r", "--log", text, "create", "id", NULL};
    assert_int_equal(parse(text_args, &a, NULL), 0);
    shim_log_error(&a, "a \"quoted\" message");
    f = fopen(text, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    assert_non_null(strstr(line, " level=error msg=\"a \\\"quoted\\\" message\"\n"));

    char *no_log[] = {"r", "create", "id", NULL};
    assert_int_equal(parse(no_log, &a, NULL), 0);
    shim_log_error(&a, "nowhere"); /* no --log: nothing, no crash */
}

static void bundle_with_env(const char *name, const char *env_json)
{
    cleanup_free char *b = xasprintf("%s/%s", dir, name);
    mkdir(b, 0755);
    cleanup_free char *path = xasprintf("%s/config.json", b);
    cleanup_free char *text = xasprintf("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
                                        "\"process\":{\"env\":%s},\"linux\":{}}",
                                        env_json);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static json_t *load(const char *name)
{
    cleanup_free char *path = xasprintf("%s/%s/config.json", dir, name);
    return json_load_file(path, 0, NULL);
}

static void test_adds_hook_for_gpu_containers(void **state)
{
    (void)state;
    bundle_with_env("gpu", "[\"NVIDIA_VISIBLE_DEVICES=1\"]");
    cleanup_free char *b = xasprintf("%s/gpu", dir);
    bool added = false;
    gctk_error *err = NULL;
    setenv("GCTK_CONFIG", "/etc/gctk/test.json", 1);
    setenv("NVIDIA_CTK_CONFIG_FILE_PATH", "/etc/nv/test.toml", 1);
    assert_int_equal(shim_prepare_bundle(b, &cfg, "/usr/bin/gctk-hook", &added, &err), 0);
    unsetenv("GCTK_CONFIG");
    unsetenv("NVIDIA_CTK_CONFIG_FILE_PATH");
    assert_true(added);
    json_t *c = load("gpu");
    json_t *hook = json_array_get(json_object_get(json_object_get(c, "hooks"), "prestart"), 0);
    assert_string_equal(json_string_value(json_object_get(hook, "path")), "/usr/bin/gctk-hook");
    /* the env every hook gctk writes gets (cdi_hook_env): PATH, then what
     * names the settings */
    json_t *env = json_object_get(hook, "env");
    assert_int_equal(json_array_size(env), 3);
    assert_string_equal(json_string_value(json_array_get(env, 0)), CDI_HOOK_PATH_ENV);
    assert_string_equal(json_string_value(json_array_get(env, 1)),
                        "GCTK_CONFIG=/etc/gctk/test.json");
    /* the hook reads the same NVIDIA config.toml as the runtime */
    assert_string_equal(json_string_value(json_array_get(env, 2)),
                        "NVIDIA_CTK_CONFIG_FILE_PATH=/etc/nv/test.toml");
    /* the rest of the spec is kept */
    assert_string_equal(json_string_value(json_object_get(c, "ociVersion")), "1.0.2");
    json_decref(c);
    /* a second pass finds the hook and adds nothing */
    assert_int_equal(shim_prepare_bundle(b, &cfg, "/usr/bin/gctk-hook", &added, &err), 0);
    assert_false(added);
}

static void test_leaves_other_containers_alone(void **state)
{
    (void)state;
    bundle_with_env("plain", "[\"PATH=/bin\"]");
    cleanup_free char *b = xasprintf("%s/plain", dir);
    cleanup_free char *path = xasprintf("%s/config.json", b);
    struct stat before, after;
    assert_int_equal(stat(path, &before), 0);
    bool added = true;
    gctk_error *err = NULL;
    assert_int_equal(shim_prepare_bundle(b, &cfg, "/usr/bin/gctk-hook", &added, &err), 0);
    assert_false(added);
    assert_int_equal(stat(path, &after), 0);
    assert_int_equal(before.st_ino, after.st_ino);
}

/* accept-nvidia-visible-devices-envvar-when-unprivileged false: no variable of an unprivileged
 * image gets the hook added, Swarm's included (an image can set it as well) */
static void test_unprivileged_env_refused(void **state)
{
    (void)state;
    struct gctk_config strict = {.accept_nvidia_visible_devices_envvar_when_unprivileged = false,
                                 .swarm_resource = "NVIDIA-GPU"};
    static const char *const envs[] = {"[\"NVIDIA_VISIBLE_DEVICES=all\"]",
                                       "[\"DOCKER_RESOURCE_NVIDIA_GPU=all\"]",
                                       "[\"DOCKER_RESOURCE_NVIDIA-GPU=all\"]"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(envs); i++) {
        cleanup_free char *name = xasprintf("unpriv%zu", i);
        bundle_with_env(name, envs[i]);
        cleanup_free char *b = xasprintf("%s/%s", dir, name);
        bool added = true;
        gctk_error *err = NULL;
        assert_int_equal(shim_prepare_bundle(b, &strict, "/usr/bin/gctk-hook", &added, &err), 0);
        if (added)
            fail_msg("the hook was added for %s", envs[i]);
    }
}

static void test_bad_config_json(void **state)
{
    (void)state;
    cleanup_free char *b = xasprintf("%s/bad", dir);
    mkdir(b, 0755);
    cleanup_free char *path = xasprintf("%s/config.json", b);
    FILE *f = fopen(path, "w");
    fputs("{\"root\": ", f);
    fclose(f);
    bool added = false;
    gctk_error *err = NULL;
    assert_int_equal(shim_prepare_bundle(b, &cfg, "/usr/bin/gctk-hook", &added, &err), -1);
    assert_non_null(strstr(err->msg, "config.json` line 1"));
    gctk_error_free(err);
    err = NULL;
    bundle_with_env("badcaps", "[\"NVIDIA_VISIBLE_DEVICES=0\", \"NVIDIA_DRIVER_CAPABILITIES=x\"]");
    cleanup_free char *b2 = xasprintf("%s/badcaps", dir);
    assert_int_equal(shim_prepare_bundle(b2, &cfg, "/usr/bin/gctk-hook", &added, &err), -1);
    assert_non_null(strstr(err->msg, "unknown driver capability `x`"));
    gctk_error_free(err);
}

/* NVIDIA_VISIBLE_DEVICES as NVIDIA's runtime reads it: jit-cdi names are GPU
 * ids (the hook), qualified names CDI devices of the configured spec
 * directories, plain ids too in cdi mode (runtime-mode, NVIDIA's mode = "cdi") */
static void test_request_forms(void **state)
{
    (void)state;
    cleanup_free char *specs = xasprintf("%s/cdi", dir);
    mkdir(specs, 0755);
    cleanup_free char *spec = xasprintf("%s/example.json", specs);
    FILE *f = fopen(spec, "w");
    fputs("{\"cdiVersion\": \"0.5.0\", \"kind\": \"example.com/gpu\", \"devices\": "
          "[{\"name\": \"0\", \"containerEdits\": {\"env\": [\"FROM_SPEC=0\"]}}]}",
          f);
    fclose(f);
    struct gctk_config c = cfg;
    c.cdi_spec_dirs = (struct strv){0};
    strv_push(&c.cdi_spec_dirs, xstrdup(specs));
    bool added = false;
    gctk_error *err = NULL;

    bundle_with_env("jit", "[\"NVIDIA_VISIBLE_DEVICES=runtime.nvidia.com/gpu=0\"]");
    cleanup_free char *jit = xasprintf("%s/jit", dir);
    assert_int_equal(shim_prepare_bundle(jit, &c, "/usr/bin/gctk-hook", &added, &err), 0);
    assert_true(added);
    json_t *j = load("jit");
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "hooks"), "prestart")), 1);
    json_decref(j);

    bundle_with_env("qualified", "[\"NVIDIA_VISIBLE_DEVICES=example.com/gpu=0\"]");
    cleanup_free char *qualified = xasprintf("%s/qualified", dir);
    assert_int_equal(shim_prepare_bundle(qualified, &c, "/usr/bin/gctk-hook", &added, &err), 0);
    j = load("qualified");
    assert_null(json_object_get(j, "hooks"));
    cleanup_free char *env = json_dumps(json_object_get(json_object_get(j, "process"), "env"), 0);
    assert_non_null(strstr(env, "FROM_SPEC=0"));
    json_decref(j);

    /* cdi mode: a plain id is a device of cdi-default-kind */
    c.runtime_mode = RUNTIME_MODE_CDI;
    c.cdi_default_kind = "example.com/gpu";
    bundle_with_env("cdimode", "[\"NVIDIA_VISIBLE_DEVICES=0\"]");
    cleanup_free char *cdimode = xasprintf("%s/cdimode", dir);
    assert_int_equal(shim_prepare_bundle(cdimode, &c, "/usr/bin/gctk-hook", &added, &err), 0);
    j = load("cdimode");
    assert_null(json_object_get(j, "hooks"));
    json_decref(j);
    bundle_with_env("cdimode1", "[\"NVIDIA_VISIBLE_DEVICES=1\"]");
    cleanup_free char *cdimode1 = xasprintf("%s/cdimode1", dir);
    assert_int_equal(shim_prepare_bundle(cdimode1, &c, "/usr/bin/gctk-hook", &added, &err), -1);
    assert_non_null(strstr(err->msg, "unresolvable CDI device `example.com/gpu=1`: "
                                     "`example.com/gpu` offers 0"));
    gctk_error_free(err);
    err = NULL;
    c.runtime_mode = RUNTIME_MODE_AUTO;

    /* a mix is refused before the runtime runs */
    bundle_with_env("mixed", "[\"NVIDIA_VISIBLE_DEVICES=0,example.com/gpu=0\"]");
    cleanup_free char *mixed = xasprintf("%s/mixed", dir);
    assert_int_equal(shim_prepare_bundle(mixed, &c, "/usr/bin/gctk-hook", &added, &err), -1);
    assert_non_null(strstr(err->msg, "mixes CDI devices (`example.com/gpu=0`) with GPU ids (`0`)"));
    gctk_error_free(err);
    err = NULL;

    /* a configured spec directory gets the same trust check as the default
     * ones: a spec anyone could have written is not used, and the error for
     * the device says why */
    assert_int_equal(chmod(spec, 0666), 0);
    bundle_with_env("untrusted", "[\"NVIDIA_VISIBLE_DEVICES=example.com/gpu=0\"]");
    cleanup_free char *untrusted = xasprintf("%s/untrusted", dir);
    assert_int_equal(shim_prepare_bundle(untrusted, &c, "/usr/bin/gctk-hook", &added, &err), -1);
    if (strstr(err->msg, "unresolvable CDI device `example.com/gpu=0`") == NULL ||
        strstr(err->msg, "is writable by group or others (mode 0666)") == NULL)
        fail_msg("got `%s`", err->msg);
    gctk_error_free(err);
    strv_clear(&c.cdi_spec_dirs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_args),
        cmocka_unit_test(test_parse_bundle_spellings),
        cmocka_unit_test(test_parse_refuses),
        cmocka_unit_test(test_log_error),
        cmocka_unit_test(test_adds_hook_for_gpu_containers),
        cmocka_unit_test(test_leaves_other_containers_alone),
        cmocka_unit_test(test_unprivileged_env_refused),
        cmocka_unit_test(test_bad_config_json),
        cmocka_unit_test(test_request_forms),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
