/* LSM labels: process.apparmorProfile, process.selinuxLabel and
 * linux.mountLabel, through the kernel's own interfaces (no libapparmor or
 * libselinux), so every build applies them.
 *
 * A process asks for its label on its next execve by writing to its
 * attr/apparmor/exec ("exec <profile>"; attr/exec before Linux 5.8) or, for
 * SELinux, attr/exec ("<label>"). The write goes through a trusted procfs
 * (husk_procfs_open: a detached fresh procfs, or a verified /proc opened
 * before the container's rootfs exists), never through a /proc path the
 * container could have redirected (the CVE-2019-16884 / CVE-2019-19921
 * class): a label written to a fake file would leave the process
 * unconfined without a word.
 *
 * AppArmor asked for on a host without it is an error (never a silent
 * unconfined run); "unconfined" is always accepted. SELinux labels on a
 * host without SELinux are ignored with a debug log line, as runc and crun
 * do, since images and engines set them unconditionally. */
#ifndef HUSK_LSM_H
#define HUSK_LSM_H

#include <stdbool.h>

#include "error.h"
#include "ocispec.h"

#define HUSK_APPARMOR_ENABLED_PATH "/sys/module/apparmor/parameters/enabled"
#define HUSK_APPARMOR_PROFILES_PATH "/sys/kernel/security/apparmor/profiles"
#define HUSK_SELINUXFS_PATH "/sys/fs/selinux"

/* The host checks, from a given path so that tests can point them at
 * files of their own: AppArmor is on when the module parameter reads "Y";
 * SELinux when a selinuxfs is mounted at `mountpoint`. */
bool husk_lsm_apparmor_enabled_at(const char *param_path);
bool husk_lsm_selinux_enabled_at(const char *mountpoint);
/* The same on the real paths (the answer is cached). */
bool husk_lsm_apparmor_enabled(void);
bool husk_lsm_selinux_enabled(void);

/* Whether `profiles` (the text of apparmor/profiles: "name (mode)" lines)
 * lists `name`. */
bool husk_lsm_apparmor_profile_listed(const char *profiles, const char *name);

/* Before the process exists or while it can still fail cleanly (create's
 * init before READY, exec's parent): refuses an AppArmor profile on a host
 * without AppArmor, or one the host's policy does not hold (when the
 * policy's list is readable), naming process.apparmorProfile. When p needs
 * a label written at exec, *proc_fd is an O_PATH fd on a trusted procfs
 * (to close by the caller), else -1. */
int husk_lsm_prepare(const ocispec_process *p, int *proc_fd, husk_error_t *err);

/* In the process itself, after anything that execs helpers (hooks) and
 * before seccomp could refuse the write: asks for p's labels on the next
 * execve, through *proc_fd from husk_lsm_prepare (-1: nothing to do),
 * which it closes (and sets to -1) so that the fd sweep before execve
 * never sees it. */
int husk_lsm_set_exec_labels(int *proc_fd, const ocispec_process *p, husk_error_t *err);

/* Whether a filesystem type takes a context= mount option: those labelled
 * as a whole at mount time (tmpfs, devpts, mqueue...), not proc, sysfs or
 * bind mounts. */
bool husk_lsm_mount_takes_context(const char *type);

/* data (NULL: none) with `context="<label>"` appended; a data that sets a
 * context already is kept as is. Refuses a label holding a double quote
 * (it would end the quoted option). *out is malloc'd. */
int husk_lsm_format_mount_data(const char *data, const char *label, char **out,
                               husk_error_t *err);

/* What a mount of `type` gets for linux.mountLabel `label`: *out is the
 * data to mount with when a context is added, else NULL (use data as is:
 * no label, SELinux off, or a type that takes none). */
int husk_lsm_mount_data(const char *type, const char *data, const char *label, char **out,
                        husk_error_t *err);

#endif
