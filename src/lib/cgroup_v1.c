/* cgroup v1: resource files, cpuset initialisation, the v1 freezer.
 * File names and formats follow the kernel's
 * Documentation/admin-guide/cgroup-v1/. */
#define _GNU_SOURCE
#include "cgroup_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utils.h"

#define F "linux.resources."

#define ADD(ctrl, field, flags, file, ...)                                                     \
    do {                                                                                       \
        if (cg_writes_add(out, (ctrl), F field, (flags), (file), __VA_ARGS__) < 0)             \
            return husk_error_set(err, ENOMEM, "resources");                                   \
    } while (0)

static int v1_memory(const ocispec_memory *m, struct cg_writes *out, husk_error_t *err)
{
    /* limit and memsw must keep memsw >= limit at every step; which goes
     * first depends on the current values, so both retry on EINVAL. */
    if (m->has_limit && m->limit != 0)
        ADD(CG_MEMORY, "memory.limit", CGW_RETRY_LATER, "memory.limit_in_bytes", "%lld",
            (long long)m->limit);
    if (m->has_swap && m->swap != 0)
        ADD(CG_MEMORY, "memory.swap", CGW_RETRY_LATER, "memory.memsw.limit_in_bytes", "%lld",
            (long long)m->swap);
    if (m->has_reservation && m->reservation != 0)
        ADD(CG_MEMORY, "memory.reservation", 0, "memory.soft_limit_in_bytes", "%lld",
            (long long)m->reservation);
    /* Deprecated by the runtime spec; recent kernels refuse the write. */
    if (m->has_kernel && m->kernel != 0)
        ADD(CG_MEMORY, "memory.kernel", CGW_OBSOLETE, "memory.kmem.limit_in_bytes", "%lld",
            (long long)m->kernel);
    if (m->has_kernel_tcp && m->kernel_tcp != 0)
        ADD(CG_MEMORY, "memory.kernelTCP", 0, "memory.kmem.tcp.limit_in_bytes", "%lld",
            (long long)m->kernel_tcp);
    if (m->has_swappiness)
        ADD(CG_MEMORY, "memory.swappiness", 0, "memory.swappiness", "%llu",
            (unsigned long long)m->swappiness);
    if (m->has_disable_oom_killer)
        ADD(CG_MEMORY, "memory.disableOOMKiller", 0, "memory.oom_control", "%d",
            m->disable_oom_killer ? 1 : 0);
    if (m->has_use_hierarchy)
        ADD(CG_MEMORY, "memory.useHierarchy", 0, "memory.use_hierarchy", "%d",
            m->use_hierarchy ? 1 : 0);
    return 0;
}

static int v1_cpu(const ocispec_cpu *c, uint32_t ctrls, struct cg_writes *out, husk_error_t *err)
{
    if (ctrls & CG_CPU) {
        if (c->has_shares && c->shares != 0)
            ADD(CG_CPU, "cpu.shares", 0, "cpu.shares", "%llu", (unsigned long long)c->shares);
        /* period before quota (quota is read against it), burst last (it
         * must not exceed quota); EINVAL retries cover a shrinking period. */
        if (c->has_period && c->period != 0)
            ADD(CG_CPU, "cpu.period", CGW_RETRY_LATER, "cpu.cfs_period_us", "%llu",
                (unsigned long long)c->period);
        if (c->has_quota && c->quota != 0)
            ADD(CG_CPU, "cpu.quota", CGW_RETRY_LATER, "cpu.cfs_quota_us", "%lld",
                (long long)c->quota);
        if (c->has_burst)
            ADD(CG_CPU, "cpu.burst", CGW_RETRY_LATER, "cpu.cfs_burst_us", "%llu",
                (unsigned long long)c->burst);
        if (c->has_realtime_period && c->realtime_period != 0)
            ADD(CG_CPU, "cpu.realtimePeriod", CGW_RETRY_LATER, "cpu.rt_period_us", "%llu",
                (unsigned long long)c->realtime_period);
        if (c->has_realtime_runtime && c->realtime_runtime != 0)
            ADD(CG_CPU, "cpu.realtimeRuntime", CGW_RETRY_LATER, "cpu.rt_runtime_us", "%lld",
                (long long)c->realtime_runtime);
        if (c->has_idle)
            ADD(CG_CPU, "cpu.idle", 0, "cpu.idle", "%lld", (long long)c->idle);
    }
    if (ctrls & CG_CPUSET) {
        if (c->cpus != NULL && c->cpus[0] != '\0')
            ADD(CG_CPUSET, "cpu.cpus", 0, "cpuset.cpus", "%s", c->cpus);
        if (c->mems != NULL && c->mems[0] != '\0')
            ADD(CG_CPUSET, "cpu.mems", 0, "cpuset.mems", "%s", c->mems);
    }
    return 0;
}

static int v1_throttle(const char *field, const char *file, const ocispec_throttle_device *t,
                       size_t n, struct cg_writes *out, husk_error_t *err)
{
    for (size_t i = 0; i < n; i++)
        if (cg_writes_add(out, CG_BLKIO, field, 0, file, "%lld:%lld %llu", (long long)t[i].major,
                          (long long)t[i].minor, (unsigned long long)t[i].rate) < 0)
            return husk_error_set(err, ENOMEM, "resources");
    return 0;
}

static int v1_block_io(const ocispec_block_io *b, struct cg_writes *out, husk_error_t *err)
{
    /* CFQ's blkio.weight went with CFQ (5.0); BFQ offers the same knob under
     * its own name. */
    if (b->has_weight && b->weight != 0) {
        ADD(CG_BLKIO, "blockIO.weight", 0, "blkio.weight", "%u", b->weight);
        cg_writes_set_alt(out, "blkio.bfq.weight");
    }
    if (b->has_leaf_weight && b->leaf_weight != 0)
        ADD(CG_BLKIO, "blockIO.leafWeight", 0, "blkio.leaf_weight", "%u", b->leaf_weight);
    for (size_t i = 0; i < b->weight_device_len; i++) {
        const ocispec_weight_device *d = &b->weight_device[i];
        if (d->has_weight) {
            ADD(CG_BLKIO, "blockIO.weightDevice", 0, "blkio.weight_device", "%lld:%lld %u",
                (long long)d->major, (long long)d->minor, d->weight);
            cg_writes_set_alt(out, "blkio.bfq.weight_device");
        }
        if (d->has_leaf_weight)
            ADD(CG_BLKIO, "blockIO.weightDevice", 0, "blkio.leaf_weight_device", "%lld:%lld %u",
                (long long)d->major, (long long)d->minor, d->leaf_weight);
    }
    if (v1_throttle(F "blockIO.throttleReadBpsDevice", "blkio.throttle.read_bps_device",
                    b->throttle_read_bps_device, b->throttle_read_bps_device_len, out, err) < 0 ||
        v1_throttle(F "blockIO.throttleWriteBpsDevice", "blkio.throttle.write_bps_device",
                    b->throttle_write_bps_device, b->throttle_write_bps_device_len, out, err) < 0 ||
        v1_throttle(F "blockIO.throttleReadIOPSDevice", "blkio.throttle.read_iops_device",
                    b->throttle_read_iops_device, b->throttle_read_iops_device_len, out, err) < 0 ||
        v1_throttle(F "blockIO.throttleWriteIOPSDevice", "blkio.throttle.write_iops_device",
                    b->throttle_write_iops_device, b->throttle_write_iops_device_len, out, err) < 0)
        return -1;
    return 0;
}

static int v1_hugetlb(const ocispec_resources *res, struct cg_writes *out, husk_error_t *err)
{
    for (size_t i = 0; i < res->hugepage_limits_len; i++) {
        const ocispec_hugepage_limit *h = &res->hugepage_limits[i];
        char file[64];
        snprintf(file, sizeof file, "hugetlb.%s.limit_in_bytes", h->page_size);
        ADD(CG_HUGETLB, "hugepageLimits", 0, file, "%llu", (unsigned long long)h->limit);
    }
    return 0;
}

static int v1_network(const ocispec_network *n, uint32_t ctrls, struct cg_writes *out,
                      husk_error_t *err)
{
    if ((ctrls & CG_NET_CLS) && n->has_class_id)
        ADD(CG_NET_CLS, "network.classID", 0, "net_cls.classid", "%u", n->class_id);
    if (ctrls & CG_NET_PRIO)
        for (size_t i = 0; i < n->priorities_len; i++)
            ADD(CG_NET_PRIO, "network.priorities", 0, "net_prio.ifpriomap", "%s %u",
                n->priorities[i].name, n->priorities[i].priority);
    return 0;
}

static int v1_rdma(const ocispec_resources *res, uint32_t controller, struct cg_writes *out,
                   husk_error_t *err)
{
    for (size_t i = 0; i < res->rdma_len; i++) {
        const ocispec_rdma *r = &res->rdma[i];
        char handles[32] = "max", objects[32] = "max";
        if (r->has_hca_handles)
            snprintf(handles, sizeof handles, "%u", r->hca_handles);
        if (r->has_hca_objects)
            snprintf(objects, sizeof objects, "%u", r->hca_objects);
        ADD(controller, "rdma", 0, "rdma.max", "%s hca_handle=%s hca_object=%s", r->device,
            handles, objects);
    }
    return 0;
}

static void device_number(char *buf, size_t size, int64_t v)
{
    if (v < 0)
        snprintf(buf, size, "*");
    else
        snprintf(buf, size, "%lld", (long long)v);
}

/* One write per rule, in order: the kernel applies them as they come. */
static int v1_devices(const ocispec_resources *res, struct cg_writes *out, husk_error_t *err)
{
    cleanup_free struct cg_dev_rule *rules = NULL;
    size_t n = 0;
    if (cg_device_rules(res, &rules, &n) < 0)
        return husk_error_set(err, ENOMEM, "resources");
    for (size_t i = 0; i < n; i++) {
        const struct cg_dev_rule *r = &rules[i];
        const char *file = r->allow ? "devices.allow" : "devices.deny";
        if (r->type == 'a') {
            /* v1 treats "a" as everything, whatever numbers follow */
            ADD(CG_DEVICES, "devices", 0, file, "a");
            continue;
        }
        char major[24], minor[24], access[4];
        size_t k = 0;
        device_number(major, sizeof major, r->major);
        device_number(minor, sizeof minor, r->minor);
        if (r->access & CG_DEV_READ)
            access[k++] = 'r';
        if (r->access & CG_DEV_WRITE)
            access[k++] = 'w';
        if (r->access & CG_DEV_MKNOD)
            access[k++] = 'm';
        access[k] = '\0';
        ADD(CG_DEVICES, "devices", 0, file, "%c %s:%s %s", r->type, major, minor, access);
    }
    return 0;
}

int cg_v1_translate(const ocispec_resources *res, uint32_t ctrls, bool include_devices,
                    struct cg_writes *out, husk_error_t *err)
{
    if (res->memory != NULL && (ctrls & CG_MEMORY) && v1_memory(res->memory, out, err) < 0)
        return -1;
    if (res->cpu != NULL && (ctrls & (CG_CPU | CG_CPUSET)) && v1_cpu(res->cpu, ctrls, out, err) < 0)
        return -1;
    if (res->pids != NULL && res->pids->has_limit && (ctrls & CG_PIDS)) {
        /* 0 and -1 both mean "no limit" (runtime-spec pids.limit). */
        if (res->pids->limit > 0)
            ADD(CG_PIDS, "pids.limit", 0, "pids.max", "%lld", (long long)res->pids->limit);
        else
            ADD(CG_PIDS, "pids.limit", 0, "pids.max", "max");
    }
    if (res->block_io != NULL && (ctrls & CG_BLKIO) && v1_block_io(res->block_io, out, err) < 0)
        return -1;
    if ((ctrls & CG_HUGETLB) && v1_hugetlb(res, out, err) < 0)
        return -1;
    if (res->network != NULL && v1_network(res->network, ctrls, out, err) < 0)
        return -1;
    if ((ctrls & CG_RDMA) && v1_rdma(res, CG_RDMA, out, err) < 0)
        return -1;
    if ((ctrls & CG_DEVICES) && (include_devices || res->devices != NULL) &&
        v1_devices(res, out, err) < 0)
        return -1;
    return 0;
}

/* ---------- cpuset ---------- */

/* A new v1 cpuset starts with empty cpus and mems, and the kernel refuses
 * tasks in it until they are set: copy the parent's. */
int cg_v1_init_cpuset(int parentfd, const char *parent_abs, int fd, const char *abs,
                      husk_error_t *err)
{
    static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
    for (size_t i = 0; i < 2; i++) {
        cleanup_free char *value = NULL;
        if (cg_read_fd(parentfd, parent_abs, files[i], &value, err) < 0)
            return -1;
        value[strcspn(value, "\n")] = '\0';
        if (value[0] == '\0')
            return husk_error_set(err, EINVAL, "`%s/%s` is empty: no cpus/mems to give `%s`",
                                  parent_abs, files[i], abs);
        if (cg_write_fd(fd, abs, files[i], value, err) < 0)
            return -1;
    }
    return 0;
}

/* ---------- freezer ---------- */

int cg_v1_is_frozen(struct cg_dir *d, bool *frozen, husk_error_t *err)
{
    cleanup_free char *state = NULL;
    if (cg_read(d, "freezer.state", &state, err) < 0)
        return -1;
    /* FREEZING counts as frozen: a pause is in progress or stuck. */
    *frozen = strncmp(state, "THAWED", 6) != 0;
    return 0;
}

/* Writes the state and waits for the kernel to finish the transition
 * (FREEZING -> FROZEN). Re-writing FROZEN nudges tasks that were in an
 * uninterruptible sleep when the first request came. */
int cg_v1_freeze(struct cg_dir *d, bool frozen, husk_error_t *err)
{
    const char *want = frozen ? "FROZEN" : "THAWED";
    for (unsigned attempt = 0; attempt < 200; attempt++) {
        if (attempt % 10 == 0 && cg_write(d, "freezer.state", want, err) < 0)
            return -1;
        cleanup_free char *state = NULL;
        if (cg_read(d, "freezer.state", &state, err) < 0)
            return -1;
        if (strncmp(state, want, strlen(want)) == 0)
            return 0;
        cg_short_sleep(attempt);
    }
    if (frozen)
        cg_write(d, "freezer.state", "THAWED", NULL);
    return husk_error_set(err, ETIMEDOUT, "`%s/freezer.state` did not reach %s", d->abs, want);
}
