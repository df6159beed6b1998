/* SPDX-License-Identifier: MIT
 *
 * Row-major float32 GEMM through OpenBLAS: C = A.B, A^T.B and A.B^T, with
 * beta scaling what C held. Pointers and sizes only; they never fail.
 *
 * OpenBLAS runs single-threaded; the threads are OpenMP's, each calling
 * sgemm on its own slice of C (rows when M is the larger side, columns
 * otherwise). One pool of threads for GEMM and for our own loops: two pools
 * on two cores (OpenBLAS's yield-spinning server and OpenMP's workers) spent
 * a sixth of Xception's forward in sched_yield.
 */
#define G_LOG_DOMAIN "xc-kernels"

#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "xc-kernels.h"

/* below this many multiply-adds a GEMM is not worth splitting */
#define SPLIT_MACS (1 << 18)

static int
gemm_slices (int m, int n, int k)
{
#ifdef _OPENMP
  if (omp_in_parallel () || (double) m * n * k < SPLIT_MACS)
    return 1;
  return MAX (1, MIN (omp_get_max_threads (), MAX (m, n) / 16));
#else
  (void) m; (void) n; (void) k;
  return 1;
#endif
}

/* [start, end) of slice i of t over len, in multiples of 16 where possible */
static void
slice (int len, int t, int i, int *start, int *end)
{
  int step = ((len + t - 1) / t + 15) / 16 * 16;

  *start = MIN (len, i * step);
  *end = MIN (len, (i + 1) * step);
}

/* C (M, N) = op(A) . op(B) + beta C, row-major; lda/ldb as cblas wants
 * them; the slice of C along its longer side per thread */
static void
gemm (CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, const float *a, int lda,
      const float *b, int ldb, float *c, int m, int n, int k, float beta)
{
  int t = gemm_slices (m, n, k);
  gboolean rows = m >= n;

  if (t == 1)
    {
      cblas_sgemm (CblasRowMajor, ta, tb, m, n, k, 1.0f, a, lda, b, ldb, beta, c, n);
      return;
    }
#pragma omp parallel for num_threads (t) schedule (static, 1)
  for (int i = 0; i < t; i++)
    {
      int s, e;

      slice (rows ? m : n, t, i, &s, &e);
      if (e <= s)
        continue;
      if (rows)
        {
          /* rows s..e of op(A): A's rows, or A's columns when transposed */
          const float *as = ta == CblasNoTrans ? a + (size_t) s * lda : a + s;
          cblas_sgemm (CblasRowMajor, ta, tb, e - s, n, k, 1.0f, as, lda, b, ldb,
                       beta, c + (size_t) s * n, n);
        }
      else
        {
          const float *bs = tb == CblasNoTrans ? b + s : b + (size_t) s * ldb;
          cblas_sgemm (CblasRowMajor, ta, tb, m, e - s, k, 1.0f, a, lda, bs, ldb,
                       beta, c + s, n);
        }
    }
}

/* C (M, N) = A (M, K) . B (K, N) + beta C, all row-major and dense */
void
xc_f32_gemm (const float *a, const float *b, float *c, int m, int n, int k, float beta)
{
  gemm (CblasNoTrans, CblasNoTrans, a, k, b, n, c, m, n, k, beta);
}

/* C (M, N) = A^T . B + beta C, with A (K, M) and B (K, N) row-major: the
 * weight gradient of a layer, inputs^T . output gradients */
void
xc_f32_gemm_tn (const float *a, const float *b, float *c, int m, int n, int k, float beta)
{
  gemm (CblasTrans, CblasNoTrans, a, m, b, n, c, m, n, k, beta);
}

/* C (M, N) = A (M, K) . B^T where B is (N, K) row-major, + beta C */
void
xc_f32_gemm_nt (const float *a, const float *b, float *c, int m, int n, int k, float beta)
{
  gemm (CblasNoTrans, CblasTrans, a, k, b, k, c, m, n, k, beta);
}
