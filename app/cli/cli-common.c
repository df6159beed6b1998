/* SPDX-License-Identifier: MIT
 *
 * What every xception-cli command shares: the model arguments and loading,
 * input from an image or a .npy tensor, error and usage reporting, JSON printing.
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

void
xs_cli_model_args_clear (XsCliModelArgs *a)
{
  g_free (a->model);
  g_free (a->weights);
  g_free (a->labels);
  g_free (a->preprocess);
  g_free (a->window);
  g_free (a->max_memory);
}

XcImageOptions xs_cli_image_options;

/* An image read with the command's --frame, --window, --keep-patient-data */
XcImage *
xs_cli_load_image (const char *path, GError **error)
{
  return xc_image_load_with (path, &xs_cli_image_options, error);
}

/* Out-of-domain and random-weights notices, on stderr (stdout stays JSON) */
void
xs_cli_print_notices (const char *path, const XcImage *image, const XcModel *model)
{
  g_autoptr(GPtrArray) notes = image ? xc_image_notices (image, model) : xc_model_notices (model);

  for (guint i = 0; i < notes->len; i++)
    g_printerr ("xception-cli: %s%snote: %s\n", path ? path : "", path ? ": " : "",
                (char *) notes->pdata[i]);
}

GOptionEntry *
xs_cli_model_entries (XsCliModelArgs *a)
{
  static GOptionEntry e[10];
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
    { "allow-svg", 0, 0, G_OPTION_ARG_NONE, &a->allow_svg,
      "Read SVG images (refused by default: they can expand without bound)", NULL },
    { "window", 0, 0, G_OPTION_ARG_STRING, &a->window,
      "VOI window for DICOM and 16-bit images, in their units (e.g. -600,1500 for lung CT); "
      "default: the file's first window, else min-max (DICOM) or the full range", "C,W" },
    { "frame", 0, 0, G_OPTION_ARG_INT, &a->frame,
      "Frame of a multi-frame DICOM file (default 0)", "N" },
    { "keep-patient-data", 0, 0, G_OPTION_ARG_NONE, &a->keep_patient_data,
      "Keep the patient's name, id and dates in JSON and reports (left out by default)", NULL },
    { "max-memory", 0, 0, G_OPTION_ARG_STRING, &a->max_memory,
      "Refuse work estimated to need more (default: half of physical memory), e.g. 4G", "SIZE" },
    { NULL }
  };
  memcpy (e, entries, sizeof e);
  return e;
}

XcModel *
xs_cli_load_model (XsCliModelArgs *a, GError **error)
{
  if (a->allow_svg)
    g_setenv ("XCEPTION_ALLOW_SVG", "1", TRUE);
  memset (&xs_cli_image_options, 0, sizeof xs_cli_image_options);
  if (a->max_memory)
    {
      guint64 bytes;
      if (!xc_memory_parse_size (a->max_memory, &bytes, error))
        return NULL;
      xc_memory_set_limit (bytes);
    }
  if (a->window && !xc_parse_window (a->window, &xs_cli_image_options.center,
                                     &xs_cli_image_options.width, error))
    return NULL;
  if (a->frame < 0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "--frame %d: frames count from 0",
                   a->frame);
      return NULL;
    }
  xs_cli_image_options.has_window = a->window != NULL;
  xs_cli_image_options.frame = a->frame;
  xs_cli_image_options.keep_patient_data = a->keep_patient_data;
  g_autoptr(XcModel) model = xc_model_load_spec (a->model ? a->model : xc_model_default_spec (),
                                                 error);

  if (model == NULL)
    return NULL;
  if (a->weights && !xc_keras_load_weights (model, a->weights, error))
    return NULL;
  if (a->weights && !xc_model_check_weights (model, error))
    {
      g_prefix_error (error, "%s: ", a->weights);
      return NULL;
    }
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
char *xs_cli_command_line;

int
xs_cli_fail (GError *error)
{
  g_printerr ("xception-cli: %s\n", error->message);
  g_error_free (error);
  return EXIT_USER;
}

gboolean
xs_cli_parse_args (GOptionContext *ctx, int *argc, char ***argv, int *status)
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
gboolean
xs_cli_fill_input (XcPlan *plan, const XcModel *model, const char *image_path, const char *npy,
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
      g_autoptr(XcImage) image = xs_cli_load_image (image_path, error);
      return image && xc_image_to_input (image, model, in.data, error);
    }
}

/* Pretty-printed JSON text of a tree */
char *
xs_cli_print_node (JsonNode *root)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();

  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  return json_generator_to_data (gen, NULL);
}

char *
xs_cli_print_json (JsonBuilder *b)
{
  g_autoptr(JsonNode) root = json_builder_get_root (b);

  return xs_cli_print_node (root);
}

void
xs_cli_add_int (JsonBuilder *b, const char *name, gint64 v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, v);
}

void
xs_cli_report_skipped (const XcDataset *ds)
{
  for (guint i = 0; i < ds->skipped->len; i++)
    g_printerr ("xception-cli: skipped %s\n", (char *) ds->skipped->pdata[i]);
}
