/* neurodyn inspect FILE [--json[=FILE]] [--bin-ms MS] [--group NAME]: parse, nd_inspect (src/io/inspect.c), print. */
#include "cli.h"
#include "opt.h"
#include "../io/checkpoint.h"
#include "../io/inspect.h"
#include <stdio.h>
#include <string.h>

static void inspect_about(FILE *f) {
    fprintf(f, "\nWarnings: silent neurons (no spikes), rates above %.0f Hz, NaN, non-integer or negative counts,\n"
               "NaN event times, trials of different lengths. Errors: what 'neurodyn convert' would refuse.\n"
               "Exit status: 0, or 1 if the file cannot be read or has errors.\n",
            ND_INSPECT_HIGH_RATE_HZ);
}

static const char ABOUT[] =
    "Describes a data file: its format, every dataset with shape and type, trials and splits, neurons\n"
    "(held-in / held-out), bins and bin size, and the firing rate per neuron (min / median / max Hz).\n"
    "Formats: NWB 2.x, MATLAB v7.3 and v5 (struct array D(i).data), spike-time triplets\n"
    "(time_ms, neuron, trial), LFADS (train_data) and lfads-torch (train_encod_data) HDF5; other HDF5\n"
    "files get their dataset list (and rates of a trials x bins x neurons 'spikes' dataset).\n";

int cmd_inspect(int argc, char **argv) {
    nd_inspect_options io;
    nd_inspect_options_default(&io);
    cli_json json = {0, NULL};
    const cli_opt opts[] = {
        {"json", 0, CLI_JSON, NULL, "the report as JSON: to stdout instead of the text, or to FILE (atomically)", &json,
         0, 0, NULL, NULL},
        {"group", 0, CLI_STR, NULL, "the group holding spike-time triplets (default spike_times, then /)", &io.group, 0,
         0, NULL, "NAME"},
        {"bin-ms", 0, CLI_REAL, NULL, "bin size for rates when the file does not say (bin_ms attribute); triplet\n"
         "                             trials then span the latest spike rounded up to this bin (default 1 ms)",
         &io.bin_ms, 1e-300, 1e300, NULL, "MS"},
        {0}};
    const cli_spec spec = {"inspect", "FILE [--json[=FILE]] [--bin-ms MS] [--group NAME]", ABOUT,
                           "lorenz.h5\nsession.nwb --json=report.json", opts, 1, 1, "exactly one FILE", inspect_about};
    char *pos[argc > 0 ? argc : 1];
    int npos, rc = cli_parse(&spec, argc, argv, pos, &npos);
    if (rc) return rc < 0 ? 0 : rc;
    nd_context *ctx;
    nd_inspection *r = NULL;
    if (nd_context_create(&ctx)) { fprintf(stderr, "neurodyn inspect: out of memory\n"); return 1; }
    if (nd_inspect(ctx, pos[0], &io, &r)) {
        fprintf(stderr, "neurodyn inspect: %s\n", nd_errmsg(ctx));
        nd_context_free(ctx);
        return 1;
    }
    const char *txt = nd_inspection_json(r);
    if (!json.on || json.path) fputs(nd_inspection_text(r), stdout);
    else if (txt) printf("%s\n", txt);
    rc = nd_inspection_errors(r) ? 1 : 0;
    if (rc) fprintf(stderr, "neurodyn inspect: %s\n", nd_inspection_error(r, 0));
    nd_error e;
    if (json.path && (!txt || nd_write_file_atomic(json.path, txt, strlen(txt), &e) != ND_OK)) {
        fprintf(stderr, "neurodyn inspect: %s\n", txt ? e.msg : "out of memory");
        rc = 1;
    }
    if (json.on && !json.path && !txt) { fprintf(stderr, "neurodyn inspect: out of memory\n"); rc = 1; }
    nd_inspection_free(r);
    nd_context_free(ctx);
    return rc;
}
