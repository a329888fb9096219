/* The dispatcher of commands with subcommands (see subcmd.h). */
#include "subcmd.h"
#include "../core/suggest.h"
#include <stdio.h>
#include <string.h>

#define MAX_SUBS 32

static void overview(const char *cmd, const cli_sub *subs, int n, const char *about, const char *examples, FILE *f) {
    for (int i = 0; i < n; i++)
        fprintf(f, "%s neurodyn %s %s %s\n", i ? "      " : "usage:", cmd, subs[i].name, subs[i].usage);
    fprintf(f, "       (neurodyn %s <subcommand> --help for its options)\n\n%s\nexamples:\n", cmd, about);
    for (const char *p = examples; *p;) {
        size_t k = strcspn(p, "\n");
        fprintf(f, "  neurodyn %.*s\n", (int)k, p);
        p += k;
        if (*p) p++;
    }
}

int cli_subcommand(const char *cmd, const cli_sub *subs, int n, const char *about, const char *examples, int argc,
                   char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        overview(cmd, subs, n, about, examples, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *names[MAX_SUBS];
    char avail[512] = "";
    for (int i = 0; i < n && i < MAX_SUBS; i++) {
        if (!strcmp(argv[1], subs[i].name)) return subs[i].fn(argc - 1, argv + 1);
        names[i] = subs[i].name;
        snprintf(avail + strlen(avail), sizeof avail - strlen(avail), "%s%s", i ? ", " : "", subs[i].name);
    }
    const char *near = nd_suggest(argv[1], names, n < MAX_SUBS ? n : MAX_SUBS);
    if (near)
        fprintf(stderr, "neurodyn %s: unknown subcommand '%s'; did you mean '%s'? (available: %s)\n", cmd, argv[1], near,
                avail);
    else
        fprintf(stderr, "neurodyn %s: unknown subcommand '%s' (available: %s)\n", cmd, argv[1], avail);
    return 2;
}
