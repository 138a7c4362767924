/* The config.json model of runtime-spec 1.3.0 (config.md, config-linux.md)
 * as field tables, plus the rules a table cannot say: duplicate namespace and
 * rlimit types, device numbers required by device type. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"

/* ---------- shared ---------- */

static const ocs_field id_mapping_fields[] = {
    F_NUM_REQ("containerID", ocispec_id_mapping, container_id, OCS_U32),
    F_NUM_REQ("hostID", ocispec_id_mapping, host_id, OCS_U32),
    F_NUM_REQ("size", ocispec_id_mapping, size, OCS_U32),
};
static OCS_TYPE(id_mapping_type, ocispec_id_mapping, id_mapping_fields, NULL);

/* ---------- process ---------- */

static const ocs_field console_size_fields[] = {
    F_NUM_REQ("height", ocispec_console_size, height, OCS_U64),
    F_NUM_REQ("width", ocispec_console_size, width, OCS_U64),
};
static OCS_TYPE(console_size_type, ocispec_console_size, console_size_fields, NULL);

static const ocs_field user_fields[] = {
    F_NUM_REQ("uid", ocispec_user, uid, OCS_U32),
    F_NUM_REQ("gid", ocispec_user, gid, OCS_U32),
    F_NUM("umask", ocispec_user, umask, OCS_U32),
    F_U32S("additionalGids", ocispec_user, additional_gids),
    F_STR("username", ocispec_user, username),
};
static OCS_TYPE(user_type, ocispec_user, user_fields, NULL);

static const ocs_field capabilities_fields[] = {
    F_STRS("bounding", ocispec_capabilities, bounding),
    F_STRS("effective", ocispec_capabilities, effective),
    F_STRS("inheritable", ocispec_capabilities, inheritable),
    F_STRS("permitted", ocispec_capabilities, permitted),
    F_STRS("ambient", ocispec_capabilities, ambient),
};
static OCS_TYPE(capabilities_type, ocispec_capabilities, capabilities_fields, NULL);

static const ocs_field rlimit_fields[] = {
    F_STR_REQ("type", ocispec_rlimit, type),
    F_NUM_REQ("hard", ocispec_rlimit, hard, OCS_U64),
    F_NUM_REQ("soft", ocispec_rlimit, soft, OCS_U64),
};
static OCS_TYPE(rlimit_type, ocispec_rlimit, rlimit_fields, NULL);

static const ocs_field scheduler_fields[] = {
    F_STR_REQ("policy", ocispec_scheduler, policy),
    F_NUM("nice", ocispec_scheduler, nice, OCS_I32),
    F_NUM("priority", ocispec_scheduler, priority, OCS_I32),
    F_STRS("flags", ocispec_scheduler, flags),
    F_NUM("runtime", ocispec_scheduler, runtime, OCS_U64),
    F_NUM("deadline", ocispec_scheduler, deadline, OCS_U64),
    F_NUM("period", ocispec_scheduler, period, OCS_U64),
};
static OCS_TYPE(scheduler_type, ocispec_scheduler, scheduler_fields, NULL);

static const ocs_field io_priority_fields[] = {
    F_STR_REQ("class", ocispec_io_priority, class),
    F_NUM_REQ("priority", ocispec_io_priority, priority, OCS_I64),
};
static OCS_TYPE(io_priority_type, ocispec_io_priority, io_priority_fields, NULL);

static const ocs_field exec_cpu_affinity_fields[] = {
    F_STR("initial", ocispec_exec_cpu_affinity, initial),
    F_STR("final", ocispec_exec_cpu_affinity, final),
};
static OCS_TYPE(exec_cpu_affinity_type, ocispec_exec_cpu_affinity, exec_cpu_affinity_fields, NULL);

/* setrlimit() takes one value per resource: a second entry would silently
 * override the first, so the spec forbids it. */
static int check_process(const void *obj, const jpath *p, char **err)
{
    const ocispec_process *proc = obj;
    for (size_t i = 1; i < proc->rlimits_len; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(proc->rlimits[i].type, proc->rlimits[j].type) != 0)
                continue;
            jpath lp = JPATH_KEY(p, "rlimits"), ip = JPATH_IDX(&lp, i), tp = JPATH_KEY(&ip, "type");
            return jr_fail(&tp, err, "duplicate rlimit type \"%s\"", proc->rlimits[i].type);
        }
    }
    return 0;
}

static const ocs_field process_fields[] = {
    F_BOOL("terminal", ocispec_process, terminal),
    F_OBJ("consoleSize", ocispec_process, console_size, console_size_type),
    F_INLINE("user", ocispec_process, user, user_type),
    F_STRS("args", ocispec_process, args),
    F_STR("commandLine", ocispec_process, command_line),
    F_STRS("env", ocispec_process, env),
    F_STR_REQ("cwd", ocispec_process, cwd),
    F_OBJ("capabilities", ocispec_process, capabilities, capabilities_type),
    F_OBJS("rlimits", ocispec_process, rlimits, rlimit_type),
    F_BOOL("noNewPrivileges", ocispec_process, no_new_privileges),
    F_STR("apparmorProfile", ocispec_process, apparmor_profile),
    F_NUM("oomScoreAdj", ocispec_process, oom_score_adj, OCS_I32),
    F_OBJ("scheduler", ocispec_process, scheduler, scheduler_type),
    F_STR("selinuxLabel", ocispec_process, selinux_label),
    F_OBJ("ioPriority", ocispec_process, io_priority, io_priority_type),
    F_OBJ("execCPUAffinity", ocispec_process, exec_cpu_affinity, exec_cpu_affinity_type),
};
OCS_TYPE(ocs_process_type, ocispec_process, process_fields, check_process);

/* ---------- root, mounts, hooks ---------- */

static const ocs_field root_fields[] = {
    F_STR_REQ("path", ocispec_root, path),
    F_BOOL("readonly", ocispec_root, readonly),
};
static OCS_TYPE(root_type, ocispec_root, root_fields, NULL);

static const ocs_field mount_fields[] = {
    F_STR_REQ("destination", ocispec_mount, destination),
    F_STR("type", ocispec_mount, type),
    F_STR("source", ocispec_mount, source),
    F_STRS("options", ocispec_mount, options),
    F_OBJS("uidMappings", ocispec_mount, uid_mappings, id_mapping_type),
    F_OBJS("gidMappings", ocispec_mount, gid_mappings, id_mapping_type),
};
static OCS_TYPE(mount_type, ocispec_mount, mount_fields, NULL);

static const ocs_field hook_fields[] = {
    F_STR_REQ("path", ocispec_hook, path),
    F_STRS("args", ocispec_hook, args),
    F_STRS("env", ocispec_hook, env),
    F_NUM("timeout", ocispec_hook, timeout, OCS_I64),
};
static OCS_TYPE(hook_type, ocispec_hook, hook_fields, NULL);

static const ocs_field hooks_fields[] = {
    F_OBJS("prestart", ocispec_hooks, prestart, hook_type),
    F_OBJS("createRuntime", ocispec_hooks, create_runtime, hook_type),
    F_OBJS("createContainer", ocispec_hooks, create_container, hook_type),
    F_OBJS("startContainer", ocispec_hooks, start_container, hook_type),
    F_OBJS("poststart", ocispec_hooks, poststart, hook_type),
    F_OBJS("poststop", ocispec_hooks, poststop, hook_type),
};
static OCS_TYPE(hooks_type, ocispec_hooks, hooks_fields, NULL);

/* ---------- linux: namespaces, devices, time ---------- */

static const ocs_field namespace_fields[] = {
    F_STR_REQ("type", ocispec_namespace, type),
    F_STR("path", ocispec_namespace, path),
};
static OCS_TYPE(namespace_type, ocispec_namespace, namespace_fields, NULL);

static const ocs_field time_offset_fields[] = {
    F_NUM("secs", ocispec_time_offset, secs, OCS_I64),
    F_NUM("nanosecs", ocispec_time_offset, nanosecs, OCS_U32),
};
static OCS_KEYED_TYPE(time_offset_type, ocispec_time_offset, clock, time_offset_fields);

/* A FIFO has no device numbers; every other device type needs both. */
static int check_device(const void *obj, const jpath *p, char **err)
{
    const ocispec_device *d = obj;
    if (strcmp(d->type, "p") == 0)
        return 0;
    const char *missing = !d->has_major ? "major" : !d->has_minor ? "minor" : NULL;
    if (missing == NULL)
        return 0;
    jpath mp = JPATH_KEY(p, missing);
    return jr_fail(&mp, err, "required field missing for device type \"%s\"", d->type);
}

static const ocs_field device_fields[] = {
    F_STR_REQ("path", ocispec_device, path),
    F_STR_REQ("type", ocispec_device, type),
    F_NUM("major", ocispec_device, major, OCS_I64),
    F_NUM("minor", ocispec_device, minor, OCS_I64),
    F_NUM("fileMode", ocispec_device, file_mode, OCS_U32),
    F_NUM("uid", ocispec_device, uid, OCS_U32),
    F_NUM("gid", ocispec_device, gid, OCS_U32),
};
static OCS_TYPE(device_type, ocispec_device, device_fields, check_device);

/* ---------- linux.resources ---------- */

static const ocs_field device_cgroup_fields[] = {
    F_BOOL_REQ("allow", ocispec_device_cgroup, allow),
    F_STR("type", ocispec_device_cgroup, type),
    F_NUM("major", ocispec_device_cgroup, major, OCS_I64),
    F_NUM("minor", ocispec_device_cgroup, minor, OCS_I64),
    F_STR("access", ocispec_device_cgroup, access),
};
static OCS_TYPE(device_cgroup_type, ocispec_device_cgroup, device_cgroup_fields, NULL);

static const ocs_field memory_fields[] = {
    F_NUM("limit", ocispec_memory, limit, OCS_I64),
    F_NUM("reservation", ocispec_memory, reservation, OCS_I64),
    F_NUM("swap", ocispec_memory, swap, OCS_I64),
    F_NUM("kernel", ocispec_memory, kernel, OCS_I64),
    F_NUM("kernelTCP", ocispec_memory, kernel_tcp, OCS_I64),
    F_NUM("swappiness", ocispec_memory, swappiness, OCS_U64),
    F_BOOL("disableOOMKiller", ocispec_memory, disable_oom_killer),
    F_BOOL("useHierarchy", ocispec_memory, use_hierarchy),
    F_BOOL("checkBeforeUpdate", ocispec_memory, check_before_update),
};
static OCS_TYPE(memory_type, ocispec_memory, memory_fields, NULL);

static const ocs_field cpu_fields[] = {
    F_NUM("shares", ocispec_cpu, shares, OCS_U64),
    F_NUM("quota", ocispec_cpu, quota, OCS_I64),
    F_NUM("burst", ocispec_cpu, burst, OCS_U64),
    F_NUM("period", ocispec_cpu, period, OCS_U64),
    F_NUM("realtimeRuntime", ocispec_cpu, realtime_runtime, OCS_I64),
    F_NUM("realtimePeriod", ocispec_cpu, realtime_period, OCS_U64),
    F_STR("cpus", ocispec_cpu, cpus),
    F_STR("mems", ocispec_cpu, mems),
    F_NUM("idle", ocispec_cpu, idle, OCS_I64),
};
static OCS_TYPE(cpu_type, ocispec_cpu, cpu_fields, NULL);

static const ocs_field pids_fields[] = {
    F_NUM("limit", ocispec_pids, limit, OCS_I64),
};
static OCS_TYPE(pids_type, ocispec_pids, pids_fields, NULL);

static const ocs_field weight_device_fields[] = {
    F_NUM_REQ("major", ocispec_weight_device, major, OCS_I64),
    F_NUM_REQ("minor", ocispec_weight_device, minor, OCS_I64),
    F_NUM("weight", ocispec_weight_device, weight, OCS_U16),
    F_NUM("leafWeight", ocispec_weight_device, leaf_weight, OCS_U16),
};
static OCS_TYPE(weight_device_type, ocispec_weight_device, weight_device_fields, NULL);

static const ocs_field throttle_device_fields[] = {
    F_NUM_REQ("major", ocispec_throttle_device, major, OCS_I64),
    F_NUM_REQ("minor", ocispec_throttle_device, minor, OCS_I64),
    F_NUM_REQ("rate", ocispec_throttle_device, rate, OCS_U64),
};
static OCS_TYPE(throttle_device_type, ocispec_throttle_device, throttle_device_fields, NULL);

static const ocs_field block_io_fields[] = {
    F_NUM("weight", ocispec_block_io, weight, OCS_U16),
    F_NUM("leafWeight", ocispec_block_io, leaf_weight, OCS_U16),
    F_OBJS("weightDevice", ocispec_block_io, weight_device, weight_device_type),
    F_OBJS("throttleReadBpsDevice", ocispec_block_io, throttle_read_bps_device, throttle_device_type),
    F_OBJS("throttleWriteBpsDevice", ocispec_block_io, throttle_write_bps_device, throttle_device_type),
    F_OBJS("throttleReadIOPSDevice", ocispec_block_io, throttle_read_iops_device, throttle_device_type),
    F_OBJS("throttleWriteIOPSDevice", ocispec_block_io, throttle_write_iops_device, throttle_device_type),
};
static OCS_TYPE(block_io_type, ocispec_block_io, block_io_fields, NULL);

static const ocs_field hugepage_limit_fields[] = {
    F_STR_REQ("pageSize", ocispec_hugepage_limit, page_size),
    F_NUM_REQ("limit", ocispec_hugepage_limit, limit, OCS_U64),
};
static OCS_TYPE(hugepage_limit_type, ocispec_hugepage_limit, hugepage_limit_fields, NULL);

static const ocs_field interface_priority_fields[] = {
    F_STR_REQ("name", ocispec_interface_priority, name),
    F_NUM_REQ("priority", ocispec_interface_priority, priority, OCS_U32),
};
static OCS_TYPE(interface_priority_type, ocispec_interface_priority, interface_priority_fields, NULL);

static const ocs_field network_fields[] = {
    F_NUM("classID", ocispec_network, class_id, OCS_U32),
    F_OBJS("priorities", ocispec_network, priorities, interface_priority_type),
};
static OCS_TYPE(network_type, ocispec_network, network_fields, NULL);

static const ocs_field rdma_fields[] = {
    F_NUM("hcaHandles", ocispec_rdma, hca_handles, OCS_U32),
    F_NUM("hcaObjects", ocispec_rdma, hca_objects, OCS_U32),
};
static OCS_KEYED_TYPE(rdma_type, ocispec_rdma, device, rdma_fields);

static const ocs_field resources_fields[] = {
    F_OBJS("devices", ocispec_resources, devices, device_cgroup_type),
    F_OBJ("memory", ocispec_resources, memory, memory_type),
    F_OBJ("cpu", ocispec_resources, cpu, cpu_type),
    F_OBJ("pids", ocispec_resources, pids, pids_type),
    F_OBJ("blockIO", ocispec_resources, block_io, block_io_type),
    F_OBJS("hugepageLimits", ocispec_resources, hugepage_limits, hugepage_limit_type),
    F_OBJ("network", ocispec_resources, network, network_type),
    F_KEYED("rdma", ocispec_resources, rdma, rdma_type),
    F_MAP("unified", ocispec_resources, unified),
};
static OCS_TYPE(resources_type, ocispec_resources, resources_fields, NULL);

/* A linux.resources object as its own document (`update --resources`).
 * Parsed under the path it has in a config, so messages name the field as
 * the spec does ("linux.resources.memory.limit: ..."). */
ocispec_resources *ocispec_resources_parse_data(const char *json, size_t len, char **err)
{
    if (err)
        *err = NULL;
    ocs_cleanup_tree yajl_val tree = jr_parse_tree(json, len, err);
    if (tree == NULL)
        return NULL;
    ocispec_resources *res = calloc(1, sizeof *res);
    if (res == NULL) {
        jr_oom(err);
        return NULL;
    }
    const jpath linux_path = JPATH_KEY(NULL, "linux");
    const jpath res_path = JPATH_KEY(&linux_path, "resources");
    if (ocs_parse_object(&resources_type, tree, &res_path, res, err) < 0) {
        int saved = errno;
        ocispec_resources_free(res);
        errno = saved;
        return NULL;
    }
    return res;
}

void ocispec_resources_free(ocispec_resources *res)
{
    ocs_free_document(&resources_type, res);
}

/* ---------- linux: intelRdt, seccomp, personality, memoryPolicy, netDevices ---------- */

static const ocs_field intel_rdt_fields[] = {
    F_STR("closID", ocispec_intel_rdt, clos_id),
    F_STR("l3CacheSchema", ocispec_intel_rdt, l3_cache_schema),
    F_STR("memBwSchema", ocispec_intel_rdt, mem_bw_schema),
    F_STRS("schemata", ocispec_intel_rdt, schemata),
    F_BOOL("enableMonitoring", ocispec_intel_rdt, enable_monitoring),
};
static OCS_TYPE(intel_rdt_type, ocispec_intel_rdt, intel_rdt_fields, NULL);

static const ocs_field seccomp_arg_fields[] = {
    F_NUM_REQ("index", ocispec_seccomp_arg, index, OCS_U32),
    F_NUM_REQ("value", ocispec_seccomp_arg, value, OCS_U64),
    F_NUM("valueTwo", ocispec_seccomp_arg, value_two, OCS_U64),
    F_STR_REQ("op", ocispec_seccomp_arg, op),
};
static OCS_TYPE(seccomp_arg_type, ocispec_seccomp_arg, seccomp_arg_fields, NULL);

static const ocs_field seccomp_syscall_fields[] = {
    F_STRS_REQ("names", ocispec_seccomp_syscall, names),
    F_STR_REQ("action", ocispec_seccomp_syscall, action),
    F_NUM("errnoRet", ocispec_seccomp_syscall, errno_ret, OCS_U32),
    F_OBJS("args", ocispec_seccomp_syscall, args, seccomp_arg_type),
};
static OCS_TYPE(seccomp_syscall_type, ocispec_seccomp_syscall, seccomp_syscall_fields, NULL);

static const ocs_field seccomp_fields[] = {
    F_STR_REQ("defaultAction", ocispec_seccomp, default_action),
    F_NUM("defaultErrnoRet", ocispec_seccomp, default_errno_ret, OCS_U32),
    F_STRS("architectures", ocispec_seccomp, architectures),
    F_STRS("flags", ocispec_seccomp, flags),
    F_STR("listenerPath", ocispec_seccomp, listener_path),
    F_STR("listenerMetadata", ocispec_seccomp, listener_metadata),
    F_OBJS("syscalls", ocispec_seccomp, syscalls, seccomp_syscall_type),
};
static OCS_TYPE(seccomp_type, ocispec_seccomp, seccomp_fields, NULL);

static const ocs_field personality_fields[] = {
    F_STR_REQ("domain", ocispec_personality, domain),
    F_STRS("flags", ocispec_personality, flags),
};
static OCS_TYPE(personality_type, ocispec_personality, personality_fields, NULL);

static const ocs_field memory_policy_fields[] = {
    F_STR_REQ("mode", ocispec_memory_policy, mode),
    F_STR("nodes", ocispec_memory_policy, nodes),
    F_STRS("flags", ocispec_memory_policy, flags),
};
static OCS_TYPE(memory_policy_type, ocispec_memory_policy, memory_policy_fields, NULL);

static const ocs_field net_device_fields[] = {
    F_STR("name", ocispec_net_device, name),
};
static OCS_KEYED_TYPE(net_device_type, ocispec_net_device, host_name, net_device_fields);

/* Two entries of one namespace type leave it unclear which one the
 * container joins, so the spec makes them an error. */
static int check_linux(const void *obj, const jpath *p, char **err)
{
    const ocispec_linux *lx = obj;
    for (size_t i = 1; i < lx->namespaces_len; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(lx->namespaces[i].type, lx->namespaces[j].type) != 0)
                continue;
            jpath np = JPATH_KEY(p, "namespaces"), ip = JPATH_IDX(&np, i), tp = JPATH_KEY(&ip, "type");
            return jr_fail(&tp, err, "duplicate namespace type \"%s\"", lx->namespaces[i].type);
        }
    }
    return 0;
}

/* The order of specs-go's Linux struct, so generated documents read like
 * the ones Go runtimes write. */
static const ocs_field linux_fields[] = {
    F_OBJS("uidMappings", ocispec_linux, uid_mappings, id_mapping_type),
    F_OBJS("gidMappings", ocispec_linux, gid_mappings, id_mapping_type),
    F_MAP("sysctl", ocispec_linux, sysctl),
    F_OBJ("resources", ocispec_linux, resources, resources_type),
    F_STR("cgroupsPath", ocispec_linux, cgroups_path),
    F_OBJS("namespaces", ocispec_linux, namespaces, namespace_type),
    F_OBJS("devices", ocispec_linux, devices, device_type),
    F_KEYED("netDevices", ocispec_linux, net_devices, net_device_type),
    F_OBJ("seccomp", ocispec_linux, seccomp, seccomp_type),
    F_STR("rootfsPropagation", ocispec_linux, rootfs_propagation),
    F_STRS("maskedPaths", ocispec_linux, masked_paths),
    F_STRS("readonlyPaths", ocispec_linux, readonly_paths),
    F_STR("mountLabel", ocispec_linux, mount_label),
    F_OBJ("intelRdt", ocispec_linux, intel_rdt, intel_rdt_type),
    F_OBJ("memoryPolicy", ocispec_linux, memory_policy, memory_policy_type),
    F_OBJ("personality", ocispec_linux, personality, personality_type),
    F_KEYED("timeOffsets", ocispec_linux, time_offsets, time_offset_type),
};
static OCS_TYPE(linux_type, ocispec_linux, linux_fields, check_linux);

/* ---------- the document ---------- */

static const ocs_field config_fields[] = {
    F_STR_REQ("ociVersion", ocispec_config, oci_version),
    F_OBJ("process", ocispec_config, process, ocs_process_type),
    F_OBJ("root", ocispec_config, root, root_type),
    F_STR("hostname", ocispec_config, hostname),
    F_STR("domainname", ocispec_config, domainname),
    F_OBJS("mounts", ocispec_config, mounts, mount_type),
    F_OBJ("hooks", ocispec_config, hooks, hooks_type),
    F_MAP("annotations", ocispec_config, annotations),
    F_OBJ("linux", ocispec_config, linux, linux_type),
};
OCS_TYPE(ocs_config_type, ocispec_config, config_fields, NULL);
