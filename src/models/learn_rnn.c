/* learn train --rnn N --task flipflop: a leaky tanh RNN (rnn_rules.h) trained on the 3-bit flip-flop with BPTT or
 * RFLO and Adam; checkpoint every epoch (exact --resume); model.h5 for compare and fixedpoints. */
#define _POSIX_C_SOURCE 200809L
#include "learn_rnn.h"
#include "../core/mem.h"
#include "../io/checkpoint.h"
#include "../io/h5.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { STREAM_FF_TRAIN = 311, STREAM_FF_TEST = 312, STREAM_FF_INIT = 313 };
#define FF_T 50
#define FF_P 0.05
#define FF_TEST 64
#define FF_STEPS_PER_EPOCH 100
#define FF_ALPHA 0.5
#define FF_CLIP 1.0

typedef struct { double rule, N, epoch_done, batch, lr, seed, step, alpha, reserved[8]; } rnn_state;

nd_status nd_learn_rnn_load(const char *run_dir, nd_rnn *r, real **init, int *rule, nd_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/last.ckpt", run_dir);
    memset(r, 0, sizeof *r);
    if (access(path, F_OK) != 0) return nd_fail(err, ND_ERR_IO, "%s: no such run (no last.ckpt)", run_dir);
    nd_ckpt c;
    nd_status st = nd_ckpt_read(path, &c, err);
    if (st) return st;
    rnn_state s;
    const nd_ckpt_entry *k = nd_ckpt_find(&c, "kind");
    if (!k || k->bytes != 10 || memcmp(k->data, "learn-rnn", 10)) st = nd_fail(err, ND_ERR_CHECKPOINT, "%s: not a recurrent learn run", path);
    if (!st) st = nd_ckpt_get(&c, path, "state", &s, sizeof s, err);
    if (!st) st = nd_rnn_create(r, (int)s.N, 3, 3, s.alpha, (uint64_t)s.seed * 7919u + STREAM_FF_INIT, err);
    if (!st) st = nd_ckpt_get(&c, path, "params", r->params, sizeof(real) * r->n_params, err);
    if (!st && init) {
        *init = nd_alloc(sizeof(real) * r->n_params);
        st = *init ? nd_ckpt_get(&c, path, "params_init", *init, sizeof(real) * r->n_params, err)
                   : nd_fail(err, ND_ERR_NOMEM, "out of memory");
    }
    if (!st && rule) *rule = (int)s.rule;
    nd_ckpt_free(&c);
    if (st) nd_rnn_free(r);
    return st;
}

int nd_learn_rnn_is_run(const char *run_dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/last.ckpt", run_dir);
    nd_ckpt c;
    nd_error e;
    if (access(path, F_OK) != 0 || nd_ckpt_read(path, &c, &e)) return 0;
    const nd_ckpt_entry *k = nd_ckpt_find(&c, "kind");
    int yes = k && k->bytes == 10 && !memcmp(k->data, "learn-rnn", 10);
    nd_ckpt_free(&c);
    return yes;
}

/* test loss and accuracy: the fraction of (sequence, step, channel) where sign(y) is the target's sign */
static void evaluate(const nd_rnn *r, nd_rnn_acts *a, const real *x, const real *y, double *loss, double *acc) {
    *loss = nd_rnn_forward(r, a, x, y);
    size_t n = (size_t)a->B * a->T * 3, right = 0;
    for (size_t i = 0; i < n; i++) right += (a->y[i] > 0) == (y[i] > 0);
    *acc = (double)right / n;
}

static nd_status write_f(nd_h5file *f, const char *name, const real *x, int rank, const size_t *dims, nd_error *err) {
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    float *t = malloc(sizeof(float) * (n ? n : 1));
    if (!t) return nd_fail(err, ND_ERR_NOMEM, "out of memory writing %s", name);
    for (size_t i = 0; i < n; i++) t[i] = (float)x[i];
    nd_status st = nd_h5_write_float(f, name, t, rank, dims, err);
    free(t);
    return st;
}

static nd_status write_model(const char *path, nd_rnn *r, const real *init, nd_rnn_acts *a, const real *x,
                             const real *y, const double *curves, int n_ep, nd_error *err) {
    nd_h5file *f;
    nd_status st = nd_h5_create(&f, path, err);
    if (st) return st;
    const size_t N = r->N, B = a->B, T = a->T;
    real *keep = nd_alloc(sizeof(real) * r->n_params), *st3 = nd_alloc(sizeof(real) * B * T * N);
    if (!keep || !st3) st = nd_fail(err, ND_ERR_NOMEM, "out of memory");
    for (int stage = 0; stage < 2 && !st; stage++) { /* 0 final, 1 initial weights */
        const char *suf = stage ? "_init" : "";
        char nm[64];
        if (stage) { memcpy(keep, r->params, sizeof(real) * r->n_params); memcpy(r->params, init, sizeof(real) * r->n_params); }
        nd_rnn_forward(r, a, x, y);
        for (size_t b = 0; b < B; b++) memcpy(st3 + b * T * N, a->h + (b * (T + 1) + 1) * N, sizeof(real) * T * N);
        size_t d3[3] = {B, T, N}, dact[2] = {B * T < 1000 ? B * T : 1000, N}, dNN[2] = {N, N}, dNI[2] = {N, 3},
               dN[1] = {N}, dON[2] = {3, N}, dO[1] = {3}, dy[3] = {B, T, 3};
        snprintf(nm, sizeof nm, "%s_gen_states", stage ? "init" : "valid");
        st = write_f(f, nm, st3, 3, d3, err);
        snprintf(nm, sizeof nm, "layer1_activity%s", suf);
        if (!st) st = write_f(f, nm, st3, 2, dact, err);
        snprintf(nm, sizeof nm, "W%s", suf);
        if (!st) st = write_f(f, nm, r->W, 2, dNN, err);
        snprintf(nm, sizeof nm, "U%s", suf);
        if (!st) st = write_f(f, nm, r->U, 2, dNI, err);
        snprintf(nm, sizeof nm, "b%s", suf);
        if (!st) st = write_f(f, nm, r->b, 1, dN, err);
        snprintf(nm, sizeof nm, "V%s", suf);
        if (!st) st = write_f(f, nm, r->V, 2, dON, err);
        snprintf(nm, sizeof nm, "c%s", suf);
        if (!st) st = write_f(f, nm, r->c, 1, dO, err);
        snprintf(nm, sizeof nm, "test_outputs%s", suf);
        if (!st) st = write_f(f, nm, a->y, 3, dy, err);
        if (!st && !stage) st = write_f(f, "test_inputs", x, 3, dy, err);
        if (!st && !stage) st = write_f(f, "test_targets", y, 3, dy, err);
        if (stage) memcpy(r->params, keep, sizeof(real) * r->n_params);
    }
    size_t cd[2] = {(size_t)n_ep, 4};
    if (!st && n_ep) st = nd_h5_write_double(f, "curves", curves, 2, cd, err);
    if (!st) st = nd_h5_write_attr_string(f, "/", "curves_columns", "epoch, train loss, test loss, test accuracy", err);
    if (!st) st = nd_h5_write_attr_double(f, "/", "alpha", r->alpha, err);
    if (!st) st = nd_h5_write_attr_string(f, "/", "model", "leaky tanh RNN: h_t = (1 - alpha) h_{t-1} + alpha tanh(W h_{t-1} "
                                          "+ U x_t + b), y_t = V h_t + c; valid_gen_states: hidden states on the test "
                                          "sequences [sequences][steps][units]", err);
    nd_free(keep); nd_free(st3);
    nd_error e2;
    nd_status cs = nd_h5_close(f, st == ND_OK, st ? &e2 : err);
    return st ? st : cs;
}

nd_status nd_learn_rnn_train(const nd_learn_opts *o, nd_learn_result *res, nd_error *err) {
    memset(res, 0, sizeof *res);
    char last[4096], prev[4096], curves_p[4096], model_p[4096];
    snprintf(last, sizeof last, "%s/last.ckpt", o->out_dir);
    snprintf(prev, sizeof prev, "%s/last.prev.ckpt", o->out_dir);
    snprintf(curves_p, sizeof curves_p, "%s/curves.tsv", o->out_dir);
    snprintf(model_p, sizeof model_p, "%s/model.h5", o->out_dir);
    if (o->task != ND_TASK_FLIPFLOP && !o->resume)
        return nd_fail(err, ND_ERR_ARG, "--rnn: task %s is not recurrent (use --task flipflop, or --arch for an MLP)",
                       nd_learn_task_name(o->task));
    if (o->epochs < 1 || o->batch < 1 || !(o->lr > 0))
        return nd_fail(err, ND_ERR_ARG, "learn train: --epochs, --batch and --lr must be > 0");
    if (mkdir(o->out_dir, 0777) != 0 && errno != EEXIST)
        return nd_fail(err, ND_ERR_IO, "%s: cannot create (%s)", o->out_dir, strerror(errno));
    if (!o->resume && access(last, F_OK) == 0) {
        if (!o->force) return nd_fail(err, ND_ERR_ARG, "%s already holds a run; use --resume to continue it or --force "
                                      "to replace it", o->out_dir);
        unlink(last); unlink(prev); unlink(curves_p); unlink(model_p);
    }
    rnn_state s;
    memset(&s, 0, sizeof s);
    nd_rnn r = {0};
    real *init = NULL, *am = NULL, *av = NULL;
    nd_status st = ND_OK;
    if (o->resume) {
        int rule;
        st = nd_learn_rnn_load(o->out_dir, &r, &init, &rule, err);
        nd_ckpt c;
        if (!st && !(st = nd_ckpt_read(last, &c, err))) {
            st = nd_ckpt_get(&c, last, "state", &s, sizeof s, err);
            am = nd_alloc(sizeof(real) * r.n_params);
            av = nd_alloc(sizeof(real) * r.n_params);
            if (!st && (!am || !av)) st = nd_fail(err, ND_ERR_NOMEM, "out of memory");
            if (!st) st = nd_ckpt_get(&c, last, "adam_m", am, sizeof(real) * r.n_params, err);
            if (!st) st = nd_ckpt_get(&c, last, "adam_v", av, sizeof(real) * r.n_params, err);
            nd_ckpt_free(&c);
        }
    } else {
        s.rule = o->rnn_rule; s.N = o->rnn_units; s.batch = o->batch; s.lr = o->lr; s.seed = (double)o->seed;
        s.alpha = FF_ALPHA;
        st = nd_rnn_create(&r, o->rnn_units, 3, 3, FF_ALPHA, o->seed * 7919u + STREAM_FF_INIT, err);
        init = st ? NULL : nd_alloc(sizeof(real) * r.n_params);
        am = st ? NULL : nd_alloc(sizeof(real) * r.n_params);
        av = st ? NULL : nd_alloc(sizeof(real) * r.n_params);
        if (!st && (!init || !am || !av)) st = nd_fail(err, ND_ERR_NOMEM, "out of memory");
        if (!st) {
            memcpy(init, r.params, sizeof(real) * r.n_params);
            memset(am, 0, sizeof(real) * r.n_params);
            memset(av, 0, sizeof(real) * r.n_params);
            FILE *f = fopen(curves_p, "w");
            if (f) { fprintf(f, "epoch\ttrain_loss\ttest_loss\ttest_accuracy\n"); fclose(f); }
        }
    }
    const int B = (int)s.batch, rule = (int)s.rule;
    const double lr = s.lr;
    nd_rnn_acts a = {0}, ta = {0};
    real *x = NULL, *y = NULL, *tx = NULL, *ty = NULL, *g = NULL, *work = NULL;
    double *curves = calloc((size_t)o->epochs + 1, 4 * sizeof(double));
    if (!st) {
        x = nd_alloc(sizeof(real) * (size_t)B * FF_T * 3);
        y = nd_alloc(sizeof(real) * (size_t)B * FF_T * 3);
        tx = nd_alloc(sizeof(real) * FF_TEST * FF_T * 3);
        ty = nd_alloc(sizeof(real) * FF_TEST * FF_T * 3);
        g = nd_alloc(sizeof(real) * r.n_params);
        work = nd_alloc(sizeof(real) * (size_t)r.N * (r.N + r.I + 1));
        if (!x || !y || !tx || !ty || !g || !work || !curves) st = nd_fail(err, ND_ERR_NOMEM, "out of memory");
    }
    if (!st) st = nd_rnn_acts_create(&a, &r, B, FF_T, err);
    if (!st) st = nd_rnn_acts_create(&ta, &r, FF_TEST, FF_T, err);
    if (!st) {
        nd_rng tr;
        nd_rng_stream(&tr, (uint64_t)s.seed, STREAM_FF_TEST, 0);
        nd_flipflop(FF_TEST, FF_T, FF_P, &tr, tx, ty);
    }
    int n_curves = 0;
    FILE *cf = st ? NULL : fopen(curves_p, "r");
    if (cf) {
        char line[256];
        if (fgets(line, sizeof line, cf))
            while (n_curves < o->epochs && fgets(line, sizeof line, cf) &&
                   sscanf(line, "%lf %lf %lf %lf", &curves[4 * n_curves], &curves[4 * n_curves + 1],
                          &curves[4 * n_curves + 2], &curves[4 * n_curves + 3]) == 4)
                n_curves++;
        fclose(cf);
    }
    for (int ep = (int)s.epoch_done; !st && ep < o->epochs; ep++) {
        double tl = 0;
        for (int k = 0; k < FF_STEPS_PER_EPOCH; k++) {
            nd_rng br;
            nd_rng_stream(&br, (uint64_t)s.seed, STREAM_FF_TRAIN, (uint64_t)s.step);
            nd_flipflop(B, FF_T, FF_P, &br, x, y);
            tl += nd_rnn_forward(&r, &a, x, y);
            if (rule == ND_RNN_BPTT) nd_rnn_bptt(&r, &a, x, y, g);
            else nd_rnn_rflo(&r, &a, x, y, NULL, g, work);
            /* global-norm clip, then Adam (0.9, 0.999, 1e-8) */
            double gn = 0;
            for (size_t p = 0; p < r.n_params; p++) gn += (double)g[p] * g[p];
            gn = sqrt(gn);
            const double sc = gn > FF_CLIP ? FF_CLIP / gn : 1;
            s.step += 1;
            const double b1 = 1 - pow(0.9, s.step), b2 = 1 - pow(0.999, s.step);
            for (size_t p = 0; p < r.n_params; p++) {
                double gp = sc * g[p];
                am[p] = (real)(0.9 * am[p] + 0.1 * gp);
                av[p] = (real)(0.999 * av[p] + 0.001 * gp * gp);
                r.params[p] -= (real)(lr * (am[p] / b1) / (sqrt(av[p] / b2) + 1e-8));
            }
        }
        tl /= FF_STEPS_PER_EPOCH;
        double tel, acc;
        evaluate(&r, &ta, tx, ty, &tel, &acc);
        if (!isfinite(tel)) { st = nd_fail(err, ND_ERR_NUMERIC, "the loss diverged at epoch %d; lower --lr", ep + 1); break; }
        s.epoch_done = ep + 1;
        double *cv = curves + 4 * (size_t)n_curves++;
        cv[0] = ep; cv[1] = tl; cv[2] = tel; cv[3] = acc;
        FILE *f = fopen(curves_p, "a");
        if (f) { fprintf(f, "%d\t%.6f\t%.6f\t%.6f\n", ep, tl, tel, acc); fclose(f); }
        nd_ckpt_section sec[] = {{"kind", "learn-rnn", 10}, {"state", &s, sizeof s},
                                 {"params", r.params, sizeof(real) * r.n_params},
                                 {"params_init", init, sizeof(real) * r.n_params},
                                 {"adam_m", am, sizeof(real) * r.n_params}, {"adam_v", av, sizeof(real) * r.n_params}};
        if ((st = nd_ckpt_write_keep(last, prev, sec, 6, err))) break;
        if (o->progress) {
            fprintf(o->progress, "epoch %d/%d  %s  train loss %.4f  test loss %.4f  test accuracy %.4f\n", ep + 1,
                    o->epochs, nd_rnn_rule_name((nd_rnn_rule)rule), tl, tel, acc);
            fflush(o->progress);
        }
        res->epochs_run++;
    }
    if (!st) {
        evaluate(&r, &ta, tx, ty, &res->test_loss, &res->test_accuracy);
        st = write_model(model_p, &r, init, &ta, tx, ty, curves, n_curves, err);
    }
    free(curves);
    nd_free(x); nd_free(y); nd_free(tx); nd_free(ty); nd_free(g); nd_free(work);
    nd_free(init); nd_free(am); nd_free(av);
    nd_rnn_acts_free(&a);
    nd_rnn_acts_free(&ta);
    nd_rnn_free(&r);
    return st;
}
