/* SPDX-License-Identifier: MIT
 *
 * Activations over (rows, C) in place, and their backward given x or y.
 */
#define G_LOG_DOMAIN "xc-kernels"

#include <math.h>
#include <string.h>

#include "xc-kernels.h"

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
