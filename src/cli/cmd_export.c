/* neurodyn export: a trained model's weights under lfads-torch's state_dict names, or an outputs file in the
 * NLB submission layout. The work is in the library (nd_model_export, nd_export_nlb). */
#define _GNU_SOURCE
#include "cli.h"
#include "../io/h5.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void export_usage(FILE *f) {
    fprintf(f,
            "usage: neurodyn export RUN_DIR|CKPT -o WEIGHTS.h5 [--format lfads-torch]\n"
            "       neurodyn export OUTPUTS.h5 --format nlb --data DATA.h5 -o SUBMISSION.h5 [--dataset NAME]\n\n"
            "lfads-torch (default): the model's weights (RUN_DIR/best.ckpt, else last.ckpt) as HDF5 datasets named\n"
            "  by lfads-torch's LFADS module state_dict keys, with its shapes (e.g. 'decoder.rnn.cell.gen_cell.\n"
            "  weight_hh' [3*gen_dim x gen_dim]); root attributes give the constructor's sizes. docs/python.md\n"
            "  loads them into a torch module.\n"
            "nlb: the rates of an infer/baseline outputs file in the Neural Latents Benchmark submission layout,\n"
            "  NAME/{train,eval}_rates_{heldin,heldout}, NAME/eval_rates_{heldin,heldout}_forward (counts per bin).\n\n"
            "options:\n"
            "  -o, --out FILE     output HDF5 (required; written atomically)\n"
            "  --format F         lfads-torch (default) or nlb\n"
            "  --data FILE        nlb: the data file the outputs were inferred from (required)\n"
            "  --dataset NAME     nlb: the group name, e.g. mc_maze (default: DATA's base name)\n"
            "  --eval-split S     nlb: valid, test, or auto (default: test when the outputs have test rates)\n\n"
            "example:\n"
            "  neurodyn export run/ -o weights.h5\n"
            "  neurodyn export out.h5 --format nlb --data mc_maze.h5 --dataset mc_maze -o submission.h5\n");
}

int cmd_export(int argc, char **argv) {
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},     {"format", required_argument, 0, 'f'},
        {"data", required_argument, 0, 'd'},    {"dataset", required_argument, 0, 'n'},
        {"eval-split", required_argument, 0, 'e'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *out = NULL, *format = "lfads-torch", *data = NULL, *dataset = NULL;
    nd_split es = ND_SPLIT_TRAIN; /* auto */
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'f': format = optarg; break;
        case 'd': data = optarg; break;
        case 'n': dataset = optarg; break;
        case 'e':
            if (!strcmp(optarg, "valid")) es = ND_SPLIT_VALID;
            else if (!strcmp(optarg, "test")) es = ND_SPLIT_TEST;
            else if (!strcmp(optarg, "auto")) es = ND_SPLIT_TRAIN;
            else {
                fprintf(stderr, "neurodyn export: --eval-split '%s': must be valid, test or auto\n", optarg);
                return 2;
            }
            break;
        case 'h': export_usage(stdout); return 0;
        default: cli_bad_option("export", argv); return 2;
        }
    }
    int nlb = !strcmp(format, "nlb");
    if (!nlb && strcmp(format, "lfads-torch")) {
        fprintf(stderr, "neurodyn export: --format '%s': must be lfads-torch or nlb\n", format);
        return 2;
    }
    if (optind != argc - 1 || !out || (nlb && !data)) {
        fprintf(stderr, "neurodyn export: expected %s and -o FILE (see --help)\n",
                nlb ? "OUTPUTS.h5, --data FILE" : "RUN_DIR");
        return 2;
    }
    nd_context *ctx = NULL;
    if (nd_context_create(&ctx)) {
        fprintf(stderr, "neurodyn export: out of memory\n");
        return 1;
    }
    nd_status st;
    if (!nlb) {
        nd_model *m = NULL;
        st = nd_model_open(ctx, argv[optind], &m);
        if (!st) st = nd_model_export(ctx, m, out);
        nd_model_free(m);
    } else {
        /* the split the outputs were made with (infer writes it; converted files have their own valid split) */
        double seed = 0, vf = 0.2;
        nd_h5_read_attr_double(argv[optind], "/", "split_seed", &seed, NULL);
        nd_h5_read_attr_double(argv[optind], "/", "valid_fraction", &vf, NULL);
        nd_data *d = NULL;
        st = nd_data_open(ctx, data, (unsigned long long)seed, vf, &d);
        if (!st) st = nd_export_nlb(ctx, d, argv[optind], dataset, es, out);
        nd_data_free(d);
    }
    if (st) fprintf(stderr, "neurodyn export: %s\n", nd_errmsg(ctx));
    else printf("wrote %s (%s)\n", out, format);
    nd_context_free(ctx);
    return st ? 1 : 0;
}
