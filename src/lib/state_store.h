/* The --root state store: one directory per container, named by its id.
 *
 *   <root>/.lock            flock'ed only while an id is being reserved or
 *                           its directory removed, so different ids never
 *                           wait on each other for longer than a mkdir
 *   <root>/<id>/lock        flock'ed by every command that changes the
 *                           container (exclusive) or needs it stable (shared)
 *   <root>/<id>/state.json  husk's record (husk_state_record), written
 *                           atomically (rename) once the cgroup exists
 *                           (creating) and again once the init is ready, so a
 *                           reader never needs the lock
 *   <root>/<id>/start.sock  the created init's start socket (see process.h)
 *   <root>/<id>/config.json a copy of the config, kept only when delete
 *                           needs it (poststop hooks)
 * A directory without state.json is a container still being created.
 */
#ifndef HUSK_STATE_STORE_H
#define HUSK_STATE_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "ocispec.h"

#define HUSK_STATE_FILE "state.json"
#define HUSK_START_SOCKET "start.sock"
#define HUSK_CONFIG_COPY "config.json"

typedef struct husk_store {
    char *root;
    int root_fd;
} husk_store;

/* One container's directory, opened and locked. */
typedef struct husk_container_dir {
    char *id;
    char *path;  /* <root>/<id> */
    int dir_fd;
    int lock_fd; /* holds the flock */
} husk_container_dir;

/* What husk remembers about a container between commands. */
typedef struct husk_state_record {
    char *id;
    pid_t pid;                /* the init's host pid */
    uint64_t pid_start;       /* field 22 of /proc/<pid>/stat: guards against pid reuse */
    char *bundle;
    char *rootfs;
    char *created;            /* RFC 3339, nanoseconds, UTC */
    uid_t owner_uid;
    char *cgroup_path;        /* NULL: no cgroup (manager disabled) */
    char *cgroup_manager;     /* "cgroupfs", "disabled" */
    bool keep_config;         /* config.json copy present (poststart/poststop hooks) */
    bool creating;            /* written once the cgroup exists, before the init is
                                 ready: lets delete -f clean up after a create that died */
    bool no_new_keyring;      /* create --no-new-keyring: the init kept its caller's
                                 session keyring, so exec keeps its own too */
    ocispec_string_map *annotations;
} husk_state_record;

/* Refuses "", ".", "..", ids with '/', a leading '.', or characters outside
 * [A-Za-z0-9_.+-]; the error names the id. */
int husk_store_validate_id(const char *id, husk_error_t *err);

/* Opens (create: making it, mode 0700) the store at root. */
int husk_store_open(const char *root, bool create, husk_store **out, husk_error_t *err);
/* For commands on one existing container: checks the id, then opens the
 * store; a store that is not there means "container `id` does not exist"
 * (ENOENT). */
int husk_store_open_for(const char *root, const char *id, husk_store **out, husk_error_t *err);
void husk_store_free(husk_store *store);
void husk_store_free_ptr(husk_store **store);
#define cleanup_store __attribute__((cleanup(husk_store_free_ptr)))

/* Makes <root>/<id> for a new container and locks it exclusively.
 * EEXIST: "container `id` already exists". */
int husk_store_reserve(husk_store *store, const char *id, husk_container_dir **out,
                       husk_error_t *err);

/* Opens an existing container's directory and takes its lock (exclusive or
 * shared). ENOENT: "container `id` does not exist" (also when it was
 * removed while we waited for the lock). */
int husk_store_open_container(husk_store *store, const char *id, bool exclusive,
                              husk_container_dir **out, husk_error_t *err);

/* Removes every file of the directory and the directory itself; the lock is
 * released when *d is freed. */
int husk_store_remove_container(husk_store *store, husk_container_dir *d, husk_error_t *err);

void husk_container_dir_free(husk_container_dir *d);
void husk_container_dir_free_ptr(husk_container_dir **d);
#define cleanup_container_dir __attribute__((cleanup(husk_container_dir_free_ptr)))

/* The ids in the store (sorted), NULL-terminated, malloc'd. */
int husk_store_list_ids(husk_store *store, char ***ids, husk_error_t *err);

/* state.json in the container dir. load: ENOENT when the container is
 * still being created. */
int husk_state_record_save(int dir_fd, const husk_state_record *rec, husk_error_t *err);
int husk_state_record_load(int dir_fd, husk_state_record **out, husk_error_t *err);
void husk_state_record_free(husk_state_record *rec);
void husk_state_record_free_ptr(husk_state_record **rec);
#define cleanup_state_record __attribute__((cleanup(husk_state_record_free_ptr)))

/* Start time (clock ticks since boot, /proc/<pid>/stat field 22) of pid,
 * and whether it is a zombie. ENOENT/ESRCH when it is gone. */
int husk_proc_start_time(pid_t pid, uint64_t *start, bool *zombie, husk_error_t *err);

/* Current time as runc prints it: 2006-01-02T15:04:05.999999999Z. */
char *husk_rfc3339_now(void);

#endif
