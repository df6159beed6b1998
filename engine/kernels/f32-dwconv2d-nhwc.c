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

/* One output row oy of one image: x (H, W, C), k (KH, KW, C, DM), into yrow
 * (OW, C*DM), the row's own start */
XC_VECTORIZE void
xc_f32_dwconv2d_row_nhwc__ref (const float *x, int h, int w, int c,
                               const float *k, int kh, int kw, int dm,
                               int sh, int sw, int pt, int pl,
                               float *yrow, int oy, int ow)
{
  int oc = c * dm;
  gboolean rows_inside = oy * sh - pt >= 0 && oy * sh - pt + 3 <= h;

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
              float acc = r0[ci] * kk[ci];
              acc += r0[c + ci] * kk[c + ci];
              acc += r0[2 * c + ci] * kk[2 * c + ci];
              acc += r1[ci] * kk[3 * c + ci];
              acc += r1[c + ci] * kk[4 * c + ci];
              acc += r1[2 * c + ci] * kk[5 * c + ci];
              acc += r2[ci] * kk[6 * c + ci];
              acc += r2[c + ci] * kk[7 * c + ci];
              acc += r2[2 * c + ci] * kk[8 * c + ci];
              d[ci] = acc;
            }
          continue;
        }
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
                  dst[ci] += src[ci] * kk[ci];
              else
                for (int ci = 0; ci < c; ci++)
                  for (int m = 0; m < dm; m++)
                    dst[ci * dm + m] += src[ci] * kk[ci * dm + m];
            }
        }
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
                                   y + (size_t) oy * ow * c * dm, oy, ow);
}

/* dx (H, W, C) += the adjoint of the depthwise step for one image: each
 * output dy[oy, ox, c*DM + m] flows back to every tap x[iy, ix, c] times
 * k[ky, kx, c, m] */
XC_VECTORIZE void
xc_f32_dwconv2d_backward_nhwc__ref (const float *dy, int oh, int ow,
                                    const float *k, int kh, int kw, int dm,
                                    int sh, int sw, int pt, int pl,
                                    float *dx, int h, int w, int c)
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
                  for (int ci = 0; ci < c; ci++)
                    d[ci] += g[ci] * kk[ci];
                else
                  for (int ci = 0; ci < c; ci++)
                    for (int m = 0; m < dm; m++)
                      d[ci] += g[ci * dm + m] * kk[ci * dm + m];
              }
          }
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
