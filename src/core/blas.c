#include "blas.h"
#include <cblas.h>
#include <stdlib.h>
#include <strings.h>

void nd_gemm(int transA, int transB, int M, int N, int K, real alpha, const real *A, int lda,
             const real *B, int ldb, real beta, real *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) { /* BLAS treats K=0 as C = beta C; make that explicit */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) C[(long)i * ldc + j] = beta == 0 ? 0 : beta * C[(long)i * ldc + j];
        return;
    }
#ifdef ND_REAL_DOUBLE
    cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, M, N, K,
                alpha, A, lda, B, ldb, beta, C, ldc);
#else
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, M, N, K,
                alpha, A, lda, B, ldb, beta, C, ldc);
#endif
}

void nd_blas_set_threads(int n) { openblas_set_num_threads(n); }

const char *nd_blas_corename(void) {
    const char *c = openblas_get_corename();
    return c ? c : "unknown";
}

/* OpenBLAS (Debian 12: 0.3.21) picks its kernels by the CPU's model number; a CPU it does not know (a recent Xeon,
 * or a hypervisor that hides the model) falls back to the generic "Prescott" kernels, which run sgemm 4-5 times
 * slower than its AVX-512 or AVX2 ones on the same CPU. The better core is chosen by the instruction sets the CPU
 * reports. Only that fallback is overridden, and never an OPENBLAS_CORETYPE the user set. */
const char *nd_blas_better_core(void) {
    if (getenv("OPENBLAS_CORETYPE")) return NULL;
    const char *c = openblas_get_corename();
    if (!c || strcasecmp(c, "prescott")) return NULL;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
    return NULL;
}
int nd_blas_get_threads(void) { return openblas_get_num_threads(); }

double nd_dot(const real *a, const real *b, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}
