#include "config.h"
#include "spec_default.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ocispec_build.h"
#include "utils.h"

/* ---- the default values, as tables ---- */

static const char *const default_args[] = { "sh" };

static const char *const default_env[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "TERM=xterm",
};

/* Bounding, effective, permitted and ambient all get this set; inheritable
 * stays absent. */
static const char *const default_capabilities[] = {
    "CAP_AUDIT_WRITE",
    "CAP_KILL",
    "CAP_NET_BIND_SERVICE",
};

#define OPTIONS(...) (const char *const[]){ __VA_ARGS__ }, \
    HUSK_ARRAY_LEN(((const char *const[]){ __VA_ARGS__ }))

struct mount_default {
    const char *destination;
    const char *type;
    const char *source;
    const char *const *options; /* NULL: no "options" key */
    size_t options_len;
};

static const struct mount_default default_mounts[] = {
    { "/proc", "proc", "proc", NULL, 0 },
    { "/dev", "tmpfs", "tmpfs", OPTIONS("nosuid", "strictatime", "mode=755", "size=65536k") },
    { "/dev/pts", "devpts", "devpts",
      OPTIONS("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5") },
    { "/dev/shm", "tmpfs", "shm", OPTIONS("nosuid", "noexec", "nodev", "mode=1777", "size=65536k") },
    { "/dev/mqueue", "mqueue", "mqueue", OPTIONS("nosuid", "noexec", "nodev") },
    { "/sys", "sysfs", "sysfs", OPTIONS("nosuid", "noexec", "nodev", "ro") },
    { "/sys/fs/cgroup", "cgroup", "cgroup", OPTIONS("nosuid", "noexec", "nodev", "relatime", "ro") },
};

/* An unprivileged user can neither mount sysfs nor pick a gid for devpts
 * that it does not map, so the rootless config replaces those two. */
static const struct mount_default rootless_mounts[] = {
    { "/proc", "proc", "proc", NULL, 0 },
    { "/dev", "tmpfs", "tmpfs", OPTIONS("nosuid", "strictatime", "mode=755", "size=65536k") },
    { "/dev/pts", "devpts", "devpts",
      OPTIONS("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620") },
    { "/dev/shm", "tmpfs", "shm", OPTIONS("nosuid", "noexec", "nodev", "mode=1777", "size=65536k") },
    { "/dev/mqueue", "mqueue", "mqueue", OPTIONS("nosuid", "noexec", "nodev") },
    { "/sys", "none", "/sys", OPTIONS("rbind", "nosuid", "noexec", "nodev", "ro") },
    { "/sys/fs/cgroup", "cgroup", "cgroup", OPTIONS("nosuid", "noexec", "nodev", "relatime", "ro") },
};

static const char *const default_namespaces[] = { "pid", "network", "ipc", "uts", "mount" };
/* Without privileges a new network namespace has no way out, so rootless
 * keeps the host's and adds a user namespace instead. */
static const char *const rootless_namespaces[] = { "pid", "ipc", "uts", "mount", "user" };

static const char *const default_masked_paths[] = {
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
};

static const char *const default_readonly_paths[] = {
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
};

#define DEFAULT_NOFILE_LIMIT 1024

/* ---- building the model ---- */

static ocispec_capabilities *build_capabilities(struct husk_model_builder *b)
{
    ocispec_capabilities *caps = husk_build_calloc(b, 1, sizeof(*caps));
    if (caps == NULL)
        return NULL;
    const size_t n = HUSK_ARRAY_LEN(default_capabilities);
    caps->bounding = husk_build_strv(b, default_capabilities, n, &caps->bounding_len);
    caps->effective = husk_build_strv(b, default_capabilities, n, &caps->effective_len);
    caps->permitted = husk_build_strv(b, default_capabilities, n, &caps->permitted_len);
    caps->ambient = husk_build_strv(b, default_capabilities, n, &caps->ambient_len);
    return caps;
}

static ocispec_process *build_process(struct husk_model_builder *b)
{
    ocispec_process *p = husk_build_calloc(b, 1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->has_terminal = true;
    p->terminal = true;
    p->has_user = true; /* uid 0, gid 0 */
    p->args = husk_build_strv(b, default_args, HUSK_ARRAY_LEN(default_args), &p->args_len);
    p->env = husk_build_strv(b, default_env, HUSK_ARRAY_LEN(default_env), &p->env_len);
    p->cwd = husk_build_str(b, "/");
    p->capabilities = build_capabilities(b);

    p->rlimits = husk_build_calloc(b, 1, sizeof(*p->rlimits));
    if (p->rlimits != NULL) {
        p->rlimits_len = 1;
        p->rlimits[0].type = husk_build_str(b, "RLIMIT_NOFILE");
        p->rlimits[0].hard = DEFAULT_NOFILE_LIMIT;
        p->rlimits[0].soft = DEFAULT_NOFILE_LIMIT;
    }
    p->has_no_new_privileges = true;
    p->no_new_privileges = true;
    return p;
}

static ocispec_root *build_root(struct husk_model_builder *b)
{
    ocispec_root *root = husk_build_calloc(b, 1, sizeof(*root));
    if (root == NULL)
        return NULL;
    root->path = husk_build_str(b, "rootfs");
    root->has_readonly = true;
    root->readonly = true;
    return root;
}

static void build_mounts(struct husk_model_builder *b, ocispec_config *config,
                         const struct mount_default *defs, size_t n)
{
    config->mounts = husk_build_calloc(b, n, sizeof(*config->mounts));
    if (config->mounts == NULL)
        return;
    config->mounts_len = n;
    for (size_t i = 0; i < n; i++) {
        ocispec_mount *m = &config->mounts[i];
        m->destination = husk_build_str(b, defs[i].destination);
        m->type = husk_build_str(b, defs[i].type);
        m->source = husk_build_str(b, defs[i].source);
        if (defs[i].options != NULL)
            m->options = husk_build_strv(b, defs[i].options, defs[i].options_len, &m->options_len);
    }
}

static ocispec_namespace *build_namespaces(struct husk_model_builder *b, const char *const *types,
                                           size_t n, size_t *len_out)
{
    ocispec_namespace *ns = husk_build_calloc(b, n, sizeof(*ns));
    *len_out = 0;
    if (ns == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        ns[i].type = husk_build_str(b, types[i]);
    *len_out = n;
    return ns;
}

/* Denies every device; the runtime adds back the default devices. */
static ocispec_resources *build_deny_all_devices(struct husk_model_builder *b)
{
    ocispec_resources *res = husk_build_calloc(b, 1, sizeof(*res));
    if (res == NULL)
        return NULL;
    res->devices = husk_build_calloc(b, 1, sizeof(*res->devices));
    if (res->devices != NULL) {
        res->devices_len = 1;
        res->devices[0].allow = false;
        res->devices[0].access = husk_build_str(b, "rwm");
    }
    return res;
}

/* Container root is the caller: the only mapping an unprivileged user may
 * write without a setuid helper. */
static ocispec_id_mapping *build_self_mapping(struct husk_model_builder *b, uint32_t host_id,
                                              size_t *len_out)
{
    ocispec_id_mapping *map = husk_build_calloc(b, 1, sizeof(*map));
    *len_out = 0;
    if (map == NULL)
        return NULL;
    map->container_id = 0;
    map->host_id = host_id;
    map->size = 1;
    *len_out = 1;
    return map;
}

static ocispec_linux *build_linux(struct husk_model_builder *b, bool rootless)
{
    ocispec_linux *linux_ = husk_build_calloc(b, 1, sizeof(*linux_));
    if (linux_ == NULL)
        return NULL;
    if (rootless) {
        linux_->uid_mappings = build_self_mapping(b, geteuid(), &linux_->uid_mappings_len);
        linux_->gid_mappings = build_self_mapping(b, getegid(), &linux_->gid_mappings_len);
        linux_->namespaces = build_namespaces(b, rootless_namespaces,
                                              HUSK_ARRAY_LEN(rootless_namespaces),
                                              &linux_->namespaces_len);
    } else {
        linux_->resources = build_deny_all_devices(b);
        linux_->namespaces = build_namespaces(b, default_namespaces,
                                              HUSK_ARRAY_LEN(default_namespaces),
                                              &linux_->namespaces_len);
    }
    linux_->masked_paths = husk_build_strv(b, default_masked_paths,
                                           HUSK_ARRAY_LEN(default_masked_paths),
                                           &linux_->masked_paths_len);
    linux_->readonly_paths = husk_build_strv(b, default_readonly_paths,
                                             HUSK_ARRAY_LEN(default_readonly_paths),
                                             &linux_->readonly_paths_len);
    return linux_;
}

int husk_spec_default(bool rootless, ocispec_config **out, husk_error_t *err)
{
    struct husk_model_builder b = { 0 };
    ocispec_config *config = husk_build_calloc(&b, 1, sizeof(*config));
    if (config == NULL)
        return husk_error_set(err, ENOMEM, "build the default configuration");

    config->oci_version = husk_build_str(&b, OCISPEC_VERSION);
    config->process = build_process(&b);
    config->root = build_root(&b);
    config->hostname = husk_build_str(&b, "husk");
    if (rootless)
        build_mounts(&b, config, rootless_mounts, HUSK_ARRAY_LEN(rootless_mounts));
    else
        build_mounts(&b, config, default_mounts, HUSK_ARRAY_LEN(default_mounts));
    config->linux = build_linux(&b, rootless);

    if (b.failed) {
        ocispec_config_free(config);
        return husk_error_set(err, ENOMEM, "build the default configuration");
    }
    *out = config;
    return 0;
}

/* ---- writing config.json ---- */

/* Go's json.MarshalIndent(v, "", "\t") layout, which `runc spec` writes:
 * one tab per level and no newline after the closing brace. The generator's
 * pretty mode differs at most in the indent unit, and leading whitespace in
 * pretty JSON is only ever indentation (strings cannot hold raw newlines), so
 * rewriting it is safe. */
static char *reindent_with_tabs(const char *json)
{
    const char *second = strchr(json, '\n');
    size_t unit = 0;
    if (second != NULL)
        while (second[1 + unit] == ' ')
            unit++;

    size_t len = strlen(json);
    char *out = malloc(len + 1);
    if (out == NULL)
        return NULL;

    char *w = out;
    bool at_line_start = true;
    for (const char *r = json; *r != '\0';) {
        if (at_line_start && unit > 0 && *r == ' ') {
            size_t spaces = strspn(r, " ");
            for (size_t i = 0; i < spaces / unit; i++)
                *w++ = '\t';
            r += spaces - spaces % unit;
            at_line_start = false;
            continue;
        }
        at_line_start = *r == '\n';
        *w++ = *r++;
    }
    while (w > out && w[-1] == '\n')
        w--;
    *w = '\0';
    return out;
}

static int open_bundle_dir(const char *bundle, husk_error_t *err)
{
    int fd = open(bundle != NULL ? bundle : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return husk_error_set(err, errno, "open bundle directory \"%s\"",
                              bundle != NULL ? bundle : ".");
    return fd;
}

int husk_spec_write(const char *bundle, const ocispec_config *config, husk_error_t *err)
{
    char *gen_err = NULL;
    cleanup_free char *generated = ocispec_config_generate(config, true, &gen_err);
    if (generated == NULL) {
        int ret = husk_error_set(err, 0, "generate config.json: %s",
                                 gen_err != NULL ? gen_err : "out of memory");
        free(gen_err);
        return ret;
    }
    cleanup_free char *text = reindent_with_tabs(generated);
    if (text == NULL)
        return husk_error_set(err, ENOMEM, "format config.json");

    cleanup_free char *path = NULL;
    if (asprintf(&path, "%s%sconfig.json", bundle != NULL ? bundle : "",
                 bundle != NULL && bundle[strlen(bundle) - 1] != '/' ? "/" : "") < 0)
        return husk_error_set(err, ENOMEM, "format config.json path");

    cleanup_close int dirfd = open_bundle_dir(bundle, err);
    if (dirfd < 0)
        return dirfd;

    /* O_EXCL: an existing config.json, or a symlink by that name, is never
     * touched, and no check-then-create race can clobber one. */
    cleanup_close int fd = openat(dirfd, "config.json",
                                  O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0 && errno == EEXIST)
        return husk_error_set(err, 0, "\"%s\" already exists; remove it first (husk spec "
                                      "never overwrites it)", path);
    if (fd < 0)
        return husk_error_set(err, errno, "create \"%s\"", path);

    if (husk_write_all(fd, text, strlen(text)) < 0) {
        int saved = errno;
        unlinkat(dirfd, "config.json", 0);
        return husk_error_set(err, saved, "write \"%s\"", path);
    }
    return 0;
}
