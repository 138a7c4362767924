/* Unit tests for src/lib/namespaces.c and the request side of
 * src/lib/idmap_mount.c: the plan built from linux.namespaces (types,
 * duplicates, paths of the wrong type), id mapping checks, linux.timeOffsets
 * validation and the exact timens_offsets text, a real time namespace made
 * with offsets (in a child, so this process keeps its clocks), and which
 * mounts ask for an idmapped mount. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "idmap_mount.h"
#include "namespaces.h"
#include "syscalls.h"
#include "utils.h"

static ocispec_config *parse(const char *linux_body, const char *mounts)
{
    cleanup_free char *json = NULL;
    assert_true(asprintf(&json,
                         "{\"ociVersion\":\"1.3.0\",\"root\":{\"path\":\"rootfs\"},"
                         "\"process\":{\"args\":[\"true\"],\"cwd\":\"/\"},"
                         "\"mounts\":[%s],\"linux\":{%s}}",
                         mounts ? mounts : "", linux_body) > 0);
    char *perr = NULL;
    ocispec_config *c = ocispec_config_parse_data(json, strlen(json), &perr);
    if (c == NULL)
        fail_msg("parse %s: %s", json, perr);
    return c;
}

/* NULL when the plan builds, else its error message (malloc'd). */
static char *plan_error(const char *linux_body, husk_ns_plan *out)
{
    ocispec_config *c = parse(linux_body, NULL);
    husk_ns_plan plan;
    husk_error_t err = NULL;
    int r = husk_ns_plan_build(c->linux, &plan, &err);
    ocispec_config_free(c);
    if (r == 0) {
        if (out != NULL)
            *out = plan;
        else
            husk_ns_plan_close(&plan);
        return NULL;
    }
    char *msg = strdup(err->msg);
    husk_error_free(&err);
    return msg;
}

#define MNT "{\"type\":\"mount\"}"
#define USER "{\"type\":\"user\"}"
#define MAP(c, h, s) "{\"containerID\":" #c ",\"hostID\":" #h ",\"size\":" #s "}"
#define MAPS "\"uidMappings\":[" MAP(0, 100000, 65536) "],\"gidMappings\":[" MAP(0, 100000, 65536) "]"

static void test_plan_table(void **state)
{
    (void) state;
    static const struct {
        const char *linux_body;
        const char *error; /* a part of the message, or NULL: builds */
    } cases[] = {
        { "\"namespaces\":[" MNT "]", NULL },
        { "\"namespaces\":[]", "a mount namespace is required" },
        { "\"namespaces\":[" MNT ",{\"type\":\"pidx\"}]", "linux.namespaces[1].type: unknown namespace `pidx`" },
        /* a type given twice is refused by the parser (test_ocispec_errors) */
        { "\"namespaces\":[" MNT ",{\"type\":\"ipc\",\"path\":\"/proc/self/ns/net\"}]",
          "linux.namespaces[1]: `/proc/self/ns/net` is not a namespace of that type" },
        { "\"namespaces\":[" MNT ",{\"type\":\"net\",\"path\":\"/nonexistent/ns\"}]", "unknown namespace `net`" },
        { "\"namespaces\":[" MNT ",{\"type\":\"network\",\"path\":\"/nonexistent/ns\"}]",
          "linux.namespaces[1]: open `/nonexistent/ns`" },
        { "\"namespaces\":[" MNT ",{\"type\":\"network\",\"path\":\"/etc/passwd\"}]", "is not a namespace of that type" },
        /* time */
        { "\"namespaces\":[" MNT ",{\"type\":\"time\"}]", NULL },
        { "\"namespaces\":[" MNT ",{\"type\":\"time\",\"path\":\"/proc/self/ns/time\"}]", NULL },
        { "\"namespaces\":[" MNT ",{\"type\":\"time\"}],\"timeOffsets\":{\"boottime\":{\"secs\":86400}}", NULL },
        { "\"namespaces\":[" MNT "],\"timeOffsets\":{\"boottime\":{\"secs\":86400}}",
          "linux.timeOffsets: needs a new time namespace" },
        { "\"namespaces\":[" MNT ",{\"type\":\"time\",\"path\":\"/proc/self/ns/time\"}],"
          "\"timeOffsets\":{\"monotonic\":{\"secs\":1}}", "linux.timeOffsets: needs a new time namespace" },
        { "\"namespaces\":[" MNT ",{\"type\":\"time\"}],\"timeOffsets\":{\"realtime\":{\"secs\":1}}",
          "linux.timeOffsets: unknown clock `realtime`" },
        { "\"namespaces\":[" MNT ",{\"type\":\"time\"}],\"timeOffsets\":{\"monotonic\":{\"nanosecs\":1000000000}}",
          "linux.timeOffsets.monotonic.nanosecs: 1000000000 is not below 1000000000" },
        /* user */
        { "\"namespaces\":[" MNT "," USER "]," MAPS, NULL },
        { "\"namespaces\":[" MNT "]," MAPS, "linux.uidMappings: needs a new user namespace" },
        { "\"namespaces\":[" MNT "],\"gidMappings\":[" MAP(0, 100000, 1) "]", "linux.gidMappings: needs a new user namespace" },
        { "\"namespaces\":[" MNT ",{\"type\":\"user\",\"path\":\"/proc/self/ns/user\"}]," MAPS,
          "linux.uidMappings: needs a new user namespace" },
        { "\"namespaces\":[" MNT "," USER "]", "linux.uidMappings/gidMappings: required with a new user namespace" },
        { "\"namespaces\":[" MNT "," USER "],\"uidMappings\":[" MAP(0, 1, 1) "]", "required with a new user namespace" },
        { "\"namespaces\":[" MNT "," USER "],\"uidMappings\":[" MAP(0, 100000, 10) "," MAP(5, 200000, 10)
          "],\"gidMappings\":[" MAP(0, 1, 1) "]", "linux.uidMappings[0] and linux.uidMappings[1]: their containerID ranges overlap" },
        { "\"namespaces\":[" MNT "," USER "],\"uidMappings\":[" MAP(0, 1, 1) "],\"gidMappings\":["
          MAP(0, 100000, 10) "," MAP(10, 100009, 10) "]", "linux.gidMappings[0] and linux.gidMappings[1]: their hostID ranges overlap" },
        { "\"namespaces\":[" MNT "," USER "],\"uidMappings\":[" MAP(0, 1, 0) "],\"gidMappings\":[" MAP(0, 1, 1) "]",
          "linux.uidMappings[0].size: must be at least 1" },
        { "\"namespaces\":[" MNT "," USER "],\"uidMappings\":[" MAP(4294967290, 1, 10) "],\"gidMappings\":[" MAP(0, 1, 1) "]",
          "linux.uidMappings[0]: containerID 4294967290 + size 10 runs past the id space" },
        { "\"namespaces\":[" MNT "," USER "],\"uidMappings\":[" MAP(0, 4294967000, 1000) "],\"gidMappings\":[" MAP(0, 1, 1) "]",
          "linux.uidMappings[0]: hostID 4294967000 + size 1000 runs past the id space" },
        /* adjacent ranges are fine */
        { "\"namespaces\":[" MNT "," USER "],\"uidMappings\":[" MAP(0, 100000, 10) "," MAP(10, 100010, 10)
          "],\"gidMappings\":[" MAP(0, 1, 1) "]", NULL },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cleanup_free char *msg = plan_error(cases[i].linux_body, NULL);
        if (cases[i].error == NULL && msg != NULL)
            fail_msg("case %zu (%s): unexpected error: %s", i, cases[i].linux_body, msg);
        if (cases[i].error != NULL && (msg == NULL || strstr(msg, cases[i].error) == NULL))
            fail_msg("case %zu (%s): wanted `%s`, got `%s`", i, cases[i].linux_body,
                     cases[i].error, msg ? msg : "(success)");
    }
}

static void test_plan_flags(void **state)
{
    (void) state;
    husk_ns_plan plan;
    cleanup_free char *msg = plan_error(
        "\"namespaces\":[" MNT "," USER ",{\"type\":\"time\"},{\"type\":\"cgroup\"},{\"type\":\"uts\"},"
        "{\"type\":\"network\",\"path\":\"/proc/self/ns/net\"}]," MAPS, &plan);
    assert_null(msg);
    /* time and cgroup are made after clone3, not by its flags */
    assert_int_equal(plan.clone_flags, CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWUTS);
    assert_true(plan.new_user && plan.new_time && plan.unshare_cgroup);
    assert_int_equal(plan.n_join, 1);
    assert_int_equal(plan.join_flag[0], CLONE_NEWNET);
    husk_ns_plan_close(&plan);

    /* a joined user namespace goes first, whatever the order in the config */
    msg = (free(msg), plan_error("\"namespaces\":[" MNT ",{\"type\":\"ipc\",\"path\":\"/proc/self/ns/ipc\"},"
                                 "{\"type\":\"user\",\"path\":\"/proc/self/ns/user\"}]",
                                 &plan));
    assert_null(msg);
    assert_int_equal(plan.n_join, 2);
    assert_int_equal(plan.join_flag[0], CLONE_NEWUSER);
    assert_int_equal(plan.join_flag[1], CLONE_NEWIPC);
    husk_ns_plan_close(&plan);
}

static void test_time_offsets_text(void **state)
{
    (void) state;
    ocispec_config *c = parse("\"timeOffsets\":{\"monotonic\":{\"secs\":-3600,\"nanosecs\":5},"
                              "\"boottime\":{\"secs\":86400}}",
                              NULL);
    char buf[256];
    husk_error_t err = NULL;
    assert_int_equal(husk_ns_format_time_offsets(c->linux, buf, sizeof(buf), &err), 0);
    assert_string_equal(buf, "monotonic -3600 5\nboottime 86400 0\n");
    /* too small a buffer is an error, not a truncated write */
    assert_true(husk_ns_format_time_offsets(c->linux, buf, 10, &err) < 0);
    assert_non_null(strstr(err->msg, "linux.timeOffsets"));
    husk_error_free(&err);
    ocispec_config_free(c);

    c = parse("\"timeOffsets\":{}", NULL);
    assert_int_equal(husk_ns_format_time_offsets(c->linux, buf, sizeof(buf), &err), 0);
    assert_string_equal(buf, "");
    ocispec_config_free(c);
}

static void test_too_many_mappings(void **state)
{
    (void) state;
    ocispec_id_mapping m[341];
    for (size_t i = 0; i < 341; i++)
        m[i] = (ocispec_id_mapping) { .container_id = (uint32_t) i, .host_id = 1000 + (uint32_t) i, .size = 1 };
    husk_error_t err = NULL;
    assert_int_equal(husk_ns_check_id_mappings("x", m, 340, &err), 0);
    assert_true(husk_ns_check_id_mappings("x", m, 341, &err) < 0);
    assert_string_equal(err->msg, "x: 341 ranges, the kernel takes at most 340");
    husk_error_free(&err);
}

static unsigned long long read_uptime_secs(void)
{
    cleanup_free char *text = NULL;
    assert_int_equal(husk_read_file("/proc/uptime", &text, NULL, NULL), 0);
    return strtoull(text, NULL, 10);
}

static ino_t ns_inode(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_ino;
}

/* In a child: a new time namespace with a boottime offset of a day is
 * what a grandchild is born in, and husk's own namespace comes back. */
static void test_time_namespace_for_real(void **state)
{
    (void) state;
    if (geteuid() != 0)
        skip();
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        ocispec_config *c = parse("\"timeOffsets\":{\"boottime\":{\"secs\":86400}}", NULL);
        husk_error_t err = NULL;
        int restore = -1;
        ino_t own = ns_inode("/proc/self/ns/time");
        int prepared = husk_ns_time_prepare(c->linux, &restore, &err);
        /* freed before any fork: a grandchild's exit must not count as a leak */
        ocispec_config_free(c);
        husk_error_free(&err);
        if (prepared < 0)
            _exit(10);
        if (ns_inode("/proc/self/ns/time") != own || ns_inode("/proc/self/ns/time_for_children") == own)
            _exit(11);
        unsigned long long before = read_uptime_secs();
        int pipefd[2];
        if (pipe(pipefd) < 0)
            _exit(12);
        pid_t grandchild = fork();
        if (grandchild == 0) {
            unsigned long long inside = read_uptime_secs();
            _exit(inside >= before + 86400 && inside < before + 86400 + 60 ? 0 : 1);
        }
        int status;
        if (waitpid(grandchild, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            _exit(13);
        if (husk_ns_time_restore(restore, &err) < 0)
            _exit(14);
        if (ns_inode("/proc/self/ns/time_for_children") != own || ns_inode("/proc/self/ns/time") != own)
            _exit(15);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_idmap_request(void **state)
{
    (void) state;
    static const struct {
        const char *mount;
        bool wanted, recursive;
        const char *error;
    } cases[] = {
        { "{\"destination\":\"/a\",\"type\":\"bind\",\"source\":\"/x\",\"options\":[\"rbind\"]}", false, false, NULL },
        { "{\"destination\":\"/a\",\"type\":\"bind\",\"source\":\"/x\",\"options\":[\"rbind\",\"idmap\"]}", true, false, NULL },
        { "{\"destination\":\"/a\",\"type\":\"none\",\"source\":\"/x\",\"options\":[\"bind\",\"ridmap\"]}", true, true, NULL },
        { "{\"destination\":\"/a\",\"source\":\"/x\",\"options\":[\"bind\"],\"uidMappings\":[" MAP(0, 1, 1)
          "],\"gidMappings\":[" MAP(0, 1, 1) "]}", true, false, NULL },
        { "{\"destination\":\"/a\",\"source\":\"/x\",\"options\":[\"bind\"],\"uidMappings\":[" MAP(0, 1, 1) "]}",
          true, false, "mounts[0]: uidMappings given without gidMappings" },
        { "{\"destination\":\"/a\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"idmap\"]}", true, false,
          "mounts[0]: `idmap`: only for bind mounts, not type `tmpfs` (on `/a`)" },
        { "{\"destination\":\"/a\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"uidMappings\":[" MAP(0, 1, 1)
          "],\"gidMappings\":[" MAP(0, 1, 1) "]}", true, false, "uidMappings/gidMappings: only for bind mounts" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ocispec_config *c = parse("", cases[i].mount);
        bool wanted = false, recursive = false;
        husk_error_t err = NULL;
        int r = husk_idmap_mount_request(&c->mounts[0], 0, &wanted, &recursive, &err);
        if (cases[i].error != NULL) {
            if (r == 0 || strstr(err->msg, cases[i].error) == NULL)
                fail_msg("case %zu: wanted `%s`, got `%s`", i, cases[i].error, r == 0 ? "(success)" : err->msg);
        } else {
            if (r != 0)
                fail_msg("case %zu: unexpected error %s", i, err->msg);
            assert_int_equal(wanted, cases[i].wanted);
            assert_int_equal(recursive, cases[i].recursive);
        }
        husk_error_free(&err);
        ocispec_config_free(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_table),
        cmocka_unit_test(test_plan_flags),
        cmocka_unit_test(test_time_offsets_text),
        cmocka_unit_test(test_too_many_mappings),
        cmocka_unit_test(test_time_namespace_for_real),
        cmocka_unit_test(test_idmap_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
