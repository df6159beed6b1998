/* SPDX-License-Identifier: MIT
 *
 * xception-cli predict: top-k classes for images or a .npy tensor.
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

typedef struct {
  guint index;
  float p;
} Ranked;

static int
compare_ranked (gconstpointer a, gconstpointer b)
{
  const Ranked *x = a, *y = b;
  return x->p < y->p ? 1 : x->p > y->p ? -1 : (int) x->index - (int) y->index;
}

int
xs_cli_predict (int argc, char **argv)
{
  XsCliModelArgs ma = { 0 };
  int top = 5, status = 0;
  gboolean json = FALSE;
  g_autofree char *npy = NULL;
  g_auto(GStrv) images = NULL;
  GOptionEntry entries[] = {
    { "top", 'k', 0, G_OPTION_ARG_INT, &top, "Classes to show (default 5)", "K" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { "input-npy", 0, 0, G_OPTION_ARG_FILENAME, &npy, "A preprocessed (1,H,W,C) float32 tensor",
      "FILE" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &images, NULL, "IMAGE..." },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("(IMAGE... | --input-npy FILE)");
  g_autoptr(XcModel) model = NULL;
  g_autoptr(XcPlan) plan = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  GError *error = NULL;
  guint n_inputs;
  const XcNode *out_node;

  g_option_context_set_summary (ctx, "Classify images: top-k classes and probabilities.");
  g_option_context_add_main_entries (ctx, xs_cli_model_entries (&ma), NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!xs_cli_parse_args (ctx, &argc, &argv, &status))
    goto out;
  n_inputs = (images ? g_strv_length (images) : 0) + (npy ? 1 : 0);
  if (n_inputs == 0 || (npy && images))
    {
      g_printerr ("xception-cli predict: give images or --input-npy FILE (not both)\n");
      status = EXIT_USAGE;
      goto out;
    }
  if (top < 1)
    {
      g_printerr ("xception-cli predict: --top must be at least 1\n");
      status = EXIT_USAGE;
      goto out;
    }
  model = xs_cli_load_model (&ma, &error);
  if (model == NULL)
    {
      status = xs_cli_fail (error);
      goto out;
    }
  out_node = xc_model_node (model, model->output);
  if (!out_node->flat)
    {
      g_printerr ("xception-cli: %s: the output %s is not a class vector\n", model->name,
                  out_node->name);
      status = EXIT_USER;
      goto out;
    }
  plan = xc_plan_new (model, 1, NULL, &error);
  if (plan == NULL)
    {
      status = xs_cli_fail (error);
      goto out;
    }

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, model->name);
  json_builder_set_member_name (b, "results");
  json_builder_begin_array (b);
  for (guint i = 0; i < n_inputs; i++)
    {
      const char *name = npy ? npy : images[i];
      XcTensor out;
      g_autofree Ranked *ranked = NULL;
      g_autoptr(XcImage) image = NULL;
      g_autoptr(GPtrArray) notes = NULL;
      guint k;

      if (npy == NULL)
        image = xs_cli_load_image (images[i], &error);
      if ((npy == NULL && (image == NULL ||
                           !xc_image_to_input (image, model, xc_plan_input (plan).data, &error))) ||
          (npy != NULL && !xs_cli_fill_input (plan, model, NULL, npy, &error)))
        {
          status = xs_cli_fail (error);
          error = NULL;
          continue;  /* the other images still run */
        }
      xc_plan_run (plan, FALSE, NULL, NULL, NULL);
      if (!xc_plan_check_finite (plan, FALSE, &error))
        {
          g_prefix_error (&error, "%s: ", name);
          status = xs_cli_fail (error);
          error = NULL;
          continue;
        }
      xc_plan_output (plan, model->output, &out);
      ranked = g_new (Ranked, out.c);
      for (int c = 0; c < out.c; c++)
        ranked[c] = (Ranked) { c, out.data[c] };
      qsort (ranked, out.c, sizeof (Ranked), compare_ranked);
      /* a feature extractor (no top) has no classes to rank */
      k = xc_model_is_classifier (model) ? MIN ((guint) top, (guint) out.c) : 0;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "input");
      json_builder_add_string_value (b, name);
      json_builder_set_member_name (b, "top");
      json_builder_begin_array (b);
      for (guint j = 0; j < k; j++)
        {
          const char *label = xc_model_label (model, ranked[j].index);
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "index");
          json_builder_add_int_value (b, ranked[j].index);
          json_builder_set_member_name (b, "label");
          if (label)
            json_builder_add_string_value (b, label);
          else
            json_builder_add_null_value (b);
          json_builder_set_member_name (b, "probability");
          json_builder_add_double_value (b, ranked[j].p);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, k > 0 ? "probabilities" : "features");
      json_builder_begin_array (b);
      for (int c = 0; c < out.c; c++)
        json_builder_add_double_value (b, out.data[c]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "time_ms");
      json_builder_add_double_value (b, xc_plan_total_us (plan) / 1000.0);
      if (image != NULL)
        xc_image_add_json (image, b);
      notes = image ? xc_image_notices (image, model) : xc_model_notices (model);
      json_builder_set_member_name (b, "warnings");
      json_builder_begin_array (b);
      for (guint j = 0; j < notes->len; j++)
        json_builder_add_string_value (b, notes->pdata[j]);
      json_builder_end_array (b);
      json_builder_end_object (b);

      if (!json)
        {
          g_print ("%s  (%.1f ms)\n", name, xc_plan_total_us (plan) / 1000.0);
          if (image != NULL && image->source != NULL)
            {
              g_autofree char *desc = xc_image_describe (image);
              g_print ("  %s\n", desc);
            }
          for (guint j = 0; j < notes->len; j++)
            g_printerr ("xception-cli: %s: note: %s\n", name, (char *) notes->pdata[j]);
          if (k == 0)
            {
              XcStats st;
              xc_tensor_stats (&out, &st);
              g_print ("  no classes: %s gives %d features (min %.4f, max %.4f, mean %.4f); "
                       "--json lists them\n", xc_model_node (model, model->output)->name, out.c,
                       st.min, st.max, st.mean);
            }
          for (guint j = 0; j < k; j++)
            {
              const char *label = xc_model_label (model, ranked[j].index);
              g_autofree char *fallback = g_strdup_printf ("class %u", ranked[j].index);
              g_print ("  %2u. %-24s %8.4f%%\n", j + 1, label ? label : fallback,
                       100.0 * ranked[j].p);
            }
        }
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  if (json)
    {
      g_autofree char *s = xs_cli_print_json (b);
      g_print ("%s\n", s);
    }

out:
  xs_cli_model_args_clear (&ma);
  return status;
}
