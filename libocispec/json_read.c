/* Reading the yajl tree: type checks, integers from their own text, string
 * arrays and maps, and error messages that carry the JSON path. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "json_read.h"

/* Keys that read well after a dot; anything else (annotation keys with dots,
 * sysctl names) is quoted so the path stays unambiguous. */
static bool key_is_plain(const char *k)
{
    if (*k == '\0')
        return false;
    for (; *k; k++) {
        char c = *k;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

static void path_print(FILE *f, const jpath *p)
{
    if (p == NULL)
        return;
    path_print(f, p->up);
    if (p->key == NULL)
        fprintf(f, "[%zu]", p->index);
    else if (!key_is_plain(p->key))
        fprintf(f, "[\"%s\"]", p->key);
    else
        fprintf(f, "%s%s", p->up ? "." : "", p->key);
}

int jr_oom(char **err)
{
    if (err) {
        free(*err);
        *err = strdup("out of memory");
    }
    errno = ENOMEM;
    return -1;
}

/* Messages quote keys and values from the document, which may hold
 * newlines or other control bytes; they are written as JSON escapes so a
 * message always stays on one line. */
static char *escape_controls(char *msg)
{
    size_t extra = 0;
    for (const unsigned char *c = (const unsigned char *)msg; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            extra += 5;
    if (extra == 0)
        return msg;
    char *out = malloc(strlen(msg) + extra + 1);
    if (out == NULL)
        return msg; /* still a message, if not a tidy one */
    char *o = out;
    for (const unsigned char *c = (const unsigned char *)msg; *c; c++) {
        if (*c == '\n')
            o += sprintf(o, "\\n");
        else if (*c == '\t')
            o += sprintf(o, "\\t");
        else if (*c < 0x20 || *c == 0x7f)
            o += sprintf(o, "\\u%04x", *c);
        else
            *o++ = (char)*c;
    }
    *o = '\0';
    free(msg);
    return out;
}

int jr_fail(const jpath *p, char **err, const char *fmt, ...)
{
    errno = EINVAL;
    if (err == NULL)
        return -1;
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (f == NULL)
        return jr_oom(err);
    if (p) {
        path_print(f, p);
        fputs(": ", f);
    }
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    if (fclose(f) != 0) {
        free(buf);
        return jr_oom(err);
    }
    free(*err);
    *err = escape_controls(buf);
    errno = EINVAL;
    return -1;
}

static bool number_is_integer_text(const char *r)
{
    if (*r == '-')
        r++;
    if (*r == '\0')
        return false;
    for (; *r; r++)
        if (*r < '0' || *r > '9')
            return false;
    return true;
}

const char *jr_type_name(yajl_val v)
{
    if (v == NULL)
        return "nothing";
    switch (v->type) {
    case yajl_t_string: return "string";
    case yajl_t_number: return number_is_integer_text(v->u.number.r) ? "integer" : "number";
    case yajl_t_object: return "object";
    case yajl_t_array: return "array";
    case yajl_t_true:
    case yajl_t_false: return "boolean";
    case yajl_t_null: return "null";
    default: return "unknown";
    }
}

int jr_expected(const jpath *p, const char *want, yajl_val v, char **err)
{
    return jr_fail(p, err, "expected %s, got %s", want, jr_type_name(v));
}

/* yajl_tree mallocs every string and key and releases them with free(),
 * skipping NULLs; the model takes them over instead of copying them, which
 * saves a malloc, a copy and a free per string on the container start path.
 * Each tree value is read once, so nothing reads a string after it left. */
static char *take_string(yajl_val v)
{
    char *s = v->u.string;
    v->u.string = NULL;
    return s;
}

static char *take_key(yajl_val obj, size_t i)
{
    char *k = (char *)obj->u.object.keys[i];
    obj->u.object.keys[i] = NULL;
    return k;
}

int jr_string(yajl_val v, const jpath *p, char **out, char **err)
{
    if (!YAJL_IS_STRING(v))
        return jr_expected(p, "string", v, err);
    if (v->u.string == NULL)
        return jr_fail(p, err, "internal error: string read twice");
    free(*out);
    *out = take_string(v);
    return 0;
}

char *jr_take_key(yajl_val obj, size_t i)
{
    return take_key(obj, i);
}

int jr_bool(yajl_val v, const jpath *p, bool *out, char **err)
{
    if (YAJL_IS_TRUE(v))
        *out = true;
    else if (YAJL_IS_FALSE(v))
        *out = false;
    else
        return jr_expected(p, "boolean", v, err);
    return 0;
}

/* The raw text is what the document said; it is cut short in messages so a
 * megabyte of digits does not become a megabyte of error. */
static int out_of_range(const jpath *p, const char *raw, const char *tname, char **err)
{
    return jr_fail(p, err, "%.40s%s out of range for %s", raw, strlen(raw) > 40 ? "..." : "", tname);
}

static const char *integer_text(yajl_val v, const jpath *p, char **err)
{
    if (!YAJL_IS_NUMBER(v) || !number_is_integer_text(v->u.number.r)) {
        jr_expected(p, "integer", v, err);
        return NULL;
    }
    return v->u.number.r;
}

int jr_uint(yajl_val v, const jpath *p, uint64_t max, const char *tname, uint64_t *out, char **err)
{
    const char *r = integer_text(v, p, err);
    if (r == NULL)
        return -1;
    if (*r == '-') {
        /* "-0" is still zero; every other negative is out of range. */
        if (strspn(r + 1, "0") != strlen(r + 1))
            return out_of_range(p, r, tname, err);
        *out = 0;
        return 0;
    }
    errno = 0;
    unsigned long long n = strtoull(r, NULL, 10);
    if (errno == ERANGE || n > max)
        return out_of_range(p, r, tname, err);
    *out = n;
    return 0;
}

int jr_int(yajl_val v, const jpath *p, int64_t min, int64_t max, const char *tname, int64_t *out,
           char **err)
{
    const char *r = integer_text(v, p, err);
    if (r == NULL)
        return -1;
    errno = 0;
    long long n = strtoll(r, NULL, 10);
    if (errno == ERANGE || n < min || n > max)
        return out_of_range(p, r, tname, err);
    *out = n;
    return 0;
}

int jr_strings(yajl_val v, const jpath *p, char ***out, size_t *len, char **err)
{
    if (!YAJL_IS_ARRAY(v))
        return jr_expected(p, "array", v, err);
    size_t n = v->u.array.len;
    char **a = calloc(n + 1, sizeof(*a));
    if (a == NULL)
        return jr_oom(err);
    *out = a;
    *len = n;
    for (size_t i = 0; i < n; i++) {
        jpath ip = JPATH_IDX(p, i);
        if (jr_string(v->u.array.values[i], &ip, &a[i], err) < 0)
            return -1;
    }
    return 0;
}

int jr_u32s(yajl_val v, const jpath *p, uint32_t **out, size_t *len, char **err)
{
    if (!YAJL_IS_ARRAY(v))
        return jr_expected(p, "array", v, err);
    size_t n = v->u.array.len;
    /* one spare element so a present empty array is still non-NULL */
    uint32_t *a = calloc(n + 1, sizeof(*a));
    if (a == NULL)
        return jr_oom(err);
    *out = a;
    *len = n;
    for (size_t i = 0; i < n; i++) {
        jpath ip = JPATH_IDX(p, i);
        uint64_t x;
        if (jr_uint(v->u.array.values[i], &ip, UINT32_MAX, "uint32", &x, err) < 0)
            return -1;
        a[i] = (uint32_t)x;
    }
    return 0;
}

void ocs_string_map_free(ocispec_string_map *map)
{
    if (map == NULL)
        return;
    for (size_t i = 0; i < map->len; i++) {
        free(map->keys[i]);
        free(map->values[i]);
    }
    free(map->keys);
    free(map->values);
    free(map);
}

int jr_string_map(yajl_val v, const jpath *p, ocispec_string_map **out, char **err)
{
    if (!YAJL_IS_OBJECT(v))
        return jr_expected(p, "object", v, err);
    size_t n = v->u.object.len;
    ocispec_string_map *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return jr_oom(err);
    *out = m;
    m->keys = calloc(n + 1, sizeof(char *));
    m->values = calloc(n + 1, sizeof(char *));
    if (m->keys == NULL || m->values == NULL)
        return jr_oom(err);
    m->len = n;
    for (size_t i = 0; i < n; i++) {
        jpath kp = JPATH_KEY(p, v->u.object.keys[i]);
        if (jr_string(v->u.object.values[i], &kp, &m->values[i], err) < 0)
            return -1;
        m->keys[i] = take_key(v, i);
    }
    return 0;
}

/* Counts bracket depth outside strings; a quick pass that keeps deeply
 * nested input away from yajl's recursive tree free. The table lets the
 * loop skip ordinary bytes without testing each one six times. */
static const unsigned char structural[256] = {
    ['"'] = 1, ['\\'] = 1, ['['] = 1, [']'] = 1, ['{'] = 1, ['}'] = 1,
};

static bool nesting_too_deep(const char *s, size_t len)
{
    size_t depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        while (i < len && !structural[(unsigned char)s[i]])
            i++;
        if (i == len)
            break;
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > OCS_MAX_DEPTH)
                return true;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return false;
}

/* yajl's verbose message spans lines (a quote of the input and a caret);
 * only the first line is the reason. */
static void first_line(char *s)
{
    s[strcspn(s, "\r\n")] = '\0';
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '.'))
        s[--n] = '\0';
}

/* text[len] must be '\0' (yajl_tree_parse reads up to the NUL). */
static yajl_val parse_terminated(const char *text, size_t len, char **err)
{
    const char *nul = memchr(text, '\0', len);
    if (nul != NULL) {
        jr_fail(NULL, err, "invalid JSON: NUL byte at offset %zu", (size_t)(nul - text));
        return NULL;
    }
    if (nesting_too_deep(text, len)) {
        jr_fail(NULL, err, "invalid JSON: nested deeper than %d levels", OCS_MAX_DEPTH);
        return NULL;
    }
    char msg[512] = "";
    yajl_val tree = yajl_tree_parse(text, msg, sizeof(msg));
    if (tree == NULL) {
        first_line(msg);
        jr_fail(NULL, err, "invalid JSON: %s", msg[0] ? msg : "parse error");
    }
    return tree;
}

yajl_val jr_parse_tree(const char *json, size_t len, char **err)
{
    if (json == NULL) {
        jr_fail(NULL, err, "invalid JSON: no input");
        return NULL;
    }
    /* the caller's text need not be NUL-terminated */
    ocs_cleanup_free char *copy = malloc(len + 1);
    if (copy == NULL) {
        jr_oom(err);
        return NULL;
    }
    memcpy(copy, json, len);
    copy[len] = '\0';
    return parse_terminated(copy, len, err);
}

yajl_val jr_parse_tree_terminated(const char *text, size_t len, char **err)
{
    return parse_terminated(text, len, err);
}

void jr_prefix_error(const char *prefix, char **err)
{
    if (err == NULL || *err == NULL)
        return;
    char *s = NULL;
    int saved = errno;
    if (asprintf(&s, "%s: %s", prefix, *err) >= 0) {
        free(*err);
        *err = s;
    }
    errno = saved;
}

#define OCS_MAX_FILE (64 << 20)

int jr_read_file(const char *path, char **data, size_t *len, char **err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int saved = errno;
        jr_fail(NULL, err, "%s: %s", path, strerror(saved));
        errno = saved;
        return -1;
    }
    size_t cap = 16384, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            /* a config is kilobytes: something endless (/dev/zero) is refused */
            if (cap >= OCS_MAX_FILE) {
                free(buf);
                close(fd);
                jr_fail(NULL, err, "%s: larger than %d MiB", path, OCS_MAX_FILE >> 20);
                errno = EFBIG;
                return -1;
            }
            char *nb = realloc(buf, cap *= 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int saved = errno;
            free(buf);
            close(fd);
            jr_fail(NULL, err, "%s: read: %s", path, strerror(saved));
            errno = saved;
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (buf == NULL)
        return jr_oom(err);
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}
