#define _POSIX_C_SOURCE 200809L
#include "learn_train.h"
#include "learn_rnn.h"
#include "../core/blas.h"
#include "../core/mem.h"
#include "../io/checkpoint.h"
#include "../io/h5.h"
#include "../io/idx.h"
#include "../io/svg.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { STREAM_ORDER = 301, STREAM_NOISE = 302, STREAM_TEACHER = 303, STREAM_ORIENT = 304 };

#define ACTIVITY_EXAMPLES 1000
#define ND_PI 3.14159265358979323846

void nd_learn_default_arch(nd_learn_opts *o) {
    int *w = o->widths;
    switch (o->task) {
    case ND_TASK_TEACHER: o->L = 2; w[0] = 20; w[1] = 50; w[2] = 5; break;
    case ND_TASK_ORIENTATION: /* a small hierarchy: three hidden layers */
        o->L = 4; w[0] = o->ori_size * o->ori_size; w[1] = 64; w[2] = 64; w[3] = 64; w[4] = 2; break;
    default: o->L = 3; w[0] = 784; w[1] = 256; w[2] = 256; w[3] = 10; break;
    }
}

/* "784-256-256-10" -> o->widths, o->L; 0 if malformed */
static int parse_arch(const char *s, nd_learn_opts *o) {
    int n = 0, w[ND_MLP_MAX_LAYERS + 1];
    for (const char *p = s; *p;) {
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (end == p || errno || x < 1 || x > 100000 || n > ND_MLP_MAX_LAYERS || (*end && *end != '-')) return 0;
        w[n++] = (int)x;
        p = *end ? end + 1 : end;
    }
    if (n < 2) return 0;
    memcpy(o->widths, w, sizeof(int) * n);
    o->L = n - 1;
    return 1;
}

nd_status nd_learn_opts_choose(nd_learn_opts *o, const char *task, const char *rule, const char *arch, nd_error *err) {
    nd_learn_opts d;
    nd_learn_opts_default(&d);
    if (arch && !parse_arch(arch, o))
        return nd_fail(err, ND_ERR_ARG, "--arch '%s': expected widths like 784-256-256-10 (2..%d layers)", arch,
                       ND_MLP_MAX_LAYERS + 1);
    if (task) {
        int t = nd_learn_task_parse(task);
        if (t < 0)
            return nd_fail(err, ND_ERR_ARG, "unknown --task '%s' (fashion-mnist, teacher, orientation, flipflop)", task);
        o->task = (nd_learn_task)t;
        if (!arch) nd_learn_default_arch(o);
    }
    if (o->rnn_units && arch)
        return nd_fail(err, ND_ERR_ARG, "--rnn and --arch: give one (a recurrent or a feed-forward network)");
    const int adam = rule && o->rnn_units; /* the recurrent trainer's defaults */
    if (!(o->lr > 0)) o->lr = adam ? 3e-3 : d.lr;
    if (o->batch <= 0) o->batch = adam ? 32 : d.batch;
    if (adam) {
        int r = nd_rnn_rule_parse(rule);
        if (r < 0)
            return nd_fail(err, ND_ERR_ARG, "--rule '%s' does not train a recurrent network (--rnn): bptt, rflo", rule);
        o->rnn_rule = r;
    } else if (rule) {
        int r = nd_rule_parse(rule);
        if (r < 0)
            return nd_fail(err, ND_ERR_ARG, "%s --rule '%s' (bp, fa, dfa, sign, np, wp; with --rnn: bptt, rflo)",
                           nd_rnn_rule_parse(rule) >= 0 ? "a recurrent rule needs --rnn N:" : "unknown", rule);
        o->rule = (nd_rule)r;
    }
    return ND_OK;
}

void nd_grating(real *img, int size, double theta_deg, double phase, double contrast, double noise, nd_rng *r) {
    const double th = theta_deg * ND_PI / 180, c0 = (size - 1) / 2.0, sd = size / 4.0, f = 0.15;
    for (int i = 0; i < size; i++)
        for (int j = 0; j < size; j++) {
            double x = j - c0, y = c0 - i, w = exp(-(x * x + y * y) / (2 * sd * sd));
            double v = contrast * w * cos(2 * ND_PI * f * (x * cos(th) + y * sin(th)) + phase);
            if (noise > 0) v += noise * nd_rng_normal(r);
            img[i * size + j] = (real)v;
        }
}

static void orientation_draw(const nd_learn_opts *o, nd_learn_data *d, int from, int to, uint64_t draw);
/* orientation discrimination: 10,000 training and 2,000 test gratings, offsets from the reference uniform in
 * [angle / 10, angle] degrees on either side (label 1: clockwise, theta > ref), contrast uniform in [0.5, 1],
 * phase uniform, pixel noise SD noise */
static nd_status orientation(const nd_learn_opts *o, nd_learn_data *d, nd_error *err) {
    const int S = o->ori_size;
    if (S < 4 || S > 64 || !(o->ori_angle > 0 && o->ori_angle <= 45) || !(o->ori_noise >= 0))
        return nd_fail(err, ND_ERR_ARG, "orientation: size %d (4..64), angle %g (0..45 deg), noise %g (>= 0)", S,
                       o->ori_angle, o->ori_noise);
    d->in = S * S;
    d->out = 2;
    d->n_train = 10000;
    d->n_test = 2000;
    d->x_train = nd_alloc(sizeof(real) * (size_t)d->n_train * d->in);
    d->x_test = nd_alloc(sizeof(real) * (size_t)d->n_test * d->in);
    d->l_train = malloc(sizeof(int) * d->n_train);
    d->l_test = malloc(sizeof(int) * d->n_test);
    if (!d->x_train || !d->x_test || !d->l_train || !d->l_test) return nd_fail(err, ND_ERR_NOMEM, "out of memory");
    orientation_draw(o, d, 0, d->n_train + d->n_test, 0);
    return ND_OK;
}

/* examples [from, to) of train (then test) from the task's stream `draw` (0: the data set; 1 + e: epoch e's fresh
 * training set) */
static void orientation_draw(const nd_learn_opts *o, nd_learn_data *d, int from, int to, uint64_t draw) {
    const int S = o->ori_size;
    nd_rng r;
    nd_rng_stream(&r, o->seed, STREAM_ORIENT, draw);
    for (int i = from; i < to; i++) {
        int test = i >= d->n_train, k = test ? i - d->n_train : i;
        int lab = nd_rng_uniform(&r) < 0.5;
        double off = o->ori_angle * (0.1 + 0.9 * nd_rng_uniform(&r));
        double contrast = 0.5 + 0.5 * nd_rng_uniform(&r), phase = 2 * ND_PI * nd_rng_uniform(&r);
        real *img = (test ? d->x_test : d->x_train) + (size_t)k * d->in;
        nd_grating(img, S, ND_ORI_REF_DEG + (lab ? off : -off), phase, contrast, o->ori_noise, &r);
        (test ? d->l_test : d->l_train)[k] = lab;
    }
}

void nd_learn_data_epoch(const nd_learn_opts *o, nd_learn_data *d, int epoch) {
    if (o->task == ND_TASK_ORIENTATION && epoch > 0) orientation_draw(o, d, 0, d->n_train, 1 + (uint64_t)epoch);
}

void nd_learn_data_free(nd_learn_data *d) {
    nd_free(d->x_train); nd_free(d->x_test); nd_free(d->y_train); nd_free(d->y_test);
    free(d->l_train); free(d->l_test);
    memset(d, 0, sizeof *d);
}

/* images [n][784] scaled to [0, 1] then standardised with the training set's pixel mean and SD */
static nd_status fashion(const nd_learn_opts *o, nd_learn_data *d, nd_error *err) {
    const char *names[4] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                            "t10k-labels-idx1-ubyte.gz"};
    nd_idx idx[4];
    memset(idx, 0, sizeof idx);
    nd_status st = ND_OK;
    for (int i = 0; i < 4 && !st; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", o->data_dir, names[i]);
        if (access(p, R_OK) != 0)
            st = nd_fail(err, ND_ERR_IO, "%s: not found; install Fashion-MNIST with 'apt-get install dataset-fashion-mnist' "
                         "(or give --data-dir)", p);
        else st = nd_idx_read(p, &idx[i], err);
    }
    if (!st && (idx[0].rank != 3 || idx[1].rank != 1 || idx[0].dims[0] != idx[1].dims[0] || idx[2].rank != 3 ||
                idx[3].rank != 1 || idx[2].dims[0] != idx[3].dims[0] || idx[0].dims[1] * idx[0].dims[2] != 784 ||
                idx[2].dims[1] * idx[2].dims[2] != 784))
        st = nd_fail(err, ND_ERR_FORMAT, "%s: the IDX files are not 28 x 28 images with one label each", o->data_dir);
    if (!st) {
        d->in = 784;
        d->out = 10;
        d->n_train = (int)idx[0].dims[0];
        d->n_test = (int)idx[2].dims[0];
        d->x_train = nd_alloc(sizeof(real) * (size_t)d->n_train * 784);
        d->x_test = nd_alloc(sizeof(real) * (size_t)d->n_test * 784);
        d->l_train = malloc(sizeof(int) * d->n_train);
        d->l_test = malloc(sizeof(int) * d->n_test);
        if (!d->x_train || !d->x_test || !d->l_train || !d->l_test) st = nd_fail(err, ND_ERR_NOMEM, "out of memory");
    }
    if (!st) {
        double s = 0, s2 = 0, n = (double)d->n_train * 784;
        for (size_t i = 0; i < (size_t)d->n_train * 784; i++) { s += idx[0].data[i] / 255.0; s2 += pow(idx[0].data[i] / 255.0, 2); }
        double mean = s / n, sd = sqrt(s2 / n - mean * mean);
        for (size_t i = 0; i < (size_t)d->n_train * 784; i++) d->x_train[i] = (real)((idx[0].data[i] / 255.0 - mean) / sd);
        for (size_t i = 0; i < (size_t)d->n_test * 784; i++) d->x_test[i] = (real)((idx[2].data[i] / 255.0 - mean) / sd);
        for (int i = 0; i < d->n_train; i++) d->l_train[i] = idx[1].data[i];
        for (int i = 0; i < d->n_test; i++) d->l_test[i] = idx[3].data[i];
        for (int i = 0; i < d->n_train && !st; i++)
            if (d->l_train[i] > 9) st = nd_fail(err, ND_ERR_FORMAT, "%s: label %d of example %d", names[1], d->l_train[i], i);
    }
    for (int i = 0; i < 4; i++) nd_idx_free(&idx[i]);
    return st;
}

/* teacher-student regression: inputs N(0, 1), targets from a random teacher network of the student's shape */
static nd_status teacher(const nd_learn_opts *o, nd_learn_data *d, nd_error *err) {
    d->in = o->widths[0];
    d->out = o->widths[o->L];
    d->n_train = 10000;
    d->n_test = 2000;
    nd_mlp t;
    nd_status st = nd_mlp_create(&t, o->L, o->widths, ND_LOSS_MSE, o->seed * 7919u + STREAM_TEACHER, err);
    if (st) return st;
    size_t nx = (size_t)(d->n_train + d->n_test) * d->in, ny = (size_t)(d->n_train + d->n_test) * d->out;
    real *x = nd_alloc(sizeof(real) * nx), *y = nd_alloc(sizeof(real) * ny);
    nd_mlp_acts a;
    if (!x || !y) st = nd_fail(err, ND_ERR_NOMEM, "out of memory");
    if (!st) st = nd_mlp_acts_create(&a, &t, d->n_train + d->n_test, err);
    if (!st) {
        nd_rng r;
        nd_rng_stream(&r, o->seed, STREAM_TEACHER, 0);
        for (size_t i = 0; i < nx; i++) x[i] = (real)nd_rng_normal(&r);
        nd_mlp_forward(&t, &a, x, d->n_train + d->n_test, NULL, y, NULL);
        memcpy(y, a.a[o->L], sizeof(real) * ny);
        nd_mlp_acts_free(&a);
        d->x_train = x;
        d->y_train = y;
        d->x_test = nd_alloc(sizeof(real) * (size_t)d->n_test * d->in);
        d->y_test = nd_alloc(sizeof(real) * (size_t)d->n_test * d->out);
        if (!d->x_test || !d->y_test) st = nd_fail(err, ND_ERR_NOMEM, "out of memory");
        else {
            memcpy(d->x_test, x + (size_t)d->n_train * d->in, sizeof(real) * (size_t)d->n_test * d->in);
            memcpy(d->y_test, y + (size_t)d->n_train * d->out, sizeof(real) * (size_t)d->n_test * d->out);
        }
    } else {
        nd_free(x);
        nd_free(y);
    }
    nd_mlp_free(&t);
    return st;
}

nd_status nd_learn_data_load(const nd_learn_opts *o, nd_learn_data *d, nd_error *err) {
    memset(d, 0, sizeof *d);
    nd_status st = o->task == ND_TASK_FASHION_MNIST ? fashion(o, d, err)
                 : o->task == ND_TASK_ORIENTATION   ? orientation(o, d, err)
                 : o->task == ND_TASK_TEACHER       ? teacher(o, d, err)
                 : nd_fail(err, ND_ERR_ARG, "task %s needs a recurrent network (--rnn N)", nd_learn_task_name(o->task));
    if (!st && (o->widths[0] != d->in || o->widths[o->L] != d->out))
        st = nd_fail(err, ND_ERR_ARG, "--arch: task %s has %d inputs and %d outputs; the network has %d and %d",
                     nd_learn_task_name(o->task), d->in, d->out, o->widths[0], o->widths[o->L]);
    if (st) nd_learn_data_free(d);
    return st;
}

/* mean loss and accuracy (classification) over a set, in batches */
static void evaluate(const nd_mlp *m, nd_mlp_acts *a, const nd_learn_data *d, int test, double *loss, double *acc) {
    const int n = test ? d->n_test : d->n_train, K = d->out;
    const real *x = test ? d->x_test : d->x_train, *y = test ? d->y_test : d->y_train;
    const int *lab = test ? d->l_test : d->l_train;
    double s = 0;
    long right = 0;
    for (int i = 0; i < n; i += a->Bmax) {
        int B = n - i < a->Bmax ? n - i : a->Bmax;
        s += B * nd_mlp_forward(m, a, x + (size_t)i * d->in, B, lab ? lab + i : NULL, y ? y + (size_t)i * K : NULL, NULL);
        for (int b = 0; lab && b < B; b++) {
            const real *o = a->a[m->L] + (size_t)b * K;
            int best = 0;
            for (int k = 1; k < K; k++)
                if (o[k] > o[best]) best = k;
            right += best == lab[i + b];
        }
    }
    *loss = s / n;
    *acc = lab ? (double)right / n : NAN;
}

typedef struct { double task, rule, L, widths[ND_MLP_MAX_LAYERS + 1], epoch_done, batch, lr, sigma, seed; } learn_state;
/* what later versions added (a checkpoint section of its own, optional on load) */
typedef struct { double running_baseline, baseline, baseline_set, ori_size, ori_angle, ori_noise, reserved[10]; } learn_extra;

static nd_status save(const char *path, const char *prev, const nd_mlp *m, const real *init, const learn_state *s,
                      const learn_extra *x, const char *data_dir, nd_error *err) {
    char dd[4096] = {0};
    snprintf(dd, sizeof dd, "%s", data_dir);
    nd_ckpt_section sec[] = {{"kind", "learn-mlp", 10}, {"state", s, sizeof *s}, {"data_dir", dd, sizeof dd},
                             {"params", m->params, sizeof(real) * m->n_params},
                             {"params_init", init, sizeof(real) * m->n_params}, {"extra", x, sizeof *x}};
    return prev ? nd_ckpt_write_keep(path, prev, sec, 6, err) : nd_ckpt_write(path, sec, 6, err);
}

/* loads a run's checkpoint: state, options, the network at its final (and initial) weights */
/* dd [4096] receives the data directory (o->data_dir points at it) */
static nd_status load(const char *path, learn_state *s, learn_extra *x, nd_learn_opts *o, char *dd, nd_mlp *m,
                      real **init, nd_error *err) {
    nd_ckpt c;
    nd_status st = nd_ckpt_read(path, &c, err);
    if (st) return st;
    const nd_ckpt_entry *k = nd_ckpt_find(&c, "kind");
    if (k && k->bytes == 10 && !memcmp(k->data, "learn-rnn", 10))
        st = nd_fail(err, ND_ERR_ARG, "%s: a recurrent (--rnn) run; this needs a feed-forward learn run", path);
    else if (!k || k->bytes != 10 || memcmp(k->data, "learn-mlp", 10)) st = nd_fail(err, ND_ERR_CHECKPOINT, "%s: not a learn run", path);
    if (!st) st = nd_ckpt_get(&c, path, "state", s, sizeof *s, err);
    if (!st) st = nd_ckpt_get(&c, path, "data_dir", dd, 4096, err);
    memset(x, 0, sizeof *x);
    x->ori_size = o->ori_size; x->ori_angle = o->ori_angle; x->ori_noise = o->ori_noise;
    if (!st && nd_ckpt_find(&c, "extra")) st = nd_ckpt_get(&c, path, "extra", x, sizeof *x, err);
    if (!st) {
        o->running_baseline = (int)x->running_baseline;
        o->ori_size = (int)x->ori_size; o->ori_angle = x->ori_angle; o->ori_noise = x->ori_noise;
        dd[4095] = 0;
        o->task = (nd_learn_task)s->task;
        o->rule = (nd_rule)s->rule;
        o->L = (int)s->L;
        for (int l = 0; l <= o->L && l <= ND_MLP_MAX_LAYERS; l++) o->widths[l] = (int)s->widths[l];
        o->batch = (int)s->batch;
        o->lr = s->lr;
        o->sigma = s->sigma;
        o->seed = (uint64_t)s->seed;
        o->data_dir = dd;
        nd_error e2;
        if (o->L < 1 || o->L > ND_MLP_MAX_LAYERS || nd_mlp_create(m, o->L, o->widths, o->task == ND_TASK_TEACHER ?
                                                                  ND_LOSS_MSE : ND_LOSS_XENT, 0, &e2))
            st = nd_fail(err, ND_ERR_CHECKPOINT, "%s: bad network shape", path);
    }
    if (!st) st = nd_ckpt_get(&c, path, "params", m->params, sizeof(real) * m->n_params, err);
    if (!st && init) {
        *init = nd_alloc(sizeof(real) * m->n_params);
        if (!*init) st = nd_fail(err, ND_ERR_NOMEM, "out of memory");
        else st = nd_ckpt_get(&c, path, "params_init", *init, sizeof(real) * m->n_params, err);
    }
    nd_ckpt_free(&c);
    return st;
}

/* a `real` array as float32 (the library's float build writes it as is; the double build converts) */
static nd_status write_real(nd_h5file *f, const char *name, const real *x, int rank, const size_t *dims, nd_error *err) {
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    float *tmp = malloc(sizeof(float) * (n ? n : 1));
    if (!tmp) return nd_fail(err, ND_ERR_NOMEM, "out of memory writing %s", name);
    for (size_t i = 0; i < n; i++) tmp[i] = (float)x[i];
    nd_status st = nd_h5_write_float(f, name, tmp, rank, dims, err);
    free(tmp);
    return st;
}

static nd_status write_model(const char *path, nd_mlp *m, const real *init, const nd_learn_data *d, const double *curves,
                             int n_ep, nd_error *err) {
    nd_h5file *f;
    nd_status st = nd_h5_create(&f, path, err);
    if (st) return st;
    int nact = d->n_test < ACTIVITY_EXAMPLES ? d->n_test : ACTIVITY_EXAMPLES;
    nd_mlp_acts a;
    st = nd_mlp_acts_create(&a, m, nact, err);
    real *keep = nd_alloc(sizeof(real) * m->n_params);
    if (!st && !keep) st = nd_fail(err, ND_ERR_NOMEM, "out of memory");
    for (int stage = 0; stage < 2 && !st; stage++) { /* 0: final weights, 1: initial */
        if (stage == 1) { memcpy(keep, m->params, sizeof(real) * m->n_params); memcpy(m->params, init, sizeof(real) * m->n_params); }
        nd_mlp_forward(m, &a, d->x_test, nact, d->l_test, d->y_test, NULL);
        for (int l = 1; l <= m->L && !st; l++) {
            char name[64];
            size_t dims[2] = {(size_t)nact, (size_t)m->n[l]}, wd[2] = {(size_t)m->n[l - 1], (size_t)m->n[l]};
            snprintf(name, sizeof name, "layer%d_activity%s", l, stage ? "_init" : "");
            st = write_real(f, name, a.h[l], 2, dims, err);
            snprintf(name, sizeof name, "W%d%s", l, stage ? "_init" : "");
            if (!st) st = write_real(f, name, m->W[l - 1], 2, wd, err);
            snprintf(name, sizeof name, "b%d%s", l, stage ? "_init" : "");
            if (!st) st = write_real(f, name, m->b[l - 1], 1, &wd[1], err);
        }
        if (stage == 1) memcpy(m->params, keep, sizeof(real) * m->n_params);
    }
    size_t cd[2] = {(size_t)n_ep, 4};
    if (!st && n_ep) st = nd_h5_write_double(f, "curves", curves, 2, cd, err);
    if (!st) st = nd_h5_write_attr_string(f, "/", "curves_columns", "epoch, train loss, test loss, test accuracy", err);
    if (d->l_test && !st) {
        size_t n = (size_t)nact;
        st = nd_h5_write_int(f, "test_labels", d->l_test, 1, &n, err);
    }
    nd_free(keep);
    nd_mlp_acts_free(&a);
    nd_error e2;
    nd_status cs = nd_h5_close(f, st == ND_OK, st ? &e2 : err);
    return st ? st : cs;
}

nd_status nd_learn_train(const nd_learn_opts *oin, nd_learn_result *res, nd_error *err) {
    memset(res, 0, sizeof *res);
    if (oin->rnn_units > 0 || (oin->resume && nd_learn_rnn_is_run(oin->out_dir))) return nd_learn_rnn_train(oin, res, err);
    if (oin->task == ND_TASK_FLIPFLOP)
        return nd_fail(err, ND_ERR_ARG, "task flipflop needs a recurrent network: --rnn N (e.g. --rnn 64)");
    nd_learn_opts o = *oin;
    char last[4096], prev[4096], curves_p[4096], model_p[4096];
    snprintf(last, sizeof last, "%s/last.ckpt", o.out_dir);
    snprintf(prev, sizeof prev, "%s/last.prev.ckpt", o.out_dir);
    snprintf(curves_p, sizeof curves_p, "%s/curves.tsv", o.out_dir);
    snprintf(model_p, sizeof model_p, "%s/model.h5", o.out_dir);
    if (o.epochs < 1 || o.batch < 1 || !(o.lr > 0) || !(o.sigma > 0))
        return nd_fail(err, ND_ERR_ARG, "learn train: --epochs, --batch, --lr and --sigma must be > 0");
    if (mkdir(o.out_dir, 0777) != 0 && errno != EEXIST)
        return nd_fail(err, ND_ERR_IO, "%s: cannot create (%s)", o.out_dir, strerror(errno));
    if (!o.resume && access(last, F_OK) == 0) {
        if (!o.force) return nd_fail(err, ND_ERR_ARG, "%s already holds a run; use --resume to continue it or --force "
                                     "to replace it", o.out_dir);
        unlink(last); unlink(prev); unlink(curves_p); unlink(model_p);
    }
    nd_blas_set_threads(o.threads);
    nd_mlp m = {0};
    real *init = NULL;
    learn_state s;
    learn_extra xs;
    nd_status st = ND_OK;
    int epochs = o.epochs;
    char dd[4096];
    if (o.resume) {
        st = load(last, &s, &xs, &o, dd, &m, &init, err);
        o.epochs = epochs;
    } else {
        st = nd_mlp_create(&m, o.L, o.widths, o.task == ND_TASK_TEACHER ? ND_LOSS_MSE : ND_LOSS_XENT, o.seed, err);
        init = st ? NULL : nd_alloc(sizeof(real) * m.n_params);
        if (!st && !init) st = nd_fail(err, ND_ERR_NOMEM, "out of memory");
        if (!st) memcpy(init, m.params, sizeof(real) * m.n_params);
        memset(&s, 0, sizeof s);
        s.task = o.task; s.rule = o.rule; s.L = o.L; s.batch = o.batch; s.lr = o.lr; s.sigma = o.sigma; s.seed = (double)o.seed;
        for (int l = 0; l <= o.L; l++) s.widths[l] = o.widths[l];
        memset(&xs, 0, sizeof xs);
        xs.running_baseline = o.running_baseline;
        xs.ori_size = o.ori_size; xs.ori_angle = o.ori_angle; xs.ori_noise = o.ori_noise;
        FILE *f = st ? NULL : fopen(curves_p, "w");
        if (f) { fprintf(f, "epoch\ttrain_loss\ttest_loss\ttest_accuracy\n"); fclose(f); }
    }
    nd_learn_data d = {0};
    if (!st) st = nd_learn_data_load(&o, &d, err);
    nd_mlp_acts a = {0}, ea = {0};
    nd_rule_ctx c = {0};
    nd_rng nr;
    int *order = st ? NULL : malloc(sizeof(int) * d.n_train);
    real *g = st ? NULL : nd_alloc(sizeof(real) * m.n_params);
    real *xb = st ? NULL : nd_alloc(sizeof(real) * (size_t)o.batch * d.in);
    real *yb = st ? NULL : nd_alloc(sizeof(real) * (size_t)o.batch * d.out);
    int *lb = st ? NULL : malloc(sizeof(int) * o.batch);
    if (!st && (!order || !g || !xb || !yb || !lb)) st = nd_fail(err, ND_ERR_NOMEM, "out of memory");
    if (!st) st = nd_mlp_acts_create(&a, &m, o.batch, err);
    if (!st) st = nd_mlp_acts_create(&ea, &m, 500, err);
    if (!st) st = nd_rule_ctx_create(&c, &m, o.batch, o.sigma, &nr, err);
    const int reward = o.task == ND_TASK_ORIENTATION; /* learns from a scalar reward only */
    if (!st) {
        c.running_baseline = o.running_baseline || reward;
        c.baseline = xs.baseline;
        c.baseline_set = (int)xs.baseline_set;
    }
    double *curves = calloc((size_t)o.epochs + 1, 4 * sizeof(double));
    /* earlier epochs' curves (a resumed run) come back from curves.tsv */
    int n_curves = 0;
    FILE *cf = fopen(curves_p, "r");
    if (cf) {
        char line[256];
        if (fgets(line, sizeof line, cf))
            while (n_curves < o.epochs && fgets(line, sizeof line, cf) &&
                   sscanf(line, "%lf %lf %lf %lf", &curves[4 * n_curves], &curves[4 * n_curves + 1],
                          &curves[4 * n_curves + 2], &curves[4 * n_curves + 3]) == 4)
                n_curves++;
        fclose(cf);
    }
    for (int ep = (int)s.epoch_done; !st && ep < o.epochs; ep++) {
        nd_learn_data_epoch(&o, &d, ep);
        nd_rng r;
        nd_rng_stream(&r, o.seed, STREAM_ORDER, (uint64_t)ep);
        for (int i = 0; i < d.n_train; i++) order[i] = i;
        nd_rng_shuffle(&r, order, d.n_train);
        double tl = 0;
        int nb = 0;
        for (int i = 0; i + o.batch <= d.n_train; i += o.batch, nb++) {
            for (int b = 0; b < o.batch; b++) {
                int k = order[i + b];
                memcpy(xb + (size_t)b * d.in, d.x_train + (size_t)k * d.in, sizeof(real) * d.in);
                if (d.y_train) memcpy(yb + (size_t)b * d.out, d.y_train + (size_t)k * d.out, sizeof(real) * d.out);
                if (d.l_train) lb[b] = d.l_train[k];
            }
            nd_rng_stream(&nr, o.seed, STREAM_NOISE, (uint64_t)ep * 1000003u + (uint64_t)nb);
            double lo = nd_mlp_forward(&m, &a, xb, o.batch, lb, yb, NULL);
            if (reward) lo = 1 - nd_rule_estimate_reward(o.rule, &m, &a, xb, o.batch, lb, &c, g); /* error rate */
            else nd_rule_estimate(o.rule, &m, &a, xb, o.batch, lb, yb, &c, g);
            tl += lo;
            for (size_t p = 0; p < m.n_params; p++) m.params[p] -= (real)o.lr * g[p];
        }
        double tel, acc;
        evaluate(&m, &ea, &d, 1, &tel, &acc);
        if (!isfinite(tel)) { st = nd_fail(err, ND_ERR_NUMERIC, "the loss diverged at epoch %d; lower --lr", ep + 1); break; }
        s.epoch_done = ep + 1;
        double *cv = curves + 4 * (size_t)n_curves++;
        cv[0] = ep; cv[1] = tl / nb; cv[2] = tel; cv[3] = acc;
        FILE *f = fopen(curves_p, "a");
        if (f) { fprintf(f, "%d\t%.6f\t%.6f\t%.6f\n", ep, tl / nb, tel, acc); fclose(f); }
        xs.baseline = c.baseline;
        xs.baseline_set = c.baseline_set;
        if ((st = save(last, prev, &m, init, &s, &xs, o.data_dir, err))) break;
        if (o.progress) {
            fprintf(o.progress, "epoch %d/%d  %s  %s %.4f  test loss %.4f", ep + 1, o.epochs, nd_rule_name(o.rule),
                    reward ? "train error (1 - reward)" : "train loss", tl / nb, tel);
            if (isfinite(acc)) fprintf(o.progress, "  test accuracy %.4f", acc);
            fprintf(o.progress, "\n");
            fflush(o.progress);
        }
        res->epochs_run++;
    }
    if (!st) {
        evaluate(&m, &ea, &d, 1, &res->test_loss, &res->test_accuracy);
        st = write_model(model_p, &m, init, &d, curves, n_curves, err);
    }
    free(curves); free(order); free(lb);
    nd_free(g); nd_free(xb); nd_free(yb); nd_free(init);
    nd_rule_ctx_free(&c);
    nd_mlp_acts_free(&a);
    nd_mlp_acts_free(&ea);
    nd_learn_data_free(&d);
    nd_mlp_free(&m);
    return st;
}

nd_status nd_learn_run_load(const char *run_dir, nd_learn_opts *o, char *dd, nd_mlp *m, real **init, nd_error *err) {
    char last[4096];
    snprintf(last, sizeof last, "%s/last.ckpt", run_dir);
    if (access(last, F_OK) != 0) return nd_fail(err, ND_ERR_IO, "%s: no such run (no last.ckpt)", run_dir);
    learn_state s;
    learn_extra xs;
    nd_learn_opts_default(o);
    return load(last, &s, &xs, o, dd, m, init, err);
}

nd_status nd_learn_gradients(const char *run_dir, const nd_rule *rules, int n_rules, int samples, double sigma,
                             int batch, nd_rule_stats *out, int *Lout, nd_error *err) {
    char last[4096], gp[4096];
    snprintf(last, sizeof last, "%s/last.ckpt", run_dir);
    snprintf(gp, sizeof gp, "%s/gradients.h5", run_dir);
    if (access(last, F_OK) != 0) return nd_fail(err, ND_ERR_IO, "%s: no such run (no last.ckpt)", run_dir);
    learn_state s;
    nd_learn_opts o;
    nd_learn_opts_default(&o);
    nd_mlp m = {0};
    real *init = NULL;
    char dd[4096];
    learn_extra xs;
    nd_status st = load(last, &s, &xs, &o, dd, &m, &init, err);
    nd_learn_data d = {0};
    if (!st) st = nd_learn_data_load(&o, &d, err);
    if (!st && (batch < 1 || batch > d.n_test)) st = nd_fail(err, ND_ERR_ARG, "--batch %d must be in 1..%d", batch, d.n_test);
    real *fin = st ? NULL : nd_alloc(sizeof(real) * m.n_params);
    if (!st && !fin) st = nd_fail(err, ND_ERR_NOMEM, "out of memory");
    if (!st) memcpy(fin, m.params, sizeof(real) * m.n_params);
    for (int stage = 0; stage < 2 && !st; stage++) {
        memcpy(m.params, stage ? fin : init, sizeof(real) * m.n_params);
        for (int k = 0; k < n_rules && !st; k++)
            st = nd_rule_bias_variance(rules[k], &m, d.x_test, batch, d.l_test, d.y_test, samples, sigma,
                                       o.seed + 17u * (uint64_t)k, &out[2 * k + stage], err);
    }
    if (!st) {
        *Lout = m.L;
        size_t n = (size_t)n_rules * 2 * (m.L + 1), dims[3] = {(size_t)n_rules, 2, (size_t)m.L + 1};
        double *a = malloc(sizeof(double) * n), *rn = malloc(sizeof(double) * n), *v = malloc(sizeof(double) * n);
        for (int k = 0; a && rn && v && k < 2 * n_rules; k++)
            for (int l = 0; l <= m.L; l++) {
                a[(size_t)k * (m.L + 1) + l] = out[k].angle_deg[l];
                rn[(size_t)k * (m.L + 1) + l] = out[k].rel_norm[l];
                v[(size_t)k * (m.L + 1) + l] = out[k].variance[l];
            }
        nd_h5file *f = NULL;
        if (!a || !rn || !v) st = nd_fail(err, ND_ERR_NOMEM, "out of memory");
        if (!st) st = nd_h5_create(&f, gp, err);
        if (!st) st = nd_h5_write_double(f, "angle_deg", a, 3, dims, err);
        if (!st) st = nd_h5_write_double(f, "rel_norm", rn, 3, dims, err);
        if (!st) st = nd_h5_write_double(f, "variance", v, 3, dims, err);
        char names[256] = "";
        for (int k = 0; k < n_rules; k++) {
            strcat(names, nd_rule_name(rules[k]));
            if (k + 1 < n_rules) strcat(names, ",");
        }
        if (!st) st = nd_h5_write_attr_string(f, "/", "rules", names, err);
        if (!st) st = nd_h5_write_attr_string(f, "/", "layout", "[rule][stage: 0 initial, 1 final weights][layer 1..L, "
                                              "then the whole network]", err);
        if (!st) st = nd_h5_write_attr_int(f, "/", "samples", samples, err);
        if (!st) st = nd_h5_write_attr_double(f, "/", "sigma", sigma, err);
        if (f) {
            nd_error e2;
            nd_status cs = nd_h5_close(f, st == ND_OK, st ? &e2 : err);
            if (!st) st = cs;
        }
        free(a); free(rn); free(v);
    }
    nd_free(fin); nd_free(init);
    nd_learn_data_free(&d);
    nd_mlp_free(&m);
    return st;
}

typedef struct { const nd_rule *rules; int n, L; const nd_rule_stats *s; } plane_ud;
static void plane_plot(FILE *f, void *u) {
    const plane_ud *p = u;
    nd_svg_series ser[ND_RULE_COUNT];
    double x[ND_RULE_COUNT][2], y[ND_RULE_COUNT][2];
    for (int k = 0; k < p->n && k < ND_RULE_COUNT; k++) {
        for (int stage = 0; stage < 2; stage++) {
            x[k][stage] = p->s[2 * k + stage].angle_deg[p->L];
            y[k][stage] = log10(1 + p->s[2 * k + stage].variance[p->L]);
        }
        ser[k].name = nd_rule_name(p->rules[k]);
        ser[k].x = x[k];
        ser[k].y = y[k];
        ser[k].n = 2;
    }
    nd_svg_line_plot(f, "Bias-variance plane (whole network; each rule: initial -> trained weights)",
                     "bias: angle to the gradient (deg)", "variance: log10(1 + E|g - Eg|^2 / |g|^2)", ser, p->n, NAN, NAN);
}

nd_status nd_learn_gradients_svg(const char *path, const nd_rule *rules, int n_rules, const nd_rule_stats *s, int L,
                                 nd_error *err) {
    plane_ud u = {rules, n_rules, L, s};
    return nd_svg_write(path, plane_plot, &u, err);
}
