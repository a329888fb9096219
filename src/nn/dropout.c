#include "layers.h"

void dropout_mask(real *mask, size_t n, real p, nd_rng *rng) {
    real keep = p > 0 ? 1 / (1 - p) : 1;
    for (size_t i = 0; i < n; i++) mask[i] = (p > 0 && nd_rng_uniform(rng) < p) ? 0 : keep;
}

void dropout_apply(real *out, const real *in, const real *mask, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = in[i] * mask[i];
}

void dropout_backward(real *din, const real *dout, const real *mask, size_t n) {
    for (size_t i = 0; i < n; i++) din[i] += dout[i] * mask[i];
}
