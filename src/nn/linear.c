#include "layers.h"
#include "../core/blas.h"

void linear_forward(real *out, const real *in, const real *W, const real *b, int B, int I, int O) {
    if (b)
        for (int i = 0; i < B; i++)
            for (int o = 0; o < O; o++) out[(size_t)i * O + o] = b[o];
    nd_gemm(0, 0, B, O, I, 1, in, I, W, O, b ? 1 : 0, out, O);
}

void linear_backward(real *din, real *dW, real *db, const real *dout, const real *in, const real *W, int B,
                     int I, int O) {
    if (dW) nd_gemm(1, 0, I, O, B, 1, in, I, dout, O, 1, dW, O);
    if (db)
        for (int i = 0; i < B; i++)
            for (int o = 0; o < O; o++) db[o] += dout[(size_t)i * O + o];
    if (din) nd_gemm(0, 1, B, I, O, 1, dout, O, W, O, 1, din, I);
}
