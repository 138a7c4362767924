/* Unit tests for src/lib/terminal.c: ptys, fd passing, the console socket
 * and the foreground proxy primitives. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "terminal.h"
#include "utils.h"

static bool fd_is_cloexec(int fd)
{
    int flags = fcntl(fd, F_GETFD);
    assert_true(flags >= 0);
    return (flags & FD_CLOEXEC) != 0;
}

/* Reads until `want` bytes arrived or 2 s passed. */
static size_t read_some(int fd, char *buf, size_t want)
{
    size_t got = 0;
    while (got < want) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 2000) <= 0)
            break;
        ssize_t n = read(fd, buf + got, want - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    return got;
}

static void open_pty(int *m, int *s)
{
    husk_error_t err = NULL;
    assert_int_equal(husk_terminal_open_pty(m, s, &err), 0);
    assert_null(err);
}

static void test_pty_round_trip(void **state)
{
    (void)state;
    int m, s;
    open_pty(&m, &s);
    assert_true(fd_is_cloexec(m));
    assert_true(fd_is_cloexec(s));
    assert_true(isatty(s));

    /* raw, so that the line discipline neither echoes nor waits for \n */
    struct termios t;
    assert_int_equal(tcgetattr(s, &t), 0);
    cfmakeraw(&t);
    assert_int_equal(tcsetattr(s, TCSANOW, &t), 0);

    char buf[64];
    assert_int_equal(write(m, "to-slave", 8), 8);
    assert_int_equal(read_some(s, buf, 8), 8);
    assert_string_equal(buf, "to-slave");
    assert_int_equal(write(s, "to-master", 9), 9);
    assert_int_equal(read_some(m, buf, 9), 9);
    assert_string_equal(buf, "to-master");

    /* the name names the same device as the peer fd */
    cleanup_free char *name = NULL;
    husk_error_t err = NULL;
    assert_int_equal(husk_terminal_pty_name(m, &name, &err), 0);
    assert_true(strncmp(name, "/dev/pts/", 9) == 0);
    struct stat a, b;
    assert_int_equal(stat(name, &a), 0);
    assert_int_equal(fstat(s, &b), 0);
    assert_true(a.st_rdev == b.st_rdev);
    close(m);
    close(s);
}

static void test_make_controlling(void **state)
{
    (void)state;
    int m, s;
    open_pty(&m, &s);
    cleanup_free char *name = NULL;
    husk_error_t err = NULL;
    assert_int_equal(husk_terminal_pty_name(m, &name, &err), 0);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        husk_error_t cerr = NULL;
        if (husk_terminal_make_controlling(s, &cerr) < 0)
            _exit(10);
        for (int fd = 0; fd <= 2; fd++) {
            const char *tty = ttyname(fd);
            if (tty == NULL || strcmp(tty, name) != 0)
                _exit(11 + fd);
            if (fcntl(fd, F_GETFD) & FD_CLOEXEC)
                _exit(14);
        }
        pid_t sid = -1; /* initialised: valgrind does not model TIOCGSID */
        if (ioctl(0, TIOCGSID, &sid) < 0 || sid != getpid() || getsid(0) != getpid())
            _exit(15);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    close(m);
    close(s);
}

static void test_set_size(void **state)
{
    (void)state;
    int m, s;
    open_pty(&m, &s);
    husk_error_t err = NULL;
    assert_int_equal(husk_terminal_set_size(m, 37, 121, &err), 0);
    struct winsize ws;
    assert_int_equal(ioctl(s, TIOCGWINSZ, &ws), 0);
    assert_int_equal(ws.ws_row, 37);
    assert_int_equal(ws.ws_col, 121);

    int m2, s2;
    open_pty(&m2, &s2);
    assert_int_equal(husk_terminal_copy_size(s, m2), 0);
    assert_int_equal(ioctl(s2, TIOCGWINSZ, &ws), 0);
    assert_int_equal(ws.ws_row, 37);
    assert_int_equal(ws.ws_col, 121);

    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_true(husk_terminal_set_size(p[0], 1, 1, &err) < 0);
    assert_non_null(strstr(err->msg, "1x1"));
    husk_error_free(&err);
    assert_int_equal(husk_terminal_copy_size(p[0], m2), -1);
    close(p[0]);
    close(p[1]);
    close(m);
    close(s);
    close(m2);
    close(s2);
}

static void test_send_recv_fd(void **state)
{
    (void)state;
    int sv[2], p[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(pipe(p), 0);

    husk_error_t err = NULL;
    assert_int_equal(husk_terminal_send_fd(sv[0], p[1], "the-pipe", &err), 0);
    close(p[1]);

    int got = -1;
    assert_int_equal(husk_terminal_recv_fd(sv[1], &got, &err), 0);
    assert_true(got >= 0);
    assert_true(fd_is_cloexec(got));
    assert_int_equal(write(got, "via-scm", 7), 7);
    close(got);
    char buf[16];
    assert_int_equal(read_some(p[0], buf, sizeof(buf) - 1), 7);
    assert_string_equal(buf, "via-scm");
    close(p[0]);

    /* a message without an fd, then EOF, are both errors */
    assert_int_equal(write(sv[0], "x", 1), 1);
    assert_true(husk_terminal_recv_fd(sv[1], &got, &err) < 0);
    assert_non_null(strstr(err->msg, "no fd"));
    husk_error_free(&err);
    close(sv[0]);
    assert_true(husk_terminal_recv_fd(sv[1], &got, &err) < 0);
    assert_non_null(strstr(err->msg, "closed"));
    husk_error_free(&err);
    close(sv[1]);
}

static int listen_on(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    strcpy(addr.sun_path, path);
    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(sock >= 0);
    assert_int_equal(bind(sock, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(listen(sock, 1), 0);
    return sock;
}

static void test_console_socket(void **state)
{
    (void)state;
    char dir[] = "/tmp/husk-test-console.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/console.sock", dir);
    int listener = listen_on(path);

    int m, s;
    open_pty(&m, &s);
    husk_error_t err = NULL;
    assert_int_equal(husk_terminal_send_to_console_socket(path, m, &err), 0);
    assert_null(err);

    int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    assert_true(conn >= 0);
    int got = -1;
    assert_int_equal(husk_terminal_recv_fd(conn, &got, &err), 0);

    /* what the receiver writes to its master comes out of our peer */
    struct termios t;
    assert_int_equal(tcgetattr(s, &t), 0);
    cfmakeraw(&t);
    assert_int_equal(tcsetattr(s, TCSANOW, &t), 0);
    assert_int_equal(write(got, "hi", 2), 2);
    char buf[8];
    assert_int_equal(read_some(s, buf, 2), 2);
    assert_string_equal(buf, "hi");

    close(got);
    close(conn);
    close(listener);
    unlink(path);

    /* nobody listening: the error names the socket */
    assert_true(husk_terminal_send_to_console_socket(path, m, &err) < 0);
    assert_non_null(strstr(err->msg, path));
    husk_error_free(&err);
    rmdir(dir);
    close(m);
    close(s);
}

static void test_raw_mode_restore(void **state)
{
    (void)state;
    int m, s;
    open_pty(&m, &s);
    struct termios saved, now;
    husk_error_t err = NULL;
    assert_int_equal(tcgetattr(s, &now), 0);
    assert_true(now.c_lflag & ICANON);

    assert_int_equal(husk_terminal_raw_mode(s, &saved, &err), 0);
    assert_int_equal(tcgetattr(s, &now), 0);
    assert_false(now.c_lflag & (ICANON | ECHO | ISIG));
    assert_true(saved.c_lflag & ICANON);

    assert_int_equal(husk_terminal_restore(s, &saved), 0);
    assert_int_equal(tcgetattr(s, &now), 0);
    assert_true(now.c_lflag & ICANON);
    assert_true(now.c_lflag & ECHO);

    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_true(husk_terminal_raw_mode(p[0], &saved, &err) < 0);
    assert_non_null(err);
    husk_error_free(&err);
    close(p[0]);
    close(p[1]);
    close(m);
    close(s);
}

static void test_pump(void **state)
{
    (void)state;
    int in[2], out[2];
    assert_int_equal(pipe2(in, O_NONBLOCK), 0);
    assert_int_equal(pipe(out), 0);

    errno = 0;
    assert_int_equal(husk_terminal_pump(in[0], out[1]), -1);
    assert_int_equal(errno, EAGAIN);

    assert_int_equal(write(in[1], "abcdef", 6), 6);
    assert_int_equal(husk_terminal_pump(in[0], out[1]), 6);
    char buf[16];
    assert_int_equal(read_some(out[0], buf, 6), 6);
    assert_string_equal(buf, "abcdef");

    close(in[1]);
    errno = EAGAIN; /* stale from an earlier call: EOF must clear it */
    assert_int_equal(husk_terminal_pump(in[0], out[1]), 0);
    assert_int_equal(errno, 0);
    close(in[0]);
    close(out[0]);
    close(out[1]);

    /* a master whose peer is gone reads EIO: reported as end of input */
    int m, s, p[2];
    open_pty(&m, &s);
    assert_int_equal(pipe(p), 0);
    close(s);
    assert_int_equal(husk_terminal_pump(m, p[1]), 0);
    assert_int_equal(errno, 0);
    close(m);
    close(p[0]);
    close(p[1]);
}

/* A write larger than the pipe buffer to a non-blocking target must not
 * lose data: pump waits for the reader. */
static void test_pump_full_target(void **state)
{
    (void)state;
    enum { SIZE = 60000 };
    int in[2], out[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, in), 0);
    assert_int_equal(pipe2(out, O_NONBLOCK), 0);
    assert_int_equal(fcntl(out[1], F_SETPIPE_SZ, 4096), 4096);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* a slow reader that counts */
        close(in[0]);
        close(in[1]);
        close(out[1]);
        fcntl(out[0], F_SETFL, 0);
        size_t total = 0;
        char buf[1024];
        ssize_t n;
        while ((n = read(out[0], buf, sizeof(buf))) > 0) {
            total += (size_t)n;
            usleep(100);
        }
        _exit(total == SIZE ? 0 : 1);
    }
    close(out[0]);
    static char data[SIZE];
    memset(data, 'x', sizeof(data));
    assert_int_equal(write(in[1], data, sizeof(data)), SIZE);
    close(in[1]);
    size_t moved = 0;
    int n;
    while ((n = husk_terminal_pump(in[0], out[1])) > 0)
        moved += (size_t)n;
    assert_int_equal(n, 0);
    assert_int_equal(moved, SIZE);
    close(out[1]);
    close(in[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pty_round_trip),
        cmocka_unit_test(test_make_controlling),
        cmocka_unit_test(test_set_size),
        cmocka_unit_test(test_send_recv_fd),
        cmocka_unit_test(test_console_socket),
        cmocka_unit_test(test_raw_mode_restore),
        cmocka_unit_test(test_pump),
        cmocka_unit_test(test_pump_full_target),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
