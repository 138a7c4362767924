#define _GNU_SOURCE
#include "terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "utils.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* Opens the peer through the master itself (Linux 4.13), immune to a
 * /dev/pts that is not the devpts instance the master came from. Returns -1
 * with errno ENOTTY/EINVAL on kernels without it. */
static int open_peer_by_ioctl(int master)
{
    return ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
}

static int open_peer_by_name(int master, husk_error_t *err)
{
    char name[64];
    int r = ptsname_r(master, name, sizeof(name));
    if (r != 0)
        return husk_error_set(err, r, "open pty peer: ptsname");
    int fd = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return husk_error_set(err, errno, "open pty peer \"%s\"", name);
    return fd;
}

int husk_terminal_open_pty(int *master, int *slave, husk_error_t *err)
{
    cleanup_close int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0)
        return husk_error_set(err, errno, "open \"/dev/ptmx\"");
    if (unlockpt(m) < 0)
        return husk_error_set(err, errno, "unlock pty from \"/dev/ptmx\"");

    int s = open_peer_by_ioctl(m);
    if (s < 0) {
        if (errno != ENOTTY && errno != EINVAL)
            return husk_error_set(err, errno, "open pty peer: TIOCGPTPEER");
        s = open_peer_by_name(m, err);
        if (s < 0)
            return s;
    }
    *master = steal_fd(&m);
    *slave = s;
    return 0;
}

int husk_terminal_pty_name(int master, char **name, husk_error_t *err)
{
    char buf[64];
    int r = ptsname_r(master, buf, sizeof(buf));
    if (r != 0)
        return husk_error_set(err, r, "name of pty fd %d", master);
    *name = strdup(buf);
    if (*name == NULL)
        return husk_error_set(err, ENOMEM, "name of pty fd %d", master);
    return 0;
}

int husk_terminal_make_controlling(int slave, husk_error_t *err)
{
    /* EPERM: already a process-group leader; fine only when that group is
     * also the session, i.e. we already lead a session of our own. */
    if (setsid() < 0 && !(errno == EPERM && getsid(0) == getpid()))
        return husk_error_set(err, errno, "make the terminal controlling: setsid");
    if (ioctl(slave, TIOCSCTTY, 0) < 0)
        return husk_error_set(err, errno, "make the terminal controlling: TIOCSCTTY");
    for (int target = 0; target <= 2; target++) {
        if (slave == target) {
            /* dup2 onto itself keeps FD_CLOEXEC; the exec must not close it */
            int flags = fcntl(slave, F_GETFD);
            if (flags < 0 || fcntl(slave, F_SETFD, flags & ~FD_CLOEXEC) < 0)
                return husk_error_set(err, errno, "terminal onto fd %d", target);
        } else if (dup2(slave, target) < 0) {
            return husk_error_set(err, errno, "terminal onto fd %d", target);
        }
    }
    return 0;
}

int husk_terminal_set_size(int fd, unsigned short rows, unsigned short cols,
                           husk_error_t *err)
{
    struct winsize ws = { .ws_row = rows, .ws_col = cols };
    if (ioctl(fd, TIOCSWINSZ, &ws) < 0)
        return husk_error_set(err, errno, "set terminal size to %ux%u", rows, cols);
    return 0;
}

int husk_terminal_open_sized_pty(const ocispec_console_size *size, int *master, int *slave,
                                 char **name, husk_error_t *err)
{
    cleanup_close int m = -1;
    cleanup_close int s = -1;
    if (husk_terminal_open_pty(&m, &s, err) < 0)
        return -1;
    cleanup_free char *n = NULL;
    if (husk_terminal_pty_name(m, &n, err) < 0)
        return -1;
    if (size != NULL &&
        husk_terminal_set_size(m, (unsigned short) size->height, (unsigned short) size->width,
                               err) < 0)
        return husk_error_wrap(err, "process.consoleSize");
    *master = steal_fd(&m);
    *slave = steal_fd(&s);
    *name = steal_pointer(&n);
    return 0;
}

/* ---- passing fds over AF_UNIX ---- */

int husk_send_fd_with_data(int sock, int fd, const void *data, size_t len, husk_error_t *err)
{
    /* SCM_RIGHTS needs at least one data byte to travel with */
    if (len == 0)
        return husk_error_set(err, EINVAL, "send fd %d over socket: no data to carry it", fd);
    struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof(control));
    struct msghdr msg = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control.buf,
        .msg_controllen = sizeof(control.buf),
    };
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));

    ssize_t n;
    do
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return husk_error_set(err, errno, "send fd %d over socket", fd);
    /* a stream socket may take less at once: the rest goes without the fd */
    const char *rest = data;
    while ((size_t)n < len) {
        ssize_t m = send(sock, rest + n, len - (size_t)n, MSG_NOSIGNAL);
        if (m < 0 && errno == EINTR)
            continue;
        if (m < 0)
            return husk_error_set(err, errno, "send the data that goes with fd %d", fd);
        n += m;
    }
    return 0;
}

int husk_terminal_send_fd(int sock, int fd, const char *payload, husk_error_t *err)
{
    if (payload == NULL)
        payload = "";
    /* the NUL terminator goes along, so even "" carries the fd */
    return husk_send_fd_with_data(sock, fd, payload, strlen(payload) + 1, err);
}

/* Takes the first fd of the message and closes any others, so that a
 * misbehaving sender cannot make us leak fds. */
static int take_first_fd(struct msghdr *msg)
{
    int found = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (found < 0)
                found = fd;
            else
                close(fd);
        }
    }
    return found;
}

int husk_terminal_recv_fd(int sock, int *fd, husk_error_t *err)
{
    char data[4096];
    struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
    union {
        char buf[CMSG_SPACE(sizeof(int) * 4)];
        struct cmsghdr align;
    } control;
    struct msghdr msg = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control.buf,
        .msg_controllen = sizeof(control.buf),
    };

    ssize_t n;
    do
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return husk_error_set(err, errno, "receive fd over socket");

    int got = take_first_fd(&msg);
    if (got < 0) {
        if (n == 0)
            return husk_error_set(err, 0, "receive fd over socket: peer closed the socket");
        return husk_error_set(err, 0, "receive fd over socket: message carried no fd%s",
                              (msg.msg_flags & MSG_CTRUNC) ? " (control data truncated)" : "");
    }
    *fd = got;
    return 0;
}

int husk_terminal_send_to_console_socket(const char *path, int master, husk_error_t *err)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(addr.sun_path))
        return husk_error_set(err, ENAMETOOLONG, "console socket \"%s\"", path);
    strcpy(addr.sun_path, path);

    cleanup_close int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0)
        return husk_error_set(err, errno, "console socket \"%s\": socket", path);
    int r;
    do
        r = connect(sock, (struct sockaddr *)&addr, sizeof(addr));
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return husk_error_set(err, errno, "connect to console socket \"%s\"", path);

    cleanup_free char *name = NULL;
    husk_error_t name_err = NULL;
    if (husk_terminal_pty_name(master, &name, &name_err) < 0)
        husk_error_free(&name_err); /* the name is informative only */
    if (husk_terminal_send_fd(sock, master, name != NULL ? name : "/dev/ptmx", err) < 0)
        return husk_error_wrap(err, "console socket \"%s\"", path);
    return 0;
}

/* ---- foreground proxy ---- */

int husk_terminal_raw_mode(int fd, struct termios *saved, husk_error_t *err)
{
    if (tcgetattr(fd, saved) < 0)
        return husk_error_set(err, errno, "read terminal settings of fd %d", fd);
    struct termios raw = *saved;
    cfmakeraw(&raw);
    int r;
    do
        r = tcsetattr(fd, TCSADRAIN, &raw);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return husk_error_set(err, errno, "set raw mode on fd %d", fd);
    return 0;
}

int husk_terminal_restore(int fd, const struct termios *saved)
{
    int r;
    do
        r = tcsetattr(fd, TCSADRAIN, saved);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -1 : 0;
}

static int wait_writable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    int r;
    do
        r = poll(&p, 1, -1);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -1 : 0;
}

static int write_all_waiting(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN && wait_writable(fd) == 0)
                continue;
            return -1;
        }
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

int husk_terminal_pump(int from, int to)
{
    char buf[65536];
    ssize_t n;
    do
        n = read(from, buf, sizeof(buf));
    while (n < 0 && errno == EINTR);
    if (n == 0 || (n < 0 && errno == EIO)) {
        errno = 0; /* so that "<= 0 && errno != EAGAIN" reads as the end */
        return 0;
    }
    if (n < 0)
        return -1;
    if (write_all_waiting(to, buf, (size_t)n) < 0)
        return -1;
    return (int)n;
}

int husk_terminal_copy_size(int from_tty, int to_pty)
{
    struct winsize ws;
    if (ioctl(from_tty, TIOCGWINSZ, &ws) < 0)
        return -1;
    return ioctl(to_pty, TIOCSWINSZ, &ws) < 0 ? -1 : 0;
}
