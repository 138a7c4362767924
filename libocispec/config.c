/* The public config.json API: thin wrappers over the generic walkers. */
#include <string.h>

#include "schema.h"

ocispec_config *ocispec_config_parse_data(const char *json, size_t len, char **err)
{
    return ocs_parse_document(&ocs_config_type, json, len, err);
}

ocispec_config *ocispec_config_parse_file(const char *path, char **err)
{
    return ocs_parse_document_file(&ocs_config_type, path, err);
}

char *ocispec_config_generate(const ocispec_config *config, bool pretty, char **err)
{
    return ocs_generate_document(&ocs_config_type, config, pretty, err);
}

void ocispec_config_free(ocispec_config *config)
{
    ocs_free_document(&ocs_config_type, config);
}

bool ocispec_config_equal(const ocispec_config *a, const ocispec_config *b)
{
    return ocs_equal_document(&ocs_config_type, a, b);
}

/* A process document on its own (`exec --process process.json`). */
ocispec_process *ocispec_process_parse_data(const char *json, size_t len, char **err)
{
    return ocs_parse_document(&ocs_process_type, json, len, err);
}

ocispec_process *ocispec_process_parse_file(const char *path, char **err)
{
    return ocs_parse_document_file(&ocs_process_type, path, err);
}

char *ocispec_process_generate(const ocispec_process *process, bool pretty, char **err)
{
    return ocs_generate_document(&ocs_process_type, process, pretty, err);
}

void ocispec_process_free(ocispec_process *process)
{
    ocs_free_document(&ocs_process_type, process);
}

bool ocispec_process_equal(const ocispec_process *a, const ocispec_process *b)
{
    return ocs_equal_document(&ocs_process_type, a, b);
}

/* The last entry wins, as it does when Go decodes a key given twice. */
const char *ocispec_string_map_get(const ocispec_string_map *map, const char *key)
{
    if (map == NULL || key == NULL)
        return NULL;
    for (size_t i = map->len; i > 0; i--)
        if (map->keys[i - 1] && strcmp(map->keys[i - 1], key) == 0)
            return map->values[i - 1];
    return NULL;
}
