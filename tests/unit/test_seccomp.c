/* Unit tests for src/lib/seccomp.c: compiling linux.seccomp (every action,
 * operator, architecture and flag; the error messages of bad input) and
 * what a loaded filter really does to a fork()ed child's syscalls. Runs as
 * root (the children load filters without NO_NEW_PRIVS through
 * CAP_SYS_ADMIN, except where a test sets it on purpose). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/seccomp.h>

#include "ocispec.h"
#include "seccomp.h"
#include "utils.h"

/* ---------- helpers ---------- */

/* A child that blocks (a notification nobody answers, a bug) dies of
 * SIGALRM and fails its test instead of hanging the suite. */
#define CHILD_TIMEOUT 10

/* Parses {"linux":{"seccomp": <seccomp_json>}} into a config. */
static ocispec_config *parse_config(const char *seccomp_json)
{
    char *doc = NULL;
    assert_true(asprintf(&doc,
                         "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},"
                         "\"annotations\":{\"k\":\"v\"},\"linux\":{\"seccomp\":%s}}",
                         seccomp_json) > 0);
    char *perr = NULL;
    ocispec_config *c = ocispec_config_parse_data(doc, strlen(doc), &perr);
    if (c == NULL)
        fail_msg("fixture does not parse: %s\n%s", perr, doc);
    free(doc);
    assert_non_null(c->linux);
    assert_non_null(c->linux->seccomp);
    return c;
}

static husk_seccomp *compile_ok(const char *seccomp_json)
{
    ocispec_config *c = parse_config(seccomp_json);
    husk_seccomp *f = NULL;
    husk_error_t err = NULL;
    int r = husk_seccomp_compile(c->linux->seccomp, &f, &err);
    if (r != 0)
        fail_msg("compile failed: %s\n%s", err ? err->msg : "?", seccomp_json);
    assert_null(err);
    assert_non_null(f);
    assert_true(husk_seccomp_bpf_len(f) > 0);
    ocispec_config_free(c);
    return f;
}

/* Compiles a profile that must be refused; returns the message. */
static char *compile_err(const char *seccomp_json)
{
    ocispec_config *c = parse_config(seccomp_json);
    husk_seccomp *f = NULL;
    husk_error_t err = NULL;
    assert_true(husk_seccomp_compile(c->linux->seccomp, &f, &err) < 0);
    assert_null(f);
    assert_non_null(err);
    char *msg = strdup(err->msg);
    husk_error_free(&err);
    ocispec_config_free(c);
    return msg;
}

static void expect_error(const char *seccomp_json, const char *message)
{
    char *msg = compile_err(seccomp_json);
    assert_string_equal(msg, message);
    free(msg);
}

/* Runs `body` in a child after loading `f` there (with NO_NEW_PRIVS first
 * when `nnp`). Returns the wait status. The body returns 0 when all its
 * checks held, else 1 after printing the failed check. */
static int run_filtered(const husk_seccomp *f, bool nnp, int (*body)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* cmocka catches SIGSYS and would carry on with the next test in
         * this child; the tests want the kernel's default: death. */
        signal(SIGSYS, SIG_DFL);
        alarm(CHILD_TIMEOUT);
        if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            _exit(200);
        husk_error_t err = NULL;
        if (husk_seccomp_load(f, NULL, &err) < 0) {
            fprintf(stderr, "load: %s\n", err->msg);
            _exit(201);
        }
        _exit(body());
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void assert_exit_ok(int status)
{
    if (WIFSIGNALED(status))
        fail_msg("child killed by signal %d", WTERMSIG(status));
    if (WEXITSTATUS(status) != 0)
        fail_msg("child check failed (exit %d, see its stderr)", WEXITSTATUS(status));
}

/* Fails the body with its line number. */
#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "child: line %d: %s (errno %d)\n", __LINE__, #cond, errno); \
            return 1;                                                                  \
        }                                                                              \
    } while (0)

/* A raw syscall's errno, 0 when it succeeded. */
#define SYS_ERRNO(...) (syscall(__VA_ARGS__) < 0 ? errno : 0)

/* ---------- compiling ---------- */

static const char *all_actions[] = {
    "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
    "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY",
};

static void test_compile_every_action(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(all_actions) / sizeof(all_actions[0]); i++) {
        char json[512];
        snprintf(json, sizeof(json),
                 "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/nonexistent.sock\","
                 "\"syscalls\":[{\"names\":[\"getcwd\"],\"action\":\"%s\"}]}",
                 all_actions[i]);
        husk_seccomp *f = compile_ok(json);
        assert_int_equal(husk_seccomp_rule_count(f), 1);
        assert_int_equal(husk_seccomp_has_notify(f), strcmp(all_actions[i], "SCMP_ACT_NOTIFY") == 0);
        husk_seccomp_free(f);
    }
    /* ALLOW as a rule needs another default. */
    husk_seccomp *f = compile_ok("{\"defaultAction\":\"SCMP_ACT_KILL_PROCESS\",\"syscalls\":["
                                 "{\"names\":[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\"}]}");
    assert_int_equal(husk_seccomp_rule_count(f), 2);
    husk_seccomp_free(f);
}

static void test_compile_every_default_action(void **state)
{
    (void) state;
    /* NOTIFY is refused as a default (test_bad_input); the rest compile. */
    for (size_t i = 0; i < sizeof(all_actions) / sizeof(all_actions[0]) - 1; i++) {
        char json[512];
        snprintf(json, sizeof(json),
                 "{\"defaultAction\":\"%s\",\"syscalls\":[{\"names\":[\"exit_group\"],"
                 "\"action\":\"SCMP_ACT_ALLOW\"}]}",
                 all_actions[i]);
        husk_seccomp_free(compile_ok(json));
    }
    husk_seccomp_free(compile_ok("{\"defaultAction\":\"SCMP_ACT_ALLOW\"}"));
    husk_seccomp_free(compile_ok("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38}"));
    husk_seccomp_free(compile_ok("{\"defaultAction\":\"SCMP_ACT_TRACE\",\"defaultErrnoRet\":7}"));
}

static void test_compile_every_operator(void **state)
{
    (void) state;
    static const char *ops[] = { "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ",
                                 "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ" };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        char json[512];
        snprintf(json, sizeof(json),
                 "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"umask\"],"
                 "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":64,"
                 "\"valueTwo\":64,\"op\":\"%s\"}]}]}",
                 ops[i]);
        husk_seccomp_free(compile_ok(json));
    }
}

static void test_compile_architectures(void **state)
{
    (void) state;
    /* Everything little-endian can share a filter with x86_64. */
    static const char *arches[] = {
        "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM",
        "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
        "SCMP_ARCH_PPC64LE", "SCMP_ARCH_RISCV64",
    };
    size_t one_arch_len = 0;
    {
        husk_seccomp *f = compile_ok("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
                                     "{\"names\":[\"getcwd\"],\"action\":\"SCMP_ACT_ERRNO\"}]}");
        one_arch_len = husk_seccomp_bpf_len(f);
        husk_seccomp_free(f);
    }
    for (size_t i = 0; i < sizeof(arches) / sizeof(arches[0]); i++) {
        char json[512];
        snprintf(json, sizeof(json),
                 "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"%s\"],"
                 "\"syscalls\":[{\"names\":[\"getcwd\"],\"action\":\"SCMP_ACT_ERRNO\"}]}",
                 arches[i]);
        husk_seccomp *f = compile_ok(json);
        /* The native arch is always there, another one adds code (x32
         * shares x86_64's AUDIT_ARCH: libseccomp lays that out its own way). */
        if (strcmp(arches[i], "SCMP_ARCH_X86_64") == 0)
            assert_int_equal(husk_seccomp_bpf_len(f), one_arch_len);
        else if (strcmp(arches[i], "SCMP_ARCH_X32") != 0)
            assert_true(husk_seccomp_bpf_len(f) > one_arch_len);
        husk_seccomp_free(f);
    }
}

static void test_compile_flags(void **state)
{
    (void) state;
    husk_seccomp *f = compile_ok("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":["
                                 "\"SECCOMP_FILTER_FLAG_TSYNC\",\"SECCOMP_FILTER_FLAG_LOG\","
                                 "\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"]}");
    assert_int_equal(husk_seccomp_flags(f), SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG |
                                                SECCOMP_FILTER_FLAG_SPEC_ALLOW);
    husk_seccomp_free(f);

    /* WAIT_KILLABLE_RECV: kept with a listener, dropped without one. */
    f = compile_ok("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/x.sock\","
                   "\"flags\":[\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"],\"syscalls\":["
                   "{\"names\":[\"getcwd\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}");
    assert_int_equal(husk_seccomp_flags(f), SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
    husk_seccomp_free(f);
    f = compile_ok("{\"defaultAction\":\"SCMP_ACT_ALLOW\","
                   "\"flags\":[\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"]}");
    assert_int_equal(husk_seccomp_flags(f), 0);
    husk_seccomp_free(f);
}

static void test_unknown_names_and_default_action_rules_skipped(void **state)
{
    (void) state;
    husk_seccomp *f = compile_ok(
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
        "{\"names\":[\"mkdir\",\"no_such_syscall_husk\",\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\"},"
        "{\"names\":[\"getpid\",\"also_unknown\"],\"action\":\"SCMP_ACT_ALLOW\"}]}");
    /* the second entry has the default action: validated, then skipped */
    assert_int_equal(husk_seccomp_rule_count(f), 2);
    assert_int_equal(husk_seccomp_skipped_names(f), 1);
    husk_seccomp_free(f);

    /* ERRNO(EPERM) is the default action when defaultErrnoRet is absent */
    f = compile_ok("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":["
                   "{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1},"
                   "{\"names\":[\"rmdir\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":2}]}");
    assert_int_equal(husk_seccomp_rule_count(f), 1);
    husk_seccomp_free(f);
}

static void test_bad_input(void **state)
{
    (void) state;
    expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
                 "{\"names\":[\"a\"],\"action\":\"SCMP_ACT_ERRNO\"},"
                 "{\"names\":[\"b\"],\"action\":\"SCMP_ACT_ERRNO\"},"
                 "{\"names\":[\"c\"],\"action\":\"SCMP_ACT_ERRNO\"},"
                 "{\"names\":[\"d\"],\"action\":\"SCMP_ACT_FOO\"}]}",
                 "linux.seccomp.syscalls[3].action: unknown action \"SCMP_ACT_FOO\"");
    expect_error("{\"defaultAction\":\"SCMP_ACT_NOPE\"}",
                 "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_NOPE\"");
    expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_BAR\"]}",
                 "linux.seccomp.architectures[0]: unknown architecture \"SCMP_ARCH_BAR\"");
    expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86\","
                 "\"x86_64\"]}",
                 "linux.seccomp.architectures[1]: unknown architecture \"x86_64\"");
    expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"umask\"],"
                 "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":1,"
                 "\"op\":\"SCMP_CMP_LIKE\"}]}]}",
                 "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_LIKE\"");
    expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"umask\"],"
                 "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":1,"
                 "\"op\":\"SCMP_CMP_EQ\"},{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
                 "linux.seccomp.syscalls[0].args[1].index: 6 is out of range (0-5)");
    expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\","
                 "\"SECCOMP_FILTER_FLAG_FAST\"]}",
                 "linux.seccomp.flags[1]: unknown flag \"SECCOMP_FILTER_FLAG_FAST\"");
    expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"umask\"],"
                 "\"action\":\"SCMP_ACT_LOG\",\"errnoRet\":5}]}",
                 "linux.seccomp.syscalls[0].errnoRet: not allowed with SCMP_ACT_LOG (only "
                 "SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno)");
    expect_error("{\"defaultAction\":\"SCMP_ACT_KILL\",\"defaultErrnoRet\":5}",
                 "linux.seccomp.defaultErrnoRet: not allowed with SCMP_ACT_KILL (only "
                 "SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno)");
    expect_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":70000}",
                 "linux.seccomp.defaultErrnoRet: 70000 is out of range (0-65535)");
    expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[],"
                 "\"action\":\"SCMP_ACT_ERRNO\"}]}",
                 "linux.seccomp.syscalls[0].names: must name at least one syscall");
    expect_error("{\"defaultAction\":\"SCMP_ACT_NOTIFY\",\"listenerPath\":\"/x.sock\"}",
                 "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action "
                 "(husk's own calls after the load would wait for the agent)");
    expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getcwd\"],"
                 "\"action\":\"SCMP_ACT_NOTIFY\"}]}",
                 "linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used");
    expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerMetadata\":\"x\"}",
                 "linux.seccomp.listenerMetadata: must not be set without listenerPath");
    expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/x.sock\",\"syscalls\":"
                 "[{\"names\":[\"getcwd\",\"sendmsg\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}",
                 "linux.seccomp.syscalls[0]: SCMP_ACT_NOTIFY cannot apply to \"sendmsg\" (husk "
                 "sends the listener fd with it after the filter is loaded)");
}

static void test_big_endian_arch_refused(void **state)
{
    (void) state;
    char *msg = compile_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":"
                            "[\"SCMP_ARCH_S390X\"]}");
    assert_non_null(strstr(msg, "linux.seccomp.architectures[0]: add \"SCMP_ARCH_S390X\""));
    free(msg);
}

/* ---------- loading: what the child sees ---------- */

static int body_mkdir_denied(void)
{
    CHECK(mkdir("/tmp/husk-seccomp-test-never", 0700) < 0 && errno == EPERM);
    CHECK(SYS_ERRNO(SYS_getpid) == 0);
    char buf[256];
    CHECK(getcwd(buf, sizeof(buf)) != NULL);
    return 0;
}

static void test_load_errno_default_eperm(void **state)
{
    (void) state;
    husk_seccomp *f = compile_ok("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
                                 "{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\"}]}");
    assert_exit_ok(run_filtered(f, false, body_mkdir_denied));
    /* and with NO_NEW_PRIVS instead of CAP_SYS_ADMIN */
    assert_exit_ok(run_filtered(f, true, body_mkdir_denied));
    husk_seccomp_free(f);
}

static int body_getcwd_enosys(void)
{
    char buf[256];
    CHECK(SYS_ERRNO(SYS_getcwd, buf, sizeof(buf)) == ENOSYS);
    CHECK(SYS_ERRNO(SYS_getppid) == 0);
    return 0;
}

static void test_load_errno_ret(void **state)
{
    (void) state;
    husk_seccomp *f = compile_ok("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
                                 "{\"names\":[\"getcwd\"],\"action\":\"SCMP_ACT_ERRNO\","
                                 "\"errnoRet\":38}]}");
    assert_exit_ok(run_filtered(f, false, body_getcwd_enosys));
    husk_seccomp_free(f);
}

/* Under an allowlist with defaultErrnoRet EACCES: only what is listed. */
static int body_default_errno(void)
{
    char buf[256];
    CHECK(SYS_ERRNO(SYS_getcwd, buf, sizeof(buf)) == EACCES);
    CHECK(SYS_ERRNO(SYS_umask, 022) == EACCES);
    CHECK(SYS_ERRNO(SYS_getppid) == 0);
    return 0;
}

static void test_load_default_errno_ret(void **state)
{
    (void) state;
    husk_seccomp *f = compile_ok("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":13,"
                                 "\"syscalls\":[{\"names\":[\"getppid\",\"exit_group\",\"exit\"],"
                                 "\"action\":\"SCMP_ACT_ALLOW\"}]}");
    assert_exit_ok(run_filtered(f, false, body_default_errno));
    husk_seccomp_free(f);
}

static int body_call_getcwd(void)
{
    char buf[256];
    syscall(SYS_getcwd, buf, sizeof(buf));
    return 0;
}

static void expect_signal(const char *action, int sig)
{
    char json[256];
    snprintf(json, sizeof(json),
             "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getcwd\"],"
             "\"action\":\"%s\"}]}",
             action);
    husk_seccomp *f = compile_ok(json);
    int status = run_filtered(f, false, body_call_getcwd);
    if (!WIFSIGNALED(status))
        fail_msg("%s: child exited %d instead of dying", action, WEXITSTATUS(status));
    assert_int_equal(WTERMSIG(status), sig);
    husk_seccomp_free(f);
}

static void test_load_kill_actions(void **state)
{
    (void) state;
    expect_signal("SCMP_ACT_KILL_PROCESS", SIGSYS);
    expect_signal("SCMP_ACT_KILL_THREAD", SIGSYS);
    expect_signal("SCMP_ACT_KILL", SIGSYS);
    expect_signal("SCMP_ACT_TRAP", SIGSYS); /* no handler: the SIGSYS kills */
}

static void test_load_trace_and_log(void **state)
{
    (void) state;
    /* No tracer attached: the kernel fails a TRACE syscall with ENOSYS. */
    husk_seccomp *f = compile_ok("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
                                 "{\"names\":[\"getcwd\"],\"action\":\"SCMP_ACT_TRACE\","
                                 "\"errnoRet\":5}]}");
    assert_exit_ok(run_filtered(f, false, body_getcwd_enosys));
    husk_seccomp_free(f);
    /* LOG lets the call through. */
    f = compile_ok("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
                   "{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\"},"
                   "{\"names\":[\"getcwd\"],\"action\":\"SCMP_ACT_LOG\"}]}");
    assert_exit_ok(run_filtered(f, false, body_mkdir_denied));
    husk_seccomp_free(f);
}

/* umask(arg) is denied with EACCES when `op 0100` matches. */
static int denied(mode_t m)
{
    return SYS_ERRNO(SYS_umask, m) == EACCES;
}

static int expect_pattern;
static int body_umask_pattern(void)
{
    int got = denied(077) << 2 | denied(0100) << 1 | denied(0101);
    return got == expect_pattern ? 0 : 100 + got;
}

static void test_load_every_operator(void **state)
{
    (void) state;
    static const struct {
        const char *op;
        int pattern; /* denied for (077, 0100, 0101) as bits 2..0 */
    } cases[] = {
        { "SCMP_CMP_NE", 05 }, { "SCMP_CMP_LT", 04 }, { "SCMP_CMP_LE", 06 },
        { "SCMP_CMP_EQ", 02 }, { "SCMP_CMP_GE", 03 }, { "SCMP_CMP_GT", 01 },
        { "SCMP_CMP_MASKED_EQ", 03 }, /* (arg & 0100) == 0100 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char json[512];
        snprintf(json, sizeof(json),
                 "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"umask\"],"
                 "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13,\"args\":[{\"index\":0,"
                 "\"value\":64,\"valueTwo\":64,\"op\":\"%s\"}]}]}",
                 cases[i].op);
        husk_seccomp *f = compile_ok(json);
        expect_pattern = cases[i].pattern;
        int status = run_filtered(f, false, body_umask_pattern);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fail_msg("%s: denied pattern %o, expected %o", cases[i].op,
                     WIFEXITED(status) ? WEXITSTATUS(status) - 100 : -1, cases[i].pattern);
        husk_seccomp_free(f);
    }
}

/* Same index twice: ORed; distinct indices: ANDed. */
static int body_or_and(void)
{
    CHECK(SYS_ERRNO(SYS_personality, 0xffffffffUL) == 0);
    CHECK(SYS_ERRNO(SYS_personality, 0x10UL) == EACCES);
    CHECK(SYS_ERRNO(SYS_personality, 0x20UL) == EACCES);
    CHECK(SYS_ERRNO(SYS_personality, 0x30UL) != EACCES);
    CHECK(SYS_ERRNO(SYS_personality, 0xffffffffUL) == 0);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(fd < 0 && errno == EACCES);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    close(fd);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(fd >= 0);
    close(fd);
    return 0;
}

static void test_load_args_or_and(void **state)
{
    (void) state;
    husk_seccomp *f = compile_ok(
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
        "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13,\"args\":["
        "{\"index\":0,\"value\":16,\"op\":\"SCMP_CMP_EQ\"},"
        "{\"index\":0,\"value\":32,\"op\":\"SCMP_CMP_EQ\"}]},"
        "{\"names\":[\"socket\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13,\"args\":["
        "{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},"
        "{\"index\":1,\"value\":2,\"op\":\"SCMP_CMP_EQ\"}]}]}");
    assert_int_equal(husk_seccomp_rule_count(f), 3); /* 2 split + 1 ANDed */
    assert_exit_ok(run_filtered(f, false, body_or_and));
    husk_seccomp_free(f);
}

/* The brief's example: personality allowed only with arg0 == 0xffffffff. */
static int body_personality_query_only(void)
{
    CHECK(SYS_ERRNO(SYS_personality, 0xffffffffUL) == 0);
    CHECK(SYS_ERRNO(SYS_personality, 0UL) == EPERM);
    CHECK(SYS_ERRNO(SYS_getppid) == 0);
    return 0;
}

static void test_load_personality_query_only(void **state)
{
    (void) state;
    husk_seccomp *f = compile_ok(
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
        "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":["
        "{\"index\":0,\"value\":4294967295,\"op\":\"SCMP_CMP_NE\"}]}]}");
    assert_exit_ok(run_filtered(f, false, body_personality_query_only));
    husk_seccomp_free(f);
}

static int body_unknown_skipped(void)
{
    CHECK(mkdir("/tmp/husk-seccomp-test-never", 0700) < 0 && errno == EPERM);
    return 0;
}

static void test_load_unknown_names_skipped(void **state)
{
    (void) state;
    husk_seccomp *f = compile_ok("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
                                 "{\"names\":[\"no_such_syscall_husk\",\"mkdir\",\"mkdirat\"],"
                                 "\"action\":\"SCMP_ACT_ERRNO\"}]}");
    assert_int_equal(husk_seccomp_skipped_names(f), 1);
    assert_exit_ok(run_filtered(f, false, body_unknown_skipped));
    husk_seccomp_free(f);
}

/* Every flag at once, with a listener (TSYNC then needs TSYNC_ESRCH and
 * WAIT_KILLABLE_RECV is passed): the kernel takes the filter and hands
 * out a notify fd. */
static void test_load_all_flags_with_listener(void **state)
{
    (void) state;
    husk_seccomp *f = compile_ok(
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/x.sock\",\"flags\":["
        "\"SECCOMP_FILTER_FLAG_TSYNC\",\"SECCOMP_FILTER_FLAG_LOG\",\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\","
        "\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"],\"syscalls\":["
        "{\"names\":[\"getcwd\"],\"action\":\"SCMP_ACT_NOTIFY\"},"
        "{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\"}]}");
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(CHILD_TIMEOUT);
        husk_error_t err = NULL;
        int nfd = -1;
        if (husk_seccomp_load(f, &nfd, &err) < 0) {
            fprintf(stderr, "load: %s\n", err->msg);
            _exit(2);
        }
        int fdflags = fcntl(nfd, F_GETFD);
        /* not getcwd: this child holds the listener itself, nobody answers */
        _exit(nfd >= 0 && fdflags >= 0 && (fdflags & FD_CLOEXEC) && body_unknown_skipped() == 0 ? 0 : 3);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_exit_ok(status);
    /* and without somewhere to put the fd, the load is refused */
    husk_error_t err = NULL;
    assert_true(husk_seccomp_load(f, NULL, &err) < 0);
    assert_non_null(strstr(err->msg, "needs somewhere to put its listener fd"));
    husk_error_free(&err);
    husk_seccomp_free(f);
}

/* ---------- the docker-sized profile ---------- */

static ocispec_config *docker_config(void)
{
    char *perr = NULL;
    ocispec_config *c = ocispec_config_parse_file(HUSK_TEST_DATA "/seccomp-docker.json", &perr);
    if (c == NULL)
        fail_msg("seccomp-docker.json: %s", perr);
    return c;
}

static int body_docker(void)
{
    CHECK(SYS_ERRNO(SYS_personality, 0xffffffffUL) == 0);
    CHECK(SYS_ERRNO(SYS_personality, 0UL) == 0);
    CHECK(SYS_ERRNO(SYS_personality, 6UL) == EPERM); /* PER_BSD: not listed */
    CHECK(SYS_ERRNO(SYS_clone3, NULL, 0) == ENOSYS);  /* errnoRet 38 */
    CHECK(SYS_ERRNO(SYS_reboot, 0, 0, 0, NULL) == EPERM);
    int fd = socket(40 /* AF_VSOCK */, SOCK_STREAM, 0);
    CHECK(fd < 0 && errno == EPERM);
    char dir[] = "/tmp/husk-seccomp-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    CHECK(rmdir(dir) == 0);
    return 0;
}

static void test_docker_profile(void **state)
{
    (void) state;
    ocispec_config *c = docker_config();
    husk_seccomp *f = NULL;
    husk_error_t err = NULL;
    assert_int_equal(husk_seccomp_compile(c->linux->seccomp, &f, &err), 0);
    assert_true(husk_seccomp_rule_count(f) > 300);
    assert_true(husk_seccomp_bpf_len(f) > 300 && husk_seccomp_bpf_len(f) <= 4096);
    assert_exit_ok(run_filtered(f, true, body_docker));
    husk_seccomp_free(f);
    ocispec_config_free(c);
}

/* ---------- the BPF cache ---------- */

static husk_seccomp *compile_cached(const char *json, const char *root)
{
    ocispec_config *c = parse_config(json);
    husk_seccomp *f = NULL;
    husk_error_t err = NULL;
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/.seccomp-cache", root);
    if (husk_seccomp_compile_cached(c->linux->seccomp, dir, &f, &err) != 0)
        fail_msg("compile_cached: %s", err ? err->msg : "?");
    ocispec_config_free(c);
    return f;
}

static void assert_same_program(const husk_seccomp *a, const husk_seccomp *b)
{
    assert_int_equal(husk_seccomp_bpf_len(a), husk_seccomp_bpf_len(b));
    assert_memory_equal(husk_seccomp_bpf(a), husk_seccomp_bpf(b), husk_seccomp_bpf_len(a) * 8);
}

/* The cache file a profile uses: the only bpf-* file in the cache dir. */
static void only_cache_file(const char *root, char *path, size_t size)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "ls %s/.seccomp-cache | grep '^bpf-'", root);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char name[64] = "";
    assert_non_null(fgets(name, sizeof(name), p));
    name[strcspn(name, "\n")] = '\0';
    char extra[64];
    assert_null(fgets(extra, sizeof(extra), p));
    pclose(p);
    snprintf(path, size, "%s/.seccomp-cache/%s", root, name);
}

static const char *deny_mkdir_json =
    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
    "{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\"}]}";

static void test_cache_hit_gives_the_same_program(void **state)
{
    (void) state;
    char root[] = "/tmp/husk-seccomp-cache-XXXXXX";
    assert_non_null(mkdtemp(root));

    husk_seccomp *plain = compile_ok(deny_mkdir_json);
    husk_seccomp *miss = compile_cached(deny_mkdir_json, root);
    assert_false(husk_seccomp_from_cache(miss));
    husk_seccomp *hit = compile_cached(deny_mkdir_json, root);
    assert_true(husk_seccomp_from_cache(hit));
    assert_same_program(plain, miss);
    assert_same_program(plain, hit);
    assert_int_equal(husk_seccomp_rule_count(hit), husk_seccomp_rule_count(plain));
    assert_exit_ok(run_filtered(hit, false, body_mkdir_denied));

    char path[512];
    only_cache_file(root, path, sizeof(path));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/.seccomp-cache", root);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);

    /* a cache dir others may write to is not trusted */
    assert_int_equal(chmod(dir, 0777), 0);
    husk_seccomp *untrusted = compile_cached(deny_mkdir_json, root);
    assert_false(husk_seccomp_from_cache(untrusted));
    assert_same_program(plain, untrusted);
    husk_seccomp_free(untrusted);
    assert_int_equal(chmod(dir, 0700), 0);

    /* a bad profile is refused the same way with a cache */
    ocispec_config *c = parse_config("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
                                     "{\"names\":[\"x\"],\"action\":\"SCMP_ACT_FOO\"}]}");
    husk_seccomp *f = NULL;
    husk_error_t err = NULL;
    assert_true(husk_seccomp_compile_cached(c->linux->seccomp, dir, &f, &err) < 0);
    assert_string_equal(err->msg, "linux.seccomp.syscalls[0].action: unknown action \"SCMP_ACT_FOO\"");
    husk_error_free(&err);
    ocispec_config_free(c);

    husk_seccomp_free(plain);
    husk_seccomp_free(miss);
    husk_seccomp_free(hit);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    assert_int_equal(system(cmd), 0);
}

/* A slot whose stored key is another profile's, or whose bytes were
 * damaged, is never used. */
static void test_cache_wrong_or_damaged_entry_ignored(void **state)
{
    (void) state;
    char root[] = "/tmp/husk-seccomp-cache-XXXXXX";
    assert_non_null(mkdtemp(root));
    /* same key length as deny_mkdir_json: only the key's bytes differ */
    const char *allow_json = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
                             "{\"names\":[\"rmdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\"}]}";
    husk_seccomp_free(compile_cached(allow_json, root));
    char allow_path[512];
    only_cache_file(root, allow_path, sizeof(allow_path));

    /* Put the other profile's entry in the slot deny_mkdir_json uses. */
    char deny_root[] = "/tmp/husk-seccomp-cache-XXXXXX";
    assert_non_null(mkdtemp(deny_root));
    husk_seccomp_free(compile_cached(deny_mkdir_json, deny_root));
    char deny_path[512];
    only_cache_file(deny_root, deny_path, sizeof(deny_path));
    assert_int_equal(rename(allow_path, deny_path), 0);

    husk_seccomp *plain = compile_ok(deny_mkdir_json);
    husk_seccomp *f = compile_cached(deny_mkdir_json, deny_root);
    assert_false(husk_seccomp_from_cache(f));
    assert_same_program(plain, f);
    husk_seccomp_free(f);

    /* now a genuine entry, one byte of its program flipped */
    int fd = open(deny_path, O_RDWR);
    assert_true(fd >= 0);
    off_t end = lseek(fd, 0, SEEK_END);
    unsigned char b;
    assert_int_equal(pread(fd, &b, 1, end - 5), 1);
    b ^= 0x40;
    assert_int_equal(pwrite(fd, &b, 1, end - 5), 1);
    close(fd);
    f = compile_cached(deny_mkdir_json, deny_root);
    assert_false(husk_seccomp_from_cache(f));
    assert_same_program(plain, f);
    husk_seccomp_free(f);
    /* and it was rewritten whole */
    f = compile_cached(deny_mkdir_json, deny_root);
    assert_true(husk_seccomp_from_cache(f));
    husk_seccomp_free(f);

    husk_seccomp_free(plain);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf %s %s", root, deny_root);
    assert_int_equal(system(cmd), 0);
}

/* ---------- the agent: listenerPath ---------- */

static void test_process_state_document(void **state)
{
    (void) state;
    char *doc = NULL;
    husk_error_t err = NULL;
    assert_int_equal(husk_seccomp_process_state("{\"id\":\"c\"}", 42, "a\"b\\c\n", &doc, &err), 0);
    assert_string_equal(doc, "{\"ociVersion\":\"" OCISPEC_VERSION "\",\"fds\":[\"seccompFd\"],"
                             "\"pid\":42,\"metadata\":\"a\\\"b\\\\c\\u000a\",\"state\":{\"id\":\"c\"}}");
    free(doc);
    assert_int_equal(husk_seccomp_process_state("{}", 7, NULL, &doc, &err), 0);
    assert_string_equal(doc, "{\"ociVersion\":\"" OCISPEC_VERSION "\",\"fds\":[\"seccompFd\"],"
                             "\"pid\":7,\"state\":{}}");
    free(doc);
}

static void test_send_listener_missing_socket(void **state)
{
    (void) state;
    husk_error_t err = NULL;
    assert_true(husk_seccomp_send_listener("/nonexistent/husk-agent.sock", 0, "{}", &err) < 0);
    assert_string_equal(err->msg, "linux.seccomp.listenerPath \"/nonexistent/husk-agent.sock\": "
                                  "connect: No such file or directory");
    husk_error_free(&err);
}

/* Reads what the agent gets on one connection: the JSON and the fd. */
static int agent_receive(int conn, char *buf, size_t size, int *fd)
{
    union {
        char b[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    struct iovec iov = { .iov_base = buf, .iov_len = size - 1 };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.b,
                          .msg_controllen = sizeof(control.b) };
    ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
    if (n <= 0)
        return -1;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (c == NULL || c->cmsg_type != SCM_RIGHTS)
        return -1;
    memcpy(fd, CMSG_DATA(c), sizeof(int));
    size_t got = (size_t) n;
    for (;;) { /* the rest, until the runtime closes */
        ssize_t m = read(conn, buf + got, size - 1 - got);
        if (m <= 0)
            break;
        got += (size_t) m;
    }
    buf[got] = '\0';
    return 0;
}

static void test_notify_end_to_end(void **state)
{
    (void) state;
    char dir[] = "/tmp/husk-seccomp-agent-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/agent.sock", dir);

    int lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(lsock >= 0);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    strcpy(addr.sun_path, path);
    assert_int_equal(bind(lsock, (struct sockaddr *) &addr, sizeof(addr)), 0);
    assert_int_equal(listen(lsock, 1), 0);

    char json[512];
    snprintf(json, sizeof(json),
             "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"%s\","
             "\"listenerMetadata\":\"MKNOD=/dev/null\",\"syscalls\":[{\"names\":[\"getcwd\"],"
             "\"action\":\"SCMP_ACT_NOTIFY\"}]}",
             path);
    ocispec_config *c = parse_config(json);
    husk_seccomp *f = NULL;
    husk_error_t err = NULL;
    assert_int_equal(husk_seccomp_compile(c->linux->seccomp, &f, &err), 0);
    /* as the parent does before clone3 */
    assert_int_equal(husk_seccomp_prepare_listener(f, &err), 0);

    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(CHILD_TIMEOUT);
        if (husk_seccomp_apply(f, c, "ctr1", "/bundles/ctr1", getpid(), &err) < 0) {
            fprintf(stderr, "apply: %s\n", err->msg);
            _exit(201);
        }
        char buf[64];
        long r = syscall(SYS_getcwd, buf, sizeof(buf));
        /* the agent answers -ENOTTY */
        _exit(r < 0 && errno == ENOTTY ? 0 : 1);
    }
    husk_seccomp_free(f); /* the parent's copy of the connection */

    int conn = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
    assert_true(conn >= 0);
    char doc[4096];
    int nfd = -1;
    assert_int_equal(agent_receive(conn, doc, sizeof(doc), &nfd), 0);
    close(conn);
    char expect_head[128];
    snprintf(expect_head, sizeof(expect_head),
             "{\"ociVersion\":\"%s\",\"fds\":[\"seccompFd\"],\"pid\":%d,"
             "\"metadata\":\"MKNOD=/dev/null\",\"state\":{",
             OCISPEC_VERSION, (int) pid);
    assert_memory_equal(doc, expect_head, strlen(expect_head));
    assert_non_null(strstr(doc, "\"id\":\"ctr1\""));
    assert_non_null(strstr(doc, "\"status\":\"created\""));
    assert_non_null(strstr(doc, "\"bundle\":\"/bundles/ctr1\""));

    struct seccomp_notif_sizes sizes;
    assert_int_equal(syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes), 0);
    struct seccomp_notif *req = calloc(1, sizes.seccomp_notif > sizeof(*req) ? sizes.seccomp_notif
                                                                              : sizeof(*req));
    struct seccomp_notif_resp *resp = calloc(1, sizes.seccomp_notif_resp > sizeof(*resp)
                                                    ? sizes.seccomp_notif_resp
                                                    : sizeof(*resp));
    struct pollfd p = { .fd = nfd, .events = POLLIN };
    assert_int_equal(poll(&p, 1, 5000), 1);
    assert_int_equal(ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, req), 0);
    assert_int_equal(req->data.nr, SYS_getcwd);
    assert_int_equal(req->pid, pid);
    resp->id = req->id;
    resp->error = -ENOTTY;
    assert_int_equal(ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, resp), 0);
    free(req);
    free(resp);

    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_exit_ok(status);
    close(nfd);
    close(lsock);
    unlink(path);
    rmdir(dir);
    ocispec_config_free(c);
}

/* valgrind does not emulate seccomp(2): libseccomp's feature probes and
 * every filter load fail under it. There, only the tests that need neither
 * run (tests/unit/valgrind.sh still checks their memory handling). */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

int main(void)
{
    const struct CMUnitTest without_kernel[] = {
        cmocka_unit_test(test_compile_every_operator),
        cmocka_unit_test(test_compile_architectures),
        cmocka_unit_test(test_unknown_names_and_default_action_rules_skipped),
        cmocka_unit_test(test_big_endian_arch_refused),
        cmocka_unit_test(test_cache_wrong_or_damaged_entry_ignored),
        cmocka_unit_test(test_process_state_document),
        cmocka_unit_test(test_send_listener_missing_socket),
    };
    const struct CMUnitTest with_kernel[] = {
        cmocka_unit_test(test_compile_every_action),
        cmocka_unit_test(test_compile_every_default_action),
        cmocka_unit_test(test_compile_flags),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_load_errno_default_eperm),
        cmocka_unit_test(test_load_errno_ret),
        cmocka_unit_test(test_load_default_errno_ret),
        cmocka_unit_test(test_load_kill_actions),
        cmocka_unit_test(test_load_trace_and_log),
        cmocka_unit_test(test_load_every_operator),
        cmocka_unit_test(test_load_args_or_and),
        cmocka_unit_test(test_load_personality_query_only),
        cmocka_unit_test(test_load_unknown_names_skipped),
        cmocka_unit_test(test_load_all_flags_with_listener),
        cmocka_unit_test(test_docker_profile),
        cmocka_unit_test(test_cache_hit_gives_the_same_program),
        cmocka_unit_test(test_notify_end_to_end),
    };
    int failed = cmocka_run_group_tests_name("seccomp (no kernel filter)", without_kernel, NULL, NULL);
    if (RUNNING_ON_VALGRIND) {
        fprintf(stderr, "test_seccomp: under valgrind: %zu tests that need seccomp(2) not run\n",
                sizeof(with_kernel) / sizeof(with_kernel[0]));
        return failed;
    }
    return failed + cmocka_run_group_tests_name("seccomp (kernel filter)", with_kernel, NULL, NULL);
}
