/* linux.sysctl, and the trusted procfs handle husk writes /proc through.
 *
 * Only sysctls that belong to a namespace the container has of its own may
 * be set (as runtime-spec asks): the ipc ones (kernel.msg*, kernel.sem*,
 * kernel.shm*, fs.mqueue.*) with an ipc namespace, the uts ones
 * (kernel.hostname, kernel.domainname) with a uts namespace, net.* with a
 * network namespace. Anything else would change the host and is refused
 * before the container is made.
 *
 * The writes go through a procfs the container cannot have redirected: a
 * fresh detached proc mount (fsopen/fsmount), or when the kernel refuses
 * one, the /proc that husk sees, checked to be the root of a procfs; paths
 * under it are opened with openat2 refusing symlinks and mount crossings.
 * Sysctls act on the namespaces of the writing process, so the init writes
 * them itself, once it is in its namespaces. */
#ifndef HUSK_SYSCTL_H
#define HUSK_SYSCTL_H

#include "error.h"
#include "ocispec.h"

/* Parent, before clone: every key well-formed, namespaced, and its
 * namespace in linux.namespaces (not a joined path that is the host's own).
 * Errors name linux.sysctl and the key. */
int husk_sysctl_validate(const ocispec_config *c, husk_error_t *err);

/* Init, in all its namespaces, before the rootfs is set up: writes every
 * linux.sysctl entry under sys/ of a trusted procfs. */
int husk_sysctl_apply(const ocispec_config *c, husk_error_t *err);

/* The CLONE_NEW* flag of the namespace a sysctl key belongs to, or 0 when
 * it is not namespaced (as far as husk allows). Keys with dots or slashes. */
int husk_sysctl_namespace(const char *key);

/* "net.ipv4.ip_forward" -> "net/ipv4/ip_forward"; a key that holds a slash
 * is a path already ("net/ipv4/conf/eth0.100/forwarding"). Refuses empty
 * keys and components, ".", "..", leading or trailing separators. */
int husk_sysctl_key_to_path(const char *key, char **path, husk_error_t *err);

/* An O_PATH fd on the root of a trusted procfs (see above). */
int husk_procfs_open(husk_error_t *err);

/* The fallback alone (the /proc husk sees, verified), for tests. */
int husk_procfs_open_mounted(husk_error_t *err);

/* Writes value to `rel` under proc_fd, opened with openat2 refusing
 * symlinks, magic links, mount crossings and escapes. Without openat2
 * (ENOSYS), a walk one component at a time with O_NOFOLLOW that refuses
 * symlinks, "." and "..", and other devices (a bind mount from the same
 * procfs would pass it; the fresh procfs has no mounts on it at all). */
int husk_procfs_write(int proc_fd, const char *rel, const char *value, husk_error_t *err);

/* Tests set this to make husk_procfs_write take the walk. */
extern int husk_procfs_force_fallback;

#endif
