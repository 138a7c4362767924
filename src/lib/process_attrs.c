#include "process_attrs.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sysctl.h"
#include "utils.h"

#define BITS_PER_WORD (sizeof(unsigned long) * CHAR_BIT)
/* The kernel's largest NODES_SHIFT is 10; a bigger node id cannot exist. */
#define HUSK_MAX_NUMA_NODES 1024

/* ---------- name tables (values from the kernel's uapi, written out so
 * that older headers do not limit what husk understands) ---------- */

struct name_value {
    const char *name;
    long value;
};

static long table_lookup(const struct name_value *t, size_t n, const char *name)
{
    for (size_t i = 0; name != NULL && i < n; i++)
        if (strcmp(t[i].name, name) == 0)
            return t[i].value;
    return -1;
}
#define LOOKUP(table, name) table_lookup(table, sizeof(table) / sizeof(table[0]), name)

static const struct name_value sched_policies[] = {
    { "SCHED_OTHER", 0 }, { "SCHED_FIFO", 1 }, { "SCHED_RR", 2 },       { "SCHED_BATCH", 3 },
    { "SCHED_ISO", 4 },   { "SCHED_IDLE", 5 }, { "SCHED_DEADLINE", 6 },
};
static const struct name_value sched_flags[] = {
    { "SCHED_FLAG_RESET_ON_FORK", 0x01 }, { "SCHED_FLAG_RECLAIM", 0x02 },
    { "SCHED_FLAG_DL_OVERRUN", 0x04 },    { "SCHED_FLAG_KEEP_POLICY", 0x08 },
    { "SCHED_FLAG_KEEP_PARAMS", 0x10 },   { "SCHED_FLAG_UTIL_CLAMP_MIN", 0x20 },
    { "SCHED_FLAG_UTIL_CLAMP_MAX", 0x40 },
};
static const struct name_value ioprio_classes[] = {
    { "IOPRIO_CLASS_RT", 1 }, { "IOPRIO_CLASS_BE", 2 }, { "IOPRIO_CLASS_IDLE", 3 },
};
static const struct name_value personality_domains[] = {
    { "LINUX", PER_LINUX }, { "LINUX32", PER_LINUX32 },
};
/* The flag bits of personality(2). */
static const struct name_value personality_flags[] = {
    { "UNAME26", UNAME26 },
    { "ADDR_NO_RANDOMIZE", ADDR_NO_RANDOMIZE },
    { "FDPIC_FUNCPTRS", FDPIC_FUNCPTRS },
    { "MMAP_PAGE_ZERO", MMAP_PAGE_ZERO },
    { "ADDR_COMPAT_LAYOUT", ADDR_COMPAT_LAYOUT },
    { "READ_IMPLIES_EXEC", READ_IMPLIES_EXEC },
    { "ADDR_LIMIT_32BIT", ADDR_LIMIT_32BIT },
    { "SHORT_INODE", SHORT_INODE },
    { "WHOLE_SECONDS", WHOLE_SECONDS },
    { "STICKY_TIMEOUTS", STICKY_TIMEOUTS },
    { "ADDR_LIMIT_3GB", ADDR_LIMIT_3GB },
};
enum {
    MODE_DEFAULT = 0, MODE_PREFERRED = 1, MODE_BIND = 2, MODE_INTERLEAVE = 3, MODE_LOCAL = 4,
    MODE_PREFERRED_MANY = 5, MODE_WEIGHTED_INTERLEAVE = 6,
};
static const struct name_value mempolicy_modes[] = {
    { "MPOL_DEFAULT", MODE_DEFAULT },
    { "MPOL_PREFERRED", MODE_PREFERRED },
    { "MPOL_BIND", MODE_BIND },
    { "MPOL_INTERLEAVE", MODE_INTERLEAVE },
    { "MPOL_LOCAL", MODE_LOCAL },
    { "MPOL_PREFERRED_MANY", MODE_PREFERRED_MANY },
    { "MPOL_WEIGHTED_INTERLEAVE", MODE_WEIGHTED_INTERLEAVE },
};
#define FLAG_STATIC_NODES (1 << 15)
#define FLAG_RELATIVE_NODES (1 << 14)
static const struct name_value mempolicy_flags[] = {
    { "MPOL_F_STATIC_NODES", FLAG_STATIC_NODES },
    { "MPOL_F_RELATIVE_NODES", FLAG_RELATIVE_NODES },
    { "MPOL_F_NUMA_BALANCING", 1 << 13 },
};

int husk_sched_policy_value(const char *name) { return (int) LOOKUP(sched_policies, name); }
int husk_sched_flag_value(const char *name) { return (int) LOOKUP(sched_flags, name); }
int husk_ioprio_class_value(const char *name) { return (int) LOOKUP(ioprio_classes, name); }
int husk_personality_domain_value(const char *name) { return (int) LOOKUP(personality_domains, name); }
long husk_personality_flag_value(const char *name) { return LOOKUP(personality_flags, name); }
int husk_mempolicy_mode_value(const char *name) { return (int) LOOKUP(mempolicy_modes, name); }
int husk_mempolicy_flag_value(const char *name) { return (int) LOOKUP(mempolicy_flags, name); }

/* ---------- id lists ("0-3,7") ---------- */

static bool parse_id(const char **p, unsigned long *out)
{
    const char *s = *p;
    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0)
        return false;
    *out = v;
    *p = end;
    return true;
}

int husk_id_list_parse(const char *list, unsigned long *bits, size_t nbits, const char *field,
                       husk_error_t *err)
{
    if (list == NULL || *list == '\0')
        return husk_error_set(err, 0, "%s: empty list", field);
    const char *p = list;
    for (;;) {
        unsigned long lo, hi;
        if (!parse_id(&p, &lo))
            return husk_error_set(err, 0, "%s: `%s`: expected a number at `%s`", field, list, p);
        hi = lo;
        if (*p == '-') {
            p++;
            if (!parse_id(&p, &hi))
                return husk_error_set(err, 0, "%s: `%s`: expected a number at `%s`", field,
                                      list, p);
            if (hi < lo)
                return husk_error_set(err, 0, "%s: `%s`: range %lu-%lu is reversed", field,
                                      list, lo, hi);
        }
        if (hi >= nbits)
            return husk_error_set(err, 0, "%s: `%s`: %lu is out of range (max %zu)", field, list,
                                  hi, nbits - 1);
        for (unsigned long i = lo; i <= hi; i++)
            bits[i / BITS_PER_WORD] |= 1UL << (i % BITS_PER_WORD);
        if (*p == '\0')
            return 0;
        if (*p != ',')
            return husk_error_set(err, 0, "%s: `%s`: unexpected `%c`", field, list, *p);
        p++;
    }
}

static int parse_cpu_list(const char *list, cpu_set_t *set, const char *field, husk_error_t *err)
{
    unsigned long bits[CPU_SETSIZE / BITS_PER_WORD] = { 0 };
    if (husk_id_list_parse(list, bits, CPU_SETSIZE, field, err) < 0)
        return -1;
    CPU_ZERO(set);
    for (size_t i = 0; i < CPU_SETSIZE; i++)
        if (bits[i / BITS_PER_WORD] & (1UL << (i % BITS_PER_WORD)))
            CPU_SET(i, set);
    return 0;
}

/* ---------- validation ---------- */

static bool is_realtime(int policy)
{
    return policy == SCHED_FIFO || policy == SCHED_RR;
}

static int validate_deadline(const ocispec_scheduler *s, husk_error_t *err)
{
    if (!s->has_runtime || s->runtime == 0)
        return husk_error_set(err, 0, "process.scheduler.runtime: required (> 0) for SCHED_DEADLINE");
    if (!s->has_deadline || s->deadline == 0)
        return husk_error_set(err, 0, "process.scheduler.deadline: required (> 0) for SCHED_DEADLINE");
    if (s->runtime > s->deadline)
        return husk_error_set(err, 0,
                              "process.scheduler.runtime: %llu is more than deadline %llu",
                              (unsigned long long) s->runtime, (unsigned long long) s->deadline);
    if (s->has_period && s->period != 0 && s->deadline > s->period)
        return husk_error_set(err, 0,
                              "process.scheduler.deadline: %llu is more than period %llu",
                              (unsigned long long) s->deadline, (unsigned long long) s->period);
    return 0;
}

static int validate_scheduler(const ocispec_scheduler *s, husk_error_t *err)
{
    int policy = husk_sched_policy_value(s->policy);
    if (policy < 0)
        return husk_error_set(err, 0, "process.scheduler.policy: unknown policy `%s`",
                              s->policy ? s->policy : "");
    for (size_t i = 0; i < s->flags_len; i++)
        if (husk_sched_flag_value(s->flags[i]) < 0)
            return husk_error_set(err, 0, "process.scheduler.flags[%zu]: unknown flag `%s`", i,
                                  s->flags[i]);
    if (s->has_nice && (s->nice < -20 || s->nice > 19))
        return husk_error_set(err, 0, "process.scheduler.nice: %d is out of range -20..19",
                              (int) s->nice);
    int32_t prio = s->has_priority ? s->priority : 0;
    if (is_realtime(policy) && (prio < 1 || prio > 99))
        return husk_error_set(err, 0, "process.scheduler.priority: %d is out of range 1..99 for %s",
                              (int) prio, s->policy);
    if (!is_realtime(policy) && prio != 0)
        return husk_error_set(err, 0, "process.scheduler.priority: must be 0 for %s, not %d",
                              s->policy, (int) prio);
    if (policy == SCHED_DEADLINE)
        return validate_deadline(s, err);
    return 0;
}

static int validate_personality(const ocispec_personality *p, husk_error_t *err)
{
    if (husk_personality_domain_value(p->domain) < 0)
        return husk_error_set(err, 0, "linux.personality.domain: unknown domain `%s`",
                              p->domain ? p->domain : "");
    for (size_t i = 0; i < p->flags_len; i++)
        if (husk_personality_flag_value(p->flags[i]) < 0)
            return husk_error_set(err, 0, "linux.personality.flags[%zu]: unknown flag `%s`", i,
                                  p->flags[i]);
    return 0;
}

static bool has_text(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static int validate_memory_policy(const ocispec_memory_policy *m, husk_error_t *err)
{
    int mode = husk_mempolicy_mode_value(m->mode);
    if (mode < 0)
        return husk_error_set(err, 0, "linux.memoryPolicy.mode: unknown mode `%s`",
                              m->mode ? m->mode : "");
    int flags = 0;
    for (size_t i = 0; i < m->flags_len; i++) {
        int f = husk_mempolicy_flag_value(m->flags[i]);
        if (f < 0)
            return husk_error_set(err, 0, "linux.memoryPolicy.flags[%zu]: unknown flag `%s`", i,
                                  m->flags[i]);
        flags |= f;
    }
    if ((flags & FLAG_STATIC_NODES) && (flags & FLAG_RELATIVE_NODES))
        return husk_error_set(err, 0, "linux.memoryPolicy.flags: MPOL_F_STATIC_NODES and "
                                      "MPOL_F_RELATIVE_NODES exclude each other");
    bool needs_nodes = mode == MODE_BIND || mode == MODE_INTERLEAVE ||
                       mode == MODE_WEIGHTED_INTERLEAVE || mode == MODE_PREFERRED_MANY;
    bool takes_nodes = needs_nodes || mode == MODE_PREFERRED;
    if (needs_nodes && !has_text(m->nodes))
        return husk_error_set(err, 0, "linux.memoryPolicy.nodes: required for %s", m->mode);
    if (!takes_nodes && has_text(m->nodes))
        return husk_error_set(err, 0, "linux.memoryPolicy.nodes: must be empty for %s", m->mode);
    if (has_text(m->nodes)) {
        unsigned long nodes[HUSK_MAX_NUMA_NODES / BITS_PER_WORD] = { 0 };
        if (husk_id_list_parse(m->nodes, nodes, HUSK_MAX_NUMA_NODES, "linux.memoryPolicy.nodes",
                               err) < 0)
            return -1;
    }
    return 0;
}

int husk_process_attrs_validate(const ocispec_config *c, husk_error_t *err)
{
    const ocispec_process *p = c->process;
    if (p != NULL) {
        if (p->scheduler != NULL && validate_scheduler(p->scheduler, err) < 0)
            return -1;
        if (p->io_priority != NULL) {
            if (husk_ioprio_class_value(p->io_priority->class) < 0)
                return husk_error_set(err, 0, "process.ioPriority.class: unknown class `%s`",
                                      p->io_priority->class ? p->io_priority->class : "");
            if (p->io_priority->priority < 0 || p->io_priority->priority > 7)
                return husk_error_set(err, 0, "process.ioPriority.priority: %lld is out of range 0..7",
                                      (long long) p->io_priority->priority);
        }
        if (p->has_oom_score_adj && (p->oom_score_adj < -1000 || p->oom_score_adj > 1000))
            return husk_error_set(err, 0, "process.oomScoreAdj: %d is out of range -1000..1000",
                                  (int) p->oom_score_adj);
        const ocispec_exec_cpu_affinity *a = p->exec_cpu_affinity;
        cpu_set_t set;
        if (a != NULL && has_text(a->initial) &&
            parse_cpu_list(a->initial, &set, "process.execCPUAffinity.initial", err) < 0)
            return -1;
        if (a != NULL && has_text(a->final) &&
            parse_cpu_list(a->final, &set, "process.execCPUAffinity.final", err) < 0)
            return -1;
    }
    const ocispec_linux *lx = c->linux;
    if (lx != NULL && lx->personality != NULL && validate_personality(lx->personality, err) < 0)
        return -1;
    if (lx != NULL && lx->memory_policy != NULL &&
        validate_memory_policy(lx->memory_policy, err) < 0)
        return -1;
    return 0;
}

/* ---------- applying ---------- */

static int apply_oom_score_adj(pid_t pid, const ocispec_process *p, husk_error_t *err)
{
    if (!p->has_oom_score_adj)
        return 0;
    cleanup_close int proc = husk_procfs_open(err);
    if (proc < 0)
        return husk_error_wrap(err, "process.oomScoreAdj");
    char rel[64], value[16];
    snprintf(rel, sizeof(rel), "%d/oom_score_adj", (int) pid);
    snprintf(value, sizeof(value), "%d", (int) p->oom_score_adj);
    if (husk_procfs_write(proc, rel, value, err) < 0)
        return husk_error_wrap(err, "process.oomScoreAdj");
    return 0;
}

static int apply_affinity(pid_t pid, const char *list, const char *field, husk_error_t *err)
{
    if (!has_text(list))
        return 0;
    cpu_set_t set;
    if (parse_cpu_list(list, &set, field, err) < 0)
        return -1;
    if (sched_setaffinity(pid, sizeof(set), &set) < 0)
        return husk_error_set(err, errno, "%s: set CPU affinity `%s`", field, list);
    return 0;
}

int husk_process_attrs_apply_early(pid_t pid, const ocispec_config *c, husk_error_t *err)
{
    const ocispec_process *p = c->process;
    if (p == NULL)
        return 0;
    if (apply_oom_score_adj(pid, p, err) < 0)
        return -1;
    if (p->exec_cpu_affinity != NULL &&
        apply_affinity(pid, p->exec_cpu_affinity->initial, "process.execCPUAffinity.initial",
                       err) < 0)
        return -1;
    return 0;
}

/* The kernel's struct sched_attr, up to the utilization clamps (VER1). */
struct husk_sched_attr {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime;
    uint64_t sched_deadline;
    uint64_t sched_period;
    uint32_t sched_util_min;
    uint32_t sched_util_max;
};

static int apply_scheduler(const ocispec_scheduler *s, husk_error_t *err)
{
    struct husk_sched_attr attr = {
        .size = sizeof(attr),
        .sched_policy = (uint32_t) husk_sched_policy_value(s->policy),
        .sched_nice = s->has_nice ? s->nice : 0,
        .sched_priority = s->has_priority ? (uint32_t) s->priority : 0,
        .sched_runtime = s->has_runtime ? s->runtime : 0,
        .sched_deadline = s->has_deadline ? s->deadline : 0,
        .sched_period = s->has_period ? s->period : 0,
        /* The spec carries no clamp values: a clamp flag resets that clamp
         * to the system default ((u32)-1), it never pins it to 0. */
        .sched_util_min = UINT32_MAX,
        .sched_util_max = UINT32_MAX,
    };
    for (size_t i = 0; i < s->flags_len; i++)
        attr.sched_flags |= (uint64_t) husk_sched_flag_value(s->flags[i]);
    if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0)
        return husk_error_set(err, errno, "process.scheduler: sched_setattr(%s)", s->policy);
    return 0;
}

static int apply_io_priority(const ocispec_io_priority *io, husk_error_t *err)
{
    enum { WHO_PROCESS = 1, CLASS_SHIFT = 13 };
    int value = (husk_ioprio_class_value(io->class) << CLASS_SHIFT) | (int) io->priority;
    if (syscall(SYS_ioprio_set, WHO_PROCESS, 0, value) < 0)
        return husk_error_set(err, errno, "process.ioPriority: ioprio_set(%s, %lld)", io->class,
                              (long long) io->priority);
    return 0;
}

static int apply_personality(const ocispec_personality *p, husk_error_t *err)
{
    unsigned long persona = (unsigned long) husk_personality_domain_value(p->domain);
    for (size_t i = 0; i < p->flags_len; i++)
        persona |= (unsigned long) husk_personality_flag_value(p->flags[i]);
    if (personality(persona) < 0)
        return husk_error_set(err, errno, "linux.personality: set %s (%#lx)", p->domain, persona);
    return 0;
}

static int apply_memory_policy(const ocispec_memory_policy *m, husk_error_t *err)
{
    int mode = husk_mempolicy_mode_value(m->mode);
    for (size_t i = 0; i < m->flags_len; i++)
        mode |= husk_mempolicy_flag_value(m->flags[i]);
    unsigned long nodes[HUSK_MAX_NUMA_NODES / BITS_PER_WORD] = { 0 };
    unsigned long *mask = NULL;
    unsigned long maxnode = 0;
    if (has_text(m->nodes)) {
        if (husk_id_list_parse(m->nodes, nodes, HUSK_MAX_NUMA_NODES, "linux.memoryPolicy.nodes",
                               err) < 0)
            return -1;
        mask = nodes;
        /* set_mempolicy(2) reads maxnode - 1 bits. */
        maxnode = HUSK_MAX_NUMA_NODES + 1;
    }
    if (syscall(SYS_set_mempolicy, mode, mask, maxnode) < 0)
        return husk_error_set(err, errno, "linux.memoryPolicy: set_mempolicy(%s, nodes `%s`)",
                              m->mode, m->nodes ? m->nodes : "");
    return 0;
}

int husk_process_attrs_apply_late(const ocispec_config *c, husk_error_t *err)
{
    const ocispec_process *p = c->process;
    const ocispec_linux *lx = c->linux;
    if (p != NULL && p->scheduler != NULL && apply_scheduler(p->scheduler, err) < 0)
        return -1;
    if (p != NULL && p->io_priority != NULL && apply_io_priority(p->io_priority, err) < 0)
        return -1;
    if (lx != NULL && lx->personality != NULL && apply_personality(lx->personality, err) < 0)
        return -1;
    if (lx != NULL && lx->memory_policy != NULL && apply_memory_policy(lx->memory_policy, err) < 0)
        return -1;
    if (p != NULL && p->exec_cpu_affinity != NULL &&
        apply_affinity(0, p->exec_cpu_affinity->final, "process.execCPUAffinity.final", err) < 0)
        return -1;
    return 0;
}
