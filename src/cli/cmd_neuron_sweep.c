/* neurodyn neuron sweep: parse, nd_tcn_sweep_files (src/eval/neuron_eval.c), print the table of networks. */
#include "cli.h"
#include "cmd_neuron.h"
#include "../eval/neuron_eval.h"
#include <stdio.h>
#include <stdlib.h>

static const char ABOUT[] =
    "Fits one network per depth and width (DIR/dD_wW, each as 'neuron fit' would; finished ones are\n"
    "reused and interrupted ones resumed, so the sweep can be restarted) and scores each on the test\n"
    "simulations: DIR/sweep.tsv, DIR/sweep.json, DIR/auc_vs_depth.svg, DIR/ev_vs_depth.svg.\n"
    "--receptive-field MS gives every depth the same temporal extent (the first kernel shrinks as\n"
    "layers are added), so that depth is not confounded with the time window.\n";

int neuron_sweep(int argc, char **argv) {
    nd_tcn_sweep_opts o;
    nd_tcn_sweep_opts_default(&o);
    const char *test = NULL, *depths = NULL, *widths = NULL;
    long rf = 0;
    neuron_fit_args a;
    cli_opt opts[NEURON_FIT_NOPTS + 6] = {
        {"out", 'o', CLI_STR, NULL, "sweep directory (required)", &o.out_dir, 0, 0, NULL, "DIR"},
        {"test", 0, CLI_STR, NULL, "held-out simulations that score every network (required)", &test, 0, 0, NULL,
         "FILE"},
        {"depths", 0, CLI_STR, NULL, "comma-separated depths (default 1,2,3,5,7)", &depths, 0, 0, NULL, "LIST"},
        {"widths", 0, CLI_STR, NULL, "comma-separated widths (default 32,128)", &widths, 0, 0, NULL, "LIST"},
        {"receptive-field", 0, CLI_INT, NULL, "the same temporal extent at every depth", &rf, 1, 100000, NULL, "MS"}};
    neuron_fit_table(opts + 5, &a);
    const cli_spec spec = {"neuron sweep", "sims.h5 --test test_sims.h5 --out DIR [--depths 1,2,3,5,7]\n"
                           "                             [--widths 32,128] [--receptive-field MS] [neuron fit options]",
                           ABOUT, "train_sims.h5 --test test_sims.h5 --depths 1,2,3,5,7 --widths 32,128 --out sweep/\n"
                           "train_sims.h5 --test test_sims.h5 --receptive-field 43 --out sweep_rf43/",
                           opts, 1, 1, "sims.h5, --test FILE and --out DIR", NULL};
    char *pos[argc > 0 ? argc : 1];
    int npos, rc = cli_parse(&spec, argc, argv, pos, &npos);
    if (rc) return rc < 0 ? 0 : rc;
    if (!o.out_dir || !test) {
        fprintf(stderr, "neurodyn neuron sweep: expected sims.h5, --test FILE and --out DIR (see --help)\n");
        return 2;
    }
    neuron_fit_apply(&a, &o.fit);
    o.receptive_field_ms = (int)rf;
    nd_tcn_sweep_row *rows = NULL;
    nd_error err;
    nd_status st = nd_tcn_sweep_set_lists(&o, depths, widths, &err);
    if (!st) st = nd_tcn_sweep_files(pos[0], test, &o, &rows, &err);
    if (st) {
        fprintf(stderr, "neurodyn neuron sweep: %s\n", err.msg);
        return st == ND_ERR_ARG ? 2 : 1;
    }
    printf("depth  width  RF ms  params     spike AUC  TPR@0.25%%  voltage EV\n");
    for (int k = 0; k < o.n_depths * o.n_widths; k++)
        printf("%5d  %5d  %5d  %9zu  %9.4f  %9.4f  %10.4f\n", rows[k].depth, rows[k].width, rows[k].receptive_field_ms,
               rows[k].params, rows[k].test.auc, rows[k].test.tpr_at_fpr, rows[k].test.v_ev);
    printf("-> %s/sweep.tsv, sweep.json, auc_vs_depth.svg, ev_vs_depth.svg\n", o.out_dir);
    free(rows);
    return 0;
}
