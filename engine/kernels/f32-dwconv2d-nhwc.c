/* SPDX-License-Identifier: MIT
 *
 * The depthwise convolution, NHWC with a (KH, KW, C, DM) kernel: a direct
 * loop with channels innermost (every tap is a contiguous vector of C); output
 * channel c * DM + m reads input channel c, as Keras orders them. Forward
 * (by output row and whole), input gradient and kernel gradient.
 */
#define G_LOG_DOMAIN "xc-kernels"

#include <string.h>

#include "xc-kernels.h"

static inline float
relu_if (float v, gboolean relu)
{
  return relu && !(v > 0.0f) ? 0.0f : v;
}

/* One output position ox of row oy, any kernel, every channel */
static inline void
position (const float *x, int h, int w, int c, const float *k, int kh, int kw, int dm,
          int sh, int sw, int pt, int pl, float *dst, int oy, int ox, gboolean relu)
{
  int oc = c * dm;

  memset (dst, 0, sizeof (float) * oc);
  for (int ky = 0; ky < kh; ky++)
    {
      int iy = oy * sh - pt + ky;
      if (iy < 0 || iy >= h)
        continue;
      for (int kx = 0; kx < kw; kx++)
        {
          int ix = ox * sw - pl + kx;
          const float *src, *kk;
          if (ix < 0 || ix >= w)
            continue;
          src = x + ((size_t) iy * w + ix) * c;
          kk = k + ((size_t) ky * kw + kx) * oc;
          if (dm == 1)
            for (int ci = 0; ci < c; ci++)
              dst[ci] += relu_if (src[ci], relu) * kk[ci];
          else
            for (int ci = 0; ci < c; ci++)
              for (int m = 0; m < dm; m++)
                dst[ci * dm + m] += relu_if (src[ci], relu) * kk[ci * dm + m];
        }
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

__attribute__ ((target ("avx2,fma")))
static inline __m256
load_x (const float *p, gboolean relu)
{
  __m256 v = _mm256_loadu_ps (p);
  /* max(v, 0) gives 0 for NaN, as the ReLU layer does */
  return relu ? _mm256_max_ps (v, _mm256_setzero_ps ()) : v;
}

/* From this many floats of input on (4 MB: Xception's entry flow at 299),
 * row_3x3_s1_avx2() fetches the bottom input row ahead: the rows above were
 * read for the output row before, the bottom one comes from memory, and
 * the hardware's prefetchers left the loop waiting on it (147x147x128 alone
 * 3.3 -> 1.9 ms, 60 of 60; block2's separable layers in the network 11.5 ->
 * 11.0 ms, 31 of 40; on 19x19x728, whose input stays in L2, it cost 5%) */
#define PREFETCH_FLOATS ((size_t) 1 << 20)

/* 3x3, one channel each, stride 1 along the row, positions [lo, hi) whose
 * three columns are inside: four positions at a time share the six input
 * columns they read (18 loads, 36 multiply-adds per 8 channels), each kernel
 * row's three weight vectors loaded once for the four. Rows r[ky] with
 * in[ky] FALSE are above or below the image: skipped. Channels past the
 * last 8 go through position(). */
__attribute__ ((target ("avx2,fma")))
static void
row_3x3_s1_avx2 (const float *const r[3], const gboolean in[3], int c, const float *k,
                 int pl, float *yrow, int lo, int hi, gboolean relu, gboolean pf)
{
  int c8 = c / 8 * 8;
  int ox = lo;

  for (; ox + 4 <= hi; ox += 4)
    {
      if (pf && in[2])
        {
          /* the bottom row, eight positions ahead */
          const char *q = (const char *) (r[2] + (size_t) (ox - pl + 8) * c);

          for (size_t j = 0; j < (size_t) 4 * c * sizeof (float); j += 64)
            _mm_prefetch (q + j, _MM_HINT_T0);
        }
      for (int ci = 0; ci < c8; ci += 8)
        {
          __m256 a0 = _mm256_setzero_ps (), a1 = a0, a2 = a0, a3 = a0;

          for (int ky = 0; ky < 3; ky++)
            {
              const float *p = r[ky] + (size_t) (ox - pl) * c + ci;
              const float *kk = k + (size_t) 3 * ky * c + ci;
              __m256 w0, w1, w2, x0, x1, x2, x3, x4, x5;

              if (!in[ky])
                continue;
              w0 = _mm256_loadu_ps (kk);
              w1 = _mm256_loadu_ps (kk + c);
              w2 = _mm256_loadu_ps (kk + 2 * c);
              x0 = load_x (p, relu);
              x1 = load_x (p + c, relu);
              x2 = load_x (p + 2 * (size_t) c, relu);
              x3 = load_x (p + 3 * (size_t) c, relu);
              x4 = load_x (p + 4 * (size_t) c, relu);
              x5 = load_x (p + 5 * (size_t) c, relu);
              a0 = _mm256_fmadd_ps (x0, w0, a0);
              a1 = _mm256_fmadd_ps (x1, w0, a1);
              a2 = _mm256_fmadd_ps (x2, w0, a2);
              a3 = _mm256_fmadd_ps (x3, w0, a3);
              a0 = _mm256_fmadd_ps (x1, w1, a0);
              a1 = _mm256_fmadd_ps (x2, w1, a1);
              a2 = _mm256_fmadd_ps (x3, w1, a2);
              a3 = _mm256_fmadd_ps (x4, w1, a3);
              a0 = _mm256_fmadd_ps (x2, w2, a0);
              a1 = _mm256_fmadd_ps (x3, w2, a1);
              a2 = _mm256_fmadd_ps (x4, w2, a2);
              a3 = _mm256_fmadd_ps (x5, w2, a3);
            }
          _mm256_storeu_ps (yrow + (size_t) ox * c + ci, a0);
          _mm256_storeu_ps (yrow + (size_t) (ox + 1) * c + ci, a1);
          _mm256_storeu_ps (yrow + (size_t) (ox + 2) * c + ci, a2);
          _mm256_storeu_ps (yrow + (size_t) (ox + 3) * c + ci, a3);
        }
    }
  for (; ox < hi; ox++)
    for (int ci = 0; ci < c8; ci += 8)
      {
        __m256 a0 = _mm256_setzero_ps ();

        for (int ky = 0; ky < 3; ky++)
          {
            const float *p = r[ky] + (size_t) (ox - pl) * c + ci;
            const float *kk = k + (size_t) 3 * ky * c + ci;

            if (!in[ky])
              continue;
            a0 = _mm256_fmadd_ps (load_x (p, relu), _mm256_loadu_ps (kk), a0);
            a0 = _mm256_fmadd_ps (load_x (p + c, relu), _mm256_loadu_ps (kk + c), a0);
            a0 = _mm256_fmadd_ps (load_x (p + 2 * (size_t) c, relu),
                                  _mm256_loadu_ps (kk + 2 * c), a0);
          }
        _mm256_storeu_ps (yrow + (size_t) ox * c + ci, a0);
      }
  /* the last c % 8 channels */
  for (ox = lo; ox < hi && c8 < c; ox++)
    for (int ci = c8; ci < c; ci++)
      {
        float acc = 0.0f;
        for (int ky = 0; ky < 3; ky++)
          for (int kx = 0; kx < 3 && in[ky]; kx++)
            acc += relu_if (r[ky][(size_t) (ox - pl + kx) * c + ci], relu) *
                   k[(size_t) (3 * ky + kx) * c + ci];
        yrow[(size_t) ox * c + ci] = acc;
      }
}

static gboolean
have_avx2_fma (void)
{
  static int have = -1;

  if (have < 0)
    {
      __builtin_cpu_init ();
      have = __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma");
    }
  return have;
}
#endif

/* One output row oy of one image: x (H, W, C), k (KH, KW, C, DM), into yrow
 * (OW, C*DM), the row's own start; with @relu, max(x, 0) is what is
 * convolved (a ReLU before the layer, folded in). */
XC_VECTORIZE void
xc_f32_dwconv2d_row_nhwc__ref (const float *x, int h, int w, int c,
                               const float *k, int kh, int kw, int dm,
                               int sh, int sw, int pt, int pl,
                               float *yrow, int oy, int ow, gboolean relu)
{
  int oc = c * dm;
  gboolean rows_inside = oy * sh - pt >= 0 && oy * sh - pt + 3 <= h;

#if defined(__x86_64__) && defined(__GNUC__)
  if (kh == 3 && kw == 3 && dm == 1 && sw == 1 && have_avx2_fma ())
    {
      /* positions whose three columns are inside: ox - pl >= 0, ox - pl + 2 < w */
      int lo = MIN (pl, ow), hi = CLAMP (w - 2 + pl, lo, ow);
      const float *r[3];
      gboolean in[3];

      for (int ky = 0; ky < 3; ky++)
        {
          int iy = oy * sh - pt + ky;
          in[ky] = iy >= 0 && iy < h;
          r[ky] = x + (size_t) CLAMP (iy, 0, h - 1) * w * c;
        }
      row_3x3_s1_avx2 (r, in, c, k, pl, yrow, lo, hi, relu, (size_t) h * w * c >= PREFETCH_FLOATS);
      for (int ox = 0; ox < ow; ox++)
        if (ox < lo || ox >= hi)
          position (x, h, w, c, k, kh, kw, dm, sh, sw, pt, pl, yrow + (size_t) ox * oc, oy, ox,
                    relu);
      return;
    }
#endif
  for (int ox = 0; ox < ow; ox++)
    {
      float *dst = yrow + (size_t) ox * oc;
      int ix0 = ox * sw - pl;

      /* 3x3, one channel each, all taps inside: the nine products of a
       * channel summed in a register (one store instead of nine) */
      if (kh == 3 && kw == 3 && dm == 1 && rows_inside && ix0 >= 0 && ix0 + 3 <= w)
        {
          const float *restrict r0 = x + ((size_t) (oy * sh - pt) * w + ix0) * c;
          const float *restrict r1 = r0 + (size_t) w * c;
          const float *restrict r2 = r1 + (size_t) w * c;
          const float *restrict kk = k;
          float *restrict d = dst;
#pragma omp simd
          for (int ci = 0; ci < c; ci++)
            {
              float acc = relu_if (r0[ci], relu) * kk[ci];
              acc += relu_if (r0[c + ci], relu) * kk[c + ci];
              acc += relu_if (r0[2 * c + ci], relu) * kk[2 * c + ci];
              acc += relu_if (r1[ci], relu) * kk[3 * c + ci];
              acc += relu_if (r1[c + ci], relu) * kk[4 * c + ci];
              acc += relu_if (r1[2 * c + ci], relu) * kk[5 * c + ci];
              acc += relu_if (r2[ci], relu) * kk[6 * c + ci];
              acc += relu_if (r2[c + ci], relu) * kk[7 * c + ci];
              acc += relu_if (r2[2 * c + ci], relu) * kk[8 * c + ci];
              d[ci] = acc;
            }
          continue;
        }
      position (x, h, w, c, k, kh, kw, dm, sh, sw, pt, pl, dst, oy, ox, relu);
    }
}

/* One image, every row: the reference the tests and the explainer call */
void
xc_f32_dwconv2d_nhwc__ref (const float *x, int h, int w, int c,
                           const float *k, int kh, int kw, int dm,
                           int sh, int sw, int pt, int pl,
                           float *y, int oh, int ow)
{
  for (int oy = 0; oy < oh; oy++)
    xc_f32_dwconv2d_row_nhwc__ref (x, h, w, c, k, kh, kw, dm, sh, sw, pt, pl,
                                   y + (size_t) oy * ow * c * dm, oy, ow, FALSE);
}

/* dx (H, W, C) += the adjoint of the depthwise step for one image: each
 * output dy[oy, ox, c*DM + m] flows back to every tap x[iy, ix, c] times
 * k[ky, kx, c, m]; input channels [c0, c1) only (channels are independent:
 * threads may take ranges of them) */
XC_VECTORIZE void
xc_f32_dwconv2d_backward_nhwc__ref (const float *dy, int oh, int ow,
                                    const float *k, int kh, int kw, int dm,
                                    int sh, int sw, int pt, int pl,
                                    float *dx, int h, int w, int c, int c0, int c1)
{
  int oc = c * dm;

  for (int oy = 0; oy < oh; oy++)
    for (int ox = 0; ox < ow; ox++)
      {
        const float *g = dy + ((size_t) oy * ow + ox) * oc;
        for (int ky = 0; ky < kh; ky++)
          {
            int iy = oy * sh - pt + ky;
            if (iy < 0 || iy >= h)
              continue;
            for (int kx = 0; kx < kw; kx++)
              {
                int ix = ox * sw - pl + kx;
                const float *kk;
                float *d;
                if (ix < 0 || ix >= w)
                  continue;
                kk = k + ((size_t) ky * kw + kx) * oc;
                d = dx + ((size_t) iy * w + ix) * c;
                if (dm == 1)
                  for (int ci = c0; ci < c1; ci++)
                    d[ci] += g[ci] * kk[ci];
                else
                  for (int ci = c0; ci < c1; ci++)
                    for (int m = 0; m < dm; m++)
                      d[ci] += g[ci * dm + m] * kk[ci * dm + m];
              }
          }
      }
}

/* The 3x3 kernel k (3, 3, C) turned half a turn: kf[ky][kx] = k[2-ky][2-kx] */
void
xc_f32_dwconv2d_flip_3x3 (const float *k, int c, float *kf)
{
  for (int t = 0; t < 9; t++)
    memcpy (kf + (size_t) t * c, k + (size_t) (8 - t) * c, sizeof (float) * c);
}

/* Rows [iy0, iy1) of dx (H, W, C) += the adjoint of a 3x3, stride 1, one
 * channel each depthwise step, gathered instead of scattered:
 *   dx[iy, ix] = sum dy[iy + pt - ky, ix + pl - kx] k[ky, kx]
 * is the forward's correlation of dy with the kernel turned half a turn
 * (@kf, xc_f32_dwconv2d_flip_3x3()) and paddings 2 - pt, 2 - pl, so the
 * forward's row kernel runs it, each row into @tmp (W * C floats) and then
 * added. Every dx row is written by one call only: threads may take ranges
 * of rows (the scatter form, xc_f32_dwconv2d_backward_nhwc__ref(), writes
 * three rows per dy row). */
XC_VECTORIZE void
xc_f32_dwconv2d_backward_3x3s1_rows (const float *dy, int oh, int ow, const float *kf,
                                     int pt, int pl, float *dx, int h, int w, int c,
                                     int iy0, int iy1, float *tmp)
{
  size_t row = (size_t) w * c;

  (void) h;
  for (int iy = iy0; iy < iy1; iy++)
    {
      float *restrict d = dx + (size_t) iy * row;
      const float *restrict t = tmp;

      xc_f32_dwconv2d_row_nhwc__ref (dy, oh, ow, c, kf, 3, 3, 1, 1, 1, 2 - pt, 2 - pl, tmp, iy,
                                     w, FALSE);
      for (size_t i = 0; i < row; i++)
        d[i] += t[i];
    }
}

/* dk (KH, KW, C, DM) += sum over output positions of x[tap, c] dy[., c*DM + m] */
XC_VECTORIZE void
xc_f32_dwconv2d_wgrad_nhwc__ref (const float *x, int h, int w, int c,
                                 const float *dy, int oh, int ow, int dm,
                                 int kh, int kw, int sh, int sw, int pt, int pl,
                                 float *dk)
{
  int oc = c * dm;

  for (int oy = 0; oy < oh; oy++)
    for (int ox = 0; ox < ow; ox++)
      {
        const float *g = dy + ((size_t) oy * ow + ox) * oc;
        for (int ky = 0; ky < kh; ky++)
          {
            int iy = oy * sh - pt + ky;
            if (iy < 0 || iy >= h)
              continue;
            for (int kx = 0; kx < kw; kx++)
              {
                int ix = ox * sw - pl + kx;
                const float *src;
                float *d;
                if (ix < 0 || ix >= w)
                  continue;
                src = x + ((size_t) iy * w + ix) * c;
                d = dk + ((size_t) ky * kw + kx) * oc;
                if (dm == 1)
                  for (int ci = 0; ci < c; ci++)
                    d[ci] += src[ci] * g[ci];
                else
                  for (int ci = 0; ci < c; ci++)
                    for (int m = 0; m < dm; m++)
                      d[ci * dm + m] += src[ci] * g[ci * dm + m];
              }
          }
      }
}
