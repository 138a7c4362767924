/* The state document (runtime.md "State"): its field table and API. */
#include "schema.h"

static const ocs_field state_fields[] = {
    F_STR_REQ("ociVersion", ocispec_state, oci_version),
    F_STR_REQ("id", ocispec_state, id),
    F_STR_REQ("status", ocispec_state, status),
    F_NUM("pid", ocispec_state, pid, OCS_CINT),
    F_STR_REQ("bundle", ocispec_state, bundle),
    F_MAP("annotations", ocispec_state, annotations),
};
OCS_TYPE(ocs_state_type, ocispec_state, state_fields, NULL);

ocispec_state *ocispec_state_parse_data(const char *json, size_t len, char **err)
{
    return ocs_parse_document(&ocs_state_type, json, len, err);
}

ocispec_state *ocispec_state_parse_file(const char *path, char **err)
{
    return ocs_parse_document_file(&ocs_state_type, path, err);
}

char *ocispec_state_generate(const ocispec_state *state, bool pretty, char **err)
{
    return ocs_generate_document(&ocs_state_type, state, pretty, err);
}

void ocispec_state_free(ocispec_state *state)
{
    ocs_free_document(&ocs_state_type, state);
}

bool ocispec_state_equal(const ocispec_state *a, const ocispec_state *b)
{
    return ocs_equal_document(&ocs_state_type, a, b);
}
