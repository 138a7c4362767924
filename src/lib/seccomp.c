/* linux.seccomp with libseccomp; see seccomp.h for the semantics and the
 * cost model. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp_lib.h> /* libseccomp; see that file for the angle brackets */

#include "process.h"
#include "seccomp.h"
#include "terminal.h"
#include "utils.h"

#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

/* The kernel refuses longer seccomp programs (BPF_MAXINSNS). */
#define SECCOMP_MAX_INSNS 4096
#define SECCOMP_MAX_ARGS 6

struct husk_seccomp {
    struct sock_filter *prog;
    size_t prog_len;
    unsigned int flags; /* for seccomp(2), NEW_LISTENER added at load */
    bool has_notify;
    size_t rules;
    size_t skipped;
    bool from_cache;
    char *listener_path;
    char *listener_metadata;
    int listener_fd; /* connected in the parent, inherited by the init */
};

/* ---------- name tables ---------- */

struct action_name {
    const char *name;
    uint32_t action;  /* with a zero errno/msg for the two that take one */
    bool takes_errno;
};

static const struct action_name actions[] = {
    { "SCMP_ACT_KILL", SCMP_ACT_KILL, false },
    { "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false },
    { "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false },
    { "SCMP_ACT_TRAP", SCMP_ACT_TRAP, false },
    { "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true },
    { "SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true },
    { "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false },
    { "SCMP_ACT_LOG", SCMP_ACT_LOG, false },
    { "SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false },
};

struct op_name {
    const char *name;
    enum scmp_compare op;
};

static const struct op_name operators[] = {
    { "SCMP_CMP_NE", SCMP_CMP_NE },
    { "SCMP_CMP_LT", SCMP_CMP_LT },
    { "SCMP_CMP_LE", SCMP_CMP_LE },
    { "SCMP_CMP_EQ", SCMP_CMP_EQ },
    { "SCMP_CMP_GE", SCMP_CMP_GE },
    { "SCMP_CMP_GT", SCMP_CMP_GT },
    { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

struct arch_name {
    const char *name;
    uint32_t token; /* 0: a spec name this libseccomp does not know */
};

#define ARCH_ENTRY(n) { "SCMP_ARCH_" #n, SCMP_ARCH_##n }
#define ARCH_ENTRY_IF(n, known) { "SCMP_ARCH_" #n, known }

static const struct arch_name architectures[] = {
    ARCH_ENTRY(X86), ARCH_ENTRY(X86_64), ARCH_ENTRY(X32), ARCH_ENTRY(ARM), ARCH_ENTRY(AARCH64),
    ARCH_ENTRY(MIPS), ARCH_ENTRY(MIPS64), ARCH_ENTRY(MIPS64N32), ARCH_ENTRY(MIPSEL),
    ARCH_ENTRY(MIPSEL64), ARCH_ENTRY(MIPSEL64N32), ARCH_ENTRY(PPC), ARCH_ENTRY(PPC64),
    ARCH_ENTRY(PPC64LE), ARCH_ENTRY(S390), ARCH_ENTRY(S390X), ARCH_ENTRY(PARISC),
    ARCH_ENTRY(PARISC64), ARCH_ENTRY(RISCV64),
    /* Added after libseccomp 2.5: known names, refused with a clear error
     * when the library we were built with lacks them. */
#ifdef SCMP_ARCH_LOONGARCH64
    ARCH_ENTRY(LOONGARCH64),
#else
    ARCH_ENTRY_IF(LOONGARCH64, 0),
#endif
#ifdef SCMP_ARCH_M68K
    ARCH_ENTRY(M68K),
#else
    ARCH_ENTRY_IF(M68K, 0),
#endif
#ifdef SCMP_ARCH_SH
    ARCH_ENTRY(SH),
#else
    ARCH_ENTRY_IF(SH, 0),
#endif
#ifdef SCMP_ARCH_SHEB
    ARCH_ENTRY(SHEB),
#else
    ARCH_ENTRY_IF(SHEB, 0),
#endif
};

struct flag_name {
    const char *name;
    unsigned int flag;
};

static const struct flag_name filter_flags[] = {
    { "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC },
    { "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
    { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
    { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV },
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---------- validation ---------- */

/* `field` names the action ("linux.seccomp.syscalls[3].action"),
 * `errno_field` its errnoRet. */
static int parse_action(const char *name, bool has_errno, uint32_t errno_ret, const char *field,
                        const char *errno_field, uint32_t *out, husk_error_t *err)
{
    if (name == NULL)
        return husk_error_set(err, 0, "%s: required", field);
    const struct action_name *a = NULL;
    for (size_t i = 0; i < N_ELEMS(actions); i++)
        if (strcmp(actions[i].name, name) == 0)
            a = &actions[i];
    if (a == NULL)
        return husk_error_set(err, 0, "%s: unknown action \"%s\"", field, name);
    if (!a->takes_errno) {
        if (has_errno)
            return husk_error_set(err, 0,
                                  "%s: not allowed with %s (only SCMP_ACT_ERRNO and "
                                  "SCMP_ACT_TRACE take an errno)",
                                  errno_field, name);
        *out = a->action;
        return 0;
    }
    uint32_t data = has_errno ? errno_ret : EPERM;
    if (data > 0xffff)
        return husk_error_set(err, 0, "%s: %" PRIu32 " is out of range (0-65535)",
                              errno_field, data);
    *out = a->action | data;
    return 0;
}

static int parse_operator(const char *name, const char *field, enum scmp_compare *out,
                          husk_error_t *err)
{
    if (name == NULL)
        return husk_error_set(err, 0, "%s: required", field);
    for (size_t i = 0; i < N_ELEMS(operators); i++) {
        if (strcmp(operators[i].name, name) == 0) {
            *out = operators[i].op;
            return 0;
        }
    }
    return husk_error_set(err, 0, "%s: unknown operator \"%s\"", field, name);
}

static int parse_arch(const char *name, size_t idx, uint32_t *out, husk_error_t *err)
{
    for (size_t i = 0; name != NULL && i < N_ELEMS(architectures); i++) {
        if (strcmp(architectures[i].name, name) != 0)
            continue;
        if (architectures[i].token == 0)
            return husk_error_set(err, 0,
                                  "linux.seccomp.architectures[%zu]: \"%s\" is not supported by "
                                  "libseccomp %u.%u.%u",
                                  idx, name, seccomp_version()->major, seccomp_version()->minor,
                                  seccomp_version()->micro);
        *out = architectures[i].token;
        return 0;
    }
    return husk_error_set(err, 0, "linux.seccomp.architectures[%zu]: unknown architecture \"%s\"",
                          idx, name ? name : "(null)");
}

/* Whether this kernel takes `flags` for SECCOMP_SET_MODE_FILTER: it checks
 * the flags before reading the program, so a NULL program fails with
 * EFAULT when they are fine and EINVAL when they are not. */
static bool kernel_has_filter_flags(unsigned int flags)
{
    long r = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, flags, NULL);
    return r < 0 && errno == EFAULT;
}

static int parse_flags(const ocispec_seccomp *s, unsigned int *out, husk_error_t *err)
{
    unsigned int flags = 0;
    for (size_t i = 0; i < s->flags_len; i++) {
        const struct flag_name *fl = NULL;
        for (size_t k = 0; s->flags[i] != NULL && k < N_ELEMS(filter_flags); k++)
            if (strcmp(filter_flags[k].name, s->flags[i]) == 0)
                fl = &filter_flags[k];
        if (fl == NULL)
            return husk_error_set(err, 0, "linux.seccomp.flags[%zu]: unknown flag \"%s\"", i,
                                  s->flags[i] ? s->flags[i] : "(null)");
        /* WAIT_KILLABLE_RECV is only valid together with a listener. */
        unsigned int probe = fl->flag;
        if (probe == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
            probe |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
        if (!kernel_has_filter_flags(probe))
            return husk_error_set(err, 0,
                                  "linux.seccomp.flags[%zu]: %s is not supported by this kernel", i,
                                  fl->name);
        flags |= fl->flag;
    }
    *out = flags;
    return 0;
}

/* ---------- building the filter ---------- */

static void scmp_release_ptr(scmp_filter_ctx *ctx)
{
    if (*ctx != NULL)
        seccomp_release(*ctx);
}
#define cleanup_scmp __attribute__((cleanup(scmp_release_ptr)))

struct rule_ctx {
    scmp_filter_ctx ctx; /* NULL: validate and count only */
    husk_seccomp *f;
    size_t idx; /* syscalls[idx] */
};

static int add_rule(struct rule_ctx *rc, const char *name, int nr, uint32_t action,
                    unsigned int n, const struct scmp_arg_cmp *conds, husk_error_t *err)
{
    int r = rc->ctx != NULL ? seccomp_rule_add_array(rc->ctx, action, nr, n, conds) : 0;
    if (r < 0)
        return husk_error_set(err, -r, "linux.seccomp.syscalls[%zu]: add rule for \"%s\"", rc->idx,
                              name);
    rc->f->rules++;
    return 0;
}

/* One syscall name of syscalls[idx] with its already validated conditions:
 * ANDed in one rule, or one rule each when an index repeats. */
static int add_syscall(struct rule_ctx *rc, const char *name, uint32_t action,
                       const struct scmp_arg_cmp *conds, size_t n, bool split,
                       husk_error_t *err)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) {
        rc->f->skipped++;
        return 0;
    }
    if (!split)
        return add_rule(rc, name, nr, action, (unsigned int) n, conds, err);
    for (size_t i = 0; i < n; i++)
        if (add_rule(rc, name, nr, action, 1, &conds[i], err) < 0)
            return -1;
    return 0;
}

static int build_conditions(const ocispec_seccomp_syscall *sc, size_t idx,
                            struct scmp_arg_cmp *conds, bool *split, husk_error_t *err)
{
    unsigned int per_index[SECCOMP_MAX_ARGS] = { 0 };
    *split = false;
    for (size_t a = 0; a < sc->args_len; a++) {
        const ocispec_seccomp_arg *arg = &sc->args[a];
        char field[96];
        if (arg->index >= SECCOMP_MAX_ARGS)
            return husk_error_set(err, 0,
                                  "linux.seccomp.syscalls[%zu].args[%zu].index: %" PRIu32
                                  " is out of range (0-5)",
                                  idx, a, arg->index);
        snprintf(field, sizeof(field), "linux.seccomp.syscalls[%zu].args[%zu].op", idx, a);
        enum scmp_compare op = SCMP_CMP_EQ;
        if (parse_operator(arg->op, field, &op, err) < 0)
            return -1;
        /* libseccomp reads datum_b only for MASKED_EQ: (arg & a) == b */
        conds[a] = (struct scmp_arg_cmp) {
            .arg = arg->index,
            .op = op,
            .datum_a = arg->value,
            .datum_b = op == SCMP_CMP_MASKED_EQ && arg->has_value_two ? arg->value_two : 0,
        };
        if (++per_index[arg->index] > 1)
            *split = true;
    }
    /* Without a repeated index there are at most six conditions. */
    return 0;
}

static int add_syscall_entry(struct rule_ctx *rc, const ocispec_seccomp_syscall *sc,
                             uint32_t default_action, husk_error_t *err)
{
    size_t idx = rc->idx;
    char field[64], errno_field[64];
    snprintf(field, sizeof(field), "linux.seccomp.syscalls[%zu].action", idx);
    snprintf(errno_field, sizeof(errno_field), "linux.seccomp.syscalls[%zu].errnoRet", idx);
    uint32_t action;
    if (parse_action(sc->action, sc->has_errno_ret, sc->errno_ret, field, errno_field, &action,
                     err) < 0)
        return -1;
    if (sc->names == NULL || sc->names_len == 0)
        return husk_error_set(err, 0, "linux.seccomp.syscalls[%zu].names: must name at least "
                              "one syscall", idx);

    cleanup_free struct scmp_arg_cmp *conds = NULL;
    bool split = false;
    if (sc->args_len > 0) {
        conds = calloc(sc->args_len, sizeof(*conds));
        if (conds == NULL)
            return husk_error_set(err, ENOMEM, "linux.seccomp.syscalls[%zu].args", idx);
        if (build_conditions(sc, idx, conds, &split, err) < 0)
            return -1;
    }
    if (action == SCMP_ACT_NOTIFY) {
        rc->f->has_notify = true;
        for (size_t n = 0; n < sc->names_len; n++)
            if (sc->names[n] != NULL && strcmp(sc->names[n], "sendmsg") == 0)
                return husk_error_set(err, 0,
                                      "linux.seccomp.syscalls[%zu]: SCMP_ACT_NOTIFY cannot apply to "
                                      "\"sendmsg\" (husk sends the listener fd with it after the "
                                      "filter is loaded)",
                                      idx);
    }
    for (size_t n = 0; n < sc->names_len; n++)
        if (sc->names[n] == NULL || sc->names[n][0] == '\0')
            return husk_error_set(err, 0, "linux.seccomp.syscalls[%zu].names[%zu]: empty name",
                                  idx, n);
    /* libseccomp refuses a rule with the default action; it would change
     * nothing anyway. Validated above all the same. */
    if (action == default_action)
        return 0;
    for (size_t n = 0; n < sc->names_len; n++)
        if (add_syscall(rc, sc->names[n], action, conds, sc->args_len, split, err) < 0)
            return -1;
    return 0;
}

static int add_architectures(scmp_filter_ctx ctx, const ocispec_seccomp *s, husk_error_t *err)
{
    for (size_t i = 0; i < s->architectures_len; i++) {
        uint32_t token = 0;
        if (parse_arch(s->architectures[i], i, &token, err) < 0)
            return -1;
        int r = ctx != NULL ? seccomp_arch_add(ctx, token) : 0;
        if (r < 0 && r != -EEXIST) /* the native arch is there from seccomp_init */
            return husk_error_set(err, -r, "linux.seccomp.architectures[%zu]: add \"%s\"", i,
                                  s->architectures[i]);
    }
    return 0;
}

/* Generates the BPF program now, in the caller, so the init only has to
 * hand it to the kernel. libseccomp 2.5 exports only to an fd. */
static int export_program(scmp_filter_ctx ctx, husk_seccomp *f, husk_error_t *err)
{
    cleanup_close int mfd = memfd_create("husk-seccomp-bpf", MFD_CLOEXEC);
    if (mfd < 0)
        return husk_error_set(err, errno, "linux.seccomp: memfd for the BPF program");
    int r = seccomp_export_bpf(ctx, mfd);
    if (r < 0)
        return husk_error_set(err, -r, "linux.seccomp: generate the BPF program");
    struct stat st;
    if (fstat(mfd, &st) < 0)
        return husk_error_set(err, errno, "linux.seccomp: size of the BPF program");
    size_t len = (size_t) st.st_size / sizeof(struct sock_filter);
    if (len == 0 || (size_t) st.st_size % sizeof(struct sock_filter) != 0)
        return husk_error_set(err, EPROTO, "linux.seccomp: libseccomp produced a %lld-byte program",
                              (long long) st.st_size);
    if (len > SECCOMP_MAX_INSNS)
        return husk_error_set(err, E2BIG,
                              "linux.seccomp: the profile compiles to %zu BPF instructions, the "
                              "kernel takes at most %d",
                              len, SECCOMP_MAX_INSNS);
    f->prog = malloc((size_t) st.st_size);
    if (f->prog == NULL)
        return husk_error_set(err, ENOMEM, "linux.seccomp: BPF program");
    size_t got = 0;
    while (got < (size_t) st.st_size) {
        ssize_t n = pread(mfd, (char *) f->prog + got, (size_t) st.st_size - got, (off_t) got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return husk_error_set(err, n < 0 ? errno : EIO, "linux.seccomp: read the BPF program");
        got += (size_t) n;
    }
    f->prog_len = len;
    return 0;
}

/* ---------- the BPF cache ----------
 *
 * libseccomp 2.5 needs ~20 ms of CPU for a docker-sized profile (its rule
 * database copies itself on every rule added, and the BPF generation is
 * slower still), several times what the rest of `husk run` costs. The
 * program only depends on the profile's rules and the library, so husk keeps
 * it in one host-wide directory (HUSK_SECCOMP_CACHE_DIR, whatever --root
 * is: containerd and the bench kit use a root per container): 256 slot
 * files ("bpf-XX", chosen by a hash of the key), each holding the full key
 * next to the program. A slot is used only when its stored key equals the
 * profile's key byte for byte, so a hash collision costs a rebuild, never a
 * wrong filter. The directory and files must be ours and not writable by
 * anyone else, or they are ignored. Validation always runs, so bad profiles
 * are refused exactly as without a cache. At most 256 files of a few KiB:
 * no eviction needed. */

#define CACHE_MAGIC "HUSKBPF1"

struct cache_header {
    char magic[8];
    uint32_t key_len;
    uint32_t prog_bytes;
    uint64_t check; /* FNV-1a of key and program: a torn file is not used */
};

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}
#define FNV_BASIS 0xcbf29ce484222325ULL

/* Everything the BPF program depends on, unambiguously (names carry their
 * length). Only called on a validated profile. */
static int cache_key(const ocispec_seccomp *s, uint32_t default_action, char **key, size_t *len)
{
    FILE *m = open_memstream(key, len);
    if (m == NULL)
        return -1;
    const struct scmp_version *v = seccomp_version();
    fprintf(m, "husk-seccomp 1\nlibseccomp %u.%u.%u\nnative %" PRIu32 "\ndefault %" PRIx32 "\n",
            v->major, v->minor, v->micro, seccomp_arch_native(), default_action);
    for (size_t i = 0; i < s->architectures_len; i++)
        fprintf(m, "arch %s\n", s->architectures[i]);
    for (size_t i = 0; i < s->syscalls_len; i++) {
        const ocispec_seccomp_syscall *sc = &s->syscalls[i];
        uint32_t action = 0;
        parse_action(sc->action, sc->has_errno_ret, sc->errno_ret, "", "", &action, NULL);
        fprintf(m, "rule %" PRIx32 "\n", action);
        for (size_t a = 0; a < sc->args_len; a++)
            fprintf(m, "arg %" PRIu32 " %s %" PRIx64 " %d %" PRIx64 "\n", sc->args[a].index,
                    sc->args[a].op, sc->args[a].value, sc->args[a].has_value_two,
                    sc->args[a].value_two);
        for (size_t n = 0; n < sc->names_len; n++)
            fprintf(m, "name %zu:%s\n", strlen(sc->names[n]), sc->names[n]);
    }
    return fclose(m) == 0 ? 0 : -1;
}

static void cache_slot(const char *key, size_t len, char name[8])
{
    snprintf(name, 8, "bpf-%02x", (unsigned) (fnv1a(FNV_BASIS, key, len) & 0xff));
}

/* The cache dir, made on first use; -1 when it cannot be had or is not
 * safe to trust (the cache is only ever an optimisation). */
static int cache_dir_open(const char *path)
{
    int fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        husk_error_t ignored = NULL;
        if (husk_mkdir_p(path, 0700, &ignored) < 0) {
            husk_error_free(&ignored);
            return -1;
        }
        fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022) != 0)) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool read_exact(int fd, void *buf, size_t len, off_t off)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, (char *) buf + got, len - got, off + (off_t) got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        got += (size_t) n;
    }
    return true;
}

static bool cache_load(int dir_fd, const char *key, size_t key_len, husk_seccomp *f)
{
    char name[8];
    cache_slot(key, key_len, name);
    cleanup_close int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & 022) != 0)
        return false;
    struct cache_header h;
    if (!read_exact(fd, &h, sizeof(h), 0) || memcmp(h.magic, CACHE_MAGIC, 8) != 0 ||
        h.key_len != key_len || h.prog_bytes == 0 || h.prog_bytes % sizeof(struct sock_filter) != 0 ||
        h.prog_bytes / sizeof(struct sock_filter) > SECCOMP_MAX_INSNS ||
        (size_t) st.st_size != sizeof(h) + key_len + h.prog_bytes)
        return false;
    cleanup_free char *stored = malloc(key_len + h.prog_bytes);
    if (stored == NULL || !read_exact(fd, stored, key_len + h.prog_bytes, sizeof(h)) ||
        memcmp(stored, key, key_len) != 0 ||
        fnv1a(FNV_BASIS, stored, key_len + h.prog_bytes) != h.check)
        return false;
    f->prog = malloc(h.prog_bytes);
    if (f->prog == NULL)
        return false;
    memcpy(f->prog, stored + key_len, h.prog_bytes);
    f->prog_len = h.prog_bytes / sizeof(struct sock_filter);
    f->from_cache = true;
    return true;
}

/* Best effort: a read-only or full state root just means no cache. The
 * temporary name is unique, so concurrent creates never mix their bytes. */
static void cache_store(int dir_fd, const char *key, size_t key_len, const husk_seccomp *f)
{
    size_t prog_bytes = f->prog_len * sizeof(struct sock_filter);
    struct cache_header h = { .key_len = (uint32_t) key_len, .prog_bytes = (uint32_t) prog_bytes };
    memcpy(h.magic, CACHE_MAGIC, 8);
    h.check = fnv1a(fnv1a(FNV_BASIS, key, key_len), f->prog, prog_bytes);
    char name[8], tmp[64];
    cache_slot(key, key_len, name);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(tmp, sizeof(tmp), ".%s.%d.%ld.tmp", name, (int) getpid(), (long) ts.tv_nsec);
    cleanup_close int fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                  0600);
    if (fd < 0)
        return;
    if (husk_write_all(fd, &h, sizeof(h)) < 0 || husk_write_all(fd, key, key_len) < 0 ||
        husk_write_all(fd, f->prog, prog_bytes) < 0 || renameat(dir_fd, tmp, dir_fd, name) < 0)
        unlinkat(dir_fd, tmp, 0);
}

static int check_listener_fields(const ocispec_seccomp *s, uint32_t default_action,
                                 husk_error_t *err)
{
    if (s->listener_metadata != NULL && s->listener_path == NULL)
        return husk_error_set(err, 0,
                              "linux.seccomp.listenerMetadata: must not be set without listenerPath");
    if (s->listener_path != NULL && s->listener_path[0] == '\0')
        return husk_error_set(err, 0, "linux.seccomp.listenerPath: empty path");
    if (default_action == SCMP_ACT_NOTIFY)
        return husk_error_set(err, 0,
                              "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default "
                              "action (husk's own calls after the load would wait for the agent)");
    return 0;
}

static int compile_into(const ocispec_seccomp *s, husk_seccomp *f, const char *cache_dir,
                        husk_error_t *err)
{
    uint32_t default_action;
    if (parse_action(s->default_action, s->has_default_errno_ret, s->default_errno_ret,
                     "linux.seccomp.defaultAction", "linux.seccomp.defaultErrnoRet",
                     &default_action, err) < 0)
        return -1;
    if (check_listener_fields(s, default_action, err) < 0)
        return -1;
    if (parse_flags(s, &f->flags, err) < 0)
        return -1;
    /* Validation first, without libseccomp's (costly) rule database. */
    if (add_architectures(NULL, s, err) < 0)
        return -1;
    struct rule_ctx check = { .f = f };
    for (check.idx = 0; check.idx < s->syscalls_len; check.idx++)
        if (add_syscall_entry(&check, &s->syscalls[check.idx], default_action, err) < 0)
            return -1;
    if (f->has_notify && s->listener_path == NULL)
        return husk_error_set(err, 0,
                              "linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used");
    if (!f->has_notify)
        f->flags &= ~(unsigned int) SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;

    cleanup_close int cache_fd = cache_dir != NULL ? cache_dir_open(cache_dir) : -1;
    cleanup_free char *key = NULL;
    size_t key_len = 0;
    if (cache_fd >= 0 && cache_key(s, default_action, &key, &key_len) < 0)
        return husk_error_set(err, ENOMEM, "linux.seccomp");
    if (cache_fd >= 0 && cache_load(cache_fd, key, key_len, f))
        return 0;

    f->rules = f->skipped = 0; /* counted again, for real */
    cleanup_scmp scmp_filter_ctx ctx = seccomp_init(default_action);
    if (ctx == NULL)
        return husk_error_set(err, 0, "linux.seccomp: libseccomp refused default action %#" PRIx32,
                              default_action);
    /* Rules go to every architecture present when they are added. */
    if (add_architectures(ctx, s, err) < 0)
        return -1;
    struct rule_ctx rc = { .ctx = ctx, .f = f };
    for (rc.idx = 0; rc.idx < s->syscalls_len; rc.idx++)
        if (add_syscall_entry(&rc, &s->syscalls[rc.idx], default_action, err) < 0)
            return -1;
    if (export_program(ctx, f, err) < 0)
        return -1;
    if (cache_fd >= 0)
        cache_store(cache_fd, key, key_len, f);
    return 0;
}

int husk_seccomp_compile(const ocispec_seccomp *s, husk_seccomp **out, husk_error_t *err)
{
    return husk_seccomp_compile_cached(s, NULL, out, err);
}

int husk_seccomp_compile_cached(const ocispec_seccomp *s, const char *cache_dir,
                                husk_seccomp **out, husk_error_t *err)
{
    husk_seccomp *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return husk_error_set(err, ENOMEM, "linux.seccomp");
    f->listener_fd = -1;
    if (compile_into(s, f, cache_dir, err) < 0) {
        husk_seccomp_free(f);
        return -1;
    }
    if ((s->listener_path != NULL && (f->listener_path = strdup(s->listener_path)) == NULL) ||
        (s->listener_metadata != NULL &&
         (f->listener_metadata = strdup(s->listener_metadata)) == NULL)) {
        husk_seccomp_free(f);
        return husk_error_set(err, ENOMEM, "linux.seccomp");
    }
    *out = f;
    return 0;
}

void husk_seccomp_free(husk_seccomp *f)
{
    if (f == NULL)
        return;
    if (f->listener_fd >= 0)
        close(f->listener_fd);
    free(f->prog);
    free(f->listener_path);
    free(f->listener_metadata);
    free(f);
}

void husk_seccomp_free_ptr(husk_seccomp **f)
{
    husk_seccomp_free(*f);
    *f = NULL;
}

size_t husk_seccomp_rule_count(const husk_seccomp *f) { return f->rules; }
size_t husk_seccomp_skipped_names(const husk_seccomp *f) { return f->skipped; }
size_t husk_seccomp_bpf_len(const husk_seccomp *f) { return f->prog_len; }
unsigned int husk_seccomp_flags(const husk_seccomp *f) { return f->flags; }
bool husk_seccomp_has_notify(const husk_seccomp *f) { return f->has_notify; }
bool husk_seccomp_from_cache(const husk_seccomp *f) { return f->from_cache; }
const void *husk_seccomp_bpf(const husk_seccomp *f) { return f->prog; }

/* ---------- loading ---------- */

int husk_seccomp_load(const husk_seccomp *f, int *notify_fd, husk_error_t *err)
{
    if (notify_fd != NULL)
        *notify_fd = -1;
    if (f->has_notify && notify_fd == NULL)
        return husk_error_set(err, 0, "linux.seccomp: a filter with SCMP_ACT_NOTIFY rules "
                              "needs somewhere to put its listener fd");
    struct sock_fprog prog = { .len = (unsigned short) f->prog_len, .filter = f->prog };
    unsigned int flags = f->flags;
    if (f->has_notify) {
        flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
        /* The kernel only takes TSYNC next to a listener in this form. */
        if (flags & SECCOMP_FILTER_FLAG_TSYNC)
            flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
    }
    long r = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    if (r < 0) {
        if (errno == EACCES)
            return husk_error_set(err, errno, "linux.seccomp: load the filter (it needs "
                                  "noNewPrivileges or CAP_SYS_ADMIN)");
        return husk_error_set(err, errno, "linux.seccomp: load the filter");
    }
    if (f->has_notify)
        *notify_fd = (int) r;
    return 0;
}

/* ---------- the seccomp agent ---------- */

/* Appends `s` as a JSON string literal. */
static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *) s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

int husk_seccomp_process_state(const char *state_json, pid_t pid, const char *metadata,
                               char **out, husk_error_t *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (mem == NULL)
        return husk_error_set(err, errno, "seccomp container process state");
    fprintf(mem, "{\"ociVersion\":\"%s\",\"fds\":[\"seccompFd\"],\"pid\":%d", OCISPEC_VERSION,
            (int) pid);
    if (metadata != NULL) {
        fputs(",\"metadata\":", mem);
        json_string(mem, metadata);
    }
    fprintf(mem, ",\"state\":%s}", state_json);
    if (fclose(mem) != 0) {
        free(buf);
        return husk_error_set(err, ENOMEM, "seccomp container process state");
    }
    *out = buf;
    return 0;
}

int husk_seccomp_listener_connect(const char *path, int *sock, husk_error_t *err)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(addr.sun_path))
        return husk_error_set(err, ENAMETOOLONG, "linux.seccomp.listenerPath \"%s\"", path);
    strcpy(addr.sun_path, path);
    cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return husk_error_set(err, errno, "linux.seccomp.listenerPath \"%s\": socket", path);
    int r;
    do
        r = connect(fd, (struct sockaddr *) &addr, sizeof(addr));
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return husk_error_set(err, errno, "linux.seccomp.listenerPath \"%s\": connect", path);
    *sock = steal_fd(&fd);
    return 0;
}

int husk_seccomp_listener_send(int sock, int notify_fd, const char *process_state_json,
                               husk_error_t *err)
{
    /* The spec's containerProcessState, without a NUL: agents parse JSON. */
    if (husk_send_fd_with_data(sock, notify_fd, process_state_json, strlen(process_state_json),
                               err) < 0)
        return husk_error_wrap(err, "seccomp agent");
    return 0;
}

int husk_seccomp_send_listener(const char *path, int notify_fd, const char *process_state_json,
                               husk_error_t *err)
{
    cleanup_close int sock = -1;
    if (husk_seccomp_listener_connect(path, &sock, err) < 0)
        return -1;
    if (husk_seccomp_listener_send(sock, notify_fd, process_state_json, err) < 0)
        return husk_error_wrap(err, "linux.seccomp.listenerPath \"%s\"", path);
    return 0;
}

/* ---------- wiring ---------- */

int husk_seccomp_prepare_listener(husk_seccomp *f, husk_error_t *err)
{
    if (f == NULL || !f->has_notify || f->listener_fd >= 0)
        return 0;
    return husk_seccomp_listener_connect(f->listener_path, &f->listener_fd, err);
}

void husk_seccomp_drop_listener(husk_seccomp *f)
{
    if (f != NULL && f->listener_fd >= 0) {
        close(f->listener_fd);
        f->listener_fd = -1;
    }
}

int husk_seccomp_apply(husk_seccomp *f, const ocispec_config *config, const char *id,
                       const char *bundle, pid_t pid, husk_error_t *err)
{
    if (f == NULL)
        return 0;
    /* Everything that allocates happens before the filter is in place. */
    cleanup_free char *doc = NULL;
    if (f->has_notify) {
        if (f->listener_fd < 0)
            return husk_error_set(err, ENOTCONN, "linux.seccomp.listenerPath \"%s\": not connected",
                                  f->listener_path);
        cleanup_free char *state = husk_process_state_json(config, id, bundle, "created", pid);
        if (state == NULL)
            return husk_error_set(err, ENOMEM, "seccomp container process state");
        if (husk_seccomp_process_state(state, pid, f->listener_metadata, &doc, err) < 0)
            return -1;
    }
    int nfd = -1;
    if (husk_seccomp_load(f, &nfd, err) < 0)
        return -1;
    if (nfd < 0)
        return 0;
    cleanup_close int notify_fd = nfd;
    cleanup_close int sock = steal_fd(&f->listener_fd);
    if (husk_seccomp_listener_send(sock, notify_fd, doc, err) < 0)
        return husk_error_wrap(err, "linux.seccomp.listenerPath \"%s\"", f->listener_path);
    return 0;
}
