/* Cgroup core, independent of the cgroup version: layout detection, path
 * computation, the handle, and dispatch to cgroup_v1.c / cgroup_v2.c.
 * Resource translation lives in cgroup_resources.c. */
#define _GNU_SOURCE
#include "cgroup_internal.h"
#include "cgroup_systemd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "utils.h"

/* ---------- controller names ---------- */

static const struct {
    const char *name;
    uint32_t bit;
} controller_names[] = {
    {"cpu", CG_CPU},         {"cpuacct", CG_CPUACCT},     {"cpuset", CG_CPUSET},
    {"memory", CG_MEMORY},   {"devices", CG_DEVICES},     {"freezer", CG_FREEZER},
    {"blkio", CG_BLKIO},     {"io", CG_BLKIO},            {"pids", CG_PIDS},
    {"net_cls", CG_NET_CLS}, {"net_prio", CG_NET_PRIO},   {"hugetlb", CG_HUGETLB},
    {"rdma", CG_RDMA},       {"perf_event", CG_PERF_EVENT}, {"misc", CG_MISC},
};

uint32_t cg_controller_bit(const char *name)
{
    for (size_t i = 0; i < sizeof controller_names / sizeof controller_names[0]; i++)
        if (strcmp(controller_names[i].name, name) == 0)
            return controller_names[i].bit;
    return 0;
}

const char *cg_controller_name(uint32_t bit, bool v2)
{
    if (bit == CG_BLKIO)
        return v2 ? "io" : "blkio";
    for (size_t i = 0; i < sizeof controller_names / sizeof controller_names[0]; i++)
        if (controller_names[i].bit == bit)
            return controller_names[i].name;
    return "?";
}

/* ---------- the testing root ---------- */

static char *testing_root;
static struct cg_host cached_host;
static bool cached_host_valid;

void husk_cgroup_set_root_for_testing(const char *root)
{
    free(testing_root);
    testing_root = root != NULL ? strdup(root) : NULL;
    if (cached_host_valid)
        cg_host_clear(&cached_host);
    cached_host_valid = false;
}

bool cg_testing(void)
{
    return testing_root != NULL;
}

void cg_short_sleep(unsigned attempt)
{
    /* 1, 2, 4 ... ms, capped at 32 ms: short transitions finish in the first
     * rounds without burning a core on the long ones. */
    unsigned ms = attempt < 5 ? 1u << attempt : 32;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---------- mountinfo ---------- */

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
    char *w = s;
    for (char *r = s; *r != '\0'; r++) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
            r += 3;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

void cg_host_clear(struct cg_host *host)
{
    for (size_t i = 0; i < host->n; i++) {
        free(host->h[i].mountpoint);
        free(host->h[i].name);
    }
    free(host->h);
    memset(host, 0, sizeof *host);
}

static bool has_option(const char *opts, const char *opt)
{
    size_t len = strlen(opt);
    for (const char *p = opts; p != NULL && *p != '\0';) {
        const char *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (n == len && strncmp(p, opt, len) == 0)
            return true;
        p = comma != NULL ? comma + 1 : NULL;
    }
    return false;
}

static uint32_t v1_controllers_of(const char *superopts, char **name)
{
    uint32_t bits = 0;
    cleanup_free char *copy = strdup(superopts);
    if (copy == NULL)
        return 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        if (strncmp(tok, "name=", 5) == 0) {
            free(*name);
            *name = strdup(tok);
        } else if (strcmp(tok, "io") != 0) {
            bits |= cg_controller_bit(tok);
        }
    }
    return bits;
}

static uint32_t v2_controllers_at(const char *mountpoint)
{
    cleanup_free char *path = NULL;
    cleanup_free char *text = NULL;
    if (asprintf(&path, "%s/cgroup.controllers", mountpoint) < 0)
        return 0;
    if (husk_read_file(path, &text, NULL, NULL) < 0)
        return 0;
    uint32_t bits = 0;
    char *save = NULL;
    for (char *tok = strtok_r(text, " \n", &save); tok != NULL; tok = strtok_r(NULL, " \n", &save))
        bits |= cg_controller_bit(tok);
    return bits;
}

static int host_add(struct cg_host *host, const struct cg_hierarchy *h, husk_error_t *err)
{
    struct cg_hierarchy *bigger = realloc(host->h, (host->n + 1) * sizeof *bigger);
    if (bigger == NULL)
        return husk_error_set(err, ENOMEM, "parse mountinfo");
    host->h = bigger;
    host->h[host->n++] = *h;
    return 0;
}

/* One mountinfo line: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE
 * SUPEROPTS". Returns 0 with *out filled (mountpoint NULL when the line is
 * not a cgroup mount or repeats a superblock already seen). */
static int parse_mount_line(char *line, const char *prefix, char seen[][32], size_t *n_seen,
                            struct cg_hierarchy *out, husk_error_t *err)
{
    memset(out, 0, sizeof *out);
    char *fields[6];
    char *save = NULL;
    char *tok = strtok_r(line, " ", &save);
    for (int i = 0; i < 6; i++) {
        if (tok == NULL)
            return 0;
        fields[i] = tok;
        tok = strtok_r(NULL, " ", &save);
    }
    while (tok != NULL && strcmp(tok, "-") != 0)
        tok = strtok_r(NULL, " ", &save);
    char *fstype = strtok_r(NULL, " ", &save);
    char *source = strtok_r(NULL, " ", &save);
    char *superopts = strtok_r(NULL, " \n", &save);
    if (fstype == NULL || source == NULL || superopts == NULL)
        return 0;
    bool v2 = strcmp(fstype, "cgroup2") == 0;
    if (!v2 && strcmp(fstype, "cgroup") != 0)
        return 0;

    /* A hierarchy bind-mounted twice is one hierarchy: key on the superblock. */
    for (size_t i = 0; i < *n_seen; i++)
        if (strcmp(seen[i], fields[2]) == 0)
            return 0;
    if (*n_seen < 64)
        snprintf(seen[(*n_seen)++], 32, "%s", fields[2]);

    unescape_octal(fields[4]);
    if (asprintf(&out->mountpoint, "%s%s", prefix, fields[4]) < 0) {
        out->mountpoint = NULL;
        return husk_error_set(err, ENOMEM, "parse mountinfo");
    }
    out->v2 = v2;
    if (v2) {
        out->controllers = v2_controllers_at(out->mountpoint);
        /* A read-only cgroup2 tree (e.g. inside another container) cannot
         * hold our cgroup; mark it unusable by clearing the mountpoint. */
        if (has_option(fields[5], "ro") || access(out->mountpoint, W_OK) < 0) {
            free(out->mountpoint);
            out->mountpoint = NULL;
        }
    } else {
        out->controllers = v1_controllers_of(superopts, &out->name);
    }
    return 0;
}

int cg_host_parse(const char *mountinfo, const char *prefix, struct cg_host *out,
                  husk_error_t *err)
{
    memset(out, 0, sizeof *out);
    cleanup_free char *text = strdup(mountinfo);
    if (text == NULL)
        return husk_error_set(err, ENOMEM, "parse mountinfo");
    char seen[64][32];
    size_t n_seen = 0;
    bool any_v1 = false, any_v2 = false;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        struct cg_hierarchy h;
        if (parse_mount_line(line, prefix, seen, &n_seen, &h, err) < 0) {
            cg_host_clear(out);
            return -1;
        }
        if (h.mountpoint == NULL)
            continue;
        if (h.v2) {
            if (any_v2) { /* only one cgroup2 tree is ever used */
                free(h.mountpoint);
                continue;
            }
            any_v2 = true;
        } else {
            any_v1 = true;
        }
        if (host_add(out, &h, err) < 0) {
            free(h.mountpoint);
            free(h.name);
            cg_host_clear(out);
            return -1;
        }
    }
    if (any_v1 && any_v2)
        out->layout = HUSK_CGROUP_LAYOUT_HYBRID;
    else if (any_v1)
        out->layout = HUSK_CGROUP_LAYOUT_V1;
    else if (any_v2)
        out->layout = HUSK_CGROUP_LAYOUT_V2;
    else
        out->layout = HUSK_CGROUP_LAYOUT_NONE;
    return 0;
}

int cg_host_get(const struct cg_host **out, husk_error_t *err)
{
    if (!cached_host_valid) {
        cleanup_free char *path = NULL;
        cleanup_free char *text = NULL;
        const char *prefix = testing_root != NULL ? testing_root : "";
        if (asprintf(&path, "%s/proc/self/mountinfo", prefix) < 0)
            return husk_error_set(err, ENOMEM, "cgroup layout");
        if (husk_read_file(path, &text, NULL, err) < 0)
            return husk_error_wrap(err, "detect the cgroup layout");
        if (cg_host_parse(text, prefix, &cached_host, err) < 0)
            return -1;
        cached_host_valid = true;
    }
    *out = &cached_host;
    return 0;
}

const struct cg_hierarchy *cg_host_find(const struct cg_host *host, uint32_t bit)
{
    for (size_t i = 0; i < host->n; i++)
        if (host->h[i].controllers & bit)
            return &host->h[i];
    return NULL;
}

int husk_cgroup_layout(enum husk_cgroup_layout *out, husk_error_t *err)
{
    const struct cg_host *host;
    if (cg_host_get(&host, err) < 0)
        return -1;
    *out = host->layout;
    return 0;
}

/* ---------- names and paths ---------- */

int husk_cgroup_manager_parse(const char *name, enum husk_cgroup_manager *out,
                              husk_error_t *err)
{
    static const struct {
        const char *name;
        enum husk_cgroup_manager m;
    } names[] = {
        {"cgroupfs", HUSK_CGROUP_CGROUPFS},
        {"systemd", HUSK_CGROUP_SYSTEMD},
        {"disabled", HUSK_CGROUP_DISABLED},
    };
    for (size_t i = 0; name != NULL && i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(names[i].name, name) == 0) {
            *out = names[i].m;
            return 0;
        }
    }
    return husk_error_set(err, EINVAL,
                          "--cgroup-manager: unknown manager `%s` (cgroupfs, systemd, disabled)",
                          name != NULL ? name : "");
}

const char *husk_cgroup_manager_name(enum husk_cgroup_manager m)
{
    switch (m) {
    case HUSK_CGROUP_SYSTEMD:
        return "systemd";
    case HUSK_CGROUP_DISABLED:
        return "disabled";
    case HUSK_CGROUP_CGROUPFS:
        break;
    }
    return "cgroupfs";
}

/* Joins the components of raw onto "/" dropping empty and "." ones;
 * refuses "..". */
static int normalise_path(const char *raw, const char *field, char **out, husk_error_t *err)
{
    size_t len = strlen(raw);
    cleanup_free char *buf = malloc(len + 2);
    cleanup_free char *copy = strdup(raw);
    if (buf == NULL || copy == NULL)
        return husk_error_set(err, ENOMEM, "%s", field);
    size_t used = 0;
    char *save = NULL;
    for (char *c = strtok_r(copy, "/", &save); c != NULL; c = strtok_r(NULL, "/", &save)) {
        if (strcmp(c, ".") == 0)
            continue;
        if (strcmp(c, "..") == 0)
            return husk_error_set(err, EINVAL,
                                  "%s `%s`: `..` components are not allowed", field, raw);
        buf[used++] = '/';
        memcpy(buf + used, c, strlen(c));
        used += strlen(c);
    }
    if (used == 0)
        return husk_error_set(err, EINVAL,
                              "%s `%s`: names the cgroup root, which husk will not take over",
                              field, raw);
    buf[used] = '\0';
    *out = steal_pointer(&buf);
    return 0;
}

int husk_cgroup_compute_path(const char *id, const char *cgroups_path, char **out,
                             husk_error_t *err)
{
    if (cgroups_path != NULL && cgroups_path[0] != '\0')
        return normalise_path(cgroups_path, "linux.cgroupsPath", out, err);
    if (id == NULL || id[0] == '\0' || strchr(id, '/') != NULL || strcmp(id, ".") == 0 ||
        strcmp(id, "..") == 0)
        return husk_error_set(err, EINVAL, "container id `%s`: not usable as a cgroup name",
                              id != NULL ? id : "");
    return normalise_path(id, "container id", out, err);
}

/* ---------- the handle ---------- */

struct cg_dir *cg_dir_for(husk_cgroup *cg, uint32_t bit)
{
    for (size_t i = 0; i < cg->n_dirs; i++)
        if (cg->dirs[i].h->controllers & bit)
            return &cg->dirs[i];
    return NULL;
}

struct cg_dir *cg_dir_v2(husk_cgroup *cg)
{
    for (size_t i = 0; i < cg->n_dirs; i++)
        if (cg->dirs[i].h->v2)
            return &cg->dirs[i];
    return NULL;
}

void husk_cgroup_free(husk_cgroup *cg)
{
    if (cg == NULL)
        return;
    for (size_t i = 0; i < cg->n_dirs; i++) {
        husk_close_fd(&cg->dirs[i].fd);
        free(cg->dirs[i].abs);
    }
    free(cg->dirs);
    free(cg->path);
    cg_systemd_free(cg->sd);
    free(cg);
}

void husk_cgroup_free_ptr(husk_cgroup **cg)
{
    husk_cgroup_free(*cg);
    *cg = NULL;
}

static int new_handle(enum husk_cgroup_manager manager, const char *path, husk_cgroup **out,
                      husk_error_t *err)
{
    cleanup_cgroup husk_cgroup *cg = calloc(1, sizeof *cg);
    if (cg == NULL)
        return husk_error_set(err, ENOMEM, "cgroup handle");
    cg->manager = manager;
    if (manager == HUSK_CGROUP_DISABLED) {
        *out = steal_pointer(&cg);
        return 0;
    }
    cg->path = strdup(path);
    if (cg->path == NULL)
        return husk_error_set(err, ENOMEM, "cgroup handle");

    const struct cg_host *host;
    if (cg_host_get(&host, err) < 0)
        return -1;
    if (host->layout == HUSK_CGROUP_LAYOUT_NONE)
        return husk_error_set(err, ENOENT, "cgroup `%s`: no cgroup filesystem is mounted", path);
    cg->layout = host->layout;
    cg->dirs = calloc(host->n, sizeof *cg->dirs);
    if (cg->dirs == NULL)
        return husk_error_set(err, ENOMEM, "cgroup handle");
    for (size_t i = 0; i < host->n; i++) {
        struct cg_dir *d = &cg->dirs[cg->n_dirs++];
        d->h = &host->h[i];
        d->fd = -1;
        if (asprintf(&d->abs, "%s%s", d->h->mountpoint, path) < 0) {
            d->abs = NULL;
            return husk_error_set(err, ENOMEM, "cgroup handle");
        }
    }
    *out = steal_pointer(&cg);
    return 0;
}

const char *husk_cgroup_path(const husk_cgroup *cg)
{
    return cg != NULL ? cg->path : NULL;
}

int husk_cgroup_v2_fd(husk_cgroup *cg)
{
    if (cg == NULL || cg->layout != HUSK_CGROUP_LAYOUT_V2)
        return -1;
    /* A scope is made with its first process in it (husk_cgroup_enter). */
    if (cg->manager == HUSK_CGROUP_SYSTEMD && (cg->sd == NULL || !cg->sd->started))
        return -1;
    struct cg_dir *d = cg_dir_v2(cg);
    return d != NULL ? d->fd : -1;
}

/* ---------- control files ---------- */

int cg_open_control(int dirfd, const char *abs, const char *file, husk_error_t *err)
{
    int flags = O_WRONLY | O_CLOEXEC;
    if (cg_testing())
        flags |= O_CREAT | O_TRUNC;
    int fd = openat(dirfd, file, flags, 0644);
    if (fd < 0)
        return husk_error_set(err, errno, "open `%s/%s`", abs, file);
    return fd;
}

int cg_write_value(int fd, const char *abs, const char *file, const char *value,
                   husk_error_t *err)
{
    /* One write() per value: the kernel parses each write as one value, so
     * an fd can take several (devices.allow rules) in a row. */
    size_t len = strlen(value);
    ssize_t n = write(fd, value, len);
    if (n < 0)
        return husk_error_set(err, errno, "write `%s` to `%s/%s`", value, abs, file);
    if ((size_t)n != len)
        return husk_error_set(err, EIO, "write `%s` to `%s/%s`: short write", value, abs, file);
    if (cg_testing()) /* keep a fake file readable as one value per line */
        (void)!write(fd, "\n", 1);
    return 0;
}

int cg_write_fd(int dirfd, const char *abs, const char *file, const char *value,
                husk_error_t *err)
{
    cleanup_close int fd = cg_open_control(dirfd, abs, file, err);
    if (fd < 0)
        return -1;
    return cg_write_value(fd, abs, file, value, err);
}

int cg_read_fd(int dirfd, const char *abs, const char *file, char **out, husk_error_t *err)
{
    if (husk_read_file_at(dirfd, file, out, NULL, NULL) < 0)
        return husk_error_set(err, errno, "read `%s/%s`", abs, file);
    return 0;
}

static int dir_missing(const struct cg_dir *d, husk_error_t *err)
{
    return husk_error_set(err, ENOENT, "cgroup `%s` does not exist", d->abs);
}

int cg_write(const struct cg_dir *d, const char *file, const char *value, husk_error_t *err)
{
    if (d->fd < 0)
        return dir_missing(d, err);
    return cg_write_fd(d->fd, d->abs, file, value, err);
}

int cg_read(const struct cg_dir *d, const char *file, char **out, husk_error_t *err)
{
    if (d->fd < 0)
        return dir_missing(d, err);
    return cg_read_fd(d->fd, d->abs, file, out, err);
}

/* ---------- removal ---------- */

/* Removes abs and every cgroup below it, deepest first. A cgroup with a
 * just-killed process lingers a moment (EBUSY): retry briefly. */
static int remove_tree(const char *abs, husk_error_t *err)
{
    DIR *dir = opendir(abs);
    if (dir == NULL) {
        if (errno == ENOENT)
            return 0;
        return husk_error_set(err, errno, "open cgroup `%s`", abs);
    }
    cleanup_dir DIR *owned = dir;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (de->d_type == DT_DIR) {
            cleanup_free char *sub = NULL;
            if (asprintf(&sub, "%s/%s", abs, de->d_name) < 0)
                return husk_error_set(err, ENOMEM, "remove cgroup `%s`", abs);
            if (remove_tree(sub, err) < 0)
                return -1;
        } else if (cg_testing() && de->d_type == DT_REG) {
            /* A fake tree holds the control files as plain files. */
            unlinkat(dirfd(dir), de->d_name, 0);
        }
    }
    for (unsigned attempt = 0;; attempt++) {
        if (rmdir(abs) == 0 || errno == ENOENT)
            return 0;
        if (errno != EBUSY || attempt >= 40)
            return husk_error_set(err, errno, "remove cgroup `%s`", abs);
        cg_short_sleep(attempt);
    }
}

/* Removes the components create() made in d, deepest first. */
static void remove_created(struct cg_dir *d)
{
    husk_close_fd(&d->fd);
    cleanup_free char *path = strdup(d->abs);
    if (path == NULL)
        return;
    for (int i = 0; i < d->created; i++) {
        remove_tree(path, NULL);
        char *slash = strrchr(path, '/');
        if (slash == NULL)
            break;
        *slash = '\0';
    }
    d->created = 0;
}

int husk_cgroup_destroy(husk_cgroup *cg, husk_error_t *err)
{
    if (cg == NULL || cg->manager == HUSK_CGROUP_DISABLED)
        return 0;
    if (cg->manager == HUSK_CGROUP_SYSTEMD) {
        /* A scope systemd never accepted from us (UnitExists: someone
         * else's) is not ours to stop or remove. */
        if (cg->sd == NULL || !cg->sd->started)
            return 0;
        if (cg_sd_stop_unit(cg->sd->unit, err) < 0)
            return husk_error_wrap(err, "remove cgroup `%s`", cg->path);
        /* systemd removes the scope's cgroup with the scope; what the
         * container made below it goes the usual way if anything is left. */
    }
    int ret = 0;
    for (size_t i = 0; i < cg->n_dirs; i++) {
        husk_close_fd(&cg->dirs[i].fd);
        /* Keep going on failure so one stuck hierarchy does not leave the
         * others behind; report the first error. */
        if (remove_tree(cg->dirs[i].abs, ret == 0 ? err : NULL) < 0 && ret == 0)
            ret = -1;
    }
    if (ret < 0)
        return husk_error_wrap(err, "remove cgroup `%s`", cg->path);
    return 0;
}

/* ---------- creation ---------- */

static bool has_processes(int fd)
{
    cleanup_free char *procs = NULL;
    if (husk_read_file_at(fd, "cgroup.procs", &procs, NULL, NULL) < 0)
        return false; /* a fake tree has none; a real cgroup always does */
    return strspn(procs, " \n") != strlen(procs);
}

static int check_unused(struct cg_dir *d, husk_error_t *err)
{
    if (d->created == 0 && has_processes(d->fd))
        return husk_error_set(err, EBUSY, "cgroup `%s` already has processes in it", d->abs);
    return 0;
}

/* mkdir -p of path under d's mountpoint, one component at a time through
 * dir fds; records how many components it made, initialises v1 cpusets it
 * made, and on v2 enables v2_wanted in every ancestor's subtree_control. */
static int make_dir_walk(struct cg_dir *d, const char *path, uint32_t v2_wanted,
                         husk_error_t *err)
{
    const char *mnt = d->h->mountpoint;
    cleanup_close int parent = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (parent < 0)
        return husk_error_set(err, errno, "open cgroup hierarchy `%s`", mnt);
    cleanup_free char *parent_abs = strdup(mnt);
    cleanup_free char *copy = strdup(path);
    if (parent_abs == NULL || copy == NULL)
        return husk_error_set(err, ENOMEM, "create cgroup `%s`", d->abs);

    char *save = NULL;
    for (char *c = strtok_r(copy, "/", &save); c != NULL; c = strtok_r(NULL, "/", &save)) {
        if (d->h->v2 && v2_wanted != 0 &&
            cg_v2_enable_controllers(parent, parent_abs, v2_wanted, err) < 0)
            return -1;
        cleanup_free char *abs = NULL;
        if (asprintf(&abs, "%s/%s", parent_abs, c) < 0)
            return husk_error_set(err, ENOMEM, "create cgroup `%s`", d->abs);
        bool made = mkdirat(parent, c, 0755) == 0;
        if (!made && errno != EEXIST)
            return husk_error_set(err, errno, "create cgroup `%s`", abs);
        if (made)
            d->created++;
        else if (d->created > 0) /* someone raced us in a dir we made: still ours */
            d->created++;
        int fd = openat(parent, c, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
            return husk_error_set(err, errno, "open cgroup `%s`", abs);
        if (made && (d->h->controllers & CG_CPUSET) && !d->h->v2 &&
            cg_v1_init_cpuset(parent, parent_abs, fd, abs, err) < 0) {
            close(fd);
            return -1;
        }
        close(parent);
        parent = fd;
        free(parent_abs);
        parent_abs = steal_pointer(&abs);
    }
    d->fd = steal_fd(&parent);
    return check_unused(d, err);
}

/* The common case costs two syscalls per hierarchy: mkdir of the leaf (its
 * parents exist) and an open. Missing parents, and v2 trees whose ancestors
 * need controllers enabled, take the walk one component at a time. */
static int make_dir(struct cg_dir *d, const char *path, uint32_t v2_wanted, husk_error_t *err)
{
    if (d->h->v2 && v2_wanted != 0)
        return make_dir_walk(d, path, v2_wanted, err);
    bool made = mkdir(d->abs, 0755) == 0;
    if (!made && errno == ENOENT)
        return make_dir_walk(d, path, v2_wanted, err);
    if (!made && errno != EEXIST)
        return husk_error_set(err, errno, "create cgroup `%s`", d->abs);
    if (made)
        d->created = 1;
    d->fd = open(d->abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (d->fd < 0)
        return husk_error_set(err, errno, "open cgroup `%s`", d->abs);
    if (made && (d->h->controllers & CG_CPUSET) && !d->h->v2) {
        cleanup_free char *parent_abs = strdup(d->abs);
        if (parent_abs == NULL)
            return husk_error_set(err, ENOMEM, "create cgroup `%s`", d->abs);
        *strrchr(parent_abs, '/') = '\0';
        cleanup_close int parent = open(parent_abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (parent < 0)
            return husk_error_set(err, errno, "open cgroup `%s`", parent_abs);
        if (cg_v1_init_cpuset(parent, parent_abs, d->fd, d->abs, err) < 0)
            return -1;
    }
    return check_unused(d, err);
}

static uint32_t v2_controllers_to_enable(const struct cg_host *host,
                                         const ocispec_resources *res)
{
    const struct cg_hierarchy *v2 = NULL;
    for (size_t i = 0; i < host->n; i++)
        if (host->h[i].v2)
            v2 = &host->h[i];
    if (v2 == NULL)
        return 0;
    /* Pure v2: every controller the host offers, so limits, stats and later
     * updates work. Hybrid: only what the resources need, so husk changes
     * the shared tree no more than it must. */
    if (host->layout == HUSK_CGROUP_LAYOUT_V2)
        return v2->controllers & ~(uint32_t)CG_PERF_EVENT;
    return cg_v2_needed_controllers(res) & v2->controllers;
}

/* ---------- the systemd driver (cgroup_systemd.c does the D-Bus side) ---------- */

static int systemd_host_ok(const struct cg_host *host, husk_error_t *err)
{
    if (cg_sd_check_running(err) < 0)
        return -1;
    /* Hybrid and v1 hosts would need the scope's cgroup in every v1
     * hierarchy kept in step with systemd's; husk does not do that. */
    if (host->layout != HUSK_CGROUP_LAYOUT_V2)
        return husk_error_plain(err, ENOTSUP,
                                "the systemd cgroup manager needs a pure cgroup v2 host; this "
                                "host has %s cgroups (use --cgroup-manager cgroupfs)",
                                host->layout == HUSK_CGROUP_LAYOUT_HYBRID ? "hybrid v1+v2"
                                : host->layout == HUSK_CGROUP_LAYOUT_V1   ? "v1"
                                                                          : "no");
    return 0;
}

static int attach_systemd(husk_cgroup *cg, const char *unit, const char *slice, bool started,
                          husk_error_t *err)
{
    cg->sd = calloc(1, sizeof *cg->sd);
    if (cg->sd == NULL)
        return husk_error_set(err, ENOMEM, "cgroup handle");
    cg->sd->unit = strdup(unit);
    cg->sd->slice = slice != NULL ? strdup(slice) : NULL;
    cg->sd->started = started;
    if (cg->sd->unit == NULL || (slice != NULL && cg->sd->slice == NULL))
        return husk_error_set(err, ENOMEM, "cgroup handle");
    return 0;
}

/* Validates and computes only: the scope needs a process to exist, so
 * husk_cgroup_enter starts it. */
static int create_systemd(const char *id, const char *cgroups_path, const ocispec_resources *res,
                          husk_cgroup **out, husk_error_t *err)
{
    /* The path first: a config error is worth reporting on any host. */
    struct cg_sd_path p;
    if (cg_sd_parse_path(id, cgroups_path, &p, err) < 0)
        return -1;
    const struct cg_host *host;
    cleanup_cgroup husk_cgroup *cg = NULL;
    int ret = cg_host_get(&host, err);
    if (ret == 0)
        ret = systemd_host_ok(host, err);
    if (ret == 0)
        ret = new_handle(HUSK_CGROUP_SYSTEMD, p.cgroup_path, &cg, err);
    if (ret == 0)
        ret = attach_systemd(cg, p.unit, p.slice, false, err);
    if (ret == 0)
        ret = cg_translate(res, host, true, &cg->sd->writes, err);
    /* the kernel's default period: the cgroup is new */
    if (ret == 0)
        ret = cg_sd_props_from_writes(&cg->sd->writes, 100000, &cg->sd->props, err);
    cg_sd_path_clear(&p);
    if (ret < 0)
        return -1;
    *out = steal_pointer(&cg);
    return 0;
}

/* Enables, from the hierarchy's root down to the scope's parent, the
 * controllers the remaining writes need that systemd does not manage
 * (hugetlb, rdma, misc): Delegate= only hands over the ones it knows. */
static int enable_unmanaged_controllers(husk_cgroup *cg, struct cg_dir *d,
                                        const struct cg_writes *w, husk_error_t *err)
{
    uint32_t wanted = 0;
    for (size_t i = 0; i < w->n; i++)
        wanted |= w->v[i].controller;
    cleanup_free char *have_text = NULL;
    if (cg_read(d, "cgroup.controllers", &have_text, err) < 0)
        return -1;
    uint32_t have = 0;
    char *save = NULL;
    for (char *t = strtok_r(have_text, " \n", &save); t != NULL; t = strtok_r(NULL, " \n", &save))
        have |= cg_controller_bit(t);
    if ((wanted & ~have) == 0)
        return 0;
    cleanup_free char *walk = strdup(cg->path);
    if (walk == NULL)
        return husk_error_set(err, ENOMEM, "cgroup `%s`", d->abs);
    *strrchr(walk, '/') = '\0'; /* stop at the scope's parent */
    cleanup_free char *abs = strdup(d->h->mountpoint);
    cleanup_close int fd = open(d->h->mountpoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (abs == NULL || fd < 0)
        return husk_error_set(err, abs == NULL ? ENOMEM : errno, "open `%s`", d->h->mountpoint);
    char *c = walk;
    for (;;) {
        if (cg_v2_enable_controllers(fd, abs, wanted & ~have, err) < 0)
            return -1;
        while (*c == '/')
            c++;
        if (*c == '\0')
            return 0;
        size_t len = strcspn(c, "/");
        cleanup_free char *name = strndup(c, len);
        cleanup_free char *sub_abs = NULL;
        if (name == NULL || asprintf(&sub_abs, "%s/%s", abs, name) < 0)
            return husk_error_set(err, ENOMEM, "cgroup `%s`", d->abs);
        int sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (sub < 0)
            return husk_error_set(err, errno, "open cgroup `%s`", sub_abs);
        close(fd);
        fd = sub;
        free(abs);
        abs = steal_pointer(&sub_abs);
        c += len;
    }
}

static int start_systemd_scope(husk_cgroup *cg, pid_t pid, husk_error_t *err)
{
    struct cg_systemd *sd = cg->sd;
    if (cg_sd_start_scope(sd->unit, sd->slice, pid, &sd->props, &sd->started, err) < 0)
        return -1;
    struct cg_dir *d = cg_dir_v2(cg);
    if (d == NULL)
        return husk_error_plain(err, ENOTSUP, "systemd scope `%s`: no cgroup v2 tree", sd->unit);
    d->fd = open(d->abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (d->fd < 0)
        return husk_error_set(err, errno, "systemd started `%s`, but its cgroup `%s` is not there",
                              sd->unit, d->abs);
    if (enable_unmanaged_controllers(cg, d, &sd->writes, err) < 0 ||
        cg_apply_writes(cg, &sd->writes, err) < 0)
        return husk_error_wrap(err, "systemd scope `%s`", sd->unit);
    cg_writes_clear(&sd->writes);
    cg_sd_props_clear(&sd->props);
    return 0;
}

static int load_systemd(const char *path, husk_cgroup **out, husk_error_t *err)
{
    cleanup_free char *unit = NULL;
    if (cg_sd_unit_of_path(path, &unit, err) < 0)
        return -1;
    cleanup_cgroup husk_cgroup *cg = NULL;
    if (new_handle(HUSK_CGROUP_SYSTEMD, path, &cg, err) < 0 ||
        attach_systemd(cg, unit, NULL, true, err) < 0)
        return -1;
    *out = steal_pointer(&cg);
    return 0;
}

/* The period a cpu.max write without one keeps: the scope's current one. */
static uint64_t current_cpu_period(husk_cgroup *cg)
{
    struct cg_dir *d = cg_dir_v2(cg);
    cleanup_free char *text = NULL;
    unsigned long long period = 0;
    if (d == NULL || d->fd < 0 || cg_read(d, "cpu.max", &text, NULL) < 0 ||
        sscanf(text, "%*s %llu", &period) != 1 || period == 0)
        return 100000;
    return period;
}

/* Properties first, so systemd holds the limits before the files show
 * them; the writes then make them visible at once. */
static int update_systemd_props(husk_cgroup *cg, struct cg_writes *w, husk_error_t *err)
{
    struct cg_sd_props props;
    if (cg_sd_props_from_writes(w, current_cpu_period(cg), &props, err) < 0)
        return -1;
    int ret = cg_sd_set_properties(cg->sd->unit, &props, err);
    cg_sd_props_clear(&props);
    return ret;
}

int husk_cgroup_create(enum husk_cgroup_manager manager, const char *id,
                       const char *cgroups_path, const ocispec_resources *res,
                       husk_cgroup **out, husk_error_t *err)
{
    if (manager == HUSK_CGROUP_SYSTEMD)
        return create_systemd(id, cgroups_path, res, out, err);
    if (manager == HUSK_CGROUP_DISABLED)
        return new_handle(manager, NULL, out, err);

    cleanup_free char *path = NULL;
    if (husk_cgroup_compute_path(id, cgroups_path, &path, err) < 0)
        return -1;
    const struct cg_host *host;
    if (cg_host_get(&host, err) < 0)
        return -1;

    /* Translate (and so validate) before touching the host: bad input
     * leaves nothing behind. */
    struct cg_writes writes = {0};
    if (cg_translate(res, host, true, &writes, err) < 0)
        return -1;

    cleanup_cgroup husk_cgroup *cg = NULL;
    int ret = new_handle(manager, path, &cg, err);
    uint32_t v2_wanted = v2_controllers_to_enable(host, res);
    for (size_t i = 0; ret == 0 && i < cg->n_dirs; i++)
        ret = make_dir(&cg->dirs[i], path, v2_wanted, err);
    if (ret == 0)
        ret = cg_apply_writes(cg, &writes, err);
    cg_writes_clear(&writes);
    if (ret < 0) {
        for (size_t i = 0; cg != NULL && i < cg->n_dirs; i++)
            remove_created(&cg->dirs[i]);
        return husk_error_wrap(err, "create cgroup `%s`", path);
    }
    *out = steal_pointer(&cg);
    return 0;
}

int husk_cgroup_load(enum husk_cgroup_manager manager, const char *path, husk_cgroup **out,
                     husk_error_t *err)
{
    if (manager == HUSK_CGROUP_DISABLED || path == NULL)
        return new_handle(HUSK_CGROUP_DISABLED, NULL, out, err);
    if (path[0] != '/')
        return husk_error_set(err, EINVAL, "cgroup path `%s` in the state is not absolute", path);
    cleanup_free char *norm = NULL;
    if (normalise_path(path, "cgroup path", &norm, err) < 0)
        return -1;
    cleanup_cgroup husk_cgroup *cg = NULL;
    if (manager == HUSK_CGROUP_SYSTEMD ? load_systemd(norm, &cg, err) < 0
                                       : new_handle(manager, norm, &cg, err) < 0)
        return -1;
    for (size_t i = 0; i < cg->n_dirs; i++) {
        struct cg_dir *d = &cg->dirs[i];
        d->fd = open(d->abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d->fd < 0 && errno != ENOENT)
            return husk_error_set(err, errno, "open cgroup `%s`", d->abs);
    }
    *out = steal_pointer(&cg);
    return 0;
}

/* ---------- processes ---------- */

static int refuse_disabled(husk_cgroup *cg, const char *what, husk_error_t *err)
{
    if (cg == NULL || cg->manager == HUSK_CGROUP_DISABLED)
        return husk_error_set(err, ENOTSUP, "%s: the container runs without cgroups "
                                            "(--cgroup-manager disabled)", what);
    return 0;
}

int husk_cgroup_enter(husk_cgroup *cg, pid_t pid, husk_error_t *err)
{
    if (cg == NULL || cg->manager == HUSK_CGROUP_DISABLED)
        return 0;
    if (cg->manager == HUSK_CGROUP_SYSTEMD && !cg->sd->started) {
        if (start_systemd_scope(cg, pid, err) < 0)
            return husk_error_wrap(err, "move process %d into its cgroup", (int)pid);
        return 0;
    }
    char buf[32];
    snprintf(buf, sizeof buf, "%d", (int)pid);
    for (size_t i = 0; i < cg->n_dirs; i++)
        if (cg_write(&cg->dirs[i], "cgroup.procs", buf, err) < 0)
            return husk_error_wrap(err, "move process %d into its cgroup", (int)pid);
    return 0;
}

/* The dir to list processes from: v2 when it is the whole story, else the
 * v1 hierarchy least likely to be missing. */
static struct cg_dir *procs_dir(husk_cgroup *cg)
{
    if (cg->layout == HUSK_CGROUP_LAYOUT_V2)
        return cg_dir_v2(cg);
    static const uint32_t order[] = {CG_PIDS, CG_FREEZER, CG_MEMORY, CG_CPU, CG_DEVICES};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        struct cg_dir *d = cg_dir_for(cg, order[i]);
        if (d != NULL && !d->h->v2)
            return d;
    }
    for (size_t i = 0; i < cg->n_dirs; i++)
        if (!cg->dirs[i].h->v2)
            return &cg->dirs[i];
    return cg->n_dirs > 0 ? &cg->dirs[0] : NULL;
}

struct pid_list {
    pid_t *v;
    size_t n, cap;
};

static int pid_list_add_text(struct pid_list *l, const char *text, const char *abs,
                             husk_error_t *err)
{
    for (const char *p = text; *p != '\0';) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p)
            break;
        if (v <= 0)
            return husk_error_set(err, EINVAL, "`%s/cgroup.procs`: bad pid %ld", abs, v);
        if (l->n == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 16;
            pid_t *bigger = realloc(l->v, cap * sizeof *bigger);
            if (bigger == NULL)
                return husk_error_set(err, ENOMEM, "list pids of `%s`", abs);
            l->v = bigger;
            l->cap = cap;
        }
        l->v[l->n++] = (pid_t)v;
        p = end;
    }
    return 0;
}

static int collect_pids(int fd, const char *abs, struct pid_list *l, husk_error_t *err)
{
    cleanup_free char *text = NULL;
    if (cg_read_fd(fd, abs, "cgroup.procs", &text, err) < 0)
        return -1;
    if (pid_list_add_text(l, text, abs, err) < 0)
        return -1;
    int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return husk_error_set(err, errno, "open cgroup `%s`", abs);
    cleanup_dir DIR *dir = fdopendir(dfd);
    if (dir == NULL) {
        close(dfd);
        return husk_error_set(err, errno, "open cgroup `%s`", abs);
    }
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        cleanup_close int sub = openat(dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sub < 0) {
            if (errno == ENOENT) /* removed while we walked */
                continue;
            return husk_error_set(err, errno, "open cgroup `%s/%s`", abs, de->d_name);
        }
        cleanup_free char *sub_abs = NULL;
        if (asprintf(&sub_abs, "%s/%s", abs, de->d_name) < 0)
            return husk_error_set(err, ENOMEM, "list pids of `%s`", abs);
        if (collect_pids(sub, sub_abs, l, err) < 0)
            return -1;
    }
    return 0;
}

static int cmp_pid(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

int husk_cgroup_pids(husk_cgroup *cg, pid_t **pids, size_t *n, husk_error_t *err)
{
    if (refuse_disabled(cg, "list the container's processes", err) < 0)
        return -1;
    *pids = NULL;
    *n = 0;
    struct cg_dir *d = procs_dir(cg);
    if (d == NULL || d->fd < 0)
        return 0; /* no cgroup left: no process left */
    struct pid_list l = {0};
    if (collect_pids(d->fd, d->abs, &l, err) < 0) {
        free(l.v);
        return -1;
    }
    qsort(l.v, l.n, sizeof *l.v, cmp_pid);
    size_t out = 0;
    for (size_t i = 0; i < l.n; i++)
        if (out == 0 || l.v[out - 1] != l.v[i])
            l.v[out++] = l.v[i];
    if (out == 0) {
        free(l.v);
        l.v = NULL;
    }
    *pids = l.v;
    *n = out;
    return 0;
}

/* ---------- freezer ---------- */

/* v1 freezer where mounted (what v1 tools look at), else the cgroup2
 * freezer, which also works on hybrid hosts. */
static struct cg_dir *freezer_dir(husk_cgroup *cg, bool *v2)
{
    struct cg_dir *d = cg->layout != HUSK_CGROUP_LAYOUT_V2 ? cg_dir_for(cg, CG_FREEZER) : NULL;
    if (d != NULL && !d->h->v2) {
        *v2 = false;
        return d;
    }
    *v2 = true;
    return cg_dir_v2(cg);
}

int husk_cgroup_freeze(husk_cgroup *cg, bool frozen, husk_error_t *err)
{
    if (refuse_disabled(cg, frozen ? "pause" : "resume", err) < 0)
        return -1;
    bool v2;
    struct cg_dir *d = freezer_dir(cg, &v2);
    if (d == NULL)
        return husk_error_set(err, ENOTSUP, "cgroup `%s`: no freezer on this host", cg->path);
    return v2 ? cg_v2_freeze(d, frozen, err) : cg_v1_freeze(d, frozen, err);
}

int husk_cgroup_is_frozen(husk_cgroup *cg, bool *frozen, husk_error_t *err)
{
    *frozen = false;
    if (cg == NULL || cg->manager == HUSK_CGROUP_DISABLED)
        return 0;
    bool v2;
    struct cg_dir *d = freezer_dir(cg, &v2);
    if (d == NULL || d->fd < 0)
        return 0;
    return v2 ? cg_v2_is_frozen(d, frozen, err) : cg_v1_is_frozen(d, frozen, err);
}

/* ---------- kill ---------- */

static int signal_all(husk_cgroup *cg, int sig, husk_error_t *err)
{
    pid_t *pids = NULL;
    size_t n = 0;
    if (husk_cgroup_pids(cg, &pids, &n, err) < 0)
        return -1;
    int ret = 0;
    for (size_t i = 0; i < n; i++) {
        if (kill(pids[i], sig) < 0 && errno != ESRCH && ret == 0)
            ret = husk_error_set(err, errno, "send signal %d to process %d", sig, (int)pids[i]);
    }
    free(pids);
    return ret;
}

int husk_cgroup_kill(husk_cgroup *cg, int sig, husk_error_t *err)
{
    if (refuse_disabled(cg, "kill the container's processes", err) < 0)
        return -1;
    /* cgroup.kill is atomic against forks. On hybrid hosts it takes every
     * process husk placed (they are in the cgroup2 directory too), and the
     * v1 sweep below still catches a process someone put in a v1 hierarchy
     * only. */
    if (sig == SIGKILL) {
        struct cg_dir *d = cg_dir_v2(cg);
        int r = d != NULL && d->fd >= 0 ? cg_v2_kill(d, err) : 0;
        if (r < 0)
            return -1;
        if (r > 0 && cg->layout == HUSK_CGROUP_LAYOUT_V2)
            return 0;
    }
    /* Freeze first so no process can fork a child we would miss. */
    bool v2, was_frozen = false, froze = false;
    struct cg_dir *fz = freezer_dir(cg, &v2);
    if (fz != NULL && fz->fd >= 0) {
        if (husk_cgroup_is_frozen(cg, &was_frozen, err) < 0)
            return -1;
        if (!was_frozen) {
            if (husk_cgroup_freeze(cg, true, err) < 0)
                return husk_error_wrap(err, "kill the container's processes");
            froze = true;
        }
    }
    int ret = signal_all(cg, sig, err);
    if (froze) {
        husk_error_t thaw_err = NULL;
        if (husk_cgroup_freeze(cg, false, ret == 0 ? err : &thaw_err) < 0 && ret == 0)
            ret = -1;
        husk_error_free(&thaw_err);
    }
    return ret;
}

/* ---------- update ---------- */

int husk_cgroup_update(husk_cgroup *cg, const ocispec_resources *res, husk_error_t *err)
{
    if (refuse_disabled(cg, "update the container's resources", err) < 0)
        return -1;
    if (res == NULL)
        return 0;
    const struct cg_host *host;
    if (cg_host_get(&host, err) < 0)
        return -1;
    struct cg_writes writes = {0};
    if (cg_translate(res, host, res->devices != NULL, &writes, err) < 0)
        return -1;

    int ret = 0;
    const ocispec_memory *mem = res->memory;
    if (mem != NULL && mem->has_check_before_update && mem->check_before_update &&
        mem->has_limit && mem->limit > 0) {
        struct cg_dir *d = cg_dir_for(cg, CG_MEMORY);
        cleanup_free char *usage = NULL;
        const char *file = d != NULL && d->h->v2 ? "memory.current" : "memory.usage_in_bytes";
        if (d != NULL && cg_read(d, file, &usage, err) < 0)
            ret = -1;
        else if (usage != NULL && strtoll(usage, NULL, 10) > mem->limit)
            ret = husk_error_set(err, EBUSY,
                                 "linux.resources.memory.limit: %lld is below the current usage "
                                 "%lld (checkBeforeUpdate)",
                                 (long long)mem->limit, strtoll(usage, NULL, 10));
    }
    if (ret == 0 && cg->manager == HUSK_CGROUP_SYSTEMD)
        ret = update_systemd_props(cg, &writes, err);
    if (ret == 0)
        ret = cg_apply_writes(cg, &writes, err);
    cg_writes_clear(&writes);
    if (ret < 0)
        return husk_error_wrap(err, "update cgroup `%s`", cg->path);
    return 0;
}
