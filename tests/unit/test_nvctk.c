/* Unit tests of nvidia-ctk's command line (cmd/gctk/nvctk-flags.c): each of
 * NVIDIA's commands and flags becomes gctk's command line, or one line that
 * names what gctk does not take and what to use instead. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "nvctk.h"

/* parses a space-separated command line; "gctk argv" or "error: why" */
static char *parse(const char *line)
{
    cleanup_free char *copy = xstrdup(line);
    struct strv words = {0};
    strv_push(&words, xstrdup("nvidia-ctk"));
    char *save = NULL;
    for (char *w = strtok_r(copy, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save))
        strv_push(&words, xstrdup(w));
    struct nvctk_call c = {0};
    char *why = NULL;
    char *out;
    if (nvctk_parse((int)words.len, words.items, &c, &why) < 0) {
        out = xasprintf("error: %s", why);
        free(why);
    } else if (c.action == NVCTK_GCTK) {
        out = strv_join(&c.argv, " ");
    } else {
        out = xasprintf("action %d", c.action);
    }
    nvctk_call_clear(&c);
    strv_clear(&words);
    return out;
}

static void check(const char *line, const char *want)
{
    cleanup_free char *got = parse(line);
    if (strncmp(got, want, strlen(want)) != 0)
        fail_msg("`nvidia-ctk %s`:\n  got  `%s`\n  want `%s`", line, got, want);
}

static void test_runtime_configure(void **state)
{
    (void)state;
    /* the seed guide's command, verbatim */
    check("runtime configure --runtime=docker", "runtime configure --runtime=docker");
    check("runtime configure", "runtime configure --runtime=docker");
    check("runtime configure --runtime docker --config=/x/daemon.json --set-as-default --dry-run",
          "runtime configure --runtime=docker --config=/x/daemon.json --set-as-default --dry-run");
    check("runtime configure --nvidia-set-as-default --cdi.enabled",
          "runtime configure --runtime=docker --set-as-default --cdi");
    check("runtime configure --enable-cdi=true --cdi.enable=false",
          "runtime configure --runtime=docker --cdi");
    check("-debug runtime configure -runtime=docker -nvidia-runtime-name=gpu",
          "runtime configure --runtime=docker --runtime-name=gpu");
    check("runtime configure --nvidia-runtime-path=/opt/rt --runtime-path /opt/rt2",
          "runtime configure --runtime=docker --runtime-path=/opt/rt2");
    /* containerd and CRI-O: the main file, the drop-in, where the settings
     * are read from: gctk's flags of the same names and meanings */
    check("runtime configure --runtime=containerd --set-as-default --cdi.enabled",
          "runtime configure --runtime=containerd --set-as-default --cdi");
    check("runtime configure --runtime=containerd --config=/etc/containerd/config.toml "
          "--drop-in-config=/etc/containerd/conf.d/50-gpu.toml",
          "runtime configure --runtime=containerd --config=/etc/containerd/config.toml "
          "--drop-in-config=/etc/containerd/conf.d/50-gpu.toml");
    check("runtime configure --runtime=crio --config=/etc/crio/crio.conf",
          "runtime configure --runtime=crio --config=/etc/crio/crio.conf");
    check("runtime configure --runtime=crio --cdi.enabled",
          "runtime configure --runtime=crio --cdi");
    check("runtime configure --config-source=file --config-mode=config-file",
          "runtime configure --runtime=docker --config-source=file");
    check("runtime configure --runtime=containerd --config-source=command "
          "--executable-path=/usr/bin/containerd",
          "runtime configure --runtime=containerd --config-source=command "
          "--executable-path=/usr/bin/containerd");
    check("runtime configure --drop-in-config=/x.json",
          "runtime configure --runtime=docker --drop-in-config=/x.json");
    /* the deprecated OCI hook file: Podman's and CRI-O's hooks.d */
    check("runtime configure --config-mode=oci-hook --oci-hook-path=/usr/share/containers/oci/"
          "hooks.d/oci-nvidia-hook.json",
          "runtime configure --runtime=podman --config=/usr/share/containers/oci/hooks.d/"
          "oci-nvidia-hook.json");
    check("runtime configure --config-mode=oci-hook",
          "runtime configure --runtime=podman --dry-run");

    check("runtime configure --runtime=podman",
          "error: nvidia-ctk runtime configure: unrecognized runtime `podman`: use docker, "
          "containerd or crio (`gctk runtime configure --runtime=podman` registers the hook with "
          "Podman)");
    check("runtime configure --runtime=containerd --drop-in-config=",
          "error: nvidia-ctk runtime configure: --drop-in-config=\"\" edits containerd's main "
          "config");
    check("runtime configure --oci-hook-path=/x.json",
          "error: nvidia-ctk runtime configure: --oci-hook-path is for --config-mode=oci-hook");
    check("runtime configure --nvidia-runtime-hook-path=/usr/bin/hook",
          "error: nvidia-ctk runtime configure: --nvidia-runtime-hook-path is for "
          "--config-mode=oci-hook");
    check("runtime configure --config-mode=oci-hook --set-as-default",
          "error: nvidia-ctk runtime configure: --config-mode=oci-hook writes a hook file only");
    check("runtime configure --cdi",
          "error: nvidia-ctk runtime configure: unknown flag `--cdi`: `nvidia-ctk runtime "
          "configure --help` lists the flags gctk takes");
    check("runtime configure --dry-run=maybe",
          "error: nvidia-ctk runtime configure: --dry-run=maybe: use true or false");
    check("runtime configure --runtime",
          "error: nvidia-ctk runtime configure: `--runtime` needs a value");
    check("runtime configure extra", "error: nvidia-ctk runtime configure: unexpected argument");
}

static void test_cdi(void **state)
{
    (void)state;
    /* NVIDIA's defaults: YAML, devices by index and by UUID */
    check("cdi generate", "cdi generate --format=yaml --device-name-strategy=both");
    check("cdi generate --output=/etc/cdi/nvidia.yaml",
          "cdi generate --output=/etc/cdi/nvidia.yaml --format=yaml --device-name-strategy=both");
    check("cdi generate --output /etc/cdi/nvidia.json",
          "cdi generate --output=/etc/cdi/nvidia.json --format=json");
    check("cdi generate --output /x.json --format yaml", "cdi generate --output=/x.json "
                                                         "--format=yaml");
    check("cdi generate --device-name-strategy=uuid --mode=nvml --driver-root=/run/nvidia/driver "
          "--dev-root=/run/nvidia/driver/",
          "cdi generate --format=yaml --device-name-strategy=uuid --root=/run/nvidia/driver");
    check("cdi generate --device-name-strategy index --device-name-strategy=uuid --mode AUTO",
          "cdi generate --format=yaml --device-name-strategy=both");
    check("cdi generate --cdi-vendor=example.com --class=nic --nvidia-ctk-path=/usr/bin/gctk",
          "cdi generate --format=yaml --device-name-strategy=both --vendor=example.com "
          "--class=nic --gctk-path=/usr/bin/gctk");
    check("cdi generate --mode=csv",
          "error: nvidia-ctk cdi generate: --mode=csv is not supported by gctk: gctk generates "
          "the spec of the GPUs from the driver (--mode nvml, or auto)");
    check("cdi generate --mode=legacy", "error: nvidia-ctk cdi generate: --mode=legacy is no "
                                        "discovery mode");
    check("cdi generate --device-name-strategy=type-index",
          "error: nvidia-ctk cdi generate: --device-name-strategy=type-index is not supported by "
          "gctk: gctk names devices by index or UUID");
    check("cdi generate --format=xml", "error: nvidia-ctk cdi generate: invalid output format "
                                       "`xml`: use json or yaml");
    check("cdi generate --dev-root=/", "cdi generate --format=yaml --device-name-strategy=both");
    check("cdi generate --driver-root=/run/nvidia/driver --dev-root=/",
          "error: nvidia-ctk cdi generate: --dev-root=/ differs from the driver root "
          "`/run/nvidia/driver`");
    check("cdi generate --ldconfig-path=/sbin/ldconfig",
          "error: nvidia-ctk cdi generate: --ldconfig-path is not supported by gctk: the spec's "
          "hook writes the container's ld.so.cache itself");
    check("cdi generate --library-search-path=/opt/lib",
          "error: nvidia-ctk cdi generate: --library-search-path is not supported by gctk");
    check("cdi generate --disable-hooks=all", "error: nvidia-ctk cdi generate: --disable-hook is "
                                              "not supported by gctk");
    check("cdi list", "cdi list");
    check("cdi list --spec-dir=/a --spec-dir /b", "cdi list --spec-dir=/a --spec-dir=/b");
    check("cdi transform root --from=/a --to=/b",
          "error: nvidia-ctk cdi transform is not supported by gctk: generate the spec for its "
          "root instead: `gctk cdi generate --root DIR`");
}

/* the flags NVIDIA's commands read from the environment */
static void test_environment(void **state)
{
    (void)state;
    setenv("NVIDIA_CTK_CDI_OUTPUT_FILE_PATH", "/etc/cdi/env.yaml", 1);
    setenv("NVIDIA_CTK_CDI_GENERATE_DEVICE_NAME_STRATEGIES", "uuid", 1);
    check("cdi generate", "cdi generate --output=/etc/cdi/env.yaml --format=yaml "
                          "--device-name-strategy=uuid");
    /* the command line wins */
    check("cdi generate --output=/x.yaml", "cdi generate --output=/x.yaml");
    unsetenv("NVIDIA_CTK_CDI_OUTPUT_FILE_PATH");
    unsetenv("NVIDIA_CTK_CDI_GENERATE_DEVICE_NAME_STRATEGIES");
    setenv("NVIDIA_CTK_CDI_GENERATE_FEATURE_FLAGS", "x", 1);
    check("cdi generate", "error: nvidia-ctk cdi generate: NVIDIA_CTK_CDI_GENERATE_FEATURE_FLAGS "
                          "(NVIDIA's --feature-flag) is not supported by gctk");
    unsetenv("NVIDIA_CTK_CDI_GENERATE_FEATURE_FLAGS");
    setenv("NVIDIA_CTK_CDI_SPEC_DIRS", "/a,/b", 1);
    check("cdi list", "cdi list --spec-dir=/a --spec-dir=/b");
    unsetenv("NVIDIA_CTK_CDI_SPEC_DIRS");
    setenv("DRY_RUN", "maybe", 1);
    check("system create-dev-char-symlinks",
          "error: nvidia-ctk system create-dev-char-symlinks: --dry-run=maybe: use true or false");
    unsetenv("DRY_RUN");
}

static void test_system_and_config(void **state)
{
    (void)state;
    struct nvctk_call c = {0};
    char *why = NULL;
    char *const dev[] = {"nvidia-ctk",
                         "system",
                         "create-dev-char-symlinks",
                         "--create-all",
                         "--driver-root=/run/nvidia/driver",
                         "--dry-run",
                         NULL};
    assert_int_equal(nvctk_parse(6, dev, &c, &why), 0);
    assert_int_equal(c.action, NVCTK_DEVCHAR);
    assert_true(c.create_all && c.dry_run);
    assert_string_equal(c.dev_root, "/run/nvidia/driver");
    assert_string_equal(c.dev_char_path, "/dev/char");
    nvctk_call_clear(&c);
    setenv("NVIDIA_DRIVER_ROOT", "/driver", 1);
    setenv("CREATE_ALL", "true", 1);
    char *const env[] = {"nvidia-ctk", "system", "create-dev-char-symlinks", NULL};
    assert_int_equal(nvctk_parse(3, env, &c, &why), 0);
    assert_true(c.create_all);
    assert_string_equal(c.dev_root, "/driver");
    nvctk_call_clear(&c);
    unsetenv("NVIDIA_DRIVER_ROOT");
    unsetenv("CREATE_ALL");
    check("system create-dev-char-symlinks --load-kernel-modules",
          "error: nvidia-ctk system create-dev-char-symlinks: --load-kernel-modules is not "
          "supported by gctk: gctk loads no kernel module");
    check("system create-dev-char-symlinks --create-device-nodes",
          "error: nvidia-ctk system create-dev-char-symlinks: --create-device-nodes is not "
          "supported by gctk: gctk creates no device nodes");
    check("system create-device-nodes", "error: nvidia-ctk system create-device-nodes is not "
                                        "supported by gctk: gctk creates no device nodes");

    char *const cfg[] = {"nvidia-ctk",
                         "--config=/etc/nv.toml",
                         "config",
                         "--set",
                         "nvidia-container-cli.no-cgroups",
                         "--set=disable-require=true",
                         "-i",
                         NULL};
    assert_int_equal(nvctk_parse(7, cfg, &c, &why), 0);
    assert_int_equal(c.action, NVCTK_CONFIG);
    assert_string_equal(c.nvidia_config, "/etc/nv.toml");
    assert_int_equal(c.sets.len, 2);
    assert_string_equal(c.sets.items[1], "disable-require=true");
    assert_true(c.in_place);
    assert_string_equal(c.list_separator, ":");
    nvctk_call_clear(&c);
    check("config -i -o /x", "error: nvidia-ctk config: cannot specify both --in-place and "
                             "--output");
    check("config default -o /x", "action 1");
    check("--quiet config", "action 1");
    check("--version", "action 3");
    check("info", "action 3");
    check("", "action 4");
    check("runtime configure --help", "action 4");
    /* the hooks of a spec NVIDIA's toolkit wrote */
    check("hook update-ldcache --folder /usr/lib/x86_64-linux-gnu --ldconfig-path /sbin/ldconfig",
          "hook update-ldcache --folder /usr/lib/x86_64-linux-gnu");
    check("hook create-symlinks --link libcuda.so.1::/usr/lib/libcuda.so",
          "hook create-symlinks --link libcuda.so.1::/usr/lib/libcuda.so");
    check("hook enable-cuda-compat --host-driver-version=580.95.05",
          "error: nvidia-ctk hook enable-cuda-compat is not supported by gctk: a hook of a CDI "
          "spec NVIDIA's toolkit wrote: regenerate the spec with `gctk cdi generate --output "
          "/etc/cdi/nvidia.yaml`");
    check("--bogus", "error: nvidia-ctk: unknown flag `--bogus`");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runtime_configure),
        cmocka_unit_test(test_cdi),
        cmocka_unit_test(test_environment),
        cmocka_unit_test(test_system_and_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
