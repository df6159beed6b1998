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

int
xs_cli_evaluate (int argc, char **argv)
{
  XsCliModelArgs ma = { 0 };
  int status = 0, batch = 100, subset = 0;
  gboolean json = FALSE;
  g_autofree char *dataset = NULL, *split = NULL;
  GOptionEntry entries[] = {
    { "dataset", 'd', 0, G_OPTION_ARG_STRING, &dataset, "fashion-mnist:DIR or imagefolder:DIR",
      "SPEC" },
    { "split", 0, 0, G_OPTION_ARG_STRING, &split, "test (default) or val", "SPLIT" },
    { "batch", 'b', 0, G_OPTION_ARG_INT, &batch, "Batch size (100)", "B" },
    { "subset", 0, 0, G_OPTION_ARG_INT, &subset, "Evaluate a seeded subset of N images", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
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
  model = xs_cli_load_model (&ma, &error);
  if (model == NULL)
    {
      status = xs_cli_fail (error);
      goto out;
    }
  in = xc_model_input (model);
  ds = xc_dataset_load (dataset, split ? split : "test", in->h, in->w, in->c, 1, &error);
  if (ds == NULL)
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
