/* SPDX-License-Identifier: MIT
 *
 * Tensor helpers that are not hot loops: activation statistics.
 */
#define G_LOG_DOMAIN "xc-tensor"

#include <math.h>
#include <string.h>

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

/**
 * xc_top_k:
 * @out: (out caller-allocates) (array length=k): indices, largest value first
 *   (ties: the lower index first)
 *
 * Returns: how many indices were written, MIN (k, n)
 */
int
xc_top_k (const float *values, int n, int k, int *out)
{
  int m = MIN (k, n);

  for (int r = 0; r < m; r++)
    {
      int best = -1;
      for (int i = 0; i < n; i++)
        {
          gboolean used = FALSE;
          for (int j = 0; j < r && !used; j++)
            used = out[j] == i;
          if (!used && (best < 0 || values[i] > values[best]))
            best = i;
        }
      out[r] = best;
    }
  return m;
}

/**
 * xc_format_count:
 *
 * Returns: (transfer full): @v with thousands separated by commas
 */
char *
xc_format_count (guint64 v)
{
  g_autofree char *s = g_strdup_printf ("%" G_GUINT64_FORMAT, v);
  GString *o = g_string_new (NULL);
  size_t n = strlen (s);

  for (size_t i = 0; i < n; i++)
    {
      if (i > 0 && (n - i) % 3 == 0)
        g_string_append_c (o, ',');
      g_string_append_c (o, s[i]);
    }
  return g_string_free (o, FALSE);
}
