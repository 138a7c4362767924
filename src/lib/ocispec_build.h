/* Helpers for building libocispec models from C tables (the default spec,
 * the features document). Every model string and array is its own malloc'd
 * block, as ocispec_*_free() expects. Allocation failures are collected in
 * one flag instead of being checked at every call: a builder that failed
 * leaves NULLs behind, which the free functions accept, and the caller checks
 * `failed` once at the end. */
#ifndef HUSK_OCISPEC_BUILD_H
#define HUSK_OCISPEC_BUILD_H

#include <stdbool.h>
#include <stddef.h>

struct husk_model_builder {
    bool failed; /* some allocation failed */
};

/* calloc(n, size); NULL (and failed) on overflow or OOM. */
void *husk_build_calloc(struct husk_model_builder *b, size_t n, size_t size);

/* strdup(s); NULL stays NULL. */
char *husk_build_str(struct husk_model_builder *b, const char *s);

/* A NULL-terminated copy of src[0..n) (the model's string-array shape);
 * *len_out = n. A present, empty array when n == 0. */
char **husk_build_strv(struct husk_model_builder *b, const char *const *src, size_t n,
                       size_t *len_out);

/* Appends a copy of s to the NULL-terminated array *strv of *len entries. */
void husk_build_strv_append(struct husk_model_builder *b, char ***strv, size_t *len, const char *s);

#define HUSK_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
