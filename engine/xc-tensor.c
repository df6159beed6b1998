/* SPDX-License-Identifier: MIT
 *
 * Tensor helpers that are not hot loops: activation statistics.
 */
#define G_LOG_DOMAIN "xc-tensor"

#include <math.h>

#include "xc-tensor.h"

/**
 * xc_tensor_stats:
 * @t: a tensor
 * @stats: (out caller-allocates): min, max, mean, standard deviation, zero fraction
 *
 * Accumulates in double so that the figures do not depend on the tensor size.
 */
void
xc_tensor_stats (const XcTensor *t, XcStats *stats)
{
  size_t n = xc_tensor_size (t);
  double sum = 0.0, sum2 = 0.0;
  double mn = INFINITY, mx = -INFINITY;
  size_t zeros = 0;

  for (size_t i = 0; i < n; i++)
    {
      double v = t->data[i];
      sum += v;
      sum2 += v * v;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
      zeros += (v == 0.0);
    }
  if (n == 0)
    {
      *stats = (XcStats) { 0 };
      return;
    }
  stats->min = mn;
  stats->max = mx;
  stats->mean = sum / n;
  stats->std = sqrt (MAX (0.0, sum2 / n - stats->mean * stats->mean));
  stats->zero_fraction = (double) zeros / n;
}
