/* The foreground half of `run` and `exec`: husk waits for the process it
 * started, as its stand-in for the caller. */
#ifndef HUSK_FOREGROUND_H
#define HUSK_FOREGROUND_H

#include "error.h"

/* Waits until the process behind `pidfd` exits. Meanwhile every signal read
 * from the signalfd `sfd` is forwarded to it (SIGCHLD excepted), and when
 * `pty` >= 0 husk's stdin and stdout are proxied to that pty master (stdin
 * in raw mode while it is a terminal; SIGWINCH copies the window size
 * instead of being forwarded). *exit_status: the exit status, or 128+N when
 * signal N killed it. `what` names the process in errors. */
int husk_foreground_wait(int pidfd, int sfd, int pty, const char *what, int *exit_status,
                         husk_error_t *err);

#endif
