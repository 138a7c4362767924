/* Tests of the cgroup module against this host's real cgroups (root only).
 * Every cgroup lives under /husk-test/unit-<pid>-<n> and is removed; every
 * process is a child of this test, killed by pid. */
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
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup_internal.h"
#include "utils.h"

static char test_path[128];
static pid_t child = -1;
static husk_cgroup *test_cg;

static int setup(void **state)
{
    (void)state;
    static int n;
    snprintf(test_path, sizeof test_path, "/husk-test/unit-%d-%d", (int)getpid(), n++);
    child = -1;
    test_cg = NULL;
    return 0;
}

/* Kills the test's child and removes its cgroup even when the test failed. */
static int teardown(void **state)
{
    (void)state;
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        child = -1;
    }
    if (test_cg == NULL)
        husk_cgroup_load(HUSK_CGROUP_CGROUPFS, test_path, &test_cg, NULL);
    if (test_cg != NULL) {
        husk_cgroup_freeze(test_cg, false, NULL);
        husk_cgroup_destroy(test_cg, NULL);
        husk_cgroup_free(test_cg);
        test_cg = NULL;
    }
    return 0;
}

static const struct cg_host *host(void)
{
    const struct cg_host *h;
    assert_int_equal(cg_host_get(&h, NULL), 0);
    return h;
}

static char *host_file(uint32_t controller, const char *file)
{
    const struct cg_hierarchy *h = cg_host_find(host(), controller);
    if (h == NULL)
        return NULL;
    char *path = NULL, *text = NULL;
    assert_true(asprintf(&path, "%s%s/%s", h->mountpoint, test_path, file) >= 0);
    if (husk_read_file(path, &text, NULL, NULL) < 0)
        text = NULL;
    free(path);
    if (text != NULL)
        text[strcspn(text, "\n")] = '\0';
    return text;
}

static bool dir_exists_anywhere(void)
{
    const struct cg_host *h = host();
    for (size_t i = 0; i < h->n; i++) {
        char *path = NULL;
        assert_true(asprintf(&path, "%s%s", h->h[i].mountpoint, test_path) >= 0);
        struct stat st;
        bool found = stat(path, &st) == 0;
        free(path);
        if (found)
            return true;
    }
    return false;
}

static pid_t spawn_sleeper(void)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        for (;;)
            pause();
    }
    return pid;
}

static void create_or_fail(const ocispec_resources *res)
{
    husk_error_t err = NULL;
    if (husk_cgroup_create(HUSK_CGROUP_CGROUPFS, "unused", test_path, res, &test_cg, &err) < 0)
        fail_msg("%s", err->msg);
}

static void test_create_writes_limits_and_enter(void **state)
{
    (void)state;
    ocispec_memory mem = {.has_limit = true, .limit = 64 << 20, .has_swap = true,
                          .swap = 128 << 20};
    ocispec_cpu cpu = {.has_shares = true, .shares = 512, .has_quota = true, .quota = 50000,
                       .has_period = true, .period = 100000, .cpus = "0"};
    ocispec_pids pids = {.has_limit = true, .limit = 20};
    ocispec_resources res = {.memory = &mem, .cpu = &cpu, .pids = &pids};
    create_or_fail(&res);
    assert_string_equal(husk_cgroup_path(test_cg), test_path);

    if (cg_host_find(host(), CG_MEMORY) != NULL && !cg_host_find(host(), CG_MEMORY)->v2) {
        cleanup_free char *limit = host_file(CG_MEMORY, "memory.limit_in_bytes");
        assert_string_equal(limit, "67108864");
        cleanup_free char *memsw = host_file(CG_MEMORY, "memory.memsw.limit_in_bytes");
        if (memsw != NULL)
            assert_string_equal(memsw, "134217728");
        cleanup_free char *shares = host_file(CG_CPU, "cpu.shares");
        assert_string_equal(shares, "512");
        cleanup_free char *quota = host_file(CG_CPU, "cpu.cfs_quota_us");
        assert_string_equal(quota, "50000");
        cleanup_free char *cpus = host_file(CG_CPUSET, "cpuset.cpus");
        assert_string_equal(cpus, "0");
        cleanup_free char *mems = host_file(CG_CPUSET, "cpuset.mems");
        assert_true(mems != NULL && mems[0] != '\0'); /* copied from the root */
        cleanup_free char *devs = host_file(CG_DEVICES, "devices.list");
        assert_non_null(strstr(devs, "c 1:3 rwm"));
        assert_null(strstr(devs, "a *:* rwm")); /* not allow-all any more */
    } else {
        cleanup_free char *max = host_file(CG_MEMORY, "memory.max");
        assert_string_equal(max, "67108864");
    }
    cleanup_free char *pmax = host_file(CG_PIDS, "pids.max");
    assert_string_equal(pmax, "20");

    child = spawn_sleeper();
    husk_error_t err = NULL;
    if (husk_cgroup_enter(test_cg, child, &err) < 0)
        fail_msg("%s", err->msg);
    pid_t *list = NULL;
    size_t n = 0;
    assert_int_equal(husk_cgroup_pids(test_cg, &list, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_int_equal(list[0], child);
    free(list);

    /* the kernel agrees: /proc/<pid>/cgroup names our path for memory */
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/%d/cgroup", (int)child);
    cleanup_free char *cgfile = NULL;
    assert_int_equal(husk_read_file(proc, &cgfile, NULL, NULL), 0);
    assert_non_null(strstr(cgfile, test_path));
}

static void test_blkio_weight_and_kernel_memory(void **state)
{
    (void)state;
    const struct cg_hierarchy *blk = cg_host_find(host(), CG_BLKIO);
    const struct cg_hierarchy *mem = cg_host_find(host(), CG_MEMORY);
    if (blk == NULL || blk->v2 || mem == NULL || mem->v2)
        skip();
    ocispec_block_io bio = {.has_weight = true, .weight = 500};
    ocispec_memory m = {.has_kernel_tcp = true, .kernel_tcp = 16 << 20};
    ocispec_resources res = {.block_io = &bio, .memory = &m};
    create_or_fail(&res);
    /* BFQ-only kernels (this one) name the knob blkio.bfq.weight */
    cleanup_free char *w = host_file(CG_BLKIO, "blkio.weight");
    cleanup_free char *bfq = host_file(CG_BLKIO, "blkio.bfq.weight");
    assert_true((w != NULL && strcmp(w, "500") == 0) || (bfq != NULL && strcmp(bfq, "500") == 0));
    cleanup_free char *tcp = host_file(CG_MEMORY, "memory.kmem.tcp.limit_in_bytes");
    assert_string_equal(tcp, "16777216");
}

/* A child that waits for the go byte, then opens /dev/null and /dev/zero
 * for reading; exit code: bit 0 = null refused, bit 1 = zero refused. */
static pid_t spawn_device_prober(int *go)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[1]);
        char c;
        if (read(p[0], &c, 1) != 1)
            _exit(100);
        int code = 0;
        int fd = open("/dev/null", O_RDONLY);
        if (fd < 0)
            code |= 1;
        close(fd);
        fd = open("/dev/zero", O_RDONLY);
        if (fd < 0 && errno == EPERM)
            code |= 2;
        close(fd);
        _exit(code);
    }
    close(p[0]);
    *go = p[1];
    return pid;
}

static int probe_devices(void)
{
    int go;
    child = spawn_device_prober(&go);
    husk_error_t err = NULL;
    if (husk_cgroup_enter(test_cg, child, &err) < 0)
        fail_msg("%s", err->msg);
    assert_int_equal(write(go, "x", 1), 1);
    close(go);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    child = -1;
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* The v2 device program, attached for real to the container's cgroup2
 * directory (on a hybrid host the unified tree; the v1 devices controller
 * allows both devices, so what is refused is the program's doing). */
static void test_v2_device_program_enforced(void **state)
{
    (void)state;
    create_or_fail(NULL);
    struct cg_dir *d = cg_dir_v2(test_cg);
    if (d == NULL)
        skip();
    const struct cg_dev_rule only_null[] = {
        {false, 'a', -1, -1, CG_DEV_READ | CG_DEV_WRITE | CG_DEV_MKNOD},
        {true, 'c', 1, 3, CG_DEV_READ | CG_DEV_WRITE},
    };
    husk_error_t err = NULL;
    if (cg_v2_set_devices(d->fd, d->abs, only_null, 2, &err) < 0)
        fail_msg("%s", err->msg);
    assert_int_equal(probe_devices(), 2); /* null opens, zero is refused */

    /* an update replaces the program: zero allowed again, null not */
    const struct cg_dev_rule only_zero[] = {
        {false, 'a', -1, -1, CG_DEV_READ | CG_DEV_WRITE | CG_DEV_MKNOD},
        {true, 'c', 1, 5, CG_DEV_READ},
    };
    if (cg_v2_set_devices(d->fd, d->abs, only_zero, 2, &err) < 0)
        fail_msg("%s", err->msg);
    assert_int_equal(probe_devices(), 1);
}

/* The cgroup2 freezer and cgroup.kill, driven directly on the container's
 * cgroup2 directory (the unified tree of a hybrid host works too). */
static void test_v2_freeze_and_kill(void **state)
{
    (void)state;
    create_or_fail(NULL);
    struct cg_dir *d = cg_dir_v2(test_cg);
    if (d == NULL)
        skip();
    child = spawn_sleeper();
    assert_int_equal(husk_cgroup_enter(test_cg, child, NULL), 0);
    husk_error_t err = NULL;
    if (cg_v2_freeze(d, true, &err) < 0)
        fail_msg("%s", err->msg);
    bool frozen = false;
    assert_int_equal(cg_v2_is_frozen(d, &frozen, NULL), 0);
    assert_true(frozen);
    cleanup_free char *events = NULL;
    assert_int_equal(cg_read(d, "cgroup.events", &events, NULL), 0);
    assert_non_null(strstr(events, "frozen 1"));
    assert_int_equal(cg_v2_freeze(d, false, NULL), 0);
    assert_int_equal(cg_v2_is_frozen(d, &frozen, NULL), 0);
    assert_false(frozen);
    cleanup_free char *thawed = NULL;
    assert_int_equal(cg_read(d, "cgroup.events", &thawed, NULL), 0);
    assert_non_null(strstr(thawed, "frozen 0"));

    int r = cg_v2_kill(d, &err);
    if (r < 0)
        fail_msg("%s", err->msg);
    if (r == 0)
        skip(); /* kernel without cgroup.kill */
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    child = -1;
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
}

static void test_stats_of_a_busy_process(void **state)
{
    (void)state;
    create_or_fail(NULL);
    int p[2];
    assert_int_equal(pipe(p), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(p[1]);
        char c;
        if (read(p[0], &c, 1) != 1)
            _exit(1);
        /* burn some cpu and touch some memory, then wait to be killed */
        static volatile char buf[8 << 20];
        for (size_t i = 0; i < sizeof buf; i += 4096)
            buf[i] = 1;
        for (volatile unsigned long i = 0; i < 50000000ul; i++)
            ;
        close(p[0]);
        for (;;)
            pause();
    }
    close(p[0]);
    assert_int_equal(husk_cgroup_enter(test_cg, child, NULL), 0);
    assert_int_equal(write(p[1], "x", 1), 1);
    close(p[1]);
    /* wait until the child has done its work: its cpu time stops growing */
    struct husk_cgroup_stats st;
    uint64_t last = 0;
    for (int i = 0; i < 100; i++) {
        usleep(50000);
        assert_int_equal(husk_cgroup_stats(test_cg, &st, NULL), 0);
        uint64_t now = st.cpu_total_ns;
        husk_cgroup_stats_clear(&st);
        if (now > 0 && now == last)
            break;
        last = now;
    }
    husk_error_t err = NULL;
    if (husk_cgroup_stats(test_cg, &st, &err) < 0)
        fail_msg("%s", err->msg);
    assert_true(st.has_cpu);
    assert_true(st.cpu_total_ns > 10000000); /* > 10 ms of cpu */
    assert_true(st.has_memory);
    assert_true(st.memory.usage >= (8u << 20));
    assert_true(st.has_pids);
    assert_int_equal(st.pids_current, 1);
    assert_true(st.memory_stat_len > 0);
    husk_cgroup_stats_clear(&st);
}

static void test_freeze_kill_destroy(void **state)
{
    (void)state;
    create_or_fail(NULL);
    child = spawn_sleeper();
    assert_int_equal(husk_cgroup_enter(test_cg, child, NULL), 0);

    husk_error_t err = NULL;
    if (husk_cgroup_freeze(test_cg, true, &err) < 0)
        fail_msg("%s", err->msg);
    bool frozen = false;
    assert_int_equal(husk_cgroup_is_frozen(test_cg, &frozen, NULL), 0);
    assert_true(frozen);
    assert_int_equal(husk_cgroup_freeze(test_cg, false, NULL), 0);
    assert_int_equal(husk_cgroup_is_frozen(test_cg, &frozen, NULL), 0);
    assert_false(frozen);

    /* SIGTERM goes through freeze / signal / thaw */
    if (husk_cgroup_kill(test_cg, SIGTERM, &err) < 0)
        fail_msg("%s", err->msg);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    child = -1;
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGTERM);
    assert_int_equal(husk_cgroup_is_frozen(test_cg, &frozen, NULL), 0);
    assert_false(frozen); /* thawed again */

    if (husk_cgroup_destroy(test_cg, &err) < 0)
        fail_msg("%s", err->msg);
    assert_false(dir_exists_anywhere());
}

static void test_kill_while_paused_keeps_paused(void **state)
{
    (void)state;
    create_or_fail(NULL);
    child = spawn_sleeper();
    assert_int_equal(husk_cgroup_enter(test_cg, child, NULL), 0);
    assert_int_equal(husk_cgroup_freeze(test_cg, true, NULL), 0);
    assert_int_equal(husk_cgroup_kill(test_cg, SIGKILL, NULL), 0);
    bool frozen = false;
    assert_int_equal(husk_cgroup_is_frozen(test_cg, &frozen, NULL), 0);
    assert_true(frozen);
    assert_int_equal(husk_cgroup_freeze(test_cg, false, NULL), 0);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    child = -1;
    assert_int_equal(WTERMSIG(status), SIGKILL);
}

static void test_destroy_nested_and_load(void **state)
{
    (void)state;
    create_or_fail(NULL);
    /* the container made a sub-cgroup of its own in the pids hierarchy */
    const struct cg_hierarchy *h = cg_host_find(host(), CG_PIDS);
    assert_non_null(h);
    char sub[256];
    snprintf(sub, sizeof sub, "%s%s/inner", h->mountpoint, test_path);
    assert_int_equal(mkdir(sub, 0755), 0);
    husk_cgroup_free(test_cg);
    test_cg = NULL;

    assert_int_equal(husk_cgroup_load(HUSK_CGROUP_CGROUPFS, test_path, &test_cg, NULL), 0);
    child = spawn_sleeper();
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)child);
    char procs[300];
    snprintf(procs, sizeof procs, "%s/cgroup.procs", sub);
    int fd = open(procs, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, pid, strlen(pid)), (ssize_t)strlen(pid));
    close(fd);
    pid_t *list = NULL;
    size_t n = 0;
    assert_int_equal(husk_cgroup_pids(test_cg, &list, &n, NULL), 0);
    assert_int_equal(n, 1); /* found recursively */
    assert_int_equal(list[0], child);
    free(list);
    assert_int_equal(husk_cgroup_kill(test_cg, SIGKILL, NULL), 0);
    waitpid(child, NULL, 0);
    child = -1;
    husk_error_t err = NULL;
    if (husk_cgroup_destroy(test_cg, &err) < 0)
        fail_msg("%s", err->msg);
    assert_false(dir_exists_anywhere());
}

static void test_update(void **state)
{
    (void)state;
    ocispec_pids pids = {.has_limit = true, .limit = 20};
    ocispec_resources res = {.pids = &pids};
    create_or_fail(&res);
    pids.limit = 35;
    assert_int_equal(husk_cgroup_update(test_cg, &res, NULL), 0);
    cleanup_free char *pmax = host_file(CG_PIDS, "pids.max");
    assert_string_equal(pmax, "35");

    if (cg_host_find(host(), CG_MEMORY) != NULL && !cg_host_find(host(), CG_MEMORY)->v2) {
        /* raising limit and memsw together needs memsw first: the retry
         * ordering sorts it out */
        ocispec_memory m1 = {.has_limit = true, .limit = 32 << 20, .has_swap = true,
                             .swap = 32 << 20};
        ocispec_resources r1 = {.memory = &m1};
        husk_error_t err = NULL;
        if (husk_cgroup_update(test_cg, &r1, &err) < 0)
            fail_msg("%s", err->msg);
        ocispec_memory m2 = {.has_limit = true, .limit = 96 << 20, .has_swap = true,
                             .swap = 96 << 20};
        ocispec_resources r2 = {.memory = &m2};
        if (husk_cgroup_update(test_cg, &r2, &err) < 0)
            fail_msg("%s", err->msg);
        cleanup_free char *limit = host_file(CG_MEMORY, "memory.limit_in_bytes");
        assert_string_equal(limit, "100663296");
    }

    /* bad input changes nothing */
    ocispec_pids bad = {.has_limit = true, .limit = -9};
    ocispec_resources rb = {.pids = &bad};
    cleanup_error husk_error_t err = NULL;
    assert_true(husk_cgroup_update(test_cg, &rb, &err) < 0);
    assert_non_null(strstr(err->msg, "linux.resources.pids.limit"));
    cleanup_free char *again = host_file(CG_PIDS, "pids.max");
    assert_string_equal(again, "35");
}

static void test_bad_input_leaves_nothing(void **state)
{
    (void)state;
    char dotdot[160];
    snprintf(dotdot, sizeof dotdot, "%s/../escape", test_path);
    cleanup_error husk_error_t err = NULL;
    assert_true(husk_cgroup_create(HUSK_CGROUP_CGROUPFS, "x", dotdot, NULL, &test_cg, &err) < 0);
    assert_non_null(strstr(err->msg, "linux.cgroupsPath"));
    assert_false(dir_exists_anywhere());

    enum husk_cgroup_layout layout;
    assert_int_equal(husk_cgroup_layout(&layout, NULL), 0);
    if (layout != HUSK_CGROUP_LAYOUT_V2) {
        char *k[] = {"memory.high"}, *v[] = {"1"};
        ocispec_string_map u = {.keys = k, .values = v, .len = 1};
        ocispec_resources res = {.unified = &u};
        cleanup_error husk_error_t err2 = NULL;
        assert_true(husk_cgroup_create(HUSK_CGROUP_CGROUPFS, "x", test_path, &res, &test_cg,
                                       &err2) < 0);
        assert_non_null(strstr(err2->msg, "unified.memory.high"));
        assert_false(dir_exists_anywhere());
    }

    /* a write the kernel refuses (rt runtime above the parent's budget)
     * fails the create and removes what it made */
    if (cg_host_find(host(), CG_CPU) != NULL && !cg_host_find(host(), CG_CPU)->v2) {
        ocispec_cpu cpu = {.has_realtime_runtime = true, .realtime_runtime = 999999999};
        ocispec_resources res = {.cpu = &cpu};
        cleanup_error husk_error_t err3 = NULL;
        assert_true(husk_cgroup_create(HUSK_CGROUP_CGROUPFS, "x", test_path, &res, &test_cg,
                                       &err3) < 0);
        assert_non_null(strstr(err3->msg, "linux.resources.cpu.realtimeRuntime"));
        assert_false(dir_exists_anywhere());
    }
}

int main(void)
{
    if (geteuid() != 0) {
        fprintf(stderr, "test_cgroup_host: needs root, skipped\n");
        return 77;
    }
    enum husk_cgroup_layout layout;
    if (husk_cgroup_layout(&layout, NULL) < 0 || layout == HUSK_CGROUP_LAYOUT_NONE) {
        fprintf(stderr, "test_cgroup_host: no cgroup filesystem, skipped\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_writes_limits_and_enter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blkio_weight_and_kernel_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v2_device_program_enforced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v2_freeze_and_kill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats_of_a_busy_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_freeze_kill_destroy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_while_paused_keeps_paused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroy_nested_and_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_leaves_nothing, setup, teardown),
    };
    return cmocka_run_group_tests_name("cgroup_host", tests, NULL, NULL);
}
