/* husk events [--stats] [--interval T] ID
 *
 * Prints one JSON document per line, in runc's shape:
 *   {"type":"stats","id":ID,"data":{"cpu":...,"memory":...,"pids":...,
 *                                   "blkio":...,"hugetlb":...}}
 *   {"type":"oom","id":ID}
 * --stats: one stats document, then exit. Otherwise a stats document every
 * interval (default 5s) and an oom document whenever the container hits its
 * memory limit, until the container stops. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "cli.h"
#include "container_ops.h"
#include "utils.h"

static void print_events_help(void)
{
    printf("Usage: husk events [FLAGS] ID\n"
           "\n"
           "Prints the container's resource statistics every interval, and an OOM event when\n"
           "it runs out of memory, as JSON lines, until the container stops.\n"
           "\n"
           "Flags:\n"
           "  --interval DURATION   time between statistics (default 5s; e.g. 500ms, 2s, 1m)\n"
           "  --stats               print the statistics once and exit\n"
           "  -h, --help            show this help\n");
}

/* A duration as Go writes them: one or more number+unit pairs ("1m30s",
 * "1.5s", "200ms"); units ns us µs ms s m h. Result in milliseconds (a
 * positive duration below 1ms counts as 1ms). */
static int parse_duration(const char *s, int *out_ms, husk_error_t *err)
{
    static const struct {
        const char *name;
        double ms;
    } units[] = { { "ns", 1e-6 }, { "us", 1e-3 }, { "\xc2\xb5s", 1e-3 }, { "ms", 1 },
                  { "s", 1e3 },   { "m", 60e3 },  { "h", 3600e3 } };
    double total = 0;
    const char *p = s;
    if (*p == '\0')
        goto bad;
    while (*p != '\0') {
        char *end;
        if (!(*p >= '0' && *p <= '9') && *p != '.')
            goto bad;
        errno = 0;
        double v = strtod(p, &end);
        if (errno != 0 || end == p)
            goto bad;
        p = end;
        size_t best = 0;
        double unit = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            size_t len = strlen(units[i].name);
            if (len > best && strncmp(p, units[i].name, len) == 0) {
                best = len;
                unit = units[i].ms;
            }
        }
        if (best == 0)
            goto bad;
        p += best;
        total += v * unit;
    }
    if (total <= 0)
        return husk_error_set(err, 0, "--interval `%s`: the interval must be greater than 0", s);
    if (total > 24 * 3600e3)
        return husk_error_set(err, 0, "--interval `%s`: longer than a day", s);
    *out_ms = total < 1 ? 1 : (int) total;
    return 0;
bad:
    return husk_error_set(err, 0,
                          "--interval `%s`: not a duration (a number with a unit: ms, s, m, h)", s);
}

/* ---- JSON ---- */

static void key(yajl_gen g, const char *k)
{
    yajl_gen_string(g, (const unsigned char *) k, strlen(k));
}

static void str(yajl_gen g, const char *s)
{
    yajl_gen_string(g, (const unsigned char *) s, strlen(s));
}

static void u64(yajl_gen g, uint64_t v)
{
    char buf[32];
    int len = snprintf(buf, sizeof buf, "%" PRIu64, v);
    yajl_gen_number(g, buf, (size_t) len);
}

static void kv(yajl_gen g, const char *k, uint64_t v)
{
    key(g, k);
    u64(g, v);
}

/* runc leaves zero counters out of most objects ("omitempty"). */
static void kv_nonzero(yajl_gen g, const char *k, uint64_t v)
{
    if (v != 0)
        kv(g, k, v);
}

static void gen_cpu(yajl_gen g, const struct husk_cgroup_stats *s)
{
    key(g, "cpu");
    yajl_gen_map_open(g);
    key(g, "usage");
    yajl_gen_map_open(g);
    kv_nonzero(g, "total", s->cpu_total_ns);
    if (s->cpu_percpu_len > 0) {
        key(g, "percpu");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < s->cpu_percpu_len; i++)
            u64(g, s->cpu_percpu_ns[i]);
        yajl_gen_array_close(g);
    }
    kv(g, "kernel", s->cpu_kernel_ns);
    kv(g, "user", s->cpu_user_ns);
    yajl_gen_map_close(g);
    key(g, "throttling");
    yajl_gen_map_open(g);
    kv_nonzero(g, "periods", s->throttling_periods);
    kv_nonzero(g, "throttled_periods", s->throttled_periods);
    kv_nonzero(g, "throttled_time", s->throttled_time_ns);
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
}

static void gen_mem_entry(yajl_gen g, const char *name, const struct husk_cgroup_mem_entry *e)
{
    key(g, name);
    yajl_gen_map_open(g);
    kv(g, "limit", e->limit);
    kv_nonzero(g, "usage", e->usage);
    kv_nonzero(g, "max", e->max_usage);
    kv(g, "failcnt", e->failcnt);
    yajl_gen_map_close(g);
}

static bool memory_stat(const struct husk_cgroup_stats *s, const char *name, uint64_t *v)
{
    for (size_t i = 0; i < s->memory_stat_len; i++)
        if (strcmp(s->memory_stat_keys[i], name) == 0) {
            *v = s->memory_stat_values[i];
            return true;
        }
    return false;
}

static void gen_memory(yajl_gen g, const struct husk_cgroup_stats *s)
{
    key(g, "memory");
    yajl_gen_map_open(g);
    /* page cache: "cache" in v1's memory.stat, "file" in v2's */
    uint64_t cache = 0;
    if (!memory_stat(s, "cache", &cache))
        memory_stat(s, "file", &cache);
    kv_nonzero(g, "cache", cache);
    gen_mem_entry(g, "usage", &s->memory);
    gen_mem_entry(g, "swap", &s->swap);
    gen_mem_entry(g, "kernel", &s->kernel);
    gen_mem_entry(g, "kernelTCP", &s->kernel_tcp);
    if (s->memory_stat_len > 0) {
        key(g, "raw");
        yajl_gen_map_open(g);
        for (size_t i = 0; i < s->memory_stat_len; i++)
            kv(g, s->memory_stat_keys[i], s->memory_stat_values[i]);
        yajl_gen_map_close(g);
    }
    yajl_gen_map_close(g);
}

static void gen_pids(yajl_gen g, const struct husk_cgroup_stats *s)
{
    key(g, "pids");
    yajl_gen_map_open(g);
    kv_nonzero(g, "current", s->pids_current);
    /* runc reports an unlimited pids.max as no limit at all */
    if (s->pids_limit != UINT64_MAX)
        kv_nonzero(g, "limit", s->pids_limit);
    yajl_gen_map_close(g);
}

static void gen_blkio_list(yajl_gen g, const char *name, const struct husk_cgroup_blkio_entry *v,
                           size_t n)
{
    if (n == 0)
        return;
    key(g, name);
    yajl_gen_array_open(g);
    for (size_t i = 0; i < n; i++) {
        yajl_gen_map_open(g);
        kv_nonzero(g, "major", v[i].major);
        kv_nonzero(g, "minor", v[i].minor);
        if (v[i].op[0] != '\0') {
            key(g, "op");
            str(g, v[i].op);
        }
        kv_nonzero(g, "value", v[i].value);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
}

static void gen_blkio(yajl_gen g, const struct husk_cgroup_stats *s)
{
    key(g, "blkio");
    yajl_gen_map_open(g);
    gen_blkio_list(g, "ioServiceBytesRecursive", s->io_service_bytes, s->io_service_bytes_len);
    gen_blkio_list(g, "ioServicedRecursive", s->io_serviced, s->io_serviced_len);
    yajl_gen_map_close(g);
}

static void gen_hugetlb(yajl_gen g, const struct husk_cgroup_stats *s)
{
    key(g, "hugetlb");
    yajl_gen_map_open(g);
    for (size_t i = 0; i < s->hugetlb_len; i++) {
        const struct husk_cgroup_hugetlb_entry *h = &s->hugetlb[i];
        key(g, h->page_size);
        yajl_gen_map_open(g);
        kv_nonzero(g, "usage", h->usage);
        kv_nonzero(g, "max", h->max_usage);
        kv(g, "failcnt", h->failcnt);
        yajl_gen_map_close(g);
    }
    yajl_gen_map_close(g);
}

/* Prints {"type":TYPE,"id":ID[,"data":STATS]} and a newline, flushed so a
 * reader on a pipe sees each event as it happens. */
static int print_event(const char *type, const char *id, const struct husk_cgroup_stats *s)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    if (g == NULL)
        return -1;
    yajl_gen_map_open(g);
    key(g, "type");
    str(g, type);
    key(g, "id");
    str(g, id);
    if (s != NULL) {
        key(g, "data");
        yajl_gen_map_open(g);
        gen_cpu(g, s);
        gen_memory(g, s);
        gen_pids(g, s);
        gen_blkio(g, s);
        gen_hugetlb(g, s);
        yajl_gen_map_close(g);
    }
    yajl_gen_map_close(g);
    const unsigned char *buf;
    size_t len;
    int ret = -1;
    if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok) {
        fwrite(buf, 1, len, stdout);
        fputc('\n', stdout);
        ret = fflush(stdout) == 0 ? 0 : -1;
    }
    yajl_gen_free(g);
    return ret;
}

static int print_stats_event(const char *id, const struct husk_cgroup_stats *s,
                             husk_error_t *err)
{
    if (print_event("stats", id, s) < 0)
        return husk_error_set(err, errno, "write to standard output");
    return 0;
}

static int stream_events(const char *root, const char *id, int interval_ms, husk_error_t *err)
{
    cleanup_events husk_events *ev = NULL;
    if (husk_events_open(root, id, &ev, err) < 0)
        return -1;
    for (;;) {
        enum husk_event_kind what;
        if (husk_events_next(ev, interval_ms, &what, err) < 0)
            return -1;
        if (what == HUSK_EVENT_EXITED)
            return 0;
        if (what == HUSK_EVENT_OOM) {
            if (print_event("oom", id, NULL) < 0)
                return husk_error_set(err, errno, "write to standard output");
            continue;
        }
        struct husk_cgroup_stats s;
        if (husk_events_stats(ev, &s, err) < 0) {
            /* The cgroup can vanish with the container between the tick and
             * the read: that ends the stream, it is no failure. */
            if ((*err)->errno_value == ENOENT) {
                husk_error_free(err);
                return 0;
            }
            return -1;
        }
        int r = print_stats_event(id, &s, err);
        husk_cgroup_stats_clear(&s);
        if (r < 0)
            return -1;
    }
}

int cmd_events(struct husk_global *g, int argc, char **argv)
{
    static const struct option options[] = {
        { "interval", required_argument, NULL, 'i' },
        { "stats", no_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *interval = "5s";
    bool stats_once = false;
    int c;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'i':
            interval = optarg;
            break;
        case 's':
            stats_once = true;
            break;
        case 'h':
            print_events_help();
            return 0;
        default:
            return husk_cli_option_error(argv[0], c, argv);
        }
    }
    if (optind >= argc)
        return husk_cli_usage_error(argv[0], "missing container ID");
    if (argc - optind > 1)
        return husk_cli_usage_error(argv[0], "unexpected argument `%s`", argv[optind + 1]);
    const char *id = argv[optind];

    cleanup_error husk_error_t err = NULL;
    int interval_ms = 0;
    if (parse_duration(interval, &interval_ms, &err) < 0) {
        husk_error_wrap(&err, "events");
        return husk_cli_fail(g, &err);
    }
    if (stats_once) {
        struct husk_cgroup_stats s;
        if (husk_container_stats(g->root, id, &s, &err) < 0) {
            husk_error_wrap(&err, "events");
            return husk_cli_fail(g, &err);
        }
        int r = print_stats_event(id, &s, &err);
        husk_cgroup_stats_clear(&s);
        if (r < 0) {
            husk_error_wrap(&err, "events");
            return husk_cli_fail(g, &err);
        }
        return 0;
    }
    if (stream_events(g->root, id, interval_ms, &err) < 0) {
        husk_error_wrap(&err, "events");
        return husk_cli_fail(g, &err);
    }
    return 0;
}
