/* SPDX-License-Identifier: MIT
 *
 * Resolving a model spec to a loaded XcModel, with its labels sidecar.
 */
#define G_LOG_DOMAIN "xc-spec"

#include <string.h>
#include <gio/gio.h>

#include "xc-error.h"
#include "xc-spec.h"
#include "xc-xception.h"
#include "io/xc-keras.h"

static gboolean
parse_int (const char *key, const char *v, int lo, int hi, int *out, GError **error)
{
  char *end;
  gint64 n = g_ascii_strtoll (v, &end, 10);

  if (end == v || *end != '\0' || n < lo || n > hi)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT,
                   "builtin:xception: %s=%s is not a whole number from %d to %d", key, v, lo, hi);
      return FALSE;
    }
  *out = (int) n;
  return TRUE;
}

static XcModel *
load_builtin (const char *spec, const char *opts_str, GError **error)
{
  XcXceptionOptions opts;
  g_auto(GStrv) opts_v = NULL;
  int seed = XC_XCEPTION_DEFAULT_SEED & 0x7fffffff, top = 1;
  XcModel *model;

  xc_xception_options_init (&opts);
  opts_v = g_strsplit (opts_str ? opts_str : "", ",", -1);
  for (guint i = 0; opts_v[i]; i++)
    {
      char *eq = strchr (opts_v[i], '=');
      const char *k = opts_v[i], *v;
      if (opts_v[i][0] == '\0')
        continue;
      if (eq == NULL)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT,
                       "builtin:xception: option '%s' is not KEY=VALUE", opts_v[i]);
          return NULL;
        }
      *eq = '\0';
      v = eq + 1;
      if (g_str_equal (k, "size"))
        {
          if (!parse_int (k, v, 71, 2048, &opts.size, error))
            return NULL;
        }
      else if (g_str_equal (k, "channels"))
        {
          if (!parse_int (k, v, 1, 4, &opts.channels, error))
            return NULL;
        }
      else if (g_str_equal (k, "classes"))
        {
          if (!parse_int (k, v, 1, 100000, &opts.classes, error))
            return NULL;
        }
      else if (g_str_equal (k, "top"))
        {
          if (!parse_int (k, v, 0, 1, &top, error))
            return NULL;
          opts.include_top = top;
        }
      else if (g_str_equal (k, "seed"))
        {
          if (!parse_int (k, v, 0, G_MAXINT, &seed, error))
            return NULL;
        }
      else if (g_str_equal (k, "width"))
        {
          char *end;
          const char *slash = strchr (v, '/');
          double w = g_ascii_strtod (v, &end);
          if (slash && end == slash)
            w /= g_ascii_strtod (slash + 1, &end);
          if (end == v || *end != '\0' || !(w >= 1.0 / 64 && w <= 4.0))
            {
              g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT,
                           "builtin:xception: width=%s is not a number from 1/64 to 4", v);
              return NULL;
            }
          opts.width = w;
        }
      else if (g_str_equal (k, "variant"))
        {
          if (g_str_equal (v, "standard"))
            opts.standard = TRUE;
          else if (g_str_equal (v, "separable"))
            opts.standard = FALSE;
          else
            {
              g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT,
                           "builtin:xception: variant=%s (separable or standard)", v);
              return NULL;
            }
        }
      else
        {
          g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT,
                       "builtin:xception: unknown option '%s' (size, channels, classes, width, "
                       "variant, top, seed)", k);
          return NULL;
        }
    }
  model = xc_xception_new (&opts, spec, error);
  if (model)
    xc_model_init_seeded (model, (guint64) seed);
  return model;
}

/* MODEL.labels beside the file, else a .labels file there whose name is one
 * of the model file name's '_'-separated words (fer2013.labels for
 * fer2013_mini_XCEPTION.102-0.66.hdf5) with the right number of lines. */
gboolean
xc_model_find_labels (XcModel *model, const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  char *dot = strrchr (base, '.');
  g_autofree char *exact = NULL;
  g_autoptr(GDir) d = NULL;
  const char *entry;

  if (dot)
    *dot = '\0';
  exact = g_strdup_printf ("%s/%s.labels", dir, base);
  if (g_file_test (exact, G_FILE_TEST_IS_REGULAR) && xc_model_set_labels_file (model, exact, NULL))
    return TRUE;
  d = g_dir_open (dir, 0, NULL);
  while (d && (entry = g_dir_read_name (d)))
    {
      g_autofree char *stem = NULL;
      g_auto(GStrv) words = NULL;
      if (!g_str_has_suffix (entry, ".labels"))
        continue;
      stem = g_strndup (entry, strlen (entry) - strlen (".labels"));
      words = g_strsplit (base, "_", -1);
      for (guint i = 0; words[i]; i++)
        if (g_str_equal (words[i], stem))
          {
            g_autofree char *full = g_build_filename (dir, entry, NULL);
            if (xc_model_set_labels_file (model, full, NULL))
              return TRUE;
          }
    }
  return FALSE;
}

/**
 * xc_model_default_spec:
 *
 * Returns: the model to open when the user names none: the embedded
 *   Xception trained on Fashion-MNIST when this program carries it, else the
 *   built-in (untrained) Xception
 */
const char *
xc_model_default_spec (void)
{
  if (g_resources_get_info (XC_RESOURCE_PREFIX "models/xception-tiny-fmnist.h5",
                            G_RESOURCE_LOOKUP_FLAGS_NONE, NULL, NULL, NULL))
    return "embedded:xception-tiny-fmnist";
  return "builtin:xception";
}

/* A weights-only file of the Keras Xception (the official ImageNet weights,
 * with or without the top, or one saved the same way): the built-in
 * topology of its width, channels and classes at Keras' default 299x299,
 * then its weights. Without the top the model ends with avg_pool. */
static XcModel *
load_xception_weights (const char *path, const XcKerasWeightsInfo *info, GError **error)
{
  g_autoptr(XcModel) model = NULL;
  XcXceptionOptions opts;

  xc_xception_options_init (&opts);
  opts.channels = info->channels;
  opts.include_top = info->include_top;
  opts.pool = !info->include_top;
  opts.classes = info->include_top ? info->classes : 1;
  opts.width = info->first_filters / 32.0;
  model = xc_xception_new (&opts, path, error);
  if (model == NULL || !xc_keras_load_weights (model, path, error))
    {
      g_prefix_error (error, "%s: a weights-only Keras Xception file (%s, %d channels, width "
                      "%d/32): ", path, info->include_top ? "with its top" : "without top",
                      info->channels, info->first_filters);
      return NULL;
    }
  if (info->include_top && info->classes == 1000)
    xc_model_set_imagenet_labels (model, NULL);
  else if (info->include_top)
    xc_model_find_labels (model, path);
  return g_steal_pointer (&model);
}

/**
 * xc_imagenet_weights_path:
 *
 * Returns: (transfer full): where `xception-cli download imagenet` puts the
 *   official weights file: $XDG_DATA_HOME/xception-studio/<Keras' name>
 */
char *
xc_imagenet_weights_path (gboolean notop)
{
  return g_build_filename (g_get_user_data_dir (), "xception-studio",
                           notop ? "xception_weights_tf_dim_ordering_tf_kernels_notop.h5"
                                 : "xception_weights_tf_dim_ordering_tf_kernels.h5", NULL);
}

/**
 * xc_model_set_imagenet_labels:
 *
 * Gives a 1000-class model the ImageNet class names (Keras' class index,
 * embedded, made readable).
 */
gboolean
xc_model_set_imagenet_labels (XcModel *model, GError **error)
{
  g_autoptr(GBytes) bytes = g_resources_lookup_data (XC_RESOURCE_PREFIX
                                                     "data/imagenet_class_index.json",
                                                     G_RESOURCE_LOOKUP_FLAGS_NONE, error);
  gsize len;
  const char *text;

  if (bytes == NULL)
    return FALSE;
  text = g_bytes_get_data (bytes, &len);
  return xc_model_set_labels_data (model, text, len, TRUE, "ImageNet labels", error);
}

/**
 * xc_model_load_spec:
 * @spec: a file path or builtin:xception[:options]
 *
 * Returns: (transfer full): the loaded model, or %NULL with @error
 */
static XcModel *load_spec (const char *spec, GError **error);

XcModel *
xc_model_load_spec (const char *spec, GError **error)
{
  XcModel *model = load_spec (spec, error);

  /* a file's NaN or Inf weights would give numbers that look like predictions */
  if (model != NULL && !g_str_has_prefix (spec, "builtin:") &&
      !xc_model_check_weights (model, error))
    {
      g_prefix_error (error, "%s: ", spec);
      xc_model_free (model);
      return NULL;
    }
  return model;
}

static XcModel *
load_spec (const char *spec, GError **error)
{
  XcModel *model;
  XcKerasWeightsInfo info;

  g_return_val_if_fail (spec != NULL, NULL);

  if (g_str_has_prefix (spec, "builtin:"))
    {
      const char *rest = spec + strlen ("builtin:");
      const char *colon = strchr (rest, ':');
      g_autofree char *arch = colon ? g_strndup (rest, colon - rest) : g_strdup (rest);
      if (!g_str_equal (arch, "xception"))
        {
          g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT,
                       "%s: unknown built-in model '%s' (builtin:xception)", spec, arch);
          return NULL;
        }
      return load_builtin (spec, colon ? colon + 1 : NULL, error);
    }
  if (g_str_equal (spec, "imagenet:xception") || g_str_equal (spec, "imagenet:xception-notop"))
    {
      gboolean notop = g_str_has_suffix (spec, "-notop");
      g_autofree char *weights = xc_imagenet_weights_path (notop);
      g_autofree char *dir = g_path_get_dirname (weights);
      if (!g_file_test (weights, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (error, XC_ERROR, XC_ERROR_IO,
                       "%s: the official ImageNet weights are not installed: run "
                       "'xception-cli download imagenet%s' (or put %s in %s)",
                       spec, notop ? " --notop" : "",
                       notop ? "xception_weights_tf_dim_ordering_tf_kernels_notop.h5"
                             : "xception_weights_tf_dim_ordering_tf_kernels.h5", dir);
          return NULL;
        }
      model = xc_model_load_spec (weights, error);
      if (model != NULL)
        {
          g_free (model->name);
          model->name = g_strdup (spec);
        }
      return model;
    }
  if (g_str_has_prefix (spec, "embedded:"))
    {
      const char *name = spec + strlen ("embedded:");
      g_autofree char *path = g_strdup_printf (XC_RESOURCE_PREFIX "models/%s.h5", name);
      g_autoptr(GBytes) bytes = g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
      gsize size;
      gconstpointer data;
      if (bytes == NULL)
        {
          g_auto(GStrv) names = g_resources_enumerate_children (XC_RESOURCE_PREFIX "models/",
                                                                G_RESOURCE_LOOKUP_FLAGS_NONE,
                                                                NULL);
          g_autoptr(GString) list = g_string_new (NULL);
          for (guint i = 0; names && names[i]; i++)
            if (g_str_has_suffix (names[i], ".h5"))
              g_string_append_printf (list, "%sembedded:%.*s", list->len ? ", " : "",
                                      (int) (strlen (names[i]) - 3), names[i]);
          g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "%s: no embedded model of that name "
                       "(%s%s)", spec, list->len ? "available: " : "none in this build",
                       list->str);
          return NULL;
        }
      data = g_bytes_get_data (bytes, &size);
      return xc_keras_load_memory (data, size, spec, error);
    }
  if (g_str_has_suffix (spec, ".keras"))
    {
      model = xc_keras3_load (spec, error);
      if (model)
        xc_model_find_labels (model, spec);
      return model;
    }
  if (!xc_keras_probe_xception_weights (spec, &info, error))
    return NULL;
  if (info.xception)
    return load_xception_weights (spec, &info, error);
  model = xc_keras_load (spec, error);
  if (model)
    xc_model_find_labels (model, spec);
  return model;
}
