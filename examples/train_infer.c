/* A C program that uses only the public API (neurodyn.h): simulate a small Lorenz dataset, train a tiny LFADS
 * model for a few epochs, infer rates, score them and write everything under OUTDIR.
 *
 *   cc train_infer.c $(pkg-config --cflags --libs neurodyn) -o train_infer
 *   ./train_infer OUTDIR [THREADS]
 *
 * Writes OUTDIR/lorenz.h5 (the data), OUTDIR/run/ (the run: config.txt, checkpoints, log) and OUTDIR/out.h5 (the
 * inferred outputs, as `neurodyn infer` writes them). The same run from the CLI gives the same bits:
 *   neurodyn train OUTDIR/lorenz.h5 --out run2 --threads THREADS --max-epochs 3 --set gen_dim=16 ... (see SETTINGS)
 *   neurodyn infer run2 --data OUTDIR/lorenz.h5 --out out2.h5 --samples 10 --threads THREADS */
#include <neurodyn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* the tiny model's hyperparameters (neurodyn train --set KEY=VALUE) */
static const char *const SETTINGS[][2] = {
    {"gen_dim", "16"}, {"ic_enc_dim", "8"}, {"ic_dim", "8"}, {"fac_dim", "6"}, {"con_dim", "8"}, {"ci_enc_dim", "8"},
    {"co_dim", "2"}, {"batch_size", "16"}, {"kl_increase_epoch", "1"}, {"l2_increase_epoch", "1"},
    {"max_epochs", "3"}, {"seed", "0"},
};

static int fail(nd_context *ctx, const char *what) {
    fprintf(stderr, "train_infer: %s: %s\n", what, nd_errmsg(ctx));
    return 1;
}

static int run(nd_context *ctx, const char *dir) {
    char path[4096], run_dir[4096], out_path[4096];
    snprintf(path, sizeof path, "%s/lorenz.h5", dir);
    snprintf(run_dir, sizeof run_dir, "%s/run", dir);
    snprintf(out_path, sizeof out_path, "%s/out.h5", dir);

    nd_lorenz_options lo;
    nd_lorenz_options_default(&lo);
    lo.conditions = 6;
    lo.trials_per_condition = 10;
    lo.neurons = 12;
    lo.bins = 20;
    lo.seed = 1;
    nd_data *data = NULL;
    if (nd_simulate_lorenz(ctx, &lo, &data) || nd_data_write(ctx, data, path)) return fail(ctx, "simulate");
    /* train from the file, as a user with recorded data would: the run's data fingerprint then names it */
    nd_data_free(data);
    data = NULL;
    if (nd_data_open(ctx, path, 0, 0.2, &data)) return fail(ctx, "open");
    printf("data: %d train / %d valid trials, %d bins, %d neurons\n", nd_data_trials(data, ND_SPLIT_TRAIN),
           nd_data_trials(data, ND_SPLIT_VALID), nd_data_bins(data), nd_data_neurons(data));

    nd_train_options *to = NULL;
    int rc = 1;
    nd_model *model = NULL;
    nd_outputs *outputs = NULL;
    if (nd_train_options_create(ctx, &to)) { fail(ctx, "train options"); goto done; }
    for (size_t i = 0; i < sizeof SETTINGS / sizeof SETTINGS[0]; i++)
        if (nd_train_options_set(ctx, to, SETTINGS[i][0], SETTINGS[i][1])) { fail(ctx, "train options"); goto done; }
    nd_train_report rep;
    if (nd_train(ctx, data, to, run_dir, 0, &rep)) { fail(ctx, "train"); goto done; }
    printf("trained %d epochs (best epoch %d)\n", rep.epochs_run, rep.best_epoch);

    if (nd_model_open(ctx, run_dir, &model)) { fail(ctx, "model"); goto done; }
    nd_infer_options io;
    nd_infer_options_default(&io);
    io.samples = 10;
    if (nd_infer(ctx, model, data, &io, &outputs) || nd_outputs_write(ctx, outputs, out_path)) {
        fail(ctx, "infer");
        goto done;
    }
    size_t dims[3];
    int rank;
    const float *rates = nd_outputs_array(outputs, "valid_output_params", dims, &rank);
    if (!rates) { fprintf(stderr, "train_infer: no valid_output_params\n"); goto done; }
    printf("valid rates: [%zu x %zu x %zu], first %.6f counts/bin\n", dims[0], dims[1], dims[2], rates[0]);

    nd_metrics m;
    if (nd_eval(ctx, data, outputs, NULL, &m)) { fail(ctx, "eval"); goto done; }
    printf("rate_r2 %s%.4f (%d eval trials)\n", m.computed & ND_METRIC_RATE_R2 ? "" : "not computed ", m.rate_r2,
           m.eval_trials);
    printf("co_bps %s\n", m.computed & ND_METRIC_CO_BPS ? "computed" : "not computed (no held-out neurons)");
    rc = isfinite(m.rate_r2) ? 0 : 1;
done:
    nd_outputs_free(outputs);
    nd_model_free(model);
    nd_train_options_free(to);
    nd_data_free(data);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: train_infer OUTDIR [THREADS]\n");
        return 2;
    }
    nd_context *ctx = NULL;
    if (nd_context_create(&ctx)) return 1;
    printf("neurodyn %s\n", nd_version());
    int rc = 1;
    if (nd_set_threads(ctx, argc == 3 ? atoi(argv[2]) : 2)) fail(ctx, "threads");
    else rc = run(ctx, argv[1]);
    nd_context_free(ctx);
    return rc;
}
