/* SPDX-License-Identifier: MIT
 *
 * BatchNormalization. Inference: y = gamma (x - mean) / sqrt(var + eps) + beta
 * with the moving statistics, folded per channel into y = a x + b. Training:
 * the batch's mean and biased variance over N*H*W normalise, and the moving
 * statistics follow with Keras' momentum (the variance Bessel-corrected, as
 * TensorFlow's fused kernel and PyTorch do).
 * Backward (Ioffe & Szegedy 2015, eq. in section 3): with x^ = (x - mu) s,
 * s = 1 / sqrt(var + eps), g = dy gamma, over the R = N*H*W rows of a channel:
 *   training  dx = s / R (R g - sum g - x^ sum g x^)
 *   inference dx = g s
 *   dgamma = sum dy x^, dbeta = sum dy.
 */
#define G_LOG_DOMAIN "xc-batchnorm"

#include <math.h>
#include <string.h>

#include "xc-error.h"
#include "xc-ops.h"

typedef struct {
  const float *gamma, *beta;
  float       *mean, *var;    /* moving statistics */
  int          gi, bi;        /* parameter indices of gamma and beta, or -1 */
} BnParams;

static gboolean
xc_batchnorm_infer (XcNode *node, const XcNode *const *inputs, GError **error)
{
  const XcNode *in = inputs[0];

  node->h = in->h, node->w = in->w, node->c = in->c, node->flat = in->flat;
  if (node->bn_scale)
    _xc_node_add_param (node, "gamma", TRUE, 1, node->c, 0, 0, 0);
  if (node->bn_center)
    _xc_node_add_param (node, "beta", TRUE, 1, node->c, 0, 0, 0);
  _xc_node_add_param (node, "moving_mean", FALSE, 1, node->c, 0, 0, 0);
  _xc_node_add_param (node, "moving_variance", FALSE, 1, node->c, 0, 0, 0);
  if (!(node->epsilon > 0.0f))
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: epsilon %g must be positive",
                   node->name, node->epsilon);
      return FALSE;
    }
  return TRUE;
}

/* a, b (or mu, s) as floats, then up to four double accumulators */
static size_t
xc_batchnorm_scratch (const XcNode *node, const XcNode *in, int batch)
{
  return 10 * (size_t) node->c;
}

/* What a training forward keeps for backward: the batch mean and
 * 1/sqrt(var + eps) */
static size_t
xc_batchnorm_saved_size (const XcNode *node, int batch)
{
  return 2 * (size_t) node->c;
}

static BnParams
bn_params (const XcNode *node)
{
  BnParams p = { NULL, NULL, NULL, NULL, -1, -1 };
  guint i = 0;

  if (node->bn_scale)
    p.gi = i, p.gamma = node->params[i++].data;
  if (node->bn_center)
    p.bi = i, p.beta = node->params[i++].data;
  p.mean = node->params[i++].data;
  p.var = node->params[i].data;
  return p;
}

/* Inference: y = x * scale + shift per channel, from the moving statistics */
void
_xc_batchnorm_affine (const XcNode *node, float *scale, float *shift)
{
  BnParams p = bn_params (node);

  for (int i = 0; i < node->c; i++)
    {
      scale[i] = (p.gamma ? p.gamma[i] : 1.0f) / sqrtf (p.var[i] + node->epsilon);
      shift[i] = (p.beta ? p.beta[i] : 0.0f) - p.mean[i] * scale[i];
    }
}

XC_VECTORIZE static void
xc_batchnorm_forward (const XcOpArgs *args)
{
  const XcNode *node = args->node;
  const XcTensor *x = &args->in[0];
  XcTensor *y = args->out;
  int c = y->c;
  BnParams p = bn_params (node);
  float *a = args->scratch, *b = args->scratch + c;
  size_t rows = xc_tensor_size (y) / c;

  if (args->training)
    {
      float *saved_mean = args->saved, *saved_inv = args->saved + c;
      double *sum = (double *) (args->scratch + 2 * c), *sq = sum + c;
      for (int i = 0; i < c; i++)
        sum[i] = sq[i] = 0;
      /* rows split over the threads, each summing into its own copy */
#pragma omp parallel for schedule(static) reduction(+: sum[:c]) if (rows * c > 65536)
      for (size_t r = 0; r < rows; r++)
        for (int i = 0; i < c; i++)
          sum[i] += x->data[r * c + i];
      for (int i = 0; i < c; i++)
        sum[i] /= rows;
#pragma omp parallel for schedule(static) reduction(+: sq[:c]) if (rows * c > 65536)
      for (size_t r = 0; r < rows; r++)
        for (int i = 0; i < c; i++)
          {
            double d = x->data[r * c + i] - sum[i];
            sq[i] += d * d;
          }
      for (int i = 0; i < c; i++)
        {
          double var = sq[i] / rows;
          double unbiased = rows > 1 ? sq[i] / (rows - 1) : var;
          saved_mean[i] = (float) sum[i];
          saved_inv[i] = (float) (1.0 / sqrt (var + node->epsilon));
          a[i] = (p.gamma ? p.gamma[i] : 1.0f) * saved_inv[i];
          b[i] = (p.beta ? p.beta[i] : 0.0f) - saved_mean[i] * a[i];
          p.mean[i] = node->momentum * p.mean[i] + (1.0f - node->momentum) * (float) sum[i];
          p.var[i] = node->momentum * p.var[i] + (1.0f - node->momentum) * (float) unbiased;
        }
    }
  else
    _xc_batchnorm_affine (node, a, b);
#pragma omp parallel for schedule(static) if (rows * c > 65536)
  for (size_t r = 0; r < rows; r++)
    {
      const float *xr = x->data + r * c;
      float *yr = y->data + r * c;
      for (int i = 0; i < c; i++)
        yr[i] = xr[i] * a[i] + b[i];
    }
}

XC_VECTORIZE static void
xc_batchnorm_backward (const XcOpBackArgs *args)
{
  const XcNode *node = args->node;
  const XcTensor *x = &args->in[0];
  const XcTensor *dy = args->dout;
  float *dx = args->din[0].data;
  int c = dy->c;
  BnParams p = bn_params (node);
  size_t rows = xc_tensor_size (dy) / c;
  float *mu = args->scratch, *s = args->scratch + c;
  double *sum_g = (double *) (args->scratch + 2 * c), *sum_gx = sum_g + c;
  double *sum_dy = sum_gx + c, *sum_dyx = sum_dy + c;
  gboolean fresh;

  for (int i = 0; i < c; i++)
    sum_g[i] = sum_gx[i] = sum_dy[i] = sum_dyx[i] = 0;
  for (int i = 0; i < c; i++)
    if (args->training)
      mu[i] = args->saved[i], s[i] = args->saved[c + i];
    else
      mu[i] = p.mean[i], s[i] = 1.0f / sqrtf (p.var[i] + node->epsilon);

  if (args->dparams || args->training)
#pragma omp parallel for schedule(static) reduction(+: sum_dy[:c], sum_dyx[:c]) \
  if (rows * c > 65536)
    for (size_t r = 0; r < rows; r++)
      for (int i = 0; i < c; i++)
        {
          double xh = (x->data[r * c + i] - mu[i]) * s[i];
          double g = dy->data[r * c + i];
          sum_dy[i] += g;
          sum_dyx[i] += g * xh;
        }
  if (args->dparams)
    for (int i = 0; i < c; i++)
      {
        if (p.gi >= 0)
          args->dparams[p.gi][i] += (float) sum_dyx[i];
        if (p.bi >= 0)
          args->dparams[p.bi][i] += (float) sum_dy[i];
      }
  if (dx == NULL)
    return;
  fresh = args->din_fresh && args->din_fresh[0];
  if (args->training)
    {
      if (fresh)
        memset (dx, 0, rows * c * sizeof (float));
      for (int i = 0; i < c; i++)
        {
          double gm = p.gamma ? p.gamma[i] : 1.0;
          sum_g[i] = sum_dy[i] * gm;
          sum_gx[i] = sum_dyx[i] * gm;
        }
#pragma omp parallel for schedule(static) if (rows * c > 65536)
      for (size_t r = 0; r < rows; r++)
        for (int i = 0; i < c; i++)
          {
            double gm = p.gamma ? p.gamma[i] : 1.0;
            double xh = (x->data[r * c + i] - mu[i]) * s[i];
            double g = dy->data[r * c + i] * gm;
            dx[r * c + i] += (float) (s[i] / rows * (rows * g - sum_g[i] - xh * sum_gx[i]));
          }
      return;
    }
  for (int i = 0; i < c; i++)
    s[i] *= p.gamma ? p.gamma[i] : 1.0f;
#pragma omp parallel for schedule(static) if (rows * c > 65536)
  for (size_t r = 0; r < rows; r++)
    {
      const float *g = dy->data + r * c;
      float *d = dx + r * c;
      if (fresh)
        for (int i = 0; i < c; i++)
          d[i] = g[i] * s[i];
      else
        for (int i = 0; i < c; i++)
          d[i] += g[i] * s[i];
    }
}

static const char *const keras_batchnorm[] = { "BatchNormalization", NULL };

const XcOpClass xc_op_batchnorm = {
  .op = XC_OP_BATCHNORM,
  .keras_classes = keras_batchnorm,
  .infer = xc_batchnorm_infer,
  .scratch = xc_batchnorm_scratch,
  .saved_size = xc_batchnorm_saved_size,
  .forward = xc_batchnorm_forward,
  .backward = xc_batchnorm_backward,
  .backward_assigns = TRUE,
};
