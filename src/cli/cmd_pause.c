/* husk pause ID (runc's pause: no flags besides --help). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "container_ops.h"

int cmd_pause(struct husk_global *g, int argc, char **argv)
{
    static const struct option options[] = {
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'h':
            printf("Usage: husk pause ID\n"
                   "\n"
                   "Suspends every process of the container (the cgroup freezer); `husk resume`\n"
                   "continues them. The container must be running (or created).\n"
                   "\n"
                   "Flags:\n"
                   "  -h, --help   show this help\n");
            return 0;
        default:
            return husk_cli_option_error(argv[0], c, argv);
        }
    }
    if (optind >= argc)
        return husk_cli_usage_error(argv[0], "missing container ID");
    if (argc - optind > 1)
        return husk_cli_usage_error(argv[0], "unexpected argument `%s`", argv[optind + 1]);
    cleanup_error husk_error_t err = NULL;
    if (husk_container_pause(g->root, argv[optind], &err) < 0) {
        husk_error_wrap(&err, "pause");
        return husk_cli_fail(g, &err);
    }
    return 0;
}
