/* Unit tests for the systemd cgroup driver's pure parts: cgroupsPath
 * (slice:prefix:name) parsing into unit and cgroup path, the CPU/NUMA
 * bitmask, the CPU quota conversion, and linux.resources -> unit
 * properties through the shared translator (shares -> CPUWeight etc.).
 * The D-Bus side runs in tests/integration/cgroups_systemd.bats; here,
 * only the dlopen of libsystemd it goes through. */
#define _GNU_SOURCE
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_systemd.h"
#include "ocispec.h"

#ifdef HAVE_SYSTEMD
#include <dlfcn.h>

#include "sd_bus_loader.h"
#endif

/* ---------- cgroupsPath ---------- */

static void expect_path(const char *id, const char *in, const char *slice, const char *unit,
                        const char *cgroup)
{
    struct cg_sd_path p;
    husk_error_t err = NULL;
    int r = cg_sd_parse_path(id, in, &p, &err);
    if (r < 0)
        fail_msg("`%s`: %s", in ? in : "(null)", err->msg);
    assert_string_equal(p.slice, slice);
    assert_string_equal(p.unit, unit);
    assert_string_equal(p.cgroup_path, cgroup);
    cg_sd_path_clear(&p);
}

static void expect_bad_path(const char *in, const char *why)
{
    struct cg_sd_path p;
    husk_error_t err = NULL;
    if (cg_sd_parse_path("id", in, &p, &err) >= 0)
        fail_msg("`%s` was taken", in);
    assert_non_null(err);
    assert_int_equal(err->errno_value, EINVAL);
    if (strstr(err->msg, "linux.cgroupsPath") == NULL || strstr(err->msg, in) == NULL ||
        strstr(err->msg, why) == NULL)
        fail_msg("`%s`: message `%s` lacks the field, the value or `%s`", in, err->msg, why);
    assert_null(p.unit);
    husk_error_free(&err);
}

static void test_parse_path(void **state)
{
    (void)state;
    expect_path("x", "system.slice:husk:abc", "system.slice", "husk-abc.scope",
                "/system.slice/husk-abc.scope");
    expect_path("x", "machine.slice:libpod:0123abcd", "machine.slice", "libpod-0123abcd.scope",
                "/machine.slice/libpod-0123abcd.scope");
    expect_path("x", "kubepods-burstable-pod12.slice:cri-containerd:ID", "kubepods-burstable-pod12.slice",
                "cri-containerd-ID.scope",
                "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12.slice/"
                "cri-containerd-ID.scope");
    /* empty slice: system.slice; empty prefix: the name alone */
    expect_path("x", ":husk:abc", "system.slice", "husk-abc.scope", "/system.slice/husk-abc.scope");
    expect_path("x", "user.slice::abc", "user.slice", "abc.scope", "/user.slice/abc.scope");
    expect_path("x", "-.slice:p:n", "-.slice", "p-n.scope", "/p-n.scope");
    /* absent: system.slice:husk:<id> */
    expect_path("c1", NULL, "system.slice", "husk-c1.scope", "/system.slice/husk-c1.scope");
    expect_path("c2", "", "system.slice", "husk-c2.scope", "/system.slice/husk-c2.scope");
}

static void test_parse_path_bad(void **state)
{
    (void)state;
    expect_bad_path("/husk-test/abc", "slice:prefix:name");
    expect_bad_path("system.slice:abc", "slice:prefix:name");
    expect_bad_path("a.slice:b:c:d", "slice:prefix:name");
    expect_bad_path("system:husk:abc", "ending in `.slice`");
    expect_bad_path(".slice:husk:abc", "ending in `.slice`");
    expect_bad_path("system.slice:husk:..", "`..`");
    expect_bad_path("system.slice:..:abc", "`..`");
    expect_bad_path("sys/tem.slice:husk:abc", "`/`");
    expect_bad_path("system.slice:husk:a/b", "`/`");
    expect_bad_path("system.slice:husk:a b", "spaces");
    expect_bad_path("a--b.slice:husk:abc", "empty `-` component");
    expect_bad_path("a-.slice:husk:abc", "empty `-` component");
    expect_bad_path("-a.slice:husk:abc", "empty `-` component");
    expect_bad_path("system.slice:husk:", "name (third part) is empty");
    expect_bad_path("system.slice:husk:x.slice", "not a slice");
}

static void test_unit_of_path(void **state)
{
    (void)state;
    char *unit = NULL;
    assert_int_equal(cg_sd_unit_of_path("/system.slice/husk-a.scope", &unit, NULL), 0);
    assert_string_equal(unit, "husk-a.scope");
    free(unit);
    /* exec --cgroup: a sub-cgroup of the scope */
    assert_int_equal(cg_sd_unit_of_path("/a.slice/p-n.scope/sub", &unit, NULL), 0);
    assert_string_equal(unit, "p-n.scope");
    free(unit);
    husk_error_t err = NULL;
    assert_true(cg_sd_unit_of_path("/husk-test/x", &unit, &err) < 0);
    assert_non_null(strstr(err->msg, "/husk-test/x"));
    husk_error_free(&err);
}

/* ---------- bitmask and quota ---------- */

static void expect_mask(const char *list, const uint8_t *want, size_t n)
{
    uint8_t *mask = NULL;
    size_t got = 0;
    husk_error_t err = NULL;
    if (cg_sd_cpuset_mask(list, &mask, &got, &err) < 0)
        fail_msg("`%s`: %s", list, err->msg);
    assert_int_equal(got, n);
    assert_memory_equal(mask, want, n);
    free(mask);
}

static void test_cpuset_mask(void **state)
{
    (void)state;
    expect_mask("0", (const uint8_t[]){0x01}, 1);
    expect_mask("0-2,5", (const uint8_t[]){0x27}, 1);
    expect_mask("8", (const uint8_t[]){0x00, 0x01}, 2);
    expect_mask("0,9-10\n", (const uint8_t[]){0x01, 0x06}, 2);
    expect_mask("1-3,2", (const uint8_t[]){0x0e}, 1);
    static const char *const bad[] = {"a", "3-1", "1,,2", "-1", "1-", "0 1", "70000"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t *mask = NULL;
        size_t n = 0;
        husk_error_t err = NULL;
        if (cg_sd_cpuset_mask(bad[i], &mask, &n, &err) >= 0)
            fail_msg("`%s` was taken", bad[i]);
        assert_non_null(strstr(err->msg, bad[i]));
        husk_error_free(&err);
    }
}

static void test_quota(void **state)
{
    (void)state;
    assert_int_equal(cg_sd_quota_per_sec(50000, 100000), 500000);
    assert_int_equal(cg_sd_quota_per_sec(200000, 100000), 2000000);
    assert_int_equal(cg_sd_quota_per_sec(25000, 50000), 500000);
    /* rounded up to the 10 ms systemd keeps across daemon-reload */
    assert_int_equal(cg_sd_quota_per_sec(33333, 100000), 340000);
    assert_int_equal(cg_sd_quota_per_sec(1000, 1000000), 10000);
    assert_int_equal(cg_sd_quota_for_period(500000, 100000), 50000);
    assert_int_equal(cg_sd_quota_for_period(340000, 100000), 34000);
    assert_int_equal(cg_sd_quota_for_period(10000, 10000), 1000); /* kernel minimum */
}

/* ---------- resources -> properties ---------- */

static const struct cg_hierarchy v2_all = {
    .mountpoint = "/sys/fs/cgroup",
    .controllers = CG_CPU | CG_CPUSET | CG_MEMORY | CG_PIDS | CG_BLKIO | CG_HUGETLB,
    .v2 = true,
};

static ocispec_config *parse_resources(const char *json)
{
    char *text = NULL;
    assert_true(asprintf(&text,
                         "{\"ociVersion\":\"1.3.0\",\"root\":{\"path\":\"rootfs\"},"
                         "\"process\":{\"cwd\":\"/\",\"args\":[\"sh\"]},"
                         "\"linux\":{\"resources\":%s}}",
                         json) >= 0);
    char *perr = NULL;
    ocispec_config *cfg = ocispec_config_parse_data(text, strlen(text), &perr);
    if (cfg == NULL)
        fail_msg("%s", perr);
    free(text);
    return cfg;
}

static void translate(const char *json, uint64_t period, struct cg_writes *w,
                      struct cg_sd_props *props)
{
    struct cg_host host = {.layout = HUSK_CGROUP_LAYOUT_V2,
                           .h = (struct cg_hierarchy *)&v2_all, .n = 1};
    ocispec_config *cfg = parse_resources(json);
    husk_error_t err = NULL;
    memset(w, 0, sizeof *w);
    if (cg_translate(cfg->linux->resources, &host, false, w, &err) < 0 ||
        cg_sd_props_from_writes(w, period, props, &err) < 0)
        fail_msg("%s: %s", json, err->msg);
    ocispec_config_free(cfg);
}

static uint64_t u64_prop(const struct cg_sd_props *p, const char *name)
{
    const struct cg_sd_prop *e = cg_sd_props_find(p, name);
    if (e == NULL)
        fail_msg("no property %s", name);
    assert_int_equal(e->kind, CG_SD_U64);
    return e->u64;
}

static const char *write_value(const struct cg_writes *w, const char *file)
{
    const char *v = NULL;
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->v[i].file, file) == 0)
            v = w->v[i].value;
    if (v == NULL)
        fail_msg("no write to %s", file);
    return v;
}

static void test_props_memory_pids(void **state)
{
    (void)state;
    struct cg_writes w;
    struct cg_sd_props p;
    translate("{\"memory\":{\"limit\":536870912,\"reservation\":268435456,\"swap\":1073741824},"
              "\"pids\":{\"limit\":100}}",
              100000, &w, &p);
    assert_int_equal(u64_prop(&p, "MemoryMax"), 536870912);
    assert_int_equal(u64_prop(&p, "MemoryLow"), 268435456);
    /* OCI swap is memory+swap; MemorySwapMax is swap alone */
    assert_int_equal(u64_prop(&p, "MemorySwapMax"), 1073741824 - 536870912);
    assert_int_equal(u64_prop(&p, "TasksMax"), 100);
    assert_int_equal(p.n, 4);
    cg_sd_props_clear(&p);
    cg_writes_clear(&w);

    translate("{\"memory\":{\"limit\":-1,\"swap\":-1},\"pids\":{\"limit\":-1}}", 100000, &w, &p);
    assert_true(u64_prop(&p, "MemoryMax") == CG_SD_INFINITY);
    assert_true(u64_prop(&p, "MemorySwapMax") == CG_SD_INFINITY);
    assert_true(u64_prop(&p, "TasksMax") == CG_SD_INFINITY);
    cg_sd_props_clear(&p);
    cg_writes_clear(&w);
}

static void test_props_cpu(void **state)
{
    (void)state;
    struct cg_writes w;
    struct cg_sd_props p;
    translate("{\"cpu\":{\"shares\":1024,\"quota\":50000,\"period\":100000,"
              "\"cpus\":\"0-1\",\"mems\":\"0\"}}",
              100000, &w, &p);
    /* shares 2..262144 onto weight 1..10000, as the cgroupfs driver does */
    assert_int_equal(u64_prop(&p, "CPUWeight"), 39);
    assert_int_equal(u64_prop(&p, "CPUQuotaPerSecUSec"), 500000);
    assert_int_equal(u64_prop(&p, "CPUQuotaPeriodUSec"), 100000);
    assert_string_equal(write_value(&w, "cpu.max"), "50000 100000");
    const struct cg_sd_prop *cpus = cg_sd_props_find(&p, "AllowedCPUs");
    assert_non_null(cpus);
    assert_int_equal(cpus->kind, CG_SD_BYTES);
    assert_int_equal(cpus->n_bytes, 1);
    assert_int_equal(cpus->bytes[0], 0x03);
    const struct cg_sd_prop *mems = cg_sd_props_find(&p, "AllowedMemoryNodes");
    assert_non_null(mems);
    assert_int_equal(mems->bytes[0], 0x01);
    cg_sd_props_clear(&p);
    cg_writes_clear(&w);

    /* a quota systemd cannot hold exactly: the file gets systemd's value */
    translate("{\"cpu\":{\"quota\":33333,\"period\":100000}}", 100000, &w, &p);
    assert_int_equal(u64_prop(&p, "CPUQuotaPerSecUSec"), 340000);
    assert_string_equal(write_value(&w, "cpu.max"), "34000 100000");
    cg_sd_props_clear(&p);
    cg_writes_clear(&w);

    /* update of the quota alone keeps the cgroup's period */
    translate("{\"cpu\":{\"quota\":25000}}", 50000, &w, &p);
    assert_int_equal(u64_prop(&p, "CPUQuotaPerSecUSec"), 500000);
    assert_null(cg_sd_props_find(&p, "CPUQuotaPeriodUSec"));
    assert_string_equal(write_value(&w, "cpu.max"), "25000 50000");
    cg_sd_props_clear(&p);
    cg_writes_clear(&w);

    translate("{\"cpu\":{\"quota\":-1,\"period\":100000}}", 100000, &w, &p);
    assert_true(u64_prop(&p, "CPUQuotaPerSecUSec") == CG_SD_INFINITY);
    assert_string_equal(write_value(&w, "cpu.max"), "max 100000");
    cg_sd_props_clear(&p);
    cg_writes_clear(&w);
}

static void expect_dev(const struct cg_sd_props *p, const char *name, const char *path,
                       uint64_t v)
{
    const struct cg_sd_prop *e = cg_sd_props_find(p, name);
    if (e == NULL)
        fail_msg("no property %s", name);
    assert_int_equal(e->kind, CG_SD_DEVICES);
    for (size_t i = 0; i < e->n_devs; i++)
        if (strcmp(e->devs[i].path, path) == 0) {
            assert_int_equal(e->devs[i].value, v);
            return;
        }
    fail_msg("%s has no %s", name, path);
}

static void test_props_io(void **state)
{
    (void)state;
    struct cg_writes w;
    struct cg_sd_props p;
    translate("{\"blockIO\":{\"weight\":500,"
              "\"weightDevice\":[{\"major\":8,\"minor\":0,\"weight\":100}],"
              "\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":1048576}],"
              "\"throttleWriteBpsDevice\":[{\"major\":8,\"minor\":16,\"rate\":2097152}],"
              "\"throttleReadIOPSDevice\":[{\"major\":8,\"minor\":0,\"rate\":100}],"
              "\"throttleWriteIOPSDevice\":[{\"major\":8,\"minor\":0,\"rate\":200}]}}",
              100000, &w, &p);
    /* blkio 10..1000 onto io 1..10000, as the cgroupfs driver does */
    assert_int_equal(u64_prop(&p, "IOWeight"), 4950);
    expect_dev(&p, "IODeviceWeight", "/dev/block/8:0", 910);
    expect_dev(&p, "IOReadBandwidthMax", "/dev/block/8:0", 1048576);
    expect_dev(&p, "IOWriteBandwidthMax", "/dev/block/8:16", 2097152);
    expect_dev(&p, "IOReadIOPSMax", "/dev/block/8:0", 100);
    expect_dev(&p, "IOWriteIOPSMax", "/dev/block/8:0", 200);
    cg_sd_props_clear(&p);
    cg_writes_clear(&w);
}

static void test_props_unowned_and_unified(void **state)
{
    (void)state;
    struct cg_writes w;
    struct cg_sd_props p;
    /* hugetlb has no systemd property: a file write only */
    translate("{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":4194304}],"
              "\"unified\":{\"memory.high\":\"max\",\"io.max\":\"8:0 wbps=max riops=50\"}}",
              100000, &w, &p);
    assert_string_equal(write_value(&w, "hugetlb.2MB.max"), "4194304");
    assert_true(u64_prop(&p, "MemoryHigh") == CG_SD_INFINITY);
    expect_dev(&p, "IOWriteBandwidthMax", "/dev/block/8:0", CG_SD_INFINITY);
    expect_dev(&p, "IOReadIOPSMax", "/dev/block/8:0", 50);
    assert_int_equal(p.n, 3);
    cg_sd_props_clear(&p);
    cg_writes_clear(&w);

    /* a unified value for a file systemd owns must make sense to systemd */
    struct cg_host host = {.layout = HUSK_CGROUP_LAYOUT_V2,
                           .h = (struct cg_hierarchy *)&v2_all, .n = 1};
    ocispec_config *cfg = parse_resources("{\"unified\":{\"cpu.weight\":\"lots\"}}");
    husk_error_t err = NULL;
    memset(&w, 0, sizeof w);
    assert_int_equal(cg_translate(cfg->linux->resources, &host, false, &w, &err), 0);
    assert_true(cg_sd_props_from_writes(&w, 100000, &p, &err) < 0);
    assert_non_null(strstr(err->msg, "linux.resources.unified"));
    assert_non_null(strstr(err->msg, "lots"));
    husk_error_free(&err);
    cg_writes_clear(&w);
    ocispec_config_free(cfg);
}

/* ---------- loading libsystemd ---------- */

#ifdef HAVE_SYSTEMD
/* A library no test binary links, without sd-bus in it. */
#define NOT_SYSTEMD "libz.so.1"

/* These run before test_loader_loads: a successful load is kept. */
static void test_loader_missing_library(void **state)
{
    (void)state;
    const struct sd_bus_api *api = NULL;
    husk_error_t err = NULL;
    assert_true(sd_bus_api_load_from("libhusk-absent.so.0", &api, &err) < 0);
    assert_null(api);
    assert_non_null(strstr(err->msg, "systemd cgroup driver: cannot load libhusk-absent.so.0: "));
    assert_non_null(strstr(err->msg, "No such file"));
    husk_error_free(&err);
}

static void test_loader_missing_symbol(void **state)
{
    (void)state;
    assert_null(dlopen(NOT_SYSTEMD, RTLD_NOW | RTLD_NOLOAD));
    const struct sd_bus_api *api = NULL;
    husk_error_t err = NULL;
    assert_true(sd_bus_api_load_from(NOT_SYSTEMD, &api, &err) < 0);
    assert_null(api);
    assert_non_null(strstr(err->msg, "systemd cgroup driver: cannot load " NOT_SYSTEMD ": "));
    assert_non_null(strstr(err->msg, "undefined symbol: sd_bus_"));
    husk_error_free(&err);
    /* closed again: a failed load leaves nothing mapped */
    assert_null(dlopen(NOT_SYSTEMD, RTLD_NOW | RTLD_NOLOAD));
}

static void test_loader_loads(void **state)
{
    (void)state;
    assert_null(dlopen(SD_BUS_LIBRARY, RTLD_NOW | RTLD_NOLOAD)); /* not linked */
    const struct sd_bus_api *api = NULL;
    husk_error_t err = NULL;
    if (sd_bus_api_load(&api, &err) < 0)
        fail_msg("%s", err->msg);
    assert_non_null(api);
    void *const *fn = (void *const *)api;
    for (size_t i = 0; i < sizeof *api / sizeof(void *); i++)
        assert_non_null(fn[i]);
    /* the pointers are the library's functions */
    sd_bus *bus = NULL;
    assert_true(api->new(&bus) >= 0);
    assert_non_null(bus);
    assert_null(api->unref(bus));
    sd_bus_error e = SD_BUS_ERROR_NULL;
    assert_int_equal(api->error_is_set(&e), 0);

    void *h = dlopen(SD_BUS_LIBRARY, RTLD_NOW | RTLD_NOLOAD);
    assert_non_null(h);
    dlclose(h);
    /* loaded once: later loads, whatever the soname, give the same table */
    const struct sd_bus_api *again = NULL;
    assert_int_equal(sd_bus_api_load(&again, &err), 0);
    assert_ptr_equal(again, api);
    assert_int_equal(sd_bus_api_load_from(NOT_SYSTEMD, &again, &err), 0);
    assert_ptr_equal(again, api);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_path),
        cmocka_unit_test(test_parse_path_bad),
        cmocka_unit_test(test_unit_of_path),
        cmocka_unit_test(test_cpuset_mask),
        cmocka_unit_test(test_quota),
        cmocka_unit_test(test_props_memory_pids),
        cmocka_unit_test(test_props_cpu),
        cmocka_unit_test(test_props_io),
        cmocka_unit_test(test_props_unowned_and_unified),
#ifdef HAVE_SYSTEMD
        cmocka_unit_test(test_loader_missing_library),
        cmocka_unit_test(test_loader_missing_symbol),
        cmocka_unit_test(test_loader_loads),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
