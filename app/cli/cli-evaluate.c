/* SPDX-License-Identifier: MIT
 *
 * xception-cli evaluate: accuracy, precision, recall and the confusion matrix of a model on a dataset.
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

/* One shard of the dataset (or all of it, as shard 0 of 1), one record per
 * image into OUT_DIR, resumable (cli-shard.c); batch 1, so that an image's
 * numbers never depend on which others share its shard */
static int
evaluate_shard (XcModel *model, XcDataset *ds, const char *spec, const char *out_dir,
                guint index, guint count)
{
  g_autoptr(GArray) mine = NULL;
  g_autoptr(GPtrArray) ids = NULL;
  g_autoptr(JsonNode) header = NULL;
  g_autoptr(XsShard) shard = NULL;
  g_autoptr(XcPlan) plan = NULL;
  XsProgress progress = { "evaluate" };
  GError *error = NULL;
  guint before, done = 0;

  mine = xs_shard_select (ds, index, count);
  ids = xs_shard_ids (ds, mine);
  header = xs_shard_header ("evaluate", model->name, spec, index, count, ids);
  /* the class names, for merge's summary */
  {
    JsonArray *classes = json_array_new ();
    for (guint k = 0; k < ds->class_names->len; k++)
      json_array_add_string_element (classes, ds->class_names->pdata[k]);
    json_object_set_array_member (json_node_get_object (header), "classes", classes);
  }

  if (!(shard = xs_shard_open (out_dir, "evaluate", index, count, header, &error)) ||
      !(plan = xc_plan_new (model, 1, NULL, &error)))
    return xs_cli_fail (error);
  before = g_hash_table_size (shard->done);
  for (guint k = 0; k < mine->len; k++)
    {
      int i = g_array_index (mine, int, k);
      const char *id = ds->ids->pdata[i];
      g_autoptr(JsonBuilder) rb = NULL;
      XcTensor out;
      int pred = 0, label = ds->labels[i];

      if (xs_shard_is_done (shard, id))
        continue;
      xc_dataset_fill (ds, &i, 1, model, NULL, 0, xc_plan_input (plan).data);
      xc_plan_run (plan, FALSE, NULL, NULL, NULL);
      if (!xc_plan_check_finite (plan, FALSE, &error))
        {
          g_prefix_error (&error, "%s: ", id);
          return xs_cli_fail (error);
        }
      xc_plan_output (plan, model->output, &out);
      for (int c = 1; c < out.c; c++)
        if (out.data[c] > out.data[pred])
          pred = c;
      rb = xs_shard_record_begin (ds, i);
      json_builder_set_member_name (rb, "pred");
      json_builder_add_int_value (rb, pred);
      json_builder_set_member_name (rb, "prob");
      json_builder_add_double_value (rb, out.data[pred]);
      json_builder_set_member_name (rb, "loss");
      json_builder_add_double_value (rb, label < out.c ? -log (MAX (out.data[label], 1e-12f))
                                                       : 0.0);
      json_builder_end_object (rb);
      if (!xs_shard_add (shard, rb, &progress, &done, mine->len - before, &error))
        return xs_cli_fail (error);
    }
  return xs_shard_end (shard, "evaluate", "images", mine->len, done, before);
}

int
xs_cli_evaluate (int argc, char **argv)
{
  XsCliModelArgs ma = { 0 };
  int status = 0, batch = 100, subset = 0;
  gboolean json = FALSE;
  g_autofree char *dataset = NULL, *split = NULL, *shard_s = NULL, *out_dir = NULL;
  gboolean from_env = FALSE;
  guint shard_i = 0, shard_n = 1;
  GOptionEntry entries[] = {
    { "dataset", 'd', 0, G_OPTION_ARG_STRING, &dataset, "fashion-mnist:DIR or imagefolder:DIR",
      "SPEC" },
    { "split", 0, 0, G_OPTION_ARG_STRING, &split, "test (default) or val", "SPLIT" },
    { "batch", 'b', 0, G_OPTION_ARG_INT, &batch, "Batch size (100)", "B" },
    { "subset", 0, 0, G_OPTION_ARG_INT, &subset, "Evaluate a seeded subset of N images", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { "shard", 0, 0, G_OPTION_ARG_STRING, &shard_s,
      "Only shard I of N (by a stable hash of each image's path); needs --out-dir", "I/N" },
    { "shards-from-env", 0, 0, G_OPTION_ARG_NONE, &from_env,
      "The shard from SLURM_ARRAY_TASK_ID/_COUNT or JOB_COMPLETION_INDEX/XCEPTION_SHARDS", NULL },
    { "out-dir", 0, 0, G_OPTION_ARG_FILENAME, &out_dir,
      "Write one JSON Lines record per image there (resumable); `merge` joins the shards",
      "DIR" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr(XcModel) model = NULL;
  g_autoptr(XcDataset) ds = NULL;
  g_autoptr(XcEvaluation) ev = NULL;
  GError *error = NULL;
  const XcNode *in;

  g_option_context_set_summary (ctx, "Accuracy, per-class precision and recall, confusion "
                                "matrix.");
  g_option_context_add_main_entries (ctx, xs_cli_model_entries (&ma), NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!xs_cli_parse_args (ctx, &argc, &argv, &status))
    goto out;
  if (dataset == NULL || batch < 1)
    {
      g_printerr ("xception-cli evaluate: --dataset is required\n");
      status = EXIT_USAGE;
      goto out;
    }
  if (!xs_shard_parse (shard_s, from_env, &shard_i, &shard_n, &error))
    {
      status = xs_cli_fail (error);
      goto out;
    }
  if ((shard_s || from_env) && out_dir == NULL)
    {
      g_printerr ("xception-cli evaluate: --shard and --shards-from-env need --out-dir\n");
      status = EXIT_USAGE;
      goto out;
    }
  model = xs_cli_load_model (&ma, &error);
  if (model == NULL)
    {
      status = xs_cli_fail (error);
      goto out;
    }
  in = xc_model_input (model);
  ds = xc_dataset_load (dataset, split ? split : "test", in->h, in->w, in->c, 1, &error);
  if (ds == NULL || !xc_dataset_require_labels (ds, "evaluate", &error))
    {
      status = xs_cli_fail (error);
      goto out;
    }
  xs_cli_report_skipped (ds);
  if (subset > 0)
    {
      XcDataset *sub = xc_dataset_subset (ds, subset, 1);
      xc_dataset_free (ds);
      ds = sub;
    }
  if (out_dir)
    {
      g_autofree char *spec = g_strdup_printf ("%s (split %s%s%d)", dataset,
                                               split ? split : "test",
                                               subset > 0 ? ", subset " : "", subset);
      status = evaluate_shard (model, ds, spec, out_dir, shard_i, shard_n);
      goto out;
    }
  ev = xc_evaluate (model, ds, batch, NULL, NULL, &error);
  if (ev == NULL)
    {
      status = xs_cli_fail (error);
      goto out;
    }
  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autofree char *s = NULL;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "model");
      json_builder_add_string_value (b, model->name);
      json_builder_set_member_name (b, "dataset");
      json_builder_add_string_value (b, ds->name);
      xs_cli_add_int (b, "images", ev->n);
      json_builder_set_member_name (b, "accuracy");
      json_builder_add_double_value (b, ev->accuracy);
      json_builder_set_member_name (b, "loss");
      json_builder_add_double_value (b, ev->loss);
      json_builder_set_member_name (b, "classes");
      json_builder_begin_array (b);
      for (int c = 0; c < ev->n_classes; c++)
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "label");
          json_builder_add_string_value (b, c < (int) ds->class_names->len
                                            ? ds->class_names->pdata[c] : "");
          json_builder_set_member_name (b, "precision");
          json_builder_add_double_value (b, ev->precision[c]);
          json_builder_set_member_name (b, "recall");
          json_builder_add_double_value (b, ev->recall[c]);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "confusion");
      json_builder_begin_array (b);
      for (int r = 0; r < ev->n_classes; r++)
        {
          json_builder_begin_array (b);
          for (int c = 0; c < ev->n_classes; c++)
            json_builder_add_int_value (b, ev->confusion[(size_t) r * ev->n_classes + c]);
          json_builder_end_array (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      s = xs_cli_print_json (b);
      g_print ("%s\n", s);
    }
  else
    {
      g_print ("%s on %s: accuracy %.2f%% (%d images), mean cross-entropy %.4f\n", model->name,
               ds->name, 100 * ev->accuracy, ev->n, ev->loss);
      g_print ("%-16s %9s %9s\n", "class", "precision", "recall");
      for (int c = 0; c < ev->n_classes; c++)
        g_print ("%-16s %8.2f%% %8.2f%%\n",
                 c < (int) ds->class_names->len ? (char *) ds->class_names->pdata[c] : "?",
                 100 * ev->precision[c], 100 * ev->recall[c]);
    }

out:
  xs_cli_model_args_clear (&ma);
  return status;
}
