/* SPDX-License-Identifier: MIT
 *
 * Activation, ReLU and Softmax layers (Keras' ReLU with max_value and
 * negative_slope included): in place when the plan allows, a ReLU in one pass.
 */
#define G_LOG_DOMAIN "xc-activation"

#include <math.h>
#include <string.h>

#include "xc-error.h"
#include "xc-ops.h"

XC_VECTORIZE static void
xc_activation_forward (const XcOpArgs *args)
{
  const XcNode *node = args->node;
  const float *x = args->in[0].data;
  float *y = args->out->data;
  size_t n = xc_tensor_size (args->out);

  if (node->act == XC_ACT_RELU && (node->relu_max > 0.0f || node->relu_slope != 0.0f))
    {
      /* Keras ReLU layer with max_value and negative_slope */
      float mx = node->relu_max > 0.0f ? node->relu_max : G_MAXFLOAT;
      for (size_t i = 0; i < n; i++)
        {
          float v = x[i] >= 0.0f ? x[i] : x[i] * node->relu_slope;
          y[i] = v < mx ? v : mx;
        }
      return;
    }
  if (node->act == XC_ACT_RELU)
    {
      /* one pass instead of a copy and a pass */
#pragma omp parallel for schedule(static) if (n > 65536)
      for (size_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
      return;
    }
  if (y != x)
    memcpy (y, x, n * sizeof (float));
  xc_f32_act_inplace (node->act, y, n / args->out->c, args->out->c);
}

XC_VECTORIZE static void
xc_activation_backward (const XcOpBackArgs *args)
{
  const XcNode *node = args->node;
  const float *x = args->in[0].data, *y = args->out->data, *dy = args->dout->data;
  float *dx = args->din[0].data;
  size_t n = xc_tensor_size (args->out);

  if (dx == NULL)
    return;
  if (args->din_fresh && args->din_fresh[0])
    {
      /* the plan did not zero dx: ReLU (Xception's every activation) and
       * the pass-through write it, over the threads; other activations
       * add to zeros */
      gboolean pass = args->dout_is_pre || node->act == XC_ACT_LINEAR;
      gboolean relu = node->act == XC_ACT_RELU && node->relu_max <= 0.0f &&
                      node->relu_slope == 0.0f;

      /* one loop per case, without branches: a select per element (one
       * loop with both conditions in it took a branch on y's sign, a
       * mispredict every other float: 3x slower) */
      if (pass)
        {
#pragma omp parallel for schedule(static) if (n > 65536)
          for (size_t i = 0; i < n; i++)
            dx[i] = dy[i];
          return;
        }
      if (relu && !args->guided)
        {
#pragma omp parallel for schedule(static) if (n > 65536)
          for (size_t i = 0; i < n; i++)
            dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
          return;
        }
      if (relu)
        {
#pragma omp parallel for schedule(static) if (n > 65536)
          for (size_t i = 0; i < n; i++)
            dx[i] = y[i] > 0.0f && dy[i] > 0.0f ? dy[i] : 0.0f;
          return;
        }
      memset (dx, 0, n * sizeof (float));
    }
  if (args->dout_is_pre)
    {
      /* seeded below the activation: the layer passes the gradient through */
      for (size_t i = 0; i < n; i++)
        dx[i] += dy[i];
      return;
    }
  if (node->act == XC_ACT_RELU && (node->relu_max > 0.0f || node->relu_slope != 0.0f))
    {
      float mx = node->relu_max > 0.0f ? node->relu_max : G_MAXFLOAT;
      for (size_t i = 0; i < n; i++)
        {
          float d = x[i] >= 0.0f ? (x[i] < mx ? 1.0f : 0.0f) : node->relu_slope;
          if (args->guided && dy[i] < 0.0f)
            d = 0.0f;
          dx[i] += dy[i] * d;
        }
      return;
    }
  xc_f32_act_backward (node->act, x, y, dy, dx, n / args->out->c, args->out->c, args->guided);
}

static const char *const keras_activation[] = { "Activation", "ReLU", "Softmax", NULL };

const XcOpClass xc_op_activation = {
  .op = XC_OP_ACTIVATION,
  .keras_classes = keras_activation,
  .infer = _xc_node_same_shape,
  .forward = xc_activation_forward,
  .backward = xc_activation_backward,
  .backward_assigns = TRUE,
};
