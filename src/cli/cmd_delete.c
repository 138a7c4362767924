/* husk delete: removes a stopped (or, --force, any) container. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "cmd_create.h"
#include "container.h"

int cmd_delete(struct husk_global *g, int argc, char **argv)
{
    static const struct option options[] = {
        { "force", no_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool force = false;
    int c;
    while ((c = getopt_long(argc, argv, ":fh", options, NULL)) != -1) {
        switch (c) {
        case 'f':
            force = true;
            break;
        case 'h':
            printf("Usage: husk delete [FLAGS] ID\n"
                   "\n"
                   "Deletes a container: its cgroup, its state, and (poststop) its hooks run.\n"
                   "A running container is refused unless --force, which kills it first.\n"
                   "\n"
                   "Flags:\n"
                   "  -f, --force  kill the container (SIGKILL) if it still runs\n"
                   "  -h, --help   show this help\n");
            return 0;
        default:
            return husk_cli_option_error(argv[0], c, argv);
        }
    }
    if (optind + 1 != argc)
        return husk_cli_usage_error(argv[0], optind >= argc ? "missing container ID"
                                                            : "delete takes exactly one ID");
    cleanup_error husk_error_t err = NULL;
    cleanup_error husk_error_t warn = NULL;
    if (husk_container_delete(g->root, argv[optind], force, &warn, &err) < 0) {
        husk_cli_print_warning(&warn);
        husk_error_wrap(&err, "delete");
        return husk_cli_fail(g, &err);
    }
    husk_cli_print_warning(&warn);
    return 0;
}
