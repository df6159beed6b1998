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
#include <string.h>

#include "xc-timing.h"
#include "xc-random.h"
#include "xc-compare.h"
#include "xc-dataset.h"
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

static gint
by_value (gconstpointer a, gconstpointer b, gpointer data)
{
  const float *v = data;
  float x = v[*(const size_t *) a], y = v[*(const size_t *) b];
  return x < y ? -1 : x > y;
}

/* v's ranks (1-based, ties averaged), and the order that sorts it */
static double *
ranks (const float *v, size_t n, size_t *order)
{
  double *r = g_new (double, n);

  for (size_t i = 0; i < n; i++)
    order[i] = i;
  g_qsort_with_data (order, (gint) n, sizeof (size_t), by_value, (gpointer) v);
  for (size_t i = 0; i < n;)
    {
      size_t j = i;
      while (j + 1 < n && v[order[j + 1]] == v[order[i]])
        j++;
      for (size_t k = i; k <= j; k++)
        r[order[k]] = (i + j) / 2.0 + 1.0;
      i = j + 1;
    }
  return r;
}

/**
 * xc_map_agreement:
 * @top_fraction: the share of cells (0 to 1) whose overlap is measured
 * @rank: (out): Spearman's rank correlation of the two maps
 * @overlap: (out): intersection over union of their top @top_fraction cells
 *
 * Both maps normalised and upsampled to the larger grid first, as in
 * xc_map_correlation().
 */
void
xc_map_agreement (const float *a, int ha, int wa, const float *b, int hb, int wb,
                  double top_fraction, double *rank, double *overlap)
{
  int h = MAX (ha, hb), w = MAX (wa, wb);
  size_t n = (size_t) h * w, k = (size_t) CLAMP (lround (top_fraction * n), 1, (long) n);
  g_autofree float *ua = xc_map_upsample_normalised (a, ha, wa, h, w);
  g_autofree float *ub = xc_map_upsample_normalised (b, hb, wb, h, w);
  g_autofree size_t *oa = g_new (size_t, n), *ob = g_new (size_t, n);
  g_autofree double *ra = ranks (ua, n, oa), *rb = ranks (ub, n, ob);
  g_autofree guint8 *in_a = g_new0 (guint8, n);
  double m = (n + 1) / 2.0, sab = 0, saa = 0, sbb = 0;
  size_t both = 0;

  for (size_t i = 0; i < n; i++)
    {
      double x = ra[i] - m, y = rb[i] - m;
      sab += x * y, saa += x * x, sbb += y * y;
    }
  *rank = saa > 0 && sbb > 0 ? sab / sqrt (saa * sbb) : 0.0;
  /* the top k cells of each: the last k of the ascending orders */
  for (size_t i = n - k; i < n; i++)
    in_a[oa[i]] = 1;
  for (size_t i = n - k; i < n; i++)
    both += in_a[ob[i]];
  *overlap = (double) both / (2 * k - both);
}

/**
 * xc_mcnemar_exact_p:
 * @only_a: images model A got right and B wrong
 * @only_b: the other way round
 *
 * Returns: McNemar's exact two-sided p for the accuracy difference (a
 *   binomial test on the discordant pairs)
 */
double
xc_mcnemar_exact_p (guint only_a, guint only_b)
{
  guint n = only_a + only_b, k = MIN (only_a, only_b);
  double p = 0;

  if (n == 0)
    return 1.0;
  for (guint i = 0; i <= k; i++)
    p += exp (lgamma (n + 1.0) - lgamma (i + 1.0) - lgamma (n - i + 1.0) - n * log (2.0));
  return MIN (1.0, 2 * p);
}

/**
 * xc_calibration:
 * @confidence: (array length=n): each image's top probability
 * @correct: (array length=n): whether the top class was right
 * @bins: equal-width confidence bins over [0, 1]
 * @count: (array fixed-size=bins) (out caller-allocates): images per bin
 * @mean_confidence: (array fixed-size=bins) (out caller-allocates)
 * @accuracy: (array fixed-size=bins) (out caller-allocates)
 *
 * Returns: the expected calibration error, sum over bins of
 *   count/n * |accuracy - mean confidence| (Guo et al. 2017), and fills
 *   the reliability diagram's bins
 */
double
xc_calibration (const float *confidence, const gboolean *correct, int n, int bins, int *count,
                double *mean_confidence, double *accuracy)
{
  double ece = 0;

  for (int b = 0; b < bins; b++)
    count[b] = 0, mean_confidence[b] = accuracy[b] = 0;
  for (int i = 0; i < n; i++)
    {
      int b = CLAMP ((int) ceil (confidence[i] * bins) - 1, 0, bins - 1);
      count[b]++;
      mean_confidence[b] += confidence[i];
      accuracy[b] += correct[i] ? 1 : 0;
    }
  for (int b = 0; b < bins; b++)
    if (count[b] > 0)
      {
        mean_confidence[b] /= count[b];
        accuracy[b] /= count[b];
        ece += (double) count[b] / n * fabs (accuracy[b] - mean_confidence[b]);
      }
  return n > 0 ? ece : 0.0;
}

/**
 * xc_csv_field:
 *
 * Returns: (transfer full): @value as one CSV field: as it is, or quoted
 *   (inner quotes doubled) when it holds a comma, a quote or a line break
 */
char *
xc_csv_field (const char *value)
{
  GString *t;

  if (strpbrk (value, ",\"\n\r") == NULL)
    return g_strdup (value);
  t = g_string_new ("\"");
  for (const char *c = value; *c; c++)
    {
      if (*c == '"')
        g_string_append_c (t, '"');
      g_string_append_c (t, *c);
    }
  g_string_append_c (t, '"');
  return g_string_free (t, FALSE);
}

/* Labels equal when their letters and digits are, case aside: a folder
 * named "T-shirt_top" is the class "T-shirt/top" */
static gboolean
label_equal (const char *a, const char *b)
{
  for (;;)
    {
      while (*a && !g_ascii_isalnum (*a))
        a++;
      while (*b && !g_ascii_isalnum (*b))
        b++;
      if (*a == '\0' || *b == '\0')
        return *a == *b;
      if (g_ascii_tolower (*a) != g_ascii_tolower (*b))
        return FALSE;
      a++, b++;
    }
}

/**
 * xc_dataset_class_in_model:
 * @c: a class of @ds
 *
 * Returns: the class of @model that @ds's class @c is: by label when the
 *   model has labels (letters and digits compared, case aside), else by
 *   index when both have as many classes; -1 when there is none (or @ds has
 *   no labels)
 */
int
xc_dataset_class_in_model (const XcDataset *ds, int c, const XcModel *model)
{
  const XcNode *out = xc_model_node (model, model->output);

  if (ds->unlabelled || c < 0 || c >= ds->n_classes)
    return -1;
  if (model->labels)
    {
      for (int k = 0; k < out->c; k++)
        if (label_equal (xc_model_label (model, k), ds->class_names->pdata[c]))
          return k;
      return -1;
    }
  return ds->n_classes == out->c ? c : -1;
}
