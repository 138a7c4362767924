/* Unit tests for src/lib/process_attrs.c: the validation of every field
 * (each bad value refused with an error naming the field), the id-list
 * parser, and the effects of the apply functions, checked from the kernel
 * in a forked child (sched_getattr, ioprio_get, personality, affinity,
 * get_mempolicy, /proc/PID/oom_score_adj). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "process_attrs.h"
#include "utils.h"

static ocispec_config *parse(const char *process_extra, const char *linux_extra)
{
    cleanup_free char *json = NULL;
    assert_true(asprintf(&json,
                         "{\"ociVersion\":\"1.3.0\",\"root\":{\"path\":\"rootfs\"},"
                         "\"process\":{\"args\":[\"true\"],\"cwd\":\"/\"%s%s},"
                         "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]%s%s}}",
                         process_extra ? "," : "", process_extra ? process_extra : "",
                         linux_extra ? "," : "", linux_extra ? linux_extra : "") > 0);
    char *perr = NULL;
    ocispec_config *c = ocispec_config_parse_data(json, strlen(json), &perr);
    if (c == NULL)
        fail_msg("parse %s: %s", json, perr);
    return c;
}

/* Validation of one config: 0, or the error message. */
static char *validate(const char *process_extra, const char *linux_extra)
{
    ocispec_config *c = parse(process_extra, linux_extra);
    husk_error_t err = NULL;
    int r = husk_process_attrs_validate(c, &err);
    ocispec_config_free(c);
    if (r == 0) {
        assert_null(err);
        return NULL;
    }
    assert_true(r < 0);
    assert_non_null(err);
    char *msg = strdup(err->msg);
    husk_error_free(&err);
    return msg;
}

static void test_valid_configs(void **state)
{
    (void) state;
    static const struct {
        const char *process, *linux;
    } good[] = {
        { NULL, NULL },
        { "\"scheduler\":{\"policy\":\"SCHED_OTHER\",\"nice\":-20}", NULL },
        { "\"scheduler\":{\"policy\":\"SCHED_BATCH\",\"nice\":19,"
          "\"flags\":[\"SCHED_FLAG_RESET_ON_FORK\",\"SCHED_FLAG_UTIL_CLAMP_MAX\"]}", NULL },
        { "\"scheduler\":{\"policy\":\"SCHED_FIFO\",\"priority\":1}", NULL },
        { "\"scheduler\":{\"policy\":\"SCHED_RR\",\"priority\":99}", NULL },
        { "\"scheduler\":{\"policy\":\"SCHED_DEADLINE\",\"runtime\":10000000,"
          "\"deadline\":20000000,\"period\":20000000}", NULL },
        { "\"ioPriority\":{\"class\":\"IOPRIO_CLASS_IDLE\",\"priority\":0}", NULL },
        { "\"ioPriority\":{\"class\":\"IOPRIO_CLASS_RT\",\"priority\":7}", NULL },
        { "\"oomScoreAdj\":-1000", NULL },
        { "\"oomScoreAdj\":1000", NULL },
        { "\"execCPUAffinity\":{\"initial\":\"0-1,3\",\"final\":\"0\"}", NULL },
        { "\"execCPUAffinity\":{\"final\":\"\"}", NULL },
        { NULL, "\"personality\":{\"domain\":\"LINUX32\",\"flags\":[\"ADDR_NO_RANDOMIZE\"]}" },
        { NULL, "\"personality\":{\"domain\":\"LINUX\"}" },
        { NULL, "\"memoryPolicy\":{\"mode\":\"MPOL_BIND\",\"nodes\":\"0\","
                "\"flags\":[\"MPOL_F_STATIC_NODES\"]}" },
        { NULL, "\"memoryPolicy\":{\"mode\":\"MPOL_DEFAULT\"}" },
        { NULL, "\"memoryPolicy\":{\"mode\":\"MPOL_PREFERRED\"}" },
        { NULL, "\"memoryPolicy\":{\"mode\":\"MPOL_WEIGHTED_INTERLEAVE\",\"nodes\":\"0-1023\"}" },
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char *msg = validate(good[i].process, good[i].linux);
        if (msg != NULL)
            fail_msg("good config %zu refused: %s", i, msg);
    }
}

static void test_invalid_configs(void **state)
{
    (void) state;
    static const struct {
        const char *process, *linux, *expect;
    } bad[] = {
        { "\"scheduler\":{\"policy\":\"SCHED_FAST\"}", NULL, "process.scheduler.policy: unknown policy `SCHED_FAST`" },
        { "\"scheduler\":{\"policy\":\"SCHED_OTHER\",\"flags\":[\"SCHED_FLAG_NOPE\"]}", NULL,
          "process.scheduler.flags[0]: unknown flag `SCHED_FLAG_NOPE`" },
        { "\"scheduler\":{\"policy\":\"SCHED_OTHER\",\"nice\":20}", NULL, "process.scheduler.nice: 20" },
        { "\"scheduler\":{\"policy\":\"SCHED_OTHER\",\"nice\":-21}", NULL, "process.scheduler.nice: -21" },
        { "\"scheduler\":{\"policy\":\"SCHED_FIFO\",\"priority\":100}", NULL,
          "process.scheduler.priority: 100 is out of range 1..99" },
        { "\"scheduler\":{\"policy\":\"SCHED_RR\"}", NULL, "process.scheduler.priority: 0" },
        { "\"scheduler\":{\"policy\":\"SCHED_OTHER\",\"priority\":5}", NULL,
          "process.scheduler.priority: must be 0 for SCHED_OTHER" },
        { "\"scheduler\":{\"policy\":\"SCHED_DEADLINE\",\"deadline\":5}", NULL, "process.scheduler.runtime" },
        { "\"scheduler\":{\"policy\":\"SCHED_DEADLINE\",\"runtime\":10,\"deadline\":5}", NULL,
          "process.scheduler.runtime: 10 is more than deadline 5" },
        { "\"scheduler\":{\"policy\":\"SCHED_DEADLINE\",\"runtime\":1,\"deadline\":5,\"period\":4}", NULL,
          "process.scheduler.deadline: 5 is more than period 4" },
        { "\"ioPriority\":{\"class\":\"IOPRIO_CLASS_NONE\",\"priority\":0}", NULL,
          "process.ioPriority.class: unknown class `IOPRIO_CLASS_NONE`" },
        { "\"ioPriority\":{\"class\":\"IOPRIO_CLASS_BE\",\"priority\":8}", NULL,
          "process.ioPriority.priority: 8" },
        { "\"ioPriority\":{\"class\":\"IOPRIO_CLASS_BE\",\"priority\":-1}", NULL,
          "process.ioPriority.priority: -1" },
        { "\"oomScoreAdj\":1001", NULL, "process.oomScoreAdj: 1001" },
        { "\"oomScoreAdj\":-1001", NULL, "process.oomScoreAdj: -1001" },
        { "\"execCPUAffinity\":{\"initial\":\"0-\"}", NULL, "process.execCPUAffinity.initial: `0-`" },
        { "\"execCPUAffinity\":{\"final\":\"3-1\"}", NULL, "process.execCPUAffinity.final: `3-1`: range 3-1 is reversed" },
        { "\"execCPUAffinity\":{\"final\":\"a\"}", NULL, "process.execCPUAffinity.final: `a`" },
        { "\"execCPUAffinity\":{\"final\":\"0,,1\"}", NULL, "process.execCPUAffinity.final: `0,,1`" },
        { "\"execCPUAffinity\":{\"final\":\"1024\"}", NULL, "process.execCPUAffinity.final: `1024`: 1024 is out of range" },
        { "\"execCPUAffinity\":{\"final\":\" 1\"}", NULL, "process.execCPUAffinity.final" },
        { NULL, "\"personality\":{\"domain\":\"LINUX64\"}", "linux.personality.domain: unknown domain `LINUX64`" },
        { NULL, "\"personality\":{\"domain\":\"LINUX\",\"flags\":[\"FAST\"]}",
          "linux.personality.flags[0]: unknown flag `FAST`" },
        { NULL, "\"memoryPolicy\":{\"mode\":\"MPOL_FAST\"}", "linux.memoryPolicy.mode: unknown mode `MPOL_FAST`" },
        { NULL, "\"memoryPolicy\":{\"mode\":\"MPOL_BIND\",\"nodes\":\"0\",\"flags\":[\"MPOL_F_X\"]}",
          "linux.memoryPolicy.flags[0]: unknown flag `MPOL_F_X`" },
        { NULL, "\"memoryPolicy\":{\"mode\":\"MPOL_BIND\"}", "linux.memoryPolicy.nodes: required for MPOL_BIND" },
        { NULL, "\"memoryPolicy\":{\"mode\":\"MPOL_LOCAL\",\"nodes\":\"0\"}", "linux.memoryPolicy.nodes: must be empty" },
        { NULL, "\"memoryPolicy\":{\"mode\":\"MPOL_BIND\",\"nodes\":\"0-x\"}", "linux.memoryPolicy.nodes: `0-x`" },
        { NULL, "\"memoryPolicy\":{\"mode\":\"MPOL_BIND\",\"nodes\":\"0\",\"flags\":"
                "[\"MPOL_F_STATIC_NODES\",\"MPOL_F_RELATIVE_NODES\"]}", "linux.memoryPolicy.flags" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cleanup_free char *msg = validate(bad[i].process, bad[i].linux);
        if (msg == NULL)
            fail_msg("bad config %zu accepted (wanted `%s`)", i, bad[i].expect);
        if (strstr(msg, bad[i].expect) == NULL)
            fail_msg("bad config %zu: `%s` does not hold `%s`", i, msg, bad[i].expect);
    }
}

static void test_id_list(void **state)
{
    (void) state;
    unsigned long bits[2] = { 0 };
    husk_error_t err = NULL;
    assert_int_equal(husk_id_list_parse("0-1,3,64-65", bits, 128, "f", &err), 0);
    assert_int_equal(bits[0], 0xbUL);
    assert_int_equal(bits[1], 0x3UL);
    static const char *bad[] = { "", ",", "1,", ",1", "-1", "1--2", "1-", "+1", "1 ", "128",
                                 "0-128", "99999999999999999999999" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned long b[2] = { 0 };
        if (husk_id_list_parse(bad[i], b, 128, "f", &err) == 0)
            fail_msg("`%s` accepted", bad[i]);
        assert_non_null(strstr(err->msg, "f: "));
        husk_error_free(&err);
    }
}

static void test_name_tables(void **state)
{
    (void) state;
    assert_int_equal(husk_sched_policy_value("SCHED_OTHER"), SCHED_OTHER);
    assert_int_equal(husk_sched_policy_value("SCHED_IDLE"), SCHED_IDLE);
    assert_int_equal(husk_sched_policy_value("SCHED_DEADLINE"), 6);
    assert_int_equal(husk_sched_policy_value("sched_other"), -1);
    assert_int_equal(husk_sched_flag_value("SCHED_FLAG_KEEP_PARAMS"), 0x10);
    assert_int_equal(husk_ioprio_class_value("IOPRIO_CLASS_BE"), 2);
    assert_int_equal(husk_personality_domain_value("LINUX32"), PER_LINUX32);
    assert_int_equal(husk_personality_flag_value("ADDR_NO_RANDOMIZE"), ADDR_NO_RANDOMIZE);
    assert_int_equal(husk_mempolicy_mode_value("MPOL_PREFERRED_MANY"), 5);
    assert_int_equal(husk_mempolicy_flag_value("MPOL_F_NUMA_BALANCING"), 1 << 13);
    assert_int_equal(husk_mempolicy_mode_value(NULL), -1);
}

/* Runs fn in a child; the child's exit status is the test's verdict, so
 * what it changes (scheduler, personality...) dies with it. */
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

struct sched_attr_out {
    uint32_t size, policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime, deadline, period;
    uint32_t util_min, util_max;
};

static int apply_late_effects(void)
{
    ocispec_config *c = parse(
        "\"scheduler\":{\"policy\":\"SCHED_BATCH\",\"nice\":7,\"flags\":[\"SCHED_FLAG_RESET_ON_FORK\"]},"
        "\"ioPriority\":{\"class\":\"IOPRIO_CLASS_BE\",\"priority\":6},"
        "\"execCPUAffinity\":{\"final\":\"0\"}",
        "\"personality\":{\"domain\":\"LINUX32\"},"
        "\"memoryPolicy\":{\"mode\":\"MPOL_BIND\",\"nodes\":\"0\"}");
    husk_error_t err = NULL;
    if (husk_process_attrs_validate(c, &err) < 0)
        return 1;
    if (husk_process_attrs_apply_late(c, &err) < 0) {
        fprintf(stderr, "apply_late: %s\n", err->msg);
        return 2;
    }
    struct sched_attr_out a = { 0 };
    if (syscall(SYS_sched_getattr, 0, &a, sizeof(a), 0) < 0 || a.policy != SCHED_BATCH ||
        a.nice != 7 || !(a.flags & 0x01))
        return 3;
    long io = syscall(SYS_ioprio_get, 1, 0);
    if (io != ((2 << 13) | 6))
        return 4;
    if ((personality(0xffffffff) & 0xff) != PER_LINUX32)
        return 5;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) < 0 || CPU_COUNT(&set) != 1 || !CPU_ISSET(0, &set))
        return 6;
    int mode = -1;
    unsigned long nodes[1024 / (sizeof(unsigned long) * CHAR_BIT)] = { 0 };
    if (syscall(SYS_get_mempolicy, &mode, nodes, 1025, NULL, 0) < 0 || mode != 2 ||
        nodes[0] != 1)
        return 7;
    ocispec_config_free(c);
    return 0;
}

static void test_apply_late(void **state)
{
    (void) state;
    in_child(apply_late_effects);
}

/* The kernel refuses what validation cannot know: a CPU that is not here. */
static int apply_missing_cpu(void)
{
    ocispec_config *c = parse("\"execCPUAffinity\":{\"final\":\"1023\"}", NULL);
    husk_error_t err = NULL;
    if (husk_process_attrs_apply_late(c, &err) == 0)
        return 1;
    if (strstr(err->msg, "process.execCPUAffinity.final: set CPU affinity `1023`") == NULL)
        return 2;
    husk_error_free(&err);
    ocispec_config_free(c);
    return 0;
}

static void test_apply_missing_cpu(void **state)
{
    (void) state;
    in_child(apply_missing_cpu);
}

/* From the "parent": oomScoreAdj and the initial affinity on a child. */
static void test_apply_early(void **state)
{
    (void) state;
    bool two_cpus = sysconf(_SC_NPROCESSORS_ONLN) >= 2;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        pause();
        _exit(0);
    }
    ocispec_config *c = parse(two_cpus ? "\"oomScoreAdj\":345,\"execCPUAffinity\":{\"initial\":\"1\"}"
                                       : "\"oomScoreAdj\":345", NULL);
    husk_error_t err = NULL;
    int r = husk_process_attrs_apply_early(pid, c, &err);
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int) pid);
    cleanup_free char *text = NULL;
    int rr = husk_read_file(path, &text, NULL, NULL);
    cpu_set_t set;
    int ra = sched_getaffinity(pid, sizeof(set), &set);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    ocispec_config_free(c);
    if (r < 0)
        fail_msg("apply_early: %s", err->msg);
    assert_int_equal(rr, 0);
    assert_int_equal(atoi(text), 345);
    assert_int_equal(ra, 0);
    if (two_cpus) {
        assert_int_equal(CPU_COUNT(&set), 1);
        assert_true(CPU_ISSET(1, &set));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_configs),
        cmocka_unit_test(test_invalid_configs),
        cmocka_unit_test(test_id_list),
        cmocka_unit_test(test_name_tables),
        cmocka_unit_test(test_apply_late),
        cmocka_unit_test(test_apply_early),
        cmocka_unit_test(test_apply_missing_cpu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
