/* The generic writer: walks a model through its field tables into yajl_gen.
 * Fields are written in table order (the spec's order); absent fields are
 * left out. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "schema.h"

static int gen_check(yajl_gen_status s, const jpath *p, char **err)
{
    if (s == yajl_gen_status_ok)
        return 0;
    if (s == yajl_gen_invalid_string)
        return jr_fail(p, err, "invalid UTF-8 in string");
    return jr_fail(p, err, "JSON generator error %d", (int)s);
}

static int gen_string(yajl_gen g, const char *s, const jpath *p, char **err)
{
    if (s == NULL)
        return jr_fail(p, err, "string is NULL");
    return gen_check(yajl_gen_string(g, (const unsigned char *)s, strlen(s)), p, err);
}

static int gen_number_text(yajl_gen g, const char *buf, const jpath *p, char **err)
{
    return gen_check(yajl_gen_number(g, buf, strlen(buf)), p, err);
}

static int gen_int(yajl_gen g, const ocs_field *f, const void *obj, const jpath *p, char **err)
{
    char buf[32];
    switch (f->num) {
    case OCS_U64: snprintf(buf, sizeof(buf), "%" PRIu64, *OCS_CAT(obj, f->off, uint64_t)); break;
    case OCS_I64: snprintf(buf, sizeof(buf), "%" PRId64, *OCS_CAT(obj, f->off, int64_t)); break;
    case OCS_U32: snprintf(buf, sizeof(buf), "%" PRIu32, *OCS_CAT(obj, f->off, uint32_t)); break;
    case OCS_I32: snprintf(buf, sizeof(buf), "%" PRId32, *OCS_CAT(obj, f->off, int32_t)); break;
    case OCS_U16: snprintf(buf, sizeof(buf), "%" PRIu16, *OCS_CAT(obj, f->off, uint16_t)); break;
    case OCS_CINT: snprintf(buf, sizeof(buf), "%d", *OCS_CAT(obj, f->off, int)); break;
    default: return jr_fail(p, err, "internal error: unknown integer kind");
    }
    return gen_number_text(g, buf, p, err);
}

static bool field_present(const ocs_field *f, const void *obj)
{
    switch (f->kind) {
    case OCS_BOOL:
    case OCS_INT:
    case OCS_INLINE:
    case OCS_KEYED:
        return f->has_off == OCS_NO_OFF || *OCS_CAT(obj, f->has_off, bool);
    case OCS_GROUP:
        for (size_t i = 0; i < f->type->n_fields; i++)
            if (field_present(&f->type->fields[i], obj))
                return true;
        return false;
    default:
        return *OCS_CAT(obj, f->off, void *) != NULL;
    }
}

static int gen_strings(yajl_gen g, char *const *a, size_t n, const jpath *p, char **err)
{
    if (gen_check(yajl_gen_array_open(g), p, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        jpath ip = JPATH_IDX(p, i);
        if (gen_string(g, a[i], &ip, err) < 0)
            return -1;
    }
    return gen_check(yajl_gen_array_close(g), p, err);
}

static int gen_u32s(yajl_gen g, const uint32_t *a, size_t n, const jpath *p, char **err)
{
    if (gen_check(yajl_gen_array_open(g), p, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char buf[16];
        snprintf(buf, sizeof(buf), "%" PRIu32, a[i]);
        if (gen_number_text(g, buf, p, err) < 0)
            return -1;
    }
    return gen_check(yajl_gen_array_close(g), p, err);
}

static int gen_map(yajl_gen g, const ocispec_string_map *m, const jpath *p, char **err)
{
    if (gen_check(yajl_gen_map_open(g), p, err) < 0)
        return -1;
    for (size_t i = 0; i < m->len; i++) {
        if (gen_string(g, m->keys[i], p, err) < 0)
            return -1;
        jpath kp = JPATH_KEY(p, m->keys[i]);
        if (gen_string(g, m->values[i], &kp, err) < 0)
            return -1;
    }
    return gen_check(yajl_gen_map_close(g), p, err);
}

static int gen_sub_object(yajl_gen g, const ocs_type *t, const void *obj, const jpath *p, char **err)
{
    if (gen_check(yajl_gen_map_open(g), p, err) < 0)
        return -1;
    if (ocs_generate_object(g, t, obj, p, err) < 0)
        return -1;
    return gen_check(yajl_gen_map_close(g), p, err);
}

static int gen_array(yajl_gen g, const ocs_field *f, const void *obj, const jpath *p, char **err)
{
    const char *a = *OCS_CAT(obj, f->off, char *);
    size_t n = *OCS_CAT(obj, f->len_off, size_t);
    bool keyed = f->kind == OCS_KEYED;
    if (a == NULL && n > 0)
        return jr_fail(p, err, "%zu entries but no array", n);
    if (gen_check(keyed ? yajl_gen_map_open(g) : yajl_gen_array_open(g), p, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *elem = a + i * f->type->size;
        jpath ep = JPATH_IDX(p, i);
        if (keyed) {
            const char *key = *OCS_CAT(elem, f->type->key_off, char *);
            if (gen_string(g, key, &ep, err) < 0)
                return -1;
            ep = JPATH_KEY(p, key);
        }
        if (gen_sub_object(g, f->type, elem, &ep, err) < 0)
            return -1;
    }
    return gen_check(keyed ? yajl_gen_map_close(g) : yajl_gen_array_close(g), p, err);
}

static int gen_value(yajl_gen g, const ocs_field *f, const void *obj, const jpath *p, char **err)
{
    switch (f->kind) {
    case OCS_STRING:
        return gen_string(g, *OCS_CAT(obj, f->off, char *), p, err);
    case OCS_BOOL:
        return gen_check(yajl_gen_bool(g, *OCS_CAT(obj, f->off, bool)), p, err);
    case OCS_INT:
        return gen_int(g, f, obj, p, err);
    case OCS_STRINGS:
        return gen_strings(g, *OCS_CAT(obj, f->off, ocs_strv), *OCS_CAT(obj, f->len_off, size_t), p, err);
    case OCS_U32S:
        return gen_u32s(g, *OCS_CAT(obj, f->off, uint32_t *), *OCS_CAT(obj, f->len_off, size_t), p, err);
    case OCS_MAP:
        return gen_map(g, *OCS_CAT(obj, f->off, ocispec_string_map *), p, err);
    case OCS_OBJECT:
        return gen_sub_object(g, f->type, *OCS_CAT(obj, f->off, void *), p, err);
    case OCS_INLINE:
        return gen_sub_object(g, f->type, OCS_CAT(obj, f->off, char), p, err);
    case OCS_GROUP:
        return gen_sub_object(g, f->type, obj, p, err);
    case OCS_OBJECTS:
    case OCS_KEYED:
        return gen_array(g, f, obj, p, err);
    }
    return jr_fail(p, err, "internal error: unknown field kind");
}

int ocs_generate_object(yajl_gen g, const ocs_type *t, const void *obj, const jpath *p, char **err)
{
    for (size_t i = 0; i < t->n_fields; i++) {
        const ocs_field *f = &t->fields[i];
        jpath fp = JPATH_KEY(p, f->key);
        if (!field_present(f, obj)) {
            if (f->flags & OCS_REQUIRED)
                return jr_fail(&fp, err, "required field missing");
            continue;
        }
        if (gen_string(g, f->key, &fp, err) < 0 || gen_value(g, f, obj, &fp, err) < 0)
            return -1;
    }
    return 0;
}

static void gen_free(yajl_gen *g)
{
    if (*g)
        yajl_gen_free(*g);
}

char *ocs_generate_document(const ocs_type *t, const void *obj, bool pretty, char **err)
{
    if (err)
        *err = NULL;
    if (obj == NULL) {
        jr_fail(NULL, err, "nothing to generate");
        return NULL;
    }
    __attribute__((cleanup(gen_free))) yajl_gen g = yajl_gen_alloc(NULL);
    if (g == NULL) {
        jr_oom(err);
        return NULL;
    }
    yajl_gen_config(g, yajl_gen_validate_utf8, 1);
    if (pretty) {
        yajl_gen_config(g, yajl_gen_beautify, 1);
        yajl_gen_config(g, yajl_gen_indent_string, "\t");
    }
    if (gen_sub_object(g, t, obj, NULL, err) < 0)
        return NULL;
    const unsigned char *buf;
    size_t len;
    if (gen_check(yajl_gen_get_buf(g, &buf, &len), NULL, err) < 0)
        return NULL;
    char *out = strndup((const char *)buf, len);
    if (out == NULL)
        jr_oom(err);
    return out;
}
