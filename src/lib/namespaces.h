/* linux.namespaces: which namespaces the init gets new (clone flags) and
 * which it joins (setns on a `path` opened by the parent in the host). */
#ifndef HUSK_NAMESPACES_H
#define HUSK_NAMESPACES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "ocispec.h"

#define HUSK_NS_MAX 8

typedef struct husk_ns_plan {
    uint64_t clone_flags;  /* CLONE_NEW* passed to clone3 */
    bool unshare_cgroup;   /* the init unshares its cgroup ns once it sits in its cgroup */
    bool new_user;         /* the parent writes the id maps */
    bool new_time;         /* the parent makes it, with linux.timeOffsets, around clone3 */
    int pid_join_fd;       /* -1, or the pid ns the parent enters around clone3 */
    size_t n_join;
    int join_fd[HUSK_NS_MAX];
    int join_flag[HUSK_NS_MAX]; /* CLONE_NEW* of join_fd[i], user ns first */
} husk_ns_plan;

/* The CLONE_NEW* flag of a spec namespace type ("pid", "network", ...), or
 * 0 when unknown. */
int husk_ns_flag(const char *type);

/* Builds the plan from the config: duplicates and unknown types are refused
 * (errors name linux.namespaces[i]); paths are opened and checked to be
 * namespaces of that type. */
int husk_ns_plan_build(const ocispec_linux *linux, husk_ns_plan *plan, husk_error_t *err);

/* Checks linux.uidMappings or gidMappings (field names which): each range
 * non-empty, inside the 32-bit id space on both sides, no two ranges
 * overlapping on either side, no more ranges than the kernel takes. */
int husk_ns_check_id_mappings(const char *field, const ocispec_id_mapping *m, size_t n,
                              husk_error_t *err);

/* The text for /proc/PID/timens_offsets from linux.timeOffsets, one
 * "<clock> <secs> <nanosecs>" line per entry; clocks other than monotonic
 * and boottime, and nanosecs past 999999999, are refused. An empty string
 * when there are none. */
int husk_ns_format_time_offsets(const ocispec_linux *linux, char *buf, size_t len,
                                husk_error_t *err);

/* Parent, just before clone3 with plan->new_time: moves its own
 * time_for_children into a new time namespace holding the offsets of
 * linux.timeOffsets, so the init is born in it (offsets can only be set
 * while no process is inside). *restore_fd: the parent's own time
 * namespace, for husk_ns_time_restore() right after clone3. */
int husk_ns_time_prepare(const ocispec_linux *linux, int *restore_fd, husk_error_t *err);
int husk_ns_time_restore(int restore_fd, husk_error_t *err);

/* In the init: setns() into every joined namespace (pid excepted). */
int husk_ns_join(const husk_ns_plan *plan, husk_error_t *err);

/* Parent: writes /proc/<pid>/uid_map and gid_map from the config. */
int husk_ns_write_id_maps(pid_t pid, const ocispec_linux *linux, husk_error_t *err);

/* Writes /proc/<pid>/uid_map then gid_map; errors name
 * "<owner>.uidMappings" (owner: "linux", "mounts[2]"). */
int husk_ns_write_maps(pid_t pid, const char *owner, const ocispec_id_mapping *uid, size_t n_uid,
                       const ocispec_id_mapping *gid, size_t n_gid, husk_error_t *err);

/* In the init, in a network namespace it made: brings `lo` up, as runc
 * does, so 127.0.0.1 works without a network manager. */
int husk_ns_loopback_up(husk_error_t *err);

void husk_ns_plan_close(husk_ns_plan *plan);

#endif
