/* Idmapped bind mounts: mounts[].uidMappings/gidMappings and the `idmap`
 * (this mount only) and `ridmap` (every mount under it too) options.
 *
 * mount_setattr(MOUNT_ATTR_IDMAP) wants privilege over the source's
 * superblock, which the init, in its own user namespace, lacks. So husk,
 * before clone3, makes each one as a detached mount: open_tree(CLONE) of the
 * host source, then mount_setattr with the fd of a user namespace carrying
 * the mount's mappings (a short-lived child whose maps husk writes). The
 * init, a clone of husk, inherits these fds and move_mount()s each onto its
 * destination, resolved inside the rootfs like any other (rootfs.c asks for
 * it with husk_idmap_mount_take()).
 *
 * Mappings: the mount's own (both uidMappings and gidMappings), or, with
 * neither given, the container's linux.uidMappings/gidMappings, which need a
 * new user namespace. Mappings or idmap on a mount that is not a bind mount
 * are refused. */
#ifndef HUSK_IDMAP_MOUNT_H
#define HUSK_IDMAP_MOUNT_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "ocispec.h"

typedef struct husk_idmap_mounts {
    size_t n;
    int *fd; /* per config mount: a detached idmapped mount, or -1 */
} husk_idmap_mounts;

/* What mounts[idx] asks for: *wanted when it is to be idmapped,
 * *recursive for ridmap. Refuses mappings or idmap on a mount that is not a
 * bind mount, and only one of uidMappings/gidMappings. */
int husk_idmap_mount_request(const ocispec_mount *m, size_t idx, bool *wanted, bool *recursive,
                             husk_error_t *err);

/* husk, before clone3: makes every idmapped mount the config asks for.
 * new_user: the container gets a new user namespace (whose mappings serve
 * mounts without their own). bundle: for relative sources. */
int husk_idmap_mounts_open(const ocispec_config *config, const char *bundle, bool new_user,
                           husk_idmap_mounts *out, husk_error_t *err);

void husk_idmap_mounts_close(husk_idmap_mounts *m);

/* The init: makes `m` (inherited from husk) the table husk_idmap_mount_take
 * reads. */
void husk_idmap_mounts_use(husk_idmap_mounts *m);

/* The detached mount for mounts[idx], now the caller's to close, or -1. */
int husk_idmap_mount_take(size_t idx);

/* Puts the detached mount mount_fd on target_fd (an O_PATH fd of the
 * destination, resolved in the rootfs); closes mount_fd. */
int husk_idmap_mount_attach(int mount_fd, int target_fd, const char *destination, size_t idx,
                            husk_error_t *err);

#endif
