/* The generic reader: one pass over the yajl tree, driven by the field
 * tables of schema_*.c. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "schema.h"

static void set_has(const ocs_field *f, void *obj, bool has)
{
    if (f->has_off != OCS_NO_OFF)
        *OCS_AT(obj, f->has_off, bool) = has;
}

static int parse_int(const ocs_field *f, yajl_val v, const jpath *p, void *obj, char **err)
{
    uint64_t u;
    int64_t s;
    switch (f->num) {
    case OCS_U64:
        if (jr_uint(v, p, UINT64_MAX, "uint64", &u, err) < 0)
            return -1;
        *OCS_AT(obj, f->off, uint64_t) = u;
        return 0;
    case OCS_U32:
        if (jr_uint(v, p, UINT32_MAX, "uint32", &u, err) < 0)
            return -1;
        *OCS_AT(obj, f->off, uint32_t) = (uint32_t)u;
        return 0;
    case OCS_U16:
        if (jr_uint(v, p, UINT16_MAX, "uint16", &u, err) < 0)
            return -1;
        *OCS_AT(obj, f->off, uint16_t) = (uint16_t)u;
        return 0;
    case OCS_I64:
        if (jr_int(v, p, INT64_MIN, INT64_MAX, "int64", &s, err) < 0)
            return -1;
        *OCS_AT(obj, f->off, int64_t) = s;
        return 0;
    case OCS_I32:
        if (jr_int(v, p, INT32_MIN, INT32_MAX, "int32", &s, err) < 0)
            return -1;
        *OCS_AT(obj, f->off, int32_t) = (int32_t)s;
        return 0;
    case OCS_CINT:
        if (jr_int(v, p, INT_MIN, INT_MAX, "int", &s, err) < 0)
            return -1;
        *OCS_AT(obj, f->off, int) = (int)s;
        return 0;
    }
    return jr_fail(p, err, "internal error: unknown integer kind");
}

/* Arrays are published (pointer and length) before their elements are read,
 * so a failure half way leaves a model the free walker can release. */
static int parse_objects(const ocs_field *f, yajl_val v, const jpath *p, void *obj, char **err)
{
    if (!YAJL_IS_ARRAY(v))
        return jr_expected(p, "array", v, err);
    size_t n = v->u.array.len;
    char *a = calloc(n ? n : 1, f->type->size);
    if (a == NULL)
        return jr_oom(err);
    *OCS_AT(obj, f->off, void *) = a;
    *OCS_AT(obj, f->len_off, size_t) = n;
    for (size_t i = 0; i < n; i++) {
        jpath ip = JPATH_IDX(p, i);
        if (ocs_parse_object(f->type, v->u.array.values[i], &ip, a + i * f->type->size, err) < 0)
            return -1;
    }
    return 0;
}

static int parse_keyed(const ocs_field *f, yajl_val v, const jpath *p, void *obj, char **err)
{
    if (!YAJL_IS_OBJECT(v))
        return jr_expected(p, "object", v, err);
    size_t n = v->u.object.len;
    char *a = calloc(n ? n : 1, f->type->size);
    if (a == NULL)
        return jr_oom(err);
    *OCS_AT(obj, f->off, void *) = a;
    *OCS_AT(obj, f->len_off, size_t) = n;
    set_has(f, obj, true);
    for (size_t i = 0; i < n; i++) {
        char *elem = a + i * f->type->size;
        /* the key now belongs to the model, which outlives any message */
        char *key = jr_take_key(v, i);
        *OCS_AT(elem, f->type->key_off, char *) = key;
        jpath kp = JPATH_KEY(p, key);
        if (ocs_parse_object(f->type, v->u.object.values[i], &kp, elem, err) < 0)
            return -1;
    }
    return 0;
}

static int parse_field(const ocs_field *f, yajl_val v, const jpath *p, void *obj, char **err)
{
    switch (f->kind) {
    case OCS_STRING:
        return jr_string(v, p, OCS_AT(obj, f->off, char *), err);
    case OCS_BOOL:
        if (jr_bool(v, p, OCS_AT(obj, f->off, bool), err) < 0)
            return -1;
        set_has(f, obj, true);
        return 0;
    case OCS_INT:
        if (parse_int(f, v, p, obj, err) < 0)
            return -1;
        set_has(f, obj, true);
        return 0;
    case OCS_STRINGS:
        return jr_strings(v, p, OCS_AT(obj, f->off, char **), OCS_AT(obj, f->len_off, size_t), err);
    case OCS_U32S:
        return jr_u32s(v, p, OCS_AT(obj, f->off, uint32_t *), OCS_AT(obj, f->len_off, size_t), err);
    case OCS_MAP:
        return jr_string_map(v, p, OCS_AT(obj, f->off, ocispec_string_map *), err);
    case OCS_OBJECT: {
        if (!YAJL_IS_OBJECT(v))
            return jr_expected(p, "object", v, err);
        void *sub = calloc(1, f->type->size);
        if (sub == NULL)
            return jr_oom(err);
        *OCS_AT(obj, f->off, void *) = sub;
        return ocs_parse_object(f->type, v, p, sub, err);
    }
    case OCS_INLINE:
        set_has(f, obj, true);
        return ocs_parse_object(f->type, v, p, OCS_AT(obj, f->off, char), err);
    case OCS_GROUP:
        return ocs_parse_object(f->type, v, p, obj, err);
    case OCS_OBJECTS:
        return parse_objects(f, v, p, obj, err);
    case OCS_KEYED:
        return parse_keyed(f, v, p, obj, err);
    }
    return jr_fail(p, err, "internal error: unknown field kind");
}

/* Frees what one field holds, so a key given twice keeps its last value
 * (as encoding/json does) without leaking the first. */
static void clear_field(const ocs_field *f, void *obj)
{
    ocs_field one[1] = { *f };
    const ocs_type single = { .size = 0, .fields = one, .n_fields = 1, .key_off = OCS_NO_OFF };
    ocs_free_object(&single, obj);
}

static const ocs_field *find_field(const ocs_type *t, const char *key, size_t *idx)
{
    for (size_t i = 0; i < t->n_fields; i++) {
        if (strcmp(t->fields[i].key, key) == 0) {
            *idx = i;
            return &t->fields[i];
        }
    }
    return NULL;
}

int ocs_parse_object(const ocs_type *t, yajl_val v, const jpath *p, void *obj, char **err)
{
    if (!YAJL_IS_OBJECT(v))
        return jr_expected(p, "object", v, err);
    uint64_t seen = 0;
    for (size_t i = 0; i < v->u.object.len; i++) {
        size_t idx;
        const ocs_field *f = find_field(t, v->u.object.keys[i], &idx);
        if (f == NULL)
            continue; /* the spec requires unknown properties to be ignored */
        yajl_val fv = v->u.object.values[i];
        if (seen & (1ull << idx))
            clear_field(f, obj);
        seen &= ~(1ull << idx);
        /* null reads as absent, as it does for Go's omitempty clients */
        if (YAJL_IS_NULL(fv))
            continue;
        jpath fp = JPATH_KEY(p, f->key);
        if (parse_field(f, fv, &fp, obj, err) < 0)
            return -1;
        seen |= 1ull << idx;
    }
    for (size_t i = 0; i < t->n_fields; i++) {
        if ((t->fields[i].flags & OCS_REQUIRED) && !(seen & (1ull << i))) {
            jpath fp = JPATH_KEY(p, t->fields[i].key);
            return jr_fail(&fp, err, "required field missing");
        }
    }
    return t->check ? t->check(obj, p, err) : 0;
}

static void *parse_tree(const ocs_type *t, yajl_val tree, char **err)
{
    void *obj = calloc(1, t->size);
    if (obj == NULL) {
        jr_oom(err);
        return NULL;
    }
    if (ocs_parse_object(t, tree, NULL, obj, err) < 0) {
        int saved = errno;
        ocs_free_document(t, obj);
        errno = saved;
        return NULL;
    }
    return obj;
}

void *ocs_parse_document(const ocs_type *t, const char *json, size_t len, char **err)
{
    if (err)
        *err = NULL;
    ocs_cleanup_tree yajl_val tree = jr_parse_tree(json, len, err);
    return tree ? parse_tree(t, tree, err) : NULL;
}

void *ocs_parse_document_file(const ocs_type *t, const char *path, char **err)
{
    if (err)
        *err = NULL;
    ocs_cleanup_free char *data = NULL;
    size_t len = 0;
    if (jr_read_file(path, &data, &len, err) < 0)
        return NULL;
    ocs_cleanup_tree yajl_val tree = jr_parse_tree_terminated(data, len, err);
    void *obj = tree ? parse_tree(t, tree, err) : NULL;
    if (obj == NULL)
        jr_prefix_error(path, err);
    return obj;
}
