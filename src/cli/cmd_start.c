/* husk start: the created container's init execs the user's program. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "cmd_create.h"
#include "container.h"

int cmd_start(struct husk_global *g, int argc, char **argv)
{
    static const struct option options[] = {
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        if (c == 'h') {
            printf("Usage: husk start ID\n"
                   "\n"
                   "Starts a created container: its init execs process.args.\n"
                   "\n"
                   "Flags:\n"
                   "  -h, --help   show this help\n");
            return 0;
        }
        return husk_cli_option_error(argv[0], c, argv);
    }
    if (optind + 1 != argc)
        return husk_cli_usage_error(argv[0], optind >= argc ? "missing container ID"
                                                            : "start takes exactly one ID");
    cleanup_error husk_error_t err = NULL;
    cleanup_error husk_error_t warn = NULL;
    if (husk_container_start(g->root, argv[optind], &warn, &err) < 0) {
        husk_error_wrap(&err, "start");
        return husk_cli_fail(g, &err);
    }
    husk_cli_print_warning(&warn);
    return 0;
}
