#include "idmap_mount.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "namespaces.h"
#include "rootfs.h"
#include "syscalls.h"
#include "utils.h"

static bool has_option(const ocispec_mount *m, const char *name)
{
    for (size_t i = 0; i < m->options_len; i++)
        if (m->options[i] != NULL && strcmp(m->options[i], name) == 0)
            return true;
    return false;
}

static bool is_bind_mount(const ocispec_mount *m)
{
    return has_option(m, "bind") || has_option(m, "rbind") ||
           (m->type != NULL && strcmp(m->type, "bind") == 0);
}

int husk_idmap_mount_request(const ocispec_mount *m, size_t idx, bool *wanted, bool *recursive,
                             husk_error_t *err)
{
    bool own_maps = m->uid_mappings_len > 0 || m->gid_mappings_len > 0;
    *recursive = has_option(m, "ridmap");
    *wanted = own_maps || *recursive || has_option(m, "idmap");
    if (!*wanted)
        return 0;
    const char *what = own_maps ? "uidMappings/gidMappings" : *recursive ? "`ridmap`" : "`idmap`";
    if (!is_bind_mount(m))
        return husk_error_set(err, 0,
                              "mounts[%zu]: %s: only for bind mounts, not type `%s` (on `%s`)", idx,
                              what, m->type ? m->type : "", m->destination ? m->destination : "");
    if (own_maps && (m->uid_mappings_len == 0 || m->gid_mappings_len == 0))
        return husk_error_set(err, 0, "mounts[%zu]: %s given without %s", idx,
                              m->uid_mappings_len ? "uidMappings" : "gidMappings",
                              m->uid_mappings_len ? "gidMappings" : "uidMappings");
    return 0;
}

/* A user namespace holding the given maps, as an fd: a child made in a new
 * one waits on a pipe while husk writes its maps and opens its namespace,
 * then exits. The namespace lives on through the fd. */
static int userns_with_maps(const char *owner, const ocispec_id_mapping *uid, size_t n_uid,
                            const ocispec_id_mapping *gid, size_t n_gid, int *out,
                            husk_error_t *err)
{
    int hold[2];
    if (pipe2(hold, O_CLOEXEC) < 0)
        return husk_error_set(err, errno, "%s: pipe for an id-mapping helper", owner);
    struct husk_clone_args args = { .flags = CLONE_NEWUSER, .exit_signal = SIGCHLD };
    pid_t pid = husk_clone3(&args, sizeof(args));
    if (pid == 0) {
        char c;
        close(hold[1]);
        /* EOF once husk is done with us (or has died). */
        while (read(hold[0], &c, 1) < 0 && errno == EINTR)
            ;
        _exit(0);
    }
    int saved = errno;
    close(hold[0]);
    if (pid < 0) {
        close(hold[1]);
        return husk_error_set(err, saved, "%s: make a user namespace for the mapping", owner);
    }
    int ret = husk_ns_write_maps(pid, owner, uid, n_uid, gid, n_gid, err);
    if (ret == 0) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/user", (int) pid);
        *out = open(path, O_RDONLY | O_CLOEXEC);
        if (*out < 0)
            ret = husk_error_set(err, errno, "%s: open `%s`", owner, path);
    }
    close(hold[1]);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    return ret;
}

static int open_one(const ocispec_config *config, const char *bundle, bool new_user, size_t idx,
                    bool recursive, int *out, husk_error_t *err)
{
    const ocispec_mount *m = &config->mounts[idx];
    const ocispec_linux *lx = config->linux;
    char owner[48];
    snprintf(owner, sizeof(owner), "mounts[%zu]", idx);

    const ocispec_id_mapping *uid = m->uid_mappings, *gid = m->gid_mappings;
    size_t n_uid = m->uid_mappings_len, n_gid = m->gid_mappings_len;
    if (n_uid == 0) {
        /* runtime-spec: without its own mappings, the mount takes the
         * container's user namespace mappings. */
        if (!new_user || lx == NULL)
            return husk_error_set(err, 0,
                                  "%s: idmapped without uidMappings/gidMappings, which then "
                                  "come from the container's user namespace, and it has none",
                                  owner);
        uid = lx->uid_mappings, n_uid = lx->uid_mappings_len;
        gid = lx->gid_mappings, n_gid = lx->gid_mappings_len;
        snprintf(owner, sizeof(owner), "linux");
    } else {
        char field[64];
        snprintf(field, sizeof(field), "%s.uidMappings", owner);
        if (husk_ns_check_id_mappings(field, uid, n_uid, err) < 0)
            return -1;
        snprintf(field, sizeof(field), "%s.gidMappings", owner);
        if (husk_ns_check_id_mappings(field, gid, n_gid, err) < 0)
            return -1;
    }
    if (m->source == NULL)
        return husk_error_set(err, 0, "mounts[%zu].source: required for a bind mount", idx);
    cleanup_free char *src = husk_rootfs_bind_source(bundle, m->source);
    if (src == NULL)
        return husk_error_set(err, ENOMEM, "mounts[%zu].source", idx);

    unsigned int tree_flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC;
    if (has_option(m, "rbind"))
        tree_flags |= AT_RECURSIVE;
    cleanup_close int mnt = husk_open_tree(AT_FDCWD, src, tree_flags);
    if (mnt < 0)
        return husk_error_set(err, errno, "mounts[%zu]: idmapped bind mount of `%s`", idx,
                              m->source);
    cleanup_close int userns = -1;
    if (userns_with_maps(owner, uid, n_uid, gid, n_gid, &userns, err) < 0)
        return husk_error_wrap(err, "mounts[%zu]: idmapped bind mount of `%s`", idx, m->source);
    struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t) userns };
    unsigned int at = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
    if (syscall(__NR_mount_setattr, mnt, "", at, &attr, sizeof(attr)) < 0) {
        if (errno == EINVAL)
            return husk_error_set(err, EINVAL,
                                  "mounts[%zu]: idmap `%s`: its filesystem (or one mounted "
                                  "under it) does not support idmapped mounts",
                                  idx, m->source);
        return husk_error_set(err, errno, "mounts[%zu]: idmap `%s`", idx, m->source);
    }
    *out = steal_fd(&mnt);
    return 0;
}

int husk_idmap_mounts_open(const ocispec_config *config, const char *bundle, bool new_user,
                           husk_idmap_mounts *out, husk_error_t *err)
{
    out->n = 0;
    out->fd = NULL;
    for (size_t i = 0; i < config->mounts_len; i++) {
        bool wanted, recursive;
        if (husk_idmap_mount_request(&config->mounts[i], i, &wanted, &recursive, err) < 0) {
            husk_idmap_mounts_close(out);
            return -1;
        }
        if (!wanted)
            continue;
        if (out->fd == NULL) {
            out->fd = malloc(config->mounts_len * sizeof(int));
            if (out->fd == NULL)
                return husk_error_set(err, ENOMEM, "idmapped mounts");
            out->n = config->mounts_len;
            for (size_t k = 0; k < out->n; k++)
                out->fd[k] = -1;
        }
        if (open_one(config, bundle, new_user, i, recursive, &out->fd[i], err) < 0) {
            husk_idmap_mounts_close(out);
            return -1;
        }
    }
    return 0;
}

void husk_idmap_mounts_close(husk_idmap_mounts *m)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->fd[i] >= 0)
            close(m->fd[i]);
    free(m->fd);
    m->fd = NULL;
    m->n = 0;
}

/* The init's copy of husk's table: one process, one container. */
static husk_idmap_mounts *in_use;

void husk_idmap_mounts_use(husk_idmap_mounts *m)
{
    in_use = m;
}

int husk_idmap_mount_take(size_t idx)
{
    if (in_use == NULL || idx >= in_use->n)
        return -1;
    return steal_fd(&in_use->fd[idx]);
}

int husk_idmap_mount_attach(int mount_fd, int target_fd, const char *destination, size_t idx,
                            husk_error_t *err)
{
    cleanup_close int mnt = mount_fd;
    if (husk_move_mount(mnt, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
        0)
        return husk_error_set(err, errno, "mounts[%zu]: put the idmapped mount on `%s`", idx,
                              destination);
    return 0;
}
