/* File-descriptor hygiene: no fd of husk's may reach the container process
 * except the ones the caller asked to pass on (stdio, --preserve-fds, and
 * systemd socket-activation fds announced by LISTEN_FDS).
 *
 * The fd layout husk passes on, as with runc and systemd:
 *   0 1 2                      stdio
 *   3 .. 3+listen-1            the LISTEN_FDS fds husk inherited
 *   3+listen .. 2+listen+preserve   the --preserve-fds fds
 * so the container process keeps fds 0 .. 2 + listen + preserve, i.e.
 * husk_fds_keep_up_to(listen, preserve), and everything above is closed.
 */
#ifndef HUSK_FDS_H
#define HUSK_FDS_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Closes every fd > keep_up_to. Uses close_range(2) (Linux 5.9) and falls
 * back to walking /proc/self/fd when the kernel lacks it (the fallback
 * needs /proc mounted; its absence is reported as an error). */
int husk_fds_close_except(int keep_up_to, husk_error_t *err);

/* Sets FD_CLOEXEC on every fd >= first, so they close at the next exec
 * while staying usable until then (the init's sync socket, hook fds).
 * Uses close_range(CLOSE_RANGE_CLOEXEC) (Linux 5.11), fallback as above. */
int husk_fds_mark_cloexec_from(int first, husk_error_t *err);

/* Clears FD_CLOEXEC on fds [first, last], the ones to pass on (an fd in
 * the range that is not open is skipped). */
int husk_fds_clear_cloexec_range(int first, int last, husk_error_t *err);

/* ---- systemd socket activation (sd_listen_fds(3)) passthrough ---- */

/* What husk received from its caller, read once at `husk create/run`. */
typedef struct {
    int count;       /* LISTEN_FDS, 0 when unset: fds 3 .. 3+count-1 */
    char *fdnames;   /* LISTEN_FDNAMES verbatim, or NULL */
} husk_listen_fds;

/* Reads LISTEN_FDS (and LISTEN_FDNAMES) from `env` (husk's own environment,
 * e.g. `environ`). LISTEN_PID is not checked, matching what podman and
 * containerd expect of runc: the fds are handed down from the caller.
 * LISTEN_FDS that is not a non-negative integer, or names an fd that is
 * not open in this process, is an error naming the value. */
int husk_fds_listen_from_env(char *const *env, husk_listen_fds *out, husk_error_t *err);

void husk_listen_fds_free(husk_listen_fds *lf);
#define cleanup_listen_fds __attribute__((cleanup(husk_listen_fds_free)))

/* The highest fd the container process keeps (see the layout above). */
static inline int husk_fds_keep_up_to(const husk_listen_fds *lf, int preserve_fds)
{
    return 2 + (lf != NULL ? lf->count : 0) + preserve_fds;
}

/* Builds the container process's environment into *env_out (malloc'd,
 * NULL-terminated, free with husk_free_strv / cleanup_strv). When
 * lf->count > 0: process_env (may be NULL) with any LISTEN_FDS, LISTEN_PID
 * and LISTEN_FDNAMES entries dropped, then "LISTEN_FDS=<count>",
 * "LISTEN_PID=<pid>" and "LISTEN_FDNAMES=..." (when known) appended.
 * Call it in the container's init just before exec with pid = getpid(),
 * which is the pid the program sees itself as in its pid namespace (what
 * sd_listen_fds() compares LISTEN_PID with). With lf == NULL or count 0
 * the result is an exact copy of process_env (the config's own LISTEN_*
 * entries, if any, are the user's business). */
int husk_fds_listen_env(const husk_listen_fds *lf, char *const *process_env, pid_t pid,
                        char ***env_out, husk_error_t *err);

/* Testing only: when true, close_range(2) is not used and the /proc/self/fd
 * fallback runs instead. */
extern int husk_fds_force_fallback;

#endif
