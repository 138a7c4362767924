/* Unit tests for src/lib/lsm.c: the host checks (AppArmor's module
 * parameter, a selinuxfs mount) on files of the test's own, the reading of
 * AppArmor's profile list, which mounts take a context and the context=
 * data they get, and husk_lsm_prepare's answers on this host (AppArmor
 * refused or checked, SELinux ignored when off). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lsm.h"
#include "utils.h"

static char tmpdir[] = "/tmp/husk-test-lsm.XXXXXX";

static int make_tmpdir(void **state)
{
    (void) state;
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int remove_tmpdir(void **state)
{
    (void) state;
    char path[128];
    snprintf(path, sizeof(path), "%s/enabled", tmpdir);
    unlink(path);
    return rmdir(tmpdir);
}

static bool apparmor_param_says(const char *content)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/enabled", tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
    return husk_lsm_apparmor_enabled_at(path);
}

static void test_apparmor_enabled_at(void **state)
{
    (void) state;
    assert_true(apparmor_param_says("Y\n"));
    assert_true(apparmor_param_says("Y"));
    assert_false(apparmor_param_says("N\n"));
    assert_false(apparmor_param_says(""));
    assert_false(apparmor_param_says("y\n"));
    assert_false(husk_lsm_apparmor_enabled_at("/nonexistent/husk/enabled"));
}

static void test_selinux_enabled_at(void **state)
{
    (void) state;
    /* A directory that is not a selinuxfs, or nothing at all, is "off". */
    assert_false(husk_lsm_selinux_enabled_at(tmpdir));
    assert_false(husk_lsm_selinux_enabled_at("/proc"));
    assert_false(husk_lsm_selinux_enabled_at("/nonexistent/husk/selinux"));
}

static void test_profile_listed(void **state)
{
    (void) state;
    const char *list = "husk-test-a (enforce)\n"
                       "/usr/bin/man (enforce)\n"
                       "parent//child (complain)\n"
                       "with space (enforce)\n"
                       "husk-test-ab (enforce)";
    assert_true(husk_lsm_apparmor_profile_listed(list, "husk-test-a"));
    assert_true(husk_lsm_apparmor_profile_listed(list, "/usr/bin/man"));
    assert_true(husk_lsm_apparmor_profile_listed(list, "parent//child"));
    assert_true(husk_lsm_apparmor_profile_listed(list, "with space"));
    assert_true(husk_lsm_apparmor_profile_listed(list, "husk-test-ab"));
    /* A prefix of a name, or a name with the mode, is not a name. */
    assert_false(husk_lsm_apparmor_profile_listed(list, "husk-test"));
    assert_false(husk_lsm_apparmor_profile_listed(list, "parent"));
    assert_false(husk_lsm_apparmor_profile_listed(list, "with"));
    assert_false(husk_lsm_apparmor_profile_listed(list, "husk-test-a (enforce)"));
    assert_false(husk_lsm_apparmor_profile_listed(list, "nope"));
    assert_false(husk_lsm_apparmor_profile_listed("", "husk-test-a"));
}

static void test_mount_takes_context(void **state)
{
    (void) state;
    static const struct {
        const char *type;
        bool takes;
    } table[] = {
        { "tmpfs", true },   { "devpts", true }, { "mqueue", true }, { "ramfs", true },
        { "overlay", true }, { "proc", false },  { "sysfs", false }, { "cgroup", false },
        { "cgroup2", false }, { "bind", false }, { "none", false },  { "", false },
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (husk_lsm_mount_takes_context(table[i].type) != table[i].takes)
            fail_msg("%s: expected %d", table[i].type, table[i].takes);
    assert_false(husk_lsm_mount_takes_context(NULL));
}

static void test_format_mount_data(void **state)
{
    (void) state;
    static const struct {
        const char *data, *label, *want;
    } table[] = {
        { NULL, "system_u:object_r:container_file_t:s0",
          "context=\"system_u:object_r:container_file_t:s0\"" },
        { "", "a:b:c:s0", "context=\"a:b:c:s0\"" },
        { "mode=755,size=65536k", "a:b:c:s0",
          "mode=755,size=65536k,context=\"a:b:c:s0\"" },
        /* MCS categories hold commas: the quotes keep them one option. */
        { "mode=1777", "system_u:object_r:container_file_t:s0:c1,c2",
          "mode=1777,context=\"system_u:object_r:container_file_t:s0:c1,c2\"" },
        /* A context the mount sets itself wins. */
        { "context=\"x:y:z:s0\",mode=755", "a:b:c:s0", "context=\"x:y:z:s0\",mode=755" },
        { "mode=755,rootcontext=x:y:z:s0", "a:b:c:s0", "mode=755,rootcontext=x:y:z:s0" },
        /* ...but "context=" inside a quoted value is not an option. */
        { "fsname=\"a,context=b\"", "a:b:c:s0", "fsname=\"a,context=b\",context=\"a:b:c:s0\"" },
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        cleanup_free char *out = NULL;
        husk_error_t err = NULL;
        assert_int_equal(husk_lsm_format_mount_data(table[i].data, table[i].label, &out, &err), 0);
        assert_null(err);
        assert_string_equal(out, table[i].want);
    }

    cleanup_free char *out = NULL;
    husk_error_t err = NULL;
    assert_true(husk_lsm_format_mount_data("mode=755", "a:b\",x=\"y", &out, &err) < 0);
    assert_null(out);
    assert_non_null(strstr(err->msg, "linux.mountLabel"));
    husk_error_free(&err);
}

static void test_mount_data_follows_selinux(void **state)
{
    (void) state;
    husk_error_t err = NULL;
    cleanup_free char *out = NULL;
    /* No label, or a type without a context: nothing to change anywhere. */
    assert_int_equal(husk_lsm_mount_data("tmpfs", "mode=755", NULL, &out, &err), 0);
    assert_null(out);
    assert_int_equal(husk_lsm_mount_data("proc", NULL, "a:b:c:s0", &out, &err), 0);
    assert_null(out);
    assert_int_equal(husk_lsm_mount_data("tmpfs", "mode=755", "a:b:c:s0", &out, &err), 0);
    if (husk_lsm_selinux_enabled())
        assert_string_equal(out, "mode=755,context=\"a:b:c:s0\"");
    else
        assert_null(out); /* a tmpfs without SELinux refuses context= */
}

static int prepare(const char *apparmor, const char *selinux, int *fd, char **msg)
{
    ocispec_process p = { .apparmor_profile = (char *) apparmor, .selinux_label = (char *) selinux };
    husk_error_t err = NULL;
    int r = husk_lsm_prepare(&p, fd, &err);
    *msg = r < 0 ? strdup(err->msg) : NULL;
    husk_error_free(&err);
    return r;
}

static void test_prepare_on_this_host(void **state)
{
    (void) state;
    int fd = 42;
    cleanup_free char *msg = NULL;

    assert_int_equal(prepare(NULL, NULL, &fd, &msg), 0);
    assert_int_equal(fd, -1);
    assert_int_equal(prepare("", "", &fd, &msg), 0);
    assert_int_equal(fd, -1);

    /* A profile no host holds: refused either way, naming the field. */
    assert_true(prepare("husk-test-no-such-profile", NULL, &fd, &msg) < 0);
    assert_int_equal(fd, -1);
    assert_non_null(strstr(msg, "process.apparmorProfile `husk-test-no-such-profile`"));
    if (!husk_lsm_apparmor_enabled())
        assert_non_null(strstr(msg, "AppArmor is not enabled"));
    free(steal_pointer(&msg));

    /* "unconfined" is what a host without AppArmor gives anyway. */
    assert_int_equal(prepare("unconfined", NULL, &fd, &msg), 0);
    if (husk_lsm_apparmor_enabled()) {
        assert_true(fd >= 0);
        close(fd);
    } else {
        assert_int_equal(fd, -1);
    }

    /* An SELinux label needs the procfs only where SELinux is on. */
    assert_int_equal(prepare(NULL, "system_u:system_r:container_t:s0", &fd, &msg), 0);
    if (husk_lsm_selinux_enabled()) {
        assert_true(fd >= 0);
        close(fd);
    } else {
        assert_int_equal(fd, -1);
    }

    /* Nothing to write: nothing happens, and nothing is closed. */
    ocispec_process p = { .apparmor_profile = (char *) "x" };
    husk_error_t err = NULL;
    fd = -1;
    assert_int_equal(husk_lsm_set_exec_labels(&fd, &p, &err), 0);
    assert_null(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apparmor_enabled_at),
        cmocka_unit_test(test_selinux_enabled_at),
        cmocka_unit_test(test_profile_listed),
        cmocka_unit_test(test_mount_takes_context),
        cmocka_unit_test(test_format_mount_data),
        cmocka_unit_test(test_mount_data_follows_selinux),
        cmocka_unit_test(test_prepare_on_this_host),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
