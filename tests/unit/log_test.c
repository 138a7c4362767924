/* Unit tests for src/lib/log.c: the record formats conmon and containerd
 * read, level filtering, and the file sink. */
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
#include <unistd.h>

#include "log.h"
#include "utils.h"

static const struct timespec when = { .tv_sec = 1767323045, .tv_nsec = 123456789 };

static void test_json_record(void **state)
{
    (void) state;
    cleanup_free char *rec = husk_log_format_record(HUSK_LOG_JSON, HUSK_LOG_ERROR, &when,
                                                    "open \"/x\": No such file");
    assert_non_null(rec);
    assert_string_equal(rec, "{\"level\":\"error\",\"msg\":\"open \\\"/x\\\": No such file\","
                             "\"time\":\"2026-01-02T03:04:05.123456789Z\"}\n");
}

static void test_json_escapes_control_characters(void **state)
{
    (void) state;
    cleanup_free char *rec = husk_log_format_record(HUSK_LOG_JSON, HUSK_LOG_DEBUG, &when,
                                                    "a\\b\nc\td\x01" "e\x7f");
    assert_non_null(rec);
    assert_non_null(strstr(rec, "\"msg\":\"a\\\\b\\nc\\td\\u0001e\\u007f\""));
    /* one record, one line */
    assert_ptr_equal(strchr(rec, '\n'), rec + strlen(rec) - 1);
}

static void test_text_record(void **state)
{
    (void) state;
    cleanup_free char *rec = husk_log_format_record(HUSK_LOG_TEXT, HUSK_LOG_WARNING, &when,
                                                    "say \"hi\"\nbye");
    assert_non_null(rec);
    assert_string_equal(rec, "time=\"2026-01-02T03:04:05.123456789Z\" level=warning "
                             "msg=\"say \\\"hi\\\"\\nbye\"\n");
}

static void test_nanoseconds_keep_leading_zeros(void **state)
{
    (void) state;
    const struct timespec early = { .tv_sec = 0, .tv_nsec = 5 };
    cleanup_free char *rec = husk_log_format_record(HUSK_LOG_JSON, HUSK_LOG_INFO, &early, "m");
    assert_non_null(rec);
    assert_non_null(strstr(rec, "\"time\":\"1970-01-01T00:00:00.000000005Z\""));
}

static void test_level_names(void **state)
{
    (void) state;
    static const struct {
        const char *name;
        enum husk_log_level level;
    } table[] = {
        { "debug", HUSK_LOG_DEBUG },     { "info", HUSK_LOG_INFO },
        { "warning", HUSK_LOG_WARNING }, { "warn", HUSK_LOG_WARNING },
        { "error", HUSK_LOG_ERROR },
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        enum husk_log_level level = HUSK_LOG_ERROR;
        assert_int_equal(husk_log_level_parse(table[i].name, &level), 0);
        assert_int_equal(level, table[i].level);
    }
    enum husk_log_level level;
    assert_int_equal(husk_log_level_parse("loud", &level), -1);
    assert_int_equal(husk_log_level_parse("", &level), -1);
    assert_int_equal(husk_log_level_parse(NULL, &level), -1);
    assert_string_equal(husk_log_level_name(HUSK_LOG_WARNING), "warning");

    enum husk_log_format format;
    assert_int_equal(husk_log_format_parse("json", &format), 0);
    assert_int_equal(format, HUSK_LOG_JSON);
    assert_int_equal(husk_log_format_parse("text", &format), 0);
    assert_int_equal(format, HUSK_LOG_TEXT);
    assert_int_equal(husk_log_format_parse("xml", &format), -1);
}

static char *read_all(const char *path)
{
    char *data = NULL;
    size_t len = 0;
    husk_error_t err = NULL;
    if (husk_read_file(path, &data, &len, &err) < 0) {
        husk_error_free(&err);
        return NULL;
    }
    return data;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++)
        n += *s == '\n';
    return n;
}

static void test_file_sink_filters_by_level(void **state)
{
    (void) state;
    char path[] = "/tmp/husk-log-test.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);

    /* Before init, logging goes nowhere and must not crash. */
    husk_log_error("dropped %d", 1);
    assert_false(husk_log_to_file());

    husk_error_t err = NULL;
    assert_int_equal(husk_log_init(path, HUSK_LOG_JSON, HUSK_LOG_WARNING, &err), 0);
    assert_true(husk_log_to_file());
    assert_true(husk_log_fd() >= 0);
    assert_true(husk_log_enabled(HUSK_LOG_ERROR));
    assert_false(husk_log_enabled(HUSK_LOG_INFO));

    husk_log_error("first %s", "error");
    husk_log_info("not written");
    husk_log_debug("not written either");
    husk_log_warning("a warning");
    husk_log_close();
    assert_false(husk_log_enabled(HUSK_LOG_ERROR));
    husk_log_error("after close");

    cleanup_free char *text = read_all(path);
    unlink(path);
    assert_non_null(text);
    assert_int_equal(count_lines(text), 2);
    assert_non_null(strstr(text, "{\"level\":\"error\",\"msg\":\"first error\",\"time\":\""));
    assert_non_null(strstr(text, "{\"level\":\"warning\",\"msg\":\"a warning\",\"time\":\""));
    assert_null(strstr(text, "not written"));
    assert_null(strstr(text, "after close"));
}

static void test_init_appends_and_reports_bad_path(void **state)
{
    (void) state;
    char path[] = "/tmp/husk-log-test.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "earlier\n", 8), 8);
    close(fd);

    husk_error_t err = NULL;
    assert_int_equal(husk_log_init(path, HUSK_LOG_TEXT, HUSK_LOG_DEBUG, &err), 0);
    husk_log_debug("later");
    husk_log_close();
    cleanup_free char *text = read_all(path);
    unlink(path);
    assert_non_null(text);
    assert_int_equal(strncmp(text, "earlier\ntime=\"", 14), 0);
    assert_non_null(strstr(text, " level=debug msg=\"later\"\n"));

    assert_true(husk_log_init("/nonexistent-dir/husk.log", HUSK_LOG_TEXT, HUSK_LOG_DEBUG, &err) < 0);
    assert_non_null(err);
    assert_non_null(strstr(err->msg, "/nonexistent-dir/husk.log"));
    husk_error_free(&err);
    assert_false(husk_log_to_file());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_record),
        cmocka_unit_test(test_json_escapes_control_characters),
        cmocka_unit_test(test_text_record),
        cmocka_unit_test(test_nanoseconds_keep_leading_zeros),
        cmocka_unit_test(test_level_names),
        cmocka_unit_test(test_file_sink_filters_by_level),
        cmocka_unit_test(test_init_appends_and_reports_bad_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
