/* neurodyn neuron SUBCOMMAND: "a single neuron as a deep network" (docs/neuron.md). Each subcommand is one file,
 * cmd_neuron_<name>.c; this one dispatches to them. */
#include "cli.h"
#include "cmd_neuron.h"
#include "subcmd.h"

static const cli_sub SUBS[] = {
    {"simulate", neuron_simulate, "--cell CELL --sims K --seconds S [--seed N] --out sims.h5"},
    {"fit", neuron_fit, "sims.h5 --out RUN_DIR [--depth 7 --width 128 --first-kernel 35 --kernel 5] [--epochs N]\n"
                        "                          [--resume]"},
    {"eval", neuron_eval, "RUN_DIR --data test_sims.h5 [--json[=FILE]]"},
    {"sweep", neuron_sweep, "sims.h5 --test test_sims.h5 --out DIR [--depths 1,2,3,5,7] [--widths 32,128]"},
    {"filters", neuron_filters, "RUN_DIR --out filters.h5 [--svg filters.svg]"},
    {"compare", neuron_compare, "SWEEP_DIR... --out DIR   (several sweeps in one figure)"},
};

static const char ABOUT[] =
    "Simulates a ground-truth neuron driven by thousands of Poisson inputs (iaf, branched, branched-ampa in C;\n"
    "the Hay et al. 2011 L5PC in NEURON), fits a temporally convolutional network to its output spikes and\n"
    "somatic voltage, scores it on held-out simulations, sweeps depth and width (accuracy vs complexity), and\n"
    "writes the first layer's spatio-temporal templates.\n";

int cmd_neuron(int argc, char **argv) {
    return cli_subcommand("neuron", SUBS, (int)(sizeof SUBS / sizeof SUBS[0]), ABOUT,
                          "neuron simulate --cell branched --sims 200 --seconds 6 --out train_sims.h5\n"
                          "neuron fit train_sims.h5 --out tcn_run/ --depth 7 --width 128",
                          argc, argv);
}
