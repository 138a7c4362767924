#include "config.h"
#include "spec_features.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/seccomp.h>
#include <seccomp_lib.h> /* libseccomp's <seccomp.h>, which src/lib/seccomp.h shadows */
#include <sys/capability.h>

#include "git-commit.h"
#include "ocispec_build.h"

/* What husk acts on today, by concern. The "enabled" flags of the document
 * come from here (and from what configure compiled in), so a caller is never
 * told husk applies something it would silently ignore. Whoever lands the
 * code for a concern flips its line in the same change. */
static const struct {
    bool seccomp;        /* linux.seccomp: src/lib/seccomp.c */
    bool apparmor;       /* process.apparmorProfile: src/lib/lsm.c (kernel interface) */
    bool selinux;        /* process.selinuxLabel, linux.mountLabel: src/lib/lsm.c */
    bool idmap_mounts;   /* mounts[].uidMappings/gidMappings: src/lib/idmap_mount.c */
    bool cgroup_v1;      /* src/lib/cgroup.c: cgroupfs driver, v1 and hybrid */
    bool cgroup_v2;      /* src/lib/cgroup.c: cgroupfs driver, unified */
    bool cgroup_systemd; /* the systemd driver: src/lib/cgroup_systemd.c (system bus) */
    bool cgroup_systemd_user; /* scopes on a user's own systemd (--user bus): not done */
    bool cgroup_rdma;    /* linux.resources.rdma: src/lib/cgroup_v1.c, cgroup_v2.c */
    bool intel_rdt;      /* linux.intelRdt */
    bool net_devices;    /* linux.netDevices */
} implemented = {
    .seccomp = true,
    .apparmor = true,
    .selinux = true,
    .idmap_mounts = true,
    .cgroup_v1 = true,
    .cgroup_v2 = true,
    .cgroup_rdma = true,
    .cgroup_systemd = true,
};

#ifdef HAVE_SYSTEMD
#define SYSTEMD_BUILT_IN true
#else
#define SYSTEMD_BUILT_IN false
#endif

static const char *const hook_names[] = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

/* The filesystem-independent options of mount(8), the propagation flags,
 * and the recursive ("r"-prefixed) attributes runtime-spec 1.3.0 defines for
 * mount_setattr(2). Filesystem-specific options (size=, mode=, ...) are passed
 * to the filesystem as data and are not listed, as the spec asks. */
static const char *const mount_options[] = {
    "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "iversion",
    "lazytime", "loud", "mand", "noatime", "nodev", "nodiratime", "noexec", "noiversion",
    "nolazytime", "nomand", "norelatime", "nostrictatime", "nosuid", "nosymfollow", "private",
    "ratime", "rbind", "rdev", "rdiratime", "relatime", "remount", "rexec", "rnoatime", "rnodev",
    "rnodiratime", "rnoexec", "rnorelatime", "rnostrictatime", "rnosuid", "rnosymfollow",
    "ro", "rprivate", "rrelatime", "rro", "rrw", "rshared", "rslave", "rstrictatime", "rsuid",
    "rsymfollow", "runbindable", "rw", "shared", "silent", "slave", "strictatime", "suid",
    "symfollow", "sync", "unbindable",
};

/* Only listed once idmapped mounts are implemented: a caller that sees them
 * would send idmapped mounts. */
static const char *const idmap_mount_options[] = { "idmap", "ridmap" };

static const char *const namespace_types[] = {
    "cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts",
};

static const char *const seccomp_operators[] = {
    "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ",
    "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
};

/* Every SCMP_ARCH_* of runtime-spec 1.3.0; the document lists those the
 * linked libseccomp can resolve. */
static const char *const seccomp_spec_archs[] = {
    "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",
    "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
};

/* ---- capabilities ---- */

/* Every capability libcap has a name for: cap_to_name() prints a number
 * for values it does not know. Past cap_max_bits() too, so that a name this
 * libcap knows is recognized even on an older kernel. */
static void add_capabilities(struct husk_model_builder *b, ocispec_features_linux *linux_)
{
    linux_->capabilities = husk_build_calloc(b, 1, sizeof(char *));
    linux_->capabilities_len = 0;
    cap_value_t last = cap_max_bits();
    if (last < 64)
        last = 64;
    for (cap_value_t cap = 0; cap < last && linux_->capabilities != NULL; cap++) {
        char *name = cap_to_name(cap);
        if (name == NULL) {
            b->failed = true;
            return;
        }
        if (strncmp(name, "cap_", 4) == 0) {
            char upper[64];
            size_t i = 0;
            for (; name[i] != '\0' && i < sizeof(upper) - 1; i++)
                upper[i] = (char) toupper((unsigned char) name[i]);
            upper[i] = '\0';
            husk_build_strv_append(b, &linux_->capabilities, &linux_->capabilities_len, upper);
        }
        cap_free(name);
    }
}

/* ---- seccomp ---- */

static void add_seccomp_archs(struct husk_model_builder *b, ocispec_features_seccomp *s)
{
    s->archs = husk_build_calloc(b, 1, sizeof(char *));
    s->archs_len = 0;
    for (size_t i = 0; i < HUSK_ARRAY_LEN(seccomp_spec_archs) && s->archs != NULL; i++) {
        /* "SCMP_ARCH_X86_64" -> libseccomp's "x86_64" */
        char name[32];
        const char *suffix = seccomp_spec_archs[i] + strlen("SCMP_ARCH_");
        size_t j = 0;
        for (; suffix[j] != '\0' && j < sizeof(name) - 1; j++)
            name[j] = (char) tolower((unsigned char) suffix[j]);
        name[j] = '\0';
        if (seccomp_arch_resolve_name(name) != 0)
            husk_build_strv_append(b, &s->archs, &s->archs_len, seccomp_spec_archs[i]);
    }
}

static void add_seccomp_actions(struct husk_model_builder *b, ocispec_features_seccomp *s)
{
    static const char *const actions[] = {
        "SCMP_ACT_KILL",
#ifdef SCMP_ACT_KILL_PROCESS
        "SCMP_ACT_KILL_PROCESS",
#endif
#ifdef SCMP_ACT_KILL_THREAD
        "SCMP_ACT_KILL_THREAD",
#endif
        "SCMP_ACT_TRAP",
        "SCMP_ACT_ERRNO",
        "SCMP_ACT_TRACE",
        "SCMP_ACT_ALLOW",
#ifdef SCMP_ACT_LOG
        "SCMP_ACT_LOG",
#endif
#ifdef SCMP_ACT_NOTIFY
        "SCMP_ACT_NOTIFY",
#endif
    };
    s->actions = husk_build_strv(b, actions, HUSK_ARRAY_LEN(actions), &s->actions_len);
}

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

/* The filter flags of runtime-spec 1.3.0. src/lib/seccomp.c hands them to
 * seccomp(2) itself when it loads the filter, so what counts is the kernel,
 * not the libseccomp version. */
static const struct seccomp_flag {
    const char *name;
    unsigned long probe; /* flags that make a valid seccomp(2) call */
} seccomp_flags[] = {
    { "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC },
    { "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
    { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
    /* the kernel only takes it along with a listener */
    { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
      SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV | SECCOMP_FILTER_FLAG_NEW_LISTENER },
};

/* seccomp(2) checks the flags before it reads the filter, so a NULL filter
 * fails with EFAULT when the kernel knows the flag and EINVAL when it does
 * not, and nothing is installed either way. */
static bool kernel_knows_filter_flag(unsigned long flag)
{
    long ret = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, NULL);
    return ret < 0 && errno == EFAULT;
}

static void add_seccomp_flags(struct husk_model_builder *b, ocispec_features_seccomp *s)
{
    s->known_flags = husk_build_calloc(b, 1, sizeof(char *));
    s->supported_flags = husk_build_calloc(b, 1, sizeof(char *));
    for (size_t i = 0; i < HUSK_ARRAY_LEN(seccomp_flags); i++) {
        const struct seccomp_flag *f = &seccomp_flags[i];
        husk_build_strv_append(b, &s->known_flags, &s->known_flags_len, f->name);
        if (kernel_knows_filter_flag(f->probe))
            husk_build_strv_append(b, &s->supported_flags, &s->supported_flags_len, f->name);
    }
}

static ocispec_features_seccomp *build_seccomp(struct husk_model_builder *b)
{
    ocispec_features_seccomp *s = husk_build_calloc(b, 1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->has_enabled = true;
    s->enabled = implemented.seccomp;
    add_seccomp_actions(b, s);
    s->operators = husk_build_strv(b, seccomp_operators, HUSK_ARRAY_LEN(seccomp_operators),
                                   &s->operators_len);
    add_seccomp_archs(b, s);
    add_seccomp_flags(b, s);
    return s;
}

/* ---- the document ---- */

static ocispec_features_cgroup *build_cgroup(struct husk_model_builder *b)
{
    ocispec_features_cgroup *cg = husk_build_calloc(b, 1, sizeof(*cg));
    if (cg == NULL)
        return NULL;
    cg->has_v1 = cg->has_v2 = cg->has_systemd = cg->has_systemd_user = cg->has_rdma = true;
    cg->v1 = implemented.cgroup_v1;
    cg->v2 = implemented.cgroup_v2;
    cg->systemd = SYSTEMD_BUILT_IN && implemented.cgroup_systemd;
    cg->systemd_user = SYSTEMD_BUILT_IN && implemented.cgroup_systemd_user;
    cg->rdma = implemented.cgroup_rdma;
    return cg;
}

static ocispec_features_linux *build_linux(struct husk_model_builder *b)
{
    ocispec_features_linux *l = husk_build_calloc(b, 1, sizeof(*l));
    if (l == NULL)
        return NULL;
    l->namespaces = husk_build_strv(b, namespace_types, HUSK_ARRAY_LEN(namespace_types),
                                    &l->namespaces_len);
    add_capabilities(b, l);
    l->cgroup = build_cgroup(b);
    l->seccomp = build_seccomp(b);
    l->has_apparmor_enabled = true;
    l->apparmor_enabled = implemented.apparmor;
    l->has_selinux_enabled = true;
    l->selinux_enabled = implemented.selinux;
    l->has_intel_rdt_enabled = true;
    l->intel_rdt_enabled = implemented.intel_rdt;
    l->has_idmap_enabled = true;
    l->idmap_enabled = implemented.idmap_mounts;
    l->has_net_devices_enabled = true;
    l->net_devices_enabled = implemented.net_devices;
    return l;
}

static void add_mount_options(struct husk_model_builder *b, ocispec_features *f)
{
    f->mount_options = husk_build_strv(b, mount_options, HUSK_ARRAY_LEN(mount_options),
                                       &f->mount_options_len);
    if (implemented.idmap_mounts)
        for (size_t i = 0; i < HUSK_ARRAY_LEN(idmap_mount_options); i++)
            husk_build_strv_append(b, &f->mount_options, &f->mount_options_len,
                                   idmap_mount_options[i]);
}

static ocispec_string_map *build_annotations(struct husk_model_builder *b)
{
    const struct scmp_version *v = seccomp_version();
    char libseccomp[64];
    if (v != NULL)
        snprintf(libseccomp, sizeof(libseccomp), "%u.%u.%u", v->major, v->minor, v->micro);
    else
        snprintf(libseccomp, sizeof(libseccomp), "unknown");

    const char *const keys[] = {
        HUSK_ANNOTATION_VERSION, HUSK_ANNOTATION_COMMIT, HUSK_ANNOTATION_LIBSECCOMP_VERSION,
    };
    const char *const values[] = { PACKAGE_VERSION, GIT_COMMIT, libseccomp };

    ocispec_string_map *map = husk_build_calloc(b, 1, sizeof(*map));
    if (map == NULL)
        return NULL;
    size_t nkeys = 0, nvalues = 0;
    map->keys = husk_build_strv(b, keys, HUSK_ARRAY_LEN(keys), &nkeys);
    map->values = husk_build_strv(b, values, HUSK_ARRAY_LEN(values), &nvalues);
    map->len = map->keys != NULL && map->values != NULL ? nkeys : 0;
    return map;
}

int husk_features_build(ocispec_features **out, husk_error_t *err)
{
    struct husk_model_builder b = { 0 };
    ocispec_features *f = husk_build_calloc(&b, 1, sizeof(*f));
    if (f == NULL)
        return husk_error_set(err, ENOMEM, "build the features document");

    f->oci_version_min = husk_build_str(&b, "1.0.0");
    f->oci_version_max = husk_build_str(&b, OCISPEC_VERSION);
    f->hooks = husk_build_strv(&b, hook_names, HUSK_ARRAY_LEN(hook_names), &f->hooks_len);
    add_mount_options(&b, f);
    f->linux = build_linux(&b);
    f->annotations = build_annotations(&b);

    if (b.failed) {
        ocispec_features_free(f);
        return husk_error_set(err, ENOMEM, "build the features document");
    }
    *out = f;
    return 0;
}
