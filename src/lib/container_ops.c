/* update / pause / resume / ps / events: the cgroup side of a live
 * container (see container_ops.h). */
#include "container_ops.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "cgroup_internal.h"
#include "container.h"
#include "state_store.h"
#include "syscalls.h"
#include "utils.h"

/* A container loaded under its lock, with a handle on its cgroup. */
struct loaded {
    husk_store *store;
    husk_container_dir *dir;
    husk_container_info info;
    husk_cgroup *cg;
};

static void loaded_clear(struct loaded *l)
{
    husk_cgroup_free(l->cg);
    husk_container_info_clear(&l->info);
    husk_container_dir_free(l->dir);
    husk_store_free(l->store);
    memset(l, 0, sizeof *l);
}

#define cleanup_loaded __attribute__((cleanup(loaded_clear)))

static int load_locked(const char *root, const char *id, bool exclusive, struct loaded *l,
                       husk_error_t *err)
{
    memset(l, 0, sizeof *l);
    if (husk_store_open_for(root, id, &l->store, err) < 0)
        return -1;
    if (husk_store_open_container(l->store, id, exclusive, &l->dir, err) < 0)
        return -1;
    /* The status comes from the lifecycle's own rules (created / running /
     * paused / stopped), read while we hold the lock. */
    if (husk_container_info_load_at(l->store, id, &l->info, err) < 0)
        return -1;
    const husk_state_record *rec = l->info.rec;
    enum husk_cgroup_manager manager;
    if (husk_cgroup_manager_parse(rec->cgroup_manager != NULL ? rec->cgroup_manager : "cgroupfs",
                                  &manager, err) < 0 ||
        husk_cgroup_load(manager, rec->cgroup_path, &l->cg, err) < 0)
        return husk_error_wrap(err, "container `%s`", id);
    return 0;
}

static bool status_is(const struct loaded *l, const char *status)
{
    return strcmp(l->info.status, status) == 0;
}

/* created, running or paused: the init exists and so does the cgroup. */
static bool has_live_init(const struct loaded *l)
{
    return status_is(l, "created") || status_is(l, "running") || status_is(l, "paused");
}

/* ---------- update ---------- */

int husk_container_update(const char *root, const char *id, const ocispec_resources *res,
                          husk_error_t *err)
{
    cleanup_loaded struct loaded l;
    if (load_locked(root, id, true, &l, err) < 0)
        return -1;
    if (!has_live_init(&l))
        return husk_error_plain(err, EINVAL, "container `%s` is %s: cannot update the resources of a "
                                      "container that is not running",
                         id, l.info.status);
    if (husk_cgroup_update(l.cg, res, err) < 0)
        return husk_error_wrap(err, "container `%s`", id);
    return 0;
}

/* ---------- pause / resume ---------- */

int husk_container_pause(const char *root, const char *id, husk_error_t *err)
{
    cleanup_loaded struct loaded l;
    if (load_locked(root, id, true, &l, err) < 0)
        return -1;
    if (!status_is(&l, "running") && !status_is(&l, "created"))
        return husk_error_plain(err, EINVAL, "container `%s`: container not running (status %s)", id,
                         l.info.status);
    if (husk_cgroup_freeze(l.cg, true, err) < 0)
        return husk_error_wrap(err, "container `%s`", id);
    return 0;
}

int husk_container_resume(const char *root, const char *id, husk_error_t *err)
{
    cleanup_loaded struct loaded l;
    if (load_locked(root, id, true, &l, err) < 0)
        return -1;
    /* A created container shows `created` even while frozen: its cgroup
     * decides. */
    bool frozen = status_is(&l, "paused");
    if (!frozen && status_is(&l, "created") && husk_cgroup_is_frozen(l.cg, &frozen, err) < 0)
        return husk_error_wrap(err, "container `%s`", id);
    if (!frozen)
        return husk_error_plain(err, EINVAL, "container `%s`: container not paused (status %s)", id,
                         l.info.status);
    if (husk_cgroup_freeze(l.cg, false, err) < 0)
        return husk_error_wrap(err, "container `%s`", id);
    return 0;
}

/* ---------- ps / stats ---------- */

/* ps and stats read a stopped container's cgroup too (processes that
 * outlived the init are still worth seeing), as long as it exists. */
int husk_container_pids(const char *root, const char *id, pid_t **pids, size_t *n,
                        husk_error_t *err)
{
    cleanup_loaded struct loaded l;
    *pids = NULL;
    *n = 0;
    if (load_locked(root, id, false, &l, err) < 0)
        return -1;
    if (status_is(&l, "creating"))
        return husk_error_plain(err, EBUSY, "container `%s` is still being created", id);
    if (husk_cgroup_pids(l.cg, pids, n, err) < 0)
        return husk_error_wrap(err, "container `%s`", id);
    return 0;
}

int husk_container_stats(const char *root, const char *id, struct husk_cgroup_stats *out,
                         husk_error_t *err)
{
    cleanup_loaded struct loaded l;
    memset(out, 0, sizeof *out);
    if (load_locked(root, id, false, &l, err) < 0)
        return -1;
    if (!has_live_init(&l))
        return husk_error_plain(err, ESRCH, "container `%s`: container not running (status %s)", id,
                         l.info.status);
    if (husk_cgroup_stats(l.cg, out, err) < 0)
        return husk_error_wrap(err, "container `%s`", id);
    return 0;
}

/* ---------- events ---------- */

enum oom_source { OOM_NONE, OOM_V1_EVENTFD, OOM_V2_INOTIFY };

struct husk_events {
    char *id;
    husk_cgroup *cg;
    int pidfd;          /* the init: readable once it exits */
    int oom_fd;         /* v1: eventfd; v2: inotify on memory.events */
    enum oom_source oom;
    int memory_dir_fd;  /* the memory cgroup: to re-read its files */
    char *memory_dir;   /* for messages */
    uint64_t oom_kills; /* v2: the last oom_kill count seen */
    struct timespec next_tick;
};

void husk_events_free(husk_events *ev)
{
    if (ev == NULL)
        return;
    husk_cgroup_free(ev->cg);
    if (ev->pidfd >= 0)
        close(ev->pidfd);
    if (ev->oom_fd >= 0)
        close(ev->oom_fd);
    if (ev->memory_dir_fd >= 0)
        close(ev->memory_dir_fd);
    free(ev->memory_dir);
    free(ev->id);
    free(ev);
}

void husk_events_free_ptr(husk_events **ev)
{
    husk_events_free(*ev);
    *ev = NULL;
}

/* v1: the kernel signals an eventfd registered through cgroup.event_control
 * against memory.oom_control on every OOM in the cgroup (and once more when
 * the cgroup is removed). */
static int oom_watch_v1(husk_events *ev, const struct cg_dir *d, husk_error_t *err)
{
    ev->memory_dir_fd = fcntl(d->fd, F_DUPFD_CLOEXEC, 0);
    if (ev->memory_dir_fd < 0)
        return husk_error_set(err, errno, "dup `%s`", d->abs);
    cleanup_close int control = openat(d->fd, "memory.oom_control", O_RDONLY | O_CLOEXEC);
    if (control < 0)
        return husk_error_set(err, errno, "open `%s/memory.oom_control`", d->abs);
    cleanup_close int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0)
        return husk_error_set(err, errno, "eventfd for OOM notifications");
    char registration[64];
    snprintf(registration, sizeof registration, "%d %d", efd, control);
    if (cg_write(d, "cgroup.event_control", registration, err) < 0)
        return husk_error_wrap(err, "register for OOM notifications");
    /* The kernel keeps its own reference on memory.oom_control. */
    ev->oom_fd = steal_fd(&efd);
    ev->oom = OOM_V1_EVENTFD;
    return 0;
}

static int read_oom_kills(husk_events *ev, uint64_t *count, husk_error_t *err)
{
    cleanup_free char *text = NULL;
    *count = 0;
    if (husk_read_file_at(ev->memory_dir_fd, "memory.events", &text, NULL, err) < 0)
        return husk_error_wrap(err, "`%s`", ev->memory_dir);
    for (char *line = text; line != NULL && *line != '\0';) {
        if (strncmp(line, "oom_kill ", 9) == 0) {
            *count = strtoull(line + 9, NULL, 10);
            break;
        }
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    return 0;
}

/* v2: memory.events is rewritten (a "file modified" event) whenever one of
 * its counters moves; an OOM is a rise of oom_kill. */
static int oom_watch_v2(husk_events *ev, const struct cg_dir *d, husk_error_t *err)
{
    ev->memory_dir = strdup(d->abs);
    if (ev->memory_dir == NULL)
        return husk_error_set(err, ENOMEM, "events");
    ev->memory_dir_fd = fcntl(d->fd, F_DUPFD_CLOEXEC, 0);
    if (ev->memory_dir_fd < 0)
        return husk_error_set(err, errno, "dup `%s`", d->abs);
    cleanup_close int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (ifd < 0)
        return husk_error_set(err, errno, "inotify for OOM notifications");
    cleanup_free char *file = NULL;
    if (asprintf(&file, "%s/memory.events", d->abs) < 0)
        return husk_error_set(err, ENOMEM, "events");
    if (inotify_add_watch(ifd, file, IN_MODIFY) < 0)
        return husk_error_set(err, errno, "watch `%s`", file);
    if (read_oom_kills(ev, &ev->oom_kills, err) < 0)
        return -1;
    ev->oom_fd = steal_fd(&ifd);
    ev->oom = OOM_V2_INOTIFY;
    return 0;
}

static int oom_watch(husk_events *ev, husk_error_t *err)
{
    if (ev->cg == NULL)
        return 0;
    struct cg_dir *d = cg_dir_for(ev->cg, CG_MEMORY);
    if (d == NULL || d->fd < 0)
        return 0; /* no memory controller: no OOM to report */
    return d->h->v2 ? oom_watch_v2(ev, d, err) : oom_watch_v1(ev, d, err);
}

static void timespec_add_ms(struct timespec *t, int ms)
{
    t->tv_sec += ms / 1000;
    t->tv_nsec += (long) (ms % 1000) * 1000000L;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

int husk_events_open(const char *root, const char *id, husk_events **out, husk_error_t *err)
{
    cleanup_loaded struct loaded l;
    if (load_locked(root, id, false, &l, err) < 0)
        return -1;
    if (!has_live_init(&l))
        return husk_error_plain(err, ESRCH, "container `%s`: container not running (status %s)", id,
                         l.info.status);
    husk_events *ev = calloc(1, sizeof *ev);
    if (ev == NULL)
        return husk_error_set(err, ENOMEM, "events");
    ev->pidfd = ev->oom_fd = ev->memory_dir_fd = -1;
    cleanup_events husk_events *guard = ev;
    ev->id = strdup(id);
    if (ev->id == NULL)
        return husk_error_set(err, ENOMEM, "events");
    ev->pidfd = husk_pidfd_open(l.info.rec->pid, 0);
    if (ev->pidfd < 0 && errno != ESRCH)
        return husk_error_set(err, errno, "container `%s`: pidfd_open on its init (pid %d)", id,
                              (int) l.info.rec->pid);
    /* Checked once the pidfd pins the process: the pid was not reused. */
    uint64_t start = 0;
    bool zombie = false;
    if (ev->pidfd < 0 || husk_proc_start_time(l.info.rec->pid, &start, &zombie, NULL) < 0 ||
        start != l.info.rec->pid_start)
        return husk_error_plain(err, ESRCH, "container `%s`: container not running", id);
    ev->cg = steal_pointer(&l.cg);
    if (l.info.rec->cgroup_path == NULL)
        return husk_error_plain(err, ENOTSUP,
                         "container `%s` runs without cgroups (--cgroup-manager disabled): no "
                         "events to report",
                         id);
    if (oom_watch(ev, err) < 0)
        return husk_error_wrap(err, "container `%s`", id);
    /* The init might have exited between the status check and the pidfd:
     * the pidfd then reports it at once, so the stream just ends. */
    *out = steal_pointer(&guard);
    return 0;
}

static int ms_until(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ms = (long long) (t->tv_sec - now.tv_sec) * 1000 +
                   (t->tv_nsec - now.tv_nsec) / 1000000;
    if (ms < 0)
        return 0;
    return ms > 3600 * 1000 ? 3600 * 1000 : (int) ms;
}

/* Drains the OOM source; true when it reports a new OOM. */
static int oom_fired(husk_events *ev, bool *fired, husk_error_t *err)
{
    *fired = false;
    if (ev->oom == OOM_V1_EVENTFD) {
        uint64_t count;
        /* The eventfd also fires when the cgroup is removed: that is no OOM. */
        if (read(ev->oom_fd, &count, sizeof count) == (ssize_t) sizeof count)
            *fired = count > 0 && faccessat(ev->memory_dir_fd, "memory.oom_control", F_OK, 0) == 0;
        return 0;
    }
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    while (read(ev->oom_fd, buf, sizeof buf) > 0)
        ;
    uint64_t kills;
    if (read_oom_kills(ev, &kills, err) < 0) {
        /* memory.events is gone with the cgroup: the exit will follow. */
        husk_error_free(err);
        return 0;
    }
    *fired = kills > ev->oom_kills;
    ev->oom_kills = kills;
    return 0;
}

static bool init_exited(const husk_events *ev)
{
    struct pollfd p = { .fd = ev->pidfd, .events = POLLIN };
    return poll(&p, 1, 0) > 0;
}

int husk_events_next(husk_events *ev, int interval_ms, enum husk_event_kind *what,
                     husk_error_t *err)
{
    if (interval_ms <= 0)
        return husk_error_plain(err, EINVAL, "events: interval must be positive, got %d ms", interval_ms);
    if (ev->next_tick.tv_sec == 0 && ev->next_tick.tv_nsec == 0) {
        clock_gettime(CLOCK_MONOTONIC, &ev->next_tick);
        timespec_add_ms(&ev->next_tick, interval_ms);
    }
    for (;;) {
        struct pollfd fds[2] = {
            { .fd = ev->pidfd, .events = POLLIN },
            { .fd = ev->oom_fd, .events = POLLIN },
        };
        int nfds = ev->oom_fd >= 0 ? 2 : 1;
        /* Ticks come interval_ms apart, the first one interval_ms after the first call. */
        int r = poll(fds, (nfds_t) nfds, ms_until(&ev->next_tick));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return husk_error_set(err, errno, "events: poll");
        }
        if (nfds == 2 && fds[1].revents != 0) {
            bool fired;
            if (oom_fired(ev, &fired, err) < 0)
                return -1;
            /* An OOM is reported before the exit it may have caused. */
            if (fired) {
                *what = HUSK_EVENT_OOM;
                return 0;
            }
        }
        if (fds[0].revents != 0 || init_exited(ev)) {
            *what = HUSK_EVENT_EXITED;
            return 0;
        }
        if (r == 0 || ms_until(&ev->next_tick) == 0) {
            timespec_add_ms(&ev->next_tick, interval_ms);
            *what = HUSK_EVENT_TICK;
            return 0;
        }
    }
}

int husk_events_stats(husk_events *ev, struct husk_cgroup_stats *out, husk_error_t *err)
{
    if (husk_cgroup_stats(ev->cg, out, err) < 0)
        return husk_error_wrap(err, "container `%s`", ev->id);
    return 0;
}
