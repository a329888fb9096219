/* Row-major GEMM on `real`, over OpenBLAS. C = alpha * op(A) op(B) + beta * C,
 * op(A) is M x K, op(B) is K x N. */
#ifndef ND_CORE_BLAS_H
#define ND_CORE_BLAS_H
#include "real.h"

void nd_gemm(int transA, int transB, int M, int N, int K, real alpha, const real *A, int lda,
             const real *B, int ldb, real beta, real *C, int ldc);
void nd_blas_set_threads(int n);
int nd_blas_get_threads(void);
double nd_dot(const real *a, const real *b, int n);

#endif
