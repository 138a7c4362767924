/* The generic release walker. It accepts half-read models: arrays are
 * published with zeroed elements before they are filled. */
#include "schema.h"

static void free_strings(char **a, size_t n)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(a[i]);
    free(a);
}

static void free_array(const ocs_field *f, void *obj)
{
    char *a = *OCS_AT(obj, f->off, char *);
    size_t n = *OCS_AT(obj, f->len_off, size_t);
    for (size_t i = 0; a && i < n; i++) {
        char *elem = a + i * f->type->size;
        ocs_free_object(f->type, elem);
        if (f->kind == OCS_KEYED)
            free(*OCS_AT(elem, f->type->key_off, char *));
    }
    free(a);
    *OCS_AT(obj, f->off, void *) = NULL;
    *OCS_AT(obj, f->len_off, size_t) = 0;
}

static void free_field(const ocs_field *f, void *obj)
{
    switch (f->kind) {
    case OCS_STRING:
        free(*OCS_AT(obj, f->off, char *));
        *OCS_AT(obj, f->off, char *) = NULL;
        break;
    case OCS_BOOL:
    case OCS_INT:
        break;
    case OCS_STRINGS:
        free_strings(*OCS_AT(obj, f->off, char **), *OCS_AT(obj, f->len_off, size_t));
        *OCS_AT(obj, f->off, char **) = NULL;
        *OCS_AT(obj, f->len_off, size_t) = 0;
        break;
    case OCS_U32S:
        free(*OCS_AT(obj, f->off, uint32_t *));
        *OCS_AT(obj, f->off, uint32_t *) = NULL;
        *OCS_AT(obj, f->len_off, size_t) = 0;
        break;
    case OCS_MAP:
        ocs_string_map_free(*OCS_AT(obj, f->off, ocispec_string_map *));
        *OCS_AT(obj, f->off, ocispec_string_map *) = NULL;
        break;
    case OCS_OBJECT: {
        void *sub = *OCS_AT(obj, f->off, void *);
        if (sub) {
            ocs_free_object(f->type, sub);
            free(sub);
        }
        *OCS_AT(obj, f->off, void *) = NULL;
        break;
    }
    case OCS_INLINE:
        ocs_free_object(f->type, OCS_AT(obj, f->off, char));
        break;
    case OCS_GROUP:
        ocs_free_object(f->type, obj);
        break;
    case OCS_OBJECTS:
    case OCS_KEYED:
        free_array(f, obj);
        break;
    }
    if (f->has_off != OCS_NO_OFF)
        *OCS_AT(obj, f->has_off, bool) = false;
}

void ocs_free_object(const ocs_type *t, void *obj)
{
    for (size_t i = 0; i < t->n_fields; i++)
        free_field(&t->fields[i], obj);
}

void ocs_free_document(const ocs_type *t, void *obj)
{
    if (obj == NULL)
        return;
    ocs_free_object(t, obj);
    free(obj);
}
