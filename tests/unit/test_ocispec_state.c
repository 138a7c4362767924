/* libocispec: the state and features documents. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ocispec.h"

#ifndef OCS_TEST_DATA
#error "OCS_TEST_DATA must name the tests/unit/data directory"
#endif

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        cap += 4096;
        buf = realloc(buf, cap);
        assert_non_null(buf);
        size_t n = fread(buf + *len, 1, cap - *len, f);
        *len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    return buf;
}

static const char state_json[] = "{\"ociVersion\":\"1.3.0\",\"id\":\"ctr-1\",\"status\":\"running\",\"pid\":4242,"
                                 "\"bundle\":\"/b/ctr-1\",\"annotations\":{\"b\":\"2\",\"a\":\"1\"}}";

static void test_state_parse(void **state)
{
    (void)state;
    char *err = NULL;
    ocispec_state *s = ocispec_state_parse_data(state_json, strlen(state_json), &err);
    assert_non_null(s);
    assert_string_equal(s->oci_version, "1.3.0");
    assert_string_equal(s->id, "ctr-1");
    assert_string_equal(s->status, "running");
    assert_true(s->has_pid);
    assert_int_equal(s->pid, 4242);
    assert_string_equal(s->bundle, "/b/ctr-1");
    assert_int_equal(s->annotations->len, 2);
    assert_string_equal(s->annotations->keys[0], "b");
    ocispec_state_free(s);
}

static void test_state_generate_round_trip(void **state)
{
    (void)state;
    char *err = NULL;
    ocispec_state *s = ocispec_state_parse_data(state_json, strlen(state_json), &err);
    assert_non_null(s);
    char *out = ocispec_state_generate(s, false, &err);
    assert_non_null(out);
    assert_string_equal(out, state_json);
    ocispec_state *again = ocispec_state_parse_data(out, strlen(out), &err);
    assert_true(ocispec_state_equal(s, again));
    again->pid = 1;
    assert_false(ocispec_state_equal(s, again));
    free(out);
    ocispec_state_free(again);
    ocispec_state_free(s);
}

/* A stopped container has no pid; the state keeps it absent, not zero. */
static void test_state_without_pid(void **state)
{
    (void)state;
    ocispec_state s = { .oci_version = "1.3.0", .id = "c", .status = "stopped", .bundle = "/b" };
    char *err = NULL;
    char *out = ocispec_state_generate(&s, false, &err);
    assert_string_equal(out, "{\"ociVersion\":\"1.3.0\",\"id\":\"c\",\"status\":\"stopped\",\"bundle\":\"/b\"}");
    ocispec_state *p = ocispec_state_parse_data(out, strlen(out), &err);
    assert_false(p->has_pid);
    assert_true(ocispec_state_equal(&s, p));
    s.has_pid = true; /* pid 0 present */
    assert_false(ocispec_state_equal(&s, p));
    free(out);
    ocispec_state_free(p);
}

static void test_state_file(void **state)
{
    (void)state;
    char path[] = "/tmp/ocs-state-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(state_json, f);
    fclose(f);
    char *err = NULL;
    ocispec_state *s = ocispec_state_parse_file(path, &err);
    assert_non_null(s);
    assert_string_equal(s->id, "ctr-1");
    ocispec_state_free(s);
    f = fopen(path, "w");
    fputs("{\"ociVersion\":\"1.3.0\",\"id\":\"x\",\"status\":\"created\",\"bundle\":\"/b\",\"pid\":2147483648}", f);
    fclose(f);
    assert_null(ocispec_state_parse_file(path, &err));
    char want[128];
    snprintf(want, sizeof(want), "%s: pid: 2147483648 out of range for int", path);
    assert_string_equal(err, want);
    free(err);
    unlink(path);
}

static void test_state_errors(void **state)
{
    (void)state;
    static const struct { const char *json, *message; } cases[] = {
        { "{\"id\":\"x\",\"status\":\"created\",\"bundle\":\"/b\"}", "ociVersion: required field missing" },
        { "{\"ociVersion\":\"1\",\"status\":\"created\",\"bundle\":\"/b\"}", "id: required field missing" },
        { "{\"ociVersion\":\"1\",\"id\":\"x\",\"bundle\":\"/b\"}", "status: required field missing" },
        { "{\"ociVersion\":\"1\",\"id\":\"x\",\"status\":\"created\"}", "bundle: required field missing" },
        { "{\"ociVersion\":\"1\",\"id\":\"x\",\"status\":\"created\",\"bundle\":\"/b\",\"pid\":\"1\"}",
          "pid: expected integer, got string" },
        { "[1]", "expected object, got array" },
        { "{", "invalid JSON: parse error: premature EOF" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *err = NULL;
        assert_null(ocispec_state_parse_data(cases[i].json, strlen(cases[i].json), &err));
        if (err == NULL || strcmp(err, cases[i].message) != 0)
            fail_msg("state case %zu: want %s, got %s", i, cases[i].message, err ? err : "(null)");
        free(err);
    }
}

static ocispec_features *features_full(void)
{
    size_t len;
    char *json = slurp(OCS_TEST_DATA "/features-full.json", &len);
    char *err = NULL;
    ocispec_features *f = ocispec_features_parse_data(json, len, &err);
    if (f == NULL)
        fail_msg("features: %s", err);
    free(json);
    return f;
}

static void test_features_every_field(void **state)
{
    (void)state;
    ocispec_features *f = features_full();
    assert_string_equal(f->oci_version_min, "1.0.0");
    assert_string_equal(f->oci_version_max, "1.3.0");
    assert_int_equal(f->hooks_len, 6);
    assert_string_equal(f->hooks[5], "poststop");
    assert_null(f->hooks[6]);
    assert_int_equal(f->mount_options_len, 4);
    ocispec_features_linux *l = f->linux;
    assert_int_equal(l->namespaces_len, 8);
    assert_string_equal(l->capabilities[1], "CAP_KILL");
    assert_true(l->cgroup->has_v1 && l->cgroup->v1);
    assert_true(l->cgroup->has_v2 && l->cgroup->v2);
    assert_true(l->cgroup->has_systemd && !l->cgroup->systemd);
    assert_true(l->cgroup->has_systemd_user && !l->cgroup->systemd_user);
    assert_true(l->cgroup->has_rdma && l->cgroup->rdma);
    assert_true(l->seccomp->has_enabled && l->seccomp->enabled);
    assert_int_equal(l->seccomp->actions_len, 2);
    assert_string_equal(l->seccomp->operators[0], "SCMP_CMP_EQ");
    assert_string_equal(l->seccomp->archs[0], "SCMP_ARCH_X86_64");
    assert_string_equal(l->seccomp->known_flags[0], "SECCOMP_FILTER_FLAG_LOG");
    assert_non_null(l->seccomp->supported_flags);
    assert_int_equal(l->seccomp->supported_flags_len, 0);
    assert_true(l->has_apparmor_enabled && !l->apparmor_enabled);
    assert_true(l->has_selinux_enabled && l->selinux_enabled);
    assert_true(l->has_intel_rdt_enabled && l->intel_rdt_enabled);
    assert_true(l->has_intel_rdt_schemata && l->intel_rdt_schemata);
    assert_true(l->has_idmap_enabled && l->idmap_enabled);
    assert_true(l->has_net_devices_enabled && l->net_devices_enabled);
    assert_int_equal(l->memory_policy_modes_len, 2);
    assert_string_equal(l->memory_policy_modes[1], "MPOL_BIND");
    assert_string_equal(l->memory_policy_flags[0], "MPOL_F_STATIC_NODES");
    assert_string_equal(ocispec_string_map_get(f->annotations, "io.github.husk.version"), "0.1.0");
    assert_int_equal(f->potentially_unsafe_config_annotations_len, 2);
    ocispec_features_free(f);
}

static void test_features_round_trip(void **state)
{
    (void)state;
    ocispec_features *f = features_full();
    char *err = NULL;
    char *json = ocispec_features_generate(f, true, &err);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"mountExtensions\": {\n\t\t\t\"idmap\": {\n\t\t\t\t\"enabled\": true"));
    ocispec_features *again = ocispec_features_parse_data(json, strlen(json), &err);
    assert_non_null(again);
    assert_true(ocispec_features_equal(f, again));
    again->linux->idmap_enabled = false;
    assert_false(ocispec_features_equal(f, again));
    free(json);
    ocispec_features_free(again);
    ocispec_features_free(f);
}

/* A flattened group is written only when one of its fields is present. */
static void test_features_groups_only_when_present(void **state)
{
    (void)state;
    ocispec_features_linux lx = { .has_selinux_enabled = true };
    ocispec_features f = { .oci_version_min = "1.0.0", .oci_version_max = "1.3.0", .linux = &lx };
    char *err = NULL;
    char *json = ocispec_features_generate(&f, false, &err);
    assert_string_equal(json, "{\"ociVersionMin\":\"1.0.0\",\"ociVersionMax\":\"1.3.0\","
                              "\"linux\":{\"selinux\":{\"enabled\":false}}}");
    free(json);
}

static void test_features_errors(void **state)
{
    (void)state;
    static const struct { const char *json, *message; } cases[] = {
        { "{\"ociVersionMin\":\"1.0.0\"}", "ociVersionMax: required field missing" },
        { "{\"ociVersionMax\":\"1.0.0\"}", "ociVersionMin: required field missing" },
        { "{\"ociVersionMin\":\"1\",\"ociVersionMax\":\"1\",\"linux\":{\"apparmor\":{\"enabled\":1}}}",
          "linux.apparmor.enabled: expected boolean, got integer" },
        { "{\"ociVersionMin\":\"1\",\"ociVersionMax\":\"1\",\"linux\":{\"mountExtensions\":{\"idmap\":[]}}}",
          "linux.mountExtensions.idmap: expected object, got array" },
        { "{\"ociVersionMin\":\"1\",\"ociVersionMax\":\"1\",\"linux\":{\"seccomp\":{\"actions\":[1]}}}",
          "linux.seccomp.actions[0]: expected string, got integer" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *err = NULL;
        assert_null(ocispec_features_parse_data(cases[i].json, strlen(cases[i].json), &err));
        if (err == NULL || strcmp(err, cases[i].message) != 0)
            fail_msg("features case %zu: want %s, got %s", i, cases[i].message, err ? err : "(null)");
        free(err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_parse),
        cmocka_unit_test(test_state_generate_round_trip),
        cmocka_unit_test(test_state_without_pid),
        cmocka_unit_test(test_state_file),
        cmocka_unit_test(test_state_errors),
        cmocka_unit_test(test_features_every_field),
        cmocka_unit_test(test_features_round_trip),
        cmocka_unit_test(test_features_groups_only_when_present),
        cmocka_unit_test(test_features_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
