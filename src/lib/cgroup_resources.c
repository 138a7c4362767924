/* linux.resources -> control file writes: validation shared by both cgroup
 * versions, the dispatch to cgroup_v1.c / cgroup_v2.c by where each
 * controller lives, and applying the resulting list of writes. Translating
 * to a list first keeps the version logic pure (unit-tested as tables) and
 * lets bad input fail before anything is created. */
#define _GNU_SOURCE
#include "cgroup_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utils.h"

#define F "linux.resources."

/* ---------- the write list ---------- */

int cg_writes_add(struct cg_writes *w, uint32_t controller, const char *field, unsigned flags,
                  const char *file, const char *fmt, ...)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        struct cg_write *bigger = realloc(w->v, cap * sizeof *bigger);
        if (bigger == NULL)
            return -ENOMEM;
        w->v = bigger;
        w->cap = cap;
    }
    struct cg_write *e = &w->v[w->n];
    memset(e, 0, sizeof *e);
    va_list ap;
    va_start(ap, fmt);
    int r = vasprintf(&e->value, fmt, ap);
    va_end(ap);
    e->file = strdup(file);
    if (r < 0 || e->file == NULL) {
        if (r >= 0)
            free(e->value);
        free(e->file);
        return -ENOMEM;
    }
    e->controller = controller;
    e->field = field;
    e->flags = flags;
    w->n++;
    return 0;
}

void cg_writes_set_alt(struct cg_writes *w, const char *alt_file)
{
    if (w->n > 0)
        w->v[w->n - 1].alt_file = alt_file;
}

void cg_writes_clear(struct cg_writes *w)
{
    for (size_t i = 0; i < w->n; i++) {
        free(w->v[i].file);
        free(w->v[i].value);
    }
    free(w->v);
    free(w->dev_rules);
    memset(w, 0, sizeof *w);
}

/* ---------- device rules ---------- */

#define RWM (CG_DEV_READ | CG_DEV_WRITE | CG_DEV_MKNOD)

/* runtime-spec "Default Devices", the pty slaves and /dev/console for
 * terminals, and mknod of any node (harmless without read/write on it). */
static const struct cg_dev_rule default_device_rules[] = {
    {true, 'c', 1, 3, RWM},   /* null */
    {true, 'c', 1, 5, RWM},   /* zero */
    {true, 'c', 1, 7, RWM},   /* full */
    {true, 'c', 1, 8, RWM},   /* random */
    {true, 'c', 1, 9, RWM},   /* urandom */
    {true, 'c', 5, 0, RWM},   /* tty */
    {true, 'c', 5, 1, RWM},   /* console */
    {true, 'c', 5, 2, RWM},   /* ptmx */
    {true, 'c', 136, -1, RWM}, /* pts */
    {true, 'c', -1, -1, CG_DEV_MKNOD},
    {true, 'b', -1, -1, CG_DEV_MKNOD},
};

static unsigned parse_access(const char *access)
{
    if (access == NULL)
        return RWM;
    unsigned bits = 0;
    for (const char *c = access; *c != '\0'; c++)
        bits |= *c == 'r' ? CG_DEV_READ : *c == 'w' ? CG_DEV_WRITE : CG_DEV_MKNOD;
    return bits;
}

int cg_device_rules(const ocispec_resources *res, struct cg_dev_rule **out, size_t *n)
{
    size_t n_default = sizeof default_device_rules / sizeof default_device_rules[0];
    size_t total = 1 + res->devices_len + n_default;
    struct cg_dev_rule *rules = calloc(total, sizeof *rules);
    if (rules == NULL)
        return -ENOMEM;
    size_t k = 0;
    rules[k++] = (struct cg_dev_rule){false, 'a', -1, -1, RWM};
    for (size_t i = 0; i < res->devices_len; i++) {
        const ocispec_device_cgroup *d = &res->devices[i];
        rules[k++] = (struct cg_dev_rule){
            .allow = d->allow,
            .type = d->type != NULL ? d->type[0] : 'a',
            .major = d->has_major ? d->major : -1,
            .minor = d->has_minor ? d->minor : -1,
            .access = parse_access(d->access),
        };
    }
    memcpy(rules + k, default_device_rules, sizeof default_device_rules);
    *out = rules;
    *n = total;
    return 0;
}

/* ---------- validation common to both versions ---------- */

static int bad(husk_error_t *err, const char *field, const char *why, long long value)
{
    return husk_error_plain(err, EINVAL, F "%s: %lld %s", field, value, why);
}

/* Memory sizes: -1 is "unlimited", 0 is "leave alone" (what runc does with
 * the zero value Go configs carry); anything below -1 is nonsense. */
static int check_bytes(const char *field, bool has, int64_t v, husk_error_t *err)
{
    if (has && v < -1)
        return bad(err, field, "is negative (use -1 for unlimited)", v);
    return 0;
}

static int validate_memory(const ocispec_memory *m, husk_error_t *err)
{
    if (m == NULL)
        return 0;
    if (check_bytes("memory.limit", m->has_limit, m->limit, err) < 0 ||
        check_bytes("memory.reservation", m->has_reservation, m->reservation, err) < 0 ||
        check_bytes("memory.swap", m->has_swap, m->swap, err) < 0 ||
        check_bytes("memory.kernel", m->has_kernel, m->kernel, err) < 0 ||
        check_bytes("memory.kernelTCP", m->has_kernel_tcp, m->kernel_tcp, err) < 0)
        return -1;
    if (m->has_swappiness && m->swappiness > 100)
        return bad(err, "memory.swappiness", "is out of range 0..100", (long long)m->swappiness);
    /* swap counts memory + swap, so it cannot be below the memory limit. */
    if (m->has_swap && m->swap > 0 && m->has_limit && m->limit > 0 && m->swap < m->limit)
        return husk_error_plain(err, EINVAL,
                                F "memory.swap: %lld is below memory.limit %lld (swap is the "
                                "limit of memory plus swap)",
                                (long long)m->swap, (long long)m->limit);
    if (m->has_reservation && m->reservation > 0 && m->has_limit && m->limit > 0 &&
        m->reservation > m->limit)
        return husk_error_plain(err, EINVAL,
                                F "memory.reservation: %lld is above memory.limit %lld",
                                (long long)m->reservation, (long long)m->limit);
    return 0;
}

static int validate_cpuset_list(const char *field, const char *list, husk_error_t *err)
{
    if (list == NULL)
        return 0;
    for (const char *p = list; *p != '\0'; p++)
        if (!((*p >= '0' && *p <= '9') || *p == ',' || *p == '-'))
            return husk_error_plain(err, EINVAL,
                                    F "%s: `%s` is not a list like `0-3,5`", field, list);
    return 0;
}

static int validate_cpu(const ocispec_cpu *c, husk_error_t *err)
{
    if (c == NULL)
        return 0;
    /* The kernel clamps shares to 2..262144 silently; refuse instead so the
     * user learns the value had no effect. 0 means "not set". */
    if (c->has_shares && c->shares != 0 && (c->shares < 2 || c->shares > 262144))
        return bad(err, "cpu.shares", "is out of range 2..262144", (long long)c->shares);
    if (c->has_quota && (c->quota < -1 || (c->quota > 0 && c->quota < 1000)))
        return bad(err, "cpu.quota", "is invalid (-1 for unlimited, else at least 1000 us)",
                   (long long)c->quota);
    if (c->has_period && c->period != 0 && (c->period < 1000 || c->period > 1000000))
        return bad(err, "cpu.period", "is out of range 1000..1000000 us", (long long)c->period);
    if (c->has_burst && c->has_quota && c->quota > 0 && c->burst > (uint64_t)c->quota)
        return bad(err, "cpu.burst", "is above cpu.quota", (long long)c->burst);
    if (c->has_realtime_runtime && c->realtime_runtime < -1)
        return bad(err, "cpu.realtimeRuntime", "is negative (use -1 for unlimited)",
                   (long long)c->realtime_runtime);
    if (c->has_realtime_period && c->realtime_period != 0 && c->realtime_period < 1)
        return bad(err, "cpu.realtimePeriod", "is invalid", (long long)c->realtime_period);
    if (c->has_idle && c->idle != 0 && c->idle != 1)
        return bad(err, "cpu.idle", "must be 0 or 1", (long long)c->idle);
    if (validate_cpuset_list("cpu.cpus", c->cpus, err) < 0 ||
        validate_cpuset_list("cpu.mems", c->mems, err) < 0)
        return -1;
    return 0;
}

static int check_weight(const char *field, bool has, uint16_t w, husk_error_t *err)
{
    if (has && w != 0 && (w < 10 || w > 1000))
        return bad(err, field, "is out of range 10..1000", (long long)w);
    return 0;
}

static int check_device_numbers(const char *field, size_t i, int64_t major, int64_t minor,
                                husk_error_t *err)
{
    if (major < 0 || minor < 0)
        return husk_error_plain(err, EINVAL, F "%s[%zu]: device %lld:%lld is invalid", field, i,
                                (long long)major, (long long)minor);
    return 0;
}

static int validate_throttle(const char *field, const ocispec_throttle_device *t, size_t n,
                             husk_error_t *err)
{
    for (size_t i = 0; i < n; i++)
        if (check_device_numbers(field, i, t[i].major, t[i].minor, err) < 0)
            return -1;
    return 0;
}

static int validate_block_io(const ocispec_block_io *b, husk_error_t *err)
{
    if (b == NULL)
        return 0;
    if (check_weight("blockIO.weight", b->has_weight, b->weight, err) < 0 ||
        check_weight("blockIO.leafWeight", b->has_leaf_weight, b->leaf_weight, err) < 0)
        return -1;
    for (size_t i = 0; i < b->weight_device_len; i++) {
        const ocispec_weight_device *d = &b->weight_device[i];
        char field[64];
        snprintf(field, sizeof field, "blockIO.weightDevice[%zu].weight", i);
        if (check_device_numbers("blockIO.weightDevice", i, d->major, d->minor, err) < 0 ||
            check_weight(field, d->has_weight, d->weight, err) < 0)
            return -1;
        snprintf(field, sizeof field, "blockIO.weightDevice[%zu].leafWeight", i);
        if (check_weight(field, d->has_leaf_weight, d->leaf_weight, err) < 0)
            return -1;
    }
    if (validate_throttle("blockIO.throttleReadBpsDevice", b->throttle_read_bps_device,
                          b->throttle_read_bps_device_len, err) < 0 ||
        validate_throttle("blockIO.throttleWriteBpsDevice", b->throttle_write_bps_device,
                          b->throttle_write_bps_device_len, err) < 0 ||
        validate_throttle("blockIO.throttleReadIOPSDevice", b->throttle_read_iops_device,
                          b->throttle_read_iops_device_len, err) < 0 ||
        validate_throttle("blockIO.throttleWriteIOPSDevice", b->throttle_write_iops_device,
                          b->throttle_write_iops_device_len, err) < 0)
        return -1;
    return 0;
}

/* "2MB", "1GB", "64KB": digits then KB/MB/GB, the form both cgroup versions
 * use in hugetlb file names. */
static int validate_hugepages(const ocispec_resources *res, husk_error_t *err)
{
    for (size_t i = 0; i < res->hugepage_limits_len; i++) {
        const char *s = res->hugepage_limits[i].page_size;
        size_t digits = s != NULL ? strspn(s, "0123456789") : 0;
        if (s == NULL || digits == 0 || s[digits] == '0' ||
            (strcmp(s + digits, "KB") != 0 && strcmp(s + digits, "MB") != 0 &&
             strcmp(s + digits, "GB") != 0))
            return husk_error_plain(err, EINVAL,
                                    F "hugepageLimits[%zu].pageSize: `%s` is not a size like `2MB`",
                                    i, s != NULL ? s : "");
    }
    return 0;
}

static int validate_network(const ocispec_network *n, husk_error_t *err)
{
    for (size_t i = 0; n != NULL && i < n->priorities_len; i++) {
        const char *name = n->priorities[i].name;
        if (name == NULL || name[0] == '\0' || strpbrk(name, " \t\n/") != NULL)
            return husk_error_plain(err, EINVAL,
                                    F "network.priorities[%zu].name: `%s` is not an interface name",
                                    i, name != NULL ? name : "");
    }
    return 0;
}

static int validate_devices(const ocispec_resources *res, husk_error_t *err)
{
    for (size_t i = 0; i < res->devices_len; i++) {
        const ocispec_device_cgroup *d = &res->devices[i];
        if (d->type != NULL && strcmp(d->type, "a") != 0 && strcmp(d->type, "b") != 0 &&
            strcmp(d->type, "c") != 0)
            return husk_error_plain(err, EINVAL, F "devices[%zu].type: `%s` is not a, b or c", i,
                                    d->type);
        if ((d->has_major && d->major < -1) || (d->has_minor && d->minor < -1))
            return husk_error_plain(err, EINVAL, F "devices[%zu]: device %lld:%lld is invalid", i,
                                    (long long)d->major, (long long)d->minor);
        if (d->access != NULL &&
            (d->access[0] == '\0' || strspn(d->access, "rwm") != strlen(d->access)))
            return husk_error_plain(err, EINVAL,
                                    F "devices[%zu].access: `%s` is not made of r, w, m",
                                    i, d->access);
    }
    return 0;
}

static int validate_pids(const ocispec_pids *p, husk_error_t *err)
{
    if (p != NULL && p->has_limit && p->limit < -1)
        return bad(err, "pids.limit", "is negative (use -1 for unlimited)", (long long)p->limit);
    return 0;
}

/* Keys are file names in the container's own cgroup: no path tricks, and not
 * the files that move processes or change the tree's shape. */
static int validate_unified(const ocispec_string_map *u, husk_error_t *err)
{
    static const char *const refused[] = {"cgroup.procs", "cgroup.threads", "cgroup.kill",
                                          "cgroup.subtree_control", "cgroup.freeze",
                                          "cgroup.type"};
    for (size_t i = 0; u != NULL && i < u->len; i++) {
        const char *k = u->keys[i];
        if (k[0] == '\0' || strchr(k, '/') != NULL || strchr(k, '.') == NULL || k[0] == '.')
            return husk_error_plain(err, EINVAL, F "unified: key `%s` is not a cgroup file name",
                                    k);
        for (size_t j = 0; j < sizeof refused / sizeof refused[0]; j++)
            if (strcmp(k, refused[j]) == 0)
                return husk_error_plain(err, EINVAL,
                                        F "unified.%s: not a resource; husk manages this file", k);
    }
    return 0;
}

static int validate_common(const ocispec_resources *res, husk_error_t *err)
{
    if (validate_memory(res->memory, err) < 0 || validate_cpu(res->cpu, err) < 0 ||
        validate_pids(res->pids, err) < 0 || validate_block_io(res->block_io, err) < 0 ||
        validate_hugepages(res, err) < 0 || validate_network(res->network, err) < 0 ||
        validate_devices(res, err) < 0 || validate_unified(res->unified, err) < 0)
        return -1;
    return 0;
}

/* ---------- which controllers res needs ---------- */

struct need {
    const char *field;
    uint32_t controller;
};

/* Fills needs[] with every resource group present in res and the
 * controller that implements it; returns the count. */
static size_t needs_of(const ocispec_resources *res, struct need needs[16])
{
    size_t n = 0;
    const ocispec_memory *m = res->memory;
    if (m != NULL && (m->has_limit || m->has_reservation || m->has_swap || m->has_kernel ||
                      m->has_kernel_tcp || m->has_swappiness || m->has_disable_oom_killer ||
                      m->has_use_hierarchy))
        needs[n++] = (struct need){"memory", CG_MEMORY};
    const ocispec_cpu *c = res->cpu;
    if (c != NULL && (c->has_shares || c->has_quota || c->has_period || c->has_burst ||
                      c->has_realtime_runtime || c->has_realtime_period || c->has_idle))
        needs[n++] = (struct need){"cpu", CG_CPU};
    if (c != NULL && ((c->cpus != NULL && c->cpus[0] != '\0') ||
                      (c->mems != NULL && c->mems[0] != '\0')))
        needs[n++] = (struct need){"cpu.cpus/mems", CG_CPUSET};
    if (res->pids != NULL && res->pids->has_limit)
        needs[n++] = (struct need){"pids", CG_PIDS};
    const ocispec_block_io *b = res->block_io;
    if (b != NULL && (b->has_weight || b->has_leaf_weight || b->weight_device_len ||
                      b->throttle_read_bps_device_len || b->throttle_write_bps_device_len ||
                      b->throttle_read_iops_device_len || b->throttle_write_iops_device_len))
        needs[n++] = (struct need){"blockIO", CG_BLKIO};
    if (res->hugepage_limits_len > 0)
        needs[n++] = (struct need){"hugepageLimits", CG_HUGETLB};
    if (res->network != NULL && res->network->has_class_id)
        needs[n++] = (struct need){"network.classID", CG_NET_CLS};
    if (res->network != NULL && res->network->priorities_len > 0)
        needs[n++] = (struct need){"network.priorities", CG_NET_PRIO};
    if (res->rdma_len > 0)
        needs[n++] = (struct need){"rdma", CG_RDMA};
    return n;
}

uint32_t cg_v2_needed_controllers(const ocispec_resources *res)
{
    if (res == NULL)
        return 0;
    struct need needs[16];
    uint32_t bits = 0;
    size_t n = needs_of(res, needs);
    for (size_t i = 0; i < n; i++)
        bits |= needs[i].controller;
    for (size_t i = 0; res->unified != NULL && i < res->unified->len; i++) {
        const char *k = res->unified->keys[i];
        const char *dot = strchr(k, '.');
        char name[32];
        if (dot != NULL && (size_t)(dot - k) < sizeof name) {
            snprintf(name, sizeof name, "%.*s", (int)(dot - k), k);
            bits |= cg_controller_bit(name);
        }
    }
    return bits;
}

static int check_unified_placement(const ocispec_string_map *u, uint32_t v1, uint32_t v2,
                                   bool have_v2, husk_error_t *err)
{
    for (size_t i = 0; u != NULL && i < u->len; i++) {
        const char *k = u->keys[i];
        if (!have_v2)
            return husk_error_plain(err, EINVAL,
                                    F "unified.%s: unified keys need cgroup v2; this host has "
                                    "cgroup v1 only",
                                    k);
        char name[32];
        const char *dot = strchr(k, '.');
        snprintf(name, sizeof name, "%.*s", (int)(dot - k), k);
        if (strcmp(name, "cgroup") == 0)
            continue;
        uint32_t bit = cg_controller_bit(name);
        if (bit != 0 && (v2 & bit))
            continue;
        if (bit != 0 && (v1 & bit))
            return husk_error_plain(err, EINVAL,
                                    F "unified.%s: the %s controller is a cgroup v1 controller on "
                                    "this host",
                                    k, name);
        return husk_error_plain(err, EINVAL,
                                F "unified.%s: no `%s` controller in the cgroup v2 tree", k, name);
    }
    return 0;
}

int cg_translate(const ocispec_resources *res, const struct cg_host *host,
                 bool include_devices, struct cg_writes *out, husk_error_t *err)
{
    uint32_t v1 = 0, v2 = 0;
    bool have_v2 = false;
    for (size_t i = 0; i < host->n; i++) {
        if (host->h[i].v2) {
            v2 |= host->h[i].controllers;
            have_v2 = true;
        } else {
            v1 |= host->h[i].controllers;
        }
    }
    static const ocispec_resources none;
    if (res == NULL)
        res = &none;
    if (validate_common(res, err) < 0)
        return -1;

    struct need needs[16];
    size_t n = needs_of(res, needs);
    for (size_t i = 0; i < n; i++)
        if (!((v1 | v2) & needs[i].controller))
            return husk_error_set(err, ENOTSUP,
                                  F "%s: the %s controller is not available on this host",
                                  needs[i].field, cg_controller_name(needs[i].controller, !v1));
    if (check_unified_placement(res->unified, v1, v2, have_v2, err) < 0)
        return -1;

    if (cg_v1_translate(res, v1, include_devices, out, err) < 0 ||
        cg_v2_translate(res, v2, host->layout == HUSK_CGROUP_LAYOUT_V2, out, err) < 0) {
        cg_writes_clear(out);
        return -1;
    }
    /* Pure v2 enforces device rules with a BPF program; on hybrid hosts the
     * v1 devices controller does (cg_v1_translate). */
    if (host->layout == HUSK_CGROUP_LAYOUT_V2 && (include_devices || res->devices != NULL)) {
        if (cg_device_rules(res, &out->dev_rules, &out->n_dev_rules) < 0) {
            cg_writes_clear(out);
            return husk_error_set(err, ENOMEM, "resources");
        }
        out->has_dev_rules = true;
    }
    return 0;
}

int husk_cgroup_validate_resources(const ocispec_resources *res, husk_error_t *err)
{
    const struct cg_host *host;
    if (cg_host_get(&host, err) < 0)
        return -1;
    struct cg_writes w = {0};
    int ret = cg_translate(res, host, true, &w, err);
    cg_writes_clear(&w);
    return ret;
}

/* ---------- applying ---------- */

static struct cg_dir *dir_for_write(husk_cgroup *cg, const struct cg_write *w)
{
    if (w->controller == 0) /* a cgroup2 core file (unified "cgroup.*") */
        return cg_dir_v2(cg);
    return cg_dir_for(cg, w->controller);
}

/* Consecutive writes to one file (device rules) share one open fd. */
struct open_control {
    const struct cg_dir *dir;
    const char *file;
    int fd;
};

static int apply_one(husk_cgroup *cg, const struct cg_write *w, struct open_control *oc,
                     husk_error_t *err)
{
    struct cg_dir *d = dir_for_write(cg, w);
    if (d == NULL)
        return husk_error_set(err, ENOTSUP, "%s: no hierarchy carries the %s controller",
                              w->field, cg_controller_name(w->controller, false));
    if (d->fd < 0)
        return husk_error_set(err, ENOENT, "cgroup `%s` does not exist", d->abs);
    if (oc->fd < 0 || oc->dir != d ||
        (strcmp(oc->file, w->file) != 0 &&
         (w->alt_file == NULL || strcmp(oc->file, w->alt_file) != 0))) {
        husk_close_fd(&oc->fd);
        const char *file = w->file;
        husk_error_t first = NULL;
        oc->fd = cg_open_control(d->fd, d->abs, file, &first);
        if (oc->fd < 0 && w->alt_file != NULL && first->errno_value == ENOENT) {
            file = w->alt_file;
            oc->fd = cg_open_control(d->fd, d->abs, file, NULL);
        }
        if (oc->fd < 0) {
            /* report the primary file: it is the one the reader knows */
            if (err != NULL)
                *err = steal_pointer(&first);
            husk_error_free(&first);
            return -1;
        }
        husk_error_free(&first);
        oc->dir = d;
        oc->file = file;
    }
    return cg_write_value(oc->fd, d->abs, oc->file, w->value, err);
}

static void close_control(struct open_control *oc)
{
    husk_close_fd(&oc->fd);
}

/* ---------- undo: an update is all or nothing ----------
 *
 * Before a live cgroup is changed, the old value of every file a write will
 * touch is read; when a later write fails, the writes already done are
 * undone in reverse order, so a rejected update leaves the container as it
 * was. A cgroup that cg_apply_writes' caller has just created is removed on
 * failure instead, so its files are not read (no cost on the start path).
 * A file whose old value cannot be read (write-only unified keys, files
 * the kernel lacks) has no undo; the kernel allows no better. */

/* Files holding one line per device or interface: a write changes only the
 * line of its key (the value's first word), and the key's absence is the
 * unset value given here. */
static const struct keyed_file {
    const char *file;
    const char *unset; /* written after the key when it had no line */
} keyed_files[] = {
    {"blkio.throttle.read_bps_device", "0"},
    {"blkio.throttle.write_bps_device", "0"},
    {"blkio.throttle.read_iops_device", "0"},
    {"blkio.throttle.write_iops_device", "0"},
    {"blkio.weight_device", "0"},
    {"blkio.leaf_weight_device", "0"},
    {"blkio.bfq.weight_device", "default"},
    {"io.weight", "default"},
    {"io.max", "rbps=max wbps=max riops=max wiops=max"},
    {"net_prio.ifpriomap", "0"},
    {"rdma.max", "hca_handle=max hca_object=max"},
};

static const struct keyed_file *keyed_file_of(const char *file)
{
    for (size_t i = 0; i < sizeof keyed_files / sizeof keyed_files[0]; i++)
        if (strcmp(keyed_files[i].file, file) == 0)
            return &keyed_files[i];
    return NULL;
}

enum undo_kind {
    UNDO_VALUE,   /* write value back to file */
    UNDO_DEVICES, /* value is devices.list: deny all, then allow each line */
};

struct undo {
    enum undo_kind kind;
    struct cg_dir *dir;
    const char *file; /* the file that exists (file or alt_file of the write) */
    const char *field;
    char *value;      /* NULL: nothing to restore */
};

struct undo_log {
    struct undo *v;      /* one per write, same index */
    size_t n;
    size_t *applied;     /* write indexes, in the order they took effect */
    size_t n_applied;
};

static void undo_log_clear(struct undo_log *log)
{
    for (size_t i = 0; log->v != NULL && i < log->n; i++)
        free(log->v[i].value);
    free(log->v);
    free(log->applied);
    memset(log, 0, sizeof *log);
}

/* The line of text whose first word is key, without its newline. */
static char *line_with_key(const char *text, const char *key, size_t key_len)
{
    for (const char *line = text; line != NULL && *line != '\0';) {
        const char *eol = strchr(line, '\n');
        size_t len = eol != NULL ? (size_t)(eol - line) : strlen(line);
        if (len > key_len && strncmp(line, key, key_len) == 0 && line[key_len] == ' ')
            return strndup(line, len);
        line = eol != NULL ? eol + 1 : NULL;
    }
    return NULL;
}

static char *first_line(const char *text)
{
    return strndup(text, strcspn(text, "\n"));
}

/* What to write to undo w, from the file's current text. NULL with
 * errno ENOMEM on failure. */
static char *restore_value(const struct cg_write *w, const char *file, const char *text)
{
    const struct keyed_file *k = keyed_file_of(file);
    if (k != NULL) {
        size_t key_len = strcspn(w->value, " ");
        char *line = line_with_key(text, w->value, key_len);
        if (line != NULL)
            return line;
        char *unset = NULL;
        if (asprintf(&unset, "%.*s %s", (int)key_len, w->value, k->unset) < 0)
            return NULL;
        return unset;
    }
    if (strcmp(file, "memory.oom_control") == 0) {
        /* reads as "oom_kill_disable N\nunder_oom M...", written as "N" */
        const char *v = strstr(text, "oom_kill_disable ");
        return strdup(v != NULL && v[17] == '1' ? "1" : "0");
    }
    /* blkio.bfq.weight reads as "default N" plus per-device lines and takes
     * "default N" back; every other file is one value on one line. */
    return first_line(text);
}

static bool is_device_rule_file(const char *file)
{
    return strcmp(file, "devices.allow") == 0 || strcmp(file, "devices.deny") == 0;
}

/* Reads the old value for write i; a missing or unreadable file gives an
 * entry with no value (nothing to restore), not an error. */
static int snapshot_one(struct undo_log *log, size_t i, const struct cg_write *w,
                        struct cg_dir *d, husk_error_t *err)
{
    struct undo *u = &log->v[i];
    u->dir = d;
    u->field = w->field;
    u->file = w->file;
    if (is_device_rule_file(w->file)) {
        /* the whole rule list is restored once, at its first rule */
        for (size_t j = 0; j < i; j++)
            if (log->v[j].kind == UNDO_DEVICES && log->v[j].dir == d)
                return 0;
        u->kind = UNDO_DEVICES;
        u->file = "devices.list";
        if (cg_read_fd(d->fd, d->abs, "devices.list", &u->value, NULL) < 0)
            u->value = NULL;
        return 0;
    }
    cleanup_free char *text = NULL;
    if (cg_read_fd(d->fd, d->abs, w->file, &text, NULL) < 0 && w->alt_file != NULL &&
        cg_read_fd(d->fd, d->abs, w->alt_file, &text, NULL) == 0)
        u->file = w->alt_file;
    if (text == NULL)
        return 0;
    u->value = restore_value(w, u->file, text);
    if (u->value == NULL)
        return husk_error_set(err, ENOMEM, "%s: read the old value", w->field);
    return 0;
}

static int undo_log_init(husk_cgroup *cg, const struct cg_writes *w, struct undo_log *log,
                         husk_error_t *err)
{
    memset(log, 0, sizeof *log);
    log->v = calloc(w->n + 1, sizeof *log->v);
    log->applied = calloc(w->n + 1, sizeof *log->applied);
    if (log->v == NULL || log->applied == NULL)
        return husk_error_set(err, ENOMEM, "apply resources");
    log->n = w->n;
    for (size_t i = 0; i < w->n; i++) {
        struct cg_dir *d = dir_for_write(cg, &w->v[i]);
        /* no dir (the write fails, naming it) or a fresh one (removed on
         * failure by whoever created it): nothing to keep */
        if (d == NULL || d->fd < 0 || d->created > 0)
            continue;
        if (snapshot_one(log, i, &w->v[i], d, err) < 0)
            return -1;
    }
    return 0;
}

static int restore_devices(const struct undo *u, husk_error_t *err)
{
    if (cg_write_fd(u->dir->fd, u->dir->abs, "devices.deny", "a", err) < 0)
        return -1;
    cleanup_close int fd = cg_open_control(u->dir->fd, u->dir->abs, "devices.allow", err);
    if (fd < 0)
        return -1;
    for (const char *line = u->value; *line != '\0';) {
        size_t len = strcspn(line, "\n");
        cleanup_free char *rule = strndup(line, len);
        if (rule == NULL)
            return husk_error_set(err, ENOMEM, "restore device rules");
        if (len > 0 && cg_write_value(fd, u->dir->abs, "devices.allow", rule, err) < 0)
            return -1;
        line += len;
        if (*line == '\n')
            line++;
    }
    return 0;
}

static int restore_one(const struct undo *u, husk_error_t *err)
{
    if (u->kind == UNDO_DEVICES)
        return restore_devices(u, err);
    return cg_write_fd(u->dir->fd, u->dir->abs, u->file, u->value, err);
}

/* Undoes the applied writes, newest first. Like the writes themselves,
 * some restores depend on order against the current values (memory limit
 * vs memsw, cfs quota vs period): an EINVAL is retried after the others.
 * Returns 0, or -1 with *err naming the first field that could not be
 * restored. */
static int undo_applied(struct undo_log *log, husk_error_t *err)
{
    cleanup_free size_t *again = calloc(log->n_applied + 1, sizeof *again);
    size_t n_again = 0;
    if (again == NULL)
        return husk_error_set(err, ENOMEM, "restore the old values");
    for (size_t k = log->n_applied; k-- > 0;) {
        const struct undo *u = &log->v[log->applied[k]];
        if (u->value == NULL)
            continue;
        husk_error_t one = NULL;
        if (restore_one(u, &one) == 0)
            continue;
        if (one->errno_value == EINVAL) {
            again[n_again++] = log->applied[k];
            husk_error_free(&one);
            continue;
        }
        if (err != NULL && *err == NULL) {
            *err = one;
            husk_error_wrap(err, "%s", u->field);
        } else {
            husk_error_free(&one);
        }
    }
    for (size_t k = 0; k < n_again; k++) {
        const struct undo *u = &log->v[again[k]];
        husk_error_t one = NULL;
        if (restore_one(u, &one) == 0)
            continue;
        if (err != NULL && *err == NULL) {
            *err = one;
            husk_error_wrap(err, "%s", u->field);
        } else {
            husk_error_free(&one);
        }
    }
    return err != NULL && *err != NULL ? -1 : 0;
}

/* Rolls back after a failure already in *err, and says in the message
 * whether the container kept its old values. */
static int fail_and_roll_back(struct undo_log *log, husk_error_t *err)
{
    bool anything = false;
    for (size_t k = 0; k < log->n_applied; k++)
        anything = anything || log->v[log->applied[k]].value != NULL;
    if (!anything)
        return -1;
    husk_error_t why = NULL;
    int r = undo_applied(log, &why);
    if (err == NULL || *err == NULL) {
        husk_error_free(&why);
        return -1;
    }
    char *msg = NULL;
    int n = r == 0 ? asprintf(&msg, "%s; the values written before it were restored", (*err)->msg)
                   : asprintf(&msg, "%s; restoring the old values failed too: %s", (*err)->msg,
                              why->msg);
    husk_error_free(&why);
    if (n >= 0) {
        free((*err)->msg);
        (*err)->msg = msg;
    }
    return -1;
}

/* What a bare EINVAL from these files means, which the kernel cannot say. */
static const struct {
    const char *file;
    const char *why;
} einval_hints[] = {
    {"cpu.rt_runtime_us", "the parent cgroup's cpu.rt_runtime_us budget does not cover it"},
    {"memory.use_hierarchy", "cgroup v1 memory is always hierarchical on this kernel"},
    {"memory.memsw.limit_in_bytes", "memory+swap cannot be below the memory limit"},
    {"memory.limit_in_bytes", "the memory limit cannot be above memory+swap; raise memory.swap too"},
};

static int write_failed(const struct cg_write *e, husk_error_t *one, husk_error_t *err)
{
    int e_errno = one != NULL && *one != NULL ? (*one)->errno_value : 0;
    if (err == NULL)
        husk_error_free(one);
    else
        *err = steal_pointer(one);
    if (e_errno == ENOENT)
        return husk_error_wrap(err, "%s (the kernel does not offer this setting)", e->field);
    for (size_t i = 0; e_errno == EINVAL && i < sizeof einval_hints / sizeof einval_hints[0]; i++)
        if (strcmp(e->file, einval_hints[i].file) == 0)
            return husk_error_wrap(err, "%s (%s)", e->field, einval_hints[i].why);
    return husk_error_wrap(err, "%s", e->field);
}

int cg_apply_writes(husk_cgroup *cg, const struct cg_writes *w, husk_error_t *err)
{
    cleanup_free size_t *later = calloc(w->n + 1, sizeof *later);
    size_t n_later = 0;
    if (later == NULL)
        return husk_error_set(err, ENOMEM, "apply resources");
    __attribute__((cleanup(undo_log_clear))) struct undo_log log = {0};
    if (undo_log_init(cg, w, &log, err) < 0)
        return -1;
    __attribute__((cleanup(close_control))) struct open_control oc = {.fd = -1};
    for (size_t i = 0; i < w->n; i++) {
        const struct cg_write *e = &w->v[i];
        husk_error_t one = NULL;
        if (apply_one(cg, e, &oc, &one) == 0) {
            log.applied[log.n_applied++] = i;
            continue;
        }
        int e_errno = one->errno_value;
        if ((e->flags & CGW_RETRY_LATER) && e_errno == EINVAL) {
            later[n_later++] = i;
            husk_error_free(&one);
            continue;
        }
        if ((e->flags & CGW_OBSOLETE) && (e_errno == EOPNOTSUPP || e_errno == ENOENT)) {
            husk_error_free(&one);
            continue;
        }
        write_failed(e, &one, err);
        close_control(&oc);
        return fail_and_roll_back(&log, err);
    }
    for (size_t i = 0; i < n_later; i++) {
        const struct cg_write *e = &w->v[later[i]];
        husk_error_t one = NULL;
        if (apply_one(cg, e, &oc, &one) == 0) {
            log.applied[log.n_applied++] = later[i];
            continue;
        }
        write_failed(e, &one, err);
        close_control(&oc);
        return fail_and_roll_back(&log, err);
    }
    close_control(&oc);
    if (w->has_dev_rules) {
        struct cg_dir *d = cg_dir_v2(cg);
        if (d == NULL || d->fd < 0) {
            husk_error_set(err, ENOENT, F "devices: no cgroup v2 directory");
            return fail_and_roll_back(&log, err);
        }
        if (cg_v2_set_devices(d->fd, d->abs, w->dev_rules, w->n_dev_rules, err) < 0)
            return fail_and_roll_back(&log, err);
    }
    return 0;
}
