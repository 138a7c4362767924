/* The systemd cgroup driver: cgroupsPath parsing, resources -> unit
 * properties, and the D-Bus calls (sd-bus) that make, change and stop the
 * container's transient scope. See cgroup_systemd.h. Property names and
 * types follow org.freedesktop.systemd1(5) and systemd.resource-control(5).
 * libsystemd is dlopen'ed on first use (sd_bus_loader.h): `libsd->call`
 * is sd_bus_call. */
#define _GNU_SOURCE
#include "config.h"
#include "cgroup_systemd.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_SYSTEMD
#include "sd_bus_loader.h"
#endif

#include "utils.h"

#define FIELD "linux.cgroupsPath"
/* systemd's UNIT_NAME_MAX, less the NUL */
#define UNIT_NAME_MAX_LEN 255
/* the highest CPU / NUMA node a mask may name: keeps a typo from allocating */
#define MASK_MAX_BIT 65535

/* ---------- cgroupsPath ---------- */

void cg_sd_path_clear(struct cg_sd_path *p)
{
    free(p->slice);
    free(p->unit);
    free(p->cgroup_path);
    memset(p, 0, sizeof *p);
}

/* The characters systemd allows in unit names (systemd.unit(5)), less ':'
 * (the cgroupsPath separator). */
static bool unit_chars_ok(const char *s)
{
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.\\") ==
           strlen(s);
}

static int bad_path(husk_error_t *err, const char *value, const char *why)
{
    return husk_error_plain(err, EINVAL, FIELD " `%s`: %s", value, why);
}

static int check_slice_name(const char *value, const char *slice, husk_error_t *err)
{
    size_t len = strlen(slice);
    if (len <= 6 || strcmp(slice + len - 6, ".slice") != 0)
        return bad_path(err, value, "the slice must be a name ending in `.slice` (systemd cgroup "
                                    "paths are `slice:prefix:name`)");
    if (strstr(slice, "..") != NULL || !unit_chars_ok(slice))
        return bad_path(err, value, "the slice name has characters systemd does not take "
                                    "(`..`, `/`, spaces)");
    if (strcmp(slice, "-.slice") == 0)
        return 0;
    /* Dashes separate the slice's parents: no empty component. */
    if (slice[0] == '-' || slice[len - 7] == '-' || strstr(slice, "--") != NULL)
        return bad_path(err, value, "the slice name has an empty `-` component");
    return 0;
}

int cg_sd_slice_cgroup(const char *slice, char **out, husk_error_t *err)
{
    if (check_slice_name(slice, slice, err) < 0)
        return -1;
    if (strcmp(slice, "-.slice") == 0) {
        *out = strdup("");
        return *out != NULL ? 0 : husk_error_set(err, ENOMEM, FIELD);
    }
    size_t stem = strlen(slice) - 6;
    /* each '-' adds "/<prefix>.slice": at most stem * (stem + 7) bytes */
    size_t cap = 1 + (stem + 1) * (stem + 8);
    cleanup_free char *buf = malloc(cap);
    if (buf == NULL)
        return husk_error_set(err, ENOMEM, FIELD);
    size_t used = 0;
    for (size_t i = 0; i <= stem; i++) {
        if (i == stem || slice[i] == '-')
            used += (size_t)snprintf(buf + used, cap - used, "/%.*s.slice", (int)i, slice);
    }
    *out = steal_pointer(&buf);
    return 0;
}

static int check_scope_part(const char *value, const char *part, const char *what,
                            husk_error_t *err)
{
    if (strcmp(part, ".") == 0 || strstr(part, "..") != NULL || !unit_chars_ok(part)) {
        char why[128];
        snprintf(why, sizeof why, "the %s has characters systemd does not take (`..`, `/`, "
                                  "spaces)", what);
        return bad_path(err, value, why);
    }
    return 0;
}

int cg_sd_parse_path(const char *id, const char *cgroups_path, struct cg_sd_path *out,
                     husk_error_t *err)
{
    memset(out, 0, sizeof *out);
    cleanup_free char *dflt = NULL;
    if (cgroups_path == NULL || cgroups_path[0] == '\0') {
        if (asprintf(&dflt, "system.slice:husk:%s", id != NULL ? id : "") < 0)
            return husk_error_set(err, ENOMEM, FIELD);
        cgroups_path = dflt;
    }
    const char *c1 = strchr(cgroups_path, ':');
    const char *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
    if (c1 == NULL || c2 == NULL || strchr(c2 + 1, ':') != NULL)
        return bad_path(err, cgroups_path,
                        "the systemd cgroup manager wants `slice:prefix:name` (three parts "
                        "separated by `:`, e.g. `system.slice:husk:abc`)");
    cleanup_free char *slice = strndup(cgroups_path, (size_t)(c1 - cgroups_path));
    cleanup_free char *prefix = strndup(c1 + 1, (size_t)(c2 - c1 - 1));
    const char *name = c2 + 1;
    if (slice == NULL || prefix == NULL)
        return husk_error_set(err, ENOMEM, FIELD);
    if (slice[0] == '\0') {
        free(slice);
        slice = strdup("system.slice");
        if (slice == NULL)
            return husk_error_set(err, ENOMEM, FIELD);
    }
    if (name[0] == '\0')
        return bad_path(err, cgroups_path, "the name (third part) is empty");
    if (check_slice_name(cgroups_path, slice, err) < 0 ||
        check_scope_part(cgroups_path, prefix, "prefix", err) < 0 ||
        check_scope_part(cgroups_path, name, "name", err) < 0)
        return -1;
    size_t nlen = strlen(name);
    if (nlen > 6 && strcmp(name + nlen - 6, ".slice") == 0)
        return bad_path(err, cgroups_path, "husk places a container in a scope, not a slice");

    cleanup_free char *unit = NULL;
    if (asprintf(&unit, "%s%s%s.scope", prefix, prefix[0] != '\0' ? "-" : "", name) < 0)
        return husk_error_set(err, ENOMEM, FIELD);
    if (strlen(unit) > UNIT_NAME_MAX_LEN)
        return bad_path(err, cgroups_path, "the scope name is longer than systemd's 255 bytes");
    cleanup_free char *slice_cg = NULL;
    if (cg_sd_slice_cgroup(slice, &slice_cg, err) < 0)
        return husk_error_wrap(err, FIELD " `%s`", cgroups_path);
    if (asprintf(&out->cgroup_path, "%s/%s", slice_cg, unit) < 0) {
        out->cgroup_path = NULL;
        return husk_error_set(err, ENOMEM, FIELD);
    }
    out->slice = steal_pointer(&slice);
    out->unit = steal_pointer(&unit);
    return 0;
}

int cg_sd_unit_of_path(const char *cgroup_path, char **unit, husk_error_t *err)
{
    const char *found = NULL;
    size_t found_len = 0;
    for (const char *p = cgroup_path; p != NULL && *p != '\0';) {
        while (*p == '/')
            p++;
        size_t len = strcspn(p, "/");
        if (len > 6 && strncmp(p + len - 6, ".scope", 6) == 0) {
            found = p;
            found_len = len;
        }
        p += len;
    }
    if (found == NULL)
        return husk_error_plain(err, EINVAL,
                                "cgroup path `%s` in the state names no systemd scope",
                                cgroup_path != NULL ? cgroup_path : "");
    *unit = strndup(found, found_len);
    return *unit != NULL ? 0 : husk_error_set(err, ENOMEM, "cgroup path");
}

/* ---------- properties ---------- */

void cg_sd_props_clear(struct cg_sd_props *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].bytes);
        for (size_t j = 0; j < p->v[i].n_devs; j++)
            free(p->v[i].devs[j].path);
        free(p->v[i].devs);
    }
    free(p->v);
    memset(p, 0, sizeof *p);
}

const struct cg_sd_prop *cg_sd_props_find(const struct cg_sd_props *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->v[i].name, name) == 0)
            return &p->v[i];
    return NULL;
}

/* The property named name, added (zeroed, of kind) if missing. A later
 * write for the same property (a unified key after a typed field) wins. */
static struct cg_sd_prop *prop_get(struct cg_sd_props *p, const char *name,
                                   enum cg_sd_prop_kind kind)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->v[i].name, name) == 0)
            return &p->v[i];
    struct cg_sd_prop *bigger = realloc(p->v, (p->n + 1) * sizeof *bigger);
    if (bigger == NULL)
        return NULL;
    p->v = bigger;
    struct cg_sd_prop *e = &p->v[p->n++];
    memset(e, 0, sizeof *e);
    e->name = name;
    e->kind = kind;
    return e;
}

static int set_u64(struct cg_sd_props *p, const char *name, uint64_t v, husk_error_t *err)
{
    struct cg_sd_prop *e = prop_get(p, name, CG_SD_U64);
    if (e == NULL)
        return husk_error_set(err, ENOMEM, "systemd property %s", name);
    e->u64 = v;
    return 0;
}

static int add_dev(struct cg_sd_props *p, const char *name, unsigned major, unsigned minor,
                   uint64_t v, husk_error_t *err)
{
    struct cg_sd_prop *e = prop_get(p, name, CG_SD_DEVICES);
    cleanup_free char *path = NULL;
    if (e == NULL || asprintf(&path, "/dev/block/%u:%u", major, minor) < 0)
        return husk_error_set(err, ENOMEM, "systemd property %s", name);
    for (size_t i = 0; i < e->n_devs; i++) {
        if (strcmp(e->devs[i].path, path) == 0) {
            e->devs[i].value = v;
            return 0;
        }
    }
    struct cg_sd_dev_value *bigger = realloc(e->devs, (e->n_devs + 1) * sizeof *bigger);
    if (bigger == NULL)
        return husk_error_set(err, ENOMEM, "systemd property %s", name);
    e->devs = bigger;
    e->devs[e->n_devs++] = (struct cg_sd_dev_value){steal_pointer(&path), v};
    return 0;
}

/* "max" -> infinity, else a whole number. */
static bool parse_limit(const char *s, uint64_t *out)
{
    s += strspn(s, " ");
    if (strncmp(s, "max", 3) == 0 && strspn(s + 3, " \n") == strlen(s + 3)) {
        *out = CG_SD_INFINITY;
        return true;
    }
    if (*s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || strspn(end, " \n") != strlen(end))
        return false;
    *out = v;
    return true;
}

int cg_sd_cpuset_mask(const char *list, uint8_t **mask, size_t *n, husk_error_t *err)
{
    *mask = NULL;
    *n = 0;
    uint8_t *bits = NULL;
    size_t nbytes = 0;
    for (const char *p = list; *p != '\0' && *p != '\n';) {
        char *end;
        unsigned long lo = strtoul(p, &end, 10), hi = lo;
        if (end == p)
            goto bad;
        if (*end == '-') {
            const char *q = end + 1;
            hi = strtoul(q, &end, 10);
            if (end == q)
                goto bad;
        }
        if (hi < lo || hi > MASK_MAX_BIT)
            goto bad;
        if (hi / 8 + 1 > nbytes) {
            uint8_t *bigger = realloc(bits, hi / 8 + 1);
            if (bigger == NULL) {
                free(bits);
                return husk_error_set(err, ENOMEM, "cpu mask `%s`", list);
            }
            memset(bigger + nbytes, 0, hi / 8 + 1 - nbytes);
            bits = bigger;
            nbytes = hi / 8 + 1;
        }
        for (unsigned long b = lo; b <= hi; b++)
            bits[b / 8] |= (uint8_t)(1u << (b % 8));
        p = end;
        if (*p == ',')
            p++;
        else if (*p != '\0' && *p != '\n')
            goto bad;
    }
    *mask = bits;
    *n = nbytes;
    return 0;
bad:
    free(bits);
    return husk_error_plain(err, EINVAL, "`%s` is not a list like `0-3,5` (at most %d)", list,
                            MASK_MAX_BIT);
}

uint64_t cg_sd_quota_per_sec(uint64_t quota_us, uint64_t period_us)
{
    if (period_us == 0)
        return CG_SD_INFINITY;
    uint64_t per_sec = (quota_us * 1000000 + period_us - 1) / period_us;
    return (per_sec + 9999) / 10000 * 10000;
}

uint64_t cg_sd_quota_for_period(uint64_t per_sec_us, uint64_t period_us)
{
    uint64_t q = per_sec_us * period_us / 1000000;
    return q < 1000 ? 1000 : q; /* systemd's floor: the kernel's minimum quota */
}

/* cpu.max "QUOTA|max [PERIOD]" -> CPUQuotaPerSecUSec (+ CPUQuotaPeriodUSec),
 * and the write rewritten to what systemd will write. */
static int cpu_max_props(struct cg_write *w, uint64_t cur_period, struct cg_sd_props *out,
                         husk_error_t *err)
{
    char quota[32] = "";
    unsigned long long period = 0;
    int got = sscanf(w->value, "%31s %llu", quota, &period);
    uint64_t q;
    if (got < 1 || !parse_limit(quota, &q) || (got == 2 && (period < 1000 || period > 1000000)))
        return husk_error_plain(err, EINVAL, "%s: cpu.max `%s` is not `QUOTA|max [PERIOD]`",
                                w->field, w->value);
    if (got == 2 && set_u64(out, "CPUQuotaPeriodUSec", period, err) < 0)
        return -1;
    uint64_t p = got == 2 ? period : cur_period;
    uint64_t per_sec = q == CG_SD_INFINITY ? CG_SD_INFINITY : cg_sd_quota_per_sec(q, p);
    if (set_u64(out, "CPUQuotaPerSecUSec", per_sec, err) < 0)
        return -1;
    char *value = NULL;
    int r = per_sec == CG_SD_INFINITY
                ? asprintf(&value, "max %llu", (unsigned long long)p)
                : asprintf(&value, "%llu %llu",
                           (unsigned long long)cg_sd_quota_for_period(per_sec, p),
                           (unsigned long long)p);
    if (r < 0)
        return husk_error_set(err, ENOMEM, "%s", w->field);
    free(w->value);
    w->value = value;
    return 0;
}

/* io.weight "default N" -> IOWeight, "MAJ:MIN N" -> IODeviceWeight. */
static int io_weight_props(const struct cg_write *w, struct cg_sd_props *out, husk_error_t *err)
{
    unsigned major, minor;
    unsigned long long v;
    char tail;
    if (sscanf(w->value, "default %llu %c", &v, &tail) == 1)
        return set_u64(out, "IOWeight", v, err);
    if (sscanf(w->value, "%u:%u %llu %c", &major, &minor, &v, &tail) == 3)
        return add_dev(out, "IODeviceWeight", major, minor, v, err);
    return husk_error_plain(err, EINVAL, "%s: io.weight `%s` is not `default N` or `MAJ:MIN N`",
                            w->field, w->value);
}

/* io.max "MAJ:MIN rbps=N wiops=max ..." -> IO{Read,Write}{Bandwidth,IOPS}Max */
static int io_max_props(const struct cg_write *w, struct cg_sd_props *out, husk_error_t *err)
{
    static const struct {
        const char *key;
        const char *prop;
    } keys[] = {
        {"rbps", "IOReadBandwidthMax"},
        {"wbps", "IOWriteBandwidthMax"},
        {"riops", "IOReadIOPSMax"},
        {"wiops", "IOWriteIOPSMax"},
    };
    unsigned major, minor;
    int used = 0;
    if (sscanf(w->value, "%u:%u%n", &major, &minor, &used) != 2)
        goto bad;
    cleanup_free char *rest = strdup(w->value + used);
    if (rest == NULL)
        return husk_error_set(err, ENOMEM, "%s", w->field);
    char *save = NULL;
    for (char *kv = strtok_r(rest, " \n", &save); kv != NULL; kv = strtok_r(NULL, " \n", &save)) {
        char *eq = strchr(kv, '=');
        uint64_t v;
        if (eq == NULL || !parse_limit(eq + 1, &v))
            goto bad;
        *eq = '\0';
        size_t k = 0;
        while (k < sizeof keys / sizeof keys[0] && strcmp(keys[k].key, kv) != 0)
            k++;
        if (k == sizeof keys / sizeof keys[0])
            goto bad;
        if (add_dev(out, keys[k].prop, major, minor, v, err) < 0)
            return -1;
    }
    return 0;
bad:
    return husk_error_plain(err, EINVAL, "%s: io.max `%s` is not `MAJ:MIN KEY=VALUE...`",
                            w->field, w->value);
}

static int mask_prop(const struct cg_write *w, const char *name, struct cg_sd_props *out,
                     husk_error_t *err)
{
    uint8_t *mask;
    size_t n;
    if (cg_sd_cpuset_mask(w->value, &mask, &n, err) < 0)
        return husk_error_wrap(err, "%s", w->field);
    struct cg_sd_prop *e = prop_get(out, name, CG_SD_BYTES);
    if (e == NULL) {
        free(mask);
        return husk_error_set(err, ENOMEM, "systemd property %s", name);
    }
    free(e->bytes);
    e->bytes = mask;
    e->n_bytes = n;
    return 0;
}

/* The files systemd writes from a plain number ("max" = infinity). */
static const struct {
    const char *file;
    const char *prop;
} u64_files[] = {
    {"memory.max", "MemoryMax"},   {"memory.high", "MemoryHigh"},
    {"memory.low", "MemoryLow"},   {"memory.min", "MemoryMin"},
    {"memory.swap.max", "MemorySwapMax"}, {"pids.max", "TasksMax"},
    {"cpu.weight", "CPUWeight"},
};

static int write_to_props(struct cg_write *w, uint64_t cur_period, struct cg_sd_props *out,
                          husk_error_t *err)
{
    for (size_t i = 0; i < sizeof u64_files / sizeof u64_files[0]; i++) {
        if (strcmp(w->file, u64_files[i].file) != 0)
            continue;
        uint64_t v;
        if (!parse_limit(w->value, &v))
            return husk_error_plain(err, EINVAL, "%s: %s `%s` is not a number or `max`",
                                    w->field, w->file, w->value);
        return set_u64(out, u64_files[i].prop, v, err);
    }
    if (strcmp(w->file, "cpu.max") == 0)
        return cpu_max_props(w, cur_period, out, err);
    if (strcmp(w->file, "cpuset.cpus") == 0)
        return mask_prop(w, "AllowedCPUs", out, err);
    if (strcmp(w->file, "cpuset.mems") == 0)
        return mask_prop(w, "AllowedMemoryNodes", out, err);
    if (strcmp(w->file, "io.weight") == 0)
        return io_weight_props(w, out, err);
    if (strcmp(w->file, "io.max") == 0)
        return io_max_props(w, out, err);
    return 0; /* systemd has no property for it: the file write alone */
}

int cg_sd_props_from_writes(struct cg_writes *w, uint64_t cur_period_us, struct cg_sd_props *out,
                            husk_error_t *err)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < w->n; i++) {
        if (write_to_props(&w->v[i], cur_period_us, out, err) < 0) {
            cg_sd_props_clear(out);
            return -1;
        }
    }
    return 0;
}

void cg_systemd_free(struct cg_systemd *sd)
{
    if (sd == NULL)
        return;
    free(sd->unit);
    free(sd->slice);
    cg_writes_clear(&sd->writes);
    cg_sd_props_clear(&sd->props);
    free(sd);
}

/* ---------- D-Bus ---------- */

#ifdef HAVE_SYSTEMD
/* sd-bus, set by the first load_libsd; NULL until then. */
static const struct sd_bus_api *libsd;

static int load_libsd(husk_error_t *err)
{
    return libsd != NULL ? 0 : sd_bus_api_load(&libsd, err);
}
#endif

int cg_sd_check_running(husk_error_t *err)
{
    /* sd_booted(3)'s test, without needing libsystemd for it */
    if (access("/run/systemd/system", F_OK) < 0)
        return husk_error_plain(err, ENOTSUP,
                                "the systemd cgroup manager: systemd is not running "
                                "(no /run/systemd/system); use --cgroup-manager cgroupfs");
#ifndef HAVE_SYSTEMD
    return husk_error_plain(err, ENOTSUP,
                            "the systemd cgroup manager: husk was built without libsystemd "
                            "(configure --with-systemd); use --cgroup-manager cgroupfs");
#else
    /* Before anything is created: a host without libsystemd0 fails here. */
    return load_libsd(err);
#endif
}

#ifdef HAVE_SYSTEMD

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
/* TCG guests are slow; a healthy systemd answers in milliseconds */
#define JOB_TIMEOUT_US (120ULL * 1000000ULL)

static void bus_close(sd_bus **bus)
{
    if (*bus != NULL)
        libsd->flush_close_unref(*bus);
}
#define cleanup_bus __attribute__((cleanup(bus_close)))

static void msg_unref(sd_bus_message **m)
{
    if (*m != NULL)
        libsd->message_unref(*m);
}
#define cleanup_msg __attribute__((cleanup(msg_unref)))

static int bus_error(husk_error_t *err, int r, const sd_bus_error *e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int bus_error(husk_error_t *err, int r, const sd_bus_error *e, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (e != NULL && libsd->error_is_set(e))
        return husk_error_plain(err, r < 0 ? -r : EIO, "%s: %s", what,
                                e->message != NULL ? e->message : e->name);
    return husk_error_set(err, r < 0 ? -r : EIO, "%s", what);
}

/* The system bus; without a bus daemon, systemd's own socket (root only). */
static int bus_open(sd_bus **out, husk_error_t *err)
{
    /* delete and update reach here without cg_sd_check_running */
    if (load_libsd(err) < 0)
        return -1;
    sd_bus *bus = NULL;
    int r = libsd->open_system(&bus);
    if (r >= 0) {
        *out = bus;
        return 0;
    }
    int r2 = libsd->new(&bus);
    if (r2 >= 0)
        r2 = libsd->set_address(bus, "unix:path=/run/systemd/private");
    if (r2 >= 0)
        r2 = libsd->start(bus);
    if (r2 < 0) {
        if (bus != NULL)
            libsd->unref(bus);
        return husk_error_set(err, -r, "connect to systemd (system bus and "
                                       "/run/systemd/private)");
    }
    *out = bus;
    return 0;
}

/* systemd sends JobRemoved to the client that queued the job anyway;
 * subscribing as well costs one call and does not rely on that. */
static void subscribe(sd_bus *bus)
{
    libsd->call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "Subscribe", NULL, NULL, "");
}

struct job_wait {
    char *job;
    char *result;
};

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
    (void)ret_error;
    struct job_wait *w = userdata;
    uint32_t id;
    const char *path, *unit, *result;
    if (libsd->message_read(m, "uoss", &id, &path, &unit, &result) < 0)
        return 0;
    if (w->job != NULL && w->result == NULL && strcmp(path, w->job) == 0)
        w->result = strdup(result);
    return 0;
}

static void job_wait_clear(struct job_wait *w)
{
    free(w->job);
    free(w->result);
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

/* Reads the job path from reply, then runs the bus until its JobRemoved
 * came (the signal may already sit in the queue: sd_bus_call keeps what
 * arrived before the reply for sd_bus_process). */
static int wait_job(sd_bus *bus, sd_bus_message *reply, struct job_wait *w, const char *what,
                    const char *unit, husk_error_t *err)
{
    const char *job;
    int r = libsd->message_read(reply, "o", &job);
    if (r < 0)
        return bus_error(err, r, NULL, "%s `%s`: read the job", what, unit);
    w->job = strdup(job);
    if (w->job == NULL)
        return husk_error_set(err, ENOMEM, "%s `%s`", what, unit);
    uint64_t deadline = now_us() + JOB_TIMEOUT_US;
    while (w->result == NULL) {
        r = libsd->process(bus, NULL);
        if (r < 0)
            return bus_error(err, r, NULL, "%s `%s`: wait for the systemd job", what, unit);
        if (r > 0)
            continue;
        uint64_t now = now_us();
        if (now >= deadline)
            return husk_error_plain(err, ETIMEDOUT, "%s `%s`: the systemd job %s did not finish "
                                                    "in %llu s",
                                    what, unit, w->job, JOB_TIMEOUT_US / 1000000ULL);
        r = libsd->wait(bus, deadline - now);
        if (r < 0)
            return bus_error(err, r, NULL, "%s `%s`: wait for the systemd job", what, unit);
    }
    if (strcmp(w->result, "done") != 0)
        return husk_error_plain(err, EIO, "%s `%s`: the systemd job failed (result `%s`; see "
                                          "`systemctl status %s`)",
                                what, unit, w->result, unit);
    return 0;
}

static int append_prop(sd_bus_message *m, const struct cg_sd_prop *p)
{
    int r;
    switch (p->kind) {
    case CG_SD_U64:
        return libsd->message_append(m, "(sv)", p->name, "t", p->u64);
    case CG_SD_BYTES:
        if ((r = libsd->message_open_container(m, 'r', "sv")) < 0 ||
            (r = libsd->message_append(m, "s", p->name)) < 0 ||
            (r = libsd->message_open_container(m, 'v', "ay")) < 0 ||
            (r = libsd->message_append_array(m, 'y', p->bytes, p->n_bytes)) < 0 ||
            (r = libsd->message_close_container(m)) < 0)
            return r;
        return libsd->message_close_container(m);
    case CG_SD_DEVICES:
        if ((r = libsd->message_open_container(m, 'r', "sv")) < 0 ||
            (r = libsd->message_append(m, "s", p->name)) < 0 ||
            (r = libsd->message_open_container(m, 'v', "a(st)")) < 0 ||
            (r = libsd->message_open_container(m, 'a', "(st)")) < 0)
            return r;
        for (size_t i = 0; i < p->n_devs; i++)
            if ((r = libsd->message_append(m, "(st)", p->devs[i].path, p->devs[i].value)) < 0)
                return r;
        if ((r = libsd->message_close_container(m)) < 0 ||
            (r = libsd->message_close_container(m)) < 0)
            return r;
        return libsd->message_close_container(m);
    }
    return -EINVAL;
}

static int append_props(sd_bus_message *m, const struct cg_sd_props *props)
{
    for (size_t i = 0; props != NULL && i < props->n; i++) {
        int r = append_prop(m, &props->v[i]);
        if (r < 0)
            return r;
    }
    return 0;
}

/* What every container scope gets: systemd must not manage what is inside
 * (Delegate), must not order it after anything (DefaultDependencies), and
 * must forget it once it is gone, failed or not (CollectMode). */
static int append_scope_props(sd_bus_message *m, const char *unit, const char *slice, pid_t pid)
{
    char desc[300];
    snprintf(desc, sizeof desc, "husk container %s", unit);
    int r;
    if ((r = libsd->message_append(m, "(sv)", "Description", "s", desc)) < 0 ||
        (r = libsd->message_append(m, "(sv)", "Slice", "s", slice)) < 0 ||
        (r = libsd->message_append(m, "(sv)", "PIDs", "au", 1, (uint32_t)pid)) < 0 ||
        (r = libsd->message_append(m, "(sv)", "Delegate", "b", 1)) < 0 ||
        (r = libsd->message_append(m, "(sv)", "DefaultDependencies", "b", 0)) < 0 ||
        (r = libsd->message_append(m, "(sv)", "CollectMode", "s", "inactive-or-failed")) < 0)
        return r;
    static const char *const accounting[] = {"MemoryAccounting", "CPUAccounting",
                                             "IOAccounting", "TasksAccounting"};
    for (size_t i = 0; i < sizeof accounting / sizeof accounting[0]; i++)
        if ((r = libsd->message_append(m, "(sv)", accounting[i], "b", 1)) < 0)
            return r;
    return 0;
}

static int start_request(sd_bus *bus, const char *unit, const char *slice, pid_t pid,
                         const struct cg_sd_props *props, sd_bus_message **out)
{
    cleanup_msg sd_bus_message *m = NULL;
    int r = libsd->message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER,
                                           "StartTransientUnit");
    if (r < 0 || (r = libsd->message_append(m, "ss", unit, "fail")) < 0 ||
        (r = libsd->message_open_container(m, 'a', "(sv)")) < 0 ||
        (r = append_scope_props(m, unit, slice, pid)) < 0 || (r = append_props(m, props)) < 0 ||
        (r = libsd->message_close_container(m)) < 0 ||
        (r = libsd->message_append(m, "a(sa(sv))", 0)) < 0)
        return r;
    *out = steal_pointer(&m);
    return 0;
}

int cg_sd_start_scope(const char *unit, const char *slice, pid_t pid,
                      const struct cg_sd_props *props, bool *started, husk_error_t *err)
{
    cleanup_bus sd_bus *bus = NULL;
    if (bus_open(&bus, err) < 0)
        return husk_error_wrap(err, "start systemd scope `%s`", unit);
    __attribute__((cleanup(job_wait_clear))) struct job_wait w = {0};
    sd_bus_slot *slot = NULL;
    /* Subscribed before the call: the job may end before its reply is read. */
    int r = libsd->match_signal(bus, &slot, NULL, SD_PATH, SD_MANAGER, "JobRemoved",
                                on_job_removed, &w);
    if (r < 0)
        return bus_error(err, r, NULL, "start systemd scope `%s`: subscribe to JobRemoved", unit);
    subscribe(bus);
    cleanup_msg sd_bus_message *m = NULL;
    r = start_request(bus, unit, slice, pid, props, &m);
    if (r < 0) {
        libsd->slot_unref(slot);
        return bus_error(err, r, NULL, "start systemd scope `%s`: build the request", unit);
    }
    sd_bus_error e = SD_BUS_ERROR_NULL;
    cleanup_msg sd_bus_message *reply = NULL;
    r = libsd->call(bus, m, 0, &e, &reply);
    if (r < 0) {
        if (libsd->error_has_name(&e, "org.freedesktop.systemd1.UnitExists"))
            r = husk_error_plain(err, EEXIST, "systemd unit `%s` already exists (is another "
                                              "container using this linux.cgroupsPath?)",
                                 unit);
        else
            r = bus_error(err, r, &e, "start systemd scope `%s` in `%s`", unit, slice);
        libsd->error_free(&e);
        libsd->slot_unref(slot);
        return r;
    }
    *started = true;
    r = wait_job(bus, reply, &w, "start systemd scope", unit, err);
    libsd->slot_unref(slot);
    return r;
}

int cg_sd_set_properties(const char *unit, const struct cg_sd_props *props, husk_error_t *err)
{
    if (props->n == 0)
        return 0;
    cleanup_bus sd_bus *bus = NULL;
    if (bus_open(&bus, err) < 0)
        return husk_error_wrap(err, "set properties of systemd unit `%s`", unit);
    cleanup_msg sd_bus_message *m = NULL;
    int r = libsd->message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER,
                                           "SetUnitProperties");
    if (r < 0 || (r = libsd->message_append(m, "sb", unit, 1)) < 0 ||
        (r = libsd->message_open_container(m, 'a', "(sv)")) < 0 ||
        (r = append_props(m, props)) < 0 || (r = libsd->message_close_container(m)) < 0)
        return bus_error(err, r, NULL, "set properties of systemd unit `%s`", unit);
    sd_bus_error e = SD_BUS_ERROR_NULL;
    r = libsd->call(bus, m, 0, &e, NULL);
    if (r < 0) {
        r = bus_error(err, r, &e, "set properties of systemd unit `%s`", unit);
        libsd->error_free(&e);
        return r;
    }
    return 0;
}

static bool unit_gone(const sd_bus_error *e)
{
    return libsd->error_has_name(e, "org.freedesktop.systemd1.NoSuchUnit") ||
           libsd->error_has_name(e, "org.freedesktop.systemd1.LoadFailed");
}

int cg_sd_stop_unit(const char *unit, husk_error_t *err)
{
    cleanup_bus sd_bus *bus = NULL;
    if (bus_open(&bus, err) < 0)
        return husk_error_wrap(err, "stop systemd scope `%s`", unit);
    __attribute__((cleanup(job_wait_clear))) struct job_wait w = {0};
    sd_bus_slot *slot = NULL;
    int r = libsd->match_signal(bus, &slot, NULL, SD_PATH, SD_MANAGER, "JobRemoved",
                                on_job_removed, &w);
    if (r < 0)
        return bus_error(err, r, NULL, "stop systemd scope `%s`: subscribe to JobRemoved", unit);
    subscribe(bus);
    sd_bus_error e = SD_BUS_ERROR_NULL;
    cleanup_msg sd_bus_message *reply = NULL;
    r = libsd->call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "StopUnit", &e, &reply, "ss", unit,
                           "replace");
    if (r < 0) {
        r = unit_gone(&e) ? 0 : bus_error(err, r, &e, "stop systemd scope `%s`", unit);
        libsd->error_free(&e);
        libsd->slot_unref(slot);
        return r;
    }
    r = wait_job(bus, reply, &w, "stop systemd scope", unit, err);
    libsd->slot_unref(slot);
    if (r < 0)
        return -1;
    /* A scope that failed stays listed until reset, whatever CollectMode
     * says about later ones; a unit already collected answers NoSuchUnit. */
    libsd->call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "ResetFailedUnit", NULL, NULL, "s",
                       unit);
    return 0;
}

#else /* !HAVE_SYSTEMD */

static int not_built(husk_error_t *err)
{
    return husk_error_plain(err, ENOTSUP,
                            "the systemd cgroup manager: husk was built without libsystemd "
                            "(configure --with-systemd)");
}

int cg_sd_start_scope(const char *unit, const char *slice, pid_t pid,
                      const struct cg_sd_props *props, bool *started, husk_error_t *err)
{
    (void)unit, (void)slice, (void)pid, (void)props, (void)started;
    return not_built(err);
}

int cg_sd_set_properties(const char *unit, const struct cg_sd_props *props, husk_error_t *err)
{
    (void)unit, (void)props;
    return not_built(err);
}

int cg_sd_stop_unit(const char *unit, husk_error_t *err)
{
    (void)unit;
    return not_built(err);
}

#endif
