#define _GNU_SOURCE
#include "utils.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void husk_free_ptr(void *pp)
{
    free(*(void **)pp);
}

void husk_close_fd(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
        *fd = -1;
    }
}

void husk_fclose_ptr(FILE **f)
{
    if (*f != NULL)
        fclose(*f);
}

void husk_closedir_ptr(DIR **d)
{
    if (*d != NULL)
        closedir(*d);
}

void husk_free_strv(char ***strv)
{
    if (*strv == NULL)
        return;
    for (char **s = *strv; *s != NULL; s++)
        free(*s);
    free(*strv);
}

int husk_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int husk_read_file_at(int dirfd, const char *path, char **out, size_t *len, husk_error_t *err)
{
    cleanup_close int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return husk_error_set(err, errno, "open `%s`", path);

    size_t cap = 4096, used = 0;
    cleanup_free char *buf = malloc(cap);
    if (buf == NULL)
        return husk_error_set(err, ENOMEM, "read `%s`", path);
    for (;;) {
        if (used + 1 >= cap) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL)
                return husk_error_set(err, ENOMEM, "read `%s`", path);
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + used, cap - used - 1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return husk_error_set(err, errno, "read `%s`", path);
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    buf[used] = '\0';
    if (len != NULL)
        *len = used;
    *out = steal_pointer(&buf);
    return 0;
}

int husk_read_file(const char *path, char **out, size_t *len, husk_error_t *err)
{
    return husk_read_file_at(AT_FDCWD, path, out, len, err);
}

int husk_write_file_atomic_at(int dirfd, const char *name, const void *buf, size_t len,
                              mode_t mode, husk_error_t *err)
{
    cleanup_free char *tmp = NULL;
    if (asprintf(&tmp, ".%s.tmp", name) < 0)
        return husk_error_set(err, ENOMEM, "write `%s`", name);

    cleanup_close int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return husk_error_set(err, errno, "create `%s`", tmp);
    if (husk_write_all(fd, buf, len) < 0) {
        int saved = errno;
        unlinkat(dirfd, tmp, 0);
        return husk_error_set(err, saved, "write `%s`", tmp);
    }
    if (renameat(dirfd, tmp, dirfd, name) < 0) {
        int saved = errno;
        unlinkat(dirfd, tmp, 0);
        return husk_error_set(err, saved, "rename `%s` to `%s`", tmp, name);
    }
    return 0;
}

int husk_mkdir_p(const char *path, mode_t mode, husk_error_t *err)
{
    cleanup_free char *copy = strdup(path);
    if (copy == NULL)
        return husk_error_set(err, ENOMEM, "mkdir `%s`", path);
    for (char *p = copy + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, mode) < 0 && errno != EEXIST)
            return husk_error_set(err, errno, "mkdir `%s`", copy);
        *p = '/';
    }
    if (mkdir(copy, mode) < 0 && errno != EEXIST)
        return husk_error_set(err, errno, "mkdir `%s`", copy);
    return 0;
}

int husk_write_pid_file(const char *path, pid_t pid, husk_error_t *err)
{
    cleanup_free char *copy = strdup(path);
    if (copy == NULL)
        return husk_error_set(err, ENOMEM, "--pid-file");
    char *slash = strrchr(copy, '/');
    const char *dir = ".", *base = copy;
    if (slash != NULL) {
        *slash = '\0';
        dir = copy[0] ? copy : "/";
        base = slash + 1;
    }
    cleanup_close int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return husk_error_set(err, errno, "--pid-file: open directory `%s`", dir);
    char buf[32];
    int len = snprintf(buf, sizeof(buf), "%d", (int) pid);
    if (husk_write_file_atomic_at(dfd, base, buf, (size_t) len, 0644, err) < 0)
        return husk_error_wrap(err, "--pid-file `%s`", path);
    return 0;
}
