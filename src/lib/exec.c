#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/keyctl.h>
#include <sys/capability.h>
#include <sys/file.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "container.h"
#include "fds.h"
#include "foreground.h"
#include "log.h"
#include "lsm.h"
#include "process.h"
#include "process_attrs.h"
#include "rootfs.h"
#include "seccomp.h"
#include "state_store.h"
#include "syscalls.h"
#include "terminal.h"
#include "utils.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct exec_ctx {
    const struct husk_exec_opts *opts;
    husk_store *store;
    husk_container_dir *dir; /* holds the container's lock, shared, until the
                                process is placed in the container */
    husk_container_info info;
    ocispec_config *config;
    ocispec_process *proc;    /* config->process, the one being run */
    husk_cgroup *cg;
    husk_seccomp *seccomp;
    int init_pidfd;
    int root_fd;              /* the init's root, /proc/<pid>/root */
    int pidns_fd;             /* the init's pid ns when it differs from ours, else -1 */
    int ns_flags;             /* every other namespace to join */
    pid_t child;
    int child_pidfd;
    int sync;
    int pty_master;
    int lsm_proc;             /* trusted procfs for the child's LSM label write, or -1 */
};

static void exec_ctx_release(struct exec_ctx *c)
{
    husk_container_dir_free(c->dir);
    husk_store_free(c->store);
    husk_container_info_clear(&c->info);
    ocispec_config_free(c->config);
    husk_cgroup_free(c->cg);
    husk_seccomp_free(c->seccomp);
    husk_close_fd(&c->init_pidfd);
    husk_close_fd(&c->root_fd);
    husk_close_fd(&c->pidns_fd);
    husk_close_fd(&c->child_pidfd);
    husk_close_fd(&c->sync);
    husk_close_fd(&c->pty_master);
    husk_close_fd(&c->lsm_proc);
}

/* ---------- users, from the container's /etc/passwd and /etc/group ---------- */

static bool all_digits(const char *s)
{
    return s[0] != '\0' && strspn(s, "0123456789") == strlen(s);
}

static int parse_id(const char *s, unsigned int *out)
{
    if (!all_digits(s))
        return -1;
    errno = 0;
    unsigned long v = strtoul(s, NULL, 10);
    if (errno != 0 || v > UINT32_MAX - 1)
        return -1;
    *out = (unsigned int) v;
    return 0;
}

/* Finds the line of a passwd or group file whose name (field 0) is `name`,
 * or, with name NULL, whose id (field 2) is `id`; *id_out gets field 2 and
 * *gid_out (passwd only, may be NULL) field 3. */
static bool db_find(const char *text, const char *name, unsigned int id, unsigned int *id_out,
                    unsigned int *gid_out)
{
    if (text == NULL)
        return false;
    cleanup_free char *copy = strdup(text);
    if (copy == NULL)
        return false;
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[4] = { 0 };
        size_t k = 0;
        for (char *q = line; q != NULL && k < 4; k++) {
            f[k] = q;
            q = strchr(q, ':');
            if (q != NULL)
                *q++ = '\0';
        }
        if (k < 3 || line[0] == '#')
            continue;
        unsigned int this_id, this_gid = 0;
        if (parse_id(f[2], &this_id) < 0)
            continue;
        if (gid_out != NULL && (f[3] == NULL || parse_id(f[3], &this_gid) < 0))
            continue;
        if (name != NULL ? strcmp(f[0], name) == 0 : this_id == id) {
            *id_out = this_id;
            if (gid_out != NULL)
                *gid_out = this_gid;
            return true;
        }
    }
    return false;
}

int husk_exec_resolve_user(const char *spec, const char *passwd, const char *group,
                           unsigned int *uid, unsigned int *gid, husk_error_t *err)
{
    cleanup_free char *copy = strdup(spec);
    if (copy == NULL)
        return husk_error_set(err, ENOMEM, "--user");
    char *grp = strchr(copy, ':');
    if (grp != NULL)
        *grp++ = '\0';
    if (copy[0] == '\0' || (grp != NULL && grp[0] == '\0'))
        return husk_error_plain(err, EINVAL, "--user `%s`: want UID[:GID] or NAME[:GROUP]", spec);

    unsigned int u, g = 0, ignored;
    if (all_digits(copy)) {
        if (parse_id(copy, &u) < 0)
            return husk_error_plain(err, EINVAL, "--user `%s`: uid out of range", spec);
        if (!db_find(passwd, NULL, u, &ignored, &g))
            g = 0;
    } else if (!db_find(passwd, copy, 0, &u, &g)) {
        return husk_error_plain(err, ENOENT, "--user `%s`: no user `%s` in the container's /etc/passwd",
                           spec, copy);
    }
    if (grp != NULL) {
        if (all_digits(grp)) {
            if (parse_id(grp, &g) < 0)
                return husk_error_plain(err, EINVAL, "--user `%s`: gid out of range", spec);
        } else if (!db_find(group, grp, 0, &g, NULL)) {
            return husk_error_plain(err, ENOENT,
                               "--user `%s`: no group `%s` in the container's /etc/group", spec,
                               grp);
        }
    }
    *uid = u;
    *gid = g;
    return 0;
}

static bool gid_listed(const uint32_t *gids, size_t n, uint32_t gid)
{
    for (size_t i = 0; i < n; i++)
        if (gids[i] == gid)
            return true;
    return false;
}

/* The user's name: the spec's when it gives one, else the passwd entry's
 * of its uid (NULL when it has none). malloc'd. */
static char *user_name(const char *spec, const char *passwd, unsigned int uid)
{
    size_t len = strcspn(spec, ":");
    cleanup_free char *head = strndup(spec, len);
    if (head == NULL)
        return NULL;
    if (!all_digits(head))
        return steal_pointer(&head);
    if (passwd == NULL)
        return NULL;
    cleanup_free char *copy = strdup(passwd);
    char *save = NULL;
    for (char *line = copy ? strtok_r(copy, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        /* name:password:uid:... */
        char *f[4] = { line, NULL, NULL, NULL };
        for (size_t k = 1; k < 4 && f[k - 1] != NULL; k++) {
            f[k] = strchr(f[k - 1], ':');
            if (f[k] != NULL)
                *f[k]++ = '\0';
        }
        unsigned int id;
        if (f[2] != NULL && line[0] != '#' && parse_id(f[2], &id) == 0 && id == uid)
            return strdup(f[0]);
    }
    return NULL;
}

int husk_exec_user_groups(const char *spec, const char *passwd, const char *group,
                          unsigned int uid, uint32_t **gids, size_t *n, husk_error_t *err)
{
    cleanup_free char *name = user_name(spec, passwd, uid);
    if (name == NULL || group == NULL)
        return 0;
    cleanup_free char *copy = strdup(group);
    if (copy == NULL)
        return husk_error_set(err, ENOMEM, "--user: groups");
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        /* name:password:gid:member,member */
        char *f[4] = { line, NULL, NULL, NULL };
        for (size_t k = 1; k < 4 && f[k - 1] != NULL; k++) {
            f[k] = strchr(f[k - 1], ':');
            if (f[k] != NULL)
                *f[k]++ = '\0';
        }
        unsigned int gid;
        if (line[0] == '#' || f[3] == NULL || parse_id(f[2], &gid) < 0)
            continue;
        char *msave = NULL;
        for (char *m = strtok_r(f[3], ",", &msave); m; m = strtok_r(NULL, ",", &msave)) {
            if (strcmp(m, name) != 0 || gid_listed(*gids, *n, gid))
                continue;
            uint32_t *bigger = realloc(*gids, (*n + 1) * sizeof(uint32_t));
            if (bigger == NULL)
                return husk_error_set(err, ENOMEM, "--user: groups");
            *gids = bigger;
            bigger[(*n)++] = gid;
        }
    }
    return 0;
}

/* ---------- the process: the container's, overridden by the flags ---------- */

static int strv_push(char ***v, size_t *n, const char *s)
{
    char **bigger = realloc(*v, (*n + 2) * sizeof(char *));
    if (bigger == NULL)
        return -1;
    *v = bigger;
    bigger[*n] = strdup(s);
    if (bigger[*n] == NULL)
        return -1;
    bigger[++*n] = NULL;
    return 0;
}

static bool strv_has(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(v[i], s) == 0)
            return true;
    return false;
}

/* K=V replaces K's entry, or is appended. */
static int env_set(ocispec_process *p, const char *kv)
{
    size_t key_len = strcspn(kv, "=");
    for (size_t i = 0; i < p->env_len; i++) {
        if (strncmp(p->env[i], kv, key_len) == 0 &&
            (p->env[i][key_len] == '=' || p->env[i][key_len] == '\0')) {
            char *dup = strdup(kv);
            if (dup == NULL)
                return -1;
            free(p->env[i]);
            p->env[i] = dup;
            return 0;
        }
    }
    return strv_push(&p->env, &p->env_len, kv);
}

static bool env_has(const ocispec_process *p, const char *key)
{
    size_t len = strlen(key);
    for (size_t i = 0; i < p->env_len; i++)
        if (strncmp(p->env[i], key, len) == 0 && p->env[i][len] == '=')
            return true;
    return false;
}

/* --cap: bounding, effective and permitted, never inheritable or ambient,
 * so that no program the process execs later can gain it from file
 * capabilities (CVE-2022-29162). */
static int add_cap(ocispec_process *p, const char *name, husk_error_t *err)
{
    cap_value_t v;
    if (cap_from_name(name, &v) < 0 || !CAP_IS_SUPPORTED(v))
        return husk_error_plain(err, EINVAL, "--cap `%s`: unknown capability", name);
    if (p->capabilities == NULL && (p->capabilities = calloc(1, sizeof(*p->capabilities))) == NULL)
        return husk_error_set(err, ENOMEM, "--cap");
    ocispec_capabilities *caps = p->capabilities;
    char *canon = cap_to_name(v);
    if (canon == NULL)
        return husk_error_set(err, ENOMEM, "--cap");
    for (char *q = canon; *q; q++)
        if (*q >= 'a' && *q <= 'z')
            *q = (char) (*q - 'a' + 'A');
    int r = 0;
    if ((!strv_has(caps->bounding, caps->bounding_len, canon) &&
         strv_push(&caps->bounding, &caps->bounding_len, canon) < 0) ||
        (!strv_has(caps->effective, caps->effective_len, canon) &&
         strv_push(&caps->effective, &caps->effective_len, canon) < 0) ||
        (!strv_has(caps->permitted, caps->permitted_len, canon) &&
         strv_push(&caps->permitted, &caps->permitted_len, canon) < 0))
        r = husk_error_set(err, ENOMEM, "--cap");
    cap_free(canon);
    return r;
}

static int set_additional_gids(ocispec_process *p, char *const *gids, husk_error_t *err)
{
    size_t n = 0;
    while (gids[n] != NULL)
        n++;
    uint32_t *v = calloc(n + 1, sizeof(uint32_t));
    if (v == NULL)
        return husk_error_set(err, ENOMEM, "--additional-gids");
    for (size_t i = 0; i < n; i++) {
        unsigned int g;
        if (parse_id(gids[i], &g) < 0) {
            free(v);
            return husk_error_plain(err, EINVAL, "--additional-gids `%s`: not a group id", gids[i]);
        }
        v[i] = g;
    }
    free(p->user.additional_gids);
    p->user.additional_gids = v;
    p->user.additional_gids_len = n;
    return 0;
}

static int replace_args(ocispec_process *p, char *const *args, husk_error_t *err)
{
    for (size_t i = 0; i < p->args_len; i++)
        free(p->args[i]);
    free(p->args);
    p->args = NULL;
    p->args_len = 0;
    for (size_t i = 0; args[i] != NULL; i++)
        if (strv_push(&p->args, &p->args_len, args[i]) < 0)
            return husk_error_set(err, ENOMEM, "command");
    return 0;
}

static int apply_flags(const struct husk_exec_opts *o, ocispec_process *p, husk_error_t *err)
{
    if (o->args == NULL || o->args[0] == NULL)
        return husk_error_plain(err, EINVAL, "missing COMMAND (or --process FILE)");
    if (replace_args(p, o->args, err) < 0)
        return -1;
    /* exec's own terminal choice, not the container's. */
    p->terminal = o->tty;
    p->has_terminal = true;
    if (o->cwd != NULL) {
        free(p->cwd);
        if ((p->cwd = strdup(o->cwd)) == NULL)
            return husk_error_set(err, ENOMEM, "--cwd");
    }
    for (size_t i = 0; o->env != NULL && o->env[i] != NULL; i++) {
        if (o->env[i][0] == '=' || o->env[i][0] == '\0')
            return husk_error_plain(err, EINVAL, "--env `%s`: want KEY=VALUE", o->env[i]);
        if (env_set(p, o->env[i]) < 0)
            return husk_error_set(err, ENOMEM, "--env");
    }
    for (size_t i = 0; o->caps != NULL && o->caps[i] != NULL; i++)
        if (add_cap(p, o->caps[i], err) < 0)
            return -1;
    if (o->additional_gids != NULL && o->additional_gids[0] != NULL &&
        set_additional_gids(p, o->additional_gids, err) < 0)
        return -1;
    if (o->no_new_privs)
        p->no_new_privileges = p->has_no_new_privileges = true;
    return 0;
}

/* One LSM label of the exec'd process: the flag's, else the one it has
 * (the --process JSON's, or the container's), else `inherited` (the
 * container's: a --process JSON that names none must not run a process
 * less confined than the container). */
static int choose_label(char **label, const char *flag, char **inherited, const char *name,
                        husk_error_t *err)
{
    if (flag != NULL && flag[0] != '\0') {
        free(*label);
        if ((*label = strdup(flag)) == NULL)
            return husk_error_set(err, ENOMEM, "%s", name);
    } else if ((*label == NULL || (*label)[0] == '\0') && inherited != NULL && *inherited != NULL) {
        free(*label);
        *label = steal_pointer(inherited);
    }
    return 0;
}

static int choose_labels(const struct husk_exec_opts *o, ocispec_process *p,
                         ocispec_process *container, husk_error_t *err)
{
    char **aa = container != NULL && container != p ? &container->apparmor_profile : NULL;
    char **se = container != NULL && container != p ? &container->selinux_label : NULL;
    if (choose_label(&p->apparmor_profile, o->apparmor, aa, "--apparmor", err) < 0 ||
        choose_label(&p->selinux_label, o->process_label, se, "--process-label", err) < 0)
        return -1;
    return 0;
}

static int build_process(struct exec_ctx *c, husk_error_t *err)
{
    const struct husk_exec_opts *o = c->opts;
    ocispec_process *p;
    if (o->process_path != NULL) {
        char *perr = NULL;
        p = ocispec_process_parse_file(o->process_path, &perr);
        if (p == NULL) {
            husk_error_plain(err, EINVAL, "--process `%s`: %s", o->process_path,
                        perr ? perr : "invalid process JSON");
            free(perr);
            return -1;
        }
        int r = choose_labels(o, p, c->config->process, err);
        ocispec_process_free(c->config->process);
        c->config->process = p;
        if (r < 0)
            return -1;
        if (o->tty)
            p->terminal = true;
    } else {
        if (c->config->process == NULL &&
            (c->config->process = calloc(1, sizeof(ocispec_process))) == NULL)
            return husk_error_set(err, ENOMEM, "process");
        p = c->config->process;
        if (apply_flags(o, p, err) < 0 || choose_labels(o, p, NULL, err) < 0)
            return -1;
    }
    c->proc = p;
    if (p->args == NULL || p->args_len == 0 || p->args[0] == NULL || p->args[0][0] == '\0')
        return husk_error_plain(err, EINVAL, "process.args: must name a program");
    if (p->cwd == NULL || p->cwd[0] == '\0') {
        free(p->cwd);
        if ((p->cwd = strdup("/")) == NULL)
            return husk_error_set(err, ENOMEM, "cwd");
    }
    if (p->cwd[0] != '/')
        return husk_error_plain(err, EINVAL, "cwd `%s`: not absolute", p->cwd);
    if ((!env_has(p, "PATH") && strv_push(&p->env, &p->env_len, DEFAULT_PATH) < 0) ||
        (p->terminal && !env_has(p, "TERM") && strv_push(&p->env, &p->env_len, "TERM=xterm") < 0))
        return husk_error_set(err, ENOMEM, "env");
    if (p->terminal && o->detach && o->console_socket == NULL)
        return husk_error_plain(err, EINVAL, "--tty with --detach needs --console-socket");
    if (!p->terminal && o->console_socket != NULL)
        return husk_error_plain(err, EINVAL, "--console-socket `%s`: only with --tty", o->console_socket);
    if (o->preserve_fds < 0)
        return husk_error_plain(err, EINVAL, "--preserve-fds: %d is negative", o->preserve_fds);
    return husk_process_attrs_validate(c->config, err);
}

/* ---------- the container ---------- */

/* The fds --preserve-fds passes on must be the caller's, checked before
 * husk opens anything that could take one of those numbers. */
static int check_preserved_fds(int preserve_fds, husk_error_t *err)
{
    for (int fd = 3; fd < 3 + preserve_fds; fd++)
        if (fcntl(fd, F_GETFD) < 0 || fd == husk_log_fd())
            return husk_error_plain(err, EBADF,
                               "--preserve-fds %d: fd %d was not passed to husk (not open)",
                               preserve_fds, fd);
    return 0;
}

static bool init_is(const husk_state_record *rec)
{
    uint64_t start;
    bool zombie;
    return husk_proc_start_time(rec->pid, &start, &zombie, NULL) == 0 && !zombie &&
           start == rec->pid_start;
}

static int load_container(struct exec_ctx *c, husk_error_t *err)
{
    const struct husk_exec_opts *o = c->opts;
    /* Shared: execs run side by side, but a delete (exclusive) waits until
     * this one has checked the status and placed its process, or is over
     * before it looks. */
    if (husk_store_open_for(o->root, o->id, &c->store, err) < 0 ||
        husk_store_open_container(c->store, o->id, false, &c->dir, err) < 0 ||
        husk_container_info_load_at(c->store, o->id, &c->info, err) < 0)
        return -1;
    const char *status = c->info.status;
    if (strcmp(status, "created") != 0 && strcmp(status, "running") != 0 &&
        !(strcmp(status, "paused") == 0 && o->ignore_paused)) {
        if (strcmp(status, "paused") == 0)
            return husk_error_plain(err, EBUSY, "container `%s` is paused (resume it, or use "
                               "--ignore-paused)", o->id);
        return husk_error_plain(err, ESRCH, "container `%s` is %s: exec needs a created or running "
                           "container", o->id, status);
    }
    const husk_state_record *rec = c->info.rec;
    c->init_pidfd = husk_pidfd_open(rec->pid, 0);
    /* Checked after opening: the pidfd now pins this very process. */
    if (c->init_pidfd < 0 || !init_is(rec))
        return husk_error_plain(err, ESRCH, "container `%s` is stopped: exec needs a created or "
                           "running container", o->id);

    /* The copy in the state dir (kept for hooks) is the config the
     * container was made from; the bundle's may have changed since. */
    cleanup_free char *path = NULL;
    if (rec->keep_config) {
        if (asprintf(&path, "%s/%s/%s", o->root, o->id, HUSK_CONFIG_COPY) < 0)
            return husk_error_set(err, ENOMEM, "config");
        if (access(path, R_OK) < 0) {
            free(path);
            path = NULL;
        }
    }
    if (path == NULL && asprintf(&path, "%s/config.json", rec->bundle) < 0)
        return husk_error_set(err, ENOMEM, "config");
    char *perr = NULL;
    c->config = ocispec_config_parse_file(path, &perr);
    if (c->config == NULL) {
        husk_error_plain(err, EINVAL, "container `%s`: config `%s`: %s", o->id, path,
                    perr ? perr : "invalid");
        free(perr);
        return -1;
    }
    return 0;
}

static int load_cgroup(struct exec_ctx *c, husk_error_t *err)
{
    const husk_state_record *rec = c->info.rec;
    const char *sub = c->opts->cgroup;
    enum husk_cgroup_manager manager;
    if (husk_cgroup_manager_parse(rec->cgroup_manager ? rec->cgroup_manager : "cgroupfs",
                                  &manager, err) < 0)
        return -1;
    if (rec->cgroup_path == NULL) {
        if (sub != NULL)
            return husk_error_plain(err, EINVAL, "--cgroup `%s`: container `%s` has no cgroup", sub,
                               c->opts->id);
        return husk_cgroup_load(HUSK_CGROUP_DISABLED, NULL, &c->cg, err);
    }
    cleanup_free char *path = NULL;
    if (sub != NULL) {
        while (*sub == '/')
            sub++;
        if (*sub == '\0' || strstr(sub, "..") != NULL)
            return husk_error_plain(err, EINVAL, "--cgroup `%s`: want a sub-cgroup of the container's",
                               c->opts->cgroup);
        if (asprintf(&path, "%s/%s", rec->cgroup_path, sub) < 0)
            return husk_error_set(err, ENOMEM, "--cgroup");
    }
    if (husk_cgroup_load(manager, path ? path : rec->cgroup_path, &c->cg, err) < 0)
        return husk_error_wrap(err, "container `%s`", c->opts->id);
    return 0;
}

static const struct {
    const char *name;
    int flag;
} ns_types[] = {
    { "user", CLONE_NEWUSER }, { "mnt", CLONE_NEWNS },      { "uts", CLONE_NEWUTS },
    { "ipc", CLONE_NEWIPC },   { "net", CLONE_NEWNET },     { "cgroup", CLONE_NEWCGROUP },
    { "time", CLONE_NEWTIME },
};

/* 1 when the init's namespace `name` differs from ours, 0 when it is the
 * same or the kernel lacks the type. */
static int ns_differs(pid_t pid, const char *name, husk_error_t *err)
{
    char theirs[64], ours[64];
    snprintf(theirs, sizeof(theirs), "/proc/%d/ns/%s", (int) pid, name);
    snprintf(ours, sizeof(ours), "/proc/self/ns/%s", name);
    struct stat a, b;
    if (stat(theirs, &a) < 0) {
        if (errno == ENOENT && stat(ours, &b) < 0)
            return 0;
        return husk_error_set(err, errno, "namespace `%s`", theirs);
    }
    if (stat(ours, &b) < 0)
        return husk_error_set(err, errno, "namespace `%s`", ours);
    return a.st_ino != b.st_ino || a.st_dev != b.st_dev;
}

/* Joining a namespace we are already in is refused (user) or pointless, so
 * only the ones that differ are joined. */
static int plan_namespaces(struct exec_ctx *c, husk_error_t *err)
{
    pid_t pid = c->info.rec->pid;
    for (size_t i = 0; i < sizeof(ns_types) / sizeof(ns_types[0]); i++) {
        int r = ns_differs(pid, ns_types[i].name, err);
        if (r < 0)
            return -1;
        if (r > 0)
            c->ns_flags |= ns_types[i].flag;
    }
    int r = ns_differs(pid, "pid", err);
    if (r < 0)
        return -1;
    if (r > 0) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int) pid);
        if ((c->pidns_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
            return husk_error_set(err, errno, "open `%s`", path);
    }
    char root[64];
    snprintf(root, sizeof(root), "/proc/%d/root", (int) pid);
    c->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (c->root_fd < 0)
        return husk_error_set(err, errno, "open the container's root `%s`", root);
    /* The pid may have been reused between the pidfd and these opens. */
    if (!init_is(c->info.rec))
        return husk_error_plain(err, ESRCH, "container `%s` is stopped", c->opts->id);
    return 0;
}

/* ---------- the child ---------- */

__attribute__((noreturn)) static void child_die(int sync, husk_error_t *err)
{
    husk_sync_report(sync, err, "exec failed");
    _exit(127);
}

/* --user: ids from the container's files; its groups there join the
 * additional gids (the config's or --additional-gids), as with runc. */
static int resolve_user(ocispec_process *p, const char *spec, husk_error_t *err)
{
    cleanup_free char *passwd = NULL;
    cleanup_free char *group = NULL;
    husk_read_file("/etc/passwd", &passwd, NULL, NULL);
    husk_read_file("/etc/group", &group, NULL, NULL);
    if (husk_exec_resolve_user(spec, passwd, group, &p->user.uid, &p->user.gid, err) < 0)
        return -1;
    return husk_exec_user_groups(spec, passwd, group, p->user.uid, &p->user.additional_gids,
                                 &p->user.additional_gids_len, err);
}

static int child_open_pty(ocispec_process *p, int sync, int *slave, husk_error_t *err)
{
    cleanup_close int master = -1;
    cleanup_free char *name = NULL;
    if (husk_terminal_open_sized_pty(p->console_size, &master, slave, &name, err) < 0)
        return husk_error_wrap(err, "--tty");
    return husk_sync_send(sync, HUSK_SYNC_PTY, 0, 0, name, master, err);
}

/* Everything that can fail because of the container (its files, its
 * namespaces) comes before GO's wait ends, the privilege drop after. */
/* The session keyring the init made (process.c), joined by its name: its
 * owner is the container's root, whose search permission the join needs,
 * hence the fsuid for a container with its own user namespace (the next
 * setresuid resets it). */
static int join_container_keyring(struct exec_ctx *c, husk_error_t *err)
{
    if (c->info.rec->no_new_keyring)
        return 0;
    if (c->ns_flags & CLONE_NEWUSER) {
        setfsgid(0);
        setfsuid(0);
    }
    char name[HUSK_SESSION_KEYRING_NAME_MAX];
    husk_process_session_keyring_name(c->opts->id, c->info.rec->pid, name, sizeof(name));
    if (syscall(__NR_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name, 0, 0, 0) < 0 && errno != ENOSYS)
        return husk_error_set(err, errno, "join the session keyring `%s` of container `%s`", name,
                              c->opts->id);
    return 0;
}

static int child_prepare(struct exec_ctx *c, int sync, int *slave, char **exec_path,
                         char ***env, husk_error_t *err)
{
    ocispec_process *p = c->proc;
    if (c->ns_flags != 0 && setns(c->init_pidfd, c->ns_flags) < 0)
        return husk_error_set(err, errno, "join the namespaces of container `%s` (init pid %d)",
                              c->opts->id, (int) c->info.rec->pid);
    /* The mount namespace's root is not necessarily the one the init
     * pivoted or chrooted into: take the init's own. */
    if (fchdir(c->root_fd) < 0 || chroot(".") < 0)
        return husk_error_set(err, errno, "enter the root of container `%s`", c->opts->id);
    if (join_container_keyring(c, err) < 0)
        return -1;
    if (c->opts->user != NULL && c->opts->process_path == NULL &&
        resolve_user(p, c->opts->user, err) < 0)
        return -1;
    if (husk_rootfs_chdir(p->cwd, NULL) < 0)
        return husk_error_set(err, errno, "cwd `%s` in container `%s`", p->cwd, c->opts->id);
    if (p->terminal && child_open_pty(p, sync, slave, err) < 0)
        return -1;
    if (husk_process_set_rlimits(p, err) < 0)
        return -1;
    if (husk_process_find_executable(p, exec_path, err) < 0)
        return -1;
    if (husk_fds_listen_env(NULL, p->env, 0, env, err) < 0 || husk_process_add_home(p, env, err) < 0)
        return -1;
    return 0;
}

static int child_start(struct exec_ctx *c, pid_t host_pid, int slave, husk_error_t *err)
{
    ocispec_process *p = c->proc;
    const husk_state_record *rec = c->info.rec;
    if (slave >= 0 && husk_terminal_make_controlling(slave, err) < 0)
        return -1;
    if (husk_process_attrs_apply_late(c->config, err) < 0)
        return -1;
    /* Before seccomp could refuse the write; takes effect at execve. */
    if (husk_lsm_set_exec_labels(&c->lsm_proc, p, err) < 0)
        return -1;
    /* Without NO_NEW_PRIVS the filter needs CAP_SYS_ADMIN: before the
     * capabilities go (as the init does). */
    if (!p->no_new_privileges &&
        husk_seccomp_apply(c->seccomp, c->config, c->opts->id, rec->bundle, host_pid, err) < 0)
        return -1;
    if (husk_process_switch_user(p, err) < 0)
        return -1;
    if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return husk_error_set(err, errno, "process.noNewPrivileges");
    if (p->no_new_privileges &&
        husk_seccomp_apply(c->seccomp, c->config, c->opts->id, rec->bundle, host_pid, err) < 0)
        return -1;
    int keep = 2 + c->opts->preserve_fds;
    if (husk_fds_clear_cloexec_range(3, keep, err) < 0 ||
        husk_fds_mark_cloexec_from(keep + 1, err) < 0)
        return -1;
    return 0;
}

__attribute__((noreturn)) static void child_main(struct exec_ctx *c, int sync)
{
    cleanup_error husk_error_t err = NULL;
    int slave = -1;
    char *exec_path = NULL;
    char **env = NULL;
    struct husk_sync_msg msg;
    if (child_prepare(c, sync, &slave, &exec_path, &env, &err) < 0)
        child_die(sync, &err);
    /* GO: placed in the cgroup; carries our pid as the host sees it. */
    int r = husk_sync_recv(sync, &msg, NULL, &err);
    if (r <= 0 || msg.type != HUSK_SYNC_GO)
        _exit(127);
    if (child_start(c, (pid_t) msg.value, slave, &err) < 0)
        child_die(sync, &err);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(exec_path, c->proc->args, env);
    husk_error_set(&err, errno, "exec \"%s\"", c->proc->args[0]);
    child_die(sync, &err);
}

/* ---------- the parent ---------- */

static int spawn_child(struct exec_ctx *c, husk_error_t *err)
{
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
        return husk_error_set(err, errno, "socketpair");
    /* Inherited: nothing in the container may ptrace or open /proc/<pid>/
     * of the child while it still is husk. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

    /* setns(CLONE_NEWPID) only moves pid_for_children: the clone below is
     * born in the container's pid namespace, husk stays where it is. */
    cleanup_close int own_pidns = -1;
    if (c->pidns_fd >= 0) {
        own_pidns = open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
        if (own_pidns < 0 || setns(c->pidns_fd, CLONE_NEWPID) < 0) {
            int saved = errno;
            close(pair[0]);
            close(pair[1]);
            return husk_error_set(err, saved, "join the pid namespace of container `%s`",
                                  c->opts->id);
        }
    }
    int child_pidfd = -1;
    struct husk_clone_args args = {
        .flags = CLONE_PIDFD,
        .pidfd = (uint64_t) (uintptr_t) &child_pidfd,
        .exit_signal = SIGCHLD,
    };
    int v2fd = husk_cgroup_v2_fd(c->cg);
    if (v2fd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = (uint64_t) v2fd;
    }
    pid_t child = husk_clone3(&args, sizeof(args));
    if (child == 0) {
        close(pair[0]);
        child_main(c, pair[1]);
    }
    int saved = errno;
    if (own_pidns >= 0 && setns(own_pidns, CLONE_NEWPID) < 0)
        husk_log_warning("exec: cannot return to husk's pid namespace: %s", strerror(errno));
    close(pair[1]);
    if (child < 0) {
        close(pair[0]);
        return husk_error_set(err, saved, "clone the exec process");
    }
    c->child = child;
    c->child_pidfd = child_pidfd;
    c->sync = pair[0];
    if (v2fd < 0 && husk_cgroup_enter(c->cg, child, err) < 0)
        return husk_error_wrap(err, "join the cgroup of container `%s`", c->opts->id);
    if (husk_process_attrs_apply_early(child, c->config, err) < 0)
        return -1;
    /* A child that already failed has sent its error and gone: the send
     * fails (EPIPE) and wait_exec() reads why. */
    husk_sync_send(c->sync, HUSK_SYNC_GO, 0, child, NULL, -1, NULL);
    return 0;
}

static void kill_child(struct exec_ctx *c)
{
    if (c->child_pidfd < 0)
        return;
    husk_pidfd_send_signal(c->child_pidfd, SIGKILL, NULL, 0);
    siginfo_t info;
    waitid((idtype_t) P_PIDFD, (id_t) c->child_pidfd, &info, WEXITED);
    husk_close_fd(&c->child_pidfd);
}

/* A failure of ours once the child exists may come from the child having
 * failed first (a cgroup takes no dead process): its own error, then in
 * the socket, says what went wrong. Killed and reaped first, the child has
 * closed its end, so the socket ends after what it sent. */
static void prefer_child_error(struct exec_ctx *c, husk_error_t *err)
{
    if (c->sync < 0)
        return;
    kill_child(c);
    for (;;) {
        struct husk_sync_msg msg;
        int fd = -1;
        cleanup_error husk_error_t ignored = NULL;
        if (husk_sync_recv(c->sync, &msg, &fd, &ignored) <= 0)
            return;
        if (fd >= 0)
            close(fd);
        if (msg.type == HUSK_SYNC_ERROR) {
            husk_error_free(err);
            husk_sync_error(&msg, err);
            return;
        }
    }
}

/* The lock (shared) kept delete, start and pause out while the process
 * was being placed; once it is in the container's cgroup and pid namespace
 * a delete reaches it. LOCK_UN rather than close: the child holds a copy
 * of the fd until its execve, and a child frozen in a paused container
 * would hold the lock for as long. */
static void release_container_lock(struct exec_ctx *c)
{
    if (c->dir == NULL)
        return;
    flock(c->dir->lock_fd, LOCK_UN);
    husk_container_dir_free(c->dir);
    c->dir = NULL;
}

/* Until EOF (the execve closed the CLOEXEC socket): the pty master, or the
 * child's error. The master goes to the console socket only then: a child
 * that fails after making its pty has its own error reported, not one of
 * the console socket's (its reader may well have gone: EPIPE). */
static int wait_exec(struct exec_ctx *c, husk_error_t *err)
{
    for (;;) {
        struct husk_sync_msg msg;
        int fd = -1;
        int r = husk_sync_recv(c->sync, &msg, &fd, err);
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        if (msg.type == HUSK_SYNC_ERROR) {
            if (fd >= 0)
                close(fd);
            return husk_sync_error(&msg, err);
        }
        if (msg.type == HUSK_SYNC_PTY && fd >= 0 && c->pty_master < 0) {
            c->pty_master = fd;
            continue;
        }
        if (fd >= 0)
            close(fd);
    }
    if (c->opts->console_socket != NULL && c->pty_master >= 0)
        return husk_terminal_send_to_console_socket(c->opts->console_socket, c->pty_master, err);
    return 0;
}

static int prepare(struct exec_ctx *c, husk_error_t *err)
{
    if (check_preserved_fds(c->opts->preserve_fds, err) < 0 || load_container(c, err) < 0 ||
        build_process(c, err) < 0 || load_cgroup(c, err) < 0)
        return -1;
    const ocispec_linux *linux = c->config->linux;
    if (linux != NULL && linux->seccomp != NULL) {
        if (husk_seccomp_compile_cached(linux->seccomp, HUSK_SECCOMP_CACHE_DIR, &c->seccomp,
                                        err) < 0 ||
            husk_seccomp_prepare_listener(c->seccomp, err) < 0)
            return husk_error_wrap(err, "container `%s`", c->opts->id);
    }
    /* The procfs is husk's, opened on the host: the child writes its label
     * through it, never through the container's /proc. */
    if (husk_lsm_prepare(c->proc, &c->lsm_proc, err) < 0) {
        if (c->opts->apparmor != NULL && c->opts->apparmor[0] != '\0')
            return husk_error_wrap(err, "--apparmor");
        return husk_error_wrap(err, "exec in container `%s`", c->opts->id);
    }
    return plan_namespaces(c, err);
}

int husk_exec(const struct husk_exec_opts *opts, int *exit_status, husk_error_t *err)
{
    struct exec_ctx c = {
        .opts = opts,
        .init_pidfd = -1, .root_fd = -1, .pidns_fd = -1,
        .child_pidfd = -1, .sync = -1, .pty_master = -1, .lsm_proc = -1,
    };
    *exit_status = 0;
    int ret = prepare(&c, err);
    /* Blocked before the clone so no signal meant for the process is lost
     * (the child empties its mask before execve). */
    sigset_t all, old;
    sigfillset(&all);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    bool blocked = ret == 0 && !opts->detach;
    if (blocked)
        sigprocmask(SIG_BLOCK, &all, &old);
    if (ret == 0 && (ret = spawn_child(&c, err)) < 0)
        prefer_child_error(&c, err);
    release_container_lock(&c);
    if (c.seccomp != NULL)
        husk_seccomp_drop_listener(c.seccomp);
    if (ret == 0)
        ret = wait_exec(&c, err);
    if (ret == 0 && opts->pid_file != NULL)
        ret = husk_write_pid_file(opts->pid_file, c.child, err);
    if (ret < 0) {
        kill_child(&c);
    } else if (!opts->detach) {
        cleanup_close int sfd = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
        int proxied_pty = opts->console_socket == NULL ? c.pty_master : -1;
        if (sfd < 0)
            ret = husk_error_set(err, errno, "signalfd");
        else
            ret = husk_foreground_wait(c.child_pidfd, sfd, proxied_pty, "exec process",
                                       exit_status, err);
        if (ret == 0)
            husk_close_fd(&c.child_pidfd);
    }
    if (blocked)
        sigprocmask(SIG_SETMASK, &old, NULL);
    exec_ctx_release(&c);
    return ret;
}
