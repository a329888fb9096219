/* neurodyn neuron fit: parse, nd_tcn_fit_file (src/models/tcn_train.c), print where the best network is. */
#include "cli.h"
#include "cmd_neuron.h"
#include <stdio.h>

static const char ABOUT[] =
    "Fits a temporally convolutional network (causal conv -> ReLU -> batch norm per layer; the first layer\n"
    "is computed from the input spikes directly) to the cell's spikes (sigmoid, cross-entropy) and somatic\n"
    "voltage (clipped at -55 mV, standardised; squared error). The last --valid-fraction of the simulations\n"
    "choose best.ckpt (lowest loss). RUN_DIR gets config.txt, train_log.tsv, last.ckpt (every epoch,\n"
    "atomic) and best.ckpt; --resume continues last.ckpt exactly (same --threads: bit-identical).\n";

int neuron_fit(int argc, char **argv) {
    nd_tcn_fit_opts o;
    nd_tcn_fit_opts_default(&o);
    neuron_fit_args a;
    cli_opt opts[NEURON_FIT_NOPTS + 4] = {
        {"out", 'o', CLI_STR, NULL, "run directory (required)", &o.run_dir, 0, 0, NULL, "DIR"}};
    neuron_fit_table(opts + 1, &a);
    opts[NEURON_FIT_NOPTS + 1] = (cli_opt){"resume", 0, CLI_FLAG, NULL, "continue the run in DIR", &o.resume, 0, 0,
                                           NULL, NULL};
    opts[NEURON_FIT_NOPTS + 2] = (cli_opt){"force", 0, CLI_FLAG, NULL, "replace the run in DIR", &o.force, 0, 0, NULL,
                                           NULL};
    const cli_spec spec = {"neuron fit", "sims.h5 --out RUN_DIR [--depth 7 --width 128 --first-kernel 35 --kernel 5]\n"
                           "                           [--epochs N] [--resume | --force] [options]", ABOUT,
                           "train_sims.h5 --out tcn_run/ --depth 7 --width 128\n"
                           "train_sims.h5 --out fcn_run/ --depth 1 --width 128 --first-kernel 43",
                           opts, 1, 1, "one sims.h5 and --out RUN_DIR", NULL};
    char *pos[argc > 0 ? argc : 1];
    int npos, rc = cli_parse(&spec, argc, argv, pos, &npos);
    if (rc) return rc < 0 ? 0 : rc;
    if (!o.run_dir) {
        fprintf(stderr, "neurodyn neuron fit: expected one sims.h5 and --out RUN_DIR (see --help)\n");
        return 2;
    }
    neuron_fit_apply(&a, &o);
    nd_tcn_fit_result res;
    nd_error err;
    nd_status st = nd_tcn_fit_file(pos[0], &o, &res, &err);
    if (st) {
        fprintf(stderr, "neurodyn neuron fit: %s\n", err.msg);
        return st == ND_ERR_ARG ? 2 : 1;
    }
    if (!a.quiet)
        printf("done: best epoch %d, validation loss %.4f -> %s/best.ckpt (score it: neurodyn neuron eval)\n",
               res.best_epoch + 1, res.best_valid_loss, o.run_dir);
    return 0;
}
