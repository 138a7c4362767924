/* recvtty: a console-socket receiver for tests, standing in for conmon or
 * containerd's shim.
 *
 *   recvtty [-m copy|print|hold] [-n NAME_FILE] [-i INPUT] SOCKET_PATH
 *
 * Listens on SOCKET_PATH (made ready atomically: bound under a temporary
 * name, listening, then renamed, so that a test can wait for the path to
 * appear), accepts one connection, receives one fd over SCM_RIGHTS (the
 * pty master) and then, by mode:
 *   copy  (default) copies the master to stdout and stdin to the master;
 *   print           copies the master to stdout only;
 *   hold            holds the fd open without reading it until killed.
 * -n writes the message's payload (the pty name the sender gave) to a file;
 * -i writes INPUT to the master once it has arrived.
 * Exits 0 when the master reports end of input (EIO: the container side of
 * the pty is closed, i.e. the container exited), 1 on errors.
 *
 * The fd is received with plain recvmsg() rather than husk's own
 * husk_terminal_recv_fd, so that the protocol is checked from the outside.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum mode { MODE_COPY, MODE_PRINT, MODE_HOLD };

static void die(const char *what)
{
    fprintf(stderr, "recvtty: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int listen_ready(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    char tmp[sizeof(addr.sun_path)];
    if (snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid()) >= (int)sizeof(tmp)) {
        errno = ENAMETOOLONG;
        die(path);
    }
    strcpy(addr.sun_path, tmp);
    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0)
        die("socket");
    unlink(tmp);
    if (bind(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
        die(tmp);
    if (listen(sock, 1) < 0)
        die("listen");
    if (rename(tmp, path) < 0)
        die(path);
    return sock;
}

/* Receives the first fd of one message; the payload goes to *name. */
static int receive_fd(int conn, char *name, size_t name_size)
{
    struct iovec iov = { .iov_base = name, .iov_len = name_size - 1 };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    struct msghdr msg = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control.buf,
        .msg_controllen = sizeof(control.buf),
    };
    ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0)
        die("recvmsg");
    name[n] = '\0';
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (c == NULL || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
        fprintf(stderr, "recvtty: message carried no fd (%zd data bytes)\n", n);
        exit(1);
    }
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof(fd));
    return fd;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Returns 1 to go on, 0 at end of input. */
static int copy_once(int from, int to)
{
    char buf[4096];
    ssize_t n = read(from, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
        return 1;
    if (n <= 0)
        return 0; /* EOF, or EIO from a master whose peer is gone */
    if (write_all(to, buf, (size_t)n) < 0)
        die("write");
    return 1;
}

static void proxy(int master, enum mode mode)
{
    bool stdin_open = mode == MODE_COPY;
    for (;;) {
        struct pollfd p[2] = {
            { .fd = master, .events = POLLIN },
            { .fd = stdin_open ? 0 : -1, .events = POLLIN },
        };
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            die("poll");
        }
        if (p[0].revents && !copy_once(master, 1))
            return;
        if (p[1].revents && !copy_once(0, master))
            stdin_open = false;
    }
}

int main(int argc, char **argv)
{
    enum mode mode = MODE_COPY;
    const char *name_file = NULL, *input = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "m:n:i:")) != -1) {
        switch (opt) {
        case 'm':
            if (strcmp(optarg, "copy") == 0)
                mode = MODE_COPY;
            else if (strcmp(optarg, "print") == 0)
                mode = MODE_PRINT;
            else if (strcmp(optarg, "hold") == 0)
                mode = MODE_HOLD;
            else
                goto usage;
            break;
        case 'n':
            name_file = optarg;
            break;
        case 'i':
            input = optarg;
            break;
        default:
            goto usage;
        }
    }
    if (optind != argc - 1)
        goto usage;

    signal(SIGPIPE, SIG_IGN);
    int sock = listen_ready(argv[optind]);
    int conn;
    do
        conn = accept4(sock, NULL, NULL, SOCK_CLOEXEC);
    while (conn < 0 && errno == EINTR);
    if (conn < 0)
        die("accept");
    char name[4096];
    int master = receive_fd(conn, name, sizeof(name));
    close(conn);
    close(sock);
    unlink(argv[optind]);

    if (name_file != NULL) {
        FILE *f = fopen(name_file, "w");
        if (f == NULL || fprintf(f, "%s\n", name) < 0 || fclose(f) != 0)
            die(name_file);
    }
    if (input != NULL && write_all(master, input, strlen(input)) < 0)
        die("write input");

    if (mode == MODE_HOLD) {
        for (;;)
            pause();
    }
    proxy(master, mode);
    return 0;

usage:
    fprintf(stderr, "usage: recvtty [-m copy|print|hold] [-n NAME_FILE] [-i INPUT] SOCKET_PATH\n");
    return 2;
}
