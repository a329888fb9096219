/* neurodyn neuron eval: parse, nd_tcn_evaluate_file (src/eval/neuron_eval.c), print the scores or their JSON. */
#include "cli.h"
#include "cmd_neuron.h"
#include "../eval/neuron_eval.h"
#include <stdio.h>

static const char ABOUT[] =
    "Scores a fitted network (RUN_DIR/best.ckpt, or a checkpoint) on simulations it never saw, the first\n"
    "500 ms of each left out: spike ROC AUC over 1 ms bins, the true-positive rate at --fpr false positives,\n"
    "and the voltage's explained variance, RMSE and MAE against the truth clipped at -55 mV.\n";

int neuron_eval(int argc, char **argv) {
    const char *data = NULL;
    double fpr = 0;
    cli_json json = {0, NULL};
    const cli_opt opts[] = {
        {"data", 'd', CLI_STR, NULL, "held-out simulations of the same cell (required)", &data, 0, 0, NULL, "FILE"},
        {"fpr", 0, CLI_REAL, "0.0025", "false-positive rate of the reported true-positive rate", &fpr, 0, 1, NULL, "X"},
        {"json", 0, CLI_JSON, NULL, "the scores as JSON: to stdout instead of the table, or to FILE (atomically)",
         &json, 0, 0, NULL, NULL},
        {0}};
    const cli_spec spec = {"neuron eval", "RUN_DIR --data test_sims.h5 [--json[=FILE]] [--fpr 0.0025]", ABOUT,
                           "tcn_run/ --data test_sims.h5\ntcn_run/ --data test_sims.h5 --json=scores.json", opts, 1, 1,
                           "RUN_DIR and --data FILE", NULL};
    char *pos[argc > 0 ? argc : 1];
    int npos, rc = cli_parse(&spec, argc, argv, pos, &npos);
    if (rc) return rc < 0 ? 0 : rc;
    if (!data) {
        fprintf(stderr, "neurodyn neuron eval: expected RUN_DIR and --data FILE (see --help)\n");
        return 2;
    }
    nd_tcn_scores s;
    nd_error err;
    if (nd_tcn_evaluate_file(pos[0], data, fpr, &s, &err)) {
        fprintf(stderr, "neurodyn neuron eval: %s\n", err.msg);
        return 1;
    }
    if (json.on) {
        cJSON *o = nd_tcn_scores_json(&s);
        rc = cli_write_json("neuron eval", o, json.path); /* NULL o: "out of memory" */
        cJSON_Delete(o);
        if (rc || !json.path) return rc;
    }
    printf("%d simulations, %ld bins (first 500 ms of each left out)\n", s.sims, s.bins);
    printf("spike AUC          %.4f\nTPR at %.2f%% FPR   %.4f\nvoltage EV         %.4f\nvoltage RMSE       %.3f mV\n"
           "voltage MAE        %.3f mV\n", s.auc, 100 * s.fpr, s.tpr_at_fpr, s.v_ev, s.v_rmse, s.v_mae);
    return 0;
}
