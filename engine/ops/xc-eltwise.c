/* SPDX-License-Identifier: MIT
 *
 * Element-wise layers: Activation/ReLU, Add, Rescaling, and the identities
 * (Dropout at inference, Flatten: NHWC memory is already row-major (H, W, C)).
 */
#define G_LOG_DOMAIN "xc-eltwise"

#include <string.h>

#include "xc-ops.h"
#include "xc-xception.h"

XC_VECTORIZE void
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

XC_VECTORIZE void
xc_add_forward (const XcOpArgs *args)
{
  size_t n = xc_tensor_size (args->out);
  float *y = args->out->data;
  const float *a = args->in[0].data, *b = args->in[1].data;

#pragma omp parallel for schedule(static) if (n > 65536)
  for (size_t i = 0; i < n; i++)
    y[i] = a[i] + b[i];
  for (guint k = 2; k < args->n_in; k++)
    {
      const float *o = args->in[k].data;
      for (size_t i = 0; i < n; i++)
        y[i] += o[i];
    }
}

void
xc_rescaling_forward (const XcOpArgs *args)
{
  size_t n = xc_tensor_size (args->out);
  const float *x = args->in[0].data;
  float *y = args->out->data;

  for (size_t i = 0; i < n; i++)
    y[i] = x[i] * args->node->scale + args->node->offset;
}

void
xc_copy_forward (const XcOpArgs *args)
{
  if (args->out->data != args->in[0].data)
    memcpy (args->out->data, args->in[0].data, xc_tensor_size (args->out) * sizeof (float));
}

void
xc_activation_backward (const XcOpBackArgs *args)
{
  const XcNode *node = args->node;
  const float *x = args->in[0].data, *y = args->out->data, *dy = args->dout->data;
  float *dx = args->din[0].data;
  size_t n = xc_tensor_size (args->out);

  if (dx == NULL)
    return;
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

XC_VECTORIZE void
xc_add_backward (const XcOpBackArgs *args)
{
  size_t n = xc_tensor_size (args->dout);

  for (guint k = 0; k < args->n_in; k++)
    {
      float *dx = args->din[k].data;
      if (dx == NULL)
        continue;
      for (size_t i = 0; i < n; i++)
        dx[i] += args->dout->data[i];
    }
}

void
xc_rescaling_backward (const XcOpBackArgs *args)
{
  size_t n = xc_tensor_size (args->dout);
  float *dx = args->din[0].data;

  if (dx != NULL)
    for (size_t i = 0; i < n; i++)
      dx[i] += args->dout->data[i] * args->node->scale;
}

void
xc_copy_backward (const XcOpBackArgs *args)
{
  size_t n = xc_tensor_size (args->dout);
  float *dx = args->din[0].data;

  if (dx != NULL)
    for (size_t i = 0; i < n; i++)
      dx[i] += args->dout->data[i];
}

/* Dropout: identity at inference; in training, keep with probability
 * 1 - rate and scale by 1 / (1 - rate) (Keras' inverted dropout), the mask
 * drawn from (seed, element) and saved for backward */
void
xc_dropout_forward (const XcOpArgs *args)
{
  size_t n = xc_tensor_size (args->out);
  float rate = args->node->rate;

  if (!args->training || rate <= 0.0f)
    {
      xc_copy_forward (args);
      return;
    }
  for (size_t i = 0; i < n; i++)
    {
      float keep = xc_seeded_uniform (args->seed, 77, i) >= rate ? 1.0f / (1.0f - rate) : 0.0f;
      args->saved[i] = keep;
      args->out->data[i] = args->in[0].data[i] * keep;
    }
}

void
xc_dropout_backward (const XcOpBackArgs *args)
{
  size_t n = xc_tensor_size (args->dout);
  float *dx = args->din[0].data;

  if (!args->training || args->node->rate <= 0.0f)
    {
      xc_copy_backward (args);
      return;
    }
  if (dx != NULL)
    for (size_t i = 0; i < n; i++)
      dx[i] += args->dout->data[i] * args->saved[i];
}
