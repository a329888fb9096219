/* neurodyn learn train: parse, nd_learn_opts_choose + nd_learn_train (src/models/learn_train.c), print the
 * test loss. */
#include "cli.h"
#include "cmd_learn.h"
#include "opt.h"
#include "../models/learn_train.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char ABOUT[] =
    "Trains a multilayer perceptron (tanh hidden layers) or, with --rnn, a leaky tanh recurrent network\n"
    "with one learning rule.\n"
    "  tasks: fashion-mnist (Debian package dataset-fashion-mnist), teacher (a random teacher network of\n"
    "         the same shape; squared error), orientation (noisy gratings left/right of 45 deg, learned\n"
    "         from a scalar reward only), flipflop (3-bit flip-flop; needs --rnn)\n"
    "  rules: bp (backprop), fa (feedback alignment), dfa (direct feedback alignment), sign (sign\n"
    "         symmetry), np (node perturbation), wp (weight perturbation); with --rnn: bptt, rflo\n"
    "RUN_DIR gets curves.tsv, last.ckpt (every epoch) and model.h5: weights, curves and layerK_activity of\n"
    "1000 test examples (and *_init at the initial weights) for 'neurodyn compare'; a --rnn run's model.h5\n"
    "also has valid_gen_states for 'neurodyn fixedpoints RUN_DIR --outputs RUN_DIR/model.h5'.\n";

int learn_train(int argc, char **argv) {
    nd_learn_opts o;
    nd_learn_opts_default(&o);
    const char *task = NULL, *rule = NULL, *arch = NULL, *baseline = NULL;
    long rnn = 0, epochs = 0, batch = 0, seed = 0, threads = 0;
    double lr = 0;
    int quiet = 0;
    const cli_opt opts[] = {
        {"task", 0, CLI_STR, NULL, "fashion-mnist | teacher | orientation | flipflop (required)", &task, 0, 0, NULL,
         "TASK"},
        {"rule", 0, CLI_STR, NULL, "bp | fa | dfa | sign | np | wp; with --rnn: bptt | rflo (required)", &rule, 0, 0, NULL,
         "RULE"},
        {"out", 'o', CLI_STR, NULL, "run directory (required)", &o.out_dir, 0, 0, NULL, "RUN_DIR"},
        {"arch", 0, CLI_STR, NULL, "layer widths (default per task: fashion-mnist 784-256-256-10, teacher\n"
         "                             20-50-5, orientation 256-64-64-64-2)", &arch, 0, 0, NULL, "784-256-256-10"},
        {"rnn", 0, CLI_INT, NULL, "a leaky tanh RNN of N units instead (task flipflop; Adam)", &rnn, 1, 4096, NULL, "N"},
        {"epochs", 0, CLI_INT, "10", "epochs (a resumed run continues to N)", &epochs, 1, 1e9, NULL, "N"},
        {"lr", 0, CLI_REAL, NULL, "SGD step (default 0.05; Adam 3e-3 with --rnn)", &lr, 1e-12, 100, NULL, "X"},
        {"batch", 0, CLI_INT, NULL, "examples per step (default 64; 32 sequences with --rnn)", &batch, 1, 1e9, NULL, "N"},
        {"sigma", 0, CLI_REAL, "0.001", "perturbation SD of np and wp", &o.sigma, 1e-12, 10, NULL, "X"},
        {"baseline", 0, CLI_CHOICE, "two-point", "np, wp on supervised tasks: compare the perturbed loss with a\n"
         "                             running average of past losses (Werfel et al. 2005) or with the unperturbed\n"
         "                             loss of the same batch; reward learning always uses the running reward",
         &baseline, 0, 0, "running|two-point", NULL},
        {"angle", 0, CLI_REAL, "10", "orientation: largest offset from 45 deg", &o.ori_angle, 1e-9, 45, NULL, "DEG"},
        {"noise", 0, CLI_REAL, "1", "orientation: pixel noise SD", &o.ori_noise, 0, 100, NULL, "SD"},
        {"seed", 0, CLI_INT, "0", "random seed", &seed, 0, 9.2e18, NULL, "N"},
        {"threads", 't', CLI_THREADS, NULL, "BLAS threads", &threads, 0, 0, NULL, NULL},
        {"data-dir", 0, CLI_STR, NULL, "Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)",
         &o.data_dir, 0, 0, NULL, "DIR"},
        {"resume", 0, CLI_FLAG, NULL, "continue RUN_DIR", &o.resume, 0, 0, NULL, NULL},
        {"force", 0, CLI_FLAG, NULL, "replace the run in RUN_DIR", &o.force, 0, 0, NULL, NULL},
        {"quiet", 0, CLI_FLAG, NULL, "no progress lines", &quiet, 0, 0, NULL, NULL},
        {0}};
    const cli_spec spec = {"learn train", "--task TASK --rule RULE --out RUN_DIR [--arch W0-W1-..-WL | --rnn N]\n"
                           "                            [--epochs N] [--lr X] [--resume | --force] [options]", ABOUT,
                           "--task fashion-mnist --rule fa --epochs 10 --out run_fa/\n"
                           "--task flipflop --rnn 32 --rule bptt --epochs 10 --out ff/", opts, 0, 0,
                           "no positional arguments (the run directory is --out)", NULL};
    char *pos[argc > 0 ? argc : 1];
    int npos, rc = cli_parse(&spec, argc, argv, pos, &npos);
    if (rc) return rc < 0 ? 0 : rc;
    if (!o.out_dir || (!o.resume && (!task || !rule))) {
        fprintf(stderr, "neurodyn learn train: --task, --rule and --out are required (see --help)\n");
        return 2;
    }
    o.rnn_units = (int)rnn;
    o.epochs = (int)epochs;
    o.lr = lr;            /* 0: the network's default */
    o.batch = (int)batch; /* 0: the network's default */
    o.seed = (uint64_t)seed;
    o.threads = (int)threads;
    o.running_baseline = !strcmp(baseline, "running");
    o.progress = quiet ? NULL : stdout;
    nd_learn_result res;
    nd_error err;
    nd_status st = nd_learn_opts_choose(&o, task, rule, arch, &err);
    if (!st) st = nd_learn_train(&o, &res, &err);
    if (st) {
        fprintf(stderr, "neurodyn learn train: %s\n", err.msg);
        return st == ND_ERR_ARG ? 2 : 1;
    }
    if (!quiet) {
        printf("done: test loss %.4f", res.test_loss);
        if (isfinite(res.test_accuracy)) printf(", test accuracy %.4f", res.test_accuracy);
        printf(" -> %s/model.h5\n", o.out_dir);
    }
    return 0;
}
