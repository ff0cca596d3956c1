/* Unit tests of lib/container/inject.c: a process with threads (NVML starts
 * one) injects from a forked child, since setns() into a mount namespace
 * refuses a threaded caller. The child's error comes back as the process's
 * own would read, and a child that dies or says nothing is an error that
 * says so. The failures here come before any mount: no root needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "inject.h"

#define RELATIVE_ROOTFS "relative/rootfs"
#define RELATIVE_MSG "rootfs `" RELATIVE_ROOTFS "` must be an absolute path"

/* A second thread, parked on a pipe until the group ends. */
static int park[2] = {-1, -1};
static pthread_t parked;

static void *wait_on_pipe(void *arg)
{
    (void)arg;
    char c;
    while (read(park[0], &c, 1) < 0 && errno == EINTR)
        ;
    return NULL;
}

static int start_thread(void **state)
{
    (void)state;
    if (pipe(park) < 0 || pthread_create(&parked, NULL, wait_on_pipe, NULL) != 0)
        return -1;
    return 0;
}

static int stop_thread(void **state)
{
    (void)state;
    close(park[1]);
    pthread_join(parked, NULL);
    close(park[0]);
    return 0;
}

static int reset_knobs(void **state)
{
    (void)state;
    inject_child_signal = 0;
    inject_child_silent = false;
    return 0;
}

/* inject() of a plan it never reaches: the rootfs is refused first */
static int inject_relative(gctk_error **err)
{
    struct inject_opts o = {.pid = getpid(), .rootfs = RELATIVE_ROOTFS};
    struct inject_report rep = {0};
    int rc = inject(NULL, NULL, &o, &rep, err);
    inject_report_clear(&rep);
    return rc;
}

/* in-process: the knobs of the child are not even looked at */
static void test_unthreaded_in_process(void **state)
{
    (void)state;
    inject_child_silent = true;
    cleanup_error gctk_error *err = NULL;
    assert_int_equal(inject_relative(&err), -1);
    assert_string_equal(err->msg, RELATIVE_MSG);
}

static void test_child_error_comes_back(void **state)
{
    (void)state;
    cleanup_error gctk_error *err = NULL;
    assert_int_equal(inject_relative(&err), -1);
    assert_string_equal(err->msg, RELATIVE_MSG);
    assert_int_equal(err->code, 0);
    assert_null(err->hint);
}

static void test_child_killed(void **state)
{
    (void)state;
    inject_child_signal = SIGKILL;
    cleanup_error gctk_error *err = NULL;
    assert_int_equal(inject_relative(&err), -1);
    assert_non_null(strstr(err->msg, "the injection's child process "));
    assert_non_null(strstr(err->msg, " was killed by signal 9"));
}

static void test_child_silent(void **state)
{
    (void)state;
    inject_child_silent = true;
    cleanup_error gctk_error *err = NULL;
    assert_int_equal(inject_relative(&err), -1);
    assert_string_equal(err->msg, "the injection's child process reported nothing");
}

int main(void)
{
    const struct CMUnitTest alone[] = {
        cmocka_unit_test_teardown(test_unthreaded_in_process, reset_knobs),
    };
    const struct CMUnitTest threaded[] = {
        cmocka_unit_test_teardown(test_child_error_comes_back, reset_knobs),
        cmocka_unit_test_teardown(test_child_killed, reset_knobs),
        cmocka_unit_test_teardown(test_child_silent, reset_knobs),
    };
    int failed = cmocka_run_group_tests_name("one thread", alone, NULL, NULL);
    return failed + cmocka_run_group_tests_name("two threads", threaded, start_thread, stop_thread);
}
