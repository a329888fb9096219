/* neurodyn eval: parse, nd_eval_file (src/eval/score.c), print the table and the JSON. */
#define _GNU_SOURCE
#include "cli.h"
#include "opt.h"
#include "../eval/score.h"
#include "../nn/recon.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char ABOUT[] =
    "Scores the rates in OUT.h5 ({train,valid,test}_output_params in counts per bin, [trials x bins x\n"
    "neurons] with the data's reconstruction shape: written by 'neurodyn infer' or any tool using that\n"
    "layout) against DATA.h5. Eval trials (--split): by default the test split when DATA.h5 has its\n"
    "targets (test_recon_data or test_recon_data_eval), else the valid split, which chose best.ckpt; the\n"
    "split used is printed. OUT.h5's data_fingerprint attribute (written by infer and baseline) must\n"
    "match DATA.h5 (shapes, neuron ids, split indices, encoder-data hash); outputs without one are\n"
    "checked for shapes only.\n"
    "Neural Latents Benchmark metrics (definitions as nlb_tools; see README):\n"
    "  co_bps   bits per spike of the held-out neurons on the eval trials (observed bins); the null model\n"
    "           predicts each neuron's mean count; rates <= 0 count as 1e-9\n"
    "  fp_bps   the same on the forward-prediction bins, all neurons\n"
    "  vel_r2   ridge regression rates -> behaviour (*_behavior), fit on the train trials with alpha\n"
    "           chosen by 5-fold CV (contiguous folds) over logspace(-4, 0, 9), R^2 on the eval trials\n"
    "  psth_r2  condition-averaged eval rates vs true PSTHs (*_condition; spikes of all trials with targets\n"
    "           smoothed with a Gaussian of SD --psth-kernel-ms, averaged per condition), R^2 averaged\n"
    "           over neurons\n"
    "Ground truth (when DATA.h5 has it):\n"
    "  rate_r2            R^2 of the eval rates vs *_truth (mean over neurons, as sklearn r2_score)\n"
    "  smoothing_rate_r2  the same for Gaussian-smoothed held-in spikes (--kernel-ms), a baseline\n"
    "  latent_r2          R^2 of a linear map factors -> true latents (fit on train, scored on valid)\n"
    "  input_peak_*       timing of inferred-input peaks vs true input pulses (chaotic-rnn --input-pulses);\n"
    "                     the first and last 5 bins are not searched (start-of-trial transient)\n"
    "Other reconstruction models (OUT.h5 attribute recon = gaussian, gamma or zig, written by 'neurodyn\n"
    "infer' for such a model; *_output_params is then the distribution's mean in data units):\n"
    "  recon_ll_per_bin           mean log-likelihood (nats) per neuron and bin of the eval targets under\n"
    "                             the inferred distributions ({valid,test}_recon_params)\n"
    "  recon_ll_heldout_per_bin   the same on the held-out neurons' observed bins (co_bps's entries)\n"
    "  recon_ll_fp_per_bin        the same on the forward-prediction bins (fp_bps's entries)\n"
    "  rate_r2_affine, smoothing_rate_r2_affine  R^2 of the best per-neuron affine map to *_truth (the\n"
    "                             squared correlation): traces are not in the truth's units\n"
    "  co_bps and fp_bps are defined for spike counts only and listed under not_computed.\n"
    "A metric that cannot be computed is listed with the reason under \"not_computed\" in the JSON; the\n"
    "JSON never holds NaN.\n";

/* the metric: a table row and its JSON key, or (not computed) its reason under not_computed */
static void show(FILE *f, cJSON *root, cJSON *nc, const char *key, const nd_eval_value *x, const char *note, int table) {
    if (!x->why[0]) {
        if (f && table) fprintf(f, "%-28s %.4f%s%s\n", key, x->v, note && *note ? "  " : "", note ? note : "");
        cJSON_AddNumberToObject(root, key, x->v);
        return;
    }
    if (f && table) fprintf(f, "%-28s -  (%s)\n", key, x->brief[0] ? x->brief : x->why);
    cJSON_AddStringToObject(nc, key, x->why);
}

static void report(FILE *f, const char *out, const char *data, const nd_eval_result *r, const nd_eval_opts *o, cJSON *root,
                   cJSON *nc) {
    char note[256];
    cJSON_AddStringToObject(root, "outputs", out);
    cJSON_AddStringToObject(root, "data", data);
    cJSON_AddStringToObject(root, "eval_splits", r->splits);
    cJSON_AddNumberToObject(root, "eval_trials", r->ne);
    cJSON_AddNumberToObject(root, "valid_trials", r->nv);
    cJSON_AddNumberToObject(root, "test_trials", r->ns);
    if (r->test_not_scored[0]) cJSON_AddStringToObject(root, "test_not_scored", r->test_not_scored);
    cJSON_AddNumberToObject(root, "bin_ms", r->bin_ms);
    if (r->split_reason[0]) cJSON_AddStringToObject(root, "eval_split_reason", r->split_reason);
    if (f && r->note[0]) fprintf(f, "note: %s\n", r->note);
    int tns = r->test_not_scored[0] && !r->split_reason[0];
    if (f) fprintf(f, "eval trials: %d (%s)%s%s%s%s\n", r->ne, r->splits, r->split_reason[0] ? "; " : "", r->split_reason,
           tns ? "; test not scored: " : "", tns ? r->test_not_scored : "");
    if (f) fprintf(f, "%-28s %s\n", "metric", "value");
    snprintf(note, sizeof note, "(%d held-out neurons, %.0f spikes%s)", r->co_heldout, r->co_spikes,
             r->co_clamped ? "; some rates <= 0 counted as 1e-9" : "");
    show(f, root, nc, "co_bps", &r->co_bps, note, 1);
    if (!r->co_bps.why[0]) {
        cJSON_AddNumberToObject(root, "co_bps_heldout_neurons", r->co_heldout);
        cJSON_AddNumberToObject(root, "co_bps_spikes", r->co_spikes);
        if (r->co_clamped) cJSON_AddNumberToObject(root, "co_bps_rates_clamped", (double)r->co_clamped);
    }
    snprintf(note, sizeof note, "(%d forward bins, %d neurons, %.0f spikes)", r->fp_bins, r->fp_neurons, r->fp_spikes);
    show(f, root, nc, "fp_bps", &r->fp_bps, note, 1);
    if (!r->fp_bps.why[0]) {
        cJSON_AddNumberToObject(root, "fp_bps_bins", r->fp_bins);
        cJSON_AddNumberToObject(root, "fp_bps_spikes", r->fp_spikes);
    }
    if (r->has_recon_ll < 0) show(f, root, nc, "recon_ll_per_bin", &r->recon_ll[0], NULL, 1);
    else if (r->has_recon_ll) {
        static const char *const key[3] = {"recon_ll_per_bin", "recon_ll_heldout_per_bin", "recon_ll_fp_per_bin"};
        snprintf(note, sizeof note, "(nats per neuron and bin, recon=%s)", nd_recon_name(r->recon));
        for (int k = 0; k < 3; k++) show(f, root, nc, key[k], &r->recon_ll[k], note, 1);
        cJSON_AddStringToObject(root, "recon", nd_recon_name(r->recon));
    }
    int uni = o->vel_avg == ND_R2_UNIFORM;
    snprintf(note, sizeof note, "(ridge alpha %g, behaviour lag %g ms, %s R^2 over %d dims)", r->vel_alpha, r->lag_ms,
             uni ? "uniform" : "variance-weighted", r->n_behaviour);
    show(f, root, nc, "vel_r2", &r->vel_r2, note, 1);
    if (!r->vel_r2.why[0]) {
        cJSON_AddNumberToObject(root, "vel_r2_alpha", r->vel_alpha);
        cJSON_AddNumberToObject(root, "behaviour_lag_ms", r->lag_ms);
        cJSON_AddNumberToObject(root, "behaviour_lag_extra_bins", r->lag_extra_bins);
        cJSON_AddStringToObject(root, "vel_r2_average", uni ? "uniform" : "variance_weighted");
    }
    snprintf(note, sizeof note, "(%d conditions, PSTH kernel SD %g ms, %d PSTH trials)", r->psth_conditions,
             o->psth_kernel_ms, r->psth_trials);
    show(f, root, nc, "psth_r2", &r->psth_r2, note, 1);
    if (!r->psth_r2.why[0]) {
        cJSON_AddNumberToObject(root, "psth_conditions", r->psth_conditions);
        cJSON_AddNumberToObject(root, "psth_kernel_ms", o->psth_kernel_ms);
    }
    show(f, root, nc, "rate_r2", &r->rate_r2, "(vs *_truth)", 1);
    if (r->has_truth) {
        snprintf(note, sizeof note, "(Gaussian kernel SD %.0f ms)", o->kernel_ms);
        show(f, root, nc, "smoothing_rate_r2", &r->smoothing_rate_r2, note, !r->smoothing_rate_r2.why[0]);
        cJSON_AddNumberToObject(root, "smoothing_kernel_ms", o->kernel_ms);
        if (r->recon != ND_RECON_POISSON) {
            show(f, root, nc, "rate_r2_affine", &r->rate_r2_affine, "(per-neuron affine map to *_truth)",
                 !r->rate_r2_affine.why[0]);
            show(f, root, nc, "smoothing_rate_r2_affine", &r->smoothing_rate_r2_affine, note,
                 !r->smoothing_rate_r2_affine.why[0]);
        }
    }
    snprintf(note, sizeof note, "(linear map factors -> %d true latents, fit on train, valid trials)", r->latent_dims);
    show(f, root, nc, "latent_r2", &r->latent_r2, note, !r->latent_r2.why[0]);
    if (r->pulse_trials > 0) {
        if (f) fprintf(f, "%-28s %.1f bins  (%d trials; %.0f%% within 2 bins; mean signed %.2f; first/last 5 bins not searched)\n",
               "input_peak_median_offset", r->pulse_median, r->pulse_trials, 100 * r->pulse_frac, r->pulse_mean);
        cJSON_AddNumberToObject(root, "input_peak_median_abs_offset_bins", r->pulse_median);
        cJSON_AddNumberToObject(root, "input_peak_frac_within_2_bins", r->pulse_frac);
        cJSON_AddNumberToObject(root, "input_peak_mean_offset_bins", r->pulse_mean);
        cJSON_AddNumberToObject(root, "input_pulse_trials", r->pulse_trials);
    }
}

int cmd_eval(int argc, char **argv) {
    const char *data = NULL, *split = NULL, *avg = NULL;
    int allow = 0;
    cli_json json = {0, NULL};
    nd_eval_opts o;
    nd_eval_opts_default(&o);
    const cli_opt opts[] = {
        {"data", 'd', CLI_STR, NULL, "the data file the outputs were inferred from (required)", &data, 0, 0, NULL, "FILE"},
        {"json", 0, CLI_JSON, NULL, "write the metrics as JSON to FILE (atomically; the table is still printed), or\n"
         "                             to stdout instead of the table", &json, 0, 0, NULL, NULL},
        {"split|eval-split", 0, CLI_CHOICE, NULL, "valid, test or all (valid, plus test when scorable); default test\n"
         "                             when DATA.h5 has its targets, else valid", &split, 0, 0, "valid|test|all", NULL},
        {"allow-data-mismatch", 0, CLI_FLAG, NULL, "score outputs whose data fingerprint differs from DATA.h5's in\n"
         "                             trials, split or encoder data (bins, neurons and neuron ids must still match)",
         &allow, 0, 0, NULL, NULL},
        {"behaviour-lag-ms|behavior-lag-ms", 0, CLI_REAL, NULL, "decode the behaviour MS after the rates (default: the\n"
         "                             data file's behavior_lag_ms attribute, i.e. no extra shift; NLB uses 100 for\n"
         "                             MC_Maze). The extra shift must be a whole number of bins; its bins at the trial\n"
         "                             end are dropped. For an exact lag, convert with --behavior-lag-ms instead",
         &o.lag_ms, 0, 0, NULL, "MS"},
        {"vel-r2-average", 0, CLI_CHOICE, "variance", "variance (the spec's variance-weighted R^2 over behaviour dims)\n"
         "                             or uniform (sklearn >= 0.23's Ridge.score, used by nlb_tools today)", &avg, 0, 0,
         "variance|uniform|variance_weighted|uniform_average", NULL},
        {"psth-kernel-ms", 0, CLI_REAL, "70", "SD of the PSTH smoothing kernel (NLB's MC_Maze value)", &o.psth_kernel_ms,
         0, 1e300, NULL, "MS"},
        {"kernel-ms", 0, CLI_REAL, "50", "smoothing-baseline kernel SD in ms", &o.kernel_ms, 1e-300, 1e300, NULL, "MS"},
        {"bin-ms", 0, CLI_REAL, NULL, "bin size in ms (default: the data file's bin_ms attribute, else 20)", &o.bin_ms,
         1e-300, 1e300, NULL, "MS"},
        {0}};
    const cli_spec spec = {"eval", "OUT.h5 --data DATA.h5 [--json[=FILE]] [--split valid|test|all] [options]", ABOUT,
                           "lorenz_out.h5 --data lorenz.h5 --json metrics.json\n"
                           "mc_maze_out.h5 --data mc_maze.h5 --split valid --behaviour-lag-ms 100",
                           opts, 1, 1, "OUT.h5 and --data DATA.h5", NULL};
    char *pos[argc > 0 ? argc : 1];
    int npos, rc = cli_parse(&spec, argc, argv, pos, &npos);
    if (rc) return rc < 0 ? 0 : rc;
    if (!data) {
        fprintf(stderr, "neurodyn eval: expected OUT.h5 and --data DATA.h5 (see --help)\n");
        return 2;
    }
    o.split = !split ? ND_EVAL_SPLIT_DEFAULT : !strcmp(split, "valid") ? ND_EVAL_SPLIT_VALID
              : !strcmp(split, "test") ? ND_EVAL_SPLIT_TEST : ND_EVAL_SPLIT_ALL;
    o.vel_avg = !strncmp(avg, "uniform", 7) ? ND_R2_UNIFORM : ND_R2_VARIANCE_WEIGHTED;
    o.allow_mismatch = allow;
    nd_eval_result r;
    nd_error err;
    if (nd_eval_file(pos[0], data, &o, &r, &err)) {
        fprintf(stderr, "neurodyn eval: %s\n", err.msg);
        return 1;
    }
    cJSON *root = cJSON_CreateObject(), *nc = cJSON_CreateObject();
    if (!root || !nc) { cJSON_Delete(root); cJSON_Delete(nc); fprintf(stderr, "neurodyn eval: out of memory\n"); return 1; }
    report(json.on && !json.path ? NULL : stdout, pos[0], data, &r, &o, root, nc); /* JSON to stdout: no table */
    cJSON_AddItemToObject(root, "not_computed", nc);
    rc = json.on && cli_write_json("eval", root, json.path) ? 1 : 0;
    cJSON_Delete(root);
    return rc;
}
