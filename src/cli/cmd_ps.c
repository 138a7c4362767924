/* husk ps [--format table|json] ID [-- PS_ARGS...]
 *
 * json: the array of the container's pids (what containerd reads).
 * table: the host's `ps` (arguments PS_ARGS, default -ef), keeping the
 * header and the lines whose PID column holds one of the container's pids. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "container_ops.h"
#include "utils.h"

static void print_ps_help(void)
{
    printf("Usage: husk ps [FLAGS] ID [-- PS_ARGS...]\n"
           "\n"
           "Shows the processes of the container: the host's `ps` output (run with PS_ARGS,\n"
           "default -ef) restricted to the container's processes, or their pids as JSON.\n"
           "\n"
           "Flags:\n"
           "  -f, --format FORMAT   table (default) or json\n"
           "  -h, --help            show this help\n");
}

static void print_pids_json(const pid_t *pids, size_t n)
{
    fputc('[', stdout);
    for (size_t i = 0; i < n; i++)
        printf("%s%d", i ? "," : "", (int) pids[i]);
    fputs("]\n", stdout);
}

/* Runs ps with args and reads all of its standard output. */
static int capture_ps(char **args, char **out, husk_error_t *err)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return husk_error_set(err, errno, "pipe");
    pid_t child = fork();
    if (child < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        return husk_error_set(err, e, "fork");
    }
    if (child == 0) {
        if (dup2(fds[1], STDOUT_FILENO) < 0)
            _exit(127);
        execvp(args[0], args);
        fprintf(stderr, "husk: ps: exec `%s`: %s\n", args[0], strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    cleanup_close int rfd = fds[0];
    size_t len = 0, cap = 0;
    cleanup_free char *buf = NULL;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 16384;
            char *bigger = realloc(buf, cap);
            if (bigger == NULL)
                break;
            buf = bigger;
        }
        ssize_t r = read(rfd, buf + len, cap - len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t) r;
    }
    int wstatus;
    while (waitpid(child, &wstatus, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
        return husk_error_set(err, 0, "`%s` failed (exit status %d)", args[0],
                              WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus));
    if (buf == NULL)
        return husk_error_set(err, ENOMEM, "ps output");
    buf[len] = '\0';
    *out = steal_pointer(&buf);
    return 0;
}

/* The whitespace-separated field number index of line, as a pid; -1 when
 * there is no such field. */
static long field_as_pid(const char *line, int index)
{
    const char *p = line;
    for (int i = 0;; i++) {
        p += strspn(p, " \t");
        if (*p == '\0' || *p == '\n')
            return -1;
        if (i == index) {
            char *end;
            long v = strtol(p, &end, 10);
            return (end != p && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\0')) ? v
                                                                                           : -1;
        }
        p += strcspn(p, " \t\n");
    }
}

static int pid_column(const char *header)
{
    const char *p = header;
    for (int i = 0;; i++) {
        p += strspn(p, " \t");
        if (*p == '\0' || *p == '\n')
            return -1;
        size_t w = strcspn(p, " \t\n");
        if (w == 3 && strncmp(p, "PID", 3) == 0)
            return i;
        p += w;
    }
}

static bool contains(const pid_t *pids, size_t n, long pid)
{
    for (size_t i = 0; i < n; i++)
        if (pids[i] == pid)
            return true;
    return false;
}

static int print_table(char **ps_args, int n_args, const pid_t *pids, size_t n,
                       husk_error_t *err)
{
    cleanup_free char **args = calloc((size_t) n_args + 2, sizeof *args);
    if (args == NULL)
        return husk_error_set(err, ENOMEM, "ps");
    args[0] = "ps";
    if (n_args == 0)
        args[1] = "-ef";
    for (int i = 0; i < n_args; i++)
        args[i + 1] = ps_args[i];
    cleanup_free char *out = NULL;
    if (capture_ps(args, &out, err) < 0)
        return -1;
    char *save = NULL;
    char *header = strtok_r(out, "\n", &save);
    int column = header != NULL ? pid_column(header) : -1;
    if (column < 0)
        return husk_error_set(err, 0, "the output of `ps` has no PID column (add pid to -o)");
    printf("%s\n", header);
    for (char *line = strtok_r(NULL, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
        if (contains(pids, n, field_as_pid(line, column)))
            printf("%s\n", line);
    return 0;
}

int cmd_ps(struct husk_global *g, int argc, char **argv)
{
    static const struct option options[] = {
        { "format", required_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *format = "table";
    int c;
    /* '+': flags end at the ID, so `ps ID -o pid` hands -o to ps. */
    while ((c = getopt_long(argc, argv, "+:f:h", options, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (strcmp(optarg, "table") != 0 && strcmp(optarg, "json") != 0)
                return husk_cli_usage_error(argv[0], "invalid --format `%s` (want table or json)",
                                            optarg);
            format = optarg;
            break;
        case 'h':
            print_ps_help();
            return 0;
        default:
            return husk_cli_option_error(argv[0], c, argv);
        }
    }
    if (optind >= argc)
        return husk_cli_usage_error(argv[0], "missing container ID");
    const char *id = argv[optind++];
    if (optind < argc && strcmp(argv[optind], "--") == 0)
        optind++;
    bool json = strcmp(format, "json") == 0;
    if (json && optind < argc)
        return husk_cli_usage_error(argv[0], "ps arguments (`%s`) make no sense with --format json",
                                    argv[optind]);

    cleanup_error husk_error_t err = NULL;
    cleanup_free pid_t *pids = NULL;
    size_t n = 0;
    if (husk_container_pids(g->root, id, &pids, &n, &err) < 0) {
        husk_error_wrap(&err, "ps");
        return husk_cli_fail(g, &err);
    }
    if (json) {
        print_pids_json(pids, n);
        return 0;
    }
    if (print_table(argv + optind, argc - optind, pids, n, &err) < 0) {
        husk_error_wrap(&err, "ps");
        return husk_cli_fail(g, &err);
    }
    return 0;
}
