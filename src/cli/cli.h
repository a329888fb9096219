/* Subcommands of the neurodyn CLI. Each returns the process exit status:
 * 0 success, 1 runtime failure (bad file, diverged run), 2 usage error. */
#ifndef ND_CLI_H
#define ND_CLI_H
int cmd_simulate(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_infer(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_rdm(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_jpca(int argc, char **argv);
int cmd_fixedpoints(int argc, char **argv);
int cmd_ablate(int argc, char **argv);
int cmd_search(int argc, char **argv);

/* one-line message for an option getopt_long rejected (call with opterr = 0) */
void cli_bad_option(const char *cmd, char **argv);
#endif
