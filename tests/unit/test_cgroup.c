/* Unit tests for the cgroup module without touching the host's cgroups:
 * path computation, layout detection from mountinfo text, resource
 * translation (v1, v2, hybrid) as tables, validation messages, and the
 * create/load/pids/destroy flow on a fake tree under a testing root. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup_internal.h"
#include "utils.h"

/* ---------- helpers ---------- */

static char fake_root[64];

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_text(const char *fmt, ...)
{
    char *path = NULL;
    va_list ap;
    va_start(ap, fmt);
    assert_true(vasprintf(&path, fmt, ap) >= 0);
    va_end(ap);
    char *out = NULL;
    if (husk_read_file(path, &out, NULL, NULL) < 0)
        out = NULL;
    free(path);
    /* the fake tree ends every value written with a newline */
    size_t len = out != NULL ? strlen(out) : 0;
    if (len > 0 && out[len - 1] == '\n')
        out[len - 1] = '\0';
    return out;
}

static bool exists(const char *fmt, ...)
{
    char *path = NULL;
    va_list ap;
    va_start(ap, fmt);
    assert_true(vasprintf(&path, fmt, ap) >= 0);
    va_end(ap);
    struct stat st;
    bool r = stat(path, &st) == 0;
    free(path);
    return r;
}

static void mkdirs(const char *fmt, ...)
{
    char *path = NULL;
    va_list ap;
    va_start(ap, fmt);
    assert_true(vasprintf(&path, fmt, ap) >= 0);
    va_end(ap);
    assert_int_equal(husk_mkdir_p(path, 0755, NULL), 0);
    free(path);
}

static void put(const char *text, const char *fmt, ...)
{
    char *path = NULL;
    va_list ap;
    va_start(ap, fmt);
    assert_true(vasprintf(&path, fmt, ap) >= 0);
    va_end(ap);
    write_text(path, text);
    free(path);
}

#define HYBRID_MOUNTINFO                                                                        \
    "23 1 0:21 / /sys rw,nosuid - sysfs sysfs rw\n"                                             \
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"                       \
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"              \
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"                \
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"                \
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"              \
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"              \
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"                    \
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"   \
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"                    \
    "90 35 0:32 / /mnt/again rw,relatime - cgroup cgroup rw,memory\n"

#define V2_MOUNTINFO                                                                            \
    "31 23 0:28 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "   \
    "rw,nsdelegate,memory_recursiveprot\n"

/* A fake root with the hybrid layout above: hierarchy dirs, root cpusets,
 * and the v2 tree offering hugetlb only (as on the build machine). */
static int setup_hybrid(void **state)
{
    (void)state;
    snprintf(fake_root, sizeof fake_root, "/tmp/husk-cgtest.XXXXXX");
    assert_non_null(mkdtemp(fake_root));
    mkdirs("%s/proc/self", fake_root);
    put(HYBRID_MOUNTINFO, "%s/proc/self/mountinfo", fake_root);
    const char *dirs[] = {"cpu", "cpuset", "memory", "devices", "freezer", "pids", "systemd",
                          "unified"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        mkdirs("%s/sys/fs/cgroup/%s", fake_root, dirs[i]);
    put("0-1\n", "%s/sys/fs/cgroup/cpuset/cpuset.cpus", fake_root);
    put("0\n", "%s/sys/fs/cgroup/cpuset/cpuset.mems", fake_root);
    put("hugetlb\n", "%s/sys/fs/cgroup/unified/cgroup.controllers", fake_root);
    put("", "%s/sys/fs/cgroup/unified/cgroup.subtree_control", fake_root);
    husk_cgroup_set_root_for_testing(fake_root);
    return 0;
}

static int setup_v2(void **state)
{
    (void)state;
    snprintf(fake_root, sizeof fake_root, "/tmp/husk-cgtest.XXXXXX");
    assert_non_null(mkdtemp(fake_root));
    mkdirs("%s/proc/self", fake_root);
    put(V2_MOUNTINFO, "%s/proc/self/mountinfo", fake_root);
    mkdirs("%s/sys/fs/cgroup", fake_root);
    put("cpuset cpu io memory hugetlb pids rdma misc\n", "%s/sys/fs/cgroup/cgroup.controllers",
        fake_root);
    put("", "%s/sys/fs/cgroup/cgroup.subtree_control", fake_root);
    husk_cgroup_set_root_for_testing(fake_root);
    return 0;
}

static int teardown_fake(void **state)
{
    (void)state;
    husk_cgroup_set_root_for_testing(NULL);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fake_root);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void assert_error_contains(husk_error_t err, const char *needle)
{
    assert_non_null(err);
    if (strstr(err->msg, needle) == NULL)
        fail_msg("error `%s` does not contain `%s`", err->msg, needle);
}

/* ---------- paths ---------- */

static void test_compute_path_table(void **state)
{
    (void)state;
    static const struct {
        const char *id, *in, *out;
    } cases[] = {
        {"c1", NULL, "/c1"},
        {"c1", "", "/c1"},
        {"c1", "a/b", "/a/b"},
        {"c1", "/a/b", "/a/b"},
        {"c1", "//a///b/", "/a/b"},
        {"c1", "./a/./b", "/a/b"},
        {"c1", "husk-test/x.y", "/husk-test/x.y"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cleanup_free char *out = NULL;
        husk_error_t err = NULL;
        assert_int_equal(husk_cgroup_compute_path(cases[i].id, cases[i].in, &out, &err), 0);
        assert_string_equal(out, cases[i].out);
    }
}

static void test_compute_path_refused(void **state)
{
    (void)state;
    static const struct {
        const char *id, *in, *needle;
    } cases[] = {
        {"c1", "a/../b", "linux.cgroupsPath `a/../b`"},
        {"c1", "/..", "linux.cgroupsPath"},
        {"c1", "..", "`..`"},
        {"c1", "/", "cgroup root"},
        {"c1", "//./", "cgroup root"},
        {"a/b", NULL, "container id `a/b`"},
        {"..", NULL, "container id"},
        {"", NULL, "container id"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL;
        cleanup_error husk_error_t err = NULL;
        assert_true(husk_cgroup_compute_path(cases[i].id, cases[i].in, &out, &err) < 0);
        assert_null(out);
        assert_error_contains(err, cases[i].needle);
    }
}

static void test_manager_parse(void **state)
{
    (void)state;
    enum husk_cgroup_manager m;
    assert_int_equal(husk_cgroup_manager_parse("cgroupfs", &m, NULL), 0);
    assert_int_equal(m, HUSK_CGROUP_CGROUPFS);
    assert_int_equal(husk_cgroup_manager_parse("disabled", &m, NULL), 0);
    assert_int_equal(m, HUSK_CGROUP_DISABLED);
    assert_int_equal(husk_cgroup_manager_parse("systemd", &m, NULL), 0);
    assert_int_equal(m, HUSK_CGROUP_SYSTEMD);
    cleanup_error husk_error_t err = NULL;
    assert_true(husk_cgroup_manager_parse("sysv", &m, &err) < 0);
    assert_error_contains(err, "`sysv`");
}

/* ---------- layout detection ---------- */

static void test_parse_hybrid(void **state)
{
    (void)state;
    struct cg_host host;
    assert_int_equal(cg_host_parse(HYBRID_MOUNTINFO, fake_root, &host, NULL), 0);
    assert_int_equal(host.layout, HUSK_CGROUP_LAYOUT_HYBRID);
    /* 7 v1 hierarchies (the bind mount of memory is not a second one) + v2 */
    assert_int_equal(host.n, 8);
    const struct cg_hierarchy *cpu = cg_host_find(&host, CG_CPUACCT);
    assert_non_null(cpu);
    assert_true(cpu->controllers & CG_CPU);
    assert_false(cpu->v2);
    const struct cg_hierarchy *huge = cg_host_find(&host, CG_HUGETLB);
    assert_non_null(huge);
    assert_true(huge->v2);
    assert_true(strstr(huge->mountpoint, "/sys/fs/cgroup/unified") != NULL);
    assert_true(strncmp(huge->mountpoint, fake_root, strlen(fake_root)) == 0);
    bool named = false;
    for (size_t i = 0; i < host.n; i++)
        if (host.h[i].name != NULL && strcmp(host.h[i].name, "name=systemd") == 0)
            named = host.h[i].controllers == 0;
    assert_true(named);
    const struct cg_hierarchy *mem = cg_host_find(&host, CG_MEMORY);
    assert_true(strstr(mem->mountpoint, "/sys/fs/cgroup/memory") != NULL);
    cg_host_clear(&host);
}

static void test_parse_v1_only_and_escapes(void **state)
{
    (void)state;
    struct cg_host host;
    const char *mi = "32 31 0:29 / /cg/my\\040cpu rw - cgroup cgroup rw,cpu\n"
                     "33 31 0:30 / /cg/mem rw shared:5 master:2 - cgroup none rw,memory\n";
    assert_int_equal(cg_host_parse(mi, "", &host, NULL), 0);
    assert_int_equal(host.layout, HUSK_CGROUP_LAYOUT_V1);
    assert_int_equal(host.n, 2);
    assert_string_equal(host.h[0].mountpoint, "/cg/my cpu");
    assert_int_equal(host.h[1].controllers, CG_MEMORY);
    cg_host_clear(&host);

    assert_int_equal(cg_host_parse("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n", "", &host, NULL), 0);
    assert_int_equal(host.layout, HUSK_CGROUP_LAYOUT_NONE);
    cg_host_clear(&host);
}

static void test_layout_v2(void **state)
{
    (void)state;
    enum husk_cgroup_layout layout;
    assert_int_equal(husk_cgroup_layout(&layout, NULL), 0);
    assert_int_equal(layout, HUSK_CGROUP_LAYOUT_V2);
    const struct cg_host *host;
    assert_int_equal(cg_host_get(&host, NULL), 0);
    assert_int_equal(host->n, 1);
    assert_int_equal(host->h[0].controllers,
                     CG_CPUSET | CG_CPU | CG_BLKIO | CG_MEMORY | CG_HUGETLB | CG_PIDS | CG_RDMA |
                         CG_MISC);
}

/* ---------- translation ---------- */

static const struct cg_write *find_write(const struct cg_writes *w, const char *file)
{
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->v[i].file, file) == 0)
            return &w->v[i];
    return NULL;
}

static void assert_write(const struct cg_writes *w, const char *file, const char *value)
{
    const struct cg_write *e = find_write(w, file);
    if (e == NULL)
        fail_msg("no write to %s", file);
    assert_string_equal(e->value, value);
}

static void test_translate_v1(void **state)
{
    (void)state;
    const struct cg_host *host;
    assert_int_equal(cg_host_get(&host, NULL), 0);
    ocispec_memory mem = {.has_limit = true, .limit = 67108864, .has_swap = true,
                          .swap = 134217728, .has_reservation = true, .reservation = 1048576,
                          .has_swappiness = true, .swappiness = 10,
                          .has_disable_oom_killer = true, .disable_oom_killer = true};
    ocispec_cpu cpu = {.has_shares = true, .shares = 512, .has_quota = true, .quota = 50000,
                       .has_period = true, .period = 100000, .cpus = "0", .mems = "0"};
    ocispec_pids pids = {.has_limit = true, .limit = 42};
    ocispec_hugepage_limit huge = {.page_size = "2MB", .limit = 2097152};
    ocispec_device_cgroup dev = {.allow = true, .type = "c", .has_major = true, .major = 10,
                                 .has_minor = true, .minor = 200, .access = "rw"};
    ocispec_resources res = {.memory = &mem, .cpu = &cpu, .pids = &pids,
                             .hugepage_limits = &huge, .hugepage_limits_len = 1,
                             .devices = &dev, .devices_len = 1};
    struct cg_writes w = {0};
    husk_error_t err = NULL;
    assert_int_equal(cg_translate(&res, host, true, &w, &err), 0);
    assert_write(&w, "memory.limit_in_bytes", "67108864");
    assert_write(&w, "memory.memsw.limit_in_bytes", "134217728");
    assert_write(&w, "memory.soft_limit_in_bytes", "1048576");
    assert_write(&w, "memory.swappiness", "10");
    assert_write(&w, "memory.oom_control", "1");
    assert_write(&w, "cpu.shares", "512");
    assert_write(&w, "cpu.cfs_quota_us", "50000");
    assert_write(&w, "cpu.cfs_period_us", "100000");
    assert_write(&w, "cpuset.cpus", "0");
    assert_write(&w, "pids.max", "42");
    /* hugetlb lives in the v2 tree on this layout: v2 file name */
    assert_write(&w, "hugetlb.2MB.max", "2097152");
    assert_int_equal(find_write(&w, "hugetlb.2MB.max")->controller, CG_HUGETLB);
    /* devices: deny all first, then the config's rule, then the defaults */
    size_t d = (size_t)(find_write(&w, "devices.deny") - w.v);
    assert_true(d + 12 < w.n);
    assert_string_equal(w.v[d].value, "a");
    assert_string_equal(w.v[d + 1].file, "devices.allow");
    assert_string_equal(w.v[d + 1].value, "c 10:200 rw");
    assert_string_equal(w.v[d + 2].value, "c 1:3 rwm");
    assert_string_equal(w.v[d + 12].value, "b *:* m");
    /* period before quota, both retried on EINVAL */
    assert_true(find_write(&w, "cpu.cfs_period_us") < find_write(&w, "cpu.cfs_quota_us"));
    assert_true(find_write(&w, "memory.limit_in_bytes")->flags & CGW_RETRY_LATER);
    cg_writes_clear(&w);

    /* -1 and 0 for pids both mean unlimited */
    pids.limit = -1;
    ocispec_resources only_pids = {.pids = &pids};
    assert_int_equal(cg_translate(&only_pids, host, false, &w, NULL), 0);
    assert_int_equal(w.n, 1);
    assert_write(&w, "pids.max", "max");
    cg_writes_clear(&w);
}

static void test_translate_v2(void **state)
{
    (void)state;
    const struct cg_host *host;
    assert_int_equal(cg_host_get(&host, NULL), 0);
    ocispec_memory mem = {.has_limit = true, .limit = 100000000, .has_swap = true,
                          .swap = 150000000, .has_reservation = true, .reservation = 50000000};
    ocispec_cpu cpu = {.has_shares = true, .shares = 1024, .has_quota = true, .quota = 20000,
                       .has_period = true, .period = 100000, .has_burst = true, .burst = 1000,
                       .has_idle = true, .idle = 1};
    ocispec_throttle_device rbps = {.major = 8, .minor = 0, .rate = 1048576};
    ocispec_block_io bio = {.has_weight = true, .weight = 500, .throttle_read_bps_device = &rbps,
                            .throttle_read_bps_device_len = 1};
    char *ukeys[] = {"memory.high", "cgroup.max.descendants"};
    char *uvals[] = {"90000000", "10"};
    ocispec_string_map unified = {.keys = ukeys, .values = uvals, .len = 2};
    ocispec_resources res = {.memory = &mem, .cpu = &cpu, .block_io = &bio, .unified = &unified};
    struct cg_writes w = {0};
    husk_error_t err = NULL;
    assert_int_equal(cg_translate(&res, host, true, &w, &err), 0);
    assert_write(&w, "memory.max", "100000000");
    assert_write(&w, "memory.swap.max", "50000000");
    assert_write(&w, "memory.low", "50000000");
    assert_write(&w, "cpu.weight", "39"); /* 1 + (1024-2)*9999/262142 */
    assert_write(&w, "cpu.max", "20000 100000");
    assert_write(&w, "cpu.max.burst", "1000");
    assert_write(&w, "cpu.idle", "1");
    assert_write(&w, "io.weight", "default 4950"); /* 1 + (500-10)*9999/990 */
    assert_write(&w, "io.max", "8:0 rbps=1048576");
    assert_write(&w, "memory.high", "90000000");
    assert_int_equal(find_write(&w, "cgroup.max.descendants")->controller, 0);
    /* no v1 device rules on a pure v2 host */
    assert_null(find_write(&w, "devices.deny"));
    cg_writes_clear(&w);

    mem = (ocispec_memory){.has_limit = true, .limit = -1, .has_swap = true, .swap = -1};
    cpu = (ocispec_cpu){.has_quota = true, .quota = -1, .has_period = true, .period = 50000};
    ocispec_resources res2 = {.memory = &mem, .cpu = &cpu};
    assert_int_equal(cg_translate(&res2, host, false, &w, NULL), 0);
    assert_write(&w, "memory.max", "max");
    assert_write(&w, "memory.swap.max", "max");
    assert_write(&w, "cpu.max", "max 50000");
    cg_writes_clear(&w);
}

struct bad_case {
    ocispec_resources res;
    const char *needle;
};

static void run_bad_cases(const struct bad_case *cases, size_t n)
{
    const struct cg_host *host;
    assert_int_equal(cg_host_get(&host, NULL), 0);
    for (size_t i = 0; i < n; i++) {
        struct cg_writes w = {0};
        cleanup_error husk_error_t err = NULL;
        if (cg_translate(&cases[i].res, host, true, &w, &err) == 0)
            fail_msg("case %zu (%s) was accepted", i, cases[i].needle);
        assert_int_equal(w.n, 0);
        assert_error_contains(err, cases[i].needle);
        /* the public entry point says the same */
        cleanup_error husk_error_t err2 = NULL;
        assert_true(husk_cgroup_validate_resources(&cases[i].res, &err2) < 0);
        assert_error_contains(err2, cases[i].needle);
    }
}

static void test_validation_hybrid(void **state)
{
    (void)state;
    static ocispec_memory neg = {.has_limit = true, .limit = -2};
    static ocispec_memory swappy = {.has_swappiness = true, .swappiness = 101};
    static ocispec_memory small_swap = {.has_limit = true, .limit = 2000000, .has_swap = true,
                                        .swap = 1000000};
    static ocispec_cpu shares = {.has_shares = true, .shares = 1};
    static ocispec_cpu huge_shares = {.has_shares = true, .shares = 1000000};
    static ocispec_cpu quota = {.has_quota = true, .quota = -5};
    static ocispec_cpu period = {.has_period = true, .period = 5};
    static ocispec_cpu cpus = {.cpus = "0-1;rm"};
    static ocispec_cpu idle = {.has_idle = true, .idle = 3};
    static ocispec_pids pids = {.has_limit = true, .limit = -7};
    static ocispec_block_io weight = {.has_weight = true, .weight = 5};
    static ocispec_hugepage_limit page = {.page_size = "2XB", .limit = 1};
    static ocispec_network net = {.has_class_id = true, .class_id = 1};
    static ocispec_device_cgroup dev = {.allow = true, .type = "x"};
    static ocispec_device_cgroup acc = {.allow = true, .type = "c", .access = "rwx"};
    static char *k1[] = {"memory.max"}, *v1[] = {"1"};
    static ocispec_string_map u_v1 = {.keys = k1, .values = v1, .len = 1};
    static char *k2[] = {"../x.y"}, *v2[] = {"1"};
    static ocispec_string_map u_bad = {.keys = k2, .values = v2, .len = 1};
    static char *k3[] = {"cgroup.procs"}, *v3[] = {"1"};
    static ocispec_string_map u_procs = {.keys = k3, .values = v3, .len = 1};
    const struct bad_case cases[] = {
        {{.memory = &neg}, "linux.resources.memory.limit: -2"},
        {{.memory = &swappy}, "linux.resources.memory.swappiness: 101"},
        {{.memory = &small_swap}, "linux.resources.memory.swap: 1000000 is below"},
        {{.cpu = &shares}, "linux.resources.cpu.shares: 1"},
        {{.cpu = &huge_shares}, "linux.resources.cpu.shares: 1000000"},
        {{.cpu = &quota}, "linux.resources.cpu.quota: -5"},
        {{.cpu = &period}, "linux.resources.cpu.period: 5"},
        {{.cpu = &cpus}, "linux.resources.cpu.cpus: `0-1;rm`"},
        {{.cpu = &idle}, "linux.resources.cpu.idle: 3"},
        {{.pids = &pids}, "linux.resources.pids.limit: -7"},
        {{.block_io = &weight}, "linux.resources.blockIO.weight: 5"},
        {{.hugepage_limits = &page, .hugepage_limits_len = 1}, "pageSize: `2XB`"},
        {{.network = &net}, "linux.resources.network.classID: the net_cls controller"},
        {{.devices = &dev, .devices_len = 1}, "linux.resources.devices[0].type: `x`"},
        {{.devices = &acc, .devices_len = 1}, "linux.resources.devices[0].access: `rwx`"},
        /* memory is a v1 controller here */
        {{.unified = &u_v1}, "linux.resources.unified.memory.max: the memory controller is a "
                             "cgroup v1 controller"},
        {{.unified = &u_bad}, "unified: key `../x.y`"},
        {{.unified = &u_procs}, "unified.cgroup.procs"},
    };
    run_bad_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_validation_v2(void **state)
{
    (void)state;
    static ocispec_memory oom = {.has_disable_oom_killer = true, .disable_oom_killer = true};
    static ocispec_memory swappy = {.has_swappiness = true, .swappiness = 60};
    static ocispec_cpu rt = {.has_realtime_runtime = true, .realtime_runtime = 1000};
    static ocispec_network net = {.has_class_id = true, .class_id = 1};
    const struct bad_case cases[] = {
        {{.memory = &oom}, "linux.resources.memory.disableOOMKiller: has no cgroup v2"},
        {{.memory = &swappy}, "linux.resources.memory.swappiness: has no cgroup v2"},
        {{.cpu = &rt}, "cpu.realtimeRuntime/realtimePeriod: has no cgroup v2"},
        {{.network = &net}, "network.classID: the net_cls controller is not available"},
    };
    run_bad_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_unified_refused_on_v1(void **state)
{
    (void)state;
    struct cg_host host;
    const char *mi = "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
    assert_int_equal(cg_host_parse(mi, "", &host, NULL), 0);
    char *k[] = {"memory.high"}, *v[] = {"1"};
    ocispec_string_map u = {.keys = k, .values = v, .len = 1};
    ocispec_resources res = {.unified = &u};
    struct cg_writes w = {0};
    cleanup_error husk_error_t err = NULL;
    assert_true(cg_translate(&res, &host, false, &w, &err) < 0);
    assert_error_contains(err, "linux.resources.unified.memory.high: unified keys need cgroup v2");
    cg_host_clear(&host);
}

/* ---------- the flow on a fake tree ---------- */

static void test_create_hybrid(void **state)
{
    (void)state;
    ocispec_memory mem = {.has_limit = true, .limit = 1048576};
    ocispec_pids pids = {.has_limit = true, .limit = 10};
    ocispec_hugepage_limit huge = {.page_size = "2MB", .limit = 4194304};
    ocispec_resources res = {.memory = &mem, .pids = &pids, .hugepage_limits = &huge,
                             .hugepage_limits_len = 1};
    /* existing v2 ancestors, as the kernel shows them */
    mkdirs("%s/sys/fs/cgroup/unified/husk-test/a", fake_root);
    put("hugetlb\n", "%s/sys/fs/cgroup/unified/husk-test/cgroup.controllers", fake_root);
    put("hugetlb\n", "%s/sys/fs/cgroup/unified/husk-test/a/cgroup.controllers", fake_root);
    put("hugetlb\n", "%s/sys/fs/cgroup/unified/husk-test/a/cgroup.subtree_control", fake_root);
    cleanup_cgroup husk_cgroup *cg = NULL;
    husk_error_t err = NULL;
    if (husk_cgroup_create(HUSK_CGROUP_CGROUPFS, "c1", "husk-test/a/b", &res, &cg, &err) < 0)
        fail_msg("%s", err->msg);
    assert_string_equal(husk_cgroup_path(cg), "/husk-test/a/b");
    assert_int_equal(husk_cgroup_v2_fd(cg), -1); /* hybrid: CLONE_INTO_CGROUP is not enough */

    const char *all[] = {"cpu", "cpuset", "memory", "devices", "freezer", "pids", "systemd",
                         "unified"};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        assert_true(exists("%s/sys/fs/cgroup/%s/husk-test/a/b", fake_root, all[i]));
    cleanup_free char *limit =
        read_text("%s/sys/fs/cgroup/memory/husk-test/a/b/memory.limit_in_bytes", fake_root);
    assert_string_equal(limit, "1048576");
    cleanup_free char *pmax = read_text("%s/sys/fs/cgroup/pids/husk-test/a/b/pids.max", fake_root);
    assert_string_equal(pmax, "10");
    cleanup_free char *hmax =
        read_text("%s/sys/fs/cgroup/unified/husk-test/a/b/hugetlb.2MB.max", fake_root);
    assert_string_equal(hmax, "4194304");
    /* hugetlb delegated down the v2 tree, at every ancestor */
    cleanup_free char *sub = read_text("%s/sys/fs/cgroup/unified/cgroup.subtree_control", fake_root);
    assert_string_equal(sub, "+hugetlb");
    cleanup_free char *sub2 =
        read_text("%s/sys/fs/cgroup/unified/husk-test/cgroup.subtree_control", fake_root);
    assert_string_equal(sub2, "+hugetlb");
    cleanup_free char *sub3 =
        read_text("%s/sys/fs/cgroup/unified/husk-test/a/cgroup.subtree_control", fake_root);
    assert_string_equal(sub3, "hugetlb"); /* already on: not written again */
    /* each new cpuset level got the parent's cpus and mems */
    cleanup_free char *cpus =
        read_text("%s/sys/fs/cgroup/cpuset/husk-test/a/cpuset.cpus", fake_root);
    assert_string_equal(cpus, "0-1");
    cleanup_free char *mems =
        read_text("%s/sys/fs/cgroup/cpuset/husk-test/a/b/cpuset.mems", fake_root);
    assert_string_equal(mems, "0");
    cleanup_free char *deny =
        read_text("%s/sys/fs/cgroup/devices/husk-test/a/b/devices.allow", fake_root);
    /* every rule went through one fd, in order */
    assert_non_null(strstr(deny, "c 1:3 rwm\nc 1:5 rwm\n"));
    assert_string_equal(deny + strlen(deny) - 7, "b *:* m");

    assert_int_equal(husk_cgroup_enter(cg, 4242, NULL), 0);
    cleanup_free char *procs =
        read_text("%s/sys/fs/cgroup/freezer/husk-test/a/b/cgroup.procs", fake_root);
    assert_string_equal(procs, "4242");

    /* pause writes the v1 freezer (the fake file echoes the state back) */
    assert_int_equal(husk_cgroup_freeze(cg, true, NULL), 0);
    bool frozen = false;
    assert_int_equal(husk_cgroup_is_frozen(cg, &frozen, NULL), 0);
    assert_true(frozen);

    assert_int_equal(husk_cgroup_destroy(cg, NULL), 0);
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        assert_false(exists("%s/sys/fs/cgroup/%s/husk-test/a/b", fake_root, all[i]));
        /* ancestors may be shared with other containers: they stay */
        assert_true(exists("%s/sys/fs/cgroup/%s/husk-test/a", fake_root, all[i]));
    }
    /* destroying again is fine (ENOENT tolerated) */
    assert_int_equal(husk_cgroup_destroy(cg, NULL), 0);
}

static void test_create_failure_leaves_nothing(void **state)
{
    (void)state;
    /* The pids hierarchy's mount point vanishes: creation fails there, and
     * the directories already made elsewhere are removed. */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rmdir '%s/sys/fs/cgroup/pids'", fake_root);
    assert_int_equal(system(cmd), 0);
    cleanup_cgroup husk_cgroup *cg = NULL;
    cleanup_error husk_error_t err = NULL;
    assert_true(husk_cgroup_create(HUSK_CGROUP_CGROUPFS, "c2", "/husk-test/fail/x", NULL, &cg,
                                   &err) < 0);
    assert_null(cg);
    assert_error_contains(err, "create cgroup `/husk-test/fail/x`");
    assert_error_contains(err, "/sys/fs/cgroup/pids");
    assert_false(exists("%s/sys/fs/cgroup/memory/husk-test", fake_root));
    assert_false(exists("%s/sys/fs/cgroup/cpu/husk-test", fake_root));

    /* bad input: refused before anything is made */
    mkdirs("%s/sys/fs/cgroup/pids", fake_root);
    ocispec_memory mem = {.has_limit = true, .limit = -3};
    ocispec_resources res = {.memory = &mem};
    cleanup_error husk_error_t err2 = NULL;
    assert_true(husk_cgroup_create(HUSK_CGROUP_CGROUPFS, "c3", NULL, &res, &cg, &err2) < 0);
    assert_error_contains(err2, "linux.resources.memory.limit");
    assert_false(exists("%s/sys/fs/cgroup/memory/c3", fake_root));

    cleanup_error husk_error_t err3 = NULL;
    assert_true(husk_cgroup_create(HUSK_CGROUP_CGROUPFS, "c4", "a/../../etc", NULL, &cg,
                                   &err3) < 0);
    assert_error_contains(err3, "linux.cgroupsPath");
}

static void test_create_refuses_busy_cgroup(void **state)
{
    (void)state;
    /* an existing cgroup with a process in it is not ours to take */
    mkdirs("%s/sys/fs/cgroup/memory/busy", fake_root);
    put("1\n", "%s/sys/fs/cgroup/memory/busy/cgroup.procs", fake_root);
    cleanup_cgroup husk_cgroup *cg = NULL;
    cleanup_error husk_error_t err = NULL;
    assert_true(husk_cgroup_create(HUSK_CGROUP_CGROUPFS, "busy", NULL, NULL, &cg, &err) < 0);
    assert_error_contains(err, "already has processes");
    /* and it is left alone */
    assert_true(exists("%s/sys/fs/cgroup/memory/busy/cgroup.procs", fake_root));
    assert_false(exists("%s/sys/fs/cgroup/cpu/busy", fake_root));
}

static void test_load_and_pids(void **state)
{
    (void)state;
    mkdirs("%s/sys/fs/cgroup/pids/ld/sub", fake_root);
    put("30\n7\n", "%s/sys/fs/cgroup/pids/ld/cgroup.procs", fake_root);
    put("12\n7\n", "%s/sys/fs/cgroup/pids/ld/sub/cgroup.procs", fake_root);
    cleanup_cgroup husk_cgroup *cg = NULL;
    assert_int_equal(husk_cgroup_load(HUSK_CGROUP_CGROUPFS, "/ld", &cg, NULL), 0);
    pid_t *pids = NULL;
    size_t n = 0;
    assert_int_equal(husk_cgroup_pids(cg, &pids, &n, NULL), 0);
    assert_int_equal(n, 3);
    assert_int_equal(pids[0], 7);
    assert_int_equal(pids[1], 12);
    assert_int_equal(pids[2], 30);
    free(pids);
    /* destroy takes sub-cgroups first */
    assert_int_equal(husk_cgroup_destroy(cg, NULL), 0);
    assert_false(exists("%s/sys/fs/cgroup/pids/ld", fake_root));

    husk_cgroup *bad = NULL;
    cleanup_error husk_error_t err = NULL;
    assert_true(husk_cgroup_load(HUSK_CGROUP_CGROUPFS, "rel/path", &bad, &err) < 0);
    assert_error_contains(err, "not absolute");
    cleanup_error husk_error_t err2 = NULL;
    assert_true(husk_cgroup_load(HUSK_CGROUP_CGROUPFS, "/a/../b", &bad, &err2) < 0);
    assert_error_contains(err2, "`..`");
}

static void test_create_v2(void **state)
{
    (void)state;
    ocispec_pids pids = {.has_limit = true, .limit = 5};
    ocispec_resources res = {.pids = &pids};
    cleanup_cgroup husk_cgroup *cg = NULL;
    husk_error_t err = NULL;
    if (husk_cgroup_create(HUSK_CGROUP_CGROUPFS, "v2c", NULL, &res, &cg, &err) < 0)
        fail_msg("%s", err->msg);
    assert_true(husk_cgroup_v2_fd(cg) >= 0);
    cleanup_free char *sub = read_text("%s/sys/fs/cgroup/cgroup.subtree_control", fake_root);
    assert_string_equal(sub, "+cpuset +cpu +io +memory +hugetlb +pids +rdma +misc");
    cleanup_free char *pmax = read_text("%s/sys/fs/cgroup/v2c/pids.max", fake_root);
    assert_string_equal(pmax, "5");
    assert_int_equal(husk_cgroup_destroy(cg, NULL), 0);
    assert_false(exists("%s/sys/fs/cgroup/v2c", fake_root));
}

static void test_disabled_and_systemd(void **state)
{
    (void)state;
    cleanup_cgroup husk_cgroup *cg = NULL;
    assert_int_equal(husk_cgroup_create(HUSK_CGROUP_DISABLED, "x", NULL, NULL, &cg, NULL), 0);
    assert_null(husk_cgroup_path(cg));
    assert_int_equal(husk_cgroup_v2_fd(cg), -1);
    assert_int_equal(husk_cgroup_enter(cg, 1, NULL), 0);
    assert_int_equal(husk_cgroup_destroy(cg, NULL), 0);
    pid_t *pids;
    size_t n;
    cleanup_error husk_error_t err = NULL;
    assert_true(husk_cgroup_pids(cg, &pids, &n, &err) < 0);
    assert_error_contains(err, "without cgroups");
    assert_false(exists("%s/sys/fs/cgroup/memory/x", fake_root));

    husk_cgroup *sd = NULL;
    cleanup_error husk_error_t err2 = NULL;
    assert_true(husk_cgroup_create(HUSK_CGROUP_SYSTEMD, "x", NULL, NULL, &sd, &err2) < 0);
    assert_int_equal(err2->errno_value, ENOTSUP);
    /* a v1 host (and this one, without systemd): refused, nothing made */
    assert_error_contains(err2, "systemd cgroup manager");
    assert_null(sd);
}

/* ---------- statistics from a fake tree ---------- */

static void test_stats_hybrid(void **state)
{
    (void)state;
    cleanup_cgroup husk_cgroup *cg = NULL;
    assert_int_equal(husk_cgroup_create(HUSK_CGROUP_CGROUPFS, "st", NULL, NULL, &cg, NULL), 0);
    const char *c = fake_root;
    /* cpu and cpuacct share the "cpu" mount in this layout */
    put("123456789\n", "%s/sys/fs/cgroup/cpu/st/cpuacct.usage", c);
    put("100 200 \n", "%s/sys/fs/cgroup/cpu/st/cpuacct.usage_percpu", c);
    put("nr_periods 10\nnr_throttled 3\nthrottled_time 5000\n", "%s/sys/fs/cgroup/cpu/st/cpu.stat",
        c);
    put("4096\n", "%s/sys/fs/cgroup/memory/st/memory.usage_in_bytes", c);
    put("8192\n", "%s/sys/fs/cgroup/memory/st/memory.max_usage_in_bytes", c);
    put("9223372036854771712\n", "%s/sys/fs/cgroup/memory/st/memory.limit_in_bytes", c);
    put("2\n", "%s/sys/fs/cgroup/memory/st/memory.failcnt", c);
    put("cache 10\nrss 20\n", "%s/sys/fs/cgroup/memory/st/memory.stat", c);
    put("oom_kill_disable 0\nunder_oom 0\noom_kill 4\n",
        "%s/sys/fs/cgroup/memory/st/memory.oom_control", c);
    put("3\n", "%s/sys/fs/cgroup/pids/st/pids.current", c);
    put("max\n", "%s/sys/fs/cgroup/pids/st/pids.max", c);
    husk_cgroup_free(cg);
    cg = NULL;
    assert_int_equal(husk_cgroup_load(HUSK_CGROUP_CGROUPFS, "/st", &cg, NULL), 0);

    struct husk_cgroup_stats st;
    husk_error_t err = NULL;
    if (husk_cgroup_stats(cg, &st, &err) < 0)
        fail_msg("%s", err->msg);
    assert_true(st.has_cpu);
    assert_int_equal(st.cpu_total_ns, 123456789);
    assert_int_equal(st.cpu_percpu_len, 2);
    assert_int_equal(st.cpu_percpu_ns[1], 200);
    assert_int_equal(st.throttled_periods, 3);
    assert_int_equal(st.throttled_time_ns, 5000);
    assert_true(st.has_memory);
    assert_int_equal(st.memory.usage, 4096);
    assert_int_equal(st.memory.max_usage, 8192);
    assert_int_equal(st.memory.failcnt, 2);
    assert_false(st.swap.present);
    assert_int_equal(st.oom_kills, 4);
    assert_int_equal(st.memory_stat_len, 2);
    assert_string_equal(st.memory_stat_keys[1], "rss");
    assert_int_equal(st.memory_stat_values[1], 20);
    assert_true(st.has_pids);
    assert_int_equal(st.pids_current, 3);
    assert_true(st.pids_limit == UINT64_MAX);
    husk_cgroup_stats_clear(&st);
}

static void test_stats_v2(void **state)
{
    (void)state;
    cleanup_cgroup husk_cgroup *cg = NULL;
    assert_int_equal(husk_cgroup_create(HUSK_CGROUP_CGROUPFS, "st", NULL, NULL, &cg, NULL), 0);
    const char *c = fake_root;
    put("usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 7\nnr_throttled 1\n"
        "throttled_usec 20\n", "%s/sys/fs/cgroup/st/cpu.stat", c);
    put("1048576\n", "%s/sys/fs/cgroup/st/memory.current", c);
    put("max\n", "%s/sys/fs/cgroup/st/memory.max", c);
    put("0\n", "%s/sys/fs/cgroup/st/memory.swap.current", c);
    put("low 0\nhigh 0\nmax 9\noom 1\noom_kill 1\n", "%s/sys/fs/cgroup/st/memory.events", c);
    put("8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n",
        "%s/sys/fs/cgroup/st/io.stat", c);
    husk_cgroup_free(cg);
    cg = NULL;
    assert_int_equal(husk_cgroup_load(HUSK_CGROUP_CGROUPFS, "/st", &cg, NULL), 0);
    struct husk_cgroup_stats st;
    husk_error_t err = NULL;
    if (husk_cgroup_stats(cg, &st, &err) < 0)
        fail_msg("%s", err->msg);
    assert_int_equal(st.cpu_total_ns, 1500000);
    assert_int_equal(st.cpu_user_ns, 1000000);
    assert_int_equal(st.cpu_kernel_ns, 500000);
    assert_int_equal(st.throttled_time_ns, 20000);
    assert_int_equal(st.memory.usage, 1048576);
    assert_true(st.memory.limit == UINT64_MAX);
    assert_int_equal(st.memory.failcnt, 9);
    assert_true(st.swap.present);
    assert_int_equal(st.oom_kills, 1);
    assert_true(st.has_blkio);
    assert_int_equal(st.io_service_bytes_len, 3);
    assert_string_equal(st.io_service_bytes[1].op, "Write");
    assert_int_equal(st.io_service_bytes[1].value, 8192);
    assert_int_equal(st.io_serviced[0].major, 8);
    assert_int_equal(st.io_serviced[1].value, 2);
    husk_cgroup_stats_clear(&st);
}

/* ---------- the v2 device program, run by a small interpreter ---------- */

#include <linux/bpf.h>

/* Runs the subset of eBPF the assembler emits; returns r0. */
static int64_t run_program(const struct bpf_insn *code, size_t len, uint32_t ctx[3])
{
    uint64_t r[11] = {0};
    for (size_t pc = 0; pc < len; pc++) {
        const struct bpf_insn *i = &code[pc];
        switch (i->code) {
        case BPF_LDX | BPF_MEM | BPF_W:
            assert_int_equal(i->src_reg, 1);
            r[i->dst_reg] = ctx[i->off / 4];
            break;
        case BPF_ALU | BPF_MOV | BPF_X:
            r[i->dst_reg] = (uint32_t)r[i->src_reg];
            break;
        case BPF_ALU | BPF_AND | BPF_K:
            r[i->dst_reg] = (uint32_t)r[i->dst_reg] & (uint32_t)i->imm;
            break;
        case BPF_ALU | BPF_RSH | BPF_K:
            r[i->dst_reg] = (uint32_t)r[i->dst_reg] >> i->imm;
            break;
        case BPF_ALU64 | BPF_MOV | BPF_K:
            r[i->dst_reg] = (uint64_t)(int64_t)i->imm;
            break;
        case BPF_JMP | BPF_JNE | BPF_K:
            if (r[i->dst_reg] != (uint64_t)(int64_t)i->imm)
                pc += (size_t)i->off;
            break;
        case BPF_JMP | BPF_EXIT:
            return (int64_t)r[0];
        default:
            fail_msg("unexpected opcode 0x%x at %zu", i->code, pc);
        }
    }
    fail_msg("program ran off its end");
    return -1;
}

static bool device_allowed(const struct bpf_insn *code, size_t len, char type, uint32_t major,
                           uint32_t minor, const char *access)
{
    uint32_t acc = 0;
    for (const char *c = access; *c; c++)
        acc |= *c == 'r' ? BPF_DEVCG_ACC_READ : *c == 'w' ? BPF_DEVCG_ACC_WRITE
                                                           : BPF_DEVCG_ACC_MKNOD;
    uint32_t ctx[3] = {acc << 16 | (type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR),
                       major, minor};
    return run_program(code, len, ctx) == 1;
}

static void test_device_program(void **state)
{
    (void)state;
    ocispec_device_cgroup devs[] = {
        {.allow = false, .access = "rwm"},                          /* deny all */
        {.allow = true, .type = "c", .has_major = true, .major = 10, .has_minor = true,
         .minor = 200, .access = "rw"},                             /* tun */
        {.allow = true, .type = "b", .has_major = true, .major = 8, .access = "r"}, /* sd* read */
        {.allow = false, .type = "c", .has_major = true, .major = 1, .has_minor = true,
         .minor = 3, .access = "rwm"}, /* null: the defaults re-allow it */
    };
    ocispec_resources res = {.devices = devs, .devices_len = 4};
    struct cg_dev_rule *rules = NULL;
    size_t n = 0;
    assert_int_equal(cg_device_rules(&res, &rules, &n), 0);
    struct bpf_insn *code = NULL;
    size_t len = 0;
    assert_int_equal(cg_v2_device_program(rules, n, &code, &len), 0);
    static const struct {
        char type;
        uint32_t major, minor;
        const char *access;
        bool allowed;
    } cases[] = {
        {'c', 10, 200, "rw", true},  {'c', 10, 200, "r", true},   {'c', 10, 200, "m", true},
        {'c', 10, 201, "r", false},  {'b', 8, 0, "r", true},      {'b', 8, 16, "r", true},
        {'b', 8, 0, "w", false},     {'b', 8, 0, "rw", false},    {'b', 9, 0, "r", false},
        {'c', 1, 3, "rw", true},     {'c', 1, 5, "rwm", true},    {'c', 136, 7, "rw", true},
        {'c', 5, 1, "rw", true},     {'c', 4, 1, "rw", false},    {'c', 4, 1, "m", true},
        {'b', 7, 0, "m", true},      {'c', 1, 1, "r", false}, /* /dev/mem */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool got = device_allowed(code, len, cases[i].type, cases[i].major, cases[i].minor,
                                  cases[i].access);
        if (got != cases[i].allowed)
            fail_msg("%c %u:%u %s: got %s", cases[i].type, cases[i].major, cases[i].minor,
                     cases[i].access, got ? "allowed" : "denied");
    }
    free(code);

    /* a trailing allow-all ends the program early: everything is allowed */
    ocispec_device_cgroup all = {.allow = true, .access = "rwm"};
    ocispec_resources res2 = {.devices = &all, .devices_len = 1};
    free(rules);
    assert_int_equal(cg_device_rules(&res2, &rules, &n), 0);
    assert_int_equal(cg_v2_device_program(rules, n, &code, &len), 0);
    assert_true(device_allowed(code, len, 'b', 8, 0, "rw"));
    assert_true(device_allowed(code, len, 'c', 1, 1, "rwm"));
    free(code);
    free(rules);
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_compute_path_table),
        cmocka_unit_test(test_compute_path_refused),
        cmocka_unit_test(test_manager_parse),
        cmocka_unit_test(test_parse_v1_only_and_escapes),
        cmocka_unit_test(test_unified_refused_on_v1),
        cmocka_unit_test(test_device_program),
    };
    const struct CMUnitTest hybrid[] = {
        cmocka_unit_test_setup_teardown(test_parse_hybrid, setup_hybrid, teardown_fake),
        cmocka_unit_test_setup_teardown(test_translate_v1, setup_hybrid, teardown_fake),
        cmocka_unit_test_setup_teardown(test_validation_hybrid, setup_hybrid, teardown_fake),
        cmocka_unit_test_setup_teardown(test_create_hybrid, setup_hybrid, teardown_fake),
        cmocka_unit_test_setup_teardown(test_create_failure_leaves_nothing, setup_hybrid,
                                        teardown_fake),
        cmocka_unit_test_setup_teardown(test_create_refuses_busy_cgroup, setup_hybrid,
                                        teardown_fake),
        cmocka_unit_test_setup_teardown(test_load_and_pids, setup_hybrid, teardown_fake),
        cmocka_unit_test_setup_teardown(test_disabled_and_systemd, setup_hybrid, teardown_fake),
        cmocka_unit_test_setup_teardown(test_stats_hybrid, setup_hybrid, teardown_fake),
    };
    const struct CMUnitTest v2[] = {
        cmocka_unit_test_setup_teardown(test_layout_v2, setup_v2, teardown_fake),
        cmocka_unit_test_setup_teardown(test_translate_v2, setup_v2, teardown_fake),
        cmocka_unit_test_setup_teardown(test_validation_v2, setup_v2, teardown_fake),
        cmocka_unit_test_setup_teardown(test_create_v2, setup_v2, teardown_fake),
        cmocka_unit_test_setup_teardown(test_stats_v2, setup_v2, teardown_fake),
    };
    int failed = cmocka_run_group_tests_name("cgroup_pure", pure, NULL, NULL);
    failed += cmocka_run_group_tests_name("cgroup_hybrid_fake", hybrid, NULL, NULL);
    failed += cmocka_run_group_tests_name("cgroup_v2_fake", v2, NULL, NULL);
    return failed != 0;
}
