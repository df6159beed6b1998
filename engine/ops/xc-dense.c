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
