/* The container's init: how husk makes it and how the two talk.
 *
 * Process model. husk (the parent) clone3()s straight into the init with the
 * CLONE_NEW* flags of the config: no re-exec of a runtime binary per
 * container, the init is a copy-on-write clone that already holds the parsed
 * config. Parent and init talk over a SOCK_SEQPACKET socketpair, one
 * husk_sync_msg per packet (fds ride along as SCM_RIGHTS):
 *
 *   parent                                  init
 *   clone3 ------------------------------->  (blocked in recv)
 *   id maps
 *   GO {host pid, placed?} --------------->  setns, hostname, mounts, /dev
 *   cgroup enter (unless placed)
 *   PLACED ------------------------------->  (waits for it here, unless placed)
 *                   <--------------------- HOOKS   (only with prestart/createRuntime)
 *   run prestart + createRuntime hooks
 *   HOOKS_DONE --------------------------->  createContainer hooks, pivot_root,
 *                                            console, rlimits, exec lookup
 *                   <--------------------- PTY + master fd   (process.terminal)
 *                   <--------------------- READY
 *   state.json, --pid-file
 *   START -------------------------------->  create: close the pair, wait on
 *                                              start.sock (accept) for `start`
 *                                            run:    go on at once
 *                                            startContainer hooks, user, caps,
 *                                            fds, exec; exec closes the
 *                                            report socket (CLOEXEC): EOF
 *                   <--------------------- ERROR {errno, "exec ..."} on failure
 *
 * Moving a process into v1 cgroups costs an RCU grace period (the first
 * write to cgroup.procs waits ~10-20 ms for cgroup_threadgroup_rwsem), so
 * the parent does it while the init builds its mounts: the init waits for
 * PLACED before anything that must see it in its cgroup (hooks, the cgroup
 * namespace, READY). With CLONE_INTO_CGROUP (pure v2) or a new cgroup
 * namespace (unshared right after GO) the init is placed before GO.
 *
 * Any step of the init that fails sends ERROR with the errno and a message
 * naming the step and path, then exits; the caller prints it. The init
 * never runs anything of the user's before exec. It is non-dumpable the
 * whole time (inherited from the parent, which sets it before clone3), and
 * every process in the container runs from husk's sealed memfd copy (see
 * selfexe.h). */
#ifndef HUSK_PROCESS_H
#define HUSK_PROCESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "fds.h"
#include "namespaces.h"
#include "ocispec.h"
#include "seccomp.h"

enum husk_sync_type {
    HUSK_SYNC_GO = 1,     /* parent -> init: placed in cgroup; payload: host pid */
    HUSK_SYNC_HOOKS,      /* init -> parent: run prestart/createRuntime now */
    HUSK_SYNC_HOOKS_DONE, /* parent -> init */
    HUSK_SYNC_PTY,        /* init -> parent: the pty master (SCM_RIGHTS) */
    HUSK_SYNC_READY,      /* init -> parent: waiting for START */
    HUSK_SYNC_START,      /* parent -> init / `start` -> init */
    HUSK_SYNC_ERROR,      /* either way: errno + message */
    HUSK_SYNC_PLACED,     /* parent -> init: now in its cgroup (when GO said it was not yet) */
};

#define HUSK_SYNC_TEXT_MAX 2048

struct husk_sync_msg {
    uint32_t type;
    int32_t errnum;
    int64_t value; /* GO: the init's host pid */
    char text[HUSK_SYNC_TEXT_MAX];
};

/* Sends one message (fd >= 0: attached as SCM_RIGHTS). */
int husk_sync_send(int sock, uint32_t type, int errnum, int64_t value, const char *text, int fd,
                   husk_error_t *err);

/* Receives one message; *fd (when fd != NULL) gets an attached fd or -1.
 * Returns 1 for a message, 0 for EOF. */
int husk_sync_recv(int sock, struct husk_sync_msg *msg, int *fd, husk_error_t *err);

/* The child side of an ERROR message: sends *err's text and errno (or
 * `fallback` when there is none) to the parent, ignoring a send failure
 * (the child exits next either way). */
void husk_sync_report(int sock, const husk_error_t *err, const char *fallback);

/* Turns an ERROR message into *err. */
int husk_sync_error(const struct husk_sync_msg *msg, husk_error_t *err);

/* Everything the init needs; it reads it from its copy of the parent's
 * memory, so the pointers stay valid in the child. */
struct husk_init_spec {
    const ocispec_config *config;
    const char *id;
    const char *bundle;
    const char *rootfs;
    const husk_ns_plan *ns;
    const char *cgroup_path;     /* the container's cgroup, NULL without one */
    bool no_pivot;
    bool no_new_keyring;
    bool wait_for_start;         /* create: wait on start_listen_fd */
    int start_listen_fd;         /* listening SEQPACKET socket, or -1 */
    bool hooks_round;            /* prestart/createRuntime hooks exist */
    const int *create_container_fds; /* husk_hooks_open() fds of createContainer hooks */
    const husk_listen_fds *listen;
    int preserve_fds;
    /* The parent's fds the init must drop at once (-1: none): above all
     * the container's lock, which would otherwise stay held (flock follows
     * the open file) for as long as the init lives. */
    int drop_fds[3];
    husk_seccomp *seccomp;       /* compiled linux.seccomp (compiled before clone3), or NULL */
};

/* clone3()s the init. On success: *pid, *pidfd (CLONE_PIDFD) and *sync
 * (the parent's end of the socketpair) are set. cgroup_fd >= 0: placed with
 * CLONE_INTO_CGROUP. */
int husk_process_spawn(const struct husk_init_spec *spec, int cgroup_fd, pid_t *pid, int *pidfd,
                       int *sync, husk_error_t *err);

/* "process.capabilities.X: unknown capability `Y` ignored; ..." for every
 * name this kernel/libcap does not know (malloc'd), or NULL. */
char *husk_process_unknown_caps(const ocispec_capabilities *caps);

/* The runtime-spec state JSON of the container with the given status, for
 * hooks' stdin. */
char *husk_process_state_json(const ocispec_config *config, const char *id, const char *bundle,
                              const char *status, pid_t pid);

/* The init's steps, for `exec` (exec.c), which runs them in its own
 * process inside the container, after chroot:
 *   set_rlimits       process.rlimits (setrlimit each; unknown type: error)
 *   find_executable   args[0] looked up in the PATH of process.env (stat)
 *   add_home          HOME from /etc/passwd when env lacks it
 *   switch_user       bounding set, groups, gid, uid, the other capability
 *                     sets and ambient, umask */
int husk_process_set_rlimits(const ocispec_process *p, husk_error_t *err);
int husk_process_find_executable(const ocispec_process *p, char **out, husk_error_t *err);
int husk_process_add_home(const ocispec_process *p, char ***env, husk_error_t *err);
int husk_process_switch_user(const ocispec_process *p, husk_error_t *err);

/* The name of the session keyring the init of container `id` makes and
 * joins (unless --no-new-keyring), and exec joins by that name. The
 * keyring grants its owner (the container's root) search permission, which
 * joining by name needs; the init's host pid in the name keeps two live
 * containers of one id (other --root) from finding each other's. */
#define HUSK_SESSION_KEYRING_NAME_MAX 300
void husk_process_session_keyring_name(const char *id, pid_t init_host_pid, char *buf,
                                       size_t size);

#endif
