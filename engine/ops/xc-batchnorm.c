/* SPDX-License-Identifier: MIT
 *
 * BatchNormalization at inference: y = gamma (x - mean) / sqrt(var + eps) + beta,
 * folded per channel into y = a x + b (a, b in scratch) before the pass.
 */
#define G_LOG_DOMAIN "xc-batchnorm"

#include <math.h>

#include "xc-ops.h"

XC_VECTORIZE void
xc_batchnorm_forward (const XcOpArgs *args)
{
  const XcNode *node = args->node;
  const XcTensor *x = &args->in[0];
  XcTensor *y = args->out;
  int c = y->c;
  guint p = 0;
  const float *gamma = node->bn_scale ? node->params[p++].data : NULL;
  const float *beta = node->bn_center ? node->params[p++].data : NULL;
  const float *mean = node->params[p++].data;
  const float *var = node->params[p].data;
  float *a = args->scratch, *b = args->scratch + c;
  size_t rows = xc_tensor_size (y) / c;

  for (int i = 0; i < c; i++)
    {
      a[i] = (gamma ? gamma[i] : 1.0f) / sqrtf (var[i] + node->epsilon);
      b[i] = (beta ? beta[i] : 0.0f) - mean[i] * a[i];
    }
#pragma omp parallel for schedule(static) if (rows * c > 65536)
  for (size_t r = 0; r < rows; r++)
    {
      const float *xr = x->data + r * c;
      float *yr = y->data + r * c;
      for (int i = 0; i < c; i++)
        yr[i] = xr[i] * a[i] + b[i];
    }
}

/* Inference-mode BN is the affine map y = a x + b, so dx += a dy */
XC_VECTORIZE void
xc_batchnorm_backward (const XcOpBackArgs *args)
{
  const XcNode *node = args->node;
  const XcTensor *dy = args->dout;
  float *dx = args->din[0].data;
  int c = dy->c;
  guint p = 0;
  const float *gamma = node->bn_scale ? node->params[p++].data : NULL;
  const float *var;
  size_t rows = xc_tensor_size (dy) / c;
  float *a = args->scratch;

  if (dx == NULL)
    return;
  if (node->bn_center)
    p++;
  var = node->params[p + 1].data;
  for (int i = 0; i < c; i++)
    a[i] = (gamma ? gamma[i] : 1.0f) / sqrtf (var[i] + node->epsilon);
  for (size_t r = 0; r < rows; r++)
    {
      const float *g = dy->data + r * c;
      float *d = dx + r * c;
      for (int i = 0; i < c; i++)
        d[i] += g[i] * a[i];
    }
}
