/* SPDX-License-Identifier: MIT
 *
 * Row-major float32 GEMM through OpenBLAS: C = A.B, A^T.B and A.B^T, with
 * beta scaling what C held. Pointers and sizes only; they never fail.
 */
#define G_LOG_DOMAIN "xc-kernels"

#include <cblas.h>

#include "xc-kernels.h"

/* C (M, N) = A (M, K) . B (K, N) + beta C, all row-major and dense */
void
xc_f32_gemm (const float *a, const float *b, float *c, int m, int n, int k, float beta)
{
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k,
               1.0f, a, k, b, n, beta, c, n);
}

/* C (M, N) = A^T . B + beta C, with A (K, M) and B (K, N) row-major: the
 * weight gradient of a layer, inputs^T . output gradients */
void
xc_f32_gemm_tn (const float *a, const float *b, float *c, int m, int n, int k, float beta)
{
  cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, m, n, k,
               1.0f, a, m, b, n, beta, c, n);
}

/* C (M, N) = A (M, K) . B^T where B is (N, K) row-major, + beta C */
void
xc_f32_gemm_nt (const float *a, const float *b, float *c, int m, int n, int k, float beta)
{
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k,
               1.0f, a, k, b, k, beta, c, n);
}
