/* neurodyn neuron compare: parse, nd_tcn_sweep_compare (src/eval/neuron_eval.c), print what was written. */
#include "cli.h"
#include "cmd_neuron.h"
#include "../eval/neuron_eval.h"
#include <stdio.h>

static const char ABOUT[] =
    "Draws several sweeps (e.g. one per cell) in one figure: DIR/compare.tsv and DIR/auc_vs_depth.svg,\n"
    "DIR/ev_vs_depth.svg, one curve per sweep and width.\n";

int neuron_compare(int argc, char **argv) {
    const char *out = NULL;
    const cli_opt opts[] = {{"out", 'o', CLI_STR, NULL, "output directory (required)", &out, 0, 0, NULL, "DIR"}, {0}};
    const cli_spec spec = {"neuron compare", "SWEEP_DIR... --out DIR", ABOUT,
                           "iaf/sweep branched-ampa/sweep branched/sweep --out figures/", opts, 1, -1,
                           "sweep directories and --out DIR", NULL};
    char *pos[argc > 0 ? argc : 1];
    int npos, rc = cli_parse(&spec, argc, argv, pos, &npos);
    if (rc) return rc < 0 ? 0 : rc;
    if (!out) {
        fprintf(stderr, "neurodyn neuron compare: expected sweep directories and --out DIR (see --help)\n");
        return 2;
    }
    nd_error err;
    if (nd_tcn_sweep_compare((const char *const *)pos, npos, out, &err)) {
        fprintf(stderr, "neurodyn neuron compare: %s\n", err.msg);
        return 1;
    }
    printf("neurodyn neuron compare: %d sweeps -> %s/compare.tsv, auc_vs_depth.svg, ev_vs_depth.svg\n", npos, out);
    return 0;
}
