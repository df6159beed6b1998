/* SPDX-License-Identifier: MIT
 *
 * xception-cli: the engine from the command line. One function per command;
 * every user error ends in one line on stderr and exit status 1, bad usage
 * in exit status 2.
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
      "Keras .h5 file, embedded:NAME, imagenet:xception or "
      "builtin:xception[:size=S,channels=C,classes=K,width=W,variant=standard] "
      "(default: embedded:xception-tiny-fmnist)",
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
  g_autoptr(XcModel) model = xc_model_load_spec (a->model ? a->model : xc_model_default_spec (),
                                                 error);

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

/* The whole command line as typed, for the record a trained model keeps */
static char *command_line;

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
      g_autofree char *s1 = xc_format_count (p), *s2 = xc_format_count (t), *s3 = xc_format_count (m);
      g_autofree char *s4 = xc_format_count (sp), *s5 = xc_format_count (sm);
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


/* train, finetune, evaluate ------------------------------------------------- */

static volatile gint cancel_requested;

static void
on_sigint (int sig)
{
  g_atomic_int_set (&cancel_requested, 1);
}

typedef struct {
  gboolean json;
  gint64   last_print;
} TrainLog;

static gboolean
train_progress_cb (const XcTrainProgress *p, gpointer data)
{
  TrainLog *log = data;
  gint64 now = g_get_monotonic_time ();

  if (p->epoch_done || now - log->last_print > 2 * G_USEC_PER_SEC)
    {
      log->last_print = now;
      if (log->json)
        g_print ("{\"epoch\": %d, \"step\": %" G_GUINT64_FORMAT ", \"steps\": %" G_GUINT64_FORMAT
                 ", \"loss\": %.5f, \"accuracy\": %.5f, \"lr\": %.6f, \"images_per_s\": %.1f, "
                 "\"eta_s\": %.0f, \"epoch_done\": %s, \"val_accuracy\": %.5f}\n", p->epoch,
                 p->step, p->steps, p->loss, p->accuracy, p->lr, p->images_per_s, p->eta_s,
                 p->epoch_done ? "true" : "false", p->val_accuracy);
      else if (p->epoch_done)
        {
          g_autofree char *val = p->val_accuracy >= 0
                                 ? g_strdup_printf (", validation accuracy %.2f%%",
                                                    100 * p->val_accuracy)
                                 : g_strdup ("");
          g_print ("epoch %d/%d done: loss %.4f, train accuracy %.2f%%%s, %.0f images/s\n",
                   p->epoch, p->epochs, p->loss, 100 * p->accuracy, val, p->images_per_s);
        }
      else
        g_print ("epoch %d/%d step %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT ": loss %.4f, "
                 "accuracy %.2f%%, lr %.5f, %.0f images/s, %.0f s left\n", p->epoch, p->epochs,
                 p->step, p->steps, p->loss, 100 * p->accuracy, p->lr, p->images_per_s,
                 p->eta_s);
    }
  return !g_atomic_int_get (&cancel_requested);
}

static char *
labels_json (const XcDataset *ds)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_array (b);
  for (guint i = 0; i < ds->class_names->len; i++)
    json_builder_add_string_value (b, ds->class_names->pdata[i]);
  json_builder_end_array (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

static void
report_skipped (const XcDataset *ds)
{
  for (guint i = 0; i < ds->skipped->len; i++)
    g_printerr ("xception-cli: skipped %s\n", (char *) ds->skipped->pdata[i]);
}

typedef struct {
  int      epochs, batch, threads, subset, crop_pad;
  double   lr, weight_decay, warmup;
  char    *optimizer, *dataset, *out;
  int      seed;
  gboolean no_augment, flip, json;
} TrainArgs;

static GOptionEntry *
train_entries (TrainArgs *t)
{
  static GOptionEntry e[16];
  GOptionEntry entries[] = {
    { "dataset", 'd', 0, G_OPTION_ARG_STRING, &t->dataset,
      "fashion-mnist:DIR or imagefolder:DIR", "SPEC" },
    { "epochs", 'e', 0, G_OPTION_ARG_INT, &t->epochs, "Epochs (10)", "N" },
    { "batch", 'b', 0, G_OPTION_ARG_INT, &t->batch, "Batch size (64)", "B" },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &t->lr, "Peak learning rate (SGD 0.05, AdamW 0.002)",
      "LR" },
    { "optimizer", 0, 0, G_OPTION_ARG_STRING, &t->optimizer, "sgd (momentum 0.9) or adamw",
      "NAME" },
    { "weight-decay", 0, 0, G_OPTION_ARG_DOUBLE, &t->weight_decay, "On kernels (5e-4)", "WD" },
    { "warmup", 0, 0, G_OPTION_ARG_DOUBLE, &t->warmup, "Warm-up epochs (1)", "E" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &t->seed, "Seed for init, shuffling, augmentation (1)",
      "S" },
    { "subset", 0, 0, G_OPTION_ARG_INT, &t->subset, "Train on a seeded subset of N images",
      "N" },
    { "crop-pad", 0, 0, G_OPTION_ARG_INT, &t->crop_pad,
      "Random crop after zero padding by P pixels (2; 0 turns it off)", "P" },
    { "flip", 0, 0, G_OPTION_ARG_NONE, &t->flip, "Random horizontal flips (off by default: "
      "wrong for X-rays and digits)", NULL },
    { "threads", 't', 0, G_OPTION_ARG_INT, &t->threads, "Threads (all cores)", "T" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &t->out, "The trained model (.h5)", "FILE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &t->json, "Progress as JSON lines", NULL },
    { NULL }
  };
  memcpy (e, entries, sizeof entries);
  return e;
}

static void
train_args_defaults (TrainArgs *t)
{
  *t = (TrainArgs) { .epochs = 10, .batch = 64, .lr = -1, .weight_decay = 5e-4, .warmup = 1,
                     .seed = 1, .crop_pad = 2, .threads = 0 };
}

static void
train_args_clear (TrainArgs *t)
{
  g_free (t->optimizer);
  g_free (t->dataset);
  g_free (t->out);
}

static gboolean
train_options_from (const TrainArgs *t, XcTrainOptions *o, GError **error)
{
  xc_train_options_init (o);
  o->epochs = t->epochs;
  o->batch = t->batch;
  o->seed = (guint64) t->seed;
  o->weight_decay = t->weight_decay;
  o->warmup_epochs = t->warmup;
  o->augment.crop_pad = t->crop_pad;
  o->augment.flip = t->flip;
  o->augment.seed = (guint64) t->seed;
  if (t->optimizer == NULL || g_str_equal (t->optimizer, "sgd"))
    o->optimizer = XC_OPTIMIZER_SGD, o->lr = t->lr > 0 ? t->lr : 0.05;
  else if (g_str_equal (t->optimizer, "adamw"))
    o->optimizer = XC_OPTIMIZER_ADAMW, o->lr = t->lr > 0 ? t->lr : 0.002;
  else
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "--optimizer %s: sgd or adamw",
                   t->optimizer);
      return FALSE;
    }
  if (t->epochs < 1 || t->batch < 1 || t->batch > 4096 || t->crop_pad < 0 || t->crop_pad > 64 ||
      t->warmup < 0 || t->weight_decay < 0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "bad --epochs, --batch, --crop-pad, "
                   "--warmup or --weight-decay");
      return FALSE;
    }
  return TRUE;
}

/* Train, report, evaluate on the test/val split, save with our attributes */
static int
run_training (XcModel *model, const TrainArgs *t, const XcTrainOptions *o0, char **argv,
              int argc, const char *cmd)
{
  const XcNode *in = xc_model_input (model);
  g_autoptr(XcDataset) train = NULL, full = NULL, test = NULL;
  g_autoptr(XcEvaluation) ev = NULL;
  g_autofree char *labels = NULL, *command = NULL, *acc = NULL, *ckpt = NULL;
  g_autofree char *secs_s = NULL, *rate_s = NULL;
  GError *error = NULL;
  XcTrainOptions o = *o0;
  TrainLog log = { t->json, 0 };
  gint64 t0;
  double secs;
  const char *attrs[13];

  full = xc_dataset_load (t->dataset, "train", in->h, in->w, in->c, (guint64) t->seed, &error);
  if (full == NULL)
    return fail (error);
  report_skipped (full);
  train = t->subset > 0 ? xc_dataset_subset (full, t->subset, (guint64) t->seed)
                        : g_steal_pointer (&full);
  test = xc_dataset_load (t->dataset, g_str_has_prefix (t->dataset, "fashion-mnist:") ? "test"
                                                                                      : "val",
                          in->h, in->w, in->c, (guint64) t->seed, &error);
  if (test == NULL)
    return fail (error);
  if (train->n_classes != xc_model_node (model, model->output)->c)
    {
      g_printerr ("xception-cli: %s has %d classes, the model %d\n", t->dataset,
                  train->n_classes, xc_model_node (model, model->output)->c);
      return EXIT_USER;
    }
  labels = labels_json (train);
  command = g_strdup (command_line ? command_line : cmd);
  ckpt = g_strdup_printf ("%s.checkpoint.h5", t->out);
  attrs[0] = "xception_studio_labels", attrs[1] = labels;
  attrs[2] = "xception_studio_command", attrs[3] = command;
  attrs[4] = NULL;
  o.checkpoint = ckpt;
  o.checkpoint_attrs = attrs;
  g_print ("training %s on %d images of %s (%d classes), %d epochs of batch %d, %s lr %g, "
           "seed %d; evaluating on %d images\n", model->name, train->n, train->name,
           train->n_classes, o.epochs, o.batch,
           o.optimizer == XC_OPTIMIZER_SGD ? "SGD" : "AdamW", o.lr, t->seed, test->n);
  signal (SIGINT, on_sigint);
  t0 = g_get_monotonic_time ();
  if (!xc_train (model, train, NULL, &o, train_progress_cb, &log, &error))
    {
      g_printerr ("xception-cli: %s (the last epoch's checkpoint is %s)\n", error->message, ckpt);
      g_error_free (error);
      return EXIT_USER;
    }
  secs = (g_get_monotonic_time () - t0) / 1e6;
  ev = xc_evaluate (model, test, 100, NULL, NULL, &error);
  if (ev == NULL)
    return fail (error);
  g_print ("trained in %.1f s (%.1f images/s); %s accuracy %.2f%% on %d images\n", secs,
           (double) train->n * o.epochs / secs, test->name, 100 * ev->accuracy, ev->n);
  acc = g_strdup_printf ("%.6f", ev->accuracy);
  secs_s = g_strdup_printf ("%.1f", secs);
  rate_s = g_strdup_printf ("%.1f", (double) (train->n / o.batch) * o.batch * o.epochs / secs);
  attrs[4] = "xception_studio_test_accuracy", attrs[5] = acc;
  attrs[6] = "xception_studio_train_seconds", attrs[7] = secs_s;
  attrs[8] = "xception_studio_images_per_second", attrs[9] = rate_s;
  attrs[10] = NULL;
  if (!xc_keras_save_model (model, t->out, attrs, &error))
    return fail (error);
  g_unlink (ckpt);
  g_print ("wrote %s\n", t->out);
  return 0;
}

static int
cmd_train (int argc, char **argv)
{
  TrainArgs t;
  int status = 0, input_size = 71;
  g_autofree char *arch = NULL, *width = NULL;
  GOptionEntry entries[] = {
    { "arch", 'a', 0, G_OPTION_ARG_STRING, &arch, "xception, xception-standard or mini-xception",
      "ARCH" },
    { "width", 'w', 0, G_OPTION_ARG_STRING, &width, "Xception width multiplier (1/8)", "W" },
    { "input-size", 's', 0, G_OPTION_ARG_INT, &input_size,
      "Input size (71; Xception needs >= 71; images are resized to it)", "S" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr(XcModel) model = NULL;
  g_autoptr(XcDataset) probe = NULL;
  XcTrainOptions o;
  GError *error = NULL;
  int channels = 1, classes = 10;

  train_args_defaults (&t);
  g_option_context_set_summary (ctx, "Train a classifier from scratch and save it as a Keras "
                                "HDF5 model.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_main_entries (ctx, train_entries (&t), NULL);
  if (!parse_args (ctx, &argc, &argv, &status))
    goto out;
  if (arch == NULL || t.dataset == NULL || t.out == NULL)
    {
      g_printerr ("xception-cli train: --arch, --dataset and --out are required\n");
      status = EXIT_USAGE;
      goto out;
    }
  if (!train_options_from (&t, &o, &error))
    {
      g_printerr ("xception-cli train: %s\n", error->message);
      g_error_free (error);
      status = EXIT_USAGE;
      goto out;
    }
  xc_set_threads (t.threads > 0 ? t.threads : (int) g_get_num_processors ());
  /* the dataset decides channels and classes */
  if (g_str_has_prefix (t.dataset, "imagefolder:"))
    {
      g_autoptr(XcDataset) d = xc_dataset_load (t.dataset, "val", 8, 8, 3, 1, &error);
      if (d == NULL)
        {
          status = fail (error);
          goto out;
        }
      classes = d->n_classes;
      channels = 3;
    }
  if (g_str_equal (arch, "mini-xception"))
    model = xc_mini_xception_new (input_size, channels, classes, &error);
  else if (g_str_equal (arch, "xception") || g_str_equal (arch, "xception-standard"))
    {
      g_autofree char *spec = g_strdup_printf ("builtin:xception:size=%d,channels=%d,classes=%d,"
                                               "width=%s%s", input_size, channels, classes,
                                               width ? width : "1/8",
                                               g_str_equal (arch, "xception-standard")
                                               ? ",variant=standard" : "");
      model = xc_model_load_spec (spec, &error);
    }
  else
    {
      g_printerr ("xception-cli train: --arch %s: xception, xception-standard or mini-xception\n",
                  arch);
      status = EXIT_USAGE;
      goto out;
    }
  if (model == NULL)
    {
      status = fail (error);
      goto out;
    }
  xc_model_init_training (model, (guint64) t.seed);
  model->preprocess = XC_PREPROCESS_TF;
  status = run_training (model, &t, &o, argv, argc, "train");

out:
  train_args_clear (&t);
  return status;
}

static int
cmd_finetune (int argc, char **argv)
{
  TrainArgs t;
  ModelArgs ma = { 0 };
  int status = 0;
  g_autofree char *freeze = NULL;
  GOptionEntry entries[] = {
    { "freeze-until", 0, 0, G_OPTION_ARG_STRING, &freeze,
      "Keep this layer and all before it fixed (default: the whole body)", "LAYER" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr(XcModel) base = NULL, model = NULL;
  XcTrainOptions o;
  GError *error = NULL;

  train_args_defaults (&t);
  t.epochs = 5;
  t.crop_pad = 0;
  g_option_context_set_summary (ctx, "A new classifier head (global average pooling, dropout, "
                                "dense) on a trained body, for the classes of an image folder.");
  g_option_context_add_main_entries (ctx, model_entries (&ma), NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_main_entries (ctx, train_entries (&t), NULL);
  if (!parse_args (ctx, &argc, &argv, &status))
    goto out;
  if (ma.model == NULL || t.dataset == NULL || t.out == NULL)
    {
      g_printerr ("xception-cli finetune: --model, --dataset and --out are required\n");
      status = EXIT_USAGE;
      goto out;
    }
  if (!train_options_from (&t, &o, &error))
    {
      g_printerr ("xception-cli finetune: %s\n", error->message);
      g_error_free (error);
      status = EXIT_USAGE;
      goto out;
    }
  xc_set_threads (t.threads > 0 ? t.threads : (int) g_get_num_processors ());
  base = load_model (&ma, &error);
  if (base == NULL)
    {
      status = fail (error);
      goto out;
    }
  {
    const XcNode *in = xc_model_input (base);
    g_autoptr(XcDataset) d = xc_dataset_load (t.dataset, "val", in->h, in->w, in->c,
                                              (guint64) t.seed, &error);
    if (d == NULL)
      {
        status = fail (error);
        goto out;
      }
    model = xc_model_with_new_head (base, d->n_classes, (guint64) t.seed, &error);
  }
  if (model == NULL)
    {
      status = fail (error);
      goto out;
    }
  if (freeze && !xc_model_lookup (model, freeze, &o.freeze_until, &error))
    {
      status = fail (error);
      goto out;
    }
  if (freeze == NULL)
    xc_model_lookup (model, "head_pool", &o.freeze_until, NULL), o.freeze_until--;
  status = run_training (model, &t, &o, argv, argc, "finetune");

out:
  train_args_clear (&t);
  model_args_clear (&ma);
  return status;
}

static int
cmd_evaluate (int argc, char **argv)
{
  ModelArgs ma = { 0 };
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
  g_option_context_add_main_entries (ctx, model_entries (&ma), NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!parse_args (ctx, &argc, &argv, &status))
    goto out;
  if (dataset == NULL || batch < 1)
    {
      g_printerr ("xception-cli evaluate: --dataset is required\n");
      status = EXIT_USAGE;
      goto out;
    }
  model = load_model (&ma, &error);
  if (model == NULL)
    {
      status = fail (error);
      goto out;
    }
  in = xc_model_input (model);
  ds = xc_dataset_load (dataset, split ? split : "test", in->h, in->w, in->c, 1, &error);
  if (ds == NULL)
    {
      status = fail (error);
      goto out;
    }
  report_skipped (ds);
  if (subset > 0)
    {
      XcDataset *sub = xc_dataset_subset (ds, subset, 1);
      xc_dataset_free (ds);
      ds = sub;
    }
  ev = xc_evaluate (model, ds, batch, NULL, NULL, &error);
  if (ev == NULL)
    {
      status = fail (error);
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
      add_int (b, "images", ev->n);
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
      s = print_json (b);
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
  model_args_clear (&ma);
  return status;
}


/* compare, report ------------------------------------------------------------ */

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
      g_autoptr(XcImage) img = xc_image_load (path, error);
      return img && xc_image_to_input (img, model, dst, error);
    }
}

static void
add_prediction (JsonBuilder *b, const XcModel *m, int c, float p)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, m->name);
  add_int (b, "index", c);
  json_builder_set_member_name (b, "label");
  if (xc_model_label (m, c))
    json_builder_add_string_value (b, xc_model_label (m, c));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "probability");
  json_builder_add_double_value (b, p);
  json_builder_end_object (b);
}

static int
cmd_compare (int argc, char **argv)
{
  int status = 0, subset = 0, runs = 5;
  gboolean json = FALSE;
  g_auto(GStrv) models = NULL, images = NULL;
  g_autofree char *dataset = NULL, *method_s = NULL, *split = NULL;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_STRING_ARRAY, &models, "A model (give two)", "MODEL" },
    { "dataset", 'd', 0, G_OPTION_ARG_STRING, &dataset, "fashion-mnist:DIR or imagefolder:DIR",
      "SPEC" },
    { "split", 0, 0, G_OPTION_ARG_STRING, &split, "test (default) or val", "SPLIT" },
    { "subset", 0, 0, G_OPTION_ARG_INT, &subset, "A seeded subset of N dataset images", "N" },
    { "method", 0, 0, G_OPTION_ARG_STRING, &method_s,
      "Also explain both models' top class of model A with this method and correlate the maps",
      "NAME" },
    { "runs", 0, 0, G_OPTION_ARG_INT, &runs, "Timed runs for each model's latency (5)", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
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
  if (!parse_args (ctx, &argc, &argv, &status))
    goto out;
  if (models == NULL || g_strv_length (models) != 2 || (images == NULL) == (dataset == NULL) ||
      (method_s && !xc_method_from_string (method_s, &method)))
    {
      g_printerr ("xception-cli compare: give --model A --model B, and images or --dataset "
                  "(and a known --method)\n");
      status = EXIT_USAGE;
      goto out;
    }
  for (int k = 0; k < 2; k++)
    {
      m[k] = xc_model_load_spec (models[k], &error);
      if (m[k] == NULL || !xc_model_measure_cost (m[k], runs, &cost[k], &error) ||
          !(plan[k] = xc_plan_new (m[k], 1, NULL, &error)))
        {
          status = fail (error);
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
          status = fail (error);
          goto out;
        }
    }
  if (dataset)
    {
      const XcNode *in = xc_model_input (m[0]);
      ds = xc_dataset_load (dataset, split ? split : "test", in->h, in->w, in->c, 1, &error);
      if (ds == NULL)
        {
          status = fail (error);
          goto out;
        }
      if (subset > 0)
        {
          XcDataset *sub = xc_dataset_subset (ds, subset, 1);
          xc_dataset_free (ds);
          ds = sub;
        }
      n_inputs = ds->n;
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
      add_int (b, "params", p);
      add_int (b, "macs", macs);
      json_builder_set_member_name (b, "latency_ms");
      json_builder_add_double_value (b, cost[k].latency_ms);
      add_int (b, "memory_bytes", cost[k].memory_bytes);
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
      g_autofree char *name = ds ? g_strdup_printf ("%s[%d]", ds->name, i) : g_strdup (images[i]);

      for (int k = 0; k < 2; k++)
        {
          XcTensor in = xc_plan_input (plan[k]), out;
          if (!input_for (m[k], ds ? NULL : images[i], ds, i, in.data, &error))
            {
              status = fail (error);
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
                status = fail (error);
                goto out;
              }
          e0 = xc_explainer_run (ex[0], &o[0], NULL, NULL, &error);
          e1 = e0 ? xc_explainer_run (ex[1], &o[1], NULL, NULL, &error) : NULL;
          if (e1 == NULL)
            {
              status = fail (error);
              goto out;
            }
          corr = xc_map_correlation (e0->map, e0->map_h, e0->map_w, e1->map, e1->map_h,
                                     e1->map_w);
        }
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "input");
      json_builder_add_string_value (b, name);
      if (ds)
        add_int (b, "truth", ds->labels[i]);
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
      g_autofree char *s = print_json (b);
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
          g_print ("%c: %s — %s params, %s MACs, %.2f ms, %.1f MB%s", 'A' + k, m[k]->name, ps, ms,
                   cost[k].latency_ms, cost[k].memory_bytes / 1048576.0,
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
static gboolean
report_model (XcModel *model, const XcImage *image, const XcModel *ref, int ref_class,
              XcReportModel *rm, float **probs, XcExplanation **e, XcFaithfulness **f,
              GError **error)
{
  const XcNode *in = xc_model_input (model);
  g_autofree float *input = g_new (float, (size_t) in->h * in->w * in->c);
  g_autoptr(XcExplainer) ex = NULL;
  XcExplainOptions o;
  int cls;

  if (!xc_image_to_input (image, model, input, error) ||
      !xc_model_measure_cost (model, 5, &rm->cost, error) ||
      !(ex = xc_explainer_new (model, error)) || !xc_explainer_set_input (ex, input, error))
    return FALSE;
  *probs = g_memdup2 (xc_explainer_probabilities (ex),
                      xc_model_node (model, model->output)->c * sizeof (float));
  xc_explain_options_init (&o);
  if (ref && xc_compare_match_class (ref, ref_class, model, &cls))
    o.target_class = cls;
  *e = xc_explainer_run (ex, &o, NULL, NULL, error);
  if (*e == NULL)
    return FALSE;
  *f = xc_explainer_faithfulness (ex, *e, 20, NULL, NULL, error);
  if (*f == NULL)
    return FALSE;
  rm->model = model;
  rm->probs = *probs;
  rm->explanation = *e;
  rm->faithfulness = *f;
  return TRUE;
}

static int
cmd_report (int argc, char **argv)
{
  ModelArgs ma = { 0 };
  int status = 0;
  g_autofree char *compare = NULL, *out = NULL;
  g_auto(GStrv) images = NULL;
  GOptionEntry entries[] = {
    { "compare-model", 0, 0, G_OPTION_ARG_STRING, &compare, "A second model, side by side",
      "MODEL" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "The PDF to write", "FILE.pdf" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &images, NULL, "IMAGE" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("IMAGE");
  g_autoptr(XcModel) a = NULL, b = NULL;
  g_autoptr(XcImage) image = NULL;
  g_autofree float *pa = NULL, *pb = NULL;
  g_autoptr(XcExplanation) ea = NULL, eb = NULL;
  g_autoptr(XcFaithfulness) fa = NULL, fb = NULL;
  g_autofree char *base = NULL;
  XcReport r = { 0 };
  GError *error = NULL;

  g_option_context_set_summary (ctx, "A PDF report: image, predictions, explanation, costs, "
                                "and a second model side by side.");
  g_option_context_add_main_entries (ctx, model_entries (&ma), NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!parse_args (ctx, &argc, &argv, &status))
    goto out_label;
  if (images == NULL || g_strv_length (images) != 1 || out == NULL)
    {
      g_printerr ("xception-cli report: give one IMAGE and --out FILE.pdf\n");
      status = EXIT_USAGE;
      goto out_label;
    }
  if (!(a = load_model (&ma, &error)) || !(image = xc_image_load (images[0], &error)) ||
      !report_model (a, image, NULL, 0, &r.a, &pa, &ea, &fa, &error))
    {
      status = fail (error);
      goto out_label;
    }
  if (compare)
    {
      if (!(b = xc_model_load_spec (compare, &error)) ||
          !report_model (b, image, a, ea->target_class, &r.b, &pb, &eb, &fb, &error))
        {
          status = fail (error);
          goto out_label;
        }
    }
  base = g_path_get_basename (images[0]);
  r.image = image;
  r.image_name = base;
  if (!xc_report_write_pdf (&r, out, &error))
    {
      status = fail (error);
      goto out_label;
    }
  g_print ("wrote %s (%d pages)\n", out, compare ? 3 : 2);

out_label:
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
  { "train", cmd_train, "train a classifier from scratch" },
  { "finetune", cmd_finetune, "a new classifier head on a trained body" },
  { "evaluate", cmd_evaluate, "accuracy, precision, recall, confusion matrix" },
  { "compare", cmd_compare, "two models on the same images" },
  { "report", cmd_report, "a PDF report of an analysis" },
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
  {
    GString *c = g_string_new ("xception-cli");
    for (int i = 1; i < argc; i++)
      {
        g_autofree char *q = g_shell_quote (argv[i]);
        /* quote only what needs it */
        g_string_append_printf (c, " %s", strpbrk (argv[i], " '\"$") ? q : argv[i]);
      }
    command_line = g_string_free (c, FALSE);
  }
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
