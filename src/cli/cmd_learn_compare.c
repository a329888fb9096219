/* neurodyn learn compare: parse, nd_learn_compare (src/analysis/learn_analysis.c), print curves and CKA. */
#include "cli.h"
#include "cmd_learn.h"
#include "opt.h"
#include "../analysis/learn_analysis.h"
#include <stdio.h>

static const char ABOUT[] =
    "Compares runs of 'neurodyn learn train' (e.g. one per rule): the test accuracy per epoch, and per layer\n"
    "the linear CKA of the trained network's activity on the same test examples to its activity at the\n"
    "initial weights and to the first run's (trained).\n";

int learn_compare(int argc, char **argv) {
    const char *svg = NULL, *data = NULL;
    const cli_opt opts[] = {
        {"data", 0, CLI_CHOICE, "test", "the examples (runs keep the activity of test examples only)", &data, 0, 0, "test",
         NULL},
        {"svg", 0, CLI_STR, NULL, "the accuracy curves as an SVG", &svg, 0, 0, NULL, "FILE"},
        {0}};
    const cli_spec spec = {"learn compare", "RUN_DIR... [--data test] [--svg curves.svg]", ABOUT,
                           "run_bp/ run_fa/ --svg curves.svg", opts, 1, -1, "RUN_DIR...", NULL};
    char *pos[argc > 0 ? argc : 1];
    int n, rc = cli_parse(&spec, argc, argv, pos, &n);
    if (rc) return rc < 0 ? 0 : rc;
    nd_learn_compare_result r;
    nd_error err;
    nd_status st = nd_learn_compare((const char *const *)pos, n, svg, &r, &err);
    if (st) {
        fprintf(stderr, "neurodyn learn compare: %s\n", err.msg);
        return st == ND_ERR_ARG ? 2 : 1;
    }
    printf("test accuracy per epoch\n");
    for (int k = 0; k < n; k++) {
        printf("  %-24s", pos[k]);
        for (int e = 0; e < r.epochs[k]; e++) printf(" %.3f", r.curves[k][4 * e + 3]);
        printf("\n");
    }
    printf("linear CKA per layer (1..%d): trained vs initial weights | vs %s (trained)\n", r.L, pos[0]);
    for (int k = 0; k < n; k++) {
        printf("  %-24s", pos[k]);
        for (int l = 0; l < r.L; l++) printf(" %.3f", r.cka_init[k][l]);
        printf("  |");
        for (int l = 0; l < r.L; l++) printf(" %.3f", r.cka_ref[k][l]);
        printf("\n");
    }
    if (svg) printf("-> %s\n", svg);
    nd_learn_compare_free(&r);
    return 0;
}
