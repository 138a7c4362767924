/* The container's root filesystem, built by the init inside its new mount
 * namespace: config mounts, /dev, masked and read-only paths, then
 * pivot_root (or MS_MOVE + chroot with --no-pivot).
 *
 * Every destination is resolved under the rootfs with openat2
 * (RESOLVE_IN_ROOT; without openat2, an equivalent walk), so a symlink in the
 * rootfs cannot lead a mount out of it, and mounts are made on the resolved fd through /proc/self/fd/N; no
 * path is built by concatenating the rootfs and a destination. */
#ifndef HUSK_ROOTFS_H
#define HUSK_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "ocispec.h"

/* A mount's options split into what mount(2) takes. */
typedef struct husk_mount_flags {
    unsigned long flags;       /* MS_* to set */
    unsigned long clear;       /* MS_* the options turned off ("rw", "suid", ...) */
    unsigned long propagation; /* MS_SHARED/SLAVE/PRIVATE/UNBINDABLE [| MS_REC] */
    char *data;                /* the rest, comma-joined (mode=755,size=65536k), or NULL */
    uint64_t attr_set;         /* MOUNT_ATTR_* from the recursive options (rro, rnosuid...) */
    uint64_t attr_clr;         /* applied with mount_setattr(AT_RECURSIVE) */
} husk_mount_flags;

/* Parses options[0..n) through the option table. */
int husk_mount_flags_parse(char *const *options, size_t n, husk_mount_flags *out,
                           husk_error_t *err);
void husk_mount_flags_free(husk_mount_flags *mf);

/* Resolves path under root_fd (RESOLVE_IN_ROOT), creating the missing
 * directories on the way (mode 0755) and, when the last component is
 * missing, a directory or (as_file) an empty file. Returns an O_PATH fd. */
int husk_rootfs_open_or_create(int root_fd, const char *path, bool as_file, husk_error_t *err);

/* What openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, plus
 * RESOLVE_NO_SYMLINKS when no_symlinks) gives for path under root_fd, done
 * without openat2: the fallback for kernels before 5.6, exposed for its unit
 * test. flags: O_PATH with O_DIRECTORY or O_NOFOLLOW. -1 with errno. */
int husk_rootfs_resolve_fallback(int root_fd, const char *path, int flags, bool no_symlinks);

/* What a mount of type "cgroup" shows: with its own cgroup namespace
 * (own_ns) the hierarchies are mounted afresh; otherwise the container's
 * cgroup `path` ("/husk-test/x", the same in every hierarchy; NULL: the one
 * in /proc/self/cgroup) is bind-mounted from each host hierarchy. */
typedef struct husk_cgroup_view {
    bool own_ns;
    const char *path;
} husk_cgroup_view;

/* Everything before pivot_root: makes the mount tree a slave of the host
 * (or linux.rootfsPropagation), bind-mounts the rootfs onto itself, mounts
 * config mounts, sets up /dev, masks and read-only paths. bundle: for
 * relative bind sources. *root_fd: an O_PATH fd on the new root mount. */
int husk_rootfs_prepare(const ocispec_config *config, const char *rootfs, const char *bundle,
                        const husk_cgroup_view *cgroups, int *root_fd, husk_error_t *err);

/* pivot_root into root_fd (or, no_pivot, MS_MOVE it onto / and chroot). */
int husk_rootfs_enter(int root_fd, bool no_pivot, husk_error_t *err);

/* After entering: root.readonly and linux.rootfsPropagation on "/". */
int husk_rootfs_finish(const ocispec_config *config, husk_error_t *err);

/* After entering: makes the missing directories of process.cwd, resolved
 * under "/" (symlinks stay in the rootfs) and refusing a path through a
 * magic link (/proc/self/fd/N: an fd husk holds may name a host dir, the
 * CVE-2024-21626 class). */
int husk_rootfs_make_cwd(const char *cwd, husk_error_t *err);

/* chdir(cwd) resolved under "/" (RESOLVE_IN_ROOT, no magic links), for a
 * process joining a container (exec): an fd it holds must not become its
 * cwd. On failure errno is set too, and err may be NULL. */
int husk_rootfs_chdir(const char *cwd, husk_error_t *err);

/* A bind mount's source as a host path: an absolute one as it is, a
 * relative one taken from the bundle (runtime-spec config.md). malloc'd;
 * NULL when out of memory. */
char *husk_rootfs_bind_source(const char *bundle, const char *source);

/* After entering: bind-mounts the pty peer on /dev/console from its fd
 * (from TIOCGPTPEER): no path to look up, so nothing at /dev/pts/N in the
 * container can stand in for the pty. */
int husk_rootfs_bind_console_fd(int slave, husk_error_t *err);

#endif
