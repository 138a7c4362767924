#include "config.h"

#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "utils.h"

int husk_cli_fail(struct husk_global *g, husk_error_t *err)
{
    (void) g; /* the log sink was set up from g by main() */
    const char *msg = (err != NULL && *err != NULL && (*err)->msg != NULL) ? (*err)->msg
                                                                           : "unknown error";
    fprintf(stderr, "husk: %s\n", msg);
    /* conmon and the containerd shim show the log file, not our stderr. */
    if (husk_log_to_file())
        husk_log_error("%s", msg);
    husk_error_free(err);
    return 1;
}

int husk_cli_usage_error(const char *command, const char *fmt, ...)
{
    cleanup_free char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);

    const char *text = msg != NULL ? msg : "invalid usage";
    if (command != NULL) {
        fprintf(stderr, "husk %s: %s\nRun 'husk %s --help' for usage.\n", command, text, command);
        if (husk_log_to_file())
            husk_log_error("%s: %s", command, text);
    } else {
        fprintf(stderr, "husk: %s\nRun 'husk --help' for usage.\n", text);
        if (husk_log_to_file())
            husk_log_error("%s", text);
    }
    return HUSK_EXIT_USAGE;
}

/* "--name=value" -> "--name" */
static char *long_flag_name(const char *word)
{
    return strndup(word, strcspn(word, "="));
}

int husk_cli_option_error(const char *command, int getopt_result, char **argv)
{
    const char *word = optind > 0 ? argv[optind - 1] : "";
    bool is_long = strncmp(word, "--", 2) == 0;
    bool short_known = optopt > 0 && optopt < 256 && isprint(optopt);
    cleanup_free char *name = is_long ? long_flag_name(word) : NULL;

    if (getopt_result == ':') {
        if (is_long)
            return husk_cli_usage_error(command, "flag `%s` needs a value", name ? name : word);
        return husk_cli_usage_error(command, "flag `-%c` needs a value", short_known ? optopt : '?');
    }

    /* glibc leaves optopt 0 for an unknown long flag; a known long flag
     * that got a value it does not take reports its own value. */
    if (optopt == 0)
        return husk_cli_usage_error(command, "unknown flag `%s`", is_long && name ? name : word);
    if (is_long && strchr(word, '=') != NULL)
        return husk_cli_usage_error(command, "flag `%s` takes no value", name ? name : word);
    if (short_known)
        return husk_cli_usage_error(command, "unknown flag `-%c`", optopt);
    return husk_cli_usage_error(command, "unknown flag `%s`", word);
}
