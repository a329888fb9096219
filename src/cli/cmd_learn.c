/* neurodyn learn SUBCOMMAND: learning rules beyond backprop (docs/learning.md). Each subcommand is one file,
 * cmd_learn_<name>.c; this one dispatches to them. */
#include "cli.h"
#include "cmd_learn.h"
#include "subcmd.h"

static const cli_sub SUBS[] = {
    {"train", learn_train, "--task TASK --rule RULE --out RUN_DIR [options]"},
    {"gradients", learn_gradients, "RUN_DIR [--rules bp,fa,dfa,sign,np,wp] [--samples 200] [--json[=FILE]]\n"
                                   "                                [--svg plane.svg]   (the bias-variance plane)"},
    {"compare", learn_compare, "RUN_DIR... [--data test] [--svg curves.svg]"},
    {"tuning", learn_tuning, "RUN_DIR [--task orientation] [--out RUN_DIR/tuning.h5]"},
};

static const char ABOUT[] =
    "Trains a multilayer perceptron (tanh hidden layers) or a recurrent network with one learning rule;\n"
    "measures the bias and variance of every rule's gradient estimate at the run's initial and final\n"
    "weights; compares runs (accuracy curves, per-layer linear CKA to the initial weights and to the first\n"
    "run); measures per-layer orientation tuning before vs after reward learning.\n";

int cmd_learn(int argc, char **argv) {
    return cli_subcommand("learn", SUBS, (int)(sizeof SUBS / sizeof SUBS[0]), ABOUT,
                          "learn train --task fashion-mnist --rule fa --epochs 10 --out run_fa/\n"
                          "learn gradients run_fa/ --rules bp,fa,np,wp --samples 200 --json=grads.json",
                          argc, argv);
}
