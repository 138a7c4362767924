#include "foreground.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "syscalls.h"
#include "terminal.h"

static void forward_signals(int sfd, int pidfd, int pty)
{
    struct signalfd_siginfo si;
    while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
        int sig = (int)si.ssi_signo;
        if (sig == SIGCHLD)
            continue;
        if (sig == SIGWINCH && pty >= 0)
            husk_terminal_copy_size(STDIN_FILENO, pty);
        else
            husk_pidfd_send_signal(pidfd, sig, NULL, 0);
    }
}

/* What the process wrote just before it exited is still in the pty. */
static void drain_pty(int pty)
{
    fcntl(pty, F_SETFL, fcntl(pty, F_GETFL) | O_NONBLOCK);
    while (husk_terminal_pump(pty, STDOUT_FILENO) > 0)
        ;
}

int husk_foreground_wait(int pidfd, int sfd, int pty, const char *what, int *exit_status,
                         husk_error_t *err)
{
    struct termios saved;
    bool tty = pty >= 0 && isatty(STDIN_FILENO);
    bool raw = tty && husk_terminal_raw_mode(STDIN_FILENO, &saved, NULL) == 0;
    if (tty)
        husk_terminal_copy_size(STDIN_FILENO, pty);
    bool stdin_open = pty >= 0, pty_open = pty >= 0;
    int ret = 0;
    for (;;) {
        struct pollfd p[4] = {
            { .fd = pidfd, .events = POLLIN },
            { .fd = sfd, .events = POLLIN },
            { .fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN },
            { .fd = pty_open ? pty : -1, .events = POLLIN },
        };
        if (poll(p, 4, -1) < 0) {
            if (errno == EINTR)
                continue;
            ret = husk_error_set(err, errno, "wait for the %s", what);
            break;
        }
        if (p[1].revents & POLLIN)
            forward_signals(sfd, pidfd, pty);
        if ((p[3].revents & (POLLIN | POLLHUP | POLLERR)) &&
            husk_terminal_pump(pty, STDOUT_FILENO) <= 0 && errno != EAGAIN)
            pty_open = false;
        if ((p[2].revents & (POLLIN | POLLHUP | POLLERR)) &&
            husk_terminal_pump(STDIN_FILENO, pty) <= 0 && errno != EAGAIN)
            stdin_open = false;
        if (p[0].revents & POLLIN) {
            siginfo_t info = { 0 };
            if (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED) < 0) {
                ret = husk_error_set(err, errno, "wait for the %s", what);
                break;
            }
            *exit_status = info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
            if (pty_open)
                drain_pty(pty);
            break;
        }
    }
    if (raw)
        husk_terminal_restore(STDIN_FILENO, &saved);
    return ret;
}
