/* Commands made of subcommands (neurodyn neuron fit, neurodyn learn train, ...): one dispatcher, so that every such
 * command answers a bare call, --help and a mistyped subcommand ("did you mean") the same way. */
#ifndef ND_CLI_SUBCMD_H
#define ND_CLI_SUBCMD_H

typedef struct {
    const char *name;            /* "fit" */
    int (*fn)(int argc, char **argv); /* called with argv[0] = the subcommand's name */
    const char *usage;           /* what follows "neurodyn CMD NAME " in the overview's usage lines */
} cli_sub;

/* neurodyn CMD SUB ...: runs SUB (subs: n entries) on argv[1..argc). CMD alone prints the overview to stderr
 * (exit 2), CMD --help to stdout (exit 0): the subcommands' usage lines, `about` and the examples (one per line,
 * without "neurodyn "). An unknown SUB gets one line naming the subcommands and the nearest one (exit 2). */
int cli_subcommand(const char *cmd, const cli_sub *subs, int n, const char *about, const char *examples, int argc,
                   char **argv);
#endif
