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

/* im2col for the whole batch into col (N*OH*OW, KH*KW*C), images in parallel */
static void
im2col_batch (const XcNode *node, const XcTensor *x, int oh, int ow, float *col)
{
  int pt = xc_pad_before (x->h, node->kh, node->sh, node->padding);
  int pl = xc_pad_before (x->w, node->kw, node->sw, node->padding);
  size_t per = (size_t) oh * ow * node->kh * node->kw * x->c;

#pragma omp parallel for schedule(static) if (x->n > 1)
  for (int n = 0; n < x->n; n++)
    xc_f32_im2col_nhwc (x->data + (size_t) n * x->h * x->w * x->c, x->h, x->w, x->c, node->kh,
                        node->kw, node->sh, node->sw, pt, pl, col + n * per, oh, ow);
}

void
xc_conv2d_forward (const XcOpArgs *args)
{
  const XcNode *node = args->node;
  const XcTensor *x = &args->in[0];   /* (N, H, W, C) */
  XcTensor *y = args->out;            /* (N, OH, OW, OC) */
  const float *kernel = node->params[0].data;   /* (KH, KW, C, OC) */
  size_t rows = (size_t) y->n * y->h * y->w;

  if (is_pointwise (node))
    xc_f32_gemm (x->data, kernel, y->data, (int) rows, y->c, x->c, 0.0f);
  else
    {
      im2col_batch (node, x, y->h, y->w, args->scratch);
      xc_f32_gemm (args->scratch, kernel, y->data, (int) rows, y->c,
                   node->kh * node->kw * x->c, 0.0f);
    }
  if (node->use_bias)
    xc_f32_bias_add (y->data, node->params[node->n_params - 1].data, rows, y->c);
  xc_f32_act_inplace (node->act, y->data, rows, y->c);
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

/* y = act(conv(x, W) + b): dz = dy * act'(z); dW += im2col(x)^T . dz;
 * db += sum of dz over positions; dx += col2im(dz . W^T), with W^T the
 * (OC, KH*KW*C) transpose of the row-major kernel. Whole batch per GEMM. */
void
xc_conv2d_backward (const XcOpBackArgs *args)
{
  const XcNode *node = args->node;
  const XcTensor *x = &args->in[0];    /* (N, H, W, C) */
  const XcTensor *y = args->out;       /* (N, OH, OW, OC) */
  XcTensor *dx = &args->din[0];
  const float *kernel = node->params[0].data;   /* (KH, KW, C, OC) */
  size_t rows = (size_t) y->n * y->h * y->w;
  int kdim = node->kh * node->kw * x->c;
  size_t fwd = is_pointwise (node) ? 0 : rows * kdim;
  const float *dz = xc_op_fused_act_backward (args, args->scratch + fwd);
  int pt = xc_pad_before (x->h, node->kh, node->sh, node->padding);
  int pl = xc_pad_before (x->w, node->kw, node->sw, node->padding);
  size_t per = (size_t) y->h * y->w * kdim;

  if (args->dparams)
    {
      if (is_pointwise (node))
        xc_f32_gemm_tn (x->data, dz, args->dparams[0], x->c, y->c, (int) rows, 1.0f);
      else
        {
          im2col_batch (node, x, y->h, y->w, args->scratch);
          xc_f32_gemm_tn (args->scratch, dz, args->dparams[0], kdim, y->c, (int) rows, 1.0f);
        }
      if (node->use_bias)
        xc_f32_bias_grad (dz, args->dparams[node->n_params - 1], rows, y->c);
    }
  if (dx->data == NULL)
    return;
  if (is_pointwise (node))
    {
      xc_f32_gemm_nt (dz, kernel, dx->data, (int) rows, x->c, y->c, 1.0f);
      return;
    }
  xc_f32_gemm_nt (dz, kernel, args->scratch, (int) rows, kdim, y->c, 0.0f);
#pragma omp parallel for schedule(static) if (x->n > 1)
  for (int n = 0; n < x->n; n++)
    xc_f32_col2im_nhwc (args->scratch + n * per, x->h, x->w, x->c, node->kh, node->kw, node->sh,
                        node->sw, pt, pl, dx->data + (size_t) n * x->h * x->w * x->c, y->h, y->w);
}
