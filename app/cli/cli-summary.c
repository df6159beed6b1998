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

  if (!json)
    g_print ("%-28s %-22s %-20s %12s %15s %14s %16s\n", "layer", "type", "output", "params",
             "MACs", "std params", "std MACs");
  for (guint i = 0; i < xc_model_n_nodes (model) && !json; i++)
    {
      const XcNode *node = xc_model_node (model, i);
      g_autofree char *shape = node->flat ? g_strdup_printf ("(%d)", node->c)
                               : g_strdup_printf ("(%d, %d, %d)", node->h, node->w, node->c);
      g_autofree char *s1 = xc_format_count (node->n_weights), *s2 = xc_format_count (node->macs);
      g_autofree char *s3 = xc_format_count (node->std_params), *s4 = xc_format_count (node->std_macs);
      n_sep += node->op == XC_OP_SEPCONV2D;
      g_print ("%-28s %-22s %-20s %12s %15s %14s %16s\n", node->name, node->keras_class, shape,
               s1, s2, s3, s4);
      if (plan)
        {
          const XcNodeRun *run = xc_plan_node_run (plan, i);
          g_print ("%-28s %9.3f ms  min %9.4f  max %9.4f  mean %9.4f  std %9.4f  zeros %5.1f%%\n",
                   "", run->time_us / 1000.0, run->stats.min, run->stats.max, run->stats.mean,
                   run->stats.std, 100.0 * run->stats.zero_fraction);
        }
    }

  if (json)
    {
      g_autoptr(JsonNode) root = xc_model_summary_json (model, plan);
      g_autofree char *s = xs_cli_print_node (root);
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
