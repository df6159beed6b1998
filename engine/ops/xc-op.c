/* SPDX-License-Identifier: MIT
 *
 * Op dispatch, shared kernels (GEMM, bias, activations) and the scratch
 * sizes the plan reserves per node.
 */
#define G_LOG_DOMAIN "xc-op"

#include <math.h>
#include <string.h>
#include <cblas.h>

#include "xc-ops.h"

size_t
xc_op_scratch (const XcNode *node, const XcNode *in, int batch)
{
  switch (node->op)
    {
    case XC_OP_CONV2D:
      return xc_conv2d_scratch (node, in) * batch;
    case XC_OP_SEPCONV2D:
      return xc_sepconv2d_scratch (node, in) * batch;
    case XC_OP_BATCHNORM:
      /* a, b (or mu, s) as floats, then up to four double accumulators */
      return 10 * (size_t) node->c;
    default:
      return 0;
    }
}

/* State a training forward keeps for backward: BN's batch mean and
 * 1/sqrt(var + eps), dropout's mask */
size_t
xc_op_saved_size (const XcNode *node, int batch)
{
  if (node->op == XC_OP_BATCHNORM)
    return 2 * (size_t) node->c;
  if (node->op == XC_OP_DROPOUT)
    return (size_t) batch * node->h * node->w * node->c;
  return 0;
}

/* Backward scratch: the forward's (im2col / depthwise buffers are reused
 * for their gradients) plus one output-sized buffer for the gradient of a
 * fused activation's pre-activation. */
size_t
xc_op_backward_scratch (const XcNode *node, const XcNode *in, int batch)
{
  size_t s = xc_op_scratch (node, in, batch);

  if (node->op == XC_OP_CONV2D || node->op == XC_OP_DWCONV2D || node->op == XC_OP_SEPCONV2D ||
      node->op == XC_OP_DENSE)
    s += (size_t) batch * node->h * node->w * node->c * (node->act == XC_ACT_SWISH ? 2 : 1);
  return s;
}

void
xc_op_backward (const XcOpBackArgs *args)
{
  switch (args->node->op)
    {
    case XC_OP_INPUT:
      break;
    case XC_OP_CONV2D:
      xc_conv2d_backward (args);
      break;
    case XC_OP_DWCONV2D:
      xc_dwconv2d_backward (args);
      break;
    case XC_OP_SEPCONV2D:
      xc_sepconv2d_backward (args);
      break;
    case XC_OP_BATCHNORM:
      xc_batchnorm_backward (args);
      break;
    case XC_OP_ACTIVATION:
      xc_activation_backward (args);
      break;
    case XC_OP_MAXPOOL:
    case XC_OP_AVGPOOL:
      xc_pool2d_backward (args);
      break;
    case XC_OP_GAP:
    case XC_OP_GMP:
      xc_global_pool_backward (args);
      break;
    case XC_OP_ADD:
      xc_add_backward (args);
      break;
    case XC_OP_DENSE:
      xc_dense_backward (args);
      break;
    case XC_OP_FLATTEN:
      xc_copy_backward (args);
      break;
    case XC_OP_DROPOUT:
      xc_dropout_backward (args);
      break;
    case XC_OP_RESCALING:
      xc_rescaling_backward (args);
      break;
    default:
      g_assert_not_reached ();
    }
}

/* The gradient w.r.t. a fused activation's input (the op's pre-activation
 * z), written to dpre (output-sized) unless the activation is linear or the
 * caller already seeded w.r.t. z. Activations whose derivative needs z
 * (swish) recompute z by running the op once more without its activation. */
const float *
xc_op_fused_act_backward (const XcOpBackArgs *args, float *dpre)
{
  const XcNode *node = args->node;
  const XcTensor *y = args->out;
  size_t rows = xc_tensor_size (y) / y->c;

  if (node->act == XC_ACT_LINEAR || args->dout_is_pre)
    return args->dout->data;
  memset (dpre, 0, xc_tensor_size (y) * sizeof (float));
  if (node->act == XC_ACT_SWISH)
    {
      /* z goes right after dpre: xc_op_backward_scratch() reserved it */
      XcNode lin = *node;
      XcTensor z = *y;
      lin.act = XC_ACT_LINEAR;
      z.data = dpre + xc_tensor_size (y);
      xc_op_forward (&(XcOpArgs) { &lin, args->in, args->n_in, &z, args->scratch });
      xc_f32_act_backward (node->act, z.data, y->data, args->dout->data, dpre, rows, y->c,
                           args->guided);
      return dpre;
    }
  xc_f32_act_backward (node->act, NULL, y->data, args->dout->data, dpre, rows, y->c,
                       args->guided);
  return dpre;
}

void
xc_op_forward (const XcOpArgs *args)
{
  switch (args->node->op)
    {
    case XC_OP_INPUT:
      break;
    case XC_OP_CONV2D:
      xc_conv2d_forward (args);
      break;
    case XC_OP_DWCONV2D:
      xc_dwconv2d_forward (args);
      break;
    case XC_OP_SEPCONV2D:
      xc_sepconv2d_forward (args);
      break;
    case XC_OP_BATCHNORM:
      xc_batchnorm_forward (args);
      break;
    case XC_OP_ACTIVATION:
      xc_activation_forward (args);
      break;
    case XC_OP_MAXPOOL:
    case XC_OP_AVGPOOL:
      xc_pool2d_forward (args);
      break;
    case XC_OP_GAP:
    case XC_OP_GMP:
      xc_global_pool_forward (args);
      break;
    case XC_OP_ADD:
      xc_add_forward (args);
      break;
    case XC_OP_DENSE:
      xc_dense_forward (args);
      break;
    case XC_OP_FLATTEN:
      xc_copy_forward (args);
      break;
    case XC_OP_DROPOUT:
      xc_dropout_forward (args);
      break;
    case XC_OP_RESCALING:
      xc_rescaling_forward (args);
      break;
    default:
      g_assert_not_reached ();
    }
}

/* C (M, N) = A (M, K) . B (K, N) + beta C, all row-major and dense */
void
xc_f32_gemm (const float *a, const float *b, float *c, int m, int n, int k, float beta)
{
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k,
               1.0f, a, k, b, n, beta, c, n);
}

/* C (M, N) = A^T . B + beta C, with A (K, M) and B (K, N) row-major: the
 * weight gradient of a layer, inputs^T . output gradients */
void
xc_f32_gemm_tn (const float *a, const float *b, float *c, int m, int n, int k, float beta)
{
  cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, m, n, k,
               1.0f, a, m, b, n, beta, c, n);
}

/* db (C) += the column sums of dz (rows, C) */
void
xc_f32_bias_grad (const float *dz, float *db, size_t rows, int c)
{
  for (size_t r = 0; r < rows; r++)
    for (int i = 0; i < c; i++)
      db[i] += dz[r * c + i];
}

/* C (M, N) = A (M, K) . B^T where B is (N, K) row-major, + beta C */
void
xc_f32_gemm_nt (const float *a, const float *b, float *c, int m, int n, int k, float beta)
{
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k,
               1.0f, a, k, b, k, beta, c, n);
}

/* dx += dy * f'(.) for an activation, from its input x (swish only) or its
 * output y. Derivatives: relu 1[y>0]; relu6 1[0<y<6]; sigmoid y(1-y);
 * tanh 1-y^2; swish s(x)(1 + x(1 - s(x))); softmax y_i (dy_i - sum_j dy_j y_j).
 * Guided backpropagation (Springenberg et al. 2015) also zeroes negative
 * incoming gradients at every ReLU. */
XC_VECTORIZE void
xc_f32_act_backward (XcAct act, const float *x, const float *y, const float *dy, float *dx,
                     size_t rows, int c, gboolean guided)
{
  size_t n = rows * c;

  switch (act)
    {
    case XC_ACT_LINEAR:
      for (size_t i = 0; i < n; i++)
        dx[i] += dy[i];
      break;
    case XC_ACT_RELU:
      for (size_t i = 0; i < n; i++)
        dx[i] += (y[i] > 0.0f && (!guided || dy[i] > 0.0f)) ? dy[i] : 0.0f;
      break;
    case XC_ACT_RELU6:
      for (size_t i = 0; i < n; i++)
        dx[i] += (y[i] > 0.0f && y[i] < 6.0f && (!guided || dy[i] > 0.0f)) ? dy[i] : 0.0f;
      break;
    case XC_ACT_SIGMOID:
      for (size_t i = 0; i < n; i++)
        dx[i] += dy[i] * y[i] * (1.0f - y[i]);
      break;
    case XC_ACT_TANH:
      for (size_t i = 0; i < n; i++)
        dx[i] += dy[i] * (1.0f - y[i] * y[i]);
      break;
    case XC_ACT_SWISH:
      for (size_t i = 0; i < n; i++)
        {
          float s = 1.0f / (1.0f + expf (-x[i]));
          dx[i] += dy[i] * s * (1.0f + x[i] * (1.0f - s));
        }
      break;
    case XC_ACT_SOFTMAX:
      for (size_t r = 0; r < rows; r++)
        {
          const float *yr = y + r * c, *dyr = dy + r * c;
          float *dxr = dx + r * c;
          double dot = 0.0;
          for (int i = 0; i < c; i++)
            dot += (double) dyr[i] * yr[i];
          for (int i = 0; i < c; i++)
            dxr[i] += yr[i] * (float) (dyr[i] - dot);
        }
      break;
    default:
      g_assert_not_reached ();
    }
}

XC_VECTORIZE void
xc_f32_bias_add (float *y, const float *bias, size_t rows, int c)
{
  for (size_t r = 0; r < rows; r++)
    {
      float *row = y + r * c;
      for (int i = 0; i < c; i++)
        row[i] += bias[i];
    }
}

/* Activations in place on rows of c values; softmax normalises each row
 * (the channel axis, as Keras' default axis=-1). */
XC_VECTORIZE void
xc_f32_act_inplace (XcAct act, float *y, size_t rows, int c)
{
  size_t n = rows * c;

  switch (act)
    {
    case XC_ACT_LINEAR:
      break;
    case XC_ACT_RELU:
#pragma omp parallel for schedule(static) if (n > 65536)
      for (size_t i = 0; i < n; i++)
        y[i] = y[i] > 0.0f ? y[i] : 0.0f;
      break;
    case XC_ACT_RELU6:
      for (size_t i = 0; i < n; i++)
        y[i] = y[i] > 0.0f ? (y[i] < 6.0f ? y[i] : 6.0f) : 0.0f;
      break;
    case XC_ACT_SIGMOID:
      for (size_t i = 0; i < n; i++)
        y[i] = 1.0f / (1.0f + expf (-y[i]));
      break;
    case XC_ACT_TANH:
      for (size_t i = 0; i < n; i++)
        y[i] = tanhf (y[i]);
      break;
    case XC_ACT_SWISH:
      for (size_t i = 0; i < n; i++)
        y[i] = y[i] / (1.0f + expf (-y[i]));
      break;
    case XC_ACT_SOFTMAX:
      for (size_t r = 0; r < rows; r++)
        {
          float *row = y + r * c;
          float mx = row[0];
          double sum = 0.0;
          for (int i = 1; i < c; i++)
            mx = MAX (mx, row[i]);
          for (int i = 0; i < c; i++)
            {
              row[i] = expf (row[i] - mx);
              sum += row[i];
            }
          for (int i = 0; i < c; i++)
            row[i] = (float) (row[i] / sum);
        }
      break;
    default:
      g_assert_not_reached ();
    }
}
