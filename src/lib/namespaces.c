#include "namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/nsfs.h>
#include <net/if.h>
#include <sys/socket.h>

#include "syscalls.h"
#include "utils.h"

static const struct {
    const char *type;
    int flag;
} ns_table[] = {
    { "pid", CLONE_NEWPID },   { "network", CLONE_NEWNET }, { "mount", CLONE_NEWNS },
    { "ipc", CLONE_NEWIPC },   { "uts", CLONE_NEWUTS },     { "user", CLONE_NEWUSER },
    { "cgroup", CLONE_NEWCGROUP }, { "time", CLONE_NEWTIME },
};

int husk_ns_flag(const char *type)
{
    for (size_t i = 0; i < sizeof(ns_table) / sizeof(ns_table[0]); i++)
        if (type != NULL && strcmp(ns_table[i].type, type) == 0)
            return ns_table[i].flag;
    return 0;
}

static int open_ns_path(size_t i, const char *path, int flag, husk_error_t *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return husk_error_set(err, errno, "linux.namespaces[%zu]: open `%s`", i, path);
    int type = ioctl(fd, NS_GET_NSTYPE);
    if (type < 0 || type != flag) {
        close(fd);
        return husk_error_set(err, 0,
                              "linux.namespaces[%zu]: `%s` is not a namespace of that type", i,
                              path);
    }
    return fd;
}

int husk_ns_plan_build(const ocispec_linux *linux, husk_ns_plan *plan, husk_error_t *err)
{
    memset(plan, 0, sizeof(*plan));
    plan->pid_join_fd = -1;
    if (linux == NULL)
        return husk_error_set(err, 0, "linux.namespaces: a mount namespace is required");
    uint64_t seen = 0;
    for (size_t i = 0; i < linux->namespaces_len; i++) {
        const ocispec_namespace *ns = &linux->namespaces[i];
        int flag = husk_ns_flag(ns->type);
        if (flag == 0) {
            husk_ns_plan_close(plan);
            return husk_error_set(err, 0, "linux.namespaces[%zu].type: unknown namespace `%s`",
                                  i, ns->type ? ns->type : "");
        }
        if (seen & (uint64_t) flag) {
            husk_ns_plan_close(plan);
            return husk_error_set(err, 0, "linux.namespaces[%zu]: `%s` given twice", i,
                                  ns->type);
        }
        seen |= (uint64_t) flag;
        if (flag == CLONE_NEWTIME) {
            husk_ns_plan_close(plan);
            return husk_error_set(err, 0,
                                  "linux.namespaces[%zu]: time namespaces are not supported yet", i);
        }
        if (ns->path == NULL || ns->path[0] == '\0') {
            if (flag == CLONE_NEWCGROUP)
                plan->unshare_cgroup = true;
            else
                plan->clone_flags |= (uint64_t) flag;
            if (flag == CLONE_NEWUSER)
                plan->new_user = true;
            continue;
        }
        int fd = open_ns_path(i, ns->path, flag, err);
        if (fd < 0) {
            husk_ns_plan_close(plan);
            return -1;
        }
        if (flag == CLONE_NEWPID) {
            plan->pid_join_fd = fd;
            continue;
        }
        /* The user namespace goes first: joining it grants the capabilities
         * the other setns() calls need. */
        size_t at = plan->n_join;
        if (flag == CLONE_NEWUSER) {
            memmove(&plan->join_fd[1], &plan->join_fd[0], at * sizeof(int));
            memmove(&plan->join_flag[1], &plan->join_flag[0], at * sizeof(int));
            at = 0;
        }
        plan->join_fd[at] = fd;
        plan->join_flag[at] = flag;
        plan->n_join++;
    }
    /* The rootfs is built with mounts and pivot_root: in the host's own
     * mount namespace that would rearrange the host. */
    if (!(seen & CLONE_NEWNS)) {
        husk_ns_plan_close(plan);
        return husk_error_set(err, 0, "linux.namespaces: a mount namespace is required");
    }
    return 0;
}

int husk_ns_join(const husk_ns_plan *plan, husk_error_t *err)
{
    for (size_t i = 0; i < plan->n_join; i++)
        if (setns(plan->join_fd[i], plan->join_flag[i]) < 0)
            return husk_error_set(err, errno, "join namespace (setns type %#x)",
                                  (unsigned) plan->join_flag[i]);
    return 0;
}

static int write_map(pid_t pid, const char *file, const ocispec_id_mapping *m, size_t n,
                     husk_error_t *err)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, file);
    char buf[4096];
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(buf + used, sizeof(buf) - used, "%u %u %u\n", m[i].container_id,
                         m[i].host_id, m[i].size);
        if (w < 0 || (size_t) w >= sizeof(buf) - used)
            return husk_error_set(err, E2BIG, "write `%s`: too many mappings", path);
        used += (size_t) w;
    }
    cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, buf, used) != (ssize_t) used)
        return husk_error_set(err, errno, "write `%s`", path);
    return 0;
}

int husk_ns_write_id_maps(pid_t pid, const ocispec_linux *linux, husk_error_t *err)
{
    if (linux == NULL || linux->uid_mappings_len == 0 || linux->gid_mappings_len == 0)
        return husk_error_set(err, 0,
                              "linux.uidMappings/gidMappings: required with a new user namespace");
    if (write_map(pid, "uid_map", linux->uid_mappings, linux->uid_mappings_len, err) < 0)
        return husk_error_wrap(err, "linux.uidMappings");
    if (write_map(pid, "gid_map", linux->gid_mappings, linux->gid_mappings_len, err) < 0)
        return husk_error_wrap(err, "linux.gidMappings");
    return 0;
}

void husk_ns_plan_close(husk_ns_plan *plan)
{
    for (size_t i = 0; i < plan->n_join; i++)
        if (plan->join_fd[i] >= 0)
            close(plan->join_fd[i]);
    plan->n_join = 0;
    if (plan->pid_join_fd >= 0)
        close(plan->pid_join_fd);
    plan->pid_join_fd = -1;
}

int husk_ns_loopback_up(husk_error_t *err)
{
    cleanup_close int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0)
        return husk_error_set(err, errno, "bring `lo` up: socket");
    struct ifreq ifr = { .ifr_name = "lo" };
    if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
        return husk_error_set(err, errno, "bring `lo` up: read its flags");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
        return husk_error_set(err, errno, "bring `lo` up");
    return 0;
}
