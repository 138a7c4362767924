/* Signal names as `kill` takes them: "TERM", "SIGTERM", "term", "15",
 * "RTMIN+3", "SIGRTMAX-1". One table, shared by kill and the foreground
 * forwarding of `run`. */
#ifndef HUSK_SIGNALS_H
#define HUSK_SIGNALS_H

#include "error.h"

/* Parses a signal name or number into *sig. The error names the value:
 * `unknown signal "FOO"`. */
int husk_signal_parse(const char *text, int *sig, husk_error_t *err);

/* The name without "SIG" ("TERM"), or NULL for a number the table lacks. */
const char *husk_signal_name(int sig);

#endif
