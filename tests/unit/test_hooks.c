/* Unit tests for src/lib/hooks.c: every hook is a real /bin/sh run that
 * records what it saw (its argv and environ as the kernel gave them, its
 * stdin) into files of a temp dir. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hooks.h"
#include "utils.h"

static char tmpdir[64];

static int make_tmpdir(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/husk-test-hooks.XXXXXX");
    return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static int reset_pidfd(void **state)
{
    (void)state;
    husk_hooks_force_no_pidfd = 0;
    return 0;
}

static int no_pidfd(void **state)
{
    (void)state;
    husk_hooks_force_no_pidfd = 1;
    return 0;
}

/* A hook running `/bin/sh -c SCRIPT` (args given, env empty). The struct
 * owns its strings through the static storage below; tests build a few. */
struct sh_hook {
    ocispec_hook hook;
    char *argv[4];
    char script[1024];
};

static void sh_hook(struct sh_hook *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void sh_hook(struct sh_hook *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->script, sizeof(h->script), fmt, ap);
    va_end(ap);
    h->argv[0] = "sh";
    h->argv[1] = "-c";
    h->argv[2] = h->script;
    h->argv[3] = NULL;
    h->hook = (ocispec_hook){ .path = "/bin/sh", .args = h->argv, .args_len = 3 };
}

static char *read_tmp(const char *name, size_t *len)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    char *data = NULL;
    size_t n = 0;
    husk_error_t err = NULL;
    if (husk_read_file(path, &data, &n, &err) < 0) {
        husk_error_free(&err);
        return NULL;
    }
    if (len != NULL)
        *len = n;
    return data;
}

static bool tmp_exists(const char *name)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    return access(path, F_OK) == 0;
}

static void test_no_hooks(void **state)
{
    (void)state;
    husk_error_t err = NULL;
    assert_int_equal(husk_hooks_run("prestart", NULL, 0, NULL, "{}", &err), 0);
    assert_null(err);
    int *fds = (int *)1;
    assert_int_equal(husk_hooks_open(NULL, 0, &fds, &err), 0);
    assert_null(fds);
}

static void test_order(void **state)
{
    (void)state;
    struct sh_hook h[3];
    ocispec_hook hooks[3];
    for (int i = 0; i < 3; i++) {
        sh_hook(&h[i], "echo %d >> %s/order", i, tmpdir);
        hooks[i] = h[i].hook;
    }
    husk_error_t err = NULL;
    assert_int_equal(husk_hooks_run("createRuntime", hooks, 3, NULL, "{}", &err), 0);
    assert_null(err);
    cleanup_free char *order = read_tmp("order", NULL);
    assert_non_null(order);
    assert_string_equal(order, "0\n1\n2\n");
}

/* argv and environ exactly as given: read back from /proc/PID/cmdline and
 * /proc/PID/environ, which hold what execve() received, whatever the shell
 * adds to its own variables afterwards. */
static void test_args_env_stdin(void **state)
{
    (void)state;
    char script[512];
    snprintf(script, sizeof(script),
             "cat /proc/$$/cmdline > %s/cmdline; cat /proc/$$/environ > %s/environ; "
             "cat > %s/stdin",
             tmpdir, tmpdir, tmpdir);
    char *argv[] = { "my-hook-name", "-c", script, "first", "second arg", NULL };
    char *env[] = { "A=1", "B=two words", "EMPTY=", NULL };
    ocispec_hook hook = { .path = "/bin/sh", .args = argv, .args_len = 5, .env = env,
                          .env_len = 3 };

    /* larger than a pipe's buffer, so writing it needs the poll loop */
    size_t big = 300 * 1024;
    cleanup_free char *state_json = malloc(big + 64);
    int n = snprintf(state_json, big + 64, "{\"ociVersion\":\"1.3.0\",\"id\":\"c1\",\"x\":\"");
    memset(state_json + n, 'y', big);
    strcpy(state_json + n + big, "\"}");

    husk_error_t err = NULL;
    assert_int_equal(husk_hooks_run("createRuntime", &hook, 1, NULL, state_json, &err), 0);

    size_t len;
    cleanup_free char *cmdline = read_tmp("cmdline", &len);
    assert_non_null(cmdline);
    size_t want_len = 0;
    for (int i = 0; argv[i] != NULL; i++) {
        assert_string_equal(cmdline + want_len, argv[i]);
        want_len += strlen(argv[i]) + 1;
    }
    assert_int_equal(len, want_len);

    cleanup_free char *environ_data = read_tmp("environ", &len);
    assert_non_null(environ_data);
    want_len = 0;
    for (int i = 0; env[i] != NULL; i++) {
        assert_string_equal(environ_data + want_len, env[i]);
        want_len += strlen(env[i]) + 1;
    }
    assert_int_equal(len, want_len);

    cleanup_free char *stdin_data = read_tmp("stdin", &len);
    assert_non_null(stdin_data);
    assert_int_equal(len, strlen(state_json));
    assert_string_equal(stdin_data, state_json);
}

/* Without args, argv is { path }: a script sees its path as $0 and no
 * arguments; without env the environment is empty. */
static void test_default_argv_env(void **state)
{
    (void)state;
    char path[128], text[512];
    snprintf(path, sizeof(path), "%s/noargs.sh", tmpdir);
    snprintf(text, sizeof(text),
             "#!/bin/sh\necho \"$0 $#\" > %s/noargs\n"
             "tr '\\0' '\\n' < /proc/$$/environ | wc -c > %s/envsize\n",
             tmpdir, tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, 0755), 0);

    ocispec_hook hook = { .path = path };
    husk_error_t err = NULL;
    assert_int_equal(husk_hooks_run("poststop", &hook, 1, NULL, NULL, &err), 0);
    cleanup_free char *noargs = read_tmp("noargs", NULL);
    char want[256];
    snprintf(want, sizeof(want), "%s 0\n", path);
    assert_string_equal(noargs, want);
    cleanup_free char *envsize = read_tmp("envsize", NULL);
    assert_string_equal(envsize, "0\n");
}

static void test_failure_names_stage_index_path(void **state)
{
    (void)state;
    struct sh_hook h[3];
    sh_hook(&h[0], "true");
    sh_hook(&h[1], "echo partial output; echo 'something broke' >&2; exit 3");
    sh_hook(&h[2], "touch %s/third-ran", tmpdir);
    ocispec_hook hooks[3] = { h[0].hook, h[1].hook, h[2].hook };

    husk_error_t err = NULL;
    assert_true(husk_hooks_run("createRuntime", hooks, 3, NULL, "{}", &err) < 0);
    assert_non_null(err);
    assert_string_equal(err->msg,
                        "createRuntime hook #1 (/bin/sh): exited with status 3: something broke");
    husk_error_free(&err);
    assert_false(tmp_exists("third-ran")); /* stops at the first failure */

    /* stdout stands in when stderr is empty */
    sh_hook(&h[0], "echo only-stdout; exit 1");
    assert_true(husk_hooks_run("poststart", &h[0].hook, 1, NULL, "{}", &err) < 0);
    assert_string_equal(err->msg, "poststart hook #0 (/bin/sh): exited with status 1: only-stdout");
    husk_error_free(&err);

    sh_hook(&h[0], "exit 4");
    assert_true(husk_hooks_run("prestart", &h[0].hook, 1, NULL, "{}", &err) < 0);
    assert_string_equal(err->msg, "prestart hook #0 (/bin/sh): exited with status 4");
    husk_error_free(&err);

    sh_hook(&h[0], "kill -TERM $$");
    assert_true(husk_hooks_run("startContainer", &h[0].hook, 1, NULL, "{}", &err) < 0);
    assert_non_null(strstr(err->msg, "startContainer hook #0 (/bin/sh): killed by signal 15"));
    husk_error_free(&err);
}

static void test_stderr_tail_is_bounded(void **state)
{
    (void)state;
    struct sh_hook h;
    sh_hook(&h, "i=0; while [ $i -lt 2000 ]; do echo 0123456789 >&2; i=$((i+1)); done; "
                "echo THE-END >&2; exit 1");
    husk_error_t err = NULL;
    assert_true(husk_hooks_run("createContainer", &h.hook, 1, NULL, "{}", &err) < 0);
    assert_true(strlen(err->msg) < HUSK_HOOK_OUTPUT_TAIL + 100);
    size_t len = strlen(err->msg);
    assert_true(len > 8);
    assert_string_equal(err->msg + len - 8, "\nTHE-END");
    husk_error_free(&err);
}

static double elapsed_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_timeout(void **state)
{
    (void)state;
    struct sh_hook h;
    sh_hook(&h, "echo $$ > %s/pid; exec sleep 30", tmpdir);
    h.hook.has_timeout = true;
    h.hook.timeout = 1;

    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    husk_error_t err = NULL;
    assert_true(husk_hooks_run("createRuntime", &h.hook, 1, NULL, "{}", &err) < 0);
    double took = elapsed_since(&t0);
    assert_true(took >= 0.9 && took < 5.0);
    assert_string_equal(err->msg, "createRuntime hook #0 (/bin/sh): timed out after 1 s");
    husk_error_free(&err);

    /* the hook's pid is gone (killed and reaped) */
    cleanup_free char *pid_text = read_tmp("pid", NULL);
    assert_non_null(pid_text);
    pid_t pid = (pid_t)atoi(pid_text);
    assert_true(pid > 0);
    assert_int_equal(kill(pid, 0), -1);
    assert_int_equal(errno, ESRCH);

    /* a hook that finishes in time is not affected by its timeout */
    sh_hook(&h, "true");
    h.hook.has_timeout = true;
    h.hook.timeout = 5;
    assert_int_equal(husk_hooks_run("createRuntime", &h.hook, 1, NULL, "{}", &err), 0);

    h.hook.timeout = 0;
    assert_true(husk_hooks_run("createRuntime", &h.hook, 1, NULL, "{}", &err) < 0);
    assert_non_null(strstr(err->msg, "timeout must be greater than zero"));
    husk_error_free(&err);
}

/* Gone, or a zombie waiting for whoever inherited it: either way it no
 * longer runs. */
static bool pid_not_running(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    cleanup_free char *stat = NULL;
    size_t n = 0;
    husk_error_t err = NULL;
    if (husk_read_file(path, &stat, &n, &err) < 0) {
        husk_error_free(&err);
        return true;
    }
    const char *paren = strrchr(stat, ')');
    return paren != NULL && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

/* A hook that timed out is killed with everything it spawned: its process
 * group, not only its own pid. */
static void test_timeout_kills_descendants(void **state)
{
    (void)state;
    struct sh_hook h;
    sh_hook(&h, "sleep 30 & echo $! > %s/child; echo $$ > %s/pid; exec sleep 30", tmpdir,
            tmpdir);
    h.hook.has_timeout = true;
    h.hook.timeout = 1;
    husk_error_t err = NULL;
    assert_true(husk_hooks_run("prestart", &h.hook, 1, NULL, "{}", &err) < 0);
    assert_non_null(strstr(err->msg, "timed out after 1 s"));
    husk_error_free(&err);

    cleanup_free char *child_text = read_tmp("child", NULL);
    assert_non_null(child_text);
    pid_t child = (pid_t)atoi(child_text);
    assert_true(child > 0);
    bool gone = false;
    for (int i = 0; i < 200 && !gone; i++) {
        gone = pid_not_running(child);
        if (!gone)
            usleep(10000);
    }
    if (!gone)
        kill(child, SIGKILL); /* do not leave it behind when the test fails */
    assert_true(gone);
}

/* A hook that never reads its stdin, fed more than a pipe holds: EPIPE is
 * not an error, and the caller's SIGPIPE state is as it was. */
static void test_hook_ignoring_stdin(void **state)
{
    (void)state;
    struct sigaction before_act, after_act;
    sigset_t before_mask, after_mask, pending;
    sigaction(SIGPIPE, NULL, &before_act);
    sigprocmask(SIG_SETMASK, NULL, &before_mask);

    size_t big = 1024 * 1024;
    cleanup_free char *state_json = malloc(big + 1);
    memset(state_json, ' ', big);
    state_json[big] = '\0';

    struct sh_hook h;
    sh_hook(&h, "exec 0<&-; echo closed > %s/closed", tmpdir);
    husk_error_t err = NULL;
    assert_int_equal(husk_hooks_run("poststop", &h.hook, 1, NULL, state_json, &err), 0);
    assert_null(err);
    assert_true(tmp_exists("closed"));

    sigaction(SIGPIPE, NULL, &after_act);
    sigprocmask(SIG_SETMASK, NULL, &after_mask);
    assert_true(before_act.sa_handler == after_act.sa_handler);
    assert_int_equal(sigismember(&after_mask, SIGPIPE), sigismember(&before_mask, SIGPIPE));
    sigpending(&pending);
    assert_int_equal(sigismember(&pending, SIGPIPE), 0);
}

static void test_exec_failure(void **state)
{
    (void)state;
    ocispec_hook hook = { .path = "/nonexistent/hook" };
    husk_error_t err = NULL;
    assert_true(husk_hooks_run("createRuntime", &hook, 1, NULL, "{}", &err) < 0);
    assert_string_equal(err->msg, "createRuntime hook #0 (/nonexistent/hook): exec failed: "
                                  "No such file or directory");
    husk_error_free(&err);

    ocispec_hook relative = { .path = "bin/true" };
    assert_true(husk_hooks_run("createRuntime", &relative, 1, NULL, "{}", &err) < 0);
    assert_string_equal(err->msg, "createRuntime hook #0 (bin/true): path must be absolute");
    husk_error_free(&err);
}

/* Hooks run through fds opened beforehand: the path may vanish in between
 * (as it does for createContainer hooks once the runtime has pivoted), and
 * a "#!" script works through its fd. */
static void test_exec_through_fd(void **state)
{
    (void)state;
    char path[128], moved[128], text[512];
    snprintf(path, sizeof(path), "%s/fd-hook.sh", tmpdir);
    snprintf(moved, sizeof(moved), "%s/fd-hook.moved", tmpdir);
    snprintf(text, sizeof(text), "#!/bin/sh\necho \"ran $1\" > %s/fd-ran\ncat > %s/fd-stdin\n",
             tmpdir, tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, 0755), 0);

    char *argv[] = { "fd-hook", "with-arg", NULL };
    ocispec_hook hooks[2] = {
        { .path = path, .args = argv, .args_len = 2 },
        { .path = "/bin/true" },
    };
    int *fds = NULL;
    husk_error_t err = NULL;
    assert_int_equal(husk_hooks_open(hooks, 2, &fds, &err), 0);
    assert_non_null(fds);
    assert_true(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);

    assert_int_equal(rename(path, moved), 0);
    assert_int_equal(husk_hooks_run("createContainer", hooks, 2, fds, "{\"id\":\"x\"}", &err), 0);
    assert_null(err);
    cleanup_free char *ran = read_tmp("fd-ran", NULL);
    assert_string_equal(ran, "ran with-arg\n");
    cleanup_free char *in = read_tmp("fd-stdin", NULL);
    assert_string_equal(in, "{\"id\":\"x\"}");
    husk_hooks_close(fds, 2);

    /* opening reports the missing path */
    assert_true(husk_hooks_open(hooks, 2, &fds, &err) < 0);
    assert_null(fds);
    assert_non_null(strstr(err->msg, path));
    husk_error_free(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_hooks),
        cmocka_unit_test_setup_teardown(test_order, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_args_env_stdin, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_default_argv_env, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_failure_names_stage_index_path, make_tmpdir,
                                        remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_stderr_tail_is_bounded, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_timeout, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_timeout_kills_descendants, make_tmpdir,
                                        remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_hook_ignoring_stdin, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_exec_failure, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_exec_through_fd, make_tmpdir, remove_tmpdir),
    };
    int failed = cmocka_run_group_tests_name("hooks (pidfd)", tests, reset_pidfd, NULL);
    failed += cmocka_run_group_tests_name("hooks (waitpid polling)", tests, no_pidfd,
                                          reset_pidfd);
    return failed;
}
