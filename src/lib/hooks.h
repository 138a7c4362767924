/* Running OCI hooks (runtime-spec config.md "POSIX-platform Hooks").
 *
 * The library only runs a list of hooks; the lifecycle code decides when
 * each stage runs, in which namespaces, and what a failure means for it
 * (runtime-spec 1.3.0: a failing prestart/createRuntime/createContainer/
 * startContainer hook is an error; a failing poststart or poststop hook is
 * only a warning). Stage names are the config.json keys: "prestart",
 * "createRuntime", "createContainer", "startContainer", "poststart",
 * "poststop".
 *
 * Every hook is run as its own child of the calling process:
 *  - argv is hook->args exactly as given (args[0] included); when args is
 *    absent or empty, argv is { path };
 *  - the environment is exactly hook->env (empty when absent);
 *  - stdin is a pipe carrying state_json (the runtime-spec state document);
 *    a hook that exits without reading it is fine;
 *  - stdout and stderr are pipes read by husk (the last 4 KiB of each are
 *    kept): nothing a hook prints reaches husk's own stdout, so it cannot
 *    corrupt what husk prints or the container's stdio;
 *  - the current directory is the caller's;
 *  - the signal mask is emptied and every ignored signal is reset to its
 *    default, so a hook does not inherit husk's signal handling;
 *  - every fd above 2 is closed (the exec fd, see below, excepted).
 * A `timeout` (seconds) is enforced: on expiry the hook's own pid gets
 * SIGKILL and is reaped (nothing else is ever signalled).
 *
 * The calling thread's signal mask and dispositions are unchanged on return:
 * SIGPIPE from writing to a hook that closed its stdin is blocked for the
 * duration of the write and a SIGPIPE raised by it is consumed.
 */
#ifndef HUSK_HOOKS_H
#define HUSK_HOOKS_H

#include <stddef.h>

#include "error.h"
#include "ocispec.h"

/* How many bytes of a hook's stderr (and stdout) are kept for messages. */
#define HUSK_HOOK_OUTPUT_TAIL 4096

/* Runs hooks[0..n) in order and stops at the first failure.
 *
 * stage: the config.json key of the stage, used in messages.
 * fds: NULL to exec each hook by hooks[i].path; otherwise fds[i] is an fd
 *   opened earlier on hooks[i].path by husk_hooks_open(), and the hook is
 *   executed with execveat(fds[i], "", ..., AT_EMPTY_PATH). This is how
 *   createContainer hooks work: their path must resolve in the runtime's
 *   mount namespace, but they run in the container's (before pivot_root,
 *   after the container's mounts, which may shadow the path).
 *   Scripts with a "#!" line work through an fd too, with two conditions:
 *   the kernel hands the interpreter "/dev/fd/N", so where the hook runs
 *   /dev/fd must lead to a mounted procfs's self/fd (the host's /dev/fd
 *   before pivot_root, the container's /dev/fd symlink after it); and
 *   the fd must survive the exec (the child clears FD_CLOEXEC on its copy,
 *   so the hook process inherits that one fd, at fd 4).
 * state_json: written to every hook's stdin; NULL means an empty stdin.
 *
 * Returns 0 when every hook exited with status 0. On failure *err reads
 *   "<stage> hook #<i> (<path>): <why>[: <stderr tail>]"
 * where i is the hook's index in the config.json array (0-based) and why is
 * one of "exited with status N", "killed by signal N (<name>)",
 * "timed out after N s", "exec failed: <strerror>" or the failing setup
 * step. When stderr is empty the stdout tail is used instead.
 *
 * n == 0 returns 0 at once without any syscall. */
int husk_hooks_run(const char *stage, const ocispec_hook *hooks, size_t n, const int *fds,
                   const char *state_json, husk_error_t *err);

/* Opens hooks[i].path (O_PATH | O_CLOEXEC, following symlinks as exec
 * would) for every hook into a malloc'd array *fds_out of n fds, for a later
 * husk_hooks_run(..., fds, ...) from another mount namespace. The fds are
 * O_CLOEXEC, so they do not leak into the container process; they survive
 * fork()/clone() to the container's init. On failure nothing stays open and
 * the error names the stage-less path ("open hook \"/x\": ..."); the caller
 * wraps it with the stage. n == 0 sets *fds_out = NULL and returns 0. */
int husk_hooks_open(const ocispec_hook *hooks, size_t n, int **fds_out, husk_error_t *err);

/* Closes fds[0..n) (skipping negative entries) and frees the array.
 * Safe with fds == NULL. */
void husk_hooks_close(int *fds, size_t n);

/* Testing only: when true, husk_hooks_run waits for hooks with
 * waitpid(WNOHANG) polling instead of a pidfd (the path taken on kernels
 * older than 5.3). */
extern int husk_hooks_force_no_pidfd;

#endif
