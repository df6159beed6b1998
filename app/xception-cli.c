/* SPDX-License-Identifier: MIT
 *
 * xception-cli: the engine from the command line. One function per command;
 * every user error ends in one line on stderr and exit status 1, bad usage
 * in exit status 2.
 */
#define G_LOG_DOMAIN "xception-cli"

#include <errno.h>
#include <locale.h>
#include <string.h>
#include <sys/resource.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "xc.h"

#define EXIT_USER  1
#define EXIT_USAGE 2

typedef struct {
  char    *model;
  char    *weights;
  char    *labels;
  char    *preprocess;
} ModelArgs;

static void
model_args_clear (ModelArgs *a)
{
  g_free (a->model);
  g_free (a->weights);
  g_free (a->labels);
  g_free (a->preprocess);
}

static GOptionEntry *
model_entries (ModelArgs *a)
{
  static GOptionEntry e[5];
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_STRING, &a->model,
      "Keras .h5 file or builtin:xception[:size=S,channels=C,classes=K,width=W,variant=standard]",
      "MODEL" },
    { "weights", 0, 0, G_OPTION_ARG_FILENAME, &a->weights,
      "Keras weights-only file to load into the model", "FILE" },
    { "labels", 0, 0, G_OPTION_ARG_FILENAME, &a->labels,
      "Class names, one a line, or imagenet_class_index.json", "FILE" },
    { "preprocess", 0, 0, G_OPTION_ARG_STRING, &a->preprocess,
      "Input preprocessing: tf (x/127.5-1), caffe, torch, unit (x/255)", "MODE" },
    { NULL }
  };
  memcpy (e, entries, sizeof e);
  return e;
}

static XcModel *
load_model (ModelArgs *a, GError **error)
{
  g_autoptr(XcModel) model = xc_model_load_spec (a->model ? a->model : "builtin:xception", error);

  if (model == NULL)
    return NULL;
  if (a->weights && !xc_keras_load_weights (model, a->weights, error))
    return NULL;
  if (a->labels && !xc_model_set_labels_file (model, a->labels, error))
    return NULL;
  if (a->preprocess && !xc_preprocess_from_string (a->preprocess, &model->preprocess))
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT,
                   "--preprocess %s: not one of tf, caffe, torch, unit", a->preprocess);
      return NULL;
    }
  return g_steal_pointer (&model);
}

static int
fail (GError *error)
{
  g_printerr ("xception-cli: %s\n", error->message);
  g_error_free (error);
  return EXIT_USER;
}

static gboolean
parse_args (GOptionContext *ctx, int *argc, char ***argv, int *status)
{
  g_autoptr(GError) error = NULL;

  if (!g_option_context_parse (ctx, argc, argv, &error))
    {
      g_printerr ("xception-cli: %s\n", error->message);
      *status = EXIT_USAGE;
      return FALSE;
    }
  return TRUE;
}

/* Fills the plan's input (batch 1) from an image or a .npy tensor */
static gboolean
fill_input (XcPlan *plan, const XcModel *model, const char *image_path, const char *npy,
            GError **error)
{
  XcTensor in = xc_plan_input (plan);

  if (npy)
    {
      int shape[4], nd;
      g_autofree float *data = xc_npy_read (npy, shape, &nd, error);
      int off = nd == 4 ? 1 : 0;
      if (data == NULL)
        return FALSE;
      if (!((nd == 4 && shape[0] == 1) || nd == 3) || shape[off] != in.h ||
          shape[off + 1] != in.w || shape[off + 2] != in.c)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_SHAPE,
                       "%s: tensor shape does not fit the model's input (1, %d, %d, %d)",
                       npy, in.h, in.w, in.c);
          return FALSE;
        }
      memcpy (in.data, data, xc_tensor_size (&in) * sizeof (float));
      return TRUE;
    }
  else
    {
      g_autoptr(XcImage) image = xc_image_load (image_path, error);
      return image && xc_image_to_input (image, model, in.data, error);
    }
}

static char *
print_json (JsonBuilder *b)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (b);

  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  return json_generator_to_data (gen, NULL);
}

/* predict ---------------------------------------------------------------- */

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

static int
cmd_predict (int argc, char **argv)
{
  ModelArgs ma = { 0 };
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
  g_option_context_add_main_entries (ctx, model_entries (&ma), NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!parse_args (ctx, &argc, &argv, &status))
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
  model = load_model (&ma, &error);
  if (model == NULL)
    {
      status = fail (error);
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
      status = fail (error);
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
      guint k;

      if (!fill_input (plan, model, npy ? NULL : images[i], npy, &error))
        {
          status = fail (error);
          error = NULL;
          continue;  /* the other images still run */
        }
      xc_plan_run (plan, FALSE, NULL, NULL, NULL);
      xc_plan_output (plan, model->output, &out);
      ranked = g_new (Ranked, out.c);
      for (int c = 0; c < out.c; c++)
        ranked[c] = (Ranked) { c, out.data[c] };
      qsort (ranked, out.c, sizeof (Ranked), compare_ranked);
      k = MIN ((guint) top, (guint) out.c);

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
      json_builder_set_member_name (b, "probabilities");
      json_builder_begin_array (b);
      for (int c = 0; c < out.c; c++)
        json_builder_add_double_value (b, out.data[c]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "time_ms");
      json_builder_add_double_value (b, xc_plan_total_us (plan) / 1000.0);
      json_builder_end_object (b);

      if (!json)
        {
          g_print ("%s  (%.1f ms)\n", name, xc_plan_total_us (plan) / 1000.0);
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
      g_autofree char *s = print_json (b);
      g_print ("%s\n", s);
    }

out:
  model_args_clear (&ma);
  return status;
}

/* dump ------------------------------------------------------------------- */

static int
cmd_dump (int argc, char **argv)
{
  ModelArgs ma = { 0 };
  int status = 0;
  g_autofree char *npy = NULL, *out_dir = NULL;
  g_auto(GStrv) layers = NULL, images = NULL;
  gboolean all = FALSE;
  GOptionEntry entries[] = {
    { "layer", 'l', 0, G_OPTION_ARG_STRING_ARRAY, &layers, "Layer to write (repeatable)", "NAME" },
    { "all", 0, 0, G_OPTION_ARG_NONE, &all, "Write every layer", NULL },
    { "out-dir", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir, "Folder for NAME.npy files", "DIR" },
    { "input-npy", 0, 0, G_OPTION_ARG_FILENAME, &npy, "A preprocessed (1,H,W,C) float32 tensor",
      "FILE" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &images, NULL, "IMAGE" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("(IMAGE | --input-npy FILE)");
  g_autoptr(XcModel) model = NULL;
  g_autoptr(XcPlan) plan = NULL;
  g_autofree gboolean *keep = NULL;
  GError *error = NULL;
  guint n;

  g_option_context_set_summary (ctx, "Write layer outputs as .npy files (1,H,W,C) or (1,C).");
  g_option_context_add_main_entries (ctx, model_entries (&ma), NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!parse_args (ctx, &argc, &argv, &status))
    goto out;
  if ((images ? g_strv_length (images) : 0) + (npy ? 1 : 0) != 1 || (!layers && !all) || !out_dir)
    {
      g_printerr ("xception-cli dump: give one IMAGE or --input-npy, --layer NAME (or --all) "
                  "and --out-dir DIR\n");
      status = EXIT_USAGE;
      goto out;
    }
  model = load_model (&ma, &error);
  if (model == NULL)
    {
      status = fail (error);
      goto out;
    }
  n = xc_model_n_nodes (model);
  keep = g_new0 (gboolean, n);
  for (guint i = 0; layers && layers[i]; i++)
    {
      guint idx;
      if (!xc_model_lookup (model, layers[i], &idx, &error))
        {
          status = fail (error);
          goto out;
        }
      keep[idx] = TRUE;
    }
  if (all)
    for (guint i = 0; i < n; i++)
      keep[i] = TRUE;
  if (g_mkdir_with_parents (out_dir, 0755) != 0)
    {
      g_printerr ("xception-cli: %s: cannot create the folder: %s\n", out_dir, g_strerror (errno));
      status = EXIT_USER;
      goto out;
    }
  plan = xc_plan_new (model, 1, keep, &error);
  if (plan == NULL || !fill_input (plan, model, npy ? NULL : images[0], npy, &error))
    {
      status = fail (error);
      goto out;
    }
  xc_plan_run (plan, FALSE, NULL, NULL, NULL);
  for (guint i = 0; i < n; i++)
    {
      const XcNode *node = xc_model_node (model, i);
      g_autofree char *safe = NULL, *file = NULL, *path = NULL;
      XcTensor t;
      int shape4[4], shape2[2];

      if (!keep[i])
        continue;
      xc_plan_output (plan, i, &t);
      safe = g_strdelimit (g_strdup (node->name), "/\\", '_');
      file = g_strconcat (safe, ".npy", NULL);
      path = g_build_filename (out_dir, file, NULL);
      shape4[0] = 1, shape4[1] = t.h, shape4[2] = t.w, shape4[3] = t.c;
      shape2[0] = 1, shape2[1] = t.c;
      if (!xc_npy_write (path, t.data, node->flat ? shape2 : shape4, node->flat ? 2 : 4, &error))
        {
          status = fail (error);
          goto out;
        }
    }

out:
  model_args_clear (&ma);
  return status;
}

/* summary ---------------------------------------------------------------- */

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

static void
add_int (JsonBuilder *b, const char *name, gint64 v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, v);
}

static char *
group_digits (guint64 v)
{
  g_autofree char *s = g_strdup_printf ("%" G_GUINT64_FORMAT, v);
  GString *o = g_string_new (NULL);
  size_t n = strlen (s);

  for (size_t i = 0; i < n; i++)
    {
      if (i > 0 && (n - i) % 3 == 0)
        g_string_append_c (o, ',');
      g_string_append_c (o, s[i]);
    }
  return g_string_free (o, FALSE);
}

static int
cmd_summary (int argc, char **argv)
{
  ModelArgs ma = { 0 };
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
  g_option_context_add_main_entries (ctx, model_entries (&ma), NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!parse_args (ctx, &argc, &argv, &status))
    goto out;
  if (argc > 1)
    {
      g_printerr ("xception-cli summary: unexpected argument '%s'\n", argv[1]);
      status = EXIT_USAGE;
      goto out;
    }
  model = load_model (&ma, &error);
  if (model == NULL)
    {
      status = fail (error);
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
      if (plan == NULL || !fill_input (plan, model, image, npy, &error))
        {
          status = fail (error);
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
      add_int (b, "params", node->n_weights);
      add_int (b, "macs", node->macs);
      add_int (b, "standard_params", node->std_params);
      add_int (b, "standard_macs", node->std_macs);
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
          g_autofree char *s1 = group_digits (node->n_weights), *s2 = group_digits (node->macs);
          g_autofree char *s3 = group_digits (node->std_params), *s4 = group_digits (node->std_macs);
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
  add_int (b, "params", p);
  add_int (b, "trainable_params", t);
  add_int (b, "macs", m);
  add_int (b, "standard_params", sp);
  add_int (b, "standard_macs", sm);
  add_int (b, "separable_layers", n_sep);
  if (plan)
    {
      json_builder_set_member_name (b, "time_ms");
      json_builder_add_double_value (b, xc_plan_total_us (plan) / 1000.0);
      add_int (b, "activation_bytes", xc_plan_arena_bytes (plan));
    }
  json_builder_end_object (b);
  json_builder_end_object (b);

  if (json)
    {
      g_autofree char *s = print_json (b);
      g_print ("%s\n", s);
    }
  else
    {
      g_autofree char *s1 = group_digits (p), *s2 = group_digits (t), *s3 = group_digits (m);
      g_autofree char *s4 = group_digits (sp), *s5 = group_digits (sm);
      g_print ("\nTotal params: %s (trainable %s)\nTotal MACs: %s\n"
               "As standard convolutions: %s params, %s MACs (%u separable layers; %.1fx fewer "
               "MACs)\n", s1, s2, s3, s4, s5, n_sep, m ? (double) sm / m : 0.0);
    }

out:
  model_args_clear (&ma);
  return status;
}

/* bench ------------------------------------------------------------------ */

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static int
cmd_bench (int argc, char **argv)
{
  ModelArgs ma = { 0 };
  int status = 0, runs = 10, threads = 2, batch = 1;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "runs", 'n', 0, G_OPTION_ARG_INT, &runs, "Timed runs after one warm-up (default 10)", "N" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "Threads (default 2)", "T" },
    { "batch", 'b', 0, G_OPTION_ARG_INT, &batch, "Batch size (default 1)", "B" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr(XcModel) model = NULL;
  g_autoptr(XcPlan) plan = NULL;
  g_autofree double *ms = NULL;
  GError *error = NULL;
  XcTensor in;
  struct rusage ru;
  guint64 macs;
  gint64 forward_rss;
  const char *gradcam_layer[2];
  double gradcam_ms[2];
  guint n_gradcam = 0;

  g_option_context_set_summary (ctx, "Time the forward pass on seeded random input.");
  g_option_context_add_main_entries (ctx, model_entries (&ma), NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!parse_args (ctx, &argc, &argv, &status))
    goto out;
  if (runs < 1 || runs > 100000 || threads < 1 || threads > 256)
    {
      g_printerr ("xception-cli bench: --runs 1 to 100000, --threads 1 to 256\n");
      status = EXIT_USAGE;
      goto out;
    }
  xc_set_threads (threads);
  model = load_model (&ma, &error);
  if (model == NULL || !(plan = xc_plan_new (model, batch, NULL, &error)))
    {
      status = fail (error);
      goto out;
    }
  in = xc_plan_input (plan);
  for (size_t i = 0; i < xc_tensor_size (&in); i++)
    in.data[i] = 2.0f * xc_seeded_uniform (1, 0, i) - 1.0f;
  xc_plan_run (plan, FALSE, NULL, NULL, NULL);
  ms = g_new (double, runs);
  for (int r = 0; r < runs; r++)
    {
      xc_plan_run (plan, FALSE, NULL, NULL, NULL);
      ms[r] = xc_plan_total_us (plan) / 1000.0;
    }
  qsort (ms, runs, sizeof (double), compare_double);
  xc_model_totals (model, NULL, NULL, &macs, NULL, NULL);
  getrusage (RUSAGE_SELF, &ru);
  forward_rss = (gint64) ru.ru_maxrss * 1024;

  /* Grad-CAM from the image: forward, backward to the layer, the map */
  if (batch == 1 && xc_model_node (model, model->output)->flat)
    {
      guint layers[2], n_layers = 0;
      g_autoptr(XcExplainer) ex = xc_explainer_new (model, NULL);
      if (xc_model_default_cam_layer (model, &layers[0], NULL))
        n_layers++;
      if (xc_model_lookup (model, "block4_sepconv1_act", &layers[n_layers], NULL) &&
          (n_layers == 0 || layers[n_layers] != layers[0]))
        n_layers++;
      for (guint l = 0; l < n_layers && ex; l++)
        {
          XcExplainOptions o;
          g_autofree double *t = g_new (double, runs);
          xc_explain_options_init (&o);
          o.layer = layers[l];
          for (int r = -1; r < runs; r++)
            {
              gint64 t0 = g_get_monotonic_time ();
              XcExplanation *e;
              xc_explainer_set_input (ex, in.data, NULL);
              e = xc_explainer_run (ex, &o, NULL, NULL, NULL);
              if (r >= 0)
                t[r] = (g_get_monotonic_time () - t0) / 1000.0;
              xc_explanation_free (e);
            }
          qsort (t, runs, sizeof (double), compare_double);
          gradcam_layer[l] = xc_model_node (model, layers[l])->name;
          gradcam_ms[l] = t[runs / 2];
          n_gradcam = l + 1;
        }
    }
  getrusage (RUSAGE_SELF, &ru);

  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autofree char *s = NULL;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "model");
      json_builder_add_string_value (b, model->name);
      add_int (b, "threads", threads);
      json_builder_set_member_name (b, "blas_core");
      json_builder_add_string_value (b, xc_blas_core ());
      add_int (b, "batch", batch);
      add_int (b, "runs", runs);
      json_builder_set_member_name (b, "forward_ms");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "median");
      json_builder_add_double_value (b, ms[runs / 2]);
      json_builder_set_member_name (b, "min");
      json_builder_add_double_value (b, ms[0]);
      json_builder_set_member_name (b, "max");
      json_builder_add_double_value (b, ms[runs - 1]);
      json_builder_end_object (b);
      json_builder_set_member_name (b, "gmacs_per_s");
      json_builder_add_double_value (b, macs * batch / (ms[runs / 2] * 1e6));
      json_builder_set_member_name (b, "gradcam");
      json_builder_begin_array (b);
      for (guint l = 0; l < n_gradcam; l++)
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "layer");
          json_builder_add_string_value (b, gradcam_layer[l]);
          json_builder_set_member_name (b, "median_ms");
          json_builder_add_double_value (b, gradcam_ms[l]);
          json_builder_set_member_name (b, "ratio_to_forward");
          json_builder_add_double_value (b, gradcam_ms[l] / ms[runs / 2]);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      add_int (b, "arena_bytes", xc_plan_arena_bytes (plan));
      add_int (b, "weights_bytes", model->slab_size * sizeof (float));
      add_int (b, "peak_rss_bytes", forward_rss);
      add_int (b, "peak_rss_with_gradcam_bytes", (gint64) ru.ru_maxrss * 1024);
      json_builder_end_object (b);
      s = print_json (b);
      g_print ("%s\n", s);
    }
  else
    g_print ("%s, batch %d, %d threads (OpenBLAS %s kernels), %d runs\n"
             "forward: median %.2f ms, min %.2f ms, max %.2f ms (%.1f GMAC/s)\n"
             "activations arena %.1f MB (%.1f MB without reuse), weights %.1f MB, "
             "peak RSS %.1f MB (%.1f MB once Grad-CAM ran)\n",
             model->name, batch, threads, xc_blas_core (), runs, ms[runs / 2], ms[0], ms[runs - 1],
             macs * batch / (ms[runs / 2] * 1e6), xc_plan_arena_bytes (plan) / 1048576.0,
             xc_plan_naive_bytes (plan) / 1048576.0,
             model->slab_size * 4 / 1048576.0, forward_rss / 1048576.0, ru.ru_maxrss / 1024.0);
  for (guint l = 0; l < n_gradcam && !json; l++)
    g_print ("Grad-CAM at %s (forward + backward + map): median %.2f ms, %.2fx the forward\n",
             gradcam_layer[l], gradcam_ms[l], gradcam_ms[l] / ms[runs / 2]);

out:
  model_args_clear (&ma);
  return status;
}


/* explain ---------------------------------------------------------------- */

static gboolean
parse_class (const XcModel *model, const char *s, int *cls, GError **error)
{
  const XcNode *out = xc_model_node (model, model->output);
  char *end;
  gint64 v;

  if (s == NULL || g_str_equal (s, "top"))
    {
      *cls = -1;
      return TRUE;
    }
  v = g_ascii_strtoll (s, &end, 10);
  if (end != s && *end == '\0')
    {
      if (v < 0 || v >= out->c)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT,
                       "--class %s: out of range, %s has %d classes (0 to %d)", s, model->name,
                       out->c, out->c - 1);
          return FALSE;
        }
      *cls = (int) v;
      return TRUE;
    }
  for (int i = 0; i < out->c; i++)
    if (g_strcmp0 (xc_model_label (model, i), s) == 0)
      {
        *cls = i;
        return TRUE;
      }
  g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT,
               "--class %s: not a class index, 'top', or a label of %s%s", s, model->name,
               model->labels ? "" : " (it has no labels: give --labels FILE)");
  return FALSE;
}

static int
cmd_explain (int argc, char **argv)
{
  ModelArgs ma = { 0 };
  int status = 0, steps = 0, window = 0, stride = 0, curve_steps = 20;
  gboolean json = FALSE, counterfactual = FALSE, metrics = FALSE;
  double alpha = 0.5;
  g_autofree char *npy = NULL, *method_s = NULL, *layer_s = NULL, *class_s = NULL;
  g_autofree char *out_png = NULL, *cam_npy = NULL, *grad_npy = NULL, *cmap_s = NULL;
  g_autofree char *score_s = NULL, *baseline_s = NULL;
  g_auto(GStrv) images = NULL;
  GOptionEntry entries[] = {
    { "method", 0, 0, G_OPTION_ARG_STRING, &method_s,
      "gradcam (default), gradcam++, xgradcam, hirescam, layercam, scorecam, ablationcam, "
      "eigencam, saliency, smoothgrad, integrated-gradients, guided-backprop, guided-gradcam, "
      "occlusion", "NAME" },
    { "layer", 'l', 0, G_OPTION_ARG_STRING, &layer_s,
      "Target layer (default: the last spatial layer before the classifier)", "NAME" },
    { "class", 'c', 0, G_OPTION_ARG_STRING, &class_s, "Class index, label, or top (default)",
      "CLASS" },
    { "counterfactual", 0, 0, G_OPTION_ARG_NONE, &counterfactual,
      "Explain the evidence against the class (negated gradient)", NULL },
    { "score", 0, 0, G_OPTION_ARG_STRING, &score_s,
      "logit (default, pre-softmax), probability, log-probability", "SCORE" },
    { "steps", 0, 0, G_OPTION_ARG_INT, &steps,
      "Integrated Gradients steps (32) or SmoothGrad samples (25)", "N" },
    { "baseline", 0, 0, G_OPTION_ARG_STRING, &baseline_s,
      "Integrated Gradients baseline: zero (default), black, blurred", "B" },
    { "window", 0, 0, G_OPTION_ARG_INT, &window, "Occlusion window, pixels", "W" },
    { "stride", 0, 0, G_OPTION_ARG_INT, &stride, "Occlusion stride, pixels", "S" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_png, "Overlay PNG at the image's size", "FILE" },
    { "cam-npy", 0, 0, G_OPTION_ARG_FILENAME, &cam_npy,
      "The raw map (h, w) before normalisation and upsampling", "FILE" },
    { "grad-npy", 0, 0, G_OPTION_ARG_FILENAME, &grad_npy,
      "The gradient (1, h, w, C): w.r.t. the layer for CAMs, the input (or the attribution) "
      "for input methods", "FILE" },
    { "colormap", 0, 0, G_OPTION_ARG_STRING, &cmap_s, "jet (default), turbo, viridis, inferno, gray",
      "NAME" },
    { "alpha", 0, 0, G_OPTION_ARG_DOUBLE, &alpha, "Heatmap opacity, 0 to 1 (0.5)", "A" },
    { "metrics", 0, 0, G_OPTION_ARG_NONE, &metrics,
      "Faithfulness: deletion and insertion AUC, average drop, increase in confidence", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { "input-npy", 0, 0, G_OPTION_ARG_FILENAME, &npy, "A preprocessed (1,H,W,C) float32 tensor",
      "FILE" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &images, NULL, "IMAGE" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("(IMAGE | --input-npy FILE)");
  g_autoptr(XcModel) model = NULL;
  g_autoptr(XcExplainer) ex = NULL;
  g_autoptr(XcExplanation) e = NULL;
  g_autoptr(XcFaithfulness) f = NULL;
  g_autoptr(XcImage) image = NULL;
  g_autofree float *input = NULL;
  XcExplainOptions opts;
  XcColormap cmap = XC_COLORMAP_JET;
  GError *error = NULL;
  const XcNode *in;
  gint64 t0;
  double forward_ms;

  g_option_context_set_summary (ctx, "Explain a prediction: where is the evidence for a class?");
  g_option_context_add_main_entries (ctx, model_entries (&ma), NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!parse_args (ctx, &argc, &argv, &status))
    goto out;
  xc_explain_options_init (&opts);
  if ((images ? g_strv_length (images) : 0) + (npy ? 1 : 0) != 1)
    {
      g_printerr ("xception-cli explain: give one IMAGE or --input-npy FILE\n");
      status = EXIT_USAGE;
      goto out;
    }
  if ((method_s && !xc_method_from_string (method_s, &opts.method)) ||
      (cmap_s && !xc_colormap_from_string (cmap_s, &cmap)) || !(alpha >= 0 && alpha <= 1) ||
      steps < 0 || window < 0 || stride < 0)
    {
      g_printerr ("xception-cli explain: bad --method, --colormap, --alpha, --steps, --window or "
                  "--stride (see --help)\n");
      status = EXIT_USAGE;
      goto out;
    }
  if (score_s)
    {
      if (g_str_equal (score_s, "logit"))
        opts.score = XC_SCORE_LOGIT;
      else if (g_str_equal (score_s, "probability"))
        opts.score = XC_SCORE_PROBABILITY;
      else if (g_str_equal (score_s, "log-probability"))
        opts.score = XC_SCORE_LOG_PROBABILITY;
      else
        {
          g_printerr ("xception-cli explain: --score %s (logit, probability, log-probability)\n",
                      score_s);
          status = EXIT_USAGE;
          goto out;
        }
    }
  if (baseline_s)
    {
      if (g_str_equal (baseline_s, "zero"))
        opts.baseline = XC_BASELINE_ZERO;
      else if (g_str_equal (baseline_s, "black"))
        opts.baseline = XC_BASELINE_BLACK;
      else if (g_str_equal (baseline_s, "blurred"))
        opts.baseline = XC_BASELINE_BLURRED;
      else
        {
          g_printerr ("xception-cli explain: --baseline %s (zero, black, blurred)\n", baseline_s);
          status = EXIT_USAGE;
          goto out;
        }
    }
  opts.counterfactual = counterfactual;
  opts.steps = steps;
  opts.window = window;
  opts.stride = stride;

  model = load_model (&ma, &error);
  if (model == NULL || !parse_class (model, class_s, &opts.target_class, &error))
    {
      status = fail (error);
      goto out;
    }
  if (layer_s && !xc_model_lookup (model, layer_s, &opts.layer, &error))
    {
      status = fail (error);
      goto out;
    }
  in = xc_model_input (model);
  input = g_new (float, (size_t) in->h * in->w * in->c);
  if (npy)
    {
      int shape[4], nd;
      g_autofree float *data = xc_npy_read (npy, shape, &nd, &error);
      int off = nd == 4 ? 1 : 0;
      if (data == NULL)
        {
          status = fail (error);
          goto out;
        }
      if (!((nd == 4 && shape[0] == 1) || nd == 3) || shape[off] != in->h ||
          shape[off + 1] != in->w || shape[off + 2] != in->c)
        {
          g_printerr ("xception-cli: %s: tensor shape does not fit the model's input "
                      "(1, %d, %d, %d)\n", npy, in->h, in->w, in->c);
          status = EXIT_USER;
          goto out;
        }
      memcpy (input, data, (size_t) in->h * in->w * in->c * sizeof (float));
    }
  else
    {
      image = xc_image_load (images[0], &error);
      if (image == NULL || !xc_image_to_input (image, model, input, &error))
        {
          status = fail (error);
          goto out;
        }
    }

  t0 = g_get_monotonic_time ();
  ex = xc_explainer_new (model, &error);
  if (ex == NULL || !xc_explainer_set_input (ex, input, &error))
    {
      status = fail (error);
      goto out;
    }
  forward_ms = (g_get_monotonic_time () - t0) / 1000.0;
  e = xc_explainer_run (ex, &opts, NULL, NULL, &error);
  if (e == NULL)
    {
      status = fail (error);
      goto out;
    }
  if (metrics)
    {
      f = xc_explainer_faithfulness (ex, e, curve_steps, NULL, NULL, &error);
      if (f == NULL)
        {
          status = fail (error);
          goto out;
        }
    }

  if (cam_npy)
    {
      int shape[2] = { e->map_h, e->map_w };
      if (!xc_npy_write (cam_npy, e->map, shape, 2, &error))
        {
          status = fail (error);
          goto out;
        }
    }
  if (grad_npy)
    {
      int shape[4] = { 1, e->grad_h, e->grad_w, e->grad_c };
      if (e->grad == NULL)
        {
          g_printerr ("xception-cli: --grad-npy: %s has no gradient\n",
                      xc_method_name (e->method));
          status = EXIT_USER;
          goto out;
        }
      if (!xc_npy_write (grad_npy, e->grad, shape, 4, &error))
        {
          status = fail (error);
          goto out;
        }
    }
  if (out_png)
    {
      int oh = image ? image->h : in->h, ow = image ? image->w : in->w;
      g_autofree guint8 *rgb = xc_render_heatmap (e->map, e->map_h, e->map_w, image, oh, ow,
                                                  cmap, (float) alpha);
      if (!xc_write_png_rgb (out_png, rgb, ow, oh, &error))
        {
          status = fail (error);
          goto out;
        }
    }

  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autofree char *s = NULL;
      const char *label = xc_model_label (model, e->target_class);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "model");
      json_builder_add_string_value (b, model->name);
      json_builder_set_member_name (b, "input");
      json_builder_add_string_value (b, npy ? npy : images[0]);
      json_builder_set_member_name (b, "method");
      json_builder_add_string_value (b, xc_method_name (e->method));
      json_builder_set_member_name (b, "layer");
      if (xc_method_uses_layer (e->method))
        json_builder_add_string_value (b, xc_model_node (model, e->layer)->name);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "target");
      json_builder_begin_object (b);
      add_int (b, "index", e->target_class);
      json_builder_set_member_name (b, "label");
      if (label)
        json_builder_add_string_value (b, label);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "counterfactual");
      json_builder_add_boolean_value (b, counterfactual);
      json_builder_end_object (b);
      json_builder_set_member_name (b, "score");
      json_builder_add_double_value (b, e->score);
      json_builder_set_member_name (b, "probability");
      json_builder_add_double_value (b, e->probability);
      json_builder_set_member_name (b, "map_shape");
      json_builder_begin_array (b);
      json_builder_add_int_value (b, e->map_h);
      json_builder_add_int_value (b, e->map_w);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "time_ms");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "forward");
      json_builder_add_double_value (b, forward_ms);
      json_builder_set_member_name (b, "explain");
      json_builder_add_double_value (b, e->time_ms);
      json_builder_end_object (b);
      if (f)
        {
          json_builder_set_member_name (b, "metrics");
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "deletion_auc");
          json_builder_add_double_value (b, f->deletion_auc);
          json_builder_set_member_name (b, "insertion_auc");
          json_builder_add_double_value (b, f->insertion_auc);
          json_builder_set_member_name (b, "average_drop");
          json_builder_add_double_value (b, f->average_drop);
          json_builder_set_member_name (b, "increase_in_confidence");
          json_builder_add_double_value (b, f->increase);
          json_builder_set_member_name (b, "deletion");
          json_builder_begin_array (b);
          for (int k = 0; k <= f->steps; k++)
            json_builder_add_double_value (b, f->deletion[k]);
          json_builder_end_array (b);
          json_builder_set_member_name (b, "insertion");
          json_builder_begin_array (b);
          for (int k = 0; k <= f->steps; k++)
            json_builder_add_double_value (b, f->insertion[k]);
          json_builder_end_array (b);
          json_builder_end_object (b);
        }
      json_builder_end_object (b);
      s = print_json (b);
      g_print ("%s\n", s);
    }
  else
    {
      const char *label = xc_model_label (model, e->target_class);
      g_print ("%s%s of class %d%s%s%s (p = %.4f, %s %.4f) at %s: %dx%d map in %.1f ms "
               "(forward %.1f ms)\n",
               counterfactual ? "counterfactual " : "", xc_method_name (e->method),
               e->target_class, label ? " (" : "", label ? label : "", label ? ")" : "",
               e->probability, score_s ? score_s : "logit", e->score,
               xc_method_uses_layer (e->method) ? xc_model_node (model, e->layer)->name : "input",
               e->map_h, e->map_w, e->time_ms, forward_ms);
      if (f)
        g_print ("faithfulness: deletion AUC %.4f (lower is better), insertion AUC %.4f (higher "
                 "is better), average drop %.2f%%, increase in confidence %s\n",
                 f->deletion_auc, f->insertion_auc, f->average_drop, f->increase ? "yes" : "no");
      if (out_png)
        g_print ("wrote %s\n", out_png);
    }

out:
  model_args_clear (&ma);
  return status;
}

/* main ------------------------------------------------------------------- */

static const struct {
  const char *name;
  int (*run) (int argc, char **argv);
  const char *help;
} commands[] = {
  { "predict", cmd_predict, "top-k classes for images" },
  { "dump", cmd_dump, "write layer outputs as .npy" },
  { "explain", cmd_explain, "heatmaps: Grad-CAM and family, gradients, occlusion" },
  { "summary", cmd_summary, "layers, params, MACs, standard-convolution costs" },
  { "bench", cmd_bench, "time the forward pass" },
};

static void
print_usage (void)
{
  g_printerr ("Usage: xception-cli COMMAND [OPTIONS]\n\nCommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    g_printerr ("  %-10s %s\n", commands[i].name, commands[i].help);
  g_printerr ("\n'xception-cli COMMAND --help' describes each.\n");
}

int
main (int argc, char **argv)
{
  xc_runtime_init (argv);
  setlocale (LC_ALL, "");
  setlocale (LC_NUMERIC, "C");

  if (argc < 2)
    {
      print_usage ();
      return EXIT_USAGE;
    }
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") ||
      g_str_equal (argv[1], "help"))
    {
      print_usage ();
      return 0;
    }
  if (g_getenv ("OPENBLAS_NUM_THREADS") == NULL && g_getenv ("OMP_NUM_THREADS") == NULL)
    xc_set_threads (2);
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (argv[1], commands[i].name))
      {
        g_autofree char *prg = g_strdup_printf ("xception-cli %s", argv[1]);
        argv[1] = prg;
        return commands[i].run (argc - 1, argv + 1);
      }
  g_printerr ("xception-cli: unknown command '%s'\n", argv[1]);
  print_usage ();
  return EXIT_USAGE;
}
