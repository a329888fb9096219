/* neurodyn compare A.h5:DATASET B.h5:DATASET --method ...: parse, nd_compare_files (src/analysis/compare_file.c),
 * print the result or its JSON. */
#include "cli.h"
#include "opt.h"
#include "../analysis/compare_file.h"
#include <stdio.h>
#include <string.h>

static const char ABOUT[] =
            "Compares two representations of the same samples, e.g. the factors of two LFADS runs\n"
            "(out1.h5:valid_factors out2.h5:valid_factors) or model units and recorded neurons.\n"
            "A DATASET is any numeric HDF5 dataset: 2-D samples x units, or 3-D trials x time x units,\n"
            "flattened to (trials*time) x units (or averaged per condition, see --condition-average).\n"
            "Both must hold the same samples in the same order; the unit counts may differ.\n\n"
            "methods (--method, default cka):\n"
            "  cca           mean canonical correlation; all min(p, q) correlations listed\n"
            "  svcca         CCA after keeping each side's top singular directions (--keep of the variance)\n"
            "  pwcca         projection-weighted CCA (Morcos et al. 2018)\n"
            "  cka           linear centred kernel alignment (Kornblith et al. 2019)\n"
            "  cka-rbf       CKA with a Gaussian kernel, sigma = --threshold x median distance\n"
            "  cka-debiased  CKA with the unbiased HSIC estimator (--kernel linear|rbf)\n"
            "  procrustes    angular shape distance in radians, 0 = same shape up to rotation (--alpha)\n"
            "  rsa           correlation between the RDMs of the two representations; here 3-D data give one\n"
            "                pattern per trial (or condition) with time*units channels\\n";

int cmd_compare(int argc, char **argv) {
    nd_compare_file_opts o;
    nd_compare_file_opts_default(&o);
    const char *kernel = NULL, *rdist = NULL, *rcmp = NULL;
    long max_samples = 0, seed = 0;
    cli_json json = {0, NULL};
    const cli_opt opts[] = {
        {"method", 0, CLI_STR, "cka", "cca, svcca, pwcca, cka, cka-rbf, cka-debiased, procrustes or rsa", &o.method, 0,
         0, NULL, "M"},
        {"json", 0, CLI_JSON, NULL, "the result as JSON: to stdout instead of the text, or to FILE (atomically)", &json,
         0, 0, NULL, NULL},
        {"alpha", 0, CLI_REAL, "1", "procrustes: partial whitening in [0, 1] (1: rotations only; 0: any linear map,\n"
         "                             cos(distance) = mean CCA)", &o.alpha, 0, 1, NULL, "A"},
        {"eps", 0, CLI_REAL, "1e-10", "cca/svcca/pwcca: covariance regularisation, relative to the largest variance",
         &o.eps, 0, 1e300, NULL, "E"},
        {"keep", 0, CLI_REAL, "0.99", "svcca: fraction of variance kept per side", &o.keep, 1e-300, 1, NULL, "F"},
        {"threshold", 0, CLI_REAL, "1.0", "cka-rbf: bandwidth factor", &o.threshold, 1e-300, 1e300, NULL, "T"},
        {"kernel", 0, CLI_CHOICE, "linear", "cka-debiased: the kernel", &kernel, 0, 0, "linear|rbf", NULL},
        {"max-samples", 0, CLI_INT, "5000", "cka-rbf, rsa and cka-debiased --kernel rbf build n x n matrices: use a\n"
         "                             seeded random subset of at most N samples", &max_samples, 4, 1e9, NULL, NULL},
        {"seed", 0, CLI_INT, "0", "seed of that subset", &seed, 0, 9.2e18, NULL, "S"},
        {"rdm-distance", 0, CLI_CHOICE, "correlation", "rsa: the RDMs' distance", &rdist, 0, 0,
         "correlation|euclidean", NULL},
        {"rdm-compare", 0, CLI_CHOICE, "spearman", "rsa: how the RDMs are compared", &rcmp, 0, 0,
         "spearman|pearson|cosine|tau-a|tau-b|rho-a", NULL},
        {"condition-average", 0, CLI_FLAG, NULL, "average the trials of each condition first (needs --conditions)",
         &o.average, 0, 0, NULL, NULL},
        {"conditions", 0, CLI_STR, NULL, "1-D integer condition id per trial, for both inputs\n"
         "                             (e.g. data.h5:valid_condition)", &o.conditions, 0, 0, NULL, "FILE:PATH"},
        {0}};
    const cli_spec spec = {"compare", "A.h5:DATASET B.h5:DATASET [--method M] [--json[=FILE]] [options]", ABOUT,
                           "run1_out.h5:valid_factors run2_out.h5:valid_factors --method cca\n"
                           "out.h5:valid_factors lorenz.h5:valid_latents --method procrustes --json", opts, 2, 2,
                           "two inputs A.h5:DATASET B.h5:DATASET", NULL};
    char *pos[argc > 0 ? argc : 1];
    int npos, rc = cli_parse(&spec, argc, argv, pos, &npos);
    if (rc) return rc < 0 ? 0 : rc;
    o.rbf_kernel = !strcmp(kernel, "rbf");
    o.max_samples = (int)max_samples;
    o.seed = (uint64_t)seed;
    o.rdm_distance = (nd_rdm_distance)nd_rdm_distance_from_name(rdist);
    o.rdm_compare = (nd_rdm_compare_method)nd_rdm_compare_from_name(rcmp);
    nd_compare_file_result r;
    nd_error err;
    nd_status st = nd_compare_files(pos[0], pos[1], &o, &r, &err);
    if (st) {
        fprintf(stderr, "neurodyn compare: %s\n", err.msg);
        return st == ND_ERR_ARG ? 2 : 1;
    }
    if (!json.on || json.path) fputs(r.text, stdout);
    rc = json.on && cli_write_json("compare", r.json, json.path) ? 1 : 0;
    nd_compare_file_result_free(&r);
    return rc;
}
