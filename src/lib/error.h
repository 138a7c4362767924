/* One error type for the whole of husk.
 *
 * Every fallible library function has the shape
 *     int f(..., husk_error_t *err);
 * returning 0 on success (err untouched) or a negative value on failure with
 * *err holding the errno (0 when none applies) and a message naming the path,
 * field or value involved. Callers add context with husk_error_wrap(); the CLI
 * prints the result once as "husk: <msg>". The library never prints or exits.
 */
#ifndef HUSK_ERROR_H
#define HUSK_ERROR_H

#include <stdarg.h>

typedef struct husk_error {
    int errno_value; /* 0 when the failure is not a system error */
    char *msg;       /* malloc'd, never NULL once set */
} *husk_error_t;

/* Sets *err (if err != NULL) to fmt..., followed by ": strerror(errno_value)"
 * when errno_value != 0. Returns -1 (or -errno_value when errno_value > 0) so
 * callers can `return husk_error_set(err, errno, "open %s", path);`. */
int husk_error_set(husk_error_t *err, int errno_value, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* For failures that are not a failed syscall: the message stands alone (no
 * strerror appended) but errnum is kept for callers that test it. Returns
 * -errnum. */
int husk_error_plain(husk_error_t *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Same as husk_error_set, from a va_list. */
int husk_error_setv(husk_error_t *err, int errno_value, const char *fmt, va_list ap);

/* Prefixes an existing error with context: "<context>: <old msg>".
 * Keeps errno_value. Returns the same value husk_error_set would. */
int husk_error_wrap(husk_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Frees *err and sets it to NULL. Safe on NULL / already-free. */
void husk_error_free(husk_error_t *err);

/* For __attribute__((cleanup)). */
#define cleanup_error __attribute__((cleanup(husk_error_free)))

#endif
