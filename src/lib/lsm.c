#include "lsm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "log.h"
#include "sysctl.h"
#include "utils.h"

#define SELINUX_MAGIC_VALUE 0xf97cff8c
#define APPARMOR_FIELD "process.apparmorProfile"
#define SELINUX_FIELD "process.selinuxLabel"

/* ---------- is the LSM on ---------- */

bool husk_lsm_apparmor_enabled_at(const char *param_path)
{
    cleanup_free char *text = NULL;
    if (husk_read_file(param_path, &text, NULL, NULL) < 0)
        return false;
    return text[0] == 'Y';
}

bool husk_lsm_selinux_enabled_at(const char *mountpoint)
{
    struct statfs sfs;
    return statfs(mountpoint, &sfs) == 0 && (unsigned long) sfs.f_type == SELINUX_MAGIC_VALUE;
}

/* 0: not asked yet, 1: off, 2: on. A host does not change its LSMs while
 * husk runs, and a rootfs setup asks once per mount. */
static int apparmor_state, selinux_state;

bool husk_lsm_apparmor_enabled(void)
{
    if (apparmor_state == 0)
        apparmor_state = husk_lsm_apparmor_enabled_at(HUSK_APPARMOR_ENABLED_PATH) ? 2 : 1;
    return apparmor_state == 2;
}

bool husk_lsm_selinux_enabled(void)
{
    if (selinux_state == 0)
        selinux_state = husk_lsm_selinux_enabled_at(HUSK_SELINUXFS_PATH) ? 2 : 1;
    return selinux_state == 2;
}

/* ---------- AppArmor policy ---------- */

bool husk_lsm_apparmor_profile_listed(const char *profiles, const char *name)
{
    size_t len = strlen(name);
    for (const char *line = profiles; line != NULL && *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t line_len = end ? (size_t) (end - line) : strlen(line);
        /* "name (mode)": the name may hold spaces, the mode never does. */
        if (line_len > len + 2 && memcmp(line, name, len) == 0 && line[len] == ' ' &&
            line[len + 1] == '(' && memchr(line + len + 2, ' ', line_len - len - 2) == NULL)
            return true;
        line = end ? end + 1 : NULL;
    }
    return false;
}

static bool is_unconfined(const char *profile)
{
    return strcmp(profile, "unconfined") == 0;
}

static bool set(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* The policy's list names profiles of husk's own policy namespace only:
 * a stack ("a//&b") or another namespace (":ns:p") is left to the kernel,
 * which refuses it at the write. An unreadable list (no securityfs, no
 * right to view policy) checks nothing either. */
static int check_profile_loaded(const char *profile, husk_error_t *err)
{
    if (strchr(profile, '&') != NULL || profile[0] == ':')
        return 0;
    cleanup_free char *profiles = NULL;
    if (husk_read_file(HUSK_APPARMOR_PROFILES_PATH, &profiles, NULL, NULL) < 0)
        return 0;
    if (!husk_lsm_apparmor_profile_listed(profiles, profile))
        return husk_error_plain(err, ENOENT,
                                APPARMOR_FIELD " `%s`: no such AppArmor profile is loaded "
                                "(see %s)", profile, HUSK_APPARMOR_PROFILES_PATH);
    return 0;
}

static int check_apparmor(const char *profile, bool *write, husk_error_t *err)
{
    *write = false;
    if (!set(profile))
        return 0;
    if (!husk_lsm_apparmor_enabled()) {
        if (is_unconfined(profile))
            return 0;
        return husk_error_plain(err, ENOTSUP,
                                APPARMOR_FIELD " `%s`: AppArmor is not enabled on this host "
                                "(%s is not Y); refusing to run the process unconfined",
                                profile, HUSK_APPARMOR_ENABLED_PATH);
    }
    if (!is_unconfined(profile) && check_profile_loaded(profile, err) < 0)
        return -1;
    *write = true;
    return 0;
}

static bool wants_selinux(const char *label)
{
    if (!set(label))
        return false;
    if (husk_lsm_selinux_enabled())
        return true;
    husk_log_debug(SELINUX_FIELD " `%s` ignored: SELinux is not enabled on this host", label);
    return false;
}

int husk_lsm_prepare(const ocispec_process *p, int *proc_fd, husk_error_t *err)
{
    *proc_fd = -1;
    if (p == NULL)
        return 0;
    bool apparmor;
    if (check_apparmor(p->apparmor_profile, &apparmor, err) < 0)
        return -1;
    if (!apparmor && !wants_selinux(p->selinux_label))
        return 0;
    int fd = husk_procfs_open(err);
    if (fd < 0)
        return husk_error_wrap(err, "%s", apparmor ? APPARMOR_FIELD : SELINUX_FIELD);
    *proc_fd = fd;
    return 0;
}

/* ---------- the write, just before execve ---------- */

/* "<tgid>/task/<tid>" of the caller as that procfs numbers it (its pid
 * namespace may not be the caller's). The attr files act on the writing
 * thread only, so the thread's own directory, not the process's. */
static int thread_dir(int proc_fd, char *buf, size_t size, husk_error_t *err)
{
    ssize_t n = readlinkat(proc_fd, "thread-self", buf, size - 1);
    if (n < 0)
        return husk_error_set(err, errno, "readlink `/proc/thread-self`");
    if ((size_t) n >= size - 1)
        return husk_error_set(err, ENAMETOOLONG, "readlink `/proc/thread-self`");
    buf[n] = '\0';
    unsigned long tgid, tid;
    int end = 0;
    if (sscanf(buf, "%lu/task/%lu%n", &tgid, &tid, &end) != 2 || buf[end] != '\0')
        return husk_error_set(err, EINVAL, "`/proc/thread-self` -> `%s`: not a thread", buf);
    return 0;
}

/* attr/apparmor/exec is AppArmor's own file (Linux 5.8); before it,
 * attr/exec, which then belongs to AppArmor as the only major LSM. */
static int apparmor_attr(int proc_fd, const char *dir, char *rel, size_t size)
{
    struct stat st;
    snprintf(rel, size, "%s/attr/apparmor", dir);
    bool own_dir = fstatat(proc_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    return snprintf(rel, size, "%s/attr/%sexec", dir, own_dir ? "apparmor/" : "");
}

static int write_apparmor(int proc_fd, const char *dir, const char *profile, husk_error_t *err)
{
    char rel[128];
    apparmor_attr(proc_fd, dir, rel, sizeof(rel));
    cleanup_free char *value = NULL;
    if (asprintf(&value, "exec %s", profile) < 0)
        return husk_error_set(err, ENOMEM, APPARMOR_FIELD);
    if (husk_procfs_write(proc_fd, rel, value, err) < 0) {
        if ((*err)->errno_value == ENOENT)
            return husk_error_wrap(err, APPARMOR_FIELD " `%s`: no such AppArmor profile",
                                   profile);
        return husk_error_wrap(err, APPARMOR_FIELD " `%s`", profile);
    }
    return 0;
}

static int write_selinux(int proc_fd, const char *dir, const char *label, husk_error_t *err)
{
    char rel[128];
    snprintf(rel, sizeof(rel), "%s/attr/exec", dir);
    if (husk_procfs_write(proc_fd, rel, label, err) < 0)
        return husk_error_wrap(err, SELINUX_FIELD " `%s`", label);
    return 0;
}

int husk_lsm_set_exec_labels(int *proc_fd, const ocispec_process *p, husk_error_t *err)
{
    if (*proc_fd < 0)
        return 0;
    cleanup_close int fd = steal_fd(proc_fd);
    char dir[64];
    if (thread_dir(fd, dir, sizeof(dir), err) < 0)
        return husk_error_wrap(err, "LSM labels");
    /* husk_lsm_prepare opened the procfs only for labels that apply. */
    if (set(p->apparmor_profile) && husk_lsm_apparmor_enabled() &&
        write_apparmor(fd, dir, p->apparmor_profile, err) < 0)
        return -1;
    if (set(p->selinux_label) && husk_lsm_selinux_enabled() &&
        write_selinux(fd, dir, p->selinux_label, err) < 0)
        return -1;
    return 0;
}

/* ---------- linux.mountLabel ---------- */

/* Filesystems labelled as a whole when mounted. proc, sysfs, cgroup and
 * the like carry labels of their own (genfs) and refuse a context; bind
 * mounts keep their source's. */
static const char *const context_types[] = {
    "tmpfs", "ramfs", "devpts", "mqueue", "shm", "hugetlbfs", "overlay",
};

bool husk_lsm_mount_takes_context(const char *type)
{
    if (type == NULL)
        return false;
    for (size_t i = 0; i < sizeof(context_types) / sizeof(context_types[0]); i++)
        if (strcmp(type, context_types[i]) == 0)
            return true;
    return false;
}

static bool sets_context(const char *data)
{
    static const char *const keys[] = { "context=", "fscontext=", "defcontext=", "rootcontext=" };
    for (const char *opt = data; opt != NULL && *opt != '\0';) {
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            if (strncmp(opt, keys[i], strlen(keys[i])) == 0)
                return true;
        /* Commas inside a quoted context do not start an option. */
        bool quoted = false;
        while (*opt != '\0' && (quoted || *opt != ',')) {
            if (*opt == '"')
                quoted = !quoted;
            opt++;
        }
        if (*opt == ',')
            opt++;
    }
    return false;
}

int husk_lsm_format_mount_data(const char *data, const char *label, char **out,
                               husk_error_t *err)
{
    *out = NULL;
    if (strchr(label, '"') != NULL)
        return husk_error_plain(err, EINVAL, "linux.mountLabel `%s`: holds a double quote",
                                label);
    int r;
    if (set(data) && sets_context(data))
        r = asprintf(out, "%s", data);
    else if (set(data))
        r = asprintf(out, "%s,context=\"%s\"", data, label);
    else
        r = asprintf(out, "context=\"%s\"", label);
    if (r < 0) {
        *out = NULL;
        return husk_error_set(err, ENOMEM, "linux.mountLabel");
    }
    return 0;
}

int husk_lsm_mount_data(const char *type, const char *data, const char *label, char **out,
                        husk_error_t *err)
{
    *out = NULL;
    if (!set(label) || !husk_lsm_mount_takes_context(type))
        return 0;
    if (!husk_lsm_selinux_enabled()) {
        husk_log_debug("linux.mountLabel `%s` ignored for a %s mount: SELinux is not enabled "
                       "on this host", label, type);
        return 0;
    }
    return husk_lsm_format_mount_data(data, label, out, err);
}
