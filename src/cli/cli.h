/* Subcommands of the neurodyn CLI. Each returns the process exit status:
 * 0 success, 1 runtime failure (bad file, diverged run), 2 usage error. */
#ifndef ND_CLI_H
#define ND_CLI_H
#include <stddef.h>
#include <cjson/cJSON.h>
#include "../models/lfads.h"
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
int cmd_export(int argc, char **argv);

/* one-line message for an option getopt_long rejected (call with opterr = 0) */
void cli_bad_option(const char *cmd, char **argv);
/* prints root as JSON to path (written atomically) or, with path NULL, to stdout; 0 or 1 with a message */
int cli_write_json(const char *cmd, const cJSON *root, const char *path);
/* resolves RUN (a run directory or a checkpoint) into ckpt and loads the model; 0 or 1 with a message */
int cli_load_run(const char *cmd, const char *run, char *ckpt, size_t cap, nd_lfads_model *m, int mdims[3]);
/* which values the data datasets may hold for reconstruction model `recon` (ND_DATA_* of src/io/lfads_data.h) */
int cli_data_values(int recon);
#endif
