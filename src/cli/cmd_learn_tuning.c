/* neurodyn learn tuning: parse, nd_learn_tuning (src/analysis/learn_analysis.c), print the per-layer table. */
#include "cli.h"
#include "cmd_learn.h"
#include "opt.h"
#include "../analysis/learn_analysis.h"
#include <stdio.h>

static const char ABOUT[] =
    "Per-layer orientation tuning of an orientation run ('neurodyn learn train --task orientation') before vs\n"
    "after learning, at the trained reference orientation: mean |slope| of the units' tuning curves, mean\n"
    "single-unit and the layer's linear Fisher information, and how much the tuning curves changed.\n"
    "Writes the tuning curves and the table to --out.\n";

int learn_tuning(int argc, char **argv) {
    const char *out = NULL, *task = NULL;
    const cli_opt opts[] = {
        {"task", 0, CLI_CHOICE, "orientation", "the run's task: only orientation runs have tuning curves", &task, 0, 0,
         "orientation", NULL},
        {"out", 'o', CLI_STR, NULL, "HDF5 output (default RUN_DIR/tuning.h5)", &out, 0, 0, NULL, "FILE"},
        {0}};
    const cli_spec spec = {"learn tuning", "RUN_DIR [--task orientation] [--out RUN_DIR/tuning.h5]", ABOUT,
                           "run_np/\nrun_np/ --out tuning_np.h5", opts, 1, 1, "one RUN_DIR", NULL};
    char *pos[argc > 0 ? argc : 1];
    int npos, rc = cli_parse(&spec, argc, argv, pos, &npos);
    if (rc) return rc < 0 ? 0 : rc;
    char def[4096];
    if (!out) { snprintf(def, sizeof def, "%s/tuning.h5", pos[0]); out = def; }
    nd_learn_tuning_result r;
    nd_error err;
    nd_status st = nd_learn_tuning(pos[0], out, &r, &err);
    if (st) {
        fprintf(stderr, "neurodyn learn tuning: %s\n", err.msg);
        return st == ND_ERR_ARG ? 2 : 1;
    }
    printf("orientation tuning at the trained reference (%.0f deg), before -> after learning (test accuracy %.3f)\n",
           ND_ORI_REF_DEG, r.accuracy);
    printf("layer units  mean|slope| (/deg)       slope ratio  single-unit FI (/deg^2)  FI ratio  population FI ratio  "
           "tuning change\n");
    for (int l = 0; l < r.L; l++)
        printf("%-5d %5d  %9.3g -> %-9.3g  %8.2f     %9.3g -> %-9.3g  %8.2f  %10.2f           %8.3f\n", l + 1,
               r.units[l], r.slope[0][l], r.slope[1][l], r.slope[1][l] / r.slope[0][l], r.fisher[0][l], r.fisher[1][l],
               r.fisher[1][l] / r.fisher[0][l], r.fisher_pop[1][l] / r.fisher_pop[0][l], r.change[l]);
    printf("-> %s\n", out);
    return 0;
}
