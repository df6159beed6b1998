/* SPDX-License-Identifier: MIT
 *
 * The string tables of the engine's enumerations (xc-enums.h): one name per
 * value, in enum order, and for methods the title the window shows.
 */
#define G_LOG_DOMAIN "xc-enums"

#include "xc-enums.h"

static const char *const act_names[] = {
  "linear", "relu", "relu6", "sigmoid", "tanh", "softmax", "swish", NULL
};
static const char *const pre_names[] = { "tf", "caffe", "torch", "unit", NULL };
static const char *const method_names[XC_N_METHODS + 1] = {
  "gradcam", "gradcam++", "xgradcam", "hirescam", "layercam", "scorecam", "ablationcam",
  "eigencam", "saliency", "smoothgrad", "integrated-gradients", "guided-backprop",
  "guided-gradcam", "occlusion", NULL
};
static const char *const method_titles[XC_N_METHODS + 1] = {
  "Grad-CAM", "Grad-CAM++", "XGrad-CAM", "HiRes-CAM", "LayerCAM", "Score-CAM", "Ablation-CAM",
  "Eigen-CAM", "Saliency", "SmoothGrad", "Integrated Gradients", "Guided Backprop",
  "Guided Grad-CAM", "Occlusion", NULL
};
static const char *const score_names[] = { "logit", "probability", "log-probability", NULL };
static const char *const baseline_names[] = { "zero", "black", "blurred", NULL };
static const char *const cmap_names[XC_N_COLORMAPS + 1] = {
  "jet", "turbo", "viridis", "inferno", "gray", NULL
};

static const char *
name_of (const char *const *names, guint value)
{
  for (guint i = 0; names[i]; i++)
    if (i == value)
      return names[i];
  g_return_val_if_reached ("?");
}

static gboolean
value_of (const char *const *names, const char *s, guint *value)
{
  for (guint i = 0; names[i]; i++)
    if (g_strcmp0 (s, names[i]) == 0)
      {
        *value = i;
        return TRUE;
      }
  return FALSE;
}

/* xc_<prefix>_name () and xc_<prefix>_from_string () over one table */
#define ENUM_STRINGS(Type, prefix, names)                                \
  const char *                                                            \
  xc_##prefix##_name (Type value)                                         \
  {                                                                       \
    return name_of (names, value);                                        \
  }                                                                       \
                                                                          \
  static gboolean                                                         \
  prefix##_lookup (const char *s, Type *value)                            \
  {                                                                       \
    guint v;                                                              \
                                                                          \
    if (!value_of (names, s, &v))                                         \
      return FALSE;                                                       \
    *value = (Type) v;                                                    \
    return TRUE;                                                          \
  }

ENUM_STRINGS (XcAct, act, act_names)
ENUM_STRINGS (XcPreprocess, preprocess, pre_names)
ENUM_STRINGS (XcMethod, method, method_names)
ENUM_STRINGS (XcScore, score, score_names)
ENUM_STRINGS (XcBaseline, baseline, baseline_names)
ENUM_STRINGS (XcColormap, colormap, cmap_names)

gboolean
xc_act_from_string (const char *s, XcAct *act)
{
  return act_lookup (g_strcmp0 (s, "silu") == 0 ? "swish" : s, act);
}

gboolean
xc_preprocess_from_string (const char *s, XcPreprocess *p)
{
  return preprocess_lookup (s, p);
}

gboolean
xc_method_from_string (const char *s, XcMethod *method)
{
  return method_lookup (s, method);
}

const char *
xc_method_title (XcMethod method)
{
  return name_of (method_titles, method);
}

const char *const *
xc_method_titles (void)
{
  return method_titles;
}

gboolean
xc_score_from_string (const char *s, XcScore *score)
{
  return score_lookup (s, score);
}

gboolean
xc_baseline_from_string (const char *s, XcBaseline *baseline)
{
  return baseline_lookup (s, baseline);
}

gboolean
xc_colormap_from_string (const char *s, XcColormap *cmap)
{
  return colormap_lookup (g_strcmp0 (s, "grey") == 0 ? "gray" : s, cmap);
}

const char *const *
xc_colormap_names (void)
{
  return cmap_names;
}
