/* SPDX-License-Identifier: MIT
 *
 * GlobalAveragePooling2D and GlobalMaxPooling2D: (N, H, W, C) to (N, C),
 * what usually feeds the classifier.
 */
#define G_LOG_DOMAIN "xc-global-pool"

#include <float.h>

#include "xc-error.h"
#include "xc-ops.h"

static gboolean
xc_global_pool_infer (XcNode *node, const XcNode *const *inputs, GError **error)
{
  const XcNode *in = inputs[0];

  if (in->flat)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_SHAPE,
                   "%s: global pooling needs a spatial input, %s is a vector",
                   node->name, in->name);
      return FALSE;
    }
  node->h = node->w = 1, node->c = in->c, node->flat = TRUE;
  return TRUE;
}

static void
xc_global_pool_forward (const XcOpArgs *args)
{
  const XcTensor *x = &args->in[0];  /* (N, H, W, C) */
  XcTensor *y = args->out;           /* (N, C) */
  gboolean is_max = args->node->op == XC_OP_GMP;
  size_t hw = (size_t) x->h * x->w;

  for (int n = 0; n < x->n; n++)
    {
      float *dst = y->data + (size_t) n * x->c;
      const float *src = x->data + (size_t) n * hw * x->c;
      /* accumulate the mean in double (up to 150x150 terms), 64 channels
       * at a time along each position's contiguous row */
      for (int i0 = 0; i0 < x->c; i0 += 64)
        {
          int nc = MIN (64, x->c - i0);
          double acc[64];

          for (int i = 0; i < nc; i++)
            acc[i] = is_max ? -FLT_MAX : 0.0;
          for (size_t p = 0; p < hw; p++)
            {
              const float *v = src + p * x->c + i0;
              if (is_max)
                for (int i = 0; i < nc; i++)
                  acc[i] = MAX (acc[i], v[i]);
              else
                for (int i = 0; i < nc; i++)
                  acc[i] += v[i];
            }
          for (int i = 0; i < nc; i++)
            dst[i0 + i] = (float) (is_max ? acc[i] : acc[i] / hw);
        }
    }
}

/* dz = dy * act'(z); dx += dz . W^T; dW += x^T . dz; db += sum dz */
static void
xc_global_pool_backward (const XcOpBackArgs *args)
{
  const XcTensor *x = &args->in[0];
  const float *dy = args->dout->data;
  float *dx = args->din[0].data;
  size_t hw = (size_t) x->h * x->w;
  gboolean is_max = args->node->op == XC_OP_GMP;

  if (dx == NULL)
    return;
  for (int n = 0; n < x->n; n++)
    {
      const float *src = x->data + (size_t) n * hw * x->c;
      float *dst = dx + (size_t) n * hw * x->c;
      const float *g = dy + (size_t) n * x->c;
      int c = x->c;

      if (is_max)
        {
          /* each channel's first maximum: threads take channels */
#pragma omp parallel for schedule(static) if (hw * c > 65536)
          for (int i = 0; i < c; i++)
            {
              size_t at = 0;
              for (size_t p = 1; p < hw; p++)
                if (src[p * c + i] > src[at * c + i])
                  at = p;
              dst[at * c + i] += g[i];
            }
        }
      else
        {
          /* every position gets the channel's gradient over HW: threads
           * take positions, each a contiguous row of C */
#pragma omp parallel for schedule(static) if (hw * c > 65536)
          for (size_t p = 0; p < hw; p++)
            for (int i = 0; i < c; i++)
              dst[p * c + i] += g[i] / hw;
        }
    }
}

static const char *const keras_gap[] = { "GlobalAveragePooling2D", "GlobalAvgPool2D", NULL };
static const char *const keras_gmp[] = { "GlobalMaxPooling2D", "GlobalMaxPool2D", NULL };

const XcOpClass xc_op_global_avgpool = {
  .op = XC_OP_GAP,
  .keras_classes = keras_gap,
  .infer = xc_global_pool_infer,
  .forward = xc_global_pool_forward,
  .backward = xc_global_pool_backward,
};

const XcOpClass xc_op_global_maxpool = {
  .op = XC_OP_GMP,
  .keras_classes = keras_gmp,
  .infer = xc_global_pool_infer,
  .forward = xc_global_pool_forward,
  .backward = xc_global_pool_backward,
};
