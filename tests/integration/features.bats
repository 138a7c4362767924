#!/usr/bin/env bats
# husk features: the runtime-spec 1.3.0 features document, valid JSON that
# jq reads, true to this build (libcap's capabilities, libseccomp's
# architectures, the optional libraries configure compiled in).

load helpers

setup() {
    load_libs
    bats_require_minimum_version 1.5.0
    FEATURES=$BATS_TEST_TMPDIR/features.json
    "$HUSK" features > "$FEATURES"
}

teardown() {
    teardown_bundle
}

# jqf FILTER: runs FILTER on the document, raw output.
jqf() {
    jq -r "$1" "$FEATURES"
}

@test "features prints one valid JSON document, exit 0, nothing on stderr" {
    run --separate-stderr "$HUSK" features
    assert_success
    [ -z "$stderr" ]
    jq -e 'type == "object"' <<<"$output"
    # exactly one document
    [ "$(jq -s length <<<"$output")" = 1 ]
}

@test "spec versions: 1.0.0 to the version --version names" {
    [ "$(jqf .ociVersionMin)" = 1.0.0 ]
    local spec
    spec=$("$HUSK" --version | sed -n 's/^spec: //p')
    [ "$spec" = 1.3.0 ]
    [ "$(jqf .ociVersionMax)" = "$spec" ]
}

@test "only keys that runtime-spec 1.3.0 defines" {
    run jqf '[keys[] | select(IN("ociVersionMin", "ociVersionMax", "hooks", "mountOptions",
        "linux", "annotations", "potentiallyUnsafeConfigAnnotations") | not)] | join(",")'
    assert_output ''
    run jqf '[.linux | keys[] | select(IN("namespaces", "capabilities", "cgroup", "seccomp",
        "apparmor", "selinux", "intelRdt", "mountExtensions", "netDevices", "memoryPolicy") | not)]
        | join(",")'
    assert_output ''
    run jqf '[.linux.cgroup | keys[] | select(IN("v1", "v2", "systemd", "systemdUser", "rdma") | not)]
        | join(",")'
    assert_output ''
}

@test "hooks: the six hooks of the spec" {
    run jqf '.hooks | join(" ")'
    assert_output 'prestart createRuntime createContainer startContainer poststart poststop'
}

@test "namespaces: all eight" {
    run jqf '.linux.namespaces | sort | join(" ")'
    assert_output 'cgroup ipc mount network pid time user uts'
}

@test "capabilities: every capability of this kernel, by its CAP_ name" {
    run jqf '.linux.capabilities[] | select(test("^CAP_[A-Z_]+$") | not)'
    assert_output ''
    # no duplicates
    [ "$(jqf '.linux.capabilities | length')" = "$(jqf '.linux.capabilities | unique | length')" ]
    local cap
    for cap in CAP_CHOWN CAP_SYS_ADMIN CAP_NET_ADMIN CAP_SYS_PTRACE CAP_AUDIT_WRITE; do
        jq -e --arg c "$cap" '.linux.capabilities | index($c)' "$FEATURES" >/dev/null ||
            fail "$cap missing"
    done
    # libcap names at least every capability the running kernel has
    local last
    last=$(cat /proc/sys/kernel/cap_last_cap)
    [ "$(jqf '.linux.capabilities | length')" -ge $((last + 1)) ]
    # and in kernel order: CAP_CHOWN is 0, CAP_SYS_ADMIN is 21
    [ "$(jqf '.linux.capabilities[0]')" = CAP_CHOWN ]
    [ "$(jqf '.linux.capabilities[21]')" = CAP_SYS_ADMIN ]
}

@test "cgroup: the drivers husk has" {
    run jqf '.linux.cgroup | [.v1, .v2, .systemd, .systemdUser, .rdma] | map(type) | unique | join(",")'
    assert_output 'boolean'
    # both cgroupfs layouts are implemented (src/lib/cgroup*.c)
    [ "$(jqf .linux.cgroup.v1)" = true ]
    [ "$(jqf .linux.cgroup.v2)" = true ]
    # the systemd driver (src/lib/cgroup_systemd.c) needs libsystemd
    # compiled in; scopes on a user's own systemd are not done
    if "$HUSK" --version | grep -q -- '-SYSTEMD'; then
        [ "$(jqf .linux.cgroup.systemd)" = false ]
    else
        [ "$(jqf .linux.cgroup.systemd)" = true ]
    fi
    [ "$(jqf .linux.cgroup.systemdUser)" = false ]
}

@test "seccomp: actions, operators, flags as the spec names them" {
    [ "$(jqf '.linux.seccomp.enabled | type')" = boolean ]
    local a
    for a in SCMP_ACT_KILL SCMP_ACT_KILL_PROCESS SCMP_ACT_KILL_THREAD SCMP_ACT_TRAP SCMP_ACT_ERRNO \
        SCMP_ACT_TRACE SCMP_ACT_ALLOW SCMP_ACT_LOG SCMP_ACT_NOTIFY; do
        jq -e --arg a "$a" '.linux.seccomp.actions | index($a)' "$FEATURES" >/dev/null ||
            fail "action $a missing"
    done
    run jqf '.linux.seccomp.operators | sort | join(" ")'
    assert_output 'SCMP_CMP_EQ SCMP_CMP_GE SCMP_CMP_GT SCMP_CMP_LE SCMP_CMP_LT SCMP_CMP_MASKED_EQ SCMP_CMP_NE'
    run jqf '.linux.seccomp.knownFlags[] | select(startswith("SECCOMP_FILTER_FLAG_") | not)'
    assert_output ''
    # what the kernel supports is a subset of what husk knows
    run jqf '.linux.seccomp as $s | $s.supportedFlags - $s.knownFlags | length'
    assert_output 0
    # every kernel since 3.17 has TSYNC
    jq -e '.linux.seccomp.supportedFlags | index("SECCOMP_FILTER_FLAG_TSYNC")' "$FEATURES" >/dev/null
}

@test "seccomp: architectures are those libseccomp resolves, this machine's included" {
    run jqf '.linux.seccomp.archs[] | select(startswith("SCMP_ARCH_") | not)'
    assert_output ''
    case "$(uname -m)" in
    x86_64) jq -e '.linux.seccomp.archs | index("SCMP_ARCH_X86_64") and index("SCMP_ARCH_X86") and index("SCMP_ARCH_X32")' "$FEATURES" ;;
    aarch64) jq -e '.linux.seccomp.archs | index("SCMP_ARCH_AARCH64")' "$FEATURES" ;;
    esac
    if command -v scmp_sys_resolver >/dev/null; then
        local arch
        for arch in $(jqf '.linux.seccomp.archs[]'); do
            arch=${arch#SCMP_ARCH_}
            scmp_sys_resolver -a "${arch,,}" read >/dev/null || fail "libseccomp cannot resolve $arch"
        done
    fi
}

@test "apparmor and selinux: enabled in every build (the kernel's attr interface), as --version says" {
    local lsm
    for lsm in apparmor selinux; do
        [ "$(jqf ".linux.$lsm.enabled")" = true ] || fail "$lsm not enabled"
        "$HUSK" --version | grep -q -- "+${lsm^^}" || fail "--version does not say +${lsm^^}"
    done
}

@test "mountOptions: the generic options, propagation and recursive attributes" {
    local o
    for o in ro rw nosuid nodev noexec relatime strictatime bind rbind private rprivate shared \
        rshared slave rslave unbindable runbindable rro rnosuid nosymfollow; do
        jq -e --arg o "$o" '.mountOptions | index($o)' "$FEATURES" >/dev/null || fail "$o missing"
    done
    # filesystem-specific options (size=, mode=) are not the runtime's to list
    run jqf '.mountOptions[] | select(contains("="))'
    assert_output ''
    [ "$(jqf '.mountOptions | length')" = "$(jqf '.mountOptions | unique | length')" ]
}

@test "idmap: mountExtensions.idmap.enabled, and the idmap and ridmap mount options" {
    # idmapped bind mounts are implemented (idmap_mount.c, tests in idmap_mounts.bats)
    [ "$(jqf .linux.mountExtensions.idmap.enabled)" = true ]
    jq -e '.mountOptions | index("idmap") and index("ridmap")' "$FEATURES"
}

@test "annotations: husk's version, commit and libseccomp, as --version prints them" {
    local version commit libseccomp
    version=$("$HUSK" --version | sed -n 's/^husk version //p')
    commit=$("$HUSK" --version | sed -n 's/^commit: //p')
    libseccomp=$("$HUSK" --version | sed -n 's/^libseccomp: //p')
    [ "$(jqf '.annotations["io.github.husk.version"]')" = "$version" ]
    [ "$(jqf '.annotations["io.github.husk.commit"]')" = "$commit" ]
    [ "$(jqf '.annotations["io.github.husk.libseccomp.version"]')" = "$libseccomp" ]
    # only husk's own keys
    run jqf '.annotations | keys[] | select(startswith("io.github.husk.") | not)'
    assert_output ''
}

@test "global flags do not change the document" {
    run "$HUSK" --root "$BATS_TEST_TMPDIR/state" --log "$BATS_TEST_TMPDIR/l" --debug features
    assert_success
    diff <(jq -S . <<<"$output") <(jq -S . "$FEATURES")
}

@test "seccomp.enabled true: a container really runs under its profile" {
    [ "$(jqf .linux.seccomp.enabled)" = true ] || skip "this build does not apply seccomp"
    setup_bundle '["sh", "-c", "mkdir /tmp/x 2>/dev/null && echo made || echo refused"]'
    update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
    hrun run --bundle "$BUNDLE" c1
    assert_success
    assert_output refused
}
