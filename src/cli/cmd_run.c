/* husk run: create + start; in the foreground by default. */
#include "config.h"

#include <stdio.h>

#include "cmd_create.h"
#include "selfexe.h"

int cmd_run(struct husk_global *g, int argc, char **argv)
{
    struct husk_create_opts opts;
    int status = husk_cli_parse_create_flags(g, argc, argv, true, &opts);
    if (status >= 0)
        return status;
    cleanup_error husk_error_t err = NULL;
    cleanup_error husk_error_t warn = NULL;
    int exit_status = 0;
    if (husk_selfexe_ensure_sealed(&err) < 0 ||
        husk_container_run(&opts, &exit_status, &warn, &err) < 0) {
        husk_cli_print_warning(&warn);
        husk_error_wrap(&err, "run");
        return husk_cli_fail(g, &err);
    }
    husk_cli_print_warning(&warn);
    fflush(stdout);
    return exit_status;
}
