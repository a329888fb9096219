#define _GNU_SOURCE
#include "cli.h"
#include "../io/h5.h"
#include "../io/lfads_data.h"
#include "../models/baseline.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void baseline_usage(FILE *f) {
    fprintf(f,
            "usage: neurodyn baseline smoothing DATA.h5 --out OUT.h5 [--kernel-ms auto] [options]\n"
            "       neurodyn baseline gpfa DATA.h5 --out OUT.h5 [--latents auto] [options]\n\n"
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
            "  (cross-validated co-bps of the held-out neurons on the train trials).\n\n"
            "options:\n"
            "  -o, --out FILE         output HDF5 (required; written atomically)\n"
            "      --kernel-ms MS|auto  smoothing: Gaussian SD in ms (default auto: the best of 20 30 40 50 60 80 100\n"
            "                         150 200 ms by cross-validated co-bps on the train trials, jointly with --alpha)\n"
            "      --latents N|auto   gpfa: latent dimensions (default auto: each of 2 3 4 5 6 8 10 12 16 20, up to\n"
            "                         --max-latents and the held-in neuron count, is fitted with --search-iters EM\n"
            "                         iterations and scored by cross-validated co-bps of the held-out neurons on\n"
            "                         the train trials; the fewest latents within 1%% of the best score win and are\n"
            "                         refitted with --em-iters)\n"
            "      --max-latents N    gpfa: largest candidate of --latents auto (default 20)\n"
            "      --search-iters N   gpfa: EM iterations per candidate of --latents auto (default 30)\n"
            "      --em-iters N       gpfa: EM iterations (default 100; stops earlier when the log-likelihood\n"
            "                         gains less than --tol relative)\n"
            "      --tol X            gpfa: relative log-likelihood gain that ends EM (default 1e-7)\n"
            "      --alpha A|auto     L2 penalty of the Poisson GLMs, on z-scored regressors (sklearn's alpha;\n"
            "                         default auto: the best of 1e-4 1e-3 1e-2 1e-1 1 by cross-validation)\n"
            "      --cv-folds K       folds of the cross-validation, over train trials (default 3; trial i in\n"
            "                         fold i mod K)\n"
            "      --bin-ms MS        bin width (default: the data file's bin_ms attribute, else 20)\n"
            "      --seed N           when DATA.h5 has no valid_data: seed of the train/valid split (default 0,\n"
            "      --valid-fraction F   as 'neurodyn train'), and its validation share (default 0.2)\n"
            "      --threads N        threads (default 2)\n"
            "      --quiet            no progress output\n"
            "  -h, --help             show this help\n\n"
            "example:\n"
            "  neurodyn convert rec.h5 --out d.h5 --bin-ms 20 --heldout-fraction 0.25 --valid-fraction 0.2\n"
            "  neurodyn baseline smoothing d.h5 --out smooth_out.h5\n"
            "  neurodyn baseline gpfa d.h5 --out gpfa_out.h5 --latents auto\n"
            "  neurodyn eval smooth_out.h5 --data d.h5\n");
}

int cmd_baseline(int argc, char **argv) {
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},      {"kernel-ms", required_argument, 0, 'k'},
        {"latents", required_argument, 0, 'l'},  {"em-iters", required_argument, 0, 'i'},
        {"tol", required_argument, 0, 'T'},      {"alpha", required_argument, 0, 'a'},
        {"bin-ms", required_argument, 0, 'b'},   {"seed", required_argument, 0, 's'},
        {"valid-fraction", required_argument, 0, 'v'}, {"threads", required_argument, 0, 't'},
        {"quiet", no_argument, 0, 'q'},          {"help", no_argument, 0, 'h'},
        {"max-latents", required_argument, 0, 'm'}, {"search-iters", required_argument, 0, 'S'},
        {"cv-folds", required_argument, 0, 'K'},
        {0, 0, 0, 0}};
    nd_baseline_opts o;
    nd_baseline_opts_default(&o);
    o.threads = 2;
    const char *out = NULL;
    double bin_ms = -1, vf = 0.2;
    long long seed = 0;
    int quiet = 0, c, kernel_set = 0, gpfa_set = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        char *end = NULL;
        long v;
        switch (c) {
        case 'o': out = optarg; break;
        case 'k':
            kernel_set = 1;
            if (!strcmp(optarg, "auto")) { o.kernel_ms = 0; break; }
            o.kernel_ms = strtod(optarg, &end); if (*end || !(o.kernel_ms > 0) || o.kernel_ms > 1e6) goto bad; break;
        case 'l':
            gpfa_set = 1;
            if (!strcmp(optarg, "auto")) { o.gpfa.latents = 0; break; }
            v = strtol(optarg, &end, 10); if (*end || v < 1 || v > 100000) goto bad; o.gpfa.latents = (int)v; break;
        case 'm': v = strtol(optarg, &end, 10); if (*end || v < 1 || v > 100000) goto bad; o.max_latents = (int)v; gpfa_set = 1; break;
        case 'S': v = strtol(optarg, &end, 10); if (*end || v < 1 || v > 1000000) goto bad; o.search_iters = (int)v; gpfa_set = 1; break;
        case 'K': v = strtol(optarg, &end, 10); if (*end || v < 2 || v > 100) goto bad; o.cv_folds = (int)v; break;
        case 'i': v = strtol(optarg, &end, 10); if (*end || v < 1 || v > 1000000) goto bad; o.gpfa.max_iters = (int)v; gpfa_set = 1; break;
        case 'T': o.gpfa.tol = strtod(optarg, &end); if (*end || !(o.gpfa.tol >= 0)) goto bad; gpfa_set = 1; break;
        case 'a':
            if (!strcmp(optarg, "auto")) { o.alpha = -1; break; }
            o.alpha = strtod(optarg, &end); if (*end || !(o.alpha >= 0) || o.alpha > 1e12) goto bad; break;
        case 'b': bin_ms = strtod(optarg, &end); if (*end || !(bin_ms > 0) || bin_ms > 1e7) goto bad; break;
        case 's': seed = strtoll(optarg, &end, 10); if (*end || seed < 0) goto bad; break;
        case 'v': vf = strtod(optarg, &end); if (*end || !(vf > 0 && vf < 1)) goto bad; break;
        case 't': v = strtol(optarg, &end, 10); if (*end || v < 1 || v > 1024) goto bad; o.threads = (int)v; break;
        case 'q': quiet = 1; break;
        case 'h': baseline_usage(stdout); return 0;
        default: cli_bad_option("baseline", argv); return 2;
        }
        continue;
    bad:
        fprintf(stderr, "neurodyn baseline: bad value '%s' for an option (see --help)\n", optarg);
        return 2;
    }
    if (optind != argc - 2 || !out) {
        fprintf(stderr, "neurodyn baseline: expected smoothing|gpfa, DATA.h5 and --out FILE (see --help)\n");
        return 2;
    }
    const char *method = argv[optind], *data = argv[optind + 1];
    int gpfa = !strcmp(method, "gpfa");
    if (!gpfa && strcmp(method, "smoothing")) {
        fprintf(stderr, "neurodyn baseline: unknown baseline '%s' (smoothing or gpfa)\n", method);
        return 2;
    }
    if ((gpfa && kernel_set) || (!gpfa && gpfa_set)) {
        fprintf(stderr, "neurodyn baseline: %s is a %s option\n", gpfa ? "--kernel-ms" : "--latents/--max-latents/--search-iters/--em-iters/--tol",
                gpfa ? "smoothing" : "gpfa");
        return 2;
    }
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
               "bins of %g ms\n", method, data, d.n_train, d.n_valid, d.N, d.Nr - d.N, d.T, d.Tr - d.T, bin_ms);
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
