/* The thin CLI layer: argument parsing and printing only; every command
 * calls into src/lib. One file per subcommand: src/cli/cmd_<name>.c. */
#ifndef HUSK_CLI_H
#define HUSK_CLI_H

#include <stdbool.h>
#include "error.h"

/* Global flags, as runc and crun name them. */
struct husk_global {
    const char *root;           /* --root, default HUSK_DEFAULT_ROOT */
    const char *log_path;       /* --log */
    const char *log_format;     /* --log-format text|json (default text) */
    const char *log_level;      /* --log-level (default "warning"; --debug => "debug") */
    bool debug;                 /* --debug */
    bool systemd_cgroup;        /* --systemd-cgroup (same as --cgroup-manager systemd) */
    const char *cgroup_manager; /* --cgroup-manager cgroupfs|systemd|disabled */
    const char *rootless;       /* --rootless true|false|auto (default auto) */
};

#define HUSK_DEFAULT_ROOT "/run/husk"

/* Every subcommand: argv[0] is the subcommand's name; returns the process
 * exit status. Commands parse their own flags with getopt_long. */
typedef int (*husk_command_fn)(struct husk_global *g, int argc, char **argv);

/* Prints "husk: <msg>" on stderr (and to the --log file), frees *err and
 * returns the exit status to use (1). */
int husk_cli_fail(struct husk_global *g, husk_error_t *err);

/* Prints a usage error naming the offending word ("husk create: unknown
 * flag `--foo`") and a hint to run --help; returns the usage exit status. */
int husk_cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
