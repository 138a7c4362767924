#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/magic.h>

#include "lsm.h"
#include "idmap_mount.h"
#include "syscalls.h"
#include "utils.h"

/* ---------- mount options: one table ---------- */

enum option_kind { OPT_SET, OPT_CLEAR, OPT_PROPAGATION, OPT_ATIME };

/* The atime mode is one setting: each atime option replaces the whole of
 * it, so the later option wins (without one the kernel picks relatime). */
#define MS_ATIME_MODE (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)

static const struct {
    const char *name;
    enum option_kind kind;
    unsigned long flag;
} mount_options[] = {
    { "defaults", OPT_SET, 0 },
    { "ro", OPT_SET, MS_RDONLY },            { "rw", OPT_CLEAR, MS_RDONLY },
    { "nosuid", OPT_SET, MS_NOSUID },        { "suid", OPT_CLEAR, MS_NOSUID },
    { "nodev", OPT_SET, MS_NODEV },          { "dev", OPT_CLEAR, MS_NODEV },
    { "noexec", OPT_SET, MS_NOEXEC },        { "exec", OPT_CLEAR, MS_NOEXEC },
    { "sync", OPT_SET, MS_SYNCHRONOUS },     { "async", OPT_CLEAR, MS_SYNCHRONOUS },
    { "dirsync", OPT_SET, MS_DIRSYNC },
    { "remount", OPT_SET, MS_REMOUNT },
    { "mand", OPT_SET, MS_MANDLOCK },        { "nomand", OPT_CLEAR, MS_MANDLOCK },
    { "nodiratime", OPT_SET, MS_NODIRATIME },{ "diratime", OPT_CLEAR, MS_NODIRATIME },
    /* norelatime as rnorelatime below: strictatime. atime, nostrictatime:
     * back to the kernel's default. */
    { "noatime", OPT_ATIME, MS_NOATIME },    { "atime", OPT_ATIME, 0 },
    { "relatime", OPT_ATIME, MS_RELATIME },  { "norelatime", OPT_ATIME, MS_STRICTATIME },
    { "strictatime", OPT_ATIME, MS_STRICTATIME }, { "nostrictatime", OPT_ATIME, 0 },
    { "lazytime", OPT_SET, MS_LAZYTIME },    { "nolazytime", OPT_CLEAR, MS_LAZYTIME },
    { "iversion", OPT_SET, MS_I_VERSION },   { "noiversion", OPT_CLEAR, MS_I_VERSION },
    { "silent", OPT_SET, MS_SILENT },        { "loud", OPT_CLEAR, MS_SILENT },
    { "bind", OPT_SET, MS_BIND },            { "rbind", OPT_SET, MS_BIND | MS_REC },
    { "private", OPT_PROPAGATION, MS_PRIVATE },
    { "rprivate", OPT_PROPAGATION, MS_PRIVATE | MS_REC },
    { "shared", OPT_PROPAGATION, MS_SHARED },
    { "rshared", OPT_PROPAGATION, MS_SHARED | MS_REC },
    { "slave", OPT_PROPAGATION, MS_SLAVE },
    { "rslave", OPT_PROPAGATION, MS_SLAVE | MS_REC },
    { "unbindable", OPT_PROPAGATION, MS_UNBINDABLE },
    { "runbindable", OPT_PROPAGATION, MS_UNBINDABLE | MS_REC },
    { "nosymfollow", OPT_SET, MS_NOSYMFOLLOW }, { "symfollow", OPT_CLEAR, MS_NOSYMFOLLOW },
    /* runtime-spec: handled by the runtime, never passed to the kernel. */
    { "tmpcopyup", OPT_SET, 0 },
    { "idmap", OPT_SET, 0 },                 { "ridmap", OPT_SET, 0 }, /* idmap_mount.c */
};

/* The recursive attributes (runtime-spec 1.1+): applied with
 * mount_setattr(AT_RECURSIVE) to the mount and every mount under it.
 * The atime mode is one field of the attributes: each atime option clears
 * the whole field and sets its value. Options that turn a mode off
 * (ratime, rnostrictatime) go back to the kernel's default, relatime;
 * rnorelatime, as norelatime does for mount(8), means strictatime. */
static const struct {
    const char *name;
    uint64_t set;
    uint64_t clr;
} recursive_options[] = {
    { "rro", MOUNT_ATTR_RDONLY, 0 },       { "rrw", 0, MOUNT_ATTR_RDONLY },
    { "rnosuid", MOUNT_ATTR_NOSUID, 0 },   { "rsuid", 0, MOUNT_ATTR_NOSUID },
    { "rnodev", MOUNT_ATTR_NODEV, 0 },     { "rdev", 0, MOUNT_ATTR_NODEV },
    { "rnoexec", MOUNT_ATTR_NOEXEC, 0 },   { "rexec", 0, MOUNT_ATTR_NOEXEC },
    { "rnodiratime", MOUNT_ATTR_NODIRATIME, 0 }, { "rdiratime", 0, MOUNT_ATTR_NODIRATIME },
    { "rnosymfollow", MOUNT_ATTR_NOSYMFOLLOW, 0 }, { "rsymfollow", 0, MOUNT_ATTR_NOSYMFOLLOW },
    { "rrelatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME },
    { "rnorelatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME },
    { "rnoatime", MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME },
    { "ratime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME },
    { "rstrictatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME },
    { "rnostrictatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME },
};

/* A recursive option: *true and its bits merged into out (a later option
 * wins over an earlier one on the same bits). */
static bool parse_recursive(const char *opt, husk_mount_flags *out)
{
    for (size_t k = 0; k < sizeof(recursive_options) / sizeof(recursive_options[0]); k++) {
        if (strcmp(recursive_options[k].name, opt) != 0)
            continue;
        uint64_t touched = recursive_options[k].set | recursive_options[k].clr;
        out->attr_set = (out->attr_set & ~touched) | recursive_options[k].set;
        out->attr_clr = (out->attr_clr & ~touched) | recursive_options[k].clr;
        return true;
    }
    return false;
}

static int append_data(char **data, const char *opt)
{
    char *joined = NULL;
    if (asprintf(&joined, "%s%s%s", *data ? *data : "", *data ? "," : "", opt) < 0)
        return -1;
    free(*data);
    *data = joined;
    return 0;
}

int husk_mount_flags_parse(char *const *options, size_t n, husk_mount_flags *out,
                           husk_error_t *err)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        const char *opt = options[i];
        if (opt[0] == 'r' && parse_recursive(opt, out))
            continue;
        size_t k, count = sizeof(mount_options) / sizeof(mount_options[0]);
        for (k = 0; k < count; k++)
            if (strcmp(mount_options[k].name, opt) == 0)
                break;
        if (k == count) {
            if (append_data(&out->data, opt) < 0) {
                husk_mount_flags_free(out);
                return husk_error_set(err, ENOMEM, "mount option `%s`", opt);
            }
            continue;
        }
        switch (mount_options[k].kind) {
        case OPT_SET:
            out->flags |= mount_options[k].flag;
            out->clear &= ~mount_options[k].flag;
            break;
        case OPT_CLEAR:
            out->flags &= ~mount_options[k].flag;
            out->clear |= mount_options[k].flag;
            break;
        case OPT_PROPAGATION:
            out->propagation = mount_options[k].flag;
            break;
        case OPT_ATIME:
            out->flags = (out->flags & ~MS_ATIME_MODE) | mount_options[k].flag;
            out->clear = (out->clear | MS_ATIME_MODE) & ~mount_options[k].flag;
            break;
        }
    }
    return 0;
}

void husk_mount_flags_free(husk_mount_flags *mf)
{
    free(mf->data);
    mf->data = NULL;
}

/* ---------- paths inside the rootfs ---------- */

/* ---------- resolving without openat2 (Linux < 5.6) ----------
 *
 * The same answer as openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS
 * [| RESOLVE_NO_SYMLINKS]) for O_PATH opens, one component at a time: each
 * is opened with O_NOFOLLOW in the directory resolved so far; a symlink is
 * read and its target spliced in front of what is left (an absolute one
 * restarting at the root); ".." at the root stays there. On procfs only
 * symlinks with a relative target are followed (self, thread-self, net,
 * mounts): the magic links (fd/N, cwd, root, exe, ns/...) read as absolute
 * paths or "type:[inode]". Unlike openat2 it cannot detect a directory
 * being renamed out from under the walk, which only matters while a
 * container already runs (exec) on such an old kernel. */

#define MAX_SYMLINKS 40

static bool same_inode(int a, int b)
{
    struct stat sa, sb;
    return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

static bool on_procfs(int fd)
{
    struct statfs sfs;
    return fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
}

/* Replaces *rest with target + "/" + *rest. */
static int splice_target(char **rest, const char *target)
{
    char *joined = NULL;
    if (asprintf(&joined, "%s/%s", target, *rest) < 0)
        return -1;
    free(*rest);
    *rest = joined;
    return 0;
}

/* Opens the next component `name` of the walk in *cur, following it when it
 * is a symlink by splicing its target into *rest. Returns 0 and moves *cur,
 * or -1 with errno. */
static int walk_component(int root_fd, int *cur, const char *name, char **rest, bool follow,
                          bool no_symlinks, int *links)
{
    if (strcmp(name, "..") == 0) {
        if (same_inode(*cur, root_fd))
            return 0;
        int up = openat(*cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (up < 0)
            return -1;
        close(*cur);
        *cur = up;
        return 0;
    }
    int fd = openat(*cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0 || !S_ISLNK(st.st_mode) || !follow) {
        close(*cur);
        *cur = fd;
        return 0;
    }
    char target[PATH_MAX];
    ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
    close(fd);
    if (n < 0)
        return -1;
    target[n] = '\0';
    if (no_symlinks || ++*links > MAX_SYMLINKS || (on_procfs(*cur) && target[0] == '/') ||
        (on_procfs(*cur) && strchr(target, ':') != NULL)) {
        errno = ELOOP;
        return -1;
    }
    if (target[0] == '/') {
        int r = fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
        if (r < 0)
            return -1;
        close(*cur);
        *cur = r;
    }
    if (splice_target(rest, target) < 0) {
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

int husk_rootfs_resolve_fallback(int root_fd, const char *path, int flags, bool no_symlinks)
{
    cleanup_free char *rest = strdup(path);
    cleanup_close int cur = fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
    if (rest == NULL || cur < 0)
        return -1;
    int links = 0;
    for (;;) {
        char *p = rest;
        while (*p == '/')
            p++;
        if (*p == '\0')
            break;
        size_t len = strcspn(p, "/");
        cleanup_free char *name = strndup(p, len);
        if (name == NULL) {
            errno = ENOMEM;
            return -1;
        }
        bool last = p[len + strspn(p + len, "/")] == '\0';
        char *after = strdup(p + len);
        if (after == NULL)
            return -1;
        free(rest);
        rest = after;
        if (strcmp(name, ".") == 0)
            continue;
        bool follow = !last || !(flags & O_NOFOLLOW);
        if (walk_component(root_fd, &cur, name, &rest, follow, no_symlinks, &links) < 0)
            return -1;
    }
    struct stat st;
    if ((flags & O_DIRECTORY) && (fstat(cur, &st) < 0 || !S_ISDIR(st.st_mode))) {
        errno = ENOTDIR;
        return -1;
    }
    return steal_fd(&cur);
}

/* openat2 where the kernel has it (asked once), else the walk above. */
static int resolve_in_root(int root_fd, const char *path, int flags, bool no_symlinks)
{
    static bool no_openat2;
    if (!no_openat2) {
        struct open_how how = {
            .flags = (uint64_t) (flags | O_CLOEXEC),
            .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
                       (no_symlinks ? RESOLVE_NO_SYMLINKS : 0),
        };
        int fd = husk_openat2(root_fd, path, &how, sizeof(how));
        if (fd >= 0 || errno != ENOSYS)
            return fd;
        no_openat2 = true;
    }
    return husk_rootfs_resolve_fallback(root_fd, path, flags, no_symlinks);
}

static int open_in_root(int root_fd, const char *path, int flags)
{
    return resolve_in_root(root_fd, path, flags, false);
}

static int open_or_create(int root_fd, const char *path, bool as_file, int depth,
                          husk_error_t *err);

/* Makes `name` in dir (whose path under the root is dir_path): a directory,
 * or an empty file. When a dangling symlink already holds the name (images
 * have them, e.g. /etc/resolv.conf -> ../run/...), what it points to is made
 * instead, resolved under the root like any other path, as runc does. */
static int make_missing(int root_fd, int dir, const char *dir_path, const char *name, bool as_file,
                        int depth, husk_error_t *err)
{
    int r;
    if (as_file) {
        r = openat(dir, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (r >= 0)
            r = close(r);
    } else {
        r = mkdirat(dir, name, 0755);
    }
    if (r == 0)
        return 0;
    if (errno != EEXIST)
        return husk_error_set(err, errno, "create `%s/%s` in the rootfs", dir_path, name);
    char target[PATH_MAX];
    ssize_t n = readlinkat(dir, name, target, sizeof(target) - 1);
    if (n < 0)
        return 0; /* not a symlink: it exists, the caller resolves it */
    target[n] = '\0';
    cleanup_free char *full = NULL;
    if (target[0] == '/')
        full = strdup(target);
    else if (asprintf(&full, "%s/%s", dir_path, target) < 0)
        full = NULL;
    if (full == NULL)
        return husk_error_set(err, ENOMEM, "create `%s/%s` in the rootfs", dir_path, name);
    int fd = open_or_create(root_fd, full, as_file, depth + 1, err);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

static int open_or_create(int root_fd, const char *path, bool as_file, int depth,
                          husk_error_t *err)
{
    if (depth > 8)
        return husk_error_set(err, ELOOP, "create `%s` in the rootfs", path);
    int fd = open_in_root(root_fd, path, O_PATH);
    if (fd >= 0 || errno != ENOENT) {
        if (fd < 0)
            return husk_error_set(err, errno, "open `%s` in the rootfs", path);
        return fd;
    }

    /* Common case: only the last component is missing. It is made in its
     * resolved parent, by name only, then the whole path is resolved again
     * under the root. */
    const char *slash = strrchr(path, '/');
    if (slash != NULL && slash[1] != '\0') {
        cleanup_free char *parent = strndup(path, (size_t) (slash - path));
        cleanup_close int pfd = parent ? open_in_root(root_fd, parent[0] ? parent : "/",
                                                      O_PATH | O_DIRECTORY)
                                       : -1;
        if (pfd >= 0) {
            if (make_missing(root_fd, pfd, parent, slash + 1, as_file, depth, err) < 0)
                return -1;
            fd = open_in_root(root_fd, path, O_PATH);
            if (fd < 0)
                return husk_error_set(err, errno, "open `%s` in the rootfs", path);
            return fd;
        }
    }

    /* Walk from the root: each missing component is made in the directory
     * resolved so far, by name only, so it cannot land outside the root. */
    cleanup_free char *copy = strdup(path);
    if (copy == NULL)
        return husk_error_set(err, ENOMEM, "create `%s`", path);
    cleanup_close int dir = fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
    char *save = NULL;
    char *comp = strtok_r(copy, "/", &save);
    while (comp != NULL) {
        char *next = strtok_r(NULL, "/", &save);
        bool last = next == NULL;
        if (strcmp(comp, ".") != 0) {
            size_t dir_len = (size_t) (comp - copy);
            cleanup_free char *dir_path = strndup(path, dir_len > 1 ? dir_len - 1 : dir_len);
            if (dir_path == NULL)
                return husk_error_set(err, ENOMEM, "create `%s`", path);
            if (make_missing(root_fd, dir, dir_path, comp, last && as_file, depth, err) < 0)
                return -1;
            /* Re-resolve the prefix under the root: a symlink found here
             * stays confined to it. */
            cleanup_free char *prefix = strndup(path, dir_len + strlen(comp));
            int nfd = open_in_root(root_fd, prefix, O_PATH | (last && as_file ? 0 : O_DIRECTORY));
            if (nfd < 0)
                return husk_error_set(err, errno, "open `%s` in the rootfs", prefix);
            close(dir);
            dir = nfd;
        }
        comp = next;
    }
    return steal_fd(&dir);
}

int husk_rootfs_open_or_create(int root_fd, const char *path, bool as_file, husk_error_t *err)
{
    return open_or_create(root_fd, path, as_file, 0, err);
}

static void proc_fd_path(char *buf, size_t len, int fd)
{
    snprintf(buf, len, "/proc/self/fd/%d", fd);
}

/* ---------- mounts ---------- */

static bool is_bind(const ocispec_mount *m, const husk_mount_flags *mf)
{
    return (mf->flags & MS_BIND) || (m->type != NULL && strcmp(m->type, "bind") == 0);
}

char *husk_rootfs_bind_source(const char *bundle, const char *source)
{
    char *out = NULL;
    if (source[0] == '/')
        return strdup(source);
    if (asprintf(&out, "%s/%s", bundle, source) < 0)
        return NULL;
    return out;
}

static int remount_on(int root_fd, const char *dest, unsigned long flags, const char *what,
                      husk_error_t *err)
{
    /* Reopen: the fd taken before mounting still names the covered dir. */
    cleanup_close int top = open_in_root(root_fd, dest, O_PATH);
    if (top < 0)
        return husk_error_set(err, errno, "%s: reopen `%s`", what, dest);
    char p[64];
    proc_fd_path(p, sizeof(p), top);
    if (mount(NULL, p, NULL, flags, NULL) < 0)
        return husk_error_set(err, errno, "%s: remount `%s`", what, dest);
    return 0;
}

/* ---------- type "cgroup": the container's own cgroups ----------
 *
 * One directory per hierarchy the host mounts under /sys/fs/cgroup (or the
 * single cgroup2 tree), on a tmpfs. With a cgroup namespace the hierarchies
 * are mounted afresh (their root is the namespace's root); without one, the
 * container's own cgroup directories are bind-mounted from the host, so
 * the container never sees the rest of the host's tree. */

struct cg_hierarchy {
    char *mountpoint; /* host path */
    char *mnt_root;   /* mountinfo field 4 */
    char *options;    /* super options, "rw,cpu,cpuacct" */
    bool v2;
};

static void cg_hierarchies_free(struct cg_hierarchy *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(h[i].mountpoint);
        free(h[i].mnt_root);
        free(h[i].options);
    }
    free(h);
}

static int cg_read_hierarchies(struct cg_hierarchy **out, size_t *n_out, husk_error_t *err)
{
    cleanup_free char *text = NULL;
    if (husk_read_file("/proc/self/mountinfo", &text, NULL, err) < 0)
        return -1;
    struct cg_hierarchy *v = NULL;
    size_t n = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *dash = strstr(line, " - ");
        if (dash == NULL)
            continue;
        char fstype[32], source[256], opts[1024];
        if (sscanf(dash + 3, "%31s %255s %1023s", fstype, source, opts) != 3)
            continue;
        bool v2 = strcmp(fstype, "cgroup2") == 0;
        if (!v2 && strcmp(fstype, "cgroup") != 0)
            continue;
        char root[1024], mp[1024];
        if (sscanf(line, "%*s %*s %*s %1023s %1023s", root, mp) != 2)
            continue;
        if (strncmp(mp, "/sys/fs/cgroup", 14) != 0)
            continue;
        struct cg_hierarchy *bigger = realloc(v, (n + 1) * sizeof(*v));
        if (bigger == NULL) {
            cg_hierarchies_free(v, n);
            return husk_error_set(err, ENOMEM, "read cgroup mounts");
        }
        v = bigger;
        v[n] = (struct cg_hierarchy){ strdup(mp), strdup(root), strdup(opts), v2 };
        n++;
    }
    *out = v;
    *n_out = n;
    return 0;
}

/* The controllers a v1 super-options string names: what /proc/self/cgroup
 * shows in its second field. */
static bool cg_option_is_controller(const char *tok)
{
    static const char *const not_controllers[] = { "rw", "ro", "xattr", "clone_children",
                                                   "noprefix", "cpuset_v2_mode", "none", NULL };
    if (strncmp(tok, "release_agent=", 14) == 0)
        return false;
    for (size_t i = 0; not_controllers[i]; i++)
        if (strcmp(tok, not_controllers[i]) == 0)
            return false;
    return true;
}

static char *cg_controllers(const char *options)
{
    cleanup_free char *copy = strdup(options);
    char *out = NULL, *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (cg_option_is_controller(t) && append_data(&out, t) < 0)
            return NULL;
    return out;
}

/* This process's cgroup path in the hierarchy whose controller field is
 * `ctrls` ("" for cgroup2), from /proc/self/cgroup. */
static char *cg_own_path(const char *cgroup_file, const char *ctrls)
{
    cleanup_free char *copy = strdup(cgroup_file);
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (c2 == NULL)
            continue;
        *c2 = '\0';
        if (strcmp(c1 + 1, ctrls) == 0)
            return strdup(c2 + 1);
    }
    return NULL;
}

static int cg_mount_hierarchy(int root_fd, const char *dest, const struct cg_hierarchy *h,
                              const char *cgroup_file, const husk_cgroup_view *view,
                              unsigned long flags,
                              husk_error_t *err)
{
    cleanup_free char *ctrls = h->v2 ? strdup("") : cg_controllers(h->options);
    if (ctrls == NULL)
        return husk_error_set(err, ENOMEM, "cgroup mount");
    cleanup_close int target = husk_rootfs_open_or_create(root_fd, dest, false, err);
    if (target < 0)
        return -1;
    char p[64];
    proc_fd_path(p, sizeof(p), target);
    if (view->own_ns) {
        if (mount("cgroup", p, h->v2 ? "cgroup2" : "cgroup", flags, h->v2 ? NULL : ctrls) < 0)
            return husk_error_set(err, errno, "mount \"cgroup\" on \"%s\"", dest);
        return 0;
    }
    /* The container's cgroup path (the same in every hierarchy) when husk
     * made one: the init may not sit in it yet (see process.h, PLACED).
     * Without one (--cgroup-manager disabled) the container shares husk's. */
    cleanup_free char *own = view->path != NULL ? strdup(view->path) : cg_own_path(cgroup_file, ctrls);
    if (own == NULL)
        return 0; /* a hierarchy this process is not in: nothing to show */
    size_t rl = strlen(h->mnt_root);
    const char *rel = own;
    if (strcmp(h->mnt_root, "/") != 0 && strncmp(own, h->mnt_root, rl) == 0)
        rel = own + rl;
    cleanup_free char *src = NULL;
    if (asprintf(&src, "%s%s", h->mountpoint, rel) < 0)
        return husk_error_set(err, ENOMEM, "cgroup mount");
    if (mount(src, p, NULL, MS_BIND, NULL) < 0)
        return husk_error_set(err, errno, "bind mount `%s` on `%s`", src, dest);
    return remount_on(root_fd, dest, MS_REMOUNT | MS_BIND | flags, "cgroup mount", err);
}

static int mount_cgroup(int root_fd, const ocispec_mount *m, const husk_mount_flags *mf,
                        const husk_cgroup_view *view, husk_error_t *err)
{
    struct cg_hierarchy *hs = NULL;
    size_t n = 0;
    cleanup_free char *cgroup_file = NULL;
    if (cg_read_hierarchies(&hs, &n, err) < 0 ||
        husk_read_file("/proc/self/cgroup", &cgroup_file, NULL, err) < 0) {
        cg_hierarchies_free(hs, n);
        return -1;
    }
    unsigned long flags = mf->flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME);
    int ret = 0;
    if (n == 1 && hs[0].v2 && strcmp(hs[0].mountpoint, "/sys/fs/cgroup") == 0) {
        ret = cg_mount_hierarchy(root_fd, m->destination, &hs[0], cgroup_file, view, flags, err);
        cg_hierarchies_free(hs, n);
        return ret;
    }

    cleanup_close int target = husk_rootfs_open_or_create(root_fd, m->destination, false, err);
    if (target < 0) {
        cg_hierarchies_free(hs, n);
        return -1;
    }
    char p[64];
    proc_fd_path(p, sizeof(p), target);
    if (mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0) {
        cg_hierarchies_free(hs, n);
        return husk_error_set(err, errno, "mount \"tmpfs\" on \"%s\"", m->destination);
    }
    for (size_t i = 0; i < n && ret == 0; i++) {
        if (strcmp(hs[i].mountpoint, "/sys/fs/cgroup") == 0)
            continue;
        const char *base = strrchr(hs[i].mountpoint, '/') + 1;
        cleanup_free char *dest = NULL;
        if (asprintf(&dest, "%s/%s", m->destination, base) < 0) {
            ret = husk_error_set(err, ENOMEM, "cgroup mount");
            break;
        }
        ret = cg_mount_hierarchy(root_fd, dest, &hs[i], cgroup_file, view, flags, err);
        /* "cpu,cpuacct" is also reachable as "cpu" and "cpuacct". */
        if (ret == 0 && strchr(base, ',') != NULL) {
            cleanup_close int top = open_in_root(root_fd, m->destination, O_PATH | O_DIRECTORY);
            cleanup_free char *names = strdup(base);
            char *save = NULL;
            for (char *t = strtok_r(names, ",", &save); top >= 0 && t; t = strtok_r(NULL, ",", &save))
                symlinkat(base, top, t);
        }
    }
    cg_hierarchies_free(hs, n);
    if (ret == 0 && (flags & MS_RDONLY))
        ret = remount_on(root_fd, m->destination,
                         MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "cgroup mount",
                         err);
    return ret;
}

static int set_recursive_attrs(int root_fd, const char *dest, const husk_mount_flags *mf,
                               size_t idx, husk_error_t *err)
{
    cleanup_close int top = open_in_root(root_fd, dest, O_PATH);
    if (top < 0)
        return husk_error_set(err, errno, "mounts[%zu]: reopen `%s`", idx, dest);
    struct mount_attr attr = { .attr_set = mf->attr_set, .attr_clr = mf->attr_clr };
    if (syscall(__NR_mount_setattr, top, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
                sizeof(attr)) < 0) {
        if (errno == ENOSYS)
            return husk_error_set(err, ENOSYS,
                                  "mounts[%zu].options: recursive attributes (rro, rnosuid, ...) "
                                  "need mount_setattr (Linux 5.12)",
                                  idx);
        return husk_error_set(err, errno, "mounts[%zu].options: set recursive attributes on `%s`",
                              idx, dest);
    }
    return 0;
}

/* proc and sysfs hand the container kernel interfaces: mounted on a
 * symlink they would surface wherever the image chose (even inside the
 * rootfs, e.g. over a path a later mount or mask trusts to be something
 * else), so, as runc does, their destination may not be one. *fd: the
 * O_PATH fd to mount on, or -1 when it is missing (then made like any
 * other destination). */
static int open_kernelfs_destination(int root_fd, const ocispec_mount *m, size_t idx, int *fd,
                                     husk_error_t *err)
{
    *fd = resolve_in_root(root_fd, m->destination, O_PATH, true);
    if (*fd >= 0 || errno == ENOENT)
        return 0;
    if (errno == ELOOP)
        return husk_error_set(err, ELOOP,
                              "mounts[%zu].destination `%s`: a symlink in the rootfs; refusing "
                              "to mount %s on it",
                              idx, m->destination, m->type);
    return husk_error_set(err, errno, "mounts[%zu]: open `%s` in the rootfs", idx, m->destination);
}

static bool is_kernelfs(const ocispec_mount *m)
{
    return m->type != NULL && (strcmp(m->type, "proc") == 0 || strcmp(m->type, "sysfs") == 0);
}

/* mount(2) answers a bad filesystem option with a bare EINVAL; the new
 * mount API refuses the very parameter. Each option is offered to a fresh
 * context of the type (nothing gets mounted); NULL when none is refused or
 * the kernel lacks fsopen. */
static char *refused_fs_option(const char *type, const char *data)
{
    cleanup_close int fs = (int) syscall(__NR_fsopen, type, FSOPEN_CLOEXEC);
    cleanup_free char *copy = strdup(data);
    if (fs < 0 || copy == NULL)
        return NULL;
    char *save = NULL;
    for (char *opt = strtok_r(copy, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
        cleanup_free char *key = strdup(opt);
        if (key == NULL)
            return NULL;
        char *value = strchr(key, '=');
        if (value != NULL)
            *value++ = '\0';
        if (syscall(__NR_fsconfig, fs, value ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, key,
                    value, 0) < 0)
            return strdup(opt);
    }
    return NULL;
}

static int fs_mount_error(const char *type, const ocispec_mount *m, const husk_mount_flags *mf,
                          size_t idx, husk_error_t *err)
{
    int e = errno;
    if (e == ENODEV)
        return husk_error_set(err, e, "mounts[%zu].type: no filesystem `%s` in this kernel "
                              "(mount on `%s`)", idx, type, m->destination);
    cleanup_free char *bad = e == EINVAL && mf->data ? refused_fs_option(type, mf->data) : NULL;
    if (bad != NULL)
        return husk_error_set(err, e, "mounts[%zu].options: `%s` refused by %s (mount on `%s`)",
                              idx, bad, type, m->destination);
    return husk_error_set(err, e, "mount \"%s\" on \"%s\"", type, m->destination);
}

/* sysfs shows the network devices of the mounter's network namespace:
 * without a new one the container would see, and write to, the host's
 * (runc mounts it read-only then). The kernel refuses a sysfs mount to a
 * user namespace that does not own the network namespace; the host's /sys
 * is then bound instead, read-only all the way down. */
static int mount_sysfs(int root_fd, const ocispec_mount *m, const husk_mount_flags *mf,
                       const char *target, size_t idx, bool new_netns, husk_error_t *err)
{
    unsigned long flags = mf->flags & ~MS_REMOUNT;
    if (!new_netns)
        flags |= MS_RDONLY;
    if (mount(m->source ? m->source : "sysfs", target, "sysfs", flags, mf->data) == 0)
        return 0;
    if (errno != EPERM || new_netns)
        return fs_mount_error("sysfs", m, mf, idx, err);
    if (mount("/sys", target, NULL, MS_BIND | MS_REC, NULL) < 0)
        return husk_error_set(err, errno, "mounts[%zu]: bind the host's `/sys` on `%s` (no right "
                              "to mount sysfs here)", idx, m->destination);
    cleanup_close int top = open_in_root(root_fd, m->destination, O_PATH);
    struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
                                           MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC };
    if (top < 0 || syscall(__NR_mount_setattr, top, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
                           sizeof(attr)) < 0)
        return husk_error_set(err, errno, "mounts[%zu]: make the bound `/sys` read-only", idx);
    return 0;
}

static int mount_one(int root_fd, const char *bundle, const ocispec_mount *m, size_t idx,
                     const husk_cgroup_view *view, bool new_netns, const char *mount_label,
                     husk_error_t *err)
{
    if (m->destination == NULL || m->destination[0] != '/')
        return husk_error_set(err, 0, "mounts[%zu].destination: `%s` is not absolute", idx,
                              m->destination ? m->destination : "");
    husk_mount_flags mf;
    if (husk_mount_flags_parse(m->options, m->options_len, &mf, err) < 0)
        return husk_error_wrap(err, "mounts[%zu]", idx);
    int ret = 0;
    bool bind = is_bind(m, &mf);
    cleanup_free char *src = NULL;
    bool as_file = false;
    if (bind && mf.data != NULL) {
        /* A bind mount has no filesystem to take them: the kernel would
         * drop them without a word. */
        ret = husk_error_set(err, EINVAL, "mounts[%zu].options: unknown option `%s` for a bind "
                             "mount of `%s`", idx, mf.data, m->destination);
        goto out;
    }
    if (bind) {
        if (m->source == NULL) {
            ret = husk_error_set(err, 0, "mounts[%zu].source: required for a bind mount", idx);
            goto out;
        }
        src = husk_rootfs_bind_source(bundle, m->source);
        struct stat st;
        if (src == NULL || stat(src, &st) < 0) {
            ret = husk_error_set(err, src ? errno : ENOMEM, "bind mount `%s` on `%s`", m->source,
                                 m->destination);
            goto out;
        }
        as_file = !S_ISDIR(st.st_mode);
    }

    {
        cleanup_close int target = -1;
        if (!bind && is_kernelfs(m) &&
            open_kernelfs_destination(root_fd, m, idx, &target, err) < 0) {
            ret = -1;
            goto out;
        }
        if (target < 0)
            target = husk_rootfs_open_or_create(root_fd, m->destination, as_file, err);
        if (target < 0) {
            ret = husk_error_wrap(err, "mount `%s`", m->destination);
            goto out;
        }
        char p[64];
        proc_fd_path(p, sizeof(p), target);
        if (bind) {
            /* Made by husk before clone3, see idmap_mount.h. */
            int idmapped = husk_idmap_mount_take(idx);
            if (idmapped >= 0) {
                if (husk_idmap_mount_attach(idmapped, target, m->destination, idx, err) < 0) {
                    ret = -1;
                    goto out;
                }
            } else if (mount(src, p, NULL, MS_BIND | (mf.flags & MS_REC), NULL) < 0) {
                ret = husk_error_set(err, errno, "bind mount `%s` on `%s`", m->source,
                                     m->destination);
                goto out;
            }
            /* Bind mounts ignore every flag but MS_REC: apply them in a remount. */
            unsigned long extra = mf.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
            if (extra != 0 &&
                remount_on(root_fd, m->destination, MS_REMOUNT | MS_BIND | extra, "bind mount",
                           err) < 0) {
                ret = -1;
                goto out;
            }
        } else if (m->type != NULL && strcmp(m->type, "cgroup") == 0) {
            if (mount_cgroup(root_fd, m, &mf, view, err) < 0) {
                ret = -1;
                goto out;
            }
        } else if (m->type != NULL && strcmp(m->type, "sysfs") == 0) {
            if (mount_sysfs(root_fd, m, &mf, p, idx, new_netns, err) < 0) {
                ret = -1;
                goto out;
            }
        } else {
            const char *type = m->type ? m->type : "none";
            const char *source = m->source ? m->source : type;
            /* linux.mountLabel: a context= for the filesystems that take one. */
            cleanup_free char *labelled = NULL;
            if (husk_lsm_mount_data(type, mf.data, mount_label, &labelled, err) < 0) {
                ret = husk_error_wrap(err, "mounts[%zu]", idx);
                goto out;
            }
            if (mount(source, p, type, mf.flags & ~MS_REMOUNT, labelled ? labelled : mf.data) < 0) {
                ret = fs_mount_error(type, m, &mf, idx, err);
                goto out;
            }
        }
        if ((mf.attr_set | mf.attr_clr) != 0 &&
            set_recursive_attrs(root_fd, m->destination, &mf, idx, err) < 0) {
            ret = -1;
            goto out;
        }
        if (mf.propagation != 0 &&
            remount_on(root_fd, m->destination, mf.propagation, "set propagation", err) < 0)
            ret = -1;
    }
out:
    husk_mount_flags_free(&mf);
    return ret;
}

/* ---------- /dev ---------- */

static const struct {
    const char *name;
    unsigned int major, minor;
} default_devices[] = {
    { "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
    { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
};

static const struct {
    const char *target;
    const char *name;
} dev_symlinks[] = {
    { "/proc/self/fd", "fd" },     { "/proc/self/fd/0", "stdin" },
    { "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
    { "pts/ptmx", "ptmx" },        { "/proc/kcore", "core" },
};

/* Whether what the image holds at dir/name already is the node asked for
 * (never followed: a planted symlink to a host file is not a device). */
static bool is_wanted_node(int dir, const char *name, mode_t type, dev_t dev)
{
    struct stat st;
    if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return false;
    return (st.st_mode & S_IFMT) == type && (type == S_IFIFO || st.st_rdev == dev);
}

/* The image may hold anything at a device path (a symlink to a host file,
 * a regular file: the CVE-2025-31133 class). Anything but the wanted node
 * is removed so that what the container and the masks get is the node
 * husk makes; a directory there is an error, never removed. */
static int clear_planted(int dir, const char *name, const char *path, husk_error_t *err)
{
    if (unlinkat(dir, name, 0) == 0)
        return 0;
    if (errno == EISDIR || errno == EPERM)
        return husk_error_set(err, EISDIR, "device `%s`: a directory is in the way", path);
    return husk_error_set(err, errno, "device `%s`: remove what the rootfs holds there", path);
}

/* Without the right to mknod (in a user namespace), the host's node at the
 * same path is bind-mounted onto an empty file; it must be the device asked
 * for, so a host path that is something else is refused. */
static int bind_host_device(int dir, const char *name, const char *path, mode_t type, dev_t dev,
                            husk_error_t *err)
{
    cleanup_close int host = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (host < 0 || fstat(host, &st) < 0)
        return husk_error_set(err, errno, "bind the host's `%s` (no right to mknod)", path);
    if ((st.st_mode & S_IFMT) != type || (type != S_IFIFO && st.st_rdev != dev))
        return husk_error_set(err, ENODEV,
                              "bind the host's `%s` (no right to mknod): it is not device %u:%u",
                              path, major(dev), minor(dev));
    int f = openat(dir, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (f < 0)
        return husk_error_set(err, errno, "create `%s`", path);
    close(f);
    cleanup_close int target = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (target < 0)
        return husk_error_set(err, errno, "open `%s`", path);
    char from[64], to[64];
    proc_fd_path(from, sizeof(from), host);
    proc_fd_path(to, sizeof(to), target);
    if (mount(from, to, NULL, MS_BIND, NULL) < 0)
        return husk_error_set(err, errno, "bind mount the host's `%s` on `%s`", path, path);
    return 0;
}

/* mknod, or (without the right to, e.g. in a user namespace) a bind mount
 * of the host's node onto an empty file. */
static int make_device(int root_fd, const char *path, mode_t type, dev_t dev, mode_t mode,
                       uid_t uid, gid_t gid, husk_error_t *err)
{
    cleanup_free char *copy = strdup(path);
    if (copy == NULL)
        return husk_error_set(err, ENOMEM, "device `%s`", path);
    char *slash = strrchr(copy, '/');
    const char *name = slash ? slash + 1 : copy;
    if (slash != NULL)
        *slash = '\0';
    cleanup_close int dir = husk_rootfs_open_or_create(root_fd, slash && copy[0] ? copy : "/",
                                                        false, err);
    if (dir < 0)
        return husk_error_wrap(err, "device `%s`", path);
    int r = mknodat(dir, name, type | mode, dev);
    if (r < 0 && errno == EEXIST) {
        if (is_wanted_node(dir, name, type, dev))
            return 0;
        if (clear_planted(dir, name, path, err) < 0)
            return -1;
        r = mknodat(dir, name, type | mode, dev);
    }
    if (r == 0) {
        /* The init runs with umask 0: mknod's mode is already exact. */
        if (fchownat(dir, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
            return husk_error_set(err, errno, "chown device `%s`", path);
        return 0;
    }
    if (errno != EPERM)
        return husk_error_set(err, errno, "mknod `%s`", path);
    return bind_host_device(dir, name, path, type, dev, err);
}

/* linux.devices[i]: the spec's type letters, and a path that is absolute
 * with no ".." (it may lie outside /dev: the spec allows it). */
static int device_type(const ocispec_device *d, size_t i, mode_t *type, husk_error_t *err)
{
    if (d->type == NULL)
        return husk_error_set(err, 0, "linux.devices[%zu].type: required", i);
    if (strcmp(d->type, "c") == 0 || strcmp(d->type, "u") == 0)
        *type = S_IFCHR;
    else if (strcmp(d->type, "b") == 0)
        *type = S_IFBLK;
    else if (strcmp(d->type, "p") == 0)
        *type = S_IFIFO;
    else
        return husk_error_set(err, 0,
                              "linux.devices[%zu].type: unknown type `%s` (expected c, b, u or p)",
                              i, d->type);
    if (*type != S_IFIFO && !d->has_major)
        return husk_error_set(err, 0, "linux.devices[%zu].major: required for type `%s`", i,
                              d->type);
    return 0;
}

static bool has_dotdot(const char *path)
{
    for (const char *p = path; (p = strstr(p, "..")) != NULL; p += 2)
        if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
            return true;
    return false;
}

static int config_device(int root_fd, const ocispec_device *d, size_t i, husk_error_t *err)
{
    mode_t type = 0;
    if (device_type(d, i, &type, err) < 0)
        return -1;
    if (d->path == NULL || d->path[0] != '/' || has_dotdot(d->path) ||
        strcmp(d->path, "/") == 0)
        return husk_error_set(err, 0,
                              "linux.devices[%zu].path: `%s` must be absolute, with no `..`", i,
                              d->path ? d->path : "");
    mode_t mode = d->has_file_mode ? (d->file_mode & 07777) : 0666;
    dev_t dev = type == S_IFIFO ? 0 : makedev((unsigned) d->major, (unsigned) d->minor);
    if (make_device(root_fd, d->path, type, dev, mode, d->has_uid ? d->uid : 0,
                    d->has_gid ? d->gid : 0, err) < 0)
        return husk_error_wrap(err, "linux.devices[%zu]", i);
    return 0;
}

/* An image's own /dev may hold a /dev/ptmx (or fd, stdin...) that points
 * elsewhere; the links are the runtime's, so what is there is replaced. */
static int replace_symlink(int dev, const char *target, const char *name, husk_error_t *err)
{
    if (errno != EEXIST)
        return husk_error_set(err, errno, "symlink `/dev/%s`", name);
    char have[PATH_MAX];
    ssize_t n = readlinkat(dev, name, have, sizeof(have) - 1);
    if (n >= 0 && (size_t) n == strlen(target) && memcmp(have, target, (size_t) n) == 0)
        return 0;
    if (unlinkat(dev, name, 0) < 0 || symlinkat(target, dev, name) < 0)
        return husk_error_set(err, errno, "replace `/dev/%s` the rootfs holds with a symlink",
                              name);
    return 0;
}

static int setup_dev(int root_fd, const ocispec_config *config, husk_error_t *err)
{
    cleanup_close int dev = open_in_root(root_fd, "/dev", O_PATH | O_DIRECTORY);
    if (dev < 0 && errno != ENOENT)
        return husk_error_set(err, errno, "open `/dev` in the rootfs");

    for (size_t i = 0; dev >= 0 && i < sizeof(default_devices) / sizeof(default_devices[0]); i++) {
        char path[32];
        snprintf(path, sizeof(path), "/dev/%s", default_devices[i].name);
        if (make_device(root_fd, path, S_IFCHR,
                        makedev(default_devices[i].major, default_devices[i].minor), 0666, 0, 0,
                        err) < 0)
            return -1;
    }
    const ocispec_linux *linux = config->linux;
    for (size_t i = 0; linux != NULL && i < linux->devices_len; i++)
        if (config_device(root_fd, &linux->devices[i], i, err) < 0)
            return -1;
    for (size_t i = 0; dev >= 0 && i < sizeof(dev_symlinks) / sizeof(dev_symlinks[0]); i++)
        if (symlinkat(dev_symlinks[i].target, dev, dev_symlinks[i].name) < 0 &&
            replace_symlink(dev, dev_symlinks[i].target, dev_symlinks[i].name, err) < 0)
            return -1;
    return 0;
}

/* ---------- masked and read-only paths ---------- */

/* The host's /dev/null, checked to be char 1:3: masks bind this fd, never
 * a path the image could have planted something at. */
static int open_real_dev_null(husk_error_t *err)
{
    int fd = open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        husk_error_set(err, errno, "linux.maskedPaths: open the host's `/dev/null`");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
        close(fd);
        return husk_error_set(err, ENODEV,
                              "linux.maskedPaths: the host's `/dev/null` is not char device 1:3");
    }
    return fd;
}

static int mask_path(int root_fd, int null_fd, const char *path, husk_error_t *err)
{
    cleanup_close int fd = open_in_root(root_fd, path, O_PATH);
    if (fd < 0)
        return errno == ENOENT ? 0 : husk_error_set(err, errno, "linux.maskedPaths: open `%s`", path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return husk_error_set(err, errno, "linux.maskedPaths: stat `%s`", path);
    char p[64], null_path[64];
    proc_fd_path(p, sizeof(p), fd);
    proc_fd_path(null_path, sizeof(null_path), null_fd);
    int r = S_ISDIR(st.st_mode) ? mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0k")
                                : mount(null_path, p, NULL, MS_BIND, NULL);
    if (r < 0)
        return husk_error_set(err, errno, "linux.maskedPaths: mask `%s`", path);
    return 0;
}

static int readonly_path(int root_fd, const char *path, husk_error_t *err)
{
    cleanup_close int fd = open_in_root(root_fd, path, O_PATH);
    if (fd < 0)
        return errno == ENOENT ? 0
                               : husk_error_set(err, errno, "linux.readonlyPaths: open `%s`", path);
    char p[64];
    proc_fd_path(p, sizeof(p), fd);
    if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0)
        return husk_error_set(err, errno, "linux.readonlyPaths: bind `%s`", path);
    return remount_on(root_fd, path, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV |
                                         MS_NOEXEC, "linux.readonlyPaths", err);
}

static int mask_paths(int root_fd, const ocispec_linux *linux, husk_error_t *err)
{
    if (linux == NULL || linux->masked_paths_len == 0)
        return 0;
    cleanup_close int null_fd = open_real_dev_null(err);
    if (null_fd < 0)
        return -1;
    for (size_t i = 0; i < linux->masked_paths_len; i++)
        if (mask_path(root_fd, null_fd, linux->masked_paths[i], err) < 0)
            return -1;
    return 0;
}

/* ---------- the whole tree ---------- */

static int propagation_flags(const char *name, unsigned long *out, husk_error_t *err)
{
    static const struct {
        const char *name;
        unsigned long flags;
    } table[] = {
        { "private", MS_PRIVATE },       { "rprivate", MS_PRIVATE | MS_REC },
        { "slave", MS_SLAVE },           { "rslave", MS_SLAVE | MS_REC },
        { "shared", MS_SHARED },         { "rshared", MS_SHARED | MS_REC },
        { "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(table[i].name, name) == 0) {
            *out = table[i].flags;
            return 0;
        }
    return husk_error_set(err, 0, "linux.rootfsPropagation: unknown value `%s`", name);
}

static bool has_new_netns(const ocispec_linux *linux)
{
    for (size_t i = 0; linux != NULL && i < linux->namespaces_len; i++)
        if (linux->namespaces[i].type != NULL &&
            strcmp(linux->namespaces[i].type, "network") == 0)
            return linux->namespaces[i].path == NULL || linux->namespaces[i].path[0] == '\0';
    return false;
}

int husk_rootfs_prepare(const ocispec_config *config, const char *rootfs, const char *bundle,
                        const husk_cgroup_view *cgroups, int *root_fd, husk_error_t *err)
{
    /* Nothing mounted from here on may propagate back to the host. */
    if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
        return husk_error_set(err, errno, "make `/` a recursive slave");
    if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
        return husk_error_set(err, errno, "bind mount the rootfs `%s` on itself", rootfs);
    cleanup_close int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return husk_error_set(err, errno, "open rootfs `%s`", rootfs);

    bool new_netns = has_new_netns(config->linux);
    const char *mount_label = config->linux ? config->linux->mount_label : NULL;
    for (size_t i = 0; i < config->mounts_len; i++)
        if (mount_one(root, bundle, &config->mounts[i], i, cgroups, new_netns, mount_label,
                      err) < 0)
            return -1;
    if (setup_dev(root, config, err) < 0)
        return -1;
    const ocispec_linux *linux = config->linux;
    if (mask_paths(root, linux, err) < 0)
        return -1;
    for (size_t i = 0; linux != NULL && i < linux->readonly_paths_len; i++)
        if (readonly_path(root, linux->readonly_paths[i], err) < 0)
            return -1;
    *root_fd = steal_fd(&root);
    return 0;
}

int husk_rootfs_enter(int root_fd, bool no_pivot, husk_error_t *err)
{
    if (fchdir(root_fd) < 0)
        return husk_error_set(err, errno, "chdir into the rootfs");
    if (no_pivot) {
        if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
            return husk_error_set(err, errno, "move the rootfs onto `/` (--no-pivot)");
        if (chroot(".") < 0)
            return husk_error_set(err, errno, "chroot into the rootfs (--no-pivot)");
    } else {
        /* pivot_root(".", "."): the old root ends up stacked on the new one
         * and is detached at once, with no directory needed to hold it. */
        if (husk_pivot_root(".", ".") < 0)
            return husk_error_set(err, errno, "pivot_root into the rootfs");
        if (umount2(".", MNT_DETACH) < 0)
            return husk_error_set(err, errno, "detach the old root");
    }
    if (chdir("/") < 0)
        return husk_error_set(err, errno, "chdir `/`");
    return 0;
}

int husk_rootfs_finish(const ocispec_config *config, husk_error_t *err)
{
    if (config->root != NULL && config->root->readonly) {
        struct statvfs vfs;
        unsigned long keep = 0;
        if (statvfs("/", &vfs) == 0) {
            if (vfs.f_flag & ST_NOSUID)
                keep |= MS_NOSUID;
            if (vfs.f_flag & ST_NODEV)
                keep |= MS_NODEV;
            if (vfs.f_flag & ST_NOEXEC)
                keep |= MS_NOEXEC;
        }
        if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | keep, NULL) < 0)
            return husk_error_set(err, errno, "root.readonly: remount `/` read-only");
    }
    const ocispec_linux *linux = config->linux;
    if (linux != NULL && linux->rootfs_propagation != NULL) {
        unsigned long flags = 0;
        if (propagation_flags(linux->rootfs_propagation, &flags, err) < 0)
            return -1;
        if (mount(NULL, "/", NULL, flags, NULL) < 0)
            return husk_error_set(err, errno, "linux.rootfsPropagation `%s`",
                                  linux->rootfs_propagation);
    }
    return 0;
}

int husk_rootfs_make_cwd(const char *cwd, husk_error_t *err)
{
    if (strcmp(cwd, "/") == 0)
        return 0;
    cleanup_close int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return husk_error_set(err, errno, "process.cwd: open `/`");
    cleanup_close int fd = open_or_create(root, cwd, false, 0, err);
    if (fd < 0) {
        if (fd == -ELOOP)
            return husk_error_set(err, ELOOP,
                                  "process.cwd `%s`: resolves through a symlink loop or a magic "
                                  "link such as /proc/self/fd/N; refusing",
                                  cwd);
        return husk_error_wrap(err, "process.cwd");
    }
    /* Not a directory: the chdir that follows says so. */
    return 0;
}

int husk_rootfs_chdir(const char *cwd, husk_error_t *err)
{
    cleanup_close int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    cleanup_close int fd = root < 0 ? -1 : open_in_root(root, cwd, O_PATH | O_DIRECTORY);
    if (fd < 0 || fchdir(fd) < 0) {
        int e = errno;
        husk_error_set(err, e, "chdir `%s`%s", cwd,
                       e == ELOOP ? " (through a magic link such as /proc/self/fd/N?)" : "");
        errno = e;
        return -1;
    }
    return 0;
}

/* Opens path under root_fd following no symlink at all (O_PATH). */
static int open_no_symlinks(int root_fd, const char *path)
{
    return resolve_in_root(root_fd, path, O_PATH, true);
}

/* UNIX98 pty slaves: majors 136 to 143 (devices.txt). */
static bool is_pty_slave(const struct stat *st)
{
    return S_ISCHR(st->st_mode) && major(st->st_rdev) >= 136 && major(st->st_rdev) <= 143;
}

/* /dev/console, made if missing and opened without following a symlink:
 * the target of the console bind mount. */
static int open_console_target(int root, husk_error_t *err)
{
    cleanup_close int dev = open_no_symlinks(root, "/dev");
    if (dev < 0)
        return husk_error_set(err, errno, "console: open `/dev` (a symlink is refused)");
    int fd = openat(dev, "console", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno != EEXIST)
        return husk_error_set(err, errno, "create `/dev/console`");
    if (fd >= 0)
        close(fd);
    int dst = openat(dev, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (dst < 0 || fstat(dst, &st) < 0) {
        husk_error_set(err, errno, "open `/dev/console`");
        if (dst >= 0)
            close(dst);
        return -1;
    }
    if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) {
        close(dst);
        return husk_error_set(err, EINVAL,
                              "`/dev/console` in the rootfs is not a file or a device (a symlink?)");
    }
    return dst;
}

static int bind_on_console(int src, const char *what, husk_error_t *err)
{
    cleanup_close int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return husk_error_set(err, errno, "console: open `/`");
    cleanup_close int dst = open_console_target(root, err);
    if (dst < 0)
        return -1;
    char from[64], to[64];
    proc_fd_path(from, sizeof(from), src);
    proc_fd_path(to, sizeof(to), dst);
    if (mount(from, to, NULL, MS_BIND, NULL) < 0)
        return husk_error_set(err, errno, "bind mount `%s` on `/dev/console`", what);
    return 0;
}

/* The console is bound after the masks and read-only paths: were its source
 * or target a symlink the image (or the container's own devpts) planted,
 * the bind could put a pty over, or a fresh writable mount of, a file the
 * masks protect (the CVE-2025-52565 class). The source is the peer's own fd
 * and the target is opened without following any symlink and checked, then
 * they are bound fd to fd. */
int husk_rootfs_bind_console_fd(int slave, husk_error_t *err)
{
    struct stat st;
    if (fstat(slave, &st) < 0)
        return husk_error_set(err, errno, "console: stat the pty peer");
    if (!is_pty_slave(&st))
        return husk_error_set(err, ENOTTY, "console: fd %d is not a pty peer", slave);
    return bind_on_console(slave, "the pty peer", err);
}
