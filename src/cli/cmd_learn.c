/* neurodyn learn train | gradients: learning rules beyond backprop (docs/learning.md). */
#define _GNU_SOURCE
#include "cli.h"
#include "../analysis/learn_analysis.h"
#include "../models/learn_rnn.h"
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void learn_usage(FILE *f) {
    fprintf(f,
            "usage: neurodyn learn train --task TASK --rule RULE --out RUN_DIR [options]\n"
            "       neurodyn learn gradients RUN_DIR [--rules bp,fa,dfa,sign,np,wp] [--samples 200] [--json[=FILE]]\n"
            "                                [--svg plane.svg]   (the bias-variance plane)\n"
            "       neurodyn learn compare RUN_DIR... [--data test] [--svg curves.svg]\n"
            "       neurodyn learn tuning RUN_DIR [--task orientation] [--out RUN_DIR/tuning.h5]\n\n"
            "Trains a multilayer perceptron (tanh hidden layers) or a recurrent network with one learning rule;\n"
            "measures the bias and variance of every rule's gradient estimate at the run's initial and final\n"
            "weights; compares runs (accuracy curves, per-layer linear CKA to the initial weights and to the first\n"
            "run); measures per-layer orientation tuning before vs after reward learning.\n"
            "  tasks: fashion-mnist (Debian package dataset-fashion-mnist), teacher (a random teacher network of\n"
            "         the same shape; squared error), orientation (noisy gratings left/right of 45 deg, learned\n"
            "         from a scalar reward only), flipflop (3-bit flip-flop; needs --rnn)\n"
            "  rules: bp (backprop), fa (feedback alignment), dfa (direct feedback alignment), sign (sign\n"
            "         symmetry), np (node perturbation), wp (weight perturbation); with --rnn: bptt, rflo\n\n"
            "train options:\n"
            "  --arch 784-256-256-10   layer widths (default per task: fashion-mnist 784-256-256-10, teacher\n"
            "                          20-50-5, orientation 256-64-64-64-2)\n"
            "  --rnn N                 a leaky tanh RNN of N units instead (task flipflop; Adam)\n"
            "  --epochs N              epochs (default 10; a resumed run continues to N)\n"
            "  --lr X                  SGD step (default 0.05; Adam 3e-3 with --rnn)\n"
            "  --batch N               examples per step (default 64; 32 sequences with --rnn)\n"
            "  --sigma X               perturbation SD of np and wp (default 1e-3)\n"
            "  --baseline running|two-point  np, wp on supervised tasks: compare the perturbed loss with a running\n"
            "                          average of past losses (Werfel et al. 2005) or with the unperturbed loss of\n"
            "                          the same batch (default); reward learning always uses the running reward\n"
            "  --angle DEG, --noise SD orientation: largest offset from 45 deg (default 10) and pixel noise (1)\n"
            "  --seed N                random seed (default 0)\n"
            "  --threads N             BLAS threads (default: all cores)\n"
            "  --data-dir DIR          Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)\n"
            "  --resume | --force      continue RUN_DIR, or replace the run in it\n"
            "  --quiet                 no progress lines\n\n"
            "RUN_DIR gets curves.tsv, last.ckpt (every epoch) and model.h5: weights, curves and layerK_activity of\n"
            "1000 test examples (and *_init at the initial weights) for 'neurodyn compare'; a --rnn run's model.h5\n"
            "also has valid_gen_states for 'neurodyn fixedpoints RUN_DIR --outputs RUN_DIR/model.h5'.\n\n"
            "examples:\n"
            "  neurodyn learn train --task fashion-mnist --rule fa --epochs 10 --out run_fa/\n"
            "  neurodyn learn gradients run_fa/ --rules bp,fa,np,wp --samples 200 --json=grads.json\n"
            "  neurodyn learn compare run_bp/ run_fa/ --svg curves.svg\n"
            "  neurodyn learn train --task orientation --rule np --sigma 0.1 --lr 0.1 --out run_np/ && "
            "neurodyn learn tuning run_np/\n"
            "  neurodyn learn train --task flipflop --rnn 32 --rule bptt --epochs 10 --out ff/ && "
            "neurodyn fixedpoints ff/ --outputs ff/model.h5\n");
}

static int parse_arch(const char *s, nd_learn_opts *o) {
    int n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        long w = strtol(p, &end, 10);
        if (end == p || w < 1 || w > 100000 || n > ND_MLP_MAX_LAYERS || (*end && *end != '-')) return 0;
        o->widths[n++] = (int)w;
        p = *end ? end + 1 : end;
    }
    if (n < 2) return 0;
    o->L = n - 1;
    return 1;
}

static int learn_train(int argc, char **argv) {
    static const struct option opts[] = {
        {"task", required_argument, 0, 'T'}, {"rule", required_argument, 0, 'R'}, {"arch", required_argument, 0, 'A'},
        {"rnn", required_argument, 0, 'N'}, {"epochs", required_argument, 0, 'E'}, {"lr", required_argument, 0, 'l'},
        {"batch", required_argument, 0, 'B'}, {"sigma", required_argument, 0, 'S'}, {"seed", required_argument, 0, 's'},
        {"threads", required_argument, 0, 't'}, {"data-dir", required_argument, 0, 'D'},
        {"out", required_argument, 0, 'o'}, {"resume", no_argument, 0, 'r'}, {"force", no_argument, 0, 'f'},
        {"quiet", no_argument, 0, 'q'}, {"help", no_argument, 0, 'h'}, {"baseline", required_argument, 0, 'b'},
        {"angle", required_argument, 0, 'a'}, {"noise", required_argument, 0, 'n'}, {0, 0, 0, 0}};
    nd_learn_opts o;
    nd_learn_opts_default(&o);
    long nproc = sysconf(_SC_NPROCESSORS_ONLN);
    o.threads = nproc > 0 ? (int)nproc : 1;
    const char *task = NULL, *rule = NULL;
    int quiet = 0, c, arch_set = 0, lr_set = 0, batch_set = 0;
    char *end;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (c) {
        case 'T': task = optarg; break;
        case 'R': rule = optarg; break;
        case 'A':
            if (!parse_arch(optarg, &o)) {
                fprintf(stderr, "neurodyn learn train: --arch '%s': expected widths like 784-256-256-10 (2..%d layers)\n",
                        optarg, ND_MLP_MAX_LAYERS + 1);
                return 2;
            }
            arch_set = 1;
            break;
        case 'N': o.rnn_units = (int)strtol(optarg, &end, 10); if (*end || o.rnn_units < 1 || o.rnn_units > 4096) goto bad; break;
        case 'E': o.epochs = (int)strtol(optarg, &end, 10); if (*end || o.epochs < 1) goto bad; break;
        case 'B': batch_set = 1; o.batch = (int)strtol(optarg, &end, 10); if (*end || o.batch < 1) goto bad; break;
        case 's': o.seed = strtoull(optarg, &end, 10); if (*end) goto bad; break;
        case 't': o.threads = (int)strtol(optarg, &end, 10); if (*end || o.threads < 1 || o.threads > 1024) goto bad; break;
        case 'l': lr_set = 1; o.lr = strtod(optarg, &end); if (*end || !(o.lr > 0 && o.lr < 100)) goto bad; break;
        case 'S': o.sigma = strtod(optarg, &end); if (*end || !(o.sigma > 0 && o.sigma < 10)) goto bad; break;
        case 'D': o.data_dir = optarg; break;
        case 'b':
            if (!strcmp(optarg, "running")) o.running_baseline = 1;
            else if (!strcmp(optarg, "two-point")) o.running_baseline = 0;
            else goto bad;
            break;
        case 'a': o.ori_angle = strtod(optarg, &end); if (*end || !(o.ori_angle > 0 && o.ori_angle <= 45)) goto bad; break;
        case 'n': o.ori_noise = strtod(optarg, &end); if (*end || !(o.ori_noise >= 0 && o.ori_noise < 100)) goto bad; break;
        case 'o': o.out_dir = optarg; break;
        case 'r': o.resume = 1; break;
        case 'f': o.force = 1; break;
        case 'q': quiet = 1; break;
        case 'h': learn_usage(stdout); return 0;
        default: cli_bad_option("learn train", argv); return 2;
        }
        continue;
    bad:
        fprintf(stderr, "neurodyn learn train: bad value '%s' (see --help)\n", optarg);
        return 2;
    }
    if (!o.out_dir || (!o.resume && (!task || !rule))) {
        fprintf(stderr, "neurodyn learn train: --task, --rule and --out are required (see --help)\n");
        return 2;
    }
    if (task) {
        int t = nd_learn_task_parse(task);
        if (t < 0) {
            fprintf(stderr, "neurodyn learn train: unknown --task '%s' (fashion-mnist, teacher, orientation, flipflop)\n", task);
            return 2;
        }
        o.task = (nd_learn_task)t;
        if (!arch_set) nd_learn_default_arch(&o);
    }
    if (o.rnn_units && arch_set) {
        fprintf(stderr, "neurodyn learn train: --rnn and --arch: give one (a recurrent or a feed-forward network)\n");
        return 2;
    }
    if (rule && o.rnn_units) {
        int r = nd_rnn_rule_parse(rule);
        if (r < 0) {
            fprintf(stderr, "neurodyn learn train: --rule '%s' does not train a recurrent network (--rnn): bptt, rflo\n", rule);
            return 2;
        }
        o.rnn_rule = r;
        if (!lr_set) o.lr = 3e-3; /* Adam */
        if (!batch_set) o.batch = 32;
    } else if (rule) {
        int r = nd_rule_parse(rule);
        if (r < 0) {
            fprintf(stderr, "neurodyn learn train: %s --rule '%s' (bp, fa, dfa, sign, np, wp; with --rnn: bptt, rflo)\n",
                    nd_rnn_rule_parse(rule) >= 0 ? "a recurrent rule needs --rnn N:" : "unknown", rule);
            return 2;
        }
        o.rule = (nd_rule)r;
    }
    o.progress = quiet ? NULL : stdout;
    nd_learn_result res;
    nd_error err;
    nd_status st = nd_learn_train(&o, &res, &err);
    if (st) {
        fprintf(stderr, "neurodyn learn train: %s\n", err.msg);
        return st == ND_ERR_ARG ? 2 : 1;
    }
    if (!quiet) {
        printf("done: test loss %.4f", res.test_loss);
        if (isfinite(res.test_accuracy)) printf(", test accuracy %.4f", res.test_accuracy);
        printf(" -> %s/model.h5\n", o.out_dir);
    }
    return 0;
}

static int learn_gradients(int argc, char **argv) {
    static const struct option opts[] = {{"rules", required_argument, 0, 'R'}, {"samples", required_argument, 0, 'n'},
                                         {"sigma", required_argument, 0, 'S'}, {"batch", required_argument, 0, 'B'},
                                         {"json", optional_argument, 0, 'j'}, {"help", no_argument, 0, 'h'},
                                         {"svg", required_argument, 0, 'g'}, {0, 0, 0, 0}};
    nd_rule rules[ND_RULE_COUNT];
    int n_rules = 0, samples = 200, batch = 100, c, want_json = 0;
    double sigma = 1e-3;
    const char *json = NULL, *svg = NULL;
    char *end;
    for (int r = 0; r < ND_RULE_COUNT; r++) rules[n_rules++] = (nd_rule)r;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'R': {
            n_rules = 0;
            char buf[256];
            snprintf(buf, sizeof buf, "%s", optarg);
            for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
                int r = nd_rule_parse(t);
                if (r < 0 || n_rules >= ND_RULE_COUNT) {
                    fprintf(stderr, "neurodyn learn gradients: --rules: unknown rule '%s' (bp, fa, dfa, sign, np, wp)\n", t);
                    return 2;
                }
                rules[n_rules++] = (nd_rule)r;
            }
            if (!n_rules) { fprintf(stderr, "neurodyn learn gradients: --rules is empty\n"); return 2; }
            break;
        }
        case 'n': samples = (int)strtol(optarg, &end, 10); if (*end || samples < 1 || samples > 1000000) goto bad; break;
        case 'B': batch = (int)strtol(optarg, &end, 10); if (*end || batch < 1) goto bad; break;
        case 'S': sigma = strtod(optarg, &end); if (*end || !(sigma > 0)) goto bad; break;
        case 'j': want_json = 1; json = optarg; break;
        case 'g': svg = optarg; break;
        case 'h': learn_usage(stdout); return 0;
        default: cli_bad_option("learn gradients", argv); return 2;
        }
        continue;
    bad:
        fprintf(stderr, "neurodyn learn gradients: bad value '%s' (see --help)\n", optarg);
        return 2;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "neurodyn learn gradients: expected one RUN_DIR (see --help)\n");
        return 2;
    }
    nd_rule_stats s[2 * ND_RULE_COUNT];
    int L = 0;
    nd_error err;
    if (nd_learn_gradients(argv[optind], rules, n_rules, samples, sigma, batch, s, &L, &err)) {
        fprintf(stderr, "neurodyn learn gradients: %s\n", err.msg);
        return 1;
    }
    if (svg && nd_learn_gradients_svg(svg, rules, n_rules, s, L, &err)) {
        fprintf(stderr, "neurodyn learn gradients: %s\n", err.msg);
        return 1;
    }
    if (want_json) {
        cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "estimates");
        for (int k = 0; k < n_rules; k++)
            for (int stage = 0; stage < 2; stage++) {
                cJSON *e = cJSON_CreateObject();
                cJSON_AddStringToObject(e, "rule", nd_rule_name(rules[k]));
                cJSON_AddStringToObject(e, "weights", stage ? "final" : "initial");
                const nd_rule_stats *t = &s[2 * k + stage];
                cJSON_AddNumberToObject(e, "angle_deg", t->angle_deg[L]);
                cJSON_AddNumberToObject(e, "rel_norm", t->rel_norm[L]);
                cJSON_AddNumberToObject(e, "variance", t->variance[L]);
                cJSON *pl = cJSON_AddArrayToObject(e, "angle_deg_per_layer");
                for (int l = 0; l < L; l++) cJSON_AddItemToArray(pl, cJSON_CreateNumber(t->angle_deg[l]));
                cJSON_AddItemToArray(arr, e);
            }
        int rc = cli_write_json("learn gradients", root, json);
        cJSON_Delete(root);
        if (rc || !json) return rc;
    }
    printf("rule  weights   angle (deg; layers 1..%d, all)          |mean|/|g|  variance\n", L);
    for (int k = 0; k < n_rules; k++)
        for (int stage = 0; stage < 2; stage++) {
            const nd_rule_stats *t = &s[2 * k + stage];
            printf("%-5s %-8s ", nd_rule_name(rules[k]), stage ? "final" : "initial");
            for (int l = 0; l <= L; l++) printf(" %6.1f", t->angle_deg[l]);
            printf("   %8.3f  %9.3g\n", t->rel_norm[L], t->variance[L]);
        }
    printf("-> %s/gradients.h5\n", argv[optind]);
    return 0;
}

static int learn_tuning(int argc, char **argv) {
    static const struct option opts[] = {{"task", required_argument, 0, 'T'}, {"out", required_argument, 0, 'o'},
                                         {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *out = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'T':
            if (strcmp(optarg, "orientation")) {
                fprintf(stderr, "neurodyn learn tuning: --task '%s': only orientation runs have tuning curves\n", optarg);
                return 2;
            }
            break;
        case 'o': out = optarg; break;
        case 'h': learn_usage(stdout); return 0;
        default: cli_bad_option("learn tuning", argv); return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "neurodyn learn tuning: expected one RUN_DIR (see --help)\n");
        return 2;
    }
    char def[4096];
    if (!out) { snprintf(def, sizeof def, "%s/tuning.h5", argv[optind]); out = def; }
    nd_learn_tuning_result r;
    nd_error err;
    nd_status st = nd_learn_tuning(argv[optind], out, &r, &err);
    if (st) {
        fprintf(stderr, "neurodyn learn tuning: %s\n", err.msg);
        return st == ND_ERR_ARG ? 2 : 1;
    }
    printf("orientation tuning at the trained reference (%.0f deg), before -> after learning (test accuracy %.3f)\n",
           ND_ORI_REF_DEG, r.accuracy);
    printf("layer units  mean|slope| (/deg)       slope ratio  single-unit FI (/deg^2)  FI ratio  population FI ratio  tuning change\n");
    for (int l = 0; l < r.L; l++)
        printf("%-5d %5d  %9.3g -> %-9.3g  %8.2f     %9.3g -> %-9.3g  %8.2f  %10.2f           %8.3f\n", l + 1, r.units[l],
               r.slope[0][l], r.slope[1][l], r.slope[1][l] / r.slope[0][l], r.fisher[0][l], r.fisher[1][l],
               r.fisher[1][l] / r.fisher[0][l], r.fisher_pop[1][l] / r.fisher_pop[0][l], r.change[l]);
    printf("-> %s\n", out);
    return 0;
}

static int learn_compare(int argc, char **argv) {
    static const struct option opts[] = {{"data", required_argument, 0, 'd'}, {"svg", required_argument, 0, 's'},
                                         {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *svg = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            if (strcmp(optarg, "test")) {
                fprintf(stderr, "neurodyn learn compare: --data '%s': runs keep the activity of test examples only (test)\n", optarg);
                return 2;
            }
            break;
        case 's': svg = optarg; break;
        case 'h': learn_usage(stdout); return 0;
        default: cli_bad_option("learn compare", argv); return 2;
        }
    }
    int n = argc - optind;
    if (n < 1) {
        fprintf(stderr, "neurodyn learn compare: expected RUN_DIR... (see --help)\n");
        return 2;
    }
    nd_learn_compare_result r;
    nd_error err;
    nd_status st = nd_learn_compare((const char *const *)argv + optind, n, svg, &r, &err);
    if (st) {
        fprintf(stderr, "neurodyn learn compare: %s\n", err.msg);
        return st == ND_ERR_ARG ? 2 : 1;
    }
    printf("test accuracy per epoch\n");
    for (int k = 0; k < n; k++) {
        printf("  %-24s", argv[optind + k]);
        for (int e = 0; e < r.epochs[k]; e++) printf(" %.3f", r.curves[k][4 * e + 3]);
        printf("\n");
    }
    printf("linear CKA per layer (1..%d): trained vs initial weights | vs %s (trained)\n", r.L, argv[optind]);
    for (int k = 0; k < n; k++) {
        printf("  %-24s", argv[optind + k]);
        for (int l = 0; l < r.L; l++) printf(" %.3f", r.cka_init[k][l]);
        printf("  |");
        for (int l = 0; l < r.L; l++) printf(" %.3f", r.cka_ref[k][l]);
        printf("\n");
    }
    if (svg) printf("-> %s\n", svg);
    nd_learn_compare_free(&r);
    return 0;
}

int cmd_learn(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        learn_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "train")) return learn_train(argc - 1, argv + 1);
    if (!strcmp(argv[1], "gradients")) return learn_gradients(argc - 1, argv + 1);
    if (!strcmp(argv[1], "tuning")) return learn_tuning(argc - 1, argv + 1);
    if (!strcmp(argv[1], "compare")) return learn_compare(argc - 1, argv + 1);
    fprintf(stderr, "neurodyn learn: unknown subcommand '%s' (available: train, gradients, compare, tuning)\n", argv[1]);
    return 2;
}
