/* husk exec: runs one more process in a created or running container. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "exec.h"
#include "selfexe.h"
#include "utils.h"

static void exec_usage(void)
{
    printf("Usage: husk exec [FLAGS] ID [COMMAND [ARG...]]\n"
           "\n"
           "Runs COMMAND (or the --process JSON) in the namespaces, cgroup, root,\n"
           "seccomp filter and capabilities of container ID, which must be created or\n"
           "running. In the foreground (the default) forwards signals and exits with\n"
           "the process's exit status (128+N when killed by signal N).\n"
           "\n"
           "Flags:\n"
           "  -p, --process FILE          a runtime-spec process JSON (the flags that\n"
           "                              shape the process are then ignored)\n"
           "  -t, --tty                   allocate a pseudo-terminal\n"
           "      --console-socket S      send its master to the AF_UNIX socket S\n"
           "  -d, --detach                return once the process runs\n"
           "      --pid-file FILE         write the process's pid to FILE\n"
           "      --cwd DIR               working directory inside the container\n"
           "  -e, --env K=V               set an environment variable (repeatable)\n"
           "  -u, --user UID[:GID]        user (numbers, or names from the container's\n"
           "                              /etc/passwd and /etc/group)\n"
           "  -g, --additional-gids GID   supplementary group (repeatable)\n"
           "  -c, --cap CAP               add a capability to the bounding, effective\n"
           "                              and permitted sets (repeatable)\n"
           "      --no-new-privs          set no_new_privs\n"
           "      --apparmor PROFILE      AppArmor profile (default: the container's)\n"
           "      --process-label LABEL   SELinux label (default: the container's)\n"
           "      --preserve-fds N        pass N more fds (3 and up) on\n"
           "      --cgroup SUBPATH        run in this sub-cgroup of the container's\n"
           "      --ignore-paused         allow exec in a paused container\n"
           "  -h, --help                  show this help\n");
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

int cmd_exec(struct husk_global *g, int argc, char **argv)
{
    enum {
        OPT_CONSOLE_SOCKET = 256,
        OPT_PID_FILE,
        OPT_CWD,
        OPT_NO_NEW_PRIVS,
        OPT_APPARMOR,
        OPT_PROCESS_LABEL,
        OPT_PRESERVE_FDS,
        OPT_CGROUP,
        OPT_IGNORE_PAUSED,
    };
    static const struct option options[] = {
        { "process", required_argument, NULL, 'p' },
        { "tty", no_argument, NULL, 't' },
        { "console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET },
        { "detach", no_argument, NULL, 'd' },
        { "pid-file", required_argument, NULL, OPT_PID_FILE },
        { "cwd", required_argument, NULL, OPT_CWD },
        { "env", required_argument, NULL, 'e' },
        { "user", required_argument, NULL, 'u' },
        { "additional-gids", required_argument, NULL, 'g' },
        { "cap", required_argument, NULL, 'c' },
        { "no-new-privs", no_argument, NULL, OPT_NO_NEW_PRIVS },
        { "apparmor", required_argument, NULL, OPT_APPARMOR },
        { "process-label", required_argument, NULL, OPT_PROCESS_LABEL },
        { "preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS },
        { "cgroup", required_argument, NULL, OPT_CGROUP },
        { "ignore-paused", no_argument, NULL, OPT_IGNORE_PAUSED },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct husk_exec_opts o = { .root = g->root };
    /* Each list holds at most one entry per word of the command line. */
    cleanup_free char **env = calloc((size_t) argc + 1, sizeof(char *));
    cleanup_free char **gids = calloc((size_t) argc + 1, sizeof(char *));
    cleanup_free char **caps = calloc((size_t) argc + 1, sizeof(char *));
    if (env == NULL || gids == NULL || caps == NULL) {
        fprintf(stderr, "husk: exec: out of memory\n");
        return 1;
    }
    size_t n_env = 0, n_gids = 0, n_caps = 0;
    int c;
    /* '+': options end at the ID, so COMMAND's own flags stay its own. */
    while ((c = getopt_long(argc, argv, "+:p:tde:u:g:c:h", options, NULL)) != -1) {
        switch (c) {
        case 'p':
            o.process_path = optarg;
            break;
        case 't':
            o.tty = true;
            break;
        case OPT_CONSOLE_SOCKET:
            o.console_socket = optarg;
            break;
        case 'd':
            o.detach = true;
            break;
        case OPT_PID_FILE:
            o.pid_file = optarg;
            break;
        case OPT_CWD:
            o.cwd = optarg;
            break;
        case 'e':
            env[n_env++] = optarg;
            break;
        case 'u':
            o.user = optarg;
            break;
        case 'g':
            gids[n_gids++] = optarg;
            break;
        case 'c':
            caps[n_caps++] = optarg;
            break;
        case OPT_NO_NEW_PRIVS:
            o.no_new_privs = true;
            break;
        case OPT_APPARMOR:
            o.apparmor = optarg;
            break;
        case OPT_PROCESS_LABEL:
            o.process_label = optarg;
            break;
        case OPT_PRESERVE_FDS: {
            int r = parse_preserve_fds(argv[0], optarg, &o.preserve_fds);
            if (r >= 0)
                return r;
            break;
        }
        case OPT_CGROUP:
            o.cgroup = optarg;
            break;
        case OPT_IGNORE_PAUSED:
            o.ignore_paused = true;
            break;
        case 'h':
            exec_usage();
            return 0;
        default:
            return husk_cli_option_error(argv[0], c, argv);
        }
    }
    if (optind >= argc)
        return husk_cli_usage_error(argv[0], "missing container ID");
    o.id = argv[optind];
    o.args = &argv[optind + 1];
    if (o.process_path == NULL && o.args[0] == NULL)
        return husk_cli_usage_error(argv[0], "missing COMMAND (or --process FILE)");
    if (o.process_path != NULL && o.args[0] != NULL)
        return husk_cli_usage_error(argv[0], "unexpected argument `%s`: --process gives the "
                                    "command", o.args[0]);
    o.env = env;
    o.additional_gids = gids;
    o.caps = caps;

    cleanup_error husk_error_t err = NULL;
    int exit_status = 0;
    if (husk_selfexe_ensure_sealed(&err) < 0 || husk_exec(&o, &exit_status, &err) < 0) {
        husk_error_wrap(&err, "exec");
        return husk_cli_fail(g, &err);
    }
    fflush(stdout);
    return exit_status;
}
