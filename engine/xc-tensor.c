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

/* y = max(x, 0), 0 for NaN as the ReLU layer gives: its own loop, which
 * the compiler vectorises (a test inside stats_block()'s loop kept that one
 * from being vectorised: 10x slower) */
XC_VECTORIZE static void
relu_block (const float *x, size_t n, float *y)
{
  for (size_t i = 0; i < n; i++)
    y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

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

/* Sums blocks of 2048 values in float (vectorised), the blocks in double, so
 * that the figures do not drift with the tensor size; large tensors are
 * split over the threads. Fast enough to run after every layer of a forward
 * pass while its output is still in cache. */
static void
tensor_stats (const XcTensor *t, gboolean relu, XcStats *stats)
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
      {
        const float *x = t->data + b * STATS_BLOCK;
        size_t len = MIN (STATS_BLOCK, n - b * STATS_BLOCK);
        float y[STATS_BLOCK];

        if (relu)
          relu_block (x, len, y);
        stats_block (relu ? y : x, len, &p);
      }
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
 * xc_tensor_stats:
 * @t: a tensor
 * @stats: (out caller-allocates): min, max, mean, standard deviation, zero fraction
 */
void
xc_tensor_stats (const XcTensor *t, XcStats *stats)
{
  tensor_stats (t, FALSE, stats);
}

/**
 * xc_tensor_relu_stats:
 * @stats: (out caller-allocates): the statistics of max(@t, 0)
 *
 * The statistics a ReLU's output would have, from its input (a ReLU folded
 * into the layer after it is never written), the same sums as
 * xc_tensor_stats() of the ReLU's output.
 */
void
xc_tensor_relu_stats (const XcTensor *t, XcStats *stats)
{
  tensor_stats (t, TRUE, stats);
}

/* x = x * a + b per channel, as xc-batchnorm.c computes it */
XC_VECTORIZE static void
affine_row (float *x, int c, const float *a, const float *b)
{
  for (int i = 0; i < c; i++)
    x[i] = x[i] * a[i] + b[i];
}

/**
 * xc_tensor_affine_stats:
 * @t: a tensor, (rows, C) with C = @t->c
 * @scale: (array): per channel
 * @shift: (array): per channel
 * @before: (out caller-allocates): statistics of @t as it was
 * @after: (out caller-allocates): statistics of @t once transformed
 *
 * t = t * scale + shift per channel in place (an inference
 * BatchNormalization, as xc-batchnorm.c computes it), with the statistics
 * of the tensor before and after, in one pass over it: each piece of at
 * most 2048 values (whole rows, or a wide row's part) is summed, transformed
 * and summed again while it is in L1. Sums as xc_tensor_stats() makes them.
 */
void
xc_tensor_affine_stats (const XcTensor *t, const float *scale, const float *shift,
                        XcStats *before, XcStats *after)
{
  size_t n = xc_tensor_size (t);
  size_t rows = t->c > 0 ? n / t->c : 0;
  Partial total[2] = { { 0.0, 0.0, INFINITY, -INFINITY, 0 }, { 0.0, 0.0, INFINITY, -INFINITY, 0 } };
  XcStats *out[2] = { before, after };

  if (n == 0)
    {
      *before = *after = (XcStats) { 0 };
      return;
    }
#pragma omp parallel if (n > 262144)
  {
    Partial p[2] = { { 0.0, 0.0, INFINITY, -INFINITY, 0 }, { 0.0, 0.0, INFINITY, -INFINITY, 0 } };
    /* pieces of at most STATS_BLOCK values: whole rows (as many as fit),
     * or a wide row's STATS_BLOCK channels at a time */
    size_t per = t->c <= STATS_BLOCK ? STATS_BLOCK / t->c : 1;
    size_t groups = (rows + per - 1) / per;
    int pieces = (t->c + STATS_BLOCK - 1) / STATS_BLOCK;

#pragma omp for schedule(static)
    for (size_t g = 0; g < groups; g++)
      for (int q = 0; q < pieces; q++)
        {
          size_t r0 = g * per, r1 = MIN (rows, r0 + per);
          int c0 = q * STATS_BLOCK, len = MIN (STATS_BLOCK, t->c - c0);
          float *x = t->data + r0 * t->c + c0;

          if (pieces == 1)
            {
              /* whole rows, contiguous */
              stats_block (x, (r1 - r0) * t->c, &p[0]);
              for (size_t r = r0; r < r1; r++)
                affine_row (t->data + r * t->c, t->c, scale, shift);
              stats_block (x, (r1 - r0) * t->c, &p[1]);
            }
          else
            {
              stats_block (x, len, &p[0]);
              affine_row (x, len, scale + c0, shift + c0);
              stats_block (x, len, &p[1]);
            }
        }
#pragma omp critical
    for (int k = 0; k < 2; k++)
      {
        total[k].sum += p[k].sum;
        total[k].sum2 += p[k].sum2;
        total[k].mn = MIN (total[k].mn, p[k].mn);
        total[k].mx = MAX (total[k].mx, p[k].mx);
        total[k].zeros += p[k].zeros;
      }
  }
  for (int k = 0; k < 2; k++)
    {
      out[k]->min = total[k].mn;
      out[k]->max = total[k].mx;
      out[k]->mean = total[k].sum / n;
      out[k]->std = sqrt (MAX (0.0, total[k].sum2 / n - out[k]->mean * out[k]->mean));
      out[k]->zero_fraction = (double) total[k].zeros / n;
    }
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
