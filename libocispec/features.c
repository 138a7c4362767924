/* The features document (features.md, features-linux.md): its field tables
 * and API. The Linux part nests one-field objects ("apparmor": {"enabled"})
 * that the model keeps flat, hence the groups. */
#include "schema.h"

static const ocs_field cgroup_fields[] = {
    F_BOOL("v1", ocispec_features_cgroup, v1),
    F_BOOL("v2", ocispec_features_cgroup, v2),
    F_BOOL("systemd", ocispec_features_cgroup, systemd),
    F_BOOL("systemdUser", ocispec_features_cgroup, systemd_user),
    F_BOOL("rdma", ocispec_features_cgroup, rdma),
};
static OCS_TYPE(cgroup_type, ocispec_features_cgroup, cgroup_fields, NULL);

static const ocs_field seccomp_fields[] = {
    F_BOOL("enabled", ocispec_features_seccomp, enabled),
    F_STRS("actions", ocispec_features_seccomp, actions),
    F_STRS("operators", ocispec_features_seccomp, operators),
    F_STRS("archs", ocispec_features_seccomp, archs),
    F_STRS("knownFlags", ocispec_features_seccomp, known_flags),
    F_STRS("supportedFlags", ocispec_features_seccomp, supported_flags),
};
static OCS_TYPE(seccomp_type, ocispec_features_seccomp, seccomp_fields, NULL);

typedef ocispec_features_linux flin;

static const ocs_field apparmor_fields[] = { F_BOOL("enabled", flin, apparmor_enabled) };
static OCS_TYPE(apparmor_group, flin, apparmor_fields, NULL);

static const ocs_field selinux_fields[] = { F_BOOL("enabled", flin, selinux_enabled) };
static OCS_TYPE(selinux_group, flin, selinux_fields, NULL);

static const ocs_field intel_rdt_fields[] = {
    F_BOOL("enabled", flin, intel_rdt_enabled),
    F_BOOL("schemata", flin, intel_rdt_schemata),
};
static OCS_TYPE(intel_rdt_group, flin, intel_rdt_fields, NULL);

static const ocs_field idmap_fields[] = { F_BOOL("enabled", flin, idmap_enabled) };
static OCS_TYPE(idmap_group, flin, idmap_fields, NULL);

static const ocs_field mount_extensions_fields[] = { F_GROUP("idmap", idmap_group) };
static OCS_TYPE(mount_extensions_group, flin, mount_extensions_fields, NULL);

static const ocs_field net_devices_fields[] = { F_BOOL("enabled", flin, net_devices_enabled) };
static OCS_TYPE(net_devices_group, flin, net_devices_fields, NULL);

static const ocs_field memory_policy_fields[] = {
    F_STRS("modes", flin, memory_policy_modes),
    F_STRS("flags", flin, memory_policy_flags),
};
static OCS_TYPE(memory_policy_group, flin, memory_policy_fields, NULL);

static const ocs_field linux_fields[] = {
    F_STRS("namespaces", flin, namespaces),
    F_STRS("capabilities", flin, capabilities),
    F_OBJ("cgroup", flin, cgroup, cgroup_type),
    F_OBJ("seccomp", flin, seccomp, seccomp_type),
    F_GROUP("apparmor", apparmor_group),
    F_GROUP("selinux", selinux_group),
    F_GROUP("intelRdt", intel_rdt_group),
    F_GROUP("mountExtensions", mount_extensions_group),
    F_GROUP("netDevices", net_devices_group),
    F_GROUP("memoryPolicy", memory_policy_group),
};
static OCS_TYPE(linux_type, flin, linux_fields, NULL);

static const ocs_field features_fields[] = {
    F_STR_REQ("ociVersionMin", ocispec_features, oci_version_min),
    F_STR_REQ("ociVersionMax", ocispec_features, oci_version_max),
    F_STRS("hooks", ocispec_features, hooks),
    F_STRS("mountOptions", ocispec_features, mount_options),
    F_OBJ("linux", ocispec_features, linux, linux_type),
    F_MAP("annotations", ocispec_features, annotations),
    F_STRS("potentiallyUnsafeConfigAnnotations", ocispec_features, potentially_unsafe_config_annotations),
};
OCS_TYPE(ocs_features_type, ocispec_features, features_fields, NULL);

ocispec_features *ocispec_features_parse_data(const char *json, size_t len, char **err)
{
    return ocs_parse_document(&ocs_features_type, json, len, err);
}

char *ocispec_features_generate(const ocispec_features *features, bool pretty, char **err)
{
    return ocs_generate_document(&ocs_features_type, features, pretty, err);
}

void ocispec_features_free(ocispec_features *features)
{
    ocs_free_document(&ocs_features_type, features);
}

bool ocispec_features_equal(const ocispec_features *a, const ocispec_features *b)
{
    return ocs_equal_document(&ocs_features_type, a, b);
}
