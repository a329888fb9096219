/* neurodyn baseline smoothing|gpfa DATA.h5 -o OUT.h5: parse, nd_baseline_smoothing / nd_baseline_gpfa
 * (src/models/baseline.c), print the choices, nd_baseline_write. */
#include "cli.h"
#include "opt.h"
#include "../io/h5.h"
#include "../io/lfads_data.h"
#include "../models/baseline.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char ABOUT[] =
            "Baselines to run beside LFADS. They write the same outputs as 'neurodyn infer' (train_output_params,\n"
            "valid_output_params: rates in counts per bin for held-in then held-out neurons, observed then\n"
            "forward-prediction bins), so 'neurodyn eval OUT.h5 --data DATA.h5' scores any of them the same way.\n\n"
            "  smoothing  held-in rates: spikes convolved with a Gaussian window (nlb_tools' filter: 6 SD wide,\n"
            "             zero outside the trial); held-out rates: one Poisson GLM per held-out neuron from\n"
            "             log(smoothed held-in + 1e-4), z-scored, fitted on the train trials (Newton's method,\n"
            "             sklearn PoissonRegressor's objective with L2 penalty --alpha); forward-prediction bins: the\n"
            "             train trials' mean count per bin (PSTH), smoothed over the forward bins.\n"
            "  gpfa       Gaussian-process factor analysis (Yu et al. 2009) fitted by EM to the square-root\n"
            "             held-in counts of the train trials (GP noise variance 1e-3, timescales learned,\n"
            "             initial 100 ms); latents = orthonormalised posterior means (GP prediction in the\n"
            "             forward bins), written as *_factors; held-in rates: least-squares read-out of the\n"
            "             z-scored latents to counts; held-out rates: Poisson GLM per neuron from them;\n"
            "             forward-prediction bins: Poisson GLM per neuron from the extrapolated latents,\n"
            "             fitted on the train trials' forward bins.\n"
            "             Also writes gpfa/C, gpfa/d, gpfa/R, gpfa/timescales_ms, gpfa/neurons and the\n"
            "             log-likelihood of every EM iteration, gpfa/loglik.\n"
            "  Every choice is printed and written as root attributes (kernel_ms or latents, alpha, *_auto,\n"
            "  cv_folds) and, when searched, cv/alphas, cv/kernel_ms or cv/latents and cv/co_bps [candidate][alpha]\n"
            "  (cross-validated co-bps of the held-out neurons on the train trials).\n";

static void extra_help(FILE *f) {
    fprintf(f, "\nneurodyn convert rec.h5 --out d.h5 --bin-ms 20 --heldout-fraction 0.25 --valid-fraction 0.2 makes a\n"
               "DATA.h5 with held-out neurons; neurodyn eval OUT.h5 --data d.h5 scores a baseline's rates.\n");
}

/* "auto" (-> *v = autoval) or a number in [lo, hi]; 0, or 2 after a message */
static int auto_or(const char *opt, const char *s, double lo, double hi, double autoval, double *v) {
    char *end;
    if (!strcmp(s, "auto")) { *v = autoval; return 0; }
    *v = strtod(s, &end);
    if (end != s && !*end && isfinite(*v) && *v >= lo && *v <= hi) return 0;
    fprintf(stderr, "neurodyn baseline: bad value '%s' for --%s (auto, or a number from %g to %g); see 'neurodyn "
                    "baseline --help'\n", s, opt, lo, hi);
    return 2;
}

int cmd_baseline(int argc, char **argv) {
    nd_baseline_opts o;
    nd_baseline_opts_default(&o);
    const char *out = NULL, *kernel = NULL, *latents = NULL, *alpha = NULL;
    double bin_ms = 0, vf = 0.2, tol = -1; /* -1: not given */
    long seed = 0, threads = 0, max_lat = -1, search_iters = -1, folds = o.cv_folds, em_iters = -1;
    int quiet = 0;
    const cli_opt opts[] = {
        {"out", 'o', CLI_STR, NULL, "output HDF5 (required; written atomically)", &out, 0, 0, NULL, "FILE"},
        {"kernel-ms", 0, CLI_STR, NULL, "smoothing: Gaussian SD in ms (default auto: the best of 20 30 40 50 60 80 100\n"
         "                             150 200 ms by cross-validated co-bps on the train trials, jointly with --alpha)",
         &kernel, 0, 0, NULL, "MS|auto"},
        {"latents", 0, CLI_STR, NULL, "gpfa: latent dimensions (default auto: each of 2 3 4 5 6 8 10 12 16 20, up to\n"
         "                             --max-latents and the held-in neuron count, is fitted with --search-iters EM\n"
         "                             iterations and scored by cross-validated co-bps of the held-out neurons on the\n"
         "                             train trials; the fewest latents within 1% of the best score win and are\n"
         "                             refitted with --em-iters)", &latents, 0, 0, NULL, "N|auto"},
        {"max-latents", 0, CLI_INT, NULL, "gpfa: largest candidate of --latents auto (default 20)", &max_lat, 1, 100000,
         NULL, NULL},
        {"search-iters", 0, CLI_INT, NULL, "gpfa: EM iterations per candidate of --latents auto (default 30)",
         &search_iters, 1, 1000000, NULL, NULL},
        {"em-iters", 0, CLI_INT, NULL, "gpfa: EM iterations (default 100; stops earlier when the log-likelihood gains\n"
         "                             less than --tol relative)", &em_iters, 1, 1000000, NULL, NULL},
        {"tol", 0, CLI_REAL, NULL, "gpfa: relative log-likelihood gain that ends EM (default 1e-7)", &tol, 0, 1e300,
         NULL, NULL},
        {"alpha", 0, CLI_STR, NULL, "L2 penalty of the Poisson GLMs, on z-scored regressors (sklearn's alpha;\n"
         "                             default auto: the best of 1e-4 1e-3 1e-2 1e-1 1 by cross-validation)", &alpha,
         0, 0, NULL, "A|auto"},
        {"cv-folds", 0, CLI_INT, NULL, "folds of the cross-validation, over train trials (default 3; trial i in fold\n"
         "                             i mod K)", &folds, 2, 100, NULL, "K"},
        {"bin-ms", 0, CLI_REAL, NULL, "bin width (default: the data file's bin_ms attribute, else 20)", &bin_ms, 1e-300,
         1e7, NULL, "MS"},
        {"seed", 0, CLI_INT, "0", "when DATA.h5 has no valid_data: seed of the train/valid split (as 'neurodyn train')",
         &seed, 0, 9.2e18, NULL, NULL},
        {"valid-fraction", 0, CLI_REAL, "0.2", "its validation share, in (0, 1)", &vf, 1e-300, 1 - 1e-16, NULL, "F"},
        {"threads", 't', CLI_THREADS, NULL, "threads", &threads, 0, 0, NULL, NULL},
        {"quiet", 'q', CLI_FLAG, NULL, "no progress output", &quiet, 0, 0, NULL, NULL},
        {0}};
    const cli_spec spec = {"baseline", "smoothing DATA.h5 -o OUT.h5 [--kernel-ms auto] [options]\n"
                           "       neurodyn baseline gpfa DATA.h5 -o OUT.h5 [--latents auto] [options]", ABOUT,
                           "smoothing d.h5 -o smooth_out.h5\ngpfa d.h5 -o gpfa_out.h5 --latents auto", opts, 2, 2,
                           "smoothing|gpfa, DATA.h5 and --out FILE", extra_help};
    char *pos[argc > 0 ? argc : 1];
    int npos, rc = cli_parse(&spec, argc, argv, pos, &npos);
    if (rc) return rc < 0 ? 0 : rc;
    if (!out) {
        fprintf(stderr, "neurodyn baseline: expected smoothing|gpfa, DATA.h5 and --out FILE (see --help)\n");
        return 2;
    }
    const char *method = pos[0], *data = pos[1];
    int gpfa = !strcmp(method, "gpfa");
    if (!gpfa && strcmp(method, "smoothing")) {
        fprintf(stderr, "neurodyn baseline: unknown baseline '%s' (smoothing or gpfa)\n", method);
        return 2;
    }
    int gpfa_set = latents || max_lat >= 0 || search_iters >= 0 || em_iters >= 0 || tol >= 0;
    if ((gpfa && kernel) || (!gpfa && gpfa_set)) {
        fprintf(stderr, "neurodyn baseline: %s is a %s option\n", gpfa ? "--kernel-ms" : "--latents/--max-latents/--search-iters/--em-iters/--tol",
                gpfa ? "smoothing" : "gpfa");
        return 2;
    }
    double v;
    if (kernel) { if (auto_or("kernel-ms", kernel, 1e-300, 1e6, 0, &v)) return 2; o.kernel_ms = v; }
    if (latents) {
        if (auto_or("latents", latents, 1, 100000, 0, &v)) return 2;
        if (v != floor(v)) {
            fprintf(stderr, "neurodyn baseline: bad value '%s' for --latents (auto, or a whole number)\n", latents);
            return 2;
        }
        o.gpfa.latents = (int)v;
    }
    if (alpha) { if (auto_or("alpha", alpha, 0, 1e12, -1, &v)) return 2; o.alpha = v; }
    if (max_lat >= 0) o.max_latents = (int)max_lat;
    if (search_iters >= 0) o.search_iters = (int)search_iters;
    if (em_iters >= 0) o.gpfa.max_iters = (int)em_iters;
    if (tol >= 0) o.gpfa.tol = tol;
    o.cv_folds = (int)folds;
    o.threads = (int)threads;
    nd_error err;
    if (bin_ms <= 0 && nd_h5_read_attr_double(data, "/", "bin_ms", &bin_ms, NULL) != ND_OK) bin_ms = 20;
    o.bin_ms = bin_ms;
    o.progress = quiet ? NULL : stdout;
    nd_lfads_data d;
    if (nd_lfads_data_read(data, (uint64_t)seed, vf, &d, &err)) {
        fprintf(stderr, "neurodyn baseline: %s\n", err.msg);
        return 1;
    }
    if (!quiet)
        printf("%s baseline on %s: %d train / %d valid trials, %d held-in + %d held-out neurons, %d + %d forward "
               "bins of %g ms\n", method, data, d.split[ND_TRAIN].n, d.split[ND_VALID].n, d.N, d.Nr - d.N, d.T,
               d.Tr - d.T, bin_ms);
    nd_baseline_result r;
    nd_status st = gpfa ? nd_baseline_gpfa(&d, &o, &r, &err) : nd_baseline_smoothing(&d, &o, &r, &err);
    if (!st) {
        if (!quiet && gpfa) {
            printf("GPFA: %d EM iterations, log-likelihood %.6e -> %.6e; timescales (ms):", r.em_iters, r.loglik[0],
                   r.loglik[r.em_iters - 1]);
            for (int i = 0; i < r.gpfa.p; i++) printf(" %.0f", r.gpfa.tau[i] * bin_ms);
            printf("\n");
        }
        if (!quiet) {
            printf("chosen: ");
            if (gpfa) printf("latents %d (%s)", r.gpfa.p, r.latents_auto ? "CV" : "given");
            else printf("kernel %g ms (%s)", r.kernel_ms, r.kernel_auto ? "CV" : "given");
            printf(", held-out GLM alpha %g (%s)", r.alpha, r.alpha_auto ? "CV" : "given");
            if (gpfa && r.Tr > r.T) printf(", forward-bin GLM alpha %g", r.alpha_fp);
            if (r.alpha_auto || r.n_cand > 0) printf("; %d-fold CV over train trials", r.cv_folds);
            printf("\n");
        }
        st = nd_baseline_write(out, &d, &r, &o, (double)seed, vf, &err);
        nd_baseline_result_free(&r);
    }
    nd_lfads_data_free(&d);
    if (st) {
        fprintf(stderr, "neurodyn baseline: %s\n", err.msg);
        return 1;
    }
    if (!quiet) printf("wrote %s\n", out);
    return 0;
}
