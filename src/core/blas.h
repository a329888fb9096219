/* Row-major GEMM on `real`, over OpenBLAS. C = alpha * op(A) op(B) + beta * C,
 * op(A) is M x K, op(B) is K x N. */
#ifndef ND_CORE_BLAS_H
#define ND_CORE_BLAS_H
#include "real.h"

void nd_gemm(int transA, int transB, int M, int N, int K, real alpha, const real *A, int lda,
             const real *B, int ldb, real beta, real *C, int ldc);
void nd_blas_set_threads(int n);
int nd_blas_get_threads(void);
/* the OpenBLAS kernels in use ("SkylakeX", "Haswell", "Prescott", ...) */
const char *nd_blas_corename(void);
/* the OpenBLAS core type this CPU should use when OpenBLAS did not recognise it and fell back to its generic
 * kernels, else NULL (also NULL when OPENBLAS_CORETYPE is set). OpenBLAS reads OPENBLAS_CORETYPE only when it is
 * loaded, so it must be in the environment before the process starts. */
const char *nd_blas_better_core(void);
double nd_dot(const real *a, const real *b, int n);

#endif
