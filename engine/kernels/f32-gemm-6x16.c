/* SPDX-License-Identifier: MIT
 *
 * Our own row-major float32 GEMM, C (M, N) = A (M, K) . B (K, N) + beta C,
 * for the forward pass's 1x1 convolutions and im2col products.
 *
 * OpenBLAS's sgemm spends a sixth of Xception's forward outside its
 * multiply-add kernel: it zeroes C first (beta = 0 is a pass over C), packs
 * both operands and, split over two threads by slices of C, leaves one
 * waiting on the other. Here, BLIS's loop nest with the roles of A and B
 * swapped for row-major data:
 *   for each block of NC columns and KC rows of B: pack B (KC x NC) into
 *   panels of 16 (32 on AVX-512) columns, zero-padded;
 *     for each block of MC rows of A (read in place, never packed: each row
 *     is a contiguous stream):
 *       for each panel, for each 6 rows: the microkernel keeps a 6 x 16
 *       tile of C in 12 registers, per k one 16-wide load of B, 6 broadcasts
 *       of A and 12 FMAs; the first KC block stores (beta = 0 costs
 *       nothing) and the next ones add.
 * The B block (KC x NC) lives in L2 beside the A block, a panel (KC x 16)
 * in L1. The last rows past a multiple of 6 take a tile of that many rows
 * (tile_rows_avx2()); columns
 * past N are zeros in the panel and are not stored.
 *
 * Products that this would split along K or N (K > KC, N > NC: Xception's
 * 1x1 convolutions from block4 on, K = 728 to 1536), with A at most 1024
 * rows or N at most 64 columns (A is read once per 64 columns: a training
 * batch's tall A stays in the first nest), take a second nest on AVX2: K
 * in as few equal blocks of at most 512 rows as it needs (728 in two of
 * 368: C is added to once instead of twice), B in blocks of 64 columns (at
 * most 128 KB, in L2), and for each 6 rows of A (their floats in L1) the
 * four panels in turn. Measured in Xception's forward, the two
 * nests alternating run by run: 3-5% faster, in 33 of 40 pairs. (One block
 * of 728 measured the same; it changes rounding enough to move a seeded
 * 3-epoch training run from 71% to 62% test accuracy, and 512 to 75%: such
 * runs are chaotic, see tests/test-train.c.)
 *
 * Two builds of the same loops: AVX2+FMA (8-float vectors, 6x16 tile) and
 * AVX-512 (16-float vectors, 6x32 tile). xc_f32_gemm() takes one after
 * checking it against OpenBLAS once per process (see f32-gemm.c).
 * Pointers and sizes only; the packing buffer is thread-local and static.
 */
#define G_LOG_DOMAIN "xc-kernels"

#include <string.h>

#include "xc-kernels.h"

/* where element (r, j) of a (K, N) matrix lies in its panels
 * (xc_f32_pack_panels()) */
size_t
xc_f32_panels_index (int k, int n, int r, int j)
{
  int full = n / 16, w = n - 16 * full;

  if (j < 16 * full)
    return (size_t) (j / 16) * 16 * k + (size_t) r * 16 + j % 16;
  return (size_t) full * 16 * k + (size_t) r * w + (j - 16 * full);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define MR 6
#define KC 256
#define MC 96
#define NC_AVX2 192
#define NC_AVX512 256

/* Floats from one packed panel to the next: a panel and one cache line, so
 * that packing, which writes a row of B to every panel in turn, does not
 * send all its stores to the same few sets of L1 (panels 16 KB apart) */
static inline size_t
panel_stride (int kc, int nr)
{
  return (size_t) kc * nr + 16;
}

/* one packing buffer per thread, for the larger build */
static __thread float packed_b[KC * NC_AVX512 + 16 * (NC_AVX512 / 16)]
  __attribute__ ((aligned (64)));

/* ------------------------------------------------------------------ AVX2 */

#define NR2 16
#define KC_WIDE 512     /* the second nest: most rows of B in one block */
#define NC_WIDE 64      /* and columns */
#define WIDE_M_MAX 1024 /* A is read once per 64 columns: tall A only if N fits one */

static __thread float packed_wide[KC_WIDE * NC_WIDE + 16 * (NC_WIDE / NR2)]
  __attribute__ ((aligned (64)));

/* B[0..kc, 0..nc) (row stride ldb) into panels of NR2 columns, each kc x NR2
 * contiguous; columns past nc are zeros */
__attribute__ ((target ("avx2,fma")))
static void
pack_b_avx2 (const float *b, size_t ldb, int kc, int nc, float *p)
{
  int full = nc / NR2 * NR2;

  /* along B's rows (cold weights stream in from memory in order), each
   * row's 16-column pieces to their panels; the row 16 ahead is fetched
   * meanwhile: rows a few KB apart defeat the hardware's prefetchers, and
   * the packing waited on every line (a 512 x 64 block of the exit flow's
   * 1536 x 2048 weights: 21% of that product's time, 16% with this; the
   * forward 2.5% faster, 36 of 50 alternating pairs) */
  for (int k = 0; k < kc; k++)
    {
      const float *src = b + (size_t) k * ldb;
      float *dst = p + (size_t) k * NR2;

      if (k + 16 < kc)
        for (int j = 0; j < nc + 16; j += 16)
          _mm_prefetch ((const char *) (src + (size_t) 16 * ldb + j), _MM_HINT_T0);

      for (int j = 0; j < full; j += NR2, dst += panel_stride (kc, NR2))
        {
          _mm256_store_ps (dst, _mm256_loadu_ps (src + j));
          _mm256_store_ps (dst + 8, _mm256_loadu_ps (src + j + 8));
        }
      if (full < nc)
        {
          int q = 0;

          for (; q < nc - full; q++)
            dst[q] = src[full + q];
          for (; q < NR2; q++)
            dst[q] = 0.0f;
        }
    }
}

/* 8 rows of 8 floats at src (row stride ld) into 8 rows of a panel at d
 * (row stride NR2), transposed in registers */
__attribute__ ((target ("avx2,fma")))
static inline void
transpose_8x8_avx2 (const float *src, size_t ld, float *d)
{
  __m256 r0 = _mm256_loadu_ps (src), r1 = _mm256_loadu_ps (src + ld);
  __m256 r2 = _mm256_loadu_ps (src + 2 * ld), r3 = _mm256_loadu_ps (src + 3 * ld);
  __m256 r4 = _mm256_loadu_ps (src + 4 * ld), r5 = _mm256_loadu_ps (src + 5 * ld);
  __m256 r6 = _mm256_loadu_ps (src + 6 * ld), r7 = _mm256_loadu_ps (src + 7 * ld);
  __m256 t0 = _mm256_unpacklo_ps (r0, r1), t1 = _mm256_unpackhi_ps (r0, r1);
  __m256 t2 = _mm256_unpacklo_ps (r2, r3), t3 = _mm256_unpackhi_ps (r2, r3);
  __m256 t4 = _mm256_unpacklo_ps (r4, r5), t5 = _mm256_unpackhi_ps (r4, r5);
  __m256 t6 = _mm256_unpacklo_ps (r6, r7), t7 = _mm256_unpackhi_ps (r6, r7);
  __m256 u0 = _mm256_shuffle_ps (t0, t2, 0x44), u1 = _mm256_shuffle_ps (t0, t2, 0xee);
  __m256 u2 = _mm256_shuffle_ps (t1, t3, 0x44), u3 = _mm256_shuffle_ps (t1, t3, 0xee);
  __m256 u4 = _mm256_shuffle_ps (t4, t6, 0x44), u5 = _mm256_shuffle_ps (t4, t6, 0xee);
  __m256 u6 = _mm256_shuffle_ps (t5, t7, 0x44), u7 = _mm256_shuffle_ps (t5, t7, 0xee);

  _mm256_store_ps (d + 0 * NR2, _mm256_permute2f128_ps (u0, u4, 0x20));
  _mm256_store_ps (d + 1 * NR2, _mm256_permute2f128_ps (u1, u5, 0x20));
  _mm256_store_ps (d + 2 * NR2, _mm256_permute2f128_ps (u2, u6, 0x20));
  _mm256_store_ps (d + 3 * NR2, _mm256_permute2f128_ps (u3, u7, 0x20));
  _mm256_store_ps (d + 4 * NR2, _mm256_permute2f128_ps (u0, u4, 0x31));
  _mm256_store_ps (d + 5 * NR2, _mm256_permute2f128_ps (u1, u5, 0x31));
  _mm256_store_ps (d + 6 * NR2, _mm256_permute2f128_ps (u2, u6, 0x31));
  _mm256_store_ps (d + 7 * NR2, _mm256_permute2f128_ps (u3, u7, 0x31));
}

/* The same panels from B^T: bt (N, K) row-major (row stride ldbt), rows
 * [0, nc) and columns [0, kc) of it, 8x8 blocks transposed in registers */
__attribute__ ((target ("avx2,fma")))
static void
pack_bt_avx2 (const float *bt, size_t ldbt, int kc, int nc, float *p)
{
  for (int j = 0; j < nc; j += NR2, p += panel_stride (kc, NR2))
    {
      int w = MIN (NR2, nc - j), k = 0;

      if (w == NR2)
        for (; k + 8 <= kc; k += 8)
          for (int half = 0; half < 2; half++)
            {
              const float *src = bt + (size_t) (j + 8 * half) * ldbt + k;
              transpose_8x8_avx2 (src, ldbt, p + (size_t) k * NR2 + 8 * half);
            }
      for (; k < kc; k++)
        for (int q = 0; q < NR2; q++)
          p[(size_t) k * NR2 + q] = q < w ? bt[(size_t) (j + q) * ldbt + k] : 0.0f;
    }
}

/* C tile (mr x nr, mr <= 6, nr <= 16) = acc (+ C if add, or + beta C on the
 * first block when beta != 0) */
__attribute__ ((target ("avx2,fma")))
static inline void
store_tile_avx2 (__m256 acc[MR][2], float *c, size_t ldc, int mr, int nr,
                 gboolean add, float beta, const float *scale, const float *shift,
                 gboolean relu)
{
  if (nr == NR2)
    {
      for (int r = 0; r < mr; r++)
        {
          float *cr = c + (size_t) r * ldc;
          __m256 lo = acc[r][0], hi = acc[r][1];

          if (add)
            {
              lo = _mm256_add_ps (lo, _mm256_loadu_ps (cr));
              hi = _mm256_add_ps (hi, _mm256_loadu_ps (cr + 8));
            }
          else if (beta != 0.0f)
            {
              __m256 vb = _mm256_set1_ps (beta);

              lo = _mm256_fmadd_ps (vb, _mm256_loadu_ps (cr), lo);
              hi = _mm256_fmadd_ps (vb, _mm256_loadu_ps (cr + 8), hi);
            }
          if (scale != NULL)
            {
              lo = _mm256_fmadd_ps (lo, _mm256_loadu_ps (scale), _mm256_loadu_ps (shift));
              hi = _mm256_fmadd_ps (hi, _mm256_loadu_ps (scale + 8), _mm256_loadu_ps (shift + 8));
            }
          if (relu)
            {
              /* max (NaN, 0) is 0, as the ReLU layer gives */
              lo = _mm256_max_ps (lo, _mm256_setzero_ps ());
              hi = _mm256_max_ps (hi, _mm256_setzero_ps ());
            }
          _mm256_storeu_ps (cr, lo);
          _mm256_storeu_ps (cr + 8, hi);
        }
      return;
    }
  for (int r = 0; r < mr; r++)
    {
      float t[NR2] __attribute__ ((aligned (32)));
      float *cr = c + (size_t) r * ldc;

      _mm256_store_ps (t, acc[r][0]);
      _mm256_store_ps (t + 8, acc[r][1]);
      for (int q = 0; q < nr; q++)
        {
          float v = add ? cr[q] + t[q] : beta != 0.0f ? t[q] + beta * cr[q] : t[q];
          v = scale != NULL ? v * scale[q] + shift[q] : v;
          cr[q] = relu ? (v > 0.0f ? v : 0.0f) : v;
        }
    }
}

/* The 6 x 16 tile's twelve accumulators c00 .. c51 in registers, one step
 * of k (a row of the panel at p, which advances, times a0[i] .. a5[i], one
 * float of each of six rows of A), and the accumulators as acc[6][2]:
 * shared by the GEMM's and the convolution's microkernels */
#define TILE_6X16_ZERO()                                                       \
  __m256 c00 = _mm256_setzero_ps (), c01 = _mm256_setzero_ps ();               \
  __m256 c10 = _mm256_setzero_ps (), c11 = _mm256_setzero_ps ();               \
  __m256 c20 = _mm256_setzero_ps (), c21 = _mm256_setzero_ps ();               \
  __m256 c30 = _mm256_setzero_ps (), c31 = _mm256_setzero_ps ();               \
  __m256 c40 = _mm256_setzero_ps (), c41 = _mm256_setzero_ps ();               \
  __m256 c50 = _mm256_setzero_ps (), c51 = _mm256_setzero_ps ()

#define TILE_6X16_STEP(i)                                                      \
  do                                                                           \
    {                                                                          \
      __m256 b0 = _mm256_load_ps (p), b1 = _mm256_load_ps (p + 8), v;          \
                                                                               \
      p += NR2;                                                                \
      v = _mm256_broadcast_ss (a0 + (i));                                      \
      c00 = _mm256_fmadd_ps (v, b0, c00);                                      \
      c01 = _mm256_fmadd_ps (v, b1, c01);                                      \
      v = _mm256_broadcast_ss (a1 + (i));                                      \
      c10 = _mm256_fmadd_ps (v, b0, c10);                                      \
      c11 = _mm256_fmadd_ps (v, b1, c11);                                      \
      v = _mm256_broadcast_ss (a2 + (i));                                      \
      c20 = _mm256_fmadd_ps (v, b0, c20);                                      \
      c21 = _mm256_fmadd_ps (v, b1, c21);                                      \
      v = _mm256_broadcast_ss (a3 + (i));                                      \
      c30 = _mm256_fmadd_ps (v, b0, c30);                                      \
      c31 = _mm256_fmadd_ps (v, b1, c31);                                      \
      v = _mm256_broadcast_ss (a4 + (i));                                      \
      c40 = _mm256_fmadd_ps (v, b0, c40);                                      \
      c41 = _mm256_fmadd_ps (v, b1, c41);                                      \
      v = _mm256_broadcast_ss (a5 + (i));                                      \
      c50 = _mm256_fmadd_ps (v, b0, c50);                                      \
      c51 = _mm256_fmadd_ps (v, b1, c51);                                      \
    }                                                                          \
  while (0)

#define TILE_6X16_COLLECT(acc)                                                 \
  do                                                                           \
    {                                                                          \
      acc[0][0] = c00; acc[0][1] = c01;                                        \
      acc[1][0] = c10; acc[1][1] = c11;                                        \
      acc[2][0] = c20; acc[2][1] = c21;                                        \
      acc[3][0] = c30; acc[3][1] = c31;                                        \
      acc[4][0] = c40; acc[4][1] = c41;                                        \
      acc[5][0] = c50; acc[5][1] = c51;                                        \
    }                                                                          \
  while (0)

/* the full 6 x 16 tile at rows a[0..6) of A (row stride lda, columns
 * 0..kc) times the panel p (kc x 16) */
__attribute__ ((target ("avx2,fma")))
static inline void
tile6_avx2 (const float *a, size_t lda, const float *p, int kc,
            float *c, size_t ldc, int nr, gboolean add, float beta,
            const float *scale, const float *shift)
{
  const float *a0 = a;
  const float *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda;
  const float *a4 = a + 4 * lda, *a5 = a + 5 * lda;
  __m256 acc[MR][2];
  TILE_6X16_ZERO ();

  /* four steps of k per trip: one pointer update and branch for 48 FMAs,
   * not four for 12 (the forward 7% faster, 66-68 of 80 runs alternating
   * in one process; unrolling by 8 measured the same, by 2 half of it) */
#pragma GCC unroll 4
  for (int k = 0; k < kc; k++)
    TILE_6X16_STEP (k);
  TILE_6X16_COLLECT (acc);
  store_tile_avx2 (acc, c, ldc, MR, nr, add, beta, scale, shift, FALSE);
}

/* The last rows of A (rows % 6 of them, 1 to 5) times the panel p: the
 * same multiply-adds, in the same order, as the 6-row tile on those rows
 * (bit-identical results), without the 6-row tile's work on the rows it
 * would repeat. A 361-row product (the middle flow's 19 x 19) has a 1-row
 * tail: 1.6% of its tiles, at 6 rows' cost before. ROWS is a constant
 * where this is inlined, so the loops over rows unroll and the
 * accumulators stay in registers. */
__attribute__ ((target ("avx2,fma"), always_inline))
static inline void
tile_rows_avx2 (const int rows, const float *a, size_t lda, const float *p, int kc,
                float *c, size_t ldc, int nr, gboolean add, float beta,
                const float *scale, const float *shift)
{
  __m256 acc[MR][2];

  for (int r = 0; r < rows; r++)
    acc[r][0] = acc[r][1] = _mm256_setzero_ps ();
#pragma GCC unroll 4
  for (int k = 0; k < kc; k++)
    {
      __m256 b0 = _mm256_load_ps (p), b1 = _mm256_load_ps (p + 8);

      p += NR2;
      for (int r = 0; r < rows; r++)
        {
          __m256 v = _mm256_broadcast_ss (a + (size_t) r * lda + k);

          acc[r][0] = _mm256_fmadd_ps (v, b0, acc[r][0]);
          acc[r][1] = _mm256_fmadd_ps (v, b1, acc[r][1]);
        }
    }
  store_tile_avx2 (acc, c, ldc, rows, nr, add, beta, scale, shift, FALSE);
}

/* the 6 x 16 tile at rows a[0..6) of A (row stride lda, columns 0..kc) times
 * the panel p (kc x 16); fewer rows (mr < 6) take tile_rows_avx2() */
__attribute__ ((target ("avx2,fma")))
static inline void
tile_avx2 (const float *a, size_t lda, int mr, const float *p, int kc,
           float *c, size_t ldc, int nr, gboolean add, float beta,
           const float *scale, const float *shift)
{
  switch (mr)
    {
    case 1:
      tile_rows_avx2 (1, a, lda, p, kc, c, ldc, nr, add, beta, scale, shift);
      return;
    case 2:
      tile_rows_avx2 (2, a, lda, p, kc, c, ldc, nr, add, beta, scale, shift);
      return;
    case 3:
      tile_rows_avx2 (3, a, lda, p, kc, c, ldc, nr, add, beta, scale, shift);
      return;
    case 4:
      tile_rows_avx2 (4, a, lda, p, kc, c, ldc, nr, add, beta, scale, shift);
      return;
    case 5:
      tile_rows_avx2 (5, a, lda, p, kc, c, ldc, nr, add, beta, scale, shift);
      return;
    default:
      break;
    }
  tile6_avx2 (a, lda, p, kc, c, ldc, nr, add, beta, scale, shift);
}

/* rows [pc, pc + kc) and columns [jc, jc + nc) of B, or of (B^T)^T, into panels */
__attribute__ ((target ("avx2,fma")))
static inline void
pack_block_avx2 (const float *b, size_t ldb, gboolean trans_b, int pc, int jc, int kc, int nc,
                 float *p)
{
  if (trans_b)
    pack_bt_avx2 (b + (size_t) jc * ldb + pc, ldb, kc, nc, p);
  else
    pack_b_avx2 (b + (size_t) pc * ldb + jc, ldb, kc, nc, p);
}

/* the second loop nest (see the top of this file): B in blocks of at most
 * KC_WIDE rows (as many as K needs, of equal size) and NC_WIDE columns;
 * per block, each 6 rows of A against its panels */
__attribute__ ((target ("avx2,fma")))
static void
gemm_wide_avx2 (const float *a, size_t lda, const float *b, size_t ldb, gboolean trans_b,
                float *c, size_t ldc, int m, int n, int k, float beta,
                const float *scale, const float *shift)
{
  int blocks = (k + KC_WIDE - 1) / KC_WIDE;
  int kstep = MIN (KC_WIDE, ((k + blocks - 1) / blocks + 7) / 8 * 8);
  float *p = packed_wide;

  for (int jc = 0; jc < n; jc += NC_WIDE)
    {
      int nc = MIN (NC_WIDE, n - jc);

      for (int pc = 0; pc < k; pc += kstep)
        {
          int kc = MIN (kstep, k - pc);
          gboolean add = pc > 0;
          const float *post = pc + kc >= k ? scale : NULL;

          pack_block_avx2 (b, ldb, trans_b, pc, jc, kc, nc, p);
          for (int ir = 0; ir < m; ir += MR)
            for (int jr = 0; jr < nc; jr += NR2)
              tile_avx2 (a + (size_t) ir * lda + pc, lda, MIN (MR, m - ir),
                         p + (size_t) (jr / NR2) * panel_stride (kc, NR2), kc,
                         c + (size_t) ir * ldc + jc + jr, ldc, MIN (NR2, nc - jr),
                         add, beta, post ? post + jc + jr : NULL,
                         post ? shift + jc + jr : NULL);
        }
    }
}

/**
 * xc_f32_gemm_6x16__avx2:
 * @a: A (M, K), row stride @lda
 * @b: B (K, N), row stride @ldb; with @trans_b, B^T (N, K), row stride @ldb
 * @c: C (M, N), row stride @ldc
 *
 * C = A . B + beta C on one thread (callers split C between threads); when
 * @scale is not %NULL, then C = C * scale + shift per column (an inference
 * BatchNormalization folded in: the products see the unscaled weights).
 */
__attribute__ ((target ("avx2,fma")))
void
xc_f32_gemm_6x16__avx2 (const float *a, size_t lda, const float *b, size_t ldb,
                        gboolean trans_b, float *c, size_t ldc, int m, int n, int k, float beta,
    const float *scale, const float *shift)
{
  float *p = packed_b;

  if (k == 0)
    {
      for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
          {
            float v = beta == 0.0f ? 0.0f : beta * c[(size_t) i * ldc + j];
            c[(size_t) i * ldc + j] = scale != NULL ? v * scale[j] + shift[j] : v;
          }
      return;
    }
  if ((k > KC || n > NC_AVX2) && (m <= WIDE_M_MAX || n <= NC_WIDE))
    {
      gemm_wide_avx2 (a, lda, b, ldb, trans_b, c, ldc, m, n, k, beta, scale, shift);
      return;
    }
  for (int jc = 0; jc < n; jc += NC_AVX2)
    {
      int nc = MIN (NC_AVX2, n - jc);

      for (int pc = 0; pc < k; pc += KC)
        {
          int kc = MIN (KC, k - pc);
          gboolean add = pc > 0;
          const float *post = pc + kc >= k ? scale : NULL;

          pack_block_avx2 (b, ldb, trans_b, pc, jc, kc, nc, p);
          for (int ic = 0; ic < m; ic += MC)
            {
              int mc = MIN (MC, m - ic);

              for (int jr = 0; jr < nc; jr += NR2)
                {
                  const float *panel = p + (size_t) (jr / NR2) * panel_stride (kc, NR2);
                  int nr = MIN (NR2, nc - jr);

                  for (int ir = 0; ir < mc; ir += MR)
                    tile_avx2 (a + (size_t) (ic + ir) * lda + pc, lda, MIN (MR, mc - ir),
                               panel, kc, c + (size_t) (ic + ir) * ldc + jc + jr, ldc, nr,
                               add, beta, post ? post + jc + jr : NULL,
                               post ? shift + jc + jr : NULL);
                }
            }
        }
    }
}

/* ------------------------------------ B already in panels (AVX2) */

/* The panel layout of a (K, N) matrix (xc_f32_pack_panels()): columns
 * [16 q, 16 q + 16) as K rows of 16 floats at bp + 16 K q, the last N % 16
 * columns as K rows of N % 16 floats after the full panels. A product on
 * it packs nothing: the tiles read the panels where they lie (the tail
 * panel alone is copied, zero-padded, into the thread's buffer). */
__attribute__ ((target ("avx2,fma")))
static inline const float *
panel_rows_avx2 (const float *bp, int k, int n, int q, int pc, int kc, float *tail)
{
  int full = n / NR2, w = n - full * NR2;
  const float *src;

  if (q < full)
    return bp + (size_t) q * NR2 * k + (size_t) pc * NR2;
  src = bp + (size_t) full * NR2 * k + (size_t) pc * w;
  for (int r = 0; r < kc; r++)
    for (int j = 0; j < NR2; j++)
      tail[(size_t) r * NR2 + j] = j < w ? src[(size_t) r * w + j] : 0.0f;
  return tail;
}

/**
 * xc_f32_gemm_panels_6x16__avx2:
 * @a: A (M, K), row stride @lda
 * @bp: B (K, N) in panels (xc_f32_pack_panels()); callers that split the
 *   columns between threads pass each the panels of its columns (a slice
 *   starting at a multiple of 16 columns: bp + 16 K q), @n its width
 * @c: C (M, N), row stride @ldc
 *
 * C = A . B (then * scale + shift per column when @scale is not %NULL) on
 * one thread, in the blocks and order xc_f32_gemm_6x16__avx2() would
 * take, without packing B: the same sums in the same order (bit-identical
 * results).
 */
__attribute__ ((target ("avx2,fma")))
void
xc_f32_gemm_panels_6x16__avx2 (const float *a, size_t lda, const float *bp, float *c,
                               size_t ldc, int m, int n, int k, const float *scale,
                               const float *shift)
{
  gboolean wide = (k > KC || n > NC_AVX2) && (m <= WIDE_M_MAX || n <= NC_WIDE);
  int blocks = wide ? (k + KC_WIDE - 1) / KC_WIDE : (k + KC - 1) / KC;
  int kstep = wide ? MIN (KC_WIDE, ((k + blocks - 1) / blocks + 7) / 8 * 8) : KC;
  int nstep = wide ? NC_WIDE : NC_AVX2, mstep = wide ? m : MC;
  float *tail = wide ? packed_wide : packed_b;
  const float *pan[NC_AVX2 / NR2];

  if (k == 0)
    {
      for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
          c[(size_t) i * ldc + j] = scale != NULL ? shift[j] : 0.0f;
      return;
    }
  for (int jc = 0; jc < n; jc += nstep)
    {
      int nc = MIN (nstep, n - jc);

      for (int pc = 0; pc < k; pc += kstep)
        {
          int kc = MIN (kstep, k - pc);
          gboolean add = pc > 0;
          const float *post = pc + kc >= k ? scale : NULL;

          for (int jr = 0; jr < nc; jr += NR2)
            pan[jr / NR2] = panel_rows_avx2 (bp, k, n, (jc + jr) / NR2, pc, kc, tail);
          for (int ic = 0; ic < m; ic += mstep)
            {
              int mc = MIN (mstep, m - ic);

              if (wide)
                for (int ir = 0; ir < mc; ir += MR)
                  for (int jr = 0; jr < nc; jr += NR2)
                    tile_avx2 (a + (size_t) (ic + ir) * lda + pc, lda, MIN (MR, mc - ir),
                               pan[jr / NR2], kc, c + (size_t) (ic + ir) * ldc + jc + jr, ldc,
                               MIN (NR2, nc - jr), add, 0.0f, post ? post + jc + jr : NULL,
                               post ? shift + jc + jr : NULL);
              else
                for (int jr = 0; jr < nc; jr += NR2)
                  for (int ir = 0; ir < mc; ir += MR)
                    tile_avx2 (a + (size_t) (ic + ir) * lda + pc, lda, MIN (MR, mc - ir),
                               pan[jr / NR2], kc, c + (size_t) (ic + ir) * ldc + jc + jr, ldc,
                               MIN (NR2, nc - jr), add, 0.0f, post ? post + jc + jr : NULL,
                               post ? shift + jc + jr : NULL);
            }
        }
    }
}

/* Panels of B' = W^T for C = A . W^T, W (BK, BN) in panels: columns
 * [j0, j0 + nc) of B' (rows j0.. of W), rows [f0, f0 + kc) of B' (columns
 * f0.. of W), as pack_bt_avx2() makes them. W's panel at a time (16 of its
 * columns, rows j0 .. j0 + nc contiguous there: one stream, where taking
 * W's rows 16 at a time across all its panels measured the product 9-12%
 * slower than on Keras' layout), 8 x 8 blocks transposed in registers;
 * one float at a time where 8 columns of W do not lie in one panel */
__attribute__ ((target ("avx2,fma")))
static void
pack_bt_panels_avx2 (const float *bp, int bk, int bn, int j0, int f0, int kc, int nc, float *p)
{
  int full = bn / NR2, wt = bn - full * NR2;
  int k = 0;

  for (; k + 8 <= kc; k += 8)
    {
      int f = f0 + k, fq = f / NR2;
      size_t stride;
      const float *base;

      if (fq < full)
        base = bp + (size_t) fq * NR2 * bk + f % NR2, stride = NR2;
      else if (f - full * NR2 + 8 <= wt)
        base = bp + (size_t) full * NR2 * bk + (f - full * NR2), stride = wt;
      else
        break;
      /* the next panel's rows, one run of nc lines, fetched meanwhile */
      if (f % NR2 == 0 && fq + 1 < full && k + NR2 < kc)
        for (int j = 0; j < nc; j++)
          _mm_prefetch ((const char *) (bp + (size_t) (fq + 1) * NR2 * bk + (size_t) (j0 + j) * NR2),
                        _MM_HINT_T0);
      for (int j = 0; j < (nc + NR2 - 1) / NR2 * NR2; j += 8)
        {
          float *d = p + (size_t) (j / NR2) * panel_stride (kc, NR2) + (size_t) k * NR2 + j % NR2;

          if (j + 8 <= nc)
            {
              const float *src = base + (size_t) (j0 + j) * stride;
              transpose_8x8_avx2 (src, stride, d);
            }
          else
            for (int r = 0; r < 8; r++)
              for (int q = 0; q < 8; q++)
                d[(size_t) r * NR2 + q] = j + q < nc ? base[(size_t) (j0 + j + q) * stride + r]
                                                     : 0.0f;
        }
    }
  /* the rest, and the zeros past nc in the last panel */
  for (int j = 0; j < nc; j += NR2)
    {
      float *d = p + (size_t) (j / NR2) * panel_stride (kc, NR2);

      for (int kk = k; kk < kc; kk++)
        for (int q = 0; q < NR2; q++)
          d[(size_t) kk * NR2 + q] =
            j + q < nc ? bp[xc_f32_panels_index (bk, bn, j0 + j + q, f0 + kk)] : 0.0f;
    }
}

/**
 * xc_f32_gemm_bt_panels_6x16__avx2:
 * @bp: W (BK, BN) in panels (xc_f32_pack_panels())
 * @j0: the first of C's columns (rows of W) to compute
 *
 * Columns [j0, j0 + n) of C (M, BK) = A (M, BN) . W^T, with k = BN, on one
 * thread: xc_f32_gemm_6x16__avx2() with trans_b on the unpacked W, the
 * same blocks, packing from the panels.
 */
__attribute__ ((target ("avx2,fma")))
void
xc_f32_gemm_bt_panels_6x16__avx2 (const float *a, size_t lda, const float *bp, int bk, int bn,
                                  int j0, float *c, size_t ldc, int m, int n, int k)
{
  gboolean wide = (k > KC || n > NC_AVX2) && (m <= WIDE_M_MAX || n <= NC_WIDE);
  int blocks = wide ? (k + KC_WIDE - 1) / KC_WIDE : (k + KC - 1) / KC;
  int kstep = wide ? MIN (KC_WIDE, ((k + blocks - 1) / blocks + 7) / 8 * 8) : KC;
  int nstep = wide ? NC_WIDE : NC_AVX2, mstep = wide ? m : MC;
  float *p = wide ? packed_wide : packed_b;

  for (int jc = 0; jc < n; jc += nstep)
    {
      int nc = MIN (nstep, n - jc);

      for (int pc = 0; pc < k; pc += kstep)
        {
          int kc = MIN (kstep, k - pc);

          pack_bt_panels_avx2 (bp, bk, bn, j0 + jc, pc, kc, nc, p);
          for (int ic = 0; ic < m; ic += mstep)
            {
              int mc = MIN (mstep, m - ic);

              for (int jr = 0; jr < nc; jr += NR2)
                for (int ir = 0; ir < mc; ir += MR)
                  tile_avx2 (a + (size_t) (ic + ir) * lda + pc, lda, MIN (MR, mc - ir),
                             p + (size_t) (jr / NR2) * panel_stride (kc, NR2), kc,
                             c + (size_t) (ic + ir) * ldc + jc + jr, ldc, MIN (NR2, nc - jr),
                             pc > 0, 0.0f, NULL, NULL);
            }
        }
    }
}

/* ----------------------------------------- convolution in place (AVX2) */

/* The 6 x 16 tile of output positions whose windows start at base[0..6)
 * times the panel p (rows [k0, k0 + kc) of the (KH*KW*C, N) kernel): the
 * position's row of im2col is KH pieces of seg = KW*C contiguous floats of
 * the image, each one image row (rowstride floats) below the last, read
 * where they are. The same multiply-adds in the same order as tile_avx2()
 * on im2col's rows. */
__attribute__ ((target ("avx2,fma")))
static inline void
tile_conv_avx2 (const float *const base[MR], int seg, size_t rowstride, int k0, int kc,
                const float *p, float *c, size_t ldc, int mr, int nr, gboolean add,
                const float *scale, const float *shift, gboolean relu)
{
  __m256 acc[MR][2];
  TILE_6X16_ZERO ();

  for (int k = k0, end = k0 + kc; k < end;)
    {
      int ky = k / seg, kk = k - ky * seg, len = MIN (seg - kk, end - k);
      size_t off = (size_t) ky * rowstride + kk;
      const float *a0 = base[0] + off, *a1 = base[1] + off, *a2 = base[2] + off;
      const float *a3 = base[3] + off, *a4 = base[4] + off, *a5 = base[5] + off;

#pragma GCC unroll 4
      for (int q = 0; q < len; q++)
        TILE_6X16_STEP (q);
      k += len;
    }
  TILE_6X16_COLLECT (acc);
  store_tile_avx2 (acc, c, ldc, mr, nr, add, 0.0f, scale, shift, relu);
}

/**
 * xc_f32_conv_6x16__avx2:
 * @x: one image (H, W, C) row-major, W * C floats a row
 * @b: the kernel as a (KH*KW*C, N) row-major matrix (Keras' layout)
 * @y: the output positions (OH*OW of them) as rows of N floats
 * @i0: first output position to compute (row-major over OH x OW)
 * @i1: one past the last
 *
 * A convolution whose windows never leave the image (no padding) without
 * im2col: the microkernel reads each window's rows in the image, the
 * kernel packed into panels as xc_f32_gemm_6x16__avx2() packs B, in the K
 * blocks of the nest it would take for these N and K (the second nest
 * also where it would take the first for more than WIDE_M_MAX rows). For
 * Xception's convolutions the results equal im2col's bit for bit; in
 * general they differ only in where the sum over K is cut. With @scale,
 * y = y * scale + shift per column; with @relu, y = max (y, 0) after that
 * (a ReLU after the folded BatchNormalization). One thread; callers split
 * the positions.
 */
__attribute__ ((target ("avx2,fma")))
void
xc_f32_conv_6x16__avx2 (const float *x, int w, int c, int kh, int kw, int sh, int sw, int ow,
                        const float *b, int n, float *y, int i0, int i1,
                        const float *scale, const float *shift, gboolean relu)
{
  int k = kh * kw * c, seg = kw * c;
  size_t rowstride = (size_t) w * c;
  gboolean wide = k > KC || n > NC_AVX2;
  int blocks = wide ? (k + KC_WIDE - 1) / KC_WIDE : (k + KC - 1) / KC;
  int kstep = wide ? MIN (KC_WIDE, ((k + blocks - 1) / blocks + 7) / 8 * 8) : KC;
  int nstep = wide ? NC_WIDE : NC_AVX2;
  float *p = wide ? packed_wide : packed_b;

  for (int jc = 0; jc < n; jc += nstep)
    {
      int nc = MIN (nstep, n - jc);

      for (int pc = 0; pc < k; pc += kstep)
        {
          int kc = MIN (kstep, k - pc);
          const float *post = pc + kc >= k ? scale : NULL;

          pack_b_avx2 (b + (size_t) pc * n + jc, n, kc, nc, p);
          for (int ir = i0; ir < i1; ir += MR)
            {
              int mr = MIN (MR, i1 - ir);
              const float *base[MR];

              /* rows past the last repeat it (computed, never stored) */
              for (int r = 0; r < MR; r++)
                {
                  int i = ir + MIN (r, mr - 1), oy = i / ow, ox = i - oy * ow;
                  base[r] = x + ((size_t) oy * sh * w + (size_t) ox * sw) * c;
                }
              for (int jr = 0; jr < nc; jr += NR2)
                tile_conv_avx2 (base, seg, rowstride, pc, kc,
                                p + (size_t) (jr / NR2) * panel_stride (kc, NR2),
                                y + (size_t) ir * n + jc + jr, n, mr, MIN (NR2, nc - jr), pc > 0,
                                post ? post + jc + jr : NULL, post ? shift + jc + jr : NULL,
                                relu && pc + kc >= k);
            }
        }
    }
}

/* --------------------------------------------------------------- AVX-512 */

#define NR5 32

__attribute__ ((target ("avx512f")))
static void
pack_b_avx512 (const float *b, size_t ldb, int kc, int nc, float *p)
{
  int full = nc / NR5 * NR5;

  for (int k = 0; k < kc; k++)
    {
      const float *src = b + (size_t) k * ldb;
      float *dst = p + (size_t) k * NR5;

      for (int j = 0; j < full; j += NR5, dst += panel_stride (kc, NR5))
        {
          _mm512_store_ps (dst, _mm512_loadu_ps (src + j));
          _mm512_store_ps (dst + 16, _mm512_loadu_ps (src + j + 16));
        }
      if (full < nc)
        {
          int q = 0;

          for (; q < nc - full; q++)
            dst[q] = src[full + q];
          for (; q < NR5; q++)
            dst[q] = 0.0f;
        }
    }
}

__attribute__ ((target ("avx512f")))
static inline void
store_tile_avx512 (__m512 acc[MR][2], float *c, size_t ldc, int mr, int nr,
                 gboolean add, float beta, const float *scale, const float *shift)
{
  if (nr == NR5)
    {
      for (int r = 0; r < mr; r++)
        {
          float *cr = c + (size_t) r * ldc;
          __m512 lo = acc[r][0], hi = acc[r][1];

          if (add)
            {
              lo = _mm512_add_ps (lo, _mm512_loadu_ps (cr));
              hi = _mm512_add_ps (hi, _mm512_loadu_ps (cr + 16));
            }
          else if (beta != 0.0f)
            {
              __m512 vb = _mm512_set1_ps (beta);

              lo = _mm512_fmadd_ps (vb, _mm512_loadu_ps (cr), lo);
              hi = _mm512_fmadd_ps (vb, _mm512_loadu_ps (cr + 16), hi);
            }
          if (scale != NULL)
            {
              lo = _mm512_fmadd_ps (lo, _mm512_loadu_ps (scale), _mm512_loadu_ps (shift));
              hi = _mm512_fmadd_ps (hi, _mm512_loadu_ps (scale + 16), _mm512_loadu_ps (shift + 16));
            }
          _mm512_storeu_ps (cr, lo);
          _mm512_storeu_ps (cr + 16, hi);
        }
      return;
    }
  for (int r = 0; r < mr; r++)
    {
      float t[NR5] __attribute__ ((aligned (64)));
      float *cr = c + (size_t) r * ldc;

      _mm512_store_ps (t, acc[r][0]);
      _mm512_store_ps (t + 16, acc[r][1]);
      for (int q = 0; q < nr; q++)
        {
          float v = add ? cr[q] + t[q] : beta != 0.0f ? t[q] + beta * cr[q] : t[q];
          cr[q] = scale != NULL ? v * scale[q] + shift[q] : v;
        }
    }
}

__attribute__ ((target ("avx512f")))
static inline void
tile_avx512 (const float *a, size_t lda, int mr, const float *p, int kc,
             float *c, size_t ldc, int nr, gboolean add, float beta,
             const float *scale, const float *shift)
{
  const float *a0 = a;
  const float *a1 = a + (size_t) MIN (1, mr - 1) * lda;
  const float *a2 = a + (size_t) MIN (2, mr - 1) * lda;
  const float *a3 = a + (size_t) MIN (3, mr - 1) * lda;
  const float *a4 = a + (size_t) MIN (4, mr - 1) * lda;
  const float *a5 = a + (size_t) MIN (5, mr - 1) * lda;
  __m512 c00 = _mm512_setzero_ps (), c01 = _mm512_setzero_ps ();
  __m512 c10 = _mm512_setzero_ps (), c11 = _mm512_setzero_ps ();
  __m512 c20 = _mm512_setzero_ps (), c21 = _mm512_setzero_ps ();
  __m512 c30 = _mm512_setzero_ps (), c31 = _mm512_setzero_ps ();
  __m512 c40 = _mm512_setzero_ps (), c41 = _mm512_setzero_ps ();
  __m512 c50 = _mm512_setzero_ps (), c51 = _mm512_setzero_ps ();
  __m512 acc[MR][2];

  for (int k = 0; k < kc; k++)
    {
      __m512 b0 = _mm512_load_ps (p), b1 = _mm512_load_ps (p + 16), v;

      p += NR5;
      v = _mm512_set1_ps (a0[k]);
      c00 = _mm512_fmadd_ps (v, b0, c00);
      c01 = _mm512_fmadd_ps (v, b1, c01);
      v = _mm512_set1_ps (a1[k]);
      c10 = _mm512_fmadd_ps (v, b0, c10);
      c11 = _mm512_fmadd_ps (v, b1, c11);
      v = _mm512_set1_ps (a2[k]);
      c20 = _mm512_fmadd_ps (v, b0, c20);
      c21 = _mm512_fmadd_ps (v, b1, c21);
      v = _mm512_set1_ps (a3[k]);
      c30 = _mm512_fmadd_ps (v, b0, c30);
      c31 = _mm512_fmadd_ps (v, b1, c31);
      v = _mm512_set1_ps (a4[k]);
      c40 = _mm512_fmadd_ps (v, b0, c40);
      c41 = _mm512_fmadd_ps (v, b1, c41);
      v = _mm512_set1_ps (a5[k]);
      c50 = _mm512_fmadd_ps (v, b0, c50);
      c51 = _mm512_fmadd_ps (v, b1, c51);
    }
  acc[0][0] = c00; acc[0][1] = c01;
  acc[1][0] = c10; acc[1][1] = c11;
  acc[2][0] = c20; acc[2][1] = c21;
  acc[3][0] = c30; acc[3][1] = c31;
  acc[4][0] = c40; acc[4][1] = c41;
  acc[5][0] = c50; acc[5][1] = c51;
  store_tile_avx512 (acc, c, ldc, mr, nr, add, beta, scale, shift);
}

/**
 * xc_f32_gemm_6x32__avx512:
 *
 * As xc_f32_gemm_6x16__avx2(), 32 columns a tile.
 */
__attribute__ ((target ("avx512f")))
void
xc_f32_gemm_6x32__avx512 (const float *a, size_t lda, const float *b, size_t ldb,
                          gboolean trans_b, float *c, size_t ldc, int m, int n, int k,
                          float beta,
    const float *scale, const float *shift)
{
  float *p = packed_b;

  if (k == 0)
    {
      for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
          {
            float v = beta == 0.0f ? 0.0f : beta * c[(size_t) i * ldc + j];
            c[(size_t) i * ldc + j] = scale != NULL ? v * scale[j] + shift[j] : v;
          }
      return;
    }
  for (int jc = 0; jc < n; jc += NC_AVX512)
    {
      int nc = MIN (NC_AVX512, n - jc);

      for (int pc = 0; pc < k; pc += KC)
        {
          int kc = MIN (KC, k - pc);
          gboolean add = pc > 0;
          const float *post = pc + kc >= k ? scale : NULL;

          if (trans_b)
            {
              /* B^T, one float at a time (this build runs only on request) */
              for (int j = 0; j < nc; j += NR5)
                for (int kk = 0; kk < kc; kk++)
                  for (int q = 0; q < NR5; q++)
                    p[(size_t) (j / NR5) * panel_stride (kc, NR5) + (size_t) kk * NR5 + q] =
                      j + q < nc ? b[(size_t) (jc + j + q) * ldb + pc + kk] : 0.0f;
            }
          else
            pack_b_avx512 (b + (size_t) pc * ldb + jc, ldb, kc, nc, p);
          for (int ic = 0; ic < m; ic += MC)
            {
              int mc = MIN (MC, m - ic);

              for (int jr = 0; jr < nc; jr += NR5)
                {
                  const float *panel = p + (size_t) (jr / NR5) * panel_stride (kc, NR5);
                  int nr = MIN (NR5, nc - jr);

                  for (int ir = 0; ir < mc; ir += MR)
                    tile_avx512 (a + (size_t) (ic + ir) * lda + pc, lda, MIN (MR, mc - ir),
                                 panel, kc, c + (size_t) (ic + ir) * ldc + jc + jr, ldc, nr,
                                 add, beta, post ? post + jc + jr : NULL,
                               post ? shift + jc + jr : NULL);
                }
            }
        }
    }
}

#endif /* x86_64 */
