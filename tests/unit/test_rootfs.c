/* Unit tests for the rootfs option language (the recursive attributes
 * that go to mount_setattr, the atime modes), the openat2 fallback, and the
 * console bind from the pty's fd (that one needs root, skipped without). */
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
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "rootfs.h"
#include "syscalls.h"

static void parse(char **opts, size_t n, husk_mount_flags *mf)
{
    husk_error_t err = NULL;
    assert_int_equal(husk_mount_flags_parse(opts, n, mf, &err), 0);
}

static void test_recursive_flags(void **state)
{
    (void) state;
    char *opts[] = { "rbind", "rro", "rnosuid", "rnodev", "rnoexec", "rnosymfollow", "rnodiratime" };
    husk_mount_flags mf;
    parse(opts, sizeof(opts) / sizeof(opts[0]), &mf);
    assert_int_equal(mf.flags, MS_BIND | MS_REC);
    assert_int_equal(mf.attr_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                      MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOSYMFOLLOW |
                                      MOUNT_ATTR_NODIRATIME);
    assert_int_equal(mf.attr_clr, 0);
    assert_null(mf.data);
    husk_mount_flags_free(&mf);
}

static void test_recursive_later_wins(void **state)
{
    (void) state;
    char *opts[] = { "rro", "rrw", "rnosuid", "rsuid", "rdev", "rnodev" };
    husk_mount_flags mf;
    parse(opts, sizeof(opts) / sizeof(opts[0]), &mf);
    assert_int_equal(mf.attr_set, MOUNT_ATTR_NODEV);
    assert_int_equal(mf.attr_clr, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID);
    husk_mount_flags_free(&mf);
}

static void test_recursive_atime(void **state)
{
    (void) state;
    static const struct {
        const char *opt;
        uint64_t set;
    } cases[] = {
        { "rnoatime", MOUNT_ATTR_NOATIME },         { "rstrictatime", MOUNT_ATTR_STRICTATIME },
        { "rrelatime", MOUNT_ATTR_RELATIME },       { "ratime", MOUNT_ATTR_RELATIME },
        { "rnorelatime", MOUNT_ATTR_STRICTATIME },  { "rnostrictatime", MOUNT_ATTR_RELATIME },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* Each follows an rnoatime: the whole atime field is replaced. */
        char *opts[] = { "rnoatime", (char *) cases[i].opt };
        husk_mount_flags mf;
        parse(opts, 2, &mf);
        assert_int_equal(mf.attr_set, cases[i].set);
        assert_int_equal(mf.attr_clr, MOUNT_ATTR__ATIME);
        husk_mount_flags_free(&mf);
    }
}

static void test_plain_options_stay_plain(void **state)
{
    (void) state;
    /* Not recursive attributes: a flag, data, a propagation. */
    char *opts[] = { "nosymfollow", "rw", "rslave", "rfoo=1" };
    husk_mount_flags mf;
    parse(opts, sizeof(opts) / sizeof(opts[0]), &mf);
    assert_int_equal(mf.flags, MS_NOSYMFOLLOW);
    assert_int_equal(mf.propagation, MS_SLAVE | MS_REC);
    assert_int_equal(mf.attr_set | mf.attr_clr, 0);
    assert_string_equal(mf.data, "rfoo=1");
    husk_mount_flags_free(&mf);
}

static void test_atime_later_wins(void **state)
{
    (void) state;
    static const struct {
        const char *opt;
        unsigned long flags;
    } cases[] = {
        { "noatime", MS_NOATIME },         { "strictatime", MS_STRICTATIME },
        { "relatime", MS_RELATIME },       { "norelatime", MS_STRICTATIME },
        { "atime", 0 },                    { "nostrictatime", 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* Each follows a strictatime and a noatime: only the last counts. */
        char *opts[] = { "strictatime", "noatime", (char *) cases[i].opt, "nodiratime" };
        husk_mount_flags mf;
        parse(opts, 4, &mf);
        assert_int_equal(mf.flags, cases[i].flags | MS_NODIRATIME);
        husk_mount_flags_free(&mf);
    }
}

static void test_runtime_options_are_not_data(void **state)
{
    (void) state;
    char *opts[] = { "tmpcopyup", "idmap", "ridmap", "defaults", "size=1m", "bogus" };
    husk_mount_flags mf;
    parse(opts, sizeof(opts) / sizeof(opts[0]), &mf);
    assert_int_equal(mf.flags, 0);
    assert_string_equal(mf.data, "size=1m,bogus");
    husk_mount_flags_free(&mf);
}

/* A hostile tree: symlinks to "/", climbing with "..", absolute ones, a
 * loop, a file in the middle of a path. */
static char tree[64];

static int make_tree(void **state)
{
    (void) state;
    snprintf(tree, sizeof(tree), "/tmp/husk-unit-rootfs.XXXXXX");
    if (mkdtemp(tree) == NULL)
        return -1;
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "cd %s && mkdir -p etc d/e tmp/canary && touch f etc/passwd d/e/g && "
             "ln -s / to-root && ln -s ../../../../.. up && ln -s /etc abs && "
             "ln -s loop loop && ln -s d/e rel && ln -s ../../tmp/canary d/e/back && "
             "ln -s /nonexistent dangling",
             tree);
    return system(cmd) == 0 ? 0 : -1;
}

static int remove_tree(void **state)
{
    (void) state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tree);
    return system(cmd) == 0 ? 0 : -1;
}

/* -errno, or the (dev, ino) of what was opened folded into a number. */
static long long outcome(int fd)
{
    if (fd < 0)
        return -errno;
    struct stat st;
    long long r = fstat(fd, &st) == 0 ? (long long) (st.st_ino ^ (st.st_dev << 40)) : -9999;
    close(fd);
    return r;
}

static long long by_openat2(int root, const char *path, int flags, bool no_symlinks)
{
    struct open_how how = {
        .flags = (uint64_t) (flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
                   (no_symlinks ? RESOLVE_NO_SYMLINKS : 0),
    };
    return outcome(husk_openat2(root, path, &how, sizeof(how)));
}

static void test_fallback_matches_openat2(void **state)
{
    (void) state;
    static const char *const paths[] = {
        "/", "/etc", "/etc/passwd", "/to-root", "/to-root/etc/passwd", "/up", "/up/etc",
        "/abs/passwd", "/loop", "/rel/g", "/d/e/back", "/d/e/back/../../f", "/dangling",
        "/f/x", "/d/../../../../etc", "etc/./passwd", "//d//e/", "/missing/x", "/d/e/..",
    };
    int root = open(tree, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(root >= 0);
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        static const int flag_sets[] = { O_PATH, O_PATH | O_DIRECTORY, O_PATH | O_NOFOLLOW };
        for (size_t k = 0; k < 3; k++)
            for (int nosym = 0; nosym < 2; nosym++) {
                long long want = by_openat2(root, paths[i], flag_sets[k], nosym);
                long long got = outcome(
                    husk_rootfs_resolve_fallback(root, paths[i], flag_sets[k], nosym));
                /* Without openat2 (an old kernel, valgrind) only the
                 * explicit checks below remain. */
                if (want != -ENOSYS && want != got)
                    fail_msg("%s (flags %#x, no_symlinks %d): openat2 %lld, fallback %lld",
                             paths[i], flag_sets[k], nosym, want, got);
            }
    }
    /* And the answers are the confined ones, not just equal ones. */
    int etc = openat(root, "etc", O_PATH | O_CLOEXEC);
    long long etc_id = outcome(etc);
    assert_true(etc_id >= 0);
    assert_true(outcome(husk_rootfs_resolve_fallback(root, "/up/etc", O_PATH, false)) == etc_id);
    assert_true(outcome(husk_rootfs_resolve_fallback(root, "/abs", O_PATH, false)) == etc_id);
    assert_true(outcome(husk_rootfs_resolve_fallback(root, "/loop", O_PATH, false)) == -ELOOP);
    assert_true(outcome(husk_rootfs_resolve_fallback(root, "/abs", O_PATH, true)) == -ELOOP);
    assert_true(outcome(husk_rootfs_resolve_fallback(root, "/dangling", O_PATH, false)) ==
                -ENOENT);
    close(root);
}

/* The magic links of procfs are refused, its plain symlinks followed. */
static void test_fallback_refuses_magic_links(void **state)
{
    (void) state;
    int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(root >= 0);
    static const char *const paths[] = {
        "/proc/self/fd/0", "/proc/self/cwd", "/proc/self/root/etc", "/proc/self/exe",
        "/proc/self/ns/net", "/proc/self/status", "/proc/thread-self/comm", "/proc/mounts",
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        long long want = by_openat2(root, paths[i], O_PATH, false);
        long long got = outcome(husk_rootfs_resolve_fallback(root, paths[i], O_PATH, false));
        if (want != -ENOSYS && want != got)
            fail_msg("%s: openat2 %lld, fallback %lld", paths[i], want, got);
    }
    assert_int_equal(husk_rootfs_resolve_fallback(root, "/proc/self/fd/0", O_PATH, false), -1);
    assert_int_equal(errno, ELOOP);
    assert_true(outcome(husk_rootfs_resolve_fallback(root, "/proc/self/status", O_PATH, false)) >=
                0);
    close(root);
}

/* In a child with its own mount namespace, chrooted into a scratch dir
 * holding /dev: what husk_rootfs_bind_console_fd puts on /dev/console.
 * Exit codes: 0 the pty's peer is there; 2 the planted symlink was
 * followed; 3 the bind failed; 1 anything else. */
static int console_fd_child(const char *dir)
{
    char proc[96];
    snprintf(proc, sizeof(proc), "%s/proc", dir);
    /* The pty is opened in the new mount namespace, as the init does: a
     * mount of another namespace cannot be bound. /proc/self/fd: how husk
     * names the fds it mounts. */
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
        mount("proc", proc, "proc", 0, NULL) < 0)
        return 1;
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || unlockpt(master) < 0)
        return 1;
    int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    int null_fd = open("/dev/null", O_RDONLY);
    if (slave < 0 || null_fd < 0 || chroot(dir) < 0 || chdir("/") < 0)
        return 1;
    husk_error_t err = NULL;
    if (husk_rootfs_bind_console_fd(null_fd, &err) == 0)
        return 1;
    husk_error_free(&err);
    if (symlink("/etc-target", "/dev/console") < 0)
        return 1;
    if (husk_rootfs_bind_console_fd(slave, &err) == 0)
        return 1;
    husk_error_free(&err);
    if (access("/etc-target", F_OK) == 0 || unlink("/dev/console") < 0)
        return 2;
    if (husk_rootfs_bind_console_fd(slave, &err) < 0)
        return 3;
    struct stat want, got;
    if (fstat(slave, &want) < 0 || stat("/dev/console", &got) < 0)
        return 1;
    return want.st_rdev == got.st_rdev && want.st_dev == got.st_dev ? 0 : 1;
}

static void test_console_from_the_peer_fd(void **state)
{
    (void) state;
    if (geteuid() != 0)
        skip();
    char dir[] = "/tmp/husk-console-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char dev[64];
    snprintf(dev, sizeof(dev), "%s/dev", dir);
    assert_int_equal(mkdir(dev, 0755), 0);
    char proc[64];
    snprintf(proc, sizeof(proc), "%s/proc", dir);
    assert_int_equal(mkdir(proc, 0755), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(console_fd_child(dir));
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    char path[96];
    snprintf(path, sizeof(path), "%s/dev/console", dir);
    unlink(path);
    rmdir(dev);
    rmdir(proc);
    rmdir(dir);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recursive_flags),
        cmocka_unit_test(test_recursive_later_wins),
        cmocka_unit_test(test_recursive_atime),
        cmocka_unit_test(test_plain_options_stay_plain),
        cmocka_unit_test(test_atime_later_wins),
        cmocka_unit_test(test_runtime_options_are_not_data),
        cmocka_unit_test_setup_teardown(test_fallback_matches_openat2, make_tree, remove_tree),
        cmocka_unit_test(test_fallback_refuses_magic_links),
        cmocka_unit_test(test_console_from_the_peer_fd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
