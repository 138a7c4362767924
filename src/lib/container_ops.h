/* Operations on a live container's cgroup: update, pause, resume, ps,
 * events. Each entry point loads the container from the --root store under
 * its lock, checks its status the way runc does, and calls the cgroup
 * module (cgroup.h) on the cgroup path and manager recorded at create.
 * Nothing here prints; errors follow error.h.
 *
 * Status rules (as runc's):
 *   update  refused for a stopped (or still creating) container;
 *   pause   allowed for created and running ("container not running" else);
 *   resume  allowed for paused only ("container not paused" else);
 *   pids / stats / events  need the container's cgroup to exist. */
#ifndef HUSK_CONTAINER_OPS_H
#define HUSK_CONTAINER_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cgroup.h"
#include "error.h"
#include "ocispec.h"

/* Applies res (only the fields present) to the container's live cgroup.
 * Validation happens before any write, so a bad value changes nothing. */
int husk_container_update(const char *root, const char *id, const ocispec_resources *res,
                          husk_error_t *err);

int husk_container_pause(const char *root, const char *id, husk_error_t *err);
int husk_container_resume(const char *root, const char *id, husk_error_t *err);

/* Every pid of the container's cgroup tree, sorted; *pids malloc'd (NULL
 * when *n == 0). */
int husk_container_pids(const char *root, const char *id, pid_t **pids, size_t *n,
                        husk_error_t *err);

/* One statistics sample of the container's cgroup (free with
 * husk_cgroup_stats_clear). */
int husk_container_stats(const char *root, const char *id, struct husk_cgroup_stats *out,
                         husk_error_t *err);

/* ---- events: a stream of stats ticks and OOM notifications ----
 * Opened under the container's lock, then held without it (so other
 * commands, delete included, are not blocked by a long-running `events`). */
typedef struct husk_events husk_events;

enum husk_event_kind {
    HUSK_EVENT_TICK,   /* the interval passed: time for a stats sample */
    HUSK_EVENT_OOM,    /* the cgroup hit its memory limit (an OOM) */
    HUSK_EVENT_EXITED, /* the container's init is gone: the stream ends */
};

/* Refuses a container that is not created, running or paused. Without an
 * OOM notification source (no memory controller), only ticks and the exit
 * are reported. */
int husk_events_open(const char *root, const char *id, husk_events **out, husk_error_t *err);

/* Waits until the next event; ticks come interval_ms apart (the first one
 * interval_ms after the first call), whatever OOM events happen in between. */
int husk_events_next(husk_events *ev, int interval_ms, enum husk_event_kind *what,
                     husk_error_t *err);

int husk_events_stats(husk_events *ev, struct husk_cgroup_stats *out, husk_error_t *err);

void husk_events_free(husk_events *ev);
void husk_events_free_ptr(husk_events **ev);
#define cleanup_events __attribute__((cleanup(husk_events_free_ptr)))

#endif
