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
  out->memory_bytes = model->slab_size * sizeof (float) + xc_plan_arena_bytes (plan);
  return TRUE;
}
