/* Protection of the husk binary against CVE-2019-5736-class attacks.
 *
 * The container's init is a clone of husk, so until it execs the user's
 * program its /proc/<pid>/exe is husk's own binary; and a user program that
 * is a "#!/proc/self/exe" script makes the kernel run that binary again
 * inside the container. A process of the container could then open the host
 * binary through that magic link and, once husk exits, write to it.
 *
 * husk create/run therefore first re-execute themselves from a sealed
 * memfd copy of the binary (F_SEAL_SEAL|SHRINK|GROW|WRITE): every process
 * that ever runs in the container's namespaces has the copy as its exe, and
 * the copy can neither be written (seals) nor lead back to the host file.
 * Skipped when not needed: when husk already runs from a sealed memfd (the
 * re-executed process itself), or when the binary sits on a read-only mount
 * (nothing in the container can make a host mount writable). Commands that
 * never enter a container (state, kill, list, start, delete) skip it.
 * See docs/security.md for the cost. */
#ifndef HUSK_SELFEXE_H
#define HUSK_SELFEXE_H

#include "error.h"

/* Re-executes the process from a sealed copy when needed, with the same
 * argv (read back from /proc/self/cmdline) and environment; returns 0 when
 * already protected (no exec happened), and does not return when the exec
 * succeeds. Call it before opening anything: fds without O_CLOEXEC (the
 * caller's --preserve-fds and LISTEN_FDS) are all that survives. */
int husk_selfexe_ensure_sealed(husk_error_t *err);

#endif
