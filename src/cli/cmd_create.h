/* Flags shared by `create` and `run`. */
#ifndef HUSK_CMD_CREATE_H
#define HUSK_CMD_CREATE_H

#include "cli.h"
#include "container.h"

/* Parses create's flags (and run's -d/--keep when is_run) and the ID into
 * *opts; returns -1 when parsed, or the exit status to return (usage error,
 * 0 after --help). */
int husk_cli_parse_create_flags(struct husk_global *g, int argc, char **argv, bool is_run,
                                struct husk_create_opts *opts);

/* Prints "husk: warning: ..." for a poststart/poststop hook failure. */
void husk_cli_print_warning(husk_error_t *warn);

#endif
