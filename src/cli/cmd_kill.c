/* husk kill: sends a signal to the container's init (or, --all, to every
 * process of its cgroup). */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>

#include "cli.h"
#include "container.h"
#include "signals.h"

int cmd_kill(struct husk_global *g, int argc, char **argv)
{
    static const struct option options[] = {
        { "all", no_argument, NULL, 'a' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool all = false;
    int c;
    while ((c = getopt_long(argc, argv, ":ah", options, NULL)) != -1) {
        switch (c) {
        case 'a':
            all = true;
            break;
        case 'h':
            printf("Usage: husk kill [FLAGS] ID [SIGNAL]\n"
                   "\n"
                   "Sends SIGNAL (default TERM; a name with or without SIG, or a number) to the\n"
                   "container's init.\n"
                   "\n"
                   "Flags:\n"
                   "  -a, --all    signal every process of the container's cgroup\n"
                   "  -h, --help   show this help\n");
            return 0;
        default:
            return husk_cli_option_error(argv[0], c, argv);
        }
    }
    if (optind >= argc)
        return husk_cli_usage_error(argv[0], "missing container ID");
    if (argc - optind > 2)
        return husk_cli_usage_error(argv[0], "unexpected argument `%s`", argv[optind + 2]);
    cleanup_error husk_error_t err = NULL;
    int sig = SIGTERM;
    if (argc - optind == 2 && husk_signal_parse(argv[optind + 1], &sig, &err) < 0) {
        husk_error_wrap(&err, "kill");
        return husk_cli_fail(g, &err);
    }
    if (husk_container_kill(g->root, argv[optind], sig, all, &err) < 0) {
        husk_error_wrap(&err, "kill");
        return husk_cli_fail(g, &err);
    }
    return 0;
}
