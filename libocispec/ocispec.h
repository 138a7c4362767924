/* libocispec: husk's typed model of the OCI runtime-spec 1.3.0 documents
 * (config.json, state, features), parsed and generated with yajl.
 *
 * Conventions (every type below follows them):
 *  - strings are malloc'd, NULL when absent;
 *  - arrays are `T *x; size_t x_len;` and x == NULL means "absent", while a
 *    present empty array has x != NULL and x_len == 0; string arrays are also
 *    NULL-terminated so they can be handed to execve();
 *  - optional scalars carry `bool has_x`: absent is distinct from zero;
 *  - string maps (annotations, sysctl, unified, ...) keep document order.
 *
 * Parse errors are returned as a malloc'd message that names the JSON path:
 *   "linux.resources.memory.limit: expected integer, got string".
 * The *_parse_file() variants prefix it with the file path. On failure errno
 * is EINVAL for a bad document, EFBIG for a file over 64 MiB, ENOMEM, or
 * the open()/read() errno.
 *
 * Reading rules: unknown keys are ignored; a JSON null reads as absent; a
 * key given twice keeps its last value (as Go's encoding/json does), except
 * in string maps, which keep every entry in document order (and
 * ocispec_string_map_get returns the last). Integers are range checked
 * against their C type. Fields the spec marks REQUIRED inside a present
 * object are checked, and duplicate namespace / rlimit types are refused.
 *
 * Generation writes fields in the order of the spec's Go bindings, so a
 * document parsed from `runc spec` is generated back byte for byte (pretty
 * output is tab-indented and ends with a newline, which runc's lacks).
 */
#ifndef OCISPEC_H
#define OCISPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCISPEC_VERSION "1.3.0"

/* GNU C predefines `linux` as 1 (gnu11 and friends); the model has fields
 * named after the spec's "linux" objects, so the old macro has to go. Test
 * for Linux with __linux__. */
#undef linux

typedef struct {
    char **keys;
    char **values;
    size_t len;
} ocispec_string_map;

/* ---------- shared pieces ---------- */

typedef struct {
    uint32_t container_id;
    uint32_t host_id;
    uint32_t size;
} ocispec_id_mapping;

/* ---------- process ---------- */

typedef struct {
    uint64_t height;
    uint64_t width;
} ocispec_console_size;

typedef struct {
    uint32_t uid;
    uint32_t gid;
    bool has_umask;
    uint32_t umask;
    uint32_t *additional_gids;
    size_t additional_gids_len;
    char *username; /* windows only; kept for round trip */
} ocispec_user;

typedef struct {
    char **bounding;
    size_t bounding_len;
    char **effective;
    size_t effective_len;
    char **inheritable;
    size_t inheritable_len;
    char **permitted;
    size_t permitted_len;
    char **ambient;
    size_t ambient_len;
} ocispec_capabilities;

typedef struct {
    char *type; /* "RLIMIT_NOFILE", ... */
    uint64_t hard;
    uint64_t soft;
} ocispec_rlimit;

typedef struct {
    char *policy; /* SCHED_OTHER, SCHED_FIFO, ... (required when present) */
    bool has_nice;
    int32_t nice;
    bool has_priority;
    int32_t priority;
    char **flags;
    size_t flags_len;
    bool has_runtime;
    uint64_t runtime;
    bool has_deadline;
    uint64_t deadline;
    bool has_period;
    uint64_t period;
} ocispec_scheduler;

typedef struct {
    char *class; /* IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE */
    int64_t priority;
} ocispec_io_priority;

typedef struct {
    char *initial;
    char *final;
} ocispec_exec_cpu_affinity;

typedef struct {
    bool has_terminal;
    bool terminal;
    ocispec_console_size *console_size;
    ocispec_user user; /* required by the spec; zero when absent */
    bool has_user;
    char **args;
    size_t args_len;
    char *command_line; /* windows only */
    char **env;
    size_t env_len;
    char *cwd;
    ocispec_capabilities *capabilities;
    ocispec_rlimit *rlimits;
    size_t rlimits_len;
    bool has_no_new_privileges;
    bool no_new_privileges;
    char *apparmor_profile;
    bool has_oom_score_adj;
    int32_t oom_score_adj;
    char *selinux_label;
    ocispec_scheduler *scheduler;
    ocispec_io_priority *io_priority;
    ocispec_exec_cpu_affinity *exec_cpu_affinity;
} ocispec_process;

/* ---------- root, mounts, hooks ---------- */

typedef struct {
    char *path;
    bool has_readonly;
    bool readonly;
} ocispec_root;

typedef struct {
    char *destination;
    char *source;
    char *type;
    char **options;
    size_t options_len;
    ocispec_id_mapping *uid_mappings;
    size_t uid_mappings_len;
    ocispec_id_mapping *gid_mappings;
    size_t gid_mappings_len;
} ocispec_mount;

typedef struct {
    char *path;
    char **args;
    size_t args_len;
    char **env;
    size_t env_len;
    bool has_timeout;
    int64_t timeout; /* seconds; the spec requires > 0 */
} ocispec_hook;

typedef struct {
    ocispec_hook *prestart;
    size_t prestart_len;
    ocispec_hook *create_runtime;
    size_t create_runtime_len;
    ocispec_hook *create_container;
    size_t create_container_len;
    ocispec_hook *start_container;
    size_t start_container_len;
    ocispec_hook *poststart;
    size_t poststart_len;
    ocispec_hook *poststop;
    size_t poststop_len;
} ocispec_hooks;

/* ---------- linux ---------- */

typedef struct {
    char *type; /* pid network mount ipc uts user cgroup time */
    char *path;
} ocispec_namespace;

typedef struct {
    char *clock; /* "monotonic", "boottime": the map key */
    int64_t secs;
    uint32_t nanosecs;
    bool has_secs;
    bool has_nanosecs;
} ocispec_time_offset;

typedef struct {
    char *type; /* c b u p */
    char *path;
    int64_t major; /* required unless type is "p" */
    int64_t minor;
    bool has_file_mode;
    uint32_t file_mode;
    bool has_uid;
    uint32_t uid;
    bool has_gid;
    uint32_t gid;
    bool has_major; /* added: absent is allowed for type "p" */
    bool has_minor;
} ocispec_device;

typedef struct {
    bool allow;
    char *type; /* a c b; NULL = all */
    bool has_major;
    int64_t major;
    bool has_minor;
    int64_t minor;
    char *access; /* rwm */
} ocispec_device_cgroup;

typedef struct {
    bool has_limit;
    int64_t limit;
    bool has_reservation;
    int64_t reservation;
    bool has_swap;
    int64_t swap;
    bool has_kernel;
    int64_t kernel;
    bool has_kernel_tcp;
    int64_t kernel_tcp;
    bool has_swappiness;
    uint64_t swappiness;
    bool has_disable_oom_killer;
    bool disable_oom_killer;
    bool has_use_hierarchy;
    bool use_hierarchy;
    bool has_check_before_update;
    bool check_before_update;
} ocispec_memory;

typedef struct {
    bool has_shares;
    uint64_t shares;
    bool has_quota;
    int64_t quota;
    bool has_burst;
    uint64_t burst;
    bool has_period;
    uint64_t period;
    bool has_realtime_runtime;
    int64_t realtime_runtime;
    bool has_realtime_period;
    uint64_t realtime_period;
    char *cpus;
    char *mems;
    bool has_idle;
    int64_t idle;
} ocispec_cpu;

typedef struct {
    bool has_limit;
    int64_t limit;
} ocispec_pids;

typedef struct {
    int64_t major;
    int64_t minor;
    bool has_weight;
    uint16_t weight;
    bool has_leaf_weight;
    uint16_t leaf_weight;
} ocispec_weight_device;

typedef struct {
    int64_t major;
    int64_t minor;
    uint64_t rate;
} ocispec_throttle_device;

typedef struct {
    bool has_weight;
    uint16_t weight;
    bool has_leaf_weight;
    uint16_t leaf_weight;
    ocispec_weight_device *weight_device;
    size_t weight_device_len;
    ocispec_throttle_device *throttle_read_bps_device;
    size_t throttle_read_bps_device_len;
    ocispec_throttle_device *throttle_write_bps_device;
    size_t throttle_write_bps_device_len;
    ocispec_throttle_device *throttle_read_iops_device;
    size_t throttle_read_iops_device_len;
    ocispec_throttle_device *throttle_write_iops_device;
    size_t throttle_write_iops_device_len;
} ocispec_block_io;

typedef struct {
    char *page_size; /* "2MB", "1GB" */
    uint64_t limit;
} ocispec_hugepage_limit;

typedef struct {
    char *name;
    uint32_t priority;
} ocispec_interface_priority;

typedef struct {
    bool has_class_id;
    uint32_t class_id;
    ocispec_interface_priority *priorities;
    size_t priorities_len;
} ocispec_network;

typedef struct {
    char *device; /* map key */
    bool has_hca_handles;
    uint32_t hca_handles;
    bool has_hca_objects;
    uint32_t hca_objects;
} ocispec_rdma;

typedef struct {
    ocispec_device_cgroup *devices;
    size_t devices_len;
    ocispec_memory *memory;
    ocispec_cpu *cpu;
    ocispec_pids *pids;
    ocispec_block_io *block_io;
    ocispec_hugepage_limit *hugepage_limits;
    size_t hugepage_limits_len;
    ocispec_network *network;
    ocispec_rdma *rdma; /* the "rdma" object, one entry per key */
    size_t rdma_len;
    bool has_rdma;
    ocispec_string_map *unified;
} ocispec_resources;

typedef struct {
    char *clos_id;
    char *l3_cache_schema;
    char *mem_bw_schema;
    char **schemata;
    size_t schemata_len;
    bool has_enable_monitoring;
    bool enable_monitoring;
} ocispec_intel_rdt;

typedef struct {
    uint32_t index;
    uint64_t value;
    bool has_value_two;
    uint64_t value_two;
    char *op; /* SCMP_CMP_NE, ... */
} ocispec_seccomp_arg;

typedef struct {
    char **names;
    size_t names_len;
    char *action;
    bool has_errno_ret;
    uint32_t errno_ret;
    ocispec_seccomp_arg *args;
    size_t args_len;
} ocispec_seccomp_syscall;

typedef struct {
    char *default_action;
    bool has_default_errno_ret;
    uint32_t default_errno_ret;
    char **architectures;
    size_t architectures_len;
    char **flags;
    size_t flags_len;
    char *listener_path;
    char *listener_metadata;
    ocispec_seccomp_syscall *syscalls;
    size_t syscalls_len;
} ocispec_seccomp;

typedef struct {
    char *domain; /* LINUX, LINUX32 */
    char **flags;
    size_t flags_len;
} ocispec_personality;

typedef struct {
    char *mode; /* MPOL_DEFAULT, MPOL_BIND, ... */
    char *nodes;
    char **flags;
    size_t flags_len;
} ocispec_memory_policy;

typedef struct {
    char *host_name; /* map key: the interface name on the host */
    char *name;      /* name inside the container; NULL = same */
} ocispec_net_device;

typedef struct {
    ocispec_namespace *namespaces;
    size_t namespaces_len;
    ocispec_id_mapping *uid_mappings;
    size_t uid_mappings_len;
    ocispec_id_mapping *gid_mappings;
    size_t gid_mappings_len;
    ocispec_time_offset *time_offsets; /* the "timeOffsets" object, one entry per key */
    size_t time_offsets_len;
    bool has_time_offsets;
    ocispec_device *devices;
    size_t devices_len;
    char *cgroups_path;
    ocispec_resources *resources;
    ocispec_intel_rdt *intel_rdt;
    ocispec_string_map *sysctl;
    ocispec_seccomp *seccomp;
    char *rootfs_propagation;
    char **masked_paths;
    size_t masked_paths_len;
    char **readonly_paths;
    size_t readonly_paths_len;
    char *mount_label;
    ocispec_personality *personality;
    ocispec_memory_policy *memory_policy;
    ocispec_net_device *net_devices; /* the "netDevices" object, one entry per key */
    size_t net_devices_len;
    bool has_net_devices;
} ocispec_linux;

typedef struct {
    char *oci_version;
    ocispec_process *process;
    ocispec_root *root;
    char *hostname;
    char *domainname;
    ocispec_mount *mounts;
    size_t mounts_len;
    ocispec_hooks *hooks;
    ocispec_string_map *annotations;
    ocispec_linux *linux;
} ocispec_config;

/* ---------- state ---------- */

typedef struct {
    char *oci_version;
    char *id;
    char *status; /* creating created running stopped (paused: husk extension, as runc) */
    bool has_pid;
    int pid;
    char *bundle;
    ocispec_string_map *annotations;
} ocispec_state;

/* ---------- features ---------- */

typedef struct {
    bool has_v1, v1;
    bool has_v2, v2;
    bool has_systemd, systemd;
    bool has_systemd_user, systemd_user;
    bool has_rdma, rdma;
} ocispec_features_cgroup;

typedef struct {
    bool has_enabled, enabled;
    char **actions;
    size_t actions_len;
    char **operators;
    size_t operators_len;
    char **archs;
    size_t archs_len;
    char **known_flags;
    size_t known_flags_len;
    char **supported_flags;
    size_t supported_flags_len;
} ocispec_features_seccomp;

typedef struct {
    char **namespaces;
    size_t namespaces_len;
    char **capabilities;
    size_t capabilities_len;
    ocispec_features_cgroup *cgroup;
    ocispec_features_seccomp *seccomp;
    bool has_apparmor_enabled, apparmor_enabled;   /* "apparmor": {"enabled": ...} */
    bool has_selinux_enabled, selinux_enabled;     /* "selinux": {"enabled": ...} */
    bool has_intel_rdt_enabled, intel_rdt_enabled; /* "intelRdt": {"enabled": ...} */
    bool has_intel_rdt_schemata, intel_rdt_schemata; /* "intelRdt": {"schemata": ...} */
    bool has_idmap_enabled, idmap_enabled;         /* "mountExtensions": {"idmap": {"enabled": ...}} */
    bool has_net_devices_enabled, net_devices_enabled; /* "netDevices": {"enabled": ...} */
    char **memory_policy_modes;                    /* "memoryPolicy": {"modes": [...], "flags": [...]} */
    size_t memory_policy_modes_len;
    char **memory_policy_flags;
    size_t memory_policy_flags_len;
} ocispec_features_linux;

typedef struct {
    char *oci_version_min;
    char *oci_version_max;
    char **hooks;
    size_t hooks_len;
    char **mount_options;
    size_t mount_options_len;
    ocispec_features_linux *linux;
    ocispec_string_map *annotations;
    char **potentially_unsafe_config_annotations;
    size_t potentially_unsafe_config_annotations_len;
} ocispec_features;

/* ---------- API ----------
 * parse: returns NULL and sets *err (malloc'd, caller frees) on failure.
 * generate: returns a malloc'd NUL-terminated JSON text, NULL + *err on failure.
 * free: accepts NULL. equal: deep comparison, order-sensitive for arrays/maps. */

ocispec_config *ocispec_config_parse_data(const char *json, size_t len, char **err);
ocispec_config *ocispec_config_parse_file(const char *path, char **err);
char *ocispec_config_generate(const ocispec_config *config, bool pretty, char **err);
void ocispec_config_free(ocispec_config *config);
bool ocispec_config_equal(const ocispec_config *a, const ocispec_config *b);

/* added: a process object as its own document, as `exec --process` reads
 * it; same rules and messages as the "process" member of a config. */
ocispec_process *ocispec_process_parse_data(const char *json, size_t len, char **err);
ocispec_process *ocispec_process_parse_file(const char *path, char **err);
char *ocispec_process_generate(const ocispec_process *process, bool pretty, char **err);
void ocispec_process_free(ocispec_process *process);
bool ocispec_process_equal(const ocispec_process *a, const ocispec_process *b);

/* added: a linux.resources object as its own document, as `update
 * --resources` reads it; messages name "linux.resources.<field>". */
ocispec_resources *ocispec_resources_parse_data(const char *json, size_t len, char **err);
void ocispec_resources_free(ocispec_resources *res);

ocispec_state *ocispec_state_parse_data(const char *json, size_t len, char **err);
ocispec_state *ocispec_state_parse_file(const char *path, char **err);
char *ocispec_state_generate(const ocispec_state *state, bool pretty, char **err);
void ocispec_state_free(ocispec_state *state);
bool ocispec_state_equal(const ocispec_state *a, const ocispec_state *b);

ocispec_features *ocispec_features_parse_data(const char *json, size_t len, char **err);
char *ocispec_features_generate(const ocispec_features *features, bool pretty, char **err);
void ocispec_features_free(ocispec_features *features);
bool ocispec_features_equal(const ocispec_features *a, const ocispec_features *b);

/* Looks a key up in a string map; NULL when absent or map is NULL. */
const char *ocispec_string_map_get(const ocispec_string_map *map, const char *key);

#endif
