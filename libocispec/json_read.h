/* libocispec internals: reading a yajl tree with the JSON path tracked, so
 * every error names where in the document it happened. */
#ifndef OCISPEC_JSON_READ_H
#define OCISPEC_JSON_READ_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <yajl/yajl_tree.h>

#include "ocispec.h"

/* A path lives on the stack of the walker: each level points to its parent,
 * and the text is only built when an error is reported. key == NULL means
 * an array index. */
typedef struct jpath {
    const struct jpath *up;
    const char *key;
    size_t index;
} jpath;

#define JPATH_KEY(parent, k) ((jpath){ .up = (parent), .key = (k), .index = 0 })
#define JPATH_IDX(parent, i) ((jpath){ .up = (parent), .key = NULL, .index = (i) })

/* The deepest nesting accepted: yajl frees its tree recursively, so a
 * hostile "[[[[..." must be refused before it reaches yajl. */
#define OCS_MAX_DEPTH 128

static inline void ocs_free_ptr(void *pp) { free(*(void **)pp); }
static inline void ocs_free_tree(yajl_val *v) { yajl_tree_free(*v); }
#define ocs_cleanup_free __attribute__((cleanup(ocs_free_ptr)))
#define ocs_cleanup_tree __attribute__((cleanup(ocs_free_tree)))

/* Sets *err (when err != NULL) to "<path>: <message>" (just the message at
 * the top level) and returns -1. */
int jr_fail(const jpath *p, char **err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int jr_oom(char **err);
/* "expected <want>, got <type of v>" */
int jr_expected(const jpath *p, const char *want, yajl_val v, char **err);
const char *jr_type_name(yajl_val v);

int jr_string(yajl_val v, const jpath *p, char **out, char **err);
/* Hands key i of an object over to the caller (see json_read.c). */
char *jr_take_key(yajl_val obj, size_t i);
int jr_bool(yajl_val v, const jpath *p, bool *out, char **err);
/* Integers are read from the number's own text, so the full uint64/int64
 * ranges survive; tname names the C type in range errors ("uint32"). */
int jr_uint(yajl_val v, const jpath *p, uint64_t max, const char *tname, uint64_t *out, char **err);
int jr_int(yajl_val v, const jpath *p, int64_t min, int64_t max, const char *tname, int64_t *out,
           char **err);
/* NULL-terminated, *len entries; on failure *out holds what was read so far
 * (freeable). */
int jr_strings(yajl_val v, const jpath *p, char ***out, size_t *len, char **err);
int jr_u32s(yajl_val v, const jpath *p, uint32_t **out, size_t *len, char **err);
int jr_string_map(yajl_val v, const jpath *p, ocispec_string_map **out, char **err);
void ocs_string_map_free(ocispec_string_map *map);

/* Parses a whole document; NULL + "invalid JSON: ..." on failure. */
yajl_val jr_parse_tree(const char *json, size_t len, char **err);
/* Same, for text the caller already NUL-terminated at text[len]: no copy. */
yajl_val jr_parse_tree_terminated(const char *text, size_t len, char **err);
/* Reads a file for *_parse_file into a buffer NUL-terminated at [*len];
 * errors are already prefixed with path. */
int jr_read_file(const char *path, char **data, size_t *len, char **err);
/* Rewrites *err as "<prefix>: <*err>". */
void jr_prefix_error(const char *prefix, char **err);

#endif
