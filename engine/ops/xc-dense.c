/* SPDX-License-Identifier: MIT
 *
 * Dense (one sgemm over the batch, Keras' (C, OC) kernel) and the global
 * poolings that usually feed it.
 */
#define G_LOG_DOMAIN "xc-dense"

#include <float.h>

#include "xc-ops.h"

void
xc_dense_forward (const XcOpArgs *args)
{
  const XcNode *node = args->node;
  const XcTensor *x = &args->in[0];  /* (N, C) */
  XcTensor *y = args->out;           /* (N, OC) */

  xc_f32_gemm (x->data, node->params[0].data, y->data, y->n, y->c, x->c, 0.0f);
  if (node->use_bias)
    xc_f32_bias_add (y->data, node->params[1].data, y->n, y->c);
  xc_f32_act_inplace (node->act, y->data, y->n, y->c);
}

void
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
      /* accumulate the mean in double: up to 150x150 terms */
      for (int i = 0; i < x->c; i++)
        {
          double acc = is_max ? -FLT_MAX : 0.0;
          for (size_t p = 0; p < hw; p++)
            {
              float v = src[p * x->c + i];
              acc = is_max ? MAX (acc, v) : acc + v;
            }
          dst[i] = (float) (is_max ? acc : acc / hw);
        }
    }
}

/* dz = dy * act'(z); dx += dz . W^T; dW += x^T . dz; db += sum dz */
void
xc_dense_backward (const XcOpBackArgs *args)
{
  const XcTensor *x = &args->in[0];
  const XcTensor *y = args->out;
  const float *dz = xc_op_fused_act_backward (args, args->scratch);

  if (args->dparams)
    {
      xc_f32_gemm_tn (x->data, dz, args->dparams[0], x->c, y->c, y->n, 1.0f);
      if (args->node->use_bias)
        xc_f32_bias_grad (dz, args->dparams[1], y->n, y->c);
    }
  if (args->din[0].data != NULL)
    xc_f32_gemm_nt (dz, args->node->params[0].data, args->din[0].data, y->n, x->c, y->c, 1.0f);
}

/* average: dx += dy / (H W) everywhere; max: to the first maximal cell */
void
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
      for (int i = 0; i < x->c; i++)
        {
          if (is_max)
            {
              size_t at = 0;
              for (size_t p = 1; p < hw; p++)
                if (src[p * x->c + i] > src[at * x->c + i])
                  at = p;
              dst[at * x->c + i] += g[i];
            }
          else
            {
              float v = g[i] / hw;
              for (size_t p = 0; p < hw; p++)
                dst[p * x->c + i] += v;
            }
        }
    }
}
