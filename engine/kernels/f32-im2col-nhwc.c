/* SPDX-License-Identifier: MIT
 *
 * im2col and its adjoint col2im for NHWC images: one row per output
 * position, columns in (ky, kx, c) order to match a Keras (KH, KW, C, OC)
 * kernel read as a (KH*KW*C, OC) matrix.
 */
#define G_LOG_DOMAIN "xc-kernels"

#include <string.h>

#include "xc-kernels.h"

/* col (OH*OW, KH*KW*C): zero where the window leaves the image */
XC_VECTORIZE void
xc_f32_im2col_nhwc (const float *x, int h, int w, int c,
                    int kh, int kw, int sh, int sw, int pt, int pl,
                    float *col, int oh, int ow)
{
  size_t row_len = (size_t) kh * kw * c;

  for (int oy = 0; oy < oh; oy++)
    for (int ox = 0; ox < ow; ox++)
      {
        float *dst = col + ((size_t) oy * ow + ox) * row_len;
        int ix0 = ox * sw - pl;
        gboolean cols_inside = ix0 >= 0 && ix0 + kw <= w;

        for (int ky = 0; ky < kh; ky++)
          {
            int iy = oy * sh - pt + ky;
            float *restrict d = dst + (size_t) ky * kw * c;

            if (iy >= 0 && iy < h && cols_inside)
              {
                /* the kernel row's KW taps are KW * C contiguous floats of
                 * the input row: one copy (a loop, not memcpy: C is often
                 * a handful of channels) */
                const float *restrict src = x + ((size_t) iy * w + ix0) * c;
                for (size_t i = 0; i < (size_t) kw * c; i++)
                  d[i] = src[i];
                continue;
              }
            for (int kx = 0; kx < kw; kx++)
              {
                int ix = ix0 + kx;
                float *dk = d + (size_t) kx * c;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                  memset (dk, 0, sizeof (float) * c);
                else
                  memcpy (dk, x + ((size_t) iy * w + ix) * c, sizeof (float) * c);
              }
          }
      }
}

/* x (H, W, C) += col (OH*OW, KH*KW*C) scattered back: the adjoint of im2col */
XC_VECTORIZE void
xc_f32_col2im_nhwc (const float *col, int h, int w, int c,
                    int kh, int kw, int sh, int sw, int pt, int pl,
                    float *x, int oh, int ow)
{
  size_t row_len = (size_t) kh * kw * c;

  for (int oy = 0; oy < oh; oy++)
    for (int ox = 0; ox < ow; ox++)
      {
        const float *src = col + ((size_t) oy * ow + ox) * row_len;
        for (int ky = 0; ky < kh; ky++)
          {
            int iy = oy * sh - pt + ky;
            if (iy < 0 || iy >= h)
              continue;
            for (int kx = 0; kx < kw; kx++)
              {
                int ix = ox * sw - pl + kx;
                const float *s = src + ((size_t) ky * kw + kx) * c;
                float *d;
                if (ix < 0 || ix >= w)
                  continue;
                d = x + ((size_t) iy * w + ix) * c;
                for (int i = 0; i < c; i++)
                  d[i] += s[i];
              }
          }
      }
}
