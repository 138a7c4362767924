#include "config.h"
#include "ocispec_build.h"

#include <stdlib.h>
#include <string.h>

void *husk_build_calloc(struct husk_model_builder *b, size_t n, size_t size)
{
    void *p = calloc(n > 0 ? n : 1, size > 0 ? size : 1);
    if (p == NULL)
        b->failed = true;
    return p;
}

char *husk_build_str(struct husk_model_builder *b, const char *s)
{
    if (s == NULL)
        return NULL;
    char *copy = strdup(s);
    if (copy == NULL)
        b->failed = true;
    return copy;
}

char **husk_build_strv(struct husk_model_builder *b, const char *const *src, size_t n,
                       size_t *len_out)
{
    char **strv = husk_build_calloc(b, n + 1, sizeof(char *));
    *len_out = 0;
    if (strv == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        strv[i] = husk_build_str(b, src[i]);
    *len_out = n;
    return strv;
}

void husk_build_strv_append(struct husk_model_builder *b, char ***strv, size_t *len, const char *s)
{
    char *copy = husk_build_str(b, s);
    if (copy == NULL)
        return;
    char **grown = realloc(*strv, (*len + 2) * sizeof(char *));
    if (grown == NULL) {
        free(copy);
        b->failed = true;
        return;
    }
    grown[*len] = copy;
    grown[*len + 1] = NULL;
    *strv = grown;
    (*len)++;
}
