/* cgroup v2 device access: v2 has no devices.allow/deny files; the kernel
 * asks a BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup instead.
 * husk assembles that program at run time from the device rules (no
 * compiler involved): the rules are checked last to first, the first that
 * matches decides, and anything no rule matches is denied.
 *
 * Program input (struct bpf_cgroup_dev_ctx): access_type = access << 16 |
 * type, major, minor. A rule matches when its type is `a` (everything, as a
 * v1 `a` rule), or the type, major and minor agree (-1 = any) and the
 * requested access bits are all within the rule's. */
#define _GNU_SOURCE
#include "cgroup_internal.h"

#include <errno.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "utils.h"

/* Registers the prologue fills: */
enum {
    R_TYPE = 3,   /* BPF_DEVCG_DEV_* */
    R_ACCESS = 4, /* BPF_DEVCG_ACC_* */
    R_MAJOR = 5,
    R_MINOR = 6,
    R_TMP = 7,
};

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
    return (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src, .off = off,
                             .imm = imm};
}

struct prog {
    struct bpf_insn *v;
    size_t n, cap;
};

static int emit(struct prog *p, struct bpf_insn i)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        struct bpf_insn *bigger = realloc(p->v, cap * sizeof *bigger);
        if (bigger == NULL)
            return -1;
        p->v = bigger;
        p->cap = cap;
    }
    p->v[p->n++] = i;
    return 0;
}

static unsigned access_bits(unsigned rwm)
{
    unsigned bits = 0;
    if (rwm & CG_DEV_READ)
        bits |= BPF_DEVCG_ACC_READ;
    if (rwm & CG_DEV_WRITE)
        bits |= BPF_DEVCG_ACC_WRITE;
    if (rwm & CG_DEV_MKNOD)
        bits |= BPF_DEVCG_ACC_MKNOD;
    return bits;
}

/* One rule: a run of "jump to the next rule unless ..." tests, then
 * "return allow". Offsets count the instructions left in the block. */
static int emit_rule(struct prog *p, const struct cg_dev_rule *r)
{
    struct bpf_insn tests[6];
    size_t n = 0;
    if (r->type != 'a') {
        int32_t type = r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
        tests[n++] = insn(BPF_JMP | BPF_JNE | BPF_K, R_TYPE, 0, 0, type);
        unsigned acc = access_bits(r->access);
        unsigned all = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
        if (acc != all) {
            tests[n++] = insn(BPF_ALU | BPF_MOV | BPF_X, R_TMP, R_ACCESS, 0, 0);
            tests[n++] = insn(BPF_ALU | BPF_AND | BPF_K, R_TMP, 0, 0, (int32_t)(all & ~acc));
            tests[n++] = insn(BPF_JMP | BPF_JNE | BPF_K, R_TMP, 0, 0, 0);
        }
        if (r->major >= 0)
            tests[n++] = insn(BPF_JMP | BPF_JNE | BPF_K, R_MAJOR, 0, 0, (int32_t)r->major);
        if (r->minor >= 0)
            tests[n++] = insn(BPF_JMP | BPF_JNE | BPF_K, R_MINOR, 0, 0, (int32_t)r->minor);
    }
    size_t block = n + 2;
    for (size_t i = 0; i < n; i++) {
        if (BPF_OP(tests[i].code) == BPF_JNE && BPF_CLASS(tests[i].code) == BPF_JMP)
            tests[i].off = (int16_t)(block - i - 1);
        if (emit(p, tests[i]) < 0)
            return -1;
    }
    if (emit(p, insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, r->allow ? 1 : 0)) < 0 ||
        emit(p, insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)) < 0)
        return -1;
    return 0;
}

int cg_v2_device_program(const struct cg_dev_rule *rules, size_t n, struct bpf_insn **out,
                         size_t *out_len)
{
    struct prog p = {0};
    const struct bpf_insn prologue[] = {
        insn(BPF_LDX | BPF_MEM | BPF_W, 2, 1, 0, 0), /* access_type */
        insn(BPF_ALU | BPF_MOV | BPF_X, R_TYPE, 2, 0, 0),
        insn(BPF_ALU | BPF_AND | BPF_K, R_TYPE, 0, 0, 0xffff),
        insn(BPF_ALU | BPF_MOV | BPF_X, R_ACCESS, 2, 0, 0),
        insn(BPF_ALU | BPF_RSH | BPF_K, R_ACCESS, 0, 0, 16),
        insn(BPF_LDX | BPF_MEM | BPF_W, R_MAJOR, 1, 4, 0),
        insn(BPF_LDX | BPF_MEM | BPF_W, R_MINOR, 1, 8, 0),
    };
    for (size_t i = 0; i < sizeof prologue / sizeof prologue[0]; i++)
        if (emit(&p, prologue[i]) < 0)
            goto oom;
    bool decided = false;
    for (size_t i = n; i-- > 0 && !decided;) {
        if (emit_rule(&p, &rules[i]) < 0)
            goto oom;
        decided = rules[i].type == 'a'; /* matches everything: earlier rules are dead */
    }
    if (!decided && (emit(&p, insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0)) < 0 ||
                     emit(&p, insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)) < 0))
        goto oom;
    *out = p.v;
    *out_len = p.n;
    return 0;
oom:
    free(p.v);
    return -ENOMEM;
}

static long bpf(int cmd, union bpf_attr *attr)
{
    return syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

/* Ids of the device programs attached to the cgroup now. */
static int attached_ids(int cgroup_fd, uint32_t ids[64], uint32_t *n)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.query.target_fd = (uint32_t)cgroup_fd;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
    attr.query.prog_cnt = 64;
    if (bpf(BPF_PROG_QUERY, &attr) < 0)
        return -errno;
    *n = attr.query.prog_cnt;
    return 0;
}

static void detach_id(int cgroup_fd, uint32_t id)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_id = id;
    cleanup_close int fd = (int)bpf(BPF_PROG_GET_FD_BY_ID, &attr);
    if (fd < 0)
        return;
    memset(&attr, 0, sizeof attr);
    attr.target_fd = (uint32_t)cgroup_fd;
    attr.attach_bpf_fd = (uint32_t)fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    bpf(BPF_PROG_DETACH, &attr);
}

static int load_program(const struct bpf_insn *code, size_t len, char *log, size_t log_size)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)code;
    attr.insn_cnt = (uint32_t)len;
    attr.license = (uint64_t)(uintptr_t) "GPL";
    if (log != NULL) {
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = (uint32_t)log_size;
        attr.log_level = 1;
    }
    return (int)bpf(BPF_PROG_LOAD, &attr);
}

int cg_v2_set_devices(int cgroup_fd, const char *abs, const struct cg_dev_rule *rules, size_t n,
                      husk_error_t *err)
{
    cleanup_free struct bpf_insn *code = NULL;
    size_t len = 0;
    if (cg_v2_device_program(rules, n, &code, &len) < 0)
        return husk_error_set(err, ENOMEM, "linux.resources.devices: build the device program");

    int prog_fd = load_program(code, len, NULL, 0);
    if (prog_fd < 0) {
        /* Load again with the verifier's log, only to explain the failure. */
        int saved = errno;
        cleanup_free char *log = calloc(1, 65536);
        if (log != NULL)
            load_program(code, len, log, 65536);
        size_t log_len = log != NULL ? strlen(log) : 0;
        return husk_error_set(err, saved,
                              "linux.resources.devices: load the device program for `%s`%s%s",
                              abs, log_len ? ": " : "",
                              log_len > 300 ? log + log_len - 300 : (log ? log : ""));
    }
    cleanup_close int prog = prog_fd;
    if (cg_testing()) /* a fake tree is no cgroup: the kernel verified the program, stop */
        return 0;

    /* Programs already there (an update): replaced once the new one is on,
     * so there is no moment without a filter. */
    uint32_t old[64];
    uint32_t n_old = 0;
    if (attached_ids(cgroup_fd, old, &n_old) < 0)
        n_old = 0;

    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.target_fd = (uint32_t)cgroup_fd;
    attr.attach_bpf_fd = (uint32_t)prog;
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    if (bpf(BPF_PROG_ATTACH, &attr) < 0)
        return husk_error_set(err, errno, "linux.resources.devices: attach the device program "
                                          "to `%s`",
                              abs);
    for (uint32_t i = 0; i < n_old; i++)
        detach_id(cgroup_fd, old[i]);
    return 0;
}
