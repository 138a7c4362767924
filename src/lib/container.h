/* The OCI lifecycle (runtime-spec runtime.md): create, start, run, state,
 * kill, delete, list. Each entry point takes the --root store path and works
 * on one container under its lock; nothing here prints.
 *
 * Warnings (a failing poststart or poststop hook, which the spec says must
 * not fail the operation) are returned through *warn when warn != NULL; the
 * CLI prints them. */
#ifndef HUSK_CONTAINER_H
#define HUSK_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "state_store.h"

enum husk_create_mode {
    HUSK_MODE_CREATE,         /* `create`: the init waits for `start` */
    HUSK_MODE_RUN_DETACH,     /* `run -d`: started at once, husk returns */
    HUSK_MODE_RUN_FOREGROUND, /* `run`: started, waited for, then deleted */
};

struct husk_create_opts {
    const char *root;
    const char *id;
    const char *bundle;         /* NULL: the current directory */
    const char *config_path;    /* NULL: <bundle>/config.json */
    const char *pid_file;
    const char *console_socket;
    int preserve_fds;
    bool no_pivot;
    bool no_new_keyring;
    bool keep;                  /* run: keep the stopped container */
    const char *cgroup_manager; /* "cgroupfs" (default), "disabled" */
    enum husk_create_mode mode;
};

/* create / run -d. */
int husk_container_create(const struct husk_create_opts *opts, husk_error_t *warn,
                          husk_error_t *err);

/* run in the foreground: creates, starts, forwards signals (and proxies the
 * terminal when process.terminal is set without --console-socket), waits,
 * deletes (unless keep). *exit_status: the container's exit status, or
 * 128+N when signal N killed it. */
int husk_container_run(const struct husk_create_opts *opts, int *exit_status, husk_error_t *warn,
                       husk_error_t *err);

int husk_container_start(const char *root, const char *id, husk_error_t *warn, husk_error_t *err);
int husk_container_kill(const char *root, const char *id, int sig, bool all, husk_error_t *err);
/* The cgroup manager is the one recorded at create, whatever --cgroup-manager
 * says now. */
int husk_container_delete(const char *root, const char *id, bool force, husk_error_t *warn,
                          husk_error_t *err);

/* A container as `state` and `list` show it. */
typedef struct husk_container_info {
    husk_state_record *rec;
    const char *status; /* creating created running stopped (static string) */
} husk_container_info;

int husk_container_info_load(const char *root, const char *id, husk_container_info *out,
                             husk_error_t *err);
/* The same, in a store the caller has open already. */
int husk_container_info_load_at(husk_store *store, const char *id, husk_container_info *out,
                                husk_error_t *err);
void husk_container_info_clear(husk_container_info *info);

/* `husk state` JSON (runc's fields: ociVersion id pid status bundle rootfs
 * created owner annotations); owner_name NULL prints "" like runc state. */
char *husk_container_info_json(const husk_container_info *info, const char *owner_name,
                               bool pretty);

/* Every container of the store, sorted by id (containers still being
 * created are skipped). */
int husk_container_list(const char *root, husk_container_info **out, size_t *n,
                        husk_error_t *err);

#endif
