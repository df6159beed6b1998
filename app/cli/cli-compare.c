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

int
xs_cli_compare (int argc, char **argv)
{
  int status = 0, subset = 0, runs = 21;
  gboolean json = FALSE;
  g_auto(GStrv) models = NULL, images = NULL;
  g_autofree char *dataset = NULL, *method_s = NULL, *split = NULL;
  g_autofree char *shard_s = NULL, *out_dir = NULL;
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
      "Also explain both models' top class of model A with this method and correlate the maps",
      "NAME" },
    { "runs", 0, 0, G_OPTION_ARG_INT, &runs, "Timed runs of each model, alternating A and B (21; at least 20)", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
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
  int n_inputs, agree = 0, correct[2] = { 0, 0 }, with_labels = 0;
  g_autoptr(GArray) disagreements = g_array_new (FALSE, FALSE, sizeof (int));

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
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "results");
  json_builder_begin_array (b);
  for (int i = 0; i < n_inputs; i++)
    {
      int top[2];
      float prob[2];
      gboolean same;
      double corr = NAN;
      g_autofree char *name = ds ? g_strdup (ds->ids->pdata[i]) : g_strdup (images[i]);

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
          top[k] = argmax (out.data, out.c);
          prob[k] = out.data[top[k]];
        }
      same = xc_compare_same_class (m[0], top[0], m[1], top[1]);
      agree += same;
      if (!same)
        g_array_append_val (disagreements, i);
      if (ds && ds->n_classes == xc_model_node (m[0], m[0]->output)->c)
        {
          with_labels = 1;
          correct[0] += top[0] == ds->labels[i];
          correct[1] += ds->n_classes == xc_model_node (m[1], m[1]->output)->c &&
                        top[1] == ds->labels[i];
        }
      if (method_s)
        {
          XcExplainOptions o[2];
          g_autoptr(XcExplanation) e0 = NULL, e1 = NULL;
          int cls_b;
          xc_explain_options_init (&o[0]);
          xc_explain_options_init (&o[1]);
          o[0].method = o[1].method = method;
          o[0].target_class = top[0];
          o[1].target_class = xc_compare_match_class (m[0], top[0], m[1], &cls_b) ? cls_b : -1;
          for (int k = 0; k < 2; k++)
            if (!xc_explainer_set_input (ex[k], xc_plan_input (plan[k]).data, &error))
              {
                status = xs_cli_fail (error);
                goto out;
              }
          e0 = xc_explainer_run (ex[0], &o[0], NULL, NULL, &error);
          e1 = e0 ? xc_explainer_run (ex[1], &o[1], NULL, NULL, &error) : NULL;
          if (e1 == NULL)
            {
              status = xs_cli_fail (error);
              goto out;
            }
          corr = xc_map_correlation (e0->map, e0->map_h, e0->map_w, e1->map, e1->map_h,
                                     e1->map_w);
        }
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "input");
      json_builder_add_string_value (b, name);
      if (ds)
        xs_cli_add_int (b, "truth", ds->labels[i]);
      json_builder_set_member_name (b, "predictions");
      json_builder_begin_array (b);
      for (int k = 0; k < 2; k++)
        add_prediction (b, m[k], top[k], prob[k]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "agree");
      json_builder_add_boolean_value (b, same);
      if (method_s)
        {
          json_builder_set_member_name (b, "explanation_correlation");
          json_builder_add_double_value (b, corr);
        }
      json_builder_end_object (b);
      if (!json && (!ds || !same))
        {
          const char *la = xc_model_label (m[0], top[0]), *lb = xc_model_label (m[1], top[1]);
          g_autofree char *fa = g_strdup_printf ("class %d", top[0]);
          g_autofree char *fb = g_strdup_printf ("class %d", top[1]);
          g_print ("%s: %s %.1f%% | %s %.1f%%  %s", name, la ? la : fa, 100 * prob[0],
                   lb ? lb : fb, 100 * prob[1], same ? "agree" : "DISAGREE");
          if (method_s)
            g_print (", maps correlate %.3f", corr);
          g_print ("\n");
        }
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "agreement");
  json_builder_add_double_value (b, n_inputs ? (double) agree / n_inputs : 0.0);
  if (with_labels)
    {
      json_builder_set_member_name (b, "accuracy");
      json_builder_begin_array (b);
      json_builder_add_double_value (b, (double) correct[0] / n_inputs);
      json_builder_add_double_value (b, (double) correct[1] / n_inputs);
      json_builder_end_array (b);
    }
  json_builder_set_member_name (b, "disagreements");
  json_builder_begin_array (b);
  for (guint i = 0; i < disagreements->len; i++)
    json_builder_add_int_value (b, g_array_index (disagreements, int, i));
  json_builder_end_array (b);
  json_builder_end_object (b);
  if (json)
    {
      g_autofree char *s = xs_cli_print_json (b);
      g_print ("%s\n", s);
    }
  else
    {
      for (int k = 0; k < 2; k++)
        {
          guint64 p, macs;
          g_autofree char *ps = NULL, *ms = NULL;
          xc_model_totals (m[k], &p, NULL, &macs, NULL, NULL);
          ps = xc_format_count (p), ms = xc_format_count (macs);
          g_print ("%c: %s — %s params, %s MACs, %.2f ms (IQR %.2f-%.2f, %d alternating runs), "
                   "%.1f MB%s", 'A' + k, m[k]->name, ps, ms, cost[k].latency_ms,
                   cost[k].latency_q1_ms, cost[k].latency_q3_ms, cost[k].runs,
                   cost[k].memory_bytes / 1048576.0,
                   with_labels ? ", accuracy " : "\n");
          if (with_labels)
            g_print ("%.2f%%\n", 100.0 * correct[k] / n_inputs);
        }
      g_print ("agreement %.2f%% on %d images (%u disagreements)\n",
               n_inputs ? 100.0 * agree / n_inputs : 0.0, n_inputs, disagreements->len);
    }

out:
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
