/* Evaluation metrics over float arrays. */
#ifndef ND_EVAL_METRICS_H
#define ND_EVAL_METRICS_H
#include <stddef.h>
#include "../core/smooth.h"

/* Coefficient of determination, = sklearn.metrics.r2_score(truth, pred) with
 * multioutput='uniform_average': arrays are [rows][cols] row-major; R^2 is computed per
 * column, 1 - sum (truth - pred)^2 / sum (truth - mean(truth))^2, and averaged over
 * columns. A constant truth column scores 1.0 if predicted exactly, else 0.0 (sklearn's
 * force_finite convention). Returns NAN if rows < 2 or cols < 1 (sklearn: undefined).
 * Accumulates in double. */
double nd_r2_score(const float *pred, const float *truth, size_t rows, int cols);
/* Same for [n][T][N] arrays: rows = n * T, cols = N. */
double nd_r2_score_3d(const float *pred, const float *truth, int n, int T, int N);
/* R^2 of the best affine map pred -> truth per column (= squared Pearson correlation), averaged over the columns
 * whose truth and prediction vary (NaN if none); for predictions in other units than the truth, e.g. calcium
 * traces vs spike rates. [n][T][N] arrays, rows = n * T. */
double nd_r2_affine_3d(const float *pred, const float *truth, int n, int T, int N);

/* nd_smooth_gaussian, nd_smooth_gaussian_d: core/smooth.h (models use them too) */

#endif
