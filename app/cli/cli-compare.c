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
#include "cli-compare.h"
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

      if (xs_shard_is_done (shard, id))
        continue;
      rb = xs_shard_record_begin (ds, i);
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
  xc_map_agreement (a->map, a->map_h, a->map_w, b->map, b->map_h, b->map_w, XS_COMPARE_TOP_FRACTION,
                    &out[1], &out[2]);
}

/* Both models' explanations for their own top classes and for model A's
 * top class; the inputs are already in the plans */
static gboolean
explain_pair (XcModel **m, XcPlan **plan, XcExplainer **ex, XcMethod method, XsCompareRow *r,
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
  XsCompareRow *rows = NULL;
  XsCompareSummary sum = { 0 };
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
  if (csv && out_dir)
    {
      g_printerr ("xception-cli compare: --csv writes the rows of a one-process run; a sharded "
                  "run's rows are its --out-dir records (`merge` joins them)\n");
      status = EXIT_USAGE;
      goto out;
    }
  /* a bad --csv path is said before the images are run, not after */
  if (csv && !xc_check_output_path (csv, &error))
    {
      status = xs_cli_fail (error);
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

  rows = g_new0 (XsCompareRow, MAX (1, n_inputs));
  /* a model has labels here when every class of the dataset is one of its
   * classes (by label, or by index without labels) */
  for (int k = 0; k < 2; k++)
    {
      labelled[k] = ds != NULL && !ds->unlabelled;
      for (int c = 0; labelled[k] && c < ds->n_classes; c++)
        labelled[k] = xc_dataset_class_in_model (ds, c, m[k]) >= 0;
    }
  for (int i = 0; i < n_inputs; i++)
    {
      XsCompareRow *r = &rows[i];

      r->name = ds ? g_strdup (ds->ids->pdata[i]) : g_strdup (images[i]);
      r->truth = labelled[0] || labelled[1] ? ds->labels[i] : -1;
      for (int k = 0; k < 2; k++)
        r->truth_in[k] = labelled[k] ? xc_dataset_class_in_model (ds, ds->labels[i], m[k]) : -1;
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
          r->correct[k] = labelled[k] ? r->top[k] == r->truth_in[k] : -1;
        }
      r->agree = xc_compare_same_class (m[0], r->top[0], m[1], r->top[1]);
      if (method_s && !explain_pair (m, plan, ex, method, r, &error))
        {
          status = xs_cli_fail (error);
          goto out;
        }
      if (!json && (!ds || !r->agree))
        xs_compare_print_row (m, r, method_s != NULL);
    }
  xs_compare_summarise (m, rows, n_inputs, labelled, ds, &sum);
  if (csv && !xs_compare_write_csv (csv, m, rows, n_inputs, method_s != NULL, &error))
    {
      status = xs_cli_fail (error);
      goto out;
    }
  if (json)
    {
      g_autofree char *s = NULL;
      xs_compare_json (b, m, cost, rows, n_inputs, labelled, ds, method_s != NULL, &sum);
      s = xs_cli_print_json (b);
      g_print ("%s\n", s);
    }
  else
    xs_compare_print_summary (m, cost, n_inputs, labelled, ds, method_s != NULL, &sum);

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
