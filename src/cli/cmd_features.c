/* husk features: prints the runtime-spec features document. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "spec_features.h"
#include "ocispec.h"
#include "utils.h"

static void features_usage(FILE *out)
{
    fprintf(out,
            "Usage: husk features\n"
            "\n"
            "Prints, as JSON, the runtime-spec features document of this build of husk:\n"
            "the spec versions, hooks, mount options, namespaces, capabilities, cgroup\n"
            "drivers, seccomp actions/operators/architectures/flags and LSMs it supports.\n"
            "\n"
            "Flags:\n"
            "  -h, --help   show this help\n");
}

int cmd_features(struct husk_global *g, int argc, char **argv)
{
    static const struct option options[] = {
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'h':
            features_usage(stdout);
            return 0;
        default:
            return husk_cli_option_error(argv[0], c, argv);
        }
    }
    if (optind < argc)
        return husk_cli_usage_error(argv[0], "unexpected argument `%s` (features takes none)",
                                    argv[optind]);

    cleanup_error husk_error_t err = NULL;
    ocispec_features *features = NULL;
    if (husk_features_build(&features, &err) < 0)
        return husk_cli_fail(g, &err);

    char *gen_err = NULL;
    cleanup_free char *json = ocispec_features_generate(features, true, &gen_err);
    ocispec_features_free(features);
    if (json == NULL) {
        husk_error_set(&err, 0, "generate the features document: %s",
                       gen_err != NULL ? gen_err : "out of memory");
        free(gen_err);
        return husk_cli_fail(g, &err);
    }
    fputs(json, stdout);
    if (json[0] != '\0' && json[strlen(json) - 1] != '\n')
        fputc('\n', stdout);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        husk_error_set(&err, errno, "write the features document");
        return husk_cli_fail(g, &err);
    }
    return 0;
}
