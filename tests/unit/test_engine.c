/* Unit tests of lib/engines/engine.c: editing daemon.json in a temporary
 * directory, and the containerd, CRI-O and Podman files. The read-only case
 * needs root: it bind-mounts the directory read-only inside a private mount
 * namespace of a child process, so nothing outlives the child. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "bounds.h"
#include "engine.h"

struct fixture {
    char dir[64];
    char *path; /* dir/etc/docker/daemon.json: its directory does not exist yet */
};

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/gctk-daemonjson-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    f->path = xasprintf("%s/etc/docker/daemon.json", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    cleanup_free char *cmd = xasprintf("rm -rf '%s'", f->dir);
    int r = system(cmd);
    free(f->path);
    free(f);
    return r == 0 ? 0 : -1;
}

static void write_text(const char *path, const char *text)
{
    cleanup_free char *dir = xstrdup(path);
    *strrchr(dir, '/') = '\0';
    cleanup_free char *cmd = xasprintf("mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
    FILE *fp = fopen(path, "we");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static char *read_text(const char *path)
{
    char *s = NULL;
    assert_int_equal(read_file(path, 1 << 20, &s, NULL, NULL), 0);
    return s;
}

static const struct runtime_entry nvidia = {.name = "nvidia", .path = "/usr/bin/gctk-runtime"};

static int configure(const char *path, const struct runtime_entry *rt, unsigned flags,
                     bool *changed, char **err_msg)
{
    gctk_error *err = NULL;
    cleanup_free char *text = NULL;
    int r = daemonjson_configure(path, rt, flags, changed, &text, &err);
    if (r < 0) {
        if (err_msg != NULL)
            *err_msg = xstrdup(err->msg);
        gctk_error_free(err);
    }
    return r;
}

static void test_missing_file(void **state)
{
    struct fixture *f = *state;
    bool changed = false;
    assert_int_equal(configure(f->path, &nvidia, 0, &changed, NULL), 0);
    assert_true(changed);
    cleanup_free char *got = read_text(f->path);
    assert_string_equal(
        got, "{\n    \"runtimes\": {\n        \"nvidia\": {\n            \"path\": "
             "\"/usr/bin/gctk-runtime\",\n            \"args\": []\n        }\n    }\n}\n");
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    /* a new file has nothing to back up */
    cleanup_free char *bak = xasprintf("%s.bak", f->path);
    assert_int_equal(access(bak, F_OK), -1);
}

static void test_keeps_other_keys_in_order(void **state)
{
    struct fixture *f = *state;
    const char *before =
        "{\"log-driver\": \"journald\", \"runtimes\": {\"kata\": {\"path\": \"/k\"}},\n"
        " \"data-root\": \"/srv/docker\", \"features\": {\"buildkit\": true}}";
    write_text(f->path, before);
    assert_int_equal(chmod(f->path, 0600), 0);
    bool changed = false;
    struct runtime_entry rt = nvidia;
    rt.set_default = true;
    rt.cdi = true;
    assert_int_equal(configure(f->path, &rt, 0, &changed, NULL), 0);
    assert_true(changed);
    cleanup_free char *got = read_text(f->path);
    assert_string_equal(got, "{\n"
                             "    \"log-driver\": \"journald\",\n"
                             "    \"runtimes\": {\n"
                             "        \"kata\": {\n"
                             "            \"path\": \"/k\"\n"
                             "        },\n"
                             "        \"nvidia\": {\n"
                             "            \"path\": \"/usr/bin/gctk-runtime\",\n"
                             "            \"args\": []\n"
                             "        }\n"
                             "    },\n"
                             "    \"data-root\": \"/srv/docker\",\n"
                             "    \"features\": {\n"
                             "        \"buildkit\": true,\n"
                             "        \"cdi\": true\n"
                             "    },\n"
                             "    \"default-runtime\": \"nvidia\"\n"
                             "}\n");
    /* the previous content is kept, and the mode too */
    cleanup_free char *bak = xasprintf("%s.bak", f->path);
    cleanup_free char *old = read_text(bak);
    assert_string_equal(old, before);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);

    /* remove: the entry and the default go, the other runtime stays */
    assert_int_equal(configure(f->path, &nvidia, CONFIG_REMOVE, &changed, NULL), 0);
    assert_true(changed);
    cleanup_free char *after = read_text(f->path);
    assert_null(strstr(after, "nvidia"));
    assert_non_null(strstr(after, "\"kata\""));
    assert_non_null(strstr(after, "\"cdi\": true"));
    /* removing again changes nothing */
    assert_int_equal(configure(f->path, &nvidia, CONFIG_REMOVE, &changed, NULL), 0);
    assert_false(changed);
}

static void test_second_run_changes_nothing(void **state)
{
    struct fixture *f = *state;
    bool changed = false;
    assert_int_equal(configure(f->path, &nvidia, 0, &changed, NULL), 0);
    struct stat st1, st2;
    assert_int_equal(stat(f->path, &st1), 0);
    /* a different layout of the same content is not rewritten either */
    write_text(f->path,
               "{\"runtimes\":{\"nvidia\":{\"path\":\"/usr/bin/gctk-runtime\",\"args\":[]}}}");
    assert_int_equal(stat(f->path, &st1), 0);
    struct timespec old = {1000000000, 0};
    struct timespec times[2] = {old, old};
    assert_int_equal(utimensat(AT_FDCWD, f->path, times, 0), 0);
    assert_int_equal(configure(f->path, &nvidia, 0, &changed, NULL), 0);
    assert_false(changed);
    assert_int_equal(stat(f->path, &st2), 0);
    assert_int_equal(st2.st_mtim.tv_sec, old.tv_sec);
    assert_int_equal(st1.st_ino, st2.st_ino);
    cleanup_free char *bak = xasprintf("%s.bak", f->path);
    assert_int_equal(access(bak, F_OK), -1);
    /* a new path is a change */
    struct runtime_entry rt = nvidia;
    rt.path = "/opt/gctk/bin/gctk-runtime";
    assert_int_equal(configure(f->path, &rt, 0, &changed, NULL), 0);
    assert_true(changed);
}

static void test_invalid_json_refused(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"{\n  \"a\": 1,\n  \"b\" 2\n}\n",
         "line 3 column 7: ':' expected near '2': fix the file or move it away"},
        {"{\"a\": 1, \"a\": 2}",
         "line 1 column 12: duplicate object key near '\"a\"': fix the file or move it away"},
        {"[1, 2]", ": the top level is not a JSON object: fix the file or move it away"},
        {"{\"runtimes\": []}", ": \"runtimes\" is not a JSON object: fix it or move the file away"},
    };
    for (size_t i = 0; i < GCTK_ARRAY_LEN(cases); i++) {
        write_text(f->path, cases[i].text);
        bool changed = true;
        cleanup_free char *msg = NULL;
        assert_int_equal(configure(f->path, &nvidia, 0, &changed, &msg), -1);
        cleanup_free char *want =
            xasprintf("`%s`%s%s", f->path, cases[i].want[0] == ':' ? "" : " ", cases[i].want);
        assert_string_equal(msg, want);
        cleanup_free char *after = read_text(f->path);
        assert_string_equal(after, cases[i].text);
    }
    struct runtime_entry rt = nvidia;
    rt.cdi = true;
    write_text(f->path, "{\"features\": \"cdi\"}");
    bool changed;
    assert_int_equal(configure(f->path, &rt, 0, &changed, NULL), -1);
    /* an empty file is an empty configuration */
    write_text(f->path, "\n");
    assert_int_equal(configure(f->path, &nvidia, 0, &changed, NULL), 0);
    assert_true(changed);
}

static void test_dry_run_writes_nothing(void **state)
{
    struct fixture *f = *state;
    bool changed = false;
    gctk_error *err = NULL;
    cleanup_free char *text = NULL;
    assert_int_equal(daemonjson_configure(f->path, &nvidia, CONFIG_DRY_RUN, &changed, &text, &err),
                     0);
    assert_true(changed);
    assert_non_null(strstr(text, "gctk-runtime"));
    assert_int_equal(access(f->path, F_OK), -1);
    cleanup_free char *dir = xasprintf("%s/etc", f->dir);
    assert_int_equal(access(dir, F_OK), -1);
    write_text(f->path, "{\"debug\": true}");
    assert_int_equal(configure(f->path, &nvidia, CONFIG_DRY_RUN, &changed, NULL), 0);
    assert_true(changed);
    cleanup_free char *after = read_text(f->path);
    assert_string_equal(after, "{\"debug\": true}");
}

/* In a child: a private mount namespace where the directory is read-only. */
static void test_read_only_directory(void **state)
{
    struct fixture *f = *state;
    const char *before = "{\"debug\": true}\n";
    write_text(f->path, before);
    cleanup_free char *dir = xstrdup(f->path);
    *strrchr(dir, '/') = '\0';
    if (geteuid() != 0)
        skip();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount(dir, dir, NULL, MS_BIND, NULL) < 0 ||
            mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
            _exit(77);
        bool changed = false;
        gctk_error *err = NULL;
        int r = daemonjson_configure(f->path, &nvidia, 0, &changed, NULL, &err);
        if (r == 0)
            _exit(1);
        if (strstr(err->msg, "Read-only file system") == NULL || strstr(err->msg, dir) == NULL) {
            fprintf(stderr, "unexpected error: %s\n", err->msg);
            _exit(2);
        }
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77)
        skip();
    assert_int_equal(WEXITSTATUS(status), 0);
    cleanup_free char *after = read_text(f->path);
    assert_string_equal(after, before);
    /* no temporary file was left in the directory (it could not be made) */
    cleanup_free char *cmd = xasprintf("test $(ls -A '%s' | wc -l) -eq 1", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_add_refuses_without_change(void **state)
{
    (void)state;
    json_t *cfg = json_pack("{s:s, s:i}", "runtimes", "x", "debug", 1);
    json_t *copy = json_deep_copy(cfg);
    bool changed = true;
    gctk_error *err = NULL;
    assert_int_equal(daemonjson_add_runtime(cfg, &nvidia, &changed, &err), -1);
    assert_true(json_equal(cfg, copy));
    gctk_error_free(err);
    json_decref(cfg);
    json_decref(copy);
}

static void test_engine_table(void **state)
{
    (void)state;
    const struct engine *e = engine_find("docker");
    assert_non_null(e);
    assert_string_equal(e->config_path, ENGINE_DOCKER_CONFIG);
    assert_string_equal(e->binary, "gctk-runtime");
    e = engine_find("podman");
    assert_non_null(e);
    assert_null(e->restart);
    assert_string_equal(e->binary, "gctk-hook");
    assert_non_null(engine_find("containerd"));
    assert_non_null(engine_find("crio"));
    assert_null(engine_find("lxc"));
}

/* Podman's file, and the writer of every drop-in (containerd's and CRI-O's
 * contents are test_cri.c's) */
static void test_dropins(void **state)
{
    struct fixture *f = *state;
    const char *tmp = f->dir;
    cleanup_strv struct strv settings = {0};
    strv_push(&settings, xstrdup("GCTK_CONFIG=/etc/gctk/c.json"));
    cleanup_free char *pm = engine_podman_hook("/usr/bin/gctk-hook", &settings);
    json_t *j = json_loads(pm, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "version")), "1.0.0");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "hook"), "path")),
                        "/usr/bin/gctk-hook");
    assert_true(json_is_true(json_object_get(json_object_get(j, "when"), "always")));
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "stages"), 0)),
                        "prestart");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(json_object_get(j, "hook"), "env"), 1)),
        "GCTK_CONFIG=/etc/gctk/c.json");
    json_decref(j);

    cleanup_free char *path = xasprintf("%s/etc/containerd/conf.d/99-gctk.toml", tmp);
    bool changed = false;
    const char *cd = "version = 2\n";
    assert_int_equal(engine_dropin_write(path, cd, false, true, &changed, NULL), 0);
    assert_true(changed);
    assert_int_equal(access(path, F_OK), -1); /* dry run */
    assert_int_equal(engine_dropin_write(path, cd, false, false, &changed, NULL), 0);
    assert_true(changed);
    cleanup_free char *back = NULL;
    assert_int_equal(read_file(path, 1 << 20, &back, NULL, NULL), 0);
    assert_string_equal(back, cd);
    assert_int_equal(engine_dropin_write(path, cd, false, false, &changed, NULL), 0);
    assert_false(changed);
    assert_int_equal(engine_dropin_write(path, NULL, true, false, &changed, NULL), 0);
    assert_true(changed);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(engine_dropin_write(path, NULL, true, false, &changed, NULL), 0);
    assert_false(changed);
}

/* daemon.json and the drop-ins are written by the one atomic writer and read
 * only as regular files: a FIFO at the name (which made the read wait for
 * ever) and a symlink to a block device are refused and left as they are. */
static char *special_dir;

static void special_outputs(void)
{
    cleanup_free char *fifo = xasprintf("%s/fifo.json", special_dir);
    cleanup_free char *link = xasprintf("%s/link.json", special_dir);
    cleanup_free char *dev = xasprintf("%s/blk", special_dir);
    const char *dropin = "version = 2\n";
    const char *const paths[] = {fifo, link};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(paths); i++) {
        bool changed = false;
        gctk_error *err = NULL;
        if (daemonjson_configure(paths[i], &nvidia, 0, &changed, NULL, &err) != -1 ||
            strstr(err->msg, i == 0 ? "is a FIFO" : "is a symlink (to `") == NULL)
            _exit(2);
        gctk_error_free(err);
        err = NULL;
        if (engine_dropin_write(paths[i], dropin, false, false, &changed, &err) != -1 ||
            strstr(err->msg, i == 0 ? "is a FIFO" : "is a symlink") == NULL)
            _exit(3);
        gctk_error_free(err);
    }
    struct stat st;
    if (lstat(fifo, &st) < 0 || !S_ISFIFO(st.st_mode) || lstat(link, &st) < 0 ||
        !S_ISLNK(st.st_mode) || lstat(dev, &st) < 0 || !S_ISBLK(st.st_mode))
        _exit(4);
}

static void test_special_files_refused(void **state)
{
    struct fixture *f = *state;
    special_dir = f->dir;
    cleanup_free char *fifo = xasprintf("%s/fifo.json", f->dir);
    cleanup_free char *link = xasprintf("%s/link.json", f->dir);
    cleanup_free char *dev = xasprintf("%s/blk", f->dir);
    if (geteuid() != 0)
        skip(); /* mknod */
    assert_int_equal(mkfifo(fifo, 0644), 0);
    /* a block device of no disk (loop minor 255): the link's target */
    assert_int_equal(mknod(dev, S_IFBLK | 0600, makedev(7, 255)), 0);
    assert_int_equal(symlink(dev, link), 0);
    assert_true(within_seconds(special_outputs, 20));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keeps_other_keys_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_run_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_json_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dry_run_writes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_directory, setup, teardown),
        cmocka_unit_test(test_add_refuses_without_change),
        cmocka_unit_test_setup_teardown(test_dropins, setup, teardown),
        cmocka_unit_test(test_engine_table),
        cmocka_unit_test_setup_teardown(test_special_files_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
