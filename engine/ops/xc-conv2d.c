/* SPDX-License-Identifier: MIT
 *
 * Conv2D, NHWC with Keras' (KH, KW, C, OC) kernel. A 1x1 stride-1 convolution
 * is one sgemm over all N*H*W rows, with no im2col (as darknet does for size
 * 1); anything else gathers patches per image into scratch (im2col, whose
 * column order ky, kx, c matches the kernel's row-major layout) and runs one
 * sgemm per image. Bias and the fused activation follow.
 */
#define G_LOG_DOMAIN "xc-conv2d"

#include <string.h>

#include "xc-ops.h"

static gboolean
is_pointwise (const XcNode *node)
{
  return node->kh == 1 && node->kw == 1 && node->sh == 1 && node->sw == 1;
}

size_t
xc_conv2d_scratch (const XcNode *node, const XcNode *in)
{
  if (is_pointwise (node))
    return 0;
  return (size_t) node->h * node->w * node->kh * node->kw * in->c;
}

/* col (OH*OW, KH*KW*C): zero where the window leaves the image */
void
xc_f32_im2col_nhwc (const float *x, int h, int w, int c,
                    int kh, int kw, int sh, int sw, int pt, int pl,
                    float *col, int oh, int ow)
{
  size_t row_len = (size_t) kh * kw * c;

  for (int oy = 0; oy < oh; oy++)
    for (int ox = 0; ox < ow; ox++)
      {
        float *dst = col + ((size_t) oy * ow + ox) * row_len;
        for (int ky = 0; ky < kh; ky++)
          {
            int iy = oy * sh - pt + ky;
            for (int kx = 0; kx < kw; kx++)
              {
                int ix = ox * sw - pl + kx;
                float *d = dst + ((size_t) ky * kw + kx) * c;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                  memset (d, 0, sizeof (float) * c);
                else
                  memcpy (d, x + ((size_t) iy * w + ix) * c, sizeof (float) * c);
              }
          }
      }
}

void
xc_conv2d_forward (const XcOpArgs *args)
{
  const XcNode *node = args->node;
  const XcTensor *x = &args->in[0];   /* (N, H, W, C) */
  XcTensor *y = args->out;            /* (N, OH, OW, OC) */
  const float *kernel = node->params[0].data;   /* (KH, KW, C, OC) */
  int pt = xc_pad_before (x->h, node->kh, node->sh, node->padding);
  int pl = xc_pad_before (x->w, node->kw, node->sw, node->padding);
  size_t rows = (size_t) y->h * y->w;

  if (is_pointwise (node))
    xc_f32_gemm (x->data, kernel, y->data, (int) (y->n * rows), y->c, x->c, 0.0f);
  else
    for (int n = 0; n < x->n; n++)
      {
        const float *xn = x->data + (size_t) n * x->h * x->w * x->c;
        float *yn = y->data + (size_t) n * rows * y->c;
        xc_f32_im2col_nhwc (xn, x->h, x->w, x->c, node->kh, node->kw, node->sh, node->sw,
                            pt, pl, args->scratch, y->h, y->w);
        xc_f32_gemm (args->scratch, kernel, yn, (int) rows, y->c,
                     node->kh * node->kw * x->c, 0.0f);
      }
  if (node->use_bias)
    xc_f32_bias_add (y->data, node->params[node->n_params - 1].data, y->n * rows, y->c);
  xc_f32_act_inplace (node->act, y->data, y->n * rows, y->c);
}
