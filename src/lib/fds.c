#define _GNU_SOURCE
#include "fds.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "utils.h"

int husk_fds_force_fallback;

/* The raw syscall, so that husk builds against libcs without the wrapper;
 * returns -1 with errno set, ENOSYS on kernels older than 5.9 (and EINVAL
 * for CLOSE_RANGE_CLOEXEC before 5.11). */
static int sys_close_range(unsigned int first, unsigned int last, unsigned int flags)
{
#ifdef SYS_close_range
    if (husk_fds_force_fallback) {
        errno = ENOSYS;
        return -1;
    }
    return (int)syscall(SYS_close_range, first, last, flags);
#else
    (void)first, (void)last, (void)flags;
    errno = ENOSYS;
    return -1;
#endif
}

static bool close_range_unsupported(int e)
{
    return e == ENOSYS || e == EINVAL;
}

/* Collects the open fds >= first from /proc/self/fd before acting on them,
 * so that closing does not disturb the directory walk (and the walk's own
 * fd is never in the list). */
static int list_open_fds_from(int first, int **out, size_t *n_out, husk_error_t *err)
{
    cleanup_dir DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL)
        return husk_error_set(err, errno, "list open fds: opendir \"/proc/self/fd\"");

    int self = dirfd(dir);
    cleanup_free int *fds = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(dir)) != NULL) {
        char *end;
        long v = strtol(de->d_name, &end, 10);
        if (*end != '\0' || end == de->d_name || v < first || v > INT_MAX || v == self)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            int *p = realloc(fds, ncap * sizeof(*fds));
            if (p == NULL)
                return husk_error_set(err, ENOMEM, "list open fds");
            fds = p;
            cap = ncap;
        }
        fds[n++] = (int)v;
        errno = 0;
    }
    if (errno != 0)
        return husk_error_set(err, errno, "list open fds: readdir \"/proc/self/fd\"");
    *out = steal_pointer(&fds);
    *n_out = n;
    return 0;
}

int husk_fds_close_except(int keep_up_to, husk_error_t *err)
{
    if (keep_up_to < -1)
        keep_up_to = -1;
    if (sys_close_range((unsigned int)keep_up_to + 1, ~0U, 0) == 0)
        return 0;
    if (!close_range_unsupported(errno))
        return husk_error_set(err, errno, "close fds above %d", keep_up_to);

    cleanup_free int *fds = NULL;
    size_t n = 0;
    if (list_open_fds_from(keep_up_to + 1, &fds, &n, err) < 0)
        return husk_error_wrap(err, "close fds above %d", keep_up_to);
    for (size_t i = 0; i < n; i++)
        close(fds[i]); /* EBADF/EINTR leave nothing to retry: the fd is gone */
    return 0;
}

int husk_fds_mark_cloexec_from(int first, husk_error_t *err)
{
    if (first < 0)
        first = 0;
    if (sys_close_range((unsigned int)first, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
        return 0;
    if (!close_range_unsupported(errno))
        return husk_error_set(err, errno, "mark fds from %d close-on-exec", first);

    cleanup_free int *fds = NULL;
    size_t n = 0;
    if (list_open_fds_from(first, &fds, &n, err) < 0)
        return husk_error_wrap(err, "mark fds from %d close-on-exec", first);
    for (size_t i = 0; i < n; i++) {
        int flags = fcntl(fds[i], F_GETFD);
        if (flags < 0) {
            if (errno == EBADF)
                continue;
            return husk_error_set(err, errno, "mark fd %d close-on-exec", fds[i]);
        }
        if (!(flags & FD_CLOEXEC) && fcntl(fds[i], F_SETFD, flags | FD_CLOEXEC) < 0)
            return husk_error_set(err, errno, "mark fd %d close-on-exec", fds[i]);
    }
    return 0;
}

int husk_fds_clear_cloexec_range(int first, int last, husk_error_t *err)
{
    for (int fd = first < 0 ? 0 : first; fd <= last; fd++) {
        int flags = fcntl(fd, F_GETFD);
        if (flags < 0) {
            if (errno == EBADF)
                continue;
            return husk_error_set(err, errno, "keep fd %d open across exec", fd);
        }
        if ((flags & FD_CLOEXEC) && fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) < 0)
            return husk_error_set(err, errno, "keep fd %d open across exec", fd);
    }
    return 0;
}

/* ---- LISTEN_FDS ---- */

static const char *env_lookup(char *const *env, const char *name)
{
    size_t len = strlen(name);
    for (; env != NULL && *env != NULL; env++)
        if (strncmp(*env, name, len) == 0 && (*env)[len] == '=')
            return *env + len + 1;
    return NULL;
}

/* The fds 3 .. 3+count-1 are what the caller promised; one that is not open
 * means LISTEN_FDS is stale (inherited by mistake), and passing a wrong
 * number on would make the container program misuse whatever fd lands
 * there. */
static int check_listen_fds_open(int count, const char *value, husk_error_t *err)
{
    for (int fd = 3; fd < 3 + count; fd++)
        if (fcntl(fd, F_GETFD) < 0)
            return husk_error_set(err, errno, "LISTEN_FDS=%s: fd %d", value, fd);
    return 0;
}

int husk_fds_listen_from_env(char *const *env, husk_listen_fds *out, husk_error_t *err)
{
    out->count = 0;
    out->fdnames = NULL;

    const char *value = env_lookup(env, "LISTEN_FDS");
    if (value == NULL || *value == '\0')
        return 0;

    char *end;
    errno = 0;
    long count = strtol(value, &end, 10);
    if (errno != 0 || *end != '\0' || count < 0 || count > INT_MAX - 3)
        return husk_error_set(err, 0, "LISTEN_FDS=%s: not a valid fd count", value);
    if (check_listen_fds_open((int)count, value, err) < 0)
        return -1;

    const char *names = env_lookup(env, "LISTEN_FDNAMES");
    if (names != NULL && count > 0) {
        out->fdnames = strdup(names);
        if (out->fdnames == NULL)
            return husk_error_set(err, ENOMEM, "LISTEN_FDNAMES");
    }
    out->count = (int)count;
    return 0;
}

void husk_listen_fds_free(husk_listen_fds *lf)
{
    if (lf == NULL)
        return;
    free(lf->fdnames);
    lf->fdnames = NULL;
    lf->count = 0;
}

static bool is_listen_var(const char *entry)
{
    static const char *const names[] = { "LISTEN_FDS=", "LISTEN_PID=", "LISTEN_FDNAMES=" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strncmp(entry, names[i], strlen(names[i])) == 0)
            return true;
    return false;
}

int husk_fds_listen_env(const husk_listen_fds *lf, char *const *process_env, pid_t pid,
                        char ***env_out, husk_error_t *err)
{
    bool pass = lf != NULL && lf->count > 0;
    size_t n = 0;
    while (process_env != NULL && process_env[n] != NULL)
        n++;

    cleanup_strv char **env = calloc(n + 4, sizeof(*env));
    if (env == NULL)
        return husk_error_set(err, ENOMEM, "build the process environment");

    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (pass && is_listen_var(process_env[i]))
            continue;
        if ((env[j++] = strdup(process_env[i])) == NULL)
            return husk_error_set(err, ENOMEM, "build the process environment");
    }
    if (pass) {
        if (asprintf(&env[j++], "LISTEN_FDS=%d", lf->count) < 0 ||
            asprintf(&env[j++], "LISTEN_PID=%d", (int)pid) < 0 ||
            (lf->fdnames != NULL &&
             asprintf(&env[j++], "LISTEN_FDNAMES=%s", lf->fdnames) < 0)) {
            env[j - 1] = NULL; /* asprintf leaves it undefined on failure */
            return husk_error_set(err, ENOMEM, "build the process environment");
        }
    }
    *env_out = steal_pointer(&env);
    return 0;
}
