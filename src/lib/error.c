#define _GNU_SOURCE
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int error_return_value(int errno_value)
{
    return errno_value > 0 ? -errno_value : -1;
}

int husk_error_setv(husk_error_t *err, int errno_value, const char *fmt, va_list ap)
{
    if (err == NULL)
        return error_return_value(errno_value);

    char *text = NULL;
    if (vasprintf(&text, fmt, ap) < 0)
        text = NULL;

    char *msg = NULL;
    if (text != NULL && errno_value > 0) {
        if (asprintf(&msg, "%s: %s", text, strerror(errno_value)) < 0)
            msg = NULL;
        free(text);
    } else {
        msg = text;
    }

    husk_error_free(err);
    struct husk_error *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        free(msg);
        return error_return_value(errno_value);
    }
    e->errno_value = errno_value;
    e->msg = msg != NULL ? msg : strdup("out of memory while reporting an error");
    *err = e;
    return error_return_value(errno_value);
}

int husk_error_set(husk_error_t *err, int errno_value, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int ret = husk_error_setv(err, errno_value, fmt, ap);
    va_end(ap);
    return ret;
}

int husk_error_plain(husk_error_t *err, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    husk_error_setv(err, 0, fmt, ap);
    va_end(ap);
    if (err != NULL && *err != NULL)
        (*err)->errno_value = errnum;
    return errnum > 0 ? -errnum : -1;
}

int husk_error_wrap(husk_error_t *err, const char *fmt, ...)
{
    if (err == NULL || *err == NULL)
        return -1;

    char *context = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&context, fmt, ap) < 0)
        context = NULL;
    va_end(ap);

    struct husk_error *e = *err;
    char *msg = NULL;
    if (context != NULL && asprintf(&msg, "%s: %s", context, e->msg ? e->msg : "") >= 0) {
        free(e->msg);
        e->msg = msg;
    }
    free(context);
    return error_return_value(e->errno_value);
}

void husk_error_free(husk_error_t *err)
{
    if (err == NULL || *err == NULL)
        return;
    free((*err)->msg);
    free(*err);
    *err = NULL;
}
