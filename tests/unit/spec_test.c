/* Unit tests for the documents husk builds itself: the default config
 * (src/lib/spec_default.c) and the features document (src/lib/spec_features.c).
 * Each model must survive generate -> parse unchanged, and carry the values
 * runc's default config and runtime-spec 1.3.0 call for. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ocispec.h"
#include "spec_default.h"
#include "spec_features.h"
#include "utils.h"

static bool strv_has(char **strv, size_t len, const char *s)
{
    for (size_t i = 0; i < len; i++)
        if (strcmp(strv[i], s) == 0)
            return true;
    return false;
}

static ocispec_config *round_trip_config(const ocispec_config *config)
{
    char *err = NULL;
    cleanup_free char *json = ocispec_config_generate(config, true, &err);
    assert_null(err);
    assert_non_null(json);
    ocispec_config *parsed = ocispec_config_parse_data(json, strlen(json), &err);
    if (parsed == NULL)
        fail_msg("parse of generated config failed: %s", err);
    return parsed;
}

static void test_default_config_values(void **state)
{
    (void) state;
    ocispec_config *c = NULL;
    husk_error_t err = NULL;
    assert_int_equal(husk_spec_default(false, &c, &err), 0);
    assert_non_null(c);

    assert_string_equal(c->oci_version, OCISPEC_VERSION);
    assert_string_equal(c->hostname, "husk");
    assert_true(c->process->has_terminal && c->process->terminal);
    assert_int_equal(c->process->args_len, 1);
    assert_string_equal(c->process->args[0], "sh");
    assert_null(c->process->args[1]); /* NULL-terminated for execve */
    assert_string_equal(c->process->cwd, "/");
    assert_true(c->process->no_new_privileges);
    assert_int_equal(c->process->capabilities->bounding_len, 3);
    assert_null(c->process->capabilities->inheritable);
    assert_int_equal(c->process->rlimits_len, 1);
    assert_string_equal(c->process->rlimits[0].type, "RLIMIT_NOFILE");
    assert_int_equal(c->process->rlimits[0].hard, 1024);
    assert_string_equal(c->root->path, "rootfs");
    assert_true(c->root->readonly);

    assert_int_equal(c->mounts_len, 7);
    assert_string_equal(c->mounts[0].destination, "/proc");
    assert_null(c->mounts[0].options); /* absent, not empty */
    assert_string_equal(c->mounts[5].type, "sysfs");
    assert_true(strv_has(c->mounts[2].options, c->mounts[2].options_len, "gid=5"));

    assert_int_equal(c->linux->namespaces_len, 5);
    assert_string_equal(c->linux->namespaces[1].type, "network");
    assert_null(c->linux->uid_mappings);
    assert_int_equal(c->linux->resources->devices_len, 1);
    assert_false(c->linux->resources->devices[0].allow);
    assert_string_equal(c->linux->resources->devices[0].access, "rwm");
    assert_int_equal(c->linux->masked_paths_len, 10);
    assert_int_equal(c->linux->readonly_paths_len, 5);

    ocispec_config *parsed = round_trip_config(c);
    assert_true(ocispec_config_equal(c, parsed));
    ocispec_config_free(parsed);
    ocispec_config_free(c);
}

static void test_rootless_config_values(void **state)
{
    (void) state;
    ocispec_config *c = NULL;
    husk_error_t err = NULL;
    assert_int_equal(husk_spec_default(true, &c, &err), 0);

    assert_null(c->linux->resources);
    assert_int_equal(c->linux->uid_mappings_len, 1);
    assert_int_equal(c->linux->uid_mappings[0].container_id, 0);
    assert_int_equal(c->linux->uid_mappings[0].host_id, geteuid());
    assert_int_equal(c->linux->uid_mappings[0].size, 1);
    assert_int_equal(c->linux->gid_mappings[0].host_id, getegid());
    assert_int_equal(c->linux->namespaces_len, 5);
    assert_string_equal(c->linux->namespaces[4].type, "user");
    for (size_t i = 0; i < c->linux->namespaces_len; i++)
        assert_string_not_equal(c->linux->namespaces[i].type, "network");
    assert_string_equal(c->mounts[5].type, "none");
    assert_string_equal(c->mounts[5].source, "/sys");
    assert_string_equal(c->mounts[5].options[0], "rbind");
    assert_false(strv_has(c->mounts[2].options, c->mounts[2].options_len, "gid=5"));

    ocispec_config *parsed = round_trip_config(c);
    assert_true(ocispec_config_equal(c, parsed));
    ocispec_config_free(parsed);
    ocispec_config_free(c);
}

static void test_spec_write_never_overwrites(void **state)
{
    (void) state;
    char dir[] = "/tmp/husk-spec-test.XXXXXX";
    assert_non_null(mkdtemp(dir));
    cleanup_free char *path = NULL;
    assert_true(asprintf(&path, "%s/config.json", dir) > 0);

    ocispec_config *c = NULL;
    husk_error_t err = NULL;
    assert_int_equal(husk_spec_default(false, &c, &err), 0);
    assert_int_equal(husk_spec_write(dir, c, &err), 0);

    char *text = NULL;
    size_t len = 0;
    assert_int_equal(husk_read_file(path, &text, &len, &err), 0);
    /* runc's layout: tabs, no trailing newline */
    assert_int_equal(strncmp(text, "{\n\t\"ociVersion\": \"1.3.0\",\n", 26), 0);
    assert_int_equal(text[len - 1], '}');
    assert_null(strstr(text, "\n "));

    /* a second write fails, names the file and leaves it alone */
    assert_true(husk_spec_write(dir, c, &err) < 0);
    assert_non_null(err);
    assert_non_null(strstr(err->msg, path));
    husk_error_free(&err);
    char *again = NULL;
    assert_int_equal(husk_read_file(path, &again, &len, &err), 0);
    assert_string_equal(again, text);
    free(again);
    free(text);

    /* a bundle directory that does not exist is named */
    cleanup_free char *missing = NULL;
    assert_true(asprintf(&missing, "%s/missing", dir) > 0);
    assert_true(husk_spec_write(missing, c, &err) < 0);
    assert_non_null(strstr(err->msg, missing));
    husk_error_free(&err);

    ocispec_config_free(c);
    unlink(path);
    rmdir(dir);
}

static void test_features_document(void **state)
{
    (void) state;
    ocispec_features *f = NULL;
    husk_error_t err = NULL;
    assert_int_equal(husk_features_build(&f, &err), 0);

    assert_string_equal(f->oci_version_min, "1.0.0");
    assert_string_equal(f->oci_version_max, OCISPEC_VERSION);
    assert_int_equal(f->hooks_len, 6);
    assert_true(strv_has(f->mount_options, f->mount_options_len, "rbind"));
    assert_true(strv_has(f->mount_options, f->mount_options_len, "rro"));
    assert_int_equal(f->linux->namespaces_len, 8);
    assert_true(strv_has(f->linux->capabilities, f->linux->capabilities_len, "CAP_SYS_ADMIN"));
    assert_string_equal(f->linux->capabilities[0], "CAP_CHOWN");
    assert_null(f->linux->capabilities[f->linux->capabilities_len]);
    assert_true(f->linux->seccomp->has_enabled);
    assert_int_equal(f->linux->seccomp->operators_len, 7);
#if defined(__x86_64__)
    assert_true(strv_has(f->linux->seccomp->archs, f->linux->seccomp->archs_len, "SCMP_ARCH_X86_64"));
#endif
    for (size_t i = 0; i < f->linux->seccomp->supported_flags_len; i++)
        assert_true(strv_has(f->linux->seccomp->known_flags, f->linux->seccomp->known_flags_len,
                             f->linux->seccomp->supported_flags[i]));
    assert_string_equal(ocispec_string_map_get(f->annotations, HUSK_ANNOTATION_VERSION),
                        PACKAGE_VERSION);
    assert_non_null(ocispec_string_map_get(f->annotations, HUSK_ANNOTATION_COMMIT));

    char *gen_err = NULL;
    cleanup_free char *json = ocispec_features_generate(f, false, &gen_err);
    assert_non_null(json);
    ocispec_features *parsed = ocispec_features_parse_data(json, strlen(json), &gen_err);
    if (parsed == NULL)
        fail_msg("parse of generated features failed: %s", gen_err);
    assert_true(ocispec_features_equal(f, parsed));
    ocispec_features_free(parsed);
    ocispec_features_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_config_values),
        cmocka_unit_test(test_rootless_config_values),
        cmocka_unit_test(test_spec_write_never_overwrites),
        cmocka_unit_test(test_features_document),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
