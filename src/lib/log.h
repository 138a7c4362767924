/* Logging for husk's callers, not for people: conmon and the containerd shim
 * pass `--log FILE --log-format json` and read FILE when husk fails, so every
 * record is one line, written with a single write(2) on an O_APPEND fd, in the
 * shape runc writes (logrus):
 *
 *   text: time="2026-01-02T03:04:05.123456789Z" level=error msg="..."
 *   json: {"level":"error","msg":"...","time":"2026-01-02T03:04:05.123456789Z"}
 *
 * Until husk_log_init() is called every husk_log() is a no-op, so library
 * code may log freely without knowing whether anyone listens. */
#ifndef HUSK_LOG_H
#define HUSK_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "error.h"

/* Ordered by verbosity: a record is written when its level <= the threshold. */
enum husk_log_level {
    HUSK_LOG_ERROR = 0,
    HUSK_LOG_WARNING,
    HUSK_LOG_INFO,
    HUSK_LOG_DEBUG,
};

enum husk_log_format {
    HUSK_LOG_TEXT = 0,
    HUSK_LOG_JSON,
};

/* "debug" "info" "warning" (or "warn") "error"; returns 0, or -1 for an
 * unknown name. */
int husk_log_level_parse(const char *name, enum husk_log_level *level);
const char *husk_log_level_name(enum husk_log_level level);

/* "text" or "json"; returns 0, or -1 for an unknown name. */
int husk_log_format_parse(const char *name, enum husk_log_format *format);

/* Starts logging records at `level` and below. path == NULL logs to stderr;
 * otherwise the file is opened O_APPEND|O_CREAT|O_CLOEXEC (mode 0600), so
 * several husk processes may share one log file. Calling it again replaces
 * the previous sink. */
int husk_log_init(const char *path, enum husk_log_format format, enum husk_log_level level,
                  husk_error_t *err);

/* Stops logging and closes the file. */
void husk_log_close(void);

/* True when husk_log_init() opened a file: errors the CLI prints on stderr
 * are then logged there too, and never twice on stderr. */
bool husk_log_to_file(void);

/* The sink's fd (-1 when not logging), for code that must keep logging from
 * a forked child; it is O_CLOEXEC, so the container's process never sees it. */
int husk_log_fd(void);

/* True when a record at `level` would be written; lets callers skip building
 * expensive debug messages. */
bool husk_log_enabled(enum husk_log_level level);

void husk_log(enum husk_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void husk_logv(enum husk_log_level level, const char *fmt, va_list ap);

#define husk_log_debug(...)   husk_log(HUSK_LOG_DEBUG, __VA_ARGS__)
#define husk_log_info(...)    husk_log(HUSK_LOG_INFO, __VA_ARGS__)
#define husk_log_warning(...) husk_log(HUSK_LOG_WARNING, __VA_ARGS__)
#define husk_log_error(...)   husk_log(HUSK_LOG_ERROR, __VA_ARGS__)

/* Formats one record, newline included, into a malloc'd string (NULL when
 * out of memory). Exposed for the unit tests. */
char *husk_log_format_record(enum husk_log_format format, enum husk_log_level level,
                             const struct timespec *when, const char *msg);

#endif
