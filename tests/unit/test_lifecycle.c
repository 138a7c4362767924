/* Unit tests for the lifecycle's tables and state store: signal names,
 * container ids, mount options, state.json round trip, RFC 3339 times,
 * /proc/<pid>/stat start times. No root needed. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rootfs.h"
#include "signals.h"
#include "state_store.h"
#include "utils.h"

static void test_signal_names(void **state)
{
    (void) state;
    static const struct {
        const char *text;
        int sig;
    } good[] = {
        { "TERM", SIGTERM }, { "SIGTERM", SIGTERM }, { "term", SIGTERM }, { "sigkill", SIGKILL },
        { "9", SIGKILL },    { "HUP", SIGHUP },      { "SIGUSR2", SIGUSR2 }, { "WINCH", SIGWINCH },
        { "CHLD", SIGCHLD }, { "CLD", SIGCHLD },     { "IOT", SIGABRT },    { "RTMIN", 0 },
        { "RTMIN+2", 0 },    { "SIGRTMAX-1", 0 },
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        husk_error_t err = NULL;
        int sig = -1;
        assert_int_equal(husk_signal_parse(good[i].text, &sig, &err), 0);
        int want = good[i].sig;
        if (strcmp(good[i].text, "RTMIN") == 0)
            want = SIGRTMIN;
        else if (strcmp(good[i].text, "RTMIN+2") == 0)
            want = SIGRTMIN + 2;
        else if (strcmp(good[i].text, "SIGRTMAX-1") == 0)
            want = SIGRTMAX - 1;
        assert_int_equal(sig, want);
        assert_null(err);
    }
    static const char *const bad[] = { "FOO", "SIGFOO", "0", "-1", "", "65", "RTMIN-1",
                                       "RTMAX+1", "TERM ", "1x" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        husk_error_t err = NULL;
        int sig = -1;
        assert_true(husk_signal_parse(bad[i], &sig, &err) < 0);
        assert_non_null(err);
        /* The message names the value (numbers are named as numbers). */
        if (bad[i][0] != '\0' && bad[i][0] != '-' && bad[i][0] != '0' && bad[i][0] != '6')
            assert_non_null(strstr(err->msg, bad[i]));
        husk_error_free(&err);
    }
    assert_string_equal(husk_signal_name(SIGKILL), "KILL");
}

static void test_container_ids(void **state)
{
    (void) state;
    static const char *const good[] = { "a", "abc-DEF_0.9+x", "1", "a..b", "x.y" };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        husk_error_t err = NULL;
        assert_int_equal(husk_store_validate_id(good[i], &err), 0);
    }
    static const char *const bad[] = { "", ".", "..", ".hidden", "a/b", "../x", "a b",
                                       "a\nb", "a:b", "ü" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        husk_error_t err = NULL;
        assert_true(husk_store_validate_id(bad[i], &err) < 0);
        assert_non_null(err);
        char want[32];
        snprintf(want, sizeof(want), "`%s`", bad[i]);
        assert_non_null(strstr(err->msg, want));
        husk_error_free(&err);
    }
}

static void test_mount_options(void **state)
{
    (void) state;
    char *opts[] = { "nosuid", "noexec", "nodev", "ro", "relatime", "mode=755", "size=65536k",
                     "rslave", "strictatime" };
    husk_mount_flags mf;
    husk_error_t err = NULL;
    assert_int_equal(husk_mount_flags_parse(opts, sizeof(opts) / sizeof(opts[0]), &mf, &err), 0);
    /* the atime options are one setting: the later one (strictatime) wins */
    assert_int_equal(mf.flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY | MS_STRICTATIME);
    assert_int_equal(mf.propagation, MS_SLAVE | MS_REC);
    assert_string_equal(mf.data, "mode=755,size=65536k");
    husk_mount_flags_free(&mf);

    /* A later option undoes an earlier one; rbind is bind + recursive;
     * options unknown to the table go to the filesystem as data. */
    char *opts2[] = { "ro", "rw", "rbind", "nosuid", "suid", "newinstance", "ptmxmode=0666" };
    assert_int_equal(husk_mount_flags_parse(opts2, sizeof(opts2) / sizeof(opts2[0]), &mf, &err),
                     0);
    assert_int_equal(mf.flags, MS_BIND | MS_REC);
    assert_int_equal(mf.clear & (MS_RDONLY | MS_NOSUID), MS_RDONLY | MS_NOSUID);
    assert_int_equal(mf.propagation, 0);
    assert_string_equal(mf.data, "newinstance,ptmxmode=0666");
    husk_mount_flags_free(&mf);

    assert_int_equal(husk_mount_flags_parse(NULL, 0, &mf, &err), 0);
    assert_int_equal(mf.flags, 0);
    assert_null(mf.data);
}

static void test_state_record_round_trip(void **state)
{
    (void) state;
    char dir[] = "/tmp/husk-unit-XXXXXX";
    assert_non_null(mkdtemp(dir));
    int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(dfd >= 0);

    char *keys[] = { "org.example/a", "b", NULL };
    char *values[] = { "1", "two \"quoted\"", NULL };
    ocispec_string_map ann = { .keys = keys, .values = values, .len = 2 };
    husk_state_record rec = {
        .id = "c1",
        .pid = 4242,
        .pid_start = 18446744073709551000ULL,
        .bundle = "/b",
        .rootfs = "/b/rootfs",
        .created = "2026-01-02T03:04:05.5Z",
        .owner_uid = 1000,
        .cgroup_path = "/husk-test/c1",
        .cgroup_manager = "cgroupfs",
        .keep_config = true,
        .creating = true,
        .annotations = &ann,
    };
    husk_error_t err = NULL;
    assert_int_equal(husk_state_record_save(dfd, &rec, &err), 0);
    husk_state_record *got = NULL;
    assert_int_equal(husk_state_record_load(dfd, &got, &err), 0);
    assert_string_equal(got->id, "c1");
    assert_int_equal(got->pid, 4242);
    assert_true(got->pid_start == rec.pid_start);
    assert_string_equal(got->bundle, "/b");
    assert_string_equal(got->rootfs, "/b/rootfs");
    assert_string_equal(got->created, rec.created);
    assert_int_equal(got->owner_uid, 1000);
    assert_string_equal(got->cgroup_path, "/husk-test/c1");
    assert_string_equal(got->cgroup_manager, "cgroupfs");
    assert_true(got->keep_config);
    assert_true(got->creating);
    assert_non_null(got->annotations);
    assert_int_equal(got->annotations->len, 2);
    assert_string_equal(got->annotations->keys[0], "org.example/a");
    assert_string_equal(got->annotations->values[1], "two \"quoted\"");
    husk_state_record_free(got);

    /* No state.json: ENOENT (a container still being created). */
    assert_int_equal(unlinkat(dfd, HUSK_STATE_FILE, 0), 0);
    assert_true(husk_state_record_load(dfd, &got, &err) < 0);
    assert_int_equal(err->errno_value, ENOENT);
    husk_error_free(&err);
    close(dfd);
    assert_int_equal(rmdir(dir), 0);
}

static void test_store_reserve_and_remove(void **state)
{
    (void) state;
    char dir[] = "/tmp/husk-unit-XXXXXX";
    assert_non_null(mkdtemp(dir));
    cleanup_free char *root = NULL;
    assert_true(asprintf(&root, "%s/store", dir) > 0);
    husk_store *store = NULL;
    husk_error_t err = NULL;
    assert_int_equal(husk_store_open(root, true, &store, &err), 0);

    husk_container_dir *d = NULL;
    assert_int_equal(husk_store_reserve(store, "x1", &d, &err), 0);
    husk_container_dir *dup = NULL;
    assert_true(husk_store_reserve(store, "x1", &dup, &err) < 0);
    assert_non_null(strstr(err->msg, "`x1` already exists"));
    husk_error_free(&err);

    char **ids = NULL;
    assert_int_equal(husk_store_list_ids(store, &ids, &err), 0);
    assert_string_equal(ids[0], "x1");
    assert_null(ids[1]);
    husk_free_strv(&ids);

    assert_int_equal(husk_store_remove_container(store, d, &err), 0);
    husk_container_dir_free(d);
    husk_container_dir *gone = NULL;
    assert_true(husk_store_open_container(store, "x1", false, &gone, &err) < 0);
    assert_int_equal(err->errno_value, ENOENT);
    husk_error_free(&err);
    husk_store_free(store);

    char lock[256];
    snprintf(lock, sizeof(lock), "%s/.lock", root);
    unlink(lock);
    assert_int_equal(rmdir(root), 0);
    assert_int_equal(rmdir(dir), 0);
}

static void test_rfc3339(void **state)
{
    (void) state;
    cleanup_free char *t = husk_rfc3339_now();
    assert_non_null(t);
    /* 2026-11-28T04:32:37.282185728Z, without trailing zeros in the fraction. */
    assert_true(strlen(t) >= 20);
    assert_int_equal(t[4], '-');
    assert_int_equal(t[10], 'T');
    assert_int_equal(t[strlen(t) - 1], 'Z');
    if (strlen(t) > 20) {
        assert_int_equal(t[19], '.');
        assert_true(t[strlen(t) - 2] != '0');
    }
}

static void test_proc_start_time(void **state)
{
    (void) state;
    uint64_t a = 0, b = 0;
    bool zombie = true;
    husk_error_t err = NULL;
    assert_int_equal(husk_proc_start_time(getpid(), &a, &zombie, &err), 0);
    assert_false(zombie);
    assert_true(a > 0);
    assert_int_equal(husk_proc_start_time(getpid(), &b, NULL, &err), 0);
    assert_true(a == b);

    /* A child that exited but is not reaped is a zombie. */
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    siginfo_t info;
    assert_int_equal(waitid(P_PID, (id_t) child, &info, WEXITED | WNOWAIT), 0);
    assert_int_equal(husk_proc_start_time(child, &b, &zombie, &err), 0);
    assert_true(zombie);
    assert_int_equal(waitpid(child, NULL, 0), child);
    assert_true(husk_proc_start_time(child, &b, &zombie, &err) < 0);
    husk_error_free(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signal_names),
        cmocka_unit_test(test_container_ids),
        cmocka_unit_test(test_mount_options),
        cmocka_unit_test(test_state_record_round_trip),
        cmocka_unit_test(test_store_reserve_and_remove),
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_proc_start_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
