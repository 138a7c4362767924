/* cgroup v2: resource files (with the documented v1 -> v2 conversions),
 * controller delegation down the tree, cgroup.freeze and cgroup.kill.
 * File names and formats follow the kernel's
 * Documentation/admin-guide/cgroup-v2.rst. */
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

static int unsupported(husk_error_t *err, const char *field)
{
    return husk_error_set(err, ENOTSUP, F "%s: has no cgroup v2 equivalent", field);
}

static void max_or_value(char *buf, size_t size, int64_t v)
{
    if (v < 0)
        snprintf(buf, size, "max");
    else
        snprintf(buf, size, "%lld", (long long)v);
}

static int v2_memory(const ocispec_memory *m, struct cg_writes *out, husk_error_t *err)
{
    char buf[32];
    if (m->has_limit && m->limit != 0) {
        max_or_value(buf, sizeof buf, m->limit);
        ADD(CG_MEMORY, "memory.limit", 0, "memory.max", "%s", buf);
    }
    if (m->has_reservation && m->reservation != 0) {
        max_or_value(buf, sizeof buf, m->reservation);
        ADD(CG_MEMORY, "memory.reservation", 0, "memory.low", "%s", buf);
    }
    /* OCI swap is memory+swap; v2 limits swap alone. */
    if (m->has_swap && m->swap != 0) {
        if (m->swap < 0)
            snprintf(buf, sizeof buf, "max");
        else if (!m->has_limit || m->limit <= 0)
            snprintf(buf, sizeof buf, "%lld", (long long)m->swap);
        else
            snprintf(buf, sizeof buf, "%lld", (long long)(m->swap - m->limit));
        ADD(CG_MEMORY, "memory.swap", 0, "memory.swap.max", "%s", buf);
    }
    /* memory.kernel: deprecated by the spec and gone from the kernel; the
     * v2 memory controller accounts kernel memory with the rest. */
    if (m->has_kernel_tcp && m->kernel_tcp != 0)
        return unsupported(err, "memory.kernelTCP");
    if (m->has_swappiness)
        return unsupported(err, "memory.swappiness");
    if (m->has_disable_oom_killer && m->disable_oom_killer)
        return unsupported(err, "memory.disableOOMKiller");
    if (m->has_use_hierarchy && !m->use_hierarchy)
        return husk_error_set(err, ENOTSUP,
                              F "memory.useHierarchy: cgroup v2 is always hierarchical");
    return 0;
}

/* cpu.shares (2..262144) onto cpu.weight (1..10000), linearly. */
static unsigned long long shares_to_weight(uint64_t shares)
{
    return 1 + ((shares - 2) * 9999) / 262142;
}

static int v2_cpu(const ocispec_cpu *c, uint32_t ctrls, struct cg_writes *out, husk_error_t *err)
{
    if (ctrls & CG_CPU) {
        if (c->has_shares && c->shares != 0)
            ADD(CG_CPU, "cpu.shares", 0, "cpu.weight", "%llu", shares_to_weight(c->shares));
        bool quota = c->has_quota && c->quota != 0;
        bool period = c->has_period && c->period != 0;
        if (quota || period) {
            char q[32] = "max";
            if (quota && c->quota > 0)
                snprintf(q, sizeof q, "%lld", (long long)c->quota);
            if (period)
                ADD(CG_CPU, "cpu.quota", 0, "cpu.max", "%s %llu", q,
                    (unsigned long long)c->period);
            else
                ADD(CG_CPU, "cpu.quota", 0, "cpu.max", "%s", q);
        }
        if (c->has_burst)
            ADD(CG_CPU, "cpu.burst", 0, "cpu.max.burst", "%llu", (unsigned long long)c->burst);
        if (c->has_idle)
            ADD(CG_CPU, "cpu.idle", 0, "cpu.idle", "%lld", (long long)c->idle);
        if ((c->has_realtime_runtime && c->realtime_runtime != 0) ||
            (c->has_realtime_period && c->realtime_period != 0))
            return unsupported(err, "cpu.realtimeRuntime/realtimePeriod");
    }
    if (ctrls & CG_CPUSET) {
        if (c->cpus != NULL && c->cpus[0] != '\0')
            ADD(CG_CPUSET, "cpu.cpus", 0, "cpuset.cpus", "%s", c->cpus);
        if (c->mems != NULL && c->mems[0] != '\0')
            ADD(CG_CPUSET, "cpu.mems", 0, "cpuset.mems", "%s", c->mems);
    }
    return 0;
}

/* blkio weight (10..1000) onto io.weight (1..10000), linearly. */
static unsigned blkio_to_io_weight(uint16_t w)
{
    return 1 + ((unsigned)(w - 10) * 9999) / 990;
}

static int v2_throttle(const char *field, const char *key, const ocispec_throttle_device *t,
                       size_t n, struct cg_writes *out, husk_error_t *err)
{
    for (size_t i = 0; i < n; i++)
        if (cg_writes_add(out, CG_BLKIO, field, 0, "io.max", "%lld:%lld %s=%llu",
                          (long long)t[i].major, (long long)t[i].minor, key,
                          (unsigned long long)t[i].rate) < 0)
            return husk_error_set(err, ENOMEM, "resources");
    return 0;
}

static int v2_block_io(const ocispec_block_io *b, struct cg_writes *out, husk_error_t *err)
{
    if (b->has_weight && b->weight != 0)
        ADD(CG_BLKIO, "blockIO.weight", 0, "io.weight", "default %u",
            blkio_to_io_weight(b->weight));
    if (b->has_leaf_weight && b->leaf_weight != 0)
        return unsupported(err, "blockIO.leafWeight");
    for (size_t i = 0; i < b->weight_device_len; i++) {
        const ocispec_weight_device *d = &b->weight_device[i];
        if (d->has_leaf_weight)
            return unsupported(err, "blockIO.weightDevice.leafWeight");
        if (d->has_weight)
            ADD(CG_BLKIO, "blockIO.weightDevice", 0, "io.weight", "%lld:%lld %u",
                (long long)d->major, (long long)d->minor, blkio_to_io_weight(d->weight));
    }
    if (v2_throttle(F "blockIO.throttleReadBpsDevice", "rbps", b->throttle_read_bps_device,
                    b->throttle_read_bps_device_len, out, err) < 0 ||
        v2_throttle(F "blockIO.throttleWriteBpsDevice", "wbps", b->throttle_write_bps_device,
                    b->throttle_write_bps_device_len, out, err) < 0 ||
        v2_throttle(F "blockIO.throttleReadIOPSDevice", "riops", b->throttle_read_iops_device,
                    b->throttle_read_iops_device_len, out, err) < 0 ||
        v2_throttle(F "blockIO.throttleWriteIOPSDevice", "wiops", b->throttle_write_iops_device,
                    b->throttle_write_iops_device_len, out, err) < 0)
        return -1;
    return 0;
}

static int v2_hugetlb(const ocispec_resources *res, struct cg_writes *out, husk_error_t *err)
{
    for (size_t i = 0; i < res->hugepage_limits_len; i++) {
        const ocispec_hugepage_limit *h = &res->hugepage_limits[i];
        char file[64];
        snprintf(file, sizeof file, "hugetlb.%s.max", h->page_size);
        ADD(CG_HUGETLB, "hugepageLimits", 0, file, "%llu", (unsigned long long)h->limit);
    }
    return 0;
}

static int v2_rdma(const ocispec_resources *res, struct cg_writes *out, husk_error_t *err)
{
    for (size_t i = 0; i < res->rdma_len; i++) {
        const ocispec_rdma *r = &res->rdma[i];
        char handles[32] = "max", objects[32] = "max";
        if (r->has_hca_handles)
            snprintf(handles, sizeof handles, "%u", r->hca_handles);
        if (r->has_hca_objects)
            snprintf(objects, sizeof objects, "%u", r->hca_objects);
        ADD(CG_RDMA, "rdma", 0, "rdma.max", "%s hca_handle=%s hca_object=%s", r->device, handles,
            objects);
    }
    return 0;
}

/* Unified keys go last so they override what the typed fields set. */
static int v2_unified(const ocispec_string_map *u, struct cg_writes *out, husk_error_t *err)
{
    for (size_t i = 0; u != NULL && i < u->len; i++) {
        const char *k = u->keys[i];
        char name[32];
        const char *dot = strchr(k, '.');
        snprintf(name, sizeof name, "%.*s", (int)(dot - k), k);
        uint32_t bit = strcmp(name, "cgroup") == 0 ? 0 : cg_controller_bit(name);
        ADD(bit, "unified", 0, k, "%s", u->values[i]);
    }
    return 0;
}

int cg_v2_translate(const ocispec_resources *res, uint32_t ctrls, bool pure_v2,
                    struct cg_writes *out, husk_error_t *err)
{
    if (res->memory != NULL && (ctrls & CG_MEMORY) && v2_memory(res->memory, out, err) < 0)
        return -1;
    if (res->cpu != NULL && (ctrls & (CG_CPU | CG_CPUSET)) && v2_cpu(res->cpu, ctrls, out, err) < 0)
        return -1;
    if (res->pids != NULL && res->pids->has_limit && (ctrls & CG_PIDS)) {
        if (res->pids->limit > 0)
            ADD(CG_PIDS, "pids.limit", 0, "pids.max", "%lld", (long long)res->pids->limit);
        else
            ADD(CG_PIDS, "pids.limit", 0, "pids.max", "max");
    }
    if (res->block_io != NULL && (ctrls & CG_BLKIO) && v2_block_io(res->block_io, out, err) < 0)
        return -1;
    if ((ctrls & CG_HUGETLB) && v2_hugetlb(res, out, err) < 0)
        return -1;
    if ((ctrls & CG_RDMA) && v2_rdma(res, out, err) < 0)
        return -1;
    (void)pure_v2;
    return v2_unified(res->unified, out, err);
}

/* ---------- delegation ---------- */

/* Enables in dirfd's cgroup.subtree_control every controller of wanted that
 * its cgroup.controllers offers and that is not enabled yet, in one write. */
int cg_v2_enable_controllers(int dirfd, const char *abs, uint32_t wanted, husk_error_t *err)
{
    cleanup_free char *available = NULL;
    cleanup_free char *enabled = NULL;
    if (cg_read_fd(dirfd, abs, "cgroup.controllers", &available, err) < 0)
        return -1;
    if (husk_read_file_at(dirfd, "cgroup.subtree_control", &enabled, NULL, NULL) < 0)
        enabled = NULL;

    char request[256] = "";
    size_t used = 0;
    char *save = NULL;
    for (char *tok = strtok_r(available, " \n", &save); tok != NULL;
         tok = strtok_r(NULL, " \n", &save)) {
        uint32_t bit = cg_controller_bit(tok);
        if (bit == 0 || !(wanted & bit))
            continue;
        bool on = false;
        if (enabled != NULL) {
            cleanup_free char *copy = strdup(enabled);
            char *s2 = NULL;
            for (char *e = strtok_r(copy, " \n", &s2); e != NULL; e = strtok_r(NULL, " \n", &s2))
                if (strcmp(e, tok) == 0)
                    on = true;
        }
        if (!on)
            used += (size_t)snprintf(request + used, sizeof request - used, "%s+%s",
                                     used ? " " : "", tok);
        if (used >= sizeof request)
            return husk_error_set(err, E2BIG, "enable controllers in `%s`", abs);
    }
    if (used == 0)
        return 0;
    if (cg_write_fd(dirfd, abs, "cgroup.subtree_control", request, err) < 0)
        return husk_error_wrap(err, "enable controllers for the container's cgroup");
    return 0;
}

/* ---------- freezer and kill ---------- */

static int read_events_frozen(struct cg_dir *d, bool *frozen, husk_error_t *err)
{
    cleanup_free char *events = NULL;
    if (cg_read(d, "cgroup.events", &events, err) < 0)
        return -1;
    const char *p = strstr(events, "frozen ");
    *frozen = p != NULL && p[7] == '1';
    return 0;
}

int cg_v2_is_frozen(struct cg_dir *d, bool *frozen, husk_error_t *err)
{
    cleanup_free char *want = NULL;
    if (cg_read(d, "cgroup.freeze", &want, err) < 0)
        return -1;
    /* Asked to freeze counts as frozen, as with v1 FREEZING. */
    *frozen = want[0] == '1';
    return 0;
}

int cg_v2_freeze(struct cg_dir *d, bool frozen, husk_error_t *err)
{
    if (cg_write(d, "cgroup.freeze", frozen ? "1" : "0", err) < 0)
        return -1;
    for (unsigned attempt = 0; attempt < 200; attempt++) {
        bool now;
        if (read_events_frozen(d, &now, err) < 0)
            return -1;
        if (now == frozen)
            return 0;
        cg_short_sleep(attempt);
    }
    if (frozen)
        cg_write(d, "cgroup.freeze", "0", NULL);
    return husk_error_set(err, ETIMEDOUT, "`%s/cgroup.events` did not report frozen %d", d->abs,
                          frozen ? 1 : 0);
}

int cg_v2_kill(struct cg_dir *d, husk_error_t *err)
{
    husk_error_t local = NULL;
    if (cg_write(d, "cgroup.kill", "1", &local) == 0)
        return 1;
    int e = local->errno_value;
    if (e == ENOENT) { /* kernel before 5.14: the caller signals each pid */
        husk_error_free(&local);
        return 0;
    }
    if (err != NULL)
        *err = local;
    else
        husk_error_free(&local);
    return -1;
}
