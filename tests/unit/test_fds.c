/* Unit tests for src/lib/fds.c: closing and marking fds with close_range(2)
 * and with the /proc/self/fd fallback, and LISTEN_FDS passthrough. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fds.h"
#include "utils.h"

/* Opens /dev/null onto exactly these fds. */
static void open_on(const int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int fd = open("/dev/null", O_RDONLY);
        assert_true(fd >= 0);
        if (fd != fds[i]) {
            assert_int_equal(dup2(fd, fds[i]), fds[i]);
            close(fd);
        }
    }
}

static bool fd_is_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0;
}

static bool fd_is_cloexec(int fd)
{
    int flags = fcntl(fd, F_GETFD);
    assert_true(flags >= 0);
    return (flags & FD_CLOEXEC) != 0;
}

/* The highest open fd, from /proc/self/fd, not counting the walk's own,
 * nor those at or above the soft RLIMIT_NOFILE: valgrind keeps its own fds
 * there, out of the program's reach. */
static int highest_open_fd(void)
{
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int self = dirfd(d), max = -1;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        int fd = atoi(de->d_name);
        if (fd != self && fd > max && (rlim_t)fd < rl.rlim_cur)
            max = fd;
    }
    closedir(d);
    return max;
}

static int use_fallback(void **state)
{
    (void)state;
    husk_fds_force_fallback = 1;
    return 0;
}

static int use_close_range(void **state)
{
    (void)state;
    husk_fds_force_fallback = 0;
    return 0;
}

static void test_close_except(void **state)
{
    (void)state;
    static const int fds[] = { 5, 6, 9, 17, 200 };
    open_on(fds, sizeof(fds) / sizeof(fds[0]));
    assert_true(highest_open_fd() >= 200);

    husk_error_t err = NULL;
    assert_int_equal(husk_fds_close_except(6, &err), 0);
    assert_null(err);
    assert_true(fd_is_open(5));
    assert_true(fd_is_open(6));
    assert_false(fd_is_open(9));
    assert_false(fd_is_open(17));
    assert_false(fd_is_open(200));
    assert_true(highest_open_fd() <= 6);
    assert_true(fd_is_open(1)); /* stdio untouched */

    close(5);
    close(6);
}

static void test_mark_cloexec_from(void **state)
{
    (void)state;
    static const int fds[] = { 7, 8, 30 };
    open_on(fds, 3);
    assert_false(fd_is_cloexec(7));

    husk_error_t err = NULL;
    assert_int_equal(husk_fds_mark_cloexec_from(8, &err), 0);
    assert_null(err);
    assert_false(fd_is_cloexec(7));
    assert_true(fd_is_cloexec(8));
    assert_true(fd_is_cloexec(30));
    assert_true(fd_is_open(30)); /* marked, not closed */

    assert_int_equal(husk_fds_clear_cloexec_range(8, 40, &err), 0);
    assert_false(fd_is_cloexec(8));
    assert_false(fd_is_cloexec(30));

    close(7);
    close(8);
    close(30);
}

static void test_close_except_fallback(void **state)
{
    test_close_except(state);
}

static void test_mark_cloexec_from_fallback(void **state)
{
    test_mark_cloexec_from(state);
}

/* Proves which path runs: in a private mount namespace with an empty
 * tmpfs over /proc, close_range() still works and the fallback cannot. */
static int close_except_without_proc(int force_fallback, char *msg, size_t msg_size)
{
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pipefd[0]);
        if (unshare(CLONE_NEWNS) < 0 ||
            mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("tmpfs", "/proc", "tmpfs", 0, NULL) < 0)
            _exit(2);
        husk_fds_force_fallback = force_fallback;
        husk_error_t err = NULL;
        int r = husk_fds_close_except(pipefd[1], &err);
        if (r < 0 && err != NULL) {
            ssize_t w = write(pipefd[1], err->msg, strlen(err->msg));
            (void)w;
        }
        _exit(r == 0 ? 0 : 1);
    }
    close(pipefd[1]);
    ssize_t n = read(pipefd[0], msg, msg_size - 1);
    msg[n > 0 ? n : 0] = '\0';
    close(pipefd[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void test_paths_are_distinct(void **state)
{
    (void)state;
    char msg[512];
    assert_int_equal(close_except_without_proc(0, msg, sizeof(msg)), 0);
    assert_int_equal(close_except_without_proc(1, msg, sizeof(msg)), 1);
    assert_non_null(strstr(msg, "/proc/self/fd"));
}

static void test_listen_from_env(void **state)
{
    (void)state;
    static const int fds[] = { 3, 4 };
    open_on(fds, 2);
    husk_error_t err = NULL;
    husk_listen_fds lf;

    char *none[] = { "PATH=/bin", NULL };
    assert_int_equal(husk_fds_listen_from_env(none, &lf, &err), 0);
    assert_int_equal(lf.count, 0);
    assert_null(lf.fdnames);
    assert_int_equal(husk_fds_keep_up_to(&lf, 0), 2);

    char *two[] = { "LISTEN_PID=1", "LISTEN_FDS=2", "LISTEN_FDNAMES=http:https", NULL };
    assert_int_equal(husk_fds_listen_from_env(two, &lf, &err), 0);
    assert_int_equal(lf.count, 2);
    assert_string_equal(lf.fdnames, "http:https");
    assert_int_equal(husk_fds_keep_up_to(&lf, 3), 7);
    husk_listen_fds_free(&lf);

    char *bad[] = { "LISTEN_FDS=2x", NULL };
    assert_true(husk_fds_listen_from_env(bad, &lf, &err) < 0);
    assert_non_null(strstr(err->msg, "LISTEN_FDS=2x"));
    husk_error_free(&err);

    char *negative[] = { "LISTEN_FDS=-1", NULL };
    assert_true(husk_fds_listen_from_env(negative, &lf, &err) < 0);
    husk_error_free(&err);

    close(4);
    assert_true(husk_fds_listen_from_env(two, &lf, &err) < 0);
    assert_non_null(strstr(err->msg, "fd 4"));
    husk_error_free(&err);
    close(3);
}

static void test_listen_env(void **state)
{
    (void)state;
    husk_error_t err = NULL;
    char *process_env[] = { "PATH=/bin", "LISTEN_PID=77", "HOME=/root", "LISTEN_FDS=9", NULL };

    husk_listen_fds lf = { .count = 2, .fdnames = "a:b" };
    cleanup_strv char **env = NULL;
    assert_int_equal(husk_fds_listen_env(&lf, process_env, 1, &env, &err), 0);
    const char *want[] = { "PATH=/bin", "HOME=/root", "LISTEN_FDS=2", "LISTEN_PID=1",
                           "LISTEN_FDNAMES=a:b", NULL };
    for (size_t i = 0; want[i] != NULL; i++)
        assert_string_equal(env[i], want[i]);
    assert_null(env[5]);

    /* nothing to pass on: the config's environment is left as it is */
    cleanup_strv char **copy = NULL;
    assert_int_equal(husk_fds_listen_env(NULL, process_env, 1, &copy, &err), 0);
    for (size_t i = 0; process_env[i] != NULL; i++)
        assert_string_equal(copy[i], process_env[i]);
    assert_null(copy[4]);

    cleanup_strv char **empty = NULL;
    husk_listen_fds one = { .count = 1 };
    assert_int_equal(husk_fds_listen_env(&one, NULL, 42, &empty, &err), 0);
    assert_string_equal(empty[0], "LISTEN_FDS=1");
    assert_string_equal(empty[1], "LISTEN_PID=42");
    assert_null(empty[2]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_close_except, use_close_range, use_close_range),
        cmocka_unit_test_setup_teardown(test_close_except_fallback, use_fallback,
                                        use_close_range),
        cmocka_unit_test_setup_teardown(test_mark_cloexec_from, use_close_range,
                                        use_close_range),
        cmocka_unit_test_setup_teardown(test_mark_cloexec_from_fallback, use_fallback,
                                        use_close_range),
        cmocka_unit_test(test_paths_are_distinct),
        cmocka_unit_test(test_listen_from_env),
        cmocka_unit_test(test_listen_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
