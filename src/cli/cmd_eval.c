#define _GNU_SOURCE
#include "cli.h"
#include "../core/mem.h"
#include "../eval/metrics.h"
#include "../eval/nlb.h"
#include "../eval/regress.h"
#include "../io/checkpoint.h"
#include "../io/fingerprint.h"
#include "../io/h5.h"
#include "../io/lfads_data.h"
#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void eval_usage(FILE *f) {
    fprintf(f,
            "usage: neurodyn eval OUT.h5 --data DATA.h5 [--json metrics.json] [options]\n\n"
            "Scores the rates in OUT.h5 ({train,valid,test}_output_params in counts per bin, [trials x bins x\n"
            "neurons] with the data's reconstruction shape: written by 'neurodyn infer' or any tool using that\n"
            "layout) against DATA.h5. Eval trials (--eval-split): by default the test split when DATA.h5 has its\n"
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
            "JSON never holds NaN.\n\n"
            "options:\n"
            "  --data FILE               the data file the outputs were inferred from (required)\n"
            "  --json FILE               write the metrics as JSON (atomically)\n"
            "  --eval-split S            valid, test or all (valid, plus test when scorable); default test when\n"
            "                            DATA.h5 has its targets, else valid\n"
            "  --allow-data-mismatch     score outputs whose data fingerprint differs from DATA.h5's in trials,\n"
            "                            split or encoder data (bins, neurons and neuron ids must still match)\n"
            "  --behaviour-lag-ms MS     decode the behaviour MS after the rates (default: the data file's\n"
            "                            behavior_lag_ms attribute, i.e. no extra shift; NLB uses 100 for MC_Maze).\n"
            "                            The extra shift must be a whole number of bins; its bins at the trial end\n"
            "                            are dropped. For an exact lag, convert with --behavior-lag-ms instead.\n"
            "                            (--behavior-lag-ms is accepted too)\n"
            "  --vel-r2-average A        variance (default, the spec's variance-weighted R^2 over behaviour dims)\n"
            "                            or uniform (sklearn >= 0.23's Ridge.score, used by nlb_tools today)\n"
            "  --psth-kernel-ms MS       SD of the PSTH smoothing kernel (default 70, NLB's MC_Maze value)\n"
            "  --kernel-ms MS            smoothing-baseline kernel SD in ms (default 50)\n"
            "  --bin-ms MS               bin size in ms (default: the data file's bin_ms attribute, else 20)\n");
}

typedef struct {
    float *a;
    size_t dims[8];
    int rank;
} arr;

static int read_opt(const char *path, const char *name, arr *x, nd_error *err) {
    memset(x, 0, sizeof *x);
    if (!nd_h5_exists(path, name)) return 0;
    if (nd_h5_read_float(path, name, &x->a, &x->rank, x->dims, err) != ND_OK) return -1;
    return 1;
}

/* {split}_output_params of OUT with the data's reconstruction shape: 1 ok, 0 absent, -1 error (printed) */
static int read_rates(const char *out, const char *split, int n, int Tr, int Nr, arr *x) {
    char name[64];
    nd_error err;
    snprintf(name, sizeof name, "%s_output_params", split);
    int r = read_opt(out, name, x, &err);
    if (r < 0) {
        fprintf(stderr, "neurodyn eval: %s\n", err.msg);
        return -1;
    }
    if (r == 0) return 0;
    if (x->rank != 3 || (int)x->dims[0] != n || (int)x->dims[1] != Tr || (int)x->dims[2] != Nr) {
        fprintf(stderr, "neurodyn eval: %s: dataset '%s': shape does not match the %s targets of the data (%d, %d, %d)\n",
                out, name, split, n, Tr, Nr);
        return -1;
    }
    return 1;
}

/* number or, if not finite, a not_computed reason (the JSON never holds NaN) */
static void put(cJSON *root, cJSON *nc, const char *key, double v, const char *why_not) {
    if (isfinite(v)) cJSON_AddNumberToObject(root, key, v);
    else cJSON_AddStringToObject(nc, key, why_not);
}

static void row(const char *name, double v, const char *note) {
    printf("%-28s %.4f%s%s\n", name, v, note && *note ? "  " : "", note ? note : "");
}
static void row_nc(const char *name, const char *why) { printf("%-28s -  (%s)\n", name, why); }

/* concatenation of per-split [n][inner] float blocks; NULL blocks with n > 0 make the result NULL */
static float *concat(const float *a, size_t na, const float *b, size_t nb, size_t inner) {
    if ((na && !a) || (nb && !b)) return NULL;
    float *o = nd_alloc((na + nb) * inner * sizeof(float) + sizeof(float));
    if (!o) return NULL;
    if (na) memcpy(o, a, na * inner * sizeof(float));
    if (nb) memcpy(o + na * inner, b, nb * inner * sizeof(float));
    return o;
}
static int *concat_i(const int *a, size_t na, const int *b, size_t nb, const int *c, size_t ncnt) {
    if ((na && !a) || (nb && !b) || (ncnt && !c)) return NULL;
    int *o = nd_alloc((na + nb + ncnt) * sizeof(int) + sizeof(int));
    if (!o) return NULL;
    if (na) memcpy(o, a, na * sizeof(int));
    if (nb) memcpy(o + na, b, nb * sizeof(int));
    if (ncnt) memcpy(o + na + nb, c, ncnt * sizeof(int));
    return o;
}

/* {split}_recon_params [n][Tr][Nr][P] of OUT: 1 ok, 0 absent, -1 error (printed) */
static int read_params(const char *out, const char *split, int n, int Tr, int Nr, int P, arr *x) {
    char name[64];
    nd_error err;
    snprintf(name, sizeof name, "%s_recon_params", split);
    int r = read_opt(out, name, x, &err);
    if (r < 0) fprintf(stderr, "neurodyn eval: %s\n", err.msg);
    if (r <= 0) return r;
    if (x->rank != 4 || (int)x->dims[0] != n || (int)x->dims[1] != Tr || (int)x->dims[2] != Nr || (int)x->dims[3] != P) {
        fprintf(stderr, "neurodyn eval: %s: dataset '%s': shape is not (%d, %d, %d, %d) (the %s targets x %d parameters)\n",
                out, name, n, Tr, Nr, P, split, P);
        return -1;
    }
    return 1;
}

/* mean log-likelihood per entry of targets x [n][Tr][Nr] under params [n][Tr][Nr][P]: all entries (ll[0]), held-out
 * neurons' observed bins (ll[1]), forward-prediction bins (ll[2]); NaN where a block is empty */
static void recon_ll(int kind, double loc, const float *prm, const float *x, int n, int Tr, int Nr, int T, int N,
                     double ll[3]) {
    int P = nd_recon_nparams(kind);
    double s[3] = {0, 0, 0};
    size_t c[3] = {0, 0, 0};
    real l[3];
    for (int i = 0; i < n; i++)
        for (int t = 0; t < Tr; t++)
            for (int j = 0; j < Nr; j++) {
                size_t e = ((size_t)i * Tr + t) * Nr + j;
                for (int p = 0; p < P; p++) l[p] = (real)prm[e * P + p];
                double v = -recon_nll1(kind, l, 1, x[e], loc);
                s[0] += v, c[0]++;
                if (t < T && j >= N) s[1] += v, c[1]++;
                if (t >= T) s[2] += v, c[2]++;
            }
    for (int k = 0; k < 3; k++) ll[k] = c[k] ? s[k] / (double)c[k] : NAN;
}

enum { O_LAG = 256, O_PSTH, O_SPLIT, O_AVG, O_ALLOW };

int cmd_eval(int argc, char **argv) {
    static const struct option opts[] = {{"data", required_argument, 0, 'd'},
                                         {"json", required_argument, 0, 'j'},
                                         {"kernel-ms", required_argument, 0, 'k'},
                                         {"bin-ms", required_argument, 0, 'b'},
                                         {"behaviour-lag-ms", required_argument, 0, O_LAG},
                                         {"behavior-lag-ms", required_argument, 0, O_LAG},
                                         {"psth-kernel-ms", required_argument, 0, O_PSTH},
                                         {"eval-split", required_argument, 0, O_SPLIT},
                                         {"vel-r2-average", required_argument, 0, O_AVG},
                                         {"allow-data-mismatch", no_argument, 0, O_ALLOW},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *data = NULL, *json = NULL;
    double kernel_ms = 50, bin_ms = -1, lag_ms = NAN, psth_ms = 70;
    int use_valid = 1, use_test = 1, test_required = 0, split_given = 0, allow = 0;
    nd_r2_average avg = ND_R2_VARIANCE_WEIGHTED;
    int c, li = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'd': data = optarg; break;
        case 'j': json = optarg; break;
        case 'k': kernel_ms = strtod(optarg, &end); if (*end || !(kernel_ms > 0)) goto bad; break;
        case 'b': bin_ms = strtod(optarg, &end); if (*end || !(bin_ms > 0) || !isfinite(bin_ms)) goto bad; break;
        case O_LAG: lag_ms = strtod(optarg, &end); if (*end || !isfinite(lag_ms)) goto bad; break;
        case O_PSTH: psth_ms = strtod(optarg, &end); if (*end || !(psth_ms >= 0) || !isfinite(psth_ms)) goto bad; break;
        case O_ALLOW: allow = 1; break;
        case O_SPLIT:
            split_given = 1;
            if (!strcmp(optarg, "valid")) use_valid = 1, use_test = 0;
            else if (!strcmp(optarg, "test")) use_valid = 0, use_test = 1, test_required = 1;
            else if (!strcmp(optarg, "all")) use_valid = 1, use_test = 1;
            else goto bad;
            break;
        case O_AVG:
            if (!strcmp(optarg, "variance") || !strcmp(optarg, "variance_weighted")) avg = ND_R2_VARIANCE_WEIGHTED;
            else if (!strcmp(optarg, "uniform") || !strcmp(optarg, "uniform_average")) avg = ND_R2_UNIFORM;
            else goto bad;
            break;
        case 'h': eval_usage(stdout); return 0;
        default: cli_bad_option("eval", argv); return 2;
        }
        continue;
    bad:
        fprintf(stderr, "neurodyn eval: bad value '%s' for --%s (see --help)\n", optarg, opts[li].name);
        return 2;
    }
    if (optind != argc - 1 || !data) {
        fprintf(stderr, "neurodyn eval: expected OUT.h5 and --data DATA.h5 (see --help)\n");
        return 2;
    }
    const char *out = argv[optind];
    nd_error err;
    int rc = 1;
    double split_seed = 0, vf = 0.2, file_lag_ms = 0;
    if (nd_h5_check_file(out, &err) != ND_OK) {
        fprintf(stderr, "neurodyn eval: %s\n", err.msg);
        return 1;
    }
    nd_h5_read_attr_double(out, "/", "split_seed", &split_seed, NULL);
    nd_h5_read_attr_double(out, "/", "valid_fraction", &vf, NULL);
    /* the reconstruction model of the outputs (attribute absent: Poisson rates) */
    char recon_name[32] = "poisson";
    double zig_loc = 0;
    if (nd_h5_read_attr_string(out, "/", "recon", recon_name, sizeof recon_name, NULL) != ND_OK)
        snprintf(recon_name, sizeof recon_name, "poisson");
    const int recon = nd_recon_parse(recon_name);
    if (recon < 0) {
        fprintf(stderr, "neurodyn eval: %s: attribute 'recon': '%s' is not poisson, gaussian, gamma or zig\n", out,
                recon_name);
        return 1;
    }
    nd_h5_read_attr_double(out, "/", "zig_loc", &zig_loc, NULL);
    if (bin_ms <= 0 && nd_h5_read_attr_double(data, "/", "bin_ms", &bin_ms, NULL) != ND_OK) bin_ms = 20;
    if (!(bin_ms > 0) || !isfinite(bin_ms)) bin_ms = 20;
    nd_h5_read_attr_double(data, "/", "behavior_lag_ms", &file_lag_ms, NULL);
    if (!isfinite(file_lag_ms)) file_lag_ms = 0;
    if (isnan(lag_ms)) lag_ms = file_lag_ms;

    nd_lfads_data d;
    arr pv = {0}, ps = {0}, rv = {0}, rt = {0}, rs = {0}, fac_tr = {0}, fac_va = {0}, lat_tr = {0}, lat_va = {0}, u_va = {0}, co_va = {0};
    float *ev_rates = NULL, *ev_recon = NULL, *ev_enc = NULL, *ev_truth = NULL, *ev_beh = NULL, *smooth = NULL,
          *tin = NULL, *ps_spk = NULL;
    int *ev_cond = NULL, *ps_cond = NULL;
    cJSON *root = cJSON_CreateObject(), *nc = cJSON_CreateObject();
    if (!root || !nc) {
        fprintf(stderr, "neurodyn eval: out of memory\n");
        cJSON_Delete(root); cJSON_Delete(nc);
        return 1;
    }
    if (nd_lfads_data_read_values(data, (uint64_t)split_seed, vf, cli_data_values(recon), &d, &err) != ND_OK) {
        fprintf(stderr, "neurodyn eval: %s\n", err.msg);
        cJSON_Delete(root); cJSON_Delete(nc);
        return 1;
    }
    /* the outputs must come from these data */
    {
        char fptxt[1024], what[512];
        nd_data_fp want, have;
        if (nd_h5_read_attr_string(out, "/", ND_DATA_FP_ATTR, fptxt, sizeof fptxt, NULL) == ND_OK) {
            if (nd_data_fp_parse(fptxt, &want, &err) != ND_OK) {
                fprintf(stderr, "neurodyn eval: %s: attribute '%s': %s\n", out, ND_DATA_FP_ATTR, err.msg);
                goto done;
            }
            if (nd_data_fp_of(&d, &have, &err) != ND_OK) {
                fprintf(stderr, "neurodyn eval: %s\n", err.msg);
                goto done;
            }
            if (nd_data_fp_differs(&want, &have, allow, what, sizeof what)) {
                fprintf(stderr, "neurodyn eval: %s was not made from %s (it was made from %s): %s differ%s\n", out,
                        data, want.file, what, allow ? " (--allow-data-mismatch still needs the same bins, neurons and "
                        "neuron ids)" : "; --allow-data-mismatch scores it anyway");
                goto done;
            }
            if (allow && nd_data_fp_differs(&want, &have, 0, what, sizeof what))
                printf("note: %s was made from other data than %s (%s): %s (allowed by --allow-data-mismatch)\n",
                       out, data, want.file, what);
        }
    }
    const int T = d.T, N = d.N, Tr = d.Tr, Nr = d.Nr;
    const size_t TN = (size_t)T * N, TrNr = (size_t)Tr * Nr;
    int r;
    if ((r = read_rates(out, "valid", d.n_valid, Tr, Nr, &rv)) <= 0) {
        if (r == 0) fprintf(stderr, "neurodyn eval: %s: dataset 'valid_output_params': missing\n", out);
        goto done;
    }
    if (read_rates(out, "train", d.n_train, Tr, Nr, &rt) < 0) goto done;
    /* which eval splits: by default test when the data hold its targets, else valid (which chose best.ckpt) */
    const char *test_why = NULL, *default_why = NULL;
    if (!split_given) {
        use_valid = !(d.n_test > 0 && d.test_recon);
        use_test = !use_valid;
        default_why = use_test ? "default: the data hold the test targets" : "default: the data hold no test targets";
    }
    if (use_test) {
        if (d.n_test == 0) test_why = "the data file has no test split";
        else if (!d.test_recon) test_why = "the data file has no test targets (test_recon_data / test_recon_data_eval)";
        else if ((r = read_rates(out, "test", d.n_test, Tr, Nr, &rs)) < 0) goto done;
        else if (r == 0) test_why = "the outputs have no test_output_params";
        if (test_why && !split_given) { /* test targets but no test outputs: valid, said so */
            use_valid = 1;
            default_why = test_why;
        }
        if (test_why) {
            if (test_required) {
                fprintf(stderr, "neurodyn eval: --eval-split test: %s\n", test_why);
                goto done;
            }
            use_test = 0;
        }
    }
    const int nv = use_valid ? d.n_valid : 0, ns = use_test ? d.n_test : 0, ne = nv + ns;
    const char *splits = nv && ns ? "valid+test" : nv ? "valid" : "test";
    ev_rates = concat(rv.a, (size_t)nv, rs.a, (size_t)ns, TrNr);
    ev_recon = concat(nd_lfads_recon(&d, 1), (size_t)nv, d.test_recon, (size_t)ns, TrNr);
    ev_enc = concat(d.valid, (size_t)nv, d.test, (size_t)ns, TN);
    if (!ev_rates || !ev_recon || !ev_enc) {
        fprintf(stderr, "neurodyn eval: out of memory\n");
        goto done;
    }
    cJSON_AddStringToObject(root, "outputs", out);
    cJSON_AddStringToObject(root, "data", data);
    cJSON_AddStringToObject(root, "eval_splits", splits);
    cJSON_AddNumberToObject(root, "eval_trials", ne);
    cJSON_AddNumberToObject(root, "valid_trials", nv);
    cJSON_AddNumberToObject(root, "test_trials", ns);
    if (use_valid && test_why && d.n_test > 0) cJSON_AddStringToObject(root, "test_not_scored", test_why);
    cJSON_AddNumberToObject(root, "bin_ms", bin_ms);
    if (default_why) cJSON_AddStringToObject(root, "eval_split_reason", default_why);
    printf("eval trials: %d (%s)%s%s%s%s\n", ne, splits, default_why ? "; " : "", default_why ? default_why : "",
           test_why && d.n_test > 0 && !default_why ? "; test not scored: " : "",
           test_why && d.n_test > 0 && !default_why ? test_why : "");
    printf("%-28s %s\n", "metric", "value");

    /* ---------------- NLB: co-bps ---------------- */
    nd_nlb_bps bps;
    char note[256], not_counts[160];
    snprintf(not_counts, sizeof not_counts, "defined for spike counts; these outputs are of recon=%s (see recon_ll_*)",
             recon_name);
    if (recon != ND_RECON_POISSON) {
        cJSON_AddStringToObject(nc, "co_bps", not_counts);
        row_nc("co_bps", "not count data");
    } else if (Nr > N) {
        nd_status st = nd_nlb_bits_per_spike(ev_rates, ev_recon, ne, Tr, Nr, 0, T, N, Nr, &bps, &err);
        if (st == ND_ERR_ARG) {
            cJSON_AddStringToObject(nc, "co_bps", err.msg);
            row_nc("co_bps", err.msg);
        } else if (st) {
            fprintf(stderr, "neurodyn eval: co_bps: %s: %s\n", out, err.msg);
            goto done;
        } else {
            snprintf(note, sizeof note, "(%d held-out neurons, %.0f spikes%s)", Nr - N, bps.spikes,
                     bps.clamped ? "; some rates <= 0 counted as 1e-9" : "");
            row("co_bps", bps.bps, note);
            put(root, nc, "co_bps", bps.bps, "not finite");
            cJSON_AddNumberToObject(root, "co_bps_heldout_neurons", Nr - N);
            cJSON_AddNumberToObject(root, "co_bps_spikes", bps.spikes);
            if (bps.clamped) cJSON_AddNumberToObject(root, "co_bps_rates_clamped", (double)bps.clamped);
        }
    } else {
        const char *why = "no held-out neurons in the data (*_recon_data has no more neurons than *_encod_data)";
        cJSON_AddStringToObject(nc, "co_bps", why);
        row_nc("co_bps", "no held-out neurons");
    }
    /* ---------------- NLB: fp-bps ---------------- */
    if (recon != ND_RECON_POISSON) {
        cJSON_AddStringToObject(nc, "fp_bps", not_counts);
        row_nc("fp_bps", "not count data");
    } else if (Tr > T) {
        nd_status st = nd_nlb_bits_per_spike(ev_rates, ev_recon, ne, Tr, Nr, T, Tr, 0, Nr, &bps, &err);
        if (st == ND_ERR_ARG) {
            cJSON_AddStringToObject(nc, "fp_bps", err.msg);
            row_nc("fp_bps", err.msg);
        } else if (st) {
            fprintf(stderr, "neurodyn eval: fp_bps: %s: %s\n", out, err.msg);
            goto done;
        } else {
            snprintf(note, sizeof note, "(%d forward bins, %d neurons, %.0f spikes)", Tr - T, Nr, bps.spikes);
            row("fp_bps", bps.bps, note);
            put(root, nc, "fp_bps", bps.bps, "not finite");
            cJSON_AddNumberToObject(root, "fp_bps_bins", Tr - T);
            cJSON_AddNumberToObject(root, "fp_bps_spikes", bps.spikes);
        }
    } else {
        cJSON_AddStringToObject(nc, "fp_bps", "no forward-prediction bins in the data (*_recon_data has no more "
                                              "bins than *_encod_data)");
        row_nc("fp_bps", "no forward-prediction bins");
    }
    /* ---------------- log-likelihood of another reconstruction model ---------------- */
    if (recon != ND_RECON_POISSON) {
        const int P = nd_recon_nparams(recon);
        float *ev_prm = NULL;
        if ((r = read_params(out, "valid", d.n_valid, Tr, Nr, P, &pv)) < 0) goto done;
        if (ns && (r = read_params(out, "test", d.n_test, Tr, Nr, P, &ps)) < 0) goto done;
        if (!pv.a || (ns && !ps.a)) {
            cJSON_AddStringToObject(nc, "recon_ll_per_bin", "the outputs have no *_recon_params for the eval splits");
            row_nc("recon_ll_per_bin", "no *_recon_params");
        } else if (!(ev_prm = concat(pv.a, (size_t)nv, ps.a, (size_t)ns, TrNr * P))) {
            fprintf(stderr, "neurodyn eval: out of memory\n");
            goto done;
        } else {
            double ll[3];
            recon_ll(recon, zig_loc, ev_prm, ev_recon, ne, Tr, Nr, T, N, ll);
            nd_free(ev_prm);
            static const char *const key[3] = {"recon_ll_per_bin", "recon_ll_heldout_per_bin", "recon_ll_fp_per_bin"};
            static const char *const none[3] = {"no entries", "no held-out neurons in the data",
                                                "no forward-prediction bins in the data"};
            for (int k = 0; k < 3; k++) {
                snprintf(note, sizeof note, "(nats per neuron and bin, recon=%s)", recon_name);
                if (isfinite(ll[k])) row(key[k], ll[k], note);
                else row_nc(key[k], none[k]);
                put(root, nc, key[k], ll[k], none[k]);
            }
            cJSON_AddStringToObject(root, "recon", recon_name);
        }
    }
    /* ---------------- NLB: vel R2 ---------------- */
    {
        const char *why = NULL;
        double shift = (lag_ms - file_lag_ms) / bin_ms;
        int lag = (int)lround(shift);
        if (d.B == 0) why = "no behaviour (*_behavior) in the data";
        else if (!rt.a) why = "the outputs have no train_output_params (the decoder is fit on the train trials)";
        else if (ns && !d.test_beh) why = "the data file has no test_behavior (hidden test targets)";
        else if (nv && !d.valid_beh) why = "the data file has no valid_behavior";
        else if (fabs(shift - lag) > 1e-6) {
            snprintf(note, sizeof note, "--behaviour-lag-ms %g is not the file's lag (%g ms) plus a whole number of "
                     "%g-ms bins; convert with --behavior-lag-ms for that lag", lag_ms, file_lag_ms, bin_ms);
            why = note;
        } else if (!(ev_beh = concat(d.valid_beh, (size_t)nv, d.test_beh, (size_t)ns, (size_t)d.Tb * d.B))) {
            why = "out of memory";
        } else {
            nd_nlb_ridge rr;
            nd_status st = nd_nlb_vel_r2(rt.a, d.train_beh, d.n_train, ev_rates, ev_beh, ne, Tr, d.Tb, T, Nr, d.B, lag,
                                         avg, &rr, &err);
            if (st == ND_ERR_ARG) why = err.msg;
            else if (st) {
                fprintf(stderr, "neurodyn eval: vel_r2: %s\n", err.msg);
                goto done;
            } else {
                snprintf(note, sizeof note, "(ridge alpha %g, behaviour lag %g ms, %s R^2 over %d dims)", rr.alpha,
                         lag_ms, avg == ND_R2_UNIFORM ? "uniform" : "variance-weighted", d.B);
                row("vel_r2", rr.r2, note);
                put(root, nc, "vel_r2", rr.r2, "not finite");
                cJSON_AddNumberToObject(root, "vel_r2_alpha", rr.alpha);
                cJSON_AddNumberToObject(root, "behaviour_lag_ms", lag_ms);
                cJSON_AddNumberToObject(root, "behaviour_lag_extra_bins", lag);
                cJSON_AddStringToObject(root, "vel_r2_average", avg == ND_R2_UNIFORM ? "uniform" : "variance_weighted");
            }
        }
        if (why) {
            cJSON_AddStringToObject(nc, "vel_r2", why);
            row_nc("vel_r2", why);
        }
    }
    /* ---------------- NLB: psth R2 ---------------- */
    {
        const char *why = NULL;
        const float *rec0 = nd_lfads_recon(&d, 0), *rec1 = nd_lfads_recon(&d, 1);
        /* PSTH trials: every trial with targets and a condition id (train, valid, test with targets) */
        int nps = d.n_train + d.n_valid + (d.test_recon && d.test_cond ? d.n_test : 0);
        if (!d.valid_cond && !d.test_cond) why = "no condition ids (*_condition) in the data";
        else if (!(ev_cond = concat_i(d.valid_cond, (size_t)nv, d.test_cond, (size_t)ns, NULL, 0)))
            why = "an eval split has no condition ids (*_condition)";
        else if (!d.train_cond || !d.valid_cond) why = "train_condition and valid_condition are both needed";
        else if (!(ps_cond = concat_i(d.train_cond, (size_t)d.n_train, d.valid_cond, (size_t)d.n_valid, d.test_cond,
                                      (size_t)(nps - d.n_train - d.n_valid))))
            why = "out of memory";
        else if (!(ps_spk = nd_alloc((size_t)nps * TrNr * sizeof(float) + sizeof(float))))
            why = "out of memory";
        else {
            memcpy(ps_spk, rec0, (size_t)d.n_train * TrNr * sizeof(float));
            memcpy(ps_spk + (size_t)d.n_train * TrNr, rec1, (size_t)d.n_valid * TrNr * sizeof(float));
            if (nps > d.n_train + d.n_valid)
                memcpy(ps_spk + (size_t)(d.n_train + d.n_valid) * TrNr, d.test_recon, (size_t)d.n_test * TrNr * sizeof(float));
            double r2;
            int ncond;
            nd_status st = nd_nlb_psth_r2(ev_rates, ev_cond, ne, Tr, ps_spk, ps_cond, nps, Tr, T, Nr, psth_ms / bin_ms,
                                          &r2, &ncond, &err);
            if (st == ND_ERR_ARG) why = err.msg;
            else if (st) {
                fprintf(stderr, "neurodyn eval: psth_r2: %s\n", err.msg);
                goto done;
            } else {
                snprintf(note, sizeof note, "(%d conditions, PSTH kernel SD %g ms, %d PSTH trials)", ncond, psth_ms, nps);
                row("psth_r2", r2, note);
                put(root, nc, "psth_r2", r2, "not finite");
                cJSON_AddNumberToObject(root, "psth_conditions", ncond);
                cJSON_AddNumberToObject(root, "psth_kernel_ms", psth_ms);
            }
        }
        if (why) {
            cJSON_AddStringToObject(nc, "psth_r2", why);
            row_nc("psth_r2", why);
        }
    }
    /* ---------------- ground truth: rates ---------------- */
    if ((!nv || d.valid_truth) && (!ns || d.test_truth)) {
        if (!(ev_truth = concat(d.valid_truth, (size_t)nv, d.test_truth, (size_t)ns, TrNr))) {
            fprintf(stderr, "neurodyn eval: out of memory\n");
            goto done;
        }
        double r2 = nd_r2_score_3d(ev_rates, ev_truth, ne, Tr, Nr);
        size_t n = (size_t)ne * TN;
        smooth = nd_alloc(sizeof(float) * n + sizeof(float));
        tin = nd_alloc(sizeof(float) * n + sizeof(float));
        if (!smooth || !tin) {
            fprintf(stderr, "neurodyn eval: out of memory\n");
            goto done;
        }
        /* the baseline smooths the observed (held-in) spikes: score it on that block of the truth */
        for (int i = 0; i < ne; i++)
            for (int t = 0; t < T; t++)
                memcpy(tin + ((size_t)i * T + t) * N, ev_truth + ((size_t)i * Tr + t) * Nr, sizeof(float) * N);
        nd_smooth_gaussian(smooth, ev_enc, ne, T, N, kernel_ms / bin_ms);
        double r2s = nd_r2_score_3d(smooth, tin, ne, T, N);
        if (isfinite(r2)) row("rate_r2", r2, "(vs *_truth)");
        else row_nc("rate_r2", "fewer than 2 rows");
        snprintf(note, sizeof note, "(Gaussian kernel SD %.0f ms)", kernel_ms);
        if (isfinite(r2s)) row("smoothing_rate_r2", r2s, note);
        put(root, nc, "rate_r2", r2, "R^2 undefined (fewer than 2 rows)");
        put(root, nc, "smoothing_rate_r2", r2s, "R^2 undefined (fewer than 2 rows)");
        cJSON_AddNumberToObject(root, "smoothing_kernel_ms", kernel_ms);
        if (recon != ND_RECON_POISSON) { /* traces vs rates: other units, so also the best affine map per neuron */
            double a = nd_r2_affine_3d(ev_rates, ev_truth, ne, Tr, Nr), as = nd_r2_affine_3d(smooth, tin, ne, T, N);
            if (isfinite(a)) row("rate_r2_affine", a, "(per-neuron affine map to *_truth)");
            if (isfinite(as)) row("smoothing_rate_r2_affine", as, note);
            put(root, nc, "rate_r2_affine", a, "no neuron with varying rates");
            put(root, nc, "smoothing_rate_r2_affine", as, "no neuron with varying rates");
        }
    } else {
        cJSON_AddStringToObject(nc, "rate_r2", "the data file has no true rates (*_truth) for the eval trials");
        row_nc("rate_r2", "no *_truth in the data");
    }
    /* latent recovery: linear map from factors to the true latents */
    int have = read_opt(out, "train_factors", &fac_tr, &err) > 0 && read_opt(out, "valid_factors", &fac_va, &err) > 0 &&
               read_opt(data, "train_latents", &lat_tr, &err) > 0 && read_opt(data, "valid_latents", &lat_va, &err) > 0;
    if (have && fac_tr.rank == 3 && lat_tr.rank == 3 && fac_va.rank == 3 && lat_va.rank == 3 &&
        fac_tr.dims[0] * fac_tr.dims[1] == lat_tr.dims[0] * lat_tr.dims[1] &&
        fac_va.dims[0] * fac_va.dims[1] == lat_va.dims[0] * lat_va.dims[1] && lat_tr.dims[2] == lat_va.dims[2]) {
        double r2 = NAN;
        nd_status st = nd_lstsq_r2(fac_tr.a, lat_tr.a, fac_tr.dims[0] * fac_tr.dims[1], fac_va.a, lat_va.a,
                                   fac_va.dims[0] * fac_va.dims[1], (int)fac_tr.dims[2], (int)lat_tr.dims[2], &r2, &err);
        if (st == ND_OK && isfinite(r2)) {
            snprintf(note, sizeof note, "(linear map factors -> %zu true latents, fit on train, valid trials)",
                     lat_tr.dims[2]);
            row("latent_r2", r2, note);
            cJSON_AddNumberToObject(root, "latent_r2", r2);
        } else cJSON_AddStringToObject(nc, "latent_r2", st ? err.msg : "R^2 undefined");
    } else cJSON_AddStringToObject(nc, "latent_r2", "needs train/valid factors and *_latents of matching shape");
    /* input pulses */
    if (read_opt(data, "valid_inputs", &u_va, &err) > 0 && read_opt(out, "valid_co_means", &co_va, &err) > 0 &&
        u_va.rank == 3 && co_va.rank == 3 && (int)u_va.dims[0] == d.n_valid && (int)co_va.dims[0] == d.n_valid &&
        (int)u_va.dims[1] == Tr && (int)co_va.dims[1] == Tr) {
        double med, frac, mean;
        int m = nd_pulse_timing(u_va.a, (int)u_va.dims[2], co_va.a, (int)co_va.dims[2], d.n_valid, Tr, 2, 5, &med, &frac,
                                &mean);
        if (m > 0) {
            printf("%-28s %.1f bins  (%d trials; %.0f%% within 2 bins; mean signed %.2f; first/last 5 bins not "
                   "searched)\n",
                   "input_peak_median_offset", med, m, 100 * frac, mean);
            cJSON_AddNumberToObject(root, "input_peak_median_abs_offset_bins", med);
            cJSON_AddNumberToObject(root, "input_peak_frac_within_2_bins", frac);
            cJSON_AddNumberToObject(root, "input_peak_mean_offset_bins", mean);
            cJSON_AddNumberToObject(root, "input_pulse_trials", m);
        }
    }
    cJSON_AddItemToObject(root, "not_computed", nc);
    nc = NULL;
    rc = 0;
    if (json) {
        char *txt = cJSON_Print(root);
        if (!txt || nd_write_file_atomic(json, txt, strlen(txt), &err) != ND_OK) {
            fprintf(stderr, "neurodyn eval: %s\n", txt ? err.msg : "out of memory");
            rc = 1;
        }
        free(txt);
    }
done:
    cJSON_Delete(root);
    cJSON_Delete(nc);
    nd_free(smooth); nd_free(tin);
    nd_free(ev_rates); nd_free(ev_recon); nd_free(ev_enc); nd_free(ev_truth); nd_free(ev_beh); nd_free(ev_cond);
    nd_free(ps_spk); nd_free(ps_cond);
    nd_free(rv.a); nd_free(rt.a); nd_free(rs.a); nd_free(pv.a); nd_free(ps.a);
    nd_free(fac_tr.a); nd_free(fac_va.a); nd_free(lat_tr.a); nd_free(lat_va.a);
    nd_free(u_va.a); nd_free(co_va.a);
    nd_lfads_data_free(&d);
    return rc;
}
