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

/* The kernel's limit on the lines of one uid_map or gid_map (since 4.15). */
#define ID_MAP_MAX_LINES 340

static bool ranges_overlap(uint64_t a, uint64_t a_len, uint64_t b, uint64_t b_len)
{
    return a < b + b_len && b < a + a_len;
}

int husk_ns_check_id_mappings(const char *field, const ocispec_id_mapping *m, size_t n,
                              husk_error_t *err)
{
    if (n > ID_MAP_MAX_LINES)
        return husk_error_set(err, 0, "%s: %zu ranges, the kernel takes at most %d", field, n,
                              ID_MAP_MAX_LINES);
    for (size_t i = 0; i < n; i++) {
        if (m[i].size == 0)
            return husk_error_set(err, 0, "%s[%zu].size: must be at least 1", field, i);
        /* Ids are 32 bits and (uid_t)-1 means "no id": a range may not reach it. */
        if ((uint64_t) m[i].container_id + m[i].size > UINT32_MAX)
            return husk_error_set(err, 0, "%s[%zu]: containerID %u + size %u runs past the id space",
                                  field, i, m[i].container_id, m[i].size);
        if ((uint64_t) m[i].host_id + m[i].size > UINT32_MAX)
            return husk_error_set(err, 0, "%s[%zu]: hostID %u + size %u runs past the id space",
                                  field, i, m[i].host_id, m[i].size);
        for (size_t j = 0; j < i; j++) {
            if (ranges_overlap(m[j].container_id, m[j].size, m[i].container_id, m[i].size))
                return husk_error_set(err, 0, "%s[%zu] and %s[%zu]: their containerID ranges overlap",
                                      field, j, field, i);
            if (ranges_overlap(m[j].host_id, m[j].size, m[i].host_id, m[i].size))
                return husk_error_set(err, 0, "%s[%zu] and %s[%zu]: their hostID ranges overlap",
                                      field, j, field, i);
        }
    }
    return 0;
}

/* Mappings only mean something for a user namespace husk makes (a joined
 * one has its maps already), and a new one is useless without both. */
static int check_user_config(const ocispec_linux *linux, const husk_ns_plan *plan,
                             husk_error_t *err)
{
    bool any = linux->uid_mappings_len > 0 || linux->gid_mappings_len > 0;
    if (any && !plan->new_user)
        return husk_error_set(err, 0,
                              "linux.%s: needs a new user namespace (a `user` entry without "
                              "a path in linux.namespaces)",
                              linux->uid_mappings_len > 0 ? "uidMappings" : "gidMappings");
    if (!plan->new_user)
        return 0;
    if (linux->uid_mappings_len == 0 || linux->gid_mappings_len == 0)
        return husk_error_set(err, 0,
                              "linux.uidMappings/gidMappings: required with a new user namespace");
    if (husk_ns_check_id_mappings("linux.uidMappings", linux->uid_mappings,
                                  linux->uid_mappings_len, err) < 0 ||
        husk_ns_check_id_mappings("linux.gidMappings", linux->gid_mappings,
                                  linux->gid_mappings_len, err) < 0)
        return -1;
    return 0;
}

/* Room for both clocks' lines with the widest numbers. */
#define TIME_OFFSETS_TEXT_MAX 256

static int check_time_config(const ocispec_linux *linux, const husk_ns_plan *plan,
                             husk_error_t *err)
{
    /* A joined namespace already runs processes: its offsets are frozen. */
    if (linux->time_offsets_len > 0 && !plan->new_time)
        return husk_error_set(err, 0,
                              "linux.timeOffsets: needs a new time namespace (a `time` entry "
                              "without a path in linux.namespaces)");
    char text[TIME_OFFSETS_TEXT_MAX];
    return husk_ns_format_time_offsets(linux, text, sizeof(text), err);
}

int husk_ns_format_time_offsets(const ocispec_linux *linux, char *buf, size_t len,
                                husk_error_t *err)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; linux != NULL && i < linux->time_offsets_len; i++) {
        const ocispec_time_offset *o = &linux->time_offsets[i];
        const char *clock = o->clock ? o->clock : "";
        if (strcmp(clock, "monotonic") != 0 && strcmp(clock, "boottime") != 0)
            return husk_error_set(err, 0,
                                  "linux.timeOffsets: unknown clock `%s` (monotonic or boottime)",
                                  clock);
        for (size_t j = 0; j < i; j++)
            if (strcmp(linux->time_offsets[j].clock, clock) == 0)
                return husk_error_set(err, 0, "linux.timeOffsets.%s: given twice", clock);
        if (o->nanosecs > 999999999)
            return husk_error_set(err, 0,
                                  "linux.timeOffsets.%s.nanosecs: %u is not below 1000000000",
                                  clock, o->nanosecs);
        int w = snprintf(buf + used, len - used, "%s %lld %u\n", clock, (long long) o->secs,
                         o->nanosecs);
        if (w < 0 || (size_t) w >= len - used)
            return husk_error_set(err, E2BIG, "linux.timeOffsets: too long");
        used += (size_t) w;
    }
    return 0;
}

int husk_ns_time_prepare(const ocispec_linux *linux, int *restore_fd, husk_error_t *err)
{
    char text[TIME_OFFSETS_TEXT_MAX];
    if (husk_ns_format_time_offsets(linux, text, sizeof(text), err) < 0)
        return -1;
    cleanup_close int own = open("/proc/self/ns/time", O_RDONLY | O_CLOEXEC);
    if (own < 0)
        return husk_error_set(err, errno, "open `/proc/self/ns/time`");
    /* unshare() moves only time_for_children: this process keeps its clocks,
     * and the namespace stays empty (its offsets writable) until clone3. It
     * belongs to husk's user namespace, so husk (CAP_SYS_TIME there) writes
     * the offsets even when the container gets a user namespace of its own,
     * whose root could not open this non-dumpable process's files. */
    if (unshare(CLONE_NEWTIME) < 0)
        return husk_error_set(err, errno, "linux.namespaces: make a new time namespace");
    size_t n = strlen(text);
    if (n > 0) {
        cleanup_close int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, text, n) != (ssize_t) n) {
            int saved = errno;
            setns(own, CLONE_NEWTIME);
            return husk_error_set(err, saved, "linux.timeOffsets: write `/proc/self/timens_offsets`");
        }
    }
    *restore_fd = steal_fd(&own);
    return 0;
}

int husk_ns_time_restore(int restore_fd, husk_error_t *err)
{
    if (setns(restore_fd, CLONE_NEWTIME) < 0)
        return husk_error_set(err, errno, "return to husk's own time namespace");
    return 0;
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
        if (ns->path == NULL || ns->path[0] == '\0') {
            if (flag == CLONE_NEWCGROUP)
                plan->unshare_cgroup = true;
            else if (flag == CLONE_NEWTIME)
                plan->new_time = true;
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
    if (check_user_config(linux, plan, err) < 0 || check_time_config(linux, plan, err) < 0) {
        husk_ns_plan_close(plan);
        return -1;
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
    char buf[ID_MAP_MAX_LINES * sizeof("4294967295 4294967295 4294967295\n")];
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

int husk_ns_write_maps(pid_t pid, const char *owner, const ocispec_id_mapping *uid, size_t n_uid,
                       const ocispec_id_mapping *gid, size_t n_gid, husk_error_t *err)
{
    if (write_map(pid, "uid_map", uid, n_uid, err) < 0)
        return husk_error_wrap(err, "%s.uidMappings", owner);
    if (write_map(pid, "gid_map", gid, n_gid, err) < 0)
        return husk_error_wrap(err, "%s.gidMappings", owner);
    return 0;
}

int husk_ns_write_id_maps(pid_t pid, const ocispec_linux *linux, husk_error_t *err)
{
    if (linux == NULL || linux->uid_mappings_len == 0 || linux->gid_mappings_len == 0)
        return husk_error_set(err, 0,
                              "linux.uidMappings/gidMappings: required with a new user namespace");
    return husk_ns_write_maps(pid, "linux", linux->uid_mappings, linux->uid_mappings_len,
                              linux->gid_mappings, linux->gid_mappings_len, err);
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
