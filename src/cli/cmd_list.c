/* husk list: the containers of the --root store, as runc lists them. */
#include "config.h"

#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "container.h"

/* Like Go's tabwriter as runc sets it up: cells padded to the widest in
 * their column plus 3, at least 12; the last column unpadded. */
#define N_COLUMNS 6

static void print_row(const char *const cells[N_COLUMNS], const size_t widths[N_COLUMNS])
{
    for (int i = 0; i < N_COLUMNS; i++) {
        if (i == N_COLUMNS - 1)
            printf("%s\n", cells[i]);
        else
            printf("%-*s", (int) widths[i], cells[i]);
    }
}

static const char *owner_name(uid_t uid, char *buf, size_t len)
{
    struct passwd *pw = getpwuid(uid);
    if (pw != NULL)
        return pw->pw_name;
    snprintf(buf, len, "#%u", (unsigned) uid);
    return buf;
}

static void print_table(const husk_container_info *v, size_t n, bool quiet)
{
    if (quiet) {
        for (size_t i = 0; i < n; i++)
            printf("%s\n", v[i].rec->id);
        return;
    }
    static const char *const header[N_COLUMNS] = { "ID", "PID", "STATUS", "BUNDLE", "CREATED",
                                                   "OWNER" };
    char (*pids)[16] = calloc(n + 1, sizeof(*pids));
    char (*owners)[64] = calloc(n + 1, sizeof(*owners));
    const char **names = calloc(n + 1, sizeof(char *));
    if (pids == NULL || owners == NULL || names == NULL) {
        free(pids);
        free(owners);
        free(names);
        return;
    }
    size_t widths[N_COLUMNS];
    for (int c = 0; c < N_COLUMNS; c++)
        widths[c] = strlen(header[c]);
    for (size_t i = 0; i < n; i++) {
        const husk_state_record *r = v[i].rec;
        snprintf(pids[i], sizeof(pids[i]), "%d",
                 strcmp(v[i].status, "stopped") == 0 ? 0 : (int) r->pid);
        names[i] = owner_name(r->owner_uid, owners[i], sizeof(owners[i]));
        if (names[i] != owners[i]) {
            snprintf(owners[i], sizeof(owners[i]), "%s", names[i]);
            names[i] = owners[i];
        }
        const char *cells[N_COLUMNS] = { r->id, pids[i], v[i].status, r->bundle,
                                         r->created ? r->created : "", names[i] };
        for (int c = 0; c < N_COLUMNS; c++)
            if (strlen(cells[c]) > widths[c])
                widths[c] = strlen(cells[c]);
    }
    for (int c = 0; c < N_COLUMNS; c++)
        widths[c] = widths[c] + 3 < 12 ? 12 : widths[c] + 3;
    print_row(header, widths);
    for (size_t i = 0; i < n; i++) {
        const husk_state_record *r = v[i].rec;
        const char *cells[N_COLUMNS] = { r->id, pids[i], v[i].status, r->bundle,
                                         r->created ? r->created : "", names[i] };
        print_row(cells, widths);
    }
    free(pids);
    free(owners);
    free(names);
}

static void print_json(const husk_container_info *v, size_t n)
{
    fputc('[', stdout);
    for (size_t i = 0; i < n; i++) {
        char buf[64];
        char *json = husk_container_info_json(&v[i], owner_name(v[i].rec->owner_uid, buf,
                                                                sizeof(buf)), false);
        printf("%s%s", i ? "," : "", json ? json : "{}");
        free(json);
    }
    fputs("]\n", stdout);
}

int cmd_list(struct husk_global *g, int argc, char **argv)
{
    static const struct option options[] = {
        { "quiet", no_argument, NULL, 'q' },
        { "format", required_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool quiet = false, json = false;
    int c;
    while ((c = getopt_long(argc, argv, ":qf:h", options, NULL)) != -1) {
        switch (c) {
        case 'q':
            quiet = true;
            break;
        case 'f':
            if (strcmp(optarg, "json") == 0)
                json = true;
            else if (strcmp(optarg, "table") == 0)
                json = false;
            else
                return husk_cli_usage_error(argv[0], "invalid --format `%s` (want table or json)",
                                            optarg);
            break;
        case 'h':
            printf("Usage: husk list [FLAGS]\n"
                   "\n"
                   "Lists the containers of the --root store.\n"
                   "\n"
                   "Flags:\n"
                   "  -q, --quiet          only the ids\n"
                   "  -f, --format FORMAT  table (default) or json\n"
                   "  -h, --help           show this help\n");
            return 0;
        default:
            return husk_cli_option_error(argv[0], c, argv);
        }
    }
    if (optind < argc)
        return husk_cli_usage_error(argv[0], "unexpected argument `%s` (list takes none)",
                                    argv[optind]);
    cleanup_error husk_error_t err = NULL;
    husk_container_info *v = NULL;
    size_t n = 0;
    if (husk_container_list(g->root, &v, &n, &err) < 0) {
        husk_error_wrap(&err, "list");
        return husk_cli_fail(g, &err);
    }
    if (json)
        print_json(v, n);
    else
        print_table(v, n, quiet);
    for (size_t i = 0; i < n; i++)
        husk_container_info_clear(&v[i]);
    free(v);
    return 0;
}
