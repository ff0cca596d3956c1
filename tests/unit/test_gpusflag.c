/* Unit tests of lib/engines/gpusflag.c: every --gpus form and error of docker/cli,
 * and the environment dockerd's nvidia driver derives from a request. The
 * expected error texts were checked against `docker create --gpus ...` of
 * Docker 28.2 (the flag is parsed before the daemon is contacted). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "gpusflag.h"

/* Parses value and returns the "visible|caps|driver|count|ids|options" summary. */
static char *summary(const char *value)
{
    struct device_request r = {0};
    gctk_error *err = NULL;
    if (gpusflag_parse(value, &r, &err) < 0) {
        char *s = xasprintf("error: %s", err->msg);
        gctk_error_free(err);
        return s;
    }
    char ids[256] = "", caps[256] = "", opts[256] = "";
    for (size_t i = 0; i < r.ids.len; i++)
        snprintf(ids + strlen(ids), sizeof(ids) - strlen(ids), "%s[%s]", i ? " " : "",
                 r.ids.items[i]);
    for (size_t i = 0; i < r.caps.len; i++)
        snprintf(caps + strlen(caps), sizeof(caps) - strlen(caps), "%s%s", i ? " " : "",
                 r.caps.items[i]);
    for (size_t i = 0; i < r.options.len; i++)
        snprintf(opts + strlen(opts), sizeof(opts) - strlen(opts), "%s%s", i ? " " : "",
                 r.options.items[i]);
    char *s = xasprintf("driver=%s count=%ld ids=%s caps=%s opts=%s", r.driver ? r.driver : "-",
                        r.count, ids, caps, opts);
    device_request_clear(&r);
    return s;
}

static void check(const char *value, const char *want)
{
    cleanup_free char *got = summary(value);
    if (strcmp(got, want) != 0)
        fail_msg("--gpus '%s'\n  got  %s\n  want %s", value, got, want);
}

static void test_counts(void **state)
{
    (void)state;
    check("all", "driver=- count=-1 ids= caps=gpu opts=");
    check("2", "driver=- count=2 ids= caps=gpu opts=");
    check("count=3", "driver=- count=3 ids= caps=gpu opts=");
    check("count=all", "driver=- count=-1 ids= caps=gpu opts=");
    check("0", "driver=- count=0 ids= caps=gpu opts=");
    check("+4", "driver=- count=4 ids= caps=gpu opts=");
    /* neither count nor device: one GPU */
    check("driver=nvidia", "driver=nvidia count=1 ids= caps=gpu opts=");
    /* two different bare keys are not duplicates in docker/cli: the last wins */
    check("1,2", "driver=- count=2 ids= caps=gpu opts=");
    /* a second line is not part of the record */
    check("2\nfoo=bar", "driver=- count=2 ids= caps=gpu opts=");
    check("\n\n3", "driver=- count=3 ids= caps=gpu opts=");
    check("2\r\n", "driver=- count=2 ids= caps=gpu opts=");
}

static void test_devices_and_quoting(void **state)
{
    (void)state;
    check("\"device=0,3\"", "driver=- count=0 ids=[0] [3] caps=gpu opts=");
    check("device=1", "driver=- count=0 ids=[1] caps=gpu opts=");
    check("device=GPU-3a6b2c1d-0000-1111-2222-333344445555",
          "driver=- count=0 ids=[GPU-3a6b2c1d-0000-1111-2222-333344445555] caps=gpu opts=");
    check("\"device=\"", "driver=- count=0 ids=[] caps=gpu opts=");
    /* "" inside quotes is one quote */
    check("\"driver=a\"\"b\"", "driver=a\"b count=1 ids= caps=gpu opts=");
    check("\"capabilities=compute,utility\"",
          "driver=- count=1 ids= caps=compute utility gpu opts=");
    check("2,\"capabilities=compute,utility\",driver=nvidia",
          "driver=nvidia count=2 ids= caps=compute utility gpu opts=");
    check("\"options=a=b,c=d\"", "driver=- count=1 ids= caps=gpu opts=a=b c=d");
    check("\"options=a=1,a=2,flag\"", "driver=- count=1 ids= caps=gpu opts=a=2 flag=");
    /* a quoted field may span lines */
    check("\"device=0\n1\"", "driver=- count=0 ids=[0\n1] caps=gpu opts=");
}

static void test_errors(void **state)
{
    (void)state;
    check("foo=1", "error: unexpected key 'foo' in 'foo=1'");
    check("count=two",
          "error: invalid count (two): value must be either \"all\" or an integer: invalid syntax");
    check("two",
          "error: invalid count (two): value must be either \"all\" or an integer: invalid syntax");
    check("99999999999999999999", "error: invalid count (99999999999999999999): value must be "
                                  "either \"all\" or an integer: value out of range");
    check(
        " all",
        "error: invalid count ( all): value must be either \"all\" or an integer: invalid syntax");
    check("count=1,count=2", "error: gpu request key 'count' can be specified only once");
    check("all,all", "error: gpu request key 'all' can be specified only once");
    check("2,count=3", "error: gpu request key 'count' can be specified only once");
    check("device=0,device=1", "error: gpu request key 'device' can be specified only once");
    /* unquoted, the list splits: "3" becomes a count */
    check("capabilities=compute,utility", "error: invalid count (utility): value must be either "
                                          "\"all\" or an integer: invalid syntax");
    check("", "error: EOF");
    check("\n", "error: EOF");
    check("a\"b", "error: parse error on line 1, column 2: bare \" in non-quoted-field");
    check("\"abc",
          "error: parse error on line 1, column 5: extraneous or missing \" in quoted-field");
    check("\"ab\"c",
          "error: parse error on line 1, column 4: extraneous or missing \" in quoted-field");
    check("\"a\nb", "error: record on line 1; parse error on line 2, column 2: extraneous or "
                    "missing \" in quoted-field");
    check("options=", "error: failed to read gpu options: EOF");
    check("\"options=a\"\"b\"",
          "error: failed to read gpu options: parse error on line 1, column 2: "
          "bare \" in non-quoted-field");
    check("all,",
          "error: invalid count (): value must be either \"all\" or an integer: invalid syntax");
}

/* what the daemon makes of a flag value */
static char *env_of(const char *value)
{
    struct device_request r = {0};
    gctk_error *err = NULL;
    char *vis = NULL, *caps = NULL, *s;
    if (gpusflag_parse(value, &r, &err) < 0 || device_request_to_env(&r, &vis, &caps, &err) < 0) {
        s = xasprintf("error: %s", err->msg);
        gctk_error_free(err);
    } else {
        s = xasprintf("%s|%s", vis ? vis : "(unset)", caps ? caps : "(unset)");
    }
    free(vis);
    free(caps);
    device_request_clear(&r);
    return s;
}

static void check_env(const char *value, const char *want)
{
    cleanup_free char *got = env_of(value);
    if (strcmp(got, want) != 0)
        fail_msg("--gpus '%s'\n  got  %s\n  want %s", value, got, want);
}

static void test_daemon_env(void **state)
{
    (void)state;
    check_env("all", "all|(unset)");
    check_env("3", "0,1,2|(unset)");
    check_env("1", "0|(unset)");
    check_env("0", "(unset)|(unset)");
    check_env("-2", "all|(unset)");
    check_env("\"device=0,3\"", "0,3|(unset)");
    check_env("\"device=GPU-a,GPU-b\"", "GPU-a,GPU-b|(unset)");
    check_env("\"capabilities=compute,utility\"", "0|compute,utility");
    check_env("all,\"capabilities=video,gpu,graphics,nvidia\"", "all|video,graphics");
    check_env("driver=nvidia,capabilities=display", "0|display");
    check_env("all,capabilities=compat32", "all|compat32");
    check_env("\"device=0\",count=2",
              "error: cannot set both Count and DeviceIDs on device request");
    check_env("all,\"capabilities=compute,tpu\"",
              "error: could not select device driver \"\" with capabilities: [[compute tpu gpu]]");
    /* ngx is an NVIDIA capability but not one dockerd's driver offers */
    check_env("capabilities=ngx",
              "error: could not select device driver \"\" with capabilities: [[ngx gpu]]");
    check_env("driver=amd",
              "error: could not select device driver \"amd\" with capabilities: [[gpu]]");
    check_env("99999999", "error: count 99999999: more GPUs than any host has");
}

static void test_untouched_on_failure(void **state)
{
    (void)state;
    struct device_request r = {.count = 42};
    gctk_error *err = NULL;
    assert_int_equal(gpusflag_parse("count=1,bogus=2", &r, &err), -1);
    assert_int_equal(r.count, 42);
    assert_null(r.ids.items);
    gctk_error_free(err);

    /* requests built by hand (Compose): no capabilities at all is Docker's "[]" */
    struct device_request c = {.count = 1};
    char *vis = NULL, *caps = NULL;
    err = NULL;
    assert_int_equal(device_request_to_env(&c, &vis, &caps, &err), -1);
    assert_string_equal(err->msg, "could not select device driver \"\" with capabilities: []");
    assert_null(vis);
    gctk_error_free(err);
    /* an empty capability list that was given matches (Compose `capabilities: []`) */
    c.has_caps = true;
    assert_int_equal(device_request_to_env(&c, &vis, &caps, NULL), 0);
    assert_string_equal(vis, "0");
    assert_null(caps);
    free(vis);
    device_request_clear(&c);
    device_request_clear(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_devices_and_quoting),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_daemon_env),
        cmocka_unit_test(test_untouched_on_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
