/* Decoding a per-trial variable (a behaviour such as a tap time, or a stimulus identity)
 * from a model's single-trial outputs: ridge regression / ridge classification with the
 * penalty chosen by K-fold cross-validation on the training trials, scored on held-out
 * trials. Conventions as in pca.h (row-major doubles, samples x features).
 *
 * The conventions are sklearn's, so a figure can be checked against
 * GridSearchCV(Ridge() | RidgeClassifier(), {"alpha": alphas}, cv=KFold(folds)):
 *   - Ridge with intercept, no feature scaling;
 *   - classification as RidgeClassifier: targets coded +1 / -1 per class (one column for
 *     two classes), predicted class = argmax of the decision values (> 0 for two classes);
 *   - folds: contiguous blocks of the training samples in their given order, the first
 *     n % K folds one sample larger (KFold without shuffling), or of a seeded permutation;
 *   - the CV score is the mean over folds of R^2 (regression; sklearn r2_score averaged
 *     uniformly over output columns) or accuracy (classification); the first alpha with
 *     the highest mean wins; the model is refitted on all training samples with it. */
#ifndef ND_ANALYSIS_DECODE_H
#define ND_ANALYSIS_DECODE_H
#include <stdint.h>
#include "../core/status.h"

typedef struct {
    const double *alphas; /* candidate penalties (> 0) */
    int n_alphas;
    int folds;            /* K >= 2, K <= training samples */
    int classify;         /* 0: regression of y (q columns); 1: classification of integer labels */
    int shuffle;          /* 0: contiguous folds (sklearn KFold()); 1: the same fold sizes over a permutation
                             of the training samples drawn with nd_rng_seed(seed) + nd_rng_shuffle
                             (needed when trials are stored sorted, e.g. by the behaviour itself) */
    uint64_t seed;
} nd_decode_opts;

typedef struct {
    double best_alpha;
    double *cv_score;     /* [n_alphas] mean CV score per alpha */
    double test_score;    /* R^2 (regression, uniform average over columns) or accuracy */
    double chance;        /* regression: 0 (predicting the training mean scores about 0);
                             classification: accuracy of always answering the most frequent training class */
    double *pred;         /* [n_test x q] regression predictions, or [n_test] predicted labels */
    int n_test, q;
    int n_classes;        /* classification: distinct training labels */
} nd_decode_result;

/* Xtr [ntr x p], Ytr [ntr x q] (classification: q = 1, integral label values), Xte [nte x p],
 * Yte [nte x q]. ND_ERR_ARG for bad sizes, a non-positive alpha, or a training block (a CV fold's
 * or the whole set's) with fewer than 2 classes. A test label never seen in training
 * simply counts as an error. */
nd_status nd_decode(const double *Xtr, const double *Ytr, int ntr, const double *Xte, const double *Yte, int nte, int p,
                    int q, const nd_decode_opts *o, nd_decode_result *r, nd_error *err);
void nd_decode_result_free(nd_decode_result *r);

/* Features of one trial per row from a [trials][T][U] array: the bins of each trial averaged into K equal chunks
 * (chunk c holds bins [c T / K, (c + 1) T / K); K <= 0 or K > T: every bin kept), flattened: X [trials][K * U].
 * X must hold trials * nd_decode_chunks(T, K) * U doubles; returns that K * U (the features per trial). The one
 * implementation of the time chunks: `neurodyn decode` (decode_file.c) and nd_decode_arrays both call it. */
int nd_decode_features(const float *a, int trials, int T, int U, int chunks, double *X);
/* The chunks nd_decode_features makes of T bins: chunks when 0 < chunks < T, else T. */
int nd_decode_chunks(int T, int chunks);

/* The penalties 10^lo .. 10^hi, n values log-spaced (n = 1: 10^lo), into alphas [n] (may be NULL: only checks).
 * Returns 0, or -1 (alphas untouched) unless lo <= hi, both finite within +-300 and 1 <= n <= 1000. */
int nd_decode_alpha_grid(double lo, double hi, int n, double *alphas);
#endif
