/* husk create: sets a container up with its init waiting for `start`. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_create.h"
#include "log.h"
#include "selfexe.h"

static void create_usage(FILE *out, bool is_run)
{
    fprintf(out,
            "Usage: husk %s [FLAGS] ID\n"
            "\n"
            "%s"
            "\n"
            "Flags:\n"
            "  -b, --bundle DIR         the bundle (default: the current directory)\n"
            "  -f, --config FILE        the config (default: BUNDLE/config.json)\n"
            "      --pid-file FILE      write the container's init pid to FILE\n"
            "      --console-socket S   send the pty master to the AF_UNIX socket S\n"
            "                           (process.terminal)\n"
            "      --preserve-fds N     pass N more fds (3 and up, after LISTEN_FDS) on\n"
            "      --no-pivot           MS_MOVE + chroot instead of pivot_root\n"
            "      --no-new-keyring     keep the caller's session keyring\n"
            "%s"
            "  -h, --help               show this help\n",
            is_run ? "run" : "create",
            is_run ? "Creates and starts a container; in the foreground (the default) waits for\n"
                     "it, forwards signals to it and exits with its exit status (128+N when\n"
                     "killed by signal N), then deletes it.\n"
                   : "Creates a container: namespaces, cgroup and root filesystem ready, its\n"
                     "init waiting for `husk start ID`.\n",
            is_run ? "  -d, --detach             start the container and return at once\n"
                     "      --keep               keep the stopped container (foreground run)\n"
                   : "");
}

static int parse_preserve_fds(const char *cmd, const char *text, int *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < 0 || v > INT_MAX - 3)
        return husk_cli_usage_error(cmd, "invalid --preserve-fds `%s` (want a number >= 0)", text);
    *out = (int) v;
    return -1;
}

int husk_cli_parse_create_flags(struct husk_global *g, int argc, char **argv, bool is_run,
                                struct husk_create_opts *opts)
{
    enum {
        OPT_PID_FILE = 256,
        OPT_CONSOLE_SOCKET,
        OPT_PRESERVE_FDS,
        OPT_NO_PIVOT,
        OPT_NO_NEW_KEYRING,
        OPT_KEEP,
    };
    static const struct option options[] = {
        { "bundle", required_argument, NULL, 'b' },
        { "config", required_argument, NULL, 'f' },
        { "pid-file", required_argument, NULL, OPT_PID_FILE },
        { "console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET },
        { "preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS },
        { "no-pivot", no_argument, NULL, OPT_NO_PIVOT },
        { "no-new-keyring", no_argument, NULL, OPT_NO_NEW_KEYRING },
        { "detach", no_argument, NULL, 'd' },
        { "keep", no_argument, NULL, OPT_KEEP },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    memset(opts, 0, sizeof(*opts));
    opts->root = g->root;
    opts->cgroup_manager = g->cgroup_manager;
    opts->mode = is_run ? HUSK_MODE_RUN_FOREGROUND : HUSK_MODE_CREATE;
    int c;
    while ((c = getopt_long(argc, argv, is_run ? ":b:f:dh" : ":b:f:h", options, NULL)) != -1) {
        switch (c) {
        case 'b':
            opts->bundle = optarg;
            break;
        case 'f':
            opts->config_path = optarg;
            break;
        case OPT_PID_FILE:
            opts->pid_file = optarg;
            break;
        case OPT_CONSOLE_SOCKET:
            opts->console_socket = optarg;
            break;
        case OPT_PRESERVE_FDS: {
            int r = parse_preserve_fds(argv[0], optarg, &opts->preserve_fds);
            if (r >= 0)
                return r;
            break;
        }
        case OPT_NO_PIVOT:
            opts->no_pivot = true;
            break;
        case OPT_NO_NEW_KEYRING:
            opts->no_new_keyring = true;
            break;
        case 'd':
            if (!is_run)
                return husk_cli_option_error(argv[0], '?', argv);
            opts->mode = HUSK_MODE_RUN_DETACH;
            break;
        case OPT_KEEP:
            if (!is_run)
                return husk_cli_option_error(argv[0], '?', argv);
            opts->keep = true;
            break;
        case 'h':
            create_usage(stdout, is_run);
            return 0;
        default:
            return husk_cli_option_error(argv[0], c, argv);
        }
    }
    if (optind >= argc)
        return husk_cli_usage_error(argv[0], "missing container ID");
    if (optind + 1 < argc)
        return husk_cli_usage_error(argv[0], "unexpected argument `%s` after the ID",
                                    argv[optind + 1]);
    opts->id = argv[optind];
    if (opts->keep && opts->mode == HUSK_MODE_RUN_DETACH)
        return husk_cli_usage_error(argv[0], "--keep and --detach cannot be used together");
    return -1;
}

void husk_cli_print_warning(husk_error_t *warn)
{
    if (warn == NULL || *warn == NULL)
        return;
    fprintf(stderr, "husk: warning: %s\n", (*warn)->msg);
    husk_log_warning("%s", (*warn)->msg);
    husk_error_free(warn);
}

int cmd_create(struct husk_global *g, int argc, char **argv)
{
    struct husk_create_opts opts;
    int status = husk_cli_parse_create_flags(g, argc, argv, false, &opts);
    if (status >= 0)
        return status;
    cleanup_error husk_error_t err = NULL;
    cleanup_error husk_error_t warn = NULL;
    if (husk_selfexe_ensure_sealed(&err) < 0 || husk_container_create(&opts, &warn, &err) < 0) {
        husk_cli_print_warning(&warn);
        husk_error_wrap(&err, "create");
        return husk_cli_fail(g, &err);
    }
    husk_cli_print_warning(&warn);
    return 0;
}
