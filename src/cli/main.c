/* husk's entry point: global flags (named as runc and crun name them), then
 * one subcommand from the table below. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <seccomp_lib.h> /* libseccomp's <seccomp.h>, which src/lib/seccomp.h shadows */

#include "cli.h"
#include "git-commit.h"
#include "log.h"

/* The subcommands, one line each: X(name, one-line summary). Each name has a
 * function `int cmd_<name>(struct husk_global *, int, char **)` in
 * src/cli/cmd_<name>.c, which prints its own usage for --help. Keep the list
 * alphabetical: `husk --help` prints it in this order. */
#define HUSK_COMMANDS(X)                                            \
    X(create, "create a container (its init waits for start)")    \
    X(delete, "delete a container")                                \
    X(events, "show a container's resource statistics and OOM events") \
    X(exec, "run a process in a created or running container")       \
    X(features, "show the features this build of husk supports")  \
    X(kill, "send a signal to a container's init")                 \
    X(list, "list the containers")                                 \
    X(pause, "suspend every process of a container")              \
    X(ps, "show the processes of a container")                     \
    X(resume, "resume the processes of a paused container")        \
    X(run, "create and start a container")                         \
    X(spec, "create a new specification file (config.json)")       \
    X(start, "start a created container")                          \
    X(state, "print a container's state as JSON")                 \
    X(update, "change a running container's resource limits")

#define DECLARE_COMMAND(name, summary) int cmd_##name(struct husk_global *g, int argc, char **argv);
HUSK_COMMANDS(DECLARE_COMMAND)

struct husk_command {
    const char *name;
    husk_command_fn run;
    const char *summary;
};

#define COMMAND_ENTRY(name, summary) { #name, cmd_##name, summary },
static const struct husk_command commands[] = { HUSK_COMMANDS(COMMAND_ENTRY) };
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct husk_command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* ---- --version ---- */

static const char *feature_sign(bool built_in)
{
    return built_in ? "+" : "-";
}

static void print_version(void)
{
#ifdef HAVE_SYSTEMD
    const bool systemd = true;
#else
    const bool systemd = false;
#endif
    const struct scmp_version *scmp = seccomp_version();

    printf("husk version %s\n", PACKAGE_VERSION);
    printf("commit: %s\n", GIT_COMMIT);
    printf("spec: %s\n", OCI_SPEC_VERSION);
    if (scmp != NULL)
        printf("libseccomp: %u.%u.%u\n", scmp->major, scmp->minor, scmp->micro);
    /* seccomp, libcap and yajl are required by configure, and SELinux and
     * AppArmor labels use the kernel's interface (lsm.c) in every build,
     * so always "+". */
    printf("+SECCOMP +SELINUX +APPARMOR +CAP %sSYSTEMD +YAJL\n", feature_sign(systemd));
}

/* ---- --help ---- */

static void print_help(FILE *out)
{
    fprintf(out,
            "Usage: husk [GLOBAL FLAGS] COMMAND [FLAGS] [ARGS...]\n"
            "\n"
            "husk is an OCI container runtime: it runs containers from OCI bundles\n"
            "(a directory holding config.json and a root filesystem).\n"
            "\n"
            "Commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "  %-12s %s\n", "help", "show this help, or a command's help (help COMMAND)");
    fprintf(out,
            "\n"
            "Global flags:\n"
            "  --root DIR              directory holding container state (default %s)\n"
            "  --log FILE              write log records to FILE (default: none; stderr with --debug)\n"
            "  --log-format FORMAT     log record format: text (default) or json\n"
            "  --log-level LEVEL       debug, info, warning (default) or error\n"
            "  --debug                 log at debug level\n"
            "  --systemd-cgroup        manage cgroups through systemd (same as --cgroup-manager systemd)\n"
            "  --cgroup-manager MGR    cgroupfs (default), systemd or disabled\n"
            "  --rootless VALUE        true, false or auto (default): ignore cgroup permission errors\n"
            "  -h, --help              show this help\n"
            "  -v, --version           print the version and the compiled-in features\n"
            "\n"
            "Run 'husk COMMAND --help' for a command's flags.\n",
            HUSK_DEFAULT_ROOT);
}

/* ---- global flags ---- */

enum {
    OPT_ROOT = 256,
    OPT_LOG,
    OPT_LOG_FORMAT,
    OPT_LOG_LEVEL,
    OPT_DEBUG,
    OPT_SYSTEMD_CGROUP,
    OPT_CGROUP_MANAGER,
    OPT_ROOTLESS,
};

static const struct option global_options[] = {
    { "root", required_argument, NULL, OPT_ROOT },
    { "log", required_argument, NULL, OPT_LOG },
    { "log-format", required_argument, NULL, OPT_LOG_FORMAT },
    { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
    { "debug", no_argument, NULL, OPT_DEBUG },
    { "systemd-cgroup", no_argument, NULL, OPT_SYSTEMD_CGROUP },
    { "cgroup-manager", required_argument, NULL, OPT_CGROUP_MANAGER },
    { "rootless", required_argument, NULL, OPT_ROOTLESS },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'v' },
    { NULL, 0, NULL, 0 },
};

static bool is_one_of(const char *value, const char *const *allowed)
{
    for (; *allowed != NULL; allowed++)
        if (strcmp(value, *allowed) == 0)
            return true;
    return false;
}

/* What the flags ask for beyond struct husk_global. */
struct global_request {
    bool help;
    bool version;
    bool level_given;
};

/* --log FILE gets every record at the chosen level; without it, records go
 * to stderr only when asked for with --debug or --log-level. quiet: for
 * reporting a bad command line, where a log file that cannot be opened must
 * not hide the actual mistake. */
static int start_logging(const struct husk_global *g, const struct global_request *req, bool quiet)
{
    enum husk_log_format format = HUSK_LOG_TEXT;
    enum husk_log_level level = HUSK_LOG_WARNING;
    (void) husk_log_format_parse(g->log_format, &format);
    (void) husk_log_level_parse(g->debug ? "debug" : g->log_level, &level);

    if (g->log_path == NULL && !g->debug && !req->level_given)
        return 0;

    cleanup_error husk_error_t err = NULL;
    if (husk_log_init(g->log_path, format, level, &err) < 0) {
        if (!quiet)
            fprintf(stderr, "husk: %s\n", err->msg);
        return 1;
    }
    return 0;
}

/* A bad global flag is also logged to the --log file when that flag came
 * before the mistake: conmon and the shim show the log, not stderr. */
#define GLOBAL_USAGE_ERROR(...) \
    (start_logging(g, req, true), husk_cli_usage_error(NULL, __VA_ARGS__))

/* Parses the global flags, which stop at the first non-flag word (the
 * subcommand), so `husk --root X spec --rootless` gives --rootless to spec.
 * Returns 0, or the exit status of a usage error. */
static int parse_global_flags(int argc, char **argv, struct husk_global *g,
                              struct global_request *req)
{
    static const char *const log_formats[] = { "text", "json", NULL };
    static const char *const managers[] = { "cgroupfs", "systemd", "disabled", NULL };
    static const char *const rootless_values[] = { "true", "false", "auto", NULL };
    const char *explicit_manager = NULL;
    int c;

    while ((c = getopt_long(argc, argv, "+:hv", global_options, NULL)) != -1) {
        switch (c) {
        case OPT_ROOT:
            if (optarg[0] == '\0')
                return GLOBAL_USAGE_ERROR("--root needs a directory, got an empty value");
            g->root = optarg;
            break;
        case OPT_LOG:
            if (optarg[0] == '\0')
                return GLOBAL_USAGE_ERROR("--log needs a file, got an empty value");
            g->log_path = optarg;
            break;
        case OPT_LOG_FORMAT:
            if (!is_one_of(optarg, log_formats))
                return GLOBAL_USAGE_ERROR("invalid --log-format `%s` (want text or json)", optarg);
            g->log_format = optarg;
            break;
        case OPT_LOG_LEVEL: {
            enum husk_log_level level;
            if (husk_log_level_parse(optarg, &level) < 0)
                return GLOBAL_USAGE_ERROR(
                    "invalid --log-level `%s` (want debug, info, warning or error)", optarg);
            g->log_level = optarg;
            req->level_given = true;
            break;
        }
        case OPT_DEBUG:
            g->debug = true;
            break;
        case OPT_SYSTEMD_CGROUP:
            g->systemd_cgroup = true;
            break;
        case OPT_CGROUP_MANAGER:
            if (!is_one_of(optarg, managers))
                return GLOBAL_USAGE_ERROR(
                    "invalid --cgroup-manager `%s` (want cgroupfs, systemd or disabled)", optarg);
            explicit_manager = optarg;
            break;
        case OPT_ROOTLESS:
            if (!is_one_of(optarg, rootless_values))
                return GLOBAL_USAGE_ERROR("invalid --rootless `%s` (want true, false or auto)",
                                          optarg);
            g->rootless = optarg;
            break;
        case 'h':
            req->help = true;
            break;
        case 'v':
            req->version = true;
            break;
        default:
            start_logging(g, req, true);
            return husk_cli_option_error(NULL, c, argv);
        }
    }

    if (explicit_manager != NULL && g->systemd_cgroup && strcmp(explicit_manager, "systemd") != 0)
        return GLOBAL_USAGE_ERROR("--systemd-cgroup conflicts with --cgroup-manager %s",
                                  explicit_manager);
    if (explicit_manager != NULL)
        g->cgroup_manager = explicit_manager;
    else if (g->systemd_cgroup)
        g->cgroup_manager = "systemd";
    g->systemd_cgroup = strcmp(g->cgroup_manager, "systemd") == 0;
    if (g->debug)
        g->log_level = "debug";
    return 0;
}

/* `husk help [COMMAND]` */
static int run_help(struct husk_global *g, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "help") == 0) {
        print_help(stdout);
        return 0;
    }
    const struct husk_command *cmd = find_command(argv[1]);
    if (cmd == NULL) {
        fprintf(stderr, "husk: no help for unknown command `%s`\nRun 'husk --help' for the commands.\n",
                argv[1]);
        return HUSK_EXIT_UNKNOWN_COMMAND;
    }
    char *help_argv[] = { (char *) cmd->name, "--help", NULL };
    optind = 0;
    return cmd->run(g, 2, help_argv);
}

int main(int argc, char **argv)
{
    struct husk_global g = {
        .root = HUSK_DEFAULT_ROOT,
        .log_format = "text",
        .log_level = "warning",
        .cgroup_manager = "cgroupfs",
        .rootless = "auto",
    };
    struct global_request req = { 0 };

    int status = parse_global_flags(argc, argv, &g, &req);
    if (status != 0)
        return status;
    if (req.help) {
        print_help(stdout);
        return 0;
    }
    if (req.version) {
        print_version();
        return 0;
    }
    if (optind >= argc) {
        /* As runc: no command shows the help. */
        print_help(stdout);
        return 0;
    }
    status = start_logging(&g, &req, false);
    if (status != 0)
        return status;

    char **cmd_argv = argv + optind;
    int cmd_argc = argc - optind;
    const char *name = cmd_argv[0];

    if (strcmp(name, "help") == 0)
        return run_help(&g, cmd_argc, cmd_argv);

    const struct husk_command *cmd = find_command(name);
    if (cmd == NULL) {
        fprintf(stderr, "husk: unknown command `%s`\nRun 'husk --help' for the commands.\n", name);
        if (husk_log_to_file())
            husk_log_error("unknown command `%s`", name);
        return HUSK_EXIT_UNKNOWN_COMMAND;
    }

    husk_log_debug("husk %s: running %s", PACKAGE_VERSION, name);
    optind = 0; /* full getopt reset: the command parses its own argv */
    status = cmd->run(&g, cmd_argc, cmd_argv);
    husk_log_close();
    return status;
}
