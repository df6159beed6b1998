/* SPDX-License-Identifier: MIT
 *
 * Comparison helpers. Classes of two models are matched by label when both
 * have labels (case-insensitive), else by index when both have as many
 * classes. Two maps are compared by the Pearson correlation of their
 * normalised, upsampled (to the larger grid) versions.
 */
#define G_LOG_DOMAIN "xc-compare"

#include <math.h>
#include <stdlib.h>

#include "xc-timing.h"
#include "xc-random.h"
#include "xc-compare.h"
#include "xc-explain.h"
#include "xc-error.h"
#include "xc-plan.h"

gboolean
xc_compare_match_class (const XcModel *a, int class_a, const XcModel *b, int *class_b)
{
  const XcNode *ob = xc_model_node (b, b->output);
  const char *la = xc_model_label (a, class_a);

  if (la && b->labels)
    {
      for (int c = 0; c < ob->c; c++)
        if (g_ascii_strcasecmp (la, xc_model_label (b, c)) == 0)
          {
            *class_b = c;
            return TRUE;
          }
      return FALSE;
    }
  if (class_a < ob->c && xc_model_node (a, a->output)->c == ob->c)
    {
      *class_b = class_a;
      return TRUE;
    }
  return FALSE;
}

gboolean
xc_compare_same_class (const XcModel *a, int class_a, const XcModel *b, int class_b)
{
  int m;
  return xc_compare_match_class (a, class_a, b, &m) && m == class_b;
}

double
xc_map_correlation (const float *a, int ha, int wa, const float *b, int hb, int wb)
{
  int h = MAX (ha, hb), w = MAX (wa, wb);
  g_autofree float *ua = xc_map_upsample_normalised (a, ha, wa, h, w);
  g_autofree float *ub = xc_map_upsample_normalised (b, hb, wb, h, w);
  double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
  size_t n = (size_t) h * w;

  for (size_t i = 0; i < n; i++)
    ma += ua[i], mb += ub[i];
  ma /= n, mb /= n;
  for (size_t i = 0; i < n; i++)
    {
      double x = ua[i] - ma, y = ub[i] - mb;
      sab += x * y, saa += x * x, sbb += y * y;
    }
  return saa > 0 && sbb > 0 ? sab / sqrt (saa * sbb) : 0.0;
}

/**
 * xc_model_measure_cost:
 *
 * Median forward latency at batch 1 over @runs runs (after a warm-up), and
 * the memory the model needs: its weights and the planned activation arena.
 */
gboolean
xc_model_measure_cost (const XcModel *model, int runs, XcModelCost *out, GError **error)
{
  g_autoptr(XcPlan) plan = xc_plan_new (model, 1, NULL, error);

  if (plan == NULL)
    return FALSE;
  out->latency_ms = xc_plan_time_forward (plan, CLAMP (runs, 1, 1000), 5, NULL);
  out->latency_q1_ms = out->latency_q3_ms = out->latency_ms;
  out->runs = CLAMP (runs, 1, 1000);
  out->memory_bytes = model->slab_size * sizeof (float) + xc_plan_arena_bytes (plan);
  return TRUE;
}

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* The p-quantile of sorted v (linear between neighbours) */
static double
quantile (const double *v, int n, double p)
{
  double at = p * (n - 1);
  int lo = (int) at;
  return lo + 1 < n ? v[lo] + (at - lo) * (v[lo + 1] - v[lo]) : v[lo];
}

/**
 * xc_models_measure_pair:
 * @runs: timed runs of each model (at least 20), after two warm-ups each
 * @out: (array fixed-size=2): A's and B's costs
 *
 * Latencies a comparison can trust: A and B run alternately (A B, B A, A B
 * ...), so that a machine that slows down or speeds up meanwhile slows both
 * alike; the median and the interquartile range of each. Memory as
 * xc_model_measure_cost().
 */
gboolean
xc_models_measure_pair (const XcModel *a, const XcModel *b, int runs, XcModelCost *out,
                        GError **error)
{
  g_autoptr(XcPlan) pa = NULL, pb = NULL;

  if (!(pa = xc_plan_new (a, 1, NULL, error)) || !(pb = xc_plan_new (b, 1, NULL, error)))
    return FALSE;
  xc_plans_time_pair (pa, pb, runs, out);
  out[0].memory_bytes = a->slab_size * sizeof (float) + xc_plan_arena_bytes (pa);
  out[1].memory_bytes = b->slab_size * sizeof (float) + xc_plan_arena_bytes (pb);
  return TRUE;
}

/**
 * xc_plans_time_pair:
 * @out: (array fixed-size=2): the latency fields of A's and B's costs
 *
 * The timing of xc_models_measure_pair() on plans that exist already (their
 * inputs are overwritten with seeded values).
 */
void
xc_plans_time_pair (XcPlan *a, XcPlan *b, int runs, XcModelCost *out)
{
  XcPlan *plan[2] = { a, b };
  g_autofree double *t = NULL;

  runs = CLAMP (runs, 20, 1000);
  t = g_new (double, 2 * (size_t) runs);
  for (int k = 0; k < 2; k++)
    {
      XcTensor in = xc_plan_input (plan[k]);
      for (size_t i = 0; i < xc_tensor_size (&in); i++)
        in.data[i] = 2.0f * xc_seeded_uniform (5, 0, i) - 1.0f;
      xc_plan_run (plan[k], FALSE, NULL, NULL, NULL);
      xc_plan_run (plan[k], FALSE, NULL, NULL, NULL);
    }
  for (int r = 0; r < runs; r++)
    for (int j = 0; j < 2; j++)
      {
        int k = (r % 2) ? 1 - j : j;
        xc_plan_run (plan[k], FALSE, NULL, NULL, NULL);
        t[(size_t) k * runs + r] = xc_plan_total_us (plan[k]) / 1000.0;
      }
  for (int k = 0; k < 2; k++)
    {
      double *v = t + (size_t) k * runs;
      qsort (v, runs, sizeof (double), compare_double);
      out[k].latency_ms = quantile (v, runs, 0.5);
      out[k].latency_q1_ms = quantile (v, runs, 0.25);
      out[k].latency_q3_ms = quantile (v, runs, 0.75);
      out[k].runs = runs;
    }
}
