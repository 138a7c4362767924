#include "signals.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    int number;
} signal_table[] = {
    { "ABRT", SIGABRT }, { "ALRM", SIGALRM },   { "BUS", SIGBUS },       { "CHLD", SIGCHLD },
    { "CLD", SIGCHLD },  { "CONT", SIGCONT },   { "FPE", SIGFPE },       { "HUP", SIGHUP },
    { "ILL", SIGILL },   { "INT", SIGINT },     { "IO", SIGIO },         { "IOT", SIGIOT },
    { "KILL", SIGKILL }, { "PIPE", SIGPIPE },   { "POLL", SIGPOLL },     { "PROF", SIGPROF },
    { "PWR", SIGPWR },   { "QUIT", SIGQUIT },   { "SEGV", SIGSEGV },     { "STKFLT", SIGSTKFLT },
    { "STOP", SIGSTOP }, { "SYS", SIGSYS },     { "TERM", SIGTERM },     { "TRAP", SIGTRAP },
    { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },   { "TTOU", SIGTTOU },     { "URG", SIGURG },
    { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 },   { "VTALRM", SIGVTALRM }, { "WINCH", SIGWINCH },
    { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
};

static int parse_number(const char *text, int *out)
{
    if (*text == '\0' || !isdigit((unsigned char) *text))
        return -1;
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || v > INT_MAX)
        return -1;
    *out = (int) v;
    return 0;
}

/* "RTMIN", "RTMIN+N", "RTMAX", "RTMAX-N" */
static int parse_realtime(const char *name, int *sig)
{
    int base, offset = 0, sign;
    const char *rest;
    if (strncasecmp(name, "RTMIN", 5) == 0) {
        base = SIGRTMIN;
        sign = 1;
        rest = name + 5;
    } else if (strncasecmp(name, "RTMAX", 5) == 0) {
        base = SIGRTMAX;
        sign = -1;
        rest = name + 5;
    } else {
        return -1;
    }
    if (*rest != '\0') {
        if (*rest != (sign > 0 ? '+' : '-') || parse_number(rest + 1, &offset) < 0)
            return -1;
    }
    int v = base + sign * offset;
    if (v < SIGRTMIN || v > SIGRTMAX)
        return -1;
    *sig = v;
    return 0;
}

int husk_signal_parse(const char *text, int *sig, husk_error_t *err)
{
    int number;
    if (parse_number(text, &number) == 0) {
        if (number <= 0 || number > SIGRTMAX)
            return husk_error_set(err, 0, "invalid signal number %d", number);
        *sig = number;
        return 0;
    }
    const char *name = text;
    if (strncasecmp(name, "SIG", 3) == 0)
        name += 3;
    for (size_t i = 0; i < sizeof(signal_table) / sizeof(signal_table[0]); i++) {
        if (strcasecmp(signal_table[i].name, name) == 0) {
            *sig = signal_table[i].number;
            return 0;
        }
    }
    if (parse_realtime(name, sig) == 0)
        return 0;
    return husk_error_set(err, 0, "unknown signal \"%s\"", text);
}

const char *husk_signal_name(int sig)
{
    for (size_t i = 0; i < sizeof(signal_table) / sizeof(signal_table[0]); i++)
        if (signal_table[i].number == sig)
            return signal_table[i].name;
    return NULL;
}
