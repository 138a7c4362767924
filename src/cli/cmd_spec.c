/* husk spec: writes a starter config.json into a bundle directory. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "ocispec.h"
#include "spec_default.h"

static void spec_usage(FILE *out)
{
    fprintf(out,
            "Usage: husk spec [FLAGS]\n"
            "\n"
            "Writes a starter config.json for a bundle: the same default configuration\n"
            "`runc spec` writes (process \"sh\" on a terminal, rootfs \"rootfs\" read-only,\n"
            "new pid, network, ipc, uts and mount namespaces). Edit it before use.\n"
            "An existing config.json is never overwritten.\n"
            "\n"
            "Flags:\n"
            "  -b, --bundle DIR   write DIR/config.json (default: the current directory)\n"
            "      --rootless     a configuration an unprivileged user can run: a user\n"
            "                     namespace mapping root to the caller, no network namespace\n"
            "  -h, --help         show this help\n");
}

int cmd_spec(struct husk_global *g, int argc, char **argv)
{
    enum { OPT_ROOTLESS = 256 };
    static const struct option options[] = {
        { "bundle", required_argument, NULL, 'b' },
        { "rootless", no_argument, NULL, OPT_ROOTLESS },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *bundle = NULL;
    bool rootless = false;
    int c;

    while ((c = getopt_long(argc, argv, ":b:h", options, NULL)) != -1) {
        switch (c) {
        case 'b':
            bundle = optarg;
            break;
        case OPT_ROOTLESS:
            rootless = true;
            break;
        case 'h':
            spec_usage(stdout);
            return 0;
        default:
            return husk_cli_option_error(argv[0], c, argv);
        }
    }
    if (optind < argc)
        return husk_cli_usage_error(argv[0], "unexpected argument `%s` (spec takes none)",
                                    argv[optind]);
    if (bundle != NULL && bundle[0] == '\0')
        return husk_cli_usage_error(argv[0], "--bundle needs a directory, got an empty value");

    cleanup_error husk_error_t err = NULL;
    ocispec_config *config = NULL;
    if (husk_spec_default(rootless, &config, &err) < 0)
        return husk_cli_fail(g, &err);
    int ret = husk_spec_write(bundle, config, &err);
    ocispec_config_free(config);
    if (ret < 0)
        return husk_cli_fail(g, &err);
    return 0;
}
