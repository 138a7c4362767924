/* Internals shared by cgroup.c (core), cgroup_v1.c, cgroup_v2.c and
 * cgroup_resources.c. Not part of the library's API; unit tests include it. */
#ifndef HUSK_CGROUP_INTERNAL_H
#define HUSK_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "cgroup.h"

/* Controllers husk knows, as bits so a hierarchy can carry several
 * (v1 "cpu,cpuacct") and a resource group can name the one it needs. */
enum {
    CG_CPU = 1u << 0,
    CG_CPUACCT = 1u << 1,
    CG_CPUSET = 1u << 2,
    CG_MEMORY = 1u << 3,
    CG_DEVICES = 1u << 4,
    CG_FREEZER = 1u << 5,
    CG_BLKIO = 1u << 6, /* "io" on v2 */
    CG_PIDS = 1u << 7,
    CG_NET_CLS = 1u << 8,
    CG_NET_PRIO = 1u << 9,
    CG_HUGETLB = 1u << 10,
    CG_RDMA = 1u << 11,
    CG_PERF_EVENT = 1u << 12,
    CG_MISC = 1u << 13,
};

/* Name of a single controller bit ("io" for CG_BLKIO when v2). */
const char *cg_controller_name(uint32_t bit, bool v2);
/* Bit of a controller name ("io" and "blkio" both give CG_BLKIO); 0 if unknown. */
uint32_t cg_controller_bit(const char *name);

struct cg_hierarchy {
    char *mountpoint;  /* with the testing root prefixed */
    char *name;        /* v1 "name=" hierarchies (name=systemd), else NULL */
    uint32_t controllers;
    bool v2;
};

struct cg_host {
    enum husk_cgroup_layout layout;
    struct cg_hierarchy *h;
    size_t n;
};

/* Parses mountinfo text (the format of proc(5) /proc/PID/mountinfo) into
 * hierarchies; controllers of a cgroup2 mount are read from its
 * cgroup.controllers. prefix is prepended to every mount point. Exposed for
 * unit tests. */
int cg_host_parse(const char *mountinfo, const char *prefix, struct cg_host *out,
                  husk_error_t *err);
void cg_host_clear(struct cg_host *host);
/* The cached host (parsed on first use). */
int cg_host_get(const struct cg_host **out, husk_error_t *err);
/* The hierarchy carrying controller bit, or NULL. */
const struct cg_hierarchy *cg_host_find(const struct cg_host *host, uint32_t bit);

/* One directory of the container's cgroup, in one hierarchy. */
struct cg_dir {
    const struct cg_hierarchy *h;
    char *abs;         /* mountpoint + path, for messages and rmdir */
    int fd;            /* O_DIRECTORY, -1 when it does not exist */
    int created;       /* trailing path components create() made */
};

struct cg_systemd; /* cgroup_systemd.h */

struct husk_cgroup {
    enum husk_cgroup_manager manager;
    enum husk_cgroup_layout layout;
    char *path;
    struct cg_dir *dirs;
    size_t n_dirs;
    struct cg_systemd *sd; /* manager SYSTEMD only: the scope */
};

/* The dir whose hierarchy carries controller bit, or NULL. */
struct cg_dir *cg_dir_for(husk_cgroup *cg, uint32_t bit);
/* The cgroup2 dir (pure v2 or hybrid), or NULL. */
struct cg_dir *cg_dir_v2(husk_cgroup *cg);

/* Control file I/O relative to a dir; messages name the full path. */
int cg_write(const struct cg_dir *d, const char *file, const char *value, husk_error_t *err);
int cg_read(const struct cg_dir *d, const char *file, char **out, husk_error_t *err);
/* The two halves of cg_write_fd, for several values through one fd. */
int cg_open_control(int dirfd, const char *abs, const char *file, husk_error_t *err);
int cg_write_value(int fd, const char *abs, const char *file, const char *value,
                   husk_error_t *err);
/* Same on an arbitrary dir fd whose path is abs (ancestors, sub-cgroups). */
int cg_write_fd(int dirfd, const char *abs, const char *file, const char *value,
                husk_error_t *err);
int cg_read_fd(int dirfd, const char *abs, const char *file, char **out, husk_error_t *err);

bool cg_testing(void);

/* ---- resources: translated into a list of writes, then applied ---- */

enum {
    /* EINVAL may mean "ordering": retry once after every other write
     * (memory limit vs memsw, cfs quota vs period, rt runtime vs period). */
    CGW_RETRY_LATER = 1u << 0,
    /* The kernel dropped this knob on purpose (kmem limits): EOPNOTSUPP and
     * a missing file are not errors. */
    CGW_OBSOLETE = 1u << 1,
};

struct cg_write {
    uint32_t controller;
    char *file;
    char *value;
    const char *field; /* "linux.resources.memory.limit" */
    unsigned flags;
    const char *alt_file; /* tried when file does not exist (static string) */
};

/* One device rule, whichever version enforces it. */
enum { CG_DEV_READ = 1u << 0, CG_DEV_WRITE = 1u << 1, CG_DEV_MKNOD = 1u << 2 };
struct cg_dev_rule {
    bool allow;
    char type;     /* 'a', 'b', 'c' */
    int64_t major; /* -1: any */
    int64_t minor; /* -1: any */
    unsigned access; /* CG_DEV_* */
};

/* The full rule list for a container: deny everything, the config's rules
 * in order (later rules win), then the runtime-spec default devices, which
 * must stay usable whatever the config says. */
int cg_device_rules(const ocispec_resources *res, struct cg_dev_rule **out, size_t *n);

struct cg_writes {
    struct cg_write *v;
    size_t n, cap;
    /* pure v2: the device rules for the cgroup's BPF device program */
    struct cg_dev_rule *dev_rules;
    size_t n_dev_rules;
    bool has_dev_rules;
};

int cg_writes_add(struct cg_writes *w, uint32_t controller, const char *field, unsigned flags,
                  const char *file, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void cg_writes_clear(struct cg_writes *w);
/* Gives the last added write a file to fall back to when its own is missing
 * (blkio.weight -> blkio.bfq.weight on kernels with BFQ only). */
void cg_writes_set_alt(struct cg_writes *w, const char *alt_file);

/* Turns res into writes for this host (each controller in the form of the
 * hierarchy that carries it). Validates every field on the way. devices:
 * when include_devices, the v1 device rules (deny all, res rules, the
 * runtime-spec default devices) are emitted even if res has none. */
int cg_translate(const ocispec_resources *res, const struct cg_host *host,
                 bool include_devices, struct cg_writes *out, husk_error_t *err);

/* The per-version translators (called by cg_translate for the controllers
 * each version carries). */
int cg_v1_translate(const ocispec_resources *res, uint32_t v1_controllers,
                    bool include_devices, struct cg_writes *out, husk_error_t *err);
int cg_v2_translate(const ocispec_resources *res, uint32_t v2_controllers,
                    bool pure_v2, struct cg_writes *out, husk_error_t *err);

/* Applies writes to cg's dirs. */
int cg_apply_writes(husk_cgroup *cg, const struct cg_writes *w, husk_error_t *err);

/* Controllers the v2 part of res needs enabled (hybrid: hugetlb, unified keys). */
uint32_t cg_v2_needed_controllers(const ocispec_resources *res);

/* v1 helpers (cgroup_v1.c) */
int cg_v1_init_cpuset(int parentfd, const char *parent_abs, int fd, const char *abs,
                      husk_error_t *err);
int cg_v1_freeze(struct cg_dir *d, bool frozen, husk_error_t *err);
int cg_v1_is_frozen(struct cg_dir *d, bool *frozen, husk_error_t *err);

/* v2 helpers (cgroup_v2.c) */
int cg_v2_enable_controllers(int dirfd, const char *abs, uint32_t wanted, husk_error_t *err);
int cg_v2_freeze(struct cg_dir *d, bool frozen, husk_error_t *err);
int cg_v2_is_frozen(struct cg_dir *d, bool *frozen, husk_error_t *err);
/* 1 when cgroup.kill did the job, 0 when the kernel has no cgroup.kill. */
int cg_v2_kill(struct cg_dir *d, husk_error_t *err);

/* v2 device program (cgroup_v2_devices.c) */
struct bpf_insn;
/* Assembles the program (exposed for unit tests); -ENOMEM on failure. */
int cg_v2_device_program(const struct cg_dev_rule *rules, size_t n, struct bpf_insn **out,
                         size_t *out_len);
/* Loads it and attaches it to the cgroup, replacing device programs
 * attached before. */
int cg_v2_set_devices(int cgroup_fd, const char *abs, const struct cg_dev_rule *rules, size_t n,
                      husk_error_t *err);

/* Waits a little: used by freeze polling and EBUSY retries. */
void cg_short_sleep(unsigned attempt);

#endif
