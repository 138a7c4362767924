/* libocispec: every kind of parse error, with its exact message. */
#include <errno.h>
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

struct error_case {
    const char *json;
    const char *message;
};

#define P(x) "{\"ociVersion\":\"1.3.0\",\"process\":{\"cwd\":\"/\"," x "}}"
#define L(x) "{\"ociVersion\":\"1.3.0\",\"linux\":{" x "}}"
#define R(x) L("\"resources\":{" x "}")
#define S(x) L("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"," x "}")

static const struct error_case cases[] = {
    /* the document itself */
    { "", "invalid JSON: parse error: premature EOF" },
    { "{\"ociVersion\":\"1.3.0\"", "invalid JSON: parse error: premature EOF" },
    { "{\"ociVersion\":\"1.3.0\"} x", "invalid JSON: parse error: trailing garbage" },
    { "{\"ociVersion\":\"1\",}", "invalid JSON: parse error: invalid object key (must be a string)" },
    { "{ociVersion:1}", "invalid JSON: lexical error: invalid char in json text" },
    { "{\"ociVersion\":\"\\x\"}", "invalid JSON: lexical error: inside a string, '\\' occurs before a character which it may not" },
    { "[]", "expected object, got array" },
    { "\"x\"", "expected object, got string" },
    { "7", "expected object, got integer" },
    { "null", "expected object, got null" },
    { "{}", "ociVersion: required field missing" },
    { "{\"ociVersion\":null}", "ociVersion: required field missing" },
    /* wrong types, one per kind of field */
    { "{\"ociVersion\":1.5}", "ociVersion: expected string, got number" },
    { "{\"ociVersion\":\"1\",\"hostname\":[]}", "hostname: expected string, got array" },
    { "{\"ociVersion\":\"1\",\"process\":[]}", "process: expected object, got array" },
    { "{\"ociVersion\":\"1\",\"root\":{\"path\":\"r\",\"readonly\":\"yes\"}}", "root.readonly: expected boolean, got string" },
    { P("\"terminal\":1"), "process.terminal: expected boolean, got integer" },
    { P("\"args\":\"sh\""), "process.args: expected array, got string" },
    { P("\"args\":[\"sh\",7]"), "process.args[1]: expected string, got integer" },
    { P("\"env\":[null]"), "process.env[0]: expected string, got null" },
    { "{\"ociVersion\":\"1\",\"mounts\":{}}", "mounts: expected array, got object" },
    { "{\"ociVersion\":\"1\",\"mounts\":[7]}", "mounts[0]: expected object, got integer" },
    { "{\"ociVersion\":\"1\",\"annotations\":[]}", "annotations: expected object, got array" },
    { "{\"ociVersion\":\"1\",\"annotations\":{\"org.a\":true}}", "annotations[\"org.a\"]: expected string, got boolean" },
    { L("\"sysctl\":{\"net.ipv4.ip_forward\":1}"), "linux.sysctl[\"net.ipv4.ip_forward\"]: expected string, got integer" },
    { R("\"memory\":{\"limit\":\"1G\"}"), "linux.resources.memory.limit: expected integer, got string" },
    { R("\"memory\":{\"limit\":1.5}"), "linux.resources.memory.limit: expected integer, got number" },
    { R("\"memory\":{\"limit\":1e9}"), "linux.resources.memory.limit: expected integer, got number" },
    { R("\"memory\":{\"limit\":true}"), "linux.resources.memory.limit: expected integer, got boolean" },
    { R("\"rdma\":[]"), "linux.resources.rdma: expected object, got array" },
    { R("\"rdma\":{\"mlx5_1\":3}"), "linux.resources.rdma.mlx5_1: expected object, got integer" },
    { L("\"timeOffsets\":{\"monotonic\":{\"secs\":\"1\"}}"), "linux.timeOffsets.monotonic.secs: expected integer, got string" },
    { L("\"netDevices\":{\"eth0\":{\"name\":5}}"), "linux.netDevices.eth0.name: expected string, got integer" },
    { P("\"user\":{\"uid\":0,\"gid\":0,\"additionalGids\":[1,\"2\"]}"), "process.user.additionalGids[1]: expected integer, got string" },
    /* control bytes from the document are escaped: one line per message */
    { "{\"ociVersion\":\"1\",\"annotations\":{\"a\\nb\\u0001\":1}}",
      "annotations[\"a\\nb\\u0001\"]: expected string, got integer" },
    { L("\"namespaces\":[{\"type\":\"p\\tid\"},{\"type\":\"p\\tid\"}]"), "linux.namespaces[1].type: duplicate namespace type \"p\\tid\"" },
    /* integer ranges */
    { P("\"user\":{\"uid\":4294967296,\"gid\":0}"), "process.user.uid: 4294967296 out of range for uint32" },
    { P("\"user\":{\"uid\":-1,\"gid\":0}"), "process.user.uid: -1 out of range for uint32" },
    { P("\"user\":{\"uid\":0,\"gid\":0,\"additionalGids\":[4294967296]}"), "process.user.additionalGids[0]: 4294967296 out of range for uint32" },
    { P("\"oomScoreAdj\":2147483648"), "process.oomScoreAdj: 2147483648 out of range for int32" },
    { P("\"oomScoreAdj\":-2147483649"), "process.oomScoreAdj: -2147483649 out of range for int32" },
    { P("\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":18446744073709551616,\"soft\":1}]"),
      "process.rlimits[0].hard: 18446744073709551616 out of range for uint64" },
    { P("\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1,\"soft\":-5}]"), "process.rlimits[0].soft: -5 out of range for uint64" },
    { R("\"memory\":{\"limit\":9223372036854775808}"), "linux.resources.memory.limit: 9223372036854775808 out of range for int64" },
    { R("\"memory\":{\"limit\":-9223372036854775809}"), "linux.resources.memory.limit: -9223372036854775809 out of range for int64" },
    { R("\"blockIO\":{\"weight\":65536}"), "linux.resources.blockIO.weight: 65536 out of range for uint16" },
    { R("\"memory\":{\"limit\":123456789012345678901234567890123456789012345678901234567890}"),
      "linux.resources.memory.limit: 1234567890123456789012345678901234567890... out of range for int64" },
    { "{\"ociVersion\":\"1\",\"process\":{\"cwd\":\"/\",\"consoleSize\":{\"height\":-1,\"width\":1}}}",
      "process.consoleSize.height: -1 out of range for uint64" },
    /* duplicates */
    { P("\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"hard\":1,\"soft\":1},{\"type\":\"RLIMIT_NOFILE\",\"hard\":1,\"soft\":1},"
        "{\"type\":\"RLIMIT_NOFILE\",\"hard\":2,\"soft\":2}]"),
      "process.rlimits[2].type: duplicate rlimit type \"RLIMIT_NOFILE\"" },
    { L("\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"pid\",\"path\":\"/proc/1/ns/pid\"}]"),
      "linux.namespaces[2].type: duplicate namespace type \"pid\"" },
    /* required fields inside present objects */
    { "{\"ociVersion\":\"1\",\"process\":{}}", "process.cwd: required field missing" },
    { P("\"user\":{\"gid\":0}"), "process.user.uid: required field missing" },
    { P("\"user\":{\"uid\":0}"), "process.user.gid: required field missing" },
    { P("\"consoleSize\":{\"height\":1}"), "process.consoleSize.width: required field missing" },
    { P("\"rlimits\":[{\"hard\":1,\"soft\":1}]"), "process.rlimits[0].type: required field missing" },
    { P("\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1}]"), "process.rlimits[0].hard: required field missing" },
    { P("\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1}]"), "process.rlimits[0].soft: required field missing" },
    { P("\"scheduler\":{\"nice\":1}"), "process.scheduler.policy: required field missing" },
    { P("\"ioPriority\":{\"priority\":1}"), "process.ioPriority.class: required field missing" },
    { P("\"ioPriority\":{\"class\":\"IOPRIO_CLASS_RT\"}"), "process.ioPriority.priority: required field missing" },
    { "{\"ociVersion\":\"1\",\"root\":{\"readonly\":true}}", "root.path: required field missing" },
    { "{\"ociVersion\":\"1\",\"mounts\":[{\"source\":\"/x\"}]}", "mounts[0].destination: required field missing" },
    { "{\"ociVersion\":\"1\",\"mounts\":[{\"destination\":\"/x\",\"uidMappings\":[{\"hostID\":1,\"size\":1}]}]}",
      "mounts[0].uidMappings[0].containerID: required field missing" },
    { "{\"ociVersion\":\"1\",\"mounts\":[{\"destination\":\"/x\",\"gidMappings\":[{\"containerID\":1,\"size\":1}]}]}",
      "mounts[0].gidMappings[0].hostID: required field missing" },
    { L("\"uidMappings\":[{\"containerID\":0,\"hostID\":1}]"), "linux.uidMappings[0].size: required field missing" },
    { "{\"ociVersion\":\"1\",\"hooks\":{\"poststop\":[{\"path\":\"/a\"},{\"args\":[]}]}}", "hooks.poststop[1].path: required field missing" },
    { L("\"namespaces\":[{\"path\":\"/proc/1/ns/net\"}]"), "linux.namespaces[0].type: required field missing" },
    { L("\"devices\":[{\"path\":\"/dev/x\",\"major\":1,\"minor\":1}]"), "linux.devices[0].type: required field missing" },
    { L("\"devices\":[{\"type\":\"c\",\"major\":1,\"minor\":1}]"), "linux.devices[0].path: required field missing" },
    { L("\"devices\":[{\"type\":\"c\",\"path\":\"/dev/x\",\"minor\":1}]"),
      "linux.devices[0].major: required field missing for device type \"c\"" },
    { L("\"devices\":[{\"type\":\"p\",\"path\":\"/dev/p\"},{\"type\":\"b\",\"path\":\"/dev/x\",\"major\":1}]"),
      "linux.devices[1].minor: required field missing for device type \"b\"" },
    { R("\"devices\":[{\"access\":\"rwm\"}]"), "linux.resources.devices[0].allow: required field missing" },
    { R("\"blockIO\":{\"weightDevice\":[{\"minor\":0}]}"), "linux.resources.blockIO.weightDevice[0].major: required field missing" },
    { R("\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0}]}"),
      "linux.resources.blockIO.throttleReadBpsDevice[0].rate: required field missing" },
    { R("\"hugepageLimits\":[{\"limit\":1}]"), "linux.resources.hugepageLimits[0].pageSize: required field missing" },
    { R("\"hugepageLimits\":[{\"pageSize\":\"2MB\"}]"), "linux.resources.hugepageLimits[0].limit: required field missing" },
    { R("\"network\":{\"priorities\":[{\"priority\":1}]}"), "linux.resources.network.priorities[0].name: required field missing" },
    { L("\"seccomp\":{\"syscalls\":[]}"), "linux.seccomp.defaultAction: required field missing" },
    { S("\"syscalls\":[{\"action\":\"SCMP_ACT_ERRNO\"}]"), "linux.seccomp.syscalls[0].names: required field missing" },
    { S("\"syscalls\":[{\"names\":[\"read\"]}]"), "linux.seccomp.syscalls[0].action: required field missing" },
    { S("\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]"),
      "linux.seccomp.syscalls[0].args[0].index: required field missing" },
    { S("\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":1,\"op\":\"SCMP_CMP_EQ\"}]}]"),
      "linux.seccomp.syscalls[0].args[0].value: required field missing" },
    { S("\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":1,\"value\":1}]}]"),
      "linux.seccomp.syscalls[0].args[0].op: required field missing" },
    { L("\"personality\":{\"flags\":[]}"), "linux.personality.domain: required field missing" },
    { L("\"memoryPolicy\":{\"nodes\":\"0\"}"), "linux.memoryPolicy.mode: required field missing" },
};

static void test_error_messages(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *err = NULL;
        ocispec_config *c = ocispec_config_parse_data(cases[i].json, strlen(cases[i].json), &err);
        if (c != NULL)
            fail_msg("case %zu parsed but should fail: %s", i, cases[i].json);
        if (err == NULL || strcmp(err, cases[i].message) != 0)
            fail_msg("case %zu: %s\n  want: %s\n  got:  %s", i, cases[i].json, cases[i].message, err ? err : "(null)");
        assert_null(strchr(err, '\n'));
        free(err);
    }
}

static void expect_error(const char *json, size_t len, const char *message)
{
    char *err = NULL;
    assert_null(ocispec_config_parse_data(json, len, &err));
    assert_non_null(err);
    assert_string_equal(err, message);
    free(err);
}

static void test_hostile_documents(void **state)
{
    (void)state;
    char deep[2 * 300 + 1];
    memset(deep, '[', 300);
    memset(deep + 300, ']', 300);
    deep[600] = '\0';
    expect_error(deep, 600, "invalid JSON: nested deeper than 128 levels");
    /* brackets inside strings do not count */
    char many[400];
    int n = snprintf(many, sizeof(many), "{\"ociVersion\":\"%0300d\"}", 0);
    memset(many + 15, '[', 300);
    char *err = NULL;
    ocispec_config *c = ocispec_config_parse_data(many, (size_t)n, &err);
    assert_non_null(c);
    ocispec_config_free(c);
    expect_error("{\"ociVersion\":\"1\"}\0junk", 24, "invalid JSON: NUL byte at offset 18");
    /* only len bytes are read: the text need not be NUL-terminated */
    c = ocispec_config_parse_data("{\"ociVersion\":\"1\"}garbage", 18, &err);
    assert_non_null(c);
    ocispec_config_free(c);
    expect_error(NULL, 0, "invalid JSON: no input");
}

static void test_parse_file_prefixes_path(void **state)
{
    (void)state;
    char dir[] = "/tmp/ocs-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof(path), "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"ociVersion\":\"1\",\"linux\":{\"resources\":{\"memory\":{\"limit\":\"x\"}}}}", f);
    fclose(f);
    char *err = NULL;
    assert_null(ocispec_config_parse_file(path, &err));
    char want[160];
    snprintf(want, sizeof(want), "%s: linux.resources.memory.limit: expected integer, got string", path);
    assert_string_equal(err, want);
    assert_int_equal(errno, EINVAL);
    free(err);
    unlink(path);

    err = NULL;
    assert_null(ocispec_config_parse_file(path, &err));
    snprintf(want, sizeof(want), "%s: No such file or directory", path);
    assert_string_equal(err, want);
    assert_int_equal(errno, ENOENT);
    free(err);

    assert_null(ocispec_config_parse_file(dir, &err));
    snprintf(want, sizeof(want), "%s: read: Is a directory", dir);
    assert_string_equal(err, want);
    free(err);
    rmdir(dir);

    assert_null(ocispec_config_parse_file("/dev/zero", &err));
    assert_string_equal(err, "/dev/zero: larger than 64 MiB");
    assert_int_equal(errno, EFBIG);
    free(err);
}

static void test_err_may_be_null(void **state)
{
    (void)state;
    assert_null(ocispec_config_parse_data("[]", 2, NULL));
    assert_null(ocispec_config_parse_file("/nonexistent/config.json", NULL));
}

static void test_generate_errors(void **state)
{
    (void)state;
    char *err = NULL;
    ocispec_config c = { 0 };
    assert_null(ocispec_config_generate(&c, false, &err));
    assert_string_equal(err, "ociVersion: required field missing");
    free(err);

    ocispec_mount m = { .source = "/x" };
    c.oci_version = "1.3.0";
    c.mounts = &m;
    c.mounts_len = 1;
    assert_null(ocispec_config_generate(&c, false, &err));
    assert_string_equal(err, "mounts[0].destination: required field missing");
    free(err);

    m.destination = "/bad\xff";
    assert_null(ocispec_config_generate(&c, true, &err));
    assert_string_equal(err, "mounts[0].destination: invalid UTF-8 in string");
    free(err);

    m.destination = "/ok";
    char *json = ocispec_config_generate(&c, false, &err);
    assert_non_null(json);
    assert_null(err);
    assert_string_equal(json, "{\"ociVersion\":\"1.3.0\",\"mounts\":[{\"destination\":\"/ok\",\"source\":\"/x\"}]}");
    free(json);

    ocispec_linux lx = { .has_net_devices = true, .net_devices_len = 2 };
    c.linux = &lx;
    assert_null(ocispec_config_generate(&c, false, &err));
    assert_string_equal(err, "linux.netDevices: 2 entries but no array");
    free(err);
    c.linux = NULL;

    assert_null(ocispec_config_generate(NULL, false, &err));
    assert_string_equal(err, "nothing to generate");
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_messages),
        cmocka_unit_test(test_hostile_documents),
        cmocka_unit_test(test_parse_file_prefixes_path),
        cmocka_unit_test(test_err_may_be_null),
        cmocka_unit_test(test_generate_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
