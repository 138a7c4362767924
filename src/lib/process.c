#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/keyctl.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hooks.h"
#include "idmap_mount.h"
#include "lsm.h"
#include "process_attrs.h"
#include "rootfs.h"
#include "sysctl.h"
#include "syscalls.h"
#include "terminal.h"
#include "utils.h"

/* ---------- the sync protocol ---------- */

int husk_sync_send(int sock, uint32_t type, int errnum, int64_t value, const char *text, int fd,
                   husk_error_t *err)
{
    struct husk_sync_msg msg = { .type = type, .errnum = errnum, .value = value };
    size_t text_len = 0;
    if (text != NULL) {
        text_len = strnlen(text, HUSK_SYNC_TEXT_MAX - 1);
        memcpy(msg.text, text, text_len);
    }
    struct iovec iov = { .iov_base = &msg, .iov_len = offsetof(struct husk_sync_msg, text) + text_len + 1 };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (fd >= 0) {
        memset(&control, 0, sizeof(control));
        mh.msg_control = control.buf;
        mh.msg_controllen = sizeof(control.buf);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    ssize_t n;
    while ((n = sendmsg(sock, &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    if (n < 0)
        return husk_error_set(err, errno, "send to the container's init");
    return 0;
}

int husk_sync_recv(int sock, struct husk_sync_msg *msg, int *fd, husk_error_t *err)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    memset(msg, 0, sizeof(*msg));
    struct iovec iov = { .iov_base = msg, .iov_len = sizeof(*msg) };
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = control.buf, .msg_controllen = sizeof(control.buf),
    };
    if (fd != NULL)
        *fd = -1;
    ssize_t n;
    /* ECONNRESET means the peer closed with our last message unread (an
     * init that failed and exited); it is reported before, and instead of,
     * what the peer sent us first. The error is consumed by reporting it,
     * so read again for that message. */
    while ((n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) < 0 && (errno == EINTR || errno == ECONNRESET))
        ;
    if (n < 0)
        return husk_error_set(err, errno, "receive from the container's init");
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int got;
            memcpy(&got, CMSG_DATA(c), sizeof(int));
            if (fd != NULL && *fd < 0)
                *fd = got;
            else
                close(got);
        }
    }
    if (n == 0)
        return 0;
    msg->text[HUSK_SYNC_TEXT_MAX - 1] = '\0';
    return 1;
}

void husk_sync_report(int sock, const husk_error_t *err, const char *fallback)
{
    const char *text = (err && *err && (*err)->msg) ? (*err)->msg : fallback;
    int errnum = (err && *err) ? (*err)->errno_value : 0;
    husk_sync_send(sock, HUSK_SYNC_ERROR, errnum, 0, text, -1, NULL);
}

int husk_sync_error(const struct husk_sync_msg *msg, husk_error_t *err)
{
    /* The init's message already ends with strerror(errnum). */
    int ret = husk_error_set(err, 0, "%s", msg->text);
    if (err != NULL && *err != NULL)
        (*err)->errno_value = msg->errnum;
    return msg->errnum > 0 ? -msg->errnum : ret;
}

/* ---------- state JSON for hooks ---------- */

char *husk_process_state_json(const ocispec_config *config, const char *id, const char *bundle,
                              const char *status, pid_t pid)
{
    ocispec_state st = {
        .oci_version = (char *) OCISPEC_VERSION,
        .id = (char *) id,
        .status = (char *) status,
        .has_pid = pid > 0,
        .pid = pid,
        .bundle = (char *) bundle,
        .annotations = config->annotations,
    };
    char *perr = NULL;
    char *json = ocispec_state_generate(&st, false, &perr);
    free(perr);
    return json;
}

/* ---------- the init ---------- */

struct init_ctx {
    const struct husk_init_spec *spec;
    int sync;   /* where errors go: the socketpair, later the `start` connection */
    pid_t host_pid;
    char *exec_path;
    char **env;
    int lsm_proc;   /* trusted procfs for the LSM label write, or -1 */
};

__attribute__((noreturn)) static void init_die(struct init_ctx *ctx, husk_error_t *err)
{
    husk_sync_report(ctx->sync, err, "container init failed");
    _exit(1);
}

static int init_expect(struct init_ctx *ctx, uint32_t type, struct husk_sync_msg *msg,
                       husk_error_t *err)
{
    int r = husk_sync_recv(ctx->sync, msg, NULL, err);
    if (r < 0)
        return -1;
    if (r == 0)
        _exit(1); /* the parent gave up and will clean up */
    if (msg->type == HUSK_SYNC_ERROR)
        _exit(1);
    if (msg->type != type)
        return husk_error_set(err, EPROTO, "container init: unexpected message %u", msg->type);
    return 0;
}

static int set_hostname(const ocispec_config *c, const husk_ns_plan *ns, husk_error_t *err)
{
    bool new_uts = ns->clone_flags & CLONE_NEWUTS;
    if (c->hostname != NULL && c->hostname[0] != '\0') {
        if (!new_uts)
            return husk_error_set(err, 0, "hostname: needs a new uts namespace");
        if (sethostname(c->hostname, strlen(c->hostname)) < 0)
            return husk_error_set(err, errno, "hostname: set `%s`", c->hostname);
    }
    if (c->domainname != NULL && c->domainname[0] != '\0') {
        if (!new_uts)
            return husk_error_set(err, 0, "domainname: needs a new uts namespace");
        if (setdomainname(c->domainname, strlen(c->domainname)) < 0)
            return husk_error_set(err, errno, "domainname: set `%s`", c->domainname);
    }
    return 0;
}

static const struct {
    const char *name;
    int resource;
} rlimit_table[] = {
    { "RLIMIT_AS", RLIMIT_AS },           { "RLIMIT_CORE", RLIMIT_CORE },
    { "RLIMIT_CPU", RLIMIT_CPU },         { "RLIMIT_DATA", RLIMIT_DATA },
    { "RLIMIT_FSIZE", RLIMIT_FSIZE },     { "RLIMIT_LOCKS", RLIMIT_LOCKS },
    { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
    { "RLIMIT_NICE", RLIMIT_NICE },       { "RLIMIT_NOFILE", RLIMIT_NOFILE },
    { "RLIMIT_NPROC", RLIMIT_NPROC },     { "RLIMIT_RSS", RLIMIT_RSS },
    { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },   { "RLIMIT_RTTIME", RLIMIT_RTTIME },
    { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

static int set_rlimits(const ocispec_process *p, husk_error_t *err)
{
    for (size_t i = 0; i < p->rlimits_len; i++) {
        const ocispec_rlimit *r = &p->rlimits[i];
        size_t k, n = sizeof(rlimit_table) / sizeof(rlimit_table[0]);
        for (k = 0; k < n; k++)
            if (r->type != NULL && strcmp(rlimit_table[k].name, r->type) == 0)
                break;
        if (k == n)
            return husk_error_set(err, 0, "process.rlimits[%zu].type: unknown `%s`", i,
                                  r->type ? r->type : "");
        struct rlimit rl = { .rlim_cur = r->soft, .rlim_max = r->hard };
        if (setrlimit(rlimit_table[k].resource, &rl) < 0)
            return husk_error_set(err, errno, "process.rlimits[%zu]: set %s to %llu/%llu", i,
                                  r->type, (unsigned long long) r->soft,
                                  (unsigned long long) r->hard);
    }
    return 0;
}

/* PATH lookup in the container's environment, as the user's exec will see
 * it; done before READY so that a missing program fails `create`. */
static int find_executable(const ocispec_process *p, char **out, husk_error_t *err)
{
    const char *name = p->args[0];
    if (strchr(name, '/') != NULL) {
        /* A relative path names a file under process.cwd, where execve
         * will run once the init has changed directory. */
        cleanup_free char *from_cwd = NULL;
        if (name[0] != '/' && p->cwd != NULL && asprintf(&from_cwd, "%s/%s", p->cwd, name) < 0)
            return husk_error_set(err, ENOMEM, "exec \"%s\"", name);
        struct stat st;
        if (stat(from_cwd != NULL ? from_cwd : name, &st) < 0)
            return husk_error_set(err, errno, "exec \"%s\"", name);
        *out = strdup(name);
        return 0;
    }
    const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (size_t i = 0; i < p->env_len; i++)
        if (strncmp(p->env[i], "PATH=", 5) == 0)
            path = p->env[i] + 5;
    cleanup_free char *copy = strdup(path);
    char *save = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir != NULL; dir = strtok_r(NULL, ":", &save)) {
        cleanup_free char *cand = NULL;
        if (asprintf(&cand, "%s/%s", *dir ? dir : ".", name) < 0)
            return husk_error_set(err, ENOMEM, "exec \"%s\"", name);
        struct stat st;
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111)) {
            *out = steal_pointer(&cand);
            return 0;
        }
    }
    husk_error_set(err, 0, "exec: \"%s\": executable file not found in $PATH", name);
    (*err)->errno_value = ENOENT;
    return -ENOENT;
}

/* Capability names to values. Names libcap or the kernel do not know are
 * skipped: runtime-spec asks runtimes to warn about them, not to fail (the
 * parent warns, see husk_process_unknown_caps). Returns how many are known. */
static size_t cap_list_to_values(char *const *names, size_t n, cap_value_t *vals)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k <= CAP_LAST_CAP; i++) {
        cap_value_t v;
        if (cap_from_name(names[i], &v) == 0 && CAP_IS_SUPPORTED(v))
            vals[k++] = v;
    }
    return k;
}

static int append_unknown(char **out, char *const *names, size_t n, const char *field)
{
    for (size_t i = 0; i < n; i++) {
        cap_value_t v;
        if (cap_from_name(names[i], &v) == 0 && CAP_IS_SUPPORTED(v))
            continue;
        char *joined = NULL;
        if (asprintf(&joined, "%s%sprocess.capabilities.%s: unknown capability `%s` ignored",
                     *out ? *out : "", *out ? "; " : "", field, names[i]) < 0)
            return -1;
        free(*out);
        *out = joined;
    }
    return 0;
}

char *husk_process_unknown_caps(const ocispec_capabilities *caps)
{
    char *out = NULL;
    if (caps == NULL)
        return NULL;
    append_unknown(&out, caps->bounding, caps->bounding_len, "bounding");
    append_unknown(&out, caps->effective, caps->effective_len, "effective");
    append_unknown(&out, caps->permitted, caps->permitted_len, "permitted");
    append_unknown(&out, caps->inheritable, caps->inheritable_len, "inheritable");
    append_unknown(&out, caps->ambient, caps->ambient_len, "ambient");
    return out;
}

static int drop_bounding(const ocispec_capabilities *caps, husk_error_t *err)
{
    cap_value_t keep[CAP_LAST_CAP + 1];
    size_t n = caps ? cap_list_to_values(caps->bounding, caps->bounding_len, keep) : 0;
    /* Up to the kernel's last capability (EINVAL past it), which may be
     * newer than libcap's list. */
    for (cap_value_t c = 0;; c++) {
        bool kept = false;
        for (size_t i = 0; i < n && !kept; i++)
            kept = keep[i] == c;
        if (kept)
            continue;
        if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
            if (errno == EINVAL)
                return 0;
            return husk_error_set(err, errno, "process.capabilities.bounding: drop capability %d",
                                  (int) c);
        }
    }
}

static int set_cap_flag(cap_t state, cap_flag_t flag, char *const *names, size_t n,
                        const char *field, husk_error_t *err)
{
    cap_value_t vals[CAP_LAST_CAP + 1];
    n = cap_list_to_values(names, n, vals);
    if (n == 0)
        return 0;
    if (cap_set_flag(state, flag, (int) n, vals, CAP_SET) < 0)
        return husk_error_set(err, errno, "process.capabilities.%s", field);
    return 0;
}

static int apply_capabilities(const ocispec_capabilities *caps, husk_error_t *err)
{
    cap_t state = cap_init();
    if (state == NULL)
        return husk_error_set(err, errno, "process.capabilities");
    int ret = 0;
    if (caps != NULL &&
        (set_cap_flag(state, CAP_EFFECTIVE, caps->effective, caps->effective_len, "effective", err) < 0 ||
         set_cap_flag(state, CAP_PERMITTED, caps->permitted, caps->permitted_len, "permitted", err) < 0 ||
         set_cap_flag(state, CAP_INHERITABLE, caps->inheritable, caps->inheritable_len,
                      "inheritable", err) < 0))
        ret = -1;
    else if (cap_set_proc(state) < 0)
        ret = husk_error_set(err, errno, "process.capabilities: set effective/permitted/inheritable");
    cap_free(state);
    if (ret < 0)
        return ret;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return husk_error_set(err, errno, "process.capabilities.ambient: clear");
    cap_value_t amb[CAP_LAST_CAP + 1];
    size_t n_amb = caps ? cap_list_to_values(caps->ambient, caps->ambient_len, amb) : 0;
    for (size_t i = 0; i < n_amb; i++) {
        /* Like runc: an ambient capability missing from permitted or
         * inheritable is skipped rather than fatal. */
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, amb[i], 0, 0) < 0 && errno != EPERM)
            return husk_error_set(err, errno, "process.capabilities.ambient: raise %s",
                                  cap_to_name(amb[i]));
    }
    return 0;
}

static int switch_user(const ocispec_process *p, husk_error_t *err)
{
    const ocispec_user *u = &p->user;
    if (drop_bounding(p->capabilities, err) < 0)
        return -1;
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        return husk_error_set(err, errno, "prctl(PR_SET_KEEPCAPS)");
    if (setgroups(u->additional_gids_len, (const gid_t *) u->additional_gids) < 0 &&
        !(errno == EPERM && u->additional_gids_len == 0))
        return husk_error_set(err, errno, "process.user.additionalGids: setgroups");
    if (setresgid(u->gid, u->gid, u->gid) < 0)
        return husk_error_set(err, errno, "process.user.gid: setgid %u", u->gid);
    if (setresuid(u->uid, u->uid, u->uid) < 0)
        return husk_error_set(err, errno, "process.user.uid: setuid %u", u->uid);
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
        return husk_error_set(err, errno, "prctl(PR_SET_KEEPCAPS)");
    if (apply_capabilities(p->capabilities, err) < 0)
        return -1;
    /* The init ran with umask 0 so /dev nodes got their exact modes. */
    umask(u->has_umask ? (u->umask & 0777) : 0022);
    return 0;
}

void husk_process_session_keyring_name(const char *id, pid_t init_host_pid, char *buf, size_t size)
{
    snprintf(buf, size, "_ses.%.250s.%d", id, (int) init_host_pid);
}

/* Key permission bits (keyrings(7), KEYCTL_SETPERM): possessor all, owner
 * view, read, search and link. */
#define KEYRING_PERM_POSSESSOR_ALL 0x3f000000u
#define KEYRING_PERM_USER_VIEW 0x00010000u
#define KEYRING_PERM_USER_READ 0x00020000u
#define KEYRING_PERM_USER_SEARCH 0x00080000u
#define KEYRING_PERM_USER_LINK 0x00100000u

static int join_session_keyring(const char *id, pid_t host_pid, husk_error_t *err)
{
    char name[HUSK_SESSION_KEYRING_NAME_MAX];
    husk_process_session_keyring_name(id, host_pid, name, sizeof(name));
    /* KEYCTL_JOIN_SESSION_KEYRING: a keyring of its own, not the host's. */
    long serial = syscall(__NR_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name, 0, 0, 0);
    if (serial < 0 && errno == ENOSYS)
        return 0;
    if (serial < 0)
        return husk_error_set(err, errno, "join a new session keyring (--no-new-keyring skips this)");
    /* A new session keyring lacks the owner's search permission, without
     * which `exec` (the same owner, in the same user namespace) cannot find
     * it by name and would get a keyring of its own instead. */
    if (syscall(__NR_keyctl, KEYCTL_SETPERM, serial,
                KEYRING_PERM_POSSESSOR_ALL | KEYRING_PERM_USER_VIEW | KEYRING_PERM_USER_READ |
                    KEYRING_PERM_USER_SEARCH | KEYRING_PERM_USER_LINK, 0, 0) < 0)
        return husk_error_set(err, errno, "session keyring `%s`: set its permissions", name);
    return 0;
}

static int setup_console(struct init_ctx *ctx, husk_error_t *err)
{
    const ocispec_process *p = ctx->spec->config->process;
    cleanup_close int master = -1;
    int slave = -1;
    cleanup_free char *name = NULL;
    if (husk_terminal_open_sized_pty(p->console_size, &master, &slave, &name, err) < 0)
        return husk_error_wrap(err, "process.terminal");
    if (husk_rootfs_bind_console_fd(slave, err) < 0)
        return -1;
    if (husk_sync_send(ctx->sync, HUSK_SYNC_PTY, 0, 0, name, master, err) < 0)
        return -1;
    /* Now, not at start: until the init lets go of the stdout/stderr it
     * inherited from `husk create`, a caller reading that pipe to its end
     * (containerd's shim) would wait for `start` forever. */
    return husk_terminal_make_controlling(slave, err);
}

static int set_oom_score_adj(const ocispec_process *p, husk_error_t *err)
{
    if (!p->has_oom_score_adj)
        return 0;
    char buf[16];
    int len = snprintf(buf, sizeof(buf), "%d", (int) p->oom_score_adj);
    cleanup_close int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, buf, (size_t) len) != len)
        return husk_error_set(err, errno, "process.oomScoreAdj: set %d", (int) p->oom_score_adj);
    return 0;
}

/* The user's home directory from the container's /etc/passwd ("/" when
 * it has none), for a config without HOME, as runc and crun do. */
static int add_home(const ocispec_process *p, char ***env, husk_error_t *err)
{
    size_t n = 0;
    for (; (*env)[n] != NULL; n++)
        if (strncmp((*env)[n], "HOME=", 5) == 0)
            return 0;
    const char *home = "/";
    cleanup_free char *passwd = NULL;
    if (husk_read_file("/etc/passwd", &passwd, NULL, NULL) == 0) {
        char *save = NULL;
        for (char *line = strtok_r(passwd, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            /* name:password:uid:gid:gecos:home:shell */
            char *f[7] = { 0 };
            size_t k = 0;
            for (char *q = line; k < 7; k++) {
                f[k] = q;
                q = strchr(q, ':');
                if (q == NULL)
                    break;
                *q++ = '\0';
            }
            if (k >= 5 && f[2] != NULL && f[5] != NULL && f[5][0] != '\0' &&
                strtoul(f[2], NULL, 10) == p->user.uid && strspn(f[2], "0123456789") == strlen(f[2])) {
                home = f[5];
                break;
            }
        }
    }
    char **bigger = realloc(*env, (n + 2) * sizeof(char *));
    if (bigger == NULL)
        return husk_error_set(err, ENOMEM, "process.env: HOME");
    *env = bigger;
    if (asprintf(&bigger[n], "HOME=%s", home) < 0)
        return husk_error_set(err, ENOMEM, "process.env: HOME");
    bigger[n + 1] = NULL;
    return 0;
}

/* Steps up to READY: everything that can fail at `create`. */
static int init_prepare(struct init_ctx *ctx, husk_error_t *err)
{
    const struct husk_init_spec *s = ctx->spec;
    const ocispec_config *c = s->config;
    struct husk_sync_msg msg;

    if (init_expect(ctx, HUSK_SYNC_GO, &msg, err) < 0)
        return -1;
    ctx->host_pid = (pid_t) msg.value;
    bool placed = msg.errnum == 1;
    /* In a new user namespace the init's host ids are unmapped until it
     * becomes the namespace's root (the maps were written before GO). */
    if (s->ns->new_user && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
        return husk_error_set(err, errno, "become root of the new user namespace");
    if (s->ns->unshare_cgroup && unshare(CLONE_NEWCGROUP) < 0)
        return husk_error_set(err, errno, "unshare the cgroup namespace");
    if (husk_ns_join(s->ns, err) < 0)
        return -1;
    if ((s->ns->clone_flags & CLONE_NEWNET) && husk_ns_loopback_up(err) < 0)
        return -1;
    if (set_hostname(c, s->ns, err) < 0)
        return -1;
    if (set_oom_score_adj(c->process, err) < 0)
        return -1;
    /* In all its namespaces now, before the rootfs can cover anything. */
    if (husk_sysctl_apply(c, err) < 0)
        return -1;
    /* Checked at create, with a procfs no rootfs can have covered yet;
     * the label itself is asked for just before execve. */
    if (husk_lsm_prepare(c->process, &ctx->lsm_proc, err) < 0)
        return -1;

    cleanup_close int root_fd = -1;
    bool joined_cgroup_ns = false;
    for (size_t i = 0; i < s->ns->n_join; i++)
        joined_cgroup_ns |= s->ns->join_flag[i] == CLONE_NEWCGROUP;
    husk_cgroup_view cgroups = {
        .own_ns = s->ns->unshare_cgroup || joined_cgroup_ns,
        .path = s->cgroup_path,
    };
    if (husk_rootfs_prepare(c, s->rootfs, s->bundle, &cgroups, &root_fd, err) < 0)
        return -1;
    if (!placed && init_expect(ctx, HUSK_SYNC_PLACED, &msg, err) < 0)
        return -1;

    if (s->hooks_round) {
        if (husk_sync_send(ctx->sync, HUSK_SYNC_HOOKS, 0, 0, NULL, -1, err) < 0 ||
            init_expect(ctx, HUSK_SYNC_HOOKS_DONE, &msg, err) < 0)
            return -1;
    }
    if (c->hooks != NULL && c->hooks->create_container_len > 0) {
        /* Still inside the create operation, as for createRuntime. */
        cleanup_free char *state =
            husk_process_state_json(c, s->id, s->bundle, "creating", ctx->host_pid);
        if (husk_hooks_run("createContainer", c->hooks->create_container,
                           c->hooks->create_container_len, s->create_container_fds, state,
                           err) < 0)
            return -1;
    }

    if (husk_rootfs_enter(root_fd, s->no_pivot, err) < 0)
        return -1;
    /* As runc: a missing cwd is made, before root.readonly applies (we
     * are inside the rootfs now, so the path cannot lead out of it). */
    if (c->process->cwd != NULL && husk_rootfs_make_cwd(c->process->cwd, err) < 0)
        return husk_error_wrap(err, "process.cwd");
    if (husk_rootfs_finish(c, err) < 0)
        return -1;
    if (c->process->terminal && setup_console(ctx, err) < 0)
        return -1;
    if (set_rlimits(c->process, err) < 0)
        return -1;
    if (!s->no_new_keyring && join_session_keyring(s->id, ctx->host_pid, err) < 0)
        return -1;
    if (find_executable(c->process, &ctx->exec_path, err) < 0)
        return -1;
    if (husk_fds_listen_env(s->listen, c->process->env, 1, &ctx->env, err) < 0 ||
        add_home(c->process, &ctx->env, err) < 0)
        return -1;
    /* From READY on the parent may exit as soon as it has sent START, and
     * the init must outlive it; a parent that dies before sending START
     * closes the socket, which ends the init just as well. */
    prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
    return husk_sync_send(ctx->sync, HUSK_SYNC_READY, 0, 0, NULL, -1, err);
}

static void exit_on_signal(int sig)
{
    _exit(128 + sig);
}

/* create: the init waits for `husk start` on the start socket. As pid 1 of
 * its namespace it would ignore SIGTERM and friends without handlers; with
 * them, `husk kill` of a created container works. exec resets them. */
static void wait_for_start(struct init_ctx *ctx)
{
    static const int exit_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
    struct sigaction sa = { .sa_handler = exit_on_signal };
    for (size_t i = 0; i < sizeof(exit_signals) / sizeof(exit_signals[0]); i++)
        sigaction(exit_signals[i], &sa, NULL);
    close(ctx->sync);
    ctx->sync = -1;
    for (;;) {
        int conn = accept4(ctx->spec->start_listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            _exit(1);
        }
        ctx->sync = conn;
        break;
    }
    close(ctx->spec->start_listen_fd);
}

static int init_start(struct init_ctx *ctx, husk_error_t *err)
{
    const struct husk_init_spec *s = ctx->spec;
    const ocispec_config *c = s->config;
    const ocispec_process *p = c->process;

    if (c->hooks != NULL && c->hooks->start_container_len > 0) {
        cleanup_free char *state =
            husk_process_state_json(c, s->id, s->bundle, "created", ctx->host_pid);
        if (husk_hooks_run("startContainer", c->hooks->start_container,
                           c->hooks->start_container_len, NULL, state, err) < 0)
            return -1;
    }
    /* With the capabilities they need, before seccomp could refuse them. */
    if (husk_process_attrs_apply_late(c, err) < 0)
        return -1;
    /* After the startContainer hooks (a hook must not exec into the
     * container's profile), before seccomp could refuse the write. */
    if (husk_lsm_set_exec_labels(&ctx->lsm_proc, p, err) < 0)
        return -1;
    /* Without NO_NEW_PRIVS the kernel wants CAP_SYS_ADMIN for seccomp:
     * load before the capabilities go; else as late as possible. */
    if (!p->no_new_privileges &&
        husk_seccomp_apply(s->seccomp, c, s->id, s->bundle, ctx->host_pid, err) < 0)
        return -1;
    /* Enter cwd while still root, so a directory only root may search
     * (mode 0700 /root) works for any user, as with runc; a cwd only the
     * user can reach (root squashed on NFS, say) is tried again after. */
    bool in_cwd = p->cwd == NULL || chdir(p->cwd) == 0;
    if (switch_user(p, err) < 0)
        return -1;
    if (!in_cwd && chdir(p->cwd) < 0)
        return husk_error_set(err, errno, "process.cwd: chdir `%s`", p->cwd);
    if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return husk_error_set(err, errno, "process.noNewPrivileges");
    if (p->no_new_privileges &&
        husk_seccomp_apply(s->seccomp, c, s->id, s->bundle, ctx->host_pid, err) < 0)
        return -1;

    int keep = husk_fds_keep_up_to(s->listen, s->preserve_fds);
    if (husk_fds_clear_cloexec_range(3, keep, err) < 0 ||
        husk_fds_mark_cloexec_from(keep + 1, err) < 0)
        return -1;
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(ctx->exec_path, p->args, ctx->env);
    return husk_error_set(err, errno, "exec \"%s\"", p->args[0]);
}

__attribute__((noreturn)) static void init_main(const struct husk_init_spec *spec, int sync)
{
    cleanup_error husk_error_t err = NULL;
    struct init_ctx ctx = { .spec = spec, .sync = sync, .lsm_proc = -1 };

    umask(0);
    /* Until READY, a parent that dies takes the init with it. */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (init_prepare(&ctx, &err) < 0)
        init_die(&ctx, &err);

    struct husk_sync_msg msg;
    if (init_expect(&ctx, HUSK_SYNC_START, &msg, &err) < 0)
        init_die(&ctx, &err);
    if (spec->wait_for_start)
        wait_for_start(&ctx);
    init_start(&ctx, &err);
    init_die(&ctx, &err);
}

/* ---------- the parent ---------- */

static void close_idmap_mounts(husk_idmap_mounts *m)
{
    husk_idmap_mounts_close(m);
}

int husk_process_spawn(const struct husk_init_spec *spec, int cgroup_fd, pid_t *pid, int *pidfd,
                       int *sync, husk_error_t *err)
{
    /* Made here, with husk's privilege over the sources; the init inherits
     * the fds (see idmap_mount.h). */
    __attribute__((cleanup(close_idmap_mounts))) husk_idmap_mounts idmapped = { 0 };
    if (husk_idmap_mounts_open(spec->config, spec->bundle, spec->ns->new_user, &idmapped, err) < 0)
        return -1;

    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
        return husk_error_set(err, errno, "socketpair for the container's init");

    /* Inherited by the init: non-dumpable from its first instruction, so no
     * process of the container can open its /proc/<pid>/ files. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

    cleanup_close int own_pidns = -1;
    if (spec->ns->pid_join_fd >= 0) {
        own_pidns = open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
        if (own_pidns < 0 || setns(spec->ns->pid_join_fd, CLONE_NEWPID) < 0) {
            int saved = errno;
            close(pair[0]);
            close(pair[1]);
            return husk_error_set(err, saved, "join the pid namespace of linux.namespaces");
        }
    }

    /* Last before clone3: while husk's time_for_children is the new time
     * namespace, anything it forks would land there. */
    cleanup_close int own_timens = -1;
    if (spec->ns->new_time && husk_ns_time_prepare(spec->config->linux, &own_timens, err) < 0) {
        if (own_pidns >= 0)
            setns(own_pidns, CLONE_NEWPID);
        close(pair[0]);
        close(pair[1]);
        return -1;
    }

    int child_pidfd = -1;
    struct husk_clone_args args = {
        .flags = spec->ns->clone_flags | CLONE_PIDFD,
        .pidfd = (uint64_t) (uintptr_t) &child_pidfd,
        .exit_signal = SIGCHLD,
    };
    if (cgroup_fd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = (uint64_t) cgroup_fd;
    }
    pid_t child = husk_clone3(&args, sizeof(args));
    if (child == 0) {
        close(pair[0]);
        for (size_t i = 0; i < sizeof(spec->drop_fds) / sizeof(spec->drop_fds[0]); i++)
            if (spec->drop_fds[i] >= 0)
                close(spec->drop_fds[i]);
        husk_idmap_mounts_use(&idmapped);
        init_main(spec, pair[1]);
    }
    int saved = errno;
    if (own_pidns >= 0)
        setns(own_pidns, CLONE_NEWPID);
    close(pair[1]);
    if (child < 0) {
        close(pair[0]);
        if (own_timens >= 0)
            husk_ns_time_restore(own_timens, NULL);
        return husk_error_set(err, saved, "clone the container's init (flags %#llx)",
                              (unsigned long long) args.flags);
    }
    /* Hooks and helpers husk runs later belong in the host's clocks. An
     * init left without its parent's socket exits at once. */
    if (own_timens >= 0 && husk_ns_time_restore(own_timens, err) < 0) {
        close(pair[0]);
        close(child_pidfd);
        while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
            ;
        return -1;
    }
    *pid = child;
    *pidfd = child_pidfd;
    *sync = pair[0];
    return 0;
}

/* ---------- steps shared with exec (exec.c) ---------- */

int husk_process_set_rlimits(const ocispec_process *p, husk_error_t *err)
{
    return set_rlimits(p, err);
}

int husk_process_find_executable(const ocispec_process *p, char **out, husk_error_t *err)
{
    return find_executable(p, out, err);
}

int husk_process_add_home(const ocispec_process *p, char ***env, husk_error_t *err)
{
    return add_home(p, env, err);
}

int husk_process_switch_user(const ocispec_process *p, husk_error_t *err)
{
    return switch_user(p, err);
}
