/* Unit tests for src/lib/sysctl.c: key to path mapping, which keys are
 * namespaced, validation against linux.namespaces, the trusted procfs
 * (fresh mount and the /proc fallback, each used for a real write in a
 * child with its own uts and ipc namespaces) and its refusal of symlinks,
 * magic links and escapes, with openat2 and with the component walk. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sysctl.h"
#include "utils.h"

static ocispec_config *parse(const char *namespaces, const char *sysctl)
{
    cleanup_free char *json = NULL;
    assert_true(asprintf(&json,
                         "{\"ociVersion\":\"1.3.0\",\"root\":{\"path\":\"rootfs\"},"
                         "\"process\":{\"args\":[\"true\"],\"cwd\":\"/\"},"
                         "\"linux\":{\"namespaces\":[%s],\"sysctl\":{%s}}}",
                         namespaces, sysctl) > 0);
    char *perr = NULL;
    ocispec_config *c = ocispec_config_parse_data(json, strlen(json), &perr);
    if (c == NULL)
        fail_msg("parse %s: %s", json, perr);
    return c;
}

static char *validate(const char *namespaces, const char *sysctl)
{
    ocispec_config *c = parse(namespaces, sysctl);
    husk_error_t err = NULL;
    int r = husk_sysctl_validate(c, &err);
    ocispec_config_free(c);
    if (r == 0)
        return NULL;
    char *msg = strdup(err->msg);
    husk_error_free(&err);
    return msg;
}

static void test_key_to_path(void **state)
{
    (void) state;
    static const struct {
        const char *key, *path;
    } good[] = {
        { "net.ipv4.ip_forward", "net/ipv4/ip_forward" },
        { "net/ipv4/conf/eth0.100/forwarding", "net/ipv4/conf/eth0.100/forwarding" },
        { "kernel.shmmax", "kernel/shmmax" },
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        cleanup_free char *path = NULL;
        husk_error_t err = NULL;
        assert_int_equal(husk_sysctl_key_to_path(good[i].key, &path, &err), 0);
        assert_string_equal(path, good[i].path);
    }
    static const char *bad[] = { "", ".", "net..ipv4", "net.", ".net", "net/../../etc",
                                 "/net/ipv4", "net/ipv4/", "net/./ipv4" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *path = NULL;
        husk_error_t err = NULL;
        if (husk_sysctl_key_to_path(bad[i], &path, &err) == 0)
            fail_msg("`%s` accepted as %s", bad[i], path);
        assert_non_null(strstr(err->msg, "linux.sysctl"));
        husk_error_free(&err);
    }
}

static void test_namespace_of_key(void **state)
{
    (void) state;
    assert_int_equal(husk_sysctl_namespace("net.ipv4.ip_forward"), CLONE_NEWNET);
    assert_int_equal(husk_sysctl_namespace("net/core/somaxconn"), CLONE_NEWNET);
    assert_int_equal(husk_sysctl_namespace("kernel.shmmax"), CLONE_NEWIPC);
    assert_int_equal(husk_sysctl_namespace("kernel.msgmnb"), CLONE_NEWIPC);
    assert_int_equal(husk_sysctl_namespace("kernel.sem"), CLONE_NEWIPC);
    assert_int_equal(husk_sysctl_namespace("fs.mqueue.queues_max"), CLONE_NEWIPC);
    assert_int_equal(husk_sysctl_namespace("kernel.hostname"), CLONE_NEWUTS);
    assert_int_equal(husk_sysctl_namespace("kernel/domainname"), CLONE_NEWUTS);
    assert_int_equal(husk_sysctl_namespace("kernel.pid_max"), 0);
    assert_int_equal(husk_sysctl_namespace("kernel.hostnamex"), 0);
    assert_int_equal(husk_sysctl_namespace("vm.overcommit_memory"), 0);
    assert_int_equal(husk_sysctl_namespace("fs.mqueue"), 0);
    assert_int_equal(husk_sysctl_namespace("network.x"), 0);
}

static void test_validate(void **state)
{
    (void) state;
    static const struct {
        const char *ns, *sysctl, *expect; /* expect NULL: valid */
    } cases[] = {
        { "{\"type\":\"network\"}", "\"net.ipv4.ip_forward\":\"1\"", NULL },
        { "{\"type\":\"ipc\"},{\"type\":\"uts\"}",
          "\"kernel.shmmax\":\"1\",\"fs.mqueue.msg_max\":\"20\",\"kernel.hostname\":\"x\"", NULL },
        { "", "", NULL },
        { "{\"type\":\"ipc\"}", "\"net.ipv4.ip_forward\":\"1\"",
          "linux.sysctl: `net.ipv4.ip_forward` needs a new network namespace" },
        { "{\"type\":\"network\"}", "\"kernel.shmmax\":\"1\"",
          "linux.sysctl: `kernel.shmmax` needs a new ipc namespace" },
        { "{\"type\":\"network\"}", "\"kernel.hostname\":\"x\"",
          "linux.sysctl: `kernel.hostname` needs a new uts namespace" },
        { "{\"type\":\"network\"},{\"type\":\"ipc\"},{\"type\":\"uts\"}",
          "\"kernel.pid_max\":\"1000\"", "linux.sysctl: `kernel.pid_max` is not namespaced" },
        { "{\"type\":\"network\"}", "\"vm.swappiness\":\"1\"",
          "linux.sysctl: `vm.swappiness` is not namespaced" },
        { "{\"type\":\"network\",\"path\":\"/proc/self/ns/net\"}", "\"net.ipv4.ip_forward\":\"1\"",
          "linux.sysctl: `net.ipv4.ip_forward`: the network namespace `/proc/self/ns/net` is the host's own" },
        { "{\"type\":\"network\"}", "\"net..x\":\"1\"", "linux.sysctl: `net..x` is not a valid" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cleanup_free char *msg = validate(cases[i].ns, cases[i].sysctl);
        if (cases[i].expect == NULL && msg != NULL)
            fail_msg("case %zu refused: %s", i, msg);
        if (cases[i].expect != NULL && msg == NULL)
            fail_msg("case %zu accepted (wanted `%s`)", i, cases[i].expect);
        if (cases[i].expect != NULL && strstr(msg, cases[i].expect) == NULL)
            fail_msg("case %zu: `%s` does not hold `%s`", i, msg, cases[i].expect);
    }
}

static void in_child(int (*fn)(void))
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(fn());
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    if (WEXITSTATUS(st) != 0)
        fail_msg("child check failed at step %d", WEXITSTATUS(st));
}

static bool file_is(const char *path, const char *want)
{
    cleanup_free char *text = NULL;
    if (husk_read_file(path, &text, NULL, NULL) < 0)
        return false;
    return strcmp(text, want) == 0;
}

/* In new uts + ipc namespaces: the whole of husk_sysctl_apply, then the
 * /proc fallback on its own. */
static int apply_in_namespaces(void)
{
    if (unshare(CLONE_NEWUTS | CLONE_NEWIPC) < 0)
        return 1;
    ocispec_config *c = parse("{\"type\":\"uts\"},{\"type\":\"ipc\"}",
                              "\"kernel.hostname\":\"sysctl-unit\",\"kernel/shmmni\":\"1234\"");
    husk_error_t err = NULL;
    if (husk_sysctl_validate(c, &err) < 0 || husk_sysctl_apply(c, &err) < 0) {
        fprintf(stderr, "%s\n", err->msg);
        return 2;
    }
    char host[64] = "";
    gethostname(host, sizeof(host));
    if (strcmp(host, "sysctl-unit") != 0)
        return 3;
    if (!file_is("/proc/sys/kernel/shmmni", "1234\n"))
        return 4;
    int proc = husk_procfs_open_mounted(&err);
    if (proc < 0 || husk_procfs_write(proc, "sys/kernel/hostname", "via-fallback", &err) < 0)
        return 5;
    close(proc);
    gethostname(host, sizeof(host));
    if (strcmp(host, "via-fallback") != 0)
        return 6;
    ocispec_config_free(c);
    return 0;
}

static void test_apply(void **state)
{
    (void) state;
    if (geteuid() != 0)
        skip();
    char before[64] = "";
    gethostname(before, sizeof(before));
    in_child(apply_in_namespaces);
    char after[64] = "";
    gethostname(after, sizeof(after));
    assert_string_equal(before, after);
}

static void test_write_refuses_symlinks_and_escapes(void **state)
{
    (void) state;
    husk_error_t err = NULL;
    int proc = husk_procfs_open(&err);
    assert_true(proc >= 0);
    /* /proc/self is a symlink: a path through it is refused. */
    assert_true(husk_procfs_write(proc, "self/oom_score_adj", "0", &err) < 0);
    assert_int_equal(err->errno_value, ELOOP);
    husk_error_free(&err);
    assert_true(husk_procfs_write(proc, "../etc/passwd", "x", &err) < 0);
    assert_int_equal(err->errno_value, EXDEV);
    husk_error_free(&err);
    /* A magic link (the pid is ours in a procfs of our pid namespace). */
    char rel[64];
    snprintf(rel, sizeof(rel), "%d/root/etc/passwd", (int) getpid());
    int fresh = husk_procfs_open(&err);
    assert_true(fresh >= 0);
    assert_true(husk_procfs_write(fresh, rel, "x", &err) < 0);
    assert_int_equal(err->errno_value, ELOOP);
    husk_error_free(&err);
    close(fresh);
    assert_true(husk_procfs_write(proc, "sys/kernel/no_such_sysctl", "1", &err) < 0);
    assert_int_equal(err->errno_value, ENOENT);
    assert_non_null(strstr(err->msg, "/proc/sys/kernel/no_such_sysctl"));
    husk_error_free(&err);
    close(proc);
}

static int use_openat2(void **state)
{
    (void) state;
    husk_procfs_force_fallback = 0;
    return 0;
}

static int use_walk(void **state)
{
    (void) state;
    husk_procfs_force_fallback = 1;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_to_path),
        cmocka_unit_test(test_namespace_of_key),
        cmocka_unit_test(test_validate),
        cmocka_unit_test_setup_teardown(test_apply, use_openat2, use_openat2),
        cmocka_unit_test_setup_teardown(test_apply, use_walk, use_openat2),
        cmocka_unit_test_setup_teardown(test_write_refuses_symlinks_and_escapes, use_openat2,
                                        use_openat2),
        cmocka_unit_test_setup_teardown(test_write_refuses_symlinks_and_escapes, use_walk,
                                        use_openat2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
