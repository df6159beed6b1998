/* SPDX-License-Identifier: MIT
 *
 * Tensor helpers that are not hot loops: activation statistics.
 */
#define G_LOG_DOMAIN "xc-tensor"

#include <math.h>
#include <string.h>

#include "xc-tensor.h"
#include "kernels/xc-kernels.h"

/* Sums of one block of at most STATS_BLOCK values, in float lanes the
 * compiler vectorises; blocks are then added in double */
#define STATS_BLOCK 2048

typedef struct {
  double sum, sum2;
  float  mn, mx;
  size_t zeros;
} Partial;

/* 16 independent lanes: without -ffast-math the compiler may not reorder
 * one float sum, but it vectorises 16 of them (two AVX2 or one AVX-512
 * register each) */
#define LANES 16

XC_VECTORIZE static void
stats_block (const float *x, size_t n, Partial *p)
{
  float sum[LANES] = { 0 }, sum2[LANES] = { 0 }, mn[LANES], mx[LANES];
  int zeros[LANES] = { 0 };
  size_t i = 0;

  for (int k = 0; k < LANES; k++)
    mn[k] = INFINITY, mx[k] = -INFINITY;
  for (; i + LANES <= n; i += LANES)
    for (int k = 0; k < LANES; k++)
      {
        float v = x[i + k];
        sum[k] += v;
        sum2[k] += v * v;
        mn[k] = v < mn[k] ? v : mn[k];
        mx[k] = v > mx[k] ? v : mx[k];
        zeros[k] += v == 0.0f;
      }
  for (int k = 0; i < n; i++, k++)
    {
      float v = x[i];
      sum[k] += v;
      sum2[k] += v * v;
      mn[k] = v < mn[k] ? v : mn[k];
      mx[k] = v > mx[k] ? v : mx[k];
      zeros[k] += v == 0.0f;
    }
  for (int k = 0; k < LANES; k++)
    {
      p->sum += sum[k];
      p->sum2 += sum2[k];
      p->mn = MIN (p->mn, mn[k]);
      p->mx = MAX (p->mx, mx[k]);
      p->zeros += zeros[k];
    }
}

/**
 * xc_tensor_stats:
 * @t: a tensor
 * @stats: (out caller-allocates): min, max, mean, standard deviation, zero fraction
 *
 * Sums blocks of 2048 values in float (vectorised), the blocks in double, so
 * that the figures do not drift with the tensor size; large tensors are
 * split over the threads. Fast enough to run after every layer of a forward
 * pass while its output is still in cache.
 */
void
xc_tensor_stats (const XcTensor *t, XcStats *stats)
{
  size_t n = xc_tensor_size (t);
  size_t blocks = (n + STATS_BLOCK - 1) / STATS_BLOCK;
  Partial total = { 0.0, 0.0, INFINITY, -INFINITY, 0 };

  if (n == 0)
    {
      *stats = (XcStats) { 0 };
      return;
    }
#pragma omp parallel if (n > 262144)
  {
    Partial p = { 0.0, 0.0, INFINITY, -INFINITY, 0 };
#pragma omp for schedule(static)
    for (size_t b = 0; b < blocks; b++)
      stats_block (t->data + b * STATS_BLOCK, MIN (STATS_BLOCK, n - b * STATS_BLOCK), &p);
#pragma omp critical
    {
      total.sum += p.sum;
      total.sum2 += p.sum2;
      total.mn = MIN (total.mn, p.mn);
      total.mx = MAX (total.mx, p.mx);
      total.zeros += p.zeros;
    }
  }
  stats->min = total.mn;
  stats->max = total.mx;
  stats->mean = total.sum / n;
  stats->std = sqrt (MAX (0.0, total.sum2 / n - stats->mean * stats->mean));
  stats->zero_fraction = (double) total.zeros / n;
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
