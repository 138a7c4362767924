/* linux.seccomp: compiling the config's profile into a BPF program with
 * libseccomp, loading it into the container's process, and handing the
 * SCMP_ACT_NOTIFY listener fd to the agent at listenerPath.
 *
 * Cost model. Validation, libseccomp's rule database and the BPF generation
 * (the expensive part: ~30 M instructions, 20-30 ms, for a docker-sized
 * profile with libseccomp 2.5.4) all happen in husk_seccomp_compile(), in
 * the parent before clone3, where a failure has nothing to undo; `husk
 * create` uses husk_seccomp_compile_cached(), which skips libseccomp when
 * the same rules were compiled before (~0.65 M instructions then). The init
 * only makes one seccomp(2) call with the ready program (husk_seccomp_load),
 * as late as the kernel allows:
 *   - noNewPrivileges true:  after prctl(PR_SET_NO_NEW_PRIVS), just before
 *                            the fd sweep and execve;
 *   - noNewPrivileges false: before the capabilities are dropped, because
 *                            without NO_NEW_PRIVS the kernel wants
 *                            CAP_SYS_ADMIN to install a filter. The filter
 *                            then also covers the init's setgroups/setres*id/
 *                            capset/chdir calls, as with runc.
 *
 * Semantics (runtime-spec config-linux.md "Seccomp", libseccomp names):
 *   - errnoRet / defaultErrnoRet: EPERM when absent, only accepted with
 *     SCMP_ACT_ERRNO and SCMP_ACT_TRACE (for TRACE it is the tracer's msg).
 *   - An unknown syscall name is skipped, as runc does: profiles list
 *     syscalls of newer kernels and other architectures.
 *   - A rule whose action equals the default action is skipped (libseccomp
 *     refuses it, and it changes nothing).
 *   - args: conditions on distinct indices are ANDed in one rule; when an
 *     index appears twice, every condition becomes a rule of its own (so
 *     they are ORed), which is what runc does and profiles rely on.
 *     MASKED_EQ matches (arg & value) == valueTwo.
 *   - architectures: the native one is always in the filter.
 *   - flags: SECCOMP_FILTER_FLAG_TSYNC, _LOG, _SPEC_ALLOW and
 *     _WAIT_KILLABLE_RECV are passed to seccomp(2). An unknown flag, or a
 *     known one this kernel lacks, is an error naming it (husk does not
 *     silently weaken what the profile asked for). WAIT_KILLABLE_RECV only
 *     means something for a filter with a listener; without NOTIFY rules it
 *     is checked, then has no effect.
 *   - SCMP_ACT_NOTIFY needs listenerPath; it cannot be the default action,
 *     nor apply to sendmsg (husk sends the listener fd with sendmsg after
 *     the filter is in place: either would deadlock the init).
 *     listenerMetadata without listenerPath is refused (the spec says MUST
 *     NOT).
 */
#ifndef HUSK_SECCOMP_H
#define HUSK_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "ocispec.h"

typedef struct husk_seccomp husk_seccomp;

/* Validates `s` and builds the filter: rule database, then the BPF program
 * and the seccomp(2) flags. Errors name the field:
 *   linux.seccomp.syscalls[3].action: unknown action "SCMP_ACT_FOO" */
int husk_seccomp_compile(const ocispec_seccomp *s, husk_seccomp **out, husk_error_t *err);

/* The same, with the BPF program kept in the directory cache_dir (made
 * 0700 if missing; NULL: no cache). The profile is validated all the same;
 * only libseccomp's ~20 ms of work for a docker-sized profile is skipped on
 * a hit. Best effort: when the cache cannot be used (not ours, read-only,
 * damaged entry), this compiles as husk_seccomp_compile() does. See
 * seccomp.c for the format and why a wrong entry is never used. */
int husk_seccomp_compile_cached(const ocispec_seccomp *s, const char *cache_dir,
                                husk_seccomp **out, husk_error_t *err);

/* Where husk keeps it: one per host (a --root per container, as
 * containerd's shim and the bench kit use, would never hit). Next to the
 * default state root; `husk list` skips dot entries. */
#define HUSK_SECCOMP_CACHE_DIR "/run/husk/.seccomp-cache"

/* Installs the filter in the calling thread with seccomp(2). When the
 * filter has SCMP_ACT_NOTIFY rules, *notify_fd gets the listener fd
 * (O_CLOEXEC); else -1. notify_fd may be NULL only for filters without
 * NOTIFY rules. The calling process must have NO_NEW_PRIVS set or
 * CAP_SYS_ADMIN in its user namespace. */
int husk_seccomp_load(const husk_seccomp *f, int *notify_fd, husk_error_t *err);

void husk_seccomp_free(husk_seccomp *f);
#define cleanup_seccomp __attribute__((cleanup(husk_seccomp_free_ptr)))
void husk_seccomp_free_ptr(husk_seccomp **f);

/* What the filter holds, for tests and debug logs. */
size_t husk_seccomp_rule_count(const husk_seccomp *f);      /* rules given to libseccomp */
size_t husk_seccomp_skipped_names(const husk_seccomp *f);   /* unknown syscall names */
size_t husk_seccomp_bpf_len(const husk_seccomp *f);         /* BPF instructions */
unsigned int husk_seccomp_flags(const husk_seccomp *f);     /* SECCOMP_FILTER_FLAG_* */
bool husk_seccomp_has_notify(const husk_seccomp *f);
bool husk_seccomp_from_cache(const husk_seccomp *f);        /* program read from the cache */
const void *husk_seccomp_bpf(const husk_seccomp *f);        /* struct sock_filter[bpf_len] */

/* ---- the seccomp agent (listenerPath) ---- */

/* The runtime-spec "container process state" document: ociVersion,
 * fds ["seccompFd"], pid, metadata (omitted when NULL) and `state_json`
 * (a runtime-spec state object, embedded as is). malloc'd into *out. */
int husk_seccomp_process_state(const char *state_json, pid_t pid, const char *metadata,
                               char **out, husk_error_t *err);

/* Connects a SOCK_STREAM AF_UNIX socket to `path` (O_CLOEXEC). */
int husk_seccomp_listener_connect(const char *path, int *sock, husk_error_t *err);

/* Sends `process_state_json` with `notify_fd` attached (SCM_RIGHTS, in the
 * first sendmsg) over a connected socket. The caller closes the socket
 * afterwards: one state per connection. */
int husk_seccomp_listener_send(int sock, int notify_fd, const char *process_state_json,
                               husk_error_t *err);

/* connect + send + close, errors naming `path`. */
int husk_seccomp_send_listener(const char *path, int notify_fd, const char *process_state_json,
                               husk_error_t *err);

/* ---- wiring into the container's init ---- */

/* In the parent, before clone3: when the config has NOTIFY rules, connects
 * to listenerPath while husk still sees the runtime's mount namespace; the
 * init inherits the connected socket. No-op otherwise. */
int husk_seccomp_prepare_listener(husk_seccomp *f, husk_error_t *err);

/* In the parent, once clone3 succeeded: closes its copy of that
 * connection, so the agent sees the end of the message as soon as the init
 * has sent it and closed its own (one state per connection). */
void husk_seccomp_drop_listener(husk_seccomp *f);

/* In the init: loads the filter and, with a listener, sends the notify fd
 * and the container process state (status "created", `pid` the init's pid
 * as the runtime sees it) to the agent, then closes both fds. */
int husk_seccomp_apply(husk_seccomp *f, const ocispec_config *config, const char *id,
                       const char *bundle, pid_t pid, husk_error_t *err);

#endif
