/* neurodyn neuron filters: parse, nd_tcn_filters_file (src/models/tcn_filters.c), print what was written. */
#include "cli.h"
#include "cmd_neuron.h"
#include <stdio.h>

static const char ABOUT[] =
    "Writes the first layer's spatio-temporal templates: the weights [unit][synapse][lag ms], and per\n"
    "unit the mean template of the excitatory and of the inhibitory synapses in equal bins of distance\n"
    "from the soma; --svg draws the strongest unit's templates as a heat map.\n";

int neuron_filters(int argc, char **argv) {
    const char *out = NULL, *svg = NULL;
    long bins = 0;
    const cli_opt opts[] = {
        {"out", 'o', CLI_STR, NULL, "output HDF5 file (required)", &out, 0, 0, NULL, "FILE"},
        {"svg", 0, CLI_STR, NULL, "heat map of the strongest unit's templates", &svg, 0, 0, NULL, "FILE"},
        {"distance-bins", 0, CLI_INT, "10", "bins of distance from the soma", &bins, 1, 1000, NULL, "N"},
        {0}};
    const cli_spec spec = {"neuron filters", "RUN_DIR --out filters.h5 [--svg filters.svg] [--distance-bins 10]", ABOUT,
                           "tcn_run/ --out filters.h5 --svg filters.svg", opts, 1, 1, "RUN_DIR and --out FILE", NULL};
    char *pos[argc > 0 ? argc : 1];
    int npos, rc = cli_parse(&spec, argc, argv, pos, &npos);
    if (rc) return rc < 0 ? 0 : rc;
    if (!out) {
        fprintf(stderr, "neurodyn neuron filters: expected RUN_DIR and --out FILE (see --help)\n");
        return 2;
    }
    nd_tcn_filters_shape sh;
    nd_error err;
    nd_status st = nd_tcn_filters_file(pos[0], (int)bins, out, svg, &sh, &err);
    if (st) {
        fprintf(stderr, "neurodyn neuron filters: %s\n", err.msg);
        return st == ND_ERR_ARG ? 2 : 1;
    }
    printf("neurodyn neuron filters: %d units x %d synapses x %d ms -> %s%s%s\n", sh.units, sh.synapses, sh.lags, out,
           svg ? ", " : "", svg ? svg : "");
    return 0;
}
