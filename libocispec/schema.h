/* libocispec internals: each model struct is described once, as a table of
 * its JSON fields, and one generic walker parses, generates, frees and
 * compares every struct from that table. Adding a field to the spec model is
 * one line in a table. */
#ifndef OCISPEC_SCHEMA_H
#define OCISPEC_SCHEMA_H

#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>

#include "json_read.h"

enum ocs_kind {
    OCS_STRING,  /* char * */
    OCS_BOOL,    /* bool */
    OCS_INT,     /* an integer; width and sign in .num */
    OCS_STRINGS, /* char ** + size_t _len, NULL-terminated */
    OCS_U32S,    /* uint32_t * + size_t _len */
    OCS_MAP,     /* ocispec_string_map * */
    OCS_OBJECT,  /* pointer to a struct described by .type */
    OCS_INLINE,  /* struct embedded in the parent, with bool has_x */
    OCS_GROUP,   /* JSON sub-object whose fields are flattened into the parent */
    OCS_OBJECTS, /* array of structs + size_t _len */
    OCS_KEYED,   /* JSON object of objects, kept as an array of structs in
                    document order; the key goes to .type->key_off */
};

enum ocs_num { OCS_U64, OCS_I64, OCS_U32, OCS_I32, OCS_U16, OCS_CINT };

#define OCS_REQUIRED 1u
#define OCS_NO_OFF SIZE_MAX

typedef struct ocs_type ocs_type;

typedef struct {
    const char *key;
    uint8_t kind;
    uint8_t num;
    uint8_t flags;
    size_t off;
    size_t has_off; /* bool has_x, or OCS_NO_OFF when the field has none */
    size_t len_off; /* size_t x_len for arrays */
    const ocs_type *type;
} ocs_field;

/* Cross-field rules (duplicates, conditionally required fields) run after
 * an object is read; p is the object's path. */
typedef int (*ocs_check_fn)(const void *obj, const jpath *p, char **err);

struct ocs_type {
    size_t size;
    const ocs_field *fields;
    size_t n_fields; /* at most 64: required fields are tracked in a bitmask */
    size_t key_off;  /* OCS_KEYED element: char * receiving the JSON key */
    ocs_check_fn check;
};

#define OCS_FIELD(k, kd, nm, fl, o, h, l, t) \
    { .key = (k), .kind = (kd), .num = (nm), .flags = (fl), .off = (o), .has_off = (h), .len_off = (l), .type = (t) }

#define F_STR(k, T, m)        OCS_FIELD(k, OCS_STRING, 0, 0, offsetof(T, m), OCS_NO_OFF, OCS_NO_OFF, NULL)
#define F_STR_REQ(k, T, m)    OCS_FIELD(k, OCS_STRING, 0, OCS_REQUIRED, offsetof(T, m), OCS_NO_OFF, OCS_NO_OFF, NULL)
#define F_BOOL(k, T, m)       OCS_FIELD(k, OCS_BOOL, 0, 0, offsetof(T, m), offsetof(T, has_##m), OCS_NO_OFF, NULL)
#define F_BOOL_REQ(k, T, m)   OCS_FIELD(k, OCS_BOOL, 0, OCS_REQUIRED, offsetof(T, m), OCS_NO_OFF, OCS_NO_OFF, NULL)
#define F_NUM(k, T, m, n)     OCS_FIELD(k, OCS_INT, n, 0, offsetof(T, m), offsetof(T, has_##m), OCS_NO_OFF, NULL)
#define F_NUM_REQ(k, T, m, n) OCS_FIELD(k, OCS_INT, n, OCS_REQUIRED, offsetof(T, m), OCS_NO_OFF, OCS_NO_OFF, NULL)
#define F_STRS(k, T, m)       OCS_FIELD(k, OCS_STRINGS, 0, 0, offsetof(T, m), OCS_NO_OFF, offsetof(T, m##_len), NULL)
#define F_STRS_REQ(k, T, m)   OCS_FIELD(k, OCS_STRINGS, 0, OCS_REQUIRED, offsetof(T, m), OCS_NO_OFF, offsetof(T, m##_len), NULL)
#define F_U32S(k, T, m)       OCS_FIELD(k, OCS_U32S, 0, 0, offsetof(T, m), OCS_NO_OFF, offsetof(T, m##_len), NULL)
#define F_MAP(k, T, m)        OCS_FIELD(k, OCS_MAP, 0, 0, offsetof(T, m), OCS_NO_OFF, OCS_NO_OFF, NULL)
#define F_OBJ(k, T, m, ty)    OCS_FIELD(k, OCS_OBJECT, 0, 0, offsetof(T, m), OCS_NO_OFF, OCS_NO_OFF, &(ty))
#define F_INLINE(k, T, m, ty) OCS_FIELD(k, OCS_INLINE, 0, 0, offsetof(T, m), offsetof(T, has_##m), OCS_NO_OFF, &(ty))
#define F_GROUP(k, ty)        OCS_FIELD(k, OCS_GROUP, 0, 0, 0, OCS_NO_OFF, OCS_NO_OFF, &(ty))
#define F_OBJS(k, T, m, ty)   OCS_FIELD(k, OCS_OBJECTS, 0, 0, offsetof(T, m), OCS_NO_OFF, offsetof(T, m##_len), &(ty))
#define F_KEYED(k, T, m, ty)  OCS_FIELD(k, OCS_KEYED, 0, 0, offsetof(T, m), offsetof(T, has_##m), offsetof(T, m##_len), &(ty))

#define OCS_NFIELDS(a) (sizeof(a) / sizeof((a)[0]))
/* The parser tracks seen fields in a uint64_t: a table longer than 64 fails
 * to compile (negative array size). */
#define OCS_NFIELDS_CHECKED(a) (OCS_NFIELDS(a) + 0 * sizeof(char[OCS_NFIELDS(a) <= 64 ? 1 : -1]))
#define OCS_TYPE(name, T, flds, chk) \
    const ocs_type name = { .size = sizeof(T), .fields = flds, .n_fields = OCS_NFIELDS_CHECKED(flds), \
                            .key_off = OCS_NO_OFF, .check = chk }
#define OCS_KEYED_TYPE(name, T, keym, flds) \
    const ocs_type name = { .size = sizeof(T), .fields = flds, .n_fields = OCS_NFIELDS_CHECKED(flds), \
                            .key_off = offsetof(T, keym), .check = NULL }

/* The walkers (model_*.c). obj points to a struct of type t. */
int ocs_parse_object(const ocs_type *t, yajl_val v, const jpath *p, void *obj, char **err);
int ocs_generate_object(yajl_gen g, const ocs_type *t, const void *obj, const jpath *p, char **err);
void ocs_free_object(const ocs_type *t, void *obj); /* frees what obj holds, not obj */
bool ocs_equal_object(const ocs_type *t, const void *a, const void *b);

/* Whole documents: parse text into a calloc'd struct of type t, or return a
 * generated text. */
void *ocs_parse_document(const ocs_type *t, const char *json, size_t len, char **err);
void *ocs_parse_document_file(const ocs_type *t, const char *path, char **err);
char *ocs_generate_document(const ocs_type *t, const void *obj, bool pretty, char **err);
void ocs_free_document(const ocs_type *t, void *obj);
bool ocs_equal_document(const ocs_type *t, const void *a, const void *b);

extern const ocs_type ocs_config_type;
extern const ocs_type ocs_process_type;
extern const ocs_type ocs_state_type;
extern const ocs_type ocs_features_type;

/* field accessors; T must be a single type name (hence ocs_strv) */
typedef char **ocs_strv;
#define OCS_AT(obj, off, T) ((T *)((char *)(obj) + (off)))
#define OCS_CAT(obj, off, T) ((const T *)((const char *)(obj) + (off)))

#endif
