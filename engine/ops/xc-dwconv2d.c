/* SPDX-License-Identifier: MIT
 *
 * DepthwiseConv2D and SeparableConv2D. The depthwise step is a direct loop
 * with channels innermost (NHWC, so every tap is a contiguous vector of C);
 * output channel c * DM + m reads input channel c, as Keras orders them. The
 * separable convolution runs the depthwise step for the whole batch into
 * scratch, then its 1x1 pointwise step as one sgemm over all N*OH*OW rows.
 * Threads: one OpenMP region per layer, over (image, output row) pairs
 * (never one region per image: waking threads costs more than small rows).
 */
#define G_LOG_DOMAIN "xc-dwconv2d"

#include <string.h>

#include "xc-ops.h"

/* One output row oy of one image: x (H, W, C), k (KH, KW, C, DM), y (OH, OW, C*DM) */
XC_VECTORIZE void
xc_f32_dwconv2d_row_nhwc__ref (const float *x, int h, int w, int c,
                               const float *k, int kh, int kw, int dm,
                               int sh, int sw, int pt, int pl,
                               float *y, int oy, int ow)
{
  int oc = c * dm;

  for (int ox = 0; ox < ow; ox++)
    {
      float *dst = y + ((size_t) oy * ow + ox) * oc;
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
    xc_f32_dwconv2d_row_nhwc__ref (x, h, w, c, k, kh, kw, dm, sh, sw, pt, pl, y, oy, ow);
}

/* The whole batch: y (N, OH, OW, C*DM) */
static void
depthwise_batch (const XcNode *node, const XcTensor *x, float *y, int oh, int ow)
{
  int pt = xc_pad_before (x->h, node->kh, node->sh, node->padding);
  int pl = xc_pad_before (x->w, node->kw, node->sw, node->padding);
  int rows = x->n * oh;
  size_t in_per = (size_t) x->h * x->w * x->c;
  size_t out_per = (size_t) oh * ow * x->c * node->depth_multiplier;

#pragma omp parallel for schedule(static) if (rows > 1 && out_per * x->n > 32768)
  for (int r = 0; r < rows; r++)
    {
      int n = r / oh, oy = r % oh;
      xc_f32_dwconv2d_row_nhwc__ref (x->data + n * in_per, x->h, x->w, x->c,
                                     node->params[0].data, node->kh, node->kw,
                                     node->depth_multiplier, node->sh, node->sw, pt, pl,
                                     y + n * out_per, oy, ow);
    }
}

void
xc_dwconv2d_forward (const XcOpArgs *args)
{
  const XcNode *node = args->node;
  XcTensor *y = args->out;  /* (N, OH, OW, C*DM) */
  size_t rows = (size_t) y->n * y->h * y->w;

  depthwise_batch (node, &args->in[0], y->data, y->h, y->w);
  if (node->use_bias)
    xc_f32_bias_add (y->data, node->params[node->n_params - 1].data, rows, y->c);
  xc_f32_act_inplace (node->act, y->data, rows, y->c);
}

size_t
xc_sepconv2d_scratch (const XcNode *node, const XcNode *in)
{
  /* per image; the plan multiplies by the batch */
  return (size_t) node->h * node->w * in->c * node->depth_multiplier;
}

void
xc_sepconv2d_forward (const XcOpArgs *args)
{
  const XcNode *node = args->node;
  const XcTensor *x = &args->in[0];  /* (N, H, W, C) */
  XcTensor *y = args->out;           /* (N, OH, OW, OC) */
  int mid = x->c * node->depth_multiplier;
  size_t rows = (size_t) y->n * y->h * y->w;

  depthwise_batch (node, x, args->scratch, y->h, y->w);             /* (N, OH, OW, C*DM) */
  xc_f32_gemm (args->scratch, node->params[1].data, y->data, (int) rows, y->c, mid, 0.0f);
  if (node->use_bias)
    xc_f32_bias_add (y->data, node->params[node->n_params - 1].data, rows, y->c);
  xc_f32_act_inplace (node->act, y->data, rows, y->c);
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

/* The batch's input and weight gradients from dmid (N, OH, OW, C*DM). Input
 * gradients: images in parallel (each writes its own dx). Weight gradients:
 * a single pass (summing over images would race) */
static void
depthwise_backward_batch (const XcNode *node, const XcTensor *x, XcTensor *dx, float *dk,
                          const float *dmid, int oh, int ow)
{
  int pt = xc_pad_before (x->h, node->kh, node->sh, node->padding);
  int pl = xc_pad_before (x->w, node->kw, node->sw, node->padding);
  size_t in_per = (size_t) x->h * x->w * x->c;
  size_t out_per = (size_t) oh * ow * x->c * node->depth_multiplier;

  if (dk)
    for (int n = 0; n < x->n; n++)
      xc_f32_dwconv2d_wgrad_nhwc__ref (x->data + n * in_per, x->h, x->w, x->c, dmid + n * out_per,
                                       oh, ow, node->depth_multiplier, node->kh, node->kw,
                                       node->sh, node->sw, pt, pl, dk);
  if (dx->data == NULL)
    return;
#pragma omp parallel for schedule(static) if (x->n > 1 && out_per * x->n > 32768)
  for (int n = 0; n < x->n; n++)
    xc_f32_dwconv2d_backward_nhwc__ref (dmid + n * out_per, oh, ow, node->params[0].data,
                                        node->kh, node->kw, node->depth_multiplier, node->sh,
                                        node->sw, pt, pl, dx->data + n * in_per, x->h, x->w,
                                        x->c);
}

void
xc_dwconv2d_backward (const XcOpBackArgs *args)
{
  const XcNode *node = args->node;
  const XcTensor *y = args->out;
  const float *dz = xc_op_fused_act_backward (args, args->scratch);

  if (args->dparams && node->use_bias)
    xc_f32_bias_grad (dz, args->dparams[node->n_params - 1], (size_t) y->n * y->h * y->w, y->c);
  depthwise_backward_batch (node, &args->in[0], &args->din[0],
                            args->dparams ? args->dparams[0] : NULL, dz, y->h, y->w);
}

/* Over the batch, in one scratch buffer of (N*OH*OW, C*DM): for the weights,
 * the depthwise output d recomputed, dWpw += d^T . dz; then dmid = dz . Wpw^T,
 * and the depthwise step's weight and input gradients from it */
void
xc_sepconv2d_backward (const XcOpBackArgs *args)
{
  const XcNode *node = args->node;
  const XcTensor *x = &args->in[0];
  const XcTensor *y = args->out;
  int mid = x->c * node->depth_multiplier;
  size_t rows = (size_t) y->n * y->h * y->w;
  const float *dz = xc_op_fused_act_backward (args, args->scratch + rows * mid);

  if (args->din[0].data == NULL && args->dparams == NULL)
    return;
  if (args->dparams)
    {
      depthwise_batch (node, x, args->scratch, y->h, y->w);
      xc_f32_gemm_tn (args->scratch, dz, args->dparams[1], mid, y->c, (int) rows, 1.0f);
      if (node->use_bias)
        xc_f32_bias_grad (dz, args->dparams[node->n_params - 1], rows, y->c);
    }
  xc_f32_gemm_nt (dz, node->params[1].data, args->scratch, (int) rows, mid, y->c, 0.0f);
  depthwise_backward_batch (node, x, &args->din[0], args->dparams ? args->dparams[0] : NULL,
                            args->scratch, y->h, y->w);
}
