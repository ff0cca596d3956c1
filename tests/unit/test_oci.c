/* Unit tests of the hook's untrusted inputs: lib/container/oci.c (state, config.json),
 * lib/container/request.c (the NVIDIA_* environment) and the log escaping of lib/runtime/hook.c.
 * Several are regression tests of security-review and fuzzing findings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "hook.h"
#include "oci.h"
#include "request.h"

static int parse_spec(const char *text, struct oci_spec *s, gctk_error **err)
{
    return oci_spec_parse(text, strlen(text), "/run/b", s, err);
}

static void test_state(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "{",
        "[]",
        "{\"pid\": 0, \"bundle\": \"/b\"}",
        "{\"pid\": -5, \"bundle\": \"/b\"}",
        "{\"pid\": 1073741824, \"bundle\": \"/b\"}",
        "{\"pid\": \"12\", \"bundle\": \"/b\"}",
        "{\"pid\": 12, \"bundle\": \"relative\"}",
        "{\"pid\": 12}",
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(bad); i++) {
        struct oci_state s = {0};
        gctk_error *err = NULL;
        assert_int_equal(oci_state_parse(bad[i], strlen(bad[i]), 0, &s, &err), -1);
        assert_non_null(err);
        assert_null(s.bundle);
        gctk_error_free(err);
        /* a hook in the container takes pid 0, and nothing else more */
        unsigned flags = OCI_STATE_IN_CONTAINER;
        int want = strcmp(bad[i], "{\"pid\": 0, \"bundle\": \"/b\"}") == 0 ? 0 : -1;
        err = NULL;
        assert_int_equal(oci_state_parse(bad[i], strlen(bad[i]), flags, &s, &err), want);
        assert_true(want == 0 ? err == NULL && s.pid == 0 && strcmp(s.bundle, "/b") == 0
                              : err != NULL && s.bundle == NULL);
        gctk_error_free(err);
        oci_state_clear(&s);
    }
    struct oci_state s = {0};
    const char *good = "{\"id\": \"c1\", \"pid\": 42, \"bundle\": \"/run/b\"}";
    assert_int_equal(oci_state_parse(good, strlen(good), 0, &s, NULL), 0);
    assert_int_equal(s.pid, 42);
    assert_string_equal(s.bundle, "/run/b");
    oci_state_clear(&s);
    /* what crun gives its createContainer hooks */
    const char *crun = "{\"ociVersion\":\"1.0\",\"id\":\"t4\",\"pid\":0,\"root\":\"rootfs\","
                       "\"bundle\":\"/var/b\",\"status\":\"created\"}";
    gctk_error *err = NULL;
    assert_int_equal(oci_state_parse(crun, strlen(crun), 0, &s, &err), -1);
    assert_non_null(strstr(err->msg, "run gctk-hook as an OCI prestart or createRuntime hook"));
    gctk_error_free(err);
    assert_int_equal(oci_state_parse(crun, strlen(crun), OCI_STATE_IN_CONTAINER, &s, NULL), 0);
    assert_int_equal(s.pid, 0);
    assert_string_equal(s.id, "t4");
    oci_state_clear(&s);
}

/* One rule for every JSON document: a duplicated key is refused (runc would
 * take the last value; another reader may take the first) */
static void test_duplicate_keys_refused(void **state)
{
    (void)state;
    const char *st = "{\"pid\": 42, \"bundle\": \"/run/b\", \"pid\": 1}";
    struct oci_state s = {0};
    gctk_error *err = NULL;
    assert_int_equal(oci_state_parse(st, strlen(st), 0, &s, &err), -1);
    assert_non_null(strstr(err->msg, "OCI state on stdin line 1"));
    assert_non_null(strstr(err->msg, "duplicate object key"));
    gctk_error_free(err);
    err = NULL;
    struct oci_spec sp = {0};
    assert_int_equal(parse_spec("{\"root\": {\"path\": \"r\"}, \"process\": {\"env\": []}, "
                                "\"process\": {\"env\": [\"NVIDIA_VISIBLE_DEVICES=all\"]}}",
                                &sp, &err),
                     -1);
    assert_non_null(strstr(err->msg, "config.json line 1"));
    assert_non_null(strstr(err->msg, "duplicate object key"));
    assert_int_equal(sp.env.len, 0);
    gctk_error_free(err);
}

static void test_state_fd_too_large(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    /* a writer that never stops: the reader must give up at the cap */
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        char buf[65536];
        memset(buf, ' ', sizeof(buf));
        while (write(p[1], buf, sizeof(buf)) > 0)
            ;
        _exit(0);
    }
    close(p[1]);
    struct oci_state s = {0};
    gctk_error *err = NULL;
    assert_int_equal(oci_state_read_fd(p[0], 0, &s, &err), -1);
    assert_non_null(strstr(err->msg, "larger than"));
    close(p[0]);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    gctk_error_free(err);
}

/* fuzz_oci found it: a bad entry in process.capabilities.bounding leaked the
 * strings before it (ASan's leak check in the asan/ unit run fails here) */
static void test_spec_bad_bounding_no_leak(void **state)
{
    (void)state;
    struct oci_spec s = {0};
    gctk_error *err = NULL;
    assert_int_equal(parse_spec("{\"root\": {\"path\": \"r\"}, \"process\": {\"capabilities\": "
                                "{\"bounding\": [\"CAP_A\", \"CAP_B\", 3]}}}",
                                &s, &err),
                     -1);
    assert_non_null(strstr(err->msg, "process.capabilities.bounding[2]"));
    gctk_error_free(err);
}

static void test_spec(void **state)
{
    (void)state;
    struct oci_spec s = {0};
    gctk_error *err = NULL;
    assert_int_equal(parse_spec("{\"root\": {\"path\": \"rootfs\"}, \"process\": {\"env\": "
                                "[\"A=1\", \"A=2\"], \"capabilities\": {\"bounding\": "
                                "[\"CAP_SYS_ADMIN\"]}}}",
                                &s, &err),
                     0);
    assert_string_equal(s.rootfs, "/run/b/rootfs");
    assert_true(s.privileged);
    assert_string_equal(env_get(&s.env, "A"), "2");
    assert_null(env_get(&s.env, "B"));
    oci_spec_clear(&s);
    static const char *const bad[] = {
        "{}",
        "{\"root\": {\"path\": \"\"}}",
        "{\"root\": {\"path\": \"r\"}, \"process\": {\"env\": \"A=1\"}}",
        "{\"root\": {\"path\": \"r\"}, \"process\": {\"env\": [\"A=1\", null]}}",
        /* a NUL inside a string: jansson refuses it, so no value is cut short */
        ("{\"root\": {\"path\": \"r\"}, \"process\": {\"env\": "
         "[\"NVIDIA_VISIBLE_DEVICES=0\\u0000,1\"]}}"),
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(bad); i++) {
        assert_int_equal(parse_spec(bad[i], &s, &err), -1);
        assert_non_null(err);
        gctk_error_free(err);
        err = NULL;
    }
}

static struct strv env_of(const char *const *items, size_t n)
{
    struct strv v = {0};
    for (size_t i = 0; i < n; i++)
        strv_push(&v, xstrdup(items[i]));
    return v;
}

static void test_requires_last_wins(void **state)
{
    (void)state;
    static const char *const items[] = {
        "NVIDIA_REQUIRE_CUDA=cuda>=11.0", "NVIDIA_VISIBLE_DEVICES=0",
        "NVIDIA_REQUIRE_ARCH=arch>=7.0",  "NVIDIA_REQUIRE_CUDA=cuda>=12.0",
        "NVIDIA_REQUIRE_X=brand=tesla",   "NVIDIA_REQUIRE_X=",
        "NVIDIA_REQUIRE_=driver>=1",      "NVIDIA_REQUIRE_CUDAX=cuda>=1.0",
    };
    struct strv env = env_of(items, GCTK_ARRAY_LEN(items));
    struct gctk_config cfg = {.accept_nvidia_visible_devices_envvar_when_unprivileged = true};
    struct request r = {0};
    assert_int_equal(request_from_env(&env, false, &cfg, &r, NULL), 0);
    /* environment order, each name once with its last value, empty drops */
    assert_int_equal(r.requires.len, 4);
    assert_string_equal(r.requires.items[0], "arch>=7.0");
    assert_string_equal(r.requires.items[1], "cuda>=12.0");
    assert_string_equal(r.requires.items[2], "driver>=1");
    assert_string_equal(r.requires.items[3], "cuda>=1.0");
    request_clear(&r);
    strv_clear(&env);
}

/* Regression: every NVIDIA_REQUIRE_* entry looked every other one up, so an
 * image with 10^5 of them held the hook (root, on the host) for minutes. */
static void test_requires_flood_is_fast(void **state)
{
    (void)state;
    struct strv env = {0};
    for (int i = 0; i < 100000; i++)
        strv_push(&env, xasprintf("NVIDIA_REQUIRE_N%d=cuda>=%d.0", i % 50000, i % 13));
    strv_push(&env, xstrdup("NVIDIA_VISIBLE_DEVICES=all"));
    struct gctk_config cfg = {.accept_nvidia_visible_devices_envvar_when_unprivileged = true};
    struct request r = {0};
    unsigned long long t = now_ns();
    assert_int_equal(request_from_env(&env, false, &cfg, &r, NULL), 0);
    double secs = (double)(now_ns() - t) / 1e9;
    assert_int_equal(r.requires.len, 50000);
    /* the second definition of N0 (i = 50000) won */
    assert_string_equal(r.requires.items[0], "cuda>=2.0");
    assert_true(secs < 5.0);
    request_clear(&r);
    strv_clear(&env);
}

static void test_escape(void **state)
{
    (void)state;
    cleanup_free char *a = hook_escape("0\n2025-01-01T00:00:00Z forged line\x1b[2J\x7f");
    assert_string_equal(a, "0\\x0a2025-01-01T00:00:00Z forged line\\x1b[2J\\x7f");
    cleanup_free char *long_in = xmalloc(HOOK_LINE_MAX * 3 + 1);
    memset(long_in, 'x', HOOK_LINE_MAX * 3);
    long_in[HOOK_LINE_MAX * 3] = '\0';
    cleanup_free char *b = hook_escape(long_in);
    assert_true(strlen(b) < HOOK_LINE_MAX + 64);
    assert_non_null(strstr(b, "... (12288 bytes)"));
    /* C1 controls as UTF-8 (CSI, NEL) and as raw bytes (an 8-bit terminal's
     * CSI), the line and paragraph separators, a right-to-left override */
    cleanup_free char *c1 = hook_escape("a\xc2\x9b"
                                        "2Jb\xc2\x85"
                                        "c\x9b"
                                        "31md\xe2\x80\xa8"
                                        "e\xe2\x80\xa9"
                                        "f\xe2\x80\xae"
                                        "g");
    assert_string_equal(c1, "a\\u009b2Jb\\u0085c\\x9b31md\\u2028e\\u2029f\\u202eg");
    /* what is not UTF-8 (a stray byte, a cut sequence, an overlong '/', a
     * surrogate) byte by byte; a backslash doubled, so that an escape cannot
     * be forged; valid UTF-8 kept */
    cleanup_free char *bad = hook_escape("\xff|\xe2\x80|\xc0\xaf|\xed\xa0\x80|\\x0a|"
                                         "\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x92");
    assert_string_equal(bad, "\\xff|\\xe2\\x80|\\xc0\\xaf|\\xed\\xa0\\x80|\\\\x0a|"
                             "\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x92");
}

/* Regression: a newline in NVIDIA_VISIBLE_DEVICES wrote a second, forged line
 * into the hook's log. */
static void test_log_one_line_per_entry(void **state)
{
    (void)state;
    char path[] = "/tmp/gctk-test-log.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct hook_log log = {0};
    hook_log_add(&log, "NVIDIA_VISIBLE_DEVICES=%s", "0\n2025-01-01T00:00:00.000Z x root granted");
    hook_log_write(&log, path, "abc\ndef");
    hook_log_clear(&log);
    cleanup_free char *text = NULL;
    assert_int_equal(read_file(path, 1 << 20, &text, NULL, NULL), 0);
    unlink(path);
    size_t lines = 0;
    for (const char *c = text; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 1);
    assert_non_null(strstr(text, "abc\\x0adef NVIDIA_VISIBLE_DEVICES=0\\x0a2025"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state),
        cmocka_unit_test(test_state_fd_too_large),
        cmocka_unit_test(test_duplicate_keys_refused),
        cmocka_unit_test(test_spec_bad_bounding_no_leak),
        cmocka_unit_test(test_spec),
        cmocka_unit_test(test_requires_last_wins),
        cmocka_unit_test(test_requires_flood_is_fast),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_log_one_line_per_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
