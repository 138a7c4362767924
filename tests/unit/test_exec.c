/* Unit tests for src/lib/exec.c: --user resolution against the container's
 * passwd and group files (numbers, names, defaults, and names that are not
 * there); what exec reads of the container to choose its session keyring
 * (the state record's noNewKeyring, the keyring's name). */
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
#include <unistd.h>

#include "exec.h"
#include "process.h"
#include "state_store.h"

static const char *passwd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "# a comment:x:5:5\n"
    "alice:x:1234:2345::/home/alice:/bin/sh\n"
    "broken:x:notanumber:1::/:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
static const char *group =
    "root:x:0:\n"
    "staff:x:50:alice\n"
    "nogroup:x:65534:\n";

static void resolves(const char *spec, unsigned int want_uid, unsigned int want_gid)
{
    husk_error_t err = NULL;
    unsigned int uid = 99, gid = 99;
    int r = husk_exec_resolve_user(spec, passwd, group, &uid, &gid, &err);
    if (r < 0)
        fail_msg("%s: %s", spec, err->msg);
    assert_int_equal(uid, want_uid);
    assert_int_equal(gid, want_gid);
}

static void refused(const char *spec, int want_errno, const char *want_text)
{
    husk_error_t err = NULL;
    unsigned int uid = 99, gid = 99;
    assert_true(husk_exec_resolve_user(spec, passwd, group, &uid, &gid, &err) < 0);
    assert_non_null(err);
    assert_int_equal(err->errno_value, want_errno);
    if (strstr(err->msg, want_text) == NULL)
        fail_msg("%s: message `%s` lacks `%s`", spec, err->msg, want_text);
    assert_int_equal(uid, 99);
    husk_error_free(&err);
}

static void test_numeric(void **state)
{
    (void) state;
    resolves("0", 0, 0);
    resolves("1234", 1234, 2345);  /* gid from its passwd entry */
    resolves("1000", 1000, 0);     /* not in passwd: gid 0 */
    resolves("1000:1001", 1000, 1001);
    resolves("1234:0", 1234, 0);
}

static void test_names(void **state)
{
    (void) state;
    resolves("alice", 1234, 2345);
    resolves("alice:staff", 1234, 50);
    resolves("1000:staff", 1000, 50);
    resolves("nobody:65534", 65534, 65534);
}

static void test_refused(void **state)
{
    (void) state;
    refused("bob", ENOENT, "no user `bob` in the container's /etc/passwd");
    refused("alice:wheel", ENOENT, "no group `wheel` in the container's /etc/group");
    refused("broken", ENOENT, "no user `broken`");
    refused("", EINVAL, "want UID[:GID]");
    refused("alice:", EINVAL, "want UID[:GID]");
    refused(":5", EINVAL, "want UID[:GID]");
    refused("99999999999", EINVAL, "out of range");
}

static void test_no_files(void **state)
{
    (void) state;
    husk_error_t err = NULL;
    unsigned int uid = 0, gid = 0;
    assert_int_equal(husk_exec_resolve_user("7:8", NULL, NULL, &uid, &gid, &err), 0);
    assert_int_equal(uid, 7);
    assert_int_equal(gid, 8);
    assert_true(husk_exec_resolve_user("root", NULL, NULL, &uid, &gid, &err) < 0);
    husk_error_free(&err);
}

static void test_user_groups(void **state)
{
    (void) state;
    husk_error_t err = NULL;
    const char *grp = "root:x:0:\nstaff:x:50:bob,alice\nwheel:x:10:alice\nother:x:60:bob\n"
                      "dup:x:7:alice\n";
    uint32_t *gids = calloc(1, sizeof(uint32_t));
    size_t n = 1;
    gids[0] = 7; /* given before (--additional-gids): kept, not repeated */
    assert_int_equal(husk_exec_user_groups("alice", passwd, grp, 1234, &gids, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(gids[0], 7);
    assert_int_equal(gids[1], 50);
    assert_int_equal(gids[2], 10);
    /* numeric: the passwd name of the uid */
    n = 0;
    assert_int_equal(husk_exec_user_groups("1234:0", passwd, grp, 1234, &gids, &n, &err), 0);
    assert_int_equal(n, 3);
    /* a uid without a passwd entry has no groups */
    n = 0;
    assert_int_equal(husk_exec_user_groups("4321", passwd, grp, 4321, &gids, &n, &err), 0);
    assert_int_equal(n, 0);
    free(gids);
}

/* The record keeps noNewKeyring either way; a record written before the
 * field existed reads as false (the init did make a keyring). */
static void test_record_no_new_keyring(void **state)
{
    (void) state;
    char dir[] = "/tmp/husk-unit-exec-XXXXXX";
    assert_non_null(mkdtemp(dir));
    int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(dfd >= 0);
    husk_error_t err = NULL;
    for (int want = 0; want <= 1; want++) {
        husk_state_record rec = { .id = "c1", .pid = 1, .bundle = "/b", .no_new_keyring = want };
        assert_int_equal(husk_state_record_save(dfd, &rec, &err), 0);
        husk_state_record *got = NULL;
        assert_int_equal(husk_state_record_load(dfd, &got, &err), 0);
        assert_int_equal(got->no_new_keyring, want);
        husk_state_record_free(got);
    }
    char path[64];
    snprintf(path, sizeof(path), "%s/%s", dir, HUSK_STATE_FILE);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"id\": \"c1\", \"pid\": 1, \"bundle\": \"/b\"}", f);
    fclose(f);
    husk_state_record *old = NULL;
    assert_int_equal(husk_state_record_load(dfd, &old, &err), 0);
    assert_false(old->no_new_keyring);
    husk_state_record_free(old);
    assert_int_equal(unlink(path), 0);
    close(dfd);
    assert_int_equal(rmdir(dir), 0);
}

/* init and exec must agree on the name; long ids are cut, not overflowed. */
static void test_keyring_name(void **state)
{
    (void) state;
    char name[HUSK_SESSION_KEYRING_NAME_MAX];
    husk_process_session_keyring_name("web-1", 4321, name, sizeof(name));
    assert_string_equal(name, "_ses.web-1.4321");
    char long_id[1024];
    memset(long_id, 'a', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    husk_process_session_keyring_name(long_id, 2147483647, name, sizeof(name));
    assert_int_equal(strlen(name), 5 + 250 + 11);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numeric),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_no_files),
        cmocka_unit_test(test_user_groups),
        cmocka_unit_test(test_record_no_new_keyring),
        cmocka_unit_test(test_keyring_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
