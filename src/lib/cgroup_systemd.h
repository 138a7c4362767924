/* The systemd cgroup driver: the container's cgroup is a transient scope
 * that systemd creates over D-Bus (org.freedesktop.systemd1.Manager,
 * StartTransientUnit), so systemd knows the cgroup is taken and keeps the
 * limits across `systemctl daemon-reload`.
 *
 * linux.cgroupsPath is "SLICE:PREFIX:NAME" (runtime-spec config-linux.md):
 * the scope "PREFIX-NAME.scope" (or "NAME.scope" when PREFIX is empty) in
 * SLICE ("system.slice" when empty). Absent, it is "system.slice:husk:<id>".
 * The cgroup path systemd gives the scope follows from the slice name:
 * "a-b.slice" lives at /a.slice/a-b.slice.
 *
 * Resources are translated once, by cg_translate (cgroup_resources.c and
 * cgroup_v2.c): the writes systemd has a unit property for become
 * properties too, so the same conversions (shares -> weight, memory+swap
 * -> swap) hold for both. The writes themselves are still made, so a
 * reader of the cgroup files sees the values as soon as husk returns
 * (systemd applies SetUnitProperties from its event loop, after it
 * answers); their values are the ones systemd itself writes.
 *
 * Internal to cgroup.c; unit tests include it. */
#ifndef HUSK_CGROUP_SYSTEMD_H
#define HUSK_CGROUP_SYSTEMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup_internal.h"

/* "infinity" for the t-typed limits (MemoryMax, TasksMax, CPUQuotaPerSecUSec) */
#define CG_SD_INFINITY UINT64_MAX

/* ---- cgroupsPath ---- */

struct cg_sd_path {
    char *slice;       /* "system.slice" */
    char *unit;        /* "husk-abc.scope" */
    char *cgroup_path; /* "/system.slice/husk-abc.scope" */
};

/* Parses cgroups_path (NULL or "" -> "system.slice:husk:<id>"). Errors
 * name linux.cgroupsPath and the value. */
int cg_sd_parse_path(const char *id, const char *cgroups_path, struct cg_sd_path *out,
                     husk_error_t *err);
void cg_sd_path_clear(struct cg_sd_path *p);

/* "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" -> "".
 * Refuses what systemd would not take as a slice name. */
int cg_sd_slice_cgroup(const char *slice, char **out, husk_error_t *err);

/* The scope a persisted cgroup path belongs to: its last component that
 * ends in ".scope" ("/system.slice/husk-a.scope/sub" -> "husk-a.scope"). */
int cg_sd_unit_of_path(const char *cgroup_path, char **unit, husk_error_t *err);

/* ---- unit properties ---- */

enum cg_sd_prop_kind {
    CG_SD_U64,     /* "t" */
    CG_SD_BYTES,   /* "ay": a CPU or NUMA node bitmask */
    CG_SD_DEVICES, /* "a(st)": (device node, value) pairs */
};

struct cg_sd_dev_value {
    char *path; /* "/dev/block/8:0" */
    uint64_t value;
};

struct cg_sd_prop {
    const char *name; /* static: "MemoryMax" */
    enum cg_sd_prop_kind kind;
    uint64_t u64;
    uint8_t *bytes;
    size_t n_bytes;
    struct cg_sd_dev_value *devs;
    size_t n_devs;
};

struct cg_sd_props {
    struct cg_sd_prop *v;
    size_t n;
};

void cg_sd_props_clear(struct cg_sd_props *p);
/* The property named name, or NULL. */
const struct cg_sd_prop *cg_sd_props_find(const struct cg_sd_props *p, const char *name);

/* Turns the writes systemd has a property for into properties; the writes
 * stay (see above), with cpu.max rewritten to the value systemd derives
 * from CPUQuotaPerSecUSec. cur_period_us: the period a cpu.max write
 * without one keeps (the cgroup's current one, or 100000). */
int cg_sd_props_from_writes(struct cg_writes *w, uint64_t cur_period_us, struct cg_sd_props *out,
                            husk_error_t *err);

/* "0-2,5" -> bitmask bytes, bit N = CPU (or node) N, as AllowedCPUs takes. */
int cg_sd_cpuset_mask(const char *list, uint8_t **mask, size_t *n, husk_error_t *err);

/* cpu.max quota/period (us) -> CPUQuotaPerSecUSec, rounded up to the 10 ms
 * systemd keeps in the transient unit file (CPUQuota= in whole percent), so
 * a daemon-reload gives back the same value. */
uint64_t cg_sd_quota_per_sec(uint64_t quota_us, uint64_t period_us);
/* The cpu.max quota systemd writes for a per-second quota and a period. */
uint64_t cg_sd_quota_for_period(uint64_t per_sec_us, uint64_t period_us);

/* ---- the driver's state in a handle ---- */

struct cg_systemd {
    char *unit;
    char *slice;
    bool started;         /* StartTransientUnit accepted our request: ours to stop */
    struct cg_writes writes; /* create: applied once the scope exists */
    struct cg_sd_props props;
};

void cg_systemd_free(struct cg_systemd *sd);

/* ---- D-Bus (fails with a clear error when built without libsystemd) ---- */

/* Fails unless systemd is PID 1 ("no /run/systemd/system"). */
int cg_sd_check_running(husk_error_t *err);

/* StartTransientUnit(unit, "fail") with pid in it and waits for the job.
 * *started is set once systemd accepted the request (the unit is then ours
 * to stop, even when the job failed). */
int cg_sd_start_scope(const char *unit, const char *slice, pid_t pid,
                      const struct cg_sd_props *props, bool *started, husk_error_t *err);

/* SetUnitProperties(unit, runtime=true, props). */
int cg_sd_set_properties(const char *unit, const struct cg_sd_props *props, husk_error_t *err);

/* StopUnit(unit, "replace"), waits for the job, then ResetFailedUnit; a
 * unit that is already gone is not an error. */
int cg_sd_stop_unit(const char *unit, husk_error_t *err);

#endif
