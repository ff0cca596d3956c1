/* Unit tests of lib/util/toml.c and gctk-toml.so: TOML documents as JSON values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "toml.h"
#include "util.h"

static void cleanup_jsonp(json_t **j)
{
    json_decref(*j);
}
#define cleanup_json __attribute__((cleanup(cleanup_jsonp)))

static json_t *parse_ok(const char *text)
{
    gctk_error *err = NULL;
    json_t *doc = gctk_toml_parse(text, strlen(text), "`test.toml`", &err);
    if (doc == NULL)
        fail_msg("parse: %s", err->msg);
    return doc;
}

static const char containerd_like[] =
    "version = 2\n"
    "root = \"/var/lib/containerd\"\n"
    "oom_score = 0\n"
    "[grpc]\n"
    "  address = \"/run/containerd/containerd.sock\"\n"
    "  max_recv_message_size = 16777216\n"
    "[plugins.\"io.containerd.grpc.v1.cri\"]\n"
    "  sandbox_image = \"registry.k8s.io/pause:3.6\"\n"
    "  enable_cdi = true\n"
    "  cdi_spec_dirs = [\"/etc/cdi\", \"/var/run/cdi\"]\n"
    "  [plugins.\"io.containerd.grpc.v1.cri\".containerd]\n"
    "    default_runtime_name = \"runc\"\n"
    "    [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n"
    "      runtime_type = \"io.containerd.runc.v2\"\n"
    "      [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n"
    "        SystemdCgroup = false\n"
    "[[proxy]]\n"
    "  name = \"a\"\n"
    "  ratio = 0.5\n"
    "[[proxy]]\n"
    "  name = \"b\"\n";

static void test_parse_nested(void **state)
{
    (void)state;
    cleanup_json json_t *doc = parse_ok(containerd_like);
    assert_int_equal(json_integer_value(json_object_get(doc, "version")), 2);
    json_t *cri = json_object_get(json_object_get(doc, "plugins"), "io.containerd.grpc.v1.cri");
    assert_true(json_is_object(cri));
    assert_string_equal(json_string_value(json_object_get(cri, "sandbox_image")),
                        "registry.k8s.io/pause:3.6");
    assert_true(json_is_true(json_object_get(cri, "enable_cdi")));
    assert_int_equal(json_array_size(json_object_get(cri, "cdi_spec_dirs")), 2);
    json_t *runc =
        json_object_get(json_object_get(json_object_get(cri, "containerd"), "runtimes"), "runc");
    assert_string_equal(json_string_value(json_object_get(runc, "runtime_type")),
                        "io.containerd.runc.v2");
    assert_true(json_is_false(json_object_get(json_object_get(runc, "options"), "SystemdCgroup")));
    json_t *proxy = json_object_get(doc, "proxy");
    assert_int_equal(json_array_size(proxy), 2);
    assert_true(json_real_value(json_object_get(json_array_get(proxy, 0), "ratio")) == 0.5);
}

static void test_round_trip(void **state)
{
    (void)state;
    cleanup_json json_t *doc = parse_ok(containerd_like);
    gctk_error *err = NULL;
    cleanup_free char *text = gctk_toml_format(doc, &err);
    assert_non_null(text);
    cleanup_json json_t *again = parse_ok(text);
    assert_true(json_equal(doc, again));
    /* integers stay integers, reals stay reals */
    assert_true(json_is_integer(json_object_get(again, "oom_score")));
}

static void test_datetime(void **state)
{
    (void)state;
    cleanup_json json_t *doc = parse_ok("when = 1979-05-27T07:32:00Z\nday = 1979-05-27\n"
                                        "list = [07:32:00]\n");
    json_t *when = json_object_get(doc, "when");
    assert_string_equal(json_string_value(json_object_get(when, GCTK_TOML_DATETIME_KEY)),
                        "1979-05-27T07:32:00Z");
    gctk_error *err = NULL;
    cleanup_free char *text = gctk_toml_format(doc, &err);
    assert_non_null(text);
    /* written back as a date, not as a string */
    assert_non_null(strstr(text, "when = 1979-05-27T07:32:00Z"));
    cleanup_json json_t *again = parse_ok(text);
    assert_true(json_equal(doc, again));

    cleanup_json json_t *bad = json_pack("{s{ss}}", "when", GCTK_TOML_DATETIME_KEY, "tuesday");
    cleanup_free char *none = gctk_toml_format(bad, &err);
    assert_null(none);
    assert_string_equal(err->msg,
                        "cannot write TOML: `tuesday` at `when` is not a TOML date or time");
    gctk_error_free(err);
}

static void test_parse_error_names_place(void **state)
{
    (void)state;
    gctk_error *err = NULL;
    const char *text = "a = 1\nb = \n";
    assert_null(gctk_toml_parse(text, strlen(text), "`/etc/x.toml`", &err));
    assert_non_null(err);
    assert_true(str_has_prefix(err->msg, "`/etc/x.toml`: line 2, column "));
    gctk_error_free(err);
    err = NULL;
    /* a key defined twice is an error, as TOML says */
    text = "a = 1\na = 2\n";
    assert_null(gctk_toml_parse(text, strlen(text), "`d.toml`", &err));
    assert_true(str_has_prefix(err->msg, "`d.toml`: line 2, column "));
    assert_non_null(strstr(err->msg, "redefine"));
    gctk_error_free(err);
}

static void test_empty_and_nul(void **state)
{
    (void)state;
    cleanup_json json_t *doc = parse_ok("");
    assert_true(json_is_object(doc));
    assert_int_equal(json_object_size(doc), 0);
    /* an embedded NUL is not TOML */
    gctk_error *err = NULL;
    assert_null(gctk_toml_parse("a = 1\0b = 2", 11, "`n.toml`", &err));
    gctk_error_free(err);
}

static void test_format_refuses_what_toml_lacks(void **state)
{
    (void)state;
    gctk_error *err = NULL;
    cleanup_json json_t *with_null = json_pack("{s{sn}}", "a", "b");
    assert_null(gctk_toml_format(with_null, &err));
    assert_string_equal(err->msg, "cannot write TOML: the value at `a.b` is null, which TOML "
                                  "cannot hold");
    gctk_error_free(err);
    err = NULL;
    cleanup_json json_t *arr = json_array();
    assert_null(gctk_toml_format(arr, &err));
    assert_string_equal(err->msg, "cannot write TOML: a TOML document must be a table");
    gctk_error_free(err);
}

static void test_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/gctk-toml-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, containerd_like, strlen(containerd_like)),
                     (ssize_t)strlen(containerd_like));
    close(fd);
    gctk_error *err = NULL;
    cleanup_json json_t *doc = gctk_toml_load(path, 1 << 20, &err);
    assert_non_null(doc);
    assert_null(gctk_toml_load(path, 16, &err));
    assert_non_null(strstr(err->msg, "larger than 16 bytes"));
    gctk_error_free(err);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_nested),  cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_datetime),      cmocka_unit_test(test_parse_error_names_place),
        cmocka_unit_test(test_empty_and_nul), cmocka_unit_test(test_format_refuses_what_toml_lacks),
        cmocka_unit_test(test_load_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
