/* Metrics of a predicted spike probability and somatic voltage against a simulated neuron
 * (shared/spec/neuron-dnn.md): ROC AUC over 1 ms bins, true-positive rate at a false-positive rate, and the
 * voltage's explained variance, RMSE and MAE. */
#ifndef ND_EVAL_SPIKE_METRICS_H
#define ND_EVAL_SPIKE_METRICS_H
#include <stddef.h>
#include "../core/status.h"

/* Area under the ROC curve of scores for binary labels (nonzero = positive): the Mann-Whitney statistic with
 * tied scores counting 1/2, = sklearn.metrics.roc_auc_score. NAN when either class is empty. Sorts a copy:
 * O(n log n) time, n doubles + n ints of memory (ND_ERR_NOMEM otherwise). */
nd_status nd_roc_auc(const float *score, const unsigned char *label, size_t n, double *auc, nd_error *err);
/* The largest true-positive rate among thresholds whose false-positive rate is <= max_fpr (the ROC curve's
 * vertices, as sklearn.metrics.roc_curve lists them); *threshold receives that threshold (predict positive
 * when score >= threshold). NAN when either class is empty. */
nd_status nd_tpr_at_fpr(const float *score, const unsigned char *label, size_t n, double max_fpr, double *tpr,
                        double *threshold, nd_error *err);

typedef struct { double explained_variance, rmse, mae; } nd_voltage_metrics;
/* 1 - Var(y - p) / Var(y) (= sklearn explained_variance_score), root mean squared and mean absolute error */
void nd_voltage_metrics_compute(const float *pred, const float *truth, size_t n, nd_voltage_metrics *m);
#endif
