/* Factor read-out: rows of W scaled to unit L2 norm inside the forward pass. */
#include "layers.h"

void factor_normalize(real *Wn, real *norms, const real *W, int F, int G) {
    for (int f = 0; f < F; f++) {
        double s = 0;
        for (int j = 0; j < G; j++) s += (double)W[(size_t)f * G + j] * W[(size_t)f * G + j];
        real nrm = (real)sqrt(s);
        if (nrm < (real)1e-12) nrm = (real)1e-12;
        norms[f] = nrm;
        for (int j = 0; j < G; j++) Wn[(size_t)f * G + j] = W[(size_t)f * G + j] / nrm;
    }
}

void factor_normalize_backward(real *dW, const real *dWn, const real *Wn, const real *norms, int F, int G) {
    /* Wn = W/|W| => dW = (dWn - Wn (Wn . dWn)) / |W| */
    for (int f = 0; f < F; f++) {
        const real *d = dWn + (size_t)f * G, *w = Wn + (size_t)f * G;
        double dot = 0;
        for (int j = 0; j < G; j++) dot += (double)d[j] * w[j];
        for (int j = 0; j < G; j++) dW[(size_t)f * G + j] += (d[j] - w[j] * (real)dot) / norms[f];
    }
}
