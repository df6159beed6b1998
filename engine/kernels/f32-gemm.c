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

#include <math.h>
#include <string.h>
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

/* ---- our packed kernel (f32-gemm-6x16.c) for A . B ---- */

typedef void (*GemmKernel) (const float *a, size_t lda, const float *b, size_t ldb,
                            gboolean trans_b, float *c, size_t ldc, int m, int n, int k,
                            float beta, const float *scale, const float *shift);

static GemmKernel own_kernel;
static int own_nr;          /* the kernel's tile width: 16 or 32 columns */
static const char *own_name = "OpenBLAS";

/* the kernel's C against OpenBLAS's on odd shapes, beta 0 and 1 */
static gboolean
own_kernel_agrees (GemmKernel kernel)
{
  static const int shapes[][3] = { { 13, 37, 300 }, { 6, 16, 1 }, { 1, 1, 7 }, { 50, 33, 513 },
                                   { 7, 200, 64 } };
  gboolean ok = TRUE;

  for (guint s = 0; s < G_N_ELEMENTS (shapes) && ok; s++)
    {
      int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
      g_autofree float *a = g_new (float, (size_t) m * k);
      g_autofree float *b = g_new (float, (size_t) k * n);
      g_autofree float *c0 = g_new (float, (size_t) m * n);
      g_autofree float *c1 = g_new (float, (size_t) m * n);
      guint32 x = 12345;

      for (size_t i = 0; i < (size_t) m * k; i++)
        a[i] = (float) ((x = x * 1664525u + 1013904223u) >> 8) / (1 << 24) - 0.5f;
      for (size_t i = 0; i < (size_t) k * n; i++)
        b[i] = (float) ((x = x * 1664525u + 1013904223u) >> 8) / (1 << 24) - 0.5f;
      for (int v = 0; v < 4 && ok; v++)
        {
          int beta = v & 1;
          gboolean tb = v >= 2;
          g_autofree float *bt = g_new (float, (size_t) k * n);

          for (int q = 0; q < k; q++)
            for (int j = 0; j < n; j++)
              bt[(size_t) j * k + q] = b[(size_t) q * n + j];
          for (size_t i = 0; i < (size_t) m * n; i++)
            c0[i] = c1[i] = (float) i / (m * n);
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n,
                       (float) beta, c0, n);
          kernel (a, k, tb ? bt : b, tb ? k : n, tb, c1, n, m, n, k, (float) beta, NULL, NULL);
          for (size_t i = 0; i < (size_t) m * n && ok; i++)
            ok = fabsf (c0[i] - c1[i]) <= 1e-4f * (1.0f + fabsf (c0[i]));
        }
    }
  return ok;
}

/* Which GEMM runs A . B: ours on AVX2 CPUs without AVX-512 (measured
 * faster than OpenBLAS's Haswell and Zen kernels there, see README
 * "Performance"); OpenBLAS's AVX-512 kernels where the CPU has them.
 * XC_GEMM=openblas or XC_GEMM=own overrides (own takes the AVX-512 build
 * where the CPU has it). Ours is used only after it agrees with OpenBLAS. */
static void
own_kernel_init (void)
{
  static gsize once = 0;

  if (!g_once_init_enter (&once))
    return;
#if defined(__x86_64__) && defined(__GNUC__)
  {
    const char *want = g_getenv ("XC_GEMM");
    gboolean avx512, avx2, force = g_strcmp0 (want, "own") == 0;
    GemmKernel kernel = NULL;
    int nr = 0;
    const char *name = NULL;

    __builtin_cpu_init ();
    avx512 = __builtin_cpu_supports ("avx512f");
    avx2 = __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma");
    if (g_strcmp0 (want, "openblas") != 0)
      {
        if (avx512 && force)
          kernel = xc_f32_gemm_6x32__avx512, nr = 32, name = "own 6x32 AVX-512";
        else if (avx2 && (!avx512 || force))
          kernel = xc_f32_gemm_6x16__avx2, nr = 16, name = "own 6x16 AVX2";
      }
    if (kernel != NULL && own_kernel_agrees (kernel))
      {
        own_kernel = kernel;
        own_nr = nr;
        own_name = name;
      }
    else if (kernel != NULL)
      g_warning ("%s GEMM disagrees with OpenBLAS on this CPU; using OpenBLAS", name);
  }
#endif
  g_once_init_leave (&once, 1);
}

/**
 * xc_f32_gemm_name:
 *
 * Returns: which GEMM runs the forward's products ("own 6x16 AVX2",
 * "OpenBLAS", ...)
 */
const char *
xc_f32_gemm_name (void)
{
  own_kernel_init ();
  return own_name;
}

/* balanced slice i of t over len, in multiples of q */
static void
slice_q (int len, int t, int i, int q, int *start, int *end)
{
  int units = (len + q - 1) / q;

  *start = MIN (len, (int) ((gint64) units * i / t) * q);
  *end = MIN (len, (int) ((gint64) units * (i + 1) / t) * q);
}

/* C = op(B) products on our kernel, split over the threads: B (K, N) with
 * row stride ldb, or with trans_b B^T (N, K) */
static void
own_gemm (const float *a, const float *b, int ldb, gboolean trans_b, float *c, int m, int n,
          int k, float beta, const float *scale, const float *shift)
{
  int t = gemm_slices (m, n, k);
  gboolean rows;

  if (t == 1)
    {
      own_kernel (a, k, b, ldb, trans_b, c, n, m, n, k, beta, scale, shift);
      return;
    }
  /* columns when there are enough tiles for every thread (each packs only
   * its own columns of B), else rows (each packs all of B) */
  rows = m >= n || (n + own_nr - 1) / own_nr < 2 * t;
#pragma omp parallel for num_threads (t) schedule (static, 1)
  for (int i = 0; i < t; i++)
    {
      int s, e;

      slice_q (rows ? m : n, t, i, rows ? 6 : own_nr, &s, &e);
      if (e <= s)
        continue;
      if (rows)
        own_kernel (a + (size_t) s * k, k, b, ldb, trans_b, c + (size_t) s * n, n, e - s, n, k,
                    beta, scale, shift);
      else
        own_kernel (a, k, trans_b ? b + (size_t) s * ldb : b + s, ldb, trans_b, c + s, n, m,
                    e - s, k, beta, scale ? scale + s : NULL, scale ? shift + s : NULL);
    }
}

/**
 * xc_f32_conv_valid_post:
 * @x: one image (H, W, C)
 * @kernel: (KH*KW*C, N) row-major
 * @y: (OH*OW, N)
 *
 * y = conv(x, kernel) * scale + shift (@scale %NULL: y = conv(x, kernel)),
 * then with @relu max (y, 0), for a convolution whose windows all lie
 * inside the image, without im2col,
 * the output positions split over the threads. Only on our AVX2 kernel:
 * returns %FALSE, having done nothing, where another GEMM runs the
 * products (the caller then gathers im2col's columns).
 */
gboolean
xc_f32_conv_valid_post (const float *x, int w, int c, int kh, int kw, int sh, int sw, int oh,
                        int ow, const float *kernel, int n, float *y, const float *scale,
                        const float *shift, gboolean relu)
{
  int m = oh * ow, t;

  own_kernel_init ();
#if defined(__x86_64__) && defined(__GNUC__)
  if (own_kernel != xc_f32_gemm_6x16__avx2)
    return FALSE;
#else
  return FALSE;
#endif
  t = gemm_slices (m, n, kh * kw * c);
#pragma omp parallel for num_threads (t) schedule (static, 1) if (t > 1)
  for (int i = 0; i < t; i++)
    {
      int s, e;

      slice_q (m, t, i, 6, &s, &e);
      if (e > s)
        xc_f32_conv_6x16__avx2 (x, w, c, kh, kw, sh, sw, ow, kernel, n, y, s, e, scale, shift,
                                relu);
    }
  return TRUE;
}

/* C (M, N) = A (M, K) . B (K, N) + beta C, all row-major and dense */
void
xc_f32_gemm (const float *a, const float *b, float *c, int m, int n, int k, float beta)
{
  xc_f32_gemm_post (a, b, c, m, n, k, beta, NULL, NULL);
}

/* C = (A . B + beta C) * scale + shift, scale and shift per column (N):
 * an inference BatchNormalization after the product, applied as each tile
 * of C is stored; with @scale %NULL, xc_f32_gemm() */
void
xc_f32_gemm_post (const float *a, const float *b, float *c, int m, int n, int k, float beta,
                  const float *scale, const float *shift)
{
  int t;

  own_kernel_init ();
  if (m == 1)
    {
      /* one row (a Dense layer on one image): a matrix-vector product,
       * bound by reading B; each thread reads its own columns */
      t = gemm_slices (m, n, k);
#pragma omp parallel for num_threads (t) schedule (static, 1) if (t > 1)
      for (int i = 0; i < t; i++)
        {
          int s, e;

          slice_q (n, t, i, 16, &s, &e);
          if (e > s)
            cblas_sgemv (CblasRowMajor, CblasTrans, k, e - s, 1.0f, b + s, n, a, 1, beta, c + s,
                         1);
        }
      if (scale != NULL)
        for (int j = 0; j < n; j++)
          c[j] = c[j] * scale[j] + shift[j];
      return;
    }
  if (own_kernel == NULL)
    {
      gemm (CblasNoTrans, CblasNoTrans, a, k, b, n, c, m, n, k, beta);
      if (scale != NULL)
#pragma omp parallel for schedule(static) if ((size_t) m * n > 65536)
        for (int i = 0; i < m; i++)
          for (int j = 0; j < n; j++)
            c[(size_t) i * n + j] = c[(size_t) i * n + j] * scale[j] + shift[j];
      return;
    }
  own_gemm (a, b, n, FALSE, c, m, n, k, beta, scale, shift);
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
  own_kernel_init ();
  if (own_kernel != NULL && m >= 6)
    {
      own_gemm (a, b, k, TRUE, c, m, n, k, beta, NULL, NULL);
      return;
    }
  gemm (CblasNoTrans, CblasTrans, a, k, b, k, c, m, n, k, beta);
}

/* ---- B in panels: packed once, when a plan is made (xc-model.c) ---- */

/**
 * xc_f32_gemm_panels_ok:
 *
 * Returns: whether products on weights in panels run here (our AVX2 GEMM
 *   took the forward's products: see own_kernel_init())
 */
gboolean
xc_f32_gemm_panels_ok (void)
{
  own_kernel_init ();
#if defined(__x86_64__) && defined(__GNUC__)
  return own_kernel == xc_f32_gemm_6x16__avx2;
#else
  return FALSE;
#endif
}

/**
 * xc_f32_pack_panels:
 * @b: (K, N) row-major
 * @bp: (out): K * N floats, @b in panels: columns [16 q, 16 q + 16) as K
 *   rows of 16 floats at bp + 16 K q, then the last N % 16 columns as K rows
 *   of N % 16 floats
 */
void
xc_f32_pack_panels (const float *b, int k, int n, float *bp)
{
  int full = n / 16, w = n - 16 * full;

  for (int q = 0; q < full; q++)
    for (int r = 0; r < k; r++)
      memcpy (bp + (size_t) q * 16 * k + (size_t) r * 16, b + (size_t) r * n + 16 * q,
              16 * sizeof (float));
  for (int r = 0; r < k && w > 0; r++)
    memcpy (bp + (size_t) full * 16 * k + (size_t) r * w, b + (size_t) r * n + 16 * full,
            w * sizeof (float));
}

/* xc_f32_pack_panels() undone */
void
xc_f32_unpack_panels (const float *bp, int k, int n, float *b)
{
  int full = n / 16, w = n - 16 * full;

  for (int q = 0; q < full; q++)
    for (int r = 0; r < k; r++)
      memcpy (b + (size_t) r * n + 16 * q, bp + (size_t) q * 16 * k + (size_t) r * 16,
              16 * sizeof (float));
  for (int r = 0; r < k && w > 0; r++)
    memcpy (b + (size_t) r * n + 16 * full, bp + (size_t) full * 16 * k + (size_t) r * w,
            w * sizeof (float));
}

/**
 * xc_f32_gemm_panels_post:
 * @bp: B (K, N) in panels (xc_f32_pack_panels()), 32-byte aligned (the
 *   tiles read it with aligned loads; the model's slab aligns it)
 *
 * C = A . B, then with @scale C * scale + shift per column, as
 * xc_f32_gemm_post() with beta 0, B read in its panels; only where
 * xc_f32_gemm_panels_ok().
 */
void
xc_f32_gemm_panels_post (const float *a, const float *bp, float *c, int m, int n, int k,
                         const float *scale, const float *shift)
{
#if defined(__x86_64__) && defined(__GNUC__)
  int t = gemm_slices (m, n, k);
  gboolean rows;

  g_return_if_fail (xc_f32_gemm_panels_ok ());
  g_return_if_fail ((guintptr) bp % 32 == 0);
  if (t == 1)
    {
      xc_f32_gemm_panels_6x16__avx2 (a, k, bp, c, n, m, n, k, scale, shift);
      return;
    }
  /* as own_gemm(): columns when every thread gets tiles of them */
  rows = m >= n || (n + 15) / 16 < 2 * t;
#pragma omp parallel for num_threads (t) schedule (static, 1)
  for (int i = 0; i < t; i++)
    {
      int s, e;

      slice_q (rows ? m : n, t, i, rows ? 6 : 16, &s, &e);
      if (e <= s)
        continue;
      if (rows)
        xc_f32_gemm_panels_6x16__avx2 (a + (size_t) s * k, k, bp, c + (size_t) s * n, n, e - s,
                                       n, k, scale, shift);
      else
        xc_f32_gemm_panels_6x16__avx2 (a, k, bp + (size_t) s * k, c + s, n, m, e - s, k,
                                       scale ? scale + s : NULL, scale ? shift + s : NULL);
    }
#else
  (void) a; (void) bp; (void) c; (void) m; (void) n; (void) k; (void) scale; (void) shift;
  g_return_if_reached ();
#endif
}

/**
 * xc_f32_gemm_nt_panels:
 * @bp: B (N, K) in panels (xc_f32_pack_panels() of the (N, K) matrix)
 *
 * C (M, N) = A (M, K) . B^T, as xc_f32_gemm_nt() with beta 0; only where
 * xc_f32_gemm_panels_ok().
 */
void
xc_f32_gemm_nt_panels (const float *a, const float *bp, float *c, int m, int n, int k)
{
#if defined(__x86_64__) && defined(__GNUC__)
  int t = gemm_slices (m, n, k);
  gboolean rows;

  g_return_if_fail (xc_f32_gemm_panels_ok ());
  if (t == 1)
    {
      xc_f32_gemm_bt_panels_6x16__avx2 (a, k, bp, n, k, 0, c, n, m, n, k);
      return;
    }
  rows = m >= n || (n + 15) / 16 < 2 * t;
#pragma omp parallel for num_threads (t) schedule (static, 1)
  for (int i = 0; i < t; i++)
    {
      int s, e;

      slice_q (rows ? m : n, t, i, rows ? 6 : 16, &s, &e);
      if (e <= s)
        continue;
      if (rows)
        xc_f32_gemm_bt_panels_6x16__avx2 (a + (size_t) s * k, k, bp, n, k, 0, c + (size_t) s * n,
                                          n, e - s, n, k);
      else
        xc_f32_gemm_bt_panels_6x16__avx2 (a, k, bp, n, k, s, c + s, n, m, e - s, k);
    }
#else
  (void) a; (void) bp; (void) c; (void) m; (void) n; (void) k;
  g_return_if_reached ();
#endif
}
