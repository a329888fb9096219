/* neurodyn export: a trained model's weights under lfads-torch's state_dict names, or an outputs file in the
 * NLB submission layout. The work is in the library (nd_model_export, nd_export_nlb). */
#include "cli.h"
#include "opt.h"
#include "../io/h5.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char ABOUT[] =
    "lfads-torch (default): the model's weights (RUN_DIR/best.ckpt, else last.ckpt) as HDF5 datasets named\n"
    "  by lfads-torch's LFADS module state_dict keys, with its shapes (e.g. 'decoder.rnn.cell.gen_cell.\n"
    "  weight_hh' [3*gen_dim x gen_dim]); root attributes give the constructor's sizes. docs/python.md\n"
    "  loads them into a torch module.\n"
    "nlb: the rates of an infer/baseline outputs file in the Neural Latents Benchmark submission layout,\n"
    "  NAME/{train,eval}_rates_{heldin,heldout}, NAME/eval_rates_{heldin,heldout}_forward (counts per bin).\n";

int cmd_export(int argc, char **argv) {
    const char *out = NULL, *format = NULL, *data = NULL, *dataset = NULL, *split = NULL;
    const cli_opt opts[] = {
        {"out", 'o', CLI_STR, NULL, "output HDF5 (required; written atomically)", &out, 0, 0, NULL, "FILE"},
        {"format", 0, CLI_CHOICE, "lfads-torch", "what to write", &format, 0, 0, "lfads-torch|nlb", NULL},
        {"data", 'd', CLI_STR, NULL, "nlb: the data file the outputs were inferred from (required)", &data, 0, 0, NULL,
         "FILE"},
        {"dataset", 0, CLI_STR, NULL, "nlb: the group name, e.g. mc_maze (default: DATA's base name)", &dataset, 0, 0,
         NULL, "NAME"},
        {"split|eval-split", 0, CLI_CHOICE, "auto", "nlb: the eval trials (auto: test when the outputs have test rates,\n"
         "                             else valid)", &split, 0, 0, "valid|test|auto", NULL},
        {0}};
    const cli_spec spec = {"export", "RUN_DIR|CKPT -o WEIGHTS.h5 [--format lfads-torch]\n"
                           "       neurodyn export OUTPUTS.h5 --format nlb --data DATA.h5 -o SUBMISSION.h5 [--dataset NAME]",
                           ABOUT, "run/ -o weights.h5\n"
                           "out.h5 --format nlb --data mc_maze.h5 --dataset mc_maze -o submission.h5", opts, 1, 1,
                           "RUN_DIR (or OUTPUTS.h5) and -o FILE", NULL};
    char *pos[argc > 0 ? argc : 1];
    int npos, rc = cli_parse(&spec, argc, argv, pos, &npos);
    if (rc) return rc < 0 ? 0 : rc;
    int nlb = !strcmp(format, "nlb");
    nd_split es = !strcmp(split, "valid") ? ND_SPLIT_VALID : !strcmp(split, "test") ? ND_SPLIT_TEST : ND_SPLIT_TRAIN;
    if (!out || (nlb && !data)) {
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
        st = nd_model_open(ctx, pos[0], &m);
        if (!st) st = nd_model_export(ctx, m, out);
        nd_model_free(m);
    } else {
        /* the split the outputs were made with (infer writes it; converted files have their own valid split) */
        double seed = 0, vf = 0.2;
        nd_h5_read_attr_double(pos[0], "/", "split_seed", &seed, NULL);
        nd_h5_read_attr_double(pos[0], "/", "valid_fraction", &vf, NULL);
        nd_data *d = NULL;
        st = nd_data_open(ctx, data, (unsigned long long)seed, vf, &d);
        if (!st) st = nd_export_nlb(ctx, d, pos[0], dataset, es, out);
        nd_data_free(d);
    }
    if (st) fprintf(stderr, "neurodyn export: %s\n", nd_errmsg(ctx));
    else printf("wrote %s (%s)\n", out, format);
    nd_context_free(ctx);
    return st ? 1 : 0;
}
