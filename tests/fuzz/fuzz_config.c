/* libFuzzer target for libocispec: every input goes through the config,
 * process, state and features parsers; whatever parses is generated (compact and
 * pretty), parsed again and must compare equal to the first model. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocispec.h"

typedef void *(*parse_fn)(const char *, size_t, char **);
typedef char *(*generate_fn)(const void *, bool, char **);
typedef void (*free_fn)(void *);
typedef bool (*equal_fn)(const void *, const void *);

struct doc {
    const char *name;
    parse_fn parse;
    generate_fn generate;
    free_fn release;
    equal_fn equal;
};

static const struct doc docs[] = {
    { "config", (parse_fn)ocispec_config_parse_data, (generate_fn)ocispec_config_generate,
      (free_fn)ocispec_config_free, (equal_fn)ocispec_config_equal },
    { "process", (parse_fn)ocispec_process_parse_data, (generate_fn)ocispec_process_generate,
      (free_fn)ocispec_process_free, (equal_fn)ocispec_process_equal },
    { "state", (parse_fn)ocispec_state_parse_data, (generate_fn)ocispec_state_generate,
      (free_fn)ocispec_state_free, (equal_fn)ocispec_state_equal },
    { "features", (parse_fn)ocispec_features_parse_data, (generate_fn)ocispec_features_generate,
      (free_fn)ocispec_features_free, (equal_fn)ocispec_features_equal },
};

/* A model that parsed must survive generate -> parse unchanged; anything
 * else is a bug worth a crash report. */
static void round_trip(const struct doc *d, void *model, bool pretty)
{
    char *err = NULL;
    char *json = d->generate(model, pretty, &err);
    if (json == NULL) {
        fprintf(stderr, "%s: generate failed on a parsed model: %s\n", d->name, err);
        abort();
    }
    void *again = d->parse(json, strlen(json), &err);
    if (again == NULL) {
        fprintf(stderr, "%s: generated text does not parse: %s\n%s\n", d->name, err, json);
        abort();
    }
    if (!d->equal(model, again)) {
        fprintf(stderr, "%s: round trip changed the model:\n%s\n", d->name, json);
        abort();
    }
    d->release(again);
    free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        char *err = NULL;
        void *model = docs[i].parse((const char *)data, size, &err);
        if (model == NULL) {
            if (err == NULL || strchr(err, '\n') != NULL) {
                fprintf(stderr, "%s: failure without a one-line message: %s\n", docs[i].name, err ? err : "(null)");
                abort();
            }
            free(err);
            continue;
        }
        if (err != NULL) {
            fprintf(stderr, "%s: success with an error set: %s\n", docs[i].name, err);
            abort();
        }
        round_trip(&docs[i], model, false);
        round_trip(&docs[i], model, true);
        docs[i].release(model);
    }
    return 0;
}
