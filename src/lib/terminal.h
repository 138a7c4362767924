/* Pseudo-terminals for process.terminal: opening a pty, making it the
 * controlling terminal of the container process, handing the master to a
 * console socket (conmon, containerd's shim, tests/helpers/recvtty), and the
 * primitives of the foreground proxy `husk run` uses when it has no socket.
 *
 * Every fd these functions create is O_CLOEXEC.
 */
#ifndef HUSK_TERMINAL_H
#define HUSK_TERMINAL_H

#include <stddef.h>
#include <termios.h>

#include "error.h"
#include "ocispec.h"

/* Opens a new pty pair from /dev/ptmx *as resolved in the current mount
 * namespace*: called inside the container after its devpts is mounted, the
 * pty belongs to the container's devpts instance (so /dev/pts/N inside
 * names it). Unlocks it and opens the peer with TIOCGPTPEER when the kernel
 * has it (no path lookup), else through ptsname; the peer is opened
 * O_NOCTTY so this call never acquires a controlling terminal. */
int husk_terminal_open_pty(int *master, int *slave, husk_error_t *err);

/* The peer's path ("/dev/pts/N") of a pty master, malloc'd into *name: what
 * /dev/console is bind-mounted from, and the payload sent with the fd. */
int husk_terminal_pty_name(int master, char **name, husk_error_t *err);

/* husk_terminal_open_pty, then the peer's name, then process.consoleSize
 * (size may be NULL) on the master: the pty a process with
 * `terminal: true` gets, for the init and for exec alike. On failure
 * nothing stays open. */
int husk_terminal_open_sized_pty(const ocispec_console_size *size, int *master, int *slave,
                                 char **name, husk_error_t *err);

/* In the process about to exec the container's program: starts a new
 * session (fine when already a session leader), makes `slave` its
 * controlling terminal (TIOCSCTTY) and dup2()s it onto 0, 1 and 2 (the
 * copies are not close-on-exec). `slave` itself is left open; being
 * O_CLOEXEC it goes away at exec. */
int husk_terminal_make_controlling(int slave, husk_error_t *err);

/* Sets the window size (TIOCSWINSZ) of a pty (either side): for
 * process.consoleSize. */
int husk_terminal_set_size(int fd, unsigned short rows, unsigned short cols,
                           husk_error_t *err);

/* Sends fd over an AF_UNIX socket (SCM_RIGHTS) with len > 0 bytes of data:
 * the first sendmsg carries the fd, the rest of the data follows without. */
int husk_send_fd_with_data(int sock, int fd, const void *data, size_t len, husk_error_t *err);

/* Sends `fd` over the AF_UNIX socket `sock` as SCM_RIGHTS with `payload` as
 * the data bytes (a name for the fd; NULL or "" sends a single NUL byte,
 * because a stream socket needs at least one data byte to carry the
 * ancillary data). */
int husk_terminal_send_fd(int sock, int fd, const char *payload, husk_error_t *err);

/* Receives one fd sent by husk_terminal_send_fd (or any SCM_RIGHTS sender)
 * into *fd, O_CLOEXEC. Extra fds in the same message are closed; a message
 * without an fd, or EOF, is an error. */
int husk_terminal_recv_fd(int sock, int *fd, husk_error_t *err);

/* --console-socket: connects a SOCK_STREAM AF_UNIX socket to `path` and
 * sends `master` with the pty's name as payload, as conmon and containerd
 * expect. Errors name the socket path. */
int husk_terminal_send_to_console_socket(const char *path, int master, husk_error_t *err);

/* ---- foreground proxy (`husk run` with a terminal and no socket) ---- */

/* Saves fd's termios into *saved and puts fd into raw mode (cfmakeraw), so
 * keystrokes such as ^C reach the container's pty unchanged. */
int husk_terminal_raw_mode(int fd, struct termios *saved, husk_error_t *err);

/* Restores termios saved by husk_terminal_raw_mode. No husk_error_t so it
 * can run on exit paths: returns 0, or -1 with errno set. */
int husk_terminal_restore(int fd, const struct termios *saved);

/* One copy step of a poll() loop: reads what `from` has (at most 64 KiB,
 * one read) and writes all of it to `to`, waiting for `to` with poll() when
 * it is non-blocking and full. Returns the number of bytes moved (> 0);
 * 0 at end of input, with errno set to 0, which includes EIO from a pty
 * master whose last peer fd was closed (Linux's way of saying the container
 * side is gone); -1 with errno set on error, with errno == EAGAIN when
 * `from` had nothing ready. */
int husk_terminal_pump(int from, int to);

/* On SIGWINCH: copies the window size of the user's terminal `from_tty` to
 * the container's pty `to_pty`. Returns 0, or -1 with errno set. */
int husk_terminal_copy_size(int from_tty, int to_pty);

#endif
