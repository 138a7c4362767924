/* `exec`: one more process in a live (created or running) container.
 *
 * Process model (one clone, no re-exec):
 *
 *   husk exec (parent, non-dumpable, running from the sealed copy)
 *     the container's lock, shared (execs run side by side; delete, start
 *     and pause wait until the process is placed)
 *     state.json -> the init's pid (pinned with a pidfd), bundle, cgroup
 *     the container's config (state dir copy, else <bundle>/config.json),
 *     its process overridden by the flags, or the --process JSON
 *     seccomp filter compiled (cache), /proc/<init>/root opened
 *     setns(init pidfd, CLONE_NEWPID)   only pid_for_children changes
 *     clone3 --------------------------------> child (in the pid ns already)
 *     setns back                                setns(init pidfd, every other
 *     cgroup enter (or --cgroup sub-cgroup)       namespace that differs)
 *                                               chroot(init's root), the
 *                                               init's session keyring
 *     GO {child's host pid} ---------------->   (by name), cwd,
 *     lock released
 *                     <--------------------- PTY + master (tty)
 *                                               user lookup in /etc/passwd,
 *                                               rlimits, exec lookup, env
 *                                               (waits for GO)
 *                                               attrs, seccomp, user, caps,
 *                                               no_new_privs, fd sweep, execve
 *                     <--------------------- ERROR {errno, text}, or EOF
 *                                               (the socket is CLOEXEC)
 *   the pty master to --console-socket only after EOF; any failure of the
 *   parent after the clone reports the child's ERROR when it sent one.
 *   -d: --pid-file, return; else: wait, forwarding signals (and proxying
 *   the pty without --console-socket), exit status or 128+signal.
 */
#ifndef HUSK_EXEC_H
#define HUSK_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct husk_exec_opts {
    const char *root;
    const char *id;
    const char *process_path;   /* --process: runtime-spec process JSON; flags below
                                   that shape the process are then ignored */
    char *const *args;          /* COMMAND ARGS (NULL-terminated); required without --process */
    bool tty;                   /* -t */
    const char *console_socket;
    bool detach;                /* -d */
    const char *pid_file;
    const char *cwd;
    char *const *env;           /* -e K=V, NULL-terminated or NULL */
    const char *user;           /* -u UID[:GID] or NAME[:GROUP] */
    char *const *additional_gids; /* -g, NULL-terminated or NULL */
    char *const *caps;          /* -c, NULL-terminated or NULL */
    bool no_new_privs;
    const char *apparmor;
    const char *process_label;
    int preserve_fds;
    const char *cgroup;         /* --cgroup: sub-cgroup of the container's */
    bool ignore_paused;
};

/* Runs the process. Foreground: *exit_status is its exit status or
 * 128+N after signal N. Detached: 0 once it runs (pid file written). */
int husk_exec(const struct husk_exec_opts *opts, int *exit_status, husk_error_t *err);

/* Resolves a user spec ("1000", "1000:100", "name", "name:group") against
 * passwd and group file contents (either may be NULL: no file), as exec
 * does inside the container. A numeric uid without a group takes the gid
 * of its passwd entry, 0 when it has none. Names that are not there are
 * an error naming them. Exposed for unit tests. */
int husk_exec_resolve_user(const char *spec, const char *passwd, const char *group,
                           unsigned int *uid, unsigned int *gid, husk_error_t *err);

/* Appends to *gids (realloc'd, *n entries) the gid of every group of
 * `group` that lists the user as a member: the user named by spec, or for
 * a numeric spec the passwd entry of uid (none: nothing is added). Gids
 * already there are not repeated. Exposed for unit tests. */
int husk_exec_user_groups(const char *spec, const char *passwd, const char *group,
                          unsigned int uid, uint32_t **gids, size_t *n, husk_error_t *err);

#endif
