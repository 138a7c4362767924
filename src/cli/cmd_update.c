/* husk update [--resources FILE|-] [FLAGS] ID: changes a live container's
 * cgroup limits. The resources document (linux.resources of the runtime
 * spec) comes first; each flag then overrides its field. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cli.h"
#include "container_ops.h"
#include "ocispec.h"
#include "utils.h"

#define RESCTRL_MOUNT "/sys/fs/resctrl"
#ifndef RDTGROUP_SUPER_MAGIC
#define RDTGROUP_SUPER_MAGIC 0x7655821
#endif

enum {
    OPT_MEMORY = 256,
    OPT_MEMORY_RESERVATION,
    OPT_MEMORY_SWAP,
    OPT_KERNEL_MEMORY,
    OPT_KERNEL_MEMORY_TCP,
    OPT_CPU_SHARES,
    OPT_CPU_QUOTA,
    OPT_CPU_PERIOD,
    OPT_CPU_BURST,
    OPT_CPU_RT_PERIOD,
    OPT_CPU_RT_RUNTIME,
    OPT_CPUSET_CPUS,
    OPT_CPUSET_MEMS,
    OPT_PIDS_LIMIT,
    OPT_BLKIO_WEIGHT,
    OPT_L3_CACHE_SCHEMA,
    OPT_MEM_BW_SCHEMA,
};

static const struct option update_options[] = {
    { "resources", required_argument, NULL, 'r' },
    { "memory", required_argument, NULL, OPT_MEMORY },
    { "memory-reservation", required_argument, NULL, OPT_MEMORY_RESERVATION },
    { "memory-swap", required_argument, NULL, OPT_MEMORY_SWAP },
    { "kernel-memory", required_argument, NULL, OPT_KERNEL_MEMORY },
    { "kernel-memory-tcp", required_argument, NULL, OPT_KERNEL_MEMORY_TCP },
    { "cpu-share", required_argument, NULL, OPT_CPU_SHARES }, /* runc's spelling */
    { "cpu-shares", required_argument, NULL, OPT_CPU_SHARES },
    { "cpu-quota", required_argument, NULL, OPT_CPU_QUOTA },
    { "cpu-period", required_argument, NULL, OPT_CPU_PERIOD },
    { "cpu-burst", required_argument, NULL, OPT_CPU_BURST },
    { "cpu-rt-period", required_argument, NULL, OPT_CPU_RT_PERIOD },
    { "cpu-rt-runtime", required_argument, NULL, OPT_CPU_RT_RUNTIME },
    { "cpuset-cpus", required_argument, NULL, OPT_CPUSET_CPUS },
    { "cpuset-mems", required_argument, NULL, OPT_CPUSET_MEMS },
    { "pids-limit", required_argument, NULL, OPT_PIDS_LIMIT },
    { "blkio-weight", required_argument, NULL, OPT_BLKIO_WEIGHT },
    { "l3-cache-schema", required_argument, NULL, OPT_L3_CACHE_SCHEMA },
    { "mem-bw-schema", required_argument, NULL, OPT_MEM_BW_SCHEMA },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

static void print_update_help(void)
{
    printf("Usage: husk update [FLAGS] ID\n"
           "\n"
           "Changes the resource limits of a running (or created, or paused) container.\n"
           "--resources reads a linux.resources object of the runtime spec, e.g.\n"
           "  {\"memory\": {\"limit\": 104857600}, \"cpu\": {\"shares\": 512}, \"pids\": {\"limit\": 64}}\n"
           "Fields left out stay as they are; the flags below override the document.\n"
           "\n"
           "Flags:\n"
           "  -r, --resources FILE        the resources document, - for standard input\n"
           "  --memory SIZE               memory limit (bytes, or 512k, 100m, 1g...; -1: none)\n"
           "  --memory-reservation SIZE   memory soft limit\n"
           "  --memory-swap SIZE          memory + swap limit (-1: unlimited swap)\n"
           "  --kernel-memory SIZE        kernel memory limit (ignored by recent kernels)\n"
           "  --kernel-memory-tcp SIZE    kernel TCP buffer limit\n"
           "  --cpu-share(s) N            CPU shares (relative weight)\n"
           "  --cpu-quota N               CFS quota in microseconds per period (-1: none)\n"
           "  --cpu-period N              CFS period in microseconds\n"
           "  --cpu-burst N               CFS burst in microseconds (at most the quota)\n"
           "  --cpu-rt-period N           realtime period in microseconds\n"
           "  --cpu-rt-runtime N          realtime runtime in microseconds per period\n"
           "  --cpuset-cpus LIST          CPUs to run on (0-3,5)\n"
           "  --cpuset-mems LIST          memory nodes to use\n"
           "  --pids-limit N              maximum number of processes (-1: none; 0: unchanged)\n"
           "  --blkio-weight N            block I/O weight, 10 to 1000\n"
           "  --l3-cache-schema S         Intel RDT L3 cache schema\n"
           "  --mem-bw-schema S           Intel RDT memory bandwidth schema\n"
           "  -h, --help                  show this help\n");
}

/* ---- values ---- */

/* A size as runc takes it: a number with an optional binary unit (k, m, g,
 * t, p, optionally followed by i and/or b: "100M", "1g", "512kb", "1.5GiB"),
 * or -1 for "no limit". */
static int parse_size(const char *flag, const char *s, int64_t *out, husk_error_t *err)
{
    if (strcmp(s, "-1") == 0) {
        *out = -1;
        return 0;
    }
    const char *p = s;
    if (!isdigit((unsigned char) *p))
        goto bad;
    errno = 0;
    char *end;
    double value = strtod(p, &end);
    if (errno != 0 || end == p)
        goto bad;
    for (const char *q = p; q < end; q++)
        if (!isdigit((unsigned char) *q) && *q != '.')
            goto bad;
    p = end;
    if (*p == ' ')
        p++;
    double unit = 1;
    static const char units[] = "kmgtp";
    const char *u = *p ? strchr(units, tolower((unsigned char) *p)) : NULL;
    if (u != NULL) {
        for (const char *k = units; k <= u; k++)
            unit *= 1024;
        p++;
    }
    if (*p == 'i' || *p == 'I')
        p++;
    if (*p == 'b' || *p == 'B')
        p++;
    if (*p != '\0')
        goto bad;
    value *= unit;
    if (value >= 9223372036854775807.0)
        return husk_error_set(err, 0, "invalid value for %s: `%s` is too large", flag, s);
    *out = (int64_t) value;
    return 0;
bad:
    return husk_error_set(err, 0,
                          "invalid value for %s: `%s` is not a size (bytes, or a number with "
                          "k, m, g, t or p; -1 for no limit)",
                          flag, s);
}

static int parse_uint(const char *flag, const char *s, uint64_t max, uint64_t *out,
                      husk_error_t *err)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!isdigit((unsigned char) s[0]) || *end != '\0' || errno != 0 || v > max)
        return husk_error_set(err, 0,
                              "invalid value for %s: `%s` is not an unsigned integer up to %" PRIu64,
                              flag, s, max);
    *out = v;
    return 0;
}

static int parse_int(const char *flag, const char *s, int64_t *out, husk_error_t *err)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (s[0] == '\0' || isspace((unsigned char) s[0]) || *end != '\0' || errno != 0)
        return husk_error_set(err, 0, "invalid value for %s: `%s` is not an integer", flag, s);
    *out = v;
    return 0;
}

/* ---- the resources document ---- */

static int read_stdin(char **out, size_t *len, husk_error_t *err)
{
    size_t cap = 0;
    *len = 0;
    cleanup_free char *buf = NULL;
    for (;;) {
        if (*len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            if (cap > (64u << 20))
                return husk_error_set(err, EFBIG, "--resources -: standard input");
            char *bigger = realloc(buf, cap);
            if (bigger == NULL)
                return husk_error_set(err, ENOMEM, "--resources -");
            buf = bigger;
        }
        ssize_t r = read(STDIN_FILENO, buf + *len, cap - *len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return husk_error_set(err, errno, "--resources -: read standard input");
        if (r == 0)
            break;
        *len += (size_t) r;
    }
    buf[*len] = '\0';
    *out = steal_pointer(&buf);
    return 0;
}

static int load_resources(const char *source, ocispec_resources **out, husk_error_t *err)
{
    cleanup_free char *text = NULL;
    size_t len = 0;
    const char *name = strcmp(source, "-") == 0 ? "standard input" : source;
    if (strcmp(source, "-") == 0) {
        if (read_stdin(&text, &len, err) < 0)
            return -1;
    } else if (husk_read_file(source, &text, &len, err) < 0) {
        return husk_error_wrap(err, "--resources");
    }
    char *perr = NULL;
    *out = ocispec_resources_parse_data(text, len, &perr);
    if (*out == NULL) {
        husk_error_set(err, 0, "--resources `%s`: %s", name, perr ? perr : "invalid document");
        free(perr);
        return -1;
    }
    return 0;
}

/* The sub-object a flag writes into, made on first use. */
#define SUB(res, member) \
    ((res)->member != NULL ? (res)->member : ((res)->member = calloc(1, sizeof(*(res)->member))))

static int set_memory(ocispec_resources *res, int opt, int64_t v, husk_error_t *err)
{
    ocispec_memory *m = SUB(res, memory);
    if (m == NULL)
        return husk_error_set(err, ENOMEM, "update");
    switch (opt) {
    case OPT_MEMORY:
        m->has_limit = true, m->limit = v;
        break;
    case OPT_MEMORY_RESERVATION:
        m->has_reservation = true, m->reservation = v;
        break;
    case OPT_MEMORY_SWAP:
        m->has_swap = true, m->swap = v;
        break;
    case OPT_KERNEL_MEMORY:
        m->has_kernel = true, m->kernel = v;
        break;
    default:
        m->has_kernel_tcp = true, m->kernel_tcp = v;
        break;
    }
    return 0;
}

static int set_string(char **field, const char *value, husk_error_t *err)
{
    char *copy = strdup(value);
    if (copy == NULL)
        return husk_error_set(err, ENOMEM, "update");
    free(*field);
    *field = copy;
    return 0;
}

static const char *flag_name(int opt)
{
    for (const struct option *o = update_options; o->name != NULL; o++)
        if (o->val == opt)
            return o->name;
    return "?";
}

/* Applies one flag to res. */
static int apply_flag(ocispec_resources *res, int opt, const char *value, husk_error_t *err)
{
    char flag[40];
    snprintf(flag, sizeof flag, "--%s", flag_name(opt));
    int64_t i = 0;
    uint64_t u = 0;
    switch (opt) {
    case OPT_MEMORY:
    case OPT_MEMORY_RESERVATION:
    case OPT_MEMORY_SWAP:
    case OPT_KERNEL_MEMORY:
    case OPT_KERNEL_MEMORY_TCP:
        if (parse_size(flag, value, &i, err) < 0)
            return -1;
        return set_memory(res, opt, i, err);
    case OPT_PIDS_LIMIT: {
        ocispec_pids *p = SUB(res, pids);
        if (p == NULL)
            return husk_error_set(err, ENOMEM, "update");
        if (parse_int(flag, value, &i, err) < 0)
            return -1;
        /* runc's flag: 0 (its default) leaves the limit as it is; -1
         * removes it */
        if (i != 0)
            p->has_limit = true, p->limit = i;
        return 0;
    }
    case OPT_BLKIO_WEIGHT: {
        ocispec_block_io *b = SUB(res, block_io);
        if (b == NULL)
            return husk_error_set(err, ENOMEM, "update");
        if (parse_uint(flag, value, UINT16_MAX, &u, err) < 0)
            return -1;
        b->has_weight = true, b->weight = (uint16_t) u;
        return 0;
    }
    default:
        break;
    }
    ocispec_cpu *c = SUB(res, cpu);
    if (c == NULL)
        return husk_error_set(err, ENOMEM, "update");
    switch (opt) {
    case OPT_CPU_SHARES:
        if (parse_uint(flag, value, UINT64_MAX, &u, err) < 0)
            return -1;
        c->has_shares = true, c->shares = u;
        return 0;
    case OPT_CPU_QUOTA:
        if (parse_int(flag, value, &i, err) < 0)
            return -1;
        c->has_quota = true, c->quota = i;
        return 0;
    case OPT_CPU_PERIOD:
        if (parse_uint(flag, value, UINT64_MAX, &u, err) < 0)
            return -1;
        c->has_period = true, c->period = u;
        return 0;
    case OPT_CPU_BURST:
        if (parse_uint(flag, value, UINT64_MAX, &u, err) < 0)
            return -1;
        c->has_burst = true, c->burst = u;
        return 0;
    case OPT_CPU_RT_PERIOD:
        if (parse_uint(flag, value, UINT64_MAX, &u, err) < 0)
            return -1;
        c->has_realtime_period = true, c->realtime_period = u;
        return 0;
    case OPT_CPU_RT_RUNTIME:
        if (parse_int(flag, value, &i, err) < 0)
            return -1;
        c->has_realtime_runtime = true, c->realtime_runtime = i;
        return 0;
    case OPT_CPUSET_CPUS:
        return set_string(&c->cpus, value, err);
    default: /* OPT_CPUSET_MEMS */
        return set_string(&c->mems, value, err);
    }
}

struct flag_value {
    int opt;
    const char *value;
};

static void resources_free_ptr(ocispec_resources **res)
{
    ocispec_resources_free(*res);
    *res = NULL;
}
#define cleanup_resources __attribute__((cleanup(resources_free_ptr)))

/* The document (or nothing), then every flag over it, in command-line order. */
static int build_resources(const char *resources_file, const struct flag_value *flags,
                           size_t n_flags, ocispec_resources **out, husk_error_t *err)
{
    cleanup_resources ocispec_resources *res = NULL;
    if (resources_file != NULL) {
        if (load_resources(resources_file, &res, err) < 0)
            return -1;
    } else if ((res = calloc(1, sizeof *res)) == NULL) {
        return husk_error_set(err, ENOMEM, "update");
    }
    for (size_t i = 0; i < n_flags; i++)
        if (apply_flag(res, flags[i].opt, flags[i].value, err) < 0)
            return -1;
    *out = steal_pointer(&res);
    return 0;
}

/* Intel RDT schemas live in the resctrl filesystem. Without it mounted
 * there is nothing to write them to (runc refuses the same way); with it,
 * the container would need a resctrl group of its own, which only
 * linux.intelRdt at create time could have made, and husk does not make
 * one yet. Either way: refused before anything changes. */
static int refuse_intel_rdt(struct husk_global *g, const char *flag)
{
    cleanup_error husk_error_t err = NULL;
    struct statfs fs;
    if (statfs(RESCTRL_MOUNT, &fs) < 0 || (unsigned long) fs.f_type != RDTGROUP_SUPER_MAGIC)
        husk_error_plain(&err, ENOTSUP,
                         "update: --%s: Intel RDT is not available: resctrl is not mounted at "
                         RESCTRL_MOUNT,
                         flag);
    else
        husk_error_plain(&err, ENOTSUP,
                         "update: --%s: Intel RDT is not enabled for this container (husk does "
                         "not place containers in resctrl groups; linux.intelRdt is not "
                         "supported)",
                         flag);
    return husk_cli_fail(g, &err);
}

int cmd_update(struct husk_global *g, int argc, char **argv)
{
    const char *resources_file = NULL;
    struct flag_value flags[64];
    size_t n_flags = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":r:h", update_options, NULL)) != -1) {
        switch (c) {
        case 'r':
            resources_file = optarg;
            break;
        case 'h':
            print_update_help();
            return 0;
        case OPT_L3_CACHE_SCHEMA:
        case OPT_MEM_BW_SCHEMA:
            return refuse_intel_rdt(g, flag_name(c));
        case '?':
        case ':':
            return husk_cli_option_error(argv[0], c, argv);
        default:
            if (n_flags == sizeof flags / sizeof flags[0])
                return husk_cli_usage_error(argv[0], "too many flags");
            flags[n_flags++] = (struct flag_value){ c, optarg };
            break;
        }
    }
    if (optind >= argc)
        return husk_cli_usage_error(argv[0], "missing container ID");
    if (argc - optind > 1)
        return husk_cli_usage_error(argv[0], "unexpected argument `%s`", argv[optind + 1]);
    const char *id = argv[optind];

    cleanup_resources ocispec_resources *res = NULL;
    cleanup_error husk_error_t err = NULL;
    if (build_resources(resources_file, flags, n_flags, &res, &err) < 0 ||
        husk_container_update(g->root, id, res, &err) < 0) {
        husk_error_wrap(&err, "update");
        return husk_cli_fail(g, &err);
    }
    if (res->memory != NULL && res->memory->has_kernel && res->memory->kernel != 0)
        fprintf(stderr, "husk: warning: update: linux.resources.memory.kernel is deprecated; "
                        "recent kernels no longer apply kernel memory limits\n");
    return 0;
}
