/* SPDX-License-Identifier: MIT
 *
 * MaxPooling2D and AveragePooling2D with TensorFlow's padding: padded
 * positions never win a max and are not counted in an average.
 */
#define G_LOG_DOMAIN "xc-pool2d"

#include <float.h>

#include "xc-error.h"
#include "xc-ops.h"

static gboolean
xc_pool2d_infer (XcNode *node, const XcNode *const *inputs, GError **error)
{
  if (!_xc_node_spatial_out (node, inputs[0], error))
    return FALSE;
  node->c = inputs[0]->c;
  return TRUE;
}

/* The max over a window of one output position, 32 channels at a time in
 * registers: each input tap is read once and dst written once (a running
 * max in dst loaded and stored it at every tap: block2_pool 0.8 ms) */
XC_VECTORIZE static void
max_position (const float *x, int w, int c, int y0, int y1, int x0, int x1, float *dst)
{
  int i0 = 0;

  for (; i0 + 32 <= c; i0 += 32)
    {
      float m[32];

      for (int i = 0; i < 32; i++)
        m[i] = -FLT_MAX;
      for (int iy = y0; iy < y1; iy++)
        for (int ix = x0; ix < x1; ix++)
          {
            const float *src = x + ((size_t) iy * w + ix) * c + i0;
            for (int i = 0; i < 32; i++)
              m[i] = src[i] > m[i] ? src[i] : m[i];
          }
      for (int i = 0; i < 32; i++)
        dst[i0 + i] = m[i];
    }
  for (int i = i0; i < c; i++)
    {
      float m = -FLT_MAX;

      for (int iy = y0; iy < y1; iy++)
        for (int ix = x0; ix < x1; ix++)
          {
            float v = x[((size_t) iy * w + ix) * c + i];
            m = v > m ? v : m;
          }
      dst[i] = m;
    }
}

XC_VECTORIZE static void
xc_pool2d_forward (const XcOpArgs *args)
{
  const XcNode *node = args->node;
  const XcTensor *x = &args->in[0];   /* (N, H, W, C) */
  XcTensor *y = args->out;            /* (N, OH, OW, C) */
  int c = x->c;
  int pt = xc_pad_before (x->h, node->kh, node->sh, node->padding);
  int pl = xc_pad_before (x->w, node->kw, node->sw, node->padding);
  gboolean is_max = node->op == XC_OP_MAXPOOL;

  for (int n = 0; n < y->n; n++)
#pragma omp parallel for schedule(static)
    for (int oy = 0; oy < y->h; oy++)
      for (int ox = 0; ox < y->w; ox++)
        {
          float *dst = y->data + (((size_t) n * y->h + oy) * y->w + ox) * c;
          int y0 = MAX (oy * node->sh - pt, 0), y1 = MIN (oy * node->sh - pt + node->kh, x->h);
          int x0 = MAX (ox * node->sw - pl, 0), x1 = MIN (ox * node->sw - pl + node->kw, x->w);
          if (is_max)
            {
              max_position (x->data + (size_t) n * x->h * x->w * c, x->w, c, y0, y1, x0, x1, dst);
              continue;
            }
          for (int i = 0; i < c; i++)
            dst[i] = 0.0f;
          for (int iy = y0; iy < y1; iy++)
            for (int ix = x0; ix < x1; ix++)
              {
                const float *src = x->data + (((size_t) n * x->h + iy) * x->w + ix) * c;
                for (int i = 0; i < c; i++)
                  dst[i] += src[i];
              }
          {
            float inv = 1.0f / ((y1 - y0) * (x1 - x0));
            for (int i = 0; i < c; i++)
              dst[i] *= inv;
          }
        }
}

/* Max: the gradient goes to the first maximal cell of each window (the
 * forward's choice, recomputed); average: spread evenly over the window's
 * valid cells. */
static void
xc_pool2d_backward (const XcOpBackArgs *args)
{
  const XcNode *node = args->node;
  const XcTensor *x = &args->in[0];
  const XcTensor *dy = args->dout;
  float *dx = args->din[0].data;
  int c = x->c;
  int pt = xc_pad_before (x->h, node->kh, node->sh, node->padding);
  int pl = xc_pad_before (x->w, node->kw, node->sw, node->padding);
  gboolean is_max = node->op == XC_OP_MAXPOOL;

  if (dx == NULL)
    return;
  /* windows overlap, channels do not: threads take blocks of 16 channels */
#pragma omp parallel for schedule(static) if ((size_t) dy->n * dy->h * dy->w * c > 65536)
  for (int cb = 0; cb < (c + 15) / 16; cb++)
  for (int n = 0; n < dy->n; n++)
    for (int oy = 0; oy < dy->h; oy++)
      for (int ox = 0; ox < dy->w; ox++)
        {
          const float *g = dy->data + (((size_t) n * dy->h + oy) * dy->w + ox) * c;
          int y0 = MAX (oy * node->sh - pt, 0), y1 = MIN (oy * node->sh - pt + node->kh, x->h);
          int x0 = MAX (ox * node->sw - pl, 0), x1 = MIN (ox * node->sw - pl + node->kw, x->w);
          int c0 = 16 * cb, c1 = MIN (c, c0 + 16);
          if (is_max)
            for (int i = c0; i < c1; i++)
              {
                float best = -FLT_MAX;
                size_t at = 0;
                for (int iy = y0; iy < y1; iy++)
                  for (int ix = x0; ix < x1; ix++)
                    {
                      size_t off = (((size_t) n * x->h + iy) * x->w + ix) * c + i;
                      if (x->data[off] > best)
                        best = x->data[off], at = off;
                    }
                dx[at] += g[i];
              }
          else
            {
              float inv = 1.0f / ((y1 - y0) * (x1 - x0));
              for (int iy = y0; iy < y1; iy++)
                for (int ix = x0; ix < x1; ix++)
                  {
                    float *d = dx + (((size_t) n * x->h + iy) * x->w + ix) * c;
                    for (int i = c0; i < c1; i++)
                      d[i] += g[i] * inv;
                  }
            }
        }
}

static const char *const keras_maxpool[] = { "MaxPooling2D", "MaxPool2D", NULL };
static const char *const keras_avgpool[] = { "AveragePooling2D", "AvgPool2D", NULL };

const XcOpClass xc_op_maxpool2d = {
  .op = XC_OP_MAXPOOL,
  .keras_classes = keras_maxpool,
  .infer = xc_pool2d_infer,
  .forward = xc_pool2d_forward,
  .backward = xc_pool2d_backward,
};

const XcOpClass xc_op_avgpool2d = {
  .op = XC_OP_AVGPOOL,
  .keras_classes = keras_avgpool,
  .infer = xc_pool2d_infer,
  .forward = xc_pool2d_forward,
  .backward = xc_pool2d_backward,
};
