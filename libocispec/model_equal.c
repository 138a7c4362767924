/* The generic deep comparison: order matters in arrays and maps, and an
 * absent value differs from a present zero or a present empty array. */
#include <string.h>

#include "schema.h"

static bool str_equal(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

static bool strings_equal(char *const *a, size_t na, char *const *b, size_t nb)
{
    if (a == NULL || b == NULL)
        return a == b;
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (!str_equal(a[i], b[i]))
            return false;
    return true;
}

static bool map_equal(const ocispec_string_map *a, const ocispec_string_map *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strings_equal(a->keys, a->len, b->keys, b->len) &&
           strings_equal(a->values, a->len, b->values, b->len);
}

static bool int_equal(const ocs_field *f, const void *a, const void *b)
{
    switch (f->num) {
    case OCS_U64: return *OCS_CAT(a, f->off, uint64_t) == *OCS_CAT(b, f->off, uint64_t);
    case OCS_I64: return *OCS_CAT(a, f->off, int64_t) == *OCS_CAT(b, f->off, int64_t);
    case OCS_U32: return *OCS_CAT(a, f->off, uint32_t) == *OCS_CAT(b, f->off, uint32_t);
    case OCS_I32: return *OCS_CAT(a, f->off, int32_t) == *OCS_CAT(b, f->off, int32_t);
    case OCS_U16: return *OCS_CAT(a, f->off, uint16_t) == *OCS_CAT(b, f->off, uint16_t);
    case OCS_CINT: return *OCS_CAT(a, f->off, int) == *OCS_CAT(b, f->off, int);
    }
    return false;
}

static bool array_equal(const ocs_field *f, const void *a, const void *b)
{
    const char *pa = *OCS_CAT(a, f->off, char *);
    const char *pb = *OCS_CAT(b, f->off, char *);
    size_t n = *OCS_CAT(a, f->len_off, size_t);
    if (n != *OCS_CAT(b, f->len_off, size_t))
        return false;
    if (f->kind == OCS_OBJECTS && (pa == NULL || pb == NULL))
        return pa == pb;
    for (size_t i = 0; i < n; i++) {
        const char *ea = pa + i * f->type->size, *eb = pb + i * f->type->size;
        if (f->kind == OCS_KEYED &&
            !str_equal(*OCS_CAT(ea, f->type->key_off, char *), *OCS_CAT(eb, f->type->key_off, char *)))
            return false;
        if (!ocs_equal_object(f->type, ea, eb))
            return false;
    }
    return true;
}

static bool field_equal(const ocs_field *f, const void *a, const void *b)
{
    if (f->has_off != OCS_NO_OFF) {
        bool ha = *OCS_CAT(a, f->has_off, bool), hb = *OCS_CAT(b, f->has_off, bool);
        if (ha != hb)
            return false;
        if (!ha)
            return true;
    }
    switch (f->kind) {
    case OCS_STRING:
        return str_equal(*OCS_CAT(a, f->off, char *), *OCS_CAT(b, f->off, char *));
    case OCS_BOOL:
        return *OCS_CAT(a, f->off, bool) == *OCS_CAT(b, f->off, bool);
    case OCS_INT:
        return int_equal(f, a, b);
    case OCS_STRINGS:
        return strings_equal(*OCS_CAT(a, f->off, ocs_strv), *OCS_CAT(a, f->len_off, size_t),
                             *OCS_CAT(b, f->off, ocs_strv), *OCS_CAT(b, f->len_off, size_t));
    case OCS_U32S: {
        const uint32_t *pa = *OCS_CAT(a, f->off, uint32_t *), *pb = *OCS_CAT(b, f->off, uint32_t *);
        size_t n = *OCS_CAT(a, f->len_off, size_t);
        if (pa == NULL || pb == NULL)
            return pa == pb;
        return n == *OCS_CAT(b, f->len_off, size_t) && (n == 0 || memcmp(pa, pb, n * sizeof(*pa)) == 0);
    }
    case OCS_MAP:
        return map_equal(*OCS_CAT(a, f->off, ocispec_string_map *), *OCS_CAT(b, f->off, ocispec_string_map *));
    case OCS_OBJECT: {
        const void *sa = *OCS_CAT(a, f->off, void *), *sb = *OCS_CAT(b, f->off, void *);
        if (sa == NULL || sb == NULL)
            return sa == sb;
        return ocs_equal_object(f->type, sa, sb);
    }
    case OCS_INLINE:
        return ocs_equal_object(f->type, OCS_CAT(a, f->off, char), OCS_CAT(b, f->off, char));
    case OCS_GROUP:
        return ocs_equal_object(f->type, a, b);
    case OCS_OBJECTS:
    case OCS_KEYED:
        return array_equal(f, a, b);
    }
    return false;
}

bool ocs_equal_object(const ocs_type *t, const void *a, const void *b)
{
    for (size_t i = 0; i < t->n_fields; i++)
        if (!field_equal(&t->fields[i], a, b))
            return false;
    return true;
}

bool ocs_equal_document(const ocs_type *t, const void *a, const void *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return ocs_equal_object(t, a, b);
}
