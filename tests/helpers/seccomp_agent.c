/* seccomp_agent: a minimal seccomp agent for tests (what listenerPath
 * points at), written in C so that it runs where the tests run, python or
 * not.
 *
 *   seccomp_agent SOCKET_PATH OUT_FILE
 *
 * Listens on SOCKET_PATH, then creates OUT_FILE.ready; accepts one
 * connection, receives the notify fd over SCM_RIGHTS with the container
 * process state, and reads the state to the end. OUT_FILE gets the state,
 * a newline, the number of fds received and a newline. Then it answers
 * every notification with -EROFS until the filter is gone (the container
 * exited), and exits 0; 1 on errors.
 *
 * The fd and state are received with plain recvmsg() rather than husk's
 * own code, so that the protocol is checked from the outside. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/seccomp.h>

static void die(const char *what)
{
    fprintf(stderr, "seccomp_agent: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int listen_on(const char *path, const char *out)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(addr.sun_path)) {
        errno = ENAMETOOLONG;
        die(path);
    }
    strcpy(addr.sun_path, path);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0 || bind(s, (struct sockaddr *) &addr, sizeof(addr)) < 0 || listen(s, 1) < 0)
        die(path);
    char ready[4096];
    snprintf(ready, sizeof(ready), "%s.ready", out);
    int r = open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (r < 0)
        die(ready);
    close(r);
    return s;
}

/* Receives the state with its fds; returns the number of fds, the first
 * in *notify_fd. */
static int receive(int conn, char *state, size_t cap, size_t *len, int *notify_fd)
{
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(4 * sizeof(int))];
    } ctl;
    struct iovec iov = { .iov_base = state, .iov_len = cap };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
    ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0)
        die("recvmsg");
    int nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        nfds = (int) ((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        if (nfds > 0)
            memcpy(notify_fd, CMSG_DATA(c), sizeof(int));
    }
    *len = (size_t) n;
    while (*len < cap && (n = read(conn, state + *len, cap - *len)) > 0)
        *len += (size_t) n;
    return nfds;
}

static void answer_erofs(int fd)
{
    for (;;) {
        struct seccomp_notif req;
        memset(&req, 0, sizeof(req));
        if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
            if (errno == EINTR)
                continue;
            return; /* ENOENT/EBADF...: the filter's last user is gone */
        }
        struct seccomp_notif_resp resp = { .id = req.id, .error = -EROFS };
        /* ENOENT: the process went away before the answer; fine. */
        ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: seccomp_agent SOCKET_PATH OUT_FILE\n");
        return 1;
    }
    int s = listen_on(argv[1], argv[2]);
    int conn = accept4(s, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0)
        die("accept");
    static char state[65536];
    size_t len = 0;
    int notify_fd = -1;
    int nfds = receive(conn, state, sizeof(state), &len, &notify_fd);
    close(conn);
    FILE *out = fopen(argv[2], "w");
    if (out == NULL)
        die(argv[2]);
    fwrite(state, 1, len, out);
    fprintf(out, "\n%d\n", nfds);
    if (fclose(out) != 0)
        die(argv[2]);
    if (notify_fd >= 0)
        answer_erofs(notify_fd);
    return 0;
}
