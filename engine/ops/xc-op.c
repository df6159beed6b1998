/* SPDX-License-Identifier: MIT
 *
 * Op dispatch, shared kernels (GEMM, bias, activations) and the scratch
 * sizes the plan reserves per node.
 */
#define G_LOG_DOMAIN "xc-op"

#include <math.h>
#include <cblas.h>

#include "xc-ops.h"

size_t
xc_op_scratch (const XcNode *node, const XcNode *in, int batch)
{
  switch (node->op)
    {
    case XC_OP_CONV2D:
      return xc_conv2d_scratch (node, in);
    case XC_OP_SEPCONV2D:
      return xc_sepconv2d_scratch (node, in);
    case XC_OP_BATCHNORM:
      return 2 * (size_t) node->c;
    default:
      return 0;
    }
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
    case XC_OP_DROPOUT:
      xc_copy_forward (args);
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

void
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
void
xc_f32_act_inplace (XcAct act, float *y, size_t rows, int c)
{
  size_t n = rows * c;

  switch (act)
    {
    case XC_ACT_LINEAR:
      break;
    case XC_ACT_RELU:
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
