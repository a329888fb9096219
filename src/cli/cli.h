/* Subcommands of the neurodyn CLI. Each returns the process exit status:
 * 0 success, 1 runtime failure (bad file, diverged run), 2 usage error. */
#ifndef ND_CLI_H
#define ND_CLI_H
#include <signal.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include "../models/lfads.h"
#include "../io/lfads_data.h"
#include "../core/suggest.h"
int cmd_simulate(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_infer(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_baseline(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_rdm(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_jpca(int argc, char **argv);
int cmd_fixedpoints(int argc, char **argv);
int cmd_ablate(int argc, char **argv);
int cmd_decode(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_neuron(int argc, char **argv);
int cmd_learn(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_export(int argc, char **argv);

/* one-line message for an option getopt_long rejected (call with opterr = 0) */
void cli_bad_option(const char *cmd, char **argv);
/* prints root as JSON to path (written atomically) or, with path NULL, to stdout; 0 or 1 with a message */
int cli_write_json(const char *cmd, const cJSON *root, const char *path);
/* resolves RUN (a run directory or a checkpoint) into ckpt and loads the model; 0 or 1 with a message */
int cli_load_run(const char *cmd, const char *run, char *ckpt, size_t cap, nd_lfads_model *m, int mdims[3]);
/* Reads DATA as RUN's model m was trained on it (split seed, valid fraction, the values its recon takes) and checks
 * the checkpoint's data fingerprint against it (nd_lfads_check_data; allow: --allow-data-mismatch). out (may be NULL)
 * gets the data, for the caller to free. 0, or 1 after a one-line message. */
int cli_check_data(const char *cmd, const char *ckpt, const nd_lfads_model *m, const char *data, int allow,
                   nd_lfads_data *out);
/* Ctrl-C (SIGINT) and SIGTERM set the returned flag (for nd_train_opts.stop) and print that the command stops after
 * the current epoch's checkpoint; a second one ends the process at once. */
volatile sig_atomic_t *cli_catch_interrupt(void);
/* which values the data datasets may hold for reconstruction model `recon` (ND_DATA_* of src/io/lfads_data.h) */
int cli_data_values(int recon);
#endif
