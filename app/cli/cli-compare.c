/* SPDX-License-Identifier: MIT
 *
 * xception-cli compare: two models on the same images or dataset: agreement, accuracy, costs, explanations.
 */
#define G_LOG_DOMAIN "xception-cli"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <locale.h>
#include <string.h>
#include <sys/resource.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "xc.h"
#include "cli-common.h"
#include "cli-shard.h"

static int
argmax (const float *p, int n)
{
  int top;
  xc_top_k (p, n, 1, &top);
  return top;
}

/* One image's input for a model, from a file or from a dataset entry */
static gboolean
input_for (const XcModel *model, const char *path, const XcDataset *ds, int index, float *dst,
           GError **error)
{
  if (ds)
    {
      xc_dataset_fill (ds, &index, 1, model, NULL, 0, dst);
      return TRUE;
    }
  else
    {
      g_autoptr(XcImage) img = xs_cli_load_image (path, error);
      return img && xc_image_to_input (img, model, dst, error);
    }
}

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

/* One shard of a dataset comparison, one record per image (cli-shard.c) */
static int
compare_shard (XcModel **m, XcPlan **plan, const XcDataset *ds, const char *spec,
               const char *out_dir, guint index, guint count)
{
  g_autoptr(GArray) mine = NULL;
  g_autoptr(GPtrArray) ids = NULL;
  g_autoptr(JsonNode) header = NULL;
  g_autoptr(XsShard) shard = NULL;
  XsProgress progress = { "compare" };
  gboolean labelled[2];
  GError *error = NULL;
  guint before, done = 0;

  for (int k = 0; k < 2; k++)
    labelled[k] = ds->n_classes == xc_model_node (m[k], m[k]->output)->c;
  mine = xs_shard_select (ds, index, count);
  ids = xs_shard_ids (ds, mine);
  {
    g_autofree char *both = g_strdup_printf ("%s | %s", m[0]->name, m[1]->name);
    header = xs_shard_header ("compare", both, spec, index, count, ids);
  }
  if (!(shard = xs_shard_open (out_dir, "compare", index, count, header, &error)))
    return xs_cli_fail (error);
  before = g_hash_table_size (shard->done);
  for (guint k = 0; k < mine->len; k++)
    {
      int i = g_array_index (mine, int, k), top[2];
      const char *id = ds->ids->pdata[i];
      g_autoptr(JsonBuilder) rb = NULL;
      g_autofree char *hash = NULL;

      if (xs_shard_is_done (shard, id))
        continue;
      rb = json_builder_new ();
      hash = xc_dataset_image_hash (ds, i);
      json_builder_begin_object (rb);
      json_builder_set_member_name (rb, "id");
      json_builder_add_string_value (rb, id);
      json_builder_set_member_name (rb, "sha256");
      json_builder_add_string_value (rb, hash);
      json_builder_set_member_name (rb, "label");
      if (ds->unlabelled)
        json_builder_add_null_value (rb);
      else
        json_builder_add_int_value (rb, ds->labels[i]);
      for (int j = 0; j < 2; j++)
        {
          XcTensor out;
          xc_dataset_fill (ds, &i, 1, m[j], NULL, 0, xc_plan_input (plan[j]).data);
          xc_plan_run (plan[j], FALSE, NULL, NULL, NULL);
          xc_plan_output (plan[j], m[j]->output, &out);
          top[j] = argmax (out.data, out.c);
          json_builder_set_member_name (rb, j ? "b" : "a");
          json_builder_begin_object (rb);
          json_builder_set_member_name (rb, "pred");
          json_builder_add_int_value (rb, top[j]);
          json_builder_set_member_name (rb, "prob");
          json_builder_add_double_value (rb, out.data[top[j]]);
          json_builder_set_member_name (rb, "correct");
          if (labelled[j])
            json_builder_add_boolean_value (rb, top[j] == ds->labels[i]);
          else
            json_builder_add_null_value (rb);
          json_builder_end_object (rb);
        }
      json_builder_set_member_name (rb, "agree");
      json_builder_add_boolean_value (rb, xc_compare_same_class (m[0], top[0], m[1], top[1]));
      json_builder_end_object (rb);
      if (!xs_shard_add (shard, rb, &progress, &done, mine->len - before, &error))
        return xs_cli_fail (error);
    }
  return xs_shard_end (shard, "compare", "images", mine->len, done, before);
}

#define TOP_FRACTION 0.1   /* the overlap of the maps' top 10% cells */
#define ECE_BINS 10

/* One image of a comparison */
typedef struct {
  char    *name;
  int      truth;                  /* -1 without labels */
  int      top[2];
  float    prob[2];
  int      correct[2];             /* 1, 0, or -1 when that model has no labels here */
  gboolean agree;
  /* with --method: A's and B's maps for their own top classes, then A's
   * map and B's for A's top class (matched by label in B; -1: none) */
  double   own[3];                 /* Pearson, Spearman, top-10% IoU */
  int      common_class;
  double   common[3];
} CompareRow;

typedef struct {
  int      agree, disagree;
  int      correct[2];
  guint    only_a, only_b;         /* McNemar's discordant pairs */
  double   ece[2];
  int      bin_count[2][ECE_BINS];
  double   bin_conf[2][ECE_BINS], bin_acc[2][ECE_BINS];
  int     *confusion[2];           /* (classes, classes): truth row, prediction column */
  double   own_mean[3], common_mean[3];
  int      n_common;
} CompareSummary;

static XcExplanation *
explain_one (XcExplainer *ex, XcMethod method, int cls, GError **error)
{
  XcExplainOptions o;

  xc_explain_options_init (&o);
  o.method = method;
  o.target_class = cls;
  return xc_explainer_run (ex, &o, NULL, NULL, error);
}

static void
map_metrics (const XcExplanation *a, const XcExplanation *b, double *out)
{
  out[0] = xc_map_correlation (a->map, a->map_h, a->map_w, b->map, b->map_h, b->map_w);
  xc_map_agreement (a->map, a->map_h, a->map_w, b->map, b->map_h, b->map_w, TOP_FRACTION,
                    &out[1], &out[2]);
}

/* Both models' explanations for their own top classes and for model A's
 * top class; the inputs are already in the plans */
static gboolean
explain_pair (XcModel **m, XcPlan **plan, XcExplainer **ex, XcMethod method, CompareRow *r,
              GError **error)
{
  g_autoptr(XcExplanation) ea = NULL, eb = NULL, ebc = NULL;
  int cls_b;

  for (int k = 0; k < 2; k++)
    if (!xc_explainer_set_input (ex[k], xc_plan_input (plan[k]).data, error))
      return FALSE;
  if (!(ea = explain_one (ex[0], method, r->top[0], error)) ||
      !(eb = explain_one (ex[1], method, r->top[1], error)))
    return FALSE;
  map_metrics (ea, eb, r->own);
  r->common_class = xc_compare_match_class (m[0], r->top[0], m[1], &cls_b) ? cls_b : -1;
  for (int q = 0; q < 3; q++)
    r->common[q] = NAN;
  if (r->common_class == r->top[1])
    memcpy (r->common, r->own, sizeof r->own);
  else if (r->common_class >= 0)
    {
      if (!(ebc = explain_one (ex[1], method, r->common_class, error)))
        return FALSE;
      map_metrics (ea, ebc, r->common);
    }
  return TRUE;
}

static const char *
label_or (const XcModel *m, int c, char *buf, gsize len)
{
  const char *l = xc_model_label (m, c);
  if (l)
    return l;
  g_snprintf (buf, len, "class %d", c);
  return buf;
}

static void
print_row (XcModel **m, const CompareRow *r, gboolean maps)
{
  char ba[32], bb[32];

  g_print ("%s: %s %.1f%% | %s %.1f%%  %s", r->name, label_or (m[0], r->top[0], ba, sizeof ba),
           100 * r->prob[0], label_or (m[1], r->top[1], bb, sizeof bb), 100 * r->prob[1],
           r->agree ? "agree" : "DISAGREE");
  if (maps)
    g_print (", own-class maps: r %.3f, rank %.3f, top-10%% IoU %.3f", r->own[0], r->own[1],
             r->own[2]);
  g_print ("\n");
}

static void
summarise (XcModel **m, const CompareRow *rows, int n, const gboolean *labelled,
           const XcDataset *ds, CompareSummary *s)
{
  for (int k = 0; k < 2; k++)
    if (labelled[k])
      {
        g_autofree float *conf = g_new (float, MAX (1, n));
        g_autofree gboolean *ok = g_new (gboolean, MAX (1, n));
        s->confusion[k] = g_new0 (int, (size_t) ds->n_classes * ds->n_classes);
        for (int i = 0; i < n; i++)
          {
            conf[i] = rows[i].prob[k];
            ok[i] = rows[i].correct[k] == 1;
            s->correct[k] += ok[i];
            s->confusion[k][(size_t) rows[i].truth * ds->n_classes + rows[i].top[k]]++;
          }
        s->ece[k] = xc_calibration (conf, ok, n, ECE_BINS, s->bin_count[k], s->bin_conf[k],
                                    s->bin_acc[k]);
      }
  for (int i = 0; i < n; i++)
    {
      const CompareRow *r = &rows[i];
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
  if (strpbrk (v, ",\"\n") == NULL)
    {
      g_string_append (t, v);
      return;
    }
  g_string_append_c (t, '"');
  for (const char *c = v; *c; c++)
    {
      if (*c == '"')
        g_string_append_c (t, '"');
      g_string_append_c (t, *c);
    }
  g_string_append_c (t, '"');
}

/* Every image's row: CSV with a header, written atomically */
static gboolean
write_csv (const char *path, XcModel **m, const CompareRow *rows, int n, gboolean maps,
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
      const CompareRow *r = &rows[i];
      csv_field (t, r->name);
      if (r->truth >= 0)
        g_string_append_printf (t, ",%d", r->truth);
      else
        g_string_append (t, ",");
      for (int k = 0; k < 2; k++)
        {
          char buf[32];
          g_string_append_printf (t, ",%d,", r->top[k]);
          csv_field (t, label_or (m[k], r->top[k], buf, sizeof buf));
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

static void
compare_json (JsonBuilder *b, XcModel **m, const XcModelCost *cost, const CompareRow *rows,
              int n, const gboolean *labelled, const XcDataset *ds, gboolean maps,
              const CompareSummary *s)
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
          for (int q = 0; q < ECE_BINS; q++)
            {
              json_builder_begin_object (b);
              json_builder_set_member_name (b, "confidence_upper");
              json_builder_add_double_value (b, (q + 1.0) / ECE_BINS);
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
      const CompareRow *r = &rows[i];
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

static void
print_summary (XcModel **m, const XcModelCost *cost, int n, const gboolean *labelled,
               const XcDataset *ds, gboolean maps, const CompareSummary *s)
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
          g_print ("   confusion (rows: truth, columns: %c's prediction)\n", 'A' + k);
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

int
xs_cli_compare (int argc, char **argv)
{
  int status = 0, subset = 0, runs = 21;
  gboolean json = FALSE;
  g_auto(GStrv) models = NULL, images = NULL;
  g_autofree char *dataset = NULL, *method_s = NULL, *split = NULL;
  g_autofree char *shard_s = NULL, *out_dir = NULL, *csv = NULL;
  gboolean from_env = FALSE;
  guint shard_i = 0, shard_n = 1;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_STRING_ARRAY, &models, "A model (give two)", "MODEL" },
    { "dataset", 'd', 0, G_OPTION_ARG_STRING, &dataset, "fashion-mnist:DIR or imagefolder:DIR",
      "SPEC" },
    { "split", 0, 0, G_OPTION_ARG_STRING, &split,
      "train, val, test or all (default: all: every image of a folder, Fashion-MNIST's test set)",
      "SPLIT" },
    { "subset", 0, 0, G_OPTION_ARG_INT, &subset, "A seeded subset of N dataset images", "N" },
    { "method", 0, 0, G_OPTION_ARG_STRING, &method_s,
      "Also explain each model's own top class and the class both share (model A's top) with "
      "this method, and compare the maps: Pearson and rank correlation, overlap of the top 10%",
      "NAME" },
    { "runs", 0, 0, G_OPTION_ARG_INT, &runs, "Timed runs of each model, alternating A and B (21; at least 20)", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { "csv", 0, 0, G_OPTION_ARG_FILENAME, &csv, "Also write every image's row to this CSV file",
      "FILE.csv" },
    { "shard", 0, 0, G_OPTION_ARG_STRING, &shard_s,
      "Only shard I of N of the dataset; needs --out-dir", "I/N" },
    { "shards-from-env", 0, 0, G_OPTION_ARG_NONE, &from_env,
      "The shard from SLURM_ARRAY_TASK_ID/_COUNT or JOB_COMPLETION_INDEX/XCEPTION_SHARDS", NULL },
    { "out-dir", 0, 0, G_OPTION_ARG_FILENAME, &out_dir,
      "Write one JSON Lines record per dataset image there (resumable); `merge` joins them",
      "DIR" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &images, NULL, "IMAGE..." },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("(IMAGE... | --dataset SPEC)");
  XcModel *m[2] = { NULL, NULL };
  g_autoptr(XcDataset) ds = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  XcModelCost cost[2];
  XcPlan *plan[2] = { NULL, NULL };
  XcExplainer *ex[2] = { NULL, NULL };
  XcMethod method = XC_METHOD_GRADCAM;
  GError *error = NULL;
  int n_inputs = 0;
  CompareRow *rows = NULL;
  CompareSummary sum = { 0 };
  gboolean labelled[2] = { FALSE, FALSE };

  g_option_context_set_summary (ctx, "Two models on the same images: predictions, agreement, "
                                "costs, and optionally their explanations.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!xs_cli_parse_args (ctx, &argc, &argv, &status))
    goto out;
  if (models == NULL || g_strv_length (models) != 2 || (images == NULL) == (dataset == NULL) ||
      (method_s && !xc_method_from_string (method_s, &method)))
    {
      g_printerr ("xception-cli compare: give --model A --model B, and images or --dataset "
                  "(and a known --method)\n");
      status = EXIT_USAGE;
      goto out;
    }
  if (!xs_shard_parse (shard_s, from_env, &shard_i, &shard_n, &error))
    {
      status = xs_cli_fail (error);
      goto out;
    }
  if ((shard_s || from_env || out_dir) && (out_dir == NULL || dataset == NULL))
    {
      g_printerr ("xception-cli compare: --shard, --shards-from-env and --out-dir go with "
                  "--dataset and --out-dir\n");
      status = EXIT_USAGE;
      goto out;
    }
  for (int k = 0; k < 2; k++)
    {
      m[k] = xc_model_load_spec (models[k], &error);
      if (m[k] == NULL || !(plan[k] = xc_plan_new (m[k], 1, NULL, &error)))
        {
          status = xs_cli_fail (error);
          goto out;
        }
      if (!xc_model_node (m[k], m[k]->output)->flat)
        {
          g_printerr ("xception-cli: %s: the output is not a class vector\n", models[k]);
          status = EXIT_USER;
          goto out;
        }
      if (method_s && !(ex[k] = xc_explainer_new (m[k], &error)))
        {
          status = xs_cli_fail (error);
          goto out;
        }
    }
  /* latency: warm-up, then alternating runs of A and B; median and IQR */
  if (out_dir == NULL)
    {
      xc_plans_time_pair (plan[0], plan[1], runs, cost);
      for (int k = 0; k < 2; k++)
        cost[k].memory_bytes = m[k]->slab_size * sizeof (float) + xc_plan_arena_bytes (plan[k]);
    }
  if (dataset)
    {
      const XcNode *in = xc_model_input (m[0]);
      ds = xc_dataset_load (dataset, split ? split : "all", in->h, in->w, in->c, 1, &error);
      if (ds == NULL)
        {
          status = xs_cli_fail (error);
          goto out;
        }
      if (subset > 0)
        {
          XcDataset *sub = xc_dataset_subset (ds, subset, 1);
          xc_dataset_free (ds);
          ds = sub;
        }
      n_inputs = ds->n;
      if (out_dir)
        {
          g_autofree char *spec = g_strdup_printf ("%s (split %s%s%d)", dataset,
                                                   split ? split : "all",
                                                   subset > 0 ? ", subset " : "", subset);
          status = compare_shard (m, plan, ds, spec, out_dir, shard_i, shard_n);
          goto out;
        }
    }
  else
    n_inputs = g_strv_length (images);

  rows = g_new0 (CompareRow, MAX (1, n_inputs));
  for (int k = 0; k < 2; k++)
    labelled[k] = ds != NULL && !ds->unlabelled &&
                  ds->n_classes == xc_model_node (m[k], m[k]->output)->c;
  for (int i = 0; i < n_inputs; i++)
    {
      CompareRow *r = &rows[i];

      r->name = ds ? g_strdup (ds->ids->pdata[i]) : g_strdup (images[i]);
      r->truth = labelled[0] || labelled[1] ? ds->labels[i] : -1;
      for (int k = 0; k < 2; k++)
        {
          XcTensor in = xc_plan_input (plan[k]), out;
          if (!input_for (m[k], ds ? NULL : images[i], ds, i, in.data, &error))
            {
              status = xs_cli_fail (error);
              goto out;
            }
          xc_plan_run (plan[k], FALSE, NULL, NULL, NULL);
          xc_plan_output (plan[k], m[k]->output, &out);
          r->top[k] = argmax (out.data, out.c);
          r->prob[k] = out.data[r->top[k]];
          r->correct[k] = labelled[k] ? r->top[k] == ds->labels[i] : -1;
        }
      r->agree = xc_compare_same_class (m[0], r->top[0], m[1], r->top[1]);
      if (method_s && !explain_pair (m, plan, ex, method, r, &error))
        {
          status = xs_cli_fail (error);
          goto out;
        }
      if (!json && (!ds || !r->agree))
        print_row (m, r, method_s != NULL);
    }
  summarise (m, rows, n_inputs, labelled, ds, &sum);
  if (csv && !write_csv (csv, m, rows, n_inputs, method_s != NULL, &error))
    {
      status = xs_cli_fail (error);
      goto out;
    }
  if (json)
    {
      g_autofree char *s = NULL;
      compare_json (b, m, cost, rows, n_inputs, labelled, ds, method_s != NULL, &sum);
      s = xs_cli_print_json (b);
      g_print ("%s\n", s);
    }
  else
    print_summary (m, cost, n_inputs, labelled, ds, method_s != NULL, &sum);

out:
  for (int i = 0; rows && i < n_inputs; i++)
    g_free (rows[i].name);
  g_free (rows);
  g_free (sum.confusion[0]);
  g_free (sum.confusion[1]);
  for (int k = 0; k < 2; k++)
    {
      xc_explainer_free (ex[k]);
      xc_plan_free (plan[k]);
      xc_model_free (m[k]);
    }
  return status;
}

/* Forward, Grad-CAM of the top class (matched by label in model B) and
 * faithfulness, for the report */
