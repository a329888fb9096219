/* neurodyn report RUN_DIR -o report.html: parse, nd_report (src/api/report.c), print errors. */
#include "cli.h"
#include "opt.h"
#include <stdio.h>

static const char ABOUT[] =
    "Writes one self-contained HTML page about a run: figures as inline SVG, no scripts, nothing loaded from\n"
    "the network (it opens offline in any browser). The run type is detected from RUN_DIR:\n"
    "  LFADS (neurodyn train): the scores (neurodyn eval's metrics, with baselines), training curves (losses,\n"
    "    KL and L2 terms, learning rate; the KL/L2 ramp and the chosen checkpoint marked), example trials\n"
    "    (inferred rates above spike rasters, held-out neurons marked), factors on their top principal\n"
    "    components per condition, inferred inputs, PSTHs data vs model; jPCA and fixed points when given.\n"
    "    Without --outputs the posterior means are inferred (one deterministic pass).\n"
    "  neuron fit: learning curves; with --data TEST_SIMS.h5 the held-out scores and voltage / spike traces\n"
    "    true vs predicted; with --sweep, spike AUC and voltage explained variance vs depth.\n"
    "  learn train: learning curves; the bias-variance plane of RUN_DIR/gradients.h5 when present.\n";

int cmd_report(int argc, char **argv) {
    nd_report_options ro;
    nd_report_options_default(&ro);
    const char *out = NULL;
    long threads = 0, trials = 3;
    int quiet = 0;
    cli_list baselines = {NULL, 0};
    const cli_opt opts[] = {
        {"out", 'o', CLI_STR, NULL, "the HTML page (required; written atomically)", &out, 0, 0, NULL, "FILE"},
        {"data", 'd', CLI_STR, NULL, "the data file of an LFADS run (required for LFADS runs); neuron runs: test\n"
         "                             simulations (neurodyn neuron simulate)", &ro.data, 0, 0, NULL, "FILE"},
        {"outputs", 0, CLI_STR, NULL, "outputs of neurodyn infer for this run and data (default: inferred)", &ro.outputs,
         0, 0, NULL, "FILE"},
        {"baseline", 0, CLI_LIST, NULL, "outputs of neurodyn baseline on the same data, scored beside (repeatable, up\n"
         "                             to 8)", &baselines, 0, 0, NULL, "FILE"},
        {"jpca", 0, CLI_STR, NULL, "the file of neurodyn jpca --out (a jPCA-plane figure)", &ro.jpca, 0, 0, NULL, "FILE"},
        {"fixedpoints", 0, CLI_STR, NULL, "the file of neurodyn fixedpoints --out (eigenvalues, fixed points on PCs)",
         &ro.fixedpoints, 0, 0, NULL, "FILE"},
        {"sweep", 0, CLI_STR, NULL, "neuron runs: a neurodyn neuron sweep directory (sweep.tsv)", &ro.sweep, 0, 0, NULL,
         "DIR"},
        {"trials", 0, CLI_INT, "3", "example trials to draw (at most 4)", &trials, 1, 4, NULL, NULL},
        {"title", 0, CLI_STR, NULL, "page title (default: neurodyn report: RUN_DIR)", &ro.title, 0, 0, NULL, "TEXT"},
        {"threads", 't', CLI_THREADS, NULL, "threads for inference", &threads, 0, 0, NULL, NULL},
        {"quiet", 'q', CLI_FLAG, NULL, "no progress lines", &quiet, 0, 0, NULL, NULL},
        {0}};
    const cli_spec spec = {"report", "RUN_DIR [--data DATA.h5] [options] -o report.html", ABOUT,
                           "run/ --data lorenz.h5 --baseline smooth_out.h5 -o report.html\n"
                           "tcn_run/ --data test_sims.h5 --sweep sweep/ -o neuron.html", opts, 1, 1,
                           "RUN_DIR and -o FILE", NULL};
    char *pos[argc > 0 ? argc : 1];
    int npos, rc = cli_parse(&spec, argc, argv, pos, &npos);
    if (rc) { cli_list_free(&baselines); return rc < 0 ? 0 : rc; }
    nd_context *ctx = NULL;
    if (!out) fprintf(stderr, "neurodyn report: expected RUN_DIR and -o FILE (see --help)\n");
    else if (baselines.n > 8) fprintf(stderr, "neurodyn report: at most 8 --baseline files\n");
    else if (nd_context_create(&ctx)) fprintf(stderr, "neurodyn report: out of memory\n");
    if (!ctx) { cli_list_free(&baselines); return out && baselines.n <= 8 ? 1 : 2; }
    ro.baselines = baselines.v;
    ro.n_baselines = baselines.n;
    ro.example_trials = (int)trials;
    nd_set_threads(ctx, (int)threads);
    nd_set_progress(ctx, !quiet);
    if (nd_report(ctx, pos[0], &ro, out)) {
        fprintf(stderr, "neurodyn report: %s\n", nd_errmsg(ctx));
        rc = 1;
    }
    nd_context_free(ctx);
    cli_list_free(&baselines);
    return rc;
}
