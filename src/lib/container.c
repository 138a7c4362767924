#include "container.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>

#include "cgroup.h"
#include "fds.h"
#include "foreground.h"
#include "hooks.h"
#include "log.h"
#include "namespaces.h"
#include "process.h"
#include "process_attrs.h"
#include "sysctl.h"
#include "syscalls.h"
#include "terminal.h"
#include "utils.h"

extern char **environ;



/* ---------- small helpers ---------- */

static void warn_append(husk_error_t *warn, husk_error_t *err)
{
    if (warn == NULL || err == NULL || *err == NULL)
        return;
    if (*warn == NULL) {
        *warn = steal_pointer(err);
        return;
    }
    husk_error_wrap(warn, "%s; ", (*err)->msg);
    husk_error_free(err);
}

static int parse_manager(const char *name, enum husk_cgroup_manager *out, husk_error_t *err)
{
    return husk_cgroup_manager_parse(name != NULL ? name : "cgroupfs", out, err);
}

static bool init_alive(const husk_state_record *rec)
{
    uint64_t start;
    bool zombie;
    if (rec->pid <= 0 || husk_proc_start_time(rec->pid, &start, &zombie, NULL) < 0)
        return false;
    return start == rec->pid_start && !zombie;
}

/* `husk pause` freezes the cgroup; runc reports that as "paused". */
static bool is_paused(const husk_state_record *rec)
{
    enum husk_cgroup_manager manager;
    cleanup_cgroup husk_cgroup *cg = NULL;
    bool frozen = false;
    if (rec->cgroup_path == NULL || parse_manager(rec->cgroup_manager, &manager, NULL) < 0 ||
        husk_cgroup_load(manager, rec->cgroup_path, &cg, NULL) < 0 ||
        husk_cgroup_is_frozen(cg, &frozen, NULL) < 0)
        return false;
    return frozen;
}

static const char *compute_status(int dir_fd, const husk_state_record *rec)
{
    if (rec->creating)
        return "creating";
    if (!init_alive(rec))
        return "stopped";
    if (faccessat(dir_fd, HUSK_START_SOCKET, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
        return "created";
    return is_paused(rec) ? "paused" : "running";
}

/* A pidfd on the init, only if it is still the process we started. */
static int open_init_pidfd(const husk_state_record *rec, husk_error_t *err)
{
    int fd = husk_pidfd_open(rec->pid, 0);
    if (fd < 0)
        return husk_error_plain(err, ESRCH, "container not running");
    /* Checked after opening: the pidfd now pins this very process. */
    if (!init_alive(rec)) {
        close(fd);
        return husk_error_plain(err, ESRCH, "container not running");
    }
    return fd;
}

/* Waits for a process (not necessarily our child) to exit. */
static int wait_pidfd_exit(int pidfd, int timeout_ms)
{
    struct pollfd p = { .fd = pidfd, .events = POLLIN };
    int r;
    while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
        ;
    return r > 0 ? 0 : -1;
}

/* ---------- create ---------- */

struct create_ctx {
    const struct husk_create_opts *opts;
    husk_store *store;
    husk_container_dir *dir;
    char *bundle;
    char *rootfs;
    char *config_text;
    size_t config_len;
    ocispec_config *config;
    enum husk_cgroup_manager manager;
    husk_cgroup *cg;
    husk_ns_plan ns;
    husk_listen_fds listen;
    int *cc_hook_fds;
    int listen_fd;
    pid_t pid;
    int pidfd;
    int sync;
    int pty_master;
    bool pid_file_written;
    husk_seccomp *seccomp;
};

static void create_ctx_init(struct create_ctx *c, const struct husk_create_opts *opts)
{
    memset(c, 0, sizeof(*c));
    c->opts = opts;
    c->listen_fd = c->pidfd = c->sync = c->pty_master = -1;
    c->ns.pid_join_fd = -1;
}

static void create_ctx_release(struct create_ctx *c)
{
    if (c->config != NULL && c->config->hooks != NULL)
        husk_hooks_close(c->cc_hook_fds, c->config->hooks->create_container_len);
    c->cc_hook_fds = NULL;
    husk_ns_plan_close(&c->ns);
    husk_listen_fds_free(&c->listen);
    if (c->listen_fd >= 0)
        close(c->listen_fd);
    if (c->sync >= 0)
        close(c->sync);
    if (c->pidfd >= 0)
        close(c->pidfd);
    if (c->pty_master >= 0)
        close(c->pty_master);
    c->listen_fd = c->sync = c->pidfd = c->pty_master = -1;
    husk_seccomp_free(c->seccomp);
    c->seccomp = NULL;
    husk_cgroup_free(c->cg);
    c->cg = NULL;
    ocispec_config_free(c->config);
    c->config = NULL;
    free(c->config_text);
    free(c->bundle);
    free(c->rootfs);
    c->config_text = c->bundle = c->rootfs = NULL;
    husk_container_dir_free(c->dir);
    c->dir = NULL;
    husk_store_free(c->store);
    c->store = NULL;
}

/* Undoes a create that failed: the init (and with it its namespaces and
 * mounts), the cgroup, the pid file, the state dir. */
static void create_ctx_undo(struct create_ctx *c)
{
    if (c->pidfd >= 0) {
        husk_pidfd_send_signal(c->pidfd, SIGKILL, NULL, 0);
        siginfo_t info;
        waitid((idtype_t) P_PIDFD, (id_t) c->pidfd, &info, WEXITED);
    }
    if (c->cg != NULL) {
        husk_cgroup_kill(c->cg, SIGKILL, NULL);
        husk_cgroup_destroy(c->cg, NULL);
    }
    if (c->pid_file_written)
        unlink(c->opts->pid_file);
    if (c->dir != NULL)
        husk_store_remove_container(c->store, c->dir, NULL);
}

static int load_config(struct create_ctx *c, husk_error_t *err)
{
    const struct husk_create_opts *o = c->opts;
    const char *bundle = o->bundle != NULL ? o->bundle : ".";
    c->bundle = realpath(bundle, NULL);
    if (c->bundle == NULL)
        return husk_error_set(err, errno, "bundle `%s`", bundle);
    struct stat st;
    if (stat(c->bundle, &st) < 0 || !S_ISDIR(st.st_mode))
        return husk_error_set(err, ENOTDIR, "bundle `%s`", bundle);

    cleanup_free char *default_path = NULL;
    const char *path = o->config_path;
    if (path == NULL) {
        if (asprintf(&default_path, "%s/config.json", c->bundle) < 0)
            return husk_error_set(err, ENOMEM, "config");
        path = default_path;
    }
    if (husk_read_file(path, &c->config_text, &c->config_len, err) < 0)
        return -1;
    char *perr = NULL;
    c->config = ocispec_config_parse_data(c->config_text, c->config_len, &perr);
    if (c->config == NULL) {
        husk_error_plain(err, EINVAL, "%s: %s", path, perr ? perr : "invalid config");
        free(perr);
        return -1;
    }
    return 0;
}

static int validate_config(struct create_ctx *c, husk_error_t *err)
{
    const ocispec_config *cfg = c->config;
    const struct husk_create_opts *o = c->opts;
    if (cfg->process == NULL)
        return husk_error_plain(err, EINVAL, "process: required to create a container");
    if (cfg->process->args == NULL || cfg->process->args_len == 0 || cfg->process->args[0] == NULL ||
        cfg->process->args[0][0] == '\0')
        return husk_error_plain(err, EINVAL, "process.args: must name a program");
    if (cfg->process->cwd != NULL && cfg->process->cwd[0] != '/')
        return husk_error_plain(err, EINVAL, "process.cwd: `%s` is not absolute", cfg->process->cwd);
    if (cfg->root == NULL || cfg->root->path == NULL || cfg->root->path[0] == '\0')
        return husk_error_plain(err, EINVAL, "root.path: required");

    cleanup_free char *joined = NULL;
    const char *rp = cfg->root->path;
    if (rp[0] != '/') {
        if (asprintf(&joined, "%s/%s", c->bundle, rp) < 0)
            return husk_error_set(err, ENOMEM, "root.path");
        rp = joined;
    }
    c->rootfs = realpath(rp, NULL);
    struct stat st;
    if (c->rootfs == NULL || stat(c->rootfs, &st) < 0)
        return husk_error_set(err, errno, "root.path: rootfs `%s`", rp);
    if (!S_ISDIR(st.st_mode))
        return husk_error_set(err, ENOTDIR, "root.path: rootfs `%s`", rp);

    bool terminal = cfg->process->terminal;
    if (terminal && o->console_socket == NULL && o->mode != HUSK_MODE_RUN_FOREGROUND)
        return husk_error_set(err, 0,
                              "process.terminal is true: --console-socket is required when husk "
                              "does not stay in the foreground");
    if (!terminal && o->console_socket != NULL)
        return husk_error_set(err, 0,
                              "--console-socket `%s`: process.terminal is false (no pty to send)",
                              o->console_socket);
    if (o->preserve_fds < 0)
        return husk_error_plain(err, EINVAL, "--preserve-fds: %d is negative", o->preserve_fds);
    return 0;
}

/* The fds the init will pass on must be the caller's: a number the caller
 * left closed could by now hold an fd of husk's own (the log file), which
 * would then leak into the container. */
static int check_passed_fds(struct create_ctx *c, husk_error_t *err)
{
    int first = 3 + c->listen.count;
    int last = husk_fds_keep_up_to(&c->listen, c->opts->preserve_fds);
    for (int fd = first; fd <= last; fd++)
        if (fcntl(fd, F_GETFD) < 0 || fd == husk_log_fd())
            return husk_error_plain(err, EBADF,
                               "--preserve-fds %d: fd %d was not passed to husk (not open)",
                               c->opts->preserve_fds, fd);
    return 0;
}

/* The socket `husk start` connects to; bound through /proc/self/fd when
 * the state dir's path is too long for sun_path. */
static int make_start_socket(struct create_ctx *c, husk_error_t *err)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int len = snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s", c->dir->path,
                       HUSK_START_SOCKET);
    if (len < 0 || (size_t) len >= sizeof(addr.sun_path))
        snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/%s", c->dir->dir_fd,
                 HUSK_START_SOCKET);
    c->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (c->listen_fd < 0)
        return husk_error_set(err, errno, "start socket");
    if (bind(c->listen_fd, (struct sockaddr *) &addr, sizeof(addr)) < 0 ||
        listen(c->listen_fd, 4) < 0)
        return husk_error_set(err, errno, "start socket `%s/%s`", c->dir->path, HUSK_START_SOCKET);
    return 0;
}

static int run_parent_hooks(struct create_ctx *c, husk_error_t *err)
{
    const ocispec_hooks *h = c->config->hooks;
    cleanup_free char *state =
        husk_process_state_json(c->config, c->opts->id, c->bundle, "creating", c->pid);
    if (husk_hooks_run("prestart", h->prestart, h->prestart_len, NULL, state, err) < 0)
        return -1;
    return husk_hooks_run("createRuntime", h->create_runtime, h->create_runtime_len, NULL, state,
                          err);
}

static int init_exit_error(struct create_ctx *c, husk_error_t *err)
{
    siginfo_t info = { 0 };
    if (waitid((idtype_t) P_PIDFD, (id_t) c->pidfd, &info, WEXITED) == 0) {
        close(c->pidfd);
        c->pidfd = -1;
        if (info.si_code == CLD_EXITED)
            return husk_error_set(err, 0, "container init exited with status %d before it was ready",
                                  info.si_status);
        return husk_error_set(err, 0, "container init killed by signal %d before it was ready",
                              info.si_status);
    }
    return husk_error_set(err, 0, "container init exited before it was ready");
}

/* Sends to the init; when that fails because the init already gave up,
 * its own ERROR (waiting in the socket) is the error to report. */
static int send_to_init(struct create_ctx *c, uint32_t type, int errnum, int64_t value,
                        husk_error_t *err)
{
    if (husk_sync_send(c->sync, type, errnum, value, NULL, -1, err) == 0)
        return 0;
    struct husk_sync_msg msg;
    cleanup_error husk_error_t recv_err = NULL;
    int r = husk_sync_recv(c->sync, &msg, NULL, &recv_err);
    if (r > 0 && msg.type == HUSK_SYNC_ERROR) {
        husk_error_free(err);
        return husk_sync_error(&msg, err);
    }
    if (r == 0) {
        husk_error_free(err);
        return init_exit_error(c, err);
    }
    return -1;
}

/* After a failed step of the parent's: if the init already reported an
 * error of its own (and died, making ours fail), that one is the cause. */
static int prefer_init_error(struct create_ctx *c, husk_error_t *err)
{
    struct pollfd p = { .fd = c->sync, .events = POLLIN };
    if (poll(&p, 1, 0) != 1)
        return -1;
    struct husk_sync_msg msg;
    if (husk_sync_recv(c->sync, &msg, NULL, NULL) > 0 && msg.type == HUSK_SYNC_ERROR) {
        husk_error_free(err);
        return husk_sync_error(&msg, err);
    }
    return -1;
}

/* Talks to the init until READY: hooks, the pty. */
static int wait_ready(struct create_ctx *c, husk_error_t *err)
{
    for (;;) {
        struct husk_sync_msg msg;
        int fd = -1;
        int r = husk_sync_recv(c->sync, &msg, &fd, err);
        if (r < 0)
            return -1;
        if (r == 0)
            return init_exit_error(c, err);
        switch (msg.type) {
        case HUSK_SYNC_ERROR:
            return husk_sync_error(&msg, err);
        case HUSK_SYNC_HOOKS:
            if (run_parent_hooks(c, err) < 0)
                return -1;
            if (send_to_init(c, HUSK_SYNC_HOOKS_DONE, 0, 0, err) < 0)
                return -1;
            break;
        case HUSK_SYNC_PTY:
            if (fd < 0)
                return husk_error_plain(err, EPROTO, "container init sent no pty");
            if (c->pty_master >= 0)
                close(c->pty_master);
            c->pty_master = fd;
            if (c->opts->console_socket != NULL &&
                husk_terminal_send_to_console_socket(c->opts->console_socket, fd, err) < 0)
                return -1;
            /* The foreground proxy: the user's window size, before the
             * program starts and asks for it (process.consoleSize wins). */
            if (c->opts->console_socket == NULL && c->config->process->console_size == NULL &&
                isatty(STDIN_FILENO))
                husk_terminal_copy_size(STDIN_FILENO, fd);
            break;
        case HUSK_SYNC_READY:
            if (fd >= 0)
                close(fd);
            return 0;
        default:
            if (fd >= 0)
                close(fd);
            return husk_error_plain(err, EPROTO, "container init sent unexpected message %u",
                                  msg.type);
        }
    }
}

static int save_state(struct create_ctx *c, bool creating, husk_error_t *err)
{
    husk_state_record rec = {
        .creating = creating,
        .id = (char *) c->opts->id,
        .pid = c->pid,
        .bundle = c->bundle,
        .rootfs = c->rootfs,
        .owner_uid = geteuid(),
        .cgroup_path = (char *) husk_cgroup_path(c->cg),
        .cgroup_manager = (char *) husk_cgroup_manager_name(c->manager),
        .annotations = c->config->annotations,
        .no_new_keyring = c->opts->no_new_keyring,
    };
    if (!creating && husk_proc_start_time(c->pid, &rec.pid_start, NULL, err) < 0)
        return husk_error_wrap(err, "container init");
    cleanup_free char *created = husk_rfc3339_now();
    rec.created = created;
    if (creating)
        return husk_state_record_save(c->dir->dir_fd, &rec, err);
    /* start and delete run poststart/poststop hooks from this copy: the
     * bundle may have changed or be gone by then. */
    const ocispec_hooks *h = c->config->hooks;
    if (h != NULL && (h->poststop_len > 0 || h->poststart_len > 0)) {
        rec.keep_config = true;
        if (husk_write_file_atomic_at(c->dir->dir_fd, HUSK_CONFIG_COPY, c->config_text,
                                      c->config_len, 0600, err) < 0)
            return -1;
    }
    return husk_state_record_save(c->dir->dir_fd, &rec, err);
}

/* Reads what the init says after START in run mode: EOF when the exec
 * succeeded (the socket is close-on-exec), ERROR otherwise. */
static int wait_exec(int sock, husk_error_t *err)
{
    struct husk_sync_msg msg;
    int r = husk_sync_recv(sock, &msg, NULL, err);
    if (r < 0)
        return -1;
    if (r > 0 && msg.type == HUSK_SYNC_ERROR)
        return husk_sync_error(&msg, err);
    return 0;
}

static void run_poststart(const ocispec_config *cfg, const char *id, const char *bundle, pid_t pid,
                          husk_error_t *warn)
{
    if (cfg->hooks == NULL || cfg->hooks->poststart_len == 0)
        return;
    cleanup_error husk_error_t herr = NULL;
    cleanup_free char *state = husk_process_state_json(cfg, id, bundle, "running", pid);
    if (husk_hooks_run("poststart", cfg->hooks->poststart, cfg->hooks->poststart_len, NULL, state,
                       &herr) < 0)
        warn_append(warn, &herr);
}

/* Every step of create up to a READY init, then START. On failure the
 * caller undoes it with create_ctx_undo(). */
static int create_steps(struct create_ctx *c, husk_error_t *warn, husk_error_t *err)
{
    const struct husk_create_opts *o = c->opts;
    if (husk_store_validate_id(o->id, err) < 0)
        return -1;
    if (parse_manager(o->cgroup_manager, &c->manager, err) < 0)
        return -1;
    if (load_config(c, err) < 0 || validate_config(c, err) < 0)
        return -1;
    if (husk_process_attrs_validate(c->config, err) < 0 || husk_sysctl_validate(c->config, err) < 0)
        return -1;
    cleanup_free char *unknown_caps = husk_process_unknown_caps(c->config->process->capabilities);
    if (unknown_caps != NULL && warn != NULL) {
        cleanup_error husk_error_t w = NULL;
        husk_error_set(&w, 0, "%s", unknown_caps);
        warn_append(warn, &w);
    }
    if (husk_ns_plan_build(c->config->linux, &c->ns, err) < 0)
        return -1;
    /* sd_listen_fds(3): fds announced for another process are not ours. */
    const char *listen_pid = getenv("LISTEN_PID");
    if ((listen_pid == NULL || atoi(listen_pid) == (int) getpid()) &&
        husk_fds_listen_from_env(environ, &c->listen, err) < 0)
        return -1;
    if (check_passed_fds(c, err) < 0)
        return -1;
    const ocispec_hooks *h = c->config->hooks;
    if (h != NULL && husk_hooks_open(h->create_container, h->create_container_len,
                                     &c->cc_hook_fds, err) < 0)
        return husk_error_wrap(err, "createContainer hook");

    if (husk_store_open(o->root, true, &c->store, err) < 0)
        return -1;
    /* Compiled (or found in the cache) before the state dir exists; the
     * init only loads it. */
    if (c->config->linux != NULL && c->config->linux->seccomp != NULL &&
        husk_seccomp_compile_cached(c->config->linux->seccomp, HUSK_SECCOMP_CACHE_DIR,
                                    &c->seccomp, err) < 0)
        return -1;
    if (husk_store_reserve(c->store, o->id, &c->dir, err) < 0)
        return -1;

    const ocispec_linux *lx = c->config->linux;
    if (husk_cgroup_create(c->manager, o->id, lx ? lx->cgroups_path : NULL,
                           lx ? lx->resources : NULL, &c->cg, err) < 0)
        return -1;
    /* If this process dies from here on (SIGKILL), delete -f still finds
     * the cgroup to remove. */
    if (save_state(c, true, err) < 0)
        return -1;
    if (o->mode == HUSK_MODE_CREATE && make_start_socket(c, err) < 0)
        return -1;
    if (husk_seccomp_prepare_listener(c->seccomp, err) < 0)
        return -1;

    struct husk_init_spec spec = {
        .config = c->config,
        .id = o->id,
        .bundle = c->bundle,
        .rootfs = c->rootfs,
        .ns = &c->ns,
        .cgroup_path = husk_cgroup_path(c->cg),
        .no_pivot = o->no_pivot,
        .no_new_keyring = o->no_new_keyring,
        .wait_for_start = o->mode == HUSK_MODE_CREATE,
        .start_listen_fd = c->listen_fd,
        .hooks_round = h != NULL && (h->prestart_len > 0 || h->create_runtime_len > 0),
        .create_container_fds = c->cc_hook_fds,
        .listen = &c->listen,
        .preserve_fds = o->preserve_fds,
        .drop_fds = { c->dir->lock_fd, c->dir->dir_fd, c->store->root_fd },
        .seccomp = c->seccomp,
    };
    if (husk_process_spawn(&spec, husk_cgroup_v2_fd(c->cg), &c->pid, &c->pidfd, &c->sync, err) < 0)
        return -1;
    husk_seccomp_drop_listener(c->seccomp); /* the init holds the agent's connection now */
    if (c->ns.new_user && husk_ns_write_id_maps(c->pid, lx, err) < 0)
        return -1;
    if (husk_process_attrs_apply_early(c->pid, c->config, err) < 0)
        return -1;
    /* See process.h: the v1 migration overlaps the init's mount work,
     * except when the cgroup namespace must be made from the new cgroup. */
    bool placed = husk_cgroup_v2_fd(c->cg) >= 0;
    /* A systemd scope's cgroup exists only once the scope is started, and
     * the init bind-mounts it (no cgroup namespace) during its mount work. */
    if (!placed && (c->ns.unshare_cgroup || c->manager == HUSK_CGROUP_SYSTEMD)) {
        if (husk_cgroup_enter(c->cg, c->pid, err) < 0)
            return -1;
        placed = true;
    }
    if (send_to_init(c, HUSK_SYNC_GO, placed ? 1 : 0, c->pid, err) < 0)
        return -1;
    if (!placed && husk_cgroup_enter(c->cg, c->pid, err) < 0)
        return prefer_init_error(c, err);
    if (!placed && send_to_init(c, HUSK_SYNC_PLACED, 0, 0, err) < 0)
        return -1;
    if (wait_ready(c, err) < 0)
        return -1;
    /* The listening socket belongs to the init now. */
    if (c->listen_fd >= 0) {
        close(c->listen_fd);
        c->listen_fd = -1;
    }
    husk_log_debug("container %s: init %d ready", o->id, (int) c->pid);
    if (save_state(c, false, err) < 0)
        return -1;
    if (o->pid_file != NULL) {
        if (husk_write_pid_file(o->pid_file, c->pid, err) < 0)
            return -1;
        c->pid_file_written = true;
    }
    if (send_to_init(c, HUSK_SYNC_START, 0, 0, err) < 0)
        return -1;
    if (o->mode != HUSK_MODE_CREATE) {
        if (wait_exec(c->sync, err) < 0)
            return -1;
        run_poststart(c->config, o->id, c->bundle, c->pid, warn);
    }
    close(c->sync);
    c->sync = -1;
    return 0;
}

int husk_container_create(const struct husk_create_opts *opts, husk_error_t *warn,
                          husk_error_t *err)
{
    struct create_ctx c;
    create_ctx_init(&c, opts);
    int ret = create_steps(&c, warn, err);
    if (ret < 0)
        create_ctx_undo(&c);
    create_ctx_release(&c);
    return ret;
}

/* ---------- delete ---------- */

static void run_poststop(int dir_fd, const husk_state_record *rec, husk_error_t *warn)
{
    if (!rec->keep_config)
        return;
    cleanup_error husk_error_t herr = NULL;
    cleanup_free char *text = NULL;
    size_t len = 0;
    if (husk_read_file_at(dir_fd, HUSK_CONFIG_COPY, &text, &len, &herr) < 0) {
        warn_append(warn, &herr);
        return;
    }
    char *perr = NULL;
    ocispec_config *cfg = ocispec_config_parse_data(text, len, &perr);
    free(perr);
    if (cfg == NULL || cfg->hooks == NULL) {
        ocispec_config_free(cfg);
        return;
    }
    cleanup_free char *state = husk_process_state_json(cfg, rec->id, rec->bundle, "stopped", 0);
    if (husk_hooks_run("poststop", cfg->hooks->poststop, cfg->hooks->poststop_len, NULL, state,
                       &herr) < 0)
        warn_append(warn, &herr);
    ocispec_config_free(cfg);
}

/* Kills what is left, removes the cgroup, runs poststop, removes the dir. */
static int destroy_container(husk_store *store, husk_container_dir *dir,
                             const husk_state_record *rec, bool kill_init, husk_error_t *warn,
                             husk_error_t *err)
{
    enum husk_cgroup_manager manager;
    cleanup_cgroup husk_cgroup *cg = NULL;
    if (parse_manager(rec->cgroup_manager, &manager, err) < 0 ||
        husk_cgroup_load(manager, rec->cgroup_path, &cg, err) < 0)
        return -1;
    if (kill_init) {
        cleanup_close int pidfd = open_init_pidfd(rec, NULL);
        if (pidfd >= 0) {
            husk_pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
            /* A paused (frozen) init cannot act on SIGKILL until thawed. */
            if (rec->cgroup_path != NULL)
                husk_cgroup_freeze(cg, false, NULL);
            if (wait_pidfd_exit(pidfd, 10000) < 0)
                return husk_error_set(err, ETIMEDOUT, "container `%s`: init pid %d did not die",
                                      rec->id, (int) rec->pid);
        }
    }
    if (rec->cgroup_path != NULL) {
        /* Processes that joined the container's cgroup from outside its pid
         * namespace outlive the init. */
        husk_cgroup_kill(cg, SIGKILL, NULL);
        if (husk_cgroup_destroy(cg, err) < 0)
            return -1;
    }
    run_poststop(dir->dir_fd, rec, warn);
    husk_log_debug("container %s: deleted", rec->id);
    return husk_store_remove_container(store, dir, err);
}

int husk_container_delete(const char *root, const char *id, bool force, husk_error_t *warn,
                          husk_error_t *err)
{
    cleanup_store husk_store *store = NULL;
    cleanup_container_dir husk_container_dir *dir = NULL;
    if (husk_store_validate_id(id, err) < 0)
        return -1;
    if (husk_store_open(root, false, &store, err) < 0) {
        if ((*err)->errno_value == ENOENT) {
            husk_error_free(err);
            return force ? 0 : husk_error_plain(err, ENOENT, "container `%s` does not exist", id);
        }
        return -1;
    }
    if (husk_store_open_container(store, id, true, &dir, err) < 0) {
        /* As runc: forcing the deletion of what is not there succeeds. */
        if (force && (*err)->errno_value == ENOENT) {
            husk_error_free(err);
            return 0;
        }
        return -1;
    }
    cleanup_state_record husk_state_record *rec = NULL;
    if (husk_state_record_load(dir->dir_fd, &rec, err) < 0) {
        /* A create that died half way: nothing to stop but the leftovers. */
        if (force && (*err)->errno_value == ENOENT) {
            husk_error_free(err);
            return husk_store_remove_container(store, dir, err);
        }
        return husk_error_wrap(err, "container `%s`", id);
    }
    const char *status = compute_status(dir->dir_fd, rec);
    if ((strcmp(status, "running") == 0 || strcmp(status, "paused") == 0 ||
         strcmp(status, "creating") == 0) && !force)
        return husk_error_plain(err, EBUSY,
                           "cannot delete container %s that is not stopped: %s (use --force)", id,
                           status);
    return destroy_container(store, dir, rec, strcmp(status, "stopped") != 0, warn, err);
}

/* ---------- run ---------- */

/* The end of a foreground run: deletes the container unless someone
 * (delete --force) already did. */
static int delete_after_run(husk_store *store, const char *id, husk_error_t *warn,
                            husk_error_t *err)
{
    cleanup_container_dir husk_container_dir *dir = NULL;
    cleanup_state_record husk_state_record *rec = NULL;
    if (husk_store_open_container(store, id, true, &dir, err) < 0) {
        if ((*err)->errno_value == ENOENT) {
            husk_error_free(err);
            return 0;
        }
        return -1;
    }
    if (husk_state_record_load(dir->dir_fd, &rec, err) < 0)
        return husk_error_wrap(err, "container `%s`", id);
    return destroy_container(store, dir, rec, true, warn, err);
}

int husk_container_run(const struct husk_create_opts *opts, int *exit_status, husk_error_t *warn,
                       husk_error_t *err)
{
    if (opts->mode != HUSK_MODE_RUN_FOREGROUND)
        return husk_container_create(opts, warn, err);

    /* Blocked before the clone so that no signal meant for the container
     * is lost; the init empties its mask before exec. */
    sigset_t all, old;
    sigfillset(&all);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    sigprocmask(SIG_BLOCK, &all, &old);

    struct create_ctx c;
    create_ctx_init(&c, opts);
    int ret = create_steps(&c, warn, err);
    /* Made after create: an fd opened before would sit among the numbers
     * --preserve-fds passes on. Signals stay pending until then. */
    cleanup_close int sfd = ret < 0 ? -1 : signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
    if (ret == 0 && sfd < 0)
        ret = husk_error_set(err, errno, "signalfd");
    if (ret < 0) {
        create_ctx_undo(&c);
        create_ctx_release(&c);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return ret;
    }
    /* While it runs, the container is everyone's: kill, state, delete -f. */
    husk_container_dir_free(c.dir);
    c.dir = NULL;
    int proxied_pty = opts->console_socket == NULL ? c.pty_master : -1;
    ret = husk_foreground_wait(c.pidfd, sfd, proxied_pty, "container", exit_status, err);
    if (ret == 0 && !opts->keep)
        ret = delete_after_run(c.store, opts->id, warn, err);
    create_ctx_release(&c);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return ret;
}

/* ---------- start ---------- */

static int connect_start_socket(husk_container_dir *dir, husk_error_t *err)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int len = snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s", dir->path, HUSK_START_SOCKET);
    if (len < 0 || (size_t) len >= sizeof(addr.sun_path))
        snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/%s", dir->dir_fd,
                 HUSK_START_SOCKET);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return husk_error_set(err, errno, "start socket");
    if (connect(fd, (struct sockaddr *) &addr, sizeof(addr)) < 0) {
        int saved = errno;
        close(fd);
        return husk_error_set(err, saved, "connect to the container's init");
    }
    return fd;
}

int husk_container_start(const char *root, const char *id, husk_error_t *warn, husk_error_t *err)
{
    cleanup_store husk_store *store = NULL;
    cleanup_container_dir husk_container_dir *dir = NULL;
    if (husk_store_open_for(root, id, &store, err) < 0)
        return -1;
    if (husk_store_open_container(store, id, true, &dir, err) < 0)
        return -1;
    cleanup_state_record husk_state_record *rec = NULL;
    if (husk_state_record_load(dir->dir_fd, &rec, err) < 0)
        return husk_error_wrap(err, "container `%s`", id);
    const char *status = compute_status(dir->dir_fd, rec);
    if (strcmp(status, "created") != 0)
        return husk_error_plain(err, strcmp(status, "running") == 0 ? EBUSY : EINVAL,
                           "cannot start container %s: it is %s, not created", id, status);

    cleanup_close int conn = connect_start_socket(dir, err);
    if (conn < 0)
        return -1;
    husk_log_debug("container %s: starting init %d", id, (int) rec->pid);
    /* From here on the container counts as started. */
    unlinkat(dir->dir_fd, HUSK_START_SOCKET, 0);
    if (wait_exec(conn, err) < 0)
        return -1;

    if (rec->keep_config) {
        cleanup_free char *text = NULL;
        size_t len = 0;
        if (husk_read_file_at(dir->dir_fd, HUSK_CONFIG_COPY, &text, &len, NULL) == 0) {
            char *perr = NULL;
            ocispec_config *cfg = ocispec_config_parse_data(text, len, &perr);
            free(perr);
            if (cfg != NULL)
                run_poststart(cfg, id, rec->bundle, rec->pid, warn);
            ocispec_config_free(cfg);
        }
    }
    return 0;
}

/* ---------- kill ---------- */

/* A paused (frozen) container cannot act on SIGKILL until it is thawed. */
static void thaw_if_paused(const husk_state_record *rec)
{
    enum husk_cgroup_manager manager;
    cleanup_cgroup husk_cgroup *cg = NULL;
    if (!is_paused(rec) || parse_manager(rec->cgroup_manager, &manager, NULL) < 0 ||
        husk_cgroup_load(manager, rec->cgroup_path, &cg, NULL) < 0)
        return;
    husk_cgroup_freeze(cg, false, NULL);
}

int husk_container_kill(const char *root, const char *id, int sig, bool all, husk_error_t *err)
{
    cleanup_store husk_store *store = NULL;
    cleanup_container_dir husk_container_dir *dir = NULL;
    if (husk_store_open_for(root, id, &store, err) < 0)
        return -1;
    if (husk_store_open_container(store, id, false, &dir, err) < 0)
        return -1;
    cleanup_state_record husk_state_record *rec = NULL;
    if (husk_state_record_load(dir->dir_fd, &rec, err) < 0)
        return husk_error_wrap(err, "container `%s`", id);

    if (all && rec->cgroup_path != NULL) {
        enum husk_cgroup_manager manager;
        cleanup_cgroup husk_cgroup *cg = NULL;
        if (parse_manager(rec->cgroup_manager, &manager, err) < 0 ||
            husk_cgroup_load(manager, rec->cgroup_path, &cg, err) < 0)
            return -1;
        /* Once the init has exited, processes it left behind (no pid
         * namespace of its own) may still sit in the cgroup: containerd's
         * shim sends `kill --all ID 9` exactly then, and runc answers it. A
         * container without cgroups has nothing left to reach. */
        if (!init_alive(rec) && manager == HUSK_CGROUP_DISABLED)
            return 0;
        if (husk_cgroup_kill(cg, sig, err) < 0)
            return -1;
        if (sig == SIGKILL)
            thaw_if_paused(rec);
        return 0;
    }
    cleanup_close int pidfd = open_init_pidfd(rec, err);
    if (pidfd < 0)
        return -1;
    husk_log_debug("container %s: signal %d to init %d", id, sig, (int) rec->pid);
    if (husk_pidfd_send_signal(pidfd, sig, NULL, 0) < 0)
        return husk_error_set(err, errno, "send signal %d to container `%s` (pid %d)", sig, id,
                              (int) rec->pid);
    if (sig == SIGKILL)
        thaw_if_paused(rec);
    return 0;
}

/* ---------- state and list ---------- */

int husk_container_info_load_at(husk_store *store, const char *id, husk_container_info *out,
                                husk_error_t *err)
{
    cleanup_close int dfd = openat(store->root_fd, id, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) {
        if (errno == ENOENT)
            return husk_error_plain(err, ENOENT, "container `%s` does not exist", id);
        return husk_error_set(err, errno, "open `%s/%s`", store->root, id);
    }
    husk_state_record *rec = NULL;
    if (husk_state_record_load(dfd, &rec, err) < 0) {
        if ((*err)->errno_value == ENOENT) {
            husk_error_free(err);
            return husk_error_plain(err, ENOENT, "container `%s` does not exist (still being created)",
                                  id);
        }
        return husk_error_wrap(err, "container `%s`", id);
    }
    out->rec = rec;
    out->status = compute_status(dfd, rec);
    return 0;
}

int husk_container_info_load(const char *root, const char *id, husk_container_info *out,
                             husk_error_t *err)
{
    cleanup_store husk_store *store = NULL;
    if (husk_store_open_for(root, id, &store, err) < 0)
        return -1;
    return husk_container_info_load_at(store, id, out, err);
}

void husk_container_info_clear(husk_container_info *info)
{
    husk_state_record_free(info->rec);
    info->rec = NULL;
}

static void gen_s(yajl_gen g, const char *s)
{
    yajl_gen_string(g, (const unsigned char *) s, strlen(s));
}

static void gen_kv(yajl_gen g, const char *k, const char *v)
{
    gen_s(g, k);
    gen_s(g, v != NULL ? v : "");
}

char *husk_container_info_json(const husk_container_info *info, const char *owner_name, bool pretty)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    if (g == NULL)
        return NULL;
    if (pretty) {
        yajl_gen_config(g, yajl_gen_beautify, 1);
        yajl_gen_config(g, yajl_gen_indent_string, "  ");
    }
    const husk_state_record *r = info->rec;
    bool stopped = strcmp(info->status, "stopped") == 0;
    yajl_gen_map_open(g);
    gen_kv(g, "ociVersion", OCISPEC_VERSION);
    gen_kv(g, "id", r->id);
    gen_s(g, "pid");
    yajl_gen_integer(g, stopped ? 0 : r->pid);
    gen_kv(g, "status", info->status);
    gen_kv(g, "bundle", r->bundle);
    gen_kv(g, "rootfs", r->rootfs);
    gen_kv(g, "created", r->created);
    gen_kv(g, "owner", owner_name);
    if (r->annotations != NULL && r->annotations->len > 0) {
        gen_s(g, "annotations");
        yajl_gen_map_open(g);
        for (size_t i = 0; i < r->annotations->len; i++)
            gen_kv(g, r->annotations->keys[i], r->annotations->values[i]);
        yajl_gen_map_close(g);
    }
    yajl_gen_map_close(g);
    const unsigned char *buf;
    size_t len;
    char *out = NULL;
    if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok)
        out = strndup((const char *) buf, len);
    yajl_gen_free(g);
    /* yajl's beautifier ends with a newline; runc's state does not. */
    if (out != NULL && len > 0 && out[len - 1] == '\n')
        out[len - 1] = '\0';
    return out;
}

int husk_container_list(const char *root, husk_container_info **out, size_t *n, husk_error_t *err)
{
    *out = NULL;
    *n = 0;
    cleanup_store husk_store *store = NULL;
    if (husk_store_open(root, false, &store, err) < 0) {
        if ((*err)->errno_value == ENOENT) {
            husk_error_free(err);
            return 0;
        }
        return -1;
    }
    cleanup_strv char **ids = NULL;
    if (husk_store_list_ids(store, &ids, err) < 0)
        return -1;
    size_t count = 0;
    while (ids[count] != NULL)
        count++;
    husk_container_info *v = calloc(count + 1, sizeof(*v));
    if (v == NULL)
        return husk_error_set(err, ENOMEM, "list");
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        cleanup_error husk_error_t ignored = NULL;
        if (husk_container_info_load_at(store, ids[i], &v[used], &ignored) == 0)
            used++;
    }
    *out = v;
    *n = used;
    return 0;
}
