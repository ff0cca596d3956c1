/* Unit tests of what a container asks for (lib/container/request.c), the OCI inputs
 * (lib/container/oci.c) and gctk's settings file (lib/util/config.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "config.h"
#include "oci.h"
#include "request.h"

static struct gctk_config cfg;

static int setup(void **state)
{
    (void)state;
    gctk_error *err = NULL;
    unsetenv("GCTK_CONFIG");
    /* the built-in defaults: an explicit path that does not exist is an
     * error, so load from a fresh empty object instead, and an empty NVIDIA
     * config.toml, whatever this machine has */
    FILE *f = fopen("/tmp/gctk-test-request.json", "w");
    fputs("{}", f);
    fclose(f);
    f = fopen("/tmp/gctk-test-request.toml", "w");
    fclose(f);
    setenv(NVIDIA_CONFIG_PATH_ENV, "/tmp/gctk-test-request.toml", 1);
    int r = config_load("/tmp/gctk-test-request.json", &cfg, &err);
    unlink("/tmp/gctk-test-request.json");
    unlink("/tmp/gctk-test-request.toml");
    unsetenv(NVIDIA_CONFIG_PATH_ENV);
    return r;
}

static int teardown(void **state)
{
    (void)state;
    config_clear(&cfg);
    return 0;
}

static void env_of(struct strv *env, const char *const *items)
{
    for (size_t i = 0; items[i] != NULL; i++)
        strv_push(env, xstrdup(items[i]));
}

static struct request ask(const char *const *items, bool privileged)
{
    struct strv env = {0};
    env_of(&env, items);
    struct request r = {0};
    gctk_error *err = NULL;
    if (request_from_env(&env, privileged, &cfg, &r, &err) < 0)
        fail_msg("request: %s", err->msg);
    strv_clear(&env);
    return r;
}

static void test_not_a_gpu_container(void **state)
{
    (void)state;
    const char *unset[] = {"PATH=/bin", NULL};
    const char *voids[] = {"NVIDIA_VISIBLE_DEVICES=void", NULL};
    const char *empty[] = {"NVIDIA_VISIBLE_DEVICES=", NULL};
    struct request r = ask(unset, false);
    assert_null(r.devices);
    request_clear(&r);
    r = ask(voids, false);
    assert_null(r.devices);
    request_clear(&r);
    r = ask(empty, false);
    assert_null(r.devices);
    request_clear(&r);
}

static void test_devices_caps_defaults(void **state)
{
    (void)state;
    const char *e[] = {"NVIDIA_VISIBLE_DEVICES=0,1", "NVIDIA_VISIBLE_DEVICES=2", NULL};
    struct request r = ask(e, false);
    assert_string_equal(r.devices, "2"); /* the last definition wins */
    assert_int_equal(r.caps, GCTK_CAP_UTILITY | GCTK_CAP_COMPUTE);
    assert_int_equal(r.requires.len, 0);
    request_clear(&r);
    const char *c[] = {"NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_DRIVER_CAPABILITIES=graphics,video",
                       NULL};
    r = ask(c, false);
    assert_int_equal(r.caps, GCTK_CAP_GRAPHICS | GCTK_CAP_VIDEO);
    request_clear(&r);
}

static void test_bad_capability(void **state)
{
    (void)state;
    struct strv env = {0};
    const char *e[] = {"NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_DRIVER_CAPABILITIES=compute,gpu",
                       NULL};
    env_of(&env, e);
    struct request r = {0};
    gctk_error *err = NULL;
    assert_int_equal(request_from_env(&env, false, &cfg, &r, &err), -1);
    assert_true(str_has_prefix(err->msg, "NVIDIA_DRIVER_CAPABILITIES: unknown driver capability "
                                         "`gpu`"));
    gctk_error_free(err);
    strv_clear(&env);
}

/* supported-driver-capabilities (NVIDIA's key of that name): the defaults
 * and `all` shrink to it, a capability asked for by name beyond it fails */
static void test_supported_capabilities(void **state)
{
    (void)state;
    char *saved = cfg.supported_driver_capabilities;
    cfg.supported_driver_capabilities = "utility,video";
    const char *all[] = {"NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=all", NULL};
    const char *unset[] = {"NVIDIA_VISIBLE_DEVICES=0", NULL};
    const char *legacy[] = {"CUDA_VERSION=11.8.0", NULL};
    const char *video[] = {"NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=video", NULL};
    struct request r = ask(all, false);
    assert_int_equal(r.caps, GCTK_CAP_UTILITY | GCTK_CAP_VIDEO);
    request_clear(&r);
    r = ask(unset, false);
    assert_int_equal(r.caps, GCTK_CAP_UTILITY);
    request_clear(&r);
    r = ask(legacy, false);
    assert_int_equal(r.caps, GCTK_CAP_UTILITY | GCTK_CAP_VIDEO);
    request_clear(&r);
    r = ask(video, false);
    assert_int_equal(r.caps, GCTK_CAP_VIDEO);
    request_clear(&r);

    struct strv env = {0};
    const char *beyond[] = {"NVIDIA_VISIBLE_DEVICES=0",
                            "NVIDIA_DRIVER_CAPABILITIES=compute,graphics,utility", NULL};
    env_of(&env, beyond);
    gctk_error *err = NULL;
    assert_int_equal(request_from_env(&env, false, &cfg, &r, &err), -1);
    assert_string_equal(err->msg,
                        "NVIDIA_DRIVER_CAPABILITIES asks for compute,graphics, which this host "
                        "does not give containers (supported-driver-capabilities: utility,video): "
                        "ask for those, or change the setting (`gctk config` shows where it is "
                        "set)");
    gctk_error_free(err);
    err = NULL;
    /* a container that asks for no GPU is not refused for its capabilities */
    strv_clear(&env);
    const char *no_gpu[] = {"NVIDIA_DRIVER_CAPABILITIES=graphics", NULL};
    env_of(&env, no_gpu);
    assert_int_equal(request_from_env(&env, false, &cfg, &r, &err), 0);
    request_clear(&r);
    /* a setting that is no list of capabilities says so */
    strv_clear(&env);
    env_of(&env, unset);
    cfg.supported_driver_capabilities = "compute,gpu";
    assert_int_equal(request_from_env(&env, false, &cfg, &r, &err), -1);
    assert_string_equal(err->msg, "supported-driver-capabilities `compute,gpu` of gctk's settings: "
                                  "unknown driver capability `gpu`: use a comma list of utility, "
                                  "compute, video, graphics, display, ngx, compat32, or all");
    gctk_error_free(err);
    strv_clear(&env);
    cfg.supported_driver_capabilities = saved;
}

static void test_legacy_cuda_image(void **state)
{
    (void)state;
    const char *e[] = {"CUDA_VERSION=11.8.0", NULL};
    struct request r = ask(e, false);
    assert_true(r.legacy);
    assert_string_equal(r.devices, "all");
    assert_int_equal(r.caps, GCTK_CAP_ALL);
    assert_int_equal(r.requires.len, 1);
    assert_string_equal(r.requires.items[0], "cuda>=11.8");
    request_clear(&r);
    /* a modern CUDA image names its requirement: not legacy, not a GPU container by itself */
    const char *m[] = {"CUDA_VERSION=12.4.1", "NVIDIA_REQUIRE_CUDA=cuda>=12.4", NULL};
    r = ask(m, false);
    assert_false(r.legacy);
    assert_null(r.devices);
    request_clear(&r);
}

static void test_requirements_and_disable(void **state)
{
    (void)state;
    const char *e[] = {"NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_REQUIRE_CUDA=cuda>=12.0",
                       "NVIDIA_REQUIRE_ARCH=arch>=8.0", "NVIDIA_REQUIRE_EMPTY=", NULL};
    struct request r = ask(e, false);
    assert_int_equal(r.requires.len, 2);
    request_clear(&r);
    const char *d[] = {"NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_REQUIRE_CUDA=cuda>=99",
                       "NVIDIA_DISABLE_REQUIRE=true", NULL};
    r = ask(d, false);
    assert_int_equal(r.requires.len, 0);
    request_clear(&r);
    /* a value that is not a boolean leaves them on, and the log says so */
    const char *m[] = {"NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_REQUIRE_CUDA=cuda>=99",
                       "NVIDIA_DISABLE_REQUIRE=please", NULL};
    r = ask(m, false);
    assert_int_equal(r.requires.len, 1);
    assert_non_null(r.ignored);
    assert_non_null(strstr(r.ignored, "NVIDIA_DISABLE_REQUIRE=`please` is not true or false"));
    request_clear(&r);
}

static void test_swarm_resource_wins(void **state)
{
    (void)state;
    cleanup_free char *name = swarm_resource_env_name("nvidia-gpu", false);
    cleanup_free char *under = swarm_resource_env_name("NVIDIA-GPU", true);
    assert_string_equal(name, "DOCKER_RESOURCE_NVIDIA-GPU");
    assert_string_equal(under, "DOCKER_RESOURCE_NVIDIA_GPU");
    const char *e[] = {"NVIDIA_VISIBLE_DEVICES=all", "DOCKER_RESOURCE_NVIDIA-GPU=GPU-abc,GPU-def",
                       NULL};
    /* off by default, as NVIDIA's swarm-resource */
    assert_null(cfg.swarm_resource);
    struct request r = ask(e, false);
    assert_string_equal(r.devices, "all");
    request_clear(&r);
    cfg.swarm_resource = xstrdup("NVIDIA-GPU");
    r = ask(e, false);
    assert_string_equal(r.devices, "GPU-abc,GPU-def");
    assert_string_equal(r.devices_from, "DOCKER_RESOURCE");
    request_clear(&r);
    const char *u[] = {"DOCKER_RESOURCE_NVIDIA_GPU=GPU-abc", NULL};
    r = ask(u, false);
    assert_string_equal(r.devices, "GPU-abc");
    request_clear(&r);
    free(cfg.swarm_resource);
    cfg.swarm_resource = NULL;
}

static void test_unprivileged_policy(void **state)
{
    (void)state;
    cfg.accept_nvidia_visible_devices_envvar_when_unprivileged = false;
    const char *e[] = {"NVIDIA_VISIBLE_DEVICES=all", NULL};
    struct request r = ask(e, false);
    assert_null(r.devices);
    assert_non_null(strstr(r.ignored, "unprivileged containers may not ask"));
    request_clear(&r);
    r = ask(e, true);
    assert_string_equal(r.devices, "all");
    request_clear(&r);
    /* the rule holds for every variable of the image: Swarm's spellings too
     * (an image can set DOCKER_RESOURCE_NVIDIA_GPU=all as easily) */
    cfg.swarm_resource = xstrdup("NVIDIA-GPU");
    const char *swarm[] = {"DOCKER_RESOURCE_NVIDIA_GPU=all", NULL};
    const char *swarm_dash[] = {"DOCKER_RESOURCE_NVIDIA-GPU=all", NULL};
    const char *legacy[] = {"CUDA_VERSION=12.4.1", NULL};
    const char *const *asks[] = {swarm, swarm_dash, legacy};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(asks); i++) {
        r = ask(asks[i], false);
        assert_null(r.devices);
        assert_non_null(strstr(r.ignored, "unprivileged containers may not ask"));
        request_clear(&r);
        r = ask(asks[i], true);
        assert_string_equal(r.devices, "all");
        request_clear(&r);
    }
    free(cfg.swarm_resource);
    cfg.swarm_resource = NULL;
    cfg.accept_nvidia_visible_devices_envvar_when_unprivileged = true;
}

/* NVIDIA_IMEX_CHANNELS, as NVIDIA's toolkit 1.18 reads it: for GPU
 * containers that may ask through their environment; `all` names none. */
static void test_imex_channels(void **state)
{
    (void)state;
    const char *e[] = {"NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_IMEX_CHANNELS=0,1", NULL};
    struct request r = ask(e, false);
    assert_string_equal(r.imex, "0,1");
    assert_null(r.ignored);
    request_clear(&r);
    const char *no_gpu[] = {"NVIDIA_IMEX_CHANNELS=0", NULL};
    r = ask(no_gpu, true);
    assert_null(r.imex);
    request_clear(&r);
    const char *all[] = {"NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_IMEX_CHANNELS=1, all", NULL};
    r = ask(all, true);
    assert_null(r.imex);
    assert_non_null(
        strstr(r.ignored, "NVIDIA_IMEX_CHANNELS=1, all ignored: `all` names no channel"));
    request_clear(&r);
    /* Swarm's variable obeys the unprivileged rule too: an unprivileged
     * container gets neither its GPU nor the IMEX channels */
    cfg.accept_nvidia_visible_devices_envvar_when_unprivileged = false;
    cfg.swarm_resource = xstrdup("NVIDIA-GPU");
    const char *swarm[] = {"DOCKER_RESOURCE_NVIDIA-GPU=0", "NVIDIA_IMEX_CHANNELS=0", NULL};
    r = ask(swarm, false);
    assert_null(r.devices);
    assert_null(r.imex);
    assert_non_null(strstr(r.ignored, "unprivileged containers may not ask for GPUs"));
    request_clear(&r);
    r = ask(swarm, true);
    assert_string_equal(r.imex, "0");
    request_clear(&r);
    free(cfg.swarm_resource);
    cfg.swarm_resource = NULL;
    cfg.accept_nvidia_visible_devices_envvar_when_unprivileged = true;
}

static void test_oci_state(void **state)
{
    (void)state;
    struct oci_state s = {0};
    gctk_error *err = NULL;
    const char *good = "{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"pid\":42,\"bundle\":\"/b\"}";
    assert_int_equal(oci_state_parse(good, strlen(good), 0, &s, &err), 0);
    assert_int_equal(s.pid, 42);
    assert_string_equal(s.bundle, "/b");
    oci_state_clear(&s);
    const char *bad[] = {"",
                         "[]",
                         "{\"pid\":0,\"bundle\":\"/b\"}",
                         "{\"pid\":1,\"bundle\":\"b\"}",
                         "{\"pid\":\"1\",\"bundle\":\"/b\"}",
                         "{\"pid\":1",
                         NULL};
    for (size_t i = 0; bad[i] != NULL; i++) {
        assert_int_equal(oci_state_parse(bad[i], strlen(bad[i]), 0, &s, &err), -1);
        assert_true(str_has_prefix(err->msg, "OCI state on stdin"));
        gctk_error_free(err);
        err = NULL;
    }
}

static void test_oci_spec(void **state)
{
    (void)state;
    struct oci_spec s = {0};
    gctk_error *err = NULL;
    const char *good = "{\"root\":{\"path\":\"rootfs\"},\"process\":{\"env\":[\"A=1\",\"A=2\"],"
                       "\"capabilities\":{\"bounding\":[\"CAP_SYS_ADMIN\"]}},"
                       "\"annotations\":{\"cdi.k8s.io/x\":\"nvidia.com/gpu=0\"}}";
    assert_int_equal(oci_spec_parse(good, strlen(good), "/bundle", &s, &err), 0);
    assert_string_equal(s.rootfs, "/bundle/rootfs");
    assert_true(s.privileged);
    assert_string_equal(env_get(&s.env, "A"), "2");
    assert_null(env_get(&s.env, "B"));
    assert_string_equal(s.annotations.items[0], "cdi.k8s.io/x=nvidia.com/gpu=0");
    oci_spec_clear(&s);
    const char *bad[] = {"{}",
                         "{\"root\":{\"path\":\"\"}}",
                         "{\"root\":{\"path\":\"/r\"},\"process\":{\"env\":[1]}}",
                         "{\"root\":{\"path\":\"/r\"},\"process\":{\"env\":\"A=1\"}}",
                         "nope",
                         NULL};
    for (size_t i = 0; bad[i] != NULL; i++) {
        assert_int_equal(oci_spec_parse(bad[i], strlen(bad[i]), "/b", &s, &err), -1);
        assert_true(str_has_prefix(err->msg, "config.json"));
        gctk_error_free(err);
        err = NULL;
    }
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_config_file(void **state)
{
    (void)state;
    const char *p = "/tmp/gctk-test-config.json";
    struct gctk_config c = {0};
    gctk_error *err = NULL;
    write_text(p, "{\"root\": \"/sim\", \"ldconfig\": \"none\", \"log\": null, "
                  "\"no-cgroups\": true}");
    setenv("GCTK_CONFIG", p, 1);
    assert_int_equal(config_load(NULL, &c, &err), 0);
    unsetenv("GCTK_CONFIG");
    assert_string_equal(c.root, "/sim");
    assert_int_equal(c.ldconfig, LDCONFIG_NONE);
    assert_null(c.log);
    assert_true(c.no_cgroups);
    assert_int_equal(c.runtimes.len, 1);
    assert_string_equal(c.runtimes.items[0], "runc");
    config_clear(&c);
    struct {
        const char *text, *msg;
    } bad[] = {
        {"{\"rooot\": \"/\"}", "unknown setting `rooot`"},
        {"{\"ldconfig\": \"host\"}", "`ldconfig` must be \"internal\" or \"none\""},
        {"{\"no-cgroups\": \"yes\"}", "`no-cgroups` must be true or false"},
        {"{\"root\": \"\"}", "`root` must be a non-empty string"},
        {"{\n\"root\": \"/\",\n}", "line 3 column 1"},
        {"[]", "not a JSON object"},
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(bad); i++) {
        write_text(p, bad[i].text);
        assert_int_equal(config_load(p, &c, &err), -1);
        if (strstr(err->msg, bad[i].msg) == NULL)
            fail_msg("`%s`: got `%s`", bad[i].text, err->msg);
        gctk_error_free(err);
        err = NULL;
    }
    unlink(p);
    assert_int_equal(config_load(p, &c, &err), -1);
    assert_true(strstr(err->msg, "No such file") != NULL);
    gctk_error_free(err);
    cleanup_free char *def = config_default_json();
    write_text(p, def);
    assert_int_equal(config_load(p, &c, &err), 0);
    config_clear(&c);
    unlink(p);
}

/* NVIDIA's names of the policy, and gctk's old one as an alias */
static void test_config_policy_keys(void **state)
{
    (void)state;
    const char *p = "/tmp/gctk-test-config-policy.json";
    struct gctk_config c = {0};
    gctk_error *err = NULL;
    assert_true(
        cfg.accept_nvidia_visible_devices_envvar_when_unprivileged); /* the defaults: NVIDIA's */
    assert_false(cfg.accept_nvidia_visible_devices_as_volume_mounts);
    write_text(p, "{\"accept-nvidia-visible-devices-envvar-when-unprivileged\": false, "
                  "\"accept-nvidia-visible-devices-as-volume-mounts\": true}");
    assert_int_equal(config_load(p, &c, &err), 0);
    assert_false(c.accept_nvidia_visible_devices_envvar_when_unprivileged);
    assert_true(c.accept_nvidia_visible_devices_as_volume_mounts);
    config_clear(&c);
    write_text(p, "{\"allow-unprivileged-env\": false}");
    assert_int_equal(config_load(p, &c, &err), 0);
    assert_false(c.accept_nvidia_visible_devices_envvar_when_unprivileged);
    config_clear(&c);
    /* both names, one value: fine; two values: which one? refused */
    write_text(p, "{\"allow-unprivileged-env\": false, "
                  "\"accept-nvidia-visible-devices-envvar-when-unprivileged\": false}");
    assert_int_equal(config_load(p, &c, &err), 0);
    config_clear(&c);
    write_text(p, "{\"allow-unprivileged-env\": true, "
                  "\"accept-nvidia-visible-devices-envvar-when-unprivileged\": false}");
    assert_int_equal(config_load(p, &c, &err), -1);
    assert_non_null(strstr(err->msg, "is the old name of"));
    gctk_error_free(err);
    unlink(p);
}

/* spec_of ENV MOUNTS: a config.json with those (JSON arrays) */
static void spec_of(const char *env, const char *mounts, bool privileged, struct oci_spec *s)
{
    cleanup_free char *text =
        xasprintf("{\"root\": {\"path\": \"rootfs\"}, \"process\": {\"env\": %s, "
                  "\"capabilities\": {\"bounding\": [%s]}}, \"mounts\": %s}",
                  env, privileged ? "\"CAP_SYS_ADMIN\"" : "", mounts);
    gctk_error *err = NULL;
    assert_int_equal(oci_spec_parse(text, strlen(text), "/b", s, &err), 0);
}

/* the device plugin's volume-mounts list, and the policy that takes it */
static void test_volume_mounts(void **state)
{
    (void)state;
    const char *env = "[\"NVIDIA_VISIBLE_DEVICES=/var/run/nvidia-container-devices\"]";
    const char *mounts =
        "[{\"source\": \"/dev/null\", \"destination\": "
        "\"/var/run/nvidia-container-devices/GPU-b\"},"
        " {\"source\": \"/dev//null\", \"destination\": \"/var/run/nvidia-container-devices//1/\"},"
        " {\"source\": \"/dev/null\", \"destination\": "
        "\"/var/run/nvidia-container-devices/GPU-b\"},"
        " {\"source\": \"/tmp/x\", \"destination\": \"/var/run/nvidia-container-devices/2\"},"
        " {\"source\": \"/dev/null\", \"destination\": \"/var/run/nvidia-container-devices/../3\"},"
        " {\"source\": \"/dev/null\", \"destination\": \"/var/run/other/4\"}]";
    struct oci_spec s = {0};
    spec_of(env, mounts, false, &s);
    /* only /dev/null under the root, each once, in order */
    assert_int_equal(s.volume_devices.len, 2);
    assert_string_equal(s.volume_devices.items[0], "GPU-b");
    assert_string_equal(s.volume_devices.items[1], "1");
    gctk_error *err = NULL;
    struct request r = {0};
    /* off (the default): the placeholder is refused, the setting named */
    assert_int_equal(request_from_spec(&s, &cfg, &r, &err), -1);
    assert_non_null(strstr(err->msg, "accept-nvidia-visible-devices-as-volume-mounts"));
    gctk_error_free(err);
    err = NULL;
    cfg.accept_nvidia_visible_devices_as_volume_mounts = true;
    assert_int_equal(request_from_spec(&s, &cfg, &r, &err), 0);
    assert_string_equal(r.devices, "GPU-b,1");
    assert_non_null(strstr(r.devices_from, "volume mounts"));
    request_clear(&r);
    /* the mounts come from the engine: the environment policy does not apply */
    cfg.accept_nvidia_visible_devices_envvar_when_unprivileged = false;
    assert_int_equal(request_from_spec(&s, &cfg, &r, &err), 0);
    assert_string_equal(r.devices, "GPU-b,1");
    request_clear(&r);
    oci_spec_clear(&s);
    /* the placeholder without a list: nothing asked */
    cfg.accept_nvidia_visible_devices_envvar_when_unprivileged = true;
    spec_of(env, "[]", false, &s);
    assert_int_equal(request_from_spec(&s, &cfg, &r, &err), 0);
    assert_null(r.devices);
    assert_non_null(r.ignored);
    request_clear(&r);
    oci_spec_clear(&s);
    /* a CDI name as a mount is refused by name */
    spec_of(env,
            "[{\"source\": \"/dev/null\", "
            "\"destination\": \"/var/run/nvidia-container-devices/cdi/nvidia.com/gpu/0\"}]",
            false, &s);
    assert_int_equal(request_from_spec(&s, &cfg, &r, &err), -1);
    assert_non_null(strstr(err->msg, "cdi-annotations or cdi-cri"));
    gctk_error_free(err);
    oci_spec_clear(&s);
    /* off, and an unprivileged container's environment not accepted: the
     * placeholder is ignored with the rest of the environment */
    cfg.accept_nvidia_visible_devices_as_volume_mounts = false;
    cfg.accept_nvidia_visible_devices_envvar_when_unprivileged = false;
    spec_of(env, mounts, false, &s);
    assert_int_equal(request_from_spec(&s, &cfg, &r, &err), 0);
    assert_null(r.devices);
    request_clear(&r);
    oci_spec_clear(&s);
    cfg.accept_nvidia_visible_devices_envvar_when_unprivileged = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_a_gpu_container),
        cmocka_unit_test(test_devices_caps_defaults),
        cmocka_unit_test(test_bad_capability),
        cmocka_unit_test(test_supported_capabilities),
        cmocka_unit_test(test_legacy_cuda_image),
        cmocka_unit_test(test_requirements_and_disable),
        cmocka_unit_test(test_swarm_resource_wins),
        cmocka_unit_test(test_unprivileged_policy),
        cmocka_unit_test(test_imex_channels),
        cmocka_unit_test(test_oci_state),
        cmocka_unit_test(test_oci_spec),
        cmocka_unit_test(test_config_file),
        cmocka_unit_test(test_config_policy_keys),
        cmocka_unit_test(test_volume_mounts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
