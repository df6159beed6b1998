/* SPDX-License-Identifier: MIT
 *
 * xception-cli summary: layers, params, MACs, the standard-convolution costs, and with --image the per-layer time and statistics of a real run.
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

static void
add_shape (JsonBuilder *b, const XcNode *node)
{
  json_builder_begin_array (b);
  json_builder_add_null_value (b);
  if (!node->flat)
    {
      json_builder_add_int_value (b, node->h);
      json_builder_add_int_value (b, node->w);
    }
  json_builder_add_int_value (b, node->c);
  json_builder_end_array (b);
}

int
xs_cli_summary (int argc, char **argv)
{
  XsCliModelArgs ma = { 0 };
  int status = 0;
  gboolean json = FALSE;
  g_autofree char *image = NULL, *npy = NULL;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { "image", 'i', 0, G_OPTION_ARG_FILENAME, &image,
      "Also run this image: per-layer time and activation statistics", "IMAGE" },
    { "input-npy", 0, 0, G_OPTION_ARG_FILENAME, &npy, "The same with a preprocessed tensor",
      "FILE" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr(XcModel) model = NULL;
  g_autoptr(XcPlan) plan = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  GError *error = NULL;
  guint64 p, t, m, sp, sm;
  guint n_sep = 0;

  g_option_context_set_summary (ctx, "Per-layer shapes, parameters and multiply-accumulates, "
                                "with the standard-convolution equivalent of each separable "
                                "layer.");
  g_option_context_add_main_entries (ctx, xs_cli_model_entries (&ma), NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!xs_cli_parse_args (ctx, &argc, &argv, &status))
    goto out;
  if (argc > 1)
    {
      g_printerr ("xception-cli summary: unexpected argument '%s'\n", argv[1]);
      status = EXIT_USAGE;
      goto out;
    }
  model = xs_cli_load_model (&ma, &error);
  if (model == NULL)
    {
      status = xs_cli_fail (error);
      goto out;
    }
  xc_model_totals (model, &p, &t, &m, &sp, &sm);
  if (image || npy)
    {
      /* keep every output so that each node's statistics are of its own buffer */
      g_autofree gboolean *keep = g_new (gboolean, xc_model_n_nodes (model));
      for (guint i = 0; i < xc_model_n_nodes (model); i++)
        keep[i] = TRUE;
      plan = xc_plan_new (model, 1, keep, &error);
      if (plan == NULL || !xs_cli_fill_input (plan, model, image, npy, &error))
        {
          status = xs_cli_fail (error);
          goto out;
        }
      xc_plan_run (plan, TRUE, NULL, NULL, NULL);
    }

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, model->name);
  json_builder_set_member_name (b, "preprocess");
  json_builder_add_string_value (b, xc_preprocess_name (model->preprocess));
  json_builder_set_member_name (b, "layers");
  json_builder_begin_array (b);
  if (!json)
    g_print ("%-28s %-22s %-20s %12s %15s %14s %16s\n", "layer", "type", "output", "params",
             "MACs", "std params", "std MACs");
  for (guint i = 0; i < xc_model_n_nodes (model); i++)
    {
      const XcNode *node = xc_model_node (model, i);
      n_sep += node->op == XC_OP_SEPCONV2D;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, node->name);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, node->keras_class);
      json_builder_set_member_name (b, "inputs");
      json_builder_begin_array (b);
      for (guint k = 0; k < node->n_inputs; k++)
        json_builder_add_string_value (b, xc_model_node (model, node->inputs[k])->name);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "output_shape");
      add_shape (b, node);
      xs_cli_add_int (b, "params", node->n_weights);
      xs_cli_add_int (b, "macs", node->macs);
      xs_cli_add_int (b, "standard_params", node->std_params);
      xs_cli_add_int (b, "standard_macs", node->std_macs);
      if (plan)
        {
          const XcNodeRun *run = xc_plan_node_run (plan, i);
          json_builder_set_member_name (b, "time_ms");
          json_builder_add_double_value (b, run->time_us / 1000.0);
          json_builder_set_member_name (b, "stats");
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "min");
          json_builder_add_double_value (b, run->stats.min);
          json_builder_set_member_name (b, "max");
          json_builder_add_double_value (b, run->stats.max);
          json_builder_set_member_name (b, "mean");
          json_builder_add_double_value (b, run->stats.mean);
          json_builder_set_member_name (b, "std");
          json_builder_add_double_value (b, run->stats.std);
          json_builder_set_member_name (b, "zero_fraction");
          json_builder_add_double_value (b, run->stats.zero_fraction);
          json_builder_end_object (b);
        }
      json_builder_end_object (b);
      if (!json)
        {
          g_autofree char *shape = node->flat ? g_strdup_printf ("(%d)", node->c)
                                   : g_strdup_printf ("(%d, %d, %d)", node->h, node->w, node->c);
          g_autofree char *s1 = xc_format_count (node->n_weights), *s2 = xc_format_count (node->macs);
          g_autofree char *s3 = xc_format_count (node->std_params), *s4 = xc_format_count (node->std_macs);
          g_print ("%-28s %-22s %-20s %12s %15s %14s %16s\n", node->name, node->keras_class, shape,
                   s1, s2, s3, s4);
        }
      if (!json && plan)
        {
          const XcNodeRun *run = xc_plan_node_run (plan, i);
          g_print ("%-28s %9.3f ms  min %9.4f  max %9.4f  mean %9.4f  std %9.4f  zeros %5.1f%%\n",
                   "", run->time_us / 1000.0, run->stats.min, run->stats.max, run->stats.mean,
                   run->stats.std, 100.0 * run->stats.zero_fraction);
        }
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "totals");
  json_builder_begin_object (b);
  xs_cli_add_int (b, "params", p);
  xs_cli_add_int (b, "trainable_params", t);
  xs_cli_add_int (b, "macs", m);
  xs_cli_add_int (b, "standard_params", sp);
  xs_cli_add_int (b, "standard_macs", sm);
  xs_cli_add_int (b, "separable_layers", n_sep);
  if (plan)
    {
      json_builder_set_member_name (b, "time_ms");
      json_builder_add_double_value (b, xc_plan_total_us (plan) / 1000.0);
      xs_cli_add_int (b, "activation_bytes", xc_plan_arena_bytes (plan));
    }
  json_builder_end_object (b);
  json_builder_end_object (b);

  if (json)
    {
      g_autofree char *s = xs_cli_print_json (b);
      g_print ("%s\n", s);
    }
  else
    {
      g_autofree char *s1 = xc_format_count (p), *s2 = xc_format_count (t), *s3 = xc_format_count (m);
      g_autofree char *s4 = xc_format_count (sp), *s5 = xc_format_count (sm);
      g_print ("\nTotal params: %s (trainable %s)\nTotal MACs: %s\n"
               "As standard convolutions: %s params, %s MACs (%u separable layers; %.1fx fewer "
               "MACs)\n", s1, s2, s3, s4, s5, n_sep, m ? (double) sm / m : 0.0);
    }

out:
  xs_cli_model_args_clear (&ma);
  return status;
}
