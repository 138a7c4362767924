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

/* Exit statuses for bad command lines, as runc's: a bad flag or argument
 * exits 1, an unknown subcommand 3. */
#define HUSK_EXIT_USAGE 1
#define HUSK_EXIT_UNKNOWN_COMMAND 3

/* For a command's getopt_long loop, whose optstring starts with ':' (so
 * getopt reports instead of printing): turns the '?' (unknown flag) or ':'
 * (flag without its value) that getopt_long returned into a usage error that
 * names the flag as the user typed it. Reset getopt first: main() sets
 * optind = 0 before calling a command.
 *
 *     while ((c = getopt_long(argc, argv, ":hb:", opts, NULL)) != -1)
 *         switch (c) { ...
 *         default: return husk_cli_option_error(argv[0], c, argv);
 *         }
 */
int husk_cli_option_error(const char *command, int getopt_result, char **argv);

#endif
