#include "spike_metrics.h"
#include <math.h>
#include <stdlib.h>

typedef struct { float s; unsigned char y; } scored;

static int by_score_desc(const void *a, const void *b) {
    float x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return (x < y) - (x > y);
}

/* sorted copy (scores descending); counts of positives and negatives */
static nd_status sorted(const float *score, const unsigned char *label, size_t n, scored **out, size_t *np,
                        size_t *nn, nd_error *err) {
    scored *v = malloc(sizeof *v * (n ? n : 1));
    if (!v) return nd_fail(err, ND_ERR_NOMEM, "ROC: out of memory for %zu scores", n);
    *np = *nn = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(score[i])) { free(v); return nd_fail(err, ND_ERR_NUMERIC, "ROC: score %zu is NaN", i); }
        v[i].s = score[i];
        v[i].y = label[i] != 0;
        if (v[i].y) ++*np;
        else ++*nn;
    }
    qsort(v, n, sizeof *v, by_score_desc);
    *out = v;
    return ND_OK;
}

nd_status nd_roc_auc(const float *score, const unsigned char *label, size_t n, double *auc, nd_error *err) {
    scored *v;
    size_t np, nn;
    nd_status st = sorted(score, label, n, &v, &np, &nn, err);
    if (st) return st;
    /* walk tie groups from the top score down: each negative in a group beats every positive below it, and
     * ties count half */
    double wins = 0, neg_above = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i, p = 0, q = 0;
        for (; j < n && v[j].s == v[i].s; j++) { if (v[j].y) p++; else q++; }
        wins += (double)p * ((double)nn - neg_above - q) + 0.5 * (double)p * q;
        neg_above += q;
        i = j;
    }
    *auc = np && nn ? wins / ((double)np * nn) : NAN;
    free(v);
    return ND_OK;
}

nd_status nd_tpr_at_fpr(const float *score, const unsigned char *label, size_t n, double max_fpr, double *tpr,
                        double *threshold, nd_error *err) {
    scored *v;
    size_t np, nn;
    nd_status st = sorted(score, label, n, &v, &np, &nn, err);
    if (st) return st;
    double best = 0, thr = INFINITY;
    size_t tp = 0, fp = 0;
    for (size_t i = 0; i < n;) { /* thresholds at each distinct score, highest first */
        size_t j = i;
        for (; j < n && v[j].s == v[i].s; j++) { if (v[j].y) tp++; else fp++; }
        if (nn && (double)fp / nn <= max_fpr && np && (double)tp / np >= best) { best = (double)tp / np; thr = v[i].s; }
        i = j;
    }
    *tpr = np && nn ? best : NAN;
    if (threshold) *threshold = thr;
    free(v);
    return ND_OK;
}

void nd_voltage_metrics_compute(const float *pred, const float *truth, size_t n, nd_voltage_metrics *m) {
    double sy = 0, sd = 0;
    for (size_t i = 0; i < n; i++) { sy += truth[i]; sd += (double)truth[i] - pred[i]; }
    double my = n ? sy / n : 0, md = n ? sd / n : 0, vy = 0, vd = 0, se = 0, ae = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)truth[i] - pred[i];
        vy += (truth[i] - my) * (truth[i] - my);
        vd += (d - md) * (d - md);
        se += d * d;
        ae += fabs(d);
    }
    m->explained_variance = n && vy > 0 ? 1 - vd / vy : NAN;
    m->rmse = n ? sqrt(se / n) : NAN;
    m->mae = n ? ae / n : NAN;
}
