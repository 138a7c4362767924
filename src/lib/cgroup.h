/* Cgroups: one handle per container cgroup, whatever the host layout.
 *
 * Layouts (detected once per process from /proc/self/mountinfo):
 *  - v1:     one cgroup v1 hierarchy per controller (plus name=systemd);
 *  - hybrid: v1 hierarchies plus a cgroup2 tree (often /sys/fs/cgroup/unified)
 *            that carries the controllers v1 does not (this machine: hugetlb);
 *            each controller is used where it is mounted;
 *  - v2:     a single cgroup2 tree at the cgroup root.
 *
 * Placement (cgroupfs driver): the container's cgroup lives under the ROOT of
 * every hierarchy, never under the caller's own cgroup (on these machines the
 * caller's cgroup belongs to the machine's supervisor):
 *      cgroupsPath absent     -> "/<id>"
 *      "a/b" (relative)       -> "/a/b"
 *      "/a/b" (absolute)      -> "/a/b"
 * A cgroupsPath with a ".." component, or an empty one after normalisation
 * (e.g. "/"), is refused with an error naming linux.cgroupsPath.
 *
 * Typical lifecycle use:
 *      create -> (clone: husk_cgroup_v2_fd() for CLONE_INTO_CGROUP on pure v2,
 *                 otherwise husk_cgroup_enter(child) before the child runs
 *                 anything; the child then unshares its cgroup namespace)
 *      -> persist husk_cgroup_path() in the state
 *      later: husk_cgroup_load(path) -> kill / pids / freeze / update / destroy.
 *
 * All functions follow src/lib/error.h: 0 on success, negative with *err set.
 * Handles are not thread-safe; one per thread.
 */
#ifndef HUSK_CGROUP_H
#define HUSK_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "ocispec.h"

enum husk_cgroup_manager {
    HUSK_CGROUP_CGROUPFS = 0, /* husk writes the cgroup filesystem itself */
    HUSK_CGROUP_SYSTEMD,      /* a transient systemd scope made over D-Bus
                                 (cgroup_systemd.c): pure cgroup v2 hosts with
                                 systemd as PID 1 and husk built with
                                 libsystemd; refused with ENOTSUP otherwise */
    HUSK_CGROUP_DISABLED,     /* --cgroup-manager disabled: touch no cgroup */
};

enum husk_cgroup_layout {
    HUSK_CGROUP_LAYOUT_NONE = 0, /* no cgroup filesystem mounted */
    HUSK_CGROUP_LAYOUT_V1,
    HUSK_CGROUP_LAYOUT_HYBRID,
    HUSK_CGROUP_LAYOUT_V2,
};

typedef struct husk_cgroup husk_cgroup;

/* Parses a --cgroup-manager value: "cgroupfs", "systemd" or "disabled".
 * Error names the value. */
int husk_cgroup_manager_parse(const char *name, enum husk_cgroup_manager *out,
                              husk_error_t *err);
/* The name husk_cgroup_manager_parse takes back (to persist in the state). */
const char *husk_cgroup_manager_name(enum husk_cgroup_manager m);

/* The host layout (detected on first use, cached). */
int husk_cgroup_layout(enum husk_cgroup_layout *out, husk_error_t *err);

/* Computes the cgroup path husk would use, without touching the host:
 * "/<id>" for cgroups_path NULL or "", "/" + cgroups_path for a relative one,
 * cgroups_path for an absolute one; repeated and trailing slashes and "."
 * components are dropped. Refuses ".." components and a path that reduces
 * to "/" (error names linux.cgroupsPath and the value). *out is malloc'd. */
int husk_cgroup_compute_path(const char *id, const char *cgroups_path, char **out,
                             husk_error_t *err);

/* Checks res against the host layout without touching any cgroup: negative
 * or absurd values (memory.limit < -1, cpu.shares 0, blockIO weights outside
 * 10..1000, cpu.quota < -1 or 0, ...), `unified` keys on a v1-only host, a
 * controller the resources need that is mounted nowhere. Errors name the
 * field ("linux.resources.memory.limit: ..."). res may be NULL.
 * husk_cgroup_create and husk_cgroup_update call it themselves; exposed so
 * `create` can fail early, before any process exists. */
int husk_cgroup_validate_resources(const ocispec_resources *res, husk_error_t *err);

/* Creates the container's cgroup in every mounted hierarchy (each v1
 * controller and name=systemd; on hybrid also the cgroup2 tree when it is
 * mounted and writable; on pure v2 one directory, with the needed controllers
 * enabled in the ancestors' cgroup.subtree_control), copies cpuset.cpus and
 * cpuset.mems from the parent on v1 (the kernel refuses tasks otherwise), and
 * applies res (may be NULL). Refuses a cgroup that already holds processes.
 * On failure removes every directory it created and leaves *out untouched.
 *
 * manager DISABLED: touches nothing, *out is a handle on which enter, destroy,
 * free are no-ops, path returns NULL, and kill/pids/freeze/update fail with
 * ENOTSUP.
 * manager SYSTEMD: cgroups_path is "slice:prefix:name" (absent:
 * "system.slice:husk:<id>"); checks that systemd runs and the host is pure
 * v2, parses the path and validates res, but creates nothing: a scope needs
 * its first process, so husk_cgroup_enter starts the scope (and
 * husk_cgroup_v2_fd is -1 until then). path is the scope's cgroup
 * ("/system.slice/husk-<id>.scope"); husk_cgroup_load(SYSTEMD, path) finds
 * the unit again from it, and destroy stops the unit.
 * id is the container id (used when cgroups_path is NULL/empty). */
int husk_cgroup_create(enum husk_cgroup_manager manager, const char *id,
                       const char *cgroups_path, const ocispec_resources *res,
                       husk_cgroup **out, husk_error_t *err);

/* Moves pid into the container's cgroup in every hierarchy (cgroup.procs).
 * SYSTEMD, first call after create: starts the scope with pid in it
 * (StartTransientUnit, waiting for its job), then writes what systemd has
 * no property for. */
int husk_cgroup_enter(husk_cgroup *cg, pid_t pid, husk_error_t *err);

/* An O_DIRECTORY|O_CLOEXEC fd on the container's cgroup2 directory, for
 * clone3(CLONE_INTO_CGROUP), or -1 when that alone would not place the
 * process everywhere (v1 or hybrid layouts, disabled manager). The fd stays
 * owned by the handle: do not close it. */
int husk_cgroup_v2_fd(husk_cgroup *cg);

/* The path to persist in the container's state ("/husk-test/x"), the same in
 * every hierarchy; NULL for the disabled manager. Owned by the handle. */
const char *husk_cgroup_path(const husk_cgroup *cg);

/* Reconstructs a handle from a persisted path (for delete/kill/ps/pause/
 * update). Does not require the directories to exist (a half-deleted
 * container can still be destroyed). path NULL or manager DISABLED gives a
 * disabled handle. Refuses relative paths and ".." components. */
int husk_cgroup_load(enum husk_cgroup_manager manager, const char *path,
                     husk_cgroup **out, husk_error_t *err);

/* Removes the cgroup (and any sub-cgroups the container made) in every
 * hierarchy, deepest first; retries EBUSY for a short while (a just-killed
 * process may linger), tolerates ENOENT. The caller kills the processes
 * first (husk_cgroup_kill). The handle stays valid and must still be freed. */
int husk_cgroup_destroy(husk_cgroup *cg, husk_error_t *err);

/* Sends sig to every process of the container's cgroup tree. SIGKILL uses
 * cgroup.kill when the container has a cgroup2 directory with it (pure v2;
 * on hybrid hosts first, then the v1 sweep below). Otherwise the tree is frozen (when a
 * freezer exists) so no process can fork away, every pid is signalled, and
 * the tree is thawed (unless it was frozen before the call). ESRCH for a
 * process that already exited is not an error. */
int husk_cgroup_kill(husk_cgroup *cg, int sig, husk_error_t *err);

/* Every pid in the container's cgroup tree (recursive), malloc'd array in
 * *pids (NULL when *n == 0), sorted ascending, without duplicates. Reads the
 * pids hierarchy on v1 (falls back to any mounted v1 hierarchy). */
int husk_cgroup_pids(husk_cgroup *cg, pid_t **pids, size_t *n, husk_error_t *err);

/* frozen=true: v1 freezer.state FROZEN / v2 cgroup.freeze 1, and waits until
 * the kernel reports the transition complete; false thaws the same way. */
int husk_cgroup_freeze(husk_cgroup *cg, bool frozen, husk_error_t *err);

/* Whether the cgroup is frozen (for the `paused` status). A missing freezer
 * or a missing cgroup reads as not frozen. */
int husk_cgroup_is_frozen(husk_cgroup *cg, bool *frozen, husk_error_t *err);

/* Applies res to the live cgroup (validated first, same rules as create).
 * Only the fields present in res are written. SYSTEMD: the limits systemd
 * owns are also set as runtime unit properties (SetUnitProperties). */
int husk_cgroup_update(husk_cgroup *cg, const ocispec_resources *res, husk_error_t *err);

/* ---- statistics (for `events --stats`; runc's stats document) ----
 * Every counter the host's cgroup files offer, in one version-independent
 * form. Missing files leave their fields zero (has_* false for a whole group
 * whose controller is not there). UINT64_MAX stands for "max"/unlimited. */
struct husk_cgroup_mem_entry {
    bool present;
    uint64_t usage, max_usage, limit, failcnt;
};

struct husk_cgroup_blkio_entry {
    uint32_t major, minor;
    char op[16]; /* "Read", "Write", "Sync", "Async", "Discard", "Total" */
    uint64_t value;
};

struct husk_cgroup_hugetlb_entry {
    char page_size[32]; /* "2MB" */
    uint64_t usage, max_usage, failcnt;
};

struct husk_cgroup_stats {
    bool has_cpu;
    uint64_t cpu_total_ns, cpu_user_ns, cpu_kernel_ns;
    uint64_t *cpu_percpu_ns; /* v1 cpuacct only */
    size_t cpu_percpu_len;
    uint64_t throttling_periods, throttled_periods, throttled_time_ns;

    bool has_memory;
    struct husk_cgroup_mem_entry memory, swap, kernel, kernel_tcp;
    uint64_t oom_kills;
    char **memory_stat_keys; /* memory.stat, as the kernel names them */
    uint64_t *memory_stat_values;
    size_t memory_stat_len;

    bool has_pids;
    uint64_t pids_current, pids_limit;

    bool has_blkio;
    struct husk_cgroup_blkio_entry *io_service_bytes; /* recursive */
    size_t io_service_bytes_len;
    struct husk_cgroup_blkio_entry *io_serviced;
    size_t io_serviced_len;

    struct husk_cgroup_hugetlb_entry *hugetlb;
    size_t hugetlb_len;
};

/* Fills *out (zeroed first); free with husk_cgroup_stats_clear. Fails only
 * when the cgroup itself is gone or a read fails for a reason other than a
 * missing file. */
int husk_cgroup_stats(husk_cgroup *cg, struct husk_cgroup_stats *out, husk_error_t *err);
void husk_cgroup_stats_clear(struct husk_cgroup_stats *s);

/* Closes fds and frees. Accepts NULL. Does not remove anything. */
void husk_cgroup_free(husk_cgroup *cg);
#define cleanup_cgroup __attribute__((cleanup(husk_cgroup_free_ptr)))
void husk_cgroup_free_ptr(husk_cgroup **cg);

/* ---- testing seam ----
 * Makes every host path relative to root: mountinfo is read from
 * <root>/proc/self/mountinfo and every mount point is prefixed with root.
 * Clears the cached layout. NULL restores the real host. While a test root is
 * set, control files are created (and truncated) when opened for writing, each
 * value written is followed by a newline (a plain directory tree has no
 * control files and does not parse writes), and removing a cgroup directory
 * removes the regular files in it first, and a v2 device program is loaded
 * (so the kernel verifies it) but not attached; nothing else changes. Not
 * for production. */
void husk_cgroup_set_root_for_testing(const char *root);

#endif
