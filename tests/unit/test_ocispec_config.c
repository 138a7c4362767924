/* libocispec config.json: every field of a fixture that sets them all, the
 * parse -> generate -> parse round trip, absent versus zero, edge values. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ocispec.h"

#ifndef OCS_TEST_DATA
#error "OCS_TEST_DATA must name the tests/unit/data directory"
#endif

#define FULL OCS_TEST_DATA "/config-full.json"

static ocispec_config *parse_ok(const char *json)
{
    char *err = NULL;
    ocispec_config *c = ocispec_config_parse_data(json, strlen(json), &err);
    if (c == NULL)
        fail_msg("unexpected parse error: %s", err);
    assert_null(err);
    return c;
}

static ocispec_config *parse_full(void)
{
    char *err = NULL;
    ocispec_config *c = ocispec_config_parse_file(FULL, &err);
    if (c == NULL)
        fail_msg("parse %s: %s", FULL, err);
    return c;
}

static void assert_strv(char **v, size_t len, size_t want_len, ...)
{
    assert_non_null(v);
    assert_int_equal(len, want_len);
    va_list ap;
    va_start(ap, want_len);
    for (size_t i = 0; i < want_len; i++)
        assert_string_equal(v[i], va_arg(ap, const char *));
    va_end(ap);
    assert_null(v[len]); /* execve-ready */
}

static void test_full_process(void **state)
{
    (void)state;
    ocispec_config *c = parse_full();
    assert_string_equal(c->oci_version, "1.3.0");
    ocispec_process *p = c->process;
    assert_non_null(p);
    assert_true(p->has_terminal && p->terminal);
    assert_int_equal(p->console_size->height, 25);
    assert_int_equal(p->console_size->width, 80);
    assert_true(p->has_user);
    assert_int_equal(p->user.uid, 1000);
    assert_int_equal(p->user.gid, 1001);
    assert_true(p->user.has_umask);
    assert_int_equal(p->user.umask, 18);
    assert_int_equal(p->user.additional_gids_len, 2);
    assert_int_equal(p->user.additional_gids[0], 5);
    assert_int_equal(p->user.additional_gids[1], UINT32_MAX);
    assert_string_equal(p->user.username, "alice");
    assert_strv(p->args, p->args_len, 3, "sh", "-c", "echo hi");
    assert_string_equal(p->command_line, "sh -c 'echo hi'");
    assert_strv(p->env, p->env_len, 2, "PATH=/usr/bin:/bin", "TERM=xterm");
    assert_string_equal(p->cwd, "/work");
    assert_strv(p->capabilities->bounding, p->capabilities->bounding_len, 2, "CAP_AUDIT_WRITE", "CAP_KILL");
    assert_strv(p->capabilities->effective, p->capabilities->effective_len, 1, "CAP_KILL");
    assert_strv(p->capabilities->inheritable, p->capabilities->inheritable_len, 0);
    assert_strv(p->capabilities->permitted, p->capabilities->permitted_len, 3, "CAP_AUDIT_WRITE", "CAP_KILL",
                "CAP_NET_BIND_SERVICE");
    assert_strv(p->capabilities->ambient, p->capabilities->ambient_len, 1, "CAP_NET_BIND_SERVICE");
    assert_int_equal(p->rlimits_len, 2);
    assert_string_equal(p->rlimits[0].type, "RLIMIT_NOFILE");
    assert_true(p->rlimits[0].hard == UINT64_MAX);
    assert_int_equal(p->rlimits[0].soft, 0);
    assert_string_equal(p->rlimits[1].type, "RLIMIT_CORE");
    assert_int_equal(p->rlimits[1].hard, 4096);
    assert_int_equal(p->rlimits[1].soft, 1024);
    assert_true(p->has_no_new_privileges && p->no_new_privileges);
    assert_string_equal(p->apparmor_profile, "husk-default");
    assert_true(p->has_oom_score_adj);
    assert_int_equal(p->oom_score_adj, -1000);
    assert_string_equal(p->selinux_label, "system_u:system_r:container_t:s0:c1,c2");
    ocispec_scheduler *s = p->scheduler;
    assert_string_equal(s->policy, "SCHED_DEADLINE");
    assert_true(s->has_nice && s->nice == -20);
    assert_true(s->has_priority && s->priority == 99);
    assert_strv(s->flags, s->flags_len, 2, "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM");
    assert_true(s->has_runtime && s->runtime == 10000000);
    assert_true(s->has_deadline && s->deadline == 20000000);
    assert_true(s->has_period && s->period == UINT64_MAX);
    assert_string_equal(p->io_priority->class, "IOPRIO_CLASS_BE");
    assert_int_equal(p->io_priority->priority, 7);
    assert_string_equal(p->exec_cpu_affinity->initial, "0-1");
    assert_string_equal(p->exec_cpu_affinity->final, "3");
    ocispec_config_free(c);
}

static void test_full_root_mounts_hooks(void **state)
{
    (void)state;
    ocispec_config *c = parse_full();
    assert_string_equal(c->root->path, "rootfs");
    assert_true(c->root->has_readonly && c->root->readonly);
    assert_string_equal(c->hostname, "box");
    assert_string_equal(c->domainname, "example.org");
    assert_int_equal(c->mounts_len, 2);
    assert_string_equal(c->mounts[0].destination, "/proc");
    assert_string_equal(c->mounts[0].type, "proc");
    assert_string_equal(c->mounts[0].source, "proc");
    assert_null(c->mounts[0].options);
    assert_null(c->mounts[0].uid_mappings);
    ocispec_mount *m = &c->mounts[1];
    assert_strv(m->options, m->options_len, 3, "rbind", "ro", "idmap");
    assert_int_equal(m->uid_mappings_len, 1);
    assert_int_equal(m->uid_mappings[0].container_id, 0);
    assert_int_equal(m->uid_mappings[0].host_id, 100000);
    assert_int_equal(m->uid_mappings[0].size, 65536);
    assert_int_equal(m->gid_mappings_len, 1);
    assert_int_equal(m->gid_mappings[0].host_id, 200000);
    assert_int_equal(m->gid_mappings[0].size, UINT32_MAX);

    ocispec_hooks *h = c->hooks;
    assert_int_equal(h->prestart_len, 1);
    assert_string_equal(h->prestart[0].path, "/bin/pre");
    assert_strv(h->prestart[0].args, h->prestart[0].args_len, 2, "pre", "x");
    assert_strv(h->prestart[0].env, h->prestart[0].env_len, 1, "A=1");
    assert_true(h->prestart[0].has_timeout && h->prestart[0].timeout == INT64_MAX);
    assert_int_equal(h->create_runtime_len, 2);
    assert_false(h->create_runtime[0].has_timeout);
    assert_null(h->create_runtime[0].args);
    assert_true(h->create_runtime[1].has_timeout && h->create_runtime[1].timeout == 5);
    assert_string_equal(h->create_container[0].path, "/bin/cc");
    assert_strv(h->start_container[0].args, h->start_container[0].args_len, 0);
    assert_strv(h->poststart[0].env, h->poststart[0].env_len, 0);
    assert_int_equal(h->poststop[0].timeout, 1);

    ocispec_string_map *a = c->annotations;
    assert_int_equal(a->len, 3);
    assert_string_equal(a->keys[0], "org.example.z"); /* document order, not sorted */
    assert_string_equal(a->keys[1], "org.example.a");
    assert_string_equal(a->values[2], "");
    assert_string_equal(ocispec_string_map_get(a, "org.example.a"), "first");
    assert_null(ocispec_string_map_get(a, "missing"));
    assert_null(ocispec_string_map_get(NULL, "missing"));
    ocispec_config_free(c);
}

static void test_full_linux_basics(void **state)
{
    (void)state;
    ocispec_config *c = parse_full();
    ocispec_linux *l = c->linux;
    static const char *const ns[] = { "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time" };
    assert_int_equal(l->namespaces_len, 8);
    for (size_t i = 0; i < 8; i++)
        assert_string_equal(l->namespaces[i].type, ns[i]);
    assert_string_equal(l->namespaces[1].path, "/var/run/netns/n1");
    assert_null(l->namespaces[0].path);
    assert_int_equal(l->uid_mappings_len, 1);
    assert_int_equal(l->uid_mappings[0].host_id, 1000);
    assert_int_equal(l->gid_mappings_len, 2);
    assert_int_equal(l->gid_mappings[1].container_id, 1);
    assert_int_equal(l->gid_mappings[1].size, 65535);
    assert_true(l->has_time_offsets);
    assert_int_equal(l->time_offsets_len, 2);
    assert_string_equal(l->time_offsets[0].clock, "monotonic");
    assert_true(l->time_offsets[0].has_secs && l->time_offsets[0].secs == INT64_MIN);
    assert_true(l->time_offsets[0].has_nanosecs && l->time_offsets[0].nanosecs == UINT32_MAX);
    assert_string_equal(l->time_offsets[1].clock, "boottime");
    assert_false(l->time_offsets[1].has_nanosecs);
    assert_int_equal(l->devices_len, 3);
    ocispec_device *d = l->devices;
    assert_string_equal(d[0].type, "c");
    assert_string_equal(d[0].path, "/dev/fuse");
    assert_true(d[0].has_major && d[0].major == 10);
    assert_true(d[0].has_minor && d[0].minor == 229);
    assert_true(d[0].has_file_mode && d[0].file_mode == 438);
    assert_true(d[0].has_uid && d[0].uid == 0);
    assert_true(d[0].has_gid && d[0].gid == 0);
    assert_false(d[1].has_major || d[1].has_minor || d[1].has_file_mode || d[1].has_uid);
    assert_true(d[2].major == INT64_MAX && d[2].minor == INT64_MIN);
    assert_string_equal(l->cgroups_path, "/husk-test/full");
    assert_string_equal(ocispec_string_map_get(l->sysctl, "net.ipv4.ip_forward"), "1");
    assert_string_equal(l->sysctl->keys[1], "kernel.shmmax");
    assert_string_equal(l->rootfs_propagation, "rslave");
    assert_strv(l->masked_paths, l->masked_paths_len, 2, "/proc/kcore", "/sys/firmware");
    assert_strv(l->readonly_paths, l->readonly_paths_len, 1, "/proc/sys");
    assert_string_equal(l->mount_label, "system_u:object_r:container_file_t:s0");
    ocispec_config_free(c);
}

static void test_full_resources(void **state)
{
    (void)state;
    ocispec_config *c = parse_full();
    ocispec_resources *r = c->linux->resources;
    assert_int_equal(r->devices_len, 3);
    assert_false(r->devices[0].allow);
    assert_null(r->devices[0].type);
    assert_false(r->devices[0].has_major);
    assert_string_equal(r->devices[0].access, "rwm");
    assert_true(r->devices[1].allow);
    assert_string_equal(r->devices[1].type, "c");
    assert_true(r->devices[1].has_major && r->devices[1].major == 10);
    assert_true(r->devices[2].has_minor && r->devices[2].minor == -1);

    ocispec_memory *m = r->memory;
    assert_true(m->has_limit && m->limit == INT64_MAX);
    assert_true(m->has_reservation && m->reservation == 0);
    assert_true(m->has_swap && m->swap == -1);
    assert_true(m->has_kernel && m->kernel == INT64_MIN);
    assert_true(m->has_kernel_tcp && m->kernel_tcp == 1048576);
    assert_true(m->has_swappiness && m->swappiness == UINT64_MAX);
    assert_true(m->has_disable_oom_killer && !m->disable_oom_killer);
    assert_true(m->has_use_hierarchy && m->use_hierarchy);
    assert_true(m->has_check_before_update && m->check_before_update);

    ocispec_cpu *cpu = r->cpu;
    assert_true(cpu->has_shares && cpu->shares == 1024);
    assert_true(cpu->has_quota && cpu->quota == -1);
    assert_true(cpu->has_burst && cpu->burst == 5000);
    assert_true(cpu->has_period && cpu->period == 100000);
    assert_true(cpu->has_realtime_runtime && cpu->realtime_runtime == 950000);
    assert_true(cpu->has_realtime_period && cpu->realtime_period == 1000000);
    assert_string_equal(cpu->cpus, "0-3");
    assert_string_equal(cpu->mems, "0");
    assert_true(cpu->has_idle && cpu->idle == 1);
    assert_true(r->pids->has_limit && r->pids->limit == -1);

    ocispec_block_io *b = r->block_io;
    assert_true(b->has_weight && b->weight == 500);
    assert_true(b->has_leaf_weight && b->leaf_weight == UINT16_MAX);
    assert_int_equal(b->weight_device_len, 2);
    assert_true(b->weight_device[0].major == 8 && b->weight_device[0].minor == 0);
    assert_true(b->weight_device[0].has_weight && b->weight_device[0].weight == 10);
    assert_true(b->weight_device[0].has_leaf_weight && b->weight_device[0].leaf_weight == 20);
    assert_false(b->weight_device[1].has_weight || b->weight_device[1].has_leaf_weight);
    assert_true(b->throttle_read_bps_device[0].rate == UINT64_MAX);
    assert_int_equal(b->throttle_write_bps_device[0].rate, 0);
    assert_int_equal(b->throttle_read_iops_device[0].rate, 300);
    assert_non_null(b->throttle_write_iops_device);
    assert_int_equal(b->throttle_write_iops_device_len, 0);

    assert_int_equal(r->hugepage_limits_len, 2);
    assert_string_equal(r->hugepage_limits[0].page_size, "2MB");
    assert_int_equal(r->hugepage_limits[0].limit, 209715200);
    assert_true(r->hugepage_limits[1].limit == UINT64_MAX);
    assert_true(r->network->has_class_id && r->network->class_id == 1048577);
    assert_int_equal(r->network->priorities_len, 2);
    assert_string_equal(r->network->priorities[1].name, "lo");
    assert_int_equal(r->network->priorities[1].priority, UINT32_MAX);
    assert_true(r->has_rdma);
    assert_int_equal(r->rdma_len, 2);
    assert_string_equal(r->rdma[0].device, "mlx5_1");
    assert_true(r->rdma[0].has_hca_handles && r->rdma[0].hca_handles == 3);
    assert_true(r->rdma[0].has_hca_objects && r->rdma[0].hca_objects == 10000);
    assert_string_equal(r->rdma[1].device, "mlx4_0");
    assert_false(r->rdma[1].has_hca_handles);
    assert_string_equal(ocispec_string_map_get(r->unified, "io.weight"), "default 100");
    ocispec_config_free(c);
}

static void test_full_linux_rest(void **state)
{
    (void)state;
    ocispec_config *c = parse_full();
    ocispec_linux *l = c->linux;
    ocispec_intel_rdt *rdt = l->intel_rdt;
    assert_string_equal(rdt->clos_id, "guaranteed_group");
    assert_string_equal(rdt->l3_cache_schema, "L3:0=7f0;1=1f");
    assert_string_equal(rdt->mem_bw_schema, "MB:0=20;1=70");
    assert_strv(rdt->schemata, rdt->schemata_len, 2, "L2:0=ff", "MB:0=50");
    assert_true(rdt->has_enable_monitoring && rdt->enable_monitoring);

    ocispec_seccomp *s = l->seccomp;
    assert_string_equal(s->default_action, "SCMP_ACT_ERRNO");
    assert_true(s->has_default_errno_ret && s->default_errno_ret == 38);
    assert_strv(s->architectures, s->architectures_len, 2, "SCMP_ARCH_X86_64", "SCMP_ARCH_X86");
    assert_strv(s->flags, s->flags_len, 2, "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW");
    assert_string_equal(s->listener_path, "/run/seccomp-agent.sock");
    assert_string_equal(s->listener_metadata, "meta");
    assert_int_equal(s->syscalls_len, 2);
    assert_strv(s->syscalls[0].names, s->syscalls[0].names_len, 2, "read", "write");
    assert_string_equal(s->syscalls[0].action, "SCMP_ACT_ALLOW");
    assert_false(s->syscalls[0].has_errno_ret);
    assert_null(s->syscalls[0].args);
    ocispec_seccomp_syscall *sc = &s->syscalls[1];
    assert_true(sc->has_errno_ret && sc->errno_ret == 1);
    assert_int_equal(sc->args_len, 2);
    assert_int_equal(sc->args[0].index, 0);
    assert_true(sc->args[0].value == UINT64_MAX);
    assert_false(sc->args[0].has_value_two);
    assert_string_equal(sc->args[0].op, "SCMP_CMP_EQ");
    assert_int_equal(sc->args[1].index, UINT32_MAX);
    assert_true(sc->args[1].has_value_two && sc->args[1].value_two == 0);
    assert_string_equal(sc->args[1].op, "SCMP_CMP_MASKED_EQ");

    assert_string_equal(l->personality->domain, "LINUX32");
    assert_strv(l->personality->flags, l->personality->flags_len, 0);
    assert_string_equal(l->memory_policy->mode, "MPOL_INTERLEAVE");
    assert_string_equal(l->memory_policy->nodes, "0-3");
    assert_strv(l->memory_policy->flags, l->memory_policy->flags_len, 1, "MPOL_F_STATIC_NODES");
    assert_true(l->has_net_devices);
    assert_int_equal(l->net_devices_len, 2);
    assert_string_equal(l->net_devices[0].host_name, "eth1");
    assert_string_equal(l->net_devices[0].name, "ctr1");
    assert_string_equal(l->net_devices[1].host_name, "ens4");
    assert_null(l->net_devices[1].name);
    ocispec_config_free(c);
}

static void round_trip(const ocispec_config *c, bool pretty)
{
    char *err = NULL;
    char *json = ocispec_config_generate(c, pretty, &err);
    if (json == NULL)
        fail_msg("generate: %s", err);
    ocispec_config *again = ocispec_config_parse_data(json, strlen(json), &err);
    if (again == NULL)
        fail_msg("reparse: %s\n%s", err, json);
    assert_true(ocispec_config_equal(c, again));
    /* a second generation is byte-identical: nothing drifts */
    char *json2 = ocispec_config_generate(again, pretty, &err);
    assert_non_null(json2);
    assert_string_equal(json, json2);
    free(json);
    free(json2);
    ocispec_config_free(again);
}

static void test_round_trip_full(void **state)
{
    (void)state;
    ocispec_config *c = parse_full();
    round_trip(c, true);
    round_trip(c, false);
    ocispec_config_free(c);
}

static void test_generate_keeps_extremes(void **state)
{
    (void)state;
    ocispec_config *c = parse_full();
    char *err = NULL;
    char *json = ocispec_config_generate(c, false, &err);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"hard\":18446744073709551615"));
    assert_non_null(strstr(json, "\"kernel\":-9223372036854775808"));
    assert_non_null(strstr(json, "\"limit\":9223372036854775807"));
    assert_non_null(strstr(json, "\"throttleWriteIOPSDevice\":[]"));
    assert_non_null(strstr(json, "\"ens4\":{}"));
    /* document order of maps survives generation */
    assert_true(strstr(json, "org.example.z") < strstr(json, "org.example.a"));
    free(json);
    ocispec_config_free(c);
}

/* The keys of the object that follows `"name":{` in compact json, in the
 * order written, checked against want (NULL-terminated): only nested
 * depth-1 keys count. */
static void assert_key_order(const char *json, const char *name, const char *const *want)
{
    char open[64];
    snprintf(open, sizeof(open), "\"%s\":{", name);
    const char *p = strstr(json, open);
    if (p == NULL)
        fail_msg("no object `%s` in the generated json", name);
    p += strlen(open);
    size_t k = 0;
    int depth = 0;
    bool in_string = false, is_key = true;
    const char *start = NULL;
    for (; *p != '\0' && depth >= 0; p++) {
        if (in_string) {
            if (*p == '\\')
                p++;
            else if (*p == '"') {
                in_string = false;
                if (depth == 0 && is_key) {
                    size_t len = (size_t)(p - start);
                    if (want[k] == NULL)
                        fail_msg("%s: unexpected key %.*s", name, (int)len, start);
                    if (strlen(want[k]) != len || strncmp(want[k], start, len) != 0)
                        fail_msg("%s: key #%zu is %.*s, runc writes %s there", name, k, (int)len,
                                 start, want[k]);
                    k++;
                }
            }
            continue;
        }
        if (*p == '"') {
            in_string = true;
            start = p + 1;
        } else if (*p == '{' || *p == '[') {
            depth++;
        } else if (*p == '}' || *p == ']') {
            depth--;
        } else if (*p == ':' && depth == 0) {
            is_key = false;
        } else if (*p == ',' && depth == 0) {
            is_key = true;
        }
    }
    if (want[k] != NULL)
        fail_msg("%s: key %s missing from the generated json", name, want[k]);
}

/* The generator writes keys in the order of the runtime-spec's Go types,
 * which is the order runc (encoding/json) writes them: a config husk
 * rewrites reads the same as one runc wrote. config-full sets every field. */
static void test_generate_key_order_is_runcs(void **state)
{
    (void)state;
    ocispec_config *c = parse_full();
    char *err = NULL;
    char *json = ocispec_config_generate(c, false, &err);
    assert_non_null(json);
    static const char *const memory[] = {"limit", "reservation", "swap", "kernel", "kernelTCP",
                                         "swappiness", "disableOOMKiller", "useHierarchy",
                                         "checkBeforeUpdate", NULL};
    static const char *const cpu[] = {"shares", "quota", "burst", "period", "realtimeRuntime",
                                      "realtimePeriod", "cpus", "mems", "idle", NULL};
    static const char *const block_io[] = {"weight", "leafWeight", "weightDevice",
                                           "throttleReadBpsDevice", "throttleWriteBpsDevice",
                                           "throttleReadIOPSDevice", "throttleWriteIOPSDevice",
                                           NULL};
    static const char *const resources[] = {"devices", "memory", "cpu", "pids", "blockIO",
                                            "hugepageLimits", "network", "rdma", "unified", NULL};
    assert_key_order(json, "memory", memory);
    assert_key_order(json, "cpu", cpu);
    assert_key_order(json, "blockIO", block_io);
    assert_key_order(json, "resources", resources);
    free(json);
    ocispec_config_free(c);
}

static void test_generate_pretty_uses_tabs(void **state)
{
    (void)state;
    ocispec_config *c = parse_ok("{\"ociVersion\":\"1.3.0\",\"hostname\":\"h\"}");
    char *err = NULL;
    char *json = ocispec_config_generate(c, true, &err);
    assert_non_null(json);
    assert_string_equal(json, "{\n\t\"ociVersion\": \"1.3.0\",\n\t\"hostname\": \"h\"\n}\n");
    free(json);
    json = ocispec_config_generate(c, false, &err);
    assert_string_equal(json, "{\"ociVersion\":\"1.3.0\",\"hostname\":\"h\"}");
    free(json);
    ocispec_config_free(c);
}

static void test_absent_and_zero_stay_distinct(void **state)
{
    (void)state;
    ocispec_config *absent = parse_ok("{\"ociVersion\":\"1.3.0\",\"process\":{\"cwd\":\"/\"},\"linux\":{"
                                      "\"resources\":{\"memory\":{}}}}");
    ocispec_config *zero = parse_ok("{\"ociVersion\":\"1.3.0\",\"process\":{\"cwd\":\"/\",\"terminal\":false,"
                                    "\"args\":[],\"rlimits\":[],\"oomScoreAdj\":0,\"user\":{\"uid\":0,\"gid\":0}},"
                                    "\"linux\":{\"resources\":{\"memory\":{\"limit\":0,\"swappiness\":0},"
                                    "\"rdma\":{}},\"timeOffsets\":{},\"netDevices\":{},\"sysctl\":{}}}");
    ocispec_process *a = absent->process, *z = zero->process;
    assert_false(a->has_terminal);
    assert_true(z->has_terminal);
    assert_false(z->terminal);
    assert_null(a->args);
    assert_non_null(z->args);
    assert_int_equal(z->args_len, 0);
    assert_null(z->args[0]);
    assert_null(a->rlimits);
    assert_non_null(z->rlimits);
    assert_false(a->has_oom_score_adj);
    assert_true(z->has_oom_score_adj);
    assert_false(a->has_user);
    assert_true(z->has_user);
    assert_false(absent->linux->resources->memory->has_limit);
    assert_true(zero->linux->resources->memory->has_limit);
    assert_true(zero->linux->resources->memory->has_swappiness);
    assert_false(absent->linux->resources->has_rdma);
    assert_true(zero->linux->resources->has_rdma);
    assert_int_equal(zero->linux->resources->rdma_len, 0);
    assert_false(absent->linux->has_time_offsets);
    assert_true(zero->linux->has_time_offsets);
    assert_true(zero->linux->has_net_devices);
    assert_null(absent->linux->sysctl);
    assert_non_null(zero->linux->sysctl);
    assert_int_equal(zero->linux->sysctl->len, 0);
    assert_false(ocispec_config_equal(absent, zero));
    round_trip(absent, false);
    round_trip(zero, false);

    char *err = NULL;
    char *json = ocispec_config_generate(zero, false, &err);
    assert_non_null(strstr(json, "\"args\":[]"));
    assert_non_null(strstr(json, "\"terminal\":false"));
    assert_non_null(strstr(json, "\"rdma\":{}"));
    assert_non_null(strstr(json, "\"sysctl\":{}"));
    free(json);
    json = ocispec_config_generate(absent, false, &err);
    assert_null(strstr(json, "args"));
    assert_null(strstr(json, "terminal"));
    assert_string_equal(json, "{\"ociVersion\":\"1.3.0\",\"process\":{\"cwd\":\"/\"},"
                              "\"linux\":{\"resources\":{\"memory\":{}}}}");
    free(json);
    ocispec_config_free(absent);
    ocispec_config_free(zero);
}

static void test_null_reads_as_absent(void **state)
{
    (void)state;
    ocispec_config *c = parse_ok("{\"ociVersion\":\"1.3.0\",\"hostname\":null,\"process\":null,"
                                 "\"linux\":{\"sysctl\":null,\"namespaces\":null}}");
    assert_null(c->hostname);
    assert_null(c->process);
    assert_null(c->linux->sysctl);
    assert_null(c->linux->namespaces);
    ocispec_config_free(c);
}

static void test_unknown_keys_ignored(void **state)
{
    (void)state;
    ocispec_config *c = parse_ok("{\"ociVersion\":\"1.3.0\",\"vm\":{\"hypervisor\":{}},\"future\":[1,2,{}],"
                                 "\"process\":{\"cwd\":\"/\",\"newThing\":true},"
                                 "\"linux\":{\"resources\":{\"memory\":{\"limit\":5,\"later\":\"x\"}}}}");
    assert_string_equal(c->process->cwd, "/");
    assert_int_equal(c->linux->resources->memory->limit, 5);
    ocispec_config_free(c);
}

static void test_repeated_key_last_wins(void **state)
{
    (void)state;
    ocispec_config *c = parse_ok("{\"ociVersion\":\"1.0\",\"ociVersion\":\"1.3.0\","
                                 "\"process\":{\"cwd\":\"/a\",\"args\":[\"x\"],\"args\":[\"y\",\"z\"],\"cwd\":\"/b\"},"
                                 "\"hostname\":\"h\",\"hostname\":null}");
    assert_string_equal(c->oci_version, "1.3.0");
    assert_string_equal(c->process->cwd, "/b");
    assert_int_equal(c->process->args_len, 2);
    assert_string_equal(c->process->args[0], "y");
    assert_null(c->hostname);
    ocispec_config_free(c);
}

static void test_minus_zero_and_unicode(void **state)
{
    (void)state;
    ocispec_config *c = parse_ok("{\"ociVersion\":\"1.3.0\",\"hostname\":\"h\\u00e9\\n\\\"q\\\"\","
                                 "\"process\":{\"cwd\":\"/\",\"user\":{\"uid\":-0,\"gid\":0}}}");
    assert_int_equal(c->process->user.uid, 0);
    assert_string_equal(c->hostname, "h\xc3\xa9\n\"q\"");
    round_trip(c, true);
    ocispec_config_free(c);
}

static void test_equal_notices_each_change(void **state)
{
    (void)state;
    ocispec_config *a = parse_full(), *b = parse_full();
    assert_true(ocispec_config_equal(a, b));
    assert_true(ocispec_config_equal(NULL, NULL));
    assert_false(ocispec_config_equal(a, NULL));

    b->linux->resources->memory->limit--; /* integer */
    assert_false(ocispec_config_equal(a, b));
    b->linux->resources->memory->limit++;
    b->linux->resources->memory->has_swap = false; /* presence */
    assert_false(ocispec_config_equal(a, b));
    b->linux->resources->memory->has_swap = true;
    b->process->args[2][0] = 'E'; /* string in an array */
    assert_false(ocispec_config_equal(a, b));
    b->process->args[2][0] = 'e';
    b->linux->net_devices[1].host_name[0] = 'X'; /* key of a keyed object */
    assert_false(ocispec_config_equal(a, b));
    b->linux->net_devices[1].host_name[0] = 'e';
    b->process->user.additional_gids[1] = 7; /* integer array */
    assert_false(ocispec_config_equal(a, b));
    b->process->user.additional_gids[1] = UINT32_MAX;
    b->annotations->values[0][0] = 'L'; /* map value */
    assert_false(ocispec_config_equal(a, b));
    b->annotations->values[0][0] = 'l';
    b->linux->seccomp->syscalls[1].args[1].op[9] = 'X'; /* deep nesting */
    assert_false(ocispec_config_equal(a, b));
    b->linux->seccomp->syscalls[1].args[1].op[9] = 'M';
    b->root->readonly = false; /* boolean */
    assert_false(ocispec_config_equal(a, b));
    b->root->readonly = true;
    assert_true(ocispec_config_equal(a, b));
    ocispec_config_free(a);
    ocispec_config_free(b);
}

/* exec --process reads a bare process object with the same rules. */
static void test_process_document(void **state)
{
    (void)state;
    static const char json[] = "{\"terminal\":false,\"user\":{\"uid\":1,\"gid\":2},\"args\":[\"ls\"],"
                               "\"cwd\":\"/tmp\",\"rlimits\":[{\"type\":\"RLIMIT_NPROC\",\"hard\":5,\"soft\":4}]}";
    char *err = NULL;
    ocispec_process *p = ocispec_process_parse_data(json, strlen(json), &err);
    assert_non_null(p);
    assert_true(p->has_terminal && !p->terminal);
    assert_int_equal(p->user.gid, 2);
    assert_string_equal(p->args[0], "ls");
    assert_int_equal(p->rlimits[0].soft, 4);
    char *out = ocispec_process_generate(p, false, &err);
    assert_string_equal(out, json);
    ocispec_process *again = ocispec_process_parse_data(out, strlen(out), &err);
    assert_true(ocispec_process_equal(p, again));
    free(out);
    ocispec_process_free(again);
    ocispec_process_free(p);

    static const char dup[] = "{\"cwd\":\"/\",\"rlimits\":[{\"type\":\"RLIMIT_NPROC\",\"hard\":5,\"soft\":4},"
                              "{\"type\":\"RLIMIT_NPROC\",\"hard\":5,\"soft\":4}]}";
    assert_null(ocispec_process_parse_data(dup, strlen(dup), &err));
    assert_string_equal(err, "rlimits[1].type: duplicate rlimit type \"RLIMIT_NPROC\"");
    free(err);
    assert_null(ocispec_process_parse_data("{}", 2, &err));
    assert_string_equal(err, "cwd: required field missing");
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_process),
        cmocka_unit_test(test_full_root_mounts_hooks),
        cmocka_unit_test(test_full_linux_basics),
        cmocka_unit_test(test_full_resources),
        cmocka_unit_test(test_full_linux_rest),
        cmocka_unit_test(test_round_trip_full),
        cmocka_unit_test(test_generate_keeps_extremes),
        cmocka_unit_test(test_generate_key_order_is_runcs),
        cmocka_unit_test(test_generate_pretty_uses_tabs),
        cmocka_unit_test(test_absent_and_zero_stay_distinct),
        cmocka_unit_test(test_null_reads_as_absent),
        cmocka_unit_test(test_unknown_keys_ignored),
        cmocka_unit_test(test_repeated_key_last_wins),
        cmocka_unit_test(test_minus_zero_and_unicode),
        cmocka_unit_test(test_equal_notices_each_change),
        cmocka_unit_test(test_process_document),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
