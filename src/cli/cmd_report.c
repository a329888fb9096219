/* neurodyn report: one self-contained HTML page about a run (nd_report of the library). */
#define _GNU_SOURCE
#include "cli.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void report_usage(FILE *f) {
    fprintf(f,
            "usage: neurodyn report RUN_DIR [--data DATA.h5] [options] -o report.html\n\n"
            "Writes one self-contained HTML page about a run: figures as inline SVG, no scripts, nothing loaded from\n"
            "the network (it opens offline in any browser). The run type is detected from RUN_DIR:\n"
            "  LFADS (neurodyn train): the scores (neurodyn eval's metrics, with baselines), training curves (losses,\n"
            "    KL and L2 terms, learning rate; the KL/L2 ramp and the chosen checkpoint marked), example trials\n"
            "    (inferred rates above spike rasters, held-out neurons marked), factors on their top principal\n"
            "    components per condition, inferred inputs, PSTHs data vs model; jPCA and fixed points when given.\n"
            "    Without --outputs the posterior means are inferred (one deterministic pass).\n"
            "  neuron fit: learning curves; with --data TEST_SIMS.h5 the held-out scores and voltage / spike traces\n"
            "    true vs predicted; with --sweep, spike AUC and voltage explained variance vs depth.\n"
            "  learn train: learning curves; the bias-variance plane of RUN_DIR/gradients.h5 when present.\n\n"
            "options:\n"
            "  -o, --out FILE        the HTML page (required; written atomically)\n"
            "  --data FILE           the data file of an LFADS run (required for LFADS runs); neuron runs: test\n"
            "                        simulations (neurodyn neuron simulate)\n"
            "  --outputs FILE        outputs of neurodyn infer for this run and data (default: inferred)\n"
            "  --baseline FILE       outputs of neurodyn baseline on the same data, scored beside (repeatable, up to 8)\n"
            "  --jpca FILE           the file of neurodyn jpca --out (a jPCA-plane figure)\n"
            "  --fixedpoints FILE    the file of neurodyn fixedpoints --out (eigenvalues, fixed points on PCs)\n"
            "  --sweep DIR           neuron runs: a neurodyn neuron sweep directory (sweep.tsv)\n"
            "  --trials N            example trials to draw (default 3, at most 4)\n"
            "  --title TEXT          page title (default: neurodyn report: RUN_DIR)\n"
            "  --threads N           threads for inference (default 2)\n"
            "  --quiet               no progress lines\n\n"
            "example:\n"
            "  neurodyn report run/ --data lorenz.h5 --baseline smooth_out.h5 -o report.html\n");
}

int cmd_report(int argc, char **argv) {
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},      {"data", required_argument, 0, 'd'},
        {"outputs", required_argument, 0, 'u'},  {"baseline", required_argument, 0, 'b'},
        {"jpca", required_argument, 0, 'j'},     {"fixedpoints", required_argument, 0, 'f'},
        {"sweep", required_argument, 0, 's'},    {"trials", required_argument, 0, 'n'},
        {"title", required_argument, 0, 'T'},    {"threads", required_argument, 0, 't'},
        {"quiet", no_argument, 0, 'q'},          {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    nd_report_options ro;
    nd_report_options_default(&ro);
    const char *out = NULL, *baselines[8];
    long threads = 2, trials = 3;
    int quiet = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'o': out = optarg; break;
        case 'd': ro.data = optarg; break;
        case 'u': ro.outputs = optarg; break;
        case 'b':
            if (ro.n_baselines == 8) {
                fprintf(stderr, "neurodyn report: at most 8 --baseline files\n");
                return 2;
            }
            baselines[ro.n_baselines++] = optarg;
            break;
        case 'j': ro.jpca = optarg; break;
        case 'f': ro.fixedpoints = optarg; break;
        case 's': ro.sweep = optarg; break;
        case 'T': ro.title = optarg; break;
        case 'n': trials = strtol(optarg, &end, 10); if (*end || trials < 1 || trials > 4) goto bad; break;
        case 't': threads = strtol(optarg, &end, 10); if (*end || threads < 1 || threads > 1024) goto bad; break;
        case 'q': quiet = 1; break;
        case 'h': report_usage(stdout); return 0;
        default: cli_bad_option("report", argv); return 2;
        }
        continue;
    bad:
        fprintf(stderr, "neurodyn report: bad value '%s' for an option (see --help)\n", optarg);
        return 2;
    }
    if (optind != argc - 1 || !out) {
        fprintf(stderr, "neurodyn report: expected RUN_DIR and -o FILE (see --help)\n");
        return 2;
    }
    ro.baselines = baselines;
    ro.example_trials = (int)trials;
    nd_context *ctx;
    if (nd_context_create(&ctx)) {
        fprintf(stderr, "neurodyn report: out of memory\n");
        return 1;
    }
    nd_set_threads(ctx, (int)threads);
    nd_set_progress(ctx, !quiet);
    int rc = 0;
    if (nd_report(ctx, argv[optind], &ro, out)) {
        fprintf(stderr, "neurodyn report: %s\n", nd_errmsg(ctx));
        rc = 1;
    }
    nd_context_free(ctx);
    return rc;
}
