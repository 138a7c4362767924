#include "config.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "utils.h"

static struct {
    int fd; /* -1: not logging */
    bool owns_fd;
    enum husk_log_format format;
    enum husk_log_level level;
} sink = { .fd = -1 };

static const char *const level_names[] = {
    [HUSK_LOG_ERROR] = "error",
    [HUSK_LOG_WARNING] = "warning",
    [HUSK_LOG_INFO] = "info",
    [HUSK_LOG_DEBUG] = "debug",
};

int husk_log_level_parse(const char *name, enum husk_log_level *level)
{
    if (name == NULL)
        return -1;
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *level = (enum husk_log_level) i;
            return 0;
        }
    }
    /* logrus, and so runc's callers, also spell it "warn". */
    if (strcmp(name, "warn") == 0) {
        *level = HUSK_LOG_WARNING;
        return 0;
    }
    return -1;
}

const char *husk_log_level_name(enum husk_log_level level)
{
    if ((size_t) level < sizeof(level_names) / sizeof(level_names[0]))
        return level_names[level];
    return "unknown";
}

int husk_log_format_parse(const char *name, enum husk_log_format *format)
{
    if (name != NULL && strcmp(name, "text") == 0) {
        *format = HUSK_LOG_TEXT;
        return 0;
    }
    if (name != NULL && strcmp(name, "json") == 0) {
        *format = HUSK_LOG_JSON;
        return 0;
    }
    return -1;
}

void husk_log_close(void)
{
    if (sink.owns_fd && sink.fd >= 0)
        close(sink.fd);
    sink.fd = -1;
    sink.owns_fd = false;
}

int husk_log_init(const char *path, enum husk_log_format format, enum husk_log_level level,
                  husk_error_t *err)
{
    int fd = STDERR_FILENO;
    if (path != NULL) {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0)
            return husk_error_set(err, errno, "open log file \"%s\"", path);
    }
    husk_log_close();
    sink.fd = fd;
    sink.owns_fd = path != NULL;
    sink.format = format;
    sink.level = level;
    return 0;
}

bool husk_log_to_file(void)
{
    return sink.fd >= 0 && sink.owns_fd;
}

int husk_log_fd(void)
{
    return sink.fd;
}

bool husk_log_enabled(enum husk_log_level level)
{
    return sink.fd >= 0 && level <= sink.level;
}

/* JSON string body (RFC 8259): quotes, backslashes and control characters
 * escaped; other bytes, UTF-8 included, pass through. */
static void put_json_escaped(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *) s; *p != '\0'; p++) {
        switch (*p) {
        case '"':  fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out);
        }
    }
}

/* A double-quoted value as logfmt readers expect it (Go's strconv.Quote
 * escapes for the characters that matter). */
static void put_text_quoted(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *) s; *p != '\0'; p++) {
        switch (*p) {
        case '"':  fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(out, "\\x%02x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

/* RFC 3339 in UTC with nanoseconds: what runc's logrus setup writes, and
 * what conmon and containerd parse. */
static void put_timestamp(FILE *out, const struct timespec *when)
{
    struct tm tm;
    char date[32];
    time_t secs = when->tv_sec;
    if (gmtime_r(&secs, &tm) == NULL || strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        strcpy(date, "1970-01-01T00:00:00");
    fprintf(out, "%s.%09ldZ", date, (long) when->tv_nsec);
}

char *husk_log_format_record(enum husk_log_format format, enum husk_log_level level,
                             const struct timespec *when, const char *msg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (out == NULL)
        return NULL;

    if (format == HUSK_LOG_JSON) {
        /* Keys in logrus' (sorted) order so the lines diff cleanly against runc's. */
        fprintf(out, "{\"level\":\"%s\",\"msg\":\"", husk_log_level_name(level));
        put_json_escaped(out, msg);
        fputs("\",\"time\":\"", out);
        put_timestamp(out, when);
        fputs("\"}\n", out);
    } else {
        fputs("time=\"", out);
        put_timestamp(out, when);
        fprintf(out, "\" level=%s msg=", husk_log_level_name(level));
        put_text_quoted(out, msg);
        fputc('\n', out);
    }

    bool failed = ferror(out);
    if (fclose(out) != 0 || failed) {
        free(buf);
        return NULL;
    }
    return buf;
}

void husk_logv(enum husk_log_level level, const char *fmt, va_list ap)
{
    if (!husk_log_enabled(level))
        return;

    int saved_errno = errno; /* callers log on error paths and then read errno */
    cleanup_free char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) >= 0) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        cleanup_free char *record = husk_log_format_record(sink.format, level, &now, msg);
        /* One write per record keeps lines whole when processes share the file. */
        if (record != NULL)
            (void) husk_write_all(sink.fd, record, strlen(record));
    }
    errno = saved_errno;
}

void husk_log(enum husk_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    husk_logv(level, fmt, ap);
    va_end(ap);
}
