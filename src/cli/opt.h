/* The CLI's one option parser: each command describes its options in a table of {name, short, kind, default,
 * help, destination}, and cli_parse fills the destinations, rejects bad values with one line naming the option,
 * suggests the nearest option for a mistyped one ("did you mean"), and prints --help from the same table (ending
 * with the command's examples). The uniform flags are kinds of their own, so they mean the same in every command:
 *   CLI_JSON     --json (JSON to stdout) or --json=FILE (also '--json FILE' when FILE ends in .json)
 *   CLI_THREADS  --threads N; default: OMP_NUM_THREADS when set, else every online core
 *   CLI_CHOICE   e.g. --split train|valid|test|all
 * Aliases of an option are listed after its name, separated by '|' ("split|eval-split|test-split"): the first
 * name is the one --help shows, the others stay accepted (old flags in the README are a contract with users). */
#ifndef ND_CLI_OPT_H
#define ND_CLI_OPT_H
#include <stdio.h>

typedef enum {
    CLI_FLAG,    /* no value; dst: int *, set to 1 */
    CLI_STR,     /* dst: const char ** */
    CLI_INT,     /* dst: long *, within [lo, hi] */
    CLI_REAL,    /* dst: double *, finite, within [lo, hi] */
    CLI_CHOICE,  /* dst: const char **, one of choices ("zero|mean") */
    CLI_JSON,    /* dst: cli_json * */
    CLI_THREADS, /* dst: long *, 1..1024; default as above */
    CLI_LIST,    /* repeatable; dst: cli_list * (the values, in order) */
    CLI_OPTREAL, /* --NAME alone, --NAME=X, or --NAME X when X is a number; dst: cli_optreal *, X within [lo, hi] */
} cli_kind;

typedef struct {
    const char *name;    /* long name(s) without "--": "split|eval-split" */
    char shrt;           /* short option letter, or 0 */
    cli_kind kind;
    const char *def;     /* default as text: parsed into dst before the arguments (NULL: dst untouched) */
    const char *help;    /* one line (may contain "\n" + indentation for more) */
    void *dst;
    double lo, hi;       /* CLI_INT / CLI_REAL bounds (lo == hi == 0: any value) */
    const char *choices; /* CLI_CHOICE */
    const char *meta;    /* the value's name in --help (NULL: N, X, VALUE by kind) */
} cli_opt;

typedef struct {
    int on;           /* --json given */
    const char *path; /* its FILE, or NULL for stdout */
} cli_json;

typedef struct {
    const char **v;
    int n;
} cli_list;

typedef struct {
    int on;   /* the option was given */
    double v; /* its value; untouched when given without one */
} cli_optreal;

typedef struct {
    const char *cmd;      /* "ablate" */
    const char *usage;    /* what follows "neurodyn CMD " in the usage line(s) */
    const char *about;    /* the description paragraph(s), ending with "\n" */
    const char *examples; /* one or two real examples, one per line, without "neurodyn " */
    const cli_opt *opts;  /* terminated by {0} */
    int min_pos, max_pos; /* positional arguments accepted (max_pos < 0: any number) */
    const char *pos_what; /* what the positional arguments are, for the error line ("one RUN") */
    void (*extra_help)(FILE *f); /* more help after the options (NULL: none) */
} cli_spec;

/* Parse argv[1..argc) (argv[0] is the command). Returns 0 with the positional arguments in pos[0..*npos) (pos has
 * room for argc pointers), -1 after printing --help (exit 0), or 2 after a one-line usage error on stderr. */
int cli_parse(const cli_spec *s, int argc, char **argv, char **pos, int *npos);
void cli_help(const cli_spec *s, FILE *f);
void cli_list_free(cli_list *l);
/* the default of CLI_THREADS */
long cli_default_threads(void);

#endif
