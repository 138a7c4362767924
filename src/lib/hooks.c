#define _GNU_SOURCE
#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fds.h"
#include "utils.h"

int husk_hooks_force_no_pidfd;

/* Without a pidfd, how often the exit of a hook is polled for. */
#define NO_PIDFD_TICK_MS 10

/* In the child the exec-error pipe and the exec fd are placed here, right
 * above stdio, so that everything from FIRST_FREE_FD up can be closed. */
#define CHILD_ERRPIPE_FD 3
#define CHILD_EXEC_FD 4

/* ---- bounded output capture ---- */

struct tail {
    char buf[HUSK_HOOK_OUTPUT_TAIL];
    size_t len;
};

static void tail_append(struct tail *t, const char *data, size_t n)
{
    if (n >= sizeof(t->buf)) {
        memcpy(t->buf, data + n - sizeof(t->buf), sizeof(t->buf));
        t->len = sizeof(t->buf);
        return;
    }
    if (t->len + n > sizeof(t->buf)) {
        size_t drop = t->len + n - sizeof(t->buf);
        memmove(t->buf, t->buf + drop, t->len - drop);
        t->len -= drop;
    }
    memcpy(t->buf + t->len, data, n);
    t->len += n;
}

/* The tail as a C string without trailing whitespace. */
static const char *tail_text(struct tail *t, char *out, size_t out_size)
{
    size_t n = t->len < out_size - 1 ? t->len : out_size - 1;
    memcpy(out, t->buf + t->len - n, n);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' ' ||
                     out[n - 1] == '\t'))
        n--;
    out[n] = '\0';
    return out;
}

/* ---- the child side ---- */

static void child_reset_signals(void)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* handlers are reset by exec anyway; ignored signals would survive it */
    struct sigaction dfl = { .sa_handler = SIG_DFL };
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            sigaction(sig, &dfl, NULL);
}

static void child_fail(int errpipe, int e)
{
    ssize_t w = write(errpipe, &e, sizeof(e));
    (void)w;
    _exit(127);
}

struct child_fds {
    int in, out, err, errpipe, exec; /* exec < 0: exec by path */
};

/* Moves every fd the child needs above the ones it is going to occupy, so
 * that no dup2 below overwrites another (the caller's stdio may be closed
 * and a pipe may sit on 0, 1 or 2). */
static int lift(int fd)
{
    return fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, CHILD_EXEC_FD + 1);
}

static __attribute__((noreturn)) void child_exec(const struct child_fds *p, const char *path,
                                                  char *const *argv, char *const *envp)
{
    int errpipe = lift(p->errpipe);
    if (errpipe < 0)
        _exit(127);
    int in = lift(p->in), out = lift(p->out), err = lift(p->err), exec = lift(p->exec);
    if (in < 0 || out < 0 || err < 0 || (p->exec >= 0 && exec < 0))
        child_fail(errpipe, errno);

    child_reset_signals();
    /* Its own process group, so that a timeout can kill whatever the hook
     * spawned along with it (the parent sets it too, against the race). */
    if (setpgid(0, 0) < 0)
        child_fail(errpipe, errno);
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 ||
        dup3(errpipe, CHILD_ERRPIPE_FD, O_CLOEXEC) < 0)
        child_fail(errpipe, errno);
    errpipe = CHILD_ERRPIPE_FD;
    /* a "#!" script run through its fd is opened again by the interpreter
     * as /dev/fd/N, so this one copy must survive the exec */
    if (exec >= 0 && dup2(exec, CHILD_EXEC_FD) < 0)
        child_fail(errpipe, errno);
    if (husk_fds_close_except(exec >= 0 ? CHILD_EXEC_FD : CHILD_ERRPIPE_FD, NULL) < 0)
        child_fail(errpipe, errno);

    if (exec >= 0)
        execveat(CHILD_EXEC_FD, "", argv, envp, AT_EMPTY_PATH);
    else
        execve(path, argv, envp);
    child_fail(errpipe, errno);
    _exit(127); /* not reached */
}

/* ---- the parent side ---- */

struct hook_proc {
    pid_t pid;
    int pidfd;
    int in, out, err, errpipe; /* parent's ends; -1 once closed */
    const char *input;
    size_t input_len, written;
    bool got_epipe;
    struct tail out_tail, err_tail;
};

static void hook_proc_close(struct hook_proc *h)
{
    husk_close_fd(&h->pidfd);
    husk_close_fd(&h->in);
    husk_close_fd(&h->out);
    husk_close_fd(&h->err);
    husk_close_fd(&h->errpipe);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
    if (!husk_hooks_force_no_pidfd)
        return (int)syscall(SYS_pidfd_open, pid, 0);
#endif
    (void)pid;
    errno = ENOSYS;
    return -1;
}

static void feed_stdin(struct hook_proc *h)
{
    while (h->written < h->input_len) {
        ssize_t w = write(h->in, h->input + h->written, h->input_len - h->written);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return;
            /* EPIPE: the hook does not read its stdin, which is allowed */
            h->got_epipe = h->got_epipe || errno == EPIPE;
            break;
        }
        h->written += (size_t)w;
    }
    husk_close_fd(&h->in); /* all written (or refused): the hook sees EOF */
}

/* Reads what is there; closes the fd at EOF or on error. */
static void drain_output(int *fd, struct tail *t)
{
    char buf[4096];
    for (;;) {
        ssize_t n = read(*fd, buf, sizeof(buf));
        if (n > 0) {
            tail_append(t, buf, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        husk_close_fd(fd);
        return;
    }
}

static bool hook_exited(struct hook_proc *h, int *status)
{
    if (h->pidfd >= 0)
        return false; /* the poll loop learns it from the pidfd */
    return waitpid(h->pid, status, WNOHANG) == h->pid;
}

enum wait_result { HOOK_EXITED, HOOK_TIMED_OUT, HOOK_WAIT_FAILED };

/* Feeds stdin, collects output and waits for the exit, all in one poll loop
 * so that a hook that writes a lot before reading, or reads nothing, never
 * deadlocks against us. *status is valid when the result is HOOK_EXITED and
 * *reaped is set. */
static enum wait_result hook_wait(struct hook_proc *h, int64_t timeout_s, int *status,
                                  bool *reaped)
{
    int64_t deadline = timeout_s > 0 ? now_ms() + timeout_s * 1000 : -1;
    *reaped = false;
    if (h->input_len == 0)
        husk_close_fd(&h->in);

    for (;;) {
        if (hook_exited(h, status)) {
            *reaped = true;
            break;
        }
        struct pollfd p[4] = {
            { .fd = h->in, .events = POLLOUT },
            { .fd = h->out, .events = POLLIN },
            { .fd = h->err, .events = POLLIN },
            { .fd = h->pidfd, .events = POLLIN },
        };
        int wait_ms = -1;
        if (deadline >= 0) {
            int64_t left = deadline - now_ms();
            if (left <= 0)
                return HOOK_TIMED_OUT;
            wait_ms = left > INT32_MAX ? INT32_MAX : (int)left;
        }
        if (h->pidfd < 0 && (wait_ms < 0 || wait_ms > NO_PIDFD_TICK_MS))
            wait_ms = NO_PIDFD_TICK_MS;

        int r = poll(p, 4, wait_ms);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return HOOK_WAIT_FAILED;
        }
        if (p[0].revents & (POLLOUT | POLLERR | POLLHUP))
            feed_stdin(h);
        if (p[1].revents)
            drain_output(&h->out, &h->out_tail);
        if (p[2].revents)
            drain_output(&h->err, &h->err_tail);
        if (p[3].revents)
            break;
    }
    /* what the hook wrote just before exiting; a background child of the
     * hook that keeps the pipes open must not make us wait for it */
    if (h->out >= 0)
        drain_output(&h->out, &h->out_tail);
    if (h->err >= 0)
        drain_output(&h->err, &h->err_tail);
    return HOOK_EXITED;
}

static int reap(pid_t pid, int *status)
{
    pid_t r;
    do
        r = waitpid(pid, status, 0);
    while (r < 0 && errno == EINTR);
    return r == pid ? 0 : -1;
}

/* A hook that timed out (or could not be waited for) is killed together
 * with everything it spawned: the whole process group it leads. The leader
 * is our unreaped child, so neither its pid nor its group id can have been
 * reused by anyone else. Descendants that moved to a group of their own
 * are out of reach, as they would be for any supervisor. */
static void kill_hook_group(pid_t pid)
{
    if (kill(-pid, SIGKILL) < 0)
        kill(pid, SIGKILL); /* no group: only the leader is left to kill */
}

/* After the leader is reaped, its killed descendants (now orphans) are
 * reaped by init: wait a little for that, so that the caller's failure is
 * reported with nothing of the hook left running. The group id stays
 * pinned while any member exists, so probing it cannot reach a stranger. */
static void wait_hook_group_gone(pid_t pid)
{
    for (int i = 0; i < 200 && kill(-pid, 0) == 0; i++) {
        struct timespec ts = { 0, 5 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
}

/* ---- one hook ---- */

struct hook_desc {
    const char *stage;
    size_t index;
    const char *path;
};

static int hook_error(husk_error_t *err, const struct hook_desc *d, int errno_value,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int hook_error(husk_error_t *err, const struct hook_desc *d, int errno_value,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    husk_error_setv(err, errno_value, fmt, ap);
    va_end(ap);
    return husk_error_wrap(err, "%s hook #%zu (%s)", d->stage, d->index,
                           d->path != NULL ? d->path : "(no path)");
}

/* Why the hook failed, from its wait status, with the output tail. */
static int report_status(const struct hook_desc *d, struct hook_proc *h, int status,
                         husk_error_t *err)
{
    char text[HUSK_HOOK_OUTPUT_TAIL + 1];
    const char *output = tail_text(&h->err_tail, text, sizeof(text));
    if (*output == '\0')
        output = tail_text(&h->out_tail, text, sizeof(text));
    const char *sep = *output != '\0' ? ": " : "";

    if (WIFEXITED(status))
        return hook_error(err, d, 0, "exited with status %d%s%s", WEXITSTATUS(status), sep,
                          output);
    if (WIFSIGNALED(status))
        return hook_error(err, d, 0, "killed by signal %d (%s)%s%s", WTERMSIG(status),
                          strsignal(WTERMSIG(status)), sep, output);
    return hook_error(err, d, 0, "ended with wait status 0x%x", (unsigned)status);
}

static int exec_errno(struct hook_proc *h)
{
    int e = 0;
    ssize_t n;
    do
        n = read(h->errpipe, &e, sizeof(e));
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof(e) ? e : 0;
}

static int make_pipe(int fds[2], int parent_end, husk_error_t *err, const char *what)
{
    if (pipe2(fds, O_CLOEXEC) < 0)
        return husk_error_set(err, errno, "%s pipe", what);
    if (parent_end >= 0 && fcntl(fds[parent_end], F_SETFL, O_NONBLOCK) < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        return husk_error_set(err, e, "%s pipe", what);
    }
    return 0;
}

static void close_pair(int fds[2])
{
    husk_close_fd(&fds[0]);
    husk_close_fd(&fds[1]);
}

struct hook_pipes {
    int in[2], out[2], err[2], errpipe[2];
};

static void hook_pipes_close(struct hook_pipes *p)
{
    close_pair(p->in);
    close_pair(p->out);
    close_pair(p->err);
    close_pair(p->errpipe);
}

static int hook_pipes_open(struct hook_pipes *p, husk_error_t *err)
{
    if (make_pipe(p->in, 1, err, "stdin") < 0 || make_pipe(p->out, 0, err, "stdout") < 0 ||
        make_pipe(p->err, 0, err, "stderr") < 0 || make_pipe(p->errpipe, 0, err, "exec status") < 0)
        return -1;
    return 0;
}

/* Blocks SIGPIPE while we write to a hook, and afterwards consumes the one
 * our own write raised, so the caller's disposition and pending set are
 * exactly as before. */
struct sigpipe_guard {
    sigset_t old_mask;
    bool was_pending;
};

static void sigpipe_block(struct sigpipe_guard *g)
{
    sigset_t pipe_set, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigpending(&pending);
    g->was_pending = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_set, &g->old_mask);
}

static void sigpipe_restore(struct sigpipe_guard *g, bool raised)
{
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    if (raised && !g->was_pending) {
        struct timespec zero = { 0, 0 };
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &g->old_mask, NULL);
}

static int run_one(const struct hook_desc *d, const ocispec_hook *hook, int exec_fd,
                   const char *state_json, husk_error_t *err)
{
    if (hook->path == NULL || hook->path[0] != '/')
        return hook_error(err, d, 0, "path must be absolute");
    if (hook->has_timeout && hook->timeout <= 0)
        return hook_error(err, d, 0, "timeout must be greater than zero, got %lld",
                          (long long)hook->timeout);

    char *default_argv[] = { hook->path, NULL };
    char *empty_env[] = { NULL };
    char *const *argv = hook->args != NULL && hook->args_len > 0 ? hook->args : default_argv;
    char *const *envp = hook->env != NULL ? hook->env : empty_env;

    struct hook_pipes pipes = { { -1, -1 }, { -1, -1 }, { -1, -1 }, { -1, -1 } };
    if (hook_pipes_open(&pipes, err) < 0) {
        hook_pipes_close(&pipes);
        return husk_error_wrap(err, "%s hook #%zu (%s)", d->stage, d->index, hook->path);
    }

    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        hook_pipes_close(&pipes);
        return hook_error(err, d, e, "fork");
    }
    if (pid == 0) {
        struct child_fds c = { pipes.in[0], pipes.out[1], pipes.err[1], pipes.errpipe[1],
                               exec_fd };
        child_exec(&c, hook->path, argv, envp);
    }
    /* EACCES: the child already exec'd (it set its group itself); ESRCH: it
     * already died. Either way the group is settled. */
    (void)setpgid(pid, pid);

    struct hook_proc h = {
        .pid = pid,
        .pidfd = open_pidfd(pid),
        .in = steal_fd(&pipes.in[1]),
        .out = steal_fd(&pipes.out[0]),
        .err = steal_fd(&pipes.err[0]),
        .errpipe = steal_fd(&pipes.errpipe[0]),
        .input = state_json != NULL ? state_json : "",
        .input_len = state_json != NULL ? strlen(state_json) : 0,
    };
    hook_pipes_close(&pipes); /* the child's ends */

    struct sigpipe_guard guard;
    sigpipe_block(&guard);
    int status = 0;
    bool reaped;
    enum wait_result w = hook_wait(&h, hook->has_timeout ? hook->timeout : 0, &status, &reaped);
    int wait_errno = errno;
    sigpipe_restore(&guard, h.got_epipe);

    if (w != HOOK_EXITED)
        kill_hook_group(pid);
    if (!reaped && reap(pid, &status) < 0) {
        int e = errno;
        hook_proc_close(&h);
        return hook_error(err, d, e, "wait for the hook");
    }

    if (w != HOOK_EXITED)
        wait_hook_group_gone(pid);

    int ret = 0;
    int exec_error = exec_errno(&h);
    if (w == HOOK_TIMED_OUT)
        ret = hook_error(err, d, 0, "timed out after %lld s", (long long)hook->timeout);
    else if (w == HOOK_WAIT_FAILED)
        ret = hook_error(err, d, wait_errno, "wait for the hook");
    else if (exec_error != 0)
        ret = hook_error(err, d, exec_error, "exec failed");
    else if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        ret = report_status(d, &h, status, err);
    hook_proc_close(&h);
    return ret;
}

int husk_hooks_run(const char *stage, const ocispec_hook *hooks, size_t n, const int *fds,
                   const char *state_json, husk_error_t *err)
{
    for (size_t i = 0; i < n; i++) {
        struct hook_desc d = { stage, i, hooks[i].path };
        int r = run_one(&d, &hooks[i], fds != NULL ? fds[i] : -1, state_json, err);
        if (r < 0)
            return r;
    }
    return 0;
}

int husk_hooks_open(const ocispec_hook *hooks, size_t n, int **fds_out, husk_error_t *err)
{
    *fds_out = NULL;
    if (n == 0)
        return 0;
    int *fds = malloc(n * sizeof(*fds));
    if (fds == NULL)
        return husk_error_set(err, ENOMEM, "open hooks");
    for (size_t i = 0; i < n; i++)
        fds[i] = -1;
    for (size_t i = 0; i < n; i++) {
        const char *path = hooks[i].path;
        if (path == NULL || path[0] != '/') {
            husk_hooks_close(fds, n);
            return husk_error_set(err, 0, "open hook \"%s\": path must be absolute",
                                  path != NULL ? path : "");
        }
        fds[i] = open(path, O_PATH | O_CLOEXEC);
        if (fds[i] < 0) {
            int e = errno;
            husk_hooks_close(fds, n);
            return husk_error_set(err, e, "open hook \"%s\"", path);
        }
    }
    *fds_out = fds;
    return 0;
}

void husk_hooks_close(int *fds, size_t n)
{
    if (fds == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        husk_close_fd(&fds[i]);
    free(fds);
}
