/* SPDX-License-Identifier: MIT
 *
 * xception-cli compare's reports of its per-image rows: the summary
 * (agreement; with labels accuracy, confusion, calibration, McNemar's
 * test; with explanations the maps' agreement), as text, JSON and CSV.
 */
#define G_LOG_DOMAIN "xception-cli"

#include <math.h>
#include <string.h>

#include "cli-common.h"
#include "cli-compare.h"

static void
add_prediction (JsonBuilder *b, const XcModel *m, int c, float p)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, m->name);
  xs_cli_add_int (b, "index", c);
  json_builder_set_member_name (b, "label");
  if (xc_model_label (m, c))
    json_builder_add_string_value (b, xc_model_label (m, c));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "probability");
  json_builder_add_double_value (b, p);
  json_builder_end_object (b);
}


void
xs_compare_print_row (XcModel **m, const XsCompareRow *r, gboolean maps)
{
  char ba[32], bb[32];

  g_print ("%s: %s %.1f%% | %s %.1f%%  %s", r->name,
           xc_model_class_name (m[0], r->top[0], ba, sizeof ba), 100 * r->prob[0],
           xc_model_class_name (m[1], r->top[1], bb, sizeof bb), 100 * r->prob[1],
           r->agree ? "agree" : "DISAGREE");
  if (maps)
    g_print (", own-class maps: r %.3f, rank %.3f, top-10%% IoU %.3f", r->own[0], r->own[1],
             r->own[2]);
  g_print ("\n");
}

void
xs_compare_summarise (XcModel **m, const XsCompareRow *rows, int n, const gboolean *labelled,
           const XcDataset *ds, XsCompareSummary *s)
{
  for (int k = 0; k < 2; k++)
    if (labelled[k])
      {
        g_autofree float *conf = g_new (float, MAX (1, n));
        g_autofree gboolean *ok = g_new (gboolean, MAX (1, n));
        int n_out = xc_model_node (m[k], m[k]->output)->c;
        g_autofree int *as_dataset = g_new (int, n_out);   /* model class -> folder class */
        for (int c = 0; c < n_out; c++)
          as_dataset[c] = -1;
        for (int q = 0; q < ds->n_classes; q++)
          as_dataset[xc_dataset_class_in_model (ds, q, m[k])] = q;
        s->confusion[k] = g_new0 (int, (size_t) ds->n_classes * ds->n_classes);
        for (int i = 0; i < n; i++)
          {
            int q = as_dataset[rows[i].top[k]];
            conf[i] = rows[i].prob[k];
            ok[i] = rows[i].correct[k] == 1;
            s->correct[k] += ok[i];
            /* (a prediction outside the folder's classes is in no column) */
            if (q >= 0)
              s->confusion[k][(size_t) rows[i].truth * ds->n_classes + q]++;
          }
        s->ece[k] = xc_calibration (conf, ok, n, XS_COMPARE_ECE_BINS, s->bin_count[k],
                                    s->bin_conf[k],
                                    s->bin_acc[k]);
      }
  for (int i = 0; i < n; i++)
    {
      const XsCompareRow *r = &rows[i];
      s->agree += r->agree;
      s->disagree += !r->agree;
      if (labelled[0] && labelled[1])
        {
          s->only_a += r->correct[0] == 1 && r->correct[1] == 0;
          s->only_b += r->correct[0] == 0 && r->correct[1] == 1;
        }
      for (int q = 0; q < 3; q++)
        s->own_mean[q] += r->own[q] / MAX (1, n);
      if (!isnan (r->common[0]) && r->common_class >= 0)
        {
          s->n_common++;
          for (int q = 0; q < 3; q++)
            s->common_mean[q] += r->common[q];
        }
    }
  for (int q = 0; q < 3; q++)
    s->common_mean[q] = s->n_common ? s->common_mean[q] / s->n_common : NAN;
}

static void
csv_field (GString *t, const char *v)
{
  g_autofree char *f = xc_csv_field (v);
  g_string_append (t, f);
}

/* Every image's row: CSV with a header, written atomically */
gboolean
xs_compare_write_csv (const char *path, XcModel **m, const XsCompareRow *rows, int n, gboolean maps,
           GError **error)
{
  g_autoptr(GString) t = g_string_new ("input,truth,a_class,a_label,a_prob,a_correct,b_class,"
                                       "b_label,b_prob,b_correct,agree");

  if (maps)
    g_string_append (t, ",own_pearson,own_spearman,own_top10_iou,common_class,common_pearson,"
                        "common_spearman,common_top10_iou");
  g_string_append_c (t, '\n');
  for (int i = 0; i < n; i++)
    {
      const XsCompareRow *r = &rows[i];
      csv_field (t, r->name);
      if (r->truth >= 0)
        g_string_append_printf (t, ",%d", r->truth);
      else
        g_string_append (t, ",");
      for (int k = 0; k < 2; k++)
        {
          char buf[32];
          g_string_append_printf (t, ",%d,", r->top[k]);
          csv_field (t, xc_model_class_name (m[k], r->top[k], buf, sizeof buf));
          g_string_append_printf (t, ",%.6f,%s", r->prob[k],
                                  r->correct[k] < 0 ? "" : r->correct[k] ? "1" : "0");
        }
      g_string_append_printf (t, ",%d", r->agree);
      if (maps)
        {
          g_string_append_printf (t, ",%.6f,%.6f,%.6f", r->own[0], r->own[1], r->own[2]);
          if (r->common_class >= 0)
            g_string_append_printf (t, ",%d,%.6f,%.6f,%.6f", r->common_class, r->common[0],
                                    r->common[1], r->common[2]);
          else
            g_string_append (t, ",,,,");
        }
      g_string_append_c (t, '\n');
    }
  return xc_output_write (path, t->str, t->len, error);
}

static void
add_double_or_null (JsonBuilder *b, const char *name, double v)
{
  json_builder_set_member_name (b, name);
  if (isnan (v))
    json_builder_add_null_value (b);
  else
    json_builder_add_double_value (b, v);
}

static void
add_metrics (JsonBuilder *b, const char *name, const double *v)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_object (b);
  add_double_or_null (b, "pearson", v[0]);
  add_double_or_null (b, "spearman", v[1]);
  add_double_or_null (b, "top10_iou", v[2]);
  json_builder_end_object (b);
}

void
xs_compare_json (JsonBuilder *b, XcModel **m, const XcModelCost *cost, const XsCompareRow *rows,
              int n, const gboolean *labelled, const XcDataset *ds, gboolean maps,
              const XsCompareSummary *s)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "models");
  json_builder_begin_array (b);
  for (int k = 0; k < 2; k++)
    {
      guint64 p, macs;
      xc_model_totals (m[k], &p, NULL, &macs, NULL, NULL);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, m[k]->name);
      xs_cli_add_int (b, "params", p);
      xs_cli_add_int (b, "macs", macs);
      json_builder_set_member_name (b, "latency_ms");
      json_builder_add_double_value (b, cost[k].latency_ms);
      json_builder_set_member_name (b, "latency_iqr_ms");
      json_builder_begin_array (b);
      json_builder_add_double_value (b, cost[k].latency_q1_ms);
      json_builder_add_double_value (b, cost[k].latency_q3_ms);
      json_builder_end_array (b);
      xs_cli_add_int (b, "latency_runs", cost[k].runs);
      xs_cli_add_int (b, "memory_bytes", cost[k].memory_bytes);
      if (labelled[k])
        {
          json_builder_set_member_name (b, "accuracy");
          json_builder_add_double_value (b, (double) s->correct[k] / MAX (1, n));
          json_builder_set_member_name (b, "ece");
          json_builder_add_double_value (b, s->ece[k]);
          json_builder_set_member_name (b, "reliability");
          json_builder_begin_array (b);
          for (int q = 0; q < XS_COMPARE_ECE_BINS; q++)
            {
              json_builder_begin_object (b);
              json_builder_set_member_name (b, "confidence_upper");
              json_builder_add_double_value (b, (q + 1.0) / XS_COMPARE_ECE_BINS);
              xs_cli_add_int (b, "count", s->bin_count[k][q]);
              json_builder_set_member_name (b, "mean_confidence");
              json_builder_add_double_value (b, s->bin_conf[k][q]);
              json_builder_set_member_name (b, "accuracy");
              json_builder_add_double_value (b, s->bin_acc[k][q]);
              json_builder_end_object (b);
            }
          json_builder_end_array (b);
          json_builder_set_member_name (b, "confusion");
          json_builder_begin_array (b);
          for (int t = 0; t < ds->n_classes; t++)
            {
              json_builder_begin_array (b);
              for (int q = 0; q < ds->n_classes; q++)
                json_builder_add_int_value (b, s->confusion[k][(size_t) t * ds->n_classes + q]);
              json_builder_end_array (b);
            }
          json_builder_end_array (b);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "results");
  json_builder_begin_array (b);
  for (int i = 0; i < n; i++)
    {
      const XsCompareRow *r = &rows[i];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "input");
      json_builder_add_string_value (b, r->name);
      if (r->truth >= 0)
        xs_cli_add_int (b, "truth", r->truth);
      json_builder_set_member_name (b, "predictions");
      json_builder_begin_array (b);
      for (int k = 0; k < 2; k++)
        add_prediction (b, m[k], r->top[k], r->prob[k]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "agree");
      json_builder_add_boolean_value (b, r->agree);
      if (maps)
        {
          add_metrics (b, "own_class_maps", r->own);
          json_builder_set_member_name (b, "common_class");
          json_builder_add_int_value (b, r->common_class);
          add_metrics (b, "common_class_maps", r->common);
          /* kept for older readers: the own-class Pearson correlation */
          json_builder_set_member_name (b, "explanation_correlation");
          json_builder_add_double_value (b, r->own[0]);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  xs_cli_add_int (b, "images", n);
  json_builder_set_member_name (b, "labelled");
  json_builder_add_boolean_value (b, labelled[0] || labelled[1]);
  json_builder_set_member_name (b, "agreement");
  json_builder_add_double_value (b, n ? (double) s->agree / n : 0.0);
  if (labelled[0] && labelled[1])
    {
      json_builder_set_member_name (b, "accuracy");
      json_builder_begin_array (b);
      json_builder_add_double_value (b, (double) s->correct[0] / MAX (1, n));
      json_builder_add_double_value (b, (double) s->correct[1] / MAX (1, n));
      json_builder_end_array (b);
      json_builder_set_member_name (b, "mcnemar");
      json_builder_begin_object (b);
      xs_cli_add_int (b, "only_a_right", s->only_a);
      xs_cli_add_int (b, "only_b_right", s->only_b);
      json_builder_set_member_name (b, "p");
      json_builder_add_double_value (b, xc_mcnemar_exact_p (s->only_a, s->only_b));
      json_builder_end_object (b);
    }
  if (maps)
    {
      add_metrics (b, "own_class_maps_mean", s->own_mean);
      add_metrics (b, "common_class_maps_mean", s->common_mean);
    }
  json_builder_set_member_name (b, "disagreements");
  json_builder_begin_array (b);
  for (int i = 0; i < n; i++)
    if (!rows[i].agree)
      json_builder_add_string_value (b, rows[i].name);
  json_builder_end_array (b);
  json_builder_end_object (b);
}

void
xs_compare_print_summary (XcModel **m, const XcModelCost *cost, int n, const gboolean *labelled,
               const XcDataset *ds, gboolean maps, const XsCompareSummary *s)
{
  for (int k = 0; k < 2; k++)
    {
      guint64 p, macs;
      g_autofree char *ps = NULL, *ms = NULL;
      xc_model_totals (m[k], &p, NULL, &macs, NULL, NULL);
      ps = xc_format_count (p), ms = xc_format_count (macs);
      g_print ("%c: %s — %s params, %s MACs, %.2f ms (IQR %.2f-%.2f, %d alternating runs), "
               "%.1f MB", 'A' + k, m[k]->name, ps, ms, cost[k].latency_ms,
               cost[k].latency_q1_ms, cost[k].latency_q3_ms, cost[k].runs,
               cost[k].memory_bytes / 1048576.0);
      if (labelled[k])
        g_print (", accuracy %.2f%%, expected calibration error %.3f",
                 100.0 * s->correct[k] / MAX (1, n), s->ece[k]);
      g_print ("\n");
      if (labelled[k] && ds->n_classes <= 20)
        {
          g_print ("   confusion (rows: truth, columns: %c's prediction, in the dataset's class "
                   "order)\n", 'A' + k);
          for (int t = 0; t < ds->n_classes; t++)
            {
              g_print ("   %-14.14s", (const char *) ds->class_names->pdata[t]);
              for (int q = 0; q < ds->n_classes; q++)
                g_print (" %5d", s->confusion[k][(size_t) t * ds->n_classes + q]);
              g_print ("\n");
            }
        }
    }
  g_print ("agreement %.2f%% on %d images (%d disagreements)%s\n", n ? 100.0 * s->agree / n : 0.0,
           n, s->disagree, ds && ds->unlabelled ? "; no labels: no accuracy" : "");
  if (labelled[0] && labelled[1])
    g_print ("McNemar: %u images only A got right, %u only B; exact p = %.4g\n", s->only_a,
             s->only_b, xc_mcnemar_exact_p (s->only_a, s->only_b));
  if (maps)
    {
      g_print ("maps for each model's own top class: Pearson %.3f, rank %.3f, top-10%% IoU %.3f "
               "(means)\n", s->own_mean[0], s->own_mean[1], s->own_mean[2]);
      if (s->n_common)
        g_print ("maps for A's top class in both (%d images): Pearson %.3f, rank %.3f, top-10%% "
                 "IoU %.3f (means)\n", s->n_common, s->common_mean[0], s->common_mean[1],
                 s->common_mean[2]);
    }
}

