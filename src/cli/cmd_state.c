/* husk state: the container's state as JSON (runtime-spec state plus
 * runc's rootfs, created and owner). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "container.h"

int cmd_state(struct husk_global *g, int argc, char **argv)
{
    static const struct option options[] = {
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        if (c == 'h') {
            printf("Usage: husk state ID\n"
                   "\n"
                   "Prints the container's state as JSON (runtime-spec state, plus rootfs,\n"
                   "created and owner as runc prints them).\n"
                   "\n"
                   "Flags:\n"
                   "  -h, --help   show this help\n");
            return 0;
        }
        return husk_cli_option_error(argv[0], c, argv);
    }
    if (optind + 1 != argc)
        return husk_cli_usage_error(argv[0], optind >= argc ? "missing container ID"
                                                            : "state takes exactly one ID");
    cleanup_error husk_error_t err = NULL;
    husk_container_info info = { 0 };
    if (husk_container_info_load(g->root, argv[optind], &info, &err) < 0) {
        husk_error_wrap(&err, "state");
        return husk_cli_fail(g, &err);
    }
    char *json = husk_container_info_json(&info, "", true);
    husk_container_info_clear(&info);
    if (json == NULL) {
        husk_error_set(&err, ENOMEM, "state: generate JSON");
        return husk_cli_fail(g, &err);
    }
    fputs(json, stdout);
    free(json);
    return 0;
}
