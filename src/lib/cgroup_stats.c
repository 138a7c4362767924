/* Cgroup statistics for `events --stats`: the counters of runc's stats
 * document, read from v1 or v2 files into one form. A file the kernel does
 * not offer is skipped (its fields stay zero); nothing here writes. */
#define _GNU_SOURCE
#include "cgroup_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "utils.h"

/* Reads a control file; 1 when read, 0 when the file does not exist. */
static int read_ctl(const struct cg_dir *d, const char *file, char **out, husk_error_t *err)
{
    *out = NULL;
    cleanup_close int fd = openat(d->fd, file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == EOPNOTSUPP)
            return 0;
        return husk_error_set(err, errno, "open `%s/%s`", d->abs, file);
    }
    if (husk_read_file_at(d->fd, file, out, NULL, NULL) < 0)
        return husk_error_set(err, errno, "read `%s/%s`", d->abs, file);
    return 1;
}

static uint64_t parse_u64(const char *s)
{
    while (*s == ' ')
        s++;
    if (strncmp(s, "max", 3) == 0)
        return UINT64_MAX;
    return strtoull(s, NULL, 10);
}

/* A single-number file; *present tells whether it exists. */
static int read_u64(const struct cg_dir *d, const char *file, uint64_t *v, bool *present,
                    husk_error_t *err)
{
    cleanup_free char *text = NULL;
    int r = read_ctl(d, file, &text, err);
    if (r < 0)
        return -1;
    if (present != NULL)
        *present = r > 0;
    if (r > 0)
        *v = parse_u64(text);
    return 0;
}

/* "key value" lines (cpu.stat, memory.stat, memory.events, cpuacct.stat):
 * the value of key, or false when absent. */
static bool keyed(const char *text, const char *key, uint64_t *v)
{
    size_t len = strlen(key);
    for (const char *line = text; line != NULL && *line != '\0';) {
        if (strncmp(line, key, len) == 0 && line[len] == ' ') {
            *v = parse_u64(line + len + 1);
            return true;
        }
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    return false;
}

static int add_blkio(struct husk_cgroup_blkio_entry **v, size_t *n, uint32_t major,
                     uint32_t minor, const char *op, uint64_t value)
{
    struct husk_cgroup_blkio_entry *bigger = realloc(*v, (*n + 1) * sizeof *bigger);
    if (bigger == NULL)
        return -1;
    *v = bigger;
    struct husk_cgroup_blkio_entry *e = &bigger[(*n)++];
    e->major = major;
    e->minor = minor;
    snprintf(e->op, sizeof e->op, "%s", op);
    e->value = value;
    return 0;
}

/* ---------- cpu ---------- */

static int cpu_v1(husk_cgroup *cg, struct husk_cgroup_stats *s, husk_error_t *err)
{
    struct cg_dir *acct = cg_dir_for(cg, CG_CPUACCT);
    if (acct != NULL && acct->fd >= 0) {
        bool present = false;
        if (read_u64(acct, "cpuacct.usage", &s->cpu_total_ns, &present, err) < 0)
            return -1;
        s->has_cpu |= present;
        cleanup_free char *percpu = NULL;
        if (read_ctl(acct, "cpuacct.usage_percpu", &percpu, err) < 0)
            return -1;
        for (char *p = percpu; p != NULL && *p != '\0' && *p != '\n';) {
            char *end;
            uint64_t v = strtoull(p, &end, 10);
            if (end == p)
                break;
            uint64_t *bigger = realloc(s->cpu_percpu_ns, (s->cpu_percpu_len + 1) * sizeof v);
            if (bigger == NULL)
                return husk_error_set(err, ENOMEM, "cgroup stats");
            s->cpu_percpu_ns = bigger;
            s->cpu_percpu_ns[s->cpu_percpu_len++] = v;
            p = end;
        }
        /* cpuacct.stat counts USER_HZ ticks */
        cleanup_free char *stat = NULL;
        if (read_ctl(acct, "cpuacct.stat", &stat, err) < 0)
            return -1;
        long hz = sysconf(_SC_CLK_TCK);
        uint64_t ticks;
        if (stat != NULL && hz > 0) {
            if (keyed(stat, "user", &ticks))
                s->cpu_user_ns = ticks * (1000000000ull / (uint64_t)hz);
            if (keyed(stat, "system", &ticks))
                s->cpu_kernel_ns = ticks * (1000000000ull / (uint64_t)hz);
        }
    }
    struct cg_dir *cpu = cg_dir_for(cg, CG_CPU);
    if (cpu != NULL && cpu->fd >= 0) {
        cleanup_free char *stat = NULL;
        if (read_ctl(cpu, "cpu.stat", &stat, err) < 0)
            return -1;
        if (stat != NULL) {
            s->has_cpu = true;
            keyed(stat, "nr_periods", &s->throttling_periods);
            keyed(stat, "nr_throttled", &s->throttled_periods);
            keyed(stat, "throttled_time", &s->throttled_time_ns);
        }
    }
    return 0;
}

static int cpu_v2(struct cg_dir *d, struct husk_cgroup_stats *s, husk_error_t *err)
{
    cleanup_free char *stat = NULL;
    if (read_ctl(d, "cpu.stat", &stat, err) < 0)
        return -1;
    if (stat == NULL)
        return 0;
    s->has_cpu = true;
    uint64_t us;
    if (keyed(stat, "usage_usec", &us))
        s->cpu_total_ns = us * 1000;
    if (keyed(stat, "user_usec", &us))
        s->cpu_user_ns = us * 1000;
    if (keyed(stat, "system_usec", &us))
        s->cpu_kernel_ns = us * 1000;
    keyed(stat, "nr_periods", &s->throttling_periods);
    keyed(stat, "nr_throttled", &s->throttled_periods);
    if (keyed(stat, "throttled_usec", &us))
        s->throttled_time_ns = us * 1000;
    return 0;
}

/* ---------- memory ---------- */

static int mem_entry_v1(const struct cg_dir *d, const char *prefix,
                        struct husk_cgroup_mem_entry *e, husk_error_t *err)
{
    static const char *const names[] = {"usage_in_bytes", "max_usage_in_bytes",
                                        "limit_in_bytes", "failcnt"};
    uint64_t *fields[] = {&e->usage, &e->max_usage, &e->limit, &e->failcnt};
    for (size_t i = 0; i < 4; i++) {
        char file[64];
        snprintf(file, sizeof file, "%s%s", prefix, names[i]);
        bool present = false;
        if (read_u64(d, file, fields[i], &present, err) < 0)
            return -1;
        e->present |= present;
    }
    return 0;
}

static int memory_stat(const struct cg_dir *d, struct husk_cgroup_stats *s, husk_error_t *err)
{
    cleanup_free char *text = NULL;
    if (read_ctl(d, "memory.stat", &text, err) < 0)
        return -1;
    char *save = NULL;
    for (char *line = text != NULL ? strtok_r(text, "\n", &save) : NULL; line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char *space = strchr(line, ' ');
        if (space == NULL)
            continue;
        *space = '\0';
        size_t n = s->memory_stat_len + 1;
        char **keys = realloc(s->memory_stat_keys, n * sizeof *keys);
        if (keys == NULL)
            return husk_error_set(err, ENOMEM, "cgroup stats");
        s->memory_stat_keys = keys;
        uint64_t *values = realloc(s->memory_stat_values, n * sizeof *values);
        if (values == NULL)
            return husk_error_set(err, ENOMEM, "cgroup stats");
        s->memory_stat_values = values;
        keys[s->memory_stat_len] = strdup(line);
        if (keys[s->memory_stat_len] == NULL)
            return husk_error_set(err, ENOMEM, "cgroup stats");
        values[s->memory_stat_len++] = parse_u64(space + 1);
    }
    return 0;
}

static int memory_v1(const struct cg_dir *d, struct husk_cgroup_stats *s, husk_error_t *err)
{
    if (mem_entry_v1(d, "memory.", &s->memory, err) < 0 ||
        mem_entry_v1(d, "memory.memsw.", &s->swap, err) < 0 ||
        mem_entry_v1(d, "memory.kmem.", &s->kernel, err) < 0 ||
        mem_entry_v1(d, "memory.kmem.tcp.", &s->kernel_tcp, err) < 0 ||
        memory_stat(d, s, err) < 0)
        return -1;
    s->has_memory = s->memory.present;
    cleanup_free char *oom = NULL;
    if (read_ctl(d, "memory.oom_control", &oom, err) < 0)
        return -1;
    if (oom != NULL)
        keyed(oom, "oom_kill", &s->oom_kills);
    return 0;
}

static int memory_v2(const struct cg_dir *d, struct husk_cgroup_stats *s, husk_error_t *err)
{
    struct husk_cgroup_mem_entry *m = &s->memory, *sw = &s->swap;
    bool present = false;
    if (read_u64(d, "memory.current", &m->usage, &present, err) < 0 ||
        read_u64(d, "memory.max", &m->limit, NULL, err) < 0 ||
        read_u64(d, "memory.peak", &m->max_usage, NULL, err) < 0 ||
        read_u64(d, "memory.swap.current", &sw->usage, &sw->present, err) < 0 ||
        read_u64(d, "memory.swap.max", &sw->limit, NULL, err) < 0 ||
        memory_stat(d, s, err) < 0)
        return -1;
    m->present = present;
    s->has_memory = present;
    cleanup_free char *events = NULL;
    if (read_ctl(d, "memory.events", &events, err) < 0)
        return -1;
    if (events != NULL) {
        keyed(events, "max", &m->failcnt);
        keyed(events, "oom_kill", &s->oom_kills);
    }
    return 0;
}

/* ---------- block I/O ---------- */

/* v1: "MAJ:MIN Op value" lines, plus a closing "Total N" line to skip. */
static int blkio_v1_file(const struct cg_dir *d, const char *file,
                         struct husk_cgroup_blkio_entry **v, size_t *n, husk_error_t *err)
{
    cleanup_free char *text = NULL;
    int r = read_ctl(d, file, &text, err);
    if (r <= 0)
        return r;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        unsigned major, minor;
        char op[16];
        unsigned long long value;
        if (sscanf(line, "%u:%u %15s %llu", &major, &minor, op, &value) == 4 &&
            add_blkio(v, n, major, minor, op, value) < 0)
            return husk_error_set(err, ENOMEM, "cgroup stats");
    }
    return 1;
}

static int blkio_v1(const struct cg_dir *d, struct husk_cgroup_stats *s, husk_error_t *err)
{
    /* CFQ-era files first, then BFQ's, then the throttle layer's (which
     * counts every I/O whatever the scheduler) */
    static const char *const bytes[] = {"blkio.io_service_bytes_recursive",
                                        "blkio.bfq.io_service_bytes_recursive",
                                        "blkio.throttle.io_service_bytes_recursive"};
    static const char *const ios[] = {"blkio.io_serviced_recursive",
                                      "blkio.bfq.io_serviced_recursive",
                                      "blkio.throttle.io_serviced_recursive"};
    for (size_t i = 0; i < 3; i++) {
        int r = blkio_v1_file(d, bytes[i], &s->io_service_bytes, &s->io_service_bytes_len, err);
        if (r < 0)
            return -1;
        if (r > 0 && s->io_service_bytes_len > 0)
            break;
    }
    for (size_t i = 0; i < 3; i++) {
        int r = blkio_v1_file(d, ios[i], &s->io_serviced, &s->io_serviced_len, err);
        if (r < 0)
            return -1;
        if (r > 0 && s->io_serviced_len > 0)
            break;
    }
    s->has_blkio = true;
    return 0;
}

/* v2 io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N" */
static int blkio_v2(const struct cg_dir *d, struct husk_cgroup_stats *s, husk_error_t *err)
{
    cleanup_free char *text = NULL;
    int r = read_ctl(d, "io.stat", &text, err);
    if (r <= 0)
        return r;
    s->has_blkio = true;
    static const struct {
        const char *key, *op;
        bool bytes;
    } keys[] = {{"rbytes", "Read", true},  {"wbytes", "Write", true}, {"dbytes", "Discard", true},
                {"rios", "Read", false},   {"wios", "Write", false},  {"dios", "Discard", false}};
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        unsigned major, minor;
        if (sscanf(line, "%u:%u", &major, &minor) != 2)
            continue;
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            char pat[16];
            snprintf(pat, sizeof pat, " %s=", keys[i].key);
            const char *at = strstr(line, pat);
            if (at == NULL)
                continue;
            uint64_t value = strtoull(at + strlen(pat), NULL, 10);
            int a = keys[i].bytes
                        ? add_blkio(&s->io_service_bytes, &s->io_service_bytes_len, major, minor,
                                    keys[i].op, value)
                        : add_blkio(&s->io_serviced, &s->io_serviced_len, major, minor,
                                    keys[i].op, value);
            if (a < 0)
                return husk_error_set(err, ENOMEM, "cgroup stats");
        }
    }
    return 0;
}

/* ---------- hugetlb ---------- */

/* "hugepages-2048kB" -> "2MB", as the cgroup file names spell sizes. */
static bool page_size_name(const char *dirent, char *out, size_t size)
{
    unsigned long kb;
    if (sscanf(dirent, "hugepages-%lukB", &kb) != 1)
        return false;
    if (kb >= 1024 * 1024 && kb % (1024 * 1024) == 0)
        snprintf(out, size, "%luGB", kb / (1024 * 1024));
    else if (kb >= 1024 && kb % 1024 == 0)
        snprintf(out, size, "%luMB", kb / 1024);
    else
        snprintf(out, size, "%luKB", kb);
    return true;
}

static int hugetlb(struct cg_dir *d, struct husk_cgroup_stats *s, husk_error_t *err)
{
    cleanup_dir DIR *dir = opendir("/sys/kernel/mm/hugepages");
    if (dir == NULL)
        return 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        char size[24];
        if (!page_size_name(de->d_name, size, sizeof size))
            continue;
        struct husk_cgroup_hugetlb_entry e = {0};
        snprintf(e.page_size, sizeof e.page_size, "%s", size);
        char file[80];
        bool present = false;
        if (d->h->v2) {
            snprintf(file, sizeof file, "hugetlb.%s.current", size);
            if (read_u64(d, file, &e.usage, &present, err) < 0)
                return -1;
            snprintf(file, sizeof file, "hugetlb.%s.events", size);
            cleanup_free char *events = NULL;
            if (read_ctl(d, file, &events, err) < 0)
                return -1;
            if (events != NULL)
                keyed(events, "max", &e.failcnt);
        } else {
            snprintf(file, sizeof file, "hugetlb.%s.usage_in_bytes", size);
            if (read_u64(d, file, &e.usage, &present, err) < 0)
                return -1;
            snprintf(file, sizeof file, "hugetlb.%s.max_usage_in_bytes", size);
            if (read_u64(d, file, &e.max_usage, NULL, err) < 0)
                return -1;
            snprintf(file, sizeof file, "hugetlb.%s.failcnt", size);
            if (read_u64(d, file, &e.failcnt, NULL, err) < 0)
                return -1;
        }
        if (!present)
            continue;
        struct husk_cgroup_hugetlb_entry *bigger =
            realloc(s->hugetlb, (s->hugetlb_len + 1) * sizeof *bigger);
        if (bigger == NULL)
            return husk_error_set(err, ENOMEM, "cgroup stats");
        s->hugetlb = bigger;
        s->hugetlb[s->hugetlb_len++] = e;
    }
    return 0;
}

/* ---------- entry points ---------- */

void husk_cgroup_stats_clear(struct husk_cgroup_stats *s)
{
    free(s->cpu_percpu_ns);
    for (size_t i = 0; i < s->memory_stat_len; i++)
        free(s->memory_stat_keys[i]);
    free(s->memory_stat_keys);
    free(s->memory_stat_values);
    free(s->io_service_bytes);
    free(s->io_serviced);
    free(s->hugetlb);
    memset(s, 0, sizeof *s);
}

static int collect(husk_cgroup *cg, struct husk_cgroup_stats *s, husk_error_t *err)
{
    struct cg_dir *cpu = cg_dir_for(cg, CG_CPU);
    if (cpu != NULL && cpu->h->v2) {
        if (cpu->fd >= 0 && cpu_v2(cpu, s, err) < 0)
            return -1;
    } else if (cpu_v1(cg, s, err) < 0) {
        return -1;
    }
    struct cg_dir *mem = cg_dir_for(cg, CG_MEMORY);
    if (mem != NULL && mem->fd >= 0 &&
        (mem->h->v2 ? memory_v2(mem, s, err) : memory_v1(mem, s, err)) < 0)
        return -1;
    struct cg_dir *pids = cg_dir_for(cg, CG_PIDS);
    if (pids != NULL && pids->fd >= 0) {
        if (read_u64(pids, "pids.current", &s->pids_current, &s->has_pids, err) < 0 ||
            read_u64(pids, "pids.max", &s->pids_limit, NULL, err) < 0)
            return -1;
    }
    struct cg_dir *blk = cg_dir_for(cg, CG_BLKIO);
    if (blk != NULL && blk->fd >= 0 && (blk->h->v2 ? blkio_v2(blk, s, err) : blkio_v1(blk, s, err)) < 0)
        return -1;
    struct cg_dir *huge = cg_dir_for(cg, CG_HUGETLB);
    if (huge != NULL && huge->fd >= 0 && hugetlb(huge, s, err) < 0)
        return -1;
    return 0;
}

int husk_cgroup_stats(husk_cgroup *cg, struct husk_cgroup_stats *out, husk_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (cg == NULL || cg->manager == HUSK_CGROUP_DISABLED)
        return husk_error_set(err, ENOTSUP, "container statistics: the container runs without "
                                            "cgroups (--cgroup-manager disabled)");
    bool any = false;
    for (size_t i = 0; i < cg->n_dirs; i++)
        any |= cg->dirs[i].fd >= 0;
    if (!any)
        return husk_error_set(err, ENOENT, "container statistics: cgroup `%s` does not exist",
                              cg->path);
    if (collect(cg, out, err) < 0) {
        husk_cgroup_stats_clear(out);
        return husk_error_wrap(err, "container statistics");
    }
    return 0;
}
