/* SPDX-License-Identifier: MIT
 *
 * xception-cli localize: where the evidence lies, against ground truth.
 * For every image of a boxes file (BOXES.csv: image,x,y,width,height,label
 * in original-image pixels, the layout of RSNA pneumonia and VinDr-CXR
 * boxes; several rows of one image and label are one region) and every
 * label it has, the map of that label's class is measured with the
 * pointing game and IoU after Otsu's threshold (engine/xc-localize.c).
 * --masks DIR takes DIR/LABEL/IMAGE (any image, nonzero inside) instead of
 * boxes where such a file exists. Summaries per class and overall, with the
 * number of images.
 */
#define G_LOG_DOMAIN "xception-cli"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <json-glib/json-glib.h>

#include "xc.h"
#include "cli-common.h"
#include "cli-shard.h"

/* The class a label names: one of the model's labels, or its index */
static gboolean
label_class (const XcModel *model, const char *label, int *cls, GError **error)
{
  int n = xc_model_node (model, model->output)->c;
  char *end = NULL;
  gint64 v;

  for (int c = 0; c < n; c++)
    if (xc_model_label (model, c) && g_str_equal (xc_model_label (model, c), label))
      {
        *cls = c;
        return TRUE;
      }
  v = g_ascii_strtoll (label, &end, 10);
  if (end != label && *end == '\0' && v >= 0 && v < n)
    {
      *cls = (int) v;
      return TRUE;
    }
  g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "label '%s' is none of the model's %d "
               "classes (by name or index)", label, n);
  return FALSE;
}

/* DIR/LABEL/IMAGE as a mask at the image's size (nearest), or NULL */
static guint8 *
read_mask (const char *dir, const char *label, const char *image, int h, int w, GError **error)
{
  g_autofree char *base = g_path_get_basename (image);
  g_autofree char *path = g_build_filename (dir, label, base, NULL);
  g_autoptr(XcImage) m = NULL;
  guint8 *mask;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return NULL;
  if ((m = xc_image_load (path, error)) == NULL)
    return NULL;
  mask = g_malloc ((size_t) h * w);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        int sy = MIN (m->h - 1, (int) ((y + 0.5) * m->h / h));
        int sx = MIN (m->w - 1, (int) ((x + 0.5) * m->w / w));
        mask[(size_t) y * w + x] = m->data[((size_t) sy * m->w + sx) * m->c] > 0;
      }
  return mask;
}

typedef struct {
  int    cls;
  guint  n, hits;
  double iou_sum;
} Summary;

static void
add_summary (JsonBuilder *b, const char *label, const Summary *s)
{
  json_builder_begin_object (b);
  if (label)
    {
      json_builder_set_member_name (b, "label");
      json_builder_add_string_value (b, label);
      json_builder_set_member_name (b, "class");
      json_builder_add_int_value (b, s->cls);
    }
  json_builder_set_member_name (b, "n");
  json_builder_add_int_value (b, s->n);
  json_builder_set_member_name (b, "pointing_game");
  json_builder_add_double_value (b, s->n ? (double) s->hits / s->n : 0.0);
  json_builder_set_member_name (b, "miou");
  json_builder_add_double_value (b, s->n ? s->iou_sum / s->n : 0.0);
  json_builder_end_object (b);
}

int
xs_cli_localize (int argc, char **argv)
{
  XsCliModelArgs ma = { 0 };
  g_autofree char *dataset = NULL, *boxes = NULL, *masks = NULL, *method_s = NULL;
  g_autofree char *layer_s = NULL, *shard_s = NULL, *out_dir = NULL;
  gboolean json = FALSE, from_env = FALSE;
  guint shard_i = 0, shard_n = 1, shard_todo = 0, shard_done = 0, shard_before = 0;
  g_autoptr(XsShard) shard = NULL;
  XsProgress progress = { "localize" };
  int status = 0;
  GOptionEntry entries[] = {
    { "dataset", 'd', 0, G_OPTION_ARG_STRING, &dataset,
      "imagefolder:DIR (or DIR): where the boxes file's image paths are", "imagefolder:DIR" },
    { "boxes", 0, 0, G_OPTION_ARG_FILENAME, &boxes,
      "image,x,y,width,height,label rows in original-image pixels", "BOXES.csv" },
    { "masks", 0, 0, G_OPTION_ARG_FILENAME, &masks,
      "DIR/LABEL/IMAGE masks (nonzero inside) used instead of boxes where present", "DIR" },
    { "method", 0, 0, G_OPTION_ARG_STRING, &method_s, "Explanation method (default gradcam)",
      "NAME" },
    { "layer", 0, 0, G_OPTION_ARG_STRING, &layer_s, "Layer to explain (default: the method's)",
      "NAME" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON: every image, per class, overall",
      NULL },
    { "shard", 0, 0, G_OPTION_ARG_STRING, &shard_s,
      "Only the images of shard I of N; needs --out-dir", "I/N" },
    { "shards-from-env", 0, 0, G_OPTION_ARG_NONE, &from_env,
      "The shard from SLURM_ARRAY_TASK_ID/_COUNT or JOB_COMPLETION_INDEX/XCEPTION_SHARDS", NULL },
    { "out-dir", 0, 0, G_OPTION_ARG_FILENAME, &out_dir,
      "Write one JSON Lines record per image and label there (resumable); `merge` joins them",
      "DIR" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("");
  g_autoptr(XcModel) model = NULL;
  g_autoptr(XcExplainer) ex = NULL;
  g_autoptr(GPtrArray) regions = NULL;
  g_autoptr(GArray) per_class = g_array_new (FALSE, TRUE, sizeof (Summary));
  g_autoptr(GPtrArray) class_labels = g_ptr_array_new ();
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree float *input = NULL;
  XcExplainOptions opts;
  Summary all = { -1, 0, 0, 0 };
  const char *dir;
  GError *error = NULL;
  const XcNode *in;

  g_option_context_set_summary (ctx, "Where the evidence lies against ground-truth boxes: "
                                "pointing game and IoU after Otsu's threshold (CheXlocalize).");
  g_option_context_add_main_entries (ctx, xs_cli_model_entries (&ma), NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!xs_cli_parse_args (ctx, &argc, &argv, &status))
    goto out;
  xc_explain_options_init (&opts);
  if (dataset == NULL || boxes == NULL || argc > 1)
    {
      g_printerr ("xception-cli localize: --dataset imagefolder:DIR and --boxes BOXES.csv are "
                  "required\n");
      status = EXIT_USAGE;
      goto out;
    }
  if (method_s && !xc_method_from_string (method_s, &opts.method))
    {
      g_printerr ("xception-cli localize: --method %s: unknown (see explain --help)\n", method_s);
      status = EXIT_USAGE;
      goto out;
    }
  dir = g_str_has_prefix (dataset, "imagefolder:") ? dataset + strlen ("imagefolder:") : dataset;
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_printerr ("xception-cli: %s: not a folder\n", dir);
      status = EXIT_USER;
      goto out;
    }
  if (!(regions = xc_boxes_read (boxes, &error)) || !(model = xs_cli_load_model (&ma, &error)) ||
      (layer_s && !xc_model_lookup (model, layer_s, &opts.layer, &error)) ||
      !(ex = xc_explainer_new (model, &error)))
    {
      status = xs_cli_fail (error);
      goto out;
    }
  if (!xc_model_is_classifier (model))
    {
      g_printerr ("xception-cli: %s: no classes to localise (a feature extractor)\n",
                  model->name);
      status = EXIT_USER;
      goto out;
    }
  in = xc_model_input (model);
  input = g_new (float, (size_t) in->h * in->w * in->c);
  if (!xs_shard_parse (shard_s, from_env, &shard_i, &shard_n, &error))
    {
      status = xs_cli_fail (error);
      goto out;
    }
  if ((shard_s || from_env) && out_dir == NULL)
    {
      g_printerr ("xception-cli localize: --shard and --shards-from-env need --out-dir\n");
      status = EXIT_USAGE;
      goto out;
    }
  if (out_dir)
    {
      /* a shard owns every label of its images; a record per (image, label) */
      g_autoptr(JsonNode) header = NULL;
      g_autoptr(GPtrArray) rids = g_ptr_array_new_with_free_func (g_free);
      g_autofree char *what = g_strdup_printf ("%s with %s, %s%s%s", dataset, boxes,
                                               xc_method_name (opts.method),
                                               layer_s ? " at " : "", layer_s ? layer_s : "");
      for (guint i = 0; i < regions->len; i++)
        {
          XcRegion *r = regions->pdata[i];
          if (xc_shard_of (r->image, shard_n) == shard_i)
            g_ptr_array_add (rids, g_strdup_printf ("%s|%s", r->image, r->label));
        }
      shard_todo = rids->len;
      header = xs_shard_header ("localize", model->name, what, shard_i, shard_n, rids);
      if (!(shard = xs_shard_open (out_dir, "localize", shard_i, shard_n, header, &error)))
        {
          status = xs_cli_fail (error);
          goto out;
        }
      shard_before = g_hash_table_size (shard->done);
    }

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, model->name);
  json_builder_set_member_name (b, "method");
  json_builder_add_string_value (b, xc_method_name (opts.method));
  json_builder_set_member_name (b, "images");
  json_builder_begin_array (b);
  if (!json && !out_dir)
    g_print ("%-32s %-16s %5s %6s\n", "image", "label", "hit", "IoU");
  for (guint i = 0; i < regions->len; i++)
    {
      XcRegion *r = regions->pdata[i];
      g_autofree char *path = g_path_is_absolute (r->image) ? g_strdup (r->image)
                                                             : g_build_filename (dir, r->image,
                                                                                 NULL);
      g_autoptr(XcImage) image = NULL;
      g_autoptr(XcExplanation) e = NULL;
      g_autofree float *map = NULL;
      g_autofree guint8 *truth = NULL;
      XcLocalization loc;
      Summary *s = NULL;
      g_autofree char *rid = g_strdup_printf ("%s|%s", r->image, r->label);
      int cls;

      if (shard && (xc_shard_of (r->image, shard_n) != shard_i || xs_shard_is_done (shard, rid)))
        continue;
      if (!label_class (model, r->label, &cls, &error) ||
          !(image = xs_cli_load_image (path, &error)) ||
          !xc_image_to_input (image, model, input, &error) ||
          !xc_explainer_forward (ex, input, FALSE, NULL, NULL, &error))
        {
          g_prefix_error (&error, "%s: row for '%s': ", boxes, r->image);
          status = xs_cli_fail (error);
          error = NULL;
          continue;  /* the other images still count */
        }
      opts.target_class = cls;
      if (!(e = xc_explainer_run (ex, &opts, NULL, NULL, &error)))
        {
          status = xs_cli_fail (error);
          error = NULL;
          continue;
        }
      map = xc_map_upsample_normalised (e->map, e->map_h, e->map_w, image->h, image->w);
      if (masks)
        truth = read_mask (masks, r->label, r->image, image->h, image->w, &error);
      if (error != NULL)
        {
          status = xs_cli_fail (error);
          error = NULL;
          continue;
        }
      if (truth == NULL)
        truth = xc_boxes_mask ((XcBox *) r->boxes->data, r->boxes->len, image->h, image->w);
      xc_localize_map (map, truth, image->h, image->w, &loc);
      if (shard)
        {
          g_autoptr(JsonBuilder) rb = json_builder_new ();
          g_autoptr(JsonNode) rec = NULL;
          g_autofree char *hash = NULL;
          gsize len;
          g_autofree char *bytes = NULL;
          if (g_file_get_contents (path, &bytes, &len, NULL))
            hash = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (guchar *) bytes, len);
          json_builder_begin_object (rb);
          json_builder_set_member_name (rb, "id");
          json_builder_add_string_value (rb, rid);
          json_builder_set_member_name (rb, "sha256");
          json_builder_add_string_value (rb, hash ? hash : "");
          json_builder_set_member_name (rb, "label");
          json_builder_add_string_value (rb, r->label);
          json_builder_set_member_name (rb, "class");
          json_builder_add_int_value (rb, cls);
          json_builder_set_member_name (rb, "hit");
          json_builder_add_boolean_value (rb, loc.hit);
          json_builder_set_member_name (rb, "iou");
          json_builder_add_double_value (rb, loc.iou);
          json_builder_end_object (rb);
          rec = json_builder_get_root (rb);
          if (!xs_shard_write (shard, rec, &error))
            {
              status = xs_cli_fail (error);
              goto out;
            }
          xs_progress_update (&progress, ++shard_done, shard_todo - shard_before);
          continue;
        }

      for (guint k = 0; k < per_class->len; k++)
        if (g_array_index (per_class, Summary, k).cls == cls)
          s = &g_array_index (per_class, Summary, k);
      if (s == NULL)
        {
          Summary z = { cls, 0, 0, 0 };
          g_array_append_val (per_class, z);
          g_ptr_array_add (class_labels, r->label);
          s = &g_array_index (per_class, Summary, per_class->len - 1);
        }
      s->n++, s->hits += loc.hit, s->iou_sum += loc.iou;
      all.n++, all.hits += loc.hit, all.iou_sum += loc.iou;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "image");
      json_builder_add_string_value (b, r->image);
      json_builder_set_member_name (b, "label");
      json_builder_add_string_value (b, r->label);
      json_builder_set_member_name (b, "class");
      json_builder_add_int_value (b, cls);
      json_builder_set_member_name (b, "probability");
      json_builder_add_double_value (b, xc_explainer_probabilities (ex)[cls]);
      json_builder_set_member_name (b, "hit");
      json_builder_add_boolean_value (b, loc.hit);
      json_builder_set_member_name (b, "iou");
      json_builder_add_double_value (b, loc.iou);
      json_builder_set_member_name (b, "otsu_threshold");
      json_builder_add_int_value (b, loc.threshold);
      json_builder_set_member_name (b, "argmax");
      json_builder_begin_array (b);
      json_builder_add_int_value (b, loc.argmax_x);
      json_builder_add_int_value (b, loc.argmax_y);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "map_size");
      json_builder_begin_array (b);
      json_builder_add_int_value (b, e->map_w);
      json_builder_add_int_value (b, e->map_h);
      json_builder_end_array (b);
      json_builder_end_object (b);
      if (!json)
        g_print ("%-32s %-16s %5s %6.3f\n", r->image, r->label, loc.hit ? "hit" : "miss",
                 loc.iou);
    }
  json_builder_end_array (b);
  if (shard)
    {
      if (status == 0 && !xs_shard_finish (shard, &error))
        status = xs_cli_fail (error);
      else if (status == 0)
        g_print ("localize shard %u/%u: %u regions, %u done now, %u by an earlier run: %s\n",
                 shard_i, shard_n, shard_todo, shard_done, shard_before, shard->path);
      goto out;
    }
  json_builder_set_member_name (b, "classes");
  json_builder_begin_array (b);
  for (guint k = 0; k < per_class->len; k++)
    add_summary (b, class_labels->pdata[k], &g_array_index (per_class, Summary, k));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "overall");
  add_summary (b, NULL, &all);
  json_builder_end_object (b);

  if (json)
    {
      g_autofree char *s = xs_cli_print_json (b);
      g_print ("%s\n", s);
    }
  else
    {
      g_print ("\n%-24s %6s %14s %6s\n", "class", "images", "pointing game", "mIoU");
      for (guint k = 0; k < per_class->len; k++)
        {
          const Summary *s = &g_array_index (per_class, Summary, k);
          g_print ("%-24s %6u %13.1f%% %6.3f\n", (char *) class_labels->pdata[k], s->n,
                   100.0 * s->hits / s->n, s->iou_sum / s->n);
        }
      g_print ("%-24s %6u %13.1f%% %6.3f\n", "overall", all.n,
               all.n ? 100.0 * all.hits / all.n : 0.0, all.n ? all.iou_sum / all.n : 0.0);
      g_print ("(%s; IoU after Otsu's threshold, as CheXlocalize)\n",
               xc_method_name (opts.method));
    }
out:
  xs_cli_model_args_clear (&ma);
  return status;
}
