/* Unit tests of gctk-runtime's work (lib/runtime/shim.c): finding the verb and the
 * bundle in runc command lines, and adding the hook to config.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <sys/stat.h>

#include "json.h"
#include "shim.h"

static char dir[] = "/tmp/gctk-test-shim.XXXXXX";
static struct gctk_config cfg = {.accept_nvidia_visible_devices_envvar_when_unprivileged = true};

static int setup(void **state)
{
    (void)state;
    unsetenv("GCTK_CONFIG");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    cleanup_free char *cmd = xasprintf("rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_parse_args(void **state)
{
    (void)state;
    char *docker[] = {"gctk-runtime", "--root",       "/run/x", "--log",
                      "/l.json",      "--log-format", "json",   "--systemd-cgroup",
                      "create",       "--bundle",     "/b/1",   "--pid-file",
                      "/p",           "id1",          NULL};
    struct shim_args a;
    shim_parse_args(13, docker, &a);
    assert_int_equal(a.verb, 8);
    assert_string_equal(a.bundle, "/b/1");
    assert_string_equal(a.log, "/l.json");
    assert_string_equal(a.log_format, "json");
    char *eq[] = {"r", "run", "-d", "--bundle=/b/2", "id", NULL};
    shim_parse_args(5, eq, &a);
    assert_int_equal(a.verb, 1);
    assert_string_equal(a.bundle, "/b/2");
    assert_null(a.log);
    char *none[] = {"r", "--debug", "--log=/x.log", NULL};
    shim_parse_args(3, none, &a);
    assert_int_equal(a.verb, -1);
    assert_null(a.bundle);
    assert_string_equal(a.log, "/x.log");
    char *state_verb[] = {"r", "state", "id", NULL};
    shim_parse_args(3, state_verb, &a);
    assert_string_equal(state_verb[a.verb], "state");
}

/* The runtime's error reaches containerd's shim through runc's log file */
static void test_log_error(void **state)
{
    (void)state;
    cleanup_free char *log = xasprintf("%s/log.json", dir);
    char *json_args[] = {"r", "--log", log, "--log-format", "json", "create", "id", NULL};
    struct shim_args a;
    shim_parse_args(7, json_args, &a);
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
    shim_parse_args(5, text_args, &a);
    shim_log_error(&a, "a \"quoted\" message");
    f = fopen(text, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    assert_non_null(strstr(line, " level=error msg=\"a \\\"quoted\\\" message\"\n"));

    char *no_log[] = {"r", "create", "id", NULL};
    shim_parse_args(3, no_log, &a);
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
    json_t *env = json_object_get(hook, "env");
    assert_string_equal(json_string_value(json_array_get(env, 0)),
                        "GCTK_CONFIG=/etc/gctk/test.json");
    /* the hook reads the same NVIDIA config.toml as the runtime */
    assert_string_equal(json_string_value(json_array_get(env, 1)),
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
    strv_clear(&c.cdi_spec_dirs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_args),
        cmocka_unit_test(test_log_error),
        cmocka_unit_test(test_adds_hook_for_gpu_containers),
        cmocka_unit_test(test_leaves_other_containers_alone),
        cmocka_unit_test(test_bad_config_json),
        cmocka_unit_test(test_request_forms),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
