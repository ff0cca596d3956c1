/* Unit tests of lib/engines/cri.c: containerd's and CRI-O's drop-ins for the
 * configurations of real versions (tests/engines: `containerd config
 * default` of 1.6.20, 1.7.24 and 2.1.9, CRI-O's documented defaults), and
 * the edit of containerd's main file, each a round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "engine.h"
#include "json.h"
#include "toml.h"

#define V2 "io.containerd.grpc.v1.cri"
#define V3 "io.containerd.cri.v1.runtime"

static char tmp[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof(tmp), "/tmp/gctk-test-cri.XXXXXX");
    return mkdtemp(tmp) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    cleanup_free char *cmd = xasprintf("rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static json_t *fixture(const char *name)
{
    cleanup_free char *path = xasprintf("%s/tests/engines/%s", GCTK_SOURCE_ROOT, name);
    cleanup_error gctk_error *e = NULL;
    json_t *doc = gctk_toml_load(path, 1 << 20, &e);
    if (doc == NULL)
        fail_msg("%s", e->msg);
    return doc;
}

static const struct runtime_entry nvidia = {.name = "nvidia", .path = "/usr/bin/gctk-runtime"};

static json_t *at(const json_t *doc, const char *plugin, const char *path)
{
    const json_t *v = json_object_get(json_object_get(doc, "plugins"), plugin);
    cleanup_free char *p = xstrdup(path);
    for (char *save = NULL, *k = strtok_r(p, ".", &save); k != NULL && v != NULL;
         k = strtok_r(NULL, ".", &save))
        v = json_object_get(v, k);
    return (json_t *)v;
}

/* the drop-in's text parses back to the same document */
static void assert_round_trip(const json_t *doc)
{
    cleanup_free char *text = gctk_toml_format(doc, NULL);
    assert_non_null(text);
    cleanup_json json_t *back = gctk_toml_parse(text, strlen(text), "drop-in", NULL);
    assert_non_null(back);
    assert_true(json_equal(doc, back));
}

/* The drop-in's CRI table is the effective one, plus the runtime: nothing
 * else differs. */
static void assert_only_runtime_added(const json_t *effective, const json_t *doc,
                                      const char *plugin)
{
    cleanup_json json_t *want =
        json_deep_copy(json_object_get(json_object_get(effective, "plugins"), plugin));
    cleanup_json json_t *got = json_deep_copy(at(doc, plugin, ""));
    json_object_del(json_object_get(json_object_get(got, "containerd"), "runtimes"), "nvidia");
    json_object_del(got, "enable_cdi");
    json_object_del(want, "enable_cdi");
    assert_true(json_equal(want, got));
}

static void test_containerd_16(void **state)
{
    (void)state;
    cleanup_json json_t *eff = fixture("containerd-1.6.20-default.toml"), *doc = NULL;
    assert_int_equal(containerd_dropin_render(eff, &nvidia, 0, &doc, NULL), 0);
    assert_int_equal(json_integer_value(json_object_get(doc, "version")), 2);
    assert_int_equal(json_object_size(json_object_get(doc, "plugins")), 1);
    assert_only_runtime_added(eff, doc, V2);
    /* runc stays, and stays the default */
    assert_string_equal(json_string_value(at(doc, V2, "containerd.default_runtime_name")), "runc");
    assert_true(json_equal(at(doc, V2, "containerd.runtimes.runc"),
                           at(eff, V2, "containerd.runtimes.runc")));
    /* the runtime: runc's table, gctk-runtime as its binary, and the CDI
     * annotations (1.6 has no enable_cdi: its CRI applies no CDI) */
    json_t *n = at(doc, V2, "containerd.runtimes.nvidia");
    assert_string_equal(json_string_value(json_object_get(n, "runtime_type")),
                        "io.containerd.runc.v2");
    assert_string_equal(
        json_string_value(at(doc, V2, "containerd.runtimes.nvidia.options.BinaryName")),
        "/usr/bin/gctk-runtime");
    assert_non_null(at(doc, V2, "containerd.runtimes.nvidia.options.SystemdCgroup"));
    json_t *ann = json_object_get(n, "container_annotations");
    assert_int_equal(json_array_size(ann), 1);
    assert_string_equal(json_string_value(json_array_get(ann, 0)), "cdi.k8s.io/*");
    assert_null(at(doc, V2, "enable_cdi"));
    assert_round_trip(doc);
}

static void test_containerd_17(void **state)
{
    (void)state;
    cleanup_json json_t *eff = fixture("containerd-1.7.24-default.toml"), *doc = NULL;
    assert_int_equal(containerd_dropin_render(eff, &nvidia, 0, &doc, NULL), 0);
    assert_int_equal(json_integer_value(json_object_get(doc, "version")), 2);
    assert_only_runtime_added(eff, doc, V2);
    /* 1.7 applies CDI itself: on, and no annotations for the runtime */
    assert_true(json_is_true(at(doc, V2, "enable_cdi")));
    assert_int_equal(json_array_size(at(doc, V2, "cdi_spec_dirs")), 2);
    assert_int_equal(
        json_array_size(at(doc, V2, "containerd.runtimes.nvidia.container_annotations")), 0);
    assert_string_equal(json_string_value(at(doc, V2, "containerd.runtimes.nvidia.sandbox_mode")),
                        "podsandbox");
    assert_round_trip(doc);
}

static void test_containerd_21_version_3(void **state)
{
    (void)state;
    cleanup_json json_t *eff = fixture("containerd-2.1.9-default.toml"), *doc = NULL;
    assert_int_equal(containerd_dropin_render(eff, &nvidia, 0, &doc, NULL), 0);
    assert_int_equal(json_integer_value(json_object_get(doc, "version")), 3);
    /* only the CRI runtime plugin: the images and server plugins are not
     * touched */
    assert_int_equal(json_object_size(json_object_get(doc, "plugins")), 1);
    assert_only_runtime_added(eff, doc, V3);
    assert_string_equal(
        json_string_value(at(doc, V3, "containerd.runtimes.nvidia.options.BinaryName")),
        "/usr/bin/gctk-runtime");
    assert_string_equal(json_string_value(at(doc, V3, "containerd.runtimes.nvidia.sandboxer")),
                        "podsandbox");
    assert_true(json_is_true(at(doc, V3, "enable_cdi")));
    assert_round_trip(doc);
}

/* containerd 2.x on a main file of version 2: a drop-in of version 2 with
 * the runtime alone, so that containerd still migrates the main file */
static void test_containerd_21_on_version_2(void **state)
{
    (void)state;
    cleanup_json json_t *eff = fixture("containerd-2.1.9-default.toml"), *doc = NULL;
    json_object_set_new(at(eff, V3, "containerd.runtimes.runc.options"), "SystemdCgroup",
                        json_true());
    struct runtime_entry rt = nvidia;
    rt.set_default = true;
    assert_int_equal(containerd_dropin_render(eff, &rt, 2, &doc, NULL), 0);
    assert_int_equal(json_integer_value(json_object_get(doc, "version")), 2);
    cleanup_json json_t *want =
        json_pack("{s:{s:s, s:{s:{s:s, s:{s:s, s:b}}}}}", "containerd", "default_runtime_name",
                  "nvidia", "runtimes", "nvidia", "runtime_type", "io.containerd.runc.v2",
                  "options", "BinaryName", "/usr/bin/gctk-runtime", "SystemdCgroup", 1);
    json_t *options = at(doc, V2, "containerd.runtimes.nvidia.options");
    assert_non_null(options);
    /* runc's other options come along: compare those two only */
    cleanup_json json_t *got = json_deep_copy(at(doc, V2, ""));
    json_t *go = json_object_get(
        json_object_get(json_object_get(json_object_get(got, "containerd"), "runtimes"), "nvidia"),
        "options");
    const char *k;
    json_t *v;
    void *tmp_it;
    json_object_foreach_safe(go, tmp_it, k, v)
    {
        if (strcmp(k, "BinaryName") != 0 && strcmp(k, "SystemdCgroup") != 0)
            json_object_del(go, k);
    }
    assert_true(json_equal(want, got));
    assert_round_trip(doc);
}

/* a node's own settings reach the drop-in, the runtime inherits runc's */
static void test_containerd_user_settings(void **state)
{
    (void)state;
    cleanup_json json_t *eff = fixture("containerd-1.6.20-default.toml"), *doc = NULL;
    json_object_set_new(at(eff, V2, ""), "sandbox_image", json_string("example.com/pause:7"));
    json_object_set_new(at(eff, V2, "containerd.runtimes.runc.options"), "SystemdCgroup",
                        json_true());
    json_object_set_new(at(eff, V2, "registry.mirrors"), "docker.io",
                        json_pack("{s:[s]}", "endpoint", "https://mirror.example.com"));
    struct runtime_entry rt = nvidia;
    rt.set_default = true;
    assert_int_equal(containerd_dropin_render(eff, &rt, 0, &doc, NULL), 0);
    assert_string_equal(json_string_value(at(doc, V2, "sandbox_image")), "example.com/pause:7");
    assert_non_null(json_object_get(at(doc, V2, "registry.mirrors"), "docker.io"));
    assert_true(json_is_true(at(doc, V2, "containerd.runtimes.nvidia.options.SystemdCgroup")));
    assert_true(json_is_true(at(doc, V2, "containerd.runtimes.runc.options.SystemdCgroup")));
    /* --set-as-default changes the name of the default, and nothing else */
    assert_string_equal(json_string_value(at(doc, V2, "containerd.default_runtime_name")),
                        "nvidia");
    json_object_set_new(at(eff, V2, "containerd"), "default_runtime_name", json_string("nvidia"));
    assert_only_runtime_added(eff, doc, V2);
}

/* what the files alone give: no runc unless they name it */
static void test_containerd_files_only(void **state)
{
    (void)state;
    cleanup_json json_t *eff = json_pack("{s:i, s:{s:{s:s}}}", "version", 2, "plugins", V2,
                                         "sandbox_image", "example.com/pause:7"),
                        *doc = NULL;
    assert_int_equal(containerd_dropin_render(eff, &nvidia, 0, &doc, NULL), 0);
    assert_string_equal(json_string_value(at(doc, V2, "containerd.runtimes.runc.runtime_type")),
                        "io.containerd.runc.v2");
    assert_string_equal(json_string_value(at(doc, V2, "sandbox_image")), "example.com/pause:7");
    /* enable_cdi unknown: the runtime resolves the annotations, unless --cdi */
    assert_int_equal(
        json_array_size(at(doc, V2, "containerd.runtimes.nvidia.container_annotations")), 1);
    json_decref(doc);
    struct runtime_entry rt = nvidia;
    rt.cdi = true;
    assert_int_equal(containerd_dropin_render(eff, &rt, 0, &doc, NULL), 0);
    assert_true(json_is_true(at(doc, V2, "enable_cdi")));
    assert_null(at(doc, V2, "containerd.runtimes.nvidia.container_annotations"));
}

static void test_containerd_version_1_refused(void **state)
{
    (void)state;
    cleanup_json json_t *eff = json_pack("{s:{s:{}}}", "plugins", "cri"), *doc = NULL;
    cleanup_error gctk_error *e = NULL;
    assert_int_equal(containerd_dropin_render(eff, &nvidia, 0, &doc, &e), -1);
    assert_non_null(strstr(e->msg, "version 1"));
    assert_null(doc);
}

/* ---- the main file ---- */

/* text NULL: no main file */
static void add_remove(const char *text, const char *want_prefix)
{
    const char *dropin = "/etc/containerd/conf.d/99-gctk.toml";
    cleanup_free char *added = NULL, *back = NULL;
    assert_int_equal(containerd_imports_add("`main`", text, "/etc/containerd/config.toml", dropin,
                                            2, &added, NULL),
                     0);
    assert_non_null(added);
    if (want_prefix != NULL)
        assert_true(str_has_prefix(added, want_prefix));
    cleanup_json json_t *doc = gctk_toml_parse(added, strlen(added), "added", NULL);
    assert_true(containerd_imports_dropin(doc, "/etc/containerd/config.toml", dropin));
    /* a second run adds nothing */
    cleanup_free char *again = NULL;
    assert_int_equal(containerd_imports_add("`main`", added, "/etc/containerd/config.toml", dropin,
                                            2, &again, NULL),
                     0);
    assert_null(again);
    bool whole = false;
    assert_int_equal(containerd_imports_remove("`main`", added, dropin, &back, &whole, NULL), 0);
    /* no file before: the caller removes the one gctk wrote */
    assert_true(whole == (text == NULL));
    if (text != NULL)
        assert_string_equal(back, text);
}

static void test_imports_line(void **state)
{
    (void)state;
    add_remove("# my node\nversion = 2\n\n[plugins.\"io.containerd.grpc.v1.cri\"]\n"
               "  sandbox_image = \"x\" # pinned\n",
               "imports = [\"/etc/containerd/conf.d/*.toml\"] # added by");
    /* a file without a final newline, and one with a BOM */
    add_remove("version = 2", NULL);
    add_remove("\xEF\xBB\xBFversion = 2\n", "\xEF\xBB\xBFimports = [");
}

static void test_imports_array(void **state)
{
    (void)state;
    add_remove(
        "version = 2\nimports = [\n  \"/opt/a/*.toml\", # mine\n]\n[debug]\nlevel = \"info\"\n",
        NULL);
    add_remove("version = 2\nimports=[]\n", "version = 2\nimports=[\n  \"/etc/containerd/conf.d/");
}

static void test_imports_blank(void **state)
{
    (void)state;
    add_remove(NULL, "# written by");
    add_remove("", "# added by");
    add_remove("\n\n", NULL);
}

static void test_imports_already(void **state)
{
    (void)state;
    const char *dropin = "/etc/containerd/conf.d/99-gctk.toml";
    const char *texts[] = {
        "version = 2\nimports = [\"conf.d/*.toml\"]\n",
        "version = 2\nimports = [\"/etc/containerd/conf.d/99-gctk.toml\"]\n",
        "version = 2\nimports = [\"/etc/containerd/conf.d/*\"]\n",
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(texts); i++) {
        cleanup_free char *out = NULL;
        assert_int_equal(containerd_imports_add("`main`", texts[i], "/etc/containerd/config.toml",
                                                dropin, 2, &out, NULL),
                         0);
        assert_null(out);
        /* and --remove leaves the user's own import */
        bool whole = false;
        assert_int_equal(containerd_imports_remove("`main`", texts[i], dropin, &out, &whole, NULL),
                         0);
        assert_null(out);
    }
}

static void test_imports_refused(void **state)
{
    (void)state;
    const char *dropin = "/etc/containerd/conf.d/99-gctk.toml";
    /* a quoted key gctk does not look for: refused, never guessed */
    cleanup_free char *out = NULL;
    cleanup_error gctk_error *e = NULL;
    assert_int_equal(containerd_imports_add("`main`", "version = 2\n\"imports\" = [\"/a\"]\n",
                                            "/etc/containerd/config.toml", dropin, 2, &out, &e),
                     -1);
    assert_non_null(strstr(e->msg, "by hand"));
    assert_null(out);
    gctk_error_free(e);
    e = NULL;
    /* a multi-line string that looks like the key: the check catches it */
    assert_int_equal(containerd_imports_add("`main`",
                                            "version = 2\nx = \"\"\"\nimports = [\"a\"]\"\"\"\n"
                                            "imports = [\"/b\"]\n",
                                            "/etc/containerd/config.toml", dropin, 2, &out, &e),
                     -1);
    assert_non_null(strstr(e->msg, "by hand"));
    gctk_error_free(e);
    e = NULL;
    assert_int_equal(containerd_imports_add("`main`", "imports = \"x\"\n",
                                            "/etc/containerd/config.toml", dropin, 2, &out, &e),
                     -1);
    assert_non_null(strstr(e->msg, "not an array"));
    /* an edited line of gctk's is left alone by --remove */
    bool whole = false;
    assert_int_equal(containerd_imports_remove(
                         "`main`",
                         "imports = [\"/etc/containerd/conf.d/*.toml\", \"/x\"] # added by "
                         "`gctk runtime configure` (`--remove` takes it out)\n",
                         dropin, &out, &whole, NULL),
                     0);
    assert_null(out);
    assert_false(whole);
}

static void write_text(const char *path, const char *text)
{
    const struct write_opts o = {.mode = 0644};
    assert_int_equal(write_file(path, text, strlen(text), &o, NULL), 0);
}

/* configure and --remove on files (--config-source=file): the user's other
 * drop-in is read, the main file comes back byte for byte */
static void test_configure_files(void **state)
{
    (void)state;
    cleanup_free char *main_path = xasprintf("%s/config.toml", tmp);
    cleanup_free char *user = xasprintf("%s/conf.d/10-user.toml", tmp);
    cleanup_free char *dropin = xasprintf("%s/conf.d/99-gctk.toml", tmp);
    const char *main_text = "# mine\nversion = 2\nimports = [\"conf.d/10-*.toml\"]\n";
    write_text(main_path, main_text);
    write_text(user, "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\n"
                     "sandbox_image = \"example.com/pause:7\"\n");
    struct runtime_entry rt = nvidia;
    rt.dropin = dropin;
    rt.source = CONFIG_SOURCE_FILE;
    bool changed = false;
    cleanup_free char *text = NULL;
    assert_int_equal(containerd_configure(main_path, &rt, CONFIG_DRY_RUN, &changed, &text, NULL),
                     0);
    assert_true(changed);
    assert_int_equal(access(dropin, F_OK), -1);
    free(text);
    text = NULL;
    assert_int_equal(containerd_configure(main_path, &rt, 0, &changed, &text, NULL), 0);
    assert_true(changed);
    assert_non_null(strstr(text, "example.com/pause:7"));
    assert_true(containerd_main_imports(main_path, dropin));
    free(text);
    text = NULL;
    assert_int_equal(containerd_configure(main_path, &rt, 0, &changed, &text, NULL), 0);
    assert_false(changed);
    free(text);
    text = NULL;
    assert_int_equal(containerd_configure(main_path, &rt, CONFIG_REMOVE, &changed, &text, NULL), 0);
    assert_true(changed);
    assert_int_equal(access(dropin, F_OK), -1);
    cleanup_free char *back = NULL;
    assert_int_equal(read_file(main_path, 1 << 20, &back, NULL, NULL), 0);
    assert_string_equal(back, main_text);
    /* a node without a main file: gctk's file, and nothing after --remove */
    unlink(main_path);
    free(text);
    text = NULL;
    assert_int_equal(containerd_configure(main_path, &rt, 0, &changed, &text, NULL), 0);
    assert_true(containerd_main_imports(main_path, dropin));
    free(text);
    text = NULL;
    assert_int_equal(containerd_configure(main_path, &rt, CONFIG_REMOVE, &changed, &text, NULL), 0);
    assert_int_equal(access(main_path, F_OK), -1);
    assert_int_equal(access(dropin, F_OK), -1);
}

static void test_crio(void **state)
{
    (void)state;
    cleanup_json json_t *eff = fixture("crio-defaults.toml"), *doc = NULL;
    struct runtime_entry rt = nvidia;
    assert_int_equal(crio_dropin_render(eff, &rt, &doc, NULL), 0);
    const json_t *r = json_object_get(json_object_get(doc, "crio"), "runtime");
    /* only the runtime: CRI-O merges drop-ins key by key */
    assert_int_equal(json_object_size(r), 1);
    const json_t *n = json_object_get(json_object_get(r, "runtimes"), "nvidia");
    assert_string_equal(json_string_value(json_object_get(n, "runtime_path")),
                        "/usr/bin/gctk-runtime");
    assert_string_equal(json_string_value(json_object_get(n, "runtime_type")), "oci");
    /* the default runtime's (crun's) settings carried over */
    assert_string_equal(json_string_value(json_array_get(json_object_get(n, "monitor_env"), 0)),
                        "LOG_LEVEL=debug");
    assert_round_trip(doc);
    json_decref(doc);
    rt.set_default = true;
    assert_int_equal(crio_dropin_render(eff, &rt, &doc, NULL), 0);
    r = json_object_get(json_object_get(doc, "crio"), "runtime");
    assert_string_equal(json_string_value(json_object_get(r, "default_runtime")), "nvidia");
    assert_int_equal(json_object_size(r), 2);
}

static void test_crio_configure(void **state)
{
    (void)state;
    cleanup_free char *main_path = xasprintf("%s/crio.conf", tmp);
    cleanup_free char *dropin = xasprintf("%s/crio.conf.d/99-gctk.conf", tmp);
    cleanup_free char *other = xasprintf("%s/crio.conf.d/10-crio.conf", tmp);
    write_text(main_path, "[crio.runtime]\ndefault_runtime = \"runc\"\n");
    write_text(other, "[crio.runtime.runtimes.runc]\nruntime_root = \"/run/runc\"\n");
    struct runtime_entry rt = nvidia;
    rt.dropin = dropin;
    bool changed = false;
    cleanup_free char *text = NULL;
    assert_int_equal(crio_configure(main_path, &rt, 0, &changed, &text, NULL), 0);
    assert_true(changed);
    assert_non_null(strstr(text, "runtime_root = '/run/runc'"));
    free(text);
    text = NULL;
    assert_int_equal(crio_configure(main_path, &rt, CONFIG_REMOVE, &changed, &text, NULL), 0);
    assert_true(changed);
    assert_int_equal(access(dropin, F_OK), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_containerd_16),
        cmocka_unit_test(test_containerd_17),
        cmocka_unit_test(test_containerd_21_version_3),
        cmocka_unit_test(test_containerd_21_on_version_2),
        cmocka_unit_test(test_containerd_user_settings),
        cmocka_unit_test(test_containerd_files_only),
        cmocka_unit_test(test_containerd_version_1_refused),
        cmocka_unit_test(test_imports_line),
        cmocka_unit_test(test_imports_array),
        cmocka_unit_test(test_imports_blank),
        cmocka_unit_test(test_imports_already),
        cmocka_unit_test(test_imports_refused),
        cmocka_unit_test_setup_teardown(test_configure_files, setup, teardown),
        cmocka_unit_test(test_crio),
        cmocka_unit_test_setup_teardown(test_crio_configure, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
