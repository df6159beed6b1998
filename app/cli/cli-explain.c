/* SPDX-License-Identifier: MIT
 *
 * xception-cli explain: a heatmap for one image: the Grad-CAM family, gradient attributions, occlusion, faithfulness.
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

/* explain --dataset: every image of shard I of N explained for its top
 * class; each map written as OUT/maps/<id>.npy (raw, before upsampling) and
 * a record per image (cli-shard.c); resumable */
static int
explain_dataset (XcModel *model, const XcExplainOptions *base, const char *spec,
                 const char *split, int subset, const char *out_dir, guint index, guint count)
{
  const XcNode *in = xc_model_input (model);
  g_autoptr(XcDataset) ds = NULL;
  g_autoptr(XcExplainer) ex = NULL;
  g_autoptr(GArray) mine = NULL;
  g_autoptr(GPtrArray) ids = NULL;
  g_autoptr(JsonNode) header = NULL;
  g_autoptr(XsShard) shard = NULL;
  g_autofree char *maps = g_build_filename (out_dir, "maps", NULL);
  g_autofree char *what = NULL;
  g_autofree float *input = g_new (float, (size_t) in->h * in->w * in->c);
  XsProgress progress = { "explain" };
  GError *error = NULL;
  guint before, done = 0;

  if (!(ds = xc_dataset_load (spec, split ? split : "all", in->h, in->w, in->c, 1, &error)) ||
      !(ex = xc_explainer_new (model, &error)))
    return xs_cli_fail (error);
  xs_cli_report_skipped (ds);
  if (subset > 0)
    {
      XcDataset *sub = xc_dataset_subset (ds, subset, 1);
      xc_dataset_free (ds);
      ds = sub;
    }
  mine = xs_shard_select (ds, index, count);
  what = g_strdup_printf ("%s (split %s%s%d), %s%s%s", spec, split ? split : "all",
                          subset > 0 ? ", subset " : "", subset, xc_method_name (base->method),
                          base->layer != G_MAXUINT ? " at " : "",
                          base->layer != G_MAXUINT ? xc_model_node (model, base->layer)->name
                                                   : "");
  ids = xs_shard_ids (ds, mine);
  header = xs_shard_header ("explain", model->name, what, index, count, ids);
  if (g_mkdir_with_parents (maps, 0755) != 0 ||
      !(shard = xs_shard_open (out_dir, "explain", index, count, header, &error)))
    {
      if (error == NULL)
        g_set_error (&error, XC_ERROR, XC_ERROR_IO, "%s: cannot create the folder", maps);
      return xs_cli_fail (error);
    }
  before = g_hash_table_size (shard->done);
  for (guint k = 0; k < mine->len; k++)
    {
      int i = g_array_index (mine, int, k);
      const char *id = ds->ids->pdata[i];
      g_autoptr(XcExplanation) e = NULL;
      g_autoptr(JsonBuilder) rb = NULL;
      g_autofree char *file = NULL, *name = NULL, *path = NULL;
      XcExplainOptions o = *base;
      const float *p;
      int shape[2], top = 0;
      float mx = -G_MAXFLOAT;

      if (xs_shard_is_done (shard, id))
        continue;
      xc_dataset_fill (ds, &i, 1, model, NULL, 0, input);
      if (!xc_explainer_set_input (ex, input, &error))
        return xs_cli_fail (error);
      p = xc_explainer_probabilities (ex);
      for (int c = 1; c < xc_model_node (model, model->output)->c; c++)
        if (p[c] > p[top])
          top = c;
      if (o.target_class < 0)
        o.target_class = top;
      if (!(e = xc_explainer_run (ex, &o, NULL, NULL, &error)))
        {
          g_prefix_error (&error, "%s: ", id);
          return xs_cli_fail (error);
        }
      name = g_strdelimit (g_strdup (id), "/#\\", '_');
      file = g_strdup_printf ("maps/%s.npy", name);
      path = g_build_filename (out_dir, file, NULL);
      shape[0] = e->map_h, shape[1] = e->map_w;
      if (!xc_npy_write (path, e->map, shape, 2, &error))
        return xs_cli_fail (error);
      for (int c = 0; c < e->map_h * e->map_w; c++)
        mx = MAX (mx, e->map[c]);
      rb = xs_shard_record_begin (ds, i);
      json_builder_set_member_name (rb, "pred");
      json_builder_add_int_value (rb, top);
      json_builder_set_member_name (rb, "prob");
      json_builder_add_double_value (rb, p[top]);
      json_builder_set_member_name (rb, "class");
      json_builder_add_int_value (rb, e->target_class);
      json_builder_set_member_name (rb, "map");
      json_builder_add_string_value (rb, file);
      json_builder_set_member_name (rb, "map_size");
      json_builder_begin_array (rb);
      json_builder_add_int_value (rb, e->map_w);
      json_builder_add_int_value (rb, e->map_h);
      json_builder_end_array (rb);
      json_builder_set_member_name (rb, "map_max");
      json_builder_add_double_value (rb, mx);
      json_builder_end_object (rb);
      if (!xs_shard_add (shard, rb, &progress, &done, mine->len - before, &error))
        return xs_cli_fail (error);
    }
  return xs_shard_end (shard, "explain", "images", mine->len, done, before);
}

int
xs_cli_explain (int argc, char **argv)
{
  XsCliModelArgs ma = { 0 };
  int status = 0, steps = 0, window = 0, stride = 0, curve_steps = 20;
  gboolean json = FALSE, counterfactual = FALSE, metrics = FALSE;
  double alpha = 0.5;
  g_autofree char *npy = NULL, *method_s = NULL, *layer_s = NULL, *class_s = NULL;
  g_autofree char *out_png = NULL, *cam_npy = NULL, *grad_npy = NULL, *cmap_s = NULL;
  g_autofree char *score_s = NULL, *baseline_s = NULL;
  g_autofree char *dataset = NULL, *split = NULL, *shard_s = NULL, *out_dir = NULL;
  gboolean from_env = FALSE;
  int subset = 0;
  guint shard_i = 0, shard_n = 1;
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
    { "dataset", 'd', 0, G_OPTION_ARG_STRING, &dataset,
      "Explain every image of fashion-mnist:DIR or imagefolder:DIR (needs --out-dir)", "SPEC" },
    { "split", 0, 0, G_OPTION_ARG_STRING, &split, "With --dataset: train, val, test or all (default)",
      "SPLIT" },
    { "subset", 0, 0, G_OPTION_ARG_INT, &subset, "With --dataset: a seeded subset of N", "N" },
    { "shard", 0, 0, G_OPTION_ARG_STRING, &shard_s, "With --dataset: only shard I of N", "I/N" },
    { "shards-from-env", 0, 0, G_OPTION_ARG_NONE, &from_env,
      "The shard from SLURM_ARRAY_TASK_ID/_COUNT or JOB_COMPLETION_INDEX/XCEPTION_SHARDS", NULL },
    { "out-dir", 0, 0, G_OPTION_ARG_FILENAME, &out_dir,
      "With --dataset: every map as OUT/maps/ID.npy and a JSON Lines record per image "
      "(resumable); `merge` joins the shards", "DIR" },
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
  g_option_context_add_main_entries (ctx, xs_cli_model_entries (&ma), NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!xs_cli_parse_args (ctx, &argc, &argv, &status))
    goto out;
  xc_explain_options_init (&opts);
  if (dataset || out_dir || shard_s || from_env)
    {
      if (dataset == NULL || out_dir == NULL || images || npy ||
          !xs_shard_parse (shard_s, from_env, &shard_i, &shard_n, &error))
        {
          if (error)
            status = xs_cli_fail (error);
          else
            {
              g_printerr ("xception-cli explain: --dataset goes with --out-dir (and no IMAGE)\n");
              status = EXIT_USAGE;
            }
          goto out;
        }
      if ((method_s && !xc_method_from_string (method_s, &opts.method)) ||
          !(model = xs_cli_load_model (&ma, &error)) ||
          !parse_class (model, class_s, &opts.target_class, &error) ||
          (layer_s && !xc_model_lookup (model, layer_s, &opts.layer, &error)))
        {
          status = error ? xs_cli_fail (error) : EXIT_USAGE;
          if (!error)
            g_printerr ("xception-cli explain: --method %s: unknown\n", method_s);
          goto out;
        }
      opts.counterfactual = counterfactual;
      opts.steps = steps, opts.window = window, opts.stride = stride;
      status = explain_dataset (model, &opts, dataset, split, subset, out_dir, shard_i, shard_n);
      goto out;
    }
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
  if (score_s && !xc_score_from_string (score_s, &opts.score))
    {
      g_printerr ("xception-cli explain: --score %s (logit, probability, log-probability)\n",
                  score_s);
      status = EXIT_USAGE;
      goto out;
    }
  if (baseline_s && !xc_baseline_from_string (baseline_s, &opts.baseline))
    {
      g_printerr ("xception-cli explain: --baseline %s (zero, black, blurred)\n", baseline_s);
      status = EXIT_USAGE;
      goto out;
    }
  opts.counterfactual = counterfactual;
  opts.steps = steps;
  opts.window = window;
  opts.stride = stride;

  model = xs_cli_load_model (&ma, &error);
  if (model == NULL || !parse_class (model, class_s, &opts.target_class, &error))
    {
      status = xs_cli_fail (error);
      goto out;
    }
  if (layer_s && !xc_model_lookup (model, layer_s, &opts.layer, &error))
    {
      status = xs_cli_fail (error);
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
          status = xs_cli_fail (error);
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
      image = xs_cli_load_image (images[0], &error);
      if (image == NULL || !xc_image_to_input (image, model, input, &error))
        {
          status = xs_cli_fail (error);
          goto out;
        }
    }

  t0 = g_get_monotonic_time ();
  ex = xc_explainer_new (model, &error);
  /* the forward on its own (the explainer would otherwise run it lazily) */
  if (ex == NULL || !xc_explainer_forward (ex, input, FALSE, NULL, NULL, &error))
    {
      status = xs_cli_fail (error);
      goto out;
    }
  forward_ms = (g_get_monotonic_time () - t0) / 1000.0;
  e = xc_explainer_run (ex, &opts, NULL, NULL, &error);
  if (e == NULL)
    {
      status = xs_cli_fail (error);
      goto out;
    }
  if (metrics)
    {
      f = xc_explainer_faithfulness (ex, e, curve_steps, NULL, NULL, &error);
      if (f == NULL)
        {
          status = xs_cli_fail (error);
          goto out;
        }
    }

  if (cam_npy)
    {
      int shape[2] = { e->map_h, e->map_w };
      if (!xc_npy_write (cam_npy, e->map, shape, 2, &error))
        {
          status = xs_cli_fail (error);
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
          status = xs_cli_fail (error);
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
          status = xs_cli_fail (error);
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
      xs_cli_add_int (b, "index", e->target_class);
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
      s = xs_cli_print_json (b);
      g_print ("%s\n", s);
    }
  else
    {
      const char *label = xc_model_label (model, e->target_class);
      g_print ("%s%s of class %d%s%s%s (p = %.4f, %s %.4f) at %s: %dx%d map in %.1f ms "
               "(forward %.1f ms)\n",
               counterfactual ? "counterfactual " : "", xc_method_name (e->method),
               e->target_class, label ? " (" : "", label ? label : "", label ? ")" : "",
               e->probability, xc_score_name (opts.score), e->score,
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
  xs_cli_model_args_clear (&ma);
  return status;
}
