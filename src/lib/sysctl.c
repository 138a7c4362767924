#include "sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "namespaces.h"
#include "syscalls.h"
#include "utils.h"

#define PROC_SUPER_MAGIC_VALUE 0x9fa0
#define PROC_ROOT_INODE 1

/* ---------- which namespace a key belongs to ---------- */

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int husk_sysctl_namespace(const char *key)
{
    cleanup_free char *dotted = strdup(key);
    if (dotted == NULL)
        return 0;
    for (char *p = dotted; *p; p++)
        if (*p == '/')
            *p = '.';
    if (starts_with(dotted, "net."))
        return CLONE_NEWNET;
    if (strcmp(dotted, "kernel.hostname") == 0 || strcmp(dotted, "kernel.domainname") == 0)
        return CLONE_NEWUTS;
    if (starts_with(dotted, "kernel.msg") || starts_with(dotted, "kernel.sem") ||
        starts_with(dotted, "kernel.shm") || starts_with(dotted, "fs.mqueue."))
        return CLONE_NEWIPC;
    return 0;
}

static const char *ns_type_name(int flag)
{
    switch (flag) {
    case CLONE_NEWNET:
        return "network";
    case CLONE_NEWUTS:
        return "uts";
    default:
        return "ipc";
    }
}

static const char *ns_proc_name(int flag)
{
    return flag == CLONE_NEWNET ? "net" : ns_type_name(flag);
}

int husk_sysctl_key_to_path(const char *key, char **path, husk_error_t *err)
{
    if (key == NULL || key[0] == '\0')
        return husk_error_set(err, 0, "linux.sysctl: empty key");
    char sep = strchr(key, '/') != NULL ? '/' : '.';
    cleanup_free char *out = strdup(key);
    if (out == NULL)
        return husk_error_set(err, ENOMEM, "linux.sysctl");
    /* Check each component, turning the separator into '/'. */
    char *start = out;
    for (char *p = out;; p++) {
        if (*p != sep && *p != '\0')
            continue;
        size_t len = (size_t) (p - start);
        if (len == 0 || (len == 1 && start[0] == '.') ||
            (len == 2 && start[0] == '.' && start[1] == '.'))
            return husk_error_set(err, 0, "linux.sysctl: `%s` is not a valid sysctl name", key);
        if (*p == '\0')
            break;
        *p = '/';
        start = p + 1;
    }
    *path = steal_pointer(&out);
    return 0;
}

/* The namespace entry of that type in linux.namespaces, or NULL. */
static const ocispec_namespace *find_namespace(const ocispec_linux *lx, int flag)
{
    for (size_t i = 0; lx != NULL && i < lx->namespaces_len; i++)
        if (husk_ns_flag(lx->namespaces[i].type) == flag)
            return &lx->namespaces[i];
    return NULL;
}

static bool is_hosts_namespace(const char *path, int flag)
{
    char own[64];
    snprintf(own, sizeof(own), "/proc/self/ns/%s", ns_proc_name(flag));
    struct stat a, b;
    return stat(path, &a) == 0 && stat(own, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

int husk_sysctl_validate(const ocispec_config *c, husk_error_t *err)
{
    const ocispec_linux *lx = c->linux;
    if (lx == NULL || lx->sysctl == NULL)
        return 0;
    const ocispec_string_map *m = lx->sysctl;
    for (size_t i = 0; i < m->len; i++) {
        const char *key = m->keys[i];
        cleanup_free char *path = NULL;
        if (husk_sysctl_key_to_path(key, &path, err) < 0)
            return -1;
        if (m->values[i] == NULL)
            return husk_error_set(err, 0, "linux.sysctl: `%s` has no value", key);
        int flag = husk_sysctl_namespace(key);
        if (flag == 0)
            return husk_error_set(err, 0,
                                  "linux.sysctl: `%s` is not namespaced: setting it would change "
                                  "the host",
                                  key);
        const ocispec_namespace *ns = find_namespace(lx, flag);
        if (ns == NULL)
            return husk_error_set(err, 0,
                                  "linux.sysctl: `%s` needs a new %s namespace in linux.namespaces",
                                  key, ns_type_name(flag));
        if (ns->path != NULL && ns->path[0] != '\0' && is_hosts_namespace(ns->path, flag))
            return husk_error_set(err, 0,
                                  "linux.sysctl: `%s`: the %s namespace `%s` is the host's own", key,
                                  ns_type_name(flag), ns->path);
    }
    return 0;
}

/* ---------- the trusted procfs ---------- */

/* A detached procfs of our own: nothing in any mount tree can cover it. */
static int open_fresh_procfs(void)
{
    cleanup_close int fs = fsopen("proc", FSOPEN_CLOEXEC);
    if (fs < 0)
        return -1;
    if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        return -1;
    return fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
}

int husk_procfs_open_mounted(husk_error_t *err)
{
    cleanup_close int fd = open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return husk_error_set(err, errno, "open `/proc`");
    /* Any procfs instance will do (sysctls follow the writer's namespaces),
     * but it must be one, and its root, not something mounted on /proc or
     * a directory inside it. */
    struct statfs sfs;
    struct stat st;
    if (fstatfs(fd, &sfs) < 0 || fstat(fd, &st) < 0)
        return husk_error_set(err, errno, "stat `/proc`");
    if (sfs.f_type != PROC_SUPER_MAGIC_VALUE || st.st_ino != PROC_ROOT_INODE)
        return husk_error_set(err, EXDEV, "`/proc` is not the root of a procfs");
    return steal_fd(&fd);
}

int husk_procfs_open(husk_error_t *err)
{
    int fd = open_fresh_procfs();
    if (fd >= 0)
        return fd;
    /* fsopen is refused in a user namespace whose mount namespace shows no
     * full procfs, and by kernels before 5.2. */
    return husk_procfs_open_mounted(err);
}

int husk_procfs_force_fallback;

/* Without openat2 (before Linux 5.6, or under valgrind): one component at
 * a time, following no symlink (magic links are symlinks too), refusing
 * "." and "..", and staying on the procfs device. */
static int open_beneath_walk(int proc_fd, const char *rel, husk_error_t *err)
{
    struct stat root_st;
    if (fstat(proc_fd, &root_st) < 0)
        return husk_error_set(err, errno, "stat the procfs root");
    cleanup_free char *copy = strdup(rel);
    if (copy == NULL)
        return husk_error_set(err, ENOMEM, "open `/proc/%s`", rel);
    cleanup_close int cur = -1;
    char *save = NULL;
    char *comp = strtok_r(copy, "/", &save);
    if (comp == NULL)
        return husk_error_set(err, EINVAL, "open `/proc/%s`", rel);
    while (comp != NULL) {
        char *next = strtok_r(NULL, "/", &save);
        if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0)
            return husk_error_set(err, EXDEV, "open `/proc/%s`", rel);
        int flags = next != NULL ? O_PATH | O_NOFOLLOW | O_CLOEXEC
                                 : O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC;
        int fd = openat(cur >= 0 ? cur : proc_fd, comp, flags);
        if (fd < 0)
            return husk_error_set(err, errno, "open `/proc/%s`", rel);
        if (cur >= 0)
            close(cur);
        cur = fd;
        struct stat st;
        if (fstat(cur, &st) < 0)
            return husk_error_set(err, errno, "open `/proc/%s`", rel);
        if (S_ISLNK(st.st_mode))
            return husk_error_set(err, ELOOP, "open `/proc/%s`", rel);
        if (next != NULL && !S_ISDIR(st.st_mode))
            return husk_error_set(err, ENOTDIR, "open `/proc/%s`", rel);
        if (st.st_dev != root_st.st_dev)
            return husk_error_set(err, EXDEV, "open `/proc/%s`", rel);
        comp = next;
    }
    return steal_fd(&cur);
}

static int open_beneath(int proc_fd, const char *rel, husk_error_t *err)
{
    if (!husk_procfs_force_fallback) {
        struct open_how how = {
            .flags = O_WRONLY | O_NOCTTY | O_CLOEXEC,
            .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
                       RESOLVE_NO_XDEV,
        };
        int fd = husk_openat2(proc_fd, rel, &how, sizeof(how));
        if (fd >= 0)
            return fd;
        if (errno != ENOSYS)
            return husk_error_set(err, errno, "open `/proc/%s`", rel);
    }
    return open_beneath_walk(proc_fd, rel, err);
}

int husk_procfs_write(int proc_fd, const char *rel, const char *value, husk_error_t *err)
{
    cleanup_close int fd = open_beneath(proc_fd, rel, err);
    if (fd < 0)
        return -1;
    /* A proc file takes the whole value in one write; a short one is an
     * error, not a reason to write the rest as a second value. */
    size_t len = strlen(value);
    ssize_t n;
    while ((n = write(fd, value, len)) < 0 && errno == EINTR)
        ;
    if (n < 0)
        return husk_error_set(err, errno, "write `%s` to `/proc/%s`", value, rel);
    if ((size_t) n != len)
        return husk_error_set(err, EIO, "write `%s` to `/proc/%s`: short write", value, rel);
    return 0;
}

int husk_sysctl_apply(const ocispec_config *c, husk_error_t *err)
{
    const ocispec_linux *lx = c->linux;
    if (lx == NULL || lx->sysctl == NULL || lx->sysctl->len == 0)
        return 0;
    cleanup_close int proc = husk_procfs_open(err);
    if (proc < 0)
        return husk_error_wrap(err, "linux.sysctl");
    const ocispec_string_map *m = lx->sysctl;
    for (size_t i = 0; i < m->len; i++) {
        cleanup_free char *path = NULL;
        cleanup_free char *rel = NULL;
        if (husk_sysctl_key_to_path(m->keys[i], &path, err) < 0)
            return -1;
        if (asprintf(&rel, "sys/%s", path) < 0)
            return husk_error_set(err, ENOMEM, "linux.sysctl");
        if (husk_procfs_write(proc, rel, m->values[i], err) < 0)
            return husk_error_wrap(err, "linux.sysctl: `%s`", m->keys[i]);
    }
    return 0;
}
