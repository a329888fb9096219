/* neurodyn learn gradients: parse, nd_learn_gradients_run (src/analysis/learn_analysis.c), print the table or
 * its JSON. */
#include "cli.h"
#include "cmd_learn.h"
#include "opt.h"
#include "../analysis/learn_analysis.h"
#include <stdio.h>

static const char ABOUT[] =
    "Measures the bias and variance of every rule's gradient estimate at the run's initial and final weights\n"
    "(a feed-forward run of 'neurodyn learn train'): per rule and weights, the angle to the true gradient per\n"
    "layer and for the whole network, the norm of the mean estimate relative to the gradient's, and the\n"
    "variance over --samples estimates. Writes RUN_DIR/gradients.h5; --svg draws the bias-variance plane.\n";

int learn_gradients(int argc, char **argv) {
    nd_learn_gradients_opts o;
    nd_learn_gradients_opts_default(&o);
    long samples = 0, batch = 0;
    cli_json json = {0, NULL};
    const cli_opt opts[] = {
        {"rules", 0, CLI_STR, NULL, "comma-separated rules (default: all of bp,fa,dfa,sign,np,wp)", &o.rules, 0, 0, NULL,
         "LIST"},
        {"samples", 0, CLI_INT, "200", "estimates per rule and weights", &samples, 1, 1000000, NULL, "N"},
        {"batch", 0, CLI_INT, "100", "test examples per estimate", &batch, 1, 1e9, NULL, "N"},
        {"sigma", 0, CLI_REAL, "0.001", "perturbation SD of np and wp", &o.sigma, 1e-300, 1e300, NULL, "X"},
        {"svg", 0, CLI_STR, NULL, "the bias-variance plane as an SVG", &o.svg, 0, 0, NULL, "FILE"},
        {"json", 0, CLI_JSON, NULL, "the estimates as JSON: to stdout instead of the table, or to FILE (atomically)",
         &json, 0, 0, NULL, NULL},
        {0}};
    const cli_spec spec = {"learn gradients", "RUN_DIR [--rules bp,fa,dfa,sign,np,wp] [--samples 200] [--json[=FILE]]\n"
                           "                                [--svg plane.svg]", ABOUT,
                           "run_fa/ --rules bp,fa,np,wp --samples 200 --json=grads.json\n"
                           "run_fa/ --svg plane.svg", opts, 1, 1, "one RUN_DIR", NULL};
    char *pos[argc > 0 ? argc : 1];
    int npos, rc = cli_parse(&spec, argc, argv, pos, &npos);
    if (rc) return rc < 0 ? 0 : rc;
    o.samples = (int)samples;
    o.batch = (int)batch;
    nd_learn_gradients_result r;
    nd_error err;
    nd_status st = nd_learn_gradients_run(pos[0], &o, &r, &err);
    if (st) {
        fprintf(stderr, "neurodyn learn gradients: %s\n", err.msg);
        return st == ND_ERR_ARG ? 2 : 1;
    }
    if (json.on) {
        cJSON *root = nd_learn_gradients_json(&r);
        rc = cli_write_json("learn gradients", root, json.path); /* NULL root: "out of memory" */
        cJSON_Delete(root);
        if (rc || !json.path) return rc;
    }
    printf("rule  weights   angle (deg; layers 1..%d, all)          |mean|/|g|  variance\n", r.L);
    for (int k = 0; k < r.n_rules; k++)
        for (int stage = 0; stage < 2; stage++) {
            const nd_rule_stats *t = &r.s[2 * k + stage];
            printf("%-5s %-8s ", nd_rule_name(r.rules[k]), stage ? "final" : "initial");
            for (int l = 0; l <= r.L; l++) printf(" %6.1f", t->angle_deg[l]);
            printf("   %8.3f  %9.3g\n", t->rel_norm[r.L], t->variance[r.L]);
        }
    printf("-> %s/gradients.h5\n", pos[0]);
    return 0;
}
